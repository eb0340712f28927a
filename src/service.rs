//! The running service: builds source, detector, counter and publisher from a [`Config`], runs
//! the pipeline on its own thread and publishes its reports from the tokio runtime.
//!
//! Start-up order is chosen so that bad input fails before anything is published: model, then
//! video, then broker (waiting for its CONNACK), and only then `online`. On every exit path the
//! last partial interval is flushed and `offline` is published. Never opens a listening socket.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use crate::config::{Accelerator, Config, RuntimeKind, SourceKind};
use crate::count::occupancy::Cadence;
use crate::count::{CountReport, SceneCounter};
use crate::detect::{
    self, edgetpu, DetectError, Detector, LiteRtDetector, TfliteDetector, TfliteOptions,
};
use crate::health::HealthMonitor;
use crate::notify::Notifier;
use crate::pipeline::{self, PipelineError, PipelineStats};
use crate::privacy::mask::PixelMask;
use crate::privacy::safeguards::Safeguards;
use crate::privacy::sandbox::SandboxStatus;
use crate::privacy::PrivacyError;
use crate::publish::{
    discovery, MqttPublisher, MqttSettings, PrivacyStatement, PublishError, Publisher,
};
use crate::shutdown::Shutdown;
use crate::source::camera::{self, PixelFormat};
use crate::source::ffmpeg::{FfmpegOptions, FfmpegSource};
use crate::source::reopen::Reopening;
use crate::source::{FrameSource, LatestFrame, SourceError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no video to read: set source.url in the config (or pass VIDEO to replay)")]
    NoSource,
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Privacy(#[from] PrivacyError),
    #[error(transparent)]
    Config(crate::config::ConfigError),
    #[error(transparent)]
    Tls(#[from] crate::publish::tls::TlsError),
    #[error("cannot start the pipeline thread: {0}")]
    Thread(std::io::Error),
    #[error("the pipeline thread stopped unexpectedly")]
    PipelineLost,
    #[error(
        "video {url} ended after {frames} frames (end of stream); counts up to then were published"
    )]
    SourceEnded { url: String, frames: u64 },
}

/// How the service presents its output.
#[derive(Debug, Clone, Copy)]
pub struct ServiceOptions {
    /// Print one JSON line per published message on stdout (replay).
    pub print_json: bool,
    /// The end of the input is a failure (the daemon: a camera stream should not end), not the
    /// normal end of a replay.
    pub end_is_error: bool,
}

/// Builds the detector the config asks for.
pub fn open_detector(config: &Config) -> Result<Box<dyn Detector>, DetectError> {
    let d = &config.detector;
    let model = if d.model.is_empty() {
        detect::bundled_model()
    } else {
        PathBuf::from(&d.model)
    };
    let options = TfliteOptions {
        model,
        runtime_library: d.runtime_library.clone(),
        threads: d.threads,
        threshold: d.threshold,
        nms_iou: d.nms_iou,
        nms_containment: d.nms_containment,
        person_class: d.person_class,
        litert_library: d.litert_library.clone(),
    };
    // The Edge TPU needs TF 2.9 (libedgetpu's ABI); `auto` with LiteRT means the CPU.
    let want_tpu = !matches!(
        (d.accelerator, d.runtime),
        (Accelerator::Cpu, _) | (Accelerator::Auto, RuntimeKind::Litert)
    );
    if want_tpu {
        match open_edgetpu(config, &options) {
            Ok(detector) => return Ok(detector),
            Err(e) if d.accelerator == Accelerator::EdgeTpu => return Err(e),
            Err(DetectError::EdgeTpu(why)) => {
                tracing::info!(reason = %why, "Edge TPU not used; running on the CPU")
            }
            Err(e) => tracing::info!(reason = %e, "Edge TPU not used; running on the CPU"),
        }
    }
    Ok(match d.runtime {
        RuntimeKind::Tflite => Box::new(TfliteDetector::open(options)?),
        RuntimeKind::Litert => Box::new(LiteRtDetector::open(options)?),
    })
}

/// The Edge TPU path: the model's `_edgetpu` twin with libedgetpu's delegate on TF 2.9.
fn open_edgetpu(config: &Config, cpu: &TfliteOptions) -> Result<Box<dyn Detector>, DetectError> {
    let d = &config.detector;
    let model = if d.edgetpu_model.is_empty() {
        edgetpu::twin_of(&cpu.model)
    } else {
        PathBuf::from(&d.edgetpu_model)
    };
    if !model.is_file() {
        return Err(edgetpu::EdgeTpuError::NoModel { twin: model }.into());
    }
    let library = edgetpu::library(&d.edgetpu_library);
    let delegate = edgetpu::delegate(library, &d.edgetpu_device)?;
    let options = TfliteOptions {
        model,
        ..cpu.clone()
    };
    Ok(Box::new(TfliteDetector::open_with_delegate(
        options,
        Some(delegate),
    )?))
}

/// Opens the configured video for `detector`'s input geometry.
pub fn open_source(config: &Config, detector: &dyn Detector) -> Result<FfmpegSource, ServiceError> {
    let s = &config.source;
    if s.url.is_empty() {
        return Err(ServiceError::NoSource);
    }
    let options = FfmpegOptions {
        ffmpeg: s.ffmpeg.clone(),
        fps: s.fps,
        realtime: s.realtime,
        camera: None,
        exact_chroma: false,
    };
    Ok(FfmpegSource::open(
        &s.url,
        detector.input_geometry(),
        &options,
    )?)
}

/// The TLS client configuration for an `mqtts://` broker; `None` for plain MQTT.
fn tls_config(
    config: &Config,
    broker: &crate::config::BrokerAddr,
) -> Result<Option<std::sync::Arc<rustls::ClientConfig>>, ServiceError> {
    if !broker.tls {
        return Ok(None);
    }
    let m = &config.mqtt;
    let client = (!m.client_cert_file.is_empty())
        .then_some((m.client_cert_file.as_str(), m.client_key_file.as_str()));
    Ok(Some(crate::publish::tls::client_config(
        &m.ca_file, client,
    )?))
}

/// Opens the configured V4L2 camera in a negotiated mode, reopened with backoff when lost.
pub fn open_camera(
    config: &Config,
    detector: &dyn Detector,
    health: &HealthMonitor,
    stop: &Shutdown,
) -> Result<Box<dyn FrameSource>, ServiceError> {
    let s = &config.source;
    let device = PathBuf::from(&s.device);
    let not_camera = |cause: String| {
        ServiceError::Source(SourceError::Unreadable {
            url: s.device.clone(),
            cause,
        })
    };
    if !device.exists() {
        return Err(ServiceError::Source(SourceError::NotFound { path: device }));
    }
    let camera = crate::devices::probe(&device)
        .ok_or_else(|| not_camera("not a V4L2 capture device (see `headcount devices`)".into()))?;
    let wanted = PixelFormat::from_name(&s.input_format).flatten();
    let mode =
        camera::negotiate(&camera.formats, wanted, (s.width, s.height)).map_err(not_camera)?;
    tracing::info!(
        camera = %camera.name,
        format = mode.format.fourcc(),
        width = mode.width,
        height = mode.height,
        "camera mode"
    );
    let options = FfmpegOptions {
        ffmpeg: s.ffmpeg.clone(),
        fps: s.fps,
        realtime: false,
        camera: Some(mode.input(s.fps)),
        exact_chroma: true,
    };
    let geometry = detector.input_geometry();
    let url = s.device.clone();
    let open = move || FfmpegSource::open(&url, geometry, &options);
    let source = Reopening::new(open, health.clone(), stop.clone())?;
    Ok(Box::new(LatestFrame::spawn(source, geometry)?))
}

/// Runs the whole service until the source ends or a signal arrives. `sandbox` is what
/// [`crate::privacy::sandbox::enforce`] achieved before the service started.
pub async fn run(
    config: Config,
    options: ServiceOptions,
    sandbox: SandboxStatus,
) -> Result<PipelineStats, ServiceError> {
    let epoch = SystemTime::now();
    let state_dir = (!config.state.dir.is_empty()).then(|| Path::new(&config.state.dir));
    let safeguards = Safeguards::new(&config.privacy, state_dir)?;
    let detector = open_detector(&config)?;
    // What the `health` topic says runs inference.
    let runtime = (detector.info().backend, detector.info().accelerator);
    let mask = PixelMask::new(&config.privacy.masks, detector.input_geometry());
    let health = HealthMonitor::new();
    let shutdown = Shutdown::new();
    let source: Box<dyn FrameSource> = if config.source.kind == SourceKind::Camera {
        open_camera(&config, detector.as_ref(), &health, &shutdown)?
    } else {
        let source = open_source(&config, detector.as_ref())?;
        // Live input (a stream, or a file paced in real time): the newest frame wins when
        // inference is slower. A file read as fast as possible keeps every frame.
        let live = config.source.realtime || config.source.url.contains("://");
        if live {
            Box::new(LatestFrame::spawn(source, detector.input_geometry())?)
        } else {
            Box::new(source)
        }
    };
    let mqtt = match config.broker().ok().flatten() {
        Some(broker) => Some(
            MqttPublisher::connect(MqttSettings {
                tls: tls_config(&config, &broker)?,
                broker,
                credentials: config.mqtt_credentials().map_err(ServiceError::Config)?,
                ha_status_topic: config
                    .mqtt
                    .discovery
                    .then(|| discovery::status_topic(&config)),
                client_id: config.client_id(),
                topic_root: config.topic_root(),
                keep_alive: Duration::from_secs(config.mqtt.keep_alive_s.into()),
                connect_timeout: Duration::from_secs(config.mqtt.connect_timeout_s.into()),
            })
            .await?,
        ),
        None => None,
    };
    let statement = PrivacyStatement {
        config: config.privacy.clone(),
        masks: u32::try_from(mask.count()).unwrap_or(u32::MAX),
        sandbox: sandbox.describe(),
    };
    let ha_online = mqtt.as_ref().map(MqttPublisher::ha_online);
    let discovery_configs = if config.mqtt.discovery && mqtt.is_some() {
        discovery::configs(&config)
    } else {
        Vec::new()
    };
    let mut publisher = Publisher::new(
        config.topic_root(),
        options.print_json,
        mqtt,
        epoch,
        safeguards,
        statement,
        discovery_configs,
    )
    .with_counters(
        config
            .counting
            .zones
            .iter()
            .map(|z| z.name.clone())
            .collect(),
        config
            .counting
            .lines
            .iter()
            .map(|l| l.name.clone())
            .collect(),
    )
    .with_outbox(
        crate::publish::outbox::Outbox::open(
            state_dir,
            config.mqtt.queue_max as usize,
            Duration::from_secs(u64::from(config.mqtt.queue_max_age_h) * 3600),
        )
        .map_err(PublishError::from)?,
    );
    publisher.announce().await?;
    // A backlog from an earlier run goes out first, oldest first.
    publisher.tick().await?;

    tokio::spawn(shutdown.clone().on_signals());
    let cadence = match config.privacy.time_resolution_s {
        0 => Cadence::OnChange {
            interval: Duration::from_secs(config.mqtt.interval_s.into()),
        },
        s => Cadence::bins_aligned(Duration::from_secs(s.into()), epoch),
    };
    let counter = SceneCounter::new(config.counting.scene(cadence), epoch);
    let (tx, mut rx) = mpsc::channel::<CountReport>(64);
    let stages = Stages {
        source,
        mask,
        detector,
        counter,
    };
    publisher.health(&health.snapshot(), runtime, 0).await?;
    let worker = spawn_pipeline(stages, health.clone(), shutdown.clone(), tx)?;

    let mut heartbeat = tokio::time::interval(Duration::from_secs(config.mqtt.interval_s.into()));
    heartbeat.tick().await; // the first tick is immediate; the start was just announced
    let mut notifier = Notifier::from_env();
    notifier.ready();
    let mut watchdog = tokio::time::interval(watchdog_period());
    let mut upkeep = tokio::time::interval(Duration::from_secs(1));
    let mut publish_result = Ok(());
    loop {
        let step = tokio::select! {
            report = rx.recv() => match report {
                Some(report) => publisher.report(&report).await,
                None => break,
            },
            _ = ha_came_online(ha_online.as_deref()) => publisher.announce_discovery().await,
            _ = upkeep.tick() => publisher.tick().await,
            _ = watchdog.tick() => {
                notifier.progress(health.frames());
                Ok(())
            }
            _ = heartbeat.tick() => {
                let queue = (rx.max_capacity() - rx.capacity()) as u64;
                publisher.health(&health.snapshot(), runtime, queue).await
            }
        };
        if let Err(e) = step {
            // Stop counting: what cannot be published must not be silently dropped.
            shutdown.trigger();
            publish_result = Err(e);
            break;
        }
    }
    drop(rx);
    notifier.stopping();
    let (stats, pipeline_result) = tokio::task::spawn_blocking(move || worker.join())
        .await
        .map_err(|_| ServiceError::PipelineLost)?
        .map_err(|_| ServiceError::PipelineLost)?;
    tracing::info!(
        frames = stats.frames,
        fps = format_args!("{:.1}", stats.fps()),
        "pipeline stopped"
    );
    if publish_result.is_ok() {
        publish_result = publisher.health(&health.snapshot(), runtime, 0).await;
    }
    let close_result = publisher.close(Duration::from_secs(5)).await;
    pipeline_result?;
    if options.end_is_error && !shutdown.is_triggered() && publish_result.is_ok() {
        return Err(ServiceError::SourceEnded {
            url: crate::source::ffmpeg::redact_url(&config.source.url),
            frames: stats.frames,
        });
    }
    publish_result?;
    close_result?;
    Ok(stats)
}

type WorkerResult = (PipelineStats, Result<(), PipelineError>);

/// Everything the pipeline thread owns.
struct Stages {
    source: Box<dyn FrameSource>,
    mask: PixelMask,
    detector: Box<dyn Detector>,
    counter: SceneCounter,
}

/// How often to check for progress and keep systemd's watchdog happy: half of `WATCHDOG_USEC`
/// when systemd sets it, else every 10 s.
fn watchdog_period() -> Duration {
    std::env::var("WATCHDOG_USEC")
        .ok()
        .and_then(|us| us.parse::<u64>().ok())
        .filter(|&us| us >= 2_000)
        .map_or(Duration::from_secs(10), |us| Duration::from_micros(us / 2))
}

/// Resolves when Home Assistant announces itself `online`; never without discovery.
async fn ha_came_online(notify: Option<&tokio::sync::Notify>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

fn spawn_pipeline(
    mut stages: Stages,
    health: HealthMonitor,
    shutdown: Shutdown,
    tx: mpsc::Sender<CountReport>,
) -> Result<std::thread::JoinHandle<WorkerResult>, ServiceError> {
    std::thread::Builder::new()
        .name("pipeline".into())
        .spawn(move || {
            let mut emit = |report| tx.blocking_send(report).is_ok();
            let out = pipeline::run(
                stages.source.as_mut(),
                &stages.mask,
                stages.detector.as_mut(),
                &mut stages.counter,
                &health,
                &shutdown,
                &mut emit,
            );
            tracing::debug!(source = stages.source.name(), "source closed");
            out
        })
        .map_err(ServiceError::Thread)
}

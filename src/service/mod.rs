//! The running service: builds source, detector, counter and publisher from a [`Config`], runs
//! the pipeline on its own thread and publishes its reports from the tokio runtime.
//!
//! Start-up order is chosen so that bad input fails before anything is published: the state dir's
//! lock (one process per state dir), its records (ε budget, door count), then model, then video,
//! then broker (waiting for its CONNACK), and only then `online`. On every exit path the last
//! partial interval is flushed and `offline` is published. Never opens a listening socket.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use crate::config::{Config, SourceKind};
use crate::count::occupancy::Cadence;
use crate::count::{CountReport, Counting};
use crate::detect::DetectError;
use crate::health::HealthMonitor;
use crate::notify::Notifier;
use crate::pipeline::{FramePrep, PipelineError, PipelineStats};
use crate::privacy::safeguards::Safeguards;
use crate::privacy::sandbox::SandboxStatus;
use crate::privacy::PrivacyError;
use crate::publish::{
    discovery, MqttPublisher, MqttSettings, PrivacyStatement, PublishError, Publisher,
};
use crate::shutdown::Shutdown;
use crate::source::SourceError;
use crate::state_lock::{StateDirLock, StateLockError};
use crate::wall_clock::WallClock;

mod open;
mod worker;

use worker::{ha_came_online, spawn_pipeline, watchdog_period, Stages};

pub use open::{
    detector_threads, edgetpu_model, open_camera, open_counting_detector, open_detector,
    open_input, open_source, unused_edgetpu,
};

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
    StateLock(#[from] StateLockError),
    #[error(transparent)]
    DoorStore(#[from] crate::count::door_store::DoorStoreError),
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
    /// Show progress on stderr when it is a terminal (replay without `--quiet`).
    pub progress: bool,
}

/// A service opened and ready to count: state dir locked, model loaded, video opened, broker
/// connected, `online` announced. [`Service::run`] runs it to the end.
pub struct Service {
    config: Config,
    options: ServiceOptions,
    shutdown: Shutdown,
    health: HealthMonitor,
    /// What the `health` topic says runs inference.
    runtime: (&'static str, &'static str),
    publisher: Publisher,
    stages: Stages,
    progress: crate::progress::Progress,
    ha_online: Option<Arc<tokio::sync::Notify>>,
    /// Held until the service ends: no other process reads or rewrites the state dir's records
    /// meanwhile.
    _state_lock: Option<StateDirLock>,
}

/// Opens then runs the service until the source ends or `shutdown` is triggered (by a signal,
/// when the caller installed [`Shutdown::install_signal_flag`] and [`Shutdown::on_signals`], or
/// by the caller itself). `sandbox` is what [`crate::privacy::sandbox::enforce`] achieved
/// before the service started.
pub async fn run(
    config: Config,
    options: ServiceOptions,
    sandbox: SandboxStatus,
    shutdown: Shutdown,
) -> Result<PipelineStats, ServiceError> {
    match Service::open(config, options, sandbox, shutdown).await? {
        Some(service) => service.run().await,
        None => Ok(PipelineStats::default()),
    }
}

impl Service {
    /// Opens everything in the order that fails before anything is published; `None` when
    /// `shutdown` was triggered before the source opened (nothing was counted or announced).
    pub async fn open(
        config: Config,
        options: ServiceOptions,
        sandbox: SandboxStatus,
        shutdown: Shutdown,
    ) -> Result<Option<Service>, ServiceError> {
        // Live input (a camera, a stream, or a file paced in real time): its clock follows the
        // system clock's steps, and the newest frame wins when inference is slower. A file read
        // as fast as possible keeps every frame, and its own time, placed so that the clip ends
        // when the replay starts: its counts describe the past and are never stamped ahead of
        // the wall clock (a dashboard would otherwise hold a future `ts` as the newest state).
        // A stop asked while the source is still opening ends the wait on ffprobe or ffmpeg,
        // kills it, and returns cleanly.
        let live = config.source.kind == SourceKind::Camera
            || config.source.realtime
            || config.source.url.contains("://");
        let now = SystemTime::now();
        // One ffprobe run: the clip's length here, its stream for the source below. When it
        // fails, the source asks again and reports why, in its place in the opening order.
        let probed = (!live)
            .then(|| {
                crate::source::probe_clip(
                    &config.source.url,
                    &config.source.ffmpeg,
                    Duration::from_secs(config.source.open_timeout_s.into()),
                    Some(&shutdown),
                )
            })
            .flatten();
        let duration = probed.as_ref().and_then(|p| p.duration);
        let epoch = duration.and_then(|d| now.checked_sub(d)).unwrap_or(now);
        let clock = Arc::new(if live {
            WallClock::live(epoch)
        } else {
            WallClock::fixed(epoch)
        });
        let state_dir = (!config.state.dir.is_empty()).then(|| Path::new(&config.state.dir));
        let state_lock = state_dir.map(StateDirLock::acquire).transpose()?;
        let safeguards = Safeguards::new(&config.privacy, state_dir)?;
        let cadence = match config.privacy.time_resolution_s {
            0 => Cadence::OnChange {
                interval: Duration::from_secs(config.mqtt.interval_s.into()),
            },
            s => Cadence::bins_aligned(Duration::from_secs(s.into()), epoch),
        };
        let counting = Counting::from_config(
            &config.counting,
            cadence,
            config.detector.threshold,
            Arc::clone(&clock),
        )
        .with_door_store(state_dir)?;
        let detector = open_counting_detector(&config)?;
        let runtime = (detector.info().backend, detector.info().accelerator);
        let prep = FramePrep::from_config(&config, detector.input_geometry());
        let health = HealthMonitor::new();
        let source = match open_input(&config, detector.as_ref(), &health, &shutdown, live, probed)
        {
            Err(ServiceError::Source(SourceError::Stopped { url })) => {
                tracing::info!(source = %url, "stopped before the source opened; nothing was counted");
                return Ok(None);
            }
            opened => opened?,
        };
        let progress = crate::progress::Progress::new(
            crate::progress::frames_in(duration, source.fps()),
            options.progress,
        );
        let brokers = config.brokers().unwrap_or_default();
        let mqtt = match brokers.first() {
            Some(_) => Some(
                MqttPublisher::connect(MqttSettings {
                    tls: crate::publish::tls::for_config(&config)?,
                    brokers,
                    credentials: config.mqtt_credentials().map_err(ServiceError::Config)?,
                    ha_status_topic: config
                        .mqtt
                        .discovery
                        .then(|| discovery::status_topic(&config)),
                    client_id: config.client_id(),
                    topic_root: config.topic_root(),
                    keep_alive: Duration::from_secs(config.mqtt.keep_alive_s.into()),
                    connect_timeout: Duration::from_secs(config.mqtt.connect_timeout_s.into()),
                    ack_latency: None,
                })
                .await?,
            ),
            None => None,
        };
        let statement = PrivacyStatement {
            config: config.privacy.clone(),
            masks: u32::try_from(prep.mask.count()).unwrap_or(u32::MAX),
            sandbox: sandbox.describe(),
        };
        let ha_online = mqtt.as_ref().map(MqttPublisher::ha_online);
        let discovery_configs = if config.mqtt.discovery && mqtt.is_some() {
            discovery::configs(&config)
        } else {
            Vec::new()
        };
        let names = |n: &mut dyn Iterator<Item = &String>| n.cloned().collect();
        let mut publisher = Publisher::new(
            config.topic_root(),
            options.print_json,
            mqtt,
            clock,
            safeguards,
            statement,
            discovery_configs,
        )
        .with_counters(
            names(&mut config.counting.zones.iter().map(|z| &z.name)),
            names(&mut config.counting.lines.iter().map(|l| &l.name)),
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
        Ok(Some(Service {
            stages: Stages {
                source,
                prep,
                detector,
                counting,
            },
            config,
            options,
            shutdown,
            health,
            runtime,
            publisher,
            progress,
            ha_online,
            _state_lock: state_lock,
        }))
    }

    /// Counts on the pipeline thread and publishes from here until the source ends, the
    /// shutdown is triggered, or publishing fails; then flushes the last partial interval and
    /// publishes `offline`.
    pub async fn run(self) -> Result<PipelineStats, ServiceError> {
        let Service {
            config,
            options,
            shutdown,
            health,
            runtime,
            mut publisher,
            stages,
            progress,
            ha_online,
            _state_lock,
        } = self;
        let (tx, mut rx) = mpsc::channel::<(CountReport, bool)>(64);
        publisher.health(&health.snapshot(), runtime, 0).await?;
        let worker = spawn_pipeline(stages, health.clone(), shutdown.clone(), tx)?;

        let mut heartbeat =
            tokio::time::interval(Duration::from_secs(config.mqtt.interval_s.into()));
        heartbeat.tick().await; // the first tick is immediate; the start was just announced
        let mut notifier = Notifier::from_env();
        notifier.ready();
        let mut watchdog = tokio::time::interval(watchdog_period());
        let mut upkeep = tokio::time::interval(Duration::from_secs(1));
        let mut publish_result = Ok(());
        loop {
            let step = tokio::select! {
                report = rx.recv() => match report {
                    Some((report, reliable)) => publisher.report(&report, reliable).await,
                    None => break,
                },
                _ = ha_came_online(ha_online.as_deref()) => publisher.announce_discovery().await,
                _ = upkeep.tick() => {
                    progress.set(health.frames());
                    publisher.tick().await
                }
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
        progress.finish();
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
                url: crate::redact::redact_url(&config.source.url),
                frames: stats.frames,
            });
        }
        publish_result?;
        close_result?;
        Ok(stats)
    }
}

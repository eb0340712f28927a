//! Building the pipeline's stages from a [`Config`]: the detector (Edge TPU, else the CPU runtime
//! the config names), the video file or stream, and the V4L2 camera in a negotiated mode. Opens
//! things and reports why they cannot be opened; never reads a frame itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ServiceError;
use crate::config::{Accelerator, Config, RuntimeKind, SourceKind, AUTO_THREADS_MAX};
use crate::count::ScoreBands;
use crate::detect::{
    self, edgetpu, DetectError, Detector, LiteRtDetector, TfliteDetector, TfliteOptions, TileGrid,
    TiledDetector,
};
use crate::health::HealthMonitor;
use crate::shutdown::Shutdown;
use crate::source::camera::{self, PixelFormat};
use crate::source::ffmpeg::{FfmpegOptions, FfmpegSource};
use crate::source::reopen::Reopening;
use crate::source::{FrameSource, LatestFrame, Probe, SourceError};

/// Builds the detector the config asks for: people scoring at least `detector.threshold`.
pub fn open_detector(config: &Config) -> Result<Box<dyn Detector>, DetectError> {
    open_with_threshold(config, config.detector.threshold)
}

/// The detector of the counting pipeline (`run`, `replay`, `eval`): people as
/// [`open_detector`] finds them, plus the faint boxes ([`ScoreBands`]), which the tracker uses
/// only to continue tracks.
pub fn open_counting_detector(config: &Config) -> Result<Box<dyn Detector>, DetectError> {
    open_with_threshold(config, ScoreBands::from_config(config).lowest())
}

/// Opens the detector keeping boxes from `threshold`, tiled when the config asks for tiles.
fn open_with_threshold(config: &Config, threshold: f32) -> Result<Box<dyn Detector>, DetectError> {
    let d = &config.detector;
    let detector = open_untiled(config, threshold)?;
    let grid = TileGrid {
        columns: d.tile_columns,
        rows: d.tile_rows,
    };
    if grid == TileGrid::SINGLE {
        return Ok(detector);
    }
    let tiled = TiledDetector::new(detector, grid, d.nms_iou, d.nms_containment);
    let frame = tiled.input_geometry();
    tracing::info!(
        columns = grid.columns,
        rows = grid.rows,
        width = frame.width,
        height = frame.height,
        "tiled detection"
    );
    Ok(Box::new(tiled))
}

/// The detector for one model input.
fn open_untiled(config: &Config, threshold: f32) -> Result<Box<dyn Detector>, DetectError> {
    let d = &config.detector;
    let model = if d.model.is_empty() {
        detect::bundled_model()
    } else {
        PathBuf::from(&d.model)
    };
    let options = TfliteOptions {
        model,
        runtime_library: d.runtime_library.clone(),
        threads: detector_threads(config),
        threshold,
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
            Err(DetectError::EdgeTpu(why @ edgetpu::EdgeTpuError::NoModel { .. }))
                if edgetpu::present(edgetpu::library(&d.edgetpu_library)) =>
            {
                // A Coral owner must not get the CPU silently.
                tracing::warn!(reason = %why, "an Edge TPU is present but unused; running on the CPU")
            }
            Err(DetectError::EdgeTpu(why)) => {
                tracing::info!(reason = %why, "Edge TPU not used; running on the CPU")
            }
            Err(e) => tracing::info!(reason = %e, "Edge TPU not used; running on the CPU"),
        }
    }
    Ok(match d.runtime {
        RuntimeKind::Tflite => Box::new(TfliteDetector::open(options)?),
        RuntimeKind::Litert => Box::new(LiteRtDetector::open(options)?),
        // The fast CPU path when its library is there; TF 2.9 (always shipped) otherwise.
        RuntimeKind::Auto => match LiteRtDetector::open(options.clone()) {
            Ok(detector) => {
                tracing::info!("runtime auto: LiteRT, the fast CPU runtime");
                Box::new(detector)
            }
            Err(e @ (DetectError::RuntimeNotFound { .. } | DetectError::RuntimeLoad { .. })) => {
                tracing::info!(reason = %e, "runtime auto: LiteRT not available; TF 2.9");
                Box::new(TfliteDetector::open(options)?)
            }
            Err(e) => return Err(e),
        },
    })
}

/// The Edge TPU model `config` would run: `detector.edgetpu_model`, or the twin beside the model.
pub fn edgetpu_model(config: &Config) -> PathBuf {
    let d = &config.detector;
    if !d.edgetpu_model.is_empty() {
        return PathBuf::from(&d.edgetpu_model);
    }
    if d.model.is_empty() {
        edgetpu::twin_of(&detect::bundled_model())
    } else {
        edgetpu::twin_of(Path::new(&d.model))
    }
}

/// A warning for `check-config`: an Edge TPU is present, `config` may use it, and its Edge TPU
/// model is missing (so it would run on the CPU).
pub fn unused_edgetpu(config: &Config) -> Option<String> {
    let d = &config.detector;
    let may_use = !matches!(
        (d.accelerator, d.runtime),
        (Accelerator::Cpu, _) | (Accelerator::Auto, RuntimeKind::Litert)
    );
    let twin = edgetpu_model(config);
    (may_use && !twin.is_file() && edgetpu::present(edgetpu::library(&d.edgetpu_library))).then(
        || {
            format!(
                "an Edge TPU is present but would not be used: {}",
                edgetpu::EdgeTpuError::NoModel { twin }
            )
        },
    )
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

/// Opens what the service counts from: the camera (reopened when lost), or the video through
/// ffmpeg, behind a newest-frame-wins hand-off when it is `live`. A stop asked meanwhile ends
/// the opening with [`SourceError::Stopped`]. `probed`: ffprobe's answer when the caller has it.
pub fn open_input(
    config: &Config,
    detector: &dyn Detector,
    health: &HealthMonitor,
    stop: &Shutdown,
    live: bool,
    probed: Option<Probe>,
) -> Result<Box<dyn FrameSource>, ServiceError> {
    if config.source.kind == SourceKind::Camera {
        return open_camera(config, detector, health, stop);
    }
    let source = open_source(config, detector, Some(stop), probed)?;
    Ok(if live {
        Box::new(LatestFrame::spawn(source, detector.input_geometry())?)
    } else {
        Box::new(source)
    })
}

/// The cores this process may use (its affinity, and a cgroup's CPU quota as systemd sets it).
fn cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
}

/// The interpreter's threads: `detector.threads`, or with 0 every core this process may use, at
/// most [`AUTO_THREADS_MAX`] (on 2 cores here, 2 threads replay 1.7x faster than 1).
pub fn detector_threads(config: &Config) -> u32 {
    inference(cores(), config.detector.threads)
}

/// [`detector_threads`] for a machine of `cores`.
fn inference(cores: u32, configured: u32) -> u32 {
    match configured {
        0 => cores.clamp(1, AUTO_THREADS_MAX),
        n => n,
    }
}

/// ffmpeg's threads: `source.decoder_threads`, or with 0 the cores inference leaves (at least
/// one), so decoding takes what inference does not instead of competing with it.
pub fn decoder_threads(config: &Config) -> u32 {
    let cores = cores();
    split(
        cores,
        inference(cores, config.detector.threads),
        config.source.decoder_threads,
    )
}

/// [`decoder_threads`] for a machine of `cores`.
fn split(cores: u32, inference: u32, configured: u32) -> u32 {
    match configured {
        0 => cores.saturating_sub(inference).max(1),
        n => n,
    }
}

/// Opens the configured video for `detector`'s input geometry (asking ffprobe about it unless
/// `probed` already says).
pub fn open_source(
    config: &Config,
    detector: &dyn Detector,
    stop: Option<&Shutdown>,
    probed: Option<Probe>,
) -> Result<FfmpegSource, ServiceError> {
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
        mjpeg_lowres: true,
        threads: decoder_threads(config),
        probed,
        open_timeout: Duration::from_secs(s.open_timeout_s.into()),
        read_timeout: Duration::from_secs(s.read_timeout_s.into()),
        stop: stop.cloned(),
    };
    Ok(FfmpegSource::open(
        &s.url,
        detector.input_geometry(),
        &options,
    )?)
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
        return Err(ServiceError::Source(SourceError::camera_not_found(&device)));
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
        mjpeg_lowres: true,
        threads: decoder_threads(config),
        probed: None,
        open_timeout: Duration::from_secs(s.open_timeout_s.into()),
        read_timeout: Duration::from_secs(s.read_timeout_s.into()),
        stop: Some(stop.clone()),
    };
    let geometry = detector.input_geometry();
    let url = s.device.clone();
    let open = move || FfmpegSource::open(&url, geometry, &options);
    let source = Reopening::new(open, health.clone(), stop.clone())?;
    Ok(Box::new(LatestFrame::spawn(source, geometry)?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn inference_takes_the_cores_up_to_four_and_the_decoder_what_is_left() {
        // (cores, detector.threads, source.decoder_threads) -> (interpreter, ffmpeg) threads
        for (cores, detector, decoder, want) in [
            (2, 0, 0, (2, 1)), // this CI machine, defaults: inference takes both, ffmpeg one
            (4, 0, 0, (4, 1)), // a Raspberry Pi 4 or 5, the Dev Board
            (1, 0, 0, (1, 1)),
            (16, 0, 0, (4, 12)), // a developer's laptop: at most four for inference
            (4, 2, 0, (2, 2)),   // set by hand: as set, the decoder gets the rest
            (1, 2, 0, (2, 1)),
            (8, 2, 0, (2, 6)),
            (2, 0, 3, (2, 3)),
        ] {
            let inference = super::inference(cores, detector);
            let got = (inference, super::split(cores, inference, decoder));
            assert_eq!(got, want, "{cores} cores, {detector}, {decoder}");
        }
    }
}

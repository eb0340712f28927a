//! The per-frame loop: source → detect → count, on one thread.
//!
//! Each frame is borrowed from the source, read once by the detector into its input tensor, and
//! released before the next read; only the frame's person boxes reach the counting stage (which
//! drops them once its counts are made), and only count reports leave through `emit`. Must never
//! hold a frame across iterations, and never pass boxes anywhere but the counting stage.

use std::time::{Duration, Instant};

use crate::count::{CountReport, SceneCounter};
use crate::detect::{appearance, DetectError, Detection, Detector};
use crate::health::{HealthMonitor, SourceState};
use crate::privacy::mask::PixelMask;
use crate::shutdown::Shutdown;
use crate::source::view::{View, ViewCheck, ViewLimits};
use crate::source::{FrameSource, SourceError};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Detect(#[from] DetectError),
}

/// What one run did, for logs and benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct PipelineStats {
    pub frames: u64,
    /// Time spent in `Detector::detect` (preprocess + invoke + decode).
    pub detect_time: Duration,
    pub elapsed: Duration,
}

impl PipelineStats {
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What happens to each frame before the detector reads it: the privacy masks black out their
/// pixels, then the view check judges what is left (is the camera blind or frozen?).
#[derive(Debug)]
pub struct FramePrep {
    pub mask: PixelMask,
    pub view: ViewLimits,
}

/// Runs until the source ends, `stop` is triggered, or `emit` returns false (the receiver is
/// gone). Masked pixels are blacked out before the detector reads a frame, and the camera's view
/// is judged on what is left (a change goes to `health`, which marks counts made meanwhile). The
/// counter's last partial window is flushed through `emit` in every case, errors included, so no
/// aggregate is lost.
pub fn run(
    source: &mut dyn FrameSource,
    prep: &FramePrep,
    detector: &mut dyn Detector,
    counter: &mut SceneCounter,
    health: &HealthMonitor,
    stop: &Shutdown,
    emit: &mut dyn FnMut(CountReport) -> bool,
) -> (PipelineStats, Result<(), PipelineError>) {
    let started = Instant::now();
    let mut stats = PipelineStats::default();
    let mut detections: Vec<Detection> = Vec::with_capacity(64);
    let mut reports: Vec<CountReport> = Vec::with_capacity(16);
    let picture = source.picture();
    let mut dropped = 0;
    // Made on the first frame, which brings the frame size.
    let mut view: Option<ViewCheck> = None;
    let result = loop {
        if stop.is_triggered() {
            break Ok(());
        }
        let frame = match source.next_frame() {
            Ok(Some(frame)) => {
                prep.mask.apply(frame.rgb);
                let check =
                    view.get_or_insert_with(|| ViewCheck::new(prep.view, frame.geometry, picture));
                if let (now, Some(lasted)) = check.observe(frame.rgb, frame.t) {
                    report_view(health, now, lasted);
                }
                frame
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(PipelineError::from(e)),
        };
        let t0 = Instant::now();
        if let Err(e) = detector.detect(&frame, &mut detections) {
            break Err(e.into());
        }
        let took = t0.elapsed();
        stats.detect_time += took;
        stats.frames += 1;
        health.record_frame(took);
        if counter.wants_appearance() {
            // Colours are read while the frame is still here; boxes are in frame coordinates.
            appearance::describe(&frame, &mut detections);
        }
        picture.unmap(&mut detections);
        counter.observe(&detections, frame.t, &mut reports);
        detections.clear();
        let now_dropped = source.dropped();
        if now_dropped > dropped {
            health.record_dropped(now_dropped - dropped);
            dropped = now_dropped;
        }
        if !reports.drain(..).all(&mut *emit) {
            break Ok(());
        }
    };
    match &result {
        Ok(()) if stop.is_triggered() => health.set_source(SourceState::Stopped),
        Ok(()) => health.set_source(SourceState::Ended),
        Err(e) => {
            health.set_source(SourceState::Failed);
            health.set_error(e.to_string());
        }
    }
    counter.flush(&mut reports);
    for report in reports.drain(..) {
        emit(report);
    }
    stats.elapsed = started.elapsed();
    (stats, result)
}

/// A change of the camera's view: into health (and so `health.source`), and the log, once.
fn report_view(health: &HealthMonitor, view: View, lasted: Duration) {
    health.set_view(view, lasted);
    match view {
        View::Clear => tracing::info!("the camera's view is clear again: counts are reliable"),
        _ => tracing::warn!(
            state = view.state().unwrap_or_default(),
            "{}",
            view.describe(lasted)
        ),
    }
}

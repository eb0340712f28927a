//! The per-frame loop: source → detect → count, on one thread.
//!
//! Each frame is borrowed from the source, read once by the detector into its input tensor, and
//! released before the next read ([`FrameStep`], the one per-frame step the daemon and `eval`
//! share); only the frame's person boxes reach the counting stage (which drops them
//! once its counts are made), and only count reports leave through `emit`. Must never hold a
//! frame across iterations, and never pass boxes anywhere but the counting stage.

use std::time::{Duration, Instant};

use crate::config::Config;
use crate::count::{CountReport, Counting};
use crate::detect::{appearance, DetectError, Detection, Detector};
use crate::health::{HealthMonitor, SourceState};
use crate::privacy::mask::PixelMask;
use crate::shutdown::Shutdown;
use crate::source::view::{View, ViewCheck, ViewLimits};
use crate::source::{Frame, FrameGeometry, FrameSource, Picture, SourceError};

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

impl FramePrep {
    /// `privacy.masks` on frames of `geometry`, and the view limits of `[source]`.
    pub fn from_config(config: &Config, geometry: FrameGeometry) -> Self {
        Self {
            mask: PixelMask::new(&config.privacy.masks, geometry),
            view: ViewLimits {
                blind_after: Duration::from_secs(config.source.blind_after_s.into()),
                frozen_after: Duration::from_secs(config.source.frozen_after_s.into()),
            },
        }
    }
}

/// What one frame gave: its person boxes in picture coordinates (the frame itself is gone).
#[derive(Debug)]
pub struct Detected<'a> {
    pub detections: &'a [Detection],
    /// Time in [`Detector::detect`] (preprocess + invoke + decode).
    pub took: Duration,
    /// The camera's view changed with this frame: the new view, and how long the old one lasted.
    pub view_change: Option<(View, Duration)>,
}

/// The per-frame step before counting, shared by the daemon ([`run`]) and `eval`:
/// masks, view check, detection, colours (when a counting stage weighs them), boxes mapped to
/// the picture. It takes each frame by value and drops it before returning, so no frame
/// outlives its step; the boxes it lends out are overwritten by the next frame.
pub struct FrameStep<'a> {
    prep: &'a FramePrep,
    detector: &'a mut dyn Detector,
    picture: Picture,
    appearance: bool,
    /// Made on the first frame, which brings the frame size.
    view: Option<ViewCheck>,
    detections: Vec<Detection>,
}

impl<'a> FrameStep<'a> {
    /// `picture`: where the picture lies in the source's frames; `appearance`: read each box's
    /// coarse colours (a counting stage weighs them) while the frame is still here.
    pub fn new(
        prep: &'a FramePrep,
        detector: &'a mut dyn Detector,
        picture: Picture,
        appearance: bool,
    ) -> Self {
        Self {
            prep,
            detector,
            picture,
            appearance,
            view: None,
            detections: Vec::with_capacity(64),
        }
    }

    /// One frame: masked pixels blacked out, the view judged on what is left, people detected,
    /// their colours read when wanted, and their boxes mapped to picture coordinates.
    pub fn detect(&mut self, frame: Frame<'_>) -> Result<Detected<'_>, DetectError> {
        self.prep.mask.apply(frame.rgb);
        let (prep, picture) = (self.prep, self.picture);
        let check = self
            .view
            .get_or_insert_with(|| ViewCheck::new(prep.view, frame.geometry, picture));
        let view_change = match check.observe(frame.rgb, frame.t) {
            (now, Some(lasted)) => Some((now, lasted)),
            (_, None) => None,
        };
        self.detections.clear();
        let t0 = Instant::now();
        self.detector.detect(&frame, &mut self.detections)?;
        let took = t0.elapsed();
        if self.appearance {
            // Boxes are still in frame coordinates here.
            appearance::describe(&frame, &mut self.detections);
        }
        if picture != Picture::FULL {
            for d in &mut self.detections {
                d.bbox = d.bbox.in_picture(&picture);
            }
        }
        Ok(Detected {
            detections: &self.detections,
            took,
            view_change,
        })
    }
}

/// Runs until the source ends, `stop` is triggered, or `emit` returns false (the receiver is
/// gone). Each frame goes through the [`FrameStep`] (a change of the camera's view goes to
/// `health`, which marks counts made meanwhile) and its boxes through `counting`. The counting
/// stage's last partial window is flushed through `emit` in every case, errors included, so no
/// aggregate is lost.
pub fn run(
    source: &mut dyn FrameSource,
    prep: &FramePrep,
    detector: &mut dyn Detector,
    counting: &mut Counting,
    health: &HealthMonitor,
    stop: &Shutdown,
    emit: &mut dyn FnMut(CountReport) -> bool,
) -> (PipelineStats, Result<(), PipelineError>) {
    let started = Instant::now();
    let mut stats = PipelineStats::default();
    let mut step = FrameStep::new(
        prep,
        detector,
        source.picture(),
        counting.wants_appearance(),
    );
    let mut dropped = 0;
    let result = loop {
        if stop.is_triggered() {
            break Ok(());
        }
        let frame = match source.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break Ok(()),
            Err(e) => break Err(PipelineError::from(e)),
        };
        let t = frame.t;
        let detected = match step.detect(frame) {
            Ok(d) => d,
            Err(e) => break Err(e.into()),
        };
        if let Some((now, lasted)) = detected.view_change {
            report_view(health, now, lasted);
        }
        stats.detect_time += detected.took;
        stats.frames += 1;
        health.record_frame(detected.took);
        let reports = counting.step(detected.detections, t);
        let now_dropped = source.dropped();
        if now_dropped > dropped {
            health.record_dropped(now_dropped - dropped);
            dropped = now_dropped;
        }
        if !reports.iter().all(|r| emit(*r)) {
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
    for report in counting.finish() {
        emit(*report);
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

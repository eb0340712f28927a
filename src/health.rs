//! Health: how the pipeline is doing (frame rate, inference time, source state, errors), for the
//! retained `health` topic. Shared between the pipeline thread, which records each frame, and the
//! publisher, which takes snapshots.
//!
//! Holds timings and states only: never a count, a box or anything derived from pixels but the
//! view's verdict (clear, blind, frozen). Recording a frame does not allocate.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::source::view::View;

/// How many recent inference times the percentiles are computed over.
const WINDOW: usize = 256;

/// State of the frame source, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Starting,
    Running,
    /// The input ended cleanly (end of file).
    Ended,
    /// The input failed; see `last_error`.
    Failed,
    /// Stopped on request (SIGTERM, SIGINT).
    Stopped,
    /// The input was lost (camera unplugged, stream down) and is being reopened.
    Reconnecting,
    /// Frames arrive but show nothing to count from (dark, covered, out of focus): see
    /// [`crate::source::view`].
    Blind,
    /// Frames arrive but the picture has not changed at all for a long time.
    Frozen,
}

impl SourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Starting => "starting",
            SourceState::Running => "running",
            SourceState::Ended => "ended",
            SourceState::Failed => "failed",
            SourceState::Stopped => "stopped",
            SourceState::Reconnecting => "reconnecting",
            SourceState::Blind => "blind",
            SourceState::Frozen => "frozen",
        }
    }
}

#[derive(Debug)]
struct State {
    started: Instant,
    frames: u64,
    dropped: u64,
    recent: [f32; WINDOW],
    recent_len: usize,
    next: usize,
    source: SourceState,
    /// What the camera sees while frames arrive (clear, blind, frozen).
    view: View,
    last_error: Option<String>,
    last_snapshot: (Instant, u64),
}

/// A point-in-time view for the `health` topic.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    pub uptime: Duration,
    /// Frames processed per second since the previous snapshot.
    pub fps: f64,
    pub inference_ms_p50: f64,
    pub inference_ms_p95: f64,
    pub frames: u64,
    pub dropped: u64,
    pub source: SourceState,
    pub last_error: Option<String>,
}

/// Cloneable handle to the shared health state.
#[derive(Debug, Clone)]
pub struct HealthMonitor(Arc<Mutex<State>>);

impl Default for HealthMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl HealthMonitor {
    pub fn new() -> Self {
        let now = Instant::now();
        Self(Arc::new(Mutex::new(State {
            started: now,
            frames: 0,
            dropped: 0,
            recent: [0.0; WINDOW],
            recent_len: 0,
            next: 0,
            source: SourceState::Starting,
            view: View::Clear,
            last_error: None,
            last_snapshot: (now, 0),
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// One frame went through the detector in `inference`.
    pub fn record_frame(&self, inference: Duration) {
        self.with(|s| {
            s.frames += 1;
            s.source = SourceState::Running;
            s.recent[s.next] = inference.as_secs_f32() * 1000.0;
            s.next = (s.next + 1) % WINDOW;
            s.recent_len = (s.recent_len + 1).min(WINDOW);
        });
    }

    /// Frames the source delivered that were skipped (latest-frame-wins).
    pub fn record_dropped(&self, n: u64) {
        self.with(|s| s.dropped += n);
    }

    pub fn set_source(&self, state: SourceState) {
        self.with(|s| s.source = state);
    }

    /// The camera's view changed (judged by [`crate::source::view::ViewCheck`]); a view that is
    /// not clear becomes `last_error`, with how long it has lasted.
    pub fn set_view(&self, view: View, lasted: Duration) {
        self.with(|s| {
            s.view = view;
            if view != View::Clear {
                s.last_error = Some(view.describe(lasted));
            }
        });
    }

    /// Whether counts made now can be trusted: false while the view is blind or frozen.
    pub fn view_is_clear(&self) -> bool {
        self.with(|s| s.view == View::Clear)
    }

    /// Remembers an error (one line, no secrets) for the `last_error` field.
    pub fn set_error(&self, error: impl Into<String>) {
        let error = error.into();
        self.with(|s| s.last_error = Some(error));
    }

    /// Frames processed since start.
    pub fn frames(&self) -> u64 {
        self.with(|s| s.frames)
    }

    /// A snapshot; the frame rate covers the time since the previous snapshot.
    pub fn snapshot(&self) -> HealthSnapshot {
        self.with(|s| {
            let now = Instant::now();
            let (then, frames_then) = s.last_snapshot;
            let elapsed = now.duration_since(then).as_secs_f64();
            let fps = if elapsed > 0.0 {
                (s.frames - frames_then) as f64 / elapsed
            } else {
                0.0
            };
            s.last_snapshot = (now, s.frames);
            let mut times = s.recent[..s.recent_len].to_vec();
            times.sort_by(f32::total_cmp);
            HealthSnapshot {
                uptime: now.duration_since(s.started),
                fps,
                inference_ms_p50: percentile(&times, 0.50),
                inference_ms_p95: percentile(&times, 0.95),
                frames: s.frames,
                dropped: s.dropped,
                // While frames arrive, a blind or frozen view is the source's state.
                source: match (s.source, s.view) {
                    (SourceState::Running, View::Blind(_)) => SourceState::Blind,
                    (SourceState::Running, View::Frozen) => SourceState::Frozen,
                    (state, _) => state,
                },
                last_error: s.last_error.clone(),
            }
        })
    }
}

/// Nearest-rank percentile of sorted values; 0 when empty.
fn percentile(sorted: &[f32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_over_recent_frames() {
        let h = HealthMonitor::new();
        for ms in 1..=100 {
            h.record_frame(Duration::from_millis(ms));
        }
        let s = h.snapshot();
        assert_eq!(s.frames, 100);
        assert!((s.inference_ms_p50 - 50.0).abs() < 0.01, "{s:?}");
        assert!((s.inference_ms_p95 - 95.0).abs() < 0.01, "{s:?}");
        assert_eq!(s.source, SourceState::Running);
        assert!(s.fps > 0.0);
    }

    #[test]
    fn window_keeps_only_recent_times() {
        let h = HealthMonitor::new();
        for _ in 0..WINDOW {
            h.record_frame(Duration::from_millis(500));
        }
        for _ in 0..WINDOW {
            h.record_frame(Duration::from_millis(10));
        }
        let s = h.snapshot();
        assert!((s.inference_ms_p95 - 10.0).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn a_blind_or_frozen_view_is_the_source_state_while_frames_arrive() {
        use crate::source::view::Blindness;
        let h = HealthMonitor::new();
        h.record_frame(Duration::from_millis(5));
        assert!(h.view_is_clear());
        h.set_view(View::Blind(Blindness::Dark), Duration::from_secs(30));
        let s = h.snapshot();
        assert_eq!(s.source, SourceState::Blind);
        assert!(!h.view_is_clear());
        let error = s.last_error.unwrap_or_default();
        assert!(
            error.contains("dark for 30 s") && error.contains("unreliable"),
            "{error}"
        );
        h.record_frame(Duration::from_millis(5));
        assert_eq!(
            h.snapshot().source,
            SourceState::Blind,
            "a frame does not clear it"
        );
        h.set_view(View::Frozen, Duration::from_secs(60));
        assert_eq!(h.snapshot().source, SourceState::Frozen);
        h.set_source(SourceState::Ended);
        assert_eq!(h.snapshot().source, SourceState::Ended);
        h.set_view(View::Clear, Duration::ZERO);
        assert!(h.view_is_clear());
    }

    #[test]
    fn states_errors_and_drops() {
        let h = HealthMonitor::new();
        assert_eq!(h.snapshot().source, SourceState::Starting);
        assert_eq!(h.snapshot().inference_ms_p50, 0.0);
        h.record_dropped(3);
        h.set_error("video x.mp4: decoding failed");
        h.set_source(SourceState::Failed);
        let s = h.snapshot();
        assert_eq!((s.dropped, s.source), (3, SourceState::Failed));
        assert_eq!(
            s.last_error.as_deref(),
            Some("video x.mp4: decoding failed")
        );
    }
}

//! Health: how the pipeline is doing (frame rate, inference time, source state, errors), for the
//! retained `health` topic. Shared between the pipeline thread, which records each frame, and the
//! publisher, which takes snapshots.
//!
//! Holds timings and states only: never a count, a box or anything derived from pixels. Recording
//! a frame does not allocate.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
                source: s.source,
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

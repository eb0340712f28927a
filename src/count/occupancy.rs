//! Occupancy: how many people are in view now, stabilised so one missed frame does not flicker.
//!
//! The stable count is the median of the last `smoothing_frames` per-frame counts (the lower
//! median while the window fills, so a single early detection is not a person yet). A report is
//! due when the stable count changes and at least every `interval`; it carries min / max / mean of
//! the stable count over the frames since the previous report. No allocation per frame.

use std::collections::VecDeque;
use std::time::Duration;

/// One aggregate, ready to publish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OccupancyReport {
    /// The stable count now.
    pub count: u32,
    /// Min / max / mean of the stable count over the frames since the previous report.
    pub min: u32,
    pub max: u32,
    pub mean: f64,
    /// Length of the window those statistics cover.
    pub window: Duration,
    /// Source time of the frame that closed the window.
    pub t: Duration,
    /// Frames in the window.
    pub frames: u64,
}

#[derive(Debug, Clone, Copy)]
struct WindowStats {
    start: Duration,
    min: u32,
    max: u32,
    sum: u64,
    frames: u64,
}

impl WindowStats {
    fn new(start: Duration) -> Self {
        Self {
            start,
            min: u32::MAX,
            max: 0,
            sum: 0,
            frames: 0,
        }
    }

    fn add(&mut self, count: u32) {
        self.min = self.min.min(count);
        self.max = self.max.max(count);
        self.sum += u64::from(count);
        self.frames += 1;
    }
}

/// Turns per-frame person counts into stable occupancy reports.
#[derive(Debug)]
pub struct OccupancyCounter {
    recent: VecDeque<u32>,
    scratch: Vec<u32>,
    smoothing: usize,
    interval: Duration,
    stats: WindowStats,
    last_count: Option<u32>,
    last_report_t: Option<Duration>,
    last_t: Duration,
}

impl OccupancyCounter {
    pub fn new(smoothing_frames: u32, interval: Duration) -> Self {
        let smoothing = smoothing_frames.max(1) as usize;
        Self {
            recent: VecDeque::with_capacity(smoothing),
            scratch: Vec::with_capacity(smoothing),
            smoothing,
            interval,
            stats: WindowStats::new(Duration::ZERO),
            last_count: None,
            last_report_t: None,
            last_t: Duration::ZERO,
        }
    }

    /// The stable count after the frames seen so far (0 before any frame).
    pub fn current(&self) -> u32 {
        self.last_count.unwrap_or(0)
    }

    fn stable(&mut self) -> u32 {
        self.scratch.clear();
        self.scratch.extend(self.recent.iter().copied());
        let mid = (self.scratch.len() - 1) / 2;
        let (_, median, _) = self.scratch.select_nth_unstable(mid);
        *median
    }

    /// Adds one frame's raw person count at source time `t`; returns a report when one is due.
    pub fn observe(&mut self, raw: u32, t: Duration) -> Option<OccupancyReport> {
        if self.recent.len() == self.smoothing {
            self.recent.pop_front();
        }
        self.recent.push_back(raw);
        let count = self.stable();
        if self.last_report_t.is_none() && self.stats.frames == 0 {
            self.stats = WindowStats::new(t);
        }
        self.stats.add(count);
        self.last_t = t;
        let changed = self.last_count != Some(count);
        self.last_count = Some(count);
        let interval_due = self
            .last_report_t
            .is_none_or(|last| t.saturating_sub(last) >= self.interval);
        (changed || interval_due).then(|| self.close_window(count, t))
    }

    /// Closes the window at the last frame seen (end of stream, shutdown) so the final partial
    /// interval is not lost. `None` when no frame arrived since the previous report.
    pub fn flush(&mut self) -> Option<OccupancyReport> {
        let count = self.last_count?;
        (self.stats.frames > 0).then(|| self.close_window(count, self.last_t))
    }

    fn close_window(&mut self, count: u32, t: Duration) -> OccupancyReport {
        let s = self.stats;
        let report = OccupancyReport {
            count,
            min: s.min,
            max: s.max,
            mean: s.sum as f64 / s.frames.max(1) as f64,
            window: t.saturating_sub(s.start),
            t,
            frames: s.frames,
        };
        self.stats = WindowStats::new(t);
        self.last_report_t = Some(t);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Feeds raw counts at 10 fps; returns the reports.
    fn feed(counter: &mut OccupancyCounter, raw: &[u32]) -> Vec<OccupancyReport> {
        raw.iter()
            .enumerate()
            .filter_map(|(i, &c)| counter.observe(c, secs(i as f64 / 10.0)))
            .collect()
    }

    #[test]
    fn first_frame_reports_at_once() {
        let mut c = OccupancyCounter::new(5, secs(60.0));
        let r = c.observe(0, Duration::ZERO).unwrap();
        assert_eq!((r.count, r.frames), (0, 1));
    }

    #[test]
    fn one_missed_frame_does_not_flicker() {
        let mut c = OccupancyCounter::new(5, secs(60.0));
        let raw = [0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 2, 1, 1, 1];
        let counts: Vec<u32> = feed(&mut c, &raw).iter().map(|r| r.count).collect();
        assert_eq!(counts, vec![0, 1]);
    }

    #[test]
    fn sustained_change_is_reported_with_window_stats() {
        let mut c = OccupancyCounter::new(3, secs(60.0));
        let reports = feed(&mut c, &[2, 2, 2, 2, 0, 0, 0, 0]);
        let counts: Vec<u32> = reports.iter().map(|r| r.count).collect();
        assert_eq!(counts, vec![2, 0]);
        // The second window is frames 1..=5: stable counts 2, 2, 2, 2, 0.
        let last = reports[1];
        assert_eq!((last.min, last.max, last.frames), (0, 2, 5));
        assert!((last.mean - 1.6).abs() < 1e-9, "{last:?}");
        assert!((last.window.as_secs_f64() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn two_frame_window_needs_agreement() {
        let mut c = OccupancyCounter::new(4, secs(60.0));
        let counts: Vec<u32> = feed(&mut c, &[0, 1, 0, 0])
            .iter()
            .map(|r| r.count)
            .collect();
        assert_eq!(counts, vec![0]);
    }

    #[test]
    fn reports_at_least_every_interval() {
        let mut c = OccupancyCounter::new(1, secs(1.0));
        let reports = feed(&mut c, &[3; 35]);
        let ts: Vec<f64> = reports.iter().map(|r| r.t.as_secs_f64()).collect();
        assert_eq!(ts.len(), 4, "{ts:?}");
        assert!((ts[1] - 1.0).abs() < 1e-9 && (ts[3] - 3.0).abs() < 1e-9);
        assert!((reports[2].window.as_secs_f64() - 1.0).abs() < 1e-9);
        assert_eq!(reports[2].frames, 10);
    }

    #[test]
    fn flush_closes_the_partial_window_once() {
        let mut c = OccupancyCounter::new(1, secs(60.0));
        assert!(c.flush().is_none());
        feed(&mut c, &[1, 1, 1]);
        let r = c.flush().unwrap();
        assert_eq!((r.count, r.frames), (1, 2));
        assert!(c.flush().is_none());
    }
}

//! Occupancy: how many people are in view now, stabilised so one missed frame does not flicker.
//!
//! The stable count is the median of the last `smoothing_frames` per-frame counts (the lower
//! median while the window fills, so a single early detection is not a person yet). When a report
//! is due depends on the [`Cadence`]: on change and at least every `interval`, or once per fixed
//! time bin (privacy: single arrivals cannot be timed). A report carries min / max / mean of the
//! stable count over the frames since the previous report. No allocation per frame.

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

/// When reports are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// When the stable count changes, and at least every `interval`; the first frame at once.
    OnChange { interval: Duration },
    /// Once per bin of `width`, at its end, whatever happens inside. Bins end where
    /// `phase + t` is a multiple of `width` (the phase aligns them to the wall clock).
    Bins { width: Duration, phase: Duration },
}

impl Cadence {
    /// Bins aligned to multiples of `width` since the Unix epoch, for a source whose time zero
    /// is the wall-clock time `epoch`.
    pub fn bins_aligned(width: Duration, epoch: std::time::SystemTime) -> Cadence {
        let since_unix = epoch
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let width_ns = width.as_nanos().max(1);
        let phase = Duration::from_nanos((since_unix.as_nanos() % width_ns) as u64);
        Cadence::Bins { width, phase }
    }
}

/// Turns per-frame person counts into stable occupancy reports.
#[derive(Debug)]
pub struct OccupancyCounter {
    recent: VecDeque<u32>,
    scratch: Vec<u32>,
    smoothing: usize,
    cadence: Cadence,
    current_bin: Option<u64>,
    stats: WindowStats,
    last_count: Option<u32>,
    last_report_t: Option<Duration>,
    last_t: Duration,
}

impl OccupancyCounter {
    /// A counter reporting on change and at least every `interval`.
    pub fn new(smoothing_frames: u32, interval: Duration) -> Self {
        Self::with_cadence(smoothing_frames, Cadence::OnChange { interval })
    }

    pub fn with_cadence(smoothing_frames: u32, cadence: Cadence) -> Self {
        let smoothing = smoothing_frames.max(1) as usize;
        Self {
            recent: VecDeque::with_capacity(smoothing),
            scratch: Vec::with_capacity(smoothing),
            smoothing,
            cadence,
            current_bin: None,
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
        let report = match self.cadence {
            Cadence::OnChange { interval } => {
                if self.last_report_t.is_none() && self.stats.frames == 0 {
                    self.stats = WindowStats::new(t);
                }
                self.stats.add(count);
                let changed = self.last_count != Some(count);
                let interval_due = self
                    .last_report_t
                    .is_none_or(|last| t.saturating_sub(last) >= interval);
                (changed || interval_due).then(|| self.close_window(count, t))
            }
            Cadence::Bins { width, phase } => {
                let bin = bin_of(t, width, phase);
                let mut report = None;
                match self.current_bin {
                    None => self.stats = WindowStats::new(t),
                    Some(current) if current != bin && self.stats.frames > 0 => {
                        let end = bin_end(current, width, phase);
                        report = Some(self.close_window(self.current(), end));
                    }
                    Some(_) => {}
                }
                self.current_bin = Some(bin);
                self.stats.add(count);
                report
            }
        };
        self.last_t = t;
        self.last_count = Some(count);
        report
    }

    /// Closes the window at the last frame seen (end of stream, shutdown) so the final partial
    /// interval is not lost. `None` when no frame arrived since the previous report.
    /// With bins, the report is stamped with the end of the current bin.
    pub fn flush(&mut self) -> Option<OccupancyReport> {
        let count = self.last_count?;
        if self.stats.frames == 0 {
            return None;
        }
        let t = match (self.cadence, self.current_bin) {
            (Cadence::Bins { width, phase }, Some(bin)) => bin_end(bin, width, phase),
            _ => self.last_t,
        };
        Some(self.close_window(count, t))
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

/// Index of the bin holding source time `t`.
pub(crate) fn bin_of(t: Duration, width: Duration, phase: Duration) -> u64 {
    ((phase + t).as_nanos() / width.as_nanos().max(1)) as u64
}

/// Source time at which bin `bin` ends.
pub(crate) fn bin_end(bin: u64, width: Duration, phase: Duration) -> Duration {
    let end = (u128::from(bin) + 1) * width.as_nanos();
    Duration::from_nanos(end.saturating_sub(phase.as_nanos()) as u64)
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
    fn bins_report_once_per_bin_at_its_end_whatever_happens_inside() {
        // 10 s bins, source time 0 is 3 s into a bin: boundaries at t = 7, 17, 27, 37 s.
        let cadence = Cadence::Bins {
            width: secs(10.0),
            phase: secs(3.0),
        };
        let mut c = OccupancyCounter::with_cadence(1, cadence);
        // 30 s at 10 fps: one person arrives at t = 12.3 s and leaves at t = 14.0 s.
        let raw: Vec<u32> = (0..300)
            .map(|i| u32::from((123..140).contains(&i)))
            .collect();
        let reports = feed(&mut c, &raw);
        let ends: Vec<f64> = reports.iter().map(|r| r.t.as_secs_f64()).collect();
        assert_eq!(ends.len(), 3, "{ends:?}");
        for (got, want) in ends.iter().zip([7.0, 17.0, 27.0]) {
            assert!((got - want).abs() < 1e-9, "{ends:?}");
        }
        // The arrival and departure are inside the second bin: visible only as its max and mean.
        assert_eq!(
            (reports[1].count, reports[1].min, reports[1].max),
            (0, 0, 1)
        );
        assert!((reports[1].mean - 0.17).abs() < 1e-9, "{:?}", reports[1]);
        assert!((reports[1].window.as_secs_f64() - 10.0).abs() < 1e-9);
        let last = c.flush().unwrap();
        assert!((last.t.as_secs_f64() - 37.0).abs() < 1e-9, "{last:?}");
    }

    #[test]
    fn bins_align_to_the_wall_clock() {
        let epoch = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_123);
        match Cadence::bins_aligned(secs(300.0), epoch) {
            // 1_000_000_123 s = 3_333_333 bins of 300 s + 223 s.
            Cadence::Bins { phase, .. } => assert_eq!(phase, Duration::from_secs(223)),
            other => panic!("{other:?}"),
        }
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

//! Entrance lines: directed segments, and in / out counters fed by tracked foot points.
//!
//! A line is a segment `from → to` in normalised image coordinates (y down). Its sides are those
//! of the cross product `(to − from) × (p − from)`: positive = **left**, negative = right, so for
//! `from = [0.5, 0]`, `to = [0.5, 1]` the left side is `x < 0.5`. A crossing from left to right is
//! **in**, right to left is **out**.
//!
//! Jitter is suppressed with a band of half-width `band` around the line (fixed, or a fraction of
//! the person's height: [`Band`]): a person's side changes only once their foot point is clearly on
//! the other side, and the move from where they were last clearly on one side to where they are now
//! must pass through the segment itself (not the line's extension, except past an end drawn on the
//! picture's border). Touching the line and turning back counts nothing. A crossing then waits a
//! return window (a fraction of a second) before it counts, and a crossing back by the same
//! track within it undoes both ([`LineMemory::cross`]). Never logs or keeps a position beyond the
//! per-track memory the tracker drops with its track.

use std::time::Duration;

use super::occupancy::{bin_end, bin_of, Cadence};

/// The most lines one sensor can have (per-track memory is a fixed array).
pub use crate::config::MAX_LINES;
use crate::config::{CountingConfig, LineConfig};

/// Which side of a directed line a point is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// A counted crossing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// Left → right.
    In,
    /// Right → left.
    Out,
}

/// Half-width of the band around a line inside which nobody changes side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Band {
    /// The same for everyone, in normalised picture units.
    Fixed(f32),
    /// This fraction of each person's height: wider near the camera, where people are taller
    /// and their boxes wobble more, narrower far away, where a whole step is a few pixels.
    OfHeight(f32),
}

impl Band {
    /// The band of `[counting]`: `line_band_height` of each person's height when set, else
    /// `line_band`.
    pub fn from_config(c: &CountingConfig) -> Self {
        if c.line_band_height > 0.0 {
            Band::OfHeight(c.line_band_height)
        } else {
            Band::Fixed(c.line_band)
        }
    }

    /// The half-width for a person `height` tall (normalised).
    pub fn for_height(self, height: f32) -> f32 {
        match self {
            Band::Fixed(band) => band,
            Band::OfHeight(fraction) => fraction * height.max(0.0),
        }
    }
}

/// A directed segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub from: (f32, f32),
    pub to: (f32, f32),
}

impl From<&LineConfig> for Segment {
    fn from(l: &LineConfig) -> Self {
        Segment {
            from: (l.from[0], l.from[1]),
            to: (l.to[0], l.to[1]),
        }
    }
}

/// What one track remembers about one line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LineMemory {
    side: Option<Side>,
    /// Where the track was last clearly on `side`.
    at: (f32, f32),
    /// The track's last crossing and when it was made, waiting out the return window.
    waiting: Option<(Crossing, Duration)>,
    /// Crossings made before the track was confirmed, counted once it is.
    pending_in: u16,
    pending_out: u16,
}

impl LineMemory {
    /// Takes a crossing made at `t`. It waits `window` before it counts ([`Self::due`]): a
    /// crossing back by the same track within that time undoes both. A box that wobbles across
    /// the line, or a standing person's track that takes a passer-by's box for a frame or two,
    /// goes over and back within a fraction of a second; a person walking across does not.
    /// Returns the crossing that was waiting when its window has passed: it counts now.
    pub fn cross(&mut self, c: Crossing, t: Duration, window: Duration) -> Option<Crossing> {
        match self.waiting.take() {
            Some((_, made)) if t.saturating_sub(made) < window => None,
            earlier => {
                self.waiting = Some((c, t));
                earlier.map(|(c, _)| c)
            }
        }
    }

    /// The waiting crossing once `window` has passed since it was made, at `t`; at once when
    /// `t` is `None` (the track or the stream ended).
    pub fn due(&mut self, t: Option<Duration>, window: Duration) -> Option<Crossing> {
        let (c, made) = self.waiting?;
        if t.is_some_and(|t| t.saturating_sub(made) < window) {
            return None;
        }
        self.waiting = None;
        Some(c)
    }

    /// The crossings made while the track was tentative (pending); cleared by the call.
    pub fn take_pending(&mut self) -> (u16, u16) {
        let p = (self.pending_in, self.pending_out);
        self.pending_in = 0;
        self.pending_out = 0;
        p
    }

    /// A crossing made by a tentative track: pending until the track is confirmed (then it
    /// counts, [`LineMemory::take_pending`]) or retired (then it never does).
    pub fn pend(&mut self, c: Crossing) {
        match c {
            Crossing::In => self.pending_in = self.pending_in.saturating_add(1),
            Crossing::Out => self.pending_out = self.pending_out.saturating_add(1),
        }
    }
}

impl Segment {
    fn length(&self) -> f32 {
        let (dx, dy) = (self.to.0 - self.from.0, self.to.1 - self.from.1);
        (dx * dx + dy * dy).sqrt()
    }

    /// Signed distance of `p` from the line: positive on the left.
    pub fn signed_distance(&self, p: (f32, f32)) -> f32 {
        let (dx, dy) = (self.to.0 - self.from.0, self.to.1 - self.from.1);
        let cross = dx * (p.1 - self.from.1) - dy * (p.0 - self.from.0);
        cross / self.length().max(1e-9)
    }

    /// The side `p` is clearly on, or `None` within `band` of the line.
    pub fn side(&self, p: (f32, f32), band: f32) -> Option<Side> {
        let d = self.signed_distance(p);
        if d.abs() <= band || d == 0.0 {
            None
        } else if d > 0.0 {
            Some(Side::Left)
        } else {
            Some(Side::Right)
        }
    }

    /// Whether the move `a → b` meets the line within the segment (not its extension).
    ///
    /// An end drawn on the picture's border reaches past it: a user cannot draw beyond the
    /// picture, and a person whose feet are cut by the border (half a step out of view) still
    /// walks across a line drawn to that border.
    pub fn crossed_within(&self, a: (f32, f32), b: (f32, f32)) -> bool {
        let (da, db) = (self.signed_distance(a), self.signed_distance(b));
        if da == db {
            return false;
        }
        let k = da / (da - db);
        let hit = (a.0 + k * (b.0 - a.0), a.1 + k * (b.1 - a.1));
        let (dx, dy) = (self.to.0 - self.from.0, self.to.1 - self.from.1);
        let len2 = (dx * dx + dy * dy).max(1e-12);
        let u = ((hit.0 - self.from.0) * dx + (hit.1 - self.from.1) * dy) / len2;
        let on_border = |p: (f32, f32)| p.0 <= 0.0 || p.0 >= 1.0 || p.1 <= 0.0 || p.1 >= 1.0;
        (u >= 0.0 || on_border(self.from)) && (u <= 1.0 || on_border(self.to))
    }

    /// Folds a new foot point into a track's memory of this line; returns a crossing when the
    /// track has moved clearly from one side to the other through the segment.
    pub fn observe(&self, memory: &mut LineMemory, p: (f32, f32), band: f32) -> Option<Crossing> {
        let side = self.side(p, band)?;
        let previous = memory.side.replace(side);
        let from = std::mem::replace(&mut memory.at, p);
        match previous {
            Some(prev) if prev != side && self.crossed_within(from, p) => Some(match prev {
                Side::Left => Crossing::In,
                Side::Right => Crossing::Out,
            }),
            _ => None,
        }
    }
}

/// One report of a line: cumulative totals since `epoch`, and the crossings since the previous
/// report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineReport {
    pub in_total: u64,
    pub out_total: u64,
    pub in_delta: u64,
    pub out_delta: u64,
    /// Source time at which the totals were last reset (start, or the daily reset).
    pub epoch: Duration,
    pub window: Duration,
    /// Source time the report closes at.
    pub t: Duration,
}

/// Totals and the report schedule of one line.
#[derive(Debug, Clone)]
pub struct LineCounter {
    pub segment: Segment,
    cadence: Cadence,
    in_total: u64,
    out_total: u64,
    in_delta: u64,
    out_delta: u64,
    epoch: Duration,
    window_start: Option<Duration>,
    current_bin: Option<u64>,
    last_t: Duration,
}

impl LineCounter {
    pub fn new(segment: Segment, cadence: Cadence) -> Self {
        Self {
            segment,
            cadence,
            in_total: 0,
            out_total: 0,
            in_delta: 0,
            out_delta: 0,
            epoch: Duration::ZERO,
            window_start: None,
            current_bin: None,
            last_t: Duration::ZERO,
        }
    }

    pub fn totals(&self) -> (u64, u64) {
        (self.in_total, self.out_total)
    }

    /// Starts the totals again from zero at source time `t` (daily reset).
    pub fn reset(&mut self, t: Duration) {
        self.in_total = 0;
        self.out_total = 0;
        self.epoch = t;
    }

    /// Adds one frame's crossings at source time `t`; returns a report when one is due: on a
    /// crossing and at least every interval, or once per bin.
    pub fn observe(&mut self, ins: u64, outs: u64, t: Duration) -> Option<LineReport> {
        let mut report = None;
        let first = self.window_start.is_none();
        if first {
            self.window_start = Some(t);
        }
        if let Cadence::Bins { width, phase } = self.cadence {
            let bin = bin_of(t, width, phase);
            if let Some(current) = self.current_bin.filter(|&c| c != bin) {
                report = Some(self.close(bin_end(current, width, phase)));
            }
            self.current_bin = Some(bin);
        }
        self.add(ins, outs);
        self.last_t = t;
        if let Cadence::OnChange { interval } = self.cadence {
            let start = self.window_start.unwrap_or(t);
            if first || ins + outs > 0 || t.saturating_sub(start) >= interval {
                report = Some(self.close(t));
            }
        }
        report
    }

    /// Adds crossings to the totals and to the current window, without reporting: the next
    /// report carries them (at the end of the stream, the flush that follows).
    pub fn add(&mut self, ins: u64, outs: u64) {
        self.in_total += ins;
        self.out_total += outs;
        self.in_delta += ins;
        self.out_delta += outs;
    }

    /// Closes the current window at the last frame (or the current bin's end).
    pub fn flush(&mut self) -> Option<LineReport> {
        let start = self.window_start?;
        let t = match (self.cadence, self.current_bin) {
            (Cadence::Bins { width, phase }, Some(bin)) => bin_end(bin, width, phase),
            _ => self.last_t,
        };
        if t <= start && self.in_delta + self.out_delta == 0 {
            return None;
        }
        Some(self.close(t))
    }

    fn close(&mut self, t: Duration) -> LineReport {
        let start = self.window_start.unwrap_or(t);
        let r = LineReport {
            in_total: self.in_total,
            out_total: self.out_total,
            in_delta: self.in_delta,
            out_delta: self.out_delta,
            epoch: self.epoch,
            window: t.saturating_sub(start),
            t,
        };
        self.in_delta = 0;
        self.out_delta = 0;
        self.window_start = Some(t);
        r
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;

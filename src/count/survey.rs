//! The installer's survey, accumulated inside the counting stage: a coarse grid over the picture
//! of where people's feet go, where they stand still, which way they move, which cell borders
//! they cross, how tall they appear and how sure the detector is of them.
//!
//! The tracker's tracks feed it frame by frame ([`SurveyGrid::observe`]); what it remembers of
//! one person ([`SurveyMemo`]: the cells it visited, the cell it is in) lives in that person's
//! track and dies with it. Only [`SurveyGrid::report`] leaves this module, and it blanks every
//! cell that fewer than k distinct people visited: no position, box, trajectory or time of one
//! person ever leaves, only sums over at least k of them. Never logs anything.

use std::time::Duration;

use super::track::Track;
use crate::detect::Detection;

/// The largest grid: 48 × 36 cells (a person's visited cells are a fixed bit set in its track).
pub const MAX_COLUMNS: u16 = 48;
pub const MAX_ROWS: u16 = 36;
const MAX_CELLS: usize = MAX_COLUMNS as usize * MAX_ROWS as usize;
const WORDS: usize = MAX_CELLS.div_ceil(64);

/// A foot point changes cell only once it is this far (in cell sizes) past the cell's border:
/// a person standing on a border is not counted crossing it back and forth.
const CELL_HYSTERESIS: f32 = 0.25;

/// Standing still: the track's foot point moves slower than this many of the person's own
/// heights a second (walking people cover most of their height each second; a standing one's
/// filtered box drifts by a few percent).
const STANDING_HEIGHTS_PER_S: f32 = 0.25;

/// Apparent heights are kept per cell as a histogram of this many bins over 0..1 of the
/// picture's height (bins of 0.02), for the median.
const HEIGHT_BINS: usize = 50;

/// The longest time one frame adds to a cell's presence (a stalled input is not presence).
const MAX_FRAME_S: f32 = 1.0;

/// Cells visited, one bit each.
#[derive(Debug, Clone, Copy)]
struct CellSet([u64; WORDS]);

impl Default for CellSet {
    fn default() -> Self {
        Self([0; WORDS])
    }
}

impl CellSet {
    /// Adds `cell`; true when it was not there yet.
    fn insert(&mut self, cell: usize) -> bool {
        let (word, bit) = (cell / 64, 1u64 << (cell % 64));
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }
}

/// What the survey remembers of one tracked person: inside its track, dropped with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SurveyMemo {
    /// Cells its foot point was in (each person counts once per cell).
    feet: CellSet,
    /// Cells its box covered.
    body: CellSet,
    /// The cell its foot point is in now (with hysteresis).
    cell: Option<(u16, u16)>,
}

/// Sums over the people who passed through one cell.
#[derive(Debug, Clone)]
struct CellSums {
    /// Distinct people whose foot point was in the cell.
    people: u32,
    /// Distinct people whose box covered the cell.
    body_people: u32,
    /// Person-seconds of foot points in the cell, and of those standing still.
    presence_s: f64,
    dwell_s: f64,
    /// Time-weighted sums of the moving foot points' velocity (picture units a second) and speed.
    flow: (f64, f64),
    /// Time-weighted sums of the moving foot points' |velocity| along x and along y: which
    /// axis people move along, whichever way (two-way traffic cancels in `flow`, not here).
    axis: (f64, f64),
    speed: f64,
    moving_s: f64,
    /// Crossings of the cell's right border (east: going right, west: going left) and of its
    /// bottom border (south: going down, north: going up).
    east: u32,
    west: u32,
    south: u32,
    north: u32,
    heights: [u32; HEIGHT_BINS],
    score_sum: f64,
    scores: u32,
    /// People confirmed here (they came into view, or out from behind something), and last
    /// seen here (they left).
    entries: u32,
    exits: u32,
}

impl Default for CellSums {
    fn default() -> Self {
        Self {
            people: 0,
            body_people: 0,
            presence_s: 0.0,
            dwell_s: 0.0,
            flow: (0.0, 0.0),
            axis: (0.0, 0.0),
            speed: 0.0,
            moving_s: 0.0,
            east: 0,
            west: 0,
            south: 0,
            north: 0,
            heights: [0; HEIGHT_BINS],
            score_sum: 0.0,
            scores: 0,
            entries: 0,
            exits: 0,
        }
    }
}

/// The survey grid as it fills: private sums, read only through [`SurveyGrid::report`].
#[derive(Debug)]
pub struct SurveyGrid {
    columns: u16,
    rows: u16,
    cells: Vec<CellSums>,
    frames: u64,
    seconds: f64,
    last_t: Option<Duration>,
}

impl SurveyGrid {
    /// A grid of `columns` × `rows` cells (clamped to 1..=48 × 1..=36).
    pub fn new(columns: u16, rows: u16) -> Self {
        let (columns, rows) = (columns.clamp(1, MAX_COLUMNS), rows.clamp(1, MAX_ROWS));
        Self {
            columns,
            rows,
            cells: vec![CellSums::default(); usize::from(columns) * usize::from(rows)],
            frames: 0,
            seconds: 0.0,
            last_t: None,
        }
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    fn cell_of(&self, (x, y): (f32, f32)) -> (u16, u16) {
        let c = (x.clamp(0.0, 0.999_999) * f32::from(self.columns)) as u16;
        let r = (y.clamp(0.0, 0.999_999) * f32::from(self.rows)) as u16;
        (c.min(self.columns - 1), r.min(self.rows - 1))
    }

    fn at(&mut self, (c, r): (u16, u16)) -> &mut CellSums {
        let i = usize::from(r) * usize::from(self.columns) + usize::from(c);
        &mut self.cells[i]
    }

    /// The cell a foot point at `p` is in, staying in `current` until it is clearly past its
    /// border.
    fn settle(&self, current: Option<(u16, u16)>, p: (f32, f32)) -> (u16, u16) {
        let raw = self.cell_of(p);
        let Some((c, r)) = current else {
            return raw;
        };
        let keep = |cur: u16, new: u16, v: f32, n: u16| {
            let size = 1.0 / f32::from(n);
            let (lo, hi) = (f32::from(cur) * size, f32::from(cur + 1) * size);
            let margin = CELL_HYSTERESIS * size;
            if new != cur && v > lo - margin && v < hi + margin {
                cur
            } else {
                new
            }
        };
        (
            keep(c, raw.0, p.0, self.columns),
            keep(r, raw.1, p.1, self.rows),
        )
    }

    /// Folds in one frame: `detections` (their scores, by cell) and the tracks after the
    /// tracker's update at source time `t`. Only confirmed tracks measured this frame count.
    pub fn observe<M: AsMut<SurveyMemo>>(
        &mut self,
        tracks: &mut [Track<M>],
        detections: &[Detection],
        t: Duration,
    ) {
        let dt = self.last_t.map_or(0.0, |last| {
            t.saturating_sub(last).as_secs_f32().min(MAX_FRAME_S)
        });
        self.last_t = Some(t);
        self.frames += 1;
        self.seconds += f64::from(dt);
        for d in detections {
            let cell = self.cell_of(d.bbox.foot());
            let sums = self.at(cell);
            sums.score_sum += f64::from(d.score);
            sums.scores += 1;
        }
        for track in tracks.iter_mut() {
            if !track.updated() {
                continue;
            }
            let bbox = track.bbox();
            let foot = bbox.foot();
            let height = (bbox.ymax - bbox.ymin).clamp(0.0, 1.0);
            // Velocity of the foot point from the filter: the centre's, plus half the height's.
            let (vx, vy) = (track.axes[0].v, track.axes[1].v + track.axes[3].v / 2.0);
            let (confirmed, just_confirmed, strong) = (
                track.confirmed(),
                track.just_confirmed(),
                track.updated_strongly(),
            );
            if !confirmed {
                continue;
            }
            let memo = track.memo.as_mut();
            let cell = self.settle(memo.cell, foot);
            if just_confirmed {
                self.at(cell).entries += 1;
            }
            if let Some(previous) = memo.cell {
                self.crossed(memo, previous, cell);
            }
            memo.cell = Some(cell);
            if memo.feet.insert(self.index(cell)) {
                self.at(cell).people += 1;
            }
            self.cover(memo, &bbox);
            let sums = self.at(cell);
            sums.presence_s += f64::from(dt);
            let speed = vx.hypot(vy);
            if speed < STANDING_HEIGHTS_PER_S * height {
                sums.dwell_s += f64::from(dt);
            } else {
                sums.flow.0 += f64::from(vx * dt);
                sums.flow.1 += f64::from(vy * dt);
                sums.axis.0 += f64::from(vx.abs() * dt);
                sums.axis.1 += f64::from(vy.abs() * dt);
                sums.speed += f64::from(speed * dt);
                sums.moving_s += f64::from(dt);
            }
            if strong {
                let bin = ((height * HEIGHT_BINS as f32) as usize).min(HEIGHT_BINS - 1);
                sums.heights[bin] += 1;
            }
        }
    }

    fn index(&self, (c, r): (u16, u16)) -> usize {
        usize::from(r) * usize::from(self.columns) + usize::from(c)
    }

    /// Marks the cells `bbox` covers as seen by this person's body.
    fn cover(&mut self, memo: &mut SurveyMemo, bbox: &crate::detect::BBox) {
        let (c0, r0) = self.cell_of((bbox.xmin, bbox.ymin));
        let (c1, r1) = self.cell_of((bbox.xmax, bbox.ymax));
        for r in r0..=r1 {
            for c in c0..=c1 {
                if memo.body.insert(self.index((c, r))) {
                    self.at((c, r)).body_people += 1;
                }
            }
        }
    }

    /// A foot point moved from cell `from` to cell `to` (more than one cell apart at low frame
    /// rates): the cells on the way, a staircase along the straight line between them, are
    /// visited, and each border on the way is crossed once.
    fn crossed(&mut self, memo: &mut SurveyMemo, from: (u16, u16), to: (u16, u16)) {
        let (dc, dr) = (from.0.abs_diff(to.0), from.1.abs_diff(to.1));
        let (mut c, mut r) = from;
        let (mut done_c, mut done_r) = (0u16, 0u16);
        while (c, r) != to {
            // Step along the axis that is behind on the straight line.
            let column_next = dr == 0
                || (dc > 0
                    && (f32::from(done_c) + 0.5) / f32::from(dc)
                        < (f32::from(done_r) + 0.5) / f32::from(dr));
            if column_next {
                if to.0 > c {
                    self.at((c, r)).east += 1;
                    c += 1;
                } else {
                    self.at((c - 1, r)).west += 1;
                    c -= 1;
                }
                done_c += 1;
            } else {
                if to.1 > r {
                    self.at((c, r)).south += 1;
                    r += 1;
                } else {
                    self.at((c, r - 1)).north += 1;
                    r -= 1;
                }
                done_r += 1;
            }
            if (c, r) != to && memo.feet.insert(self.index((c, r))) {
                self.at((c, r)).people += 1;
            }
        }
    }

    /// A confirmed person's track ended: it left from the cell it was last in.
    pub fn ended(&mut self, memo: &SurveyMemo) {
        if let Some(cell) = memo.cell {
            self.at(cell).exits += 1;
        }
    }
}

#[path = "survey_report.rs"]
mod report;
pub use report::GridReport;

#[cfg(test)]
#[path = "survey_tests.rs"]
mod tests;

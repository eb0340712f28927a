//! What leaves the survey grid: [`GridReport`], every cell fewer than k distinct people visited
//! blanked (see the parent module).

use super::{CellSums, SurveyGrid, HEIGHT_BINS};

/// The grid as it may leave the counting stage: every per-cell array row-major (`columns` ×
/// `rows`, top row first), `None` where fewer than `k` distinct people were seen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GridReport {
    pub columns: u16,
    pub rows: u16,
    /// Cells with fewer distinct people than this are blank.
    pub k: u32,
    /// Distinct people whose foot point was in the cell.
    pub people: Vec<Option<u32>>,
    /// Whether at least k people's boxes covered the cell (a person standing below it reaches
    /// into it): false marks what the counting never needs to see.
    pub in_view: Vec<bool>,
    /// Person-seconds of foot points in the cell, and of those standing still.
    pub presence_s: Vec<Option<f64>>,
    pub dwell_s: Vec<Option<f64>>,
    /// Mean velocity of those moving through the cell, [x, y] in picture widths / heights a
    /// second (y down), and their mean speed.
    pub flow: Vec<Option<[f64; 2]>>,
    /// Mean |velocity| along x and along y of those moving through the cell, whichever way:
    /// the axis people move along.
    pub axis_speed: Vec<Option<[f64; 2]>>,
    pub speed: Vec<Option<f64>>,
    /// Crossings of the cell's right border going right (east) and left (west), and of its
    /// bottom border going down (south) and up (north).
    pub east: Vec<Option<u32>>,
    pub west: Vec<Option<u32>>,
    pub south: Vec<Option<u32>>,
    pub north: Vec<Option<u32>>,
    /// Median apparent height of the people standing in the cell, in picture heights.
    pub height_median: Vec<Option<f64>>,
    /// Mean detection score of the boxes standing in the cell.
    pub confidence_mean: Vec<Option<f64>>,
    /// People confirmed in the cell (came into view there) and last seen there (left).
    pub entries: Vec<Option<u32>>,
    pub exits: Vec<Option<u32>>,
}

impl GridReport {
    pub fn index(&self, column: usize, row: usize) -> usize {
        row * usize::from(self.columns) + column
    }

    /// Whether the cell holds values (k or more people).
    pub fn shown(&self, column: usize, row: usize) -> bool {
        self.people[self.index(column, row)].is_some()
    }
}

impl SurveyGrid {
    /// The grid with every cell that fewer than `k` distinct people visited blanked.
    pub fn report(&self, k: u32) -> GridReport {
        let k = k.max(1);
        let shown = |s: &CellSums| s.people >= k;
        let each = |f: &dyn Fn(&CellSums) -> Option<f64>| {
            self.cells
                .iter()
                .map(|s| if shown(s) { f(s).map(round3) } else { None })
                .collect::<Vec<_>>()
        };
        let count = |f: &dyn Fn(&CellSums) -> u32| {
            self.cells
                .iter()
                .map(|s| shown(s).then(|| f(s)))
                .collect::<Vec<_>>()
        };
        let mean = |sum: f64, n: f64| (n > 0.0).then(|| sum / n);
        // A pair of time-weighted sums over the moving, as their means.
        let per_moving_second = |pair: &dyn Fn(&CellSums) -> (f64, f64)| {
            self.cells
                .iter()
                .map(|s| {
                    let (x, y) = pair(s);
                    let (x, y) = (mean(x, s.moving_s)?, mean(y, s.moving_s)?);
                    shown(s).then(|| [round3(x), round3(y)])
                })
                .collect::<Vec<_>>()
        };
        GridReport {
            columns: self.columns,
            rows: self.rows,
            k,
            people: count(&|s| s.people),
            in_view: self.cells.iter().map(|s| s.body_people >= k).collect(),
            presence_s: each(&|s| Some(s.presence_s)),
            dwell_s: each(&|s| Some(s.dwell_s)),
            flow: per_moving_second(&|s| s.flow),
            axis_speed: per_moving_second(&|s| s.axis),
            speed: each(&|s| mean(s.speed, s.moving_s)),
            east: count(&|s| s.east),
            west: count(&|s| s.west),
            south: count(&|s| s.south),
            north: count(&|s| s.north),
            height_median: each(&|s| median_height(&s.heights)),
            confidence_mean: each(&|s| mean(s.score_sum, f64::from(s.scores))),
            entries: count(&|s| s.entries),
            exits: count(&|s| s.exits),
        }
    }
}

/// The median of a height histogram, at its bin's centre.
fn median_height(bins: &[u32; HEIGHT_BINS]) -> Option<f64> {
    let total: u64 = bins.iter().map(|&b| u64::from(b)).sum();
    if total == 0 {
        return None;
    }
    let mut seen = 0u64;
    for (i, &b) in bins.iter().enumerate() {
        seen += u64::from(b);
        if seen * 2 >= total {
            return Some((i as f64 + 0.5) / HEIGHT_BINS as f64);
        }
    }
    None
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

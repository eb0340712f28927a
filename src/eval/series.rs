//! What `eval --svg` draws: occupancy counted and true, frame by frame, and the first lines'
//! running in / out totals beside the truth's. Aggregates only, as everything `eval` reports.

use super::truth::Truth;
use crate::config::LineConfig;
use crate::count::Segment;

/// The picture shows at most this many lines (the first ones scored).
pub const PLOTTED_LINES: usize = 8;

/// One line's running totals, counted and true, after each frame.
#[derive(Debug, Clone, Default)]
pub struct LineSeries {
    pub line: [f32; 4],
    pub counted: Vec<(u64, u64)>,
    pub truth: Vec<(u64, u64)>,
}

/// The main run's counts over time beside the truth's.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Frames a second of the video (the x axis in seconds).
    pub fps: f64,
    pub counted: Vec<u32>,
    pub truth: Vec<u32>,
    pub lines: Vec<LineSeries>,
}

impl Series {
    /// Follows the first [`PLOTTED_LINES`] of `lines`.
    pub fn new(lines: &[LineConfig]) -> Self {
        Self {
            lines: lines
                .iter()
                .take(PLOTTED_LINES)
                .map(|l| LineSeries {
                    line: [l.from[0], l.from[1], l.to[0], l.to[1]],
                    ..LineSeries::default()
                })
                .collect(),
            ..Self::default()
        }
    }

    /// The lines' totals after one frame.
    pub fn record(&mut self, totals: impl Iterator<Item = (u64, u64)>) {
        for (series, total) in self.lines.iter_mut().zip(totals) {
            series.counted.push(total);
        }
    }

    /// The end of the run: the last totals (crossings settled when the clip ended) replace the
    /// last frame's, and the truth's are added.
    pub fn finish(
        &mut self,
        totals: impl Iterator<Item = (u64, u64)>,
        (counted, truth_people): (&[u32], &[u32]),
        truth: &Truth,
        (width, height): (u32, u32),
        fps: f64,
    ) {
        self.fps = fps;
        self.counted = counted.to_vec();
        self.truth = truth_people.to_vec();
        let frames = counted.len() as u64;
        for (series, total) in self.lines.iter_mut().zip(totals) {
            if let Some(last) = series.counted.last_mut() {
                *last = total;
            }
            let [x1, y1, x2, y2] = series.line;
            let segment = Segment {
                from: (x1, y1),
                to: (x2, y2),
            };
            series.truth = truth.crossings_by_frame(&segment, width, height, frames);
        }
    }
}

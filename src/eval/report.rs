//! What `eval` reports: occupancy and line scores against the truth, timing, and the scores of
//! each `--compare` file's counting of the same detections; as JSON or a short table.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct OccupancyScore {
    /// Mean absolute error, people per frame.
    pub mae: f64,
    /// Mean of (counted − truth): negative = undercounting.
    pub bias: f64,
    /// Fraction of frames counted exactly (0..1).
    pub exact: f64,
    /// Mean people per frame in the truth and in the counts.
    pub truth_mean: f64,
    pub counted_mean: f64,
}

impl OccupancyScore {
    /// The table's occupancy row.
    fn row(&self) -> String {
        format!(
            "occupancy   MAE {:.3}   bias {:+.3}   exact {:.1} %   (truth mean {:.2}, counted mean {:.2})\n",
            self.mae,
            self.bias,
            self.exact * 100.0,
            self.truth_mean,
            self.counted_mean
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LineScore {
    pub line: [f32; 4],
    #[serde(rename = "in")]
    pub ins: u64,
    pub out: u64,
    pub truth_in: u64,
    pub truth_out: u64,
    /// The truth's crossings under the counter's hysteresis band (`counting.line_band`, or
    /// `line_band_height`): the gap to `truth_in` / `truth_out` is jitter and lingering on the
    /// line, a sign of a line placed where people stand rather than where they pass.
    pub truth_in_beyond_band: u64,
    pub truth_out_beyond_band: u64,
}

impl LineScore {
    /// Of this line's two counts (in, out), how many are within ±10 % of the truth's crossings
    /// (exactly, in integers); a count whose truth is 0 must be 0.
    pub fn counts_within_10_percent(&self) -> u64 {
        [(self.ins, self.truth_in), (self.out, self.truth_out)]
            .iter()
            .filter(|&&(counted, truth)| counted.abs_diff(truth).saturating_mul(10) <= truth)
            .count() as u64
    }

    /// How far the two counts are from the truth, in crossings.
    pub fn off(&self) -> u64 {
        self.ins.abs_diff(self.truth_in) + self.out.abs_diff(self.truth_out)
    }
}

/// All lines at a glance: how many crossings were missed or extra, and how many of the counts
/// meet the ±10 % bar.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LinesSummary {
    /// The truth's crossings over all lines, in and out.
    pub truth_crossings: u64,
    /// Sum over every count of |counted − truth|.
    pub off: u64,
    /// In and out counts: two per line.
    pub counts: u64,
    /// Counts within ±10 % of the truth.
    pub counts_within_10_percent: u64,
}

impl LinesSummary {
    pub fn of(lines: &[LineScore]) -> Self {
        Self {
            truth_crossings: lines.iter().map(|l| l.truth_in + l.truth_out).sum(),
            off: lines.iter().map(LineScore::off).sum(),
            counts: 2 * lines.len() as u64,
            counts_within_10_percent: lines.iter().map(LineScore::counts_within_10_percent).sum(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub seconds: f64,
    pub fps: f64,
    /// Detector time per frame (preprocess + inference + decode + NMS), milliseconds.
    pub detect_ms_mean: f64,
    pub detect_ms_p50: f64,
    pub detect_ms_p95: f64,
}

/// What `eval` measured.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub frames: u64,
    pub model: String,
    pub family: String,
    pub runtime: String,
    pub occupancy_mode: String,
    pub occupancy: OccupancyScore,
    pub lines: Vec<LineScore>,
    /// Totals over `lines` (all zero without lines).
    pub lines_summary: LinesSummary,
    /// The detector's recall by people's apparent height, and the height it finds reliably from.
    pub detection_by_height: super::height_recall::DetectionByHeight,
    /// Occupancy and the first lines' totals over time, for `eval --svg` (not in the JSON).
    #[serde(skip)]
    pub series: super::series::Series,
    pub timing: Timing,
    /// The same detections counted again with each `--compare` file's counting settings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compared: Vec<ComparedReport>,
}

/// One `--compare` file's counts of the main run's detections: what its counting settings
/// change, with the detector held equal.
#[derive(Debug, Clone, Serialize)]
pub struct ComparedReport {
    /// The file, as given.
    pub config: String,
    pub occupancy_mode: String,
    pub occupancy: OccupancyScore,
    pub lines: Vec<LineScore>,
    pub lines_summary: LinesSummary,
}

pub(crate) fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

impl EvalReport {
    /// A short human-readable table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "model {} ({}, {}), occupancy from {}, {} frames\n\n{}",
            self.model,
            self.family,
            self.runtime,
            self.occupancy_mode,
            self.frames,
            self.occupancy.row()
        );
        s.push_str(&lines_table(&self.lines, &self.lines_summary));
        for c in &self.compared {
            s.push_str(&format!(
                "\ncompared with {} (occupancy from {})\n{}",
                c.config,
                c.occupancy_mode,
                c.occupancy.row()
            ));
            s.push_str(&lines_table(&c.lines, &c.lines_summary));
        }
        let t = &self.timing;
        s.push_str(&format!(
            "\ntiming      {:.1} s, {:.1} fps, detect {:.1} ms mean / {:.1} p50 / {:.1} p95\n",
            t.seconds, t.fps, t.detect_ms_mean, t.detect_ms_p50, t.detect_ms_p95
        ));
        s
    }
}

/// The lines' rows and their summary; nothing without lines.
fn lines_table(lines: &[LineScore], summary: &LinesSummary) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    s.push_str(
        "\nline (x1,y1 -> x2,y2)          in  truth_in   out  truth_out   \
                 (truth beyond the line band: in, out)\n",
    );
    for l in lines {
        s.push_str(&format!(
            "{:<30} {:>3} {:>9} {:>5} {:>10}   ({}, {})\n",
            format!(
                "{:.2},{:.2} -> {:.2},{:.2}",
                l.line[0], l.line[1], l.line[2], l.line[3]
            ),
            l.ins,
            l.truth_in,
            l.out,
            l.truth_out,
            l.truth_in_beyond_band,
            l.truth_out_beyond_band
        ));
    }
    let m = summary;
    s.push_str(&format!(
        "lines       {} of {} counts within ±10 % of the truth; {} off of {} true crossings\n",
        m.counts_within_10_percent, m.counts, m.off, m.truth_crossings
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(ins: u64, truth_in: u64, out: u64, truth_out: u64) -> LineScore {
        LineScore {
            line: [0.5, 0.0, 0.5, 1.0],
            ins,
            out,
            truth_in,
            truth_out,
            truth_in_beyond_band: truth_in,
            truth_out_beyond_band: truth_out,
        }
    }

    #[test]
    fn ten_percent_is_judged_per_count_and_a_zero_truth_wants_zero() {
        // 9 of 10 and 11 of 10 are on the bar; 8 of 10 is not; 1 of 0 is not.
        assert_eq!(score(9, 10, 11, 10).counts_within_10_percent(), 2);
        assert_eq!(score(8, 10, 10, 10).counts_within_10_percent(), 1);
        assert_eq!(score(0, 0, 1, 0).counts_within_10_percent(), 1);
        assert_eq!(score(8, 10, 1, 0).off(), 3);
        // 9 of 10, 13 of 12 and 7 of 7 are within; 5 of 4 is not.
        let lines = [score(9, 10, 13, 12), score(5, 4, 7, 7)];
        assert_eq!(
            LinesSummary::of(&lines),
            LinesSummary {
                truth_crossings: 33,
                off: 3,
                counts: 4,
                counts_within_10_percent: 3,
            }
        );
        assert_eq!(LinesSummary::of(&[]).counts, 0);
    }
}

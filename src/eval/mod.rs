//! `headcount eval`: the daemon's pipeline on a video, measured against MOT ground truth.
//!
//! Runs the same stages as `replay` (source → mask → detect → count) without publishing, and
//! compares the stable occupancy of every frame with the number of ground-truth people in it
//! (MAE, bias, exact frames), and each entrance line's in / out totals with the crossings of the
//! ground-truth tracks ([`truth`]). Reports numbers only: it never writes a frame, a box or a
//! track anywhere.

pub mod truth;

use crate::progress::{frames_in, Progress};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::config::{Config, LineConfig};
use crate::count::{Cadence, SceneCounter};
use crate::detect::{appearance, Detection};
use crate::privacy::mask::PixelMask;
use crate::service::{self, ServiceError};
use crate::source::FrameSource;
use crate::wall_clock::WallClock;
pub use truth::{Truth, TruthError};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Truth(#[from] TruthError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("--line {value:?}: {why}; expected X1,Y1,X2,Y2 with each coordinate 0..=1")]
    Line { value: String, why: String },
}

impl From<crate::detect::DetectError> for EvalError {
    fn from(e: crate::detect::DetectError) -> Self {
        EvalError::Service(e.into())
    }
}

/// Parses `X1,Y1,X2,Y2` (normalised) into a line named `line<n>`.
pub fn parse_line(value: &str, n: usize) -> Result<LineConfig, EvalError> {
    let bad = |why: &str| EvalError::Line {
        value: value.to_string(),
        why: why.to_string(),
    };
    let v: Vec<f32> = value
        .split(',')
        .map(|s| s.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("not four numbers"))?;
    let [x1, y1, x2, y2] = v[..] else {
        return Err(bad("not four numbers"));
    };
    if !v.iter().all(|c| (0.0..=1.0).contains(c)) {
        return Err(bad("a coordinate is outside 0..=1"));
    }
    if ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt() < 0.01 {
        return Err(bad("the two points are (nearly) the same"));
    }
    Ok(LineConfig {
        name: format!("line{n}"),
        from: [x1, y1],
        to: [x2, y2],
    })
}

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
    pub timing: Timing,
}

/// Runs the pipeline on `config.source.url` (as fast as possible, every frame) and scores it
/// against `truth`. `config.counting.lines` are the lines scored. `progress`: show frames done
/// on stderr when it is a terminal.
pub fn run(mut config: Config, truth: &Truth, progress: bool) -> Result<EvalReport, EvalError> {
    config.source.kind = crate::config::SourceKind::Video;
    config.source.realtime = false;
    config.source.fps = 0.0;
    let mut detector = service::open_counting_detector(&config)?;
    let mask = PixelMask::new(&config.privacy.masks, detector.input_geometry());
    let mut source = service::open_source(&config, detector.as_ref(), None)?;
    let progress = if progress {
        let duration = crate::source::clip_duration(
            &config.source.url,
            &config.source.ffmpeg,
            Duration::from_secs(config.source.open_timeout_s.into()),
            None,
        );
        Progress::new(frames_in(duration, source.fps()), true)
    } else {
        Progress::new(None, false)
    };
    let (width, height) = source.size();
    let picture = source.picture();
    let cadence = Cadence::OnChange {
        interval: Duration::from_secs(3600),
    };
    let mut scene = SceneCounter::new(
        config.counting.scene(cadence, config.detector.threshold),
        std::sync::Arc::new(WallClock::fixed(SystemTime::now())),
    );
    let mut detections: Vec<Detection> = Vec::with_capacity(64);
    let mut reports = Vec::with_capacity(16);
    let mut counted: Vec<u32> = Vec::new();
    let mut detect_ms: Vec<f64> = Vec::new();
    let started = Instant::now();
    while let Some(frame) = source.next_frame().map_err(ServiceError::from)? {
        mask.apply(frame.rgb);
        let t0 = Instant::now();
        detector.detect(&frame, &mut detections)?;
        detect_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        if scene.wants_appearance() {
            // Colours are read while the frame is still here; boxes are in frame coordinates.
            appearance::describe(&frame, &mut detections);
        }
        picture.unmap(&mut detections);
        scene.observe(&detections, frame.t, &mut reports);
        reports.clear();
        detections.clear();
        counted.push(scene.occupancy());
        progress.set(counted.len() as u64);
    }
    progress.finish();
    // Crossings still waiting out their return window at the end of the clip count too.
    scene.flush(&mut reports);
    let seconds = started.elapsed().as_secs_f64();
    let frames = counted.len() as u64;
    let expected = truth.people_per_frame(frames);
    let n = (frames as f64).max(1.0);
    let diffs = counted
        .iter()
        .zip(&expected)
        .map(|(&c, &t)| f64::from(c) - f64::from(t));
    let occupancy = OccupancyScore {
        mae: diffs.clone().map(f64::abs).sum::<f64>() / n,
        bias: diffs.clone().sum::<f64>() / n,
        exact: diffs.filter(|d| *d == 0.0).count() as f64 / n,
        truth_mean: expected.iter().map(|&t| f64::from(t)).sum::<f64>() / n,
        counted_mean: counted.iter().map(|&c| f64::from(c)).sum::<f64>() / n,
    };
    let lines = config
        .counting
        .lines
        .iter()
        .zip(scene.line_totals())
        .map(|(l, (ins, out))| {
            let (truth_in, truth_out) = truth.crossings(&l.segment(), width, height, frames);
            let (truth_in_beyond_band, truth_out_beyond_band) = truth.crossings_beyond(
                &l.segment(),
                width,
                height,
                frames,
                config.counting.line_band(),
            );
            LineScore {
                line: [l.from[0], l.from[1], l.to[0], l.to[1]],
                ins,
                out,
                truth_in,
                truth_out,
                truth_in_beyond_band,
                truth_out_beyond_band,
            }
        })
        .collect::<Vec<LineScore>>();
    let lines_summary = LinesSummary::of(&lines);
    detect_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        detect_ms
            .get(((detect_ms.len() as f64 - 1.0) * p).round().max(0.0) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let info = detector.info();
    Ok(EvalReport {
        frames,
        model: PathBuf::from(&info.model)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        family: info.family.to_string(),
        runtime: info.backend.to_string(),
        occupancy_mode: format!("{:?}", config.counting.occupancy).to_lowercase(),
        occupancy,
        lines,
        lines_summary,
        timing: Timing {
            seconds: round(seconds, 2),
            fps: round(frames as f64 / seconds.max(1e-9), 2),
            detect_ms_mean: round(detect_ms.iter().sum::<f64>() / n, 2),
            detect_ms_p50: round(pct(0.5), 2),
            detect_ms_p95: round(pct(0.95), 2),
        },
    })
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

impl EvalReport {
    /// A short human-readable table.
    pub fn table(&self) -> String {
        let o = &self.occupancy;
        let mut s = format!(
            "model {} ({}, {}), occupancy from {}, {} frames\n\n\
             occupancy   MAE {:.3}   bias {:+.3}   exact {:.1} %   (truth mean {:.2}, counted mean {:.2})\n",
            self.model,
            self.family,
            self.runtime,
            self.occupancy_mode,
            self.frames,
            o.mae,
            o.bias,
            o.exact * 100.0,
            o.truth_mean,
            o.counted_mean
        );
        if !self.lines.is_empty() {
            s.push_str(
                "\nline (x1,y1 -> x2,y2)          in  truth_in   out  truth_out   \
                 (truth beyond the line band: in, out)\n",
            );
            for l in &self.lines {
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
            let m = &self.lines_summary;
            s.push_str(&format!(
                "lines       {} of {} counts within ±10 % of the truth; {} off of {} true crossings\n",
                m.counts_within_10_percent, m.counts, m.off, m.truth_crossings
            ));
        }
        let t = &self.timing;
        s.push_str(&format!(
            "\ntiming      {:.1} s, {:.1} fps, detect {:.1} ms mean / {:.1} p50 / {:.1} p95\n",
            t.seconds, t.fps, t.detect_ms_mean, t.detect_ms_p50, t.detect_ms_p95
        ));
        s
    }
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

    #[test]
    fn line_arguments() {
        let l = parse_line("0.1, 0.5,0.9,0.5", 1).unwrap();
        assert_eq!(
            (l.name.as_str(), l.from, l.to),
            ("line1", [0.1, 0.5], [0.9, 0.5])
        );
        for bad in ["0.1,0.5,0.9", "a,b,c,d", "0,0,2,0", "0.5,0.5,0.5,0.5"] {
            let e = parse_line(bad, 1).unwrap_err().to_string();
            assert!(
                e.contains("--line") && e.contains("X1,Y1,X2,Y2"),
                "{bad}: {e}"
            );
        }
    }
}

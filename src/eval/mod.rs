//! `headcount eval`: the daemon's pipeline on a video, measured against MOT ground truth.
//!
//! Runs the same stages as `replay` (source → mask → detect → count) without publishing, and
//! compares the stable occupancy of every frame with the number of ground-truth people in it
//! (MAE, bias, exact frames), and each entrance line's in / out totals with the crossings of the
//! ground-truth tracks ([`truth`]). Reports numbers only: it never writes a frame, a box or a
//! track anywhere.
//!
//! `--compare FILE` counts the same detections again with another `[counting]` section, in the
//! same run: the detector (the expensive part) runs once for every setting compared.

pub mod compare;
pub mod height_recall;
pub mod picture;
pub mod report;
pub mod series;
pub mod truth;

use crate::progress::{frames_in, Progress};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::config::{Config, ConfigError, CountingConfig, LineConfig, OccupancyMode, MAX_LINES};
use crate::count::{Band, Cadence, Counting, Heuristics, SceneConfig, Segment};
use crate::detect::Detection;
use crate::pipeline::{FramePrep, FrameStep};
use crate::service::{self, ServiceError};
use crate::source::FrameSource;
use crate::wall_clock::WallClock;
pub use compare::{CompareError, Compared};
use report::round;
pub use report::{ComparedReport, EvalReport, LineScore, LinesSummary, OccupancyScore, Timing};
pub use truth::{Truth, TruthError};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Truth(#[from] TruthError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Compare(#[from] CompareError),
    #[error("--line {value:?}: {why}; expected X1,Y1,X2,Y2 with each coordinate 0..=1")]
    Line { value: String, why: String },
}

impl From<crate::detect::DetectError> for EvalError {
    fn from(e: crate::detect::DetectError) -> Self {
        EvalError::Service(e.into())
    }
}

/// The most lines one evaluation scores (the daemon's counting stage holds [`MAX_LINES`]).
pub const MAX_EVAL_LINES: usize = 256;

/// Validates `config` as eval runs it: up to [`MAX_EVAL_LINES`] lines, scored
/// [`MAX_LINES`] at a time, so `in_minus_out` occupancy (which sums over every line) only with
/// at most [`MAX_LINES`]; everything else as the daemon would.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let lines = config.counting.lines.len();
    let too_many = |allowed: String| ConfigError::Invalid {
        key: "counting.lines",
        value: lines.to_string(),
        allowed,
    };
    if lines > MAX_EVAL_LINES {
        return Err(too_many(format!(
            "allowed: at most {MAX_EVAL_LINES} lines in one evaluation"
        )));
    }
    if lines > MAX_LINES && config.counting.occupancy == OccupancyMode::InMinusOut {
        return Err(too_many(format!(
            "allowed: at most {MAX_LINES} lines with counting.occupancy = \"in_minus_out\" \
             (it sums over every line)"
        )));
    }
    let mut first = config.clone();
    first.counting.lines.truncate(MAX_LINES);
    first.validate()?;
    // Names and coordinates of the rest, as the daemon checks its own.
    for group in config.counting.lines.chunks(MAX_LINES).skip(1) {
        first.counting.lines = group.to_vec();
        first.validate()?;
    }
    Ok(())
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

/// Runs the pipeline on `config.source.url` (as fast as possible, every frame) and scores it
/// against `truth`. `config.counting.lines` are the lines scored. Each of `compared` counts the
/// same detections with its own counting settings (same lines). `progress`: show frames done on
/// stderr when it is a terminal.
pub fn run(
    mut config: Config,
    compared: &[Compared],
    truth: &Truth,
    progress: bool,
) -> Result<EvalReport, EvalError> {
    config.source.kind = crate::config::SourceKind::Video;
    config.source.realtime = false;
    config.source.fps = 0.0;
    // The detector keeps the faint boxes every compared setting wants (each counting stage
    // ignores those below its own `track_low_score`).
    let mut opened = config.clone();
    opened.counting.track_low_score = compared
        .iter()
        .map(|c| c.counting.track_low_score)
        .fold(config.counting.track_low_score, f32::min);
    let mut detector = service::open_counting_detector(&opened)?;
    let mut source = service::open_source(&config, detector.as_ref(), None, None)?;
    let progress = if progress {
        Progress::new(frames_in(source.duration(), source.fps()), true)
    } else {
        Progress::new(None, false)
    };
    let (width, height) = source.size();
    let threshold = config.detector.threshold;
    let mut main = Scored::new(&config.counting, Heuristics::ALL, threshold);
    let mut others: Vec<Scored> = compared
        .iter()
        .map(|c| Scored::new(&c.counting, c.heuristics, threshold))
        .collect();
    let appearance = main.wants_appearance() || others.iter().any(Scored::wants_appearance);
    let prep = FramePrep::from_config(&config, detector.input_geometry());
    let picture = source.picture();
    let mut step = FrameStep::new(&prep, detector.as_mut(), picture, appearance);
    let mut detect_ms: Vec<f64> = Vec::new();
    let mut recall = height_recall::HeightRecall::new(truth, (width, height));
    let mut series = series::Series::new(&config.counting.lines);
    let mut frames = 0u64;
    let started = Instant::now();
    while let Some(frame) = source.next_frame().map_err(ServiceError::from)? {
        let t = frame.t;
        let detected = step.detect(frame)?;
        detect_ms.push(detected.took.as_secs_f64() * 1000.0);
        recall.observe(frames, detected.detections, threshold);
        for s in std::iter::once(&mut main).chain(others.iter_mut()) {
            s.step(detected.detections, t);
        }
        series.record(main.totals());
        frames += 1;
        progress.set(frames);
    }
    progress.finish();
    let seconds = started.elapsed().as_secs_f64();
    let expected = truth.people_per_frame(frames);
    // Crossings still waiting out their return window at the end of the clip count too.
    for s in std::iter::once(&mut main).chain(others.iter_mut()) {
        s.finish();
    }
    let score = |s: Scored, counting: &CountingConfig| {
        let lines = s.line_scores(counting, truth, (width, height), frames);
        (
            format!("{:?}", counting.occupancy).to_lowercase(),
            occupancy_score(&s.counted, &expected),
            LinesSummary::of(&lines),
            lines,
        )
    };
    series.finish(
        main.totals(),
        (&main.counted, &expected),
        truth,
        (width, height),
        source.fps(),
    );
    let (occupancy_mode, occupancy, lines_summary, lines) = score(main, &config.counting);
    let compared = others
        .into_iter()
        .zip(compared)
        .map(|(s, c)| {
            let (occupancy_mode, occupancy, lines_summary, lines) = score(s, &c.counting);
            ComparedReport {
                config: c.name.clone(),
                occupancy_mode,
                occupancy,
                lines,
                lines_summary,
            }
        })
        .collect();
    detect_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        detect_ms
            .get(((detect_ms.len() as f64 - 1.0) * p).round().max(0.0) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let n = (frames as f64).max(1.0);
    let info = detector.info();
    Ok(EvalReport {
        frames,
        model: PathBuf::from(&info.model)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        family: info.family.to_string(),
        runtime: info.backend.to_string(),
        occupancy_mode,
        occupancy,
        lines,
        lines_summary,
        detection_by_height: recall.report(),
        series,
        timing: Timing {
            seconds: round(seconds, 2),
            fps: round(frames as f64 / seconds.max(1e-9), 2),
            detect_ms_mean: round(detect_ms.iter().sum::<f64>() / n, 2),
            detect_ms_p50: round(pct(0.5), 2),
            detect_ms_p95: round(pct(0.95), 2),
        },
        compared,
    })
}

/// One counting setting's scene counters and the occupancy it gave each frame. A counting stage
/// holds at most [`MAX_LINES`] lines; eval scores more (lines never change the tracks, so each
/// group of lines gets a counter of its own, and the first gives the occupancy).
struct Scored {
    scenes: Vec<Counting>,
    counted: Vec<u32>,
}

impl Scored {
    fn new(counting: &CountingConfig, heuristics: Heuristics, threshold: f32) -> Self {
        let cadence = Cadence::OnChange {
            interval: Duration::from_secs(3600),
        };
        let clock = std::sync::Arc::new(WallClock::fixed(SystemTime::now()));
        let groups: Vec<&[LineConfig]> = if counting.lines.is_empty() {
            vec![&[]]
        } else {
            counting.lines.chunks(MAX_LINES).collect()
        };
        let scenes = groups
            .into_iter()
            .map(|lines| {
                let group = CountingConfig {
                    lines: lines.to_vec(),
                    ..counting.clone()
                };
                let mut scene = SceneConfig::from_config(&group, cadence, threshold);
                scene.tracker.heuristics = heuristics;
                Counting::new(scene, clock.clone())
            })
            .collect();
        Self {
            scenes,
            counted: Vec::new(),
        }
    }

    fn wants_appearance(&self) -> bool {
        self.scenes.iter().any(Counting::wants_appearance)
    }

    /// One frame's detections into every group's counting stage (their reports are not
    /// needed: the totals are read at the end).
    fn step(&mut self, detections: &[Detection], t: Duration) {
        for scene in &mut self.scenes {
            scene.step(detections, t);
        }
        self.counted
            .push(self.scenes.first().map_or(0, Counting::occupancy));
    }

    /// Every line's (in, out) so far, in configuration order.
    fn totals(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.scenes.iter().flat_map(Counting::line_totals)
    }

    /// Counts the crossings still waiting out their return window at the end of the clip.
    fn finish(&mut self) {
        for scene in &mut self.scenes {
            scene.finish();
        }
    }

    /// Each line's counts beside the truth's crossings.
    fn line_scores(
        &self,
        counting: &CountingConfig,
        truth: &Truth,
        (width, height): (u32, u32),
        frames: u64,
    ) -> Vec<LineScore> {
        counting
            .lines
            .iter()
            .zip(self.scenes.iter().flat_map(Counting::line_totals))
            .map(|(l, (ins, out))| {
                let segment = Segment::from(l);
                let (truth_in, truth_out) = truth.crossings(&segment, width, height, frames);
                let (truth_in_beyond_band, truth_out_beyond_band) = truth.crossings_beyond(
                    &segment,
                    width,
                    height,
                    frames,
                    Band::from_config(counting),
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
            .collect()
    }
}

/// MAE, bias and exact frames of `counted` against `expected`, frame by frame.
fn occupancy_score(counted: &[u32], expected: &[u32]) -> OccupancyScore {
    let n = (counted.len() as f64).max(1.0);
    let diffs = counted
        .iter()
        .zip(expected)
        .map(|(&c, &t)| f64::from(c) - f64::from(t));
    OccupancyScore {
        mae: diffs.clone().map(f64::abs).sum::<f64>() / n,
        bias: diffs.clone().sum::<f64>() / n,
        exact: diffs.filter(|d| *d == 0.0).count() as f64 / n,
        truth_mean: expected.iter().map(|&t| f64::from(t)).sum::<f64>() / n,
        counted_mean: counted.iter().map(|&c| f64::from(c)).sum::<f64>() / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

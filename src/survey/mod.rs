//! `headcount survey`: the installer's survey. Runs the daemon's own per-frame step (masks,
//! detector, tiles) and counting stage (tracker, the config's lines and zones) on a camera, a
//! stream or a recording, with the counting stage's survey grid on ([`crate::count::survey`]),
//! and turns the grid into suggestions ([`suggest`]) and pictures ([`picture`], [`terminal`]).
//!
//! Only the grid leaves the counting stage, with every cell fewer than k distinct people
//! visited blanked (k = 5, or `privacy.min_count` when higher); every suggestion is made from
//! that grid alone. Nothing here writes a frame, a box, a track or a time of one person; the only
//! file written is the SVG the installer asks for.

pub mod picture;
pub mod suggest;
pub mod terminal;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::{Config, SourceKind};
use crate::count::survey::{GridReport, SurveyGrid};
use crate::count::{Cadence, CountReport, Counting};
use crate::detect::Detector;
use crate::health::HealthMonitor;
use crate::pipeline::{FramePrep, FrameStep};
use crate::privacy::safeguards::band;
use crate::progress::{frames_in, Progress};
use crate::publish::schema::Banded;
use crate::service::{self, ServiceError};
use crate::shutdown::Shutdown;
use crate::source::{FrameSource, LatestFrame};
use crate::wall_clock::WallClock;
pub use suggest::{SuggestedLine, Suggestions};

/// The grid's default size: 24 columns × 18 rows.
pub const DEFAULT_COLUMNS: u16 = 24;
pub const DEFAULT_ROWS: u16 = 18;
/// The fewest distinct people a cell must have seen to be shown (raised by `privacy.min_count`).
pub const DEFAULT_K: u32 = 5;
/// How long a camera or a stream is surveyed when `--duration` is not given.
pub const DEFAULT_LIVE_DURATION: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::detect::DetectError> for SurveyError {
    fn from(e: crate::detect::DetectError) -> Self {
        SurveyError::Service(e.into())
    }
}

impl From<crate::source::SourceError> for SurveyError {
    fn from(e: crate::source::SourceError) -> Self {
        SurveyError::Service(e.into())
    }
}

/// How to survey.
#[derive(Debug, Clone)]
pub struct SurveyOptions {
    /// Stop after this much source time; `None`: a file to its end, a camera or stream for
    /// [`DEFAULT_LIVE_DURATION`].
    pub duration: Option<Duration>,
    pub columns: u16,
    pub rows: u16,
    /// Show frames done on stderr (only on a terminal).
    pub progress: bool,
}

impl Default for SurveyOptions {
    fn default() -> Self {
        Self {
            duration: None,
            columns: DEFAULT_COLUMNS,
            rows: DEFAULT_ROWS,
            progress: false,
        }
    }
}

/// What the detector was, and what a frame cost it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DetectorSummary {
    pub family: String,
    pub runtime: String,
    pub tile_columns: u32,
    pub tile_rows: u32,
    /// Mean time of one frame in the detector (all its tiles), milliseconds.
    pub ms_per_frame: f64,
}

/// One of the config's lines over the survey: its totals, k-banded as the sensor publishes
/// counts (1..k−1 become `"<k"`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LineTotals {
    pub name: String,
    #[serde(rename = "in")]
    pub ins: Banded<u32>,
    pub out: Banded<u32>,
}

/// One of the config's zones over the survey: the most people counted in it at once, k-banded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ZoneTotals {
    pub name: String,
    pub max: Banded<u32>,
}

/// The survey: `survey --json` prints it (shared/DESIGN.md: at least `frames`, `grid`,
/// `suggested_lines` and `suggested_config`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SurveyReport {
    /// The source, without credentials.
    pub source: String,
    pub frames: u64,
    /// Source time covered.
    pub seconds: f64,
    /// The picture's size in pixels (its aspect decides the tiles' shape).
    pub picture: [u32; 2],
    pub detector: DetectorSummary,
    pub grid: GridReport,
    /// The config's own lines and zones, as counted over the survey.
    pub lines: Vec<LineTotals>,
    pub zones: Vec<ZoneTotals>,
    #[serde(flatten)]
    pub suggestions: Suggestions,
    /// The config's own geometry, for the picture (the JSON has it in `suggested_config`).
    #[serde(skip)]
    pub configured: Configured,
}

/// The lines, zones and masks the config had.
#[derive(Debug, Clone, Default)]
pub struct Configured {
    pub lines: Vec<crate::config::LineConfig>,
    pub zones: Vec<crate::config::ZoneConfig>,
    pub masks: Vec<crate::config::MaskConfig>,
}

/// Surveys `config.source` (the survey's SOURCE already in it) until it ends, the duration
/// passes, or `stop` is triggered.
pub fn run(
    config: &Config,
    options: &SurveyOptions,
    stop: &Shutdown,
) -> Result<SurveyReport, SurveyError> {
    let live = config.source.kind == SourceKind::Camera || is_stream(&config.source.url);
    let limit = options.duration.or(live.then_some(DEFAULT_LIVE_DURATION));
    let mut detector = service::open_counting_detector(config)?;
    let health = HealthMonitor::new();
    let (mut source, picture_size, duration) =
        open(config, detector.as_ref(), &health, stop, live)?;
    let progress = match (options.progress, limit) {
        (false, _) => Progress::new(None, false),
        (true, Some(limit)) => Progress::new(frames_in(Some(limit), source.fps()), true),
        (true, None) => Progress::new(frames_in(duration, source.fps()), true),
    };
    let clock = Arc::new(WallClock::fixed(SystemTime::now()));
    let cadence = Cadence::OnChange {
        interval: Duration::from_secs(3600),
    };
    let mut counting =
        Counting::from_config(&config.counting, cadence, config.detector.threshold, clock)
            .with_survey(options.columns, options.rows);
    let info = detector.info().clone();
    let prep = FramePrep::from_config(config, detector.input_geometry());
    let mut step = FrameStep::new(
        &prep,
        detector.as_mut(),
        source.picture(),
        counting.wants_appearance(),
    );
    let mut zone_max = vec![0u32; config.counting.zones.len()];
    let mut note = |reports: &[CountReport]| {
        for r in reports {
            if let CountReport::Zone(i, z) = r {
                if let Some(m) = zone_max.get_mut(*i) {
                    *m = (*m).max(z.max);
                }
            }
        }
    };
    let (mut frames, mut detect_s, mut first_t) = (0u64, 0.0f64, None);
    while !stop.is_triggered() {
        let Some(frame) = source.next_frame()? else {
            break;
        };
        let t = frame.t;
        let start = *first_t.get_or_insert(t);
        if limit.is_some_and(|limit| t.saturating_sub(start) >= limit) {
            break;
        }
        let detected = step.detect(frame)?;
        detect_s += detected.took.as_secs_f64();
        note(counting.step(detected.detections, t));
        frames += 1;
        progress.set(frames);
    }
    progress.finish();
    note(counting.finish());
    let k = DEFAULT_K.max(config.privacy.min_count);
    let lines: Vec<LineTotals> = config
        .counting
        .lines
        .iter()
        .zip(counting.line_totals())
        .map(|(l, (ins, out))| LineTotals {
            name: l.name.clone(),
            ins: band(saturate(ins), k),
            out: band(saturate(out), k),
        })
        .collect();
    let zones = config
        .counting
        .zones
        .iter()
        .zip(&zone_max)
        .map(|(z, &max)| ZoneTotals {
            name: z.name.clone(),
            max: band(max, k),
        })
        .collect::<Vec<_>>();
    let (grid, seconds) = match counting.survey(k) {
        Some((grid, _, seconds)) => (grid, seconds),
        None => (
            SurveyGrid::new(options.columns, options.rows).report(k),
            0.0,
        ),
    };
    let detector = DetectorSummary {
        family: info.family.to_string(),
        runtime: info.backend.to_string(),
        tile_columns: config.detector.tile_columns,
        tile_rows: config.detector.tile_rows,
        ms_per_frame: if frames > 0 {
            (detect_s * 1000.0 / frames as f64 * 10.0).round() / 10.0
        } else {
            0.0
        },
    };
    let context = suggest::Context {
        config,
        picture: picture_size,
        detector: &detector,
        lines: &lines,
        zones: &zones,
    };
    let suggestions = suggest::suggest(&grid, &context);
    Ok(SurveyReport {
        source: crate::redact::redact_url(&source_name(config)),
        frames,
        seconds: (seconds * 10.0).round() / 10.0,
        picture: [picture_size.0, picture_size.1],
        detector,
        grid,
        lines,
        zones,
        suggestions,
        configured: Configured {
            lines: config.counting.lines.clone(),
            zones: config.counting.zones.clone(),
            masks: config.privacy.masks.clone(),
        },
    })
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn source_name(config: &Config) -> String {
    match config.source.kind {
        SourceKind::Camera => config.source.device.clone(),
        SourceKind::Video => config.source.url.clone(),
    }
}

/// A URL ffmpeg reads as a live stream (`rtsp://`, `http://`, …), not a file.
fn is_stream(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| scheme != "file")
}

/// An opened source, the picture's size in pixels and a file's length.
type Opened = (Box<dyn FrameSource>, (u32, u32), Option<Duration>);

/// The source, newest frame first when live, and the picture's size in pixels.
fn open(
    config: &Config,
    detector: &dyn Detector,
    health: &HealthMonitor,
    stop: &Shutdown,
    live: bool,
) -> Result<Opened, SurveyError> {
    if config.source.kind == SourceKind::Camera {
        let source = service::open_camera(config, detector, health, stop)?;
        return Ok((source, (config.source.width, config.source.height), None));
    }
    let source = service::open_source(config, detector, Some(stop), None)?;
    let (size, duration) = (source.size(), source.duration());
    Ok(if live {
        (
            Box::new(LatestFrame::spawn(source, detector.input_geometry())?),
            size,
            duration,
        )
    } else {
        (Box::new(source), size, duration)
    })
}

//! The subcommands that measure: `eval` (a video against ground truth) and `survey` (the
//! installer's survey), with the pictures they draw on request, and `simulate` (a broker
//! against a fleet of simulated sensors).

use std::path::PathBuf;

use anyhow::Context;

use super::{load_config, print_stdout, Failure};
use crate::config::Config;
use crate::eval;
use crate::shutdown::Shutdown;

/// How a measuring command reports: JSON or text on stdout, a picture on request, progress on a
/// terminal.
pub(super) struct Output {
    pub json: bool,
    pub svg: Option<PathBuf>,
    pub progress: bool,
}

pub(super) fn evaluate(
    video: String,
    truth: PathBuf,
    lines: Vec<String>,
    compare: &[PathBuf],
    config: Option<PathBuf>,
    out: Output,
) -> Result<(), Failure> {
    let mut config = match config {
        Some(path) => load_config(&path)?,
        None => Config::default(),
    };
    config.source.url = video;
    if !lines.is_empty() {
        config.counting.lines = lines
            .iter()
            .enumerate()
            .map(|(i, l)| eval::parse_line(l, i + 1))
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::Usage(e.into()))?;
    }
    eval::validate(&config).map_err(|e| Failure::Usage(e.into()))?;
    let compared = compare
        .iter()
        .map(|path| eval::Compared::load(path, &config))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Usage(e.into()))?;
    let truth = eval::Truth::load(&truth).map_err(|e| Failure::Usage(e.into()))?;
    let picture = out.svg.as_deref().map(create_picture).transpose()?;
    deliver(
        eval::run(config, &compared, &truth, out.progress),
        picture,
        |r| eval::picture::svg(r).map_err(Into::into),
        out.json,
        eval::EvalReport::table,
    )
}

pub(super) fn survey(
    source: String,
    config: Option<PathBuf>,
    duration: Option<f64>,
    grid: &str,
    out: Output,
) -> Result<(), Failure> {
    let mut config = match config {
        Some(path) => load_config(&path)?,
        None => Config::default(),
    };
    if source.starts_with("/dev/") {
        config.source.kind = crate::config::SourceKind::Camera;
        config.source.device = source;
    } else {
        config.source.kind = crate::config::SourceKind::Video;
        config.source.url = source;
    }
    config.source.realtime = false;
    let duration = duration_option(duration)?;
    let (columns, rows) = grid
        .split_once(['x', 'X'])
        .and_then(|(c, r)| Some((c.trim().parse::<u16>().ok()?, r.trim().parse::<u16>().ok()?)))
        .filter(|&(c, r)| {
            (1..=crate::count::survey::MAX_COLUMNS).contains(&c)
                && (1..=crate::count::survey::MAX_ROWS).contains(&r)
        })
        .ok_or_else(|| {
            Failure::Usage(anyhow::anyhow!(
                "--grid {grid:?}: allowed: COLUMNSxROWS, 1..=48 columns and 1..=36 rows (e.g. 24x18)"
            ))
        })?;
    let options = crate::survey::SurveyOptions {
        duration,
        columns,
        rows,
        progress: out.progress,
    };
    let picture = out.svg.as_deref().map(create_picture).transpose()?;
    // Ctrl-C ends a camera's survey early, with everything seen so far.
    let stop = Shutdown::new();
    stop.install_signal_flag();
    deliver(
        crate::survey::run(&config, &options, &stop),
        picture,
        |r| crate::survey::picture::svg(r).map_err(Into::into),
        out.json,
        |r| {
            let colour = std::io::IsTerminal::is_terminal(&std::io::stdout());
            crate::survey::terminal::text(r, colour)
        },
    )
}

/// The end every measuring command shares: the picture drawn into its file (or removed when the
/// work failed), then the report on stdout as JSON or as text.
fn deliver<R: serde::Serialize, E: Into<anyhow::Error>>(
    outcome: Result<R, E>,
    picture: Option<(PathBuf, std::fs::File)>,
    draw: impl FnOnce(&R) -> anyhow::Result<String>,
    json: bool,
    text: impl FnOnce(&R) -> String,
) -> Result<(), Failure> {
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            drop_picture(picture);
            return Err(Failure::Runtime(e.into()));
        }
    };
    if let Some(picture) = picture {
        write_picture(picture, &draw(&report).map_err(Failure::Runtime)?)?;
    }
    if json {
        let rendered = serde_json::to_string(&report)
            .context("cannot render the report")
            .map_err(Failure::Runtime)?;
        print_stdout(&format!("{rendered}\n"))
    } else {
        print_stdout(&text(&report))
    }
}

/// A picture's file, made before the work (a path that cannot be written is said before the
/// minutes of a survey or an evaluation, not after them).
fn create_picture(path: &std::path::Path) -> Result<(PathBuf, std::fs::File), Failure> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(Failure::Runtime)?;
    Ok((path.to_path_buf(), file))
}

/// The work failed: no empty picture is left behind.
fn drop_picture(picture: Option<(PathBuf, std::fs::File)>) {
    if let Some((path, file)) = picture {
        drop(file);
        let _ = std::fs::remove_file(path);
    }
}

fn write_picture((path, mut file): (PathBuf, std::fs::File), text: &str) -> Result<(), Failure> {
    use std::io::Write;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(Failure::Runtime)
}

/// `--duration SECONDS` (survey, simulate): more than 0, at most a week.
pub(super) fn duration_option(
    duration: Option<f64>,
) -> Result<Option<std::time::Duration>, Failure> {
    match duration {
        Some(s) if s.is_finite() && s > 0.0 && s <= 7.0 * 86400.0 => {
            Ok(Some(std::time::Duration::from_secs_f64(s)))
        }
        Some(s) => Err(Failure::Usage(anyhow::anyhow!(
            "--duration {s}: allowed: more than 0 and at most 604800 seconds (a week)"
        ))),
        None => Ok(None),
    }
}

/// `headcount simulate`: the fleet until `--duration` or a signal, then its summary.
pub(super) fn simulate(
    sensors: u32,
    path: &std::path::Path,
    duration: Option<f64>,
    json: bool,
) -> Result<(), Failure> {
    use crate::simulate::{SimulateError, SimulateOptions};
    let config = load_config(path)?;
    let options = SimulateOptions {
        sensors,
        duration: duration_option(duration)?,
    };
    let summary = super::on_runtime(|shutdown| {
        let (config, options) = (&config, &options);
        async move { crate::simulate::run(config, options, shutdown).await }
    })?;
    match summary {
        Ok(s) => {
            print_stdout(&if json { s.json_lines() } else { s.text() })?;
            // The summary says what happened; the exit code says whether the brokers took it all.
            if s.reports_unsent > 0 || s.never_connected > 0 {
                return Err(Failure::Runtime(anyhow::anyhow!(
                    "{} of {} reports were still unacknowledged at the end, {} of {} sensors \
                     never connected (broker {})",
                    s.reports_unsent,
                    s.reports_made,
                    s.never_connected,
                    s.sensors,
                    crate::redact::redact_url(&config.mqtt.url)
                )));
            }
            Ok(())
        }
        Err(
            e @ (SimulateError::Sensors(_) | SimulateError::NoBroker | SimulateError::Config(_)),
        ) => Err(Failure::Usage(e.into())),
        Err(e) => Err(Failure::Runtime(e.into())),
    }
}

//! Command line: subcommands, logging set-up and exit codes (0 success, 2 usage or config error,
//! 1 runtime failure). The binary's edge: errors become one line on stderr, never a panic.
//!
//! Must never print secrets: `check-config` prints the effective config, which holds none today;
//! credentials added later are masked there.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::privacy::sandbox;
use crate::service::{self, ServiceOptions};
use crate::shutdown::Shutdown;

#[derive(Debug, Parser)]
#[command(
    name = "headcount",
    version,
    about = "Counts people from a camera or video; publishes only aggregate counts over MQTT"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon on the source named in the config.
    Run {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Run the same pipeline on a video file or stream URL; prints one JSON line per published
    /// message, and publishes too when the config names a broker.
    Replay {
        /// Video file or stream URL (anything ffmpeg reads).
        #[arg(value_name = "VIDEO")]
        video: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Pace the file at its own frame rate instead of as fast as possible.
        #[arg(long)]
        realtime: bool,
        /// Print JSON lines (the default; kept for the CLI contract).
        #[arg(long)]
        json: bool,
        /// No progress line on stderr (shown only on a terminal anyway).
        #[arg(long)]
        quiet: bool,
    },
    /// Measure the pipeline against MOT ground truth: occupancy MAE / bias / exact frames,
    /// entrance-line in / out vs the truth tracks' crossings, and timing.
    Eval {
        #[arg(value_name = "VIDEO")]
        video: String,
        /// MOT ground truth (`frame,id,left,top,width,height,…`; frame 1 = first video frame).
        #[arg(long, value_name = "GT.txt")]
        truth: PathBuf,
        /// An entrance line X1,Y1,X2,Y2 (normalised; "in" = left to right of the directed
        /// segment, image coordinates). Repeatable; replaces the config's lines.
        #[arg(long = "line", value_name = "X1,Y1,X2,Y2")]
        lines: Vec<String>,
        /// Print one JSON document instead of the table.
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Count the same detections again with this file's `[counting]` section (it may hold
        /// nothing else) and report it beside the main run ("compared" in the JSON).
        /// Repeatable: the detector runs once, however many settings are compared.
        #[arg(long = "compare", value_name = "FILE")]
        compare: Vec<PathBuf>,
        /// Also draw occupancy counted vs truth over time, and each line's running in / out
        /// totals vs the truth's (the first 8 lines), into this SVG file.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// No progress line on stderr (shown only on a terminal anyway).
        #[arg(long)]
        quiet: bool,
    },
    /// The installer's survey: where people walk, stand and cross, how tall they look, and the
    /// lines, tiles, masks and zones to configure — from a grid of aggregates only.
    Survey {
        /// A camera (`/dev/video0`, `/dev/v4l/by-id/…`), a stream URL or a recording.
        #[arg(value_name = "SOURCE")]
        source: String,
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Stop after this many seconds of video (default: a recording to its end, a camera or
        /// a stream for 600).
        #[arg(long, value_name = "SECONDS")]
        duration: Option<f64>,
        /// The grid, COLUMNSxROWS (each 1..=48 x 1..=36).
        #[arg(long, value_name = "COLUMNSxROWS", default_value = "24x18")]
        grid: String,
        /// Print one JSON document instead of the text report.
        #[arg(long)]
        json: bool,
        /// Also draw the survey into this SVG file.
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// No progress line on stderr (shown only on a terminal anyway).
        #[arg(long)]
        quiet: bool,
    },
    /// N virtual sensors in one process, each the real publisher fed by synthetic counts
    /// (no camera, no model): will the broker carry the building? Ends with one summary.
    Simulate {
        /// How many sensors (named sim-0001, sim-0002, …).
        #[arg(long, value_name = "N")]
        sensors: u32,
        /// The sensors' config: its [mqtt] section (one broker or a cluster's nodes),
        /// [sensor] site, [privacy] and [counting] lines and zones are used.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Stop after this many seconds (default: at SIGINT / SIGTERM).
        #[arg(long, value_name = "SECONDS")]
        duration: Option<f64>,
        /// One JSON line per sensor, then one summary line.
        #[arg(long)]
        json: bool,
    },
    /// The site service beside the broker: subscribes to the site's sensors and publishes the
    /// building's occupancy (across its entrances), the rooms' sum and the sensors' states under
    /// headcount/<site>/_site/.
    Aggregate {
        /// The aggregator's config ([site] name, entrances, rooms; [mqtt]; [privacy]; [state]).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// List cameras (with formats and sizes) and Edge TPUs, or say plainly that none are found.
    Devices {
        /// Path of libedgetpu (default: libedgetpu.so.1 from the loader's search path).
        #[arg(long, value_name = "PATH", default_value = "")]
        edgetpu_library: String,
    },
    /// Validate a config file and print the effective configuration.
    CheckConfig {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print (Markdown) the data-flow section of a DPIA for this configuration.
    PrivacyReport {
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

/// A failure, classified for the exit code.
enum Failure {
    Usage(anyhow::Error),
    Runtime(anyhow::Error),
}

/// Parses arguments, runs the subcommand, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            print_error(&e);
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            print_error(&e);
            ExitCode::from(1)
        }
    }
}

/// The one error line on stderr; a closed stderr leaves only the exit code, never a panic.
fn print_error(e: &anyhow::Error) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error: {}", one_line(e));
}

#[path = "cli_measure.rs"]
mod measure;
#[path = "cli_site.rs"]
mod site;
use measure::{evaluate, simulate, survey, Output};

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::CheckConfig { file } => {
            if site::is_aggregator_file(&file) {
                return print_stdout(&site::load_aggregate_config(&file)?.to_toml());
            }
            let config = load_config(&file)?;
            let mut text = config.to_toml();
            if let Some(noise) = crate::config::dp_noise::DpNoise::of(&config.privacy) {
                // A TOML comment, so the printout stays a valid config.
                text.push_str(&format!(
                    "\n# differential privacy: ε {} per release, {} releases a UTC day: {}\n",
                    crate::config::dp_noise::significant(noise.epsilon_per_release),
                    noise.releases_per_day,
                    noise.describe()
                ));
            }
            if let Some(warning) = crate::service::unused_edgetpu(&config) {
                tracing::warn!("{warning}");
            }
            print_stdout(&text)
        }
        Command::PrivacyReport { config } => {
            let config = load_config(&config)?;
            print_stdout(&crate::privacy::report::markdown(&config))
        }
        Command::Eval {
            video,
            truth,
            lines,
            json,
            config,
            compare,
            svg,
            quiet,
        } => evaluate(
            video,
            truth,
            lines,
            &compare,
            config,
            Output {
                json,
                svg,
                progress: !quiet,
            },
        ),
        Command::Survey {
            source,
            config,
            duration,
            grid,
            json,
            svg,
            quiet,
        } => survey(
            source,
            config,
            duration,
            &grid,
            Output {
                json,
                svg,
                progress: !quiet,
            },
        ),
        Command::Simulate {
            sensors,
            config,
            duration,
            json,
        } => simulate(sensors, &config, duration, json),
        Command::Aggregate { config } => site::aggregate(&config),
        Command::Devices { edgetpu_library } => {
            print_stdout(&crate::devices::report(&edgetpu_library))
        }
        Command::Run { config: path } => {
            let config = load_config(&path)?;
            if config.source.kind == crate::config::SourceKind::Video
                && config.source.url.is_empty()
            {
                return Err(Failure::Usage(anyhow::anyhow!(
                    "config file {}: key source.url is empty; run needs a video file or stream URL",
                    path.display()
                )));
            }
            serve(
                config,
                ServiceOptions {
                    print_json: false,
                    end_is_error: true,
                    progress: false,
                },
            )
        }
        Command::Replay {
            video,
            config,
            realtime,
            json: _,
            quiet,
        } => {
            let mut config = match config {
                Some(path) => load_config(&path)?,
                None => Config::default(),
            };
            config.source.url = video;
            config.source.kind = crate::config::SourceKind::Video;
            config.source.realtime |= realtime;
            serve(
                config,
                ServiceOptions {
                    print_json: true,
                    end_is_error: false,
                    progress: !quiet,
                },
            )
        }
    }
}

/// Writes `text` to stdout. A closed stdout (`headcount … | head -1`) is a runtime failure with a
/// one-line error, never a panic.
fn print_stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .context("cannot write to stdout")
        .map_err(Failure::Runtime)
}

fn load_config(path: &std::path::Path) -> Result<Config, Failure> {
    let config = Config::load(path).map_err(|e| Failure::Usage(e.into()))?;
    // A password that cannot be read is a configuration error, found before anything starts.
    config
        .mqtt_credentials()
        .map_err(|e| Failure::Usage(e.into()))?;
    Ok(config)
}

fn serve(config: Config, options: ServiceOptions) -> Result<(), Failure> {
    if !config.state.dir.is_empty() {
        std::fs::create_dir_all(&config.state.dir)
            .with_context(|| format!("cannot create state dir {}", config.state.dir))
            .map_err(Failure::Runtime)?;
    }
    // First, on the only thread there is: Landlock binds this thread and what it starts later.
    let sandbox = sandbox::enforce(&config);
    on_runtime(|shutdown| service::run(config, options, sandbox, shutdown))?
        .map(|_| ())
        .map_err(|e| Failure::Runtime(e.into()))
}

/// Runs `work` on a current-thread runtime; SIGTERM / SIGINT trigger the shutdown handed to it
/// from the start, in every phase (opening included).
fn on_runtime<T, F: std::future::Future<Output = T>>(
    work: impl FnOnce(Shutdown) -> F,
) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::Runtime)?;
    let shutdown = Shutdown::new();
    shutdown.install_signal_flag();
    Ok(runtime.block_on(async {
        tokio::spawn(shutdown.clone().on_signals());
        work(shutdown).await
    }))
}

fn init_logging(command: &Command) {
    let default = match command {
        Command::Run { .. } | Command::Aggregate { .. } => "info",
        // A fleet says the same thing once per sensor: only errors unless asked.
        Command::Simulate { .. } => "error",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HEADCOUNT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal: journald and files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

//! What each counting heuristic is worth, measured instead of argued: every clip with ground
//! truth is evaluated once per detector setup, and the same detections are counted again with
//! each heuristic switched off in turn (`eval --compare`'s machinery: the detector runs once per
//! setup). Prints one table and writes it into docs/accuracy.md between its `ablation` markers.
//!
//!   cargo bench --bench ablation            # every setup (PETS09 ones need ../shared)
//!   cargo bench --bench ablation -- --print # print only, leave docs/accuracy.md alone
//!
//! Scores: occupancy MAE against the truth's people per frame, and crossings off (the sum of
//! |counted − true| over every line, in and out) against the truth tracks' crossings.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::fail;
use headcount::config::{Config, CountingConfig};
use headcount::count::Heuristics;
use headcount::eval::{self, Compared, EvalReport, Truth};

/// One heuristic switched off: its name, and how.
struct Off {
    name: &'static str,
    /// The keyed ones: the setting that turns them off (None: already off in this setup).
    counting: fn(&CountingConfig) -> Option<CountingConfig>,
    /// The ones without a key.
    heuristics: fn(Heuristics) -> Heuristics,
}

/// An opt-in heuristic, switched on where a setup has it off, at the value its documentation
/// gives: so the table says why it is opt-in.
struct On {
    name: &'static str,
    counting: fn(&CountingConfig) -> Option<CountingConfig>,
}

const ON: [On; 3] = [
    On {
        name: "return window (`line_return_s` = 0.5)",
        counting: |c| {
            (c.line_return_s == 0.0).then(|| CountingConfig {
                line_return_s: 0.5,
                ..c.clone()
            })
        },
    },
    On {
        name: "band of each person's height (`line_band_height` = 0.05)",
        counting: |c| {
            (c.line_band_height == 0.0).then(|| CountingConfig {
                line_band_height: 0.05,
                ..c.clone()
            })
        },
    },
    On {
        name: "appearance (`appearance_weight` = 4)",
        counting: |c| {
            (c.appearance_weight == 0.0).then(|| CountingConfig {
                appearance_weight: 4.0,
                ..c.clone()
            })
        },
    },
];

fn keep(h: Heuristics) -> Heuristics {
    h
}

fn same(_: &CountingConfig) -> Option<CountingConfig> {
    None
}

const OFF: [Off; 11] = [
    Off {
        name: "lost tracks (`track_lost_s` = 0)",
        counting: |c| {
            (c.track_lost_s > 0.0).then(|| CountingConfig {
                track_lost_s: 0.0,
                ..c.clone()
            })
        },
        heuristics: keep,
    },
    Off {
        name: "return window (`line_return_s` = 0)",
        counting: |c| {
            (c.line_return_s > 0.0).then(|| CountingConfig {
                line_return_s: 0.0,
                ..c.clone()
            })
        },
        heuristics: keep,
    },
    Off {
        name: "line band (`line_band` = `line_band_height` = 0)",
        counting: |c| {
            (c.line_band > 0.0 || c.line_band_height > 0.0).then(|| CountingConfig {
                line_band: 0.0,
                line_band_height: 0.0,
                ..c.clone()
            })
        },
        heuristics: keep,
    },
    Off {
        name: "band of each person's height (`line_band_height` = 0)",
        counting: |c| {
            (c.line_band_height > 0.0).then(|| CountingConfig {
                line_band_height: 0.0,
                ..c.clone()
            })
        },
        heuristics: keep,
    },
    Off {
        name: "appearance (`appearance_weight` = 0)",
        counting: |c| {
            (c.appearance_weight > 0.0).then(|| CountingConfig {
                appearance_weight: 0.0,
                ..c.clone()
            })
        },
        heuristics: keep,
    },
    Off {
        name: "smoothing (`smoothing_frames` = 1)",
        counting: |c| {
            (c.smoothing_frames > 1).then(|| CountingConfig {
                smoothing_frames: 1,
                ..c.clone()
            })
        },
        heuristics: keep,
    },
    Off {
        name: "cut boxes",
        counting: same,
        heuristics: |h| Heuristics {
            cut_boxes: false,
            ..h
        },
    },
    Off {
        name: "merged boxes",
        counting: same,
        heuristics: |h| Heuristics {
            merged_boxes: false,
            ..h
        },
    },
    Off {
        name: "faint boxes",
        counting: same,
        heuristics: |h| Heuristics {
            faint_boxes: false,
            ..h
        },
    },
    Off {
        name: "border rule",
        counting: same,
        heuristics: |h| Heuristics {
            border_rule: false,
            ..h
        },
    },
    Off {
        name: "distance stage",
        counting: same,
        heuristics: |h| Heuristics {
            distance_stage: false,
            ..h
        },
    },
];

/// One detector setup on one clip.
struct Setup {
    name: &'static str,
    clip: PathBuf,
    truth: PathBuf,
    /// The config file (relative to the checkout), or None for the defaults.
    config: Option<&'static str>,
    /// `x1,y1,x2,y2` lines scored.
    lines: Vec<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The PETS09 lines of docs/accuracy.md (the README's 128 and the 32 across the walkway), from
/// `benches/ablation-pets09-lines.txt`: the more lines, the more crossings a heuristic can
/// change (a 15-line grid missed what one heuristic does on these).
fn pets_lines() -> Vec<String> {
    let file = root().join("benches/ablation-pets09-lines.txt");
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| fail(format!("{}: {e}", file.display())))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn setups() -> Vec<Setup> {
    let obo = root().join("tests/fixtures/one-by-one");
    let mut setups = vec![Setup {
        name: "one-by-one, defaults",
        clip: obo.join("one-by-one-person-detection.mp4"),
        truth: obo.join("ground-truth.txt"),
        config: None,
        // The doorway at the bottom, a line they walk in over, the way out at the right and
        // one they pass on the way.
        lines: [
            "0,0.95,1,0.95",
            "0,0.7,1,0.7",
            "0.85,0,0.85,1",
            "0.6,0,0.6,1",
        ]
        .map(String::from)
        .to_vec(),
    }];
    let Some(pets) = common::pets_clip() else {
        return setups;
    };
    let gt = pets.with_file_name("gt.txt");
    setups.push(Setup {
        name: "PETS09, defaults (bundled SSD, one input)",
        clip: pets.clone(),
        truth: gt.clone(),
        config: None,
        lines: pets_lines(),
    });
    setups.push(Setup {
        name: "PETS09, `examples/pets09-ssd.toml` (SSD on 12 tiles)",
        clip: pets.clone(),
        truth: gt.clone(),
        config: Some("examples/pets09-ssd.toml"),
        lines: pets_lines(),
    });
    if root()
        .join("../shared/models/yolov5n/yolov5n-int8.tflite")
        .exists()
    {
        setups.push(Setup {
            name: "PETS09, `examples/pets09-best.toml` (YOLOv5n, 2 tiles)",
            clip: pets,
            truth: gt,
            config: Some("examples/pets09-best.toml"),
            lines: pets_lines(),
        });
    }
    setups
}

/// (occupancy MAE, crossings off, true crossings) of one scored setting.
fn scores(occupancy: &eval::OccupancyScore, lines: &eval::LinesSummary) -> (f64, u64, u64) {
    (occupancy.mae, lines.off, lines.truth_crossings)
}

/// Each compared setting: the heuristic's name and whether it was switched on (opt-in) rather
/// than off.
type Variants = Vec<(&'static str, bool)>;

fn run(setup: &Setup) -> (EvalReport, Variants) {
    let mut config = match setup.config {
        Some(file) => Config::load(&root().join(file)).unwrap_or_else(|e| fail(e)),
        None => {
            let c = Config::default();
            c.validate().unwrap_or_else(|e| fail(e));
            c
        }
    };
    config.source.url = setup.clip.display().to_string();
    config.counting.lines = setup
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| eval::parse_line(l, i + 1).unwrap_or_else(|e| fail(e)))
        .collect();
    let truth = Truth::load(&setup.truth).unwrap_or_else(|e| fail(e));
    let mut names = vec![];
    let mut compared = vec![];
    for off in &OFF {
        let counting = (off.counting)(&config.counting);
        let heuristics = (off.heuristics)(Heuristics::ALL);
        if counting.is_none() && heuristics == Heuristics::ALL {
            continue; // already off in this setup
        }
        names.push((off.name, false));
        compared.push(Compared {
            name: off.name.to_string(),
            counting: counting.unwrap_or_else(|| config.counting.clone()),
            heuristics,
        });
    }
    for on in &ON {
        if let Some(counting) = (on.counting)(&config.counting) {
            names.push((on.name, true));
            compared.push(Compared {
                name: on.name.to_string(),
                counting,
                heuristics: Heuristics::ALL,
            });
        }
    }
    eprintln!("ablation: {} ({} settings)", setup.name, compared.len() + 1);
    let report = eval::run(config, &compared, &truth, false).unwrap_or_else(|e| fail(e));
    (report, names)
}

fn signed(v: f64, digits: usize) -> String {
    if v.abs() < 0.5 * 10f64.powi(-(digits as i32)) {
        "0".into()
    } else {
        format!("{v:+.digits$}")
    }
}

fn main() {
    let print_only = std::env::args().any(|a| a == "--print");
    let setups = setups();
    let mut table = String::new();
    let _ = writeln!(
        table,
        "Each heuristic switched off in turn, everything else as the setup has it; an opt-in \
         heuristic the setup has off is switched on instead (*on:*). Δ: the error without the \
         heuristic minus the error with it, so a positive Δ means it pays.\n"
    );
    for setup in &setups {
        let (report, names) = run(setup);
        let (mae, off, truth) = scores(&report.occupancy, &report.lines_summary);
        let _ = writeln!(
            table,
            "**{}** — {} frames, {} lines, {truth} true crossings; with every heuristic: \
             occupancy MAE {mae:.3}, {off} crossings off.\n",
            setup.name,
            report.frames,
            setup.lines.len()
        );
        let _ = writeln!(
            table,
            "| heuristic | occupancy MAE | Δ MAE | crossings off | Δ off |\n|---|---:|---:|---:|---:|"
        );
        for ((name, on), c) in names.iter().zip(&report.compared) {
            let (m, o, _) = scores(&c.occupancy, &c.lines_summary);
            // Positive: the heuristic pays.
            let (d_mae, d_off) = if *on {
                (mae - m, off as f64 - o as f64)
            } else {
                (m - mae, o as f64 - off as f64)
            };
            let label = if *on {
                format!("*on:* {name}")
            } else {
                format!("off: {name}")
            };
            let _ = writeln!(
                table,
                "| {label} | {m:.3} | {} | {o} | {} |",
                signed(d_mae, 3),
                signed(d_off, 0)
            );
        }
        table.push('\n');
    }
    let clips = setups.len();
    print!("{table}");
    if print_only {
        return;
    }
    if clips < 3 {
        eprintln!("ablation: ../shared is missing, so docs/accuracy.md is left as it is");
        return;
    }
    let doc = root().join("docs/accuracy.md");
    let text = std::fs::read_to_string(&doc).unwrap_or_else(|e| fail(e));
    let (begin, end) = ("<!-- ablation:begin -->", "<!-- ablation:end -->");
    let (Some(a), Some(b)) = (text.find(begin), text.find(end)) else {
        fail(format!("{} has no {begin} … {end} markers", doc.display()));
    };
    let updated = format!("{}{begin}\n{table}{}", &text[..a], &text[b..]);
    std::fs::write(&doc, updated).unwrap_or_else(|e| fail(e));
    eprintln!("ablation: table written into {}", doc.display());
}

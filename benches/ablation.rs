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
    /// Extra detector settings (TOML lines under `[detector]`) for a defaults setup.
    detector: &'static str,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A systematic grid over PETS09 that no setting was tuned on: verticals every tenth from 0.2
/// to 0.8, horizontals from 0.3 to 0.8, and the two diagonals.
fn pets_grid() -> Vec<String> {
    let mut lines = vec![];
    for i in 2..=8 {
        lines.push(format!("0.{i},0,0.{i},1"));
    }
    for i in 3..=8 {
        lines.push(format!("0,0.{i},1,0.{i}"));
    }
    lines.push("0,0,1,1".into());
    lines.push("1,0,0,1".into());
    lines
}

fn setups() -> Vec<Setup> {
    let obo = root().join("tests/fixtures/one-by-one");
    let mut setups = vec![Setup {
        name: "one-by-one, defaults",
        clip: obo.join("one-by-one-person-detection.mp4"),
        truth: obo.join("gt.txt"),
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
        detector: "",
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
        lines: pets_grid(),
        detector: "",
    });
    setups.push(Setup {
        name: "PETS09, `examples/pets09-ssd.toml` (SSD on 12 tiles)",
        clip: pets.clone(),
        truth: gt.clone(),
        config: Some("examples/pets09-ssd.toml"),
        lines: pets_grid(),
        detector: "",
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
            lines: pets_grid(),
            detector: "",
        });
    }
    setups
}

/// (occupancy MAE, crossings off, true crossings) of one scored setting.
fn scores(occupancy: &eval::OccupancyScore, lines: &eval::LinesSummary) -> (f64, u64, u64) {
    (occupancy.mae, lines.off, lines.truth_crossings)
}

fn run(setup: &Setup) -> (EvalReport, Vec<&'static str>) {
    let mut config = match setup.config {
        Some(file) => Config::load(&root().join(file)).unwrap_or_else(|e| fail(e)),
        None => {
            let c = Config::parse(&format!("[detector]\n{}", setup.detector))
                .unwrap_or_else(|e| fail(e));
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
        names.push(off.name);
        compared.push(Compared {
            name: off.name.to_string(),
            counting: counting.unwrap_or_else(|| config.counting.clone()),
            heuristics,
        });
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
        "Each heuristic switched off in turn, everything else as the setup has it (a heuristic \
         already off in a setup is not listed for it). Δ: the change when it is off; a positive \
         Δ means the heuristic was paying (the error grows without it).\n"
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
            "| off | occupancy MAE | Δ MAE | crossings off | Δ off |\n|---|---:|---:|---:|---:|"
        );
        for (name, c) in names.iter().zip(&report.compared) {
            let (m, o, _) = scores(&c.occupancy, &c.lines_summary);
            let _ = writeln!(
                table,
                "| {name} | {m:.3} | {} | {o} | {} |",
                signed(m - mae, 3),
                signed(o as f64 - off as f64, 0)
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

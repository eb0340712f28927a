//! `headcount survey` from the outside: on the one-by-one clip it suggests the doorway line that
//! counts the six people in and nobody out (checked with `eval` against the hand-annotated
//! truth, whose `--svg` draws the counts over time), a config `check-config` accepts, and a
//! picture that renders; with one person, every
//! cell is blank and the only file it writes is the picture asked for; bad options get a clear
//! error before any work.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{
    assert_config_accepted, headcount, headcount_optimised, one_by_one, one_by_one_first, root,
    run_with_timeout,
};

fn survey(clip: &Path, args: &[&str]) -> Output {
    let mut cmd = headcount_optimised();
    cmd.arg("survey").arg(clip).args(args);
    run_with_timeout(cmd, Duration::from_secs(600))
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A PNG made by rsvg-convert from `svg`: the picture renders.
fn renders(svg: &Path) {
    let png = svg.with_extension("png");
    let status = Command::new("rsvg-convert")
        .arg("-o")
        .arg(&png)
        .arg(svg)
        .status()
        .expect("rsvg-convert runs (scripts/setup.sh installs librsvg2-bin)");
    assert!(status.success(), "rsvg-convert failed on {}", svg.display());
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.len() > 1000 && bytes.starts_with(b"\x89PNG"),
        "{} bytes",
        bytes.len()
    );
}

#[test]
fn the_one_by_one_survey_suggests_the_doorway_line_that_counts_six_in() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("survey.svg");
    let report = json(&survey(
        &one_by_one(),
        &["--json", "--svg", svg.to_str().unwrap()],
    ));
    // The contract (shared/DESIGN.md): frames, the grid, suggested lines and config.
    assert_eq!(report["frames"], 1394, "{report}");
    let grid = &report["grid"];
    assert_eq!(
        (grid["columns"].as_u64(), grid["rows"].as_u64()),
        (Some(24), Some(18))
    );
    assert_eq!(grid["k"], 5);
    for key in [
        "people",
        "presence_s",
        "dwell_s",
        "flow",
        "east",
        "north",
        "height_median",
    ] {
        assert_eq!(grid[key].as_array().map(Vec::len), Some(24 * 18), "{key}");
    }
    // Six people, one at a time: the cells they all walked are shown with 5 or 6 people.
    let people: Vec<u64> = grid["people"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_u64())
        .collect();
    assert!(
        !people.is_empty() && people.iter().all(|&p| (5..=6).contains(&p)),
        "{people:?}"
    );

    // They walk in from below, stand at the table and leave at the right, one at a time: the
    // line most crossings were seen on is where all six leave, "in" the way they all go.
    let lines = report["suggested_lines"].as_array().unwrap();
    let crossings = |l: &serde_json::Value| l["in"].as_u64().unwrap() + l["out"].as_u64().unwrap();
    let doorway = lines
        .iter()
        .max_by_key(|l| crossings(l))
        .unwrap_or_else(|| panic!("no line suggested: {report}"));
    assert_eq!(
        (doorway["in"].as_u64(), doorway["out"].as_u64()),
        (Some(6), Some(0)),
        "{lines:?}"
    );
    // People stand at the table: a zone is suggested there.
    assert!(
        !report["suggested_zones"].as_array().unwrap().is_empty(),
        "{report}"
    );

    // The suggested config is a config.
    let config = dir.path().join("suggested.toml");
    std::fs::write(&config, report["suggested_config"].as_str().unwrap()).unwrap();
    assert_config_accepted(&config);

    // And with it, the doorway line counts the six people in, as the hand annotation says.
    let mut cmd = headcount_optimised();
    cmd.arg("eval")
        .arg(one_by_one())
        .arg("--truth")
        .arg(root().join("tests/fixtures/one-by-one/ground-truth.txt"))
        .arg("--config")
        .arg(&config)
        .arg("--svg")
        .arg(dir.path().join("eval.svg"))
        .arg("--json")
        .arg("--quiet");
    let eval = json(&run_with_timeout(cmd, Duration::from_secs(600)));
    let at = |p: &serde_json::Value| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()];
    let (from, to) = (at(&doorway["from"]), at(&doorway["to"]));
    let scored = eval["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            let v: Vec<f64> = (0..4).map(|i| l["line"][i].as_f64().unwrap()).collect();
            (v[0] - from[0]).abs() < 1e-4
                && (v[1] - from[1]).abs() < 1e-4
                && (v[2] - to[0]).abs() < 1e-4
                && (v[3] - to[1]).abs() < 1e-4
        })
        .unwrap_or_else(|| panic!("{doorway} not scored: {eval}"));
    assert_eq!(
        (scored["in"].as_u64(), scored["out"].as_u64()),
        (Some(6), Some(0)),
        "{scored}"
    );
    assert_eq!(
        (scored["truth_in"].as_u64(), scored["truth_out"].as_u64()),
        (Some(6), Some(0)),
        "{scored}"
    );

    renders(&svg);
    // `eval --svg`: occupancy over time, and each line's running totals beside the truth's.
    let drawn = std::fs::read_to_string(dir.path().join("eval.svg")).unwrap();
    assert!(drawn.contains("occupancy: counted vs truth"), "{drawn}");
    assert!(
        drawn.contains("in 6 / 6, out 0 / 0"),
        "the doorway's panel: {drawn}"
    );
    renders(&dir.path().join("eval.svg"));
}

/// Every file the traced process opened for writing.
fn written_files(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| {
            l.contains("open")
                && (l.contains("O_WRONLY") || l.contains("O_RDWR") || l.contains("O_CREAT"))
        })
        .filter(|l| !l.contains("= -1"))
        .filter_map(|l| l.split('"').nth(1).map(str::to_string))
        .collect()
}

#[test]
fn one_person_leaves_every_cell_blank_and_only_the_picture_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // The first person alone: in from below at 6 s, at the table, out at the right by 20 s.
    let clip = one_by_one_first(dir.path(), 24);
    let svg = dir.path().join("one.svg");
    let trace = dir.path().join("trace.txt");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-s", "200", "-o"])
        .arg(&trace)
        .args(["-e", "trace=%file,%network"])
        .arg(env!("CARGO_BIN_EXE_headcount"))
        .arg("survey")
        .arg(&clip)
        .args(["--json", "--svg"])
        .arg(&svg)
        .stderr(Stdio::piped())
        .output()
        .expect("strace is installed (scripts/setup.sh installs it)");
    let report = json(&out);
    let grid = &report["grid"];
    assert!(
        grid["people"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v.is_null()),
        "{grid}"
    );
    for key in [
        "presence_s",
        "dwell_s",
        "flow",
        "speed",
        "east",
        "west",
        "south",
        "north",
        "height_median",
        "confidence_mean",
        "entries",
        "exits",
    ] {
        assert!(
            grid[key].as_array().unwrap().iter().all(|v| v.is_null()),
            "{key}: {grid}"
        );
    }
    assert!(grid["in_view"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v == false));
    assert_eq!(report["suggested_lines"], serde_json::json!([]));
    assert_eq!(report["suggested_zones"], serde_json::json!([]));
    assert!(report["suggested_tiles"].is_null());
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("nothing can be shown"), "{warnings}");

    let text = std::fs::read_to_string(&trace).unwrap();
    let written = written_files(&text);
    assert!(
        written
            .iter()
            .all(|f| f == svg.to_str().unwrap() || f == "/dev/null"),
        "wrote {written:?}"
    );
    assert!(
        written.iter().any(|f| f == svg.to_str().unwrap()),
        "{written:?}"
    );
    for call in ["listen(", "bind(", "connect(", "sendto("] {
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(call) && !l.contains("AF_UNIX") && !l.contains("AF_NETLINK"))
            .collect();
        assert!(bad.is_empty(), "{call}: {bad:?}");
    }
    renders(&svg);

    // The same as text, with the config's own doorway line and a zone in a corner: the grid
    // drawn in characters (no colour when stdout is not a terminal), the line's one crossing
    // banded as the sensor would publish it, the zone nobody entered, the warnings.
    let config = common::write_config(
        dir.path(),
        "[[counting.lines]]\nname = \"door\"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n\
         [[counting.zones]]\nname = \"corner\"\npolygon = [[0,0],[0.1,0],[0.1,0.1],[0,0.1]]\n",
    );
    let out = headcount()
        .arg("survey")
        .arg(&clip)
        .arg("--config")
        .arg(&config)
        .arg("--quiet")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains('\x1b'), "{text}");
    for needle in [
        "survey of",
        "+------",
        "line \"door\": in <5, out 0",
        "warning: zone \"corner\": nobody was in it",
        "warning: no cell was visited",
        "suggested config:",
    ] {
        assert!(text.contains(needle), "{needle:?} missing: {text}");
    }
}

#[test]
fn bad_options_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let clip = one_by_one();
    let run = |args: &[&str]| {
        let out = headcount()
            .arg("survey")
            .arg(&clip)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--grid", "0x5"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--grid") && err.contains("1..=48"), "{err}");
    let (code, err) = run(&["--grid", "24by18"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(&["--duration=-3"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--duration"), "{err}");
    // A picture that cannot be written is said before the survey starts.
    let nowhere = dir.path().join("no/such/dir/survey.svg");
    let (code, err) = run(&["--svg", nowhere.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot write") && err.contains("survey.svg"),
        "{err}"
    );
    let out = headcount()
        .arg("eval")
        .arg(&clip)
        .arg("--truth")
        .arg(root().join("tests/fixtures/one-by-one/ground-truth.txt"))
        .arg("--svg")
        .arg(&nowhere)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write") && err.contains("survey.svg"),
        "{err}"
    );
    // A file that is not a video.
    let junk = dir.path().join("junk.mp4");
    std::fs::write(&junk, b"not a video").unwrap();
    let out = headcount().arg("survey").arg(&junk).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("junk.mp4") && !err.contains("panicked"),
        "{err}"
    );
}

//! `headcount eval` as the tests run it: PETS09 and its truth from ../shared, the JSON report,
//! and what is summed from it (crossings off, counts over 10 %). YOLOv5n is GPL: read from
//! ../shared, never committed.

use std::time::Duration;

use super::{headcount, run_with_timeout, write_config};

pub const LIMIT: Duration = Duration::from_secs(900);

pub fn pets() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    Some((
        super::shared("footage/pets09-s2l1/vtest.avi")?,
        super::shared("footage/pets09-s2l1/gt.txt")?,
    ))
}

/// `headcount eval --json` on PETS09 with LiteRT plus `detector` (TOML lines), scoring the
/// vertical and horizontal middle lines; returns the report and the logs (level info).
pub fn eval_two_lines(
    video: &std::path::Path,
    gt: &std::path::Path,
    detector: &str,
) -> (serde_json::Value, String) {
    eval_lines(video, gt, detector, "", &["0.5,0,0.5,1", "0,0.5,1,0.5"])
}

/// `headcount eval --json` on PETS09 with LiteRT plus `detector` and `counting` (TOML lines),
/// scoring `lines`; returns the report and the logs (level info).
pub fn eval_lines(
    video: &std::path::Path,
    gt: &std::path::Path,
    detector: &str,
    counting: &str,
    lines: &[&str],
) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[detector]\nruntime = \"litert\"\n{detector}\n[counting]\n{counting}"),
    );
    eval_lines_with_config(video, gt, &config, lines)
}

/// `headcount eval --json` on PETS09 with the config file `config`, scoring `lines`; returns
/// the report and the logs (level info).
pub fn eval_lines_with_config(
    video: &std::path::Path,
    gt: &std::path::Path,
    config: &std::path::Path,
    lines: &[&str],
) -> (serde_json::Value, String) {
    let mut cmd = headcount();
    cmd.env("HEADCOUNT_LOG", "info")
        .arg("eval")
        .arg(video)
        .arg("--truth")
        .arg(gt);
    for line in lines {
        cmd.args(["--line", line]);
    }
    cmd.arg("--json").arg("--config").arg(config);
    let out = run_with_timeout(cmd, LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// (crossings off, true crossings) summed over an eval report's lines and both directions.
pub fn lines_off(report: &serde_json::Value) -> (i64, i64) {
    let (mut off, mut truth) = (0, 0);
    for l in report["lines"].as_array().unwrap() {
        for dir in ["in", "out"] {
            let want = l[&format!("truth_{dir}")].as_i64().unwrap();
            off += (l[dir].as_i64().unwrap() - want).abs();
            truth += want;
        }
    }
    (off, truth)
}

/// The report's `lines_summary` says what its lines say.
pub fn assert_summary_matches_lines(report: &serde_json::Value) {
    let (off, truth) = lines_off(report);
    let counts = 2 * report["lines"].as_array().unwrap().len();
    let within = counts - counts_over_ten_percent(report).len();
    let summary = &report["lines_summary"];
    assert_eq!(summary["off"], off, "{report}");
    assert_eq!(summary["truth_crossings"], truth, "{report}");
    assert_eq!(summary["counts"], counts, "{report}");
    assert_eq!(summary["counts_within_10_percent"], within, "{report}");
}

/// Each line's count, per direction, that is more than 10 % off the truth's, as
/// "line dir: got of want".
pub fn counts_over_ten_percent(report: &serde_json::Value) -> Vec<String> {
    let mut over = Vec::new();
    for l in report["lines"].as_array().unwrap() {
        for dir in ["in", "out"] {
            let want = l[&format!("truth_{dir}")].as_i64().unwrap();
            let got = l[dir].as_i64().unwrap();
            if (got - want).abs() * 10 > want {
                over.push(format!("{} {dir}: {got} of {want}", l["line"]));
            }
        }
    }
    over
}

/// The clip, its truth and the `[detector]` lines for YOLOv5n (GPL, from ../shared) with two
/// tiles, threshold 0.4; `None` (the test skips, or fails under CI) when ../shared lacks one.
pub fn pets_with_yolov5n_two_tiles() -> Option<(std::path::PathBuf, std::path::PathBuf, String)> {
    let (video, gt) = pets()?;
    let model = super::shared("models/yolov5n/yolov5n-int8.tflite")?;
    let detector = format!(
        "model = \"{}\"\nthreshold = 0.4\ntile_columns = 2\n",
        model.display()
    );
    Some((video, gt, detector))
}

/// Two `eval_lines` runs on the same lines with YOLOv5n and two tiles, at once (two processes,
/// one core each): `counting` = `a`, then `b`. None when ../shared is missing.
pub fn yolov5n_two_tiles_compared(
    lines: &[&str],
    a: &str,
    b: &str,
) -> Option<(serde_json::Value, serde_json::Value)> {
    let (video, gt, detector) = pets_with_yolov5n_two_tiles()?;
    Some(compared(&video, &gt, &detector, lines, a, b))
}

/// Two `eval_lines` runs on the same lines with the same `detector`, at once (two processes, one
/// core each): `counting` = `a`, then `b`.
pub fn compared(
    video: &std::path::Path,
    gt: &std::path::Path,
    detector: &str,
    lines: &[&str],
    a: &str,
    b: &str,
) -> (serde_json::Value, serde_json::Value) {
    let run = |counting: &str| eval_lines(video, gt, detector, counting, lines).0;
    at_once(|| run(a), || run(b))
}

/// Runs `a` on a thread of its own while `b` runs here (two `eval` processes at once, one core
/// each); returns both results.
fn at_once<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let first = s.spawn(a);
        let second = b();
        (first.join().unwrap(), second)
    })
}

/// `eval_lines_with_config` with the example config file `example` and `eval_lines` with
/// `detector` and `counting`, on the same lines at once (two processes): (example, other).
pub fn example_against(
    video: &std::path::Path,
    gt: &std::path::Path,
    example: &std::path::Path,
    detector: &str,
    counting: &str,
    lines: &[&str],
) -> (serde_json::Value, serde_json::Value) {
    at_once(
        || eval_lines_with_config(video, gt, example, lines).0,
        || eval_lines(video, gt, detector, counting, lines).0,
    )
}

/// `eval_lines_with_config` with the example config file `example` and with a copy of it in
/// which `[section] key` is `value`, on the same lines at once: (example, changed). The two
/// runs differ in that key alone. The copy is written to a temporary directory, so `example`
/// must name no relative path (`examples/pets09-ssd.toml` names none).
pub fn example_against_changed(
    video: &std::path::Path,
    gt: &std::path::Path,
    example: &std::path::Path,
    (section, key, value): (&str, &str, toml::Value),
    lines: &[&str],
) -> (serde_json::Value, serde_json::Value) {
    let mut config = example_table(example);
    config
        .get_mut(section)
        .and_then(toml::Value::as_table_mut)
        .unwrap_or_else(|| panic!("{} has no [{section}]", example.display()))
        .insert(key.to_string(), value);
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.toml");
    std::fs::write(&changed, config.to_string()).unwrap();
    at_once(
        || eval_lines_with_config(video, gt, example, lines).0,
        || eval_lines_with_config(video, gt, &changed, lines).0,
    )
}

/// The example config file, parsed.
fn example_table(example: &std::path::Path) -> toml::Table {
    std::fs::read_to_string(example).unwrap().parse().unwrap()
}

/// The example config's `detector.nms_iou` as a TOML line, for a comparison run that should
/// differ from the example only in what it tests.
pub fn example_nms_iou(example: &std::path::Path) -> String {
    let value = &example_table(example)["detector"]["nms_iou"];
    format!("nms_iou = {value}\n")
}

/// `better` (the setting under test) against `worse` (the one it replaces), on the same lines:
/// `truth` true crossings, fewer off than `worse`, at most `max_off` off and `max_over` counts
/// more than 10 % off, and a summary that agrees with the lines.
pub fn assert_better_within(
    better: &serde_json::Value,
    worse: &serde_json::Value,
    truth: i64,
    max_off: i64,
    max_over: usize,
) {
    let ((off, measured_truth), (off_worse, _)) = (lines_off(better), lines_off(worse));
    assert_eq!(measured_truth, truth, "{better}");
    assert!(off < off_worse, "{off} off, against {off_worse}: {better}");
    assert!(off <= max_off, "{off} off {truth}: {better}");
    assert_summary_matches_lines(better);
    let over = counts_over_ten_percent(better);
    assert!(over.len() <= max_over, "{over:?}: {better}");
}

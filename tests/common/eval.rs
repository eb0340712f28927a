//! `headcount eval` as the tests run it: PETS09 and its truth from ../shared, the JSON report,
//! and what is summed from it (crossings off, counts over 10 %). YOLOv5n is GPL: read from
//! ../shared, never committed.

use std::time::Duration;

use super::{headcount_optimised, run_with_timeout, write_config};

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
    let mut cmd = headcount_optimised();
    cmd.env("HEADCOUNT_LOG", "info")
        .arg("eval")
        .arg(video)
        .arg("--truth")
        .arg(gt);
    for line in lines {
        cmd.args(["--line", line]);
    }
    // A copy beside the original (its relative paths still resolve), patient with the source.
    let mut table: toml::Table = std::fs::read_to_string(config).unwrap().parse().unwrap();
    patient(&mut table);
    let patient_config = config.with_file_name("patient-eval.toml");
    std::fs::write(&patient_config, table.to_string()).unwrap();
    cmd.arg("--json").arg("--config").arg(&patient_config);
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

/// One `headcount eval --json` of PETS09 whose detections every claim about one detector
/// shares: the main config and each compared `[counting]` section (`--compare`) score the union
/// of the claims' lines, and each claim reads its own lines back ([`Shared::on`]).
pub struct Shared {
    report: serde_json::Value,
}

impl Shared {
    /// `config` (a file) with `compare` (the TOML of each compared `[counting]` section) on the
    /// union of `lines` (duplicates scored once). Checks that every summary agrees with its
    /// lines and that all 795 frames were scored.
    pub fn run(
        video: &std::path::Path,
        gt: &std::path::Path,
        config: &std::path::Path,
        compare: &[&str],
        lines: &[&[&str]],
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut union: Vec<&str> = Vec::new();
        for l in lines.iter().flat_map(|set| set.iter()) {
            if !union.contains(l) {
                union.push(l);
            }
        }
        let mut cmd = headcount_optimised();
        cmd.arg("eval").arg(video).arg("--truth").arg(gt);
        for line in &union {
            cmd.args(["--line", line]);
        }
        for (i, counting) in compare.iter().enumerate() {
            let path = dir.path().join(format!("compare-{i}.toml"));
            std::fs::write(&path, format!("[counting]\n{counting}")).unwrap();
            cmd.arg("--compare").arg(path);
        }
        // Every shared run has another beside it (`at_once`): one inference thread each keeps
        // the two on the machine's two cores instead of four threads spinning for them (the
        // counts do not depend on the threads).
        let mut table: toml::Table = std::fs::read_to_string(config).unwrap().parse().unwrap();
        let detector = table
            .entry("detector")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let detector = detector.as_table_mut().unwrap();
        detector.insert("threads".into(), toml::Value::Integer(1));
        // Paths in a config are relative to its file, which the copy is not beside.
        if let Some(model) = detector.get("model").and_then(|m| m.as_str()) {
            let model = config.parent().unwrap().join(model);
            detector.insert("model".into(), model.display().to_string().into());
        }
        patient(&mut table);
        let one_thread = dir.path().join("config.toml");
        std::fs::write(&one_thread, table.to_string()).unwrap();
        cmd.arg("--json")
            .arg("--quiet")
            .arg("--config")
            .arg(&one_thread);
        let out = run_with_timeout(cmd, LIMIT);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["frames"], 795, "{report}");
        assert_eq!(report["lines"].as_array().unwrap().len(), union.len());
        assert_summary_matches_lines(&report);
        let compared = report["compared"].as_array().map_or(0, Vec::len);
        assert_eq!(compared, compare.len(), "{report}");
        for c in report["compared"].as_array().into_iter().flatten() {
            assert_summary_matches_lines(c);
        }
        Self { report }
    }

    /// The main run's scores (`None`) or the `i`-th compared section's, on `lines` alone: a
    /// report with only those lines, in that order, and their summary.
    pub fn on(&self, variant: Option<usize>, lines: &[&str]) -> serde_json::Value {
        let scored = match variant {
            None => &self.report,
            Some(i) => &self.report["compared"][i],
        };
        let picked: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| {
                let want: Vec<f32> = l.split(',').map(|c| c.parse().unwrap()).collect();
                scored["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| {
                        let got: Vec<f32> = s["line"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|c| c.as_f64().unwrap() as f32)
                            .collect();
                        got == want
                    })
                    .unwrap_or_else(|| panic!("line {l} was not scored"))
                    .clone()
            })
            .collect();
        let mut report = scored.clone();
        report["frames"] = self.report["frames"].clone();
        report["lines"] = serde_json::Value::Array(picked);
        let (off, truth) = lines_off(&report);
        let counts = 2 * lines.len();
        let within = counts - counts_over_ten_percent(&report).len();
        report["lines_summary"] = serde_json::json!({
            "off": off,
            "truth_crossings": truth,
            "counts": counts,
            "counts_within_10_percent": within,
        });
        report
    }
}

/// Runs `a` on a thread of its own while `b` runs here (two `eval` processes at once, one core
/// each); returns both results.
pub fn at_once<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let first = s.spawn(a);
        let second = b();
        (first.join().unwrap(), second)
    })
}

/// The `[counting]` section of the example config `example` as TOML lines, with `key` set to
/// `value` when given: a compared section that differs from the example in that key alone.
pub fn example_counting(example: &std::path::Path, change: Option<(&str, toml::Value)>) -> String {
    let config: toml::Table = std::fs::read_to_string(example).unwrap().parse().unwrap();
    let mut counting = config["counting"].as_table().cloned().unwrap_or_default();
    if let Some((key, value)) = change {
        counting.insert(key.to_string(), value);
    }
    counting.to_string()
}

/// Claims checked one after another on shared runs; every failure is reported at the end,
/// by name, so one broken claim does not hide the others.
#[derive(Default)]
pub struct Claims {
    failed: Vec<String>,
}

impl Claims {
    pub fn check(&mut self, name: &str, claim: impl FnOnce()) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(claim));
        if let Err(cause) = outcome {
            let why = cause
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| cause.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            self.failed.push(format!("{name}: {why}"));
        }
    }

    pub fn assert_all(self) {
        assert!(
            self.failed.is_empty(),
            "{} claim(s) failed:\n{}",
            self.failed.len(),
            self.failed.join("\n")
        );
    }
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

/// Gives the source minutes, not seconds, for its first frame and between frames: at the start
/// of the suite two PETS09 evaluations, the aarch64 build and Home Assistant's install share two
/// cores, and one CI run saw ffmpeg give no frame within the default 20 s. These tests measure
/// accuracy; the timeouts have tests of their own (`stream_faults.rs`).
fn patient(table: &mut toml::Table) {
    let source = table
        .entry("source")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(source) = source.as_table_mut() {
        for key in ["open_timeout_s", "read_timeout_s"] {
            source.entry(key).or_insert(toml::Value::Integer(600));
        }
    }
}

//! `headcount eval` and the model families, end to end: the PETS09 benchmark scored against its
//! MOT ground truth, bad arguments, and YOLOv5n (GPL: read from ../shared, never committed).

mod common;

use std::time::Duration;

use common::{headcount, run_with_timeout, write_config};

const LIMIT: Duration = Duration::from_secs(900);

fn pets() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    Some((
        common::shared("footage/pets09-s2l1/vtest.avi")?,
        common::shared("footage/pets09-s2l1/gt.txt")?,
    ))
}

/// `headcount eval --json` on PETS09 with LiteRT plus `detector` (TOML lines), scoring the
/// vertical and horizontal middle lines; returns the report and the logs (level info).
fn eval_two_lines(
    video: &std::path::Path,
    gt: &std::path::Path,
    detector: &str,
) -> (serde_json::Value, String) {
    eval_lines(video, gt, detector, "", &["0.5,0,0.5,1", "0,0.5,1,0.5"])
}

/// `headcount eval --json` on PETS09 with LiteRT plus `detector` and `counting` (TOML lines),
/// scoring `lines`; returns the report and the logs (level info).
fn eval_lines(
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
    let mut cmd = headcount();
    cmd.env("HEADCOUNT_LOG", "info")
        .arg("eval")
        .arg(video)
        .arg("--truth")
        .arg(gt);
    for line in lines {
        cmd.args(["--line", line]);
    }
    cmd.arg("--json").arg("--config").arg(&config);
    let out = run_with_timeout(cmd, LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// (crossings off, true crossings) summed over an eval report's lines and both directions.
fn lines_off(report: &serde_json::Value) -> (i64, i64) {
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
fn assert_summary_matches_lines(report: &serde_json::Value) {
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
fn counts_over_ten_percent(report: &serde_json::Value) -> Vec<String> {
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

#[test]
fn eval_scores_pets09_occupancy_and_lines_against_the_ground_truth() {
    let Some((video, gt)) = pets() else { return };
    // LiteRT: the same counts as TF 2.9 on this clip, four times faster (keeps the suite short).
    let (report, _) = eval_two_lines(&video, &gt, "");
    assert_eq!(report["frames"], 795, "{report}");
    assert_summary_matches_lines(&report);
    let mae = report["occupancy"]["mae"].as_f64().unwrap();
    assert!(
        mae <= 0.6,
        "occupancy MAE {mae} above the 0.6 bar: {report}"
    );
    assert!(
        report["occupancy"]["exact"].as_f64().unwrap() > 0.3,
        "{report}"
    );
    let truth_mean = report["occupancy"]["truth_mean"].as_f64().unwrap();
    assert!(
        (truth_mean - 5.85).abs() < 0.01,
        "all truth rows count: {report}"
    );
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    // The ground-truth crossings of these lines, computed from gt.txt's tracks. 14 in, not 13:
    // around frame 616 one person walks across the middle along the picture's bottom edge, the
    // box a pixel below it; the line is drawn to that edge, so it reaches past it.
    assert_eq!(
        (&lines[0]["truth_in"], &lines[0]["truth_out"]),
        (&14.into(), &18.into()),
        "{report}"
    );
    // Under the counter's 0.02 hysteresis band, one truth crossing each way is jitter.
    assert_eq!(
        (
            &lines[0]["truth_in_beyond_band"],
            &lines[0]["truth_out_beyond_band"]
        ),
        (&12.into(), &17.into()),
        "{report}"
    );
    assert_eq!(lines[0]["line"], serde_json::json!([0.5, 0.0, 0.5, 1.0]));
    // Not yet the issue's ±10 % per direction (see README "Accuracy"), but a guard against the
    // tracker regressing: summed over both lines and directions, the counts were 29 % off before
    // the tracker's height gate and time-based reach, 19 % now.
    for l in lines {
        for dir in ["in", "out"] {
            assert!(l[dir].as_i64().unwrap() > 0, "{l}");
        }
    }
    let (off, truth) = lines_off(&report);
    assert!(
        off * 5 <= truth,
        "line counts {off} off {truth} true crossings (> 20 %): {report}"
    );
    assert!(report["timing"]["fps"].as_f64().unwrap() > 0.0);
}

#[test]
fn tiled_detection_finds_the_people_a_single_squeezed_input_loses() {
    let Some((video, gt)) = pets() else { return };
    let (report, stderr) = eval_two_lines(&video, &gt, "tile_columns = 2\n");
    // Two 300×300 tiles overlapping by 100 px: the source delivers 500×300.
    assert!(
        stderr.contains("tiled detection") && stderr.contains("width=500"),
        "{stderr}"
    );
    assert_eq!(report["frames"], 795, "{report}");
    let mae = report["occupancy"]["mae"].as_f64().unwrap();
    assert!(mae <= 0.6, "occupancy MAE {mae}: {report}");
    // x = 0.5, right to left: people crossing behind the lamp-post sign and the standing group.
    // One squeezed input counts 12 of the 18 (see the test above); the tiles see them.
    let x_out = report["lines"][0]["out"].as_i64().unwrap();
    assert!(
        (15..=21).contains(&x_out),
        "x = 0.5 out {x_out} of 18: {report}"
    );
    let (off, truth) = lines_off(&report);
    // One squeezed input: 12 off 64 (19 %). Tiled: 8 (13 %).
    assert!(off * 7 <= truth, "{off} off {truth}: {report}");
}

/// The clip, its truth and the `[detector]` lines for YOLOv5n (GPL, from ../shared) with two
/// tiles, threshold 0.4; `None` (the test skips, or fails under CI) when ../shared lacks one.
fn pets_with_yolov5n_two_tiles() -> Option<(std::path::PathBuf, std::path::PathBuf, String)> {
    let (video, gt) = pets()?;
    let model = common::shared("models/yolov5n/yolov5n-int8.tflite")?;
    let detector = format!(
        "model = \"{}\"\nthreshold = 0.4\ntile_columns = 2\n",
        model.display()
    );
    Some((video, gt, detector))
}

/// Two `eval_lines` runs on the same lines with YOLOv5n and two tiles, at once (two processes,
/// one core each): `counting` = `a`, then `b`. None when ../shared is missing.
fn yolov5n_two_tiles_compared(
    lines: &[&str],
    a: &str,
    b: &str,
) -> Option<(serde_json::Value, serde_json::Value)> {
    let (video, gt, detector) = pets_with_yolov5n_two_tiles()?;
    let run = |counting: &str| eval_lines(&video, &gt, &detector, counting, lines).0;
    Some(std::thread::scope(|s| {
        let first = s.spawn(|| run(a));
        let second = run(b);
        (first.join().unwrap(), second)
    }))
}

/// `better` (the setting under test) against `worse` (the one it replaces), on the same lines:
/// `truth` true crossings, fewer off than `worse`, at most `max_off` off and `max_over` counts
/// more than 10 % off, and a summary that agrees with the lines.
fn assert_better_within(
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

#[test]
fn yolov5n_on_litert_with_two_tiles_is_the_best_measured_counter() {
    // The MAE bar "with the best available model": YOLOv5n (GPL, from ../shared) on
    // LiteRT with two tiles, 33 ms per frame here. SSD, one input: MAE 0.48, lines 12 off 64.
    let Some((video, gt, detector)) = pets_with_yolov5n_two_tiles() else {
        return;
    };
    let (report, _) = eval_two_lines(&video, &gt, &detector);
    assert_eq!(report["frames"], 795, "{report}");
    // Measured 0.35, and the same on every run.
    let mae = report["occupancy"]["mae"].as_f64().unwrap();
    assert!(mae <= 0.45, "occupancy MAE {mae}: {report}");
    // Measured 2 off 64 (both lines, both directions).
    let (off, truth) = lines_off(&report);
    assert!(off * 10 <= truth, "{off} off {truth}: {report}");
}

#[test]
fn yolov5n_with_two_tiles_counts_each_readme_line_within_ten_percent() {
    // The line bar on the eight lines the README reports, with the README's advice for
    // this detector: YOLOv5n, two tiles, `line_band = 0.01`. Measured 8 off 221, every count
    // within 10 % (other lines still miss it: see README "Accuracy").
    let Some((video, gt, detector)) = pets_with_yolov5n_two_tiles() else {
        return;
    };
    let lines = [
        "0.5,0,0.5,1",
        "0.3,0,0.3,1",
        "0.7,0,0.7,1",
        "0,0.5,1,0.5",
        "0,0.4,1,0.4",
        "0,0.6,1,0.6",
        "0,0.3,1,0.7",
        "0.2,0,0.8,1",
    ];
    let (report, _) = eval_lines(&video, &gt, &detector, "line_band = 0.01\n", &lines);
    assert_eq!(report["frames"], 795, "{report}");
    assert_summary_matches_lines(&report);
    let over = counts_over_ten_percent(&report);
    assert!(over.is_empty(), "{over:?}: {report}");
    let (off, truth) = lines_off(&report);
    assert_eq!(truth, 221, "{report}");
    assert!(off <= 12, "{off} off {truth}: {report}");
}

#[test]
fn colours_keep_people_passing_each_other_apart_on_lines_never_tuned_on() {
    // `counting.appearance_weight = 4` with YOLOv5n and two tiles, on sixteen lines that no
    // setting was tuned on. Measured 18 off 491 (4 of 32 counts over 10 %) with colours, 28 off
    // (8 of 32) without them: two people passing each other on a line no longer swap tracks.
    let lines = [
        "0.33,0,0.33,1",
        "0.44,0,0.44,1",
        "0.57,0,0.57,1",
        "0.67,0,0.67,1",
        "0.74,0,0.74,1",
        "0,0.43,1,0.43",
        "0,0.49,1,0.49",
        "0,0.54,1,0.54",
        "0,0.59,1,0.59",
        "0.2,0.2,0.8,0.9",
        "0.8,0.1,0.2,0.9",
        "0.4,0,0.6,1",
        "0.6,0,0.4,1",
        "0,0.45,1,0.55",
        "0,0.52,1,0.42",
        "0.5,0.2,0.5,0.9",
    ];
    let Some((with, without)) = yolov5n_two_tiles_compared(
        &lines,
        "line_band = 0.01\nappearance_weight = 4.0\n",
        "line_band = 0.01\nappearance_weight = 0.0\n",
    ) else {
        return;
    };
    assert_better_within(&with, &without, 491, 22, 5);
}

#[test]
fn a_band_of_each_persons_height_counts_held_out_lines_closer() {
    // `counting.line_band_height = 0.05` against the fixed `line_band = 0.01`, both with
    // YOLOv5n, two tiles and colours (weight 4), on sixteen lines held out until the setting was
    // chosen on 80 others. Measured 16 off 457 (5 of 32 counts over 10 %) against 24 (7 of 32):
    // far away, where a step is a few pixels, the band narrows; close up, it widens over the
    // larger wobble of a tall box.
    let lines = [
        "0.23,0,0.23,1",
        "0.29,0,0.29,1",
        "0.39,0,0.39,1",
        "0.51,0,0.51,1",
        "0.56,0,0.56,1",
        "0.61,0,0.61,1",
        "0.69,0,0.69,1",
        "0.76,0,0.76,1",
        "0,0.37,1,0.37",
        "0,0.46,1,0.46",
        "0,0.56,1,0.56",
        "0,0.63,1,0.63",
        "0.28,0,0.48,1",
        "0.72,0,0.52,1",
        "0,0.62,1,0.38",
        "0.15,0.25,0.85,0.75",
    ];
    let Some((of_height, fixed)) = yolov5n_two_tiles_compared(
        &lines,
        "line_band_height = 0.05\nappearance_weight = 4.0\n",
        "line_band = 0.01\nappearance_weight = 4.0\n",
    ) else {
        return;
    };
    assert_better_within(&of_height, &fixed, 457, 20, 6);
}

#[test]
fn eval_without_json_prints_a_table() {
    let Some((video, gt)) = pets() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Only the first 40 frames: a truncated copy of the truth still scores what was run.
    let clip = dir.path().join("short.avi");
    let cut = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(&video)
        .args(["-frames:v", "40", "-c", "copy"])
        .arg(&clip)
        .status()
        .unwrap();
    assert!(cut.success());
    let config = write_config(dir.path(), "[detector]\nruntime = \"litert\"\n");
    let mut cmd = headcount();
    cmd.arg("eval")
        .arg(&clip)
        .arg("--truth")
        .arg(&gt)
        .args(["--line", "0.5,0,0.5,1", "--config"])
        .arg(&config);
    let out = run_with_timeout(cmd, LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("40 frames") && stdout.contains("MAE"),
        "{stdout}"
    );
    assert!(stdout.contains("0.50,0.00 -> 0.50,1.00"), "{stdout}");
    assert!(
        stdout.contains("of 2 counts within ±10 % of the truth"),
        "{stdout}"
    );
}

#[test]
fn eval_rejects_bad_lines_and_missing_or_broken_truth() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::one_by_one();
    let gt = dir.path().join("gt.txt");
    std::fs::write(&gt, "1,1,10,10,10,40,1,-1,-1,-1\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--truth".into(), "/nonexistent/gt.txt".into()],
            "/nonexistent/gt.txt",
        ),
        (
            vec![
                "--truth".into(),
                gt.display().to_string(),
                "--line".into(),
                "0.5,0,0.5".into(),
            ],
            "X1,Y1,X2,Y2",
        ),
        (
            vec![
                "--truth".into(),
                gt.display().to_string(),
                "--line".into(),
                "0,0,1.5,1".into(),
            ],
            "outside 0..=1",
        ),
    ];
    for (args, expect) in cases {
        let mut cmd = headcount();
        cmd.arg("eval").arg(&clip).args(&args);
        let out = run_with_timeout(cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let broken = dir.path().join("broken.txt");
    std::fs::write(&broken, "1,1,10,10,10,40,1\n2,one,1,1,1,1,1\n").unwrap();
    let mut cmd = headcount();
    cmd.arg("eval").arg(&clip).arg("--truth").arg(&broken);
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2") && stderr.contains("MOT"),
        "{stderr}"
    );
}

#[test]
fn yolov5n_is_decoded_with_letterboxing_and_counts_people_on_stills() {
    let Some(model) = common::shared("models/yolov5n/yolov5n-int8.tflite") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Both runtimes: TF 2.9 reads the int8 output in place, LiteRT copies its bytes out; each
    // dequantises with the output's scale and zero point.
    for runtime in ["tflite", "litert"] {
        let config = write_config(
            dir.path(),
            &format!(
                "[detector]\nmodel = \"{}\"\nthreshold = 0.4\nruntime = \"{runtime}\"\n",
                model.display()
            ),
        );
        // (still, people in it, what YOLOv5n is known to find)
        for (image, range) in [
            ("bus.jpg", 3..=4),
            ("zidane.jpg", 2..=2),
            ("grace_hopper.bmp", 1..=1),
        ] {
            let Some(path) = common::shared(&format!("images/{image}")) else {
                return;
            };
            let mut cmd = headcount();
            cmd.arg("replay").arg(&path).arg("--config").arg(&config);
            let out = run_with_timeout(cmd, Duration::from_secs(120));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{runtime} {image}: {stderr}");
            let count = common::first_occupancy_count(&String::from_utf8_lossy(&out.stdout))
                .expect("an occupancy message");
            assert!(range.contains(&count), "{runtime} {image}: {count} people");
        }
    }
}

//! `headcount eval` and the model families, end to end: the PETS09 benchmark scored against its
//! MOT ground truth, bad arguments, and YOLOv5n (GPL: read from ../shared, never committed).
//! The PETS09 accuracy claims, on shared evaluations, are in `eval_lines.rs`.

mod common;

use std::time::Duration;

use common::eval::{eval_two_lines, lines_off, pets, LIMIT};
use common::{headcount, run_with_timeout, write_config};

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
    let detector_too = dir.path().join("detector-too.toml");
    std::fs::write(&detector_too, "[detector]\nthreshold = 0.4\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--truth".into(),
                gt.display().to_string(),
                "--compare".into(),
                detector_too.display().to_string(),
            ],
            "[detector] is not allowed",
        ),
        (
            vec![
                "--truth".into(),
                gt.display().to_string(),
                "--compare".into(),
                "/nonexistent/compare.toml".into(),
            ],
            "--compare /nonexistent/compare.toml",
        ),
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

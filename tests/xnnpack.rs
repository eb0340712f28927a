//! XNNPACK on the TF 2.9 CPU path: attached with its quantised flags where the runtime's
//! XNNPACK can prepare the model (a float model, the int8 YOLOv5n), and TF Lite's built-in
//! kernels otherwise (the bundled uint8 SSD) — the daemon runs either way, says in its log which
//! one it got, and gives the same counts on every run.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{headcount, one_by_one, run_with_timeout, write_config};

/// Runs `replay` with info logs; returns (success, stdout, stderr).
fn replay(clip: &std::path::Path, config: &std::path::Path) -> (bool, String, String) {
    let mut cmd = headcount();
    cmd.env("HEADCOUNT_LOG", "info")
        .arg("replay")
        .arg(clip)
        .arg("--config")
        .arg(config);
    let out = run_with_timeout(cmd, Duration::from_secs(120));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Cuts `seconds` of `src` from `start` into `dst` (H.264, lossless).
fn cut(src: &std::path::Path, start: u32, seconds: u32, dst: &std::path::Path) {
    let made = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-ss"])
        .arg(start.to_string())
        .arg("-t")
        .arg(seconds.to_string())
        .arg("-i")
        .arg(src)
        .args(["-an", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0"])
        .arg(dst)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "ffmpeg could not cut {}", src.display());
}

#[test]
fn xnnpack_takes_a_float_model() {
    // The float32 ADD model is refused later (its input is no image), but XNNPACK prepares it
    // first: TF 2.9's XNNPACK works on this machine.
    let dir = tempfile::tempdir().unwrap();
    let model = common::root().join("tests/fixtures/vector-input.tflite");
    let config = write_config(
        dir.path(),
        &format!(
            "[detector]\nruntime = \"tflite\"\nmodel = \"{}\"\n",
            model.display()
        ),
    );
    let (ok, _, stderr) = replay(&one_by_one(), &config);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("XNNPACK runs the model"), "{stderr}");
    assert!(stderr.contains("image tensor"), "{stderr}");
}

#[test]
fn quantised_ssd_falls_back_to_built_in_kernels_and_still_counts() {
    // TF 2.9's XNNPACK cannot prepare the bundled uint8 SSD even with the QU8 flag: the
    // detector must say so and run on TF Lite's own kernels.
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("short.mp4");
    cut(&one_by_one(), 8, 1, &clip);
    let config = write_config(
        dir.path(),
        "[detector]\nruntime = \"tflite\"\naccelerator = \"cpu\"\n",
    );
    let (ok, stdout, stderr) = replay(&clip, &config);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("XNNPACK cannot run this model") && stderr.contains("failed to prepare"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("INFO: Created"),
        "runtime chatter leaked: {stderr}"
    );
    assert!(stdout.contains("/sensor/occupancy\""), "{stdout}");
}

#[test]
fn int8_yolov5n_runs_on_xnnpack_and_repeats_whatever_the_memory_layout() {
    // TF 2.9's XNNPACK takes the int8 YOLOv5n (GPL: read from ../shared). It used to fail
    // ("failed to create XNNPACK runtime") and the fallback's counts changed with the process's
    // memory layout: the delegate's options were read back from TF 2.9 through a struct of the
    // wrong size, so its weights-cache pointer and flags were stack garbage (vendor/README.md).
    let Some(model) = common::shared("models/yolov5n/yolov5n-int8.tflite") else {
        return;
    };
    let Some(pets) = common::shared("footage/pets09-s2l1/vtest.avi") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Five seconds: six occupancy changes (3 to 5 people), and two runs of YOLOv5n stay short.
    let clip = dir.path().join("pets-5s.mp4");
    cut(&pets, 0, 5, &clip);
    let config = write_config(
        dir.path(),
        &format!(
            "[detector]\nmodel = \"{}\"\nruntime = \"tflite\"\naccelerator = \"cpu\"\n\
             threshold = 0.4\n",
            model.display()
        ),
    );
    let messages = |padding: usize| {
        // The build that ships (YOLOv5n's 25,200 rows decoded per frame are slow unoptimised).
        let mut cmd = common::headcount_optimised();
        cmd.env("HEADCOUNT_LOG", "info")
            .env("HEADCOUNT_TEST_PADDING", "x".repeat(padding))
            .arg("replay")
            .arg(&clip)
            .arg("--config")
            .arg(&config);
        let out = run_with_timeout(cmd, Duration::from_secs(180));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("XNNPACK runs the model"), "{stderr}");
        // Every occupancy message without its clock fields: count, min, max and the window's mean.
        common::occupancy_messages(&String::from_utf8_lossy(&out.stdout))
            .into_iter()
            .map(|v| {
                let n = |k: &str| v[k].as_f64().unwrap_or(-1.0);
                [n("count"), n("min"), n("max"), n("mean")]
            })
            .collect::<Vec<_>>()
    };
    let first = messages(1);
    assert!(first.len() >= 3, "occupancy changes: {first:?}");
    assert!(
        first.iter().all(|m| (2.0..=9.0).contains(&m[0])),
        "{first:?}"
    );
    assert_eq!(
        first,
        messages(4099),
        "the same frames, another memory layout"
    );
}

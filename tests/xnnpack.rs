//! XNNPACK on the TF 2.9 CPU path: attached with its quantised flags where the runtime's
//! XNNPACK can prepare the model, and TF Lite's built-in kernels otherwise — the daemon runs
//! either way, and says in its log which one it got.

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

#[test]
fn xnnpack_takes_a_float_model() {
    // The float32 ADD model is refused later (its input is no image), but XNNPACK prepares it
    // first: TF 2.9's XNNPACK works on this machine.
    let dir = tempfile::tempdir().unwrap();
    let model = common::root().join("tests/fixtures/vector-input.tflite");
    let config = write_config(
        dir.path(),
        &format!("[detector]\nmodel = \"{}\"\n", model.display()),
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
    let made = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-ss",
            "8",
            "-t",
            "1",
            "-i",
        ])
        .arg(one_by_one())
        .args(["-an", "-c:v", "libx264", "-preset", "ultrafast"])
        .arg(&clip)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "ffmpeg could not cut the clip");
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

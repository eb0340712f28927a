//! A camera that cannot see must not report an empty room as a fact. Clips made by ffmpeg stand
//! in for a covered lens (black), a camera facing a wall (one flat grey), a fogged lens (the
//! one-by-one clip under a heavy blur) and a frozen camera (one frame of it, encoded as video):
//! each is replayed in real time, and `health.source` must turn `blind` or `frozen` with a
//! `last_error` naming the cause, and counts made meanwhile must say `"reliable": false`. The
//! unblurred clip, replayed the same way, must never be called either.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{headcount, one_by_one, run_with_timeout, write_config};

/// Seconds of each clip, and how long a condition must last before it is called.
const CLIP_S: u32 = 10;
const AFTER_S: u32 = 3;

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One of the test clips, written into `dir`.
fn clip(dir: &Path, kind: &str) -> PathBuf {
    let out = dir.join(format!("{kind}.mp4"));
    let o = out.to_str().unwrap();
    let t = CLIP_S.to_string();
    let source = one_by_one();
    let src = source.to_str().unwrap();
    match kind {
        "black" | "gray" => ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("color={kind}:s=640x360:r=10"),
            "-t",
            &t,
            "-pix_fmt",
            "yuv420p",
            o,
        ]),
        "blurred" => ffmpeg(&[
            "-i",
            src,
            "-t",
            &t,
            "-vf",
            "gblur=sigma=25",
            "-pix_fmt",
            "yuv420p",
            o,
        ]),
        "clear" => ffmpeg(&["-i", src, "-t", &t, "-pix_fmt", "yuv420p", o]),
        "frozen" => {
            let still = dir.join("still.png");
            let s = still.to_str().unwrap();
            ffmpeg(&["-ss", "5", "-i", src, "-frames:v", "1", s]);
            // Every frame coded alone (as a frozen MJPEG camera sends them): decoded, each is
            // the same to the bit. (A still coded with B-frames decodes to a short cycle of
            // frames instead; the unit tests of `source::view` cover that.)
            ffmpeg(&[
                "-loop", "1", "-i", s, "-t", &t, "-r", "10", "-g", "1", "-pix_fmt", "yuv420p", o,
            ]);
        }
        _ => unreachable!("{kind}"),
    }
    out
}

/// Replays a clip in real time with a heartbeat every second; returns the printed messages.
fn replay(kind: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path(), kind);
    let config = write_config(
        dir.path(),
        &format!(
            "[source]\nfps = 5\nblind_after_s = {AFTER_S}\nfrozen_after_s = {AFTER_S}\n\
             [mqtt]\ninterval_s = 1\n"
        ),
    );
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(&video)
        .arg("--realtime")
        .arg("--config")
        .arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn on(messages: &[serde_json::Value], suffix: &str) -> Vec<serde_json::Value> {
    messages
        .iter()
        .filter(|m| m["topic"].as_str().is_some_and(|t| t.ends_with(suffix)))
        .cloned()
        .collect()
}

/// The clip is called `state` with a `last_error` containing `cause`, and the counts made once it
/// was are marked.
fn assert_called(kind: &str, state: &str, cause: &str) {
    let messages = replay(kind);
    let health = on(&messages, "/health");
    let called = health
        .iter()
        .find(|h| h["source"] == state)
        .unwrap_or_else(|| panic!("{kind}: health never said {state}: {health:?}"));
    let error = called["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains(cause) && error.contains("counts are unreliable"),
        "{kind}: {error}"
    );
    // The last heartbeat (the input ended) still names the cause.
    let last = health.last().unwrap();
    assert_eq!(last["source"], "ended");
    assert!(last["last_error"]
        .as_str()
        .unwrap_or_default()
        .contains(cause));
    // Counts: the first (at start) is reliable, the last (made blind) is marked.
    let occupancy = on(&messages, "/occupancy");
    assert!(occupancy.len() >= 2, "{kind}: {occupancy:?}");
    assert!(
        occupancy[0].get("reliable").is_none(),
        "{kind}: {occupancy:?}"
    );
    assert_eq!(
        occupancy.last().unwrap()["reliable"],
        false,
        "{kind}: {occupancy:?}"
    );
}

#[test]
fn a_black_picture_is_blind_and_dark() {
    assert_called("black", "blind", "dark");
}

#[test]
fn a_flat_grey_picture_is_blind() {
    assert_called("gray", "blind", "shown nothing");
}

#[test]
fn a_heavily_blurred_picture_is_blind() {
    assert_called("blurred", "blind", "out of focus");
}

#[test]
fn a_frozen_picture_is_frozen() {
    assert_called("frozen", "frozen", "has not changed");
}

#[test]
fn a_clear_picture_is_never_called_blind_or_frozen() {
    let messages = replay("clear");
    let health = on(&messages, "/health");
    assert!(health.len() >= 5, "{health:?}");
    for h in &health {
        assert!(
            ["starting", "running", "ended"].contains(&h["source"].as_str().unwrap_or_default()),
            "{h}"
        );
        assert!(h.get("last_error").is_none(), "{h}");
    }
    assert!(
        messages.iter().all(|m| m.get("reliable").is_none()),
        "a count was marked unreliable"
    );
}

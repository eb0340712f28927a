//! `detector.runtime = "auto"`, the default: LiteRT on a CPU when its library is there, TF 2.9
//! when it is not (the Edge TPU branch is in tests/edgetpu.rs). `health.runtime` says what runs,
//! and the choice is logged once with its reason.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::headcount;

/// `headcount replay VIDEO` with no config: the `health` published at start, and the log.
fn first_health(video: &std::path::Path, env: &[(&str, &str)]) -> (serde_json::Value, String) {
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(video)
        .env("HEADCOUNT_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn headcount");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let health = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .find(|v| v["topic"].as_str().is_some_and(|t| t.ends_with("/health")));
        let _ = tx.send(health);
    });
    let health = rx.recv_timeout(Duration::from_secs(120)).ok().flatten();
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        health.unwrap_or_else(|| panic!("no health message:\n{log}")),
        log,
    )
}

#[test]
fn with_no_config_pets09_runs_on_litert() {
    let Some(video) = common::shared("footage/pets09-s2l1/vtest.avi") else {
        return;
    };
    let (health, log) = first_health(&video, &[]);
    assert_eq!(health["runtime"], "litert", "{health}\n{log}");
    assert_eq!(health["accelerator"], "cpu", "{health}");
    assert_eq!(log.matches("runtime auto: LiteRT").count(), 1, "{log}");
}

#[test]
fn without_litert_the_default_falls_back_to_tf_2_9_and_says_why() {
    let (health, log) = first_health(
        &common::one_by_one(),
        &[("HEADCOUNT_LITERT_LIB", "/nonexistent/libLiteRt.so")],
    );
    assert_eq!(health["runtime"], "tflite", "{health}\n{log}");
    assert!(
        log.contains("LiteRT not available") && log.contains("/nonexistent/libLiteRt.so"),
        "{log}"
    );
}

//! Replay throughput vs the raw `invoke()` limit, same model and threads, one run, one machine.
//!
//! For each runtime (TF 2.9 C, LiteRT):
//! 1. raw `invoke()` loop on a pre-made input (a real PETS frame already in the input tensor);
//! 2. `headcount replay` (the real binary, as fast as possible) on the PETS09-S2L1 clip.
//!
//! Run with `cargo bench --bench replay`. Needs `../shared/footage/pets09-s2l1/vtest.avi`
//! (skips with a message when missing, fails when `CI=true`). Set `HEADCOUNT_THREADS` to change
//! the interpreter thread count for both (default: the config default).

mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

use headcount::config::{Config, RuntimeKind};
use headcount::source::FrameSource;

use common::{fail, open_on};

/// One runtime's numbers.
struct Row {
    runtime: &'static str,
    invoke_fps: f64,
    replay_fps: f64,
}

/// Rounds per runtime; each figure is the best round.
const ROUNDS: usize = 3;

fn main() {
    let Some(clip) = common::pets_clip() else {
        return;
    };
    let threads = std::env::var("HEADCOUNT_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(Config::default().detector.threads);
    let mut rows = Vec::new();
    for (name, kind) in [
        ("tflite (TF 2.9 C)", RuntimeKind::Tflite),
        ("litert", RuntimeKind::Litert),
    ] {
        let mut config = Config::default();
        config.detector.threads = threads;
        config.detector.runtime = kind;
        // Best of ROUNDS, the two measurements interleaved: this shared 2-core machine's
        // run-to-run noise (±5 %) is as large as the difference being measured.
        let runtime = name.split(' ').next().unwrap_or(name);
        let mut row = Row {
            runtime: name,
            invoke_fps: 0.0,
            replay_fps: 0.0,
        };
        for _ in 0..ROUNDS {
            row.invoke_fps = row.invoke_fps.max(raw_invoke_fps(&config, &clip));
            row.replay_fps = row.replay_fps.max(replay_fps(&clip, threads, runtime));
        }
        rows.push(row);
    }
    println!(
        "PETS09-S2L1 (795 frames, 768x576 -> 300x300), SSD MobileNet v1 uint8, {threads} thread(s), best of {ROUNDS}"
    );
    println!("| runtime           | raw invoke() fps | ms | replay fps | ms | replay / invoke |");
    println!("|-------------------|-----------------:|---:|-----------:|---:|----------------:|");
    for r in &rows {
        println!(
            "| {:<17} | {:>16.2} | {:>4.1} | {:>10.2} | {:>4.1} | {:>15.3} |",
            r.runtime,
            r.invoke_fps,
            1000.0 / r.invoke_fps,
            r.replay_fps,
            1000.0 / r.replay_fps,
            r.replay_fps / r.invoke_fps
        );
    }
    if let [tf, lr] = rows.as_slice() {
        println!(
            "litert / tflite: raw invoke {:.2}x, replay {:.2}x",
            lr.invoke_fps / tf.invoke_fps,
            lr.replay_fps / tf.replay_fps
        );
    }
}

/// Raw `invoke()` loop on a real PETS frame already in the input.
fn raw_invoke_fps(config: &Config, clip: &std::path::Path) -> f64 {
    let (mut detector, mut source) = open_on(config, clip);
    let mut dets = Vec::new();
    if let Ok(Some(frame)) = source.next_frame() {
        // Fills the input with a real frame; also warms the runtime up.
        detector
            .detect(&frame, &mut dets)
            .unwrap_or_else(|e| fail(e));
    }
    drop(source);
    let n = 200;
    let t0 = Instant::now();
    for _ in 0..n {
        detector.invoke_only().unwrap_or_else(|e| fail(e));
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

/// The real binary, as a user runs it (model load and ffmpeg start included).
fn replay_fps(clip: &std::path::Path, threads: u32, runtime: &str) -> f64 {
    let dir = std::env::temp_dir().join(format!("headcount-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let cfg = dir.join("bench.toml");
    let _ = std::fs::write(
        &cfg,
        format!("[detector]\nthreads = {threads}\nruntime = \"{runtime}\"\n"),
    );
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_headcount"))
        .arg("replay")
        .arg(clip)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status();
    let seconds = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(s) if s.success() => 795.0 / seconds,
        other => fail(format!("headcount replay failed: {other:?}")),
    }
}

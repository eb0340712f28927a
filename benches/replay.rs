//! Replay throughput vs the raw `invoke()` limit, same model and threads, one run, one machine.
//!
//! 1. raw `invoke()` loop on a pre-made input (a real PETS frame already in the input tensor);
//! 2. `headcount replay` (the real binary, as fast as possible) on the PETS09-S2L1 clip.
//!
//! Run with `cargo bench --bench replay`. Needs `../shared/footage/pets09-s2l1/vtest.avi`
//! (skips with a message when missing, fails when `CI=true`). Set `HEADCOUNT_THREADS` to change
//! the interpreter thread count for both (default: the config default).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use headcount::config::Config;
use headcount::detect::Detector;
use headcount::service::open_detector;
use headcount::source::ffmpeg::{FfmpegOptions, FfmpegSource};
use headcount::source::FrameSource;

fn main() {
    let clip =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/footage/pets09-s2l1/vtest.avi");
    if !clip.exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            eprintln!("{} is missing, and CI must have ../shared", clip.display());
            std::process::exit(1);
        }
        eprintln!("skipping: {} is missing", clip.display());
        return;
    }
    let mut config = Config::default();
    if let Some(t) = std::env::var("HEADCOUNT_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        config.detector.threads = t;
    }
    let threads = config.detector.threads;

    // 1. Raw invoke loop.
    let mut detector = match open_detector(&config) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot open the detector: {e}");
            std::process::exit(1);
        }
    };
    let mut source = FfmpegSource::open(
        clip.to_str().unwrap_or_default(),
        detector.input_geometry(),
        &FfmpegOptions::default(),
    )
    .unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let mut dets = Vec::new();
    if let Ok(Some(frame)) = source.next_frame() {
        // Fills the input tensor with a real frame; also warms the interpreter up.
        if let Err(e) = detector.detect(&frame, &mut dets) {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    drop(source);
    let n_invoke = 300;
    let t0 = Instant::now();
    for _ in 0..n_invoke {
        if let Err(e) = detector.invoke_only() {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    let invoke_s = t0.elapsed().as_secs_f64();
    drop(detector);

    // 2. The real binary, as a user runs it (model load and ffmpeg start included).
    let dir = std::env::temp_dir().join(format!("headcount-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let cfg = dir.join("bench.toml");
    let _ = std::fs::write(&cfg, format!("[detector]\nthreads = {threads}\n"));
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_headcount"))
        .arg("replay")
        .arg(&clip)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status();
    let replay_s = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("headcount replay failed: {other:?}");
            std::process::exit(1);
        }
    }
    let frames = 795.0;
    let invoke_fps = n_invoke as f64 / invoke_s;
    let replay_fps = frames / replay_s;
    println!(
        "PETS09-S2L1 (768x576 -> 300x300), SSD MobileNet v1 uint8, TF 2.9 C, {threads} thread(s)"
    );
    println!("| what                     | frames | seconds | frames/s | ms/frame |");
    println!("|--------------------------|-------:|--------:|---------:|---------:|");
    println!(
        "| raw invoke() loop        | {n_invoke:>6} | {invoke_s:>7.2} | {invoke_fps:>8.2} | {:>8.2} |",
        1000.0 / invoke_fps
    );
    println!(
        "| headcount replay (binary)| {frames:>6} | {replay_s:>7.2} | {replay_fps:>8.2} | {:>8.2} |",
        1000.0 / replay_fps
    );
    println!("replay / raw invoke = {:.3}", replay_fps / invoke_fps);
}

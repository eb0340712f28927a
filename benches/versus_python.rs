//! headcount vs a Python reference pipeline doing the same work the way Coral's examples do
//! (`benches/python/reference.py`: the LiteRT interpreter from PyPI, numpy, the same ffmpeg
//! frames, threshold and NMS), same model and threads, one run: frames/s (whole process, model
//! load included), peak RSS (VmHWM, ffmpeg excluded) and whether per-frame counts are identical.
//!
//! Installs its own venv (`target/python-ref`, `ai-edge-litert==2.3.0`). Needs
//! `../shared/footage/pets09-s2l1/vtest.avi`. Run with `cargo bench --bench versus_python`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use headcount::config::{Config, RuntimeKind};
use headcount::source::FrameSource;

use common::{fail, open_on};

/// Runs a command to the end, sampling its peak RSS (VmHWM, KiB); returns (stdout, seconds, KiB).
fn run_measured(cmd: &mut Command) -> (String, f64, u64) {
    let t0 = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| fail(e));
    let status_path = format!("/proc/{}/status", child.id());
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    });
    let out = child.wait_with_output().unwrap_or_else(|e| fail(e));
    let seconds = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        fail(format!("{cmd:?} failed: {}", out.status));
    }
    let peak = sampler.join().unwrap_or(0);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        seconds,
        peak,
    )
}

fn venv(root: &Path) -> PathBuf {
    let dir = root.join("target/python-ref");
    let python = dir.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "ai-edge-litert==2.3.0",
                    "numpy",
                ])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            fail("cannot create the Python reference venv");
        }
    }
    python
}

/// headcount's own per-frame person counts (the library path `replay` runs).
fn headcount_counts(config: &Config, clip: &Path) -> Vec<usize> {
    let (mut detector, mut source) = open_on(config, clip);
    let mut counts = Vec::new();
    let mut dets = Vec::new();
    while let Some(frame) = source.next_frame().unwrap_or_else(|e| fail(e)) {
        detector
            .detect(&frame, &mut dets)
            .unwrap_or_else(|e| fail(e));
        counts.push(dets.len());
    }
    counts
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let Some(clip) = common::pets_clip() else {
        return;
    };
    let python = venv(&root);
    let mut config = Config::default();
    config.detector.runtime = RuntimeKind::Litert;
    let d = &config.detector;
    let model = root.join(headcount::detect::BUNDLED_MODEL);

    let (json, py_s, py_kib) = run_measured(
        Command::new(&python)
            .arg(root.join("benches/python/reference.py"))
            .arg(&clip)
            .arg(&model)
            .arg(d.threads.to_string())
            .arg(d.threshold.to_string())
            .arg(d.nms_iou.to_string())
            .arg(d.nms_containment.to_string()),
    );
    let py: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| fail(e));
    let py_counts: Vec<usize> = py["counts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as usize)
                .collect()
        })
        .unwrap_or_default();

    let mut rows = Vec::new();
    for (name, kind) in [
        ("litert", RuntimeKind::Litert),
        ("tflite", RuntimeKind::Tflite),
    ] {
        let dir = std::env::temp_dir().join(format!("hc-vs-py-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let cfg = dir.join("bench.toml");
        let _ = std::fs::write(
            &cfg,
            format!(
                "[detector]\nruntime = \"{name}\"\nthreads = {}\n",
                d.threads
            ),
        );
        let (_, s, kib) = run_measured(
            Command::new(env!("CARGO_BIN_EXE_headcount"))
                .arg("replay")
                .arg(&clip)
                .arg("--config")
                .arg(&cfg),
        );
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = config.clone();
        c.detector.runtime = kind;
        let counts = headcount_counts(&c, &clip);
        rows.push((name, counts.len() as f64 / s, kib, counts));
    }
    let frames = py_counts.len() as f64;
    println!(
        "PETS09-S2L1, SSD MobileNet v1 uint8, {} threads; whole process, model load included",
        d.threads
    );
    println!("| pipeline | frames/s | peak RSS (MiB) | per-frame counts vs Python |");
    println!("|---|---:|---:|---|");
    println!(
        "| Python reference (ai-edge-litert 2.3.0, numpy) | {:.2} | {:.1} | — |",
        frames / py_s,
        py_kib as f64 / 1024.0
    );
    for (name, fps, kib, counts) in &rows {
        let same = counts
            .iter()
            .zip(&py_counts)
            .filter(|(a, b)| a == b)
            .count();
        println!(
            "| headcount replay, runtime = {name} | {fps:.2} | {:.1} | {same} of {} identical |",
            *kib as f64 / 1024.0,
            py_counts.len()
        );
    }
    if let Some((_, fps, kib, _)) = rows.first() {
        println!(
            "headcount (litert) / Python: {:.2}x frames/s, {:.2}x peak RSS",
            fps / (frames / py_s),
            *kib as f64 / py_kib.max(1) as f64
        );
    }
}

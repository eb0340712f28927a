//! headcount vs the pipeline a Python user writes, same model and threads, one run: frames/s
//! (whole process, model load included), CPU seconds per frame (every process of the pipeline:
//! headcount and its ffmpeg and ffprobe children; Python, which decodes in-process), peak RSS
//! (VmHWM) of every process of the pipeline and the largest sum of the RSS of those alive at one
//! time (sampled every 20 ms), and whether per-frame counts are identical.
//!
//! Two Python references: `benches/python/opencv_reference.py`, as a user writes it (OpenCV
//! reads and resizes, the LiteRT interpreter from PyPI, numpy), which the ratios are against;
//! and `benches/python/reference.py`, the way Coral's examples do it but fed the very frames
//! headcount's ffmpeg command makes, so per-frame counts can be compared exactly. headcount runs
//! with its defaults as shipped (no config: `runtime = "auto"`), then each runtime.
//!
//! Installs its own venv (`target/python-ref`: `ai-edge-litert==2.3.0`, numpy,
//! `opencv-python-headless`). Needs `../shared/footage/pets09-s2l1/vtest.avi`. Run with
//! `cargo bench --bench versus_python`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use headcount::config::{Config, RuntimeKind};
use headcount::source::FrameSource;

use common::{cpu_seconds, fail, open_on, Cpu};

/// What one measured run took.
struct Measured {
    stdout: String,
    seconds: f64,
    /// CPU seconds (user + system) of the process and every descendant it waited for.
    cpu: f64,
    /// Peak RSS (VmHWM, KiB) per process name, the largest of each name.
    peaks: BTreeMap<String, u64>,
    /// The largest sum of the RSS (VmRSS, KiB) of the processes alive at one time.
    together: u64,
}

impl Measured {
    fn largest(&self) -> u64 {
        self.peaks.values().copied().max().unwrap_or(0)
    }
    fn processes(&self) -> String {
        self.peaks
            .iter()
            .map(|(name, kib)| format!("{name} {:.1}", *kib as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The process `pid` and its descendants (`/proc/PID/task/*/children`).
fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", all[i]));
        for task in tasks.into_iter().flatten().flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            all.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        i += 1;
    }
    all
}

/// (name, VmHWM KiB, VmRSS KiB) of process `pid`, while it lives.
fn memory_of(pid: u32) -> Option<(String, u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    let kib = |key: &str| {
        field(key)?
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
    };
    Some((field("Name:")?, kib("VmHWM:")?, kib("VmRSS:")?))
}

/// Runs a command to the end, sampling the peak RSS of it and its descendants every 20 ms.
fn run_measured(cmd: &mut Command) -> Measured {
    let cpu0 = cpu_seconds(Cpu::Children);
    let t0 = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| fail(e));
    let root = child.id();
    let sampler = std::thread::spawn(move || {
        let mut by_pid: BTreeMap<u32, (String, u64)> = BTreeMap::new();
        let mut together = 0;
        while std::fs::metadata(format!("/proc/{root}/status")).is_ok() {
            let mut now = 0;
            for pid in tree(root) {
                if let Some((name, peak, rss)) = memory_of(pid) {
                    let e = by_pid.entry(pid).or_insert((name, 0));
                    e.1 = e.1.max(peak);
                    now += rss;
                }
            }
            together = together.max(now);
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut peaks: BTreeMap<String, u64> = BTreeMap::new();
        for (name, kib) in by_pid.into_values() {
            let e = peaks.entry(name).or_insert(0);
            *e = (*e).max(kib);
        }
        (peaks, together)
    });
    let out = child.wait_with_output().unwrap_or_else(|e| fail(e));
    let seconds = t0.elapsed().as_secs_f64();
    if !out.status.success() {
        fail(format!("{cmd:?} failed: {}", out.status));
    }
    let (peaks, together) = sampler.join().unwrap_or_default();
    Measured {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        seconds,
        cpu: cpu_seconds(Cpu::Children) - cpu0,
        peaks,
        together,
    }
}

fn venv(root: &Path) -> PathBuf {
    let dir = root.join("target/python-ref");
    let python = dir.join("bin/python");
    let has = |module: &str| {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut ok = python.exists()
        || Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
    for (module, package) in [
        ("ai_edge_litert", "ai-edge-litert==2.3.0"),
        ("numpy", "numpy"),
        ("cv2", "opencv-python-headless"),
    ] {
        ok = ok
            && (has(module)
                || Command::new(&python)
                    .args(["-m", "pip", "install", "-q", package])
                    .status()
                    .is_ok_and(|s| s.success()));
    }
    if !ok {
        fail("cannot create the Python reference venv");
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

/// Per-frame counts from a Python reference's JSON.
fn python_counts(m: &Measured) -> Vec<usize> {
    let v: serde_json::Value = serde_json::from_str(&m.stdout).unwrap_or_else(|e| fail(e));
    v["counts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as usize)
                .collect()
        })
        .unwrap_or_default()
}

/// Whose per-frame counts a pipeline's row compares with those of Python on the same pixels.
#[derive(Clone, Copy)]
enum Counts {
    /// The Python reference's own output.
    Python,
    /// The same-pixels reference itself: nothing to compare.
    Reference,
    /// headcount's, from the library path with this runtime.
    Headcount(RuntimeKind),
}

/// The rows the ratios are between: the Python user's pipeline, the same-pixels reference whose
/// counts every row is compared with, and headcount with its defaults.
const USER: usize = 0;
const SAME_PIXELS: usize = 1;
const SHIPPED: usize = 2;

/// Keeps the faster of two runs of one pipeline.
fn faster(best: &mut Option<Measured>, run: Measured) {
    if best.as_ref().is_none_or(|b| run.seconds < b.seconds) {
        *best = Some(run);
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let Some(clip) = common::pets_clip() else {
        return;
    };
    let python = venv(&root);
    let config = Config::default();
    let d = &config.detector;
    // The defaults' interpreter threads (auto: this machine's cores, at most 4), for Python too.
    let threads = headcount::service::detector_threads(&config);
    let model = root.join(headcount::detect::BUNDLED_MODEL);
    let rounds: usize = std::env::var("HEADCOUNT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("hc-vs-py-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    // Each pipeline: its name, the command that runs it, and whose counts its row compares
    // (in the order of USER, SAME_PIXELS, SHIPPED, then the other runtimes).
    let mut pipelines: Vec<(String, Command, Counts)> = Vec::new();
    for (name, script, counts) in [
        (
            "Python as a user writes it (OpenCV, ai-edge-litert 2.3.0, numpy)",
            "opencv_reference.py",
            Counts::Python,
        ),
        (
            "Python, fed headcount's ffmpeg frames",
            "reference.py",
            Counts::Reference,
        ),
    ] {
        let mut cmd = Command::new(&python);
        cmd.arg(root.join("benches/python").join(script))
            .arg(&clip)
            .arg(&model)
            .arg(threads.to_string())
            .arg(d.threshold.to_string())
            .arg(d.nms_iou.to_string())
            .arg(d.nms_containment.to_string());
        pipelines.push((name.to_string(), cmd, counts));
    }
    for (name, runtime) in [
        ("defaults as shipped (`auto`)", None),
        (
            "`runtime = \"litert\"`",
            Some(("litert", RuntimeKind::Litert)),
        ),
        (
            "`runtime = \"tflite\"` (TF 2.9)",
            Some(("tflite", RuntimeKind::Tflite)),
        ),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_headcount"));
        cmd.arg("replay").arg(&clip).arg("--quiet");
        if let Some((key, _)) = runtime {
            let cfg = dir.join(format!("{key}.toml"));
            let _ = std::fs::write(&cfg, format!("[detector]\nruntime = \"{key}\"\n"));
            cmd.arg("--config").arg(&cfg);
        }
        let kind = runtime.map_or(RuntimeKind::Auto, |(_, kind)| kind);
        pipelines.push((
            format!("`headcount replay`, {name}"),
            cmd,
            Counts::Headcount(kind),
        ));
    }
    // Interleaved rounds, the fastest run of each pipeline kept (with its CPU and memory).
    let mut best: Vec<Option<Measured>> = (0..pipelines.len()).map(|_| None).collect();
    for _ in 0..rounds.max(1) {
        for (i, (_, cmd, _)) in pipelines.iter_mut().enumerate() {
            faster(&mut best[i], run_measured(cmd));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let best: Vec<Measured> = best.into_iter().flatten().collect();
    let frames = python_counts(&best[SAME_PIXELS]);

    let n = frames.len().max(1) as f64;
    println!(
        "PETS09-S2L1 ({} frames), SSD MobileNet v1 uint8, {} inference threads; whole pipeline, \
         model load included; the fastest of {rounds} interleaved rounds",
        frames.len(),
        threads
    );
    println!(
        "| pipeline | frames/s | CPU ms per frame | peak RSS, largest process | peak RSS of the \
         processes alive at once | each process's peak | per-frame counts |"
    );
    println!("|---|---:|---:|---:|---:|---|---|");
    let mib = |kib: u64| kib as f64 / 1024.0;
    let same = |counts: &[usize]| {
        let k = counts.iter().zip(&frames).filter(|(a, b)| a == b).count();
        format!(
            "{k} of {} identical to Python's on the same pixels",
            frames.len()
        )
    };
    for ((name, _, counts), m) in pipelines.iter().zip(&best) {
        let counts = match *counts {
            Counts::Headcount(kind) => {
                let mut c = config.clone();
                c.detector.runtime = kind;
                same(&headcount_counts(&c, &clip))
            }
            Counts::Python => same(&python_counts(m)),
            Counts::Reference => "—".to_string(),
        };
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} MiB | {:.1} MiB | {} | {counts} |",
            n / m.seconds,
            m.cpu * 1000.0 / n,
            mib(m.largest()),
            mib(m.together),
            m.processes()
        );
    }
    let (user, shipped) = (&best[USER], &best[SHIPPED]);
    println!(
        "headcount defaults / Python as a user writes it: {:.2}x frames/s (bar 1.3), {:.2}x CPU \
         per frame, {:.2}x peak RSS of the largest process (bar 0.6), {:.2}x of the processes \
         alive at once (bar 0.8)",
        user.seconds / shipped.seconds,
        shipped.cpu / user.cpu.max(1e-9),
        shipped.largest() as f64 / user.largest().max(1) as f64,
        shipped.together as f64 / user.together.max(1) as f64
    );
}

//! Replay throughput vs the raw `invoke()` limit, same model and threads, one run, one machine.
//!
//! For each runtime (TF 2.9 C, LiteRT):
//! 1. raw `invoke()` loop on a pre-made input (a real PETS frame already in the input tensor);
//! 2. `headcount replay` (the real binary, as fast as possible) on the PETS09-S2L1 clip.
//!
//! 3. `headcount replay` on the same frames already decoded and scaled to the model's input
//!    (rawvideo in NUT, made once by ffmpeg with headcount's own filter): its ffmpeg only passes
//!    them through, so its gap to raw `invoke()` is headcount's own per-frame work and start-up,
//!    and the gap between 2 and 3 is what decoding costs.
//!
//! Beside each, the CPU time a frame costs (user + system, from `getrusage`): the invoke loop's
//! own, and the replay's with its ffmpeg and ffprobe. The replay's can keep this machine's cores
//! busy for at most `cores x 1000 / CPU ms` frames/s: over the invoke loop's frames/s, that is
//! the ceiling of replay / invoke, whatever the overlap of decoding and inference.
//!
//! Run with `cargo bench --bench replay`. Needs `../shared/footage/pets09-s2l1/vtest.avi`
//! (skips with a message when missing, fails when `CI=true`). Set `HEADCOUNT_THREADS` to change
//! the interpreter thread count for both (default: the config default).

mod common;

use std::process::{Command, Stdio};
use std::time::Instant;

use headcount::config::{Config, RuntimeKind};
use headcount::service::detector_threads;
use headcount::source::FrameSource;

use common::{cpu_seconds, fail, open_on, Cpu};

/// One runtime's numbers: frames/s and CPU milliseconds per frame, the best round of each.
struct Row {
    runtime: &'static str,
    invoke: Speed,
    replay: Speed,
    decoded: Speed,
}

/// Frames/s and CPU milliseconds per frame of one loop.
#[derive(Clone, Copy)]
struct Speed {
    fps: f64,
    cpu_ms: f64,
}

impl Speed {
    const NONE: Speed = Speed {
        fps: 0.0,
        cpu_ms: f64::INFINITY,
    };

    /// The faster frames/s and the smaller CPU cost of the two.
    fn best(self, other: Speed) -> Speed {
        Speed {
            fps: self.fps.max(other.fps),
            cpu_ms: self.cpu_ms.min(other.cpu_ms),
        }
    }
}

/// Rounds per runtime; each figure is the best round.
const ROUNDS: usize = 3;
/// PETS09-S2L1's frames.
const FRAMES: f64 = 795.0;

fn main() {
    let Some(clip) = common::pets_clip() else {
        return;
    };
    let threads = std::env::var("HEADCOUNT_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| detector_threads(&Config::default()));
    let dir = std::env::temp_dir().join(format!("headcount-bench-decoded-{}", std::process::id()));
    let decoded = predecoded(&clip, &dir);
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
            invoke: Speed::NONE,
            replay: Speed::NONE,
            decoded: Speed::NONE,
        };
        for _ in 0..ROUNDS {
            row.invoke = row.invoke.best(raw_invoke(&config, &clip));
            row.replay = row.replay.best(replay(&clip, threads, runtime));
            row.decoded = row.decoded.best(replay(&decoded, threads, runtime));
        }
        rows.push(row);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "PETS09-S2L1 (795 frames, 768x576 -> 300x300), SSD MobileNet v1 uint8, {threads} thread(s), best of {ROUNDS}"
    );
    println!(
        "| runtime           | raw invoke() fps | ms | CPU ms | replay fps | ms | CPU ms | replay / invoke | ceiling | decoded frames fps | / invoke |"
    );
    println!(
        "|-------------------|-----------------:|---:|-------:|-----------:|---:|-------:|----------------:|--------:|-------------------:|---------:|"
    );
    for r in &rows {
        println!(
            "| {:<17} | {:>16.2} | {:>4.1} | {:>6.1} | {:>10.2} | {:>4.1} | {:>6.1} | {:>15.3} | {:>7.3} | {:>18.2} | {:>8.3} |",
            r.runtime,
            r.invoke.fps,
            1000.0 / r.invoke.fps,
            r.invoke.cpu_ms,
            r.replay.fps,
            1000.0 / r.replay.fps,
            r.replay.cpu_ms,
            r.replay.fps / r.invoke.fps,
            cores * 1000.0 / r.replay.cpu_ms / r.invoke.fps,
            r.decoded.fps,
            r.decoded.fps / r.invoke.fps
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "ceiling: the replay's CPU per frame (ffmpeg and ffprobe included) on {cores} cores, over raw invoke(); \
         decoded frames: the same replay with ffmpeg only passing frames through"
    );
    if let [tf, lr] = rows.as_slice() {
        println!(
            "litert / tflite: raw invoke {:.2}x, replay {:.2}x",
            lr.invoke.fps / tf.invoke.fps,
            lr.replay.fps / tf.replay.fps
        );
    }
}

/// The clip's frames decoded and scaled as headcount's ffmpeg does for a file (area scaling to
/// the bundled SSD's 300 x 300, rgb24), stored as rawvideo in NUT under `dir`. Replaying it runs
/// the same scale filter on frames already that size, which swscale passes through unchanged.
fn predecoded(clip: &std::path::Path, dir: &std::path::Path) -> std::path::PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let out = dir.join("pets09-300x300-rgb24.nut");
    let made = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(clip)
        .args(["-vf", "scale=300:300:flags=area", "-pix_fmt", "rgb24"])
        .args(["-c:v", "rawvideo"])
        .arg(&out)
        .status();
    match made {
        Ok(s) if s.success() => out,
        other => fail(format!("ffmpeg could not pre-decode the clip: {other:?}")),
    }
}

/// Raw `invoke()` loop on a real PETS frame already in the input.
fn raw_invoke(config: &Config, clip: &std::path::Path) -> Speed {
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
    let cpu0 = cpu_seconds(Cpu::Own);
    let t0 = Instant::now();
    for _ in 0..n {
        detector.invoke_only().unwrap_or_else(|e| fail(e));
    }
    Speed {
        fps: n as f64 / t0.elapsed().as_secs_f64(),
        cpu_ms: (cpu_seconds(Cpu::Own) - cpu0) * 1000.0 / n as f64,
    }
}

/// The real binary, as a user runs it (model load and ffmpeg start included).
fn replay(clip: &std::path::Path, threads: u32, runtime: &str) -> Speed {
    let dir = std::env::temp_dir().join(format!("headcount-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let cfg = dir.join("bench.toml");
    let _ = std::fs::write(
        &cfg,
        format!("[detector]\nthreads = {threads}\nruntime = \"{runtime}\"\n"),
    );
    let cpu0 = cpu_seconds(Cpu::Children);
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
        Ok(s) if s.success() => Speed {
            fps: FRAMES / seconds,
            cpu_ms: (cpu_seconds(Cpu::Children) - cpu0) * 1000.0 / FRAMES,
        },
        other => fail(format!("headcount replay failed: {other:?}")),
    }
}

//! What decoding MJPEG at reduced scale saves: a camera-like MJPEG clip (PETS09-S2L1 re-encoded at
//! 1280x720 and 1920x1080, quality 5) read through the real `FfmpegSource` at the bundled SSD's
//! 300x300 input, converted as a camera's frames are, with `mjpeg_lowres` on (the default) and
//! off. Reports frames/s and the CPU time
//! ffmpeg spent per frame (its user + system time, from `getrusage(RUSAGE_CHILDREN)`), best of 3
//! interleaved rounds.
//!
//! Run with `cargo bench --bench mjpeg`. Needs `../shared/footage/pets09-s2l1/vtest.avi` (skips
//! with a message when missing, fails when `CI=true`).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use headcount::source::ffmpeg::FfmpegOptions;
use headcount::source::{FfmpegSource, Fit, FrameGeometry, FrameSource};

use common::{cpu_seconds, fail, Cpu};

const FRAMES: u32 = 300;
const ROUNDS: usize = 3;

/// Reads every frame of `clip`; returns (frames/s, ffmpeg CPU ms per frame, lowres step used).
fn read_all(clip: &Path, lowres: bool) -> (f64, f64, u32) {
    let geometry = FrameGeometry {
        width: 300,
        height: 300,
        fit: Fit::Stretch,
    };
    // As the camera source converts (chroma at full resolution).
    let options = FfmpegOptions {
        exact_chroma: true,
        mjpeg_lowres: lowres,
        ..FfmpegOptions::default()
    };
    let cpu0 = cpu_seconds(Cpu::Children);
    let t0 = Instant::now();
    let mut source = FfmpegSource::open(clip.to_str().unwrap_or_default(), geometry, &options)
        .unwrap_or_else(|e| fail(e));
    let step = source.mjpeg_lowres();
    let mut n = 0u32;
    while source.next_frame().unwrap_or_else(|e| fail(e)).is_some() {
        n += 1;
    }
    drop(source); // reaps ffmpeg, so its CPU time is counted
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(Cpu::Children) - cpu0;
    if n != FRAMES {
        fail(format!(
            "{} gave {n} frames, expected {FRAMES}",
            clip.display()
        ));
    }
    (f64::from(n) / seconds, cpu * 1000.0 / f64::from(n), step)
}

fn main() {
    let Some(pets) = common::pets_clip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(e));
    println!("MJPEG (quality 5, {FRAMES} PETS09 frames) → 300x300 RGB, best of {ROUNDS}");
    println!("| source | decode | frames/s | ffmpeg CPU ms/frame |");
    println!("|---|---|---:|---:|");
    for (w, h) in [(1280, 720), (1920, 1080)] {
        let clip = dir.path().join(format!("{w}x{h}.avi"));
        let ok = Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-y", "-i"])
            .arg(&pets)
            .args(["-frames:v", &FRAMES.to_string()])
            .args(["-vf", &format!("scale={w}:{h}")])
            .args(["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj422p"])
            .arg(&clip)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            fail("ffmpeg could not make the MJPEG clip");
        }
        let mut best = [(0.0f64, f64::MAX, 0u32); 2];
        for _ in 0..ROUNDS {
            for (slot, lowres) in best.iter_mut().zip([false, true]) {
                let (fps, cpu, step) = read_all(&clip, lowres);
                *slot = (slot.0.max(fps), slot.1.min(cpu), step);
            }
        }
        for (fps, cpu, step) in best {
            let how = if step == 0 {
                "full size".to_string()
            } else {
                format!("1/{} (lowres {step})", 1 << step)
            };
            println!("| {w}x{h} | {how} | {fps:.1} | {cpu:.2} |");
        }
    }
}

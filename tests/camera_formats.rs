//! Camera pixel formats, end to end through the real ffmpeg conversion path the camera source
//! uses: a known smooth RGB picture is encoded as YUYV (4:2:2), NV12 (4:2:0) and MJPEG, as a camera
//! would deliver it, then read back by `FfmpegSource` into RGB at the detector's size, and compared
//! with the original.

use std::path::Path;
use std::process::Command;

use headcount::source::ffmpeg::FfmpegOptions;
use headcount::source::{FfmpegSource, Fit, FrameGeometry, FrameSource};

const W: u32 = 96;
const H: u32 = 64;

/// Horizontal red ramp, vertical green ramp, diagonal blue ramp: every value known.
fn original() -> Vec<u8> {
    let mut rgb = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            rgb.push((x * 255 / (W - 1)) as u8);
            rgb.push((y * 255 / (H - 1)) as u8);
            rgb.push(((x + y) * 255 / (W + H - 2)) as u8);
        }
    }
    rgb
}

/// Encodes the original with ffmpeg as `pix_fmt` / `codec` into `out`.
fn encode(dir: &Path, args: &[&str], out: &str) -> std::path::PathBuf {
    let raw = dir.join("original.rgb");
    std::fs::write(&raw, original()).unwrap();
    let path = dir.join(out);
    let status = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pixel_format",
            "rgb24",
        ])
        .args(["-video_size", &format!("{W}x{H}"), "-i"])
        .arg(&raw)
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    path
}

/// Reads the one frame back as RGB; returns (mean, 99th percentile, max) absolute difference to
/// the original, in levels.
fn round_trip(path: &Path) -> (f64, u8, u8) {
    round_trip_with(path, true).0
}

/// As [`round_trip`], with MJPEG reduced-scale decoding on or off; also returns the scale step
/// the source used.
fn round_trip_with(path: &Path, mjpeg_lowres: bool) -> ((f64, u8, u8), u32) {
    let geometry = FrameGeometry {
        width: W,
        height: H,
        fit: Fit::Stretch,
    };
    // As the camera source converts: chroma interpolated at full resolution.
    let options = FfmpegOptions {
        exact_chroma: true,
        mjpeg_lowres,
        ..FfmpegOptions::default()
    };
    let mut source = FfmpegSource::open(path.to_str().unwrap(), geometry, &options).expect("open");
    let lowres = source.mjpeg_lowres();
    let frame = source.next_frame().expect("read").expect("a frame");
    let want = original();
    assert_eq!(frame.rgb.len(), want.len());
    let mut diffs: Vec<u8> = frame
        .rgb
        .iter()
        .zip(&want)
        .map(|(a, b)| a.abs_diff(*b))
        .collect();
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    diffs.sort_unstable();
    let p99 = diffs[diffs.len() * 99 / 100];
    ((mean, p99, diffs.last().copied().unwrap_or(0)), lowres)
}

#[test]
fn yuyv_frames_convert_back_to_the_original_within_two_levels() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        &["-c:v", "rawvideo", "-pix_fmt", "yuyv422"],
        "yuyv.nut",
    );
    let (mean, p99, max) = round_trip(&path);
    eprintln!("YUYV: mean {mean:.2}, p99 {p99}, max {max}");
    assert!(
        mean <= 2.0 && p99 <= 3 && max <= 4,
        "mean {mean:.2}, p99 {p99}, max {max}"
    );
}

#[test]
fn nv12_frames_convert_back_to_the_original_within_two_levels() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        &["-c:v", "rawvideo", "-pix_fmt", "nv12"],
        "nv12.nut",
    );
    let (mean, p99, max) = round_trip(&path);
    eprintln!("NV12: mean {mean:.2}, p99 {p99}, max {max}");
    // 4:2:0 halves the vertical chroma resolution too: a few edge pixels are off by up to 5.
    assert!(
        mean <= 2.0 && p99 <= 3 && max <= 6,
        "mean {mean:.2}, p99 {p99}, max {max}"
    );
}

#[test]
fn mjpeg_frames_decode_close_to_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        &["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj422p"],
        "frame.avi",
    );
    let (mean, p99, max) = round_trip(&path);
    eprintln!("MJPEG: mean {mean:.2}, p99 {p99}, max {max}");
    // JPEG is lossy: the mean stays within two levels, single pixels a little further.
    assert!(
        mean <= 2.0 && p99 <= 3 && max <= 8,
        "mean {mean:.2}, p99 {p99}, max {max}"
    );
}

#[test]
fn large_mjpeg_is_decoded_at_reduced_scale_and_still_matches() {
    // A camera sending 4x the detector's size each way: decoded at 1/4 (scaled IDCT), then
    // converted as usual. It must come out as close to the picture as a full-size decode does.
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        &[
            "-vf",
            &format!("scale={}:{}:flags=bicubic", W * 4, H * 4),
            "-c:v",
            "mjpeg",
            "-q:v",
            "2",
            "-pix_fmt",
            "yuvj422p",
        ],
        "large.avi",
    );
    let ((mean, p99, max), lowres) = round_trip_with(&path, true);
    let ((full_mean, _, _), full_lowres) = round_trip_with(&path, false);
    eprintln!(
        "MJPEG 4x at 1/{}: mean {mean:.2}, p99 {p99}, max {max}; full size: mean {full_mean:.2}",
        1 << lowres
    );
    assert_eq!(lowres, 2, "a 4x picture decodes at 1/4");
    assert_eq!(full_lowres, 0);
    assert!(
        mean <= 2.0 && p99 <= 4 && max <= 10,
        "mean {mean:.2}, p99 {p99}, max {max}"
    );
    assert!(mean <= full_mean + 0.5, "{mean:.2} vs {full_mean:.2}");
}

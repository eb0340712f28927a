//! Asking `ffprobe` what a video is before ffmpeg decodes it: the first video stream's frame
//! rate and size, and a clear error (with any credentials in the URL replaced by the display
//! name) when the input cannot be read or has no video. Reads metadata only, never a frame.

use std::path::Path;
use std::process::Command;

use super::child::{output_within, spawn_error, Cut, Input};
use super::options::FfmpegOptions;
use super::SourceError;
use crate::shutdown::Shutdown;

/// `ffprobe` beside the configured `ffmpeg` (or on PATH).
fn ffprobe_for(ffmpeg: &str) -> String {
    match Path::new(ffmpeg).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("ffprobe").to_string_lossy().into(),
        _ => "ffprobe".into(),
    }
}

/// What ffprobe says about the first video stream (and the file's length).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    /// ffmpeg's name of the stream's codec ("mjpeg", "h264", …; empty when not reported).
    pub codec: String,
    /// The container's duration (`format=duration`); `None` for a stream or when not said.
    pub duration: Option<std::time::Duration>,
}

/// [`probe`] for a caller that has not redacted the URL itself: one ffprobe run answers both
/// what the service needs before the source opens (the clip's length) and what the source
/// needs (`FfmpegOptions::probed`), so a replay starts one ffprobe, not two.
fn probe_video(url: &str, options: &FfmpegOptions) -> Result<Probe, SourceError> {
    probe(url, &crate::redact::redact_url(url), options)
}

/// Asks ffprobe for the first video stream's frame rate and size; fails clearly on unreadable
/// input.
pub(super) fn probe(url: &str, name: &str, options: &FfmpegOptions) -> Result<Probe, SourceError> {
    let ffprobe = ffprobe_for(&options.ffmpeg);
    let mut cmd = Command::new(&ffprobe);
    cmd.args(["-v", "error", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,avg_frame_rate,r_frame_rate,width,height:format=duration",
        ])
        .args(["-of", "default=noprint_wrappers=1"]);
    let input = Input::new(url, &[]);
    let out = output_within(
        &mut cmd,
        &input,
        options.open_timeout,
        options.stop.as_ref(),
    )
    .map_err(|cut| match cut {
        Cut::Spawn(e) => spawn_error(&ffprobe, e),
        Cut::TimedOut(after) => SourceError::Stalled {
            url: name.to_string(),
            after_s: after.as_secs(),
            key: "source.open_timeout_s",
        },
        Cut::Stopped => SourceError::Stopped {
            url: name.to_string(),
        },
    })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let cause = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.replace(url, name))
            .map(|l| {
                l.trim_start_matches(&format!("{name}: "))
                    .trim_start_matches("pipe:0: ")
                    .to_string()
            })
            .unwrap_or_else(|| format!("ffprobe exited with {}", out.status));
        return Err(SourceError::Unreadable {
            url: name.to_string(),
            cause,
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let has = |key: &str| stdout.lines().any(|l| l.starts_with(key));
    if !has("codec_name=") && !has("width=") {
        return Err(SourceError::NoVideoStream {
            url: name.to_string(),
        });
    }
    let rate = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(parse_rate)
    };
    let size = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    Ok(Probe {
        fps: rate("avg_frame_rate=")
            .or_else(|| rate("r_frame_rate="))
            .unwrap_or(25.0),
        width: size("width="),
        height: size("height="),
        codec: stdout
            .lines()
            .find_map(|l| l.strip_prefix("codec_name="))
            .unwrap_or_default()
            .trim()
            .to_string(),
        duration: stdout
            .lines()
            .find_map(|l| l.strip_prefix("duration="))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| (0.0..1e7).contains(s))
            .map(std::time::Duration::from_secs_f64),
    })
}

/// [`probe_video`] for a caller holding only the config's `ffmpeg`, a time limit and a stop:
/// `None` when ffprobe cannot tell (the source, opening later, reports why).
pub fn probe_clip(
    url: &str,
    ffmpeg: &str,
    limit: std::time::Duration,
    stop: Option<&Shutdown>,
) -> Option<Probe> {
    let options = FfmpegOptions {
        ffmpeg: ffmpeg.to_string(),
        open_timeout: limit,
        stop: stop.cloned(),
        ..FfmpegOptions::default()
    };
    probe_video(url, &options).ok()
}

/// Parses ffprobe's "30000/1001" (or "10") into frames per second; `None` for 0/0 and nonsense.
fn parse_rate(s: &str) -> Option<f64> {
    let (n, d) = s.trim().split_once('/').unwrap_or((s.trim(), "1"));
    let (n, d) = (n.parse::<f64>().ok()?, d.parse::<f64>().ok()?);
    let r = n / d;
    (r.is_finite() && r > 0.0 && r <= 1000.0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("10/1"), Some(10.0));
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 0.01);
        assert_eq!(parse_rate("25"), Some(25.0));
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("x"), None);
    }

    #[test]
    fn ffprobe_is_found_beside_ffmpeg() {
        assert_eq!(ffprobe_for("ffmpeg"), "ffprobe");
        assert_eq!(ffprobe_for("/opt/ff/bin/ffmpeg"), "/opt/ff/bin/ffprobe");
    }
}
#[cfg(test)]
mod duration_tests {
    #[test]
    fn the_committed_clip_lasts_139_s() {
        let clip = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/one-by-one/one-by-one-person-detection.mp4"
        );
        let limit = std::time::Duration::from_secs(20);
        let d = super::probe_clip(clip, "ffmpeg", limit, None)
            .and_then(|p| p.duration)
            .expect("a duration");
        assert!((d.as_secs_f64() - 139.4).abs() < 0.1, "{d:?}");
        assert_eq!(
            super::probe_clip("/nonexistent.mp4", "ffmpeg", limit, None),
            None
        );
    }

    #[test]
    fn one_ffprobe_run_says_the_stream_and_the_length() {
        let clip = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/one-by-one/one-by-one-person-detection.mp4"
        );
        let options = super::FfmpegOptions::default();
        let p = super::probe_video(clip, &options).expect("the committed clip probes");
        assert_eq!((p.width, p.height, p.codec.as_str()), (768, 432, "h264"));
        assert!((p.fps - 10.0).abs() < 0.01, "{}", p.fps);
        let d = p.duration.expect("a file's length").as_secs_f64();
        assert!((d - 139.4).abs() < 0.1, "{d}");
    }

    #[test]
    fn a_file_without_video_is_said_to_have_none() {
        let dir = std::env::temp_dir().join(format!("headcount-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wav = dir.join("tone.wav");
        let made = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"])
            .args(["-i", "sine=duration=1"])
            .arg(&wav)
            .status()
            .unwrap();
        assert!(made.success());
        let options = super::FfmpegOptions::default();
        let got = super::probe_video(&wav.to_string_lossy(), &options);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            matches!(got, Err(super::SourceError::NoVideoStream { .. })),
            "{got:?}"
        );
    }
}

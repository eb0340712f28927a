//! Frame sources: where frames are born.
//!
//! A source owns one reused frame buffer and lends it out as a [`Frame`] that borrows the source,
//! so the borrow checker guarantees nothing holds a frame once the next one is read. Sources
//! never write frames anywhere but that buffer: not to disk, logs or sockets.
//!
//! Backends, one file each: [`ffmpeg`] (video files, streams, and V4L2 cameras through ffmpeg's
//! `v4l2` input), helped by `probe` (asks ffprobe what the input is), and `decode_scale` (MJPEG
//! decoded smaller when the model input is small).
//! [`camera`] negotiates a camera's mode; [`reopen`] reopens a lost live input; [`latest`] wraps
//! a live source so the newest frame wins when inference is slower. [`view`] judges whether the
//! camera still sees the room (blind, frozen) from the frame already in memory.

pub mod camera;
mod child;
mod decode_scale;
pub mod ffmpeg;
pub mod latest;
mod options;
mod probe;
pub mod reopen;
pub mod view;

use std::path::PathBuf;
use std::time::Duration;

pub use crate::redact::redact_url;
pub use ffmpeg::FfmpegSource;
pub use latest::LatestFrame;
pub use probe::{probe_clip, Probe};

/// How a frame is fitted to the detector's input size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Stretch to the input size, ignoring aspect ratio (what SSD models were trained with).
    Stretch,
    /// Scale to fit inside and pad the rest (what YOLO models expect).
    Letterbox,
}

/// The size and layout a source must deliver frames in: packed RGB, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGeometry {
    pub width: u32,
    pub height: u32,
    pub fit: Fit,
}

impl FrameGeometry {
    pub fn rgb_len(&self) -> usize {
        self.width as usize * self.height as usize * 3
    }
}

/// The part of a frame that holds the picture, in normalised frame coordinates: all of it for a
/// stretched frame, less the padding for a letterboxed one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Picture {
    pub x0: f32,
    pub y0: f32,
    pub width: f32,
    pub height: f32,
}

impl Picture {
    pub const FULL: Picture = Picture {
        x0: 0.0,
        y0: 0.0,
        width: 1.0,
        height: 1.0,
    };

    /// Where a `src_w` × `src_h` picture lands when letterboxed into `geometry` (scaled to fit,
    /// centred, the rest padded), as ffmpeg's `force_original_aspect_ratio=decrease` + `pad` do.
    pub fn letterboxed(src_w: u32, src_h: u32, geometry: FrameGeometry) -> Picture {
        if geometry.fit == Fit::Stretch || src_w == 0 || src_h == 0 {
            return Picture::FULL;
        }
        let (w, h) = (f64::from(geometry.width), f64::from(geometry.height));
        let scale = (w / f64::from(src_w)).min(h / f64::from(src_h));
        let (iw, ih) = (
            (f64::from(src_w) * scale).round().min(w),
            (f64::from(src_h) * scale).round().min(h),
        );
        let (x0, y0) = (((w - iw) / 2.0).floor(), ((h - ih) / 2.0).floor());
        Picture {
            x0: (x0 / w) as f32,
            y0: (y0 / h) as f32,
            width: (iw / w) as f32,
            height: (ih / h) as f32,
        }
    }

    /// Maps a point from frame coordinates to picture coordinates (0..1 over the picture alone,
    /// clamped), so zones and lines mean the same on every model.
    pub fn unmap(&self, (x, y): (f32, f32)) -> (f32, f32) {
        (
            ((x - self.x0) / self.width).clamp(0.0, 1.0),
            ((y - self.y0) / self.height).clamp(0.0, 1.0),
        )
    }
}

/// One frame, borrowed from its source's buffer until the next frame is read.
#[derive(Debug)]
pub struct Frame<'a> {
    /// 0-based index of the frame among those the source delivered.
    pub index: u64,
    /// Time since the start of the source: media time for files read as fast as possible,
    /// monotonic wall time otherwise.
    pub t: Duration,
    pub geometry: FrameGeometry,
    /// Packed RGB24, `geometry.rgb_len()` bytes. Mutable only so privacy masks can black out
    /// pixels in place before detection.
    pub rgb: &'a mut [u8],
}

/// Why a source could not deliver a frame. Every variant names the input.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("video {path} not found")]
    NotFound { path: PathBuf },
    /// `others`: the V4L2 devices that are there, for the hint.
    #[error("camera {device} not found (source.device): {}", camera_hint(others))]
    CameraNotFound {
        device: PathBuf,
        others: Vec<PathBuf>,
    },
    #[error("cannot run {program}: {cause} (install ffmpeg, e.g. `apt-get install ffmpeg`)")]
    FfmpegMissing { program: String, cause: String },
    #[error("cannot read video {url}: {cause}")]
    Unreadable { url: String, cause: String },
    #[error("video {url} has no video stream")]
    NoVideoStream { url: String },
    #[error("video {url}: stream ended in the middle of frame {index} ({got} of {want} bytes)")]
    Truncated {
        url: String,
        index: u64,
        got: usize,
        want: usize,
    },
    #[error("video {url}: decoding failed after {frames} frames: {cause}")]
    Decode {
        url: String,
        frames: u64,
        cause: String,
    },
    #[error("video {url}: {cause}")]
    Io { url: String, cause: std::io::Error },
    #[error(
        "video {url}: no frame for {after_s} s ({key}): the source does not answer (a stream \
         server that accepts and sends nothing, a pipe with no writer, a hung camera)"
    )]
    Stalled {
        url: String,
        after_s: u64,
        key: &'static str,
    },
    #[error("stopped while opening {url}")]
    Stopped { url: String },
}

impl SourceError {
    /// A camera device that is not there, with the V4L2 devices that are.
    pub fn camera_not_found(device: &std::path::Path) -> Self {
        let others = video_nodes();
        SourceError::CameraNotFound {
            device: device.to_path_buf(),
            others,
        }
    }
}

/// The `/dev/video*` nodes there are, sorted (V4L2 capture devices among them).
pub fn video_nodes() -> Vec<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir("/dev")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("video"))
                })
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes
}

fn camera_hint(others: &[PathBuf]) -> String {
    if others.is_empty() {
        "no /dev/video* device here: is the camera plugged in and its driver loaded? \
         (`headcount devices` lists cameras)"
            .into()
    } else {
        let list: Vec<String> = others.iter().map(|p| p.display().to_string()).collect();
        format!(
            "devices here: {} (`headcount devices` says which capture video)",
            list.join(", ")
        )
    }
}

/// Something that produces frames of a fixed geometry.
pub trait FrameSource: Send {
    /// Reads the next frame into the source's buffer. `Ok(None)` is a clean end of stream.
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError>;
    /// The clip's (or camera's) frame rate, frames per second.
    fn fps(&self) -> f64;
    /// Human-readable name of the input, for logs and errors (a path or URL without credentials).
    fn name(&self) -> &str;
    /// Frames the source skipped so far because the consumer was busy (live sources).
    fn dropped(&self) -> u64 {
        0
    }
    /// Where the picture lies inside each frame (letterboxing).
    fn picture(&self) -> Picture {
        Picture::FULL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterboxed_picture_and_unmapping() {
        let g = FrameGeometry {
            width: 640,
            height: 640,
            fit: Fit::Letterbox,
        };
        // 768x576 into 640x640: scaled to 640x480, 80 px of padding above and below.
        let p = Picture::letterboxed(768, 576, g);
        assert_eq!((p.x0, p.width), (0.0, 1.0));
        assert!(
            (p.y0 - 0.125).abs() < 1e-6 && (p.height - 0.75).abs() < 1e-6,
            "{p:?}"
        );
        let (x, y) = p.unmap((0.5, 0.125));
        assert!((x - 0.5).abs() < 1e-6 && y.abs() < 1e-6, "{x} {y}");
        let (_, y) = p.unmap((0.6, 0.5));
        assert!((y - 0.5).abs() < 1e-6, "{y}");
        assert_eq!(p.unmap((0.5, 0.99)).1, 1.0, "clamped to the picture");
        let stretch = FrameGeometry {
            fit: Fit::Stretch,
            ..g
        };
        assert_eq!(Picture::letterboxed(768, 576, stretch), Picture::FULL);
    }
}

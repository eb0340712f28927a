//! Frame sources: where frames are born.
//!
//! A source owns one reused frame buffer and lends it out as a [`Frame`] that borrows the source,
//! so the borrow checker guarantees nothing holds a frame once the next one is read. Sources
//! never write frames anywhere but that buffer: not to disk, logs or sockets.
//!
//! Backends, one file each: [`ffmpeg`] (video files and streams). The V4L2 camera joins here.
//! [`latest`] wraps a live source so the newest frame wins when inference is slower.

pub mod ffmpeg;
pub mod latest;

use std::path::PathBuf;
use std::time::Duration;

pub use ffmpeg::FfmpegSource;
pub use latest::LatestFrame;

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
}

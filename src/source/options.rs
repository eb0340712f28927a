//! How ffmpeg is asked to open an input: read by `probe` (ffprobe) and [`super::ffmpeg`] alike,
//! so neither imports the other.

use std::time::Duration;

/// Options for opening a video through ffmpeg.
#[derive(Debug, Clone)]
pub struct FfmpegOptions {
    /// `ffmpeg` executable; `ffprobe` is looked up beside it.
    pub ffmpeg: String,
    /// Resample to this rate (frames per second); 0 = the clip's own rate.
    pub fps: f64,
    /// Read the input at its native rate (`ffmpeg -re`), as a camera would deliver it.
    pub realtime: bool,
    /// A V4L2 camera: ffmpeg's `v4l2` input (memory-mapped streaming) in the negotiated mode.
    pub camera: Option<CameraInput>,
    /// Convert chroma at full resolution (always on for cameras).
    pub exact_chroma: bool,
    /// Decode MJPEG at 1/2, 1/4 or 1/8 scale (libavcodec's `lowres`, scaled IDCT) when that
    /// still covers the detector's input; off only to measure what it saves.
    pub mjpeg_lowres: bool,
    /// ffmpeg's decoder and filter threads (`-threads`, `-filter_threads`); 0 = ffmpeg's own
    /// choice (one per core and more).
    pub threads: u32,
    /// ffprobe's answer for this input, when the caller already asked (not asked again).
    pub probed: Option<super::probe::Probe>,
    /// How long opening may take (ffprobe's answer, then the first frame).
    pub open_timeout: Duration,
    /// How long a frame may take once frames flow.
    pub read_timeout: Duration,
    /// A stop request (SIGTERM) that ends any wait at once.
    pub stop: Option<crate::shutdown::Shutdown>,
}

/// How ffmpeg opens a V4L2 camera.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraInput {
    /// ffmpeg's name of the camera's pixel format: "mjpeg", "yuyv422", "nv12".
    pub input_format: &'static str,
    pub width: u32,
    pub height: u32,
    /// Requested frame rate; 0 = the camera's default.
    pub fps: f64,
}

impl Default for FfmpegOptions {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            fps: 0.0,
            realtime: false,
            camera: None,
            exact_chroma: false,
            mjpeg_lowres: true,
            threads: 0,
            probed: None,
            open_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(10),
            stop: None,
        }
    }
}

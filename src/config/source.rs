//! The `[source]` section: where frames come from (a file, a stream, a camera) and how long the
//! pipeline waits on it.

use serde::{Deserialize, Serialize};

/// `source.input_format`'s values (the camera module reads each as a V4L2 pixel format).
pub const INPUT_FORMATS: [&str; 4] = ["auto", "mjpeg", "yuyv", "nv12"];

/// Which kind of frame source feeds the pipeline.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A video file or stream URL read through an `ffmpeg` child process.
    #[default]
    Video,
    /// A V4L2 camera (`source.device`), reopened with backoff when it disappears.
    Camera,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// Video file path or stream URL (`rtsp://…`, `http://…`): anything ffmpeg reads.
    pub url: String,
    /// Frames per second handed to the detector; 0 = the clip's own rate.
    pub fps: f64,
    /// Pace a file at its own frame rate (as a camera would deliver it) instead of as fast as possible.
    pub realtime: bool,
    /// Path of the `ffmpeg` executable (its sibling `ffprobe` is used to inspect inputs).
    pub ffmpeg: String,
    /// Camera: the V4L2 device (`/dev/video0`, or a stable `/dev/v4l/by-id/…` path).
    pub device: String,
    /// Camera: the capture size asked for (the closest the camera lists is used).
    pub width: u32,
    pub height: u32,
    /// Camera: "auto" (MJPEG, then YUYV, then NV12), "mjpeg", "yuyv" or "nv12".
    pub input_format: String,
    /// Seconds the picture must stay dark, featureless or out of focus before `health.source`
    /// says `blind` and counts are marked unreliable; 0 = never.
    pub blind_after_s: u32,
    /// Seconds the picture must stay exactly the same before `health.source` says `frozen`;
    /// 0 = never.
    pub frozen_after_s: u32,
    /// Seconds a file, stream or camera may take to open (ffprobe's answer, ffmpeg's first
    /// frame) before it is given up as not answering.
    pub open_timeout_s: u32,
    /// Seconds without a frame, once the source delivers, before it is given up as stalled
    /// (ffmpeg is stopped; a stream or camera is then reopened with backoff).
    pub read_timeout_s: u32,
    /// ffmpeg's decoding and scaling threads; 0 = auto: the cores inference leaves
    /// (the machine's cores − `detector.threads` as resolved, auto included), at least one.
    pub decoder_threads: u32,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            kind: SourceKind::Video,
            url: String::new(),
            fps: 0.0,
            realtime: false,
            ffmpeg: "ffmpeg".into(),
            device: "/dev/video0".into(),
            width: 640,
            height: 480,
            input_format: "auto".into(),
            blind_after_s: 30,
            frozen_after_s: 60,
            open_timeout_s: 20,
            read_timeout_s: 10,
            decoder_threads: 0,
        }
    }
}

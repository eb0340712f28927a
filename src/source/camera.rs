//! V4L2 cameras: which mode to capture in, and a source that survives the camera going away.
//!
//! The mode (pixel format and size) is negotiated from what the driver lists
//! ([`crate::devices`]): the configured format, or MJPEG, then YUYV, then NV12; the smallest
//! listed size that covers the requested one, else the largest. Capture itself is ffmpeg's `v4l2`
//! input (memory-mapped streaming, MJPEG decoding, YUV conversion and scaling straight to the
//! detector's input size, in the ffmpeg child), read like any other [`super::FfmpegSource`]. When
//! the camera disappears, [`super::reopen::Reopening`] reports it in health and opens it again
//! with backoff.
//! Never writes a frame anywhere but the source's buffer.

use super::options::CameraInput;

/// A camera pixel format headcount knows how to ask ffmpeg for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Mjpeg,
    Yuyv,
    Nv12,
}

impl PixelFormat {
    /// The V4L2 FourCC.
    pub fn fourcc(self) -> &'static str {
        match self {
            PixelFormat::Mjpeg => "MJPG",
            PixelFormat::Yuyv => "YUYV",
            PixelFormat::Nv12 => "NV12",
        }
    }

    /// ffmpeg's `-input_format` name.
    pub fn ffmpeg(self) -> &'static str {
        match self {
            PixelFormat::Mjpeg => "mjpeg",
            PixelFormat::Yuyv => "yuyv422",
            PixelFormat::Nv12 => "nv12",
        }
    }

    pub fn from_name(name: &str) -> Option<Option<PixelFormat>> {
        match name {
            "auto" => Some(None),
            "mjpeg" => Some(Some(PixelFormat::Mjpeg)),
            "yuyv" => Some(Some(PixelFormat::Yuyv)),
            "nv12" => Some(Some(PixelFormat::Nv12)),
            _ => None,
        }
    }
}

/// The order tried when the config says "auto": MJPEG gives full frame rates at high resolutions
/// over USB 2; YUYV and NV12 are uncompressed.
pub const FALLBACK: [PixelFormat; 3] = [PixelFormat::Mjpeg, PixelFormat::Yuyv, PixelFormat::Nv12];

/// The capture mode chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraMode {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
}

/// Chooses a mode from a device's formats (FourCC, discrete sizes; empty sizes = any size).
pub fn negotiate(
    available: &[(String, Vec<(u32, u32)>)],
    wanted: Option<PixelFormat>,
    size: (u32, u32),
) -> Result<CameraMode, String> {
    let order: Vec<PixelFormat> = match wanted {
        Some(f) => vec![f],
        None => FALLBACK.to_vec(),
    };
    for format in order {
        let Some((_, sizes)) = available.iter().find(|(cc, _)| cc == format.fourcc()) else {
            continue;
        };
        let (width, height) = if sizes.is_empty() {
            size
        } else {
            let covering = sizes
                .iter()
                .filter(|(w, h)| *w >= size.0 && *h >= size.1)
                .min_by_key(|(w, h)| u64::from(*w) * u64::from(*h));
            let largest = sizes
                .iter()
                .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h));
            match covering.or(largest) {
                Some(&s) => s,
                None => size,
            }
        };
        return Ok(CameraMode {
            format,
            width,
            height,
        });
    }
    let listed: Vec<&str> = available.iter().map(|(cc, _)| cc.as_str()).collect();
    let tried: Vec<&str> = match wanted {
        Some(f) => vec![f.fourcc()],
        None => FALLBACK.iter().map(|f| f.fourcc()).collect(),
    };
    Err(format!(
        "the camera offers {} but headcount needs one of {}",
        if listed.is_empty() {
            "no capture format".to_string()
        } else {
            listed.join(", ")
        },
        tried.join(", ")
    ))
}

impl CameraMode {
    pub fn input(&self, fps: f64) -> CameraInput {
        CameraInput {
            input_format: self.format.ffmpeg(),
            width: self.width,
            height: self.height,
            fps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_format_the_config_allows_is_read() {
        for name in crate::config::INPUT_FORMATS {
            assert!(PixelFormat::from_name(name).is_some(), "{name}");
        }
        assert!(PixelFormat::from_name("h264").is_none());
    }

    /// A Logitech-C920-like description: MJPEG and YUYV at several sizes.
    fn webcam() -> Vec<(String, Vec<(u32, u32)>)> {
        vec![
            ("YUYV".into(), vec![(640, 480), (160, 120), (1920, 1080)]),
            ("MJPG".into(), vec![(1280, 720), (640, 480), (320, 240)]),
        ]
    }

    #[test]
    fn auto_prefers_mjpeg_at_the_smallest_size_covering_the_request() {
        let m = negotiate(&webcam(), None, (400, 300)).unwrap();
        assert_eq!(
            (m.format, m.width, m.height),
            (PixelFormat::Mjpeg, 640, 480)
        );
        let m = negotiate(&webcam(), None, (4000, 3000)).unwrap();
        assert_eq!(
            (m.width, m.height),
            (1280, 720),
            "the largest when none covers it"
        );
    }

    #[test]
    fn a_configured_format_is_honoured_or_refused_by_name() {
        let m = negotiate(&webcam(), Some(PixelFormat::Yuyv), (160, 120)).unwrap();
        assert_eq!((m.format, m.width, m.height), (PixelFormat::Yuyv, 160, 120));
        let e = negotiate(&webcam(), Some(PixelFormat::Nv12), (640, 480)).unwrap_err();
        assert!(e.contains("YUYV, MJPG") && e.contains("NV12"), "{e}");
    }

    #[test]
    fn falls_back_through_yuyv_to_nv12_and_ranges_take_the_request() {
        let pi_camera = vec![("NV12".to_string(), vec![]), ("BA81".to_string(), vec![])];
        let m = negotiate(&pi_camera, None, (640, 480)).unwrap();
        assert_eq!((m.format, m.width, m.height), (PixelFormat::Nv12, 640, 480));
        assert_eq!(m.input(5.0).input_format, "nv12");
        let e = negotiate(&[("BA81".into(), vec![])], None, (640, 480)).unwrap_err();
        assert!(e.contains("BA81") && e.contains("MJPG, YUYV, NV12"), "{e}");
    }
}

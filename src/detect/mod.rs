//! Person detection: a frame in, person boxes out (in memory only).
//!
//! A [`Detector`] reads a borrowed frame once (preprocessing straight into its input tensor) and
//! fills a caller-owned list of [`Detection`]s. Boxes never leave the process: they cross to
//! counting and are dropped there. This module must never keep, copy out or log a frame, and
//! never log a box.
//!
//! Backends, one file each: [`tflite`] (TF 2.9 C API via `edgefirst-tflite`, and the Edge TPU
//! delegate's host) and [`litert`] (LiteRT, the fast CPU path). `model_check` validates a model
//! before either runs it; [`runtime`] finds and loads the runtime libraries. Output decoders per
//! model family live in [`decode`].

pub mod appearance;
pub mod decode;
pub mod edgetpu;
pub mod litert;
mod model_check;
pub mod nms;
pub mod preprocess;
pub mod runtime;
pub mod tflite;
pub mod tiles;

use std::path::PathBuf;

use crate::source::{Frame, FrameGeometry, Picture};

pub use litert::LiteRtDetector;
pub use tflite::{ModelSpec, TfliteDetector, TfliteOptions};
pub use tiles::{TileGrid, TiledDetector};

/// The bundled default model, SSD MobileNet v1 COCO (uint8, 300×300, Apache-2.0).
pub const BUNDLED_MODEL: &str = "models/ssd_mobilenet_v1_coco_quant/detect.tflite";

/// Where the bundled model is: beside the executable's project (`target/*/headcount` in a
/// checkout), the .deb's `/usr/share/headcount/`, the working directory, or the source tree this
/// binary was built from. The first existing one wins; if none exists, the first candidate is
/// returned so the error names it.
pub fn bundled_model() -> PathBuf {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
    {
        if let Some(root) = dir.parent().and_then(|p| p.parent()) {
            candidates.push(root.join(BUNDLED_MODEL));
        }
    }
    candidates.push(PathBuf::from("/usr/share/headcount").join(BUNDLED_MODEL));
    candidates.push(PathBuf::from(BUNDLED_MODEL));
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BUNDLED_MODEL));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| candidates[0].clone())
}

/// How close to the picture's border (normalised) a box must come to be cut by it.
pub const BORDER: f32 = 0.005;

/// An axis-aligned box in normalised image coordinates (0..1, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub xmin: f32,
    pub ymin: f32,
    pub xmax: f32,
    pub ymax: f32,
}

impl BBox {
    /// This box in picture coordinates (0..1 over the picture alone, without a letterbox's
    /// padding), so zones and lines mean the same on every model.
    pub fn in_picture(&self, picture: &Picture) -> BBox {
        if *picture == Picture::FULL {
            return *self;
        }
        let (xmin, ymin) = picture.unmap((self.xmin, self.ymin));
        let (xmax, ymax) = picture.unmap((self.xmax, self.ymax));
        BBox {
            xmin,
            ymin,
            xmax,
            ymax,
        }
    }

    pub fn area(&self) -> f32 {
        (self.xmax - self.xmin).max(0.0) * (self.ymax - self.ymin).max(0.0)
    }

    pub fn intersection(&self, other: &BBox) -> f32 {
        let w = self.xmax.min(other.xmax) - self.xmin.max(other.xmin);
        let h = self.ymax.min(other.ymax) - self.ymin.max(other.ymin);
        w.max(0.0) * h.max(0.0)
    }

    pub fn iou(&self, other: &BBox) -> f32 {
        let inter = self.intersection(other);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    /// Foot point (bottom centre): where a person stands.
    pub fn foot(&self) -> (f32, f32) {
        ((self.xmin + self.xmax) / 2.0, self.ymax)
    }

    /// Cut by the picture's border: boxes are clamped to the picture, so a cut one ends on (or
    /// within [`BORDER`] of) the border.
    pub fn at_border(&self) -> bool {
        self.xmin < BORDER
            || self.ymin < BORDER
            || self.xmax > 1.0 - BORDER
            || self.ymax > 1.0 - BORDER
    }
}

/// One detected person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub bbox: BBox,
    pub score: f32,
    pub class: u32,
    /// Coarse colours of the person, filled in only when the tracker uses them
    /// (`counting.appearance_weight` > 0); never logged or published.
    pub appearance: Option<appearance::Appearance>,
}

/// What a detector is, for logs and health (no pixels, no boxes).
#[derive(Debug, Clone)]
pub struct DetectorInfo {
    pub backend: &'static str,
    pub model: PathBuf,
    pub runtime_library: PathBuf,
    pub threads: u32,
    pub family: &'static str,
    /// "cpu" or "edgetpu".
    pub accelerator: &'static str,
}

/// Why a detector could not be built or run. Every variant names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(
        "{what} not found; looked in: {searched}. Run scripts/setup.sh, or set the path in the \
         config or {env}"
    )]
    RuntimeNotFound {
        what: &'static str,
        env: &'static str,
        searched: String,
    },
    #[error("cannot load {what} {path}: {cause}")]
    RuntimeLoad {
        what: &'static str,
        path: PathBuf,
        cause: String,
    },
    #[error("model {path} not found")]
    ModelNotFound { path: PathBuf },
    #[error("model {path}: {cause}")]
    ModelInvalid { path: PathBuf, cause: String },
    #[error(
        "model {path}: input is {found}; headcount needs one image tensor [1,H,W,3] of uint8, int8 or float32"
    )]
    NotAnImageModel { path: PathBuf, found: String },
    #[error("model {path}: outputs {found} are not a supported detector head ({supported})")]
    UnsupportedOutputs {
        path: PathBuf,
        found: String,
        supported: &'static str,
    },
    #[error("detector.accelerator = \"edgetpu\": {0}")]
    EdgeTpu(#[from] edgetpu::EdgeTpuError),
    #[error("inference failed: {0}")]
    Invoke(String),
    #[error("frame is {got}x{got_h}, the detector needs {want}x{want_h}")]
    FrameSize {
        got: u32,
        got_h: u32,
        want: u32,
        want_h: u32,
    },
}

/// Checks that a frame has the size a detector was opened for.
pub fn check_frame_size(frame: &Frame<'_>, want: FrameGeometry) -> Result<(), DetectError> {
    let got = frame.geometry;
    if got.width == want.width && got.height == want.height {
        Ok(())
    } else {
        Err(DetectError::FrameSize {
            got: got.width,
            got_h: got.height,
            want: want.width,
            want_h: want.height,
        })
    }
}

/// A person detector. Implementations are one file each: [`tflite`] (TF 2.9 C, on the CPU or
/// the Edge TPU) and [`litert`] (LiteRT, the fast CPU path).
pub trait Detector: Send {
    /// The frame size and fit the detector wants; sources deliver exactly this.
    fn input_geometry(&self) -> FrameGeometry;
    /// Detects people in `frame`, replacing the contents of `out` (reused between frames).
    fn detect(&mut self, frame: &Frame<'_>, out: &mut Vec<Detection>) -> Result<(), DetectError>;
    fn info(&self) -> &DetectorInfo;
    /// Runs inference once on whatever the input holds (benchmarks: the raw `invoke()` limit).
    fn invoke_only(&mut self) -> Result<(), DetectError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_boxes() {
        let a = BBox {
            xmin: 0.0,
            ymin: 0.0,
            xmax: 0.5,
            ymax: 0.5,
        };
        let b = BBox {
            xmin: 0.25,
            ymin: 0.0,
            xmax: 0.75,
            ymax: 0.5,
        };
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(a.iou(&a), 1.0);
        let far = BBox {
            xmin: 0.9,
            ymin: 0.9,
            xmax: 1.0,
            ymax: 1.0,
        };
        assert_eq!(a.iou(&far), 0.0);
        assert_eq!(a.foot(), (0.25, 0.5));
    }

    #[test]
    fn boxes_move_from_the_letterboxed_frame_to_the_picture() {
        use crate::source::Fit;
        let g = FrameGeometry {
            width: 640,
            height: 640,
            fit: Fit::Letterbox,
        };
        // 768x576 into 640x640: 80 px of padding above and below.
        let p = Picture::letterboxed(768, 576, g);
        let b = BBox {
            xmin: 0.5,
            ymin: 0.125,
            xmax: 0.6,
            ymax: 0.5,
        }
        .in_picture(&p);
        assert!(b.ymin.abs() < 1e-6 && (b.ymax - 0.5).abs() < 1e-6, "{b:?}");
        assert!(
            (b.xmin - 0.5).abs() < 1e-6 && (b.xmax - 0.6).abs() < 1e-6,
            "{b:?}"
        );
        assert_eq!(b.in_picture(&Picture::FULL), b);
    }
}

//! Output decoders, one file per model family: raw output tensors → person [`Detection`]s.
//!
//! A decoder is chosen from the model's output tensor shapes and names, so a new family is one
//! file here plus one arm in [`Head::detect`]. Decoders are pure functions of the output values:
//! they never see a frame and never log a box.
//!
//! [`Detection`]: crate::detect::Detection

pub mod ssd;
pub mod yolo;

use super::preprocess::Normalization;
use super::Detection;

/// The most outputs a supported head has.
pub const MAX_OUTPUTS: usize = 8;

use crate::source::Fit;
pub use ssd::{SsdHead, SsdOutputs};
pub use yolo::{YoloHead, YoloLayout};

/// Which detections count as people.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PersonFilter {
    /// Index of the person class in the model's output.
    pub class: u32,
    /// Minimum score kept.
    pub threshold: f32,
}

/// What the detector knows about one output tensor before any inference.
#[derive(Debug, Clone)]
pub struct OutputInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub is_float: bool,
}

/// How to turn a quantised output tensor's values into real numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutputType {
    F32,
    U8 { scale: f32, zero_point: i32 },
    I8 { scale: f32, zero_point: i32 },
}

impl OutputType {
    /// Bytes per element.
    pub fn element_size(self) -> usize {
        match self {
            OutputType::F32 => 4,
            OutputType::U8 { .. } | OutputType::I8 { .. } => 1,
        }
    }

    /// Dequantises `raw` (the tensor's bytes) into `out`.
    pub fn dequantize(self, raw: &[u8], out: &mut [f32]) {
        match self {
            OutputType::F32 => {}
            OutputType::U8 { scale, zero_point } => {
                for (o, &b) in out.iter_mut().zip(raw) {
                    *o = (i32::from(b) - zero_point) as f32 * scale;
                }
            }
            OutputType::I8 { scale, zero_point } => {
                for (o, &b) in out.iter_mut().zip(raw) {
                    *o = (i32::from(b as i8) - zero_point) as f32 * scale;
                }
            }
        }
    }
}

/// The decoders headcount knows, as listed in errors.
pub const SUPPORTED: &str =
    "SSD TFLite_Detection_PostProcess: float32 boxes [1,N,4], classes [1,N], scores [1,N], count [1]; \
     YOLOv5 [1,N,5+C]; YOLOv8 [1,4+C,N]";

/// A recognised detector head.
#[derive(Debug, Clone)]
pub enum Head {
    Ssd(SsdHead),
    Yolo(YoloHead),
}

impl Head {
    /// Recognises the family from the outputs, or `None` if headcount cannot decode them.
    /// `input` is the model's input width and height.
    pub fn detect(outputs: &[OutputInfo], input: (u32, u32)) -> Option<Head> {
        SsdHead::from_outputs(outputs)
            .map(Head::Ssd)
            .or_else(|| YoloHead::from_outputs(outputs, input).map(Head::Yolo))
    }

    /// How this family's models expect pixel values.
    pub fn normalization(&self) -> Normalization {
        match self {
            Head::Ssd(_) => Normalization::SIGNED_UNIT,
            Head::Yolo(_) => Normalization::UNIT,
        }
    }

    /// How frames are fitted to the input: SSD models were trained on stretched images, YOLO
    /// on letterboxed ones.
    pub fn fit(&self) -> Fit {
        match self {
            Head::Ssd(_) => Fit::Stretch,
            Head::Yolo(_) => Fit::Letterbox,
        }
    }

    /// The number of f32 values each model output holds, by output index.
    pub fn output_lens(&self) -> Vec<usize> {
        match self {
            Head::Ssd(h) => {
                let mut lens = vec![0; 4];
                lens[h.boxes] = h.max_detections * 4;
                lens[h.classes] = h.max_detections;
                lens[h.scores] = h.max_detections;
                lens[h.count] = 1;
                lens
            }
            Head::Yolo(h) => vec![h.output_len()],
        }
    }

    /// Decodes the model's outputs (`outputs[i]` = output `i` as f32) into person detections.
    pub fn decode(&self, outputs: &[&[f32]], filter: PersonFilter, out: &mut Vec<Detection>) {
        let get = |i: usize| outputs.get(i).copied().unwrap_or(&[]);
        match self {
            Head::Ssd(h) => {
                let raw = SsdOutputs {
                    boxes: get(h.boxes),
                    classes: get(h.classes),
                    scores: get(h.scores),
                    count: get(h.count).first().copied().unwrap_or(0.0),
                };
                h.decode(&raw, filter, out);
            }
            Head::Yolo(h) => h.decode(get(0), filter, out),
        }
    }

    pub fn family(&self) -> &'static str {
        match self {
            Head::Ssd(_) => "ssd-postprocess",
            Head::Yolo(h) => match h.layout {
                YoloLayout::V5 => "yolov5",
                YoloLayout::V8 => "yolov8",
            },
        }
    }
}

/// Formats output shapes for an error message: `[1,10,4] f32, [1,10] f32`.
pub fn describe(outputs: &[OutputInfo]) -> String {
    let parts: Vec<String> = outputs
        .iter()
        .map(|o| {
            let dims: Vec<String> = o.shape.iter().map(usize::to_string).collect();
            format!(
                "[{}] {}",
                dims.join(","),
                if o.is_float { "float32" } else { "non-float" }
            )
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

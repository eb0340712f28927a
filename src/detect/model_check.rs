//! Checking a model before a runtime runs it: the file is a complete TFLite flatbuffer, it has
//! exactly one image input `[1,H,W,3]` of a supported type, and what its outputs are (names,
//! shapes, quantisation) so the detector head can be recognised. Reads the model, never a frame.

use std::path::Path;

use edgefirst_tflite::{Interpreter, TensorType};

use super::decode::{OutputInfo, OutputType};
use super::preprocess::InputKind;
use super::DetectError;
use crate::source::{Fit, FrameGeometry};

/// Reads the model file and checks it is a TFLite flatbuffer at all (identifier `TFL3`) and not
/// cut short, before the runtime sees it.
pub(super) fn read_model(path: &Path) -> Result<Vec<u8>, DetectError> {
    let bytes = crate::bounded_read::read(path, crate::bounded_read::MODEL_BYTES).map_err(|e| {
        match e.kind() {
            std::io::ErrorKind::NotFound => DetectError::ModelNotFound {
                path: path.to_path_buf(),
            },
            _ => DetectError::ModelInvalid {
                path: path.to_path_buf(),
                cause: e.to_string(),
            },
        }
    })?;
    let invalid = |cause: &str| DetectError::ModelInvalid {
        path: path.to_path_buf(),
        cause: cause.to_string(),
    };
    if bytes.len() < 8 || &bytes[4..8] != b"TFL3" {
        return Err(invalid(
            "not a TensorFlow Lite model (no TFL3 identifier); is the file complete?",
        ));
    }
    Ok(bytes)
}

/// Checks the model has one image input [1,H,W,3] of a supported type.
pub(super) fn image_input(
    interpreter: &Interpreter<'_>,
    path: &Path,
) -> Result<(FrameGeometry, InputKind), DetectError> {
    let inputs = interpreter
        .inputs()
        .map_err(|e| DetectError::ModelInvalid {
            path: path.to_path_buf(),
            cause: e.to_string(),
        })?;
    let not_image = |found: String| DetectError::NotAnImageModel {
        path: path.to_path_buf(),
        found,
    };
    let [input] = inputs.as_slice() else {
        return Err(not_image(format!("{} input tensors", inputs.len())));
    };
    let shape = input.shape().unwrap_or_default();
    let ty = input.tensor_type();
    let found = || {
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        format!("'{}' [{}] {:?}", input.name(), dims.join(","), ty)
    };
    let q = input.quantization_params();
    let kind = match ty {
        TensorType::UInt8 => InputKind::U8 {
            scale: q.scale,
            zero_point: q.zero_point,
        },
        TensorType::Int8 => InputKind::I8 {
            scale: q.scale,
            zero_point: q.zero_point,
        },
        TensorType::Float32 => InputKind::F32,
        _ => return Err(not_image(found())),
    };
    match shape.as_slice() {
        &[1, h, w, 3] if (16..=4096).contains(&h) && (16..=4096).contains(&w) => Ok((
            FrameGeometry {
                width: w as u32,
                height: h as u32,
                fit: Fit::Stretch,
            },
            kind,
        )),
        _ => Err(not_image(found())),
    }
}

/// Each output's name, shape and how its values are stored.
pub(super) fn output_infos(
    interpreter: &Interpreter<'_>,
) -> Result<(Vec<OutputInfo>, Vec<OutputType>), edgefirst_tflite::Error> {
    let mut infos = Vec::new();
    let mut types = Vec::new();
    for t in interpreter.outputs()?.iter() {
        let q = t.quantization_params();
        let ty = match t.tensor_type() {
            TensorType::UInt8 => OutputType::U8 {
                scale: q.scale,
                zero_point: q.zero_point,
            },
            TensorType::Int8 => OutputType::I8 {
                scale: q.scale,
                zero_point: q.zero_point,
            },
            _ => OutputType::F32,
        };
        infos.push(OutputInfo {
            name: t.name().to_string(),
            shape: t.shape().unwrap_or_default(),
            is_float: t.tensor_type() == TensorType::Float32,
        });
        types.push(ty);
    }
    Ok((infos, types))
}

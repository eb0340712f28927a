//! The TF 2.9 C API backend (through `edgefirst-tflite`): the CPU path today, the Edge TPU
//! delegate's host tomorrow.
//!
//! Validates the model before it is used (a TFLite flatbuffer, one image input, a known detector
//! head), then per frame: pixels → input tensor through a lookup table, invoke, decode, NMS.
//! Never copies the frame anywhere but the input tensor, never logs a box.

use std::path::{Path, PathBuf};

use edgefirst_tflite::{Interpreter, Library, Model, TensorType};
use zeroize::Zeroize;

use super::decode::{self, Head, OutputInfo, PersonFilter, MAX_OUTPUTS};
use super::preprocess::{InputKind, InputLut};
use super::{nms, runtime, DetectError, Detection, Detector, DetectorInfo};
use crate::source::{Fit, Frame, FrameGeometry};

/// A validated model's interface: input geometry, pixel mapping and output head.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub geometry: FrameGeometry,
    pub lut: InputLut,
    pub head: Head,
}

/// What the TF Lite backend needs to know beyond the model file.
#[derive(Debug, Clone)]
pub struct TfliteOptions {
    pub model: PathBuf,
    /// Path of `libtensorflowlite_c.so`; empty = search (see [`runtime`]).
    pub runtime_library: String,
    pub threads: u32,
    pub threshold: f32,
    pub nms_iou: f32,
    pub nms_containment: f32,
    pub person_class: u32,
    /// Path of `libLiteRt.so` for the LiteRT backend; empty = search.
    pub litert_library: String,
}

/// A loaded model with its interpreter. Field order matters: the interpreter is dropped before
/// the model whose buffer it reads.
pub struct TfliteDetector {
    interpreter: Interpreter<'static>,
    _model: Model<'static>,
    head: Head,
    lut: InputLut,
    geometry: FrameGeometry,
    options: TfliteOptions,
    info: DetectorInfo,
}

impl TfliteDetector {
    pub fn open(options: TfliteOptions) -> Result<Self, DetectError> {
        let path = options.model.clone();
        let bytes = read_model(&path)?;
        let (lib, lib_path) = runtime::load(runtime::TFLITE, &options.runtime_library)?;
        let invalid = |cause: String| DetectError::ModelInvalid {
            path: path.clone(),
            cause,
        };
        // TF Lite prints its reasons on stderr; capture them into the error.
        let with_reason = |what: &str, e: edgefirst_tflite::Error, said: String| {
            let reason = if said.is_empty() { e.to_string() } else { said };
            invalid(format!("{what} ({reason})"))
        };
        let (model, said) = runtime::capture_stderr(|| Model::from_bytes(lib, bytes));
        let model = model.map_err(|e| with_reason("not a valid TensorFlow Lite model", e, said))?;
        let threads = i32::try_from(options.threads).unwrap_or(1);
        let builder = Interpreter::builder(lib).map_err(|e| invalid(e.to_string()))?;
        let (interpreter, said) =
            runtime::capture_stderr(|| builder.num_threads(threads).build(&model));
        let interpreter = interpreter
            .map_err(|e| with_reason("cannot prepare the model for inference", e, said))?;

        let (geometry, kind) = image_input(&interpreter, &path)?;
        let outputs = output_infos(&interpreter).map_err(|e| invalid(e.to_string()))?;
        let head = Head::detect(&outputs).ok_or_else(|| DetectError::UnsupportedOutputs {
            path: path.clone(),
            found: decode::describe(&outputs),
            supported: decode::SUPPORTED,
        })?;
        let info = DetectorInfo {
            backend: "tflite",
            model: path.clone(),
            runtime_library: lib_path,
            threads: options.threads,
            family: head.family(),
        };
        tracing::info!(
            model = %path.display(),
            runtime = %info.runtime_library.display(),
            width = geometry.width,
            height = geometry.height,
            family = info.family,
            threads = options.threads,
            "detector ready"
        );
        let _ = lib_version(lib);
        Ok(Self {
            interpreter,
            _model: model,
            lut: InputLut::new(kind, head.normalization()),
            head,
            geometry,
            options,
            info,
        })
    }

    /// What the model needs and produces, as validated: for other backends running the same
    /// model (LiteRT).
    pub fn spec(&self) -> ModelSpec {
        ModelSpec {
            geometry: self.geometry,
            lut: self.lut.clone(),
            head: self.head.clone(),
        }
    }

    fn write_input(&mut self, rgb: &[u8]) -> Result<(), DetectError> {
        let mut inputs = self
            .interpreter
            .inputs_mut()
            .map_err(|e| DetectError::Invoke(e.to_string()))?;
        let tensor = inputs
            .first_mut()
            .ok_or_else(|| DetectError::Invoke("model has no input tensor".into()))?;
        let bytes = tensor
            .as_bytes_mut()
            .map_err(|e| DetectError::Invoke(e.to_string()))?;
        if bytes.len() != rgb.len() * self.lut.element_size() {
            return Err(DetectError::Invoke(format!(
                "input tensor holds {} bytes, frame gives {}",
                bytes.len(),
                rgb.len()
            )));
        }
        self.lut.apply(rgb, bytes);
        Ok(())
    }

    fn read_output(&self, out: &mut Vec<Detection>) -> Result<(), DetectError> {
        let outputs = self
            .interpreter
            .outputs()
            .map_err(|e| DetectError::Invoke(e.to_string()))?;
        let mut slices: [&[f32]; MAX_OUTPUTS] = [&[]; MAX_OUTPUTS];
        for (slot, tensor) in slices.iter_mut().zip(outputs.iter()) {
            // Raw bytes viewed as f32 (outputs were checked to be float32 at open): unlike
            // `as_slice`, this does not build the tensor's shape on every frame.
            let bytes = tensor
                .as_bytes()
                .map_err(|e| DetectError::Invoke(e.to_string()))?;
            *slot = bytemuck::try_cast_slice(bytes)
                .map_err(|e| DetectError::Invoke(format!("output tensor layout: {e}")))?;
        }
        let filter = PersonFilter {
            class: self.options.person_class,
            threshold: self.options.threshold,
        };
        self.head
            .decode(&slices[..outputs.len().min(MAX_OUTPUTS)], filter, out);
        Ok(())
    }
}

impl Drop for TfliteDetector {
    /// The input tensor holds the last frame (as model input): overwrite it before it is freed.
    fn drop(&mut self) {
        if let Ok(mut inputs) = self.interpreter.inputs_mut() {
            for tensor in inputs.iter_mut() {
                if let Ok(bytes) = tensor.as_bytes_mut() {
                    bytes.zeroize();
                }
            }
        }
    }
}

impl Detector for TfliteDetector {
    fn input_geometry(&self) -> FrameGeometry {
        self.geometry
    }

    fn detect(&mut self, frame: &Frame<'_>, out: &mut Vec<Detection>) -> Result<(), DetectError> {
        super::check_frame_size(frame, self.geometry)?;
        out.clear();
        self.write_input(frame.rgb)?;
        self.invoke_only()?;
        self.read_output(out)?;
        nms::suppress(out, self.options.nms_iou, self.options.nms_containment);
        Ok(())
    }

    fn info(&self) -> &DetectorInfo {
        &self.info
    }

    fn invoke_only(&mut self) -> Result<(), DetectError> {
        self.interpreter
            .invoke()
            .map_err(|e| DetectError::Invoke(e.to_string()))
    }
}

/// Reads the model file and checks it is a TFLite flatbuffer at all (identifier `TFL3`) and not
/// cut short, before the runtime sees it.
fn read_model(path: &Path) -> Result<Vec<u8>, DetectError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DetectError::ModelNotFound {
            path: path.to_path_buf(),
        },
        _ => DetectError::ModelInvalid {
            path: path.to_path_buf(),
            cause: e.to_string(),
        },
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
fn image_input(
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

fn output_infos(interpreter: &Interpreter<'_>) -> Result<Vec<OutputInfo>, edgefirst_tflite::Error> {
    Ok(interpreter
        .outputs()?
        .iter()
        .map(|t| OutputInfo {
            name: t.name().to_string(),
            shape: t.shape().unwrap_or_default(),
            is_float: t.tensor_type() == TensorType::Float32,
        })
        .collect())
}

/// The runtime's own version string (e.g. "2.9.0"), logged once.
fn lib_version(lib: &Library) -> Option<String> {
    // SAFETY: TfLiteVersion returns a pointer to a static NUL-terminated string.
    let ptr = unsafe { lib.as_sys().TfLiteVersion() };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null pointer to the library's static version string.
    let v = unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    tracing::debug!(version = %v, "TensorFlow Lite runtime version");
    Some(v)
}

//! The TF 2.9 C API backend (through `edgefirst-tflite`): the CPU path today, the Edge TPU
//! delegate's host tomorrow.
//!
//! Validates the model before it is used (a TFLite flatbuffer, one image input, a known detector
//! head), then per frame: pixels → input tensor through a lookup table, invoke, decode, NMS.
//! Never copies the frame anywhere but the input tensor, never logs a box.

use std::path::PathBuf;
use std::ptr::NonNull;

use edgefirst_tflite::{Delegate, Interpreter, Library, Model};
use zeroize::Zeroize;

use super::decode::{self, Head, OutputType, PersonFilter, MAX_OUTPUTS};
use super::model_check::{image_input, output_infos, read_model};
use super::preprocess::InputLut;
use super::{nms, runtime, DetectError, Detection, Detector, DetectorInfo};
use crate::source::{Frame, FrameGeometry};

/// `TFLITE_XNNPACK_DELEGATE_FLAG_QS8` / `_QU8` (TF 2.9 `xnnpack_delegate.h`): let XNNPACK take
/// signed / unsigned 8-bit quantised operators.
const XNNPACK_QS8: u32 = 0x1;
const XNNPACK_QU8: u32 = 0x2;

/// A validated model's interface: input geometry, pixel mapping and output head.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub geometry: FrameGeometry,
    pub lut: InputLut,
    pub head: Head,
    pub output_types: Vec<OutputType>,
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
    /// The input and output tensors' memory in the interpreter's arena, located once after
    /// allocation (tensors are never resized), so a frame needs no tensor lookups: no allocation.
    input_memory: TensorMemory,
    output_memory: Vec<TensorMemory>,
    /// Per output: how to read it, and (for quantised outputs) the f32 values, reused.
    output_types: Vec<OutputType>,
    dequantized: Vec<Vec<f32>>,
    head: Head,
    lut: InputLut,
    geometry: FrameGeometry,
    options: TfliteOptions,
    info: DetectorInfo,
}

/// What runs the model besides TF Lite's built-in kernels.
enum Kernels {
    /// An external delegate (the Edge TPU).
    Delegate(Delegate),
    /// XNNPACK with its quantised flags, where this runtime's XNNPACK can take the model.
    Xnnpack,
    /// Built-in kernels only: the model is opened to be validated, not run.
    BuiltIn,
}

impl TfliteDetector {
    /// Opens the model to run on the CPU: XNNPACK where it takes the model, else TF Lite's
    /// built-in kernels.
    pub fn open(options: TfliteOptions) -> Result<Self, DetectError> {
        Self::open_with(options, Kernels::Xnnpack)
    }

    /// Opens the model with an external delegate (the Edge TPU) attached to the interpreter.
    pub fn open_with_delegate(
        options: TfliteOptions,
        delegate: Option<Delegate>,
    ) -> Result<Self, DetectError> {
        let kernels = delegate.map_or(Kernels::Xnnpack, Kernels::Delegate);
        Self::open_with(options, kernels)
    }

    /// Opens and validates the model without preparing it for speed, for another backend
    /// (LiteRT) that will run it: see [`TfliteDetector::spec`].
    pub fn validate(options: TfliteOptions) -> Result<Self, DetectError> {
        Self::open_with(options, Kernels::BuiltIn)
    }

    fn open_with(options: TfliteOptions, kernels: Kernels) -> Result<Self, DetectError> {
        let accelerator = match kernels {
            Kernels::Delegate(_) => "edgetpu",
            _ => "cpu",
        };
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
        let builder = || Interpreter::builder(lib).map_err(|e| invalid(e.to_string()));
        let mut xnnpack = None;
        if matches!(kernels, Kernels::Xnnpack) {
            // XNNPACK with its quantised flags where it can take the model; TF 2.9's cannot
            // prepare the bundled uint8 SSD or the int8 YOLOv5n, so those fall back below.
            let b = builder()?;
            let (built, said) = runtime::capture_stderr(|| {
                let d = Delegate::xnnpack_with_flags(lib, threads, XNNPACK_QS8 | XNNPACK_QU8)?;
                b.delegate(d).num_threads(threads).build(&model)
            });
            match built {
                Ok(interpreter) => {
                    tracing::info!(threads, "XNNPACK runs the model");
                    xnnpack = Some(interpreter);
                }
                Err(e) => {
                    let reason = if said.is_empty() { e.to_string() } else { said };
                    tracing::info!(%reason, "XNNPACK cannot run this model; TF Lite's built-in kernels will");
                }
            }
        }
        let xnnpack_used = xnnpack.is_some();
        let interpreter = match xnnpack {
            Some(interpreter) => interpreter,
            None => {
                let mut b = builder()?;
                if let Kernels::Delegate(d) = kernels {
                    b = b.delegate(d);
                }
                let (interpreter, said) =
                    runtime::capture_stderr(|| b.num_threads(threads).build(&model));
                interpreter
                    .map_err(|e| with_reason("cannot prepare the model for inference", e, said))?
            }
        };

        let (mut geometry, kind) = image_input(&interpreter, &path)?;
        let (outputs, output_types) =
            output_infos(&interpreter).map_err(|e| invalid(e.to_string()))?;
        let input_size = (geometry.width, geometry.height);
        let head =
            Head::detect(&outputs, input_size).ok_or_else(|| DetectError::UnsupportedOutputs {
                path: path.clone(),
                found: decode::describe(&outputs),
                supported: decode::SUPPORTED,
            })?;
        geometry.fit = head.fit();
        let info = DetectorInfo {
            backend: "tflite",
            model: path.clone(),
            runtime_library: lib_path,
            threads: options.threads,
            family: head.family(),
            accelerator,
        };
        tracing::info!(
            model = %path.display(),
            runtime = %info.runtime_library.display(),
            width = geometry.width,
            height = geometry.height,
            family = info.family,
            threads = options.threads,
            accelerator,
            xnnpack = xnnpack_used,
            "detector ready"
        );
        let _ = lib_version(lib);
        let mut interpreter = interpreter;
        let (input_memory, output_memory) =
            tensor_memory(&mut interpreter).map_err(|e| invalid(e.to_string()))?;
        let dequantized = output_memory
            .iter()
            .zip(&output_types)
            .map(|(m, t)| match t {
                OutputType::F32 => Vec::new(),
                _ => vec![0.0; m.len],
            })
            .collect();
        Ok(Self {
            interpreter,
            _model: model,
            input_memory,
            output_memory,
            output_types,
            dequantized,
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
            output_types: self.output_types.clone(),
        }
    }

    fn write_input(&mut self, rgb: &[u8]) -> Result<(), DetectError> {
        let m = self.input_memory;
        if m.len != rgb.len() * self.lut.element_size() {
            return Err(DetectError::Invoke(format!(
                "input tensor holds {} bytes, frame gives {}",
                m.len,
                rgb.len()
            )));
        }
        // SAFETY: `m` is the input tensor's arena memory, located after AllocateTensors; the
        // interpreter (owned by `self`, never resized) keeps it valid and in place, and `&mut self`
        // makes this the only access while the slice lives.
        let bytes = unsafe { std::slice::from_raw_parts_mut(m.ptr.as_ptr(), m.len) };
        self.lut.apply(rgb, bytes);
        Ok(())
    }

    /// In debug builds (the test suite), checks on every frame that the tensors have not moved,
    /// which the cached memory relies on.
    fn check_memory(&mut self) -> Result<(), DetectError> {
        if cfg!(debug_assertions) {
            let now = tensor_memory(&mut self.interpreter)
                .map_err(|e| DetectError::Invoke(e.to_string()))?;
            if now != (self.input_memory, self.output_memory.clone()) {
                return Err(DetectError::Invoke("tensor memory moved".into()));
            }
        }
        Ok(())
    }

    fn read_output(&mut self, out: &mut Vec<Detection>) -> Result<(), DetectError> {
        for ((m, t), values) in self
            .output_memory
            .iter()
            .zip(&self.output_types)
            .zip(self.dequantized.iter_mut())
        {
            if *t != OutputType::F32 {
                // SAFETY: as below.
                let bytes = unsafe { std::slice::from_raw_parts(m.ptr.as_ptr(), m.len) };
                t.dequantize(bytes, values);
            }
        }
        let mut slices: [&[f32]; MAX_OUTPUTS] = [&[]; MAX_OUTPUTS];
        for (((slot, m), t), values) in slices
            .iter_mut()
            .zip(self.output_memory.iter())
            .zip(&self.output_types)
            .zip(&self.dequantized)
        {
            if *t != OutputType::F32 {
                *slot = values;
                continue;
            }
            // SAFETY: an output tensor's arena memory, valid and in place for the interpreter's
            // life (see `write_input`); read-only here, and `invoke` needs `&mut self`.
            let bytes = unsafe { std::slice::from_raw_parts(m.ptr.as_ptr(), m.len) };
            *slot = bytemuck::try_cast_slice(bytes)
                .map_err(|e| DetectError::Invoke(format!("output tensor layout: {e}")))?;
        }
        let filter = PersonFilter {
            class: self.options.person_class,
            threshold: self.options.threshold,
        };
        let n = self.output_memory.len().min(MAX_OUTPUTS);
        self.head.decode(&slices[..n], filter, out);
        Ok(())
    }
}

/// A tensor's data in the interpreter's arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TensorMemory {
    ptr: NonNull<u8>,
    len: usize,
}

/// Locates the input tensor's and every output tensor's memory.
fn tensor_memory(
    interpreter: &mut Interpreter<'_>,
) -> Result<(TensorMemory, Vec<TensorMemory>), edgefirst_tflite::Error> {
    let input = {
        let mut inputs = interpreter.inputs_mut()?;
        let bytes = match inputs.first_mut() {
            Some(t) => t.as_bytes_mut()?,
            None => &mut [],
        };
        TensorMemory {
            ptr: NonNull::new(bytes.as_mut_ptr()).unwrap_or(NonNull::dangling()),
            len: bytes.len(),
        }
    };
    let outputs = interpreter
        .outputs()?
        .iter()
        .map(|t| {
            t.as_bytes().map(|b| TensorMemory {
                ptr: NonNull::new(b.as_ptr().cast_mut()).unwrap_or(NonNull::dangling()),
                len: b.len(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((input, outputs))
}

// SAFETY: the raw pointers point into the arena of the interpreter this struct owns (which is
// `Send`); they are only dereferenced through `&mut self` / `&self` methods of this struct.
unsafe impl Send for TfliteDetector {}

impl Drop for TfliteDetector {
    /// The input tensor holds the last frame (as model input): overwrite it before it is freed.
    fn drop(&mut self) {
        let m = self.input_memory;
        // SAFETY: the input tensor's arena memory (see `write_input`); the interpreter is still
        // alive here, since fields are dropped after `drop` returns.
        unsafe { std::slice::from_raw_parts_mut(m.ptr.as_ptr(), m.len) }.zeroize();
    }
}

impl Detector for TfliteDetector {
    fn input_geometry(&self) -> FrameGeometry {
        self.geometry
    }

    fn detect(&mut self, frame: &Frame<'_>, out: &mut Vec<Detection>) -> Result<(), DetectError> {
        super::check_frame_size(frame, self.geometry)?;
        out.clear();
        self.check_memory()?;
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

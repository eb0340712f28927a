//! The LiteRT backend (`libLiteRt.so` from the `ai-edge-litert` wheel, through
//! `edgefirst-tflite`'s LiteRT support): the fast CPU path (XNNPACK), `detector.runtime =
//! "litert"`. The Edge TPU stays on the TF 2.9 C runtime.
//!
//! The model is first opened and validated with the TF 2.9 runtime ([`TfliteDetector`]), which
//! knows the tensors' quantisation and shapes; LiteRT then runs it. The SSD post-process outputs
//! are unshaped in the file, so LiteRT cannot size them: the output buffers are created from the
//! shapes TF 2.9 reported. Never copies a frame anywhere but the input buffer; never logs a box.

use std::ffi::{c_char, c_void, CString};
use std::path::Path;

use edgefirst_tflite::litert::{self, CompiledModel, HwAccelerators, TensorBuffer};
use zeroize::Zeroize;

use super::decode::{Head, OutputType, PersonFilter, MAX_OUTPUTS};
use super::preprocess::InputLut;
use super::{
    runtime, DetectError, Detection, Detector, DetectorInfo, TfliteDetector, TfliteOptions,
};
use crate::source::{Frame, FrameGeometry};

/// `LiteRtCreateOpaqueOptions(identifier, payload, payload_destructor, out)`.
type CreateOpaqueOptions = unsafe extern "C" fn(
    *const c_char,
    *mut c_void,
    Option<unsafe extern "C" fn(*mut c_void)>,
    *mut *mut c_void,
) -> i32;
/// `LiteRtAddOpaqueOptions(options, opaque)`: ownership of `opaque` moves to `options`.
type AddOpaqueOptions = unsafe extern "C" fn(*mut c_void, *mut c_void) -> i32;
/// `LiteRtDestroyOpaqueOptions(opaque)`.
type DestroyOpaqueOptions = unsafe extern "C" fn(*mut c_void);

/// Frees a payload made by [`cpu_threads`] (LiteRT calls it when the options die).
unsafe extern "C" fn free_payload(payload: *mut c_void) {
    if !payload.is_null() {
        // SAFETY: every payload handed to LiteRT comes from `CString::into_raw` below, and LiteRT
        // calls the destructor once.
        drop(unsafe { CString::from_raw(payload.cast()) });
    }
}

/// Gives LiteRT's CPU accelerator (XNNPACK) `threads` threads: its options are opaque options
/// named `xnnpack` whose payload is TOML (`num_threads = N`), added to the compilation options.
/// Without them a `CompiledModel` runs on one thread. `edgefirst-tflite` does not wrap these
/// calls yet, so they are looked up in the same `libLiteRt.so` (already loaded; `dlopen` returns
/// the same handle).
fn cpu_threads(lib_path: &Path, opts: &litert::Options<'_>, threads: u32) -> Result<(), String> {
    // SAFETY: the library is LiteRT, already loaded and initialised by `runtime::load`.
    let lib = unsafe { libloading::Library::new(lib_path) }.map_err(|e| e.to_string())?;
    // SAFETY: the signatures are those of LiteRT's C API (litert_options.h,
    // litert_opaque_options.h); the symbols live as long as `lib`, which outlives the calls.
    let (create, add, destroy) = unsafe {
        (
            lib.get::<CreateOpaqueOptions>(b"LiteRtCreateOpaqueOptions")
                .map_err(|e| e.to_string())?,
            lib.get::<AddOpaqueOptions>(b"LiteRtAddOpaqueOptions")
                .map_err(|e| e.to_string())?,
            lib.get::<DestroyOpaqueOptions>(b"LiteRtDestroyOpaqueOptions")
                .map_err(|e| e.to_string())?,
        )
    };
    let payload = CString::new(format!("num_threads = {threads}\n"))
        .map_err(|e| e.to_string())?
        .into_raw();
    let mut opaque: *mut c_void = std::ptr::null_mut();
    // SAFETY: valid identifier and payload; on success LiteRT owns the payload and frees it with
    // `free_payload`.
    let status = unsafe {
        create(
            c"xnnpack".as_ptr(),
            payload.cast(),
            Some(free_payload),
            &mut opaque,
        )
    };
    if status != 0 || opaque.is_null() {
        // SAFETY: not taken by LiteRT: still ours.
        unsafe { free_payload(payload.cast()) };
        return Err(format!("LiteRtCreateOpaqueOptions status {status}"));
    }
    // SAFETY: `opts.as_raw()` is the live options handle `opts` owns; `opaque` is ours until
    // added, the options' afterwards.
    let status = unsafe { add(opts.as_raw().cast(), opaque) };
    if status != 0 {
        // SAFETY: not added, so still ours.
        unsafe { destroy(opaque) };
        return Err(format!("LiteRtAddOpaqueOptions status {status}"));
    }
    Ok(())
}

/// A model compiled by LiteRT for the CPU, with its reused buffers.
pub struct LiteRtDetector {
    compiled: CompiledModel<'static>,
    inputs: Vec<TensorBuffer<'static>>,
    outputs: Vec<TensorBuffer<'static>>,
    /// The input after the lookup table, written into the input buffer in one copy.
    staging: Vec<u8>,
    /// Output values, one reused vector per output.
    values: Vec<Vec<f32>>,
    /// Each output's type: quantised outputs are read as bytes into `raw`, then dequantised.
    output_types: Vec<OutputType>,
    /// One reused byte vector per quantised output (empty for float outputs).
    raw: Vec<Vec<u8>>,
    head: Head,
    lut: InputLut,
    geometry: FrameGeometry,
    filter: PersonFilter,
    nms: (f32, f32),
    info: DetectorInfo,
}

fn invoke_error(e: edgefirst_tflite::Error) -> DetectError {
    DetectError::Invoke(e.to_string())
}

impl LiteRtDetector {
    pub fn open(options: TfliteOptions) -> Result<Self, DetectError> {
        // Validate with TF 2.9 (shapes, quantisation, head), then let LiteRT run the model.
        let spec = TfliteDetector::validate(options.clone())?.spec();
        let (lib, lib_path) = runtime::load(runtime::LITERT, &options.litert_library)?;
        let invalid = |cause: String| DetectError::ModelInvalid {
            path: options.model.clone(),
            cause,
        };
        let (built, said) = runtime::capture_stderr(|| {
            // LiteRT's environment and model live as long as the process: the compiled model
            // borrows both (one detector per process in the daemon).
            let env: &'static litert::Environment<'static> =
                Box::leak(Box::new(litert::Environment::new(lib)?));
            let model: &'static litert::Model<'static> =
                Box::leak(Box::new(litert::Model::from_file(env, &options.model)?));
            let opts = litert::Options::new(lib)?.hardware_accelerators(HwAccelerators::CPU)?;
            cpu_threads(&lib_path, &opts, options.threads)
                .map_err(|e| format!("setting {} CPU threads: {e}", options.threads))?;
            let compiled = CompiledModel::create(env, model, &opts)?;
            let input = compiled.create_input_buffer(0, 0)?;
            let mut outputs = Vec::new();
            for ((i, len), t) in spec
                .head
                .output_lens()
                .into_iter()
                .enumerate()
                .zip(&spec.output_types)
            {
                let mut ty = model.output_tensor_type(0, i)?;
                ty.layout.set_rank(1);
                ty.layout.dimensions[0] = i32::try_from(len).unwrap_or(i32::MAX);
                outputs.push(TensorBuffer::managed_host(
                    env,
                    &ty,
                    len * t.element_size(),
                )?);
            }
            Ok::<_, Box<dyn std::error::Error>>((compiled, input, outputs))
        });
        let (compiled, input, outputs) =
            built.map_err(|e| invalid(format!("LiteRT cannot run it ({e}) {said}")))?;
        // Per output: its f32 values, and its bytes when quantised (empty for float outputs).
        let (values, raw) = spec
            .head
            .output_lens()
            .into_iter()
            .zip(&spec.output_types)
            .map(|(n, t)| match t {
                OutputType::F32 => (vec![0.0; n], Vec::new()),
                _ => (vec![0.0; n], vec![0; n]),
            })
            .unzip();
        let info = DetectorInfo {
            backend: "litert",
            model: options.model.clone(),
            runtime_library: lib_path,
            threads: options.threads,
            family: spec.head.family(),
            accelerator: "cpu",
        };
        tracing::info!(
            model = %options.model.display(),
            runtime = %info.runtime_library.display(),
            family = info.family,
            threads = info.threads,
            "LiteRT detector ready"
        );
        Ok(Self {
            compiled,
            inputs: vec![input],
            outputs,
            staging: vec![0; spec.geometry.rgb_len() * spec.lut.element_size()],
            values,
            output_types: spec.output_types,
            raw,
            head: spec.head,
            lut: spec.lut,
            geometry: spec.geometry,
            filter: PersonFilter {
                class: options.person_class,
                threshold: options.threshold,
            },
            nms: (options.nms_iou, options.nms_containment),
            info,
        })
    }
}

impl Detector for LiteRtDetector {
    fn input_geometry(&self) -> FrameGeometry {
        self.geometry
    }

    fn detect(&mut self, frame: &Frame<'_>, out: &mut Vec<Detection>) -> Result<(), DetectError> {
        super::check_frame_size(frame, self.geometry)?;
        out.clear();
        self.lut.apply(frame.rgb, &mut self.staging);
        self.inputs[0]
            .write_bytes(&self.staging)
            .map_err(invoke_error)?;
        self.invoke_only()?;
        for (((buffer, values), raw), t) in self
            .outputs
            .iter_mut()
            .zip(self.values.iter_mut())
            .zip(self.raw.iter_mut())
            .zip(&self.output_types)
        {
            if *t == OutputType::F32 {
                buffer
                    .read_bytes_into(bytemuck::cast_slice_mut(values.as_mut_slice()))
                    .map_err(invoke_error)?;
            } else {
                buffer.read_bytes_into(raw).map_err(invoke_error)?;
                t.dequantize(raw, values);
            }
        }
        let mut slices: [&[f32]; MAX_OUTPUTS] = [&[]; MAX_OUTPUTS];
        for (slot, values) in slices.iter_mut().zip(self.values.iter()) {
            *slot = values;
        }
        let n = self.values.len().min(MAX_OUTPUTS);
        self.head.decode(&slices[..n], self.filter, out);
        super::nms::suppress(out, self.nms.0, self.nms.1);
        Ok(())
    }

    fn info(&self) -> &DetectorInfo {
        &self.info
    }

    fn invoke_only(&mut self) -> Result<(), DetectError> {
        self.compiled
            .run_default(&mut self.inputs, &mut self.outputs)
            .map_err(invoke_error)
    }
}

impl Drop for LiteRtDetector {
    /// The staging buffer and the input buffer hold the last frame: overwrite both.
    fn drop(&mut self) {
        self.staging.as_mut_slice().zeroize();
        let _ = self.inputs[0].write_bytes(&self.staging);
    }
}

//! The LiteRT backend (`libLiteRt.so` from the `ai-edge-litert` wheel, through
//! `edgefirst-tflite`'s LiteRT support): the fast CPU path (XNNPACK), `detector.runtime =
//! "litert"`. The Edge TPU stays on the TF 2.9 C runtime.
//!
//! The model is first opened and validated with the TF 2.9 runtime ([`TfliteDetector`]), which
//! knows the tensors' quantisation and shapes; LiteRT then runs it. The SSD post-process outputs
//! are unshaped in the file, so LiteRT cannot size them: the output buffers are created from the
//! shapes TF 2.9 reported. Never copies a frame anywhere but the input buffer; never logs a box.

use edgefirst_tflite::litert::{self, CompiledModel, HwAccelerators, TensorBuffer};
use zeroize::Zeroize;

use super::decode::{Head, OutputType, PersonFilter, MAX_OUTPUTS};
use super::preprocess::InputLut;
use super::{
    runtime, DetectError, Detection, Detector, DetectorInfo, TfliteDetector, TfliteOptions,
};
use crate::source::{Frame, FrameGeometry};

/// A model compiled by LiteRT for the CPU, with its reused buffers.
pub struct LiteRtDetector {
    compiled: CompiledModel<'static>,
    inputs: Vec<TensorBuffer<'static>>,
    outputs: Vec<TensorBuffer<'static>>,
    /// The input after the lookup table, written into the input buffer in one copy.
    staging: Vec<u8>,
    /// Output values, one reused vector per output.
    values: Vec<Vec<f32>>,
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
        let spec = TfliteDetector::open(options.clone())?.spec();
        if spec.output_types.iter().any(|t| *t != OutputType::F32) {
            return Err(DetectError::ModelInvalid {
                path: options.model.clone(),
                cause: "quantised outputs are read by the TF 2.9 backend only; set \
                        detector.runtime = \"tflite\""
                    .into(),
            });
        }
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
            let compiled = CompiledModel::create(env, model, &opts)?;
            let input = compiled.create_input_buffer(0, 0)?;
            let mut outputs = Vec::new();
            for (i, len) in spec.head.output_lens().into_iter().enumerate() {
                let mut ty = model.output_tensor_type(0, i)?;
                ty.layout.set_rank(1);
                ty.layout.dimensions[0] = i32::try_from(len).unwrap_or(i32::MAX);
                outputs.push(TensorBuffer::managed_host(env, &ty, len * 4)?);
            }
            Ok::<_, edgefirst_tflite::Error>((compiled, input, outputs))
        });
        let (compiled, input, outputs) = built.map_err(|e| {
            let detail = said
                .split("; ")
                .filter(|l| !l.starts_with("INFO:"))
                .collect::<Vec<_>>()
                .join("; ");
            invalid(format!("LiteRT cannot run it ({e}) {detail}"))
        })?;
        let values = spec
            .head
            .output_lens()
            .into_iter()
            .map(|n| vec![0.0; n])
            .collect();
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
            "LiteRT detector ready"
        );
        Ok(Self {
            compiled,
            inputs: vec![input],
            outputs,
            staging: vec![0; spec.geometry.rgb_len() * spec.lut.element_size()],
            values,
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
        for (buffer, values) in self.outputs.iter_mut().zip(self.values.iter_mut()) {
            buffer
                .read_bytes_into(bytemuck::cast_slice_mut(values.as_mut_slice()))
                .map_err(invoke_error)?;
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

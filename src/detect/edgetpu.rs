//! The Coral Edge TPU, through Coral's `libedgetpu.so.1`: device listing, and the TFLite external
//! delegate that runs a model's `edgetpu-custom-op` on the TPU (the rest stays on the CPU).
//!
//! libedgetpu must match the TF Lite runtime's C structs: TF 2.5–2.9, hence the TF 2.9 runtime.
//! The library is loaded at run time; when it is absent the CPU path is used (`accelerator =
//! "auto"`) or start-up fails with the reason (`"edgetpu"`). This module never sees a frame.

use std::ffi::{c_char, CStr};
use std::path::{Path, PathBuf};

use edgefirst_tflite::{Delegate, DelegateOptions};

/// The library's name as Coral's packages install it (found through the loader's search path).
pub const LIBRARY: &str = "libedgetpu.so.1";

/// One Edge TPU as libedgetpu lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeTpuDevice {
    /// "usb" or "pci".
    pub kind: &'static str,
    pub path: String,
}

/// Why the Edge TPU cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EdgeTpuError {
    #[error("cannot load {library}: {cause} (install Coral's libedgetpu1-std, see README)")]
    Library { library: String, cause: String },
    #[error("no Edge TPU{device} found by {library}")]
    NoDevice { library: String, device: String },
    #[error("no Edge TPU model {}: {}", twin.display(), advice(twin))]
    NoModel { twin: PathBuf },
}

/// `libedgetpu` itself, or the path configured for it.
pub fn library(configured: &str) -> &str {
    if configured.is_empty() {
        LIBRARY
    } else {
        configured
    }
}

#[repr(C)]
struct RawDevice {
    kind: i32,
    path: *const c_char,
}

/// Lists the Edge TPUs libedgetpu can see.
pub fn list_devices(library: &str) -> Result<Vec<EdgeTpuDevice>, EdgeTpuError> {
    let lib_error = |cause: String| EdgeTpuError::Library {
        library: library.to_string(),
        cause,
    };
    // SAFETY: loading libedgetpu runs its initialisers, as any user of the library does.
    let lib = unsafe { libloading::Library::new(library) }.map_err(|e| lib_error(e.to_string()))?;
    type List = unsafe extern "C" fn(*mut usize) -> *mut RawDevice;
    type Free = unsafe extern "C" fn(*mut RawDevice);
    // SAFETY: the documented signatures of edgetpu_list_devices / edgetpu_free_devices
    // (edgetpu_c.h).
    let (list, free) = unsafe {
        (
            lib.get::<List>(b"edgetpu_list_devices")
                .map_err(|e| lib_error(e.to_string()))?,
            lib.get::<Free>(b"edgetpu_free_devices")
                .map_err(|e| lib_error(e.to_string()))?,
        )
    };
    let mut n = 0usize;
    // SAFETY: `n` is a valid out-pointer; the result is an array of `n` devices or null.
    let raw = unsafe { list(&mut n) };
    if raw.is_null() || n == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: libedgetpu returned `n` contiguous devices at `raw`, valid until freed below.
    let devices = unsafe { std::slice::from_raw_parts(raw, n) }
        .iter()
        .map(|d| EdgeTpuDevice {
            kind: if d.kind == 1 { "usb" } else { "pci" },
            path: if d.path.is_null() {
                String::new()
            } else {
                // SAFETY: a NUL-terminated string owned by the device list.
                unsafe { CStr::from_ptr(d.path) }
                    .to_string_lossy()
                    .into_owned()
            },
        })
        .collect();
    // SAFETY: `raw` came from edgetpu_list_devices and is freed once.
    unsafe { free(raw) };
    Ok(devices)
}

/// Creates the Edge TPU delegate for `device` ("" = any, "usb", "pci", "usb:0", "pci:1", …).
pub fn delegate(library: &str, device: &str) -> Result<Delegate, EdgeTpuError> {
    let mut options = DelegateOptions::new();
    if !device.is_empty() {
        options = options.option("device", device);
    }
    Delegate::load_with_options(library, &options).map_err(|e| {
        let cause = e.to_string();
        if cause.contains("returned null") {
            EdgeTpuError::NoDevice {
                library: library.to_string(),
                device: if device.is_empty() {
                    String::new()
                } else {
                    format!(" \"{device}\"")
                },
            }
        } else {
            EdgeTpuError::Library {
                library: library.to_string(),
                cause,
            }
        }
    })
}

/// Where Coral publishes the Edge TPU twin of the bundled SSD MobileNet v1 (COCO, quantised,
/// with its detection post-processing): Coral's own compilation of this architecture, in its
/// test data repository at a pinned commit.
pub struct PublishedTwin {
    /// Coral's file name.
    pub file: &'static str,
    /// Its address at the pinned commit.
    pub url: &'static str,
    /// Git's blob id of the file at that commit (SHA-1 of `blob <size>\0` and the bytes): how
    /// Coral's repository identifies its content; README "Coral Edge TPU" checks it with
    /// coreutils alone.
    pub git_blob: &'static str,
}

/// The bundled model's twin, as Coral publishes it.
pub const BUNDLED_TWIN: PublishedTwin = PublishedTwin {
    file: "ssd_mobilenet_v1_coco_quant_postprocess_edgetpu.tflite",
    url: "https://github.com/google-coral/test_data/raw/104342d2d3480b3e66203073dac24f4e2dbb4c41/ssd_mobilenet_v1_coco_quant_postprocess_edgetpu.tflite",
    git_blob: "07721d3949bd8f5a78b76e57fe3fafcf09207785",
};

/// What to do about a missing twin: for the bundled model's (`.../ssd_mobilenet_v1_coco_quant/
/// detect_edgetpu.tflite`), where Coral publishes it; for any other model, compile it.
pub fn advice(twin: &Path) -> String {
    let bundled = twin
        .file_name()
        .is_some_and(|f| f == "detect_edgetpu.tflite")
        && twin
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|d| d == "ssd_mobilenet_v1_coco_quant");
    if bundled {
        format!(
            "Coral publishes it as {} at {} (git blob {}); `sudo headcount-get-edgetpu-model` \
             fetches, checks and installs it (README \"Coral Edge TPU\")",
            BUNDLED_TWIN.file, BUNDLED_TWIN.url, BUNDLED_TWIN.git_blob
        )
    } else {
        "compile the model with Coral's edgetpu_compiler and put the result there, or set \
         detector.edgetpu_model"
            .to_string()
    }
}

/// Whether libedgetpu (`library`) loads and sees at least one Edge TPU.
pub fn present(library: &str) -> bool {
    list_devices(library).is_ok_and(|d| !d.is_empty())
}

/// The Edge TPU twin of a CPU model: `detect.tflite` → `detect_edgetpu.tflite`.
pub fn twin_of(model: &Path) -> PathBuf {
    let stem = model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.ends_with("_edgetpu") {
        return model.to_path_buf();
    }
    model.with_file_name(format!("{stem}_edgetpu.tflite"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twins_and_library_names() {
        assert_eq!(
            twin_of(Path::new("/m/yolov5n-int8.tflite")),
            Path::new("/m/yolov5n-int8_edgetpu.tflite")
        );
        assert_eq!(
            twin_of(Path::new("/m/x_edgetpu.tflite")),
            Path::new("/m/x_edgetpu.tflite")
        );
        assert_eq!(library(""), LIBRARY);
        assert_eq!(library("/opt/lib.so"), "/opt/lib.so");
    }

    #[test]
    fn a_missing_library_is_a_clear_error() {
        let e = list_devices("/nonexistent/libedgetpu.so.1").unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/libedgetpu.so.1"),
            "{e}"
        );
        let e = delegate("/nonexistent/libedgetpu.so.1", "usb")
            .err()
            .unwrap();
        assert!(e.to_string().contains("libedgetpu1-std"), "{e}");
    }
}

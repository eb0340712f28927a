//! Finding and loading the inference runtimes at run time: the TensorFlow Lite C runtime
//! (`libtensorflowlite_c.so`, TF 2.9.0) and LiteRT (`libLiteRt.so`).
//!
//! TF 2.9's C structs match Coral's libedgetpu (newer runtimes crash with it), so headcount loads
//! that exact build instead of linking it; LiteRT is the faster CPU runtime. Search order: the
//! configured path, the runtime's environment variable, beside the executable, the checkout's
//! `.runtime/<arch>/` (made by `scripts/setup.sh`), the .deb's `/usr/lib/headcount/`, then the
//! source tree's `.runtime/<arch>/`. A library is loaded once per process and lives until exit.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use edgefirst_tflite::Library;

use super::DetectError;

/// A runtime library headcount can load, and how to find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runtime {
    /// File name of the shared library.
    pub file: &'static str,
    /// Environment variable that overrides where it is found.
    pub env: &'static str,
    /// What it is, for errors.
    pub what: &'static str,
}

/// TF 2.9.0's C API: the Edge TPU-compatible runtime, and the default.
pub const TFLITE: Runtime = Runtime {
    file: "libtensorflowlite_c.so",
    env: "HEADCOUNT_TFLITE_LIB",
    what: "TensorFlow Lite C runtime (libtensorflowlite_c.so, TF 2.9.0)",
};

/// LiteRT (from the `ai-edge-litert` wheel): the fast CPU runtime.
pub const LITERT: Runtime = Runtime {
    file: "libLiteRt.so",
    env: "HEADCOUNT_LITERT_LIB",
    what: "LiteRT runtime (libLiteRt.so)",
};

/// The `.runtime/` sub-folder for this build's architecture.
pub fn arch_dir() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "linux_arm64"
    } else {
        "linux_amd64"
    }
}

/// Candidate paths, in search order, for a given configured path (empty = not configured).
pub fn candidates(runtime: Runtime, configured: &str) -> Vec<PathBuf> {
    if !configured.is_empty() {
        return vec![PathBuf::from(configured)];
    }
    if let Some(env) = std::env::var_os(runtime.env).filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(env)];
    }
    let mut out = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        out.push(dir.join(runtime.file));
        // target/{debug,release}/headcount → the project root's .runtime/
        for up in [dir.parent(), dir.parent().and_then(Path::parent)]
            .into_iter()
            .flatten()
        {
            out.push(up.join(".runtime").join(arch_dir()).join(runtime.file));
        }
    }
    out.push(PathBuf::from("/usr/lib/headcount").join(runtime.file));
    out.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".runtime")
            .join(arch_dir())
            .join(runtime.file),
    );
    out
}

static LOADED: OnceLock<Mutex<Vec<(PathBuf, &'static Library)>>> = OnceLock::new();

/// Loads `runtime` (once per path per process) and returns it with the path it came from.
pub fn load(
    runtime: Runtime,
    configured: &str,
) -> Result<(&'static Library, PathBuf), DetectError> {
    let list = candidates(runtime, configured);
    let explicit =
        !configured.is_empty() || std::env::var_os(runtime.env).is_some_and(|v| !v.is_empty());
    let path = match list.iter().find(|p| p.is_file()) {
        Some(p) => p.clone(),
        None if explicit => {
            return Err(DetectError::RuntimeLoad {
                what: runtime.what,
                path: list[0].clone(),
                cause: "no such file".into(),
            })
        }
        None => {
            return Err(DetectError::RuntimeNotFound {
                what: runtime.what,
                env: runtime.env,
                searched: list
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    };
    let cache = LOADED.get_or_init(|| Mutex::new(Vec::new()));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, lib)) = cache.iter().find(|(p, _)| *p == path) {
        return Ok((*lib, path));
    }
    let lib = Library::from_path(&path).map_err(|e| DetectError::RuntimeLoad {
        what: runtime.what,
        path: path.clone(),
        cause: e.to_string(),
    })?;
    // One runtime per process, alive until exit: models and interpreters borrow it.
    let lib: &'static Library = Box::leak(Box::new(lib));
    cache.push((path.clone(), lib));
    tracing::debug!(path = %path.display(), "runtime library loaded");
    Ok((lib, path))
}

/// Runs `f` with the process's stderr (fd 2) redirected into a pipe and returns what was
/// written there, trimmed. TF Lite's C API reports model errors by printing them, not by
/// returning them; this folds them into headcount's one-line error instead of letting them
/// scatter on the terminal. The runtimes' `INFO:` chatter (e.g. "Created TensorFlow Lite XNNPACK
/// delegate for CPU.") is dropped: it is never a cause. Used only during start-up, for a few
/// short messages; captures are serialised, since fd 2 is process-wide.
pub fn capture_stderr<T>(f: impl FnOnce() -> T) -> (T, String) {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: plain POSIX fd calls on fds this function owns; fd 2 is restored before return.
    unsafe {
        let mut fds = [0 as libc::c_int; 2];
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return (f(), String::new());
        }
        let saved = libc::dup(2);
        if saved < 0 {
            libc::close(fds[0]);
            libc::close(fds[1]);
            return (f(), String::new());
        }
        libc::fcntl(fds[0], libc::F_SETFL, libc::O_NONBLOCK);
        libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK);
        libc::dup2(fds[1], 2);
        let out = f();
        libc::dup2(saved, 2);
        libc::close(saved);
        libc::close(fds[1]);
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len());
            if n <= 0 {
                break;
            }
            text.extend_from_slice(&buf[..n as usize]);
        }
        libc::close(fds[0]);
        let text = String::from_utf8_lossy(&text);
        let joined = text
            .lines()
            .map(|l| l.trim().trim_start_matches("ERROR: ").trim())
            .filter(|l| !l.is_empty() && !l.starts_with("INFO:"))
            .collect::<Vec<_>>()
            .join("; ");
        (out, joined)
    }
}

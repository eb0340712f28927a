//! Helpers shared by the benchmarks: failing loudly, and opening the detector the config asks for
//! on a clip.
#![allow(dead_code)]

use std::path::Path;

use headcount::config::Config;
use headcount::detect::Detector;
use headcount::service::open_detector;
use headcount::source::ffmpeg::{FfmpegOptions, FfmpegSource};

/// Prints `what` and exits 1: a benchmark that cannot run must not report numbers.
pub fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("{what}");
    std::process::exit(1)
}

/// The PETS09-S2L1 clip in `../shared`, or `None` (after saying so) when this clone has no
/// `../shared`; exits 1 instead when `CI=true`, since CI always has it.
pub fn pets_clip() -> Option<std::path::PathBuf> {
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/footage/pets09-s2l1/vtest.avi");
    if clip.exists() {
        return Some(clip);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        fail(format!(
            "{} is missing, and CI must have ../shared",
            clip.display()
        ));
    }
    eprintln!("skipping: {} is missing", clip.display());
    None
}

/// The configured detector and `clip` decoded for it, as `replay` opens them.
pub fn open_on(config: &Config, clip: &Path) -> (Box<dyn Detector>, FfmpegSource) {
    let detector = open_detector(config).unwrap_or_else(|e| fail(e));
    let source = FfmpegSource::open(
        clip.to_str().unwrap_or_default(),
        detector.input_geometry(),
        &FfmpegOptions::default(),
    )
    .unwrap_or_else(|e| fail(e));
    (detector, source)
}

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

/// Whose CPU time [`cpu_seconds`] reads.
#[derive(Clone, Copy)]
pub enum Cpu {
    /// This process (all its threads).
    Own,
    /// Its children reaped so far (with theirs: headcount's ffmpeg and ffprobe).
    Children,
}

/// CPU seconds (user + system) used so far by `who`.
pub fn cpu_seconds(who: Cpu) -> f64 {
    let who = match who {
        Cpu::Own => libc::RUSAGE_SELF,
        Cpu::Children => libc::RUSAGE_CHILDREN,
    };
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        fail("getrusage failed");
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
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

/// Starts Mosquitto with `conf` and waits until it listens on `port`.
pub fn mosquitto(conf: &Path, port: u16) -> std::process::Child {
    let bin = if Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    };
    let child = std::process::Command::new(bin)
        .arg("-c")
        .arg(conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(format!("mosquitto: {e}")));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if std::time::Instant::now() > deadline {
            fail("mosquitto did not start");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// Collects the lines of `r` that `keep` accepts, as they come (on a thread of its own).
pub fn collect_lines(
    r: impl std::io::Read + Send + 'static,
    keep: fn(&str) -> bool,
) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    use std::io::BufRead;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&lines);
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            if keep(&l) {
                if let Ok(mut v) = sink.lock() {
                    v.push(l);
                }
            }
        }
    });
    lines
}

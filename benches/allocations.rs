//! Heap allocations per frame in steady state, counted by a global allocator, for each runtime:
//! the real source (ffmpeg on the committed one-by-one clip), detector, counter and pipeline loop,
//! as `headcount replay` runs them (without MQTT). Prints allocations per frame after warm-up.
//!
//! Run with `cargo bench --bench allocations`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use headcount::config::{Config, RuntimeKind};
use headcount::config::{CountingConfig, LineConfig, ZoneConfig};
use headcount::count::{Cadence, Counting};
use headcount::health::HealthMonitor;
use headcount::pipeline::{self, FramePrep};
use headcount::privacy::mask::PixelMask;
use headcount::service::open_counting_detector;
use headcount::shutdown::Shutdown;
use headcount::source::ffmpeg::{FfmpegOptions, FfmpegSource};
use headcount::source::view::ViewLimits;
use headcount::source::{Frame, FrameSource, SourceError};

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarding to the system allocator with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Wraps a source to snapshot the allocation counter when frame `mark` is requested.
struct Marking<S> {
    inner: S,
    mark: u64,
    at_mark: Option<u64>,
    frames: u64,
}

impl<S: FrameSource> FrameSource for Marking<S> {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        if self.frames == self.mark {
            self.at_mark = Some(ALLOCATIONS.load(Ordering::Relaxed));
        }
        self.frames += 1;
        self.inner.next_frame()
    }
    fn fps(&self) -> f64 {
        self.inner.fps()
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
}

fn main() {
    let clip = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/one-by-one/one-by-one-person-detection.mp4");
    println!("| runtime | frames measured | allocations | per frame |");
    println!("|---|---:|---:|---:|");
    for (name, kind, tiles) in [
        ("tflite", RuntimeKind::Tflite, 1),
        ("litert", RuntimeKind::Litert, 1),
        ("litert, 2 tiles", RuntimeKind::Litert, 2),
    ] {
        let mut config = Config::default();
        config.detector.runtime = kind;
        config.detector.tile_columns = tiles;
        let mut detector = match open_counting_detector(&config) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{name}: {e}");
                continue;
            }
        };
        let options = FfmpegOptions {
            fps: 2.0,
            ..FfmpegOptions::default()
        };
        let source = match FfmpegSource::open(
            clip.to_str().unwrap_or_default(),
            detector.input_geometry(),
            &options,
        ) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let warm_up = 20;
        let mut source = Marking {
            inner: source,
            mark: warm_up,
            at_mark: None,
            frames: 0,
        };
        // Masks and the view check (blind / frozen) run on every frame, as in the daemon.
        let prep = FramePrep {
            mask: PixelMask::new(&[], detector.input_geometry()),
            view: ViewLimits {
                blind_after: Duration::from_secs(30),
                frozen_after: Duration::from_secs(60),
            },
        };
        // The whole counting stage: tracker (colours on), occupancy, a zone and an entrance line,
        // with a daily reset (local time read per frame) on a live clock (system clock read per
        // frame), as a camera daemon runs it.
        let counting = CountingConfig {
            daily_reset: "03:00".into(),
            appearance_weight: 4.0,
            zones: vec![ZoneConfig {
                name: "left".into(),
                polygon: vec![[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]],
            }],
            lines: vec![LineConfig {
                name: "door".into(),
                from: [0.0, 0.9],
                to: [1.0, 0.9],
            }],
            ..CountingConfig::default()
        };
        let cadence = Cadence::OnChange {
            interval: Duration::from_secs(3600),
        };
        let mut counter = Counting::from_config(
            &counting,
            cadence,
            config.detector.threshold,
            std::sync::Arc::new(headcount::wall_clock::WallClock::live(
                std::time::SystemTime::now(),
            )),
        );
        let health = HealthMonitor::new();
        // Reports (a few per clip) are not per-frame work: count frames only.
        let mut emit = |_| true;
        let (stats, result) = pipeline::run(
            &mut source,
            &prep,
            detector.as_mut(),
            &mut counter,
            &health,
            &Shutdown::new(),
            &mut emit,
        );
        let end = ALLOCATIONS.load(Ordering::Relaxed);
        if let Err(e) = result {
            eprintln!("{e}");
            std::process::exit(1);
        }
        let measured = stats.frames.saturating_sub(warm_up);
        let allocations = end - source.at_mark.unwrap_or(end);
        println!(
            "| {name} | {measured} | {allocations} | {:.2} |",
            allocations as f64 / measured.max(1) as f64
        );
    }
}

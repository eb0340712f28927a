//! Accuracy of the default model and settings on real data from `../shared`: person counts on
//! stills with known counts, and per-frame MAE on PETS09-S2L1 against its MOT ground truth.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use headcount::config::Config;
use headcount::count::OccupancyCounter;
use headcount::detect::Detector;
use headcount::service::open_detector;
use headcount::source::ffmpeg::{FfmpegOptions, FfmpegSource};
use headcount::source::FrameSource;

/// People counted in a still by the default detector (the daemon's own settings).
fn count_people(detector: &mut dyn Detector, image: &std::path::Path) -> usize {
    let mut source = FfmpegSource::open(
        image.to_str().unwrap(),
        detector.input_geometry(),
        &FfmpegOptions::default(),
    )
    .unwrap();
    let frame = source.next_frame().unwrap().expect("one frame");
    let mut dets = Vec::new();
    detector.detect(&frame, &mut dets).unwrap();
    dets.len()
}

#[test]
fn stills_with_known_person_counts_are_within_one() {
    let mut detector = open_detector(&Config::default()).unwrap();
    let mut failures = Vec::new();
    for (name, truth) in [
        ("bus.jpg", 4usize),
        ("zidane.jpg", 2),
        ("astronaut.png", 1),
        ("grace_hopper.bmp", 1),
    ] {
        let Some(path) = common::shared(&format!("images/{name}")) else {
            continue;
        };
        let got = count_people(detector.as_mut(), &path);
        eprintln!("{name}: {got} people (truth {truth})");
        if got.abs_diff(truth) > 1 {
            failures.push(format!("{name}: counted {got}, truth {truth}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn committed_clip_frames_match_the_hand_checked_counts() {
    // Frames hand-checked in tests/fixtures/one-by-one/README.md: every frame is decoded,
    // only those are run through the detector.
    let mut detector = open_detector(&Config::default()).unwrap();
    let clip = common::one_by_one();
    let mut source = FfmpegSource::open(
        clip.to_str().unwrap(),
        detector.input_geometry(),
        &FfmpegOptions::default(),
    )
    .unwrap();
    let checks: HashMap<u64, usize> =
        [(100, 1), (300, 1), (500, 0), (700, 0), (1100, 1), (1300, 1)]
            .into_iter()
            .collect();
    let mut dets = Vec::new();
    let mut seen = 0;
    while let Some(frame) = source.next_frame().unwrap() {
        if let Some(&truth) = checks.get(&frame.index) {
            detector.detect(&frame, &mut dets).unwrap();
            assert_eq!(dets.len(), truth, "frame {}", frame.index);
            seen += 1;
        }
    }
    assert_eq!(seen, checks.len());
}

/// MOT ground truth: people per frame (0-based video frame index).
fn truth_per_frame(gt: &str) -> HashMap<u64, u32> {
    let mut per_frame = HashMap::new();
    for line in gt.lines().filter(|l| !l.trim().is_empty()) {
        let frame: u64 = line.split(',').next().unwrap().trim().parse().unwrap();
        *per_frame.entry(frame - 1).or_insert(0) += 1;
    }
    per_frame
}

#[derive(Debug, Default)]
struct ErrorStats {
    abs: f64,
    signed: f64,
    exact: u64,
    n: u64,
}

impl ErrorStats {
    fn add(&mut self, got: u32, truth: u32) {
        let e = f64::from(got) - f64::from(truth);
        self.abs += e.abs();
        self.signed += e;
        self.exact += u64::from(got == truth);
        self.n += 1;
    }
    fn mae(&self) -> f64 {
        self.abs / self.n as f64
    }
    fn line(&self, what: &str) -> String {
        format!(
            "{what}: MAE {:.3}, bias {:+.3}, exact {:.1} % over {} frames",
            self.mae(),
            self.signed / self.n as f64,
            100.0 * self.exact as f64 / self.n as f64,
            self.n
        )
    }
}

#[test]
fn pets09_per_frame_occupancy_error_is_reported_and_bounded() {
    let (Some(video), Some(gt)) = (
        common::shared("footage/pets09-s2l1/vtest.avi"),
        common::shared("footage/pets09-s2l1/gt.txt"),
    ) else {
        return;
    };
    let truth = truth_per_frame(&std::fs::read_to_string(gt).unwrap());
    let config = Config::default();
    let mut detector = open_detector(&config).unwrap();
    let mut source = FfmpegSource::open(
        video.to_str().unwrap(),
        detector.input_geometry(),
        &FfmpegOptions::default(),
    )
    .unwrap();
    let mut counter = OccupancyCounter::new(
        config.counting.smoothing_frames,
        Duration::from_secs(config.mqtt.interval_s.into()),
    );
    let (mut raw, mut stable) = (ErrorStats::default(), ErrorStats::default());
    let mut dets = Vec::new();
    while let Some(frame) = source.next_frame().unwrap() {
        detector.detect(&frame, &mut dets).unwrap();
        let people = dets.len() as u32;
        counter.observe(people, frame.t);
        let t = truth.get(&frame.index).copied().unwrap_or(0);
        raw.add(people, t);
        stable.add(counter.current(), t);
    }
    assert_eq!(raw.n, 795, "PETS09-S2L1 has 795 frames");
    // Ground truth includes occluded people; they are counted as the truth says, not edited.
    eprintln!("PETS09-S2L1, default SSD model and settings:");
    eprintln!("  {}", raw.line("per-frame detections"));
    eprintln!(
        "  {}",
        stable.line("published occupancy (median-stabilised)")
    );
    // Regression bounds; issue 4 raises the bar.
    assert!(raw.mae() <= 0.8, "{}", raw.line("raw"));
    assert!(stable.mae() <= 0.6, "{}", stable.line("stable"));
}

#[test]
fn litert_counts_match_tf29_frame_by_frame() {
    // One inference thread each: the suite runs other tests beside this one, and two threads
    // per runtime would spin waiting for a core (the counts do not depend on the threads).
    let mut tf = Config::default();
    tf.detector.runtime = headcount::config::RuntimeKind::Tflite;
    tf.detector.threads = 1;
    let mut lr = Config::default();
    lr.detector.runtime = headcount::config::RuntimeKind::Litert;
    lr.detector.threads = 1;
    let mut detectors = [open_detector(&tf).unwrap(), open_detector(&lr).unwrap()];
    assert_eq!(detectors[0].info().backend, "tflite");
    assert_eq!(detectors[1].info().backend, "litert");
    let clip = common::one_by_one();
    let options = FfmpegOptions {
        fps: 2.0,
        ..FfmpegOptions::default()
    };
    let mut source = FfmpegSource::open(
        clip.to_str().unwrap(),
        detectors[0].input_geometry(),
        &options,
    )
    .unwrap();
    let (mut frames, mut same, mut people) = (0, 0, 0);
    let mut dets = Vec::new();
    while let Some(frame) = source.next_frame().unwrap() {
        let mut counts = [0; 2];
        for (d, c) in detectors.iter_mut().zip(counts.iter_mut()) {
            d.detect(&frame, &mut dets).unwrap();
            *c = dets.len();
        }
        frames += 1;
        same += usize::from(counts[0] == counts[1]);
        people += counts[0];
    }
    eprintln!("LiteRT vs TF 2.9: same count on {same} of {frames} frames");
    assert!(
        frames > 250 && people > 50,
        "{frames} frames, {people} people"
    );
    assert!(same * 100 >= frames * 99, "{same} of {frames} frames agree");
}

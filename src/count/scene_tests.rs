//! Scene tests with hand-made detections: crossings (together, tentative, occluded, faint,
//! leaving the picture, merged with a passer-by), zones by foot point, the in − out mode.

use super::*;
use crate::config::CountingConfig;
use crate::detect::BBox;

pub(super) fn person(cx: f32, foot_y: f32) -> Detection {
    Detection {
        bbox: BBox {
            xmin: cx - 0.04,
            ymin: foot_y - 0.25,
            xmax: cx + 0.04,
            ymax: foot_y,
        },
        score: 0.9,
        class: 0,
        appearance: None,
    }
}

/// A scene whose tracker takes boxes under 0.5 as faint (continuing tracks only) and retires a
/// track `hold` after its last box (no lost tracks: `lost_tracks_tests` has those).
pub(super) fn scene_with_faint_boxes(hold: Duration) -> Counting {
    let mut s = scene(OccupancyMode::Detections);
    s.tracker = Tracker::new(TrackerConfig {
        high_score: 0.5,
        hold,
        lost: Duration::ZERO,
        ..TrackerConfig::default()
    });
    s
}

pub(super) fn scene(mode: OccupancyMode) -> Counting {
    // A door across the walkway at x = 0.5; in = left → right.
    scene_with_line(
        mode,
        Segment {
            from: (0.5, 0.0),
            to: (0.5, 1.0),
        },
    )
}

fn scene_with_line(mode: OccupancyMode, line: Segment) -> Counting {
    Counting::new(
        SceneConfig {
            mode,
            smoothing_frames: 1,
            cadence: Cadence::OnChange {
                interval: Duration::from_secs(3600),
            },
            tracker: TrackerConfig::default(),
            line_band: Band::Fixed(0.02),
            line_return: Duration::ZERO,
            zones: vec![Zone::new([(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])],
            lines: vec![line],
            door: DoorConfig {
                reset_at: None,
                empty_correction: None,
                utc_offset_s: Some(0),
            },
        },
        std::sync::Arc::new(crate::wall_clock::WallClock::fixed(std::time::UNIX_EPOCH)),
    )
}

/// Feeds frames at 10 fps; returns every report so far (the stream goes on).
pub(super) fn observe_all(s: &mut Counting, frames: &[Vec<Detection>]) -> Vec<CountReport> {
    let mut out = Vec::new();
    for (i, dets) in frames.iter().enumerate() {
        s.observe(dets, Duration::from_millis(100 * i as u64), &mut out);
    }
    out
}

/// Runs frames at 10 fps to the end of the stream; returns every report.
pub(super) fn run(s: &mut Counting, frames: &[Vec<Detection>]) -> Vec<CountReport> {
    let mut out = observe_all(s, frames);
    s.flush(&mut out);
    out
}

/// Frame `i` of someone walking across the door at x = 0.5, 0.3 of the picture a second.
pub(super) fn walker(i: u64) -> Detection {
    person(0.2 + 0.03 * i as f32, 0.5)
}

pub(super) fn last_line(reports: &[CountReport]) -> (u64, u64) {
    reports
        .iter()
        .rev()
        .find_map(|r| match r {
            CountReport::Line(0, l) => Some((l.in_total, l.out_total)),
            _ => None,
        })
        .unwrap_or((0, 0))
}

#[test]
fn two_people_crossing_together_count_two() {
    let mut s = scene(OccupancyMode::Tracks);
    let frames: Vec<Vec<Detection>> = (0..20)
        .map(|i| {
            let x = 0.2 + 0.03 * i as f32;
            vec![person(x, 0.5), person(x + 0.02, 0.8)]
        })
        .collect();
    let reports = run(&mut s, &frames);
    assert_eq!(last_line(&reports), (2, 0));
}

#[test]
fn a_crossing_while_tentative_counts_once_confirmed() {
    let mut s = scene(OccupancyMode::Tracks);
    // Appears just left of the line and is across it by its second frame.
    let frames: Vec<Vec<Detection>> = (0..6)
        .map(|i| vec![person(0.46 + 0.05 * i as f32, 0.5)])
        .collect();
    let reports = run(&mut s, &frames);
    assert_eq!(last_line(&reports), (1, 0));
}

#[test]
fn a_person_occluded_at_the_line_is_counted_once() {
    let mut s = scene(OccupancyMode::Tracks);
    let mut frames: Vec<Vec<Detection>> = Vec::new();
    for i in 0..10 {
        frames.push(vec![person(0.2 + 0.025 * i as f32, 0.5)]);
    }
    // Hidden for 0.6 s while crossing, then seen on the far side.
    for _ in 0..6 {
        frames.push(vec![]);
    }
    for i in 0..8 {
        frames.push(vec![person(0.6 + 0.025 * i as f32, 0.5)]);
    }
    let reports = run(&mut s, &frames);
    assert_eq!(last_line(&reports), (1, 0));
    // Occupancy held through the gap: never 0 in any window.
    let mut counts: Vec<u32> = reports
        .iter()
        .filter_map(|r| match r {
            CountReport::Occupancy(o) => Some(o.min.min(o.count)),
            _ => None,
        })
        .collect();
    counts.dedup();
    assert_eq!(counts, vec![1], "{counts:?}");
}

#[test]
fn faint_detections_continue_tracks_but_are_never_counted_alone() {
    let mut s = scene_with_faint_boxes(Duration::from_millis(300));
    let faint = |d: Detection| Detection { score: 0.35, ..d };
    let mut frames: Vec<Vec<Detection>> = Vec::new();
    for i in 0..10 {
        frames.push(vec![person(0.2 + 0.025 * i as f32, 0.5)]);
    }
    // Half hidden while crossing (only faint boxes, for longer than the hold).
    for i in 10..16 {
        frames.push(vec![faint(person(0.2 + 0.025 * i as f32, 0.5))]);
    }
    for i in 16..24 {
        frames.push(vec![person(0.2 + 0.025 * i as f32, 0.5)]);
    }
    // A faint box alone: not a person in the occupancy count.
    frames.extend((0..12).map(|_| vec![faint(person(0.2, 0.5))]));
    let reports = run(&mut s, &frames);
    assert_eq!(last_line(&reports), (1, 0), "one crossing, one track");
    assert_eq!(s.occupancy(), 0);
    // Without the faint boxes the track is lost mid-crossing and the crossing with it.
    let mut plain = scene_with_faint_boxes(Duration::from_millis(300));
    for f in &mut frames {
        f.retain(|d| d.score >= 0.5);
    }
    assert_eq!(last_line(&run(&mut plain, &frames)), (0, 0));
}

#[test]
fn a_faint_box_leaving_the_picture_makes_no_crossing() {
    let mut s = scene_with_faint_boxes(TrackerConfig::default().hold);
    let faint = |d: Detection| Detection { score: 0.35, ..d };
    // Walks out over the picture's top edge beside the line: the last, faint boxes are cut
    // by the edge and drift across the line.
    let mut frames: Vec<Vec<Detection>> = (0..8)
        .map(|i| vec![person(0.40 + 0.005 * i as f32, 0.28)])
        .collect();
    frames.extend((0..6).map(|i| vec![faint(person(0.45 + 0.03 * i as f32, 0.25))]));
    frames.extend((0..20).map(|_| vec![]));
    assert_eq!(last_line(&run(&mut s, &frames)), (0, 0));
    // The same faint boxes inside the picture do carry the track across.
    let mut s = scene_with_faint_boxes(TrackerConfig::default().hold);
    let mut frames: Vec<Vec<Detection>> = (0..8)
        .map(|i| vec![person(0.40 + 0.005 * i as f32, 0.8)])
        .collect();
    frames.extend((0..6).map(|i| vec![faint(person(0.45 + 0.03 * i as f32, 0.8))]));
    frames.extend((0..20).map(|_| vec![]));
    assert_eq!(last_line(&run(&mut s, &frames)), (1, 0));
}

#[test]
fn zones_count_people_by_foot_point() {
    let mut s = scene(OccupancyMode::Tracks);
    let frames: Vec<Vec<Detection>> = (0..5)
        .map(|_| vec![person(0.2, 0.5), person(0.8, 0.5)])
        .collect();
    let reports = run(&mut s, &frames);
    let zone: Vec<u32> = reports
        .iter()
        .filter_map(|r| match r {
            CountReport::Zone(0, o) => Some(o.count),
            _ => None,
        })
        .collect();
    assert_eq!(zone.last(), Some(&1));
    assert_eq!(s.occupancy(), 2);
}

#[test]
fn in_minus_out_mode_follows_the_door() {
    let mut s = scene(OccupancyMode::InMinusOut);
    let mut frames: Vec<Vec<Detection>> = (0..20)
        .map(|i| vec![person(0.2 + 0.03 * i as f32, 0.5)])
        .collect();
    frames.extend((0..10).map(|_| vec![]));
    run(&mut s, &frames);
    assert_eq!(s.occupancy(), 1, "one in, still inside by the door count");
}

/// A person `height` tall standing with their feet at (`cx`, `foot_y`).
fn person_of_height(cx: f32, foot_y: f32, height: f32) -> Detection {
    let mut d = person(cx, foot_y);
    d.bbox.ymin = foot_y - height;
    d.bbox.xmin = cx - height * 0.16;
    d.bbox.xmax = cx + height * 0.16;
    d
}

fn line_totals_with_band(band: Band, frames: &[Vec<Detection>]) -> (u64, u64) {
    let mut s = scene(OccupancyMode::Detections);
    s.band = band;
    last_line(&run(&mut s, frames))
}

#[test]
fn a_band_of_the_persons_height_is_narrow_far_away_and_wide_close_up() {
    // Far from the camera: a person 0.1 tall steps from 0.008 left of the line to 0.008 right
    // of it. A fixed band of 0.02 never sees them leave it; 5 % of their height (0.005) does.
    let far: Vec<Vec<Detection>> = (0..16)
        .map(|i| {
            let x = if i < 8 { 0.492 } else { 0.508 };
            vec![person_of_height(x, 0.3, 0.1)]
        })
        .collect();
    assert_eq!(line_totals_with_band(Band::Fixed(0.02), &far), (0, 0));
    assert_eq!(line_totals_with_band(Band::OfHeight(0.05), &far), (1, 0));
    // Close to the camera: a person 0.6 tall sways 0.015 either side of the line. A fixed band
    // of 0.01 counts every sway; 5 % of their height (0.03) counts none.
    let near: Vec<Vec<Detection>> = (0..40)
        .map(|i| {
            let x = if (i / 8) % 2 == 0 { 0.485 } else { 0.515 };
            vec![person_of_height(x, 0.95, 0.6)]
        })
        .collect();
    let (ins, outs) = line_totals_with_band(Band::Fixed(0.01), &near);
    assert!(ins >= 2 && outs >= 1, "{ins} in, {outs} out");
    assert_eq!(line_totals_with_band(Band::OfHeight(0.05), &near), (0, 0));
}

#[test]
fn a_person_boxed_together_with_someone_passing_in_front_crosses_nothing() {
    // A stands with their feet at y = 0.5, 0.25 tall. B walks left to right in front of them,
    // feet at y = 0.62. A line runs between their feet at y = 0.56; nobody crosses it. While
    // B's legs are below A, the detector sees one box from A's head to B's feet: 1.5 times A's
    // height, same top. A's foot point must not follow it across the line and back.
    let line = Segment {
        from: (0.0, 0.56),
        to: (1.0, 0.56),
    };
    let a = person(0.3, 0.5);
    let frames: Vec<Vec<Detection>> = (0..24)
        .map(|i| {
            let xb = 0.1 + 0.02 * i as f32;
            let b = person(xb, 0.62);
            if (xb - 0.3).abs() < 0.05 {
                let mut merged = a;
                merged.bbox.xmin = a.bbox.xmin.min(b.bbox.xmin);
                merged.bbox.xmax = a.bbox.xmax.max(b.bbox.xmax);
                merged.bbox.ymax = b.bbox.ymax;
                vec![merged]
            } else {
                vec![a, b]
            }
        })
        .collect();
    let mut s = scene_with_line(OccupancyMode::Detections, line);
    assert_eq!(last_line(&run(&mut s, &frames)), (0, 0));
}

#[test]
fn the_stage_builds_itself_from_its_config_section() {
    let c = crate::config::Config::parse(
        "[counting]\noccupancy = \"in_minus_out\"\ndaily_reset = \"03:00\"\n\
         line_band_height = 0.1\n\
         [[counting.zones]]\nname = \"desk\"\npolygon = [[0.1,0.2],[0.5,0.2],[0.5,0.9]]\n\
         [[counting.lines]]\nname = \"door\"\nfrom = [0.5, 0.0]\nto = [0.5, 1.0]\n",
    )
    .unwrap();
    let cadence = Cadence::OnChange {
        interval: Duration::from_secs(60),
    };
    let scene = SceneConfig::from_config(&c.counting, cadence, 0.6);
    assert_eq!(scene.mode, OccupancyMode::InMinusOut);
    assert_eq!(scene.door.reset_at, Some(3 * 3600));
    assert_eq!(scene.line_band, Band::OfHeight(0.1));
    assert_eq!(
        scene.lines,
        [Segment {
            from: (0.5, 0.0),
            to: (0.5, 1.0)
        }]
    );
    assert!(scene.zones[0].contains((0.4, 0.5)));
    assert_eq!(scene.tracker.high_score, 0.6);
    assert_eq!(
        scene.tracker.hold,
        Duration::from_secs_f32(CountingConfig::default().track_hold_s)
    );
}

//! Line tests: sides, the band (fixed or of the person's height), crossings through the segment
//! only, and the totals and report schedule of `LineCounter`.

use super::*;

/// A vertical door at x = 0.5 spanning y 0.2..0.8; "in" = left to right.
fn door() -> Segment {
    Segment {
        from: (0.5, 0.2),
        to: (0.5, 0.8),
    }
}

/// A counter on the door reporting on every crossing and at least every `secs` seconds.
fn on_change(secs: u64) -> LineCounter {
    LineCounter::new(
        door(),
        Cadence::OnChange {
            interval: Duration::from_secs(secs),
        },
    )
}

fn walk(seg: &Segment, path: &[(f32, f32)]) -> Vec<Crossing> {
    let mut m = LineMemory::default();
    path.iter()
        .filter_map(|&p| seg.observe(&mut m, p, 0.02))
        .collect()
}

#[test]
fn sides_follow_the_cross_product_in_image_coordinates() {
    let s = door();
    assert_eq!(s.side((0.3, 0.5), 0.0), Some(Side::Left));
    assert_eq!(s.side((0.7, 0.5), 0.0), Some(Side::Right));
    assert_eq!(s.side((0.51, 0.5), 0.02), None);
    // Horizontal, directed to the right: left is below (larger y) in image coordinates.
    let h = Segment {
        from: (0.0, 0.5),
        to: (1.0, 0.5),
    };
    assert_eq!(h.side((0.5, 0.9), 0.0), Some(Side::Left));
}

#[test]
fn crossing_left_to_right_is_in_and_back_is_out() {
    let path: Vec<(f32, f32)> = (0..10).map(|i| (0.3 + 0.05 * i as f32, 0.5)).collect();
    assert_eq!(walk(&door(), &path), vec![Crossing::In]);
    let back: Vec<(f32, f32)> = path.iter().rev().copied().collect();
    assert_eq!(walk(&door(), &back), vec![Crossing::Out]);
}

#[test]
fn touching_the_line_and_turning_back_counts_nothing() {
    // Up to the line, a step over it within the band, and back: jitter, not a crossing.
    let path = [
        (0.3, 0.5),
        (0.45, 0.5),
        (0.49, 0.5),
        (0.515, 0.5),
        (0.49, 0.5),
        (0.3, 0.5),
    ];
    assert!(walk(&door(), &path).is_empty());
    // Standing on the line and wobbling across it for a while: still nothing.
    let wobble: Vec<(f32, f32)> = (0..20)
        .map(|i| (0.5 + if i % 2 == 0 { 0.015 } else { -0.015 }, 0.5))
        .collect();
    assert!(walk(&door(), &wobble).is_empty());
}

#[test]
fn passing_beside_the_segment_is_not_a_crossing() {
    // Crosses x = 0.5 at y = 0.95, below the door's end (0.8).
    let path: Vec<(f32, f32)> = (0..10).map(|i| (0.3 + 0.05 * i as f32, 0.95)).collect();
    assert!(walk(&door(), &path).is_empty());
}

#[test]
fn a_line_drawn_to_the_border_reaches_past_it() {
    // Feet cut by the bottom border (ground truth boxes end a pixel below the picture).
    let below: Vec<(f32, f32)> = (0..10).map(|i| (0.3 + 0.05 * i as f32, 1.002)).collect();
    let full = Segment {
        from: (0.5, 0.0),
        to: (0.5, 1.0),
    };
    assert_eq!(walk(&full, &below), vec![Crossing::In]);
    // An end inside the picture stays an end: a walk above y = 0.2 misses the segment.
    let to_bottom = Segment {
        from: (0.5, 0.2),
        to: (0.5, 1.0),
    };
    assert_eq!(walk(&to_bottom, &below), vec![Crossing::In]);
    let above: Vec<(f32, f32)> = (0..10).map(|i| (0.3 + 0.05 * i as f32, 0.1)).collect();
    assert!(walk(&to_bottom, &above).is_empty());
}

#[test]
fn a_person_first_seen_on_one_side_is_not_counted_until_they_cross() {
    let path = [(0.7, 0.5), (0.72, 0.5), (0.75, 0.5)];
    assert!(walk(&door(), &path).is_empty());
}

#[test]
fn counter_reports_on_a_crossing_and_at_least_every_interval() {
    let mut c = on_change(10);
    let s = Duration::from_secs;
    assert!(
        c.observe(0, 0, s(0)).is_some(),
        "first frame announces the totals"
    );
    assert!(c.observe(0, 0, s(1)).is_none());
    let r = c.observe(1, 0, s(2)).unwrap();
    assert_eq!((r.in_total, r.in_delta, r.out_total), (1, 1, 0));
    assert!(c.observe(0, 0, s(5)).is_none());
    let r = c.observe(0, 2, s(12)).unwrap();
    assert_eq!(
        (r.in_total, r.out_total, r.in_delta, r.out_delta),
        (1, 2, 0, 2)
    );
    let r = c.observe(0, 0, s(22)).unwrap();
    assert_eq!((r.in_delta, r.out_delta, r.window), (0, 0, s(10)));
    c.reset(s(23));
    let r = c.observe(1, 0, s(24)).unwrap();
    assert_eq!((r.in_total, r.out_total, r.epoch), (1, 0, s(23)));
}

#[test]
fn counter_in_bins_reports_each_bin_at_its_end() {
    let mut c = LineCounter::new(
        door(),
        Cadence::Bins {
            width: Duration::from_secs(10),
            phase: Duration::ZERO,
        },
    );
    let s = Duration::from_secs;
    assert!(c.observe(1, 0, s(1)).is_none());
    assert!(c.observe(1, 0, s(9)).is_none());
    let r = c.observe(0, 1, s(11)).unwrap();
    assert_eq!((r.in_delta, r.out_delta, r.t), (2, 0, s(10)));
    let r = c.flush().unwrap();
    assert_eq!(
        (r.in_total, r.out_total, r.out_delta, r.t),
        (2, 1, 1, s(20))
    );
}

#[test]
fn a_band_of_the_height_scales_with_the_person() {
    assert_eq!(Band::Fixed(0.02).for_height(0.5), 0.02);
    assert!((Band::OfHeight(0.05).for_height(0.4) - 0.02).abs() < 1e-7);
    assert!((Band::OfHeight(0.05).for_height(0.1) - 0.005).abs() < 1e-7);
    assert_eq!(Band::OfHeight(0.05).for_height(-0.1), 0.0);
}

#[test]
fn a_crossing_back_within_the_return_window_undoes_both() {
    let (ms, window) = (Duration::from_millis, Duration::from_millis(500));
    let mut m = LineMemory::default();
    assert_eq!(m.cross(Crossing::In, ms(1000), window), None);
    assert_eq!(m.due(Some(ms(1300)), window), None, "still waiting");
    assert_eq!(m.cross(Crossing::Out, ms(1400), window), None);
    assert_eq!(m.due(Some(ms(5000)), window), None, "both undone");
    assert_eq!(m.due(None, window), None);
}

#[test]
fn a_crossing_counts_once_its_return_window_has_passed() {
    let (ms, window) = (Duration::from_millis, Duration::from_millis(500));
    let mut m = LineMemory::default();
    assert_eq!(m.cross(Crossing::In, ms(1000), window), None);
    assert_eq!(m.due(Some(ms(1400)), window), None);
    assert_eq!(m.due(Some(ms(1500)), window), Some(Crossing::In));
    assert_eq!(m.due(Some(ms(1600)), window), None, "counted once");
    // Crossing back after the window is a second crossing: the first counts as it is made.
    assert_eq!(m.cross(Crossing::Out, ms(3000), window), None);
    assert_eq!(m.cross(Crossing::In, ms(4000), window), Some(Crossing::Out));
    // The end of the track or of the stream settles a crossing still waiting.
    assert_eq!(m.due(None, window), Some(Crossing::In));
}

#[test]
fn with_no_return_window_a_crossing_counts_at_once() {
    let mut m = LineMemory::default();
    let t = Duration::from_millis(1000);
    assert_eq!(m.cross(Crossing::Out, t, Duration::ZERO), None);
    assert_eq!(m.due(Some(t), Duration::ZERO), Some(Crossing::Out));
}

#[test]
fn settled_crossings_are_in_the_final_report() {
    let mut c = on_change(60);
    let s = Duration::from_secs;
    assert!(c.observe(1, 0, s(1)).is_some());
    c.add(0, 1);
    let r = c.flush().unwrap();
    assert_eq!(
        (r.in_total, r.out_total, r.in_delta, r.out_delta),
        (1, 1, 0, 1)
    );
}

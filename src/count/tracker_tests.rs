//! Tracker tests with hand-made detections: confirmation, false positives, occlusion gaps,
//! people cut from below, merged with a passer-by or sitting down, people passing each other,
//! the distance stage's gates.

use super::*;
use crate::detect::appearance::Appearance;
use crate::detect::BBox;

/// A person 0.1 wide and 0.3 tall centred on (cx, cy).
pub(crate) fn person(cx: f32, cy: f32) -> Detection {
    sized(cx, cy + 0.15, 0.3)
}

/// A person 0.1 wide and `h` tall standing at (cx, foot).
fn sized(cx: f32, foot: f32, h: f32) -> Detection {
    Detection {
        bbox: BBox {
            xmin: cx - 0.05,
            ymin: foot - h,
            xmax: cx + 0.05,
            ymax: foot,
        },
        score: 0.9,
        class: 0,
        appearance: None,
    }
}

fn at(frame: u32) -> Duration {
    Duration::from_millis(100 * u64::from(frame))
}

type T = Tracker<()>;

#[test]
fn a_track_is_confirmed_after_min_hits_and_follows_its_person() {
    let mut tr = T::new(TrackerConfig::default());
    for f in 0..10 {
        tr.update(&[person(0.2 + 0.02 * f as f32, 0.5)], at(f));
        assert_eq!(tr.tracks().len(), 1);
        assert_eq!(tr.present().count(), usize::from(f >= 2), "frame {f}");
    }
    let (x, _) = tr.tracks()[0].foot();
    assert!((x - 0.38).abs() < 0.02, "{x}");
}

#[test]
fn a_one_frame_false_positive_never_counts() {
    let mut tr = T::new(TrackerConfig::default());
    tr.update(&[person(0.5, 0.5)], at(0));
    for f in 1..5 {
        tr.update(&[], at(f));
        assert_eq!(tr.present().count(), 0);
    }
    assert!(tr.tracks().is_empty());
}

#[test]
fn an_occlusion_gap_shorter_than_hold_keeps_the_person() {
    let mut tr = T::new(TrackerConfig::default());
    for f in 0..5 {
        tr.update(&[person(0.3 + 0.01 * f as f32, 0.5)], at(f));
    }
    // Hidden for 1 s (10 frames at 10 fps): still present, and re-acquired as the same track.
    for f in 5..15 {
        tr.update(&[], at(f));
        assert_eq!(tr.present().count(), 1, "frame {f}");
    }
    tr.update(&[person(0.45, 0.5)], at(15));
    assert_eq!(tr.tracks().len(), 1);
    assert!(tr.tracks()[0].updated() && tr.tracks()[0].confirmed());
    // Gone for longer than hold: no longer present; retired once lost for as long again.
    for f in 16..32 {
        tr.update(&[], at(f));
    }
    assert_eq!(tr.present().count(), 0);
    for f in 32..47 {
        tr.update(&[], at(f));
    }
    assert!(tr.tracks().is_empty());
}

#[test]
fn a_box_shrinking_out_of_sight_is_never_held_upside_down() {
    // A box that shrinks fast (a person walking away, or half hidden step by step) and then
    // vanishes: the filter carries the shrinking on, and must not keep a box of no height.
    let mut tr = T::new(TrackerConfig::default());
    for f in 0..6 {
        tr.update(&[sized(0.5, 0.6, 0.3 - 0.04 * f as f32)], at(f));
    }
    let mut frames_held = 0;
    for f in 6..20 {
        tr.update(&[], at(f));
        for track in tr.tracks() {
            let b = track.bbox();
            assert!(
                b.ymax - b.ymin >= MIN_PREDICTED_SIZE && b.xmax - b.xmin >= MIN_PREDICTED_SIZE,
                "frame {f}: {b:?}"
            );
        }
        frames_held += tr.present().count();
    }
    // Held while the prediction is a box, then gone before `hold` (15 frames) would retire it.
    assert!((1..14).contains(&frames_held), "held {frames_held} frames");
    assert!(tr.tracks().is_empty());
}

/// A person 0.1 wide whose box is cut `cut` above their feet at (cx, foot), `h` tall in full.
fn cut_from_below(cx: f32, foot: f32, h: f32, cut: f32) -> Detection {
    let mut d = sized(cx, foot, h);
    d.bbox.ymax -= cut;
    d
}

#[test]
fn a_person_walking_behind_someone_keeps_their_feet() {
    // A person walks right; someone standing in front hides their legs (the box ends at their
    // waist, its top unchanged), then all of them, then they come out on the other side.
    let mut tr = Tracker::<u8>::new(TrackerConfig::default());
    let x = |f: u32| 0.3 + 0.015 * f as f32;
    for f in 0..5 {
        tr.update(&[sized(x(f), 0.6, 0.3)], at(f));
    }
    tr.tracks_mut()[0].memo = b'A';
    for f in 5..9 {
        tr.update(&[cut_from_below(x(f), 0.6, 0.3, 0.18)], at(f));
        let (_, foot) = tr.tracks()[0].foot();
        assert!(
            (foot - 0.6).abs() < 0.02,
            "frame {f}: foot at {foot}, not on the feet"
        );
    }
    for f in 9..13 {
        tr.update(&[], at(f));
        let b = tr.tracks()[0].bbox();
        assert!(
            (b.ymax - 0.6).abs() < 0.03,
            "frame {f}: coasting foot at {}",
            b.ymax
        );
        assert!(
            b.ymax - b.ymin > 0.25,
            "frame {f}: coasting box shrank to {b:?}"
        );
    }
    tr.update(&[sized(x(13), 0.6, 0.3)], at(13));
    assert_eq!(tr.tracks().len(), 1, "a new track instead of A");
    assert!(tr.tracks()[0].updated() && tr.tracks()[0].memo == b'A');
}

#[test]
fn a_person_sitting_down_is_not_taken_for_a_cut_box() {
    // Feet stay, the top comes down: the track's box follows the seated person.
    let mut tr = T::new(TrackerConfig::default());
    for f in 0..5 {
        tr.update(&[sized(0.5, 0.6, 0.3)], at(f));
    }
    for f in 5..12 {
        tr.update(&[sized(0.5, 0.6, 0.18)], at(f));
    }
    let b = tr.tracks()[0].bbox();
    assert!(
        b.ymax - b.ymin < 0.2,
        "seated box kept standing height: {b:?}"
    );
    assert!((b.ymax - 0.6).abs() < 0.02, "{b:?}");
}

#[test]
fn a_person_first_seen_behind_a_desk_gets_their_feet_once_they_step_out() {
    // Seen from the waist up (top 0.2, box ending at 0.35) for a second, then whole (feet at
    // 0.5): at first the taller box is taken for a merge, after a second it is the person.
    let mut tr = T::new(TrackerConfig::default());
    for f in 0..10 {
        tr.update(&[sized(0.5, 0.35, 0.15)], at(f));
    }
    tr.update(&[sized(0.5, 0.5, 0.3)], at(10));
    let (_, foot) = tr.tracks()[0].foot();
    assert!(
        (foot - 0.35).abs() < 0.02,
        "one taller box moved the foot to {foot}"
    );
    for f in 11..30 {
        tr.update(&[sized(0.5, 0.5, 0.3)], at(f));
    }
    let (_, foot) = tr.tracks()[0].foot();
    assert!((foot - 0.5).abs() < 0.02, "foot stuck at {foot}");
    assert_eq!(tr.tracks().len(), 1);
}

#[test]
fn a_person_walking_towards_the_camera_grows_with_their_box() {
    // 5 % taller each frame, top rising a little: never taken for a merge.
    let mut tr = T::new(TrackerConfig::default());
    let (mut h, mut foot) = (0.2_f32, 0.5_f32);
    for f in 0..20 {
        tr.update(&[sized(0.5, foot, h)], at(f));
        h *= 1.05;
        foot += 0.015;
    }
    let b = tr.tracks()[0].bbox();
    let (h, foot) = (h / 1.05, foot - 0.015);
    assert!(
        (b.ymax - foot).abs() < 0.03,
        "foot at {}, person at {foot}",
        b.ymax
    );
    assert!((b.ymax - b.ymin - h).abs() < 0.05, "{b:?}, person {h} tall");
}

#[test]
fn a_held_track_does_not_jump_onto_a_box_of_another_height() {
    let mut tr = Tracker::<u8>::new(TrackerConfig::default());
    for f in 0..5 {
        tr.update(&[sized(0.3, 0.6, 0.3)], at(f));
    }
    tr.tracks_mut()[0].memo = b'A';
    tr.update(&[], at(5));
    // Two people merged into one tall box right beside where A was last seen (no overlap,
    // near enough for the distance stage): another person, not A (jumps like this once made
    // held tracks cross lines nobody walked).
    tr.update(&[sized(0.42, 0.75, 0.6)], at(6));
    let a = tr.tracks().iter().find(|t| t.memo == b'A').unwrap();
    assert!(!a.updated(), "A jumped onto the tall box");
    assert_eq!(tr.tracks().len(), 2);
}

#[test]
fn reach_grows_with_time_unseen_not_with_frames() {
    // 2 frames per second. A person standing still is missed once; 1 s after they were last
    // seen they are detected one box height away (no overlap): the same track, because in
    // a second a person can walk that far.
    let mut tr = Tracker::<u8>::new(TrackerConfig::default());
    let at2 = |f: u32| Duration::from_millis(500 * u64::from(f));
    for f in 0..4 {
        tr.update(&[sized(0.3, 0.6, 0.3)], at2(f));
    }
    tr.tracks_mut()[0].memo = b'A';
    tr.update(&[], at2(4));
    tr.update(&[sized(0.6, 0.6, 0.3)], at2(5));
    assert_eq!(tr.tracks().len(), 1, "a new track instead of A");
    assert!(tr.tracks()[0].updated() && tr.tracks()[0].memo == b'A');
    // Half a second later, a box beyond walking reach is someone else.
    tr.update(&[sized(0.95, 0.2, 0.3)], at2(6));
    assert_eq!(tr.tracks().len(), 2);
}

#[test]
fn two_people_passing_each_other_keep_their_tracks() {
    let mut tr = Tracker::<u8>::new(TrackerConfig::default());
    // A walks right, B walks left, one above the other so they overlap a little.
    for f in 0..20 {
        let x = 0.1 + 0.04 * f as f32;
        tr.update(&[person(x, 0.45), person(0.9 - (x - 0.1), 0.55)], at(f));
        if f == 0 {
            let (_, y0) = tr.tracks()[0].foot();
            let first_is_a = y0 < 0.62;
            tr.tracks_mut()[0].memo = if first_is_a { b'A' } else { b'B' };
            tr.tracks_mut()[1].memo = if first_is_a { b'B' } else { b'A' };
        }
    }
    assert_eq!(tr.tracks().len(), 2);
    for t in tr.tracks() {
        let (x, _) = t.foot();
        // A ends on the right, B on the left.
        match t.memo {
            b'A' => assert!(x > 0.8, "A at {x}"),
            b'B' => assert!(x < 0.2, "B at {x}"),
            other => panic!("unexpected memo {other}"),
        }
    }
}

#[test]
fn a_fast_walker_at_a_low_frame_rate_is_paired_by_distance() {
    let mut tr = T::new(TrackerConfig::default());
    // 0.08 per frame with 0.1-wide boxes: consecutive boxes barely overlap.
    for f in 0..8 {
        tr.update(&[person(0.1 + 0.08 * f as f32, 0.5)], at(f));
    }
    assert_eq!(tr.tracks().len(), 1);
    assert_eq!(tr.present().count(), 1);
}

fn faint(d: Detection) -> Detection {
    Detection { score: 0.35, ..d }
}

fn with_low_stage() -> TrackerConfig {
    TrackerConfig {
        high_score: 0.5,
        hold: Duration::from_millis(500),
        ..TrackerConfig::default()
    }
}

#[test]
fn faint_detections_never_start_a_track() {
    let mut tr = T::new(with_low_stage());
    for f in 0..10 {
        tr.update(&[faint(person(0.2 + 0.02 * f as f32, 0.5))], at(f));
    }
    assert!(tr.tracks().is_empty());
}

#[test]
fn faint_detections_keep_a_half_hidden_person_beyond_hold() {
    let mut tr = T::new(with_low_stage());
    for f in 0..5 {
        tr.update(&[person(0.2 + 0.02 * f as f32, 0.5)], at(f));
    }
    // Half hidden for 1.5 s, three times the hold: only faint boxes, and the track follows them.
    for f in 5..20 {
        tr.update(&[faint(person(0.2 + 0.02 * f as f32, 0.5))], at(f));
        assert_eq!(tr.present().count(), 1, "frame {f}");
        assert!(tr.tracks()[0].updated() && !tr.tracks()[0].updated_strongly());
    }
    tr.update(&[person(0.6, 0.5)], at(20));
    assert_eq!(tr.tracks().len(), 1, "re-acquired as the same track");
    assert!(tr.tracks()[0].updated_strongly());
    // Without the low stage the same person is lost after the hold and starts over.
    let mut plain = T::new(TrackerConfig {
        high_score: 0.0,
        ..with_low_stage()
    });
    for f in 0..5 {
        plain.update(&[person(0.2 + 0.02 * f as f32, 0.5)], at(f));
    }
    for f in 5..20 {
        plain.update(&[], at(f));
    }
    assert_eq!(plain.present().count(), 0);
}

#[test]
fn a_faint_box_away_from_the_prediction_is_ignored() {
    let mut tr = T::new(with_low_stage());
    for f in 0..5 {
        tr.update(&[person(0.2 + 0.02 * f as f32, 0.5)], at(f));
    }
    // A faint box elsewhere (another half-seen person, a shadow): neither taken nor tracked.
    tr.update(&[faint(person(0.7, 0.5))], at(5));
    assert_eq!(tr.tracks().len(), 1);
    assert!(!tr.tracks()[0].updated());
}

#[test]
fn people_passing_each_other_keep_their_tracks_by_their_colours() {
    let red = Some(Appearance::from_means([0.8, 0.1, 0.1], [0.2, 0.2, 0.2]));
    let blue = Some(Appearance::from_means([0.1, 0.1, 0.8], [0.6, 0.6, 0.5]));
    let dressed = |d: Detection, appearance| Detection { appearance, ..d };
    let run = |weight: f32| {
        let mut tr = Tracker::<u8>::new(TrackerConfig {
            appearance_weight: weight,
            ..TrackerConfig::default()
        });
        // Red stands at x 0.45, blue at 0.55; then, between two frames, they pass each other
        // so closely that each box overlaps the other person's track more than their own.
        for f in 0..5 {
            let people = [
                dressed(person(0.45, 0.5), red),
                dressed(person(0.55, 0.5), blue),
            ];
            tr.update(&people, at(f));
        }
        for t in tr.tracks_mut() {
            t.memo = if t.foot().0 < 0.5 { b'r' } else { b'b' };
        }
        let people = [
            dressed(person(0.51, 0.5), red),
            dressed(person(0.49, 0.5), blue),
        ];
        tr.update(&people, at(5));
        assert_eq!(tr.tracks().len(), 2);
        let red_track = tr
            .tracks()
            .iter()
            .find(|t| t.memo == b'r')
            .map(|t| t.foot().0);
        red_track.unwrap_or_default()
    };
    // Geometry alone swaps them: red's track jumps onto blue (x 0.49).
    assert!(run(0.0) < 0.5, "the case must be ambiguous by overlap");
    // With colours, red's track follows red to x 0.51 (filtered: past its old 0.45).
    assert!(run(3.0) > 0.47, "red's track went to {}", run(3.0));
}

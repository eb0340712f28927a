//! Lost tracks, with hand-made detections: a person hidden for longer than `hold` inside the
//! picture is taken up again near where they were heading and keeps their side of the line;
//! boxes elsewhere, people who walked out of the picture and `track_lost_s = 0` start anew.

use super::tests::{last_line, person, run, scene};
use super::*;

/// 10 frames a second.
fn at(frame: u64) -> Duration {
    Duration::from_millis(100 * frame)
}

/// Someone walks right at 0.2 of the picture a second from x = `x0`, is hidden (no box) for
/// frames `hidden`, and is seen again from then on at `x_after(frame)`.
fn walk_with_gap(
    x0: f32,
    hidden: std::ops::Range<u64>,
    frames: u64,
    x_after: impl Fn(u64) -> f32,
) -> Vec<Vec<Detection>> {
    (0..frames)
        .map(|i| {
            if i < hidden.start {
                vec![person(x0 + 0.02 * i as f32, 0.6)]
            } else if hidden.contains(&i) {
                vec![]
            } else {
                vec![person(x_after(i), 0.6)]
            }
        })
        .collect()
}

fn tracker(lost: Duration) -> Tracker<u8> {
    Tracker::new(TrackerConfig {
        lost,
        ..TrackerConfig::default()
    })
}

/// Feeds frame `i`; at frame 5 the first track (confirmed by then) is marked 7.
fn step(tr: &mut Tracker<u8>, i: usize, dets: &[Detection]) {
    tr.update(dets, at(i as u64));
    if i == 5 {
        tr.tracks_mut()[0].memo = 7;
    }
}

/// Runs `frames` (from frame `first` on) through a tracker whose first track is marked once
/// confirmed; returns the marks of the tracks present at the end and the number of tracks kept.
fn marks_at_the_end(
    mut tr: Tracker<u8>,
    first: usize,
    frames: &[Vec<Detection>],
) -> (Vec<u8>, usize) {
    for (i, dets) in frames.iter().enumerate() {
        step(&mut tr, first + i, dets);
    }
    (tr.present().map(|t| t.memo).collect(), tr.tracks().len())
}

#[test]
fn a_person_hidden_longer_than_hold_is_taken_up_where_they_were_heading() {
    // Hidden 2.5 s (hold is 1.5 s) behind a pillar; they come out 0.1 further on.
    let frames = walk_with_gap(0.2, 10..35, 45, |i| 0.48 + 0.02 * (i - 35) as f32);
    let mut tr = tracker(TrackerConfig::default().lost);
    for (i, dets) in frames.iter().enumerate().take(35) {
        step(&mut tr, i, dets);
        // Not counted while lost: present only up to `hold` after the last box.
        let expected = usize::from((2..=24).contains(&i));
        assert_eq!(tr.present().count(), expected, "frame {i}");
    }
    let (marks, kept) = marks_at_the_end(tr, 35, &frames[35..]);
    assert_eq!((marks, kept), (vec![7], 1));
}

#[test]
fn without_lost_tracks_the_same_person_starts_anew() {
    let frames = walk_with_gap(0.2, 10..35, 45, |i| 0.48 + 0.02 * (i - 35) as f32);
    let (marks, kept) = marks_at_the_end(tracker(Duration::ZERO), 0, &frames);
    assert_eq!((marks, kept), (vec![0], 1));
}

#[test]
fn a_box_far_from_where_the_lost_person_was_heading_is_someone_else() {
    // A box behind where they were last seen (x = 0.38, heading right) after 2.5 s: someone else.
    let frames = walk_with_gap(0.2, 10..35, 38, |_| 0.1);
    let (marks, kept) = marks_at_the_end(tracker(TrackerConfig::default().lost), 0, &frames);
    // The newcomer is present, unmarked; the lost track is kept (until hold + lost).
    assert_eq!((marks, kept), (vec![0], 2));
}

#[test]
fn a_person_who_walked_out_of_the_picture_is_not_waited_for() {
    // Steps slowly out at the right border (the box clamped to it, its centre still inside),
    // and someone comes in there 2 s later.
    let frames: Vec<Vec<Detection>> = (0..45)
        .map(|i| match i {
            0..=9 => {
                let mut d = person(0.97 + 0.002 * i as f32, 0.6);
                d.bbox.xmax = d.bbox.xmax.min(1.0);
                vec![d]
            }
            10..=29 => vec![],
            _ => vec![person(0.95, 0.6)],
        })
        .collect();
    let (marks, kept) = marks_at_the_end(tracker(TrackerConfig::default().lost), 0, &frames);
    assert_eq!((marks, kept), (vec![0], 1));
}

#[test]
fn a_lost_track_is_retired_after_hold_and_lost() {
    let frames = walk_with_gap(0.2, 10..80, 80, |_| 0.0);
    let mut tr = tracker(TrackerConfig::default().lost);
    let mut kept = Vec::new();
    for (i, dets) in frames.iter().enumerate() {
        tr.update(dets, at(i as u64));
        kept.push(tr.tracks().len());
    }
    // Last seen at frame 9: held 1.5 s, then lost for 1.5 s more, gone after frame 39.
    assert_eq!(kept[39], 1);
    assert_eq!(kept[40], 0);
}

#[test]
fn a_person_hidden_behind_a_pillar_on_the_line_is_counted() {
    // The door is at x = 0.5. They are last seen at x = 0.38, hidden for 2.5 s, and come out at
    // x = 0.6: the new box takes up their track, which was left of the door.
    let frames = walk_with_gap(0.2, 10..35, 50, |i| 0.6 + 0.02 * (i - 35) as f32);
    assert_eq!(
        last_line(&run(&mut scene(OccupancyMode::Detections), &frames)),
        (1, 0)
    );
    let mut without = scene(OccupancyMode::Detections);
    without.tracker = Tracker::new(TrackerConfig {
        lost: Duration::ZERO,
        ..TrackerConfig::default()
    });
    assert_eq!(last_line(&run(&mut without, &frames)), (0, 0));
}

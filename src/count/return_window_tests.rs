//! The return window, with hand-made detections: a track that takes a passer-by's box for a
//! frame and comes back crosses nothing, a crossing counts once its window has passed, at the
//! end of the stream, or when its track ends, and in − out keeps one settled at shutdown.

use super::tests::{last_line, observe_all, person, run, scene, scene_with_faint_boxes, walker};
use super::*;

/// The counting stage with a return window of half a second.
fn scene_with_return_window() -> Counting {
    let mut s = scene(OccupancyMode::Detections);
    s.return_window = Duration::from_millis(500);
    s
}

#[test]
fn a_track_that_takes_a_passers_box_for_a_frame_and_comes_back_crosses_nothing() {
    // A person stands 0.04 left of the door at x = 0.5. For two frames the detector loses them
    // and boxes a passer-by 0.05 right of the door instead, whom the track takes (0.36 of a
    // height away); then it finds the standing person again. Without the return window the
    // track goes in and comes back out.
    let frames: Vec<Vec<Detection>> = (0..30)
        .map(|i| {
            let x = if (12..14).contains(&i) { 0.55 } else { 0.46 };
            vec![person(x, 0.5)]
        })
        .collect();
    assert_eq!(
        last_line(&run(&mut scene(OccupancyMode::Detections), &frames)),
        (1, 1)
    );
    assert_eq!(
        last_line(&run(&mut scene_with_return_window(), &frames)),
        (0, 0)
    );
}

/// The frame at which a person walking across the door at 0.3 of the picture a second is
/// first counted.
fn frame_counted(mut s: Counting) -> Option<u64> {
    let mut out = Vec::new();
    (0..20).find(|&i| {
        s.observe(&[walker(i)], Duration::from_millis(100 * i), &mut out);
        s.line_totals().next() == Some((1, 0))
    })
}

#[test]
fn a_crossing_counts_after_the_return_window_and_at_the_end_of_the_stream() {
    let at_once = frame_counted(scene(OccupancyMode::Detections));
    let waited = frame_counted(scene_with_return_window());
    assert!(at_once.is_some(), "counted without a window");
    // Half a second at 10 frames a second: five frames after the crossing.
    assert_eq!(waited, at_once.map(|f| f + 5));
    // Someone crossing in the last frames is counted when the stream ends.
    let mut s = scene_with_return_window();
    let frames: Vec<Vec<Detection>> = (0..13).map(|i| vec![walker(i)]).collect();
    let mut out = observe_all(&mut s, &frames);
    assert_eq!(s.line_totals().next(), Some((0, 0)), "still waiting");
    s.flush(&mut out);
    assert_eq!(s.line_totals().next(), Some((1, 0)));
    assert_eq!(last_line(&out), (1, 0));
}

#[test]
fn a_crossing_still_waiting_when_its_track_ends_counts() {
    // Tracks are retired 0.2 s after their last box: well inside the half-second window.
    let mut s = scene_with_faint_boxes(Duration::from_millis(200));
    s.return_window = Duration::from_millis(500);
    let mut frames: Vec<Vec<Detection>> = (0..12).map(|i| vec![walker(i)]).collect();
    frames.extend((0..4).map(|_| vec![]));
    observe_all(&mut s, &frames);
    assert!(s.tracker.tracks().is_empty(), "the track has ended");
    assert_eq!(
        s.line_totals().next(),
        Some((1, 0)),
        "counted when its track ended"
    );
}

#[test]
fn in_minus_out_keeps_a_crossing_settled_at_shutdown_and_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let door_scene = || {
        let mut s = scene(OccupancyMode::InMinusOut)
            .with_door_store(Some(dir.path()))
            .unwrap();
        s.return_window = Duration::from_millis(500);
        s
    };
    // Someone crosses in the last frames: their crossing still waits when the stream ends.
    let frames: Vec<Vec<Detection>> = (0..13).map(|i| vec![walker(i)]).collect();
    let mut s = door_scene();
    let mut out = observe_all(&mut s, &frames);
    assert_eq!(s.door.count(), 0, "still waiting");
    s.flush(&mut out);
    assert_eq!(s.door.count(), 1, "settled at shutdown: inside");
    // The next run starts with them inside, and the second walker makes two.
    let mut s = door_scene();
    assert_eq!(s.door.count(), 1);
    run(&mut s, &frames);
    assert_eq!(s.door.count(), 2);
    // Other modes keep no record.
    let other = tempfile::tempdir().unwrap();
    let _ = scene(OccupancyMode::Tracks).with_door_store(Some(other.path()));
    assert!(std::fs::read_dir(other.path()).unwrap().next().is_none());
}

//! The survey grid fed through the counting stage with hand-made detections: who is counted
//! where, crossings with hysteresis, standing still, and the k blanking.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::CountingConfig;
use crate::count::{Cadence, Counting};
use crate::detect::{BBox, Detection};
use crate::wall_clock::WallClock;

fn person(cx: f32, foot_y: f32) -> Detection {
    Detection {
        bbox: BBox {
            xmin: cx - 0.04,
            ymin: foot_y - 0.3,
            xmax: cx + 0.04,
            ymax: foot_y,
        },
        score: 0.9,
        class: 0,
        appearance: None,
    }
}

fn surveying() -> Counting {
    let cadence = Cadence::OnChange {
        interval: Duration::from_secs(3600),
    };
    let clock = Arc::new(WallClock::fixed(SystemTime::now()));
    Counting::from_config(&CountingConfig::default(), cadence, 0.5, clock).with_survey(24, 18)
}

/// `people` walk one after another from x = 0.05 to 0.95 along y = 0.8 (0.2 of the picture a
/// second, two thirds of their height) at 10 frames a second, with a second of empty picture
/// between them.
fn walk(counting: &mut Counting, people: usize) {
    let mut t = Duration::ZERO;
    let step = Duration::from_millis(100);
    for _ in 0..people {
        for i in 0..=45 {
            counting.step(&[person(0.05 + 0.02 * i as f32, 0.8)], t);
            t += step;
        }
        for _ in 0..10 {
            counting.step(&[], t);
            t += step;
        }
    }
    counting.finish();
}

#[test]
fn one_person_leaves_only_blank_cells_at_the_default_k() {
    let mut c = surveying();
    walk(&mut c, 1);
    let (grid, frames, _) = c.survey(5).unwrap();
    assert_eq!(frames, 56);
    assert!(grid.people.iter().all(Option::is_none));
    assert!(grid.presence_s.iter().all(Option::is_none));
    assert!(grid.east.iter().all(Option::is_none));
    assert!(grid.height_median.iter().all(Option::is_none));
    assert!(!grid.in_view.iter().any(|&v| v));
}

#[test]
fn five_walkers_are_shown_with_their_crossings_direction_and_height() {
    let mut c = surveying();
    walk(&mut c, 5);
    let (grid, _, _) = c.survey(5).unwrap();
    // y = 0.8 is row 14 of 18; the walk covers columns 2..=21 at least.
    for col in 2..=21 {
        let i = grid.index(col, 14);
        assert_eq!(grid.people[i], Some(5), "column {col}");
        let [vx, vy] = grid.flow[i].unwrap();
        assert!(vx > 0.1 && vy.abs() < 0.02, "column {col}: {vx} {vy}");
        let h = grid.height_median[i].unwrap();
        assert!((h - 0.3).abs() <= 0.02, "column {col}: {h}");
    }
    // Every border on the way is crossed once by each, rightwards, never back.
    for col in 2..=20 {
        let i = grid.index(col, 14);
        assert_eq!(
            (grid.east[i], grid.west[i]),
            (Some(5), Some(0)),
            "column {col}"
        );
    }
    // Nobody stood still; nobody else's row is shown.
    assert!(grid.dwell_s.iter().flatten().all(|&d| d < 1.0));
    assert!(grid
        .people
        .iter()
        .enumerate()
        .all(|(i, p)| p.is_none() || i / 24 == 14));
    // They came into view on the left and left on the right.
    let entries: u32 = (0..6).filter_map(|c| grid.entries[grid.index(c, 14)]).sum();
    let exits: u32 = (18..24).filter_map(|c| grid.exits[grid.index(c, 14)]).sum();
    assert_eq!((entries, exits), (5, 5));
    // The boxes reach up from their feet: the cells above the walk are in view.
    assert!(grid.in_view[grid.index(10, 10)]);
    assert!(!grid.in_view[grid.index(10, 2)]);
}

#[test]
fn standing_on_a_border_is_dwell_not_crossings() {
    let mut c = surveying();
    // Five people, each standing 10 s with their feet on the border between columns 11 and 12
    // (x = 0.5), swaying by 0.006 (under a quarter of a cell).
    let mut t = Duration::ZERO;
    for _ in 0..5 {
        for i in 0..100 {
            let sway = if i % 2 == 0 { 0.003 } else { -0.003 };
            c.step(&[person(0.5 + sway, 0.6)], t);
            t += Duration::from_millis(100);
        }
        for _ in 0..10 {
            c.step(&[], t);
            t += Duration::from_millis(100);
        }
    }
    c.finish();
    let (grid, _, _) = c.survey(1).unwrap();
    let crossings: u32 = grid.east.iter().chain(&grid.west).flatten().sum();
    assert_eq!(crossings, 0);
    let dwell: f64 = grid.dwell_s.iter().flatten().sum();
    assert!(dwell > 40.0, "{dwell}");
}

#[test]
fn a_walker_seen_rarely_still_visits_and_crosses_every_cell_on_the_way() {
    // One frame a second: each step covers 0.14 of the picture, over three cells of 1/24.
    let mut c = surveying();
    let mut t = Duration::ZERO;
    for _ in 0..5 {
        for i in 0..=6 {
            c.step(&[person(0.05 + 0.14 * i as f32, 0.8)], t);
            t += Duration::from_secs(1);
        }
        for _ in 0..3 {
            c.step(&[], t);
            t += Duration::from_secs(1);
        }
    }
    c.finish();
    let (grid, _, _) = c.survey(5).unwrap();
    // From where they are confirmed (their third frame, x = 0.33, column 7) to the last (0.89,
    // column 21): every cell on the way is shown, every border crossed by all five.
    for col in 8..=20 {
        let i = grid.index(col, 14);
        assert_eq!(grid.people[i], Some(5), "column {col}");
        assert_eq!(grid.east[i], Some(5), "column {col}");
    }
}

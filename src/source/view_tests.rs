use super::*;
use crate::source::Fit;

const W: u32 = 96;
const H: u32 = 72;

fn geometry() -> FrameGeometry {
    FrameGeometry {
        width: W,
        height: H,
        fit: Fit::Stretch,
    }
}

fn frame(f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    (0..H)
        .flat_map(|y| (0..W).map(move |x| (x, y)))
        .flat_map(|(x, y)| f(x, y))
        .collect()
}

/// A sharp, textured picture: a checkerboard of 4-pixel squares over a gradient.
fn room(shift: u32) -> Vec<u8> {
    frame(|x, y| {
        let v = if ((x + shift) / 4 + y / 4).is_multiple_of(2) {
            60
        } else {
            180
        };
        let v = (v + y) as u8;
        [v, v, v]
    })
}

fn stats(rgb: &[u8]) -> FrameStats {
    measure(rgb, &Area::new(geometry(), Picture::FULL))
}

#[test]
fn each_kind_of_blind_frame_is_told_apart_from_a_room() {
    assert_eq!(stats(&room(0)).blindness(), None, "{:?}", stats(&room(0)));
    assert_eq!(
        stats(&frame(|_, _| [0, 0, 0])).blindness(),
        Some(Blindness::Dark)
    );
    assert_eq!(
        stats(&frame(|x, _| [8, 8, (x % 4) as u8])).blindness(),
        Some(Blindness::Dark)
    );
    assert_eq!(
        stats(&frame(|x, y| [120, 121, ((x + y) % 3) as u8 + 118])).blindness(),
        Some(Blindness::Featureless)
    );
    // A smooth ramp: plenty of contrast, no edges.
    let ramp = frame(|x, _| {
        let v = (40 + x * 2) as u8;
        [v, v, v]
    });
    assert_eq!(stats(&ramp).blindness(), Some(Blindness::Blurred));
}

#[test]
fn masked_black_areas_are_left_out() {
    // Half the room blacked out by a mask is still a room.
    let half = frame(|x, y| {
        if x < W / 2 {
            [0, 0, 0]
        } else {
            let v = if (x / 4 + y / 4).is_multiple_of(2) {
                60
            } else {
                180
            };
            [v, v, v]
        }
    });
    let s = stats(&half);
    assert_eq!(s.blindness(), None, "{s:?}");
    assert!((s.lit - 0.5).abs() < 0.05, "{s:?}");
}

fn limits(blind: u64, frozen: u64) -> ViewLimits {
    ViewLimits {
        blind_after: Duration::from_secs(blind),
        frozen_after: Duration::from_secs(frozen),
    }
}

#[test]
fn blind_only_after_the_limit_and_clear_at_once_when_it_ends() {
    let mut check = ViewCheck::new(limits(30, 0), geometry(), Picture::FULL);
    let black = frame(|_, _| [0, 0, 0]);
    let s = Duration::from_secs;
    assert_eq!(check.observe(&room(0), s(0)), (View::Clear, None));
    assert_eq!(check.observe(&black, s(1)).0, View::Clear);
    assert_eq!(check.observe(&black, s(30)).0, View::Clear);
    assert_eq!(
        check.observe(&black, s(31)),
        (View::Blind(Blindness::Dark), Some(s(30)))
    );
    assert_eq!(check.observe(&black, s(40)).1, None, "said once");
    assert_eq!(check.observe(&room(1), s(41)), (View::Clear, Some(s(0))));
}

#[test]
fn the_same_picture_over_and_over_is_frozen_and_a_moving_one_is_not() {
    let mut check = ViewCheck::new(limits(0, 60), geometry(), Picture::FULL);
    let s = Duration::from_secs;
    for t in 0..=120 {
        // Something moves every frame, and the light drifts.
        let moving = frame(|x, y| {
            let v = if ((x + t as u32) / 4 + y / 4).is_multiple_of(2) {
                60
            } else {
                180
            };
            let v = (v + t as u32 / 8) as u8;
            [v, v, v]
        });
        assert_eq!(check.observe(&moving, s(t)).0, View::Clear);
    }
    // A still picture that its encoder decodes to a cycle of three slightly different frames.
    let still = [room(3), room(4), room(5)];
    for t in 121..=182 {
        let frame = &still[t as usize % 3];
        assert_eq!(check.observe(frame, s(t)).0, View::Clear, "at {t} s");
    }
    // Repeating since 124 (the first frame seen before).
    assert_eq!(check.observe(&still[0], s(184)).0, View::Frozen);
    // A black frozen feed is frozen, not blind, when the blind check is off.
    let mut check = ViewCheck::new(limits(0, 60), geometry(), Picture::FULL);
    let black = frame(|_, _| [0, 0, 0]);
    assert_eq!(check.observe(&black, s(0)).0, View::Clear);
    assert_eq!(check.observe(&black, s(1)).0, View::Clear);
    assert_eq!(check.observe(&black, s(61)).0, View::Frozen);
}

#[test]
fn zero_limits_turn_the_checks_off() {
    let mut check = ViewCheck::new(limits(0, 0), geometry(), Picture::FULL);
    let black = frame(|_, _| [0, 0, 0]);
    for t in 0..1000 {
        assert_eq!(check.observe(&black, Duration::from_secs(t)).0, View::Clear);
    }
}

#[test]
fn letterbox_padding_is_not_sampled() {
    let picture = Picture {
        x0: 0.0,
        y0: 0.25,
        width: 1.0,
        height: 0.5,
    };
    let area = Area::new(geometry(), picture);
    assert!(area.y0 >= 18 && area.y1 < 54, "{area:?}");
}

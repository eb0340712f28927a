//! The distance stages' pairing cost: how far a box's centre is from a track's predicted one,
//! in box heights, over a reach that grows with the time the track went unseen, for the present
//! tracks (stage three) and the lost ones (the last stage).
//!
//! Pure arithmetic on boxes; it must never log or keep a box or a track.

use std::time::Duration;

use super::track::{measure, Track};
use crate::detect::Detection;

/// The distance stages pair a track and a box only if their heights differ by less than this factor:
/// a much taller or shorter box is another person, or two people merged into one box. Without
/// this gate a held track jumped onto such boxes and its foot point crossed lines it never walked.
const MAX_HEIGHT_RATIO: f32 = 1.5;

/// How much further (in box heights) stage three (present tracks) may reach per second a track
/// went unseen.
pub(super) const REACH_PER_SECOND: f32 = 2.0;

/// The same for the last stage, which takes up lost tracks: a box that no present person takes,
/// seconds later, is that person come out from behind something only if it is near where they
/// were heading. Reaching as far as stage three turns passers-by into people long gone (and makes
/// crossings nobody walked).
pub(super) const LOST_REACH_PER_SECOND: f32 = 0.5;

/// Stage three's and the last stage's cost: the distance between a track's predicted centre and
/// a full box's, in box heights, over a reach that grows by `reach_per_second` heights for each
/// second the track went unseen (the gate then means the same at 2 and at 30 frames per second).
/// None for a faint box, or one of a very different height (another person, or two merged).
pub(super) fn distance_cost<M>(
    track: &Track<M>,
    det: &Detection,
    t: Duration,
    high_score: f32,
    reach_per_second: f32,
) -> Option<f64> {
    if det.score < high_score {
        return None;
    }
    let (a, b) = (measure(&track.bbox()), measure(&det.bbox));
    let ratio = a[3] / b[3];
    if !(1.0 / MAX_HEIGHT_RATIO..=MAX_HEIGHT_RATIO).contains(&ratio) {
        return None;
    }
    let h = (a[3] + b[3]) / 2.0;
    let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt() / h;
    let unseen = t.saturating_sub(track.last_seen).as_secs_f32();
    Some(f64::from(d / (1.0 + reach_per_second * unseen)))
}

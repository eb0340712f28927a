//! How a box paired with a track relates to the track's prediction: the whole person, the
//! person cut from below (legs hidden by someone in front, the picture's edge), or the person
//! merged with someone passing in front (one box down to the other's feet). For the last two the
//! track keeps its own height, so its foot point stays on the person's feet.
//!
//! Pure arithmetic on a track's filtered box and one measurement; it must never keep, log or
//! publish either.

use std::time::Duration;

use super::heuristics::Heuristics;
use super::track::Track;

/// A paired box shorter than this share of its track's predicted height, with its top where
/// the track's top is predicted, is the person cut from below (someone in front of their legs,
/// the picture's bottom edge): the track keeps its height, so its foot point stays on the
/// person's feet instead of jumping up to their waist, and a coasting track does not carry on
/// rising and shrinking. A person sitting down keeps their feet and lowers their top, so they
/// are not taken for a cut box.
const CUT_HEIGHT_RATIO: f32 = 0.75;

/// How close (in track heights) a box's top must be to the track's predicted top to be the
/// same person cut from below, or merged with someone below.
const CUT_TOP_TOLERANCE: f32 = 0.1;

/// A paired box taller than this share of its track's predicted height, with its top where the
/// track's top is predicted, is the person merged with someone passing in front of them: one
/// box from their head to the other person's feet. The track keeps its height, so its foot
/// point does not jump across a line and back (one false in and one false out).
const MERGED_HEIGHT_RATIO: f32 = 1.3;

/// How long a track keeps its height against such taller boxes. Someone passing in front is
/// gone within a second; a box that stays taller is the person's whole body coming into view
/// (they were first seen behind a desk or a car, cut from below), which the track then takes.
const MERGED_FOR_AT_MOST: Duration = Duration::from_secs(1);

/// Detections a track needs before its height is trusted over a cut box's.
const HEIGHT_KNOWN_AFTER: u32 = 3;

/// The measurement `z` (centre x, centre y, width, height) paired with `track` at time `t`,
/// with the track's own height where `z` is the person cut from below, or merged below for at
/// most [`MERGED_FOR_AT_MOST`]; `z` itself otherwise.
pub(super) fn own_height<M>(
    track: &mut Track<M>,
    z: [f32; 4],
    t: Duration,
    on: Heuristics,
) -> [f32; 4] {
    if track.hits < HEIGHT_KNOWN_AFTER {
        return z;
    }
    let predicted = track.axes.map(|a| a.p);
    let fit = box_fit(z, predicted);
    if fit != BoxFit::MergedBelow {
        track.taller_since = None;
    }
    let keep_height = match fit {
        BoxFit::Whole => false,
        BoxFit::CutBelow => on.cut_boxes,
        BoxFit::MergedBelow if !on.merged_boxes => false,
        BoxFit::MergedBelow => {
            let since = *track.taller_since.get_or_insert(t);
            t.saturating_sub(since) < MERGED_FOR_AT_MOST
        }
    };
    if keep_height {
        with_height_of(z, predicted)
    } else {
        z
    }
}

/// How a paired box `z` (centre x, centre y, width, height) relates to its track's prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoxFit {
    /// The person as predicted, or grown, shrunk or moved in a way a person can.
    Whole,
    /// Same top, much shorter: the person cut from below (legs hidden).
    CutBelow,
    /// Same top, much taller: the person merged with someone passing below them.
    MergedBelow,
}

fn box_fit(z: [f32; 4], predicted: [f32; 4]) -> BoxFit {
    let ([_, cy, _, h], [_, p_cy, _, p_h]) = (z, predicted);
    let (top, p_top) = (cy - h / 2.0, p_cy - p_h / 2.0);
    if (top - p_top).abs() >= CUT_TOP_TOLERANCE * p_h {
        BoxFit::Whole
    } else if h < CUT_HEIGHT_RATIO * p_h {
        BoxFit::CutBelow
    } else if h > MERGED_HEIGHT_RATIO * p_h {
        BoxFit::MergedBelow
    } else {
        BoxFit::Whole
    }
}

/// The measurement `z` with its top kept and the height of the prediction `predicted`.
fn with_height_of(z: [f32; 4], predicted: [f32; 4]) -> [f32; 4] {
    let ([cx, cy, w, h], p_h) = (z, predicted[3]);
    let top = cy - h / 2.0;
    [cx, top + p_h / 2.0, w, p_h]
}

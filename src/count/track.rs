//! One tracked person: a filtered box (constant-velocity Kalman filter per coordinate), how
//! often and when it was seen, and the per-person memory of its counters.
//!
//! A track has no identifier; it is a slot in the tracker's list and dies with it. This module
//! must never log, publish or persist a track or anything in it.

use std::time::Duration;

use super::kalman::Axis;
use crate::detect::appearance::Appearance;
use crate::detect::BBox;

/// One person being followed, with `M`: whatever per-person memory a counter needs (the side of
/// each entrance line the person was last seen on).
#[derive(Debug, Clone, Copy)]
pub struct Track<M> {
    /// Centre x, centre y, width, height.
    pub(super) axes: [Axis; 4],
    pub(super) hits: u32,
    pub(super) last_seen: Duration,
    pub(super) updated: bool,
    /// The last update came from a low-score detection.
    pub(super) weak: bool,
    /// Since when the paired boxes are much taller than the track below the same top (see
    /// `box_fit::MERGED_FOR_AT_MOST`); None while they fit.
    pub(super) taller_since: Option<Duration>,
    pub(super) confirmed: bool,
    /// Unseen for longer than `hold` somewhere inside the picture (behind something): no longer
    /// present, only kept for the tracker's last stage to take up again.
    pub(super) lost: bool,
    /// The last box paired with this track was cut by the picture's border: the person was
    /// walking out of view, so an unseen track is gone rather than hidden.
    pub(super) at_border: bool,
    pub(super) just_confirmed: bool,
    /// Running mean of the colours of the full boxes paired with this track.
    pub(super) appearance: Option<Appearance>,
    pub memo: M,
}

impl<M> Track<M> {
    /// The filtered box.
    pub fn bbox(&self) -> BBox {
        let [cx, cy, w, h] = self.axes.map(|a| a.p);
        BBox {
            xmin: cx - w / 2.0,
            ymin: cy - h / 2.0,
            xmax: cx + w / 2.0,
            ymax: cy + h / 2.0,
        }
    }

    /// Where the person stands: bottom centre of the filtered box.
    pub fn foot(&self) -> (f32, f32) {
        self.bbox().foot()
    }

    /// Seen often enough to be a person.
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }

    /// Detections this track has been paired with.
    pub fn hits(&self) -> u32 {
        self.hits
    }

    /// Became confirmed in the last update.
    pub fn just_confirmed(&self) -> bool {
        self.just_confirmed
    }

    /// Paired with a detection in the last update (its position is measured, not predicted).
    pub fn updated(&self) -> bool {
        self.updated
    }

    /// Paired with a full (high-score) detection in the last update.
    pub fn updated_strongly(&self) -> bool {
        self.updated && !self.weak
    }
}

pub(super) fn measure(b: &BBox) -> [f32; 4] {
    [
        (b.xmin + b.xmax) / 2.0,
        (b.ymin + b.ymax) / 2.0,
        (b.xmax - b.xmin).max(1e-4),
        (b.ymax - b.ymin).max(1e-4),
    ]
}

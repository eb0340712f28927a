//! Multi-person tracking (SORT-like): identity across frames, so crossings can be counted and a
//! person briefly occluded or sitting still is not dropped from occupancy.
//!
//! Each track is a constant-velocity Kalman filter over the box centre and size (one 2-state
//! filter per coordinate). Per frame: predict every track to the frame's time, pair tracks and
//! detections by IoU with the Hungarian algorithm, then confirmed tracks with the faint
//! (low-score) boxes by IoU, then what is left of the full boxes by centre distance
//! (people move far between frames at low frame rates), then lost tracks (unseen past `hold`
//! inside the picture) with what is left of the full boxes, by a shorter distance; update (a box
//! cut from below by someone in front, or stretched down to the feet of someone passing in front
//! for up to a second, keeps the track's height, so the foot point stays on the feet), start
//! tentative tracks from the unpaired detections, and retire tracks that were not seen for
//! `hold` (a confirmed one that vanished inside the picture is lost for `lost` more first; a
//! confirmed track's memory is handed back once, [`Tracker::ended_mut`], for its counters). With
//! `appearance_weight` above 0, every stage also weighs how far a box's coarse colours are from
//! the track's (two people passing each other keep their own tracks); the gates stay geometric.
//!
//! Tracks have no identifier at all: identity is the slot a track occupies in memory, and it dies
//! with the track. This module must never publish, log or persist a track or a box; the only
//! things that leave it are counts made by its callers. A track's colours are a running mean of
//! six numbers that dies with it. After warm-up a frame allocates nothing.

use std::time::Duration;

use super::assign::Assignment;
use super::box_fit::own_height;
use super::distance_gate::{distance_cost, LOST_REACH_PER_SECOND, REACH_PER_SECOND};
use super::kalman::Axis;
use super::track::measure;
pub use super::track::Track;
pub use super::tracker_config::TrackerConfig;
use crate::detect::Detection;

/// Stage two (low-score detections) pairs a track only with a box overlapping its prediction
/// this much: stricter than stage one, as a faint box is weaker evidence of the same person.
const LOW_SCORE_IOU_MIN: f32 = 0.3;

/// Share of its velocity a coasting (unseen) track keeps per frame: people walking behind
/// something keep walking, yet a prediction must not run away from a person who stopped.
const COAST_VELOCITY_KEPT: f32 = 0.9;

/// A coasting track whose predicted box has shrunk below this width or height (normalised) is
/// gone: the filter carried a shrinking box on past zero, and such a box is nobody (it can no
/// longer pair with a detection, and its foot point is meaningless for zones).
const MIN_PREDICTED_SIZE: f32 = 0.01;

/// The longest step a prediction takes between two frames, seconds: after a gap in the input
/// (a stalled stream), a track is not flung across the picture by its last velocity.
const MAX_PREDICTION_STEP_S: f32 = 2.0;

/// How far past the picture's edges (normalised) a coasting track's predicted centre may go
/// before it is gone: x on both sides; y above, and further below, where people walk out
/// towards the camera with their centre still inside.
const EXIT_MARGIN_X: f32 = 0.05;
const EXIT_MARGIN_TOP: f32 = 0.05;
const EXIT_MARGIN_BOTTOM: f32 = 0.1;

/// A new track's Kalman filter: (process noise, measurement noise) per axis, for the box
/// centre and for its size (sizes change slower than people move).
const CENTRE_NOISE: (f32, f32) = (0.05, 1e-4);
const SIZE_NOISE: (f32, f32) = (0.01, 4e-4);

/// Share of the way a track's colours move towards each full box it is paired with: a running
/// mean over about five boxes, steady through one box that also holds part of someone else.
const APPEARANCE_BLEND: f32 = 0.2;

/// Which tracks a pairing stage takes part in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracks {
    /// Every track not lost: the present (confirmed, seen within `hold`) and the tentative.
    Active,
    /// Confirmed tracks unseen for longer than `hold` inside the picture.
    Lost,
}

/// Follows people across frames.
#[derive(Debug)]
pub struct Tracker<M> {
    config: TrackerConfig,
    tracks: Vec<Track<M>>,
    last_t: Option<Duration>,
    assignment: Assignment,
    det_used: Vec<bool>,
    track_used: Vec<bool>,
    /// Scratch: indices of the tracks / detections taking part in the current stage.
    rows: Vec<usize>,
    cols: Vec<usize>,
    /// Scratch: each pair's geometric cost (rows × cols), which the stage's gate applies to.
    geometric: Vec<f64>,
    /// The memories of the confirmed tracks the last update retired.
    ended: Vec<M>,
}

impl<M: Default + Copy> Tracker<M> {
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            tracks: Vec::with_capacity(32),
            last_t: None,
            assignment: Assignment::default(),
            det_used: Vec::with_capacity(32),
            track_used: Vec::with_capacity(32),
            rows: Vec::with_capacity(32),
            cols: Vec::with_capacity(32),
            geometric: Vec::with_capacity(32 * 32),
            ended: Vec::with_capacity(32),
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    pub fn tracks(&self) -> &[Track<M>] {
        &self.tracks
    }

    pub fn tracks_mut(&mut self) -> &mut [Track<M>] {
        &mut self.tracks
    }

    /// The memories of the confirmed tracks that the last update retired, for their counters to
    /// settle what a track still held (a crossing waiting out its return window).
    pub fn ended_mut(&mut self) -> &mut [M] {
        &mut self.ended
    }

    /// Confirmed tracks that are present now: seen within `hold`.
    pub fn present(&self) -> impl Iterator<Item = &Track<M>> {
        let now = self.last_t.unwrap_or_default();
        let hold = self.config.hold;
        self.tracks
            .iter()
            .filter(move |t| t.confirmed && now.saturating_sub(t.last_seen) <= hold)
    }

    /// Advances every track to time `t` and folds in that frame's detections.
    pub fn update(&mut self, detections: &[Detection], t: Duration) {
        let dt = self.last_t.map_or(0.0, |last| {
            t.saturating_sub(last)
                .as_secs_f32()
                .min(MAX_PREDICTION_STEP_S)
        });
        self.last_t = Some(t);
        for track in &mut self.tracks {
            if !track.updated {
                // Coasting: trust the last velocity a little less each frame.
                for axis in &mut track.axes {
                    axis.v *= COAST_VELOCITY_KEPT;
                }
            }
            track.updated = false;
            track.just_confirmed = false;
            for axis in &mut track.axes {
                axis.predict(dt);
            }
        }
        self.det_used.clear();
        self.det_used.resize(detections.len(), false);
        self.track_used.clear();
        self.track_used.resize(self.tracks.len(), false);

        // Full boxes by overlap; then confirmed tracks with faint boxes by overlap; then what
        // is left of the full boxes by centre distance in box heights, first with the present
        // tracks, then with the lost ones.
        let (high, low) = (self.config.high_score, self.config.low_score);
        let on = self.config.heuristics;
        let overlap =
            |track: &Track<M>, det: &Detection| 1.0 - f64::from(track.bbox().iou(&det.bbox));
        self.associate(
            detections,
            t,
            Tracks::Active,
            |track, det| (det.score >= high).then(|| overlap(track, det)),
            1.0 - f64::from(self.config.iou_min),
        );
        self.associate(
            detections,
            t,
            Tracks::Active,
            |track, det| {
                let faint = on.faint_boxes && det.score >= low && det.score < high;
                (faint && track.confirmed).then(|| overlap(track, det))
            },
            1.0 - f64::from(LOW_SCORE_IOU_MIN),
        );
        let distance_max = f64::from(self.config.distance_max);
        self.associate(
            detections,
            t,
            Tracks::Active,
            |track, det| {
                on.distance_stage
                    .then(|| distance_cost(track, det, t, high, REACH_PER_SECOND))
                    .flatten()
            },
            distance_max,
        );
        // Lost tracks with what is left of the full boxes: people coming out from behind
        // something, who keep their memory (their side of each line) instead of starting anew.
        self.associate(
            detections,
            t,
            Tracks::Lost,
            |track, det| {
                on.distance_stage
                    .then(|| distance_cost(track, det, t, high, LOST_REACH_PER_SECOND))
                    .flatten()
            },
            distance_max,
        );

        // Retire what was not seen: tentative tracks at once, confirmed ones after `hold` (and
        // `lost` more when they vanished inside the picture), when their prediction has left
        // the picture or has shrunk to nothing.
        let hold = self.config.hold;
        self.ended.clear();
        let mut i = 0;
        while i < self.tracks.len() {
            let track = &mut self.tracks[i];
            let [cx, cy, w, h] = track.axes.map(|a| a.p);
            let unseen = t.saturating_sub(track.last_seen);
            let kept = if track.at_border {
                hold
            } else {
                hold + self.config.lost
            };
            track.lost = !track.updated && unseen > hold;
            let gone = !track.updated
                && (!track.confirmed
                    || unseen > kept
                    || !(-EXIT_MARGIN_X..=1.0 + EXIT_MARGIN_X).contains(&cx)
                    || !(-EXIT_MARGIN_TOP..=1.0 + EXIT_MARGIN_BOTTOM).contains(&cy)
                    || w.min(h) < MIN_PREDICTED_SIZE);
            if gone {
                let ended = self.tracks.swap_remove(i);
                if ended.confirmed {
                    self.ended.push(ended.memo);
                }
            } else {
                i += 1;
            }
        }
        for (det, used) in detections.iter().zip(&self.det_used) {
            if *used || det.score < high {
                continue;
            }
            let [cx, cy, w, h] = measure(&det.bbox);
            let confirmed = self.config.min_hits <= 1;
            self.tracks.push(Track {
                axes: [
                    Axis::new(cx, CENTRE_NOISE.0, CENTRE_NOISE.1),
                    Axis::new(cy, CENTRE_NOISE.0, CENTRE_NOISE.1),
                    Axis::new(w, SIZE_NOISE.0, SIZE_NOISE.1),
                    Axis::new(h, SIZE_NOISE.0, SIZE_NOISE.1),
                ],
                hits: 1,
                last_seen: t,
                updated: true,
                weak: false,
                taller_since: None,
                confirmed,
                lost: false,
                at_border: det.bbox.at_border(),
                just_confirmed: confirmed,
                appearance: det.appearance,
                memo: M::default(),
            });
        }
    }

    /// Pairs the unpaired tracks of kind `which` with unpaired detections by `cost` (None =
    /// impossible) plus the
    /// weighted colour distance, keeping pairs whose `cost` is at most `gate`, and updates the
    /// paired tracks.
    fn associate(
        &mut self,
        detections: &[Detection],
        t: Duration,
        which: Tracks,
        cost: impl Fn(&Track<M>, &Detection) -> Option<f64>,
        gate: f64,
    ) {
        self.rows.clear();
        self.rows
            .extend((0..self.tracks.len()).filter(|&i| {
                !self.track_used[i] && self.tracks[i].lost == (which == Tracks::Lost)
            }));
        self.cols.clear();
        self.cols
            .extend((0..detections.len()).filter(|&j| !self.det_used[j]));
        if self.rows.is_empty() || self.cols.is_empty() {
            return;
        }
        const IMPOSSIBLE: f64 = 1e6;
        let (n_rows, n_cols) = (self.rows.len(), self.cols.len());
        self.assignment.reset(n_rows, n_cols, IMPOSSIBLE);
        self.geometric.clear();
        self.geometric.resize(n_rows * n_cols, IMPOSSIBLE);
        let weight = f64::from(self.config.appearance_weight);
        for (r, &ti) in self.rows.iter().enumerate() {
            let track = &self.tracks[ti];
            for (c, &dj) in self.cols.iter().enumerate() {
                let det = &detections[dj];
                let Some(v) = cost(track, det).filter(|v| v.is_finite()) else {
                    continue;
                };
                self.geometric[r * n_cols + c] = v;
                let colours = match (&track.appearance, &det.appearance) {
                    (Some(a), Some(b)) if weight > 0.0 => weight * f64::from(a.distance(b)),
                    _ => 0.0,
                };
                self.assignment.set(r, c, v + colours);
            }
        }
        self.assignment.solve();
        for r in 0..self.rows.len() {
            let Some(c) = self.assignment.matched(r) else {
                continue;
            };
            if self.geometric[r * n_cols + c] > gate {
                continue;
            }
            let (ti, dj) = (self.rows[r], self.cols[c]);
            self.track_used[ti] = true;
            self.det_used[dj] = true;
            let track = &mut self.tracks[ti];
            if track.lost {
                // Its coasted velocity says nothing about where the person goes next.
                for axis in &mut track.axes {
                    axis.v = 0.0;
                }
                track.taller_since = None;
            }
            let z = own_height(
                track,
                measure(&detections[dj].bbox),
                t,
                self.config.heuristics,
            );
            for (axis, z) in track.axes.iter_mut().zip(z) {
                axis.update(z);
            }
            track.hits += 1;
            track.last_seen = t;
            track.updated = true;
            track.weak = detections[dj].score < self.config.high_score;
            track.at_border = detections[dj].bbox.at_border();
            // A faint box is often half someone else: it leaves the colours alone.
            match (&mut track.appearance, &detections[dj].appearance) {
                (Some(mean), Some(seen)) if !track.weak => mean.blend(seen, APPEARANCE_BLEND),
                (mean @ None, Some(seen)) if !track.weak => *mean = Some(*seen),
                _ => {}
            }
            if !track.confirmed && track.hits >= self.config.min_hits {
                track.confirmed = true;
                track.just_confirmed = true;
            }
        }
    }
}

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;

//! The tracker's tuning: the `[counting]` section's tracker keys, resolved, plus the score band
//! and the heuristics switches the counting stage hands it.

use std::time::Duration;

use super::heuristics::Heuristics;
use super::score_bands::ScoreBands;
use crate::config::CountingConfig;

/// Tracker tuning (see `[counting]` in the config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Minimum IoU between a track's predicted box and a detection to pair them in stage one.
    pub iou_min: f32,
    /// Stage two: the largest centre distance, in box heights, at which a track and a detection
    /// are still the same person.
    pub distance_max: f32,
    /// Detections in a row before a track counts (filters one-frame false positives).
    pub min_hits: u32,
    /// How long a confirmed track survives without a detection (occlusion, a missed frame).
    pub hold: Duration,
    /// How much longer a confirmed track that vanished inside the picture (not at its border)
    /// is kept, no longer present, for a full box near where it was heading that no present
    /// track takes: someone who walked behind a pillar keeps their side of every line, so
    /// their crossing counts when they come out. Zero = retired after `hold`.
    pub lost: Duration,
    /// Detections scoring below this only keep existing tracks going (ByteTrack's second
    /// stage); they never start a track. 0 = every detection is a full one.
    pub high_score: f32,
    /// Weight of the colour distance (which runs 0..1, see
    /// [`crate::detect::appearance::Appearance::distance`]) added to each stage's geometric
    /// cost; 0 = geometry alone (detections then carry no colours).
    pub appearance_weight: f32,
    /// Detections scoring below this are ignored (the faint band's floor,
    /// `counting.track_low_score`); a detector of the counting pipeline delivers none.
    pub low_score: f32,
    /// The heuristics without a key, all on but in the ablation.
    pub heuristics: Heuristics,
}

impl TrackerConfig {
    /// The `[counting]` section's tracker keys; detections scoring below `high_score` (the
    /// detector's threshold) only continue tracks.
    pub fn from_config(c: &CountingConfig, high_score: f32) -> Self {
        Self {
            iou_min: c.track_iou,
            distance_max: c.track_distance,
            min_hits: c.track_min_hits,
            hold: Duration::from_secs_f32(c.track_hold_s),
            lost: Duration::from_secs_f32(c.track_lost_s),
            high_score,
            appearance_weight: c.appearance_weight,
            low_score: ScoreBands {
                full: high_score,
                faint: c.track_low_score,
            }
            .lowest(),
            heuristics: Heuristics::ALL,
        }
    }
}

/// The `[counting]` defaults, with every detection a full one.
impl Default for TrackerConfig {
    fn default() -> Self {
        Self::from_config(&CountingConfig::default(), 0.0)
    }
}

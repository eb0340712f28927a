//! The `[counting]` section: occupancy mode, tracker tuning, zones and entrance lines, and its
//! validation (every key named with its allowed values). Holds geometry only, never positions of
//! people.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The most entrance lines one counting stage holds (each followed person remembers their side
/// of every line in a fixed array of this size).
pub const MAX_LINES: usize = 16;

/// Where the published occupancy comes from: the one enum, read by the counting stage as it is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OccupancyMode {
    /// Each frame's detections (median-smoothed): the most accurate on crowded scenes.
    #[default]
    Detections,
    /// Detections plus established tracks held through short misses (people sitting still or
    /// briefly occluded in a quiet room).
    Tracks,
    /// Ins − outs over the entrance lines, clamped at 0 (door-only sensors).
    InMinusOut,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CountingConfig {
    /// Occupancy is the median of the last N per-frame counts, so one missed frame does not flicker it.
    pub smoothing_frames: u32,
    pub occupancy: OccupancyMode,
    /// Seconds a tracked person is still counted after the detector last saw them.
    pub track_hold_s: f32,
    /// Seconds more a tracked person who vanished inside the picture (behind a pillar, a sign, a
    /// group) is remembered, no longer counted, for a new box near where they were heading to
    /// take up: they keep their side of every line, so their crossing counts; 0 = off.
    pub track_lost_s: f32,
    /// Frames in a row a person must be detected before they count.
    pub track_min_hits: u32,
    /// Minimum overlap (IoU) to continue a track with a detection.
    pub track_iou: f32,
    /// Otherwise, the largest move between frames, in person heights, to continue a track.
    pub track_distance: f32,
    /// Detections scoring from this up to `detector.threshold` only continue existing tracks
    /// (a person half hidden keeps their identity); they never start one, are never counted on
    /// their own, and at the picture's edge move no track across a line. At or above
    /// `detector.threshold` = off.
    pub track_low_score: f32,
    /// Half-width of the band around each line inside which nobody changes side (normalised).
    pub line_band: f32,
    /// When above 0, the band's half-width is this fraction of each person's height instead of
    /// `line_band` (perspective: wider near the camera); 0 = off.
    pub line_band_height: f32,
    /// Seconds a crossing waits before it counts; the same person crossing back within it undoes
    /// both (a box wobbling across the line, a standing person's track taking a passer-by's box
    /// for a frame or two); 0 = off.
    pub line_return_s: f32,
    /// How much a person's coarse colours (upper body, legs) weigh against box overlap when the
    /// tracker pairs boxes with people; 0 = off (no colours are computed at all).
    pub appearance_weight: f32,
    /// Local time "HH:MM" at which in − out occupancy and line totals restart from 0; "" = never.
    pub daily_reset: String,
    /// In `in_minus_out` mode, set occupancy to 0 once nobody has been seen for this long; 0 = off.
    pub empty_correction_s: u32,
    pub zones: Vec<ZoneConfig>,
    pub lines: Vec<LineConfig>,
}

/// The counting stage's defaults: the one place they are set (the tracker's own defaults are
/// read from here).
impl Default for CountingConfig {
    fn default() -> Self {
        Self {
            smoothing_frames: 9,
            occupancy: OccupancyMode::Detections,
            track_hold_s: 1.5,
            track_lost_s: 1.5,
            track_min_hits: 3,
            track_iou: 0.2,
            track_distance: 0.6,
            track_low_score: 0.3,
            line_band: 0.02,
            line_band_height: 0.0,
            line_return_s: 0.5,
            appearance_weight: 0.0,
            daily_reset: String::new(),
            empty_correction_s: 0,
            zones: Vec::new(),
            lines: Vec::new(),
        }
    }
}

/// A zone: its own occupancy, published on `zone/<name>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub name: String,
    /// Vertices [x, y], normalised 0..1, y down.
    #[serde(deserialize_with = "super::point::many")]
    pub polygon: Vec<[f32; 2]>,
}

/// An entrance line: in / out totals, published on `line/<name>`. "in" = crossing from the left
/// of `from → to` to its right (image coordinates, y down).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LineConfig {
    pub name: String,
    #[serde(deserialize_with = "super::point::one")]
    pub from: [f32; 2],
    #[serde(deserialize_with = "super::point::one")]
    pub to: [f32; 2],
}

fn invalid(key: &'static str, value: impl std::fmt::Debug, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: format!("{value:?}"),
        allowed: allowed.to_string(),
    }
}

fn in_unit(p: &[f32; 2]) -> bool {
    p.iter().all(|v| (0.0..=1.0).contains(v))
}

/// Zone and line names are MQTT topic levels.
fn check_name(key: &'static str, name: &str, seen: &mut Vec<String>) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if !ok {
        return Err(invalid(
            key,
            name,
            "allowed: 1..=64 characters of A-Z a-z 0-9 - _",
        ));
    }
    if seen.iter().any(|s| s == name) {
        return Err(invalid(key, name, "allowed: each name once"));
    }
    seen.push(name.to_string());
    Ok(())
}

/// Parses "HH:MM" into seconds after midnight.
pub fn parse_time_of_day(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60 && s.trim().len() == 5).then_some(h * 3600 + m * 60)
}

impl CountingConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=255).contains(&self.smoothing_frames) {
            return Err(invalid(
                "counting.smoothing_frames",
                self.smoothing_frames,
                "allowed: 1..=255",
            ));
        }
        if !(0.0..=600.0).contains(&self.track_hold_s) {
            return Err(invalid(
                "counting.track_hold_s",
                self.track_hold_s,
                "allowed: 0..=600",
            ));
        }
        if !(0.0..=60.0).contains(&self.track_lost_s) {
            return Err(invalid(
                "counting.track_lost_s",
                self.track_lost_s,
                "allowed: 0..=60",
            ));
        }
        if !(1..=30).contains(&self.track_min_hits) {
            return Err(invalid(
                "counting.track_min_hits",
                self.track_min_hits,
                "allowed: 1..=30",
            ));
        }
        if !(self.track_iou > 0.0 && self.track_iou < 1.0) {
            return Err(invalid(
                "counting.track_iou",
                self.track_iou,
                "allowed: 0 < track_iou < 1",
            ));
        }
        if !(0.0..=5.0).contains(&self.track_distance) {
            return Err(invalid(
                "counting.track_distance",
                self.track_distance,
                "allowed: 0..=5 (person heights)",
            ));
        }
        if !(self.track_low_score > 0.0 && self.track_low_score <= 1.0) {
            return Err(invalid(
                "counting.track_low_score",
                self.track_low_score,
                "allowed: 0 < track_low_score <= 1 (at or above detector.threshold = off)",
            ));
        }
        if !(0.0..=0.2).contains(&self.line_band) {
            return Err(invalid(
                "counting.line_band",
                self.line_band,
                "allowed: 0..=0.2",
            ));
        }
        if !(0.0..=0.5).contains(&self.line_band_height) {
            return Err(invalid(
                "counting.line_band_height",
                self.line_band_height,
                "allowed: 0 (off: counting.line_band applies) ..=0.5, a fraction of a person's height",
            ));
        }
        if !(0.0..=5.0).contains(&self.line_return_s) {
            return Err(invalid(
                "counting.line_return_s",
                self.line_return_s,
                "allowed: 0 (off: every crossing counts at once) ..=5 seconds",
            ));
        }
        if !(0.0..=10.0).contains(&self.appearance_weight) {
            return Err(invalid(
                "counting.appearance_weight",
                self.appearance_weight,
                "allowed: 0 (off) ..=10",
            ));
        }
        if !self.daily_reset.is_empty() && parse_time_of_day(&self.daily_reset).is_none() {
            return Err(invalid(
                "counting.daily_reset",
                &self.daily_reset,
                "allowed: \"\" (never) or \"HH:MM\" local time, e.g. \"03:00\"",
            ));
        }
        if self.empty_correction_s > 86_400 {
            return Err(invalid(
                "counting.empty_correction_s",
                self.empty_correction_s,
                "allowed: 0 (off) ..=86400",
            ));
        }
        let mut names = Vec::new();
        if self.zones.len() > 32 {
            return Err(invalid(
                "counting.zones",
                self.zones.len(),
                "allowed: at most 32 zones",
            ));
        }
        for z in &self.zones {
            check_name("counting.zones.name", &z.name, &mut names)?;
            if !(3..=64).contains(&z.polygon.len()) || !z.polygon.iter().all(in_unit) {
                return Err(ConfigError::Invalid {
                    key: "counting.zones.polygon",
                    value: format!("zone {:?}", z.name),
                    allowed: "allowed: 3..=64 points [x, y], each coordinate 0..=1".into(),
                });
            }
        }
        let mut names = Vec::new();
        if self.lines.len() > MAX_LINES {
            return Err(invalid(
                "counting.lines",
                self.lines.len(),
                &format!("allowed: at most {MAX_LINES} lines"),
            ));
        }
        for l in &self.lines {
            check_name("counting.lines.name", &l.name, &mut names)?;
            let long = ((l.to[0] - l.from[0]).powi(2) + (l.to[1] - l.from[1]).powi(2)).sqrt();
            if !in_unit(&l.from) || !in_unit(&l.to) || long < 0.01 {
                return Err(ConfigError::Invalid {
                    key: "counting.lines.from",
                    value: format!("line {:?} {:?} -> {:?}", l.name, l.from, l.to),
                    allowed: "allowed: two distinct points [x, y] at least 0.01 apart, each \
                              coordinate 0..=1"
                        .into(),
                });
            }
        }
        if self.occupancy == OccupancyMode::InMinusOut && self.lines.is_empty() {
            return Err(invalid(
                "counting.occupancy",
                "in_minus_out",
                "needs at least one [[counting.lines]]; allowed: \"tracks\", \"detections\", \
                 \"in_minus_out\"",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "counting_tests.rs"]
mod tests;

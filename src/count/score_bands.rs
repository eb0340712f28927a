//! The two score bands a detection falls in, named once.
//!
//! A **full box** scores at least `detector.threshold`: it is counted, starts tracks and moves a
//! track across a line. A **faint box** scores from `counting.track_low_score` up to that
//! threshold: it only continues a confirmed track (a person half hidden keeps their identity,
//! ByteTrack's second stage), is never counted on its own, and at the picture's edge moves no
//! track across a line. Below both, a box is not kept at all. With `track_low_score` at or
//! above the threshold there are no faint boxes.

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBands {
    /// Lowest score of a full box (`detector.threshold`).
    pub full: f32,
    /// Lowest score of a faint box (`counting.track_low_score`).
    pub faint: f32,
}

impl ScoreBands {
    pub fn from_config(config: &Config) -> Self {
        Self {
            full: config.detector.threshold,
            faint: config.counting.track_low_score,
        }
    }

    /// The score from which the counting pipeline's detector must keep boxes.
    pub fn lowest(&self) -> f32 {
        self.faint.min(self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faint_boxes_widen_what_the_detector_keeps_and_only_downwards() {
        let mut c = Config::default();
        c.detector.threshold = 0.5;
        c.counting.track_low_score = 0.3;
        assert_eq!(ScoreBands::from_config(&c).lowest(), 0.3);
        c.counting.track_low_score = 0.7; // at or above the threshold: off
        assert_eq!(ScoreBands::from_config(&c).lowest(), 0.5);
    }
}

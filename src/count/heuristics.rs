//! The counting stage's named heuristics, each of which can be switched off for the ablation
//! (`cargo bench --bench ablation`): what each buys is measured on every clip with ground
//! truth, not argued. Those with a `[counting]` key are switched off through it (`track_lost_s
//! = 0`, `line_return_s = 0`, …); these have none, as a sensor has no reason to turn them off.
//! All on by default; the daemon never changes them.

/// Heuristics without a configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heuristics {
    /// **cut boxes**: a paired box much shorter than its track, top where predicted (legs
    /// hidden), keeps the track's height (`count/box_fit`).
    pub cut_boxes: bool,
    /// **merged boxes**: a paired box much taller than its track, top where predicted (someone
    /// passing in front), keeps the track's height for up to a second (`count/box_fit`).
    pub merged_boxes: bool,
    /// **faint boxes**: boxes from `counting.track_low_score` up to `detector.threshold`
    /// continue confirmed tracks (ByteTrack's second stage); off, they are ignored.
    pub faint_boxes: bool,
    /// **border rule**: a faint box at the picture's edge moves no track across a line.
    pub border_rule: bool,
    /// **distance stage**: boxes left unpaired by overlap pair with tracks by centre distance
    /// (`counting.track_distance`); off, overlap alone.
    pub distance_stage: bool,
}

impl Heuristics {
    pub const ALL: Heuristics = Heuristics {
        cut_boxes: true,
        merged_boxes: true,
        faint_boxes: true,
        border_rule: true,
        distance_stage: true,
    };
}

impl Default for Heuristics {
    fn default() -> Self {
        Self::ALL
    }
}

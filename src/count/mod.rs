//! Counting: person detections of one frame → aggregate numbers.
//!
//! Only counts leave this module; the boxes it is given are dropped when the frame's counts are
//! made, and track positions live only inside the tracker. It must never keep per-person data
//! beyond what the counts need, and never log or publish it.
//!
//! One file per concept: [`scene`] (the counting stage, [`Counting`], which runs the rest per
//! frame), [`tracker`] (identity across frames, tuned by `tracker_config`, with [`track`] for one
//! followed person, [`assign`] for the optimal pairing, `kalman` for the motion model, `box_fit`
//! for boxes cut from below or merged below, `distance_gate` for the distance stages' cost),
//! `score_bands` (full and faint boxes), [`heuristics`] (switches for the ablation),
//! [`occupancy`] (stabilised counts and report cadence), [`zones`] (polygons), [`lines`]
//! (directed entrance lines and their in / out totals), and [`door`] (in − out occupancy, kept
//! across restarts by [`door_store`]), and [`survey`] (the installer's survey grid: only its
//! k-blanked report leaves).

pub mod assign;
mod box_fit;
mod distance_gate;
pub mod door;
pub mod door_store;
pub mod heuristics;
pub(crate) mod kalman;
pub mod lines;
pub mod occupancy;
pub mod scene;
mod score_bands;
pub mod survey;
pub mod track;
pub mod tracker;
mod tracker_config;
pub mod zones;

pub use heuristics::Heuristics;
pub use lines::{Band, LineReport, Segment};
pub use occupancy::{Cadence, OccupancyCounter, OccupancyReport};
pub use scene::{CountReport, Counting, OccupancyMode, SceneConfig};
pub use score_bands::ScoreBands;
pub use tracker::TrackerConfig;
pub use zones::Zone;

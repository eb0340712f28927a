//! Counting: person detections of one frame → aggregate numbers.
//!
//! Only counts leave this module; the boxes it is given are dropped when the frame's count is
//! made. It must never keep per-person data beyond what the count needs, and never log it.
//!
//! Counters, one file each: [`occupancy`] (people in view now). Zones, lines and the tracker join
//! here.

pub mod occupancy;

pub use occupancy::{OccupancyCounter, OccupancyReport};

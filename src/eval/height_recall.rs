//! Which apparent heights the detector finds: the truth's boxes in bands of their height (as a
//! fraction of the picture's), and how many of each band a detection matched. The smallest
//! height from which it finds at least half is the detector's *reliable height* on this
//! footage, which `survey` uses to tell when tiles are needed (`survey::suggest::reliable_height`
//! holds the figures measured this way, and a test keeps them honest).
//!
//! Only counts per band come out; the boxes are compared frame by frame and dropped.

use serde::Serialize;

use super::report::round;
use super::truth::Truth;
use crate::detect::{BBox, Detection};

/// Height bands 0.025 of the picture wide, up to the whole picture.
const BAND: f64 = 0.025;
const BANDS: usize = 40;
/// A detection matches a truth box overlapping it by at least this IoU.
const MATCH_IOU: f32 = 0.3;
/// A band is judged only with at least this many truth boxes.
const MIN_BOXES: u64 = 30;
/// The share of a band's boxes the detector must find for the band to count as found reliably.
const RELIABLE_SHARE: f64 = 0.5;

/// One band of the truth boxes' heights.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeightBand {
    pub from: f64,
    pub to: f64,
    pub truth_boxes: u64,
    pub found: u64,
}

/// The detector's recall by the apparent height of people.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DetectionByHeight {
    /// Bands holding any truth box, smallest first.
    pub bands: Vec<HeightBand>,
    /// The lower edge of the smallest band from which every band with enough boxes (30) had at
    /// least half of them found; `None` when no band qualifies.
    pub reliable_height: Option<f64>,
}

/// Counts, per height band, the truth boxes of each frame and those a detection matched.
pub struct HeightRecall {
    by_frame: Vec<Vec<BBox>>,
    truth: [u64; BANDS],
    found: [u64; BANDS],
}

impl HeightRecall {
    /// The truth's boxes, normalised to a `width` × `height` picture, frame by frame.
    pub fn new(truth: &Truth, (width, height): (u32, u32)) -> Self {
        Self {
            by_frame: truth.boxes_by_frame(width, height),
            truth: [0; BANDS],
            found: [0; BANDS],
        }
    }

    /// Frame `index` (0-based): its detections scoring at least `threshold` against its truth.
    pub fn observe(&mut self, index: u64, detections: &[Detection], threshold: f32) {
        let Some(boxes) = usize::try_from(index)
            .ok()
            .and_then(|i| self.by_frame.get(i))
        else {
            return;
        };
        for b in boxes {
            let band = (((b.ymax - b.ymin) as f64 / BAND) as usize).min(BANDS - 1);
            self.truth[band] += 1;
            let hit = detections
                .iter()
                .any(|d| d.score >= threshold && d.bbox.iou(b) >= MATCH_IOU);
            self.found[band] += u64::from(hit);
        }
    }

    pub fn report(&self) -> DetectionByHeight {
        let bands: Vec<HeightBand> = (0..BANDS)
            .filter(|&i| self.truth[i] > 0)
            .map(|i| HeightBand {
                from: round(i as f64 * BAND, 3),
                to: round((i + 1) as f64 * BAND, 3),
                truth_boxes: self.truth[i],
                found: self.found[i],
            })
            .collect();
        let judged: Vec<&HeightBand> = bands
            .iter()
            .filter(|b| b.truth_boxes >= MIN_BOXES)
            .collect();
        let reliable = |b: &&HeightBand| b.found as f64 >= RELIABLE_SHARE * b.truth_boxes as f64;
        // From the top down, the last band before one that is not found reliably.
        let mut reliable_height = None;
        for b in judged.iter().rev() {
            if !reliable(b) {
                break;
            }
            reliable_height = Some(b.from);
        }
        DetectionByHeight {
            bands,
            reliable_height,
        }
    }
}

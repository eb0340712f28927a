//! Class-agnostic non-maximum suppression: one box per person.
//!
//! SSD's built-in post-process still emits overlapping duplicates of one person, and YOLO heads
//! emit many; this keeps the highest-scoring box of each overlapping group. Besides IoU, a box
//! lying mostly inside a better one (a torso box inside a full-body box, which IoU misses) is the
//! same person. In place, no allocation. Never logs boxes.

use super::Detection;

/// Keeps, in descending score order, each detection that overlaps no kept one by more than
/// `iou_threshold` (intersection over union) or `containment` (intersection over the smaller
/// box); the rest are removed from `dets`.
pub fn suppress(dets: &mut Vec<Detection>, iou_threshold: f32, containment: f32) {
    dets.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = 0;
    for i in 0..dets.len() {
        let candidate = dets[i];
        let distinct = |k: &Detection| {
            let inter = k.bbox.intersection(&candidate.bbox);
            let smaller = k.bbox.area().min(candidate.bbox.area());
            k.bbox.iou(&candidate.bbox) <= iou_threshold
                && (smaller <= 0.0 || inter / smaller <= containment)
        };
        if dets[..kept].iter().all(distinct) {
            dets[kept] = candidate;
            kept += 1;
        }
    }
    dets.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BBox;

    fn det(x: f32, score: f32, class: u32) -> Detection {
        Detection {
            bbox: BBox {
                xmin: x,
                ymin: 0.1,
                xmax: x + 0.2,
                ymax: 0.6,
            },
            score,
            class,
            appearance: None,
        }
    }

    #[test]
    fn duplicates_collapse_to_the_best_box_whatever_the_class() {
        let mut d = vec![det(0.10, 0.6, 0), det(0.11, 0.9, 1), det(0.5, 0.7, 0)];
        suppress(&mut d, 0.5, 1.0);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].score, 0.9);
        assert_eq!(d[1].score, 0.7);
    }

    #[test]
    fn separate_people_are_kept() {
        let mut d = vec![det(0.0, 0.6, 0), det(0.3, 0.7, 0), det(0.6, 0.8, 0)];
        suppress(&mut d, 0.5, 1.0);
        assert_eq!(d.len(), 3);
        let mut empty = Vec::new();
        suppress(&mut empty, 0.5, 1.0);
        assert!(empty.is_empty());
    }

    #[test]
    fn a_box_inside_a_better_one_is_the_same_person() {
        let body = det(0.1, 0.9, 0);
        let mut torso = det(0.12, 0.6, 0);
        torso.bbox.ymax = 0.3; // IoU with the body is 0.35, but 90 % of it lies inside
        let mut d = vec![torso, body];
        suppress(&mut d, 0.5, 1.0);
        assert_eq!(d.len(), 2);
        suppress(&mut d, 0.5, 0.8);
        assert_eq!(d, vec![body]);
    }

    #[test]
    fn threshold_is_respected() {
        // IoU of these two is 1/3.
        let mut d = vec![det(0.0, 0.9, 0), det(0.1, 0.8, 0)];
        suppress(&mut d, 0.4, 1.0);
        assert_eq!(d.len(), 2);
        suppress(&mut d, 0.3, 1.0);
        assert_eq!(d.len(), 1);
    }
}

//! Decoder for SSD models ending in `TFLite_Detection_PostProcess` (the Coral zoo's SSD v1/v2,
//! SSDLite MobileDet, EfficientDet-Lite): boxes `[1,N,4]` (ymin,xmin,ymax,xmax, normalised),
//! classes `[1,N]`, scores `[1,N]`, count `[1]`. Keeps the person class above the threshold.

use super::{OutputInfo, PersonFilter};
use crate::detect::{BBox, Detection};

/// The four post-process outputs of one inference.
#[derive(Debug, Clone, Copy)]
pub struct SsdOutputs<'a> {
    pub boxes: &'a [f32],
    pub classes: &'a [f32],
    pub scores: &'a [f32],
    pub count: f32,
}

/// Which output index holds which post-process tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsdHead {
    pub boxes: usize,
    pub classes: usize,
    pub scores: usize,
    pub count: usize,
    /// N: the most detections the model reports.
    pub max_detections: usize,
}

impl SsdHead {
    /// Recognises the four post-process outputs. Names (`TFLite_Detection_PostProcess`, `:1`, `:2`,
    /// `:3` = boxes, classes, scores, count) win when present; otherwise the 4-wide tensor is the
    /// boxes, the 1-element one the count, and the remaining two are classes then scores in the
    /// order TF1 exports them.
    pub fn from_outputs(outputs: &[OutputInfo]) -> Option<Self> {
        if outputs.len() != 4 || outputs.iter().any(|o| !o.is_float) {
            return None;
        }
        let by_suffix = |suffix: &str| {
            outputs.iter().position(|o| {
                o.name
                    .strip_prefix("TFLite_Detection_PostProcess")
                    .is_some_and(|rest| rest == suffix)
            })
        };
        let named = (
            by_suffix(""),
            by_suffix(":1"),
            by_suffix(":2"),
            by_suffix(":3"),
        );
        let (boxes, classes, scores, count) = match named {
            (Some(b), Some(c), Some(s), Some(n)) => (b, c, s, n),
            _ => {
                let boxes = outputs
                    .iter()
                    .position(|o| o.shape.len() == 3 && o.shape[2] == 4)?;
                let count = outputs
                    .iter()
                    .position(|o| o.shape.iter().product::<usize>() == 1)?;
                let mut rest = (0..4).filter(|&i| i != boxes && i != count);
                (boxes, rest.next()?, rest.next()?, count)
            }
        };
        let n = *outputs[boxes].shape.get(1)?;
        let shape_ok = outputs[boxes].shape == [1, n, 4]
            && outputs[classes].shape == [1, n]
            && outputs[scores].shape == [1, n]
            && outputs[count].shape.iter().product::<usize>() == 1;
        (shape_ok && n > 0).then_some(Self {
            boxes,
            classes,
            scores,
            count,
            max_detections: n,
        })
    }

    /// Appends to `out` every detection that passes `filter`.
    pub fn decode(&self, raw: &SsdOutputs<'_>, filter: PersonFilter, out: &mut Vec<Detection>) {
        let SsdOutputs {
            boxes,
            classes,
            scores,
            count,
        } = *raw;
        let n = if count.is_finite() && count > 0.0 {
            (count as usize).min(self.max_detections)
        } else {
            0
        };
        let n = n.min(classes.len()).min(scores.len()).min(boxes.len() / 4);
        for i in 0..n {
            let score = scores[i];
            // Classes are small integers stored as floats. NaN scores fail the comparison.
            let is_person = classes[i].round() as i64 == i64::from(filter.class);
            if !is_person
                || score
                    .partial_cmp(&filter.threshold)
                    .is_none_or(|o| o.is_lt())
            {
                continue;
            }
            let b = &boxes[i * 4..i * 4 + 4];
            let bbox = BBox {
                ymin: b[0].clamp(0.0, 1.0),
                xmin: b[1].clamp(0.0, 1.0),
                ymax: b[2].clamp(0.0, 1.0),
                xmax: b[3].clamp(0.0, 1.0),
            };
            if bbox.area() > 0.0 {
                out.push(Detection {
                    bbox,
                    score,
                    class: filter.class,
                    appearance: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, shape: &[usize]) -> OutputInfo {
        OutputInfo {
            name: name.into(),
            shape: shape.to_vec(),
            is_float: true,
        }
    }

    #[test]
    fn recognises_named_outputs_in_any_order() {
        let outs = [
            info("TFLite_Detection_PostProcess:2", &[1, 10]),
            info("TFLite_Detection_PostProcess", &[1, 10, 4]),
            info("TFLite_Detection_PostProcess:3", &[1]),
            info("TFLite_Detection_PostProcess:1", &[1, 10]),
        ];
        let h = SsdHead::from_outputs(&outs).unwrap();
        assert_eq!((h.boxes, h.classes, h.scores, h.count), (1, 3, 0, 2));
        assert_eq!(h.max_detections, 10);
    }

    #[test]
    fn recognises_unnamed_outputs_by_shape() {
        let outs = [
            info("a", &[1, 25, 4]),
            info("b", &[1, 25]),
            info("c", &[1, 25]),
            info("d", &[1]),
        ];
        let h = SsdHead::from_outputs(&outs).unwrap();
        assert_eq!((h.boxes, h.classes, h.scores, h.count), (0, 1, 2, 3));
    }

    #[test]
    fn rejects_other_heads() {
        assert!(SsdHead::from_outputs(&[info("out", &[1, 25200, 85])]).is_none());
        let outs = [
            info("a", &[1, 10, 4]),
            info("b", &[1, 12]),
            info("c", &[1, 10]),
            info("d", &[1]),
        ];
        assert!(SsdHead::from_outputs(&outs).is_none());
    }

    #[test]
    fn keeps_people_above_threshold_only() {
        let h = SsdHead {
            boxes: 0,
            classes: 1,
            scores: 2,
            count: 3,
            max_detections: 4,
        };
        let boxes = [
            0.1, 0.1, 0.5, 0.3, // person, 0.9
            0.2, 0.5, 0.9, 0.7, // person, 0.4 (below)
            0.0, 0.0, 1.0, 1.0, // class 2
            -0.1, 0.6, 1.2, 0.9, // person, 0.6, clamped; beyond count
        ];
        let classes = [0.0, 0.0, 2.0, 0.0];
        let scores = [0.9, 0.4, 0.95, 0.6];
        let raw = |count| SsdOutputs {
            boxes: &boxes,
            classes: &classes,
            scores: &scores,
            count,
        };
        let people = PersonFilter {
            class: 0,
            threshold: 0.5,
        };
        let mut out = Vec::new();
        h.decode(&raw(3.0), people, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bbox.xmin, 0.1);
        assert_eq!(out[0].bbox.ymax, 0.5);
        out.clear();
        h.decode(&raw(4.0), people, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].bbox.ymin, 0.0);
        assert_eq!(out[1].bbox.ymax, 1.0);
        out.clear();
        h.decode(&raw(f32::NAN), people, &mut out);
        assert!(out.is_empty());
        let nan_scores = [f32::NAN; 4];
        let raw = SsdOutputs {
            scores: &nan_scores,
            ..raw(4.0)
        };
        h.decode(&raw, people, &mut out);
        assert!(out.is_empty());
    }
}

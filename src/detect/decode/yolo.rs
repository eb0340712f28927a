//! Decoder for YOLO heads without built-in NMS: YOLOv5 `[1, N, 5 + C]` (cx, cy, w, h,
//! objectness, C class scores; score = objectness × class) and YOLOv8 `[1, 4 + C, N]` (cx, cy,
//! w, h, C class scores, transposed). Coordinates are in the model's (letterboxed) input, either
//! normalised or in pixels (detected per model); the caller maps them back to the picture and
//! runs NMS. Never sees a frame.

use super::{OutputInfo, PersonFilter};
use crate::detect::{BBox, Detection};

/// Which YOLO layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YoloLayout {
    /// `[1, N, 5 + C]`, objectness in column 4.
    V5,
    /// `[1, 4 + C, N]`, no objectness.
    V8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YoloHead {
    pub layout: YoloLayout,
    /// Candidate boxes N.
    pub candidates: usize,
    /// Classes C.
    pub classes: usize,
    /// Model input size (pixels), for models that output pixel coordinates.
    pub input: (u32, u32),
}

impl YoloHead {
    /// Recognises a single `[1, N, 5 + C]` or `[1, 4 + C, N]` output (N larger than the other
    /// dimension, at least one class).
    pub fn from_outputs(outputs: &[OutputInfo], input: (u32, u32)) -> Option<Self> {
        let [o] = outputs else {
            return None;
        };
        let &[1, a, b] = o.shape.as_slice() else {
            return None;
        };
        if a > b && b >= 6 {
            Some(Self {
                layout: YoloLayout::V5,
                candidates: a,
                classes: b - 5,
                input,
            })
        } else if b > a && a >= 5 {
            Some(Self {
                layout: YoloLayout::V8,
                candidates: b,
                classes: a - 4,
                input,
            })
        } else {
            None
        }
    }

    pub fn output_len(&self) -> usize {
        match self.layout {
            YoloLayout::V5 => self.candidates * (self.classes + 5),
            YoloLayout::V8 => self.candidates * (self.classes + 4),
        }
    }

    /// Appends every person candidate above the threshold (before NMS).
    pub fn decode(&self, out_values: &[f32], filter: PersonFilter, out: &mut Vec<Detection>) {
        let class = filter.class as usize;
        if class >= self.classes || out_values.len() < self.output_len() {
            return;
        }
        let n = self.candidates;
        let (w_in, h_in) = (self.input.0.max(1) as f32, self.input.1.max(1) as f32);
        let mut push = |cx: f32, cy: f32, w: f32, h: f32, score: f32| {
            // Pixel coordinates (some exports) → normalised.
            let (cx, cy, w, h) = if cx > 2.0 || cy > 2.0 || w > 2.0 || h > 2.0 {
                (cx / w_in, cy / h_in, w / w_in, h / h_in)
            } else {
                (cx, cy, w, h)
            };
            if !(w > 0.0 && h > 0.0 && cx.is_finite() && cy.is_finite()) {
                return;
            }
            out.push(Detection {
                bbox: BBox {
                    xmin: (cx - w / 2.0).clamp(0.0, 1.0),
                    ymin: (cy - h / 2.0).clamp(0.0, 1.0),
                    xmax: (cx + w / 2.0).clamp(0.0, 1.0),
                    ymax: (cy + h / 2.0).clamp(0.0, 1.0),
                },
                score,
                class: filter.class,
                appearance: None,
            });
        };
        match self.layout {
            YoloLayout::V5 => {
                let stride = self.classes + 5;
                for row in out_values.chunks_exact(stride).take(n) {
                    let objectness = row[4];
                    if objectness < filter.threshold {
                        continue;
                    }
                    let score = objectness * row[5 + class];
                    if score >= filter.threshold {
                        push(row[0], row[1], row[2], row[3], score);
                    }
                }
            }
            YoloLayout::V8 => {
                let scores = &out_values[(4 + class) * n..(5 + class) * n];
                for (i, &score) in scores.iter().enumerate() {
                    if score >= filter.threshold {
                        let at = |k: usize| out_values[k * n + i];
                        push(at(0), at(1), at(2), at(3), score);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(shape: &[usize]) -> Vec<OutputInfo> {
        vec![OutputInfo {
            name: "output".into(),
            shape: shape.to_vec(),
            is_float: true,
        }]
    }

    const PERSON: PersonFilter = PersonFilter {
        class: 0,
        threshold: 0.5,
    };

    #[test]
    fn layouts_are_recognised_from_shapes() {
        let v5 = YoloHead::from_outputs(&info(&[1, 25200, 85]), (640, 640)).unwrap();
        assert_eq!(
            (v5.layout, v5.candidates, v5.classes),
            (YoloLayout::V5, 25200, 80)
        );
        let v8 = YoloHead::from_outputs(&info(&[1, 84, 8400]), (640, 640)).unwrap();
        assert_eq!(
            (v8.layout, v8.candidates, v8.classes),
            (YoloLayout::V8, 8400, 80)
        );
        assert!(YoloHead::from_outputs(&info(&[1, 10, 4]), (640, 640)).is_none());
        assert!(YoloHead::from_outputs(&info(&[1, 1001]), (640, 640)).is_none());
    }

    #[test]
    fn v5_scores_are_objectness_times_class() {
        let head = YoloHead::from_outputs(&info(&[1, 8, 7]), (640, 640)).unwrap();
        let mut v = vec![0.0f32; 8 * 7];
        // Row 2: a person (0.9 × 0.9); row 5: objectness high but class 1; row 6: 0.9 × 0.5.
        v[2 * 7..3 * 7].copy_from_slice(&[0.5, 0.5, 0.2, 0.4, 0.9, 0.9, 0.1]);
        v[5 * 7..6 * 7].copy_from_slice(&[0.2, 0.2, 0.1, 0.1, 0.9, 0.1, 0.9]);
        v[6 * 7..7 * 7].copy_from_slice(&[0.2, 0.2, 0.1, 0.1, 0.9, 0.5, 0.1]);
        let mut out = Vec::new();
        head.decode(&v, PERSON, &mut out);
        assert_eq!(out.len(), 1);
        let b = out[0].bbox;
        assert!(
            (b.xmin - 0.4).abs() < 1e-6 && (b.ymax - 0.7).abs() < 1e-6,
            "{b:?}"
        );
        assert!((out[0].score - 0.81).abs() < 1e-6);
    }

    #[test]
    fn v8_synthetic_tensor_in_pixels_is_transposed_and_normalised() {
        // 2 classes, 8 candidates: rows cx, cy, w, h, person, other.
        let n = 8;
        let head = YoloHead::from_outputs(&info(&[1, 6, n]), (320, 320)).unwrap();
        let mut v = vec![0.0f32; 6 * n];
        let mut set = |row: usize, i: usize, x: f32| v[row * n + i] = x;
        // Candidate 3: a person at (160, 80) px, 32 × 64 px, score 0.8.
        for (row, x) in [
            (0, 160.0),
            (1, 80.0),
            (2, 32.0),
            (3, 64.0),
            (4, 0.8),
            (5, 0.1),
        ] {
            set(row, 3, x);
        }
        // Candidate 4: something else.
        for (row, x) in [
            (0, 50.0),
            (1, 50.0),
            (2, 10.0),
            (3, 10.0),
            (4, 0.2),
            (5, 0.9),
        ] {
            set(row, 4, x);
        }
        let mut out = Vec::new();
        head.decode(&v, PERSON, &mut out);
        assert_eq!(out.len(), 1);
        let b = out[0].bbox;
        assert!(
            (b.xmin - 0.45).abs() < 1e-6 && (b.xmax - 0.55).abs() < 1e-6,
            "{b:?}"
        );
        assert!(
            (b.ymin - 0.15).abs() < 1e-6 && (b.ymax - 0.35).abs() < 1e-6,
            "{b:?}"
        );
    }
}

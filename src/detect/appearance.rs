//! What a detected person looks like, as coarsely as still helps: the mean colour of their upper
//! body and of their legs (six numbers), so the tracker can tell apart two people whose boxes
//! overlap as they pass each other.
//!
//! Computed only when `counting.appearance_weight` is above 0, from the frame while it is in
//! memory, before the frame is released. The six numbers travel with their detection to the
//! tracker, which keeps a running mean inside the track it belongs to and drops it with the
//! track. This module must never write, log, publish or keep an appearance, and never read
//! pixels outside the box it is given; `Appearance`'s `Debug` prints no numbers.

use crate::detect::{BBox, Detection};
use crate::source::Frame;

/// Share of the box's width left out on each side (background beside the body).
const SIDE_MARGIN: f32 = 0.2;
/// Upper body, as shares of the box's height from its top (below the head).
const UPPER: (f32, f32) = (0.15, 0.5);
/// Legs, as shares of the box's height from its top (above the feet and the floor).
const LOWER: (f32, f32) = (0.5, 0.9);

/// Mean red, green, blue (0..1) of the upper body, then of the legs.
#[derive(Clone, Copy, PartialEq)]
pub struct Appearance([f32; 6]);

impl std::fmt::Debug for Appearance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Derived from pixels: never printed, not even in a debug dump.
        f.write_str("Appearance(..)")
    }
}

impl Appearance {
    /// An appearance from its means (hand-made detections in tests).
    #[cfg(test)]
    pub(crate) fn from_means(upper: [f32; 3], lower: [f32; 3]) -> Self {
        Self([upper[0], upper[1], upper[2], lower[0], lower[1], lower[2]])
    }

    /// Mean absolute difference of the six means: 0 = the same colours, 1 = black against
    /// white everywhere.
    pub fn distance(&self, other: &Appearance) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / 6.0
    }

    /// Moves this appearance a share `k` (0..1) of the way towards `other`.
    pub fn blend(&mut self, other: &Appearance, k: f32) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += k * (b - *a);
        }
    }
}

/// Describes each detection from the frame it was found in. Boxes are in the frame's normalised
/// coordinates (before [`crate::source::Picture::unmap`]).
pub fn describe(frame: &Frame<'_>, detections: &mut [Detection]) {
    for d in detections {
        d.appearance = Some(describe_box(frame, &d.bbox));
    }
}

fn describe_box(frame: &Frame<'_>, b: &BBox) -> Appearance {
    let mut out = [0.0; 6];
    let (upper, lower) = out.split_at_mut(3);
    mean_colour(frame, b, UPPER, upper);
    mean_colour(frame, b, LOWER, lower);
    Appearance(out)
}

/// Mean colour of the rows `rows` (shares of the box's height) of the box, less its side margins,
/// into `out`; black when that part is empty or outside the frame.
fn mean_colour(frame: &Frame<'_>, b: &BBox, rows: (f32, f32), out: &mut [f32]) {
    let (w, h) = (
        frame.geometry.width as usize,
        frame.geometry.height as usize,
    );
    let (bw, bh) = (b.xmax - b.xmin, b.ymax - b.ymin);
    // Pixel index ranges, clamped to the frame (a box may reach past an edge).
    let to_px = |v: f32, n: usize| ((v * n as f32).max(0.0) as usize).min(n);
    let (x0, x1) = (
        to_px(b.xmin + SIDE_MARGIN * bw, w),
        to_px(b.xmax - SIDE_MARGIN * bw, w),
    );
    let (y0, y1) = (
        to_px(b.ymin + rows.0 * bh, h),
        to_px(b.ymin + rows.1 * bh, h),
    );
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in y0..y1 {
        let row = y * w * 3;
        let Some(pixels) = frame.rgb.get(row + x0 * 3..row + x1 * 3) else {
            continue;
        };
        for px in pixels.chunks_exact(3) {
            for (s, &c) in sum.iter_mut().zip(px) {
                *s += u64::from(c);
            }
            n += 1;
        }
    }
    if n > 0 {
        for (o, s) in out.iter_mut().zip(sum) {
            *o = s as f32 / (n as f32 * 255.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::source::{Fit, FrameGeometry};

    fn person(xmin: f32, ymin: f32, xmax: f32, ymax: f32) -> Detection {
        Detection {
            bbox: BBox {
                xmin,
                ymin,
                xmax,
                ymax,
            },
            score: 0.9,
            class: 0,
            appearance: None,
        }
    }

    /// A 100×100 frame: grey, with a person in a red shirt and blue trousers at x 40..60,
    /// y 20..80 (shirt to y 50).
    fn frame_with_person(rgb: &mut [u8]) -> Frame<'_> {
        for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
            let (x, y) = (i % 100, i / 100);
            let colour = match (x, y) {
                (40..=59, 20..=49) => [200, 0, 0],
                (40..=59, 50..=79) => [0, 0, 200],
                _ => [128, 128, 128],
            };
            px.copy_from_slice(&colour);
        }
        Frame {
            index: 0,
            t: Duration::ZERO,
            geometry: FrameGeometry {
                width: 100,
                height: 100,
                fit: Fit::Stretch,
            },
            rgb,
        }
    }

    #[test]
    fn a_shirt_and_trousers_are_told_apart() {
        let mut rgb = vec![0u8; 100 * 100 * 3];
        let frame = frame_with_person(&mut rgb);
        let mut d = [person(0.4, 0.2, 0.6, 0.8)];
        describe(&frame, &mut d);
        let Some(Appearance(a)) = d[0].appearance else {
            panic!("not described")
        };
        let shirt = [200.0 / 255.0, 0.0, 0.0];
        let trousers = [0.0, 0.0, 200.0 / 255.0];
        for (got, want) in a.iter().zip(shirt.iter().chain(&trousers)) {
            assert!((got - want).abs() < 0.02, "{a:?} vs {shirt:?} {trousers:?}");
        }
    }

    #[test]
    fn a_box_past_the_frame_edge_reads_only_the_frame() {
        let mut rgb = vec![0u8; 100 * 100 * 3];
        let frame = frame_with_person(&mut rgb);
        let mut d = [
            person(-0.2, 0.0, 0.2, 0.9),
            person(0.9, 0.1, 1.3, 0.5),
            person(2.0, 2.0, 3.0, 3.0),
        ];
        describe(&frame, &mut d);
        // Grey where the box meets the frame, black where it does not: never a panic.
        let grey = Appearance([128.0 / 255.0; 6]);
        let black = Appearance([0.0; 6]);
        let near = |a: Option<Appearance>, b: &Appearance| a.is_some_and(|a| a.distance(b) < 0.01);
        assert!(near(d[0].appearance, &grey));
        assert!(near(d[1].appearance, &grey));
        assert!(near(d[2].appearance, &black));
    }

    #[test]
    fn distance_and_blend() {
        let (a, b) = (Appearance([0.0; 6]), Appearance([1.0; 6]));
        assert_eq!(a.distance(&b), 1.0);
        assert_eq!(b.distance(&a), 1.0);
        let mut c = a;
        c.blend(&b, 0.25);
        assert!((c.distance(&a) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn debug_prints_no_colour() {
        let a = Appearance([0.123; 6]);
        assert_eq!(format!("{a:?}"), "Appearance(..)");
        let mut d = person(0.1, 0.1, 0.2, 0.2);
        d.appearance = Some(a);
        assert!(!format!("{d:?}").contains("0.123"));
    }
}

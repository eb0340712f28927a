//! Privacy masks: polygons (normalised image coordinates) whose pixels are blacked out in the
//! frame buffer before the detector reads it (EDPB Guidelines 3/2019 §129: mask what is not
//! relevant, e.g. a window onto the street or a desk that must not be observed).
//!
//! The polygons are rasterised once, at start-up, into byte ranges of the frame; per frame the
//! work is a few `fill(0)` calls, no allocation. This module only overwrites pixels; it never
//! reads them out.

use crate::config::MaskConfig;
use crate::source::FrameGeometry;

/// The masked byte ranges of one frame geometry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PixelMask {
    /// (start, end) byte offsets into the RGB24 frame, sorted, non-overlapping per row.
    ranges: Vec<(usize, usize)>,
    masks: usize,
}

impl PixelMask {
    /// Rasterises `masks` for frames of `geometry` (a pixel is masked when its centre lies inside
    /// a polygon, even-odd rule). Coordinates are fractions of the frame as delivered.
    pub fn new(masks: &[MaskConfig], geometry: FrameGeometry) -> Self {
        let (w, h) = (geometry.width as usize, geometry.height as usize);
        let mut ranges = Vec::new();
        let mut crossings: Vec<f32> = Vec::new();
        for y in 0..h {
            let mut row: Vec<(usize, usize)> = Vec::new();
            let yc = (y as f32 + 0.5) / h as f32;
            for mask in masks {
                crossings.clear();
                let pts = &mask.polygon;
                for i in 0..pts.len() {
                    let [x0, y0] = pts[i];
                    let [x1, y1] = pts[(i + 1) % pts.len()];
                    if (y0 <= yc) != (y1 <= yc) {
                        crossings.push(x0 + (yc - y0) / (y1 - y0) * (x1 - x0));
                    }
                }
                crossings.sort_by(f32::total_cmp);
                for pair in crossings.chunks_exact(2) {
                    // Pixels whose centre (x + 0.5) / w lies in [pair[0], pair[1]).
                    let first = ((pair[0] * w as f32) - 0.5).ceil().max(0.0) as usize;
                    let end = ((pair[1] * w as f32) - 0.5).ceil().clamp(0.0, w as f32) as usize;
                    if first < end {
                        row.push((first, end));
                    }
                }
            }
            row.sort_unstable();
            let mut merged: Vec<(usize, usize)> = Vec::new();
            for (a, b) in row {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            ranges.extend(
                merged
                    .into_iter()
                    .map(|(a, b)| ((y * w + a) * 3, (y * w + b) * 3)),
            );
        }
        Self {
            ranges,
            masks: masks.len(),
        }
    }

    /// Number of configured mask polygons.
    pub fn count(&self) -> usize {
        self.masks
    }

    /// Masked pixels per frame.
    pub fn masked_pixels(&self) -> usize {
        self.ranges.iter().map(|(a, b)| (b - a) / 3).sum()
    }

    /// Blacks out the masked pixels of one RGB24 frame.
    pub fn apply(&self, rgb: &mut [u8]) {
        for &(a, b) in &self.ranges {
            if let Some(span) = rgb.get_mut(a..b) {
                span.fill(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Fit;

    fn geometry(w: u32, h: u32) -> FrameGeometry {
        FrameGeometry {
            width: w,
            height: h,
            fit: Fit::Stretch,
        }
    }

    fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> MaskConfig {
        MaskConfig {
            name: "r".into(),
            polygon: vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]],
        }
    }

    #[test]
    fn right_half_is_blacked_out_and_nothing_else() {
        let g = geometry(10, 4);
        let mask = PixelMask::new(&[rect(0.5, 0.0, 1.0, 1.0)], g);
        assert_eq!(mask.masked_pixels(), 20);
        let mut rgb = vec![200u8; g.rgb_len()];
        mask.apply(&mut rgb);
        for y in 0..4 {
            for x in 0..10 {
                let px = &rgb[(y * 10 + x) * 3..(y * 10 + x) * 3 + 3];
                let want = if x >= 5 { 0 } else { 200 };
                assert_eq!(px, [want; 3], "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn triangle_and_overlaps() {
        let g = geometry(100, 100);
        let tri = MaskConfig {
            name: "t".into(),
            polygon: vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]],
        };
        let half = PixelMask::new(std::slice::from_ref(&tri), g).masked_pixels();
        assert!((4_900..=5_100).contains(&half), "{half}");
        // Overlapping masks are counted once.
        let both = PixelMask::new(&[tri.clone(), tri], g);
        assert_eq!(both.masked_pixels(), half);
        assert_eq!(both.count(), 2);
        assert_eq!(PixelMask::new(&[], g).masked_pixels(), 0);
        let all = PixelMask::new(&[rect(0.0, 0.0, 1.0, 1.0)], g);
        assert_eq!(all.masked_pixels(), 10_000);
    }
}

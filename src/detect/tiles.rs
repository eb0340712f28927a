//! Tiled detection: runs a detector on overlapping tiles of a larger frame, so small, distant
//! people get more pixels than one squeezed model input gives them.
//!
//! The source delivers one frame `columns × rows` tiles large, each tile the model's input size,
//! neighbours overlapping by a third of a tile. Each tile is copied into a scratch buffer, detected
//! on, and its boxes are mapped back to frame coordinates; a person seen by two tiles (or cut by a
//! tile's edge) is merged by non-maximum suppression. The scratch buffer is overwritten by every
//! tile and zeroed once the frame's boxes are made: it must never outlive its frame's counts, and
//! nothing here logs or keeps a box.

use super::{check_frame_size, nms, DetectError, Detection, Detector, DetectorInfo};
use crate::source::{Frame, FrameGeometry};

/// The most tiles along one side.
pub use crate::config::MAX_TILES;

/// How tiles are laid out over the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileGrid {
    pub columns: u32,
    pub rows: u32,
}

impl TileGrid {
    pub const SINGLE: TileGrid = TileGrid {
        columns: 1,
        rows: 1,
    };

    /// Distance between the origins of neighbouring tiles: two thirds of a tile, so each overlaps
    /// the next by a third — a person on a seam is whole in one of them.
    fn stride(tile: u32) -> u32 {
        (tile * 2).div_ceil(3)
    }

    /// The frame a source must deliver for `tile`-sized tiles.
    pub fn frame(&self, tile: FrameGeometry) -> FrameGeometry {
        let span = |n: u32, t: u32| t + n.saturating_sub(1) * Self::stride(t);
        FrameGeometry {
            width: span(self.columns, tile.width),
            height: span(self.rows, tile.height),
            fit: tile.fit,
        }
    }

    /// Which sides of tile (`column`, `row`) lie inside the frame (a neighbour overlaps them).
    fn inner_edges(&self, column: u32, row: u32) -> InnerEdges {
        InnerEdges {
            left: column > 0,
            right: column + 1 < self.columns,
            top: row > 0,
            bottom: row + 1 < self.rows,
        }
    }

    /// Pixel origin of tile (`column`, `row`).
    fn origin(&self, tile: FrameGeometry, column: u32, row: u32) -> (u32, u32) {
        (
            column * Self::stride(tile.width),
            row * Self::stride(tile.height),
        )
    }
}

/// How close (in tile widths) to a tile's edge a box must end to be cut by it.
const EDGE: f32 = 0.02;

/// The overlap between neighbouring tiles, in tile widths: a box narrower than this, cut by an
/// inner edge, lies whole in the neighbouring tile.
const OVERLAP: f32 = 1.0 / 3.0;

/// The sides of a tile that neighbours overlap.
#[derive(Debug, Clone, Copy)]
struct InnerEdges {
    left: bool,
    right: bool,
    top: bool,
    bottom: bool,
}

impl InnerEdges {
    /// A box (tile coordinates) cut by an inner edge that the neighbouring tile sees whole: the
    /// neighbour's box is the better one, so this one is dropped.
    fn cuts(&self, b: &crate::detect::BBox) -> bool {
        let narrow = b.xmax - b.xmin < OVERLAP;
        let short = b.ymax - b.ymin < OVERLAP;
        (narrow && ((self.left && b.xmin <= EDGE) || (self.right && b.xmax >= 1.0 - EDGE)))
            || (short && ((self.top && b.ymin <= EDGE) || (self.bottom && b.ymax >= 1.0 - EDGE)))
    }
}

/// A detector that sees a frame through a grid of tiles.
pub struct TiledDetector {
    inner: Box<dyn Detector>,
    grid: TileGrid,
    tile: FrameGeometry,
    frame: FrameGeometry,
    nms_iou: f32,
    nms_containment: f32,
    /// One tile's pixels at a time; zeroed after each frame.
    scratch: Vec<u8>,
    found: Vec<Detection>,
}

impl TiledDetector {
    /// Wraps `inner` (whose input is one tile). Duplicates across tiles are merged with the same
    /// suppression settings the detector uses within one input.
    pub fn new(
        inner: Box<dyn Detector>,
        grid: TileGrid,
        nms_iou: f32,
        nms_containment: f32,
    ) -> Self {
        let tile = inner.input_geometry();
        Self {
            frame: grid.frame(tile),
            scratch: vec![0; tile.rgb_len()],
            found: Vec::with_capacity(64),
            inner,
            grid,
            tile,
            nms_iou,
            nms_containment,
        }
    }

    fn copy_tile(&mut self, rgb: &[u8], x0: u32, y0: u32) {
        let row_len = self.tile.width as usize * 3;
        let frame_row = self.frame.width as usize * 3;
        for (y, out) in self.scratch.chunks_exact_mut(row_len).enumerate() {
            let start = (y0 as usize + y) * frame_row + x0 as usize * 3;
            if let Some(src) = rgb.get(start..start + row_len) {
                out.copy_from_slice(src);
            }
        }
    }
}

impl Detector for TiledDetector {
    fn input_geometry(&self) -> FrameGeometry {
        self.frame
    }

    fn detect(&mut self, frame: &Frame<'_>, out: &mut Vec<Detection>) -> Result<(), DetectError> {
        check_frame_size(frame, self.frame)?;
        out.clear();
        let (fw, fh) = (self.frame.width as f32, self.frame.height as f32);
        let (tw, th) = (self.tile.width as f32, self.tile.height as f32);
        let mut result = Ok(());
        'tiles: for row in 0..self.grid.rows {
            for column in 0..self.grid.columns {
                let (x0, y0) = self.grid.origin(self.tile, column, row);
                self.copy_tile(frame.rgb, x0, y0);
                let tile_frame = Frame {
                    index: frame.index,
                    t: frame.t,
                    geometry: self.tile,
                    rgb: &mut self.scratch,
                };
                if let Err(e) = self.inner.detect(&tile_frame, &mut self.found) {
                    result = Err(e);
                    break 'tiles;
                }
                let (ox, oy) = (x0 as f32, y0 as f32);
                let inner = self.grid.inner_edges(column, row);
                for d in self.found.drain(..) {
                    if inner.cuts(&d.bbox) {
                        continue;
                    }
                    let mut d = d;
                    let b = &mut d.bbox;
                    b.xmin = (ox + b.xmin * tw) / fw;
                    b.xmax = (ox + b.xmax * tw) / fw;
                    b.ymin = (oy + b.ymin * th) / fh;
                    b.ymax = (oy + b.ymax * th) / fh;
                    out.push(d);
                }
            }
        }
        self.scratch.fill(0);
        result?;
        nms::suppress(out, self.nms_iou, self.nms_containment);
        Ok(())
    }

    fn info(&self) -> &DetectorInfo {
        self.inner.info()
    }

    fn invoke_only(&mut self) -> Result<(), DetectError> {
        for _ in 0..self.grid.columns * self.grid.rows {
            self.inner.invoke_only()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::BBox;
    use crate::source::Fit;
    use std::path::PathBuf;

    /// Reports the bounding box of the white pixels in its input, as a person.
    struct WhiteBoxes {
        info: DetectorInfo,
        calls: usize,
    }

    impl Detector for WhiteBoxes {
        fn input_geometry(&self) -> FrameGeometry {
            FrameGeometry {
                width: 30,
                height: 30,
                fit: Fit::Stretch,
            }
        }

        fn detect(
            &mut self,
            frame: &Frame<'_>,
            out: &mut Vec<Detection>,
        ) -> Result<(), DetectError> {
            check_frame_size(frame, self.input_geometry())?;
            self.calls += 1;
            out.clear();
            let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
            for (i, px) in frame.rgb.chunks_exact(3).enumerate() {
                if px == [255, 255, 255] {
                    let (x, y) = (i as u32 % 30, i as u32 / 30);
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
                }
            }
            if x0 < x1 {
                out.push(Detection {
                    bbox: BBox {
                        xmin: x0 as f32 / 30.0,
                        ymin: y0 as f32 / 30.0,
                        xmax: x1 as f32 / 30.0,
                        ymax: y1 as f32 / 30.0,
                    },
                    score: 0.9,
                    class: 0,
                    appearance: None,
                });
            }
            Ok(())
        }

        fn info(&self) -> &DetectorInfo {
            &self.info
        }

        fn invoke_only(&mut self) -> Result<(), DetectError> {
            Ok(())
        }
    }

    fn tiled(columns: u32, rows: u32) -> TiledDetector {
        let inner = WhiteBoxes {
            info: DetectorInfo {
                backend: "test",
                model: PathBuf::new(),
                runtime_library: PathBuf::new(),
                threads: 1,
                family: "test",
                accelerator: "cpu",
            },
            calls: 0,
        };
        TiledDetector::new(Box::new(inner), TileGrid { columns, rows }, 0.5, 0.7)
    }

    /// A `w` × `h` black frame with a white rectangle over pixels [x0, x1) × [y0, y1).
    fn picture(w: u32, h: u32, rect: (u32, u32, u32, u32)) -> Vec<u8> {
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        for y in rect.1..rect.3 {
            for x in rect.0..rect.2 {
                let i = ((y * w + x) * 3) as usize;
                rgb[i..i + 3].copy_from_slice(&[255, 255, 255]);
            }
        }
        rgb
    }

    fn detect(d: &mut TiledDetector, rgb: &mut [u8]) -> Vec<Detection> {
        let frame = Frame {
            index: 0,
            t: std::time::Duration::ZERO,
            geometry: d.input_geometry(),
            rgb,
        };
        let mut out = Vec::new();
        d.detect(&frame, &mut out).unwrap();
        out
    }

    fn close(b: &BBox, want: [f32; 4]) -> bool {
        [b.xmin, b.ymin, b.xmax, b.ymax]
            .iter()
            .zip(want)
            .all(|(a, w)| (a - w).abs() < 1e-4)
    }

    #[test]
    fn neighbouring_tiles_overlap_by_a_third() {
        let tile = FrameGeometry {
            width: 300,
            height: 300,
            fit: Fit::Stretch,
        };
        let frame = TileGrid {
            columns: 2,
            rows: 1,
        }
        .frame(tile);
        assert_eq!((frame.width, frame.height), (500, 300));
        let frame = TileGrid {
            columns: 3,
            rows: 2,
        }
        .frame(tile);
        assert_eq!((frame.width, frame.height), (700, 500));
        assert_eq!(TileGrid::SINGLE.frame(tile), tile);
    }

    #[test]
    fn boxes_come_back_in_frame_coordinates() {
        // 2 × 2 tiles of 30 px: a 50 × 50 frame, tiles at 0 and 20 on each axis.
        let mut d = tiled(2, 2);
        assert_eq!(d.input_geometry().width, 50);
        // Wholly inside the bottom-right tile only.
        let mut rgb = picture(50, 50, (40, 35, 48, 49));
        let found = detect(&mut d, &mut rgb);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(close(&found[0].bbox, [0.8, 0.7, 0.96, 0.98]), "{found:?}");
    }

    #[test]
    fn a_person_on_a_seam_is_found_once_and_whole() {
        let mut d = tiled(2, 1);
        // x 22..28 lies in both tiles (0..30 and 20..50): the two boxes merge into one.
        let mut rgb = picture(50, 30, (22, 5, 28, 25));
        let found = detect(&mut d, &mut rgb);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            close(&found[0].bbox, [0.44, 5.0 / 30.0, 0.56, 25.0 / 30.0]),
            "{found:?}"
        );
        // Cut by the first tile's edge (x 26..34): the second tile's whole box is kept.
        let mut rgb = picture(50, 30, (26, 5, 34, 25));
        let found = detect(&mut d, &mut rgb);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            close(&found[0].bbox, [0.52, 5.0 / 30.0, 0.68, 25.0 / 30.0]),
            "{found:?}"
        );
    }

    #[test]
    fn a_frame_of_the_wrong_size_is_an_error_not_a_panic() {
        let mut d = tiled(2, 1);
        let mut rgb = vec![0u8; 30 * 30 * 3];
        let frame = Frame {
            index: 0,
            t: std::time::Duration::ZERO,
            geometry: FrameGeometry {
                width: 30,
                height: 30,
                fit: Fit::Stretch,
            },
            rgb: &mut rgb,
        };
        let mut out = Vec::new();
        let err = d.detect(&frame, &mut out).unwrap_err();
        assert!(err.to_string().contains("50x30"), "{err}");
    }

    #[test]
    fn the_scratch_tile_is_wiped_after_each_frame() {
        let mut d = tiled(2, 1);
        let mut rgb = picture(50, 30, (0, 0, 50, 30));
        detect(&mut d, &mut rgb);
        assert!(d.scratch.iter().all(|&b| b == 0));
    }
}

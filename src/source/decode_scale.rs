//! How small ffmpeg may decode a picture before scaling it to the detector's input: the MJPEG
//! `lowres` step (a scaled IDCT decodes 1/2, 1/4 or 1/8 of each dimension). Pure arithmetic on
//! sizes; never sees a frame.

use super::{Fit, FrameGeometry};

/// The largest `lowres` step (0..=3: decode at 1/1, 1/2, 1/4, 1/8) at which a `source`-sized MJPEG
/// picture still has at least as many pixels, each way, as the detector input shows of it (all of
/// it when stretched; the scaled picture inside the padding when letterboxed). 0 when unknown.
pub(super) fn lowres_level(source: (u32, u32), geometry: FrameGeometry) -> u32 {
    let (sw, sh) = source;
    if sw == 0 || sh == 0 {
        return 0;
    }
    let (gw, gh) = (f64::from(geometry.width), f64::from(geometry.height));
    let (need_w, need_h) = match geometry.fit {
        Fit::Stretch => (gw, gh),
        Fit::Letterbox => {
            let s = (gw / f64::from(sw)).min(gh / f64::from(sh));
            (f64::from(sw) * s, f64::from(sh) * s)
        }
    };
    (1..=3)
        .rev()
        .find(|&k| f64::from(sw >> k) >= need_w.ceil() && f64::from(sh >> k) >= need_h.ceil())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mjpeg_is_decoded_at_the_smallest_scale_that_still_covers_the_input() {
        let ssd = FrameGeometry {
            width: 300,
            height: 300,
            fit: Fit::Stretch,
        };
        let yolo = FrameGeometry {
            width: 640,
            height: 640,
            fit: Fit::Letterbox,
        };
        assert_eq!(lowres_level((1280, 720), ssd), 1); // 640x360; 320x180 is too small
        assert_eq!(lowres_level((1920, 1080), ssd), 1); // 960x540; 480x270 too short
        assert_eq!(lowres_level((2592, 1944), ssd), 2); // 648x486
        assert_eq!(lowres_level((4096, 3072), ssd), 3); // 512x384
        assert_eq!(lowres_level((640, 480), ssd), 0); // 320x240 too short
        assert_eq!(lowres_level((300, 300), ssd), 0);
        assert_eq!(lowres_level((0, 0), ssd), 0);
        // Letterboxed: only the scaled picture (640x360 of 1280x720) must be covered.
        assert_eq!(lowres_level((1280, 720), yolo), 1);
        assert_eq!(lowres_level((1920, 1080), yolo), 1); // 960x540 ≥ 640x360; 480x270 is not
        assert_eq!(lowres_level((640, 480), yolo), 0);
    }
}

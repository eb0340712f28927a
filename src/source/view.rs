//! Is the camera still seeing the room? A covered, blacked-out, turned-to-the-wall, defocused or
//! frozen camera would otherwise report an empty room as a fact. `ViewCheck` judges each frame
//! already in memory — brightness, contrast, sharpness and whether it is the same picture as the
//! one before — and says `blind` or `frozen` once that has lasted long enough.
//!
//! Only the verdict leaves this module. The statistics live on the stack for one frame; the one
//! thing kept between frames is a 64-bit hash of each of the last few frames' samples (to notice a
//! picture that only repeats itself), from which no pixel can be recovered. Nothing here is logged
//! or published but the verdict.

use std::time::Duration;

use super::{FrameGeometry, Picture};

/// Mean brightness (luma 0–255) below which the picture is dark: a covered lens, the lights off,
/// a black feed.
pub const DARK_LUMA: f64 = 16.0;
/// Contrast (standard deviation of luma) below which there is nothing to see: a lens covered by
/// something lit, a camera facing a blank wall, a grey test card.
pub const FLAT_CONTRAST: f64 = 6.0;
/// Sharpness (mean luma step between neighbouring pixels, per unit of contrast) below which the
/// picture is out of focus or smeared (a fogged or greased lens).
pub const BLURRED_SHARPNESS: f64 = 0.02;
/// About this many points per side are sampled, whatever the frame size.
const SAMPLES_PER_SIDE: u32 = 64;
/// A frame whose hash is one of the last this many frames' repeats the picture. More than one: a
/// still picture coded by a video encoder decodes to a short cycle of slightly different frames
/// (its B-frames), not to one; a live camera's sensor noise makes every frame new.
const REPEAT_MEMORY: usize = 8;

/// What the camera's view is like, as judged over the recent frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The picture looks like a room.
    #[default]
    Clear,
    /// Nothing usable to count from, for `blind_after` or longer.
    Blind(Blindness),
    /// Only pictures seen in the last few frames, to the bit, for `frozen_after` or longer.
    Frozen,
}

/// Why a view is blind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blindness {
    Dark,
    Featureless,
    Blurred,
}

impl View {
    /// The `health.source` word for a view that is not clear.
    pub fn state(self) -> Option<&'static str> {
        match self {
            View::Clear => None,
            View::Blind(_) => Some("blind"),
            View::Frozen => Some("frozen"),
        }
    }

    /// One line for `health.last_error` and the log.
    pub fn describe(self, lasted: Duration) -> String {
        let s = lasted.as_secs();
        let what = match self {
            View::Clear => return "the camera's view is clear".into(),
            View::Blind(Blindness::Dark) => {
                format!(
                    "the picture has been dark for {s} s (lens covered, lights off or no signal)"
                )
            }
            View::Blind(Blindness::Featureless) => format!(
                "the picture has shown nothing for {s} s (lens covered, camera facing a wall)"
            ),
            View::Blind(Blindness::Blurred) => {
                format!(
                    "the picture has been out of focus for {s} s (lens fogged, smeared or moved)"
                )
            }
            View::Frozen => {
                format!("the picture has not changed for {s} s (frozen camera or stream)")
            }
        };
        format!("{what}: counts are unreliable")
    }
}

/// One frame's statistics over the picture (padding and masked, all-black pixels left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameStats {
    /// Mean luma, 0–255.
    pub brightness: f64,
    /// Standard deviation of luma.
    pub contrast: f64,
    /// Mean absolute luma step to the right and downward neighbours, divided by the contrast.
    pub sharpness: f64,
    /// Share of the sampled points that are not pure black (masks black out their area).
    pub lit: f64,
    /// Hash of every sampled point, to recognise the same picture again.
    pub hash: u64,
}

impl FrameStats {
    /// The statistics of one packed-RGB frame over its picture. Allocates nothing.
    pub fn of(rgb: &[u8], geometry: FrameGeometry, picture: Picture) -> Self {
        measure(rgb, &Area::new(geometry, picture))
    }

    /// Why this one frame is blind, if it is.
    pub fn blindness(&self) -> Option<Blindness> {
        if self.lit < 0.05 || self.brightness < DARK_LUMA {
            Some(Blindness::Dark)
        } else if self.contrast < FLAT_CONTRAST {
            Some(Blindness::Featureless)
        } else if self.sharpness < BLURRED_SHARPNESS {
            Some(Blindness::Blurred)
        } else {
            None
        }
    }
}

/// The sampled rectangle of a frame, in pixels.
#[derive(Debug, Clone, Copy)]
struct Area {
    width: usize,
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
    step_x: usize,
    step_y: usize,
}

impl Area {
    fn new(geometry: FrameGeometry, picture: Picture) -> Self {
        let (w, h) = (geometry.width as f32, geometry.height as f32);
        let x0 = (picture.x0 * w).ceil() as usize;
        let y0 = (picture.y0 * h).ceil() as usize;
        // One pixel short of the picture's edge, so every sample has its right and lower neighbour.
        let x1 = (((picture.x0 + picture.width) * w).floor() as usize)
            .min(geometry.width as usize)
            .saturating_sub(1);
        let y1 = (((picture.y0 + picture.height) * h).floor() as usize)
            .min(geometry.height as usize)
            .saturating_sub(1);
        let per_side = SAMPLES_PER_SIDE as usize;
        Self {
            width: geometry.width as usize,
            x0,
            x1: x1.max(x0),
            y0,
            y1: y1.max(y0),
            step_x: (x1.saturating_sub(x0) / per_side).max(1),
            step_y: (y1.saturating_sub(y0) / per_side).max(1),
        }
    }
}

/// Luma (BT.601, integer) of the pixel at byte offset `i`, and whether it is pure black.
fn luma(rgb: &[u8], i: usize) -> (i32, bool) {
    match rgb.get(i..i + 3) {
        Some(&[r, g, b]) => (
            (77 * i32::from(r) + 150 * i32::from(g) + 29 * i32::from(b)) >> 8,
            (r | g | b) == 0,
        ),
        _ => (0, true),
    }
}

/// Statistics of one packed-RGB frame over `area`. Allocates nothing.
fn measure(rgb: &[u8], area: &Area) -> FrameStats {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let (mut n, mut lit, mut sum, mut sum_sq, mut steps) = (0u64, 0u64, 0f64, 0f64, 0f64);
    let mut hash = FNV_OFFSET;
    let row = area.width * 3;
    for y in (area.y0..area.y1).step_by(area.step_y) {
        for x in (area.x0..area.x1).step_by(area.step_x) {
            let i = y * row + x * 3;
            let (l, black) = luma(rgb, i);
            hash = (hash ^ l as u64).wrapping_mul(FNV_PRIME);
            n += 1;
            if black {
                continue;
            }
            lit += 1;
            let (right, _) = luma(rgb, i + 3);
            let (below, _) = luma(rgb, i + row);
            let l = f64::from(l);
            sum += l;
            sum_sq += l * l;
            steps += f64::from((l as i32 - right).abs() + (l as i32 - below).abs()) / 2.0;
        }
    }
    if lit == 0 {
        return FrameStats {
            brightness: 0.0,
            contrast: 0.0,
            sharpness: 0.0,
            lit: 0.0,
            hash,
        };
    }
    let k = lit as f64;
    let brightness = sum / k;
    let contrast = (sum_sq / k - brightness * brightness).max(0.0).sqrt();
    FrameStats {
        brightness,
        contrast,
        sharpness: steps / k / contrast.max(1.0),
        lit: k / n.max(1) as f64,
        hash,
    }
}

/// How long a view must stay blind or frozen before it is called so; zero turns a check off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewLimits {
    pub blind_after: Duration,
    pub frozen_after: Duration,
}

/// Follows the camera's view frame by frame (see the module docs).
#[derive(Debug, Clone)]
pub struct ViewCheck {
    limits: ViewLimits,
    area: Area,
    /// Hashes of the last frames (a ring), and since when every frame has repeated one of them.
    recent: [u64; REPEAT_MEMORY],
    next: usize,
    repeating_since: Option<Duration>,
    /// Since when, and why, frames have been blind (the latest cause).
    blind_since: Option<(Duration, Blindness)>,
    view: View,
}

impl ViewCheck {
    pub fn new(limits: ViewLimits, geometry: FrameGeometry, picture: Picture) -> Self {
        Self {
            limits,
            area: Area::new(geometry, picture),
            recent: [0; REPEAT_MEMORY],
            next: 0,
            repeating_since: None,
            blind_since: None,
            view: View::Clear,
        }
    }

    /// Judges the frame at source time `t`; returns the view and, when it changed with this
    /// frame, how long the condition had lasted.
    pub fn observe(&mut self, rgb: &[u8], t: Duration) -> (View, Option<Duration>) {
        let stats = measure(rgb, &self.area);
        let repeats = self.recent.contains(&stats.hash);
        self.recent[self.next] = stats.hash;
        self.next = (self.next + 1) % REPEAT_MEMORY;
        self.repeating_since = match (repeats, self.repeating_since) {
            (false, _) => None,
            (true, Some(since)) => Some(since),
            // The first repeat: the picture has been still since the frame before.
            (true, None) => Some(t),
        };
        self.blind_since = match (stats.blindness(), self.blind_since) {
            (None, _) => None,
            (Some(why), Some((since, _))) => Some((since, why)),
            (Some(why), None) => Some((t, why)),
        };
        let on =
            |limit: Duration, since: Duration| !limit.is_zero() && t.saturating_sub(since) >= limit;
        let (view, since) = match (self.blind_since, self.repeating_since) {
            (Some((since, why)), _) if on(self.limits.blind_after, since) => {
                (View::Blind(why), since)
            }
            (_, Some(since)) if on(self.limits.frozen_after, since) => (View::Frozen, since),
            _ => (View::Clear, t),
        };
        let changed = (view != self.view).then(|| t.saturating_sub(since));
        self.view = view;
        (view, changed)
    }

    pub fn view(&self) -> View {
        self.view
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;

//! The survey picture's key (drawn under the chart, so it never hides a cell) and its arrows.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::{CONTOUR, SUGGESTED_LINE, SUGGESTED_MASK, SUGGESTED_ZONE};
use crate::plot::{drawn, DrawError};

/// The key, in a strip of its own under the chart (so it never hides a cell): what each colour
/// and stroke means.
pub(super) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", 13).into_font();
    let entries: [(&str, RGBColor, u8); 9] = [
        ("little time spent there", ViridisRGB::get_color(0.05), 0),
        ("most time spent there", ViridisRGB::get_color(1.0), 0),
        ("blank: fewer than k people", RGBColor(230, 230, 230), 0),
        ("mean direction of movement", BLACK, 3),
        ("configured line, zone, mask", BLACK, 1),
        ("suggested line (arrow: in)", SUGGESTED_LINE, 2),
        ("suggested zone", SUGGESTED_ZONE, 2),
        ("suggested mask (nobody there)", SUGGESTED_MASK, 2),
        ("apparent height contour", CONTOUR, 1),
    ];
    for (i, (label, colour, kind)) in entries.iter().enumerate() {
        let (x, y) = (60 + (i as i32 / 3) * 300, 12 + (i as i32 % 3) * 26);
        let swatch: DynElement<DB, (i32, i32)> = match kind {
            0 => Rectangle::new([(x, y - 6), (x + 18, y + 6)], colour.filled()).into_dyn(),
            2 => DashedPathElement::new(vec![(x, y), (x + 18, y)], 5, 3, colour.stroke_width(3))
                .into_dyn(),
            3 => PathElement::new(arrow((x, y), (x + 18, y)), colour.stroke_width(1)).into_dyn(),
            _ => PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)).into_dyn(),
        };
        area.draw(&swatch).map_err(drawn)?;
        area.draw(&Text::new(label.to_string(), (x + 26, y - 7), font.clone()))
            .map_err(drawn)?;
    }
    Ok(())
}

/// A path from `from` to `to` with two strokes back from the tip, 25° either side.
pub(super) fn arrow<T: Copy + Into<f64> + FromF64>(from: (T, T), to: (T, T)) -> Vec<(T, T)> {
    let (fx, fy, tx, ty) = (from.0.into(), from.1.into(), to.0.into(), to.1.into());
    let (dx, dy) = (tx - fx, ty - fy);
    let back = |a: f64| {
        let (s, c) = a.sin_cos();
        let p = (tx - 0.35 * (dx * c - dy * s), ty - 0.35 * (dx * s + dy * c));
        (T::from_f64(p.0), T::from_f64(p.1))
    };
    let angle = 25f64.to_radians();
    vec![from, to, back(angle), to, back(-angle)]
}

/// Chart coordinates (f64) and pixels (i32) for [`arrow`].
pub(super) trait FromF64 {
    fn from_f64(v: f64) -> Self;
}

impl FromF64 for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl FromF64 for i32 {
    fn from_f64(v: f64) -> Self {
        v.round() as i32
    }
}

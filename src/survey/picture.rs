//! The survey as an SVG picture, drawn with `plotters` from the k-blanked grid alone: a heat map
//! of the time people spent in each cell, their mean direction of movement as arrows,
//! apparent-height contours, the config's lines, zones and masks, the suggested ones (dashed),
//! and a legend. No frame, box or track is drawn, because none reaches this module.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::SurveyReport;
use crate::count::survey::GridReport;

/// Picture width in pixels (the height follows the camera's aspect).
const WIDTH: u32 = 960;
/// The legend's strip below the chart, pixels.
const LEGEND_HEIGHT: u32 = 90;
/// Colours of what is drawn over the heat map.
const SUGGESTED_LINE: RGBColor = RGBColor(230, 120, 0);
const SUGGESTED_ZONE: RGBColor = RGBColor(0, 160, 80);
const SUGGESTED_MASK: RGBColor = RGBColor(90, 90, 90);
const CONTOUR: RGBColor = RGBColor(255, 80, 160);
/// Apparent-height levels drawn as contours (picture heights).
const HEIGHT_LEVELS: [f64; 6] = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4];

use crate::plot::drawn;
pub use crate::plot::DrawError;

/// The SVG text of the survey picture.
pub fn svg(report: &SurveyReport) -> Result<String, DrawError> {
    let [w, h] = report.picture;
    let aspect = f64::from(h.max(1)) / f64::from(w.max(1));
    let height = (f64::from(WIDTH - 120) * aspect) as u32 + 170;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawn)?;
        let (chart, key) = root.split_vertically(height - LEGEND_HEIGHT);
        draw(&chart, report)?;
        legend(&key)?;
        root.present().map_err(drawn)?;
    }
    Ok(text)
}

/// Image coordinates (y down) to the chart's (y up).
fn at(x: f32, y: f32) -> (f64, f64) {
    (f64::from(x), 1.0 - f64::from(y))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    report: &SurveyReport,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let g = &report.grid;
    let caption = format!(
        "headcount survey: {} frames, {:.0} s; {} x {} cells, blank where fewer than {} people",
        report.frames, report.seconds, g.columns, g.rows, g.k
    );
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(drawn)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x (picture width)")
        .y_desc("y (from the top)")
        .y_label_formatter(&|v| format!("{:.1}", 1.0 - v))
        .draw()
        .map_err(drawn)?;
    let (cw, ch) = (1.0 / f64::from(g.columns), 1.0 / f64::from(g.rows));
    let cell = |i: usize| {
        let (c, r) = (i % usize::from(g.columns), i / usize::from(g.columns));
        (c as f64 * cw, 1.0 - r as f64 * ch)
    };
    // Heat map: log of the time people spent in each cell; blank cells light grey.
    let most = g.presence_s.iter().flatten().fold(0.0f64, |a, &b| a.max(b));
    let heat = |p: f64| {
        let f = if most > 0.0 {
            (1.0 + p).ln() / (1.0 + most).ln()
        } else {
            0.0
        };
        ViridisRGB::get_color(f)
    };
    chart
        .draw_series(g.presence_s.iter().enumerate().map(|(i, p)| {
            let (x, y) = cell(i);
            let fill = p.map_or(RGBColor(230, 230, 230), heat);
            Rectangle::new([(x, y), (x + cw, y - ch)], fill.filled())
        }))
        .map_err(drawn)?;
    // Flow: the mean direction of those moving through each cell.
    let fastest = g.speed.iter().flatten().fold(0.0f64, |a, &b| a.max(b));
    let arrows: Vec<Vec<(f64, f64)>> = g
        .flow
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let [vx, vy] = (*f)?;
            let norm = vx.hypot(vy);
            if norm <= 0.0 || fastest <= 0.0 {
                return None;
            }
            let (x, y) = cell(i);
            let (cx, cy) = (x + cw / 2.0, y - ch / 2.0);
            let len = 0.45 * cw.min(ch) * (0.4 + 0.6 * (norm / fastest).min(1.0));
            let (dx, dy) = (vx / norm * len, -vy / norm * len);
            Some(arrow(
                (cx - dx / 2.0, cy - dy / 2.0),
                (cx + dx / 2.0, cy + dy / 2.0),
            ))
        })
        .collect();
    chart
        .draw_series(
            arrows
                .into_iter()
                .map(|p| PathElement::new(p, WHITE.stroke_width(1))),
        )
        .map_err(drawn)?;
    contours(&mut chart, g)?;
    let c = &report.suggestions;
    let config_lines = report_lines(report);
    draw_lines(&mut chart, &config_lines, false)?;
    draw_lines(
        &mut chart,
        &c.suggested_lines
            .iter()
            .map(|l| (l.name.clone(), l.from, l.to))
            .collect::<Vec<_>>(),
        true,
    )?;
    let areas = |v: &[(String, Vec<[f32; 2]>)], colour: RGBColor, dashed: bool, mask: bool| {
        v.iter()
            .map(|(name, poly)| {
                let mut pts: Vec<(f64, f64)> = poly.iter().map(|p| at(p[0], p[1])).collect();
                (
                    name.clone(),
                    pts.clone(),
                    {
                        pts.push(pts[0]);
                        pts
                    },
                    colour,
                    dashed,
                    mask,
                )
            })
            .collect::<Vec<_>>()
    };
    let mut all = areas(&report_zones(report), BLUE, false, false);
    all.extend(areas(&report_masks(report), BLACK, false, true));
    all.extend(areas(
        &c.suggested_zones
            .iter()
            .map(|z| (z.name.clone(), z.polygon.clone()))
            .collect::<Vec<_>>(),
        SUGGESTED_ZONE,
        true,
        false,
    ));
    all.extend(areas(
        &c.suggested_masks
            .iter()
            .map(|m| (m.name.clone(), m.polygon.clone()))
            .collect::<Vec<_>>(),
        SUGGESTED_MASK,
        true,
        true,
    ));
    for (name, fill, outline, colour, dashed, mask) in all {
        if mask {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    fill,
                    colour.mix(0.35).filled(),
                )))
                .map_err(drawn)?;
        }
        if dashed {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    outline.clone(),
                    6,
                    4,
                    colour.stroke_width(2),
                )))
                .map_err(drawn)?;
        } else {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    outline.clone(),
                    colour.stroke_width(2),
                )))
                .map_err(drawn)?;
        }
        if let Some(&(x, y)) = outline.first() {
            chart
                .draw_series(std::iter::once(Text::new(
                    name,
                    (x + 0.005, y - 0.02),
                    ("sans-serif", 13).into_font().color(&colour),
                )))
                .map_err(drawn)?;
        }
    }
    Ok(())
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Step contours of the median apparent height: the borders between shown cells on either side
/// of a level, labelled once per level.
fn contours<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, g: &GridReport) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let (columns, rows) = (usize::from(g.columns), usize::from(g.rows));
    let (cw, ch) = (1.0 / columns as f64, 1.0 / rows as f64);
    let colour = CONTOUR;
    for level in HEIGHT_LEVELS {
        let mut edges: Vec<[(f64, f64); 2]> = Vec::new();
        let straddles = |a: Option<f64>, b: Option<f64>| matches!((a, b), (Some(a), Some(b)) if (a < level) != (b < level));
        for r in 0..rows {
            for c in 0..columns {
                let here = g.height_median[g.index(c, r)];
                let (x, y) = (c as f64 * cw, 1.0 - r as f64 * ch);
                if c + 1 < columns && straddles(here, g.height_median[g.index(c + 1, r)]) {
                    edges.push([(x + cw, y), (x + cw, y - ch)]);
                }
                if r + 1 < rows && straddles(here, g.height_median[g.index(c, r + 1)]) {
                    edges.push([(x, y - ch), (x + cw, y - ch)]);
                }
            }
        }
        let label = edges.first().map(|e| e[0]);
        chart
            .draw_series(
                edges
                    .into_iter()
                    .map(|e| PathElement::new(e.to_vec(), colour.stroke_width(2))),
            )
            .map_err(drawn)?;
        if let Some((x, y)) = label {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{level}"),
                    (x + 0.003, y - 0.015),
                    ("sans-serif", 11).into_font().color(&colour),
                )))
                .map_err(drawn)?;
        }
    }
    Ok(())
}

/// Lines with an arrow from their middle towards the "in" side (the right of from → to).
fn draw_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    lines: &[(String, [f32; 2], [f32; 2])],
    suggested: bool,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let colour = if suggested { SUGGESTED_LINE } else { BLACK };
    for (name, from, to) in lines {
        let (a, b) = (at(from[0], from[1]), at(to[0], to[1]));
        let style = colour.stroke_width(3);
        if suggested {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![a, b],
                    8,
                    5,
                    style,
                )))
                .map_err(drawn)?;
        } else {
            chart
                .draw_series(std::iter::once(PathElement::new(vec![a, b], style)))
                .map_err(drawn)?;
        }
        // Right of from → to in image coordinates (y down) is (dy, −dx); in the chart's (y up,
        // so both dy and the normal's y change sign) it is (−dy', dx').
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy).max(1e-9);
        let (nx, ny) = (-dy / len * 0.04, dx / len * 0.04);
        let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        chart
            .draw_series(std::iter::once(PathElement::new(
                arrow(mid, (mid.0 + nx, mid.1 + ny)),
                colour.stroke_width(2),
            )))
            .map_err(drawn)?;
        chart
            .draw_series(std::iter::once(Text::new(
                name.clone(),
                (b.0 + 0.005, b.1 + 0.01),
                ("sans-serif", 13).into_font().color(&colour),
            )))
            .map_err(drawn)?;
    }
    Ok(())
}

fn report_lines(report: &SurveyReport) -> Vec<(String, [f32; 2], [f32; 2])> {
    report
        .configured
        .lines
        .iter()
        .map(|l| (l.name.clone(), l.from, l.to))
        .collect()
}

fn report_zones(report: &SurveyReport) -> Vec<(String, Vec<[f32; 2]>)> {
    report
        .configured
        .zones
        .iter()
        .map(|z| (z.name.clone(), z.polygon.clone()))
        .collect()
}

fn report_masks(report: &SurveyReport) -> Vec<(String, Vec<[f32; 2]>)> {
    report
        .configured
        .masks
        .iter()
        .map(|m| (m.name.clone(), m.polygon.clone()))
        .collect()
}

#[path = "picture_key.rs"]
mod key;
use key::{arrow, legend};

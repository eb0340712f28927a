//! `eval --svg`: where and when the counts drift from the truth, drawn with `plotters`: the
//! occupancy counted and true over time, then each of the first lines' running in / out totals,
//! counted (solid) beside the truth's (dashed).

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::series::LineSeries;
use super::EvalReport;

const WIDTH: u32 = 960;
const OCCUPANCY_HEIGHT: u32 = 300;
const LINE_HEIGHT: u32 = 230;
const IN: RGBColor = RGBColor(30, 100, 200);
const OUT: RGBColor = RGBColor(210, 60, 40);

use crate::plot::drawn;
pub use crate::plot::DrawError;

/// The SVG text of the evaluation's picture.
pub fn svg(report: &EvalReport) -> Result<String, DrawError> {
    let s = &report.series;
    let rows = s.lines.len().div_ceil(2) as u32;
    let height = OCCUPANCY_HEIGHT + rows * LINE_HEIGHT;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawn)?;
        let (top, rest) = root.split_vertically(OCCUPANCY_HEIGHT);
        occupancy(&top, report)?;
        if rows > 0 {
            let panels = rest.split_evenly((rows as usize, 2));
            for (panel, line) in panels.iter().zip(&s.lines) {
                line_panel(panel, line, s.fps)?;
            }
        }
        root.present().map_err(drawn)?;
    }
    Ok(text)
}

fn seconds(frame: usize, fps: f64) -> f64 {
    frame as f64 / fps.max(1e-9)
}

fn occupancy<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    report: &EvalReport,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let s = &report.series;
    let end = seconds(s.counted.len().max(1), s.fps);
    let most = s
        .counted
        .iter()
        .chain(&s.truth)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let caption = format!(
        "occupancy: counted vs truth (MAE {:.3}, bias {:+.3}, {} frames)",
        report.occupancy.mae, report.occupancy.bias, report.frames
    );
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 17))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0f64..end, 0f64..f64::from(most) + 1.0)
        .map_err(drawn)?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("people")
        .draw()
        .map_err(drawn)?;
    let points = |v: &[u32]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, &n)| (seconds(i, s.fps), f64::from(n)))
            .collect()
    };
    chart
        .draw_series(std::iter::once(PathElement::new(
            points(&s.truth),
            BLACK.stroke_width(2),
        )))
        .map_err(drawn)?
        .label("truth")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
    chart
        .draw_series(std::iter::once(PathElement::new(
            points(&s.counted),
            IN.stroke_width(1),
        )))
        .map_err(drawn)?
        .label("counted")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], IN.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(drawn)?;
    Ok(())
}

fn line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    line: &LineSeries,
    fps: f64,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let end = seconds(line.counted.len().max(1), fps);
    let most = line
        .counted
        .iter()
        .chain(&line.truth)
        .map(|&(i, o)| i.max(o))
        .max()
        .unwrap_or(0)
        .max(1);
    let [x1, y1, x2, y2] = line.line;
    let last = |v: &[(u64, u64)]| v.last().copied().unwrap_or((0, 0));
    let (c, t) = (last(&line.counted), last(&line.truth));
    let caption = format!(
        "line {x1},{y1} → {x2},{y2}: in {} / {}, out {} / {} (counted / truth)",
        c.0, t.0, c.1, t.1
    );
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 13))
        .margin(8)
        .x_label_area_size(25)
        .y_label_area_size(35)
        .build_cartesian_2d(0f64..end, 0f64..most as f64 * 1.1)
        .map_err(drawn)?;
    chart
        .configure_mesh()
        .x_desc("seconds")
        .draw()
        .map_err(drawn)?;
    let points = |v: &[(u64, u64)], out: bool| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, &(a, b))| (seconds(i, fps), if out { b } else { a } as f64))
            .collect()
    };
    for (out, colour, name) in [(false, IN, "in"), (true, OUT, "out")] {
        chart
            .draw_series(std::iter::once(PathElement::new(
                points(&line.counted, out),
                colour.stroke_width(2),
            )))
            .map_err(drawn)?
            .label(format!("{name} counted"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                points(&line.truth, out),
                5,
                3,
                colour.stroke_width(1),
            )))
            .map_err(drawn)?
            .label(format!("{name} truth"))
            .legend(move |(x, y)| {
                DashedPathElement::new(vec![(x, y), (x + 16, y)], 4, 3, colour.stroke_width(1))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 11))
        .draw()
        .map_err(drawn)?;
    Ok(())
}

//! The survey as text: a block picture of the grid (coloured on a terminal, characters
//! elsewhere), the suggestions with their evidence, and the suggested config.

use std::fmt::Write;

use super::SurveyReport;

/// Characters from few to many visits, where colour is not wanted.
const RAMP: &[u8] = b".:-=+*#%@";
/// xterm-256 colours from few to many visits (dark blue to yellow).
const COLOURS: [u8; 9] = [17, 18, 25, 31, 37, 72, 107, 142, 226];

/// The report as the installer reads it; `colour`: ANSI colours (stdout is a terminal).
pub fn text(report: &SurveyReport, colour: bool) -> String {
    let g = &report.grid;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "survey of {}: {} frames, {:.0} s of video; grid {} x {}; cells seen by fewer than {} \
         people are blank",
        report.source, report.frames, report.seconds, g.columns, g.rows, g.k
    );
    let _ = writeln!(
        out,
        "detector: {} on {}, {} x {} tiles, {:.1} ms a frame\n",
        report.detector.family,
        report.detector.runtime,
        report.detector.tile_columns,
        report.detector.tile_rows,
        report.detector.ms_per_frame
    );
    out.push_str(&blocks(report, colour));
    let _ = writeln!(
        out,
        "time people spent in each cell: {} few … many ({} blank)\n",
        if colour { "dark blue" } else { "'.'" },
        if colour { "grey" } else { "' '" }
    );
    for l in &report.lines {
        let _ = writeln!(out, "line {:?}: in {}, out {}", l.name, l.ins, l.out);
    }
    for z in &report.zones {
        let _ = writeln!(out, "zone {:?}: at most {} people at once", z.name, z.max);
    }
    let s = &report.suggestions;
    if s.suggested_lines.is_empty() {
        out.push_str("suggested lines: none (no border crossed between cells shown)\n");
    }
    for l in &s.suggested_lines {
        let _ = writeln!(
            out,
            "suggested line {:?} from [{}, {}] to [{}, {}]: would have counted in {}, out {} — {}",
            l.name, l.from[0], l.from[1], l.to[0], l.to[1], l.ins, l.out, l.evidence
        );
    }
    if let Some(t) = &s.suggested_tiles {
        let _ = writeln!(
            out,
            "suggested tiles {} x {}: {}",
            t.tile_columns, t.tile_rows, t.evidence
        );
    }
    for m in &s.suggested_masks {
        let _ = writeln!(out, "suggested mask {:?}: {}", m.name, m.evidence);
    }
    for z in &s.suggested_zones {
        let _ = writeln!(out, "suggested zone {:?}: {}", z.name, z.evidence);
    }
    for w in &s.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    let _ = writeln!(out, "\nsuggested config:\n{}", s.suggested_config);
    out
}

/// Two cells a character, one above the other (the upper half block in the top cell's colour on
/// the bottom cell's), or a ramp character per cell without colour.
fn blocks(report: &SurveyReport, colour: bool) -> String {
    let g = &report.grid;
    let (columns, rows) = (usize::from(g.columns), usize::from(g.rows));
    let most = g.presence_s.iter().flatten().fold(0.0f64, |a, &b| a.max(b));
    let level = |i: usize| {
        g.presence_s[i].map(|p| {
            let f = if most > 0.0 {
                (1.0 + p).ln() / (1.0 + most).ln()
            } else {
                0.0
            };
            ((f * (COLOURS.len() - 1) as f64).round() as usize).min(COLOURS.len() - 1)
        })
    };
    let mut out = String::new();
    if colour {
        let paint = |l: Option<usize>| l.map_or(236, |l| COLOURS[l]);
        for r in (0..rows).step_by(2) {
            for c in 0..columns {
                let top = paint(level(g.index(c, r)));
                let bottom = if r + 1 < rows {
                    paint(level(g.index(c, r + 1)))
                } else {
                    0
                };
                let _ = write!(out, "\x1b[38;5;{top}m\x1b[48;5;{bottom}m▀▀");
            }
            out.push_str("\x1b[0m\n");
        }
    } else {
        let edge = format!("+{}+\n", "-".repeat(2 * columns));
        out.push_str(&edge);
        for r in 0..rows {
            out.push('|');
            for c in 0..columns {
                let ch = level(g.index(c, r)).map_or(' ', |l| char::from(RAMP[l]));
                out.push(ch);
                out.push(ch);
            }
            out.push_str("|\n");
        }
        out.push_str(&edge);
    }
    out
}

//! Entrance lines from the survey grid: along the cell borders the most people crossed, across
//! the way they walk.
//!
//! Every border between two shown cells is a piece of a candidate line; the pieces of one grid
//! line (a column border or a row border) that follow each other make one candidate, whose
//! crossings are the sum of its pieces'. A candidate's score is its crossings weighted by how
//! squarely people move across it (the share of their movement, whichever way, along its
//! normal, squared): a line along a walkway is crossed at a shallow angle by everyone drifting
//! over it, and counts jitter rather than passages. The best candidate is suggested, then the
//! others scoring at least half as well that lie apart from those already chosen. Each is
//! directed so that "in" is the direction most people crossed it in, and reports the crossings
//! the grid saw as the counts it would have given.

use crate::count::survey::GridReport;

use super::SuggestedLine;

/// At most this many lines are suggested.
const MAX_SUGGESTED_LINES: usize = 3;
/// A further line must score at least this share of the best one's (one over it).
const FURTHER_LINE_SHARE: f64 = 2.0; // half
/// Two suggested lines of the same direction are at least this far apart (picture fraction).
const LINES_APART: f32 = 0.15;
/// A line reaches this many cells past the last shown cells it runs between (people step a
/// little wide of where most walk), and to the picture's edge when it ends this close to it.
const LINE_MARGIN_CELLS: usize = 1;
const TO_EDGE_CELLS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Along {
    /// A column border at x, running down.
    Column,
    /// A row border at y, running across.
    Row,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    along: Along,
    /// The border's index (1.. columns − 1 or 1.. rows − 1).
    at: usize,
    /// The shown cells it runs between: first and last index along it.
    first: usize,
    last: usize,
    /// Crossings in the positive direction (right, or down) and the negative (left, or up).
    forward: u64,
    backward: u64,
    /// Movement across the line and along it, summed over the cells on either side.
    across: f64,
    along_it: f64,
}

impl Candidate {
    fn total(&self) -> u64 {
        self.forward + self.backward
    }

    /// Crossings, weighted by how squarely people move across the line.
    fn score(&self) -> f64 {
        let square = self.across / (self.across + self.along_it).max(1e-9);
        self.total() as f64 * square * square
    }

    /// Where it lies across its own direction (picture fraction).
    fn position(&self, grid: &GridReport) -> f32 {
        match self.along {
            Along::Column => self.at as f32 / f32::from(grid.columns),
            Along::Row => self.at as f32 / f32::from(grid.rows),
        }
    }
}

/// Every run of borders between shown cells along one grid line, with its crossings.
fn candidates(grid: &GridReport) -> Vec<Candidate> {
    let (columns, rows) = (usize::from(grid.columns), usize::from(grid.rows));
    let mut out = Vec::new();
    let mut runs = |along: Along,
                    at: usize,
                    len: usize,
                    piece: &dyn Fn(usize) -> Option<(u64, u64, f64, f64)>| {
        let mut run: Option<Candidate> = None;
        for i in 0..=len {
            match (i < len).then(|| piece(i)).flatten() {
                Some((f, b, across, along_it)) => {
                    let c = run.get_or_insert(Candidate {
                        along,
                        at,
                        first: i,
                        last: i,
                        forward: 0,
                        backward: 0,
                        across: 0.0,
                        along_it: 0.0,
                    });
                    c.last = i;
                    c.forward += f;
                    c.backward += b;
                    c.across += across;
                    c.along_it += along_it;
                }
                None => out.extend(run.take()),
            }
        }
    };
    let count = |v: &[Option<u32>], i: usize| v[i].map_or(0, u64::from);
    // Movement (x, y) whichever way, weighted by the time people moved there.
    let axis = |i: usize| {
        let [x, y] = grid.axis_speed[i].unwrap_or([0.0, 0.0]);
        let t = grid.presence_s[i].unwrap_or(0.0) - grid.dwell_s[i].unwrap_or(0.0);
        (x * t.max(0.0), y * t.max(0.0))
    };
    for at in 1..columns {
        runs(Along::Column, at, rows, &|r| {
            let (left, right) = (grid.index(at - 1, r), grid.index(at, r));
            let ((xl, yl), (xr, yr)) = (axis(left), axis(right));
            (grid.people[left].is_some() && grid.people[right].is_some()).then(|| {
                (
                    count(&grid.east, left),
                    count(&grid.west, left),
                    xl + xr,
                    yl + yr,
                )
            })
        });
    }
    for at in 1..rows {
        runs(Along::Row, at, columns, &|c| {
            let (above, below) = (grid.index(c, at - 1), grid.index(c, at));
            let ((xa, ya), (xb, yb)) = (axis(above), axis(below));
            (grid.people[above].is_some() && grid.people[below].is_some()).then(|| {
                (
                    count(&grid.south, above),
                    count(&grid.north, above),
                    ya + yb,
                    xa + xb,
                )
            })
        });
    }
    out
}

/// The suggested lines, busiest first, named `survey-1`, `survey-2`, … (skipping names in
/// `taken`).
pub fn suggest(grid: &GridReport, taken: &[String]) -> Vec<SuggestedLine> {
    let mut all = candidates(grid);
    all.retain(|c| c.total() > 0 && c.score() > 0.0);
    all.sort_by(|a, b| b.score().total_cmp(&a.score()).then(a.at.cmp(&b.at)));
    let Some(best) = all.first().map(Candidate::score) else {
        return Vec::new();
    };
    let mut chosen: Vec<Candidate> = Vec::new();
    for c in all {
        if chosen.len() == MAX_SUGGESTED_LINES {
            break;
        }
        let busy = c.score() * FURTHER_LINE_SHARE >= best;
        let apart = chosen.iter().all(|o| {
            o.along != c.along || (o.position(grid) - c.position(grid)).abs() >= LINES_APART
        });
        if chosen.is_empty() || (busy && apart) {
            chosen.push(c);
        }
    }
    let mut names = (1..)
        .map(|i| format!("survey-{i}"))
        .filter(|n| !taken.contains(n));
    chosen
        .iter()
        .map(|c| line(grid, c, names.next().unwrap_or_default()))
        .collect()
}

/// The candidate as a directed line with its evidence.
fn line(grid: &GridReport, c: &Candidate, name: String) -> SuggestedLine {
    let (len, cells) = match c.along {
        Along::Column => (usize::from(grid.rows), grid.rows),
        Along::Row => (usize::from(grid.columns), grid.columns),
    };
    let first = c.first.saturating_sub(LINE_MARGIN_CELLS);
    let last = (c.last + LINE_MARGIN_CELLS).min(len - 1);
    let start = if first < TO_EDGE_CELLS { 0 } else { first };
    let end = if last + TO_EDGE_CELLS >= len {
        len
    } else {
        last + 1
    };
    let (a, b) = (
        round3(start as f32 / f32::from(cells)),
        round3(end as f32 / f32::from(cells)),
    );
    let at = round3(c.position(grid));
    // "in" = left → right of from → to (image coordinates, y down): a line running down has
    // x below its position on the left; one running right has y below it on the left.
    let forward_in = c.forward >= c.backward;
    let (from, to, ins, out, way) = match (c.along, forward_in) {
        (Along::Column, true) => ([at, a], [at, b], c.forward, c.backward, "rightwards"),
        (Along::Column, false) => ([at, b], [at, a], c.backward, c.forward, "leftwards"),
        (Along::Row, false) => ([a, at], [b, at], c.backward, c.forward, "upwards"),
        (Along::Row, true) => ([b, at], [a, at], c.forward, c.backward, "downwards"),
    };
    let across = match c.along {
        Along::Column => format!("x = {at}"),
        Along::Row => format!("y = {at}"),
    };
    SuggestedLine {
        name,
        from,
        to,
        ins,
        out,
        evidence: format!(
            "{} crossings of the grid at {across} ({ins} {way}, counted in; {out} the other way) \
             between cells at least k people walked",
            ins + out
        ),
    }
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

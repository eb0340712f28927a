//! Privacy masks and zones from the survey grid.
//!
//! Masks: rectangles of cells no k people's boxes ever covered, one cell clear of any that were
//! covered (a person standing below a mask must keep their head), largest first (EDPB
//! Guidelines 3/2019 §129: do not watch what the purpose does not need). Zones: the clusters of
//! cells where people stood still, each a rectangle around its cells and one more cell.

use crate::count::survey::GridReport;

use super::SuggestedArea;

/// A mask covers at least this share of the picture (smaller ones are not worth the pixels).
const MIN_MASK_SHARE: f32 = 0.04;
const MAX_MASKS: usize = 3;
/// A cell belongs to a place where people stay when its standing time is at least this share of
/// the busiest such cell's and at least `MIN_STAY_S`.
const STAY_SHARE: f64 = 0.25;
const MIN_STAY_S: f64 = 5.0;
/// A cluster becomes a zone when it holds at least this share of all standing time.
const MIN_ZONE_SHARE: f64 = 0.1;
const MAX_ZONES: usize = 3;

/// A rectangle of cells: columns c0..=c1, rows r0..=r1.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cells {
    c0: usize,
    r0: usize,
    c1: usize,
    r1: usize,
}

impl Cells {
    fn area(&self) -> usize {
        (self.c1 - self.c0 + 1) * (self.r1 - self.r0 + 1)
    }

    fn polygon(&self, grid: &GridReport) -> Vec<[f32; 2]> {
        let (w, h) = (f32::from(grid.columns), f32::from(grid.rows));
        let (x0, y0) = (self.c0 as f32 / w, self.r0 as f32 / h);
        let (x1, y1) = ((self.c1 + 1) as f32 / w, (self.r1 + 1) as f32 / h);
        [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            .map(|p| p.map(|v| (v * 1000.0).round() / 1000.0))
            .to_vec()
    }
}

/// The largest rectangle of `true` cells (maximal rectangle in a histogram, row by row).
fn largest_rectangle(free: &[bool], columns: usize, rows: usize) -> Option<Cells> {
    let mut heights = vec![0usize; columns];
    let mut best: Option<Cells> = None;
    for r in 0..rows {
        for c in 0..columns {
            heights[c] = if free[r * columns + c] {
                heights[c] + 1
            } else {
                0
            };
        }
        for c0 in 0..columns {
            let mut h = usize::MAX;
            for (c1, &column) in heights.iter().enumerate().skip(c0) {
                h = h.min(column);
                if h == 0 {
                    break;
                }
                let cells = Cells {
                    c0,
                    r0: r + 1 - h,
                    c1,
                    r1: r,
                };
                if best.is_none_or(|b| cells.area() > b.area()) {
                    best = Some(cells);
                }
            }
        }
    }
    best
}

/// Masks over what nobody's box reached, named `unused-1`, ….
pub fn masks(grid: &GridReport) -> Vec<SuggestedArea> {
    let (columns, rows) = (usize::from(grid.columns), usize::from(grid.rows));
    // Free: no k people's boxes covered it or any of its eight neighbours.
    let mut free: Vec<bool> = (0..rows * columns)
        .map(|i| {
            let (c, r) = (i % columns, i / columns);
            let near = |d: isize, n: usize, v: usize| {
                let w = v as isize + d;
                (w >= 0 && (w as usize) < n).then_some(w as usize)
            };
            (-1..=1).all(|dr| {
                (-1..=1).all(|dc| match (near(dc, columns, c), near(dr, rows, r)) {
                    (Some(cc), Some(rr)) => !grid.in_view[rr * columns + cc],
                    _ => true,
                })
            })
        })
        .collect();
    let min_cells = (MIN_MASK_SHARE * (columns * rows) as f32).ceil() as usize;
    let mut out = Vec::new();
    while out.len() < MAX_MASKS {
        let Some(rect) = largest_rectangle(&free, columns, rows) else {
            break;
        };
        if rect.area() < min_cells.max(1) {
            break;
        }
        for r in rect.r0..=rect.r1 {
            for c in rect.c0..=rect.c1 {
                free[r * columns + c] = false;
            }
        }
        out.push(SuggestedArea {
            name: format!("unused-{}", out.len() + 1),
            polygon: rect.polygon(grid),
            evidence: format!(
                "{:.0} % of the picture where fewer than k people ever appeared, one cell clear \
                 of anywhere they did",
                100.0 * rect.area() as f32 / (columns * rows) as f32
            ),
        });
    }
    out
}

/// Zones around the places people stood still, named `stay-1`, … (skipping names in `taken`).
pub fn zones(grid: &GridReport, taken: &[String]) -> Vec<SuggestedArea> {
    let (columns, rows) = (usize::from(grid.columns), usize::from(grid.rows));
    let dwell = |i: usize| grid.dwell_s[i].unwrap_or(0.0);
    let total: f64 = (0..columns * rows).map(dwell).sum();
    let busiest = (0..columns * rows).map(dwell).fold(0.0, f64::max);
    let floor = (STAY_SHARE * busiest).max(MIN_STAY_S);
    let mut seen = vec![false; columns * rows];
    let mut clusters: Vec<(f64, Cells)> = Vec::new();
    for start in 0..columns * rows {
        if seen[start] || dwell(start) < floor {
            continue;
        }
        // Flood fill over neighbouring cells above the floor.
        let (mut sum, mut rect, mut stack) = (0.0, None::<Cells>, vec![start]);
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (c, r) = (i % columns, i / columns);
            sum += dwell(i);
            let b = rect.get_or_insert(Cells {
                c0: c,
                r0: r,
                c1: c,
                r1: r,
            });
            (b.c0, b.r0, b.c1, b.r1) = (b.c0.min(c), b.r0.min(r), b.c1.max(c), b.r1.max(r));
            let next = [
                (c > 0).then(|| i - 1),
                (c + 1 < columns).then(|| i + 1),
                (r > 0).then(|| i - columns),
                (r + 1 < rows).then(|| i + columns),
            ];
            for j in next.into_iter().flatten() {
                if !seen[j] && dwell(j) >= floor {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        if let Some(rect) = rect {
            clusters.push((sum, rect));
        }
    }
    clusters.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut names = (1..)
        .map(|i| format!("stay-{i}"))
        .filter(|n| !taken.contains(n));
    clusters
        .into_iter()
        .filter(|(sum, _)| total > 0.0 && sum / total >= MIN_ZONE_SHARE)
        .take(MAX_ZONES)
        .map(|(sum, r)| {
            let grown = Cells {
                c0: r.c0.saturating_sub(1),
                r0: r.r0.saturating_sub(1),
                c1: (r.c1 + 1).min(columns - 1),
                r1: (r.r1 + 1).min(rows - 1),
            };
            SuggestedArea {
                name: names.next().unwrap_or_default(),
                polygon: grown.polygon(grid),
                evidence: format!(
                    "{sum:.0} person-seconds standing still ({:.0} % of all standing in the survey)",
                    100.0 * sum / total
                ),
            }
        })
        .collect()
}

//! Optimal assignment (Hungarian algorithm) between tracks and detections.
//!
//! Given a rectangular cost matrix, finds the one-to-one pairing of rows and columns with the
//! least total cost (Kuhn–Munkres with potentials, O(n²m)). Pairs whose cost is above a gate are
//! left unmatched by the caller. Buffers are kept between calls, so a frame allocates nothing
//! once they have grown. Pure arithmetic: never sees a frame, never logs.

/// A reusable solver: the cost matrix and the algorithm's working vectors.
#[derive(Debug, Default)]
pub struct Assignment {
    rows: usize,
    cols: usize,
    cost: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
    p: Vec<usize>,
    way: Vec<usize>,
    minv: Vec<f64>,
    used: Vec<bool>,
    /// `row_match[r]` = the column matched to row `r`, after `solve`.
    row_match: Vec<Option<usize>>,
}

impl Assignment {
    /// Starts a new problem of `rows` × `cols`, every cost set to `fill`.
    pub fn reset(&mut self, rows: usize, cols: usize, fill: f64) {
        self.rows = rows;
        self.cols = cols;
        self.cost.clear();
        self.cost.resize(rows * cols, fill);
    }

    pub fn set(&mut self, row: usize, col: usize, cost: f64) {
        if row < self.rows && col < self.cols {
            self.cost[row * self.cols + col] = cost;
        }
    }

    fn cost(&self, row: usize, col: usize, transposed: bool) -> f64 {
        if transposed {
            self.cost[col * self.cols + row]
        } else {
            self.cost[row * self.cols + col]
        }
    }

    /// Solves the problem; afterwards [`Assignment::matched`] gives each row's column.
    pub fn solve(&mut self) {
        self.row_match.clear();
        self.row_match.resize(self.rows, None);
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        // The algorithm needs n ≤ m: transpose when there are more rows than columns.
        let transposed = self.rows > self.cols;
        let (n, m) = if transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        };
        for buf in [&mut self.u, &mut self.minv] {
            buf.clear();
        }
        self.u.resize(n + 1, 0.0);
        self.v.clear();
        self.v.resize(m + 1, 0.0);
        self.p.clear();
        self.p.resize(m + 1, 0);
        self.way.clear();
        self.way.resize(m + 1, 0);
        for i in 1..=n {
            self.p[0] = i;
            let mut j0 = 0;
            self.minv.clear();
            self.minv.resize(m + 1, f64::INFINITY);
            self.used.clear();
            self.used.resize(m + 1, false);
            loop {
                self.used[j0] = true;
                let i0 = self.p[j0];
                let mut delta = f64::INFINITY;
                let mut j1 = 0;
                for j in 1..=m {
                    if !self.used[j] {
                        let cur = self.cost(i0 - 1, j - 1, transposed) - self.u[i0] - self.v[j];
                        if cur < self.minv[j] {
                            self.minv[j] = cur;
                            self.way[j] = j0;
                        }
                        if self.minv[j] < delta {
                            delta = self.minv[j];
                            j1 = j;
                        }
                    }
                }
                if j1 == 0 {
                    // Only possible with non-finite costs: stop rather than loop.
                    break;
                }
                for j in 0..=m {
                    if self.used[j] {
                        let row = self.p[j];
                        self.u[row] += delta;
                        self.v[j] -= delta;
                    } else {
                        self.minv[j] -= delta;
                    }
                }
                j0 = j1;
                if self.p[j0] == 0 {
                    break;
                }
            }
            loop {
                let j1 = self.way[j0];
                self.p[j0] = self.p[j1];
                j0 = j1;
                if j0 == 0 {
                    break;
                }
            }
        }
        for j in 1..=m {
            let i = self.p[j];
            if i == 0 {
                continue;
            }
            let (row, col) = if transposed {
                (j - 1, i - 1)
            } else {
                (i - 1, j - 1)
            };
            self.row_match[row] = Some(col);
        }
    }

    /// The column matched to `row` by the last `solve`, if any.
    pub fn matched(&self, row: usize) -> Option<usize> {
        self.row_match.get(row).copied().flatten()
    }

    /// The cost of pairing `row` with `col` in the current problem.
    pub fn cost_of(&self, row: usize, col: usize) -> f64 {
        self.cost(row, col, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solve(rows: usize, cols: usize, costs: &[f64]) -> Vec<Option<usize>> {
        let mut a = Assignment::default();
        a.reset(rows, cols, 0.0);
        for r in 0..rows {
            for c in 0..cols {
                a.set(r, c, costs[r * cols + c]);
            }
        }
        a.solve();
        (0..rows).map(|r| a.matched(r)).collect()
    }

    #[test]
    fn finds_the_cheapest_pairing_not_the_greedy_one() {
        // Greedy would take (0,0)=1 and then be forced into (1,1)=10: total 11.
        // The optimum is (0,1)=2 + (1,0)=3 = 5.
        assert_eq!(solve(2, 2, &[1.0, 2.0, 3.0, 10.0]), vec![Some(1), Some(0)]);
    }

    #[test]
    fn rectangular_problems_leave_extra_rows_or_columns_unmatched() {
        assert_eq!(
            solve(3, 2, &[5.0, 1.0, 1.0, 5.0, 0.5, 3.0]),
            vec![Some(1), None, Some(0)]
        );
        let m = solve(1, 3, &[3.0, 1.0, 2.0]);
        assert_eq!(m, vec![Some(1)]);
        assert_eq!(solve(0, 3, &[]), Vec::<Option<usize>>::new());
    }
}

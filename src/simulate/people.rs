//! The synthetic people process a simulated sensor counts instead of a camera: people arrive
//! through a door line and leave through it, some of those inside sit in a zone. One report a
//! second, in turn occupancy, the zone, the line — the aggregates a real sensor publishes, made
//! from numbers drawn at random (seeded per sensor, so a run can be repeated).

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::count::{CountReport, LineReport, OccupancyReport};

/// Most people in a simulated room.
const CAPACITY: u32 = 12;
/// Chance that someone arrives in a given second (and, scaled by how full the room is, leaves).
const ARRIVAL: f64 = 0.3;

/// One simulated room with a door line and a zone.
#[derive(Debug)]
pub struct People {
    rng: StdRng,
    inside: u32,
    in_zone: u32,
    in_total: u64,
    out_total: u64,
    /// Crossings since the line's last report.
    in_delta: u64,
    out_delta: u64,
    /// When each kind of report was last made (occupancy, zone, line).
    last: [Duration; 3],
    /// The kind of report made next.
    turn: usize,
}

impl People {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            inside: 0,
            in_zone: 0,
            in_total: 0,
            out_total: 0,
            in_delta: 0,
            out_delta: 0,
            last: [Duration::ZERO; 3],
            turn: 0,
        }
    }

    /// One second of the room, ending at source time `t`; the report it makes.
    pub fn step(&mut self, t: Duration) -> CountReport {
        if self.inside < CAPACITY && self.rng.gen_bool(ARRIVAL) {
            self.inside += 1;
            self.in_total += 1;
            self.in_delta += 1;
        }
        let leave = ARRIVAL * f64::from(self.inside) / f64::from(CAPACITY / 2);
        if self.inside > 0 && self.rng.gen_bool(leave.min(1.0)) {
            self.inside -= 1;
            self.out_total += 1;
            self.out_delta += 1;
        }
        self.in_zone = self.rng.gen_range(0..=self.inside);
        let kind = self.turn;
        self.turn = (self.turn + 1) % 3;
        let window = t.saturating_sub(self.last[kind]);
        self.last[kind] = t;
        let occupancy = |count: u32| OccupancyReport {
            count,
            min: count,
            max: count,
            mean: f64::from(count),
            window,
            t,
            frames: window.as_secs(),
        };
        match kind {
            0 => CountReport::Occupancy(occupancy(self.inside)),
            1 => CountReport::Zone(0, occupancy(self.in_zone)),
            _ => {
                let report = LineReport {
                    in_total: self.in_total,
                    out_total: self.out_total,
                    in_delta: self.in_delta,
                    out_delta: self.out_delta,
                    epoch: Duration::ZERO,
                    window,
                    t,
                };
                (self.in_delta, self.out_delta) = (0, 0);
                CountReport::Line(0, report)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_never_holds_fewer_than_nobody_nor_more_than_it_can_and_the_line_adds_up() {
        let mut people = People::new(7);
        let (mut kinds, mut last_line) = ([0; 3], None);
        for s in 1..=3_000u64 {
            match people.step(Duration::from_secs(s)) {
                CountReport::Occupancy(o) => {
                    kinds[0] += 1;
                    assert!(o.count <= CAPACITY);
                }
                CountReport::Zone(0, z) => {
                    kinds[1] += 1;
                    assert!(z.count <= CAPACITY);
                }
                CountReport::Line(0, l) => {
                    kinds[2] += 1;
                    assert_eq!(l.window, Duration::from_secs(3));
                    if let Some((i, o)) = last_line {
                        assert_eq!((l.in_total, l.out_total), (i + l.in_delta, o + l.out_delta));
                    }
                    assert!(l.in_total >= l.out_total);
                    last_line = Some((l.in_total, l.out_total));
                }
                other => panic!("unexpected report {other:?}"),
            }
        }
        assert_eq!(kinds, [1_000; 3]);
        let (i, _) = last_line.unwrap_or_default();
        assert!(i > 300, "people came in: {i}");
    }
}

//! The building's occupancy from its entrances: Σ in − Σ out over every declared door line of
//! every sensor, since the site's daily reset.
//!
//! A sensor's line totals count from its line `epoch` (its start, or its own daily reset) and only
//! grow within it, so each (entrance, epoch) keeps the largest totals seen: a QoS-1 duplicate, a
//! report delivered twice by a sensor's store-and-forward queue, or a backlog arriving late and
//! out of order changes nothing it should not, and a sensor's restart (a new epoch) adds to
//! what its earlier epochs counted instead of replacing it. Totals reported before the site's
//! counting day began (by their `ts`) are that epoch's baseline, so a day's count starts at 0
//! even when a sensor's epoch spans the reset. Holds numbers only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One epoch of one entrance: its largest totals, and the largest reported before today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochTotals {
    pub before_in: u64,
    pub before_out: u64,
    #[serde(rename = "in")]
    pub ins: u64,
    #[serde(rename = "out")]
    pub outs: u64,
    /// Unix seconds of the newest report of this epoch.
    pub last_ts: i64,
}

/// A line report, as the building needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineReport {
    /// Unix seconds: the report's `ts`, and its `epoch`.
    pub ts: i64,
    pub epoch: i64,
    pub in_total: u64,
    pub out_total: u64,
}

/// The building's state: what each declared entrance counted, per epoch, this counting day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Building {
    /// Index of the site's counting day (days start at the daily reset, local time).
    pub day: i64,
    /// Per entrance (`sensor/line`), per epoch (unix seconds).
    pub entrances: BTreeMap<String, BTreeMap<i64, EpochTotals>>,
    /// Subtracted from Σ in − Σ out: set when every room was seen empty (drift correction).
    pub correction: i64,
    /// Unix seconds of the last drift correction today.
    #[serde(default)]
    pub corrected_at: Option<i64>,
}

/// Epochs not heard of for this long are forgotten.
const FORGET_AFTER_S: i64 = 2 * 86_400;

impl Building {
    pub fn new(day: i64) -> Self {
        Self {
            day,
            ..Self::default()
        }
    }

    /// Folds in one report of entrance `key` (`sensor/line`); `day_start` is the unix second the
    /// current counting day began. Returns whether today's totals changed.
    pub fn observe(&mut self, key: &str, report: LineReport, day_start: i64) -> bool {
        let before = self.totals();
        let epochs = self.entrances.entry(key.to_string()).or_default();
        let new_epoch = !epochs.contains_key(&report.epoch);
        let e = epochs.entry(report.epoch).or_default();
        if report.ts < day_start {
            // Counted before today began: part of this epoch's baseline.
            e.before_in = e.before_in.max(report.in_total);
            e.before_out = e.before_out.max(report.out_total);
        } else if new_epoch && report.epoch < day_start {
            // An epoch that began before today, first heard of today (the aggregator was not
            // running): what it counted before today cannot be told apart, so it counts from
            // here.
            e.before_in = report.in_total;
            e.before_out = report.out_total;
        }
        e.ins = e.ins.max(report.in_total).max(e.before_in);
        e.outs = e.outs.max(report.out_total).max(e.before_out);
        e.last_ts = e.last_ts.max(report.ts);
        self.totals() != before
    }

    /// A new counting day: every epoch's totals so far become its baseline; epochs long silent
    /// are forgotten; the drift correction starts again.
    pub fn start_day(&mut self, day: i64, now: i64) {
        self.day = day;
        self.correction = 0;
        self.corrected_at = None;
        for epochs in self.entrances.values_mut() {
            epochs.retain(|_, e| now - e.last_ts < FORGET_AFTER_S);
            for e in epochs.values_mut() {
                e.before_in = e.ins;
                e.before_out = e.outs;
            }
        }
        self.entrances.retain(|_, epochs| !epochs.is_empty());
    }

    /// Σ in and Σ out over every entrance and epoch since the day began.
    pub fn totals(&self) -> (u64, u64) {
        self.entrances
            .values()
            .flat_map(|epochs| epochs.values())
            .fold((0, 0), |(i, o), e| {
                (
                    i + e.ins.saturating_sub(e.before_in),
                    o + e.outs.saturating_sub(e.before_out),
                )
            })
    }

    /// People inside: Σ in − Σ out − the drift correction, never below 0.
    pub fn count(&self) -> u64 {
        let (i, o) = self.totals();
        let inside = i as i128 - o as i128 - i128::from(self.correction);
        u64::try_from(inside.max(0)).unwrap_or(u64::MAX)
    }

    /// Every room was seen empty: the building is, so the count is set to 0 from here.
    pub fn correct_to_empty(&mut self, now: i64) {
        let (i, o) = self.totals();
        let correction = i64::try_from(i as i128 - o as i128).unwrap_or(0);
        if correction != self.correction {
            self.correction = correction;
            self.corrected_at = Some(now);
        }
    }

    /// Keeps only the declared entrances (a config changed between runs).
    pub fn keep_entrances(&mut self, declared: &[String]) {
        self.entrances.retain(|k, _| declared.contains(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1_000_000;

    fn line(ts: i64, epoch: i64, i: u64, o: u64) -> LineReport {
        LineReport {
            ts,
            epoch,
            in_total: i,
            out_total: o,
        }
    }

    #[test]
    fn in_through_one_door_and_out_through_another_comes_back_to_zero() {
        let mut b = Building::new(0);
        b.observe("a/door", line(DAY + 10, DAY, 3, 0), DAY);
        b.observe("b/door", line(DAY + 20, DAY, 0, 2), DAY);
        assert_eq!((b.totals(), b.count()), ((3, 2), 1));
        b.observe("b/door", line(DAY + 30, DAY, 0, 3), DAY);
        assert_eq!(b.count(), 0);
        b.observe("b/door", line(DAY + 40, DAY, 0, 5), DAY);
        assert_eq!(b.count(), 0, "never below 0");
    }

    #[test]
    fn duplicates_late_backlogs_and_restarts_count_once() {
        let mut b = Building::new(0);
        b.observe("a/door", line(DAY + 10, DAY, 1, 0), DAY);
        b.observe("a/door", line(DAY + 30, DAY, 4, 1), DAY);
        // A redelivery and an older report arriving late.
        assert!(!b.observe("a/door", line(DAY + 30, DAY, 4, 1), DAY));
        assert!(!b.observe("a/door", line(DAY + 20, DAY, 2, 1), DAY));
        assert_eq!(b.totals(), (4, 1));
        // The sensor restarts: a new epoch from 0 adds to the old one.
        b.observe("a/door", line(DAY + 40, DAY + 35, 1, 0), DAY);
        assert_eq!(b.totals(), (5, 1));
        // The old epoch's last reports, held in the sensor's queue, arrive after the new ones.
        b.observe("a/door", line(DAY + 34, DAY, 6, 1), DAY);
        assert_eq!(b.totals(), (7, 1));
    }

    #[test]
    fn a_day_starts_from_zero_even_when_an_epoch_spans_the_reset() {
        let mut b = Building::new(0);
        b.observe("a/door", line(DAY - 100, DAY - 5000, 10, 7), DAY - 86_400);
        b.start_day(1, DAY);
        assert_eq!(b.totals(), (0, 0));
        b.observe("a/door", line(DAY + 50, DAY - 5000, 12, 7), DAY);
        assert_eq!(b.totals(), (2, 0));
        // Yesterday's backlog arriving today stays yesterday's.
        b.observe("a/door", line(DAY - 10, DAY - 5000, 11, 8), DAY);
        assert_eq!(b.totals(), (1, 0));
    }

    #[test]
    fn rooms_seen_empty_correct_the_drift() {
        let mut b = Building::new(0);
        b.observe("a/door", line(DAY + 10, DAY, 5, 2), DAY);
        assert_eq!(b.count(), 3);
        b.correct_to_empty(DAY + 20);
        assert_eq!(b.count(), 0);
        b.observe("a/door", line(DAY + 30, DAY, 6, 2), DAY);
        assert_eq!(b.count(), 1);
        assert_eq!(b.corrected_at, Some(DAY + 20));
    }
}

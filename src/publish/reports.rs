//! Count reports → their payloads: occupancy and zones through the safeguards (k-bands, DP
//! noise and its budget), lines as totals, each stamped with the wall-clock time of its source
//! time (a bin boundary with `privacy.time_resolution_s`), then queued by [`Publisher::send`].

use std::time::{Duration, SystemTime};

use super::{
    rfc3339, Banded, LinePayload, Message, OccupancyPayload, PublishError, Publisher,
    SCHEMA_VERSION,
};
use crate::count::{CountReport, LineReport, OccupancyReport};

impl Publisher {
    /// Publishes one count report on its topic; `reliable`: false when it was made while the
    /// camera's view was blind or frozen (the payload then says `"reliable": false`).
    pub async fn report(&mut self, r: &CountReport, reliable: bool) -> Result<(), PublishError> {
        self.unreliable = !reliable;
        match r {
            CountReport::Occupancy(o) => self.occupancy(o).await,
            CountReport::Zone(i, o) => match self.zones.get(*i).cloned() {
                Some(name) => self.zone(name, o).await,
                None => Ok(()),
            },
            CountReport::Line(i, l) => match self.lines.get(*i).cloned() {
                Some(name) => self.line(name, l).await,
                None => Ok(()),
            },
        }
    }

    /// Publishes one occupancy report through the safeguards (it may be withheld when the
    /// differential-privacy budget is spent).
    pub async fn occupancy(&mut self, r: &OccupancyReport) -> Result<(), PublishError> {
        let Some((payload, dp)) = self.release(r) else {
            return Ok(());
        };
        self.send(&Message::Occupancy(payload)).await?;
        if dp {
            // The remaining budget changed: keep the retained statement current.
            self.send_privacy(self.clock.at(r.t)).await?;
        }
        Ok(())
    }

    /// One zone's occupancy, through the same safeguards as the total.
    async fn zone(&mut self, name: String, r: &OccupancyReport) -> Result<(), PublishError> {
        let Some((payload, dp)) = self.release(r) else {
            return Ok(());
        };
        self.send(&Message::Zone { name, payload }).await?;
        if dp {
            self.send_privacy(self.clock.at(r.t)).await?;
        }
        Ok(())
    }

    /// The wall-clock time of a report made at source time `t`. With `privacy.time_resolution_s`
    /// it is a bin boundary, always: a bin that ends after the wall clock (the last, partial bin
    /// of a file replayed faster than real time) is stamped with the boundary before "now", not
    /// with "now", which would tell when within the bin the report was made.
    fn stamp(&self, t: Duration) -> SystemTime {
        let at = self.clock.at(t);
        let width = u64::from(self.statement.config.time_resolution_s);
        if width == 0 {
            return at;
        }
        let secs = at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        std::time::UNIX_EPOCH + Duration::from_secs(secs - secs % width)
    }

    /// One line's totals (not banded: cumulative totals are released per window or bin).
    async fn line(&mut self, name: String, r: &LineReport) -> Result<(), PublishError> {
        let payload = LinePayload {
            schema: SCHEMA_VERSION,
            seq: self.next_seq(),
            ts: rfc3339(self.stamp(r.t)),
            in_total: r.in_total,
            out_total: r.out_total,
            in_delta: r.in_delta,
            out_delta: r.out_delta,
            epoch: rfc3339(self.clock.at(r.epoch)),
            window_s: (r.window.as_secs_f64() * 1000.0).round() / 1000.0,
            reliable: self.unreliable.then_some(false),
        };
        self.send(&Message::Line { name, payload }).await
    }

    /// An occupancy report as released by the safeguards, and whether it spent DP budget.
    fn release(&mut self, r: &OccupancyReport) -> Option<(OccupancyPayload, bool)> {
        let at = self.stamp(r.t);
        let ts = rfc3339(at);
        let released = self.safeguards.release(r, &ts[..10])?;
        let dp = released.dp_epsilon.is_some();
        let payload = OccupancyPayload {
            schema: SCHEMA_VERSION,
            seq: self.next_seq(),
            ts,
            count: released.count,
            min: released.min,
            max: released.max,
            mean: released.mean.map(|m| match m {
                Banded::Value(v) => Banded::Value((v * 100.0).round() / 100.0),
                band => band,
            }),
            window_s: (r.window.as_secs_f64() * 1000.0).round() / 1000.0,
            dp_epsilon: released.dp_epsilon,
            reliable: self.unreliable.then_some(false),
        };
        Some((payload, dp))
    }
}

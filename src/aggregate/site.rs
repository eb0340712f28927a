//! The site's state, folded from the sensors' messages: the building ([`Building`]), the rooms
//! and sensors ([`Sensors`]), today's history; and the payloads made from it. No I/O here: the
//! service hands messages and the time in, and publishes what comes out.

use serde::{Deserialize, Serialize};

use super::building::{Building, LineReport};
use super::payload::{HealthIn, LineIn, OccupancyIn};
use super::sensors::{Sensors, State};
use crate::config::site::MAX_SITE_SENSORS;
use crate::config::{parse_time_of_day, AggregateConfig};
use crate::publish::Banded;

/// Payload layout version of the site topics.
pub const SITE_SCHEMA: u32 = 1;

/// A message from a sensor of the site, as received.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub sensor: String,
    pub kind: Kind,
    pub payload: Vec<u8>,
    pub retained: bool,
}

/// Which of a sensor's topics a message came on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Availability,
    Occupancy,
    Health,
    Line(String),
}

/// What outlives a restart of the aggregator (the state dir's `site.json`): numbers only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteRecord {
    pub building: Building,
    pub history_building: Vec<Option<u64>>,
    pub history_occupancy: Vec<Option<u64>>,
}

pub struct Site {
    config: AggregateConfig,
    reset_at: i64,
    /// Seconds east of UTC for the daily reset; `None` = the system's local time zone.
    utc_offset: Option<i64>,
    building: Building,
    sensors: Sensors,
    entrance_keys: Vec<String>,
    history_building: Vec<Option<u64>>,
    history_occupancy: Vec<Option<u64>>,
    /// Since when every declared room has reported 0, and whether that period corrected.
    rooms_empty_since: Option<i64>,
    corrected_this_period: bool,
    /// Messages that could not be read (malformed, unknown layout): counted, said once.
    pub unreadable: u64,
}

fn unix(ts: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339(ts).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_secs()).ok()
}

fn rfc3339(unix: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Site {
    /// A site starting at unix second `now`, from what an earlier run kept (`record`).
    pub fn new(
        config: &AggregateConfig,
        utc_offset: Option<i64>,
        now: i64,
        record: Option<SiteRecord>,
    ) -> Self {
        let reset_at = i64::from(parse_time_of_day(&config.site.daily_reset).unwrap_or(0));
        let entrance_keys: Vec<String> = config
            .site
            .entrances
            .iter()
            .map(|e| format!("{}/{}", e.sensor, e.line))
            .collect();
        let declared = config
            .site
            .entrances
            .iter()
            .map(|e| e.sensor.clone())
            .chain(config.site.rooms.iter().map(|r| r.sensor.clone()));
        let bins = (86_400 / config.site.history_bin_s.max(1)) as usize;
        let mut site = Self {
            config: config.clone(),
            reset_at,
            utc_offset,
            building: Building::new(0),
            sensors: Sensors::new(declared, MAX_SITE_SENSORS),
            entrance_keys,
            history_building: vec![None; bins],
            history_occupancy: vec![None; bins],
            rooms_empty_since: None,
            corrected_this_period: false,
            unreadable: 0,
        };
        let today = site.day_of(now);
        site.building = Building::new(today);
        if let Some(r) = record.filter(|r| r.building.day == today) {
            site.building = r.building;
            site.building.keep_entrances(&site.entrance_keys);
            if r.history_building.len() == bins && r.history_occupancy.len() == bins {
                site.history_building = r.history_building;
                site.history_occupancy = r.history_occupancy;
            }
        }
        site
    }

    fn offset_at(&self, unix: i64) -> i64 {
        self.utc_offset
            .unwrap_or_else(|| crate::count::door::local_utc_offset_at(unix))
    }

    fn day_of(&self, unix: i64) -> i64 {
        (unix + self.offset_at(unix) - self.reset_at).div_euclid(86_400)
    }

    /// The unix second the current counting day began.
    pub fn day_start(&self) -> i64 {
        let guess = self.building.day * 86_400 + self.reset_at;
        guess - self.offset_at(guess)
    }

    /// What to keep in the state dir.
    pub fn record(&self) -> SiteRecord {
        SiteRecord {
            building: self.building.clone(),
            history_building: self.history_building.clone(),
            history_occupancy: self.history_occupancy.clone(),
        }
    }

    /// Folds in one message received at unix second `now`; true when a site payload may have
    /// changed.
    pub fn handle(&mut self, m: &Incoming, now: i64) -> bool {
        self.roll_over(now);
        let changed = self.fold(m, now);
        if changed {
            self.record_history(now);
        }
        changed
    }

    fn fold(&mut self, m: &Incoming, now: i64) -> bool {
        // A retained message is as old as its own `ts` says; a live one arrived now.
        let heard_at = |ts: &str| -> i64 {
            match unix(ts) {
                Some(t) if m.retained => t.min(now),
                _ => now,
            }
        };
        match &m.kind {
            Kind::Availability => {
                let online = match m.payload.as_slice() {
                    b"online" => true,
                    b"offline" => false,
                    _ => return self.unreadable(),
                };
                let at = (!m.retained && online).then_some(now);
                self.sensors.availability(&m.sensor, online, at)
            }
            Kind::Health => {
                let Ok(h) = serde_json::from_slice::<HealthIn>(&m.payload) else {
                    return self.unreadable();
                };
                self.sensors.heard(&m.sensor, heard_at(&h.ts));
                false
            }
            Kind::Occupancy => {
                let Ok(o) = serde_json::from_slice::<OccupancyIn>(&m.payload) else {
                    return self.unreadable();
                };
                self.sensors.heard(&m.sensor, heard_at(&o.ts));
                self.sensors.occupancy(&m.sensor, o.seq, o.count)
            }
            Kind::Line(name) => {
                let Ok(l) = serde_json::from_slice::<LineIn>(&m.payload) else {
                    return self.unreadable();
                };
                let (Some(ts), Some(epoch)) = (unix(&l.ts), unix(&l.epoch)) else {
                    return self.unreadable();
                };
                self.sensors.heard(&m.sensor, heard_at(&l.ts));
                let key = format!("{}/{name}", m.sensor);
                if !self.entrance_keys.contains(&key) {
                    return false;
                }
                let report = LineReport {
                    ts,
                    epoch,
                    in_total: l.in_total,
                    out_total: l.out_total,
                };
                let day_start = self.day_start();
                self.building.observe(&key, report, day_start)
            }
        }
    }

    fn unreadable(&mut self) -> bool {
        if self.unreadable == 0 {
            tracing::warn!("a sensor's message could not be read; such messages are ignored");
        }
        self.unreadable += 1;
        false
    }

    /// A new counting day, if `now` is in one.
    fn roll_over(&mut self, now: i64) -> bool {
        let today = self.day_of(now);
        if today <= self.building.day {
            return false;
        }
        self.building.start_day(today, now);
        self.history_building.iter_mut().for_each(|v| *v = None);
        self.history_occupancy.iter_mut().for_each(|v| *v = None);
        self.corrected_this_period = false;
        true
    }

    /// The passing of time at unix second `now`: the daily reset, the drift correction and
    /// today's history. True when the building's count changed.
    pub fn tick(&mut self, now: i64) -> bool {
        let mut changed = self.roll_over(now);
        let rooms = &self.config.site.rooms;
        let wait = i64::from(self.config.site.empty_correction_s);
        let all_empty = !rooms.is_empty()
            && rooms.iter().all(|r| {
                self.sensors
                    .state(&r.sensor, now, self.config.site.stale_after_s)
                    == State::Online
                    && self.sensors.room_count(&r.sensor) == Some(&Banded::Value(0))
            });
        if all_empty && wait > 0 {
            let since = *self.rooms_empty_since.get_or_insert(now);
            if now - since >= wait && !self.corrected_this_period {
                let before = self.building.count();
                self.building.correct_to_empty(now);
                self.corrected_this_period = true;
                changed |= before != self.building.count();
                if before != 0 {
                    tracing::info!(
                        before,
                        "every room empty for {wait} s: building occupancy set to 0"
                    );
                }
            }
        } else {
            self.rooms_empty_since = None;
            self.corrected_this_period = false;
        }
        self.record_history(now);
        changed
    }

    /// The current values into today's history: each bin keeps its highest.
    fn record_history(&mut self, now: i64) {
        let bin =
            usize::try_from((now - self.day_start()) / i64::from(self.config.site.history_bin_s))
                .unwrap_or(0);
        let (building, rooms_sum) = (self.building.count(), self.rooms_sum().0);
        for (history, v) in [
            (&mut self.history_building, building),
            (&mut self.history_occupancy, rooms_sum),
        ] {
            if let Some(slot) = history.get_mut(bin) {
                *slot = Some(slot.map_or(v, |held| held.max(v)));
            }
        }
    }

    /// Σ of the rooms' exact counts, and the rooms whose count was banded.
    fn rooms_sum(&self) -> (u64, Vec<String>) {
        let mut sum = 0;
        let mut banded = Vec::new();
        for r in &self.config.site.rooms {
            match self.sensors.room_count(&r.sensor) {
                Some(Banded::Value(v)) => sum += u64::from(*v),
                Some(Banded::Band(_)) => banded.push(r.sensor.clone()),
                None => {}
            }
        }
        (sum, banded)
    }

    fn state(&self, sensor: &str, now: i64) -> State {
        self.sensors
            .state(sensor, now, self.config.site.stale_after_s)
    }
}

#[path = "site_payloads.rs"]
mod payloads;

#[cfg(test)]
#[path = "site_tests.rs"]
mod tests;

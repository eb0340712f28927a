//! The site's payloads made from its state ([`Site`]'s `building`, `occupancy`, `sensors`,
//! `history`): sums and names only, k-banded as configured.

use std::collections::BTreeMap;

use super::{rfc3339, Site, SITE_SCHEMA};
use crate::aggregate::payload::{
    BuildingPayload, GroupPayload, RoomPayload, SiteHistoryPayload, SiteOccupancyPayload,
    SiteSensorsPayload,
};
use crate::aggregate::sensors::State;
use crate::publish::Banded;

/// k-banding: 1..k-1 become "<k".
fn band(v: u64, k: u32) -> Banded<u64> {
    if k > 1 && v > 0 && v < u64::from(k) {
        Banded::Band(format!("<{k}"))
    } else {
        Banded::Value(v)
    }
}

impl Site {
    /// Sensors of `names` that count (online, and heard), and the rest.
    fn split(
        &self,
        names: &[String],
        now: i64,
        reported: impl Fn(&str) -> bool,
    ) -> (Vec<String>, Vec<String>) {
        let mut included = Vec::new();
        let mut missing = Vec::new();
        for n in names {
            if self.state(n, now) == State::Online && reported(n) {
                included.push(n.clone());
            } else {
                missing.push(n.clone());
            }
        }
        included.dedup();
        missing.dedup();
        (included, missing)
    }

    pub fn building(&self, seq: u64, now: i64) -> BuildingPayload {
        let k = self.config.privacy.min_count;
        let (ins, outs) = self.building.totals();
        let mut names: Vec<String> = self
            .config
            .site
            .entrances
            .iter()
            .map(|e| e.sensor.clone())
            .collect();
        names.sort();
        names.dedup();
        let (sensors, missing) = self.split(&names, now, |n| {
            self.config
                .site
                .entrances
                .iter()
                .filter(|e| e.sensor == n)
                .all(|e| {
                    self.building
                        .entrances
                        .contains_key(&format!("{}/{}", e.sensor, e.line))
                })
        });
        BuildingPayload {
            schema: SITE_SCHEMA,
            seq,
            ts: rfc3339(now),
            count: band(self.building.count(), k),
            in_total: ins,
            out_total: outs,
            day_start: rfc3339(self.day_start()),
            corrected: self.building.corrected_at.map(rfc3339),
            complete: missing.is_empty(),
            sensors,
            missing,
        }
    }

    pub fn occupancy(&self, seq: u64, now: i64) -> SiteOccupancyPayload {
        let k = self.config.privacy.min_count;
        let rooms = &self.config.site.rooms;
        let names: Vec<String> = rooms.iter().map(|r| r.sensor.clone()).collect();
        let (sensors, missing) = self.split(&names, now, |n| self.sensors.room_count(n).is_some());
        let (sum, banded) = self.rooms_sum();
        let mut groups: BTreeMap<&str, (u64, u32, bool)> = BTreeMap::new();
        for r in rooms.iter().filter(|r| !r.group.is_empty()) {
            let g = groups.entry(r.group.as_str()).or_insert((0, 0, true));
            if let Some(Banded::Value(v)) = self.sensors.room_count(&r.sensor) {
                g.0 += u64::from(*v);
            }
            g.1 += r.capacity;
            g.2 &= sensors.contains(&r.sensor);
        }
        SiteOccupancyPayload {
            schema: SITE_SCHEMA,
            seq,
            ts: rfc3339(now),
            count: band(sum, k),
            capacity: rooms.iter().map(|r| r.capacity).sum(),
            groups: groups
                .into_iter()
                .map(|(name, (count, capacity, complete))| GroupPayload {
                    name: name.to_string(),
                    count: band(count, k),
                    capacity,
                    complete,
                })
                .collect(),
            rooms: rooms
                .iter()
                .map(|r| RoomPayload {
                    sensor: r.sensor.clone(),
                    count: self.sensors.room_count(&r.sensor).cloned(),
                    group: r.group.clone(),
                    capacity: r.capacity,
                    state: self.state(&r.sensor, now).as_str().to_string(),
                })
                .collect(),
            banded,
            complete: missing.is_empty(),
            sensors,
            missing,
        }
    }

    pub fn sensors(&self, seq: u64, now: i64) -> SiteSensorsPayload {
        let mut by = [Vec::new(), Vec::new(), Vec::new()];
        for n in self.sensors.names() {
            let i = match self.state(n, now) {
                State::Online => 0,
                State::Stale => 1,
                State::Offline => 2,
            };
            by[i].push(n.clone());
        }
        let [online, stale, offline] = by;
        SiteSensorsPayload {
            schema: SITE_SCHEMA,
            seq,
            ts: rfc3339(now),
            online,
            stale,
            offline,
            stale_after_s: self.config.site.stale_after_s,
        }
    }

    pub fn history(&self, seq: u64, now: i64) -> SiteHistoryPayload {
        let k = self.config.privacy.min_count;
        let upto =
            usize::try_from((now - self.day_start()) / i64::from(self.config.site.history_bin_s))
                .unwrap_or(0)
                + 1;
        let show = |h: &[Option<u64>]| -> Vec<Option<Banded<u64>>> {
            h.iter().take(upto).map(|v| v.map(|v| band(v, k))).collect()
        };
        SiteHistoryPayload {
            schema: SITE_SCHEMA,
            seq,
            ts: rfc3339(now),
            day_start: rfc3339(self.day_start()),
            bin_s: self.config.site.history_bin_s,
            building: show(&self.history_building),
            occupancy: show(&self.history_occupancy),
        }
    }
}

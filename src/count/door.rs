//! Door-only occupancy: people inside = ins − outs over the entrance lines, clamped at 0.
//!
//! For a sensor that watches the door rather than the room. Counting errors accumulate, so the
//! count starts again at 0 at a configurable time of day (local time), and — when the camera also
//! sees the room — is corrected to 0 once the room has been seen empty for a while. With a
//! [`DoorStore`], the count outlives a restart within its counting day. Holds one number; never
//! sees a frame or a box.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::door_store::{DoorRecord, DoorStore};
use crate::wall_clock::WallClock;

/// When and how the door count is corrected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoorConfig {
    /// Seconds after local midnight at which the count resets to 0; `None` = never.
    pub reset_at: Option<u32>,
    /// Set the count to 0 after the tracked room has been empty this long; `None` = never.
    pub empty_correction: Option<Duration>,
    /// Seconds east of UTC of the time zone `reset_at` is in; `None` = the system's local time
    /// zone at each moment, so the reset stays at the same local time across daylight saving
    /// changes.
    pub utc_offset_s: Option<i64>,
}

/// The running in − out count.
#[derive(Debug, Clone)]
pub struct DoorOccupancy {
    config: DoorConfig,
    /// Source time → wall-clock time (the day).
    clock: Arc<WallClock>,
    count: u64,
    day: Option<i64>,
    empty_since: Option<Duration>,
    store: Option<DoorStore>,
}

/// What changed at a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorEvent {
    None,
    /// The daily reset happened: line totals start again too.
    DailyReset,
}

impl DoorOccupancy {
    pub fn new(config: DoorConfig, clock: Arc<WallClock>) -> Self {
        Self {
            config,
            clock,
            count: 0,
            day: None,
            empty_since: None,
            store: None,
        }
    }

    /// Keeps the count in `store` from now on, starting from `saved` (what an earlier run left)
    /// when it belongs to the counting day of source time zero; a record of an earlier day is
    /// one the daily reset has cleared.
    pub fn with_store(mut self, store: DoorStore, saved: Option<DoorRecord>) -> Self {
        let today = self.day_of(Duration::ZERO);
        if let Some(saved) = saved.filter(|r| r.day == today) {
            self.count = saved.count;
            tracing::info!(
                count = saved.count,
                "door count restored from the state dir"
            );
        }
        self.day = today;
        self.store = Some(store);
        self.save();
        self
    }

    fn save(&mut self) {
        let record = DoorRecord {
            count: self.count,
            day: self.day,
        };
        if let Some(store) = &mut self.store {
            store.save(&record);
        }
    }

    /// Crossings settled after the last frame (end of stream, shutdown).
    pub fn settle(&mut self, ins: u64, outs: u64) {
        let before = self.count;
        self.add(ins, outs);
        if self.count != before {
            self.save();
        }
    }

    fn add(&mut self, ins: u64, outs: u64) {
        self.count = (self.count + ins).saturating_sub(outs);
    }

    pub fn count(&self) -> u32 {
        u32::try_from(self.count).unwrap_or(u32::MAX)
    }

    /// Index of the "counting day" holding source time `t`: days start at `reset_at` local time.
    fn day_of(&self, t: Duration) -> Option<i64> {
        let reset = i64::from(self.config.reset_at?);
        let unix = self
            .clock
            .at(t)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let offset = self
            .config
            .utc_offset_s
            .unwrap_or_else(|| local_utc_offset_at(unix));
        Some((unix + offset - reset).div_euclid(86_400))
    }

    /// Folds in a frame's crossings (summed over all lines) and how many people the tracker
    /// sees, at source time `t`.
    pub fn observe(&mut self, ins: u64, outs: u64, seen: u32, t: Duration) -> DoorEvent {
        let before = (self.count, self.day);
        let mut event = DoorEvent::None;
        if let Some(day) = self.day_of(t) {
            if self.day.is_some_and(|d| d != day) {
                self.count = 0;
                event = DoorEvent::DailyReset;
            }
            self.day = Some(day);
        }
        self.add(ins, outs);
        if let Some(after) = self.config.empty_correction {
            if seen == 0 && ins == 0 {
                let since = *self.empty_since.get_or_insert(t);
                if t.saturating_sub(since) >= after {
                    self.count = 0;
                }
            } else {
                self.empty_since = None;
            }
        }
        if (self.count, self.day) != before {
            self.save();
        }
        event
    }
}

/// Seconds east of UTC of the local time zone at `unix` seconds (0 when unknown). The time zone
/// is read once per process; later calls do not allocate.
pub fn local_utc_offset_at(unix: i64) -> i64 {
    let at = unix as libc::time_t;
    // SAFETY: localtime_r writes only into `tm`, which lives on this stack frame.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&at, &mut tm).is_null() {
            0
        } else {
            tm.tm_gmtoff
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn ins_minus_outs_clamped_at_zero() {
        let mut d = DoorOccupancy::new(
            DoorConfig {
                reset_at: None,
                empty_correction: None,
                utc_offset_s: Some(0),
            },
            Arc::new(WallClock::fixed(UNIX_EPOCH)),
        );
        d.observe(2, 0, 2, s(1));
        d.observe(0, 1, 1, s(2));
        assert_eq!(d.count(), 1);
        d.observe(0, 3, 0, s(3));
        assert_eq!(d.count(), 0, "more outs than ins never goes negative");
        d.observe(1, 0, 1, s(4));
        assert_eq!(d.count(), 1);
    }

    #[test]
    fn resets_daily_at_the_local_time_configured() {
        // Reset at 03:00 local, in UTC+1: 02:00 UTC. Start at 01:00 UTC on day 0.
        let mut d = DoorOccupancy::new(
            DoorConfig {
                reset_at: Some(3 * 3600),
                empty_correction: None,
                utc_offset_s: Some(3600),
            },
            Arc::new(WallClock::fixed(UNIX_EPOCH + s(3600))),
        );
        assert_eq!(d.observe(3, 0, 3, s(0)), DoorEvent::None);
        assert_eq!(d.observe(0, 0, 3, s(3599)), DoorEvent::None);
        assert_eq!(d.count(), 3);
        assert_eq!(d.observe(0, 0, 3, s(3600)), DoorEvent::DailyReset);
        assert_eq!(d.count(), 0);
    }

    #[test]
    fn a_room_seen_empty_long_enough_corrects_drift() {
        let mut d = DoorOccupancy::new(
            DoorConfig {
                reset_at: None,
                empty_correction: Some(s(60)),
                utc_offset_s: Some(0),
            },
            Arc::new(WallClock::fixed(UNIX_EPOCH)),
        );
        d.observe(2, 1, 0, s(0)); // one out was missed: the count drifts to 1
        d.observe(0, 0, 0, s(30));
        assert_eq!(d.count(), 1);
        d.observe(0, 0, 1, s(40)); // someone seen: the empty period starts again
        d.observe(0, 0, 0, s(50));
        d.observe(0, 0, 0, s(100));
        assert_eq!(d.count(), 1);
        d.observe(0, 0, 0, s(110));
        assert_eq!(d.count(), 0);
    }

    fn daily(epoch_s: u64) -> DoorOccupancy {
        // Reset at 03:00 UTC.
        DoorOccupancy::new(
            DoorConfig {
                reset_at: Some(3 * 3600),
                empty_correction: None,
                utc_offset_s: Some(0),
            },
            Arc::new(WallClock::fixed(UNIX_EPOCH + s(epoch_s))),
        )
    }

    fn saved(dir: &std::path::Path) -> Option<DoorRecord> {
        DoorStore::open(dir).unwrap().1
    }

    #[test]
    fn the_count_outlives_a_restart_on_the_same_counting_day() {
        let dir = tempfile::tempdir().unwrap();
        let open = |epoch_s| {
            let (store, record) = DoorStore::open(dir.path()).unwrap();
            daily(epoch_s).with_store(store, record)
        };
        // Day 0 runs from 03:00 to 03:00 the next morning.
        let mut d = open(4 * 3600);
        d.observe(3, 0, 3, s(10));
        d.observe(0, 1, 2, s(20));
        assert_eq!(saved(dir.path()).map(|r| r.count), Some(2));
        drop(d);
        // Restarted at 23:00, the same counting day: two people are still inside.
        let mut d = open(23 * 3600);
        assert_eq!(d.count(), 2);
        d.settle(0, 1); // a crossing settled at shutdown still counts, and is kept
        assert_eq!(d.count(), 1);
        assert_eq!(saved(dir.path()).map(|r| r.count), Some(1));
        drop(d);
        // Restarted at 04:00 the next day: the daily reset has passed, the count starts at 0.
        let d = open(28 * 3600);
        assert_eq!(d.count(), 0);
        assert_eq!(
            saved(dir.path()),
            Some(DoorRecord {
                count: 0,
                day: Some(1)
            })
        );
    }

    #[test]
    fn the_daily_reset_while_running_is_kept_too() {
        let dir = tempfile::tempdir().unwrap();
        let (store, record) = DoorStore::open(dir.path()).unwrap();
        let mut d = daily(2 * 3600).with_store(store, record);
        d.observe(2, 0, 2, s(0));
        assert_eq!(
            saved(dir.path()).map(|r| (r.count, r.day)),
            Some((2, Some(-1)))
        );
        assert_eq!(d.observe(0, 0, 2, s(3600)), DoorEvent::DailyReset);
        assert_eq!(
            saved(dir.path()).map(|r| (r.count, r.day)),
            Some((0, Some(0)))
        );
    }

    #[test]
    fn the_counting_day_follows_a_step_of_the_system_clock() {
        // Switched off overnight with 4 people inside at 20:00 on day 1 (reset at 03:00 UTC);
        // switched on at 08:00 on day 2 by a board without a real-time clock, which starts with
        // its shutdown time. The record looks like today's, so the 4 are restored.
        let dir = tempfile::tempdir().unwrap();
        let (store, record) = DoorStore::open(dir.path()).unwrap();
        let mut before = daily(86_400 + 20 * 3600).with_store(store, record);
        before.observe(4, 0, 4, s(0));
        drop(before);
        let clock = Arc::new(WallClock::live(UNIX_EPOCH + s(86_400 + 20 * 3600 + 60)));
        let (store, record) = DoorStore::open(dir.path()).unwrap();
        let mut d = DoorOccupancy::new(
            DoorConfig {
                reset_at: Some(3 * 3600),
                empty_correction: None,
                utc_offset_s: Some(0),
            },
            Arc::clone(&clock),
        )
        .with_store(store, record);
        assert_eq!(d.count(), 4);
        assert_eq!(d.observe(0, 0, 4, s(30)), DoorEvent::None);
        // A minute later NTP sets the right time: the night's reset has passed.
        clock.follow_to(s(60), UNIX_EPOCH + s(2 * 86_400 + 8 * 3600));
        assert_eq!(d.observe(0, 0, 0, s(60)), DoorEvent::DailyReset);
        assert_eq!(d.count(), 0);
        assert_eq!(
            saved(dir.path()).map(|r| (r.count, r.day)),
            Some((0, Some(2)))
        );
    }
}

//! Source time → wall-clock time, for `ts`, the daily reset and the ε budget's day.
//!
//! Frames carry their source time: the position in a file, or for a live source the time since
//! it started (monotonic). The wall-clock time of source time zero is taken when the service
//! starts. A board without a real-time clock (a Raspberry Pi, the Coral Dev Board) may start
//! with the time of its last shutdown and have it stepped by NTP minutes later; without more,
//! every timestamp of that run would stay off by the step until the next restart. So a live
//! source's clock follows the system clock: when the two disagree by more than [`STEP`], the
//! anchor moves to the system clock (logged once per step). A file replayed as fast as possible
//! keeps its anchor: its source time runs faster than the wall clock by design.
//!
//! Holds one number, the anchor; never anything about a frame.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far the system clock must move from the live source's clock to be followed. Larger than
/// the service's start-up time plus the pipeline's latency (both make the source clock run
/// behind the system clock), smaller than the steps of a first NTP sync.
pub const STEP: Duration = Duration::from_secs(30);

/// The wall-clock time of source time zero, shared by the counting stage and the publisher.
#[derive(Debug)]
pub struct WallClock {
    /// Nanoseconds since the Unix epoch.
    anchor_ns: AtomicI64,
    follows_system: bool,
}

fn to_ns(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

fn from_ns(ns: i64) -> SystemTime {
    if ns >= 0 {
        UNIX_EPOCH + Duration::from_nanos(ns.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_nanos(ns.unsigned_abs())
    }
}

fn duration_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

impl WallClock {
    /// A clock whose source time zero is `epoch`, for good (a file read as fast as possible).
    pub fn fixed(epoch: SystemTime) -> Self {
        Self {
            anchor_ns: AtomicI64::new(to_ns(epoch)),
            follows_system: false,
        }
    }

    /// A live source's clock: starts at `epoch`, follows steps of the system clock.
    pub fn live(epoch: SystemTime) -> Self {
        Self {
            follows_system: true,
            ..Self::fixed(epoch)
        }
    }

    /// The wall-clock time of source time `t`. A file's clock never runs ahead of the system
    /// clock (a clip whose length the container misstates is stamped "now" past its end).
    pub fn at(&self, t: Duration) -> SystemTime {
        let at = from_ns(
            self.anchor_ns
                .load(Ordering::Relaxed)
                .saturating_add(duration_ns(t)),
        );
        if self.follows_system {
            at
        } else {
            at.min(SystemTime::now())
        }
    }

    /// Called with the newest frame's source time: a live clock that has drifted from the system
    /// clock by more than [`STEP`] is moved onto it.
    pub fn follow(&self, t: Duration) {
        if self.follows_system {
            self.follow_to(t, SystemTime::now());
        }
    }

    /// [`Self::follow`] against a given system time; the step taken, in seconds, if any.
    pub(crate) fn follow_to(&self, t: Duration, now: SystemTime) -> Option<i64> {
        let step_ns = to_ns(now).saturating_sub(to_ns(self.at(t)));
        if step_ns.unsigned_abs() <= STEP.as_nanos() as u64 {
            return None;
        }
        self.anchor_ns
            .store(to_ns(now).saturating_sub(duration_ns(t)), Ordering::Relaxed);
        let step_s = step_ns / 1_000_000_000;
        tracing::warn!(
            step_s,
            "the system clock moved against the source's (NTP's first sync?); timestamps follow the system clock from now on"
        );
        Some(step_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn a_live_clock_follows_a_step_of_the_system_clock_and_ignores_latency() {
        // Booted with last week's time; NTP sets the right one an hour into the run.
        let boot = UNIX_EPOCH + s(1_700_000_000);
        let clock = WallClock::live(boot);
        assert_eq!(clock.at(s(10)), boot + s(10));
        // The source clock runs a little behind (start-up, inference): not a step.
        assert_eq!(clock.follow_to(s(3600), boot + s(3600) + s(20)), None);
        assert_eq!(clock.at(s(3600)), boot + s(3600));
        // A week forward.
        let right = boot + s(3601) + s(7 * 86_400);
        assert_eq!(clock.follow_to(s(3601), right), Some(7 * 86_400));
        assert_eq!(clock.at(s(3601)), right);
        assert_eq!(clock.at(s(3700)), right + s(99));
        // And back by two minutes.
        let back = right + s(100) - s(120);
        assert_eq!(clock.follow_to(s(3701), back), Some(-120));
        assert_eq!(clock.at(s(3701)), back);
    }

    #[test]
    fn a_fixed_clock_never_moves() {
        let start = UNIX_EPOCH + s(1_700_000_000);
        let clock = WallClock::fixed(start);
        // A fast replay: an hour of video in a minute.
        clock.follow(s(3600));
        assert_eq!(clock.at(s(3600)), start + s(3600));
    }

    #[test]
    fn times_before_1970_do_not_wrap() {
        let clock = WallClock::live(UNIX_EPOCH - s(5));
        assert_eq!(clock.at(s(2)), UNIX_EPOCH - s(3));
        assert_eq!(clock.at(s(7)), UNIX_EPOCH + s(2));
    }
}

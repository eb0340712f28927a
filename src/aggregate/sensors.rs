//! What the aggregator knows of each sensor of the site: its availability, when it was last
//! heard from, and (for rooms) its newest occupancy by `seq`. Names and numbers only.

use std::collections::BTreeMap;

use crate::publish::Banded;

/// A sensor's state as the site reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Online,
    /// `online`, but nothing heard for longer than `site.stale_after_s`.
    Stale,
    /// `offline` (said so, or its Last Will), or never heard of.
    Offline,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Online => "online",
            State::Stale => "stale",
            State::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Seen {
    online: Option<bool>,
    /// Unix seconds it was last heard from.
    last: Option<i64>,
    /// Newest occupancy: (seq, count).
    occupancy: Option<(u64, Banded<u32>)>,
}

/// Every sensor heard of (bounded), by name.
#[derive(Debug, Default)]
pub struct Sensors {
    seen: BTreeMap<String, Seen>,
    limit: usize,
    /// Names refused because the limit was reached (said once in the log).
    refused: bool,
}

impl Sensors {
    /// Tracks the `declared` sensors and up to `limit` sensors in all.
    pub fn new(declared: impl IntoIterator<Item = String>, limit: usize) -> Self {
        let seen = declared.into_iter().map(|n| (n, Seen::default())).collect();
        Self {
            seen,
            limit,
            refused: false,
        }
    }

    fn entry(&mut self, name: &str) -> Option<&mut Seen> {
        if !self.seen.contains_key(name) {
            if self.seen.len() >= self.limit {
                if !std::mem::replace(&mut self.refused, true) {
                    tracing::warn!(
                        limit = self.limit,
                        "more sensors on the site than the aggregator tracks; the rest are ignored"
                    );
                }
                return None;
            }
            self.seen.insert(name.to_string(), Seen::default());
        }
        self.seen.get_mut(name)
    }

    /// `online` / `offline` from the sensor's availability topic.
    pub fn availability(&mut self, name: &str, online: bool, at: Option<i64>) -> bool {
        let Some(s) = self.entry(name) else {
            return false;
        };
        let changed = s.online != Some(online);
        s.online = Some(online);
        if let Some(at) = at {
            s.last = Some(s.last.map_or(at, |l| l.max(at)));
        }
        changed
    }

    /// The sensor published something at unix second `at`.
    pub fn heard(&mut self, name: &str, at: i64) {
        if let Some(s) = self.entry(name) {
            s.last = Some(s.last.map_or(at, |l| l.max(at)));
        }
    }

    /// A room's occupancy report; an older one (by `seq`) than the newest held is ignored.
    pub fn occupancy(&mut self, name: &str, seq: u64, count: Banded<u32>) -> bool {
        let Some(s) = self.entry(name) else {
            return false;
        };
        match &s.occupancy {
            Some((held, _)) if *held >= seq => false,
            _ => {
                let changed = s.occupancy.as_ref().map(|(_, c)| c) != Some(&count);
                s.occupancy = Some((seq, count));
                changed
            }
        }
    }

    pub fn room_count(&self, name: &str) -> Option<&Banded<u32>> {
        self.seen.get(name)?.occupancy.as_ref().map(|(_, c)| c)
    }

    /// A sensor's state at unix second `now`.
    pub fn state(&self, name: &str, now: i64, stale_after_s: u32) -> State {
        match self.seen.get(name) {
            Some(Seen {
                online: Some(true),
                last,
                ..
            }) => match last {
                Some(l) if now - l <= i64::from(stale_after_s) => State::Online,
                _ => State::Stale,
            },
            _ => State::Offline,
        }
    }

    /// Every sensor's name, in order.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.seen.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_availability_and_silence() {
        let mut s = Sensors::new(["a".to_string()], 3);
        assert_eq!(s.state("a", 0, 60), State::Offline, "never heard of");
        s.availability("a", true, Some(100));
        assert_eq!(s.state("a", 150, 60), State::Online);
        assert_eq!(s.state("a", 161, 60), State::Stale);
        s.heard("a", 160);
        assert_eq!(s.state("a", 200, 60), State::Online);
        s.availability("a", false, None);
        assert_eq!(s.state("a", 200, 60), State::Offline);
        s.heard("b", 1);
        s.heard("c", 1);
        s.heard("d", 1);
        assert_eq!(s.names().count(), 3, "bounded");
    }

    #[test]
    fn a_late_occupancy_report_does_not_replace_a_newer_one() {
        let mut s = Sensors::new(["r".to_string()], 10);
        assert!(s.occupancy("r", 5, Banded::Value(2)));
        assert!(!s.occupancy("r", 4, Banded::Value(7)));
        assert!(!s.occupancy("r", 5, Banded::Value(2)));
        assert_eq!(s.room_count("r"), Some(&Banded::Value(2)));
    }
}

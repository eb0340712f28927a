//! Store-and-forward: every aggregate report waits here until the broker has acknowledged it.
//!
//! A bounded FIFO of ready-to-send messages (topic + JSON payload, with their original `seq` and
//! `ts` inside), mirrored in `<state.dir>/outbox.jsonl` so a broker outage, a crash or a reboot
//! loses nothing: entries are appended as they are made and the file is rewritten (temp file +
//! rename) when acknowledged entries leave. Without a state dir it lives in memory only. Bounded
//! by count and age: the oldest entries are dropped first and counted. When the file cannot be
//! written (a full or failing SD card), the queue carries on in memory, so counts keep reaching a
//! connected broker; the problem is logged once and shown in `health` until a later write
//! succeeds, which saves the whole queue again. A plain JSON-lines file
//! (no embedded database): the queue is small, written in order and read once at start, and the
//! format can be inspected by hand. Holds aggregates only, never anything per person.

mod file;
mod reserve;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use file::Damaged;
pub use reserve::RESERVE_BYTES;
use reserve::{is_full, Reserve};

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub topic: String,
    pub payload: String,
    /// Unix seconds when it was queued (for the age bound).
    pub queued: u64,
}

/// The bounded, persisted queue.
#[derive(Debug)]
pub struct Outbox {
    file: Option<PathBuf>,
    entries: VecDeque<Entry>,
    max_entries: usize,
    max_age: Duration,
    dropped: u64,
    /// Why the file is behind the queue in memory (a write failed); `None` when it mirrors it.
    unsaved: Option<String>,
    /// Lines of the file found unreadable at start and set aside.
    damaged: u64,
    /// Space held for the queue on a card something else fills (see [`RESERVE_BYTES`]).
    reserve: Reserve,
}

#[derive(Debug, thiserror::Error)]
#[error("store-and-forward queue {path}: {cause}")]
pub struct OutboxError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

pub const FILE_NAME: &str = "outbox.jsonl";

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Outbox {
    /// Opens the queue in `state_dir` (loading what an earlier run left), or in memory.
    pub fn open(
        state_dir: Option<&Path>,
        max_entries: usize,
        max_age: Duration,
    ) -> Result<Self, OutboxError> {
        let file = state_dir.map(|d| d.join(FILE_NAME));
        let mut entries = VecDeque::new();
        let mut set_aside = Damaged::default();
        if let Some(path) = &file {
            // Not a device or a pipe that would be read forever: only a file (or nothing yet).
            if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
                return Err(OutboxError {
                    path: path.clone(),
                    cause: std::io::Error::other("not a regular file; remove it"),
                });
            }
            match file::read(path) {
                Ok(Some((good, damaged))) => {
                    entries.extend(good);
                    set_aside = damaged;
                }
                Ok(None) => {}
                Err(cause) => {
                    return Err(OutboxError {
                        path: path.clone(),
                        cause,
                    })
                }
            }
        }
        let mut outbox = Self {
            file,
            entries,
            max_entries: max_entries.max(1),
            max_age,
            dropped: 0,
            unsaved: None,
            damaged: set_aside.lines,
            reserve: Reserve::default(),
        };
        let damaged = !set_aside.bytes.is_empty();
        if damaged {
            outbox.set_aside(&set_aside);
        }
        if outbox.enforce_bounds() || damaged {
            outbox.save_all();
        }
        outbox.make_reserve(true);
        if !outbox.entries.is_empty() {
            tracing::info!(
                queued = outbox.entries.len(),
                "reports queued by an earlier run will be published first"
            );
        }
        Ok(outbox)
    }

    /// A queue in memory only (no state dir).
    pub fn in_memory(max_entries: usize, max_age: Duration) -> Self {
        Self {
            file: None,
            entries: VecDeque::new(),
            max_entries: max_entries.max(1),
            max_age,
            dropped: 0,
            unsaved: None,
            damaged: 0,
            reserve: Reserve::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries dropped by the bounds since start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Lines of the queue file found unreadable at start (set aside, see [`Outbox::open`]).
    pub fn damaged(&self) -> u64 {
        self.damaged
    }

    pub fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i)
    }

    /// Whether entry `i` is the newest queued on its topic. Only those are published retained:
    /// an older one sent retained in the middle of a backlog would stand, for whoever subscribes
    /// then, as the topic's current state.
    pub fn is_newest_on_topic(&self, i: usize) -> bool {
        self.entries.get(i).is_some_and(|e| {
            self.entries
                .iter()
                .skip(i + 1)
                .all(|later| later.topic != e.topic)
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Why the file is not keeping up with the queue (one line), while it is not.
    pub fn unsaved(&self) -> Option<&str> {
        self.unsaved.as_deref()
    }

    /// Queues a message (persisted before this returns, when the file can be written); drops
    /// the oldest beyond the bounds. Returns how many entries were dropped from the front.
    pub fn push(&mut self, topic: String, payload: String) -> usize {
        let entry = Entry {
            topic,
            payload,
            queued: now_unix(),
        };
        let line = serde_json::to_string(&entry).unwrap_or_default();
        self.entries.push_back(entry);
        let before = self.dropped;
        if self.enforce_bounds() || self.unsaved.is_some() {
            self.save_all();
        } else if let Some(path) = &self.file {
            match file::append(path, &line) {
                // A line may have been cut short: the whole queue is written anew.
                Err(_) => self.save_all(),
                ok => self.saved(ok),
            }
        }
        (self.dropped - before) as usize
    }

    /// Tries once more to write a queue its file is behind; `Err(why)` when it still cannot.
    pub fn save_now(&mut self) -> Result<(), String> {
        if self.unsaved.is_some() {
            self.save_all();
        }
        self.unsaved.clone().map_or(Ok(()), Err)
    }

    /// Removes the `n` oldest entries (acknowledged by the broker).
    pub fn remove_front(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        for _ in 0..n.min(self.entries.len()) {
            self.entries.pop_front();
        }
        self.save_all();
    }

    /// Drops entries beyond the count or older than the age bound; true if any went.
    fn enforce_bounds(&mut self) -> bool {
        let oldest_allowed = now_unix().saturating_sub(self.max_age.as_secs());
        let mut changed = false;
        while self.entries.len() > self.max_entries
            || self
                .entries
                .front()
                .is_some_and(|e| e.queued < oldest_allowed)
        {
            self.entries.pop_front();
            self.dropped += 1;
            changed = true;
        }
        if changed {
            tracing::warn!(
                dropped = self.dropped,
                "store-and-forward queue full or too old: oldest reports dropped"
            );
        }
        changed
    }

    /// Writes the queue as it is now: to a temporary file, then renamed over the old one (the
    /// last good copy stays whole until the new one is written and synced). On a full card the
    /// reserve is given back and the write tried once more.
    fn save_all(&mut self) {
        let mut result = self.write_all();
        if is_full(&result) && self.reserve.release() {
            result = self.write_all();
        }
        self.saved(result);
    }

    fn write_all(&self) -> std::io::Result<()> {
        match &self.file {
            Some(path) => file::write(path, &self.entries),
            None => Ok(()),
        }
    }

    /// Moves the unreadable lines of the queue file aside (see [`file::set_aside`]).
    fn set_aside(&self, damaged: &Damaged) {
        if let Some(path) = &self.file {
            file::set_aside(path, damaged, self.entries.len());
        }
    }

    /// Holds space in reserve beside the queue file (see [`RESERVE_BYTES`]).
    fn make_reserve(&mut self, loud: bool) {
        if let Some(path) = &self.file {
            self.reserve.make(path, loud);
        }
    }

    /// Notes whether the file now mirrors the queue; says so when that changes.
    fn saved(&mut self, result: std::io::Result<()>) {
        // A reserve given back (or never made) is made again once the card has room, tried at
        // most once a minute.
        if result.is_ok() && self.reserve.due() {
            self.make_reserve(false);
        }
        match (result, self.unsaved.is_some()) {
            (Ok(()), false) => {}
            (Ok(()), true) => {
                self.unsaved = None;
                tracing::info!("store-and-forward queue saved again");
            }
            (Err(cause), was_unsaved) => {
                let error = OutboxError {
                    path: self.file.clone().unwrap_or_default(),
                    cause,
                };
                if !was_unsaved {
                    tracing::warn!(
                        error = %error,
                        "store-and-forward queue kept in memory only until its file can be written"
                    );
                }
                self.unsaved = Some(error.to_string());
            }
        }
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;

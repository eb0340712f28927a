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

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

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
        if let Some(path) = &file {
            // Not a device or a pipe that would be read forever: only a file (or nothing yet).
            if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
                return Err(OutboxError {
                    path: path.clone(),
                    cause: std::io::Error::other("not a regular file; remove it"),
                });
            }
            match std::fs::read_to_string(path) {
                Ok(text) => {
                    // A line cut short by a crash in the middle of a write is skipped.
                    entries.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
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
        };
        if outbox.enforce_bounds() {
            outbox.save_all();
        }
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
            let append = || -> std::io::Result<()> {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                writeln!(f, "{line}")?;
                f.sync_data()
            };
            let result = append();
            self.saved(result);
        }
        (self.dropped - before) as usize
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

    /// Writes the queue as it is now: to a temporary file, then renamed over the old one.
    fn save_all(&mut self) {
        let Some(path) = &self.file else {
            return;
        };
        let tmp = path.with_extension("jsonl.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            for e in &self.entries {
                writeln!(f, "{}", serde_json::to_string(e).unwrap_or_default())?;
            }
            f.sync_data()?;
            std::fs::rename(&tmp, path)
        };
        let result = write();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        self.saved(result);
    }

    /// Notes whether the file now mirrors the queue; says so when that changes.
    fn saved(&mut self, result: std::io::Result<()>) {
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
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_restart_in_order_and_leave_when_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86_400);
        let mut q = Outbox::open(Some(dir.path()), 100, day).unwrap();
        for i in 0..5 {
            q.push(format!("t/{i}"), format!("{{\"seq\":{i}}}"));
        }
        q.remove_front(2);
        drop(q);
        // A torn last line (crash mid-write) is ignored.
        let path = dir.path().join(FILE_NAME);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"topic\":\"t/x\",\"pay");
        std::fs::write(&path, text).unwrap();
        let q = Outbox::open(Some(dir.path()), 100, day).unwrap();
        let topics: Vec<&str> = (0..q.len())
            .map(|i| q.get(i).unwrap().topic.as_str())
            .collect();
        assert_eq!(topics, vec!["t/2", "t/3", "t/4"]);
    }

    #[test]
    fn a_queue_file_that_is_not_a_file_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(FILE_NAME)).unwrap();
        let err = Outbox::open(Some(dir.path()), 100, Duration::from_secs(60)).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn only_the_newest_entry_of_a_topic_is_published_retained() {
        let mut q = Outbox::in_memory(100, Duration::from_secs(3600));
        for topic in ["s/occupancy", "s/line/door", "s/occupancy", "s/occupancy"] {
            q.push(topic.into(), "{}".into());
        }
        let newest: Vec<bool> = (0..5).map(|i| q.is_newest_on_topic(i)).collect();
        assert_eq!(newest, [false, true, false, true, false]);
    }

    #[test]
    fn bounded_by_count_dropping_the_oldest() {
        let mut q = Outbox::open(None, 3, Duration::from_secs(3600)).unwrap();
        for i in 0..5 {
            q.push(format!("t/{i}"), "{}".into());
        }
        assert_eq!((q.len(), q.dropped()), (3, 2));
        assert_eq!(q.get(0).unwrap().topic, "t/2");
    }

    #[test]
    fn bounded_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let old = Entry {
            topic: "t/old".into(),
            payload: "{}".into(),
            queued: 1,
        };
        std::fs::write(
            dir.path().join(FILE_NAME),
            format!("{}\n", serde_json::to_string(&old).unwrap()),
        )
        .unwrap();
        let q = Outbox::open(Some(dir.path()), 100, Duration::from_secs(3600)).unwrap();
        assert_eq!((q.len(), q.dropped()), (0, 1));
    }

    #[test]
    fn a_file_that_cannot_be_written_leaves_the_queue_in_memory_until_it_can() {
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86_400);
        let mut q = Outbox::open(Some(dir.path()), 100, day).unwrap();
        q.push("t/0".into(), "{}".into());
        // The card is full: appending to the file fails with ENOSPC.
        let path = dir.path().join(FILE_NAME);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/full", &path).unwrap();
        q.push("t/1".into(), "{}".into());
        assert_eq!(q.len(), 2, "nothing is lost from the queue");
        let why = q.unsaved().unwrap_or_default().to_string();
        assert!(
            why.contains("outbox.jsonl") && why.contains("No space left"),
            "{why}"
        );
        // The next change saves the whole queue through a new file, renamed over the old one
        // (here over the link: as if space had been freed).
        q.push("t/2".into(), "{}".into());
        assert_eq!(q.unsaved(), None);
        drop(q);
        let q = Outbox::open(Some(dir.path()), 100, day).unwrap();
        let topics: Vec<&str> = (0..q.len())
            .map(|i| q.get(i).unwrap().topic.as_str())
            .collect();
        assert_eq!(topics, vec!["t/0", "t/1", "t/2"]);
    }
}

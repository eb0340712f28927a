//! The door count's record in the state dir, so that a restart (an update, a power cut) does
//! not forget the people who are inside.
//!
//! Holds two numbers: the in − out count and the counting day it belongs to. It must never write
//! anything else — no crossing time, no track, nothing from a frame. Written through
//! [`crate::state_file`] (a temporary file renamed over the record) on each change.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name of the record inside the state dir.
pub const DOOR_FILE: &str = "door-count.json";

/// What is kept across a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorRecord {
    /// People inside (ins − outs, clamped at 0).
    pub count: u64,
    /// The counting day the count belongs to (days start at `counting.daily_reset`); `None`
    /// when no daily reset is configured.
    pub day: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read the door count record {}: {cause} (fix or delete the file; deleted, the count \
     starts from 0)",
    path.display()
)]
pub struct DoorStoreError {
    pub path: PathBuf,
    pub cause: String,
}

/// Where the record lives.
#[derive(Debug, Clone)]
pub struct DoorStore {
    path: PathBuf,
    /// The last save failed (logged once until one works again).
    unsaved: bool,
}

impl DoorStore {
    /// The store in `dir`, with the record an earlier run left (`None` when there is none).
    pub fn open(dir: &Path) -> Result<(Self, Option<DoorRecord>), DoorStoreError> {
        let path = dir.join(DOOR_FILE);
        match crate::state_file::read(&path) {
            Ok(record) => Ok((
                Self {
                    path,
                    unsaved: false,
                },
                record,
            )),
            Err(e) => Err(DoorStoreError {
                path,
                cause: e.to_string(),
            }),
        }
    }

    /// Replaces the record. A failure is logged (once, until a save works again), not fatal:
    /// counting goes on in memory.
    pub fn save(&mut self, record: &DoorRecord) {
        crate::state_file::save(&self.path, record, &mut self.unsaved, "door count");
    }

    /// Whether the last save failed.
    pub fn unsaved(&self) -> bool {
        self.unsaved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_record_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, none) = DoorStore::open(dir.path()).unwrap();
        assert_eq!(none, None, "no file yet: nothing to restore");
        let record = DoorRecord {
            count: 4,
            day: Some(20_000),
        };
        store.save(&record);
        let (_, back) = DoorStore::open(dir.path()).unwrap();
        assert_eq!(back, Some(record));
        let text = std::fs::read_to_string(dir.path().join(DOOR_FILE)).unwrap();
        assert_eq!(
            text, r#"{"count":4,"day":20000}"#,
            "two numbers and nothing else"
        );
    }

    #[test]
    fn a_corrupt_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DOOR_FILE), "{\"count\": -").unwrap();
        let e = DoorStore::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains(DOOR_FILE) && e.contains("delete"), "{e}");
    }

    #[test]
    fn a_record_that_cannot_be_saved_is_said_once_and_saved_when_it_can_be() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, _) = DoorStore::open(dir.path()).unwrap();
        // A directory in the record's place: every replacement fails, even for root.
        let path = dir.path().join(DOOR_FILE);
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("blocker"), "").unwrap();
        let record = |count| DoorRecord { count, day: None };
        store.save(&record(1));
        assert!(store.unsaved());
        store.save(&record(2));
        assert!(store.unsaved());
        std::fs::remove_dir_all(&path).unwrap();
        store.save(&record(3));
        assert!(!store.unsaved());
        assert_eq!(DoorStore::open(dir.path()).unwrap().1, Some(record(3)));
    }
}

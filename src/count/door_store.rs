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
}

impl DoorStore {
    /// The store in `dir`, with the record an earlier run left (`None` when there is none).
    pub fn open(dir: &Path) -> Result<(Self, Option<DoorRecord>), DoorStoreError> {
        let path = dir.join(DOOR_FILE);
        match crate::state_file::read(&path) {
            Ok(record) => Ok((Self { path }, record)),
            Err(e) => Err(DoorStoreError {
                path,
                cause: e.to_string(),
            }),
        }
    }

    /// Replaces the record. A failure is logged, not fatal: counting goes on in memory.
    pub fn save(&self, record: &DoorRecord) {
        if let Err(e) = crate::state_file::write(&self.path, record) {
            tracing::warn!(path = %self.path.display(), cause = %e, "cannot save the door count");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_record_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, none) = DoorStore::open(dir.path()).unwrap();
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
}

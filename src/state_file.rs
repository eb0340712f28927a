//! Small JSON records in the state dir (the ε budget, the door count): read back at start,
//! replaced whole through a temporary file and a rename, so a crash mid-write leaves the previous
//! record. Callers hand it aggregate numbers only; it must never be given a frame, a box or a
//! track.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a record could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(std::io::Error),
    #[error(transparent)]
    Parse(serde_json::Error),
}

/// The record at `path`; `None` when there is none yet.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ReadError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(ReadError::Parse),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReadError::Io(e)),
    }
}

/// Replaces the record at `path` with `value`.
pub fn write<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

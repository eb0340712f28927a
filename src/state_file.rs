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
    // Not a device or a pipe that would be read forever: only a file (or nothing yet).
    match crate::bounded_read::read(path, crate::bounded_read::RECORD_BYTES) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(ReadError::Parse),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReadError::Io(e)),
    }
}

/// Replaces the record at `path` with `value`, for a caller that carries on when it cannot:
/// `failing` remembers that the last save failed, so a failure is logged once (naming `what`)
/// until a save works again. True when saved.
pub fn save<T: Serialize>(path: &Path, value: &T, failing: &mut bool, what: &str) -> bool {
    match write(path, value) {
        Ok(()) => {
            if std::mem::take(failing) {
                tracing::info!("{what} saved again");
            }
            true
        }
        Err(e) => {
            if !std::mem::replace(failing, true) {
                tracing::warn!(path = %path.display(), cause = %e, "cannot save the {what}");
            }
            false
        }
    }
}

/// Replaces the record at `path` with `value`.
pub fn write<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_that_is_not_a_file_is_an_error_not_an_endless_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record.json");
        assert!(matches!(read::<u64>(&path), Ok(None)));
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = read::<u64>(&path).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        std::fs::remove_file(&path).unwrap();
        write(&path, &7u64).unwrap();
        assert_eq!(read::<u64>(&path).unwrap(), Some(7));
    }
}

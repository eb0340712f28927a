//! The queue's file, `outbox.jsonl`: one JSON entry a line, read once at start (the lines that
//! cannot be read are set aside whole) and written anew through a temporary file and a rename.

use std::io::Write;
use std::path::Path;

use super::{now_unix, Entry};

/// What could not be read back from the queue file: whole lines, kept byte for byte.
#[derive(Debug, Default)]
pub(super) struct Damaged {
    pub lines: u64,
    pub bytes: Vec<u8>,
}

/// The largest queue file read back at start (10,000 entries of a few hundred bytes each fit
/// many times over); a larger one is set aside whole rather than read into memory.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Reads the queue file: the entries that parse, in order, and the lines that do not
/// (invalid UTF-8, invalid JSON, a line cut short by a crash). `None` when there is no file.
pub(super) fn read(path: &Path) -> std::io::Result<Option<(Vec<Entry>, Damaged)>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_FILE_BYTES + 1),
        &mut bytes,
    )?;
    let mut damaged = Damaged::default();
    if bytes.len() as u64 > MAX_FILE_BYTES {
        damaged.lines = bytes.split(|&b| b == b'\n').count() as u64;
        damaged.bytes = bytes;
        return Ok(Some((Vec::new(), damaged)));
    }
    let mut good = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<Entry>(line) {
            Ok(entry) => good.push(entry),
            Err(_) => {
                damaged.lines += 1;
                damaged.bytes.extend_from_slice(line);
                damaged.bytes.push(b'\n');
            }
        }
    }
    Ok(Some((good, damaged)))
}

/// Appends one entry's `line` and syncs it.
pub(super) fn append(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(f, "{line}")?;
    f.sync_data()
}

/// Writes `entries` to a temporary file, then renames it over `path` (the last good copy stays
/// whole until the new one is written and synced).
pub(super) fn write<'a>(
    path: &Path,
    entries: impl IntoIterator<Item = &'a Entry>,
) -> std::io::Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for e in entries {
            writeln!(f, "{}", serde_json::to_string(e).unwrap_or_default())?;
        }
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    };
    let result = write();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Moves the unreadable part of the queue file at `path` to `outbox.damaged-<unix
/// seconds>.jsonl` beside it (for a person to look at; it holds aggregates only) and says so
/// once; `kept`: the entries that could be read.
pub(super) fn set_aside(path: &Path, damaged: &Damaged, kept: usize) {
    let aside = path.with_file_name(format!("outbox.damaged-{}.jsonl", now_unix()));
    let written = std::fs::write(&aside, &damaged.bytes);
    tracing::warn!(
        path = %path.display(),
        kept,
        set_aside = damaged.lines,
        "store-and-forward queue file damaged: the reports that could be read are kept, \
         the unreadable lines set aside in {}{}",
        aside.display(),
        written
            .err()
            .map(|e| format!(" (could not be written: {e})"))
            .unwrap_or_default()
    );
}

//! Reading a file the configuration names, bounded: only a regular file (never a device, a pipe
//! or a directory that would be read until memory runs out, or forever), and never more than
//! the caller's limit. The error says which of the two it was, in words a person can act on;
//! callers add the key that named the path.

use std::io::Read;
use std::path::Path;

/// Limits for what the configuration points at.
pub const CONFIG_BYTES: u64 = 1 << 20;
pub const SECRET_BYTES: u64 = 64 << 10;
pub const PEM_BYTES: u64 = 1 << 20;
pub const MODEL_BYTES: u64 = 512 << 20;
pub const RECORD_BYTES: u64 = 1 << 20;
pub const TRUTH_BYTES: u64 = 256 << 20;

/// The whole file at `path`, when it is a regular file of at most `max` bytes.
pub fn read(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    read_from(path, max, false)
}

/// As [`read`], but a pipe is accepted too (read up to the same bound): a config given as
/// `--config <(printf …)` arrives through one. Devices and directories are still refused.
pub fn read_pipe_or_file(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    read_from(path, max, true)
}

fn read_from(path: &Path, max: u64, pipe_ok: bool) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path)?;
    if !(meta.is_file() || (pipe_ok && meta.file_type().is_fifo())) {
        return Err(std::io::Error::other(
            "not a regular file (a device, a pipe or a directory); name a file",
        ));
    }
    let too_big = |n: u64| {
        std::io::Error::other(format!(
            "{n} bytes or more, larger than the {max} bytes allowed; is it the right file?"
        ))
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the check and the read: never read past the limit.
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_big(max + 1));
    }
    Ok(bytes)
}

/// As [`read`], for text.
pub fn read_to_string(path: &Path, max: u64) -> std::io::Result<String> {
    text(read(path, max)?)
}

/// As [`read_pipe_or_file`], for text.
pub fn read_pipe_or_file_to_string(path: &Path, max: u64) -> std::io::Result<String> {
    text(read_pipe_or_file(path, max)?)
}

fn text(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text; is it the right file?",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_pipes_and_oversized_files_are_refused_without_reading_them() {
        let e = read(Path::new("/dev/zero"), 10).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, [0u8; 11]).unwrap();
        let e = read(&big, 10).unwrap_err().to_string();
        assert!(
            e.contains("11 bytes") && e.contains("10 bytes allowed"),
            "{e}"
        );
        assert_eq!(read(&big, 11).unwrap().len(), 11);
        let e = read(dir.path(), 10).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::write(&big, [0xffu8; 3]).unwrap();
        assert!(read_to_string(&big, 10).is_err());
        // A pipe: refused by `read`, read (bounded) by `read_pipe_or_file`.
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, b"[sensor]\n"))
        };
        assert!(read(&fifo, 10).is_err());
        assert_eq!(read_pipe_or_file(&fifo, 100).unwrap(), b"[sensor]\n");
        writer.join().unwrap().unwrap();
        let e = read_pipe_or_file(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }
}

//! One process per state dir. The ε budget, the door count and the outbox are each read at start
//! and rewritten whole; two processes sharing a state dir (the daemon and a `replay` run with the
//! daemon's config, or two daemons started by mistake) would each overwrite the other's records:
//! ε spent by one would vanish from the budget, the door count would jump, queued reports would
//! be lost or sent twice. So the service takes an exclusive lock on the state dir itself (`flock`,
//! which needs no free space) before it reads any record and holds it until it exits; a second process gets a clear error
//! instead. The kernel releases the lock when the process ends, however it ends.
//!
//! `<state.dir>/headcount.lock` holds the holder's process ID, for that error message. It must never hold
//! anything else.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// File name of the lock inside the state dir.
pub const LOCK_FILE: &str = "headcount.lock";

/// Why the state dir could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum StateLockError {
    #[error(
        "state dir {dir} is in use by another headcount process{}: stop it first \
         (`systemctl stop headcount` for the service), or give this run a state.dir of its own",
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    InUse { dir: PathBuf, holder: Option<u32> },
    #[error("cannot lock the state dir ({path}): {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
}

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct StateDirLock {
    _dir: File,
}

impl StateDirLock {
    /// Takes the lock on `dir` (which must exist), or says who holds it.
    ///
    /// The lock is on the directory itself, so taking it needs no free space: a card filled to
    /// the last block must not keep the daemon from starting. The holder's pid is written to
    /// [`LOCK_FILE`] for the message a second process gets, when there is room.
    pub fn acquire(dir: &Path) -> Result<Self, StateLockError> {
        let path = dir.join(LOCK_FILE);
        let io = |cause| StateLockError::Io {
            path: path.clone(),
            cause,
        };
        let handle = File::open(dir).map_err(io)?;
        // SAFETY: flock on a descriptor this function owns; no memory is passed.
        if unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let holder = std::fs::File::open(&path).ok().and_then(|f| {
                    // A pid is a few digits; never read more (the path could be a device).
                    let mut text = String::new();
                    f.take(32).read_to_string(&mut text).ok()?;
                    text.trim().parse().ok()
                });
                return Err(StateLockError::InUse {
                    dir: dir.to_path_buf(),
                    holder,
                });
            }
            return Err(io(err));
        }
        let pid = || -> std::io::Result<()> {
            let mut file = File::options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)?;
            write!(file, "{}", std::process::id())
        };
        if let Err(e) = pid() {
            tracing::warn!(path = %path.display(), cause = %e, "cannot write the lock holder's pid");
        }
        Ok(Self { _dir: handle })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateDirLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(text, std::process::id().to_string());
        // flock locks belong to the open file, so a second open in this process is refused
        // like another process would be.
        let err = StateDirLock::acquire(dir.path()).unwrap_err();
        assert!(
            matches!(&err, StateLockError::InUse { holder: Some(pid), .. } if *pid == std::process::id()),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("in use by another headcount process"),
            "{message}"
        );
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        drop(first);
        StateDirLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_missing_dir_is_an_error_naming_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = StateDirLock::acquire(&missing).unwrap_err();
        assert!(matches!(err, StateLockError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("nope/headcount.lock"), "{err}");
    }

    #[test]
    fn a_dir_with_no_room_for_the_pid_is_still_locked() {
        let dir = tempfile::tempdir().unwrap();
        // The pid cannot be written (a full card): the lock holds all the same.
        std::os::unix::fs::symlink("/dev/full", dir.path().join(LOCK_FILE)).unwrap();
        let _first = StateDirLock::acquire(dir.path()).unwrap();
        let err = StateDirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, StateLockError::InUse { .. }), "{err:?}");
    }
}

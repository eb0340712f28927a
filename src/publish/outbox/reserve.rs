//! Space the queue holds in reserve on the state dir's card (`outbox.reserve`), for when
//! something else fills the card: given back to let the queue's file be written a while longer.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Space the queue holds in reserve in the state dir (`outbox.reserve`), made at start when
/// there is room: when a write fails because the card is full (something else filled it), the
/// reserve is given back and the write tried again, so the queue keeps its file for a while
/// longer instead of living in memory only. About 4,000 queued reports.
pub const RESERVE_BYTES: u64 = 1 << 20;

/// How often a missing reserve is tried again.
pub(super) const RESERVE_RETRY: Duration = Duration::from_secs(60);

/// Whether a write failed because the file system is full (ENOSPC, or EDQUOT for a quota).
pub(super) fn is_full(result: &std::io::Result<()>) -> bool {
    result.as_ref().is_err_and(|e| {
        matches!(
            e.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        )
    })
}

/// The reserve beside one queue file: held or not, and when it was last made or tried.
#[derive(Debug, Default)]
pub(super) struct Reserve {
    held: Option<PathBuf>,
    pub(super) tried: Option<Instant>,
}

impl Reserve {
    /// Holds [`RESERVE_BYTES`] beside `queue_file`, when there is room (best effort).
    /// `loud`: say so when there is no room (at start; later attempts are quiet).
    pub(super) fn make(&mut self, queue_file: &Path, loud: bool) {
        self.tried = Some(Instant::now());
        let reserve = queue_file.with_file_name("outbox.reserve");
        let made = std::fs::File::create(&reserve).and_then(|f| {
            // Blocks really allocated (not a sparse file), so the space is there when needed.
            let len = RESERVE_BYTES as libc::off_t;
            use std::os::fd::AsRawFd;
            match unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, len) } {
                0 => Ok(()),
                e => Err(std::io::Error::from_raw_os_error(e)),
            }
        });
        match made {
            Ok(()) => self.held = Some(reserve),
            Err(e) => {
                let _ = std::fs::remove_file(&reserve);
                if loud {
                    tracing::warn!(cause = %e, "no room to hold space in reserve for the store-and-forward queue");
                }
            }
        }
    }

    /// Gives the reserve back to the card (once); true when there was one.
    pub(super) fn release(&mut self) -> bool {
        match self.held.take() {
            Some(reserve) => {
                let _ = std::fs::remove_file(&reserve);
                tracing::warn!(
                    "the state dir's card is full: the store-and-forward queue's reserve is in use"
                );
                true
            }
            None => false,
        }
    }

    /// Whether to make it again: none is held and the last try was at least
    /// [`RESERVE_RETRY`] ago.
    pub(super) fn due(&self) -> bool {
        self.held.is_none() && self.tried.is_none_or(|t| t.elapsed() >= RESERVE_RETRY)
    }
}

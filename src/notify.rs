//! systemd readiness and watchdog notifications (`sd_notify`): `READY=1` once the pipeline runs,
//! `WATCHDOG=1` only while it makes progress (frames processed since the last keep-alive), and
//! `STOPPING=1` on the way out. A no-op when not started by systemd (`NOTIFY_SOCKET` unset).
//!
//! Sends a few fixed words over the Unix datagram socket systemd names; never anything else.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// A connection to systemd's notification socket, if there is one.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, PathBuf)>,
    last_frames: u64,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET` (a path; abstract sockets, starting with `@`, are not supported).
    pub fn from_env() -> Self {
        let socket = std::env::var_os("NOTIFY_SOCKET")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .and_then(|path| UnixDatagram::unbound().ok().map(|s| (s, path)));
        Self {
            socket,
            last_frames: 0,
        }
    }

    fn send(&self, message: &str) {
        if let Some((socket, path)) = &self.socket {
            if let Err(e) = socket.send_to(message.as_bytes(), path) {
                tracing::debug!(cause = %e, "sd_notify failed");
            }
        }
    }

    /// The service is up: model loaded, source open, broker connected.
    pub fn ready(&self) {
        self.send("READY=1");
    }

    /// A watchdog keep-alive, sent only if frames were processed since the previous one, so a
    /// stalled pipeline lets systemd's watchdog restart the service.
    pub fn progress(&mut self, frames: u64) {
        if frames > self.last_frames {
            self.last_frames = frames;
            self.send("WATCHDOG=1");
        }
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alives_only_on_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server.set_nonblocking(true).unwrap();
        let mut n = Notifier {
            socket: Some((UnixDatagram::unbound().unwrap(), path)),
            last_frames: 0,
        };
        n.ready();
        n.progress(0); // no frames yet: silence
        n.progress(10);
        n.progress(10); // stalled: silence
        n.progress(11);
        n.stopping();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(len) = server.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..len]).to_string());
        }
        assert_eq!(got, ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "STOPPING=1"]);
    }

    #[test]
    fn no_socket_no_op() {
        let mut n = Notifier {
            socket: None,
            last_frames: 0,
        };
        n.ready();
        n.progress(5);
        n.stopping();
    }
}

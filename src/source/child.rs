//! ffmpeg and ffprobe children that can neither hang the daemon nor outlive it: every wait is
//! bounded (`source.open_timeout_s`, `source.read_timeout_s`) and gives way to a stop request
//! (SIGTERM in any phase, start-up included), and a child is killed when the thread that started
//! it ends (`PR_SET_PDEATHSIG`: the daemon killed, the child with it). Handles process ids and
//! pipes' progress only, never a frame.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::shutdown::Shutdown;

/// How often a wait looks at the clock and the stop flag.
const POLL: Duration = Duration::from_millis(25);

/// Has the child killed (SIGKILL) when the spawning thread ends. Callers spawn long-lived
/// children from a thread that outlives them (the service's main thread or the thread owning
/// the source), and short-lived ones from the thread that waits for them.
pub(super) fn die_with_parent(cmd: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The frame pipe's capacity asked for: Linux's default `pipe-max-size`, 16 times its default
/// 64 KiB, so ffmpeg writes a 300 × 300 frame in one go and decodes up to three ahead while
/// inference runs, instead of waking the reader (and being woken) five times a frame.
pub(super) const PIPE_BYTES: libc::c_int = 1 << 20;

/// Widens ffmpeg's stdout pipe to [`PIPE_BYTES`] (the frames in it are kernel memory, as
/// before, just more of them); where the system allows less, the pipe keeps its size.
pub(super) fn widen_pipe(stdout: &std::process::ChildStdout) {
    use std::os::fd::AsRawFd;
    // SAFETY: F_SETPIPE_SZ on a pipe descriptor we own; it changes only the pipe's capacity.
    let got = unsafe { libc::fcntl(stdout.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BYTES) };
    if got < 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "frame pipe keeps its size");
    }
}

/// Why a bounded wait ended without the child's answer.
#[derive(Debug)]
pub(super) enum Cut {
    Spawn(std::io::Error),
    /// Did not finish within the limit (killed).
    TimedOut(Duration),
    /// A stop was asked meanwhile (killed).
    Stopped,
}

/// Runs `cmd` to completion like [`Command::output`], but kills it past `limit` or when `stop`
/// is triggered.
pub(super) fn output_within(
    cmd: &mut Command,
    input: &Input,
    limit: Duration,
    stop: Option<&Shutdown>,
) -> Result<Output, Cut> {
    use std::io::Read;
    input.apply(cmd);
    let mut child = die_with_parent(cmd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(Cut::Spawn)?;
    if let Err(e) = input.feed(&mut child) {
        kill(&mut child);
        return Err(Cut::Spawn(e));
    }
    // Pipes are drained meanwhile so the child never blocks on a full one.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut r) = r {
                let _ = r.by_ref().take(1 << 20).read_to_end(&mut bytes);
                let _ = std::io::copy(&mut r, &mut std::io::sink());
            }
            bytes
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(Cut::Spawn(e)),
        }
        let cut = if stop.is_some_and(Shutdown::is_triggered) {
            Some(Cut::Stopped)
        } else if started.elapsed() >= limit {
            Some(Cut::TimedOut(limit))
        } else {
            None
        };
        if let Some(cut) = cut {
            kill(&mut child);
            return Err(cut);
        }
        std::thread::sleep(POLL);
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Watches reads from a child's pipe: a read waiting longer than its limit (the first frame:
/// the open timeout; later ones: the read timeout), or any read when a stop is asked, gets the
/// child killed, so the read ends (EOF) and the reader says why.
pub(super) struct ReadWatch {
    shared: Arc<Shared>,
}

struct Shared {
    /// Milliseconds since `epoch` when the read in progress began, plus 1; 0 when none is.
    waiting_since: AtomicU64,
    /// Frames delivered so far (the first one may take the open timeout).
    delivered: AtomicBool,
    timed_out: AtomicBool,
    stopped: AtomicBool,
    done: AtomicBool,
    epoch: Instant,
}

/// Why the watch killed the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Killed {
    /// No data for this long.
    Stalled(Duration),
    Stopped,
}

impl ReadWatch {
    /// Starts watching `pid`'s pipe.
    pub(super) fn start(
        pid: u32,
        open_timeout: Duration,
        read_timeout: Duration,
        stop: Option<Shutdown>,
    ) -> Self {
        let shared = Arc::new(Shared {
            waiting_since: AtomicU64::new(0),
            delivered: AtomicBool::new(false),
            timed_out: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            done: AtomicBool::new(false),
            epoch: Instant::now(),
        });
        let watched = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("ffmpeg-watch".into())
            .spawn(move || {
                while !watched.done.load(Ordering::SeqCst) {
                    std::thread::sleep(POLL * 4);
                    let since = watched.waiting_since.load(Ordering::SeqCst);
                    if since == 0 {
                        continue;
                    }
                    let waited = watched
                        .epoch
                        .elapsed()
                        .saturating_sub(Duration::from_millis(since - 1));
                    let limit = if watched.delivered.load(Ordering::SeqCst) {
                        read_timeout
                    } else {
                        open_timeout
                    };
                    let flag = if stop.as_ref().is_some_and(Shutdown::is_triggered) {
                        &watched.stopped
                    } else if waited >= limit {
                        &watched.timed_out
                    } else {
                        continue;
                    };
                    flag.store(true, Ordering::SeqCst);
                    // Only while a read waits: the child has not been reaped (the reader
                    // reaps it after its read ends), so the pid is still the child's.
                    // SAFETY: kill(2) with a pid and a signal number; no memory is passed.
                    unsafe {
                        libc::kill(pid as libc::pid_t, libc::SIGKILL);
                    }
                    return;
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(cause = %e, "cannot watch the decoder for stalls");
        }
        Self { shared }
    }

    /// Marks a read as waiting (call before blocking on the pipe).
    pub(super) fn begin(&self) {
        let now = self.shared.epoch.elapsed().as_millis() as u64 + 1;
        self.shared.waiting_since.store(now, Ordering::SeqCst);
    }

    /// Marks the read as over (`delivered`: a whole frame arrived).
    pub(super) fn end(&self, delivered: bool) {
        self.shared.waiting_since.store(0, Ordering::SeqCst);
        if delivered {
            self.shared.delivered.store(true, Ordering::SeqCst);
        }
    }

    /// Whether (and why) the watch killed the child.
    pub(super) fn killed(&self, open_timeout: Duration, read_timeout: Duration) -> Option<Killed> {
        if self.shared.stopped.load(Ordering::SeqCst) {
            Some(Killed::Stopped)
        } else if self.shared.timed_out.load(Ordering::SeqCst) {
            Some(Killed::Stalled(
                if self.shared.delivered.load(Ordering::SeqCst) {
                    read_timeout
                } else {
                    open_timeout
                },
            ))
        } else {
            None
        }
    }
}

impl Drop for ReadWatch {
    fn drop(&mut self) {
        self.shared.done.store(true, Ordering::SeqCst);
    }
}

/// How a child is told which input to open. A URL with credentials (`rtsp://user:pw@cam/…`) is
/// never put on the command line, which every user of the machine can read (`ps`, `/proc`):
/// it goes through the child's stdin as a one-entry ffconcat list (`-f concat -i pipe:0`), and
/// only the list's framing is in argv.
pub(super) struct Input {
    args: Vec<String>,
    /// What to write to the child's stdin (then closed); `None`: stdin is not used.
    stdin: Option<String>,
}

/// Protocols the concat demuxer may open for the one URL it is given.
const CONCAT_PROTOCOLS: &str = "file,pipe,http,https,tcp,tls,crypto,rtsp,rtsps,rtp,srtp,udp";

impl Input {
    pub(super) fn new(url: &str, input_options: &[(&str, &str)]) -> Self {
        // `input_options` are ffmpeg input options (e.g. `rtsp_transport tcp`), without the dash.
        let hidden = super::redact_url(url) != url;
        if !hidden {
            let mut args: Vec<String> = input_options
                .iter()
                .flat_map(|(k, v)| [format!("-{k}"), v.to_string()])
                .collect();
            args.extend(["-i".into(), url.into()]);
            return Self { args, stdin: None };
        }
        // ffconcat quoting: inside '…', a quote is written '\''.
        let mut list = format!(
            "ffconcat version 1.0\nfile '{}'\n",
            url.replace('\'', "'\\''")
        );
        for (k, v) in input_options {
            list.push_str(&format!("option {k} {v}\n"));
        }
        let args = [
            "-f",
            "concat",
            "-safe",
            "0",
            "-protocol_whitelist",
            CONCAT_PROTOCOLS,
            "-i",
            "pipe:0",
        ]
        .map(String::from)
        .to_vec();
        Self {
            args,
            stdin: Some(list),
        }
    }

    /// Adds the input to `cmd` (its arguments and its stdin).
    pub(super) fn apply(&self, cmd: &mut Command) {
        cmd.args(&self.args);
        cmd.stdin(if self.stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        });
    }

    /// Hands the hidden URL to a spawned child (then closes its stdin).
    pub(super) fn feed(&self, child: &mut Child) -> std::io::Result<()> {
        use std::io::Write;
        match (&self.stdin, child.stdin.take()) {
            (Some(list), Some(mut pipe)) => pipe.write_all(list.as_bytes()),
            _ => Ok(()),
        }
    }
}

/// Why ffmpeg or ffprobe could not be started, with the fix.
pub(super) fn spawn_error(program: &str, e: std::io::Error) -> super::SourceError {
    super::SourceError::FfmpegMissing {
        program: program.to_string(),
        cause: if e.kind() == std::io::ErrorKind::NotFound {
            "not found".into()
        } else {
            e.to_string()
        },
    }
}

/// Drops ffmpeg's "[h264 @ 0x55…] " component prefix from a log line.
pub(super) fn strip_component(line: &str) -> &str {
    match (line.starts_with('['), line.find("] ")) {
        (true, Some(end)) if line[..end].contains(" @ ") => &line[end + 2..],
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_credentials_never_reaches_argv() {
        let input = Input::new(
            "rtsp://admin:pw'9@10.0.0.5/s1",
            &[("rtsp_transport", "tcp")],
        );
        assert!(
            input.args.iter().all(|a| !a.contains("pw")),
            "{:?}",
            input.args
        );
        assert_eq!(
            input.stdin.as_deref(),
            Some(
                "ffconcat version 1.0\nfile 'rtsp://admin:pw'\\''9@10.0.0.5/s1'\n\
                 option rtsp_transport tcp\n"
            )
        );
        let plain = Input::new("rtsp://cam/s1", &[("rtsp_transport", "tcp")]);
        assert_eq!(
            plain.args,
            ["-rtsp_transport", "tcp", "-i", "rtsp://cam/s1"]
        );
        assert_eq!(plain.stdin, None);
    }

    #[test]
    fn component_prefix_is_stripped() {
        assert_eq!(
            strip_component("[h264 @ 0x55eca8e7f040] error while decoding MB 24 7"),
            "error while decoding MB 24 7"
        );
        assert_eq!(strip_component("[plain] text"), "[plain] text");
        assert_eq!(strip_component("no prefix"), "no prefix");
    }
}

//! Sources that never answer, or stop answering: a stream server that accepts and sends nothing,
//! a FIFO with no writer, a stream that stalls after some frames. Each must end in a clear error
//! naming the timeout key, never a silent wait; SIGTERM must be honoured while the source is
//! still opening; and no ffmpeg/ffprobe child may outlive headcount.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{headcount, one_by_one_first, run_with_timeout, write_config};

/// A TCP server that accepts connections and keeps them open without a byte (each connection
/// held until the server is dropped).
fn silent_server() -> (u16, std::sync::mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        listener.set_nonblocking(true).unwrap();
        loop {
            if let Ok((s, _)) = listener.accept() {
                held.push(s);
            }
            match rx.recv_timeout(Duration::from_millis(20)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                _ => return,
            }
        }
    });
    (port, tx)
}

/// The first `seconds` of the one-by-one clip as MPEG-TS (a stream format).
fn mpeg_ts(dir: &Path, seconds: u32) -> std::path::PathBuf {
    let clip = one_by_one_first(dir, seconds);
    let ts = dir.join(format!("clip-{seconds}s.ts"));
    let made = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(&ts)
        .status()
        .unwrap();
    assert!(made.success());
    ts
}

/// `headcount replay URL --config CONFIG`, its output piped.
fn spawn_replay(url: &str, config: &Path) -> std::process::Child {
    headcount()
        .args(["replay", url, "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn headcount")
}

fn config(dir: &Path, extra: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!("[sensor]\nsite = \"st\"\nname = \"s1\"\n[source]\nfps = 2\n{extra}"),
    )
}

/// Processes whose command line mentions `needle` (ffmpeg or ffprobe children left behind).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) && (cmdline.contains("ffprobe") || cmdline.contains("ffmpeg")) {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn a_stream_server_that_never_sends_is_an_error_naming_the_timeout() {
    let (port, _server) = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "open_timeout_s = 2\n");
    let url = format!("tcp://127.0.0.1:{port}");
    let mut cmd = headcount();
    cmd.args(["replay", &url, "--config"]).arg(&config);
    let started = Instant::now();
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("source.open_timeout_s") && err.contains(&url),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        processes_mentioning(&port.to_string()),
        Vec::<String>::new()
    );
}

#[test]
fn a_fifo_with_no_writer_is_an_error_naming_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("feed.mp4");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let config = config(dir.path(), "open_timeout_s = 2\n");
    let mut cmd = headcount();
    cmd.arg("replay").arg(&fifo).arg("--config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("source.open_timeout_s"), "{err}");
    assert_eq!(
        processes_mentioning(&fifo.display().to_string()),
        Vec::<String>::new()
    );
}

#[test]
fn sigterm_while_the_source_opens_exits_cleanly_and_takes_the_child_along() {
    let (port, _server) = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "open_timeout_s = 120\n");
    let url = format!("tcp://127.0.0.1:{port}");
    let mut child = spawn_replay(&url, &config);
    // Wait until ffprobe is waiting on the silent server.
    assert!(
        common::wait_until(Duration::from_secs(30), || !processes_mentioning(
            &port.to_string()
        )
        .is_empty()),
        "ffprobe never started"
    );
    let asked = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "SIGTERM was not honoured while the source opened"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(0),
        "a stop asked by SIGTERM is a clean exit"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        processes_mentioning(&port.to_string()),
        Vec::<String>::new()
    );
}

#[test]
fn a_stream_that_stalls_after_some_frames_is_an_error_naming_the_read_timeout() {
    // Ten seconds of MPEG-TS (more than ffmpeg reads to learn the stream), sent, then the
    // connection held open in silence.
    let dir = tempfile::tempdir().unwrap();
    let ts = mpeg_ts(dir.path(), 10);
    let bytes = std::fs::read(&ts).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.write_all(&bytes);
            held.push(stream);
        }
    });
    let config = config(dir.path(), "open_timeout_s = 10\nread_timeout_s = 2\n");
    let url = format!("tcp://127.0.0.1:{port}");
    let mut cmd = headcount();
    cmd.args(["replay", &url, "--config"]).arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(90));
    let err = String::from_utf8_lossy(&out.stderr);
    let printed = common::occupancy_messages(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("source.read_timeout_s") && err.contains(&url),
        "{err}"
    );
    assert!(!printed.is_empty(), "frames flowed before the stall");
    assert_eq!(
        processes_mentioning(&port.to_string()),
        Vec::<String>::new()
    );
}

/// An HTTP server requiring Basic authentication (user `u`, password `pw-7f3a`), serving `body`.
fn http_server_with_password(body: Vec<u8>) -> u16 {
    use std::io::{BufRead, BufReader};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut authorised = false;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line.trim().is_empty() {
                        break;
                    }
                    // base64("u:pw-7f3a")
                    authorised |= line.trim() == "Authorization: Basic dTpwdy03ZjNh";
                    line.clear();
                }
                let _ = if authorised {
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|()| stream.write_all(&body))
                } else {
                    stream.write_all(
                        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cam\"\r\n\
                          Content-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                };
            });
        }
    });
    port
}

#[test]
fn a_stream_password_never_appears_in_a_childs_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // MPEG-TS: read front to back, no seeking (this server knows no ranges).
    let port = http_server_with_password(std::fs::read(mpeg_ts(dir.path(), 6)).unwrap());
    let config = config(dir.path(), "realtime = true\n");
    let url = format!("http://u:pw-7f3a@127.0.0.1:{port}/clip.ts");
    let mut child = spawn_replay(&url, &config);
    // While it runs (ffprobe, then ffmpeg), no process shows the password.
    let mut seen_children = 0;
    let mut leaked = Vec::new();
    while child.try_wait().unwrap().is_none() {
        seen_children += processes_mentioning(&format!("127.0.0.1:{port}")).len()
            + processes_mentioning("pipe:0").len();
        leaked.extend(processes_mentioning("pw-7f3a"));
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(leaked.is_empty(), "password on a command line: {leaked:?}");
    assert!(seen_children > 0, "no ffmpeg child was ever seen");
    assert!(!err.contains("pw-7f3a"), "{err}");
    let printed = common::occupancy_messages(&String::from_utf8_lossy(&out.stdout));
    assert!(!printed.is_empty(), "the authenticated stream was counted");
}

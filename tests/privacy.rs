//! Privacy, proven from the outside at the process's edges: a syscall trace of a real replay, the
//! process's sockets while it runs, and the Landlock sandbox. What the daemon publishes (masks,
//! small-count bands, time bins, differential privacy) is in `privacy_payloads.rs`.

mod common;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::privacy::sensor_config;
use common::{headcount, one_by_one, run_with_timeout, write_config, Broker};

/// One frame as delivered to the detector (300×300 RGB24).
const FRAME_BYTES: i64 = 300 * 300 * 3;

/// What one line of `strace -f -yy` says.
struct Syscall<'a> {
    pid: u32,
    name: &'a str,
    args: &'a str,
    ret: Option<i64>,
}

fn parse_line(line: &str) -> Option<Syscall<'_>> {
    let (pid, rest) = line.split_once(' ')?;
    let pid = pid.parse().ok()?;
    let rest = rest.trim_start();
    let open = rest.find('(')?;
    let name = &rest[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (args, ret) = match rest.rfind(") = ") {
        Some(i) => (
            &rest[open + 1..i],
            rest[i + 4..].split_whitespace().next()?.parse().ok(),
        ),
        None => (&rest[open + 1..], None),
    };
    Some(Syscall {
        pid,
        name,
        args,
        ret,
    })
}

#[test]
fn syscall_trace_shows_no_image_leaving_memory() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = write_config(
        dir.path(),
        &sensor_config(
            &broker,
            "trace",
            &format!(
                // Colours on: the path that reads pixels for the tracker is traced too.
                "[source]\nfps = 2\n[counting]\nsmoothing_frames = 3\nappearance_weight = 4.0\n\
                 [privacy]\ndp_epsilon_per_day = 5.0\ntime_resolution_s = 10\ndp_max_noise = 10000\n\
                 [state]\ndir = \"{}\"\n",
                state.display()
            ),
        ),
    );
    let sub = broker.subscribe("headcount/priv/trace/#");
    let trace = dir.path().join("trace.txt");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-yy", "-s", "0", "-o"])
        .arg(&trace)
        .args([
            "-e",
            "trace=%file,%network,write,writev,pwrite64,landlock_create_ruleset,landlock_restrict_self",
        ])
        .arg(env!("CARGO_BIN_EXE_headcount"))
        .arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("strace is installed (scripts/setup.sh installs it)");
    assert!(status.success(), "traced replay failed: {status}");
    assert!(sub.wait_for(Duration::from_secs(5), |m| m.payload == "offline"));
    let published = sub.messages().len() as i64;
    let text = std::fs::read_to_string(&trace).unwrap();
    let calls: Vec<Syscall> = text.lines().filter_map(parse_line).collect();
    assert!(calls.len() > 100, "trace too short to mean anything");

    // ffmpeg and ffprobe are children; everything else is headcount.
    let decoders: HashSet<u32> = calls
        .iter()
        .filter(|c| {
            c.name == "execve" && (c.args.contains("/ffmpeg\"") || c.args.contains("/ffprobe\""))
        })
        .map(|c| c.pid)
        .collect();
    assert!(!decoders.is_empty(), "ffmpeg not seen in the trace");
    let state_prefix = format!("\"{}", state.display());

    let mut broker_bytes = 0i64;
    let mut restricted = false;
    for c in &calls {
        let failed = c.ret.is_some_and(|r| r < 0);
        match c.name {
            "open" | "openat" | "openat2" | "creat" => {
                let writes = c.name == "creat"
                    || c.args.contains("O_WRONLY")
                    || c.args.contains("O_RDWR")
                    || c.args.contains("O_CREAT");
                let devnull = c.args.contains("\"/dev/null\"");
                assert!(
                    !writes || failed || devnull || c.args.contains(&state_prefix),
                    "file opened for writing outside the state dir: {} {}({})",
                    c.pid,
                    c.name,
                    c.args
                );
            }
            "mkdir" | "mkdirat" | "rename" | "renameat" | "renameat2" | "unlink" | "unlinkat"
            | "rmdir" | "truncate" | "symlink" | "symlinkat" | "link" | "linkat" => {
                assert!(
                    failed || c.args.contains(&state_prefix),
                    "filesystem change outside the state dir: {}({})",
                    c.name,
                    c.args
                );
            }
            "listen" | "bind" => panic!("{}({}): headcount must not listen", c.name, c.args),
            "connect" => {
                let to_broker = c.args.contains(&format!("sin_port=htons({})", broker.port))
                    && c.args.contains("127.0.0.1");
                assert!(
                    to_broker || failed && c.args.contains("AF_UNIX"),
                    "connect to something other than the broker: {}",
                    c.args
                );
            }
            "write" | "writev" | "pwrite64" | "sendto" | "sendmsg" => {
                let n = c.ret.unwrap_or(0);
                let to_broker = c.args.contains(&format!(":{}]>", broker.port));
                if to_broker {
                    broker_bytes += n.max(0);
                    assert!(n < 4096, "a {n}-byte write to the broker: {}", c.args);
                }
                if !decoders.contains(&c.pid) {
                    assert!(
                        n < FRAME_BYTES / 10,
                        "headcount wrote {n} bytes at once: {}({})",
                        c.name,
                        c.args
                    );
                } else if n >= FRAME_BYTES / 10 {
                    // Decoded frames go only into the pipe to headcount.
                    assert!(
                        c.args.starts_with("1<pipe:"),
                        "ffmpeg wrote {n} bytes to {}",
                        c.args
                    );
                }
            }
            "landlock_restrict_self" => restricted |= c.ret == Some(0),
            _ => {}
        }
    }
    assert!(restricted, "the Landlock ruleset was not applied");
    assert!(published >= 3, "only {published} messages published");
    assert!(
        broker_bytes > 0 && broker_bytes < published * 1024,
        "{broker_bytes} bytes to the broker for {published} messages"
    );
    let per_publish = broker_bytes / published;
    assert!(
        per_publish * 100 < FRAME_BYTES,
        "{per_publish} B per publish must be far below one frame ({FRAME_BYTES} B)"
    );
    eprintln!("{broker_bytes} B to the broker for {published} messages ({per_publish} B each)");
    // Written, in the state dir only: the lock (a pid), the privacy budget, the outbox of
    // unacknowledged reports and its reserve (space held for a full card: zeros); nothing else.
    let budget = std::fs::read_to_string(state.join("dp-budget.json")).unwrap();
    assert!(budget.contains("\"spent\""), "{budget}");
    let lock = std::fs::read_to_string(state.join("headcount.lock")).unwrap();
    assert!(lock.parse::<u32>().is_ok(), "{lock:?}");
    for entry in std::fs::read_dir(&state).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(
            [
                "headcount.lock",
                "dp-budget.json",
                "outbox.jsonl",
                "outbox.reserve"
            ]
            .contains(&name.as_str()),
            "unexpected file in the state dir: {name}"
        );
    }
    let reserve = std::fs::read(state.join("outbox.reserve")).unwrap();
    assert!(
        !reserve.is_empty() && reserve.iter().all(|&b| b == 0),
        "the reserve holds nothing but zeros"
    );
}

/// Socket inodes of process `pid`.
fn socket_inodes(pid: u32) -> HashSet<String> {
    let mut out = HashSet::new();
    if let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in entries.flatten() {
            if let Ok(target) = std::fs::read_link(e.path()) {
                let t = target.to_string_lossy().to_string();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    out.insert(inode.to_string());
                }
            }
        }
    }
    out
}

/// (state, inode) of every TCP socket in /proc/net/tcp{,6}.
fn tcp_sockets() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 9 {
                out.push((cols[3].to_string(), cols[9].to_string()));
            }
        }
    }
    out
}

#[test]
fn no_listening_socket_while_running() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sensor_config(&broker, "sockets", ""));
    let sub = broker.subscribe("headcount/priv/sockets/#");
    let mut child = headcount()
        .arg("replay")
        .arg(one_by_one())
        .arg("--realtime")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(sub.wait_for(Duration::from_secs(60), |m| m.topic.ends_with("/occupancy")));
    let mut established = 0;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let mine = socket_inodes(child.id());
        for (state, inode) in tcp_sockets() {
            if mine.contains(&inode) {
                assert_ne!(state, "0A", "headcount has a listening TCP socket");
                established += usize::from(state == "01");
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The check can fail: it does see the process's own broker connection.
    assert!(
        established > 0,
        "the broker connection was not found in /proc/net/tcp"
    );
}

/// A replay whose ffmpeg is a wrapper that first tries to write inside and outside the state
/// dir; `unit`: run headcount under that systemd unit's own seccomp filters
/// (`scripts/unit-seccomp.py`). Returns what the wrapper found ("outside=denied" or
/// "outside=allowed") and the replay's stdout.
fn replay_probing_writes(unit: Option<&std::path::Path>) -> (String, String) {
    // ffmpeg is started by headcount after it sandboxed itself, so it runs inside the same
    // Landlock domain. A wrapper in its place tries to write inside and outside the state dir,
    // then runs the real ffmpeg.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let outside = dir.path().join("outside.txt");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let which = |name: &str| {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (ffmpeg, ffprobe) = (which("ffmpeg"), which("ffprobe"));
    std::fs::write(
        bin.join("ffmpeg"),
        format!(
            "#!/bin/sh\n\
             if echo x > '{outside}' 2>/dev/null; then r=allowed; else r=denied; fi\n\
             echo \"outside=$r\" > '{state}/probe.txt'\n\
             exec '{ffmpeg}' \"$@\"\n",
            outside = outside.display(),
            state = state.display(),
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(&ffprobe, bin.join("ffprobe")).unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(bin.join("ffmpeg"))
        .status()
        .unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[source]\nffmpeg = \"{}\"\nfps = 0.2\n[state]\ndir = \"{}\"\n",
            bin.join("ffmpeg").display(),
            state.display()
        ),
    );
    let mut cmd = match unit {
        Some(unit) => {
            let mut cmd = Command::new(common::root().join("scripts/unit-seccomp.py"));
            cmd.arg(unit).arg("--").arg(env!("CARGO_BIN_EXE_headcount"));
            cmd
        }
        None => headcount(),
    };
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let probe = std::fs::read_to_string(state.join("probe.txt")).expect("write in the state dir");
    assert_eq!(
        probe.trim() == "outside=denied",
        !outside.exists(),
        "the probe and the file disagree"
    );
    (
        probe.trim().to_string(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn landlock_stops_writes_outside_the_state_dir() {
    let (probe, printed) = replay_probing_writes(None);
    assert_eq!(probe, "outside=denied");
    assert!(printed.contains("\"sandbox\":\"landlock\""), "{printed}");
}

#[test]
fn landlock_holds_under_the_shipped_units_own_seccomp_filters() {
    // The unit's SystemCallFilter=, RestrictAddressFamilies= and MemoryDenyWriteExecute= applied
    // as systemd applies them (libseccomp, the unit's sets expanded by systemd-analyze).
    let (probe, printed) =
        replay_probing_writes(Some(&common::root().join("deploy/headcount.service")));
    assert_eq!(probe, "outside=denied");
    assert!(printed.contains("\"sandbox\":\"landlock\""), "{printed}");
}

#[test]
fn a_unit_filter_refusing_landlock_is_reported_with_its_real_cause() {
    // The shipped unit less its landlock_* line: systemd 252's @system-service lacks them, so the
    // sandbox is off. The privacy topic must say so, and why (EPERM from a filter, not a kernel
    // without Landlock); and the probe shows the wrapper's filter really applies.
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(common::root().join("deploy/headcount.service")).unwrap();
    assert!(shipped.contains(
        "\nSystemCallFilter=landlock_create_ruleset landlock_add_rule landlock_restrict_self\n"
    ));
    let without: String = shipped
        .lines()
        .filter(|l| !l.starts_with("SystemCallFilter=landlock"))
        .map(|l| format!("{l}\n"))
        .collect();
    let unit = dir.path().join("headcount.service");
    std::fs::write(&unit, without).unwrap();
    let (probe, printed) = replay_probing_writes(Some(&unit));
    assert_eq!(probe, "outside=allowed");
    assert!(
        printed.contains("\"sandbox\":\"none: a seccomp filter refused the Landlock calls (EPERM)"),
        "{printed}"
    );
    assert!(!printed.contains("kernel lacks"), "{printed}");
}

//! The store-and-forward queue's file under the faults an SD card meets in the field, against a
//! real Mosquitto and real files: a damaged queue file (random bytes after valid records) and a
//! card that fills up (a real tmpfs of a few MiB; the tests run as root and skip, saying so,
//! where mounting is refused). Nothing the daemon made may be lost or claimed saved when it was
//! not, and a damaged file must never stop start-up.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{
    headcount, occupancy_messages, one_by_one_first, unused_port, wait_until, write_config, Broker,
};

fn config(dir: &Path, state: &Path, port: u16) -> PathBuf {
    write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"qf\"\nname = \"s1\"\n[source]\nfps = 2\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\ninterval_s = 1\nconnect_timeout_s = 2\n\
             discovery = false\n[state]\ndir = \"{}\"\n",
            state.display()
        ),
    )
}

/// A replay whose stdout and stderr lines are collected as they come.
struct Run {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
}

impl Run {
    fn start(video: &Path, config: &Path, realtime: bool) -> Run {
        let mut cmd = headcount();
        cmd.arg("replay").arg(video).arg("--config").arg(config);
        if realtime {
            cmd.arg("--realtime");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn headcount");
        let collect = |r: Box<dyn std::io::Read + Send>| {
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
            lines
        };
        let out = collect(Box::new(child.stdout.take().unwrap()));
        let err = collect(Box::new(child.stderr.take().unwrap()));
        Run { child, out, err }
    }

    /// Waits for the exit; (success, stderr).
    fn finish(mut self, limit: Duration) -> (bool, String, Vec<String>) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("headcount did not finish within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // The reader threads see EOF right after the exit.
        std::thread::sleep(Duration::from_millis(300));
        let err = self.err.lock().unwrap().join("\n");
        let out = self.out.lock().unwrap().clone();
        (status.success(), err, out)
    }
}

/// `seq` of the occupancy reports in printed JSON lines.
fn printed_seqs(lines: &[String]) -> Vec<u64> {
    occupancy_messages(&lines.join("\n"))
        .iter()
        .filter_map(|v| v["seq"].as_u64())
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_damaged_queue_file_keeps_what_parses_sets_the_rest_aside_and_starts() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    // Ten reports an earlier run queued, then 300 random bytes (a card's bad block).
    let mut file = Vec::new();
    for i in 0..10 {
        let entry = serde_json::json!({
            "topic": "headcount/qf/s1/occupancy",
            "payload": format!("{{\"earlier\":{i}}}"),
            "queued": unix_now(),
        });
        writeln!(file, "{entry}").unwrap();
    }
    let mut x: u32 = 0x2545_f491;
    let garbage: Vec<u8> = (0..300)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    file.extend_from_slice(&garbage);
    std::fs::write(state.join("outbox.jsonl"), &file).unwrap();

    let sub = broker.subscribe("headcount/qf/s1/#");
    let video = one_by_one_first(dir.path(), 2);
    let config = config(dir.path(), &state, broker.port);
    let (ok, err, out) = Run::start(&video, &config, false).finish(Duration::from_secs(120));
    assert!(ok, "a damaged queue must not stop start-up:\n{err}");
    assert!(
        sub.wait_for(Duration::from_secs(10), |m| m.payload == "{\"earlier\":9}"),
        "the last queued record never arrived"
    );
    let earlier: Vec<String> = sub
        .messages()
        .into_iter()
        .filter(|m| m.payload.starts_with("{\"earlier\":"))
        .map(|m| m.payload)
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("{{\"earlier\":{i}}}")).collect();
    assert_eq!(
        earlier, expected,
        "every record that parses, in order, once"
    );
    // The unreadable part is kept for a person to look at, byte for byte.
    let aside: Vec<PathBuf> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("outbox.damaged-"))
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    let kept = std::fs::read(&aside[0]).unwrap();
    let pieces: Vec<&[u8]> = garbage
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        pieces
            .iter()
            .all(|p| kept.windows(p.len()).any(|w| w == *p)),
        "the set-aside file does not hold the damaged bytes"
    );
    assert_eq!(
        err.matches("store-and-forward queue file damaged").count(),
        1,
        "said once:\n{err}"
    );
    // And counted in health.
    let damaged = out
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["topic"].as_str().is_some_and(|t| t.ends_with("/health")))
        .filter_map(|v| v["queue_damaged"].as_u64())
        .max();
    assert_eq!(damaged, Some(pieces.len() as u64), "health.queue_damaged");
}

/// A tmpfs of `size` mounted at `dir`, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir.to_path_buf())),
            other => {
                let why = other
                    .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                    .unwrap_or_else(|e| e.to_string());
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI must be able to mount a tmpfs for the full-card tests: {why}"
                );
                eprintln!("skipping: cannot mount a tmpfs here ({why})");
                None
            }
        }
    }

    /// Writes a file until the file system is full.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0x55u8; 4096];
        while f.write_all(&block).and_then(|()| f.sync_data()).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_card_that_fills_while_the_broker_is_away_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let Some(card) = Tmpfs::mount(&state, "3m") else {
        return;
    };
    let port = unused_port();
    let config = config(dir.path(), &state, port);
    let video = one_by_one_first(dir.path(), 12);
    // The broker is away; reports queue on the card, then something else fills it.
    let run = Run::start(&video, &config, true);
    let queue = state.join("outbox.jsonl");
    assert!(
        wait_until(Duration::from_secs(60), || lines_in(&queue) >= 3),
        "nothing was queued"
    );
    card.fill();
    let (_, err, out) = run.finish(Duration::from_secs(120));
    let made = printed_seqs(&out);
    assert!(made.len() > 6, "too few reports made: {made:?}");
    assert!(
        err.contains("for the next start") && !err.contains("NOT all kept"),
        "the reserve should have kept the queue on the card:\n{err}"
    );
    // The next start (the card still full) publishes every report the first run made.
    let broker = Broker::start_on(port);
    let sub = broker.subscribe("headcount/qf/s1/#");
    let (ok, err, _) = Run::start(&one_by_one_first(dir.path(), 1), &config, false)
        .finish(Duration::from_secs(120));
    assert!(ok, "{err}");
    let seqs_of = |m: &common::Received| {
        serde_json::from_str::<serde_json::Value>(&m.payload)
            .ok()
            .and_then(|v| v["seq"].as_u64())
    };
    let all = |sub: &common::Subscriber| -> Vec<u64> {
        sub.messages()
            .iter()
            .filter(|m| m.topic.ends_with("/occupancy"))
            .filter_map(seqs_of)
            .collect()
    };
    wait_until(Duration::from_secs(10), || {
        made.iter().all(|s| all(&sub).contains(s))
    });
    let got = all(&sub);
    let lost: Vec<&u64> = made.iter().filter(|s| !got.contains(s)).collect();
    assert!(lost.is_empty(), "lost on a full card: {lost:?} of {made:?}");
}

#[test]
fn a_card_full_from_the_start_is_never_claimed_to_hold_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let Some(card) = Tmpfs::mount(&state, "512k") else {
        return;
    };
    card.fill();
    let config = config(dir.path(), &state, unused_port());
    let (_, err, out) = Run::start(&one_by_one_first(dir.path(), 3), &config, false)
        .finish(Duration::from_secs(120));
    assert!(!printed_seqs(&out).is_empty());
    assert!(
        !err.contains("for the next start") && err.contains("NOT all kept"),
        "a save that did not happen must not be claimed:\n{err}"
    );
}

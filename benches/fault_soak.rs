//! Fault soak: `headcount replay --realtime` of the one-by-one clip looped for
//! `HEADCOUNT_SOAK_MINUTES` (default 30), publishing to a real Mosquitto that is killed with
//! SIGKILL every 1–3 minutes at random (restarted 1–5 s later), while the state dir (a 4 MiB
//! tmpfs) is filled to the last block and emptied again every 1–4 minutes. A persistent QoS 1
//! subscriber records what arrives. Prints reports made / received / duplicated / lost, and for
//! every lost report how far it was made from the nearest kill.
//!
//! `HEADCOUNT_SOAK_BROKER=default` runs Mosquitto with its default persistence (a snapshot every
//! 30 minutes); `durable` (the default) with `autosave_on_changes true` and `autosave_interval 1`
//! (a snapshot after every change). Mosquitto acknowledges a QoS 1 PUBLISH when it has it in
//! memory, not on disk: what it acknowledged and had not yet saved (or delivered) when killed is
//! gone, whatever headcount does. Comparing the two settings attributes a loss.
//!
//! `cargo bench --bench fault_soak` (needs root for the tmpfs; without it the card is not filled).
//! `HEADCOUNT_SOAK_KILL_S=10-20` kills more often, for a short attribution run.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{collect_lines, fail, mosquitto};

const CLIP_SECONDS: f64 = 139.4;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `2026-12-02T17:05:09Z` as Unix seconds.
fn rfc3339_unix(ts: &str) -> Option<f64> {
    let out = Command::new("date")
        .args(["-u", "-d", ts, "+%s"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn random_between(lo: u64, hi: u64) -> Duration {
    Duration::from_secs(lo + rand::random::<u64>() % (hi - lo + 1))
}

fn main() {
    let minutes: u64 = std::env::var("HEADCOUNT_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(30);
    let durable = std::env::var("HEADCOUNT_SOAK_BROKER").as_deref() != Ok("default");
    // `HEADCOUNT_SOAK_KILL_S=10-20`: kill the broker more often (a short attribution run).
    let (kill_lo, kill_hi) = std::env::var("HEADCOUNT_SOAK_KILL_S")
        .ok()
        .and_then(|r| {
            let (lo, hi) = r.split_once('-')?;
            Some((lo.parse().ok()?, hi.parse().ok()?))
        })
        .filter(|(lo, hi): &(u64, u64)| lo <= hi && *lo > 0)
        .unwrap_or((60, 180));
    let work = tempfile::tempdir().unwrap_or_else(|e| fail(e));
    let dir = work.path();
    let loops = ((minutes * 60) as f64 / CLIP_SECONDS).ceil().max(1.0) as u64;
    let clip = dir.join("long.mp4");
    let made = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-stream_loop"])
        .arg((loops - 1).to_string())
        .arg("-i")
        .arg(root().join("tests/fixtures/one-by-one/one-by-one-person-detection.mp4"))
        .args(["-t", &(minutes * 60).to_string(), "-c", "copy"])
        .arg(&clip)
        .status()
        .unwrap_or_else(|e| fail(e));
    if !made.success() {
        fail("ffmpeg could not loop the clip");
    }

    // The state dir on a small card of its own, when this machine lets us mount one.
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap_or_else(|e| fail(e));
    let card = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&state)
        .status()
        .is_ok_and(|s| s.success());
    if !card {
        eprintln!("fault soak: cannot mount a tmpfs; the state dir is not filled");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(e));
    let store = dir.join("mosquitto-db");
    std::fs::create_dir_all(&store).unwrap_or_else(|e| fail(e));
    let _ = Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(&store)
        .status();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nmax_queued_messages 0\nlog_dest none\n{}",
            store.display(),
            if durable {
                "autosave_on_changes true\nautosave_interval 1\n"
            } else {
                ""
            }
        ),
    )
    .unwrap_or_else(|e| fail(e));
    let mut broker = mosquitto(&conf, port);

    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let subscribe = |received: &Arc<Mutex<Vec<String>>>| -> Child {
        let mut sub = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-q", "1", "-c", "-i", "fault-soak-sub", "-k", "5"])
            .args(["-t", "headcount/soak/s/occupancy", "-F", "%p"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| fail(e));
        let out = sub.stdout.take().unwrap_or_else(|| fail("no stdout"));
        let sink = Arc::clone(received);
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut v) = sink.lock() {
                    v.push(l);
                }
            }
        });
        sub
    };
    let mut sub = subscribe(&received);
    std::thread::sleep(Duration::from_secs(1));

    let config = dir.join("soak.toml");
    std::fs::write(
        &config,
        format!(
            "[sensor]\nsite = \"soak\"\nname = \"s\"\n[source]\nfps = 2\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\ninterval_s = 5\nconnect_timeout_s = 2\n\
             discovery = false\n[state]\ndir = \"{}\"\n",
            state.display()
        ),
    )
    .unwrap_or_else(|e| fail(e));
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_headcount"))
        .arg("replay")
        .arg(&clip)
        .arg("--realtime")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(e));
    let printed = collect_lines(
        daemon.stdout.take().unwrap_or_else(|| fail("no stdout")),
        |l| l.contains("/occupancy\""),
    );
    let errors = collect_lines(
        daemon.stderr.take().unwrap_or_else(|| fail("no stderr")),
        |_| true,
    );

    let started = Instant::now();
    let mut kills: Vec<f64> = Vec::new();
    let mut fills = 0;
    let mut next_kill = random_between(kill_lo, kill_hi);
    let mut next_fill = random_between(60, 240);
    let filler = state.join("filler");
    let mut full = false;
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap_or(None) {
            break s;
        }
        if started.elapsed() >= next_kill {
            let _ = broker.kill();
            let _ = broker.wait();
            kills.push(unix_now());
            std::thread::sleep(random_between(1, 5));
            broker = mosquitto(&conf, port);
            // The subscriber reconnects to its persistent session.
            let _ = sub.kill();
            let _ = sub.wait();
            sub = subscribe(&received);
            next_kill = started.elapsed() + random_between(kill_lo, kill_hi);
        }
        if card && started.elapsed() >= next_fill {
            if full {
                let _ = std::fs::remove_file(&filler);
            } else if let Ok(mut f) = std::fs::File::create(&filler) {
                let block = vec![0u8; 4096];
                while f.write_all(&block).and_then(|()| f.sync_data()).is_ok() {}
                fills += 1;
            }
            full = !full;
            next_fill = started.elapsed() + random_between(60, 240);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_secs(5));
    let _ = sub.kill();
    let _ = sub.wait();
    let _ = Command::new("kill")
        .args(["-TERM", &broker.id().to_string()])
        .status();
    let _ = broker.wait();
    if card {
        let _ = Command::new("umount").arg(&state).status();
    }

    let seq_ts = |line: &str| -> Option<(u64, String)> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        Some((v["seq"].as_u64()?, v["ts"].as_str()?.to_string()))
    };
    let made: BTreeMap<u64, String> = printed
        .lock()
        .map(|v| v.iter().filter_map(|l| seq_ts(l)).collect())
        .unwrap_or_default();
    let got: Vec<u64> = received
        .lock()
        .map(|v| v.iter().filter_map(|l| seq_ts(l)).map(|(s, _)| s).collect())
        .unwrap_or_default();
    let unique: BTreeSet<u64> = got.iter().copied().collect();
    let lost: Vec<(u64, f64)> = made
        .iter()
        .filter(|(s, _)| !unique.contains(s))
        .map(|(s, ts)| {
            let made_at = rfc3339_unix(ts).unwrap_or(0.0);
            let nearest = kills
                .iter()
                .map(|k| made_at - k)
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap_or(f64::NAN);
            (*s, nearest)
        })
        .collect();
    println!(
        "fault soak: {:.0} min, broker ({}) killed -9 {} times, state dir filled {fills} times, \
         replay exit {status}",
        elapsed.as_secs_f64() / 60.0,
        if durable {
            "autosave_on_changes, interval 1"
        } else {
            "default persistence"
        },
        kills.len()
    );
    println!("| measure | value |\n|---|---:|");
    println!("| occupancy reports made | {} |", made.len());
    println!("| received (with duplicates) | {} |", got.len());
    println!(
        "| duplicated (QoS 1 redelivery) | {} |",
        got.len() - unique.len()
    );
    println!("| lost | {} |", lost.len());
    for (seq, from_kill) in &lost {
        println!("lost seq {seq}: made {from_kill:+.1} s from the nearest kill");
    }
    let said: Vec<String> = errors
        .lock()
        .map(|v| {
            v.iter()
                .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                .take(5)
                .chain(v.iter().filter(|l| l.starts_with("error")))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for l in said {
        println!("headcount said: {l}");
    }
    if made.is_empty() {
        fail("fault soak: no report was made");
    }
}

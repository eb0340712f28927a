//! Soak: `headcount replay` of the one-by-one clip looped to ≥ 50,000 frames as fast as it goes
//! (LiteRT), publishing to a real Mosquitto that is stopped for 10 s every 2 minutes. Prints the
//! daemon's resident memory after warm-up and at the end, and checks that every aggregate it made
//! reached the broker, in order (deduplicated by `seq`).
//!
//! `cargo bench --bench soak` (about a quarter of an hour on a 2-core machine). The subscriber
//! keeps a persistent session on a broker with persistence, so nothing published while it is
//! reconnecting is missed by the measurement itself.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{collect_lines, fail, mosquitto};

const FRAMES_PER_LOOP: u64 = 1394;
const MIN_FRAMES: u64 = 50_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(e))
}

fn stop(child: &mut Child) {
    // SIGTERM: Mosquitto saves its persistence (the subscriber's queued messages) and exits.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn seq_of(line: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v["seq"].as_u64()
}

fn main() {
    let work = tempfile::tempdir().unwrap_or_else(|e| fail(e));
    let dir = work.path();
    let loops = MIN_FRAMES.div_ceil(FRAMES_PER_LOOP);
    let clip = dir.join("long.mp4");
    let made = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            &(loops - 1).to_string(),
            "-i",
        ])
        .arg(root().join("tests/fixtures/one-by-one/one-by-one-person-detection.mp4"))
        .args(["-c", "copy"])
        .arg(&clip)
        .status()
        .unwrap_or_else(|e| fail(e));
    if !made.success() {
        fail("ffmpeg could not loop the clip");
    }

    let port = free_port();
    let conf = dir.join("mosquitto.conf");
    let store = dir.join("mosquitto-db");
    std::fs::create_dir_all(&store).unwrap_or_else(|e| fail(e));
    let _ = Command::new("chmod")
        .args(["-R", "a+rwX"])
        .arg(dir)
        .status();
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
             max_queued_messages 0\nlog_dest none\n",
            store.display()
        ),
    )
    .unwrap_or_else(|e| fail(e));
    let mut broker = mosquitto(&conf, port);

    // A persistent QoS 1 session: the broker keeps what arrives while it is away.
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut sub = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-q",
            "1",
            "-c",
            "-i",
            "soak-sub",
        ])
        .args(["-t", "headcount/soak/s/occupancy", "-F", "%p"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(e));
    let out = sub.stdout.take().unwrap_or_else(|| fail("no stdout"));
    let sink = Arc::clone(&received);
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(mut v) = sink.lock() {
                v.push(l);
            }
        }
    });
    std::thread::sleep(Duration::from_secs(1));

    let config = dir.join("soak.toml");
    std::fs::write(
        &config,
        format!(
            "[sensor]\nsite = \"soak\"\nname = \"s\"\n[detector]\nruntime = \"litert\"\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\ninterval_s = 5\n[state]\ndir = \"{}\"\n",
            dir.join("state").display()
        ),
    )
    .unwrap_or_else(|e| fail(e));
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_headcount"))
        .arg("replay")
        .arg(&clip)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(e));
    let pid = daemon.id();
    let printed = collect_lines(
        daemon.stdout.take().unwrap_or_else(|| fail("no stdout")),
        |l| l.contains("/occupancy\""),
    );

    let started = Instant::now();
    let mut rss = Vec::new();
    let mut bounces = 0;
    let mut next_bounce = Duration::from_secs(120);
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap_or(None) {
            break s;
        }
        if let Some(kib) = rss_kib(pid) {
            rss.push((started.elapsed(), kib));
        }
        if started.elapsed() >= next_bounce {
            stop(&mut broker);
            std::thread::sleep(Duration::from_secs(10));
            broker = mosquitto(&conf, port);
            bounces += 1;
            next_bounce += Duration::from_secs(120);
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    stop(&mut broker);
    let _ = sub.kill();
    let _ = sub.wait();
    if !status.success() {
        fail(format!("replay failed: {status}"));
    }

    let printed: Vec<u64> = printed
        .lock()
        .map(|v| v.iter().filter_map(|l| seq_of(l)).collect())
        .unwrap_or_default();
    let got: Vec<u64> = received
        .lock()
        .map(|v| v.iter().filter_map(|l| seq_of(l)).collect())
        .unwrap_or_default();
    let got_set: BTreeSet<u64> = got.iter().copied().collect();
    let lost = printed.iter().filter(|s| !got_set.contains(s)).count();
    let mut dedup = got.clone();
    dedup.dedup();
    let reordered = dedup.windows(2).filter(|w| w[0] >= w[1]).count();
    let duplicates = got.len() - got_set.len();
    let warm = rss
        .iter()
        .find(|(t, _)| *t >= Duration::from_secs(60))
        .map(|(_, k)| *k)
        .unwrap_or(0);
    let peak_after = rss
        .iter()
        .filter(|(t, _)| *t >= Duration::from_secs(60))
        .map(|(_, k)| *k)
        .max()
        .unwrap_or(0);
    let last = rss.last().map(|(_, k)| *k).unwrap_or(0);
    let frames = loops * FRAMES_PER_LOOP;
    println!(
        "soak: {frames} frames in {:.0} s ({:.1} fps), broker bounced {bounces} times",
        elapsed.as_secs_f64(),
        frames as f64 / elapsed.as_secs_f64()
    );
    println!("| measure | value |\n|---|---:|");
    println!(
        "| RSS after 60 s warm-up | {:.1} MiB |",
        warm as f64 / 1024.0
    );
    println!(
        "| peak RSS after warm-up | {:.1} MiB |",
        peak_after as f64 / 1024.0
    );
    println!("| RSS at the end | {:.1} MiB |", last as f64 / 1024.0);
    println!(
        "| growth after warm-up (peak − warm) | {:.2} MiB |",
        (peak_after.saturating_sub(warm)) as f64 / 1024.0
    );
    println!("| occupancy reports made | {} |", printed.len());
    println!("| received (with duplicates) | {} |", got.len());
    println!("| lost | {lost} |");
    println!("| reordered | {reordered} |");
    println!("| duplicates (QoS 1 redelivery) | {duplicates} |");
    if lost > 0 || reordered > 0 || printed.is_empty() {
        fail("soak: aggregates were lost or reordered");
    }
}

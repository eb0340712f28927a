//! The fleet tests' shared steps: `headcount simulate` in the background, its JSON lines, and
//! what a subscriber received of each sensor's reports.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{wait_until, write_config, Received, Subscriber};

/// `headcount simulate` running in the background, its output drained as it comes (a line per
/// sensor fills a pipe long before the end).
pub struct Simulation {
    child: Child,
    output: std::thread::JoinHandle<(String, String)>,
}

pub fn simulate(config: &std::path::Path, sensors: u32, seconds: u32) -> Simulation {
    let mut child = super::headcount()
        .args(["simulate", "--sensors", &sensors.to_string(), "--json"])
        .args(["--duration", &seconds.to_string(), "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("headcount simulate starts");
    let (mut stdout, mut stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let output = std::thread::spawn(move || {
        let err = std::thread::spawn(move || {
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            err
        });
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        (out, err.join().unwrap_or_default())
    });
    Simulation { child, output }
}

/// Waits (bounded) for `simulate` to end; its JSON lines: per sensor, then the summary.
pub fn finish(sim: Simulation, limit: Duration) -> (Vec<serde_json::Value>, serde_json::Value) {
    let Simulation { mut child, output } = sim;
    let deadline = Instant::now() + limit;
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("simulate did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (out, err) = output.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "simulate failed: {status}\n{err}");
    let mut lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    (lines, summary)
}

/// The sequence numbers of the reports (occupancy, zone, line) each sensor's messages carry.
pub fn report_seqs(messages: &[Received]) -> BTreeMap<String, BTreeSet<u64>> {
    let mut seqs: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for m in messages {
        let mut levels = m.topic.split('/').skip(2);
        let (Some(sensor), Some(kind)) = (levels.next(), levels.next()) else {
            continue;
        };
        if !matches!(kind, "occupancy" | "zone" | "line") {
            continue;
        }
        let payload: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
        seqs.entry(sensor.to_string())
            .or_default()
            .insert(payload["seq"].as_u64().unwrap());
    }
    seqs
}

/// Every report each sensor made is among `seqs`, and nothing else is.
pub fn all_arrived(sensors: &[serde_json::Value], seqs: &BTreeMap<String, BTreeSet<u64>>) -> bool {
    sensors.iter().all(|s| {
        let got = seqs.get(s["sensor"].as_str().unwrap_or_default());
        let made = s["reports_made"].as_u64().unwrap_or(0);
        let (first, last) = (s["first_seq"].as_u64(), s["last_seq"].as_u64());
        match (got, first, last) {
            (Some(got), Some(first), Some(last)) => {
                got.len() as u64 == made && got.iter().all(|q| (first..=last).contains(q))
            }
            _ => made == 0,
        }
    })
}

/// Whether `n` sensors said `online` at `sub` within `limit`.
pub fn came_online(sub: &Subscriber, n: u32, limit: Duration) -> bool {
    let count = || {
        sub.messages()
            .iter()
            .filter(|m| m.topic.ends_with("/availability") && m.payload == "online")
            .count()
    };
    count() >= n as usize || wait_until(limit, || count() >= n as usize)
}

pub fn config(dir: &std::path::Path, url: &str, site: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"{site}\"\n[mqtt]\nurl = \"{url}\"\ninterval_s = 10\n\
             keep_alive_s = 5\ndiscovery = false\n"
        ),
    )
}

/// In arrival order, each sensor's reports (first copies; a redelivery may repeat one) come with
/// increasing sequence numbers: the sensors whose reports arrived out of order.
pub fn out_of_order(messages: &[Received]) -> Vec<String> {
    let mut seen: BTreeMap<String, (BTreeSet<u64>, u64)> = BTreeMap::new();
    let mut wrong = BTreeSet::new();
    for (sensor, seq) in messages.iter().filter_map(|m| {
        let mut levels = m.topic.split('/').skip(2);
        let sensor = levels.next()?;
        let kind = levels.next()?;
        matches!(kind, "occupancy" | "zone" | "line").then_some(())?;
        let payload: serde_json::Value = serde_json::from_str(&m.payload).ok()?;
        Some((sensor.to_string(), payload["seq"].as_u64()?))
    }) {
        let (firsts, newest) = seen.entry(sensor.clone()).or_default();
        if firsts.insert(seq) {
            if seq < *newest {
                wrong.insert(sensor);
            }
            *newest = seq;
        }
    }
    wrong.into_iter().collect()
}

/// The last availability each sensor said, as a subscriber received it (`topic root` → payload).
pub fn last_availability(messages: &[Received]) -> BTreeMap<String, String> {
    let mut last = BTreeMap::new();
    for m in messages {
        if let Some(sensor) = m.topic.strip_suffix("/availability") {
            last.insert(sensor.to_string(), m.payload.clone());
        }
    }
    last
}

/// Waits (20 s at most) until `sub` has received `n` sensors' availability, each last `offline`;
/// panics with what it has otherwise. The sensors' last words travel behind their reports, on
/// a loaded machine (or across a cluster's nodes) a moment later.
pub fn wait_all_offline(sub: &Subscriber, n: usize) {
    let done = || {
        let last = last_availability(&sub.messages());
        last.len() == n && last.values().all(|p| p == "offline")
    };
    assert!(
        wait_until(Duration::from_secs(20), done),
        "not every sensor's last word was offline: {:?}",
        last_availability(&sub.messages())
    );
}

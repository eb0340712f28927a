//! Fleet sizing: `headcount simulate` with many sensors (one report a second each) on a real
//! Mosquitto and on a real three-node RabbitMQ cluster, each restarted (Mosquitto: killed -9
//! and started again; RabbitMQ: one node killed -9) after the sensors' connections are a minute
//! old. Prints one table row per run: reports acknowledged per second, publish-to-PUBACK latency
//! p50 / p99, the peak RSS of `simulate` (and per sensor) and of the broker's processes, and how
//! long after the restart every sensor had said `online` again.
//!
//! `cargo bench --bench fleet`; `HEADCOUNT_FLEET_SENSORS=1000,10000` (default 1000),
//! `HEADCOUNT_FLEET_BROKERS=mosquitto,rabbitmq` (default both).

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod tcommon;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tcommon::rabbitmq::RabbitCluster;
use tcommon::{write_config, Broker, Subscriber};

/// Every sensor's session lasts over a minute before the restart (so reconnections are spread
/// as in a fleet; `simulate` starts its sensors 2 ms apart), then the run goes on a minute more.
fn restart_after(sensors: u32) -> Duration {
    Duration::from_secs(65) + Duration::from_millis(2) * sensors
}

/// The sum of RSS (KiB) of `pids`' processes now.
fn sample_rss(pids: impl Fn() -> Vec<u32>) -> u64 {
    pids()
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

enum Target {
    Mosquitto(Broker),
    Rabbit(RabbitCluster),
}

impl Target {
    fn url(&self) -> String {
        match self {
            Target::Mosquitto(b) => b.url(),
            Target::Rabbit(c) => c.url(),
        }
    }
    /// Where the subscriber listens: a node that stays up.
    fn port(&self) -> u16 {
        match self {
            Target::Mosquitto(b) => b.port,
            Target::Rabbit(c) => c.nodes[0].mqtt_port,
        }
    }
    fn restart(&mut self) {
        match self {
            Target::Mosquitto(b) => {
                b.stop();
                b.restart();
            }
            Target::Rabbit(c) => c.kill(1),
        }
    }
    fn broker_pids(&self) -> Vec<u32> {
        match self {
            Target::Mosquitto(b) => vec![b.pid()],
            Target::Rabbit(c) => c.pids(),
        }
    }
}

fn run(name: &str, mut target: Target, sensors: u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"bench\"\n[mqtt]\nurl = \"{}\"\ninterval_s = 60\ndiscovery = false\n\
             keep_alive_s = 30\nconnect_timeout_s = 30\n",
            target.url()
        ),
    );
    let sub = Subscriber::persistent(target.port(), "headcount/bench/+/availability", "bench-sub");
    let mut child: Child = tcommon::headcount()
        .args(["simulate", "--sensors", &sensors.to_string(), "--json"])
        .args([
            "--duration",
            &(restart_after(sensors).as_secs() + 60).to_string(),
        ])
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("simulate starts");
    // Drained as it comes: a line per sensor fills a pipe long before the end.
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::BufReader::new(stdout).read_to_string(&mut out);
        out
    });
    let started = Instant::now();
    let mut broker_rss = 0;
    while started.elapsed() < restart_after(sensors) {
        broker_rss = broker_rss.max(sample_rss(|| target.broker_pids()));
        std::thread::sleep(Duration::from_millis(500));
    }
    let before = sub.messages().len();
    let restarted = Instant::now();
    target.restart();
    // Back: every sensor said `online` again after the restart.
    let mut back = None;
    while child.try_wait().ok().flatten().is_none() {
        broker_rss = broker_rss.max(sample_rss(|| target.broker_pids()));
        if back.is_none() {
            let online: BTreeSet<String> = sub.messages()[before..]
                .iter()
                // Live ones only: a subscriber's resubscription is handed the retained ones.
                .filter(|m| m.payload == "online" && !m.retained)
                .map(|m| m.topic.clone())
                .collect();
            let expected = match &target {
                Target::Mosquitto(_) => sensors as usize,
                // The killed node's sensors: i mod 3 = 1.
                Target::Rabbit(_) => (sensors as usize + 1) / 3,
            };
            if online.len() >= expected {
                back = Some(restarted.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = reader.join().unwrap_or_default();
    let mut err = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    let status = child.wait().ok();
    let summary: serde_json::Value = out
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    if summary.is_null() {
        println!("{name}, {sensors} sensors: simulate ended {status:?} with no summary: {err}");
        return;
    }
    let field = |k: &str| summary[k].to_string();
    println!(
        "| {name} | {sensors} | {} | {} | {} | {} ({} KiB/sensor) | {:.0} | {} | {} / {} |",
        field("reports_per_s"),
        field("latency_ms_p50"),
        field("latency_ms_p99"),
        field("rss_peak_mib"),
        field("rss_peak_kib_per_sensor"),
        broker_rss as f64 / 1024.0,
        back.map_or("not all".into(), |d| format!("{:.1}", d.as_secs_f64())),
        field("reports_unsent"),
        field("reports_made"),
    );
}

fn main() {
    let sensors: Vec<u32> = std::env::var("HEADCOUNT_FLEET_SENSORS")
        .unwrap_or_else(|_| "1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let brokers =
        std::env::var("HEADCOUNT_FLEET_BROKERS").unwrap_or_else(|_| "mosquitto,rabbitmq".into());
    println!(
        "| broker | sensors | reports/s acked | PUBACK p50 ms | p99 ms | simulate peak MiB | \
         broker peak MiB | all back after restart, s | unsent / made |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sensors {
        if brokers.contains("mosquitto") {
            run("Mosquitto", Target::Mosquitto(Broker::start_logged()), n);
        }
        if brokers.contains("rabbitmq") && tcommon::rabbitmq::installed() {
            run(
                "RabbitMQ, 3 nodes",
                Target::Rabbit(RabbitCluster::start(3)),
                n,
            );
        }
    }
}

//! A fleet of simulated sensors (`headcount simulate`: the real publisher, synthetic counts) on
//! real Mosquitto brokers: a broker killed -9 and restarted mid-run, and a broker list whose
//! first node dies. At a persistent QoS-1 subscriber every sensor's reports arrive, none
//! missing; every sensor ends `offline`; the reconnections after a restart are spread.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{wait_until, write_config, Broker, Received, Subscriber};

/// `headcount simulate` running in the background, its output drained as it comes (a line per
/// sensor fills a pipe long before the end).
struct Simulation {
    child: Child,
    output: std::thread::JoinHandle<(String, String)>,
}

fn simulate(config: &std::path::Path, sensors: u32, seconds: u32) -> Simulation {
    let mut child = common::headcount()
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
fn finish(sim: Simulation, limit: Duration) -> (Vec<serde_json::Value>, serde_json::Value) {
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
fn report_seqs(messages: &[Received]) -> BTreeMap<String, BTreeSet<u64>> {
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
fn all_arrived(sensors: &[serde_json::Value], seqs: &BTreeMap<String, BTreeSet<u64>>) -> bool {
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
fn came_online(sub: &Subscriber, n: u32, limit: Duration) -> bool {
    let count = || {
        sub.messages()
            .iter()
            .filter(|m| m.topic.ends_with("/availability") && m.payload == "online")
            .count()
    };
    count() >= n as usize || wait_until(limit, || count() >= n as usize)
}

fn config(dir: &std::path::Path, url: &str, site: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"{site}\"\n[mqtt]\nurl = \"{url}\"\ninterval_s = 10\n\
             keep_alive_s = 5\ndiscovery = false\n"
        ),
    )
}

/// Connections the broker accepted in each second after `after` (Unix seconds), from its log.
fn connections_per_second(log: &str, after: u64) -> BTreeMap<u64, u32> {
    let mut per_second = BTreeMap::new();
    for line in log.lines().filter(|l| l.contains("New connection from")) {
        let Some(t) = line
            .split(':')
            .next()
            .and_then(|t| t.trim().parse::<u64>().ok())
        else {
            continue;
        };
        if t >= after {
            *per_second.entry(t).or_insert(0) += 1;
        }
    }
    per_second
}

#[test]
fn two_hundred_sensors_lose_nothing_when_their_broker_is_killed_and_restarted() {
    const N: u32 = 200;
    let mut broker = Broker::start_logged();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &broker.url(), "fleet");
    let sub = broker.subscribe_persistent("headcount/fleet/#", "fleet-test-subscriber");
    // Saved by the broker (every second), so the subscription outlives the crash.
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let child = simulate(&config, N, 80);
    assert!(
        came_online(&sub, N, Duration::from_secs(30)),
        "not every sensor came online"
    );
    // Connections that lasted over a minute, as in a fleet, then the broker crashes and its
    // service restarts it at once.
    std::thread::sleep(Duration::from_secs(63).saturating_sub(started.elapsed()));
    broker.stop();
    let restarted_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    broker.restart();
    let (sensors, summary) = finish(child, Duration::from_secs(150));
    assert_eq!(sensors.len(), N as usize);
    assert_eq!(summary["sensors"], N);
    assert_eq!(summary["never_connected"], 0, "{summary}");
    assert_eq!(summary["reports_unsent"], 0, "{summary}");
    assert_eq!(summary["reports_dropped"], 0, "{summary}");
    assert!(
        summary["reconnections"].as_u64().unwrap() >= u64::from(N),
        "every sensor reconnected after the crash: {summary}"
    );
    assert_eq!(
        summary["reports_made"], summary["reports_acked"],
        "{summary}"
    );
    // Every report of every sensor reaches the persistent subscriber: no sequence gap.
    let complete = wait_until(Duration::from_secs(20), || {
        all_arrived(&sensors, &report_seqs(&sub.messages()))
    });
    let seqs = report_seqs(&sub.messages());
    let missing: Vec<String> = sensors
        .iter()
        .filter(|s| {
            let got = seqs
                .get(s["sensor"].as_str().unwrap())
                .map_or(0, BTreeSet::len);
            got as u64 != s["reports_made"].as_u64().unwrap()
        })
        .map(|s| {
            format!(
                "{} {}/{}",
                s["sensor"],
                seqs.get(s["sensor"].as_str().unwrap())
                    .map_or(0, BTreeSet::len),
                s["reports_made"]
            )
        })
        .take(10)
        .collect();
    assert!(complete, "reports missing at the subscriber: {missing:?}");
    // Every sensor ends offline (retained).
    let availability = broker.all_retained("headcount/fleet/+/availability");
    let offline = availability
        .iter()
        .filter(|l| l.ends_with(" offline"))
        .count();
    assert_eq!(offline, N as usize, "{availability:?}");
    // The reconnections after the restart are spread, not N in one second.
    let per_second = connections_per_second(&broker.log(), restarted_at);
    let peak = per_second.values().copied().max().unwrap_or(0);
    let back: u32 = per_second.values().sum();
    eprintln!(
        "reconnections per second after the restart: {per_second:?} (peak {peak}); {summary}"
    );
    assert!(
        back >= N,
        "{back} connections after the restart: {per_second:?}"
    );
    assert!(
        peak <= N / 3,
        "{peak} connections in one second after the restart (of {N}): {per_second:?}"
    );
}

#[test]
fn sensors_move_to_the_next_broker_of_the_list_when_theirs_dies() {
    const N: u32 = 20;
    let mut a = Broker::start_logged();
    let b = Broker::start_logged();
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &format!("{},{}", a.url(), b.url()), "failover");
    let on_a = a.subscribe("headcount/failover/#");
    let on_b = b.subscribe("headcount/failover/#");
    // simulate spreads its sensors over the list: half start on each broker.
    let child = simulate(&config, N, 16);
    assert!(
        came_online(&on_a, N / 2, Duration::from_secs(20)),
        "half the sensors did not start on the first broker"
    );
    std::thread::sleep(Duration::from_secs(4));
    a.stop();
    let (sensors, summary) = finish(child, Duration::from_secs(60));
    assert_eq!(summary["reports_unsent"], 0, "{summary}");
    assert_eq!(
        summary["connections"],
        N + N / 2,
        "those on the first broker moved to the second: {summary}"
    );
    assert!(
        sensors.iter().all(|s| s["broker"] == b.url().as_str()),
        "every sensor ends on the second broker"
    );
    assert!(
        came_online(&on_b, N, Duration::ZERO),
        "not every sensor came online on the second broker"
    );
    assert!(
        wait_until(Duration::from_secs(10), || {
            let mut all = on_a.messages();
            all.extend(on_b.messages());
            all_arrived(&sensors, &report_seqs(&all))
        }),
        "reports lost in the fail-over: {summary}"
    );
    let availability = b.all_retained("headcount/failover/+/availability");
    let offline = availability
        .iter()
        .filter(|l| l.ends_with(" offline"))
        .count();
    assert_eq!(offline, N as usize, "{availability:?}");
}

/// What RabbitMQ's MQTT plugin does with retained messages in a cluster, found here (docs/fleet.md
/// says it): each node keeps its own, and none is given to a wildcard subscription. headcount
/// makes the node its sensor is on hold that sensor's current state (every retained topic is
/// published again on each new connection); the live stream, routed across the cluster, is
/// complete wherever one subscribes.
#[test]
fn three_rabbitmq_nodes_one_killed_its_sensors_move_on_and_nothing_is_lost() {
    const N: u32 = 30;
    if !common::rabbitmq::installed() {
        return;
    }
    let mut cluster = common::rabbitmq::RabbitCluster::start(3);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &cluster.url(), "rabbit");
    let sub = Subscriber::persistent(
        cluster.nodes[0].mqtt_port,
        "headcount/rabbit/#",
        "fleet-rabbit-subscriber",
    );
    // simulate spreads its sensors over the three nodes; the second one dies mid-run.
    let child = simulate(&config, N, 25);
    assert!(
        came_online(&sub, N, Duration::from_secs(30)),
        "not every sensor came online"
    );
    std::thread::sleep(Duration::from_secs(5));
    cluster.kill(1);
    let (sensors, summary) = finish(child, Duration::from_secs(90));
    assert_eq!(summary["reports_unsent"], 0, "{summary}");
    assert_eq!(
        summary["reports_made"], summary["reports_acked"],
        "{summary}"
    );
    let dead = format!("mqtt://127.0.0.1:{}", cluster.nodes[1].mqtt_port);
    assert_eq!(
        summary["connections"],
        N + N / 3,
        "the dead node's sensors reconnected once, elsewhere: {summary}"
    );
    assert!(sensors.iter().all(|s| s["broker"] != dead.as_str()));
    assert!(
        wait_until(Duration::from_secs(20), || all_arrived(
            &sensors,
            &report_seqs(&sub.messages())
        )),
        "reports lost when a node died: {summary}"
    );
    // The live stream says every sensor went offline last.
    let mut last = BTreeMap::new();
    for m in sub.messages() {
        if let Some(sensor) = m.topic.strip_suffix("/availability") {
            last.insert(sensor.to_string(), m.payload);
        }
    }
    assert_eq!(last.len(), N as usize);
    assert!(last.values().all(|p| p == "offline"), "{last:?}");
    // Retained, per node: on the node each sensor ended on, its availability and its last
    // occupancy; on the other live node, nothing of it; on a wildcard, nothing at all.
    let ended_on = |s: &serde_json::Value| {
        cluster
            .nodes
            .iter()
            .position(|n| s["broker"] == format!("mqtt://127.0.0.1:{}", n.mqtt_port).as_str())
            .unwrap()
    };
    for s in sensors.iter().take(6) {
        let name = s["sensor"].as_str().unwrap();
        let topic = format!("headcount/rabbit/{name}/availability");
        let home = ended_on(s);
        assert_eq!(
            cluster.retained(home, &topic).as_deref(),
            Some("offline"),
            "{name}"
        );
        let other = if home == 0 { 2 } else { 0 };
        assert_eq!(
            cluster.retained(other, &topic),
            None,
            "{name} on node {other}"
        );
    }
    assert_eq!(cluster.retained(0, "headcount/rabbit/#"), None, "wildcard");
}

#[test]
fn simulate_says_what_is_wrong_with_its_input_and_with_a_broker() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = common::headcount();
        cmd.arg("simulate").args(args);
        common::run_with_timeout(cmd, Duration::from_secs(60))
    };
    let says = |out: &std::process::Output, code: i32, text: &str| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(err.contains(text), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    let no_broker = write_config(dir.path(), "[sensor]\nsite = \"x\"\n");
    let no_broker = no_broker.to_str().unwrap();
    says(
        &run(&["--sensors", "3", "--config", no_broker]),
        2,
        "mqtt.url is empty",
    );
    let broker = Broker::start_with("allow_anonymous false\n");
    let refused = config(dir.path(), &broker.url(), "x");
    let refused = refused.to_str().unwrap();
    says(
        &run(&["--sensors", "0", "--config", refused]),
        2,
        "allowed 1..=20000",
    );
    says(
        &run(&["--sensors", "2", "--config", refused, "--duration=0"]),
        2,
        "--duration",
    );
    says(
        &run(&["--sensors", "2", "--config", refused, "--duration", "2"]),
        1,
        "not authorised",
    );
    // Nobody answers: the summary still comes, and the exit code says reports were not taken.
    let down = config(
        dir.path(),
        &format!("mqtt://127.0.0.1:{}", common::unused_port()),
        "x",
    );
    let out = run(&[
        "--sensors",
        "2",
        "--config",
        down.to_str().unwrap(),
        "--duration",
        "2",
        "--json",
    ]);
    says(&out, 1, "never connected");
    let summary = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(summary.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(summary["never_connected"], 2, "{summary}");
    assert!(
        summary["reports_unsent"].as_u64().unwrap() >= 2,
        "{summary}"
    );
}

/// In arrival order, each sensor's reports (first copies; a redelivery may repeat one) come with
/// increasing sequence numbers: the sensors whose reports arrived out of order.
fn out_of_order(messages: &[Received]) -> Vec<String> {
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

#[test]
fn a_floor_broker_bridged_to_the_centre_forwards_everything_in_order_after_a_30_s_cut() {
    const N: u32 = 20;
    let central = Broker::start_logged();
    let link = common::relay::Relay::start(central.port);
    // The floor's bridge: QoS 1, a persistent session at the centre, quick to retry.
    let floor = Broker::start_logged_with(&format!(
        "connection central\naddress 127.0.0.1:{}\ntopic headcount/# out 1\n\
         cleansession false\nremote_clientid floor-1-bridge\nrestart_timeout 1 3\n",
        link.port
    ));
    let sub = Subscriber::persistent(central.port, "headcount/bridged/#", "central-subscriber");
    assert!(
        wait_until(Duration::from_secs(20), || central
            .log()
            .contains("as floor-1-bridge")),
        "the bridge never connected"
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &floor.url(), "bridged");
    let child = simulate(&config, N, 45);
    assert!(
        came_online(&sub, N, Duration::from_secs(30)),
        "not every sensor came online at the centre"
    );
    std::thread::sleep(Duration::from_secs(5));
    link.cut();
    let cut_at = sub.messages().len();
    std::thread::sleep(Duration::from_secs(30));
    let during = sub.messages().len() - cut_at;
    link.restore();
    let (sensors, summary) = finish(child, Duration::from_secs(90));
    assert_eq!(summary["reports_unsent"], 0, "{summary}");
    assert_eq!(
        summary["reconnections"], 0,
        "the sensors' own broker stayed up: {summary}"
    );
    assert!(
        during <= 2 * N as usize,
        "{during} messages crossed a cut link"
    );
    assert!(
        wait_until(Duration::from_secs(30), || all_arrived(
            &sensors,
            &report_seqs(&sub.messages())
        )),
        "reports lost across the bridge: {summary}"
    );
    let wrong = out_of_order(&sub.messages());
    assert!(
        wrong.is_empty(),
        "reports out of order at the centre: {wrong:?}"
    );
    let mut last = BTreeMap::new();
    for m in sub.messages() {
        if let Some(sensor) = m.topic.strip_suffix("/availability") {
            last.insert(sensor.to_string(), m.payload);
        }
    }
    assert!(
        last.len() == N as usize && last.values().all(|p| p == "offline"),
        "{last:?}"
    );
}

/// A node that answers "server unavailable" (still starting, overloaded) is passed over for the
/// next one, not taken for a configuration error.
#[test]
fn a_node_that_says_it_is_unavailable_is_passed_over() {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unavailable = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut connect = [0u8; 512];
            let _ = std::io::Read::read(&mut stream, &mut connect);
            // CONNACK, return code 3: server unavailable.
            let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x03]);
        }
    });
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!("mqtt://127.0.0.1:{unavailable},{}", broker.url()),
        "busy",
    );
    let sub = broker.subscribe("headcount/busy/#");
    let (sensors, summary) = finish(simulate(&config, 4, 3), Duration::from_secs(60));
    assert_eq!(summary["never_connected"], 0, "{summary}");
    assert_eq!(summary["reports_unsent"], 0, "{summary}");
    assert!(sensors.iter().all(|s| s["broker"] == broker.url().as_str()));
    assert!(wait_until(Duration::from_secs(10), || all_arrived(
        &sensors,
        &report_seqs(&sub.messages())
    )));
}

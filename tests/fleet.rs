//! A fleet of simulated sensors (`headcount simulate`: the real publisher, synthetic counts) on
//! real Mosquitto brokers: a broker killed -9 and restarted mid-run, a broker list whose first
//! node dies, a node that says it is unavailable, and bad input. At a persistent QoS-1
//! subscriber every sensor's reports arrive, none missing; every sensor ends `offline`; the
//! reconnections after a restart are spread. (`fleet_cluster.rs`: a RabbitMQ cluster, a bridge.)

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::fleet::{all_arrived, came_online, config, finish, report_seqs, simulate};
use common::{wait_until, write_config, Broker};

/// Every one of the site's `n` sensors has `offline` as its retained availability on `broker`.
fn assert_all_offline(broker: &Broker, site: &str, n: u32) {
    let availability = broker.all_retained(&format!("headcount/{site}/+/availability"));
    let offline = availability
        .iter()
        .filter(|l| l.ends_with(" offline"))
        .count();
    assert_eq!(offline, n as usize, "{availability:?}");
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
    assert_all_offline(&broker, "fleet", N);
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
    // What a simulated sensor publishes keeps to the topics' schemas.
    let schemas = common::Schemas::load();
    for m in on_a.messages().iter().chain(on_b.messages().iter()) {
        schemas.validate(m);
    }
    assert_all_offline(&b, "failover", N);
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

/// A node that answers "server unavailable" (still starting, overloaded), and one too busy to
/// take the connection at all (rumqttc's network timeout), are passed over for the next one, not
/// taken for a configuration error.
#[test]
fn nodes_that_are_unavailable_or_too_busy_to_connect_are_passed_over() {
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
    // A node too busy to take connections: it never accepts, and its queue of connections
    // waiting to be accepted is full, so a new one is not even established (rumqttc's network
    // timeout; a 10,000-sensor fleet met this on RabbitMQ).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let mut waiting = Vec::new();
    for _ in 0..4096 {
        match std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], silent_port).into(),
            Duration::from_millis(300),
        ) {
            Ok(s) => waiting.push(s),
            Err(_) => break,
        }
    }
    assert!(
        std::net::TcpStream::connect_timeout(
            &([127, 0, 0, 1], silent_port).into(),
            Duration::from_millis(300)
        )
        .is_err(),
        "the busy node's queue did not fill ({} connections)",
        waiting.len()
    );
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    // A connect timeout longer than rumqttc's own (5 s), as a fleet on a slow network sets it:
    // rumqttc then gives up first, with its "network timeout".
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"busy\"\n[mqtt]\nurl = \"mqtt://127.0.0.1:{unavailable},\
             mqtt://127.0.0.1:{silent_port},{}\"\ndiscovery = false\nconnect_timeout_s = 30\n",
            broker.url()
        ),
    );
    let sub = broker.subscribe("headcount/busy/#");
    let (sensors, summary) = finish(simulate(&config, 6, 3), Duration::from_secs(90));
    assert_eq!(summary["never_connected"], 0, "{summary}");
    assert_eq!(summary["reports_unsent"], 0, "{summary}");
    assert!(sensors.iter().all(|s| s["broker"] == broker.url().as_str()));
    assert!(wait_until(Duration::from_secs(10), || all_arrived(
        &sensors,
        &report_seqs(&sub.messages())
    )));
}

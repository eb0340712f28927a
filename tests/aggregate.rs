//! `headcount aggregate` against a real Mosquitto: the building's occupancy across doors, with
//! sensors played by scripted publishes (restarts, duplicates, late backlogs, a sensor going
//! offline, garbage) and by `headcount replay` of the one-by-one clip through two doors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use common::{headcount, wait_until, Broker, Received, Schemas, Subscriber};

const SITE: &str = "hq";

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn aggregate_config(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let state = dir.join("state");
    let path = dir.join("aggregate.toml");
    std::fs::write(
        &path,
        format!(
            "[site]\nname = \"{SITE}\"\nstale_after_s = 30\n\
             [[site.entrances]]\nsensor = \"door-a\"\nline = \"door\"\n\
             [[site.entrances]]\nsensor = \"door-b\"\nline = \"door\"\n{extra}\
             [mqtt]\nurl = \"{url}\"\ninterval_s = 5\n\
             [state]\ndir = \"{}\"\n",
            state.display()
        ),
    )
    .unwrap();
    path
}

/// `headcount aggregate`, its log kept beside the config.
fn start(config: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config.with_extension("log"))
        .unwrap();
    headcount()
        .args(["aggregate", "--config"])
        .arg(config)
        .env("HEADCOUNT_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn headcount aggregate")
}

/// SIGTERM, then the exit status (30 s at most).
fn stop(mut child: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the aggregator did not stop within 30 s of SIGTERM");
}

fn publish(broker: &Broker, topic: &str, payload: &str, retained: bool) {
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-h", "127.0.0.1", "-p", &broker.port.to_string(), "-q", "1"])
        .args(["-t", topic, "-m", payload]);
    if retained {
        cmd.arg("-r");
    }
    assert!(cmd.status().expect("mosquitto_pub").success());
}

/// A line payload as a sensor publishes it.
fn line(seq: u64, ts: SystemTime, epoch: SystemTime, ins: u64, outs: u64) -> String {
    format!(
        r#"{{"schema":1,"seq":{seq},"ts":"{}","in_total":{ins},"out_total":{outs},"in":0,"out":0,"epoch":"{}","window_s":1.0}}"#,
        rfc3339(ts),
        rfc3339(epoch)
    )
}

fn site_topic(name: &str) -> String {
    format!("headcount/{SITE}/_site/{name}")
}

/// The newest payload on `topic`, parsed.
fn newest(sub: &Subscriber, topic: &str) -> Option<serde_json::Value> {
    sub.messages()
        .iter()
        .rev()
        .find(|m| m.topic == topic)
        .and_then(|m| serde_json::from_str(&m.payload).ok())
}

/// Waits until the newest `building` payload satisfies `pred`; panics with it otherwise.
fn building_until(sub: &Subscriber, what: &str, pred: impl Fn(&serde_json::Value) -> bool) {
    let ok = wait_until(Duration::from_secs(20), || {
        newest(sub, &site_topic("building")).is_some_and(|b| pred(&b))
    });
    assert!(
        ok,
        "{what}: building is {:?}",
        newest(sub, &site_topic("building"))
    );
}

fn validate_all(messages: &[Received]) {
    let schemas = Schemas::load();
    let mut site = 0;
    for m in messages.iter().filter(|m| m.topic.contains("/_site/")) {
        schemas.validate(m);
        site += 1;
    }
    assert!(site > 0, "no site message to validate");
}

#[test]
fn door_a_in_door_b_out_restarts_duplicates_backlogs_and_an_offline_sensor() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = aggregate_config(dir.path(), &broker.url(), "");
    let sub = broker.subscribe(&format!("headcount/{SITE}/_site/#"));
    let agg = start(&config);
    assert!(
        sub.wait_for(Duration::from_secs(20), |m| m.topic
            == site_topic("availability")
            && m.payload == "online"),
        "the aggregator never said online"
    );
    let now = SystemTime::now();
    let epoch = now - Duration::from_secs(60);
    let t = |s: u64| now - Duration::from_secs(30) + Duration::from_secs(s);
    for s in ["door-a", "door-b"] {
        publish(
            &broker,
            &format!("headcount/{SITE}/{s}/availability"),
            "online",
            true,
        );
    }
    let a = format!("headcount/{SITE}/door-a/line/door");
    let b = format!("headcount/{SITE}/door-b/line/door");
    // Three people in through door A, out through door B.
    publish(&broker, &a, &line(10, t(1), epoch, 3, 0), true);
    building_until(&sub, "3 in at door A", |b| {
        b["count"] == 3 && b["in_total"] == 3
    });
    publish(&broker, &b, &line(20, t(2), epoch, 0, 3), true);
    building_until(&sub, "3 out at door B", |b| {
        b["count"] == 0 && b["out_total"] == 3 && b["complete"] == true
    });
    // Door A restarts: a new epoch from 0; one more person in. No jump.
    let epoch2 = t(3);
    publish(&broker, &a, &line(30, t(4), epoch2, 1, 0), true);
    building_until(&sub, "door A restarted", |b| {
        b["count"] == 1 && b["in_total"] == 4
    });
    // A QoS-1 duplicate of that report, and door A's old epoch's backlog (two more people in
    // before its restart) arriving late, twice.
    publish(&broker, &a, &line(30, t(4), epoch2, 1, 0), false);
    publish(&broker, &a, &line(12, t(2), epoch, 5, 0), false);
    publish(&broker, &a, &line(12, t(2), epoch, 5, 0), false);
    building_until(&sub, "late backlog", |b| {
        b["count"] == 3 && b["in_total"] == 6
    });
    // Garbage on a sensor topic changes nothing and stops nothing.
    publish(&broker, &a, "{not json", false);
    publish(&broker, &a, &"x".repeat(100_000), false);
    // Door B goes offline (its Last Will, say).
    publish(
        &broker,
        &format!("headcount/{SITE}/door-b/availability"),
        "offline",
        true,
    );
    building_until(&sub, "door B offline", |b| {
        b["complete"] == false && b["missing"] == serde_json::json!(["door-b"]) && b["count"] == 3
    });
    assert!(
        wait_until(Duration::from_secs(20), || newest(
            &sub,
            &site_topic("sensors")
        )
        .is_some_and(|s| s["offline"] == serde_json::json!(["door-b"])
            && s["online"] == serde_json::json!(["door-a"]))),
        "sensors: {:?}",
        newest(&sub, &site_topic("sensors"))
    );
    // A restart of the aggregator keeps the day's count (the state dir), and says offline.
    let status = stop(agg);
    assert!(status.success(), "aggregate exited {status}");
    assert_eq!(
        broker.retained(&site_topic("availability")).as_deref(),
        Some("offline")
    );
    let before = sub.messages().len();
    let agg = start(&config);
    assert!(wait_until(Duration::from_secs(20), || sub.messages()
        [before..]
        .iter()
        .any(|m| m.topic == site_topic("building"))));
    let again: serde_json::Value = serde_json::from_str(
        &sub.messages()[before..]
            .iter()
            .rev()
            .find(|m| m.topic == site_topic("building"))
            .unwrap()
            .payload,
    )
    .unwrap();
    assert_eq!(
        (again["in_total"].as_u64(), again["count"].as_u64()),
        (Some(6), Some(3)),
        "{again}"
    );
    // Site entities for Home Assistant, and every site payload fits its schema.
    let discovery = broker.all_retained("homeassistant/sensor/headcount_hq_site/#");
    assert_eq!(discovery.len(), 6, "{discovery:?}");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schema/ha-sensor-discovery.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let ha = jsonschema::validator_for(&schema).unwrap();
    for line in &discovery {
        let (topic, payload) = line.split_once(' ').unwrap();
        let config: serde_json::Value = serde_json::from_str(payload).unwrap();
        assert!(ha.validate(&config).is_ok(), "{topic}: {config}");
        assert_eq!(config["availability_topic"], site_topic("availability"));
    }
    assert!(stop(agg).success());
    validate_all(&sub.messages());
    let log = std::fs::read_to_string(config.with_extension("log")).unwrap();
    assert!(
        log.contains("could not be read") && log.contains("larger than any sensor"),
        "{log}"
    );
}

#[test]
fn six_people_in_at_one_door_and_out_at_another_leave_the_building_empty() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = aggregate_config(dir.path(), &broker.url(), "");
    let sub = broker.subscribe(&format!("headcount/{SITE}/#"));
    let agg = start(&config);
    // The one-by-one clip: six people cross the doorway line one at a time. Door A's line
    // counts them in; later door B's, drawn the other way, counts the same walk as six going out.
    // 5 of the clip's 10 frames a second: the same crossings (tests/door_count.rs measured the
    // doorway line's counts at both rates), half the inference.
    for (name, from, to, want) in [
        ("door-a", "[0.0, 0.95]", "[1.0, 0.95]", (6, 0, 6)),
        ("door-b", "[1.0, 0.95]", "[0.0, 0.95]", (6, 6, 0)),
    ] {
        let sensor_dir = dir.path().join(name);
        std::fs::create_dir_all(&sensor_dir).unwrap();
        let cfg = common::write_config(
            &sensor_dir,
            &format!(
                "[sensor]\nsite = \"{SITE}\"\nname = \"{name}\"\n[source]\nfps = 5\n\
                 [[counting.lines]]\nname = \"door\"\nfrom = {from}\nto = {to}\n\
                 [mqtt]\nurl = \"{}\"\ndiscovery = false\n",
                broker.url()
            ),
        );
        common::replay_one_by_one_ok(&cfg, &["--quiet"]);
        let (ins, outs, count) = want;
        building_until(&sub, &format!("{name} replayed"), |b| {
            b["in_total"] == ins && b["out_total"] == outs && b["count"] == count
        });
    }
    // The day's history holds the peak.
    let history = newest(&sub, &site_topic("history")).expect("history");
    let peak = history["building"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .max();
    assert_eq!(peak, Some(6), "{history}");
    // Both replays ended and said offline: the building's count is incomplete now.
    building_until(&sub, "the sensors went offline", |b| b["complete"] == false);
    assert!(stop(agg).success());
    validate_all(&sub.messages());
}

#[test]
fn bad_configs_and_an_absent_broker_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[site]\nname = \"hq\"\ncolour = 2\n", "colour"),
        (
            "[site]\nname = \"hq\"\n[[site.rooms]]\nsensor = \"_x\"\n",
            "site.rooms.sensor",
        ),
        ("[site]\nname = \"hq\"\n", "mqtt.url"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = common::run_with_timeout(
            {
                let mut c = headcount();
                c.args(["aggregate", "--config"]).arg(&path);
                c
            },
            Duration::from_secs(30),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(
            err.contains(key) && !err.contains("panicked"),
            "{text}: {err}"
        );
        // check-config knows an aggregator's file and says the same.
        let check = common::run_with_timeout(
            {
                let mut c = headcount();
                c.arg("check-config").arg(&path);
                c
            },
            Duration::from_secs(30),
        );
        if key != "mqtt.url" {
            assert_eq!(check.status.code(), Some(2), "{text}");
        }
    }
    // A sensor may not take the aggregator's level.
    let sensor = common::write_config(dir.path(), "[sensor]\nname = \"_site\"\n");
    let check = common::run_with_timeout(
        {
            let mut c = headcount();
            c.arg("check-config").arg(&sensor);
            c
        },
        Duration::from_secs(30),
    );
    assert_eq!(check.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&check.stderr).contains("sensor.name"));
    // No broker there yet: the aggregator waits for it (as a sensor does), and stops cleanly.
    let config = aggregate_config(
        dir.path(),
        &format!("mqtt://127.0.0.1:{}", common::unused_port()),
        "",
    );
    let agg = start(&config);
    std::thread::sleep(Duration::from_secs(2));
    let status = stop(agg);
    assert!(status.code().is_some(), "ended by a signal: {status}");
}

#[test]
fn the_shipped_and_the_readme_aggregator_configs_pass_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    // The README's aggregator example: the ```toml block that starts with [site].
    let block = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.starts_with("[site]"))
        .expect("README has an aggregator config example");
    let example = dir.path().join("readme-aggregate.toml");
    std::fs::write(&example, block).unwrap();
    for path in [common::root().join("deploy/aggregate.toml"), example] {
        let out = common::run_with_timeout(
            {
                let mut c = headcount();
                c.arg("check-config").arg(&path);
                c
            },
            Duration::from_secs(30),
        );
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("[site]"));
    }
}

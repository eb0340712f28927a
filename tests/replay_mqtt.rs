//! End to end, as a user runs it: `headcount replay` on the committed one-by-one clip, publishing
//! to a real Mosquitto, with a real subscriber checking what arrives.

mod common;

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{one_by_one, wait_until, write_config, Broker, Received};
use headcount::publish::{OccupancyPayload, SCHEMA_VERSION};

const SITE: &str = "test";

fn config_for(broker: &Broker, dir: &std::path::Path, sensor: &str) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"{SITE}\"\nname = \"{sensor}\"\n[mqtt]\nurl = \"{}\"\ninterval_s = 30\n",
            broker.url()
        ),
    )
}

/// Starts `headcount replay` and collects its stdout lines.
fn start_replay(args: &[&str], config: &std::path::Path) -> (Child, Arc<Mutex<Vec<String>>>) {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    common::spawn_replay(&args, config)
}

/// Sends SIGTERM, as systemd does to stop a service.
fn sigterm(child: &Child) {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Validates every message against the committed JSON Schema of its topic, then parses the
/// occupancy payloads into the schema type and checks their invariants (no safeguards on).
fn occupancy_payloads(messages: &[Received], topic: &str) -> Vec<OccupancyPayload> {
    let schemas = common::Schemas::load();
    for m in messages {
        schemas.validate(m);
    }
    let payloads: Vec<OccupancyPayload> = messages
        .iter()
        .filter(|m| m.topic == topic)
        .map(|m| {
            serde_json::from_str(&m.payload)
                .unwrap_or_else(|e| panic!("payload {:?} breaks the schema: {e}", m.payload))
        })
        .collect();
    let mut last_seq = 0;
    for p in &payloads {
        assert_eq!(p.schema, SCHEMA_VERSION);
        assert!(p.seq > last_seq, "seq must increase: {p:?}");
        last_seq = p.seq;
        let exact = |v: &Option<headcount::publish::Banded<u32>>| {
            v.as_ref().and_then(|b| b.value()).expect("exact value")
        };
        let (count, min, max) = (
            p.count.value().expect("exact"),
            exact(&p.min),
            exact(&p.max),
        );
        let mean = p.mean.as_ref().and_then(|m| m.value()).expect("exact mean");
        assert!(min <= count && count <= max, "{p:?}");
        assert!(min as f64 <= mean && mean <= max as f64, "{p:?}");
        assert!(p.window_s >= 0.0, "{p:?}");
        humantime::parse_rfc3339(&p.ts).unwrap_or_else(|e| panic!("ts {:?}: {e}", p.ts));
    }
    payloads
}

/// Collapses runs of equal counts: 0,0,1,1,1,0 → 0,1,0.
fn transitions(counts: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for c in counts {
        if out.last() != Some(&c) {
            out.push(c);
        }
    }
    out
}

#[test]
fn one_by_one_clip_counts_six_people_one_at_a_time_over_mqtt() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(&broker, dir.path(), "obo");
    // A doorway line across the walkway near the bottom of the picture (people walk up into
    // the room: left → right of the directed segment = "in"), and a zone over the left half.
    let extra = "[[counting.lines]]\nname = \"door\"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n\
                 [[counting.zones]]\nname = \"left\"\npolygon = [[0,0],[0.5,0],[0.5,1],[0,1]]\n";
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen("[mqtt]", &format!("{extra}[mqtt]"), 1),
    )
    .unwrap();
    let root = format!("headcount/{SITE}/obo");
    let sub = broker.subscribe(&format!("{root}/#"));
    let clip = one_by_one();
    let started = std::time::SystemTime::now();
    let (mut child, stdout) = start_replay(&[clip.to_str().unwrap()], &config);

    // While it runs, a dashboard subscribing late sees the retained `online`.
    assert!(
        sub.wait_for(Duration::from_secs(120), |m| m
            .topic
            .ends_with("/occupancy")),
        "no occupancy published"
    );
    assert_eq!(
        broker.retained(&format!("{root}/availability")).as_deref(),
        Some("online")
    );

    let deadline = Instant::now() + Duration::from_secs(900);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "replay did not finish");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "replay failed: {status}");
    assert!(wait_until(Duration::from_secs(5), || {
        sub.messages().iter().any(|m| m.payload == "offline")
    }));

    let messages = sub.messages();
    for m in &messages {
        assert!(
            [
                "occupancy",
                "availability",
                "privacy",
                "health",
                "zone/left",
                "line/door"
            ]
            .iter()
            .any(|t| m.topic == format!("{root}/{t}")),
            "unexpected topic {}",
            m.topic
        );
    }
    let payloads = occupancy_payloads(&messages, &format!("{root}/occupancy"));
    let seen = transitions(payloads.iter().filter_map(|p| p.count.value()));
    assert_eq!(
        seen,
        vec![0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
        "occupancy must go 0 -> 1 -> 0 six times"
    );
    assert!(
        payloads
            .iter()
            .all(|p| p.max.as_ref().and_then(|m| m.value()) <= Some(1)),
        "never more than one person in view"
    );
    // A fast replay describes the past: the clip is placed so that it ends when the replay
    // started, so no `ts` is ahead of the wall clock (or of a live sensor's later counts), and
    // they never go backwards.
    let ts: Vec<std::time::SystemTime> = payloads
        .iter()
        .map(|p| humantime::parse_rfc3339(&p.ts).unwrap())
        .collect();
    let last = *ts.last().unwrap();
    assert!(
        last <= started + Duration::from_secs(2) && last + Duration::from_secs(5) >= started,
        "last ts {} vs replay start {}",
        payloads.last().unwrap().ts,
        humantime::format_rfc3339_seconds(started)
    );
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");

    // The door line: exactly six people walked in, nobody out; totals only grow.
    let lines: Vec<serde_json::Value> = messages
        .iter()
        .filter(|m| m.topic == format!("{root}/line/door"))
        .map(|m| serde_json::from_str(&m.payload).unwrap())
        .collect();
    let last = lines.last().expect("line/door published");
    assert_eq!(
        (&last["in_total"], &last["out_total"]),
        (&6.into(), &0.into()),
        "{last}"
    );
    let deltas: u64 = lines.iter().map(|l| l["in"].as_u64().unwrap()).sum();
    assert_eq!(deltas, 6, "interval deltas add up to the total");
    assert!(lines
        .windows(2)
        .all(|w| w[1]["in_total"].as_u64() >= w[0]["in_total"].as_u64()));
    // The zone: at most the one person in view.
    let zone_max = messages
        .iter()
        .filter(|m| m.topic == format!("{root}/zone/left"))
        .map(|m| serde_json::from_str::<OccupancyPayload>(&m.payload).unwrap())
        .filter_map(|p| p.max.and_then(|m| m.value()))
        .max();
    assert!(zone_max.is_some_and(|m| m <= 1), "{zone_max:?}");

    // stdout carries the same messages as the broker, in the same order.
    let printed: Vec<(u64, u32)> = stdout
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["topic"] == format!("{root}/occupancy"))
        .map(|v| {
            (
                v["seq"].as_u64().unwrap(),
                v["count"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    let published: Vec<(u64, u32)> = payloads
        .iter()
        .map(|p| (p.seq, p.count.value().expect("exact")))
        .collect();
    assert_eq!(printed, published);

    // The last heartbeat says the clip ended after all its frames, with real inference times.
    let health: serde_json::Value =
        serde_json::from_str(&broker.retained(&format!("{root}/health")).unwrap()).unwrap();
    assert_eq!(health["source"], "ended", "{health}");
    assert_eq!(health["frames"], 1394, "{health}");
    assert_eq!(
        health["runtime"], "litert",
        "runtime auto on a CPU: {health}"
    );
    assert!(
        health["inference_ms_p50"].as_f64().unwrap() > 1.0,
        "{health}"
    );
    assert!(health.get("last_error").is_none(), "{health}");

    // After a clean exit: retained `offline`, and the retained occupancy is the final state.
    assert_eq!(
        broker.retained(&format!("{root}/availability")).as_deref(),
        Some("offline")
    );
    let last: OccupancyPayload =
        serde_json::from_str(&broker.retained(&format!("{root}/occupancy")).unwrap()).unwrap();
    assert_eq!(last.count.value(), Some(0));
    assert_eq!(last.seq, payloads.last().unwrap().seq);
}

/// A realtime replay of the one-by-one clip publishing as sensor `name`, once its first
/// occupancy has arrived and `online` is retained.
struct LiveSensor {
    broker: Broker,
    _dir: tempfile::TempDir,
    sub: common::Subscriber,
    child: Child,
    root: String,
}

fn start_live_sensor(name: &str) -> LiveSensor {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(&broker, dir.path(), name);
    let root = format!("headcount/{SITE}/{name}");
    let sub = broker.subscribe(&format!("{root}/#"));
    let clip = one_by_one();
    let (child, _) = start_replay(&[clip.to_str().unwrap(), "--realtime"], &config);
    assert!(sub.wait_for(Duration::from_secs(60), |m| m.topic.ends_with("/occupancy")));
    assert_eq!(
        broker.retained(&format!("{root}/availability")).as_deref(),
        Some("online")
    );
    LiveSensor {
        broker,
        _dir: dir,
        sub,
        child,
        root,
    }
}

#[test]
fn killed_daemon_is_marked_offline_by_its_last_will() {
    let LiveSensor {
        broker,
        _dir,
        sub: _sub,
        mut child,
        root,
    } = start_live_sensor("kill");
    child.kill().unwrap(); // SIGKILL: no chance to say goodbye
    child.wait().unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || {
            broker.retained(&format!("{root}/availability")).as_deref() == Some("offline")
        }),
        "the Last Will did not mark the sensor offline"
    );
}

#[test]
fn sigterm_flushes_the_last_interval_and_exits_cleanly() {
    let LiveSensor {
        broker: _broker,
        _dir,
        sub,
        mut child,
        root,
    } = start_live_sensor("term");
    std::thread::sleep(Duration::from_secs(2));
    let before = sub.messages().len();
    sigterm(&child);
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "SIGTERM did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(wait_until(Duration::from_secs(5), || {
        sub.messages().iter().any(|m| m.payload == "offline")
    }));
    let messages = sub.messages();
    // The partial interval since the last report was flushed, then a final heartbeat saying the
    // source was stopped, then `offline`.
    let after: Vec<&Received> = messages[before..].iter().collect();
    let topics: Vec<&str> = after
        .iter()
        .map(|m| m.topic.rsplit('/').next().unwrap_or(""))
        .collect();
    assert!(
        topics.ends_with(&["occupancy", "health", "availability"]),
        "{after:?}"
    );
    let health: serde_json::Value = serde_json::from_str(&after[after.len() - 2].payload).unwrap();
    assert_eq!(health["source"], "stopped", "{health}");
    occupancy_payloads(&messages, &format!("{root}/occupancy"));
}

#[test]
fn live_input_faster_than_inference_drops_old_frames_instead_of_lagging() {
    // 30 frames/s paced in real time is more than inference manages here: the newest frame wins.
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"{SITE}\"\nname = \"live\"\n[source]\nfps = 30\n[mqtt]\nurl = \"{}\"\n",
            broker.url()
        ),
    );
    let root = format!("headcount/{SITE}/live");
    let sub = broker.subscribe(&format!("{root}/#"));
    let clip = one_by_one();
    let (mut child, _) = start_replay(&[clip.to_str().unwrap(), "--realtime"], &config);
    assert!(sub.wait_for(Duration::from_secs(60), |m| m.topic.ends_with("/occupancy")));
    std::thread::sleep(Duration::from_secs(4));
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let health: serde_json::Value =
        serde_json::from_str(&broker.retained(&format!("{root}/health")).unwrap()).unwrap();
    let (frames, dropped) = (
        health["frames"].as_u64().unwrap(),
        health["dropped"].as_u64().unwrap(),
    );
    assert!(frames > 10, "{health}");
    assert!(dropped > 10, "frames must be dropped, not queued: {health}");
}

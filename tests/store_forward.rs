//! Store-and-forward against a real Mosquitto that goes away: stopped for 30 s in the middle of a
//! run, down when the daemon starts, and the daemon SIGKILLed while reports were queued. Every
//! aggregate the daemon made (what `replay` prints) must reach the broker, in order, with its
//! original `seq` and `ts`; duplicates are allowed (QoS 1 is at least once) and deduplicated by
//! `seq`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{one_by_one_first, unused_port, write_config, Broker, Received};

fn config(dir: &Path, port: u16) -> PathBuf {
    write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"sf\"\nname = \"s1\"\n[source]\nfps = 2\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\ninterval_s = 1\nconnect_timeout_s = 2\n\
             [state]\ndir = \"{}\"\n",
            dir.join("state").display()
        ),
    )
}

/// Starts a paced replay; its stdout lines are collected.
fn start(video: &Path, config: &Path) -> (Child, Arc<Mutex<Vec<String>>>) {
    common::spawn_replay(&[video.as_os_str(), "--realtime".as_ref()], config)
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "headcount did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// (seq, ts) of the occupancy messages in printed JSON lines.
fn printed(lines: &[String]) -> Vec<(u64, String)> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["topic"]
                .as_str()
                .is_some_and(|t| t.ends_with("/occupancy"))
        })
        .map(|v| {
            (
                v["seq"].as_u64().unwrap(),
                v["ts"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// (seq, ts) of the occupancy messages a subscriber received, in arrival order.
fn received(messages: &[Received]) -> Vec<(u64, String)> {
    messages
        .iter()
        .filter(|m| m.topic.ends_with("/occupancy") && !m.retained)
        .map(|m| {
            let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
            (
                v["seq"].as_u64().unwrap(),
                v["ts"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Every printed report arrived (same seq, same ts), and each subscriber saw them in order.
fn assert_all_delivered_in_order(printed: &[(u64, String)], subscribers: &[Vec<(u64, String)>]) {
    assert!(!printed.is_empty());
    let got: BTreeSet<&(u64, String)> = subscribers.iter().flatten().collect();
    let missing: Vec<&(u64, String)> = printed.iter().filter(|p| !got.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} reports never reached the broker: {missing:?}",
        missing.len(),
        printed.len()
    );
    for (i, sub) in subscribers.iter().enumerate() {
        let mut seqs: Vec<u64> = sub.iter().map(|(s, _)| *s).collect();
        seqs.dedup();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "subscriber {i} saw reports out of order: {seqs:?}"
        );
    }
}

#[test]
fn a_30_second_broker_outage_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let video = one_by_one_first(dir.path(), 75);
    let mut broker = Broker::start();
    let config = config(dir.path(), broker.port);
    let sub1 = broker.subscribe("headcount/sf/s1/#");
    let (mut child, lines) = start(&video, &config);
    std::thread::sleep(Duration::from_secs(10));
    broker.stop();
    let delivered_before = received(&sub1.messages()).len();
    std::thread::sleep(Duration::from_secs(30));
    let produced_by_restart = printed(&lines.lock().unwrap()).len();
    broker.restart();
    let sub2 = broker.subscribe("headcount/sf/s1/#");
    let status = wait_exit(&mut child, Duration::from_secs(180));
    assert!(status.success(), "replay failed: {status}");
    std::thread::sleep(Duration::from_secs(1));
    let printed = printed(&lines.lock().unwrap());
    let (r1, r2) = (received(&sub1.messages()), received(&sub2.messages()));
    assert!(
        produced_by_restart > delivered_before + 20,
        "counting went on during the outage ({produced_by_restart} made, {delivered_before} delivered)"
    );
    assert_all_delivered_in_order(&printed, &[r1, r2]);
    // The restarted broker has the sensor's state again.
    assert_eq!(
        broker.retained("headcount/sf/s1/availability").as_deref(),
        Some("offline"),
        "clean exit after the run"
    );
    assert!(broker.retained("headcount/sf/s1/privacy").is_some());
    assert!(broker.retained("headcount/sf/s1/health").is_some());
}

#[test]
fn a_broker_unreachable_at_start_gets_everything_once_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let video = one_by_one_first(dir.path(), 25);
    let port = unused_port();
    let config = config(dir.path(), port);
    let (mut child, lines) = start(&video, &config);
    // The daemon's reconnection attempts back off (0.5, 1, 2, 4, 8 s…): starting the broker
    // 10 s in leaves time to subscribe before its next attempt.
    std::thread::sleep(Duration::from_secs(10));
    assert!(child.try_wait().unwrap().is_none(), "it keeps counting");
    let made_before = printed(&lines.lock().unwrap()).len();
    assert!(made_before > 0);
    let broker = Broker::start_on(port);
    let sub = broker.subscribe_as_published("headcount/sf/s1/#");
    let status = wait_exit(&mut child, Duration::from_secs(120));
    assert!(status.success(), "replay failed: {status}");
    std::thread::sleep(Duration::from_secs(1));
    let printed = printed(&lines.lock().unwrap());
    // Each message as its publisher flagged it: the backlog's older reports go out unretained,
    // so a dashboard subscribing in the middle of the backlog is never handed an old count as
    // the current one; the newest queued report on the topic is the retained one.
    let messages: Vec<Received> = sub
        .messages()
        .into_iter()
        .map(|m| Received {
            retained: false,
            ..m
        })
        .collect();
    let flags: Vec<bool> = sub
        .messages()
        .iter()
        .filter(|m| m.topic.ends_with("/occupancy"))
        .map(|m| m.retained)
        .collect();
    assert!(
        flags.len() >= 3 && !flags[0] && flags.last() == Some(&true),
        "{flags:?}"
    );
    assert_all_delivered_in_order(&printed, &[received(&messages)]);
}

#[test]
fn reports_queued_when_the_daemon_is_killed_are_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let video = one_by_one_first(dir.path(), 40);
    let mut broker = Broker::start();
    let config = config(dir.path(), broker.port);
    let (mut child, lines) = start(&video, &config);
    std::thread::sleep(Duration::from_secs(5));
    broker.stop();
    std::thread::sleep(Duration::from_secs(8));
    // SIGKILL: no flush, no goodbye; the queue file is all that remains.
    child.kill().unwrap();
    child.wait().unwrap();
    let first_run = printed(&lines.lock().unwrap());
    let queue = dir.path().join("state/outbox.jsonl");
    let queued = std::fs::read_to_string(&queue).expect("the queue was persisted");
    assert!(queued.lines().count() >= 5, "{queued}");

    broker.restart();
    let sub = broker.subscribe("headcount/sf/s1/#");
    let short = one_by_one_first(dir.path(), 3);
    let (mut child, lines) = start(&short, &config);
    let status = wait_exit(&mut child, Duration::from_secs(120));
    assert!(status.success(), "second run failed: {status}");
    std::thread::sleep(Duration::from_secs(1));
    let got = received(&sub.messages());
    // Everything the first run made after the broker went away arrived, with its original seq
    // and ts, before the second run's own reports.
    let from_queue: Vec<&(u64, String)> = queued
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            let p: serde_json::Value =
                serde_json::from_str(e["payload"].as_str().unwrap()).unwrap();
            p["seq"].as_u64().unwrap()
        })
        .filter_map(|seq| first_run.iter().find(|(s, _)| *s == seq))
        .collect();
    assert!(!from_queue.is_empty());
    for r in &from_queue {
        assert!(
            got.contains(r),
            "queued report {r:?} not delivered: {got:?}"
        );
    }
    let second_run = printed(&lines.lock().unwrap());
    let first_new = got.iter().position(|r| second_run.contains(r)).unwrap();
    let last_old = got.iter().rposition(|r| from_queue.contains(&r)).unwrap();
    assert!(last_old < first_new, "backlog first, then live: {got:?}");
    assert!(
        std::fs::read_to_string(&queue).unwrap().trim().is_empty(),
        "the queue is empty once delivered"
    );
    assert_eq!(
        broker.retained("headcount/sf/s1/availability").as_deref(),
        Some("offline")
    );
    assert!(broker.retained("headcount/sf/s1/privacy").is_some());
}

#[test]
fn a_queue_file_that_cannot_be_written_does_not_stop_counting() {
    // A full or failing SD card. Here the queue file is replaced, while the daemon runs, by a
    // directory: every append and every rename over it fails, even for root. Counting and
    // publishing go on from memory, health says why, and once the file can be written again
    // the whole queue is saved.
    let dir = tempfile::tempdir().unwrap();
    let video = one_by_one_first(dir.path(), 25);
    let broker = Broker::start();
    let config = config(dir.path(), broker.port);
    let sub = broker.subscribe("headcount/sf/s1/#");
    let queue = dir.path().join("state/outbox.jsonl");
    let (mut child, lines) = start(&video, &config);
    assert!(
        common::wait_until(Duration::from_secs(60), || queue.exists()),
        "no queue file"
    );
    std::fs::remove_file(&queue).unwrap();
    std::fs::create_dir(&queue).unwrap();
    std::fs::write(queue.join("blocker"), "").unwrap();
    let health_error = |m: &Received| {
        m.topic.ends_with("/health")
            && serde_json::from_str::<serde_json::Value>(&m.payload).is_ok_and(|v| {
                v["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("outbox.jsonl"))
            })
    };
    assert!(
        sub.wait_for(Duration::from_secs(20), health_error),
        "health did not report the queue file"
    );
    let made_while_broken = printed(&lines.lock().unwrap()).len();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        printed(&lines.lock().unwrap()).len() > made_while_broken,
        "counting stopped"
    );
    // Space again: the next report saves the queue, and health clears.
    std::fs::remove_dir_all(&queue).unwrap();
    let status = wait_exit(&mut child, Duration::from_secs(120));
    assert!(status.success(), "replay failed: {status}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(queue.is_file(), "the queue was not saved again");
    let messages = sub.messages();
    let last_health = messages
        .iter()
        .rev()
        .find(|m| m.topic.ends_with("/health"))
        .unwrap();
    assert!(!health_error(last_health), "{}", last_health.payload);
    assert_all_delivered_in_order(&printed(&lines.lock().unwrap()), &[received(&messages)]);
}

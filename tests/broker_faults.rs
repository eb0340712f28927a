//! A broker that misbehaves must never silence a sensor or be hammered by it: a huge retained
//! message on Home Assistant's status topic (real Mosquitto: anyone allowed to publish there can
//! put one), and a broker that accepts the connection and drops it at once (a small hostile
//! broker written here, since Mosquitto cannot be made to do that on purpose).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{headcount, occupancy_messages, one_by_one_first, write_config, Broker};

/// `headcount replay VIDEO --realtime --config CONFIG`, stdout discarded.
fn realtime_replay(video: &Path, config: &Path, stderr: Stdio) -> std::process::Child {
    headcount()
        .arg("replay")
        .arg(video)
        .arg("--realtime")
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn headcount")
}

#[test]
fn a_huge_retained_message_on_the_ha_status_topic_costs_no_report() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    // 10 MB, retained: handed to every client that subscribes to the topic.
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 10 << 20]).unwrap();
    let status = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .args(["-r", "-q", "1", "-t", "homeassistant/status", "-f"])
        .arg(&big)
        .status()
        .unwrap();
    assert!(status.success());
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"bf\"\nname = \"s1\"\n[source]\nfps = 2\n\
             [mqtt]\nurl = \"{}\"\ninterval_s = 1\ndiscovery = true\n",
            broker.url()
        ),
    );
    let sub = broker.subscribe("headcount/bf/s1/#");
    let video = one_by_one_first(dir.path(), 20);
    let mut cmd = headcount();
    cmd.arg("replay").arg(&video).arg("--config").arg(&config);
    let out = common::run_with_timeout(cmd, Duration::from_secs(180));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let made: Vec<u64> = occupancy_messages(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .filter_map(|v| v["seq"].as_u64())
        .collect();
    assert!(made.len() >= 15, "{made:?}");
    let got = || -> Vec<u64> {
        sub.messages()
            .iter()
            .filter(|m| m.topic.ends_with("/occupancy"))
            .filter_map(|m| serde_json::from_str::<serde_json::Value>(&m.payload).ok())
            .filter_map(|v| v["seq"].as_u64())
            .collect()
    };
    common::wait_until(Duration::from_secs(5), || {
        made.iter().all(|s| got().contains(s))
    });
    let got = got();
    let lost: Vec<&u64> = made.iter().filter(|s| !got.contains(s)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} reports lost: {lost:?}",
        lost.len(),
        made.len()
    );
    assert_eq!(
        err.matches("larger than any Home Assistant sends").count(),
        1,
        "said once:\n{err}"
    );
    assert_eq!(
        err.matches("MQTT connection lost").count(),
        0,
        "the publishing connection never dropped:\n{err}"
    );
}

#[test]
fn a_broker_that_accepts_and_drops_at_once_is_not_hammered() {
    // Answers every CONNECT with CONNACK (accepted), then closes the connection.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.lock().unwrap().push(Instant::now());
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut connect = [0u8; 512];
            let _ = stream.read(&mut connect);
            let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x00]);
            let _ = stream.flush();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"bf\"\nname = \"s2\"\n[source]\nfps = 1\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\ninterval_s = 1\ndiscovery = false\n"
        ),
    );
    let video = one_by_one_first(dir.path(), 30);
    let mut child = realtime_replay(&video, &config, Stdio::null());
    // The first connection opens the window; see what the next 10 s bring.
    assert!(
        common::wait_until(Duration::from_secs(60), || !connections
            .lock()
            .unwrap()
            .is_empty()),
        "headcount never connected"
    );
    std::thread::sleep(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    let times = connections.lock().unwrap().clone();
    let window: Vec<Duration> = times
        .iter()
        .map(|t| t.duration_since(times[0]))
        .filter(|d| *d <= Duration::from_secs(10))
        .collect();
    let gaps: Vec<Duration> = window.windows(2).map(|w| w[1] - w[0]).collect();
    // Backoff 0.5 s doubling to 10 s (plus up to 1 s of jitter) from the first short session
    // on: 0, ~0.5–1.5, ~1.5–3.5, ~3.5–7.5, ~7.5–12.5 s. Without it: one connection every ~0.1 s
    // (56 in 10 s), or three back to back before a suspicion of a client-id clash slows it.
    assert!(
        window.len() <= 6 && gaps.iter().all(|g| *g >= Duration::from_millis(450)),
        "{} connections in the 10 s after the first, gaps {gaps:?}",
        window.len()
    );
}

/// A broker that restarts three times within a minute is not another client with our id: no
/// client-id clash may be claimed (the connections after each restart needed retries).
#[test]
fn broker_restarts_are_not_taken_for_a_client_id_clash() {
    let mut broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"bf\"\nname = \"s3\"\n[source]\nfps = 1\n\
             [mqtt]\nurl = \"{}\"\ninterval_s = 1\ndiscovery = false\n",
            broker.url()
        ),
    );
    let video = one_by_one_first(dir.path(), 40);
    let mut child = realtime_replay(&video, &config, Stdio::piped());
    let stderr = child.stderr.take().unwrap();
    let said = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(4));
        broker.stop();
        std::thread::sleep(Duration::from_secs(2));
        broker.restart();
    }
    std::thread::sleep(Duration::from_secs(4));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let said = said.join().unwrap();
    assert!(
        said.matches("MQTT connection lost").count() >= 3,
        "the restarts were not seen:\n{said}"
    );
    assert!(
        !said.contains("another client is probably using"),
        "a broker restart was taken for a client-id clash:\n{said}"
    );
}

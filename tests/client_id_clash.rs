//! Two sensors given the same `sensor.site` and `sensor.name` (so the same MQTT client id) on one
//! real Mosquitto: each connection takes the other's, over and over. Each sensor must say why in
//! its `health.last_error` and back off instead of fighting as fast as it can connect.

mod common;

use std::ffi::OsStr;
use std::time::Duration;

use common::{one_by_one, spawn_replay, wait_until, write_config, Broker};

#[test]
fn two_sensors_with_one_name_are_told_why_the_broker_drops_them() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"hq\"\nname = \"twin\"\n[source]\nfps = 1\nrealtime = true\n\
             [mqtt]\nurl = \"{}\"\ninterval_s = 1\ndiscovery = false\n",
            broker.url()
        ),
    );
    let clip = one_by_one();
    let args = [clip.as_os_str(), OsStr::new("--realtime")];
    let (mut a, a_out) = spawn_replay(&args, &config);
    let (mut b, b_out) = spawn_replay(&args, &config);
    let hint = |lines: &std::sync::Mutex<Vec<String>>| {
        lines.lock().unwrap().iter().any(|l| {
            l.contains("/health")
                && l.contains("another client is probably using the client id")
                && l.contains("headcount-hq-twin")
        })
    };
    let told = wait_until(Duration::from_secs(90), || hint(&a_out) || hint(&b_out));
    let _ = a.kill();
    let _ = b.kill();
    let _ = (a.wait(), b.wait());
    assert!(
        told,
        "no health message named the client-id clash:\n{}\n{}",
        a_out.lock().unwrap().join("\n"),
        b_out.lock().unwrap().join("\n")
    );
}

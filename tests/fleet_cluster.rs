//! Fleets across more than one broker: a real three-node RabbitMQ cluster with a node killed,
//! and a floor Mosquitto bridged to a central one with the link cut for 30 s.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::fleet::{
    all_arrived, came_online, config, finish, out_of_order, report_seqs, simulate, wait_all_offline,
};
use common::{wait_until, Broker, Subscriber};

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
    let ended_on: BTreeMap<&str, usize> = sensors.iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s["broker"].as_str().unwrap_or("?")).or_default() += 1;
        m
    });
    assert_eq!(
        summary["connections"],
        N + N / 3,
        "the dead node's sensors reconnected once, elsewhere: {summary}; sensors ended on \
         {ended_on:?}"
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
    wait_all_offline(&sub, N as usize);
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
fn a_floor_broker_bridged_to_the_centre_forwards_everything_in_order_after_a_30_s_cut() {
    const N: u32 = 20;
    // Bridge notifications off: Mosquitto 2.0.11 counts the PUBACK of its bridge-state
    // notification (sent outside its in-flight accounting) as a freed slot, so after a
    // reconnection one live message overtook the queued backlog (found here under load; see
    // docs/fleet.md).
    let central = Broker::start_logged();
    let link = common::relay::Relay::start(central.port);
    // The floor's bridge: QoS 1, a persistent session at the centre, quick to retry.
    let floor = Broker::start_logged_with(&format!(
        "connection central\naddress 127.0.0.1:{}\ntopic headcount/# out 1\n\
         cleansession false\nremote_clientid floor-1-bridge\nrestart_timeout 1 3\n\
         notifications false\n",
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
        "reports out of order at the centre: {wrong:?}; {}",
        arrival_order(&sub.messages(), wrong.first())
    );
    wait_all_offline(&sub, N as usize);
}

/// The report sequence numbers of one sensor in the order they arrived, for a failure message.
fn arrival_order(messages: &[common::Received], sensor: Option<&String>) -> String {
    let Some(sensor) = sensor else {
        return String::new();
    };
    let seqs: Vec<String> = messages
        .iter()
        .filter(|m| m.topic.contains(&format!("/{sensor}/")) && !m.topic.ends_with("/health"))
        .filter_map(|m| {
            let v: serde_json::Value = serde_json::from_str(&m.payload).ok()?;
            Some(format!("{}{}", v["seq"], if m.retained { "r" } else { "" }))
        })
        .collect();
    format!("{sensor}'s reports arrived as {}", seqs.join(" "))
}

//! Home Assistant MQTT discovery against a real Mosquitto: configs announced at start, valid for
//! Home Assistant's documented fields, and re-sent when Home Assistant comes online.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{headcount, one_by_one, write_config, Broker};

#[test]
fn discovery_is_announced_valid_and_resent_when_home_assistant_comes_online() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[sensor]\nsite = \"test\"\nname = \"ha\"\n[mqtt]\nurl = \"{}\"\n",
            broker.url()
        ),
    );
    let sub = broker.subscribe("homeassistant/#");
    let mut child = headcount()
        .arg("replay")
        .arg(one_by_one())
        .arg("--realtime")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let configs = || {
        sub.messages()
            .into_iter()
            .filter(|m| m.topic.ends_with("/config"))
            .collect::<Vec<_>>()
    };
    assert!(
        sub.wait_for(Duration::from_secs(60), |m| m
            .topic
            .ends_with("/occupancy/config")),
        "no discovery config"
    );
    std::thread::sleep(Duration::from_millis(500));
    let first = configs();
    assert_eq!(first.len(), 4, "{first:?}");

    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schema/ha-sensor-discovery.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for m in &first {
        let v: serde_json::Value = serde_json::from_str(&m.payload).unwrap();
        if let Err(e) = validator.validate(&v) {
            panic!("{}: {e}: {}", m.topic, m.payload);
        }
    }
    let occupancy = first
        .iter()
        .find(|m| m.topic == "homeassistant/sensor/headcount_test_ha/occupancy/config")
        .expect("occupancy entity");
    let v: serde_json::Value = serde_json::from_str(&occupancy.payload).unwrap();
    assert_eq!(v["state_topic"], "headcount/test/ha/occupancy");
    assert_eq!(v["availability_topic"], "headcount/test/ha/availability");
    assert_eq!(v["state_class"], "measurement");
    assert!(
        broker
            .retained("homeassistant/sensor/headcount_test_ha/occupancy/config")
            .is_some(),
        "discovery configs are retained"
    );

    // Home Assistant restarts and says so: the configs are announced again.
    let sent = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .args(["-t", "homeassistant/status", "-m", "online"])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(
        common::wait_until(Duration::from_secs(10), || configs().len() >= 8),
        "configs were not re-sent: {:?}",
        configs().len()
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// README's list of discovery topics names every kind of entity the sensor announces (it once
/// left out the zone and line entities).
#[test]
fn the_readme_lists_every_discovery_topic() {
    let config = headcount::config::Config::parse(
        "[sensor]\nsite = \"s\"\nname = \"n\"\n[mqtt]\nurl = \"mqtt://127.0.0.1\"\n\
         [[counting.zones]]\nname = \"desks\"\npolygon = [[0, 0], [1, 0], [1, 1]]\n\
         [[counting.lines]]\nname = \"door\"\nfrom = [0, 0.5]\nto = [1, 0.5]\n",
    )
    .unwrap();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let topics = headcount::publish::discovery::configs(&config);
    assert!(topics.len() >= 7, "{}", topics.len());
    for (topic, _) in topics {
        // homeassistant/<component>/headcount_s_n/<object>/config, in README's placeholders.
        let object = topic
            .trim_end_matches("/config")
            .rsplit('/')
            .next()
            .unwrap()
            .replace("zone_desks", "zone_<zone>")
            .replace("line_door_", "line_<line>_");
        let component = topic.split('/').nth(1).unwrap();
        let listed = format!("/{object}/config");
        assert!(readme.contains(&listed), "README lacks {listed} ({topic})");
        if component != "sensor" {
            assert!(
                readme.contains(&format!("<discovery_prefix>/{component}/")),
                "README lacks the {component} component ({topic})"
            );
        }
    }
}

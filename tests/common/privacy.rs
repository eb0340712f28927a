//! Helpers for the privacy tests: a sensor config on the test broker, and a replay of the
//! one-by-one clip while a subscriber records everything published (each message checked against
//! its schema). Reads what the daemon published; never sees a frame.

use std::path::Path;
use std::time::Duration;

use headcount::publish::{OccupancyPayload, PrivacyPayload};

use super::{Broker, Received, Schemas};

/// A config for sensor `priv/NAME` publishing to `broker`, then `extra`.
pub fn sensor_config(broker: &Broker, name: &str, extra: &str) -> String {
    format!(
        "[sensor]\nsite = \"priv\"\nname = \"{name}\"\n[mqtt]\nurl = \"{}\"\n{extra}",
        broker.url()
    )
}

/// Replays the one-by-one clip with `config` while a subscriber records everything published.
pub fn replay_and_record(broker: &Broker, name: &str, config: &Path) -> Vec<Received> {
    let sub = broker.subscribe(&format!("headcount/priv/{name}/#"));
    super::replay_one_by_one_ok(config, &[]);
    assert!(sub.wait_for(Duration::from_secs(5), |m| m.payload == "offline"));
    // Only what this run published (not what a previous run left retained).
    let messages: Vec<Received> = sub.messages().into_iter().filter(|m| !m.retained).collect();
    let schemas = Schemas::load();
    for m in &messages {
        schemas.validate(m);
    }
    messages
}

/// The payloads published on topics ending in `suffix`, in order.
pub fn payloads<T: serde::de::DeserializeOwned>(messages: &[Received], suffix: &str) -> Vec<T> {
    messages
        .iter()
        .filter(|m| m.topic.ends_with(suffix))
        .map(|m| serde_json::from_str(&m.payload).unwrap())
        .collect()
}

/// The occupancy payloads published, in order.
pub fn occupancy(messages: &[Received]) -> Vec<OccupancyPayload> {
    payloads(messages, "/occupancy")
}

/// The privacy statements published, in order.
pub fn statements(messages: &[Received]) -> Vec<PrivacyPayload> {
    payloads(messages, "/privacy")
}

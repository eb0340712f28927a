//! The MQTT contract: one payload type per topic, versioned by `schema`.
//!
//! Everything headcount publishes is built from these types, so what can leave the device is
//! visible here: aggregate counts and their timing, nothing per person, nothing from pixels.
//! The JSON Schemas in `schema/` describe the same types for consumers.

use serde::{Deserialize, Serialize};

/// Version of the payload layout; bumped only on an incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The topics of one sensor, under `headcount/<site>/<sensor>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Retained `online` / `offline` (plain text, Home Assistant convention); Last Will `offline`.
    Availability,
    /// Retained [`OccupancyPayload`].
    Occupancy,
}

impl Topic {
    pub fn suffix(self) -> &'static str {
        match self {
            Topic::Availability => "availability",
            Topic::Occupancy => "occupancy",
        }
    }

    pub fn path(self, root: &str) -> String {
        format!("{root}/{}", self.suffix())
    }

    /// Every topic is retained: a dashboard that subscribes late sees the current state.
    pub fn retained(self) -> bool {
        true
    }
}

/// `…/availability` payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    Online,
    Offline,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Offline => "offline",
        }
    }
}

/// `…/occupancy`: people in view now, and min / max / mean over the window since the previous
/// message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OccupancyPayload {
    pub schema: u32,
    /// Per-process message counter; consumers can dedupe QoS 1 redeliveries by it.
    pub seq: u64,
    /// End of the window, RFC 3339, whole seconds, UTC.
    pub ts: String,
    pub count: u32,
    pub min: u32,
    pub max: u32,
    /// Rounded to two decimals.
    pub mean: f64,
    /// Seconds covered by min / max / mean.
    pub window_s: f64,
}

/// A message ready to go out: one topic, one typed payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Availability(Availability),
    Occupancy(OccupancyPayload),
}

impl Message {
    pub fn topic(&self) -> Topic {
        match self {
            Message::Availability(_) => Topic::Availability,
            Message::Occupancy(_) => Topic::Occupancy,
        }
    }

    /// The bytes published on MQTT.
    pub fn payload(&self) -> Vec<u8> {
        match self {
            Message::Availability(a) => a.as_str().as_bytes().to_vec(),
            Message::Occupancy(p) => serde_json::to_vec(p).unwrap_or_default(),
        }
    }

    /// The line `replay` prints: `{"topic": …, <payload fields>}` (availability as `"payload"`).
    pub fn json_line(&self, root: &str) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("topic".into(), self.topic().path(root).into());
        match self {
            Message::Availability(a) => {
                obj.insert("payload".into(), a.as_str().into());
            }
            Message::Occupancy(p) => {
                if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(p) {
                    obj.extend(fields);
                }
            }
        }
        serde_json::Value::Object(obj).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OccupancyPayload {
        OccupancyPayload {
            schema: SCHEMA_VERSION,
            seq: 3,
            ts: "2026-11-22T10:00:00Z".into(),
            count: 2,
            min: 1,
            max: 2,
            mean: 1.5,
            window_s: 12.0,
        }
    }

    #[test]
    fn occupancy_round_trips_and_rejects_extra_fields() {
        let m = Message::Occupancy(sample());
        let bytes = m.payload();
        let back: OccupancyPayload = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, sample());
        let extra = r#"{"schema":1,"seq":1,"ts":"x","count":1,"min":1,"max":1,"mean":1.0,"window_s":1.0,"boxes":[]}"#;
        assert!(serde_json::from_str::<OccupancyPayload>(extra).is_err());
    }

    #[test]
    fn json_line_carries_topic_and_fields() {
        let line = Message::Occupancy(sample()).json_line("headcount/hq/r1");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["topic"], "headcount/hq/r1/occupancy");
        assert_eq!(v["count"], 2);
        let line = Message::Availability(Availability::Online).json_line("headcount/hq/r1");
        assert_eq!(
            line,
            r#"{"payload":"online","topic":"headcount/hq/r1/availability"}"#
        );
        assert_eq!(
            Message::Availability(Availability::Offline).payload(),
            b"offline"
        );
    }
}

#[cfg(test)]
mod schema_file_tests {
    use super::*;

    /// The committed JSON Schema and the Rust type describe the same fields.
    #[test]
    fn committed_schema_matches_the_payload_type() {
        let text = include_str!("../../schema/occupancy.schema.json");
        let schema: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(schema["additionalProperties"], false);
        let mut declared: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let payload = OccupancyPayload {
            schema: SCHEMA_VERSION,
            seq: 1,
            ts: "2026-01-01T00:00:00Z".into(),
            count: 0,
            min: 0,
            max: 0,
            mean: 0.0,
            window_s: 0.0,
        };
        let value = serde_json::to_value(&payload).unwrap();
        let mut emitted: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        declared.sort_unstable();
        required.sort_unstable();
        emitted.sort_unstable();
        assert_eq!(declared, emitted);
        assert_eq!(required, emitted);
        assert_eq!(schema["properties"]["schema"]["const"], SCHEMA_VERSION);
    }
}

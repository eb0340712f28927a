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
    /// Retained [`PrivacyPayload`]: what this sensor does and does not publish.
    Privacy,
    /// Retained [`HealthPayload`] heartbeat.
    Health,
}

/// `…/zone/<name>` carries an [`OccupancyPayload`] for that zone; `…/line/<name>` a
/// [`LinePayload`]. Their names come from the config (validated as topic levels).
pub fn zone_path(root: &str, name: &str) -> String {
    format!("{root}/zone/{name}")
}

pub fn line_path(root: &str, name: &str) -> String {
    format!("{root}/line/{name}")
}

impl Topic {
    pub fn suffix(self) -> &'static str {
        match self {
            Topic::Availability => "availability",
            Topic::Occupancy => "occupancy",
            Topic::Privacy => "privacy",
            Topic::Health => "health",
        }
    }

    pub fn path(self, root: &str) -> String {
        format!("{root}/{}", self.suffix())
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

/// A count as published: exact, or a band such as `"<3"` when k-banding hides small values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Banded<T> {
    Value(T),
    Band(String),
}

/// The value, or its band (`<5`), as a person reads it.
impl<T: std::fmt::Display> std::fmt::Display for Banded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Banded::Value(v) => v.fmt(f),
            Banded::Band(b) => f.write_str(b),
        }
    }
}

impl<T: Copy> Banded<T> {
    /// The exact value, if it was not banded.
    pub fn value(&self) -> Option<T> {
        match self {
            Banded::Value(v) => Some(*v),
            Banded::Band(_) => None,
        }
    }
}

/// `…/occupancy`: people in view now, and min / max / mean over the window since the previous
/// message. With differential privacy on, only the noisy `count` is released.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OccupancyPayload {
    pub schema: u32,
    /// Message counter, increasing across restarts (it starts at the wall-clock millisecond);
    /// consumers can dedupe QoS 1 redeliveries and backlog duplicates by it.
    pub seq: u64,
    /// End of the window, RFC 3339, whole seconds, UTC (bin-aligned with time binning).
    pub ts: String,
    pub count: Banded<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Banded<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Banded<u32>>,
    /// Rounded to two decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Banded<f64>>,
    /// Seconds covered by the window.
    pub window_s: f64,
    /// ε spent on this release (differential privacy on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp_epsilon: Option<f64>,
    /// `false` when made while the camera was blind or frozen (`health.source`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliable: Option<bool>,
}

/// `…/line/<name>`: people who crossed an entrance line, per direction. Totals count since
/// `epoch` (start, or the daily reset), so a dashboard can use them as `total_increasing`;
/// `in` / `out` are the crossings since the previous message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinePayload {
    pub schema: u32,
    pub seq: u64,
    /// End of the window, RFC 3339, whole seconds, UTC.
    pub ts: String,
    pub in_total: u64,
    pub out_total: u64,
    #[serde(rename = "in")]
    pub in_delta: u64,
    #[serde(rename = "out")]
    pub out_delta: u64,
    /// When the totals last started from 0, RFC 3339, whole seconds, UTC.
    pub epoch: String,
    /// Seconds covered by `in` / `out`.
    pub window_s: f64,
    /// `false` when made while the camera was blind or frozen (`health.source`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliable: Option<bool>,
}

/// Which publishing safeguards are on (all values as configured).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeguardsPayload {
    /// k of k-banding; 0 = off.
    pub min_count: u32,
    /// Bin length in seconds; 0 = off (published on change).
    pub time_resolution_s: u32,
    /// Daily ε budget; 0 = differential privacy off.
    pub dp_epsilon_per_day: f64,
    /// ε spent per release.
    pub dp_epsilon_per_release: f64,
    /// ε left today, when differential privacy is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp_budget_remaining: Option<f64>,
    /// When differential privacy is on: the half-width, in people, of the interval holding 95 %
    /// of a release's noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dp_noise_95: Option<f64>,
}

/// `…/privacy`: a machine-readable privacy statement of this sensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyPayload {
    pub schema: u32,
    pub seq: u64,
    pub ts: String,
    /// headcount version.
    pub version: String,
    /// Build identifier (git commit), "unknown" outside a checkout.
    pub build: String,
    /// Always "none": no image, crop or pixel data is ever output.
    pub image_output: String,
    pub safeguards: SafeguardsPayload,
    /// Number of privacy masks blacked out before inference.
    pub masks: u32,
    /// Self-sandboxing state: "landlock" when enforced, otherwise why not.
    pub sandbox: String,
}

/// `…/health`: a heartbeat saying how the pipeline is doing. Timings and states only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthPayload {
    pub schema: u32,
    pub seq: u64,
    pub ts: String,
    pub uptime_s: u64,
    /// Frames processed per second since the previous heartbeat.
    pub fps: f64,
    /// Detector time per frame (preprocess + inference + decode), over recent frames.
    pub inference_ms_p50: f64,
    pub inference_ms_p95: f64,
    /// "tflite" or "litert".
    pub runtime: String,
    /// Where inference runs: "cpu" or "edgetpu".
    pub accelerator: String,
    /// Frame source state: "starting", "running", "ended", "failed", "stopped".
    pub source: String,
    /// Frames processed since start.
    pub frames: u64,
    /// Frames skipped because inference was busy (live sources).
    pub dropped: u64,
    /// Reports waiting to be published (store-and-forward queue).
    pub queue: u64,
    /// Reports the queue dropped (oldest first) because it was full or too old, since start.
    pub queue_dropped: u64,
    /// Lines of the queue's file found unreadable at start and set aside beside it (absent
    /// when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queue_damaged: u64,
    /// The last error, one line; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A message ready to go out: one topic, one typed payload.
/// The device block shared by every entity of one sensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryDevice {
    pub identifiers: Vec<String>,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub sw_version: String,
}

/// One Home Assistant discovery config (the fields Home Assistant's MQTT sensor documents),
/// built by `discovery`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryPayload {
    pub name: String,
    pub unique_id: String,
    /// The entity id Home Assistant gives the entity when it first sees it
    /// (`sensor.<node>_<object>`): what `object_id` set until Home Assistant 2025.10 deprecated
    /// it (ignored since 2026.4), so entity ids stay the same for users upgrading.
    pub default_entity_id: String,
    pub state_topic: String,
    pub value_template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measurement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_category: Option<String>,
    /// Binary sensors only: `problem` (the camera cannot see), with their ON / OFF payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_off: Option<String>,
    pub icon: String,
    pub availability_topic: String,
    pub payload_available: String,
    pub payload_not_available: String,
    /// Seconds after which Home Assistant marks the value unavailable without an update.
    pub expire_after: u64,
    pub device: DiscoveryDevice,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Availability(Availability),
    Occupancy(OccupancyPayload),
    Privacy(PrivacyPayload),
    Health(HealthPayload),
    /// Occupancy of one zone.
    Zone {
        name: String,
        payload: OccupancyPayload,
    },
    /// Totals of one entrance line.
    Line {
        name: String,
        payload: LinePayload,
    },
    /// A Home Assistant discovery config, on its own topic outside the sensor's tree.
    Discovery {
        topic: String,
        config: Box<DiscoveryPayload>,
    },
}

impl Message {
    /// The full topic this message is published on, under the sensor's `root`.
    pub fn path(&self, root: &str) -> String {
        let topic = match self {
            Message::Availability(_) => Topic::Availability,
            Message::Occupancy(_) => Topic::Occupancy,
            Message::Privacy(_) => Topic::Privacy,
            Message::Health(_) => Topic::Health,
            Message::Discovery { topic, .. } => return topic.clone(),
            Message::Zone { name, .. } => return zone_path(root, name),
            Message::Line { name, .. } => return line_path(root, name),
        };
        topic.path(root)
    }

    /// Every message is retained: a subscriber arriving late sees the current state.
    pub fn retained(&self) -> bool {
        true
    }

    /// The bytes published on MQTT.
    pub fn payload(&self) -> Vec<u8> {
        match self {
            Message::Availability(a) => a.as_str().as_bytes().to_vec(),
            Message::Occupancy(p) => serde_json::to_vec(p).unwrap_or_default(),
            Message::Privacy(p) => serde_json::to_vec(p).unwrap_or_default(),
            Message::Health(p) => serde_json::to_vec(p).unwrap_or_default(),
            Message::Discovery { config, .. } => serde_json::to_vec(config).unwrap_or_default(),
            Message::Zone { payload, .. } => serde_json::to_vec(payload).unwrap_or_default(),
            Message::Line { payload, .. } => serde_json::to_vec(payload).unwrap_or_default(),
        }
    }

    /// The line `replay` prints: `{"topic": …, <payload fields>}` (availability as `"payload"`).
    pub fn json_line(&self, root: &str) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("topic".into(), self.path(root).into());
        let fields = match self {
            Message::Availability(a) => {
                obj.insert("payload".into(), a.as_str().into());
                None
            }
            Message::Occupancy(p) | Message::Zone { payload: p, .. } => {
                serde_json::to_value(p).ok()
            }
            Message::Line { payload, .. } => serde_json::to_value(payload).ok(),
            Message::Privacy(p) => serde_json::to_value(p).ok(),
            Message::Health(p) => serde_json::to_value(p).ok(),
            Message::Discovery { config, .. } => serde_json::to_value(config).ok(),
        };
        if let Some(serde_json::Value::Object(fields)) = fields {
            obj.extend(fields);
        }
        serde_json::Value::Object(obj).to_string()
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;

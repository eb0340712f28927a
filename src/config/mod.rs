//! Configuration: one TOML file, parsed with serde, validated once at start.
//!
//! Every key has a default (documented in README.md), unknown keys are rejected by name, and every
//! value is range-checked here so the rest of the program can trust it. This module never reads
//! secrets into logs: [`Config::to_toml`] is what `check-config` prints.
//!
//! The lowest layer: the file's contract (`shared/DESIGN.md`) as plain data. Each stage builds
//! itself from its own section (`count::Counting::from_config`, `pipeline::FramePrep::from_config`,
//! …); nothing here imports a stage (`tests/layers.rs` fails if it does).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod counting;
mod credentials;
pub mod dp_noise;
mod mqtt;
mod point;
pub mod site;
mod source;
mod validate;

pub use counting::{
    parse_time_of_day, CountingConfig, LineConfig, OccupancyMode, ZoneConfig, MAX_LINES,
};
pub use mqtt::{BrokerAddr, MqttConfig};
pub use site::{AggregateConfig, EntranceConfig, RoomConfig, SiteConfig};
pub use source::{SourceConfig, SourceKind, INPUT_FORMATS};

pub use credentials::ENV_MQTT_PASSWORD;

/// The most tiles along one side of the picture (`detector.tile_columns`, `tile_rows`).
pub const MAX_TILES: u32 = 4;

/// The most interpreter threads `detector.threads = 0` (auto) takes: the cores of the boards
/// this is built for (Raspberry Pi 4 and 5, the Coral Dev Board). Past them nothing was measured,
/// and the decoder and the publisher want room too.
pub const AUTO_THREADS_MAX: u32 = 4;

/// Why a configuration could not be used. Always names the key and what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config key {key} = {value}: {allowed}")]
    Invalid {
        key: &'static str,
        value: String,
        allowed: String,
    },
}

/// The whole effective configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub sensor: SensorConfig,
    pub source: SourceConfig,
    pub detector: DetectorConfig,
    pub counting: CountingConfig,
    pub mqtt: MqttConfig,
    pub privacy: PrivacyConfig,
    pub state: StateConfig,
}

/// Where the sensor is: used only to build the MQTT topic root `headcount/<site>/<name>/`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SensorConfig {
    pub site: String,
    pub name: String,
}

impl Default for SensorConfig {
    fn default() -> Self {
        Self {
            site: "default".into(),
            name: "sensor".into(),
        }
    }
}

/// Which inference runtime runs the model.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeKind {
    /// The fastest that is there: the Edge TPU (TF 2.9 + libedgetpu) when a TPU, the library and
    /// the `_edgetpu` model all are; else LiteRT when its library is found; else TF 2.9.
    #[default]
    Auto,
    /// TF 2.9.0's C API (`libtensorflowlite_c.so`): the Edge TPU-compatible runtime.
    Tflite,
    /// LiteRT (`libLiteRt.so`): faster on CPU, no Edge TPU.
    Litert,
}

/// Where inference runs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Accelerator {
    /// The Edge TPU when libedgetpu, a TPU and an Edge TPU model are all there; else the CPU.
    #[default]
    Auto,
    /// The Edge TPU or a start-up error.
    EdgeTpu,
    Cpu,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Path of the `.tflite` model; empty = the bundled SSD MobileNet v1.
    pub model: String,
    /// Inference runtime: TF 2.9 C (Edge TPU capable) or LiteRT (fast CPU).
    pub runtime: RuntimeKind,
    /// Path of `libtensorflowlite_c.so` (TF 2.9.0); empty = search (see README).
    pub runtime_library: String,
    /// Path of `libLiteRt.so`; empty = search (see README).
    pub litert_library: String,
    /// Interpreter threads; 0 = auto: the cores this process may use, at most
    /// [`AUTO_THREADS_MAX`].
    pub threads: u32,
    /// Minimum person score kept, 0..1.
    pub threshold: f32,
    /// IoU above which two person boxes are the same person (class-agnostic NMS), 0..1.
    pub nms_iou: f32,
    /// A box lying more than this fraction inside a better one is the same person, 0..1.
    pub nms_containment: f32,
    /// Index of the `person` class in the model's output (0 for the COCO SSD and YOLO models).
    pub person_class: u32,
    pub accelerator: Accelerator,
    /// The model compiled for the Edge TPU; "" = `<model>_edgetpu.tflite` beside the model.
    pub edgetpu_model: String,
    /// Which Edge TPU: "" (any), "usb", "pci", "usb:N", "pci:N".
    pub edgetpu_device: String,
    /// Path of libedgetpu; "" = `libedgetpu.so.1` from the loader's search path.
    pub edgetpu_library: String,
    /// Tiled detection: the picture is covered by `tile_columns` × `tile_rows` overlapping
    /// model inputs, each detected on (1 × 1 = the whole picture in one input). More tiles find
    /// smaller people and cost one inference each.
    pub tile_columns: u32,
    pub tile_rows: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            model: String::new(),
            runtime: RuntimeKind::Auto,
            runtime_library: String::new(),
            litert_library: String::new(),
            threads: 0,
            threshold: 0.5,
            nms_iou: 0.5,
            nms_containment: 0.7,
            person_class: 0,
            accelerator: Accelerator::Auto,
            edgetpu_model: String::new(),
            edgetpu_device: String::new(),
            edgetpu_library: String::new(),
            tile_columns: 1,
            tile_rows: 1,
        }
    }
}

/// Publishing safeguards and masks (all off by default). See README "Privacy".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// k: counts 1..k-1 are published as the band "<k"; 0 or 1 = off.
    pub min_count: u32,
    /// Publish only once per fixed bin of this many seconds, with bin-aligned timestamps; 0 = off.
    pub time_resolution_s: u32,
    /// Differential privacy: daily budget ε for Laplace noise on published counts; 0 = off.
    pub dp_epsilon_per_day: f64,
    /// ε spent per published count; 0 = the daily budget spread evenly over the day's bins.
    pub dp_epsilon_per_release: f64,
    /// The most differential-privacy noise accepted: the half-width, in people, of the interval
    /// holding 95 % of a release's noise. Configs noisier than this are refused.
    pub dp_max_noise: f64,
    /// Areas blacked out before inference.
    pub masks: Vec<MaskConfig>,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            min_count: 0,
            time_resolution_s: 0,
            dp_epsilon_per_day: 0.0,
            dp_epsilon_per_release: 0.0,
            dp_max_noise: 10.0,
            masks: Vec::new(),
        }
    }
}

/// One privacy mask: a polygon in normalised image coordinates (0..1, y down).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MaskConfig {
    #[serde(default)]
    pub name: String,
    #[serde(deserialize_with = "point::many")]
    pub polygon: Vec<[f32; 2]>,
}

/// Where the daemon may write, and nowhere else: `headcount.lock` (one process per state dir),
/// `dp-budget.json` (the differential-privacy budget spent today), `door-count.json` (the
/// in − out count of this counting day) and `outbox.jsonl` (published reports not yet
/// acknowledged by the broker, with `outbox.reserve`, the space kept for them). Numbers only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Directory for those files; "" = none (state lives in memory only).
    pub dir: String,
}

/// A config file's text (a regular file or a pipe, size-bounded), parsed by `parse`; errors
/// name the file.
pub(crate) fn read_and_parse<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    let text =
        crate::bounded_read::read_pipe_or_file_to_string(path, crate::bounded_read::CONFIG_BYTES)
            .map_err(|cause| ConfigError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
    parse(&text).map_err(|message| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    })
}

impl Config {
    /// Reads, parses and validates a config file. Relative paths inside it are resolved against
    /// the file's own directory, so a config works from any working directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut config = read_and_parse(path, Self::parse)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_relative_paths(base);
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text; the error is one line naming the key (e.g. "unknown field `foo`, expected
    /// one of …").
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str::<Self>(text).map_err(|e| {
            let msg = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => {
                    let start = span.start.min(text.len());
                    let line = text[..start].matches('\n').count() + 1;
                    format!("line {line}, key {}: {msg}", key_at(text, start))
                }
                None => msg,
            }
        })
    }

    pub(crate) fn resolve_relative_paths(&mut self, base: &Path) {
        let resolve = |p: &mut String| {
            if !p.is_empty() && !p.contains("://") && Path::new(p.as_str()).is_relative() {
                *p = base.join(p.as_str()).to_string_lossy().into_owned();
            }
        };
        resolve(&mut self.detector.model);
        resolve(&mut self.detector.runtime_library);
        resolve(&mut self.detector.litert_library);
        resolve(&mut self.detector.edgetpu_model);
        if self.detector.edgetpu_library.contains('/') {
            resolve(&mut self.detector.edgetpu_library);
        }
        resolve(&mut self.source.url);
        resolve(&mut self.state.dir);
        resolve(&mut self.mqtt.password_file);
        resolve(&mut self.mqtt.ca_file);
        resolve(&mut self.mqtt.client_cert_file);
        resolve(&mut self.mqtt.client_key_file);
    }

    /// `headcount/<site>/<name>`: the root every topic of this sensor lives under.
    pub fn topic_root(&self) -> String {
        format!("headcount/{}/{}", self.sensor.site, self.sensor.name)
    }

    pub fn client_id(&self) -> String {
        if self.mqtt.client_id.is_empty() {
            format!("headcount-{}-{}", self.sensor.site, self.sensor.name)
        } else {
            self.mqtt.client_id.clone()
        }
    }

    /// The effective configuration as TOML (what `check-config` prints), with a stream URL's
    /// credentials redacted. Settings held as f32 are written as typed (`0.02`), not widened to
    /// f64 (`0.019999999552965164`).
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        shown.source.url = crate::redact::redact_url(&self.source.url);
        let rendered = toml::Value::try_from(&shown).and_then(|mut value| {
            shorten_f32(&mut value);
            toml::to_string(&value)
        });
        rendered.unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }
}

/// Rewrites every float that is exactly an f32 as the shortest decimal of that f32, which
/// reads back as the same f32.
fn shorten_f32(value: &mut toml::Value) {
    match value {
        toml::Value::Float(f) => {
            let single = *f as f32;
            if f64::from(single) == *f {
                if let Ok(short) = single.to_string().parse::<f64>() {
                    *f = short;
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(shorten_f32),
        toml::Value::Table(table) => table.iter_mut().for_each(|(_, v)| shorten_f32(v)),
        _ => {}
    }
}

/// The dotted key (`detector.threads`) written on the line holding byte `pos`, for messages.
fn key_at(text: &str, pos: usize) -> String {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|t| t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = match line.split_once('=') {
        Some((k, _)) => k.trim().trim_matches('"').to_string(),
        None => line
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_string(),
    };
    match table {
        Some(t) if line.contains('=') => format!("{t}.{key}"),
        _ => key,
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;

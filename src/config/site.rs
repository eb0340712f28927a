//! The site aggregator's file (`headcount aggregate --config FILE`): which sensors' door lines
//! make the building's entrances, which sensors watch rooms (with their group and capacity), when
//! the site's counting day starts, and the same `[mqtt]`, `[privacy]` (k-banding) and `[state]`
//! keys as a sensor's. Plain data, validated once; names the key of anything wrong.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::counting::parse_time_of_day;
use super::validate::check_topic_level;
use super::{Config, ConfigError, MqttConfig, SensorConfig, StateConfig};

/// Most entrances and rooms one aggregator takes (each is a few numbers in memory).
pub const MAX_SITE_SENSORS: usize = 10_000;

/// The whole aggregator configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AggregateConfig {
    pub site: SiteConfig,
    pub mqtt: MqttConfig,
    pub privacy: SitePrivacyConfig,
    pub state: StateConfig,
}

/// `[site]`: the building as the facilities team declares it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// The site's topic level: `headcount/<name>/…`, as in the sensors' `sensor.site`.
    pub name: String,
    /// Local time "HH:MM" at which the building's in / out totals start again from 0.
    pub daily_reset: String,
    /// Building occupancy is set to 0 once every declared room has reported 0 people for this
    /// many seconds (counting errors at the doors do not pile up); 0 = never.
    pub empty_correction_s: u32,
    /// A sensor that is `online` but has published nothing for this long is `stale`.
    pub stale_after_s: u32,
    /// Width of the bins of today's occupancy history (`_site/history`), in seconds.
    pub history_bin_s: u32,
    pub entrances: Vec<EntranceConfig>,
    pub rooms: Vec<RoomConfig>,
}

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            name: "default".into(),
            daily_reset: "03:00".into(),
            empty_correction_s: 300,
            stale_after_s: 180,
            history_bin_s: 900,
            entrances: Vec::new(),
            rooms: Vec::new(),
        }
    }
}

/// `[[site.entrances]]`: one door line of one sensor; "in" (as the sensor counts it) enters
/// the building.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntranceConfig {
    pub sensor: String,
    pub line: String,
}

/// `[[site.rooms]]`: a sensor whose `occupancy` is one room's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoomConfig {
    pub sensor: String,
    /// Floor, wing…: rooms of one group are also summed together; "" = none.
    #[serde(default)]
    pub group: String,
    /// Seats or people allowed; 0 = not stated.
    #[serde(default)]
    pub capacity: u32,
}

/// `[privacy]` of the aggregator: k-banding of the site's counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SitePrivacyConfig {
    /// k: site counts 1..k-1 are published as the band "<k"; 0 or 1 = off.
    pub min_count: u32,
}

/// The topic level the aggregator publishes under, beside the sensors.
pub const SITE_LEVEL: &str = "_site";

impl AggregateConfig {
    /// Reads, parses and validates an aggregator config file; relative paths follow the file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut config = super::read_and_parse(path, Self::parse)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut sensor = config.as_sensor_config();
        sensor.resolve_relative_paths(base);
        config.mqtt = sensor.mqtt;
        config.state = sensor.state;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text; the error names the key.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str::<Self>(text).map_err(|e| e.message().trim().replace('\n', " "))
    }

    /// Whether a config file's text is an aggregator's (it has a `[site]` table), for
    /// `check-config`.
    pub fn is_aggregator_text(text: &str) -> bool {
        text.parse::<toml::Table>()
            .map(|t| t.contains_key("site"))
            .unwrap_or(false)
    }

    /// The `[mqtt]`, `[privacy]` and `[state]` keys as a sensor config holds them, so the
    /// broker settings, credentials and TLS are read and checked by the same code.
    pub fn as_sensor_config(&self) -> Config {
        let mut c = Config {
            sensor: SensorConfig {
                site: self.site.name.clone(),
                name: "aggregate".into(),
            },
            mqtt: self.mqtt.clone(),
            state: self.state.clone(),
            ..Config::default()
        };
        c.privacy.min_count = self.privacy.min_count;
        if c.mqtt.client_id.is_empty() {
            c.mqtt.client_id = format!("headcount-aggregate-{}", self.site.name);
        }
        c
    }

    /// `headcount/<site>/_site`.
    pub fn topic_root(&self) -> String {
        format!("headcount/{}/{SITE_LEVEL}", self.site.name)
    }

    /// `headcount/<site>`: where the sensors publish.
    pub fn site_root(&self) -> String {
        format!("headcount/{}", self.site.name)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.site;
        check_topic_level("site.name", &s.name)?;
        if s.name.contains(['+', '#']) {
            return Err(invalid("site.name", &s.name, "allowed: no MQTT wildcard"));
        }
        if parse_time_of_day(&s.daily_reset).is_none() {
            return Err(invalid(
                "site.daily_reset",
                &s.daily_reset,
                "allowed: local time \"HH:MM\" (00:00..23:59)",
            ));
        }
        if s.empty_correction_s > 86_400 {
            return Err(invalid(
                "site.empty_correction_s",
                s.empty_correction_s,
                "allowed: 0 (never) or 1..=86400 seconds",
            ));
        }
        if !(10..=86_400).contains(&s.stale_after_s) {
            return Err(invalid(
                "site.stale_after_s",
                s.stale_after_s,
                "allowed: 10..=86400 seconds",
            ));
        }
        if !(60..=86_400).contains(&s.history_bin_s) || 86_400 % s.history_bin_s != 0 {
            return Err(invalid(
                "site.history_bin_s",
                s.history_bin_s,
                "allowed: 60..=86400 seconds, dividing a day (e.g. 300, 900, 3600)",
            ));
        }
        if s.entrances.len() + s.rooms.len() > MAX_SITE_SENSORS {
            return Err(invalid(
                "site.entrances",
                s.entrances.len() + s.rooms.len(),
                &format!("allowed: at most {MAX_SITE_SENSORS} entrances and rooms together"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &s.entrances {
            check_sensor("site.entrances.sensor", &e.sensor)?;
            check_topic_level("site.entrances.line", &e.line)?;
            if !seen.insert((e.sensor.as_str(), e.line.as_str())) {
                return Err(invalid(
                    "site.entrances",
                    format!("{}/{}", e.sensor, e.line),
                    "allowed: each sensor's line once",
                ));
            }
        }
        let mut rooms = std::collections::BTreeSet::new();
        for r in &s.rooms {
            check_sensor("site.rooms.sensor", &r.sensor)?;
            if !r.group.is_empty() {
                check_topic_level("site.rooms.group", &r.group)?;
            }
            if r.capacity > 1_000_000 {
                return Err(invalid(
                    "site.rooms.capacity",
                    r.capacity,
                    "allowed: 0 (not stated) or 1..=1000000",
                ));
            }
            if !rooms.insert(r.sensor.as_str()) {
                return Err(invalid(
                    "site.rooms.sensor",
                    &r.sensor,
                    "allowed: each room sensor once",
                ));
            }
        }
        if self.privacy.min_count > 1000 {
            return Err(invalid(
                "privacy.min_count",
                self.privacy.min_count,
                "allowed: 0 (off) or 1..=1000",
            ));
        }
        self.as_sensor_config().validate()
    }

    /// The effective configuration as TOML, for `check-config`.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }
}

/// A sensor named in the site config: a topic level that is not the aggregator's own.
fn check_sensor(key: &'static str, name: &str) -> Result<(), ConfigError> {
    check_topic_level(key, name)?;
    if name.starts_with('_') {
        return Err(invalid(
            key,
            name,
            "allowed: a sensor name (sensor names do not start with \"_\")",
        ));
    }
    Ok(())
}

fn invalid(key: &'static str, value: impl std::fmt::Debug, allowed: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: format!("{value:?}"),
        allowed: allowed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_design_example_parses_and_names_bad_keys() {
        let good =
            "[site]\nname = \"hq\"\n[[site.entrances]]\nsensor = \"door-a\"\nline = \"door\"\n\
                    [[site.rooms]]\nsensor = \"room-1\"\ngroup = \"floor-1\"\ncapacity = 8\n\
                    [mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\n";
        let c = AggregateConfig::parse(good).unwrap();
        c.validate().unwrap();
        assert_eq!(c.topic_root(), "headcount/hq/_site");
        assert!(AggregateConfig::is_aggregator_text(good));
        assert!(!AggregateConfig::is_aggregator_text(
            "[sensor]\nname = \"a\"\n"
        ));
        for (text, key) in [
            ("[site]\nname = \"a/b\"\n", "site.name"),
            ("[site]\ndaily_reset = \"25:00\"\n", "site.daily_reset"),
            ("[site]\nhistory_bin_s = 7\n", "site.history_bin_s"),
            (
                "[[site.entrances]]\nsensor = \"_site\"\nline = \"d\"\n",
                "site.entrances.sensor",
            ),
            (
                "[[site.rooms]]\nsensor = \"r\"\n[[site.rooms]]\nsensor = \"r\"\n",
                "site.rooms.sensor",
            ),
            ("[mqtt]\nurl = \"http://x\"\n", "mqtt.url"),
        ] {
            let c = AggregateConfig::parse(text).unwrap();
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
        let e = AggregateConfig::parse("[site]\ncolour = 1\n").unwrap_err();
        assert!(e.contains("colour") && e.contains("entrances"), "{e}");
    }
}

//! The `[mqtt]` section: broker addresses (`mqtt.url`, one or a cluster's nodes, parsed here),
//! credentials' file, TLS files, store-and-forward bounds, publishing cadence and Home
//! Assistant discovery. Holds paths to secrets, never secrets.

use serde::{Deserialize, Serialize};

use super::{Config, ConfigError};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://host:port`; empty = no broker (replay prints only).
    pub url: String,
    /// MQTT client id; empty = `headcount-<site>-<name>`.
    pub client_id: String,
    /// User name for the broker; empty = anonymous.
    pub username: String,
    /// File holding the password (first line); the `HEADCOUNT_MQTT_PASSWORD` environment variable
    /// is used instead when set. The password itself is never in the config, logs or output.
    pub password_file: String,
    /// `mqtts://`: PEM file of the CA(s) the broker's certificate must chain to; "" = the
    /// system's CA bundle.
    pub ca_file: String,
    /// `mqtts://`: PEM client certificate and private key, for brokers that require them.
    pub client_cert_file: String,
    pub client_key_file: String,
    /// Store-and-forward: most reports kept while the broker is away (oldest dropped first).
    pub queue_max: u32,
    /// Store-and-forward: reports older than this many hours are dropped.
    pub queue_max_age_h: u32,
    /// Occupancy is published on change and at least every `interval_s` seconds.
    pub interval_s: u32,
    pub keep_alive_s: u32,
    /// How long to wait for the broker's CONNACK at start before giving up.
    pub connect_timeout_s: u32,
    /// Announce the sensor to Home Assistant (MQTT discovery).
    pub discovery: bool,
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            client_id: String::new(),
            username: String::new(),
            password_file: String::new(),
            ca_file: String::new(),
            client_cert_file: String::new(),
            client_key_file: String::new(),
            queue_max: 10_000,
            queue_max_age_h: 168,
            interval_s: 60,
            keep_alive_s: 30,
            connect_timeout_s: 10,
            discovery: true,
            discovery_prefix: "homeassistant".into(),
        }
    }
}

/// A parsed `mqtt://host:port` broker address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerAddr {
    pub host: String,
    pub port: u16,
    /// `mqtts://`: TLS.
    pub tls: bool,
}

impl Config {
    /// The first broker, or `None` when no broker is configured (`mqtt.url = ""`).
    pub fn broker(&self) -> Result<Option<BrokerAddr>, ConfigError> {
        Ok(self.brokers()?.into_iter().next())
    }

    /// Every broker `mqtt.url` names, in order (the nodes of a cluster, comma-separated: the
    /// sensor connects to the first that answers and moves on when its node dies); empty when
    /// no broker is configured. All share one scheme, as they share the TLS settings.
    pub fn brokers(&self) -> Result<Vec<BrokerAddr>, ConfigError> {
        let url = self.mqtt.url.trim();
        if url.is_empty() {
            return Ok(Vec::new());
        }
        let all: Vec<BrokerAddr> = url
            .split(',')
            .map(|one| parse_broker(one.trim()))
            .collect::<Result<_, _>>()?;
        let list = |allowed: String| ConfigError::Invalid {
            key: "mqtt.url",
            value: format!("{url:?}"),
            allowed,
        };
        if all.len() > MAX_BROKERS {
            return Err(list(format!(
                "at most {MAX_BROKERS} comma-separated broker URLs"
            )));
        }
        if all.iter().any(|b| b.tls != all[0].tls) {
            return Err(list(
                "the brokers of one list share the TLS settings: all mqtt:// or all mqtts://"
                    .into(),
            ));
        }
        Ok(all)
    }
}

/// Most brokers one `mqtt.url` may name.
pub const MAX_BROKERS: usize = 16;

/// One broker URL of `mqtt.url`.
fn parse_broker(url: &str) -> Result<BrokerAddr, ConfigError> {
    let bad = |why: &str| ConfigError::Invalid {
        key: "mqtt.url",
        value: format!("{url:?}"),
        allowed: format!(
            "{why}; allowed: \"\" (no broker), mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (TLS), \
             or several of them separated by commas (the nodes of a cluster)"
        ),
    };
    if url.is_empty() {
        return Err(bad("an empty broker URL in the comma-separated list"));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let tls = match parsed.scheme() {
        "mqtt" | "tcp" => false,
        "mqtts" | "ssl" => true,
        scheme => return Err(bad(&format!("unsupported scheme {scheme:?}"))),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "no user info allowed (mqtt.username and mqtt.password_file hold credentials)",
        ));
    }
    if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() || parsed.fragment().is_some()
    {
        return Err(bad("no path, query or fragment allowed"));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(bad("host must be set")),
    };
    // A host name of letters, digits, '-' and '.' (the url parser lets other characters
    // through for schemes it does not know).
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
    {
        return Err(bad("the host name has characters a host name cannot have"));
    }
    let port = parsed.port().unwrap_or(if tls { 8883 } else { 1883 });
    if port == 0 {
        return Err(bad("port must be 1..=65535"));
    }
    Ok(BrokerAddr { host, port, tls })
}

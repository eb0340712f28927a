//! The `[mqtt]` section: broker address, credentials' file, TLS files, store-and-forward bounds,
//! publishing cadence and Home Assistant discovery. Holds paths to secrets, never secrets.

use serde::{Deserialize, Serialize};

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

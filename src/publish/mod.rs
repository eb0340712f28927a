//! Publishing: aggregate reports → typed messages → stdout (replay) and MQTT.
//!
//! The only way out of the process for anything derived from frames. It accepts only
//! [`CountReport`]s (numbers) and turns them into the schema types of [`schema`]; it never
//! receives a frame, a box or a track, and never logs a payload.
//!
//! Transports: [`mqtt`] (plain or TLS, [`tls`]), behind the store-and-forward [`outbox`]
//! (reports persisted in the state dir until the broker acknowledges them); [`discovery`] makes
//! the Home Assistant configs.

pub mod ack_latency;
pub mod discovery;
mod forward;
mod ha_watch;
pub mod mqtt;
mod mqtt_cause;
mod mqtt_session;
mod mqtt_settings;
pub mod outbox;
mod reports;
pub mod schema;
pub mod tls;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use mqtt::{MqttPublisher, MqttSettings};
pub use mqtt_cause::connection_cause;
pub use schema::{
    Availability, Banded, HealthPayload, LinePayload, Message, OccupancyPayload, PrivacyPayload,
    SafeguardsPayload, Topic, SCHEMA_VERSION,
};

use crate::config::PrivacyConfig;
use crate::health::HealthSnapshot;
use crate::privacy::safeguards::Safeguards;
use crate::wall_clock::WallClock;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot connect to MQTT broker {url}: {cause}")]
    Refused { url: String, cause: String },
    #[error("MQTT client closed: {0}")]
    Closed(String),
    #[error("MQTT broker did not acknowledge {pending} message(s) before shutdown")]
    Unacknowledged { pending: u64 },
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("MQTT broker {url} did not take {pending} queued report(s) before shutdown; {kept}")]
    Queued {
        url: String,
        pending: u64,
        kept: String,
    },
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
}

/// What the `privacy` topic states about this sensor, besides the live budget.
#[derive(Debug, Clone)]
pub struct PrivacyStatement {
    pub config: PrivacyConfig,
    pub masks: u32,
    pub sandbox: String,
}

/// RFC 3339, whole seconds, UTC.
fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// Turns reports into messages and sends each to every configured output.
pub struct Publisher {
    root: String,
    print_json: bool,
    mqtt: Option<MqttPublisher>,
    seq: u64,
    /// Source time → wall-clock time: `ts` is the wall-clock time of the report's source time.
    clock: Arc<WallClock>,
    safeguards: Safeguards,
    statement: PrivacyStatement,
    /// Home Assistant discovery configs to announce (empty when discovery is off).
    discovery: Vec<(String, schema::DiscoveryPayload)>,
    /// Names of the configured zones and lines, by index (their topic levels).
    zones: Vec<String>,
    lines: Vec<String>,
    /// Aggregates waiting for the broker's acknowledgement (store-and-forward).
    outbox: outbox::Outbox,
    /// Per queue entry handed to the current session, from the front: the session's send count
    /// at that moment (acknowledged once the session's PUBACK count reaches it).
    handed: VecDeque<u64>,
    /// The session whose connection was last announced (`online`, privacy, discovery).
    announced_session: u64,
    /// The last health heartbeat, re-published when a new connection is made.
    last_health: Option<HealthPayload>,
    /// The report being published was made while the camera was blind or frozen.
    unreliable: bool,
    /// The aggregates queued so far, and their sequence numbers.
    made: ReportsMade,
    /// The newest aggregate payload of each topic: re-published (retained) on every new
    /// connection, so the broker node the sensor is now on holds its current state (a
    /// RabbitMQ cluster keeps retained messages per node; a restarted broker may have lost them).
    current: std::collections::BTreeMap<String, String>,
}

/// The aggregate reports (occupancy, zone, line) a publisher has queued: how many, and the
/// sequence numbers of the first and the last (each report has its own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportsMade {
    pub count: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
}

/// Queue entries in flight at once.
const WINDOW: usize = 64;

impl Publisher {
    pub fn new(
        root: String,
        print_json: bool,
        mqtt: Option<MqttPublisher>,
        clock: Arc<WallClock>,
        safeguards: Safeguards,
        statement: PrivacyStatement,
        discovery: Vec<(String, schema::DiscoveryPayload)>,
    ) -> Self {
        Self {
            root,
            print_json,
            mqtt,
            // Sequence numbers start at the wall-clock millisecond, so they keep increasing across
            // restarts and consumers can deduplicate a backlog against live messages.
            seq: SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            clock,
            safeguards,
            statement,
            discovery,
            zones: Vec::new(),
            lines: Vec::new(),
            outbox: outbox::Outbox::in_memory(10_000, Duration::from_secs(7 * 86_400)),
            handed: VecDeque::new(),
            announced_session: 0,
            last_health: None,
            unreliable: false,
            made: ReportsMade::default(),
            current: std::collections::BTreeMap::new(),
        }
    }

    /// Uses `outbox` (persisted in the state dir) for aggregates; what an earlier run left in it
    /// is published first.
    pub fn with_outbox(mut self, outbox: outbox::Outbox) -> Self {
        self.outbox = outbox;
        self
    }

    /// The aggregate reports queued so far.
    pub fn reports_made(&self) -> ReportsMade {
        self.made
    }

    /// The broker in use (or being tried).
    pub fn broker(&self) -> Option<String> {
        self.mqtt.as_ref().map(MqttPublisher::url)
    }

    /// Connections the brokers accepted so far (the first and every reconnection).
    pub fn connections(&self) -> u64 {
        self.mqtt.as_ref().map_or(0, MqttPublisher::connections)
    }

    /// Reports waiting for the broker, and reports dropped by the queue's bounds.
    pub fn queue(&self) -> (u64, u64) {
        (self.outbox.len() as u64, self.outbox.dropped())
    }

    /// Publishes the Home Assistant discovery configs (at start, and whenever Home Assistant
    /// comes online).
    pub async fn announce_discovery(&mut self) -> Result<(), PublishError> {
        for (topic, config) in self.discovery.clone() {
            let message = Message::Discovery {
                topic,
                config: Box::new(config),
            };
            self.send(&message).await?;
        }
        Ok(())
    }

    /// Announces the sensor `online` (retained; the Last Will says `offline`) and publishes its
    /// privacy statement.
    pub async fn announce(&mut self) -> Result<(), PublishError> {
        if let Some(mqtt) = self.mqtt.as_ref().filter(|m| m.is_connected()) {
            self.announced_session = mqtt.session_number();
        }
        self.send(&Message::Availability(Availability::Online))
            .await?;
        let now = SystemTime::now();
        self.send_privacy(now).await?;
        self.announce_discovery().await
    }

    async fn send_privacy(&mut self, at: SystemTime) -> Result<(), PublishError> {
        let ts = rfc3339(at);
        let seq = self.next_seq();
        let c = &self.statement.config;
        let payload = PrivacyPayload {
            schema: SCHEMA_VERSION,
            seq,
            ts: ts.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            build: option_env!("HEADCOUNT_BUILD").unwrap_or("unknown").into(),
            image_output: "none".into(),
            safeguards: SafeguardsPayload {
                min_count: c.min_count,
                time_resolution_s: c.time_resolution_s,
                dp_epsilon_per_day: c.dp_epsilon_per_day,
                dp_epsilon_per_release: if c.dp_epsilon_per_day > 0.0 {
                    Safeguards::epsilon_per_release(c)
                } else {
                    0.0
                },
                dp_budget_remaining: self
                    .safeguards
                    .budget_remaining(&ts[..10])
                    .map(|e| (e * 1e6).round() / 1e6),
                dp_noise_95: crate::config::dp_noise::DpNoise::of(c)
                    .map(|n| (n.half_width_95 * 100.0).round() / 100.0),
            },
            masks: self.statement.masks,
            sandbox: self.statement.sandbox.clone(),
        };
        self.send(&Message::Privacy(payload)).await
    }

    /// Publishes a health heartbeat.
    pub async fn health(
        &mut self,
        h: &HealthSnapshot,
        (runtime, accelerator): (&str, &str),
        queue: u64,
    ) -> Result<(), PublishError> {
        let round = |v: f64| (v * 100.0).round() / 100.0;
        let payload = HealthPayload {
            schema: SCHEMA_VERSION,
            seq: self.next_seq(),
            ts: rfc3339(SystemTime::now()),
            uptime_s: h.uptime.as_secs(),
            fps: round(h.fps),
            inference_ms_p50: round(h.inference_ms_p50),
            inference_ms_p95: round(h.inference_ms_p95),
            runtime: runtime.to_string(),
            accelerator: accelerator.into(),
            source: h.source.as_str().into(),
            frames: h.frames,
            dropped: h.dropped,
            queue: queue + self.outbox.len() as u64,
            queue_dropped: self.outbox.dropped(),
            queue_damaged: self.outbox.damaged(),
            // A queue that cannot be saved is this sensor's problem of the moment.
            last_error: self
                .outbox
                .unsaved()
                .map(String::from)
                .or_else(|| self.mqtt.as_ref().and_then(|m| m.takeover()))
                .or_else(|| h.last_error.clone()),
        };
        self.send(&Message::Health(payload)).await
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    async fn send(&mut self, message: &Message) -> Result<(), PublishError> {
        if let Message::Health(h) = message {
            self.last_health = Some(h.clone());
        }
        if let Some(mqtt) = self.mqtt.as_mut() {
            match message {
                // Aggregates are queued (persisted) first, then sent in order.
                Message::Occupancy(OccupancyPayload { seq, .. })
                | Message::Zone {
                    payload: OccupancyPayload { seq, .. },
                    ..
                }
                | Message::Line {
                    payload: LinePayload { seq, .. },
                    ..
                } => {
                    self.made.count += 1;
                    self.made.first_seq.get_or_insert(*seq);
                    self.made.last_seq = Some(*seq);
                    let payload = String::from_utf8(message.payload()).unwrap_or_default();
                    let topic = message.path(&self.root);
                    self.current.insert(topic.clone(), payload.clone());
                    self.outbox.push(topic, payload);
                    self.flush();
                }
                // State is sent when connected, and re-sent on every new connection.
                _ => {
                    mqtt.try_publish(message);
                }
            }
        }
        self.print(message)
    }

    /// One JSON line on stdout when printing (replay). A closed stdout (`replay | head`) is an
    /// error, never a panic.
    fn print(&self, message: &Message) -> Result<(), PublishError> {
        if !self.print_json {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", message.json_line(&self.root))
            .and_then(|_| out.flush())
            .map_err(PublishError::Stdout)
    }
}

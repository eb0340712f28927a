//! `headcount simulate`: N virtual sensors in one process, each the real publisher (store-and-
//! forward queue, `seq`, availability with its Last Will, health, the privacy topic, discovery
//! when on, broker fail-over) fed by a synthetic people process ([`people`]) instead of a camera
//! and a model. For a customer: will our broker carry the building; for us: the fleet tests.
//!
//! Everything a sensor publishes is made from random numbers: no frame, no model, no person.

mod people;
pub mod summary;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::config::{Config, LineConfig, ZoneConfig};
use crate::health::{HealthSnapshot, SourceState};
use crate::privacy::safeguards::Safeguards;
use crate::publish::ack_latency::AckLatency;
use crate::publish::{discovery, MqttPublisher, MqttSettings, PrivacyStatement, Publisher};
use crate::shutdown::Shutdown;
use crate::wall_clock::WallClock;

pub use summary::{SensorOutcome, Summary};

/// Most sensors one process simulates.
pub const MAX_SENSORS: u32 = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("--sensors {0}: allowed 1..={MAX_SENSORS}")]
    Sensors(u32),
    #[error("config key mqtt.url is empty: simulate needs a broker to publish to")]
    NoBroker,
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Tls(String),
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),
    #[error(transparent)]
    Privacy(#[from] crate::privacy::PrivacyError),
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub sensors: u32,
    /// Stop after this long (else at the shutdown, e.g. SIGINT).
    pub duration: Option<Duration>,
}

/// The sensors start this far apart (a building powered on at once still comes up over
/// seconds), so N sensors take N × this to connect.
const START_STEP: Duration = Duration::from_millis(2);
/// How long a sensor waits, at the end, for the broker to take what it still holds.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the fleet until `options.duration` has passed or `shutdown` is triggered; every sensor
/// then says `offline` and hands over what it holds. One outcome per sensor, in name order.
pub async fn run(
    config: &Config,
    options: &SimulateOptions,
    shutdown: Shutdown,
) -> Result<Summary, SimulateError> {
    if !(1..=MAX_SENSORS).contains(&options.sensors) {
        return Err(SimulateError::Sensors(options.sensors));
    }
    let brokers = config.brokers()?;
    if brokers.is_empty() {
        return Err(SimulateError::NoBroker);
    }
    let tls =
        crate::publish::tls::for_config(config).map_err(|e| SimulateError::Tls(e.to_string()))?;
    let credentials = config.mqtt_credentials()?;
    let started = Instant::now();
    let deadline = options.duration.map(|d| started + d);
    let mut sensors = tokio::task::JoinSet::new();
    for i in 0..options.sensors {
        let sensor = sensor_config(config, i);
        // Spread over a cluster's nodes: sensor i starts at broker i of the list (round it).
        let mut own = brokers.clone();
        own.rotate_left(i as usize % brokers.len());
        let settings = MqttSettings {
            brokers: own,
            ha_status_topic: sensor
                .mqtt
                .discovery
                .then(|| discovery::status_topic(&sensor)),
            credentials: credentials.clone(),
            client_id: sensor.client_id(),
            topic_root: sensor.topic_root(),
            keep_alive: Duration::from_secs(sensor.mqtt.keep_alive_s.into()),
            connect_timeout: Duration::from_secs(sensor.mqtt.connect_timeout_s.into()),
            tls: tls.clone(),
            ack_latency: Some(Arc::new(AckLatency::default())),
        };
        let shutdown = shutdown.clone();
        let start = START_STEP * i;
        sensors.spawn(async move {
            tokio::time::sleep(start).await;
            one_sensor(sensor, settings, i, deadline, shutdown).await
        });
    }
    let mut outcomes = Vec::with_capacity(options.sensors as usize);
    let mut first_error = None;
    while let Some(done) = sensors.join_next().await {
        match done {
            Ok(Ok(outcome)) => outcomes.push(outcome),
            Ok(Err(e)) => {
                // One sensor refused (credentials, TLS): they all would be; stop the rest.
                shutdown.trigger();
                first_error.get_or_insert(e);
            }
            Err(_) => {
                shutdown.trigger();
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    outcomes.sort_by(|a, b| a.sensor.cmp(&b.sensor));
    Ok(Summary::of(outcomes, started.elapsed()))
}

/// The config of simulated sensor `i`: named `sim-0001`…, under the config's site (or
/// `simulated`), its own client id, and a door line and a zone when the config has none.
fn sensor_config(config: &Config, i: u32) -> Config {
    let mut c = config.clone();
    if c.sensor.site == crate::config::SensorConfig::default().site {
        c.sensor.site = "simulated".into();
    }
    c.sensor.name = format!("sim-{:04}", i + 1);
    if !c.mqtt.client_id.is_empty() {
        c.mqtt.client_id = format!("{}-{}", c.mqtt.client_id, c.sensor.name);
    }
    if c.counting.lines.is_empty() {
        c.counting.lines.push(LineConfig {
            name: "door".into(),
            from: [0.5, 0.0],
            to: [0.5, 1.0],
        });
    }
    if c.counting.zones.is_empty() {
        c.counting.zones.push(ZoneConfig {
            name: "desk".into(),
            polygon: vec![[0.1, 0.5], [0.4, 0.5], [0.4, 0.9], [0.1, 0.9]],
        });
    }
    c
}

/// One simulated sensor, from its first connection to its `offline`.
async fn one_sensor(
    config: Config,
    settings: MqttSettings,
    i: u32,
    deadline: Option<Instant>,
    shutdown: Shutdown,
) -> Result<SensorOutcome, SimulateError> {
    let latency = settings.ack_latency.clone();
    let mqtt = MqttPublisher::connect(settings).await?;
    let clock = Arc::new(WallClock::live(SystemTime::now()));
    let statement = PrivacyStatement {
        config: config.privacy.clone(),
        masks: 0,
        sandbox: "none: simulated sensor".into(),
    };
    let discovery = if config.mqtt.discovery {
        discovery::configs(&config)
    } else {
        Vec::new()
    };
    let mut publisher = Publisher::new(
        config.topic_root(),
        false,
        Some(mqtt),
        Arc::clone(&clock),
        Safeguards::new(&config.privacy, None)?,
        statement,
        discovery,
    )
    .with_counters(
        config
            .counting
            .zones
            .iter()
            .map(|z| z.name.clone())
            .collect(),
        config
            .counting
            .lines
            .iter()
            .map(|l| l.name.clone())
            .collect(),
    )
    .with_outbox(crate::publish::outbox::Outbox::in_memory(
        config.mqtt.queue_max as usize,
        Duration::from_secs(u64::from(config.mqtt.queue_max_age_h) * 3600),
    ));
    publisher.announce().await?;
    let began = Instant::now();
    let mut people = people::People::new(u64::from(i));
    let health = |uptime: Duration, frames: u64| HealthSnapshot {
        uptime,
        fps: 1.0,
        inference_ms_p50: 0.0,
        inference_ms_p95: 0.0,
        frames,
        dropped: 0,
        source: SourceState::Running,
        last_error: None,
    };
    let runtime = ("simulated", "none");
    publisher
        .health(&health(Duration::ZERO, 0), runtime, 0)
        .await?;
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.tick().await;
    let mut heartbeat = tokio::time::interval(Duration::from_secs(config.mqtt.interval_s.into()));
    heartbeat.tick().await;
    let mut seconds = 0u64;
    loop {
        tokio::select! {
            _ = second.tick() => {
                seconds += 1;
                let report = people.step(began.elapsed());
                publisher.report(&report, true).await?;
                publisher.tick().await?;
            }
            _ = heartbeat.tick() => {
                publisher.health(&health(began.elapsed(), seconds), runtime, 0).await?;
            }
        }
        if shutdown.is_triggered() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    let made = publisher.reports_made();
    let broker = publisher.broker().unwrap_or_default();
    let connections = publisher.connections();
    let (_, dropped) = publisher.queue();
    let unsent = match publisher.close(CLOSE_TIMEOUT).await {
        Err(crate::publish::PublishError::Queued { pending, .. }) => pending,
        _ => 0,
    };
    Ok(SensorOutcome {
        sensor: config.sensor.name.clone(),
        reports_made: made.count,
        first_seq: made.first_seq,
        last_seq: made.last_seq,
        unsent,
        dropped,
        connections,
        broker,
        latencies: latency.map(|l| l.take()).unwrap_or_default(),
    })
}

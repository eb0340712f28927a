//! `headcount aggregate`: the site service beside the broker. It subscribes to the site's
//! sensors ([`inbox`]), folds their aggregates into the site's state ([`site`]: the building's
//! occupancy from its entrances ([`building`]), the declared rooms and groups, each sensor's
//! state ([`sensors`])) and publishes site-level aggregates under `headcount/<site>/_site/`
//! ([`payload`]), retained, with `seq`, availability and its Last Will, k-banding and Home
//! Assistant discovery ([`discovery`]), as a sensor does.
//!
//! It reads only what sensors already publish (counts, states) and publishes only sums of them:
//! no frame, box or track exists here. It opens no listening socket; it keeps one small record
//! of numbers in its state dir so a restart mid-day keeps the day's count.

pub mod building;
mod discovery;
pub mod inbox;
pub mod payload;
pub mod sensors;
pub mod site;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::mpsc;

use crate::config::AggregateConfig;
use crate::publish::{MqttPublisher, MqttSettings};
use crate::shutdown::Shutdown;
use site::{Site, SiteRecord};

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("config key mqtt.url is empty: the aggregator needs the site's broker")]
    NoBroker,
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Tls(String),
    #[error(transparent)]
    Publish(#[from] crate::publish::PublishError),
    #[error(transparent)]
    Lock(#[from] crate::state_lock::StateLockError),
    #[error("state file {path}: {cause}; move it aside to start the day's count afresh")]
    Record { path: PathBuf, cause: String },
}

/// How often the service looks at the time (daily reset, stale sensors, shutdown).
const TICK: Duration = Duration::from_millis(250);
/// Site payloads go out at most this often (changes in between are folded in).
const MIN_GAP: Duration = Duration::from_secs(1);
/// The state record is written at most this often (and at the end).
const SAVE_GAP: Duration = Duration::from_secs(5);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The record's file in the state dir.
pub const RECORD_FILE: &str = "site.json";

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Runs the site service until `shutdown`.
pub async fn run(config: &AggregateConfig, shutdown: Shutdown) -> Result<(), AggregateError> {
    let sensor_like = config.as_sensor_config();
    let brokers = sensor_like.brokers()?;
    if brokers.is_empty() {
        return Err(AggregateError::NoBroker);
    }
    let tls = crate::publish::tls::for_config(&sensor_like)
        .map_err(|e| AggregateError::Tls(e.to_string()))?;
    let (record_path, _lock, record) = open_state(config)?;
    let settings = MqttSettings {
        brokers,
        ha_status_topic: config
            .mqtt
            .discovery
            .then(|| format!("{}/status", config.mqtt.discovery_prefix)),
        credentials: sensor_like.mqtt_credentials()?,
        client_id: sensor_like.mqtt.client_id.clone(),
        topic_root: config.topic_root(),
        keep_alive: Duration::from_secs(config.mqtt.keep_alive_s.into()),
        connect_timeout: Duration::from_secs(config.mqtt.connect_timeout_s.into()),
        tls,
        ack_latency: None,
    };
    let mut site = Site::new(config, None, unix_now(), record);
    let mut mqtt = MqttPublisher::connect(settings.clone()).await?;
    let (tx, mut rx) = mpsc::channel(1024);
    let inbox = inbox::spawn(&settings, config.site_root(), tx);
    let ha_online = mqtt.ha_online();
    let discovery = if config.mqtt.discovery {
        discovery::configs(config)
    } else {
        Vec::new()
    };
    let heartbeat = Duration::from_secs(config.mqtt.interval_s.into());
    let mut out = Outgoing {
        root: config.topic_root(),
        seq: u64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(1),
        )
        .unwrap_or(1),
        announced: 0,
    };
    let mut dirty = true;
    let mut announce = false;
    let mut published_at: Option<Instant> = None;
    let mut saved_at = Instant::now();
    let mut unsaved = false;
    let mut save_failing = false;
    tracing::info!(
        site = %config.site.name,
        entrances = config.site.entrances.len(),
        rooms = config.site.rooms.len(),
        "site aggregator started"
    );
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !shutdown.is_triggered() {
        tokio::select! {
            Some(m) = rx.recv() => {
                if site.handle(&m, unix_now()) {
                    dirty = true;
                    unsaved = true;
                }
                continue;
            }
            _ = ha_online.notified() => announce = true,
            _ = tick.tick() => {}
        }
        let now = unix_now();
        if site.tick(now) {
            dirty = true;
            unsaved = true;
        }
        mqtt.next_session();
        if !mqtt.is_connected() {
            continue;
        }
        let new_session = mqtt.session_number() != out.announced;
        if new_session || std::mem::take(&mut announce) {
            out.announce(&mut mqtt, &discovery, new_session);
            dirty = true;
        }
        let due = published_at.is_none_or(|at| at.elapsed() >= heartbeat);
        let gap_ok = published_at.is_none_or(|at| at.elapsed() >= MIN_GAP);
        if ((dirty && gap_ok) || due || new_session) && out.state(&mut mqtt, &site, now) {
            dirty = false;
            published_at = Some(Instant::now());
        }
        if unsaved && saved_at.elapsed() >= SAVE_GAP {
            if let Some(path) = &record_path {
                crate::state_file::save(path, &site.record(), &mut save_failing, "site record");
            }
            unsaved = false;
            saved_at = Instant::now();
        }
    }
    inbox.abort();
    if let Some(path) = &record_path {
        crate::state_file::save(path, &site.record(), &mut save_failing, "site record");
    }
    if mqtt.is_connected() {
        out.state(&mut mqtt, &site, unix_now());
    }
    let closed = mqtt.close(CLOSE_TIMEOUT).await;
    tracing::info!(unreadable = site.unreadable, "site aggregator stopped");
    closed.map_err(AggregateError::from)
}

/// The state dir: its lock, and the record an earlier run left.
#[allow(clippy::type_complexity)]
fn open_state(
    config: &AggregateConfig,
) -> Result<
    (
        Option<PathBuf>,
        Option<crate::state_lock::StateDirLock>,
        Option<SiteRecord>,
    ),
    AggregateError,
> {
    if config.state.dir.is_empty() {
        return Ok((None, None, None));
    }
    let dir = PathBuf::from(&config.state.dir);
    let lock = crate::state_lock::StateDirLock::acquire(&dir)?;
    let path = dir.join(RECORD_FILE);
    let record =
        crate::state_file::read::<SiteRecord>(&path).map_err(|e| AggregateError::Record {
            path: path.clone(),
            cause: e.to_string(),
        })?;
    if record.is_some() {
        tracing::info!(path = %path.display(), "today's site count restored from the state dir");
    }
    Ok((Some(path), Some(lock), record))
}

/// What goes out, and the `seq` it carries.
struct Outgoing {
    root: String,
    seq: u64,
    /// The session whose connection was last announced.
    announced: u64,
}

impl Outgoing {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `online` and the discovery configs, on a new connection (or when Home Assistant asks).
    fn announce(
        &mut self,
        mqtt: &mut MqttPublisher,
        discovery: &[(String, crate::publish::schema::DiscoveryPayload)],
        new_session: bool,
    ) {
        if new_session {
            mqtt.try_publish_raw(
                format!("{}/availability", self.root),
                b"online".to_vec(),
                true,
            );
            self.announced = mqtt.session_number();
        }
        for (topic, config) in discovery {
            if let Ok(json) = serde_json::to_vec(config) {
                mqtt.try_publish_raw(topic.clone(), json, true);
            }
        }
    }

    /// Every site payload, retained; false when the client did not take them all.
    fn state(&mut self, mqtt: &mut MqttPublisher, site: &Site, now: i64) -> bool {
        let rendered = [
            (
                "building",
                serde_json::to_vec(&site.building(self.next_seq(), now)),
            ),
            (
                "occupancy",
                serde_json::to_vec(&site.occupancy(self.next_seq(), now)),
            ),
            (
                "sensors",
                serde_json::to_vec(&site.sensors(self.next_seq(), now)),
            ),
            (
                "history",
                serde_json::to_vec(&site.history(self.next_seq(), now)),
            ),
        ];
        let mut all = true;
        for (topic, json) in rendered {
            match json {
                Ok(json) => {
                    all &= mqtt.try_publish_raw(format!("{}/{topic}", self.root), json, true)
                }
                Err(_) => all = false,
            }
        }
        all
    }
}

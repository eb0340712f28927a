//! MQTT transport with `rumqttc` on tokio: QoS 1, retained state, Last Will `offline`.
//!
//! [`MqttPublisher::connect`] waits for the broker's CONNACK, so a broker that refuses the
//! sensor (credentials, TLS) is a clear start-up error; one that cannot be reached yet is not
//! (counting goes on, reports wait in the store-and-forward queue). Each connection is a
//! *session*: a fresh client whose task drives the event loop, counts PUBACKs and ends when the
//! connection drops; the next session starts with backoff. Messages are handed over only while
//! connected, so nothing waits inside the client across a drop (with a clean session the broker
//! and rumqttc forget it): the queue re-sends what a dead session did not get acknowledged. This
//! module publishes only [`Message`]s built from the schema types and queued aggregates, and never
//! logs a password or a payload.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, LastWill, MqttOptions, Packet, QoS,
};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::mqtt_cause::{connection_cause, refusal, tls_port_hint};
use super::mqtt_session::{start_session, Session};
use super::schema::{Availability, Message, Topic};
use super::PublishError;
use crate::config::BrokerAddr;

/// Connection settings, already validated by the config.
#[derive(Debug, Clone)]
pub struct MqttSettings {
    pub broker: BrokerAddr,
    /// Home Assistant's status topic to watch (discovery on), re-announcing on `online`.
    pub ha_status_topic: Option<String>,
    /// User name and password; `None` = anonymous. Never logged.
    pub credentials: Option<(String, String)>,
    pub client_id: String,
    pub topic_root: String,
    pub keep_alive: Duration,
    pub connect_timeout: Duration,
    /// `mqtts://`: the rustls client configuration (CA, optional client certificate).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl MqttSettings {
    pub(super) fn url(&self) -> String {
        let scheme = if self.broker.tls { "mqtts" } else { "mqtt" };
        format!("{scheme}://{}:{}", self.broker.host, self.broker.port)
    }
}

/// Options shared by the publishing connection and the status watcher: broker, keep-alive, clean
/// session, credentials, TLS.
pub(super) fn base_options(settings: &MqttSettings, client_id: String) -> MqttOptions {
    let mut options = MqttOptions::new(
        client_id,
        settings.broker.host.clone(),
        settings.broker.port,
    );
    options
        .set_keep_alive(settings.keep_alive)
        .set_clean_session(true);
    if let Some((user, password)) = &settings.credentials {
        options.set_credentials(user.clone(), password.clone());
    }
    if let Some(tls) = &settings.tls {
        options.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(Arc::clone(tls)),
        ));
    }
    options
}

/// The longest wait between connection attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A connection the broker closes sooner than this after accepting it is "short".
const SHORT_SESSION: Duration = Duration::from_secs(60);
/// Short sessions in a row after which another client with our client id is suspected.
const TAKEOVERS: u32 = 3;

/// A publisher that keeps (re)connecting.
pub struct MqttPublisher {
    options: MqttOptions,
    settings: MqttSettings,
    session: Session,
    ha_online: Arc<Notify>,
    /// The Home Assistant status watcher's task (discovery on), on a connection of its own.
    watcher: Option<JoinHandle<()>>,
    /// Sessions in a row the broker closed within [`SHORT_SESSION`] of accepting them.
    short_sessions: u32,
    /// The wait before the next session after a short one (0.5 s doubling to [`MAX_BACKOFF`]).
    backoff: Duration,
}

impl Drop for MqttPublisher {
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.take() {
            watcher.abort();
        }
    }
}

/// What [`MqttPublisher::next_session`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    /// Messages the ended session acknowledged, of those handed to it.
    pub acked: u64,
    pub sent: u64,
}

impl MqttPublisher {
    /// Connects and waits for the broker to accept the session (or to be found unreachable).
    pub async fn connect(settings: MqttSettings) -> Result<Self, PublishError> {
        let mut options = base_options(&settings, settings.client_id.clone());
        options.set_last_will(LastWill::new(
            Topic::Availability.path(&settings.topic_root),
            Availability::Offline.as_str(),
            QoS::AtLeastOnce,
            true,
        ));
        let (client, mut eventloop) = AsyncClient::new(options.clone(), 256);
        let url = settings.url();
        // A broker that answers and refuses (credentials, TLS) is a configuration error; one
        // that cannot be reached yet is not: counting goes on and reports are queued.
        let wait = async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        return match ack.code {
                            ConnectReturnCode::Success => Ok(true),
                            code => Err(PublishError::Refused {
                                url: url.clone(),
                                cause: refusal(code).into(),
                            }),
                        }
                    }
                    Ok(_) => continue,
                    Err(ConnectionError::Io(e)) => {
                        if let Some(wrong) = tls_port_hint(&settings).await {
                            return Err(wrong);
                        }
                        tracing::warn!(
                            broker = %url,
                            cause = %e,
                            "MQTT broker unreachable; counting goes on, reports are queued until it answers"
                        );
                        return Ok(false);
                    }
                    Err(e) => {
                        if let Some(wrong) = tls_port_hint(&settings).await {
                            return Err(wrong);
                        }
                        return Err(PublishError::Refused {
                            url: url.clone(),
                            cause: connection_cause(&e),
                        });
                    }
                }
            }
        };
        let up = match tokio::time::timeout(settings.connect_timeout, wait).await {
            Ok(result) => result?,
            Err(_) => {
                if let Some(wrong) = tls_port_hint(&settings).await {
                    return Err(wrong);
                }
                tracing::warn!(
                    broker = %url,
                    "MQTT broker did not answer within {} s; counting goes on, reports are queued",
                    settings.connect_timeout.as_secs()
                );
                false
            }
        };
        if up {
            tracing::info!(broker = %url, client_id = %settings.client_id, "connected to MQTT broker");
        }
        let ha_online = Arc::new(Notify::new());
        let session = start_session(client, eventloop, up, 1, &settings, Duration::ZERO);
        let watcher = settings
            .ha_status_topic
            .clone()
            .map(|topic| super::ha_watch::spawn(&settings, topic, Arc::clone(&ha_online)));
        Ok(Self {
            options,
            settings,
            session,
            ha_online,
            watcher,
            short_sessions: 0,
            backoff: Duration::ZERO,
        })
    }

    /// Notified whenever Home Assistant announces itself `online` (discovery on).
    pub fn ha_online(&self) -> Arc<Notify> {
        Arc::clone(&self.ha_online)
    }

    /// Hands one message to the client (QoS 1, retained as its topic says) without waiting;
    /// false when disconnected or the client's queue is full (nothing was sent).
    pub fn try_publish(&mut self, message: &Message) -> bool {
        self.try_publish_raw(
            message.path(&self.settings.topic_root),
            message.payload(),
            message.retained(),
        )
    }

    /// As [`MqttPublisher::try_publish`], for a message already rendered (the queue's entries).
    pub fn try_publish_raw(&mut self, topic: String, payload: Vec<u8>, retained: bool) -> bool {
        if !self.is_connected() {
            return false;
        }
        match self
            .session
            .client
            .try_publish(topic, QoS::AtLeastOnce, retained, payload)
        {
            Ok(()) => {
                self.session.sent += 1;
                true
            }
            Err(_) => false,
        }
    }

    /// This session's (handed over, acknowledged) message counts.
    pub fn counts(&self) -> (u64, u64) {
        (self.session.sent, *self.session.acked.borrow())
    }

    pub fn is_connected(&self) -> bool {
        self.session.connected.load(Ordering::Relaxed)
    }

    /// The broker's URL, for messages.
    pub fn url(&self) -> String {
        self.settings.url()
    }

    /// The current session's number (changes when a new connection is made).
    pub fn session_number(&self) -> u64 {
        self.session.number
    }

    /// When the current session's connection has dropped: starts the next one (which keeps
    /// trying with backoff) and says what the ended one got acknowledged.
    pub fn next_session(&mut self) -> Option<SessionEnd> {
        if !self.session.driver.is_finished() {
            return None;
        }
        let end = SessionEnd {
            acked: *self.session.acked.borrow(),
            sent: self.session.sent,
        };
        let lasted = self
            .session
            .accepted_at
            .lock()
            .ok()
            .and_then(|at| at.map(|a| (a.at.elapsed(), a.first_try)));
        match lasted {
            // Taken over: the broker was there at once, and dropped us again soon.
            Some((d, true)) if d < SHORT_SESSION => self.short_sessions += 1,
            // A broker that went away and came back (the connection needed retries) explains
            // a short session without another client.
            Some(_) => self.short_sessions = 0,
            None => {}
        }
        if self.short_sessions == TAKEOVERS {
            tracing::warn!(broker = %self.settings.url(), "{}", self.takeover().unwrap_or_default());
        }
        // A broker that accepts and then drops the connection (overloaded, misconfigured,
        // hostile) is not hammered: after a short session the next one waits 0.5 s doubling to
        // 10 s, plus jitter; after a long one, only the jitter (so a fleet spreads its
        // reconnections after a broker restart). Two clients with one id take the connection
        // from each other as fast as they can connect: past the suspicion, wait longer (2 s
        // doubling to 32 s; under SHORT_SESSION, so the suspicion holds while it lasts), so the
        // other sensor keeps its connection for a while.
        let jitter = Duration::from_millis(rand::random::<u64>() % 1000);
        self.backoff = match lasted {
            Some((d, _)) if d >= SHORT_SESSION => Duration::ZERO,
            _ => (self.backoff * 2).clamp(Duration::from_millis(500), MAX_BACKOFF),
        };
        let takeover = if self.short_sessions >= TAKEOVERS {
            let step = (self.short_sessions - TAKEOVERS).min(4);
            Duration::from_secs(2u64 << step)
        } else {
            Duration::ZERO
        };
        let delay = self.backoff.max(takeover) + jitter;
        let (client, eventloop) = AsyncClient::new(self.options.clone(), 256);
        self.session = start_session(
            client,
            eventloop,
            false,
            self.session.number + 1,
            &self.settings,
            delay,
        );
        Some(end)
    }

    /// When the broker keeps closing connections right after accepting them: what is likely
    /// wrong (another client with this client id) and what to do, for logs and `health`.
    pub fn takeover(&self) -> Option<String> {
        (self.short_sessions >= TAKEOVERS).then(|| {
            format!(
                "the broker closed {} connections in a row within {} s of accepting them: \
                 another client is probably using the client id {:?} (two sensors with the same \
                 sensor.site and sensor.name?); give each sensor its own sensor.name or \
                 mqtt.client_id",
                self.short_sessions,
                SHORT_SESSION.as_secs(),
                self.settings.client_id
            )
        })
    }

    /// Waits until the broker has acknowledged every message of this session.
    pub async fn drain(&mut self, timeout: Duration) -> Result<(), PublishError> {
        let sent = self.session.sent;
        let done = {
            let wait = self.session.acked.wait_for(|&acked| acked >= sent);
            matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(_)))
        };
        if done {
            Ok(())
        } else {
            Err(PublishError::Unacknowledged {
                pending: sent.saturating_sub(*self.session.acked.borrow()),
            })
        }
    }

    /// Publishes `offline`, waits for the broker to acknowledge everything, then disconnects
    /// cleanly (so the broker does not also fire the Last Will).
    pub async fn close(mut self, timeout: Duration) -> Result<(), PublishError> {
        self.try_publish(&Message::Availability(Availability::Offline));
        let drained = self.drain(timeout).await;
        if let Some(watcher) = self.watcher.take() {
            watcher.abort();
        }
        let _ = self.session.client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.session.driver).await;
        self.session.driver.abort();
        drained
    }
}

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
pub use super::mqtt_settings::MqttSettings;
use super::schema::{Availability, Message, Topic};
use super::PublishError;

/// The longest wait between connection attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A connection the broker closes sooner than this after accepting it is "short".
const SHORT_SESSION: Duration = Duration::from_secs(60);
/// Short sessions in a row after which another client with our client id is suspected.
const TAKEOVERS: u32 = 3;

/// A fleet's first reconnection after a broker went away is spread over this long, so a
/// restarted broker (or the surviving nodes of a cluster) is not stampeded.
pub(super) const RECONNECT_SPREAD: Duration = Duration::from_secs(5);

/// A publisher that keeps (re)connecting.
pub struct MqttPublisher {
    /// Per broker of the list: client id, Last Will, credentials, TLS.
    options: Vec<MqttOptions>,
    settings: MqttSettings,
    session: Session,
    ha_online: Arc<Notify>,
    /// The Home Assistant status watcher's task (discovery on), on a connection of its own.
    watcher: Option<JoinHandle<()>>,
    /// Sessions in a row the broker closed within [`SHORT_SESSION`] of accepting them.
    short_sessions: u32,
    /// The wait before the next session after a short one (0.5 s doubling to [`MAX_BACKOFF`]).
    backoff: Duration,
    /// Ended sessions whose connection the broker had accepted.
    connections_ended: u64,
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

/// How one broker of the list answered the first connection attempt.
enum FirstAnswer {
    Accepted,
    /// Not reachable, or no answer in time: the next broker is tried.
    Unreachable,
}

/// The first connection attempt to broker `i`: accepted, or unreachable (not answering, or not
/// within `connect_timeout`); a broker that answers and refuses (credentials, TLS) is a
/// configuration error, as is an `mqtt://` URL at a port that speaks TLS.
async fn first_answer(
    settings: &MqttSettings,
    i: usize,
    eventloop: &mut rumqttc::EventLoop,
) -> Result<FirstAnswer, PublishError> {
    let url = settings.url_of(i);
    let broker = &settings.brokers[i];
    let wait = async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    return match ack.code {
                        ConnectReturnCode::Success => Ok(FirstAnswer::Accepted),
                        code => Err(PublishError::Refused {
                            url: url.clone(),
                            cause: refusal(code).into(),
                        }),
                    };
                }
                Ok(_) => continue,
                // A node still starting (or overloaded) says so (rumqttc hands a refusing CONNACK
                // over as this error): not a configuration error, so the next broker is tried.
                Err(ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable)) => {
                    tracing::warn!(broker = %url, "MQTT broker unavailable; trying the next");
                    return Ok(FirstAnswer::Unreachable);
                }
                // Not there, or no answer in rumqttc's network timeout (a loaded node): not a
                // configuration error either.
                Err(
                    e @ (ConnectionError::Io(_)
                    | ConnectionError::NetworkTimeout
                    | ConnectionError::FlushTimeout),
                ) => {
                    if let Some(wrong) = tls_port_hint(settings, broker).await {
                        return Err(wrong);
                    }
                    tracing::warn!(
                        broker = %url,
                        cause = %connection_cause(&e),
                        "MQTT broker unreachable; counting goes on, reports are queued until a broker answers"
                    );
                    return Ok(FirstAnswer::Unreachable);
                }
                Err(e) => {
                    if let Some(wrong) = tls_port_hint(settings, broker).await {
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
    match tokio::time::timeout(settings.connect_timeout, wait).await {
        Ok(result) => result,
        Err(_) => {
            if let Some(wrong) = tls_port_hint(settings, broker).await {
                return Err(wrong);
            }
            tracing::warn!(
                broker = %url,
                "MQTT broker did not answer within {} s; counting goes on, reports are queued",
                settings.connect_timeout.as_secs()
            );
            Ok(FirstAnswer::Unreachable)
        }
    }
}

impl MqttPublisher {
    /// Connects to the first broker of the list that answers and waits for it to accept the
    /// session (or for every broker to be found unreachable: counting goes on, reports queue).
    pub async fn connect(settings: MqttSettings) -> Result<Self, PublishError> {
        let will = LastWill::new(
            Topic::Availability.path(&settings.topic_root),
            Availability::Offline.as_str(),
            QoS::AtLeastOnce,
            true,
        );
        let options = settings.options_per_broker(&settings.client_id, |o| {
            o.set_last_will(will.clone());
        });
        // The first broker that accepts; when none answers, the session keeps trying them all
        // in turn from the first.
        let mut accepted = None;
        for (i, o) in options.iter().enumerate() {
            let (client, mut eventloop) = AsyncClient::new(o.clone(), 256);
            if let FirstAnswer::Accepted = first_answer(&settings, i, &mut eventloop).await? {
                accepted = Some((i, client, eventloop));
                break;
            }
        }
        let up = accepted.is_some();
        let (at, client, eventloop) = match accepted {
            Some(found) => found,
            None => {
                let (client, eventloop) = AsyncClient::new(options[0].clone(), 256);
                (0, client, eventloop)
            }
        };
        if up {
            tracing::info!(broker = %settings.url_of(at), client_id = %settings.client_id, "connected to MQTT broker");
        }
        let ha_online = Arc::new(Notify::new());
        let session = start_session(
            (client, eventloop),
            up,
            1,
            &settings,
            &options,
            at,
            Duration::ZERO,
        );
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
            connections_ended: 0,
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
                if let Some(latency) = &self.settings.ack_latency {
                    latency.sent();
                }
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

    /// The URL of the broker in use (or being tried), for messages.
    pub fn url(&self) -> String {
        self.settings.url_of(self.session.broker())
    }

    /// Connections the brokers accepted so far (the first and every reconnection).
    pub fn connections(&self) -> u64 {
        let current = self
            .session
            .accepted_at
            .lock()
            .map(|at| at.is_some())
            .unwrap_or(false);
        self.connections_ended + u64::from(current)
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
        if lasted.is_some() {
            self.connections_ended += 1;
        }
        // A broker that accepts and then drops the connection (overloaded, misconfigured,
        // hostile) is not hammered: after a short session the next one waits 0.5 s doubling to
        // 10 s, plus up to 1 s of jitter. After a long one (a broker restarted, a cluster node
        // gone) a random wait of up to [`RECONNECT_SPREAD`], so a fleet that lost its broker at
        // one moment comes back spread out. Two clients with one id take the connection from
        // each other as fast as they can connect: past the suspicion, wait longer (2 s doubling
        // to 32 s; under SHORT_SESSION, so the suspicion holds while it lasts), so the other
        // sensor keeps its connection for a while.
        let random = |most: Duration| most.mul_f64(rand::random::<f64>());
        let delay = match lasted {
            Some((d, _)) if d >= SHORT_SESSION => {
                self.backoff = Duration::ZERO;
                random(RECONNECT_SPREAD)
            }
            _ => {
                self.backoff = (self.backoff * 2).clamp(Duration::from_millis(500), MAX_BACKOFF);
                let takeover = if self.short_sessions >= TAKEOVERS {
                    let step = (self.short_sessions - TAKEOVERS).min(4);
                    Duration::from_secs(2u64 << step)
                } else {
                    Duration::ZERO
                };
                self.backoff.max(takeover) + random(Duration::from_secs(1))
            }
        };
        // The node this session was on may be gone: the next session starts at the next one.
        let at = self.session.broker() + usize::from(lasted.is_some());
        let at = at % self.options.len();
        let (client, eventloop) = AsyncClient::new(self.options[at].clone(), 256);
        self.session = start_session(
            (client, eventloop),
            false,
            self.session.number + 1,
            &self.settings,
            &self.options,
            at,
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

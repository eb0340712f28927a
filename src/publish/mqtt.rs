//! MQTT transport with `rumqttc` on tokio: QoS 1, retained state, Last Will `offline`.
//!
//! [`MqttPublisher::connect`] waits for the broker's CONNACK, so a refused or unreachable broker
//! is a clear start-up error before anything is published. A task drives the event loop, counts
//! PUBACKs (so shutdown can wait until every message is acknowledged) and reconnects after a
//! drop with backoff. This module publishes only [`Message`]s built from the schema types, and
//! never logs a password or a payload.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, LastWill, MqttOptions,
    Outgoing, Packet, QoS,
};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

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
    fn url(&self) -> String {
        let scheme = if self.broker.tls { "mqtts" } else { "mqtt" };
        format!("{scheme}://{}:{}", self.broker.host, self.broker.port)
    }
}

/// The innermost cause of a TLS failure ("invalid peer certificate: UnknownIssuer").
fn tls_cause(e: &rumqttc::TlsError) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A connected publisher.
pub struct MqttPublisher {
    client: AsyncClient,
    settings: MqttSettings,
    sent: u64,
    acked: watch::Receiver<u64>,
    connected: Arc<AtomicBool>,
    driver: JoinHandle<()>,
    ha_online: Arc<Notify>,
}

impl MqttPublisher {
    /// Connects and waits for the broker to accept the session.
    pub async fn connect(settings: MqttSettings) -> Result<Self, PublishError> {
        let mut options = MqttOptions::new(
            settings.client_id.clone(),
            settings.broker.host.clone(),
            settings.broker.port,
        );
        options
            .set_keep_alive(settings.keep_alive)
            .set_clean_session(true)
            .set_last_will(LastWill::new(
                Topic::Availability.path(&settings.topic_root),
                Availability::Offline.as_str(),
                QoS::AtLeastOnce,
                true,
            ));
        if let Some((user, password)) = &settings.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        if let Some(tls) = &settings.tls {
            options.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(Arc::clone(tls)),
            ));
        }
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        let url = settings.url();
        let wait = async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        return match ack.code {
                            ConnectReturnCode::Success => Ok(()),
                            code => Err(PublishError::Refused {
                                url: url.clone(),
                                cause: refusal(code).into(),
                            }),
                        }
                    }
                    Ok(_) => continue,
                    Err(e) => {
                        return Err(PublishError::Refused {
                            url: url.clone(),
                            cause: connection_cause(&e),
                        })
                    }
                }
            }
        };
        match tokio::time::timeout(settings.connect_timeout, wait).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(PublishError::Refused {
                    url,
                    cause: format!("no answer within {} s", settings.connect_timeout.as_secs()),
                })
            }
        }
        tracing::info!(broker = %url, client_id = %settings.client_id, "connected to MQTT broker");
        let (acked_tx, acked) = watch::channel(0u64);
        let connected = Arc::new(AtomicBool::new(true));
        let ha_online = Arc::new(Notify::new());
        if let Some(status) = &settings.ha_status_topic {
            client
                .subscribe(status.clone(), QoS::AtLeastOnce)
                .await
                .map_err(|e| PublishError::Closed(e.to_string()))?;
        }
        let watch = Watch {
            acked: acked_tx,
            connected: Arc::clone(&connected),
            ha_status: settings.ha_status_topic.clone(),
            ha_online: Arc::clone(&ha_online),
        };
        let driver = tokio::spawn(drive(eventloop, watch, url));
        Ok(Self {
            client,
            settings,
            sent: 0,
            acked,
            connected,
            driver,
            ha_online,
        })
    }

    /// Notified whenever Home Assistant announces itself `online` (discovery on).
    pub fn ha_online(&self) -> Arc<Notify> {
        Arc::clone(&self.ha_online)
    }

    /// Queues one message (QoS 1, retained as its topic says).
    pub async fn publish(&mut self, message: &Message) -> Result<(), PublishError> {
        self.client
            .publish(
                message.path(&self.settings.topic_root),
                QoS::AtLeastOnce,
                message.retained(),
                message.payload(),
            )
            .await
            .map_err(|e| PublishError::Closed(e.to_string()))?;
        self.sent += 1;
        Ok(())
    }

    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Waits until the broker has acknowledged every message published so far.
    pub async fn drain(&mut self, timeout: Duration) -> Result<(), PublishError> {
        let sent = self.sent;
        let done = {
            let wait = self.acked.wait_for(|&acked| acked >= sent);
            matches!(tokio::time::timeout(timeout, wait).await, Ok(Ok(_)))
        };
        if done {
            Ok(())
        } else {
            Err(PublishError::Unacknowledged {
                pending: sent.saturating_sub(*self.acked.borrow()),
            })
        }
    }

    /// Publishes `offline`, waits for the broker to acknowledge everything, then disconnects
    /// cleanly (so the broker does not also fire the Last Will).
    pub async fn close(mut self, timeout: Duration) -> Result<(), PublishError> {
        self.publish(&Message::Availability(Availability::Offline))
            .await?;
        let drained = self.drain(timeout).await;
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.driver).await;
        self.driver.abort();
        drained
    }
}

/// What the event-loop driver reports to the rest of the publisher.
struct Watch {
    acked: watch::Sender<u64>,
    connected: Arc<AtomicBool>,
    ha_status: Option<String>,
    ha_online: Arc<Notify>,
}

/// Drives the event loop: counts acknowledgements, watches Home Assistant's status, reconnects
/// with backoff after a drop.
async fn drive(mut eventloop: EventLoop, w: Watch, url: String) {
    let Watch {
        acked,
        connected,
        ha_status,
        ha_online,
    } = w;
    let mut backoff = Duration::from_millis(500);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                acked.send_modify(|n| *n += 1);
            }
            Ok(Event::Incoming(Packet::Publish(p)))
                if ha_status.as_deref() == Some(p.topic.as_str())
                    && p.payload.as_ref() == b"online" =>
            {
                ha_online.notify_one();
            }
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                connected.store(true, Ordering::Relaxed);
                backoff = Duration::from_millis(500);
                tracing::info!(broker = %url, "reconnected to MQTT broker");
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(e) => {
                if connected.swap(false, Ordering::Relaxed) {
                    tracing::warn!(broker = %url, cause = %connection_cause(&e), "MQTT connection lost; retrying");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn refusal(code: ConnectReturnCode) -> &'static str {
    match code {
        ConnectReturnCode::Success => "accepted",
        ConnectReturnCode::RefusedProtocolVersion => "broker refused the MQTT protocol version",
        ConnectReturnCode::BadClientId => "broker refused the client id",
        ConnectReturnCode::ServiceUnavailable => "broker unavailable",
        ConnectReturnCode::BadUserNamePassword => "bad user name or password",
        ConnectReturnCode::NotAuthorized => {
            "not authorised (wrong user name or password, or anonymous access refused)"
        }
    }
}

fn connection_cause(e: &ConnectionError) -> String {
    match e {
        ConnectionError::Io(io) => io.to_string(),
        ConnectionError::Tls(tls) => format!("TLS: {}", tls_cause(tls)),
        ConnectionError::ConnectionRefused(code) => refusal(*code).to_string(),
        other => other.to_string(),
    }
}

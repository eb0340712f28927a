//! One MQTT *session* of the publisher: a fresh client, and the task driving its event loop —
//! connecting (with backoff while the broker cannot be reached), counting PUBACKs, noting when
//! and how the broker accepted the connection — until the connection drops. The publisher
//! (`mqtt.rs`) decides when the next one starts. Handles packets' acknowledgements only, never
//! a payload.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, Outgoing, Packet};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::mqtt::{MqttSettings, MAX_BACKOFF};
use super::mqtt_cause::{connection_cause, refusal};

/// One connection: its client, the task driving it, and its counters.
pub(super) struct Session {
    pub(super) client: AsyncClient,
    pub(super) driver: JoinHandle<()>,
    /// Messages handed to this session's client.
    pub(super) sent: u64,
    /// PUBACKs this session received.
    pub(super) acked: watch::Receiver<u64>,
    pub(super) connected: Arc<AtomicBool>,
    /// When the broker accepted this session's connection.
    pub(super) accepted_at: Arc<Mutex<Option<Accepted>>>,
    /// 1 for the first session, counting up.
    pub(super) number: u64,
}

/// Starts the task driving `eventloop` (after `delay`).
pub(super) fn start_session(
    client: AsyncClient,
    eventloop: EventLoop,
    up: bool,
    number: u64,
    settings: &MqttSettings,
    delay: Duration,
) -> Session {
    let (acked_tx, acked) = watch::channel(0u64);
    let connected = Arc::new(AtomicBool::new(up));
    let accepted_at = Arc::new(Mutex::new(up.then(|| Accepted {
        at: Instant::now(),
        first_try: true,
    })));
    let watch = Watch {
        acked: acked_tx,
        connected: Arc::clone(&connected),
        accepted_at: Arc::clone(&accepted_at),
    };
    let url = settings.url();
    let driver = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        drive(eventloop, watch, url, up).await
    });
    Session {
        client,
        driver,
        sent: 0,
        acked,
        connected,
        accepted_at,
        number,
    }
}

/// What the event-loop driver reports to the rest of the publisher.
struct Watch {
    acked: watch::Sender<u64>,
    connected: Arc<AtomicBool>,
    accepted_at: Arc<Mutex<Option<Accepted>>>,
}

/// When the broker accepted a session's connection, and whether at the session's first attempt.
#[derive(Debug, Clone, Copy)]
pub(super) struct Accepted {
    pub(super) at: Instant,
    pub(super) first_try: bool,
}

/// Drives one session's event loop: connects (retrying with backoff while the broker cannot be
/// reached), counts acknowledgements, and ends when an established connection drops (the
/// publisher then starts the next session).
async fn drive(mut eventloop: EventLoop, w: Watch, url: String, mut up: bool) {
    let Watch {
        acked,
        connected,
        accepted_at,
    } = w;
    let mut backoff = Duration::from_millis(500);
    let mut first_try = true;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                acked.send_modify(|n| *n += 1);
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                if ack.code != ConnectReturnCode::Success {
                    tracing::warn!(broker = %url, cause = refusal(ack.code), "MQTT broker refused the connection; retrying");
                    first_try = false;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
                up = true;
                connected.store(true, Ordering::Relaxed);
                if let Ok(mut at) = accepted_at.lock() {
                    *at = Some(Accepted {
                        at: Instant::now(),
                        first_try,
                    });
                }
                tracing::info!(broker = %url, "connected to MQTT broker");
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                connected.store(false, Ordering::Relaxed);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if up {
                    connected.store(false, Ordering::Relaxed);
                    tracing::warn!(broker = %url, cause = %connection_cause(&e), "MQTT connection lost; reconnecting");
                    return;
                }
                // Exponential backoff (0.5 s doubling to 10 s) with jitter, so a fleet does not
                // reconnect in lockstep.
                first_try = false;
                let jitter = Duration::from_millis(rand::random::<u64>() % 500);
                tokio::time::sleep(backoff + jitter).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

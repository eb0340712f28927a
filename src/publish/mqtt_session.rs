//! One MQTT *session* of the publisher: a fresh client, and the task driving its event loop —
//! connecting (with backoff while the broker cannot be reached), counting PUBACKs, noting when
//! and how the broker accepted the connection — until the connection drops. The publisher
//! (`mqtt.rs`) decides when the next one starts. Handles packets' acknowledgements only, never
//! a payload.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Outgoing, Packet};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::ack_latency::AckLatency;
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
    /// The broker of the list this session is connected to, or trying.
    broker_at: Arc<AtomicUsize>,
}

impl Session {
    /// The index in the broker list of the broker this session is on (or trying).
    pub(super) fn broker(&self) -> usize {
        self.broker_at.load(Ordering::Relaxed)
    }
}

/// Starts the task driving `eventloop` (after `delay`), connected (`up`) or trying broker `at`
/// of the list first, then each of `options` in turn.
pub(super) fn start_session(
    (client, eventloop): (AsyncClient, EventLoop),
    up: bool,
    number: u64,
    settings: &MqttSettings,
    options: &[MqttOptions],
    at: usize,
    delay: Duration,
) -> Session {
    let (acked_tx, acked) = watch::channel(0u64);
    let connected = Arc::new(AtomicBool::new(up));
    let accepted_at = Arc::new(Mutex::new(up.then(|| Accepted {
        at: Instant::now(),
        first_try: true,
    })));
    let broker_at = Arc::new(AtomicUsize::new(at));
    if let Some(latency) = &settings.ack_latency {
        latency.new_session();
    }
    let watch = Watch {
        acked: acked_tx,
        connected: Arc::clone(&connected),
        accepted_at: Arc::clone(&accepted_at),
        broker_at: Arc::clone(&broker_at),
        latency: settings.ack_latency.clone(),
    };
    let brokers = Brokers {
        urls: (0..options.len()).map(|i| settings.url_of(i)).collect(),
        options: options.to_vec(),
    };
    let driver = tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        drive(eventloop, watch, brokers, up).await
    });
    Session {
        client,
        driver,
        sent: 0,
        acked,
        connected,
        accepted_at,
        number,
        broker_at,
    }
}

/// The broker list as a session walks it: each broker's options and URL (for logs).
struct Brokers {
    options: Vec<MqttOptions>,
    urls: Vec<String>,
}

/// What the event-loop driver reports to the rest of the publisher.
struct Watch {
    acked: watch::Sender<u64>,
    connected: Arc<AtomicBool>,
    accepted_at: Arc<Mutex<Option<Accepted>>>,
    broker_at: Arc<AtomicUsize>,
    latency: Option<Arc<AckLatency>>,
}

/// When the broker accepted a session's connection, and whether at the session's first attempt.
#[derive(Debug, Clone, Copy)]
pub(super) struct Accepted {
    pub(super) at: Instant,
    pub(super) first_try: bool,
}

/// Drives one session's event loop: connects (retrying with backoff while no broker can be
/// reached, moving to the next broker of the list after each failed attempt), counts
/// acknowledgements, and ends when an established connection drops (the publisher then starts
/// the next session).
async fn drive(mut eventloop: EventLoop, w: Watch, brokers: Brokers, mut up: bool) {
    let Watch {
        acked,
        connected,
        accepted_at,
        broker_at,
        latency,
    } = w;
    let url = |at: &AtomicUsize| {
        brokers
            .urls
            .get(at.load(Ordering::Relaxed))
            .cloned()
            .unwrap_or_default()
    };
    let mut backoff = Duration::from_millis(500);
    let mut first_try = true;
    // Attempts since the last pause: the whole list is tried before waiting.
    let mut tried = 0;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                acked.send_modify(|n| *n += 1);
                if let Some(latency) = &latency {
                    latency.acked();
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                if ack.code != ConnectReturnCode::Success {
                    tracing::warn!(broker = %url(&broker_at), cause = refusal(ack.code), "MQTT broker refused the connection; retrying");
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
                tracing::info!(broker = %url(&broker_at), "connected to MQTT broker");
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => {
                connected.store(false, Ordering::Relaxed);
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if up {
                    connected.store(false, Ordering::Relaxed);
                    tracing::warn!(broker = %url(&broker_at), cause = %connection_cause(&e), "MQTT connection lost; reconnecting");
                    return;
                }
                first_try = false;
                // The next broker of the list at once; after the whole list, a pause: 0.5 s
                // doubling to 10 s, each drawn between half and one and a half of it, so a fleet
                // retrying together drifts apart.
                let n = brokers.options.len().max(1);
                let next = (broker_at.load(Ordering::Relaxed) + 1) % n;
                broker_at.store(next, Ordering::Relaxed);
                if let Some(o) = brokers.options.get(next) {
                    eventloop.mqtt_options = o.clone();
                }
                tried += 1;
                if tried >= n {
                    tried = 0;
                    let pause = backoff / 2 + backoff.mul_f64(rand::random::<f64>());
                    tokio::time::sleep(pause).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

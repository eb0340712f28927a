//! Watching Home Assistant's status topic (discovery on) on a connection of its own.
//!
//! Anyone allowed to publish to `homeassistant/status` can put anything there, retained: an
//! 11 KB message once made the publishing connection fail on every (re)connection ("payload size
//! limit exceeded"), so reports stopped. Incoming packets must never cost outgoing reports, so
//! the publishing connection subscribes to nothing (it receives only acknowledgements) and this
//! watcher alone receives what others publish: packets larger than [`MAX_INCOMING`] end only its
//! connection, the problem is logged once, and it reconnects with a long backoff (each attempt
//! is handed the retained message again). It publishes nothing and never logs a payload.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet, QoS, StateError};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::mqtt::MqttSettings;
use super::mqtt_cause::connection_cause;

/// Home Assistant's birth and will messages are `online` / `offline`: a few bytes. Anything
/// much larger on the status topic is not Home Assistant.
pub const MAX_INCOMING: usize = 1024;

/// Longest wait between attempts after an oversized message (each attempt receives it again).
const MAX_OVERSIZE_BACKOFF: Duration = Duration::from_secs(600);
/// Longest wait between attempts otherwise.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A connection that lasted this long resets the backoff.
const STABLE: Duration = Duration::from_secs(60);

/// Starts the watcher: `ha_online` is notified whenever Home Assistant publishes `online` on
/// `topic`. The task runs until aborted.
pub fn spawn(settings: &MqttSettings, topic: String, ha_online: Arc<Notify>) -> JoinHandle<()> {
    // No Last Will: the watcher's would overwrite the sensor's `availability`.
    let options = settings.options_per_broker(&format!("{}-status", settings.client_id), |o| {
        o.set_max_packet_size(MAX_INCOMING, MAX_INCOMING);
    });
    let urls: Vec<String> = (0..options.len()).map(|i| settings.url_of(i)).collect();
    tokio::spawn(async move {
        let mut backoff = Duration::ZERO;
        let mut oversize_told = false;
        // The broker of the list to watch on; the next one after a lost connection.
        let mut at = 0;
        loop {
            tokio::time::sleep(backoff).await;
            let started = Instant::now();
            let end = watch_once(options[at].clone(), &topic, &ha_online).await;
            let url = &urls[at];
            let stable = started.elapsed() >= STABLE;
            let jitter = Duration::from_millis(rand::random::<u64>() % 500);
            backoff = match end {
                Ending::Oversize(size) => {
                    if !std::mem::replace(&mut oversize_told, true) {
                        tracing::warn!(
                            broker = %url,
                            topic = %topic,
                            size,
                            limit = MAX_INCOMING,
                            "a message on Home Assistant's status topic is larger than any Home \
                             Assistant sends: ignored (reports are not affected); Home Assistant \
                             restarts are noticed again once it is replaced"
                        );
                    }
                    (backoff * 4).clamp(Duration::from_secs(5), MAX_OVERSIZE_BACKOFF) + jitter
                }
                Ending::Lost(cause) => {
                    tracing::debug!(broker = %url, %cause, "Home Assistant status watch lost");
                    at = (at + 1) % options.len();
                    if stable {
                        jitter
                    } else {
                        (backoff * 2).clamp(Duration::from_millis(500), MAX_BACKOFF) + jitter
                    }
                }
            };
        }
    })
}

enum Ending {
    Oversize(usize),
    Lost(String),
}

/// One connection: subscribes, notifies on `online`, returns why it ended.
async fn watch_once(options: MqttOptions, topic: &str, ha_online: &Notify) -> Ending {
    let (client, mut eventloop) = AsyncClient::new(options, 8);
    let _ = client.try_subscribe(topic, QoS::AtLeastOnce);
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::Publish(p)))
                if p.topic == topic && p.payload.as_ref() == b"online" =>
            {
                ha_online.notify_one();
            }
            Ok(_) => {}
            Err(ConnectionError::MqttState(StateError::Deserialization(
                rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(size),
            ))) => return Ending::Oversize(size),
            Err(e) => return Ending::Lost(connection_cause(&e)),
        }
    }
}

//! The aggregator's subscription to its site's sensors, on a connection of its own (the
//! publishing connection receives only acknowledgements, as a sensor's does).
//!
//! A persistent session (clean session off, its own client id), so QoS-1 reports published while
//! the aggregator is restarting wait at the broker; on every connection it subscribes again and
//! receives each topic's retained message. It moves round the broker list like a sensor. A
//! message larger than any sensor sends is dropped unread; malformed ones are the site's to
//! count. Never logs a payload.

use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

use super::site::{Incoming, Kind};
use crate::publish::MqttSettings;

/// A sensor's payloads are a few hundred bytes; anything past this is not a sensor's.
pub const MAX_PAYLOAD: usize = 16 * 1024;
/// rumqttc ends the connection on a larger packet; kept well above [`MAX_PAYLOAD`] so an
/// oversized message is dropped here rather than costing the connection.
const MAX_PACKET: usize = 1024 * 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const STABLE: Duration = Duration::from_secs(60);

/// The topics of `site_root` (`headcount/<site>`) the site is made from.
pub fn filters(site_root: &str) -> Vec<String> {
    ["availability", "occupancy", "health", "line/+"]
        .iter()
        .map(|t| format!("{site_root}/+/{t}"))
        .collect()
}

/// Reads a topic of `site_root` into (sensor, kind); `None` for the site's own topics and for
/// anything else.
pub fn parse_topic(site_root: &str, topic: &str) -> Option<(String, Kind)> {
    let rest = topic.strip_prefix(site_root)?.strip_prefix('/')?;
    let mut levels = rest.split('/');
    let sensor = levels
        .next()
        .filter(|s| !s.is_empty() && !s.starts_with('_'))?;
    let kind = match (levels.next()?, levels.next(), levels.next()) {
        ("availability", None, _) => Kind::Availability,
        ("occupancy", None, _) => Kind::Occupancy,
        ("health", None, _) => Kind::Health,
        ("line", Some(name), None) if !name.is_empty() => Kind::Line(name.to_string()),
        _ => return None,
    };
    Some((sensor.to_string(), kind))
}

/// Starts the subscription; messages go to `out` until it is closed or the task aborted.
pub fn spawn(
    settings: &MqttSettings,
    site_root: String,
    out: mpsc::Sender<Incoming>,
) -> tokio::task::JoinHandle<()> {
    // No Last Will: the publishing connection's is the site's availability.
    let options = settings.options_per_broker(&format!("{}-in", settings.client_id), |o| {
        o.set_clean_session(false);
        o.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    });
    let urls: Vec<String> = (0..options.len()).map(|i| settings.url_of(i)).collect();
    tokio::spawn(async move {
        let mut backoff = Duration::ZERO;
        let mut at = 0;
        let mut oversize_told = false;
        loop {
            tokio::time::sleep(backoff).await;
            let started = Instant::now();
            let (cause, was_up) =
                match listen(options[at].clone(), &site_root, &out, &mut oversize_told).await {
                    Some(ended) => ended,
                    None => return,
                };
            if was_up {
                tracing::warn!(broker = %urls[at], %cause, "subscription to the site's sensors lost; reconnecting");
            } else {
                tracing::debug!(broker = %urls[at], %cause, "subscription to the site's sensors not made; retrying");
            }
            at = (at + 1) % options.len();
            let jitter = Duration::from_millis(rand::random::<u64>() % 500);
            backoff = if started.elapsed() >= STABLE {
                jitter
            } else {
                (backoff * 2).clamp(Duration::from_millis(500), MAX_BACKOFF) + jitter
            };
        }
    })
}

/// One connection: why it ended and whether the broker had accepted it; `None` when the
/// receiver is gone (the service is stopping).
async fn listen(
    options: MqttOptions,
    site_root: &str,
    out: &mpsc::Sender<Incoming>,
    oversize_told: &mut bool,
) -> Option<(String, bool)> {
    let mut up = false;
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    for f in filters(site_root) {
        let _ = client.try_subscribe(f, QoS::AtLeastOnce);
    }
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                if p.payload.len() > MAX_PAYLOAD {
                    if !std::mem::replace(oversize_told, true) {
                        tracing::warn!(
                            size = p.payload.len(),
                            limit = MAX_PAYLOAD,
                            "a message on a sensor topic is larger than any sensor sends: ignored"
                        );
                    }
                    continue;
                }
                let Some((sensor, kind)) = parse_topic(site_root, &p.topic) else {
                    continue;
                };
                let m = Incoming {
                    sensor,
                    kind,
                    payload: p.payload.to_vec(),
                    retained: p.retain,
                };
                if out.send(m).await.is_err() {
                    return None;
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(_))) => up = true,
            Ok(_) => {}
            Err(e) => return Some((crate::publish::connection_cause(&e), up)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_read_strictly() {
        let r = "headcount/hq";
        assert_eq!(
            parse_topic(r, "headcount/hq/door-a/line/door"),
            Some(("door-a".into(), Kind::Line("door".into())))
        );
        assert_eq!(
            parse_topic(r, "headcount/hq/room/occupancy"),
            Some(("room".into(), Kind::Occupancy))
        );
        for t in [
            "headcount/hq/_site/building",
            "headcount/hq/room/zone/desk",
            "headcount/hq/room/line/a/b",
            "headcount/hqx/room/occupancy",
            "headcount/hq//occupancy",
        ] {
            assert_eq!(parse_topic(r, t), None, "{t}");
        }
    }
}

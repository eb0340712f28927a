//! "What leaves the device": the transport, and every topic with what it carries, taken from the
//! same functions that publish them (so the list cannot drift from the code).

use crate::config::Config;
use crate::publish::discovery;
use crate::publish::schema::{line_path, zone_path, Topic};

/// The sentence saying where the payloads go and how.
pub fn transport(config: &Config) -> String {
    let root = config.topic_root();
    match config.brokers().as_deref() {
        Ok([b, ..]) => {
            let link = if b.tls {
                "over TLS (the broker's certificate is checked against its name)"
            } else {
                "in cleartext (plain TCP)"
            };
            let who = if config.mqtt.username.is_empty() {
                "anonymously".to_string()
            } else {
                format!("as user `{}`", config.mqtt.username)
            };
            let all = config.brokers().unwrap_or_default();
            let to = match all.as_slice() {
                [_] => format!("the MQTT broker `{}:{}`", b.host, b.port),
                nodes => format!(
                    "one of the MQTT brokers {} (the first that answers; the next when it \
                     fails)",
                    nodes
                        .iter()
                        .map(|n| format!("`{}:{}`", n.host, n.port))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!("Sent to {to} {link}, {who}, retained, QoS 1, under `{root}/`:")
        }
        _ => format!(
            "Nothing is sent over the network: no broker is configured (`mqtt.url` is empty). \
             The payloads below are printed on standard output, one JSON line per message \
             (topic `{root}/…`), to whoever started headcount:"
        ),
    }
}

/// The Markdown table of topics.
pub fn topics(config: &Config) -> String {
    let root = config.topic_root();
    let mut rows = vec![
        (
            Topic::Availability.path(&root),
            "`online` / `offline`".to_string(),
        ),
        (
            Topic::Occupancy.path(&root),
            "number of people in view; min / max / mean over the window; window length; \
             sequence number; time; `reliable: false` while the camera is blind or frozen"
                .into(),
        ),
        (
            Topic::Privacy.path(&root),
            "version, `image_output: \"none\"`, the safeguards below, number of masks, the \
             sandbox achieved"
                .into(),
        ),
        (
            Topic::Health.path(&root),
            "frame rate, inference time, source state (incl. `blind` / `frozen`), frames \
             processed and dropped, last error"
                .into(),
        ),
    ];
    for z in &config.counting.zones {
        rows.push((
            zone_path(&root, &z.name),
            "like `occupancy`, for one area of the picture".into(),
        ));
    }
    for l in &config.counting.lines {
        rows.push((
            line_path(&root, &l.name),
            "people who crossed an entrance line, per direction: totals since a reset time and \
             counts per window (exact, not banded)"
                .into(),
        ));
    }
    if matches!(config.broker(), Ok(Some(_))) && config.mqtt.discovery {
        for (topic, entity) in discovery::configs(config) {
            rows.push((
                topic,
                format!(
                    "Home Assistant discovery: the entity *{}* (name, units, which topic to read; \
                     no count)",
                    entity.name
                ),
            ));
        }
    }
    let mut md = String::from("| topic | content |\n|---|---|\n");
    for (topic, content) in rows {
        md.push_str(&format!("| `{topic}` | {content} |\n"));
    }
    md
}

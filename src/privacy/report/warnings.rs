//! What a DPO should act on before this configuration goes live: links that carry images or
//! counts in cleartext, brokers anyone may write to, safeguards that do not cover every topic.

use crate::config::{Config, SourceKind};
use crate::source::redact_url;

/// One paragraph of Markdown per finding; empty when there is nothing to act on.
pub fn findings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some(broker)) = config.broker() {
        let anonymous = config.mqtt.username.is_empty();
        match (broker.tls, anonymous) {
            (false, true) => out.push(format!(
                "**Cleartext, anonymous broker** (`mqtt.url` = `{}`, no `mqtt.username`): anyone \
                 on the network path can read the counts, and anyone who can reach the broker \
                 can publish false counts under this sensor's topics. Use `mqtts://` and a \
                 username with a password (`mqtt.password_file`).",
                redact_url(&config.mqtt.url)
            )),
            (false, false) => out.push(format!(
                "**Cleartext broker** (`mqtt.url` = `{}`): the broker password and the counts \
                 cross the network unencrypted. Use `mqtts://`.",
                redact_url(&config.mqtt.url)
            )),
            (true, true) => out.push(
                "**Anonymous broker** (no `mqtt.username`): the link is encrypted, but anyone who \
                 can reach the broker can publish false counts under this sensor's topics. Set a \
                 username and password."
                    .into(),
            ),
            (true, false) => {}
        }
    }
    if config.source.kind == SourceKind::Video {
        let url = config.source.url.trim();
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if let Some(scheme @ ("rtsp" | "http" | "rtmp" | "udp" | "rtp" | "tcp")) = scheme.as_deref()
        {
            out.push(format!(
                "**Cleartext camera link** (`source.url` is `{scheme}://`): the images of people \
                 cross the network unencrypted between the camera and this device, before any \
                 safeguard applies. Put the camera on a link of its own (a cable or a VLAN only \
                 the sensor reaches), or use an encrypted stream (`rtsps://`, `https://`) if the \
                 camera offers one."
            ));
        }
    }
    let k = config.privacy.min_count;
    if k > 1 && !config.counting.lines.is_empty() {
        out.push(format!(
            "**k-banding does not cover line counts**: `privacy.min_count = {k}` bands occupancy \
             and zone counts, but the entrance line counts (`line/…`: totals and counts per \
             window) are published exact, so a window with one crossing points at one person's \
             passage. Widen the window (`privacy.time_resolution_s`) or publish no lines if that \
             matters here."
        ));
    }
    out
}

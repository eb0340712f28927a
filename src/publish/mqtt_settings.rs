//! The publisher's connection settings: the broker list, credentials, TLS, client id, and the
//! `rumqttc` options made from them for each broker (shared by the publishing connection and the
//! Home Assistant status watcher).

use std::sync::Arc;
use std::time::Duration;

use rumqttc::MqttOptions;

use super::ack_latency::AckLatency;
use crate::config::BrokerAddr;

/// Connection settings, already validated by the config.
#[derive(Debug, Clone)]
pub struct MqttSettings {
    /// The brokers to try, in order (one, or the nodes of a cluster); never empty.
    pub brokers: Vec<BrokerAddr>,
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
    /// Measure the time from handing each message over to its PUBACK (`headcount simulate`).
    pub ack_latency: Option<Arc<AckLatency>>,
}

impl MqttSettings {
    /// The URL of broker `i` (counted round the list).
    pub(crate) fn url_of(&self, i: usize) -> String {
        match self.brokers.get(i % self.brokers.len().max(1)) {
            Some(b) => {
                let scheme = if b.tls { "mqtts" } else { "mqtt" };
                format!("{scheme}://{}:{}", b.host, b.port)
            }
            None => String::new(),
        }
    }

    /// Every broker's URL, comma-separated.
    pub(super) fn url(&self) -> String {
        (0..self.brokers.len())
            .map(|i| self.url_of(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Options for each broker of the list, in order: `base_options` and then `each`.
    pub(crate) fn options_per_broker(
        &self,
        client_id: &str,
        each: impl Fn(&mut MqttOptions),
    ) -> Vec<MqttOptions> {
        self.brokers
            .iter()
            .map(|b| {
                let mut o = base_options(self, client_id.to_string(), b);
                each(&mut o);
                o
            })
            .collect()
    }
}

/// Options shared by the publishing connection and the status watcher: broker, keep-alive, clean
/// session, credentials, TLS.
fn base_options(settings: &MqttSettings, client_id: String, broker: &BrokerAddr) -> MqttOptions {
    let mut options = MqttOptions::new(client_id, broker.host.clone(), broker.port);
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

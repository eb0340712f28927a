//! Why an MQTT connection failed, in words an installer can act on: the broker's refusal code,
//! the innermost TLS cause, and a plain `mqtt://` URL pointed at a port that speaks TLS.

use std::time::Duration;

use rumqttc::{ConnectReturnCode, ConnectionError};

use super::mqtt::MqttSettings;
use super::PublishError;
use crate::config::BrokerAddr;

/// The innermost cause of a TLS failure ("invalid peer certificate: UnknownIssuer").
fn tls_cause(e: &rumqttc::TlsError) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// For a plain `mqtt://` broker that failed to connect: the error to give when its port speaks
/// TLS (an `mqtts://` listener), instead of the MQTT parser's complaint about its bytes.
pub(super) async fn tls_port_hint(
    settings: &MqttSettings,
    broker: &BrokerAddr,
) -> Option<PublishError> {
    if settings.tls.is_some() {
        return None;
    }
    let (host, port) = (broker.host.clone(), broker.port);
    let timeout = settings.connect_timeout.min(Duration::from_secs(5));
    let probe = tokio::task::spawn_blocking(move || super::tls::speaks_tls(&host, port, timeout));
    probe.await.unwrap_or(false).then(|| PublishError::Refused {
        url: format!("mqtt://{}:{}", broker.host, broker.port),
        cause: format!(
            "this port speaks TLS: use mqtts://{}:{} (and mqtt.ca_file for a private CA)",
            broker.host, broker.port
        ),
    })
}

pub(super) fn refusal(code: ConnectReturnCode) -> &'static str {
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

pub fn connection_cause(e: &ConnectionError) -> String {
    match e {
        ConnectionError::Io(io) => io.to_string(),
        ConnectionError::Tls(tls) => format!("TLS: {}", tls_cause(tls)),
        ConnectionError::ConnectionRefused(code) => refusal(*code).to_string(),
        other => other.to_string(),
    }
}

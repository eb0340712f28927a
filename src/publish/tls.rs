//! TLS for `mqtts://` brokers (rustls with the `ring` provider): the CA that must have signed the
//! broker's certificate, and an optional client certificate and key.
//!
//! Files are read and checked once at start, so a wrong path or a file that holds no PEM
//! certificate is a clear error naming the config key. Key material is never logged or printed.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// Debian's bundle of public CAs: the default `mqtt.ca_file` for `mqtts://`.
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("config key {key} = {path}: {cause}")]
    File {
        key: &'static str,
        path: String,
        cause: String,
    },
    #[error("TLS set-up failed: {0}")]
    Setup(String),
}

fn read_pem(key: &'static str, path: &str) -> Result<Vec<u8>, TlsError> {
    crate::bounded_read::read(Path::new(path), crate::bounded_read::PEM_BYTES).map_err(|e| {
        TlsError::File {
            key,
            path: path.to_string(),
            cause: e.to_string(),
        }
    })
}

fn certificates(key: &'static str, path: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(key, path)?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::File {
            key,
            path: path.to_string(),
            cause: format!("not PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::File {
            key,
            path: path.to_string(),
            cause: "holds no PEM certificate".into(),
        });
    }
    Ok(certs)
}

/// A rustls client configuration trusting `ca_file`, presenting `client` (certificate file, key
/// file) when given.
/// The TLS client configuration `config`'s `[mqtt]` asks for when its first broker is
/// `mqtts://` (all of a list share one scheme); `None` for `mqtt://` or no broker.
pub fn for_config(config: &crate::config::Config) -> Result<Option<Arc<ClientConfig>>, TlsError> {
    let Some(first) = config.brokers().ok().and_then(|b| b.into_iter().next()) else {
        return Ok(None);
    };
    if !first.tls {
        return Ok(None);
    }
    let m = &config.mqtt;
    let client = (!m.client_cert_file.is_empty())
        .then_some((m.client_cert_file.as_str(), m.client_key_file.as_str()));
    client_config(&m.ca_file, client).map(Some)
}

pub fn client_config(
    ca_file: &str,
    client: Option<(&str, &str)>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let ca_file = if ca_file.is_empty() {
        SYSTEM_CA_FILE
    } else {
        ca_file
    };
    let mut roots = RootCertStore::empty();
    for cert in certificates("mqtt.ca_file", ca_file)? {
        roots.add(cert).map_err(|e| TlsError::File {
            key: "mqtt.ca_file",
            path: ca_file.to_string(),
            cause: e.to_string(),
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_root_certificates(roots);
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert_file, key_file)) => {
            let certs = certificates("mqtt.client_cert_file", cert_file)?;
            let pem = read_pem("mqtt.client_key_file", key_file)?;
            let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut pem.as_slice())
                .ok()
                .flatten()
                .ok_or_else(|| TlsError::File {
                    key: "mqtt.client_key_file",
                    path: key_file.to_string(),
                    cause: "holds no PEM private key".into(),
                })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| TlsError::File {
                    key: "mqtt.client_key_file",
                    path: key_file.to_string(),
                    cause: e.to_string(),
                })?
        }
    };
    Ok(Arc::new(config))
}

/// Whether `host:port` answers a TLS ClientHello as a TLS server would (a ServerHello, then a
/// certificate this probe cannot trust, or an alert). Used to explain a plain `mqtt://` failing
/// against a TLS listener; `false` when it cannot tell.
pub fn speaks_tls(host: &str, port: u16, timeout: std::time::Duration) -> bool {
    use std::io::ErrorKind;
    use std::net::{TcpStream, ToSocketAddrs};
    let Some(addr) = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    let Ok(mut tcp) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = tcp.set_read_timeout(Some(timeout));
    let _ = tcp.set_write_timeout(Some(timeout));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let Ok(builder) =
        ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions()
    else {
        return false;
    };
    // No trusted roots: a TLS server gets as far as its certificate, which is all we ask.
    let config = Arc::new(
        builder
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    );
    let Ok(name) = rustls::pki_types::ServerName::try_from(host.to_string()) else {
        return false;
    };
    let Ok(mut conn) = rustls::ClientConnection::new(config, name) else {
        return false;
    };
    for _ in 0..8 {
        while conn.wants_write() {
            if conn.write_tls(&mut tcp).is_err() {
                return false;
            }
        }
        match conn.read_tls(&mut tcp) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
        match conn.process_new_packets() {
            Ok(_) if !conn.is_handshaking() => return true,
            Ok(_) => continue,
            Err(rustls::Error::InvalidCertificate(_) | rustls::Error::AlertReceived(_)) => {
                return true
            }
            Err(_) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_name_the_key() {
        let e = client_config("/nonexistent/ca.pem", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mqtt.ca_file") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let e = client_config(junk.to_str().unwrap(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
    }
}

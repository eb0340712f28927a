//! Broker credentials: the user name from the config, the password from the environment or a
//! password file. The password is read only when needed and never stored in the config, logged or
//! printed.

use super::{Config, ConfigError};

/// Environment variable holding the broker password (preferred over `mqtt.password_file`).
pub const ENV_MQTT_PASSWORD: &str = "HEADCOUNT_MQTT_PASSWORD";

impl Config {
    /// The broker credentials: `mqtt.username` with the password from `HEADCOUNT_MQTT_PASSWORD`
    /// or the first line of `mqtt.password_file`; `None` for anonymous access.
    pub fn mqtt_credentials(&self) -> Result<Option<(String, String)>, ConfigError> {
        let m = &self.mqtt;
        if m.username.is_empty() {
            return Ok(None);
        }
        if let Some(p) = std::env::var_os(ENV_MQTT_PASSWORD).filter(|p| !p.is_empty()) {
            return Ok(Some((m.username.clone(), p.to_string_lossy().into_owned())));
        }
        if m.password_file.is_empty() {
            return Ok(Some((m.username.clone(), String::new())));
        }
        let text = crate::bounded_read::read_to_string(
            std::path::Path::new(&m.password_file),
            crate::bounded_read::SECRET_BYTES,
        )
        .map_err(|e| ConfigError::Invalid {
            key: "mqtt.password_file",
            value: format!("{:?}", m.password_file),
            allowed: format!("a readable file holding the password ({e})"),
        })?;
        let password = text.lines().next().unwrap_or("").to_string();
        Ok(Some((m.username.clone(), password)))
    }
}

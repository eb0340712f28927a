//! Validation of a parsed [`Config`]: every value against its allowed range, named by its dotted
//! key (the broker URLs are parsed in `mqtt.rs`). Never logs values that could be secrets.

use super::dp_noise::{significant, DpNoise};
use super::{BrokerAddr, Config, ConfigError, PrivacyConfig};

impl Config {
    /// Checks every value against its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_topic_level("sensor.site", &self.sensor.site)?;
        check_topic_level("sensor.name", &self.sensor.name)?;
        if self.sensor.name.starts_with('_') {
            return invalid(
                "sensor.name",
                &self.sensor.name,
                "allowed: a name not starting with \"_\" (headcount/<site>/_site/ is the site \
                 aggregator's)",
            );
        }
        let dir = &self.state.dir;
        if !dir.is_empty() && (dir.trim() != dir.as_str() || dir.trim().is_empty()) {
            return invalid(
                "state.dir",
                dir,
                "allowed: \"\" (state in memory only) or a directory path, without leading or \
                 trailing spaces",
            );
        }
        let s = &self.source;
        if !(s.fps == 0.0 || (0.1..=240.0).contains(&s.fps)) {
            return invalid(
                "source.fps",
                s.fps,
                "allowed: 0 (the clip's own rate) or 0.1..=240",
            );
        }
        if !super::INPUT_FORMATS.contains(&s.input_format.as_str()) {
            return invalid(
                "source.input_format",
                &s.input_format,
                "allowed: \"auto\", \"mjpeg\", \"yuyv\", \"nv12\"",
            );
        }
        if !(16..=8192).contains(&s.width) || !(16..=8192).contains(&s.height) {
            return invalid(
                "source.width",
                format!("{}x{}", s.width, s.height),
                "allowed: width and height 16..=8192",
            );
        }
        if s.kind == super::SourceKind::Camera && !s.device.starts_with("/dev/") {
            return invalid(
                "source.device",
                &s.device,
                "allowed: a V4L2 device path under /dev (e.g. /dev/video0)",
            );
        }
        for (key, value) in [
            ("source.blind_after_s", s.blind_after_s),
            ("source.frozen_after_s", s.frozen_after_s),
        ] {
            if value > 86_400 {
                return invalid(key, value, "allowed: 0 (never) or 1..=86400 seconds");
            }
        }
        for (key, value) in [
            ("source.open_timeout_s", s.open_timeout_s),
            ("source.read_timeout_s", s.read_timeout_s),
        ] {
            if !(1..=3600).contains(&value) {
                return invalid(key, value, "allowed: 1..=3600 seconds");
            }
        }
        if s.decoder_threads > 64 {
            return invalid(
                "source.decoder_threads",
                s.decoder_threads,
                "allowed: 0 (auto: the cores inference leaves) or 1..=64",
            );
        }
        if s.ffmpeg.is_empty() {
            return invalid("source.ffmpeg", "\"\"", "allowed: a path or command name");
        }
        let d = &self.detector;
        if d.threads > 64 {
            return invalid(
                "detector.threads",
                d.threads,
                &format!(
                    "allowed: 0 (auto: the cores this process may use, at most {}) or 1..=64",
                    super::AUTO_THREADS_MAX
                ),
            );
        }
        if !(d.threshold > 0.0 && d.threshold <= 1.0) {
            return invalid(
                "detector.threshold",
                d.threshold,
                "allowed: 0 < threshold <= 1",
            );
        }
        if !(d.nms_iou > 0.0 && d.nms_iou <= 1.0) {
            return invalid("detector.nms_iou", d.nms_iou, "allowed: 0 < nms_iou <= 1");
        }
        if !(d.nms_containment > 0.0 && d.nms_containment <= 1.0) {
            return invalid(
                "detector.nms_containment",
                d.nms_containment,
                "allowed: 0 < nms_containment <= 1",
            );
        }
        for (key, n) in [
            ("detector.tile_columns", d.tile_columns),
            ("detector.tile_rows", d.tile_rows),
        ] {
            if !(1..=super::MAX_TILES).contains(&n) {
                return invalid(key, n, "allowed: 1..=4 (1 = no tiling)");
            }
        }
        let device_ok = match d.edgetpu_device.split_once(':') {
            None => ["", "usb", "pci"].contains(&d.edgetpu_device.as_str()),
            Some((kind, n)) => ["", "usb", "pci"].contains(&kind) && n.parse::<u8>().is_ok(),
        };
        if !device_ok {
            return invalid(
                "detector.edgetpu_device",
                &d.edgetpu_device,
                "allowed: \"\" (any), \"usb\", \"pci\", \"usb:N\", \"pci:N\", \":N\"",
            );
        }
        if d.accelerator == super::Accelerator::EdgeTpu && d.runtime == super::RuntimeKind::Litert {
            return invalid(
                "detector.accelerator",
                "edgetpu",
                "the Edge TPU needs detector.runtime = \"tflite\" (TF 2.9, libedgetpu's ABI); \
                 allowed with \"litert\": \"auto\", \"cpu\"",
            );
        }
        if d.person_class > 10_000 {
            return invalid(
                "detector.person_class",
                d.person_class,
                "allowed: 0..=10000",
            );
        }
        self.counting.validate()?;
        let m = &self.mqtt;
        self.brokers()?;
        if !(1..=1_000_000).contains(&m.queue_max) {
            return invalid("mqtt.queue_max", m.queue_max, "allowed: 1..=1000000");
        }
        if !(1..=8_760).contains(&m.queue_max_age_h) {
            return invalid(
                "mqtt.queue_max_age_h",
                m.queue_max_age_h,
                "allowed: 1..=8760 hours",
            );
        }
        if !(1..=86_400).contains(&m.interval_s) {
            return invalid("mqtt.interval_s", m.interval_s, "allowed: 1..=86400");
        }
        if !(5..=3_600).contains(&m.keep_alive_s) {
            return invalid("mqtt.keep_alive_s", m.keep_alive_s, "allowed: 5..=3600");
        }
        if !(1..=300).contains(&m.connect_timeout_s) {
            return invalid(
                "mqtt.connect_timeout_s",
                m.connect_timeout_s,
                "allowed: 1..=300",
            );
        }
        if m.client_id.len() > 64 {
            return invalid("mqtt.client_id", &m.client_id, "allowed: at most 64 bytes");
        }
        check_topic_level("mqtt.discovery_prefix", &m.discovery_prefix)?;
        let tls = matches!(self.broker()?, Some(BrokerAddr { tls: true, .. }));
        for (key, value) in [
            ("mqtt.ca_file", &m.ca_file),
            ("mqtt.client_cert_file", &m.client_cert_file),
            ("mqtt.client_key_file", &m.client_key_file),
        ] {
            if !value.is_empty() && !tls {
                return invalid(key, value, "allowed only with an mqtts:// broker URL");
            }
        }
        if m.client_cert_file.is_empty() != m.client_key_file.is_empty() {
            return invalid(
                "mqtt.client_cert_file",
                &m.client_cert_file,
                "set both mqtt.client_cert_file and mqtt.client_key_file, or neither",
            );
        }
        if !m.password_file.is_empty() && m.username.is_empty() {
            return invalid(
                "mqtt.password_file",
                &m.password_file,
                "allowed only with mqtt.username set",
            );
        }
        self.validate_privacy()
    }

    fn validate_privacy(&self) -> Result<(), ConfigError> {
        let p = &self.privacy;
        if p.min_count == 1 || p.min_count > 100 {
            return invalid(
                "privacy.min_count",
                p.min_count,
                "allowed: 0 (off) or 2..=100",
            );
        }
        let r = p.time_resolution_s;
        let r_ok = r == 0 || ((10..=86_400).contains(&r) && 86_400 % r == 0);
        if !r_ok {
            return invalid(
                "privacy.time_resolution_s",
                r,
                "allowed: 0 (off) or 10..=86400 dividing a day evenly (60, 300, 900, 3600, …)",
            );
        }
        let (day, release) = (p.dp_epsilon_per_day, p.dp_epsilon_per_release);
        if !(day == 0.0 || (0.01..=100.0).contains(&day)) {
            return invalid(
                "privacy.dp_epsilon_per_day",
                day,
                "allowed: 0 (off) or 0.01..=100",
            );
        }
        if !(release == 0.0 || (0.0001..=day.max(0.0001)).contains(&release)) {
            return invalid(
                "privacy.dp_epsilon_per_release",
                release,
                "allowed: 0 (spread the daily budget) or 0.0001..=dp_epsilon_per_day",
            );
        }
        if day > 0.0 && !self.counting.lines.is_empty() {
            return invalid(
                "privacy.dp_epsilon_per_day",
                day,
                "entrance line totals are not noised: use 0 (off) with [[counting.lines]], or \
                 remove the lines",
            );
        }
        if day > 0.0 && r == 0 {
            return invalid(
                "privacy.time_resolution_s",
                r,
                "differential privacy needs a fixed release schedule: set 10..=86400",
            );
        }
        if !(1.0..=1_000_000.0).contains(&p.dp_max_noise) {
            return invalid(
                "privacy.dp_max_noise",
                p.dp_max_noise,
                "allowed: 1..=1000000 (people: the half-width of the 95 % interval of one \
                 release's noise)",
            );
        }
        if let Some(noise) = DpNoise::of(p).filter(|n| n.half_width_95 > p.dp_max_noise) {
            return Err(ConfigError::Invalid {
                key: "privacy.dp_max_noise",
                value: format!("{}", p.dp_max_noise),
                allowed: format!(
                    "dp_epsilon_per_day = {} over {} releases a day (ε {} each) adds {}, \
                     more than dp_max_noise allows; {}, or raise privacy.dp_max_noise to accept \
                     that noise",
                    p.dp_epsilon_per_day,
                    noise.releases_per_day,
                    significant(noise.epsilon_per_release),
                    noise.describe(),
                    noise_remedy(p, noise.releases_per_day),
                ),
            });
        }
        for (i, m) in p.masks.iter().enumerate() {
            let ok = (3..=64).contains(&m.polygon.len())
                && m.polygon
                    .iter()
                    .all(|[x, y]| (0.0..=1.0).contains(x) && (0.0..=1.0).contains(y));
            if !ok {
                return Err(ConfigError::Invalid {
                    key: "privacy.masks.polygon",
                    value: format!("mask #{} {:?}", i + 1, m.name),
                    allowed: "allowed: 3..=64 points [x, y], each coordinate 0..=1".into(),
                });
            }
        }
        Ok(())
    }
}

fn invalid<T: std::fmt::Debug>(
    key: &'static str,
    value: T,
    allowed: &str,
) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        key,
        value: format!("{value:?}"),
        allowed: allowed.to_string(),
    })
}

/// What would bring differential-privacy noise under `dp_max_noise`: fewer releases a day (the
/// longest bin that does), a larger daily ε, or k-banding instead.
fn noise_remedy(p: &PrivacyConfig, releases: u32) -> String {
    // Each release may spend dp_epsilon_per_day / n; its 95 % half-width is n·ln 20 / ε_day.
    let n_max = (p.dp_max_noise * p.dp_epsilon_per_day / 20f64.ln()).floor() as u32;
    let eps_needed = f64::from(releases) * 20f64.ln() / p.dp_max_noise;
    let fewer = [
        60u32, 300, 600, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 43_200, 86_400,
    ]
    .into_iter()
    .find(|bin| n_max > 0 && 86_400 / bin <= n_max)
    .map(|bin| format!("publish fewer releases a day (time_resolution_s = {bin} with dp_epsilon_per_release = 0)"))
    .unwrap_or_else(|| "one release a day is still too noisy at this ε".to_string());
    format!(
        "{fewer}, a larger dp_epsilon_per_day (≥ {} at {releases} releases a day), or \
         k-banding (min_count) instead of differential privacy",
        significant(eps_needed)
    )
}

/// Site and sensor names become MQTT topic levels: no wildcards, separators or control characters.
pub(super) fn check_topic_level(key: &'static str, value: &str) -> Result<(), ConfigError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        invalid(
            key,
            value,
            "allowed: 1..=64 characters of A-Z a-z 0-9 - _ .",
        )
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;

//! Self-sandboxing with Landlock: after it, the process (and every thread and child it starts
//! later, ffmpeg included) can read the filesystem but write only inside the state dir, can open
//! TCP connections only to the broker's port (and the camera stream's, and DNS), and can bind no
//! TCP port at all, so it can never listen.
//!
//! Landlock binds the calling thread and its future children (kernels before ABI v8 cannot reach
//! sibling threads), so this runs first, on the main thread, before any other thread exists; the
//! rules allow the reads that set-up needs. Where the kernel lacks Landlock it logs that once and
//! the daemon continues (reported in the `privacy` topic as `sandbox`).

use std::path::Path;

use landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, ABI,
};

use crate::config::Config;

/// What the sandbox achieved, as reported in the `privacy` topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxStatus {
    /// Every requested restriction is enforced.
    Enforced,
    /// Some restrictions are enforced; the kernel lacks the rest (e.g. TCP rules before ABI v4).
    Partial,
    /// Not sandboxed, and why.
    Unavailable(String),
}

impl SandboxStatus {
    pub fn describe(&self) -> String {
        match self {
            SandboxStatus::Enforced => "landlock".into(),
            SandboxStatus::Partial => "landlock (partial: kernel lacks some rules)".into(),
            SandboxStatus::Unavailable(why) => format!("none: {why}"),
        }
    }
}

/// TCP ports the process may connect to: the broker, a stream source, DNS over TCP.
pub fn allowed_ports(config: &Config) -> Vec<u16> {
    let mut ports = vec![53];
    if let Ok(Some(broker)) = config.broker() {
        ports.push(broker.port);
    }
    if let Some(port) = stream_port(&config.source.url) {
        ports.push(port);
    }
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The TCP port of a stream URL (`rtsp://cam:8554/x` → 8554, `rtsp://cam/x` → 554).
fn stream_port(url: &str) -> Option<u16> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let explicit = host_port
        .rsplit_once(':')
        .filter(|(_, port)| !port.ends_with(']'))
        .and_then(|(_, port)| port.parse().ok());
    if explicit.is_some() {
        return explicit;
    }
    match scheme {
        "rtsp" => Some(554),
        "rtsps" => Some(322),
        "http" => Some(80),
        "rtmp" => Some(1935),
        "https" => Some(443),
        _ => None,
    }
}

/// Device nodes the configuration needs read-write (and ioctl) access to, those that exist.
pub fn device_paths(config: &Config) -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    if config.source.kind == crate::config::SourceKind::Camera {
        paths.push(std::path::PathBuf::from(&config.source.device));
    }
    if config.detector.accelerator != crate::config::Accelerator::Cpu {
        paths.push("/dev/apex_0".into());
        paths.push("/dev/bus/usb".into());
    }
    paths.retain(|p| p.exists());
    paths
}

/// Restricts this thread (and everything it starts later) as described above.
pub fn enforce(config: &Config) -> SandboxStatus {
    let abi = ABI::V6;
    let ports = allowed_ports(config);
    let state_dir = (!config.state.dir.is_empty()).then(|| Path::new(&config.state.dir));
    let result = (|| -> Result<RulesetStatus, landlock::RulesetError> {
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(abi))?
            .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)?
            .create()?
            .add_rules(landlock::path_beneath_rules(
                ["/"],
                AccessFs::from_read(abi),
            ))?;
        if let Some(dir) = state_dir {
            ruleset =
                ruleset.add_rules(landlock::path_beneath_rules([dir], AccessFs::from_all(abi)))?;
        }
        // Devices the daemon drives: the camera, and the Edge TPU (PCIe, or USB via libusb).
        let devices = device_paths(config);
        if !devices.is_empty() {
            let access = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::IoctlDev;
            ruleset = ruleset.add_rules(landlock::path_beneath_rules(&devices, access))?;
        }
        for port in &ports {
            ruleset = ruleset.add_rule(NetPort::new(*port, AccessNet::ConnectTcp))?;
        }
        Ok(ruleset.restrict_self()?.ruleset)
    })();
    let status = match result {
        Ok(RulesetStatus::FullyEnforced) => SandboxStatus::Enforced,
        Ok(RulesetStatus::PartiallyEnforced) => SandboxStatus::Partial,
        Ok(RulesetStatus::NotEnforced) => {
            SandboxStatus::Unavailable("the kernel lacks Landlock".into())
        }
        Err(e) => SandboxStatus::Unavailable(e.to_string()),
    };
    match &status {
        SandboxStatus::Unavailable(why) => {
            tracing::warn!(cause = %why, "not sandboxed: continuing without Landlock")
        }
        s => tracing::info!(
            sandbox = %s.describe(),
            state_dir = %state_dir.map_or("(none)".into(), |d| d.display().to_string()),
            tcp_connect_ports = ?ports,
            "sandboxed: writes only in the state dir, no listening socket"
        ),
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ports() {
        assert_eq!(stream_port("rtsp://cam/stream1"), Some(554));
        assert_eq!(stream_port("rtsp://u:p@cam:8554/s"), Some(8554));
        assert_eq!(stream_port("https://cam/s.m3u8"), Some(443));
        assert_eq!(stream_port("clip.mp4"), None);
    }

    #[test]
    fn only_broker_stream_and_dns_ports_are_allowed() {
        let mut c = Config::default();
        c.mqtt.url = "mqtt://127.0.0.1:18830".into();
        c.source.url = "rtsp://cam/stream1".into();
        assert_eq!(allowed_ports(&c), vec![53, 554, 18830]);
        c.mqtt.url = String::new();
        c.source.url = "clip.mp4".into();
        assert_eq!(allowed_ports(&c), vec![53]);
    }
}

//! Self-sandboxing with Landlock: after it, the process (and every thread and child it starts
//! later, ffmpeg included) can read the filesystem but write only inside the state dir, can open
//! TCP connections only to the broker's port (and the camera stream's, and DNS), and can bind no
//! TCP port at all, so it can never listen.
//!
//! Landlock binds the calling thread and its future children (kernels before ABI v8 cannot reach
//! sibling threads), so this runs first, on the main thread, before any other thread exists; the
//! rules allow the reads that set-up needs. Where Landlock is missing (an old kernel, switched off
//! at boot, or refused by a seccomp filter) it logs the real cause once and the daemon continues;
//! the `privacy` topic's `sandbox` says what was achieved, with that cause.

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

/// TCP ports the process may connect to: the brokers, a stream source, DNS over TCP.
pub fn allowed_ports(config: &Config) -> Vec<u16> {
    let mut ports = vec![53];
    ports.extend(config.brokers().unwrap_or_default().iter().map(|b| b.port));
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
        Ok(RulesetStatus::NotEnforced) => SandboxStatus::Unavailable(why_not_enforced()),
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

/// The Landlock ABI this kernel (and this process's seccomp filter) offers, or why there is none.
pub fn probe() -> Result<i64, String> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the version probe reads no memory (null attributes, size 0) and creates nothing.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    let errno = std::io::Error::last_os_error().raw_os_error();
    if abi >= 1 {
        Ok(abi)
    } else {
        Err(not_enforced_cause(abi, errno))
    }
}

fn why_not_enforced() -> String {
    match probe() {
        Ok(abi) => not_enforced_cause(abi, None),
        Err(cause) => cause,
    }
}

/// Why Landlock is not there, from the errno of its version probe: a kernel without it (ENOSYS),
/// one with it switched off at boot (EOPNOTSUPP), or a seccomp filter refusing the call (EPERM,
/// typically a systemd unit's `SystemCallFilter=` that does not allow the `landlock_*` calls).
fn not_enforced_cause(abi: libc::c_long, errno: Option<i32>) -> String {
    if abi >= 1 {
        return format!("Landlock ABI {abi} is there but enforced nothing");
    }
    match errno {
        Some(libc::ENOSYS) => "the kernel lacks Landlock (ENOSYS)".into(),
        Some(libc::EOPNOTSUPP) => {
            "Landlock is disabled in this kernel (EOPNOTSUPP: add landlock to the lsm= boot \
             parameter)"
                .into()
        }
        Some(libc::EPERM) => "a seccomp filter refused the Landlock calls (EPERM): allow \
             landlock_create_ruleset, landlock_add_rule and landlock_restrict_self (the service \
             unit's SystemCallFilter=)"
            .into(),
        Some(e) => format!(
            "the Landlock probe failed: {}",
            std::io::Error::from_raw_os_error(e)
        ),
        None => "the Landlock probe failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_of_no_landlock_follows_the_errno() {
        let cause = |errno| not_enforced_cause(-1, Some(errno));
        assert!(cause(libc::ENOSYS).contains("kernel lacks"));
        assert!(cause(libc::EOPNOTSUPP).contains("lsm="));
        let filtered = cause(libc::EPERM);
        assert!(filtered.contains("seccomp") && filtered.contains("SystemCallFilter="));
        assert!(!filtered.contains("kernel lacks"), "{filtered}");
    }

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

//! A real Mosquitto broker for the tests, on a free loopback port with its own config, and
//! `mosquitto_sub` as the subscriber. No mock of the broker.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn mosquitto_bin() -> PathBuf {
    for p in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("mosquitto")
}

/// A real Mosquitto broker on a free loopback port, stopped on drop.
pub struct Broker {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
    conf: PathBuf,
    /// Where the broker's log goes (brokers started with [`Broker::start_logged`]).
    log: Option<PathBuf>,
}

fn spawn_mosquitto(conf: &Path, log: Option<&Path>) -> Child {
    let stderr = match log {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("broker log file"),
        ),
        None => Stdio::null(),
    };
    Command::new(mosquitto_bin())
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("mosquitto is installed (scripts/setup.sh installs it)")
}

/// A loopback port nothing listens on (yet), and that no other test can take meanwhile: it lies
/// below the kernel's ephemeral range, from which `free_port()` (so every test broker) draws,
/// and each call in this process gives another one. (A port from the ephemeral range was once
/// handed to a parallel test's broker between choosing it and using it.)
pub fn unused_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    const LOWEST: u16 = 10_000;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let span = ephemeral_low.saturating_sub(LOWEST);
    if span < 1_000 {
        return free_port();
    }
    // Each process starts a block of 64 ports away from its neighbours (test processes started
    // one after another have near pids): consecutive pids once walked onto each other's ports,
    // and a RabbitMQ node, which binds seconds after the choice, lost its port that way.
    let start = ((u64::from(std::process::id()) * 64) % u64::from(span)) as u16;
    for _ in 0..span {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = LOWEST + start.wrapping_add(k) % span;
        // Bindable on loopback: nothing listens there (nor on every address).
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no unused loopback port between {LOWEST} and {ephemeral_low}")
}

impl Broker {
    pub fn start() -> Broker {
        Self::start_with("allow_anonymous true\n")
    }

    /// Starts a broker with extra config lines (e.g. authentication). Retries on another port
    /// if the chosen one was taken between choosing and binding.
    pub fn start_with(extra: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        for _attempt in 0..5 {
            let port = free_port();
            let conf = dir.path().join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!("listener {port} 127.0.0.1\npersistence false\nlog_dest stderr\nlog_type error\n{extra}"),
            )
            .expect("write mosquitto.conf");
            let mut child = Command::new(mosquitto_bin())
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mosquitto is installed (scripts/setup.sh installs it)");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // could not bind: try another port
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    // Ours, not a neighbour's: the process is still alive after answering.
                    std::thread::sleep(Duration::from_millis(50));
                    if let Ok(None) = child.try_wait() {
                        return Broker {
                            port,
                            child,
                            _dir: dir,
                            conf,
                            log: None,
                        };
                    }
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not start on port {port}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("mosquitto could not start on any of 5 free ports");
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Starts an anonymous broker on a given port (one a test reserved earlier).
    pub fn start_on(port: u16) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\npersistence false\nlog_dest stderr\nlog_type error\nallow_anonymous true\n"),
        )
        .expect("write mosquitto.conf");
        let child = spawn_mosquitto(&conf, None);
        let broker = Broker {
            port,
            child,
            _dir: dir,
            conf,
            log: None,
        };
        broker.wait_ready();
        broker
    }

    /// A broker that keeps its sessions and retained messages across a crash (persistence,
    /// saved every second), queues without bound for persistent subscribers, and logs every
    /// connection with its Unix time (see [`Broker::log`]).
    pub fn start_logged() -> Broker {
        Self::start_logged_with("")
    }

    /// As [`Broker::start_logged`], with extra config lines (a bridge, say).
    pub fn start_logged_with(extra: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        // Mosquitto started as root writes its database as the `mosquitto` user.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod broker dir");
        let port = unused_port();
        let conf = dir.path().join("mosquitto.conf");
        let log = dir.path().join("mosquitto.log");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
                 persistence_location {}/\nautosave_interval 1\nmax_queued_messages 0\n\
                 log_dest stderr\nlog_type all\nlog_timestamp_format %s\n{extra}",
                dir.path().display()
            ),
        )
        .expect("write mosquitto.conf");
        let child = spawn_mosquitto(&conf, Some(&log));
        let broker = Broker {
            port,
            child,
            _dir: dir,
            conf,
            log: Some(log),
        };
        broker.wait_ready();
        broker
    }

    /// The broker process's id (the current one, after a restart).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The broker's log so far (brokers started with [`Broker::start_logged`]).
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// Stops the broker (as a crash or a network outage would: no clean goodbye).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the broker again on the same port, with the same config (retained state gone).
    pub fn restart(&mut self) {
        self.child = spawn_mosquitto(&self.conf, self.log.as_deref());
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not come up on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The retained message on `topic`, if any, as its payload text.
    pub fn retained(&self, topic: &str) -> Option<String> {
        let out = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-t", topic, "--retained-only", "-C", "1", "-W", "2"])
            .output()
            .expect("mosquitto_sub is installed (scripts/setup.sh installs it)");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// Every retained topic under `filter`.
    pub fn all_retained(&self, filter: &str) -> Vec<String> {
        let out = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-t", filter, "--retained-only", "-W", "2", "-F", "%t %p"])
            .output()
            .expect("mosquitto_sub");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Starts a subscriber on `filter` and waits until it is really subscribed.
    pub fn subscribe(&self, filter: &str) -> Subscriber {
        Subscriber::start(self.port, filter, false, None)
    }

    /// As [`Broker::subscribe`], on a persistent session (client id `id`, clean session off):
    /// what arrives while it reconnects after a broker restart is kept for it.
    pub fn subscribe_persistent(&self, filter: &str, id: &str) -> Subscriber {
        Subscriber::start(self.port, filter, false, Some(id))
    }

    /// As [`Broker::subscribe`], over MQTT 5 with "retain as published": live messages keep
    /// the retain flag their publisher set (not only those stored before subscribing).
    pub fn subscribe_as_published(&self, filter: &str) -> Subscriber {
        Subscriber::start(self.port, filter, true, None)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub retained: bool,
    pub topic: String,
    pub payload: String,
}

/// `mosquitto_sub` recording every message it receives.
pub struct Subscriber {
    child: Child,
    lines: Arc<Mutex<Vec<Received>>>,
}

impl Subscriber {
    /// A subscriber on a persistent session (client id `id`) to any broker on loopback `port`.
    pub fn persistent(port: u16, filter: &str, id: &str) -> Subscriber {
        Subscriber::start(port, filter, false, Some(id))
    }

    fn start(port: u16, filter: &str, as_published: bool, session: Option<&str>) -> Subscriber {
        let probe = format!("probe/{}", std::process::id());
        let mut cmd = Command::new("mosquitto_sub");
        if as_published {
            cmd.args(["-V", "mqttv5", "--retain-as-published"]);
        }
        if let Some(id) = session {
            cmd.args(["-c", "-i", id]);
        }
        let mut child = cmd
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-v"])
            .args(["-t", filter, "-t", &probe, "-F", "%r %t %p"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut parts = line.splitn(3, ' ');
                let (Some(r), Some(t), p) = (parts.next(), parts.next(), parts.next()) else {
                    continue;
                };
                sink.lock().unwrap().push(Received {
                    retained: r == "1",
                    topic: t.to_string(),
                    payload: p.unwrap_or("").to_string(),
                });
            }
        });
        let sub = Subscriber { child, lines };
        // Publish probes until one arrives: then the subscription is live.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut sub = sub;
        loop {
            let _ = Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-t",
                    &probe,
                    "-m",
                    "x",
                ])
                .status();
            std::thread::sleep(Duration::from_millis(100));
            if sub.lines.lock().unwrap().iter().any(|r| r.topic == probe) {
                break;
            }
            if let Ok(Some(status)) = sub.child.try_wait() {
                panic!("mosquitto_sub on port {port} exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "subscriber on port {port} never became ready"
            );
        }
        sub.lines.lock().unwrap().retain(|r| r.topic != probe);
        sub
    }

    pub fn messages(&self) -> Vec<Received> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a message on `topic` satisfies `pred`.
    pub fn wait_for(&self, limit: Duration, pred: impl Fn(&Received) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.lines.lock().unwrap().iter().any(&pred) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Shared helpers for the integration tests: the real `headcount` binary, a real Mosquitto on a
//! free loopback port with its own config, `mosquitto_sub` as the subscriber, and access to
//! `../shared` (skipped with a message on a user's clone, a failure when `CI=true`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod eval;
pub mod fleet;
mod mqtt;
pub mod privacy;
pub mod rabbitmq;
pub mod relay;

// Not every test crate uses every helper.
#[allow(unused_imports)]
pub use mqtt::{unused_port, Broker, Received, Subscriber};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed one-by-one clip (CC-BY-4.0).
pub fn one_by_one() -> PathBuf {
    root().join("tests/fixtures/one-by-one/one-by-one-person-detection.mp4")
}

/// The first `seconds` of the one-by-one clip, cut (not re-encoded) into `dir`.
pub fn one_by_one_first(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join(format!("clip-{seconds}s.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(one_by_one())
        .args(["-t", &seconds.to_string(), "-c", "copy"])
        .arg(&out)
        .status()
        .expect("ffmpeg runs (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg could not cut the clip");
    out
}

/// `headcount replay` of the one-by-one clip with `config`, then `args`, run to its end (10
/// minutes at most).
pub fn replay_one_by_one(config: &Path, args: &[&str]) -> Output {
    let mut cmd = headcount_optimised();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(config)
        .args(args);
    run_with_timeout(cmd, Duration::from_secs(600))
}

/// `replay_one_by_one`, which must succeed.
pub fn replay_one_by_one_ok(config: &Path, args: &[&str]) -> Output {
    let out = replay_one_by_one(config, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A file under `../shared`, or `None` (with a message) when it is missing on a user's clone.
/// When `CI=true` a missing file is a failure: CI always has `../shared`.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = root().join("../shared").join(rel);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is missing, and CI must have ../shared", path.display());
    }
    eprintln!(
        "skipping: {} is missing (../shared is not beside this clone)",
        path.display()
    );
    None
}

/// The `headcount` binary under test.
pub fn headcount() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_headcount"));
    cmd.env_remove("HEADCOUNT_LOG")
        .env_remove("HEADCOUNT_TFLITE_LIB")
        .env_remove("HEADCOUNT_LITERT_LIB")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC");
    cmd
}

/// `headcount check-config FILE` accepts the file (a failure shows what it said).
pub fn assert_config_accepted(config: &Path) {
    let check = headcount()
        .arg("check-config")
        .arg(config)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `headcount` for the heavy replays (PETS09 evaluations): the optimised build named by
/// `HEADCOUNT_OPTIMISED_BIN` (scripts/test.sh sets it right after building
/// `target/release/headcount` from the same tree), else the test build.
pub fn headcount_optimised() -> Command {
    let Some(path) = std::env::var_os("HEADCOUNT_OPTIMISED_BIN") else {
        return headcount();
    };
    let cmd = headcount();
    // The same environment clean-up as the test build.
    let mut optimised_cmd = Command::new(&path);
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => optimised_cmd.env(key, v),
            None => optimised_cmd.env_remove(key),
        };
    }
    optimised_cmd
}

/// Runs a command to completion with a time limit; kills it if it overruns.
pub fn run_with_timeout(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("command did not finish within {limit:?}");
        }
    }
}

/// Writes a config file into `dir` and returns its path.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("headcount.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// The committed JSON Schemas (`schema/<topic>.schema.json`), one per topic.
pub struct Schemas {
    validators: Vec<(String, jsonschema::Validator)>,
}

impl Schemas {
    pub fn load() -> Schemas {
        let mut validators = Vec::new();
        for topic in [
            "availability",
            "occupancy",
            "privacy",
            "health",
            "line",
            "site-building",
            "site-occupancy",
            "site-sensors",
            "site-history",
        ] {
            let path = root().join(format!("schema/{topic}.schema.json"));
            let text = std::fs::read_to_string(&path).expect("schema file");
            let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            validators.push((topic.to_string(), validator));
        }
        Schemas { validators }
    }

    /// Panics unless `m`'s payload is valid for its topic's schema (and its topic has one).
    pub fn validate(&self, m: &Received) {
        let mut levels = m.topic.rsplit('/');
        let last = levels.next().unwrap_or("");
        // `…/zone/<name>` carries an occupancy payload, `…/line/<name>` a line payload.
        let site_level = format!("site-{last}");
        let suffix = match levels.next() {
            Some("zone") => "occupancy",
            Some("line") => "line",
            // The site aggregator's topics (`headcount/<site>/_site/…`).
            Some("_site") if last != "availability" => site_level.as_str(),
            _ => last,
        };
        let (_, validator) = self
            .validators
            .iter()
            .find(|(t, _)| t == suffix)
            .unwrap_or_else(|| panic!("no schema for topic {}", m.topic));
        // availability is plain text; its schema describes it as a JSON string.
        let instance = if suffix == "availability" {
            serde_json::Value::String(m.payload.clone())
        } else {
            serde_json::from_str(&m.payload)
                .unwrap_or_else(|e| panic!("{}: payload is not JSON ({e}): {}", m.topic, m.payload))
        };
        if let Err(e) = validator.validate(&instance) {
            panic!("{} payload {} breaks its schema: {e}", m.topic, m.payload);
        }
    }
}

/// Polls `f` until it is true or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The `count` of the first occupancy message among `replay`'s JSON lines.
pub fn first_occupancy_count(stdout: &str) -> Option<u64> {
    occupancy_messages(stdout)
        .first()
        .and_then(|v| v["count"].as_u64())
}

/// The occupancy messages among printed JSON lines, in order.
pub fn occupancy_messages(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["topic"]
                .as_str()
                .is_some_and(|t| t.ends_with("/occupancy"))
        })
        .collect()
}

/// Starts `headcount replay ARGS --config CONFIG` and collects its stdout lines as they come.
pub fn spawn_replay(args: &[&std::ffi::OsStr], config: &Path) -> (Child, Arc<Mutex<Vec<String>>>) {
    let mut child = headcount()
        .arg("replay")
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn headcount");
    let stdout = child.stdout.take().expect("stdout");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, lines)
}

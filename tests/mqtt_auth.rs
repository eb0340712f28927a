//! Broker authentication against a real Mosquitto with a password file: the right password works
//! (from a file or the environment), a wrong one is a clear error, and the password never appears
//! in any output.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{headcount, one_by_one, run_with_timeout, write_config, Broker};

const USER: &str = "sensor-7";
const SECRET: &str = "c0rrect-h0rse";

fn broker_with_password(dir: &Path) -> Broker {
    let pwfile = dir.join("passwd");
    let made = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&pwfile)
        .args([USER, SECRET])
        .status()
        .expect("mosquitto_passwd (mosquitto package)");
    assert!(made.success());
    // Mosquitto may drop to its own user before reading the file.
    let _ = Command::new("chmod").arg("755").arg(dir).status();
    let _ = Command::new("chmod").arg("644").arg(&pwfile).status();
    Broker::start_with(&format!(
        "allow_anonymous false\npassword_file {}\n",
        pwfile.display()
    ))
}

fn replay(config: &Path, env_password: Option<&str>) -> std::process::Output {
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(config);
    if let Some(p) = env_password {
        cmd.env("HEADCOUNT_MQTT_PASSWORD", p);
    }
    run_with_timeout(cmd, Duration::from_secs(120))
}

fn assert_secret_not_shown(out: &std::process::Output) {
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !String::from_utf8_lossy(text).contains(SECRET),
            "the password appeared in the output"
        );
    }
}

#[test]
fn right_password_from_a_file_or_the_environment_connects() {
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with_password(dir.path());
    let secret_file = dir.path().join("mqtt-password");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let base = format!(
        "[sensor]\nsite = \"auth\"\nname = \"ok\"\n[source]\nfps = 0.2\n\
         [mqtt]\nurl = \"{}\"\nusername = \"{USER}\"\n",
        broker.url()
    );
    let from_file = write_config(
        dir.path(),
        &format!("{base}password_file = \"{}\"\n", secret_file.display()),
    );
    let out = replay(&from_file, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_secret_not_shown(&out);
    // Success means the broker accepted the session and acknowledged every message (replay
    // waits for the PUBACKs before it exits 0).
    assert!(String::from_utf8_lossy(&out.stdout).contains("headcount/auth/ok/occupancy"));

    let mut check = headcount();
    check.arg("check-config").arg(&from_file);
    let printed = run_with_timeout(check, Duration::from_secs(10));
    assert!(printed.status.success());
    assert_secret_not_shown(&printed);

    let from_env = write_config(dir.path(), &base);
    let out = replay(&from_env, Some(SECRET));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_secret_not_shown(&out);
}

#[test]
fn wrong_password_is_a_clear_error_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with_password(dir.path());
    let config = write_config(
        dir.path(),
        &format!(
            "[mqtt]\nurl = \"{}\"\nusername = \"{USER}\"\n",
            broker.url()
        ),
    );
    let out = replay(&config, Some("not-the-password"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(&broker.url()) && lines[0].contains("user name or password"),
        "{}",
        lines[0]
    );
    assert!(!stderr.contains("not-the-password"));
    assert!(out.stdout.is_empty());
}

#[test]
fn unreadable_password_file_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\nusername = \"u\"\npassword_file = \"missing\"\n",
    );
    let mut cmd = headcount();
    cmd.arg("check-config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mqtt.password_file"));
}

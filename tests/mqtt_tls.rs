//! `mqtts://` against a real Mosquitto TLS listener with a test CA made by openssl in the test:
//! the right CA connects and publishes; a wrong CA is refused with a clear error; a broker that
//! requires client certificates accepts ours and refuses a sensor without one.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{headcount, one_by_one, run_with_timeout, write_config, Broker};

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl (scripts/setup.sh installs it)");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA (`<name>-ca.pem`), and certificates it signed for the broker (127.0.0.1) and a sensor.
fn make_pki(dir: &Path, name: &str) -> PathBuf {
    let ca = format!("{name}-ca");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.pem"),
            "-subj",
            &format!("/CN=headcount test {name} CA"),
        ],
    );
    for (who, san) in [
        ("server", "IP:127.0.0.1,DNS:localhost"),
        ("client", "DNS:sensor"),
    ] {
        let ext = dir.join(format!("{name}-{who}.ext"));
        std::fs::write(&ext, format!("subjectAltName={san}\n")).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}-{who}.key"),
                "-out",
                &format!("{name}-{who}.csr"),
                "-subj",
                &format!("/CN={who}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}-{who}.csr"),
                "-CA",
                &format!("{ca}.pem"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &format!("{name}-{who}.pem"),
                "-extfile",
                ext.to_str().unwrap(),
            ],
        );
    }
    // Mosquitto may drop to its own user before reading the files.
    let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(dir).status();
    dir.join(format!("{ca}.pem"))
}

fn tls_broker(dir: &Path, require_client_cert: bool) -> Broker {
    Broker::start_with(&format!(
        "allow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {}\n",
        dir.join("good-ca.pem").display(),
        dir.join("good-server.pem").display(),
        dir.join("good-server.key").display(),
        require_client_cert
    ))
}

/// The retained occupancy, read back over TLS with mosquitto_sub.
fn retained_over_tls(broker: &Broker, dir: &Path, topic: &str) -> Option<String> {
    let port = broker.url().rsplit(':').next().unwrap().to_string();
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port, "--cafile"])
        .arg(dir.join("good-ca.pem"))
        .args(["--cert"])
        .arg(dir.join("good-client.pem"))
        .args(["--key"])
        .arg(dir.join("good-client.key"))
        .args(["-t", topic, "--retained-only", "-C", "1", "-W", "3"])
        .output()
        .expect("mosquitto_sub");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn replay(dir: &Path, broker: &Broker, tls: &str) -> std::process::Output {
    replay_as(dir, broker, "mqtts", "s1", tls)
}

/// A replay of sensor `tls/<name>` to `<scheme>://` the broker's port, with `tls` keys added.
fn replay_as(
    dir: &Path,
    broker: &Broker,
    scheme: &str,
    name: &str,
    tls: &str,
) -> std::process::Output {
    let port = broker.url().rsplit(':').next().unwrap().to_string();
    let config = write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"tls\"\nname = \"{name}\"\n[source]\nfps = 1\n\
             [mqtt]\nurl = \"{scheme}://127.0.0.1:{port}\"\nconnect_timeout_s = 5\n{tls}\n"
        ),
    );
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config);
    run_with_timeout(cmd, Duration::from_secs(120))
}

#[test]
fn the_right_ca_connects_and_publishes_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_pki(dir.path(), "good");
    let broker = tls_broker(dir.path(), false);
    let out = replay(
        dir.path(),
        &broker,
        &format!("ca_file = \"{}\"", ca.display()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let occupancy = retained_over_tls(&broker, dir.path(), "headcount/tls/s1/occupancy")
        .expect("occupancy retained on the TLS broker");
    assert!(occupancy.contains("\"count\":"), "{occupancy}");
}

#[test]
fn a_wrong_ca_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), "good");
    let other_ca = make_pki(dir.path(), "other");
    let broker = tls_broker(dir.path(), false);
    let out = replay(
        dir.path(),
        &broker,
        &format!("ca_file = \"{}\"", other_ca.display()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("mqtts://127.0.0.1")
            && last.contains("TLS")
            && last.contains("UnknownIssuer"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("occupancy"));
}

#[test]
fn client_certificates_are_presented_when_the_broker_requires_them() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_pki(dir.path(), "good");
    let broker = tls_broker(dir.path(), true);
    // Without a client certificate the broker ends the handshake.
    let out = replay(
        dir.path(),
        &broker,
        &format!("ca_file = \"{}\"", ca.display()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot connect to MQTT broker mqtts://"),
        "{stderr}"
    );
    // With ours it connects.
    let out = replay(
        dir.path(),
        &broker,
        &format!(
            "ca_file = \"{}\"\nclient_cert_file = \"{}\"\nclient_key_file = \"{}\"",
            ca.display(),
            dir.path().join("good-client.pem").display(),
            dir.path().join("good-client.key").display()
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(retained_over_tls(&broker, dir.path(), "headcount/tls/s1/occupancy").is_some());
}

#[test]
fn tls_keys_are_checked_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[mqtt]\nurl = \"mqtt://127.0.0.1:1\"\nca_file = \"/tmp/ca.pem\"\n",
            "mqtt.ca_file",
        ),
        (
            "[mqtt]\nurl = \"mqtts://127.0.0.1:1\"\nclient_cert_file = \"/tmp/c.pem\"\n",
            "mqtt.client_cert_file",
        ),
        ("[mqtt]\nurl = \"wss://127.0.0.1:1\"\n", "mqtts://"),
    ];
    for (text, key) in cases {
        let config = write_config(dir.path(), text);
        let mut cmd = headcount();
        cmd.arg("check-config").arg(&config);
        let out = run_with_timeout(cmd, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(key), "{text}: {stderr}");
    }
    // A CA file that does not exist is named, with its key, before connecting.
    let config = write_config(
        dir.path(),
        "[mqtt]\nurl = \"mqtts://127.0.0.1:1\"\nca_file = \"/nonexistent/ca.pem\"\n",
    );
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("mqtt.ca_file") && stderr.contains("/nonexistent/ca.pem"),
        "{stderr}"
    );
}

/// `mqtt://` pointed at a port that speaks TLS: the error says so (not a serialization error).
#[test]
fn plain_mqtt_at_a_tls_port_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    make_pki(dir.path(), "good");
    let broker = tls_broker(dir.path(), false);
    let port = broker.url().rsplit(':').next().unwrap().to_string();
    let out = replay_as(dir.path(), &broker, "mqtt", "plain", "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.contains(&format!("mqtt://127.0.0.1:{port}"))
            && last.contains("speaks TLS")
            && last.contains("mqtts://"),
        "{stderr}"
    );
}

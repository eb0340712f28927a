//! The command-line contract: subcommands, `check-config` output, exit codes.

mod common;

use std::time::Duration;

use common::{headcount, one_by_one, run_with_timeout, write_config};

#[test]
fn help_lists_the_subcommands() {
    let mut cmd = headcount();
    cmd.arg("--help");
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["run", "replay", "check-config"] {
        assert!(text.contains(sub), "{text}");
    }
}

#[test]
fn check_config_prints_the_effective_config_with_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[sensor]\nsite = \"hq\"\nname = \"room-4-12\"\n[mqtt]\nurl = \"mqtt://broker.lan:1884\"\n",
    );
    let out = check_config(&config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let effective = headcount::config::Config::parse(&text).expect("output is a valid config");
    assert_eq!(effective.sensor.name, "room-4-12");
    assert_eq!(effective.mqtt.url, "mqtt://broker.lan:1884");
    // Defaults are filled in, so the printout is the whole truth.
    assert_eq!(effective.counting.smoothing_frames, 9);
    assert_eq!(effective.detector.threshold, 0.5);
    assert_eq!(effective.mqtt.interval_s, 60);
}

#[test]
fn run_without_a_source_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[sensor]\nname = \"x\"\n");
    let mut cmd = headcount();
    cmd.arg("run").arg("--config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("source.url"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["replay"][..], &["frobnicate"], &["run"]] {
        let mut cmd = headcount();
        cmd.args(args);
        let out = run_with_timeout(cmd, Duration::from_secs(10));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn run_counts_a_video_and_reports_its_end_as_a_failure() {
    // The daemon path on the committed clip at 1 fps, no broker. A daemon's input should not
    // end: when it does, it says so, names the input, and exits 1 (systemd restarts it).
    let dir = tempfile::tempdir().unwrap();
    let clip = common::root().join("tests/fixtures/one-by-one/one-by-one-person-detection.mp4");
    let config = write_config(
        dir.path(),
        &format!("[source]\nurl = \"{}\"\nfps = 1\n", clip.display()),
    );
    let mut cmd = headcount();
    cmd.arg("run").arg("--config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(120));
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(out.stdout.is_empty(), "run prints no counts on stdout");
    assert!(log.contains("pipeline stopped"), "{log}");
    let last = log.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: video ") && last.contains("one-by-one-person-detection.mp4"),
        "{last}"
    );
    let frames: u64 = last
        .split("ended after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!((130..=141).contains(&frames), "{last}");
}

#[test]
fn privacy_report_is_generated_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[sensor]\nsite = \"hq\"\nname = \"lobby\"\n[source]\nurl = \"rtsp://admin:pw@cam/1\"\n\
         [privacy]\nmin_count = 5\ntime_resolution_s = 900\n\
         [[privacy.masks]]\nname = \"street\"\npolygon = [[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]]\n",
    );
    let mut cmd = headcount();
    cmd.arg("privacy-report").arg("--config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("# headcount: data-flow statement"), "{md}");
    assert!(md.contains("`hq/lobby`"));
    assert!(md.contains("counts 1..4 are published as `\"<5\"`"), "{md}");
    assert!(md.contains("900 s bins"));
    assert!(md.contains("`street`"));
    assert!(!md.contains("pw@"), "credentials must not appear: {md}");
}

#[test]
fn systemd_hears_ready_then_watchdog_keep_alives_while_frames_flow() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&socket_path).unwrap();
    systemd
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let clip = common::root().join("tests/fixtures/one-by-one/one-by-one-person-detection.mp4");
    let config = write_config(
        dir.path(),
        &format!("[source]\nurl = \"{}\"\nrealtime = true\n", clip.display()),
    );
    let mut child = headcount()
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000") // keep-alive checks every 0.5 s
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut heard = Vec::new();
    let mut buf = [0u8; 64];
    while heard.iter().filter(|m| *m == "WATCHDOG=1").count() < 2 {
        let Ok(n) = systemd.recv(&mut buf) else { break };
        heard.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        heard.first().map(String::as_str),
        Some("READY=1"),
        "{heard:?}"
    );
    assert!(
        heard.iter().filter(|m| *m == "WATCHDOG=1").count() >= 2,
        "{heard:?}"
    );
}

/// `deploy/headcount.toml` (installed as /etc/headcount/headcount.toml) says it lists every key
/// with its default unless noted: it must hold every key `check-config` prints, no key it does not
/// know, and each value that differs from the default must say so on its line.
#[test]
fn the_installed_config_lists_every_key_with_its_default() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped_path = root.join("deploy/headcount.toml");
    let shipped_text = std::fs::read_to_string(&shipped_path).unwrap();
    let shipped: toml::Table = shipped_text.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let empty = write_config(dir.path(), "");
    let out = check_config(&empty);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let defaults: toml::Table = String::from_utf8_lossy(&out.stdout).parse().unwrap();
    let mut missing = Vec::new();
    let mut unnoted = Vec::new();
    for (section, keys) in &defaults {
        let keys = keys.as_table().unwrap();
        let listed = shipped.get(section).and_then(|t| t.as_table());
        for (key, default) in keys {
            if default.as_array().is_some_and(|a| a.is_empty()) {
                // Arrays of tables ([[counting.zones]], …) are shown as a commented example.
                let example = format!("# [[{section}.{key}]]");
                if !shipped_text.contains(&example) {
                    missing.push(format!("{section}.{key} (as `{example}`)"));
                }
                continue;
            }
            match listed.and_then(|t| t.get(key)) {
                None => missing.push(format!("{section}.{key}")),
                Some(value) if value != default => {
                    let line = line_of(&shipped_text, section, key);
                    if !line.contains("default") {
                        unnoted.push(format!("{section}.{key} = {value} (default {default})"));
                    }
                }
                Some(_) => {}
            }
        }
    }
    let mut unknown = Vec::new();
    for (section, keys) in &shipped {
        for key in keys.as_table().map(|t| t.keys()).into_iter().flatten() {
            if defaults.get(section).and_then(|t| t.get(key)).is_none() {
                unknown.push(format!("{section}.{key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "deploy/headcount.toml lacks {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "deploy/headcount.toml has unknown keys {unknown:?}"
    );
    assert!(
        unnoted.is_empty(),
        "values that are not the default and do not say so: {unnoted:?}"
    );
    let out = check_config(&shipped_path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The line setting `key` inside `[section]` of a TOML text.
fn line_of<'a>(text: &'a str, section: &str, key: &str) -> &'a str {
    let header = format!("[{section}]");
    text.lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .find(|l| l.starts_with(&format!("{key} ")) || l.starts_with(&format!("{key}=")))
        .unwrap_or_default()
}

/// Differential privacy whose noise drowns the count (the ε = 1 a day over 10 s bins gave
/// 11353 people for a room of one) is refused, naming the key and what would fix it; an accepted
/// one states its noise in people.
#[test]
fn noisy_differential_privacy_is_refused_and_its_noise_stated() {
    let dir = tempfile::tempdir().unwrap();
    let noisy = write_config(
        dir.path(),
        "[privacy]\ndp_epsilon_per_day = 1.0\ntime_resolution_s = 10\n",
    );
    let out = check_config(&noisy);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "privacy.dp_max_noise",
        "scale 8640 people",
        "±25900 people",
        "time_resolution_s = 43200",
        "k-banding (min_count)",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert_eq!(err.lines().count(), 1, "{err}");
    // Accepted explicitly, or with one release a day: the noise is stated, and the output is
    // still a config.
    for (text, want) in [
        (
            "[privacy]\ndp_epsilon_per_day = 1.0\ntime_resolution_s = 10\ndp_max_noise = 30000\n",
            "±25900 people",
        ),
        (
            "[privacy]\ndp_epsilon_per_day = 1.0\ntime_resolution_s = 86400\n",
            "scale 1 people on each release: 95 % of releases within ±3 people",
        ),
    ] {
        let config = write_config(dir.path(), text);
        let out = check_config(&config);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(printed.contains(want), "{printed}");
        headcount::config::Config::parse(&printed).expect("still a config");
    }
}

/// `headcount check-config FILE`.
fn check_config(file: &std::path::Path) -> std::process::Output {
    let mut cmd = headcount();
    cmd.arg("check-config").arg(file);
    run_with_timeout(cmd, Duration::from_secs(10))
}

/// Every file the config names is read bounded: a device, a pipe or a huge file is a clear
/// error naming the key, at once, never an endless read (`/dev/zero` once took 8 GB in 39 s).
#[test]
fn files_that_would_be_read_forever_are_refused_naming_the_key() {
    let out = check_config(std::path::Path::new("/dev/zero"));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[mqtt]\nurl = \"mqtt://127.0.0.1:1\"\nusername = \"u\"\npassword_file = \"/dev/zero\"\n",
    );
    let (ok, err) = replay_status(&config);
    assert!(!ok);
    assert!(
        err.contains("mqtt.password_file") && err.contains("not a regular file"),
        "{err}"
    );

    let config = write_config(dir.path(), "[detector]\nmodel = \"/dev/zero\"\n");
    let (ok, err) = replay_status(&config);
    assert!(!ok);
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );
}

#[test]
fn check_config_never_prints_the_stream_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[source]\nurl = \"rtsp://admin:pw-9d2f@10.0.0.5:554/stream1\"\n",
    );
    let out = check_config(&config);
    assert!(out.status.success(), "{out:?}");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("pw-9d2f"), "{all}");
    assert!(all.contains("rtsp://***@10.0.0.5:554/stream1"), "{all}");
}

/// What the README allows, and nothing else.
#[test]
fn values_outside_the_readme_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[privacy]\nmin_count = 1\n", "privacy.min_count"),
        ("[mqtt]\nurl = \"mqtt://::1\"\n", "mqtt.url"),
        ("[mqtt]\nurl = \"mqtt://host:1883:1883\"\n", "mqtt.url"),
        ("[mqtt]\nurl = \"mqtt://[::1\"\n", "mqtt.url"),
        ("[mqtt]\nurl = \"mqtt://h o s t\"\n", "mqtt.url"),
        ("[state]\ndir = \" \"\n", "state.dir"),
        (
            "[[privacy.masks]]\npolygon = [[0, 0], [1, 0], [1, 1, 0.5]]\n",
            "polygon",
        ),
    ] {
        let out = check_config(&write_config(dir.path(), text));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(key), "{text}: {err}");
    }
}

/// `headcount replay` of the one-by-one clip with `config`: (success, stderr).
fn replay_status(config: &std::path::Path) -> (bool, String) {
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(config);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `replay` on a terminal shows frames done / total, the rate and the time left on stderr;
/// nothing with `--quiet` or when stderr is not a terminal. (`script` gives the run a terminal.)
#[test]
fn progress_is_shown_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let clip = common::one_by_one_first(dir.path(), 10);
    let bin = env!("CARGO_BIN_EXE_headcount");
    let on_terminal = |extra: &str| -> String {
        let inner = format!("{bin} replay {} {extra} > /dev/null", clip.display());
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qfec", &inner, "/dev/null"]);
        let out = run_with_timeout(cmd, Duration::from_secs(120));
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_terminal("");
    // "…  57/101 frames  48.2/s  ETA 1s": a total, from the clip's duration and rate.
    let total = shown
        .split(" frames")
        .next()
        .and_then(|s| s.rsplit('/').next())
        .and_then(|n| n.trim().parse::<u64>().ok());
    assert!(
        total.is_some_and(|t| (95..=105).contains(&t)) && shown.contains("ETA"),
        "{shown}"
    );
    let quiet = on_terminal("--quiet");
    assert!(!quiet.contains("frames"), "{quiet}");
    let mut cmd = headcount();
    cmd.arg("replay").arg(&clip);
    let out = run_with_timeout(cmd, Duration::from_secs(120));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("ETA"), "{err}");
}

//! Bad input, each its own test: a one-line error naming the cause, the right exit code, no
//! panic, and nothing published to the (real) broker.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{headcount, one_by_one, run_with_timeout, unused_port, write_config, Broker};

/// Runs `headcount replay VIDEO --config FILE` with a broker configured and returns its output
/// and the broker (to check that nothing was published).
fn replay_with_broker(video: &Path, extra_config: &str, dir: &Path) -> (Output, Broker) {
    let broker = Broker::start();
    let config = write_config(
        dir,
        &format!(
            "[sensor]\nsite = \"bad\"\nname = \"input\"\n[mqtt]\nurl = \"{}\"\n{extra_config}",
            broker.url()
        ),
    );
    let mut cmd = headcount();
    cmd.arg("replay").arg(video).arg("--config").arg(config);
    (run_with_timeout(cmd, Duration::from_secs(120)), broker)
}

/// The failure contract: exit code, exactly one stderr line naming the cause, no panic, nothing
/// on stdout, nothing retained on the broker.
fn assert_clean_failure(out: &Output, code: i32, needles: &[&str], broker: Option<&Broker>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "want one error line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for n in needles {
        assert!(
            lines[0].contains(n),
            "{:?} does not mention {n:?}",
            lines[0]
        );
    }
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    if let Some(b) = broker {
        assert_eq!(
            b.all_retained("#"),
            Vec::<String>::new(),
            "garbage published"
        );
    }
}

fn model_config(model: &Path) -> String {
    format!("[detector]\nmodel = \"{}\"\n", model.display())
}

fn bundled_model() -> PathBuf {
    common::root().join("models/ssd_mobilenet_v1_coco_quant/detect.tflite")
}

#[test]
fn missing_video() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("no-such-clip.mp4");
    let (out, broker) = replay_with_broker(&video, "", dir.path());
    assert_clean_failure(&out, 1, &["no-such-clip.mp4", "not found"], Some(&broker));
}

#[test]
fn text_file_renamed_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("notes.mp4");
    std::fs::write(&video, "meeting notes, not a video\n").unwrap();
    let (out, broker) = replay_with_broker(&video, "", dir.path());
    assert_clean_failure(&out, 1, &["notes.mp4", "Invalid data"], Some(&broker));
}

/// A video that breaks part-way: the counts made before the damage are real and published,
/// then the run fails with an error naming the file, and the sensor is left `offline`.
fn assert_fails_after_publishing(out: &Output, broker: &Broker, file: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "want one error line, got: {stderr}");
    assert!(
        lines[0].contains(file) && lines[0].contains("decoding failed after"),
        "{}",
        lines[0]
    );
    assert_eq!(
        broker
            .retained("headcount/bad/input/availability")
            .as_deref(),
        Some("offline")
    );
    assert!(broker.retained("headcount/bad/input/occupancy").is_some());
    // The heartbeat says why the source stopped.
    let health: serde_json::Value =
        serde_json::from_str(&broker.retained("headcount/bad/input/health").unwrap()).unwrap();
    assert_eq!(health["source"], "failed", "{health}");
    assert!(
        health["last_error"].as_str().unwrap_or("").contains(file),
        "{health}"
    );
}

#[test]
fn truncated_video() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("cut.mp4");
    let bytes = std::fs::read(one_by_one()).unwrap();
    std::fs::write(&video, &bytes[..bytes.len() / 3]).unwrap();
    let (out, broker) = replay_with_broker(&video, "[source]\nfps = 2\n", dir.path());
    assert_fails_after_publishing(&out, &broker, "cut.mp4");
}

#[test]
fn corrupt_frames_mid_file() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("damaged.mp4");
    let mut bytes = std::fs::read(one_by_one()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid..mid + 200_000].fill(0);
    std::fs::write(&video, &bytes).unwrap();
    let (out, broker) = replay_with_broker(&video, "[source]\nfps = 2\n", dir.path());
    assert_fails_after_publishing(&out, &broker, "damaged.mp4");
}

#[test]
fn truncated_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("detect.tflite");
    let bytes = std::fs::read(bundled_model()).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 4]).unwrap();
    let (out, broker) = replay_with_broker(&one_by_one(), &model_config(&model), dir.path());
    assert_clean_failure(
        &out,
        1,
        &["detect.tflite", "not a valid TensorFlow Lite model"],
        Some(&broker),
    );
}

#[test]
fn file_that_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.tflite");
    std::fs::write(&model, b"<html>404</html>").unwrap();
    let (out, broker) = replay_with_broker(&one_by_one(), &model_config(&model), dir.path());
    assert_clean_failure(&out, 1, &["model.tflite", "TFL3"], Some(&broker));
}

#[test]
fn model_whose_input_is_not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::root().join("tests/fixtures/vector-input.tflite");
    let (out, broker) = replay_with_broker(&one_by_one(), &model_config(&model), dir.path());
    assert_clean_failure(
        &out,
        1,
        &["vector-input.tflite", "[1,8]", "image tensor"],
        Some(&broker),
    );
}

#[test]
fn missing_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("gone.tflite");
    let (out, broker) = replay_with_broker(&one_by_one(), &model_config(&model), dir.path());
    assert_clean_failure(&out, 1, &["gone.tflite", "not found"], Some(&broker));
}

#[test]
fn config_with_an_unknown_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[counting]\nsmoothing = 5\n");
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_clean_failure(
        &out,
        2,
        &["counting.smoothing", "unknown field", "smoothing_frames"],
        None,
    );
}

#[test]
fn config_with_an_out_of_range_value() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[detector]\nthreads = 65\n");
    let mut cmd = headcount();
    cmd.arg("check-config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_clean_failure(&out, 2, &["detector.threads", "0", "1..=64"], None);
}

#[test]
fn broker_that_is_down_for_the_whole_run() {
    // A port with nothing listening: the TCP connection is refused. Counting goes on (a broker
    // may come later: store-and-forward); at the end, what it never took is reported, and without
    // a state dir said to be lost.
    let port = unused_port();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        // 5 of the clip's 10 frames a second: the same 14 occupancy messages, half the inference.
        &format!("[source]\nfps = 5\n[mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\n"),
    );
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A warning when it starts, one error line at the end.
    assert!(stderr.contains("unreachable"), "{stderr}");
    let last = stderr.lines().last().unwrap_or("");
    for needle in [
        &format!("error: MQTT broker mqtt://127.0.0.1:{port}") as &str,
        "queued report",
        "lost: set state.dir",
    ] {
        assert!(last.contains(needle), "{last:?} lacks {needle:?}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.matches("/occupancy\"").count() >= 13,
        "the whole clip was counted: {stdout}"
    );
}

#[test]
fn broker_that_rejects_the_client() {
    // The broker answers, but refuses anonymous clients in its CONNACK.
    let broker = Broker::start_with("allow_anonymous false\n");
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &format!("[mqtt]\nurl = \"{}\"\n", broker.url()));
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(one_by_one())
        .arg("--config")
        .arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    assert_clean_failure(&out, 1, &[&broker.url(), "not authorised"], None);
}

#[test]
fn ffmpeg_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, broker) = replay_with_broker(
        &one_by_one(),
        "[source]\nffmpeg = \"/nonexistent/bin/ffmpeg\"\n",
        dir.path(),
    );
    assert_clean_failure(
        &out,
        1,
        &["/nonexistent/bin/ff", "not found"],
        Some(&broker),
    );
}

#[test]
fn runtime_library_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, broker) = replay_with_broker(
        &one_by_one(),
        "[detector]\nruntime_library = \"/nonexistent/libtensorflowlite_c.so\"\n",
        dir.path(),
    );
    assert_clean_failure(
        &out,
        1,
        &["/nonexistent/libtensorflowlite_c.so"],
        Some(&broker),
    );
}

#[test]
fn camera_that_is_missing_or_not_a_camera() {
    let dir = tempfile::tempdir().unwrap();
    for (device, needle) in [
        (
            "/dev/video-not-plugged-in",
            "camera /dev/video-not-plugged-in not found (source.device)",
        ),
        ("/dev/null", "not a V4L2 capture device"),
    ] {
        let config = write_config(
            dir.path(),
            &format!("[source]\nkind = \"camera\"\ndevice = \"{device}\"\n"),
        );
        let mut cmd = headcount();
        cmd.arg("run")
            .arg("--config")
            .arg(&config)
            .env("HEADCOUNT_LOG", "error");
        let out = run_with_timeout(cmd, Duration::from_secs(60));
        assert_clean_failure(&out, 1, &[needle], None);
    }
    let config = write_config(
        dir.path(),
        "[source]\nkind = \"camera\"\ninput_format = \"h264\"\n",
    );
    let mut cmd = headcount();
    cmd.arg("check-config").arg(&config);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_clean_failure(&out, 2, &["source.input_format", "yuyv"], None);
}

#[test]
fn state_dir_already_in_use_by_another_process() {
    // Two sensors given one state dir (a second daemon started by mistake, or a replay with the
    // daemon's config): the second must not read and overwrite the first's records. It stops at
    // start, naming the dir and the first one's pid, before anything is published.
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let config_for = |name: &str| {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        write_config(
            &sub,
            &format!(
                "[sensor]\nsite = \"lock\"\nname = \"{name}\"\n[source]\nfps = 2\n\
                 [mqtt]\nurl = \"{}\"\n\
                 [detector]\nruntime = \"litert\"\n[counting]\noccupancy = \"in_minus_out\"\n\
                 [[counting.lines]]\nname = \"door\"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n\
                 [state]\ndir = \"{}\"\n",
                broker.url(),
                state.display()
            ),
        )
    };
    let first_config = config_for("first");
    let second_config = config_for("second");
    let sub = broker.subscribe("headcount/lock/first/occupancy");
    let video = one_by_one();
    let (mut first, _lines) =
        common::spawn_replay(&[video.as_os_str(), "--realtime".as_ref()], &first_config);
    assert!(
        sub.wait_for(Duration::from_secs(60), |_| true),
        "the first sensor did not publish"
    );

    let out = common::replay_one_by_one(&second_config, &[]);
    assert_clean_failure(
        &out,
        1,
        &[
            "in use by another headcount process",
            &state.display().to_string(),
            &format!("pid {}", first.id()),
        ],
        None,
    );
    assert_eq!(
        broker.all_retained("headcount/lock/second/#"),
        Vec::<String>::new(),
        "the refused sensor published"
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first sensor stopped"
    );

    // Once the first has stopped, the dir is free, whatever the lock file still says.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status();
    assert!(first.wait().unwrap().success());
    common::replay_one_by_one_ok(&second_config, &[]);
}

#[test]
fn stdout_closed_by_its_reader() {
    // `headcount replay clip | head -1`, `headcount privacy-report … | head`: the reader goes
    // away. Each command stops with one error line and exit code 1, never a panic. Here stdout is
    // a pipe whose reading end is closed before the command starts, so every write fails.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[sensor]\nsite = \"pipe\"\n");
    let video = one_by_one();
    let commands: [&[&std::ffi::OsStr]; 3] = [
        &["replay".as_ref(), video.as_os_str()],
        &[
            "privacy-report".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
        ],
        &["check-config".as_ref(), config.as_os_str()],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = headcount()
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        let last = stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with("error: ") && last.contains("cannot write to stdout"),
            "{args:?}: {stderr}"
        );
    }

    // Both closed (`… 2>&1 | head -0`): the error has nowhere to go, the exit code still says it.
    let bad = write_config(dir.path(), "[detector]\nthreads = 65\n");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = headcount()
        .arg("check-config")
        .arg(&bad)
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2), "{status:?}");

    // `| head` proper: the reader takes lines up to the first count and leaves while the replay
    // runs; the next count's write fails, and the shutdown after it must not panic either.
    let mut child = headcount()
        .arg("replay")
        .arg(&video)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let read: Vec<String> = lines
        .map_while(Result::ok)
        .take_while(|l| !l.contains("/occupancy"))
        .collect();
    assert!(read[0].contains("online"), "{read:?}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with("cannot write to stdout: Broken pipe (os error 32)"),
        "{stderr}"
    );
}

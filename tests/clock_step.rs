//! A sensor whose system clock is stepped while it runs, as NTP's first sync does on a board
//! without a real-time clock (a Raspberry Pi, the Coral Dev Board): the published `ts` must
//! follow the new time instead of staying off by the step until the next restart.
//!
//! The clock is moved with libfaketime (Debian's `faketime`, installed by `scripts/setup.sh`):
//! preloaded into `headcount`, it reads the fake time from a file on every call, so rewriting
//! the file steps the clock. Monotonic time is left real.

mod common;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{headcount, one_by_one, wait_until, write_config};

/// Debian's libfaketime, wherever the architecture puts it.
fn libfaketime() -> Option<PathBuf> {
    let found = std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .map(|e| e.path().join("faketime/libfaketime.so.1"))
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "libfaketime.so.1 is missing: scripts/setup.sh installs Debian's faketime"
        );
        eprintln!("skipping: libfaketime.so.1 is missing (run scripts/setup.sh)");
    }
    found
}

/// The year of an RFC 3339 `ts`.
fn year(line: &serde_json::Value) -> Option<i64> {
    line["ts"].as_str()?.get(..4)?.parse().ok()
}

#[test]
fn timestamps_follow_a_step_of_the_system_clock() {
    let Some(faketime) = libfaketime() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("faketime.txt");
    // Booted with a clock six years behind.
    std::fs::write(&fake, "@2020-01-01 12:00:00\n").unwrap();
    // libfaketime shares its clock with the ffmpeg children through semaphores in /dev/shm,
    // and the children run inside headcount's Landlock domain, which lets them write only in
    // the state dir: so this sensor's state dir is /dev/shm (it keeps only its lock there).
    let config = write_config(
        dir.path(),
        "[mqtt]\ninterval_s = 1\n[detector]\nruntime = \"litert\"\n[state]\ndir = \"/dev/shm\"\n",
    );
    let mut child = headcount()
        .arg("replay")
        .arg(one_by_one())
        .arg("--realtime")
        .arg("--config")
        .arg(&config)
        .env("LD_PRELOAD", &faketime)
        .env("FAKETIME_TIMESTAMP_FILE", &fake)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let occupancy = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let sink = Arc::clone(&occupancy);
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("/occupancy\"") {
                if let Ok(v) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        }
    });
    let seen = |n: usize| occupancy.lock().unwrap().len() >= n;
    assert!(
        wait_until(Duration::from_secs(60), || seen(2)),
        "no occupancy"
    );
    let before = occupancy.lock().unwrap().len();
    // NTP's first sync: the clock jumps to the real time.
    std::fs::write(&fake, "+0\n").unwrap();
    let now_year = humantime_year(SystemTime::now());
    let followed = wait_until(Duration::from_secs(30), || {
        occupancy.lock().unwrap()[before..]
            .iter()
            .any(|m| year(m) == Some(now_year))
    });
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let messages = occupancy.lock().unwrap().clone();
    let years: Vec<Option<i64>> = messages.iter().map(year).collect();
    assert!(
        years[..before].iter().all(|y| *y == Some(2020)),
        "{years:?}"
    );
    assert!(
        followed,
        "ts stayed on the old clock after the step: {years:?}"
    );
    // Once followed, it stays on the new clock; nothing goes back.
    let first_new = years.iter().position(|y| *y == Some(now_year)).unwrap();
    assert!(
        years[first_new..].iter().all(|y| *y == Some(now_year)),
        "{years:?}"
    );
    assert!(stderr.contains("the system clock moved"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_file("/dev/shm/headcount.lock");
}

/// The UTC year of `at`.
fn humantime_year(at: SystemTime) -> i64 {
    humantime::format_rfc3339_seconds(at).to_string()[..4]
        .parse()
        .unwrap()
}

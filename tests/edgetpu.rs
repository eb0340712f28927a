//! The Edge TPU path without a TPU: the suite builds a stub `libedgetpu.so.1` (exporting
//! libedgetpu's C entry points and the external-delegate plugin ones) from
//! `tests/fixtures/edgetpu-stub/edgetpu_stub.c` against the TF 2.9 C headers, then runs the real
//! daemon with it. The stub claims every `edgetpu-custom-op` node and writes zeros (the real value
//! 0.0) into its outputs, so results are deterministic; it appends what it did to a log file.
//! The Edge TPU model is YOLOv5n's `_edgetpu` twin (GPL: read from ../shared, never committed).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{headcount, root, run_with_timeout, write_config};

/// Compiles the stub into `dir/libedgetpu.so.1`.
fn build_stub(dir: &Path) -> PathBuf {
    let out = dir.join("libedgetpu.so.1");
    let status = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-I"])
        .arg(root().join(".runtime/include"))
        .arg("-o")
        .arg(&out)
        .arg(root().join("tests/fixtures/edgetpu-stub/edgetpu_stub.c"))
        .status()
        .expect("gcc (scripts/setup.sh installs it)");
    assert!(status.success(), "the stub libedgetpu did not build");
    out
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The last `health` message's field.
    fn health(&self, key: &str) -> serde_json::Value {
        self.stdout
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["topic"].as_str().is_some_and(|t| t.ends_with("/health")))
            .map(|v| v[key].clone())
            .unwrap_or_default()
    }

    fn count(&self) -> Option<u64> {
        common::first_occupancy_count(&self.stdout)
    }
}

fn replay(dir: &Path, detector: &str, env: &[(&str, &str)]) -> Option<Run> {
    let model = common::shared("models/yolov5n/yolov5n-int8.tflite")?;
    common::shared("models/yolov5n/yolov5n-int8_edgetpu.tflite")?;
    let image = common::shared("images/zidane.jpg")?;
    let state = dir.join("state");
    let config = write_config(
        dir,
        &format!(
            "[detector]\nmodel = \"{}\"\nthreshold = 0.4\n{detector}\n[state]\ndir = \"{}\"\n",
            model.display(),
            state.display()
        ),
    );
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(&image)
        .arg("--config")
        .arg(&config)
        .env("HEADCOUNT_LOG", "info")
        .env_remove("EDGETPU_STUB_DEVICES")
        .env_remove("LD_LIBRARY_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run_with_timeout(cmd, Duration::from_secs(120));
    Some(Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[test]
fn the_delegate_is_found_and_runs_the_edgetpu_twin() {
    let dir = tempfile::tempdir().unwrap();
    let stub_dir = dir.path().join("lib");
    std::fs::create_dir_all(&stub_dir).unwrap();
    build_stub(&stub_dir);
    // The log lives in the state dir: the sandbox lets the daemon (and the delegate it loaded)
    // write nowhere else.
    let log = dir.path().join("state/stub.log");
    let lib_path = stub_dir.display().to_string();
    let log_path = log.display().to_string();
    // Found by name (`libedgetpu.so.1`) through the loader's search path, as on a Coral install.
    let Some(run) = replay(
        dir.path(),
        "accelerator = \"edgetpu\"\nedgetpu_device = \"usb\"",
        &[
            ("LD_LIBRARY_PATH", &lib_path),
            ("EDGETPU_STUB_LOG", &log_path),
        ],
    ) else {
        return;
    };
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.health("accelerator"), "edgetpu", "{}", run.stdout);
    assert_eq!(run.health("frames"), 1);
    // The stub's outputs are zeros: nobody detected, deterministically.
    assert_eq!(run.count(), Some(0), "{}", run.stdout);
    let said = std::fs::read_to_string(&log).expect("the stub delegate was created and destroyed");
    assert_eq!(said.trim(), "claimed 1 invoked 1 device usb", "{said}");
    assert!(
        run.stderr.contains("yolov5n-int8_edgetpu.tflite"),
        "{}",
        run.stderr
    );
}

/// `runtime = "auto"` (the default) with a TPU, libedgetpu and the `_edgetpu` twin all there:
/// the Edge TPU on TF 2.9, said in `health`.
#[test]
fn runtime_auto_takes_the_edge_tpu_when_everything_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let stub = build_stub(dir.path());
    let Some(run) = replay(
        dir.path(),
        &format!("edgetpu_library = \"{}\"", stub.display()),
        &[],
    ) else {
        return;
    };
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.health("accelerator"), "edgetpu", "{}", run.stdout);
    assert_eq!(run.health("runtime"), "tflite", "{}", run.stdout);
}

#[test]
fn auto_falls_back_to_the_cpu_model_when_libedgetpu_or_the_tpu_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    // No library at all.
    let Some(run) = replay(
        dir.path(),
        "accelerator = \"auto\"\nedgetpu_library = \"/nonexistent/libedgetpu.so.1\"",
        &[],
    ) else {
        return;
    };
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.health("accelerator"), "cpu");
    // No TPU: `runtime = "auto"` runs the fast CPU runtime.
    assert_eq!(run.health("runtime"), "litert", "{}", run.stdout);
    assert_eq!(
        run.count(),
        Some(2),
        "the CPU model really ran: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("Edge TPU not used") && run.stderr.contains("libedgetpu"),
        "why is logged: {}",
        run.stderr
    );
    // The library is there but no TPU is plugged in.
    let stub = build_stub(dir.path());
    let Some(run) = replay(
        dir.path(),
        &format!(
            "accelerator = \"auto\"\nedgetpu_library = \"{}\"",
            stub.display()
        ),
        &[("EDGETPU_STUB_DEVICES", "")],
    ) else {
        return;
    };
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.health("accelerator"), "cpu");
    assert!(run.stderr.contains("no Edge TPU"), "{}", run.stderr);
}

#[test]
fn an_explicit_edgetpu_that_cannot_be_honoured_fails_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let stub = build_stub(dir.path());
    let cases = [
        (
            "edgetpu_library = \"/nonexistent/libedgetpu.so.1\"".to_string(),
            vec![],
            "libedgetpu1-std",
        ),
        (
            format!("edgetpu_library = \"{}\"", stub.display()),
            vec![("EDGETPU_STUB_DEVICES", "")],
            "no Edge TPU found",
        ),
        (
            format!(
                "edgetpu_library = \"{}\"\nedgetpu_device = \"pci\"",
                stub.display()
            ),
            vec![("EDGETPU_STUB_DEVICES", "usb")],
            "no Edge TPU \"pci\"",
        ),
    ];
    for (extra, env, expect) in cases {
        let Some(run) = replay(
            dir.path(),
            &format!("accelerator = \"edgetpu\"\n{extra}"),
            &env,
        ) else {
            return;
        };
        assert_eq!(run.code, Some(1), "{extra}: {}", run.stderr);
        let last = run.stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with("error: detector.accelerator = \"edgetpu\": ")
                && last.contains(expect),
            "{extra}: {}",
            run.stderr
        );
        assert!(
            !run.stdout.contains("occupancy"),
            "nothing counted: {}",
            run.stdout
        );
    }
}

#[test]
fn devices_lists_edge_tpus_through_libedgetpu_or_says_none() {
    let dir = tempfile::tempdir().unwrap();
    let stub = build_stub(dir.path());
    let mut cmd = headcount();
    cmd.arg("devices")
        .arg("--edgetpu-library")
        .arg(&stub)
        .env("EDGETPU_STUB_DEVICES", "usb,pci,usb");
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("usb:0  /sys/bus/usb/devices/2-1"),
        "{stdout}"
    );
    assert!(stdout.contains("pci:0  /dev/apex_0"), "{stdout}");
    assert!(stdout.contains("usb:1"), "{stdout}");
    assert!(stdout.contains("cameras:"), "{stdout}");
    let mut cmd = headcount();
    cmd.arg("devices")
        .arg("--edgetpu-library")
        .arg("/nonexistent/libedgetpu.so.1");
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("edge tpus: none found"), "{stdout}");
}

/// libusb (how libedgetpu reaches a Coral USB) under the shipped unit's own filters
/// (`scripts/unit-seccomp.py`): `libusb_init` opens a kernel uevent (netlink) socket and fails
/// with LIBUSB_ERROR_OTHER (-99) where the unit's `RestrictAddressFamilies=` refuses AF_NETLINK.
/// With no USB device here this is as far as it can be checked: libusb starts.
#[test]
fn libusb_starts_under_the_shipped_units_filters() {
    let init = "import ctypes, sys\n\
                lib = ctypes.CDLL('libusb-1.0.so.0')\n\
                ctx = ctypes.c_void_p()\n\
                r = lib.libusb_init(ctypes.byref(ctx))\n\
                print('libusb_init', r)\n";
    let under = |unit: &Path| {
        let out = Command::new(root().join("scripts/unit-seccomp.py"))
            .arg(unit)
            .args(["--", "/usr/bin/python3", "-c", init])
            .output()
            .expect("scripts/unit-seccomp.py (scripts/setup.sh installs what it needs)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let shipped = root().join("deploy/headcount.service");
    assert_eq!(under(&shipped), "libusb_init 0");
    // The same unit without AF_NETLINK: the filter bites, libusb cannot start.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&shipped).unwrap();
    assert!(text.contains("\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"));
    let unit = dir.path().join("headcount.service");
    std::fs::write(&unit, text.replace(" AF_NETLINK\n", "\n")).unwrap();
    assert_eq!(under(&unit), "libusb_init -99");
}

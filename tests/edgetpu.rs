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

/// A Coral owner with the bundled model and no `_edgetpu` twin installed is told exactly what is
/// missing (Coral's file name, where it is published, its content id) by `devices`, by
/// `check-config` (a warning) and at start-up (a warning); nothing is said when no TPU is there
/// or the config keeps to the CPU.
#[test]
fn a_tpu_without_the_bundled_models_twin_is_named_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let stub = build_stub(dir.path());
    let twin = root().join("models/ssd_mobilenet_v1_coco_quant/detect_edgetpu.tflite");
    assert!(!twin.exists(), "the twin is not committed");
    let names_the_twin = |text: &str| {
        text.contains("ssd_mobilenet_v1_coco_quant_postprocess_edgetpu.tflite")
            && text.contains("https://github.com/google-coral/test_data/raw/")
            && text.contains("07721d3949bd8f5a78b76e57fe3fafcf09207785")
            && text.contains("detect_edgetpu.tflite")
    };

    let mut cmd = headcount();
    cmd.arg("devices").arg("--edgetpu-library").arg(&stub);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains("edge tpu model (bundled SSD): MISSING"),
        "{stdout}"
    );
    assert!(names_the_twin(&stdout), "{stdout}");

    // (config [detector] lines, EDGETPU_STUB_DEVICES, warned)
    let cases = [
        ("", None, true),
        ("", Some(""), false),
        ("accelerator = \"cpu\"\n", None, false),
        ("runtime = \"litert\"\n", None, false),
    ];
    for (detector, devices, warned) in cases {
        let config = write_config(
            dir.path(),
            &format!(
                "[detector]\nedgetpu_library = \"{}\"\n{detector}",
                stub.display()
            ),
        );
        let mut cmd = headcount();
        cmd.arg("check-config").arg(&config);
        if let Some(d) = devices {
            cmd.env("EDGETPU_STUB_DEVICES", d);
        }
        let out = run_with_timeout(cmd, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            stderr.contains("an Edge TPU is present but would not be used"),
            warned,
            "{detector} {devices:?}: {stderr}"
        );
        assert_eq!(names_the_twin(&stderr), warned, "{stderr}");
    }

    // At start-up: a replay with the stub's one TPU runs on the CPU and says why.
    let config = write_config(
        dir.path(),
        &format!("[detector]\nedgetpu_library = \"{}\"\n", stub.display()),
    );
    let mut cmd = headcount();
    cmd.arg("replay")
        .arg(common::one_by_one_first(dir.path(), 2))
        .arg("--config")
        .arg(&config)
        .args(["--quiet"]);
    let out = run_with_timeout(cmd, Duration::from_secs(300));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("an Edge TPU is present but unused; running on the CPU"),
        "{stderr}"
    );
    assert!(names_the_twin(&stderr), "{stderr}");
}

/// `headcount-get-edgetpu-model` (shipped in the .deb) installs a twin only when its content id
/// is the recorded one, and records the same address and id as `headcount devices` prints.
#[test]
fn the_twin_installer_checks_the_content_before_installing() {
    let script = root().join("deploy/headcount-get-edgetpu-model");
    let text = std::fs::read_to_string(&script).unwrap();
    let twin = headcount::detect::edgetpu::BUNDLED_TWIN;
    assert!(text.contains(twin.url) && text.contains(twin.git_blob));
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let download = dir.path().join("twin.tflite");
    std::fs::write(&download, b"TFL3 not Coral's model\0\x01\x02").unwrap();
    let id = Command::new("git")
        .args(["hash-object"])
        .arg(&download)
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
    assert_eq!(id.len(), 40);
    let run = |want: Option<&str>| {
        let mut cmd = Command::new(&script);
        cmd.env(
            "HEADCOUNT_TWIN_URL",
            format!("file://{}", download.display()),
        )
        .env("HEADCOUNT_MODEL_DIR", &models);
        if let Some(w) = want {
            cmd.env("HEADCOUNT_TWIN_ID", w);
        }
        cmd.output().unwrap()
    };
    // Coral's id against other bytes: refused, nothing installed.
    let out = run(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("has id {id}, not {}", twin.git_blob)),
        "{stderr}"
    );
    assert!(!models.join("detect_edgetpu.tflite").exists());
    // The bytes' own id: installed where `runtime = "auto"` looks.
    let out = run(Some(&id));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(models.join("detect_edgetpu.tflite")).unwrap(),
        std::fs::read(&download).unwrap()
    );
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

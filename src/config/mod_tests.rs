//! Config tests: loading, relative paths, the effective config `check-config` prints.

use super::*;

#[test]
fn defaults_are_valid() {
    Config::default().validate().unwrap();
}

#[test]
fn unknown_key_is_named_with_the_allowed_ones() {
    let err = Config::parse("[detector]\nthreshhold = 0.4\n").unwrap_err();
    assert!(err.contains("threshhold"), "{err}");
    assert!(err.contains("threshold"), "{err}");
    assert!(err.starts_with("line 2, key detector.threshhold:"), "{err}");
    let err = Config::parse("[nonsense]\n").unwrap_err();
    assert!(err.contains("nonsense") && err.contains("sensor"), "{err}");
}

#[test]
fn wrong_type_names_the_key() {
    let err = Config::parse("[detector]\nthreads = \"two\"\n").unwrap_err();
    assert!(err.contains("line 2, key detector.threads:"), "{err}");
    let err = Config::parse("[source]\nkind = \"webcam\"\n").unwrap_err();
    assert!(err.contains("webcam") && err.contains("video"), "{err}");
}

#[test]
fn relative_paths_follow_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.toml");
    std::fs::write(
        &path,
        "[detector]\nmodel = \"m/detect.tflite\"\n[source]\nurl = \"rtsp://cam/1\"\n",
    )
    .unwrap();
    let c = Config::load(&path).unwrap();
    assert_eq!(
        Path::new(&c.detector.model),
        dir.path().join("m/detect.tflite")
    );
    assert_eq!(c.source.url, "rtsp://cam/1");
}

#[test]
fn the_effective_config_never_shows_a_stream_password() {
    let mut c = Config::default();
    c.source.url = "rtsp://admin:s3cret-pw@10.0.0.5:554/stream1".into();
    let shown = c.to_toml();
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(shown.contains("rtsp://***@10.0.0.5:554/stream1"), "{shown}");
}

#[test]
fn effective_config_round_trips() {
    let c = Config::default();
    assert_eq!(Config::parse(&c.to_toml()).unwrap(), c);
    let typed = "[counting]\nline_band = 0.015\n[[counting.zones]]\nname = \"desk\"\n\
                 polygon = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.9]]\n";
    let c = Config::parse(typed).unwrap();
    let shown = c.to_toml();
    assert_eq!(Config::parse(&shown).unwrap(), c);
    // f32 settings as typed, not widened to f64 (0.014999999664723873).
    for line in [
        "line_band = 0.015",
        "track_iou = 0.2",
        "nms_containment = 0.7",
    ] {
        assert!(shown.lines().any(|l| l == line), "{line} not in\n{shown}");
    }
    assert!(
        shown.contains("polygon = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.9]]"),
        "{shown}"
    );
    // Keys in the order of the documentation, not sorted.
    assert!(shown.find("[sensor]") < shown.find("[detector]"), "{shown}");
}

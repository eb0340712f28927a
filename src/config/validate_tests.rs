//! Config validation tests: each invalid key is named with its allowed values.

use super::*;

/// The validation error of a config that parses but must be refused.
fn refused(toml: &str) -> String {
    Config::parse(toml)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string()
}

#[test]
fn out_of_range_values_name_the_key_and_range() {
    let e = refused("[detector]\nthreshold = 1.5\n");
    assert!(
        e.contains("detector.threshold") && e.contains("1.5") && e.contains("<= 1"),
        "{e}"
    );
    let e = refused("[counting]\nsmoothing_frames = 0\n");
    assert!(
        e.contains("counting.smoothing_frames") && e.contains("1..=255"),
        "{e}"
    );
    for (toml, key, allowed) in [
        (
            "[detector]\ntile_columns = 5\n",
            "detector.tile_columns",
            "1..=4",
        ),
        ("[detector]\ntile_rows = 0\n", "detector.tile_rows", "1..=4"),
        (
            "[source]\ndecoder_threads = 65\n",
            "source.decoder_threads",
            "0 (auto: the cores inference leaves) or 1..=64",
        ),
        (
            "[counting]\ntrack_low_score = 0.0\n",
            "counting.track_low_score",
            "0 < track_low_score <= 1",
        ),
        (
            "[counting]\nappearance_weight = -1.0\n",
            "counting.appearance_weight",
            "0 (off) ..=10",
        ),
        (
            "[counting]\nline_band_height = 0.6\n",
            "counting.line_band_height",
            "0 (off: counting.line_band applies) ..=0.5",
        ),
        (
            "[counting]\nline_return_s = 6.0\n",
            "counting.line_return_s",
            "0 (off: every crossing counts at once) ..=5 seconds",
        ),
        (
            "[counting]\nappearance_weight = nan\n",
            "counting.appearance_weight",
            "0 (off) ..=10",
        ),
    ] {
        let e = refused(toml);
        assert!(e.contains(key) && e.contains(allowed), "{e}");
    }
    assert!(refused("[sensor]\nname = \"a/#\"\n").contains("sensor.name"));
}

#[test]
fn accelerator_keys() {
    for ok in ["", "usb", "pci", "usb:0", "pci:1", ":0"] {
        let c = Config::parse(&format!("[detector]\nedgetpu_device = \"{ok}\"\n")).unwrap();
        c.validate().unwrap();
    }
    let e = refused("[detector]\nedgetpu_device = \"firewire\"\n");
    assert!(
        e.contains("detector.edgetpu_device") && e.contains("usb:N"),
        "{e}"
    );
    let e = refused("[detector]\naccelerator = \"edgetpu\"\nruntime = \"litert\"\n");
    assert!(
        e.contains("detector.accelerator") && e.contains("tflite"),
        "{e}"
    );
    let e = Config::parse("[detector]\naccelerator = \"tpu\"\n").unwrap_err();
    assert!(e.contains("edgetpu") && e.contains("auto"), "{e}");
}

#[test]
fn broker_urls() {
    let mut c = Config::default();
    assert_eq!(c.broker().unwrap(), None);
    c.mqtt.url = "mqtt://127.0.0.1:18830".into();
    assert_eq!(
        c.broker().unwrap(),
        Some(BrokerAddr {
            host: "127.0.0.1".into(),
            port: 18830,
            tls: false,
        })
    );
    c.mqtt.url = "mqtt://broker.lan".into();
    assert_eq!(c.broker().unwrap().unwrap().port, 1883);
    c.mqtt.url = "mqtt://[::1]:1884".into();
    assert_eq!(c.broker().unwrap().unwrap().host, "::1");
    c.mqtt.url = "mqtts://broker.lan".into();
    let b = c.broker().unwrap().unwrap();
    assert_eq!((b.port, b.tls), (8883, true));
    for bad in [
        "http://x",
        "wss://x",
        "127.0.0.1:1883",
        "mqtt://x:99999",
        "mqtt://:1883",
        "mqtt://u@x",
        "mqtt://::1",
        "mqtt://host:1883:1883",
        "mqtt://[::1",
        "mqtt://h o s t",
        "mqtt://x/topic",
        "mqtt://x?a=b",
        "mqtt://x:0",
    ] {
        c.mqtt.url = bad.into();
        let e = c.broker().unwrap_err().to_string();
        assert!(e.contains("mqtt.url"), "{bad}: {e}");
    }
}

#[test]
fn broker_lists_name_the_nodes_of_a_cluster() {
    let mut c = Config::default();
    assert!(c.brokers().unwrap().is_empty());
    c.mqtt.url = "mqtt://10.0.0.1:1883, mqtt://10.0.0.2:1884 ,mqtt://node-3".into();
    let all = c.brokers().unwrap();
    let ports: Vec<u16> = all.iter().map(|b| b.port).collect();
    assert_eq!(ports, [1883, 1884, 1883]);
    assert_eq!(all[2].host, "node-3");
    assert_eq!(c.broker().unwrap().unwrap().host, "10.0.0.1");
    c.validate().unwrap();
    for (bad, says) in [
        ("mqtt://a,mqtts://b", "all mqtt://"),
        ("mqtt://a,", "empty broker URL"),
        ("mqtt://a,,mqtt://b", "empty broker URL"),
        ("mqtt://a,http://b", "scheme"),
    ] {
        c.mqtt.url = bad.into();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("mqtt.url") && e.contains(says), "{bad}: {e}");
    }
    c.mqtt.url = vec!["mqtt://n"; 17].join(",");
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("at most 16"), "{e}");
}

#[test]
fn values_the_readme_does_not_allow_are_refused_naming_the_key() {
    let mut c = Config::default();
    c.privacy.min_count = 1;
    let e = c.validate().unwrap_err().to_string();
    assert!(
        e.contains("privacy.min_count") && e.contains("2..=100"),
        "{e}"
    );
    let mut c = Config::default();
    c.state.dir = " ".into();
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("state.dir"), "{e}");
    for text in [
        "[privacy]\n[[privacy.masks]]\npolygon = [[0, 0], [1, 0], [1, 1, 0.5]]\n",
        "[[counting.lines]]\nname = \"door\"\nfrom = [0.5, 0, 0]\nto = [0.5, 1]\n",
        "[[counting.zones]]\nname = \"desk\"\npolygon = [[0, 0], [1], [1, 1]]\n",
    ] {
        let e = Config::parse(text).unwrap_err();
        assert!(e.contains("a point is [x, y]"), "{text}: {e}");
    }
}

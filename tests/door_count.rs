//! A door-only sensor (`counting.occupancy = "in_minus_out"`) on the committed one-by-one clip,
//! run twice as a restarted daemon would be: the people counted in by the first run are still
//! inside when the second starts, because the count is kept in the state dir.

mod common;

use common::{occupancy_messages, replay_one_by_one, replay_one_by_one_ok, write_config};

/// `replay --json` of the clip; the printed occupancy counts, in order.
fn replay_counts(config: &std::path::Path) -> Vec<u64> {
    let out = replay_one_by_one_ok(config, &["--json"]);
    occupancy_messages(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .filter_map(|m| m["count"].as_u64())
        .collect()
}

#[test]
fn the_door_count_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    // The doorway line of the MQTT test: six people walk in, one at a time, nobody out. LiteRT
    // (XNNPACK) because it is seven times faster here than TF 2.9, and 5 of the clip's 10 frames
    // a second (the same counts, half the inference: measured 0 1 2 3 4 5 6 at both rates).
    let config = write_config(
        dir.path(),
        &format!(
            "[source]\nfps = 5\n[detector]\nruntime = \"litert\"\n[counting]\noccupancy = \"in_minus_out\"\nsmoothing_frames = 1\n\
             [[counting.lines]]\nname = \"door\"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n\
             [state]\ndir = \"{}\"\n",
            state.display()
        ),
    );
    let record = state.join(headcount::count::door_store::DOOR_FILE);

    let first = replay_counts(&config);
    assert_eq!(first.first(), Some(&0), "{first:?}");
    assert_eq!(first.last(), Some(&6), "{first:?}");
    // One at a time, never down (the last message is the end-of-stream flush).
    assert!(first.windows(2).all(|w| w[1] - w[0] <= 1), "{first:?}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record).unwrap()).unwrap();
    assert_eq!(kept["count"], 6, "{kept}");

    // Restarted (the same counting day: no daily reset is set), it starts from six.
    let second = replay_counts(&config);
    assert_eq!(second.first(), Some(&6), "{second:?}");
    assert_eq!(second.last(), Some(&12), "{second:?}");

    // A record the daemon cannot read stops it at start, before anything is published, with an
    // error naming the file; the file is left as it was.
    std::fs::write(&record, "{\"count\": 12, \"da").unwrap();
    let out = replay_one_by_one(&config, &["--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("door-count.json") && err.contains("delete"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is published: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        "{\"count\": 12, \"da"
    );
}

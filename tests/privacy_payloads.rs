//! Privacy in what is published, end to end through a real broker: masked areas count nobody,
//! small counts are banded, time is binned, differential privacy spends a persisted daily budget,
//! and every payload says which of these apply.

mod common;

use std::collections::HashMap;

use common::privacy::{occupancy, replay_and_record, sensor_config, statements};
use common::{write_config, Broker};

#[test]
fn masking_the_walkway_drops_the_count_to_zero() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let fast = "[source]\nfps = 2\n[counting]\nsmoothing_frames = 3\n";
    // Control: masking the window top left (nobody walks there) keeps all six entries.
    let window = write_config(
        dir.path(),
        &sensor_config(
            &broker,
            "window",
            &format!(
                "{fast}[[privacy.masks]]\nname = \"window\"\n\
                 polygon = [[0.0, 0.0], [0.15, 0.0], [0.15, 0.45], [0.0, 0.45]]\n"
            ),
        ),
    );
    let control = occupancy(&replay_and_record(&broker, "window", &window));
    let entries = control
        .windows(2)
        .filter(|w| w[0].count.value() == Some(0) && w[1].count.value() == Some(1))
        .count();
    assert_eq!(entries, 6, "control run should see six entries");

    // The walkway and the desk where people stand, blacked out before inference.
    let walkway = write_config(
        dir.path(),
        &sensor_config(
            &broker,
            "walkway",
            &format!(
                "{fast}[[privacy.masks]]\nname = \"walkway\"\n\
                 polygon = [[0.2, 0.0], [1.0, 0.0], [1.0, 1.0], [0.2, 1.0]]\n"
            ),
        ),
    );
    let messages = replay_and_record(&broker, "walkway", &walkway);
    let masked = occupancy(&messages);
    assert!(!masked.is_empty());
    for p in &masked {
        assert_eq!(p.max.as_ref().and_then(|m| m.value()), Some(0), "{p:?}");
    }
    let statement = statements(&messages).remove(0);
    assert_eq!(statement.masks, 1);
    assert_eq!(statement.image_output, "none");
}

#[test]
fn safeguards_band_small_counts_and_bin_time() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &sensor_config(
            &broker,
            "bands",
            "[source]\nfps = 2\n[counting]\nsmoothing_frames = 3\n\
             [privacy]\nmin_count = 2\ntime_resolution_s = 20\n",
        ),
    );
    let messages = replay_and_record(&broker, "bands", &config);
    let payloads = occupancy(&messages);
    assert!(payloads.len() >= 5, "{payloads:?}");
    let mut values = HashMap::new();
    for p in &payloads {
        // Bin-aligned whole seconds: nothing reveals when within a bin someone arrived.
        let ts = humantime::parse_rfc3339(&p.ts).unwrap();
        let secs = ts.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs % 20, 0, "{p:?}");
        for v in [Some(&p.count), p.min.as_ref(), p.max.as_ref()]
            .into_iter()
            .flatten()
        {
            *values.entry(serde_json::to_string(v).unwrap()).or_insert(0) += 1;
        }
    }
    // One person in view is published as "<2", never as 1.
    assert!(values.contains_key("\"<2\""), "{values:?}");
    assert!(!values.contains_key("1"), "{values:?}");
    let statement = statements(&messages).remove(0);
    assert_eq!(statement.safeguards.min_count, 2);
    assert_eq!(statement.safeguards.time_resolution_s, 20);
}

#[test]
fn differential_privacy_spends_a_persisted_daily_budget() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let config = write_config(
        dir.path(),
        &sensor_config(
            &broker,
            "dp",
            &format!(
                "[source]\nfps = 1\n[counting]\nsmoothing_frames = 3\n\
                 [privacy]\ntime_resolution_s = 10\ndp_epsilon_per_day = 0.5\n\
                 dp_epsilon_per_release = 0.1\ndp_max_noise = 50\n[state]\ndir = \"{}\"\n",
                state.display()
            ),
        ),
    );
    let messages = replay_and_record(&broker, "dp", &config);
    let payloads = occupancy(&messages);
    // 0.5 per day at 0.1 per release: five releases, then silence.
    assert_eq!(payloads.len(), 5, "{payloads:?}");
    for p in &payloads {
        assert_eq!(p.dp_epsilon, Some(0.1));
        assert!(
            p.min.is_none() && p.max.is_none() && p.mean.is_none(),
            "{p:?}"
        );
    }
    let statements = statements(&messages);
    let last = statements.last().unwrap();
    assert_eq!(last.safeguards.dp_budget_remaining, Some(0.0));
    // The noise is stated: scale 1/0.1 = 10 people, 95 % within 10 · ln 20.
    assert_eq!(last.safeguards.dp_noise_95, Some(29.96));
    // A restart does not refill the budget: nothing more today.
    let again = occupancy(&replay_and_record(&broker, "dp", &config));
    assert!(again.is_empty(), "{again:?}");
}

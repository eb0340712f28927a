//! Any bytes in, no panic: the config loader and the store-and-forward queue's reader, fed
//! random input by `proptest`. The loader answers with a config or a clear error (naming the
//! file, and the key when one is at fault); the queue keeps every record that parses, in
//! order, and sets the rest aside.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use headcount::config::Config;
use headcount::publish::outbox::{Outbox, FILE_NAME};
use proptest::prelude::*;

/// Keys a config may hold, with values of every shape (so both the parser and the range
/// checks are reached).
const KEYS: &[(&str, &str)] = &[
    ("sensor", "site"),
    ("sensor", "name"),
    ("source", "fps"),
    ("source", "url"),
    ("detector", "threshold"),
    ("detector", "threads"),
    ("detector", "runtime"),
    ("counting", "smoothing_frames"),
    ("counting", "line_band"),
    ("mqtt", "url"),
    ("mqtt", "interval_s"),
    ("mqtt", "username"),
    ("privacy", "min_count"),
    ("privacy", "time_resolution_s"),
    ("privacy", "dp_epsilon_per_day"),
    ("state", "dir"),
    ("bogus", "key"),
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "[ -~]{0,20}".prop_map(|s| format!("{s:?}")),
        Just("[[0, 0], [1, 0, 2]]".to_string()),
        Just("true".to_string()),
        Just("\"mqtt://[::1\"".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_config_file_give_a_config_or_a_clear_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = Config::load(&path) {
            let message = e.to_string();
            prop_assert!(message.contains("config") && !message.is_empty(), "{message}");
        }
    }

    #[test]
    fn any_values_for_known_keys_give_a_config_or_an_error_naming_the_key(
        entries in proptest::collection::vec((0..KEYS.len(), value()), 1..6)
    ) {
        let mut text = String::new();
        for (i, v) in &entries {
            let (table, key) = KEYS[*i];
            text.push_str(&format!("[{table}]\n{key} = {v}\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, &text).unwrap();
        if let Err(e) = Config::load(&path) {
            let message = e.to_string();
            let named = entries.iter().any(|(i, _)| {
                let (table, key) = KEYS[*i];
                message.contains(key) || message.contains(table)
            });
            prop_assert!(named || message.contains("duplicate"), "{text}\n=> {message}");
        }
    }

    #[test]
    fn any_bytes_in_the_queue_file_keep_every_record_that_parses(
        lines in proptest::collection::vec(
            prop_oneof![
                Just(None),
                proptest::collection::vec(any::<u8>(), 0..80).prop_map(Some),
            ],
            0..30,
        )
    ) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            match line {
                None => {
                    let topic = format!("t/{n}");
                    bytes.extend_from_slice(
                        format!("{{\"topic\":\"{topic}\",\"payload\":\"{{}}\",\"queued\":{now}}}\n").as_bytes(),
                    );
                    expected.push(topic);
                }
                Some(junk) => {
                    bytes.extend(junk.iter().filter(|&&b| b != b'\n'));
                    bytes.push(b'\n');
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), &bytes).unwrap();
        let q = Outbox::open(Some(dir.path()), 1000, Duration::from_secs(86_400)).unwrap();
        let kept: Vec<String> = (0..q.len()).map(|i| q.get(i).unwrap().topic.clone()).collect();
        // Random bytes that happen to form a record are kept too; the expected ones all are.
        let mut it = kept.iter();
        for topic in &expected {
            prop_assert!(it.any(|k| k == topic), "{topic} lost: {kept:?}");
        }
        // A second start reads back exactly what the first kept, with nothing set aside.
        drop(q);
        let again = Outbox::open(Some(dir.path()), 1000, Duration::from_secs(86_400)).unwrap();
        prop_assert_eq!(again.len(), kept.len());
        prop_assert_eq!(again.damaged(), 0);
    }
}

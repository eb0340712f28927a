//! Payload tests: round trips, the JSON-lines form, and the committed JSON Schemas (`schema/`)
//! naming exactly the fields each payload type emits.

use super::*;

fn sample() -> OccupancyPayload {
    OccupancyPayload {
        schema: SCHEMA_VERSION,
        seq: 3,
        ts: "2026-11-22T10:00:00Z".into(),
        count: Banded::Value(2),
        min: Some(Banded::Band("<3".into())),
        max: Some(Banded::Value(2)),
        mean: Some(Banded::Value(1.5)),
        window_s: 12.0,
        dp_epsilon: None,
        reliable: None,
    }
}

#[test]
fn occupancy_round_trips_and_rejects_extra_fields() {
    let m = Message::Occupancy(sample());
    let bytes = m.payload();
    let back: OccupancyPayload = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back, sample());
    let extra = r#"{"schema":1,"seq":1,"ts":"x","count":1,"min":1,"max":1,"mean":1.0,"window_s":1.0,"boxes":[]}"#;
    assert!(serde_json::from_str::<OccupancyPayload>(extra).is_err());
}

#[test]
fn json_line_carries_topic_and_fields() {
    let line = Message::Occupancy(sample()).json_line("headcount/hq/r1");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["topic"], "headcount/hq/r1/occupancy");
    assert_eq!(v["count"], 2);
    let line = Message::Availability(Availability::Online).json_line("headcount/hq/r1");
    assert_eq!(
        line,
        r#"{"payload":"online","topic":"headcount/hq/r1/availability"}"#
    );
    assert_eq!(
        Message::Availability(Availability::Offline).payload(),
        b"offline"
    );
}

/// The committed JSON Schema (`text`) and a fully populated payload (`value`) name the same
/// fields, the schema allows no others, and every required field is emitted.
fn assert_schema_matches(text: &str, value: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    let mut declared: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut emitted: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    declared.sort_unstable();
    emitted.sort_unstable();
    assert_eq!(declared, emitted);
    for field in schema["required"].as_array().unwrap() {
        assert!(emitted.contains(&field.as_str().unwrap()), "{field}");
    }
    assert_eq!(schema["properties"]["schema"]["const"], SCHEMA_VERSION);
}

#[test]
fn committed_schema_matches_the_payload_type() {
    let payload = OccupancyPayload {
        schema: SCHEMA_VERSION,
        seq: 1,
        ts: "2026-01-01T00:00:00Z".into(),
        count: Banded::Value(0),
        min: Some(Banded::Value(0)),
        max: Some(Banded::Value(0)),
        mean: Some(Banded::Value(0.0)),
        window_s: 0.0,
        dp_epsilon: Some(0.1),
        reliable: Some(false),
    };
    assert_schema_matches(
        include_str!("../../schema/occupancy.schema.json"),
        &serde_json::to_value(&payload).unwrap(),
    );
}

#[test]
fn committed_line_schema_matches_the_payload_type() {
    let payload = LinePayload {
        schema: SCHEMA_VERSION,
        seq: 1,
        ts: "2026-01-01T00:00:00Z".into(),
        in_total: 3,
        out_total: 1,
        in_delta: 1,
        out_delta: 0,
        epoch: "2026-01-01T00:00:00Z".into(),
        window_s: 60.0,
        reliable: Some(false),
    };
    let value = serde_json::to_value(&payload).unwrap();
    assert_schema_matches(include_str!("../../schema/line.schema.json"), &value);
    assert_eq!(value["in"], 1);
    let line = Message::Line {
        name: "door".into(),
        payload,
    }
    .json_line("headcount/hq/r1");
    assert!(
        line.contains("\"topic\":\"headcount/hq/r1/line/door\""),
        "{line}"
    );
}

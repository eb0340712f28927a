use super::*;

const T0: i64 = 1_800_000_000;

fn site(extra: &str) -> Site {
    let text = format!(
        "[site]\nname = \"hq\"\ndaily_reset = \"00:00\"\nempty_correction_s = 60\n\
         [[site.entrances]]\nsensor = \"door-a\"\nline = \"door\"\n\
         [[site.entrances]]\nsensor = \"door-b\"\nline = \"door\"\n\
         [[site.rooms]]\nsensor = \"room-1\"\ngroup = \"floor-1\"\ncapacity = 8\n{extra}"
    );
    let config = AggregateConfig::parse(&text).unwrap();
    config.validate().unwrap();
    Site::new(&config, Some(0), T0, None)
}

fn msg(sensor: &str, kind: Kind, payload: &str) -> Incoming {
    Incoming {
        sensor: sensor.into(),
        kind,
        payload: payload.as_bytes().to_vec(),
        retained: false,
    }
}

fn line(seq: u64, ts: i64, epoch: i64, i: u64, o: u64) -> String {
    format!(
        r#"{{"schema":1,"seq":{seq},"ts":"{}","in_total":{i},"out_total":{o},"in":0,"out":0,"epoch":"{}","window_s":1.0}}"#,
        rfc3339(ts),
        rfc3339(epoch)
    )
}

fn occupancy(seq: u64, ts: i64, count: u32) -> String {
    format!(
        r#"{{"schema":1,"seq":{seq},"ts":"{}","count":{count},"window_s":1.0}}"#,
        rfc3339(ts)
    )
}

#[test]
fn an_offline_entrance_makes_the_building_incomplete_and_is_named() {
    let mut s = site("");
    for n in ["door-a", "door-b", "room-1"] {
        s.handle(&msg(n, Kind::Availability, "online"), T0);
    }
    let door = Kind::Line("door".into());
    s.handle(
        &msg("door-a", door.clone(), &line(1, T0, T0 - 10, 2, 0)),
        T0,
    );
    s.handle(
        &msg("door-b", door.clone(), &line(1, T0, T0 - 10, 0, 1)),
        T0,
    );
    let b = s.building(1, T0 + 1);
    assert_eq!(
        (b.count.clone(), b.in_total, b.out_total),
        (Banded::Value(1), 2, 1)
    );
    assert!(b.complete, "{b:?}");
    s.handle(&msg("door-b", Kind::Availability, "offline"), T0 + 2);
    let b = s.building(2, T0 + 3);
    assert!(
        !b.complete && b.missing == ["door-b"] && b.sensors == ["door-a"],
        "{b:?}"
    );
    assert_eq!(s.sensors(3, T0 + 3).offline, ["door-b"]);
    // Stale: online, silent past stale_after_s (180 s by default).
    assert_eq!(s.sensors(4, T0 + 200).stale, ["door-a", "room-1"]);
}

#[test]
fn rooms_seen_empty_long_enough_set_the_building_to_zero_once() {
    let mut s = site("");
    for n in ["door-a", "door-b", "room-1"] {
        s.handle(&msg(n, Kind::Availability, "online"), T0);
    }
    let door = Kind::Line("door".into());
    s.handle(
        &msg("door-a", door.clone(), &line(1, T0, T0 - 10, 3, 0)),
        T0,
    );
    s.handle(&msg("room-1", Kind::Occupancy, &occupancy(1, T0, 0)), T0);
    assert!(!s.tick(T0 + 1));
    assert_eq!(s.building(1, T0 + 1).count, Banded::Value(3));
    s.handle(
        &msg("room-1", Kind::Health, &occupancy(2, T0 + 60, 0)),
        T0 + 60,
    );
    assert!(s.tick(T0 + 61), "60 s of empty rooms");
    let b = s.building(2, T0 + 61);
    assert_eq!(b.count, Banded::Value(0));
    assert!(b.corrected.is_some());
    // Someone comes in while the room still reads 0: counted, not corrected away again.
    s.handle(
        &msg("door-a", door, &line(2, T0 + 70, T0 - 10, 4, 0)),
        T0 + 70,
    );
    s.tick(T0 + 71);
    assert_eq!(s.building(3, T0 + 71).count, Banded::Value(1));
    let o = s.occupancy(4, T0 + 71);
    assert_eq!(
        (o.count.clone(), o.capacity, o.groups.len()),
        (Banded::Value(0), 8, 1)
    );
}

#[test]
fn k_banding_hides_small_site_counts_and_history_keeps_the_day() {
    let mut s = site("[privacy]\nmin_count = 3\n");
    s.handle(&msg("door-a", Kind::Availability, "online"), T0);
    let door = Kind::Line("door".into());
    s.handle(&msg("door-a", door, &line(1, T0, T0 - 10, 2, 0)), T0);
    s.tick(T0);
    assert_eq!(s.building(1, T0).count, Banded::Band("<3".into()));
    let h = s.history(2, T0);
    assert_eq!(h.building.last(), Some(&Some(Banded::Band("<3".into()))));
    assert_eq!(h.bin_s, 900);
    // Garbage is counted, never a panic.
    s.handle(&msg("door-a", Kind::Occupancy, "{not json"), T0);
    s.handle(&msg("door-a", Kind::Availability, "maybe"), T0);
    assert_eq!(s.unreadable, 2);
}

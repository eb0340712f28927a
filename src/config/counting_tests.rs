//! `[counting]` tests: zones and lines, out-of-range values (each error names its key and the
//! allowed values), the daily reset's time of day.

use super::super::Config;
use super::*;

fn err(toml: &str) -> String {
    Config::parse(toml)
        .and_then(|c| c.validate().map_err(|e| e.to_string()))
        .unwrap_err()
}

#[test]
fn zones_and_lines_parse_and_validate() {
    let c = Config::parse(
        "[counting]\noccupancy = \"in_minus_out\"\ndaily_reset = \"03:00\"\n\
         [[counting.zones]]\nname = \"desk\"\npolygon = [[0.1,0.2],[0.5,0.2],[0.5,0.9]]\n\
         [[counting.lines]]\nname = \"door\"\nfrom = [0.5, 0.0]\nto = [0.5, 1.0]\n",
    )
    .unwrap();
    c.validate().unwrap();
    assert_eq!(c.counting.occupancy, OccupancyMode::InMinusOut);
    assert_eq!(c.counting.zones[0].polygon.len(), 3);
    assert_eq!(c.counting.lines[0].to, [0.5, 1.0]);
}

#[test]
fn bad_counting_values_name_the_key_and_the_allowed_values() {
    let e = err("[counting]\noccupancy = \"guess\"\n");
    assert!(
        e.contains("counting.occupancy") && e.contains("in_minus_out"),
        "{e}"
    );
    let e = err("[counting]\noccupancy = \"in_minus_out\"\n");
    assert!(
        e.contains("counting.occupancy") && e.contains("counting.lines"),
        "{e}"
    );
    let e = err("[counting]\ndaily_reset = \"3am\"\n");
    assert!(
        e.contains("counting.daily_reset") && e.contains("HH:MM"),
        "{e}"
    );
    let e = err("[[counting.lines]]\nname = \"door\"\nfrom = [0.5, 0.0]\nto = [0.5, 0.0]\n");
    assert!(
        e.contains("counting.lines.from") && e.contains("door"),
        "{e}"
    );
    let e = err("[[counting.zones]]\nname = \"a/b\"\npolygon = [[0,0],[1,0],[1,1]]\n");
    assert!(e.contains("counting.zones.name"), "{e}");
    let e = err(
        "[[counting.zones]]\nname = \"a\"\npolygon = [[0,0],[1,0],[1,1]]\n\
         [[counting.zones]]\nname = \"a\"\npolygon = [[0,0],[1,0],[1,1]]\n",
    );
    assert!(e.contains("each name once"), "{e}");
    let e = err("[[counting.zones]]\nname = \"z\"\npolygon = [[0,0],[2,0],[1,1]]\n");
    assert!(
        e.contains("counting.zones.polygon") && e.contains("0..=1"),
        "{e}"
    );
    let e = err("[counting]\ntrack_iou = 0\n");
    assert!(e.contains("counting.track_iou"), "{e}");
}

#[test]
fn time_of_day() {
    assert_eq!(parse_time_of_day("00:00"), Some(0));
    assert_eq!(parse_time_of_day("23:59"), Some(86_340));
    assert_eq!(parse_time_of_day("24:00"), None);
    assert_eq!(parse_time_of_day("3:00"), None);
}

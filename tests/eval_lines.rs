//! PETS09 accuracy, claim by claim, on four shared evaluations: YOLOv5n (GPL: read from
//! ../shared, never committed) on two tiles with the default NMS and with
//! `examples/pets09-best.toml`'s, and the bundled SSD on twelve tiles
//! (`examples/pets09-ssd.toml`) and on one input. The detector runs once per evaluation; each
//! counting setting a claim compares is a `--compare` section of it, and each claim reads only
//! its own lines, drawn (as its comment says) before or after the setting was tuned. Claims are
//! checked one after another and every failure is reported by name.

mod common;

use common::eval::{
    assert_better_within, assert_summary_matches_lines, at_once, counts_over_ten_percent,
    example_counting, lines_off, pets, pets_with_yolov5n_two_tiles, Claims, Shared,
};
use serde_json::Value;

/// The eight lines of the README's accuracy summary (221 true crossings).
const README_LINES: [&str; 8] = [
    "0.5,0,0.5,1",
    "0.3,0,0.3,1",
    "0.7,0,0.7,1",
    "0,0.5,1,0.5",
    "0,0.4,1,0.4",
    "0,0.6,1,0.6",
    "0,0.3,1,0.7",
    "0.2,0,0.8,1",
];

/// The two middle lines `eval`'s own scoring is checked on (64 true crossings).
const MIDDLE_LINES: [&str; 2] = ["0.5,0,0.5,1", "0,0.5,1,0.5"];

/// Sixteen lines no setting was tuned on (491 true crossings).
const COLOUR_LINES: [&str; 16] = [
    "0.33,0,0.33,1",
    "0.44,0,0.44,1",
    "0.57,0,0.57,1",
    "0.67,0,0.67,1",
    "0.74,0,0.74,1",
    "0,0.43,1,0.43",
    "0,0.49,1,0.49",
    "0,0.54,1,0.54",
    "0,0.59,1,0.59",
    "0.2,0.2,0.8,0.9",
    "0.8,0.1,0.2,0.9",
    "0.4,0,0.6,1",
    "0.6,0,0.4,1",
    "0,0.45,1,0.55",
    "0,0.52,1,0.42",
    "0.5,0.2,0.5,0.9",
];

/// Sixteen lines held out until the band of each person's height was chosen on 80 others
/// (457 true crossings).
const BAND_LINES: [&str; 16] = [
    "0.23,0,0.23,1",
    "0.29,0,0.29,1",
    "0.39,0,0.39,1",
    "0.51,0,0.51,1",
    "0.56,0,0.56,1",
    "0.61,0,0.61,1",
    "0.69,0,0.69,1",
    "0.76,0,0.76,1",
    "0,0.37,1,0.37",
    "0,0.46,1,0.46",
    "0,0.56,1,0.56",
    "0,0.63,1,0.63",
    "0.28,0,0.48,1",
    "0.72,0,0.52,1",
    "0,0.62,1,0.38",
    "0.15,0.25,0.85,0.75",
];

/// The first sixteen of "the 32 lines across the walkway" in docs/accuracy.md, drawn after
/// every setting was chosen (436 true crossings).
const FRESH_WALKWAY_LINES: [&str; 16] = [
    "0.25,0.1,0.07,0.8",
    "0.27,0,0.47,0.8",
    "0.31,0.2,0.54,0.8",
    "0.73,0.1,0.79,0.8",
    "0.36,0.1,0.54,1",
    "0.54,0.2,0.59,1",
    "0.33,0.3,0.39,1",
    "0.22,0.2,0.25,0.8",
    "0.66,0.2,0.57,0.8",
    "0.77,0,0.72,0.9",
    "0.27,0.3,0.08,1",
    "0.82,0.2,0.91,0.9",
    "0.76,0.1,0.77,1",
    "0.34,0.3,0.52,0.8",
    "0.77,0.1,0.79,0.9",
    "0.79,0,0.65,0.8",
];

/// The last sixteen of "the 32 new random lines" in docs/accuracy.md, "Line sets", drawn
/// after everything else was settled (476 true crossings).
const RETURN_LINES: [&str; 16] = [
    "0,0.44,1,0.44",
    "0,0.54,1,0.54",
    "0,0.48,1,0.48",
    "0,0.6,1,0.6",
    "0,0.55,1,0.55",
    "0,0.47,1,0.47",
    "0.42,0.3,0.55,1",
    "0.5,0.3,0.22,1",
    "0.23,0.3,0.75,1",
    "0.78,0.3,0.51,1",
    "0.48,0.3,0.44,1",
    "0.44,0.3,0.57,1",
    "0.59,0.3,0.33,1",
    "0.72,0.3,0.68,1",
    "0.31,0.3,0.32,1",
    "0.71,0.3,0.58,1",
];

/// The second sixteen of "the 32 lines for lost tracks" (docs/accuracy.md, "Line sets"),
/// drawn after the rule was tuned (479 true crossings).
const LOST_LINES: [&str; 16] = [
    "0,0.56,1,0.56",
    "0,0.59,1,0.59",
    "0,0.41,1,0.41",
    "0,0.47,1,0.47",
    "0,0.58,1,0.58",
    "0,0.54,1,0.54",
    "0.57,0.3,0.34,1",
    "0.46,0.3,0.79,1",
    "0.67,0.3,0.42,1",
    "0.62,0.3,0.65,1",
    "0.67,0.3,0.21,1",
    "0.65,0.3,0.39,1",
    "0.57,0.3,0.46,1",
    "0.48,0.3,0.62,1",
    "0.29,0.3,0.45,1",
    "0.32,0.3,0.46,1",
];

/// Sixteen verticals from x = 0.2 to 0.8 drawn across the walkway only (y from 0.3 down; 417
/// true crossings).
const WALKWAY_VERTICALS: [&str; 16] = [
    "0.2,0.3,0.2,1",
    "0.23,0.3,0.23,1",
    "0.25,0.3,0.25,1",
    "0.27,0.3,0.27,1",
    "0.3,0.3,0.3,1",
    "0.33,0.3,0.33,1",
    "0.35,0.3,0.35,1",
    "0.4,0.3,0.4,1",
    "0.45,0.3,0.45,1",
    "0.5,0.3,0.5,1",
    "0.55,0.3,0.55,1",
    "0.6,0.3,0.6,1",
    "0.65,0.3,0.65,1",
    "0.7,0.3,0.7,1",
    "0.75,0.3,0.75,1",
    "0.8,0.3,0.8,1",
];

#[test]
fn yolov5n_on_two_tiles() {
    let Some((video, gt, detector)) = pets_with_yolov5n_two_tiles() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plain = common::write_config(
        dir.path(),
        &format!("[detector]\nruntime = \"litert\"\n{detector}"),
    );
    // The settings the README tells a user to reproduce its numbers with (NMS IoU 0.35).
    let best = common::root().join("examples/pets09-best.toml");
    let (plain, best) = at_once(
        || {
            Shared::run(
                &video,
                &gt,
                &plain,
                &[
                    "line_band = 0.01\n",
                    "line_band = 0.01\nappearance_weight = 4.0\n",
                    "line_band = 0.01\nappearance_weight = 0.0\n",
                ],
                &[&MIDDLE_LINES, &README_LINES, &COLOUR_LINES],
            )
        },
        || {
            Shared::run(
                &video,
                &gt,
                &best,
                &["line_band = 0.01\nappearance_weight = 4.0\n"],
                &[&BAND_LINES, &WALKWAY_VERTICALS],
            )
        },
    );
    let mut claims = Claims::default();
    claims.check(
        "yolov5n_on_litert_with_two_tiles_is_the_best_measured_counter",
        || {
            // The MAE bar "with the best available model": YOLOv5n on LiteRT with two
            // tiles, default counting. SSD, one input: MAE 0.48, lines 12 off 64.
            let report = plain.on(None, &MIDDLE_LINES);
            // Measured 0.35, and the same on every run.
            let mae = report["occupancy"]["mae"].as_f64().unwrap();
            assert!(mae <= 0.45, "occupancy MAE {mae}: {report}");
            // Measured 2 off 64 (both lines, both directions).
            let (off, truth) = lines_off(&report);
            assert!(off * 10 <= truth, "{off} off {truth}: {report}");
        },
    );
    claims.check(
        "yolov5n_finds_people_reliably_from_the_height_the_survey_assumes",
        || {
            // Two tiles side by side keep the picture's height: the height found reliably here
            // is the model's on its input, which `survey` judges the need for tiles by.
            assert_reliable_height(&plain.on(None, &MIDDLE_LINES), "yolov5");
        },
    );
    claims.check(
        "yolov5n_with_two_tiles_counts_each_readme_line_within_ten_percent",
        || {
            // The line bar on the eight lines the README reports, with the README's advice
            // for this detector: `line_band = 0.01`. Measured 8 off 221, every count within 10 %
            // (other lines still miss it: see README "Accuracy").
            let report = plain.on(Some(0), &README_LINES);
            let over = counts_over_ten_percent(&report);
            assert!(over.is_empty(), "{over:?}: {report}");
            let (off, truth) = lines_off(&report);
            assert_eq!(truth, 221, "{report}");
            assert!(off <= 12, "{off} off {truth}: {report}");
        },
    );
    claims.check(
        "colours_keep_people_passing_each_other_apart_on_lines_never_tuned_on",
        || {
            // `counting.appearance_weight = 4` against 0, on lines no setting was tuned on.
            // Measured 18 off 491 (4 of 32 counts over 10 %) with colours, 28 off (8 of 32)
            // without them: two people passing each other on a line no longer swap tracks.
            let with = plain.on(Some(1), &COLOUR_LINES);
            let without = plain.on(Some(2), &COLOUR_LINES);
            assert_better_within(&with, &without, 491, 22, 5);
        },
    );
    claims.check(
        "a_band_of_each_persons_height_counts_held_out_lines_closer",
        || {
            // `counting.line_band_height = 0.05` (examples/pets09-best.toml) against the fixed
            // `line_band = 0.01`, both with colours (weight 4) and the example's detector. Measured
            // 15 off 457 (5 of 32 counts over 10 %) against 23 (7 of 32): far away, where a step is
            // a few pixels, the band narrows; close up, it widens over the larger wobble of a tall
            // box.
            let of_height = best.on(None, &BAND_LINES);
            let fixed = best.on(Some(0), &BAND_LINES);
            assert_better_within(&of_height, &fixed, 457, 20, 6);
        },
    );
    claims.check(
        "drawn_across_the_walkway_the_best_settings_keep_vertical_lines_within_ten_percent",
        || {
            // With examples/pets09-best.toml. Measured 12 off 417, one count over 10 %
            // (`0.33,0.3,0.33,1` in, 9 of 8). Drawn to the picture's top edge the same lines
            // also cross the grass beyond the walkway, where a person the truth does not
            // annotate walks at frames 80–160: 17 off, 5 counts over 10 % (docs/accuracy.md).
            let report = best.on(None, &WALKWAY_VERTICALS);
            let (off, truth) = lines_off(&report);
            assert_eq!(truth, 417, "{report}");
            let over = counts_over_ten_percent(&report);
            assert!(over.len() <= 2, "{over:?}: {report}");
            assert!(off <= 17, "{off} off {truth}: {report}");
        },
    );
    claims.assert_all();
}

/// The smallest height `eval` measured the detector to find at least half the truth's people
/// from is, within one band (0.025), the figure `survey` uses for the model's family.
fn assert_reliable_height(report: &serde_json::Value, family: &str) {
    assert_eq!(report["family"], family, "{report}");
    let measured = report["detection_by_height"]["reliable_height"]
        .as_f64()
        .unwrap_or_else(|| panic!("no reliable height: {}", report["detection_by_height"]));
    let assumed = headcount::survey::suggest::reliable_height(family);
    assert!(
        (measured - assumed).abs() <= 0.025 + 1e-9,
        "measured {measured}, the survey assumes {assumed}: {}",
        report["detection_by_height"]
    );
}

#[test]
fn the_bundled_ssd_on_twelve_tiles_and_on_one_input() {
    let Some((video, gt)) = pets() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The bundled SSD (Apache-2.0, committed) on 4 × 3 overlapping tiles with the best
    // settings' counting (band of each person's height 0.05, colours 4) and a mask over the
    // lawn beyond the walkway; compared with the same without its return window.
    let tiled = common::root().join("examples/pets09-ssd.toml");
    let no_window = example_counting(&tiled, Some(("line_return_s", toml::Value::Float(0.0))));
    // The SSD with the defaults (one input, fixed band 0.02, no mask), on LiteRT: the same
    // counts as TF 2.9 on this clip, four times faster; compared with no lost tracks.
    let one_input = common::write_config(dir.path(), "[detector]\nruntime = \"litert\"\n");
    let (tiled, one_input) = at_once(
        || {
            Shared::run(
                &video,
                &gt,
                &tiled,
                &[&no_window],
                &[&README_LINES, &FRESH_WALKWAY_LINES, &RETURN_LINES],
            )
        },
        || {
            Shared::run(
                &video,
                &gt,
                &one_input,
                &["track_lost_s = 0.0\n"],
                &[&MIDDLE_LINES, &README_LINES, &LOST_LINES],
            )
        },
    );
    let mut claims = Claims::default();
    claims.check(
        "eval_scores_pets09_occupancy_and_lines_against_the_ground_truth",
        || {
            eval_scores_pets09_against_the_ground_truth(&one_input.on(None, &MIDDLE_LINES));
        },
    );
    claims.check(
        "the_bundled_ssd_finds_people_reliably_from_the_height_the_survey_assumes",
        || {
            // Measured: 35 % of the truth's people 0.075-0.1 of the picture tall found, 81 % of
            // those 0.1-0.125, 87-100 % above.
            assert_reliable_height(&one_input.on(None, &MIDDLE_LINES), "ssd-postprocess");
        },
    );
    claims.check(
        "the_bundled_ssd_on_twelve_tiles_counts_the_readme_lines_closer_than_on_one_input",
        || {
            // Measured 4 off 221, every count within 10 %, against 22 off, 6 of 16 counts over
            // 10 %.
            let tiled = tiled.on(None, &README_LINES);
            let one_input = one_input.on(None, &README_LINES);
            assert_better_within(&tiled, &one_input, 221, 10, 2);
        },
    );
    claims.check(
        "the_bundled_ssd_on_twelve_tiles_counts_fresh_lines_across_the_walkway_within_ten_percent",
        || {
            // The bar is for lines across the walkway (which runs from about (0, 0.37)
            // to (1, 0.6)). Measured 11 off 436, every count within 10 %. Without the example's
            // mask over the lawn beyond the walkway, 14 off and `0.25,0.1,0.07,0.8` out 8 of 7:
            // its top end reaches the footpath where a person the truth does not annotate walks
            // at frames 106-135. The SSD with the defaults: 43 off, 13 of 32 counts over 10 %.
            let report = tiled.on(None, &FRESH_WALKWAY_LINES);
            let (off, truth) = lines_off(&report);
            assert_eq!(truth, 436, "{report}");
            assert!(off <= 15, "{off} off {truth}: {report}");
            let over = counts_over_ten_percent(&report);
            assert!(over.is_empty(), "{over:?}: {report}");
        },
    );
    claims.check(
        "the_return_window_undoes_tracks_that_cross_a_line_and_come_straight_back",
        || {
            // The example's default return window (half a second) against none. Measured 17 off
            // 476 (2 of 32 counts over 10 %) against 25 (4 of 32): on `0,0.44,1,0.44` two people
            // stand either side of the line, and their tracks take the boxes of people walking
            // past for a frame or two and come back.
            let with = tiled.on(None, &RETURN_LINES);
            let without = tiled.on(Some(0), &RETURN_LINES);
            assert_better_within(&with, &without, 476, 22, 3);
        },
    );
    claims.check(
        "lost_tracks_give_back_the_crossings_the_bundled_ssd_loses_behind_the_sign_and_the_group",
        || {
            // Default settings against `track_lost_s = 0`. Measured 68 off 479 (19 of 32 counts
            // over 10 %) against 90 (22 of 32): people the SSD loses for two or three seconds
            // take up their own track again, and their crossing counts.
            let with = one_input.on(None, &LOST_LINES);
            let without = one_input.on(Some(0), &LOST_LINES);
            assert_better_within(&with, &without, 479, 68, 19);
        },
    );
    claims.assert_all();
}

/// `eval`'s own scoring on the middle lines with the bundled SSD on one input.
fn eval_scores_pets09_against_the_ground_truth(report: &Value) {
    assert_summary_matches_lines(report);
    let mae = report["occupancy"]["mae"].as_f64().unwrap();
    assert!(
        mae <= 0.6,
        "occupancy MAE {mae} above the 0.6 bar: {report}"
    );
    assert!(
        report["occupancy"]["exact"].as_f64().unwrap() > 0.3,
        "{report}"
    );
    let truth_mean = report["occupancy"]["truth_mean"].as_f64().unwrap();
    assert!(
        (truth_mean - 5.85).abs() < 0.01,
        "all truth rows count: {report}"
    );
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    // The ground-truth crossings of these lines, computed from gt.txt's tracks. 14 in, not 13:
    // around frame 616 one person walks across the middle along the picture's bottom edge, the
    // box a pixel below it; the line is drawn to that edge, so it reaches past it.
    assert_eq!(
        (&lines[0]["truth_in"], &lines[0]["truth_out"]),
        (&14.into(), &18.into()),
        "{report}"
    );
    // Under the counter's 0.02 hysteresis band, one truth crossing each way is jitter.
    assert_eq!(
        (
            &lines[0]["truth_in_beyond_band"],
            &lines[0]["truth_out_beyond_band"]
        ),
        (&12.into(), &17.into()),
        "{report}"
    );
    assert_eq!(lines[0]["line"], serde_json::json!([0.5, 0.0, 0.5, 1.0]));
    // Not yet the issue's ±10 % per direction (see README "Accuracy"), but a guard against the
    // tracker regressing: summed over both lines and directions, the counts were 29 % off before
    // the tracker's height gate and time-based reach, 19 % now.
    for l in lines {
        for dir in ["in", "out"] {
            assert!(l[dir].as_i64().unwrap() > 0, "{l}");
        }
    }
    let (off, truth) = lines_off(report);
    assert!(
        off * 5 <= truth,
        "line counts {off} off {truth} true crossings (> 20 %): {report}"
    );
    assert!(report["timing"]["fps"].as_f64().unwrap() > 0.0);
}

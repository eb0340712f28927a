//! The line bar with YOLOv5n (GPL: read from ../shared, never committed) and two
//! tiles on PETS09: the README's eight lines, the counting settings the README advises, each
//! against the one it replaces on lines it was not tuned on, and verticals drawn across the
//! walkway only. Then the bundled SSD on twelve tiles (`examples/pets09-ssd.toml`) against
//! the SSD with the defaults, and with its return window against none; the bundled SSD on one
//! input with lost tracks against none, on lines drawn after they were tuned; and the SSD on
//! twelve tiles on lines across the walkway drawn after every setting was chosen.

mod common;

use common::eval::{
    assert_better_within, assert_summary_matches_lines, compared, counts_over_ten_percent,
    eval_lines, eval_lines_with_config, example_against, example_against_changed, example_nms_iou,
    lines_off, pets, pets_with_yolov5n_two_tiles, yolov5n_two_tiles_compared,
};

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

#[test]
fn yolov5n_with_two_tiles_counts_each_readme_line_within_ten_percent() {
    // The line bar on the eight lines the README reports, with the README's advice for
    // this detector: YOLOv5n, two tiles, `line_band = 0.01`. Measured 8 off 221, every count
    // within 10 % (other lines still miss it: see README "Accuracy").
    let Some((video, gt, detector)) = pets_with_yolov5n_two_tiles() else {
        return;
    };
    let (report, _) = eval_lines(&video, &gt, &detector, "line_band = 0.01\n", &README_LINES);
    assert_eq!(report["frames"], 795, "{report}");
    assert_summary_matches_lines(&report);
    let over = counts_over_ten_percent(&report);
    assert!(over.is_empty(), "{over:?}: {report}");
    let (off, truth) = lines_off(&report);
    assert_eq!(truth, 221, "{report}");
    assert!(off <= 12, "{off} off {truth}: {report}");
}

#[test]
fn colours_keep_people_passing_each_other_apart_on_lines_never_tuned_on() {
    // `counting.appearance_weight = 4` with YOLOv5n and two tiles, on sixteen lines that no
    // setting was tuned on. Measured 18 off 491 (4 of 32 counts over 10 %) with colours, 28 off
    // (8 of 32) without them: two people passing each other on a line no longer swap tracks.
    let lines = [
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
    let Some((with, without)) = yolov5n_two_tiles_compared(
        &lines,
        "line_band = 0.01\nappearance_weight = 4.0\n",
        "line_band = 0.01\nappearance_weight = 0.0\n",
    ) else {
        return;
    };
    assert_better_within(&with, &without, 491, 22, 5);
}

#[test]
fn a_band_of_each_persons_height_counts_held_out_lines_closer() {
    // `counting.line_band_height = 0.05` against the fixed `line_band = 0.01`, both with
    // YOLOv5n, two tiles and colours (weight 4), on sixteen lines held out until the setting was
    // chosen on 80 others. The first run uses `examples/pets09-best.toml`, the settings the
    // README tells a user to reproduce its numbers with; the second the same detector settings
    // (with the example's `nms_iou`). Measured 15 off 457 (5 of 32 counts over 10 %) against 23
    // (7 of 32):
    // far away, where a step is a few pixels, the band narrows; close up, it widens over the
    // larger wobble of a tall box.
    let lines = [
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
    let Some((video, gt, detector)) = pets_with_yolov5n_two_tiles() else {
        return;
    };
    let example = common::root().join("examples/pets09-best.toml");
    let detector = format!("{detector}{}", example_nms_iou(&example));
    let fixed = "line_band = 0.01\nappearance_weight = 4.0\n";
    let (of_height, fixed) = example_against(&video, &gt, &example, &detector, fixed, &lines);
    assert_better_within(&of_height, &fixed, 457, 20, 6);
}

#[test]
fn drawn_across_the_walkway_the_best_settings_keep_vertical_lines_within_ten_percent() {
    // Sixteen verticals from x = 0.2 to 0.8 drawn across the walkway only (y from 0.3 down),
    // with `examples/pets09-best.toml`. Measured 12 off 417, one count over 10 %
    // (`0.33,0.3,0.33,1` in, 9 of 8). Drawn to the picture's top edge the same lines also cross
    // the grass beyond the walkway, where a person the truth does not annotate walks at frames
    // 80–160: 17 off, 5 counts over 10 % (docs/accuracy.md).
    let xs = [
        "0.2", "0.23", "0.25", "0.27", "0.3", "0.33", "0.35", "0.4", "0.45", "0.5", "0.55", "0.6",
        "0.65", "0.7", "0.75", "0.8",
    ];
    let lines: Vec<String> = xs.iter().map(|x| format!("{x},0.3,{x},1")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    // The example config reads YOLOv5n from ../shared: skip (or fail under CI) without it.
    let Some((video, gt, _)) = pets_with_yolov5n_two_tiles() else {
        return;
    };
    let example = common::root().join("examples/pets09-best.toml");
    let (report, _) = eval_lines_with_config(&video, &gt, &example, &lines);
    assert_summary_matches_lines(&report);
    let (off, truth) = lines_off(&report);
    assert_eq!(truth, 417, "{report}");
    let over = counts_over_ten_percent(&report);
    assert!(over.len() <= 2, "{over:?}: {report}");
    assert!(off <= 17, "{off} off {truth}: {report}");
}

#[test]
fn the_bundled_ssd_on_twelve_tiles_counts_the_readme_lines_closer_than_on_one_input() {
    // `examples/pets09-ssd.toml`: the bundled SSD (Apache-2.0, committed) on 4 × 3 overlapping
    // tiles with the best settings' counting (band of each person's height 0.05, colours 4),
    // and its mask over the lawn beyond the walkway, against the SSD with the defaults (one
    // input, fixed band 0.02, no mask). Measured 4 off 221, every count within 10 %, against 22
    // off, 6 of 16 counts over 10 %.
    let Some((video, gt)) = pets() else {
        return;
    };
    let example = common::root().join("examples/pets09-ssd.toml");
    let (tiled, one_input) = example_against(&video, &gt, &example, "", "", &README_LINES);
    assert_eq!(tiled["frames"], 795, "{tiled}");
    assert_better_within(&tiled, &one_input, 221, 10, 2);
}

#[test]
fn the_bundled_ssd_on_twelve_tiles_counts_fresh_lines_across_the_walkway_within_ten_percent() {
    // The bar is for lines across the walkway (which runs from about (0, 0.37) to
    // (1, 0.6)): the first sixteen of "the 32 lines across the walkway" in docs/accuracy.md,
    // drawn after every setting was chosen, with `examples/pets09-ssd.toml`. Measured 11 off
    // 436, every count within 10 %. Without the example's mask over the lawn beyond the
    // walkway, 14 off and `0.25,0.1,0.07,0.8` out 8 of 7: its top end reaches the footpath
    // where a person the truth does not annotate walks at frames 106-135. The SSD with the
    // defaults: 43 off, 13 of 32 counts over 10 %.
    let Some((video, gt)) = pets() else {
        return;
    };
    let lines = [
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
    let example = common::root().join("examples/pets09-ssd.toml");
    let (report, _) = eval_lines_with_config(&video, &gt, &example, &lines);
    assert_eq!(report["frames"], 795, "{report}");
    assert_summary_matches_lines(&report);
    let (off, truth) = lines_off(&report);
    assert_eq!(truth, 436, "{report}");
    assert!(off <= 15, "{off} off {truth}: {report}");
    let over = counts_over_ten_percent(&report);
    assert!(over.is_empty(), "{over:?}: {report}");
}

#[test]
fn the_return_window_undoes_tracks_that_cross_a_line_and_come_straight_back() {
    // Sixteen lines drawn at random after everything else was settled (the last sixteen of
    // "the 32 new random lines" in docs/accuracy.md, "Line sets"), with
    // `examples/pets09-ssd.toml` and its default return window (half a second) against the
    // same settings with none. Measured 17 off 476 (2 of 32 counts over 10 %) against 25 (4 of
    // 32): on `0,0.44,1,0.44` two people stand either side of the line, and their tracks take
    // the boxes of people walking past for a frame or two and come back.
    let Some((video, gt)) = pets() else {
        return;
    };
    let lines = [
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
    let example = common::root().join("examples/pets09-ssd.toml");
    let no_window = ("counting", "line_return_s", toml::Value::Float(0.0));
    let (with, without) = example_against_changed(&video, &gt, &example, no_window, &lines);
    assert_better_within(&with, &without, 476, 22, 3);
}

#[test]
fn lost_tracks_give_back_the_crossings_the_bundled_ssd_loses_behind_the_sign_and_the_group() {
    // The bundled SSD on one input, default settings (LiteRT), against the same with
    // `track_lost_s = 0`, on the second sixteen of "the 32 lines for lost tracks"
    // (docs/accuracy.md, "Line sets"), drawn after the rule was tuned. Measured 68 off 479 (19
    // of 32 counts over 10 %) against 90 (22 of 32): people the SSD loses for two or three
    // seconds take up their own track again, and their crossing counts.
    let Some((video, gt)) = pets() else {
        return;
    };
    let lines = [
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
    let (with, without) = compared(&video, &gt, "", &lines, "", "track_lost_s = 0.0");
    assert_better_within(&with, &without, 479, 68, 19);
}

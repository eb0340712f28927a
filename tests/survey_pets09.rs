//! The survey's acceptance on a wide view: PETS09-S2L1 with no config. The survey (one input,
//! as a newcomer's sensor starts) must suggest tiles and at least two lines across the walkway,
//! and `eval` with the suggested config must count every suggested line within max(1, 10 %) of
//! the ground truth's crossings, with occupancy MAE at most 0.45. Reads ../shared (skips on a
//! user's clone without it, fails under CI).

mod common;

use std::time::Duration;

use common::eval::{eval_lines_with_config, pets};
use common::{assert_config_accepted, headcount_optimised, run_with_timeout};

#[test]
fn on_pets09_the_survey_suggests_tiles_and_lines_that_eval_confirms() {
    let Some((video, gt)) = pets() else {
        return;
    };
    let mut cmd = headcount_optimised();
    cmd.arg("survey").arg(&video).args(["--json", "--quiet"]);
    let out = run_with_timeout(cmd, Duration::from_secs(600));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["frames"], 795, "{report}");

    // People far from the camera look small on one input: tiles, with their cost said.
    let tiles = &report["suggested_tiles"];
    let (columns, rows) = (
        tiles["tile_columns"].as_u64().unwrap_or(0),
        tiles["tile_rows"].as_u64().unwrap_or(0),
    );
    assert!(columns * rows > 1, "no tiles suggested: {report}");
    assert!(tiles["ms_per_frame"].as_f64().is_some(), "{tiles}");

    // Lines across the walkway (it runs left to right: the lines are upright, crossed by many).
    let lines = report["suggested_lines"].as_array().unwrap();
    assert!(lines.len() >= 2, "{lines:?}");
    let coords: Vec<String> = lines
        .iter()
        .map(|l| {
            let p = |k: &str, i: usize| l[k][i].as_f64().unwrap();
            assert!(
                (p("from", 0) - p("to", 0)).abs() < (p("from", 1) - p("to", 1)).abs(),
                "not across the walkway: {l}"
            );
            format!(
                "{},{},{},{}",
                p("from", 0),
                p("from", 1),
                p("to", 0),
                p("to", 1)
            )
        })
        .collect();

    // The suggested config is a config, and the tiles are in it.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("suggested.toml");
    let text = report["suggested_config"].as_str().unwrap();
    std::fs::write(&config, text).unwrap();
    assert_config_accepted(&config);
    assert!(
        text.contains(&format!("tile_columns = {columns}"))
            && text.contains(&format!("tile_rows = {rows}")),
        "{text}"
    );

    // Evaluated with it, on its own lines.
    let refs: Vec<&str> = coords.iter().map(String::as_str).collect();
    let (eval, _) = eval_lines_with_config(&video, &gt, &config, &refs);
    for l in eval["lines"].as_array().unwrap() {
        for dir in ["in", "out"] {
            let got = l[dir].as_i64().unwrap();
            let want = l[&format!("truth_{dir}")].as_i64().unwrap();
            assert!(
                (got - want).abs() as f64 <= (0.1 * want as f64).max(1.0),
                "line {} {dir}: {got}, truth {want}",
                l["line"]
            );
        }
    }
    let mae = eval["occupancy"]["mae"].as_f64().unwrap();
    assert!(mae <= 0.45, "occupancy MAE {mae}: {}", eval["occupancy"]);
}

//! A heuristic that stops paying its way fails a test: on the committed one-by-one clip with its
//! hand-annotated ground truth (`tests/fixtures/one-by-one/ground-truth.txt`), the counting stage as
//! shipped counts within a whisker of the truth, and each heuristic the ablation measured paying
//! there (docs/accuracy.md: the line band, the border rule) still does. The PETS09 ones are
//! checked in `tests/eval_lines.rs`; `cargo bench --bench ablation` has every number.

mod common;

use headcount::config::{Config, CountingConfig};
use headcount::count::Heuristics;
use headcount::eval::{self, Compared, Truth};

/// The doorway at the bottom, a line they walk in over, the way out at the right and one they
/// pass on the way (the ablation's lines for this clip).
const LINES: [&str; 4] = [
    "0,0.95,1,0.95",
    "0,0.7,1,0.7",
    "0.85,0,0.85,1",
    "0.6,0,0.6,1",
];

#[test]
fn the_heuristics_that_pay_on_the_one_by_one_clip_still_do() {
    let fixture = common::root().join("tests/fixtures/one-by-one");
    let truth = Truth::load(&fixture.join("ground-truth.txt")).unwrap();
    let mut config = Config::parse("[detector]\nruntime = \"litert\"\n").unwrap();
    config.source.url = common::one_by_one().display().to_string();
    config.counting.lines = LINES
        .iter()
        .enumerate()
        .map(|(i, l)| eval::parse_line(l, i + 1).unwrap())
        .collect();
    config.validate().unwrap();
    let off = |name: &str, counting: CountingConfig, heuristics: Heuristics| Compared {
        name: name.into(),
        counting,
        heuristics,
    };
    let compared = [
        off(
            "line band",
            CountingConfig {
                line_band: 0.0,
                ..config.counting.clone()
            },
            Heuristics::ALL,
        ),
        off(
            "border rule",
            config.counting.clone(),
            Heuristics {
                border_rule: false,
                ..Heuristics::ALL
            },
        ),
    ];
    let report = eval::run(config, &compared, &truth, false).unwrap();
    // Six people, one at a time: 20 true crossings on the four lines.
    assert_eq!(report.lines_summary.truth_crossings, 20, "{report:?}");
    assert!(report.occupancy.mae < 0.05, "{:?}", report.occupancy);
    let with = report.lines_summary.off;
    assert!(
        with <= 2,
        "{with} crossings off with every heuristic: {report:?}"
    );
    for c in &report.compared {
        assert!(
            c.lines_summary.off > with,
            "without the {}: {} off, with it {with}: it no longer pays",
            c.config,
            c.lines_summary.off
        );
    }
}

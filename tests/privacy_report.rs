//! `headcount privacy-report` as a DPO reads it: rendered to HTML by a Markdown parser, for the
//! shipped and example configs and a few deployments, its structure and statements checked.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{headcount, run_with_timeout, write_config};
use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

const SECTIONS: [&str; 5] = [
    "Warnings",
    "What is processed, where, for how long",
    "What leaves the device, in what form, at what granularity",
    "Safeguards",
    "Storage on the device",
];

fn report(config: &Path) -> String {
    let mut cmd = headcount();
    cmd.arg("privacy-report").arg("--config").arg(config);
    let out = run_with_timeout(cmd, Duration::from_secs(10));
    assert!(
        out.status.success(),
        "{}: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What the parser makes of the report: its headings, its tables' rows (cell counts), its
/// warnings (the list items under "Warnings"), its code spans, and the HTML.
#[derive(Default, Debug)]
struct Parsed {
    h1: Vec<String>,
    h2: Vec<String>,
    /// Per table: the cell count of each row, header first.
    tables: Vec<Vec<usize>>,
    warnings: Vec<String>,
    code: Vec<String>,
    html: String,
}

fn parse(md: &str) -> Parsed {
    let options = Options::ENABLE_TABLES;
    let mut p = Parsed::default();
    html::push_html(&mut p.html, Parser::new_ext(md, options));
    let (mut heading, mut text) = (None, String::new());
    let (mut in_warnings, mut item) = (false, None::<String>);
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some(level as usize);
                text.clear();
            }
            Event::End(TagEnd::Heading(_)) => match heading.take() {
                Some(1) => p.h1.push(text.clone()),
                Some(2) => {
                    in_warnings = text == "Warnings";
                    p.h2.push(text.clone())
                }
                _ => {}
            },
            Event::Start(Tag::Table(_)) => p.tables.push(Vec::new()),
            Event::Start(Tag::TableHead | Tag::TableRow) => {
                if let Some(t) = p.tables.last_mut() {
                    t.push(0)
                }
            }
            Event::Start(Tag::TableCell) => {
                if let Some(n) = p.tables.last_mut().and_then(|t| t.last_mut()) {
                    *n += 1
                }
            }
            Event::Start(Tag::Item) if in_warnings => item = Some(String::new()),
            Event::End(TagEnd::Item) => {
                if let Some(w) = item.take() {
                    p.warnings.push(w)
                }
            }
            Event::Text(t) => {
                text.push_str(&t);
                if let Some(w) = item.as_mut() {
                    w.push_str(&t)
                }
            }
            Event::Code(c) => {
                text.push_str(&c);
                if let Some(w) = item.as_mut() {
                    w.push_str(&c)
                }
                p.code.push(c.to_string())
            }
            _ => {}
        }
    }
    p
}

/// The checks every report passes, whatever the config.
fn well_formed(name: &str, md: &str) -> Parsed {
    let p = parse(md);
    assert_eq!(p.h1, ["headcount: data-flow statement"], "{name}: {md}");
    assert_eq!(p.h2, SECTIONS, "{name}: {md}");
    assert_eq!(p.tables.len(), 2, "{name}: topics and safeguards: {md}");
    for rows in &p.tables {
        assert!(
            rows.len() >= 2 && rows.iter().all(|&n| n == rows[0]),
            "{name}: {rows:?}"
        );
    }
    // A broken or nested code span leaves a backtick in the rendered text.
    assert!(
        !p.html.contains('`'),
        "{name}: stray backtick in\n{}",
        p.html
    );
    // Backticks nested in a code span split it: "`(set per run: `headcount replay`)`" parses as
    // the spans "(set per run: " and ")".
    for c in &p.code {
        let split = c.starts_with([' ', ')']) || c.ends_with([' ', '(']);
        assert!(
            !split && !c.trim().is_empty(),
            "{name}: code span {c:?} in {md}"
        );
    }
    assert!(!md.contains("the no broker"), "{name}: {md}");
    assert!(
        p.html.matches("<h2>").count() == 5 && p.html.matches("<table>").count() == 2,
        "{name}: {}",
        p.html
    );
    p
}

fn shipped_configs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("deploy/headcount.toml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    files.extend(examples);
    files
}

#[test]
fn the_shipped_and_example_configs_give_well_formed_reports() {
    for file in shipped_configs() {
        let name = file.display().to_string();
        let md = report(&file);
        let p = well_formed(&name, &md);
        let config =
            headcount::config::Config::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
        if name.ends_with("deploy/headcount.toml") {
            // An anonymous mqtt:// broker and an rtsp:// camera: both are warned of.
            assert_eq!(p.warnings.len(), 2, "{md}");
            assert!(
                p.warnings[0].starts_with("Cleartext, anonymous broker"),
                "{md}"
            );
            assert!(p.warnings[1].starts_with("Cleartext camera link"), "{md}");
            // Every Home Assistant discovery topic the sensor publishes is listed.
            let discovery = headcount::publish::discovery::configs(&config);
            assert_eq!(discovery.len(), 4);
            for (topic, _) in discovery {
                assert!(p.code.contains(&topic), "{topic} not in {md}");
            }
            assert!(md.contains("Sent to the MQTT broker `127.0.0.1:1883` in cleartext"));
            // `runtime = "auto"`: where inference may run, and where to see what ran.
            assert!(
                md.contains("Coral Edge TPU attached to it when there is one")
                    && md.contains("names the runtime and the accelerator that ran"),
                "{md}"
            );
        } else {
            // The examples have no broker: nothing leaves over the network.
            assert!(p.warnings.is_empty(), "{name}: {:?}", p.warnings);
            assert!(md.contains("None for this configuration."));
            assert!(md.contains("Nothing is sent over the network"), "{md}");
            assert!(!p.code.iter().any(|c| c.contains("homeassistant/")), "{md}");
        }
    }
}

#[test]
fn the_report_states_what_a_dpo_must_act_on() {
    let dir = tempfile::tempdir().unwrap();
    // TLS with a user, a local file, k-banding with a line, differential privacy with a small ε.
    let config = write_config(
        dir.path(),
        "[sensor]\nsite = \"hq\"\nname = \"door\"\n[source]\nurl = \"/srv/clip.mp4\"\n\
         [mqtt]\nurl = \"mqtts://broker.lan\"\nusername = \"door\"\n\
         [privacy]\nmin_count = 3\ntime_resolution_s = 3600\n\
         [[counting.lines]]\nname = \"entrance\"\nfrom = [0.0, 0.5]\nto = [1.0, 0.5]\n",
    );
    let md = report(&config);
    let p = well_formed("lines", &md);
    assert_eq!(p.warnings.len(), 1, "{md}");
    assert!(
        p.warnings[0].starts_with("k-banding does not cover line counts"),
        "{md}"
    );
    assert!(md.contains("line counts are exact (see Warnings)"), "{md}");
    assert!(
        md.contains("over TLS") && md.contains("as user `door`"),
        "{md}"
    );
    assert!(p
        .code
        .contains(&"headcount/hq/door/line/entrance".to_string()));

    let config = write_config(
        dir.path(),
        "[privacy]\ntime_resolution_s = 300\ndp_epsilon_per_day = 2.0\ndp_max_noise = 500\n\
         [state]\ndir = \"/var/lib/headcount\"\n",
    );
    let md = report(&config);
    well_formed("dp", &md);
    // 288 releases a day at 2/288 each: ε not rounded to nothing, the noise in people.
    assert!(md.contains("ε = 0.00694 per release"), "{md}");
    assert!(md.contains("(288 releases)"), "{md}");
    assert!(md.contains("scale 144 people"), "{md}");
    assert!(md.contains("within ±431 people"), "{md}");
}

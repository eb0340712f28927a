//! The shape of the code, checked: lower layers never import higher ones.
//!
//! Layers, lowest first: `config` (the file's contract, plain data) → `source` → `detect` →
//! `count` → `publish`; `pipeline`, `eval`, `survey`, `simulate` and `service` sit above them all. Leaf utilities
//! (`bounded_read`, `redact`, `state_file`, `wall_clock`, `shutdown`) may be used anywhere. And
//! two pairs of files that once imported each other must not again. Reads the sources; comments
//! are skipped (a doc link is not a dependency).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The stage layers, lowest first, and the modules above them all.
const LAYERS: [&str; 5] = ["config", "source", "detect", "count", "publish"];
const ABOVE: [&str; 6] = ["pipeline", "eval", "survey", "simulate", "service", "cli"];

fn sources(module: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        files.push(file);
    }
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    assert!(!files.is_empty(), "no sources for module {module}");
    files
}

/// Code lines of a file: comments (`//`, `//!`, `///`) dropped.
fn code(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("").to_string()))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect()
}

/// The top-level modules a file names as `crate::<module>`.
fn crate_modules(line: &str) -> BTreeSet<String> {
    line.match_indices("crate::")
        .map(|(i, _)| {
            line[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let mut wrong = vec![];
    for (level, module) in LAYERS.iter().enumerate() {
        let higher: Vec<&str> = LAYERS[level + 1..]
            .iter()
            .chain(ABOVE.iter())
            .copied()
            .collect();
        for file in sources(module) {
            for (n, line) in code(&file) {
                for used in crate_modules(&line) {
                    if higher.contains(&used.as_str()) {
                        wrong.push(format!(
                            "{}:{n}: `{module}` imports `{used}`: {}",
                            file.display(),
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

/// A file must not name its sibling through `super::<sibling>` (or the crate path).
fn names_sibling(file: &str, sibling: &str, module: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
    code(&path)
        .into_iter()
        .filter(|(_, l)| {
            l.contains(&format!("super::{sibling}::"))
                || l.contains(&format!("super::{sibling}}}"))
                || l.contains(&format!("crate::{module}::{sibling}::"))
        })
        .map(|(n, l)| format!("{file}:{n}: {}", l.trim()))
        .collect()
}

#[test]
fn files_that_once_imported_each_other_do_not_again() {
    // The payload types live in `schema`, which `discovery` fills; `FfmpegOptions` lives in
    // `options`, which `probe` and `ffmpeg` both read.
    let mut wrong = names_sibling("publish/schema.rs", "discovery", "publish");
    wrong.extend(names_sibling("source/probe.rs", "ffmpeg", "source"));
    assert!(wrong.is_empty(), "cycles are back:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_an_import_when_there_is_one() {
    // The detector really does import the source's frame types: if this finds nothing, the
    // scan above is blind and proves nothing.
    let found = sources("detect").iter().any(|f| {
        code(f)
            .iter()
            .any(|(_, l)| crate_modules(l).contains("source"))
    });
    assert!(found, "the scan found no `crate::source` in src/detect");
    assert_eq!(
        crate_modules("use crate::count::{a, b}; x(crate::detect::Y)"),
        BTreeSet::from(["count".to_string(), "detect".to_string()])
    );
}

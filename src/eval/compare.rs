//! `eval --compare FILE`: another `[counting]` section, scored on the main run's detections.
//!
//! A compared file holds `[counting]` only: whatever changes what the detector sees (source,
//! detector, masks) is the main run's, so the detector runs once for every setting compared, and
//! the scores differ by the counting settings alone. The lines scored are the main run's too.

use std::path::Path;

use crate::config::{Config, ConfigError, CountingConfig};
use crate::count::Heuristics;

/// One compared file: its name as given and its counting settings (the main lines).
#[derive(Debug, Clone)]
pub struct Compared {
    pub name: String,
    pub counting: CountingConfig,
    /// The heuristics without a key: all on from a file; the ablation switches them off.
    pub heuristics: Heuristics,
}

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("--compare {path}: cannot read it: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("--compare {path}: {message}")]
    Parse { path: String, message: String },
    #[error(
        "--compare {path}: [{table}] is not allowed here: a compared file holds [counting] only \
         (the source, detector and masks are the main run's, from --config)"
    )]
    NotCounting { path: String, table: String },
    #[error(
        "--compare {path}: counting.lines: the lines scored are the main run's (--line or \
         --config); remove them from this file"
    )]
    Lines { path: String },
    #[error("--compare {path}: {cause}")]
    Invalid { path: String, cause: ConfigError },
}

impl Compared {
    /// Reads `path` (bounded, like a config file) and checks its counting settings against the
    /// main config `main` (with the main lines in place).
    pub fn load(path: &Path, main: &Config) -> Result<Self, CompareError> {
        let name = path.display().to_string();
        let text = crate::bounded_read::read_pipe_or_file_to_string(
            path,
            crate::bounded_read::CONFIG_BYTES,
        )
        .map_err(|cause| CompareError::Read {
            path: name.clone(),
            cause,
        })?;
        Self::parse(&name, &text, main)
    }

    fn parse(name: &str, text: &str, main: &Config) -> Result<Self, CompareError> {
        let parse = |message: String| CompareError::Parse {
            path: name.to_string(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| parse(e.message().trim().replace('\n', " ")))?;
        if let Some(other) = table.keys().find(|k| k.as_str() != "counting") {
            return Err(CompareError::NotCounting {
                path: name.to_string(),
                table: other.clone(),
            });
        }
        let parsed = Config::parse(text).map_err(parse)?;
        if !parsed.counting.lines.is_empty() {
            return Err(CompareError::Lines {
                path: name.to_string(),
            });
        }
        let mut whole = main.clone();
        whole.counting = CountingConfig {
            lines: main.counting.lines.clone(),
            ..parsed.counting
        };
        super::validate(&whole).map_err(|cause| CompareError::Invalid {
            path: name.to_string(),
            cause,
        })?;
        Ok(Self {
            name: name.to_string(),
            counting: whole.counting,
            heuristics: Heuristics::ALL,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn main_config() -> Config {
        let mut c = Config::default();
        c.counting.lines = vec![crate::eval::parse_line("0.5,0,0.5,1", 1).unwrap()];
        c
    }

    #[test]
    fn a_counting_section_is_taken_with_the_main_lines() {
        let c =
            Compared::parse("b.toml", "[counting]\ntrack_lost_s = 0.0\n", &main_config()).unwrap();
        assert_eq!(c.counting.track_lost_s, 0.0);
        assert_eq!(c.counting.lines, main_config().counting.lines);
        assert_eq!(c.name, "b.toml");
    }

    #[test]
    fn anything_but_counting_is_refused_naming_what_and_why() {
        let main = main_config();
        let cases = [
            ("[detector]\nthreshold = 0.4\n", "[detector] is not allowed"),
            (
                "[counting]\n[[counting.lines]]\nname = \"a\"\nfrom = [0.0, 0.5]\nto = [1.0, 0.5]\n",
                "counting.lines",
            ),
            ("[counting]\nno_such_key = 1\n", "no_such_key"),
            ("[counting\n", "--compare b.toml"),
            ("[counting]\nline_return_s = -1.0\n", "line_return_s"),
        ];
        for (text, want) in cases {
            let e = Compared::parse("b.toml", text, &main)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(want) && e.starts_with("--compare b.toml"),
                "{text}: {e}"
            );
        }
    }
}

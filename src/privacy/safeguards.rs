//! Publishing safeguards, applied to every count before it leaves the process:
//!
//! - **k-banding** (`privacy.min_count` = k): values 1..k−1 are published as the band `"<k"`, so
//!   a single person is never singled out by a count of 1 (EDPB: singling out).
//! - **Differential privacy** (`privacy.dp_epsilon_per_day`): Laplace noise of scale 1/ε on the
//!   count (sensitivity 1: one person changes an occupancy count by at most 1); only the noisy count
//!   is released (no min/max/mean), on a fixed bin schedule, and each release spends ε from a daily
//!   budget kept in the state dir, so restarts do not refill it. When the day's budget is spent,
//!   nothing more is released until the next UTC day (EDPB: inference).
//!
//! Time binning itself lives in the counter (`count::occupancy`, `Cadence::Bins`). This module sees
//! only numbers and never logs a count.

use std::path::{Path, PathBuf};

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::PrivacyError;
use crate::config::dp_noise::DpNoise;
use crate::config::PrivacyConfig;
use crate::count::OccupancyReport;
use crate::publish::schema::Banded;
use crate::state_file::ReadError;

/// The values of one occupancy release after the safeguards.
#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub count: Banded<u32>,
    pub min: Option<Banded<u32>>,
    pub max: Option<Banded<u32>>,
    pub mean: Option<Banded<f64>>,
    /// ε spent on this release when differential privacy is on.
    pub dp_epsilon: Option<f64>,
}

/// k-banding of one value: 1..k−1 become `"<k"`; 0 and values ≥ k stay exact.
pub fn band(value: u32, k: u32) -> Banded<u32> {
    if k > 1 && value > 0 && value < k {
        Banded::Band(format!("<{k}"))
    } else {
        Banded::Value(value)
    }
}

/// k-banding of a mean: any mean strictly between 0 and k is the band `"<k"`.
pub fn band_mean(mean: f64, k: u32) -> Banded<f64> {
    if k > 1 && mean > 0.0 && mean < f64::from(k) {
        Banded::Band(format!("<{k}"))
    } else {
        Banded::Value(mean)
    }
}

/// One draw of Laplace(0, scale) noise by inverse transform sampling.
pub fn laplace(rng: &mut impl Rng, scale: f64) -> f64 {
    // u in (-0.5, 0.5), never exactly ±0.5 (ln 0).
    let u: f64 = rng.gen_range(-0.5 + f64::EPSILON..0.5);
    -scale * u.signum() * (1.0 - 2.0 * u.abs()).ln()
}

/// The ε spent on one UTC day, persisted so a restart cannot refill the budget.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetRecord {
    pub day: String,
    pub spent: f64,
}

/// A daily ε budget. Fails closed: ε is spent only once the record of it is saved, so a release
/// the file does not count never happens and a restart cannot refill the budget.
#[derive(Debug)]
pub struct Budget {
    per_day: f64,
    record: BudgetRecord,
    file: Option<PathBuf>,
    /// The last save failed (logged once until one works again).
    unsaved: bool,
}

pub const BUDGET_FILE: &str = "dp-budget.json";

impl Budget {
    /// Loads the record from `state_dir` (if any); a missing file is a fresh budget.
    pub fn open(per_day: f64, state_dir: Option<&Path>) -> Result<Self, PrivacyError> {
        let file = state_dir.map(|d| d.join(BUDGET_FILE));
        let record = match &file {
            Some(path) => crate::state_file::read(path)
                .map_err(|e| PrivacyError::State {
                    path: path.clone(),
                    cause: match e {
                        ReadError::Parse(e) => format!("unreadable budget record: {e}"),
                        ReadError::Io(e) => e.to_string(),
                    },
                })?
                .unwrap_or_default(),
            None => BudgetRecord::default(),
        };
        Ok(Self {
            per_day,
            record,
            file,
            unsaved: false,
        })
    }

    /// ε left on `day` (UTC, `YYYY-MM-DD`).
    pub fn remaining(&self, day: &str) -> f64 {
        if self.record.day == day {
            (self.per_day - self.record.spent).max(0.0)
        } else {
            self.per_day
        }
    }

    /// Spends `epsilon` on `day` if the budget allows and the spending can be saved; `false`
    /// (and nothing spent) otherwise.
    pub fn spend(&mut self, day: &str, epsilon: f64) -> bool {
        if self.record.day != day {
            self.record = BudgetRecord {
                day: day.to_string(),
                spent: 0.0,
            };
        }
        // A small tolerance so that n releases of ε/n fit exactly into ε.
        if self.record.spent + epsilon > self.per_day * (1.0 + 1e-9) {
            return false;
        }
        let spent = BudgetRecord {
            day: self.record.day.clone(),
            spent: self.record.spent + epsilon,
        };
        if !self.save(&spent) {
            return false;
        }
        self.record = spent;
        true
    }

    /// Saves `record`; false when it could not be (nothing is released until it can be).
    fn save(&mut self, record: &BudgetRecord) -> bool {
        let Some(path) = &self.file else { return true };
        crate::state_file::save(path, record, &mut self.unsaved, "privacy budget")
    }
}

/// Differential-privacy state.
#[derive(Debug)]
struct Dp {
    per_release: f64,
    budget: Budget,
    exhausted_logged: Option<String>,
}

/// All publishing safeguards of one sensor.
#[derive(Debug)]
pub struct Safeguards {
    k: u32,
    dp: Option<Dp>,
}

impl Safeguards {
    pub fn new(config: &PrivacyConfig, state_dir: Option<&Path>) -> Result<Self, PrivacyError> {
        let dp = if config.dp_epsilon_per_day > 0.0 {
            Some(Dp {
                per_release: Self::epsilon_per_release(config),
                budget: Budget::open(config.dp_epsilon_per_day, state_dir)?,
                exhausted_logged: None,
            })
        } else {
            None
        };
        Ok(Self {
            k: config.min_count,
            dp,
        })
    }

    /// ε per release: configured, or the daily budget spread over the day's bins.
    pub fn epsilon_per_release(config: &PrivacyConfig) -> f64 {
        DpNoise::of(config).map_or(0.0, |n| n.epsilon_per_release)
    }

    /// ε left today, when differential privacy is on.
    pub fn budget_remaining(&self, day: &str) -> Option<f64> {
        self.dp.as_ref().map(|dp| dp.budget.remaining(day))
    }

    /// Applies the safeguards to one report made on `day` (UTC `YYYY-MM-DD`). `None`: nothing
    /// may be released (the day's ε budget is spent).
    pub fn release(&mut self, report: &OccupancyReport, day: &str) -> Option<Released> {
        let k = self.k;
        match self.dp.as_mut() {
            None => Some(Released {
                count: band(report.count, k),
                min: Some(band(report.min, k)),
                max: Some(band(report.max, k)),
                mean: Some(band_mean(report.mean, k)),
                dp_epsilon: None,
            }),
            Some(dp) => {
                if !dp.budget.spend(day, dp.per_release) {
                    if dp.exhausted_logged.as_deref() != Some(day) {
                        tracing::warn!(
                            day,
                            "differential-privacy budget spent: no more counts today"
                        );
                        dp.exhausted_logged = Some(day.to_string());
                    }
                    return None;
                }
                let noisy = f64::from(report.count)
                    + laplace(&mut rand::thread_rng(), 1.0 / dp.per_release);
                let noisy = noisy.round().clamp(0.0, f64::from(u32::MAX)) as u32;
                Some(Released {
                    count: band(noisy, k),
                    min: None,
                    max: None,
                    mean: None,
                    dp_epsilon: Some(dp.per_release),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::time::Duration;

    fn report(count: u32, min: u32, max: u32, mean: f64) -> OccupancyReport {
        OccupancyReport {
            count,
            min,
            max,
            mean,
            window: Duration::from_secs(60),
            t: Duration::from_secs(60),
            frames: 600,
        }
    }

    #[test]
    fn k_bands_small_counts_only() {
        assert_eq!(band(0, 3), Banded::Value(0));
        assert_eq!(band(1, 3), Banded::Band("<3".into()));
        assert_eq!(band(2, 3), Banded::Band("<3".into()));
        assert_eq!(band(3, 3), Banded::Value(3));
        assert_eq!(band(1, 0), Banded::Value(1));
        assert_eq!(band(1, 1), Banded::Value(1));
        assert_eq!(band_mean(0.0, 3), Banded::Value(0.0));
        assert_eq!(band_mean(2.9, 3), Banded::Band("<3".into()));
        assert_eq!(band_mean(3.0, 3), Banded::Value(3.0));
    }

    #[test]
    fn release_without_dp_bands_every_field() {
        let config = PrivacyConfig {
            min_count: 3,
            ..Default::default()
        };
        let mut s = Safeguards::new(&config, None).unwrap();
        let r = s.release(&report(4, 1, 5, 2.5), "2026-11-22").unwrap();
        assert_eq!(r.count, Banded::Value(4));
        assert_eq!(r.min, Some(Banded::Band("<3".into())));
        assert_eq!(r.max, Some(Banded::Value(5)));
        assert_eq!(r.mean, Some(Banded::Band("<3".into())));
        assert_eq!(r.dp_epsilon, None);
    }

    #[test]
    fn laplace_noise_has_the_right_mean_and_variance() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let scale = 2.0;
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| laplace(&mut rng, scale)).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Laplace(0, b): mean 0, variance 2 b^2 = 8.
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 8.0).abs() < 0.25, "variance {var}");
        // Median absolute deviation of Laplace(0, b) is b ln 2.
        let mut abs: Vec<f64> = draws.iter().map(|x| x.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let mad = abs[n / 2];
        assert!((mad - scale * 2f64.ln()).abs() < 0.03, "mad {mad}");
    }

    #[test]
    fn budget_is_spent_per_release_and_resets_each_day() {
        let mut b = Budget::open(1.0, None).unwrap();
        assert_eq!(b.remaining("2026-11-22"), 1.0);
        for _ in 0..4 {
            assert!(b.spend("2026-11-22", 0.25));
        }
        assert!(
            !b.spend("2026-11-22", 0.25),
            "the fifth quarter exceeds the day"
        );
        assert_eq!(b.remaining("2026-11-22"), 0.0);
        assert!(b.spend("2026-11-23", 0.25), "a new day, a new budget");
        assert!((b.remaining("2026-11-23") - 0.75).abs() < 1e-12);
    }

    #[test]
    fn budget_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Budget::open(1.0, Some(dir.path())).unwrap();
        assert!(b.spend("2026-11-22", 0.6));
        let b = Budget::open(1.0, Some(dir.path())).unwrap();
        assert!((b.remaining("2026-11-22") - 0.4).abs() < 1e-12);
        std::fs::write(dir.path().join(BUDGET_FILE), "garbage").unwrap();
        let e = Budget::open(1.0, Some(dir.path())).unwrap_err().to_string();
        assert!(e.contains(BUDGET_FILE), "{e}");
    }

    #[test]
    fn no_epsilon_is_spent_that_the_record_cannot_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Budget::open(1.0, Some(dir.path())).unwrap();
        assert!(b.spend("2026-11-22", 0.25));
        // The record cannot be replaced (here a directory stands in its place, as a full or
        // read-only card would refuse it): nothing more is spent, so nothing is released.
        let record = dir.path().join(BUDGET_FILE);
        std::fs::remove_file(&record).unwrap();
        std::fs::create_dir(&record).unwrap();
        std::fs::write(record.join("blocker"), "").unwrap();
        assert!(!b.spend("2026-11-22", 0.25));
        assert!(!b.spend("2026-11-22", 0.25));
        assert!((b.remaining("2026-11-22") - 0.75).abs() < 1e-12);
        // Writable again: spending resumes, and the file counts it.
        std::fs::remove_dir_all(&record).unwrap();
        assert!(b.spend("2026-11-22", 0.25));
        let b = Budget::open(1.0, Some(dir.path())).unwrap();
        assert!((b.remaining("2026-11-22") - 0.5).abs() < 1e-12);
    }

    #[test]
    fn dp_releases_only_a_noisy_count_until_the_budget_is_spent() {
        let config = PrivacyConfig {
            dp_epsilon_per_day: 1.0,
            time_resolution_s: 21_600, // 4 bins a day: 0.25 each
            ..Default::default()
        };
        assert_eq!(Safeguards::epsilon_per_release(&config), 0.25);
        let mut s = Safeguards::new(&config, None).unwrap();
        let mut released = 0;
        for _ in 0..6 {
            if let Some(r) = s.release(&report(3, 3, 3, 3.0), "2026-11-22") {
                assert_eq!((r.min, r.max, r.mean), (None, None, None));
                assert_eq!(r.dp_epsilon, Some(0.25));
                released += 1;
            }
        }
        assert_eq!(released, 4);
        assert_eq!(s.budget_remaining("2026-11-22"), Some(0.0));
    }

    #[test]
    fn the_95_interval_holds_95_percent_of_draws() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(29);
        let n = DpNoise::of(&PrivacyConfig {
            dp_epsilon_per_day: 1.0,
            time_resolution_s: 3600,
            ..PrivacyConfig::default()
        })
        .unwrap();
        let inside = (0..20_000)
            .filter(|_| laplace(&mut rng, n.scale).abs() <= n.half_width_95)
            .count();
        assert!((18_800..=19_200).contains(&inside), "{inside} of 20000");
    }
}

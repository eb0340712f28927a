//! What differential privacy costs in people: the noise each release carries, stated so a DPO
//! (and `check-config`, which refuses configs whose noise drowns the count) can judge it.
//!
//! Each release adds Laplace noise of scale b = 1/ε (sensitivity 1: one person changes an
//! occupancy count by at most 1), where ε is the budget one release spends. |noise| ≤ t with
//! probability 1 − e^(−t/b), so 95 % of releases fall within ±b·ln 20 ≈ ±3·b of the true count.

use super::PrivacyConfig;

/// The noise on one release under a config's differential-privacy settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DpNoise {
    /// ε spent by one release.
    pub epsilon_per_release: f64,
    /// Laplace scale b = 1/ε, in people.
    pub scale: f64,
    /// Half-width of the interval holding 95 % of releases' noise, in people (b·ln 20).
    pub half_width_95: f64,
    /// Releases made per UTC day before the budget is spent (at most one per bin).
    pub releases_per_day: u32,
}

impl DpNoise {
    /// `None` when differential privacy is off.
    pub fn of(config: &PrivacyConfig) -> Option<Self> {
        if config.dp_epsilon_per_day <= 0.0 {
            return None;
        }
        let epsilon = if config.dp_epsilon_per_release > 0.0 {
            config.dp_epsilon_per_release
        } else if config.time_resolution_s > 0 {
            config.dp_epsilon_per_day / (86_400.0 / f64::from(config.time_resolution_s))
        } else {
            config.dp_epsilon_per_day
        };
        let bins = 86_400 / config.time_resolution_s.max(1);
        let affordable = (config.dp_epsilon_per_day / epsilon * (1.0 + 1e-9)).floor();
        let scale = 1.0 / epsilon;
        Some(Self {
            epsilon_per_release: epsilon,
            scale,
            half_width_95: scale * 20f64.ln(),
            releases_per_day: (affordable.min(f64::from(bins))) as u32,
        })
    }

    /// The interval in words, e.g. "Laplace noise of scale 1.44 people: 95 % of releases within
    /// ±4.31 people of the true count".
    pub fn describe(&self) -> String {
        format!(
            "Laplace noise of scale {} people on each release: 95 % of releases within ±{} \
             people of the true count",
            significant(self.scale),
            significant(self.half_width_95)
        )
    }
}

/// `x` to three significant figures, never rounded to nothing (0.000579, 0.0417, 1.44, 25900).
pub fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = 2 - x.abs().log10().floor() as i32;
    if digits <= 0 {
        let unit = 10f64.powi(-digits);
        format!("{}", (x / unit).round() * unit)
    } else {
        format!("{:.*}", digits as usize, x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privacy(day: f64, release: f64, bins_s: u32) -> PrivacyConfig {
        PrivacyConfig {
            dp_epsilon_per_day: day,
            dp_epsilon_per_release: release,
            time_resolution_s: bins_s,
            ..PrivacyConfig::default()
        }
    }

    #[test]
    fn noise_is_stated_in_people() {
        assert_eq!(DpNoise::of(&privacy(0.0, 0.0, 300)), None);
        // One release a day with ε = 1: b = 1, 95 % within ±ln 20 ≈ ±3.
        let n = DpNoise::of(&privacy(1.0, 0.0, 86_400)).unwrap();
        assert_eq!((n.scale, n.releases_per_day), (1.0, 1));
        assert!((n.half_width_95 - 2.9957).abs() < 1e-3, "{n:?}");
        // The case: ε = 1 a day over 10 s bins is b = 8640 people.
        let n = DpNoise::of(&privacy(1.0, 0.0, 10)).unwrap();
        assert!((n.scale - 8640.0).abs() < 1e-6, "{n:?}");
        assert_eq!(n.releases_per_day, 8640);
        assert!(n.describe().contains("scale 8640 people") && n.describe().contains("±25900"));
        // A per-release ε larger than the spread: the budget lasts 5 releases.
        let n = DpNoise::of(&privacy(0.5, 0.1, 10)).unwrap();
        assert_eq!(
            (n.releases_per_day, significant(n.scale)),
            (5, "10".to_string())
        );
    }

    #[test]
    fn small_epsilons_keep_their_digits() {
        assert_eq!(significant(2.0 / 288.0), "0.00694");
        assert_eq!(significant(5.0 / 8640.0), "0.000579");
        assert_eq!(significant(1.0 / 24.0), "0.0417");
        assert_eq!(significant(2.0), "2");
        assert_eq!(significant(25_884.3), "25900");
        assert_eq!(significant(0.1), "0.1");
    }
}

//! What a simulated fleet did: per sensor, and the one summary (`--json`: one line each, the
//! summary last; else a short table).

use std::time::Duration;

use serde::Serialize;

/// One simulated sensor's run.
#[derive(Debug, Clone, Serialize)]
pub struct SensorOutcome {
    pub sensor: String,
    /// Aggregate reports (occupancy, zone, line) made.
    pub reports_made: u64,
    /// Sequence numbers of the first and last report (every report has its own; a consumer
    /// that saw `reports_made` distinct ones between them missed none).
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// Still queued at the end: the brokers did not take them in time.
    pub unsent: u64,
    /// Dropped by the queue's bounds (`mqtt.queue_max`, `mqtt.queue_max_age_h`).
    pub dropped: u64,
    /// Connections the brokers accepted (the first and every reconnection).
    pub connections: u64,
    /// The broker it was on at the end.
    pub broker: String,
    #[serde(skip)]
    pub latencies: Vec<Duration>,
}

impl SensorOutcome {
    /// Reports the brokers acknowledged.
    pub fn reports_acked(&self) -> u64 {
        self.reports_made
            .saturating_sub(self.unsent)
            .saturating_sub(self.dropped)
    }
}

/// The fleet's run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub sensors: usize,
    /// Sensors that never connected.
    pub never_connected: usize,
    pub connections: u64,
    /// Connections after each sensor's first.
    pub reconnections: u64,
    pub reports_made: u64,
    pub reports_acked: u64,
    pub reports_dropped: u64,
    pub reports_unsent: u64,
    /// Every QoS-1 message's time from being handed to the client to its PUBACK.
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p99: Option<f64>,
    pub acks_measured: usize,
    pub duration_s: f64,
    /// Reports acknowledged per second of the run.
    pub reports_per_s: f64,
    /// Resident memory of this process at the end, and its peak, in MiB; the peak per sensor
    /// in KiB.
    pub rss_mib: Option<f64>,
    pub rss_peak_mib: Option<f64>,
    pub rss_peak_kib_per_sensor: Option<f64>,
    #[serde(skip)]
    pub outcomes: Vec<SensorOutcome>,
}

impl Summary {
    pub fn of(mut outcomes: Vec<SensorOutcome>, took: Duration) -> Self {
        let mut latencies: Vec<Duration> = outcomes
            .iter_mut()
            .flat_map(|o| std::mem::take(&mut o.latencies))
            .collect();
        latencies.sort_unstable();
        let pct = |p: f64| {
            let last = latencies.len().checked_sub(1)?;
            let at = ((last as f64) * p).round() as usize;
            latencies
                .get(at)
                .map(|d| (d.as_secs_f64() * 1e5).round() / 100.0)
        };
        let sum = |f: fn(&SensorOutcome) -> u64| outcomes.iter().map(f).sum::<u64>();
        let connections = sum(|o| o.connections);
        let reports_acked = sum(SensorOutcome::reports_acked);
        let (rss, peak) = (status_mib("VmRSS:"), status_mib("VmHWM:"));
        let sensors = outcomes.len();
        Self {
            sensors,
            never_connected: outcomes.iter().filter(|o| o.connections == 0).count(),
            connections,
            reconnections: sum(|o| o.connections.saturating_sub(1)),
            reports_made: sum(|o| o.reports_made),
            reports_acked,
            reports_dropped: sum(|o| o.dropped),
            reports_unsent: sum(|o| o.unsent),
            latency_ms_p50: pct(0.5),
            latency_ms_p99: pct(0.99),
            acks_measured: latencies.len(),
            duration_s: (took.as_secs_f64() * 10.0).round() / 10.0,
            reports_per_s: (reports_acked as f64 / took.as_secs_f64().max(1e-3) * 10.0).round()
                / 10.0,
            rss_mib: rss.map(|m| (m * 10.0).round() / 10.0),
            rss_peak_mib: peak.map(|m| (m * 10.0).round() / 10.0),
            rss_peak_kib_per_sensor: peak
                .filter(|_| sensors > 0)
                .map(|m| (m * 1024.0 / sensors as f64 * 10.0).round() / 10.0),
            outcomes,
        }
    }

    /// `--json`: one line per sensor, then the summary line.
    pub fn json_lines(&self) -> String {
        let mut out = String::new();
        for o in &self.outcomes {
            let mut v = serde_json::to_value(o).unwrap_or_default();
            v["reports_acked"] = o.reports_acked().into();
            out.push_str(&v.to_string());
            out.push('\n');
        }
        out.push_str(&serde_json::to_string(self).unwrap_or_default());
        out.push('\n');
        out
    }

    /// The text summary.
    pub fn text(&self) -> String {
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v} ms"));
        let mib = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v} MiB"));
        format!(
            "sensors              {} ({} never connected)\n\
             connections          {} ({} reconnections)\n\
             reports made         {}\n\
             reports acknowledged {} ({}/s)\n\
             reports dropped      {} (queue bounds)\n\
             reports unsent       {} (still queued at the end)\n\
             PUBACK latency       p50 {}, p99 {} ({} messages)\n\
             memory               {} now, {} peak ({} KiB a sensor)\n\
             duration             {} s\n",
            self.sensors,
            self.never_connected,
            self.connections,
            self.reconnections,
            self.reports_made,
            self.reports_acked,
            self.reports_per_s,
            self.reports_dropped,
            self.reports_unsent,
            ms(self.latency_ms_p50),
            ms(self.latency_ms_p99),
            self.acks_measured,
            mib(self.rss_mib),
            mib(self.rss_peak_mib),
            self.rss_peak_kib_per_sensor
                .map_or("-".to_string(), |v| v.to_string()),
            self.duration_s,
        )
    }
}

/// A `/proc/self/status` line's value (kB) in MiB.
fn status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

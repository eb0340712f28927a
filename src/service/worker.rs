//! The service's worker side: the pipeline thread and what it owns, and the timers the
//! publishing loop waits on beside it.

use std::time::Duration;

use tokio::sync::mpsc;

use super::ServiceError;
use crate::count::{CountReport, Counting};
use crate::detect::Detector;
use crate::health::HealthMonitor;
use crate::pipeline::{self, FramePrep, PipelineError, PipelineStats};
use crate::shutdown::Shutdown;
use crate::source::FrameSource;

pub(super) type WorkerResult = (PipelineStats, Result<(), PipelineError>);

/// Everything the pipeline thread owns.
pub(super) struct Stages {
    pub(super) source: Box<dyn FrameSource>,
    pub(super) prep: FramePrep,
    pub(super) detector: Box<dyn Detector>,
    pub(super) counting: Counting,
}

/// How often to check for progress and keep systemd's watchdog happy: half of `WATCHDOG_USEC`
/// when systemd sets it, else every 10 s.
pub(super) fn watchdog_period() -> Duration {
    std::env::var("WATCHDOG_USEC")
        .ok()
        .and_then(|us| us.parse::<u64>().ok())
        .filter(|&us| us >= 2_000)
        .map_or(Duration::from_secs(10), |us| Duration::from_micros(us / 2))
}

/// Resolves when Home Assistant announces itself `online`; never without discovery.
pub(super) async fn ha_came_online(notify: Option<&tokio::sync::Notify>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

pub(super) fn spawn_pipeline(
    mut stages: Stages,
    health: HealthMonitor,
    shutdown: Shutdown,
    tx: mpsc::Sender<(CountReport, bool)>,
) -> Result<std::thread::JoinHandle<WorkerResult>, ServiceError> {
    std::thread::Builder::new()
        .name("pipeline".into())
        .spawn(move || {
            // Counts made while the camera is blind or frozen go out marked unreliable.
            let mut emit = |report| tx.blocking_send((report, health.view_is_clear())).is_ok();
            let out = pipeline::run(
                stages.source.as_mut(),
                &stages.prep,
                stages.detector.as_mut(),
                &mut stages.counting,
                &health,
                &shutdown,
                &mut emit,
            );
            tracing::debug!(source = stages.source.name(), "source closed");
            out
        })
        .map_err(ServiceError::Thread)
}

//! `headcount aggregate`, and reading an aggregator's config file (also for `check-config`).

use std::path::Path;

use anyhow::Context;

use super::{on_runtime, Failure};
use crate::aggregate::AggregateError;
use crate::config::AggregateConfig;
use crate::privacy::sandbox;
use crate::publish::PublishError;

/// Whether a config file is an aggregator's (it has a `[site]` table).
pub(super) fn is_aggregator_file(path: &Path) -> bool {
    crate::bounded_read::read_pipe_or_file_to_string(path, crate::bounded_read::CONFIG_BYTES)
        .map(|text| AggregateConfig::is_aggregator_text(&text))
        .unwrap_or(false)
}

/// The aggregator's config, checked, with its broker password readable.
pub(super) fn load_aggregate_config(path: &Path) -> Result<AggregateConfig, Failure> {
    let config = AggregateConfig::load(path).map_err(|e| Failure::Usage(e.into()))?;
    config
        .as_sensor_config()
        .mqtt_credentials()
        .map_err(|e| Failure::Usage(e.into()))?;
    Ok(config)
}

/// Runs the site service until SIGTERM / SIGINT: state dir, sandbox, then the runtime. A config
/// or a broker refusing it is a usage error (2); anything else a runtime failure (1).
pub(super) fn aggregate(path: &Path) -> Result<(), Failure> {
    let config = load_aggregate_config(path)?;
    if !config.state.dir.is_empty() {
        std::fs::create_dir_all(&config.state.dir)
            .with_context(|| format!("cannot create state dir {}", config.state.dir))
            .map_err(Failure::Runtime)?;
    }
    let sandbox = sandbox::enforce(&config.as_sensor_config());
    tracing::info!(sandbox = %sandbox.describe(), "site aggregator sandbox");
    on_runtime(|shutdown| async move { crate::aggregate::run(&config, shutdown).await })?.map_err(
        |e| match e {
            AggregateError::Publish(p @ PublishError::Refused { .. }) => Failure::Usage(p.into()),
            e @ (AggregateError::NoBroker | AggregateError::Config(_) | AggregateError::Tls(_)) => {
                Failure::Usage(e.into())
            }
            e => Failure::Runtime(e.into()),
        },
    )
}

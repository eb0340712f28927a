//! Shutdown: one flag, set by SIGINT / SIGTERM (or by the code), read by the pipeline between
//! frames so the last interval is flushed and `offline` is published before exit.
//!
//! Must never exit the process itself: it only asks the pipeline to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cloneable stop request.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Makes SIGINT and SIGTERM set this flag from the moment this returns, synchronously (the
    /// handler stores to the flag; nothing else), so a stop asked while the service is still
    /// opening its source (a blocking ffprobe, a stream that does not answer) is seen by the
    /// code that waits, and the process is never ended by the signal's default action.
    pub fn install_signal_flag(&self) {
        for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
            if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&self.0)) {
                tracing::warn!(signal, cause = %e, "cannot install a signal handler");
            }
        }
    }

    /// Waits for SIGINT or SIGTERM, then triggers. Runs until a signal arrives.
    pub async fn on_signals(self) {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let term = signal(SignalKind::terminate());
            let int = signal(SignalKind::interrupt());
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                        _ = int.recv() => tracing::info!("SIGINT: stopping"),
                    }
                }
                _ => {
                    tracing::warn!("cannot install signal handlers; stop with SIGKILL only");
                    std::future::pending::<()>().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        self.trigger();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Shutdown::new();
        let b = a.clone();
        assert!(!b.is_triggered());
        a.trigger();
        assert!(b.is_triggered());
    }
}

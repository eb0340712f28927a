//! Privacy by design: what may leave the device, and proof of it.
//!
//! - [`mask`]: areas blacked out in the frame before inference.
//! - [`safeguards`]: k-banding of small counts, and differential-privacy noise with a daily
//!   budget, applied to every published count (its size in people:
//!   [`crate::config::dp_noise`]).
//! - [`sandbox`]: Landlock self-restriction (writes only in the state dir, no listening socket).
//! - [`report`]: the data-flow section of a DPIA, generated from the actual config.
//!
//! Nothing here ever sees more than counts, except [`mask`], which only overwrites pixels.

pub mod mask;
pub mod report;
pub mod safeguards;
pub mod sandbox;

/// Why a privacy component could not start.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("state dir {path}: {cause}")]
    State {
        path: std::path::PathBuf,
        cause: String,
    },
}

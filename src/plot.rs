//! What the pictures (`survey --svg`, `eval --svg`) share: their one error, plotters' backend
//! errors as text. A leaf: the pictures are drawn from aggregates only, by their own modules.

/// A picture could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the picture: {0}")]
pub struct DrawError(String);

/// A plotters error as a [`DrawError`].
pub fn drawn<E: std::fmt::Debug>(e: E) -> DrawError {
    DrawError(format!("{e:?}"))
}

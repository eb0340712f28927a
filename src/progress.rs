//! Progress a person can see: frames done / total, frames per second and the time left, on
//! stderr, for `replay` and `eval` run from a terminal. Nothing when stderr is not a terminal
//! (a pipe, a log, systemd) or with `--quiet`. Shows frame counts only, never what is in them.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress line, or nothing.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar over `total` frames (a spinner when the total is unknown: a stream, a paced file),
    /// shown only when `wanted` and stderr is a terminal.
    pub fn new(total: Option<u64>, wanted: bool) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let (bar, template) = match total.filter(|&t| t > 0) {
            Some(total) => (
                ProgressBar::new(total),
                "{bar:30} {pos}/{len} frames  {per_sec}  ETA {eta}",
            ),
            None => (
                ProgressBar::no_length(),
                "{spinner} {pos} frames  {per_sec}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(2));
        Self(Some(bar))
    }

    /// Frames done so far.
    pub fn set(&self, frames: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(frames);
        }
    }

    /// Removes the line (the run's own output follows).
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Frames a clip of `duration` gives at `fps`.
pub fn frames_in(duration: Option<std::time::Duration>, fps: f64) -> Option<u64> {
    let frames = duration?.as_secs_f64() * fps;
    (frames.is_finite() && frames >= 1.0).then(|| frames.round() as u64)
}

//! A live source that survives its input going away: when the input fails or ends (a camera
//! unplugged, a driver reset), health says so and the input is opened again with backoff, frame
//! times carrying on (the outage included, so they keep pace with the wall clock). Never writes a frame anywhere but the inner source's buffer.

use std::time::{Duration, Instant};

use super::{Frame, FrameSource, Picture, SourceError};
use crate::health::{HealthMonitor, SourceState};
use crate::shutdown::Shutdown;

/// A source that can lend out the frame its last `next_frame` read, again (so a wrapper can
/// decide what to do about a failure before borrowing the frame).
pub trait Relend: FrameSource {
    fn relend(&mut self) -> Option<Frame<'_>>;
}

/// A live source that reopens its input when it fails or ends (a camera unplugged, a driver
/// reset), with exponential backoff (1 s doubling to 30 s), saying so in health meanwhile.
/// Frame times and indices continue across reopenings; the time without input counts in them, as
/// it does on the wall clock.
pub struct Reopening<S, F> {
    open: F,
    current: Option<S>,
    health: HealthMonitor,
    stop: Shutdown,
    name: String,
    fps: f64,
    picture: Picture,
    /// Source time at which the current input was opened.
    offset: Duration,
    last_t: Duration,
    index: u64,
    max_backoff: Duration,
}

impl<S: Relend, F: FnMut() -> Result<S, SourceError> + Send> Reopening<S, F> {
    /// Opens the input once (a failure here is a start-up error: nothing is running yet).
    pub fn new(mut open: F, health: HealthMonitor, stop: Shutdown) -> Result<Self, SourceError> {
        let first = open()?;
        Ok(Self {
            name: first.name().to_string(),
            fps: first.fps(),
            picture: first.picture(),
            open,
            current: Some(first),
            health,
            stop,
            offset: Duration::ZERO,
            last_t: Duration::ZERO,
            index: 0,
            max_backoff: Duration::from_secs(30),
        })
    }

    /// Caps the backoff (tests).
    pub fn with_max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// Sleeps `d` unless a stop is requested first; false when stopping.
    fn wait(&self, d: Duration) -> bool {
        let step = Duration::from_millis(50);
        let mut left = d;
        while !left.is_zero() {
            if self.stop.is_triggered() {
                return false;
            }
            let s = left.min(step);
            std::thread::sleep(s);
            left -= s;
        }
        !self.stop.is_triggered()
    }

    /// Drops the failed input and opens it again until that works or a stop is requested.
    fn reopen(&mut self, why: String) -> bool {
        self.current = None;
        let lost = Instant::now();
        tracing::warn!(source = %self.name, cause = %why, "input lost; reopening");
        self.health.set_source(SourceState::Reconnecting);
        self.health.set_error(why);
        let mut backoff = Duration::from_secs(1).min(self.max_backoff);
        loop {
            if !self.wait(backoff) {
                return false;
            }
            match (self.open)() {
                Ok(source) => {
                    tracing::info!(source = %self.name, "input reopened");
                    self.current = Some(source);
                    self.offset = self.last_t + lost.elapsed();
                    return true;
                }
                Err(e) => {
                    self.health.set_error(e.to_string());
                    backoff = (backoff * 2).min(self.max_backoff);
                }
            }
        }
    }
}

impl<S: Relend, F: FnMut() -> Result<S, SourceError> + Send> FrameSource for Reopening<S, F> {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        loop {
            if self.stop.is_triggered() {
                return Ok(None);
            }
            // Whether the current input produced a frame (checked before borrowing it out, so
            // the failure path can replace the input).
            let outcome = match self.current.as_mut() {
                Some(source) => match source.next_frame() {
                    Ok(Some(_)) => None,
                    Ok(None) => Some("the input ended".to_string()),
                    Err(e) => Some(e.to_string()),
                },
                None => Some("the input is closed".to_string()),
            };
            match outcome {
                None => break,
                Some(why) => {
                    if !self.reopen(why) {
                        return Ok(None);
                    }
                }
            }
        }
        // The frame just read is still in the current input's buffer: lend it out again.
        let Some(source) = self.current.as_mut() else {
            return Ok(None);
        };
        let frame = source.relend();
        self.index += 1;
        match frame {
            Some(f) => {
                let t = self.offset + f.t;
                self.last_t = t;
                Ok(Some(Frame {
                    index: self.index - 1,
                    t,
                    geometry: f.geometry,
                    rgb: f.rgb,
                }))
            }
            None => Ok(None),
        }
    }

    fn fps(&self) -> f64 {
        self.fps
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn picture(&self) -> Picture {
        self.picture
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Fit, FrameGeometry};

    /// A camera that delivers `frames` frames per opening, then fails (unplugged).
    struct Flaky {
        buffer: Vec<u8>,
        left: u32,
        t: Duration,
        last: Option<Duration>,
    }

    impl FrameSource for Flaky {
        fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
            if self.left == 0 {
                return Err(SourceError::Decode {
                    url: "/dev/video9".into(),
                    frames: 0,
                    cause: "No such device".into(),
                });
            }
            self.left -= 1;
            self.t += Duration::from_millis(100);
            self.last = Some(self.t);
            self.relend().map(Some).ok_or_else(unreachable_frame)
        }
        fn fps(&self) -> f64 {
            10.0
        }
        fn name(&self) -> &str {
            "/dev/video9"
        }
    }

    fn unreachable_frame() -> SourceError {
        SourceError::Decode {
            url: "/dev/video9".into(),
            frames: 0,
            cause: "no frame".into(),
        }
    }

    impl Relend for Flaky {
        fn relend(&mut self) -> Option<Frame<'_>> {
            Some(Frame {
                index: 0,
                t: self.last?,
                geometry: FrameGeometry {
                    width: 2,
                    height: 1,
                    fit: Fit::Stretch,
                },
                rgb: &mut self.buffer,
            })
        }
    }

    #[test]
    fn a_lost_camera_is_reported_and_reopened_with_time_carrying_on() {
        let health = HealthMonitor::new();
        let stop = Shutdown::new();
        let mut opens = 0;
        let open = move || {
            opens += 1;
            // The second attempt fails too (still unplugged), the third works.
            if opens == 2 {
                return Err(SourceError::NotFound {
                    path: "/dev/video9".into(),
                });
            }
            Ok(Flaky {
                buffer: vec![0; 6],
                left: 3,
                t: Duration::ZERO,
                last: None,
            })
        };
        let mut source = Reopening::new(open, health.clone(), stop.clone())
            .unwrap()
            .with_max_backoff(Duration::from_millis(20));
        let mut times = Vec::new();
        for _ in 0..6 {
            let f = source.next_frame().unwrap().unwrap();
            times.push((f.index, f.t.as_millis()));
        }
        // Times go on from where they were, plus the time spent without a camera: two waits
        // of 20 ms at least.
        assert_eq!(&times[..3], &[(0, 100), (1, 200), (2, 300)]);
        let outage = times[3].1 - 400;
        assert!((40..1000).contains(&outage), "{times:?}");
        assert_eq!(
            &times[3..],
            &[(3, 400 + outage), (4, 500 + outage), (5, 600 + outage)]
        );
        let snapshot = health.snapshot();
        assert_eq!(snapshot.source.as_str(), "reconnecting");
        assert!(
            snapshot
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("/dev/video9")),
            "{:?}",
            snapshot.last_error
        );
        // A stop while waiting to reopen ends the source cleanly.
        for _ in 0..3 {
            let _ = source.next_frame();
        }
        stop.trigger();
        assert!(source.next_frame().unwrap().is_none());
    }
}

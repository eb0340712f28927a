//! Latest-frame-wins capture for live sources (streams, cameras, `--realtime`): a capture thread
//! keeps reading the source into a small pool of reused buffers, and the pipeline always gets the
//! newest frame. When inference is slower than the source, older frames are overwritten (and
//! counted as dropped) instead of queueing up, so counts stay current rather than lagging ever
//! further behind. Files read as fast as possible do not use this: every frame is counted.
//!
//! Frames never leave the pool: three buffers allocated once and reused; the newest frame is
//! copied into the consumer's buffer and its pool buffer zeroed at once. This module never copies
//! a frame anywhere but between its own buffers.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use zeroize::Zeroize;

use super::{Frame, FrameGeometry, FrameSource, Picture, SourceError};

const POOL: usize = 3;

/// A captured frame waiting in a pool buffer.
#[derive(Debug, Clone, Copy)]
struct Ready {
    slot: usize,
    index: u64,
    t: Duration,
}

#[derive(Debug)]
struct Shared {
    buffers: Vec<Vec<u8>>,
    /// Buffers the capture thread may fill.
    free: Vec<usize>,
    /// The newest captured frame not yet taken.
    latest: Option<Ready>,
    /// How the capture ended: `Some(Ok)` at end of stream, `Some(Err)` on failure.
    finished: Option<Result<(), SourceError>>,
    dropped: u64,
    stop: bool,
}

/// A live source wrapped so that the newest frame wins.
pub struct LatestFrame {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    /// The current frame, copied out of the pool (whose buffer goes straight back).
    frame: Vec<u8>,
    geometry: FrameGeometry,
    picture: Picture,
    fps: f64,
    name: String,
}

impl LatestFrame {
    /// Starts the capture thread over `source`.
    pub fn spawn<S: FrameSource + 'static>(
        mut source: S,
        geometry: FrameGeometry,
    ) -> Result<Self, SourceError> {
        let name = source.name().to_string();
        let fps = source.fps();
        let picture = source.picture();
        let len = geometry.rgb_len();
        let shared = Arc::new((
            Mutex::new(Shared {
                buffers: vec![vec![0; len]; POOL],
                free: (0..POOL).collect(),
                latest: None,
                finished: None,
                dropped: 0,
                stop: false,
            }),
            Condvar::new(),
        ));
        let for_thread = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || capture(&mut source, &for_thread))
            .map_err(|cause| SourceError::Io {
                url: name.clone(),
                cause,
            })?;
        Ok(Self {
            shared,
            frame: vec![0; len],
            geometry,
            picture,
            fps,
            name,
        })
    }
}

/// The capture loop: read into a free buffer, publish it as the latest, recycle what it replaces.
fn capture<S: FrameSource>(source: &mut S, shared: &(Mutex<Shared>, Condvar)) {
    let (lock, ready) = shared;
    loop {
        let result = source.next_frame();
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        if s.stop {
            break;
        }
        match result {
            Ok(Some(frame)) => {
                let Some(slot) = s.free.pop() else {
                    // All buffers busy (cannot happen with one consumer): drop this frame.
                    s.dropped += 1;
                    continue;
                };
                s.buffers[slot].copy_from_slice(frame.rgb);
                let (index, t) = (frame.index, frame.t);
                if let Some(old) = s.latest.replace(Ready { slot, index, t }) {
                    s.free.push(old.slot);
                    s.dropped += 1;
                }
                ready.notify_one();
            }
            Ok(None) => {
                s.finished = Some(Ok(()));
                ready.notify_one();
                break;
            }
            Err(e) => {
                s.finished = Some(Err(e));
                ready.notify_one();
                break;
            }
        }
    }
    // Frames must not outlive the capture: zero the free buffers (a frame still waiting for
    // the consumer is zeroed when it is taken, or when the consumer is dropped).
    let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
    let Shared { buffers, free, .. } = &mut *s;
    for &slot in free.iter() {
        buffers[slot].as_mut_slice().zeroize();
    }
}

impl FrameSource for LatestFrame {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        let (lock, ready) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = s.latest.take() {
                // Copy out under the lock and give the buffer straight back, so the capture
                // thread always has a free one.
                self.frame.copy_from_slice(&s.buffers[r.slot]);
                s.buffers[r.slot].as_mut_slice().zeroize();
                s.free.push(r.slot);
                return Ok(Some(Frame {
                    index: r.index,
                    t: r.t,
                    geometry: self.geometry,
                    rgb: &mut self.frame,
                }));
            }
            match s.finished.take() {
                Some(Ok(())) => {
                    s.finished = Some(Ok(()));
                    return Ok(None);
                }
                Some(Err(e)) => return Err(e),
                None => {}
            }
            s = ready.wait(s).unwrap_or_else(|e| e.into_inner());
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

    fn dropped(&self) -> u64 {
        let (lock, _) = &*self.shared;
        lock.lock().map(|s| s.dropped).unwrap_or(0)
    }
}

impl Drop for LatestFrame {
    fn drop(&mut self) {
        self.frame.as_mut_slice().zeroize();
        let (lock, _) = &*self.shared;
        if let Ok(mut s) = lock.lock() {
            // The capture thread stops at its next frame (and drops the source, ending ffmpeg);
            // it is not joined, so a stalled stream cannot hold up shutdown.
            s.stop = true;
            if let Some(r) = s.latest.take() {
                s.buffers[r.slot].as_mut_slice().zeroize();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Fit;

    /// A source producing numbered frames (every byte = index) at a fixed pace.
    struct Ticker {
        buffer: Vec<u8>,
        next: u64,
        limit: u64,
        pace: Duration,
        fail_at_end: bool,
    }

    impl FrameSource for Ticker {
        fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
            if self.next == self.limit {
                return if self.fail_at_end {
                    Err(SourceError::Decode {
                        url: "ticker".into(),
                        frames: self.limit,
                        cause: "broken".into(),
                    })
                } else {
                    Ok(None)
                };
            }
            std::thread::sleep(self.pace);
            self.buffer.fill(self.next as u8);
            self.next += 1;
            Ok(Some(Frame {
                index: self.next - 1,
                t: self.pace * (self.next as u32 - 1),
                geometry: geometry(),
                rgb: &mut self.buffer,
            }))
        }
        fn fps(&self) -> f64 {
            1.0 / self.pace.as_secs_f64()
        }
        fn name(&self) -> &str {
            "ticker"
        }
    }

    fn geometry() -> FrameGeometry {
        FrameGeometry {
            width: 4,
            height: 2,
            fit: Fit::Stretch,
        }
    }

    fn ticker(limit: u64, pace_ms: u64, fail_at_end: bool) -> Ticker {
        Ticker {
            buffer: vec![0; geometry().rgb_len()],
            next: 0,
            limit,
            pace: Duration::from_millis(pace_ms),
            fail_at_end,
        }
    }

    #[test]
    fn a_slow_consumer_gets_the_newest_frames_and_drops_are_counted() {
        let mut live = LatestFrame::spawn(ticker(60, 2, false), geometry()).unwrap();
        let mut seen = Vec::new();
        while let Some(frame) = live.next_frame().unwrap() {
            // Pixels and metadata travel together.
            assert!(frame.rgb.iter().all(|&b| b == frame.index as u8));
            seen.push(frame.index);
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
        assert!(
            seen.len() < 60,
            "a slow consumer must skip frames: {seen:?}"
        );
        assert_eq!(seen.len() as u64 + live.dropped(), 60, "{seen:?}");
    }

    #[test]
    fn a_fast_consumer_gets_every_frame() {
        let mut live = LatestFrame::spawn(ticker(20, 20, false), geometry()).unwrap();
        let mut n = 0;
        while live.next_frame().unwrap().is_some() {
            n += 1;
        }
        assert_eq!((n, live.dropped()), (20, 0));
    }

    #[test]
    fn errors_arrive_after_the_frames_before_them() {
        let mut live = LatestFrame::spawn(ticker(3, 1, true), geometry()).unwrap();
        let mut frames = 0;
        let err = loop {
            match live.next_frame() {
                Ok(Some(_)) => frames += 1,
                Ok(None) => panic!("expected an error"),
                Err(e) => break e,
            }
        };
        assert!(frames >= 1);
        assert!(err.to_string().contains("broken"));
    }
}

//! Video files and streams (anything ffmpeg reads, RTSP included) through an `ffmpeg` child
//! process that writes raw RGB frames, already scaled to the detector's input, into a pipe.
//!
//! The pipe is read into one reused buffer. ffmpeg's stderr is kept (first lines only, text, never
//! pixels) so a failure can say why. This module must never write frames anywhere else, and never
//! log a stream URL with its credentials.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zeroize::Zeroize;

use super::child::{
    die_with_parent, spawn_error, strip_component, widen_pipe, Input, Killed, ReadWatch,
};
use super::decode_scale::lowres_level;
pub use super::options::{CameraInput, FfmpegOptions};
use super::probe::{probe, Probe};
use super::{Fit, Frame, FrameGeometry, FrameSource, Picture, SourceError};
use crate::redact::redact_url;

/// A running ffmpeg decoder and the one buffer its frames are read into.
pub struct FfmpegSource {
    name: String,
    url: String,
    child: Child,
    stdout: ChildStdout,
    stderr_head: Arc<Mutex<VecDeque<String>>>,
    stderr_thread: Option<JoinHandle<()>>,
    buffer: Vec<u8>,
    geometry: FrameGeometry,
    picture: Picture,
    /// The input's own size, pixels (0 when ffprobe did not say).
    size: (u32, u32),
    /// A file's length as its container says (none for a camera or a stream).
    duration: Option<Duration>,
    /// MJPEG decoded at 1/2^lowres scale (0 = full size).
    lowres: u32,
    fps: f64,
    next_index: u64,
    /// Index and time of the frame now in `buffer`.
    last: Option<(u64, Duration)>,
    media_clock: bool,
    started: Instant,
    finished: bool,
    watch: ReadWatch,
    timeouts: (Duration, Duration),
}

const STDERR_LINES: usize = 8;

impl FfmpegSource {
    /// Probes `url` with ffprobe (so a missing or unreadable input fails here, before anything
    /// runs), then starts ffmpeg delivering frames of `geometry`.
    pub fn open(
        url: &str,
        geometry: FrameGeometry,
        options: &FfmpegOptions,
    ) -> Result<Self, SourceError> {
        let camera = options.camera.as_ref();
        let is_stream = url.contains("://") || camera.is_some();
        let name = redact_url(url);
        if !url.contains("://") && !Path::new(url).exists() {
            if camera.is_some() {
                return Err(SourceError::camera_not_found(Path::new(url)));
            }
            return Err(SourceError::NotFound {
                path: PathBuf::from(url),
            });
        }
        // A camera is not probed (that would open it twice); its mode was negotiated.
        let probe = match (camera, &options.probed) {
            (Some(c), _) => Probe {
                fps: if c.fps > 0.0 { c.fps } else { 30.0 },
                width: c.width,
                height: c.height,
                codec: c.input_format.to_string(),
                duration: None,
            },
            (None, Some(probed)) => probed.clone(),
            (None, None) => probe(url, &name, options)?,
        };
        let native_fps = probe.fps;
        let fps = if options.fps > 0.0 {
            options.fps
        } else {
            native_fps
        };

        let mut filters = Vec::new();
        if options.fps > 0.0 {
            filters.push(format!("fps={}", options.fps));
        }
        let (w, h) = (geometry.width, geometry.height);
        // Cameras deliver 4:2:2 / 4:2:0 YUV: interpolate chroma at full resolution for an exact
        // conversion (tests/camera_formats.rs). Files keep the plain area filter the accuracy
        // figures were measured with.
        let flags = if options.exact_chroma || camera.is_some() {
            "area+accurate_rnd+full_chroma_int"
        } else {
            "area"
        };
        match geometry.fit {
            Fit::Stretch => filters.push(format!("scale={w}:{h}:flags={flags}")),
            Fit::Letterbox => filters.push(format!(
                "scale={w}:{h}:flags={flags}:force_original_aspect_ratio=decrease,\
                 pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=0x727272"
            )),
        }
        let mut cmd = Command::new(&options.ffmpeg);
        cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
        if options.threads > 0 {
            // Global: the scale filter's threads. Before `-i`, `-threads` sizes the decoder.
            let threads = options.threads.to_string();
            cmd.args(["-filter_threads", &threads, "-threads", &threads]);
        }
        if options.realtime {
            cmd.arg("-re");
        }
        if let Some(c) = camera {
            cmd.args(["-f", "v4l2", "-input_format", c.input_format])
                .args(["-video_size", &format!("{}x{}", c.width, c.height)]);
            if c.fps > 0.0 {
                cmd.args(["-framerate", &c.fps.to_string()]);
            }
        }
        let lowres = if options.mjpeg_lowres && probe.codec == "mjpeg" {
            lowres_level((probe.width, probe.height), geometry)
        } else {
            0
        };
        if lowres > 0 {
            // Fewer pixels decoded (scaled IDCT and colour conversion) for a small model input.
            cmd.args(["-lowres", &lowres.to_string()]);
        }
        if !is_stream {
            // A file should decode cleanly: stop at the first corrupt packet so it is reported,
            // instead of counting people in garbage. Streams tolerate transient glitches.
            cmd.arg("-xerror");
        }
        let rtsp = url.starts_with("rtsp://") || url.starts_with("rtsps://");
        let input = Input::new(
            url,
            if rtsp {
                &[("rtsp_transport", "tcp")]
            } else {
                &[]
            },
        );
        input.apply(&mut cmd);
        cmd.args(["-map", "0:v:0", "-an", "-sn", "-dn", "-vf"])
            .arg(filters.join(","))
            .args(["-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = die_with_parent(&mut cmd)
            .spawn()
            .map_err(|e| spawn_error(&options.ffmpeg, e))?;
        if let Err(e) = input.feed(&mut child) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SourceError::Unreadable {
                url: name,
                cause: format!("cannot hand the URL to ffmpeg: {e}"),
            });
        }
        let watch = ReadWatch::start(
            child.id(),
            options.open_timeout,
            options.read_timeout,
            options.stop.clone(),
        );
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SourceError::Unreadable {
                url: name,
                cause: "ffmpeg pipes could not be opened".into(),
            });
        };
        widen_pipe(&stdout);
        let stderr_head = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES)));
        let head = Arc::clone(&stderr_head);
        let stderr_thread = std::thread::Builder::new()
            .name("ffmpeg-stderr".into())
            .spawn(move || {
                // Keeps the first lines (the cause); the rest is drained so ffmpeg never blocks.
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut t) = head.lock() {
                        if t.len() < STDERR_LINES {
                            t.push_back(line);
                        }
                    }
                }
            })
            .ok();
        tracing::info!(source = %name, width = w, height = h, fps, "video source opened");
        Ok(Self {
            name,
            url: url.to_string(),
            child,
            stdout,
            stderr_head,
            stderr_thread,
            buffer: vec![0; geometry.rgb_len()],
            geometry,
            picture: Picture::letterboxed(probe.width, probe.height, geometry),
            size: (probe.width, probe.height),
            duration: probe.duration,
            lowres,
            fps,
            next_index: 0,
            last: None,
            media_clock: !options.realtime && !is_stream,
            started: Instant::now(),
            finished: false,
            watch,
            timeouts: (options.open_timeout, options.read_timeout),
        })
    }

    /// The input's own width and height in pixels, as ffprobe reported them (0 if unknown).
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// A file's length as its container says, from the same ffprobe run (for progress).
    pub fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// MJPEG is decoded at 1/2^n of its size (0 = full size, or not MJPEG).
    pub fn mjpeg_lowres(&self) -> u32 {
        self.lowres
    }

    /// The first thing ffmpeg wrote to stderr: the cause of a failure.
    fn stderr_cause(&mut self) -> String {
        // The stderr reader ends when ffmpeg exits; wait for it so the message is complete.
        if let Some(handle) = self.stderr_thread.take() {
            let _ = handle.join();
        }
        let lines = self
            .stderr_head
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        // The first message is the root cause; later ones are consequences.
        let cause = lines
            .iter()
            .find(|l| !l.trim().is_empty())
            .map(|l| strip_component(l.trim()).replace(&self.url, &self.name))
            .unwrap_or_default();
        if cause.is_empty() {
            "ffmpeg failed without a message".into()
        } else {
            cause
        }
    }

    /// Reads until the buffer is full or the pipe ends; returns how many bytes arrived.
    fn fill_buffer(&mut self) -> Result<usize, SourceError> {
        self.watch.begin();
        let got = self.read_frame();
        self.watch
            .end(got.as_ref().is_ok_and(|&n| n == self.buffer.len()));
        got
    }

    fn read_frame(&mut self) -> Result<usize, SourceError> {
        let mut got = 0;
        while got < self.buffer.len() {
            match self.stdout.read(&mut self.buffer[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(cause) => {
                    return Err(SourceError::Io {
                        url: self.name.clone(),
                        cause,
                    })
                }
            }
        }
        Ok(got)
    }
}

impl FrameSource for FfmpegSource {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, SourceError> {
        if self.finished {
            return Ok(None);
        }
        let got = self.fill_buffer()?;
        let index = self.next_index;
        if got < self.buffer.len() {
            self.finished = true;
            let status = self.child.wait().map_err(|cause| SourceError::Io {
                url: self.name.clone(),
                cause,
            })?;
            match self.watch.killed(self.timeouts.0, self.timeouts.1) {
                // A stop was asked while waiting for a frame: the input ends here.
                Some(Killed::Stopped) => return Ok(None),
                Some(Killed::Stalled(after)) => {
                    return Err(SourceError::Stalled {
                        url: self.name.clone(),
                        after_s: after.as_secs(),
                        key: if index == 0 {
                            "source.open_timeout_s"
                        } else {
                            "source.read_timeout_s"
                        },
                    })
                }
                None => {}
            }
            if !status.success() {
                return Err(SourceError::Decode {
                    url: self.name.clone(),
                    frames: index,
                    cause: self.stderr_cause(),
                });
            }
            if got > 0 {
                return Err(SourceError::Truncated {
                    url: self.name.clone(),
                    index,
                    got,
                    want: self.buffer.len(),
                });
            }
            if index == 0 {
                return Err(SourceError::Decode {
                    url: self.name.clone(),
                    frames: 0,
                    cause: "no frame could be decoded".into(),
                });
            }
            return Ok(None);
        }
        self.next_index += 1;
        let t = if self.media_clock {
            Duration::from_secs_f64(index as f64 / self.fps)
        } else {
            self.started.elapsed()
        };
        self.last = Some((index, t));
        Ok(Some(Frame {
            index,
            t,
            geometry: self.geometry,
            rgb: &mut self.buffer,
        }))
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

impl super::reopen::Relend for FfmpegSource {
    fn relend(&mut self) -> Option<Frame<'_>> {
        let (index, t) = self.last?;
        Some(Frame {
            index,
            t,
            geometry: self.geometry,
            rgb: &mut self.buffer,
        })
    }
}

impl Drop for FfmpegSource {
    fn drop(&mut self) {
        // The last frame must not outlive the source: overwrite it before the memory is freed.
        self.buffer.zeroize();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
#[path = "ffmpeg_tests.rs"]
mod tests;

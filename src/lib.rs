//! headcount: counts people from a camera or video without letting an image leave memory, and
//! publishes only aggregate counts over MQTT.
//!
//! # Layout
//!
//! Data flows top-down, one module per stage:
//!
//! - [`source`]: frames are born here, in one reused buffer (ffmpeg pipe, V4L2 camera); the
//!   scene-health check (`source::view`) reads each once to tell a blinded or frozen camera.
//! - [`detect`]: a frame is read once into the model's input tensor; person boxes come out
//!   (TF Lite backend, per-family output decoders, NMS), with their coarse colours only when
//!   the tracker weighs them.
//! - [`count`]: boxes become counts ([`count::Counting`]: tracker → occupancy, zones, entrance
//!   lines, one `step` per frame); boxes and tracks die here.
//! - [`publish`]: counts become typed, schema'd messages on stdout and MQTT.
//! - [`privacy`]: masks (pixels blacked out before detection), publishing safeguards (k-bands,
//!   differential privacy), the Landlock sandbox and the DPIA data-flow report.
//!
//! Around them: [`config`] (the TOML file, validated, as plain data: the lowest layer, which each
//! stage builds itself from; the DP noise in people), [`pipeline`] (the per-frame step shared by
//! the daemon and `eval`, and the daemon's loop), [`health`] (frame rate, inference time, source state and the camera's view
//! for the `health` topic), [`notify`]
//! (systemd readiness and watchdog),
//! [`service`] (`Service::open` then `run`: wires the stages and threads for `run` / `replay`,
//! the stop injected), [`shutdown`] (the stop flag, wired to signals by [`cli`]), [`redact`]
//! (URLs without credentials),
//! [`bounded_read`] (files the config names: regular files only, size-bounded), [`state_file`] (the small records kept in the state dir), [`state_lock`] (one process per
//! state dir), [`wall_clock`] (source time → wall-clock time, following NTP's steps; never ahead
//! of it for a file), [`cli`] (subcommands and exit codes), [`eval`] (the pipeline scored against
//! MOT ground truth), [`progress`] (frames done on a terminal), [`survey`] (the installer's survey: a k-blanked grid
//! of where people walk, stand and cross, and the lines, tiles, masks and zones it suggests),
//! [`plot`] (the pictures' shared error), [`devices`] (cameras and Edge TPUs found), [`simulate`]
//! (a fleet of virtual sensors: the real publisher fed synthetic counts), [`aggregate`] (the site
//! service beside the broker: building occupancy across doors, rooms, sensors' states). See ARCHITECTURE.md for threads
//! and frame lifetime.
//!
//! Nothing here writes pixels, crops or boxes to disk, logs or any socket, and nothing opens a
//! listening socket.

pub mod aggregate;
pub mod bounded_read;
pub mod cli;
pub mod config;
pub mod count;
pub mod detect;
pub mod devices;
pub mod eval;
pub mod health;
pub mod notify;
pub mod pipeline;
pub mod plot;
pub mod privacy;
pub mod progress;
pub mod publish;
pub mod redact;
pub mod service;
pub mod shutdown;
pub mod simulate;
pub mod source;
pub mod state_file;
pub mod state_lock;
pub mod survey;
pub mod wall_clock;

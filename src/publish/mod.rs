//! Publishing: aggregate reports → typed messages → stdout (replay) and MQTT.
//!
//! The only way out of the process for anything derived from frames. It accepts only
//! [`OccupancyReport`]s (numbers) and turns them into the schema types of [`schema`]; it never
//! receives a frame or a box, and never logs a payload.
//!
//! Transports: [`mqtt`]. A persisted store-and-forward queue joins here.

pub mod mqtt;
pub mod schema;

use std::io::Write;
use std::time::{Duration, SystemTime};

pub use mqtt::{MqttPublisher, MqttSettings};
pub use schema::{Availability, Message, OccupancyPayload, Topic, SCHEMA_VERSION};

use crate::count::OccupancyReport;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot connect to MQTT broker {url}: {cause}")]
    Refused { url: String, cause: String },
    #[error("MQTT client closed: {0}")]
    Closed(String),
    #[error("MQTT broker did not acknowledge {pending} message(s) before shutdown")]
    Unacknowledged { pending: u64 },
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
}

/// Turns reports into messages and sends each to every configured output.
pub struct Publisher {
    root: String,
    print_json: bool,
    mqtt: Option<MqttPublisher>,
    seq: u64,
    /// Wall-clock time of source time zero: `ts` = this + the report's source time.
    epoch: SystemTime,
}

impl Publisher {
    pub fn new(root: String, print_json: bool, mqtt: Option<MqttPublisher>) -> Self {
        Self {
            root,
            print_json,
            mqtt,
            seq: 0,
            epoch: SystemTime::now(),
        }
    }

    /// Announces the sensor `online` (retained; the Last Will says `offline`).
    pub async fn announce(&mut self) -> Result<(), PublishError> {
        self.send(&Message::Availability(Availability::Online))
            .await
    }

    /// Publishes one occupancy report.
    pub async fn occupancy(&mut self, report: &OccupancyReport) -> Result<(), PublishError> {
        let message = Message::Occupancy(self.payload(report));
        self.send(&message).await
    }

    fn payload(&mut self, r: &OccupancyReport) -> OccupancyPayload {
        self.seq += 1;
        OccupancyPayload {
            schema: SCHEMA_VERSION,
            seq: self.seq,
            ts: humantime::format_rfc3339_seconds(self.epoch + r.t).to_string(),
            count: r.count,
            min: r.min,
            max: r.max,
            mean: (r.mean * 100.0).round() / 100.0,
            window_s: (r.window.as_secs_f64() * 1000.0).round() / 1000.0,
        }
    }

    async fn send(&mut self, message: &Message) -> Result<(), PublishError> {
        if let Some(mqtt) = self.mqtt.as_mut() {
            mqtt.publish(message).await?;
        }
        if self.print_json {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", message.json_line(&self.root))
                .and_then(|_| out.flush())
                .map_err(PublishError::Stdout)?;
        }
        Ok(())
    }

    /// Ends publishing: `offline`, then waits for the broker to acknowledge everything.
    pub async fn close(self, timeout: Duration) -> Result<(), PublishError> {
        if self.print_json {
            let line = Message::Availability(Availability::Offline).json_line(&self.root);
            println!("{line}");
        }
        match self.mqtt {
            Some(mqtt) => mqtt.close(timeout).await,
            None => Ok(()),
        }
    }
}

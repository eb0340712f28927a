//! Store-and-forward delivery for [`Publisher`]: hands queued aggregates to the MQTT session in
//! order, forgets them once acknowledged, notices dropped and new connections (re-announcing the
//! sensor on each), and drains the queue at shutdown. Sends only what the queue holds; never
//! blocks on the broker.

use std::time::{Duration, SystemTime};

use super::{Availability, Message, PublishError, Publisher, WINDOW};

impl Publisher {
    /// Periodic upkeep (about every second): notices a dropped or new connection, re-announces
    /// the sensor on a new one, and sends what the queue holds.
    pub async fn tick(&mut self) -> Result<(), PublishError> {
        let Some(ended) = self.mqtt.as_mut().map(|m| m.next_session()) else {
            return Ok(());
        };
        if let Some(end) = ended {
            // Entries the ended session got acknowledged leave the queue; the rest are sent
            // again on the next connection (at least once).
            self.forget_acked(end.acked);
            self.handed.clear();
        }
        let Some(mqtt) = self.mqtt.as_ref() else {
            return Ok(());
        };
        if mqtt.is_connected() && mqtt.session_number() != self.announced_session {
            self.announced_session = mqtt.session_number();
            // A new connection: the broker may have restarted and lost its retained state.
            self.send(&Message::Availability(Availability::Online))
                .await?;
            self.send_privacy(SystemTime::now()).await?;
            if let Some(h) = self.last_health.clone() {
                self.send(&Message::Health(h)).await?;
            }
            self.announce_discovery().await?;
            self.resend_current();
        }
        self.flush();
        Ok(())
    }

    /// On a new connection: each aggregate topic's newest report that is no longer queued
    /// (acknowledged by an earlier connection) is published again, retained, with its own `seq`
    /// and `ts` (a duplicate to a live subscriber, deduplicated by `seq`). The queue sends the
    /// topics it still holds, newest retained.
    fn resend_current(&mut self) {
        let Some(mqtt) = self.mqtt.as_mut() else {
            return;
        };
        for (topic, payload) in &self.current {
            let queued = (0..self.outbox.len())
                .any(|i| self.outbox.get(i).is_some_and(|e| &e.topic == topic));
            if !queued {
                mqtt.try_publish_raw(topic.clone(), payload.clone().into_bytes(), true);
            }
        }
    }

    /// Forgets acknowledged queue entries and hands the next ones to the client.
    pub(super) fn flush(&mut self) {
        let Some(mqtt) = self.mqtt.as_mut() else {
            return;
        };
        let (_, acked) = mqtt.counts();
        self.forget_acked(acked);
        let Some(mqtt) = self.mqtt.as_mut() else {
            return;
        };
        while self.handed.len() < self.outbox.len().min(WINDOW) {
            let Some(e) = self.outbox.get(self.handed.len()) else {
                break;
            };
            let retained = self.outbox.is_newest_on_topic(self.handed.len());
            if !mqtt.try_publish_raw(e.topic.clone(), e.payload.clone().into_bytes(), retained) {
                break;
            }
            self.handed.push_back(mqtt.counts().0);
        }
    }

    /// Names the zones and lines whose reports this publisher will receive, by index.
    pub fn with_counters(mut self, zones: Vec<String>, lines: Vec<String>) -> Self {
        self.zones = zones;
        self.lines = lines;
        self
    }

    /// Drops from the queue the entries handed to the current session that its `acked` PUBACKs
    /// cover (acknowledgements arrive in order).
    fn forget_acked(&mut self, acked: u64) {
        let done = self.handed.iter().take_while(|&&n| n <= acked).count();
        if done > 0 {
            self.handed.drain(..done);
            self.outbox.remove_front(done);
        }
    }

    /// Ends publishing: sends what the queue holds, `offline`, then waits (up to `timeout`) for
    /// the broker to acknowledge everything. What is still unacknowledged stays in the persisted
    /// queue for the next start, and is reported.
    pub async fn close(mut self, timeout: Duration) -> Result<(), PublishError> {
        // Printed first, as on MQTT; a closed stdout must not keep the broker from its backlog.
        let printed = self.print(&Message::Availability(Availability::Offline));
        if self.mqtt.is_none() {
            return printed;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        // Give a reconnecting broker the time we have to take the backlog.
        while !self.outbox.is_empty() && tokio::time::Instant::now() < deadline {
            self.tick().await?;
            let all_handed = self.outbox.len() == self.handed.len();
            if let Some(mqtt) = self
                .mqtt
                .as_mut()
                .filter(|m| all_handed && m.is_connected())
            {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                if mqtt.drain(left).await.is_ok() {
                    let (_, acked) = mqtt.counts();
                    self.forget_acked(acked);
                    continue;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let Some(mqtt) = self.mqtt.take() else {
            return printed;
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let url = mqtt.url();
        let closed = mqtt.close(left.max(Duration::from_secs(1))).await;
        if !self.outbox.is_empty() {
            let saved = self.outbox.save_now();
            return Err(PublishError::Queued {
                url,
                pending: self.outbox.len() as u64,
                kept: match (self.outbox.path(), saved) {
                    (None, _) => "lost: set state.dir to keep them".into(),
                    (Some(p), Ok(())) => format!("kept in {} for the next start", p.display()),
                    // Never claim a save that did not happen.
                    (Some(_), Err(why)) => format!(
                        "NOT all kept: {why}; only those saved before the card filled are \
                         published at the next start"
                    ),
                },
            });
        }
        closed.and(printed)
    }
}

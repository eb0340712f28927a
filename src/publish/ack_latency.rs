//! Publish-to-PUBACK latency, measured when asked (`headcount simulate`): the moment each QoS-1
//! message is handed to the client, and the moment its acknowledgement arrives (a broker
//! acknowledges one connection's messages in order). Holds instants and durations only.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One sensor's latencies, shared by its publisher and its sessions' drivers.
#[derive(Debug, Default)]
pub struct AckLatency {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// When each message still waiting for its PUBACK was handed over, oldest first.
    waiting: VecDeque<Instant>,
    /// Latencies of acknowledged messages, microseconds.
    samples: Vec<u32>,
}

impl AckLatency {
    /// A message was handed to the current session's client.
    pub(super) fn sent(&self) {
        if let Ok(mut i) = self.inner.lock() {
            i.waiting.push_back(Instant::now());
        }
    }

    /// The oldest waiting message was acknowledged.
    pub(super) fn acked(&self) {
        if let Ok(mut i) = self.inner.lock() {
            if let Some(at) = i.waiting.pop_front() {
                let us = u32::try_from(at.elapsed().as_micros()).unwrap_or(u32::MAX);
                i.samples.push(us);
            }
        }
    }

    /// A new session starts: what the last one never got acknowledged is not waited for.
    pub(super) fn new_session(&self) {
        if let Ok(mut i) = self.inner.lock() {
            i.waiting.clear();
        }
    }

    /// The latencies measured so far, emptied.
    pub fn take(&self) -> Vec<Duration> {
        match self.inner.lock() {
            Ok(mut i) => std::mem::take(&mut i.samples)
                .into_iter()
                .map(|us| Duration::from_micros(u64::from(us)))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_pair_with_sends_in_order_and_a_new_session_forgets_the_waiting() {
        let l = AckLatency::default();
        l.sent();
        l.sent();
        l.acked();
        l.new_session();
        l.acked(); // the second message died with its session: nothing to pair
        l.sent();
        l.acked();
        assert_eq!(l.take().len(), 2);
        assert!(l.take().is_empty());
    }
}

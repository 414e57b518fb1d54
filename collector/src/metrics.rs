//! Prometheus metrics, served as text at `/metrics`: events accepted and rejected by reason,
//! batches by outcome, batch latency, queue depth and store commit time.
//!
//! Labels are closed sets (reason codes, status classes), never values from requests, so a
//! client cannot blow up the series count or smuggle data into the metrics.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::LogState;

/// A reason label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Closed set: a drop reason or an error code.
    pub reason: String,
}

/// The collector's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Events durably stored (new, not counting duplicates).
    pub accepted: Counter,
    /// Events acknowledged again as duplicates of stored ones.
    pub duplicates: Counter,
    /// Events rejected, by reason.
    pub rejected: Family<Reason, Counter>,
    /// Batches refused whole, by error code.
    pub refused: Family<Reason, Counter>,
    /// Time from request to response for accepted batches.
    pub batch_seconds: Histogram,
    /// Events waiting for the store.
    pub queue_depth: Gauge,
    /// Time of one group commit.
    pub commit_seconds: Histogram,
    /// Events per group commit.
    pub commit_events: Histogram,
    /// Bytes in the embedded store's write-ahead log.
    pub wal_bytes: Gauge,
    /// Checkpoints of the embedded store's log by its checkpoint thread.
    pub checkpoints: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Create and register every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sieve");
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            accepted: Counter::default(),
            duplicates: Counter::default(),
            rejected: Family::default(),
            refused: Family::default(),
            // 0.5 ms .. ~16 s
            batch_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            queue_depth: Gauge::default(),
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            commit_events: Histogram::new(exponential_buckets(1.0, 2.0, 15)),
            wal_bytes: Gauge::default(),
            checkpoints: Counter::default(),
        };
        registry.register(
            "events_accepted",
            "Events durably stored",
            m.accepted.clone(),
        );
        registry.register(
            "events_duplicate",
            "Events acknowledged as duplicates of stored ones",
            m.duplicates.clone(),
        );
        registry.register(
            "events_rejected",
            "Events rejected, by reason",
            m.rejected.clone(),
        );
        registry.register(
            "batches_refused",
            "Batches refused whole, by error code",
            m.refused.clone(),
        );
        registry.register(
            "batch_duration_seconds",
            "Time to answer an accepted batch",
            m.batch_seconds.clone(),
        );
        registry.register(
            "queue_depth_events",
            "Events waiting for the store",
            m.queue_depth.clone(),
        );
        registry.register(
            "store_commit_seconds",
            "Duration of one group commit",
            m.commit_seconds.clone(),
        );
        registry.register(
            "store_commit_events",
            "Events per group commit",
            m.commit_events.clone(),
        );
        registry.register(
            "store_wal_bytes",
            "Bytes in the SQLite store's write-ahead log after the last commit",
            m.wal_bytes.clone(),
        );
        registry.register(
            "store_checkpoints",
            "Checkpoints of the SQLite store's log by its checkpoint thread",
            m.checkpoints.clone(),
        );
        *m.registry.lock().expect("fresh mutex") = registry;
        m
    }

    /// Count a rejected event.
    pub fn reject(&self, reason: &str) {
        self.rejected
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Count a refused batch.
    pub fn refuse(&self, code: &str) {
        self.refused
            .get_or_create(&Reason {
                reason: code.to_owned(),
            })
            .inc();
    }

    /// Record one group commit.
    pub fn commit(&self, took: Duration, events: usize) {
        self.commit_seconds.observe(took.as_secs_f64());
        self.commit_events.observe(events as f64);
    }

    /// The Prometheus text exposition, with the writer's queue and the store's log as they are
    /// now.
    pub fn encode(&self, queued: usize, log: Option<LogState>) -> String {
        self.queue_depth
            .set(i64::try_from(queued).unwrap_or(i64::MAX));
        if let Some(log) = log {
            self.wal_bytes
                .set(i64::try_from(log.wal_bytes).unwrap_or(i64::MAX));
            // The store counts; the counter catches up to it.
            let shown = self.checkpoints.get();
            self.checkpoints
                .inc_by(log.checkpoints.saturating_sub(shown));
        }
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_metric_and_closed_labels() {
        let m = Metrics::new();
        m.accepted.inc_by(3);
        m.reject("not_clean");
        m.refuse("bad_write_key");
        m.commit(Duration::from_millis(2), 12);
        let log = LogState {
            wal_bytes: 3 << 20,
            checkpoints: 4,
        };
        let text = m.encode(7, Some(log));
        for want in [
            "sieve_events_accepted_total 3",
            "sieve_events_rejected_total{reason=\"not_clean\"} 1",
            "sieve_batches_refused_total{reason=\"bad_write_key\"} 1",
            "sieve_queue_depth_events 7",
            "sieve_store_commit_seconds_count 1",
            "sieve_batch_duration_seconds_bucket",
            "sieve_store_wal_bytes 3145728",
            "sieve_store_checkpoints_total 4",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
        // The counter follows the store's own count, which only grows.
        let log = LogState {
            wal_bytes: 0,
            checkpoints: 6,
        };
        let text = m.encode(0, Some(log));
        assert!(text.contains("sieve_store_checkpoints_total 6"), "{text}");
        assert!(text.contains("sieve_store_wal_bytes 0"), "{text}");
    }
}

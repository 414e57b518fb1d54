//! The bounded queue of clean events waiting to be sent, and the batches in flight.
//!
//! Only clean events enter, as the JSON text core wrote for them (a `String` here is never raw
//! app data: `lib.rs` queues only what `clean_event` or `verify_event` returned). The queue is
//! bounded because a page that is offline for hours must not grow without limit: when it is
//! full the oldest event goes and `overflow` counts it, so the loss is visible in `stats()`
//! rather than silent. A batch taken for sending stays in flight, under a number, until the JS
//! wrapper acks it (delivered: forgotten) or nacks it (not delivered: back at the front, in
//! order, so retries keep the original order and the bound still holds).
//!
//! Not done here: timers, retries, backoff or any network I/O (the JS wrapper does them), and
//! cleaning. The bound applies to queued events; events in flight are the JS wrapper's few
//! outstanding requests and rejoin the bound when nacked.

use alloc::collections::VecDeque;

use crate::envelope::Envelope;
use crate::prelude::*;

/// A batch moved in flight by [`Queue::take_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenBatch {
    /// The number to ack or nack it by.
    pub n: u32,
    /// How many events it carries.
    pub events: usize,
    /// The batch JSON, ready to POST.
    pub body: String,
}

/// Why [`Queue::take_batch`] returned no batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoBatch {
    /// Nothing is queued (or every queued event was too large to ever send).
    Empty,
    /// `max_events` is zero or `max_bytes` cannot hold even an empty batch: a caller bug.
    /// Nothing was taken or dropped.
    Unusable,
}

/// Queued clean events, batches in flight, and what was lost.
#[derive(Debug)]
pub struct Queue {
    events: VecDeque<String>,
    max: usize,
    /// Batches in flight by number: the JS wrapper keeps only a few outstanding, so a list
    /// searched in turn does (and keeps a map type out of the wasm).
    in_flight: Vec<(u32, Vec<String>)>,
    next_n: u32,
    overflow: u64,
    oversized: u64,
    sent: u64,
}

impl Queue {
    /// An empty queue holding at most `max` events (at least one).
    pub fn new(max: usize) -> Queue {
        Queue {
            events: VecDeque::new(),
            max: max.max(1),
            in_flight: Vec::new(),
            // Batch numbers start at 1 so that no batch is `0`, which JS code easily mistakes
            // for "no batch".
            next_n: 1,
            overflow: 0,
            oversized: 0,
            sent: 0,
        }
    }

    /// Queue a clean event's JSON at the back; when full, the oldest goes (counted).
    pub fn push(&mut self, event: String) {
        self.events.push_back(event);
        self.enforce_bound();
    }

    fn enforce_bound(&mut self) {
        while self.events.len() > self.max {
            self.events.pop_front();
            self.overflow += 1;
        }
    }

    /// Move events from the front into a new in-flight batch: at most `max_events`, and only
    /// as many as keep the whole batch body within `max_bytes` (a beacon carries 64 KiB). An
    /// event that would not fit even alone is dropped and counted as oversized: it could never
    /// be sent, and left at the front it would block every event behind it.
    pub fn take_batch(
        &mut self,
        envelope: &Envelope,
        sent_at: &str,
        anonymous: bool,
        max_events: usize,
        max_bytes: usize,
    ) -> Result<TakenBatch, NoBatch> {
        let mut body = envelope.open(sent_at, anonymous);
        let mut size = body.len() + Envelope::TAIL_LEN;
        if max_events == 0 || size > max_bytes {
            return Err(NoBatch::Unusable);
        }
        let mut taken: Vec<String> = Vec::new();
        while taken.len() < max_events {
            let Some(front) = self.events.front() else {
                break;
            };
            // One comma between events.
            let extra = front.len() + usize::from(!taken.is_empty());
            if size + extra > max_bytes {
                if taken.is_empty() {
                    self.events.pop_front();
                    self.oversized += 1;
                    continue;
                }
                break;
            }
            size += extra;
            if let Some(event) = self.events.pop_front() {
                taken.push(event);
            }
        }
        if taken.is_empty() {
            return Err(NoBatch::Empty);
        }
        body.reserve_exact(size - body.len());
        for (i, event) in taken.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(event);
        }
        Envelope::close(&mut body);
        debug_assert_eq!(body.len(), size, "the size bookkeeping matches the body");
        let n = self.next_number();
        let events = taken.len();
        self.in_flight.push((n, taken));
        Ok(TakenBatch { n, events, body })
    }

    /// A batch number not in flight. Wraps after 2^32 - 1 batches, skipping 0 and any number
    /// still outstanding.
    fn next_number(&mut self) -> u32 {
        loop {
            let n = self.next_n;
            self.next_n = self.next_n.checked_add(1).unwrap_or(1);
            if !self.in_flight.iter().any(|(m, _)| *m == n) {
                return n;
            }
        }
    }

    /// Take batch `n` out of flight, if it is there.
    fn remove_in_flight(&mut self, n: u32) -> Option<Vec<String>> {
        let i = self.in_flight.iter().position(|(m, _)| *m == n)?;
        Some(self.in_flight.swap_remove(i).1)
    }

    /// Batch `n` was delivered: forget it. `false` if no such batch is in flight.
    pub fn ack(&mut self, n: u32) -> bool {
        match self.remove_in_flight(n) {
            Some(events) => {
                self.sent += events.len() as u64;
                true
            }
            None => false,
        }
    }

    /// Batch `n` was not delivered: put its events back at the front, in their order. If that
    /// passes the bound, the oldest go (counted). `false` if no such batch is in flight.
    pub fn nack(&mut self, n: u32) -> bool {
        let Some(events) = self.remove_in_flight(n) else {
            return false;
        };
        for event in events.into_iter().rev() {
            self.events.push_front(event);
        }
        self.enforce_bound();
        true
    }

    /// Events queued (not in flight).
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// No event queued.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The queued events' JSON, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(String::as_str)
    }

    /// Events in flight, over all batches.
    pub fn in_flight_events(&self) -> usize {
        self.in_flight.iter().map(|(_, events)| events.len()).sum()
    }

    /// Events dropped because the queue was full.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// Events dropped because even alone they were larger than `max_bytes`.
    pub fn oversized(&self) -> u64 {
        self.oversized
    }

    /// Events acked as delivered.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope::new(&"ab".repeat(32), "2026-11-22", "0.1.0")
    }

    const SENT_AT: &str = "2026-11-22T17:03:12.441Z";

    /// Events as opaque JSON texts: the queue never looks inside them.
    fn ev(i: usize) -> String {
        let mut s = String::from("{\"i\":");
        s.push_str(&i.to_string());
        s.push('}');
        s
    }

    fn events_of(body: &str) -> Vec<u64> {
        let v: serde_json::Value = serde_json::from_str(body).expect("batch is json");
        v["events"]
            .as_array()
            .expect("events array")
            .iter()
            .map(|e| e["i"].as_u64().expect("i"))
            .collect()
    }

    fn queued(q: &Queue) -> Vec<String> {
        q.iter().map(str::to_owned).collect()
    }

    #[test]
    fn full_queue_drops_the_oldest_and_counts_it() {
        let mut q = Queue::new(3);
        for i in 0..5 {
            q.push(ev(i));
        }
        assert_eq!(queued(&q), [ev(2), ev(3), ev(4)]);
        assert_eq!(q.overflow(), 2);
    }

    #[test]
    fn nack_puts_events_back_at_the_front_in_order() {
        let mut q = Queue::new(10);
        for i in 0..4 {
            q.push(ev(i));
        }
        let b = q
            .take_batch(&envelope(), SENT_AT, false, 2, 64 * 1024)
            .expect("batch");
        assert_eq!(events_of(&b.body), [0, 1]);
        q.push(ev(4));
        assert_eq!(q.in_flight_events(), 2);
        assert!(q.nack(b.n));
        assert_eq!(queued(&q), [ev(0), ev(1), ev(2), ev(3), ev(4)]);
        assert_eq!(q.in_flight_events(), 0);
        assert!(!q.nack(b.n), "a batch is nacked once");
    }

    #[test]
    fn nack_past_the_bound_drops_the_oldest() {
        let mut q = Queue::new(3);
        for i in 0..3 {
            q.push(ev(i));
        }
        let b = q
            .take_batch(&envelope(), SENT_AT, false, 2, 64 * 1024)
            .expect("batch");
        q.push(ev(3));
        q.push(ev(4));
        assert_eq!(q.overflow(), 0);
        assert!(q.nack(b.n));
        // 0 and 1 are back, but 0 is the oldest and the queue holds 3.
        assert_eq!(queued(&q), [ev(2), ev(3), ev(4)]);
        assert_eq!(q.overflow(), 2);
    }

    #[test]
    fn ack_forgets_and_counts_sent() {
        let mut q = Queue::new(10);
        q.push(ev(0));
        q.push(ev(1));
        let b = q
            .take_batch(&envelope(), SENT_AT, false, 10, 64 * 1024)
            .expect("batch");
        assert_eq!(b.events, 2);
        assert!(q.ack(b.n));
        assert!(!q.ack(b.n));
        assert!(!q.nack(b.n));
        assert_eq!(q.sent(), 2);
        assert!(q.is_empty());
        assert_eq!(q.in_flight_events(), 0);
    }

    #[test]
    fn max_bytes_splits_batches_and_every_body_fits() {
        let mut q = Queue::new(100);
        for i in 0..30 {
            q.push(ev(i));
        }
        let env = envelope();
        let empty = env.empty_batch(SENT_AT).len();
        // Room for about four events of 7 or 8 bytes each.
        let max = empty + 4 * 8;
        let mut seen = Vec::new();
        let mut batches = 0;
        while let Ok(b) = q.take_batch(&env, SENT_AT, false, 100, max) {
            assert!(b.body.len() <= max, "{} > {max}", b.body.len());
            let got = events_of(&b.body);
            assert_eq!(got.len(), b.events);
            seen.extend(got);
            batches += 1;
        }
        assert!(batches >= 8, "30 events in {batches} batches");
        assert_eq!(seen, (0..30).collect::<Vec<u64>>());
        assert_eq!(q.oversized(), 0);
    }

    #[test]
    fn an_event_too_large_to_ever_send_is_dropped_and_counted() {
        let mut q = Queue::new(10);
        let env = envelope();
        let max = env.empty_batch(SENT_AT).len() + 20;
        q.push(ev(0));
        q.push(format!("{{\"i\":1,\"pad\":\"{}\"}}", "x".repeat(40)));
        q.push(ev(2));
        let b = q.take_batch(&env, SENT_AT, false, 10, max).expect("batch");
        assert_eq!(events_of(&b.body), [0]);
        let b = q.take_batch(&env, SENT_AT, false, 10, max).expect("batch");
        assert_eq!(events_of(&b.body), [2]);
        assert_eq!(q.oversized(), 1);
        assert_eq!(
            q.take_batch(&env, SENT_AT, false, 10, max),
            Err(NoBatch::Empty)
        );
    }

    #[test]
    fn unusable_limits_take_and_drop_nothing() {
        let mut q = Queue::new(10);
        q.push(ev(0));
        let env = envelope();
        let empty = env.empty_batch(SENT_AT).len();
        assert_eq!(
            q.take_batch(&env, SENT_AT, false, 0, 64 * 1024),
            Err(NoBatch::Unusable)
        );
        assert_eq!(
            q.take_batch(&env, SENT_AT, false, 10, empty - 1),
            Err(NoBatch::Unusable)
        );
        assert_eq!(q.len(), 1);
        assert_eq!(q.oversized(), 0);
    }

    #[test]
    fn batch_numbers_are_distinct_and_never_zero() {
        let mut q = Queue::new(10);
        q.next_n = u32::MAX;
        let mut ns = Vec::new();
        for i in 0..3 {
            q.push(ev(i));
            ns.push(
                q.take_batch(&envelope(), SENT_AT, false, 1, 64 * 1024)
                    .expect("batch")
                    .n,
            );
        }
        assert_eq!(ns, [u32::MAX, 1, 2]);
    }
}

//! What the SDK did not send, counted: the numbers behind `stats()` and debug mode.
//!
//! `track` never throws into the host page (DESIGN.md): a bad call or a dropped field is
//! counted here instead, by the reason code core gives it (the serde tag of `DropReason`,
//! e.g. `undeclared`, `not_in_enum`), so a developer can see what their instrumentation loses
//! and why. Only codes and counts are kept, never field values.
//!
//! Not done here: the queue's own counts (queued, in flight, sent, overflow, oversized), which
//! `queue` keeps and [`Counters::to_json`] reads.

use serde_json::{Map, Value};
use sieve_core::Drop;

use crate::prelude::*;
use crate::queue::Queue;

/// Counts of calls and values the SDK refused.
#[derive(Debug, Default)]
pub struct Counters {
    /// Whole events not queued: cleaning dropped them, or storage held one that failed the
    /// collector's check.
    dropped_events: u64,
    /// Dropped fields by reason code, in the order first seen: a handful of codes at most, so
    /// a list searched in turn (and no map type of its own in the wasm).
    dropped_fields: Vec<(&'static str, u64)>,
    /// Calls the SDK could not act on: invalid JSON, a bad event id, an unknown batch number.
    invalid_calls: u64,
}

impl Counters {
    /// Count each drop under its reason code.
    pub fn record_drops(&mut self, drops: &[Drop]) {
        for drop in drops {
            let code = drop.reason.code();
            match self.dropped_fields.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => self.dropped_fields.push((code, 1)),
            }
        }
    }

    /// Count one whole event not queued.
    pub fn record_dropped_event(&mut self) {
        self.dropped_events += 1;
    }

    /// Count one call the SDK could not act on.
    pub fn record_invalid_call(&mut self) {
        self.invalid_calls += 1;
    }

    /// The `stats()` JSON: `{"queued", "in_flight", "sent", "dropped_events",
    /// "dropped_fields": {reason: count}, "overflow", "invalid_calls"}`. `in_flight` counts
    /// events, like `queued`. An event too large to ever send is a dropped event.
    pub fn to_json(&self, queue: &Queue) -> String {
        // Built as a `Map` of plain values rather than with `json!`, which goes through
        // `serde_json::to_value` and its error path for every field: the same text, less wasm.
        // The `Map` sorts its keys, so the codes come out in order whatever order they came in.
        let mut dropped_fields = Map::new();
        for (code, n) in &self.dropped_fields {
            dropped_fields.insert((*code).to_owned(), Value::from(*n));
        }
        let fields: [(&str, Value); 7] = [
            ("queued", queue.len().into()),
            ("in_flight", queue.in_flight_events().into()),
            ("sent", queue.sent().into()),
            (
                "dropped_events",
                (self.dropped_events + queue.oversized()).into(),
            ),
            ("dropped_fields", dropped_fields.into()),
            ("overflow", queue.overflow().into()),
            ("invalid_calls", self.invalid_calls.into()),
        ];
        let mut stats = Map::new();
        for (key, value) in fields {
            stats.insert(key.to_owned(), value);
        }
        Value::Object(stats).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sieve_core::DropReason;

    #[test]
    fn drops_are_counted_by_their_serde_reason_code() {
        let mut c = Counters::default();
        c.record_drops(&[
            Drop::new("props.a", DropReason::Undeclared),
            Drop::new("props.b", DropReason::Undeclared),
            Drop::new("props.c", DropReason::WrongType { expected: "string" }),
        ]);
        let v: Value = serde_json::from_str(&c.to_json(&Queue::new(1))).expect("json");
        assert_eq!(
            v["dropped_fields"],
            json!({"undeclared": 2, "wrong_type": 1})
        );
    }
}

//! What the SDK did not send, counted: the numbers behind `stats()` and debug mode.
//!
//! `track` never throws into the host page (DESIGN.md): a bad call or a dropped field is
//! counted here instead, by the reason code core gives it (the serde tag of `DropReason`,
//! e.g. `undeclared`, `not_in_enum`), so a developer can see what their instrumentation loses
//! and why. Only codes and counts are kept, never field values.
//!
//! Not done here: the queue's own counts (queued, in flight, sent, overflow, oversized), which
//! `queue` keeps and [`Counters::to_json`] reads.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sieve_core::Drop;

use crate::queue::Queue;

/// Counts of calls and values the SDK refused.
#[derive(Debug, Default)]
pub struct Counters {
    /// Whole events not queued: cleaning dropped them, or storage held one that failed the
    /// collector's check.
    dropped_events: u64,
    /// Dropped fields by reason code.
    dropped_fields: BTreeMap<String, u64>,
    /// Calls the SDK could not act on: invalid JSON, a bad event id, an unknown batch number.
    invalid_calls: u64,
}

/// The reason code of a drop: the `reason` tag core's serializer gives it. Read through serde
/// rather than matched here, so a reason core adds later is counted under its own code.
fn reason_code(drop: &Drop) -> String {
    match serde_json::to_value(&drop.reason) {
        Ok(Value::Object(mut map)) => match map.remove("reason") {
            Some(Value::String(code)) => code,
            _ => String::from("other"),
        },
        _ => String::from("other"),
    }
}

impl Counters {
    /// Count each drop under its reason code.
    pub fn record_drops(&mut self, drops: &[Drop]) {
        for drop in drops {
            *self.dropped_fields.entry(reason_code(drop)).or_insert(0) += 1;
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
        json!({
            "queued": queue.len(),
            "in_flight": queue.in_flight_events(),
            "sent": queue.sent(),
            "dropped_events": self.dropped_events + queue.oversized(),
            "dropped_fields": self.dropped_fields,
            "overflow": queue.overflow(),
            "invalid_calls": self.invalid_calls,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

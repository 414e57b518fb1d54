//! What the SDK did not send, counted: the numbers behind `stats()` and debug mode.
//!
//! `track` never throws into the host page (DESIGN.md): a bad call or a dropped field is
//! counted here instead, by the reason code core gives it (the serde tag of `DropReason`,
//! e.g. `undeclared`, `not_in_enum`), so a developer can see what their instrumentation loses
//! and why. Only codes and counts are kept, never field values.
//!
//! Not done here: the queue's own counts (queued, in flight, sent, overflow, oversized), which
//! `queue` keeps and [`Counters::to_json`] reads.

use sieve_core::Drop;
use sieve_core::json::push_json_string;

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
        // Written by hand, keys in sorted order (as serde_json's `Map` wrote them before), the
        // reason codes too: the same text, without serde_json's `Value` in the download.
        let mut codes: Vec<(&str, u64)> = self.dropped_fields.clone();
        // A handful of codes: an insertion sort, not a second sort routine in the wasm.
        for i in 1..codes.len() {
            let mut j = i;
            while j > 0 && codes[j - 1].0 > codes[j].0 {
                codes.swap(j - 1, j);
                j -= 1;
            }
        }
        let mut out = String::from("{\"dropped_events\":");
        out.push_str(&(self.dropped_events + queue.oversized()).to_string());
        out.push_str(",\"dropped_fields\":{");
        for (i, (code, n)) in codes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, code);
            out.push(':');
            out.push_str(&n.to_string());
        }
        let fields: [(&str, u64); 5] = [
            ("in_flight", queue.in_flight_events() as u64),
            ("invalid_calls", self.invalid_calls),
            ("overflow", queue.overflow()),
            ("queued", queue.len() as u64),
            ("sent", queue.sent()),
        ];
        out.push('}');
        for (key, n) in fields {
            out.push_str(",\"");
            out.push_str(key);
            out.push_str("\":");
            out.push_str(&n.to_string());
        }
        out.push('}');
        out
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
        c.record_drops(&[Drop::new("props.d", DropReason::Empty)]);
        c.record_invalid_call();
        c.record_dropped_event();
        let text = c.to_json(&Queue::new(1));
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            v["dropped_fields"],
            json!({"empty": 1, "undeclared": 2, "wrong_type": 1})
        );
        assert_eq!(
            (v["invalid_calls"].clone(), v["dropped_events"].clone()),
            (json!(1), json!(1))
        );
        // Byte for byte what serde_json's `Map` (keys sorted, compact) wrote before.
        assert_eq!(text, v.to_string());
    }
}

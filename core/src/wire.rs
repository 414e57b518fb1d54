//! The wire format: the batch the browser sends to `POST /v1/events`.
//!
//! ```json
//! {"v": 1,
//!  "schema": "<64 hex: fingerprint of the schema that cleaned these events>",
//!  "epoch": "2026-11-22",
//!  "sent_at": "2026-11-22T17:03:12.441Z",
//!  "sdk": {"name": "sieve-wasm", "version": "0.1.0"},
//!  "events": [{"id": "<32 hex>", "event": "signup", "time": "2026-11-22T17:00:00Z", ...}]}
//! ```
//!
//! `epoch` names the key epoch whose client key hashed the pseudonyms, so the collector re-keys
//! them with the pepper of that same epoch even when a batch crosses midnight. `sent_at` is
//! precise (the collector knows the arrival time anyway) and only serves to correct a wrong
//! client clock. The collector reads the envelope with [`ReceivedBatch::parse`] and each event
//! on its own with [`crate::verify_event`], so one bad event never takes its batch down.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::CleanEvent;
use crate::json::{JsonObject, JsonView, Node};
use crate::prelude::*;
use crate::schema::Fingerprint;
use crate::transform::time::UnixTime;

/// The wire format version this crate writes and reads.
pub const WIRE_VERSION: u32 = 1;

/// Who sent a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sdk {
    /// SDK name, e.g. `sieve-wasm`.
    pub name: String,
    /// SDK version.
    pub version: String,
}

/// A batch as the browser sends it: only clean events can be put in one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    /// Wire format version.
    pub v: u32,
    /// Fingerprint of the schema that cleaned the events.
    pub schema: Fingerprint,
    /// Key epoch of the client key that hashed the pseudonyms.
    pub epoch: String,
    /// When the batch was sent, by the client's clock (RFC 3339).
    pub sent_at: String,
    /// Who sent it.
    pub sdk: Sdk,
    /// The visitor signalled Global Privacy Control or Do Not Track: the events carry no
    /// identifier, and the collector computes no visitor id for them either (no session link).
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub anonymous: bool,
    /// The events.
    pub events: Vec<CleanEvent>,
}

/// A batch as the collector receives it: the envelope checked field by field, the events
/// left as JSON to be verified one by one with [`crate::verify_event`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedBatch {
    /// Fingerprint of the schema that cleaned the events.
    pub schema: Fingerprint,
    /// Key epoch of the client key that hashed the pseudonyms.
    pub epoch: String,
    /// When the batch was sent, by the client's clock.
    pub sent_at: UnixTime,
    /// Who sent it.
    pub sdk: Sdk,
    /// The visitor signalled Global Privacy Control or Do Not Track.
    pub anonymous: bool,
    /// The events, unverified.
    pub events: Vec<Value>,
}

/// A checked envelope: [`ReceivedBatch`] without its events.
struct Envelope {
    schema: Fingerprint,
    epoch: String,
    sent_at: UnixTime,
    sdk: Sdk,
    anonymous: bool,
}

/// What is wrong with a batch envelope: the field and the reason, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct EnvelopeError {
    /// The envelope field.
    pub field: &'static str,
    /// Why it is refused.
    pub reason: &'static str,
}

/// Longest SDK name or version, and epoch id, accepted: they are labels, not payloads.
const MAX_LABEL: usize = 64;

impl ReceivedBatch {
    /// Check a received envelope. Unknown envelope fields are refused: a client that sends
    /// more than the format has is not one of ours.
    pub fn parse(v: &Value) -> Result<ReceivedBatch, EnvelopeError> {
        let (
            Envelope {
                schema,
                epoch,
                sent_at,
                sdk,
                anonymous,
            },
            events,
        ) = Self::read(v)?;
        Ok(ReceivedBatch {
            schema,
            epoch,
            sent_at,
            sdk,
            anonymous,
            events: events.to_vec(),
        })
    }

    /// Check an envelope exactly as [`ReceivedBatch::parse`] does, in any JSON view, without
    /// taking its events (the browser checks its own envelope once at start-up with it).
    pub fn check<V: JsonView>(v: &V) -> Result<(), EnvelopeError> {
        Self::read(v).map(|_| ())
    }

    /// The envelope's fields and the events. Not a `ReceivedBatch`: building one, even with
    /// no events, links `Value`'s drop into the browser build, which only checks.
    fn read<V: JsonView>(v: &V) -> Result<(Envelope, &[V]), EnvelopeError> {
        let err = |field, reason| EnvelopeError { field, reason };
        let obj = v
            .as_object()
            .ok_or(err("batch", "expected a json object"))?;
        // An unknown key is client text: name the problem, not the key.
        if obj.iter().any(|(k, _)| {
            !matches!(
                k,
                "v" | "schema" | "epoch" | "sent_at" | "sdk" | "anonymous" | "events"
            )
        }) {
            return Err(err(
                "batch",
                "unknown field (expected v, schema, epoch, sent_at, sdk, anonymous, events)",
            ));
        }
        match obj.get("v").and_then(JsonView::as_u64) {
            Some(v) if v == u64::from(WIRE_VERSION) => {}
            Some(_) => {
                return Err(err(
                    "v",
                    "unsupported wire format version (this collector reads 1)",
                ));
            }
            None => return Err(err("v", "missing or not a number")),
        }
        let schema = obj
            .get("schema")
            .and_then(JsonView::as_str)
            .and_then(Fingerprint::from_hex)
            .ok_or(err(
                "schema",
                "expected the schema fingerprint, 64 lowercase hex digits",
            ))?;
        let epoch = obj
            .get("epoch")
            .and_then(JsonView::as_str)
            .filter(|e| {
                !e.is_empty()
                    && e.len() <= MAX_LABEL
                    && e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
            .ok_or(err("epoch", "expected a key epoch id such as 2026-11-22"))?
            .to_owned();
        let sent_at = obj
            .get("sent_at")
            .and_then(JsonView::as_str)
            .and_then(UnixTime::parse_rfc3339)
            .ok_or(err("sent_at", "expected an rfc 3339 timestamp"))?;
        let sdk = obj.get("sdk").ok_or(err("sdk", "missing"))?;
        let label = |f: &str| {
            sdk.get(f)
                .and_then(JsonView::as_str)
                .filter(|s| !s.is_empty() && s.len() <= MAX_LABEL)
                .map(str::to_owned)
        };
        let sdk = match (
            sdk.as_object().map(|o| o.len()),
            label("name"),
            label("version"),
        ) {
            (Some(2), Some(name), Some(version)) => Sdk { name, version },
            _ => {
                return Err(err(
                    "sdk",
                    "expected {\"name\", \"version\"}, each at most 64 characters",
                ));
            }
        };
        let anonymous = match obj.get("anonymous").map(JsonView::node) {
            None => false,
            Some(Node::Bool(b)) => b,
            Some(_) => return Err(err("anonymous", "expected true or false")),
        };
        let events = obj
            .get("events")
            .and_then(JsonView::as_array)
            .ok_or(err("events", "expected an array"))?;
        let envelope = Envelope {
            schema,
            epoch,
            sent_at,
            sdk,
            anonymous,
        };
        Ok((envelope, events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({"v": 1, "schema": "ab".repeat(32), "epoch": "2026-11-22", "sent_at": "2026-11-22T17:03:12.441Z",
               "sdk": {"name": "sieve-wasm", "version": "0.1.0"}, "events": [{"id": "x"}]})
    }

    #[test]
    fn envelope_parses() {
        let b = ReceivedBatch::parse(&good()).expect("valid");
        assert_eq!(b.epoch, "2026-11-22");
        assert_eq!(b.sent_at.to_rfc3339(), "2026-11-22T17:03:12Z");
        assert_eq!(b.events.len(), 1);
    }

    #[test]
    fn envelope_errors_name_the_field_and_never_the_value() {
        let cases = [
            (
                json!({"v": 2}),
                "v: unsupported wire format version (this collector reads 1)",
            ),
            (
                json!({"schema": "alice@example.com"}),
                "schema: expected the schema fingerprint, 64 lowercase hex digits",
            ),
            (
                json!({"epoch": "alice@example.com"}),
                "epoch: expected a key epoch id such as 2026-11-22",
            ),
            (
                json!({"sent_at": "alice@example.com"}),
                "sent_at: expected an rfc 3339 timestamp",
            ),
            (
                json!({"sdk": {"name": "x", "version": "1", "email": "alice@example.com"}}),
                "sdk: expected {\"name\", \"version\"}, each at most 64 characters",
            ),
            (
                json!({"events": {"alice@example.com": 1}}),
                "events: expected an array",
            ),
            (
                json!({"alice@example.com": 1}),
                "batch: unknown field (expected v, schema, epoch, sent_at, sdk, anonymous, events)",
            ),
            (
                json!({"anonymous": "alice@example.com"}),
                "anonymous: expected true or false",
            ),
        ];
        for (patch, want) in cases {
            let mut v = good();
            for (k, val) in patch.as_object().expect("object") {
                v[k] = val.clone();
            }
            let e = ReceivedBatch::parse(&v).expect_err(want).to_string();
            assert_eq!(e, want);
            assert!(!e.contains("alice"));
        }
    }
}

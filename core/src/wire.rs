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
//! client clock. The collector reads the envelope with [`ReceivedBatch`] and each event on its
//! own with [`crate::verify_event`], so one bad event never takes its batch down.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::CleanEvent;
use crate::schema::Fingerprint;

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
    /// The events.
    pub events: Vec<CleanEvent>,
}

/// A batch as the collector receives it: the envelope checked, the events left as JSON to be
/// verified one by one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedBatch {
    /// Wire format version.
    pub v: u32,
    /// Fingerprint of the schema that cleaned the events.
    pub schema: Fingerprint,
    /// Key epoch of the client key that hashed the pseudonyms.
    pub epoch: String,
    /// When the batch was sent, by the client's clock.
    pub sent_at: String,
    /// Who sent it.
    pub sdk: Sdk,
    /// The events, unverified.
    pub events: Vec<Value>,
}

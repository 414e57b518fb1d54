//! `preview`: what the browser would send, and what the collector would store, for one raw
//! event. It runs exactly the code paths of the browser (clean) and of ingest (verify, re-key),
//! under fixed demonstration keys, so an auditor can check a claim without a browser or server.

use serde_json::{Value, json};
use sieve_core::event::CleanOptions;
use sieve_core::{ClientKey, EventId, Pepper, Schema, clean_json, verify_event};

/// The preview of one JSON line, with pseudonyms under `key` (the demonstration key, or an
/// epoch's public client key to reproduce what a browser sent that day): `{"sent", "stored", "dropped", "redactions"}`, or
/// `{"dropped": [...]}` when nothing would be sent.
pub fn preview_line(schema: &Schema, key: &ClientKey, line: &str) -> Value {
    // A deterministic id, so the same input previews the same way every time.
    let hash = blake3::hash(line.as_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&hash.as_bytes()[..16]);
    let outcome = clean_json(
        line,
        schema,
        key,
        EventId::from_bytes(id),
        CleanOptions::default(),
    );
    let dropped: Vec<String> = outcome.drops.iter().map(ToString::to_string).collect();
    let Some(event) = outcome.event else {
        return json!({ "dropped": dropped });
    };
    let sent = serde_json::to_value(&event).unwrap_or(Value::Null);
    let stored = match verify_event(&sent, schema) {
        Ok(verified) => {
            serde_json::to_value(verified.rekeyed(&Pepper::demonstration())).unwrap_or(Value::Null)
        }
        Err(rejection) => json!({ "rejected": rejection.to_string() }),
    };
    let redactions: Vec<String> = outcome
        .redactions
        .iter()
        .map(|r| format!("{}: {}", r.field, r.rule))
        .collect();
    json!({ "sent": sent, "stored": stored, "dropped": dropped, "redactions": redactions })
}

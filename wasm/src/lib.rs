//! `sieve-wasm`: the browser SDK's Rust side. It runs `sieve-core` in the page, so nothing
//! leaves the browser before core has cleaned it.
//!
//! Today it exposes `preview`, the function a developer calls to see exactly what an event
//! would become; the full SDK (init, track, identify, group, page, batching and sending) is
//! built on the same entry point.
#![deny(missing_docs)]

use serde_json::Value;
use sieve_core::event::CleanOptions;
use sieve_core::{ClientKey, EventId, RawEvent, Schema, clean_event};
use wasm_bindgen::prelude::wasm_bindgen;

/// What a raw event (JSON text, the documented raw shape) would become under a schema (JSON
/// text): `{"sent": <clean event or null>, "dropped": [...], "redactions": [...]}`. Uses the
/// fixed demonstration key, so its pseudonyms are not those the collector's key would give.
#[wasm_bindgen]
pub fn preview(schema_json: &str, raw_event_json: &str) -> Result<String, String> {
    let schema = Schema::from_json(schema_json).map_err(|e| e.to_string())?;
    let raw: Value = serde_json::from_str(raw_event_json)
        .map_err(|e| format!("event: invalid json at column {}", e.column()))?;
    let (raw, mut drops) = RawEvent::from_value(&raw).map_err(|d| d.to_string())?;
    let out = clean_event(
        &raw,
        &schema,
        &ClientKey::demonstration(),
        EventId::from_bytes([0; 16]),
        CleanOptions::default(),
    );
    drops.extend(out.drops);
    let result = serde_json::json!({
        "sent": out.event,
        "dropped": drops.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "redactions": out.redactions,
    });
    Ok(result.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = include_str!("../../core/schema/example.json");

    #[test]
    fn preview_shows_the_clean_event_and_the_drops() {
        let out = preview(SCHEMA, r#"{"event":"login","timestamp":"2026-11-22T17:03:11Z","props":{"method":"passkey"},"traits":{"email":"a@b.example"}}"#)
            .expect("preview");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["sent"]["props"]["method"], "passkey");
        assert_eq!(v["sent"]["time"], "2026-11-22T17:00:00Z");
        assert_eq!(v["dropped"][0], "traits.email: not declared in the schema");
        assert!(!out.contains("a@b.example"));
    }

    #[test]
    fn preview_reports_an_invalid_schema_by_path() {
        let err = preview(
            r#"{"site":"a","version":"1","retention_days":1,"events":{"x":{}}}"#,
            "{}",
        )
        .expect_err("invalid");
        assert_eq!(err, "events.x.description: missing");
    }
}

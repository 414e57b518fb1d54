//! The two inputs `Client::new` takes, read and validated once: the collector's `/v1/config`
//! body and the JS wrapper's options.
//!
//! Everything is checked here, at the edge, so the rest of the SDK works with typed values: a
//! parsed [`Schema`] whose fingerprint matches the one served, a [`ClientKey`], and a batch
//! envelope that `sieve_core::wire::ReceivedBatch::parse` (the collector's own check) has
//! already accepted. A config that fails any check is refused as a whole: an SDK that cleaned
//! events under a schema the collector does not hold would only have them rejected later.
//!
//! Not done here: fetching or caching the config (the JS wrapper does), and any I/O.
//! Errors name the field and never echo its value: the config carries a key, and options may
//! carry anything a host page put there.

use sieve_core::json::{BorrowedJson, BorrowedObject, JsonObject, JsonView};
use sieve_core::transform::time::UnixTime;
use sieve_core::wire::{ReceivedBatch, WIRE_VERSION};
use sieve_core::{ClientKey, Schema};

use crate::envelope::Envelope;
use crate::prelude::*;

/// How many events wait in memory when the options do not say: enough for a few minutes of a
/// busy single-page app offline, small enough (a few hundred KB) to never matter to a page.
pub const DEFAULT_MAX_QUEUE: usize = 500;

/// The SDK's name on the wire (`sdk.name` of every batch).
pub const SDK_NAME: &str = "sieve-wasm";

/// What the collector's `/v1/config` says, validated.
#[derive(Debug)]
pub struct Config {
    /// The schema every event is cleaned under; its fingerprint equals the one served.
    pub schema: Schema,
    /// The epoch key identifiers are hashed with.
    pub key: ClientKey,
    /// When the epoch (and so the key) ends, RFC 3339 UTC.
    pub epoch_expires: UnixTime,
    /// The wire envelope of every batch: schema fingerprint, epoch id and SDK label.
    pub envelope: Envelope,
}

/// The JS wrapper's options, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Most events kept queued before the oldest go.
    pub max_queue: usize,
    /// Send no identifiers (Global Privacy Control or Do Not Track).
    pub anonymous: bool,
    /// The SDK version reported in every batch.
    pub sdk_version: String,
}

/// Build an error message: `field: reason`, both fixed text.
fn err(field: &str, reason: &str) -> String {
    let mut s = String::with_capacity(field.len() + reason.len() + 2);
    s.push_str(field);
    s.push_str(": ");
    s.push_str(reason);
    s
}

/// The text as a JSON object, read in place (as the `serde_json::Value` of it would read).
fn parse_object<'t>(text: &'t str, what: &str) -> Result<BorrowedObject<'t>, String> {
    // serde_json's error would carry a position only, but "expected a json object" is all a
    // developer needs here, and it keeps the message free of anything from the input.
    match BorrowedJson::parse(text) {
        Ok(BorrowedJson::Object(map)) => Ok(map),
        _ => Err(err(what, "expected a json object")),
    }
}

fn string<'a, O: JsonObject>(obj: &'a O, field: &str, path: &str) -> Result<&'a str, String> {
    obj.get(field)
        .and_then(JsonView::as_str)
        .ok_or_else(|| err(path, "expected a string"))
}

impl Options {
    /// Parse the options JSON; an empty string, or a field that is `null`, means the default.
    /// Unknown fields are refused: a misspelt `maxQueue` silently ignored would leave a
    /// developer guessing.
    pub fn parse(text: &str) -> Result<Options, String> {
        let mut opts = Options {
            max_queue: DEFAULT_MAX_QUEUE,
            anonymous: false,
            sdk_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        if text.trim().is_empty() {
            return Ok(opts);
        }
        let options = parse_object(text, "options")?;
        for (key, value) in options.iter() {
            if value.is_null() {
                continue;
            }
            match key {
                "max_queue" => {
                    opts.max_queue = value
                        .as_u64()
                        .filter(|n| *n >= 1)
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| err("max_queue", "expected a whole number of at least 1"))?;
                }
                "anonymous" => {
                    opts.anonymous = value
                        .as_bool()
                        .ok_or_else(|| err("anonymous", "expected true or false"))?;
                }
                "sdk_version" => {
                    value
                        .as_str()
                        .ok_or_else(|| err("sdk_version", "expected a string"))?
                        .clone_into(&mut opts.sdk_version);
                }
                _ => {
                    return Err(err(
                        "options",
                        "unknown field (expected max_queue, anonymous, sdk_version)",
                    ));
                }
            }
        }
        Ok(opts)
    }
}

impl Config {
    /// Parse and check the `/v1/config` body, with the SDK version from the options (it goes
    /// into the envelope, which is checked here as a whole).
    pub fn parse(text: &str, sdk_version: &str) -> Result<Config, String> {
        let obj = parse_object(text, "config")?;
        match obj.get("wire_version").and_then(JsonView::as_u64) {
            Some(v) if v == u64::from(WIRE_VERSION) => {}
            _ => {
                return Err(err(
                    "wire_version",
                    "unsupported wire format version (this sdk writes 1)",
                ));
            }
        }
        let schema_value = obj.get("schema").ok_or_else(|| err("schema", "missing"))?;
        let schema = Schema::from_value(schema_value).map_err(|errors| {
            // Schema errors name paths and reasons, never values: safe to pass on.
            let mut s = String::from("schema: ");
            s.push_str(&errors.to_string());
            s
        })?;
        let served = string(&obj, "fingerprint", "fingerprint")?;
        // Compare as text: the served form must be exactly the 64 lowercase hex digits the
        // collector writes, and the envelope check below would refuse anything else anyway.
        if schema.fingerprint().to_string() != served {
            return Err(err(
                "fingerprint",
                "does not match the schema: the config is corrupt",
            ));
        }
        if string(&obj, "site", "site")? != schema.site {
            return Err(err("site", "does not match the schema's site"));
        }
        let key = ClientKey::from_hex(string(&obj, "client_key", "client_key")?)
            .ok_or_else(|| err("client_key", "expected 64 lowercase hex digits"))?;
        let epoch = obj
            .get("epoch")
            .and_then(JsonView::as_object)
            .ok_or_else(|| err("epoch", "expected {\"id\", \"start\", \"expires\"}"))?;
        let epoch_id = string(epoch, "id", "epoch.id")?;
        let epoch_expires = UnixTime::parse_rfc3339(string(epoch, "expires", "epoch.expires")?)
            .ok_or_else(|| err("epoch.expires", "expected an rfc 3339 timestamp"))?;
        let envelope = Envelope::new(&schema.fingerprint().to_string(), epoch_id, sdk_version);
        check_envelope(&envelope)?;
        Ok(Config {
            schema,
            key,
            epoch_expires,
            envelope,
        })
    }
}

/// Run the collector's own envelope check on an empty batch, so an epoch id or SDK version the
/// collector would refuse fails `init` here instead of every batch later. The rule lives once,
/// in core; this does not restate it.
fn check_envelope(envelope: &Envelope) -> Result<(), String> {
    // Any valid time: only the envelope's fixed fields are under test.
    let body = envelope.empty_batch("2000-01-01T00:00:00Z");
    let value = BorrowedJson::parse(&body).map_err(|_| err("config", "envelope is not json"))?;
    ReceivedBatch::check(&value).map_err(|e| {
        // The collector's wording is about a received batch; map it to the config field that
        // fed it, so a developer knows where to look.
        let field = match e.field {
            "epoch" => "epoch.id",
            "sdk" => "sdk_version",
            other => other,
        };
        err(field, e.reason)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_when_empty_and_refuse_unknown_fields() {
        let o = Options::parse("").expect("defaults");
        assert_eq!(o.max_queue, DEFAULT_MAX_QUEUE);
        assert!(!o.anonymous);
        assert_eq!(o.sdk_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            Options::parse(r#"{"max_queue":null,"anonymous":null}"#).expect("nulls"),
            Options::parse("{}").expect("empty")
        );
        let o = Options::parse(r#"{"max_queue":3,"anonymous":true,"sdk_version":"9.9.9"}"#)
            .expect("valid");
        assert_eq!(
            o,
            Options {
                max_queue: 3,
                anonymous: true,
                sdk_version: "9.9.9".to_owned()
            }
        );
        let cases = [
            (
                r#"{"maxQueue":"alice@example.com"}"#,
                "options: unknown field (expected max_queue, anonymous, sdk_version)",
            ),
            (
                r#"{"max_queue":0}"#,
                "max_queue: expected a whole number of at least 1",
            ),
            (
                r#"{"anonymous":"yes"}"#,
                "anonymous: expected true or false",
            ),
            (
                r#"["alice@example.com"]"#,
                "options: expected a json object",
            ),
        ];
        for (text, want) in cases {
            let e = Options::parse(text).expect_err(want);
            assert_eq!(e, want);
            assert!(!e.contains("alice"));
        }
    }
}

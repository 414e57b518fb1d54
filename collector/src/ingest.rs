//! `POST /v1/events`: from request bytes to stored events, trusting nothing the client sent.
//!
//! Order of checks, cheapest first, each with its own status: rate limit (429), write key
//! (401), origin (403), media type (415), body size (413), decompression bound (413), JSON
//! nesting (400), envelope (400), batch size (413), key epoch (400). Then every event on its
//! own: limits, then `sieve_core::verify_event` (the same transforms the browser ran, which
//! must change nothing). Good events are re-keyed with the epoch pepper, given the cookieless
//! visitor id and time-corrected; bad ones are listed with their reasons; one bad event never
//! takes its batch down.
//!
//! What this module never does: log or store the IP, a header value, a key, or a raw body.

use std::borrow::Cow;
use std::io::Read;
use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use serde::Serialize;
use serde::de::DeserializeSeed;
use serde_json::Value;
use sieve_core::drop::{Drop, DropReason};
use sieve_core::json::{BorrowedJson, JsonObject, JsonView, MaxDepth, Node};
use sieve_core::transform::identifier::{Pepper, visitor_id};
use sieve_core::transform::time::UnixTime;
use sieve_core::wire::ReceivedBatch;
use sieve_core::{EventId, Schema, VerifiedContexts, verify_event_in};

use crate::config::Limits;
use crate::error::AppError;
use crate::store::StoredEvent;

/// The response body of an accepted batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestResponse {
    /// Ids of events now stored (including ones that were already stored: a retry).
    pub accepted: Vec<String>,
    /// Events not stored, with every reason.
    pub rejected: Vec<RejectedEvent>,
}

/// One rejected event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedEvent {
    /// Its id, when it had a valid one; otherwise its index in the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Position in the batch.
    pub index: usize,
    /// `field: reason` for each problem.
    pub reasons: Vec<String>,
    /// Closed-set reason code of the first problem (the metrics label).
    #[serde(skip)]
    pub code: String,
}

/// Accept `application/json` and `text/plain` (what `navigator.sendBeacon` sends with a
/// string body, which needs no CORS preflight), optionally gzip-compressed. An uncompressed
/// body is borrowed, not copied.
pub fn decode_body<'b>(
    headers: &HeaderMap,
    body: &'b [u8],
    limits: &Limits,
) -> Result<Cow<'b, [u8]>, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && essence != "text/plain" {
        return Err(AppError::MediaType(
            "send application/json or text/plain".into(),
        ));
    }
    if body.len() > limits.max_body_bytes {
        return Err(AppError::TooLarge(format!(
            "body over {} bytes",
            limits.max_body_bytes
        )));
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(Cow::Borrowed(body)),
        "gzip" => {
            // Bound the output, not just the input: a small gzip body can expand a thousandfold.
            let mut out = Vec::new();
            let cap = limits.max_decompressed_bytes as u64;
            flate2::read::GzDecoder::new(body)
                .take(cap + 1)
                .read_to_end(&mut out)
                .map_err(|_| AppError::BadBatch("body is not valid gzip".into()))?;
            if out.len() as u64 > cap {
                return Err(AppError::TooLarge(format!(
                    "decompressed body over {cap} bytes"
                )));
            }
            Ok(Cow::Owned(out))
        }
        _ => Err(AppError::MediaType(
            "content-encoding must be gzip or none".into(),
        )),
    }
}

/// Refuse JSON nested deeper than `max`, so a hostile body cannot make the parser recurse
/// (serde_json's own limit is 128, far above any real batch), scanning the whole body, valid
/// JSON or not. [`parse_json`] bounds the depth as it parses and runs this scan only on a body
/// it refused, to give the error this scan gave when it ran before the parser.
///
/// Most of a batch is string contents (keys, a long text property): inside a string only `"`
/// and `\` matter, and `memchr2` finds the next of them many bytes at a time.
pub fn check_depth(body: &[u8], max: usize) -> Result<(), AppError> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        i += 1;
        match b {
            b'"' => loop {
                // The end of the string, or its next escape (whose escaped byte is skipped: an
                // escaped `"` does not end the string). An unterminated string ends the scan;
                // the parser rejects it.
                let Some(at) = memchr::memchr2(b'"', b'\\', &body[i.min(body.len())..]) else {
                    return Ok(());
                };
                i += at + 1;
                if body[i - 1] == b'"' {
                    break;
                }
                i += 1;
            },
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(AppError::BadBatch(format!(
                        "json nested deeper than {max} levels"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parse a body into a [`BorrowedJson`] (strings are slices of `body`; it reads as the
/// `Value` serde_json would parse), refusing JSON nested deeper than `max` levels as it is
/// read: the parser never goes deeper than `max`, as if [`check_depth`] had passed first,
/// without a second pass over the body. The answer is the one that check and then
/// `serde_json::from_slice` would give: a body the parser refuses, for any reason, is scanned
/// with [`check_depth`], whose error comes first, as it did when it ran before the parser (a
/// test holds the two together).
///
/// One difference, on purpose: an object whose first key is `$serde_json::private::RawValue`
/// is an object like any other. serde_json's own `Value` (with its `raw_value` feature, which
/// axum turns on) reads such an object as the JSON text in its string value: JSON inside a
/// string, which the depth scan does not look into.
pub fn parse_json(body: &[u8], max: usize) -> Result<BorrowedJson<'_>, AppError> {
    fn read<'de, R: serde_json::de::Read<'de>>(
        mut de: serde_json::Deserializer<R>,
        max: usize,
    ) -> serde_json::Result<BorrowedJson<'de>> {
        let value = MaxDepth(max).deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
    // Reading bytes, serde_json checks UTF-8 string by string (a call per key and value);
    // reading a `str` checked once here, it does not. Bytes that are not UTF-8 are read as
    // before, so the error names the same position.
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => read(serde_json::Deserializer::from_str(text), max),
        Err(_) => read(serde_json::Deserializer::from_slice(body), max),
    };
    parsed.map_err(|e| match check_depth(body, max) {
        Err(deep) => deep,
        // serde_json's syntax errors carry a position, never input text.
        Ok(()) => AppError::BadBatch(format!(
            "invalid json at line {} column {}",
            e.line(),
            e.column()
        )),
    })
}

/// A received batch: its envelope, checked, and its events, unverified, borrowing the body.
#[derive(Debug)]
pub struct ParsedBatch<'b> {
    /// The envelope (its `events` left empty).
    pub envelope: ReceivedBatch,
    /// The events, parsed and not yet checked.
    pub events: Vec<BorrowedJson<'b>>,
}

/// Parse and check a batch envelope: [`parse_json`], then the envelope.
pub fn parse_batch<'b>(body: &'b [u8], limits: &Limits) -> Result<ParsedBatch<'b>, AppError> {
    let mut value = parse_json(body, limits.max_json_depth)?;
    // The events are moved out; the rest, a few short labels, is copied into the `Value` that
    // `ReceivedBatch::parse` reads, with an empty array in their place.
    let events = match &mut value {
        BorrowedJson::Object(o) => match o.get_mut("events") {
            Some(BorrowedJson::Array(events)) => std::mem::take(events),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let envelope =
        ReceivedBatch::parse(&value.to_value()).map_err(|e| AppError::BadBatch(e.to_string()))?;
    if events.len() > limits.max_events_per_batch {
        return Err(AppError::TooLarge(format!(
            "more than {} events in one batch",
            limits.max_events_per_batch
        )));
    }
    if events.is_empty() {
        return Err(AppError::BadBatch("events: empty batch".into()));
    }
    Ok(ParsedBatch { envelope, events })
}

/// Per-event limits: string lengths and property counts. Names the field, never the value.
pub fn check_event_limits<V: JsonView>(event: &V, limits: &Limits) -> Result<(), Drop> {
    /// The displayed path, built only on error: keys are client text, and `field_path` shows
    /// only plain names (a key that is an email is not echoed).
    fn shown(keys: &[&str]) -> String {
        keys.iter().fold(String::new(), |path, k| {
            sieve_core::drop::field_path(&path, k)
        })
    }
    fn walk<'v, V: JsonView>(
        v: &'v V,
        keys: &mut Vec<&'v str>,
        limits: &Limits,
    ) -> Result<(), Drop> {
        match v.node() {
            Node::String(s) if s.len() > limits.max_string_bytes => Err(Drop::new(
                shown(keys),
                DropReason::Invalid {
                    expected: "string within the length limit",
                },
            )),
            Node::Object(map) => {
                let section = matches!(keys.as_slice(), ["props" | "traits" | "groups"]);
                if section && map.len() > limits.max_props_per_event {
                    return Err(Drop::new(shown(keys), DropReason::TooMany));
                }
                for (k, child) in map.iter() {
                    keys.push(k);
                    walk(child, keys, limits)?;
                    keys.pop();
                }
                Ok(())
            }
            Node::Array(items) => items.iter().try_for_each(|i| walk(i, keys, limits)),
            _ => Ok(()),
        }
    }
    walk(event, &mut Vec::new(), limits)
}

/// What ingest needs to turn verified events into stored ones.
#[derive(Debug)]
pub struct Context<'a> {
    /// The schema events are verified under.
    pub schema: &'a Schema,
    /// Pepper of the batch's key epoch: re-keys the pseudonyms.
    pub batch_pepper: &'a Pepper,
    /// Pepper of the current epoch, keying the daily visitor id; `None` when the visitor sent a
    /// privacy signal (no session link at all, not even a cookieless one).
    pub visitor_pepper: Option<&'a Pepper>,
    /// The batch's epoch id.
    pub epoch: &'a str,
    /// The client's address, in memory only.
    pub ip: IpAddr,
    /// The request's `User-Agent` header, in memory only.
    pub user_agent: &'a str,
    /// When the batch arrived.
    pub received_at: UnixTime,
}

/// Verify every event of a batch; return the events to store and the response lists.
pub fn prepare(
    batch: &ParsedBatch<'_>,
    ctx: &Context<'_>,
    limits: &Limits,
) -> (Vec<StoredEvent>, IngestResponse) {
    let fingerprint = ctx.schema.fingerprint().to_string();
    let visitor = ctx
        .visitor_pepper
        .map(|pepper| visitor_id(pepper, &ctx.schema.site, ctx.ip, ctx.user_agent));
    let mut stored = Vec::with_capacity(batch.events.len());
    let mut response = IngestResponse {
        accepted: Vec::new(),
        rejected: Vec::new(),
    };
    let mut seen = std::collections::HashSet::with_capacity(batch.events.len());
    // A batch's events come from one page: its context is checked once, not once per event.
    let mut contexts = VerifiedContexts::default();
    for (index, event) in batch.events.iter().enumerate() {
        let verdict = check_event_limits(event, limits)
            .map_err(|d| vec![d])
            .and_then(|()| {
                verify_event_in(event, ctx.schema, &mut contexts).map_err(|r| r.reasons)
            });
        match verdict {
            Ok(clean) => {
                let id = clean.id().to_string();
                // Keyed by the id's 16 bytes: no copy of its text to hash.
                if !seen.insert(clean.id()) {
                    // The same id twice in one batch: the first is stored, the second is the same event.
                    response.accepted.push(id);
                    continue;
                }
                let stored_event = clean
                    .into_corrected_time(batch.envelope.sent_at, ctx.received_at, ctx.schema)
                    .into_rekeyed(ctx.batch_pepper);
                stored.push(StoredEvent {
                    id: id.clone(),
                    site: ctx.schema.site.clone(),
                    schema: fingerprint.clone(),
                    epoch: ctx.epoch.to_owned(),
                    event: stored_event.event().to_owned(),
                    time: stored_event.time().0,
                    visitor: visitor.as_ref().map(|v| v.as_str().to_owned()),
                    // Byte for byte serde_json's text of the event (core tests hold the two
                    // together), without its byte-at-a-time escaping.
                    data: stored_event
                        .to_json()
                        .expect("a clean event always serializes"),
                });
                response.accepted.push(id);
            }
            Err(reasons) => {
                let code = reasons
                    .first()
                    .and_then(|d| serde_json::to_value(&d.reason).ok())
                    .and_then(|v| v.get("reason").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| "invalid".to_owned());
                // The id as the rejection names it (a valid one, normalised), read only here:
                // an accepted event's id comes from its clean form.
                let id = event
                    .get("id")
                    .and_then(JsonView::as_str)
                    .and_then(EventId::parse)
                    .map(|i| i.to_string());
                response.rejected.push(RejectedEvent {
                    id,
                    index,
                    reasons: reasons.iter().map(ToString::to_string).collect(),
                    code,
                });
            }
        }
    }
    (stored, response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::io::Write;

    fn headers(ct: &str, enc: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(ct).expect("header"),
        );
        if let Some(e) = enc {
            h.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_str(e).expect("header"),
            );
        }
        h
    }

    #[test]
    fn beacon_text_plain_and_json_are_accepted() {
        let l = Limits::default();
        assert!(decode_body(&headers("text/plain;charset=UTF-8", None), b"{}", &l).is_ok());
        assert!(decode_body(&headers("application/json", None), b"{}", &l).is_ok());
        assert_eq!(
            decode_body(&headers("application/xml", None), b"{}", &l).map_err(|e| e.code()),
            Err("unsupported_media_type")
        );
        assert_eq!(
            decode_body(&headers("application/json", Some("br")), b"{}", &l).map_err(|e| e.code()),
            Err("unsupported_media_type")
        );
    }

    #[test]
    fn gzip_is_bounded_after_decompression() {
        let l = Limits {
            max_decompressed_bytes: 1000,
            ..Limits::default()
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 100_000]).expect("write");
        let bomb = gz.finish().expect("gzip");
        assert!(bomb.len() < 1000);
        assert_eq!(
            decode_body(&headers("application/json", Some("gzip")), &bomb, &l)
                .map_err(|e| e.code()),
            Err("too_large")
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"a\":1}").expect("write");
        assert_eq!(
            decode_body(
                &headers("application/json", Some("gzip")),
                &gz.finish().expect("gzip"),
                &l
            )
            .ok()
            .as_deref(),
            Some(&b"{\"a\":1}"[..])
        );
    }

    #[test]
    fn deep_json_is_refused_before_parsing() {
        assert!(
            check_depth(br#"{"a":[{"b":"[[[[[[[[["}]}"#, 4).is_ok(),
            "brackets inside strings do not count"
        );
        let deep = format!("{}{}", "[".repeat(50), "]".repeat(50));
        assert_eq!(
            check_depth(deep.as_bytes(), 8).map_err(|e| e.to_string()),
            Err("bad batch: json nested deeper than 8 levels".into())
        );
    }

    /// The byte-at-a-time scan `check_depth` replaced: the reference it must agree with.
    fn depth_ok_bytewise(body: &[u8], max: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in body {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > max {
                        return false;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        true
    }

    /// The next state of a xorshift generator: test inputs that are the same every run.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn depth_scan_agrees_with_the_bytewise_scan() {
        let fixed: [&[u8]; 8] = [
            br#"{"a":"\"}"#,
            br#"{"a":"\\"[[[[["#,
            br#"{"a":"\"[[[[[["}"#,
            br#""\"#,
            br#""[[[[[["#,
            b"[[[[[\\",
            br#"{"a":"x"}[[[[[["#,
            b"",
        ];
        // Short bodies over the bytes that matter (xorshift: the same cases every run).
        let alphabet = br#"{}[]"\a"#;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let random = (0..20_000).map(|_| {
            let state = xorshift(&mut state);
            let len = (state % 24) as usize;
            (0..len)
                .map(|k| alphabet[((state >> (k * 2 % 60)) % alphabet.len() as u64) as usize])
                .collect::<Vec<u8>>()
        });
        for body in fixed.iter().map(|b| b.to_vec()).chain(random) {
            for max in [0, 1, 3, 5] {
                assert_eq!(
                    check_depth(&body, max).is_ok(),
                    depth_ok_bytewise(&body, max),
                    "{:?} at most {max} levels",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }

    /// What `parse_json` replaced: the whole body scanned by `check_depth`, then
    /// `serde_json::from_slice`.
    fn parse_json_before(body: &[u8], max: usize) -> Result<Value, String> {
        check_depth(body, max).map_err(|e| e.to_string())?;
        serde_json::from_slice(body).map_err(|e| {
            AppError::BadBatch(format!(
                "invalid json at line {} column {}",
                e.line(),
                e.column()
            ))
            .to_string()
        })
    }

    /// A random JSON value (xorshift over `state`), nested up to `depth` levels, with the
    /// shapes the parser treats differently: escapes, non-ASCII text, each kind of number.
    fn random_json(state: &mut u64, depth: usize) -> Value {
        let pick = xorshift(state) % if depth == 0 { 6 } else { 8 };
        match pick {
            0 => Value::Null,
            1 => Value::Bool(xorshift(state).is_multiple_of(2)),
            2 => Value::from(xorshift(state) as i64 >> (xorshift(state) % 64)),
            3 => Value::from(xorshift(state)),
            4 => Value::from((xorshift(state) % 1_000_000) as f64 / 7.0),
            5 => {
                let parts = ["a", "é", "\"", "\\", "\n", "{[", "\u{1}", "€uro", "note"];
                let n = xorshift(state) % 4;
                Value::String(
                    (0..n)
                        .map(|_| parts[(xorshift(state) % 9) as usize])
                        .collect(),
                )
            }
            6 => {
                let n = xorshift(state) % 4;
                Value::Array((0..n).map(|_| random_json(state, depth - 1)).collect())
            }
            _ => {
                let n = xorshift(state) % 4;
                let keys = ["a", "b", "props", "é\"k"];
                Value::Object(
                    (0..n)
                        .map(|_| {
                            let k = keys[(xorshift(state) % 4) as usize].to_owned();
                            (k, random_json(state, depth - 1))
                        })
                        .collect(),
                )
            }
        }
    }

    #[test]
    fn bounded_parse_answers_as_the_depth_scan_then_the_parser() {
        let mut bodies: Vec<Vec<u8>> = vec![
            br#"{"a":1,"a":[2]}"#.to_vec(),
            b"[[[[[[[[[[1]]]]]]]]]]".to_vec(),
            b"[[[[[[[[[[1]]]]]]]]]] x".to_vec(),
            b"[1,]  [[[[[[[[[[".to_vec(),
            b"[\"\xff\"]".to_vec(),
            b"[[[[[[[[\xff".to_vec(),
            b"\xff[[[[[[[[[[".to_vec(),
            b"{\"a\":\"\\ud800\"}".to_vec(),
            b"[1e400]".to_vec(),
            b"  {}  ".to_vec(),
            b"".to_vec(),
        ];
        // Valid JSON, then each cut short and with one byte changed (xorshift: the same cases
        // every run).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let alphabet = b"{}[]\":,\\a1 \xff";
        for _ in 0..3_000 {
            let text = serde_json::to_vec(&random_json(&mut state, 7)).expect("serializes");
            let at = (state % (text.len() as u64 + 1)) as usize;
            let mut changed = text.clone();
            if let Some(b) = changed.get_mut(at) {
                *b = alphabet[((state >> 20) % alphabet.len() as u64) as usize];
            }
            bodies.push(text[..at].to_vec());
            bodies.push(changed);
            bodies.push(text);
        }
        for body in &bodies {
            for max in [0, 1, 2, 3, 5, 8] {
                assert_eq!(
                    parse_json(body, max)
                        .map(|v| v.to_value())
                        .map_err(|e| e.to_string()),
                    parse_json_before(body, max),
                    "{:?} at most {max} levels",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    #[test]
    fn json_inside_a_raw_value_key_is_only_a_string() {
        let body = br#"[{"$serde_json::private::RawValue":"[[[[[[[[[[1]]]]]]]]]]"}]"#;
        assert_eq!(
            parse_json(body, 4).ok().map(|v| v.to_value()),
            Some(serde_json::json!([{"$serde_json::private::RawValue": "[[[[[[[[[[1]]]]]]]]]]"}])),
            "an ordinary key, and no nesting past the limit"
        );
        assert_eq!(
            parse_json_before(body, 4).ok(),
            Some(serde_json::json!([[[[[[[[[[[1]]]]]]]]]]])),
            "serde_json's own Value parsed the string, ten levels deep under a limit of four"
        );
    }

    #[test]
    fn event_limits_name_the_field() {
        let l = Limits {
            max_string_bytes: 10,
            max_props_per_event: 2,
            ..Limits::default()
        };
        let long = serde_json::json!({"props": {"note": "x".repeat(11)}});
        assert_eq!(
            check_event_limits(&long, &l).map_err(|d| d.field),
            Err("props.note".to_owned())
        );
        let hidden = serde_json::json!({"props": {"alice@example.com": "x".repeat(11)}});
        assert_eq!(
            check_event_limits(&hidden, &l).map_err(|d| d.field),
            Err("props.(invalid name)".to_owned())
        );
        let many = serde_json::json!({"props": {"a": 1, "b": 2, "c": 3}});
        assert_eq!(
            check_event_limits(&many, &l).map_err(|d| d.to_string()),
            Err("props: too many properties".to_owned())
        );
    }
}

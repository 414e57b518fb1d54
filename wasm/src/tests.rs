//! The `Client` driven natively as the JS wrapper drives it, and its batches checked the way
//! the collector checks them (`ReceivedBatch::parse`, then `verify_event` per event).

use serde_json::{Value, json};
use sieve_core::wire::{Batch, ReceivedBatch, Sdk, WIRE_VERSION};
use sieve_core::{ClientKey, EventId, RawEvent, Schema, clean_event, verify_event};

use super::*;

const SCHEMA: &str = include_str!("../../core/schema/example.json");
const SENT_AT: &str = "2026-11-22T17:03:12.441Z";
const BEACON: usize = 64 * 1024;

fn key() -> ClientKey {
    ClientKey::from_bytes([7; 32])
}

fn schema() -> Schema {
    Schema::from_json(SCHEMA).expect("example schema")
}

/// A `/v1/config` body as the collector serves it.
fn config_value() -> Value {
    json!({
        "site": "app.example.com",
        "fingerprint": schema().fingerprint().to_string(),
        "schema": serde_json::from_str::<Value>(SCHEMA).expect("schema json"),
        "epoch": {"id": "2026-11-22", "start": "2026-11-22T00:00:00Z", "expires": "2026-11-23T00:00:00Z"},
        "client_key": key().to_hex(),
        "wire_version": WIRE_VERSION,
    })
}

fn client(options: &str) -> Client {
    Client::new(&config_value().to_string(), options).expect("valid config")
}

fn id(i: u32) -> String {
    format!("{i:032x}")
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("json")
}

fn stats(c: &Client) -> Value {
    parse(&c.stats())
}

/// A raw event full of personal data, most of which must not survive.
fn signup() -> Value {
    json!({"event": "signup", "timestamp": "2026-11-22T17:03:11.123Z",
        "props": {"plan": "team", "method": "email", "note": "alice@example.com"},
        "user_id": "u_8812", "groups": {"org": "org-abc"},
        "traits": {"name": "Alice Example", "email": "alice@example.com", "plan": "team"},
        "context": {"url": "https://app.example.com/orgs/8812/settings?token=abc#x",
            "referrer": "https://www.google.com/search?q=alice",
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "language": "en-US", "screen": {"width": 1440, "height": 900},
            "location": {"country": "US", "region": "CA", "city": "San Francisco"}}})
}

fn page_view(i: u32) -> String {
    json!({"event": "page_view", "timestamp": "2026-11-22T17:03:11Z",
        "context": {"url": format!("https://app.example.com/docs/{i}")}})
    .to_string()
}

/// The events of a `take_batch` answer, checked as the collector checks them.
fn collect(answer: &str) -> (Value, Vec<Value>) {
    let a = parse(answer);
    let body = parse(a["body"].as_str().expect("body is text"));
    let batch = ReceivedBatch::parse(&body).expect("the collector accepts the envelope");
    assert_eq!(
        batch.events.len() as u64,
        a["events"].as_u64().expect("count")
    );
    for event in &batch.events {
        verify_event(event, &schema()).expect("the collector accepts every event");
    }
    (a, batch.events)
}

fn ids_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

#[test]
fn tracked_events_reach_the_wire_clean_and_pass_the_collectors_checks() {
    let mut c = client(r#"{"sdk_version":"1.2.3"}"#);
    let out = parse(&c.track(&signup().to_string(), &id(1)));
    assert_eq!(out["sent"]["user"].as_str().map(str::len), Some(32));
    assert!(
        out["dropped"]
            .as_array()
            .expect("dropped")
            .contains(&json!("traits.email: not declared in the schema"))
    );
    assert!(
        out["redactions"]
            .as_array()
            .expect("redactions")
            .contains(&json!("user_id: hashed"))
    );
    c.track(&page_view(2), &id(2));
    let answer = c.take_batch(SENT_AT, 20, BEACON);
    let (a, events) = collect(&answer);
    // Byte for byte what serde_json's `Map` (keys sorted, compact) wrote before it was
    // written by hand: the body escaped inside it.
    assert_eq!(answer, a.to_string());
    assert_eq!(a["n"], 1);
    assert_eq!(ids_of(&events), [id(1), id(2)]);
    let body = a["body"].as_str().expect("body");
    let env = parse(body);
    assert_eq!(env["schema"], schema().fingerprint().to_string());
    assert_eq!(env["epoch"], "2026-11-22");
    assert_eq!(
        env["sdk"],
        json!({"name": "sieve-wasm", "version": "1.2.3"})
    );
    assert_eq!(env["sent_at"], SENT_AT);
    for planted in [
        "alice",
        "Alice",
        "u_8812",
        "org-abc",
        "8812",
        "token",
        "San Francisco",
    ] {
        assert!(!body.contains(planted), "{planted} left the browser");
    }
    assert_eq!(c.queued(), 0);
    assert_eq!(stats(&c)["in_flight"], 2);
    c.ack(1);
    assert_eq!(stats(&c)["sent"], 2);
    assert_eq!(stats(&c)["in_flight"], 0);
}

#[test]
fn batch_text_is_byte_for_byte_cores_wire_batch() {
    let mut c = client(r#"{"sdk_version":"0.1.0"}"#);
    let raws = [signup().to_string(), page_view(9)];
    let mut events = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        let i = u32::try_from(i).expect("small");
        c.track(raw, &id(i));
        let (raw, _) = RawEvent::from_value(&parse(raw)).expect("raw event");
        let id = EventId::parse(&id(i)).expect("id");
        let out = clean_event(&raw, &schema(), &key(), id, CleanOptions::default());
        events.push(out.event.expect("kept"));
    }
    let want = serde_json::to_string(&Batch {
        v: WIRE_VERSION,
        schema: schema().fingerprint(),
        epoch: "2026-11-22".to_owned(),
        sent_at: SENT_AT.to_owned(),
        sdk: Sdk {
            name: "sieve-wasm".to_owned(),
            version: "0.1.0".to_owned(),
        },
        anonymous: false,
        events,
    })
    .expect("serialize");
    let a = parse(&c.take_batch(SENT_AT, 20, BEACON));
    assert_eq!(a["body"].as_str().expect("body"), want);
}

#[test]
fn full_queue_drops_the_oldest_and_counts_the_overflow() {
    let mut c = client(r#"{"max_queue":3}"#);
    for i in 0..5 {
        c.track(&page_view(i), &id(i));
    }
    assert_eq!(c.queued(), 3);
    assert_eq!(stats(&c)["overflow"], 2);
    let exported: Vec<Value> = serde_json::from_str(&c.export_queue()).expect("array");
    assert_eq!(ids_of(&exported), [id(2), id(3), id(4)]);
}

#[test]
fn nack_puts_a_batch_back_at_the_front_in_order() {
    let mut c = client("");
    for i in 0..3 {
        c.track(&page_view(i), &id(i));
    }
    let (a, _) = collect(&c.take_batch(SENT_AT, 2, BEACON));
    c.track(&page_view(3), &id(3));
    c.nack(u32::try_from(a["n"].as_u64().expect("n")).expect("u32"));
    assert_eq!(c.queued(), 4);
    let (_, events) = collect(&c.take_batch(SENT_AT, 20, BEACON));
    assert_eq!(ids_of(&events), [id(0), id(1), id(2), id(3)]);
    assert_eq!(stats(&c)["overflow"], 0);
    c.nack(999);
    c.ack(999);
    assert_eq!(stats(&c)["invalid_calls"], 2);
}

#[test]
fn max_bytes_splits_batches_and_drops_an_event_too_large_to_send() {
    let mut c = client("");
    for i in 0..10 {
        c.track(&page_view(i), &id(i));
    }
    // A 500-character comment, scrubbed but kept: a clean event of over 600 bytes.
    let long = json!({"event": "feedback_submitted", "timestamp": "2026-11-22T17:03:11Z",
        "props": {"rating": 5, "comment": "great ".repeat(100).trim_end()}});
    let out = parse(&c.track(&long.to_string(), &id(10)));
    assert!(out["sent"].is_object());
    c.track(&page_view(11), &id(11));
    let max = 600;
    let mut sent = Vec::new();
    let mut batches = 0;
    loop {
        let answer = c.take_batch(SENT_AT, 100, max);
        if answer.is_empty() {
            break;
        }
        let (a, events) = collect(&answer);
        assert!(a["body"].as_str().expect("body").len() <= max);
        sent.extend(ids_of(&events));
        batches += 1;
    }
    assert!(batches >= 3, "11 page views in {batches} batches");
    let want: Vec<String> = (0..10).chain([11]).map(id).collect();
    assert_eq!(sent, want, "all but the oversized event, in order");
    let s = stats(&c);
    assert_eq!(s["dropped_events"], 1);
    assert_eq!(s["in_flight"], 11);
    assert_eq!(c.queued(), 0);
}

#[test]
fn anonymous_mode_sends_no_user_groups_or_identifier_props() {
    let doc = json!({"event": "document_opened", "timestamp": "2026-11-22T17:03:11Z",
        "props": {"document_id": "doc-42", "source": "search"}, "user_id": "u_1"})
    .to_string();
    for (options, toggle) in [(r#"{"anonymous":true}"#, false), ("", true)] {
        let mut c = client(options);
        if toggle {
            c.set_anonymous(true);
        }
        let out = parse(&c.track(&signup().to_string(), &id(1)));
        let sent = &out["sent"];
        assert!(sent.is_object(), "the event itself is still sent");
        assert!(sent.get("user").is_none());
        assert!(sent.get("groups").is_none());
        let out = parse(&c.track(&doc, &id(2)));
        assert!(out["sent"]["props"].get("document_id").is_none());
        assert_eq!(out["sent"]["props"]["source"], "search");
        // user_id and groups.org in the first event; user_id and document_id in the second.
        assert_eq!(stats(&c)["dropped_fields"]["anonymous"], 4);
        let (a, _) = collect(&c.take_batch(SENT_AT, 20, BEACON));
        let body = a["body"].as_str().expect("body");
        assert!(!body.contains("\"user\""));
        assert!(!body.contains("\"groups\""));
        // The batch says so, so the collector computes no visitor id either.
        let received =
            ReceivedBatch::parse(&serde_json::from_str(body).expect("json")).expect("envelope");
        assert!(received.anonymous);
    }
    let mut c = client("");
    let out = parse(&c.track(&signup().to_string(), &id(1)));
    assert!(out["sent"]["user"].is_string(), "identified by default");
    let (a, _) = collect(&c.take_batch(SENT_AT, 20, BEACON));
    let body = a["body"].as_str().expect("body");
    assert!(!body.contains("anonymous"), "no flag without a signal");
}

#[test]
fn invalid_json_non_objects_and_bad_ids_are_counted_never_thrown() {
    let mut c = client("");
    let cases = [
        ("{not json", id(1), "event: not a valid json object"),
        ("[1,2]", id(2), "event: wrong type, expected object"),
        (
            r#"{"event":"login"}"#,
            "alice@example.com".to_owned(),
            "id: not a valid event id of 32 hex digits",
        ),
        (
            r#"{"event":"login"}"#,
            "ABCDEF".repeat(6)[..32].to_owned(),
            "id: not a valid event id of 32 hex digits",
        ),
    ];
    for (raw, id, want) in &cases {
        let out = parse(&c.track(raw, id));
        assert_eq!(
            out,
            json!({"sent": null, "dropped": [want], "redactions": []})
        );
    }
    let s = stats(&c);
    assert_eq!(s["invalid_calls"], 4);
    assert_eq!(s["dropped_events"], 0);
    assert_eq!(c.queued(), 0);
    // A well-formed call for an undeclared event is a dropped event, not an invalid call.
    let out = parse(&c.track(
        r#"{"event":"secret_thing","timestamp":"2026-11-22T17:00:00Z"}"#,
        &id(5),
    ));
    assert!(out["sent"].is_null());
    let s = stats(&c);
    assert_eq!(s["dropped_events"], 1);
    assert_eq!(s["dropped_fields"]["undeclared_event"], 1);
    assert_eq!(s["invalid_calls"], 4);
}

#[test]
fn preview_shows_the_outcome_without_queueing_or_counting() {
    let mut c = client("");
    let raw = signup().to_string();
    let preview = c.preview(&raw, &id(1));
    assert_eq!(c.queued(), 0);
    let before = c.stats();
    assert_eq!(parse(&before)["dropped_fields"], json!({}));
    assert_eq!(
        c.track(&raw, &id(1)),
        preview,
        "preview is exactly what track sends"
    );
    assert_eq!(c.queued(), 1);
}

#[test]
fn import_queue_queues_verified_events_and_rejects_a_tampered_one() {
    let mut a = client("");
    for i in 0..3 {
        a.track(&page_view(i), &id(i));
    }
    a.track(&signup().to_string(), &id(3));
    let mut stored: Vec<Value> = serde_json::from_str(&a.export_queue()).expect("array");
    assert_eq!(stored.len(), 4);
    // Storage is writable by other scripts: one event gets a full URL back.
    stored[1]["context"]["url"] = json!("https://app.example.com/docs/1?email=alice@example.com");
    let mut b = client("");
    let n = b.import_queue(&Value::Array(stored).to_string());
    assert_eq!(n, 3);
    assert_eq!(b.queued(), 3);
    let s = stats(&b);
    assert_eq!(s["dropped_events"], 1);
    assert_eq!(s["dropped_fields"]["not_clean"], 1);
    let exported = b.export_queue();
    assert!(!exported.contains("alice"));
    let (_, events) = collect(&b.take_batch(SENT_AT, 20, BEACON));
    assert_eq!(ids_of(&events), [id(0), id(2), id(3)]);

    // Not an array at all: an invalid call, nothing queued.
    assert_eq!(b.import_queue("{\"oops\":1}"), 0);
    assert_eq!(stats(&b)["invalid_calls"], 1);
}

#[test]
fn import_queue_while_anonymous_refuses_events_with_identifiers() {
    let mut a = client("");
    a.track(&signup().to_string(), &id(1));
    a.track(&page_view(2), &id(2));
    let mut b = client(r#"{"anonymous":true}"#);
    assert_eq!(b.import_queue(&a.export_queue()), 1);
    let exported: Vec<Value> = serde_json::from_str(&b.export_queue()).expect("array");
    assert_eq!(ids_of(&exported), [id(2)]);
    assert_eq!(stats(&b)["dropped_fields"]["anonymous"], 1);
}

#[test]
fn stats_json_has_exactly_the_contract_fields() {
    let mut c = client("");
    c.track(&signup().to_string(), &id(1));
    let s = stats(&c);
    let mut keys: Vec<&str> = s
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "dropped_events",
            "dropped_fields",
            "in_flight",
            "invalid_calls",
            "overflow",
            "queued",
            "sent"
        ]
    );
    assert_eq!(s["queued"], 1);
    // props.note, traits.name, traits.email undeclared; context.location.city not captured.
    assert_eq!(s["dropped_fields"]["undeclared"], 3);
    assert!(s["dropped_fields"]["not_captured"].as_u64().expect("count") >= 1);
    assert!(!c.stats().contains("alice"));
}

#[test]
fn take_batch_refuses_bad_arguments_without_losing_events() {
    let mut c = client("");
    c.track(&page_view(0), &id(0));
    assert_eq!(c.take_batch("yesterday", 20, BEACON), "");
    assert_eq!(c.take_batch(SENT_AT, 0, BEACON), "");
    assert_eq!(c.take_batch(SENT_AT, 20, 10), "");
    assert_eq!(stats(&c)["invalid_calls"], 3);
    assert_eq!(c.queued(), 1);
    assert_ne!(c.take_batch(SENT_AT, 20, BEACON), "");
    assert_eq!(c.take_batch(SENT_AT, 20, BEACON), "", "nothing queued");
    assert_eq!(stats(&c)["invalid_calls"], 3);
}

#[test]
fn epoch_expires_comes_from_the_config() {
    assert_eq!(client("").epoch_expires(), "2026-11-23T00:00:00Z");
}

#[test]
fn config_errors_name_the_field_and_never_the_value() {
    let secret = "alice@example.com";
    let cases: [(&str, Value, &str); 7] = [
        (
            "fingerprint",
            json!("ab".repeat(32)),
            "fingerprint: does not match the schema: the config is corrupt",
        ),
        (
            "client_key",
            json!(secret),
            "client_key: expected 64 lowercase hex digits",
        ),
        (
            "wire_version",
            json!(2),
            "wire_version: unsupported wire format version (this sdk writes 1)",
        ),
        (
            "epoch",
            json!({"id": secret, "expires": "2026-11-23T00:00:00Z"}),
            "epoch.id: expected a key epoch id such as 2026-11-22",
        ),
        (
            "epoch",
            json!({"id": "2026-11-22", "expires": secret}),
            "epoch.expires: expected an rfc 3339 timestamp",
        ),
        (
            "site",
            json!(secret),
            "site: does not match the schema's site",
        ),
        ("schema", json!({"site": secret}), "schema: "),
    ];
    for (field, value, want) in cases {
        let mut config = config_value();
        config[field] = value;
        let e = Client::new(&config.to_string(), "").expect_err(want);
        assert!(e.starts_with(want), "{e}");
        assert!(!e.contains("alice"), "{e}");
    }
    let long = "9".repeat(65);
    let options = json!({"sdk_version": long}).to_string();
    let e = Client::new(&config_value().to_string(), &options).expect_err("too long");
    assert!(e.starts_with("sdk_version: "), "{e}");
    assert!(!e.contains(&long));
    let e = Client::new("{", "").expect_err("not json");
    assert_eq!(e, "config: expected a json object");
}

/// The raw event `record(event, context)` stands for: `event` with `context` as its first
/// member, spliced as text so that text that is not JSON stays so.
fn with_context(event: &str, context: &str) -> String {
    format!("{{\"context\":{context},{}", &event[1..])
}

/// A raw event split as the JS wrapper passes it to `record`: without its context, and the
/// context's text.
fn split(raw: &Value) -> (String, String) {
    let mut event = raw.clone();
    let context = event
        .as_object_mut()
        .and_then(|e| e.remove("context"))
        .unwrap_or(Value::Null);
    (event.to_string(), context.to_string())
}

#[test]
fn record_queues_and_counts_exactly_what_track_does() {
    let (signup_event, signup_context) = split(&signup());
    let (view_event, view_context) = split(&parse(&page_view(1)));
    let (_, other_view_context) = split(&parse(&page_view(2)));
    let same_site =
        json!({"url": "https://app.example.com/a", "referrer": "https://app.example.com/b"});
    let badly_typed = json!({"url": 5, "screen": "wide", "colour": "blue"});
    let calls = [
        (signup_event.clone(), signup_context.clone()),
        (view_event.clone(), view_context.clone()),
        // The same context again, then another, then the first again.
        (signup_event.clone(), view_context.clone()),
        (view_event.clone(), other_view_context.clone()),
        (signup_event.clone(), signup_context.clone()),
        (signup_event.clone(), signup_context.clone()),
        // Not JSON, in either part.
        ("{not json".to_owned(), "{}".to_owned()),
        (signup_event.clone(), "{nope".to_owned()),
        (signup_event.clone(), "null".to_owned()),
        (
            r#"{"event":"secret_thing","timestamp":"2026-11-22T17:00:00Z"}"#.to_owned(),
            "{}".to_owned(),
        ),
        // A context that drops fields as it is read, twice; one the pipeline drops from, twice.
        (signup_event.clone(), badly_typed.to_string()),
        (view_event.clone(), badly_typed.to_string()),
        (signup_event.clone(), same_site.to_string()),
        (view_event.clone(), same_site.to_string()),
        // A context member in the event gives way to the context passed.
        (
            with_context(&view_event, &badly_typed.to_string()),
            view_context.clone(),
        ),
    ];
    let (mut tracked, mut recorded) = (client(""), client(""));
    for (i, (event, context)) in calls.iter().enumerate() {
        let i = u32::try_from(i).expect("few calls");
        let raw = if event.contains("\"context\":") {
            // `track` of the event whose context member was replaced.
            let mut e = parse(event);
            e["context"] = parse(context);
            e.to_string()
        } else {
            with_context(event, context)
        };
        tracked.track(&raw, &id(i));
        assert_eq!(
            recorded.record(event, context, &id(i)),
            tracked.queued(),
            "call {i}"
        );
        assert_eq!(recorded.stats(), tracked.stats(), "call {i}");
    }
    assert_eq!(recorded.queued(), 12);
    // Byte for byte the same queue: skipping the redaction list and reusing a cleaned context
    // change no clean event.
    assert_eq!(recorded.export_queue(), tracked.export_queue());
    // A bad id is an invalid call for `record` too.
    assert_eq!(recorded.record(&view_event, &view_context, "not an id"), 12);
    assert_eq!(stats(&recorded)["invalid_calls"], 3);
}

#[test]
fn skipping_redactions_changes_nothing_else() {
    let (raw, _) = RawEvent::from_value(&signup()).expect("raw event");
    let id = EventId::parse(&id(1)).expect("id");
    let listed = clean_event(&raw, &schema(), &key(), id, CleanOptions::default());
    let mut options = CleanOptions::default();
    options.skip_redactions = true;
    let skipped = clean_event(&raw, &schema(), &key(), id, options);
    assert!(!listed.redactions.is_empty());
    assert!(skipped.redactions.is_empty());
    assert_eq!(skipped.event, listed.event);
    assert_eq!(skipped.drops, listed.drops);
}

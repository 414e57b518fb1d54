//! An instruction-count driver for the core transforms, for callgrind (BENCHMARKS.md,
//! "Profiling"). Criterion's timing loop is the wrong tool under valgrind; this runs one
//! operation a fixed number of times so that
//! `(Ir at N iterations - Ir at 0 iterations) / N` is the cost of one call, repeatable on a
//! loaded machine:
//!
//! ```sh
//! cargo bench -p sieve-core --bench profile --no-run
//! valgrind --tool=callgrind target/release/deps/profile-* clean 1000
//! ```
//!
//! Operations: `clean`, `clean-no-note`, `verify`, `scrub`, `pseudonym`. Not run by
//! `scripts/bench` or `cargo test`.

use std::hint::black_box;

use serde_json::{Value, json};
use sieve_core::event::CleanOptions;
use sieve_core::transform::identifier::IdField;
use sieve_core::transform::text::scrub_capped;
use sieve_core::{ClientKey, EventId, Pseudonym, RawEvent, Schema, clean_event, verify_event};

const SCHEMA: &str = include_str!("../../bench/schema.json");
const EVENT: &str = include_str!("../../bench/event.json");

/// The same raw event as benches/transforms.rs.
fn raw_event() -> Value {
    let e: Value = serde_json::from_str(EVENT).expect("bench/event.json is JSON");
    json!({
        "event": e["name"],
        "timestamp": "2026-11-22T17:03:11.123Z",
        "props": e["props"],
        "user_id": e["user_id"],
        "groups": {"org": e["org"]},
        "context": {
            "url": format!("https://shop.example.com{}", e["url"].as_str().expect("url")),
            "referrer": "https://www.google.com/search?q=team+analytics+pricing",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
            "ua_hints": {"brands": [{"brand": "Chromium", "version": "142"}, {"brand": "Not-A.Brand", "version": "24"}], "mobile": false, "platform": "Linux"},
            "language": "en-US",
            "screen": {"width": 1440, "height": 900}
        }
    })
}

/// The same 1 KB text as benches/transforms.rs.
fn text_1k() -> String {
    let mut s = String::new();
    while s.len() < 1024 {
        s.push_str(
            "Please call me back at +1 415 555 0132 or write to alice.example@example.com; \
             the card 4111 1111 1111 1111 was charged twice and the API key sk_live_51Hx9aZ2bQ7 \
             stopped working after the upgrade. ",
        );
    }
    s.truncate(1024);
    s
}

fn main() {
    // `cargo bench` passes `--bench`; skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let op = args.first().map_or("clean", String::as_str);
    let n: u32 = args
        .get(1)
        .map_or(0, |s| s.parse().expect("a number of iterations"));

    let schema = Schema::from_json(SCHEMA).expect("bench/schema.json is a valid schema");
    let key = ClientKey::from_bytes([42; 32]);
    let id = EventId::from_bytes([7; 16]);
    let raw_value = raw_event();
    let (raw, _) = RawEvent::from_value(&raw_value).expect("an event");
    let mut no_note_value = raw_value.clone();
    if let Some(props) = no_note_value["props"].as_object_mut() {
        props.remove("note");
    }
    let (no_note, _) = RawEvent::from_value(&no_note_value).expect("an event");
    let clean = clean_event(&raw, &schema, &key, id, CleanOptions::default())
        .event
        .expect("the bench event is kept");
    let clean_value = serde_json::to_value(&clean).expect("json");
    let text = text_1k();

    for _ in 0..n {
        match op {
            "clean" => {
                black_box(clean_event(
                    black_box(&raw),
                    &schema,
                    &key,
                    id,
                    CleanOptions::default(),
                ));
            }
            "clean-no-note" => {
                black_box(clean_event(
                    black_box(&no_note),
                    &schema,
                    &key,
                    id,
                    CleanOptions::default(),
                ));
            }
            "verify" => {
                let _ = black_box(verify_event(black_box(&clean_value), &schema));
            }
            "scrub" => {
                black_box(scrub_capped(black_box(&text), 2000));
            }
            "pseudonym" => {
                black_box(Pseudonym::of(
                    &key,
                    IdField::UserId,
                    black_box("user_8812_4c1f9e2a"),
                ));
            }
            other => panic!("unknown operation {other:?}"),
        }
    }
}

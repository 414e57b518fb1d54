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
//! Operations: `clean`, `clean-no-note`, `verify` (of a `serde_json::Value`),
//! `verify-borrowed` (of the collector's `BorrowedJson` of the same text), `parse` and
//! `parse-borrowed` (the clean event's text into each, then dropped), `scrub`, `scrub-note`
//! (the bench event's note: prose with nothing to replace), `to-json` (the clean event's
//! stored text), `pseudonym`.
//! Not run by `scripts/bench` or `cargo test`.

use std::hint::black_box;

use sieve_core::event::CleanOptions;
use sieve_core::json::BorrowedJson;
use sieve_core::transform::identifier::IdField;
use sieve_core::transform::text::scrub_capped;
use sieve_core::{
    ClientKey, EventId, Pseudonym, RawEvent, Schema, VerifiedContexts, clean_event, verify_event,
    verify_event_in,
};

mod common;

use common::{SCHEMA, raw_event, text_1k};

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
    let clean_text = serde_json::to_string(&clean).expect("json");
    let clean_borrowed = BorrowedJson::parse(&clean_text).expect("json");
    let text = text_1k();
    // The bench event's note: prose with nothing to replace, what the collector re-checks.
    let note = raw_value["props"]["note"]
        .as_str()
        .expect("the bench event has a note");

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
            "to-json" => {
                black_box(black_box(&clean).to_json());
            }
            "verify-borrowed" => {
                let mut contexts = VerifiedContexts::default();
                let _ = black_box(verify_event_in(
                    black_box(&clean_borrowed),
                    &schema,
                    &mut contexts,
                ));
            }
            "parse" => {
                let v: serde_json::Value =
                    serde_json::from_str(black_box(&clean_text)).expect("json");
                black_box(v);
            }
            "parse-borrowed" => {
                black_box(BorrowedJson::parse(black_box(&clean_text)).expect("json"));
            }
            "scrub" => {
                black_box(scrub_capped(black_box(&text), 2000));
            }
            "scrub-note" => {
                black_box(scrub_capped(black_box(note), 2000));
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

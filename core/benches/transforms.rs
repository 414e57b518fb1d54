//! Criterion benchmarks of the core transforms, natively: what the collector pays per event
//! (`verify_event`) and what the browser pays per call before wasm overhead (`clean_event`).
//! Run by `scripts/bench` (or `cargo bench -p sieve-core --bench transforms`); never by
//! `cargo test`, which does not build benches unless asked with `--benches`.
//!
//! The event is the benchmark suite's ~1 KB `checkout_completed` (bench/event.json: a dozen
//! properties, a URL with a query, a user id) under bench/schema.json.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use sieve_core::event::CleanOptions;
use sieve_core::transform::identifier::IdField;
use sieve_core::transform::text::scrub_capped;
use sieve_core::{ClientKey, EventId, Pseudonym, RawEvent, Schema, clean_event, verify_event};

mod common;

use common::{SCHEMA, raw_event, text_1k};

fn transforms(c: &mut Criterion) {
    let schema = Schema::from_json(SCHEMA).expect("bench/schema.json is a valid schema");
    let key = ClientKey::from_bytes([42; 32]);
    let id = EventId::from_bytes([7; 16]);
    let raw_value = raw_event();
    let (raw, drops) = RawEvent::from_value(&raw_value).expect("an event");
    assert!(drops.is_empty(), "bench event drops fields: {drops:?}");

    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(1));
    g.bench_function("clean_event (1 KB raw event, 13 props)", |b| {
        b.iter(|| clean_event(black_box(&raw), &schema, &key, id, CleanOptions::default()))
    });
    g.bench_function("raw JSON -> RawEvent -> clean_event", |b| {
        let text = raw_value.to_string();
        b.iter(|| {
            let v: Value = serde_json::from_str(black_box(&text)).expect("json");
            let (raw, _) = RawEvent::from_value(&v).expect("event");
            clean_event(&raw, &schema, &key, id, CleanOptions::default())
        })
    });

    // The same event without its one text property: how much of the cost is the scrubber.
    let mut no_text_value = raw_value.clone();
    if let Some(props) = no_text_value["props"].as_object_mut() {
        props.remove("note");
    }
    let (no_text, _) = RawEvent::from_value(&no_text_value).expect("an event");
    g.bench_function("clean_event (same event without the text note)", |b| {
        b.iter(|| {
            clean_event(
                black_box(&no_text),
                &schema,
                &key,
                id,
                CleanOptions::default(),
            )
        })
    });

    let clean = clean_event(&raw, &schema, &key, id, CleanOptions::default())
        .event
        .expect("the bench event is kept");
    let clean_value = serde_json::to_value(&clean).expect("json");
    assert!(
        verify_event(&clean_value, &schema).is_ok(),
        "the clean event verifies"
    );
    g.bench_function("verify_event (collector re-check)", |b| {
        b.iter(|| verify_event(black_box(&clean_value), &schema))
    });

    g.bench_function("Pseudonym::of (user id)", |b| {
        b.iter(|| Pseudonym::of(&key, IdField::UserId, black_box("user_8812_4c1f9e2a")))
    });

    let text = text_1k();
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("scrub_capped (1 KB text with PII)", |b| {
        b.iter(|| scrub_capped(black_box(&text), 2000))
    });
    g.finish();
}

criterion_group!(benches, transforms);
criterion_main!(benches);

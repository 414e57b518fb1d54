//! `Client::record` of the browser benchmark's event, natively: the same Rust the page's wasm
//! runs for one `track()` (parse the raw text, clean, serialize, queue), for callgrind
//! (BENCHMARKS.md, "track(): where the time goes"). `(Ir at N - Ir at 0) / N` is one call:
//!
//! ```sh
//! cargo bench -p sieve-wasm --bench record --no-run
//! valgrind --tool=callgrind target/release/deps/record-* record 200
//! target/release/deps/record-* fixtures DIR   # the inputs of wasm/benches/record.mjs
//! ```
//!
//! `fixtures` writes the `/v1/config` body and the two texts `record` takes, so that the wasm build can
//! be driven from node with exactly the same input (`wasm/benches/record.mjs`). Not run by
//! `scripts/bench` or `cargo test`.

use std::hint::black_box;

use serde_json::{Value, json};
use sieve_core::wire::WIRE_VERSION;
use sieve_core::{ClientKey, Schema};
use sieve_wasm::Client;

const SCHEMA: &str = include_str!("../../bench/schema.json");
const EVENT: &str = include_str!("../../bench/event.json");

/// A `/v1/config` body for bench/schema.json, as the collector serves it.
fn config() -> String {
    let schema = Schema::from_json(SCHEMA).expect("bench/schema.json is a valid schema");
    json!({
        "site": "shop.example.com",
        "fingerprint": schema.fingerprint().to_string(),
        "schema": serde_json::from_str::<Value>(SCHEMA).expect("schema json"),
        "epoch": {"id": "2026-11-22", "start": "2026-11-22T00:00:00Z", "expires": "2026-11-23T00:00:00Z"},
        "client_key": ClientKey::from_bytes([42; 32]).to_hex(),
        "wire_version": WIRE_VERSION,
    })
    .to_string()
}

/// The two texts `wasm/js/sieve.js` passes to `record` for the benchmark's `track()` call:
/// the raw event without its context (the props as `JSON.stringify` wrote them, the user id
/// and the group), and the context.
fn raw() -> (String, String) {
    let e: Value = serde_json::from_str(EVENT).expect("bench/event.json is JSON");
    let context = json!({
        "url": format!("http://127.0.0.1:8080{}", e["url"].as_str().expect("url")),
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36",
        "ua_hints": {"brands": [{"brand": "Chromium", "version": "142"}, {"brand": "Not-A.Brand", "version": "24"}], "mobile": false, "platform": "Linux"},
        "language": "en-US",
        "screen": {"width": 1440}
    });
    let event = format!(
        r#"{{"event":{},"timestamp":"2026-11-22T17:03:11.123Z","props":{},"user_id":{},"groups":{{"org":{}}}}}"#,
        e["name"], e["props"], e["user_id"], e["org"]
    );
    (event, context.to_string())
}

fn main() {
    // `cargo bench` passes `--bench`; skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let op = args.first().map_or("record", String::as_str);
    let (config, raw) = (config(), raw());
    if op == "fixtures" {
        let dir = std::path::Path::new(args.get(1).map_or(".", String::as_str));
        std::fs::write(dir.join("config.json"), &config).expect("write config.json");
        std::fs::write(dir.join("event.json"), &raw.0).expect("write event.json");
        std::fs::write(dir.join("context.json"), &raw.1).expect("write context.json");
        return;
    }
    let n: u32 = args
        .get(1)
        .map_or(0, |s| s.parse().expect("a number of iterations"));
    let mut client = Client::new(&config, "").expect("a valid config");
    let id = "0123456789abcdef0123456789abcdef";
    let (event, context) = &raw;
    assert_eq!(
        client.record(event, context, id),
        1,
        "the bench event is kept"
    );
    for _ in 0..n {
        match op {
            "record" => {
                black_box(client.record(black_box(event), black_box(context), id));
            }
            other => panic!("unknown operation {other}"),
        }
    }
}

//! The inputs both benchmark drivers use (`transforms`, criterion; `profile`, callgrind), so
//! the two measure the same event and text.

use serde_json::{Value, json};

pub const SCHEMA: &str = include_str!("../../../bench/schema.json");
pub const EVENT: &str = include_str!("../../../bench/event.json");

/// The raw event an app hands the SDK, built from bench/event.json as the SDK would.
pub fn raw_event() -> Value {
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

/// About 1 KB of prose with an email, a phone number, a card number and a token in it.
pub fn text_1k() -> String {
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

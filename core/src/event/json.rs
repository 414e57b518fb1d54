//! [`CleanEvent::to_json`]: the clean event's JSON text written directly, byte for byte what
//! `serde_json::to_string` makes of its `Serialize` (tests below hold the two together).
//!
//! Why it exists: the browser serializes every clean event it queues, and in the size-optimised
//! wasm serde_json's generic serializer (a call through its writer for every piece, a `String`
//! grown by doubling, `collect_str` through `core::fmt` for the event id, `format!` for the
//! time) was about a fifth of a `track()` call. The parts that are rare or small (the reduced
//! user agent, the screen class, the location, fractional numbers) still go through
//! serde_json, so their spelling has one source.

use crate::map::NameMap;

use serde::Serialize;

use super::{CleanContext, CleanEvent};
use crate::prelude::*;
use crate::transform::identifier::Pseudonym;
use crate::transform::value::CleanValue;

impl CleanEvent {
    /// The event as JSON text: exactly `serde_json::to_string(self)`, faster. `None` only
    /// where serde_json would fail, which it cannot for these types (string keys, plain
    /// values).
    pub fn to_json(&self) -> Option<String> {
        // What serde_json's doubling from 128 bytes reaches for most events, in one allocation.
        let mut out = String::with_capacity(512);
        out.push_str("{\"id\":\"");
        out.push_str(&crate::transform::identifier::encode_hex(
            self.id.as_bytes(),
        ));
        out.push_str("\",\"event\":");
        push_str(&mut out, &self.event);
        out.push_str(",\"time\":\"");
        self.time.push_rfc3339(&mut out);
        out.push('"');
        if !self.props.is_empty() {
            out.push_str(",\"props\":");
            push_values(&mut out, &self.props)?;
        }
        if let Some(user) = &self.user {
            out.push_str(",\"user\":");
            push_str(&mut out, user.as_str());
        }
        if !self.groups.is_empty() {
            out.push_str(",\"groups\":");
            push_map(&mut out, &self.groups, |out, p: &Pseudonym| {
                push_str(out, p.as_str());
                Some(())
            })?;
        }
        if !self.traits.is_empty() {
            out.push_str(",\"traits\":");
            push_values(&mut out, &self.traits)?;
        }
        if !self.context.is_empty() {
            out.push_str(",\"context\":");
            push_context(&mut out, &self.context)?;
        }
        out.push('}');
        Some(out)
    }
}

fn push_context(out: &mut String, c: &CleanContext) -> Option<()> {
    // No `..`: a new context field must be written here before this compiles.
    let CleanContext {
        url,
        referrer,
        ua,
        language,
        screen,
        location,
    } = c;
    let mut sep = '{';
    let mut key = |out: &mut String, name: &str| {
        out.push(sep);
        sep = ',';
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
    };
    if let Some(url) = url {
        key(out, "url");
        push_str(out, url);
    }
    if let Some(referrer) = referrer {
        key(out, "referrer");
        push_str(out, referrer);
    }
    if let Some(ua) = ua {
        key(out, "ua");
        push_serde(out, ua)?;
    }
    if let Some(language) = language {
        key(out, "language");
        push_str(out, language);
    }
    if let Some(screen) = screen {
        key(out, "screen");
        push_serde(out, screen)?;
    }
    if let Some(location) = location {
        key(out, "location");
        push_serde(out, location)?;
    }
    out.push('}');
    Some(())
}

fn push_values(out: &mut String, map: &NameMap<CleanValue>) -> Option<()> {
    push_map(out, map, push_value)
}

fn push_map<V>(
    out: &mut String,
    map: &NameMap<V>,
    value: impl Fn(&mut String, &V) -> Option<()>,
) -> Option<()> {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, k);
        out.push(':');
        value(out, v)?;
    }
    out.push('}');
    Some(())
}

fn push_value(out: &mut String, v: &CleanValue) -> Option<()> {
    match v {
        CleanValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        CleanValue::Int(n) => push_int(out, *n),
        // serde_json's float formatting (ryu, `null` for what is not finite): rare here, as
        // most numbers are bucketed to whole bounds, and spelt by one implementation.
        CleanValue::Number(_) => push_serde(out, v)?,
        CleanValue::Text(s) => push_str(out, s),
        CleanValue::Pseudonym(p) => push_str(out, p.as_str()),
    }
    Some(())
}

fn push_serde<T: Serialize + ?Sized>(out: &mut String, v: &T) -> Option<()> {
    out.push_str(&serde_json::to_string(v).ok()?);
    Some(())
}

/// An integer in decimal, as serde_json (itoa) and `Display` write it.
fn push_int(out: &mut String, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// The first byte at or after `from` that a JSON string escapes: a control character, `"` or
/// `\\`. Eight bytes at a time, since most text has none: a word is skipped when none of its
/// bytes is below 0x20 or equal to either (the exact "has a byte less than" and "has a zero
/// byte" word tests), and searched byte by byte otherwise.
fn next_escaped(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let escaped = |b: &u8| *b < 0x20 || *b == b'"' || *b == b'\\';
    let zero_in = |w: u64| w.wrapping_sub(ONES) & !w & HIGH != 0;
    let mut at = from;
    let rest = bytes.get(from..)?;
    let mut words = rest.chunks_exact(8);
    for word in &mut words {
        // `chunks_exact(8)` gives eight bytes: the conversion cannot fail.
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0;
        if (below_space
            || zero_in(w ^ (ONES * u64::from(b'"')))
            || zero_in(w ^ (ONES * u64::from(b'\\'))))
            && let Some(n) = word.iter().position(escaped)
        {
            return Some(at + n);
        }
        at += 8;
    }
    words.remainder().iter().position(escaped).map(|n| at + n)
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, the control characters as
/// `\b \t \n \f \r` or `\u00XX` (lowercase hex), everything else as it is.
pub(crate) fn push_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(i) = next_escaped(bytes, start) {
        // `bytes[i]` is ASCII, so `i` is a character boundary.
        out.push_str(&s[start..i]);
        out.push('\\');
        let b = bytes[i];
        match b {
            b'"' | b'\\' => out.push(char::from(b)),
            b'\n' => out.push('n'),
            b'\r' => out.push('r'),
            b'\t' => out.push('t'),
            0x08 => out.push('b'),
            0x0c => out.push('f'),
            _ => {
                out.push_str("u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::event::CleanOptions;
    use crate::transform::identifier::{ClientKey, IdField};
    use crate::transform::location::CleanLocation;
    use crate::transform::screen::ScreenClass;
    use crate::transform::time::UnixTime;
    use crate::transform::ua::{Browser, Device, Os, ReducedUa};
    use crate::{EventId, RawEvent, Schema, clean_event};

    fn same_as_serde(event: &CleanEvent) {
        let want = serde_json::to_string(event).expect("serde_json serializes a clean event");
        assert_eq!(event.to_json().as_deref(), Some(want.as_str()));
    }

    #[test]
    fn the_bench_event_and_the_example_schema_s_events_are_written_as_serde_would() {
        let bench = crate::event::bench_raw_json();
        let signup = json!({"event": "signup", "timestamp": "2026-11-22T17:03:11.123Z",
            "props": {"plan": "team", "method": "email", "note": "alice@example.com\n\t\"quoted\" \\ \u{1} \u{7f} é 日本"},
            "user_id": "u_8812", "groups": {"org": "org-abc"},
            "traits": {"name": "Alice Example", "email": "alice@example.com", "plan": "team"},
            "context": {"url": "https://app.example.com/orgs/8812/settings?token=abc#x",
                "referrer": "https://www.google.com/search?q=alice",
                "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "language": "en-US", "screen": {"width": 390, "height": 844},
                "location": {"country": "US", "region": "CA", "city": "San Francisco", "lat": 37.77, "lon": -122.42}}});
        let bare = json!({"event": "page_view", "timestamp": "2026-11-22T17:03:11Z"});
        let cases = [
            (include_str!("../../../bench/schema.json"), &bench),
            (include_str!("../../schema/example.json"), &signup),
            (include_str!("../../schema/example.json"), &bare),
        ];
        let key = ClientKey::from_bytes([1; 32]);
        for (schema, raw) in cases {
            let schema = Schema::from_json(schema).expect("schema");
            let (raw, _) = RawEvent::from_value(raw).expect("an event");
            for options in [CleanOptions::default(), CleanOptions::anonymous()] {
                let outcome =
                    clean_event(&raw, &schema, &key, EventId::from_bytes([2; 16]), options);
                same_as_serde(&outcome.event.expect("kept"));
            }
        }
    }

    fn text() -> impl Strategy<Value = String> {
        // Any characters, weighted towards those JSON escapes.
        prop_oneof![any::<String>(), "[\"\\\\\u{0}-\u{1f}\u{7f}a-z é日]{0,12}",]
    }

    fn value() -> impl Strategy<Value = CleanValue> {
        let key = ClientKey::from_bytes([3; 32]);
        prop_oneof![
            any::<bool>().prop_map(CleanValue::Bool),
            any::<i64>().prop_map(CleanValue::Int),
            prop_oneof![any::<f64>(), -1e6..1e6f64, Just(f64::NAN), Just(-0.0)]
                .prop_map(CleanValue::Number),
            text().prop_map(CleanValue::Text),
            text().prop_map(move |s| CleanValue::Pseudonym(Pseudonym::of(
                &key,
                IdField::Prop("p"),
                &s
            ))),
        ]
    }

    fn context() -> impl Strategy<Value = CleanContext> {
        let ua = prop_oneof![
            Just(None),
            Just(Some(ReducedUa {
                browser: Browser::Chrome,
                browser_major: Some(142),
                os: Os::MacOs,
                device: Device::Desktop,
            })),
            Just(Some(ReducedUa {
                browser: Browser::Other,
                browser_major: None,
                os: Os::Other,
                device: Device::Mobile,
            })),
        ];
        let screen = prop_oneof![
            Just(None),
            Just(Some(ScreenClass::Mobile)),
            Just(Some(ScreenClass::Tablet)),
            Just(Some(ScreenClass::Laptop)),
            Just(Some(ScreenClass::Desktop)),
        ];
        let location = prop_oneof![
            Just(None),
            Just(Some(CleanLocation {
                country: None,
                region: Some("US-CA".to_owned()),
                cell: None,
            })),
        ];
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            ua,
            proptest::option::of(text()),
            screen,
            location,
        )
            .prop_map(
                |(url, referrer, ua, language, screen, location)| CleanContext {
                    url,
                    referrer,
                    ua,
                    language,
                    screen,
                    location,
                },
            )
    }

    fn event() -> impl Strategy<Value = CleanEvent> {
        let key = ClientKey::from_bytes([4; 32]);
        let map = || proptest::collection::btree_map(text(), value(), 0..4);
        (
            any::<[u8; 16]>(),
            text(),
            any::<i64>(),
            map(),
            proptest::option::of(text()),
            proptest::collection::btree_map(text(), text(), 0..3),
            map(),
            context(),
        )
            .prop_map(
                move |(id, event, time, props, user, groups, traits, context)| CleanEvent {
                    id: EventId::from_bytes(id),
                    event,
                    time: UnixTime(time),
                    props: props.into_iter().collect(),
                    user: user.map(|u| Pseudonym::of(&key, IdField::UserId, &u)),
                    groups: groups
                        .into_iter()
                        .map(|(k, g)| {
                            let p = Pseudonym::of(&key, IdField::Group(&k), &g);
                            (k, p)
                        })
                        .collect(),
                    traits: traits.into_iter().collect(),
                    context,
                },
            )
    }

    proptest! {
        #[test]
        fn next_escaped_is_the_first_escaped_byte(
            bytes in proptest::collection::vec(prop_oneof![any::<u8>(), 0x18u8..0x24, Just(b'\\')], 0..40),
            from in 0usize..48,
        ) {
            let want = bytes
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, b)| **b < 0x20 || **b == b'"' || **b == b'\\')
                .map(|(i, _)| i);
            prop_assert_eq!(next_escaped(&bytes, from), want);
        }

        #[test]
        fn to_json_is_serde_json_to_string(event in event()) {
            same_as_serde(&event);
        }
    }
}

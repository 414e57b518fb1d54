//! The schema fingerprint: BLAKE3 over a canonical JSON form.
//!
//! Canonical form: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
//! strings and numbers as `serde_json` writes them, and the editor hint `$schema` left out.
//! Reformatting or reordering a schema file therefore keeps its fingerprint; any change of
//! meaning changes it. Sorting is done here, explicitly, rather than trusting `serde_json`'s
//! map order, which a `preserve_order` feature anywhere in the build would silently change.

use crate::json::{JsonObject, JsonView, Node, push_json_string};
use crate::prelude::*;

/// The BLAKE3 hash of a schema's canonical form. Displays as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a parsed schema document (a `serde_json::Value`, or any
    /// [`JsonView`]).
    pub fn of_value<V: JsonView>(v: &V) -> Self {
        let mut out = String::new();
        canonical(v, &mut out, true);
        Self(*blake3::hash(out.as_bytes()).as_bytes())
    }

    /// Parse the 64-hex-digit form.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        crate::transform::identifier::decode_hex(s, &mut bytes).then_some(Self(bytes))
    }

    /// The raw hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&crate::transform::identifier::encode_hex(&self.0))
    }
}

impl core::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lowercase hex digits"))
    }
}

fn canonical<V: JsonView>(v: &V, out: &mut String, top: bool) {
    match v.node() {
        Node::Object(map) => {
            // `&str` keys: the same sort the text rules use, so the browser build carries one
            // copy of it.
            let mut keys: Vec<&str> = map
                .iter()
                .map(|(k, _)| k)
                .filter(|k| !(top && *k == "$schema"))
                .collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, k);
                out.push(':');
                if let Some(value) = map.get(k) {
                    canonical(value, out, false);
                }
            }
            out.push('}');
        }
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out, false);
            }
            out.push(']');
        }
        // As serde_json writes each.
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Node::Number(n) => out.push_str(&n.to_string()),
        Node::String(s) => push_json_string(out, s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> Fingerprint {
        Fingerprint::of_value(&serde_json::from_str::<serde_json::Value>(text).expect("json"))
    }

    /// The canonical text as the `Value` of a document gives it, written by serde_json itself
    /// (its `Map` is sorted by key): what the hand-written one must equal.
    fn serde_canonical(v: &serde_json::Value, top: bool) -> String {
        let mut v = v.clone();
        if top && let Some(m) = v.as_object_mut() {
            m.remove("$schema");
        }
        v.to_string()
    }

    #[test]
    fn the_canonical_text_is_serde_jsons_and_every_view_gives_it() {
        for text in [
            include_str!("../../schema/example.json"),
            include_str!("../../../bench/schema.json"),
            r#"{"$schema":"x","a\"b\\c\u0001\n":"\ud83d\ude00 é","n":[0,-1,1.5,1e300,-2.5e-7,18446744073709551615,-9223372036854775808,12345678901234567890],"k":{"b":false,"a":null,"a":true}}"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).expect("json");
            let borrowed = crate::json::BorrowedJson::parse(text).expect("json");
            let mut ours = String::new();
            canonical(&value, &mut ours, true);
            assert_eq!(ours, serde_canonical(&value, true));
            let mut from_borrowed = String::new();
            canonical(&borrowed, &mut from_borrowed, true);
            assert_eq!(from_borrowed, ours);
            assert_eq!(
                Fingerprint::of_value(&borrowed),
                Fingerprint::of_value(&value)
            );
        }
    }

    #[test]
    fn key_order_and_whitespace_do_not_change_the_fingerprint() {
        let a = fp(r#"{"site":"a","events":{"x":{"description":"d","props":{}}}}"#);
        let b = fp(
            "{\n  \"events\" : { \"x\": {\"props\":{}, \"description\":\"d\"}},\n  \"site\":\"a\"\n}",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn editor_hint_does_not_change_the_fingerprint() {
        assert_eq!(
            fp(r#"{"site":"a"}"#),
            fp(r#"{"$schema":"./sieve-schema.json","site":"a"}"#)
        );
    }

    #[test]
    fn any_change_of_meaning_changes_the_fingerprint() {
        let base = fp(r#"{"site":"a","values":["x","y"]}"#);
        assert_ne!(base, fp(r#"{"site":"b","values":["x","y"]}"#));
        assert_ne!(
            base,
            fp(r#"{"site":"a","values":["y","x"]}"#),
            "array order is meaning"
        );
    }

    #[test]
    fn fingerprint_is_blake3_of_the_canonical_text() {
        // Known answer: pins the canonical form so a change to it is a deliberate decision.
        let got = fp(r#"{ "b": [1, "x"], "a": {"d": null, "c": true} }"#);
        let want = blake3::hash(br#"{"a":{"c":true,"d":null},"b":[1,"x"]}"#);
        assert_eq!(got.as_bytes(), want.as_bytes());
        assert_eq!(Fingerprint::from_hex(&got.to_string()), Some(got));
    }
}

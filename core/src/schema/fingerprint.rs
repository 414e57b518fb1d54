//! The schema fingerprint: BLAKE3 over a canonical JSON form.
//!
//! Canonical form: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
//! strings and numbers as `serde_json` writes them, and the editor hint `$schema` left out.
//! Reformatting or reordering a schema file therefore keeps its fingerprint; any change of
//! meaning changes it. Sorting is done here, explicitly, rather than trusting `serde_json`'s
//! map order, which a `preserve_order` feature anywhere in the build would silently change.

use crate::prelude::*;
use serde_json::Value;

/// The BLAKE3 hash of a schema's canonical form. Displays as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a parsed schema document.
    pub fn of_value(v: &Value) -> Self {
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

fn canonical(v: &Value, out: &mut String, top: bool) {
    match v {
        Value::Object(map) => {
            // `&str`, not `&String`: the same sort the text rules use, so the browser build
            // carries one copy of it.
            let mut keys: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| !(top && *k == "$schema"))
                .collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.to_owned()).to_string());
                out.push(':');
                canonical(&map[k], out, false);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out, false);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(text: &str) -> Fingerprint {
        Fingerprint::of_value(&serde_json::from_str(text).expect("json"))
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

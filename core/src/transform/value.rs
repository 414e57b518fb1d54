//! Declared property and trait values: each checked against its declaration and given its
//! type's treatment (enum membership, range and buckets, text scrubbing, keyed hashing, the
//! page-URL treatment).
//!
//! Not done here: deciding whether a property is declared (the event pipeline does that) or
//! anything about undeclared data, which never reaches this module.

use alloc::borrow::Cow;

use serde::Serialize;

use super::identifier::{ClientKey, IdField, Pseudonym};
use super::text::scrub_capped;
use super::url::clean_page_url;
use crate::drop::DropReason;
use crate::json::{JsonView, Node};
use crate::prelude::*;
use crate::schema::PropKind;

/// Longest URL kept, in characters: enough for any real origin and path, and a hard stop for
/// data smuggled into an endless path.
pub const MAX_URL_LENGTH: usize = 512;

/// A value as it may leave the browser. Serializes as the plain JSON value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CleanValue {
    /// A boolean.
    Bool(bool),
    /// A whole number, in range and bucketed.
    Int(i64),
    /// A finite number, in range and bucketed.
    Number(f64),
    /// A declared enum value, or scrubbed and capped text.
    Text(String),
    /// A keyed hash of an identifier.
    Pseudonym(Pseudonym),
}

/// How identifiers are handled.
#[derive(Debug, Clone, Copy)]
pub enum Identifiers<'k> {
    /// In the browser: raw identifiers are hashed under the epoch's client key.
    Hash(&'k ClientKey),
    /// At the collector: values must already be pseudonyms.
    Received,
}

/// Apply a declared kind's treatment to a raw value. On success, also returns the name of the
/// rule that changed the value, if any (`hashed`, `bucketed`, `scrubbed:email`, ...): a
/// constant except for `scrubbed:...`, so naming the rule costs no allocation otherwise.
pub fn clean_value<V: JsonView>(
    kind: &PropKind,
    field: IdField<'_>,
    raw: &V,
    ids: Identifiers<'_>,
    query_allowlist: &[String],
) -> Result<(CleanValue, Option<Cow<'static, str>>), DropReason> {
    match kind {
        PropKind::Enum { values } => {
            let s = raw
                .as_str()
                .ok_or(DropReason::WrongType { expected: "string" })?;
            values
                .iter()
                .any(|v| v == s)
                .then(|| (CleanValue::Text(s.to_owned()), None))
                .ok_or(DropReason::NotInEnum)
        }
        PropKind::Bool => {
            raw.as_bool()
                .map(|b| (CleanValue::Bool(b), None))
                .ok_or(DropReason::WrongType {
                    expected: "boolean",
                })
        }
        PropKind::Integer { min, max, buckets } => {
            let n = as_whole(raw).ok_or(DropReason::WrongType {
                expected: "integer",
            })?;
            if n < *min || n > *max {
                return Err(DropReason::OutOfRange);
            }
            let snapped = buckets
                .iter()
                .rev()
                .find(|b| **b <= n)
                .copied()
                .unwrap_or(n);
            Ok((
                CleanValue::Int(snapped),
                (snapped != n).then_some(Cow::Borrowed("bucketed")),
            ))
        }
        PropKind::Number { min, max, buckets } => {
            let n = raw
                .as_f64()
                .filter(|n| n.is_finite())
                .ok_or(DropReason::WrongType { expected: "number" })?;
            if n < *min || n > *max {
                return Err(DropReason::OutOfRange);
            }
            let snapped = buckets
                .iter()
                .rev()
                .find(|b| **b <= n)
                .copied()
                .unwrap_or(n);
            Ok((
                CleanValue::Number(snapped),
                (snapped != n).then_some(Cow::Borrowed("bucketed")),
            ))
        }
        PropKind::Text { max_length } => {
            let s = raw
                .as_str()
                .ok_or(DropReason::WrongType { expected: "string" })?;
            let out = scrub_capped(s, *max_length);
            let rule = if !out.findings.is_empty() {
                let mut names: Vec<&str> = out.findings.iter().map(|f| f.name()).collect();
                names.sort_unstable();
                names.dedup();
                Some(Cow::Owned(format!("scrubbed:{}", names.join(","))))
            } else if out.text != s {
                Some(Cow::Borrowed("truncated"))
            } else {
                None
            };
            Ok((CleanValue::Text(out.text), rule))
        }
        PropKind::Identifier => clean_identifier(field, raw, ids).map(|p| {
            (
                CleanValue::Pseudonym(p),
                matches!(ids, Identifiers::Hash(_)).then_some(Cow::Borrowed("hashed")),
            )
        }),
        PropKind::Url => {
            let s = raw
                .as_str()
                .ok_or(DropReason::WrongType { expected: "string" })?;
            let url = clean_page_url(s, query_allowlist, MAX_URL_LENGTH)
                .map_err(|why| DropReason::Url { why })?;
            let changed = url.as_str() != s;
            Ok((
                CleanValue::Text(url.into_string()),
                changed.then_some(Cow::Borrowed("url")),
            ))
        }
    }
}

/// Hash a raw identifier (a string, or a whole number as apps often pass), or accept a
/// received pseudonym. Surrounding whitespace is trimmed; case is kept, as ids can be
/// case-sensitive.
pub fn clean_identifier<V: JsonView>(
    field: IdField<'_>,
    raw: &V,
    ids: Identifiers<'_>,
) -> Result<Pseudonym, DropReason> {
    match ids {
        Identifiers::Hash(key) => {
            let text: Cow<'_, str> = match raw.node() {
                Node::String(s) => Cow::Borrowed(s.trim()),
                Node::Number(n) if n.is_i64() || n.is_u64() => Cow::Owned(n.to_string()),
                _ => {
                    return Err(DropReason::WrongType {
                        expected: "string or whole number",
                    });
                }
            };
            if text.is_empty() {
                return Err(DropReason::Empty);
            }
            Ok(Pseudonym::of(key, field, &text))
        }
        Identifiers::Received => raw
            .as_str()
            .and_then(Pseudonym::parse)
            .ok_or(DropReason::NotAPseudonym),
    }
}

// Inlined, as it was before it read through `JsonView`: the browser build's size.
#[inline]
fn as_whole<V: JsonView>(v: &V) -> Option<i64> {
    v.as_i64().or_else(|| {
        // JavaScript has one number type: accept 3.0 as 3, but not 3.5.
        let f = v.as_f64()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn key() -> ClientKey {
        ClientKey::from_bytes([3; 32])
    }

    fn clean(
        kind: &PropKind,
        raw: Value,
    ) -> Result<(Value, Option<Cow<'static, str>>), DropReason> {
        clean_value(
            kind,
            IdField::Prop("p"),
            &raw,
            Identifiers::Hash(&key()),
            &[],
        )
        .map(|(v, r)| (serde_json::to_value(v).expect("json"), r))
    }

    #[test]
    fn enum_accepts_declared_values_only() {
        let k = PropKind::Enum {
            values: vec!["free".into(), "pro".into()],
        };
        assert_eq!(clean(&k, json!("pro")), Ok((json!("pro"), None)));
        assert_eq!(clean(&k, json!("enterprise")), Err(DropReason::NotInEnum));
        assert_eq!(clean(&k, json!("PRO")), Err(DropReason::NotInEnum));
        assert_eq!(
            clean(&k, json!(1)),
            Err(DropReason::WrongType { expected: "string" })
        );
    }

    #[test]
    fn numbers_are_range_checked_and_bucketed() {
        let k = PropKind::Integer {
            min: 0,
            max: 1000,
            buckets: vec![0, 10, 100],
        };
        assert_eq!(
            clean(&k, json!(57)),
            Ok((json!(10), Some("bucketed".into())))
        );
        assert_eq!(clean(&k, json!(10)), Ok((json!(10), None)));
        assert_eq!(
            clean(&k, json!(999.0)),
            Ok((json!(100), Some("bucketed".into())))
        );
        assert_eq!(clean(&k, json!(1001)), Err(DropReason::OutOfRange));
        assert_eq!(clean(&k, json!(-1)), Err(DropReason::OutOfRange));
        assert_eq!(
            clean(&k, json!(2.5)),
            Err(DropReason::WrongType {
                expected: "integer"
            })
        );
        assert_eq!(
            clean(&k, json!("5")),
            Err(DropReason::WrongType {
                expected: "integer"
            })
        );
        let f = PropKind::Number {
            min: 0.0,
            max: 1.0,
            buckets: vec![],
        };
        assert_eq!(clean(&f, json!(0.25)), Ok((json!(0.25), None)));
        assert_eq!(clean(&f, json!(1.5)), Err(DropReason::OutOfRange));
    }

    #[test]
    fn identifiers_are_hashed_and_never_echoed() {
        let (v, rule) = clean(&PropKind::Identifier, json!(" acct_42 ")).expect("hash");
        let s = v.as_str().expect("string");
        assert_eq!(
            s,
            Pseudonym::of(&key(), IdField::Prop("p"), "acct_42").as_str()
        );
        assert_eq!(rule.as_deref(), Some("hashed"));
        assert_eq!(
            clean(&PropKind::Identifier, json!(42)).map(|(v, _)| v),
            Ok(json!(
                Pseudonym::of(&key(), IdField::Prop("p"), "42").as_str()
            ))
        );
        assert_eq!(
            clean(&PropKind::Identifier, json!("  ")),
            Err(DropReason::Empty)
        );
        assert_eq!(
            clean(&PropKind::Identifier, json!({"id": 1})),
            Err(DropReason::WrongType {
                expected: "string or whole number"
            })
        );
    }

    #[test]
    fn received_identifiers_must_already_be_pseudonyms() {
        let p = Pseudonym::of(&key(), IdField::UserId, "u");
        assert_eq!(
            clean_identifier(IdField::UserId, &json!(p.as_str()), Identifiers::Received),
            Ok(p)
        );
        // A raw id that happens to be 32 hex digits (an MD5 of an email, say) is still a raw id
        // in the browser: it is hashed there, never passed through.
        let md5_like = "0cc175b9c0f1b6a831c399e269772661";
        let hashed = clean_identifier(IdField::UserId, &json!(md5_like), Identifiers::Hash(&key()))
            .expect("hash");
        assert_ne!(hashed.as_str(), md5_like);
        assert_eq!(
            clean_identifier(IdField::UserId, &json!("u_8812"), Identifiers::Received),
            Err(DropReason::NotAPseudonym)
        );
    }
}

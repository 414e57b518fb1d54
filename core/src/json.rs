//! Received JSON, read in place: [`JsonView`], the read-only view that
//! [`verify_event_in`](crate::verify_event_in) and the pipeline read events through, and
//! [`BorrowedJson`], a tree parsed from a request body whose strings borrow the body.
//!
//! `serde_json::Value` implements the view too: the browser's persisted queue and every
//! existing caller keep handing `verify_event` a `Value`. The collector parses each batch into
//! a [`BorrowedJson`] instead, which allocates a `Vec` per array and object and nothing per key
//! or string (a string with an escape is the one exception), where a `Value` allocates a
//! `BTreeMap` node per key and a `String` per key and string.
//!
//! A [`BorrowedJson`] reads exactly as the `Value` serde_json parses from the same text: an
//! object's entries in sorted key order, each key once with the LAST value given for it, and
//! numbers as serde_json's own [`Number`] (integers as `i64`/`u64`, the rest as `f64`).
//! Verification compares and reports in key order, so the order is part of the answer.
//!
//! Not here: writing JSON, or mutating a parsed tree beyond taking a value out of it.

use alloc::borrow::Cow;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::prelude::*;

/// Append `s` as a JSON string literal, escaped exactly as serde_json escapes it (`"` and `\`,
/// control characters as `\b \t \n \f \r` or `\u00XX`, everything else as it is).
pub fn push_json_string(out: &mut String, s: &str) {
    crate::event::push_json_string(out, s);
}

/// One JSON value as a view: what a reader matches on.
#[derive(Debug)]
pub enum Node<'a, V: JsonView> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(&'a Number),
    /// A string, unescaped.
    String(&'a str),
    /// An array.
    Array(&'a [V]),
    /// An object.
    Object(&'a V::Object),
}

/// Read-only access to a JSON value, whatever holds it: `serde_json::Value` or
/// [`BorrowedJson`]. The provided methods mirror `Value`'s own.
pub trait JsonView: Sized {
    /// The object type.
    type Object: JsonObject<Value = Self>;

    /// What this value is.
    fn node(&self) -> Node<'_, Self>;

    /// The string, if this is one.
    fn as_str(&self) -> Option<&str> {
        match self.node() {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    fn as_object(&self) -> Option<&Self::Object> {
        match self.node() {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The items, if this is an array.
    fn as_array(&self) -> Option<&[Self]> {
        match self.node() {
            Node::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    fn as_bool(&self) -> Option<bool> {
        match self.node() {
            Node::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// As `Value::as_u64`.
    fn as_u64(&self) -> Option<u64> {
        match self.node() {
            Node::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// As `Value::as_i64`.
    fn as_i64(&self) -> Option<i64> {
        match self.node() {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// As `Value::as_f64`.
    fn as_f64(&self) -> Option<f64> {
        match self.node() {
            Node::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// Is this `null`?
    fn is_null(&self) -> bool {
        matches!(self.node(), Node::Null)
    }

    /// The value of an object's `key`; `None` when absent or not an object.
    fn get(&self, key: &str) -> Option<&Self> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// Equal as two `Value`s are: same shape, numbers equal as serde_json's `Number`s (an
    /// integer 1 is not the float 1.0), objects with the same keys and equal values.
    fn same_as<W: JsonView>(&self, other: &W) -> bool {
        match (self.node(), other.node()) {
            (Node::Null, Node::Null) => true,
            (Node::Bool(a), Node::Bool(b)) => a == b,
            (Node::Number(a), Node::Number(b)) => a == b,
            (Node::String(a), Node::String(b)) => a == b,
            (Node::Array(a), Node::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_as(y))
            }
            // Both iterate in sorted key order, each key once: equal maps pair up entry by entry.
            (Node::Object(a), Node::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && va.same_as(vb))
            }
            _ => false,
        }
    }

    /// [`JsonView::same_as`] a `Value` (for a `Value`, its own `==`).
    fn same_as_value(&self, other: &Value) -> bool {
        self.same_as(other)
    }

    /// An owned copy, as the `Value` serde_json would have parsed.
    fn to_value(&self) -> Value {
        match self.node() {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_owned()),
            Node::Array(a) => Value::Array(a.iter().map(JsonView::to_value).collect()),
            Node::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// Read-only access to a JSON object: its entries in sorted key order, each key once.
pub trait JsonObject: Default {
    /// The values' type.
    type Value: JsonView<Object = Self>;
    /// The entries, in sorted key order.
    type Iter<'a>: Iterator<Item = (&'a str, &'a Self::Value)>
    where
        Self: 'a;

    /// How many entries.
    fn len(&self) -> usize;
    /// No entries?
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The value under `key`.
    fn get(&self, key: &str) -> Option<&Self::Value>;
    /// The entries, in sorted key order.
    fn iter(&self) -> Self::Iter<'_>;
}

// `Value`'s own methods where it has them: the browser build, which verifies `Value`s only,
// then compiles to what it did before this view existed.
impl JsonView for Value {
    type Object = Map<String, Value>;

    #[inline]
    fn node(&self) -> Node<'_, Self> {
        match self {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n),
            Value::String(s) => Node::String(s),
            Value::Array(a) => Node::Array(a),
            Value::Object(o) => Node::Object(o),
        }
    }
    #[inline]
    fn as_str(&self) -> Option<&str> {
        Value::as_str(self)
    }
    #[inline]
    fn as_object(&self) -> Option<&Map<String, Value>> {
        Value::as_object(self)
    }
    #[inline]
    fn as_array(&self) -> Option<&[Value]> {
        Value::as_array(self).map(Vec::as_slice)
    }
    #[inline]
    fn as_bool(&self) -> Option<bool> {
        Value::as_bool(self)
    }
    #[inline]
    fn as_u64(&self) -> Option<u64> {
        Value::as_u64(self)
    }
    #[inline]
    fn as_i64(&self) -> Option<i64> {
        Value::as_i64(self)
    }
    #[inline]
    fn as_f64(&self) -> Option<f64> {
        Value::as_f64(self)
    }
    #[inline]
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    #[inline]
    fn get(&self, key: &str) -> Option<&Value> {
        Value::get(self, key)
    }
    #[inline]
    fn same_as_value(&self, other: &Value) -> bool {
        self == other
    }
    #[inline]
    fn to_value(&self) -> Value {
        self.clone()
    }
}

/// A `Map`'s entries with `&str` keys.
#[derive(Debug)]
pub struct MapEntries<'a>(serde_json::map::Iter<'a>);

impl<'a> Iterator for MapEntries<'a> {
    type Item = (&'a str, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl JsonObject for Map<String, Value> {
    type Value = Value;
    type Iter<'a> = MapEntries<'a>;

    #[inline]
    fn len(&self) -> usize {
        Map::len(self)
    }
    #[inline]
    fn get(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }
    #[inline]
    fn iter(&self) -> Self::Iter<'_> {
        MapEntries(Map::iter(self))
    }
}

/// A JSON value parsed from text it borrows: strings without escapes are slices of the text.
/// Reads as the `Value` serde_json parses from the same text (module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum BorrowedJson<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string: borrowed from the text, or unescaped into an owned copy.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<BorrowedJson<'a>>),
    /// An object.
    Object(BorrowedObject<'a>),
}

/// An object of a [`BorrowedJson`]: entries sorted by key, each key once (the last value the
/// text gave it), as serde_json's `Map` holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BorrowedObject<'a> {
    entries: Vec<(Cow<'a, str>, BorrowedJson<'a>)>,
}

impl<'a> BorrowedObject<'a> {
    /// An object of these entries, in the text's order: sorted by key, and of a key given
    /// more than once, the last value kept.
    fn from_entries(mut entries: Vec<(Cow<'a, str>, BorrowedJson<'a>)>) -> Self {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: the values of a repeated key stay in text order, and the last one is
            // moved into the entry that is kept.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    core::mem::swap(&mut later.1, &mut kept.1);
                }
                same
            });
        }
        Self { entries }
    }

    /// Set `key` to `value`, in its sorted place; a value it had is replaced.
    pub fn insert(&mut self, key: Cow<'a, str>, value: BorrowedJson<'a>) {
        match self.position(&key) {
            Ok(at) => self.entries[at].1 = value,
            Err(at) => self.entries.insert(at, (key, value)),
        }
    }

    /// The value under `key`, to change or take.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut BorrowedJson<'a>> {
        let at = self.position(key).ok()?;
        Some(&mut self.entries[at].1)
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }
}

/// A [`BorrowedObject`]'s entries.
#[derive(Debug)]
pub struct BorrowedEntries<'e, 'a>(core::slice::Iter<'e, (Cow<'a, str>, BorrowedJson<'a>)>);

impl<'e, 'a> Iterator for BorrowedEntries<'e, 'a> {
    type Item = (&'e str, &'e BorrowedJson<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&**k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<'a> JsonObject for BorrowedObject<'a> {
    type Value = BorrowedJson<'a>;
    type Iter<'e>
        = BorrowedEntries<'e, 'a>
    where
        Self: 'e;

    fn len(&self) -> usize {
        self.entries.len()
    }
    fn get(&self, key: &str) -> Option<&BorrowedJson<'a>> {
        let at = self.position(key).ok()?;
        Some(&self.entries[at].1)
    }
    fn iter(&self) -> Self::Iter<'_> {
        BorrowedEntries(self.entries.iter())
    }
}

impl<'a> JsonView for BorrowedJson<'a> {
    type Object = BorrowedObject<'a>;

    #[inline]
    fn node(&self) -> Node<'_, Self> {
        match self {
            BorrowedJson::Null => Node::Null,
            BorrowedJson::Bool(b) => Node::Bool(*b),
            BorrowedJson::Number(n) => Node::Number(n),
            BorrowedJson::String(s) => Node::String(s),
            BorrowedJson::Array(a) => Node::Array(a),
            BorrowedJson::Object(o) => Node::Object(o),
        }
    }
}

impl<'a> BorrowedJson<'a> {
    /// Parse `text`, borrowing from it (serde_json's own nesting limit of 128 applies).
    pub fn parse(text: &'a str) -> serde_json::Result<Self> {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = MaxDepth(usize::MAX).deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

/// Parses a [`BorrowedJson`] that opens at most this many levels of arrays and objects: the
/// parser refuses the next level before it recurses into it, so a hostile body cannot make it
/// go deeper. Numbers and repeated keys are read as serde_json's `Value` reads them.
#[derive(Debug, Clone, Copy)]
pub struct MaxDepth(pub usize);

impl MaxDepth {
    fn deeper<E: de::Error>(self) -> Result<Self, E> {
        match self.0.checked_sub(1) {
            Some(left) => Ok(MaxDepth(left)),
            None => Err(E::custom("json nested too deep")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for MaxDepth {
    type Value = BorrowedJson<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<BorrowedJson<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MaxDepth {
    type Value = BorrowedJson<'de>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(BorrowedJson::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(BorrowedJson::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(BorrowedJson::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // As serde_json's `Value`: a float that is not finite reads as `null`.
        Ok(Number::from_f64(v).map_or(BorrowedJson::Null, BorrowedJson::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(BorrowedJson::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(BorrowedJson::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(BorrowedJson::String(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(BorrowedJson::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Vec::new();
        while let Some(item) = items.next_element_seed(inner)? {
            out.push(item);
        }
        Ok(BorrowedJson::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let inner = self.deeper()?;
        // Room for 8 entries: a clean event's top level and most of its objects fit without
        // growing the `Vec` (its props grow once). `profile.rs parse-borrowed`: -8.7%.
        let mut entries = Vec::with_capacity(8);
        while let Some(key) = map.next_key_seed(Key)? {
            entries.push((key, map.next_value_seed(inner)?));
        }
        Ok(BorrowedJson::Object(BorrowedObject::from_entries(entries)))
    }
}

/// An object key, borrowed from the text when it has no escape.
#[derive(Clone, Copy)]
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(text: &str) -> (Value, Value) {
        let borrowed = BorrowedJson::parse(text).expect("json");
        let value: Value = serde_json::from_str(text).expect("json");
        (borrowed.to_value(), value)
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_and_keys_are_sorted() {
        let text = r#"{"b":1,"a":2,"b":{"x":1},"c":[1],"a":3,"b":"last"}"#;
        let (borrowed, value) = both(text);
        assert_eq!(borrowed, value);
        let tree = BorrowedJson::parse(text).expect("json");
        let keys: Vec<&str> = tree
            .as_object()
            .expect("object")
            .iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(tree.get("b").and_then(JsonView::as_str), Some("last"));
    }

    #[test]
    fn strings_borrow_the_text_unless_escaped() {
        let tree = BorrowedJson::parse(r#"{"plain":"abc","esc\u0061ped":"a\"b"}"#).expect("json");
        let obj = tree.as_object().expect("object");
        let entries: Vec<_> = obj.entries.iter().map(|(k, v)| (k, v)).collect();
        assert!(matches!(entries[0].0, Cow::Owned(k) if k == "escaped"));
        assert!(matches!(entries[0].1, BorrowedJson::String(Cow::Owned(s)) if s == "a\"b"));
        assert!(matches!(entries[1].0, Cow::Borrowed("plain")));
        assert!(matches!(
            entries[1].1,
            BorrowedJson::String(Cow::Borrowed("abc"))
        ));
    }

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        let text = r#"[0, -1, 18446744073709551615, -9223372036854775808, 1.0, 1e300, 3.5e-7, 12345678901234567890123]"#;
        let (borrowed, value) = both(text);
        assert_eq!(borrowed, value);
        let tree = BorrowedJson::parse(text).expect("json");
        assert!(tree.same_as(&value));
        assert!(
            !json!(1).same_as(&json!(1.0)),
            "an integer is not a float, as in Value"
        );
    }

    #[test]
    fn nesting_is_refused_past_the_limit() {
        let parse = |text: &str, max| {
            let mut de = serde_json::Deserializer::from_str(text);
            MaxDepth(max).deserialize(&mut de).map(|v| v.to_value())
        };
        assert_eq!(parse("[[1]]", 2).ok(), Some(json!([[1]])));
        assert!(parse("[[1]]", 1).is_err());
        assert!(parse(r#"{"a":{}}"#, 1).is_err());
        assert_eq!(parse("1", 0).ok(), Some(json!(1)));
    }
}

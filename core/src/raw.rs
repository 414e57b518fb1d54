//! The raw event: everything the app and the browser know, before cleaning.
//!
//! Its JSON shape is a public contract (documented in `docs/events.md`): the SDK builds it from
//! `track`/`identify`/`group`/`page` and the page, and auditors feed it to the collector's
//! `preview` command. Reading it never fails on a single bad field: a field of the wrong type
//! or an unknown field is dropped with its reason and the rest of the event goes on, so one
//! mistake in an app never costs the whole event.
//!
//! The fields are public so the SDK can build a raw event directly; only
//! [`crate::event::clean_event`] turns one into something that may be sent.

use serde_json::{Map, Value};

use crate::drop::{Drop, DropReason, field_path};
use crate::json::{JsonObject, JsonView, Node};
use crate::prelude::*;
use crate::transform::location::RawLocation;
use crate::transform::ua::{Brand, ClientHints};

/// What the app and the browser know about one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawEvent {
    /// The event name (`signup`, `page_view`, ...).
    pub event: String,
    /// When it happened, RFC 3339, by the client's clock.
    pub timestamp: Option<String>,
    /// Event properties as the app passed them.
    pub props: Map<String, Value>,
    /// The user id from `identify`.
    pub user_id: Option<Value>,
    /// Group ids by kind, from `group` (`{"org": "org-abc"}`).
    pub groups: Map<String, Value>,
    /// Traits from `identify` (name, email, plan, ...).
    pub traits: Map<String, Value>,
    /// What the browser knows about the page and the visitor.
    pub context: RawContext,
}

/// What the browser knows about the page and the visitor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawContext {
    /// The full page URL.
    pub url: Option<String>,
    /// The full referrer URL.
    pub referrer: Option<String>,
    /// The page title: never sent (titles often carry names), read only to be dropped.
    pub title: Option<String>,
    /// The full user-agent string.
    pub user_agent: Option<String>,
    /// User-Agent Client Hints.
    pub ua_hints: Option<ClientHints>,
    /// The browser language (BCP 47).
    pub language: Option<String>,
    /// Screen width in CSS pixels.
    pub screen_width: Option<u64>,
    /// Screen height in CSS pixels: never sent, read only to be dropped.
    pub screen_height: Option<u64>,
    /// A location the app supplies, if any.
    pub location: Option<RawLocation>,
}

impl RawEvent {
    /// Read a raw event from its JSON form. Fails only when there is no event at all (not an
    /// object, or no event name); every other problem drops one field and is recorded.
    pub fn from_value(v: &Value) -> Result<(RawEvent, Vec<Drop>), Drop> {
        let (view, drops) = read(v)?;
        let RawView {
            event,
            timestamp,
            props,
            user_id,
            groups,
            traits,
            context,
        } = view;
        let raw = RawEvent {
            event: event.to_owned(),
            timestamp: timestamp.map(str::to_owned),
            props: props.cloned().unwrap_or_default(),
            user_id: user_id.cloned(),
            groups: groups.cloned().unwrap_or_default(),
            traits: traits.cloned().unwrap_or_default(),
            context,
        };
        Ok((raw, drops))
    }

    /// [`RawEvent::from_value`] of JSON the caller no longer needs.
    pub fn from_json(v: Value) -> Result<(RawEvent, Vec<Drop>), Drop> {
        Self::from_value(&v)
    }
}

/// A raw event read in place from parsed JSON (a `Value`, or a [`crate::json::BorrowedJson`]
/// of the text the SDK hands in): its maps and strings are not copied. `None` for an absent or
/// `null` object; the context, small and read field by field, is owned.
#[derive(Debug)]
pub(crate) struct RawView<'v, V: JsonView> {
    pub event: &'v str,
    pub timestamp: Option<&'v str>,
    pub props: Option<&'v V::Object>,
    pub user_id: Option<&'v V>,
    pub groups: Option<&'v V::Object>,
    pub traits: Option<&'v V::Object>,
    pub context: RawContext,
}

/// Read a raw event, the one reader of the raw JSON shape ([`RawEvent::from_value`] and
/// [`crate::clean_json`] both come here). Fails only when there is no event at all.
pub(crate) fn read<V: JsonView>(v: &V) -> Result<(RawView<'_, V>, Vec<Drop>), Drop> {
    let Some(obj) = v.as_object() else {
        return Err(Drop::new(
            "event",
            DropReason::WrongType { expected: "object" },
        ));
    };
    let event = match obj.get("event").map(JsonView::node) {
        Some(Node::String(s)) if !s.is_empty() => s,
        Some(Node::String(_)) | None => return Err(Drop::new("event", DropReason::Empty)),
        Some(_) => {
            return Err(Drop::new(
                "event",
                DropReason::WrongType { expected: "string" },
            ));
        }
    };
    let mut drops = Vec::new();
    let mut raw = RawView {
        event,
        timestamp: None,
        props: None,
        user_id: None,
        groups: None,
        traits: None,
        context: RawContext::default(),
    };
    for (key, value) in obj.iter() {
        match key {
            "event" => {}
            "timestamp" => raw.timestamp = string(value, "", key, &mut drops),
            "props" => raw.props = object(key, value, &mut drops),
            "user_id" => raw.user_id = (!value.is_null()).then_some(value),
            "groups" => raw.groups = object(key, value, &mut drops),
            "traits" => raw.traits = object(key, value, &mut drops),
            "context" => raw.context = RawContext::read(value, &mut drops),
            _ => drops.push(Drop::new(field_path("", key), DropReason::UnknownField)),
        }
    }
    Ok((raw, drops))
}

impl RawContext {
    /// Read a raw event's `context` (a `null` one is no context and drops nothing).
    pub(crate) fn read<V: JsonView>(v: &V, drops: &mut Vec<Drop>) -> RawContext {
        let mut ctx = RawContext::default();
        let Some(obj) = v.as_object() else {
            if !v.is_null() {
                drops.push(Drop::new(
                    "context",
                    DropReason::WrongType { expected: "object" },
                ));
            }
            return ctx;
        };
        let owned = |s: Option<&str>| s.map(str::to_owned);
        for (key, value) in obj.iter() {
            // A field's path scrubs its key: it is built only for a drop.
            let field = || field_path("context", key);
            match key {
                "url" => ctx.url = owned(string(value, "context", key, drops)),
                "referrer" => ctx.referrer = owned(string(value, "context", key, drops)),
                "title" => ctx.title = owned(string(value, "context", key, drops)),
                "user_agent" => ctx.user_agent = owned(string(value, "context", key, drops)),
                "language" => ctx.language = owned(string(value, "context", key, drops)),
                "ua_hints" => match client_hints(value) {
                    Some(h) => ctx.ua_hints = Some(h),
                    None => drops.push(Drop::new(
                        field(),
                        DropReason::Invalid {
                            expected: "client hints object",
                        },
                    )),
                },
                "screen" => {
                    let Some(s) = value.as_object() else {
                        drops.push(Drop::new(
                            field(),
                            DropReason::WrongType { expected: "object" },
                        ));
                        continue;
                    };
                    for (k, v) in s.iter() {
                        let f = || field_path(&field(), k);
                        let n = v.as_u64();
                        match (k, n) {
                            ("width", Some(n)) => ctx.screen_width = Some(n),
                            ("height", Some(n)) => ctx.screen_height = Some(n),
                            ("width" | "height", None) => drops.push(Drop::new(
                                f(),
                                DropReason::WrongType {
                                    expected: "whole number",
                                },
                            )),
                            _ => drops.push(Drop::new(f(), DropReason::UnknownField)),
                        }
                    }
                }
                "location" => ctx.location = location(&field(), value, drops),
                _ => drops.push(Drop::new(field(), DropReason::UnknownField)),
            }
        }
        ctx
    }
}

fn location<V: JsonView>(field: &str, v: &V, drops: &mut Vec<Drop>) -> Option<RawLocation> {
    let Some(obj) = v.as_object() else {
        drops.push(Drop::new(
            field,
            DropReason::WrongType { expected: "object" },
        ));
        return None;
    };
    let mut loc = RawLocation::default();
    for (key, value) in obj.iter() {
        let f = || field_path(field, key);
        match key {
            "country" => loc.country = string(value, field, key, drops).map(str::to_owned),
            "region" => loc.region = string(value, field, key, drops).map(str::to_owned),
            "city" => loc.city = Some(String::new()).filter(|_| !value.is_null()),
            "postcode" | "postal_code" | "zip" => {
                loc.postcode = Some(String::new()).filter(|_| !value.is_null())
            }
            "lat" | "latitude" => loc.lat = number(&f(), value, drops),
            "lon" | "lng" | "longitude" => loc.lon = number(&f(), value, drops),
            _ => drops.push(Drop::new(f(), DropReason::UnknownField)),
        }
    }
    Some(loc)
}

/// Client hints as `serde` would read them into [`ClientHints`] (every field defaulted,
/// unknown keys ignored, the array form of a struct accepted), read by hand: serde's typed
/// deserializer with its error messages is the largest single thing it would add to the
/// browser build. `None` is what serde refuses; a test holds the two together.
fn client_hints<V: JsonView>(v: &V) -> Option<ClientHints> {
    let mut hints = ClientHints::default();
    let text = |v: &V| v.as_str().map(str::to_owned);
    match v.node() {
        Node::Object(map) => {
            for (key, value) in map.iter() {
                match key {
                    "brands" => hints.brands = brands(value)?,
                    "mobile" => hints.mobile = optional(value, V::as_bool)?,
                    "platform" => hints.platform = optional(value, text)?,
                    _ => {}
                }
            }
        }
        Node::Array(items) if items.len() <= 3 => {
            if let Some(value) = items.first() {
                hints.brands = brands(value)?;
            }
            if let Some(value) = items.get(1) {
                hints.mobile = optional(value, V::as_bool)?;
            }
            if let Some(value) = items.get(2) {
                hints.platform = optional(value, text)?;
            }
        }
        _ => return None,
    }
    Some(hints)
}

/// An `Option<T>` field: `null` is `None`, anything `read` refuses is an error (the outer
/// `None`).
fn optional<V: JsonView, T>(v: &V, read: impl Fn(&V) -> Option<T>) -> Option<Option<T>> {
    if v.is_null() {
        Some(None)
    } else {
        read(v).map(Some)
    }
}

fn brands<V: JsonView>(v: &V) -> Option<Vec<Brand>> {
    let text = |v: &V| v.as_str().map(str::to_owned);
    v.as_array()?
        .iter()
        .map(|b| match b.node() {
            Node::Object(map) => Some(Brand {
                brand: text(map.get("brand")?)?,
                version: text(map.get("version")?)?,
            }),
            Node::Array([brand, version]) => Some(Brand {
                brand: text(brand)?,
                version: text(version)?,
            }),
            _ => None,
        })
        .collect()
}

/// A string field. Anything but a string or `null` is dropped as `section.key` (the path is
/// built only then: it scrubs the key).
fn string<'v, V: JsonView>(
    v: &'v V,
    section: &str,
    key: &str,
    drops: &mut Vec<Drop>,
) -> Option<&'v str> {
    match v.node() {
        Node::String(s) => Some(s),
        Node::Null => None,
        _ => {
            drops.push(Drop::new(
                field_path(section, key),
                DropReason::WrongType { expected: "string" },
            ));
            None
        }
    }
}

fn number<V: JsonView>(field: &str, v: &V, drops: &mut Vec<Drop>) -> Option<f64> {
    match v.as_f64() {
        Some(n) => Some(n),
        None if v.is_null() => None,
        None => {
            drops.push(Drop::new(
                field,
                DropReason::WrongType { expected: "number" },
            ));
            None
        }
    }
}

fn object<'v, V: JsonView>(field: &str, v: &'v V, drops: &mut Vec<Drop>) -> Option<&'v V::Object> {
    match v.node() {
        Node::Object(m) => Some(m),
        Node::Null => None,
        _ => {
            drops.push(Drop::new(
                field,
                DropReason::WrongType { expected: "object" },
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn client_hints_are_read_as_serde_would() {
        let brand = json!({"brand": "Chromium", "version": "124", "extra": 1});
        let cases = [
            json!({}),
            json!({"brands": [brand], "mobile": true, "platform": "Android"}),
            json!({"brands": [["Chromium", "124"]], "mobile": null, "platform": null}),
            json!({"brands": [], "unknown": "ignored"}),
            json!({"brands": null}),
            json!({"brands": "Chromium"}),
            json!({"brands": [{"brand": "Chromium"}]}),
            json!({"brands": [{"brand": "Chromium", "version": 124}]}),
            json!({"brands": [["Chromium"]]}),
            json!({"brands": [["Chromium", "124", "x"]]}),
            json!({"brands": ["Chromium"]}),
            json!({"mobile": "yes"}),
            json!({"mobile": 1}),
            json!({"platform": 7}),
            json!([]),
            json!([[brand], false]),
            json!([[], null, "macOS"]),
            json!([[], null, "macOS", 1]),
            json!([null]),
            json!(null),
            json!("hints"),
            json!(3),
        ];
        for case in cases {
            let want = serde_json::from_value::<ClientHints>(case.clone()).ok();
            assert_eq!(client_hints(&case), want, "{case}");
        }
    }
}

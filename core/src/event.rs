//! The clean event and the two ways to get one: [`clean_event`] in the browser, from a raw
//! event, and [`verify_event`] at the collector, from a received event that must already be
//! clean.
//!
//! [`CleanEvent`] has private fields and no public constructor: the network and the store only
//! take this type, so nothing that skipped the schema and its transforms can be sent or
//! stored. [`clean_event`] destructures [`RawEvent`] without `..`, so a new raw field does not
//! compile until someone decides its treatment.
//!
//! The collector trusts nothing a client sends: [`verify_event`] runs the received event back
//! through the same pipeline and accepts it only if that changes nothing (every transform is
//! idempotent), naming each field that is not clean otherwise.

use alloc::borrow::Cow;

use crate::map::NameMap;

use serde::Serialize;
use serde_json::Value;

use crate::drop::{Drop, DropReason, Redaction, field_path};
use crate::json::{BorrowedJson, JsonObject, JsonView};
use crate::prelude::*;
use crate::raw::{self, RawContext, RawEvent};
use crate::schema::{
    LanguagePrecision, LocationPrecision, ReferrerPrecision, Schema, ScreenPrecision, UaPrecision,
    UrlPrecision,
};
use crate::transform::identifier::{ClientKey, IdField, Pepper, Pseudonym, decode_hex, encode_hex};
use crate::transform::language::clean_language;
use crate::transform::location::{CleanLocation, RawLocation, clean_location};
use crate::transform::screen::ScreenClass;
use crate::transform::time::UnixTime;
use crate::transform::ua::{Browser, Device, Os, ReducedUa, reduce};
use crate::transform::url::{clean_page_url_routed, clean_referrer};
use crate::transform::value::{
    CleanValue, Identifiers, MAX_URL_LENGTH, clean_identifier, clean_value,
};
#[cfg(not(target_arch = "wasm32"))]
use same::Same;

mod json;
pub(crate) use json::push_str as push_json_string;

/// A 128-bit random event id, chosen by the SDK, that lets the collector drop duplicates when
/// a batch is retried. Serializes as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId([u8; 16]);

impl EventId {
    /// An id from 16 random bytes (`crypto.getRandomValues` in the browser).
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Parse the 32-hex-digit form.
    pub fn parse(s: &str) -> Option<Self> {
        let mut b = [0u8; 16];
        decode_hex(s, &mut b).then_some(Self(b))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl core::fmt::Display for EventId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&encode_hex(&self.0))
    }
}

impl core::fmt::Debug for EventId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EventId({self})")
    }
}

impl Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The hex text as a plain string: `collect_str` would go through `core::fmt`.
        s.serialize_str(&encode_hex(&self.0))
    }
}

fn rfc3339<S: serde::Serializer>(t: &UnixTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

/// An event that may leave the browser and be stored. Only this crate can build one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleanEvent {
    id: EventId,
    event: String,
    #[serde(serialize_with = "rfc3339")]
    time: UnixTime,
    #[serde(skip_serializing_if = "NameMap::is_empty")]
    props: NameMap<CleanValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Pseudonym>,
    #[serde(skip_serializing_if = "NameMap::is_empty")]
    groups: NameMap<Pseudonym>,
    #[serde(skip_serializing_if = "NameMap::is_empty")]
    traits: NameMap<CleanValue>,
    #[serde(skip_serializing_if = "CleanContext::is_empty")]
    context: CleanContext,
}

/// The context of a clean event: every field already reduced to the schema's precision.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CleanContext {
    /// Page URL: origin + path with ID placeholders (+ allowlisted query), or origin only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The referring origin; absent when same-site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// The reduced user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ua: Option<ReducedUa>,
    /// Language (`en`) or locale (`en-US`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Screen size class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen: Option<ScreenClass>,
    /// Country, large region or coarse grid cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<CleanLocation>,
}

impl CleanContext {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl CleanEvent {
    /// The event id.
    pub fn id(&self) -> EventId {
        self.id
    }
    /// The event name, declared in the schema.
    pub fn event(&self) -> &str {
        &self.event
    }
    /// The truncated event time.
    pub fn time(&self) -> UnixTime {
        self.time
    }
    /// Declared, cleaned properties.
    pub fn props(&self) -> &NameMap<CleanValue> {
        &self.props
    }
    /// The user pseudonym.
    pub fn user(&self) -> Option<&Pseudonym> {
        self.user.as_ref()
    }
    /// Group pseudonyms by kind.
    pub fn groups(&self) -> &NameMap<Pseudonym> {
        &self.groups
    }
    /// Declared, cleaned traits.
    pub fn traits(&self) -> &NameMap<CleanValue> {
        &self.traits
    }
    /// The reduced context.
    pub fn context(&self) -> &CleanContext {
        &self.context
    }

    /// The form the collector stores: every pseudonym re-keyed under the epoch's secret
    /// pepper, so what the browser sent (hashed under a public key) is never stored.
    pub fn rekeyed(&self, pepper: &Pepper) -> CleanEvent {
        self.clone().into_rekeyed(pepper)
    }

    /// [`CleanEvent::rekeyed`] without a copy, for a caller that no longer needs the event.
    pub fn into_rekeyed(self, pepper: &Pepper) -> CleanEvent {
        let mut out = self;
        out.user = out.user.as_ref().map(|p| p.rekey(pepper, IdField::UserId));
        for (kind, p) in &mut out.groups {
            *p = p.rekey(pepper, IdField::Group(kind));
        }
        for (name, v) in &mut out.props {
            if let CleanValue::Pseudonym(p) = v {
                *p = p.rekey(pepper, IdField::Prop(name));
            }
        }
        for (name, v) in &mut out.traits {
            if let CleanValue::Pseudonym(p) = v {
                *p = p.rekey(pepper, IdField::Trait(name));
            }
        }
        out
    }

    /// The event with its time corrected for the client's clock skew and truncated again to the
    /// schema's precision (see [`UnixTime::corrected`]).
    pub fn with_corrected_time(
        &self,
        sent_at: UnixTime,
        received_at: UnixTime,
        schema: &Schema,
    ) -> CleanEvent {
        self.clone()
            .into_corrected_time(sent_at, received_at, schema)
    }

    /// [`CleanEvent::with_corrected_time`] without a copy.
    pub fn into_corrected_time(
        self,
        sent_at: UnixTime,
        received_at: UnixTime,
        schema: &Schema,
    ) -> CleanEvent {
        CleanEvent {
            time: self
                .time
                .corrected(sent_at, received_at, schema.context.time),
            ..self
        }
    }
}

/// Choices that change what is sent, made by the visitor rather than the schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanOptions {
    /// The visitor signalled Global Privacy Control or Do Not Track: send no identifier at all
    /// (user, groups, identifier properties and traits), only anonymous events.
    pub anonymous: bool,
    /// Leave [`Outcome::redactions`] empty, for a caller that never reads it (the browser SDK
    /// outside debug mode). The clean event and the drops are the same; only the list of
    /// changes is not built, which saves naming each changed field (a scrub of its key).
    pub skip_redactions: bool,
}

impl CleanOptions {
    /// Options for an anonymous visitor (GPC or DNT).
    pub fn anonymous() -> Self {
        Self {
            anonymous: true,
            ..Self::default()
        }
    }
}

/// The result of cleaning one raw event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The clean event, or `None` when the whole event was dropped (see `drops`).
    pub event: Option<CleanEvent>,
    /// Everything that was not sent, with its reason.
    pub drops: Vec<Drop>,
    /// Everything that was sent changed, with the rule that changed it.
    pub redactions: Vec<Redaction>,
}

/// Clean a raw event under the schema: the only way to build a [`CleanEvent`] from app data.
pub fn clean_event(
    raw: &RawEvent,
    schema: &Schema,
    key: &ClientKey,
    id: EventId,
    options: CleanOptions,
) -> Outcome {
    Pipeline::new(schema, Identifiers::Hash(key), options).run(RawRef::from(raw), id)
}

/// Clean a raw event given as JSON text: what the SDK does for every call and what the
/// collector's `preview` does for every line, so both report the same drops. Text that is not
/// JSON, or JSON that is not an object, drops the whole event at field `event`.
pub fn clean_json(
    raw_json: &str,
    schema: &Schema,
    key: &ClientKey,
    id: EventId,
    options: CleanOptions,
) -> Outcome {
    // serde_json's message could quote the input: report the kind of problem only. Read in
    // place: the tree borrows the text (`BorrowedJson` reads as the `Value` of the same text).
    let Ok(value) = BorrowedJson::parse(raw_json) else {
        return not_json();
    };
    clean_parsed(&value, schema, key, id, options, None)
}

/// The outcome of text that is not JSON.
fn not_json() -> Outcome {
    not_sent(Drop::new(
        "event",
        DropReason::Invalid {
            expected: "json object",
        },
    ))
}

fn not_sent(drop: Drop) -> Outcome {
    Outcome {
        event: None,
        drops: vec![drop],
        redactions: Vec::new(),
    }
}

fn clean_parsed<V: JsonView>(
    value: &V,
    schema: &Schema,
    key: &ClientKey,
    id: EventId,
    options: CleanOptions,
    mut cache: Option<&mut ContextCache>,
) -> Outcome {
    let (raw, mut drops) = match raw::read(value) {
        Ok(read) => read,
        Err(drop) => return not_sent(drop),
    };
    if let Some(cache) = cache.as_deref_mut()
        && drops
            .iter()
            .any(|d| d.field == "context" || d.field.starts_with("context."))
    {
        // Reading this context dropped a field: it is not kept, so that a hit, which does not
        // read the context, never has to give a reading's drops.
        cache.key = None;
    }
    let mut pipeline = Pipeline::new(schema, Identifiers::Hash(key), options);
    pipeline.cache = cache;
    let empty = V::Object::default();
    let raw = RawRef {
        event: raw.event,
        timestamp: raw.timestamp,
        props: raw.props.unwrap_or(&empty),
        user_id: raw.user_id,
        groups: raw.groups.unwrap_or(&empty),
        traits: raw.traits.unwrap_or(&empty),
        context: &raw.context,
    };
    let mut outcome = pipeline.run(raw, id);
    drops.append(&mut outcome.drops);
    outcome.drops = drops;
    outcome
}

/// What [`clean_json_in_context`] keeps of the last context it cleaned. A page sends the same
/// context (URL, referrer, user agent, language, screen) with every event until it navigates;
/// reading and cleaning it (the page URL and the user agent above all) was about a fifth of a
/// `track()` call in the browser. Cleaning a context depends only on its text, the schema and
/// the [`CleanOptions`], so an event whose context text is the last one's gets the same clean
/// context, drops and redactions again, without the work, and the same outcome (tested). A
/// cache must be used with one schema only: the browser's `Client` owns one beside its schema.
#[derive(Debug, Default)]
pub struct ContextCache {
    last: Option<CachedContext>,
    /// This call's context is the last one's: [`Pipeline::cached_context`] replays it.
    hit: bool,
    /// On a miss, this call's context text, if it is to be kept.
    key: Option<String>,
}

#[derive(Debug)]
struct CachedContext {
    text: String,
    options: CleanOptions,
    clean: CleanContext,
    drops: Vec<Drop>,
    redactions: Vec<Redaction>,
}

/// [`clean_json`] of a raw event whose context comes as its own JSON text, as the browser SDK
/// sends it: the outcome is that of `event_json` with `context_json` as its `context` member
/// (in place of any it has). A context whose text is the last call's is neither parsed nor
/// cleaned again (see [`ContextCache`]). Text that is not JSON, in either, drops the whole
/// event at field `event`, as the raw event's text would.
pub fn clean_json_in_context(
    event_json: &str,
    context_json: &str,
    schema: &Schema,
    key: &ClientKey,
    id: EventId,
    options: CleanOptions,
    cache: &mut ContextCache,
) -> Outcome {
    let Ok(mut value) = BorrowedJson::parse(event_json) else {
        return not_json();
    };
    let hit = cache
        .last
        .as_ref()
        .is_some_and(|last| last.options == options && last.text == context_json);
    if let BorrowedJson::Object(event) = &mut value {
        // On a hit the raw context is not read: `null` reads as no context and drops nothing,
        // as the cached one did (a context whose reading dropped anything is not kept).
        let context = if hit {
            BorrowedJson::Null
        } else {
            let Ok(context) = BorrowedJson::parse(context_json) else {
                return not_json();
            };
            context
        };
        event.insert(Cow::Borrowed("context"), context);
    }
    cache.hit = hit;
    cache.key = (!hit).then(|| context_json.to_owned());
    clean_parsed(&value, schema, key, id, options, Some(cache))
}

/// A raw event by reference: what the pipeline reads. [`verify_event`] builds one over the
/// received JSON (a `Value`, or the collector's borrowed tree) without copying its maps.
struct RawRef<'r, V: JsonView> {
    event: &'r str,
    timestamp: Option<&'r str>,
    props: &'r V::Object,
    user_id: Option<&'r V>,
    groups: &'r V::Object,
    traits: &'r V::Object,
    context: &'r RawContext,
}

impl<'r> From<&'r RawEvent> for RawRef<'r, Value> {
    fn from(raw: &'r RawEvent) -> Self {
        // No `..`: a new raw field must be passed on before this compiles.
        let RawEvent {
            event,
            timestamp,
            props,
            user_id,
            groups,
            traits,
            context,
        } = raw;
        RawRef {
            event,
            timestamp: timestamp.as_deref(),
            props,
            user_id: user_id.as_ref(),
            groups,
            traits,
            context,
        }
    }
}

struct Pipeline<'s> {
    schema: &'s Schema,
    ids: Identifiers<'s>,
    options: CleanOptions,
    drops: Vec<Drop>,
    redactions: Vec<Redaction>,
    /// The browser's cache of the last context, if the caller keeps one.
    cache: Option<&'s mut ContextCache>,
}

impl<'s> Pipeline<'s> {
    fn new(schema: &'s Schema, ids: Identifiers<'s>, options: CleanOptions) -> Self {
        Self {
            schema,
            ids,
            options,
            drops: Vec::new(),
            redactions: Vec::new(),
            cache: None,
        }
    }

    fn drop(&mut self, field: impl Into<String>, reason: DropReason) {
        self.drops.push(Drop::new(field, reason));
    }

    /// Record that `field` was changed by `rule`; the field is named only when it is listed.
    fn redact<F: Into<String>>(&mut self, field: impl FnOnce() -> F, rule: impl Into<String>) {
        if !self.options.skip_redactions {
            let field = field();
            self.redactions.push(Redaction::new(field, rule));
        }
    }

    fn run<V: JsonView>(mut self, raw: RawRef<'_, V>, id: EventId) -> Outcome {
        let event = self.event(raw, id);
        // A location's redactions are pushed by `clean_location` itself.
        if self.options.skip_redactions {
            self.redactions.clear();
        }
        Outcome {
            event,
            drops: self.drops,
            redactions: self.redactions,
        }
    }

    fn event<V: JsonView>(&mut self, raw: RawRef<'_, V>, id: EventId) -> Option<CleanEvent> {
        // No `..`: a new raw field must be given a treatment before this compiles.
        let RawRef {
            event,
            timestamp,
            props,
            user_id,
            groups,
            traits,
            context,
        } = raw;
        let schema = self.schema;
        let Some(def) = schema.events.get(event) else {
            self.drop("event", DropReason::UndeclaredEvent);
            return None;
        };
        let time = match timestamp.map(UnixTime::parse_rfc3339) {
            Some(Some(t)) => t.truncate(schema.context.time),
            Some(None) => {
                self.drop(
                    "timestamp",
                    DropReason::Invalid {
                        expected: "rfc 3339 timestamp from 2000 to 2200",
                    },
                );
                return None;
            }
            None => {
                self.drop("timestamp", DropReason::Empty);
                return None;
            }
        };
        let props = self.values("props", props, |name| {
            def.props.get(name).map(|d| (&d.kind, IdField::Prop(name)))
        });
        let traits = self.values("traits", traits, |name| {
            schema
                .identity
                .traits
                .get(name)
                .map(|d| (&d.kind, IdField::Trait(name)))
        });
        let user = user_id.and_then(|raw| {
            if schema.identity.user_id.is_none() {
                self.drop("user_id", DropReason::Undeclared);
                return None;
            }
            self.identifier(|| "user_id".to_owned(), IdField::UserId, raw)
        });
        let mut clean_groups = NameMap::new();
        for (kind, raw) in groups.iter() {
            // Built only when needed: it scrubs the key.
            let field = || field_path("groups", kind);
            if !schema.identity.groups.contains_key(kind) {
                self.drop(field(), DropReason::Undeclared);
            } else if let Some(p) = self.identifier(field, IdField::Group(kind), raw) {
                clean_groups.insert(kind.to_owned(), p);
            }
        }
        let context = self.cached_context(context);
        Some(CleanEvent {
            id,
            event: event.to_owned(),
            time,
            props,
            user,
            groups: clean_groups,
            traits,
            context,
        })
    }

    fn identifier<V: JsonView>(
        &mut self,
        field: impl FnOnce() -> String,
        id_field: IdField<'_>,
        raw: &V,
    ) -> Option<Pseudonym> {
        if self.options.anonymous {
            self.drop(field(), DropReason::Anonymous);
            return None;
        }
        match clean_identifier(id_field, raw, self.ids) {
            Ok(p) => {
                if matches!(self.ids, Identifiers::Hash(_)) {
                    self.redact(field, "hashed");
                }
                Some(p)
            }
            Err(reason) => {
                self.drop(field(), reason);
                None
            }
        }
    }

    fn values<'d, M: JsonObject>(
        &mut self,
        section: &str,
        raw: &'d M,
        declared: impl Fn(&'d str) -> Option<(&'s crate::schema::PropKind, IdField<'d>)>,
    ) -> NameMap<CleanValue> {
        let mut out = NameMap::new();
        for (name, value) in raw.iter() {
            // Built only when needed: it scrubs the key.
            let field = || field_path(section, name);
            let Some((kind, id_field)) = declared(name) else {
                self.drop(field(), DropReason::Undeclared);
                continue;
            };
            if value.is_null() {
                continue;
            }
            if matches!(kind, crate::schema::PropKind::Identifier) && self.options.anonymous {
                self.drop(field(), DropReason::Anonymous);
                continue;
            }
            match clean_value(
                kind,
                id_field,
                value,
                self.ids,
                &self.schema.query_allowlist,
            ) {
                Ok((v, rule)) => {
                    if let Some(rule) = rule {
                        self.redact(field, rule);
                    }
                    out.insert(name.to_owned(), v);
                }
                Err(reason) => self.drop(field(), reason),
            }
        }
        out
    }

    /// [`Pipeline::context`], or what it gave for the same raw context last time, drops and
    /// redactions included, when the caller keeps a [`ContextCache`].
    fn cached_context(&mut self, raw: &RawContext) -> CleanContext {
        if let Some(cache) = self.cache.as_deref()
            && cache.hit
            && let Some(last) = &cache.last
        {
            self.drops.extend_from_slice(&last.drops);
            self.redactions.extend_from_slice(&last.redactions);
            return last.clean.clone();
        }
        let (drops, redactions) = (self.drops.len(), self.redactions.len());
        let clean = self.context(raw);
        if let Some(cache) = self.cache.as_deref_mut()
            && let Some(text) = cache.key.take()
        {
            cache.last = Some(CachedContext {
                text,
                options: self.options,
                clean: clean.clone(),
                drops: self.drops[drops..].to_vec(),
                redactions: self.redactions[redactions..].to_vec(),
            });
        }
        clean
    }

    fn context(&mut self, raw: &RawContext) -> CleanContext {
        // No `..` here either.
        let RawContext {
            url,
            referrer,
            title,
            user_agent,
            ua_hints,
            language,
            screen_width,
            screen_height,
            location,
        } = raw;
        let policy = self.schema.context;
        let mut out = CleanContext::default();

        let page = url.as_deref().map(|u| {
            clean_page_url_routed(
                u,
                &self.schema.query_allowlist,
                &self.schema.routes,
                policy.url == UrlPrecision::Route,
                MAX_URL_LENGTH,
            )
        });
        if let Some(page) = &page {
            match (policy.url, page) {
                (UrlPrecision::None, _) => self.drop("context.url", DropReason::NotCaptured),
                (_, Err(why)) => self.drop("context.url", DropReason::Url { why: why.clone() }),
                (UrlPrecision::Path | UrlPrecision::Route, Ok(clean)) => {
                    out.url = Some(clean.as_str().to_owned())
                }
                (UrlPrecision::Origin, Ok(_)) => {
                    out.url = url
                        .as_deref()
                        .and_then(|u| clean_referrer(u, None).ok().flatten());
                }
            }
            if out.url.is_some() && out.url.as_deref() != url.as_deref() {
                // The rule that shaped it: the path rule, a declared route, or the origin alone
                // because no route matched.
                let rule = match (policy.url, page) {
                    (UrlPrecision::Path | UrlPrecision::Route, Ok(clean)) => clean.rule(),
                    _ => "url",
                };
                self.redact(|| "context.url", rule);
            }
        }
        if let Some(r) = referrer.as_deref().filter(|r| !r.is_empty()) {
            if policy.referrer == ReferrerPrecision::None {
                self.drop("context.referrer", DropReason::NotCaptured);
            } else {
                let page_host = page
                    .as_ref()
                    .and_then(|p| p.as_ref().ok())
                    .map(|p| p.host());
                match clean_referrer(r, page_host) {
                    Ok(Some(origin)) => {
                        if origin != r {
                            self.redact(|| "context.referrer", "origin");
                        }
                        out.referrer = Some(origin);
                    }
                    Ok(None) => self.drop("context.referrer", DropReason::SameSite),
                    Err(why) => self.drop("context.referrer", DropReason::Url { why }),
                }
            }
        }
        if title.is_some() {
            self.drop("context.title", DropReason::NotCaptured);
        }
        if user_agent.is_some() || ua_hints.is_some() {
            if policy.user_agent == UaPrecision::None {
                self.drop("context.user_agent", DropReason::NotCaptured);
            } else {
                out.ua = Some(reduce(user_agent.as_deref(), ua_hints.as_ref()));
                self.redact(|| "context.user_agent", "reduced");
            }
        }
        if let Some(lang) = language {
            match (policy.language, clean_language(lang, policy.language)) {
                (LanguagePrecision::None, _) => {
                    self.drop("context.language", DropReason::NotCaptured)
                }
                (_, None) => self.drop(
                    "context.language",
                    DropReason::Invalid {
                        expected: "bcp 47 language tag",
                    },
                ),
                (_, Some(l)) => {
                    if l != *lang {
                        self.redact(|| "context.language", "coarsened");
                    }
                    out.language = Some(l);
                }
            }
        }
        if let Some(w) = screen_width {
            match (policy.screen, ScreenClass::of_width(*w)) {
                (ScreenPrecision::None, _) => self.drop("context.screen", DropReason::NotCaptured),
                (_, None) => self.drop("context.screen.width", DropReason::OutOfRange),
                (ScreenPrecision::Class, Some(c)) => {
                    out.screen = Some(c);
                    self.redact(|| "context.screen", "coarsened:class");
                }
            }
        }
        if screen_height.is_some() {
            self.drop("context.screen.height", DropReason::NotCaptured);
        }
        if let Some(loc) = location {
            out.location =
                clean_location(loc, policy.location, &mut self.drops, &mut self.redactions);
        }
        out
    }
}

/// Why a received event was not stored: its id if it had a valid one, and every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// The event id, when the event carried a valid one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<EventId>,
    /// Every field that is not clean, and why.
    pub reasons: Vec<Drop>,
}

impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let reasons: Vec<String> = self.reasons.iter().map(ToString::to_string).collect();
        f.write_str(&reasons.join("; "))
    }
}

/// The collector's check: accept a received event only if it is already a fixed point of the
/// schema's transforms, and name every field that is not otherwise.
pub fn verify_event<V: JsonView>(received: &V, schema: &Schema) -> Result<CleanEvent, Rejection> {
    verify::<false, _>(received, schema, None)
}

/// What [`verify_event_in`] keeps of the last received context that verified. The events of a
/// batch come from one page and carry the same context (URL, referrer, user agent, language,
/// screen, location), and checking it, the page URL's rules above all, is a large part of
/// verifying an event. Checking a context depends only on it and the schema, so an event whose
/// context equals the last verified one's takes that clean context without the work, and gets
/// the same verdict (tested against [`verify_event`]). Only a context whose event verified is
/// kept, so a hit never has to give reasons. Use one with one schema only (the collector keeps
/// one per batch).
#[derive(Debug, Default)]
pub struct VerifiedContexts {
    last: Option<(Value, CleanContext)>,
}

/// [`verify_event`], with the clean context of the last verified event reused when this
/// event's context is the same (see [`VerifiedContexts`]).
pub fn verify_event_in<V: JsonView>(
    received: &V,
    schema: &Schema,
    contexts: &mut VerifiedContexts,
) -> Result<CleanEvent, Rejection> {
    verify::<true, _>(received, schema, Some(contexts))
}

/// [`verify_event_in`] (`KEEP`, with `contexts`), or [`verify_event`], which the browser build
/// uses alone: its instance has no context-keeping code to download.
fn verify<const KEEP: bool, V: JsonView>(
    received: &V,
    schema: &Schema,
    contexts: Option<&mut VerifiedContexts>,
) -> Result<CleanEvent, Rejection> {
    // Reborrowed by the native comparison below; the browser build only moves it.
    #[cfg(not(target_arch = "wasm32"))]
    let mut contexts = contexts;
    let mut reasons = Vec::new();
    let Some(obj) = received.as_object() else {
        return Err(Rejection {
            id: None,
            reasons: vec![Drop::new(
                "event",
                DropReason::WrongType { expected: "object" },
            )],
        });
    };
    let id = obj
        .get("id")
        .and_then(JsonView::as_str)
        .and_then(EventId::parse);
    if id.is_none() {
        reasons.push(Drop::new(
            "id",
            DropReason::Invalid {
                expected: "event id of 32 hex digits",
            },
        ));
    }
    let reject = |reasons| Rejection { id, reasons };

    // The received maps are read in place, not copied.
    let empty = V::Object::default();
    let mut raw = RawRef {
        event: "",
        timestamp: None,
        props: &empty,
        user_id: None,
        groups: &empty,
        traits: &empty,
        context: &RawContext::default(),
    };
    let mut context = RawContext::default();
    let mut ua = None;
    let mut screen = None;
    // The received context, and its clean form when it is the last verified one.
    let mut received_ctx = None;
    let mut known = None;
    for (key, value) in obj.iter() {
        match key {
            "id" => {}
            "event" => match value.as_str() {
                Some(s) => raw.event = s,
                None => reasons.push(Drop::new(
                    "event",
                    DropReason::WrongType { expected: "string" },
                )),
            },
            "time" => match value.as_str() {
                Some(s) => raw.timestamp = Some(s),
                None => reasons.push(Drop::new(
                    "time",
                    DropReason::WrongType { expected: "string" },
                )),
            },
            "user" => raw.user_id = Some(value),
            "props" | "groups" | "traits" => match value.as_object() {
                Some(m) => match key {
                    "props" => raw.props = m,
                    "groups" => raw.groups = m,
                    _ => raw.traits = m,
                },
                None => reasons.push(Drop::new(key, DropReason::WrongType { expected: "object" })),
            },
            "context" => {
                received_ctx = Some(value);
                match contexts.as_deref().and_then(|c| c.last.as_ref()) {
                    Some((last, clean)) if KEEP && value.same_as_value(last) => {
                        known = Some(clean.clone())
                    }
                    _ => received_context(
                        value,
                        schema,
                        &mut context,
                        &mut ua,
                        &mut screen,
                        &mut reasons,
                    ),
                }
            }
            _ => reasons.push(Drop::new(field_path("", key), DropReason::UnknownField)),
        }
    }
    let Some(id) = id else {
        return Err(reject(reasons));
    };
    raw.context = &context;
    let outcome =
        Pipeline::new(schema, Identifiers::Received, CleanOptions::default()).run(raw, id);
    reasons.extend(outcome.drops);
    let Some(mut event) = outcome.event else {
        return Err(reject(reasons));
    };
    // A known context was not read into `context`: the pipeline cleaned an empty one.
    let hit = known.is_some();
    match known {
        Some(clean) => event.context = clean,
        None => {
            event.context.ua = ua;
            event.context.screen = screen;
        }
    }
    if !reasons.is_empty() {
        return Err(reject(reasons));
    }
    let verified = |event: CleanEvent, contexts: Option<&mut VerifiedContexts>| {
        if KEEP
            && !hit
            && let (Some(contexts), Some(v)) = (contexts, received_ctx)
        {
            contexts.last = Some((v.to_value(), event.context.clone()));
        }
        Ok(event)
    };
    // Every field parsed and passed its transform; now the transform must not have changed it.
    // Not in the browser, where `verify_event` runs only on an imported queue: there the
    // second instance of every `Serialize` impl would cost download bytes, not time saved.
    #[cfg(not(target_arch = "wasm32"))]
    if serializes_to(&event, received) {
        return verified(event, contexts.as_deref_mut());
    }
    // `Err` is not formatted: its `Debug` would bring serde_json's error printing into the
    // browser build for a branch that cannot run.
    let Ok(again) = serde_json::to_value(&event) else {
        unreachable!("a clean event always serializes")
    };
    diff("", Some(received), &again, 2, &mut reasons);
    if reasons.is_empty() {
        verified(event, contexts)
    } else {
        Err(reject(reasons))
    }
}

/// The context of a received event, in its clean form, turned back into transform inputs.
/// The user agent and screen are already reduced and have no raw form: they are checked here.
fn received_context<V: JsonView>(
    v: &V,
    schema: &Schema,
    raw: &mut RawContext,
    ua: &mut Option<ReducedUa>,
    screen: &mut Option<ScreenClass>,
    reasons: &mut Vec<Drop>,
) {
    let Some(obj) = v.as_object() else {
        reasons.push(Drop::new(
            "context",
            DropReason::WrongType { expected: "object" },
        ));
        return;
    };
    for (key, value) in obj.iter() {
        // Built only when needed: it scrubs the key.
        let field = || field_path("context", key);
        match key {
            "url" | "referrer" | "language" => match value.as_str() {
                Some(s) => {
                    let slot = match key {
                        "url" => &mut raw.url,
                        "referrer" => &mut raw.referrer,
                        _ => &mut raw.language,
                    };
                    *slot = Some(s.to_owned());
                }
                None => reasons.push(Drop::new(
                    field(),
                    DropReason::WrongType { expected: "string" },
                )),
            },
            "ua" => match reduced_ua(value) {
                _ if schema.context.user_agent == UaPrecision::None => {
                    reasons.push(Drop::new(field(), DropReason::NotCaptured))
                }
                Some(r) if r.is_canonical() => *ua = Some(r),
                _ => reasons.push(Drop::new(
                    field(),
                    DropReason::Invalid {
                        expected: "reduced user agent",
                    },
                )),
            },
            "screen" => match value.as_str().and_then(ScreenClass::parse) {
                _ if schema.context.screen == ScreenPrecision::None => {
                    reasons.push(Drop::new(field(), DropReason::NotCaptured))
                }
                Some(c) => *screen = Some(c),
                None => reasons.push(Drop::new(
                    field(),
                    DropReason::Invalid {
                        expected: "screen class",
                    },
                )),
            },
            "location" => {
                let Some(loc) = value.as_object() else {
                    reasons.push(Drop::new(
                        field(),
                        DropReason::WrongType { expected: "object" },
                    ));
                    continue;
                };
                let mut r = RawLocation::default();
                for (k, v) in loc.iter() {
                    match (k, v.as_str(), v.as_object()) {
                        ("country", Some(s), _) => r.country = Some(s.to_owned()),
                        ("region", Some(s), _) => r.region = Some(s.to_owned()),
                        ("cell", _, Some(c))
                            if schema.context.location == LocationPrecision::Grid =>
                        {
                            r.lat = c.get("lat").and_then(JsonView::as_f64);
                            r.lon = c.get("lon").and_then(JsonView::as_f64);
                        }
                        _ => reasons.push(Drop::new(
                            field_path(&field(), k),
                            DropReason::Invalid {
                                expected: "clean location",
                            },
                        )),
                    }
                }
                raw.location = Some(r);
            }
            _ => reasons.push(Drop::new(field(), DropReason::UnknownField)),
        }
    }
}

/// Name the fields where `got` and `want` differ, descending `depth` levels into objects.
/// Every browser family, OS family and device class, for reading their names back.
const BROWSERS: [Browser; 13] = [
    Browser::Chrome,
    Browser::Edge,
    Browser::Firefox,
    Browser::Safari,
    Browser::Opera,
    Browser::SamsungInternet,
    Browser::Brave,
    Browser::Vivaldi,
    Browser::Yandex,
    Browser::UcBrowser,
    Browser::InternetExplorer,
    Browser::Chromium,
    Browser::Other,
];
const OSES: [Os; 7] = [
    Os::Windows,
    Os::MacOs,
    Os::Ios,
    Os::Android,
    Os::Linux,
    Os::ChromeOs,
    Os::Other,
];
const DEVICES: [Device; 5] = [
    Device::Desktop,
    Device::Mobile,
    Device::Tablet,
    Device::Bot,
    Device::Other,
];

/// A received reduced user agent, read as `serde` would read it into [`ReducedUa`] (unknown
/// keys refused, `browser_major` optional, the array form of a struct accepted), by hand:
/// serde's typed deserializer with its error messages is the largest single thing it would
/// add to the browser build, which runs this check on its stored queue. `None` is what serde
/// refuses; a test holds the two together.
// Inlined into its one caller, as it was before it read through `JsonView`: the browser
// build's size (BENCHMARKS.md, "ninth round").
#[inline]
fn reduced_ua<V: JsonView>(v: &V) -> Option<ReducedUa> {
    let major = |v: &V| {
        if v.is_null() {
            Some(None)
        } else {
            v.as_u64().and_then(|n| u16::try_from(n).ok()).map(Some)
        }
    };
    if let Some(map) = v.as_object() {
        let (mut browser, mut browser_major, mut os, mut device) = (None, None, None, None);
        for (key, value) in map.iter() {
            match key {
                "browser" => browser = Some(variant(value, &BROWSERS)?),
                "browser_major" => browser_major = major(value)?,
                "os" => os = Some(variant(value, &OSES)?),
                "device" => device = Some(variant(value, &DEVICES)?),
                _ => return None,
            }
        }
        return Some(ReducedUa {
            browser: browser?,
            browser_major,
            os: os?,
            device: device?,
        });
    }
    match v.as_array()? {
        [browser, browser_major, os, device] => Some(ReducedUa {
            browser: variant(browser, &BROWSERS)?,
            browser_major: major(browser_major)?,
            os: variant(os, &OSES)?,
            device: variant(device, &DEVICES)?,
        }),
        _ => None,
    }
}

/// The unit variant of `all` that serializes as the name `v` gives: a string, or serde's
/// externally tagged form `{"name": null}`.
fn variant<T: Serialize + Copy, V: JsonView>(v: &V, all: &[T]) -> Option<T> {
    let name = match (v.as_str(), v.as_object()) {
        (Some(name), _) => name,
        (_, Some(map)) if map.len() == 1 => match map.iter().next() {
            Some((name, value)) if value.is_null() => name,
            _ => return None,
        },
        _ => return None,
    };
    all.iter().copied().find(|x| {
        serde_json::to_value(x)
            .ok()
            .as_ref()
            .and_then(Value::as_str)
            == Some(name)
    })
}

/// `got` is `None` where the received object has no such key, which compares as `null`.
fn diff<V: JsonView>(path: &str, got: Option<&V>, want: &Value, depth: usize, out: &mut Vec<Drop>) {
    let equal = match got {
        Some(g) => g.same_as_value(want),
        None => want.is_null(),
    };
    if equal {
        return;
    }
    let (Some(g), Value::Object(w), 1..) = (got.and_then(JsonView::as_object), want, depth) else {
        out.push(Drop::new(
            if path.is_empty() { "event" } else { path },
            DropReason::NotClean,
        ));
        return;
    };
    // `&str`, not `&String`: the same sort the text rules use, so the browser build carries
    // one copy of it.
    let mut keys: Vec<&str> = g
        .iter()
        .map(|(k, _)| k)
        .chain(w.keys().map(String::as_str))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        let p = if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        };
        diff(
            &p,
            g.get(k),
            w.get(k).unwrap_or(&Value::Null),
            depth - 1,
            out,
        );
    }
}

/// Does `value` serialize to exactly `want`, as `serde_json::to_value(value)? == *want` would
/// say, without building that `Value`? `verify_event` asks this of every accepted event, so
/// the copy it saves (every string and map of the event, then freed) is per event.
///
/// Only a `true` answer must be exact: `false` means "different, or a shape not handled here"
/// (tuples, byte strings, 128-bit integers, non-string map keys), and the caller then falls
/// back to building the `Value`. Each method mirrors what `serde_json`'s own value serializer
/// builds for that call.
#[cfg(not(target_arch = "wasm32"))]
fn serializes_to<T: Serialize + ?Sized, V: JsonView>(value: &T, want: &V) -> bool {
    value.serialize(Same(want)).is_ok()
}

#[cfg(not(target_arch = "wasm32"))]
mod same {
    use crate::json::{JsonObject, JsonView};
    use serde::ser::{self, Impossible, Serialize};
    use serde_json::Value;

    /// A serializer that builds nothing: it checks each call against the value expected (a
    /// `Value`, or the collector's borrowed tree).
    pub(super) struct Same<'a, V>(pub(super) &'a V);

    /// Different from what was expected, or not handled: no detail is needed.
    #[derive(Debug)]
    pub(super) struct Differs;

    impl core::fmt::Display for Differs {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("differs")
        }
    }

    impl core::error::Error for Differs {}

    impl ser::Error for Differs {
        fn custom<M: core::fmt::Display>(_: M) -> Self {
            Differs
        }
    }

    type Checked = Result<(), Differs>;

    fn check(equal: bool) -> Checked {
        if equal { Ok(()) } else { Err(Differs) }
    }

    /// `fn name(self, v: T) -> Checked` for each `name: T`: the same when `v` is what
    /// serde_json's `Value::from(v)` would be.
    macro_rules! same_as_value {
        ($($name:ident: $t:ty),* $(,)?) => {$(
            fn $name(self, v: $t) -> Checked {
                check(self.0.same_as(&Value::from(v)))
            }
        )*};
    }

    /// `fn name(self, _: T) -> Result<Self::Ok, Differs>` failing for each `name: T`.
    macro_rules! not_a_key {
        ($($name:ident: $t:ty),* $(,)?) => {$(
            fn $name(self, _: $t) -> Result<Self::Ok, Differs> {
                Err(Differs)
            }
        )*};
    }

    /// serde_json's marker for its `RawValue` struct, which its serializer treats specially.
    const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

    // `Value == 37_i64` and `Value == 37.0_f64` are serde_json's loose comparisons (an
    // integer 37 equals 37.0 there); comparing with the `Value` the serializer would build
    // is exact, and for numbers it allocates nothing.
    impl<'a, V: JsonView> ser::Serializer for Same<'a, V> {
        type Ok = ();
        type Error = Differs;
        type SerializeSeq = SameSeq<'a, V>;
        type SerializeTuple = Impossible<(), Differs>;
        type SerializeTupleStruct = Impossible<(), Differs>;
        type SerializeTupleVariant = Impossible<(), Differs>;
        type SerializeMap = SameMap<'a, V>;
        type SerializeStruct = SameMap<'a, V>;
        type SerializeStructVariant = Impossible<(), Differs>;

        fn serialize_bool(self, v: bool) -> Checked {
            check(self.0.as_bool() == Some(v))
        }
        // A number is the same as the `Value` serde_json would make of it.
        same_as_value! {
            serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
            serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
            serialize_f32: f32, serialize_f64: f64,
        }
        fn serialize_char(self, v: char) -> Checked {
            let mut buf = [0; 4];
            check(self.0.as_str() == Some(&*v.encode_utf8(&mut buf)))
        }
        fn serialize_str(self, v: &str) -> Checked {
            check(self.0.as_str() == Some(v))
        }
        fn serialize_bytes(self, _: &[u8]) -> Checked {
            Err(Differs)
        }
        fn serialize_none(self) -> Checked {
            check(self.0.is_null())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Checked {
            v.serialize(self)
        }
        fn serialize_unit(self) -> Checked {
            check(self.0.is_null())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Checked {
            check(self.0.is_null())
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Checked {
            check(self.0.as_str() == Some(variant))
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            v: &T,
        ) -> Checked {
            v.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            v: &T,
        ) -> Checked {
            match self.0.as_object() {
                Some(m) if m.len() == 1 => v.serialize(Same(m.get(variant).ok_or(Differs)?)),
                _ => Err(Differs),
            }
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<SameSeq<'a, V>, Differs> {
            Ok(SameSeq {
                items: self.0.as_array().ok_or(Differs)?,
                next: 0,
            })
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Differs> {
            Err(Differs)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Differs> {
            Err(Differs)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Differs> {
            Err(Differs)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<SameMap<'a, V>, Differs> {
            SameMap::of(self.0)
        }
        fn serialize_struct(self, name: &'static str, _: usize) -> Result<SameMap<'a, V>, Differs> {
            if name == RAW_VALUE_TOKEN {
                return Err(Differs);
            }
            SameMap::of(self.0)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Differs> {
            Err(Differs)
        }
    }

    pub(super) struct SameSeq<'a, V> {
        items: &'a [V],
        next: usize,
    }

    impl<V: JsonView> ser::SerializeSeq for SameSeq<'_, V> {
        type Ok = ();
        type Error = Differs;

        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Checked {
            let want = self.items.get(self.next).ok_or(Differs)?;
            self.next += 1;
            v.serialize(Same(want))
        }
        fn end(self) -> Checked {
            check(self.next == self.items.len())
        }
    }

    /// An object: every entry serialized must be in the expected one with an equal value, and
    /// as many entries serialized as it has. A key serialized twice (which serde_json would
    /// overwrite) counts twice, so it answers "differs": safe, and never the case for a
    /// struct or a `NameMap`.
    pub(super) struct SameMap<'a, V: JsonView + 'a> {
        want: &'a V::Object,
        /// The expected entries not yet matched in order. A map (a `NameMap`) serializes its
        /// keys in the order the received object (serde_json's `Map`, also sorted) holds them,
        /// so a map key is looked for here first: one comparison instead of a search. Struct
        /// fields come in declaration order and are searched.
        in_order: core::iter::Peekable<<V::Object as JsonObject>::Iter<'a>>,
        seen: usize,
        key: Option<&'a V>,
    }

    impl<'a, V: JsonView> SameMap<'a, V> {
        fn of(v: &'a V) -> Result<Self, Differs> {
            let want = v.as_object().ok_or(Differs)?;
            Ok(SameMap {
                want,
                in_order: want.iter().peekable(),
                seen: 0,
                key: None,
            })
        }

        fn entry<T: Serialize + ?Sized>(&mut self, key: &str, v: &T) -> Checked {
            self.seen += 1;
            v.serialize(Same(self.want.get(key).ok_or(Differs)?))
        }
    }

    impl<V: JsonView> ser::SerializeStruct for SameMap<'_, V> {
        type Ok = ();
        type Error = Differs;

        fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Checked {
            self.entry(key, v)
        }
        fn end(self) -> Checked {
            check(self.seen == self.want.len())
        }
    }

    impl<V: JsonView> ser::SerializeMap for SameMap<'_, V> {
        type Ok = ();
        type Error = Differs;

        fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Checked {
            // Only string keys (serde_json also turns numbers and bools into keys).
            let key = key.serialize(KeyOf::<V>(self.want, &mut self.in_order))?;
            self.key = Some(key);
            self.seen += 1;
            Ok(())
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Checked {
            v.serialize(Same(self.key.take().ok_or(Differs)?))
        }
        fn end(self) -> Checked {
            check(self.seen == self.want.len())
        }
    }

    /// Looks a map key up in the expected object: the value expected under it, taken from the
    /// entries in order when the next one has that key (the same value a search finds: a key
    /// is in a `Map` once).
    struct KeyOf<'a, 'm, V: JsonView + 'a>(
        &'a V::Object,
        &'m mut core::iter::Peekable<<V::Object as JsonObject>::Iter<'a>>,
    );

    impl<'a, V: JsonView> ser::Serializer for KeyOf<'a, '_, V> {
        type Ok = &'a V;
        type Error = Differs;
        type SerializeSeq = Impossible<&'a V, Differs>;
        type SerializeTuple = Impossible<&'a V, Differs>;
        type SerializeTupleStruct = Impossible<&'a V, Differs>;
        type SerializeTupleVariant = Impossible<&'a V, Differs>;
        type SerializeMap = Impossible<&'a V, Differs>;
        type SerializeStruct = Impossible<&'a V, Differs>;
        type SerializeStructVariant = Impossible<&'a V, Differs>;

        fn serialize_str(self, v: &str) -> Result<&'a V, Differs> {
            match self.1.next_if(|(k, _)| *k == v) {
                Some((_, value)) => Ok(value),
                None => self.0.get(v).ok_or(Differs),
            }
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            v: &T,
        ) -> Result<&'a V, Differs> {
            v.serialize(self)
        }
        // Map keys are strings: anything else is not a key of the received object.
        not_a_key! {
            serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
            serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
            serialize_bytes: &[u8],
        }
        fn serialize_none(self) -> Result<&'a V, Differs> {
            Err(Differs)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<&'a V, Differs> {
            Err(Differs)
        }
        fn serialize_unit(self) -> Result<&'a V, Differs> {
            Err(Differs)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<&'a V, Differs> {
            Err(Differs)
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
        ) -> Result<&'a V, Differs> {
            Err(Differs)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<&'a V, Differs> {
            Err(Differs)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Differs> {
            Err(Differs)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Differs> {
            Err(Differs)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Differs> {
            Err(Differs)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Differs> {
            Err(Differs)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Differs> {
            Err(Differs)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, Differs> {
            Err(Differs)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, Differs> {
            Err(Differs)
        }
    }
}

/// The benchmark's event (bench/event.json) as the SDK sends it: every kind of property and
/// every context field the bench schema keeps. Shared by the tests of the serializers.
#[cfg(test)]
fn bench_raw_json() -> Value {
    let e: Value =
        serde_json::from_str(include_str!("../../bench/event.json")).expect("bench event");
    serde_json::json!({
        "event": e["name"], "timestamp": "2026-11-22T17:03:11.123Z",
        "props": e["props"], "user_id": e["user_id"], "groups": {"org": e["org"]},
        "context": {
            "url": format!("https://shop.example.com{}", e["url"].as_str().expect("url")),
            "referrer": "https://www.google.com/search?q=x",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
            "language": "en-US", "screen": {"width": 1440}
        }
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod same_tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The bench event under the bench schema: every kind of property and every context
    /// field the schema keeps.
    fn bench_event() -> CleanEvent {
        let schema =
            Schema::from_json(include_str!("../../bench/schema.json")).expect("bench schema");
        let (raw, _) = RawEvent::from_value(&bench_raw_json()).expect("an event");
        let key = ClientKey::from_bytes([1; 32]);
        clean_event(
            &raw,
            &schema,
            &key,
            EventId::from_bytes([2; 16]),
            CleanOptions::default(),
        )
        .event
        .expect("kept")
    }

    #[test]
    fn serializes_to_agrees_with_to_value_on_a_clean_event() {
        let event = bench_event();
        let v = serde_json::to_value(&event).expect("serializes");
        assert!(serializes_to(&event, &v));
        // Every single change anywhere in the value is seen.
        let mut changes: Vec<Value> = Vec::new();
        for (k, _) in v.as_object().expect("object") {
            let mut c = v.clone();
            c.as_object_mut().expect("object").remove(k);
            changes.push(c);
        }
        for path in [
            "/props/seats",
            "/props/amount",
            "/props/note",
            "/context/ua/browser",
        ] {
            let mut c = v.clone();
            *c.pointer_mut(path).expect(path) = json!(1.5);
            changes.push(c);
        }
        let mut extra = v.clone();
        extra["props"]["extra"] = json!(true);
        changes.push(extra);
        // 37 and 37.0 are different JSON numbers to serde_json; so they are here.
        let mut float = v.clone();
        float["props"]["seats"] =
            json!(f64::from(v["props"]["seats"].as_i64().expect("int") as i32));
        changes.push(float);
        for c in changes {
            assert_ne!(c, v);
            assert!(!serializes_to(&event, &c), "{c}");
        }
    }

    /// Any JSON value, nested.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            (0i64..3).prop_map(|n| Value::from(n as f64)),
            (0i64..3).prop_map(Value::from),
            "[a-c]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-c]{0,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The comparison says "the same" exactly when building the value would have.
        #[test]
        fn serializes_to_is_to_value_then_eq(x in any_json(), other in any_json(), same in any::<bool>()) {
            let want = if same { x.clone() } else { other };
            let built = serde_json::to_value(&x).expect("serializes");
            prop_assert_eq!(serializes_to(&x, &want), built == want);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn family_lists_hold_every_variant() {
        // A new variant breaks the build here until it is added to its list.
        let listed = |b: Browser| match b {
            Browser::Chrome
            | Browser::Edge
            | Browser::Firefox
            | Browser::Safari
            | Browser::Opera
            | Browser::SamsungInternet
            | Browser::Brave
            | Browser::Vivaldi
            | Browser::Yandex
            | Browser::UcBrowser
            | Browser::InternetExplorer
            | Browser::Chromium
            | Browser::Other => BROWSERS.contains(&b),
        };
        assert!(BROWSERS.into_iter().all(listed));
        let listed = |o: Os| match o {
            Os::Windows
            | Os::MacOs
            | Os::Ios
            | Os::Android
            | Os::Linux
            | Os::ChromeOs
            | Os::Other => OSES.contains(&o),
        };
        assert!(OSES.into_iter().all(listed));
        let listed = |d: Device| match d {
            Device::Desktop | Device::Mobile | Device::Tablet | Device::Bot | Device::Other => {
                DEVICES.contains(&d)
            }
        };
        assert!(DEVICES.into_iter().all(listed));
    }

    #[test]
    fn reduced_ua_is_read_as_serde_would() {
        let mut cases = vec![
            json!({"browser": "Chrome", "os": "Windows", "device": "desktop"}),
            json!({"browser": "Samsung Internet", "browser_major": 24, "os": "Android", "device": "mobile"}),
            json!({"browser": "UC Browser", "browser_major": null, "os": "iOS", "device": "tablet"}),
            json!({"browser": "Internet Explorer", "browser_major": 11, "os": "macOS", "device": "bot"}),
            json!({"browser": "Other", "os": "ChromeOS", "device": "other"}),
            json!({"browser": {"Chrome": null}, "os": "Linux", "device": "desktop"}),
            json!({"browser": {"Chrome": 1}, "os": "Linux", "device": "desktop"}),
            json!({"browser": {"Chrome": null, "Edge": null}, "os": "Linux", "device": "desktop"}),
            json!({"browser": "SamsungInternet", "os": "Android", "device": "mobile"}),
            json!({"browser": "chrome", "os": "Windows", "device": "desktop"}),
            json!({"browser": "Chrome", "os": "Windows", "device": "Desktop"}),
            json!({"browser": "Chrome", "os": "Windows"}),
            json!({"os": "Windows", "device": "desktop"}),
            json!({"browser": "Chrome", "os": "Windows", "device": "desktop", "x": 1}),
            json!({"browser": "Chrome", "browser_major": 65_535, "os": "Windows", "device": "desktop"}),
            json!({"browser": "Chrome", "browser_major": 65_536, "os": "Windows", "device": "desktop"}),
            json!({"browser": "Chrome", "browser_major": -1, "os": "Windows", "device": "desktop"}),
            json!({"browser": "Chrome", "browser_major": 1.0, "os": "Windows", "device": "desktop"}),
            json!({"browser": "Chrome", "browser_major": "124", "os": "Windows", "device": "desktop"}),
            json!({"browser": null, "os": "Windows", "device": "desktop"}),
            json!(["Edge", 124, "Windows", "desktop"]),
            json!(["Edge", null, "Windows", "desktop"]),
            json!(["Edge", "Windows", "desktop"]),
            json!(["Edge", 124, "Windows", "desktop", 1]),
            json!([]),
            json!(null),
            json!("Chrome"),
            json!(1),
        ];
        for b in BROWSERS {
            cases.push(
                json!({"browser": b, "browser_major": 1, "os": "Windows", "device": "desktop"}),
            );
        }
        for o in OSES {
            cases.push(json!({"browser": "Chrome", "os": o, "device": "desktop"}));
        }
        for d in DEVICES {
            cases.push(json!({"browser": "Chrome", "os": "Windows", "device": d}));
        }
        for case in cases {
            let want = serde_json::from_value::<ReducedUa>(case.clone()).ok();
            assert_eq!(reduced_ua(&case), want, "{case}");
        }
    }
}

#[cfg(test)]
mod cache_tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Context texts that differ in every way the reading and the cleaning look at: a page
    /// URL and its query, the referrer (cross-site, same-site, broken), the title, the user
    /// agent and its hints, the language, the screen, a location; fields of the wrong type or
    /// unknown (dropped as they are read); `null`, and text that is not JSON.
    fn contexts() -> Vec<String> {
        let contexts = [
            json!({"url": "https://app.example.com/orgs/8812/settings?utm_source=x&token=abc#x",
                "referrer": "https://www.google.com/search?q=alice",
                "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                "language": "en-US", "screen": {"width": 1440, "height": 900}}),
            json!({"url": "https://app.example.com/orgs/8813/settings",
                "referrer": "https://app.example.com/home", "title": "Alice's settings",
                "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "ua_hints": {"brands": [{"brand": "Chromium", "version": "124"}], "mobile": true, "platform": "Android"},
                "language": "fr", "screen": {"width": 390},
                "location": {"country": "US", "region": "CA", "city": "San Francisco", "lat": 37.77, "lon": -122.42}}),
            json!({"url": "not a url", "referrer": "::", "language": "??", "screen": {"width": 0}}),
            json!({"url": 5, "screen": "wide", "colour": "blue", "ua_hints": 3}),
            json!(null),
        ];
        let mut texts: Vec<String> = contexts.iter().map(Value::to_string).collect();
        texts.push("{nope".to_owned());
        texts
    }

    /// Events without a context: kept, undeclared, and one with a field the format lacks.
    fn events() -> Vec<String> {
        vec![
            json!({"event": "signup", "timestamp": "2026-11-22T17:03:11.123Z",
                "props": {"plan": "team", "method": "email"}, "user_id": "u_8812"})
            .to_string(),
            json!({"event": "secret_thing", "timestamp": "2026-11-22T17:03:11Z"}).to_string(),
            json!({"event": "page_view", "timestamp": "2026-11-22T17:03:11Z", "bogus": 1})
                .to_string(),
        ]
    }

    proptest! {
        #[test]
        fn a_cached_context_cleans_as_the_whole_raw_event(
            calls in proptest::collection::vec((0usize..3, 0usize..6, any::<bool>(), any::<bool>()), 1..16),
        ) {
            let schema = Schema::from_json(include_str!("../schema/example.json")).expect("schema");
            let key = ClientKey::from_bytes([5; 32]);
            let (events, contexts) = (events(), contexts());
            let mut cache = ContextCache::default();
            for (i, (e, c, anonymous, skip_redactions)) in calls.into_iter().enumerate() {
                let mut options = if anonymous { CleanOptions::anonymous() } else { CleanOptions::default() };
                options.skip_redactions = skip_redactions;
                let id = EventId::from_bytes([i as u8; 16]);
                let (event, context) = (&events[e], &contexts[c]);
                // The whole raw event: the context spliced in as text, so text that is not
                // JSON stays so.
                let whole = format!("{{\"context\":{context},{}", &event[1..]);
                let want = clean_json(&whole, &schema, &key, id, options);
                let got = clean_json_in_context(event, context, &schema, &key, id, options, &mut cache);
                prop_assert_eq!(got, want);
            }
        }
    }
}

//! The tracking plan: the one file, owned by the site, that decides what may be collected.
//!
//! It declares the site, its retention and key epoch, every event with every property (type,
//! privacy treatment and purpose), the identifiers and traits the app may hand in, and the
//! context captured with every event. What it does not declare is never sent and never stored.
//!
//! [`Schema::from_json`] validates a schema and reports every problem at once, each naming the
//! path and the reason (`events.signup.props.plan: an enum needs at least one value`).
//! The [`Fingerprint`] is the BLAKE3 hash of a canonical form, so reformatting or reordering
//! keys does not change it; it travels with every batch and ties each stored row to the exact
//! plan that shaped it.
//!
//! This module does not read files: callers hand in the text.

mod fingerprint;
mod load;

use crate::map::NameMap;
use crate::prelude::*;
pub use crate::transform::url::Route;

pub use fingerprint::Fingerprint;
pub(crate) use load::valid_name;
pub use load::{SchemaError, SchemaErrors};

/// The query parameters kept in URLs when a schema does not say otherwise: campaign tags,
/// which describe a link, not a person.
pub const DEFAULT_QUERY_ALLOWLIST: [&str; 5] = [
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

/// A validated tracking plan. Built only by [`Schema::from_json`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Schema {
    /// The site this plan belongs to, e.g. `app.example.com`.
    pub site: String,
    /// A human version label, e.g. `2026.11.1`; the fingerprint is what identifies a version.
    pub version: String,
    /// How long stored events are kept, in days.
    pub retention_days: u32,
    /// How long one client key and pepper live, which bounds how long pseudonyms link.
    pub key_epoch: KeyEpoch,
    /// What context is captured with every event, and how precisely.
    pub context: ContextPolicy,
    /// Query parameters that may survive in URLs.
    pub query_allowlist: Vec<String>,
    /// The site's page routes (`/people/:person`), in the order they are tried: a page URL
    /// whose path matches one is sent as that route. Empty when the schema declares none.
    pub routes: Vec<Route>,
    /// The identifiers and traits the app may hand in.
    pub identity: Identity,
    /// Every event the site may send, by name.
    pub events: NameMap<EventDef>,
    fingerprint: Fingerprint,
}

impl Schema {
    /// The BLAKE3 fingerprint of this schema's canonical form.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
}

/// How long one key epoch lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyEpoch {
    /// One UTC day (the default): pseudonyms link within a day only.
    #[default]
    Day,
    /// One ISO week, Monday to Sunday, UTC.
    Week,
    /// One calendar month, UTC.
    Month,
}

/// The context captured with every event, each with its precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ContextPolicy {
    /// The page URL.
    pub url: UrlPrecision,
    /// The referrer.
    pub referrer: ReferrerPrecision,
    /// The user agent.
    pub user_agent: UaPrecision,
    /// The visitor's location.
    pub location: LocationPrecision,
    /// The screen size.
    pub screen: ScreenPrecision,
    /// The browser language.
    pub language: LanguagePrecision,
    /// The event time.
    pub time: TimePrecision,
}

impl Default for ContextPolicy {
    fn default() -> Self {
        Self {
            url: UrlPrecision::Path,
            referrer: ReferrerPrecision::Origin,
            user_agent: UaPrecision::Reduced,
            location: LocationPrecision::Country,
            screen: ScreenPrecision::Class,
            language: LanguagePrecision::Language,
            time: TimePrecision::Hour,
        }
    }
}

/// Page URL precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlPrecision {
    /// Not captured.
    None,
    /// Scheme, host and port only.
    Origin,
    /// Origin + path with ID-like segments replaced, and allowlisted query parameters; a path
    /// that matches a declared route is sent as that route.
    Path,
    /// Origin + the declared route the path matches, and allowlisted query parameters; a page
    /// that matches no route is sent as its origin alone.
    Route,
}

/// Referrer precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerPrecision {
    /// Not captured.
    None,
    /// The referring origin only; same-site referrers dropped.
    Origin,
}

/// User-agent precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UaPrecision {
    /// Not captured.
    None,
    /// Browser family and major version, OS family, device class.
    Reduced,
}

/// Location precision. Never city, postcode or exact coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationPrecision {
    /// Not captured.
    None,
    /// ISO 3166-1 country code.
    Country,
    /// Country, plus the first-level region in countries whose regions are large.
    Region,
    /// Country, plus coordinates snapped to a coarse equal-area grid cell.
    Grid,
}

/// Screen precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreenPrecision {
    /// Not captured.
    None,
    /// A size class (`mobile`, `tablet`, `laptop`, `desktop`), never exact pixels.
    Class,
}

/// Language precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguagePrecision {
    /// Not captured.
    None,
    /// The primary language only (`en`).
    Language,
    /// Language and region (`en-US`).
    Locale,
}

/// To what the event time is truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimePrecision {
    /// The minute.
    Minute,
    /// The hour (the default).
    Hour,
    /// The UTC day.
    Day,
}

impl TimePrecision {
    /// The truncation step in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
        }
    }
}

/// The identifiers and traits the app may hand in through `identify` and `group`.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Identity {
    /// The user id, if the site declares it; always keyed-hashed. `None`: never sent.
    pub user_id: Option<Purpose>,
    /// Group kinds (`org`, `account`, ...) whose ids are keyed-hashed.
    pub groups: NameMap<Purpose>,
    /// Traits the site declares; every other trait (name, email, ...) is dropped.
    pub traits: NameMap<PropDef>,
}

/// Why a field is collected: one line, shown in the data inventory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Purpose(pub String);

/// One event the site may send.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventDef {
    /// What the event means.
    pub description: String,
    /// Its properties, by name.
    pub props: NameMap<PropDef>,
}

/// A declared property (or trait): its type and treatment, and why it is collected.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PropDef {
    /// Type and privacy treatment.
    pub kind: PropKind,
    /// Why it is collected.
    pub purpose: Purpose,
}

/// A property's type, which is also its privacy treatment.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PropKind {
    /// One of the listed values only.
    Enum {
        /// The allowed values.
        values: Vec<String>,
    },
    /// `true` or `false`.
    Bool,
    /// A whole number in a range, optionally snapped down to bucket bounds.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
        /// Ascending lower bounds; a value is snapped to the greatest bound not above it.
        buckets: Vec<i64>,
    },
    /// A finite number in a range, optionally snapped down to bucket bounds.
    Number {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
        /// Ascending lower bounds; a value is snapped to the greatest bound not above it.
        buckets: Vec<f64>,
    },
    /// Free text, capped and scrubbed of emails, phones, IPs, cards, IBANs and secrets.
    Text {
        /// Maximum length in characters.
        max_length: usize,
    },
    /// An identifier: keyed-hashed in the browser, re-keyed at the collector.
    Identifier,
    /// A URL, given the page-URL treatment.
    Url,
}

impl PropKind {
    /// The type's name in the schema file.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Enum { .. } => "enum",
            Self::Bool => "bool",
            Self::Integer { .. } => "integer",
            Self::Number { .. } => "number",
            Self::Text { .. } => "text",
            Self::Identifier => "identifier",
            Self::Url => "url",
        }
    }
}

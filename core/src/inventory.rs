//! The data inventory: what a site collects, how each field is transformed, why, and for how
//! long, generated from the schema so it cannot drift from what the code does.
//!
//! Every example "after" is computed by running the real transform on the example "before"
//! (identifiers under the fixed demonstration key, [`ClientKey::demonstration`]); nothing here
//! is a hand-written claim. The collector's `audit` command and its public
//! `/.well-known/sieve-manifest.json` print this, as JSON ([`Inventory`] serializes) or
//! Markdown ([`Inventory::to_markdown`]).

use serde::Serialize;
use serde_json::{Value, json};

use crate::drop::Drop;
use crate::prelude::*;
use crate::schema::{
    ContextPolicy, LanguagePrecision, LocationPrecision, PropDef, PropKind, ReferrerPrecision,
    Schema, ScreenPrecision, UaPrecision, UrlPrecision,
};
use crate::transform::identifier::{ClientKey, IdField, Pseudonym};
use crate::transform::language::clean_language;
use crate::transform::location::{RawLocation, clean_location};
use crate::transform::screen::ScreenClass;
use crate::transform::time::UnixTime;
use crate::transform::ua::reduce;
use crate::transform::url::{clean_page_url_routed, clean_referrer};
use crate::transform::value::{Identifiers, MAX_URL_LENGTH, clean_value};

/// What follows the path of the example page URLs.
macro_rules! example_url_tail {
    () => {
        "?token=abc123&utm_source=newsletter#billing"
    };
}
const EXAMPLE_URL: &str = concat!(
    "https://app.example.com/orgs/8812/settings",
    example_url_tail!()
);
const EXAMPLE_URL_TAIL: &str = example_url_tail!();
const EXAMPLE_REFERRER: &str = "https://www.google.com/search?q=alice+example";
const EXAMPLE_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36";
const EXAMPLE_TIME: &str = "2026-11-22T17:03:11.123Z";
const EXAMPLE_TEXT: &str = "Call me at +1 415 555 0100 or mail alice@example.com";

/// The data inventory of one schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// The site.
    pub site: String,
    /// The schema's version label.
    pub schema_version: String,
    /// The schema's fingerprint: every stored row names the fingerprint that shaped it.
    pub fingerprint: String,
    /// How long stored events are kept.
    pub retention_days: u32,
    /// How long pseudonyms stay linkable: one key epoch.
    pub key_epoch: String,
    /// Context captured with every event.
    pub context: Vec<Entry>,
    /// Identifiers and traits.
    pub identity: Vec<Entry>,
    /// Events and their properties.
    pub events: Vec<EventEntry>,
    /// What is never collected, whatever the schema says.
    pub never_collected: Vec<Never>,
}

/// One field: what it is, how it is transformed, why it is collected, and an example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Dotted field path as it appears in a clean event.
    pub field: String,
    /// Type name.
    pub kind: String,
    /// The treatment, in words.
    pub treatment: String,
    /// Why it is collected.
    pub purpose: String,
    /// An example value before and after the transform.
    pub example: Example,
}

/// An example before and after, the "after" computed by the real transform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// What the app or browser hands in.
    pub before: Value,
    /// What leaves the browser (`null`: nothing).
    pub after: Value,
}

/// One event and its properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventEntry {
    /// Event name.
    pub event: String,
    /// What it means.
    pub description: String,
    /// Its properties.
    pub props: Vec<Entry>,
}

/// Something Sieve never collects, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Never {
    /// The data.
    pub data: &'static str,
    /// What happens to it.
    pub handling: &'static str,
}

const NEVER: &[Never] = &[
    Never {
        data: "IP address",
        handling: "never sent by the SDK; the collector uses it in memory only (rate limit, optional country lookup, daily visitor id) and never stores or logs it",
    },
    Never {
        data: "names, emails, phone numbers, free-form traits",
        handling: "dropped in the browser unless the schema declares a trait as an identifier, which is then keyed-hashed",
    },
    Never {
        data: "raw user and organisation ids",
        handling: "keyed-hashed in the browser, re-keyed with a secret pepper at the collector",
    },
    Never {
        data: "city, postcode, exact coordinates",
        handling: "dropped in the browser; coordinates at most snapped to a coarse grid",
    },
    Never {
        data: "full user-agent string, OS version, device model",
        handling: "reduced in the browser to browser family and major version, OS family and device class",
    },
    Never {
        data: "URL query (except allowlisted campaign tags), fragment, user:password",
        handling: "dropped in the browser; ID-like path segments replaced by placeholders",
    },
    Never {
        data: "page title, referrer path and query",
        handling: "dropped in the browser; the referrer keeps its origin only",
    },
    Never {
        data: "cookies, localStorage, device identifiers",
        handling: "the SDK writes none by default and the collector reads none",
    },
];

impl Inventory {
    /// Build the inventory of a schema.
    pub fn of(schema: &Schema) -> Inventory {
        let key = ClientKey::demonstration();
        let mut identity = Vec::new();
        if let Some(purpose) = &schema.identity.user_id {
            identity.push(id_entry(
                "user",
                "user_id",
                &key,
                IdField::UserId,
                "u_8812",
                &purpose.0,
            ));
        }
        for (kind, purpose) in &schema.identity.groups {
            identity.push(id_entry(
                &format!("groups.{kind}"),
                &format!("group:{kind}"),
                &key,
                IdField::Group(kind),
                "org-abc",
                &purpose.0,
            ));
        }
        for (name, def) in &schema.identity.traits {
            identity.push(prop_entry(
                &format!("traits.{name}"),
                IdField::Trait(name),
                def,
                &key,
                schema,
            ));
        }
        let events = schema
            .events
            .iter()
            .map(|(name, def)| EventEntry {
                event: name.clone(),
                description: def.description.clone(),
                props: def
                    .props
                    .iter()
                    .map(|(p, d)| {
                        prop_entry(&format!("props.{p}"), IdField::Prop(p), d, &key, schema)
                    })
                    .collect(),
            })
            .collect();
        Inventory {
            site: schema.site.clone(),
            schema_version: schema.version.clone(),
            fingerprint: schema.fingerprint().to_string(),
            retention_days: schema.retention_days,
            key_epoch: serde_json::to_value(schema.key_epoch)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            context: context_entries(&schema.context, schema),
            identity,
            events,
            never_collected: NEVER.to_vec(),
        }
    }

    /// The inventory as a Markdown document.
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "# Data inventory: {}\n\nSchema version `{}`, fingerprint `{}`.\n\n\
             Events are kept for **{} days**. Pseudonyms link for one key epoch (**{}**); after the \
             epoch's keys are destroyed they link to no one.\n\n\
             Examples are computed by Sieve's own transforms; pseudonyms use a fixed demonstration \
             key, and the collector re-keys every pseudonym with its secret pepper before storing it.\n",
            self.site, self.schema_version, self.fingerprint, self.retention_days, self.key_epoch
        );
        md.push_str("\n## Context captured with every event\n\n");
        table(&mut md, &self.context);
        if !self.identity.is_empty() {
            md.push_str("\n## Identifiers and traits\n\n");
            table(&mut md, &self.identity);
        }
        md.push_str("\n## Events\n");
        for e in &self.events {
            md.push_str(&format!(
                "\n### `{}`\n\n{}\n\n",
                e.event,
                cell(&e.description)
            ));
            if e.props.is_empty() {
                md.push_str("No properties.\n");
            } else {
                table(&mut md, &e.props);
            }
        }
        md.push_str("\n## Never collected\n\n| data | handling |\n|---|---|\n");
        for n in &self.never_collected {
            md.push_str(&format!("| {} | {} |\n", n.data, n.handling));
        }
        md
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(md: &mut String, entries: &[Entry]) {
    md.push_str("| field | type | treatment | purpose | example before | example after |\n|---|---|---|---|---|---|\n");
    for e in entries {
        md.push_str(&format!(
            "| `{}` | {} | {} | {} | `{}` | `{}` |\n",
            e.field,
            e.kind,
            cell(&e.treatment),
            cell(&e.purpose),
            cell(&e.example.before.to_string()),
            cell(&e.example.after.to_string())
        ));
    }
}

fn id_entry(
    field: &str,
    domain: &str,
    key: &ClientKey,
    id: IdField<'_>,
    example: &str,
    purpose: &str,
) -> Entry {
    Entry {
        field: field.to_owned(),
        kind: "identifier".into(),
        treatment: format!(
            "keyed hash (BLAKE3, epoch client key, domain `{domain}`, 128 bits) in the browser; re-keyed with the secret epoch pepper before storage"
        ),
        purpose: purpose.to_owned(),
        example: Example {
            before: json!(example),
            after: json!(Pseudonym::of(key, id, example).as_str()),
        },
    }
}

fn prop_entry(
    field: &str,
    id: IdField<'_>,
    def: &PropDef,
    key: &ClientKey,
    schema: &Schema,
) -> Entry {
    let (treatment, before) = match &def.kind {
        PropKind::Enum { values } => (format!("one of: {}", values.join(", ")), json!(values.first())),
        PropKind::Bool => ("true or false".to_owned(), json!(true)),
        PropKind::Integer { min, max, buckets } => (range_text(min, max, buckets), json!(max)),
        PropKind::Number { min, max, buckets } => (range_text(min, max, buckets), json!(max)),
        PropKind::Text { max_length } => (
            format!("text capped at {max_length} characters; emails, phones, IPs, card numbers, IBANs, tokens, keys and raw user agents replaced by labels such as [email]; URLs cleaned"),
            json!(EXAMPLE_TEXT),
        ),
        PropKind::Identifier => (
            format!("keyed hash (BLAKE3, epoch client key, domain `{}`, 128 bits); re-keyed with the secret epoch pepper before storage", domain(id)),
            json!("acct_4242"),
        ),
        PropKind::Url => ("origin + path with ID-like segments replaced; query dropped except allowlisted parameters; fragment dropped".to_owned(), json!(EXAMPLE_URL)),
    };
    let after = clean_value(
        &def.kind,
        id,
        &before,
        Identifiers::Hash(key),
        &schema.query_allowlist,
    )
    .ok()
    .and_then(|(v, _)| serde_json::to_value(v).ok())
    .unwrap_or(Value::Null);
    Entry {
        field: field.to_owned(),
        kind: def.kind.name().to_owned(),
        treatment,
        purpose: def.purpose.0.clone(),
        example: Example { before, after },
    }
}

fn domain(id: IdField<'_>) -> String {
    match id {
        IdField::UserId => "user_id".into(),
        IdField::Group(n) => format!("group:{n}"),
        IdField::Trait(n) => format!("trait:{n}"),
        IdField::Prop(n) => format!("prop:{n}"),
    }
}

fn range_text<T: core::fmt::Display>(min: &T, max: &T, buckets: &[T]) -> String {
    if buckets.is_empty() {
        format!("number from {min} to {max}")
    } else {
        let b: Vec<String> = buckets.iter().map(ToString::to_string).collect();
        format!(
            "number from {min} to {max}, snapped down to the bucket bounds {}",
            b.join(", ")
        )
    }
}

fn context_entries(policy: &ContextPolicy, schema: &Schema) -> Vec<Entry> {
    let ContextPolicy {
        url,
        referrer,
        user_agent,
        location,
        screen,
        language,
        time,
    } = *policy;
    let mut out = Vec::new();
    let mut push =
        |field: &str, kind: &str, treatment: String, purpose: &str, before: Value, after: Value| {
            out.push(Entry {
                field: field.into(),
                kind: kind.into(),
                treatment,
                purpose: purpose.into(),
                example: Example { before, after },
            });
        };
    // With routes declared, the example page is one the first route with a parameter (or a
    // `*`) matches, with a name where its parameters are: what the route keeps from leaving
    // is then in plain sight.
    let example_route = schema
        .routes
        .iter()
        .find(|r| r.hides_anything())
        .or(schema.routes.first());
    let example_url = example_route.map_or_else(
        || EXAMPLE_URL.to_owned(),
        |r| {
            format!(
                "https://app.example.com{}{EXAMPLE_URL_TAIL}",
                r.example_path()
            )
        },
    );
    let clean_url = clean_page_url_routed(
        &example_url,
        &schema.query_allowlist,
        &schema.routes,
        url == UrlPrecision::Route,
        MAX_URL_LENGTH,
    )
    .ok();
    let routes: Vec<&str> = schema.routes.iter().map(|r| r.template()).collect();
    let routes = routes.join(", ");
    match url {
        UrlPrecision::None => {}
        UrlPrecision::Origin => push(
            "context.url",
            "url",
            "origin only (scheme, host, port)".into(),
            "which site and app the event came from",
            json!(EXAMPLE_URL),
            json!(clean_referrer(EXAMPLE_URL, None).ok().flatten()),
        ),
        UrlPrecision::Path => push(
            "context.url",
            "url",
            format!(
                "origin + path; {}ID-like path segments (numbers, UUIDs, hex, emails, tokens) become placeholders; query dropped except {}; fragment and user:password dropped",
                if routes.is_empty() {
                    String::new()
                } else {
                    format!(
                        "a path that matches a declared route ({routes}) is sent as that route, without what its parameters hold; in other paths "
                    )
                },
                schema.query_allowlist.join(", ")
            ),
            "which pages are used",
            json!(example_url),
            json!(clean_url.as_ref().map(|u| u.as_str())),
        ),
        UrlPrecision::Route => push(
            "context.url",
            "url",
            format!(
                "origin + the declared route the path matches ({routes}), without what its parameters hold; a page that matches no route is sent as its origin only; query dropped except {}; fragment and user:password dropped",
                schema.query_allowlist.join(", ")
            ),
            "which pages are used",
            json!(example_url),
            json!(clean_url.as_ref().map(|u| u.as_str())),
        ),
    }
    if referrer == ReferrerPrecision::Origin {
        push(
            "context.referrer",
            "url",
            "origin only; same-site referrers dropped".into(),
            "which sites send visitors",
            json!(EXAMPLE_REFERRER),
            json!(
                clean_referrer(EXAMPLE_REFERRER, clean_url.as_ref().map(|u| u.host()))
                    .ok()
                    .flatten()
            ),
        );
    }
    if user_agent == UaPrecision::Reduced {
        push(
            "context.ua",
            "user agent",
            "browser family + major version, OS family, device class (desktop, mobile, tablet, bot, other); the raw string is dropped".into(),
            "which browsers and devices to support",
            json!(EXAMPLE_UA),
            json!(reduce(Some(EXAMPLE_UA), None)),
        );
    }
    if location != LocationPrecision::None {
        let raw = RawLocation {
            country: Some("US".into()),
            region: Some("CA".into()),
            city: Some("San Francisco".into()),
            postcode: None,
            lat: Some(37.77),
            lon: Some(-122.41),
        };
        let after = clean_location(&raw, location, &mut Vec::<Drop>::new(), &mut Vec::new());
        let treatment = match location {
            LocationPrecision::Region => {
                "country, plus the first-level region only in countries whose regions are large; never city, postcode or coordinates"
            }
            LocationPrecision::Grid => {
                "country, plus coordinates snapped to a cell of 2 degrees of latitude (wider in longitude towards the poles), kept only where at least 500,000 people live in the cell (GeoNames places), never beyond 60 degrees; elsewhere the country alone; never city or postcode"
            }
            _ => "country only; never region, city, postcode or coordinates",
        };
        push(
            "context.location",
            "location",
            treatment.into(),
            "which countries the site serves",
            json!({"country": "US", "region": "CA", "city": "San Francisco", "lat": 37.77, "lon": -122.41}),
            json!(after),
        );
    }
    if screen == ScreenPrecision::Class {
        push(
            "context.screen",
            "screen",
            "size class by width (mobile < 576 px, tablet < 992, laptop < 1440, desktop); exact pixels dropped".into(),
            "which layouts to design for",
            json!({"width": 1440, "height": 900}),
            json!(ScreenClass::of_width(1440)),
        );
    }
    if language != LanguagePrecision::None {
        push(
            "context.language",
            "language",
            match language {
                LanguagePrecision::Locale => {
                    "language and region (en-US); script and variants dropped".into()
                }
                _ => "primary language only (en)".into(),
            },
            "which translations to offer",
            json!("en-US"),
            json!(clean_language("en-US", language)),
        );
    }
    let t = UnixTime::parse_rfc3339(EXAMPLE_TIME).map(|t| t.truncate(time).to_rfc3339());
    push(
        "time",
        "time",
        format!(
            "truncated to the {} (UTC), corrected for a wrong client clock",
            serde_json::to_value(time)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        "when things happen",
        json!(EXAMPLE_TIME),
        json!(t),
    );
    out
}

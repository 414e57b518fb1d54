//! Loading and validating a schema file, reporting every problem at once.
//!
//! The loader walks the JSON by hand rather than through `serde` derive because derive stops
//! at the first error and its messages quote the offending value; a site owner fixing a plan
//! wants every problem, each with its path, in one go.

use crate::map::NameMap;

use crate::json::{BorrowedJson, JsonObject, JsonView, Node};

use super::{
    ContextPolicy, DEFAULT_QUERY_ALLOWLIST, EventDef, Fingerprint, Identity, KeyEpoch,
    LanguagePrecision, LocationPrecision, PropDef, PropKind, Purpose, ReferrerPrecision, Route,
    Schema, ScreenPrecision, TimePrecision, UaPrecision, UrlPrecision,
};
use crate::prelude::*;

/// Longest text property a schema may declare, in characters: long enough for a feedback
/// note, short enough that a pasted document cannot ride along.
pub const MAX_TEXT_LENGTH: usize = 2_000;
/// Longest retention a schema may declare: ten years.
pub const MAX_RETENTION_DAYS: u64 = 3_650;
/// Longest name of an event, property, trait or group kind.
pub const MAX_NAME_LENGTH: usize = 64;
/// Most routes a schema may declare: each page URL is tried against them in turn.
pub const MAX_ROUTES: usize = 200;

/// One problem in a schema: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// Dotted path, e.g. `events.signup.props.plan`; empty for the document itself.
    pub path: String,
    /// What is wrong, lowercase.
    pub reason: String,
}

impl core::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.path.is_empty() {
            write!(f, "schema: {}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// Every problem found in a schema, in a stable order (keys sorted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct SchemaErrors(pub Vec<SchemaError>);

impl Schema {
    /// Parse and validate a schema, returning every problem at once.
    pub fn from_json(text: &str) -> Result<Schema, SchemaErrors> {
        // Read in place (as the `Value` of the same text would read).
        let value = BorrowedJson::parse(text).map_err(|e| {
            // serde_json's syntax errors carry no input text, only the position.
            SchemaErrors(vec![SchemaError {
                path: String::new(),
                reason: format!("invalid json at line {} column {}", e.line(), e.column()),
            }])
        })?;
        Self::from_value(&value)
    }

    /// Validate an already parsed schema document (a `serde_json::Value`, or any
    /// [`JsonView`]).
    pub fn from_value<V: JsonView>(value: &V) -> Result<Schema, SchemaErrors> {
        let mut r = Reader::default();
        let schema = r.schema(value);
        match schema {
            Some(s) if r.errors.is_empty() => Ok(s),
            _ => Err(SchemaErrors(r.errors)),
        }
    }
}

#[derive(Default)]
struct Reader {
    errors: Vec<SchemaError>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Names become column labels and code identifiers: snake_case ASCII keeps them unambiguous in
/// every store and in the pseudonym domain strings, which use `:` and `\0` as separators.
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= MAX_NAME_LENGTH
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

impl Reader {
    fn err(&mut self, path: &str, reason: impl Into<String>) {
        self.errors.push(SchemaError {
            path: path.to_owned(),
            reason: reason.into(),
        });
    }

    fn object<'a, V: JsonView>(
        &mut self,
        path: &str,
        v: &'a V,
        allowed: &[&str],
    ) -> Option<&'a V::Object> {
        let Some(map) = v.as_object() else {
            self.err(path, "expected an object");
            return None;
        };
        for (key, _) in map.iter() {
            if !allowed.contains(&key) {
                self.err(
                    &join(path, key),
                    format!("unknown key (expected one of: {})", allowed.join(", ")),
                );
            }
        }
        Some(map)
    }

    fn string<O: JsonObject>(
        &mut self,
        path: &str,
        map: &O,
        key: &str,
        required: bool,
    ) -> Option<String> {
        let p = join(path, key);
        match map.get(key).map(JsonView::node) {
            None if required => {
                self.err(&p, "missing");
                None
            }
            None => None,
            Some(Node::String(s)) if s.trim().is_empty() => {
                self.err(&p, "must not be empty");
                None
            }
            Some(Node::String(s)) => Some(s.to_owned()),
            Some(_) => {
                self.err(&p, "expected a string");
                None
            }
        }
    }

    fn choice<O: JsonObject, T: Copy>(
        &mut self,
        path: &str,
        map: &O,
        key: &str,
        options: &[(&str, T)],
        default: T,
    ) -> T {
        let p = join(path, key);
        match map.get(key).map(JsonView::node) {
            None => default,
            Some(Node::String(s)) => match options.iter().find(|(name, _)| *name == s) {
                Some((_, v)) => *v,
                None => {
                    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                    self.err(&p, format!("expected one of: {}", names.join(", ")));
                    default
                }
            },
            Some(_) => {
                self.err(&p, "expected a string");
                default
            }
        }
    }

    fn name_map<'a, V: JsonView>(&mut self, path: &str, v: &'a V) -> Vec<(String, &'a V)> {
        let Some(map) = v.as_object() else {
            self.err(path, "expected an object");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, value) in map.iter() {
            if valid_name(name) {
                out.push((name.to_owned(), value));
            } else {
                self.err(
                    &join(path, name),
                    format!("a name must be snake_case ascii (a-z, 0-9, _), start with a letter and have at most {MAX_NAME_LENGTH} characters"),
                );
            }
        }
        out
    }

    fn schema<V: JsonView>(&mut self, v: &V) -> Option<Schema> {
        let map = self.object(
            "",
            v,
            &[
                "$schema",
                "site",
                "version",
                "retention_days",
                "key_epoch",
                "context",
                "query_allowlist",
                "routes",
                "identity",
                "events",
            ],
        )?;
        let site = self.string("", map, "site", true);
        let version = self.string("", map, "version", true);
        let retention_days = match map.get("retention_days") {
            None => {
                self.err("retention_days", "missing");
                None
            }
            Some(v) => match v.as_u64() {
                Some(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => u32::try_from(d).ok(),
                _ => {
                    self.err(
                        "retention_days",
                        format!("expected a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
                    );
                    None
                }
            },
        };
        let key_epoch = self.choice(
            "",
            map,
            "key_epoch",
            &[
                ("day", KeyEpoch::Day),
                ("week", KeyEpoch::Week),
                ("month", KeyEpoch::Month),
            ],
            KeyEpoch::Day,
        );
        let context = map
            .get("context")
            .map_or_else(ContextPolicy::default, |c| self.context(c));
        let query_allowlist = map.get("query_allowlist").map_or_else(
            || {
                DEFAULT_QUERY_ALLOWLIST
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            },
            |q| self.query_allowlist(q),
        );
        let routes = map.get("routes").map_or_else(Vec::new, |r| self.routes(r));
        if context.url == UrlPrecision::Route && routes.is_empty() {
            self.err(
                "context.url",
                "\"route\" sends only declared routes: declare at least one in routes",
            );
        }
        let identity = map
            .get("identity")
            .map(|i| self.identity(i))
            .unwrap_or_default();
        let events = match map.get("events") {
            None => {
                self.err("events", "missing");
                NameMap::new()
            }
            Some(e) => self.events(e),
        };
        let fingerprint = Fingerprint::of_value(v);
        Some(Schema {
            site: site?,
            version: version?,
            retention_days: retention_days?,
            key_epoch,
            context,
            query_allowlist,
            routes,
            identity,
            events,
            fingerprint,
        })
    }

    fn context<V: JsonView>(&mut self, v: &V) -> ContextPolicy {
        let d = ContextPolicy::default();
        let Some(map) = self.object(
            "context",
            v,
            &[
                "url",
                "referrer",
                "user_agent",
                "location",
                "screen",
                "language",
                "time",
            ],
        ) else {
            return d;
        };
        let p = "context";
        ContextPolicy {
            url: self.choice(
                p,
                map,
                "url",
                &[
                    ("none", UrlPrecision::None),
                    ("origin", UrlPrecision::Origin),
                    ("path", UrlPrecision::Path),
                    ("route", UrlPrecision::Route),
                ],
                d.url,
            ),
            referrer: self.choice(
                p,
                map,
                "referrer",
                &[
                    ("none", ReferrerPrecision::None),
                    ("origin", ReferrerPrecision::Origin),
                ],
                d.referrer,
            ),
            user_agent: self.choice(
                p,
                map,
                "user_agent",
                &[
                    ("none", UaPrecision::None),
                    ("reduced", UaPrecision::Reduced),
                ],
                d.user_agent,
            ),
            location: self.choice(
                p,
                map,
                "location",
                &[
                    ("none", LocationPrecision::None),
                    ("country", LocationPrecision::Country),
                    ("region", LocationPrecision::Region),
                    ("grid", LocationPrecision::Grid),
                ],
                d.location,
            ),
            screen: self.choice(
                p,
                map,
                "screen",
                &[
                    ("none", ScreenPrecision::None),
                    ("class", ScreenPrecision::Class),
                ],
                d.screen,
            ),
            language: self.choice(
                p,
                map,
                "language",
                &[
                    ("none", LanguagePrecision::None),
                    ("language", LanguagePrecision::Language),
                    ("locale", LanguagePrecision::Locale),
                ],
                d.language,
            ),
            time: self.choice(
                p,
                map,
                "time",
                &[
                    ("minute", TimePrecision::Minute),
                    ("hour", TimePrecision::Hour),
                    ("day", TimePrecision::Day),
                ],
                d.time,
            ),
        }
    }

    fn query_allowlist<V: JsonView>(&mut self, v: &V) -> Vec<String> {
        let Some(items) = v.as_array() else {
            self.err("query_allowlist", "expected an array of parameter names");
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("query_allowlist.{i}");
            match item.as_str() {
                Some(s)
                    if !s.is_empty()
                        && s.len() <= MAX_NAME_LENGTH
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
                {
                    if out.iter().any(|o| o == s) {
                        self.err(&p, "duplicate parameter");
                    } else {
                        out.push(s.to_owned());
                    }
                }
                _ => self.err(
                    &p,
                    "expected a parameter name (ascii letters, digits, _ and -)",
                ),
            }
        }
        out
    }

    fn routes<V: JsonView>(&mut self, v: &V) -> Vec<Route> {
        let Some(items) = v.as_array() else {
            self.err(
                "routes",
                "expected an array of routes such as \"/people/:person\"",
            );
            return Vec::new();
        };
        if items.len() > MAX_ROUTES {
            self.err("routes", format!("at most {MAX_ROUTES} routes"));
            return Vec::new();
        }
        let mut out: Vec<Route> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("routes.{i}");
            match item.as_str().map(Route::parse) {
                None => self.err(&p, "expected a string such as \"/people/:person\""),
                Some(Err(why)) => self.err(&p, why),
                Some(Ok(r)) if out.iter().any(|o| o.template() == r.template()) => {
                    self.err(&p, "duplicate route");
                }
                Some(Ok(r)) => out.push(r),
            }
        }
        out
    }

    fn purpose<O: JsonObject>(&mut self, path: &str, map: &O) -> Option<Purpose> {
        let p = self.string(path, map, "purpose", true)?;
        if p.contains('\n') {
            self.err(&join(path, "purpose"), "must be one line");
            return None;
        }
        Some(Purpose(p))
    }

    fn identity<V: JsonView>(&mut self, v: &V) -> Identity {
        let mut identity = Identity::default();
        let Some(map) = self.object("identity", v, &["user_id", "groups", "traits"]) else {
            return identity;
        };
        if let Some(u) = map.get("user_id")
            && let Some(m) = self.object("identity.user_id", u, &["purpose"])
        {
            identity.user_id = self.purpose("identity.user_id", m);
        }
        if let Some(g) = map.get("groups") {
            for (kind, def) in self.name_map("identity.groups", g) {
                let p = format!("identity.groups.{kind}");
                if let Some(m) = self.object(&p, def, &["purpose"])
                    && let Some(purpose) = self.purpose(&p, m)
                {
                    identity.groups.insert(kind, purpose);
                }
            }
        }
        if let Some(t) = map.get("traits") {
            for (name, def) in self.name_map("identity.traits", t) {
                if let Some(d) = self.prop(&format!("identity.traits.{name}"), def) {
                    identity.traits.insert(name, d);
                }
            }
        }
        identity
    }

    fn events<V: JsonView>(&mut self, v: &V) -> NameMap<EventDef> {
        let mut events = NameMap::new();
        let names = self.name_map("events", v);
        if names.is_empty() && v.as_object().is_some() {
            self.err("events", "declare at least one event");
        }
        for (name, def) in names {
            let p = format!("events.{name}");
            let Some(map) = self.object(&p, def, &["description", "props"]) else {
                continue;
            };
            let description = self.string(&p, map, "description", true);
            let mut props = NameMap::new();
            if let Some(pv) = map.get("props") {
                for (prop, pdef) in self.name_map(&format!("{p}.props"), pv) {
                    if let Some(d) = self.prop(&format!("{p}.props.{prop}"), pdef) {
                        props.insert(prop, d);
                    }
                }
            }
            if let Some(description) = description {
                events.insert(name, EventDef { description, props });
            }
        }
        events
    }

    fn prop<V: JsonView>(&mut self, path: &str, v: &V) -> Option<PropDef> {
        let Some(ty) = v.get("type").and_then(JsonView::as_str) else {
            if v.as_object().is_some() {
                self.err(
                    &join(path, "type"),
                    "missing (one of: enum, bool, integer, number, text, identifier, url)",
                );
            } else {
                self.err(path, "expected an object");
            }
            return None;
        };
        let extra: &[&str] = match ty {
            "enum" => &["values"],
            "integer" | "number" => &["min", "max", "buckets"],
            "text" => &["max_length"],
            "bool" | "identifier" | "url" => &[],
            _ => {
                self.err(
                    &join(path, "type"),
                    "expected one of: enum, bool, integer, number, text, identifier, url",
                );
                return None;
            }
        };
        let mut allowed = vec!["type", "purpose"];
        allowed.extend_from_slice(extra);
        let map = self.object(path, v, &allowed)?;
        let purpose = self.purpose(path, map);
        let kind = match ty {
            "enum" => self.enum_values(path, map),
            "integer" => self.integer(path, map),
            "number" => self.number(path, map),
            "text" => match map.get("max_length").and_then(JsonView::as_u64) {
                Some(n) if (1..=MAX_TEXT_LENGTH as u64).contains(&n) => Some(PropKind::Text {
                    max_length: n as usize,
                }),
                _ => {
                    self.err(
                        &join(path, "max_length"),
                        format!("a text needs a max_length from 1 to {MAX_TEXT_LENGTH}"),
                    );
                    None
                }
            },
            "bool" => Some(PropKind::Bool),
            "identifier" => Some(PropKind::Identifier),
            _ => Some(PropKind::Url),
        };
        Some(PropDef {
            kind: kind?,
            purpose: purpose?,
        })
    }

    fn enum_values<O: JsonObject>(&mut self, path: &str, map: &O) -> Option<PropKind> {
        let p = join(path, "values");
        let Some(items) = map.get("values").and_then(JsonView::as_array) else {
            self.err(path, "an enum needs a values array");
            return None;
        };
        if items.is_empty() {
            self.err(path, "an enum needs at least one value");
            return None;
        }
        let mut values: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if !s.is_empty() && s.chars().count() <= MAX_NAME_LENGTH => {
                    if values.iter().any(|v| v == s) {
                        self.err(&format!("{p}.{i}"), "duplicate value");
                        ok = false;
                    } else {
                        values.push(s.to_owned());
                    }
                }
                _ => {
                    self.err(&format!("{p}.{i}"), format!("an enum value is a non-empty string of at most {MAX_NAME_LENGTH} characters"));
                    ok = false;
                }
            }
        }
        ok.then_some(PropKind::Enum { values })
    }

    fn integer<O: JsonObject>(&mut self, path: &str, map: &O) -> Option<PropKind> {
        let min = map.get("min").and_then(JsonView::as_i64);
        let max = map.get("max").and_then(JsonView::as_i64);
        if min.is_none() {
            self.err(&join(path, "min"), "an integer needs a whole-number min");
        }
        if max.is_none() {
            self.err(&join(path, "max"), "an integer needs a whole-number max");
        }
        let (min, max) = (min?, max?);
        if min > max {
            self.err(path, "min is greater than max");
            return None;
        }
        let buckets = match map.get("buckets") {
            None => Vec::new(),
            Some(b) => {
                let bounds: Option<Vec<i64>> = b
                    .as_array()
                    .and_then(|a| a.iter().map(JsonView::as_i64).collect());
                let Some(bounds) = bounds else {
                    self.err(&join(path, "buckets"), "expected an array of whole numbers");
                    return None;
                };
                if !self.check_buckets(
                    path,
                    &bounds.iter().map(|b| *b as f64).collect::<Vec<_>>(),
                    min as f64,
                    max as f64,
                ) {
                    return None;
                }
                bounds
            }
        };
        Some(PropKind::Integer { min, max, buckets })
    }

    fn number<O: JsonObject>(&mut self, path: &str, map: &O) -> Option<PropKind> {
        let min = map.get("min").and_then(JsonView::as_f64);
        let max = map.get("max").and_then(JsonView::as_f64);
        if min.is_none() {
            self.err(&join(path, "min"), "a number needs a min");
        }
        if max.is_none() {
            self.err(&join(path, "max"), "a number needs a max");
        }
        let (min, max) = (min?, max?);
        if min > max {
            self.err(path, "min is greater than max");
            return None;
        }
        let buckets = match map.get("buckets") {
            None => Vec::new(),
            Some(b) => {
                let bounds: Option<Vec<f64>> = b
                    .as_array()
                    .and_then(|a| a.iter().map(JsonView::as_f64).collect());
                let Some(bounds) = bounds else {
                    self.err(&join(path, "buckets"), "expected an array of numbers");
                    return None;
                };
                if !self.check_buckets(path, &bounds, min, max) {
                    return None;
                }
                bounds
            }
        };
        Some(PropKind::Number { min, max, buckets })
    }

    fn check_buckets(&mut self, path: &str, bounds: &[f64], min: f64, max: f64) -> bool {
        let p = join(path, "buckets");
        if bounds.is_empty() {
            self.err(
                &p,
                "declare at least one bucket bound, or leave buckets out",
            );
            return false;
        }
        if !bounds.windows(2).all(|w| w[0] < w[1]) {
            self.err(&p, "bounds must be strictly ascending");
            return false;
        }
        if bounds[0] > min {
            self.err(
                &p,
                "the first bound must not be above min, so that every value has a bucket",
            );
            return false;
        }
        if bounds.iter().any(|b| *b > max) {
            self.err(&p, "a bound above max can never be used");
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match Schema::from_json(text) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn minimal_schema_gets_documented_defaults() {
        let s = Schema::from_json(r#"{"site":"a.example","version":"1","retention_days":30,"events":{"view":{"description":"a view"}}}"#)
            .expect("valid");
        assert_eq!(s.key_epoch, KeyEpoch::Day);
        assert_eq!(s.context, ContextPolicy::default());
        assert_eq!(
            s.query_allowlist,
            DEFAULT_QUERY_ALLOWLIST.map(String::from).to_vec()
        );
        assert_eq!(s.identity.user_id, None);
    }

    #[test]
    fn empty_enum_names_its_path() {
        let e = errors(
            r#"{"site":"a","version":"1","retention_days":30,"events":{"signup":{"description":"d","props":{"plan":{"type":"enum","values":[],"purpose":"p"}}}}}"#,
        );
        assert_eq!(
            e,
            vec!["events.signup.props.plan: an enum needs at least one value"]
        );
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let e = errors(
            r#"{"site":"","retention_days":0,"key_epoch":"year","context":{"location":"city","gps":"on"},
                "events":{"Bad Name":{"description":"d"},
                          "search":{"props":{"q":{"type":"text","purpose":"p"},
                                             "n":{"type":"integer","min":5,"max":1,"purpose":"p"},
                                             "k":{"type":"bool"}}}}}"#,
        );
        let expected = [
            "site: must not be empty",
            "version: missing",
            "retention_days: expected a whole number of days from 1 to 3650",
            "key_epoch: expected one of: day, week, month",
            "context.gps: unknown key",
            "context.location: expected one of: none, country, region, grid",
            "events.Bad Name: a name must be snake_case",
            "events.search.description: missing",
            "events.search.props.k.purpose: missing",
            "events.search.props.n: min is greater than max",
            "events.search.props.q.max_length: a text needs a max_length",
        ];
        for want in expected {
            assert!(
                e.iter().any(|got| got.starts_with(want)),
                "missing {want:?} in {e:#?}"
            );
        }
        assert_eq!(e.len(), expected.len(), "{e:#?}");
    }

    #[test]
    fn routes_are_read_in_order_and_each_bad_one_is_named() {
        let s = Schema::from_json(
            r#"{"site":"a","version":"1","retention_days":30,"context":{"url":"route"},
                "routes":["/people/:person","/docs/*","/"],"events":{"view":{"description":"d"}}}"#,
        )
        .expect("valid");
        assert_eq!(s.context.url, UrlPrecision::Route);
        let templates: Vec<&str> = s.routes.iter().map(Route::template).collect();
        assert_eq!(templates, ["/people/:person", "/docs/*", "/"]);
        let minimal = Schema::from_json(
            r#"{"site":"a","version":"1","retention_days":30,"events":{"view":{"description":"d"}}}"#,
        )
        .expect("valid");
        assert!(minimal.routes.is_empty());

        let e = errors(
            r#"{"site":"a","version":"1","retention_days":30,"context":{"url":"route"},
                "routes":["/people/:person","people","/people/:person","/u/jane@example.com",7],
                "events":{"view":{"description":"d"}}}"#,
        );
        assert_eq!(
            e,
            vec![
                "routes.1: a route starts with /",
                "routes.2: duplicate route",
                "routes.3: a literal segment must not look like an id, a token or an email (it would be replaced)",
                "routes.4: expected a string such as \"/people/:person\"",
            ]
        );
        // The loader never echoes a route: it may hold the very name it was meant to hide.
        assert!(e.iter().all(|m| !m.contains("jane")));
        let e = errors(
            r#"{"site":"a","version":"1","retention_days":30,"context":{"url":"route"},"events":{"view":{"description":"d"}}}"#,
        );
        assert_eq!(
            e,
            vec![
                "context.url: \"route\" sends only declared routes: declare at least one in routes"
            ]
        );
        let e = errors(
            r#"{"site":"a","version":"1","retention_days":30,"routes":"/people/:person","events":{"view":{"description":"d"}}}"#,
        );
        assert_eq!(
            e,
            vec!["routes: expected an array of routes such as \"/people/:person\""]
        );
    }

    #[test]
    fn syntax_error_gives_position_not_content() {
        let e = errors("{\"site\": \"alice@example.com\" ");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("schema: invalid json at line 1"), "{e:?}");
        assert!(!e[0].contains("alice"));
    }

    #[test]
    fn buckets_must_cover_the_range() {
        let e = errors(
            r#"{"site":"a","version":"1","retention_days":30,"events":{"buy":{"description":"d","props":{
            "n":{"type":"integer","min":0,"max":100,"buckets":[10,50],"purpose":"p"},
            "m":{"type":"number","min":0,"max":1,"buckets":[0,0.5,0.2],"purpose":"p"},
            "o":{"type":"integer","min":0,"max":10,"buckets":[0,20],"purpose":"p"}}}}}"#,
        );
        assert_eq!(
            e,
            vec![
                "events.buy.props.m.buckets: bounds must be strictly ascending",
                "events.buy.props.n.buckets: the first bound must not be above min, so that every value has a bucket",
                "events.buy.props.o.buckets: a bound above max can never be used",
            ]
        );
    }

    #[test]
    fn names_are_snake_case_ascii() {
        for ok in ["a", "signup", "plan_v2", "x1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "1a",
            "Signup",
            "sign-up",
            "a.b",
            "é",
            "a b",
            &"a".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}

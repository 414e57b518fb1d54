//! The contracts of `sieve-core`, end to end through the public API: the example schema, the
//! motivating incident field by field, the collector's fixed-point check, and property tests
//! that planted personal data never survives into a clean event.

use proptest::prelude::*;
use serde_json::{Value, json};
use sieve_core::event::CleanOptions;
use sieve_core::inventory::Inventory;
use sieve_core::json::BorrowedJson;
use sieve_core::transform::identifier::IdField;
use sieve_core::{
    ClientKey, EventId, Outcome, Pseudonym, RawEvent, Schema, VerifiedContexts, clean_event,
    clean_json, verify_event, verify_event_in,
};

const EXAMPLE: &str = include_str!("../schema/example.json");

fn schema() -> Schema {
    Schema::from_json(EXAMPLE).expect("the shipped example schema is valid")
}

/// The example schema with `email` declared as an identifier trait.
fn schema_with_email_identifier() -> Schema {
    let mut v: Value = serde_json::from_str(EXAMPLE).expect("json");
    v["identity"]["traits"]["email"] =
        json!({"type": "identifier", "purpose": "join support tickets to usage"});
    Schema::from_value(&v).expect("valid")
}

fn key() -> ClientKey {
    ClientKey::from_bytes([42; 32])
}

fn id() -> EventId {
    EventId::from_bytes([7; 16])
}

fn clean(schema: &Schema, raw: &Value) -> Outcome {
    let (raw, mut drops) = RawEvent::from_value(raw).expect("an event");
    let mut out = clean_event(&raw, schema, &key(), id(), CleanOptions::default());
    drops.append(&mut out.drops);
    out.drops = drops;
    out
}

/// The events of `raws` that `schema` keeps, as the JSON their clean forms are sent as.
fn clean_wires(schema: &Schema, raws: &[Value]) -> Vec<Value> {
    raws.iter()
        .filter_map(|r| clean(schema, r).event)
        .map(|e| serde_json::to_value(&e).expect("json"))
        .collect()
}

fn sent(outcome: &Outcome) -> Value {
    serde_json::to_value(outcome.event.as_ref().expect("event kept")).expect("json")
}

/// The event of the motivating incident: everything a third-party SDK would have collected.
fn incident() -> Value {
    json!({
        "event": "signup", "timestamp": "2026-11-22T17:03:11.123Z",
        "props": {"plan": "team", "method": "email", "note": "free text"},
        "user_id": "u_8812", "groups": {"org": "org-abc"},
        "traits": {"name": "Alice Example", "email": "alice@example.com", "plan": "team"},
        "context": {
            "url": "https://app.example.com/orgs/8812/settings?token=abc&utm_source=newsletter#x",
            "referrer": "https://www.google.com/search?q=alice+example",
            "title": "Settings - Alice Example",
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "ua_hints": {"brands": [{"brand": "Chromium", "version": "124"}, {"brand": "Google Chrome", "version": "124"}, {"brand": "Not-A.Brand", "version": "99"}], "mobile": false, "platform": "macOS"},
            "language": "en-US", "screen": {"width": 1440, "height": 900},
            "location": {"country": "US", "region": "CA", "city": "San Francisco", "lat": 37.77, "lon": -122.41}
        }
    })
}

#[test]
fn example_schema_loads_with_a_stable_fingerprint() {
    let s = schema();
    assert_eq!(s.site, "app.example.com");
    let reformatted: Value = serde_json::from_str(EXAMPLE).expect("json");
    let compact = serde_json::to_string(&reformatted).expect("json");
    assert_eq!(
        Schema::from_json(&compact).expect("valid").fingerprint(),
        s.fingerprint()
    );
    assert_ne!(
        schema_with_email_identifier().fingerprint(),
        s.fingerprint()
    );
}

#[test]
fn incident_event_snapshot() {
    let out = clean(&schema(), &incident());
    insta::assert_json_snapshot!("incident_clean_event", sent(&out));
    let drops: Vec<String> = out.drops.iter().map(ToString::to_string).collect();
    insta::assert_json_snapshot!("incident_drops", drops);
}

#[test]
fn incident_name_is_dropped() {
    let out = clean(&schema(), &incident());
    assert!(out.drops.iter().any(|d| d.field == "traits.name"));
    assert!(
        sent(&out)
            .get("traits")
            .and_then(|t| t.get("name"))
            .is_none()
    );
    assert!(!sent(&out).to_string().to_lowercase().contains("alice"));
}

#[test]
fn incident_email_is_dropped_unless_declared_an_identifier() {
    let out = clean(&schema(), &incident());
    assert!(out.drops.iter().any(|d| d.field == "traits.email"));
    assert!(!sent(&out).to_string().contains("example.com\""));

    let out = clean(&schema_with_email_identifier(), &incident());
    let hashed = sent(&out)["traits"]["email"].as_str().map(str::to_owned);
    assert_eq!(
        hashed.as_deref(),
        Some(Pseudonym::of(&key(), IdField::Trait("email"), "alice@example.com").as_str())
    );
    assert!(!sent(&out).to_string().contains("alice"));
}

#[test]
fn incident_location_keeps_country_only() {
    assert_eq!(
        sent(&clean(&schema(), &incident()))["context"]["location"],
        json!({"country": "US"})
    );
}

#[test]
fn incident_os_and_browser_are_reduced_to_families() {
    let ua = &sent(&clean(&schema(), &incident()))["context"]["ua"];
    assert_eq!(
        ua,
        &json!({"browser": "Chrome", "browser_major": 124, "os": "macOS", "device": "desktop"})
    );
}

#[test]
fn incident_referrer_keeps_origin_only() {
    assert_eq!(
        sent(&clean(&schema(), &incident()))["context"]["referrer"],
        json!("https://www.google.com")
    );
}

#[test]
fn incident_org_and_user_ids_are_keyed_hashes() {
    let v = sent(&clean(&schema(), &incident()));
    assert_eq!(
        v["user"].as_str(),
        Some(Pseudonym::of(&key(), IdField::UserId, "u_8812").as_str())
    );
    assert_eq!(
        v["groups"]["org"].as_str(),
        Some(Pseudonym::of(&key(), IdField::Group("org"), "org-abc").as_str())
    );
    let text = v.to_string();
    assert!(
        !text.contains("8812") && !text.contains("org-abc"),
        "{text}"
    );
}

#[test]
fn incident_url_keeps_path_shape_and_campaign_only() {
    let v = sent(&clean(&schema(), &incident()));
    assert_eq!(
        v["context"]["url"],
        json!("https://app.example.com/orgs/:id/settings?utm_source=newsletter")
    );
}

#[test]
fn anonymous_visitors_send_no_identifier() {
    let (raw, _) = RawEvent::from_value(&incident()).expect("event");
    let out = clean_event(&raw, &schema(), &key(), id(), CleanOptions::anonymous());
    let v = sent(&out);
    assert!(v.get("user").is_none() && v.get("groups").is_none(), "{v}");
    assert!(
        out.drops
            .iter()
            .any(|d| d.field == "user_id" && d.reason.to_string().contains("opted out"))
    );
    assert_eq!(
        v["props"]["plan"],
        json!("team"),
        "anonymous events still count"
    );
}

#[test]
fn undeclared_event_is_dropped_whole() {
    let out = clean(
        &schema(),
        &json!({"event": "purchase_with_card", "timestamp": "2026-11-22T17:03:11Z", "props": {"card": "4111 1111 1111 1111"}}),
    );
    assert!(out.event.is_none());
    assert_eq!(
        out.drops[0].to_string(),
        "event: event not declared in the schema"
    );
}

#[test]
fn verify_accepts_exactly_what_the_browser_sends() {
    let s = schema();
    let out = clean(&s, &incident());
    let event = out.event.expect("kept");
    let wire = serde_json::to_value(&event).expect("json");
    assert_eq!(verify_event(&wire, &s), Ok(event));
}

#[test]
fn verify_names_every_unclean_field() {
    let s = schema();
    let wire = sent(&clean(&s, &incident()));
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"props": {"plan": "team", "note": "x"}}),
            "props.note: not declared in the schema",
        ),
        (
            json!({"props": {"plan": "pro"}}),
            "props.plan: not one of the declared values",
        ),
        (json!({"user": "u_8812"}), "user_id: not a pseudonym"),
        (
            json!({"time": "2026-11-22T17:03:11Z"}),
            "time: not clean: cleaning it again changes it",
        ),
        (
            json!({"context": {"url": "https://app.example.com/orgs/8812/settings"}}),
            "context.url: not clean: cleaning it again changes it",
        ),
        (
            json!({"context": {"referrer": "https://www.google.com/search?q=alice"}}),
            "context.referrer: not clean: cleaning it again changes it",
        ),
        (
            json!({"context": {"ua": {"browser": "Chrome", "browser_major": 124, "os": "macOS 14.4", "device": "desktop"}}}),
            "context.ua: not a valid reduced user agent",
        ),
        (
            json!({"context": {"location": {"country": "US", "city": "San Francisco"}}}),
            "context.location.city: not a valid clean location",
        ),
        (
            json!({"context": {"screen": {"width": 1440}}}),
            "context.screen: not a valid screen class",
        ),
        (
            json!({"traits": {"email": "alice@example.com"}}),
            "traits.email: not declared in the schema",
        ),
        (json!({"ip": "203.0.113.9"}), "ip: unknown field"),
    ];
    for (patch, want) in cases {
        let mut bad = wire.clone();
        merge(&mut bad, &patch);
        let rejection = verify_event(&bad, &s).expect_err(want);
        assert_eq!(rejection.id, Some(id()));
        let reasons: Vec<String> = rejection.reasons.iter().map(ToString::to_string).collect();
        assert!(
            reasons.iter().any(|r| r == want),
            "want {want:?}, got {reasons:?}"
        );
        assert!(
            !reasons.join(" ").contains("alice") && !reasons.join(" ").contains("8812"),
            "a reason echoes a value: {reasons:?}"
        );
    }
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[test]
fn inventory_examples_come_from_the_transforms() {
    let inv = Inventory::of(&schema());
    let url = inv
        .context
        .iter()
        .find(|e| e.field == "context.url")
        .expect("url entry");
    assert_eq!(
        url.example.after,
        json!("https://app.example.com/orgs/:id/settings?utm_source=newsletter")
    );
    let search = inv
        .events
        .iter()
        .find(|e| e.event == "search")
        .expect("search");
    let query = search
        .props
        .iter()
        .find(|p| p.field == "props.query")
        .expect("query");
    assert!(
        !query
            .example
            .after
            .to_string()
            .contains("alice@example.com")
    );
    assert!(
        query.example.after.to_string().contains("[email]"),
        "{}",
        query.example.after
    );
    insta::assert_snapshot!("inventory_markdown", inv.to_markdown());
}

/// The example schema with routes declared, and its page URL precision set to `url`.
fn schema_with_routes(url: &str) -> Schema {
    let mut v: Value = serde_json::from_str(EXAMPLE).expect("json");
    v["routes"] = json!([
        "/people/me",
        "/people/:person",
        "/orgs/:org/settings",
        "/docs/*"
    ]);
    v["context"]["url"] = json!(url);
    Schema::from_value(&v).expect("valid")
}

#[test]
fn a_declared_route_keeps_a_name_in_the_path_from_leaving() {
    for precision in ["path", "route"] {
        let s = schema_with_routes(precision);
        let mut raw = incident();
        raw["context"]["url"] =
            json!("https://app.example.com/people/jane-doe?utm_source=newsletter&ref=jane#bio");
        let out = clean(&s, &raw);
        let event = out.event.clone().expect("kept");
        let wire = serde_json::to_value(&event).expect("json");
        assert_eq!(
            wire["context"]["url"],
            json!("https://app.example.com/people/:person?utm_source=newsletter"),
            "{precision}"
        );
        assert!(!wire.to_string().contains("jane"), "{wire}");
        // What a developer sees in debug mode: the rule that changed the page URL.
        assert!(
            out.redactions
                .iter()
                .any(|r| r.field == "context.url" && r.rule == "url:route"),
            "{:?}",
            out.redactions
        );
        // The collector accepts what the browser sends, and refuses the page's own path.
        assert_eq!(verify_event(&wire, &s), Ok(event), "{precision}");
        let mut bad = wire.clone();
        bad["context"]["url"] = json!("https://app.example.com/people/jane-doe");
        let reasons: Vec<String> = verify_event(&bad, &s)
            .expect_err("a path a route matches is not clean")
            .reasons
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            reasons,
            ["context.url: not clean: cleaning it again changes it"]
        );
        // The incident's own page matches a route too: its org id never was sent, and now
        // neither is the placeholder's guess at what the segment held.
        let v = sent(&clean(&s, &incident()));
        assert_eq!(
            v["context"]["url"],
            json!("https://app.example.com/orgs/:org/settings?utm_source=newsletter")
        );
    }
    // A page that matches no route: its path as before under "path", the origin alone under
    // "route".
    let mut raw = incident();
    raw["context"]["url"] = json!("https://app.example.com/team/jane-doe/avatar.png?utm_source=x");
    for (precision, want) in [
        (
            "path",
            "https://app.example.com/team/jane-doe/avatar.png?utm_source=x",
        ),
        ("route", "https://app.example.com"),
    ] {
        let s = schema_with_routes(precision);
        let out = clean(&s, &raw);
        let rules: Vec<&str> = out
            .redactions
            .iter()
            .filter(|r| r.field == "context.url")
            .map(|r| r.rule.as_str())
            .collect();
        // Under "path" nothing changed this URL, so no rule is named.
        let want_rules: &[&str] = if precision == "route" {
            &["url:origin"]
        } else {
            &[]
        };
        assert_eq!(rules, want_rules, "{precision}");
        let v = sent(&out);
        assert_eq!(v["context"]["url"], json!(want), "{precision}");
        assert_eq!(verify_event(&v, &s).map(|_| ()), Ok(()), "{precision}");
    }
    // The auditor sees the routes, and an example page that one of them matches.
    let inv = Inventory::of(&schema_with_routes("route"));
    let url = inv
        .context
        .iter()
        .find(|e| e.field == "context.url")
        .expect("url entry");
    assert!(
        url.treatment
            .contains("/people/me, /people/:person, /orgs/:org/settings, /docs/*")
            && url
                .treatment
                .contains("a page that matches no route is sent as its origin only"),
        "{}",
        url.treatment
    );
    // The first route with a parameter, not the literal `/people/me` before it.
    assert_eq!(
        url.example.before,
        json!("https://app.example.com/people/jane-doe?token=abc123&utm_source=newsletter#billing")
    );
    assert_eq!(
        url.example.after,
        json!("https://app.example.com/people/:person?utm_source=newsletter")
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Personal data to plant: (kind, value).
fn planted() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        ("[a-z]{3,8}\\.[a-z]{3,8}@[a-z]{4,9}\\.(com|org|io|de)").prop_map(|s| ("email", s)),
        (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254).prop_map(|(a, b, c, d)| ("ipv4", format!("{a}.{b}.{c}.{d}"))),
        (any::<u16>(), any::<u16>(), any::<u16>(), 1u16..).prop_map(|(a, b, c, d)| ("ipv6", format!("2001:db8:{a:x}:{b:x}::{c:x}:{d:x}"))),
        ("(sk-proj-|sk_live_|ghp_|xoxb-|glpat-)[A-Za-z0-9]{24,36}").prop_map(|s| ("api key", s)),
        ("AKIA[A-Z0-9]{16}").prop_map(|s| ("aws key", s)),
        ("eyJ[A-Za-z0-9_-]{10,30}\\.eyJ[A-Za-z0-9_-]{10,40}\\.[A-Za-z0-9_-]{20,43}").prop_map(|s| ("jwt", s)),
        ("[A-Za-z0-9]{8}[0-9][A-Z][a-z][A-Za-z0-9]{21}").prop_map(|s| ("secret", s)),
        Just(("raw ua", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36".to_owned())),
    ]
}

/// Where to plant it in a raw event.
#[derive(Debug, Clone, Copy)]
enum Spot {
    AllowedQuery,
    OtherQuery,
    Fragment,
    PathSegment,
    Userinfo,
    Referrer,
    TextProp,
    UndeclaredProp,
    NestedProp,
    NameTrait,
    DeclaredTrait,
    UserId,
    GroupId,
    Title,
    City,
    UnknownField,
}

fn spot() -> impl Strategy<Value = Spot> {
    use Spot::*;
    prop_oneof![
        Just(AllowedQuery),
        Just(OtherQuery),
        Just(Fragment),
        Just(PathSegment),
        Just(Userinfo),
        Just(Referrer),
        Just(TextProp),
        Just(UndeclaredProp),
        Just(NestedProp),
        Just(NameTrait),
        Just(DeclaredTrait),
        Just(UserId),
        Just(GroupId),
        Just(Title),
        Just(City),
        Just(UnknownField),
    ]
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn plant(spot: Spot, value: &str) -> Value {
    let mut e = json!({
        "event": "search", "timestamp": "2026-11-22T17:03:11Z",
        "props": {"query": "pricing", "results": 3},
        "context": {"url": "https://app.example.com/search?utm_source=ads", "referrer": "https://news.example.org/",
                    "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"}
    });
    let enc = pct(value);
    match spot {
        Spot::AllowedQuery => {
            e["context"]["url"] = json!(format!("https://app.example.com/search?utm_source={enc}"))
        }
        Spot::OtherQuery => {
            e["context"]["url"] = json!(format!(
                "https://app.example.com/search?email={enc}&utm_medium=cpc"
            ))
        }
        Spot::Fragment => {
            e["context"]["url"] = json!(format!("https://app.example.com/search#{enc}"))
        }
        Spot::PathSegment => {
            e["context"]["url"] = json!(format!("https://app.example.com/users/{enc}/settings"))
        }
        Spot::Userinfo => e["context"]["url"] = json!(format!("https://{enc}:pw@app.example.com/")),
        Spot::Referrer => {
            e["context"]["referrer"] = json!(format!("https://www.google.com/search?q={enc}"))
        }
        Spot::TextProp => e["props"]["query"] = json!(format!("help with {value} please")),
        Spot::UndeclaredProp => e["props"]["debug"] = json!(value),
        Spot::NestedProp => e["props"]["query"] = json!({"text": value}),
        Spot::NameTrait => e["traits"] = json!({"name": value}),
        Spot::DeclaredTrait => e["traits"] = json!({"plan": value}),
        Spot::UserId => e["user_id"] = json!(value),
        Spot::GroupId => e["groups"] = json!({"org": value}),
        Spot::Title => e["context"]["title"] = json!(value),
        Spot::City => e["context"]["location"] = json!({"country": "DE", "city": value}),
        Spot::UnknownField => e["anonymous_id"] = json!(value),
    }
    e
}

/// Generated raw events over the example schema: declared and undeclared names, right and
/// wrong types, messy URLs, texts and user agents.
fn raw_event() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("search"),
        Just("signup"),
        Just("feature_used"),
        Just("feedback_submitted"),
        Just("checkout_started"),
        Just("document_opened")
    ];
    let text = prop_oneof![
        "[ -~]{0,60}",
        "(mail me at )?[a-z]{2,6}@[a-z]{3,6}\\.com( thanks)?",
        "card 4111 1111 1111 1111 exp 12/29",
        "call \\+44 20 7946 0958 now",
        ".{0,40}",
    ];
    let url = prop_oneof![
        "https://app\\.example\\.com(/[a-z0-9_-]{1,12}){0,4}(\\?[a-z_]{1,10}=[a-zA-Z0-9%]{0,12}(&utm_source=[a-z]{1,8})?)?(#[a-z]{0,6})?",
        "https?://[a-z]{1,8}\\.(com|org)(:[0-9]{2,4})?/[ -~]{0,30}",
        "[ -~]{0,30}",
    ];
    let value = prop_oneof![
        text.clone().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        (0.0f64..100_000.0).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(json!("team")),
        Just(json!("export_csv")),
        Just(json!(null)),
    ];
    let prop_name = prop_oneof![
        Just("query"),
        Just("results"),
        Just("plan"),
        Just("seats"),
        Just("feature"),
        Just("duration_s"),
        Just("comment"),
        Just("rating"),
        Just("document_id"),
        Just("return_url"),
        Just("invited"),
        Just("other")
    ];
    (
        names,
        proptest::collection::vec((prop_name, value), 0..6),
        url.clone(),
        proptest::option::of(url),
        proptest::option::of("[ -~]{0,120}"),
        proptest::option::of(prop_oneof![Just("en-US"), Just("zh-Hant-TW"), Just("x"), Just("de")]),
        proptest::option::of(0u64..5000),
        proptest::option::of((-90.0f64..90.0, -180.0f64..180.0)),
        proptest::option::of("[a-z0-9_]{1,12}"),
    )
        .prop_map(|(name, props, url, referrer, ua, lang, width, coords, user)| {
            let props: serde_json::Map<String, Value> = props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let mut ctx = json!({"url": url});
            if let Some(r) = referrer {
                ctx["referrer"] = json!(r);
            }
            if let Some(u) = ua {
                ctx["user_agent"] = json!(u);
            }
            if let Some(l) = lang {
                ctx["language"] = json!(l);
            }
            if let Some(w) = width {
                ctx["screen"] = json!({"width": w, "height": 800});
            }
            if let Some((lat, lon)) = coords {
                ctx["location"] = json!({"country": "FR", "region": "IDF", "lat": lat, "lon": lon});
            }
            let mut e = json!({"event": name, "timestamp": "2026-11-22T17:03:11.500+02:00", "props": props, "context": ctx});
            if let Some(u) = user {
                e["user_id"] = json!(u);
                e["groups"] = json!({"org": format!("org-{u}")});
            }
            e
        })
}

fn schema_variants() -> Vec<Schema> {
    let mut region: Value = serde_json::from_str(EXAMPLE).expect("json");
    region["context"]["location"] = json!("region");
    region["context"]["language"] = json!("locale");
    region["context"]["time"] = json!("minute");
    let mut grid = region.clone();
    grid["context"]["location"] = json!("grid");
    grid["context"]["url"] = json!("origin");
    vec![
        schema(),
        Schema::from_value(&region).expect("valid"),
        Schema::from_value(&grid).expect("valid"),
        schema_with_routes("route"),
        schema_with_routes("path"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Cleaning is idempotent: the collector's check accepts exactly what the browser sends.
    #[test]
    fn verify_accepts_every_clean_event(raw in raw_event(), variant in 0usize..5) {
        let s = &schema_variants()[variant];
        if let Some(event) = clean(s, &raw).event {
            let wire = serde_json::to_value(&event).expect("json");
            prop_assert_eq!(verify_event(&wire, s), Ok(event), "wire: {}", wire);
        }
    }

    /// Keeping the last verified context changes no verdict: events that share contexts (the
    /// case it is for), take another event's context, carry a bad context, or are bad
    /// elsewhere beside a known context, verify exactly as each does alone.
    #[test]
    fn a_kept_context_gives_each_event_its_own_verdict(
        raws in proptest::collection::vec(raw_event(), 2..4),
        picks in proptest::collection::vec((0usize..4, 0usize..6, 0usize..7), 1..12),
        variant in 0usize..5,
    ) {
        let s = &schema_variants()[variant];
        let wires = clean_wires(s, &raws);
        prop_assume!(!wires.is_empty());
        let bad_contexts = [
            json!({"url": "https://app.example.com/orgs/8812/settings"}),
            json!({"referrer": "https://www.google.com/search?q=alice"}),
            json!({"screen": {"width": 1440}}),
            json!("not an object"),
        ];
        let mut contexts = VerifiedContexts::default();
        for (event_from, context_from, damage) in picks {
            let mut e = wires[event_from % wires.len()].clone();
            if context_from < wires.len() {
                match wires[context_from].get("context") {
                    Some(c) => e["context"] = c.clone(),
                    None => {
                        e.as_object_mut().expect("an event is an object").remove("context");
                    }
                }
            }
            match damage {
                0..=3 => e["context"] = bad_contexts[damage].clone(),
                4 => e["props"] = json!({"undeclared": 1}),
                5 => e["time"] = json!("yesterday"),
                _ => {}
            }
            prop_assert_eq!(
                verify_event_in(&e, s, &mut contexts),
                verify_event(&e, s),
                "event: {}",
                e
            );
        }
    }

    /// The collector's borrowed parse verifies exactly as `verify_event` on serde_json's
    /// `Value` of the same text: the same clean event or the same reasons, in the same order.
    /// The texts are clean events and events damaged as a client could send them: keys in any
    /// order, a key given twice (the first value a decoy, or the last), strings with `\u`
    /// escapes, values of the wrong type, unknown fields, every kind of number. A batch's
    /// events go through one `VerifiedContexts`, as ingest runs them.
    #[test]
    fn a_borrowed_parse_verifies_as_the_value_of_the_same_text(
        raws in proptest::collection::vec(raw_event(), 1..4),
        seeds in proptest::collection::vec(any::<u64>(), 1..8),
        variant in 0usize..5,
    ) {
        let s = &schema_variants()[variant];
        let wires = clean_wires(s, &raws);
        prop_assume!(!wires.is_empty());
        let mut contexts = VerifiedContexts::default();
        for seed in seeds {
            let mut r = seed | 1;
            let mut e = wires[(xorshift(&mut r) % wires.len() as u64) as usize].clone();
            for _ in 0..xorshift(&mut r) % 3 {
                damage(&mut e, &mut r);
            }
            let mut text = String::new();
            write_as_a_client(&e, &mut r, &mut text);
            let value: Value = serde_json::from_str(&text).expect("valid json");
            let borrowed = BorrowedJson::parse(&text).expect("valid json");
            prop_assert_eq!(
                verify_event_in(&borrowed, s, &mut contexts),
                verify_event(&value, s),
                "text: {}",
                text
            );
        }
    }

    /// `clean_json`, which reads the SDK's text in place, gives exactly the outcome of
    /// `clean_event` on serde_json's `Value` of the same text: raw events damaged as an app
    /// could send them (wrong types, unknown fields, odd numbers), written with keys in any
    /// order, a key given twice and `\u` escapes.
    #[test]
    fn clean_json_reads_a_text_as_its_value(
        raw in raw_event(),
        seed in any::<u64>(),
        variant in 0usize..5,
    ) {
        let s = &schema_variants()[variant];
        let mut r = seed | 1;
        let mut e = raw;
        for _ in 0..xorshift(&mut r) % 3 {
            damage(&mut e, &mut r);
        }
        let mut text = String::new();
        write_as_a_client(&e, &mut r, &mut text);
        let value: Value = serde_json::from_str(&text).expect("valid json");
        let want = match RawEvent::from_value(&value) {
            Ok((raw, mut drops)) => {
                let mut out = clean_event(&raw, s, &key(), id(), CleanOptions::default());
                drops.append(&mut out.drops);
                out.drops = drops;
                out
            }
            Err(drop) => Outcome { event: None, drops: vec![drop], redactions: Vec::new() },
        };
        prop_assert_eq!(clean_json(&text, s, &key(), id(), CleanOptions::default()), want, "text: {}", text);
    }

    /// Planted personal data never survives, wherever it is planted, in any common encoding.
    #[test]
    fn planted_values_never_survive((kind, value) in planted(), spot in spot()) {
        let s = schema_with_email_identifier();
        let out = clean(&s, &plant(spot, &value));
        let text = serde_json::to_string(&out.event).expect("json");
        for form in [value.clone(), value.to_lowercase(), pct(&value), value.replace('@', "%40")] {
            prop_assert!(!text.contains(&form), "{} planted in {:?} survived: {}", kind, spot, text);
        }
        if kind == "raw ua" {
            prop_assert!(!text.contains("Mozilla") && !text.contains("AppleWebKit"), "{}", text);
        }
        // What was dropped is reported without the value.
        let reasons = serde_json::to_string(&out.drops).expect("json");
        prop_assert!(!reasons.contains(&value), "a drop reason echoes the value: {}", reasons);
    }
}

/// The next state of a xorshift generator: choices drawn from a proptest seed.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Values a client might put anywhere: every JSON type, and numbers of every kind serde_json
/// tells apart (negative, above `i64::MAX`, a float equal to an integer, not finite).
const DECOYS: [&str; 14] = [
    "null",
    "true",
    "0",
    "-7",
    "18446744073709551615",
    "1.0",
    "2.5e3",
    "-0.0",
    "\"x\"",
    "\"caf\\u00e9\"",
    "[]",
    "[\"Chrome\", 142, \"Linux\", \"Desktop\"]",
    "{}",
    "{\"Chrome\": null}",
];

fn decoy(r: &mut u64) -> Value {
    serde_json::from_str(DECOYS[(xorshift(r) % DECOYS.len() as u64) as usize]).expect("json")
}

/// One change somewhere in `e`: a value replaced (by a decoy, or a number by another kind of
/// the same number), or an unknown field added to an object.
fn damage(at: &mut Value, r: &mut u64) {
    // Down a random path, stopping at a random level.
    let len = match at {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if len > 0 && !xorshift(r).is_multiple_of(3) {
        let k = (xorshift(r) % len as u64) as usize;
        let next = match at {
            Value::Object(m) => m.values_mut().nth(k),
            Value::Array(a) => a.get_mut(k),
            _ => None,
        };
        if let Some(next) = next {
            return damage(next, r);
        }
    }
    let change = xorshift(r) % 3;
    if change == 0
        && let Value::Object(m) = at
    {
        let key = ["extra", "url", "ua", "plan", "a\"b", "é"][(xorshift(r) % 6) as usize];
        m.insert(key.to_owned(), decoy(r));
    } else if change == 1
        && let Some(f) = at.as_f64()
    {
        let kinds = [
            json!(f),
            json!(-f),
            json!(f + 0.5),
            json!(u64::MAX),
            json!(i64::MIN),
        ];
        *at = kinds[(xorshift(r) % 5) as usize].clone();
    } else {
        *at = decoy(r);
    }
}

/// JSON text of `v` as a client may write it: each object's keys in a random order, some keys
/// given twice (a decoy value before the real one, which is kept; or after it, which then
/// replaces it), and some characters of strings written as `\u` escapes.
fn write_as_a_client(v: &Value, r: &mut u64, out: &mut String) {
    match v {
        Value::String(s) => write_str(s, r, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_as_a_client(item, r, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, (xorshift(r) % (i as u64 + 1)) as usize);
            }
            out.push('{');
            let mut first = true;
            let mut entry = |k: &str, v: &Value, r: &mut u64, out: &mut String| {
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(k, r, out);
                out.push(':');
                write_as_a_client(v, r, out);
            };
            for (k, v) in entries {
                let twice = xorshift(r) % 16;
                if twice == 0 {
                    entry(k, &decoy(r), r, out);
                }
                entry(k, v, r, out);
                if twice == 1 {
                    entry(k, &decoy(r), r, out);
                }
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_str(s: &str, r: &mut u64, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let mut units = [0u16; 2];
        if xorshift(r).is_multiple_of(6) {
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// The editor's JSON Schema and the loader agree.

const META: &str = include_str!("../schema/sieve-schema.json");

fn minimal() -> Value {
    json!({"site": "a.example", "version": "1", "retention_days": 30, "events": {"view": {"description": "a view"}}})
}

#[test]
fn json_schema_context_values_are_exactly_what_the_loader_accepts() {
    let meta: Value = serde_json::from_str(META).expect("json");
    let context = meta["properties"]["context"]["properties"]
        .as_object()
        .expect("context properties");
    assert_eq!(context.len(), 7);
    for (key, spec) in context {
        for value in spec["enum"].as_array().expect("enum") {
            let mut doc = minimal();
            doc["context"] = json!({ key: value });
            if value == "route" {
                // The one value that needs another key: the routes it sends.
                doc["routes"] = json!(["/"]);
            }
            assert!(
                Schema::from_value(&doc).is_ok(),
                "loader rejects context.{key} = {value}, which the JSON Schema allows"
            );
        }
        let mut doc = minimal();
        doc["context"] = json!({ key: "bogus" });
        assert!(
            Schema::from_value(&doc).is_err(),
            "loader accepts context.{key} = bogus"
        );
    }
}

#[test]
fn json_schema_top_level_keys_are_the_loaders() {
    let meta: Value = serde_json::from_str(META).expect("json");
    let mut doc = minimal();
    doc["$schema"] = json!("./sieve-schema.json");
    doc["key_epoch"] = json!("week");
    doc["context"] = json!({});
    doc["query_allowlist"] = json!(["ref"]);
    doc["routes"] = json!(["/people/:person", "/docs/*", "/"]);
    doc["identity"] = json!({"user_id": {"purpose": "p"}, "groups": {}, "traits": {}});
    let keys: Vec<&String> = meta["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    let doc_keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
    assert_eq!(
        keys, doc_keys,
        "the JSON Schema and this test list different top-level keys"
    );
    Schema::from_value(&doc).expect("every top-level key the JSON Schema lists loads");
    let mut extra = minimal();
    extra["tracking"] = json!(true);
    assert!(Schema::from_value(&extra).is_err());
}

#[test]
fn json_schema_property_types_are_the_loaders() {
    let meta: Value = serde_json::from_str(META).expect("json");
    let mut types = Vec::new();
    for branch in meta["$defs"]["prop"]["oneOf"].as_array().expect("oneOf") {
        let t = &branch["properties"]["type"];
        match (t.get("const"), t.get("enum")) {
            (Some(c), _) => types.push(c.as_str().expect("str").to_owned()),
            (_, Some(e)) => types.extend(
                e.as_array()
                    .expect("enum")
                    .iter()
                    .map(|v| v.as_str().expect("str").to_owned()),
            ),
            _ => panic!("a prop branch without a type"),
        }
    }
    types.sort();
    assert_eq!(
        types,
        [
            "bool",
            "enum",
            "identifier",
            "integer",
            "number",
            "text",
            "url"
        ]
    );
    for t in &types {
        let mut prop = json!({"type": t, "purpose": "p"});
        match t.as_str() {
            "enum" => prop["values"] = json!(["a"]),
            "integer" | "number" => {
                prop["min"] = json!(0);
                prop["max"] = json!(9);
            }
            "text" => prop["max_length"] = json!(10),
            _ => {}
        }
        let mut doc = minimal();
        doc["events"]["view"]["props"] = json!({ "p": prop });
        assert!(
            Schema::from_value(&doc).is_ok(),
            "loader rejects a minimal {t} property"
        );
    }
}

#[test]
fn reasons_never_echo_client_chosen_key_names() {
    let raw = json!({"event": "search", "timestamp": "2026-11-22T17:03:11Z",
        "props": {"alice@example.com": 1, "query": "ok"}, "groups": {"sk_live_abcdefghijklmnop1234": "x"},
        "traits": {"Alice Example": "x"}, "context": {"4111111111111111": 1}, "u_8812@example.com": true});
    let out = clean(&schema(), &raw);
    let reasons = serde_json::to_string(&out.drops).expect("json");
    for planted in ["alice", "Alice", "sk_live", "4111", "8812"] {
        assert!(!reasons.contains(planted), "{planted} echoed in {reasons}");
    }
    assert!(out.drops.iter().any(|d| d.field == "props.(invalid name)"));
    assert!(out.drops.iter().any(|d| d.field == "(invalid name)"));
}

//! `verify`: scan the store for anything its schema does not allow, and for any value that
//! looks like personal data or a secret, whatever the schema says.
//!
//! Per stored row:
//! 1. The row's schema must be recorded in the store (and its body must parse and hash to its
//!    fingerprint); otherwise nobody can say what the row was allowed to hold.
//! 2. The row's columns must agree with its JSON (id, event, time, site) and the visitor
//!    column must have the shape of a pseudonym.
//! 3. The event JSON must pass [`sieve_core::verify_event`] under that schema. Stored rows are
//!    a fixed point of the pipeline (re-keyed pseudonyms keep their 32-hex shape, time is
//!    already truncated), so every rejection reason is a finding.
//! 4. Every other string in the row (and every object key) is scanned with the core
//!    detectors ([`first_finding`]) for emails, phones, IPs, card numbers, IBANs, tokens, API
//!    keys, secrets and raw user agents. Skipped: fields step 3 already checks as fixed points
//!    of a stricter transform (the event id and time, pseudonyms: `user`, `groups.*`, props and
//!    traits the schema declares `identifier`; URLs: `context.url`, `context.referrer`, props
//!    and traits declared `url`). Inside declared `text` values, URLs are masked before the
//!    scan: text may keep a cleaned URL, and step 3 already checks it is clean. For a row
//!    whose schema is unknown, which props and traits are identifiers or text cannot be known:
//!    values shaped exactly like a pseudonym are skipped, the others scanned as text.
//!
//! Output: one line per finding, `row <id>: <field>: <reason>`, and a summary. Never a value:
//! the point of a finding is that the value may be personal data, and the output of `verify`
//! ends up in tickets and CI logs. A field name or row id that itself looks like a value (an
//! undeclared prop named after an email) is printed redacted.
//!
//! What it does not do: repair or delete rows, or prove the absence of personal data that no
//! pattern can recognise (names, street addresses in declared text).

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value;
use sieve_core::schema::PropKind;
use sieve_core::transform::text::{Finding, first_finding};
use sieve_core::transform::time::UnixTime;
use sieve_core::{EventId, Pseudonym, Schema, verify_event};

use crate::store::{StoreRead, StoredEvent};

/// What `verify` found: the CLI exits non-zero when `findings > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct VerifyReport {
    /// Rows scanned.
    pub rows: u64,
    /// Findings, over rows and schema records.
    pub findings: u64,
}

/// A recorded schema version, parsed, or why it cannot be used.
enum Recorded {
    Usable(Box<Schema>),
    Unusable(&'static str),
}

/// Scan every stored row (and every recorded schema), printing one line per finding to `out`
/// and a summary at the end.
pub fn verify_store(store: &dyn StoreRead, out: &mut dyn Write) -> anyhow::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut schemas = HashMap::new();
    for record in store.schemas()? {
        let state = match Schema::from_json(&record.body) {
            Ok(s) if s.fingerprint().to_string() == record.fingerprint => {
                Recorded::Usable(Box::new(s))
            }
            Ok(_) => Recorded::Unusable("recorded schema body does not match its fingerprint"),
            Err(_) => Recorded::Unusable("recorded schema body does not parse"),
        };
        if let Recorded::Unusable(why) = &state {
            report.findings += 1;
            writeln!(
                out,
                "schema {}: {why}",
                safe_fingerprint(&record.fingerprint)
            )?;
        }
        schemas.insert(record.fingerprint, state);
    }

    // Output errors are kept and the scan stopped, so a closed pipe fails the run instead of
    // passing it silently.
    let mut failure: Option<std::io::Error> = None;
    let mut rows_with_findings = 0u64;
    let scanned = store.scan(i64::MIN, i64::MAX, &mut |row| {
        report.rows += 1;
        let findings = check_row(&row, &schemas);
        if !findings.is_empty() {
            rows_with_findings += 1;
        }
        let label = row_label(&row, report.rows);
        for (field, reason) in findings {
            report.findings += 1;
            if let Err(e) = writeln!(out, "row {label}: {}: {reason}", safe_field(&field)) {
                failure = Some(e);
                return Err(crate::store::StoreError::Stopped);
            }
        }
        Ok(())
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    scanned?;
    writeln!(
        out,
        "verified {} rows under {} recorded schema versions: {} findings in {} rows",
        report.rows,
        schemas.len(),
        report.findings,
        rows_with_findings
    )?;
    out.flush()?;
    Ok(report)
}

/// Every finding of one row, as (field path, reason). Reasons never hold values.
fn check_row(row: &StoredEvent, schemas: &HashMap<String, Recorded>) -> Vec<(String, String)> {
    let mut findings = Vec::new();
    let mut find = |field: &str, reason: String| findings.push((field.to_owned(), reason));

    if EventId::parse(&row.id).is_none() {
        find("id", "not a valid event id".to_owned());
    }
    if let Some(v) = &row.visitor
        && Pseudonym::parse(v).is_none()
    {
        find("visitor", "not a pseudonym".to_owned());
    }
    if let Some(f) = first_finding(&row.epoch) {
        find("epoch", looks_like(f));
    }
    let data: Value = match serde_json::from_str(&row.data) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            find("data", "not a JSON object".to_owned());
            return findings;
        }
    };
    if data.get("id").and_then(Value::as_str) != Some(row.id.as_str()) {
        find("id", "column and data disagree".to_owned());
    }
    if data.get("event").and_then(Value::as_str) != Some(row.event.as_str()) {
        find("event", "column and data disagree".to_owned());
    }
    if data.get("time").and_then(Value::as_str) != Some(UnixTime(row.time).to_rfc3339().as_str()) {
        find("time", "column and data disagree".to_owned());
    }

    let schema = match schemas.get(&row.schema) {
        Some(Recorded::Usable(schema)) => Some(schema.as_ref()),
        Some(Recorded::Unusable(why)) => {
            find("schema", (*why).to_owned());
            None
        }
        None => {
            find("schema", "fingerprint not recorded in the store".to_owned());
            None
        }
    };
    if let Some(schema) = schema {
        if row.site != schema.site {
            find("site", "not the site of the row's schema".to_owned());
        }
        if let Err(rejection) = verify_event(&data, schema) {
            for d in rejection.reasons {
                find(&d.field, d.reason.to_string());
            }
        }
    }
    scan_strings(&data, "", &row.event, schema, &mut find);
    findings
}

/// How a string in the row is treated by the pattern scan.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Treatment {
    /// Checked by `verify_event` as a fixed point of a stricter transform.
    Skip,
    /// Declared text: may hold cleaned URLs, masked before scanning.
    Text,
    /// Schema unknown, prop or trait: skipped if shaped like a pseudonym, else scanned like
    /// text (it may be declared text).
    MaybePseudonym,
    /// Everything else.
    Scan,
}

fn treatment(path: &str, event: &str, schema: Option<&Schema>) -> Treatment {
    match path {
        "id" | "time" | "user" | "context.url" | "context.referrer" => return Treatment::Skip,
        _ => {}
    }
    if path.starts_with("groups.") {
        return Treatment::Skip;
    }
    let declared = if let Some(name) = path.strip_prefix("props.") {
        Some(schema.map(|s| {
            s.events
                .get(event)
                .and_then(|e| e.props.get(name))
                .map(|d| &d.kind)
        }))
    } else {
        path.strip_prefix("traits.")
            .map(|name| schema.map(|s| s.identity.traits.get(name).map(|d| &d.kind)))
    };
    match declared {
        None => Treatment::Scan,
        Some(None) => Treatment::MaybePseudonym,
        Some(Some(Some(PropKind::Identifier | PropKind::Url))) => Treatment::Skip,
        Some(Some(Some(PropKind::Text { .. }))) => Treatment::Text,
        Some(Some(_)) => Treatment::Scan,
    }
}

fn scan_strings(
    v: &Value,
    path: &str,
    event: &str,
    schema: Option<&Schema>,
    find: &mut dyn FnMut(&str, String),
) {
    let child = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                let p = child(key);
                // A key is data too: an undeclared prop can be named after an email.
                if let Some(f) = first_finding(key) {
                    find(&p, format!("field name {}", looks_like(f)));
                }
                scan_strings(value, &p, event, schema, find);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan_strings(item, &child(&i.to_string()), event, schema, find);
            }
        }
        Value::String(s) => {
            let hit = match treatment(path, event, schema) {
                Treatment::Skip => None,
                Treatment::MaybePseudonym if Pseudonym::parse(s).is_some() => None,
                Treatment::Text | Treatment::MaybePseudonym => first_finding(&mask_urls(s)),
                Treatment::Scan => first_finding(s),
            };
            if let Some(f) = hit {
                find(path, looks_like(f));
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Replace every `http://` or `https://` run (up to the next whitespace) with a space: URLs in
/// text are the text scrubber's to clean, and `verify_event` checks that they are.
fn mask_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let lower = rest.to_ascii_lowercase();
        let start = [lower.find("http://"), lower.find("https://")]
            .into_iter()
            .flatten()
            .min();
        let Some(start) = start else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        out.push(' ');
        let tail = &rest[start..];
        let end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        rest = &tail[end..];
    }
}

fn looks_like(f: Finding) -> String {
    format!("value looks like {}", f.name().replace('_', " "))
}

/// The row's id if it is a well-formed event id, else its ordinal: a malformed id column might
/// hold anything.
fn row_label(row: &StoredEvent, ordinal: u64) -> String {
    if EventId::parse(&row.id).is_some() {
        row.id.clone()
    } else {
        format!("#{ordinal} (malformed id)")
    }
}

fn safe_fingerprint(fp: &str) -> &str {
    if sieve_core::Fingerprint::from_hex(fp).is_some() {
        fp
    } else {
        "(malformed fingerprint)"
    }
}

/// A field path for printing. Paths are `section.name` built from keys in the row, and a key
/// is data: it may hold dots (`props.bob.smith@example.com` arrives as one string), so the
/// path is printed only if every segment is a plain name that looks like no value and a
/// `props`/`traits`/`groups` path has exactly two segments. Otherwise everything after a
/// known top-level section is replaced.
fn safe_field(path: &str) -> String {
    /// Longest segment printed as is: schema names are short, a long one is data.
    const MAX_SEGMENT: usize = 64;
    /// Top-level fields of a stored row and its event JSON.
    const SECTIONS: [&str; 13] = [
        "id", "event", "time", "props", "user", "groups", "traits", "context", "data", "schema",
        "visitor", "epoch", "site",
    ];
    let plain = |seg: &str| {
        !seg.is_empty()
            && seg.len() <= MAX_SEGMENT
            && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && first_finding(seg).is_none()
    };
    let segments: Vec<&str> = path.split('.').collect();
    let first = segments.first().copied().unwrap_or_default();
    let named_section = matches!(first, "props" | "traits" | "groups");
    if segments.iter().all(|s| plain(s)) && (!named_section || segments.len() == 2) {
        return path.to_owned();
    }
    if SECTIONS.contains(&first) {
        format!("{first}.(redacted name)")
    } else {
        "(redacted name)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::query::SqliteReader;
    use crate::store::query::tests::{
        DAY1, example_schema, insert, new_db, page_view, stored_data, visitor,
    };
    use serde_json::json;

    /// Clean rows of every kind the example schema allows, through the real pipeline.
    fn clean_rows() -> Vec<(i64, serde_json::Value)> {
        let ts = "2026-11-22T10:20:00Z";
        vec![
            (
                DAY1,
                page_view(
                    DAY1,
                    "FR",
                    "https://app.example.com/docs/12345?utm_source=x&q=1",
                ),
            ),
            (
                DAY1,
                json!({"event": "page_view", "timestamp": ts, "context": {
                "url": "https://app.example.com/u/bob@example.com/settings",
                "referrer": "https://news.example.org/story?id=9",
                "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
                "language": "en-GB", "screen": {"width": 390, "height": 844},
                "location": {"country": "US", "region": "US-CA", "city": "X"}}}),
            ),
            (
                DAY1,
                json!({"event": "search", "timestamp": ts, "props": {
                "query": "invoice for alice@example.com card 4111 1111 1111 1111 see https://app.example.com/a?b=c",
                "results": 0}}),
            ),
            (
                DAY1,
                json!({"event": "signup", "timestamp": ts, "user_id": "user-42",
                "groups": {"org": "acme", "workspace": "ws-1"},
                "traits": {"plan": "team", "role": "owner", "email": "x@y.z"},
                "props": {"plan": "team", "method": "google", "invited": false}}),
            ),
            (
                DAY1,
                json!({"event": "document_opened", "timestamp": ts,
                "props": {"document_id": "doc-9", "source": "search"}}),
            ),
            (
                DAY1,
                json!({"event": "checkout_started", "timestamp": ts, "props": {
                "plan": "business", "seats": 12, "billing_period": "yearly",
                "return_url": "https://app.example.com/billing/77?token=abc"}}),
            ),
            (
                DAY1,
                json!({"event": "feedback_submitted", "timestamp": ts, "props": {
                "rating": 4, "comment": "Great, but see https://app.example.com/p/123 from 10.0.0.1"}}),
            ),
        ]
    }

    struct Store {
        _dir: tempfile::TempDir,
        conn: rusqlite::Connection,
        path: std::path::PathBuf,
        fp: String,
    }

    fn clean_store() -> Store {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, conn) = new_db(&dir, &schema, &text);
        for (n, (time, raw)) in clean_rows().into_iter().enumerate() {
            let data = stored_data(&schema, n as u32, &raw);
            insert(&conn, &fp, time, Some(&visitor(n as u32)), &data);
        }
        Store {
            _dir: dir,
            conn,
            path,
            fp,
        }
    }

    fn run(store: &Store) -> (VerifyReport, String) {
        let reader = SqliteReader::open(&store.path).expect("open");
        let mut out = Vec::new();
        let report = verify_store(&reader, &mut out).expect("verify runs");
        (report, String::from_utf8(out).expect("utf-8"))
    }

    /// A row made by the real pipeline, then edited as a buggy or hostile writer might.
    fn planted(
        n: u32,
        raw: serde_json::Value,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> String {
        let (schema, _) = example_schema();
        let mut v: serde_json::Value =
            serde_json::from_str(&stored_data(&schema, n, &raw)).expect("json");
        edit(&mut v);
        v.to_string()
    }

    #[test]
    fn clean_rows_have_no_findings() {
        let store = clean_store();
        let (report, out) = run(&store);
        assert_eq!(report.rows, 7);
        assert_eq!(report.findings, 0, "{out}");
        assert!(
            out.contains("verified 7 rows under 1 recorded schema versions: 0 findings"),
            "{out}"
        );
    }

    #[test]
    fn an_email_planted_in_a_text_prop_is_found_and_not_printed() {
        let store = clean_store();
        let data = planted(
            100,
            json!({"event": "search", "timestamp": "2026-11-22T10:00:00Z",
            "props": {"query": "hello"}}),
            |v| {
                v["props"]["query"] = json!("mail planted.person@example.net now");
            },
        );
        insert(&store.conn, &store.fp, DAY1, None, &data);
        let (report, out) = run(&store);
        assert!(report.findings >= 2, "{out}");
        assert!(
            out.contains(": props.query: value looks like email"),
            "{out}"
        );
        assert!(out.contains(": props.query: not clean"), "{out}");
        assert!(!out.contains("planted"), "{out}");
    }

    #[test]
    fn an_undeclared_prop_is_found_and_not_printed() {
        let store = clean_store();
        let data = planted(
            101,
            json!({"event": "login", "timestamp": "2026-11-22T10:00:00Z",
            "props": {"method": "passkey"}}),
            |v| {
                v["props"]["colour"] = json!("planted-blue");
                v["props"]["planted.person@example.net"] = json!(1);
            },
        );
        insert(&store.conn, &store.fp, DAY1, None, &data);
        let (report, out) = run(&store);
        assert!(
            out.contains(": props.colour: not declared in the schema"),
            "{out}"
        );
        assert!(out.contains(": props.(redacted name)"), "{out}");
        assert!(report.findings >= 3, "{out}");
        assert!(!out.contains("planted"), "{out}");
    }

    #[test]
    fn a_row_under_an_unknown_schema_is_found() {
        let store = clean_store();
        let (schema, _) = example_schema();
        let data = stored_data(
            &schema,
            102,
            &json!({"event": "document_opened",
            "timestamp": "2026-11-22T10:00:00Z", "props": {"document_id": "d-1"}}),
        );
        let unknown = "f".repeat(64);
        insert(&store.conn, &unknown, DAY1, None, &data);
        let (report, out) = run(&store);
        assert_eq!(report.findings, 1, "{out}");
        assert!(
            out.contains(": schema: fingerprint not recorded in the store"),
            "{out}"
        );
        assert!(out.contains("1 findings in 1 rows"), "{out}");
    }

    #[test]
    fn values_in_columns_and_keys_are_found_and_not_printed() {
        let store = clean_store();
        let data = planted(
            103,
            json!({"event": "login", "timestamp": "2026-11-22T10:00:00Z"}),
            |v| {
                v["context"] = json!({"language": "192.168.10.77"});
            },
        );
        // A visitor column holding an IP, as a buggy writer might store it.
        insert(&store.conn, &store.fp, DAY1, Some("192.168.10.77"), &data);
        let (report, out) = run(&store);
        assert!(out.contains(": visitor: not a pseudonym"), "{out}");
        assert!(
            out.contains(": context.language: value looks like ip"),
            "{out}"
        );
        assert!(report.findings >= 3, "{out}");
        assert!(!out.contains("192.168"), "{out}");
    }

    #[test]
    fn a_tampered_schema_record_is_found() {
        let store = clean_store();
        store
            .conn
            .execute("UPDATE schemas SET body = replace(body, '395', '3650')", [])
            .expect("tamper");
        let (report, out) = run(&store);
        // The record itself, and each of the 7 rows that can no longer be checked.
        assert_eq!(report.findings, 8, "{out}");
        assert!(out.contains("does not match its fingerprint"), "{out}");
    }

    #[test]
    fn urls_in_text_are_masked_but_what_follows_them_is_scanned() {
        assert_eq!(mask_urls("a https://x.y/p b"), "a   b");
        assert_eq!(
            first_finding(&mask_urls("see http://x.y/ then bob@example.com")),
            Some(Finding::Email)
        );
        assert_eq!(safe_field("props.bob@example.com"), "props.(redacted name)");
        assert_eq!(safe_field("traits.bob.smith"), "traits.(redacted name)");
        assert_eq!(safe_field("bob@example.com"), "(redacted name)");
        assert_eq!(
            safe_field("context.location.country"),
            "context.location.country"
        );
    }
}

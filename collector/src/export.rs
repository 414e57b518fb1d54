//! `export`: stored events over a time range, as JSON lines or CSV, for the site's own
//! analysis tools.
//!
//! Exports carry exactly what is stored, which is already clean: pseudonyms are the re-keyed
//! ones, so an export is as safe as the store and no safer (whoever holds the pepper of a live
//! epoch can link its pseudonyms). This is the one auditor tool that prints row values; it
//! does not filter, aggregate or suppress anything (that is [`crate::report`]).
//!
//! Rows are streamed from the store one at a time, so an export of any size runs in constant
//! memory.
//!
//! - JSON lines: one object per line, the stored event JSON with `"schema"` (the fingerprint
//!   it was verified under), `"site"`, `"epoch"` (the key epoch whose pepper re-keyed it) and
//!   `"visitor"` (when there is one) added: everything a store holds, so `import` can load
//!   it into another store.
//! - CSV (RFC 4180, written by the `csv` crate): a header row and the fixed columns of
//!   [`CSV_COLUMNS`]. An empty cell means the event has no such field; `props`, `groups` and
//!   `traits` are JSON objects. A grid cell location (schemas with `location: grid`) is not
//!   one of the columns: use JSON lines for it.

use std::io::Write;

use serde_json::Value;
use sieve_core::transform::time::UnixTime;

use crate::store::{StoreError, StoreRead, StoredEvent};

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "id",
    "time",
    "event",
    "schema",
    "epoch",
    "visitor",
    "user",
    "country",
    "region",
    "url",
    "referrer",
    "browser",
    "browser_major",
    "os",
    "device",
    "language",
    "screen",
    "props",
    "groups",
    "traits",
];

/// Write every stored event with `from <= time < to` to `out`, in time order. Returns the
/// number of events written.
pub fn export(
    store: &dyn StoreRead,
    from: i64,
    to: i64,
    format: ExportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let mut written = 0u64;
    // `scan` only passes `StoreError`s through; an output error is kept here and the scan
    // stopped with a placeholder, so the caller sees the real cause.
    let mut failure: Option<anyhow::Error> = None;
    let mut stop = |e: anyhow::Error| {
        failure = Some(e);
        StoreError::Stopped
    };
    let scanned = match format {
        ExportFormat::Jsonl => store.scan(from, to, &mut |row| {
            write_jsonl(&row, out).map_err(&mut stop)?;
            written += 1;
            Ok(())
        }),
        ExportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *out);
            let header = csv.write_record(CSV_COLUMNS);
            match header {
                Ok(()) => {
                    let scanned = store.scan(from, to, &mut |row| {
                        csv.write_record(csv_record(&row).map_err(&mut stop)?)
                            .map_err(|e| stop(e.into()))?;
                        written += 1;
                        Ok(())
                    });
                    scanned.and_then(|()| csv.flush().map_err(|e| stop(e.into())))
                }
                Err(e) => Err(stop(e.into())),
            }
        }
    };
    match (scanned, failure) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
        (Ok(()), None) => {
            out.flush()?;
            Ok(written)
        }
    }
}

/// The stored event as a JSON object. Errors name the row, never its contents.
fn event_object(row: &StoredEvent) -> anyhow::Result<serde_json::Map<String, Value>> {
    match serde_json::from_str(&row.data) {
        Ok(Value::Object(map)) => Ok(map),
        _ => anyhow::bail!("export: row {}: stored data is not a JSON object", row.id),
    }
}

fn write_jsonl(row: &StoredEvent, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut map = event_object(row)?;
    map.insert("schema".to_owned(), Value::String(row.schema.clone()));
    map.insert("site".to_owned(), Value::String(row.site.clone()));
    map.insert("epoch".to_owned(), Value::String(row.epoch.clone()));
    if let Some(v) = &row.visitor {
        map.insert("visitor".to_owned(), Value::String(v.clone()));
    }
    serde_json::to_writer(&mut *out, &map)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// One CSV record in [`CSV_COLUMNS`] order.
fn csv_record(row: &StoredEvent) -> anyhow::Result<Vec<String>> {
    let data = Value::Object(event_object(row)?);
    let at = |pointer: &str| cell(data.pointer(pointer));
    Ok(vec![
        row.id.clone(),
        UnixTime(row.time).to_rfc3339(),
        row.event.clone(),
        row.schema.clone(),
        row.epoch.clone(),
        row.visitor.clone().unwrap_or_default(),
        at("/user"),
        at("/context/location/country"),
        at("/context/location/region"),
        at("/context/url"),
        at("/context/referrer"),
        at("/context/ua/browser"),
        at("/context/ua/browser_major"),
        at("/context/ua/os"),
        at("/context/ua/device"),
        at("/context/language"),
        at("/context/screen"),
        at("/props"),
        at("/groups"),
        at("/traits"),
    ])
}

/// A cell: strings as they are, absent values empty, anything else as its JSON text.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
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

    /// A page view, a search whose text has a comma and quotes, and an identified signup.
    fn fixture(dir: &tempfile::TempDir) -> (SqliteReader, Vec<String>) {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let (path, conn) = new_db(dir, &schema, &text);
        let rows = [
            (
                DAY1,
                Some(visitor(1)),
                page_view(
                    DAY1,
                    "FR",
                    "https://app.example.com/docs?utm_source=news&x=1",
                ),
            ),
            (
                DAY1 + 3600,
                Some(visitor(2)),
                json!({"event": "search", "timestamp": "2026-11-22T11:15:00Z",
                       "props": {"query": "say \"hi\", then go", "results": 3}}),
            ),
            (
                DAY1 + 7200,
                None,
                json!({"event": "signup", "timestamp": "2026-11-22T12:00:00Z", "user_id": "u-1",
                       "groups": {"org": "acme"}, "traits": {"plan": "team"},
                       "props": {"plan": "team", "invited": true}}),
            ),
        ];
        let mut data = Vec::new();
        for (n, (time, v, raw)) in rows.into_iter().enumerate() {
            let d = stored_data(&schema, n as u32, &raw);
            insert(&conn, &fp, time, v.as_deref(), &d);
            data.push(d);
        }
        (SqliteReader::open(&path).expect("open"), data)
    }

    #[test]
    fn jsonl_is_the_stored_event_plus_schema_and_visitor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (reader, data) = fixture(&dir);
        let mut out = Vec::new();
        let n = export(&reader, 0, i64::MAX, ExportFormat::Jsonl, &mut out).expect("export");
        assert_eq!(n, 3);
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is json"))
            .collect();
        assert_eq!(lines.len(), 3);
        let (schema, _) = example_schema();
        for (line, stored) in lines.iter().zip(&data) {
            let mut line = line.clone();
            let obj = line.as_object_mut().expect("object");
            assert_eq!(
                obj.remove("schema"),
                Some(Value::String(schema.fingerprint().to_string()))
            );
            obj.remove("visitor");
            assert_eq!(obj.remove("site"), Some(json!("app.example.com")));
            assert_eq!(obj.remove("epoch"), Some(json!("2026-11-22")));
            let stored: Value = serde_json::from_str(stored).expect("json");
            assert_eq!(line, stored);
        }
        assert_eq!(lines[0]["visitor"], visitor(1));
        assert!(lines[2].get("visitor").is_none());
        // The range is half-open and filters in the store.
        let mut out = Vec::new();
        let n = export(
            &reader,
            DAY1 + 1,
            DAY1 + 7200,
            ExportFormat::Jsonl,
            &mut out,
        )
        .expect("export");
        assert_eq!(n, 1);
        assert!(String::from_utf8_lossy(&out).contains("\"search\""));
    }

    #[test]
    fn csv_has_fixed_columns_and_round_trips_commas_and_quotes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (reader, _) = fixture(&dir);
        let mut out = Vec::new();
        let n = export(&reader, 0, i64::MAX, ExportFormat::Csv, &mut out).expect("export");
        assert_eq!(n, 3);
        let mut rd = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = rd
            .headers()
            .expect("header row")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, CSV_COLUMNS);
        let records: Vec<csv::StringRecord> = rd
            .records()
            .collect::<Result<_, _>>()
            .expect("records parse");
        assert_eq!(records.len(), 3);
        let col = |r: &csv::StringRecord, name: &str| {
            let i = CSV_COLUMNS
                .iter()
                .position(|c| *c == name)
                .expect("known column");
            r.get(i).expect("cell").to_owned()
        };
        let page = &records[0];
        assert_eq!(col(page, "time"), "2026-11-22T10:00:00Z");
        assert_eq!(col(page, "country"), "FR");
        assert_eq!(
            col(page, "url"),
            "https://app.example.com/docs?utm_source=news"
        );
        assert_eq!(col(page, "browser"), "Firefox");
        assert_eq!(col(page, "browser_major"), "133");
        assert_eq!(col(page, "device"), "desktop");
        assert_eq!(col(page, "visitor"), visitor(1));
        assert_eq!(col(page, "props"), "");
        // The comma and the quotes survive the CSV round trip inside the props JSON.
        let search = &records[1];
        let props: Value = serde_json::from_str(&col(search, "props")).expect("props is json");
        assert_eq!(props["query"], "say \"hi\", then go");
        assert_eq!(props["results"], 1);
        let signup = &records[2];
        assert_eq!(col(signup, "user").len(), 32);
        assert_eq!(col(signup, "visitor"), "");
        let groups: Value = serde_json::from_str(&col(signup, "groups")).expect("groups is json");
        assert_eq!(groups["org"].as_str().map(str::len), Some(32));
        let traits: Value = serde_json::from_str(&col(signup, "traits")).expect("traits is json");
        assert_eq!(traits, json!({"plan": "team"}));
    }

    #[test]
    fn output_errors_are_reported_not_swallowed() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (reader, _) = fixture(&dir);
        for format in [ExportFormat::Jsonl, ExportFormat::Csv] {
            let err = export(&reader, 0, i64::MAX, format, &mut Broken).expect_err("must fail");
            assert!(format!("{err:#}").contains("disk full"), "{err:#}");
        }
    }
}

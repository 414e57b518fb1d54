//! `import`: load an `export --format jsonl` file into a store, through the same store
//! interface ingest uses, so moving from the embedded store to ClickHouse (or back) is an
//! export from one and an import into the other.
//!
//! Imported rows keep their event ids, times, sites, schema fingerprints, key epochs and
//! visitor pseudonyms, so importing a file twice (or a file that overlaps what is stored) is
//! recognised as a retry is (ClickHouse looks ids up; the SQLite writer remembers the last
//! ~460 000+ ids, `store::window`), and every read counts an event once even where a second copy
//! was stored. It does not re-key, re-clean or re-verify events: they were clean in
//! the store they came from; run `verify` on the target afterwards to check. Lines that are
//! not an exported event stop the import with the line number (never the line's contents);
//! groups committed before that stay committed, and running it again after fixing the file
//! is safe.

use std::io::BufRead;

use anyhow::Context;
use serde_json::Value;
use sieve_core::transform::time::UnixTime;

use crate::store::StoredEvent;
use crate::store::writer::{GroupStore, MAX_GROUP_EVENTS};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Events read.
    pub read: u64,
    /// Events that were new to the store.
    pub new: u64,
}

/// One exported line back into a stored event.
pub fn parse_line(line: &str) -> Result<StoredEvent, &'static str> {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(line) else {
        return Err("not a JSON object");
    };
    let mut take = |key: &str| match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let schema = take("schema").ok_or("no \"schema\"")?;
    let site = take("site").ok_or("no \"site\" (exported before site and epoch were added?)")?;
    let epoch = take("epoch").ok_or("no \"epoch\"")?;
    let visitor = take("visitor");
    let is_hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hex(&schema, 64) {
        return Err("\"schema\" is not a 64-hex fingerprint");
    }
    if visitor.as_deref().is_some_and(|v| !is_hex(v, 32)) {
        return Err("\"visitor\" is not a 32-hex pseudonym");
    }
    let id = match map.get("id") {
        Some(Value::String(s)) if is_hex(s, 32) => s.clone(),
        _ => return Err("\"id\" is not a 32-hex event id"),
    };
    let event = match map.get("event") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err("no \"event\""),
    };
    let time = match map.get("time") {
        Some(Value::String(s)) => UnixTime::parse_rfc3339(s).ok_or("\"time\" is not RFC 3339")?,
        _ => return Err("no \"time\""),
    };
    Ok(StoredEvent {
        id,
        site,
        schema,
        epoch,
        event,
        time: time.0,
        visitor,
        data: Value::Object(map).to_string(),
    })
}

/// Read exported JSON lines from `input` and insert them in groups of up to
/// [`MAX_GROUP_EVENTS`], each one durable commit.
pub fn import(store: &dyn GroupStore, input: &mut dyn BufRead) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut group = Vec::with_capacity(MAX_GROUP_EVENTS);
    let flush = |group: &mut Vec<StoredEvent>, report: &mut ImportReport| -> anyhow::Result<()> {
        if group.is_empty() {
            return Ok(());
        }
        let flags = store
            .insert_each(group)
            .context("import: storing a group")?;
        report.new += flags.iter().filter(|&&n| n).count() as u64;
        group.clear();
        Ok(())
    };
    for (n, line) in input.lines().enumerate() {
        let line = line.context("import: reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let event =
            parse_line(&line).map_err(|why| anyhow::anyhow!("import: line {}: {why}", n + 1))?;
        group.push(event);
        report.read += 1;
        if group.len() >= MAX_GROUP_EVENTS {
            flush(&mut group, &mut report)?;
        }
    }
    flush(&mut group, &mut report)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{ExportFormat, export};
    use crate::store::StoreRead;
    use crate::store::sqlite::SqliteStore;

    fn stored(id: u8, time: i64) -> StoredEvent {
        let id = format!("{id:032x}");
        StoredEvent {
            id: id.clone(),
            site: "app.example.com".to_owned(),
            schema: "ab".repeat(32),
            epoch: "2026-11-22".to_owned(),
            event: "page_view".to_owned(),
            time,
            visitor: Some("cd".repeat(16)),
            data: format!(
                r#"{{"id":"{id}","event":"page_view","time":"{}"}}"#,
                UnixTime(time).to_rfc3339()
            ),
        }
    }

    #[test]
    fn export_then_import_round_trips_and_twice_stores_nothing_twice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let from = SqliteStore::open(&dir.path().join("a.db")).expect("open a");
        let events = vec![stored(1, 1_795_341_600), stored(2, 1_795_345_200)];
        from.insert(&events).expect("seed");
        let reader =
            crate::store::query::SqliteReader::open(&dir.path().join("a.db")).expect("read a");
        let mut jsonl = Vec::new();
        export(&reader, i64::MIN, i64::MAX, ExportFormat::Jsonl, &mut jsonl).expect("export");

        let to = SqliteStore::open(&dir.path().join("b.db")).expect("open b");
        let first = import(&to, &mut jsonl.as_slice()).expect("import");
        assert_eq!(first, ImportReport { read: 2, new: 2 });
        let again = import(&to, &mut jsonl.as_slice()).expect("import again");
        assert_eq!(again, ImportReport { read: 2, new: 0 });

        let back =
            crate::store::query::SqliteReader::open(&dir.path().join("b.db")).expect("read b");
        let mut seen = Vec::new();
        back.scan(i64::MIN, i64::MAX, &mut |e| {
            seen.push(e);
            Ok(())
        })
        .expect("scan");
        assert_eq!(seen.len(), 2);
        for (got, want) in seen.iter().zip(&events) {
            assert_eq!(
                (
                    &got.id,
                    &got.site,
                    &got.schema,
                    &got.epoch,
                    &got.event,
                    got.time,
                    &got.visitor
                ),
                (
                    &want.id,
                    &want.site,
                    &want.schema,
                    &want.epoch,
                    &want.event,
                    want.time,
                    &want.visitor
                )
            );
            let a: Value = serde_json::from_str(&got.data).expect("json");
            let b: Value = serde_json::from_str(&want.data).expect("json");
            assert_eq!(a, b);
        }
    }

    #[test]
    fn bad_lines_name_the_line_not_the_contents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let to = SqliteStore::open(&dir.path().join("b.db")).expect("open");
        let input = "\n{\"id\":\"secret-value\"}\n";
        let err = import(&to, &mut input.as_bytes()).expect_err("bad line");
        let text = format!("{err:#}");
        assert!(text.contains("line 2"), "{text}");
        assert!(!text.contains("secret-value"), "{text}");
    }
}

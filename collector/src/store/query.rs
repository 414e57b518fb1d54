//! The read side of the embedded store: [`SqliteReader`], what `audit`, `verify`, `export` and
//! `report` use to look at a database without any chance of changing it.
//!
//! The reader opens the file read-only (and sets `query_only`), so an auditor can point it at a
//! live store, or at a copy from a backup, without a write lock or the key file. A missing file
//! is an error naming the path: opening must never create an empty database, which would make
//! `verify` report "no findings" on a typo.
//!
//! Aggregations for reports run in SQL (`GROUP BY`, `COUNT(DISTINCT visitor)`), and [`scan`]
//! streams rows one at a time in `(time, id)` order, so memory does not grow with the store.
//!
//! Every read counts an event once, on both layouts ([`SqliteLayout`]): a format 2 file may
//! hold a second copy of an event whose retry came after the writer's window forgot its id.
//! So a read there first asks which ids of its time range occur more than once (one sorted
//! pass over the range's ids; normally none, and the answer is kept for the next read of the
//! same range): [`scan`] skips later copies of those, and counts are `COUNT(DISTINCT id)` when
//! there are any and a plain `COUNT(*)` (half the time) when there are none. A format 1 file's
//! unique index already keeps one copy.
//! Copies of one event normally have the same time; a read of a time range that holds only one
//! of two copies with different times counts that one.
//!
//! What it does not do: decide what may be shown. Small-group suppression is the report's job
//! ([`crate::report`]); this module returns exact counts.
//!
//! [`scan`]: StoreRead::scan

use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::{SchemaCount, SchemaRecord, SqliteLayout, StoreError, StoreRead, StoredEvent, db};

/// The key under which rows without a value for a dimension are counted (an event without a
/// page URL, a visitor whose country is unknown).
pub const NONE_KEY: &str = "(none)";

/// How long a read waits for the writer's commit to finish before failing: group commits are
/// short, so this only bounds the wait when the writer is stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A report dimension: what events are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The event name.
    Event,
    /// The UTC day of the (truncated) event time, `YYYY-MM-DD`.
    Day,
    /// The country code of the event's location.
    Country,
    /// The cleaned page URL (origin and path with placeholders).
    Page,
    /// The browser family (no version).
    Browser,
}

impl Dimension {
    /// Every dimension, in the order reports show them.
    pub const ALL: [Dimension; 5] = [
        Dimension::Event,
        Dimension::Day,
        Dimension::Country,
        Dimension::Page,
        Dimension::Browser,
    ];

    /// The stable snake_case name (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Event => "event",
            Dimension::Day => "day",
            Dimension::Country => "country",
            Dimension::Page => "page",
            Dimension::Browser => "browser",
        }
    }

    /// The SQL expression of the group key. Constants only, never built from input, so the
    /// query that embeds it cannot be injected into.
    fn key_sql(self) -> &'static str {
        match self {
            Dimension::Event => "event",
            Dimension::Day => "date(time, 'unixepoch')",
            Dimension::Country => "json_extract(data, '$.context.location.country')",
            Dimension::Page => "json_extract(data, '$.context.url')",
            Dimension::Browser => "json_extract(data, '$.context.ua.browser')",
        }
    }
}

/// One group of a dimension, with exact counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    /// The group's key (`signup`, `2026-11-22`, `FR`, ...), or [`NONE_KEY`].
    pub key: String,
    /// Events in the group.
    pub events: u64,
    /// Distinct visitor ids in the group. Events without a visitor id are not counted here.
    pub visitors: u64,
}

/// A read-only view of a SQLite store.
#[derive(Debug)]
pub struct SqliteReader {
    conn: Connection,
    layout: SqliteLayout,
    /// The last time range asked about, and whether it holds an id more than once (a report
    /// reads one range per dimension).
    repeated_in: Cell<Option<(i64, i64, bool)>>,
}

/// SQLite counts are `i64` and never negative; a negative one would be a corrupt file, shown
/// as zero rather than as a huge unsigned number.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Every stored event in a time range, in a stable order (export, verify). Format 1 ids are
/// unique; format 2 rows add the rowid, so of two copies with one time the first stored comes
/// first.
const SCAN_UNIQUE: &str = "SELECT id, site, schema, epoch, event, time, visitor, data FROM events
     WHERE time >= ?1 AND time < ?2 ORDER BY time, id";
const SCAN_APPENDED: &str = "SELECT id, site, schema, epoch, event, time, visitor, data FROM events
     WHERE time >= ?1 AND time < ?2 ORDER BY time, id, rowid";

/// Format 2: the ids of a time range stored more than once (normally none).
const REPEATED_IDS: &str = "SELECT id FROM events
     WHERE time >= ?1 AND time < ?2 GROUP BY id HAVING COUNT(*) > 1";

/// How to count the events of a group: rows where each id is stored once, distinct ids where
/// some are stored twice.
fn events_sql(distinct_ids: bool) -> &'static str {
    if distinct_ids {
        "COUNT(DISTINCT id)"
    } else {
        "COUNT(*)"
    }
}

/// One report dimension over a time range: per group, events and distinct visitors.
///
/// `CAST(... AS TEXT)`: a key that is not a string in the JSON (a number smuggled into
/// `context.url`) still groups, as its text, rather than failing the whole report.
fn aggregate_sql(dimension: Dimension, distinct_ids: bool) -> String {
    format!(
        "SELECT COALESCE(CAST({key} AS TEXT), '{NONE_KEY}') AS k,
                {events} AS n, COUNT(DISTINCT visitor)
         FROM events WHERE time >= ?1 AND time < ?2
         GROUP BY k ORDER BY n DESC, k",
        key = dimension.key_sql(),
        events = events_sql(distinct_ids),
    )
}

impl SqliteReader {
    /// Open the store at `path` read-only. Fails if the file does not exist (naming the path)
    /// or is not a Sieve store.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // SQLite's own message for a missing file ("unable to open database file") does not
        // say which file; an auditor who mistyped a path should see it.
        if !path.is_file() {
            return Err(StoreError::Database {
                op: "open",
                source: Box::new(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{}: no such database file", path.display()),
                )),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db("open"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(db("open: busy timeout"))?;
        // Belt and braces over the read-only flag: no statement on this connection may write.
        conn.pragma_update(None, "query_only", true)
            .map_err(db("open: query_only"))?;
        // Refuse a file that is not a store (or a newer format this reader does not know),
        // instead of answering "no rows" about the wrong database.
        let layout = SqliteLayout::of(&conn)?;
        Ok(Self {
            conn,
            layout,
            repeated_in: Cell::new(None),
        })
    }

    /// The ids stored more than once in `from <= time < to`, each with `false` (for [`scan`]
    /// to mark the first copy seen). Always empty on a format 1 file.
    ///
    /// [`scan`]: StoreRead::scan
    fn repeated_ids(&self, from: i64, to: i64) -> Result<HashMap<String, bool>, StoreError> {
        let mut repeated = HashMap::new();
        if self.layout == SqliteLayout::Appended {
            let mut stmt = self
                .conn
                .prepare(REPEATED_IDS)
                .map_err(db("prepare repeated ids"))?;
            let ids = stmt
                .query_map(params![from, to], |r| r.get::<_, String>(0))
                .map_err(db("query repeated ids"))?;
            for id in ids {
                repeated.insert(id.map_err(db("read repeated id"))?, false);
            }
        }
        self.repeated_in.set(Some((from, to, !repeated.is_empty())));
        Ok(repeated)
    }

    /// Whether some id is stored more than once in `from <= time < to`.
    fn has_repeated(&self, from: i64, to: i64) -> Result<bool, StoreError> {
        match self.repeated_in.get() {
            Some((f, t, any)) if (f, t) == (from, to) => Ok(any),
            _ => Ok(!self.repeated_ids(from, to)?.is_empty()),
        }
    }
}

impl StoreRead for SqliteReader {
    fn schemas(&self) -> Result<Vec<SchemaRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT fingerprint, site, version, body, first_seen FROM schemas
                 ORDER BY first_seen, fingerprint",
            )
            .map_err(db("schemas: prepare"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SchemaRecord {
                    fingerprint: r.get(0)?,
                    site: r.get(1)?,
                    version: r.get(2)?,
                    body: r.get(3)?,
                    first_seen: r.get(4)?,
                })
            })
            .map_err(db("schemas: query"))?;
        rows.collect::<Result<_, _>>().map_err(db("schemas: read"))
    }

    fn counts_by_schema(&self) -> Result<Vec<SchemaCount>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT e.schema, s.version, {events}, MIN(e.time), MAX(e.time)
                 FROM events e LEFT JOIN schemas s ON s.fingerprint = e.schema
                 GROUP BY e.schema ORDER BY MIN(e.time), e.schema",
                events = events_sql(self.layout == SqliteLayout::Appended),
            ))
            .map_err(db("counts by schema: prepare"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SchemaCount {
                    fingerprint: r.get(0)?,
                    version: r.get(1)?,
                    events: count(r.get(2)?),
                    first: r.get(3)?,
                    last: r.get(4)?,
                })
            })
            .map_err(db("counts by schema: query"))?;
        rows.collect::<Result<_, _>>()
            .map_err(db("counts by schema: read"))
    }

    fn scan(
        &self,
        from: i64,
        to: i64,
        visit: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Format 2: the ids with more than one copy in the range, and which of them were
        // visited already. It stays as small as the copies are few.
        let mut repeated = self.repeated_ids(from, to)?;
        let sql = match self.layout {
            SqliteLayout::UniqueId => SCAN_UNIQUE,
            SqliteLayout::Appended => SCAN_APPENDED,
        };
        let mut stmt = self.conn.prepare(sql).map_err(db("scan: prepare"))?;
        // Stepping the cursor row by row keeps one row in memory at a time.
        let mut rows = stmt.query(params![from, to]).map_err(db("scan: query"))?;
        while let Some(r) = rows.next().map_err(db("scan: step"))? {
            if !repeated.is_empty() {
                let id = r.get_ref(0).map_err(db("scan: read id"))?;
                let id = id.as_str().map_err(db("scan: read id"))?;
                if let Some(seen) = repeated.get_mut(id)
                    && std::mem::replace(seen, true)
                {
                    continue;
                }
            }
            let event = StoredEvent {
                id: r.get(0).map_err(db("scan: read id"))?,
                site: r.get(1).map_err(db("scan: read site"))?,
                schema: r.get(2).map_err(db("scan: read schema"))?,
                epoch: r.get(3).map_err(db("scan: read epoch"))?,
                event: r.get(4).map_err(db("scan: read event"))?,
                time: r.get(5).map_err(db("scan: read time"))?,
                visitor: r.get(6).map_err(db("scan: read visitor"))?,
                data: r.get(7).map_err(db("scan: read data"))?,
            };
            visit(event)?;
        }
        Ok(())
    }

    fn aggregate(
        &self,
        dimension: Dimension,
        from: i64,
        to: i64,
    ) -> Result<Vec<Group>, StoreError> {
        let distinct_ids = self.has_repeated(from, to)?;
        let mut stmt = self
            .conn
            .prepare(&aggregate_sql(dimension, distinct_ids))
            .map_err(db("aggregate: prepare"))?;
        let rows = stmt
            .query_map(params![from, to], |r| {
                Ok(Group {
                    key: r.get(0)?,
                    events: count(r.get(1)?),
                    visitors: count(r.get(2)?),
                })
            })
            .map_err(db("aggregate: query"))?;
        rows.collect::<Result<_, _>>()
            .map_err(db("aggregate: read"))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Also the shared fixture of the auditor tools' tests: a store built with plain SQL
    //! (not the writer, which is tested on its own) from events cleaned by the real core
    //! pipeline.

    use super::*;
    use crate::store::SQLITE_DDL;
    use serde_json::{Value, json};
    use sieve_core::event::CleanOptions;
    use sieve_core::{ClientKey, EventId, Pepper, RawEvent, Schema, clean_event};

    /// 2026-11-22T10:00:00Z.
    pub(crate) const DAY1: i64 = 1_795_341_600;

    pub(crate) fn example_schema() -> (Schema, String) {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/schema/example.json"
        ))
        .expect("the example schema ships with the repository");
        let schema = Schema::from_json(&text).expect("the example schema is valid");
        (schema, text)
    }

    /// The stored JSON of a raw event, through clean + re-key as ingest does it.
    pub(crate) fn stored_data(schema: &Schema, n: u32, raw: &Value) -> String {
        let (raw, _) = RawEvent::from_value(raw).expect("the fixture event has a name");
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&n.to_be_bytes());
        let outcome = clean_event(
            &raw,
            schema,
            &ClientKey::demonstration(),
            EventId::from_bytes(id),
            CleanOptions::default(),
        );
        let event = outcome.event.expect("the fixture event is declared");
        serde_json::to_string(&event.rekeyed(&Pepper::demonstration()))
            .expect("a clean event serializes")
    }

    /// The tables of a format 1 file as the collector created them on 2026-11-22: a unique id
    /// (`WITHOUT ROWID` before that day: `without_rowid`), and the unused `(event, time)` index.
    pub(crate) fn legacy_ddl(without_rowid: bool) -> String {
        format!(
            "CREATE TABLE events (
                id TEXT PRIMARY KEY NOT NULL, site TEXT NOT NULL, schema TEXT NOT NULL,
                epoch TEXT NOT NULL, event TEXT NOT NULL, time INTEGER NOT NULL, visitor TEXT,
                data TEXT NOT NULL){rowid};
            CREATE INDEX events_time ON events(time);
            CREATE INDEX events_event_time ON events(event, time);
            CREATE TABLE schemas (fingerprint TEXT PRIMARY KEY, site TEXT NOT NULL,
                version TEXT NOT NULL, body TEXT NOT NULL, first_seen INTEGER NOT NULL);
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO meta (key, value) VALUES ('format', '1');",
            rowid = if without_rowid { " WITHOUT ROWID" } else { "" }
        )
    }

    /// A database file with the store's tables and the example schema recorded.
    pub(crate) fn new_db(
        dir: &tempfile::TempDir,
        schema: &Schema,
        text: &str,
    ) -> (std::path::PathBuf, Connection) {
        db_with(dir, schema, text, SQLITE_DDL)
    }

    /// [`new_db`] with the tables of `ddl` (a new file's, or [`legacy_ddl`]).
    pub(crate) fn db_with(
        dir: &tempfile::TempDir,
        schema: &Schema,
        text: &str,
        ddl: &str,
    ) -> (std::path::PathBuf, Connection) {
        let path = dir.path().join("events.db");
        let conn = Connection::open(&path).expect("create test db");
        conn.execute_batch(ddl).expect("create tables");
        conn.execute(
            "INSERT INTO schemas (fingerprint, site, version, body, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![schema.fingerprint().to_string(), schema.site, schema.version, text, DAY1],
        )
        .expect("record schema");
        (path, conn)
    }

    /// Insert one stored row; `data` is taken as is, so tests can plant bad rows.
    pub(crate) fn insert(
        conn: &Connection,
        schema_fp: &str,
        time: i64,
        visitor: Option<&str>,
        data: &str,
    ) {
        let v: Value = serde_json::from_str(data).expect("fixture data is json");
        let id = v["id"].as_str().expect("fixture data has an id");
        let event = v["event"].as_str().expect("fixture data has an event");
        conn.execute(
            "INSERT INTO events (id, site, schema, epoch, event, time, visitor, data)
             VALUES (?1, 'app.example.com', ?2, '2026-11-22', ?3, ?4, ?5, ?6)",
            params![id, schema_fp, event, time, visitor, data],
        )
        .expect("insert fixture row");
    }

    /// A visitor pseudonym for test visitor number `n`.
    pub(crate) fn visitor(n: u32) -> String {
        format!("{n:032x}")
    }

    /// A page view of visitor `v` from `country` on `url`, with a Firefox user agent.
    pub(crate) fn page_view(time: i64, country: &str, url: &str) -> Value {
        json!({
            "event": "page_view",
            "timestamp": sieve_core::transform::time::UnixTime(time).to_rfc3339(),
            "context": {
                "url": url,
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "location": { "country": country }
            }
        })
    }

    /// Every statement that reads or deletes rows by time uses `events_time`: on a new file,
    /// on one that has the old `events_event_time` index too, and on format 1 files (with and
    /// without a rowid), each with its layout's statements.
    #[test]
    fn time_range_statements_use_the_time_index() {
        let (schema, text) = example_schema();
        let old_index =
            format!("{SQLITE_DDL}; CREATE INDEX events_event_time ON events(event, time);");
        for ddl in [
            SQLITE_DDL.to_owned(),
            old_index,
            legacy_ddl(false),
            legacy_ddl(true),
        ] {
            let legacy = ddl.contains("events_event_time");
            let dir = tempfile::tempdir().expect("tempdir");
            let (_path, conn) = db_with(&dir, &schema, &text, &ddl);
            let fp = schema.fingerprint().to_string();
            for n in 0..50 {
                let time = DAY1 + i64::from(n);
                let data = stored_data(
                    &schema,
                    n,
                    &page_view(time, "FR", "https://app.example.com/"),
                );
                insert(&conn, &fp, time, Some(&visitor(n % 7)), &data);
            }
            let layout = SqliteLayout::of(&conn).expect("layout");
            let per_layout = match layout {
                SqliteLayout::Appended => [
                    SCAN_APPENDED,
                    REPEATED_IDS,
                    super::super::sqlite::DELETE_CHUNK_BEFORE_APPENDED,
                ]
                .as_slice(),
                SqliteLayout::UniqueId => [
                    SCAN_UNIQUE,
                    super::super::sqlite::DELETE_CHUNK_BEFORE_UNIQUE,
                ]
                .as_slice(),
            };
            let statements = Dimension::ALL
                .into_iter()
                .flat_map(|d| [aggregate_sql(d, false), aggregate_sql(d, true)])
                .chain(per_layout.iter().map(|sql| (*sql).to_owned()));
            for sql in statements {
                let plan: Vec<String> = conn
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .and_then(|mut stmt| {
                        stmt.query_map(params![DAY1, DAY1 + 10], |r| r.get::<_, String>(3))?
                            .collect()
                    })
                    .expect("explain");
                assert!(
                    plan.iter().any(|step| {
                        step.contains("USING INDEX events_time")
                            || step.contains("USING COVERING INDEX events_time")
                    }),
                    "legacy index {legacy}: {sql}\n{plan:?}"
                );
            }
        }
    }

    #[test]
    fn open_refuses_a_missing_file_and_names_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope.db");
        let err = SqliteReader::open(&path).expect_err("missing file must fail");
        let message = format!("{err}: {:?}", std::error::Error::source(&err));
        assert!(message.contains("nope.db"), "{message}");
        assert!(!path.exists(), "opening must not create a database");
    }

    #[test]
    fn open_refuses_a_file_that_is_not_a_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("other.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
            .expect("create unrelated db");
        assert!(SqliteReader::open(&path).is_err());
    }

    #[test]
    fn reader_cannot_write() {
        let (schema, text) = example_schema();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _conn) = new_db(&dir, &schema, &text);
        let reader = SqliteReader::open(&path).expect("open");
        assert!(reader.conn.execute("DELETE FROM events", []).is_err());
    }

    /// A hand-counted fixture: the SQL aggregation must give exactly these numbers, on a new
    /// file, on one that also holds second copies of two events (late retries the writer's
    /// window had forgotten: one at the same time, one a minute later), and on format 1 files.
    #[test]
    fn aggregate_matches_a_hand_count() {
        for (ddl, copies) in [
            (SQLITE_DDL.to_owned(), false),
            (SQLITE_DDL.to_owned(), true),
            (legacy_ddl(false), false),
            (legacy_ddl(true), false),
        ] {
            hand_count(&ddl, copies);
        }
    }

    fn hand_count(ddl: &str, copies: bool) {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, conn) = db_with(&dir, &schema, &text, ddl);
        let day2 = DAY1 + 86_400;
        // (time, visitor, country, url)
        let rows: [(i64, Option<u32>, &str, &str); 6] = [
            (DAY1, Some(1), "FR", "https://app.example.com/a"),
            (DAY1, Some(1), "FR", "https://app.example.com/a"),
            (DAY1, Some(2), "DE", "https://app.example.com/a"),
            (day2, Some(1), "FR", "https://app.example.com/b"),
            (day2, None, "FR", "https://app.example.com/b"),
            (day2, Some(3), "DE", "https://app.example.com/b"),
        ];
        for (n, (time, v, country, url)) in rows.iter().enumerate() {
            let data = stored_data(&schema, n as u32, &page_view(*time, country, url));
            insert(&conn, &fp, *time, v.map(visitor).as_deref(), &data);
        }
        // One event without a page, country or browser: it groups under "(none)".
        let bare = stored_data(
            &schema,
            99,
            &json!({"event": "signup", "timestamp": "2026-11-22T10:30:00Z", "props": {"plan": "team"}}),
        );
        insert(&conn, &fp, DAY1, Some(&visitor(4)), &bare);
        if copies {
            for (n, late) in [(0, 0), (4, 60)] {
                let (time, v, country, url) = rows[n];
                let data = stored_data(&schema, n as u32, &page_view(time + late, country, url));
                insert(&conn, &fp, time + late, v.map(visitor).as_deref(), &data);
            }
        }

        let reader = SqliteReader::open(&path).expect("open");
        let stored: i64 = reader
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .expect("count rows");
        assert_eq!(stored, if copies { 9 } else { 7 });
        let mut scanned = Vec::new();
        reader
            .scan(0, i64::MAX, &mut |e| {
                scanned.push((e.id, e.time));
                Ok(())
            })
            .expect("scan");
        assert_eq!(scanned.len(), 7, "each event once: {scanned:?}");
        let late_copy = (format!("{:08x}{}", 4, "0".repeat(24)), DAY1 + 86_400);
        assert!(
            scanned.contains(&late_copy),
            "the first copy is kept: {scanned:?}"
        );
        let counts = reader.counts_by_schema().expect("counts");
        assert_eq!(counts[0].events, 7);
        let g = |key: &str, events, visitors| Group {
            key: key.to_owned(),
            events,
            visitors,
        };
        let all = |d| reader.aggregate(d, 0, i64::MAX).expect("aggregate");
        assert_eq!(
            all(Dimension::Event),
            vec![g("page_view", 6, 3), g("signup", 1, 1)]
        );
        assert_eq!(
            all(Dimension::Day),
            vec![g("2026-11-22", 4, 3), g("2026-11-23", 3, 2)]
        );
        assert_eq!(
            all(Dimension::Country),
            vec![g("FR", 4, 1), g("DE", 2, 2), g(NONE_KEY, 1, 1)]
        );
        assert_eq!(
            all(Dimension::Page),
            vec![
                g("https://app.example.com/a", 3, 2),
                g("https://app.example.com/b", 3, 2),
                g(NONE_KEY, 1, 1)
            ]
        );
        assert_eq!(
            all(Dimension::Browser),
            vec![g("Firefox", 6, 3), g(NONE_KEY, 1, 1)]
        );
        // The time range is half-open: [DAY1, day2) holds day 1 only.
        assert_eq!(
            reader
                .aggregate(Dimension::Event, DAY1, day2)
                .expect("aggregate"),
            vec![g("page_view", 3, 2), g("signup", 1, 1)]
        );
    }

    /// The writer keeps the store in WAL mode and stays open while auditors read.
    #[test]
    fn reads_a_live_wal_store_and_sees_new_commits() {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, conn) = new_db(&dir, &schema, &text);
        let mode: String = conn
            .query_row("PRAGMA journal_mode = wal", [], |r| r.get(0))
            .expect("wal");
        assert_eq!(mode, "wal");
        let raw = |n| {
            stored_data(
                &schema,
                n,
                &page_view(DAY1, "FR", "https://app.example.com/"),
            )
        };
        insert(&conn, &fp, DAY1, None, &raw(1));
        let reader = SqliteReader::open(&path).expect("open beside a live writer");
        let events = |r: &SqliteReader| r.aggregate(Dimension::Event, 0, i64::MAX).expect("read");
        assert_eq!(events(&reader)[0].events, 1);
        insert(&conn, &fp, DAY1, None, &raw(2));
        assert_eq!(events(&reader)[0].events, 2);
    }

    #[test]
    fn scan_streams_in_time_then_id_order() {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, conn) = new_db(&dir, &schema, &text);
        // Inserted out of order: ids 3, 1, 2 at times t+1h, t, t.
        for (n, time) in [(3, DAY1 + 3600), (1, DAY1), (2, DAY1)] {
            let data = stored_data(
                &schema,
                n,
                &page_view(time, "FR", "https://app.example.com/"),
            );
            insert(&conn, &fp, time, None, &data);
        }
        let reader = SqliteReader::open(&path).expect("open");
        let mut seen = Vec::new();
        reader
            .scan(DAY1, DAY1 + 7200, &mut |e| {
                seen.push((e.time, e.id[..8].to_owned()));
                Ok(())
            })
            .expect("scan");
        assert_eq!(
            seen,
            vec![
                (DAY1, "00000001".to_owned()),
                (DAY1, "00000002".to_owned()),
                (DAY1 + 3600, "00000003".to_owned())
            ]
        );
        let counts = reader.counts_by_schema().expect("counts");
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].events, 3);
        assert_eq!(counts[0].version.as_deref(), Some("2026.11.1"));
        assert_eq!(reader.schemas().expect("schemas")[0].fingerprint, fp);
    }
}

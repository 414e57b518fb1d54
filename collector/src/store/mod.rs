//! Where events are kept: a small interface, so a distributed engine can stand next to the
//! embedded SQLite default without touching ingest.
//!
//! Ingest hands [`StoredEvent`]s, already verified and re-keyed, to the group-commit
//! [`writer::Writer`], which calls [`Store::insert`] once for everything that queued up while
//! the previous commit ran, and acknowledges each request only after that commit is durable.
//! The auditor's tools read through [`StoreRead`].
//!
//! What a store holds: per event its id, site, schema fingerprint, key epoch, name, truncated
//! time, cookieless visitor pseudonym and the clean event JSON with re-keyed pseudonyms; per
//! schema version its text. Never an IP, a request header, or anything a client sent that
//! failed verification.

mod checkpoint;
pub mod clickhouse;
pub mod query;
pub mod sqlite;
pub mod window;
pub mod writer;

use std::path::PathBuf;

/// One event as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The SDK's 128-bit event id, 32 hex digits: the de-duplication key.
    pub id: String,
    /// The site the schema belongs to.
    pub site: String,
    /// Fingerprint (64 hex) of the schema the event was verified under.
    pub schema: String,
    /// Key epoch whose pepper re-keyed the pseudonyms (`2026-11-22`).
    pub epoch: String,
    /// Event name.
    pub event: String,
    /// Event time: unix seconds, corrected for client clock skew and truncated.
    pub time: i64,
    /// Cookieless daily visitor pseudonym (32 hex), when it could be computed.
    pub visitor: Option<String>,
    /// The clean event as JSON, every pseudonym re-keyed with the epoch pepper.
    pub data: String,
}

/// A schema version as kept in the store, so auditors can see from the store itself which
/// plan shaped each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRecord {
    /// Fingerprint, 64 hex.
    pub fingerprint: String,
    /// Site.
    pub site: String,
    /// Human version label.
    pub version: String,
    /// The schema file's text.
    pub body: String,
    /// Unix seconds when this collector first served it.
    pub first_seen: i64,
}

/// Why the store failed. Messages name the operation, never row contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("store: {op}: {source}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The group-commit queue is full: the caller answers 503 with `Retry-After`.
    #[error("store: write queue full")]
    Full,
    /// The writer has stopped (shutting down, or its thread died).
    #[error("store: writer stopped")]
    Stopped,
}

/// A database failure during `op`: the one way every store builds [`StoreError::Database`].
pub(crate) fn failed(
    op: &'static str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> StoreError {
    StoreError::Database {
        op,
        source: source.into(),
    }
}

/// The embedded store's write-ahead log, as the metrics show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogState {
    /// Bytes in the log after the last commit (frames written since it last restarted).
    pub wal_bytes: u64,
    /// Checkpoints the checkpoint thread has completed since the store was opened.
    pub checkpoints: u64,
}

/// [`failed`] for `map_err`: `.map_err(db("insert: commit"))`.
pub(crate) fn db<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
    op: &'static str,
) -> impl FnOnce(E) -> StoreError {
    move |e| failed(op, e)
}

/// The write side of a store.
pub trait Store: Send + Sync + 'static {
    /// Record a schema version (idempotent by fingerprint).
    fn register_schema(&self, schema: &SchemaRecord) -> Result<(), StoreError>;
    /// Delete events whose time is before `cutoff` (unix seconds). Returns how many.
    fn delete_before(&self, cutoff: i64) -> Result<usize, StoreError>;
    /// Cheap liveness check for `/healthz`.
    fn health(&self) -> Result<(), StoreError>;
    /// The state of the store's write-ahead log, for the metrics; `None` for a store without
    /// one of its own (ClickHouse).
    fn log(&self) -> Option<LogState> {
        None
    }
}

/// Counts of stored events per schema version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaCount {
    /// Fingerprint.
    pub fingerprint: String,
    /// Version label, if the schema is recorded.
    pub version: Option<String>,
    /// Stored events.
    pub events: u64,
    /// Earliest event time (unix seconds).
    pub first: i64,
    /// Latest event time (unix seconds).
    pub last: i64,
}

/// The read side, for `audit`, `verify`, `export` and `report`. Aggregations run inside the
/// store (SQL), not row by row in the collector.
pub trait StoreRead {
    /// Every recorded schema version.
    fn schemas(&self) -> Result<Vec<SchemaRecord>, StoreError>;
    /// Stored events per schema fingerprint.
    fn counts_by_schema(&self) -> Result<Vec<SchemaCount>, StoreError>;
    /// Visit stored events with `from <= time < to`, ordered by time then id.
    fn scan(
        &self,
        from: i64,
        to: i64,
        visit: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Counts for one report dimension over `from <= time < to`: per group, events and
    /// distinct visitors, computed by the store.
    fn aggregate(
        &self,
        dimension: query::Dimension,
        from: i64,
        to: i64,
    ) -> Result<Vec<query::Group>, StoreError>;
}

/// Which store to use, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreConfig {
    /// The embedded default: one SQLite file.
    Sqlite {
        /// Path of the database file.
        path: PathBuf,
        /// Ids of recently stored events the writer remembers, per generation of its window
        /// ([`window::IdWindow`]).
        recent_ids: usize,
    },
    /// ClickHouse over HTTP, for several collectors (docs/scale-out.md).
    ClickHouse {
        /// HTTP endpoint, `http://host:8123` or `https://host:8443`.
        url: reqwest::Url,
        /// Database holding Sieve's tables.
        database: String,
        /// ClickHouse user.
        user: String,
        /// File whose first line is the password; without it, the password comes from
        /// `SIEVE_CLICKHOUSE_PASSWORD`.
        password_file: Option<PathBuf>,
        /// The cluster holding the tables (`ON CLUSTER`, replicated and distributed), or
        /// `None` for one server.
        cluster: Option<String>,
    },
}

/// The embedded store's tables, as a new file gets them (store format 2).
///
/// `events` is a rowid table with one index, `events_time`: rows (about 1.3 KB each, most of
/// it `data`) are appended in arrival order, and every query of [`query`] and retention's
/// delete filter on a time range. The event id has **no index**: a unique index over random
/// 128-bit ids made each insert rewrite its own leaf page, about one 8 KiB page per event in the
/// WAL and again at each checkpoint (BENCHMARKS.md, "Ingest, fifth round"). Retried batches are
/// recognised by the writer's window of recent ids instead ([`window`]); a copy that arrives
/// after its id left the window is stored again, and every read counts each id once
/// ([`query`]).
///
/// Older files keep the layout they were created with, and every statement works on them:
/// format 1 files have `id TEXT PRIMARY KEY` (the unique index did the de-duplication); those
/// from before 2026-11-22 are `WITHOUT ROWID` tables keyed by the id itself, and those from
/// before 2026-11-23 also have an unused index `events_event_time` on `(event, time)`
/// (`DROP INDEX events_event_time` removes it). [`SqliteLayout`] tells the two formats apart.
pub const SQLITE_DDL: &str = "
CREATE TABLE IF NOT EXISTS events (
    id      TEXT NOT NULL,      -- 32 hex: the SDK's event id (a retry has the same id)
    site    TEXT NOT NULL,
    schema  TEXT NOT NULL,      -- 64 hex: fingerprint of the schema it was verified under
    epoch   TEXT NOT NULL,      -- key epoch whose pepper re-keyed the pseudonyms
    event   TEXT NOT NULL,
    time    INTEGER NOT NULL,   -- unix seconds, truncated
    visitor TEXT,               -- cookieless daily visitor pseudonym
    data    TEXT NOT NULL       -- clean event JSON, pseudonyms re-keyed
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS schemas (
    fingerprint TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    version     TEXT NOT NULL,
    body        TEXT NOT NULL,
    first_seen  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '2');
";

/// How a SQLite store file keeps one copy of each event, read from its `meta` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteLayout {
    /// Format 1: `events.id` is unique; `INSERT OR IGNORE` skips a retried event, and reads
    /// count rows.
    UniqueId,
    /// Format 2 (new files): rows appended without an id index; the writer's window skips
    /// recent retries, and reads count distinct ids.
    Appended,
}

impl SqliteLayout {
    /// The layout of the store open on `conn`; an error for a file that is not a store, or a
    /// format this build does not know.
    pub fn of(conn: &rusqlite::Connection) -> Result<SqliteLayout, StoreError> {
        let format: String = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .map_err(db("read store format"))?;
        match format.as_str() {
            "1" => Ok(SqliteLayout::UniqueId),
            "2" => Ok(SqliteLayout::Appended),
            _ => Err(failed(
                "store format",
                format!("unsupported store format {format:?}"),
            )),
        }
    }
}

impl StoreConfig {
    /// Open the write side: the SQLite file (created if missing), or ClickHouse with its tables
    /// created or migrated (`retention_days` sets a TTL where the server has it).
    pub fn open_writer(
        &self,
        retention_days: Option<u32>,
    ) -> Result<std::sync::Arc<dyn writer::GroupStore>, StoreError> {
        match self {
            StoreConfig::Sqlite { path, recent_ids } => {
                let store = sqlite::SqliteStore::open_with_window(path, *recent_ids)?;
                match store.layout() {
                    SqliteLayout::Appended => tracing::info!(
                        format = 2,
                        recent_ids = store.recent_ids(),
                        "sqlite store ready: retries recognised by the ids of recent events"
                    ),
                    SqliteLayout::UniqueId => tracing::info!(
                        format = 1,
                        "sqlite store ready: retries recognised by the unique id index"
                    ),
                }
                Ok(std::sync::Arc::new(store))
            }
            StoreConfig::ClickHouse { .. } => {
                let store = self.clickhouse()?;
                let migration = store.migrate(retention_days)?;
                tracing::info!(server = %migration.server_version, ttl = migration.ttl, "clickhouse tables ready");
                Ok(std::sync::Arc::new(store))
            }
        }
    }

    /// Open the read side for the auditors' tools: nothing is created, and a store that does
    /// not exist is an error.
    pub fn open_reader(&self) -> Result<Box<dyn StoreRead>, StoreError> {
        match self {
            StoreConfig::Sqlite { path, .. } => Ok(Box::new(query::SqliteReader::open(path)?)),
            StoreConfig::ClickHouse { .. } => {
                let store = self.clickhouse()?;
                store.check_format()?;
                Ok(Box::new(store))
            }
        }
    }

    /// The ClickHouse store of this config, not yet contacted (`None`-like error for SQLite).
    pub fn clickhouse(&self) -> Result<clickhouse::ClickHouseStore, StoreError> {
        match self {
            StoreConfig::ClickHouse {
                url,
                database,
                user,
                password_file,
                cluster,
            } => clickhouse::ClickHouseStore::connect(clickhouse::Settings::resolve(
                url.clone(),
                database.clone(),
                user.clone(),
                password_file.as_deref(),
                cluster.clone(),
            )?),
            StoreConfig::Sqlite { .. } => Err(StoreError::Database {
                op: "open clickhouse",
                source: "the configured store is sqlite".into(),
            }),
        }
    }
}

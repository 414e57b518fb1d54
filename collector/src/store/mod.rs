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

pub mod clickhouse;
pub mod query;
pub mod sqlite;
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

/// The embedded store's tables. `events.id` is the primary key, which is what makes a retried
/// batch store nothing twice; `time` is indexed for retention, export and reports, the only
/// ways rows are read (every query of [`query`] and retention's delete filter on a time range).
///
/// Files created before 2026-11-23 also have an index `events_event_time` on `(event, time)`.
/// No statement uses it (`EXPLAIN QUERY PLAN` of each picks `events_time` or the id), and
/// every row paid for it: a third b-tree insert and, at each group commit, a WAL frame per
/// event name for its rewritten tail pages (~18% of the bytes written per event,
/// BENCHMARKS.md). New files are created without it; an old file keeps it and works as
/// before (`DROP INDEX events_event_time` removes it, offline or live).
///
/// `events` is a rowid table: rows (about 1.3 KB each, most of it `data`) are appended in
/// arrival order, and the id's unique index holds only the 32-character ids. Files created
/// before 2026-11-22 have it `WITHOUT ROWID`, keyed by the id itself; both layouts have the
/// same columns and constraints, and every statement here works on either. The old layout
/// is what SQLite advises against for rows over ~1/20 of a page: the whole row is the b-tree
/// key, so its interior pages hold a handful of ~1 KB keys each (a deep tree, overflow pages),
/// and a group commit of ~25 events wrote ~170 pages to the log (BENCHMARKS.md).
pub const SQLITE_DDL: &str = "
CREATE TABLE IF NOT EXISTS events (
    id      TEXT PRIMARY KEY NOT NULL,  -- 32 hex: the SDK's event id
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
INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '1');
";

impl StoreConfig {
    /// Open the write side: the SQLite file (created if missing), or ClickHouse with its tables
    /// created or migrated (`retention_days` sets a TTL where the server has it).
    pub fn open_writer(
        &self,
        retention_days: Option<u32>,
    ) -> Result<std::sync::Arc<dyn writer::GroupStore>, StoreError> {
        match self {
            StoreConfig::Sqlite { path } => {
                Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path)?))
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
            StoreConfig::Sqlite { path } => Ok(Box::new(query::SqliteReader::open(path)?)),
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

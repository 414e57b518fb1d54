//! The ClickHouse store: for when one machine is not enough. Several stateless collectors
//! (behind a load balancer) write to one ClickHouse server or cluster over its HTTP interface;
//! the auditors' tools read from it with the aggregation done in ClickHouse.
//!
//! The contract is the embedded store's: [`GroupStore::insert_each`] returns only after
//! ClickHouse answered 200 to a synchronous `INSERT` of the whole group (one statement per
//! group), so a 2xx to the browser still means "stored"; any failure becomes a 503 with
//! `Retry-After` and the SDK retries. Duplicates by event id are handled twice over:
//! - before inserting, the ids of the group are looked up (`SELECT id ... WHERE id IN (...)`,
//!   within a day either side of the group's times, so only a few partitions are read) and
//!   only new ones are inserted; that gives the per-event new/duplicate flags;
//! - two collectors racing with the same retried batch can both find an id new and both insert
//!   it. The table is a `ReplacingMergeTree` whose sorting key ends in `id`, so such copies
//!   collapse when parts merge, and every read de-duplicates by id in the meantime
//!   (`uniqExact(id)` for counts, `LIMIT 1 BY id` for scans). A count never counts an event
//!   twice, merged or not.
//!
//! Durability is ClickHouse's: an acknowledged insert has written its parts, so it survives a
//! restart or a crash of the server process; it survives the loss of a machine only with
//! replication (see docs/scale-out.md). The store keeps to SQL that Debian's 18.16 and current
//! ClickHouse both accept ([`ddl`]).
//!
//! On a cluster (`clickhouse_cluster`, [`ddl::Layout::Cluster`]) the same code reads and writes
//! `events`, which is then a `Distributed` table sharded by `cityHash64(id)`: every copy of an
//! event lives on one shard, so the de-duplicating reads above stay exact across shards (each
//! shard's `LIMIT 1 BY id` sees all copies of its ids; `uniqExact` states merge exactly).
//! Inserts carry `insert_distributed_sync=1`, so the 200 comes after every shard concerned
//! wrote its rows, not after the receiving server queued them.
//!
//! It does not: create users or grant rights (the operator does, once), manage a cluster's
//! topology, or log row contents (insert errors name ClickHouse's error code only).

pub mod ddl;
pub mod http;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use self::http::{Client, Secret, quote};
use super::query::{Dimension, Group, NONE_KEY};
use super::writer::GroupStore;
use super::{SchemaCount, SchemaRecord, Store, StoreError, StoreRead, StoredEvent};
use crate::store::failed;

/// The environment variable the password is read from when no password file is configured.
/// Not a flag: flags show in `ps` to every local account.
pub const PASSWORD_ENV: &str = "SIEVE_CLICKHOUSE_PASSWORD";

/// Ids per existence lookup: keeps each `IN (...)` list (35 bytes an id) well under
/// ClickHouse's default `max_query_size` of 256 KiB.
const LOOKUP_CHUNK: usize = 2_000;

/// How far from a group's event times an earlier copy of one of its events is looked for. A
/// retry carries the same client time and the same clock-skew correction, so its stored time
/// matches up to the truncation boundary; a day either side is ample and reads only a few
/// partitions. A copy outside the window is inserted again and collapses like a race would.
const LOOKUP_WINDOW_SECONDS: i64 = 86_400;

/// How long a distributed DDL statement (`ON CLUSTER`) waits for every server before ClickHouse
/// answers with the hosts still missing: under [`http`]'s per-statement timeout, so `migrate`
/// reports ClickHouse's own "unfinished hosts" error rather than a bare timeout. A host that is
/// down still runs the statement from ZooKeeper's queue when it comes back.
const DDL_TASK_TIMEOUT_SECONDS: &str = "12";

/// Largest time `DateTime` holds (2106-02-07). Times outside 1970..2106 are stored at the
/// nearest bound in the `time` column (the event JSON keeps its own timestamp).
const MAX_TIME: i64 = u32::MAX as i64;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The HTTP endpoint, `http://host:8123` or `https://host:8443`.
    pub url: reqwest::Url,
    /// The database holding Sieve's tables.
    pub database: String,
    /// The ClickHouse user.
    pub user: String,
    /// Its password.
    pub password: Secret,
    /// The cluster whose servers hold the tables (`ON CLUSTER`), or `None` for one server.
    pub cluster: Option<String>,
}

impl Settings {
    /// Settings with the password from `password_file` if given (its first line), else from
    /// [`PASSWORD_ENV`], else empty.
    pub fn resolve(
        url: reqwest::Url,
        database: String,
        user: String,
        password_file: Option<&Path>,
        cluster: Option<String>,
    ) -> Result<Settings, StoreError> {
        let password = match password_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| StoreError::Database {
                    op: "clickhouse: read the password file",
                    source: Box::new(e),
                })?;
                text.lines().next().unwrap_or_default().to_owned()
            }
            None => std::env::var(PASSWORD_ENV).unwrap_or_default(),
        };
        Ok(Settings {
            url,
            database,
            user,
            password: Secret::new(password),
            cluster,
        })
    }
}

/// What [`ClickHouseStore::migrate`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// `SELECT version()`.
    pub server_version: String,
    /// Whether the events table got a retention TTL (servers 19.6 and later).
    pub ttl: bool,
}

/// The ClickHouse store: write and read side.
#[derive(Debug)]
pub struct ClickHouseStore {
    client: Client,
    db: String,
    layout: ddl::Layout,
}

impl ClickHouseStore {
    /// A store over `settings`. Talks to no server yet.
    pub fn connect(settings: Settings) -> Result<ClickHouseStore, StoreError> {
        let Settings {
            url,
            database,
            user,
            password,
            cluster,
        } = settings;
        if !ddl::valid_identifier(&database) {
            return Err(failed(
                "clickhouse: database name",
                "letters, digits and _ only, not starting with a digit",
            ));
        }
        let layout = match cluster {
            None => ddl::Layout::Single,
            Some(name) if ddl::valid_identifier(&name) => ddl::Layout::Cluster { name },
            Some(_) => {
                return Err(failed(
                    "clickhouse: cluster name",
                    "letters, digits and _ only, not starting with a digit",
                ));
            }
        };
        Ok(ClickHouseStore {
            client: Client::new(url, user, password)?,
            db: database,
            layout,
        })
    }

    /// Create the database and tables if missing (on every server of the cluster, if one is
    /// configured), check that the tables are of the configured layout, record the store
    /// format, and set the retention TTL where the server supports it. Idempotent: every
    /// collector runs it at start-up, and `sieve-collector migrate` runs it on its own.
    pub fn migrate(&self, retention_days: Option<u32>) -> Result<Migration, StoreError> {
        let db = &self.db;
        let server_version = self
            .client
            .execute("clickhouse: server version", "SELECT version()")?
            .trim()
            .to_owned();
        self.ddl(
            "clickhouse: create database",
            &ddl::database(db, &self.layout),
        )?;
        for (op, sql) in ddl::tables(db, &self.layout) {
            self.ddl(op, &sql)?;
        }
        self.check_layout()?;
        match self.format()? {
            Some(f) if f == ddl::FORMAT => {}
            Some(other) => {
                return Err(failed(
                    "clickhouse: store format",
                    format!(
                        "the database holds store format {other:?}; this collector knows {:?}",
                        ddl::FORMAT
                    ),
                ));
            }
            None => self.client.insert(
                "clickhouse: record store format",
                &format!("INSERT INTO `{db}`.meta (key, value) FORMAT JSONEachRow"),
                json!({"key": "format", "value": ddl::FORMAT})
                    .to_string()
                    .as_bytes(),
                &[],
            )?,
        }
        let ttl = match retention_days {
            Some(days) if ddl::has_ttl(&server_version) => {
                self.ddl(
                    "clickhouse: set retention ttl",
                    &ddl::ttl(db, &self.layout, days),
                )?;
                true
            }
            _ => false,
        };
        Ok(Migration {
            server_version,
            ttl,
        })
    }

    /// Run a DDL statement. `ON CLUSTER`, ClickHouse answers once every server ran it (or with
    /// the hosts that did not, after [`DDL_TASK_TIMEOUT_SECONDS`]); `wait_end_of_query` holds
    /// the answer back until then, so a failure on any host is an error status, not a 200 whose
    /// body ends in an exception.
    fn ddl(&self, op: &'static str, sql: &str) -> Result<String, StoreError> {
        match self.layout {
            ddl::Layout::Single => self.client.execute(op, sql),
            ddl::Layout::Cluster { .. } => self.client.execute_with(
                op,
                sql,
                &[
                    ("distributed_ddl_task_timeout", DDL_TASK_TIMEOUT_SECONDS),
                    ("wait_end_of_query", "1"),
                ],
            ),
        }
    }

    /// Refuse tables of the other layout: `CREATE TABLE IF NOT EXISTS` keeps an existing
    /// `events`, so a single-server store opened with `clickhouse_cluster` set (or the reverse)
    /// would otherwise go on quietly with the wrong engine.
    fn check_layout(&self) -> Result<(), StoreError> {
        let engine = self.client.execute(
            "clickhouse: check table layout",
            &format!(
                "SELECT engine FROM system.tables WHERE database = {} AND name = 'events' \
                 FORMAT TabSeparated",
                quote(&self.db)
            ),
        )?;
        let engine = engine.trim();
        let want = self.layout.events_engine();
        if engine == want {
            return Ok(());
        }
        Err(failed(
            "clickhouse: check table layout",
            match &self.layout {
                ddl::Layout::Single => format!(
                    "`{}`.events is a {engine} table, not {want}: the database holds a cluster \
                     layout; set clickhouse_cluster",
                    self.db
                ),
                ddl::Layout::Cluster { name } => format!(
                    "`{}`.events is a {engine} table, not {want}: the database holds the \
                     single-server layout, which clickhouse_cluster = {name:?} cannot take over \
                     (create the cluster layout in a new database and import an export into it)",
                    self.db
                ),
            },
        ))
    }

    /// Refuse a database that is not a Sieve store of this format (for the read-only tools,
    /// which never create anything).
    pub fn check_format(&self) -> Result<(), StoreError> {
        match self.format()? {
            Some(f) if f == ddl::FORMAT => Ok(()),
            Some(other) => Err(failed(
                "clickhouse: store format",
                format!("unsupported store format {other:?}"),
            )),
            None => Err(failed(
                "clickhouse: store format",
                "not a Sieve store (run `sieve-collector migrate`)",
            )),
        }
    }

    fn format(&self) -> Result<Option<String>, StoreError> {
        let text = self.client.execute(
            "clickhouse: read store format",
            &format!(
                "SELECT value FROM `{}`.meta WHERE key = 'format' LIMIT 1 FORMAT TabSeparated",
                self.db
            ),
        )?;
        Ok(text.lines().next().map(str::to_owned))
    }

    /// The ids of `ids` already stored, looked up within `[lo, hi]`.
    fn existing(&self, ids: &[&str], lo: i64, hi: i64) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|id| quote(id)).collect();
            let sql = format!(
                "SELECT DISTINCT id FROM `{db}`.events \
                 WHERE time >= toDateTime({lo}) AND time <= toDateTime({hi}) AND id IN ({list}) \
                 FORMAT TabSeparated",
                db = self.db,
                list = list.join(",")
            );
            let text = self
                .client
                .execute("clickhouse: look up stored ids", &sql)?;
            found.extend(text.lines().map(str::to_owned));
        }
        Ok(found)
    }
}

/// A time clamped into what `DateTime` holds.
fn clamp_time(t: i64) -> i64 {
    t.clamp(0, MAX_TIME)
}

/// A report column's value from the event JSON, as SQLite's `CAST(json_extract(..) AS TEXT)`
/// gives it: strings as they are, other values as JSON text, absent or null as NULL.
fn column(data: &Value, pointer: &str) -> Option<String> {
    match data.pointer(pointer) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// One `JSONEachRow` line of the events table.
fn row_json(e: &StoredEvent) -> String {
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    json!({
        "id": e.id,
        "site": e.site,
        "schema": e.schema,
        "epoch": e.epoch,
        "event": e.event,
        "time": clamp_time(e.time),
        "visitor": e.visitor,
        "country": column(&data, "/context/location/country"),
        "page": column(&data, "/context/url"),
        "browser": column(&data, "/context/ua/browser"),
        "data": e.data,
    })
    .to_string()
}

impl GroupStore for ClickHouseStore {
    fn insert_each(&self, events: &[StoredEvent]) -> Result<Vec<bool>, StoreError> {
        // First occurrence of each id in the group is a candidate; later ones are duplicates.
        let mut seen = HashSet::with_capacity(events.len());
        let first: Vec<bool> = events.iter().map(|e| seen.insert(e.id.as_str())).collect();
        let candidates: Vec<&str> = events
            .iter()
            .zip(&first)
            .filter(|(_, f)| **f)
            .map(|(e, _)| e.id.as_str())
            .collect();
        if candidates.is_empty() {
            return Ok(first);
        }
        let lo = events.iter().map(|e| clamp_time(e.time)).min().unwrap_or(0);
        let hi = events
            .iter()
            .map(|e| clamp_time(e.time))
            .max()
            .unwrap_or(MAX_TIME);
        let stored = self.existing(
            &candidates,
            clamp_time(lo - LOOKUP_WINDOW_SECONDS),
            clamp_time(hi + LOOKUP_WINDOW_SECONDS),
        )?;
        let new: Vec<bool> = events
            .iter()
            .zip(first)
            .map(|(e, f)| f && !stored.contains(&e.id))
            .collect();
        let mut body = Vec::new();
        for (e, _) in events.iter().zip(&new).filter(|(_, n)| **n) {
            body.extend_from_slice(row_json(e).as_bytes());
            body.push(b'\n');
        }
        if !body.is_empty() {
            // Through a `Distributed` table, a synchronous insert: the 200 means every shard
            // concerned has written its rows. Set on the statement, not left to the profile.
            let settings: &[(&str, &str)] = match self.layout {
                ddl::Layout::Single => &[],
                ddl::Layout::Cluster { .. } => &[("insert_distributed_sync", "1")],
            };
            self.client.insert(
                "clickhouse: insert events",
                &format!(
                    "INSERT INTO `{}`.events \
                     (id, site, schema, epoch, event, time, visitor, country, page, browser, data) \
                     FORMAT JSONEachRow",
                    self.db
                ),
                &body,
                settings,
            )?;
        }
        Ok(new)
    }
}

impl Store for ClickHouseStore {
    fn register_schema(&self, schema: &SchemaRecord) -> Result<(), StoreError> {
        let SchemaRecord {
            fingerprint,
            site,
            version,
            body,
            first_seen,
        } = schema;
        let known = self.client.execute(
            "clickhouse: look up schema",
            &format!(
                "SELECT count() FROM `{}`.schemas WHERE fingerprint = {} FORMAT TabSeparated",
                self.db,
                quote(fingerprint)
            ),
        )?;
        if known.trim() != "0" {
            return Ok(());
        }
        // Two collectors starting at once may both insert: readers keep the earliest.
        self.client.insert(
            "clickhouse: register schema",
            &format!(
                "INSERT INTO `{}`.schemas (fingerprint, site, version, body, first_seen) \
                 FORMAT JSONEachRow",
                self.db
            ),
            json!({"fingerprint": fingerprint, "site": site, "version": version,
                   "body": body, "first_seen": first_seen})
            .to_string()
            .as_bytes(),
            &[],
        )
    }

    fn delete_before(&self, cutoff: i64) -> Result<usize, StoreError> {
        if cutoff <= 0 {
            return Ok(0);
        }
        let cutoff = clamp_time(cutoff);
        let text = self.client.execute(
            "clickhouse: count old events",
            &format!(
                "SELECT count() FROM `{}`.events WHERE time < toDateTime({cutoff}) FORMAT TabSeparated",
                self.db
            ),
        )?;
        let old: usize = text.trim().parse().unwrap_or(0);
        if old > 0 {
            // A mutation: ClickHouse rewrites the affected parts in the background, so rows
            // disappear shortly after this returns, not at once. On a cluster it goes to every
            // shard's `events_local` (a `Distributed` table takes no mutations).
            self.ddl(
                "clickhouse: delete old events",
                &ddl::delete_before(&self.db, &self.layout, cutoff),
            )?;
        }
        Ok(old)
    }

    fn health(&self) -> Result<(), StoreError> {
        self.client.execute(
            "clickhouse: health check",
            &format!("SELECT count() FROM `{}`.meta", self.db),
        )?;
        Ok(())
    }
}

/// `time` within `[from, to)`, or `None` when no stored time can be in it.
fn time_range(from: i64, to: i64) -> Option<String> {
    let lo = from.max(0);
    if lo >= to || lo > MAX_TIME {
        return None;
    }
    let mut sql = format!("time >= toDateTime({lo})");
    if to <= MAX_TIME {
        sql.push_str(&format!(" AND time < toDateTime({to})"));
    }
    Some(sql)
}

/// The group key of a report dimension, as ClickHouse SQL over the events table's columns.
/// Constants only, never built from input.
fn key_sql(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Event => "event",
        Dimension::Day => "toString(toDate(time))",
        Dimension::Country => "country",
        Dimension::Page => "page",
        Dimension::Browser => "browser",
    }
}

/// A JSON number ClickHouse may print quoted (64-bit integers are, by default).
fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn parse_row(op: &'static str, line: &str) -> Result<Value, StoreError> {
    serde_json::from_str(line).map_err(|_| failed(op, "clickhouse sent a row that is not JSON"))
}

#[derive(Deserialize)]
struct EventRow {
    id: String,
    site: String,
    schema: String,
    epoch: String,
    event: String,
    t: u32,
    visitor: Option<String>,
    data: String,
}

impl StoreRead for ClickHouseStore {
    fn schemas(&self) -> Result<Vec<SchemaRecord>, StoreError> {
        let sql = format!(
            "SELECT fingerprint, argMin(site, first_seen) AS s_site, \
                    argMin(version, first_seen) AS s_version, argMin(body, first_seen) AS s_body, \
                    min(first_seen) AS s_first \
             FROM `{}`.schemas GROUP BY fingerprint ORDER BY s_first, fingerprint \
             FORMAT JSONEachRow",
            self.db
        );
        let mut out = Vec::new();
        self.client
            .lines("clickhouse: schemas", &sql, &mut |line| {
                let v = parse_row("clickhouse: schemas", line)?;
                let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                out.push(SchemaRecord {
                    fingerprint: text("fingerprint"),
                    site: text("s_site"),
                    version: text("s_version"),
                    body: text("s_body"),
                    first_seen: number(&v["s_first"]).unwrap_or(0),
                });
                Ok(())
            })?;
        Ok(out)
    }

    fn counts_by_schema(&self) -> Result<Vec<SchemaCount>, StoreError> {
        let versions: HashMap<String, String> = self
            .schemas()?
            .into_iter()
            .map(|s| (s.fingerprint, s.version))
            .collect();
        let sql = format!(
            "SELECT schema, uniqExact(id) AS n, toUInt32(min(time)) AS t_first, \
                    toUInt32(max(time)) AS t_last \
             FROM `{}`.events GROUP BY schema ORDER BY t_first, schema FORMAT JSONEachRow",
            self.db
        );
        let mut out = Vec::new();
        self.client
            .lines("clickhouse: counts by schema", &sql, &mut |line| {
                let v = parse_row("clickhouse: counts by schema", line)?;
                let fingerprint = v["schema"].as_str().unwrap_or_default().to_owned();
                out.push(SchemaCount {
                    version: versions.get(&fingerprint).cloned(),
                    fingerprint,
                    events: number(&v["n"])
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0),
                    first: number(&v["t_first"]).unwrap_or(0),
                    last: number(&v["t_last"]).unwrap_or(0),
                });
                Ok(())
            })?;
        Ok(out)
    }

    fn scan(
        &self,
        from: i64,
        to: i64,
        visit: &mut dyn FnMut(StoredEvent) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let Some(range) = time_range(from, to) else {
            return Ok(());
        };
        // `LIMIT 1 BY id`: one row per id even before duplicate copies have merged.
        let sql = format!(
            "SELECT id, site, schema, epoch, event, toUInt32(time) AS t, visitor, data \
             FROM `{}`.events WHERE {range} ORDER BY t, id LIMIT 1 BY id FORMAT JSONEachRow",
            self.db
        );
        self.client.lines("clickhouse: scan", &sql, &mut |line| {
            let row: EventRow = serde_json::from_str(line).map_err(|_| {
                failed(
                    "clickhouse: scan",
                    "clickhouse sent a row that is not an event",
                )
            })?;
            visit(StoredEvent {
                id: row.id,
                site: row.site,
                schema: row.schema,
                epoch: row.epoch,
                event: row.event,
                time: i64::from(row.t),
                visitor: row.visitor,
                data: row.data,
            })
        })
    }

    fn aggregate(
        &self,
        dimension: Dimension,
        from: i64,
        to: i64,
    ) -> Result<Vec<Group>, StoreError> {
        let Some(range) = time_range(from, to) else {
            return Ok(Vec::new());
        };
        // uniqExact(id), not count(): copies of one event not yet merged count once.
        // uniqExact(visitor) skips NULLs, as COUNT(DISTINCT visitor) does in SQLite.
        let sql = format!(
            "SELECT ifNull({key}, {none}) AS k, uniqExact(id) AS n, uniqExact(visitor) AS v \
             FROM `{db}`.events WHERE {range} GROUP BY k ORDER BY n DESC, k FORMAT JSONEachRow",
            key = key_sql(dimension),
            none = quote(NONE_KEY),
            db = self.db,
        );
        let mut out = Vec::new();
        self.client
            .lines("clickhouse: aggregate", &sql, &mut |line| {
                let v = parse_row("clickhouse: aggregate", line)?;
                let count = |k: &str| {
                    number(&v[k])
                        .and_then(|n| u64::try_from(n).ok())
                        .unwrap_or(0)
                };
                out.push(Group {
                    key: v["k"].as_str().unwrap_or(NONE_KEY).to_owned(),
                    events: count("n"),
                    visitors: count("v"),
                });
                Ok(())
            })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_range_clamps_to_datetime() {
        assert_eq!(
            time_range(i64::MIN, i64::MAX).as_deref(),
            Some("time >= toDateTime(0)")
        );
        assert_eq!(
            time_range(10, 20).as_deref(),
            Some("time >= toDateTime(10) AND time < toDateTime(20)")
        );
        assert_eq!(time_range(20, 20), None);
        assert_eq!(time_range(i64::MIN, 0), None);
    }

    #[test]
    fn report_columns_come_from_the_event_json() {
        let data: Value = serde_json::from_str(
            r#"{"context":{"url":"https://a.example/x","location":{"country":"FR"},"ua":{"browser":"Firefox"}},"props":{"n":3}}"#,
        )
        .expect("json");
        assert_eq!(
            column(&data, "/context/location/country").as_deref(),
            Some("FR")
        );
        assert_eq!(
            column(&data, "/context/ua/browser").as_deref(),
            Some("Firefox")
        );
        assert_eq!(column(&data, "/props/n").as_deref(), Some("3"));
        assert_eq!(column(&data, "/context/referrer"), None);
    }
}

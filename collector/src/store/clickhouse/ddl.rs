//! The ClickHouse tables, created and migrated by the collector (at `serve` start-up and by
//! `sieve-collector migrate`), never by hand.
//!
//! The statements keep to what both Debian's clickhouse-server 18.16 and current ClickHouse
//! accept: `DateTime('UTC')`, `String`, `Nullable`, the MergeTree family, `IF NOT EXISTS`,
//! and on a cluster `ON CLUSTER`, the `Replicated*` engines with `{shard}`/`{replica}` macros
//! and `Distributed`. Retention by `TTL` is added only where the server has it (19.6 and
//! later); everywhere, [`super::ClickHouseStore`]'s `delete_before` also deletes old rows with
//! `ALTER TABLE ... DELETE`, so retention holds either way.
//!
//! Two layouts ([`Layout`]): one server, or a cluster. The single-server statements are the
//! ones this store has always issued (a test pins them), so existing stores stay as they are.
//! Nothing here creates the cluster itself: `remote_servers`, ZooKeeper and the macros are the
//! operator's server configuration.

/// The store format this code writes and reads, kept in the `meta` table.
pub const FORMAT: &str = "1";

/// Where the tables live, from the `clickhouse_cluster` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One server: plain `MergeTree`-family tables, no ZooKeeper.
    Single,
    /// A cluster named in the servers' `remote_servers`, with ZooKeeper, `<distributed_ddl>`
    /// and the `{shard}` and `{replica}` macros on every server. Every statement runs
    /// `ON CLUSTER`, so one `migrate` reaches every server.
    Cluster {
        /// The cluster's name, an identifier.
        name: String,
    },
}

impl Layout {
    /// `ON CLUSTER `name`` with a leading space, or nothing on one server.
    fn on_cluster(&self) -> String {
        match self {
            Layout::Single => String::new(),
            Layout::Cluster { name } => format!(" ON CLUSTER `{name}`"),
        }
    }

    /// The engine `events` must have in this layout (`system.tables.engine`).
    pub fn events_engine(&self) -> &'static str {
        match self {
            Layout::Single => "ReplacingMergeTree",
            Layout::Cluster { .. } => "Distributed",
        }
    }

    /// The table that holds the event rows: `events` on one server, each server's
    /// `events_local` on a cluster (`events` is then the `Distributed` table over them).
    pub fn events_storage(&self) -> &'static str {
        match self {
            Layout::Single => "events",
            Layout::Cluster { .. } => "events_local",
        }
    }
}

/// The events table's columns.
const EVENT_COLUMNS: &str = "(
    id      String,              -- 32 hex: the SDK's event id
    site    String,
    schema  String,              -- 64 hex: fingerprint of the schema it was verified under
    epoch   String,              -- key epoch whose pepper re-keyed the pseudonyms
    event   String,
    time    DateTime('UTC'),     -- truncated event time
    visitor Nullable(String),    -- cookieless daily visitor pseudonym
    country Nullable(String),    -- context.location.country, for reports
    page    Nullable(String),    -- context.url, for reports
    browser Nullable(String),    -- context.ua.browser, for reports
    data    String               -- clean event JSON, pseudonyms re-keyed
)";

/// The events table's partitioning and order.
const EVENT_KEYS: &str = "PARTITION BY toYYYYMMDD(time)
ORDER BY (site, event, time, id)";

/// Schema versions, one row per registration; readers keep the earliest per fingerprint.
const SCHEMA_COLUMNS: &str = "(
    fingerprint String,
    site        String,
    version     String,
    body        String,
    first_seen  Int64
)";

/// Store metadata: `format`.
const META_COLUMNS: &str = "(key String, value String)";

/// `CREATE DATABASE`.
pub fn database(db: &str, layout: &Layout) -> String {
    format!(
        "CREATE DATABASE IF NOT EXISTS `{db}`{}",
        layout.on_cluster()
    )
}

/// The statements that create the tables, in order, each with what it does (for errors).
///
/// Events: `ReplacingMergeTree` ordered by `(site, event, time, id)`: the order serves the
/// common queries (one site, one event, a time range) and makes rows with the same id (a
/// batch inserted by two collectors at once) collapse when parts merge. Until they merge,
/// and when two copies differ in time, reads de-duplicate by id themselves (`uniqExact(id)`,
/// `LIMIT 1 BY id`). Partitioned by UTC day: retention drops whole days, and a time range
/// reads only its days. `country`, `page` and `browser` are copied out of `data` at insert so
/// reports group by plain columns (18.16 has no JSON functions for nested paths).
///
/// On a cluster the rows live in `events_local`, replicated within each shard, and `events`
/// is a `Distributed` table over them, sharded by `cityHash64(id)`: every copy of one event
/// lands on one shard, where the replacing merge collapses it, and the per-shard
/// de-duplication of reads (`LIMIT 1 BY id` runs on each shard) is exact.
///
/// `schemas` and `meta` are tiny and read by every collector through whichever server it
/// reaches, so on a cluster each is one replicated table with a replica on every server of
/// every shard (a ZooKeeper path without `{shard}`, replica names `{shard}-{replica}`), not
/// sharded: any server answers from its own full copy.
pub fn tables(db: &str, layout: &Layout) -> Vec<(&'static str, String)> {
    match layout {
        Layout::Single => vec![
            (
                "clickhouse: create events table",
                format!(
                    "CREATE TABLE IF NOT EXISTS `{db}`.events {EVENT_COLUMNS} \
                     ENGINE = ReplacingMergeTree()\n{EVENT_KEYS}"
                ),
            ),
            (
                "clickhouse: create schemas table",
                format!(
                    "CREATE TABLE IF NOT EXISTS `{db}`.schemas {SCHEMA_COLUMNS} \
                     ENGINE = MergeTree() ORDER BY fingerprint"
                ),
            ),
            (
                "clickhouse: create meta table",
                format!(
                    "CREATE TABLE IF NOT EXISTS `{db}`.meta {META_COLUMNS} \
                     ENGINE = ReplacingMergeTree() ORDER BY key"
                ),
            ),
        ],
        Layout::Cluster { name } => {
            let on = layout.on_cluster();
            vec![
                (
                    "clickhouse: create events_local tables",
                    format!(
                        "CREATE TABLE IF NOT EXISTS `{db}`.events_local{on} {EVENT_COLUMNS} \
                         ENGINE = ReplicatedReplacingMergeTree(\
                         '/clickhouse/tables/{{shard}}/{db}/events', '{{replica}}')\n{EVENT_KEYS}"
                    ),
                ),
                (
                    "clickhouse: create distributed events table",
                    format!(
                        "CREATE TABLE IF NOT EXISTS `{db}`.events{on} {EVENT_COLUMNS} \
                         ENGINE = Distributed('{name}', '{db}', 'events_local', cityHash64(id))"
                    ),
                ),
                (
                    "clickhouse: create schemas tables",
                    format!(
                        "CREATE TABLE IF NOT EXISTS `{db}`.schemas{on} {SCHEMA_COLUMNS} \
                         ENGINE = ReplicatedMergeTree(\
                         '/clickhouse/tables/all/{db}/schemas', '{{shard}}-{{replica}}') \
                         ORDER BY fingerprint"
                    ),
                ),
                (
                    "clickhouse: create meta tables",
                    format!(
                        "CREATE TABLE IF NOT EXISTS `{db}`.meta{on} {META_COLUMNS} \
                         ENGINE = ReplicatedReplacingMergeTree(\
                         '/clickhouse/tables/all/{db}/meta', '{{shard}}-{{replica}}') \
                         ORDER BY key"
                    ),
                ),
            ]
        }
    }
}

/// `ALTER ... MODIFY TTL` for servers that have TTL, on the table that holds the rows.
pub fn ttl(db: &str, layout: &Layout, retention_days: u32) -> String {
    format!(
        "ALTER TABLE `{db}`.{}{} MODIFY TTL time + INTERVAL {retention_days} DAY",
        layout.events_storage(),
        layout.on_cluster()
    )
}

/// Retention on every server version: a mutation deleting rows before `cutoff` (unix
/// seconds within `DateTime`'s range), on the table that holds the rows. On a cluster it runs
/// once per shard (ClickHouse sends an `ALTER` of a replicated table to one replica of each
/// shard, and replication carries it to the others).
pub fn delete_before(db: &str, layout: &Layout, cutoff: i64) -> String {
    format!(
        "ALTER TABLE `{db}`.{}{} DELETE WHERE time < toDateTime({cutoff})",
        layout.events_storage(),
        layout.on_cluster()
    )
}

/// Whether a `version()` answer (`18.16.1`, `24.8.4.13`) is a server with table TTL (19.6+).
pub fn has_ttl(version: &str) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (19, 6)
}

/// A database or cluster name that can be put into SQL as an identifier: letters, digits,
/// `_`, not starting with a digit.
pub fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_only_from_19_6() {
        assert!(!has_ttl("18.16.1"));
        assert!(!has_ttl("19.5.3.8"));
        assert!(has_ttl("19.6.2.11"));
        assert!(has_ttl("24.8.4.13"));
        assert!(!has_ttl("garbage"));
    }

    /// The single-server statements as they were before clusters existed: a store created by
    /// an older collector and one created now are the same.
    #[test]
    fn single_server_layout_is_unchanged() {
        let events = "CREATE TABLE IF NOT EXISTS `sieve`.events (
    id      String,              -- 32 hex: the SDK's event id
    site    String,
    schema  String,              -- 64 hex: fingerprint of the schema it was verified under
    epoch   String,              -- key epoch whose pepper re-keyed the pseudonyms
    event   String,
    time    DateTime('UTC'),     -- truncated event time
    visitor Nullable(String),    -- cookieless daily visitor pseudonym
    country Nullable(String),    -- context.location.country, for reports
    page    Nullable(String),    -- context.url, for reports
    browser Nullable(String),    -- context.ua.browser, for reports
    data    String               -- clean event JSON, pseudonyms re-keyed
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(time)
ORDER BY (site, event, time, id)";
        let schemas = "CREATE TABLE IF NOT EXISTS `sieve`.schemas (
    fingerprint String,
    site        String,
    version     String,
    body        String,
    first_seen  Int64
) ENGINE = MergeTree() ORDER BY fingerprint";
        let meta = "CREATE TABLE IF NOT EXISTS `sieve`.meta (key String, value String) \
                    ENGINE = ReplacingMergeTree() ORDER BY key";
        let single = Layout::Single;
        assert_eq!(
            database("sieve", &single),
            "CREATE DATABASE IF NOT EXISTS `sieve`"
        );
        let sql: Vec<String> = tables("sieve", &single)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        assert_eq!(sql, [events, schemas, meta]);
        assert_eq!(
            ttl("sieve", &single, 30),
            "ALTER TABLE `sieve`.events MODIFY TTL time + INTERVAL 30 DAY"
        );
        assert_eq!(
            delete_before("sieve", &single, 86_400),
            "ALTER TABLE `sieve`.events DELETE WHERE time < toDateTime(86400)"
        );
    }

    #[test]
    fn cluster_layout_shards_events_by_id_and_replicates_the_rest_everywhere() {
        let c = Layout::Cluster {
            name: "prod".into(),
        };
        assert_eq!(
            database("sieve", &c),
            "CREATE DATABASE IF NOT EXISTS `sieve` ON CLUSTER `prod`"
        );
        let sql: Vec<String> = tables("sieve", &c).into_iter().map(|(_, s)| s).collect();
        assert!(
            sql[0]
                .starts_with("CREATE TABLE IF NOT EXISTS `sieve`.events_local ON CLUSTER `prod` (")
        );
        assert!(sql[0].ends_with(
            ") ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/sieve/events', '{replica}')\n\
             PARTITION BY toYYYYMMDD(time)\nORDER BY (site, event, time, id)"
        ), "{}", sql[0]);
        assert!(
            sql[1].starts_with("CREATE TABLE IF NOT EXISTS `sieve`.events ON CLUSTER `prod` (")
        );
        assert!(
            sql[1].ends_with(
                ") ENGINE = Distributed('prod', 'sieve', 'events_local', cityHash64(id))"
            ),
            "{}",
            sql[1]
        );
        assert!(
            sql[2].contains(
                "ReplicatedMergeTree('/clickhouse/tables/all/sieve/schemas', '{shard}-{replica}')"
            ),
            "{}",
            sql[2]
        );
        assert!(sql[3].contains("ReplicatedReplacingMergeTree('/clickhouse/tables/all/sieve/meta', '{shard}-{replica}')"), "{}", sql[3]);
        // The same columns on both tables of the pair.
        let columns =
            |s: &str| s[s.find('(').expect("(")..s.find(") ENGINE").expect("engine")].to_owned();
        assert_eq!(columns(&sql[0]), columns(&sql[1]));
        assert_eq!(
            delete_before("sieve", &c, 86_400),
            "ALTER TABLE `sieve`.events_local ON CLUSTER `prod` DELETE WHERE time < toDateTime(86400)"
        );
        assert_eq!(
            ttl("sieve", &c, 30),
            "ALTER TABLE `sieve`.events_local ON CLUSTER `prod` MODIFY TTL time + INTERVAL 30 DAY"
        );
    }

    #[test]
    fn names_are_identifiers() {
        assert!(valid_identifier("sieve"));
        assert!(valid_identifier("sieve_prod2"));
        for bad in ["", "9x", "a-b", "a`b", "a b", "a;DROP", "a'b"] {
            assert!(!valid_identifier(bad), "{bad}");
        }
    }
}

//! The ClickHouse tables, created and migrated by the collector (at `serve` start-up and by
//! `sieve-collector migrate`), never by hand.
//!
//! The statements keep to what both Debian's clickhouse-server 18.16 and current ClickHouse
//! accept: `DateTime('UTC')`, `String`, `Nullable`, the MergeTree family, `IF NOT EXISTS`.
//! Retention by `TTL` is added only where the server has it (19.6 and later); everywhere,
//! [`super::ClickHouseStore`]'s `delete_before` also deletes old rows with
//! `ALTER TABLE ... DELETE`, so retention holds either way.

/// The store format this code writes and reads, kept in the `meta` table.
pub const FORMAT: &str = "1";

/// Events. `ReplacingMergeTree` ordered by `(site, event, time, id)`: the order serves the
/// common queries (one site, one event, a time range) and makes rows with the same id (a
/// batch inserted by two collectors at once) collapse when parts merge. Until they merge,
/// and when two copies differ in time, reads de-duplicate by id themselves (`uniqExact(id)`,
/// `LIMIT 1 BY id`). Partitioned by UTC day: retention drops whole days, and a time range
/// reads only its days. `country`, `page` and `browser` are copied out of `data` at insert so
/// reports group by plain columns (18.16 has no JSON functions for nested paths).
pub fn events(db: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS `{db}`.events (
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
ORDER BY (site, event, time, id)"
    )
}

/// Schema versions, one row per registration; readers keep the earliest per fingerprint.
pub fn schemas(db: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS `{db}`.schemas (
    fingerprint String,
    site        String,
    version     String,
    body        String,
    first_seen  Int64
) ENGINE = MergeTree() ORDER BY fingerprint"
    )
}

/// Store metadata: `format`.
pub fn meta(db: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS `{db}`.meta (key String, value String) \
         ENGINE = ReplacingMergeTree() ORDER BY key"
    )
}

/// `ALTER ... MODIFY TTL` for servers that have TTL.
pub fn ttl(db: &str, retention_days: u32) -> String {
    format!("ALTER TABLE `{db}`.events MODIFY TTL time + INTERVAL {retention_days} DAY")
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

/// A database name that can be put into SQL as an identifier: letters, digits, `_`, not
/// starting with a digit.
pub fn valid_database(name: &str) -> bool {
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

    #[test]
    fn database_names_are_identifiers() {
        assert!(valid_database("sieve"));
        assert!(valid_database("sieve_prod2"));
        for bad in ["", "9x", "a-b", "a`b", "a b", "a;DROP"] {
            assert!(!valid_database(bad), "{bad}");
        }
    }
}

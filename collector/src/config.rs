//! Configuration in two stages: [`RawConfig`] (an optional TOML file, then command-line flags
//! on top, every field optional) is validated once into [`Config`], whose values are typed and
//! complete. The collector starts with nothing but a schema file: every other value has a
//! default chosen for a single machine.
//!
//! Nothing secret is configured here: the write key is public by nature (it ships in every
//! page), keys live in the key file the collector manages itself, and the ClickHouse password
//! is read from a file or the environment when the store is opened, never from a flag.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::store::StoreConfig;

/// The browser's cap on a `keepalive` fetch or beacon body: a bigger batch could not be sent
/// from a closing page anyway.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest `sqlite_recent_ids`: two generations of 100 million ids are ~3.6 GiB of memory.
pub const MAX_RECENT_IDS: usize = 100_000_000;

/// Everything the config file may say. Field names are the file's keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The schema file.
    pub schema: Option<PathBuf>,
    /// Address to listen on.
    pub listen: Option<String>,
    /// Directory for the event store, key file and write key.
    pub data_dir: Option<PathBuf>,
    /// Key file (default `<data_dir>/keys.json`).
    pub key_file: Option<PathBuf>,
    /// Public, ingest-only write keys accepted on `POST /v1/events`.
    pub write_keys: Option<Vec<String>>,
    /// Origins allowed to send events (CORS), e.g. `https://app.example.com`.
    pub allowed_origins: Option<Vec<String>>,
    /// Largest request body, in bytes (after decompression: 16x this).
    pub max_body_bytes: Option<usize>,
    /// Most events in one batch.
    pub max_events_per_batch: Option<usize>,
    /// Deepest JSON nesting accepted.
    pub max_json_depth: Option<usize>,
    /// Longest string value accepted, in bytes.
    pub max_string_bytes: Option<usize>,
    /// Most properties (or traits) in one event.
    pub max_props_per_event: Option<usize>,
    /// Requests per second allowed per client (token refill rate).
    pub rate_per_second: Option<f64>,
    /// Burst of requests allowed per client.
    pub rate_burst: Option<f64>,
    /// Events that may wait for the store before new batches get 429.
    pub queue_events: Option<usize>,
    /// Batches being read and verified at once; more get 429 at once (load shedding).
    pub max_batches_in_flight: Option<usize>,
    /// Key epochs kept (current included) before older keys are destroyed.
    pub keep_epochs: Option<usize>,
    /// Seconds between retention and key-destruction runs.
    pub housekeeping_seconds: Option<u64>,
    /// Take the client address from the first `X-Forwarded-For` hop (behind a proxy you run).
    pub trust_forwarded_for: Option<bool>,
    /// A directory served at `/demo/` (a single-page app: unknown paths get its `index.html`).
    pub demo_dir: Option<PathBuf>,
    /// The SDK package directory (`wasm/pkg`), served at `/sdk/`.
    pub sdk_dir: Option<PathBuf>,
    /// Which store: `sqlite` (the default: one file in the data directory) or `clickhouse`.
    pub store: Option<StoreKind>,
    /// Ids of recently stored events the SQLite writer remembers to recognise a retried batch
    /// (at least this many, at most twice; ~19 bytes each) [default: 458 752].
    pub sqlite_recent_ids: Option<usize>,
    /// ClickHouse's HTTP endpoint, e.g. `http://127.0.0.1:8123` (store = "clickhouse").
    pub clickhouse_url: Option<String>,
    /// ClickHouse database for Sieve's tables [default: `sieve`].
    pub clickhouse_database: Option<String>,
    /// ClickHouse user [default: `default`].
    pub clickhouse_user: Option<String>,
    /// A file whose first line is the ClickHouse password (mode 0600). Without it the password
    /// comes from the environment variable `SIEVE_CLICKHOUSE_PASSWORD`; never from a flag.
    pub clickhouse_password_file: Option<PathBuf>,
    /// A ClickHouse cluster (a name in the servers' `remote_servers`): `migrate` creates the
    /// replicated and distributed layout `ON CLUSTER` it (docs/scale-out.md). Unset: one server.
    pub clickhouse_cluster: Option<String>,
}

/// The `store` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The embedded SQLite file.
    Sqlite,
    /// ClickHouse over HTTP.
    Clickhouse,
}

/// Validated limits on what one request may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, in bytes, as received.
    pub max_body_bytes: usize,
    /// Largest body after gzip decompression.
    pub max_decompressed_bytes: usize,
    /// Most events in one batch.
    pub max_events_per_batch: usize,
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
    /// Longest string value, in bytes.
    pub max_string_bytes: usize,
    /// Most properties or traits in one event.
    pub max_props_per_event: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_decompressed_bytes: 16 * DEFAULT_MAX_BODY_BYTES,
            max_events_per_batch: 100,
            max_json_depth: 8,
            max_string_bytes: 4 * 1024,
            max_props_per_event: 64,
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The schema file.
    pub schema: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Key file.
    pub key_file: PathBuf,
    /// The store.
    pub store: StoreConfig,
    /// Accepted write keys; empty means "use the generated one in the data directory".
    pub write_keys: Vec<String>,
    /// Allowed origins (`scheme://host[:port]`, no trailing slash).
    pub allowed_origins: Vec<String>,
    /// Request limits.
    pub limits: Limits,
    /// Requests per second per client.
    pub rate_per_second: f64,
    /// Burst per client.
    pub rate_burst: f64,
    /// Queue bound, in events.
    pub queue_events: usize,
    /// Batches being read and verified at once.
    pub max_batches_in_flight: usize,
    /// Key epochs kept.
    pub keep_epochs: usize,
    /// Housekeeping interval.
    pub housekeeping: Duration,
    /// Trust `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// The demo site served at `/demo/`, if any.
    pub demo_dir: Option<PathBuf>,
    /// The SDK package served at `/sdk/`, if any.
    pub sdk_dir: Option<PathBuf>,
}

impl RawConfig {
    /// Read a TOML config file.
    pub fn from_file(path: &Path) -> anyhow::Result<RawConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config {} is not valid", path.display()))
    }

    /// Values set in `over` replace those here (flags over the file).
    pub fn merge(self, over: RawConfig) -> RawConfig {
        macro_rules! pick {
            ($($f:ident),*) => { RawConfig { $($f: over.$f.or(self.$f)),* } };
        }
        pick!(
            schema,
            listen,
            data_dir,
            key_file,
            write_keys,
            allowed_origins,
            max_body_bytes,
            max_events_per_batch,
            max_json_depth,
            max_string_bytes,
            max_props_per_event,
            rate_per_second,
            rate_burst,
            queue_events,
            max_batches_in_flight,
            keep_epochs,
            housekeeping_seconds,
            trust_forwarded_for,
            demo_dir,
            sdk_dir,
            store,
            sqlite_recent_ids,
            clickhouse_url,
            clickhouse_database,
            clickhouse_user,
            clickhouse_password_file,
            clickhouse_cluster
        )
    }

    /// Validate into a [`Config`], naming the setting at fault.
    pub fn validate(self) -> anyhow::Result<Config> {
        // Destructured without `..`: a new setting does not compile until it is validated.
        let RawConfig {
            schema,
            listen,
            data_dir,
            key_file,
            write_keys,
            allowed_origins,
            max_body_bytes,
            max_events_per_batch,
            max_json_depth,
            max_string_bytes,
            max_props_per_event,
            rate_per_second,
            rate_burst,
            queue_events,
            max_batches_in_flight,
            keep_epochs,
            housekeeping_seconds,
            trust_forwarded_for,
            demo_dir,
            sdk_dir,
            store,
            sqlite_recent_ids,
            clickhouse_url,
            clickhouse_database,
            clickhouse_user,
            clickhouse_password_file,
            clickhouse_cluster,
        } = self;
        let Some(schema) = schema else {
            bail!("schema: missing (pass --schema FILE)")
        };
        let listen: SocketAddr = listen
            .as_deref()
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .context("listen: expected an address such as 127.0.0.1:8080")?;
        let data_dir = data_dir
            .unwrap_or_else(|| schema.parent().unwrap_or(Path::new(".")).join("sieve-data"));
        let key_file = key_file.unwrap_or_else(|| data_dir.join("keys.json"));
        let store = match store.unwrap_or(StoreKind::Sqlite) {
            StoreKind::Sqlite => {
                let recent_ids = sqlite_recent_ids.unwrap_or(crate::store::window::GENERATION);
                if !(1..=MAX_RECENT_IDS).contains(&recent_ids) {
                    bail!("sqlite_recent_ids: expected 1 to {MAX_RECENT_IDS}");
                }
                if clickhouse_url.is_some()
                    || clickhouse_database.is_some()
                    || clickhouse_user.is_some()
                    || clickhouse_password_file.is_some()
                    || clickhouse_cluster.is_some()
                {
                    bail!("store: clickhouse_* settings are given but store is not \"clickhouse\"");
                }
                StoreConfig::Sqlite {
                    path: data_dir.join("events.sqlite"),
                    recent_ids,
                }
            }
            StoreKind::Clickhouse => {
                if sqlite_recent_ids.is_some() {
                    bail!("store: sqlite_recent_ids is given but store is \"clickhouse\"");
                }
                let Some(url) = clickhouse_url else {
                    bail!("clickhouse_url: missing (store = \"clickhouse\")")
                };
                let url = reqwest::Url::parse(&url)
                    .ok()
                    .filter(|u| {
                        matches!(u.scheme(), "http" | "https")
                            && u.has_host()
                            && u.username().is_empty()
                            && u.password().is_none()
                    })
                    .context(
                        "clickhouse_url: expected http(s)://host:port, without credentials (the password goes in a file or SIEVE_CLICKHOUSE_PASSWORD)",
                    )?;
                let database = clickhouse_database.unwrap_or_else(|| "sieve".to_owned());
                if !crate::store::clickhouse::ddl::valid_identifier(&database) {
                    bail!(
                        "clickhouse_database: letters, digits and _ only, not starting with a digit"
                    );
                }
                if let Some(cluster) = &clickhouse_cluster
                    && !crate::store::clickhouse::ddl::valid_identifier(cluster)
                {
                    bail!(
                        "clickhouse_cluster: letters, digits and _ only, not starting with a digit"
                    );
                }
                let user = clickhouse_user.unwrap_or_else(|| "default".to_owned());
                if user.is_empty() {
                    bail!("clickhouse_user: empty");
                }
                StoreConfig::ClickHouse {
                    url,
                    database,
                    user,
                    password_file: clickhouse_password_file,
                    cluster: clickhouse_cluster,
                }
            }
        };
        let write_keys = write_keys.unwrap_or_default();
        for k in &write_keys {
            if k.len() < 8
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                bail!(
                    "write_keys: a write key is at least 8 characters of letters, digits, _ and -"
                );
            }
        }
        let allowed_origins = allowed_origins.unwrap_or_default();
        for o in &allowed_origins {
            let ok = (o.starts_with("https://") || o.starts_with("http://"))
                && !o.ends_with('/')
                && o.matches('/').count() == 2;
            if !ok {
                bail!(
                    "allowed_origins: {o:?} is not an origin (scheme://host[:port], no path or trailing slash)"
                );
            }
        }
        let d = Limits::default();
        let max_body_bytes = max_body_bytes.unwrap_or(d.max_body_bytes);
        let limits = Limits {
            max_body_bytes,
            max_decompressed_bytes: 16 * max_body_bytes,
            max_events_per_batch: max_events_per_batch.unwrap_or(d.max_events_per_batch),
            max_json_depth: max_json_depth.unwrap_or(d.max_json_depth),
            max_string_bytes: max_string_bytes.unwrap_or(d.max_string_bytes),
            max_props_per_event: max_props_per_event.unwrap_or(d.max_props_per_event),
        };
        if limits.max_body_bytes < 1024
            || limits.max_events_per_batch == 0
            || limits.max_json_depth < 4
        {
            bail!(
                "limits: max_body_bytes must be at least 1024, max_events_per_batch at least 1, max_json_depth at least 4"
            );
        }
        let rate_per_second = rate_per_second.unwrap_or(50.0);
        let rate_burst = rate_burst.unwrap_or(200.0);
        if !(rate_per_second > 0.0 && rate_burst >= 1.0) {
            bail!("rate_per_second must be positive and rate_burst at least 1");
        }
        let keep_epochs = keep_epochs.unwrap_or(2);
        if keep_epochs == 0 {
            bail!("keep_epochs: at least 1 (the current epoch)");
        }
        Ok(Config {
            schema,
            listen,
            data_dir,
            key_file,
            store,
            write_keys,
            allowed_origins,
            limits,
            rate_per_second,
            rate_burst,
            queue_events: queue_events
                .unwrap_or(20_000)
                .max(limits.max_events_per_batch),
            // Verification is the CPU-heavy step and runs before the write queue: without a
            // bound here an overload piles up bodies in memory instead of being answered 429.
            max_batches_in_flight: max_batches_in_flight.unwrap_or(64).max(1),
            keep_epochs,
            housekeeping: Duration::from_secs(housekeeping_seconds.unwrap_or(3_600).max(1)),
            trust_forwarded_for: trust_forwarded_for.unwrap_or(false),
            // Whether they exist is checked at start-up, where the file system is read.
            demo_dir,
            sdk_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_is_chosen_in_the_file() {
        let file: RawConfig = toml::from_str(
            "schema = \"a.json\"\nstore = \"clickhouse\"\nclickhouse_url = \"http://10.0.0.5:8123\"\nclickhouse_password_file = \"/run/secrets/ch\"",
        )
        .expect("toml");
        let c = file.validate().expect("valid");
        assert_eq!(
            c.store,
            StoreConfig::ClickHouse {
                url: reqwest::Url::parse("http://10.0.0.5:8123").expect("url"),
                database: "sieve".into(),
                user: "default".into(),
                password_file: Some("/run/secrets/ch".into()),
                cluster: None,
            }
        );
        assert!(toml::from_str::<RawConfig>("store = \"postgres\"").is_err());
    }

    #[test]
    fn a_cluster_is_an_identifier() {
        let with = |cluster: &str| {
            toml::from_str::<RawConfig>(&format!(
                "schema = \"a.json\"\nstore = \"clickhouse\"\nclickhouse_url = \"http://ch:8123\"\nclickhouse_cluster = {cluster:?}"
            ))
            .expect("toml")
            .validate()
        };
        match with("sieve_prod").expect("valid").store {
            StoreConfig::ClickHouse { cluster, .. } => {
                assert_eq!(cluster.as_deref(), Some("sieve_prod"));
            }
            other => panic!("{other:?}"),
        }
        for bad in ["", "prod-eu", "a`b", "x' OR 1"] {
            let err = format!("{:#}", with(bad).expect_err(bad));
            assert!(err.starts_with("clickhouse_cluster:"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_schema_alone_is_enough() {
        let c = RawConfig {
            schema: Some("/srv/site/schema.json".into()),
            ..RawConfig::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("/srv/site/sieve-data"));
        assert_eq!(c.key_file, PathBuf::from("/srv/site/sieve-data/keys.json"));
        assert_eq!(c.limits, Limits::default());
    }

    #[test]
    fn flags_override_the_file() {
        let file: RawConfig = toml::from_str(
            "schema = \"a.json\"\nlisten = \"0.0.0.0:9000\"\nmax_events_per_batch = 10",
        )
        .expect("toml");
        let flags = RawConfig {
            listen: Some("127.0.0.1:9001".into()),
            ..RawConfig::default()
        };
        let c = file.merge(flags).validate().expect("valid");
        assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(c.limits.max_events_per_batch, 10);
    }

    /// The example configuration shipped beside the collector parses, so it cannot drift from
    /// the settings this build knows (unknown keys are errors).
    #[test]
    fn the_example_config_is_valid() {
        let raw: RawConfig = toml::from_str(include_str!("../sieve.example.toml"))
            .expect("collector/sieve.example.toml parses");
        raw.validate()
            .expect("collector/sieve.example.toml validates");
    }

    #[test]
    fn errors_name_the_setting() {
        let bad = |raw: RawConfig| format!("{:#}", raw.validate().expect_err("invalid"));
        assert!(bad(RawConfig::default()).starts_with("schema: missing"));
        let s = || Some(PathBuf::from("s.json"));
        assert!(
            bad(RawConfig {
                schema: s(),
                listen: Some("nowhere".into()),
                ..RawConfig::default()
            })
            .starts_with("listen:")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                allowed_origins: Some(vec!["https://a.example/".into()]),
                ..RawConfig::default()
            })
            .starts_with("allowed_origins:")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                write_keys: Some(vec!["short".into()]),
                ..RawConfig::default()
            })
            .starts_with("write_keys:")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                store: Some(StoreKind::Clickhouse),
                ..RawConfig::default()
            })
            .starts_with("clickhouse_url: missing")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                store: Some(StoreKind::Clickhouse),
                clickhouse_url: Some("http://u:pw@ch:8123".into()),
                ..RawConfig::default()
            })
            .starts_with("clickhouse_url:")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                clickhouse_url: Some("http://ch:8123".into()),
                ..RawConfig::default()
            })
            .starts_with("store:")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                clickhouse_cluster: Some("prod".into()),
                ..RawConfig::default()
            })
            .starts_with("store:")
        );
        assert!(
            bad(RawConfig {
                schema: s(),
                store: Some(StoreKind::Clickhouse),
                clickhouse_url: Some("http://ch:8123".into()),
                sqlite_recent_ids: Some(1000),
                ..RawConfig::default()
            })
            .starts_with("store:")
        );
        for n in [0, MAX_RECENT_IDS + 1] {
            assert!(
                bad(RawConfig {
                    schema: s(),
                    sqlite_recent_ids: Some(n),
                    ..RawConfig::default()
                })
                .starts_with("sqlite_recent_ids:")
            );
        }
        let sized = RawConfig {
            schema: s(),
            sqlite_recent_ids: Some(1000),
            ..RawConfig::default()
        }
        .validate()
        .expect("valid");
        assert!(
            matches!(
                sized.store,
                StoreConfig::Sqlite {
                    recent_ids: 1000,
                    ..
                }
            ),
            "{:?}",
            sized.store
        );
        assert!(
            toml::from_str::<RawConfig>("shcema = \"typo.json\"").is_err(),
            "unknown keys are errors"
        );
    }
}

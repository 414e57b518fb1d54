//! The command line: raw flags here, validated values handed to each command.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use sieve_core::inventory::Inventory;
use sieve_core::transform::time::UnixTime;
use sieve_core::{ClientKey, Schema};

use crate::app::{Clock, SystemClock};
use crate::config::RawConfig;
use crate::export::ExportFormat;
use crate::keys::KeysAction;
use crate::store::query::SqliteReader;
use crate::store::{StoreConfig, StoreRead};

/// Sieve's collector and its auditor and operator tools.
#[derive(Debug, Parser)]
#[command(name = "sieve-collector", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Receive events: ingest, config, public manifest, health and metrics over HTTP; with
    /// --demo-dir and --sdk-dir, also the demo site and the SDK package.
    Serve {
        /// The schema (tracking plan) file.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// A TOML config file; flags override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (store, key file, write key) [default: `sieve-data` beside the schema].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// An accepted write key (public, ingest-only); repeat for several.
        #[arg(long = "write-key")]
        write_keys: Vec<String>,
        /// An origin allowed to send events, e.g. https://app.example.com; repeat for several.
        #[arg(long = "allow-origin")]
        allowed_origins: Vec<String>,
        /// Serve this directory at /demo/ (a single-page app: unknown paths get its index.html),
        /// and the first write key at /demo/sieve-demo.json.
        #[arg(long)]
        demo_dir: Option<PathBuf>,
        /// Serve the SDK package directory (`wasm/pkg`, built by scripts/build-sdk) at /sdk/.
        #[arg(long)]
        sdk_dir: Option<PathBuf>,
    },
    /// Show what the browser would send, and what the collector would store, for raw events
    /// read as JSON lines on stdin. Uses a fixed demonstration key and pepper: needs no server
    /// and no key file.
    Preview {
        /// The schema (tracking plan) file.
        #[arg(long)]
        schema: PathBuf,
        /// An epoch's client key (64 hex, public: served in /v1/config), to reproduce the
        /// pseudonyms a browser sent that epoch [default: a fixed demonstration key].
        #[arg(long)]
        client_key: Option<String>,
    },
    /// Print the data inventory of a schema: every field, its treatment, purpose and
    /// retention; with --data-dir, also which schema versions produced the stored rows.
    Audit {
        /// The schema (tracking plan) file.
        #[arg(long)]
        schema: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// A data directory whose store to summarise.
        #[arg(long, conflicts_with = "config")]
        data_dir: Option<PathBuf>,
        /// A collector config file whose store to summarise (SQLite or ClickHouse).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Scan the store for any row its schema version does not allow, and any value that looks
    /// like personal data. Exits 1 on findings.
    Verify {
        #[command(flatten)]
        source: Source,
    },
    /// Export stored events as JSON lines or CSV.
    Export {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        range: TimeRange,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportArg::Jsonl)]
        format: ExportArg,
    },
    /// Counts by event, day, country, page and browser; groups of fewer than k visitors are
    /// suppressed.
    Report {
        #[command(flatten)]
        source: Source,
        #[command(flatten)]
        range: TimeRange,
        /// Smallest group shown, in distinct visitors.
        #[arg(long, default_value_t = 10)]
        k: u64,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Create or migrate the store's tables (ClickHouse: database, tables, TTL where the server
    /// has it; with `clickhouse_cluster`, replicated and distributed tables on every server of
    /// the cluster). `serve` does the same at start-up; this runs it on its own, e.g. before a
    /// rollout of several collectors.
    Migrate {
        /// The collector's config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Load JSON lines written by `export --format jsonl` (stdin) into the configured store.
    /// Event ids are kept: an event imported twice is counted once by every read.
    Import {
        /// The collector's config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// List key epochs (never their bytes), or destroy them.
    Keys {
        /// The schema file (its key epoch: day, week or month).
        #[arg(long)]
        schema: PathBuf,
        /// The data directory holding keys.json.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The key file, if not in the data directory.
        #[arg(long)]
        key_file: Option<PathBuf>,
        #[command(subcommand)]
        action: KeysArg,
    },
}

#[derive(Debug, Subcommand)]
enum KeysArg {
    /// List epochs and their state.
    List,
    /// Destroy one epoch's keys now: its pseudonyms can no longer be linked to anyone.
    Destroy {
        /// The epoch id, e.g. 2026-11-22.
        id: String,
    },
    /// Destroy every epoch older than the newest `keep`.
    DestroyExpired {
        /// Epochs kept, the current one included.
        #[arg(long, default_value_t = 2)]
        keep: usize,
    },
    /// Generate keys for the current and the next epochs now (creating the file if needed):
    /// run on one host, then distribute the file to every collector.
    GenerateAhead {
        /// Epochs after the current one.
        #[arg(long, default_value_t = 7)]
        epochs: usize,
    },
}

/// Which store the read-only tools open.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Source {
    /// The data directory of an embedded (SQLite) store.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// A collector config file: its store (SQLite or ClickHouse) is opened read-only. The
    /// ClickHouse password comes from its file or SIEVE_CLICKHOUSE_PASSWORD.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// The time range of `export` and `report`.
#[derive(Debug, clap::Args)]
struct TimeRange {
    /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// To this time (RFC 3339 or YYYY-MM-DD), exclusive.
    #[arg(long)]
    to: Option<String>,
}

impl TimeRange {
    /// `[from, to)` in unix seconds; an open end is unbounded.
    fn bounds(&self) -> anyhow::Result<(i64, i64)> {
        Ok((
            parse_time("from", self.from.as_deref(), i64::MIN)?,
            parse_time("to", self.to.as_deref(), i64::MAX)?,
        ))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportArg {
    Jsonl,
    Csv,
}

/// Load and validate a schema file, with every problem listed.
pub fn load_schema(path: &Path) -> anyhow::Result<Schema> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading schema {}", path.display()))?;
    Schema::from_json(&text).with_context(|| format!("schema {} is not valid", path.display()))
}

fn open_store(data_dir: &Path) -> anyhow::Result<SqliteReader> {
    let path = data_dir.join("events.sqlite");
    SqliteReader::open(&path).with_context(|| format!("opening store {}", path.display()))
}

/// A validated config file (its schema must load: `migrate` and `import` need its site).
fn load_config(path: &Path) -> anyhow::Result<crate::config::Config> {
    RawConfig::from_file(path)?
        .validate()
        .with_context(|| format!("config {}", path.display()))
}

/// The store a read-only tool looks at: a data directory's SQLite file, or a config's store.
fn open_source(source: &Source) -> anyhow::Result<Box<dyn StoreRead>> {
    match (&source.data_dir, &source.config) {
        (Some(dir), _) => Ok(Box::new(open_store(dir)?)),
        (None, Some(config)) => load_config(config)?
            .store
            .open_reader()
            .context("opening the configured store"),
        (None, None) => anyhow::bail!("give --data-dir or --config"),
    }
}

/// `2026-11-22` or an RFC 3339 time.
fn parse_time(flag: &str, value: Option<&str>, default: i64) -> anyhow::Result<i64> {
    let Some(v) = value else { return Ok(default) };
    let t =
        UnixTime::parse_rfc3339(v).or_else(|| UnixTime::parse_rfc3339(&format!("{v}T00:00:00Z")));
    t.map(|t| t.0)
        .with_context(|| format!("--{flag}: expected YYYY-MM-DD or an RFC 3339 time"))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIEVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            schema,
            config,
            listen,
            data_dir,
            write_keys,
            allowed_origins,
            demo_dir,
            sdk_dir,
        } => {
            init_logging();
            let file = match &config {
                Some(path) => RawConfig::from_file(path)?,
                None => RawConfig::default(),
            };
            let flags = RawConfig {
                schema,
                listen,
                data_dir,
                write_keys: (!write_keys.is_empty()).then_some(write_keys),
                allowed_origins: (!allowed_origins.is_empty()).then_some(allowed_origins),
                demo_dir,
                sdk_dir,
                ..RawConfig::default()
            };
            let config = file.merge(flags).validate()?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?;
            runtime.block_on(crate::serve::serve(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Preview { schema, client_key } => {
            let schema = load_schema(&schema)?;
            let key = match client_key.as_deref() {
                Some(hex) => ClientKey::from_hex(hex)
                    .context("--client-key: expected 64 lowercase hex digits")?,
                None => ClientKey::demonstration(),
            };
            eprintln!(
                "sieve-collector preview: pseudonyms use {} and a fixed demonstration pepper, not any collector's secret pepper",
                if client_key.is_some() {
                    "the given client key"
                } else {
                    "a fixed demonstration key"
                }
            );
            let stdin = std::io::stdin();
            let mut out = std::io::stdout().lock();
            for line in stdin.lock().lines() {
                let line = line.context("reading stdin")?;
                if line.trim().is_empty() {
                    continue;
                }
                let result = crate::preview::preview_line(&schema, &key, &line);
                writeln!(out, "{result}").context("writing stdout")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            schema,
            format,
            data_dir,
            config,
        } => {
            let schema = load_schema(&schema)?;
            let inventory = Inventory::of(&schema);
            let stored = if data_dir.is_some() || config.is_some() {
                let source = Source { data_dir, config };
                Some(open_source(&source)?.counts_by_schema()?)
            } else {
                None
            };
            let mut out = std::io::stdout().lock();
            match format {
                Format::Markdown => {
                    write!(out, "{}", inventory.to_markdown())?;
                    if let Some(counts) = &stored {
                        writeln!(
                            out,
                            "\n## Stored rows by schema version\n\n| fingerprint | version | events | first | last |\n|---|---|---|---|---|"
                        )?;
                        for c in counts {
                            writeln!(
                                out,
                                "| `{}` | {} | {} | {} | {} |",
                                c.fingerprint,
                                c.version.as_deref().unwrap_or("(not recorded)"),
                                c.events,
                                UnixTime(c.first).to_rfc3339(),
                                UnixTime(c.last).to_rfc3339()
                            )?;
                        }
                    }
                }
                Format::Json => {
                    let mut v = serde_json::to_value(&inventory)?;
                    if let Some(counts) = &stored {
                        v["stored_by_schema"] = serde_json::to_value(counts)?;
                    }
                    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                }
                Format::Html => write!(out, "{}", crate::manifest::to_html(&inventory))?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { source } => {
            let store = open_source(&source)?;
            let mut out = std::io::stdout().lock();
            let report = crate::verify::verify_store(&*store, &mut out)?;
            Ok(if report.findings == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Export {
            source,
            range,
            format,
        } => {
            let store = open_source(&source)?;
            let (from, to) = range.bounds()?;
            let format = match format {
                ExportArg::Jsonl => ExportFormat::Jsonl,
                ExportArg::Csv => ExportFormat::Csv,
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let rows = crate::export::export(&*store, from, to, format, &mut out)?;
            out.flush()?;
            eprintln!("exported {rows} events");
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            source,
            range,
            k,
            json,
        } => {
            let store = open_source(&source)?;
            let (from, to) = range.bounds()?;
            let report = crate::report::report(&*store, from, to, k)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { config } => {
            init_logging();
            let config = load_config(&config)?;
            let schema = load_schema(&config.schema)?;
            match &config.store {
                StoreConfig::Sqlite { path, recent_ids } => {
                    let store =
                        crate::store::sqlite::SqliteStore::open_with_window(path, *recent_ids)
                            .with_context(|| format!("opening store {}", path.display()))?;
                    let layout = match store.layout() {
                        crate::store::SqliteLayout::Appended => {
                            "format 2: rows appended, retries recognised by the writer's window of recent ids"
                        }
                        crate::store::SqliteLayout::UniqueId => {
                            "format 1: unique index on the event id (created before 2026-11-23; works as before, writes cost more)"
                        }
                    };
                    println!("sqlite store ready: {} ({layout})", path.display());
                }
                StoreConfig::ClickHouse {
                    url,
                    database,
                    cluster,
                    ..
                } => {
                    let store = config.store.clickhouse()?;
                    let m = store
                        .migrate(Some(schema.retention_days))
                        .context("migrating the clickhouse store")?;
                    let layout = match cluster {
                        Some(name) => format!("on cluster {name} (replicated, distributed)"),
                        None => "on one server".to_owned(),
                    };
                    println!(
                        "clickhouse store ready: {url} database {database} {layout}, server {}, retention {}",
                        m.server_version,
                        if m.ttl {
                            "by TTL and housekeeping"
                        } else {
                            "by housekeeping (ALTER TABLE ... DELETE; this server has no TTL)"
                        }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { config } => {
            init_logging();
            let config = load_config(&config)?;
            let schema = load_schema(&config.schema)?;
            let store = config
                .store
                .open_writer(Some(schema.retention_days))
                .context("opening the configured store")?;
            let stdin = std::io::stdin();
            let report = crate::import::import(&*store, &mut stdin.lock())?;
            eprintln!(
                "imported {} events: {} new, {} already stored",
                report.read,
                report.new,
                report.read - report.new
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys {
            schema,
            data_dir,
            key_file,
            action,
        } => {
            let schema = load_schema(&schema)?;
            let path = match (key_file, data_dir) {
                (Some(k), _) => k,
                (None, Some(d)) => d.join("keys.json"),
                (None, None) => anyhow::bail!("give --data-dir or --key-file"),
            };
            let action = match action {
                KeysArg::List => KeysAction::List,
                KeysArg::Destroy { id } => KeysAction::Destroy { id },
                KeysArg::DestroyExpired { keep } => KeysAction::DestroyExpired { keep },
                KeysArg::GenerateAhead { epochs } => KeysAction::GenerateAhead { epochs },
            };
            let clock: Arc<dyn Clock> = Arc::new(SystemClock);
            let mut out = std::io::stdout().lock();
            crate::keys::keys_command(&path, schema.key_epoch, action, clock.now(), &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

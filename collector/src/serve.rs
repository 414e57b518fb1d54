//! `sieve-collector serve`: build the state from a validated config, open the key ring and the
//! store, start the group-commit writer and housekeeping (retention and key destruction), and
//! serve until SIGINT/SIGTERM, then drain: stop accepting, finish requests in flight, commit
//! what is queued.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use sieve_core::inventory::Inventory;

use crate::app::{AppState, Clock, SystemClock, app};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::writer::{GroupStore, Writer};
use crate::store::{SchemaRecord, StoreConfig};

/// Most distinct clients tracked by the rate limiter: bounds its memory.
const MAX_RATE_CLIENTS: usize = 100_000;

/// Build the shared state for a config (also used by the end-to-end tests).
pub fn build_state(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<AppState>> {
    let text = std::fs::read_to_string(&config.schema)
        .with_context(|| format!("reading schema {}", config.schema.display()))?;
    let schema = sieve_core::Schema::from_json(&text)
        .with_context(|| format!("schema {} is not valid", config.schema.display()))?;
    let schema_json: serde_json::Value = serde_json::from_str(&text).context("schema json")?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;

    let mut keys = KeyRing::open(&config.key_file, schema.key_epoch)
        .with_context(|| format!("opening key file {}", config.key_file.display()))?;
    let now = clock.now();
    let current = keys
        .current(now)
        .context("creating the current epoch's keys")?
        .id
        .clone();
    let destroyed = keys
        .destroy_expired(now, config.keep_epochs)
        .context("destroying expired keys")?;
    tracing::info!(epoch = %current, destroyed = destroyed.len(), "key ring ready");

    let store: Arc<dyn GroupStore> = config
        .store
        .open_writer(Some(schema.retention_days))
        .with_context(|| format!("opening store ({})", describe(&config.store)))?;
    store
        .register_schema(&SchemaRecord {
            fingerprint: schema.fingerprint().to_string(),
            site: schema.site.clone(),
            version: schema.version.clone(),
            body: text,
            first_seen: now.0,
        })
        .context("recording the schema in the store")?;

    let metrics = Arc::new(Metrics::new());
    let writer = Writer::spawn(store.clone(), config.queue_events);
    {
        let m = metrics.clone();
        writer.on_commit(move |took, events| m.commit(took, events));
    }
    let write_keys = if config.write_keys.is_empty() {
        vec![default_write_key(config)?]
    } else {
        config.write_keys.clone()
    };
    let allowed_origins = if config.allowed_origins.is_empty() {
        vec![
            format!("https://{}", schema.site),
            format!("http://{}", config.listen),
        ]
    } else {
        config.allowed_origins.clone()
    };
    for (setting, dir) in [("demo_dir", &config.demo_dir), ("sdk_dir", &config.sdk_dir)] {
        if let Some(dir) = dir {
            anyhow::ensure!(
                dir.is_dir(),
                "{setting}: {} is not a directory",
                dir.display()
            );
        }
    }
    let inventory = Inventory::of(&schema);
    Ok(Arc::new(AppState {
        manifest_json: serde_json::to_string_pretty(&inventory).context("manifest")?,
        manifest_html: crate::manifest::to_html(&inventory),
        schema: Arc::new(schema),
        schema_json,
        keys: Mutex::new(keys),
        writer,
        store: store.clone(),
        ingest_slots: tokio::sync::Semaphore::new(config.max_batches_in_flight),
        limiter: RateLimiter::new(config.rate_per_second, config.rate_burst, MAX_RATE_CLIENTS),
        metrics,
        limits: config.limits,
        write_keys,
        allowed_origins,
        trust_forwarded_for: config.trust_forwarded_for,
        keep_epochs: config.keep_epochs,
        clock,
        demo_dir: config.demo_dir.clone(),
        sdk_dir: config.sdk_dir.clone(),
    }))
}

/// The store, for messages: the SQLite path or the ClickHouse endpoint and database (never
/// the password).
fn describe(store: &StoreConfig) -> String {
    match store {
        StoreConfig::Sqlite { path, .. } => path.display().to_string(),
        StoreConfig::ClickHouse {
            url,
            database,
            cluster: None,
            ..
        } => format!("clickhouse {url} database {database}"),
        StoreConfig::ClickHouse {
            url,
            database,
            cluster: Some(cluster),
            ..
        } => format!("clickhouse {url} database {database} on cluster {cluster}"),
    }
}

/// The write key when none is configured: generated once and kept in the data directory. It
/// is public (it ships in every page), so printing it is fine.
fn default_write_key(config: &Config) -> anyhow::Result<String> {
    let path = config.data_dir.join("write-key");
    if let Ok(k) = std::fs::read_to_string(&path) {
        return Ok(k.trim().to_owned());
    }
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key = format!(
        "wk_{}",
        sieve_core::transform::identifier::encode_hex(&bytes)
    );
    std::fs::write(&path, &key).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

/// Run the server until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Off the async workers: opening a ClickHouse store makes blocking HTTP calls.
    let state = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || build_state(&config, Arc::new(SystemClock)))
            .await
            .context("start-up task")??
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr().context("local address")?;
    tracing::info!(%addr, site = %state.schema.site, fingerprint = %state.schema.fingerprint(), write_key = %state.write_keys[0], "listening");
    // The address on stdout, machine-readable, for scripts and tests that bind port 0.
    println!("listening on http://{addr}");
    if state.demo_dir.is_some() {
        tracing::info!("demo site at http://{addr}/demo/");
    }

    let housekeeping = tokio::spawn(housekeeping(state.clone(), config.housekeeping));
    let router = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    housekeeping.abort();
    tracing::info!("draining the write queue");
    let writer = state.writer.clone();
    tokio::task::spawn_blocking(move || writer.shutdown())
        .await
        .context("draining")?;
    tracing::info!("stopped");
    Ok(())
}

/// Retention and key destruction, on a schedule.
async fn housekeeping(state: Arc<AppState>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let cutoff = now.0 - i64::from(state.schema.retention_days) * 86_400;
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || store.delete_before(cutoff)).await {
            Ok(Ok(n)) => tracing::info!(
                deleted = n,
                retention_days = state.schema.retention_days,
                "retention applied"
            ),
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            Err(e) => tracing::error!(error = %e, "retention task failed"),
        }
        let destroyed = {
            let mut ring = state
                .keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            ring.destroy_expired(now, state.keep_epochs)
        };
        match destroyed {
            Ok(ids) if !ids.is_empty() => tracing::info!(epochs = ?ids, "key epochs destroyed"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "key destruction failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

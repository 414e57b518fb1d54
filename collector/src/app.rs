//! The HTTP service: `fn app(state) -> Router`, so tests drive it with `oneshot` and the
//! binary serves it on a socket.
//!
//! Routes: `GET /v1/config` (schema, fingerprint, epoch client key), `POST /v1/events` (+ its
//! CORS preflight), `GET /.well-known/sieve-manifest.json` and `.html` (the public data
//! inventory), `GET /healthz`, `GET /metrics`; and, when configured, the demo site and the SDK
//! package as static files ([`crate::site`]).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use sieve_core::Schema;
use sieve_core::transform::time::UnixTime;

use crate::config::Limits;
use crate::error::AppError;
use crate::ingest;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::writer::Writer;
use crate::store::{Store, StoreError};

/// Where "now" comes from: the system clock in the binary, a fixed one in tests.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The schema events are verified under.
    pub schema: Arc<Schema>,
    /// The schema document, served to browsers.
    pub schema_json: Value,
    /// Client keys and peppers per epoch.
    pub keys: Mutex<KeyRing>,
    /// The group-commit writer.
    pub writer: Writer,
    /// The store, for health checks.
    pub store: Arc<dyn Store>,
    /// Per-client rate limits.
    pub limiter: RateLimiter,
    /// Batches being read, verified and committed at once; beyond this, 429 at once.
    pub ingest_slots: tokio::sync::Semaphore,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Request limits.
    pub limits: Limits,
    /// Accepted write keys.
    pub write_keys: Vec<String>,
    /// Origins allowed to send events.
    pub allowed_origins: Vec<String>,
    /// Take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Key epochs kept before older keys are destroyed.
    pub keep_epochs: usize,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The inventory as JSON.
    pub manifest_json: String,
    /// The inventory as a page.
    pub manifest_html: String,
    /// The demo site served at `/demo/`, if any. Its pages are same-origin senders.
    pub demo_dir: Option<PathBuf>,
    /// The SDK package served at `/sdk/`, if any.
    pub sdk_dir: Option<PathBuf>,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// The key ring, re-read first if the `keys` command changed the file (so a destroy reaches a
/// running server at its next request).
fn key_ring(st: &AppState) -> std::sync::MutexGuard<'_, KeyRing> {
    let mut ring = st
        .keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(e) = ring.reload_if_changed() {
        // Keep serving with the keys in memory, but say so: a destroy may not have reached us.
        tracing::warn!(error = %e, "key file reload failed; using the keys in memory");
    }
    ring
}

/// The router.
pub fn app(state: Arc<AppState>) -> Router {
    let site = crate::site::routes(&state);
    Router::new()
        .route("/v1/config", get(config))
        .route("/v1/events", axum::routing::post(events).options(preflight))
        .route("/.well-known/sieve-manifest.json", get(manifest_json))
        .route("/.well-known/sieve-manifest.html", get(manifest_html))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(site)
}

/// How long browsers may cache `/v1/config`: until the epoch ends, but at most an hour, so a
/// schema change reaches every visitor within the hour.
const CONFIG_MAX_AGE_SECS: i64 = 3_600;

async fn config(State(st): State<Arc<AppState>>) -> Response {
    let now = st.clock.now();
    let keys = {
        let mut ring = key_ring(&st);
        ring.current(now)
            .map(|k| (k.id.clone(), k.start, k.end, k.client.to_hex()))
    };
    let Ok((id, start, end, client_key)) = keys else {
        tracing::error!("key ring unavailable");
        return AppError::StoreDown.into_response();
    };
    let body = json!({
        "site": st.schema.site,
        "fingerprint": st.schema.fingerprint().to_string(),
        "schema": st.schema_json,
        "epoch": {"id": id, "start": start.to_rfc3339(), "expires": end.to_rfc3339()},
        "client_key": client_key,
        "wire_version": sieve_core::wire::WIRE_VERSION,
    });
    let max_age = (end.0 - now.0).clamp(0, CONFIG_MAX_AGE_SECS);
    let mut response = axum::Json(body).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    // The config is public (the client key is public by design): any page may read it.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[derive(Debug, Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

/// The write key travels in the query string because `navigator.sendBeacon` cannot set
/// headers; it is public and ingest-only, so that is no leak. A header works too.
fn write_key<'a>(q: &'a KeyQuery, headers: &'a HeaderMap) -> Option<&'a str> {
    q.key
        .as_deref()
        .or_else(|| headers.get("x-sieve-key").and_then(|v| v.to_str().ok()))
}

fn client_ip(st: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if st.trust_forwarded_for {
        let first = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|s| s.trim().parse().ok());
        if let Some(ip) = first {
            return ip;
        }
    }
    peer.ip()
}

/// The CORS origin to echo, if the request's origin is allowed.
fn allowed_origin(st: &AppState, headers: &HeaderMap) -> Result<Option<HeaderValue>, AppError> {
    match headers.get(header::ORIGIN) {
        // No Origin: not a cross-site browser request (a server or a tool); the write key and
        // the re-check still apply.
        None => Ok(None),
        Some(o) => {
            let ok = o.to_str().is_ok_and(|o| {
                st.allowed_origins.iter().any(|a| a == o) || same_origin(st, headers, o)
            });
            if ok {
                Ok(Some(o.clone()))
            } else {
                Err(AppError::Origin)
            }
        }
    }
}

/// A page this collector served itself (the demo) sends from the collector's own origin, which
/// is not known before binding (port 0) or behind a proxy: its `Origin` is the request's
/// `Host` with a scheme. Only when a demo site is served: otherwise no page has this origin, and
/// accepting it would let a DNS-rebinding page pass as one.
fn same_origin(st: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    st.demo_dir.is_some()
        && !host.is_empty()
        && origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

fn with_cors(mut response: Response, origin: Option<HeaderValue>) -> Response {
    if let Some(o) = origin {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    response
}

async fn preflight(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match allowed_origin(&st, &headers) {
        Ok(origin) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, content-encoding, x-sieve-key"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
            with_cors(r, origin)
        }
        Err(e) => {
            st.metrics.refuse(e.code());
            e.into_response()
        }
    }
}

async fn events(
    State(st): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<KeyQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let origin = allowed_origin(&st, &headers);
    let cors = origin.as_ref().ok().cloned().flatten();
    let result = ingest_batch(&st, peer, &q, &headers, origin, body).await;
    let response = match result {
        Ok(body) => {
            st.metrics
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            tracing::info!(
                accepted = body.accepted.len(),
                rejected = body.rejected.len(),
                took_ms = started.elapsed().as_millis() as u64,
                "batch stored"
            );
            axum::Json(body).into_response()
        }
        Err(e) => {
            st.metrics.refuse(e.code());
            // Names the code only: never the client's address, headers or body.
            tracing::info!(
                status = e.status().as_u16(),
                error = e.code(),
                "batch refused"
            );
            e.into_response()
        }
    };
    with_cors(response, cors)
}

async fn ingest_batch(
    st: &AppState,
    peer: SocketAddr,
    q: &KeyQuery,
    headers: &HeaderMap,
    origin: Result<Option<HeaderValue>, AppError>,
    body: Body,
) -> Result<ingest::IngestResponse, AppError> {
    let ip = client_ip(st, peer, headers);
    st.limiter
        .check(ip, Instant::now())
        .map_err(AppError::RateLimited)?;
    // Load shedding: verification is the expensive step, so a bounded number of batches go
    // through it at once and the rest are told to come back, instead of queuing in memory.
    let _slot = st
        .ingest_slots
        .try_acquire()
        .map_err(|_| AppError::Overloaded)?;
    match write_key(q, headers) {
        Some(k) if st.write_keys.iter().any(|w| w == k) => {}
        _ => return Err(AppError::WriteKey),
    }
    origin?;
    let limit = st.limits.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AppError::TooLarge(format!("body over {limit} bytes")))?;
    let body = ingest::decode_body(headers, &bytes, &st.limits)?;
    let batch = ingest::parse_batch(&body, &st.limits)?;

    let now = st.clock.now();
    let (batch_pepper, visitor_pepper) = {
        let mut ring = key_ring(st);
        let current = ring.current(now).map_err(|e| {
            tracing::error!(error = %e, "key ring unavailable");
            AppError::StoreDown
        })?;
        let visitor = current.pepper.clone();
        let batch_keys = ring.get(&batch.envelope.epoch).ok_or_else(|| {
            AppError::BadBatch("epoch: unknown or destroyed key epoch; reload /v1/config".into())
        })?;
        (batch_keys.pepper.clone(), visitor)
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Global Privacy Control or Do Not Track, told by the SDK (`anonymous`, which also works for
    // beacons) or by the browser's own request headers: no visitor id either.
    let signal = |name: &str| headers.get(name).is_some_and(|v| v.as_bytes() == b"1");
    let private = batch.envelope.anonymous || signal("sec-gpc") || signal("dnt");
    let ctx = ingest::Context {
        schema: &st.schema,
        batch_pepper: &batch_pepper,
        visitor_pepper: (!private).then_some(&visitor_pepper),
        epoch: &batch.envelope.epoch,
        ip,
        user_agent,
        received_at: now,
    };
    let (stored, response) = ingest::prepare(&batch, &ctx, &st.limits);
    for r in &response.rejected {
        st.metrics.reject(&r.code);
    }
    if !stored.is_empty() {
        let total = stored.len();
        let done = st.writer.submit(stored).map_err(|e| match e {
            StoreError::Full => AppError::Overloaded,
            _ => AppError::StoreDown,
        })?;
        let new = done.await.map_err(|e| {
            tracing::error!(error = %e, "store commit failed");
            AppError::StoreDown
        })?;
        st.metrics.accepted.inc_by(new as u64);
        st.metrics
            .duplicates
            .inc_by((total - new.min(total)) as u64);
    }
    Ok(response)
}

async fn manifest_json(State(st): State<Arc<AppState>>) -> Response {
    let mut r = (
        [(header::CONTENT_TYPE, "application/json")],
        st.manifest_json.clone(),
    )
        .into_response();
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

async fn manifest_html(State(st): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        st.manifest_html.clone(),
    )
        .into_response()
}

async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    // Off the async workers: a store's health check may be a network round trip.
    let store = st.store.clone();
    let health = tokio::task::spawn_blocking(move || store.health())
        .await
        .unwrap_or(Err(StoreError::Stopped));
    match health {
        Ok(()) => {
            axum::Json(json!({"status": "ok", "queued_events": st.writer.queued()})).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "store_unavailable"})),
            )
                .into_response()
        }
    }
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.encode(st.writer.queued(), st.store.log()),
    )
        .into_response()
}

//! The collector end to end: the router driven with `oneshot` (fixed clock, real SQLite store,
//! real key file), and the real binary on `127.0.0.1:0`, killed with SIGKILL while clients send.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::Server;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sieve_collector::app::{AppState, Clock, app};
use sieve_collector::config::RawConfig;
use sieve_collector::serve::build_state;
use sieve_core::event::CleanOptions;
use sieve_core::transform::time::UnixTime;
use sieve_core::wire::{Batch, Sdk};
use sieve_core::{ClientKey, EventId, RawEvent, Schema, clean_event};
use tower::ServiceExt;

const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/schema/example.json");
const WRITE_KEY: &str = "wk_test_key_1";
const ORIGIN: &str = "https://app.example.com";
const PEER: &str = "203.0.113.77:51234";
const NOW: &str = "2026-11-22T17:30:00Z";

#[derive(Debug)]
struct FixedClock(UnixTime);
impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        self.0
    }
}

fn now() -> UnixTime {
    UnixTime::parse_rfc3339(NOW).expect("time")
}

fn config(dir: &Path, extra: RawConfig) -> sieve_collector::config::Config {
    RawConfig {
        schema: Some(SCHEMA_PATH.into()),
        data_dir: Some(dir.to_path_buf()),
        write_keys: Some(vec![WRITE_KEY.into()]),
        allowed_origins: Some(vec![ORIGIN.into()]),
        ..RawConfig::default()
    }
    .merge(extra)
    .validate()
    .expect("valid config")
}

struct Harness {
    _dir: tempfile::TempDir,
    data: PathBuf,
    state: Arc<AppState>,
}

/// Every test's logs go to one buffer (a global subscriber: tracing caches per-callsite
/// interest globally, so a thread-local one would miss events when tests run in parallel).
fn logs() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        logs
    })
}

fn harness(extra: RawConfig) -> Harness {
    logs();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let state = build_state(&config(&data, extra), Arc::new(FixedClock(now()))).expect("state");
    Harness {
        _dir: dir,
        data,
        state,
    }
}

impl Harness {
    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let peer: SocketAddr = PEER.parse().expect("addr");
        let response = app(self.state.clone())
            .layer(MockConnectInfo(peer))
            .oneshot(req)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    async fn config(&self) -> Value {
        let (status, _, body) = self
            .send(
                Request::get("/v1/config")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        body
    }

    async fn post(&self, body: impl Into<Vec<u8>>) -> (StatusCode, axum::http::HeaderMap, Value) {
        self.send(events_request(body.into())).await
    }

    fn rows(&self) -> Vec<(String, String, Option<String>)> {
        let conn = rusqlite::Connection::open(self.data.join("events.sqlite")).expect("open");
        let mut stmt = conn
            .prepare("SELECT id, data, visitor FROM events ORDER BY id")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    }
}

fn events_request(body: Vec<u8>) -> Request<Body> {
    Request::post(format!("/v1/events?key={WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .header(header::ORIGIN, ORIGIN)
        .header(
            header::USER_AGENT,
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        )
        .header(header::COOKIE, "session=supersecretcookievalue")
        .header(header::AUTHORIZATION, "Bearer supersecretauthtoken")
        .body(Body::from(body))
        .expect("request")
}

fn schema() -> Schema {
    Schema::from_json(&std::fs::read_to_string(SCHEMA_PATH).expect("schema")).expect("valid")
}

/// What the browser SDK does: clean raw events under the served client key, wrap them in a batch.
fn batch(config: &Value, raws: &[Value], first_id: u8) -> Value {
    let schema = schema();
    let key =
        ClientKey::from_hex(config["client_key"].as_str().expect("client key")).expect("hex key");
    let events = raws
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let (raw, _) = RawEvent::from_value(raw).expect("raw");
            let id = EventId::from_bytes([first_id.wrapping_add(i as u8); 16]);
            clean_event(&raw, &schema, &key, id, CleanOptions::default())
                .event
                .expect("kept")
        })
        .collect();
    let b = Batch {
        v: 1,
        schema: schema.fingerprint(),
        epoch: config["epoch"]["id"].as_str().expect("epoch").to_owned(),
        sent_at: NOW.into(),
        sdk: Sdk {
            name: "sieve-test".into(),
            version: "0".into(),
        },
        anonymous: false,
        events,
    };
    serde_json::to_value(b).expect("json")
}

fn signup() -> Value {
    json!({"event": "signup", "timestamp": "2026-11-22T17:03:11Z", "props": {"plan": "team", "method": "email"},
           "user_id": "u_8812", "groups": {"org": "org-abc"},
           "traits": {"name": "Alice Example", "email": "alice@example.com"},
           "context": {"url": "https://app.example.com/orgs/8812/settings?token=abc", "referrer": "https://www.google.com/search?q=x"}})
}

#[tokio::test]
async fn config_serves_schema_fingerprint_and_epoch_key() {
    let h = harness(RawConfig::default());
    let (status, headers, body) = h.get("/v1/config").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["fingerprint"],
        json!(schema().fingerprint().to_string())
    );
    assert_eq!(body["epoch"]["id"], json!("2026-11-22"));
    assert_eq!(body["epoch"]["expires"], json!("2026-11-23T00:00:00Z"));
    assert_eq!(body["client_key"].as_str().map(str::len), Some(64));
    assert_eq!(body["schema"]["site"], json!("app.example.com"));
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=3600");
}

#[tokio::test]
async fn mixed_batch_stores_the_good_and_names_every_other() {
    let h = harness(RawConfig::default());
    let cfg = h.config().await;
    let mut b = batch(&cfg, &[signup()], 1);
    let good_id = b["events"][0]["id"].as_str().expect("id").to_owned();
    let sent_user = b["events"][0]["user"].as_str().expect("user").to_owned();
    let mut undeclared = b["events"][0].clone();
    undeclared["id"] = json!("02".repeat(16));
    undeclared["event"] = json!("purchase");
    let mut unclean = b["events"][0].clone();
    unclean["id"] = json!("03".repeat(16));
    unclean["context"]["url"] = json!("https://app.example.com/orgs/8812/settings?token=abc");
    let mut raw_id = b["events"][0].clone();
    raw_id["id"] = json!("04".repeat(16));
    raw_id["user"] = json!("u_8812");
    let events = b["events"].as_array_mut().expect("events");
    events.push(json!("not an event"));
    events.push(undeclared);
    events.push(unclean);
    events.push(raw_id);

    let (status, _, body) = h.post(b.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["accepted"], json!([good_id]));
    let rejected = body["rejected"].as_array().expect("rejected");
    let reasons: Vec<String> = rejected.iter().map(|r| r["reasons"].to_string()).collect();
    assert_eq!(rejected.len(), 4, "{body}");
    assert!(
        reasons[0].contains("event: wrong type, expected object"),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].contains("event: event not declared in the schema"),
        "{}",
        reasons[1]
    );
    assert!(
        reasons[2].contains("context.url: not clean"),
        "{}",
        reasons[2]
    );
    assert!(
        reasons[3].contains("user_id: not a pseudonym"),
        "{}",
        reasons[3]
    );
    assert!(
        !body.to_string().contains("8812") && !body.to_string().contains("alice"),
        "a reason echoes a value: {body}"
    );

    let rows = h.rows();
    assert_eq!(rows.len(), 1);
    let stored: Value = serde_json::from_str(&rows[0].1).expect("json");
    assert_eq!(stored["id"], json!(good_id));
    assert_ne!(
        stored["user"],
        json!(sent_user),
        "the stored pseudonym must not be what the browser sent"
    );
    assert_eq!(stored["user"].as_str().map(str::len), Some(32));
    assert_eq!(
        rows[0].2.as_deref().map(str::len),
        Some(32),
        "a cookieless visitor id"
    );
}

#[tokio::test]
async fn retried_batch_stores_nothing_twice() {
    let h = harness(RawConfig::default());
    let cfg = h.config().await;
    let b = batch(&cfg, &[signup(), signup(), signup()], 10);
    for _ in 0..3 {
        let (status, _, body) = h.post(b.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["accepted"].as_array().map(Vec::len), Some(3));
    }
    assert_eq!(h.rows().len(), 3);
    let metrics = h.get("/metrics").await.2;
    let text = metrics.as_str().expect("text");
    assert!(text.contains("sieve_events_accepted_total 3"), "{text}");
    assert!(text.contains("sieve_events_duplicate_total 6"), "{text}");
}

#[tokio::test]
async fn refusals_have_their_status_and_reason() {
    let h = harness(RawConfig {
        max_body_bytes: Some(2048),
        max_events_per_batch: Some(2),
        ..RawConfig::default()
    });
    let cfg = h.config().await;
    let good = batch(&cfg, &[signup()], 20).to_string();

    let no_key = Request::post("/v1/events")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(good.clone()))
        .expect("req");
    assert_eq!(h.send(no_key).await.0, StatusCode::UNAUTHORIZED);

    let evil = Request::post(format!("/v1/events?key={WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(good.clone()))
        .expect("req");
    assert_eq!(h.send(evil).await.0, StatusCode::FORBIDDEN);

    let xml = Request::post(format!("/v1/events?key={WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "application/xml")
        .body(Body::from(good.clone()))
        .expect("req");
    let (status, _, body) = h.send(xml).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );

    let (status, _, body) = h.post(vec![b' '; 4096]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );

    let three = batch(&cfg, &[signup(), signup(), signup()], 30).to_string();
    let (status, _, body) = h.post(three).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["detail"], json!("more than 2 events in one batch"));

    let (status, _, body) = h.post("{\"v\": 1}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("schema:")),
        "{body}"
    );

    let (status, _, body) = h.post("not json").await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("invalid json at line 1 column 2")
        )
    );

    let mut old_epoch: Value = serde_json::from_str(&good).expect("json");
    old_epoch["epoch"] = json!("2020-01-01");
    let (status, _, body) = h.post(old_epoch.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("epoch:")),
        "{body}"
    );
    assert!(h.rows().is_empty());
}

#[tokio::test]
async fn rate_limited_clients_get_429_with_retry_after() {
    let h = harness(RawConfig {
        rate_per_second: Some(0.5),
        rate_burst: Some(2.0),
        ..RawConfig::default()
    });
    let cfg = h.config().await;
    let good = batch(&cfg, &[signup()], 40).to_string();
    assert_eq!(h.post(good.clone()).await.0, StatusCode::OK);
    assert_eq!(h.post(good.clone()).await.0, StatusCode::OK);
    let (status, headers, body) = h.post(good).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let after: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&after), "{after}");
}

#[tokio::test]
async fn preflight_and_cors_allow_only_listed_origins() {
    let h = harness(RawConfig::default());
    let pre = Request::options("/v1/events")
        .header(header::ORIGIN, ORIGIN)
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .expect("req");
    let (status, headers, _) = h.send(pre).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert!(
        headers[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .expect("ascii")
            .contains("POST")
    );
    let evil = Request::options("/v1/events")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .expect("req");
    let (status, headers, _) = h.send(evil).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

#[tokio::test]
async fn gzip_bodies_are_accepted() {
    use std::io::Write;
    let h = harness(RawConfig::default());
    let cfg = h.config().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(batch(&cfg, &[signup()], 50).to_string().as_bytes())
        .expect("gzip");
    let req = Request::post(format!("/v1/events?key={WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gz.finish().expect("gzip")))
        .expect("req");
    let (status, _, body) = h.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(h.rows().len(), 1);
}

#[tokio::test]
async fn manifest_health_and_metrics_are_served() {
    let h = harness(RawConfig::default());
    let (status, _, manifest) = h.get("/.well-known/sieve-manifest.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(manifest["retention_days"], json!(395));
    assert!(manifest["events"].as_array().is_some_and(|e| e.len() == 9));
    let (status, headers, html) = h.get("/.well-known/sieve-manifest.html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(html.as_str().is_some_and(|s| s.contains("Never collected")));
    let (status, _, health) = h.get("/healthz").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
}

/// A demo site and an SDK package in a temporary directory, beside a `Cargo.toml` that no
/// request may reach.
struct Site {
    dir: tempfile::TempDir,
}

const INDEX_HTML: &str = "<!doctype html><title>demo index</title>";
const OUTSIDE: &str = "[package] # outside the served directories";

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let files: &[(&str, &[u8])] = &[
            ("Cargo.toml", OUTSIDE.as_bytes()),
            ("site/index.html", INDEX_HTML.as_bytes()),
            ("site/app.js", b"import { init } from '/sdk/sieve.js';"),
            ("site/style.css", b"body { margin: 0 }"),
            ("pkg/sieve.js", b"export function init() {}"),
            ("pkg/sieve_wasm_bg.wasm", b"\0asm\x01\0\0\0"),
            (
                "pkg/sieve.d.ts",
                b"export declare function init(): Promise<void>;",
            ),
            ("pkg/package.json", br#"{"name": "sieve-sdk"}"#),
            ("pkg/README.md", b"# sieve-sdk"),
        ];
        for (path, bytes) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write");
        }
        Site { dir }
    }

    fn config(&self) -> RawConfig {
        RawConfig {
            demo_dir: Some(self.dir.path().join("site")),
            sdk_dir: Some(self.dir.path().join("pkg")),
            ..RawConfig::default()
        }
    }
}

fn content_type(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .map_or("", |v| v.to_str().expect("ascii"))
}

#[tokio::test]
async fn sdk_files_are_served_with_the_types_browsers_need() {
    let site = Site::new();
    let h = harness(site.config());
    let cases = [
        ("/sdk/sieve_wasm_bg.wasm", "application/wasm"),
        ("/sdk/sieve.js", "text/javascript; charset=utf-8"),
        ("/sdk/package.json", "application/json"),
        ("/sdk/sieve.d.ts", "text/plain; charset=utf-8"),
        ("/sdk/README.md", "text/plain; charset=utf-8"),
        ("/demo/app.js", "text/javascript; charset=utf-8"),
        ("/demo/style.css", "text/css; charset=utf-8"),
        ("/demo/index.html", "text/html; charset=utf-8"),
    ];
    for (path, want) in cases {
        let (status, headers, _) = h.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(content_type(&headers), want, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
    }
    let (_, _, js) = h.get("/sdk/sieve.js").await;
    assert_eq!(js, json!("export function init() {}"));
    let (status, _, _) = h.get("/sdk/missing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the SDK is not an app");
}

#[tokio::test]
async fn demo_routes_that_are_not_files_get_the_app() {
    let site = Site::new();
    let h = harness(site.config());
    for path in [
        "/demo",
        "/demo/",
        "/demo/orgs/8812/settings",
        "/demo/docs/550e8400-e29b-41d4-a716-446655440000",
        "/demo/users/alice@example.com/profile?token=abc",
    ] {
        let (status, headers, body) = h.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(content_type(&headers), "text/html; charset=utf-8", "{path}");
        assert_eq!(body, json!(INDEX_HTML), "{path}");
    }
}

#[tokio::test]
async fn demo_json_carries_the_first_write_key() {
    let site = Site::new();
    let h = harness(RawConfig {
        write_keys: Some(vec![WRITE_KEY.into(), "wk_second_key".into()]),
        ..site.config()
    });
    let (status, headers, body) = h.get("/demo/sieve-demo.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type(&headers), "application/json");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(body, json!({"writeKey": WRITE_KEY}));
}

#[tokio::test]
async fn static_paths_cannot_leave_their_directory() {
    let site = Site::new();
    let h = harness(site.config());
    for path in [
        "/demo/../Cargo.toml",
        "/demo/%2e%2e/Cargo.toml",
        "/demo/%2E%2E/Cargo.toml",
        "/demo/..%2fCargo.toml",
        "/demo/%2e%2e%2fCargo.toml",
        "/demo/..%5cCargo.toml",
        "/demo/%2fetc%2fpasswd",
        "/sdk/../Cargo.toml",
        "/sdk/%2e%2e/Cargo.toml",
        "/sdk/..%2fCargo.toml",
        "/sdk/%2e%2e%2f%2e%2e%2fetc/passwd",
    ] {
        let (status, _, body) = h.get(path).await;
        let text = body.as_str().unwrap_or_default();
        assert!(!text.contains("outside the served"), "{path} leaked");
        assert!(!text.contains("root:"), "{path} leaked");
        // The demo answers with its app, the SDK with 404: never with the file.
        assert!(
            (status == StatusCode::OK && text == INDEX_HTML) || status == StatusCode::NOT_FOUND,
            "{path}: {status} {body}"
        );
    }
}

#[tokio::test]
async fn static_routes_exist_only_when_configured() {
    let h = harness(RawConfig::default());
    for path in ["/demo/", "/demo/sieve-demo.json", "/sdk/sieve.js"] {
        let (status, _, _) = h.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[test]
fn a_missing_static_directory_stops_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extra = RawConfig {
        sdk_dir: Some(dir.path().join("no-such-pkg")),
        ..RawConfig::default()
    };
    let err = build_state(
        &config(&dir.path().join("data"), extra),
        Arc::new(FixedClock(now())),
    )
    .expect_err("missing sdk dir");
    assert!(format!("{err:#}").starts_with("sdk_dir:"), "{err:#}");
}

/// The shipped demo loads the SDK from `/sdk/` and tracks only events the example schema
/// declares (an undeclared one would be dropped, and the demo would show nothing).
#[tokio::test]
async fn the_demo_site_uses_the_sdk_and_the_example_schema() {
    let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../demo/site");
    let h = harness(RawConfig {
        demo_dir: Some(site.into()),
        ..RawConfig::default()
    });
    let (status, _, index) = h.get("/demo/orgs/8812/settings").await;
    assert_eq!(status, StatusCode::OK);
    let index = index.as_str().expect("html");
    assert!(index.contains(r#"src="/demo/app.js""#) && index.contains("/sdk/sieve.js"));

    let app = std::fs::read_to_string(format!("{site}/app.js")).expect("app.js");
    assert!(app.contains("from '/sdk/sieve.js'"));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(SCHEMA_PATH).expect("schema")).expect("json");
    let tracked: Vec<&str> = app
        .split("track('")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .collect();
    assert!(tracked.len() >= 4, "{tracked:?}");
    for name in tracked {
        assert!(
            schema["events"].get(name).is_some(),
            "{name} is not in the schema"
        );
    }
}

fn events_from(origin: &str, host: &str, body: &Value) -> Request<Body> {
    Request::post(format!("/v1/events?key={WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .header(header::HOST, host)
        .header(header::ORIGIN, origin)
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[tokio::test]
async fn a_page_served_by_the_collector_may_send_and_others_may_not() {
    let site = Site::new();
    let h = harness(site.config());
    let cfg = h.config().await;
    let host = "127.0.0.1:41234";

    let same = events_from(
        &format!("http://{host}"),
        host,
        &batch(&cfg, &[signup()], 60),
    );
    let (status, headers, body) = h.send(same).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        format!("http://{host}").as_str()
    );
    assert_eq!(h.rows().len(), 1);

    let refused = [
        ("http://evil.example", host),
        ("http://127.0.0.1:41235", host),
        ("http://127.0.0.1:41234.evil.example", host),
        ("ftp://127.0.0.1:41234", host),
        ("http://", ""),
    ];
    for (i, (origin, host)) in refused.into_iter().enumerate() {
        let req = events_from(origin, host, &batch(&cfg, &[signup()], 70 + i as u8));
        let (status, headers, body) = h.send(req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin} on {host}: {body}");
        assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    }
    assert_eq!(h.rows().len(), 1, "refused batches store nothing");

    // Without a demo site the collector serves no page, so nothing is same-origin.
    let bare = harness(RawConfig::default());
    let req = events_from(
        &format!("http://{host}"),
        host,
        &batch(&cfg, &[signup()], 80),
    );
    let (status, _, _) = bare.send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A `Write` that appends to a shared buffer: captures the collector's logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn read_all_files(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            out.extend(std::fs::read(&path).expect("read"));
        }
    }
    out
}

#[tokio::test]
async fn no_ip_cookie_or_authorization_reaches_store_keys_or_logs() {
    let h = harness(RawConfig::default());
    let cfg = h.config().await;
    assert_eq!(
        h.post(batch(&cfg, &[signup(), signup()], 60).to_string())
            .await
            .0,
        StatusCode::OK
    );
    let mut bad = batch(&cfg, &[signup()], 70);
    bad["events"][0]["props"]["plan"] = json!("supersecretplanvalue");
    assert_eq!(h.post(bad.to_string()).await.0, StatusCode::OK);
    assert!(
        h.post(b"garbage supersecretbody".to_vec())
            .await
            .0
            .is_client_error()
    );
    h.state.writer.shutdown();

    let files = read_all_files(&h.data);
    let log_text = String::from_utf8(logs().0.lock().expect("lock").clone()).expect("utf8");
    assert!(
        log_text.contains("batch stored"),
        "logs were captured: {log_text}"
    );
    let ip = PEER.split(':').next().expect("ip");
    for secret in [
        ip,
        "supersecretcookievalue",
        "supersecretauthtoken",
        "supersecretplanvalue",
        "supersecretbody",
        "alice",
        "u_8812",
    ] {
        assert!(!log_text.contains(secret), "{secret} in logs:\n{log_text}");
        assert!(
            !files.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the data directory"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The real binary.

/// The real binary on `data`, with the test's schema, write key and origin.
fn start_server(data: &Path) -> Server {
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_sieve-collector"));
    serve
        .args([
            "serve",
            "--schema",
            SCHEMA_PATH,
            "--listen",
            "127.0.0.1:0",
            "--write-key",
            WRITE_KEY,
            "--allow-origin",
            ORIGIN,
        ])
        .arg("--data-dir")
        .arg(data)
        .env("SIEVE_LOG", "warn");
    Server::spawn(serve)
}

fn post_blocking(client: &reqwest::blocking::Client, base: &str, body: &str) -> Option<Value> {
    let r = client
        .post(format!("{base}/v1/events?key={WRITE_KEY}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, ORIGIN)
        .body(body.to_owned())
        .send()
        .ok()?;
    if r.status() == StatusCode::OK {
        r.json().ok()
    } else {
        None
    }
}

/// A batch built with the real clock's time, since the real server uses the system clock.
fn live_batch(config: &Value, client: u8, n: u32) -> Value {
    let mut b = batch(config, &[signup(), signup()], 0);
    let now = UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64,
    );
    b["sent_at"] = json!(now.to_rfc3339());
    for (i, e) in b["events"]
        .as_array_mut()
        .expect("events")
        .iter_mut()
        .enumerate()
    {
        e["id"] = json!(format!("{client:02x}{n:08x}{i:02x}{}", "0".repeat(20)));
        e["time"] = json!(
            now.truncate(sieve_core::schema::TimePrecision::Hour)
                .to_rfc3339()
        );
    }
    b
}

#[test]
fn real_server_answers_over_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path());
    let cfg = server.config();
    let client = reqwest::blocking::Client::new();
    let body = post_blocking(&client, &server.base, &live_batch(&cfg, 1, 1).to_string())
        .expect("accepted");
    assert_eq!(body["accepted"].as_array().map(Vec::len), Some(2), "{body}");
    let health: Value = reqwest::blocking::get(format!("{}/healthz", server.base))
        .expect("health")
        .json()
        .expect("json");
    assert_eq!(health["status"], json!("ok"));
}

#[test]
fn sigkill_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = start_server(&data);
    let cfg = server.config();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4u8)
        .map(|c| {
            let (acked, stop, cfg, base) = (
                acked.clone(),
                stop.clone(),
                cfg.clone(),
                server.base.clone(),
            );
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                // Bounded: at most 2000 batches per client, and it stops when the server dies.
                for n in 0..2000u32 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let b = live_batch(&cfg, c, n);
                    match post_blocking(&client, &base, &b.to_string()) {
                        Some(body) => {
                            let ids = body["accepted"]
                                .as_array()
                                .expect("accepted")
                                .iter()
                                .map(|i| i.as_str().expect("id").to_owned());
                            acked.lock().expect("lock").extend(ids);
                        }
                        None => break,
                    }
                }
            })
        })
        .collect();
    // Let the clients get going, then kill the server mid-stream.
    while acked.lock().expect("lock").len() < 200 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.child.kill().expect("SIGKILL");
    let _ = server.child.wait();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let acked: std::collections::BTreeSet<String> =
        acked.lock().expect("lock").iter().cloned().collect();
    assert!(acked.len() >= 200);

    // Restart on the same data: every acknowledged event is there, once.
    let server = start_server(&data);
    let conn = rusqlite::Connection::open(data.join("events.sqlite")).expect("open");
    let stored: std::collections::BTreeSet<String> = {
        let mut stmt = conn.prepare("SELECT id FROM events").expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    common::assert_none_lost(&acked, &stored);
    let total: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    assert_eq!(total as usize, stored.len(), "no event twice");

    // A client that never saw its ack retries: still once.
    let cfg = server.config();
    let client = reqwest::blocking::Client::new();
    let retry = live_batch(&cfg, 0, 0);
    assert!(post_blocking(&client, &server.base, &retry.to_string()).is_some());
    let after: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .expect("count");
    let new_ids = retry["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| !stored.contains(e["id"].as_str().expect("id")))
        .count();
    assert_eq!(after as usize, stored.len() + new_ids);
}

#[tokio::test]
async fn privacy_signals_get_no_visitor_id() {
    let h = harness(RawConfig::default());
    let cfg = h.config().await;
    // The SDK marks the batch of a visitor with Global Privacy Control or Do Not Track.
    let mut anonymous = batch(&cfg, &[signup()], 80);
    anonymous["anonymous"] = json!(true);
    assert_eq!(h.post(anonymous.to_string()).await.0, StatusCode::OK);
    // A browser that sends the signal itself, as a request header.
    let mut req = events_request(batch(&cfg, &[signup()], 90).to_string().into_bytes());
    req.headers_mut()
        .insert("sec-gpc", axum::http::HeaderValue::from_static("1"));
    assert_eq!(h.send(req).await.0, StatusCode::OK);
    // Without a signal the visitor id is there: the two above are not missing it by accident.
    assert_eq!(
        h.post(batch(&cfg, &[signup()], 100).to_string()).await.0,
        StatusCode::OK
    );
    let rows = h.rows();
    let visitor = |first: u8| {
        rows.iter()
            .find(|r| r.0 == format!("{first:02x}").repeat(16))
            .map(|r| r.2.clone())
    };
    assert_eq!(visitor(80), Some(None), "anonymous batch: no visitor id");
    assert_eq!(visitor(90), Some(None), "Sec-GPC header: no visitor id");
    assert!(visitor(100).flatten().is_some_and(|v| v.len() == 32));
    let (status, _, body) = h.post(r#"{"v":1}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn overload_is_shed_with_429_before_any_work() {
    let h = harness(RawConfig {
        max_batches_in_flight: Some(2),
        ..RawConfig::default()
    });
    let cfg = h.config().await;
    // Two batches are being verified (the test holds their slots): a third is refused at once.
    let held = h.state.ingest_slots.try_acquire_many(2).expect("two slots");
    let (status, headers, body) = h.post(batch(&cfg, &[signup()], 110).to_string()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], json!("overloaded"));
    assert_eq!(headers[header::RETRY_AFTER], "1");
    assert!(h.rows().is_empty());
    drop(held);
    assert_eq!(
        h.post(batch(&cfg, &[signup()], 110).to_string()).await.0,
        StatusCode::OK
    );
    let text = h.get("/metrics").await.2;
    assert!(
        text.as_str()
            .is_some_and(|t| t.contains("sieve_batches_refused_total{reason=\"overloaded\"} 1")),
        "{text}"
    );
}

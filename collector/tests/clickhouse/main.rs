//! The ClickHouse store end to end: a private clickhouse-server (Debian's package, installed by
//! scripts/setup) on loopback with its own data directory, two real collector processes
//! sharing it and one key file, and the auditor tools reading it back; then the same on a
//! replicated and distributed cluster of three servers over a private ZooKeeper ([`cluster`]);
//! and the single-server run again on current ClickHouse's engine (26.9, through chDB: see
//! `ClickHouse::start_current`), where `TTL` retention exists.
//!
//! If clickhouse-server or ZooKeeper is missing or does not start, these tests FAIL: they
//! never skip.

mod cluster;
#[path = "../common/mod.rs"]
mod common;
mod server;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use server::{ClickHouse, HANG, PASSWORD};
use sieve_collector::store::Store;
use sieve_collector::store::clickhouse::http::Secret;
use sieve_collector::store::clickhouse::{ClickHouseStore, Settings};

use serde_json::{Value, json};
use sieve_core::event::CleanOptions;
use sieve_core::transform::time::UnixTime;
use sieve_core::wire::{Batch, Sdk};
use sieve_core::{ClientKey, EventId, RawEvent, Schema, clean_event};

const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/schema/example.json");
const WRITE_KEY: &str = "wk_test_key_1";
const ORIGIN: &str = "https://app.example.com";
/// A collector config file for ClickHouse at `ch` (on `cluster`, if given); `password_file`
/// or the environment gives the password.
fn write_config(
    dir: &Path,
    name: &str,
    ch: &ClickHouse,
    cluster: Option<&str>,
    key_file: &Path,
    password_file: bool,
) -> PathBuf {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).expect("data dir");
    let mut text = format!(
        "schema = {schema:?}\nlisten = \"127.0.0.1:0\"\ndata_dir = {data:?}\nkey_file = {key:?}\n\
         write_keys = [{WRITE_KEY:?}]\nallowed_origins = [{ORIGIN:?}]\nstore = \"clickhouse\"\n\
         clickhouse_url = {url:?}\nclickhouse_database = \"sieve_test\"\nclickhouse_user = \"default\"\n",
        schema = SCHEMA_PATH,
        data = data.display().to_string(),
        key = key_file.display().to_string(),
        url = ch.url(),
    );
    if let Some(cluster) = cluster {
        text.push_str(&format!("clickhouse_cluster = {cluster:?}\n"));
    }
    if password_file {
        let pw = dir.join(format!("{name}.password"));
        std::fs::write(&pw, format!("{PASSWORD}\n")).expect("password file");
        text.push_str(&format!(
            "clickhouse_password_file = {:?}\n",
            pw.display().to_string()
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("config");
    path
}

fn collector(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sieve-collector"));
    c.args(args)
        .arg("--config")
        .arg(config)
        .env("SIEVE_CLICKHOUSE_PASSWORD", PASSWORD)
        .env("SIEVE_LOG", "warn");
    c
}

/// A collector serving `config`.
fn start_server(config: &Path) -> Server {
    Server::spawn(collector(config, &["serve"]))
}

fn schema() -> Schema {
    Schema::from_json(&std::fs::read_to_string(SCHEMA_PATH).expect("schema")).expect("valid")
}

fn now() -> UnixTime {
    UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64,
    )
}

/// What the SDK does: clean two raw page views and a signup under the served client key; ids
/// from (client, n) so every batch is distinct and a retry is the same batch.
fn batch(config: &Value, client: u8, n: u32) -> String {
    let schema = schema();
    let key = ClientKey::from_hex(config["client_key"].as_str().expect("client key")).expect("hex");
    let at = now().to_rfc3339();
    let raws = [
        json!({"event": "page_view", "timestamp": at, "context": {"url": "https://app.example.com/a"}}),
        json!({"event": "signup", "timestamp": at, "props": {"plan": "team", "method": "email"}, "user_id": format!("u_{n}")}),
    ];
    let events = raws
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let (raw, _) = RawEvent::from_value(raw).expect("raw");
            let mut id = [0u8; 16];
            id[0] = client;
            id[1..5].copy_from_slice(&n.to_be_bytes());
            id[5] = i as u8;
            clean_event(
                &raw,
                &schema,
                &key,
                EventId::from_bytes(id),
                CleanOptions::default(),
            )
            .event
            .expect("kept")
        })
        .collect();
    serde_json::to_string(&Batch {
        v: 1,
        schema: schema.fingerprint(),
        epoch: config["epoch"]["id"].as_str().expect("epoch").to_owned(),
        sent_at: at,
        sdk: Sdk {
            name: "sieve-test".into(),
            version: "0".into(),
        },
        anonymous: false,
        events,
    })
    .expect("json")
}

/// POST a batch: `Ok(accepted ids)` on 200, `Err(status)` otherwise (0: no answer).
fn post(client: &reqwest::blocking::Client, base: &str, body: &str) -> Result<Vec<String>, u16> {
    let r = client
        .post(format!("{base}/v1/events?key={WRITE_KEY}"))
        .header("content-type", "application/json")
        .header("origin", ORIGIN)
        .body(body.to_owned())
        .timeout(Duration::from_secs(30))
        .send()
        .map_err(|_| 0u16)?;
    let status = r.status().as_u16();
    if status != 200 {
        return Err(status);
    }
    let v: Value = r.json().map_err(|_| 1u16)?;
    Ok(v["accepted"]
        .as_array()
        .expect("accepted")
        .iter()
        .map(|i| i.as_str().expect("id").to_owned())
        .collect())
}

fn stored_ids(ch: &ClickHouse) -> BTreeSet<String> {
    ch.query("SELECT DISTINCT id FROM sieve_test.events FORMAT TabSeparated")
        .expect("ids")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn run_tool(config: &Path, args: &[&str]) -> String {
    let out = collector(config, args).output().expect("run the tool");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Through two collectors sharing one key file: 20 batches alternately, every fourth retried
/// on both, then 5 batches raced to both at once (both may find the ids new and insert).
/// Returns the 50 acknowledged event ids (25 batches of a page view and a signup).
fn send_retried_and_raced(a: &Server, b: &Server) -> BTreeSet<String> {
    let (cfg_a, cfg_b) = (a.config(), b.config());
    assert_eq!(
        cfg_a["client_key"], cfg_b["client_key"],
        "one key file, one client key"
    );
    let client = reqwest::blocking::Client::new();
    let mut acked = BTreeSet::new();
    for n in 0..20u32 {
        let (server, cfg) = if n % 2 == 0 { (a, &cfg_a) } else { (b, &cfg_b) };
        let body = batch(cfg, 1, n);
        acked.extend(post(&client, &server.base, &body).expect("stored"));
        if n % 4 == 0 {
            // A retried batch, sent to both collectors: acknowledged again, stored once.
            assert_eq!(post(&client, &a.base, &body).expect("retry a").len(), 2);
            assert_eq!(post(&client, &b.base, &body).expect("retry b").len(), 2);
        }
    }
    // The same batch raced to both collectors at once: both may find its ids new and insert;
    // reads must still count each event once.
    for n in 100..105u32 {
        let body = batch(&cfg_a, 2, n);
        let (ba, bb) = (a.base.clone(), b.base.clone());
        let (b1, b2) = (body.clone(), body);
        let t1 = std::thread::spawn(move || post(&reqwest::blocking::Client::new(), &ba, &b1));
        let t2 = std::thread::spawn(move || post(&reqwest::blocking::Client::new(), &bb, &b2));
        acked.extend(t1.join().expect("t1").expect("stored"));
        acked.extend(t2.join().expect("t2").expect("stored"));
    }
    acked
}

/// `report` through `config` counts `batches` page views and signups, from one cookieless
/// visitor (one client address and user agent); duplicate copies (retries, races) not counted.
fn check_report(config: &Path, batches: u64) {
    let report: Value =
        serde_json::from_str(&run_tool(config, &["report", "--k", "1", "--json"])).expect("json");
    let by_event = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["dimension"] == json!("event"))
        .expect("the event table");
    assert_eq!(
        by_event["groups"],
        json!([
            {"key": "page_view", "events": batches, "visitors": 1},
            {"key": "signup", "events": batches, "visitors": 1}
        ]),
        "{report}"
    );
}

#[test]
fn two_collectors_store_each_event_once_and_report_counts_it() {
    let started = Instant::now();
    let ch = ClickHouse::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let migrated = two_collectors_on(&ch, dir.path());
    assert!(
        migrated.contains("server 18.") && migrated.contains("this server has no TTL"),
        "{migrated}"
    );
    eprintln!("two collectors: {:?}", started.elapsed());
}

/// The same on current ClickHouse's engine, 26.9 (PyPI `chdb-core`, behind
/// tests/clickhouse-current/serve.py): every statement the collector sends (DDL, the `TTL`
/// that 18.16 lacks, inserts, the de-duplicating reads, the reports' aggregations, retention's
/// `ALTER TABLE ... DELETE`) runs on a current release.
#[test]
fn two_collectors_on_current_clickhouse_with_ttl_retention() {
    let started = Instant::now();
    let ch = ClickHouse::start_current();
    let version = ch.query("SELECT version()").expect("version");
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(major >= 24, "not a current ClickHouse: {version}");
    let dir = tempfile::tempdir().expect("tempdir");
    let migrated = two_collectors_on(&ch, dir.path());
    assert!(
        migrated.contains(&format!("server {}", version.trim()))
            && migrated.contains("retention by TTL and housekeeping"),
        "{migrated}"
    );
    // The schema's retention_days (395) is the table's TTL.
    let create = ch
        .query("SHOW CREATE TABLE sieve_test.events FORMAT TabSeparatedRaw")
        .expect("show create");
    assert!(create.contains("TTL time + toIntervalDay(395)"), "{create}");

    let insert = |rows: &[(String, i64)]| {
        let lines: Vec<String> = rows
            .iter()
            .map(|(id, time)| {
                json!({"id": id, "site": "s", "schema": "f", "epoch": "e",
                       "event": "page_view", "time": time, "data": "{}"})
                .to_string()
            })
            .collect();
        ch.query(&format!(
            "INSERT INTO sieve_test.events FORMAT JSONEachRow {}",
            lines.join("\n")
        ))
        .expect("insert rows");
    };
    let kept = stored_ids(&ch);
    let day = 86_400;
    let now = now().0;

    // Past the TTL (395 days): ClickHouse itself drops the rows, at the latest when parts merge.
    insert(&[("expired".into(), now - 400 * day)]);
    ch.query("OPTIMIZE TABLE sieve_test.events FINAL")
        .expect("optimize");
    assert_eq!(
        ch.number("SELECT count() FROM sieve_test.events WHERE id = 'expired'"),
        0,
        "the TTL deleted the expired row"
    );

    // Retention by housekeeping (`ALTER TABLE ... DELETE`, the path every version has): rows
    // older than the cutoff go, newer ones stay.
    let old: Vec<(String, i64)> = (0..3)
        .map(|i| (format!("old{i}"), now - 30 * day + i))
        .collect();
    insert(&old);
    let store = ClickHouseStore::connect(Settings {
        url: reqwest::Url::parse(&ch.url()).expect("url"),
        database: "sieve_test".into(),
        user: "default".into(),
        password: Secret::new(PASSWORD.into()),
        cluster: None,
    })
    .expect("store");
    let cutoff = now - 20 * day;
    assert_eq!(store.delete_before(cutoff).expect("delete"), 3);
    let left = format!("SELECT count() FROM sieve_test.events WHERE time < toDateTime({cutoff})");
    let deadline = Instant::now() + HANG;
    while ch.number(&left) != 0 {
        assert!(Instant::now() < deadline, "old rows not deleted");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stored_ids(&ch), kept, "retention kept the new events");
    eprintln!(
        "two collectors, current clickhouse: {:?}",
        started.elapsed()
    );
}

/// Two collectors on `ch`'s single-server layout, sharing one key file: migrate (twice),
/// retried and raced batches stored once, and `report`, `export`, `audit`, `verify` and
/// `import` reading it back right. Returns what `migrate` printed.
fn two_collectors_on(ch: &ClickHouse, dir: &Path) -> String {
    let keys = dir.join("keys").join("keys.json");
    let conf_a = write_config(dir, "a", ch, None, &keys, false);
    let conf_b = write_config(dir, "b", ch, None, &keys, true);

    // `migrate` on its own, twice: idempotent.
    let mut migrated = String::new();
    for _ in 0..2 {
        migrated = run_tool(&conf_a, &["migrate"]);
        assert!(migrated.contains("clickhouse store ready"), "{migrated}");
    }
    let a = start_server(&conf_a);
    let b = start_server(&conf_b);
    let acked = send_retried_and_raced(&a, &b);
    assert_eq!(acked.len(), 50);
    assert_eq!(stored_ids(ch), acked);
    assert_eq!(
        ch.number("SELECT count(DISTINCT id) FROM sieve_test.events"),
        50
    );
    assert_eq!(ch.number("SELECT count() FROM sieve_test.events FINAL"), 50);
    let raw_rows = ch.number("SELECT count() FROM sieve_test.events");
    assert!((50..=60).contains(&raw_rows), "{raw_rows} rows");

    // The tools read ClickHouse through --config; aggregation runs there.
    check_report(&conf_b, 25);
    let exported = run_tool(&conf_a, &["export"]);
    assert_eq!(exported.lines().count(), 50, "export: each event once");
    let audit = run_tool(
        &conf_a,
        &["audit", "--schema", SCHEMA_PATH, "--format", "json"],
    );
    let audit: Value = serde_json::from_str(&audit).expect("json");
    assert_eq!(audit["stored_by_schema"][0]["events"], json!(50));
    assert_eq!(
        audit["stored_by_schema"][0]["version"],
        json!(schema().version)
    );
    let verify = collector(&conf_a, &["verify"]).output().expect("verify");
    assert!(
        verify.status.success(),
        "verify found problems: {}",
        String::from_utf8_lossy(&verify.stdout)
    );

    // Import what was exported: nothing new.
    let mut import = collector(&conf_b, &["import"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("import");
    std::io::Write::write_all(
        &mut import.stdin.take().expect("stdin"),
        exported.as_bytes(),
    )
    .expect("write");
    let out = import.wait_with_output().expect("import");
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && msg.contains("50 events: 0 new"),
        "{msg}"
    );
    assert_eq!(
        ch.number("SELECT count(DISTINCT id) FROM sieve_test.events"),
        50
    );
    migrated
}

#[test]
fn clickhouse_restart_loses_no_acknowledged_event() {
    let started = Instant::now();
    let mut ch = ClickHouse::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys.json");
    let conf_a = write_config(dir.path(), "a", &ch, None, &keys, false);
    let conf_b = write_config(dir.path(), "b", &ch, None, &keys, false);
    let servers = [start_server(&conf_a), start_server(&conf_b)];
    let cfg = servers[0].config();
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let refused = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4u8)
        .map(|c| {
            let (acked, refused, stop, cfg) =
                (acked.clone(), refused.clone(), stop.clone(), cfg.clone());
            let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let mut n = 0u32;
                // Like the SDK: a batch is retried until acknowledged, on either collector.
                while !stop.load(Ordering::Relaxed) && n < 5_000 {
                    let body = batch(&cfg, 10 + c, n);
                    let mut attempt = 0usize;
                    loop {
                        match post(&client, &bases[(n as usize + attempt) % 2], &body) {
                            Ok(ids) => {
                                acked.lock().expect("lock").extend(ids);
                                break;
                            }
                            Err(status) => {
                                assert!(
                                    status == 503 || status == 0 || status == 429,
                                    "status {status}"
                                );
                                refused.fetch_add(1, Ordering::Relaxed);
                                if stop.load(Ordering::Relaxed) {
                                    return;
                                }
                                attempt += 1;
                                std::thread::sleep(Duration::from_millis(50));
                            }
                        }
                    }
                    n += 1;
                }
            })
        })
        .collect();
    let wait_for = |what: &str, f: &dyn Fn() -> bool| {
        let deadline = Instant::now() + HANG;
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("first acknowledgements", &|| {
        acked.lock().expect("lock").len() >= 100
    });
    ch.kill();
    let before = acked.lock().expect("lock").len();
    wait_for("503s while clickhouse is down", &|| {
        refused.load(Ordering::Relaxed) >= 8
    });
    std::thread::sleep(Duration::from_millis(300));
    // Nothing can be acknowledged while the store is down (a request already past its insert
    // may still answer).
    let during = acked.lock().expect("lock").len();
    assert!(
        during <= before + 4 * 2,
        "acknowledged without a store: {before} -> {during}"
    );
    ch.run();
    wait_for("acknowledgements after the restart", &|| {
        acked.lock().expect("lock").len() >= during + 100
    });
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let acked = acked.lock().expect("lock").clone();
    let stored = stored_ids(&ch);
    common::assert_none_lost(&acked, &stored);
    let distinct = ch.number("SELECT count(DISTINCT id) FROM sieve_test.events");
    assert_eq!(distinct as usize, stored.len());
    assert_eq!(
        ch.number("SELECT count() FROM sieve_test.events FINAL") as usize,
        stored.len()
    );
    eprintln!(
        "restart: {} acknowledged, {} refused meanwhile, {:?}",
        acked.len(),
        refused.load(Ordering::Relaxed),
        started.elapsed()
    );
}

//! The ClickHouse store end to end: a private clickhouse-server (Debian's package, installed by
//! scripts/setup) on loopback with its own data directory, two real collector processes
//! sharing it and one key file, and the auditor tools reading it back.
//!
//! If clickhouse-server is missing or does not start, these tests FAIL: they never skip.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sieve_core::event::CleanOptions;
use sieve_core::transform::time::UnixTime;
use sieve_core::wire::{Batch, Sdk};
use sieve_core::{ClientKey, EventId, RawEvent, Schema, clean_event};

const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/schema/example.json");
const WRITE_KEY: &str = "wk_test_key_1";
const ORIGIN: &str = "https://app.example.com";
const PASSWORD: &str = "ch-test-password";
/// Guards against a hung test, not a performance threshold.
const HANG: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A private clickhouse-server: config and users copied from /etc/clickhouse-server with paths
/// and ports rewritten, started by PID, killed in Drop.
struct ClickHouse {
    dir: tempfile::TempDir,
    http_port: u16,
    child: Option<Child>,
}

impl ClickHouse {
    fn start() -> ClickHouse {
        let binary = which("clickhouse-server").unwrap_or_else(|| {
            panic!(
                "clickhouse-server is not installed: run scripts/setup (it installs Debian's \
                 clickhouse-server and clickhouse-client), or apt-get install clickhouse-server"
            )
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("log")).expect("data dir");
        let http_port = free_port();
        let (tcp_port, interserver_port) = (free_port(), free_port());
        let read = |name: &str| {
            std::fs::read_to_string(Path::new("/etc/clickhouse-server").join(name)).unwrap_or_else(
                |e| panic!("/etc/clickhouse-server/{name}: {e} (is clickhouse-server installed?)"),
            )
        };
        let d = format!("{}/", data.display());
        let config = read("config.xml")
            .replace("/var/log/clickhouse-server/", &format!("{d}log/"))
            .replace("/var/lib/clickhouse/", &d)
            .replace(
                "<http_port>8123</http_port>",
                &format!("<http_port>{http_port}</http_port>"),
            )
            .replace(
                "<tcp_port>9000</tcp_port>",
                &format!("<tcp_port>{tcp_port}</tcp_port>"),
            )
            .replace(
                "<interserver_http_port>9009</interserver_http_port>",
                &format!("<interserver_http_port>{interserver_port}</interserver_http_port>"),
            )
            .replace("</yandex>", "<listen_host>127.0.0.1</listen_host></yandex>");
        assert!(
            config.contains(&format!("<http_port>{http_port}</http_port>")),
            "unexpected config.xml layout"
        );
        let users = read("users.xml").replace(
            "<password></password>",
            &format!("<password>{PASSWORD}</password>"),
        );
        assert!(users.contains(PASSWORD), "unexpected users.xml layout");
        std::fs::write(dir.path().join("config.xml"), config).expect("config");
        std::fs::write(dir.path().join("users.xml"), users).expect("users");
        let mut ch = ClickHouse {
            dir,
            http_port,
            child: None,
        };
        let _ = binary;
        ch.run();
        ch
    }

    /// Start (or start again) the server on this data directory and ports; wait until ready.
    fn run(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("stdout.log")).expect("log");
        let child = Command::new("clickhouse-server")
            .arg(format!(
                "--config-file={}",
                self.dir.path().join("config.xml").display()
            ))
            .current_dir(self.dir.path())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start clickhouse-server");
        self.child = Some(child);
        let deadline = Instant::now() + HANG;
        loop {
            if self.query("SELECT 1").is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let out =
                    std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default();
                panic!("clickhouse-server exited at start-up ({status}):\n{out}");
            }
            assert!(
                Instant::now() < deadline,
                "clickhouse-server did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: the server dies without flushing or saying goodbye.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL clickhouse-server");
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    fn query(&self, sql: &str) -> Result<String, String> {
        let r = reqwest::blocking::Client::new()
            .post(self.url())
            .basic_auth("default", Some(PASSWORD))
            .body(sql.to_owned())
            .timeout(Duration::from_secs(10))
            .send()
            .map_err(|e| e.to_string())?;
        let ok = r.status().is_success();
        let text = r.text().map_err(|e| e.to_string())?;
        if ok { Ok(text) } else { Err(text) }
    }

    fn number(&self, sql: &str) -> u64 {
        self.query(sql)
            .expect("query")
            .trim()
            .parse()
            .expect("a number")
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        self.kill();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// A collector config file for ClickHouse; `password_file` or the environment gives the
/// password.
fn write_config(
    dir: &Path,
    name: &str,
    ch: &ClickHouse,
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

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(config: &Path) -> Server {
        let mut child = collector(config, &["serve"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the collector");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the address");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the collector did not start: {line:?}"))
            .to_owned();
        Server { child, base }
    }

    fn config(&self) -> Value {
        reqwest::blocking::get(format!("{}/v1/config", self.base))
            .expect("config")
            .json()
            .expect("json")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

#[test]
fn two_collectors_store_each_event_once_and_report_counts_it() {
    let started = Instant::now();
    let ch = ClickHouse::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys").join("keys.json");
    let conf_a = write_config(dir.path(), "a", &ch, &keys, false);
    let conf_b = write_config(dir.path(), "b", &ch, &keys, true);

    // `migrate` on its own, twice: idempotent.
    for _ in 0..2 {
        let out = run_tool(&conf_a, &["migrate"]);
        assert!(out.contains("clickhouse store ready"), "{out}");
    }
    let a = Server::start(&conf_a);
    let b = Server::start(&conf_b);
    let (cfg_a, cfg_b) = (a.config(), b.config());
    assert_eq!(
        cfg_a["client_key"], cfg_b["client_key"],
        "one key file, one client key"
    );

    let client = reqwest::blocking::Client::new();
    let mut acked = BTreeSet::new();
    for n in 0..20u32 {
        let (server, cfg) = if n % 2 == 0 {
            (&a, &cfg_a)
        } else {
            (&b, &cfg_b)
        };
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
    assert_eq!(acked.len(), 50);
    assert_eq!(stored_ids(&ch), acked);
    assert_eq!(
        ch.number("SELECT count(DISTINCT id) FROM sieve_test.events"),
        50
    );
    assert_eq!(ch.number("SELECT count() FROM sieve_test.events FINAL"), 50);
    let raw_rows = ch.number("SELECT count() FROM sieve_test.events");
    assert!((50..=60).contains(&raw_rows), "{raw_rows} rows");

    // The tools read ClickHouse through --config; aggregation runs there.
    let report: Value =
        serde_json::from_str(&run_tool(&conf_b, &["report", "--k", "1", "--json"])).expect("json");
    let by_event = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["dimension"] == json!("event"))
        .expect("the event table");
    // 25 batches of a page view and a signup, from one client address and user agent: one
    // cookieless visitor. Duplicate copies (retries, the race) are not counted.
    assert_eq!(
        by_event["groups"],
        json!([
            {"key": "page_view", "events": 25, "visitors": 1},
            {"key": "signup", "events": 25, "visitors": 1}
        ]),
        "{report}"
    );
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
    eprintln!("two collectors: {:?}", started.elapsed());
}

#[test]
fn clickhouse_restart_loses_no_acknowledged_event() {
    let started = Instant::now();
    let mut ch = ClickHouse::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys.json");
    let conf_a = write_config(dir.path(), "a", &ch, &keys, false);
    let conf_b = write_config(dir.path(), "b", &ch, &keys, false);
    let servers = [Server::start(&conf_a), Server::start(&conf_b)];
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
    let missing: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
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

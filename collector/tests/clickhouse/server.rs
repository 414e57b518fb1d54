//! Private servers for the ClickHouse tests, each on loopback with free ports and its own data
//! directory, started by PID and killed in `Drop`: clickhouse-server (Debian's package, config
//! and users copied from /etc/clickhouse-server with paths and ports rewritten) and, for the
//! cluster, a standalone ZooKeeper (Debian's package, run with `java` on its jar: not the system
//! service). Or, for current ClickHouse, its SQL engine from PyPI's `chdb-core` behind
//! tests/clickhouse-current/serve.py (see [`ClickHouse::start_current`]).
//!
//! A missing package is a failure naming scripts/setup, never a skip.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The `default` user's password on every test server.
pub const PASSWORD: &str = "ch-test-password";
/// Guards against a hung test, not a performance threshold.
pub const HANG: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// One server's ports.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub http: u16,
    /// The native protocol: what `Distributed` tables and `remote_servers` use.
    pub tcp: u16,
    /// Replicas fetch parts from each other here.
    pub interserver: u16,
}

impl Ports {
    pub fn free() -> Ports {
        Ports {
            http: free_port(),
            tcp: free_port(),
            interserver: free_port(),
        }
    }
}

/// Which ClickHouse a [`ClickHouse`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// Debian's clickhouse-server (18.16): the real server, HTTP front and storage included.
    Server,
    /// Current ClickHouse's SQL engine (chDB, PyPI `chdb-core`, installed by scripts/setup)
    /// behind tests/clickhouse-current/serve.py, the slice of the HTTP interface Sieve uses:
    /// the statements run on a current release; durability and concurrency are the server's
    /// tests.
    Current,
}

/// A private ClickHouse.
pub struct ClickHouse {
    dir: tempfile::TempDir,
    pub ports: Ports,
    child: Option<Child>,
    engine: Engine,
}

impl ClickHouse {
    /// A single server, ready.
    pub fn start() -> ClickHouse {
        let mut ch = ClickHouse::spawn(Ports::free(), None);
        ch.wait_ready();
        ch
    }

    /// Current ClickHouse's engine behind its HTTP adapter ([`Engine::Current`]), ready.
    pub fn start_current() -> ClickHouse {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ch = ClickHouse {
            dir,
            ports: Ports::free(),
            child: None,
            engine: Engine::Current,
        };
        ch.launch();
        ch.wait_ready();
        ch
    }

    /// Write the config (plus `config_d`, merged over it from `config.d/test.xml` as
    /// ClickHouse merges any `config.d` file) and start the process; not yet ready.
    pub fn spawn(ports: Ports, config_d: Option<&str>) -> ClickHouse {
        if which("clickhouse-server").is_none() {
            panic!(
                "clickhouse-server is not installed: run scripts/setup (it installs Debian's \
                 clickhouse-server and clickhouse-client), or apt-get install clickhouse-server"
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("log")).expect("data dir");
        let read = |name: &str| {
            std::fs::read_to_string(Path::new("/etc/clickhouse-server").join(name)).unwrap_or_else(
                |e| panic!("/etc/clickhouse-server/{name}: {e} (is clickhouse-server installed?)"),
            )
        };
        let d = format!("{}/", data.display());
        let Ports {
            http,
            tcp,
            interserver,
        } = ports;
        let config = read("config.xml")
            .replace("/var/log/clickhouse-server/", &format!("{d}log/"))
            .replace("/var/lib/clickhouse/", &d)
            .replace(
                "<http_port>8123</http_port>",
                &format!("<http_port>{http}</http_port>"),
            )
            .replace(
                "<tcp_port>9000</tcp_port>",
                &format!("<tcp_port>{tcp}</tcp_port>"),
            )
            .replace(
                "<interserver_http_port>9009</interserver_http_port>",
                &format!("<interserver_http_port>{interserver}</interserver_http_port>"),
            )
            .replace("</yandex>", "<listen_host>127.0.0.1</listen_host></yandex>");
        assert!(
            config.contains(&format!("<http_port>{http}</http_port>"))
                && config.contains(&format!("<tcp_port>{tcp}</tcp_port>")),
            "unexpected config.xml layout"
        );
        let users = read("users.xml").replace(
            "<password></password>",
            &format!("<password>{PASSWORD}</password>"),
        );
        assert!(users.contains(PASSWORD), "unexpected users.xml layout");
        std::fs::write(dir.path().join("config.xml"), config).expect("config");
        std::fs::write(dir.path().join("users.xml"), users).expect("users");
        if let Some(extra) = config_d {
            std::fs::create_dir_all(dir.path().join("config.d")).expect("config.d");
            std::fs::write(dir.path().join("config.d/test.xml"), extra).expect("config.d");
        }
        let mut ch = ClickHouse {
            dir,
            ports,
            child: None,
            engine: Engine::Server,
        };
        ch.launch();
        ch
    }

    fn launch(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("stdout.log")).expect("log");
        let mut command = match self.engine {
            Engine::Server => {
                let mut c = Command::new("clickhouse-server");
                c.arg(format!(
                    "--config-file={}",
                    self.dir.path().join("config.xml").display()
                ));
                c
            }
            Engine::Current => {
                let mut c = Command::new("python3");
                c.arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../tests/clickhouse-current/serve.py"
                ))
                .arg(self.ports.http.to_string())
                .arg(self.dir.path().join("data"))
                .arg(PASSWORD);
                c
            }
        };
        let child = command
            .current_dir(self.dir.path())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start clickhouse");
        self.child = Some(child);
    }

    /// Start (or start again) the server on this data directory and ports; wait until ready.
    pub fn run(&mut self) {
        self.launch();
        self.wait_ready();
    }

    /// Wait until the server answers a query.
    pub fn wait_ready(&mut self) {
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
                let hint = match self.engine {
                    Engine::Server => "",
                    Engine::Current => {
                        " (is chdb-core installed? scripts/setup installs it with pip)"
                    }
                };
                panic!("clickhouse exited at start-up ({status}){hint}:\n{out}");
            }
            assert!(
                Instant::now() < deadline,
                "clickhouse-server did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: the server dies without flushing or saying goodbye.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL clickhouse");
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.http)
    }

    pub fn query(&self, sql: &str) -> Result<String, String> {
        let r = reqwest::blocking::Client::new()
            .post(self.url())
            .basic_auth("default", Some(PASSWORD))
            .body(sql.to_owned())
            .timeout(HANG)
            .send()
            .map_err(|e| e.to_string())?;
        let ok = r.status().is_success();
        let text = r.text().map_err(|e| e.to_string())?;
        if ok { Ok(text) } else { Err(text) }
    }

    pub fn number(&self, sql: &str) -> u64 {
        self.query(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .trim()
            .parse()
            .expect("a number")
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            // The data directory goes with the test: show why the server misbehaved first.
            for name in ["stdout.log", "data/log/clickhouse-server.err.log"] {
                let text = std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                eprintln!(
                    "--- clickhouse-server :{} {name} (last lines)\n{tail}",
                    self.ports.http
                );
            }
        }
    }
}

/// Debian's ZooKeeper jar; its manifest's Class-Path names the libraries it needs.
const ZOOKEEPER_JAR: &str = "/usr/share/java/zookeeper.jar";
/// A logger binding that discards: ZooKeeper's INFO lines would only fill the temp dir.
const SLF4J_NOP_JAR: &str = "/usr/share/java/slf4j-nop.jar";

/// A private standalone ZooKeeper for the replicated tables and distributed DDL.
pub struct ZooKeeper {
    _dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

impl ZooKeeper {
    pub fn start() -> ZooKeeper {
        let java = which("java");
        if java.is_none() || !Path::new(ZOOKEEPER_JAR).is_file() {
            panic!(
                "ZooKeeper is not installed: run scripts/setup (it installs Debian's zookeeper), \
                 or apt-get install zookeeper"
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
        // tickTime 1 s: sessions may last 2-20 s, so a killed server's session (and its
        // replicas' `is_active` nodes) expire within the test.
        let cfg = format!(
            "tickTime=1000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=srvr\n",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("zoo.cfg"), cfg).expect("zoo.cfg");
        let log = std::fs::File::create(dir.path().join("stdout.log")).expect("log");
        let child = Command::new(java.expect("java"))
            .args(["-Xmx256m", "-cp"])
            .arg(format!("{ZOOKEEPER_JAR}:{SLF4J_NOP_JAR}"))
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(dir.path().join("zoo.cfg"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start zookeeper");
        let mut zk = ZooKeeper {
            _dir: dir,
            port,
            child,
        };
        let deadline = Instant::now() + HANG;
        while !zk.ok() {
            if let Ok(Some(status)) = zk.child.try_wait() {
                panic!("zookeeper exited at start-up ({status})");
            }
            assert!(Instant::now() < deadline, "zookeeper did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        zk
    }

    /// Whether ZooKeeper serves sessions. Not `ruok`: that answers `imok` while the server is
    /// still loading, when it drops clients at the handshake (and 18.16's clickhouse-server,
    /// dropped so at start-up, can crash later). `srvr` names the mode only once it serves.
    fn ok(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut answer = String::new();
        s.set_read_timeout(Some(Duration::from_secs(2))).is_ok()
            && s.write_all(b"srvr").is_ok()
            && s.read_to_string(&mut answer).is_ok()
            && answer.contains("Mode: standalone")
    }
}

impl Drop for ZooKeeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! What the collector's test binaries share (`service.rs`, `clickhouse/`): the real
//! `sieve-collector serve` process, started on `127.0.0.1:0`.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running `sieve-collector serve`, killed (SIGKILL) and reaped in `Drop`.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, from the `listening on` line the collector prints first.
    pub base: String,
}

impl Server {
    /// Spawn `serve` (a `Command` with its arguments and environment set) and wait for the
    /// address it listens on.
    pub fn spawn(mut serve: Command) -> Server {
        let mut child = serve
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

    /// What the SDK fetches first: `GET /v1/config`.
    pub fn config(&self) -> Value {
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

/// The durability check: every event the collector acknowledged is among the stored ones.
pub fn assert_none_lost(acked: &BTreeSet<String>, stored: &BTreeSet<String>) {
    let missing: Vec<&String> = acked.difference(stored).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

//! The cluster layout on a real cluster: three clickhouse-server processes over one private
//! ZooKeeper, as two shards (shard 1 with two replicas, shard 2 with one), each server with its
//! own `{shard}`/`{replica}` macros. `migrate` with `clickhouse_cluster` creates the tables
//! `ON CLUSTER`; two collectors, each talking to a different server, write through the
//! `Distributed` table; one replica of shard 1 is killed mid-run and started again.

use std::collections::BTreeSet;
use std::time::Instant;

use sieve_collector::store::Store;
use sieve_collector::store::clickhouse::http::Secret;
use sieve_collector::store::clickhouse::{ClickHouseStore, Settings};

use super::server::{ClickHouse, HANG, PASSWORD, Ports, ZooKeeper};
use super::*;

/// The cluster's name in every server's `remote_servers`.
const CLUSTER: &str = "sieve_test";

/// (shard, replica) of each server: servers 0 and 1 are the replicas of shard 1.
const TOPOLOGY: [(u32, &str); 3] = [(1, "r1"), (1, "r2"), (2, "r1")];

/// The `config.d` file of the server at `me`: ZooKeeper, the cluster, its macros, and the
/// address other replicas fetch parts from.
fn cluster_config(zk: &ZooKeeper, ports: &[Ports], me: usize) -> String {
    let mut shards = String::new();
    for shard in [1, 2] {
        shards.push_str("<shard><internal_replication>true</internal_replication>");
        for (i, _) in TOPOLOGY.iter().enumerate().filter(|(_, t)| t.0 == shard) {
            shards.push_str(&format!(
                "<replica><host>127.0.0.1</host><port>{}</port>\
                 <user>default</user><password>{PASSWORD}</password></replica>",
                ports[i].tcp
            ));
        }
        shards.push_str("</shard>");
    }
    let (shard, replica) = TOPOLOGY[me];
    format!(
        "<yandex>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <zookeeper replace=\"replace\">
    <node><host>127.0.0.1</host><port>{zk}</port></node>
    <session_timeout_ms>8000</session_timeout_ms>
  </zookeeper>
  <remote_servers replace=\"replace\"><{CLUSTER}>{shards}</{CLUSTER}></remote_servers>
  <macros replace=\"replace\"><shard>{shard:02}</shard><replica>{replica}</replica></macros>
</yandex>
",
        zk = zk.port
    )
}

/// The three servers, ready.
fn start_cluster(zk: &ZooKeeper) -> Vec<ClickHouse> {
    let ports: Vec<Ports> = TOPOLOGY.iter().map(|_| Ports::free()).collect();
    let mut nodes: Vec<ClickHouse> = (0..TOPOLOGY.len())
        .map(|i| ClickHouse::spawn(ports[i], Some(&cluster_config(zk, &ports, i))))
        .collect();
    for node in &mut nodes {
        node.wait_ready();
    }
    // Each server connects to ZooKeeper in the background: `ON CLUSTER` needs it everywhere.
    wait_for("every server's ZooKeeper session", &mut || {
        nodes.iter().all(|n| {
            n.query("SELECT count() FROM system.zookeeper WHERE path = '/'")
                .is_ok()
        })
    });
    nodes
}

/// The ids a server holds in its own `events_local`.
fn local_ids(node: &ClickHouse) -> BTreeSet<String> {
    node.query("SELECT DISTINCT id FROM sieve_test.events_local FORMAT TabSeparated")
        .expect("local ids")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn wait_for(what: &str, f: &mut dyn FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_cluster_stores_each_event_once_on_one_shard_through_a_replica_stop() {
    let started = Instant::now();
    let zk = ZooKeeper::start();
    let mut nodes = start_cluster(&zk);
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys").join("keys.json");
    // Collector a talks to a replica of shard 1, collector b to shard 2's server.
    let conf_a = write_config(dir.path(), "a", &nodes[0], Some(CLUSTER), &keys, false);
    let conf_b = write_config(dir.path(), "b", &nodes[2], Some(CLUSTER), &keys, true);

    // `migrate` once for the whole cluster (ON CLUSTER), twice: idempotent.
    for conf in [&conf_a, &conf_b] {
        let out = run_tool(conf, &["migrate"]);
        assert!(
            out.contains("clickhouse store ready") && out.contains("on cluster sieve_test"),
            "{out}"
        );
    }
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(
            node.query(
                "SELECT name, engine FROM system.tables WHERE database = 'sieve_test' \
                 ORDER BY name FORMAT TabSeparated"
            )
            .expect("tables"),
            "events\tDistributed\n\
             events_local\tReplicatedReplacingMergeTree\n\
             meta\tReplicatedReplacingMergeTree\n\
             schemas\tReplicatedMergeTree\n",
            "server {i}"
        );
    }
    // A single-server config does not quietly take over the cluster's tables.
    let conf_single = write_config(dir.path(), "single", &nodes[1], None, &keys, false);
    let out = collector(&conf_single, &["migrate"])
        .output()
        .expect("migrate");
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && msg.contains("set clickhouse_cluster"),
        "{msg}"
    );

    let a = start_server(&conf_a);
    let b = start_server(&conf_b);
    let mut acked = send_retried_and_raced(&a, &b);
    assert_eq!(acked.len(), 50);

    // One replica of shard 1 dies mid-run: its partner takes shard 1's rows meanwhile.
    nodes[1].kill();
    let cfg = a.config();
    let client = reqwest::blocking::Client::new();
    for n in 200..220u32 {
        let body = batch(&cfg, 3, n);
        let mut attempt = 0usize;
        let deadline = Instant::now() + HANG;
        // Like the SDK: retried until acknowledged, on either collector.
        let ids = loop {
            let base = [&a.base, &b.base][(n as usize + attempt) % 2];
            match post(&client, base, &body) {
                Ok(ids) => break ids,
                Err(status) => {
                    assert!(matches!(status, 0 | 429 | 503), "status {status}");
                    assert!(Instant::now() < deadline, "batch {n} never acknowledged");
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        };
        assert_eq!(ids.len(), 2);
        // Acknowledged means written on the shard, not queued on the server that took the
        // insert: the ids are in the local tables at once (shard 1's live replica is server 0).
        let mut on_shards = local_ids(&nodes[0]);
        on_shards.extend(local_ids(&nodes[2]));
        for id in &ids {
            assert!(on_shards.contains(id), "{id} acknowledged but on no shard");
        }
        acked.extend(ids);
    }
    assert_eq!(acked.len(), 90);
    // `migrate` with a server down neither hangs nor claims success: ClickHouse names the
    // unfinished host after the DDL timeout (the server runs the statement when it is back).
    let out = collector(&conf_a, &["migrate"]).output().expect("migrate");
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && msg.contains("1 unfinished hosts"),
        "{msg}"
    );
    nodes[1].run();

    // Both replicas of shard 1 catch up with what the other wrote while apart.
    wait_for("the replicas of shard 1 to converge", &mut || {
        for node in &nodes[..2] {
            let _ = node.query("SYSTEM SYNC REPLICA sieve_test.events_local");
        }
        local_ids(&nodes[0]) == local_ids(&nodes[1])
    });
    let (shard1, shard1_r2, shard2) = (
        local_ids(&nodes[0]),
        local_ids(&nodes[1]),
        local_ids(&nodes[2]),
    );
    assert_eq!(
        shard1, shard1_r2,
        "the replicas of shard 1 hold the same events"
    );
    assert!(
        !shard1.is_empty() && !shard2.is_empty(),
        "both shards got events: {} and {}",
        shard1.len(),
        shard2.len()
    );
    assert!(shard1.is_disjoint(&shard2), "an event on two shards");
    let union: BTreeSet<String> = shard1.union(&shard2).cloned().collect();
    assert_eq!(union, acked, "every acknowledged event, and nothing else");
    // Within its shard, the copies of a retried or raced event collapse to one row.
    for (node, ids) in [
        (&nodes[0], &shard1),
        (&nodes[1], &shard1),
        (&nodes[2], &shard2),
    ] {
        assert_eq!(
            node.number("SELECT count() FROM sieve_test.events_local FINAL") as usize,
            ids.len()
        );
    }
    // The Distributed table reads the same from every server.
    for node in &nodes {
        assert_eq!(stored_ids(node), acked);
        assert_eq!(
            node.number("SELECT count(DISTINCT id) FROM sieve_test.events"),
            90
        );
    }

    // Identical copies of a raced batch may already have been dropped at insert (replicated
    // tables skip a block they already hold). A copy whose time differs never collapses: put
    // one on each shard, so the reads below must de-duplicate by id across shards themselves.
    for (node, ids) in [(&nodes[0], &shard1), (&nodes[2], &shard2)] {
        let id = ids.iter().next().expect("an id");
        node.query(&format!(
            "INSERT INTO sieve_test.events_local SELECT id, site, schema, epoch, event, \
             time + 1, visitor, country, page, browser, data \
             FROM sieve_test.events_local WHERE id = '{id}' LIMIT 1"
        ))
        .expect("insert a copy");
    }
    let rows = "SELECT count() FROM sieve_test.events_local";
    wait_for("the copy to reach shard 1's other replica", &mut || {
        nodes[0].number(rows) == nodes[1].number(rows)
    });
    for node in &nodes {
        assert_eq!(
            node.number("SELECT count() FROM sieve_test.events FINAL"),
            92,
            "the late copies are two more rows"
        );
    }

    // The tools, through either collector's config: 45 batches of a page view and a signup.
    check_report(&conf_a, 45);
    check_report(&conf_b, 45);
    let exported = run_tool(&conf_b, &["export"]);
    assert_eq!(exported.lines().count(), 90, "export: each event once");
    let verify = collector(&conf_a, &["verify"]).output().expect("verify");
    assert!(
        verify.status.success(),
        "verify found problems: {}",
        String::from_utf8_lossy(&verify.stdout)
    );

    // Retention reaches every shard (`ALTER TABLE events_local ON CLUSTER ... DELETE`): old
    // rows put straight into each shard's local table are deleted everywhere.
    for (node, shard) in [(&nodes[0], 1), (&nodes[2], 2)] {
        let rows: Vec<String> = (0..2)
            .map(|i| {
                json!({"id": format!("old{shard}{i}"), "site": "s", "schema": "f", "epoch": "e",
                       "event": "page_view", "time": 1_000_000_000 + i, "data": "{}"})
                .to_string()
            })
            .collect();
        node.query(&format!(
            "INSERT INTO sieve_test.events_local FORMAT JSONEachRow {}",
            rows.join("\n")
        ))
        .expect("insert old rows");
    }
    let store = ClickHouseStore::connect(Settings {
        url: reqwest::Url::parse(&nodes[2].url()).expect("url"),
        database: "sieve_test".into(),
        user: "default".into(),
        password: Secret::new(PASSWORD.into()),
        cluster: Some(CLUSTER.into()),
    })
    .expect("store");
    let cutoff = 1_500_000_000;
    assert_eq!(store.delete_before(cutoff).expect("delete"), 4);
    let old =
        format!("SELECT count() FROM sieve_test.events_local WHERE time < toDateTime({cutoff})");
    wait_for("old rows deleted on every server", &mut || {
        nodes.iter().all(|n| n.number(&old) == 0)
    });
    for node in &nodes {
        assert_eq!(stored_ids(node), acked, "retention kept the new events");
    }
    eprintln!("cluster: {:?}", started.elapsed());
}

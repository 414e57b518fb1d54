//! The embedded default store: one SQLite file (rusqlite, bundled), opened in WAL mode with
//! `synchronous=FULL`, so a commit that returned is on disk and survives power loss or
//! `SIGKILL`. That is what lets ingest answer 2xx only for durably stored events.
//!
//! It does: create the file with the tables of [`SQLITE_DDL`], insert batches in one
//! transaction, skipping the ids of recently stored events (the [`IdWindow`], reloaded from the
//! file's last rows at open; on a format 1 file the unique id index does it), record schema
//! versions, delete by time for retention, answer a liveness check.
//!
//! It does not: queue or group requests (that is [`super::writer`], which calls
//! [`GroupStore::insert_each`] here once per group), run the auditors' read queries (those
//! are [`super::query`], on a read-only connection of their own), or put row contents into an
//! error or a log line.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::checkpoint::{self, Checkpointer};
use super::window::{self, IdWindow};
use super::writer::GroupStore;
use super::{SQLITE_DDL, SchemaRecord, SqliteLayout, Store, StoreError, StoredEvent, db};

/// How long a statement waits for a lock held by another connection (an operator's `export`
/// or `verify` running against the live file) before failing. Long enough to ride out a
/// checkpoint or a retention chunk, short enough that a stuck peer turns into a 503 the SDK
/// retries rather than a hung request.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL bytes after which the log is copied back into the database file, by the checkpoint
/// thread (see `open` and `checkpoint.rs`).
const CHECKPOINT_BYTES: i64 = 2 << 20;

/// Rows deleted per retention transaction. Each chunk takes the connection lock only briefly,
/// so the group-commit writer is never held up for the length of a large purge.
const DELETE_CHUNK: usize = 5_000;

/// Format 1 files: the unique id index skips a retried event (0 rows changed).
const INSERT_EVENT_UNIQUE: &str = "INSERT OR IGNORE INTO events \
     (id, site, schema, epoch, event, time, visitor, data) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Format 2 files: no conflict is possible (the window decided), so no `OR IGNORE`, which would
/// also skip a row silently on any other constraint.
const INSERT_EVENT_APPENDED: &str = "INSERT INTO events \
     (id, site, schema, epoch, event, time, visitor, data) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// The ids of the newest rows, to refill the window when a file is opened: a batch whose
/// answer was lost when the collector stopped is recognised when the SDK retries it.
const RECENT_IDS: &str = "SELECT id FROM events ORDER BY rowid DESC LIMIT ?1";

const INSERT_SCHEMA: &str = "INSERT OR IGNORE INTO schemas \
     (fingerprint, site, version, body, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)";

// Deleting through the key of a bounded sub-select is how SQLite spells `DELETE ... LIMIT`
// without the compile-time option that enables the latter. Format 1 files may be `WITHOUT
// ROWID` (keyed by the unique id); format 2 files have no id index, only the rowid.
pub(super) const DELETE_CHUNK_BEFORE_UNIQUE: &str =
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time < ?1 LIMIT ?2)";
pub(super) const DELETE_CHUNK_BEFORE_APPENDED: &str =
    "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE time < ?1 LIMIT ?2)";

/// The embedded SQLite store. One connection behind a mutex: the group-commit writer thread is
/// its only heavy user, and SQLite allows one writer at a time anyway.
pub struct SqliteStore {
    path: PathBuf,
    layout: SqliteLayout,
    inner: Mutex<Inner>,
    /// Declared after `inner`: the writer's connection closes first, then the thread stops.
    checkpointer: Checkpointer,
    /// Bytes per page of this file.
    page_size: u64,
}

/// What the mutex guards: the connection, and (format 2) the ids it stored recently, changed
/// only together with a commit.
struct Inner {
    conn: Connection,
    window: IdWindow,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

// Errors are wrapped with the operation they interrupted (`db`). rusqlite's write-path errors
// name constraints and codes, never bound values, so no row content reaches the message.

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and its parent directories, apply the
    /// schema, set WAL mode, `synchronous=FULL` and a busy timeout, and (format 2) refill the
    /// window of recent ids from the newest rows.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with_window(path, window::GENERATION)
    }

    /// [`SqliteStore::open`] with a window of `generation` ids per generation (tests use small
    /// ones to see what happens past it).
    pub fn open_with_window(path: &Path, generation: usize) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database {
                op: "create data directory",
                source: Box::new(e),
            })?;
        }
        create_private(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db("open database"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(db("set busy timeout"))?;

        // 8 KiB pages for a new file (ignored for an existing one): a stored row is ~1.4 KB,
        // so a 4 KiB page holds two and leaves a third of it empty, and every page is a WAL
        // frame (two writes) at each commit that touches it and a copy at each checkpoint.
        conn.pragma_update(None, "page_size", 8192)
            .map_err(db("set page size"))?;
        // WAL: readers (audit, export) do not block the writer, and a commit is one append and
        // one fsync of the log rather than rewriting pages in place.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
            .map_err(db("enable WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database {
                op: "enable WAL",
                source: format!("the file system kept journal_mode={mode}").into(),
            });
        }
        // FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss, and
        // the collector acknowledges a batch only because its commit returned.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db("set synchronous"))?;
        // Rows removed by retention are overwritten, not left in free pages where a thief of
        // the file could still read them.
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(db("set secure_delete"))?;
        conn.execute_batch(SQLITE_DDL)
            .map_err(db("create tables"))?;
        // The log is copied back into the file every 2 MiB. SQLite would do it inside the commit
        // that crosses the size, which every request of that group (and every group queued
        // behind it) would wait for; the checkpoint thread does it beside the commits instead.
        // 2 MiB, not SQLite's 8: at 8 the copy and its fsync took ~20 ms once the file had
        // grown, and set the p99 at half of saturation (BENCHMARKS.md, "Ingest, eighth round").
        // The WAL hook replaces SQLite's automatic checkpoint.
        let page_size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(db("read page size"))?;
        let soft = i32::try_from(CHECKPOINT_BYTES / page_size.max(512)).unwrap_or(i32::MAX);
        let checkpointer = Checkpointer::spawn(path, BUSY_TIMEOUT)?;
        let wake = checkpointer.shared();
        conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: i32| {
            wake.note(pages);
            match checkpoint::step(pages, soft) {
                checkpoint::Step::None => {}
                checkpoint::Step::Wake => wake.request(),
                checkpoint::Step::CatchUp { warn } => {
                    if warn {
                        wake.fell_behind();
                    }
                    // Busy (the thread is copying) or failed, the commit stands: never an
                    // error, the next commit tries again.
                    let _ = wal.checkpoint();
                }
            }
            Ok(())
        }))
        .map_err(db("set WAL hook"))?;
        let layout = SqliteLayout::of(&conn)?;
        let mut window = IdWindow::with_generation(generation);
        if layout == SqliteLayout::Appended {
            let limit = i64::try_from(generation).unwrap_or(i64::MAX);
            let mut stmt = conn.prepare(RECENT_IDS).map_err(db("read recent ids"))?;
            let ids = stmt
                .query_map([limit], |r| r.get::<_, String>(0))
                .map_err(db("read recent ids"))?;
            let mut recent = Vec::new();
            for id in ids {
                recent.extend(window::key(&id.map_err(db("read recent ids"))?));
            }
            // Oldest first, so the newest stay longest.
            for key in recent.into_iter().rev() {
                window.insert(key);
            }
            drop(stmt);
        }

        Ok(SqliteStore {
            path: path.to_path_buf(),
            layout,
            inner: Mutex::new(Inner { conn, window }),
            checkpointer,
            page_size: u64::try_from(page_size).unwrap_or(0),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How this file keeps one copy of each event.
    pub fn layout(&self) -> SqliteLayout {
        self.layout
    }

    /// WAL checkpoints the checkpoint thread has completed since the file was opened.
    pub fn checkpoints(&self) -> u64 {
        self.checkpointer.done()
    }

    /// Ids of recently stored events the writer remembers now (0 on a format 1 file).
    pub fn recent_ids(&self) -> usize {
        self.lock().window.len()
    }

    /// A panic elsewhere while holding the lock cannot leave the connection half-changed: an
    /// open transaction rolls back when its guard drops during unwinding, and the window is
    /// changed only after a commit returned. So a poisoned lock is still usable, and refusing
    /// it would turn one bug into a permanent outage.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Create the database file readable by its owner only, if it does not exist yet. SQLite
/// gives its `-wal` and `-shm` files the same mode. Stored pseudonyms are useless without the
/// key file, but there is no reason to hand them to every local account either.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|e| StoreError::Database {
            op: "create database file",
            source: Box::new(e),
        })
}

impl GroupStore for SqliteStore {
    fn insert_each(&self, events: &[StoredEvent]) -> Result<Vec<bool>, StoreError> {
        let mut guard = self.lock();
        let Inner { conn, window } = &mut *guard;
        // IMMEDIATE takes the write lock up front: a deferred transaction that must upgrade
        // from read to write can fail with SQLITE_BUSY at once, without waiting the timeout.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("begin insert"))?;
        let mut new = Vec::with_capacity(events.len());
        // Format 2: ids stored by this group, remembered in the window once it is committed.
        let mut stored = HashSet::new();
        {
            let (sql, appended) = match self.layout {
                SqliteLayout::UniqueId => (INSERT_EVENT_UNIQUE, false),
                SqliteLayout::Appended => (INSERT_EVENT_APPENDED, true),
            };
            let mut stmt = tx.prepare_cached(sql).map_err(db("prepare insert"))?;
            for e in events {
                let key = window::key(&e.id).filter(|_| appended);
                // A retry of a recent event, or a second copy earlier in this same group.
                if key.is_some_and(|k| window.contains(k) || stored.contains(&k)) {
                    new.push(false);
                    continue;
                }
                let changed = stmt
                    .execute(params![
                        e.id, e.site, e.schema, e.epoch, e.event, e.time, e.visitor, e.data
                    ])
                    .map_err(db("insert event"))?;
                // Format 1, OR IGNORE: 0 rows changed means the id was already stored (or came
                // earlier in this same group).
                new.push(changed == 1);
                stored.extend(key);
            }
        }
        tx.commit().map_err(db("commit insert"))?;
        for key in stored {
            window.insert(key);
        }
        Ok(new)
    }
}

impl Store for SqliteStore {
    fn log(&self) -> Option<super::LogState> {
        Some(super::LogState {
            wal_bytes: self.checkpointer.pages() * self.page_size,
            checkpoints: self.checkpointer.done(),
        })
    }

    fn register_schema(&self, schema: &SchemaRecord) -> Result<(), StoreError> {
        let SchemaRecord {
            fingerprint,
            site,
            version,
            body,
            first_seen,
        } = schema;
        self.lock()
            .conn
            .prepare_cached(INSERT_SCHEMA)
            .and_then(|mut stmt| {
                stmt.execute(params![fingerprint, site, version, body, first_seen])
            })
            .map_err(db("register schema"))?;
        Ok(())
    }

    fn delete_before(&self, cutoff: i64) -> Result<usize, StoreError> {
        let chunk = i64::try_from(DELETE_CHUNK).expect("DELETE_CHUNK is a small constant");
        let mut total = 0;
        loop {
            // The lock is released between chunks so queued commits go first.
            let deleted = self
                .lock()
                .conn
                .prepare_cached(match self.layout {
                    SqliteLayout::UniqueId => DELETE_CHUNK_BEFORE_UNIQUE,
                    SqliteLayout::Appended => DELETE_CHUNK_BEFORE_APPENDED,
                })
                .and_then(|mut stmt| stmt.execute(params![cutoff, chunk]))
                .map_err(db("delete old events"))?;
            total += deleted;
            if deleted < DELETE_CHUNK {
                return Ok(total);
            }
        }
    }

    fn health(&self) -> Result<(), StoreError> {
        // Reads a real table, so a file that lost its schema fails too, not just a dead handle.
        self.lock()
            .conn
            .query_row("SELECT count(*) FROM meta", [], |row| row.get::<_, i64>(0))
            .map_err(db("health check"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl SqliteStore {
        fn with_connection<T>(
            &self,
            op: &'static str,
            f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
        ) -> Result<T, StoreError> {
            f(&self.lock().conn).map_err(db(op))
        }
    }

    fn event(name: &str, time: i64) -> StoredEvent {
        let id = window::test_id(name);
        StoredEvent {
            id: id.clone(),
            site: "example.com".to_owned(),
            schema: "ab".repeat(32),
            epoch: "2026-11-22".to_owned(),
            event: "page".to_owned(),
            time,
            visitor: Some("cd".repeat(16)),
            data: format!(r#"{{"id":"{id}"}}"#),
        }
    }

    fn ids(store: &SqliteStore) -> Vec<(String, i64)> {
        store
            .with_connection("test read", |c| {
                let mut stmt = c.prepare("SELECT id, time FROM events ORDER BY time, id")?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .expect("read back")
    }

    fn open_temp() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("nested/dir/events.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn open_creates_parent_dirs_and_sets_durable_pragmas() {
        let (_dir, store) = open_temp();
        assert!(store.path().is_file());
        let (mode, sync): (String, i64) = store
            .with_connection("test pragmas", |c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                ))
            })
            .expect("pragmas");
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL is 2");
        let checkpoint: i64 = store
            .with_connection("test pragmas", |c| {
                c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            })
            .expect("pragma");
        assert_eq!(
            checkpoint, 0,
            "the WAL hook replaces SQLite's checkpoint inside the commit"
        );
        store.health().expect("healthy");
    }

    /// Events of ~`bytes` each, named `prefix-N`.
    fn big_events(prefix: &str, n: usize, bytes: usize) -> Vec<StoredEvent> {
        (0..n)
            .map(|i| StoredEvent {
                data: "x".repeat(bytes),
                ..event(&format!("{prefix}-{i}"), 1_700_000_000)
            })
            .collect()
    }

    fn wal_bytes(store: &SqliteStore) -> u64 {
        let mut wal = store.path().as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    }

    /// Wait (up to a minute: the machine may be loaded) until `done` holds.
    fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn the_checkpoint_thread_copies_the_log_and_the_log_restarts() {
        let (_dir, store) = open_temp();
        // 6 MiB in commits of ~64 KiB: three times the 2 MiB threshold.
        for c in 0..96 {
            store
                .insert(&big_events(&format!("c{c}"), 16, 4000))
                .expect("insert");
        }
        eventually("a checkpoint by the thread", || store.checkpoints() >= 1);
        // The log restarts once everything in it was copied: it is then overwritten from its
        // start (the frames in it drop), so its file stays near the threshold instead of
        // holding all 12 MiB. How near depends on how often the writer's catch-up finds the
        // thread mid-copy, which a loaded machine changes: the restart is what is asserted.
        let log_now = || store.log().expect("a SQLite store has a log").wal_bytes;
        let (mut restarts, mut before) = (0, log_now());
        for c in 96..192 {
            store
                .insert(&big_events(&format!("c{c}"), 16, 4000))
                .expect("insert");
            let now = log_now();
            restarts += usize::from(now < before);
            before = now;
        }
        assert!(
            restarts >= 1,
            "the log never restarted in 6 MiB of back-to-back commits past its threshold"
        );
        let wal = wal_bytes(&store);
        assert!(
            wal < 10 << 20,
            "the WAL file holds {wal} bytes after 12 MiB of commits, {restarts} restarts"
        );
        // What the metrics show: the frames in the log now (within the file), and the count.
        let log = store.log().expect("a SQLite store has a log");
        assert!(log.checkpoints >= 1, "{log:?}");
        assert!(
            log.wal_bytes > 0 && log.wal_bytes <= wal,
            "{log:?} in a file of {wal} bytes"
        );
        assert_eq!(ids(&store).len(), 192 * 16, "every event committed");
    }

    #[test]
    fn a_reader_holding_the_log_never_fails_a_commit_and_the_log_stays_bounded() {
        let (dir, store) = open_temp();
        let path = dir.path().join("nested/dir/events.db");
        // An operator's long `export`: a read transaction pins its snapshot, so no checkpoint
        // may copy past it and the log cannot restart.
        let reader = Connection::open(&path).expect("reader");
        reader.execute_batch("BEGIN").expect("begin");
        let _: i64 = reader
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .expect("read");
        // 40 MiB: past the 32 MiB at which the writer checkpoints in its own commits, which
        // must not turn into a failed commit while the reader is there.
        for c in 0..160 {
            store
                .insert(&big_events(&format!("r{c}"), 16, 16_000))
                .expect("a commit never fails for a checkpoint");
        }
        reader.execute_batch("COMMIT").expect("end read");
        drop(reader);
        // With the reader gone, the next commits catch up and the log restarts.
        for c in 160..200 {
            store
                .insert(&big_events(&format!("r{c}"), 16, 16_000))
                .expect("insert");
        }
        let before = wal_bytes(&store);
        for c in 200..400 {
            store
                .insert(&big_events(&format!("r{c}"), 16, 16_000))
                .expect("insert");
        }
        assert!(
            wal_bytes(&store) <= before,
            "50 MiB more went into a restarted log, not onto its end: {} -> {} bytes",
            before,
            wal_bytes(&store)
        );
        assert_eq!(ids(&store).len(), 400 * 16, "every event committed");
    }

    #[cfg(unix)]
    #[test]
    fn new_database_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, store) = open_temp();
        let mode = std::fs::metadata(store.path())
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    #[test]
    fn reinserting_same_ids_counts_zero_new() {
        let (_dir, store) = open_temp();
        let batch = vec![event("a", 10), event("b", 20)];
        assert_eq!(store.insert(&batch).expect("first insert"), 2);
        assert_eq!(store.insert(&batch).expect("retry"), 0);
        let mixed = vec![event("b", 20), event("c", 30)];
        assert_eq!(store.insert(&mixed).expect("mixed"), 1);
        assert_eq!(ids(&store).len(), 3);
    }

    #[test]
    fn insert_each_flags_duplicates_within_one_group() {
        let (_dir, store) = open_temp();
        store.insert(&[event("a", 1)]).expect("seed");
        let flags = store
            .insert_each(&[event("a", 1), event("b", 2), event("b", 2), event("c", 3)])
            .expect("insert");
        assert_eq!(flags, vec![false, true, false, true]);
    }

    #[test]
    fn data_survives_reopening_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.db");
        {
            let store = SqliteStore::open(&path).expect("open");
            assert_eq!(
                store
                    .insert(&[event("a", 1), event("b", 2)])
                    .expect("insert"),
                2
            );
        }
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            ids(&store),
            vec![(window::test_id("a"), 1), (window::test_id("b"), 2)]
        );
        assert_eq!(
            store.insert(&[event("a", 1)]).expect("retry after restart"),
            0
        );
    }

    #[test]
    fn delete_before_removes_only_older_rows() {
        let (_dir, store) = open_temp();
        store
            .insert(&[
                event("old1", 100),
                event("old2", 199),
                event("edge", 200),
                event("new", 300),
            ])
            .expect("insert");
        assert_eq!(store.delete_before(200).expect("delete"), 2);
        assert_eq!(
            ids(&store),
            vec![
                (window::test_id("edge"), 200),
                (window::test_id("new"), 300)
            ]
        );
        assert_eq!(store.delete_before(200).expect("delete again"), 0);
    }

    #[test]
    fn delete_before_works_across_chunks() {
        let (_dir, store) = open_temp();
        let many: Vec<_> = (0..DELETE_CHUNK + 7)
            .map(|i| event(&format!("{i:032x}"), 5))
            .collect();
        store.insert(&many).expect("insert");
        store.insert(&[event("keep", 10)]).expect("insert keep");
        assert_eq!(store.delete_before(10).expect("delete"), DELETE_CHUNK + 7);
        assert_eq!(ids(&store), vec![(window::test_id("keep"), 10)]);
    }

    #[test]
    fn register_schema_is_idempotent_by_fingerprint() {
        let (_dir, store) = open_temp();
        let schema = SchemaRecord {
            fingerprint: "ef".repeat(32),
            site: "example.com".to_owned(),
            version: "1".to_owned(),
            body: "{}".to_owned(),
            first_seen: 1,
        };
        store.register_schema(&schema).expect("register");
        let later = SchemaRecord {
            version: "changed".to_owned(),
            first_seen: 2,
            ..schema.clone()
        };
        store.register_schema(&later).expect("register again");
        let rows: Vec<(String, i64)> = store
            .with_connection("test read", |c| {
                let mut stmt = c.prepare("SELECT version, first_seen FROM schemas")?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .expect("read");
        assert_eq!(
            rows,
            vec![("1".to_owned(), 1)],
            "the first registration is kept"
        );
    }

    #[test]
    fn a_retry_past_the_window_is_stored_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open_with_window(&dir.path().join("e.db"), 1).expect("open");
        assert_eq!(store.layout(), SqliteLayout::Appended);
        for name in ["a", "b", "c"] {
            assert_eq!(store.insert(&[event(name, 1)]).expect("insert"), 1);
        }
        // Generations of one id: the window holds "b" and "c" now.
        assert_eq!(store.insert(&[event("c", 1)]).expect("retry c"), 0);
        assert_eq!(store.insert(&[event("b", 1)]).expect("retry b"), 0);
        assert_eq!(
            store.insert(&[event("a", 1)]).expect("late retry a"),
            1,
            "forgotten: stored again, and counted once by reads (query)"
        );
        assert_eq!(ids(&store).len(), 4);
    }

    #[test]
    fn reopening_refills_the_window_with_the_newest_ids() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("e.db");
        {
            let store = SqliteStore::open_with_window(&path, 100).expect("open");
            let all: Vec<_> = ["a", "b", "c", "d", "e"]
                .into_iter()
                .map(|n| event(n, 1))
                .collect();
            assert_eq!(store.insert(&all).expect("insert"), 5);
        }
        let store = SqliteStore::open_with_window(&path, 2).expect("reopen");
        assert_eq!(store.lock().window.len(), 2);
        assert_eq!(
            store
                .insert(&[event("d", 1), event("e", 1)])
                .expect("retry the newest"),
            0
        );
        assert_eq!(store.insert(&[event("c", 1)]).expect("retry c"), 1);
    }

    /// An id enters the window only with a commit that returned: remembering the ids of a
    /// rolled-back group would make its retry a "duplicate", and lose it.
    #[test]
    fn a_failed_commit_leaves_no_id_in_the_window() {
        let (_dir, store) = open_temp();
        store
            .with_connection("test trigger", |c| {
                c.execute_batch(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event = 'boom'
                     BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                )
            })
            .expect("trigger");
        let boom = StoredEvent {
            event: "boom".to_owned(),
            ..event("z", 1)
        };
        store
            .insert(&[event("a", 1), event("b", 1), boom])
            .expect_err("the group fails");
        assert!(ids(&store).is_empty(), "rolled back");
        assert_eq!(
            store
                .insert(&[event("a", 1), event("b", 1)])
                .expect("the retry"),
            2
        );
        assert_eq!(ids(&store).len(), 2);
    }

    /// Files created before format 2 keep their unique id index, and it still de-duplicates
    /// (the window is not used on them), across a reopen and through retention.
    #[test]
    fn format_1_files_deduplicate_by_their_unique_index() {
        for without_rowid in [false, true] {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("old.db");
            Connection::open(&path)
                .and_then(|c| {
                    c.execute_batch(&crate::store::query::tests::legacy_ddl(without_rowid))
                })
                .expect("an old file");
            let store = SqliteStore::open_with_window(&path, 1).expect("open");
            assert_eq!(store.layout(), SqliteLayout::UniqueId);
            assert_eq!(
                store
                    .insert_each(&[event("a", 1), event("b", 2), event("a", 1)])
                    .expect("insert"),
                vec![true, true, false]
            );
            drop(store);
            let store = SqliteStore::open_with_window(&path, 1).expect("reopen");
            assert_eq!(store.lock().window.len(), 0);
            assert_eq!(
                store
                    .insert(&[event("a", 1), event("b", 2), event("c", 3)])
                    .expect("retry"),
                1
            );
            assert_eq!(store.delete_before(2).expect("retention"), 1);
            assert_eq!(
                ids(&store),
                vec![(window::test_id("b"), 2), (window::test_id("c"), 3)]
            );
        }
    }

    #[test]
    fn errors_name_the_operation_not_the_row() {
        let (_dir, store) = open_temp();
        store
            .with_connection("test drop", |c| c.execute_batch("DROP TABLE events"))
            .expect("drop");
        let secret = StoredEvent {
            id: "secret-id-0123".to_owned(),
            ..event("secret", 1)
        };
        let err = store.insert(&[secret]).expect_err("no table");
        let text = format!("{err} {err:?}");
        assert!(text.contains("insert"), "{text}");
        assert!(!text.contains("secret-id-0123"), "{text}");
    }
}

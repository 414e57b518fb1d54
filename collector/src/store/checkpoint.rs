//! WAL checkpoints on their own thread, off the commit path.
//!
//! A WAL commit appends pages to the log; a checkpoint copies them back into the database file
//! and fsyncs it. SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold, on the group-commit writer's thread, the one serial stage of ingest: every
//! request of that group, and every group queued behind it, waits for the copy. Here the
//! writer's connection only notes the log's size after each commit (its WAL hook) and wakes a
//! thread with a connection of its own, which runs a `PASSIVE` checkpoint: it copies what is in
//! the log without taking the write lock, so commits go on meanwhile.
//!
//! The log restarts from its beginning when a write transaction begins after everything in it
//! was copied, which a thread copying beside back-to-back commits never sees: there is always a
//! newer commit it has not copied yet. So the thread is woken after every commit once the log
//! passes the threshold, copying the few pages of the commits that came during its last pass,
//! and half a threshold later the writer copies what is left inside its commit: a commit or
//! two, not the whole log. The log then restarts at the next transaction. If the thread cannot
//! keep up (a slow disk), the writer's copy is larger, as SQLite's own would have been; if a
//! reader holds an old snapshot (a long `export`), no copy can pass it and the log grows until
//! the reader is done, as it always did.
//!
//! Durability is the commit's, not the checkpoint's: a commit is durable once its WAL frames
//! are fsynced (`synchronous=FULL`); a crash before a checkpoint loses nothing, SQLite replays
//! the log at the next open.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

use super::{StoreError, db};

/// What the writer's WAL hook does after a commit that left `pages` pages in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Nothing: the log is under the threshold.
    None,
    /// Wake the thread to copy the log.
    Wake,
    /// Copy what the thread has not, in this commit; `warn` when the log is so far past the
    /// threshold that something holds it (logged once per episode).
    CatchUp { warn: bool },
}

/// The log may grow to this many times the threshold before the store logs that something
/// holds it.
const WARN_FACTOR: i32 = 16;

/// The hook's decision for a log of `pages` pages against a threshold of `soft` pages.
pub(super) fn step(pages: i32, soft: i32) -> Step {
    if pages < soft {
        Step::None
    } else if pages < soft.saturating_add(soft / 2) {
        Step::Wake
    } else {
        Step::CatchUp {
            warn: pages >= soft.saturating_mul(WARN_FACTOR),
        }
    }
}

/// The checkpoint thread and the flag the writer's WAL hook sets to wake it.
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What the WAL hook and the thread share.
#[derive(Default)]
pub(super) struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Checkpoints the thread has completed.
    done: AtomicU64,
    /// The log is far past its threshold: something holds it (logged once per episode).
    behind: AtomicBool,
    /// Pages in the log after the last commit, as the WAL hook was told.
    pages: AtomicI32,
}

#[derive(Default)]
struct State {
    /// The log is over the threshold: checkpoint it.
    pending: bool,
    /// The store is closing: exit.
    stop: bool,
}

impl Shared {
    /// The log holds `pages` pages after a commit (from the writer's WAL hook).
    pub(super) fn note(&self, pages: i32) {
        self.pages.store(pages, Ordering::Relaxed);
    }

    /// Ask for a checkpoint (from the writer's WAL hook: cheap, never blocks on one).
    pub(super) fn request(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pending = true;
        self.wake.notify_one();
        // Woken again only after the log restarted: what held it has let go.
        if self.behind.swap(false, Ordering::Relaxed) {
            tracing::info!(
                "the WAL has been copied and restarted since it grew past its warning size"
            );
        }
    }

    /// The log is far past the threshold (see [`Step::CatchUp`]).
    pub(super) fn fell_behind(&self) {
        if !self.behind.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the WAL is over {WARN_FACTOR} times its checkpoint size: a reader holds an old \
                 snapshot (a long export?) or the disk is slower than the writes"
            );
        }
    }
}

impl Checkpointer {
    /// Open a second connection to `path` (already in WAL mode) and start the thread.
    pub(super) fn spawn(path: &Path, busy: std::time::Duration) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db("open checkpoint connection"))?;
        conn.busy_timeout(busy).map_err(db("set busy timeout"))?;
        // The checkpoint fsyncs the log before copying it and the file after, as the writer's
        // own checkpoints did.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db("set synchronous"))?;
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("sieve-checkpoint".into())
                .spawn(move || run(&conn, &shared))
                .map_err(|e| StoreError::Database {
                    op: "start checkpoint thread",
                    source: Box::new(e),
                })?
        };
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// What the writer's WAL hook holds to wake the thread.
    pub(super) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Checkpoints the thread has completed since the store was opened.
    pub(super) fn done(&self) -> u64 {
        self.shared.done.load(Ordering::Relaxed)
    }

    /// Pages in the log after the last commit.
    pub(super) fn pages(&self) -> u64 {
        u64::try_from(self.shared.pages.load(Ordering::Relaxed)).unwrap_or(0)
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A checkpoint in progress finishes first; it is a copy of committed pages.
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        {
            let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
            while !state.pending && !state.stop {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.stop {
                return;
            }
            state.pending = false;
        }
        // (busy, frames in the log, frames copied). A failure (the file is locked by an
        // operator's `VACUUM`, say) is tried again after the next commit.
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        }) {
            Ok(_) => {
                shared.done.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; retried after the next commit")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_copies_first_and_the_writer_finishes() {
        let soft = 256;
        assert_eq!(step(0, soft), Step::None);
        assert_eq!(step(255, soft), Step::None);
        assert_eq!(step(256, soft), Step::Wake);
        assert_eq!(step(383, soft), Step::Wake);
        assert_eq!(step(384, soft), Step::CatchUp { warn: false });
        assert_eq!(step(4095, soft), Step::CatchUp { warn: false });
        assert_eq!(step(4096, soft), Step::CatchUp { warn: true });
        assert_eq!(
            step(i32::MAX, i32::MAX),
            Step::CatchUp { warn: true },
            "no overflow"
        );
    }
}

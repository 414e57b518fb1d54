//! Group commit in front of the store, with a bounded queue.
//!
//! Every ingest request must wait for a durable commit before it answers 2xx, and a durable
//! commit costs an fsync. One writer thread therefore takes every request that queued while
//! the previous commit ran, stores them all in ONE transaction, and then answers each request
//! with how many of its own events were new. Under load, many requests share one fsync.
//!
//! The queue is bounded in events (not requests), counting both those waiting and those in
//! the commit running now, so memory stays bounded when the disk is slow: past the bound,
//! [`Writer::submit`] fails at once with [`StoreError::Full`] and the caller answers 503 with
//! `Retry-After`. Nothing is acknowledged before its commit, so refusing loses nothing.
//!
//! It does not: retry a failed commit (the SDK retries, and event ids make that idempotent),
//! verify or transform events (ingest did), or run on tokio (SQLite calls block; a plain
//! thread with a mutex and condition variable is the honest tool).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{Store, StoreError, StoredEvent};

/// Most events one transaction takes. A group this size commits in tens of milliseconds on
/// SQLite; a larger one would only add latency for the requests at its front and hold the
/// database lock longer against retention and the auditors' tools. A single request larger
/// than this still commits, alone.
pub const MAX_GROUP_EVENTS: usize = 10_000;

/// What the writer needs beyond [`Store`]: one durable transaction that reports, per event,
/// whether it was new. A total alone could not be split back into per-request counts when
/// requests in one group share ids or repeat ones already stored.
pub trait GroupStore: Store {
    /// Durably store `events` in one transaction, skipping ids already stored (including ids
    /// earlier in the same slice). Returns one flag per event, in order: `true` if it was new.
    /// Returns only after the commit is durable; on error nothing of `events` is committed.
    fn insert_each(&self, events: &[StoredEvent]) -> Result<Vec<bool>, StoreError>;

    /// [`GroupStore::insert_each`], counted: how many of `events` were new.
    fn insert(&self, events: &[StoredEvent]) -> Result<usize, StoreError> {
        Ok(self
            .insert_each(events)?
            .into_iter()
            .filter(|&new| new)
            .count())
    }
}

/// Reports each successful commit: how long `insert_each` took, and how many events it held.
type CommitObserver = Arc<dyn Fn(Duration, usize) + Send + Sync>;

/// A queued request: its events and where to send its answer.
struct Request {
    events: Vec<StoredEvent>,
    reply: oneshot::Sender<Result<usize, StoreError>>,
}

/// Queue state, under one mutex.
struct State {
    requests: VecDeque<Request>,
    /// Events accepted and not yet answered: waiting in `requests` or in the running commit.
    /// This, not the queue length, is what the bound limits: it is what occupies memory.
    pending: usize,
    /// No new requests; the thread commits what is queued and exits.
    stopping: bool,
    /// The writer thread is waiting on `wake`. While it commits, a new request needs no
    /// signal: it looks at the queue before it waits again. (A signal is a `futex` system
    /// call, and at saturation requests arrive ~15 per commit.)
    idle: bool,
}

/// What the submitting side and the writer thread share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a request arrives or stopping is set.
    wake: Condvar,
    max_queued_events: usize,
    observer: RwLock<Option<CommitObserver>>,
}

impl Shared {
    /// Poisoning can only come from a panic in this module's own short critical sections,
    /// which leave `State` consistent; the thread's exit guard handles the rest.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The handle's owner side: dropping the last [`Writer`] clone tells the thread to finish.
struct Inner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Without joining: a drop may run on an async worker. The thread still commits what is
        // queued before it exits.
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
    }
}

/// The group-commit writer. Cheap to clone: clones share one queue and one thread.
#[derive(Clone)]
pub struct Writer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("queued", &self.queued())
            .field("max_queued_events", &self.inner.shared.max_queued_events)
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Start the writer thread over `store`. `max_queued_events` bounds memory: events accepted
    /// and not yet answered, across all requests. A batch larger than the bound is always
    /// refused, so the bound must be at least the ingest limit on events per batch.
    pub fn spawn<S: GroupStore + ?Sized>(store: Arc<S>, max_queued_events: usize) -> Writer {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                requests: VecDeque::new(),
                pending: 0,
                stopping: false,
                idle: false,
            }),
            wake: Condvar::new(),
            max_queued_events,
            observer: RwLock::new(None),
        });
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("sieve-store-writer".to_owned())
            .spawn(move || run(&*store, &for_thread))
            // Only at start-up, and only when the OS is out of threads or memory: nothing
            // sensible can be served without a writer, so failing loudly is right.
            .expect("the OS refused to start the store writer thread");
        Writer {
            inner: Arc::new(Inner {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
        }
    }

    /// Queue a batch. The returned future resolves after the commit that included it is
    /// durable, with how many of its events were new (duplicates by id excluded), or with the
    /// commit's error. Fails at once with [`StoreError::Full`] if queuing would exceed the
    /// bound, or [`StoreError::Stopped`] if the writer is shutting down or gone.
    ///
    /// Dropping the future does not withdraw the batch: it may still be stored, which is
    /// harmless because a retry with the same ids is recognised as one (and a copy stored
    /// anyway is counted once by every read).
    pub fn submit(
        &self,
        events: Vec<StoredEvent>,
    ) -> Result<impl Future<Output = Result<usize, StoreError>> + Send + 'static + use<>, StoreError>
    {
        // `use<>`: the future borrows nothing from `self` (edition 2024 would otherwise
        // capture its lifetime), so it can outlive this handle and move into a task.
        let shared = &self.inner.shared;
        let (reply, wake) = {
            let mut state = shared.lock();
            if state.stopping {
                return Err(StoreError::Stopped);
            }
            if events.is_empty() {
                // Nothing to make durable; no reason to wait for someone else's fsync.
                (None, false)
            } else {
                let after = state.pending.saturating_add(events.len());
                if after > shared.max_queued_events {
                    return Err(StoreError::Full);
                }
                let (tx, rx) = oneshot::channel();
                state.pending = after;
                state.requests.push_back(Request { events, reply: tx });
                (Some(rx), state.idle)
            }
        };
        if wake {
            shared.wake.notify_one();
        }
        Ok(async move {
            match reply {
                None => Ok(0),
                // A dropped sender means the thread died without answering.
                Some(rx) => rx.await.unwrap_or(Err(StoreError::Stopped)),
            }
        })
    }

    /// Events accepted and not yet answered (waiting, or in the commit running now): the
    /// queue-depth metric, and what the bound limits.
    pub fn queued(&self) -> usize {
        self.inner.shared.lock().pending
    }

    /// Report each successful commit's duration and number of events to `f` (for a metrics
    /// histogram). Replaces any earlier callback. `f` runs on the writer thread between
    /// commits, so it must be quick.
    pub fn on_commit(&self, f: impl Fn(Duration, usize) + Send + Sync + 'static) {
        let mut observer = self
            .inner
            .shared
            .observer
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *observer = Some(Arc::new(f));
    }

    /// Stop accepting, commit what is queued, and join the thread. Blocks until then, so
    /// call it from a blocking context (end of `main`, or `spawn_blocking`). Later calls, and
    /// calls from other clones, return at once.
    pub fn shutdown(&self) {
        let shared = &self.inner.shared;
        shared.lock().stopping = true;
        shared.wake.notify_all();
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && thread.join().is_err()
        {
            // The panic message went to stderr already; requests it held were answered
            // `Stopped` by the exit guard.
            tracing::error!("store writer thread panicked");
        }
    }
}

/// On the thread's way out, however it leaves (including a panic in the store), refuse new
/// requests and drop the waiting ones' reply senders, so their futures resolve `Stopped`
/// instead of hanging.
struct ExitGuard<'a>(&'a Shared);

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.stopping = true;
        state.requests.clear();
        state.pending = 0;
    }
}

/// The writer thread: wait for work, take a group, commit it, answer; until stopped and empty.
fn run<S: GroupStore + ?Sized>(store: &S, shared: &Shared) {
    let _guard = ExitGuard(shared);
    loop {
        let group = {
            let mut state = shared.lock();
            while state.requests.is_empty() && !state.stopping {
                state.idle = true;
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.idle = false;
            }
            if state.requests.is_empty() {
                return; // stopping, and everything queued has been committed
            }
            take_group(&mut state.requests)
        };
        commit(store, shared, group);
    }
}

/// Everything queued now, up to [`MAX_GROUP_EVENTS`] (but always at least one request).
fn take_group(requests: &mut VecDeque<Request>) -> Vec<Request> {
    let mut group = Vec::new();
    let mut events = 0;
    while let Some(next) = requests.front() {
        if !group.is_empty() && events + next.events.len() > MAX_GROUP_EVENTS {
            break;
        }
        events += next.events.len();
        group.extend(requests.pop_front());
    }
    group
}

/// One transaction for the whole group, then each request's own answer.
fn commit<S: GroupStore + ?Sized>(store: &S, shared: &Shared, group: Vec<Request>) {
    let total: usize = group.iter().map(|r| r.events.len()).sum();
    let mut sizes = Vec::with_capacity(group.len());
    let mut replies = Vec::with_capacity(group.len());
    let mut events = Vec::with_capacity(total);
    for Request {
        events: mut batch,
        reply,
    } in group
    {
        sizes.push(batch.len());
        replies.push(reply);
        events.append(&mut batch);
    }

    let started = Instant::now();
    let result = store.insert_each(&events);
    let took = started.elapsed();
    drop(events);

    // Release the bound before answering, so a caller that resolves and submits again at once
    // sees the room its own batch freed.
    {
        let mut state = shared.lock();
        state.pending = state.pending.saturating_sub(total);
    }

    match result {
        Ok(flags) => {
            if let Some(observe) = shared
                .observer
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
            {
                observe(took, total);
            }
            let mut flags = flags.into_iter();
            for (size, reply) in sizes.into_iter().zip(replies) {
                let new = flags.by_ref().take(size).filter(|&new| new).count();
                // A closed receiver means the client went away; its events are stored anyway.
                let _ = reply.send(Ok(new));
            }
        }
        Err(err) => {
            let shared_err = SharedError::new(err);
            for reply in replies {
                let _ = reply.send(Err(shared_err.for_request()));
            }
        }
    }
}

/// One commit's error, handed to every request of the group. [`StoreError`] cannot be cloned
/// (it boxes the driver's error), so each request gets a `Database` error that points at the
/// same underlying source.
enum SharedError {
    Database {
        op: &'static str,
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    Full,
    Stopped,
}

impl SharedError {
    fn new(err: StoreError) -> SharedError {
        match err {
            StoreError::Database { op, source } => SharedError::Database {
                op,
                source: Arc::from(source),
            },
            StoreError::Full => SharedError::Full,
            StoreError::Stopped => SharedError::Stopped,
        }
    }

    fn for_request(&self) -> StoreError {
        match self {
            SharedError::Database { op, source } => StoreError::Database {
                op,
                source: Box::new(SourceRef(Arc::clone(source))),
            },
            SharedError::Full => StoreError::Full,
            SharedError::Stopped => StoreError::Stopped,
        }
    }
}

/// A shared driver error that displays as itself and exposes its own cause chain.
#[derive(Debug)]
struct SourceRef(Arc<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceRef {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    use super::*;
    use crate::store::SchemaRecord;
    use crate::store::sqlite::SqliteStore;

    /// Guards against a hung test, not a performance threshold.
    const HANG: Duration = Duration::from_secs(30);

    fn event(name: &str) -> StoredEvent {
        StoredEvent {
            id: crate::store::window::test_id(name),
            site: "example.com".to_owned(),
            schema: "ab".repeat(32),
            epoch: "2026-11-22".to_owned(),
            event: "page".to_owned(),
            time: 3_600,
            visitor: None,
            data: "{}".to_owned(),
        }
    }

    fn batch(ids: &[&str]) -> Vec<StoredEvent> {
        ids.iter().map(|id| event(id)).collect()
    }

    fn wait<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// An in-memory store that records each group, and can hold its first commit until the
    /// test releases it, so requests deterministically queue behind it.
    #[derive(Default)]
    struct TestStore {
        ids: Mutex<HashSet<String>>,
        groups: Mutex<Vec<usize>>,
        gate: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
        fail: AtomicBool,
        panic: AtomicBool,
    }

    impl TestStore {
        /// Returns (entered, release): the first commit signals `entered`, then waits for
        /// `release`.
        fn gated() -> (Arc<TestStore>, mpsc::Receiver<()>, mpsc::Sender<()>) {
            let (entered_tx, entered_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel();
            let store = TestStore {
                gate: Mutex::new(Some((entered_tx, release_rx))),
                ..TestStore::default()
            };
            (Arc::new(store), entered_rx, release_tx)
        }

        fn groups(&self) -> Vec<usize> {
            self.groups.lock().expect("groups").clone()
        }
    }

    impl Store for TestStore {
        fn register_schema(&self, _: &SchemaRecord) -> Result<(), StoreError> {
            Ok(())
        }
        fn delete_before(&self, _: i64) -> Result<usize, StoreError> {
            Ok(0)
        }
        fn health(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    impl GroupStore for TestStore {
        fn insert_each(&self, events: &[StoredEvent]) -> Result<Vec<bool>, StoreError> {
            let gate = self.gate.lock().expect("gate").take();
            if let Some((entered, release)) = gate {
                entered.send(()).expect("test is waiting");
                release
                    .recv_timeout(HANG)
                    .expect("test releases the first commit");
            }
            if self.panic.load(Ordering::SeqCst) {
                panic!("test store panics on purpose");
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err(StoreError::Database {
                    op: "test commit",
                    source: "disk on fire".into(),
                });
            }
            self.groups.lock().expect("groups").push(events.len());
            let mut ids = self.ids.lock().expect("ids");
            Ok(events.iter().map(|e| ids.insert(e.id.clone())).collect())
        }
    }

    #[test]
    fn racing_submits_share_commits() {
        let (store, entered, release) = TestStore::gated();
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        let submitters: Vec<_> = (0..50)
            .map(|i| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    writer.submit(vec![event(&format!("e{i}"))]).expect("room")
                })
            })
            .collect();
        let futures: Vec<_> = submitters
            .into_iter()
            .map(|t| t.join().expect("submitter"))
            .collect();
        // All 50 are queued or in the held first commit; only then let it finish.
        entered.recv_timeout(HANG).expect("first commit started");
        assert_eq!(writer.queued(), 50);
        release.send(()).expect("release");
        for f in futures {
            assert_eq!(wait(f).expect("committed"), 1);
        }
        let groups = store.groups();
        assert!(
            groups.len() <= 2,
            "everything queued behind the first commit goes in one: {groups:?}"
        );
        assert_eq!(groups.iter().sum::<usize>(), 50);
        assert_eq!(writer.queued(), 0);
        writer.shutdown();
    }

    #[test]
    fn each_request_gets_its_own_new_count() {
        let (store, entered, release) = TestStore::gated();
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        let first = writer.submit(batch(&["x"])).expect("room");
        entered.recv_timeout(HANG).expect("first commit started");
        // These two queue behind the held commit and share the next one, overlapping on "y"
        // and repeating the already stored "x".
        let a = writer.submit(batch(&["x", "y"])).expect("room");
        let b = writer.submit(batch(&["y", "z"])).expect("room");
        release.send(()).expect("release");
        assert_eq!(wait(first).expect("first"), 1);
        assert_eq!(wait(a).expect("a"), 1, "x was stored already, y is new");
        assert_eq!(
            wait(b).expect("b"),
            1,
            "y came earlier in the group, z is new"
        );
        assert_eq!(store.groups(), vec![1, 4]);
        let again = writer.submit(batch(&["x", "y", "z"])).expect("room");
        assert_eq!(wait(again).expect("retry"), 0);
        writer.shutdown();
    }

    #[test]
    fn full_when_bound_exceeded_while_store_is_blocked() {
        let (store, entered, release) = TestStore::gated();
        let writer = Writer::spawn(Arc::clone(&store), 10);
        let held = writer.submit(batch(&["a", "b", "c", "d"])).expect("room");
        entered.recv_timeout(HANG).expect("first commit started");
        let queued = writer
            .submit(batch(&["e", "f", "g", "h", "i", "j"]))
            .expect("exactly at the bound");
        assert!(matches!(
            writer.submit(batch(&["k"])),
            Err(StoreError::Full)
        ));
        assert!(matches!(
            writer.submit(batch(&["k", "l"])),
            Err(StoreError::Full)
        ));
        assert_eq!(
            writer.queued(),
            10,
            "events in the running commit count against the bound too"
        );
        release.send(()).expect("release");
        assert_eq!(wait(held).expect("held"), 4);
        assert_eq!(wait(queued).expect("queued"), 6);
        assert_eq!(writer.queued(), 0);
        let later = writer
            .submit(batch(&["k"]))
            .expect("room again after the commits");
        assert_eq!(wait(later).expect("later"), 1);
        assert!(
            matches!(writer.submit(batch(&["1"; 11])), Err(StoreError::Full)),
            "larger than the bound"
        );
        writer.shutdown();
    }

    #[test]
    fn shutdown_commits_what_is_queued() {
        let (store, entered, release) = TestStore::gated();
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        let held = writer.submit(batch(&["a"])).expect("room");
        entered.recv_timeout(HANG).expect("first commit started");
        let queued: Vec<_> = (0..5)
            .map(|i| writer.submit(vec![event(&format!("q{i}"))]).expect("room"))
            .collect();
        let stopper = {
            let writer = writer.clone();
            std::thread::spawn(move || writer.shutdown())
        };
        // Once shutdown has begun, new work is refused; the queued work must still commit.
        let deadline = Instant::now() + HANG;
        while writer.submit(Vec::new()).is_ok() {
            assert!(Instant::now() < deadline, "shutdown never began");
            std::thread::yield_now();
        }
        assert!(matches!(
            writer.submit(batch(&["late"])),
            Err(StoreError::Stopped)
        ));
        release.send(()).expect("release");
        stopper.join().expect("shutdown returns");
        assert_eq!(wait(held).expect("held"), 1);
        for f in queued {
            assert_eq!(wait(f).expect("queued before shutdown"), 1);
        }
        assert_eq!(store.groups().iter().sum::<usize>(), 6);
        writer.shutdown(); // a second call returns at once
    }

    #[test]
    fn failed_commit_fails_every_request_in_the_group() {
        let (store, entered, release) = TestStore::gated();
        store.fail.store(true, Ordering::SeqCst);
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        let first = writer.submit(batch(&["a"])).expect("room");
        entered.recv_timeout(HANG).expect("first commit started");
        let a = writer.submit(batch(&["b"])).expect("room");
        let b = writer.submit(batch(&["c"])).expect("room");
        release.send(()).expect("release");
        for f in [wait(first), wait(a), wait(b)] {
            match f {
                Err(StoreError::Database { op, source }) => {
                    assert_eq!(op, "test commit");
                    assert_eq!(source.to_string(), "disk on fire");
                }
                other => panic!("expected the commit's error, got {other:?}"),
            }
        }
        assert_eq!(writer.queued(), 0, "a failed commit frees its room");
        // The writer keeps going after a failure: the SDK's retry can succeed.
        store.fail.store(false, Ordering::SeqCst);
        let retry = writer.submit(batch(&["a", "b", "c"])).expect("room");
        assert_eq!(wait(retry).expect("retry"), 3);
        writer.shutdown();
    }

    #[test]
    fn dead_writer_thread_answers_stopped() {
        let store = Arc::new(TestStore::default());
        store.panic.store(true, Ordering::SeqCst);
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        let doomed = writer.submit(batch(&["a"])).expect("room");
        assert!(matches!(wait(doomed), Err(StoreError::Stopped)));
        // The reply senders drop while the panic unwinds, just before the exit guard runs, so
        // a submit in between may still be taken; it too must be answered, never left hanging.
        let deadline = Instant::now() + HANG;
        loop {
            match writer.submit(batch(&["b"])) {
                Err(StoreError::Stopped) => break,
                Ok(f) => assert!(matches!(wait(f), Err(StoreError::Stopped))),
                Err(other) => panic!("expected Stopped, got {other:?}"),
            }
            assert!(Instant::now() < deadline, "the dead writer kept accepting");
        }
        assert_eq!(writer.queued(), 0);
        writer.shutdown();
    }

    #[test]
    fn on_commit_reports_each_group() {
        let store = Arc::new(TestStore::default());
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        writer.on_commit(move |_took, events| sink.lock().expect("seen").push(events));
        assert_eq!(
            wait(writer.submit(batch(&["a", "b"])).expect("room")).expect("commit"),
            2
        );
        writer.shutdown();
        assert_eq!(*seen.lock().expect("seen"), vec![2]);
    }

    #[test]
    fn groups_respect_the_event_cap() {
        let mut requests: VecDeque<Request> = (0..3)
            .map(|i| Request {
                events: (0..MAX_GROUP_EVENTS / 2)
                    .map(|j| event(&format!("{i}-{j}")))
                    .collect(),
                reply: oneshot::channel().0,
            })
            .collect();
        assert_eq!(take_group(&mut requests).len(), 2);
        assert_eq!(take_group(&mut requests).len(), 1);
        let mut oversized: VecDeque<Request> = [Request {
            events: (0..=MAX_GROUP_EVENTS)
                .map(|j| event(&j.to_string()))
                .collect(),
            reply: oneshot::channel().0,
        }]
        .into();
        assert_eq!(
            take_group(&mut oversized).len(),
            1,
            "an oversized request still commits, alone"
        );
    }

    #[test]
    fn sqlite_end_to_end_through_the_writer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.db");
        let store = Arc::new(SqliteStore::open(&path).expect("open"));
        let writer = Writer::spawn(Arc::clone(&store), 1_000);
        assert_eq!(
            wait(writer.submit(batch(&["a", "b"])).expect("room")).expect("commit"),
            2
        );
        assert_eq!(
            wait(writer.submit(batch(&["b", "c"])).expect("room")).expect("commit"),
            1
        );
        writer.shutdown();
        drop(store);
        let reopened = SqliteStore::open(&path).expect("reopen");
        assert_eq!(reopened.insert(&batch(&["a", "b", "c"])).expect("retry"), 0);
    }
}

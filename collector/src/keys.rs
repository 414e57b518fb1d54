//! The key ring: one random client key and one random secret pepper per key epoch, kept in a
//! key file apart from the event store, and destroyed when the epoch leaves the linkability
//! window (crypto-shredding).
//!
//! What it does:
//! - generates an epoch's keys (32 bytes each from the OS random source) the first time the
//!   epoch is needed, and persists them before anyone uses them, so a restart hands out the
//!   same keys and pseudonyms of one epoch stay linkable within it;
//! - keeps older epochs' keys while they are inside the window, because a batch names the
//!   epoch its pseudonyms were hashed in and late batches (offline browsers, retries) must still
//!   be re-keyed with the right pepper;
//! - destroys keys: on expiry (`destroy_expired`) and on demand (`sieve-collector keys
//!   destroy`). The key bytes are removed from the file; a tombstone records only the epoch's
//!   id, its span and when it was destroyed, so an auditor can see that shredding happened;
//! - notices when another process (the `keys` command) changed the file, so a running server
//!   forgets destroyed keys (`reload_if_changed`).
//!
//! The file is JSON, mode 0600 (its directory 0700 when we create it), and every write is
//! atomic: a temporary file in the same directory (mode 0600), fsync, rename over the old file,
//! fsync the directory. A crash leaves either the old file or the new one, never half of
//! one. Writers from several processes are serialised by an advisory lock on `<file>.lock`,
//! and each write re-reads the file under the lock first, so a server generating tomorrow's
//! keys cannot resurrect an epoch the `keys` command destroyed a moment earlier.
//!
//! What it does not do, and the limits of crypto-shredding an operator must know:
//! - Rewriting the file does not erase the disk blocks that held the old version. Until they
//!   are overwritten, destroyed keys may survive in free space, in filesystem journals, in
//!   copy-on-write or snapshotting filesystems (btrfs, ZFS, LVM snapshots), on SSDs (wear
//!   levelling keeps stale copies) and, above all, in backups. Keep the key file on a
//!   filesystem that is not backed up or snapshotted, apart from the event store: a thief who
//!   gets both the store and an old copy of the key file can test guesses against the
//!   pseudonyms of every epoch that copy still holds.
//! - Keys live in process memory while they exist (and their hex form passes through heap
//!   buffers when the file is read or written); they are not zeroed on drop. Destroying an epoch
//!   in the file makes a running server forget it only after `reload_if_changed`.
//! - A stale temporary file (a crash between create and rename) holds keys until the next
//!   write removes it.
//! - Key bytes never appear in errors, `Debug` output or listings; nothing here logs.
//! - Unix only: permissions are Unix modes.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sieve_core::schema::KeyEpoch;
use sieve_core::transform::time::UnixTime;
use sieve_core::{ClientKey, Pepper};

/// Version of the key file layout; a file of another version is refused, not guessed at.
const FORMAT: u32 = 1;
/// Mode of the key file, its lock file and temporary files: owner read/write only.
const FILE_MODE: u32 = 0o600;
/// Mode of a directory we create for the key file: owner only.
const DIR_MODE: u32 = 0o700;
/// Bits that must be clear on an existing key file: any access by group or others.
const GROUP_OTHER_BITS: u32 = 0o077;

/// What went wrong with the key file. Messages name the file and the operation, never key
/// bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A file system operation failed.
    #[error("key file {}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory the operation was on.
        path: PathBuf,
        /// What we tried to do (`read`, `rename the new version over`, ...).
        op: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file exists but is not a key file we can trust.
    #[error("key file {} is corrupt: {what}", path.display())]
    Corrupt {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key bytes).
        what: String,
    },
    /// The key file may be read by other users: refuse it rather than use keys others may hold.
    #[error(
        "key file {} has mode {mode:03o}: group or others may access it, so its keys must be \
         treated as exposed; if they are not, restrict it with `chmod 600 {}` (and check that \
         the directory and its backups are private too)",
        path.display(),
        path.display()
    )]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The operating system gave no randomness to make keys with.
    #[error("cannot generate keys: no randomness from the operating system: {0}")]
    Random(getrandom::Error),
    /// `keys destroy` named an epoch the file has never held.
    #[error("no key epoch {id:?} in the key file (see `keys list`)")]
    UnknownEpoch {
        /// The epoch id asked for.
        id: String,
    },
    /// Printing the `keys` command's output failed.
    #[error("cannot write output: {0}")]
    Output(#[source] io::Error),
}

/// The keys of one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochKeys {
    /// Epoch id (`2026-11-22`, `2026-W47`, `2026-11`): batches name it.
    pub id: String,
    /// First second of the epoch.
    pub start: UnixTime,
    /// First second after the epoch.
    pub end: UnixTime,
    /// Served to browsers; public by nature.
    pub client: ClientKey,
    /// Never leaves the collector.
    pub pepper: Pepper,
}

/// What may be said about an epoch: its span and state, never its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpochInfo {
    /// Epoch id.
    pub id: String,
    /// First second of the epoch (Unix seconds).
    #[serde(serialize_with = "unix_seconds")]
    pub start: UnixTime,
    /// First second after the epoch (Unix seconds).
    #[serde(serialize_with = "unix_seconds")]
    pub end: UnixTime,
    /// Whether its keys are in use, kept, or gone.
    pub state: EpochState,
}

/// The life of an epoch's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochState {
    /// The epoch keys are handed out for.
    Active,
    /// Past (or not the active one), keys kept so late batches can still be re-keyed.
    Retired,
    /// Generated ahead (`keys generate-ahead`), not yet in use.
    Pending,
    /// Keys destroyed: its pseudonyms can no longer be linked to anyone.
    Destroyed,
}

fn unix_seconds<S: serde::Serializer>(t: &UnixTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(t.0)
}

/// The epochs of the key file: keys of live epochs, tombstones of destroyed ones.
pub struct KeyRing {
    path: PathBuf,
    kind: KeyEpoch,
    state: RingState,
    /// Identity of the file version `state` was read from or written as.
    stamp: Option<FileStamp>,
}

/// Prints the file and the epoch ids, never key bytes.
impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("path", &self.path)
            .field("epoch", &self.kind)
            .field("live", &self.state.epochs.keys().collect::<Vec<_>>())
            .field("destroyed", &self.state.destroyed.len())
            .finish()
    }
}

/// The parsed key file.
#[derive(Clone, Default, PartialEq, Eq)]
struct RingState {
    epochs: BTreeMap<String, EpochKeys>,
    destroyed: Vec<Tombstone>,
}

#[derive(Clone, PartialEq, Eq)]
struct Tombstone {
    id: String,
    start: UnixTime,
    end: UnixTime,
    at: UnixTime,
}

/// Which version of the file we hold. The file is replaced by rename on every write, so the
/// inode changes; size and mtime catch an editor that rewrites in place.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileStamp {
    fn of(m: &fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }
}

// The on-disk layout. These hold key hex as plain strings, so they derive no `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    format: u32,
    epoch: String,
    epochs: BTreeMap<String, EpochRepr>,
    destroyed: Vec<TombstoneRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EpochRepr {
    start: i64,
    end: i64,
    client_key: String,
    pepper: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TombstoneRepr {
    id: String,
    start: i64,
    end: i64,
    at: i64,
}

fn epoch_name(kind: KeyEpoch) -> &'static str {
    match kind {
        KeyEpoch::Day => "day",
        KeyEpoch::Week => "week",
        KeyEpoch::Month => "month",
    }
}

fn io_err(path: &Path, op: &'static str) -> impl FnOnce(io::Error) -> KeyError {
    move |source| KeyError::Io {
        path: path.to_owned(),
        op,
        source,
    }
}

impl KeyRing {
    /// Open or create the key file (mode 0600, parent dir 0700 if created). `epoch` from the
    /// schema.
    ///
    /// A file written under another epoch length is accepted: its epochs keep their own spans
    /// and expire by time, and new epochs follow `epoch`.
    pub fn open(path: &Path, epoch: KeyEpoch) -> Result<KeyRing, KeyError> {
        let mut ring = KeyRing {
            path: path.to_owned(),
            kind: epoch,
            state: RingState::default(),
            stamp: None,
        };
        match read_file(path)? {
            Some((state, stamp)) => {
                ring.state = state;
                ring.stamp = Some(stamp);
            }
            None => {
                create_parent(path)?;
                // Write the empty ring now, so a bad path or permission fails at start-up rather
                // than at the first event. Under the lock: another process may be creating it
                // at the same moment, and then its file is adopted as it is.
                ring.mutate(|_, _| Ok(()))?;
            }
        }
        Ok(ring)
    }

    /// Open an existing key file only: the `keys` command must not create one at a mistyped
    /// path.
    fn open_existing(path: &Path, epoch: KeyEpoch) -> Result<KeyRing, KeyError> {
        match read_file(path)? {
            Some((state, stamp)) => Ok(KeyRing {
                path: path.to_owned(),
                kind: epoch,
                state,
                stamp: Some(stamp),
            }),
            None => Err(KeyError::Io {
                path: path.to_owned(),
                op: "open (no key file here; `serve` creates it)",
                source: io::Error::from(io::ErrorKind::NotFound),
            }),
        }
    }

    /// The keys of the epoch containing `now`, generated (32 random bytes each for client key
    /// and pepper) and persisted first if missing.
    ///
    /// If the current epoch was destroyed on demand, it gets fresh keys: pseudonyms from before
    /// the destruction then cannot be linked to those after it, which is what destroying it asked
    /// for.
    pub fn current(&mut self, now: UnixTime) -> Result<&EpochKeys, KeyError> {
        let epoch = self.kind.epoch_of(now);
        if !self.state.epochs.contains_key(&epoch.id) {
            self.mutate(|state, _| {
                // Another process may have generated it since we last read the file: use theirs,
                // or browsers would be served two client keys for one epoch.
                if !state.epochs.contains_key(&epoch.id) {
                    let keys = EpochKeys {
                        id: epoch.id.clone(),
                        start: epoch.start,
                        end: epoch.end,
                        client: ClientKey::from_bytes(random_key()?),
                        pepper: Pepper::from_bytes(random_key()?),
                    };
                    state.epochs.insert(epoch.id.clone(), keys);
                }
                Ok(())
            })?;
        }
        self.state
            .epochs
            .get(&epoch.id)
            .ok_or_else(|| KeyError::Corrupt {
                path: self.path.clone(),
                what: format!("epoch {} vanished right after it was written", epoch.id),
            })
    }

    /// The keys of a named epoch, if they still exist (a batch names the epoch its pseudonyms
    /// were hashed in).
    pub fn get(&self, id: &str) -> Option<&EpochKeys> {
        self.state.epochs.get(id)
    }

    /// Destroy every epoch that ended before the last `keep` epochs (counting the current one)
    /// began: `keep = 2`, the default linkability window, keeps the current and the previous
    /// epoch so late batches still re-key. The current epoch is never destroyed here (`keep = 0`
    /// acts as 1); use [`KeyRing::destroy`] for that. Returns destroyed ids.
    pub fn destroy_expired(&mut self, now: UnixTime, keep: usize) -> Result<Vec<String>, KeyError> {
        let mut oldest_kept = self.kind.epoch_of(now);
        for _ in 1..keep {
            oldest_kept = self.kind.epoch_of(UnixTime(oldest_kept.start.0 - 1));
        }
        let cutoff = oldest_kept.start;
        self.mutate(|state, _| {
            let expired: Vec<String> = state
                .epochs
                .values()
                .filter(|k| k.end <= cutoff)
                .map(|k| k.id.clone())
                .collect();
            for id in &expired {
                state.shred(id, now);
            }
            Ok(expired)
        })
    }

    /// Destroy one epoch on demand. `Ok(false)` if unknown or already destroyed.
    pub fn destroy(&mut self, id: &str) -> Result<bool, KeyError> {
        let now = wall_clock();
        self.mutate(|state, _| Ok(state.shred(id, now)))
    }

    /// Every epoch the file knows, oldest first, without key material. `Active` is the newest
    /// epoch that has keys (the one `current` hands out, as far as the file knows).
    pub fn list(&self) -> Vec<EpochInfo> {
        self.infos(None)
    }

    /// Re-read the file if another process (the `keys destroy` command) changed it, so a
    /// running server forgets destroyed keys. `Ok(true)` if it was re-read.
    ///
    /// A key file deleted from under a running server counts as every key destroyed: the ring
    /// empties and `current` starts a new file.
    pub fn reload_if_changed(&mut self) -> Result<bool, KeyError> {
        let stamp = match fs::metadata(&self.path) {
            Ok(m) => Some(FileStamp::of(&m)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&self.path, "inspect")(e)),
        };
        if stamp == self.stamp {
            return Ok(false);
        }
        match read_file(&self.path)? {
            Some((state, stamp)) => {
                self.state = state;
                self.stamp = Some(stamp);
            }
            None => {
                self.state = RingState::default();
                self.stamp = None;
            }
        }
        Ok(true)
    }

    /// Epoch infos; with `now`, `Active` means "contains `now`".
    fn infos(&self, now: Option<UnixTime>) -> Vec<EpochInfo> {
        let newest = self.state.epochs.values().map(|k| k.start).max();
        let mut out: Vec<EpochInfo> = self
            .state
            .epochs
            .values()
            .map(|k| {
                let state = match now {
                    Some(t) if k.start > t => EpochState::Pending,
                    Some(t) if t < k.end => EpochState::Active,
                    None if Some(k.start) == newest => EpochState::Active,
                    _ => EpochState::Retired,
                };
                EpochInfo {
                    id: k.id.clone(),
                    start: k.start,
                    end: k.end,
                    state,
                }
            })
            .collect();
        out.extend(
            self.state
                .destroyed
                .iter()
                // An epoch destroyed and then given fresh keys is listed once, by its keys.
                .filter(|t| !self.state.epochs.contains_key(&t.id))
                .map(|t| EpochInfo {
                    id: t.id.clone(),
                    start: t.start,
                    end: t.end,
                    state: EpochState::Destroyed,
                }),
        );
        out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        out
    }

    /// Change the file: lock, re-read (another process may have written), apply `f`, write if
    /// anything changed, and adopt the result. Every write goes through here.
    fn mutate<R>(
        &mut self,
        f: impl FnOnce(&mut RingState, KeyEpoch) -> Result<R, KeyError>,
    ) -> Result<R, KeyError> {
        let _lock = lock(&self.path)?;
        let (mut state, stamp) = match read_file(&self.path)? {
            Some((state, stamp)) => (state, Some(stamp)),
            None => (RingState::default(), None),
        };
        let before = state.clone();
        let result = f(&mut state, self.kind)?;
        // A missing file is written even when unchanged: `open` relies on that to create it.
        let stamp = if state != before || stamp.is_none() {
            Some(write_file(&self.path, self.kind, &state)?)
        } else {
            stamp
        };
        self.state = state;
        self.stamp = stamp;
        Ok(result)
    }
}

impl RingState {
    /// Remove an epoch's keys and leave a tombstone. `false` if it had no keys.
    fn shred(&mut self, id: &str, at: UnixTime) -> bool {
        let Some(keys) = self.epochs.remove(id) else {
            return false;
        };
        self.destroyed.retain(|t| t.id != id);
        self.destroyed.push(Tombstone {
            id: keys.id,
            start: keys.start,
            end: keys.end,
            at,
        });
        true
    }
}

fn random_key() -> Result<[u8; 32], KeyError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(KeyError::Random)?;
    Ok(bytes)
}

/// Seconds since the Unix epoch, for tombstones only: nothing depends on it being exact.
fn wall_clock() -> UnixTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn create_parent(path: &Path) -> Result<(), KeyError> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(io_err(dir, "create the key directory"))
}

/// Hold an exclusive advisory lock on `<file>.lock` while changing the key file. A separate
/// file, because the key file itself is replaced by rename and a lock on it would go with the
/// old inode.
fn lock(path: &Path) -> Result<File, KeyError> {
    let lock_path = sibling(path, ".lock");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&lock_path)
        .map_err(io_err(&lock_path, "open the lock file"))?;
    file.lock().map_err(io_err(&lock_path, "lock"))?;
    // Released when the returned file is dropped.
    Ok(file)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Read and check the key file; `None` if it does not exist.
fn read_file(path: &Path) -> Result<Option<(RingState, FileStamp)>, KeyError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path, "open")(e)),
    };
    // Check the handle we read from, not the path, so a swap in between changes nothing.
    let meta = file.metadata().map_err(io_err(path, "inspect"))?;
    if !meta.is_file() {
        return Err(KeyError::Corrupt {
            path: path.to_owned(),
            what: "not a regular file".to_owned(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & GROUP_OTHER_BITS != 0 {
        return Err(KeyError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    let mut text = Vec::new();
    io::Read::read_to_end(&mut file, &mut text).map_err(io_err(path, "read"))?;
    let state = parse(&text).map_err(|what| KeyError::Corrupt {
        path: path.to_owned(),
        what,
    })?;
    Ok(Some((state, FileStamp::of(&meta))))
}

/// Parse the file. Errors describe position and kind only: serde_json's messages can quote the
/// offending value, which here may be a key.
fn parse(text: &[u8]) -> Result<RingState, String> {
    let repr: FileRepr = serde_json::from_slice(text).map_err(|e| {
        format!(
            "not a key file of format {FORMAT} ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    if repr.format != FORMAT {
        return Err(format!(
            "format {} (this collector reads format {FORMAT})",
            repr.format
        ));
    }
    if !["day", "week", "month"].contains(&repr.epoch.as_str()) {
        return Err("epoch is not day, week or month".to_owned());
    }
    let mut epochs = BTreeMap::new();
    for (id, e) in repr.epochs {
        if e.start >= e.end {
            return Err(format!("epoch {id} ends before it starts"));
        }
        let client = ClientKey::from_hex(&e.client_key)
            .ok_or_else(|| format!("epoch {id}: client_key is not 64 hex digits"))?;
        let pepper = Pepper::from_hex(&e.pepper)
            .ok_or_else(|| format!("epoch {id}: pepper is not 64 hex digits"))?;
        let keys = EpochKeys {
            id: id.clone(),
            start: UnixTime(e.start),
            end: UnixTime(e.end),
            client,
            pepper,
        };
        epochs.insert(id, keys);
    }
    let destroyed = repr
        .destroyed
        .into_iter()
        .map(|t| Tombstone {
            id: t.id,
            start: UnixTime(t.start),
            end: UnixTime(t.end),
            at: UnixTime(t.at),
        })
        .collect();
    Ok(RingState { epochs, destroyed })
}

fn render(kind: KeyEpoch, state: &RingState) -> Result<Vec<u8>, serde_json::Error> {
    let repr = FileRepr {
        format: FORMAT,
        epoch: epoch_name(kind).to_owned(),
        epochs: state
            .epochs
            .values()
            .map(|k| {
                (
                    k.id.clone(),
                    EpochRepr {
                        start: k.start.0,
                        end: k.end.0,
                        client_key: k.client.to_hex(),
                        pepper: sieve_core::transform::identifier::encode_hex(
                            k.pepper.secret_bytes(),
                        ),
                    },
                )
            })
            .collect(),
        destroyed: state
            .destroyed
            .iter()
            .map(|t| TombstoneRepr {
                id: t.id.clone(),
                start: t.start.0,
                end: t.end.0,
                at: t.at.0,
            })
            .collect(),
    };
    let mut text = serde_json::to_vec_pretty(&repr)?;
    text.push(b'\n');
    Ok(text)
}

/// Replace the key file atomically: temp file (0600) in the same directory, fsync, rename over,
/// fsync the directory so the rename itself survives a crash. Callers hold the lock.
fn write_file(path: &Path, kind: KeyEpoch, state: &RingState) -> Result<FileStamp, KeyError> {
    let text = render(kind, state).map_err(|e| KeyError::Corrupt {
        path: path.to_owned(),
        // Serializing strings and integers cannot fail; say so without quoting anything.
        what: format!("cannot serialize the key ring ({:?})", e.classify()),
    })?;
    let tmp = sibling(path, ".tmp");
    // A leftover from a crash (it holds keys too): remove it so create_new can guarantee our
    // mode. We hold the lock, so it is not another writer's file.
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&tmp, "remove a stale temporary file")(e)),
    }
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)
            .map_err(io_err(&tmp, "create a temporary file"))?;
        file.write_all(&text)
            .map_err(io_err(&tmp, "write a temporary file"))?;
        file.sync_all()
            .map_err(io_err(&tmp, "fsync a temporary file"))?;
        fs::rename(&tmp, path).map_err(io_err(path, "rename the new version over"))
    })();
    if let Err(e) = written {
        // Best effort: the temporary file holds keys; the original error is what matters.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir, "fsync the key directory"))?;
    let meta = fs::metadata(path).map_err(io_err(path, "inspect"))?;
    Ok(FileStamp::of(&meta))
}

/// What `sieve-collector keys` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysAction {
    /// Print every epoch: id, span, state.
    List,
    /// Destroy one epoch's keys now.
    Destroy {
        /// The epoch id (`2026-11-22`).
        id: String,
    },
    /// Destroy every epoch outside the window of `keep` epochs (current included).
    DestroyExpired {
        /// Epochs kept, counting the current one.
        keep: usize,
    },
    /// Generate the current epoch's keys and those of the next `epochs` epochs now, creating
    /// the file if needed. For several collectors on separate disks: run it on one host and
    /// distribute the file, so that every collector serves the same keys across the next
    /// epoch boundaries instead of each generating its own.
    GenerateAhead {
        /// Epochs after the current one.
        epochs: usize,
    },
}

/// Run `sieve-collector keys`: act on an existing key file, then print a table of epochs (id,
/// start, end, state). Never prints key bytes. A running server forgets destroyed keys at its
/// next `reload_if_changed`.
pub fn keys_command(
    path: &Path,
    epoch: KeyEpoch,
    action: KeysAction,
    now: UnixTime,
    out: &mut dyn Write,
) -> Result<(), KeyError> {
    let mut ring = match action {
        // Generating is how a fresh deployment gets its first key file before any collector runs.
        KeysAction::GenerateAhead { .. } => KeyRing::open(path, epoch)?,
        _ => KeyRing::open_existing(path, epoch)?,
    };
    match action {
        KeysAction::List => {}
        KeysAction::GenerateAhead { epochs } => {
            let mut t = now;
            for _ in 0..=epochs {
                t = ring.current(t)?.end;
            }
            writeln!(out, "keys exist until {}", t.to_rfc3339()).map_err(KeyError::Output)?;
        }
        KeysAction::Destroy { id } => {
            if ring.destroy(&id)? {
                writeln!(out, "destroyed {id}").map_err(KeyError::Output)?;
            } else if ring.state.destroyed.iter().any(|t| t.id == id) {
                writeln!(out, "{id} was already destroyed").map_err(KeyError::Output)?;
            } else {
                return Err(KeyError::UnknownEpoch { id });
            }
        }
        KeysAction::DestroyExpired { keep } => {
            let ids = ring.destroy_expired(now, keep)?;
            if ids.is_empty() {
                writeln!(out, "nothing to destroy").map_err(KeyError::Output)?;
            }
            for id in ids {
                writeln!(out, "destroyed {id}").map_err(KeyError::Output)?;
            }
        }
    }
    write_table(&ring.infos(Some(now)), out).map_err(KeyError::Output)
}

fn write_table(infos: &[EpochInfo], out: &mut dyn Write) -> io::Result<()> {
    let width = infos
        .iter()
        .map(|i| i.id.len())
        .max()
        .unwrap_or(0)
        .max("epoch".len());
    writeln!(
        out,
        "{:<width$}  {:<20}  {:<20}  state",
        "epoch", "start", "end"
    )?;
    for i in infos {
        let state = match i.state {
            EpochState::Active => "active",
            EpochState::Retired => "retired",
            EpochState::Pending => "pending",
            EpochState::Destroyed => "destroyed",
        };
        writeln!(
            out,
            "{:<width$}  {:<20}  {:<20}  {state}",
            i.id,
            i.start.to_rfc3339(),
            i.end.to_rfc3339()
        )?;
    }
    Ok(())
}

#[cfg(test)]
// In a test a panic is the failure report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// 2026-11-22T12:00:00Z.
    const NOON: UnixTime = UnixTime(1_795_348_800);
    const DAY: i64 = 86_400;

    fn day(n: i64) -> UnixTime {
        UnixTime(NOON.0 + n * DAY)
    }

    fn key_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("keys").join("keys.json")
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn key_file_is_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        let mut ring = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        ring.current(NOON).unwrap();
        assert_eq!(mode(&path), 0o600, "rewrites keep the mode");
        assert_eq!(mode(&sibling(&path, ".lock")), 0o600);
        assert!(!sibling(&path, ".tmp").exists(), "no temporary file left");
    }

    #[test]
    fn key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        KeyRing::open(&path, KeyEpoch::Day).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeyRing::open(&path, KeyEpoch::Day).unwrap_err();
        assert!(
            matches!(err, KeyError::Permissions { mode: 0o644, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("chmod 600"), "{msg}");
        assert!(msg.contains("644"), "{msg}");
    }

    #[test]
    fn current_is_stable_within_an_epoch_and_changes_across() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(&key_path(&dir), KeyEpoch::Day).unwrap();
        let morning = ring.current(UnixTime(NOON.0 - 11 * 3600)).unwrap().clone();
        let evening = ring.current(UnixTime(NOON.0 + 11 * 3600)).unwrap().clone();
        assert_eq!(morning, evening);
        assert_eq!(morning.id, "2026-11-22");
        let tomorrow = ring.current(day(1)).unwrap().clone();
        assert_eq!(tomorrow.id, "2026-11-23");
        assert_ne!(tomorrow.client, morning.client);
        assert_ne!(tomorrow.pepper, morning.pepper);
        assert_ne!(morning.client.secret_bytes(), morning.pepper.secret_bytes());
        // Yesterday's keys are still there for late batches.
        assert_eq!(ring.get("2026-11-22"), Some(&morning));
    }

    #[test]
    fn reopen_returns_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        let first = KeyRing::open(&path, KeyEpoch::Week)
            .unwrap()
            .current(NOON)
            .unwrap()
            .clone();
        let mut again = KeyRing::open(&path, KeyEpoch::Week).unwrap();
        assert_eq!(again.get(&first.id), Some(&first));
        assert_eq!(again.current(NOON).unwrap(), &first);
        assert_eq!(first.id, "2026-W47");
    }

    #[test]
    fn destroy_removes_the_bytes_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        let mut ring = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        let old = ring.current(day(-1)).unwrap().clone();
        let kept = ring.current(NOON).unwrap().clone();
        let old_client = old.client.to_hex();
        let old_pepper = sieve_core::transform::identifier::encode_hex(old.pepper.secret_bytes());
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(&old_client) && text.contains(&old_pepper));

        assert!(ring.destroy(&old.id).unwrap());
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&old_client), "client key still in the file");
        assert!(!text.contains(&old_pepper), "pepper still in the file");
        assert!(
            text.contains(&kept.client.to_hex()),
            "other epochs untouched"
        );
        assert!(text.contains("\"destroyed\""));
        assert_eq!(ring.get(&old.id), None);
        assert_eq!(ring.get(&kept.id), Some(&kept));
        assert!(!ring.destroy(&old.id).unwrap(), "already destroyed");
        assert!(!ring.destroy("1999-01-01").unwrap(), "unknown");
        // And it stays destroyed across a reopen.
        let again = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        assert_eq!(again.get(&old.id), None);
    }

    #[test]
    fn destroy_expired_keeps_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(&key_path(&dir), KeyEpoch::Day).unwrap();
        for n in -4..=0 {
            ring.current(day(n)).unwrap();
        }
        let destroyed = ring.destroy_expired(NOON, 2).unwrap();
        assert_eq!(destroyed, ["2026-11-18", "2026-11-19", "2026-11-20"]);
        assert!(ring.get("2026-11-21").is_some(), "previous epoch kept");
        assert!(ring.get("2026-11-22").is_some(), "current epoch kept");
        assert_eq!(ring.get("2026-11-20"), None);
        assert!(ring.destroy_expired(NOON, 2).unwrap().is_empty());
        // keep = 0 never destroys the current epoch.
        assert_eq!(ring.destroy_expired(NOON, 0).unwrap(), ["2026-11-21"]);
        assert!(ring.get("2026-11-22").is_some());
    }

    #[test]
    fn reload_sees_a_destroy_from_another_instance() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        let mut server = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        let old = server.current(day(-1)).unwrap().id.clone();
        server.current(NOON).unwrap();
        assert!(!server.reload_if_changed().unwrap(), "nothing changed yet");

        let mut command = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        assert!(command.destroy(&old).unwrap());

        assert!(server.get(&old).is_some(), "not yet reloaded");
        assert!(server.reload_if_changed().unwrap());
        assert_eq!(server.get(&old), None);
        assert!(!server.reload_if_changed().unwrap());
    }

    #[test]
    fn a_writer_does_not_resurrect_destroyed_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        let mut server = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        let old = server.current(NOON).unwrap().id.clone();
        KeyRing::open(&path, KeyEpoch::Day)
            .unwrap()
            .destroy(&old)
            .unwrap();
        // The server has not reloaded, then writes tomorrow's keys: the write starts from
        // the file, not from its stale memory.
        server.current(day(1)).unwrap();
        assert_eq!(server.get(&old), None);
        let reread = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        assert_eq!(reread.get(&old), None);
        assert!(reread.get("2026-11-23").is_some());
    }

    #[test]
    fn list_never_includes_key_material() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::open(&key_path(&dir), KeyEpoch::Day).unwrap();
        let old = ring.current(day(-1)).unwrap().clone();
        let cur = ring.current(NOON).unwrap().clone();
        ring.current(day(-2)).unwrap();
        ring.destroy("2026-11-20").unwrap();

        let list = ring.list();
        let states: Vec<(&str, EpochState)> =
            list.iter().map(|i| (i.id.as_str(), i.state)).collect();
        assert_eq!(
            states,
            [
                ("2026-11-20", EpochState::Destroyed),
                ("2026-11-21", EpochState::Retired),
                ("2026-11-22", EpochState::Active),
            ]
        );
        let json = serde_json::to_string(&list).unwrap();
        let debug = format!("{list:?} {ring:?} {cur:?}");
        for k in [&old, &cur] {
            let hexes = [
                k.client.to_hex(),
                sieve_core::transform::identifier::encode_hex(k.pepper.secret_bytes()),
            ];
            for hex in hexes {
                assert!(!json.contains(&hex), "key in listing");
                assert!(!debug.contains(&hex), "key in Debug");
                // Nor a recognisable piece of it.
                assert!(!json.contains(&hex[..16]) && !debug.contains(&hex[..16]));
            }
        }
        assert!(json.contains("\"state\":\"destroyed\""), "{json}");
    }

    #[test]
    fn keys_command_prints_a_table_without_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        let mut ring = KeyRing::open(&path, KeyEpoch::Day).unwrap();
        let old = ring.current(day(-3)).unwrap().clone();
        let cur = ring.current(NOON).unwrap().clone();

        let mut out = Vec::new();
        keys_command(
            &path,
            KeyEpoch::Day,
            KeysAction::DestroyExpired { keep: 2 },
            NOON,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("destroyed 2026-11-19"), "{text}");
        assert!(text.contains("2026-11-22  2026-11-22T00:00:00Z  2026-11-23T00:00:00Z  active"));
        assert!(!text.contains(&cur.client.to_hex()) && !text.contains(&old.client.to_hex()));

        let mut out = Vec::new();
        let err = keys_command(
            &path,
            KeyEpoch::Day,
            KeysAction::Destroy {
                id: "2001-01-01".into(),
            },
            NOON,
            &mut out,
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::UnknownEpoch { .. }));

        let mut out = Vec::new();
        let missing = dir.path().join("nope.json");
        assert!(keys_command(&missing, KeyEpoch::Day, KeysAction::List, NOON, &mut out).is_err());
        assert!(
            !missing.exists(),
            "the keys command does not create key files"
        );
    }

    #[test]
    fn corrupt_file_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir);
        KeyRing::open(&path, KeyEpoch::Day).unwrap();
        let secret = "ab".repeat(32);
        let text = format!(
            r#"{{"format":1,"epoch":"day","epochs":{{"x":{{"start":"{secret}","end":1,"client_key":"{secret}","pepper":"{secret}"}}}},"destroyed":[]}}"#
        );
        fs::write(&path, text).unwrap();
        let err = KeyRing::open(&path, KeyEpoch::Day).unwrap_err();
        assert!(matches!(err, KeyError::Corrupt { .. }), "{err:?}");
        assert!(!err.to_string().contains("abab"), "{err}");
        assert!(!format!("{err:?}").contains("abab"));
    }

    #[test]
    fn keys_generated_ahead_and_copied_serve_the_same_keys_across_epochs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a/keys.json");
        let now = UnixTime::parse_rfc3339("2026-11-22T17:00:00Z").expect("time");
        let mut out = Vec::new();
        keys_command(
            &a,
            KeyEpoch::Day,
            KeysAction::GenerateAhead { epochs: 3 },
            now,
            &mut out,
        )
        .expect("generate");
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.contains("keys exist until 2026-11-26T00:00:00Z"),
            "{text}"
        );
        assert!(
            text.contains("2026-11-25") && text.contains("pending"),
            "{text}"
        );
        // The operator copies the file to another host's disk.
        let b = dir.path().join("b/keys.json");
        std::fs::create_dir_all(b.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&a, &b).expect("copy");
        let mut ring_a = KeyRing::open(&a, KeyEpoch::Day).expect("a");
        let mut ring_b = KeyRing::open(&b, KeyEpoch::Day).expect("b");
        let later = UnixTime::parse_rfc3339("2026-11-25T08:00:00Z").expect("time");
        let ka = ring_a.current(later).expect("a").clone();
        let kb = ring_b.current(later).expect("b").clone();
        assert_eq!(
            ka.client, kb.client,
            "both hosts serve one client key after the boundary"
        );
        assert_eq!(ka.pepper, kb.pepper);
    }
}

//! The SQLite writer's memory of recently stored event ids: how a retried batch is recognised
//! without a unique index on the id.
//!
//! A unique b-tree over random 128-bit ids puts every insert on its own leaf page, so each
//! group commit rewrote about one 8 KiB page per event, in the WAL and again at the checkpoint
//! (~18.6 KB written per ~1.4 KB event, BENCHMARKS.md). Retries come seconds to minutes after
//! the first copy (the SDK retries a batch whose answer it did not get), so the writer keeps
//! the ids of the last several hundred thousand stored events in memory instead, and the file
//! appends rows without an id index. A copy that arrives after its id left the window is
//! stored again; every read of the store counts each id once (`query`), as the ClickHouse
//! store's reads do.
//!
//! Two generations of a hash set: ids go into the current one; when it is full it becomes the
//! previous one and the old previous one is dropped. So the window always holds at least the
//! last [`GENERATION`] ids and never more than twice that, with no per-id bookkeeping of age.
//! The sets use std's randomly keyed SipHash: ids come from clients, and a chosen set of
//! colliding ids must not turn lookups linear.

use std::collections::HashSet;

/// Ids per generation. 7 × 2^16 fills a hash set of 2^19 buckets to its load limit (7/8), so
/// a full generation is ~8.9 MiB (16 bytes and a control byte per bucket), the window at most
/// ~18 MiB. At 1 000 events a second it covers at least ~7.6 minutes.
pub const GENERATION: usize = 7 << 16;

/// Recently stored event ids (see the module documentation).
#[derive(Debug)]
pub struct IdWindow {
    current: HashSet<u128>,
    previous: HashSet<u128>,
    generation: usize,
}

impl Default for IdWindow {
    fn default() -> Self {
        Self::with_generation(GENERATION)
    }
}

impl IdWindow {
    /// A window whose generations hold `generation` ids each (tests use small ones).
    pub fn with_generation(generation: usize) -> Self {
        assert!(generation > 0, "a window generation holds at least one id");
        IdWindow {
            current: HashSet::new(),
            previous: HashSet::new(),
            generation,
        }
    }

    /// Whether `id` was stored recently.
    pub fn contains(&self, id: u128) -> bool {
        self.current.contains(&id) || self.previous.contains(&id)
    }

    /// Remember `id` as stored. Call only after the commit that stored it returned: an id
    /// remembered for a rolled-back row would turn the batch's retry into a "duplicate" and lose
    /// it.
    pub fn insert(&mut self, id: u128) {
        if self.current.len() >= self.generation {
            // The old previous generation's table is cleared and reused, so after the first two
            // generations the window allocates (and rehashes while growing) no more.
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
        }
        self.current.insert(id);
    }

    /// Ids remembered.
    pub(crate) fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// The window key of a stored id: its 128 bits, if it is the 32 lowercase hex digits that
/// ingest and `import` store. Anything else has no key and is not remembered (its copies are
/// still counted once by every read).
pub fn key(id: &str) -> Option<u128> {
    if id.len() != 32 {
        return None;
    }
    id.bytes().try_fold(0u128, |key, b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(key << 4 | u128::from(digit))
    })
}

/// The stored form of a test event called `name`: its bytes in hex, left-padded to 32 digits,
/// so store tests can name events `"a"` and `"b"` and still have ids the window keys. A name
/// that is already an id is kept.
#[cfg(test)]
pub(crate) fn test_id(name: &str) -> String {
    if key(name).is_some() {
        return name.to_owned();
    }
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        hex.len() <= 32,
        "test event name {name:?} is too long for an id"
    );
    format!("{hex:0>32}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_least_one_generation_and_at_most_two() {
        let mut w = IdWindow::with_generation(3);
        for id in 0..3 {
            w.insert(id);
        }
        assert!((0..3).all(|id| w.contains(id)));
        w.insert(3);
        assert!(
            (0..4).all(|id| w.contains(id)),
            "the full generation is kept"
        );
        assert_eq!(w.len(), 4);
        for id in 4..6 {
            w.insert(id);
        }
        w.insert(6);
        assert!(
            !(0..3).any(|id| w.contains(id)),
            "the oldest generation left"
        );
        assert!((3..7).all(|id| w.contains(id)));
        assert!(!w.contains(7));
    }

    #[test]
    fn key_takes_only_the_stored_form_of_an_id() {
        assert_eq!(key(&format!("{:032x}", 0xabc_u128)), Some(0xabc));
        assert_eq!(key(&"f".repeat(32)), Some(u128::MAX));
        let mixed = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210_u128;
        assert_eq!(key(&format!("{mixed:032x}")), Some(mixed));
        assert_eq!(key(&"F".repeat(32)), None, "uppercase is another string");
        assert_eq!(key(&format!("+{}", "0".repeat(31))), None);
        assert_eq!(key(&"0".repeat(31)), None);
        assert_eq!(key(&"0".repeat(33)), None);
        assert_eq!(key("a"), None);
        assert_eq!(key(&format!("{}g", "0".repeat(31))), None);
    }
}

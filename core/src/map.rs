//! [`NameMap`]: the map type of core's public API (a schema's events, props, traits and group
//! kinds; a clean event's props, groups and traits), keyed by name, iterated in name order.
//!
//! It is one `Vec` of entries kept sorted by key, not a `BTreeMap`. These maps are small (a
//! dozen props, a few hundred events at most), filled once and then only read, and are mostly
//! filled in key order (from a parsed JSON object, whose keys come sorted). A `BTreeMap` compiles
//! its node code once per value type, and the browser bundle carried about 24 KB of it for these
//! five types (BENCHMARKS.md, "SDK size"); here every operation is a binary search or a slice
//! walk. Iteration, lookup, equality, `Debug` and serialization behave as `BTreeMap<String, V>`'s
//! do.

use core::fmt;
use core::iter::FusedIterator;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::prelude::*;

/// A map from names to `V`, in name order (byte-wise, as `String`'s `Ord`). See [`crate::map`].
#[derive(Clone, PartialEq, Eq)]
pub struct NameMap<V> {
    /// Sorted by key, no two equal keys.
    entries: Vec<(String, V)>,
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> NameMap<V> {
    /// An empty map.
    pub const fn new() -> Self {
        NameMap {
            entries: Vec::new(),
        }
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key` to `value`; the value it replaced, if any.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        // Filled from sorted input, the new key most often goes last.
        if self.entries.last().is_none_or(|(last, _)| *last < key) {
            self.entries.push((key, value));
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The entries, in key order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter(self.entries.iter())
    }

    /// The entries, in key order, with their values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, V> {
        IterMut(self.entries.iter_mut())
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values, in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// The entries of a [`NameMap`], in key order, as `(&String, &V)` like a `BTreeMap`'s.
#[derive(Debug, Clone)]
pub struct Iter<'a, V>(core::slice::Iter<'a, (String, V)>);

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a String, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<V> DoubleEndedIterator for Iter<'_, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}
impl<V> FusedIterator for Iter<'_, V> {}

impl<'a, V> IntoIterator for &'a NameMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

impl<'a, V> IntoIterator for &'a mut NameMap<V> {
    type Item = (&'a String, &'a mut V);
    type IntoIter = IterMut<'a, V>;

    fn into_iter(self) -> IterMut<'a, V> {
        self.iter_mut()
    }
}

/// The entries of a [`NameMap`], in key order, values mutable.
#[derive(Debug)]
pub struct IterMut<'a, V>(core::slice::IterMut<'a, (String, V)>);

impl<'a, V> Iterator for IterMut<'a, V> {
    type Item = (&'a String, &'a mut V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<V> IntoIterator for NameMap<V> {
    type Item = (String, V);
    type IntoIter = alloc::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// As `BTreeMap::from_iter`: for a key given twice, the later value wins.
impl<V> FromIterator<(String, V)> for NameMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut map = NameMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<V: fmt::Debug> fmt::Debug for NameMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Serialize> Serialize for NameMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::NameMap;

    proptest! {
        /// Any sequence of inserts leaves the same entries, in the same order, as a `BTreeMap`,
        /// each insert returns what `BTreeMap::insert` returns, and every lookup, `Debug` and
        /// serialization agree.
        #[test]
        fn behaves_as_a_btreemap(
            ops in proptest::collection::vec(("[a-d]{0,3}|é|Z|\\PC{0,4}", any::<u16>()), 0..40),
            probes in proptest::collection::vec("[a-d]{0,3}|\\PC{0,2}", 0..10),
        ) {
            let mut ours = NameMap::new();
            let mut theirs = BTreeMap::new();
            for (k, v) in &ops {
                prop_assert_eq!(ours.insert(k.clone(), *v), theirs.insert(k.clone(), *v));
                prop_assert_eq!(ours.len(), theirs.len());
            }
            prop_assert!(ours.iter().eq(theirs.iter()));
            prop_assert!(ours.iter().rev().eq(theirs.iter().rev()));
            prop_assert!(ours.keys().eq(theirs.keys()));
            prop_assert!(ours.values().eq(theirs.values()));
            prop_assert!(ours.clone().into_iter().eq(theirs.clone()));
            prop_assert_eq!(ours.is_empty(), theirs.is_empty());
            for p in probes.iter().chain(ops.iter().map(|(k, _)| k)) {
                prop_assert_eq!(ours.get(p), theirs.get(p));
                prop_assert_eq!(ours.contains_key(p), theirs.contains_key(p));
            }
            prop_assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
            prop_assert_eq!(
                serde_json::to_string(&ours).expect("serializes"),
                serde_json::to_string(&theirs).expect("serializes")
            );
            let collected: NameMap<u16> = ops.iter().cloned().collect();
            let collected_theirs: BTreeMap<String, u16> = ops.iter().cloned().collect();
            prop_assert!(collected.iter().eq(collected_theirs.iter()));
            prop_assert!(collected == ours);
        }
    }
}

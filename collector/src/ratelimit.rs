//! Per-client rate limiting that writes nothing about IPs anywhere.
//!
//! A token bucket per client: `burst` requests at once, refilled at `per_second`. A client is
//! a keyed BLAKE3 hash of its address under a random key that lives only in memory and is
//! replaced every hour (the table is cleared with it), so:
//! - the table holds no IP, only 128-bit hashes, and nothing survives a restart or an hour;
//! - an IPv6 client is its /64 prefix, because one subscriber usually owns a whole /64 and
//!   could otherwise rotate addresses to get a fresh bucket per request. An IPv4-mapped IPv6
//!   address counts as the IPv4 address it carries.
//!
//! Memory is bounded: at most `max_clients` buckets. When a new client arrives at a full
//! table, buckets that have refilled completely are dropped first (a fresh bucket is identical,
//! so this forgets nothing). If that frees nothing, the half of the table with the most tokens
//! is dropped: those clients were the least limited, and each gains at most the tokens it was
//! missing, while clients being throttled keep their state. The cost is one O(n) pass per n/2
//! new clients.
//!
//! What it does not do:
//! - Protect against a dump of the process memory: the key sits next to the hashes, and the
//!   IPv4 space is small enough to hash exhaustively. The key keeps IPs out of the table's
//!   plain view and bounds what a dump links to the last hour; it is never written anywhere.
//! - Read a clock: callers pass `now`, so tests inject time.
//! - Log anything, or give back anything derived from the address except a wait time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long one hashing key lives. On rotation the table is cleared: clients then start with
/// a full bucket, which costs an abuser at most one burst per hour.
const KEY_LIFETIME: Duration = Duration::from_secs(3600);
/// Bytes of a client's hash kept in the table: 128 bits make collisions negligible.
const CLIENT_HASH_BYTES: usize = 16;
/// Domain separation for the rotation ratchet.
const ROTATE_CONTEXT: &str = "sieve 2026-11 collector rate-limit key rotation";

type ClientHash = [u8; CLIENT_HASH_BYTES];

/// Token buckets keyed by a hash of the client's address. `Send + Sync`: share one behind an
/// `Arc`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    max_clients: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    key: [u8; 32],
    /// When the current key was first used; set by the first check so all time is injected.
    key_born: Option<Instant>,
    buckets: HashMap<ClientHash, Bucket>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Prints the settings and the number of clients: no key, no hash, no address.
impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .field("max_clients", &self.max_clients)
            .field("clients", &self.lock().buckets.len())
            .finish()
    }
}

impl RateLimiter {
    /// `per_second` tokens are added per second up to `burst`; each request takes one.
    /// `burst` below 1 acts as 1 (a smaller bucket would admit nothing), `max_clients` below 1
    /// as 1; a `per_second` that is not a positive number means no refill, so a client that
    /// spent its burst waits for the next key rotation (at most an hour).
    ///
    /// Panics only if the operating system has no random source at all, when the collector
    /// could not make its keys either.
    pub fn new(per_second: f64, burst: f64, max_clients: usize) -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .expect("the OS random source works: the collector cannot key anything without it");
        Self {
            per_second: if per_second > 0.0 && per_second.is_finite() {
                per_second
            } else {
                0.0
            },
            burst: if burst >= 1.0 && burst.is_finite() {
                burst
            } else {
                1.0
            },
            max_clients: max_clients.max(1),
            inner: Mutex::new(Inner {
                key,
                key_born: None,
                buckets: HashMap::new(),
            }),
        }
    }

    /// `Ok(())` or `Err(retry_after)` for a request from `ip` at `now`. Round `retry_after`
    /// up to whole seconds for a `Retry-After` header.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut inner = self.lock();
        let born = *inner.key_born.get_or_insert(now);
        let age = now.saturating_duration_since(born);
        if age >= KEY_LIFETIME {
            inner.rotate(now);
        }
        let until_rotation = KEY_LIFETIME
            .saturating_sub(now.saturating_duration_since(inner.key_born.unwrap_or(now)));
        let client = client_hash(&inner.key, ip);
        if !inner.buckets.contains_key(&client) && inner.buckets.len() >= self.max_clients {
            self.make_room(&mut inner.buckets, now);
        }
        let bucket = inner.buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        bucket.tokens = self.refilled(bucket, now);
        bucket.last = bucket.last.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - bucket.tokens;
        let refill = if self.per_second > 0.0 {
            Duration::try_from_secs_f64(missing / self.per_second).unwrap_or(Duration::MAX)
        } else {
            Duration::MAX
        };
        // The rotation empties the table, so no one waits longer than until then.
        Err(refill.min(until_rotation).max(Duration::from_millis(1)))
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        (bucket.tokens + elapsed * self.per_second).min(self.burst)
    }

    /// Free space for one more client (see the module docs for the order).
    fn make_room(&self, buckets: &mut HashMap<ClientHash, Bucket>, now: Instant) {
        buckets.retain(|_, b| self.refilled(b, now) < self.burst);
        if buckets.len() < self.max_clients {
            return;
        }
        let mut tokens: Vec<f64> = buckets.values().map(|b| self.refilled(b, now)).collect();
        let mid = tokens.len() / 2;
        let (_, median, _) = tokens.select_nth_unstable_by(mid, f64::total_cmp);
        let median = *median;
        // Drops at least the median bucket itself, so there is room afterwards.
        buckets.retain(|_, b| self.refilled(b, now) < median);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is plain numbers, valid after any panic: keep limiting rather than fail.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// New key, empty table. The new key mixes fresh randomness into a hash of the old one, so
    /// a failing random source still gives a key no one outside the process can predict, and
    /// the check path never panics.
    fn rotate(&mut self, now: Instant) {
        let mut fresh = [0u8; 32];
        // Ignoring failure is deliberate: see above.
        let _ = getrandom::fill(&mut fresh);
        let mut material = [0u8; 64];
        material[..32].copy_from_slice(&self.key);
        material[32..].copy_from_slice(&fresh);
        self.key = blake3::derive_key(ROTATE_CONTEXT, &material);
        self.key_born = Some(now);
        self.buckets = HashMap::new();
    }
}

/// The client an address belongs to: IPv4 address, or IPv6 /64.
fn client_hash(key: &[u8; 32], ip: IpAddr) -> ClientHash {
    let mut h = blake3::Hasher::new_keyed(key);
    match ip {
        IpAddr::V4(v4) => {
            h.update(b"v4");
            h.update(&v4.octets());
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                h.update(b"v4");
                h.update(&v4.octets());
            }
            None => {
                h.update(b"v6/64");
                h.update(&v6.octets()[..8]);
            }
        },
    }
    let mut out = [0u8; CLIENT_HASH_BYTES];
    out.copy_from_slice(&h.finalize().as_bytes()[..CLIENT_HASH_BYTES]);
    out
}

#[cfg(test)]
// In a test a panic is the failure report.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn burst_then_refused_with_retry_after() {
        let limiter = RateLimiter::new(2.0, 5.0, 100);
        let t0 = Instant::now();
        let a = ip("203.0.113.7");
        for _ in 0..5 {
            assert_eq!(limiter.check(a, t0), Ok(()));
        }
        let wait = limiter.check(a, t0).unwrap_err();
        // One token at 2 per second: half a second.
        assert!(
            wait > Duration::from_millis(490) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
    }

    #[test]
    fn refills_over_time() {
        let limiter = RateLimiter::new(2.0, 3.0, 100);
        let t0 = Instant::now();
        let a = ip("203.0.113.7");
        for _ in 0..3 {
            limiter.check(a, t0).unwrap();
        }
        assert!(limiter.check(a, t0).is_err());
        let wait = limiter
            .check(a, t0 + Duration::from_millis(250))
            .unwrap_err();
        assert!(wait <= Duration::from_millis(250), "{wait:?}");
        // After one second, two tokens: two requests pass, the third does not.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(limiter.check(a, t1), Ok(()));
        assert_eq!(limiter.check(a, t1), Ok(()));
        assert!(limiter.check(a, t1).is_err());
        // A long pause refills to the burst, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.check(a, t2), Ok(()));
        }
        assert!(limiter.check(a, t2).is_err());
    }

    #[test]
    fn buckets_are_per_client() {
        let limiter = RateLimiter::new(1.0, 1.0, 100);
        let t0 = Instant::now();
        assert_eq!(limiter.check(ip("198.51.100.1"), t0), Ok(()));
        assert!(limiter.check(ip("198.51.100.1"), t0).is_err());
        assert_eq!(limiter.check(ip("198.51.100.2"), t0), Ok(()));
        assert_eq!(limiter.check(ip("2001:db8:1::1"), t0), Ok(()));
        assert_eq!(limiter.check(ip("2001:db8:2::1"), t0), Ok(()));
    }

    #[test]
    fn ipv6_groups_by_slash_64() {
        let limiter = RateLimiter::new(1.0, 2.0, 100);
        let t0 = Instant::now();
        assert_eq!(limiter.check(ip("2001:db8:0:1::1"), t0), Ok(()));
        assert_eq!(
            limiter.check(ip("2001:db8:0:1:ffff:1234:5678:9abc"), t0),
            Ok(())
        );
        assert!(
            limiter.check(ip("2001:db8:0:1::2"), t0).is_err(),
            "same /64"
        );
        assert_eq!(limiter.check(ip("2001:db8:0:2::1"), t0), Ok(()), "next /64");
        // An IPv4-mapped address is the IPv4 client.
        assert_eq!(limiter.check(ip("192.0.2.9"), t0), Ok(()));
        assert_eq!(limiter.check(ip("::ffff:192.0.2.9"), t0), Ok(()));
        assert!(limiter.check(ip("192.0.2.9"), t0).is_err());
    }

    #[test]
    fn stays_within_max_clients() {
        let limiter = RateLimiter::new(1.0, 2.0, 8);
        let t0 = Instant::now();
        // Each client spends a token, so no bucket is full and the "full first" rule frees
        // nothing: the table must still stay bounded.
        for i in 0..100u8 {
            let a = IpAddr::from([10, 0, 0, i]);
            assert_eq!(limiter.check(a, t0), Ok(()));
            assert!(limiter.lock().buckets.len() <= 8);
        }
        // A throttled client (few tokens) survives eviction of the fuller ones.
        let hog = ip("10.1.0.1");
        limiter.check(hog, t0).unwrap();
        limiter.check(hog, t0).unwrap();
        for i in 0..6u8 {
            limiter.check(IpAddr::from([10, 2, 0, i]), t0).unwrap();
        }
        assert!(limiter.check(hog, t0).is_err(), "hog kept its empty bucket");
    }

    #[test]
    fn full_buckets_are_evicted_first() {
        let limiter = RateLimiter::new(1.0, 1.0, 2);
        let t0 = Instant::now();
        limiter.check(ip("10.0.0.1"), t0).unwrap();
        limiter
            .check(ip("10.0.0.2"), t0 + Duration::from_secs(5))
            .unwrap();
        // At t0 + 5s, 10.0.0.1 has refilled and goes; 10.0.0.2 (empty) stays.
        limiter
            .check(ip("10.0.0.3"), t0 + Duration::from_secs(5))
            .unwrap();
        assert_eq!(limiter.lock().buckets.len(), 2);
        assert!(
            limiter
                .check(ip("10.0.0.2"), t0 + Duration::from_secs(5))
                .is_err()
        );
    }

    #[test]
    fn key_rotates_hourly_and_clears_the_table() {
        let limiter = RateLimiter::new(0.0, 1.0, 100);
        let t0 = Instant::now();
        let a = ip("203.0.113.7");
        limiter.check(a, t0).unwrap();
        let key = limiter.lock().key;
        // No refill: the wait is capped by the rotation, which gives a fresh bucket.
        let wait = limiter.check(a, t0 + Duration::from_secs(600)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(3000));
        assert_eq!(limiter.check(a, t0 + KEY_LIFETIME), Ok(()));
        assert_ne!(limiter.lock().key, key);
        assert_eq!(limiter.lock().buckets.len(), 1);
    }

    #[test]
    fn holds_no_ip_text() {
        let limiter = RateLimiter::new(1.0, 1.0, 100);
        let t0 = Instant::now();
        let addrs = ["203.0.113.7", "2001:db8:abcd:12::7"];
        for a in addrs {
            limiter.check(ip(a), t0).unwrap();
        }
        let debug = format!("{limiter:?}");
        for a in addrs {
            assert!(!debug.contains(a), "{debug}");
        }
        assert!(!debug.contains("203") && !debug.contains("2001"), "{debug}");
        // The table's keys are hashes, not the address bytes.
        let inner = limiter.lock();
        for k in inner.buckets.keys() {
            assert!(!k.windows(4).any(|w| w == [203, 0, 113, 7]));
            assert!(!k.starts_with(&[0x20, 0x01, 0x0d, 0xb8]));
        }
        // Different key, different hash: the hash is keyed.
        assert_ne!(
            client_hash(&[0; 32], ip("203.0.113.7")),
            client_hash(&[1; 32], ip("203.0.113.7"))
        );
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RateLimiter>();
    }
}

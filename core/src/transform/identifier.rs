//! Identifiers become pseudonyms: BLAKE3 in keyed mode, domain-separated per field.
//!
//! In the browser a raw user, group or declared identifier is hashed under the epoch's
//! [`ClientKey`], so the raw value never travels. The client key is public by nature (every
//! visitor receives it), so the collector re-keys each pseudonym under the epoch's secret
//! [`Pepper`] before storing it: a thief of the store who also has the client key still cannot
//! test guesses without the pepper, and once the epoch's keys are destroyed nobody can.
//!
//! Construction (pinned by the known-answer tests below):
//! - client: `hex(BLAKE3-keyed(client_key, "sieve/pseudonym/v1\0" || domain || "\0" || raw)[..16])`
//! - collector: `hex(BLAKE3-keyed(pepper, "sieve/rekey/v1\0" || domain || "\0" || client_hex)[..16])`
//! - visitor: `hex(BLAKE3-keyed(pepper, "sieve/visitor/v1\0" || site || "\0" || ip || "\0" || ua)[..16])`
//!
//! The domain (`user_id`, `group:org`, `trait:email`, `prop:account_id`) keeps one person's id
//! used in two roles from yielding the same pseudonym. Names are validated snake_case, so they
//! contain neither `:` nor `\0` and the encoding is unambiguous. 128 bits keep collisions
//! negligible for any site (birthday bound at 2^64 ids).
//!
//! Not done here: generating keys (callers bring randomness), storing or destroying them.

use crate::prelude::*;
use core::net::IpAddr;

/// Bytes of a pseudonym: 128 bits.
pub const PSEUDONYM_BYTES: usize = 16;

const CLIENT_DOMAIN: &[u8] = b"sieve/pseudonym/v1\0";
const REKEY_DOMAIN: &[u8] = b"sieve/rekey/v1\0";
const VISITOR_DOMAIN: &[u8] = b"sieve/visitor/v1\0";

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name([u8; 32]);

        impl $name {
            /// A key from 32 random bytes.
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// Parse 64 hex digits.
            pub fn from_hex(s: &str) -> Option<Self> {
                let mut bytes = [0u8; 32];
                decode_hex(s, &mut bytes).then_some(Self(bytes))
            }

            /// The key bytes, for the one place that must persist them.
            pub fn secret_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        /// Prints no key material: keys must never reach a log.
        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

secret_key!(
    /// The epoch key the browser hashes identifiers with. Public by nature: it is served to every
    /// visitor. Its hex form travels in `/v1/config`.
    ClientKey
);
secret_key!(
    /// The epoch's secret pepper: never leaves the collector.
    Pepper
);

impl Pepper {
    /// A fixed, publicly known pepper for demonstrations (`preview`): it protects nothing.
    pub fn demonstration() -> Self {
        Self(blake3::derive_key(
            "sieve 2026-11 demonstration pepper, not secret",
            b"",
        ))
    }
}

impl ClientKey {
    /// A fixed, publicly known key for demonstrations (`preview`, the data inventory's
    /// examples). Pseudonyms made with it protect nothing, and every output that uses it says so.
    pub fn demonstration() -> Self {
        Self(blake3::derive_key(
            "sieve 2026-11 demonstration client key, not secret",
            b"",
        ))
    }

    /// The hex form served to browsers.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }
}

/// Which field an identifier belongs to: the domain separator of its pseudonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField<'a> {
    /// The user id given to `identify`.
    UserId,
    /// A group id, by group kind (`org`, `account`, ...).
    Group(&'a str),
    /// A trait declared as an identifier.
    Trait(&'a str),
    /// An event property declared as an identifier.
    Prop(&'a str),
}

impl<'a> IdField<'a> {
    /// The field's domain separator: a prefix and a name, then a NUL.
    fn domain(self) -> (&'static [u8], &'a str) {
        match self {
            IdField::UserId => (b"user_id", ""),
            IdField::Group(n) => (b"group:", n),
            IdField::Trait(n) => (b"trait:", n),
            IdField::Prop(n) => (b"prop:", n),
        }
    }

    fn write_domain(self, h: &mut blake3::Hasher) {
        let (prefix, name) = self.domain();
        h.update(prefix);
        h.update(name.as_bytes());
        h.update(b"\0");
    }
}

/// A keyed hash of an identifier: 32 lowercase hex digits. Serializes as that string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Pseudonym(String);

impl Pseudonym {
    /// The browser's pseudonym of a raw identifier.
    pub fn of(key: &ClientKey, field: IdField<'_>, raw: &str) -> Self {
        let mut h = blake3::Hasher::new_keyed(&key.0);
        h.update(CLIENT_DOMAIN);
        field.write_domain(&mut h);
        h.update(raw.as_bytes());
        Self::from_hash(&h)
    }

    /// The collector's re-keyed pseudonym: what is stored. The client value is discarded.
    pub fn rekey(&self, pepper: &Pepper, field: IdField<'_>) -> Self {
        // The construction's bytes (module docs) in one `update`, not one per piece: each call
        // costs more than hashing these few bytes, and the collector re-keys every pseudonym of
        // every event.
        let (prefix, name) = field.domain();
        let mut input =
            Vec::with_capacity(REKEY_DOMAIN.len() + prefix.len() + name.len() + 1 + self.0.len());
        for part in [
            REKEY_DOMAIN,
            prefix,
            name.as_bytes(),
            b"\0",
            self.0.as_bytes(),
        ] {
            input.extend_from_slice(part);
        }
        let mut h = blake3::Hasher::new_keyed(&pepper.0);
        h.update(&input);
        Self::from_hash(&h)
    }

    /// Accept a received pseudonym only if it has the exact shape of one.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 2 * PSEUDONYM_BYTES
            && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| Self(s.to_owned()))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn from_hash(h: &blake3::Hasher) -> Self {
        let hash = h.finalize();
        Self(encode_hex(&hash.as_bytes()[..PSEUDONYM_BYTES]))
    }
}

impl core::fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Pseudonym {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The cookieless visitor id: a keyed hash of site, IP and user agent under the epoch pepper,
/// computed in memory at the collector (as Plausible does). It changes with every epoch, so it
/// counts visitors within an epoch without following anyone across epochs.
pub fn visitor_id(pepper: &Pepper, site: &str, ip: IpAddr, user_agent: &str) -> Pseudonym {
    let mut h = blake3::Hasher::new_keyed(&pepper.0);
    h.update(VISITOR_DOMAIN);
    h.update(site.as_bytes());
    h.update(b"\0");
    h.update(ip.to_string().as_bytes());
    h.update(b"\0");
    h.update(user_agent.as_bytes());
    Pseudonym::from_hash(&h)
}

/// Lowercase hex of `bytes`.
pub fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Decode exactly `out.len()` bytes of lowercase hex; `false` on any other input.
pub fn decode_hex(s: &str, out: &mut [u8]) -> bool {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != out.len() * 2 {
        return false;
    }
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => *o = hi << 4 | lo,
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ClientKey {
        ClientKey::from_bytes(*b"sieve-test-client-key-32-bytes!!")
    }
    fn pepper() -> Pepper {
        Pepper::from_bytes(*b"sieve-test-pepper-secret-32bytes")
    }

    #[test]
    fn pseudonym_construction_known_answer() {
        // Recomputed independently with the blake3 API, so the test pins the byte layout.
        let mut h = blake3::Hasher::new_keyed(b"sieve-test-client-key-32-bytes!!");
        h.update(b"sieve/pseudonym/v1\0user_id\0u_8812");
        let want = encode_hex(&h.finalize().as_bytes()[..16]);
        let got = Pseudonym::of(&key(), IdField::UserId, "u_8812");
        assert_eq!(got.as_str(), want);
        // Cross-checked with the Python `blake3` package:
        // blake3(b"sieve/pseudonym/v1\0user_id\0u_8812", key=b"sieve-test-client-key-32-bytes!!").hexdigest()[:32]
        assert_eq!(
            got.as_str(),
            "0ecd6e10af7dbe02b5d2b167292fa002",
            "construction changed: stored pseudonyms would stop linking"
        );
    }

    #[test]
    fn rekey_construction_known_answer() {
        let client = Pseudonym::of(&key(), IdField::Group("org"), "org-abc");
        let mut h = blake3::Hasher::new_keyed(b"sieve-test-pepper-secret-32bytes");
        h.update(b"sieve/rekey/v1\0group:org\0");
        h.update(client.as_str().as_bytes());
        let stored = client.rekey(&pepper(), IdField::Group("org"));
        assert_eq!(stored.as_str(), encode_hex(&h.finalize().as_bytes()[..16]));
        assert_ne!(
            stored, client,
            "a stored pseudonym must never equal what the browser sent"
        );
    }

    #[test]
    fn rekey_hashes_the_pieces_of_the_construction_in_order() {
        let client = Pseudonym::of(&key(), IdField::UserId, "u_8812");
        let long = "a_property_name_longer_than_one_blake3_block_of_sixty_four_bytes_in_all";
        for field in [
            IdField::UserId,
            IdField::Group("org"),
            IdField::Trait("plan"),
            IdField::Prop("account_id"),
            IdField::Prop(long),
            IdField::Prop(""),
        ] {
            let mut h = blake3::Hasher::new_keyed(b"sieve-test-pepper-secret-32bytes");
            h.update(REKEY_DOMAIN);
            field.write_domain(&mut h);
            h.update(client.as_str().as_bytes());
            assert_eq!(
                client.rekey(&pepper(), field),
                Pseudonym::from_hash(&h),
                "{field:?}"
            );
        }
    }

    #[test]
    fn fields_are_domain_separated() {
        let k = key();
        let ids = [
            Pseudonym::of(&k, IdField::UserId, "42"),
            Pseudonym::of(&k, IdField::Group("org"), "42"),
            Pseudonym::of(&k, IdField::Group("team"), "42"),
            Pseudonym::of(&k, IdField::Trait("email"), "42"),
            Pseudonym::of(&k, IdField::Prop("email"), "42"),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn another_epoch_key_gives_an_unlinkable_pseudonym() {
        let other = ClientKey::from_bytes([7; 32]);
        assert_ne!(
            Pseudonym::of(&key(), IdField::UserId, "u_8812"),
            Pseudonym::of(&other, IdField::UserId, "u_8812")
        );
    }

    #[test]
    fn pseudonyms_are_128_bit_lowercase_hex() {
        let p = Pseudonym::of(&key(), IdField::UserId, "alice@example.com");
        assert_eq!(p.as_str().len(), 32);
        assert_eq!(Pseudonym::parse(p.as_str()), Some(p.clone()));
        for bad in [
            "",
            "u_8812",
            &p.as_str().to_uppercase(),
            &p.as_str()[..31],
            &format!("{}0", p.as_str()),
        ] {
            assert_eq!(Pseudonym::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_never_print_their_bytes() {
        assert_eq!(format!("{:?}", key()), "ClientKey(..)");
        assert_eq!(format!("{:?}", pepper()), "Pepper(..)");
    }

    #[test]
    fn visitor_id_depends_on_every_input() {
        let ip: IpAddr = "203.0.113.9".parse().expect("ip");
        let base = visitor_id(&pepper(), "a.example", ip, "UA");
        assert_ne!(base, visitor_id(&pepper(), "b.example", ip, "UA"));
        assert_ne!(
            base,
            visitor_id(
                &pepper(),
                "a.example",
                "203.0.113.10".parse().expect("ip"),
                "UA"
            )
        );
        assert_ne!(base, visitor_id(&pepper(), "a.example", ip, "UA2"));
        assert_ne!(
            base,
            visitor_id(&Pepper::from_bytes([1; 32]), "a.example", ip, "UA")
        );
        assert!(!base.as_str().contains("203"));
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let mut out = [0u8; 2];
        assert!(decode_hex("0aff", &mut out));
        assert_eq!(out, [0x0a, 0xff]);
        assert_eq!(encode_hex(&out), "0aff");
        assert!(!decode_hex("0AFF", &mut out));
        assert!(!decode_hex("0af", &mut out));
        assert!(!decode_hex("zzzz", &mut out));
    }
}

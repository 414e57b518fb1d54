//! The detectors behind text scrubbing: one function per kind of secret or identifier.
//!
//! Each detector looks at plain text (URLs are split off before, in `mod.rs`) from one
//! start position and answers how far its match runs, or `None`. Detectors work on bytes
//! and only recognise ASCII shapes, so a match always starts and ends on a char boundary.
//! They do not decide where a match may start (the scanner in `mod.rs` does, from the last
//! byte it emitted).
//!
//! Every scan is bounded (see the `MAX_*` constants) so that a hostile text cannot make the
//! browser spin: the worst case is a small constant times the input length.

use super::Finding;
use super::numbers::{card, iban, ipv4, ipv6, phone};
use crate::prelude::*;

/// A detector's answer: replace `start + keep .. end` by the finding's label, keeping the
/// first `keep` bytes (only `Bearer ` is kept, so a reader still sees what kind of value it was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Hit {
    pub(super) end: usize,
    pub(super) keep: usize,
    pub(super) finding: Finding,
}

/// RFC 5321 caps the local part at 64 octets; longer is not an address.
const MAX_LOCAL: usize = 64;
/// RFC 1035 caps a domain name at 253 characters.
const MAX_DOMAIN: usize = 253;
/// Longest token body we follow; real keys and JWTs are far shorter, and a bound keeps
/// overlapping candidates (`a-a-a-...`) from turning the scan quadratic.
const MAX_TOKEN: usize = 4096;
/// Shortest run of token characters that can be judged a high-entropy secret: below this,
/// ordinary identifiers and words are too easily confused with random strings.
const MIN_SECRET: usize = 20;

/// `[A-Za-z0-9_]`: what continues a word, so what must not touch either end of a match.
pub(super) fn is_word(b: u8) -> bool {
    CLASSES[usize::from(b)] & WORD != 0
}

// Character classes the scans test at nearly every byte, as one table look-up each.
const WORD: u8 = 1;
const B64URL: u8 = 2;
const SECRET: u8 = 4;
const LOCAL: u8 = 8;

const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        let mut class = 0;
        if alnum || c == b'_' {
            class |= WORD;
        }
        if alnum || c == b'_' || c == b'-' {
            class |= B64URL;
        }
        if alnum || matches!(c, b'_' | b'-' | b'+' | b'/') {
            class |= SECRET;
        }
        if alnum || matches!(c, b'.' | b'_' | b'+' | b'-') {
            class |= LOCAL;
        }
        table[b] = class;
        b += 1;
    }
    table
};

pub(super) fn at_end(s: &[u8], j: usize) -> bool {
    j >= s.len() || !is_word(s[j])
}

pub(super) fn run(s: &[u8], from: usize, max: usize, class: impl Fn(u8) -> bool) -> usize {
    let mut j = from;
    while j < s.len() && j - from < max && class(s[j]) {
        j += 1;
    }
    j
}

fn starts_with_ci(s: &[u8], i: usize, prefix: &[u8]) -> bool {
    s.len() >= i + prefix.len() && s[i..i + prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Can a match start right after `prev`? Not inside a word: every detector but the secret
/// one needs a word start, and the secret one needs the start of a run of secret characters,
/// which include every word character. The scanners check this before calling [`detect_at`],
/// which is the cheap way past the inside of every word.
pub(super) fn may_start_after(prev: Option<u8>) -> bool {
    prev.is_none_or(|p| !is_word(p))
}

/// Tries every detector at `i`, most specific first. `prev` is the byte before `i` as
/// already emitted (a label's `]` after a replacement), which keeps the scan a fixed point.
///
/// `hints` must be [`Hints::of`] the same `s`.
// Inlined so that the two cheap tests cost no call; the chain stays out of line.
#[inline]
pub(super) fn detect_at(s: &[u8], i: usize, prev: Option<u8>, hints: Hints) -> Option<Hit> {
    if !may_start_after(prev) || plain_word(s, i, hints).is_some() {
        return None;
    }
    detect_all(s, i, prev, hints)
}

/// Is `s[i..]` an ordinary short word (a letter, then lowercase letters) that no detector
/// can match from its first byte? Most words of prose are, and this look at the word is far
/// cheaper than the chain. Each detector needs something such a word lacks: a digit, `+`
/// or `(` (numbers, IPv4, cards, phones, and the check digits of an IBAN); a leading
/// `M`/`O`/`D` (user agents) or a `J` (`eyJ`, JWTs); a leading `b`/`B` (`bearer`); a `:`
/// (IPv6: the terminators below are not `:`, and a run through a `.` after letters never
/// parses as an address); an `@`/`%` in the text (emails, ruled out by the hints); a key
/// prefix (ruled out by the key filter); or 20 secret characters in a row (the word is
/// shorter, and its terminator is not a secret character).
///
/// `Some(end)` when it is, `end` being where the word ends: its terminator is not a word
/// character, so nothing starts inside it either and a scan may go on from `end`.
pub(super) fn plain_word(s: &[u8], i: usize, hints: Hints) -> Option<usize> {
    let c = s[i];
    let first_ok = c.is_ascii_alphabetic() && !matches!(c, b'b' | b'B' | b'M' | b'O' | b'D');
    if !first_ok || hints.email || may_start_key(s, i) {
        return None;
    }
    let end = run(s, i + 1, MIN_SECRET - 1, |b| b.is_ascii_lowercase());
    let plain = end - i < MIN_SECRET
        && s.get(end).is_none_or(|&t| {
            matches!(
                t,
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b','
                    | b'.'
                    | b';'
                    | b'!'
                    | b'?'
                    | b')'
                    | b'"'
                    | b'\''
            )
        });
    plain.then_some(end)
}

/// What a whole text rules out, found once per text by a byte search rather than at every
/// word start: without an `@` or a `%` (of `%40`) it holds no email, and the email detector,
/// which otherwise reads the run of local-part characters of every word, is skipped.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hints {
    email: bool,
}

impl Hints {
    pub(super) fn of(s: &[u8]) -> Self {
        Hints {
            email: s.contains(&b'@') || s.contains(&b'%'),
        }
    }
}

/// [`detect_at`] without its shortcut for the inside of words (which the tests check
/// against this).
#[inline(never)]
pub(super) fn detect_all(s: &[u8], i: usize, prev: Option<u8>, hints: Hints) -> Option<Hit> {
    let hit = |end: Option<usize>, finding| {
        end.map(|end| Hit {
            end,
            keep: 0,
            finding,
        })
    };
    let word_start = prev.is_none_or(|p| !is_word(p));
    if word_start {
        if let Some(h) = bearer(s, i) {
            return Some(h);
        }
        let found = hit(user_agent(s, i), Finding::UserAgent)
            .or_else(|| hit(hints.email.then(|| email(s, i)).flatten(), Finding::Email))
            .or_else(|| hit(jwt(s, i), Finding::Jwt))
            .or_else(|| hit(api_key(s, i), Finding::ApiKey));
        if found.is_some() {
            return found;
        }
        // Numbers: never start inside a dotted or dashed number (versions, dates, ranges).
        let in_number = prev.is_some_and(|p| matches!(p, b'.' | b'-' | b'+' | b':' | b'/'));
        if !in_number {
            let found = hit(ipv6(s, i), Finding::Ip)
                .or_else(|| hit(ipv4(s, i), Finding::Ip))
                .or_else(|| hit(iban(s, i), Finding::Iban))
                .or_else(|| hit(card(s, i), Finding::Card))
                .or_else(|| hit(phone(s, i), Finding::Phone));
            if found.is_some() {
                return found;
            }
        }
    }
    // A secret is judged on a whole run of token characters, once, from its first byte.
    if prev.is_none_or(|p| !is_secret_char(p)) {
        return hit(secret(s, i), Finding::Secret);
    }
    None
}

// ---------------------------------------------------------------- user agent

/// Product tokens that open a raw user-agent string. `Mozilla/` opens nearly every browser's;
/// the others are the common non-browser clients whose strings still carry device details.
const UA_OPENERS: [&[u8]; 3] = [b"Mozilla/", b"Opera/", b"Dalvik/"];
/// Longest user agent followed: real ones stay under 512 bytes.
const MAX_UA: usize = 1024;

fn is_product_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+')
}

/// A `name/version` product token at `j`: its end.
fn product(s: &[u8], j: usize) -> Option<usize> {
    let name_end = run(s, j, 64, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
    });
    if name_end == j || s.get(name_end) != Some(&b'/') {
        return None;
    }
    let mut version_end = run(s, name_end + 1, 64, is_product_char);
    // Sentence punctuation after a version is not part of it.
    while version_end > name_end + 1 && matches!(s[version_end - 1], b'.' | b'-' | b'+') {
        version_end -= 1;
    }
    (version_end > name_end + 1).then_some(version_end)
}

/// A raw user agent: an opener with a version, then any run of product tokens, parenthesised
/// comments and bare words (`Mobile`) that lead to another product token, separated by spaces.
/// Replaced whole, because its device and version details fingerprint the visitor.
fn user_agent(s: &[u8], i: usize) -> Option<usize> {
    if !matches!(s[i], b'M' | b'O' | b'D') {
        return None;
    }
    let opener = UA_OPENERS.iter().find(|o| s[i..].starts_with(o))?;
    // The opener's version is numeric (`Mozilla/5.0`): `Mozilla/Firefox` is prose.
    if !s.get(i + opener.len()).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut end = product(s, i)?;
    let limit = (i + MAX_UA).min(s.len());
    loop {
        let j = run(s, end, 4, |b| b == b' ');
        if j == end || j >= limit {
            break;
        }
        let next = if s[j] == b'(' {
            s[j..limit]
                .iter()
                .position(|b| *b == b')')
                .map(|p| j + p + 1)
        } else if let Some(e) = product(s, j) {
            Some(e)
        } else {
            // A bare word counts only when a product token follows it (`Mobile Safari/604.1`).
            let w = run(s, j, 32, |b| b.is_ascii_alphabetic());
            (w > j && s.get(w) == Some(&b' '))
                .then(|| product(s, w + 1))
                .flatten()
        };
        match next {
            Some(e) => end = e,
            None => break,
        }
    }
    Some(end)
}

// ---------------------------------------------------------------- email

fn is_local_char(b: u8) -> bool {
    CLASSES[usize::from(b)] & LOCAL != 0
}

/// `local@domain.tld`, also with the `@` percent-encoded (`%40`), as it is in query strings.
fn email(s: &[u8], i: usize) -> Option<usize> {
    if !s.get(i)?.is_ascii_alphanumeric() {
        return None;
    }
    let j = run(s, i, MAX_LOCAL, is_local_char);
    let domain_start = if s.get(j) == Some(&b'@') {
        j + 1
    } else if starts_with_ci(s, j, b"%40") {
        j + 3
    } else {
        return None;
    };
    let end = domain(s, domain_start)?;
    at_end(s, end).then_some(end)
}

/// A dotted host name of at least two labels whose last label is alphabetic-ish; returns
/// its end. Trailing dots and dashes belong to the sentence, not the name.
fn domain(s: &[u8], from: usize) -> Option<usize> {
    let mut end = run(s, from, MAX_DOMAIN, |b| {
        b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
    });
    while end > from && matches!(s[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let name = &s[from..end];
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in name.split(|&b| b == b'.') {
        if label.is_empty() {
            return None;
        }
        labels += 1;
        last = label;
    }
    let tld_ok = last.len() >= 2 && last.iter().any(u8::is_ascii_alphabetic);
    (labels >= 2 && tld_ok).then_some(end)
}

// ---------------------------------------------------------------- tokens

fn is_b64url(b: u8) -> bool {
    CLASSES[usize::from(b)] & B64URL != 0
}

/// A JWS or JWE in compact form: `eyJ` (base64url of `{"`) header, then 2 to 4 more
/// dot-separated base64url parts; an unsigned JWT may end in an empty part.
fn jwt(s: &[u8], i: usize) -> Option<usize> {
    if s[i] != b'e' || !s[i..].starts_with(b"eyJ") {
        return None;
    }
    let header_end = run(s, i, MAX_TOKEN, is_b64url);
    if header_end - i < 10 || s.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = run(s, header_end + 1, MAX_TOKEN, is_b64url);
    if payload_end - header_end - 1 < 2 || s.get(payload_end) != Some(&b'.') {
        return None;
    }
    let mut end = run(s, payload_end + 1, MAX_TOKEN, is_b64url);
    let mut parts = 3;
    while parts < 5 && s.get(end) == Some(&b'.') && s.get(end + 1).is_some_and(|&b| is_b64url(b)) {
        end = run(s, end + 1, MAX_TOKEN, is_b64url);
        parts += 1;
    }
    at_end(s, end).then_some(end)
}

/// `Bearer <token>`: the credential of an `Authorization` header pasted into a text field.
/// The word is kept so the reader knows what was there; the token becomes `[token]`.
fn bearer(s: &[u8], i: usize) -> Option<Hit> {
    if !matches!(s[i], b'b' | b'B') || !starts_with_ci(s, i, b"bearer") {
        return None;
    }
    let gap_end = run(s, i + 6, 4, |b| b == b' ' || b == b'\t');
    if gap_end == i + 6 {
        return None;
    }
    let token_class = |b: u8| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
    };
    let end = run(s, gap_end, MAX_TOKEN, token_class);
    let token = &s[gap_end..end];
    // "bearer bonds", "Bearer Instruments": a plain word is not a credential.
    let plain_word = token.iter().all(u8::is_ascii_alphabetic)
        && token
            .get(1..)
            .is_some_and(|rest| rest.iter().all(u8::is_ascii_lowercase));
    (token.len() >= 8 && !plain_word).then_some(Hit {
        end,
        keep: gap_end - i,
        finding: Finding::BearerToken,
    })
}

/// What may follow a key prefix.
#[derive(Clone, Copy)]
enum Body {
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_-]`
    Url,
    /// `[A-Za-z0-9_.-]` (SendGrid's and Google OAuth's dotted forms)
    Dotted,
    /// `[A-Z0-9]`, exactly 16: AWS access key ids.
    Aws,
}

/// Prefixes that vendors put on their secrets precisely so that scanners can find them,
/// with the body that follows and its shortest length. `sk-` also covers `sk-ant-` and
/// `sk-proj-`; `github_pat_` comes before nothing shorter that would shadow it.
const KEY_PREFIXES: &[(&str, Body, usize)] = &[
    ("sk-", Body::Url, 20), // OpenAI, Anthropic (sk-ant-), OpenAI projects (sk-proj-)
    ("sk_live_", Body::Alnum, 16), // Stripe secret keys
    ("sk_test_", Body::Alnum, 16),
    ("rk_live_", Body::Alnum, 16), // Stripe restricted keys
    ("rk_test_", Body::Alnum, 16),
    ("pk_live_", Body::Alnum, 16), // Stripe publishable keys: still tie events to an account
    ("pk_test_", Body::Alnum, 16),
    ("whsec_", Body::Alnum, 20), // Stripe webhook secrets
    ("AKIA", Body::Aws, 16),     // AWS long-term access key id
    ("ASIA", Body::Aws, 16),     // AWS temporary access key id
    ("ghp_", Body::Alnum, 20),   // GitHub tokens: personal, OAuth, user, server, refresh
    ("gho_", Body::Alnum, 20),
    ("ghu_", Body::Alnum, 20),
    ("ghs_", Body::Alnum, 20),
    ("ghr_", Body::Alnum, 20),
    ("github_pat_", Body::Url, 20), // GitHub fine-grained tokens
    ("glpat-", Body::Url, 20),      // GitLab
    ("xoxb-", Body::Url, 10),       // Slack bot, user, app, ... tokens
    ("xoxp-", Body::Url, 10),
    ("xoxa-", Body::Url, 10),
    ("xoxs-", Body::Url, 10),
    ("xoxr-", Body::Url, 10),
    ("xoxe-", Body::Url, 10),
    ("xapp-", Body::Url, 10),
    ("AIza", Body::Url, 30),     // Google API keys
    ("ya29.", Body::Dotted, 20), // Google OAuth access tokens
    ("npm_", Body::Alnum, 30),   // npm
    ("pypi-", Body::Url, 20),    // PyPI
    ("shpat_", Body::Alnum, 20), // Shopify
    ("shpss_", Body::Alnum, 20),
    ("shpca_", Body::Alnum, 20),
    ("shppa_", Body::Alnum, 20),
    ("hf_", Body::Alnum, 30),      // Hugging Face
    ("dop_v1_", Body::Alnum, 20),  // DigitalOcean
    ("lin_api_", Body::Alnum, 20), // Linear
    ("SG.", Body::Dotted, 20),     // SendGrid
    ("sq0atp-", Body::Url, 20),    // Square
    ("sq0csp-", Body::Url, 20),
];

/// The first two bytes of every [`KEY_PREFIXES`] entry, as a 4096-bit set (six low bits of
/// each byte): a word that starts with none of them (nearly every word) costs one test
/// instead of a comparison per prefix. Every prefix is at least three bytes long.
const KEY_HEADS: [u64; 64] = {
    let mut set = [0u64; 64];
    let mut k = 0;
    while k < KEY_PREFIXES.len() {
        let p = KEY_PREFIXES[k].0.as_bytes();
        let h = key_head(p[0], p[1]);
        set[h / 64] |= 1 << (h % 64);
        k += 1;
    }
    set
};

const fn key_head(a: u8, b: u8) -> usize {
    ((a & 63) as usize) << 6 | (b & 63) as usize
}

/// Could a key prefix start at `i`? False only when none can.
fn may_start_key(s: &[u8], i: usize) -> bool {
    match s.get(i..i + 2) {
        Some(&[a, b]) => {
            let h = key_head(a, b);
            KEY_HEADS[h / 64] & (1 << (h % 64)) != 0
        }
        _ => false,
    }
}

fn api_key(s: &[u8], i: usize) -> Option<usize> {
    if !may_start_key(s, i) {
        return None;
    }
    let first = s[i];
    KEY_PREFIXES.iter().find_map(|&(prefix, body, min)| {
        if prefix.as_bytes()[0] != first || !s[i..].starts_with(prefix.as_bytes()) {
            return None;
        }
        let from = i + prefix.len();
        let end = match body {
            Body::Alnum => run(s, from, MAX_TOKEN, |b| b.is_ascii_alphanumeric()),
            Body::Url => run(s, from, MAX_TOKEN, is_b64url),
            Body::Dotted => run(s, from, MAX_TOKEN, |b| is_b64url(b) || b == b'.'),
            Body::Aws => run(s, from, min, |b| {
                b.is_ascii_uppercase() || b.is_ascii_digit()
            }),
        };
        let body = &s[from..end];
        // A slug that happens to start with `sk-` is not a key: real keys mix classes.
        let mixed = body.iter().any(u8::is_ascii_digit)
            || (body.iter().any(u8::is_ascii_uppercase) && body.iter().any(u8::is_ascii_lowercase));
        (body.len() >= min && mixed && at_end(s, end)).then_some(end)
    })
}

fn is_secret_char(b: u8) -> bool {
    CLASSES[usize::from(b)] & SECRET != 0
}

/// A long run of base64/base64url/hex characters that looks random. The run is judged
/// whole: a secret may contain `-`, `_`, `+` and `/`, so splitting it would let halves pass.
fn secret(s: &[u8], i: usize) -> Option<usize> {
    let mut end = run(s, i, usize::MAX, is_secret_char);
    if !looks_random(&s[i..end]) {
        return None;
    }
    // Base64 padding belongs to the secret.
    end = run(s, end, 2, |b| b == b'=');
    Some(end)
}

/// The high-entropy test. Thresholds were set against real keys (base62/base64/hex of
/// 20+ chars) and real long words, slugs, camelCase names and paths, which must survive.
pub(super) fn looks_random(tok: &[u8]) -> bool {
    if tok.len() < MIN_SECRET {
        return false;
    }
    // Slugs, paths and snake_case: every part an ordinary word or number.
    if tok
        .split(|&b| matches!(b, b'-' | b'_' | b'/' | b'+'))
        .all(word_like)
    {
        return false;
    }
    let letters_digits: Vec<u8> = tok
        .iter()
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    let class = |b: u8| {
        if b.is_ascii_digit() {
            0
        } else if b.is_ascii_uppercase() {
            1
        } else {
            2
        }
    };
    let mut present = [false; 3];
    for &b in &letters_digits {
        present[class(b)] = true;
    }
    let kinds = present.iter().filter(|&&p| p).count();
    if kinds < 2 {
        return false;
    }
    let changes = letters_digits
        .windows(2)
        .filter(|w| class(w[0]) != class(w[1]))
        .count();
    let n = tok.len();
    let bits = entropy(tok);
    if present[0] {
        // Random base62 changes class at ~60% of positions, hex at ~45%; words with a
        // version or year (`release2026candidate1`) change two or three times in all.
        changes * 5 >= n && bits >= 3.0
    } else {
        // No digit at all: only very mixed-case, very varied runs. camelCase names change
        // case about once per 3 letters, random letters about once per 2.
        n >= 24 && changes * 5 >= n * 2 && bits >= 4.2
    }
}

/// An ordinary word or number: letters then at most one switch to digits (or the reverse),
/// in lower, UPPER or Capitalised case: `password`, `v1`, `h264`, `2026`, `Berlin`.
fn word_like(part: &[u8]) -> bool {
    let switches = part
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
        .count();
    let letters: Vec<u8> = part
        .iter()
        .copied()
        .filter(u8::is_ascii_alphabetic)
        .collect();
    let case_ok = letters.iter().all(u8::is_ascii_lowercase)
        || letters.iter().all(u8::is_ascii_uppercase)
        || letters
            .get(1..)
            .is_some_and(|rest| rest.iter().all(u8::is_ascii_lowercase));
    switches <= 1 && case_ok
}

/// Shannon entropy in bits per byte.
fn entropy(tok: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in tok {
        counts[usize::from(b)] += 1;
    }
    let n = tok.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_random_separates_keys_from_words() {
        for (tok, want) in [
            ("a8Fk29dLq0PzX7mN3bV1xQ", true),
            ("d41d8cd98f00b204e9800998ecf8427e", true),
            ("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA", true),
            ("qWeRtYuIoPaSdFgHjKlZxCvBnM", true),
            ("a8Fk29dLq0PzX7mN3bV", false), // 19: too short to judge
            ("internationalization", false),
            ("how-to-reset-my-password", false),
            ("getElementsByClassName", false),
            ("release2026candidate1", false),
            ("usr/local/bin/python3", false),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", false),
            ("12345678901234567890", false),
        ] {
            assert_eq!(looks_random(tok.as_bytes()), want, "{tok}");
        }
    }

    #[test]
    fn key_prefixes_need_a_mixed_body_of_minimum_length() {
        for (text, want) in [
            ("sk-Ab12Cd34Ef56Gh78Ij90", true),
            ("sk-learn-is-a-python-library", false),
            ("sk-Ab12", false),
            ("AKIAIOSFODNN7EXAMPLE", true),
            ("AKIAIOSFODNN7EXAMPLEX", false), // 17 chars after AKIA: not an AWS key id
            ("ghp_abc", false),
        ] {
            assert_eq!(api_key(text.as_bytes(), 0).is_some(), want, "{text}");
        }
    }

    #[test]
    fn raw_user_agents_are_replaced_whole() {
        for (text, want) in [
            (
                "crashes on Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 today",
                "crashes on [user_agent] today",
            ),
            (
                "ua=Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "ua=[user_agent]",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/124.0.0.0 Mobile Safari/537.36.",
                "[user_agent].",
            ),
            (
                "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP1A)",
                "[user_agent]",
            ),
            (
                "I like Mozilla and Mozilla/Firefox a lot",
                "I like Mozilla and Mozilla/Firefox a lot",
            ),
        ] {
            assert_eq!(super::super::scrub_capped(text, 500).text, want, "{text}");
        }
    }

    #[test]
    fn matches_do_not_start_inside_words() {
        let s = b"x4111111111111111";
        let hints = Hints::of(s);
        assert_eq!(detect_at(s, 1, Some(b'x'), hints), None);
        assert!(detect_at(s, 1, Some(b' '), hints).is_some());
    }

    #[test]
    fn class_table_matches_the_definitions() {
        for b in 0..=255u8 {
            let alnum = b.is_ascii_alphanumeric();
            assert_eq!(is_word(b), alnum || b == b'_', "{b}");
            assert_eq!(is_b64url(b), alnum || b == b'_' || b == b'-', "{b}");
            assert_eq!(
                is_secret_char(b),
                is_b64url(b) || b == b'+' || b == b'/',
                "{b}"
            );
            assert_eq!(
                is_local_char(b),
                alnum || matches!(b, b'.' | b'_' | b'+' | b'-'),
                "{b}"
            );
        }
    }

    #[test]
    fn every_key_prefix_passes_the_head_filter() {
        for (prefix, _, _) in KEY_PREFIXES {
            assert!(prefix.len() >= 3, "{prefix}");
            assert!(may_start_key(prefix.as_bytes(), 0), "{prefix}");
        }
    }

    /// Text in which every detector has something to find, in pieces that the generator
    /// glues together with and without separators.
    fn soup() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            proptest::sample::select(vec![
                "a@b.io",
                "x%40example.com",
                "Bearer abc123def456ghi",
                "sk-Ab12Cd34Ef56Gh78Ij90",
                "AKIAIOSFODNN7EXAMPLE",
                "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
                "eyJhbGciOiJI.eyJzdWIi.dozjgNryP4J3",
                "Mozilla/5.0 (X11) Chrome/1",
                "8.8.8.8",
                "fe80::1ff:fe23:4567:890a",
                "4111 1111 1111 1111",
                "DE89370400440532013000",
                "+44 20 7946 0958",
                "555-123-4567",
                "a8Fk29dLq0PzX7mN3bV1xQ",
                "[email]",
            ])
            .prop_map(str::to_owned),
            "[ -~]{0,12}",
            "[a-zA-Z0-9_@%:.+/-]{0,24}",
        ];
        proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// The shortcut in `detect_at` skips nothing the full chain would find.
        #[test]
        fn nothing_starts_inside_a_word(t in soup(), prev in "[a-zA-Z0-9_]") {
            let s = t.as_bytes();
            let hints = Hints::of(s);
            let prev = prev.as_bytes()[0];
            for i in 0..s.len() {
                prop_assert_eq!(detect_all(s, i, Some(prev), hints), None, "at {} of {:?}", i, t);
            }
        }

        /// The plain-word shortcut of `detect_at` rules out only what cannot match: the same
        /// answers as the full chain, on prose and on text where every detector has
        /// something to find.
        #[test]
        fn plain_words_hide_no_match(
            t in prop_oneof![soup(), "([A-Za-z][a-z]{0,21}[ ,;!?)\"'.:\t\n@%_/+0-9A-Z-]{0,2}|[a-fA-F0-9:.]{1,6}){0,8}"],
            prev in proptest::option::of("[ -~]"),
        ) {
            let s = t.as_bytes();
            let prev = prev.map(|p| p.as_bytes()[0]);
            let hints = Hints::of(s);
            for i in 0..s.len() {
                let p = if i == 0 { prev } else { Some(s[i - 1]) };
                let want = if may_start_after(p) { detect_all(s, i, p, hints) } else { None };
                prop_assert_eq!(detect_at(s, i, p, hints), want, "at {} of {:?}", i, t);
            }
        }

        /// The hints rule out only what cannot match: the same answers as with every
        /// detector enabled.
        #[test]
        fn hints_skip_no_match(t in soup(), prev in proptest::option::of("[ -~]")) {
            let s = t.as_bytes();
            let prev = prev.map(|p| p.as_bytes()[0]);
            let all = Hints { email: true };
            for i in 0..s.len() {
                prop_assert_eq!(email(s, i).is_some() && !Hints::of(s).email, false);
                prop_assert_eq!(detect_all(s, i, prev, Hints::of(s)), detect_all(s, i, prev, all));
            }
        }

        /// The head filter of the key detector rules out only what cannot match.
        #[test]
        fn key_filter_skips_no_key(t in soup()) {
            let s = t.as_bytes();
            for i in 0..s.len() {
                if !may_start_key(s, i) {
                    prop_assert!(KEY_PREFIXES.iter().all(|(p, _, _)| !s[i..].starts_with(p.as_bytes())));
                }
            }
        }
    }
}

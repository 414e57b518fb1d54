//! The detectors behind text scrubbing: one function per kind of secret or identifier.
//!
//! Each detector looks at plain text (URLs are split off before, in `mod.rs`) from one
//! start position and answers how far its match runs, or `None`. Detectors work on bytes
//! and only recognise ASCII shapes, so a match always starts and ends on a char boundary.
//! They do not decide where a match may start (the scanner in `mod.rs` does, from the last
//! byte it emitted) and they never allocate, except the IPv6 parse of a short candidate.
//!
//! Every scan is bounded (see the `MAX_*` constants) so that a hostile text cannot make the
//! browser spin: the worst case is a small constant times the input length.

use super::Finding;

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
    b.is_ascii_alphanumeric() || b == b'_'
}

fn at_end(s: &[u8], j: usize) -> bool {
    j >= s.len() || !is_word(s[j])
}

fn run(s: &[u8], from: usize, max: usize, class: impl Fn(u8) -> bool) -> usize {
    let mut j = from;
    while j < s.len() && j - from < max && class(s[j]) {
        j += 1;
    }
    j
}

fn starts_with_ci(s: &[u8], i: usize, prefix: &[u8]) -> bool {
    s.len() >= i + prefix.len() && s[i..i + prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Tries every detector at `i`, most specific first. `prev` is the byte before `i` as
/// already emitted (a label's `]` after a replacement), which keeps the scan a fixed point.
pub(super) fn detect_at(s: &[u8], i: usize, prev: Option<u8>) -> Option<Hit> {
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
        let found = hit(email(s, i), Finding::Email)
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

// ---------------------------------------------------------------- email

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-')
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
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A JWS or JWE in compact form: `eyJ` (base64url of `{"`) header, then 2 to 4 more
/// dot-separated base64url parts; an unsigned JWT may end in an empty part.
fn jwt(s: &[u8], i: usize) -> Option<usize> {
    if !s[i..].starts_with(b"eyJ") {
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
    if !starts_with_ci(s, i, b"bearer") {
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

fn api_key(s: &[u8], i: usize) -> Option<usize> {
    KEY_PREFIXES.iter().find_map(|&(prefix, body, min)| {
        if !s[i..].starts_with(prefix.as_bytes()) {
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
    is_b64url(b) || b == b'+' || b == b'/'
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

// ---------------------------------------------------------------- addresses

/// Four dotted octets, each at most 255. Leading zeros are accepted (some tools print
/// them), a fifth dotted number is not (then it is a version like `1.2.3.4.5`).
fn ipv4(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    for octet in 0..4 {
        if octet > 0 {
            if s.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
        let end = run(s, j, 3, |b| b.is_ascii_digit());
        if end == j || s.get(end).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let value: u32 = s[j..end]
            .iter()
            .fold(0, |v, &d| v * 10 + u32::from(d - b'0'));
        if value > 255 {
            return None;
        }
        j = end;
    }
    let continues = s.get(j) == Some(&b'.') && s.get(j + 1).is_some_and(u8::is_ascii_digit);
    (at_end(s, j) && !continues).then_some(j)
}

/// An IPv6 address as `std` parses it, with at least two non-empty groups so that `::`
/// in prose or code (`a::b` aside) and the loopback `::1` are left alone.
fn ipv6(s: &[u8], i: usize) -> Option<usize> {
    const MAX_V6: usize = 45; // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
    if !(s[i].is_ascii_hexdigit() || s[i] == b':') {
        return None;
    }
    let mut end = run(s, i, MAX_V6, |b| {
        b.is_ascii_hexdigit() || b == b':' || b == b'.'
    });
    // A sentence may end right after the address: give back trailing `:` and `.`.
    loop {
        let cand = &s[i..end];
        if cand.iter().filter(|&&b| b == b':').count() >= 2 {
            let groups = cand.split(|&b| b == b':').filter(|g| !g.is_empty()).count();
            let parsed = std::str::from_utf8(cand)
                .ok()
                .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok());
            if parsed.is_some() && groups >= 2 && at_end(s, end) {
                return Some(end);
            }
        }
        if end > i && matches!(s[end - 1], b':' | b'.') {
            end -= 1;
        } else {
            return None;
        }
    }
}

// ---------------------------------------------------------------- numbers

/// Digit groups separated by single separators from `seps`: for every group end, the
/// position after the group and the digits so far. Stops past `max_digits`.
fn digit_groups(s: &[u8], i: usize, seps: &[u8], max_digits: usize) -> Vec<(usize, usize)> {
    let mut ends = Vec::new();
    let mut j = i;
    let mut digits = 0;
    loop {
        let end = run(s, j, max_digits + 1, |b| b.is_ascii_digit());
        if end == j {
            break;
        }
        digits += end - j;
        if digits > max_digits {
            break;
        }
        ends.push((end, digits));
        match s.get(end) {
            Some(b) if seps.contains(b) && s.get(end + 1).is_some_and(u8::is_ascii_digit) => {
                j = end + 1
            }
            _ => break,
        }
    }
    ends
}

fn digits_of(s: &[u8]) -> impl Iterator<Item = u32> + '_ {
    s.iter()
        .filter(|b| b.is_ascii_digit())
        .map(|&b| u32::from(b - b'0'))
}

pub(super) fn luhn_ok(s: &[u8]) -> bool {
    let digits: Vec<u32> = digits_of(s).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(k, &d)| {
            if k % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A payment card number: 13 to 19 digits, optionally grouped with spaces or dashes,
/// starting with 2-6 (the issuer ranges of Visa, Mastercard, Amex, Discover, JCB, Diners,
/// UnionPay, Maestro; this also keeps millisecond timestamps, which start with 1, out),
/// passing the Luhn check. The longest valid reading wins.
fn card(s: &[u8], i: usize) -> Option<usize> {
    if !(b'2'..=b'6').contains(&s[i]) {
        return None;
    }
    digit_groups(s, i, b" -", 19)
        .into_iter()
        .rev()
        .find(|&(end, digits)| digits >= 13 && at_end(s, end) && luhn_ok(&s[i..end]))
        .map(|(end, _)| end)
}

/// An IBAN: country letters, two check digits, 11 to 30 more letters or digits, either
/// contiguous or printed in groups of four; it must pass the ISO 7064 mod-97 check.
fn iban(s: &[u8], i: usize) -> Option<usize> {
    let head = s.get(i..i + 4)?;
    if !(head[0].is_ascii_alphabetic()
        && head[1].is_ascii_alphabetic()
        && head[2].is_ascii_digit()
        && head[3].is_ascii_digit())
    {
        return None;
    }
    let mut best = None;
    let mut j = i;
    let mut chars = 0;
    loop {
        let end = run(s, j, 34, |b| b.is_ascii_alphanumeric());
        chars += end - j;
        if chars > 34 || end == j {
            break;
        }
        if chars >= 15 && at_end(s, end) && mod97_ok(&s[i..end]) {
            best = Some(end);
        }
        // Printed form: groups of exactly four, the last one shorter.
        let grouped = end - j == 4 && s.get(end) == Some(&b' ');
        if !grouped {
            break;
        }
        j = end + 1;
    }
    best
}

fn mod97_ok(s: &[u8]) -> bool {
    let chars: Vec<u8> = s
        .iter()
        .copied()
        .filter(u8::is_ascii_alphanumeric)
        .collect();
    let (head, rest) = chars.split_at(4);
    let mut r: u32 = 0;
    for &b in rest.iter().chain(head) {
        let b = b.to_ascii_uppercase();
        if b.is_ascii_digit() {
            r = (r * 10 + u32::from(b - b'0')) % 97;
        } else {
            r = (r * 100 + u32::from(b - b'A' + 10)) % 97;
        }
    }
    r == 1
}

/// Phone numbers. The rule, chosen to catch the forms people write and to leave dates,
/// versions, amounts and counters alone:
/// - international: `+`, then 8 to 15 digits (E.164) in groups separated by single
///   spaces, dashes, dots, or with a parenthesised group: `+44 20 7946 0958`, `+1 (555) 123-4567`;
/// - national with a trunk `0`: 9 to 13 digits, contiguous or grouped by spaces, dashes or
///   a slash: `020 7946 0958`, `06 12 34 56 78`, `030/1234567`, `0612345678`;
/// - North American: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `1-800-555-0199`.
///
/// Not caught (documented gap): national numbers without a trunk 0 outside the NANP
/// shape (`612 34 56 78`), because they are indistinguishable from grouped amounts.
fn phone(s: &[u8], i: usize) -> Option<usize> {
    match s[i] {
        b'+' => international(s, i + 1),
        b'0' => trunk_zero(s, i, 0),
        // `(020) 7946 0958`: the trunk-0 area code in parentheses.
        b'(' if s.get(i + 1) == Some(&b'0') => {
            let close = run(s, i + 1, 6, |b| b.is_ascii_digit());
            if s.get(close) != Some(&b')') {
                return None;
            }
            let next = if s.get(close + 1) == Some(&b' ') {
                close + 2
            } else {
                close + 1
            };
            trunk_zero(s, next, close - i - 1)
        }
        b'(' | b'1'..=b'9' => nanp(s, i),
        _ => None,
    }
}

/// The trunk-0 national form from `from`, `before` digits (a parenthesised area code)
/// having been read already.
fn trunk_zero(s: &[u8], from: usize, before: usize) -> Option<usize> {
    if !s.get(from).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    digit_groups(s, from, b" -/", 13 - before)
        .into_iter()
        .rev()
        .find(|&(end, digits)| before + digits >= 9 && at_end(s, end))
        .map(|(end, _)| end)
}

fn international(s: &[u8], from: usize) -> Option<usize> {
    if !s.get(from).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return None;
    }
    let mut j = from;
    let mut digits = 0;
    let mut best = None;
    loop {
        let paren = s.get(j) == Some(&b'(');
        let start = if paren { j + 1 } else { j };
        let mut end = run(s, start, 15, |b| b.is_ascii_digit());
        if end == start {
            break;
        }
        digits += end - start;
        if paren {
            if s.get(end) != Some(&b')') {
                break;
            }
            end += 1;
        }
        if digits > 15 {
            break;
        }
        if digits >= 8 && at_end(s, end) && s.get(end).is_none_or(|&b| b != b'(') {
            best = Some(end);
        }
        // One separator (or a space after a closing parenthesis), then the next group.
        j = end;
        if matches!(s.get(j), Some(b' ' | b'-' | b'.')) {
            j += 1;
        }
        if j == end && !paren && s.get(j) != Some(&b'(') {
            break;
        }
        if !s.get(j).is_some_and(|&b| b.is_ascii_digit() || b == b'(') {
            break;
        }
    }
    best
}

/// NANP: optional `1` and separator, area code (2-9 first) bare or in parentheses,
/// exchange, line: 3-3-4 digits, separators all from space, dash, dot.
fn nanp(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if s[j] == b'1' && matches!(s.get(j + 1), Some(b' ' | b'-' | b'.')) {
        j += 2;
    }
    let exact = |j: usize, n: usize| -> Option<usize> {
        let end = run(s, j, n + 1, |b| b.is_ascii_digit());
        (end - j == n).then_some(end)
    };
    let area = if s.get(j) == Some(&b'(') {
        let end = exact(j + 1, 3)?;
        if s.get(end) != Some(&b')') {
            return None;
        }
        j = end + 1;
        if s.get(j) == Some(&b' ') {
            j += 1;
        }
        &s[end - 3..end]
    } else {
        let end = exact(j, 3)?;
        if !matches!(s.get(end), Some(b' ' | b'-' | b'.')) {
            return None;
        }
        let area = &s[j..end];
        j = end + 1;
        area
    };
    if !(b'2'..=b'9').contains(&area[0]) {
        return None;
    }
    let exchange_end = exact(j, 3)?;
    if !matches!(s.get(exchange_end), Some(b' ' | b'-' | b'.')) {
        return None;
    }
    let end = exact(exchange_end + 1, 4)?;
    at_end(s, end).then_some(end)
}

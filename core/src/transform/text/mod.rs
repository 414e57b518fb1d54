//! Free-text scrubbing: what a site declares as a `text` property (a search query, a
//! feedback note) is cleaned here before it leaves the browser, and the collector checks
//! that what it receives is already clean (scrubbing is a fixed point).
//!
//! Replaced, each by a label naming what it was: emails, phone numbers, IPv4/IPv6
//! addresses, Luhn-valid card numbers, mod-97-valid IBANs, JWTs, `Bearer` tokens, API keys
//! with vendor prefixes, long high-entropy strings, and URLs (cleaned like page URLs, see
//! [`super::url`], or replaced when they cannot be cleaned).
//!
//! Deliberately not done: names, street addresses and other free-form personal data
//! cannot be recognised reliably by patterns; a site that expects them must not declare
//! the field as text. Non-ASCII look-alikes (full-width digits) are not detected. The
//! detectors live in `detect.rs` (dispatch, emails, tokens, secrets) and `numbers.rs`
//! (IP addresses, cards, IBANs, phones).

mod detect;
mod numbers;

use alloc::borrow::Cow;

use super::url::clean_page_url;
use crate::prelude::*;

/// What a replacement stood for; its label is what replaces the value in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// An email address.
    Email,
    /// A phone number (international `+` form or a grouped national form).
    Phone,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A payment card number that passes the Luhn check.
    Card,
    /// An IBAN that passes the mod-97 check.
    Iban,
    /// A JSON Web Token.
    Jwt,
    /// The token after `Bearer`.
    BearerToken,
    /// An API key with a well-known vendor prefix.
    ApiKey,
    /// A long high-entropy string (a key, hash or token without a known prefix).
    Secret,
    /// A URL that could not be cleaned.
    Url,
    /// A raw user-agent string (`Mozilla/5.0 (...) ...`): a fingerprint pasted into text.
    UserAgent,
}

impl Finding {
    /// Every finding, in declaration order (for documentation and the data inventory).
    pub const ALL: [Finding; 11] = [
        Finding::Email,
        Finding::Phone,
        Finding::Ip,
        Finding::Card,
        Finding::Iban,
        Finding::Jwt,
        Finding::BearerToken,
        Finding::ApiKey,
        Finding::Secret,
        Finding::Url,
        Finding::UserAgent,
    ];

    /// The text that replaces a value of this kind. Labels are bracketed lowercase words:
    /// no detector matches them, which is what makes scrubbing idempotent.
    pub fn label(self) -> &'static str {
        match self {
            Finding::Email => "[email]",
            Finding::Phone => "[phone]",
            Finding::Ip => "[ip]",
            Finding::Card => "[card]",
            Finding::Iban => "[iban]",
            Finding::Jwt => "[jwt]",
            Finding::BearerToken => "[token]",
            Finding::ApiKey => "[api_key]",
            Finding::Secret => "[secret]",
            Finding::Url => "[url]",
            Finding::UserAgent => "[user_agent]",
        }
    }

    /// The stable snake_case name (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            Finding::Email => "email",
            Finding::Phone => "phone",
            Finding::Ip => "ip",
            Finding::Card => "card",
            Finding::Iban => "iban",
            Finding::Jwt => "jwt",
            Finding::BearerToken => "bearer_token",
            Finding::ApiKey => "api_key",
            Finding::Secret => "secret",
            Finding::Url => "url",
            Finding::UserAgent => "user_agent",
        }
    }
}

/// Scrubbed text and what was replaced in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The text with every finding replaced by its label.
    pub text: String,
    /// What was replaced, in order of appearance.
    pub findings: Vec<Finding>,
}

/// Longest input scrubbed, in chars. Beyond it the text is cut before scrubbing (at a
/// whitespace, so no value is cut into a half that escapes detection): the caller caps
/// text far lower, this only bounds the work a hostile client can cause.
pub const MAX_SCRUB_INPUT: usize = 64 * 1024;

/// Longest URL kept inside text; a longer one keeps its origin and leading path.
const TEXT_URL_MAX: usize = 512;

/// Passes before giving up on reaching a fixed point (two suffice for every input the
/// property tests have produced; the bound only guards against an unforeseen cycle).
const MAX_PASSES: usize = 6;

/// Scrub `input`, then cap it to `max_chars` chars (never splitting a char).
///
/// Idempotent: scrubbing the result again with the same cap changes nothing, which is what
/// lets the collector verify a client. It is guaranteed by construction: the scrub and cap
/// are repeated until the text no longer changes (in practice one pass plus one check).
pub fn scrub_capped(input: &str, max_chars: usize) -> Scrubbed {
    let mut text = Cow::Borrowed(bound_input(input));
    let mut findings = Vec::new();
    for _ in 0..MAX_PASSES {
        let mut next = scrub_once(&text, &mut findings);
        truncate_chars(&mut next, max_chars);
        if next == *text {
            return Scrubbed {
                text: next,
                findings,
            };
        }
        text = Cow::Owned(next);
    }
    // No fixed point: return what certainly is one rather than anything unverified.
    findings.push(Finding::Secret);
    Scrubbed {
        text: String::new(),
        findings,
    }
}

/// Does the whole of `s` look like one finding? Used for URL path segments and by the
/// store verifier. A string starting with `http://` or `https://` is a [`Finding::Url`].
pub fn classify_whole(s: &str) -> Option<Finding> {
    if url_start(s.as_bytes(), 0) {
        return Some(Finding::Url);
    }
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    detect::detect_at(b, 0, None, detect::Hints::of(b))
        .filter(|h| h.end == b.len())
        .map(|h| h.finding)
}

/// The first finding anywhere in `s`, without building a scrubbed copy; a URL counts as a
/// finding (it is not cleaned here). Used for URL path segments and query values, where
/// anything found means the whole value goes.
pub fn first_finding(s: &str) -> Option<Finding> {
    let b = s.as_bytes();
    let hints = detect::Hints::of(b);
    // Every URL start has a `:`. For a short string (a path segment, a query value) with
    // one, testing each byte is cheaper than the substring search.
    let urls = b.contains(&b':') && (s.len() < 64 || may_hold_url(s));
    let mut prev = None;
    for i in 0..b.len() {
        if urls && url_start(b, i) {
            return Some(Finding::Url);
        }
        if b[i].is_ascii()
            && detect::may_start_after(prev)
            && let Some(hit) = detect::detect_at(b, i, prev, hints)
        {
            return Some(hit.finding);
        }
        prev = Some(b[i]);
    }
    None
}

/// Is `s` a Luhn-valid digit string (spaces and dashes ignored)? Exposed for the store
/// verifier and tests.
pub fn luhn_valid(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && numbers::luhn_ok(s.as_bytes())
}

/// Cut hostile input to [`MAX_SCRUB_INPUT`] chars, back to the last whitespace.
fn bound_input(input: &str) -> &str {
    // A char is at least one byte: a short input needs no counting.
    if input.len() <= MAX_SCRUB_INPUT {
        return input;
    }
    match input.char_indices().nth(MAX_SCRUB_INPUT) {
        None => input,
        Some((cut, _)) => {
            let head = &input[..cut];
            let at_space = head.rfind(char::is_whitespace).unwrap_or(0);
            &head[..at_space]
        }
    }
}

fn truncate_chars(s: &mut String, max_chars: usize) {
    if s.len() <= max_chars {
        return;
    }
    if let Some((cut, _)) = s.char_indices().nth(max_chars) {
        s.truncate(cut);
    }
}

/// Every URL start is `http://` or `https://`, so text without `://` (most text) holds none;
/// one fast search of the whole text saves testing every byte. The byte search for `:`
/// comes first: setting up a substring search costs more than a short text does.
fn may_hold_url(text: &str) -> bool {
    text.as_bytes().contains(&b':') && text.contains("://")
}

fn url_start(b: &[u8], i: usize) -> bool {
    // Called at every byte: rule out all but `h` before comparing the prefixes.
    if !matches!(b.get(i), Some(b'h' | b'H')) {
        return false;
    }
    let ci = |p: &[u8]| b.len() >= i + p.len() && b[i..i + p.len()].eq_ignore_ascii_case(p);
    ci(b"http://") || ci(b"https://")
}

/// One pass: split off URLs (anywhere, not only at word starts, so that a token glued to
/// a URL cannot hide its query string), clean them, and scrub the plain text between.
fn scrub_once(text: &str, findings: &mut Vec<Finding>) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    if !may_hold_url(text) {
        scrub_plain(text, &mut out, findings);
        return out;
    }
    let mut plain_start = 0;
    let mut i = 0;
    while i < b.len() {
        if !url_start(b, i) {
            i += 1;
            continue;
        }
        scrub_plain(&text[plain_start..i], &mut out, findings);
        let span_end = text[i..]
            .find(char::is_whitespace)
            .map_or(text.len(), |k| i + k);
        // Sentence punctuation after a URL is not part of it.
        let url_end = i + text[i..span_end]
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"', '>'])
            .len();
        replace_url(&text[i..url_end], &mut out, findings);
        plain_start = url_end;
        i = span_end;
    }
    scrub_plain(&text[plain_start..], &mut out, findings);
    out
}

fn replace_url(url: &str, out: &mut String, findings: &mut Vec<Finding>) {
    match clean_page_url(url, &[], TEXT_URL_MAX) {
        // The host of a page URL is the site's own; a host typed into text may be
        // someone's address.
        Ok(clean) if is_ip_host(clean.host()) => {
            findings.push(Finding::Ip);
            out.push_str(Finding::Ip.label());
        }
        Ok(clean) => out.push_str(clean.as_str()),
        Err(_) => {
            findings.push(Finding::Url);
            out.push_str(Finding::Url.label());
        }
    }
}

fn is_ip_host(host: &str) -> bool {
    host.starts_with('[') || host.parse::<core::net::Ipv4Addr>().is_ok()
}

/// Scrub text known to hold no URL. Whether a match may start depends on the byte before
/// it *as emitted*: after a replacement that is the label's `]`, exactly what a second
/// pass will see, so both passes take the same decisions.
fn scrub_plain(text: &str, out: &mut String, findings: &mut Vec<Finding>) {
    let b = text.as_bytes();
    let hints = detect::Hints::of(b);
    let mut copied = 0;
    let mut prev = out.as_bytes().last().copied();
    let mut i = 0;
    while i < b.len() {
        // Detectors match ASCII only, so a non-ASCII byte never starts a match; nor does
        // the inside of a word.
        if b[i].is_ascii() && detect::may_start_after(prev) {
            // Most words of prose: no match starts at or inside them; on past the word.
            if let Some(end) = detect::plain_word(b, i, hints) {
                prev = Some(b[end - 1]);
                i = end;
                continue;
            }
            if let Some(hit) = detect::detect_all(b, i, prev, hints) {
                out.push_str(&text[copied..i + hit.keep]);
                out.push_str(hit.finding.label());
                findings.push(hit.finding);
                copied = hit.end;
                i = hit.end;
                prev = Some(b']');
                continue;
            }
        }
        prev = Some(b[i]);
        i += 1;
        // Nothing starts inside a word: skip to its end.
        if detect::is_word(b[i - 1]) {
            while i < b.len() && detect::is_word(b[i]) {
                i += 1;
            }
            prev = Some(b[i - 1]);
        }
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scrub(s: &str) -> String {
        scrub_capped(s, 10_000).text
    }

    #[test]
    fn emails_become_labels() {
        for (input, want) in [
            ("mail john.smith+tag@example.co.uk.", "mail [email]."),
            ("<a@b.io>", "<[email]>"),
            ("q=john%40example.com", "q=[email]"),
            ("Anna_B@sub.mail-host.de, hi", "[email], hi"),
        ] {
            assert_eq!(scrub(input), want, "{input}");
        }
    }

    #[test]
    fn phones_become_labels() {
        for input in [
            "+44 20 7946 0958",
            "+1 (555) 123-4567",
            "+33612345678",
            "+49 30 1234567",
            "(555) 123-4567",
            "555-123-4567",
            "555.123.4567",
            "1-800-555-0199",
            "020 7946 0958",
            "06 12 34 56 78",
            "030/1234567",
            "(020) 7946 0958",
            "0612345678",
        ] {
            let out = scrub_capped(&format!("call {input} now"), 1000);
            assert_eq!(out.text, "call [phone] now", "{input}");
            assert_eq!(out.findings, vec![Finding::Phone]);
        }
    }

    #[test]
    fn dates_versions_and_amounts_are_not_phones() {
        for input in [
            "2026-11-22",
            "22.11.2026",
            "01/02/2026",
            "version 1.2.3",
            "10.0.19041.1234",
            "call 911",
            "12 345 678 EUR",
            "ts 1732000000",
            "room 101, floor 3",
            "3.14159265",
            "ISBN 978-3-16-148410-0",
            "+1",
        ] {
            assert_eq!(scrub(input), input);
        }
    }

    #[test]
    fn ip_addresses_become_labels() {
        for (input, want) in [
            ("from 192.168.1.20 today", "from [ip] today"),
            ("host 8.8.8.8:53", "host [ip]:53"),
            ("v6 2001:db8::8a2e:370:7334.", "v6 [ip]."),
            ("[2001:db8:0:0:1:0:0:1]:443", "[[ip]]:443"),
            ("fe80::1ff:fe23:4567:890a", "[ip]"),
            ("mapped ::ffff:192.0.2.1", "mapped [ip]"),
        ] {
            assert_eq!(scrub(input), want, "{input}");
        }
    }

    #[test]
    fn non_addresses_are_not_ips() {
        for input in [
            "1.2.3.4.5",
            "999.1.1.1",
            "std::io::Read",
            "12:30:45",
            "::1",
            "00:1a:2b:3c:4d:5e",
        ] {
            assert_eq!(scrub(input), input);
        }
    }

    #[test]
    fn luhn_valid_cards_become_labels() {
        for input in [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111111111111111",
            "378282246310005",
            "5555555555554444",
            "6011 0009 9013 9424",
        ] {
            assert_eq!(
                scrub(&format!("card: {input}.")),
                "card: [card].",
                "{input}"
            );
        }
    }

    #[test]
    fn luhn_invalid_digits_are_not_a_card() {
        for input in [
            "4111 1111 1111 1112",
            "1234567890123",
            "17320000000001",
            "41111111111111111111",
        ] {
            assert_eq!(scrub(input), input);
        }
    }

    #[test]
    fn ibans_with_and_without_spaces_become_labels() {
        for input in [
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "gb82 west 1234 5698 7654 32",
        ] {
            assert_eq!(
                scrub(&format!("pay to {input} please")),
                "pay to [iban] please",
                "{input}"
            );
        }
        assert_eq!(scrub("GB82WEST12345698765433"), "GB82WEST12345698765433");
    }

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    #[test]
    fn tokens_and_keys_become_labels() {
        let cases = [
            (format!("token {JWT} end"), "token [jwt] end"),
            (
                "Authorization: Bearer abc123def456ghi".into(),
                "Authorization: Bearer [token]",
            ),
            (format!("bearer  {JWT}"), "bearer  [token]"),
            (
                "key sk-ant-api03-abcDEF1234567890abcdefXYZ".into(),
                "key [api_key]",
            ),
            ("sk-proj-Ab12Cd34Ef56Gh78Ij90Kl".into(), "[api_key]"),
            ("AKIAIOSFODNN7EXAMPLE".into(), "[api_key]"),
            (
                "ghp_16C7e42F292c6912E7710c838347Ae178B4a".into(),
                "[api_key]",
            ),
            ("xoxb-123456789012-abcdefABCDEF".into(), "[api_key]"),
            ("AIzaSyA1234567890abcdefghijklmnopqrstu".into(), "[api_key]"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc".into(), "[api_key]"),
            (
                "npm_abcdefghijklmnopqrstuvwxyz0123456789".into(),
                "[api_key]",
            ),
            ("glpat-xxxxXXXX1234yyyyZZZZ".into(), "[api_key]"),
        ];
        for (input, want) in cases {
            assert_eq!(scrub(&input), want, "{input}");
        }
    }

    #[test]
    fn high_entropy_strings_are_secrets_and_words_are_not() {
        for secret in [
            "a8Fk29dLq0PzX7mN3bV1xQ",
            "d41d8cd98f00b204e9800998ecf8427e",
            "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA9x==",
            "550e8400-e29b-41d4-a716-446655440000",
        ] {
            assert_eq!(scrub(&format!("x {secret} y")), "x [secret] y", "{secret}");
        }
        for word in [
            "internationalization",
            "how-to-reset-my-password",
            "getElementsByClassName",
            "CamelCaseIdentifierName",
            "release2026candidate1",
            "/usr/local/bin/python3",
            "SCREAMING_SNAKE_CASE_CONSTANT",
            "bearer bonds",
            "sk-learn-is-a-python-library",
        ] {
            assert_eq!(scrub(word), word);
        }
    }

    #[test]
    fn urls_in_text_are_cleaned_or_replaced() {
        for (input, want) in [
            (
                "see https://shop.example.com/orders/12345?token=abc#x now",
                "see https://shop.example.com/orders/:id now",
            ),
            (
                "(https://user:pw@Example.com:443/a/b).",
                "(https://example.com/a/b).",
            ),
            ("go HTTP://example.com", "go http://example.com/"),
            ("broken https://[::1 here", "broken [url] here"),
            ("admin at http://192.168.1.1/admin", "admin at [ip]"),
            (
                "glued4111111111111111https://x.io/?k=1",
                "glued4111111111111111https://x.io/",
            ),
            (
                "mail https://x.io/u/john@example.com",
                "mail https://x.io/u/:email",
            ),
        ] {
            assert_eq!(scrub(input), want, "{input}");
        }
    }

    #[test]
    fn labels_are_never_matched() {
        for f in Finding::ALL {
            let text = format!("{0}{0} {0}.{0}@{0}", f.label());
            assert_eq!(scrub(&text), text, "{f:?}");
        }
    }

    #[test]
    fn cap_counts_chars_and_never_splits_one() {
        assert_eq!(scrub_capped("héllo wörld", 3).text, "hél");
        assert_eq!(scrub_capped("日本語テキスト", 2).text, "日本");
        assert_eq!(scrub_capped("abc", 0).text, "");
    }

    #[test]
    fn cap_that_exposes_a_card_scrubs_it() {
        // Cut after 16 digits, a 17-digit non-card becomes a valid card.
        let out = scrub_capped("41111111111111117", 16);
        assert_eq!(out.text, "[card]");
    }

    #[test]
    fn findings_are_listed_in_order() {
        let out = scrub_capped("a@b.io then 8.8.8.8 then 4111111111111111", 1000);
        assert_eq!(
            out.findings,
            vec![Finding::Email, Finding::Ip, Finding::Card]
        );
    }

    #[test]
    fn classify_whole_needs_the_whole_string() {
        for (input, want) in [
            ("john@example.com", Some(Finding::Email)),
            ("john@example.com and more", None),
            ("+44 20 7946 0958", Some(Finding::Phone)),
            ("4111111111111111", Some(Finding::Card)),
            ("10.0.0.1", Some(Finding::Ip)),
            ("https://x.io/", Some(Finding::Url)),
            (JWT, Some(Finding::Jwt)),
            ("AKIAIOSFODNN7EXAMPLE", Some(Finding::ApiKey)),
            ("a8Fk29dLq0PzX7mN3bV1xQ", Some(Finding::Secret)),
            ("hello", None),
            ("", None),
        ] {
            assert_eq!(classify_whole(input), want, "{input}");
        }
    }

    #[test]
    fn pathological_inputs_finish_quickly() {
        let start = std::time::Instant::now();
        for unit in [
            "a.", "eyJ-", "+1 ", "a-", "1.", "a@", "0 ", "Bearer ", "sk-a", "1:",
        ] {
            let input = unit.repeat(MAX_SCRUB_INPUT / unit.len() + 10);
            let out = scrub_capped(&input, 100);
            assert!(out.text.chars().count() <= 100);
        }
        // Generous: debug builds on a shared machine; quadratic behaviour takes minutes.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn finding_names_serialize_as_snake_case() {
        for f in Finding::ALL {
            let json = serde_json::to_string(&f).expect("serializes");
            assert_eq!(json, format!("\"{}\"", f.name()));
        }
    }

    // ------------------------------------------------------------ generators (shared with url.rs)

    /// Values that must never survive, with the kind of each.
    pub(crate) mod planted {
        use proptest::prelude::*;

        fn chars(
            alphabet: &'static str,
            len: std::ops::RangeInclusive<usize>,
        ) -> impl Strategy<Value = String> {
            let a: Vec<char> = alphabet.chars().collect();
            proptest::collection::vec(proptest::sample::select(a), len)
                .prop_map(|v| v.into_iter().collect())
        }

        const LOWER_DIGIT: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
        const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

        pub(crate) fn email() -> impl Strategy<Value = String> {
            (
                chars("abcdefghijklmnopqrstuvwxyz", 1..=1),
                chars("abcdefghijklmnopqrstuvwxyz0123456789._+-", 0..=12),
                chars(LOWER_DIGIT, 1..=10),
                proptest::option::of(chars(LOWER_DIGIT, 1..=8)),
                chars("abcdefghijklmnopqrstuvwxyz", 2..=6),
            )
                .prop_map(|(first, rest, host, sub, tld)| {
                    let local = format!("{first}{rest}")
                        .trim_end_matches(['.', '+', '-'])
                        .to_owned();
                    match sub {
                        Some(sub) => format!("{local}@{sub}.{host}.{tld}"),
                        None => format!("{local}@{host}.{tld}"),
                    }
                })
        }

        pub(crate) fn ipv4() -> impl Strategy<Value = String> {
            (1u8..=254, any::<u8>(), any::<u8>(), 1u8..=254)
                .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
        }

        pub(crate) fn ipv6() -> impl Strategy<Value = String> {
            (proptest::array::uniform8(1u16..), 0usize..8, 0usize..4).prop_map(
                |(mut g, at, zeros)| {
                    for group in g.iter_mut().skip(at).take(zeros) {
                        *group = 0;
                    }
                    std::net::Ipv6Addr::from(g).to_string()
                },
            )
        }

        pub(crate) fn jwt() -> impl Strategy<Value = String> {
            (
                chars(B64URL, 10..=40),
                chars(B64URL, 10..=60),
                chars(B64URL, 20..=43),
            )
                .prop_map(|(h, p, s)| format!("eyJ{h}.eyJ{p}.{s}"))
        }

        pub(crate) fn api_key() -> impl Strategy<Value = String> {
            let prefixes = vec![
                "sk-",
                "sk-ant-api03-",
                "sk-proj-",
                "sk_live_",
                "sk_test_",
                "rk_live_",
                "pk_live_",
                "ghp_",
                "gho_",
                "ghu_",
                "ghs_",
                "ghr_",
                "github_pat_",
                "glpat-",
                "xoxb-",
                "xoxp-",
                "AIza",
                "npm_",
                "shpat_",
                "hf_",
            ];
            prop_oneof![
                (
                    proptest::sample::select(prefixes),
                    chars(ALNUM, 36..=40),
                    0u8..10
                )
                    .prop_map(|(p, body, d)| format!("{p}{d}{body}")),
                (
                    proptest::sample::select(vec!["AKIA", "ASIA"]),
                    chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 15..=15),
                    0u8..10
                )
                    .prop_map(|(p, body, d)| format!("{p}{d}{body}")),
            ]
        }

        /// A Luhn-valid card number, plain or grouped by four with spaces or dashes.
        pub(crate) fn card() -> impl Strategy<Value = String> {
            (
                2u8..=6,
                proptest::collection::vec(0u8..10, 11..=17),
                0usize..3,
            )
                .prop_map(|(first, mut body, style)| {
                    body.insert(0, first);
                    let sum: u32 = body
                        .iter()
                        .rev()
                        .enumerate()
                        .map(|(k, &d)| {
                            let d = u32::from(d);
                            if k % 2 == 0 {
                                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                            } else {
                                d
                            }
                        })
                        .sum();
                    body.push(u8::try_from((10 - sum % 10) % 10).expect("digit"));
                    let digits: String = body.iter().map(|d| char::from(b'0' + d)).collect();
                    let sep = match style {
                        0 => return digits,
                        1 => " ",
                        _ => "-",
                    };
                    let groups: Vec<String> = digits
                        .as_bytes()
                        .chunks(4)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    groups.join(sep)
                })
        }

        /// Any planted value.
        pub(crate) fn any_value() -> impl Strategy<Value = String> {
            prop_oneof![email(), ipv4(), ipv6(), jwt(), api_key(), card()]
        }

        /// Forms whose presence in an output means the value leaked.
        pub(crate) fn leak_forms(value: &str) -> Vec<String> {
            let enc: String = value
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            let mut forms = vec![
                value.to_owned(),
                value.to_lowercase(),
                enc.clone(),
                enc.to_lowercase(),
            ];
            // A card number leaks as its digits whatever the grouping.
            if digits.len() >= 13
                && value
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
            {
                forms.push(digits);
            }
            forms
        }
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                "the",
                "search",
                "for",
                "internationalization",
                "how-to-reset-my-password",
                "v1",
                "h264",
                "2026-11-22",
                "1.2.3",
                "42",
                "room",
                "3",
                "Bearer",
                "eyJ",
                "sk-",
                "é",
                "日本",
                "[email]",
                "[url]",
                "100%",
                "a.b",
                "::",
                "+",
                "(",
                ")",
                "0",
                "4111",
                "DE89",
            ])
            .prop_map(str::to_owned),
            "[a-zA-Z0-9]{1,12}",
            "[0-9 .+()-]{1,12}",
        ]
    }

    fn sep() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            " ", " ", ", ", ". ", " (", ") ", ": ", "\n", " \"", "\" ", "\t",
        ])
    }

    fn text_with(value: impl Strategy<Value = String>) -> impl Strategy<Value = (String, String)> {
        (
            proptest::collection::vec((word(), sep()), 0..8),
            value,
            sep(),
            sep(),
            proptest::collection::vec((word(), sep()), 0..8),
        )
            .prop_map(|(before, v, s1, s2, after)| {
                let mut t: String = before.iter().map(|(w, s)| format!("{w}{s}")).collect();
                t.push_str(s1);
                t.push_str(&v);
                t.push_str(s2);
                t.extend(after.iter().map(|(w, s)| format!("{w}{s}")));
                (t, v)
            })
    }

    fn realistic_text() -> impl Strategy<Value = String> {
        let value = prop_oneof![
            planted::any_value(),
            word(),
            "https?://[a-z]{1,8}\\.[a-z]{2,3}(/[a-zA-Z0-9%@._-]{0,12}){0,4}(\\?[a-z_]{1,6}=[a-zA-Z0-9%]{0,8})?(#[a-z]{0,5})?",
            "\\+?[0-9]{1,4}([ .-]?[0-9]{1,4}){0,5}",
            "[A-Za-z0-9_+/=-]{15,40}",
        ];
        text_with(value).prop_map(|(t, _)| t)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn scrub_is_idempotent_on_realistic_text(t in realistic_text(), cap in 0usize..200) {
            let once = scrub_capped(&t, cap);
            let twice = scrub_capped(&once.text, cap);
            prop_assert_eq!(&twice.text, &once.text);
            prop_assert!(twice.findings.is_empty());
            prop_assert!(once.text.chars().count() <= cap);
        }

        /// Skipping plain words whole finds what testing every word start finds: the same
        /// text and findings as the scan it replaced, byte by byte through `detect_at`.
        #[test]
        fn skipping_plain_words_changes_nothing(
            t in prop_oneof![
                realistic_text(),
                // Words and values one separator apart, in any order.
                proptest::collection::vec((prop_oneof![word(), planted::any_value()], sep()), 0..10)
                    .prop_map(|parts| parts.iter().map(|(w, s)| format!("{w}{s}")).collect()),
                "[ -~\n]{0,80}",
                any::<String>(),
            ],
            before in proptest::option::of("[ -~]"),
        ) {
            fn reference(text: &str, out: &mut String, findings: &mut Vec<Finding>) {
                let b = text.as_bytes();
                let hints = detect::Hints::of(b);
                let mut copied = 0;
                let mut prev = out.as_bytes().last().copied();
                let mut i = 0;
                while i < b.len() {
                    if b[i].is_ascii()
                        && detect::may_start_after(prev)
                        && let Some(hit) = detect::detect_at(b, i, prev, hints)
                    {
                        out.push_str(&text[copied..i + hit.keep]);
                        out.push_str(hit.finding.label());
                        findings.push(hit.finding);
                        copied = hit.end;
                        i = hit.end;
                        prev = Some(b']');
                        continue;
                    }
                    prev = Some(b[i]);
                    i += 1;
                }
                out.push_str(&text[copied..]);
            }
            // What the output holds already decides whether a match may start at once.
            let start = before.unwrap_or_default();
            let (mut got, mut want) = (start.clone(), start);
            let (mut got_findings, mut want_findings) = (Vec::new(), Vec::new());
            scrub_plain(&t, &mut got, &mut got_findings);
            reference(&t, &mut want, &mut want_findings);
            prop_assert_eq!(got, want);
            prop_assert_eq!(got_findings, want_findings);
        }

        /// The `://` pre-check never hides a URL start.
        #[test]
        fn url_check_hides_no_url(t in realistic_text()) {
            let b = t.as_bytes();
            for i in 0..b.len() {
                prop_assert!(!url_start(b, i) || may_hold_url(&t), "{:?}", t);
            }
        }

        #[test]
        fn scrub_is_idempotent_on_arbitrary_strings(t in any::<String>(), cap in 0usize..100) {
            let once = scrub_capped(&t, cap);
            prop_assert_eq!(scrub_capped(&once.text, cap).text, once.text);
        }

        #[test]
        fn scrub_is_idempotent_on_ascii_soup(t in "[ -~\n]{0,80}", cap in 0usize..100) {
            let once = scrub_capped(&t, cap);
            prop_assert_eq!(scrub_capped(&once.text, cap).text, once.text);
        }

        #[test]
        fn planted_values_never_survive_in_text((t, v) in text_with(planted::any_value())) {
            let out = scrub_capped(&t, 10_000).text;
            for form in planted::leak_forms(&v) {
                prop_assert!(!out.contains(&form), "{:?} leaked from {:?} as {:?}", v, t, out);
            }
        }

        #[test]
        fn planted_values_in_urls_in_text_never_survive(v in planted::any_value(), at in 0usize..4) {
            let enc: String = v.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect();
            let url = match at {
                0 => format!("https://shop.example.com/u/{enc}/x"),
                1 => format!("https://shop.example.com/?q={enc}"),
                2 => format!("https://shop.example.com/#{enc}"),
                _ => format!("https://{enc}@shop.example.com/"),
            };
            let out = scrub_capped(&format!("see {url} now"), 10_000).text;
            for form in planted::leak_forms(&v) {
                prop_assert!(!out.contains(&form), "{:?} leaked as {:?}", v, out);
            }
        }
    }
}

//! Detectors for addresses and numbers: IPv4/IPv6 addresses, payment cards (Luhn),
//! IBANs (mod 97) and phone numbers.
//!
//! They share the contract of `detect.rs`: from a start the scanner allows, answer where
//! the match ends. Every number detector reads a bounded number of bytes (at most an
//! IPv6 address or 34 IBAN characters), so it costs a constant per position. Check
//! digits (Luhn, mod 97) are what keep ordinary numbers out; they are not a guarantee,
//! and a random number passes Luhn one time in ten (such a number is then replaced too).

use super::detect::{at_end, run};
use crate::prelude::*;

// ---------------------------------------------------------------- addresses

/// Four dotted octets, each at most 255. Leading zeros are accepted (some tools print
/// them), a fifth dotted number is not (then it is a version like `1.2.3.4.5`).
pub(super) fn ipv4(s: &[u8], i: usize) -> Option<usize> {
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
pub(super) fn ipv6(s: &[u8], i: usize) -> Option<usize> {
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
            let parsed = core::str::from_utf8(cand)
                .ok()
                .and_then(|t| t.parse::<core::net::Ipv6Addr>().ok());
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
pub(super) fn card(s: &[u8], i: usize) -> Option<usize> {
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
pub(super) fn iban(s: &[u8], i: usize) -> Option<usize> {
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
pub(super) fn phone(s: &[u8], i: usize) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_checks_digits_ignoring_separators() {
        for (digits, want) in [
            ("4111111111111111", true),
            ("4111 1111 1111 1111", true),
            ("4111-1111-1111-1112", false),
            ("79927398713", true),
            ("79927398710", false),
        ] {
            assert_eq!(luhn_ok(digits.as_bytes()), want, "{digits}");
        }
    }

    #[test]
    fn mod97_checks_ibans_in_any_case() {
        for (iban, want) in [
            ("DE89370400440532013000", true),
            ("de89370400440532013000", true),
            ("DE89 3704 0044 0532 0130 00", true),
            ("DE89370400440532013001", false),
            ("GB82WEST12345698765432", true),
        ] {
            assert_eq!(mod97_ok(iban.as_bytes()), want, "{iban}");
        }
    }

    #[test]
    fn card_takes_the_longest_valid_reading() {
        // Two cards in a row are two matches, not one 32-digit non-card.
        let s = b"4111111111111111 5555555555554444";
        assert_eq!(card(s, 0), Some(16));
        assert_eq!(card(s, 17), Some(s.len()));
    }

    #[test]
    fn phone_needs_nine_digits_in_trunk_form() {
        for (text, want) in [
            ("020 7946 0958", true),
            ("01 02 2026", false),
            ("0612345678", true),
            ("061234567", true),
            ("06123456", false),
        ] {
            assert_eq!(phone(text.as_bytes(), 0).is_some(), want, "{text}");
        }
    }
}

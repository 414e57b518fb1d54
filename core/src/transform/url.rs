//! Page URLs and referrers: what is kept of a URL before it leaves the browser.
//!
//! A page URL keeps its origin and path; path segments that look like identifiers
//! (numbers, UUIDs, hex, emails, tokens) become placeholders; the query keeps only
//! allowlisted parameters with short clean values; userinfo and fragment are dropped.
//! A referrer keeps its origin only, and none at all when it is the same site.
//! A schema may declare its page [`Route`]s (`/people/:person`): a path that matches one is
//! sent as that route, so a name or slug in it never leaves the page; with `routes_only`, a
//! path that matches none is sent as the origin alone.
//! Cleaning is a fixed point, so the collector can check a client by cleaning again.
//!
//! Deliberately not done: no general URL parsing (only absolute `http`/`https` URLs as a
//! browser hands them over, already punycoded and normalised); no IDNA, no resolution of
//! `.`/`..` segments, no Public Suffix List (see [`clean_referrer`] for the approximation).
//! The input is never echoed, not even in an error.

use alloc::borrow::Cow;
use core::fmt;
use core::net::Ipv6Addr;

use super::text::{Finding, first_finding};
use crate::prelude::*;

/// Why a URL was dropped. The message never contains the input, which may be the very
/// thing that must not be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlDrop {
    /// Not an absolute URL, or one whose authority is malformed.
    Unparseable,
    /// An absolute URL with a scheme other than `http` or `https`.
    Scheme,
    /// Even the origin alone is longer than the limit.
    TooLong,
}

impl fmt::Display for UrlDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlDrop::Unparseable => "not an absolute http(s) url",
            UrlDrop::Scheme => "url scheme is not http or https",
            UrlDrop::TooLong => "url origin is longer than the limit",
        })
    }
}

impl core::error::Error for UrlDrop {}

/// A cleaned page URL: origin, path with placeholders, allowlisted query. Only
/// [`clean_page_url`] builds one; it serializes as the plain URL string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CleanUrl {
    url: String,
    host: String,
    rule: &'static str,
}

impl CleanUrl {
    /// The cleaned URL.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The cleaned URL, without copying it.
    pub fn into_string(self) -> String {
        self.url
    }

    /// The host: lowercase, without port; an IPv6 literal keeps its brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The rule that shaped it, as a redaction names it: `url` (the path rule), `url:route` (a
    /// declared route matched) or `url:origin` (`routes_only`, and no route matched).
    pub fn rule(&self) -> &'static str {
        self.rule
    }

    /// Accept `s` only if it is already clean: cleaning it again (allowing exactly the
    /// query names it carries, with no length cap) must leave it unchanged. The caller
    /// still has to check the query names against its own allowlist.
    pub fn parse_clean(s: &str) -> Result<CleanUrl, UrlDrop> {
        let names: Vec<String> = split_url(s)
            .ok()
            .and_then(|parts| parts.query)
            .map(|q| {
                split_at_bytes(q, |b| b == b'&')
                    .map(|p| form_decode(cut_at_byte(p, b'=').0).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let clean = clean_page_url(s, &names, usize::MAX)?;
        if clean.url == s {
            Ok(clean)
        } else {
            Err(UrlDrop::Unparseable)
        }
    }
}

impl fmt::Display for CleanUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl serde::Serialize for CleanUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.url)
    }
}

impl<'de> serde::Deserialize<'de> for CleanUrl {
    /// Only an already clean URL deserializes (see [`CleanUrl::parse_clean`]).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        CleanUrl::parse_clean(&s).map_err(|_| serde::de::Error::custom("not a clean page url"))
    }
}

/// Longest query value kept, in chars: campaign names are short, payloads are not.
pub const MAX_QUERY_VALUE: usize = 100;

/// Clean a page URL: origin + path with ID-like segments replaced + allowlisted query,
/// capped to `max_len` chars (the query goes first, then trailing path segments).
///
/// Placeholders: `:id` (numbers, IDs mixing letters and 4+ digits, phones, cards, IBANs,
/// IPs, nested URLs), `:uuid`, `:hex`, `:email`, `:token` (JWTs, API keys, bearer tokens,
/// high-entropy secrets).
pub fn clean_page_url(
    raw: &str,
    allowed_query: &[String],
    max_len: usize,
) -> Result<CleanUrl, UrlDrop> {
    clean_page_url_routed(raw, allowed_query, &[], false, max_len)
}

/// [`clean_page_url`] under a schema's declared routes: a path whose clean segments match a
/// route (the first that matches, in the order declared) is sent as that route's template,
/// `/people/:person` for `/people/jane-doe`, with the allowlisted query. A path that matches
/// none is cleaned as [`clean_page_url`] does, or, with `routes_only`, sent as the origin
/// alone (no path, no query). Still a fixed point: cleaning the result again gives it back.
pub fn clean_page_url_routed(
    raw: &str,
    allowed_query: &[String],
    routes: &[Route],
    routes_only: bool,
    max_len: usize,
) -> Result<CleanUrl, UrlDrop> {
    let parts = split_url(raw)?;
    let origin_len = parts.origin_len();
    // Segments borrow from `raw` (or are placeholders) unless encoding changes them.
    let segments: Vec<Cow<'_, str>> = path_segments(parts.path).map(clean_segment).collect();
    let query = clean_query(parts.query, allowed_query);
    // An empty path (`https://x.io`, not `https://x.io/`) is what `routes_only` sends for a
    // page that matched no route: it stays the origin when cleaned again.
    let route = if routes_only && parts.path.is_empty() {
        None
    } else {
        routes.iter().find(|r| r.matches(&segments))
    };
    if let Some(route) = route {
        return routed(&parts, route, query, max_len);
    }
    if routes_only {
        if origin_len > max_len {
            return Err(UrlDrop::TooLong);
        }
        return Ok(CleanUrl {
            url: parts.origin(),
            host: parts.host,
            rule: "url:origin",
        });
    }

    let path_len = |k: usize| {
        1 + segments[..k]
            .iter()
            .map(|s| s.len() + 1)
            .sum::<usize>()
            .saturating_sub(1)
    };
    let mut keep = segments.len();
    let mut url_len = origin_len + path_len(keep) + query.as_ref().map_or(0, |q| q.len() + 1);
    let query = if url_len > max_len { None } else { query };
    if query.is_none() {
        url_len = origin_len + path_len(keep);
    }
    while url_len > max_len && keep > 0 {
        keep -= 1;
        url_len = origin_len + path_len(keep);
    }
    if url_len > max_len {
        return Err(UrlDrop::TooLong);
    }
    // A shortened path is what cleaning it again reads: if a route matches it, that route
    // is what must be sent, or the result would not be a fixed point.
    // (No segment left is the path `/`, one empty segment.)
    let root = [Cow::Borrowed("")];
    let kept = if keep == 0 {
        &root[..]
    } else {
        &segments[..keep]
    };
    if keep < segments.len()
        && let Some(route) = routes.iter().find(|r| r.matches(kept))
    {
        return routed(&parts, route, None, max_len);
    }

    // One buffer of the final length: no intermediate strings for the origin or the path.
    let mut url = String::with_capacity(url_len);
    parts.push_origin(&mut url);
    url.push('/');
    for (k, segment) in segments[..keep].iter().enumerate() {
        if k > 0 {
            url.push('/');
        }
        url.push_str(segment);
    }
    if let Some(q) = query {
        url.push('?');
        url.push_str(&q);
    }
    debug_assert_eq!(url.len(), url_len);
    Ok(CleanUrl {
        url,
        host: parts.host,
        rule: "url",
    })
}

/// The URL of a page that matched `route`: origin, the route's template and the query, which
/// goes first when the whole is longer than `max_len`.
fn routed(
    parts: &Parts<'_>,
    route: &Route,
    query: Option<String>,
    max_len: usize,
) -> Result<CleanUrl, UrlDrop> {
    let len = parts.origin_len() + route.template.len();
    if len > max_len {
        return Err(UrlDrop::TooLong);
    }
    let query = query.filter(|q| len + 1 + q.len() <= max_len);
    let mut url = String::with_capacity(len + query.as_ref().map_or(0, |q| q.len() + 1));
    parts.push_origin(&mut url);
    url.push_str(&route.template);
    if let Some(q) = query {
        url.push('?');
        url.push_str(&q);
    }
    Ok(CleanUrl {
        url,
        host: parts.host.clone(),
        rule: "url:route",
    })
}

/// Longest route template a schema may declare, in bytes.
pub const MAX_ROUTE_LENGTH: usize = 200;

/// A page route a schema declares, such as `/people/:person/settings` or `/docs/*`: literal
/// segments, `:name` parameters that match any one segment, and a final `*` that matches one
/// or more. A page whose path matches it is sent as the template itself, so what the
/// parameters held (a name, a slug, a handle) never leaves the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    template: String,
}

impl Route {
    /// Read a template. `Err` says why it is refused, without quoting it. The rules are what
    /// keeps routed cleaning a fixed point: a literal is its own clean form and never looks
    /// like an identifier, a placeholder or `*`, and a parameter's name is snake_case.
    pub fn parse(template: &str) -> Result<Route, &'static str> {
        if template.len() > MAX_ROUTE_LENGTH {
            return Err("a route is at most 200 characters");
        }
        let Some(path) = template.strip_prefix('/') else {
            return Err("a route starts with /");
        };
        let mut names: Vec<&str> = Vec::new();
        let mut pieces = split_at_bytes(path, |b| b == b'/').peekable();
        // `/` alone is the root: one empty segment, as the path `/` reads.
        while let Some(piece) = pieces.next().filter(|_| !path.is_empty()) {
            if piece.is_empty() {
                return Err("a route has no empty segment (no // and no trailing /)");
            } else if piece == "*" {
                if pieces.peek().is_some() {
                    return Err("* is allowed only as the last segment");
                }
            } else if let Some(name) = piece.strip_prefix(':') {
                if !crate::schema::valid_name(name) || classify_segment(piece).is_some() {
                    return Err("a parameter is : and a snake_case name (a-z, 0-9, _)");
                }
                if names.contains(&name) {
                    return Err("a parameter name appears twice");
                }
                names.push(name);
            } else if !piece.bytes().all(is_path_char) {
                return Err(
                    "a literal segment holds only letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @",
                );
            } else if classify_segment(piece).is_some() {
                return Err(
                    "a literal segment must not look like an id, a token or an email (it would be replaced)",
                );
            }
        }
        Ok(Route {
            template: template.to_owned(),
        })
    }

    /// The template, as declared and as sent.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The template's segments: a literal, `:name` or `*` each (`/` alone is one empty one).
    fn pieces(&self) -> impl Iterator<Item = &str> {
        split_at_bytes(&self.template[1..], |b| b == b'/')
    }

    /// Has it a parameter or a `*`, so that it hides part of a path?
    pub fn hides_anything(&self) -> bool {
        self.pieces().any(|p| p == "*" || p.starts_with(':'))
    }

    /// A path this route matches, with a name where each parameter is: the example an
    /// auditor is shown.
    pub fn example_path(&self) -> String {
        let mut out = String::new();
        for piece in self.pieces() {
            out.push('/');
            out.push_str(match piece {
                "*" => "getting-started/install",
                _ if piece.starts_with(':') => "jane-doe",
                literal => literal,
            });
        }
        out
    }

    /// Does a path, as its clean segments, match? One trailing empty segment (`/people/ada/`)
    /// is ignored, except for the root.
    fn matches(&self, segments: &[Cow<'_, str>]) -> bool {
        let segments = match segments {
            [rest @ .., last] if !rest.is_empty() && last.is_empty() => rest,
            _ => segments,
        };
        let mut got = segments.iter().map(|s| &**s);
        for want in self.pieces() {
            match (want, got.next()) {
                ("*", Some(_)) => return true,
                (_, Some(s)) if want.starts_with(':') && !s.is_empty() && s != "*" => {}
                (_, Some(s)) if !want.starts_with(':') && want == s => {}
                _ => return false,
            }
        }
        got.next().is_none()
    }
}

/// The referrer's origin (`https://www.google.com`, a non-default port kept), or
/// `Ok(None)` when it is the same site as `page_host`: internal navigation is not a
/// referral, and its path would leak the site's own URLs a second time.
///
/// Same site means the same host or the same registrable domain, approximated without
/// the Public Suffix List as the last two labels, or the last three when the last two
/// are a common multi-label suffix ([`MULTI_LABEL_SUFFIXES`]: `co.uk`, `com.au`, ... and
/// shared hosting such as `github.io`). The approximation errs both ways on rare
/// suffixes; erring towards "other site" only keeps an origin, never a path.
pub fn clean_referrer(raw: &str, page_host: Option<&str>) -> Result<Option<String>, UrlDrop> {
    let parts = split_url(raw)?;
    if let Some(page) = page_host
        && same_site(&parts.host, &normalize_host_arg(page))
    {
        return Ok(None);
    }
    Ok(Some(parts.origin()))
}

/// Two-label public suffixes under which registrable domains have three labels, and
/// shared-hosting suffixes whose subdomains belong to different owners.
#[rustfmt::skip]
pub const MULTI_LABEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk",
    "com.au", "net.au", "org.au", "edu.au", "gov.au", "co.nz", "net.nz", "org.nz", "govt.nz",
    "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "com.br", "net.br", "org.br", "gov.br",
    "co.in", "net.in", "org.in", "gov.in", "ac.in", "co.za", "org.za", "gov.za", "com.mx",
    "com.ar", "com.cn", "net.cn", "org.cn", "gov.cn", "com.tw", "com.hk", "com.sg", "com.my",
    "co.kr", "or.kr", "co.id", "co.il", "com.tr", "com.ua", "co.th", "com.vn", "com.ph",
    "com.pk", "com.ng", "com.eg", "com.sa", "com.co", "com.pe", "co.ke", "com.pl", "github.io",
    "gitlab.io", "vercel.app", "netlify.app", "pages.dev", "workers.dev", "herokuapp.com",
    "blogspot.com", "appspot.com", "web.app", "firebaseapp.com", "azurewebsites.net",
    "cloudfront.net", "onrender.com", "fly.dev",
];

fn same_site(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let is_ip = |h: &str| h.starts_with('[') || h.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    if a.is_empty() || b.is_empty() || is_ip(a) || is_ip(b) {
        return false;
    }
    registrable(a) == registrable(b)
}

fn registrable(host: &str) -> &str {
    // The last `n` labels: after the `n`th dot from the end, or the whole host.
    let from_label = |n: usize| -> &str {
        host.bytes()
            .enumerate()
            .rev()
            .filter(|&(_, b)| b == b'.')
            .nth(n - 1)
            .map_or(host, |(k, _)| &host[k + 1..])
    };
    if MULTI_LABEL_SUFFIXES.contains(&from_label(2)) {
        from_label(3)
    } else {
        from_label(2)
    }
}

/// The page host as a caller may pass it: any case, maybe with a port or trailing dot.
fn normalize_host_arg(h: &str) -> Cow<'_, str> {
    let h = h.trim();
    let h = if h.starts_with('[') {
        h.split_inclusive(']').next().unwrap_or("")
    } else {
        h.split(':').next().unwrap_or("")
    };
    let h = h.trim_end_matches('.');
    // Lowercased last (it touches only letters, so the cuts above are the same); copied
    // only when there is something to lowercase.
    if h.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(h.to_ascii_lowercase())
    } else {
        Cow::Borrowed(h)
    }
}

// ---------------------------------------------------------------- parsing

#[derive(Debug)]
struct Parts<'a> {
    https: bool,
    host: String,
    port: Option<u16>,
    path: &'a str,
    query: Option<&'a str>,
}

impl Parts<'_> {
    fn origin(&self) -> String {
        let mut origin = String::with_capacity(self.origin_len());
        self.push_origin(&mut origin);
        origin
    }

    /// `origin().len()`, without building it.
    fn origin_len(&self) -> usize {
        let scheme = if self.https { "https://" } else { "http://" };
        let port = self.port.map_or(0, |p| {
            1 + match p {
                0..=9 => 1,
                10..=99 => 2,
                100..=999 => 3,
                1000..=9999 => 4,
                _ => 5,
            }
        });
        scheme.len() + self.host.len() + port
    }

    /// Append the origin to `out`. Pushed rather than `format!`ed: this runs for every URL
    /// of every event.
    fn push_origin(&self, out: &mut String) {
        out.push_str(if self.https { "https://" } else { "http://" });
        out.push_str(&self.host);
        if let Some(port) = self.port {
            use fmt::Write as _;
            out.push(':');
            write!(out, "{port}").expect("writing to a String cannot fail");
        }
    }
}

/// Longest host accepted (DNS limit); also bounds the origin of a referrer.
const MAX_HOST: usize = 253;

/// The strict parser: `scheme://[userinfo@]host[:port][/path][?query][#fragment]`.
/// Userinfo and fragment are dropped here, before anything else sees them.
fn split_url(raw: &str) -> Result<Parts<'_>, UrlDrop> {
    let raw = raw.trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control());
    let colon = raw
        .bytes()
        .position(|b| b == b':')
        .ok_or(UrlDrop::Unparseable)?;
    let scheme = &raw[..colon];
    let valid_scheme = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !valid_scheme {
        return Err(UrlDrop::Unparseable);
    }
    let https = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err(UrlDrop::Scheme);
    };
    let rest = raw[colon + 1..]
        .strip_prefix("//")
        .ok_or(UrlDrop::Unparseable)?;
    // The fragment never leaves the browser: it often carries tokens (OAuth implicit flow).
    // The whole URL is searched here: `find`'s memchr beats a byte loop over that length.
    let rest = rest.find('#').map_or(rest, |k| &rest[..k]);
    // Browsers treat `\` as `/` in http(s) URLs; so does the authority split.
    let auth_end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'\\' | b'?'))
        .unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    // Credentials in the URL are dropped whole.
    let hostport = authority
        .bytes()
        .rposition(|b| b == b'@')
        .map_or(authority, |k| &authority[k + 1..]);
    let (host, port) = split_host_port(hostport)?;
    let port = port.filter(|&p| p != if https { 443 } else { 80 });
    let after = &rest[auth_end..];
    let (path, query) = cut_at_byte(after, b'?');
    Ok(Parts {
        https,
        host,
        port,
        path,
        query,
    })
}

fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), UrlDrop> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or(UrlDrop::Unparseable)?;
        let addr: Ipv6Addr = addr.parse().map_err(|_| UrlDrop::Unparseable)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlDrop::Unparseable)?),
        };
        (format!("[{addr}]"), port)
    } else {
        let (host, port) = cut_at_byte(hostport, b':');
        // Checked before lowercasing (any case is accepted), so the copy is made only once.
        let host = host.strip_suffix('.').unwrap_or(host);
        let ok = !host.is_empty()
            && host.len() <= MAX_HOST
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && !host.starts_with('.')
            && !host.ends_with('.')
            // Not `contains("..")`: a substring search costs more to set up than this.
            && !host.as_bytes().windows(2).any(|w| w == b"..");
        if !ok {
            return Err(UrlDrop::Unparseable);
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| UrlDrop::Unparseable)?)
        }
        Some(_) => return Err(UrlDrop::Unparseable),
    };
    Ok((host, port))
}

// ---------------------------------------------------------------- path

/// The segments of a path (`""` and `"/"` both give one empty segment, printed as `/`).
fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    let path = path.strip_prefix(['/', '\\']).unwrap_or(path);
    split_at_bytes(path, |b| b == b'/' || b == b'\\')
}

/// `s.split(..)` for an ASCII separator, found with a byte search: the same pieces without
/// the char searcher, whose set-up costs more than the short pieces of a URL do.
fn split_at_bytes(s: &str, is_sep: impl Fn(u8) -> bool) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let s = rest?;
        match s.bytes().position(&is_sep) {
            Some(k) => {
                rest = Some(&s[k + 1..]);
                Some(&s[..k])
            }
            None => {
                rest = None;
                Some(s)
            }
        }
    })
}

/// `s.split_once(sep)` for an ASCII separator, with what follows `None` if it is absent.
fn cut_at_byte(s: &str, sep: u8) -> (&str, Option<&str>) {
    match s.bytes().position(|b| b == sep) {
        Some(k) => (&s[..k], Some(&s[k + 1..])),
        None => (s, None),
    }
}

fn clean_segment(raw: &str) -> Cow<'_, str> {
    let bytes = percent_decode(raw, false);
    let text = match &bytes {
        // Nothing decoded: `raw` itself, already known to be UTF-8.
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(decoded) => String::from_utf8_lossy(decoded),
    };
    match classify_segment(&text) {
        Some(placeholder) => Cow::Borrowed(placeholder),
        // Nothing decoded and nothing to encode: the segment is its own clean form.
        None if matches!(bytes, Cow::Borrowed(_)) && raw.bytes().all(is_path_char) => {
            Cow::Borrowed(raw)
        }
        None => Cow::Owned(percent_encode(&bytes, is_path_char)),
    }
}

/// The placeholder for an ID-like decoded segment, or `None` to keep it. Ordered from the
/// most to the least specific shape.
pub fn classify_segment(s: &str) -> Option<&'static str> {
    classify_segment_with(s, first_finding)
}

/// [`classify_segment`] with the search for findings passed in, for a caller that has
/// already done it.
fn classify_segment_with(
    s: &str,
    first_finding: impl FnOnce(&str) -> Option<Finding>,
) -> Option<&'static str> {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    if s.len() >= 2 && digits == s.len() {
        return Some(":id");
    }
    if is_uuid(s) {
        return Some(":uuid");
    }
    if s.len() >= 12 && digits > 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(":hex");
    }
    // `first_finding` tries a whole-string match first too (at position 0), so it also
    // answers what `classify_whole` would.
    if let Some(f) = first_finding(s) {
        return Some(placeholder(f));
    }
    // `u_8812`, `order-12345`, `INV2026001`: a prefix does not make an ID less identifying.
    if digits >= 4 && s.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Some(":id");
    }
    None
}

fn placeholder(f: Finding) -> &'static str {
    match f {
        Finding::Email => ":email",
        Finding::Jwt
        | Finding::ApiKey
        | Finding::Secret
        | Finding::BearerToken
        | Finding::UserAgent => ":token",
        Finding::Phone | Finding::Card | Finding::Iban | Finding::Ip | Finding::Url => ":id",
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(k, &c)| match k {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

// ---------------------------------------------------------------- query

fn clean_query(query: Option<&str>, allowed: &[String]) -> Option<String> {
    let mut seen: Vec<Cow<'_, str>> = Vec::new();
    let mut kept = String::new();
    let query = query?;
    for pair in split_at_bytes(query, |b| b == b'&') {
        let (name, value) = cut_at_byte(pair, b'=');
        let value = value.unwrap_or("");
        let name = form_decode(name);
        if !allowed.iter().any(|a| *a == name) || seen.contains(&name) {
            continue;
        }
        // The first occurrence decides: a later duplicate cannot smuggle a value past it.
        seen.push(name.clone());
        let value = form_decode(value);
        if query_value_ok(&value) {
            if kept.is_empty() {
                // Sized once: what is kept is rarely longer than the whole query.
                kept.reserve(query.len());
            } else {
                kept.push('&');
            }
            percent_encode_str_into(&mut kept, &name, is_unreserved);
            kept.push('=');
            percent_encode_str_into(&mut kept, &value, is_unreserved);
        }
    }
    (!kept.is_empty()).then_some(kept)
}

/// A value is kept only when short, free of findings and not an identifier. Unlike path
/// segments, letters with a few digits (`spring_sale_2026`) pass: campaign names carry
/// years; letters with 6+ digits (`cust_8812345`) do not.
fn query_value_ok(v: &str) -> bool {
    if v.chars().count() > MAX_QUERY_VALUE || first_finding(v).is_some() {
        return false;
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let letters = v.bytes().any(|b| b.is_ascii_alphabetic());
    // No finding: checked just above.
    match classify_segment_with(v, |_| None) {
        None => true,
        Some(":id") => letters && digits < 6,
        Some(_) => false,
    }
}

// ---------------------------------------------------------------- encoding

/// RFC 3986 unreserved characters: never encoded.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `pchar` minus `%`: what a path segment may hold unencoded.
fn is_path_char(b: u8) -> bool {
    is_unreserved(b)
        || matches!(
            b,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
        )
}

/// Decode `%XX`; a `%` not followed by two hex digits stays literal (and is later encoded
/// as `%25`, which is what makes re-cleaning a fixed point). `plus_is_space` for forms.
fn percent_decode(s: &str, plus_is_space: bool) -> Cow<'_, [u8]> {
    let b = s.as_bytes();
    // Most segments and parameters have nothing to decode: no copy then.
    if !b.iter().any(|&c| c == b'%' || (plus_is_space && c == b'+')) {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |k: usize| b.get(k).and_then(|&c| (c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).expect("two hex digits fit a byte"));
                i += 3;
            }
            (b'+', _, _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

fn form_decode(s: &str) -> Cow<'_, str> {
    match percent_decode(s, true) {
        // Nothing decoded: the bytes are `s`'s own, so valid UTF-8.
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn percent_encode(bytes: &[u8], keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    percent_encode_into(&mut out, bytes, keep);
    out
}

/// [`percent_encode_into`] for text: the prefix that needs no encoding (often all of it) is
/// copied at once. `keep` accepts only ASCII, so that prefix ends on a char boundary.
fn percent_encode_str_into(out: &mut String, s: &str, keep: impl Fn(u8) -> bool) {
    let plain = s.bytes().position(|b| !keep(b)).unwrap_or(s.len());
    out.push_str(&s[..plain]);
    percent_encode_into(out, &s.as_bytes()[plain..], keep);
}

/// Generic over `keep` so that the per-byte test is inlined rather than called.
fn percent_encode_into(out: &mut String, bytes: &[u8], keep: impl Fn(u8) -> bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(bytes.len());
    for &b in bytes {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::tests::planted;
    use super::*;
    use proptest::prelude::*;

    fn utm() -> Vec<String> {
        crate::schema::DEFAULT_QUERY_ALLOWLIST
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    fn clean(raw: &str) -> String {
        match clean_page_url(raw, &utm(), 2048) {
            Ok(c) => c.as_str().to_owned(),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn page_url_keeps_origin_and_path_only() {
        for (raw, want) in [
            (
                "https://Example.COM/Docs/Intro?q=secret#top",
                "https://example.com/Docs/Intro",
            ),
            ("HTTP://example.com", "http://example.com/"),
            ("https://example.com:443/a", "https://example.com/a"),
            ("http://example.com:80/a", "http://example.com/a"),
            ("https://example.com:8443/a/", "https://example.com:8443/a/"),
            (
                "https://user:hunter2@example.com/a",
                "https://example.com/a",
            ),
            ("https://example.com./a", "https://example.com/a"),
            (
                "https://[2001:DB8::1]:8080/x",
                "https://[2001:db8::1]:8080/x",
            ),
            ("https://example.com?x=1", "https://example.com/"),
            ("https://example.com\\a\\b", "https://example.com/a/b"),
            ("  https://example.com/a  ", "https://example.com/a"),
        ] {
            assert_eq!(clean(raw), want, "{raw}");
        }
    }

    #[test]
    fn non_http_urls_are_dropped_without_echo() {
        for (raw, want) in [
            ("javascript:alert('john@example.com')", UrlDrop::Scheme),
            ("data:text/html,secret", UrlDrop::Scheme),
            ("file:///etc/passwd", UrlDrop::Scheme),
            ("android-app://com.example/", UrlDrop::Scheme),
            ("/relative/path?token=abc", UrlDrop::Unparseable),
            ("example.com/a", UrlDrop::Unparseable),
            ("https:example.com", UrlDrop::Unparseable),
            ("https://", UrlDrop::Unparseable),
            ("https://exa mple.com/", UrlDrop::Unparseable),
            ("https://bücher.de/", UrlDrop::Unparseable),
            ("https://ex_ample.com/", UrlDrop::Unparseable),
            ("https://example.com:99999/", UrlDrop::Unparseable),
            ("https://[not-v6]/", UrlDrop::Unparseable),
            ("https://a..b/", UrlDrop::Unparseable),
            ("http://0../", UrlDrop::Unparseable),
            ("", UrlDrop::Unparseable),
        ] {
            let err = clean_page_url(raw, &utm(), 2048).expect_err(raw);
            assert_eq!(err, want, "{raw}");
            assert!(raw.is_empty() || !err.to_string().contains(raw), "{raw}");
        }
    }

    #[test]
    fn id_like_path_segments_become_placeholders() {
        for (seg, want) in [
            ("12345", ":id"),
            ("42", ":id"),
            ("550e8400-e29b-41d4-a716-446655440000", ":uuid"),
            ("550E8400-E29B-41D4-A716-446655440000", ":uuid"),
            ("5f3a9c0d12ab", ":hex"),
            ("d41d8cd98f00b204e9800998ecf8427e", ":hex"),
            ("john@example.com", ":email"),
            ("john%40example.com", ":email"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop",
                ":token",
            ),
            ("sk-ant-api03-abcDEF1234567890abcdefXYZ", ":token"),
            ("a8Fk29dLq0PzX7mN3bV1xQ", ":token"),
            ("u_8812", ":id"),
            ("order-12345", ":id"),
            ("4111-1111-1111-1111", ":id"),
            ("+14155550123", ":id"),
            ("10.0.0.1", ":id"),
            ("2001:db8::1", ":id"),
            ("https%3A%2F%2Fevil.com%2F%3Ft%3D1", ":id"),
        ] {
            assert_eq!(
                clean(&format!("https://x.io/a/{seg}/b")),
                format!("https://x.io/a/{want}/b"),
                "{seg}"
            );
        }
    }

    #[test]
    fn ordinary_path_segments_are_kept() {
        for seg in [
            "docs",
            "v1",
            "h264",
            "3",
            "how-to-reset-my-password",
            "internationalization",
            "deadbeefcafe",
            "pricing.html",
            ":id",
            "~user",
            "a+b",
            "caf%C3%A9",
            "",
        ] {
            assert_eq!(
                clean(&format!("https://x.io/{seg}")),
                format!("https://x.io/{seg}"),
                "{seg}"
            );
        }
    }

    #[test]
    fn path_is_reencoded_canonically() {
        for (raw, want) in [
            ("https://x.io/caf%c3%a9", "https://x.io/caf%C3%A9"),
            ("https://x.io/café", "https://x.io/caf%C3%A9"),
            ("https://x.io/a%2Fb", "https://x.io/a%2Fb"),
            ("https://x.io/a b", "https://x.io/a%20b"),
            ("https://x.io/100%", "https://x.io/100%25"),
            ("https://x.io/%7Euser", "https://x.io/~user"),
            ("https://x.io/<script>", "https://x.io/%3Cscript%3E"),
        ] {
            assert_eq!(clean(raw), want, "{raw}");
        }
    }

    #[test]
    fn query_keeps_only_allowlisted_clean_values() {
        for (query, want) in [
            (
                "utm_source=news&token=abc&utm_medium=email",
                "?utm_source=news&utm_medium=email",
            ),
            (
                "utm_campaign=spring+sale+2026",
                "?utm_campaign=spring%20sale%202026",
            ),
            ("utm_source=a&utm_source=b", "?utm_source=a"),
            ("utm_source=john%40example.com", ""),
            ("utm_source=john%40example.com&utm_source=ok", ""),
            ("utm_term=12345", ""),
            ("utm_term=cust_8812345", ""),
            ("utm_term=550e8400-e29b-41d4-a716-446655440000", ""),
            ("utm_content=https%3A%2F%2Fx.io", ""),
            ("UTM_SOURCE=news", ""),
            ("utm_source=", "?utm_source="),
            ("utm_source", "?utm_source="),
            ("q=x", ""),
        ] {
            assert_eq!(
                clean(&format!("https://x.io/p?{query}")),
                format!("https://x.io/p{want}"),
                "{query}"
            );
        }
        let long = "a".repeat(MAX_QUERY_VALUE + 1);
        assert_eq!(
            clean(&format!("https://x.io/?utm_term={long}")),
            "https://x.io/"
        );
    }

    #[test]
    fn length_cap_drops_query_then_trailing_segments() {
        let raw = "https://x.io/alpha/beta/gamma?utm_source=news";
        for (max, want) in [
            (100, Ok("https://x.io/alpha/beta/gamma?utm_source=news")),
            (40, Ok("https://x.io/alpha/beta/gamma")),
            (28, Ok("https://x.io/alpha/beta")),
            (13, Ok("https://x.io/")),
            (12, Err(UrlDrop::TooLong)),
        ] {
            let got = clean_page_url(raw, &utm(), max).map(|c| c.as_str().to_owned());
            assert_eq!(got, want.map(str::to_owned), "{max}");
        }
    }

    #[test]
    fn host_is_lowercase_without_port() {
        let c = clean_page_url("https://WWW.Example.com:8443/", &[], 100).expect("valid");
        assert_eq!(c.host(), "www.example.com");
    }

    #[test]
    fn clean_url_serializes_as_string_and_only_clean_deserializes() {
        let c = clean_page_url("https://x.io/u/42?utm_source=a", &utm(), 100).expect("valid");
        let json = serde_json::to_string(&c).expect("serializes");
        assert_eq!(json, "\"https://x.io/u/:id?utm_source=a\"");
        let back: CleanUrl = serde_json::from_str(&json).expect("clean url deserializes");
        assert_eq!(back, c);
        assert!(serde_json::from_str::<CleanUrl>("\"https://x.io/u/42\"").is_err());
        assert!(serde_json::from_str::<CleanUrl>("\"javascript:1\"").is_err());
    }

    #[test]
    fn referrer_keeps_origin_only() {
        for (raw, want) in [
            (
                "https://www.google.com/search?q=john+smith",
                Some("https://www.google.com"),
            ),
            (
                "https://user:pw@news.ycombinator.com/item?id=1#c",
                Some("https://news.ycombinator.com"),
            ),
            ("http://localhost:3000/x", Some("http://localhost:3000")),
            ("https://other.io:443/", Some("https://other.io")),
        ] {
            assert_eq!(
                clean_referrer(raw, Some("shop.example.com")),
                Ok(want.map(str::to_owned)),
                "{raw}"
            );
        }
    }

    #[test]
    fn referrer_same_site_is_dropped() {
        for (raw, page) in [
            ("https://shop.example.com/cart", "shop.example.com"),
            ("https://www.example.com/", "shop.example.com"),
            ("https://example.com/", "SHOP.example.com:8443"),
            ("https://a.shop.co.uk/", "www.shop.co.uk"),
            ("https://x.example.com.au/", "example.com.au"),
            ("http://[::1]:8080/", "[::1]"),
        ] {
            assert_eq!(clean_referrer(raw, Some(page)), Ok(None), "{raw} vs {page}");
        }
    }

    #[test]
    fn referrer_other_site_is_kept() {
        for (raw, page) in [
            ("https://other.co.uk/", "shop.co.uk"),
            ("https://alice.github.io/", "bob.github.io"),
            ("https://10.0.0.2/", "10.0.0.1"),
            ("https://example.org/", "example.com"),
        ] {
            assert!(
                clean_referrer(raw, Some(page)).expect("valid").is_some(),
                "{raw} vs {page}"
            );
        }
        assert_eq!(
            clean_referrer("https://a.io/x", None),
            Ok(Some("https://a.io".to_owned()))
        );
    }

    #[test]
    fn referrer_non_http_is_an_error() {
        for raw in [
            "android-app://com.google.android.gm/",
            "about:blank",
            "",
            "chrome-extension://abc/",
        ] {
            assert!(clean_referrer(raw, Some("x.io")).is_err(), "{raw}");
        }
    }

    fn parse_routes(templates: &[&str]) -> Vec<Route> {
        templates
            .iter()
            .map(|t| Route::parse(t).expect(t))
            .collect()
    }

    #[test]
    fn a_path_that_matches_a_route_is_sent_as_the_route() {
        let routes = parse_routes(&[
            "/people/me",
            "/people/:person",
            "/people/:person/settings",
            "/orders/:order",
            "/docs/*",
            "/",
        ]);
        let run = |raw: &str, routes_only| {
            clean_page_url_routed(raw, &utm(), &routes, routes_only, 2048)
                .map(CleanUrl::into_string)
                .unwrap_or_else(|e| format!("ERR {e}"))
        };
        for (raw, path, route) in [
            (
                "https://x.io/people/jane-doe?utm_source=mail&q=jane#bio",
                "https://x.io/people/:person?utm_source=mail",
                "https://x.io/people/:person?utm_source=mail",
            ),
            (
                "https://x.io/people/jane-doe/",
                "https://x.io/people/:person",
                "https://x.io/people/:person",
            ),
            (
                "https://x.io/people/Jane%20Doe/settings",
                "https://x.io/people/:person/settings",
                "https://x.io/people/:person/settings",
            ),
            (
                "https://x.io/people/me",
                "https://x.io/people/me",
                "https://x.io/people/me",
            ),
            // Matched after its ID became a placeholder.
            (
                "https://x.io/orders/12345",
                "https://x.io/orders/:order",
                "https://x.io/orders/:order",
            ),
            (
                "https://x.io/docs/guides/install",
                "https://x.io/docs/*",
                "https://x.io/docs/*",
            ),
            ("https://x.io/docs", "https://x.io/docs", "https://x.io"),
            ("https://x.io/", "https://x.io/", "https://x.io/"),
            ("https://x.io", "https://x.io/", "https://x.io"),
            (
                "https://x.io/pricing?utm_source=a",
                "https://x.io/pricing?utm_source=a",
                "https://x.io",
            ),
            (
                "https://x.io/invoices/8812/pdf",
                "https://x.io/invoices/:id/pdf",
                "https://x.io",
            ),
            // A parameter matches one non-empty segment.
            (
                "https://x.io/people//settings",
                "https://x.io/people//settings",
                "https://x.io",
            ),
            (
                "https://x.io/people/a/b",
                "https://x.io/people/a/b",
                "https://x.io",
            ),
            // Case matters, as in the path itself.
            (
                "https://x.io/People/ada",
                "https://x.io/People/ada",
                "https://x.io",
            ),
        ] {
            assert_eq!(run(raw, false), path, "path: {raw}");
            assert_eq!(run(raw, true), route, "route: {raw}");
        }
        // Each result names the rule that shaped it, for the redaction an auditor sees.
        let rule = |raw: &str, routes_only| {
            clean_page_url_routed(raw, &utm(), &routes, routes_only, 2048).map(|c| c.rule())
        };
        assert_eq!(rule("https://x.io/people/ada", false), Ok("url:route"));
        assert_eq!(rule("https://x.io/pricing", false), Ok("url"));
        assert_eq!(rule("https://x.io/pricing", true), Ok("url:origin"));
        assert_eq!(rule("https://x.io/people/ada", true), Ok("url:route"));
        // The first route that matches is the one sent.
        let first = parse_routes(&["/people/:person", "/people/me"]);
        assert_eq!(
            clean_page_url_routed("https://x.io/people/me", &[], &first, false, 2048)
                .map(CleanUrl::into_string),
            Ok("https://x.io/people/:person".to_owned())
        );
        // The query goes first when the whole is too long; then the URL is refused.
        let long = clean_page_url_routed(
            "https://x.io/people/ada?utm_source=abcdef",
            &utm(),
            &routes,
            true,
            30,
        );
        assert_eq!(
            long.map(CleanUrl::into_string),
            Ok("https://x.io/people/:person".to_owned())
        );
        let too_long = clean_page_url_routed("https://x.io/people/ada", &utm(), &routes, true, 20);
        assert_eq!(too_long, Err(UrlDrop::TooLong));
    }

    #[test]
    fn route_templates_that_could_not_be_sent_as_written_are_refused() {
        for template in [
            "/",
            "/people/:person",
            "/docs/*",
            "/*",
            "/a/b:c/~x",
            "/v2/:id_2",
            "/**",
        ] {
            assert!(Route::parse(template).is_ok(), "{template}");
        }
        for (template, why) in [
            ("people/:person", "a route starts with /"),
            ("", "a route starts with /"),
            (
                "//",
                "a route has no empty segment (no // and no trailing /)",
            ),
            (
                "/people/",
                "a route has no empty segment (no // and no trailing /)",
            ),
            (
                "/a//b",
                "a route has no empty segment (no // and no trailing /)",
            ),
            ("/*/settings", "* is allowed only as the last segment"),
            (
                "/people/:Person",
                "a parameter is : and a snake_case name (a-z, 0-9, _)",
            ),
            (
                "/people/:",
                "a parameter is : and a snake_case name (a-z, 0-9, _)",
            ),
            (
                "/people/:p1234",
                "a parameter is : and a snake_case name (a-z, 0-9, _)",
            ),
            ("/a/:x/b/:x", "a parameter name appears twice"),
            (
                "/people/jane doe",
                "a literal segment holds only letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @",
            ),
            (
                "/caf%C3%A9",
                "a literal segment holds only letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @",
            ),
            (
                "/a?b",
                "a literal segment holds only letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @",
            ),
            (
                "/orders/12345",
                "a literal segment must not look like an id, a token or an email (it would be replaced)",
            ),
            (
                "/v2026x",
                "a literal segment must not look like an id, a token or an email (it would be replaced)",
            ),
            (
                "/u/ada@example.com",
                "a literal segment must not look like an id, a token or an email (it would be replaced)",
            ),
        ] {
            assert_eq!(Route::parse(template), Err(why), "{template}");
        }
        let long = format!("/{}", "a".repeat(MAX_ROUTE_LENGTH));
        assert_eq!(
            Route::parse(&long),
            Err("a route is at most 200 characters")
        );
        assert_eq!(
            Route::parse("/people/:person/*").map(|r| r.example_path()),
            Ok("/people/jane-doe/getting-started/install".to_owned())
        );
        let hides = |t| Route::parse(t).map(|r| r.hides_anything());
        assert_eq!(hides("/people/:person"), Ok(true));
        assert_eq!(hides("/docs/*"), Ok(true));
        assert_eq!(hides("/a:b/c*d"), Ok(false));
        assert_eq!(hides("/"), Ok(false));
    }

    // ------------------------------------------------------------ properties

    /// Routes built from a few literals, parameters and `*`, and paths from the same words
    /// and others, so that matches, near misses and shadowed routes are all common.
    fn route_set() -> impl Strategy<Value = Vec<Route>> {
        let piece = proptest::sample::select(vec!["people", "docs", "me", "a", ":p", ":q", "*"]);
        proptest::collection::vec(proptest::collection::vec(piece, 0..4), 1..5).prop_map(|rs| {
            rs.iter()
                .filter_map(|pieces| Route::parse(&format!("/{}", pieces.join("/"))).ok())
                .collect()
        })
    }

    fn routed_url() -> impl Strategy<Value = String> {
        let word = prop_oneof![
            3 => proptest::sample::select(vec!["people", "docs", "me", "a", "jane-doe", "12345", "*", "", ":p", ":id"]).prop_map(str::to_owned),
            1 => segment(),
        ];
        (
            proptest::collection::vec(word, 0..6),
            proptest::option::of(proptest::sample::select(vec![
                "utm_source=x",
                "q=1&utm_medium=m",
                "token=abc",
            ])),
            any::<bool>(),
        )
            .prop_map(|(segs, query, slash)| {
                let mut u = String::from("https://x.io");
                for s in &segs {
                    u.push('/');
                    u.push_str(&s.replace(['/', '?', '#', '\\'], "_"));
                }
                if slash {
                    u.push('/');
                }
                if let Some(q) = query {
                    u.push('?');
                    u.push_str(q);
                }
                u
            })
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z]{1,10}(-[a-z]{1,8}){0,3}",
            1 => "[0-9]{1,8}",
            1 => "[a-z]{1,3}[0-9]{1,6}",
            1 => "[A-Za-z0-9._~!$&'()*+,;=:@-]{0,12}",
            1 => "([a-zA-Z0-9]|%[0-9A-Fa-f]{2}|%|%[G-Z]){0,10}",
            1 => "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            1 => "[0-9a-f]{10,32}",
            1 => planted::any_value(),
            1 => "\\PC{0,6}",
        ]
    }

    fn realistic_url() -> impl Strategy<Value = String> {
        (
            proptest::sample::select(vec!["https", "http", "HTTPS"]),
            proptest::option::of("[a-z0-9]{1,6}(:[a-z0-9]{0,6})?@"),
            "[a-zA-Z0-9-]{1,10}(\\.[a-z]{2,5}){1,2}",
            proptest::option::of(prop_oneof![Just(443u16), Just(80), 1u16..]),
            proptest::collection::vec(segment(), 0..6),
            proptest::option::of(proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "utm_source",
                        "utm_medium",
                        "utm_campaign",
                        "q",
                        "id",
                        "token",
                    ]),
                    segment(),
                ),
                0..5,
            )),
            proptest::option::of("\\PC{0,10}"),
        )
            .prop_map(|(scheme, user, host, port, segs, query, frag)| {
                let mut u = format!("{scheme}://{}{host}", user.unwrap_or_default());
                if let Some(p) = port {
                    u.push_str(&format!(":{p}"));
                }
                for s in segs {
                    u.push('/');
                    u.push_str(&s.replace(['/', '?', '#'], "_"));
                }
                if let Some(q) = query {
                    u.push('?');
                    let pairs: Vec<String> = q
                        .iter()
                        .map(|(k, v)| format!("{k}={}", v.replace(['&', '#'], "_")))
                        .collect();
                    u.push_str(&pairs.join("&"));
                }
                if let Some(f) = frag {
                    u.push('#');
                    u.push_str(&f);
                }
                u
            })
    }

    fn pct(v: &str) -> String {
        v.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn shortcuts_match_the_plain_computation(seg in "[a-zA-Z0-9%/.:@!~_-]{0,12}|\\PC{0,12}", host in "[ a-zA-Z0-9.:\\[\\]-]{0,16}|([a-z]{1,3}\\.){0,4}(co\\.uk|github\\.io|com)") {
            // `clean_segment` borrows a segment with nothing to decode or encode: the same
            // text as decoding and re-encoding it.
            let bytes = percent_decode(&seg, false);
            let want = match classify_segment(&String::from_utf8_lossy(&bytes)) {
                Some(p) => p.to_owned(),
                None => percent_encode(&bytes, is_path_char),
            };
            let got = clean_segment(&seg);
            prop_assert_eq!(got.as_ref(), want.as_str());
            // Encoding text copies its plain prefix whole: the same as byte by byte.
            let mut encoded = String::new();
            percent_encode_str_into(&mut encoded, &seg, is_unreserved);
            prop_assert_eq!(encoded, percent_encode(seg.as_bytes(), is_unreserved));
            // The byte splitters cut where `split` and `split_once` do.
            let want: Vec<&str> = seg.split(['/', '\\']).collect();
            let got: Vec<&str> = split_at_bytes(&seg, |b| b == b'/' || b == b'\\').collect();
            prop_assert_eq!(got, want);
            let want = seg.split_once(':').map_or((seg.as_str(), None), |(a, b)| (a, Some(b)));
            prop_assert_eq!(cut_at_byte(&seg, b':'), want);
            // `registrable` counts dots from the end as collecting them did.
            let dots: Vec<usize> = host.match_indices('.').map(|(k, _)| k).collect();
            let from_label = |n: usize| if dots.len() < n { host.as_str() } else { &host[dots[dots.len() - n] + 1..] };
            let want = if MULTI_LABEL_SUFFIXES.contains(&from_label(2)) { from_label(3) } else { from_label(2) };
            prop_assert_eq!(registrable(&host), want);
            // `normalize_host_arg` lowercases last and only when needed.
            let h = host.trim().to_ascii_lowercase();
            let h = if h.starts_with('[') {
                h.split_inclusive(']').next().unwrap_or("").to_owned()
            } else {
                h.split(':').next().unwrap_or("").to_owned()
            };
            let got = normalize_host_arg(&host);
            prop_assert_eq!(got.as_ref(), h.trim_end_matches('.'));
            // `split_host_port` checks the host before lowercasing it.
            if !host.contains([':', '[']) {
                let lower = host.to_ascii_lowercase();
                let lower = lower.strip_suffix('.').unwrap_or(&lower);
                let old = !lower.is_empty()
                    && lower.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
                    && !lower.starts_with('.')
                    && !lower.ends_with('.')
                    && !lower.contains("..");
                let new = split_host_port(&host).ok().map(|(h, _)| h);
                prop_assert_eq!(new, old.then(|| lower.to_owned()));
            }
        }

        #[test]
        fn clean_page_url_is_idempotent(raw in realistic_url(), max in 10usize..200) {
            if let Ok(once) = clean_page_url(&raw, &utm(), max) {
                prop_assert!(once.as_str().len() <= max);
                let twice = clean_page_url(once.as_str(), &utm(), max).expect("a clean url stays valid");
                prop_assert_eq!(twice.as_str(), once.as_str());
                prop_assert!(CleanUrl::parse_clean(once.as_str()).is_ok());
            }
        }

        #[test]
        fn routed_cleaning_is_a_fixed_point(routes in route_set(), raw in prop_oneof![routed_url(), realistic_url()], routes_only in any::<bool>(), max in prop_oneof![10usize..80, Just(2048)]) {
            if let Ok(once) = clean_page_url_routed(&raw, &utm(), &routes, routes_only, max) {
                prop_assert!(once.as_str().len() <= max);
                let twice = clean_page_url_routed(once.as_str(), &utm(), &routes, routes_only, max);
                prop_assert_eq!(twice.map(CleanUrl::into_string), Ok(once.as_str().to_owned()), "from {:?}", raw);
                // With `routes_only`, a path is sent only as a declared route.
                if routes_only {
                    let path = once.as_str()["https://x.io".len().min(once.as_str().len())..].split('?').next().unwrap_or("");
                    if raw.starts_with("https://x.io") {
                        prop_assert!(path.is_empty() || routes.iter().any(|r| r.template() == path), "{:?} from {:?}", once, raw);
                    }
                }
            }
        }

        #[test]
        fn clean_page_url_is_idempotent_on_arbitrary_strings(tail in "\\PC{0,40}", ascii in "[ -~]{0,40}", raw in "\\PC{0,40}") {
            let inputs = [format!("https://x.io/{tail}"), format!("http://{tail}"), format!("https://x.io/{ascii}"), format!("https://{ascii}"), raw];
            for input in inputs {
                if let Ok(once) = clean_page_url(&input, &utm(), 120) {
                    prop_assert_eq!(clean_page_url(once.as_str(), &utm(), 120).map(|c| c.as_str().to_owned()), Ok(once.as_str().to_owned()));
                }
            }
        }

        #[test]
        fn planted_values_never_survive_in_urls(v in planted::any_value(), where_ in 0usize..7, encode in any::<bool>(), base in realistic_url()) {
            let pv = if encode { pct(&v) } else { v.replace(['/', '?', '#'], "_") };
            let base = clean_page_url(&base, &[], 2048).map(|c| c.as_str().trim_end_matches('/').to_owned()).unwrap_or_else(|_| "https://x.io".into());
            let raw = match where_ {
                0 => format!("{base}/{pv}"),
                1 => format!("{base}/{pv}/tail"),
                2 => format!("{base}/p?utm_source={pv}"),
                3 => format!("{base}/p?token={pv}&utm_medium=email"),
                4 => format!("{base}/p#{pv}"),
                5 => base.replacen("://", &format!("://{}@", pct(&v)), 1),
                _ => format!("{base}/p?utm_campaign=x#a={pv}"),
            };
            let out = clean_page_url(&raw, &utm(), 2048).map(|c| c.as_str().to_owned()).unwrap_or_default();
            for form in planted::leak_forms(&v) {
                prop_assert!(!out.contains(&form), "{:?} leaked from {:?} as {:?}", v, raw, out);
            }
        }

        #[test]
        fn referrer_never_keeps_path_or_query(raw in realistic_url()) {
            if let Ok(Some(origin)) = clean_referrer(&raw, Some("page.example")) {
                prop_assert_eq!(origin.matches('/').count(), 2);
                prop_assert!(!origin.contains(['?', '#', '@']));
            }
        }
    }
}

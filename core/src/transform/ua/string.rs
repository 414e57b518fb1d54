//! Reading a user-agent string: the hand-ordered substring checks that find the browser
//! family, its major version, the OS family and the device class.

use super::{Browser, Device, DeviceGuess, MAX_MAJOR, MAX_UA_BYTES, Os};

/// What the UA string says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Parsed {
    pub(super) browser: Browser,
    pub(super) major: Option<u16>,
    pub(super) os: Option<Os>,
    pub(super) device: DeviceGuess,
}

/// A UA string, capped at [`MAX_UA_BYTES`]. Matching is on bytes: every token that matters is
/// ASCII, and a cut in the middle of a UTF-8 sequence then cannot panic.
pub(super) struct Ua<'a> {
    bytes: &'a [u8],
    /// Which byte pairs `bytes` holds: rules out most patterns before a search.
    pairs: Pairs,
}

/// The pairs of adjacent bytes that occur in a string, case folded, as a 4096-bit set (two
/// bytes' low six bits each). A pattern with a pair the string lacks cannot occur in it, and
/// most of the hundred-odd patterns looked for are absent: they are ruled out with a few bit
/// tests instead of a scan of the string each. A filter only: a pattern that passes is still
/// searched for.
struct Pairs([u64; 64]);

impl Pairs {
    fn of(s: &[u8]) -> Self {
        let mut set = [0u64; 64];
        for w in s.windows(2) {
            let k = Self::index(w[0], w[1]);
            set[k / 64] |= 1 << (k % 64);
        }
        Pairs(set)
    }

    fn index(a: u8, b: u8) -> usize {
        usize::from(a.to_ascii_lowercase() & 63) << 6 | usize::from(b.to_ascii_lowercase() & 63)
    }

    /// False when `needle` (of two bytes or more) certainly does not occur, case folded.
    fn may_contain(&self, needle: &[u8]) -> bool {
        needle.windows(2).all(|w| {
            let k = Self::index(w[0], w[1]);
            self.0[k / 64] & (1 << (k % 64)) != 0
        })
    }
}

/// Tokens that mark an automated client. Matched case-insensitively anywhere in the string;
/// "bot" itself is handled by [`Ua::has_bot_word`] because of phone names like "Cubot".
const BOT_MARKERS: &[&[u8]] = &[
    b"crawl",
    b"spider",
    b"slurp",
    b"headless",
    b"lighthouse",
    b"pingdom",
    b"facebookexternalhit",
    b"mediapartners-google",
    b"feedfetcher",
    b"ia_archiver",
    b"archive.org",
    b"bingpreview",
    b"google-inspectiontool",
    b"googleother",
    b"ptst/",
    b"phantomjs",
    b"selenium",
    b"puppeteer",
    b"playwright",
    b"uptime",
    b"monitor",
    b"scanner",
    b"validator",
    b"fetcher",
    b"scraper",
    b"preview",
    b"indexer",
    b"thumbnail",
    b"nutch",
    b"archive",
    b"masscan",
    // Crawlers leave a contact address; browsers never carry a URL in their string.
    b"http://",
    b"https://",
    b"www.",
];

/// HTTP libraries and command-line tools: they name themselves first, so they are matched
/// (case-insensitively) at the start only. Anywhere else "Java/" is also a feature phone's VM.
const TOOL_PREFIXES: &[&[u8]] = &[
    b"curl/",
    b"wget/",
    b"java/",
    b"python-",
    b"python/",
    b"aiohttp/",
    b"httpx/",
    b"httpie/",
    b"go-http-client/",
    b"okhttp/",
    b"apache-httpclient/",
    b"libwww-perl/",
    b"node-fetch/",
    b"axios/",
    b"undici",
    b"node/",
    b"deno/",
    b"ruby",
    b"php/",
    b"guzzlehttp/",
    b"scrapy/",
    b"postmanruntime/",
    b"insomnia/",
    b"reqwest/",
];

/// Product tokens that a plain Chrome, Firefox or Safari string carries. Any other product
/// token outside the parentheses means a different browser or an app dressed as one.
const PLAIN_TOKENS: &[&[u8]] = &[
    b"Mozilla",
    b"AppleWebKit",
    b"Gecko",
    b"Chrome",
    b"CriOS",
    b"Chromium",
    b"Firefox",
    b"FxiOS",
    b"Safari",
    b"Mobile",
    b"Version",
    // IE 11: "(...; rv:11.0) like Gecko".
    b"like",
    // Linux distributions' own builds of Firefox and Chromium.
    b"Ubuntu",
];

/// Markers of TVs, consoles and set-top boxes: not desktop, mobile or tablet.
const OTHER_DEVICE_MARKERS: &[&[u8]] = &[
    b"SmartTV",
    b"SMART-TV",
    b"Smart TV",
    b"HbbTV",
    b"Web0S",
    b"webOS",
    b"Tizen",
    b"CrKey",
    b"AppleTV",
    b"Apple TV",
    b"tvOS",
    b"Roku",
    b"BRAVIA",
    b"PlayStation",
    b"Xbox",
    b"Nintendo",
    b"GoogleTV",
    b"Android TV",
    // Amazon Fire TV models: "Android 9; AFTKA".
    b"; AFT",
    b"watchOS",
];

impl<'a> Ua<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        let b = s.as_bytes();
        let b = &b[..b.len().min(MAX_UA_BYTES)];
        Ua {
            bytes: b,
            pairs: Pairs::of(b),
        }
    }

    fn has(&self, pat: &[u8]) -> bool {
        self.pairs.may_contain(pat) && find(self.bytes, pat).is_some()
    }

    fn has_any(&self, pats: &[&[u8]]) -> bool {
        pats.iter().any(|p| self.has(p))
    }

    /// The major version after `token` (such as `b"Chrome/"`) where `token` starts a word, so
    /// that `Chrome/` does not match inside `HeadlessChrome/`. `None` if the token is absent;
    /// `Some(None)` if it is present with an unusable version.
    fn token_major(&self, token: &[u8]) -> Option<Option<u16>> {
        if !self.pairs.may_contain(token) {
            return None;
        }
        let mut from = 0;
        while let Some(i) = find(&self.bytes[from..], token) {
            let start = from + i;
            let at_word_start = start == 0 || !self.bytes[start - 1].is_ascii_alphanumeric();
            if at_word_start {
                return Some(parse_major(&self.bytes[start + token.len()..]));
            }
            from = start + 1;
        }
        None
    }

    /// A word ending in "bot" (Googlebot, bingbot, AhrefsBot, "bot/1.0"), but not the phone
    /// brand Cubot.
    fn has_bot_word(&self) -> bool {
        if !self.pairs.may_contain(b"bot") {
            return false;
        }
        let s = self.bytes;
        let mut from = 0;
        while let Some(i) = find_ci(&s[from..], b"bot") {
            let start = from + i;
            let end = start + 3;
            let ends_word = s.get(end).is_none_or(|c| !c.is_ascii_alphabetic());
            let cubot = start >= 2 && s[start - 2..start].eq_ignore_ascii_case(b"cu");
            if ends_word && !cubot {
                return true;
            }
            from = start + 1;
        }
        false
    }

    fn is_bot(&self) -> bool {
        self.has_bot_word()
            || BOT_MARKERS
                .iter()
                .any(|m| self.pairs.may_contain(m) && contains_ci(self.bytes, m))
            || TOOL_PREFIXES.iter().any(|p| {
                self.bytes
                    .get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p))
            })
    }

    /// True if every product token outside comments is one a plain browser string carries.
    fn only_plain_tokens(&self) -> bool {
        product_names(self.bytes).all(|name| PLAIN_TOKENS.contains(&name))
    }

    pub(super) fn parse(&self) -> Parsed {
        let bot = self.is_bot();
        let (browser, major) = self.browser(bot);
        let os = self.os();
        let device = if bot {
            DeviceGuess::Known(Device::Bot)
        } else {
            self.device()
        };
        Parsed {
            browser,
            major,
            os,
            device,
        }
    }

    fn browser(&self, bot: bool) -> (Browser, Option<u16>) {
        // Headless Chrome is still Chrome (the device class says bot).
        if self.has(b"HeadlessChrome") {
            return (
                Browser::Chrome,
                self.token_major(b"HeadlessChrome/").flatten(),
            );
        }
        // A crawler that borrows a browser's string is not a visit by that browser.
        if bot || self.bytes.is_empty() {
            return (Browser::Other, None);
        }
        // Specific Chromium- and WebKit-based browsers first: they also carry Chrome/ and
        // Safari/ tokens.
        const SPECIFIC: &[(&[u8], Browser)] = &[
            (b"Edg/", Browser::Edge),
            (b"EdgA/", Browser::Edge),
            (b"EdgiOS/", Browser::Edge),
            (b"Edge/", Browser::Edge),
            // UC before Opera: old UC strings quote "Opera Mini/" in a comment.
            (b"UCBrowser/", Browser::UcBrowser),
            (b"UCBrowser", Browser::UcBrowser),
            (b"UC Browser", Browser::UcBrowser),
            (b"UCWEB/", Browser::UcBrowser),
            (b"UCWEB", Browser::UcBrowser),
            (b"UBrowser/", Browser::UcBrowser),
            (b"OPR/", Browser::Opera),
            (b"OPiOS/", Browser::Opera),
            (b"OPT/", Browser::Opera),
            (b"Opera Mini/", Browser::Opera),
            (b"OPX/", Browser::Opera),
            (b"SamsungBrowser/", Browser::SamsungInternet),
            (b"YaBrowser/", Browser::Yandex),
            (b"YaSearchBrowser/", Browser::Yandex),
            (b"Vivaldi/", Browser::Vivaldi),
            (b"IEMobile/", Browser::InternetExplorer),
        ];
        for (token, browser) in SPECIFIC {
            if let Some(major) = self.token_major(token) {
                return (*browser, major);
            }
        }
        // Brave, when it shows itself at all, borrows Chrome's major.
        if self.has(b"Brave/") || self.has(b"brave/") || self.has(b" Brave ") {
            return (Browser::Brave, self.token_major(b"Chrome/").flatten());
        }
        // Presto-era Opera: "Opera/9.80 (...) Presto/2.12 Version/12.16".
        if let Some(major) = self.token_major(b"Opera/") {
            return (
                Browser::Opera,
                self.token_major(b"Version/").unwrap_or(major),
            );
        }
        // The rest are the families others imitate: believe them only when no other product
        // token is claimed ("Whale/3.24", "Outlook-Express/7.0").
        if !self.only_plain_tokens() {
            return (Browser::Other, None);
        }
        if let Some(major) = self.token_major(b"MSIE ") {
            return (Browser::InternetExplorer, major);
        }
        // IE 11 dropped "MSIE": "Trident/7.0; rv:11.0) like Gecko".
        if self.has(b"Trident/")
            && let Some(major) = self.token_major(b"rv:")
        {
            return (Browser::InternetExplorer, major);
        }
        // Nor a comment after the last token ("(StatusCake)", "[FBAN/FBIOS;...]"), which no
        // plain Chrome, Firefox or Safari string has (IE's strings end in one).
        if matches!(self.bytes.trim_ascii_end().last(), Some(b')' | b']')) {
            return (Browser::Other, None);
        }
        const GENERIC: &[(&[u8], Browser)] = &[
            (b"FxiOS/", Browser::Firefox),
            (b"Firefox/", Browser::Firefox),
            (b"CriOS/", Browser::Chrome),
            (b"Chromium/", Browser::Chromium),
            (b"Chrome/", Browser::Chrome),
        ];
        for (token, browser) in GENERIC {
            if let Some(major) = self.token_major(token) {
                return (*browser, major);
            }
        }
        // Safari says "Version/17.4 (Mobile/15E148) Safari/604.1"; without Version/ it is an
        // app's web view. The Android, BlackBerry and TV browsers look the same, hence the
        // check for an Apple platform (or Windows, where Safari ran until version 5).
        if let Some(major) = self.token_major(b"Version/")
            && matches!(self.os(), Some(Os::MacOs | Os::Ios | Os::Windows))
            && (self.has(b"Safari/") || self.has(b"Mobile/"))
        {
            return (Browser::Safari, major);
        }
        (Browser::Other, None)
    }

    fn os(&self) -> Option<Os> {
        if self.has_any(&[
            b"Windows Phone",
            b"Windows Mobile",
            b"Windows CE",
            b"WPDesktop",
        ]) {
            return Some(Os::Other);
        }
        // Before Mac OS X: iOS strings say "like Mac OS X". The iOS browsers' tokens also
        // mark an iPad that asked for the desktop site with a Mac's string.
        if self.has_any(&[
            b"iPhone", b"iPad", b"iPod", b"iPh OS", b"(iOS", b"CriOS/", b"FxiOS/",
        ]) || self.has_any(&[b"EdgiOS/", b"OPiOS/"])
        {
            return Some(Os::Ios);
        }
        // Apple's HTTP stack in native apps: "App/1.0 CFNetwork/1220.1 Darwin/20.3.0", with the
        // CPU architecture only on Macs.
        if self.has(b"CFNetwork/") {
            let mac = self.has_any(&[b"x86_64", b"i386", b"Mac"]);
            return Some(if mac { Os::MacOs } else { Os::Ios });
        }
        // Amazon's Silk runs on Fire OS, an Android, even when it sends a Mac or Linux string.
        if self.has(b"Silk/") {
            return Some(Os::Android);
        }
        if self.has(b"CrOS") {
            return Some(Os::ChromeOs);
        }
        // Before Linux: Android strings say "Linux; Android".
        if self.has(b"Android") || self.has(b"Adr ") {
            return Some(Os::Android);
        }
        if self.has_any(&[b"Windows", b"Win64", b"Win32", b"WinNT", b"Win98", b"Win95"]) {
            return Some(Os::Windows);
        }
        // TVs, consoles and other Linux-based appliances are not desktop Linux.
        if self.has_any(&[b"KAIOS", b"KaiOS", b"hpwOS", b"Sailfish", b"Maemo"])
            || self.has_any(OTHER_DEVICE_MARKERS)
        {
            return Some(Os::Other);
        }
        if self.has_any(&[b"Macintosh", b"Mac OS X", b"Mac_PowerPC", b"macOS"]) {
            return Some(Os::MacOs);
        }
        if self.has_any(&[b"FreeBSD", b"OpenBSD", b"NetBSD", b"SunOS", b"CrKey"]) {
            return Some(Os::Other);
        }
        if self.has_any(&[b"Linux", b"Ubuntu", b"Fedora", b"Debian", b"linux"]) {
            return Some(Os::Linux);
        }
        None
    }

    fn device(&self) -> DeviceGuess {
        if self.has_any(OTHER_DEVICE_MARKERS) {
            return DeviceGuess::Known(Device::Other);
        }
        // "Tablet;" is Firefox for Android's marker; a bare "Tablet" would catch Windows'
        // "Tablet PC 2.0" on desktops.
        if self.has(b"iPad") || self.has(b"Tablet;") {
            return DeviceGuess::Known(Device::Tablet);
        }
        // "Mobile" (Chrome, Firefox, Safari), "Mobi" (Opera), phone platforms.
        if self.has_any(&[b"iPhone", b"iPod", b"Mobi", b"Windows Phone", b"Opera Mini"]) {
            return DeviceGuess::Known(Device::Mobile);
        }
        DeviceGuess::Unknown
    }
}

/// Names of the product tokens of a UA string (`Name/version` or a bare `Name`), skipping
/// comments in parentheses and brackets, where platform details and "KHTML, like Gecko" live.
fn product_names(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut depth = 0usize;
    let mut i = 0;
    core::iter::from_fn(move || {
        while i < s.len() {
            let c = s[i];
            match c {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                _ if depth == 0 && !c.is_ascii_whitespace() && c != b'+' => {
                    let start = i;
                    // '+' too: some logs and proxies URL-encode the spaces.
                    while i < s.len()
                        && !s[i].is_ascii_whitespace()
                        && !matches!(s[i], b'(' | b'[' | b'+')
                    {
                        i += 1;
                    }
                    let token = &s[start..i];
                    let name_len = token.iter().position(|&c| c == b'/').unwrap_or(token.len());
                    return Some(&token[..name_len]);
                }
                _ => {}
            }
            i += 1;
        }
        None
    })
}

/// The leading decimal number of `s`, if it is a plausible major version (1..=999).
pub(super) fn parse_major(s: &[u8]) -> Option<u16> {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    // More than three digits cannot be in range; not parsing them also avoids overflow.
    if digits == 0 || digits > 3 {
        return None;
    }
    let n = s[..digits]
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    (1..=MAX_MAJOR).contains(&n).then_some(n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    // Compare the rest only where the first byte matches: most positions fail on it, and
    // a call to `memcmp` per position was most of the cost of parsing a user agent.
    let last_start = haystack.len().checked_sub(needle.len())?;
    (0..=last_start).find(|&i| haystack[i] == first && haystack[i + 1..i + needle.len()] == *rest)
}

fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    let first = first.to_ascii_lowercase();
    let last_start = haystack.len().checked_sub(needle.len())?;
    (0..=last_start).find(|&i| {
        haystack[i].to_ascii_lowercase() == first
            && haystack[i + 1..i + needle.len()].eq_ignore_ascii_case(rest)
    })
}

pub(super) fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    find_ci(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The search as it was before the first-byte shortcut: every window compared.
    fn find_every_window(h: &[u8], n: &[u8], ci: bool) -> Option<usize> {
        if n.is_empty() {
            return Some(0);
        }
        h.windows(n.len()).position(|w| {
            if ci {
                w.eq_ignore_ascii_case(n)
            } else {
                w == n
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The pair filter never rules out a pattern that occurs (in any case), and the
        /// searches agree with comparing every window.
        #[test]
        fn pair_filter_and_search_skip_nothing(
            h in "[a-zA-Z0-9 ;/().]{0,40}",
            from in 0usize..40,
            len in 0usize..8,
            flip in any::<bool>(),
            other in "[a-zA-Z0-9 ;/().]{0,6}",
        ) {
            let hb = h.as_bytes();
            let from = from.min(hb.len());
            let taken = &hb[from..(from + len).min(hb.len())];
            let flipped: Vec<u8> = if flip {
                taken.iter().map(|b| if b.is_ascii_lowercase() { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() }).collect()
            } else {
                taken.to_vec()
            };
            let pairs = Pairs::of(hb);
            for needle in [taken, flipped.as_slice(), other.as_bytes()] {
                prop_assert_eq!(find(hb, needle), find_every_window(hb, needle, false));
                prop_assert_eq!(find_ci(hb, needle), find_every_window(hb, needle, true));
                if find_ci(hb, needle).is_some() {
                    prop_assert!(pairs.may_contain(needle), "{:?} in {:?}", needle, h);
                }
            }
        }
    }
}

//! User-agent reduction: the raw `User-Agent` string (and, where the browser offers them, its
//! User-Agent Client Hints) become a [`ReducedUa`]: browser family and major version, OS
//! family, and device class. The raw string never leaves this module.
//!
//! What it deliberately does not do:
//! - No OS versions, ever: "Android 10", "Windows NT 10.0" or "Mac OS X 10_15_7" add
//!   fingerprinting entropy and little analytic value, so only the OS family survives.
//! - No device models or vendors ("SM-G991B", "Pixel 8"): a rare model in a small site's data
//!   is close to an identifier.
//! - No minor or patch browser versions: only the major, which is what compatibility
//!   decisions are made on.
//! - No long tail of browsers: a browser that is not one of the well-known [`Browser`]
//!   families is [`Browser::Other`], including Chromium derivatives and in-app browsers that
//!   add their own product token to a Chrome- or Safari-like string. Reporting them as Chrome
//!   would be a guess; reporting their name would add entropy.
//! - No regular expressions or parser tables: this code ships in the browser, where every
//!   byte counts, so it is a small hand-ordered set of substring checks over at most
//!   [`MAX_UA_BYTES`] bytes.
//!
//! Like every UA parser, the order of the checks matters: Chromium-based browsers carry a
//! `Chrome/` token and nearly everything carries `Safari/`, so the specific tokens (`Edg/`,
//! `OPR/`, `SamsungBrowser/` ...) are looked for before the generic ones.
//!
//! Accuracy against uap-core's test corpus is measured by `tests/tests/corpora.rs` and
//! reported in `docs/user-agent.md`.

use serde::{Deserialize, Serialize};

/// Only the first this-many bytes of a user agent are looked at. Real browser UAs are
/// 100 to 300 bytes and the longest in uap-core's corpus is about 500; looking no further
/// bounds the work a hostile page or client can cause, whatever it sends.
pub const MAX_UA_BYTES: usize = 512;

/// Client hints beyond this many brands are ignored (browsers send three), for the same reason.
const MAX_BRANDS: usize = 16;

/// Highest browser major version accepted: no browser is near it, and a bigger number is junk
/// (or someone smuggling an identifier through the version field).
const MAX_MAJOR: u16 = 999;

/// A well-known browser family. Anything else is [`Browser::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Browser {
    /// Google Chrome, on every platform (including Chrome on iOS and Android WebView).
    Chrome,
    /// Microsoft Edge, Chromium-based or legacy EdgeHTML.
    Edge,
    /// Mozilla Firefox, on every platform (including Firefox on iOS).
    Firefox,
    /// Apple Safari, desktop and mobile.
    Safari,
    /// Opera, Opera GX, Opera Mini and Opera Touch.
    Opera,
    /// Samsung Internet.
    #[serde(rename = "Samsung Internet")]
    SamsungInternet,
    /// Brave: its UA is usually plain Chrome, so mostly recognised through client hints.
    Brave,
    /// Vivaldi, when it shows its token.
    Vivaldi,
    /// Yandex Browser.
    Yandex,
    /// UC Browser.
    #[serde(rename = "UC Browser")]
    UcBrowser,
    /// Internet Explorer, desktop and mobile.
    #[serde(rename = "Internet Explorer")]
    InternetExplorer,
    /// Chromium itself, or a Chromium derivative that calls itself only "Chromium" in its
    /// client hints.
    Chromium,
    /// Anything else, and anything unrecognised.
    Other,
}

/// An operating system family. Versions are never recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Os {
    /// Microsoft Windows (desktop; Windows Phone is `Other`).
    Windows,
    /// Apple macOS, including iPads that ask for the desktop site (their UA is a Mac's).
    #[serde(rename = "macOS")]
    MacOs,
    /// Apple iOS and iPadOS: one family, as in uap-core; the device class tells iPads apart.
    #[serde(rename = "iOS")]
    Ios,
    /// Android, including Fire OS.
    Android,
    /// Desktop Linux of any distribution.
    Linux,
    /// ChromeOS.
    #[serde(rename = "ChromeOS")]
    ChromeOs,
    /// Anything else, and anything unrecognised.
    Other,
}

/// A coarse device class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// Desktop or laptop computer.
    Desktop,
    /// Phone.
    Mobile,
    /// Tablet.
    Tablet,
    /// Crawler, bot, headless browser or HTTP library.
    Bot,
    /// Anything else (TV, console) and anything unrecognised.
    Other,
}

/// What survives of a user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReducedUa {
    /// Browser family.
    pub browser: Browser,
    /// Browser major version, when known; always `None` for [`Browser::Other`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_major: Option<u16>,
    /// Operating system family.
    pub os: Os,
    /// Device class.
    pub device: Device,
}

impl ReducedUa {
    /// The fixed-point check used by the collector: true iff this value could be an output of
    /// [`reduce`]. The families are closed enums (serde already rejects unknown names), so what
    /// is left to check is the version: none for [`Browser::Other`], and within
    /// `1..=999` otherwise (a wider number could carry an identifier).
    pub fn is_canonical(&self) -> bool {
        match (self.browser, self.browser_major) {
            (_, None) => true,
            (Browser::Other, Some(_)) => false,
            (_, Some(major)) => (1..=MAX_MAJOR).contains(&major),
        }
    }
}

/// User-Agent Client Hints as the browser reports them (`navigator.userAgentData`: brands,
/// mobile, platform).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ClientHints {
    /// The brand list, GREASE entries included (they are ignored here).
    #[serde(default)]
    pub brands: Vec<Brand>,
    /// Whether the browser says it runs on a mobile device.
    #[serde(default)]
    pub mobile: Option<bool>,
    /// The platform name, such as "Windows", "macOS", "Android" or "Chrome OS".
    #[serde(default)]
    pub platform: Option<String>,
}

/// One entry of the client hints brand list.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Brand {
    /// Brand name, such as "Google Chrome", "Chromium" or a GREASE value like "Not A(Brand".
    pub brand: String,
    /// Version: the major ("124") in the low-entropy list, a full version in `fullVersionList`.
    pub version: String,
}

/// Reduces a user agent and optional client hints to a [`ReducedUa`].
///
/// Client hints, where they name a recognisable brand, decide the browser family and major;
/// their `platform` decides the OS family and `mobile` the device class. Whatever the hints do
/// not give comes from the UA string. Bots are recognised from the UA string (or a
/// `HeadlessChrome` brand) and stay bots whatever the hints say. Never panics; looks at no more
/// than [`MAX_UA_BYTES`] bytes of the UA string.
pub fn reduce(user_agent: Option<&str>, hints: Option<&ClientHints>) -> ReducedUa {
    let ua = Ua::new(user_agent.unwrap_or(""));
    let parsed = ua.parse();
    let Some(hints) = hints else {
        return ReducedUa {
            browser: parsed.browser,
            browser_major: parsed.major,
            os: parsed.os.unwrap_or(Os::Other),
            device: parsed.device.resolve(parsed.os),
        };
    };

    let from_brands = brands_browser(&hints.brands);
    let (browser, major) = match from_brands {
        BrandGuess::Known(browser, major) => (browser, major),
        // Google Chrome always lists "Google Chrome"; a brand list with only "Chromium" is
        // another Chromium browser. Trust the UA if it names one, else call it Chromium.
        BrandGuess::OnlyChromium(major) => match parsed.browser {
            Browser::Chrome | Browser::Chromium | Browser::Other => (Browser::Chromium, major),
            named => (named, parsed.major),
        },
        BrandGuess::Unknown => (Browser::Other, None),
        BrandGuess::Nothing => (parsed.browser, parsed.major),
    };
    let headless = matches!(from_brands, BrandGuess::Known(_, _)) && hints_are_headless(hints);

    let os = hints
        .platform
        .as_deref()
        .and_then(os_from_platform)
        .or(parsed.os);

    let device = match (parsed.device, hints.mobile) {
        _ if headless => Device::Bot,
        // What the UA string says for certain (a bot, a TV) outranks a self-reported flag.
        (DeviceGuess::Known(Device::Bot | Device::Other), _) => parsed.device.resolve(os),
        (_, Some(true)) => Device::Mobile,
        // Android tablets report mobile=false, as do desktops.
        (_, Some(false)) => match os {
            Some(Os::Android | Os::Ios) => Device::Tablet,
            Some(Os::Windows | Os::MacOs | Os::Linux | Os::ChromeOs) => Device::Desktop,
            Some(Os::Other) | None => parsed.device.resolve(os),
        },
        (guess, None) => guess.resolve(os),
    };

    ReducedUa {
        browser,
        browser_major: if browser == Browser::Other {
            None
        } else {
            major
        },
        os: os.unwrap_or(Os::Other),
        device,
    }
}

/// What the brand list says about the browser.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BrandGuess {
    /// A specific, well-known brand (or "Chromium" alongside a brand we know).
    Known(Browser, Option<u16>),
    /// Only "Chromium" (and GREASE).
    OnlyChromium(Option<u16>),
    /// "Chromium" plus a brand that is not one of ours: a niche Chromium derivative.
    Unknown,
    /// Nothing usable: no brands, or only GREASE.
    Nothing,
}

/// Brand names (exact, as browsers send them) mapped to families.
const BRANDS: &[(&str, Browser)] = &[
    ("Google Chrome", Browser::Chrome),
    ("HeadlessChrome", Browser::Chrome),
    // Android WebView is reported as Chrome, consistently with its UA string.
    ("Android WebView", Browser::Chrome),
    ("Microsoft Edge", Browser::Edge),
    ("Opera", Browser::Opera),
    ("Opera GX", Browser::Opera),
    ("Brave", Browser::Brave),
    ("Vivaldi", Browser::Vivaldi),
    ("Yandex", Browser::Yandex),
    ("YaBrowser", Browser::Yandex),
    ("Samsung Internet", Browser::SamsungInternet),
];

fn brands_browser(brands: &[Brand]) -> BrandGuess {
    let mut chromium = None;
    let mut unknown = false;
    for b in brands.iter().take(MAX_BRANDS) {
        let name = b.brand.trim();
        if is_grease(name) {
            continue;
        }
        let major = parse_major(b.version.as_bytes());
        if let Some((_, browser)) = BRANDS.iter().find(|(n, _)| *n == name) {
            return BrandGuess::Known(*browser, major);
        }
        if name == "Chromium" {
            chromium = Some(major);
        } else {
            unknown = true;
        }
    }
    match (chromium, unknown) {
        (_, true) => BrandGuess::Unknown,
        (Some(major), false) => BrandGuess::OnlyChromium(major),
        (None, false) => BrandGuess::Nothing,
    }
}

fn hints_are_headless(hints: &ClientHints) -> bool {
    hints
        .brands
        .iter()
        .take(MAX_BRANDS)
        .any(|b| b.brand.trim() == "HeadlessChrome")
}

/// GREASE brands ("Not A(Brand", "Not/A)Brand", ";Not A Brand", "Not_A Brand" ...) exist to
/// keep parsers from matching exact lists; all of them contain "Not" and "Brand".
fn is_grease(name: &str) -> bool {
    let b = name.as_bytes();
    contains_ci(b, b"not") && contains_ci(b, b"brand")
}

fn os_from_platform(platform: &str) -> Option<Os> {
    match platform.trim() {
        "Windows" => Some(Os::Windows),
        "macOS" | "Mac OS X" => Some(Os::MacOs),
        "iOS" | "iPadOS" => Some(Os::Ios),
        "Android" => Some(Os::Android),
        "Chrome OS" | "ChromeOS" | "Chromium OS" => Some(Os::ChromeOs),
        "Linux" => Some(Os::Linux),
        // "", "Unknown" or anything new: let the UA string decide.
        _ => None,
    }
}

/// The device class as far as the UA string tells it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DeviceGuess {
    /// The UA string says so.
    Known(Device),
    /// The UA string does not say; the OS family may.
    Unknown,
}

impl DeviceGuess {
    fn resolve(self, os: Option<Os>) -> Device {
        match (self, os) {
            (DeviceGuess::Known(d), _) => d,
            (DeviceGuess::Unknown, Some(Os::Windows | Os::MacOs | Os::Linux | Os::ChromeOs)) => {
                Device::Desktop
            }
            // An Android UA that says nothing about being a phone is a tablet by convention
            // (Chrome and Firefox put "Mobile" in phone UAs only).
            (DeviceGuess::Unknown, Some(Os::Android)) => Device::Tablet,
            // iOS with a Mac's string (only the CriOS-style tokens tell): an iPad, which asks
            // for the desktop site by default.
            (DeviceGuess::Unknown, Some(Os::Ios)) => Device::Tablet,
            (DeviceGuess::Unknown, _) => Device::Other,
        }
    }
}

/// What the UA string says.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Parsed {
    browser: Browser,
    major: Option<u16>,
    os: Option<Os>,
    device: DeviceGuess,
}

/// A UA string, capped at [`MAX_UA_BYTES`]. Matching is on bytes: every token that matters is
/// ASCII, and a cut in the middle of a UTF-8 sequence then cannot panic.
struct Ua<'a>(&'a [u8]);

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
    fn new(s: &'a str) -> Self {
        let b = s.as_bytes();
        Ua(&b[..b.len().min(MAX_UA_BYTES)])
    }

    fn has(&self, pat: &[u8]) -> bool {
        find(self.0, pat).is_some()
    }

    fn has_any(&self, pats: &[&[u8]]) -> bool {
        pats.iter().any(|p| self.has(p))
    }

    /// The major version after `token` (such as `b"Chrome/"`) where `token` starts a word, so
    /// that `Chrome/` does not match inside `HeadlessChrome/`. `None` if the token is absent;
    /// `Some(None)` if it is present with an unusable version.
    fn token_major(&self, token: &[u8]) -> Option<Option<u16>> {
        let mut from = 0;
        while let Some(i) = find(&self.0[from..], token) {
            let start = from + i;
            let at_word_start = start == 0 || !self.0[start - 1].is_ascii_alphanumeric();
            if at_word_start {
                return Some(parse_major(&self.0[start + token.len()..]));
            }
            from = start + 1;
        }
        None
    }

    /// A word ending in "bot" (Googlebot, bingbot, AhrefsBot, "bot/1.0"), but not the phone
    /// brand Cubot.
    fn has_bot_word(&self) -> bool {
        let s = self.0;
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
            || BOT_MARKERS.iter().any(|m| contains_ci(self.0, m))
            || TOOL_PREFIXES.iter().any(|p| {
                self.0
                    .get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p))
            })
    }

    /// True if every product token outside comments is one a plain browser string carries.
    fn only_plain_tokens(&self) -> bool {
        product_names(self.0).all(|name| PLAIN_TOKENS.contains(&name))
    }

    fn parse(&self) -> Parsed {
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
        if bot || self.0.is_empty() {
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
        if matches!(self.0.trim_ascii_end().last(), Some(b')' | b']')) {
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
    std::iter::from_fn(move || {
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
fn parse_major(s: &[u8]) -> Option<u16> {
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
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn contains_ci(haystack: &[u8], needle: &[u8]) -> bool {
    find_ci(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const fn r(browser: Browser, major: Option<u16>, os: Os, device: Device) -> ReducedUa {
        ReducedUa {
            browser,
            browser_major: major,
            os,
            device,
        }
    }

    fn check(cases: &[(&str, ReducedUa)]) {
        for (ua, want) in cases {
            assert_eq!(reduce(Some(ua), None), *want, "for {ua:?}");
        }
    }

    fn hints(brands: &[(&str, &str)], mobile: Option<bool>, platform: Option<&str>) -> ClientHints {
        ClientHints {
            brands: brands
                .iter()
                .map(|(b, v)| Brand {
                    brand: (*b).to_owned(),
                    version: (*v).to_owned(),
                })
                .collect(),
            mobile,
            platform: platform.map(str::to_owned),
        }
    }

    use Browser as B;
    use Device as D;

    const REDUCED_CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";

    #[test]
    fn desktop_browsers_yield_family_major_and_os() {
        check(&[
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                r(B::Chrome, Some(124), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                r(B::Chrome, Some(124), Os::MacOs, D::Desktop),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                r(B::Chrome, Some(124), Os::Linux, D::Desktop),
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                r(B::Chrome, Some(124), Os::ChromeOs, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
                r(B::Edge, Some(124), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
                r(B::Edge, Some(124), Os::MacOs, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582",
                r(B::Edge, Some(18), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
                r(B::Firefox, Some(125), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
                r(B::Firefox, Some(125), Os::MacOs, D::Desktop),
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                r(B::Firefox, Some(125), Os::Linux, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
                r(B::Safari, Some(17), Os::MacOs, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0",
                r(B::Opera, Some(109), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
                r(B::Opera, Some(110), Os::MacOs, D::Desktop),
            ),
            (
                "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18",
                r(B::Opera, Some(12), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
                r(B::Yandex, Some(24), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21",
                r(B::Vivaldi, Some(6), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/79.0.3945.79 Chrome/79.0.3945.79 Safari/537.36",
                r(B::Chromium, Some(79), Os::Linux, D::Desktop),
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/79.0.3945.79 Chrome/79.0.3945.79 Safari/537.36",
                r(B::Chromium, Some(79), Os::Linux, D::Desktop),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
                r(B::InternetExplorer, Some(11), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)",
                r(B::InternetExplorer, Some(10), Os::Windows, D::Desktop),
            ),
            (
                "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; Tablet PC 2.0)",
                r(B::InternetExplorer, Some(8), Os::Windows, D::Desktop),
            ),
        ]);
    }

    #[test]
    fn apple_mobile_browsers_yield_ios_and_device_class() {
        check(&[
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
                r(B::Safari, Some(17), Os::Ios, D::Mobile),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                r(B::Safari, Some(17), Os::Ios, D::Tablet),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                r(B::Chrome, Some(124), Os::Ios, D::Mobile),
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                r(B::Chrome, Some(124), Os::Ios, D::Tablet),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
                r(B::Firefox, Some(125), Os::Ios, D::Mobile),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.71 Mobile/15E148 Safari/605.1.15",
                r(B::Edge, Some(124), Os::Ios, D::Mobile),
            ),
            // An in-app web view has no Version/ token: not Safari.
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
                r(B::Other, None, Os::Ios, D::Mobile),
            ),
            // An in-app browser that adds its own token is not Safari either.
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.40.104]",
                r(B::Other, None, Os::Ios, D::Mobile),
            ),
            // iPadOS asking for the desktop site is indistinguishable from a Mac.
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                r(B::Safari, Some(17), Os::MacOs, D::Desktop),
            ),
        ]);
    }

    #[test]
    fn reduced_android_ua_yields_no_model() {
        let got = reduce(Some(REDUCED_CHROME_ANDROID), None);
        assert_eq!(got, r(B::Chrome, Some(124), Os::Android, D::Mobile));
        // Nothing of the version or model can be in the serialized form.
        let json = serde_json::to_string(&got).expect("serializes");
        assert_eq!(
            json,
            r#"{"browser":"Chrome","browser_major":124,"os":"Android","device":"mobile"}"#
        );
    }

    #[test]
    fn android_browsers_yield_family_and_phone_or_tablet() {
        check(&[
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                r(B::SamsungInternet, Some(24), Os::Android, D::Mobile),
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36",
                r(B::SamsungInternet, Some(24), Os::Android, D::Tablet),
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
                r(B::Chrome, Some(124), Os::Android, D::Tablet),
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
                r(B::Chrome, Some(124), Os::Android, D::Mobile),
            ),
            (
                "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
                r(B::Firefox, Some(125), Os::Android, D::Mobile),
            ),
            (
                "Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
                r(B::Firefox, Some(125), Os::Android, D::Tablet),
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.0.0",
                r(B::Edge, Some(124), Os::Android, D::Mobile),
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 OPR/81.0.0.0",
                r(B::Opera, Some(81), Os::Android, D::Mobile),
            ),
            (
                "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX1911 Build/QKQ1.200209.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
                r(B::UcBrowser, Some(13), Os::Android, D::Mobile),
            ),
            // The pre-Chrome Android browser looks like Safari but is not.
            (
                "Mozilla/5.0 (Linux; U; Android 4.0.3; de-de; Galaxy S II Build/GRJ22) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
                r(B::Other, None, Os::Android, D::Mobile),
            ),
            // A Chromium derivative with its own token is not Chrome.
            (
                "Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Whale/3.24.1.1 Mobile Safari/537.36",
                r(B::Other, None, Os::Android, D::Mobile),
            ),
            // The phone brand Cubot is not a bot.
            (
                "Mozilla/5.0 (Linux; Android 9; CUBOT_X20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
                r(B::Chrome, Some(124), Os::Android, D::Mobile),
            ),
        ]);
    }

    #[test]
    fn bots_and_tools_yield_device_bot() {
        check(&[
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                r(B::Other, None, Os::Other, D::Bot),
            ),
            (
                "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                r(B::Other, None, Os::Android, D::Bot),
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                r(B::Other, None, Os::Other, D::Bot),
            ),
            (
                "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
                r(B::Other, None, Os::Other, D::Bot),
            ),
            (
                "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
                r(B::Other, None, Os::Other, D::Bot),
            ),
            (
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                r(B::Other, None, Os::Other, D::Bot),
            ),
            ("curl/8.5.0", r(B::Other, None, Os::Other, D::Bot)),
            (
                "python-requests/2.31.0",
                r(B::Other, None, Os::Other, D::Bot),
            ),
            ("Wget/1.21.4", r(B::Other, None, Os::Other, D::Bot)),
            ("Go-http-client/2.0", r(B::Other, None, Os::Other, D::Bot)),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36",
                r(B::Chrome, Some(124), Os::Linux, D::Bot),
            ),
        ]);
    }

    #[test]
    fn empty_or_junk_ua_yields_other() {
        let nothing = r(B::Other, None, Os::Other, D::Other);
        check(&[
            ("", nothing),
            ("-", nothing),
            ("Mozilla/5.0", nothing),
            (
                "Chrome/99999999999",
                r(B::Chrome, None, Os::Other, D::Other),
            ),
        ]);
        assert_eq!(reduce(None, None), nothing);
    }

    #[test]
    fn tvs_and_consoles_yield_device_other() {
        check(&[
            (
                "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
                r(B::SamsungInternet, Some(4), Os::Other, D::Other),
            ),
            (
                "Mozilla/5.0 (Linux; Android 9; AFTKA Build/PS7633.3445N; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36",
                r(B::Chrome, Some(120), Os::Android, D::Other),
            ),
        ]);
    }

    #[test]
    fn brave_is_recognised_through_hints() {
        let h = hints(
            &[("Chromium", "124"), ("Brave", "124"), ("Not-A.Brand", "99")],
            Some(false),
            Some("Windows"),
        );
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        assert_eq!(
            reduce(Some(ua), Some(&h)),
            r(B::Brave, Some(124), Os::Windows, D::Desktop)
        );
        // Without hints the same string is Chrome: Brave hides in its UA.
        assert_eq!(reduce(Some(ua), None).browser, B::Chrome);
    }

    #[test]
    fn grease_brands_are_ignored() {
        for grease in [
            "Not A(Brand",
            "Not/A)Brand",
            ";Not A Brand",
            " Not;A Brand",
            "Not_A Brand",
            "Not)A;Brand",
        ] {
            let h = hints(
                &[
                    (grease, "99"),
                    ("Google Chrome", "124"),
                    ("Chromium", "124"),
                ],
                Some(false),
                Some("macOS"),
            );
            assert_eq!(
                reduce(None, Some(&h)),
                r(B::Chrome, Some(124), Os::MacOs, D::Desktop),
                "{grease}"
            );
            // Put first and alone, GREASE gives nothing and the UA string decides.
            let only = hints(&[(grease, "8")], None, None);
            assert_eq!(
                reduce(Some(REDUCED_CHROME_ANDROID), Some(&only)),
                r(B::Chrome, Some(124), Os::Android, D::Mobile),
                "{grease}"
            );
        }
    }

    #[test]
    fn hints_override_a_reduced_ua() {
        // Edge on an Android tablet: the brand decides the family, mobile=false the class.
        let h = hints(
            &[
                ("Microsoft Edge", "125"),
                ("Not-A.Brand", "99"),
                ("Chromium", "125"),
            ],
            Some(false),
            Some("Android"),
        );
        assert_eq!(
            reduce(Some(REDUCED_CHROME_ANDROID), Some(&h)),
            r(B::Edge, Some(125), Os::Android, D::Tablet)
        );
        // The platform decides the OS even when the UA says otherwise.
        let h = hints(&[("Google Chrome", "124")], Some(false), Some("Chrome OS"));
        let linux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        assert_eq!(
            reduce(Some(linux), Some(&h)),
            r(B::Chrome, Some(124), Os::ChromeOs, D::Desktop)
        );
    }

    #[test]
    fn hints_fill_in_what_the_ua_lacks() {
        let h = hints(
            &[("Opera", "110"), ("Chromium", "124")],
            Some(true),
            Some("Android"),
        );
        assert_eq!(
            reduce(None, Some(&h)),
            r(B::Opera, Some(110), Os::Android, D::Mobile)
        );
        // Unknown platform: the UA string decides.
        let h = hints(&[("Google Chrome", "124")], None, Some(""));
        assert_eq!(
            reduce(Some(REDUCED_CHROME_ANDROID), Some(&h)),
            r(B::Chrome, Some(124), Os::Android, D::Mobile)
        );
        // Full versions from fullVersionList give the same major.
        let h = hints(
            &[("Google Chrome", "124.0.6367.91")],
            Some(false),
            Some("Linux"),
        );
        assert_eq!(
            reduce(None, Some(&h)),
            r(B::Chrome, Some(124), Os::Linux, D::Desktop)
        );
    }

    #[test]
    fn chromium_only_hints_are_not_chrome() {
        let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
        let h = hints(
            &[("Chromium", "124"), ("Not-A.Brand", "99")],
            Some(false),
            Some("Windows"),
        );
        assert_eq!(reduce(Some(ua), Some(&h)).browser, B::Chromium);
        // ... unless the UA names a browser of ours.
        let vivaldi = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Vivaldi/6.7.3329.21";
        assert_eq!(
            reduce(Some(vivaldi), Some(&h)),
            r(B::Vivaldi, Some(6), Os::Windows, D::Desktop)
        );
        // A brand we do not know is a niche Chromium browser: Other.
        let h = hints(
            &[("Whale", "3"), ("Chromium", "124")],
            Some(false),
            Some("Windows"),
        );
        assert_eq!(
            reduce(Some(ua), Some(&h)),
            r(B::Other, None, Os::Windows, D::Desktop)
        );
    }

    #[test]
    fn bots_stay_bots_whatever_the_hints_say() {
        let h = hints(&[("Google Chrome", "124")], Some(true), Some("Android"));
        assert_eq!(reduce(Some("curl/8.5.0"), Some(&h)).device, D::Bot);
        let headless = hints(
            &[("HeadlessChrome", "124"), ("Chromium", "124")],
            Some(false),
            Some("Linux"),
        );
        assert_eq!(
            reduce(None, Some(&headless)),
            r(B::Chrome, Some(124), Os::Linux, D::Bot)
        );
    }

    #[test]
    fn serde_names_are_stable_and_unknown_names_rejected() {
        let v = r(B::SamsungInternet, None, Os::MacOs, D::Tablet);
        let json = serde_json::to_string(&v).expect("serializes");
        assert_eq!(
            json,
            r#"{"browser":"Samsung Internet","os":"macOS","device":"tablet"}"#
        );
        assert_eq!(
            serde_json::from_str::<ReducedUa>(&json).expect("round trip"),
            v
        );
        for bad in [
            r#"{"browser":"Netscape","os":"macOS","device":"tablet"}"#,
            r#"{"browser":"Chrome","os":"Mac OS X","device":"tablet"}"#,
            r#"{"browser":"Chrome","os":"macOS","device":"Tablet"}"#,
            r#"{"browser":"Chrome","os":"macOS","device":"tablet","model":"SM-G991B"}"#,
        ] {
            assert!(serde_json::from_str::<ReducedUa>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn is_canonical_rejects_impossible_versions() {
        assert!(r(B::Chrome, Some(124), Os::Windows, D::Desktop).is_canonical());
        assert!(r(B::Other, None, Os::Other, D::Other).is_canonical());
        assert!(!r(B::Other, Some(1), Os::Other, D::Other).is_canonical());
        assert!(!r(B::Chrome, Some(0), Os::Other, D::Other).is_canonical());
        assert!(!r(B::Chrome, Some(1000), Os::Other, D::Other).is_canonical());
    }

    #[test]
    fn only_the_first_bytes_are_looked_at() {
        let padded = format!("{} Chrome/124.0", "x".repeat(MAX_UA_BYTES));
        assert_eq!(reduce(Some(&padded), None).browser, B::Other);
    }

    fn arb_hints() -> impl Strategy<Value = ClientHints> {
        let brand = prop_oneof![
            Just("Google Chrome".to_owned()),
            Just("Chromium".to_owned()),
            Just("Brave".to_owned()),
            Just("Not A(Brand".to_owned()),
            ".{0,20}",
        ];
        let version = prop_oneof![
            Just("124".to_owned()),
            Just("0".to_owned()),
            Just("65536".to_owned()),
            ".{0,12}"
        ];
        (
            prop::collection::vec(
                (brand, version).prop_map(|(brand, version)| Brand { brand, version }),
                0..5,
            ),
            any::<Option<bool>>(),
            prop::option::of(prop_oneof![
                Just("Android".to_owned()),
                Just("macOS".to_owned()),
                ".{0,10}"
            ]),
        )
            .prop_map(|(brands, mobile, platform)| ClientHints {
                brands,
                mobile,
                platform,
            })
    }

    fn arb_ua() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("Mozilla/5.0 ".to_owned()),
            Just("(Linux; Android 10; K) ".to_owned()),
            Just("(iPad; CPU OS 17_4 like Mac OS X) ".to_owned()),
            Just("Chrome/".to_owned()),
            Just("Version/".to_owned()),
            Just("Safari/604.1 ".to_owned()),
            Just("Edg/".to_owned()),
            Just("MSIE ".to_owned()),
            Just("Trident/7.0; rv:".to_owned()),
            Just("bot".to_owned()),
            "[0-9]{0,8}",
            "\\PC{0,40}",
        ];
        prop_oneof![
            prop::collection::vec(piece, 0..12).prop_map(|v| v.concat()),
            "\\PC{0,2000}",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn reduce_never_panics_and_is_canonical(ua in arb_ua(), h in prop::option::of(arb_hints())) {
            let out = reduce(Some(&ua), h.as_ref());
            prop_assert!(out.is_canonical(), "{out:?}");
            // The serialized form round-trips, so the collector can re-check it.
            let json = serde_json::to_string(&out).expect("serializes");
            prop_assert_eq!(serde_json::from_str::<ReducedUa>(&json).expect("parses"), out);
        }
    }
}

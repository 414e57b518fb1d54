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

mod string;
#[cfg(test)]
mod tests;

use crate::prelude::*;
use serde::{Deserialize, Serialize};
use string::{Ua, contains_ci, parse_major};

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

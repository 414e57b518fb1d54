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

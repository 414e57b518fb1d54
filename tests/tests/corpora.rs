//! Held-out corpora: how well the user-agent reduction agrees with uap-core's hand-checked test
//! cases, the de-facto reference of the UA-parsing world.
//!
//! uap-core ships inside the `ua-parser` crate (a dev-dependency pinned with `=` so that the
//! figures in `docs/user-agent.md` stay reproducible); the test finds the crate's sources with
//! `cargo metadata`, falling back to `$CARGO_HOME/registry/src`, and FAILS if it cannot: a
//! corpus test that silently skips protects nothing.
//!
//! uap's families are finer than Sieve's, so each is mapped onto a Sieve family (anything
//! without one is `Other`), and the floors below are the measured figures minus a small
//! margin: a change to `transform/ua.rs` that loses accuracy fails here.
//!
//! Regenerate the figures with `cargo test -p sieve-tests --test corpora -- --nocapture`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;
use sieve_core::transform::ua::{Browser, Device, Os, reduce};

/// Must match the `=` pin of `ua-parser` in `tests/Cargo.toml`.
const UA_PARSER_VERSION: &str = "0.2.2";

// Floors: the figures measured with ua-parser 0.2.2 (uap-core 0.18.0, see docs/user-agent.md),
// less one to three cases' worth, so that losing a few cases fails the test.
const FLOOR_BROWSER_FAMILY: f64 = 0.97; // measured 1431/1460 = 98.0%
const FLOOR_BROWSER_FAMILY_MAJOR: f64 = 0.96; // measured 1420/1460 = 97.3%
const FLOOR_KNOWN_BROWSER_FAMILY: f64 = 0.89; // measured 112/123 = 91.1%
const FLOOR_OS_FAMILY: f64 = 0.93; // measured 441/468 = 94.2%
const FLOOR_BOT_RECALL: f64 = 0.80; // measured 58/70 = 82.9%
const FLOOR_BOT_PRECISION: f64 = 0.86; // measured 58/65 = 89.2%

/// Sieve's browser family for a uap-core `family`.
fn sieve_browser(uap: &str) -> Browser {
    match uap {
        "Chrome"
        | "Chrome Mobile"
        | "Chrome Mobile iOS"
        | "Chrome Mobile WebView"
        | "HeadlessChrome" => Browser::Chrome,
        "Edge" | "Edge Mobile" => Browser::Edge,
        // Pre-release builds ("Firefox Beta", "Firefox (Shiretoko)") and mobile ones.
        f if f.starts_with("Firefox") => Browser::Firefox,
        "Safari" | "Mobile Safari" => Browser::Safari,
        "Opera" | "Opera Mini" | "Opera Mobile" | "Opera Tablet" | "Opera Touch" => Browser::Opera,
        "Samsung Internet" => Browser::SamsungInternet,
        "Brave" => Browser::Brave,
        "Vivaldi" => Browser::Vivaldi,
        "Yandex Browser" => Browser::Yandex,
        "UC Browser" => Browser::UcBrowser,
        "IE" | "IE Mobile" | "IE Large Screen" => Browser::InternetExplorer,
        "Chromium" => Browser::Chromium,
        _ => Browser::Other,
    }
}

/// Sieve's OS family for a uap-core OS `family`.
fn sieve_os(uap: &str) -> Os {
    match uap {
        "Windows" => Os::Windows,
        "Mac OS X" => Os::MacOs,
        "iOS" => Os::Ios,
        "Android" => Os::Android,
        "Chrome OS" => Os::ChromeOs,
        // uap names some distributions; Sieve keeps the family only.
        "Linux" | "Ubuntu" | "Kubuntu" | "Fedora" | "Debian" | "Gentoo" | "Red Hat"
        | "Mandriva" | "Slackware" | "SUSE" | "Linux Mint" | "Arch Linux" | "CentOS" => Os::Linux,
        _ => Os::Other,
    }
}

#[test]
fn ua_reduction_meets_accuracy_floors_on_uap_core() {
    let dir = uap_core_dir();
    let ua_cases = test_cases(&dir.join("tests/test_ua.yaml"));
    let os_cases = test_cases(&dir.join("tests/test_os.yaml"));
    let device_cases = test_cases(&dir.join("tests/test_device.yaml"));

    let mut family = Score::default();
    let mut family_major = Score::default();
    let mut known_family = Score::default();
    let mut misses = Vec::new();
    for case in &ua_cases {
        let ua = field(case, "user_agent_string");
        let want = sieve_browser(field(case, "family"));
        let want_major = if want == Browser::Other {
            None
        } else {
            field(case, "major").parse::<u16>().ok()
        };
        let got = reduce(Some(ua), None);
        family.add(got.browser == want);
        family_major.add(got.browser == want && got.browser_major == want_major);
        if want != Browser::Other {
            known_family.add(got.browser == want);
        }
        if got.browser != want {
            misses.push(format!(
                "browser {:?} want {want:?} ({}): {ua}",
                got.browser,
                field(case, "family")
            ));
        }
    }

    let mut os = Score::default();
    for case in &os_cases {
        let ua = field(case, "user_agent_string");
        let want = sieve_os(field(case, "family"));
        let got = reduce(Some(ua), None).os;
        os.add(got == want);
        if got != want {
            misses.push(format!(
                "os {got:?} want {want:?} ({}): {ua}",
                field(case, "family")
            ));
        }
    }

    // uap-core calls every automated client's device "Spider".
    let (mut bot_recall, mut bot_precision) = (Score::default(), Score::default());
    for case in &device_cases {
        let ua = field(case, "user_agent_string");
        let want_bot = field(case, "family") == "Spider";
        let got_bot = reduce(Some(ua), None).device == Device::Bot;
        if want_bot {
            bot_recall.add(got_bot);
        }
        if got_bot {
            bot_precision.add(want_bot);
        }
        if want_bot != got_bot {
            misses.push(format!("bot {got_bot} want {want_bot}: {ua}"));
        }
    }

    if std::env::var_os("SIEVE_UA_MISSES").is_some() {
        for miss in &misses {
            println!("miss: {miss}");
        }
    }
    println!("corpus: ua-parser {UA_PARSER_VERSION}, {}", dir.display());
    println!("| measure | cases | correct | accuracy |");
    println!("|---|---:|---:|---:|");
    let rows = [
        (
            "browser family (test_ua.yaml)",
            &family,
            FLOOR_BROWSER_FAMILY,
        ),
        (
            "browser family + major (test_ua.yaml)",
            &family_major,
            FLOOR_BROWSER_FAMILY_MAJOR,
        ),
        (
            "browser family, cases with a Sieve family (test_ua.yaml)",
            &known_family,
            FLOOR_KNOWN_BROWSER_FAMILY,
        ),
        ("OS family (test_os.yaml)", &os, FLOOR_OS_FAMILY),
        (
            "bot recall (test_device.yaml, family Spider)",
            &bot_recall,
            FLOOR_BOT_RECALL,
        ),
        (
            "bot precision (test_device.yaml)",
            &bot_precision,
            FLOOR_BOT_PRECISION,
        ),
    ];
    for (name, score, _) in &rows {
        println!(
            "| {name} | {} | {} | {:.1}% |",
            score.total,
            score.correct,
            100.0 * score.rate()
        );
    }
    // A corpus that shrank to nothing would make every floor meaningless.
    assert!(
        ua_cases.len() > 1000 && os_cases.len() > 400 && device_cases.len() > 10000,
        "uap-core corpus looks truncated"
    );
    for (name, score, floor) in rows {
        assert!(
            score.rate() >= floor,
            "{name}: {:.4} is below the floor {floor}",
            score.rate()
        );
    }
}

#[derive(Debug, Default)]
struct Score {
    correct: usize,
    total: usize,
}

impl Score {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.correct += usize::from(ok);
    }

    fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

fn test_cases(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read uap-core corpus {}: {e}", path.display()));
    let doc: Value = serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    match doc.get("test_cases").and_then(Value::as_sequence) {
        Some(cases) => cases.clone(),
        None => panic!("{} has no test_cases list", path.display()),
    }
}

/// A string field of a test case; absent or null (uap writes `major:` for "none") is "".
fn field<'a>(case: &'a Value, name: &str) -> &'a str {
    case.get(name).and_then(Value::as_str).unwrap_or("")
}

/// The `uap-core` directory inside the `ua-parser` crate's sources.
fn uap_core_dir() -> PathBuf {
    let mut tried = Vec::new();
    match crate_dir_from_metadata() {
        Ok(dir) => {
            let uap = dir.join("uap-core");
            if uap.join("tests/test_ua.yaml").is_file() {
                return uap;
            }
            tried.push(format!(
                "cargo metadata gave {}, which has no uap-core/tests/test_ua.yaml",
                dir.display()
            ));
        }
        Err(e) => tried.push(format!("cargo metadata: {e}")),
    }
    // Fallback: the registry's unpacked sources.
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        let src = home.join("registry/src");
        for registry in std::fs::read_dir(&src).into_iter().flatten().flatten() {
            let uap = registry
                .path()
                .join(format!("ua-parser-{UA_PARSER_VERSION}/uap-core"));
            if uap.join("tests/test_ua.yaml").is_file() {
                return uap;
            }
        }
        tried.push(format!(
            "no ua-parser-{UA_PARSER_VERSION}/uap-core under {}",
            src.display()
        ));
    } else {
        tried.push("neither CARGO_HOME nor HOME is set".to_owned());
    }
    panic!(
        "uap-core test corpus not found (it ships in the ua-parser {UA_PARSER_VERSION} crate, a \
         dev-dependency of sieve-tests; `cargo fetch` downloads it). Tried:\n  {}",
        tried.join("\n  ")
    );
}

fn crate_dir_from_metadata() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .map_err(|e| format!("cannot run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let packages = meta["packages"]
        .as_array()
        .ok_or("no packages in metadata")?;
    let manifest = packages
        .iter()
        .find(|p| p["name"] == "ua-parser" && p["version"] == UA_PARSER_VERSION)
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or(format!(
            "no ua-parser {UA_PARSER_VERSION} package in metadata"
        ))?;
    Path::new(manifest)
        .parent()
        .map(Path::to_path_buf)
        .ok_or(format!("odd manifest path {manifest}"))
}

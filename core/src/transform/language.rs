//! Browser language: the primary language (`en`) by default, or language and region
//! (`en-US`) when the schema asks. Scripts, variants and private-use subtags are dropped: they
//! add fingerprinting entropy and no analytics value.

use crate::prelude::*;
use crate::schema::LanguagePrecision;

/// Reduce a BCP 47 tag to the precision; `None` if it does not start with a language subtag.
pub fn clean_language(raw: &str, precision: LanguagePrecision) -> Option<String> {
    let mut parts = raw.split(['-', '_']);
    let lang = parts.next()?;
    if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let lang = lang.to_ascii_lowercase();
    match precision {
        LanguagePrecision::None => None,
        LanguagePrecision::Language => Some(lang),
        LanguagePrecision::Locale => {
            // The region is the first 2-letter or 3-digit subtag after an optional script.
            let region = parts.take(2).find(|p| {
                (p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
                    || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
            });
            Some(match region {
                Some(r) => format!("{lang}-{}", r.to_ascii_uppercase()),
                None => lang,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LanguagePrecision::{Language, Locale};

    #[test]
    fn language_keeps_the_primary_subtag() {
        for (raw, p, want) in [
            ("en-US", Language, Some("en")),
            ("en-US", Locale, Some("en-US")),
            ("EN_gb", Locale, Some("en-GB")),
            ("zh-Hant-TW", Locale, Some("zh-TW")),
            ("es-419", Locale, Some("es-419")),
            ("de", Locale, Some("de")),
            ("sr-Latn", Locale, Some("sr")),
            ("en-US-x-private", Locale, Some("en-US")),
            ("", Language, None),
            ("e", Language, None),
            ("english", Language, None),
            ("12-US", Language, None),
            ("en-US", LanguagePrecision::None, None),
        ] {
            assert_eq!(clean_language(raw, p).as_deref(), want, "{raw} {p:?}");
        }
    }

    #[test]
    fn cleaning_is_idempotent() {
        for raw in ["en-US", "zh-Hant-TW", "es-419", "fr"] {
            for p in [Language, Locale] {
                let once = clean_language(raw, p).expect("clean");
                assert_eq!(clean_language(&once, p).as_deref(), Some(once.as_str()));
            }
        }
    }
}

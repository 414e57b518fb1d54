//! Why a value did not leave the browser, and what was changed on its way out.
//!
//! Every drop names the field (a dotted path such as `props.plan` or `context.location.city`)
//! and a reason. Reasons never contain the offending value: they end up in debug consoles,
//! collector responses and logs, where a raw email or token must not reappear.

use serde::Serialize;

use crate::prelude::*;
use crate::transform::url::UrlDrop;

/// A value that was not sent, with the field it came from and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drop {
    /// Dotted path of the field, e.g. `props.plan`, `traits.email`, `context.location.city`.
    pub field: String,
    /// Why it was dropped.
    pub reason: DropReason,
}

impl Drop {
    /// A drop of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: DropReason) -> Self {
        Self {
            field: field.into(),
            reason,
        }
    }
}

/// The dotted path of a client-chosen key under `section`. A key that could never be a schema
/// name (snake_case ASCII, at most 64 characters), or in which the text scrubber finds
/// anything (a snake_case API key is a valid name), is shown as `(invalid name)`: a client may
/// use an email or a token as a key, and a reason must not echo it. Ordinary names are kept,
/// because `props.plann: not declared` is what a developer needs to see.
pub fn field_path(section: &str, key: &str) -> String {
    let shown = crate::schema::valid_name(key)
        && crate::transform::text::scrub_capped(key, key.len())
            .findings
            .is_empty();
    let key = if shown { key } else { "(invalid name)" };
    if section.is_empty() {
        key.to_owned()
    } else {
        format!("{section}.{key}")
    }
}

impl core::fmt::Display for Drop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Why a value was dropped. The `Display` text is lowercase and never echoes the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DropReason {
    /// The event name is not declared in the schema: the whole event is dropped.
    UndeclaredEvent,
    /// The property (or trait, or group kind) is not declared in the schema.
    Undeclared,
    /// A field the raw event format does not know.
    UnknownField,
    /// The schema does not capture this context field, or Sieve never captures it
    /// (page title, city, postcode, coordinates, raw IP).
    NotCaptured,
    /// The value has the wrong JSON type.
    WrongType {
        /// What the schema expects, e.g. `integer`, `string`.
        expected: &'static str,
    },
    /// A number outside the declared range.
    OutOfRange,
    /// A string that is not one of the declared enum values.
    NotInEnum,
    /// An empty string or an empty identifier.
    Empty,
    /// The value does not parse as its kind (a URL, a timestamp, a language tag, ...).
    Invalid {
        /// What it should have been, e.g. `rfc 3339 timestamp`.
        expected: &'static str,
    },
    /// A URL that could not be kept.
    Url {
        /// Why.
        #[serde(serialize_with = "display")]
        why: UrlDrop,
    },
    /// An area too small to keep (a small region, a sparse grid cell): the coarser unit is kept.
    SmallArea,
    /// A same-site referrer: it says nothing about where the visitor came from.
    SameSite,
    /// An identifier dropped because the visitor asked not to be tracked (GPC or DNT).
    Anonymous,
    /// A received pseudonym that is not the hex of a keyed hash.
    NotAPseudonym,
    /// A received value that cleaning would change: the sender skipped or altered a transform.
    NotClean,
    /// More properties than the collector accepts in one event.
    TooMany,
}

impl DropReason {
    /// The reason's code: the `reason` tag it serializes with (`undeclared`, `wrong_type`, ...).
    /// The browser SDK counts drops by it; a `&'static str` keeps serde's serializer out of
    /// the wasm build. A test holds it to the serde tag of every variant.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UndeclaredEvent => "undeclared_event",
            Self::Undeclared => "undeclared",
            Self::UnknownField => "unknown_field",
            Self::NotCaptured => "not_captured",
            Self::WrongType { .. } => "wrong_type",
            Self::OutOfRange => "out_of_range",
            Self::NotInEnum => "not_in_enum",
            Self::Empty => "empty",
            Self::Invalid { .. } => "invalid",
            Self::Url { .. } => "url",
            Self::SmallArea => "small_area",
            Self::SameSite => "same_site",
            Self::Anonymous => "anonymous",
            Self::NotAPseudonym => "not_a_pseudonym",
            Self::NotClean => "not_clean",
            Self::TooMany => "too_many",
        }
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UndeclaredEvent => f.write_str("event not declared in the schema"),
            Self::Undeclared => f.write_str("not declared in the schema"),
            Self::UnknownField => f.write_str("unknown field"),
            Self::NotCaptured => f.write_str("not captured"),
            Self::WrongType { expected } => write!(f, "wrong type, expected {expected}"),
            Self::OutOfRange => f.write_str("outside the declared range"),
            Self::NotInEnum => f.write_str("not one of the declared values"),
            Self::Empty => f.write_str("empty"),
            Self::Invalid { expected } => write!(f, "not a valid {expected}"),
            Self::Url { why } => write!(f, "{why}"),
            Self::SmallArea => f.write_str("area too small to keep"),
            Self::SameSite => f.write_str("same-site referrer"),
            Self::Anonymous => f.write_str("identifier not sent: visitor opted out of tracking"),
            Self::NotAPseudonym => f.write_str("not a pseudonym"),
            Self::NotClean => f.write_str("not clean: cleaning it again changes it"),
            Self::TooMany => f.write_str("too many properties"),
        }
    }
}

/// A value that was sent, but changed by a rule on its way (what Sentry Relay calls a remark):
/// an auditor or a developer in debug mode sees which rule touched which field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    /// Dotted path of the field.
    pub field: String,
    /// The rule that changed it: `hashed`, `scrubbed:email`, `truncated`, `bucketed`,
    /// `coarsened`, `placeholder`, ...
    pub rule: String,
}

impl Redaction {
    /// A redaction of `field` by `rule`.
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// Serialize a value by its `Display` text (for reasons that carry a typed cause).
fn display<T: core::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_the_serde_reason_tag() {
        let every = [
            DropReason::UndeclaredEvent,
            DropReason::Undeclared,
            DropReason::UnknownField,
            DropReason::NotCaptured,
            DropReason::WrongType { expected: "string" },
            DropReason::OutOfRange,
            DropReason::NotInEnum,
            DropReason::Empty,
            DropReason::Invalid { expected: "url" },
            DropReason::Url {
                why: UrlDrop::Scheme,
            },
            DropReason::SmallArea,
            DropReason::SameSite,
            DropReason::Anonymous,
            DropReason::NotAPseudonym,
            DropReason::NotClean,
            DropReason::TooMany,
        ];
        for reason in every {
            // A new variant breaks the build here until it is listed above.
            match reason {
                DropReason::UndeclaredEvent
                | DropReason::Undeclared
                | DropReason::UnknownField
                | DropReason::NotCaptured
                | DropReason::WrongType { .. }
                | DropReason::OutOfRange
                | DropReason::NotInEnum
                | DropReason::Empty
                | DropReason::Invalid { .. }
                | DropReason::Url { .. }
                | DropReason::SmallArea
                | DropReason::SameSite
                | DropReason::Anonymous
                | DropReason::NotAPseudonym
                | DropReason::NotClean
                | DropReason::TooMany => {}
            }
            let tagged = serde_json::to_value(&reason).expect("a reason serializes");
            assert_eq!(tagged["reason"], reason.code(), "{reason:?}");
        }
    }
}

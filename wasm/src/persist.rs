//! The opt-in persistent queue: what `export_queue` writes and `import_queue` reads back.
//!
//! Only clean events are ever exported (the queue holds nothing else), so storage never sees
//! a raw event. Storage is still untrusted on the way back: another script on the page, an
//! extension or a user can edit it. Every imported event is therefore re-checked with core's
//! `verify_event`, the collector's own check, and only events that pass are queued; an event
//! that carries an identifier is also refused while the visitor is anonymous, since they may
//! have turned on Global Privacy Control after it was stored.
//!
//! The browser build has `import` only with the `persist` feature: it links `verify_event`,
//! ~5 KiB brotli that a page without `persist` would download for nothing (scripts/build-sdk
//! builds both; the JS wrapper loads the `persist/` build only for `init({ persist: true })`).
//!
//! Not done here: reading or writing storage (the JS wrapper does, and only when the site
//! opts in), and deciding when to persist.

use crate::prelude::*;

/// The queued events as one JSON array.
pub fn export<'a>(events: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, event) in events.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(event);
    }
    out.push(']');
    out
}

// Reading back links core's `verify_event`: in the browser, only the `persist` build has it.
#[cfg(any(feature = "persist", not(target_arch = "wasm32")))]
pub use reading::{Imported, import};

#[cfg(any(feature = "persist", not(target_arch = "wasm32")))]
mod reading {
    use sieve_core::json::BorrowedJson;
    use sieve_core::schema::PropKind;
    use sieve_core::{CleanEvent, Drop, DropReason, Schema, verify_event};

    use crate::prelude::*;

    /// The result of reading a stored queue back.
    #[derive(Debug, Default)]
    pub struct Imported {
        /// Events that passed, as JSON text, oldest first.
        pub events: Vec<String>,
        /// For each refused event, why.
        pub rejected: Vec<Vec<Drop>>,
    }

    /// Read a stored queue: `None` when the text is not a JSON array at all.
    pub fn import(json: &str, schema: &Schema, anonymous: bool) -> Option<Imported> {
        // Read in place, as the `serde_json::Value` of the text would read.
        let Ok(BorrowedJson::Array(items)) = BorrowedJson::parse(json) else {
            return None;
        };
        let mut out = Imported::default();
        for item in &items {
            let event = match verify_event(item, schema) {
                Ok(event) => event,
                Err(rejection) => {
                    out.rejected.push(rejection.reasons);
                    continue;
                }
            };
            if anonymous && carries_identifier(&event, schema) {
                out.rejected
                    .push(vec![Drop::new("event", DropReason::Anonymous)]);
                continue;
            }
            // Re-serialized from the verified event, so what is queued is core's canonical text,
            // not whatever spacing or escaping storage handed back.
            match event.to_json() {
                Some(text) => out.events.push(text),
                None => out.rejected.push(vec![Drop::new(
                    "event",
                    DropReason::Invalid {
                        expected: "clean event",
                    },
                )]),
            }
        }
        Some(out)
    }

    /// Whether a clean event holds any pseudonym: user, group, or an identifier property or trait.
    fn carries_identifier(event: &CleanEvent, schema: &Schema) -> bool {
        let is_id = |def: Option<&sieve_core::schema::PropDef>| {
            def.is_some_and(|d| matches!(d.kind, PropKind::Identifier))
        };
        let props = schema.events.get(event.event()).map(|d| &d.props);
        event.user().is_some()
            || !event.groups().is_empty()
            || event
                .props()
                .keys()
                .any(|k| is_id(props.and_then(|p| p.get(k))))
            || event
                .traits()
                .keys()
                .any(|k| is_id(schema.identity.traits.get(k)))
    }
}

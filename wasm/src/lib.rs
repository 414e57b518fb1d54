//! `sieve-wasm`: the browser SDK's Rust side. It runs `sieve-core` in the page, so nothing
//! leaves the browser before core has cleaned it.
//!
//! This file is the wasm-bindgen surface, the [`Client`] that `wasm/js/sieve.js` wraps
//! (docs/sdk-contract.md): JSON text in, JSON text out, so the boundary stays a handful of
//! strings and numbers and needs neither `js-sys` nor `web-sys`. The logic lives in plain Rust
//! modules that are tested natively:
//! - [`config`]: the `/v1/config` body and the options, validated once.
//! - [`queue`]: the bounded queue of clean events, batching and batches in flight.
//! - [`envelope`]: the wire batch assembled as text around already serialized events.
//! - [`persist`]: the opt-in persistent queue, re-checked on the way back.
//! - [`stats`]: what was dropped and why, counted.
//!
//! Not done here: any browser I/O. The JS wrapper fetches the config, captures context, draws
//! event ids from `crypto.getRandomValues`, sends with `fetch` or `sendBeacon`, retries, and
//! owns every timer and storage call. Nothing here throws into the host page after `new`:
//! bad calls are counted in `stats()` and answered with an outcome or an empty result.
//!
//! On wasm32 the crate is `no_std` (with sieve-core, serde, serde_json and wasm-bindgen, nothing
//! in the build links std), so std's panic runtime (its hook, payloads and message formatting)
//! is not in the download: a panic traps at once, as the `panic = "abort"` build did after
//! printing nothing the page could see, and memory comes from dlmalloc, std's own allocator on
//! this target. Native builds (the tests) use std.
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod config;
pub mod envelope;
pub mod persist;
pub mod queue;
pub mod stats;

use sieve_core::event::{CleanOptions, ContextCache, clean_json_in_context};
use sieve_core::json::push_json_string;
use sieve_core::transform::time::UnixTime;
use sieve_core::{CleanEvent, Drop, DropReason, EventId, Outcome, Redaction, clean_json};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::config::{Config, Options};
use crate::queue::{NoBatch, Queue};
use crate::stats::Counters;

/// What std's prelude gives every module, from `alloc` (the crate is `no_std` on wasm32).
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::string::{String, ToString};
    #[cfg(any(feature = "persist", not(target_arch = "wasm32")))]
    pub(crate) use alloc::vec;
    pub(crate) use alloc::vec::Vec;
}
use crate::prelude::*;

/// A panic is a bug: trap without formatting its message. The JS sees a `RuntimeError`
/// ("unreachable"), as it did when std's handler aborted.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// dlmalloc, the allocator std uses on wasm32: the same speed and footprint as before.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// One SDK instance: the validated config, the queue, and the counters.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Client {
    config: Config,
    anonymous: bool,
    queue: Queue,
    counters: Counters,
    /// The last context `record` cleaned: the page's context changes only when it navigates,
    /// so it is read and cleaned once per change (core's `ContextCache`).
    context: ContextCache,
}

/// What a call that could not be acted on reports as its drop.
fn invalid(field: &str, expected: &'static str) -> Drop {
    Drop::new(field, DropReason::Invalid { expected })
}

/// The outcome JSON `track` and `preview` return:
/// `{"sent": <clean event or null>, "dropped": ["field: reason"], "redactions": ["field: rule"]}`.
fn outcome_json(sent: Option<&str>, drops: &[Drop], redactions: &[Redaction]) -> String {
    let mut out = String::from("{\"sent\":");
    // The clean event is spliced in as the text core serialized, the same text that is queued.
    out.push_str(sent.unwrap_or("null"));
    out.push_str(",\"dropped\":[");
    for (i, d) in drops.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, &d.to_string());
    }
    out.push_str("],\"redactions\":[");
    for (i, r) in redactions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut s = String::with_capacity(r.field.len() + r.rule.len() + 2);
        s.push_str(&r.field);
        s.push_str(": ");
        s.push_str(&r.rule);
        push_json_string(&mut out, &s);
    }
    out.push_str("]}");
    out
}

/// A cleaned call: core's outcome and the clean event's JSON text when one was kept.
struct Cleaned {
    outcome: Outcome,
    text: Option<String>,
}

#[wasm_bindgen]
impl Client {
    /// `config_json`: the body of `GET /v1/config`. `options_json`:
    /// `{"max_queue": 500, "anonymous": false, "sdk_version": "0.1.0"}`, every field optional
    /// (an empty string means all defaults). Fails, naming the field, when either is invalid or
    /// the schema's fingerprint is not the one served.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, options_json: &str) -> Result<Client, String> {
        let Options {
            max_queue,
            anonymous,
            sdk_version,
        } = Options::parse(options_json)?;
        let config = Config::parse(config_json, &sdk_version)?;
        Ok(Client {
            config,
            anonymous,
            queue: Queue::new(max_queue),
            counters: Counters::default(),
            context: ContextCache::default(),
        })
    }

    /// Clean a raw event (JSON text, the docs/events.md shape) with the event id `id_hex`
    /// (32 hex digits from `crypto.getRandomValues`) and queue it if kept. Returns the outcome
    /// JSON. Never throws: invalid JSON, a non-object or a bad id is counted as an invalid call
    /// and reported as a drop; every dropped field is counted by its reason.
    pub fn track(&mut self, raw_json: &str, id_hex: &str) -> String {
        match self.clean(raw_json, id_hex) {
            Ok(cleaned) => {
                let out = outcome_json(
                    cleaned.text.as_deref(),
                    &cleaned.outcome.drops,
                    &cleaned.outcome.redactions,
                );
                self.queue_cleaned(cleaned);
                out
            }
            Err(drop) => {
                self.counters.record_invalid_call();
                outcome_json(None, &[drop], &[])
            }
        }
    }

    /// `track` without the outcome, and with the raw event's context as its own JSON text:
    /// clean, queue and count exactly as `track` of `event_json` with `context_json` as its
    /// `context` would, and return how many events are queued after it (`queued()`). What the
    /// JS wrapper calls outside debug mode, where nothing would read the outcome (building it,
    /// copying it out of the wasm and parsing it again cost about as much as the JS side of a
    /// call). A context whose text is the last call's is neither parsed nor cleaned again.
    pub fn record(&mut self, event_json: &str, context_json: &str, id_hex: &str) -> usize {
        let Client {
            config,
            anonymous,
            context,
            ..
        } = self;
        let cleaned = clean(*anonymous, id_hex, false, |id, options| {
            clean_json_in_context(
                event_json,
                context_json,
                &config.schema,
                &config.key,
                id,
                options,
                context,
            )
        });
        match cleaned {
            Ok(cleaned) => self.queue_cleaned(cleaned),
            Err(_) => self.counters.record_invalid_call(),
        }
        self.queue.len()
    }

    /// The outcome `track` would give, without queueing or counting anything: what a developer
    /// calls to see, before shipping, exactly what their instrumentation sends.
    pub fn preview(&self, raw_json: &str, id_hex: &str) -> String {
        match self.clean(raw_json, id_hex) {
            Ok(Cleaned { outcome, text }) => {
                outcome_json(text.as_deref(), &outcome.drops, &outcome.redactions)
            }
            Err(drop) => outcome_json(None, &[drop], &[]),
        }
    }

    /// Move up to `max_events` queued events, as many as fit in `max_bytes` of batch JSON, in
    /// flight. Returns `{"n": <batch number>, "events": <count>, "body": "<batch JSON>"}`, or
    /// `""` when nothing is queued. An event that alone exceeds `max_bytes` is dropped and
    /// counted in `dropped_events`. An invalid `sent_at` (not RFC 3339), `max_events` of 0 or
    /// a `max_bytes` below an empty batch is an invalid call: `""`, and nothing is taken.
    pub fn take_batch(&mut self, sent_at: &str, max_events: usize, max_bytes: usize) -> String {
        // The collector refuses a batch whose sent_at does not parse, and a refused batch is
        // never retried: better to refuse the call than to lose its events.
        if UnixTime::parse_rfc3339(sent_at).is_none() {
            self.counters.record_invalid_call();
            return String::new();
        }
        match self.queue.take_batch(
            &self.config.envelope,
            sent_at,
            self.anonymous,
            max_events,
            max_bytes,
        ) {
            Ok(batch) => {
                // `{"body": "<batch JSON>", "events": <count>, "n": <batch number>}`.
                let mut out = String::with_capacity(batch.body.len() + batch.body.len() / 8 + 40);
                out.push_str("{\"body\":");
                push_json_string(&mut out, &batch.body);
                out.push_str(",\"events\":");
                out.push_str(&batch.events.to_string());
                out.push_str(",\"n\":");
                out.push_str(&batch.n.to_string());
                out.push('}');
                out
            }
            Err(NoBatch::Empty) => String::new(),
            Err(NoBatch::Unusable) => {
                self.counters.record_invalid_call();
                String::new()
            }
        }
    }

    /// Batch `n` was delivered: forget it. An unknown `n` is counted as an invalid call.
    pub fn ack(&mut self, n: u32) {
        if !self.queue.ack(n) {
            self.counters.record_invalid_call();
        }
    }

    /// Batch `n` was not delivered: its events go back to the front of the queue, in order (if
    /// that passes the bound, the oldest go, counted in `overflow`). An unknown `n` is counted
    /// as an invalid call.
    pub fn nack(&mut self, n: u32) {
        if !self.queue.nack(n) {
            self.counters.record_invalid_call();
        }
    }

    /// Events queued, not counting those in flight.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// `{"queued", "in_flight", "sent", "dropped_events", "dropped_fields": {reason: count},
    /// "overflow", "invalid_calls"}`; `queued`, `in_flight` and `sent` count events.
    pub fn stats(&self) -> String {
        self.counters.to_json(&self.queue)
    }

    /// Send no identifiers from now on (Global Privacy Control, Do Not Track, or the site's
    /// choice). Events already queued were cleaned under the previous setting.
    pub fn set_anonymous(&mut self, on: bool) {
        self.anonymous = on;
    }

    /// When the key epoch ends (RFC 3339 UTC): the JS wrapper reloads the config then.
    pub fn epoch_expires(&self) -> String {
        self.config.epoch_expires.to_rfc3339()
    }

    /// The queued clean events as a JSON array, oldest first, for the opt-in persistent
    /// queue. Events in flight are not included.
    pub fn export_queue(&self) -> String {
        persist::export(self.queue.iter())
    }

    /// Queue the events of a stored queue (`export_queue`'s JSON) behind those already
    /// queued. Storage is untrusted: each event is re-checked with core's `verify_event` and
    /// queued only if it passes; refused events are counted as dropped. Returns how many were
    /// queued; text that is not a JSON array is an invalid call and queues nothing.
    #[cfg(any(feature = "persist", not(target_arch = "wasm32")))]
    pub fn import_queue(&mut self, json: &str) -> usize {
        let Some(imported) = persist::import(json, &self.config.schema, self.anonymous) else {
            self.counters.record_invalid_call();
            return 0;
        };
        for reasons in &imported.rejected {
            self.counters.record_drops(reasons);
            self.counters.record_dropped_event();
        }
        let n = imported.events.len();
        for event in imported.events {
            self.queue.push(event);
        }
        n
    }
}

impl Client {
    /// Count a cleaned call's drops and queue its clean event, if one was kept.
    fn queue_cleaned(&mut self, Cleaned { outcome, text }: Cleaned) {
        self.counters.record_drops(&outcome.drops);
        match text {
            Some(text) => self.queue.push(text),
            None => self.counters.record_dropped_event(),
        }
    }

    /// Parse and clean one call, listing its redactions. `Err` is a call the SDK cannot act
    /// on at all (invalid JSON, not an object, a bad event id), with the drop to report for it.
    fn clean(&self, raw_json: &str, id_hex: &str) -> Result<Cleaned, Drop> {
        clean(self.anonymous, id_hex, true, |id, options| {
            // The one parse-and-clean path, shared with the collector's `preview`.
            clean_json(raw_json, &self.config.schema, &self.config.key, id, options)
        })
    }
}

/// One call cleaned by `run` (core's `clean_json` or `clean_json_in_context`) with the event
/// id `id_hex` and the options this client sends under, listing its redactions if asked.
fn clean(
    anonymous: bool,
    id_hex: &str,
    redactions: bool,
    run: impl FnOnce(EventId, CleanOptions) -> Outcome,
) -> Result<Cleaned, Drop> {
    // The work is in the two functions around `run`, compiled once for both callers.
    let (id, options) = call(anonymous, id_hex, redactions)?;
    cleaned(run(id, options))
}

/// The event id and the options of a call; `Err` for an id that is not 32 hex digits.
fn call(anonymous: bool, id_hex: &str, redactions: bool) -> Result<(EventId, CleanOptions), Drop> {
    let id = EventId::parse(id_hex).ok_or_else(|| invalid("id", "event id of 32 hex digits"))?;
    let mut options = if anonymous {
        CleanOptions::anonymous()
    } else {
        CleanOptions::default()
    };
    options.skip_redactions = !redactions;
    Ok((id, options))
}

/// Core's outcome of a call, with the clean event's text; `Err` for a call the SDK cannot act
/// on at all.
fn cleaned(outcome: Outcome) -> Result<Cleaned, Drop> {
    // Text that is not a JSON object is a call the SDK cannot act on at all (a bad call);
    // an object without a usable event name is a whole dropped event.
    if let [drop] = outcome.drops.as_slice()
        && outcome.event.is_none()
        && drop.field == "event"
        && matches!(
            drop.reason,
            DropReason::Invalid { .. } | DropReason::WrongType { .. }
        )
    {
        return Err(drop.clone());
    }
    // Serializing a clean event cannot fail (string keys, plain values); should it ever,
    // the event is reported as not sent rather than aborting the page's wasm instance.
    // `to_json` is serde_json's text, written without its generic serializer.
    let text = outcome.event.as_ref().and_then(CleanEvent::to_json);
    Ok(Cleaned { outcome, text })
}

#[cfg(test)]
mod tests;

//! `sieve-core`: the event schema and every privacy transform of Sieve, in one pure crate.
//!
//! The same code runs in the visitor's browser (compiled to WebAssembly) and in the
//! collector: the browser turns a [`RawEvent`] into a [`CleanEvent`], the only thing allowed to
//! leave the page, and the collector re-checks every received event with [`verify_event`],
//! which accepts an event only if cleaning it again changes nothing.
//!
//! What this crate deliberately does not do: I/O of any kind (no network, files, clocks or
//! randomness: callers pass the time, keys and event ids in), logging, or storage.
//!
//! Map of the crate:
//! - [`schema`]: the site's tracking plan, its loader (all errors at once) and fingerprint.
//! - [`raw`]: what the app and the browser know, before cleaning.
//! - [`event`]: the clean event, the cleaning pipeline and the collector's fixed-point check.
//! - [`transform`]: one module per kind of data (identifiers, URLs, text, user agent, ...).
//! - [`wire`]: the batch that travels from browser to collector.
//! - [`json`]: received JSON read in place ([`json::JsonView`]), and the borrowed tree the
//!   collector parses batches into.
//! - [`inventory`]: the data inventory auditors read, generated from the schema.
//! - [`map`]: [`map::NameMap`], the sorted map of names every map in this API is.
//!
//! The crate is `no_std` + `alloc` (tests use std), so the browser build can link no std and
//! ship without std's panic runtime (BENCHMARKS.md, "SDK size").
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;
// Native builds (the collector, the tests) link std for its `f64` math, so their results are
// exactly those of before; wasm32 links no std (prelude::F64Math).
#[cfg(not(any(test, target_arch = "wasm32")))]
extern crate std;

pub mod drop;
pub mod event;
pub mod inventory;
pub mod json;
pub mod map;
mod prelude;
pub mod raw;
pub mod schema;
pub mod transform;
pub mod wire;

pub use drop::{Drop, DropReason, Redaction};
pub use event::{
    CleanEvent, EventId, Outcome, Rejection, VerifiedContexts, clean_event, clean_json,
    verify_event, verify_event_in,
};
pub use raw::RawEvent;
pub use schema::{Fingerprint, Schema, SchemaError, SchemaErrors};
pub use transform::identifier::{ClientKey, Pepper, Pseudonym};

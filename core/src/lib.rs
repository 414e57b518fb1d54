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
//! - [`inventory`]: the data inventory auditors read, generated from the schema.
#![deny(missing_docs)]

pub mod drop;
pub mod event;
pub mod inventory;
pub mod raw;
pub mod schema;
pub mod transform;
pub mod wire;

pub use drop::{Drop, DropReason, Redaction};
pub use event::{CleanEvent, EventId, Outcome, Rejection, clean_event, clean_json, verify_event};
pub use raw::RawEvent;
pub use schema::{Fingerprint, Schema, SchemaError, SchemaErrors};
pub use transform::identifier::{ClientKey, Pepper, Pseudonym};

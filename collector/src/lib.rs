//! The collector: the binary a site's platform team runs instead of a third-party analytics
//! vendor. It never trusts a client: every event is re-checked with the same `sieve-core`
//! transforms the browser ran, pseudonyms are re-keyed with a secret pepper, and a 2xx is
//! sent only once events are durably stored. The same binary carries the auditor's and
//! operator's tools: `audit`, `preview`, `verify`, `export`, `report`, `keys`.
//!
//! `main.rs` only parses the command line; everything is here, so tests drive the service
//! through [`app::app`] with `oneshot`, or through a real socket.

pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod export;
pub mod import;
pub mod ingest;
pub mod keys;
pub mod manifest;
pub mod metrics;
pub mod preview;
pub mod ratelimit;
pub mod report;
pub mod serve;
pub mod site;
pub mod store;
pub mod verify;

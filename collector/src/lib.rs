//! The collector: the binary a site's platform team runs instead of a third-party analytics
//! vendor. Today it carries the auditor's tools that need only the schema (`preview`, `audit`);
//! ingest, keys and the store are built on the same `sieve-core` contracts.

pub mod cli;
pub mod preview;

//! Shared helpers for Sieve's end-to-end tests and held-out corpora.
//!
//! The tests themselves live in `tests/tests/`; this library holds what they share.

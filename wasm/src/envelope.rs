//! The wire batch as text: `{"v":1,"schema":..,"epoch":..,"sent_at":..,"sdk":{..},"events":[..]}`.
//!
//! Queued events are kept as the JSON text core's serializer wrote for them, so a batch is
//! assembled by joining those texts inside a fixed envelope, not by parsing and re-serializing
//! every event at each send (which would double the work and the code in the browser). The
//! byte layout is exactly that of `serde_json::to_string(&sieve_core::wire::Batch)`, field
//! order included; a test holds the two together.
//!
//! Not done here: choosing which events go in a batch (see `queue`) or checking the envelope
//! (`config` runs the collector's own check on it once, at start-up).

use sieve_core::json::push_json_string;
use sieve_core::wire::WIRE_VERSION;

use crate::config::SDK_NAME;
use crate::prelude::*;

/// The fixed parts of every batch this client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Everything before the `sent_at` value: `{"v":1,"schema":"..","epoch":"..","sent_at":`.
    head: String,
    /// Everything between the `sent_at` value and the optional `anonymous` flag: `,"sdk":{..}`.
    middle: String,
}

/// What closes a batch after its last event.
const TAIL: &str = "]}";

/// A JSON string literal for `s`, escaped as serde_json escapes it: epoch ids and versions are
/// checked elsewhere, but `sent_at` comes straight from JS.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    out
}

impl Envelope {
    /// The envelope for a schema fingerprint (64 hex), a key epoch id and an SDK version.
    pub fn new(fingerprint: &str, epoch: &str, sdk_version: &str) -> Envelope {
        let mut head = String::from("{\"v\":");
        // WIRE_VERSION is a single digit today; written by number so a bump follows.
        head.push_str(&WIRE_VERSION.to_string());
        head.push_str(",\"schema\":");
        head.push_str(&json_string(fingerprint));
        head.push_str(",\"epoch\":");
        head.push_str(&json_string(epoch));
        head.push_str(",\"sent_at\":");
        let mut middle = String::from(",\"sdk\":{\"name\":");
        middle.push_str(&json_string(SDK_NAME));
        middle.push_str(",\"version\":");
        middle.push_str(&json_string(sdk_version));
        middle.push('}');
        Envelope { head, middle }
    }

    /// The start of a batch sent at `sent_at`, up to and including the `[` of `events`.
    /// `anonymous` (the visitor sent Global Privacy Control or Do Not Track) tells the collector
    /// not to compute the cookieless visitor id either.
    pub fn open(&self, sent_at: &str, anonymous: bool) -> String {
        let sent_at = json_string(sent_at);
        let mut s = String::with_capacity(self.head.len() + sent_at.len() + self.middle.len() + 30);
        s.push_str(&self.head);
        s.push_str(&sent_at);
        s.push_str(&self.middle);
        if anonymous {
            s.push_str(",\"anonymous\":true");
        }
        s.push_str(",\"events\":[");
        s
    }

    /// Close a batch opened with [`Envelope::open`].
    pub fn close(body: &mut String) {
        body.push_str(TAIL);
    }

    /// Bytes a batch adds after its events.
    pub const TAIL_LEN: usize = TAIL.len();

    /// A batch with no events (the collector accepts it; used to check the envelope).
    pub fn empty_batch(&self, sent_at: &str) -> String {
        let mut s = self.open(sent_at, false);
        Self::close(&mut s);
        s
    }
}

//! One module per kind of data, each a pure function from what the browser knows to what may
//! leave it. Every transform is idempotent: applied to its own output it changes nothing, which
//! is what lets the collector re-check received events with the very same code.

pub mod identifier;
pub mod language;
pub mod location;
mod populated;
pub mod screen;
pub mod text;
pub mod time;
pub mod ua;
pub mod url;
pub mod value;

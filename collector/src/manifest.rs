//! The public data inventory as a web page: `/.well-known/sieve-manifest.html`, and
//! `audit --format html`. Built from `sieve_core::inventory::Inventory`, so the page says exactly
//! what the code does; every value is HTML-escaped.

use std::fmt::Write;

use sieve_core::inventory::{Entry, Inventory};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table(out: &mut String, entries: &[Entry]) {
    out.push_str("<table><thead><tr><th>field</th><th>type</th><th>treatment</th><th>purpose</th><th>example before</th><th>example after</th></tr></thead><tbody>");
    for e in entries {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            esc(&e.field),
            esc(&e.kind),
            esc(&e.treatment),
            esc(&e.purpose),
            esc(&e.example.before.to_string()),
            esc(&e.example.after.to_string())
        );
    }
    out.push_str("</tbody></table>");
}

/// The inventory as a standalone HTML page.
pub fn to_html(inv: &Inventory) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Data inventory: {site}</title><style>body{{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}}\
         code{{font-size:.85em;word-break:break-all}}</style></head><body>\
         <h1>Data inventory: {site}</h1><p>Schema version <code>{version}</code>, fingerprint <code>{fp}</code>.</p>\
         <p>Events are kept for <strong>{days} days</strong>. Pseudonyms link for one key epoch (<strong>{epoch}</strong>); \
         after the epoch's keys are destroyed they link to no one. Examples are computed by Sieve's own transforms; pseudonyms use a \
         fixed demonstration key, and the collector re-keys every pseudonym with its secret pepper before storing it.</p>",
        site = esc(&inv.site),
        version = esc(&inv.schema_version),
        fp = esc(&inv.fingerprint),
        days = inv.retention_days,
        epoch = esc(&inv.key_epoch),
    );
    out.push_str("<h2>Context captured with every event</h2>");
    table(&mut out, &inv.context);
    if !inv.identity.is_empty() {
        out.push_str("<h2>Identifiers and traits</h2>");
        table(&mut out, &inv.identity);
    }
    out.push_str("<h2>Events</h2>");
    for e in &inv.events {
        let _ = write!(
            out,
            "<h3><code>{}</code></h3><p>{}</p>",
            esc(&e.event),
            esc(&e.description)
        );
        if e.props.is_empty() {
            out.push_str("<p>No properties.</p>");
        } else {
            table(&mut out, &e.props);
        }
    }
    out.push_str("<h2>Never collected</h2><table><thead><tr><th>data</th><th>handling</th></tr></thead><tbody>");
    for n in &inv.never_collected {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(n.data),
            esc(n.handling)
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_lists_every_event_and_escapes() {
        let schema = sieve_core::Schema::from_json(include_str!("../../core/schema/example.json"))
            .expect("schema");
        let html = to_html(&Inventory::of(&schema));
        for e in schema.events.keys() {
            assert!(html.contains(&format!("<code>{e}</code>")), "{e}");
        }
        assert!(html.contains("Never collected"));
        assert_eq!(esc("<script>&\""), "&lt;script&gt;&amp;&quot;");
    }
}

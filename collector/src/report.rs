//! `report`: counts of stored events by event, day, country, page and browser, with small
//! groups suppressed so that a report cannot single out a handful of people.
//!
//! The counting is done by the store in SQL ([`StoreRead::aggregate`]); this module decides
//! what may be shown. It does not print row values, totals, or anything about a hidden group
//! beyond how many groups were hidden.
//!
//! # The suppression rule
//!
//! Let k be the threshold (the CLI's default is 10).
//!
//! 1. **Who counts as a person.** Visitor ids are cookieless and rotate with the key epoch
//!    (daily by default), so one person seen on ten days has up to ten visitor ids, and
//!    `COUNT(DISTINCT visitor)` over a month counts visitor-days, not people. The number used
//!    for suppression is therefore a lower bound on the people in a group: the largest number
//!    of distinct visitor ids the group had on any single UTC day of the range. Events without a
//!    visitor id (the collector could not compute one) are counted as events but as no people
//!    at all: they could all come from one person, so they can never lift a group over k. A
//!    group made only of such events is always hidden (for k > 0).
//! 2. **Primary suppression.** A group whose lower bound is below k is hidden.
//! 3. **Complementary suppression.** Event counts add up: every dimension partitions the same
//!    events, so the total is known from any dimension shown in full, and total minus the
//!    shown cells gives the hidden ones. If exactly one group of a dimension is hidden, the
//!    shown group with the fewest people (then fewest events, then key) is hidden too, so a
//!    subtraction yields only the sum of at least two cells, never one cell.
//!    A dimension with a single group cannot be complemented; but then that group holds
//!    every event, every group of every dimension is below k as well, and nothing is shown.
//! 4. **The folded line.** Hidden groups are folded into one `(suppressed: N groups)` line
//!    per dimension. It shows the events of the hidden groups only when at least two are
//!    hidden and the whole range has at least k people (by the same lower bound), because
//!    that sum is recoverable by subtraction anyway; otherwise it shows only N. It never
//!    shows visitors: distinct visitors do not add up across groups, and a union count of a
//!    few hidden groups is itself a small cell.
//!
//! What this does not protect against: differencing two reports over overlapping time ranges
//! (run with ranges that share all but one day, and the difference is one day's cells), or
//! one person appearing under several visitor ids on one day (two networks or browsers), which
//! makes the lower bound overcount them. Reports are for the site's own team; share them
//! further only at a coarser range and a higher k.

use std::collections::HashMap;

use serde::Serialize;
use sieve_core::transform::time::UnixTime;

use crate::store::StoreRead;
use crate::store::query::{Dimension, Group};

/// Seconds per UTC day.
const DAY_SECS: i64 = 86_400;

/// A report: one table per dimension, small groups suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Start of the range (unix seconds, inclusive).
    pub from: i64,
    /// End of the range (unix seconds, exclusive).
    pub to: i64,
    /// The suppression threshold: fewest people a shown group has.
    pub k: u64,
    /// One table per dimension, in [`Dimension::ALL`] order.
    pub tables: Vec<Table>,
}

/// The shown groups of one dimension and what was hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The dimension.
    pub dimension: Dimension,
    /// Groups shown, most events first. `visitors` is distinct visitor ids over the range.
    pub groups: Vec<Group>,
    /// What was hidden, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
}

/// The folded line of a dimension's hidden groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// How many groups were hidden.
    pub groups: u64,
    /// Their events together, only where the module's rule allows showing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// Build the report of events with `from <= time < to`, hiding groups of fewer than `k`
/// people (see the module documentation for the exact rule).
pub fn report(store: &dyn StoreRead, from: i64, to: i64, k: u64) -> anyhow::Result<Report> {
    let mut exact = Vec::with_capacity(Dimension::ALL.len());
    for dimension in Dimension::ALL {
        exact.push((dimension, store.aggregate(dimension, from, to)?));
    }
    let people = people_lower_bounds(store, from, to, &exact)?;
    let population = people
        .get(&Dimension::Day)
        .and_then(|days| days.values().copied().max())
        .unwrap_or(0);
    let tables = exact
        .into_iter()
        .map(|(dimension, groups)| {
            let empty = HashMap::new();
            let people = people.get(&dimension).unwrap_or(&empty);
            suppress(dimension, groups, people, population, k)
        })
        .collect();
    Ok(Report {
        from,
        to,
        k,
        tables,
    })
}

/// Per dimension and group key: the most distinct visitor ids the group had on one UTC day.
/// One aggregate per dimension per day that has events (not per day of the range, which may
/// be unbounded), each served by the store's time index.
fn people_lower_bounds(
    store: &dyn StoreRead,
    from: i64,
    to: i64,
    exact: &[(Dimension, Vec<Group>)],
) -> anyhow::Result<HashMap<Dimension, HashMap<String, u64>>> {
    let mut out: HashMap<Dimension, HashMap<String, u64>> = HashMap::new();
    let days = exact
        .iter()
        .find(|(d, _)| *d == Dimension::Day)
        .map(|(_, g)| g.as_slice())
        .unwrap_or_default();
    for day in days {
        // The day dimension's own counts are per day already.
        out.entry(Dimension::Day)
            .or_default()
            .insert(day.key.clone(), day.visitors);
        let start = UnixTime::parse_rfc3339(&format!("{}T00:00:00Z", day.key))
            .ok_or_else(|| {
                anyhow::anyhow!("report: the store returned a day key that is not a date")
            })?
            .0;
        let (lo, hi) = (start.max(from), start.saturating_add(DAY_SECS).min(to));
        for dimension in Dimension::ALL {
            if dimension == Dimension::Day {
                continue;
            }
            let best = out.entry(dimension).or_default();
            for g in store.aggregate(dimension, lo, hi)? {
                let slot = best.entry(g.key).or_insert(0);
                *slot = (*slot).max(g.visitors);
            }
        }
    }
    Ok(out)
}

/// Apply rules 2 to 4 of the module documentation to one dimension.
fn suppress(
    dimension: Dimension,
    groups: Vec<Group>,
    people: &HashMap<String, u64>,
    population: u64,
    k: u64,
) -> Table {
    let people_of = |g: &Group| people.get(&g.key).copied().unwrap_or(0);
    let mut hidden: Vec<bool> = groups.iter().map(|g| people_of(g) < k).collect();
    let n_hidden = hidden.iter().filter(|h| **h).count();
    if n_hidden == 1 {
        let complement = groups
            .iter()
            .enumerate()
            .filter(|(i, _)| !hidden[*i])
            .min_by(|(_, a), (_, b)| {
                (people_of(a), a.events, &a.key).cmp(&(people_of(b), b.events, &b.key))
            })
            .map(|(i, _)| i);
        if let Some(i) = complement {
            hidden[i] = true;
        }
    }
    let mut shown = Vec::new();
    let mut folded_groups = 0u64;
    let mut folded_events = 0u64;
    for (g, hide) in groups.into_iter().zip(hidden) {
        if hide {
            folded_groups += 1;
            folded_events = folded_events.saturating_add(g.events);
        } else {
            shown.push(g);
        }
    }
    let suppressed = (folded_groups > 0).then(|| Suppressed {
        groups: folded_groups,
        events: (folded_groups >= 2 && population >= k).then_some(folded_events),
    });
    Table {
        dimension,
        groups: shown,
        suppressed,
    }
}

/// Latest time shown as a date; the CLI's open-ended ranges use far larger bounds.
const MAX_SHOWN_TIME: i64 = 7_258_118_400;

fn bound(t: i64, open: &str) -> String {
    if (0..MAX_SHOWN_TIME).contains(&t) {
        UnixTime(t).to_rfc3339()
    } else {
        open.to_owned()
    }
}

impl Report {
    /// The report as aligned plain-text tables, one per dimension.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Sieve report, {} to {} (exclusive); groups of fewer than {} people are suppressed\n",
            bound(self.from, "the beginning"),
            bound(self.to, "the end"),
            self.k
        );
        for table in &self.tables {
            let mut lines: Vec<(String, String, String)> = table
                .groups
                .iter()
                .map(|g| (g.key.clone(), g.events.to_string(), g.visitors.to_string()))
                .collect();
            if let Some(s) = &table.suppressed {
                let label = format!(
                    "(suppressed: {} group{})",
                    s.groups,
                    if s.groups == 1 { "" } else { "s" }
                );
                let events = s.events.map_or_else(|| "-".to_owned(), |e| e.to_string());
                lines.push((label, events, "-".to_owned()));
            }
            let header = (
                table.dimension.name().to_owned(),
                "events".to_owned(),
                "visitors".to_owned(),
            );
            let w0 = width(&header.0, lines.iter().map(|l| &l.0));
            let w1 = width(&header.1, lines.iter().map(|l| &l.1));
            let w2 = width(&header.2, lines.iter().map(|l| &l.2));
            out.push('\n');
            for (a, b, c) in std::iter::once(&header).chain(&lines) {
                // `{:<w$}` pads by chars, which keeps columns aligned for non-ASCII keys too.
                out.push_str(&format!("{a:<w0$}  {b:>w1$}  {c:>w2$}\n"));
            }
            if lines.is_empty() {
                out.push_str("(no events)\n");
            }
        }
        out.push_str(
            "\nvisitors: distinct visitor ids over the range; ids rotate daily, so a person seen \
             on several days counts several times. A group is shown only if it had at least k \
             distinct visitor ids on one day; events without a visitor id count as no one.\n",
        );
        out
    }
}

fn width<'a>(header: &str, cells: impl Iterator<Item = &'a String>) -> usize {
    cells
        .map(|c| c.chars().count())
        .chain(std::iter::once(header.chars().count()))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::query::SqliteReader;
    use crate::store::query::tests::{
        DAY1, example_schema, insert, new_db, page_view, stored_data, visitor,
    };
    use serde_json::json;

    fn table(report: &Report, d: Dimension) -> &Table {
        report
            .tables
            .iter()
            .find(|t| t.dimension == d)
            .expect("every dimension has a table")
    }

    fn keys(t: &Table) -> Vec<&str> {
        t.groups.iter().map(|g| g.key.as_str()).collect()
    }

    /// 12 visitors in FR on /a, 12 in DE on /b (page views); 3 visitors in CH sign up, 2 in CH
    /// log in. All on one day.
    fn fixture(dir: &tempfile::TempDir) -> SqliteReader {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let (path, conn) = new_db(dir, &schema, &text);
        let mut n = 0u32;
        let mut add = |v: u32, raw: serde_json::Value| {
            n += 1;
            insert(
                &conn,
                &fp,
                DAY1,
                Some(&visitor(v)),
                &stored_data(&schema, n, &raw),
            );
        };
        for v in 1..=12 {
            add(v, page_view(DAY1, "FR", "https://app.example.com/a"));
        }
        for v in 13..=24 {
            add(v, page_view(DAY1, "DE", "https://app.example.com/b"));
        }
        let ch = |event: &str, props| {
            json!({"event": event, "timestamp": "2026-11-22T10:00:00Z", "props": props,
                   "context": {"location": {"country": "CH"}}})
        };
        for v in 25..=27 {
            add(v, ch("signup", json!({"plan": "team"})));
        }
        for v in 28..=29 {
            add(v, ch("login", json!({"method": "passkey"})));
        }
        drop(conn);
        SqliteReader::open(&path).expect("open")
    }

    #[test]
    fn groups_of_k_or_more_are_shown_and_small_ones_folded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader = fixture(&dir);
        let r = report(&reader, 0, i64::MAX, 10).expect("report");
        let events = table(&r, Dimension::Event);
        // page_view: 24 visitors, shown; signup (3) and login (2) hidden, two cells, so their
        // sum may be shown.
        assert_eq!(keys(events), vec!["page_view"]);
        assert_eq!(
            events.suppressed,
            Some(Suppressed {
                groups: 2,
                events: Some(5)
            })
        );
        // Browsers: the CH events carry no user agent, so "(none)" (5 people) is the one small
        // cell and Firefox, the only other group, is hidden with it.
        let browser = table(&r, Dimension::Browser);
        assert!(browser.groups.is_empty());
        assert_eq!(browser.suppressed.as_ref().map(|s| s.groups), Some(2));
        let text = r.to_text();
        assert!(text.contains("(suppressed: 2 groups)"), "{text}");
        assert!(
            !text.contains("signup") && !text.contains("login"),
            "{text}"
        );
    }

    #[test]
    fn a_single_small_cell_is_complemented_so_subtraction_cannot_recover_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader = fixture(&dir);
        let r = report(&reader, 0, i64::MAX, 10).expect("report");
        let country = table(&r, Dimension::Country);
        // CH (5 people) is the only small cell; DE and FR tie at 12 people and 12 events, so
        // the key breaks the tie and DE is hidden with it. FR (12 people) is shown.
        assert_eq!(keys(country), vec!["FR"]);
        assert_eq!(country.groups[0].visitors, 12);
        let s = country.suppressed.as_ref().expect("something is hidden");
        assert_eq!(s.groups, 2);
        // Total events (29, known from the event table) minus the shown cells gives 17: the
        // sum of CH and DE, not CH's 5.
        let total: u64 = table(&r, Dimension::Event).groups[0].events + 5;
        assert_eq!(total - country.groups[0].events, 17);
        assert_ne!(total - country.groups[0].events, 5);
        // Pages: the 5 CH events have no page; "(none)" is small, one of /a and /b goes with it.
        let page = table(&r, Dimension::Page);
        assert_eq!(page.groups.len(), 1);
        assert_eq!(page.suppressed.as_ref().map(|s| s.groups), Some(2));
        let text = r.to_text();
        assert!(!text.contains("CH") && !text.contains("DE "), "{text}");
    }

    #[test]
    fn daily_visitor_ids_do_not_lift_a_group_over_k() {
        let (schema, text) = example_schema();
        let fp = schema.fingerprint().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, conn) = new_db(&dir, &schema, &text);
        let mut n = 0;
        // The same 5 people on 3 days: 15 distinct visitor ids, but never more than 5 a day.
        for day in 0..3 {
            let t = DAY1 + day * DAY_SECS;
            for v in 0..5 {
                n += 1;
                let id = visitor(100 * (day as u32 + 1) + v);
                let raw = page_view(t, "FR", "https://app.example.com/");
                insert(&conn, &fp, t, Some(&id), &stored_data(&schema, n, &raw));
            }
        }
        // One visitor in BE, so that with k = 5 two cells are small and none is complemented.
        n += 1;
        let raw = page_view(DAY1, "BE", "https://app.example.com/");
        insert(
            &conn,
            &fp,
            DAY1,
            Some(&visitor(999)),
            &stored_data(&schema, n, &raw),
        );
        // 40 events with no visitor id: counted, but as no one.
        for _ in 0..40 {
            n += 1;
            let raw = page_view(DAY1, "NL", "https://app.example.com/");
            insert(&conn, &fp, DAY1, None, &stored_data(&schema, n, &raw));
        }
        let reader = SqliteReader::open(&path).expect("open");
        let r = report(&reader, 0, i64::MAX, 10).expect("report");
        for t in &r.tables {
            assert!(
                t.groups.is_empty(),
                "{:?} shows {:?}",
                t.dimension,
                t.groups
            );
            // Fewer than k people in the whole range: no hidden sum is shown either.
            assert_eq!(t.suppressed.as_ref().and_then(|s| s.events), None);
        }
        // With k = 5 the FR group qualifies (5 people on one day); NL (40 events, no visitor
        // ids) never does, and is folded with BE.
        let r = report(&reader, 0, i64::MAX, 5).expect("report");
        let country = table(&r, Dimension::Country);
        assert_eq!(keys(country), vec!["FR"]);
        assert_eq!(country.groups[0].visitors, 15);
        assert_eq!(
            country.suppressed,
            Some(Suppressed {
                groups: 2,
                events: Some(41)
            })
        );
    }

    #[test]
    fn report_serializes_and_renders_aligned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let reader = fixture(&dir);
        let r = report(&reader, DAY1, DAY1 + DAY_SECS, 10).expect("report");
        let json = serde_json::to_value(&r).expect("report serializes");
        assert_eq!(json["tables"][0]["dimension"], "event");
        assert_eq!(json["tables"][0]["groups"][0]["key"], "page_view");
        let text = r.to_text();
        let day_table: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("day"))
            .take(2)
            .collect();
        assert_eq!(day_table.len(), 2, "{text}");
        assert_eq!(day_table[0].len(), day_table[1].len(), "{text}");
        assert!(day_table[1].starts_with("2026-11-22"), "{text}");
        assert!(
            text.contains("2026-11-22T10:00:00Z to 2026-11-23T10:00:00Z"),
            "{text}"
        );
    }
}

//! Event time: parsed from RFC 3339, truncated to the schema's precision, corrected for a wrong
//! client clock, and the key epochs that time falls in.
//!
//! An exact timestamp is a fingerprint (it can be joined with server logs or another dataset);
//! an hour is enough for analytics. The browser truncates before sending; the collector shifts
//! by the client's clock skew (from the batch's `sent_at`) and truncates again.
//!
//! Hand-written rather than pulling in `time` or `chrono`: the browser bundle only needs strict
//! RFC 3339 parsing and UTC formatting, a few dozen lines, where a date crate costs tens of KB.
//! Not done here: reading a clock (callers pass "now"), time zones beyond numeric offsets.

use crate::prelude::*;
use crate::schema::{KeyEpoch, TimePrecision};

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

/// Earliest accepted time (2000-01-01): older events are client clock garbage.
const MIN_TIME: i64 = 946_684_800;
/// Latest accepted time (2200-01-01).
const MAX_TIME: i64 = 7_258_118_400;
/// Clock skew below this is left alone: it is network latency, not a wrong clock.
pub const SKEW_TOLERANCE_SECS: i64 = 60;

impl UnixTime {
    /// Parse an RFC 3339 timestamp (`2026-11-22T17:03:11.123Z`, `...+01:00`). Fractions are
    /// accepted and discarded. `None` for anything else or outside 2000..2200.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < 20 || b.len() > 40 {
            return None;
        }
        let num = |from: usize, len: usize| -> Option<i64> {
            let part = b.get(from..from + len)?;
            part.iter().try_fold(0i64, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
            })
        };
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let offset = match b.get(i..)? {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                let h = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
                let m = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
                if h > 23 || m > 59 {
                    return None;
                }
                let secs = h * 3600 + m * 60;
                if *sign == b'+' { secs } else { -secs }
            }
            _ => return None,
        };
        // A leap second is folded into the next second's minute: good enough at hour precision.
        let t =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
                - offset;
        (MIN_TIME..MAX_TIME).contains(&t).then_some(Self(t))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_rfc3339(self) -> String {
        let mut out = String::with_capacity(20);
        self.push_rfc3339(&mut out);
        out
    }

    /// [`UnixTime::to_rfc3339`] appended to `out`, without `core::fmt` for the usual four-digit
    /// years (the browser writes one for every event it queues).
    pub fn push_rfc3339(self, out: &mut String) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // Every part but the year has two digits (`{:02}`), a year in 0..=9999 four (`{:04}`).
        let digits = |out: &mut String, n: i64, mut unit: i64| {
            while unit > 0 {
                out.push(char::from(b'0' + (n / unit % 10) as u8));
                unit /= 10;
            }
        };
        if (0..=9999).contains(&y) {
            digits(out, y, 1000);
        } else {
            out.push_str(&format!("{y:04}"));
        }
        for (sep, n) in [
            ('-', m),
            ('-', d),
            ('T', secs / 3600),
            (':', secs % 3600 / 60),
            (':', secs % 60),
        ] {
            out.push(sep);
            digits(out, n, 10);
        }
        out.push('Z');
    }

    /// Truncate down to the precision.
    pub fn truncate(self, precision: TimePrecision) -> Self {
        let step = precision.seconds();
        Self(self.0.div_euclid(step) * step)
    }

    /// The event time the collector stores: shifted by the client's clock skew (how far the
    /// client's `sent_at` is from the collector's `received_at`) when the skew is more than
    /// network latency, then truncated again.
    pub fn corrected(
        self,
        sent_at: UnixTime,
        received_at: UnixTime,
        precision: TimePrecision,
    ) -> Self {
        let skew = received_at.0 - sent_at.0;
        let shifted = if skew.abs() > SKEW_TOLERANCE_SECS {
            self.0 + skew
        } else {
            self.0
        };
        Self(shifted).truncate(precision)
    }
}

/// One key epoch: the span in which a client key and its pepper are in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    /// Stable name: `2026-11-22` (day), `2026-W47` (ISO week), `2026-11` (month).
    pub id: String,
    /// First second of the epoch.
    pub start: UnixTime,
    /// First second after the epoch.
    pub end: UnixTime,
}

impl KeyEpoch {
    /// The epoch that `t` falls in.
    pub fn epoch_of(self, t: UnixTime) -> Epoch {
        let days = t.0.div_euclid(86_400);
        match self {
            KeyEpoch::Day => {
                let (y, m, d) = civil_from_days(days);
                Epoch {
                    id: format!("{y:04}-{m:02}-{d:02}"),
                    start: UnixTime(days * 86_400),
                    end: UnixTime((days + 1) * 86_400),
                }
            }
            KeyEpoch::Week => {
                // 1970-01-01 was a Thursday; ISO weeks start on Monday.
                let monday = days - (days + 3).rem_euclid(7);
                let thursday = monday + 3;
                let (iso_year, _, _) = civil_from_days(thursday);
                let week = (thursday - days_from_civil(iso_year, 1, 1)) / 7 + 1;
                Epoch {
                    id: format!("{iso_year:04}-W{week:02}"),
                    start: UnixTime(monday * 86_400),
                    end: UnixTime((monday + 7) * 86_400),
                }
            }
            KeyEpoch::Month => {
                let (y, m, _) = civil_from_days(days);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Epoch {
                    id: format!("{y:04}-{m:02}"),
                    start: UnixTime(days_from_civil(y, m, 1) * 86_400),
                    end: UnixTime(days_from_civil(ny, nm, 1) * 86_400),
                }
            }
        }
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> UnixTime {
        UnixTime::parse_rfc3339(s).expect(s)
    }

    #[test]
    fn parses_rfc3339_forms() {
        let cases = [
            ("2026-11-22T17:03:11.123Z", 1_795_366_991),
            ("2026-11-22T17:03:11Z", 1_795_366_991),
            ("2026-11-22t17:03:11z", 1_795_366_991),
            ("2026-11-22T18:03:11+01:00", 1_795_366_991),
            ("2026-11-22T12:03:11.999999999-05:00", 1_795_366_991),
            ("2000-01-01T00:00:00Z", 946_684_800),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
        ];
        for (s, want) in cases {
            assert_eq!(t(s).0, want, "{s}");
        }
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for s in [
            "",
            "yesterday",
            "2026-11-22",
            "2026-11-22T17:03:11",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T17:03:11.Z",
            "2026-11-22T17:03:11+0100",
            "1999-12-31T23:59:59Z",
            "2026-11-22T17:03:11Zjunk",
            "+2026-11-22T17:03:11Z",
        ] {
            assert_eq!(UnixTime::parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn truncation_keeps_only_the_precision() {
        let x = t("2026-11-22T17:03:11.123Z");
        assert_eq!(
            x.truncate(TimePrecision::Minute).to_rfc3339(),
            "2026-11-22T17:03:00Z"
        );
        assert_eq!(
            x.truncate(TimePrecision::Hour).to_rfc3339(),
            "2026-11-22T17:00:00Z"
        );
        assert_eq!(
            x.truncate(TimePrecision::Day).to_rfc3339(),
            "2026-11-22T00:00:00Z"
        );
    }

    #[test]
    fn client_clock_is_corrected_by_sent_at() {
        let event = t("2026-11-22T17:40:00Z");
        // The client's clock is 2 hours behind: it says 15:45 when the collector says 17:45.
        let fixed = t("2026-11-22T15:40:00Z").corrected(
            t("2026-11-22T15:45:00Z"),
            t("2026-11-22T17:45:00Z"),
            TimePrecision::Hour,
        );
        assert_eq!(fixed, event.truncate(TimePrecision::Hour));
        // Latency is not skew.
        let same = event.corrected(
            t("2026-11-22T17:45:00Z"),
            t("2026-11-22T17:45:30Z"),
            TimePrecision::Minute,
        );
        assert_eq!(same, event);
    }

    #[test]
    fn epochs_have_stable_names_and_bounds() {
        let x = t("2026-11-22T17:03:11Z");
        let day = KeyEpoch::Day.epoch_of(x);
        assert_eq!(
            (day.id.as_str(), day.start, day.end),
            (
                "2026-11-22",
                t("2026-11-22T00:00:00Z"),
                t("2026-11-23T00:00:00Z")
            )
        );
        let week = KeyEpoch::Week.epoch_of(x);
        assert_eq!(
            (week.id.as_str(), week.start, week.end),
            (
                "2026-W47",
                t("2026-11-16T00:00:00Z"),
                t("2026-11-23T00:00:00Z")
            )
        );
        let month = KeyEpoch::Month.epoch_of(x);
        assert_eq!(
            (month.id.as_str(), month.start, month.end),
            (
                "2026-11",
                t("2026-11-01T00:00:00Z"),
                t("2026-12-01T00:00:00Z")
            )
        );
        // ISO week-year edge cases.
        assert_eq!(
            KeyEpoch::Week.epoch_of(t("2027-01-01T00:00:00Z")).id,
            "2026-W53"
        );
        assert_eq!(
            KeyEpoch::Week.epoch_of(t("2024-12-30T00:00:00Z")).id,
            "2025-W01"
        );
        assert_eq!(
            KeyEpoch::Month.epoch_of(t("2026-12-31T23:59:59Z")).end,
            t("2027-01-01T00:00:00Z")
        );
    }

    proptest! {
        #[test]
        fn format_and_parse_round_trip(secs in MIN_TIME..MAX_TIME) {
            let x = UnixTime(secs);
            prop_assert_eq!(UnixTime::parse_rfc3339(&x.to_rfc3339()), Some(x));
        }

        #[test]
        fn rfc3339_is_written_as_format_would(secs in prop_oneof![MIN_TIME..MAX_TIME, any::<i64>()]) {
            // What `to_rfc3339` was before it was written by hand: the spelling for any time.
            let days = secs.div_euclid(86_400);
            let s = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let want = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60);
            prop_assert_eq!(UnixTime(secs).to_rfc3339(), want);
        }

        #[test]
        fn truncation_is_idempotent(secs in MIN_TIME..MAX_TIME) {
            for p in [TimePrecision::Minute, TimePrecision::Hour, TimePrecision::Day] {
                let once = UnixTime(secs).truncate(p);
                prop_assert_eq!(once.truncate(p), once);
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,48}") {
            let _ = UnixTime::parse_rfc3339(&s);
        }
    }
}

//! Dates and date-times in cells: ISO 8601 (`2024-03-05`, `2024-03-05T14:30:00Z`,
//! `2024/03/05 14:30`) and the day/month/year forms (`05/03/2024`, `5.3.2024`, `05-03-2024`).
//!
//! The shapes are recognised here; the calendar (valid days, weekdays, day counts) is chrono's.
//! Whether `05/03/2024` is the 5th of March or the 3rd of May is decided per column: by a value
//! that fits only one order, else day first (the order of the written words "day/month/year",
//! and of every `.`-separated date).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The order of a date's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Year, month, day (ISO 8601).
    Ymd,
    /// Day, month, year.
    Dmy,
    /// Month, day, year.
    Mdy,
}

impl DateOrder {
    /// The order as a pattern, e.g. `day/month/year`.
    pub fn pattern(self) -> &'static str {
        match self {
            DateOrder::Ymd => "year-month-day",
            DateOrder::Dmy => "day/month/year",
            DateOrder::Mdy => "month/day/year",
        }
    }
}

/// A date cell's fields before the day/month order is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DateFields {
    /// `Ymd`, or `Dmy` for the `a/b/yyyy` shapes (which may turn out to be `Mdy`).
    year_first: bool,
    year: i32,
    /// Month for year-first shapes; otherwise the first of day/month.
    a: u32,
    /// Day for year-first shapes; otherwise the second of day/month.
    b: u32,
    /// Seconds since midnight, when a time is given.
    seconds: Option<f64>,
    /// The UTC offset written after the time, in minutes (`Z` is 0), when there is one. It is
    /// not applied: a time is read as written.
    pub(crate) offset: Option<i32>,
    /// The `a/b/yyyy` shape used `.` (always day first).
    dots: bool,
}

impl DateFields {
    /// Whether the cell has a time of day.
    pub(crate) fn has_time(&self) -> bool {
        self.seconds.is_some()
    }
}

/// Evidence about one column's dates, gathered value by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DateEvidence {
    /// Some value was year-first, some other was not: not one date column.
    year_first: Option<bool>,
    /// No value rules out day/month/year.
    day_first_ok: bool,
    /// No value rules out month/day/year.
    month_first_ok: bool,
    /// Some value uses `.` between the fields.
    dots: bool,
    /// Some value was seen.
    seen: bool,
}

impl DateEvidence {
    /// Evidence for no values yet.
    pub(crate) fn new() -> Self {
        Self {
            day_first_ok: true,
            month_first_ok: true,
            ..Self::default()
        }
    }

    /// Adds one value; `false` when it cannot belong to one date column with the earlier ones.
    pub(crate) fn add(&mut self, fields: &DateFields) -> bool {
        if *self.year_first.get_or_insert(fields.year_first) != fields.year_first {
            return false;
        }
        self.seen = true;
        if fields.year_first {
            return true;
        }
        self.dots |= fields.dots;
        self.day_first_ok &= valid(fields.year, fields.b, fields.a);
        self.month_first_ok &= valid(fields.year, fields.a, fields.b) && !fields.dots;
        self.day_first_ok || self.month_first_ok
    }

    /// The order every value fits (day first when both do); `None` when no value was seen.
    pub(crate) fn order(&self) -> Option<DateOrder> {
        match self.year_first? {
            true => Some(DateOrder::Ymd),
            false if self.day_first_ok => Some(DateOrder::Dmy),
            false if self.month_first_ok => Some(DateOrder::Mdy),
            false => None,
        }
        .filter(|_| self.seen)
    }

    /// Whether the values fit both day/month/year and month/day/year.
    pub(crate) fn ambiguous(&self) -> bool {
        self.year_first == Some(false) && self.day_first_ok && self.month_first_ok
    }
}

/// Whether `year-month-day` is a calendar date.
fn valid(year: i32, month: u32, day: u32) -> bool {
    NaiveDate::from_ymd_opt(year, month, day).is_some()
}

/// The days since 1970-01-01 of a date in `order` (fractional with a time of day); `None`
/// when the fields do not make a calendar date in that order.
pub(crate) fn days_since_epoch(fields: &DateFields, order: DateOrder) -> Option<f64> {
    let (month, day) = match order {
        DateOrder::Ymd | DateOrder::Mdy => (fields.a, fields.b),
        DateOrder::Dmy => (fields.b, fields.a),
    };
    // `.`-separated dates are always day first, even in a column read month first.
    if fields.year_first != (order == DateOrder::Ymd) || (fields.dots && order == DateOrder::Mdy) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(fields.year, month, day)?;
    let days = date.num_days_from_ce() - EPOCH_DAYS_FROM_CE;
    Some(f64::from(days) + fields.seconds.unwrap_or(0.0) / 86_400.0)
}

/// `NaiveDate::from_ymd(1970, 1, 1).num_days_from_ce()`.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// The calendar parts of a day count: year, month (1-12), day of month (1-31), day of the
/// week (0 = Monday).
pub fn calendar_parts(days_since_epoch: f64) -> Option<[f64; 4]> {
    let whole = days_since_epoch.floor();
    if !whole.is_finite() || whole.abs() > 1e7 {
        return None;
    }
    let date = NaiveDate::from_num_days_from_ce_opt(whole as i32 + EPOCH_DAYS_FROM_CE)?;
    Some([
        f64::from(date.year()),
        f64::from(date.month()),
        f64::from(date.day()),
        f64::from(date.weekday().num_days_from_monday()),
    ])
}

/// Reads a cell as a date's fields, or `None` when it is not shaped like a date. The fields
/// are not yet checked against the calendar (the order may be unknown).
pub(crate) fn parse_date(text: &str) -> Option<DateFields> {
    let bytes = text.as_bytes();
    // Quick rejection: every shape starts with a digit and is 8 to 35 bytes long.
    if !(8..=35).contains(&bytes.len()) || !bytes[0].is_ascii_digit() {
        return None;
    }
    let (date, time) = match text.find(['T', ' ']) {
        Some(at) => (&text[..at], Some(text[at + 1..].trim_start())),
        None => (text, None),
    };
    let separator = date.bytes().find(|b| matches!(b, b'-' | b'/' | b'.'))?;
    let mut parts = date.split(char::from(separator));
    let (p1, p2, p3) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let number = |s: &str, min: usize, max: usize| -> Option<u32> {
        ((min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (seconds, offset) = match time {
        Some(t) => {
            let (seconds, offset) = parse_time(t)?;
            (Some(seconds), offset)
        }
        None => (None, None),
    };
    if p1.len() == 4 {
        // Year first: yyyy-mm-dd or yyyy/mm/dd.
        if separator == b'.' {
            return None;
        }
        Some(DateFields {
            year_first: true,
            year: number(p1, 4, 4)? as i32,
            a: number(p2, 1, 2)?,
            b: number(p3, 1, 2)?,
            seconds,
            offset,
            dots: false,
        })
        .filter(|f| valid(f.year, f.a, f.b))
    } else {
        let fields = DateFields {
            year_first: false,
            year: number(p3, 4, 4)? as i32,
            a: number(p1, 1, 2)?,
            b: number(p2, 1, 2)?,
            seconds,
            offset,
            dots: separator == b'.',
        };
        (valid(fields.year, fields.b, fields.a) || valid(fields.year, fields.a, fields.b))
            .then_some(fields)
    }
}

/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, then optionally `Z` or an offset (`+02:00`, `-0500`,
/// `+09`): seconds since midnight as written, and the offset in minutes (not applied).
fn parse_time(text: &str) -> Option<(f64, Option<i32>)> {
    let clock_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
        .unwrap_or(text.len());
    let (clock, zone) = text.split_at(clock_end);
    let zone_ok = zone.is_empty()
        || zone.eq_ignore_ascii_case("z")
        || ((zone.starts_with('+') || zone.starts_with('-'))
            && (3..=6).contains(&zone.len())
            && zone[1..].bytes().all(|b| b.is_ascii_digit() || b == b':'));
    // An offset is at most 23:59 (`+25:00` is no time zone).
    if !zone_ok || (!zone.is_empty() && zone_minutes(zone).is_none_or(|m| m.abs() >= 24 * 60)) {
        return None;
    }
    let mut fields = clock.split(':');
    let hours: u32 = two_digits(fields.next()?)?;
    let minutes: u32 = two_digits(fields.next()?)?;
    let seconds: f64 = match fields.next() {
        Some(s) => {
            let whole = s.split('.').next()?;
            if whole.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return None;
            }
            s.parse().ok()?
        }
        None => 0.0,
    };
    if fields.next().is_some() || hours > 23 || minutes > 59 || seconds >= 60.0 {
        return None;
    }
    Some((
        f64::from(hours * 3600 + minutes * 60) + seconds,
        zone_minutes(zone),
    ))
}

/// The minutes of a checked zone suffix: `Z` is 0, `+02:00`, `+0200` and `+02` are 120.
fn zone_minutes(zone: &str) -> Option<i32> {
    if zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'-' => -1,
        _ => 1,
    };
    let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
    let (hours, minutes) = digits.split_at(digits.len().min(2));
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = if minutes.is_empty() {
        0
    } else {
        minutes.parse().ok().filter(|m| *m < 60)?
    };
    Some(sign * (hours * 60 + minutes))
}

fn two_digits(text: &str) -> Option<u32> {
    ((1..=2).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(text: &str, order: DateOrder) -> Option<f64> {
        days_since_epoch(&parse_date(text)?, order)
    }

    #[test]
    fn iso_dates_and_times() {
        assert_eq!(days("1970-01-01", DateOrder::Ymd), Some(0.0));
        assert_eq!(days("2024-03-05", DateOrder::Ymd), Some(19_787.0));
        assert_eq!(days("2024/03/05", DateOrder::Ymd), Some(19_787.0));
        assert_eq!(days("1970-01-02T12:00:00Z", DateOrder::Ymd), Some(1.5));
        assert_eq!(days("1970-01-01 06:00", DateOrder::Ymd), Some(0.25));
        assert_eq!(
            days("1970-01-01T06:00:00.5+02:00", DateOrder::Ymd).map(|d| (d * 86_400.0).round()),
            Some(21_601.0)
        );
        for text in [
            "2024-13-01",
            "2024-02-30",
            "20240305",
            "2024-03",
            "x2024-03-05",
            "2024-03-05T25:00",
            "2024.03.05",
            "12345678",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    #[test]
    fn day_month_order_is_decided_per_column() {
        let mut evidence = DateEvidence::new();
        for text in ["05/03/2024", "01/02/2024"] {
            assert!(evidence.add(&parse_date(text).expect("a date")));
        }
        assert!(evidence.ambiguous());
        assert_eq!(evidence.order(), Some(DateOrder::Dmy));
        assert!(evidence.add(&parse_date("03/25/2024").expect("a date")));
        assert_eq!(evidence.order(), Some(DateOrder::Mdy));
        assert!(
            !evidence.add(&parse_date("25/03/2024").expect("a date")),
            "both orders ruled out"
        );
        let mut dots = DateEvidence::new();
        assert!(dots.add(&parse_date("5.3.2024").expect("a date")));
        assert_eq!(dots.order(), Some(DateOrder::Dmy));
        assert!(!dots.add(&parse_date("3.25.2024").expect("a shape")));
        let mut mixed = DateEvidence::new();
        assert!(mixed.add(&parse_date("2024-03-05").expect("a date")));
        assert!(!mixed.add(&parse_date("05/03/2024").expect("a date")));
        assert_eq!(
            days("05/03/2024", DateOrder::Dmy),
            days("2024-03-05", DateOrder::Ymd)
        );
        assert_eq!(
            days("03/05/2024", DateOrder::Mdy),
            days("2024-03-05", DateOrder::Ymd)
        );
    }

    #[test]
    fn dots_are_day_first_and_seconds_stop_at_59() {
        assert_eq!(days("5.3.2024", DateOrder::Mdy), None);
        assert_eq!(
            days("5.3.2024", DateOrder::Dmy),
            days("2024-03-05", DateOrder::Ymd)
        );
        assert_eq!(parse_date("2024-12-31T23:59:60"), None);
    }

    #[test]
    fn offsets_are_read_but_not_applied() {
        let offset = |text| parse_date(text).expect("a date").offset;
        assert_eq!(offset("2024-03-05T23:00:00+09:00"), Some(540));
        assert_eq!(offset("2024-03-05T08:00-0800"), Some(-480));
        assert_eq!(offset("2024-03-05 08:00+05"), Some(300));
        assert_eq!(offset("2024-03-05T08:00Z"), Some(0));
        // The helper's report: RFC 3339's lowercase `z`; `+25:00` is no offset.
        assert_eq!(offset("2024-03-05T08:00z"), Some(0));
        assert_eq!(parse_date("2024-03-05T08:00+25:00"), None);
        assert_eq!(offset("2024-03-05T08:00"), None);
        assert_eq!(
            days("2024-03-05T23:00:00+09:00", DateOrder::Ymd),
            days("2024-03-05T23:00:00-08:00", DateOrder::Ymd),
            "the time as written"
        );
    }

    #[test]
    fn calendar_parts_of_a_day_count() {
        // 2024-03-05 was a Tuesday.
        assert_eq!(calendar_parts(19_787.75), Some([2024.0, 3.0, 5.0, 1.0]));
        assert_eq!(calendar_parts(f64::NAN), None);
    }
}

//! Calendar dates as day numbers (days since 1970-01-01), with no time zone: the export's dates are
//! plain calendar dates.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar date of a day number.
pub(crate) fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The first day an export's date cell may name: 1970-01-01.
pub(crate) const FIRST_DAY: i32 = 0;

/// The last day an export's date cell may name: 2100-12-31 (dates outside the range are bad
/// cells, so that no span of days can explode a computation).
pub(crate) const LAST_DAY: i32 = 47_846;

/// Whether a day number lies within [`FIRST_DAY`] ..= [`LAST_DAY`].
pub(crate) fn in_date_range(day: i32) -> bool {
    (FIRST_DAY..=LAST_DAY).contains(&day)
}

/// A parsed date cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParsedDate {
    /// The day number (the first of the month for a `YYYY-MM` cell).
    pub day: i32,
    /// The cell named only a month (`YYYY-MM`).
    pub month_only: bool,
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// Parses `YYYY-MM-DD`, `YYYY-MM`, or a timestamp whose date part is `YYYY-MM-DD` followed by `T` or
/// a space and a time of day (checked, then ignored with any zone: the export's dates are calendar
/// dates). A time that is no time of day (`25:61`) makes the cell a bad one.
pub(crate) fn parse_date(cell: &str) -> Option<ParsedDate> {
    let b = cell.trim().as_bytes();
    if b.len() < 7 || b[4] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if b.len() == 7 {
        return Some(ParsedDate {
            day: days_from_civil(year, month, 1),
            month_only: true,
        });
    }
    if b.len() < 10 || b[7] != b'-' {
        return None;
    }
    let day = digits(&b[8..10])?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if b.len() > 10 && !(matches!(b[10], b'T' | b't' | b' ') && valid_time(&b[11..])) {
        return None;
    }
    Some(ParsedDate {
        day: days_from_civil(year, month, day),
        month_only: false,
    })
}

/// Whether `b` is a time of day, `HH:MM[:SS[.fraction]]` (hours 0 to 23, minutes 0 to 59, seconds
/// 0 to 60 for a leap second), then optionally a zone: `Z`, `+HH`, `+HHMM` or `+HH:MM` (or `-`),
/// and a zone's name (`UTC`), with spaces between.
fn valid_time(b: &[u8]) -> bool {
    let two = |i: usize, max: u32| b.get(i..i + 2).and_then(digits).is_some_and(|n| n <= max);
    if !(two(0, 23) && b.get(2) == Some(&b':') && two(3, 59)) {
        return false;
    }
    let mut rest = &b[5..];
    if rest.first() == Some(&b':') {
        if !(rest.len() >= 3 && rest[1..3].iter().all(u8::is_ascii_digit) && two(6, 60)) {
            return false;
        }
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return false;
            }
            rest = &rest[1 + n..];
        }
    }
    let rest = rest.trim_ascii_start();
    let rest = match rest.first() {
        Some(b'Z' | b'z') => &rest[1..],
        Some(b'+' | b'-') => {
            let zone = &rest[1..];
            let hours = zone.get(..2).and_then(digits).is_some_and(|h| h <= 23);
            if !hours {
                return false;
            }
            let zone = &zone[2..];
            let zone = zone.strip_prefix(b":").unwrap_or(zone);
            match zone.get(..2).and_then(digits) {
                Some(m) if m <= 59 => &zone[2..],
                Some(_) => return false,
                None if zone.first().is_some_and(u8::is_ascii_digit) => return false,
                None => zone,
            }
        }
        _ => rest,
    };
    let name = rest.trim_ascii();
    name.len() <= 5 && name.iter().all(u8::is_ascii_alphabetic)
}

/// The day number of a cell that is exactly `YYYY-MM-DD` (a valid date), read from the bytes: what
/// [`parse_date`] gives such a cell, without a look at any other form (`None` for those).
#[inline]
pub(crate) fn parse_plain_day(b: &[u8]) -> Option<i32> {
    let b: &[u8; 10] = b.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = |i: usize| {
        let x = b[i].wrapping_sub(b'0');
        (x < 10).then_some(u32::from(x))
    };
    let year = d(0)? * 1000 + d(1)? * 100 + d(2)? * 10 + d(3)?;
    let month = d(5)? * 10 + d(6)?;
    let day = d(8)? * 10 + d(9)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i32, month) {
        return None;
    }
    Some(days_from_civil(year as i32, month, day))
}

/// Parses a strict `YYYY-MM-DD` (as the API and the filters take them).
pub(crate) fn parse_day(s: &str) -> Option<i32> {
    match parse_date(s) {
        Some(d) if !d.month_only && s.trim().len() == 10 => Some(d.day),
        _ => None,
    }
}

/// `YYYY-MM-DD`.
pub(crate) fn format_day(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC calendar day, `YYYY-MM-DD`, of a time in seconds since 1970-01-01 00:00 UTC (what
/// `SOURCE_DATE_EPOCH` holds); `None` outside 1970-01-01 ..= 2100-12-31.
pub fn utc_day(unix_seconds: i64) -> Option<String> {
    let days = i32::try_from(unix_seconds.div_euclid(86_400)).ok()?;
    in_date_range(days).then(|| format_day(days))
}

/// `YYYY-MM`.
pub(crate) fn format_month(days: i32) -> String {
    let (y, m, _) = civil_from_days(days);
    format!("{y:04}-{m:02}")
}

/// The Monday on or before a day.
pub(crate) fn week_start(days: i32) -> i32 {
    // 1970-01-01 was a Thursday: three days after a Monday.
    days - (days + 3).rem_euclid(7)
}

/// The first day of the day's month.
pub(crate) fn month_start(days: i32) -> i32 {
    let (y, m, _) = civil_from_days(days);
    days_from_civil(y, m, 1)
}

/// The day's month as a number: consecutive months differ by 1 (year × 12 + month − 1).
pub(crate) fn month_number(days: i32) -> i64 {
    let (y, m, _) = civil_from_days(days);
    i64::from(y) * 12 + i64::from(m) - 1
}

/// The first day of the month with this [`month_number`] (`None` past the calendar's range).
pub(crate) fn month_first_day(number: i64) -> Option<i32> {
    let year = i32::try_from(number.div_euclid(12)).ok()?;
    Some(days_from_civil(year, number.rem_euclid(12) as u32 + 1, 1))
}

/// The last day of the day's month.
pub(crate) fn month_end(days: i32) -> i32 {
    let (y, m, _) = civil_from_days(days);
    days_from_civil(y, m, days_in_month(y, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_day_of_seconds_since_1970() {
        // 2025-01-01T00:00:00Z is 20 089 days after 1970-01-01; one second before is Dec 31.
        assert_eq!(utc_day(1_735_689_600).as_deref(), Some("2025-01-01"));
        assert_eq!(utc_day(1_735_689_599).as_deref(), Some("2024-12-31"));
        assert_eq!(utc_day(0).as_deref(), Some("1970-01-01"));
        assert_eq!(utc_day(-1), None);
        assert_eq!(utc_day(i64::MAX), None);
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for d in -150_000..150_000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_day(days_from_civil(2024, 2, 29)), "2024-02-29");
    }

    #[test]
    fn the_date_range_is_1970_to_2100() {
        assert_eq!(FIRST_DAY, days_from_civil(1970, 1, 1));
        assert_eq!(LAST_DAY, days_from_civil(2100, 12, 31));
        assert!(!in_date_range(days_from_civil(1969, 12, 31)));
        assert!(!in_date_range(days_from_civil(2101, 1, 1)));
    }

    #[test]
    fn parses_the_export_date_forms() {
        let d = days_from_civil(2025, 3, 4);
        assert_eq!(parse_date("2025-03-04").unwrap().day, d);
        assert_eq!(parse_date(" 2025-03-04T13:45:00Z ").unwrap().day, d);
        assert_eq!(parse_date("2025-03-04 00:00:00.000").unwrap().day, d);
        let m = parse_date("2025-03").unwrap();
        assert!(m.month_only);
        assert_eq!(m.day, days_from_civil(2025, 3, 1));
        for bad in [
            "2025-02-30",
            "2025-13-01",
            "2025/03/04",
            "03-04-2025",
            "2025-03-04x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_day("2025-03"), None);
        // The bytes' fast path agrees with the text's on the export's form, and leaves the
        // rest to it.
        for cell in [
            "2025-03-04",
            "2024-02-29",
            "1970-01-01",
            "2100-12-31",
            "0000-01-01",
        ] {
            assert_eq!(
                parse_plain_day(cell.as_bytes()),
                parse_date(cell).map(|p| p.day),
                "{cell}"
            );
        }
        for other in [
            "2025-02-30",
            "2025-13-01",
            "2025-00-10",
            "2025-03-04x",
            " 2025-03-04",
            "2025-3-04x",
            "2025-03",
        ] {
            assert_eq!(parse_plain_day(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn weeks_start_on_monday_and_months_have_ends() {
        // 2025-03-05 is a Wednesday; its Monday is 2025-03-03.
        assert_eq!(
            format_day(week_start(days_from_civil(2025, 3, 5))),
            "2025-03-03"
        );
        assert_eq!(
            format_day(week_start(days_from_civil(2025, 3, 3))),
            "2025-03-03"
        );
        assert_eq!(
            format_day(month_end(days_from_civil(2024, 2, 10))),
            "2024-02-29"
        );
        assert_eq!(
            format_month(month_start(days_from_civil(2024, 2, 10))),
            "2024-02"
        );
    }

    /// A timestamp's time of day was ignored unread: `2025-01-02T25:61` was 2025-01-02.
    #[test]
    fn a_timestamp_with_no_time_of_day_is_not_a_date() {
        let day = days_from_civil(2025, 1, 2);
        for good in [
            "2025-01-02T00:00",
            "2025-01-02T23:59:59",
            "2025-01-02T23:59:60Z",
            "2025-01-02 10:30:00.123456+02:00",
            "2025-01-02T10:30-0500",
            "2025-01-02T10:30+05",
            "2025-01-02 00:00:00 +0000 UTC",
            "2025-01-02t08:00:00z",
        ] {
            assert_eq!(parse_date(good).map(|d| d.day), Some(day), "{good}");
        }
        for bad in [
            "2025-01-02T25:61",
            "2025-01-02T24:00",
            "2025-01-02T12:60",
            "2025-01-02T12:00:61",
            "2025-01-02T",
            "2025-01-02T1:00",
            "2025-01-02T12:00:5",
            "2025-01-02T12:00:00.",
            "2025-01-02T12:00+25:00",
            "2025-01-02T12:00+05:99",
            "2025-01-02T12:00 not a zone name",
            "2025-01-02 noon",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}

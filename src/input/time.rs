//! `started_at` as an instant, for the server's default order (`started_at`,
//! then `id`). Timestamps arrive as RFC 3339 text with any UTC offset;
//! comparing the text would misorder `…T01:00:00+02:00` and `…T00:00:00Z`.

/// Microseconds since 1970-01-01T00:00:00Z, or `None` if `s` is not a
/// readable timestamp. Accepts `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`
/// (`T`/`t`/space as separator, `z` too); a missing offset means UTC, as the
/// reference assumes for naive datetimes. Fractions beyond microseconds are
/// truncated: the reference stores microseconds.
pub fn parse_instant(s: impl AsRef<[u8]>) -> Option<i64> {
    let b = s.as_ref();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        (micros, i) = fraction_micros(b, i + 1)?;
    }

    let offset_minutes = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let m = oh * 60 + om;
            if sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return None,
    };

    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000_000 + micros)
}

/// The digits of a seconds fraction from `start` (just past its `.`) as
/// microseconds, truncated past six digits, and the index after them; `None`
/// if there is no digit.
pub fn fraction_micros(b: &[u8], start: usize) -> Option<(i64, usize)> {
    let mut i = start;
    let mut micros = 0i64;
    while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
        if i - start < 6 {
            micros = micros * 10 + i64::from(d - b'0');
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    for _ in (i - start)..6 {
        micros *= 10;
    }
    Some((micros, i))
}

/// `n` ASCII digits at `at`, as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let slice = b.get(at..at + n)?;
    slice.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`): year, month, day.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// An instant (microseconds since the epoch) as RFC 3339 in a fixed
/// offset (minutes east of UTC): `2025-03-09T00:00:00-05:00`, `Z` for 0.
pub(crate) fn format_instant(t: i64, offset: i32) -> String {
    let local = t.div_euclid(1_000_000) + i64::from(offset) * 60;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let zone = if offset == 0 {
        String::from("Z")
    } else {
        let a = offset.unsigned_abs();
        format!("{}{:02}:{:02}", if offset < 0 { '-' } else { '+' }, a / 60, a % 60)
    };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// An instant (microseconds since the epoch) as RFC 3339 in UTC, with its
/// fraction when it has one: `2025-03-09T10:00:00.250000Z`.
pub(crate) fn format_micros(t: i64) -> String {
    let whole = format_instant(t, 0);
    let micros = t.rem_euclid(1_000_000);
    if micros == 0 {
        return whole;
    }
    let mut s = whole;
    s.pop();
    format!("{s}.{micros:06}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip_and_format() {
        for days in [-800_000, -1, 0, 59, 10_957, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_instant(0, 0), "1970-01-01T00:00:00Z");
        let t = parse_instant("2025-03-09T00:00:00-05:00").unwrap();
        assert_eq!(format_instant(t, -300), "2025-03-09T00:00:00-05:00");
        assert_eq!(format_instant(t, 345), "2025-03-09T10:45:00+05:45");
    }

    #[test]
    fn epoch_and_offsets() {
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_instant("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_instant("1969-12-31T17:00:00-07:00"), Some(0));
        assert_eq!(parse_instant("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_instant("2025-02-28T17:00:07.123456-07:00"), parse_instant("2025-03-01T00:00:07.123456Z"));
    }

    #[test]
    fn fractions_truncate_to_microseconds() {
        assert_eq!(parse_instant("1970-01-01T00:00:00.1234567Z"), Some(123_456));
        assert_eq!(parse_instant("1970-01-01T00:00:00.000001Z"), Some(1));
    }

    #[test]
    fn leap_days_and_far_dates() {
        assert!(parse_instant("2024-02-29T00:00:00Z").is_some());
        assert!(parse_instant("2000-02-29T00:00:00Z").is_some());
        assert_eq!(parse_instant("1900-02-29T00:00:00Z"), None);
        assert_eq!(parse_instant("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_instant("0001-01-01T00:00:00Z"), Some(-62_135_596_800_000_000));
        assert_eq!(parse_instant("9999-12-31T23:59:59.999999Z"), Some(253_402_300_799_999_999));
    }

    #[test]
    fn unreadable_timestamps() {
        for s in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-01-32T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:60Z",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00+0100",
            "2025-01-01T00:00:00+01:00x",
            "2025-01-01T00:00:00Zx",
            "2025-01-01",
            "0000-01-01T00:00:00Z",
            "２０２５-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_instant(s), None, "{s:?}");
        }
    }
}

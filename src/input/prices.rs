//! `options.prices`: price rows in Weave's `/costs/query` shape, validated
//! like a pydantic model (lax mode). How they price a call is
//! `usage::pricer`.
//!
//! Where the reference is silent: `pricing_level` defaults to `"project"`
//! and `pricing_level_id` to the request's project (`"default"` for a
//! default row), so rows from `/costs/query`, which carries neither, apply
//! as-is.

use super::lax::{collect, extra_keys, fixed, missing, string, Rejection, STRING_TYPE};
use super::pynum::parse_float_str;
use super::time::{days_from_civil, days_in_month, fraction_micros};
use crate::error::{Detail, Kind, Loc};
use crate::json::{Num, Value};

/// Where a row applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Project,
    Default,
}

/// One validated price row.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRow {
    pub llm_id: String,
    /// Per token: prompt, completion, cache read, cache creation (null or
    /// absent: 0, as `float(x or 0.0)` reads it).
    pub rates: [f64; 4],
    /// Microseconds since the epoch (a date without an offset is UTC).
    pub effective: i64,
    pub level: Level,
    /// `None`: the request's project for a project row, `"default"` for a default one.
    pub level_id: Option<String>,
}

/// The row's fields that are read, in the model's order (errors come in it).
const RATE_FIELDS: [&str; 4] =
    ["prompt_token_cost", "completion_token_cost", "cache_read_input_token_cost", "cache_creation_input_token_cost"];

/// Every key a row may carry: the read ones, then those a `/costs/query` row
/// or a stored row also has, which are accepted and ignored (costs are in
/// USD, as the reference assumes). Any other key is `extra_forbidden`, so a
/// misspelt rate never silently prices at 0.
const ROW_KEYS: [&str; 14] = [
    "llm_id",
    "prompt_token_cost",
    "completion_token_cost",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "effective_date",
    "pricing_level",
    "pricing_level_id",
    "provider_id",
    "id",
    "prompt_token_cost_unit",
    "completion_token_cost_unit",
    "created_at",
    "created_by",
];

const FLOAT_TYPE: Rejection = fixed(Kind::FloatType);
const FLOAT_PARSING: Rejection = fixed(Kind::FloatParsing);
const LEVEL_LITERAL: Rejection = (Kind::LiteralError, "Input should be 'project' or 'default'");

impl PriceRow {
    /// Validates row `index` of `options.prices`, adding every problem to
    /// `errors` at `["options", "prices", index, field]`.
    pub fn from_value(v: &Value, index: usize, errors: &mut Vec<Detail>) -> Option<PriceRow> {
        let loc = vec![Loc::from("options"), Loc::from("prices"), Loc::Index(index)];
        let Value::Object(entries) = v else {
            errors.push(Detail::new(loc, Kind::ModelType, "Input should be a valid dictionary or instance of PriceRow"));
            return None;
        };
        let before = errors.len();
        let at = |field: &str| {
            let mut l = loc.clone();
            l.push(Loc::from(field));
            l
        };
        let llm_id = match v.get("llm_id") {
            None => missing(errors, at("llm_id")),
            Some(x) => collect(errors, at("llm_id"), string(x)),
        };
        let mut rates = [0.0; 4];
        for (rate, field) in rates.iter_mut().zip(RATE_FIELDS) {
            if let Some(x) = v.get(field) {
                *rate = collect(errors, at(field), lax_float(x)).unwrap_or(0.0);
            }
        }
        let effective = match v.get("effective_date") {
            None => missing(errors, at("effective_date")),
            Some(x) => match effective_date(x) {
                Ok(t) => Some(t),
                Err((kind, msg)) => {
                    errors.push(Detail::new(at("effective_date"), kind, msg));
                    None
                }
            },
        };
        let level = match v.get("pricing_level") {
            None => Some(Level::Project),
            Some(Value::String(s)) if s == "project" => Some(Level::Project),
            Some(Value::String(s)) if s == "default" => Some(Level::Default),
            Some(_) => collect(errors, at("pricing_level"), Err(LEVEL_LITERAL)),
        };
        let level_id = match v.get("pricing_level_id") {
            None | Some(Value::Null) => Some(None),
            Some(x) => collect(errors, at("pricing_level_id"), string(x)).map(Some),
        };
        if let Some(x) = v.get("provider_id") {
            if !matches!(x, Value::Null | Value::String(_)) {
                errors.push(Detail::new(at("provider_id"), STRING_TYPE.0, STRING_TYPE.1));
            }
        }
        extra_keys(entries, &ROW_KEYS, &loc, errors);
        match (llm_id, effective, level, level_id) {
            (Some(llm_id), Some(effective), Some(level), Some(level_id)) if errors.len() == before => {
                Some(PriceRow { llm_id, rates, effective, level, level_id })
            }
            _ => None,
        }
    }
}

/// pydantic's lax `float | None`: `None` is 0 here (the reference reads the
/// rate as `float(x or 0.0)`); bools and integers convert; strings parse as
/// Python's `float()` parses them.
fn lax_float(v: &Value) -> Result<f64, Rejection> {
    match v {
        Value::Null => Ok(0.0),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Number(Num::Int(i)) => Ok(*i as f64),
        Value::Number(Num::Float(f)) => Ok(*f),
        // float() of an integer too big for a double raises.
        Value::Number(Num::BigInt { approx }) if approx.is_finite() => Ok(*approx),
        Value::Number(Num::BigInt { .. }) => Err(FLOAT_TYPE),
        // Unlike float(), pydantic refuses non-ASCII digits (white space is fine).
        Value::String(s) if s.chars().any(|c| !c.is_ascii() && !c.is_whitespace()) => Err(FLOAT_PARSING),
        Value::String(s) => parse_float_str(s).ok_or(FLOAT_PARSING),
        Value::Array(_) | Value::Object(_) => Err(FLOAT_TYPE),
    }
}

/// A failed `effective_date`: pydantic's error type and message.
type DateError = (Kind, String);

/// pydantic's lax `datetime`, as microseconds since the epoch: RFC 3339 or
/// ISO 8601 text (`YYYY-MM-DD`, optionally `T`/`t`/space, `HH:MM[:SS[.f]]`,
/// `Z` or `±HH[:]MM`; no offset means UTC, as the reference assumes), or a
/// Unix timestamp, as a number or numeric text, in seconds, or in
/// milliseconds beyond ±2e10.
pub fn effective_date(v: &Value) -> Result<i64, DateError> {
    match v {
        Value::Number(Num::Int(i)) => timestamp(*i as f64),
        Value::Number(Num::Float(f) | Num::BigInt { approx: f }) => timestamp(*f),
        Value::String(s) if is_numeric(s) => timestamp(s.parse::<f64>().unwrap_or(f64::NAN)),
        Value::String(s) => iso_datetime(s.as_bytes())
            .map_err(|why| (Kind::DatetimeFromDateParsing, format!("Input should be a valid datetime or date, {why}"))),
        Value::Null | Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            Err((Kind::DatetimeType, Kind::DatetimeType.message().unwrap_or_default().into()))
        }
    }
}

/// Text pydantic reads as a timestamp: a sign, digits, and a fraction.
fn is_numeric(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// Seconds (or milliseconds beyond ±2e10) since the epoch, within years 0 to 9999.
fn timestamp(t: f64) -> Result<i64, DateError> {
    const MIN: f64 = -62_167_219_200.0; // 0000-01-01T00:00:00Z
    const MAX: f64 = 253_402_300_799.0; // 9999-12-31T23:59:59Z
    let seconds = if t.abs() > 2e10 { t / 1000.0 } else { t };
    if seconds.is_nan() || seconds > MAX {
        return Err((
            Kind::DatetimeParsing,
            "Input should be a valid datetime, dates after 9999 are not supported as unix timestamps".into(),
        ));
    }
    if seconds < MIN {
        return Err((
            Kind::DatetimeParsing,
            "Input should be a valid datetime, dates before 0000 are not supported as unix timestamps".into(),
        ));
    }
    // In range, so the product fits an i64 exactly enough.
    Ok((seconds * 1e6).round() as i64)
}

/// An ISO date or date-time; the error names what is wrong, as speedate does.
fn iso_datetime(b: &[u8]) -> Result<i64, &'static str> {
    if b.len() < 10 {
        return Err("input is too short");
    }
    let num = |from: usize, len: usize, what: &'static str| -> Result<i64, &'static str> {
        let part = b.get(from..from + len).ok_or("input is too short")?;
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
        } else {
            Err(what)
        }
    };
    let year = num(0, 4, "invalid character in year")?;
    if b.get(4) != Some(&b'-') {
        return Err("invalid date separator, expected `-`");
    }
    let month = num(5, 2, "invalid character in month")?;
    if b.get(7) != Some(&b'-') {
        return Err("invalid date separator, expected `-`");
    }
    let day = num(8, 2, "invalid character in day")?;
    if !(1..=12).contains(&month) {
        return Err("month value is outside expected range of 1-12");
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err("day value is outside expected range");
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Ok(days * 86_400_000_000);
    }
    let micros = time_of_day(b.get(10..).unwrap_or_default()).ok_or("unexpected extra characters at the end of the input")?;
    Ok(days * 86_400_000_000 + micros)
}

/// `THH:MM[:SS[.f]][offset]` after a date: microseconds past the date's UTC midnight.
fn time_of_day(b: &[u8]) -> Option<i64> {
    let two = |i: usize| -> Option<i64> {
        let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| i64::from(x - b'0') * 10 + i64::from(y - b'0'))
    };
    if !matches!(b.first(), Some(b'T' | b't' | b' ')) || b.get(3) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (two(1)?, two(4)?);
    let mut i = 6;
    let mut second = 0;
    let mut micros = 0;
    if b.get(i) == Some(&b':') {
        second = two(i + 1)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            (micros, i) = fraction_micros(b, i + 1)?;
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset_minutes = match b.get(i..).unwrap_or_default() {
        [] => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    let d = |x: &u8| x.is_ascii_digit().then(|| i64::from(x - b'0'));
                    (d(h1)? * 10 + d(h2)?, d(m1)? * 10 + d(m2)?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    Some(((hour * 60 + minute - offset_minutes) * 60 + second) * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn dates_read_like_pydantic() {
        let day = 86_400_000_000i64;
        let jan1 = days_from_civil(2024, 1, 1) * day;
        for (text, want) in [
            ("2024-01-01", jan1),
            ("2024-01-01T00:00:00Z", jan1),
            ("2024-01-01t00:00:00z", jan1),
            ("2024-01-01 00:00", jan1),
            ("2024-01-01T00:00Z", jan1),
            ("2024-01-01T02:00:00+02:00", jan1),
            ("2024-01-01T02:00:00+0200", jan1),
            ("2023-12-31T23:00:00-01:00", jan1),
            ("2024-01-01T00:00:00.1234567Z", jan1 + 123_456),
            ("2024-01-01T00:00:00,5", jan1 + 500_000),
            ("1700000000", 1_700_000_000_000_000),
            ("1700000000.5", 1_700_000_000_500_000),
            ("-1", -1_000_000),
            ("+5", 5_000_000),
            ("5.", 5_000_000),
            ("-99999999999", -99_999_999_999_000),
        ] {
            assert_eq!(effective_date(&s(text)), Ok(want), "{text}");
        }
        assert_eq!(effective_date(&Value::Number(Num::Int(20_000_000_000))), Ok(20_000_000_000_000_000));
        assert_eq!(effective_date(&Value::Number(Num::Float(1.7e12))), Ok(1_700_000_000_000_000));
        let why = |text: &str| effective_date(&s(text)).unwrap_err().1;
        for (text, reason) in [
            ("", "input is too short"),
            ("1e5", "input is too short"),
            ("2024-1-01", "input is too short"),
            ("abcdefghijklmn", "invalid character in year"),
            (" 2024-01-01", "invalid character in year"),
            ("2024/01/01", "invalid date separator, expected `-`"),
            ("2024-00-01", "month value is outside expected range of 1-12"),
            ("2023-02-29", "day value is outside expected range"),
            ("2024-01-01T", "unexpected extra characters at the end of the input"),
            ("2024-01-01T00", "unexpected extra characters at the end of the input"),
            ("2024-01-01T24:00:00", "unexpected extra characters at the end of the input"),
            ("2024-01-01T00:00:60", "unexpected extra characters at the end of the input"),
            ("2024-01-01T00:00:00.", "unexpected extra characters at the end of the input"),
            ("2024-01-01T00:00:00+02", "unexpected extra characters at the end of the input"),
            ("2024-01-01T00:00:00+25:00", "unexpected extra characters at the end of the input"),
            ("2024-01-01T00:00:00 ", "unexpected extra characters at the end of the input"),
            ("2024-01-01X", "unexpected extra characters at the end of the input"),
        ] {
            assert_eq!(why(text), format!("Input should be a valid datetime or date, {reason}"), "{text}");
        }
        assert_eq!(effective_date(&Value::Bool(true)).unwrap_err().0, "datetime_type");
        assert_eq!(effective_date(&Value::Null).unwrap_err().1, "Input should be a valid datetime");
        assert_eq!(effective_date(&Value::Number(Num::Float(1e30))).unwrap_err().0, "datetime_parsing");
        assert!(effective_date(&Value::Number(Num::Float(-1e14))).unwrap_err().1.contains("before 0000"));
    }

    #[test]
    fn rows_report_every_problem_at_its_field() {
        let row = Value::Object(vec![
            ("llm_id".into(), Value::Number(Num::Int(5))),
            ("prompt_token_cost".into(), s("abc")),
            ("completion_token_cost".into(), Value::Array(vec![])),
            ("effective_date".into(), s("2024-13-01")),
            ("pricing_level".into(), s("org")),
            ("prompt_cost".into(), Value::Number(Num::Int(1))),
        ]);
        let mut errors = Vec::new();
        assert!(PriceRow::from_value(&row, 3, &mut errors).is_none());
        let got: Vec<(String, &str)> = errors.iter().map(|d| (format!("{:?}", d.loc.get(3)), d.kind.as_str())).collect();
        let field = |f: &str| format!("{:?}", Some(Loc::from(f)));
        assert_eq!(
            got,
            vec![
                (field("llm_id"), "string_type"),
                (field("prompt_token_cost"), "float_parsing"),
                (field("completion_token_cost"), "float_type"),
                (field("effective_date"), "datetime_from_date_parsing"),
                (field("pricing_level"), "literal_error"),
                (field("prompt_cost"), "extra_forbidden"),
            ]
        );
        assert!(errors.iter().all(|d| d.loc.get(..3) == Some(&[Loc::from("options"), Loc::from("prices"), Loc::Index(3)][..])));
        let mut errors = Vec::new();
        assert!(PriceRow::from_value(&Value::Object(vec![]), 0, &mut errors).is_none());
        assert_eq!(errors.iter().map(|d| d.kind.as_str()).collect::<Vec<_>>(), ["missing", "missing"]);
    }

    /// The row choice as first written, a scan of every applicable row of
    /// the model in the order given: the oracle for the index.
    #[test]
    fn a_query_row_is_accepted_as_is() {
        let row = Value::Object(vec![
            ("id".into(), s("2341-asdf")),
            ("llm_id".into(), s("gpt-4o")),
            ("prompt_token_cost".into(), Value::Number(Num::Float(2.5e-6))),
            ("completion_token_cost".into(), s("1e-5")),
            ("prompt_token_cost_unit".into(), s("USD")),
            ("completion_token_cost_unit".into(), s("USD")),
            ("effective_date".into(), s("2024-01-01T00:00:00Z")),
            ("provider_id".into(), s("openai")),
        ]);
        let mut errors = Vec::new();
        let r = PriceRow::from_value(&row, 0, &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!((r.level, r.level_id, r.rates), (Level::Project, None, [2.5e-6, 1e-5, 0.0, 0.0]));
    }
}

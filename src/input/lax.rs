//! pydantic's lax readers: how a JSON value becomes a `str`, `bool`, `int`
//! or `list[str]` field, and the error each rejection reports. Shared by
//! the request, the options and the price rows.

use crate::error::{Detail, Kind, Loc};
use crate::json::{Num, Value};

/// One `extra_forbidden` per key of `entries` not in `fields`, in the order given.
pub(crate) fn extra_keys(entries: &[(String, Value)], fields: &[&str], loc: &[Loc], errors: &mut Vec<Detail>) {
    for (key, _) in entries {
        if !fields.contains(&key.as_str()) {
            let mut l = loc.to_vec();
            l.push(Loc::from(key.as_str()));
            errors.push(Detail::of(l, Kind::ExtraForbidden));
        }
    }
}

/// A rejected field: its kind and message.
pub(crate) type Rejection = (Kind, &'static str);

/// The rejection of a kind whose message is fixed.
pub(crate) const fn fixed(kind: Kind) -> Rejection {
    debug_assert!(kind.message().is_some());
    (
        kind,
        match kind.message() {
            Some(msg) => msg,
            None => "",
        },
    )
}

pub(crate) const STRING_TYPE: Rejection = fixed(Kind::StringType);
const BOOL_TYPE: Rejection = fixed(Kind::BoolType);
const BOOL_PARSING: Rejection = fixed(Kind::BoolParsing);
const INT_TYPE: Rejection = fixed(Kind::IntType);
const INT_PARSING: Rejection = fixed(Kind::IntParsing);
const INT_FROM_FLOAT: Rejection = fixed(Kind::IntFromFloat);
const INT_PARSING_SIZE: Rejection = fixed(Kind::IntParsingSize);
const FINITE_NUMBER: Rejection = fixed(Kind::FiniteNumber);
const AT_LEAST_ONE: Rejection = fixed(Kind::GreaterThanEqual);

pub(crate) fn missing<T>(errors: &mut Vec<Detail>, loc: Vec<Loc>) -> Option<T> {
    errors.push(Detail::of(loc, Kind::Missing));
    None
}

pub(crate) fn collect<T>(errors: &mut Vec<Detail>, loc: Vec<Loc>, r: std::result::Result<T, Rejection>) -> Option<T> {
    r.map_err(|(kind, msg)| errors.push(Detail::new(loc, kind, msg))).ok()
}

pub(crate) fn string(v: &Value) -> std::result::Result<String, Rejection> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(STRING_TYPE),
    }
}

/// `list[str]`: a non-list is one `list_type` error; otherwise one
/// `string_type` error per bad item, each at its index.
pub(crate) fn string_list(v: &Value, loc: &[Loc], errors: &mut Vec<Detail>) -> Option<Vec<String>> {
    let Value::Array(items) = v else {
        errors.push(Detail::of(loc.to_vec(), Kind::ListType));
        return None;
    };
    let before = errors.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut item_loc = loc.to_vec();
        item_loc.push(Loc::Index(i));
        if let Some(s) = collect(errors, item_loc, string(item)) {
            out.push(s);
        }
    }
    (errors.len() == before).then_some(out)
}

/// pydantic's lax `bool`. Numbers are judged as i64: one that is not an
/// integer, or does not fit in an i64, is not a bool at all (`bool_type`);
/// an i64 other than 0 or 1 is an unreadable one (`bool_parsing`).
pub(crate) fn boolean(v: &Value) -> std::result::Result<bool, Rejection> {
    const I64_RANGE: std::ops::Range<f64> = -9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0;
    let as_i64 = match v {
        Value::Bool(b) => return Ok(*b),
        Value::String(s) => {
            return match s.to_ascii_lowercase().as_str() {
                "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
                "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
                _ => Err(BOOL_PARSING),
            }
        }
        Value::Number(Num::Int(i)) => i64::try_from(*i).ok(),
        Value::Number(Num::Float(f)) if f.fract() == 0.0 && I64_RANGE.contains(f) => Some(*f as i64),
        Value::Number(Num::Float(_) | Num::BigInt { .. }) | Value::Null | Value::Array(_) | Value::Object(_) => None,
    };
    match as_i64 {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        Some(_) => Err(BOOL_PARSING),
        None => Err(BOOL_TYPE),
    }
}

/// pydantic's lax `int` (Python mode: big integers are fine, floats must be
/// integral and within i64, strings may carry a `.000` tail).
pub(super) fn integer(v: &Value) -> std::result::Result<i128, Rejection> {
    match v {
        Value::Bool(b) => Ok(i128::from(*b)),
        Value::Number(Num::Int(i)) => Ok(*i),
        Value::Number(Num::BigInt { approx }) => Ok(if *approx < 0.0 { i128::MIN } else { i128::MAX }),
        Value::Number(Num::Float(f)) => {
            if !f.is_finite() {
                Err(FINITE_NUMBER)
            } else if f.fract() != 0.0 {
                Err(INT_FROM_FLOAT)
            } else if *f > i64::MAX as f64 || *f < i64::MIN as f64 {
                Err(INT_PARSING_SIZE)
            } else {
                Ok(*f as i128)
            }
        }
        Value::String(s) => int_from_str(s).ok_or(INT_PARSING),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(INT_TYPE),
    }
}

/// pydantic's string-to-int: trimmed, optional sign, ASCII digits with single
/// underscores between them, optionally `.` and one or more zeros.
pub(super) fn int_from_str(s: &str) -> Option<i128> {
    let t = s.trim();
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let whole = match rest.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => whole,
        Some(_) => return None,
        None => rest,
    };
    let b = whole.as_bytes();
    if b.is_empty() || !b.first().is_some_and(u8::is_ascii_digit) || !b.last().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i128 = 0;
    let mut prev_underscore = false;
    for &c in b {
        match c {
            b'_' if !prev_underscore => prev_underscore = true,
            b'0'..=b'9' => {
                prev_underscore = false;
                value = value.saturating_mul(10).saturating_add(i128::from(c - b'0'));
            }
            _ => return None,
        }
    }
    Some(if negative { -value } else { value })
}

pub(super) fn at_least_one(limit: i128) -> std::result::Result<i128, Rejection> {
    if limit >= 1 {
        Ok(limit)
    } else {
        Err(AT_LEAST_ONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_strings_follow_pydantic() {
        for (input, want) in [
            (" 5 ", Some(5)),
            ("1_000", Some(1000)),
            ("+5", Some(5)),
            ("5.00", Some(5)),
            ("-5.0", Some(-5)),
            ("1_0.0", Some(10)),
            ("\u{a0}5", Some(5)),
            ("00", Some(0)),
            ("5.", None),
            (".0", None),
            ("5.5", None),
            ("5.0_0", None),
            ("1__0", None),
            ("_1", None),
            ("1e1", None),
            ("+ 5", None),
            ("٥", None),
            ("-", None),
            ("", None),
        ] {
            assert_eq!(int_from_str(input), want, "{input:?}");
        }
    }
}

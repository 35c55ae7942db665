//! The request (`CallsUsageReq`) and the options object, validated the way
//! FastAPI + pydantic v2 validate the reference's request body in lax mode:
//! same coercions (`"5"` → 5, `"yes"` → true, `5.0` → 5), same error `type`s and
//! messages, errors in field order and then one `extra_forbidden` per unknown
//! key in the order the keys were given.
//!
//! One addition to the reference: `limit` below 1 is refused (the reference's
//! in-memory server would treat it as "no limit", ClickHouse as an error).

use crate::error::{Detail, Loc, Result, UsageError};
use crate::value::{Num, Value};

/// The server's default `limit`.
pub const DEFAULT_LIMIT: u64 = 10_000;

/// A validated `CallsUsageReq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRequest {
    pub project_id: String,
    /// As given: duplicates are allowed and collapse in the response.
    pub call_ids: Vec<String>,
    pub include_costs: bool,
    /// At least 1.
    pub limit: u64,
}

const FIELDS: [&str; 4] = ["project_id", "call_ids", "include_costs", "limit"];

impl UsageRequest {
    /// Validates a request body. Every problem is reported, not just the first.
    pub fn from_value(body: &Value) -> Result<UsageRequest> {
        let Value::Object(entries) = body else {
            return Err(UsageError::invalid(
                vec!["body".into()],
                "model_type",
                "Input should be a valid dictionary or instance of CallsUsageReq",
            ));
        };
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("body"), Loc::from(field)];

        let project_id = match body.get("project_id") {
            None => missing(&mut errors, at("project_id")),
            Some(v) => collect(&mut errors, at("project_id"), string(v)),
        };
        let call_ids = match body.get("call_ids") {
            None => missing(&mut errors, at("call_ids")),
            Some(v) => string_list(v, &at("call_ids"), &mut errors),
        };
        let include_costs = match body.get("include_costs") {
            None => Some(false),
            Some(v) => collect(&mut errors, at("include_costs"), boolean(v)),
        };
        let limit = match body.get("limit") {
            None => Some(i128::from(DEFAULT_LIMIT)),
            Some(v) => collect(&mut errors, at("limit"), integer(v).and_then(at_least_one)),
        };
        for (key, _) in entries {
            if !FIELDS.contains(&key.as_str()) {
                errors.push(Detail::new(at(key), "extra_forbidden", "Extra inputs are not permitted"));
            }
        }

        match (project_id, call_ids, include_costs, limit) {
            (Some(project_id), Some(call_ids), Some(include_costs), Some(limit)) if errors.is_empty() => {
                Ok(UsageRequest {
                    project_id,
                    call_ids,
                    include_costs,
                    // Anything beyond u64 is as good as "no limit".
                    limit: u64::try_from(limit).unwrap_or(u64::MAX),
                })
            }
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

/// The `options` argument. No option exists yet: it may be omitted, `null` or
/// `{}`; anything else is refused so that a typo never passes silently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageOptions {}

impl UsageOptions {
    pub fn from_value(options: Option<&Value>) -> Result<UsageOptions> {
        match options {
            None | Some(Value::Null) => Ok(UsageOptions {}),
            Some(Value::Object(entries)) => {
                let errors: Vec<Detail> = entries
                    .iter()
                    .map(|(key, _)| {
                        Detail::new(
                            vec!["options".into(), key.as_str().into()],
                            "extra_forbidden",
                            "Extra inputs are not permitted",
                        )
                    })
                    .collect();
                if errors.is_empty() {
                    Ok(UsageOptions {})
                } else {
                    Err(UsageError::unprocessable(errors))
                }
            }
            Some(_) => Err(UsageError::invalid(
                vec!["options".into()],
                "model_type",
                "Input should be a valid dictionary or instance of UsageOptions",
            )),
        }
    }
}

/// A rejected field: its pydantic error `type` and message.
type Rejection = (&'static str, &'static str);

const STRING_TYPE: Rejection = ("string_type", "Input should be a valid string");
const BOOL_TYPE: Rejection = ("bool_type", "Input should be a valid boolean");
const BOOL_PARSING: Rejection = ("bool_parsing", "Input should be a valid boolean, unable to interpret input");
const INT_TYPE: Rejection = ("int_type", "Input should be a valid integer");
const INT_PARSING: Rejection = ("int_parsing", "Input should be a valid integer, unable to parse string as an integer");
const INT_FROM_FLOAT: Rejection = ("int_from_float", "Input should be a valid integer, got a number with a fractional part");
const INT_PARSING_SIZE: Rejection = ("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size");
const FINITE_NUMBER: Rejection = ("finite_number", "Input should be a finite number");
const AT_LEAST_ONE: Rejection = ("greater_than_equal", "Input should be greater than or equal to 1");

fn missing<T>(errors: &mut Vec<Detail>, loc: Vec<Loc>) -> Option<T> {
    errors.push(Detail::new(loc, "missing", "Field required"));
    None
}

fn collect<T>(errors: &mut Vec<Detail>, loc: Vec<Loc>, r: std::result::Result<T, Rejection>) -> Option<T> {
    r.map_err(|(kind, msg)| errors.push(Detail::new(loc, kind, msg))).ok()
}

fn string(v: &Value) -> std::result::Result<String, Rejection> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(STRING_TYPE),
    }
}

/// `list[str]`: a non-list is one `list_type` error; otherwise one
/// `string_type` error per bad item, each at its index.
fn string_list(v: &Value, loc: &[Loc], errors: &mut Vec<Detail>) -> Option<Vec<String>> {
    let Value::Array(items) = v else {
        errors.push(Detail::new(loc.to_vec(), "list_type", "Input should be a valid list"));
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
fn boolean(v: &Value) -> std::result::Result<bool, Rejection> {
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
fn integer(v: &Value) -> std::result::Result<i128, Rejection> {
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
fn int_from_str(s: &str) -> Option<i128> {
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

fn at_least_one(limit: i128) -> std::result::Result<i128, Rejection> {
    if limit >= 1 {
        Ok(limit)
    } else {
        Err(AT_LEAST_ONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::Object(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn defaults_apply() {
        let r = UsageRequest::from_value(&obj(&[("project_id", s("p")), ("call_ids", Value::Array(vec![s("a")]))])).unwrap();
        assert_eq!(r, UsageRequest { project_id: "p".into(), call_ids: vec!["a".into()], include_costs: false, limit: 10_000 });
    }

    #[test]
    fn limit_below_one_is_refused_in_field_order() {
        let e = UsageRequest::from_value(&obj(&[
            ("limit", Value::Number(Num::Int(0))),
            ("project_id", Value::Null),
            ("call_ids", Value::Array(vec![])),
        ]))
        .unwrap_err();
        let kinds: Vec<&str> = e.detail.iter().map(|d| d.kind.as_str()).collect();
        assert_eq!(kinds, ["string_type", "greater_than_equal"]);
    }

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

    #[test]
    fn options_refuse_unknown_keys() {
        assert!(UsageOptions::from_value(None).is_ok());
        assert!(UsageOptions::from_value(Some(&Value::Null)).is_ok());
        assert!(UsageOptions::from_value(Some(&obj(&[]))).is_ok());
        let e = UsageOptions::from_value(Some(&obj(&[("includeCosts", Value::Bool(true))]))).unwrap_err();
        assert_eq!(e.status, 422);
        assert_eq!(e.detail[0].loc, vec![Loc::from("options"), Loc::from("includeCosts")]);
        let e = UsageOptions::from_value(Some(&Value::Bool(true))).unwrap_err();
        assert_eq!(e.detail[0].kind, "model_type");
    }
}

//! The requests (`CallsUsageReq`, `TraceUsageReq`), validated the way
//! FastAPI + pydantic v2 validate the reference's request body in lax mode:
//! same coercions (`"5"` → 5, `"yes"` → true, `5.0` → 5), same error `type`s and
//! messages, errors in field order and then one `extra_forbidden` per unknown
//! key in the order the keys were given. The lax readers here are shared
//! with the options (`options.rs`, `pricing.rs`).
//!
//! One addition to the reference: `limit` below 1 is refused (the reference's
//! in-memory server would treat it as "no limit", ClickHouse as an error).
//! One restriction: `TraceUsageReq.filter` takes only `trace_ids` and
//! `call_ids` (the other filters need fields a call is not read for) and
//! `query` is refused; both are 422 `not_supported`.

use crate::error::{Detail, Loc, Result, UsageError};
use crate::json::{Num, Shape, Value};

/// The server's default `limit`.
pub const DEFAULT_LIMIT: u64 = 10_000;

/// A request or options object: every key (unknown keys must be reported),
/// scalars, and arrays of scalars (`call_ids`).
pub const ARGUMENT_SHAPE: Shape = Shape::EachValue(&Shape::Items(&Shape::Scalar));

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
        Self::read(body, true).map(|(request, _)| request)
    }

    /// As [`Self::from_value`], for Weave 0.53.12's `limit` rule: its model
    /// sets no minimum, so a `limit` below 1 is valid here; whether it was
    /// is returned beside the request (whose `limit` is then 1), for the
    /// caller to refuse as that server's method does (400).
    pub fn from_value_any_limit(body: &Value) -> Result<(UsageRequest, bool)> {
        Self::read(body, false)
    }

    fn read(body: &Value, at_least_one_limit: bool) -> Result<(UsageRequest, bool)> {
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
            Some(v) if at_least_one_limit => collect(&mut errors, at("limit"), integer(v).and_then(at_least_one)),
            Some(v) => collect(&mut errors, at("limit"), integer(v)),
        };
        extra_keys(entries, &FIELDS, &[Loc::from("body")], &mut errors);

        match (project_id, call_ids, include_costs, limit) {
            (Some(project_id), Some(call_ids), Some(include_costs), Some(limit)) if errors.is_empty() => Ok((
                UsageRequest {
                    project_id,
                    call_ids,
                    include_costs,
                    // Anything beyond u64 is as good as "no limit".
                    limit: u64::try_from(limit.max(1)).unwrap_or(u64::MAX),
                },
                limit < 1,
            )),
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

pub use crate::options::UsageOptions;

/// A validated `TraceUsageReq`: every live call of the project (narrowed by
/// `filter`) is in scope, and each gets its own rolled-up usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceUsageRequest {
    pub project_id: String,
    /// `filter.trace_ids`; empty means no filter (the reference tests truthiness).
    pub trace_ids: Vec<String>,
    /// `filter.call_ids`; empty means no filter.
    pub call_ids: Vec<String>,
    pub include_costs: bool,
    /// At least 1.
    pub limit: u64,
}

const TRACE_FIELDS: [&str; 5] = ["project_id", "filter", "query", "include_costs", "limit"];

/// `CallsFilter`'s fields, in its order (errors come in this order). Only
/// `trace_ids` and `call_ids` can be applied to the fields a call is read for.
const FILTER_FIELDS: [&str; 11] = [
    "op_names",
    "input_refs",
    "output_refs",
    "parent_ids",
    "trace_ids",
    "call_ids",
    "thread_ids",
    "turn_ids",
    "trace_roots_only",
    "wb_user_ids",
    "wb_run_ids",
];

impl TraceUsageRequest {
    /// Validates a `TraceUsageReq` body, every problem reported.
    pub fn from_value(body: &Value) -> Result<TraceUsageRequest> {
        let Value::Object(entries) = body else {
            return Err(UsageError::invalid(
                vec!["body".into()],
                "model_type",
                "Input should be a valid dictionary or instance of TraceUsageReq",
            ));
        };
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("body"), Loc::from(field)];

        let project_id = match body.get("project_id") {
            None => missing(&mut errors, at("project_id")),
            Some(v) => collect(&mut errors, at("project_id"), string(v)),
        };
        let filter = match body.get("filter") {
            None | Some(Value::Null) => Some((Vec::new(), Vec::new())),
            Some(v) => calls_filter(v, &at("filter"), &mut errors),
        };
        if let Some(v) = body.get("query") {
            if *v != Value::Null {
                errors.push(Detail::new(
                    at("query"),
                    "not_supported",
                    "Not supported here: pass only the calls to aggregate, or filter them by trace_ids or call_ids",
                ));
            }
        }
        let include_costs = match body.get("include_costs") {
            None => Some(false),
            Some(v) => collect(&mut errors, at("include_costs"), boolean(v)),
        };
        let limit = match body.get("limit") {
            None => Some(i128::from(DEFAULT_LIMIT)),
            Some(v) => collect(&mut errors, at("limit"), integer(v).and_then(at_least_one)),
        };
        extra_keys(entries, &TRACE_FIELDS, &[Loc::from("body")], &mut errors);

        match (project_id, filter, include_costs, limit) {
            (Some(project_id), Some((trace_ids, call_ids)), Some(include_costs), Some(limit)) if errors.is_empty() => {
                Ok(TraceUsageRequest { project_id, trace_ids, call_ids, include_costs, limit: u64::try_from(limit).unwrap_or(u64::MAX) })
            }
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

/// `filter` (a `CallsFilter`): `trace_ids` and `call_ids` as `list[str] |
/// None`; any other filter given (not null) is `not_supported`; unknown keys
/// are `extra_forbidden`.
fn calls_filter(v: &Value, loc: &[Loc], errors: &mut Vec<Detail>) -> Option<(Vec<String>, Vec<String>)> {
    let Value::Object(entries) = v else {
        errors.push(Detail::new(loc.to_vec(), "model_type", "Input should be a valid dictionary or instance of CallsFilter"));
        return None;
    };
    let before = errors.len();
    let at = |field: &str| {
        let mut l = loc.to_vec();
        l.push(Loc::from(field));
        l
    };
    let (mut trace_ids, mut call_ids) = (Vec::new(), Vec::new());
    for field in FILTER_FIELDS {
        let list = match field {
            "trace_ids" => Some(&mut trace_ids),
            "call_ids" => Some(&mut call_ids),
            _ => None,
        };
        match (v.get(field), list) {
            (None | Some(Value::Null), _) => {}
            (Some(value), Some(list)) => *list = string_list(value, &at(field), errors).unwrap_or_default(),
            (Some(_), None) => errors.push(Detail::new(
                at(field),
                "not_supported",
                "Not supported here: only trace_ids and call_ids can filter calls; pass only the calls to aggregate",
            )),
        }
    }
    extra_keys(entries, &FILTER_FIELDS, loc, errors);
    (errors.len() == before).then_some((trace_ids, call_ids))
}

/// One `extra_forbidden` per key of `entries` not in `fields`, in the order given.
pub(crate) fn extra_keys(entries: &[(String, Value)], fields: &[&str], loc: &[Loc], errors: &mut Vec<Detail>) {
    for (key, _) in entries {
        if !fields.contains(&key.as_str()) {
            let mut l = loc.to_vec();
            l.push(Loc::from(key.as_str()));
            errors.push(Detail::new(l, "extra_forbidden", "Extra inputs are not permitted"));
        }
    }
}

/// A rejected field: its pydantic error `type` and message.
pub(crate) type Rejection = (&'static str, &'static str);

pub(crate) const STRING_TYPE: Rejection = ("string_type", "Input should be a valid string");
const BOOL_TYPE: Rejection = ("bool_type", "Input should be a valid boolean");
const BOOL_PARSING: Rejection = ("bool_parsing", "Input should be a valid boolean, unable to interpret input");
const INT_TYPE: Rejection = ("int_type", "Input should be a valid integer");
const INT_PARSING: Rejection = ("int_parsing", "Input should be a valid integer, unable to parse string as an integer");
const INT_FROM_FLOAT: Rejection = ("int_from_float", "Input should be a valid integer, got a number with a fractional part");
const INT_PARSING_SIZE: Rejection = ("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size");
const FINITE_NUMBER: Rejection = ("finite_number", "Input should be a finite number");
const AT_LEAST_ONE: Rejection = ("greater_than_equal", "Input should be greater than or equal to 1");

pub(crate) fn missing<T>(errors: &mut Vec<Detail>, loc: Vec<Loc>) -> Option<T> {
    errors.push(Detail::new(loc, "missing", "Field required"));
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
    fn trace_request_defaults_filter_and_refusals() {
        let r = TraceUsageRequest::from_value(&obj(&[("project_id", s("p"))])).unwrap();
        assert_eq!(
            r,
            TraceUsageRequest { project_id: "p".into(), trace_ids: vec![], call_ids: vec![], include_costs: false, limit: 10_000 }
        );
        let filter = obj(&[("trace_ids", Value::Array(vec![s("t")])), ("call_ids", Value::Null)]);
        let r = TraceUsageRequest::from_value(&obj(&[
            ("project_id", s("p")),
            ("filter", filter),
            ("include_costs", s("yes")),
            ("limit", s("5")),
        ]))
        .unwrap();
        assert_eq!((r.trace_ids, r.call_ids, r.include_costs, r.limit), (vec!["t".to_string()], vec![], true, 5));

        let e = TraceUsageRequest::from_value(&obj(&[
            ("zz", Value::Bool(true)),
            ("limit", Value::Number(Num::Int(0))),
            ("query", obj(&[])),
            ("filter", obj(&[("op_names", Value::Array(vec![])), ("trace_ids", Value::Array(vec![Value::Null])), ("bogus", Value::Null)])),
        ]))
        .unwrap_err();
        let got: Vec<(String, &str)> = e.detail.iter().map(|d| (format!("{:?}", d.loc), d.kind.as_str())).collect();
        let loc =
            |path: &[&str]| format!("{:?}", path.iter().map(|p| p.parse::<usize>().map_or(Loc::from(*p), Loc::Index)).collect::<Vec<_>>());
        assert_eq!(
            got,
            vec![
                (loc(&["body", "project_id"]), "missing"),
                (loc(&["body", "filter", "op_names"]), "not_supported"),
                (loc(&["body", "filter", "trace_ids", "0"]), "string_type"),
                (loc(&["body", "filter", "bogus"]), "extra_forbidden"),
                (loc(&["body", "query"]), "not_supported"),
                (loc(&["body", "limit"]), "greater_than_equal"),
                (loc(&["body", "zz"]), "extra_forbidden"),
            ]
        );
        let e = TraceUsageRequest::from_value(&obj(&[("project_id", s("p")), ("filter", s("x"))])).unwrap_err();
        assert_eq!(e.detail[0].msg, "Input should be a valid dictionary or instance of CallsFilter");
        assert_eq!(
            TraceUsageRequest::from_value(&Value::Null).unwrap_err().detail[0].msg,
            "Input should be a valid dictionary or instance of TraceUsageReq"
        );
    }
}

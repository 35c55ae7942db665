//! The requests (`CallsUsageReq`, `TraceUsageReq`), validated the way
//! FastAPI + pydantic v2 validate the reference's request body in lax mode:
//! same coercions (`"5"` → 5, `"yes"` → true, `5.0` → 5), same error `type`s and
//! messages, errors in field order and then one `extra_forbidden` per unknown
//! key in the order the keys were given (the lax readers are in `lax.rs`).
//!
//! One addition to the reference: `limit` below 1 is refused (the reference's
//! in-memory server would treat it as "no limit", ClickHouse as an error).
//! One restriction: `TraceUsageReq.filter` takes only `trace_ids` and
//! `call_ids` (the other filters need fields a call is not read for) and
//! `query` is refused; both are 422 `not_supported`. The calls' listing
//! (`CallsQueryReq`, this library's own subset of Weave's: docs/stats.md)
//! takes `trace_roots_only` too.

use crate::error::{Detail, Kind, Loc, Result, UsageError};
use crate::json::{Shape, Value};

use super::lax::{at_least_one, boolean, collect, extra_keys, integer, missing, string, string_list};

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
        let entries = body_entries(body, "CallsUsageReq")?;
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("body"), Loc::from(field)];
        let project_id = project_id(body, &mut errors);
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

/// A validated `CallsQueryReq` (this library's subset of Weave's): the
/// live calls of the project, narrowed like [`TraceUsageRequest`]'s and,
/// with `trace_roots_only`, to calls without a parent, in the server's
/// order, cut to `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallsQueryRequest {
    pub project_id: String,
    /// `filter.trace_ids`; empty means no filter.
    pub trace_ids: Vec<String>,
    /// `filter.call_ids`; empty means no filter.
    pub call_ids: Vec<String>,
    /// `filter.trace_roots_only`.
    pub trace_roots_only: bool,
    /// At least 1; absent: every call.
    pub limit: Option<u64>,
}

const QUERY_FIELDS: [&str; 3] = ["project_id", "filter", "limit"];

/// `CallsFilter`'s fields, in its order (errors come in this order). Only
/// `trace_ids` and `call_ids` can be applied to the fields a call is read
/// for here; stats (`super::stats`) apply four others.
pub(super) const FILTER_FIELDS: [&str; 11] = [
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
        let entries = body_entries(body, "TraceUsageReq")?;
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("body"), Loc::from(field)];
        let project_id = project_id(body, &mut errors);
        let filter = match body.get("filter") {
            None | Some(Value::Null) => Some((Vec::new(), Vec::new(), false)),
            Some(v) => calls_filter(v, &at("filter"), false, &mut errors),
        };
        if let Some(v) = body.get("query") {
            if *v != Value::Null {
                errors.push(Detail::new(
                    at("query"),
                    Kind::NotSupported,
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
            (Some(project_id), Some((trace_ids, call_ids, _)), Some(include_costs), Some(limit)) if errors.is_empty() => {
                Ok(TraceUsageRequest { project_id, trace_ids, call_ids, include_costs, limit: u64::try_from(limit).unwrap_or(u64::MAX) })
            }
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

impl CallsQueryRequest {
    /// Validates a `CallsQueryReq` body, every problem reported.
    pub fn from_value(body: &Value) -> Result<CallsQueryRequest> {
        let entries = body_entries(body, "CallsQueryReq")?;
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("body"), Loc::from(field)];
        let project_id = project_id(body, &mut errors);
        let filter = match body.get("filter") {
            None | Some(Value::Null) => Some((Vec::new(), Vec::new(), false)),
            Some(v) => calls_filter(v, &at("filter"), true, &mut errors),
        };
        let limit = match body.get("limit") {
            None | Some(Value::Null) => Some(None),
            Some(v) => {
                collect(&mut errors, at("limit"), integer(v).and_then(at_least_one)).map(|n| Some(u64::try_from(n).unwrap_or(u64::MAX)))
            }
        };
        extra_keys(entries, &QUERY_FIELDS, &[Loc::from("body")], &mut errors);
        match (project_id, filter, limit) {
            (Some(project_id), Some((trace_ids, call_ids, trace_roots_only)), Some(limit)) if errors.is_empty() => {
                Ok(CallsQueryRequest { project_id, trace_ids, call_ids, trace_roots_only, limit })
            }
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

/// A request body's members, or the 422 for a body that is not an object
/// (`model`: the request's pydantic model, named in the message).
fn body_entries<'v>(body: &'v Value, model: &str) -> Result<&'v [(String, Value)]> {
    match body {
        Value::Object(entries) => Ok(entries),
        _ => Err(UsageError::invalid(
            vec!["body".into()],
            Kind::ModelType,
            format!("Input should be a valid dictionary or instance of {model}"),
        )),
    }
}

/// `project_id`, required, a string.
fn project_id(body: &Value, errors: &mut Vec<Detail>) -> Option<String> {
    let loc = vec![Loc::from("body"), Loc::from("project_id")];
    match body.get("project_id") {
        None => missing(errors, loc),
        Some(v) => collect(errors, loc, string(v)),
    }
}

/// `filter` (a `CallsFilter`): `trace_ids` and `call_ids` as `list[str] |
/// None`, and where `roots` allows it `trace_roots_only` as `bool | None`;
/// any other filter given (not null) is `not_supported`; unknown keys are
/// `extra_forbidden`.
fn calls_filter(v: &Value, loc: &[Loc], roots: bool, errors: &mut Vec<Detail>) -> Option<(Vec<String>, Vec<String>, bool)> {
    let Value::Object(entries) = v else {
        errors.push(Detail::new(loc.to_vec(), Kind::ModelType, "Input should be a valid dictionary or instance of CallsFilter"));
        return None;
    };
    let before = errors.len();
    let at = |field: &str| {
        let mut l = loc.to_vec();
        l.push(Loc::from(field));
        l
    };
    let (mut trace_ids, mut call_ids, mut roots_only) = (Vec::new(), Vec::new(), false);
    for field in FILTER_FIELDS {
        if roots && field == "trace_roots_only" {
            if let Some(value) = v.get(field).filter(|v| **v != Value::Null) {
                roots_only = collect(errors, at(field), boolean(value)).unwrap_or_default();
            }
            continue;
        }
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
                Kind::NotSupported,
                if roots {
                    "Not supported here: only trace_ids, call_ids and trace_roots_only can filter calls"
                } else {
                    "Not supported here: only trace_ids and call_ids can filter calls; pass only the calls to aggregate"
                },
            )),
        }
    }
    extra_keys(entries, &FILTER_FIELDS, loc, errors);
    (errors.len() == before).then_some((trace_ids, call_ids, roots_only))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Num;

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

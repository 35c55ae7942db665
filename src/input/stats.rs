//! The stats request (`UsageStatsReq`, this library's own: Weave's
//! `/calls/usage` has no time buckets), validated like the other requests
//! (pydantic lax mode, every problem reported, `loc` from `"body"`). Its
//! vocabulary is Weave's `CallStatsReq`: `start` (inclusive), `end`
//! (exclusive), `granularity`, `timezone` (IANA, default `"UTC"`),
//! `filter` (`CallsFilter` fields that the calls are read for). docs/stats.md.

use crate::error::{Detail, Kind, Loc, Result, UsageError};
use crate::json::{Shape, Value};

use super::lax::{at_least_one, boolean, collect, extra_keys, integer, missing, string, string_list};
use super::request::FILTER_FIELDS;
use super::time::parse_instant;

/// A `UsageStatsReq` from its JSON text: every key; `filter`'s lists and
/// `group_by`'s items.
pub const STATS_REQUEST_SHAPE: Shape = Shape::EachValue(&Shape::Nested(&Shape::Items(&Shape::Scalar)));

/// The size of a bucket, in the request's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
    /// ISO weeks: from Monday 00:00.
    Week,
    /// Calendar months.
    Month,
}

impl Granularity {
    pub const NAMES: [&'static str; 4] = ["hour", "day", "week", "month"];

    pub fn name(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

/// What rows may be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKey {
    Model,
    /// `NAME` of `weave:///entity/project/op/NAME:digest`.
    OpName,
    User,
    Thread,
    /// The op name of the call's root (see docs/stats.md).
    RootOpName,
}

impl GroupKey {
    pub const NAMES: [&'static str; 5] = ["model", "op_name", "wb_user_id", "thread_id", "root_op_name"];

    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Model => "model",
            GroupKey::OpName => "op_name",
            GroupKey::User => "wb_user_id",
            GroupKey::Thread => "thread_id",
            GroupKey::RootOpName => "root_op_name",
        }
    }

    fn of(s: &str) -> Option<GroupKey> {
        [GroupKey::Model, GroupKey::OpName, GroupKey::User, GroupKey::Thread, GroupKey::RootOpName].into_iter().find(|k| k.name() == s)
    }
}

/// A validated `UsageStatsReq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRequest {
    pub project_id: String,
    /// Microseconds since the epoch; `None`: from the first counted call.
    pub start: Option<i64>,
    /// Exclusive; `None`: through the last counted call.
    pub end: Option<i64>,
    pub granularity: Granularity,
    /// As given; checked where buckets are made (JavaScript's `Intl`).
    pub timezone: String,
    /// `filter.op_names`: a name matches an op's `NAME` or its full ref.
    pub op_names: Vec<String>,
    pub wb_user_ids: Vec<String>,
    pub thread_ids: Vec<String>,
    pub trace_roots_only: bool,
    /// Distinct keys, in the order given.
    pub group_by: Vec<GroupKey>,
    /// Top-N groups; the rest merged into one "other" group.
    pub limit: Option<u64>,
    pub include_costs: bool,
}

const FIELDS: [&str; 9] = ["project_id", "start", "end", "granularity", "timezone", "filter", "group_by", "limit", "include_costs"];

/// Filters as read: op names, user ids, thread ids, roots only.
type Filter = (Vec<String>, Vec<String>, Vec<String>, bool);

impl StatsRequest {
    /// Validates a `UsageStatsReq` body, every problem reported.
    pub fn from_value(body: &Value) -> Result<StatsRequest> {
        let Value::Object(entries) = body else {
            return Err(UsageError::invalid(
                vec!["body".into()],
                Kind::ModelType,
                "Input should be a valid dictionary or instance of UsageStatsReq",
            ));
        };
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("body"), Loc::from(field)];
        let project_id = match body.get("project_id") {
            None => missing(&mut errors, at("project_id")),
            Some(v) => collect(&mut errors, at("project_id"), string(v)),
        };
        let start = instant(body.get("start"), at("start"), &mut errors);
        let end = instant(body.get("end"), at("end"), &mut errors);
        let granularity = match body.get("granularity") {
            None | Some(Value::Null) => Some(Granularity::Day),
            Some(v) => literal(v, &Granularity::NAMES, at("granularity"), &mut errors).map(|i| match i {
                0 => Granularity::Hour,
                1 => Granularity::Day,
                2 => Granularity::Week,
                _ => Granularity::Month,
            }),
        };
        let timezone = match body.get("timezone") {
            None | Some(Value::Null) => Some(String::from("UTC")),
            Some(v) => collect(&mut errors, at("timezone"), string(v)),
        };
        let filter = match body.get("filter") {
            None | Some(Value::Null) => Some((Vec::new(), Vec::new(), Vec::new(), false)),
            Some(v) => calls_filter(v, &at("filter"), &mut errors),
        };
        let group_by = match body.get("group_by") {
            None | Some(Value::Null) => Some(Vec::new()),
            Some(Value::Array(items)) => {
                let before = errors.len();
                let mut keys = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let mut loc = at("group_by");
                    loc.push(Loc::Index(i));
                    if let Some(k) = literal(item, &GroupKey::NAMES, loc, &mut errors).and_then(|k| GroupKey::of(GroupKey::NAMES.get(k)?)) {
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                }
                (errors.len() == before).then_some(keys)
            }
            Some(_) => {
                errors.push(Detail::of(at("group_by"), Kind::ListType));
                None
            }
        };
        let limit = match body.get("limit") {
            None | Some(Value::Null) => Some(None),
            Some(v) => {
                collect(&mut errors, at("limit"), integer(v).and_then(at_least_one)).map(|n| Some(u64::try_from(n).unwrap_or(u64::MAX)))
            }
        };
        let include_costs = match body.get("include_costs") {
            None => Some(false),
            Some(v) => collect(&mut errors, at("include_costs"), boolean(v)),
        };
        if let (Some(Some(s)), Some(Some(e))) = (start, end) {
            if e <= s {
                errors.push(Detail::new(at("end"), Kind::ValueError, "Value error, end must be after start"));
            }
        }
        extra_keys(entries, &FIELDS, &[Loc::from("body")], &mut errors);
        match (project_id, start, end, granularity, timezone, filter, group_by, limit, include_costs) {
            (
                Some(project_id),
                Some(start),
                Some(end),
                Some(granularity),
                Some(timezone),
                Some((op_names, wb_user_ids, thread_ids, trace_roots_only)),
                Some(group_by),
                Some(limit),
                Some(include_costs),
            ) if errors.is_empty() => Ok(StatsRequest {
                project_id,
                start,
                end,
                granularity,
                timezone,
                op_names,
                wb_user_ids,
                thread_ids,
                trace_roots_only,
                group_by,
                limit,
                include_costs,
            }),
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

/// `start` / `end`: absent or null, or an RFC 3339 date-time with an offset.
fn instant(v: Option<&Value>, loc: Vec<Loc>, errors: &mut Vec<Detail>) -> Option<Option<i64>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => match parse_instant(s.as_bytes()) {
            Some(t) => Some(Some(t)),
            None => {
                errors.push(Detail::new(
                    loc,
                    Kind::DatetimeParsing,
                    "Input should be a valid datetime, expected an RFC 3339 date-time with a time zone offset",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(Detail::of(loc, Kind::DatetimeType));
            None
        }
    }
}

/// One of `names` (its index), else a `literal_error` listing them.
fn literal(v: &Value, names: &[&str], loc: Vec<Loc>, errors: &mut Vec<Detail>) -> Option<usize> {
    if let Value::String(s) = v {
        if let Some(i) = names.iter().position(|n| n == s) {
            return Some(i);
        }
    }
    let list: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let (last, rest) = list.split_last().map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
    errors.push(Detail::new(loc, Kind::LiteralError, format!("Input should be {} or {last}", rest.join(", "))));
    None
}

/// `filter` (a `CallsFilter`): the four lists and flag stats read; any other
/// filter given (not null) is `not_supported`; unknown keys `extra_forbidden`.
fn calls_filter(v: &Value, loc: &[Loc], errors: &mut Vec<Detail>) -> Option<Filter> {
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
    let mut out: Filter = (Vec::new(), Vec::new(), Vec::new(), false);
    for field in FILTER_FIELDS {
        let Some(value) = v.get(field).filter(|v| **v != Value::Null) else { continue };
        match field {
            "op_names" => out.0 = string_list(value, &at(field), errors).unwrap_or_default(),
            "wb_user_ids" => out.1 = string_list(value, &at(field), errors).unwrap_or_default(),
            "thread_ids" => out.2 = string_list(value, &at(field), errors).unwrap_or_default(),
            "trace_roots_only" => out.3 = collect(errors, at(field), boolean(value)).unwrap_or_default(),
            _ => errors.push(Detail::new(
                at(field),
                Kind::NotSupported,
                "Not supported here: stats filter by op_names, wb_user_ids, thread_ids and trace_roots_only; pass only the calls to aggregate",
            )),
        }
    }
    extra_keys(entries, &FILTER_FIELDS, loc, errors);
    (errors.len() == before).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_value;

    fn req(text: &str) -> Result<StatsRequest> {
        StatsRequest::from_value(&parse_value(text.as_bytes(), &STATS_REQUEST_SHAPE).unwrap())
    }

    #[test]
    fn defaults_and_errors_in_field_order() {
        let r = req(r#"{"project_id":"p"}"#).unwrap();
        assert_eq!((r.granularity, r.timezone.as_str(), r.group_by.len(), r.limit, r.start), (Granularity::Day, "UTC", 0, None, None));
        let r = req(r#"{"project_id":"p","group_by":["model","op_name","model"],"limit":"3","start":"2025-01-01T00:00:00Z","filter":{"trace_roots_only":"yes","op_names":["f"]}}"#).unwrap();
        assert_eq!(
            (r.group_by, r.limit, r.trace_roots_only, r.op_names),
            (vec![GroupKey::Model, GroupKey::OpName], Some(3), true, vec!["f".to_string()])
        );
        let e = req(r#"{"zz":1,"granularity":"year","group_by":["x"],"start":"2025-02-01T00:00:00Z","end":"2025-01-01T00:00:00Z","limit":0,"filter":{"call_ids":["a"]}}"#).unwrap_err();
        let got: Vec<String> = e.detail.iter().map(|d| format!("{:?}:{}", d.loc.last(), d.kind.name())).collect();
        let want = [
            "project_id:missing",
            "granularity:literal_error",
            "call_ids:not_supported",
            "0:literal_error",
            "limit:greater_than_equal",
            "end:value_error",
            "zz:extra_forbidden",
        ];
        let got: Vec<String> =
            got.iter().map(|g| g.replace("Some(Key(\"", "").replace("Some(Index(", "").replace("\"))", "").replace("))", "")).collect();
        assert_eq!(got, want);
        assert_eq!(e.detail[1].msg, "Input should be 'hour', 'day', 'week' or 'month'");
    }
}

//! One call as the rollup needs it, read from a [`Value`], and the [`Shape`]
//! that tells both input paths which parts of a call to read at all.
//!
//! A call from `/calls/stream_query` is mostly `inputs`, `output` and
//! `attributes` (chat messages, tool payloads); the rollup needs nine fields.
//! The bytes parser skips everything outside [`CALL_SHAPE`] without building
//! it, and the JS boundary never touches it.

use crate::error::{Detail, Loc, Result, UsageError};
use crate::pynum::{py_float, py_int};
use crate::time::parse_instant;
use crate::value::Value;

/// Which parts of a value to keep. Scalars are always kept; containers
/// outside the shape are kept as empty placeholders of the same type (their
/// type is all validation needs), so junk is never materialised or recursed
/// into.
#[derive(Debug)]
pub enum Shape {
    /// Keep a scalar; an array or object becomes an empty one.
    Scalar,
    /// In an object keep only these keys, each with its own shape.
    Fields(&'static [(&'static str, Shape)]),
    /// In an object keep every key, each value with this shape.
    EachValue(&'static Shape),
    /// In an array keep every item, with this shape.
    Items(&'static Shape),
}

/// The token counters of one `summary.usage[model]` entry that are read.
pub const USAGE_FIELDS: [&str; 8] = [
    "prompt_tokens",
    "input_tokens",
    "completion_tokens",
    "output_tokens",
    "requests",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// The cost fields of one `summary.weave.costs[model]` entry that are read,
/// in output order.
pub const COST_FIELDS: [&str; 4] = [
    "prompt_tokens_total_cost",
    "completion_tokens_total_cost",
    "cache_read_input_tokens_total_cost",
    "cache_creation_input_tokens_total_cost",
];

const USAGE_ENTRY: Shape = Shape::Fields(&[
    ("prompt_tokens", Shape::Scalar),
    ("input_tokens", Shape::Scalar),
    ("completion_tokens", Shape::Scalar),
    ("output_tokens", Shape::Scalar),
    ("requests", Shape::Scalar),
    ("total_tokens", Shape::Scalar),
    ("cache_read_input_tokens", Shape::Scalar),
    ("cache_creation_input_tokens", Shape::Scalar),
]);

const COST_ENTRY: Shape = Shape::Fields(&[
    ("prompt_tokens_total_cost", Shape::Scalar),
    ("completion_tokens_total_cost", Shape::Scalar),
    ("cache_read_input_tokens_total_cost", Shape::Scalar),
    ("cache_creation_input_tokens_total_cost", Shape::Scalar),
]);

/// Everything of a call that is ever read.
pub const CALL_SHAPE: Shape = Shape::Fields(&[
    ("id", Shape::Scalar),
    ("trace_id", Shape::Scalar),
    ("parent_id", Shape::Scalar),
    ("project_id", Shape::Scalar),
    ("started_at", Shape::Scalar),
    ("ended_at", Shape::Scalar),
    ("deleted_at", Shape::Scalar),
    (
        "summary",
        Shape::Fields(&[
            ("usage", Shape::EachValue(&USAGE_ENTRY)),
            ("weave", Shape::Fields(&[("costs", Shape::EachValue(&COST_ENTRY))])),
        ]),
    ),
]);

/// A request or options object: every key (unknown keys must be reported),
/// scalars, and arrays of scalars (`call_ids`).
pub const ARGUMENT_SHAPE: Shape = Shape::EachValue(&Shape::Items(&Shape::Scalar));

/// Indices into [`Tokens`], in output order.
pub const REQUESTS: usize = 0;
pub const PROMPT: usize = 1;
pub const COMPLETION: usize = 2;
pub const TOTAL: usize = 3;
pub const CACHE_READ: usize = 4;
pub const CACHE_CREATION: usize = 5;

/// The six token counters of the response, in its field order. Exact
/// integers (Python's are unbounded; these saturate at ±2^127).
pub type Tokens = [i128; 6];
/// The four costs of the response, in its field order.
pub type Costs = [f64; 4];

/// One model's usage as a single call reports it, before any rollup:
/// `prompt`/`completion` already include their `input_`/`output_` aliases,
/// `total` is as given (the fallback to prompt + completion happens later),
/// and the costs are read whether or not the request will want them (the
/// streaming path reads calls before it sees the request).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelUsage {
    pub model: String,
    pub tokens: Tokens,
    pub costs: Costs,
}

/// The fields of a call the rollup reads, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: String,
    pub trace_id: String,
    pub parent_id: Option<String>,
    pub project_id: Option<String>,
    /// `started_at` as microseconds since the epoch; `None` when missing or
    /// unreadable (such calls sort last).
    pub started_at: Option<i64>,
    /// `ended_at` is a string (any string).
    pub ended: bool,
    /// `deleted_at` is a string (any string).
    pub deleted: bool,
    /// `summary.usage`, per model, in the summary's order.
    pub usage: Vec<ModelUsage>,
}

impl Call {
    /// Reads and validates the call at position `index` of the input. A
    /// malformed call is a 422 whose `loc` is `["calls", index, field]`, with
    /// one entry per bad field.
    pub fn from_value(index: usize, v: &Value) -> Result<Call> {
        let at = |field: &str| vec![Loc::from("calls"), Loc::Index(index), Loc::from(field)];
        if !matches!(v, Value::Object(_)) {
            return Err(UsageError::invalid(
                vec![Loc::from("calls"), Loc::Index(index)],
                "dict_type",
                "Input should be a valid dictionary",
            ));
        }
        let mut errors = Vec::new();
        let mut required = |field: &str| match v.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.push(Detail::new(at(field), "string_type", "Input should be a valid string"));
                None
            }
            None => {
                errors.push(Detail::new(at(field), "missing", "Field required"));
                None
            }
        };
        let id = required("id");
        let trace_id = required("trace_id");
        let mut optional = |field: &str| match v.get(field) {
            Some(Value::String(s)) => Some(s.as_str()),
            None | Some(Value::Null) => None,
            Some(_) => {
                errors.push(Detail::new(at(field), "string_type", "Input should be a valid string"));
                None
            }
        };
        let parent_id = optional("parent_id").map(str::to_string);
        let project_id = optional("project_id").map(str::to_string);
        let started_at = optional("started_at").and_then(parse_instant);
        let ended = optional("ended_at").is_some();
        let deleted = optional("deleted_at").is_some();
        let summary = v.get("summary");
        if !matches!(summary, None | Some(Value::Null | Value::Object(_))) {
            errors.push(Detail::new(at("summary"), "dict_type", "Input should be a valid dictionary"));
        }

        match (id, trace_id) {
            (Some(id), Some(trace_id)) if errors.is_empty() => Ok(Call {
                id,
                trace_id,
                parent_id,
                project_id,
                started_at,
                ended,
                deleted,
                usage: summary.map(read_usage).unwrap_or_default(),
            }),
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

/// `summary.usage` per model, with `summary.weave.costs[model]`, as the
/// reference reads them: a non-object `usage` or model entry is skipped; a
/// non-object `weave`, `costs` or cost entry means zero costs.
fn read_usage(summary: &Value) -> Vec<ModelUsage> {
    let Some(Value::Object(models)) = summary.get("usage") else {
        return Vec::new();
    };
    let costs = summary.get("weave").and_then(|w| w.get("costs"));
    Value::dict_entries(models)
        .into_iter()
        .filter(|(_, entry)| matches!(entry, Value::Object(_)))
        .map(|(model, entry)| {
            let int = |field: &str| entry.get(field).map_or(0, py_int);
            let tokens = [
                int("requests"),
                int("prompt_tokens").saturating_add(int("input_tokens")),
                int("completion_tokens").saturating_add(int("output_tokens")),
                int("total_tokens"),
                int("cache_read_input_tokens"),
                int("cache_creation_input_tokens"),
            ];
            let cost_entry = costs.and_then(|c| c.get(model));
            let costs = COST_FIELDS.map(|field| cost_entry.and_then(|e| e.get(field)).map_or(0.0, py_float));
            ModelUsage { model: model.to_string(), tokens, costs }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Num;

    fn obj(entries: Vec<(&str, Value)>) -> Value {
        Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }
    fn s(x: &str) -> Value {
        Value::String(x.into())
    }
    fn int(i: i128) -> Value {
        Value::Number(Num::Int(i))
    }

    #[test]
    fn reads_a_call() {
        let v = obj(vec![
            ("id", s("a")),
            ("trace_id", s("t")),
            ("parent_id", Value::Null),
            ("started_at", s("1970-01-01T00:00:01Z")),
            ("ended_at", s("")),
            (
                "summary",
                obj(vec![
                    (
                        "usage",
                        obj(vec![
                            ("m", obj(vec![("input_tokens", int(2)), ("prompt_tokens", s(" 3 ")), ("output_tokens", Value::Bool(true))])),
                            ("junk", int(7)),
                        ]),
                    ),
                    ("weave", obj(vec![("costs", obj(vec![("m", obj(vec![("prompt_tokens_total_cost", s("1e-3"))]))]))])),
                ]),
            ),
        ]);
        let c = Call::from_value(0, &v).unwrap();
        assert_eq!(c.id, "a");
        assert_eq!(c.parent_id, None);
        assert_eq!(c.started_at, Some(1_000_000));
        assert!(c.ended);
        assert!(!c.deleted);
        assert_eq!(c.usage, vec![ModelUsage { model: "m".into(), tokens: [0, 5, 1, 0, 0, 0], costs: [0.001, 0.0, 0.0, 0.0] }]);
    }

    #[test]
    fn reports_every_bad_field_of_a_call() {
        let v = obj(vec![("trace_id", int(1)), ("parent_id", int(2)), ("summary", s("x"))]);
        let e = Call::from_value(3, &v).unwrap_err();
        assert_eq!(e.status, 422);
        let got: Vec<(String, &str)> = e
            .detail
            .iter()
            .map(|d| (format!("{:?}", d.loc), d.kind.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (r#"[Key("calls"), Index(3), Key("id")]"#.to_string(), "missing"),
                (r#"[Key("calls"), Index(3), Key("trace_id")]"#.to_string(), "string_type"),
                (r#"[Key("calls"), Index(3), Key("parent_id")]"#.to_string(), "string_type"),
                (r#"[Key("calls"), Index(3), Key("summary")]"#.to_string(), "dict_type"),
            ]
        );
    }

    #[test]
    fn a_call_must_be_an_object() {
        let e = Call::from_value(1, &int(5)).unwrap_err();
        assert_eq!(e.detail[0].loc, vec![Loc::from("calls"), Loc::Index(1)]);
    }
}

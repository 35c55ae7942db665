//! The answer: what `/calls/usage` and `/trace/usage` answer
//! ([`CallsUsageRes`], with [`Diagnostics`] when asked for), and the stats
//! and the calls' listing ([`StatsRes`], [`CallsQueryRes`], [`ProjectsRes`]): their JSON text,
//! and bounds on that text's length known before it is built
//! ([`AnswerSize`]), so that an answer too long for JavaScript is refused
//! before its parts fill memory.
//!
//! The JS boundary hands this text to `JSON.parse`, which is both the fastest
//! way to build many small objects in JavaScript and the safe one: it defines
//! every key as an own property, so a model or call id named `__proto__`
//! stays an ordinary key instead of replacing the object's prototype.

use std::fmt::Write;

use crate::calls::{Costs, Tokens, COST_FIELDS};
use crate::error::UsageError;
use crate::json::{int_len, str_len, write_str};
use crate::limits::{answer_out_of_memory, answer_too_long, reserve_text, ANSWER_LIMIT};

/// The response's token fields, in the reference's order.
const TOKEN_FIELDS: [&str; 6] =
    ["requests", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"];

/// The shortest answer, `{"call_usage":{},"unfinished_call_ids":[]}`, less
/// the last comma that [`AnswerSize`] counts after the items
/// of each of its two lists.
const ENVELOPE: usize = 42 - 2;

/// The text of one model's totals but for its ten values: braces, keys,
/// colons and commas.
// Indexing in a const block: out of bounds would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const TOTALS_FRAME: usize = {
    let mut n = 2 + 9;
    let mut i = 0;
    while i < TOKEN_FIELDS.len() {
        n += TOKEN_FIELDS[i].len() + 3;
        i += 1;
    }
    let mut i = 0;
    while i < COST_FIELDS.len() {
        n += COST_FIELDS[i].len() + 3;
        i += 1;
    }
    n
};

/// The longest text `{:?}` writes for an `f64` (`-2.2250738585072014e-308`).
const LONGEST_FLOAT: usize = 24;

/// The least text of one model's totals: one digit per count, and `null`
/// or (with costs) `0.0` per cost.
const fn totals_min(include_costs: bool) -> usize {
    TOTALS_FRAME + TOKEN_FIELDS.len() + COST_FIELDS.len() * if include_costs { 3 } else { 4 }
}

/// One model's rolled-up usage (`LLMAggregatedUsage`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTotals {
    pub model: String,
    /// `requests`, `prompt_tokens`, `completion_tokens`, `total_tokens`,
    /// `cache_read_input_tokens`, `cache_creation_input_tokens`.
    pub tokens: Tokens,
    /// The four `*_total_cost` fields; written as `null` unless the request
    /// asked for costs.
    pub costs: Costs,
}

/// `CallsUsageRes`: per requested id (each once, in request order), the
/// usage per model of that call and everything it absorbs; and the ids in
/// scope that have not ended, sorted. (`TraceUsageRes` is the same shape,
/// with every call in scope.)
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallsUsageRes {
    pub call_usage: Vec<(String, Vec<ModelTotals>)>,
    pub unfinished_call_ids: Vec<String>,
    pub include_costs: bool,
    /// Only with `options.diagnostics`; written after the reference's fields.
    pub diagnostics: Option<Diagnostics>,
}

impl CallsUsageRes {
    /// The response as JSON text. Integers are written exactly (`JSON.parse`
    /// then rounds once, to the nearest JS number). JSON has no NaN or
    /// infinity: such a cost (only a cost string like `"nan"` or `"1e999"`
    /// can produce one) is written as the string `"NaN"`, `"Infinity"` or
    /// `"-Infinity"`, and [`CallsUsageRes::has_non_finite_costs`] says when a
    /// reader must turn those back into numbers.
    ///
    /// A 500 when the text would be longer than [`ANSWER_LIMIT`] bytes, or
    /// when memory has no room for it: its size is known before it is
    /// written (costs counted at their longest, or when that is too long,
    /// exactly), and reserved at once, fallibly.
    pub fn to_json(&self) -> Result<String, UsageError> {
        let mut len = self.json_len(false);
        if len > ANSWER_LIMIT {
            len = self.json_len(true);
        }
        let mut out = answer_text(len)?;
        out.push_str("{\"call_usage\":{");
        for (i, (id, models)) in self.call_usage.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, id);
            out.push_str(":{");
            for (j, m) in models.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                write_str(&mut out, &m.model);
                out.push(':');
                self.write_totals(&mut out, m);
            }
            out.push('}');
        }
        out.push_str("},\"unfinished_call_ids\":[");
        for (i, id) in self.unfinished_call_ids.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, id);
        }
        out.push(']');
        if let Some(d) = &self.diagnostics {
            out.push(',');
            d.write_json(&mut out);
        }
        out.push('}');
        // `len` is exact but for costs counted at their longest.
        debug_assert!(out.len() <= len && (self.include_costs || out.len() == len), "{} written, {len} reserved", out.len());
        Ok(out)
    }

    /// The length of [`CallsUsageRes::to_json`]'s text (saturating): exact,
    /// or with `exact_costs` false, counting each finite cost at its
    /// longest (formatting each one twice only when that is too long).
    pub fn json_len(&self, exact_costs: bool) -> usize {
        let list = |n: usize| n.saturating_sub(1);
        let mut n = ENVELOPE + 2;
        n = n.saturating_add(list(self.call_usage.len()));
        for (id, models) in &self.call_usage {
            n = n.saturating_add(str_len(id)).saturating_add(3).saturating_add(list(models.len()));
            for m in models {
                n = n.saturating_add(str_len(&m.model)).saturating_add(1).saturating_add(self.totals_len(m, exact_costs));
            }
        }
        n = n.saturating_add(list(self.unfinished_call_ids.len()));
        for id in &self.unfinished_call_ids {
            n = n.saturating_add(str_len(id));
        }
        if let Some(d) = &self.diagnostics {
            n = n.saturating_add(1).saturating_add(d.json_len());
        }
        n
    }

    /// The length of [`Self::write_totals`]'s text for `m`.
    fn totals_len(&self, m: &ModelTotals, exact_costs: bool) -> usize {
        let ints = m.tokens.iter().fold(0usize, |n, &t| n + int_len(t));
        let costs = m.costs.iter().fold(0usize, |n, &c| {
            n + match (self.include_costs, c) {
                (false, _) => 4,
                (true, c) if c.is_nan() => 5,
                (true, c) if c == f64::INFINITY => 10,
                (true, c) if c == f64::NEG_INFINITY => 11,
                (true, c) if exact_costs => {
                    let mut count = Count(0);
                    let _ = write!(count, "{c:?}");
                    count.0
                }
                (true, _) => LONGEST_FLOAT,
            }
        });
        TOTALS_FRAME + ints + costs
    }

    fn write_totals(&self, out: &mut String, m: &ModelTotals) {
        out.push('{');
        for (k, (name, value)) in TOKEN_FIELDS.iter().zip(m.tokens).enumerate() {
            if k > 0 {
                out.push(',');
            }
            // Writing to a String cannot fail.
            let _ = write!(out, "\"{name}\":{value}");
        }
        for (name, value) in COST_FIELDS.iter().zip(m.costs) {
            let _ = write!(out, ",\"{name}\":");
            match (self.include_costs, value) {
                (false, _) => out.push_str("null"),
                (true, v) if v.is_nan() => out.push_str("\"NaN\""),
                (true, v) if v == f64::INFINITY => out.push_str("\"Infinity\""),
                (true, v) if v == f64::NEG_INFINITY => out.push_str("\"-Infinity\""),
                // `{:?}` is the shortest text that reads back as the same f64.
                (true, v) => {
                    let _ = write!(out, "{v:?}");
                }
            }
        }
        out.push('}');
    }

    /// Whether [`CallsUsageRes::to_json`] wrote any cost as a string.
    pub fn has_non_finite_costs(&self) -> bool {
        self.include_costs && self.call_usage.iter().any(|(_, models)| models.iter().any(|m| m.costs.iter().any(|c| !c.is_finite())))
    }
}

/// The stats answer (docs/stats.md), as `usage::stats` computes it: dense
/// rows, bucket by bucket, group by group (then model by model). Its size
/// is bounded by `usage::stats::MAX_ROWS` before it is made.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRes {
    /// Bucket starts and the end of the last, each with the zone's offset
    /// there (minutes east of UTC).
    pub bounds: Vec<(i64, i32)>,
    pub granularity: &'static str,
    pub timezone: String,
    pub include_costs: bool,
    /// The group_by keys but model, in order.
    pub call_keys: Vec<&'static str>,
    pub by_model: bool,
    /// Each group's key values (null: the call has none), ranked; the
    /// merged rest last when `other_group`.
    pub groups: Vec<Vec<Option<String>>>,
    pub other_group: bool,
    /// The models (with `by_model`; else one unnamed), ranked; the merged
    /// rest last when `other_model`.
    pub models: Vec<Option<String>>,
    pub other_model: bool,
    /// Per bucket, group, model.
    pub usage: Vec<(Tokens, Costs)>,
    /// Per bucket and group: calls, errors, unfinished, LLM requests.
    pub calls: Vec<[i128; 4]>,
    /// Counted calls but for an unreadable or missing `started_at`.
    pub undated_calls: u64,
}

impl StatsRes {
    /// The answer as JSON text (non-finite costs as null).
    pub fn to_json(&self) -> Result<String, UsageError> {
        let mut out = String::new();
        let bucket = |b: usize| self.bounds.get(b).map(|&(t, o)| crate::input::time::format_instant(t, o));
        let text = |out: &mut String, v: &Option<String>| write_text(out, v.as_deref());
        let nb = self.bounds.len().saturating_sub(1);
        out.push_str("{\"start\":");
        text(&mut out, &bucket(0).filter(|_| nb > 0));
        out.push_str(",\"end\":");
        text(&mut out, &bucket(nb).filter(|_| nb > 0));
        let _ = write!(out, ",\"granularity\":\"{}\",\"timezone\":", self.granularity);
        write_str(&mut out, &self.timezone);
        out.push_str(",\"group_by\":[");
        let mut names: Vec<&str> = self.call_keys.clone();
        if self.by_model {
            names.insert(0, "model");
        }
        for (i, k) in names.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{k}\"");
        }
        let ng = self.groups.len();
        let nm = self.models.len();
        let keys = |out: &mut String, b: usize, g: usize| {
            out.push_str("{\"timestamp\":");
            text(out, &bucket(b));
            for (k, v) in self.call_keys.iter().zip(self.groups.get(g).into_iter().flatten()) {
                let _ = write!(out, ",\"{k}\":");
                text(out, v);
            }
        };
        out.push_str("],\"usage_buckets\":[");
        let mut first = true;
        for b in 0..nb {
            for g in 0..ng {
                for m in 0..nm {
                    let Some((tokens, costs)) = self.usage.get((b * ng + g) * nm + m) else { continue };
                    if !std::mem::take(&mut first) {
                        out.push(',');
                    }
                    keys(&mut out, b, g);
                    if self.by_model {
                        out.push_str(",\"model\":");
                        text(&mut out, self.models.get(m).unwrap_or(&None));
                    }
                    let other = (self.other_group && g + 1 == ng) || (self.other_model && m + 1 == nm);
                    if other {
                        out.push_str(",\"other\":true");
                    }
                    for (name, v) in TOKEN_FIELDS.iter().zip(tokens) {
                        let _ = write!(out, ",\"{name}\":{v}");
                    }
                    for (name, v) in COST_FIELDS.iter().zip(costs) {
                        match (self.include_costs, v.is_finite()) {
                            (true, true) => {
                                let _ = write!(out, ",\"{name}\":{v:?}");
                            }
                            _ => {
                                let _ = write!(out, ",\"{name}\":null");
                            }
                        }
                    }
                    out.push('}');
                }
            }
        }
        out.push_str("],\"call_buckets\":[");
        let mut first = true;
        for b in 0..nb {
            for g in 0..ng {
                let Some([calls, errors, unfinished, requests]) = self.calls.get(b * ng + g) else { continue };
                if !std::mem::take(&mut first) {
                    out.push(',');
                }
                keys(&mut out, b, g);
                if self.other_group && g + 1 == ng {
                    out.push_str(",\"other\":true");
                }
                let _ = write!(
                    out,
                    ",\"call_count\":{calls},\"error_count\":{errors},\"unfinished_count\":{unfinished},\"requests\":{requests}}}"
                );
            }
        }
        let _ = write!(out, "],\"undated_calls\":{}}}", self.undated_calls);
        if out.len() > ANSWER_LIMIT {
            return Err(answer_too_long(out.len(), true));
        }
        Ok(out)
    }
}

/// One call of the calls' listing ([`CallsQueryRes`]), its texts borrowed
/// from the table.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedCall<'a> {
    pub id: &'a str,
    pub trace_id: &'a str,
    pub parent_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
    pub op_name: Option<&'a str>,
    pub display_name: Option<&'a str>,
    /// Microseconds since the epoch; `None`: absent or unreadable.
    pub started: Option<i64>,
    pub ended: bool,
    pub has_exception: bool,
    /// The live calls of its trace (itself included).
    pub trace_calls: u64,
}

/// The calls' listing (`CallsQueryRes`, this library's subset of Weave's
/// `/calls/query` answer): the calls in scope, in the server's order.
#[derive(Debug, Clone, PartialEq)]
pub struct CallsQueryRes<'a> {
    pub calls: Vec<ListedCall<'a>>,
}

/// The projects the calls name (`ProjectsRes`): each with how many calls
/// count for it and name it, most first.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectsRes<'a> {
    pub projects: Vec<(&'a str, u64)>,
}

/// Optional text: a JSON string or `null`.
fn text_len(v: Option<&str>) -> usize {
    v.map_or(4, str_len)
}

fn write_text(out: &mut String, v: Option<&str>) {
    match v {
        Some(s) => write_str(out, s),
        None => out.push_str("null"),
    }
}

/// Reserves `len` bytes (fallibly) for an answer whose text is that long,
/// or the 500 when it is longer than [`ANSWER_LIMIT`].
fn answer_text(len: usize) -> Result<String, UsageError> {
    if len > ANSWER_LIMIT {
        return Err(answer_too_long(len, true));
    }
    let mut out = String::new();
    reserve_text(&mut out, len).map_err(answer_out_of_memory)?;
    Ok(out)
}

/// A value of a listed call, as written.
enum Field<'a> {
    Text(Option<&'a str>),
    Instant(Option<i64>),
    Bool(bool),
    Count(u64),
}

impl Field<'_> {
    fn len(&self) -> usize {
        match self {
            Field::Text(v) => text_len(*v),
            Field::Instant(t) => t.map_or(4, |t| crate::input::time::format_micros(t).len() + 2),
            Field::Bool(b) => 4 + usize::from(!b),
            Field::Count(n) => int_len(i128::from(*n)),
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Field::Text(v) => write_text(out, *v),
            Field::Instant(t) => write_text(out, t.map(crate::input::time::format_micros).as_deref()),
            Field::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Field::Count(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
}

impl<'a> ListedCall<'a> {
    /// The keys of a listed call, in the answer's order, with its values.
    fn fields(&self) -> [(&'static str, Field<'a>); 10] {
        [
            ("id", Field::Text(Some(self.id))),
            ("trace_id", Field::Text(Some(self.trace_id))),
            ("parent_id", Field::Text(self.parent_id)),
            ("project_id", Field::Text(self.project_id)),
            ("op_name", Field::Text(self.op_name)),
            ("display_name", Field::Text(self.display_name)),
            ("started_at", Field::Instant(self.started)),
            ("ended", Field::Bool(self.ended)),
            ("has_exception", Field::Bool(self.has_exception)),
            ("trace_calls", Field::Count(self.trace_calls)),
        ]
    }
}

impl CallsQueryRes<'_> {
    /// The answer as JSON text (a 500 when longer than [`ANSWER_LIMIT`] or
    /// when memory has no room for it; its exact size is known first).
    pub fn to_json(&self) -> Result<String, UsageError> {
        // `{"calls":[` and `]}`; per call its braces, per key its quotes
        // and colon, and the commas between its members.
        let mut len = 12usize;
        for c in &self.calls {
            let fields = c.fields();
            let call = fields
                .iter()
                .fold(2 + fields.len() * 3 + fields.len() - 1, |n: usize, (k, v)| n.saturating_add(k.len()).saturating_add(v.len()));
            len = len.saturating_add(call).saturating_add(1);
        }
        len -= usize::from(!self.calls.is_empty());
        let mut out = answer_text(len)?;
        out.push_str("{\"calls\":[");
        for (i, c) in self.calls.iter().enumerate() {
            out.push_str(if i > 0 { ",{" } else { "{" });
            for (j, (key, value)) in c.fields().iter().enumerate() {
                let _ = write!(out, "{}\"{key}\":", if j > 0 { "," } else { "" });
                value.write(&mut out);
            }
            out.push('}');
        }
        out.push_str("]}");
        debug_assert_eq!(out.len(), len, "the listing's text is as long as counted");
        Ok(out)
    }
}

impl ProjectsRes<'_> {
    /// The answer as JSON text, `{"projects":[{"project_id":…,"calls":…},…]}`.
    pub fn to_json(&self) -> Result<String, UsageError> {
        let item = "{\"project_id\":,\"calls\":},".len();
        let len =
            self.projects.iter().fold(15usize, |n, (id, calls)| {
                n.saturating_add(item).saturating_add(str_len(id)).saturating_add(int_len(i128::from(*calls)))
            }) - usize::from(!self.projects.is_empty());
        let mut out = answer_text(len)?;
        out.push_str("{\"projects\":[");
        for (i, (id, calls)) in self.projects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"project_id\":");
            write_str(&mut out, id);
            let _ = write!(out, ",\"calls\":{calls}}}");
        }
        out.push_str("]}");
        debug_assert_eq!(out.len(), len, "the projects' text is as long as counted");
        Ok(out)
    }
}

/// Counts what is written to it.
struct Count(usize);

impl Write for Count {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// The `diagnostics` object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    pub calls_in_scope: usize,
    /// Calls of the traces in scope left out by `limit`.
    pub calls_cut_by_limit: usize,
    /// Calls whose `parent_id` names no call in scope (deleted, another
    /// trace or project, cut by `limit`, or never given): they count as roots.
    pub orphan_call_ids: Vec<String>,
    /// Calls on a parent cycle: never added to their parents.
    pub cycle_call_ids: Vec<String>,
    /// Ids given by more than one live call: the last one counted.
    pub duplicate_call_ids: Vec<String>,
    /// Values present but unreadable, read as 0 (cost fields only when costs
    /// were read from the calls).
    pub unreadable_values: Vec<CallValue>,
    /// Usage entries with both `prompt_tokens` and `input_tokens` non-zero:
    /// the reference adds them, which double counts if they are the same
    /// tokens. Not an entry that some child in scope has usage of the same
    /// model under: Weave's client summed its children into it, so it holds
    /// both when one child used each (the children are judged themselves).
    pub prompt_and_input_tokens: Vec<CallValue>,
    /// Stored costs (`summary.weave.costs`) below zero, field by field, when
    /// costs were read from the calls: Weave 0.53.0 subtracts cache tokens
    /// from Anthropic's `input_tokens`, which already exclude them.
    pub negative_costs: Vec<CallValue>,
    /// With `options.prices`: models in scope with token usage in an entry
    /// that has neither stored costs in use nor a price row for the project
    /// or the default level.
    pub unpriced_models: Option<Vec<String>>,
    /// With `options.rollup: "dedupe"`: calls whose own usage covers their
    /// children's own usage, so counted with their children's extras only.
    pub deduped_call_ids: Option<Vec<String>>,
}

/// A call's model, and for an unreadable value its field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallValue {
    pub call_id: String,
    pub model: String,
    pub field: Option<&'static str>,
}

impl Diagnostics {
    /// The length of [`Self::write_json`]'s text (saturating).
    pub(crate) fn json_len(&self) -> usize {
        let ids = |name: &str, ids: &[String]| {
            let items = ids.iter().fold(0usize, |n, id| n.saturating_add(str_len(id)));
            (name.len() + 6).saturating_add(ids.len().saturating_sub(1)).saturating_add(items)
        };
        let values = |name: &str, values: &[CallValue]| {
            let items = values.iter().fold(0usize, |n, v| {
                let field = v.field.map_or(0, |f| 9 + str_len(f));
                n.saturating_add(21 + str_len(&v.call_id) + str_len(&v.model) + field)
            });
            (name.len() + 6).saturating_add(values.len().saturating_sub(1)).saturating_add(items)
        };
        let mut n = "\"diagnostics\":{\"calls_in_scope\":,\"calls_cut_by_limit\":}".len()
            + int_len(self.calls_in_scope as i128)
            + int_len(self.calls_cut_by_limit as i128);
        for part in [
            ids("orphan_call_ids", &self.orphan_call_ids),
            ids("cycle_call_ids", &self.cycle_call_ids),
            ids("duplicate_call_ids", &self.duplicate_call_ids),
            values("unreadable_values", &self.unreadable_values),
            values("prompt_and_input_tokens", &self.prompt_and_input_tokens),
            values("negative_costs", &self.negative_costs),
            self.unpriced_models.as_ref().map_or(0, |m| ids("unpriced_models", m)),
            self.deduped_call_ids.as_ref().map_or(0, |d| ids("deduped_call_ids", d)),
        ] {
            n = n.saturating_add(part);
        }
        n
    }

    /// Appends `"diagnostics":{…}` to a response being written.
    pub(crate) fn write_json(&self, out: &mut String) {
        let ids = |out: &mut String, name: &str, ids: &[String]| {
            let _ = write!(out, ",\"{name}\":[");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, id);
            }
            out.push(']');
        };
        let values = |out: &mut String, name: &str, values: &[CallValue]| {
            let _ = write!(out, ",\"{name}\":[");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"call_id\":");
                write_str(out, &v.call_id);
                out.push_str(",\"model\":");
                write_str(out, &v.model);
                if let Some(field) = v.field {
                    out.push_str(",\"field\":");
                    write_str(out, field);
                }
                out.push('}');
            }
            out.push(']');
        };
        let _ =
            write!(out, "\"diagnostics\":{{\"calls_in_scope\":{},\"calls_cut_by_limit\":{}", self.calls_in_scope, self.calls_cut_by_limit);
        ids(out, "orphan_call_ids", &self.orphan_call_ids);
        ids(out, "cycle_call_ids", &self.cycle_call_ids);
        ids(out, "duplicate_call_ids", &self.duplicate_call_ids);
        values(out, "unreadable_values", &self.unreadable_values);
        values(out, "prompt_and_input_tokens", &self.prompt_and_input_tokens);
        values(out, "negative_costs", &self.negative_costs);
        if let Some(models) = &self.unpriced_models {
            ids(out, "unpriced_models", models);
        }
        if let Some(deduped) = &self.deduped_call_ids {
            ids(out, "deduped_call_ids", deduped);
        }
        out.push('}');
    }
}

/// A lower bound of the answer's JSON size, added up as its parts become
/// known (saturating): enough to refuse an answer too long for JavaScript
/// before building it, and to bound the rollup's copies of the lists it
/// reports. Token counts are counted as one digit and costs as three
/// characters (`0.0`); names and ids as their bytes, before escaping.
#[derive(Debug, Clone, Copy)]
pub struct AnswerSize {
    bytes: usize,
    /// The least text of one model's totals, by `include_costs`.
    totals: usize,
}

impl AnswerSize {
    pub fn new(include_costs: bool) -> AnswerSize {
        AnswerSize { bytes: ENVELOPE, totals: totals_min(include_costs) }
    }

    /// The bytes counted so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds `bytes`.
    pub fn add(&mut self, bytes: usize) {
        self.bytes = self.bytes.saturating_add(bytes);
    }

    /// The 500 if what is counted exceeds [`ANSWER_LIMIT`].
    pub fn check(&self) -> Result<(), UsageError> {
        if self.bytes > ANSWER_LIMIT {
            return Err(answer_too_long(self.bytes, false));
        }
        Ok(())
    }

    /// A key of `call_usage` (an id): `"id":{},`.
    pub fn key(&mut self, len: usize) {
        self.add(len.saturating_add(6));
    }

    /// An item of a list of ids: `"id",`.
    pub fn item(&mut self, len: usize) {
        self.add(len.saturating_add(3));
    }

    /// One model's entry named `len` bytes, `"name":{…}` (the commas
    /// between entries are not counted).
    pub fn entry(&mut self, len: usize) {
        self.add(len.saturating_add(3).saturating_add(self.totals));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_sizes_saturate_and_are_refused_past_the_limit() {
        let mut size = AnswerSize::new(true);
        size.add(usize::MAX);
        assert!(size.check().is_err());
        assert_eq!(size.bytes(), usize::MAX);
    }

    #[test]
    fn writes_json_with_nulls_without_costs() {
        let r = CallsUsageRes {
            call_usage: vec![
                ("a\"\u{1}".into(), vec![ModelTotals { model: "__proto__".into(), tokens: [1, 2, 3, 5, 0, 0], costs: [0.0; 4] }]),
                ("b".into(), vec![]),
            ],
            unfinished_call_ids: vec!["x".into()],
            include_costs: false,
            diagnostics: None,
        };
        assert_eq!(
            r.to_json().unwrap(),
            r#"{"call_usage":{"a\"\u0001":{"__proto__":{"requests":1,"prompt_tokens":2,"completion_tokens":3,"total_tokens":5,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"prompt_tokens_total_cost":null,"completion_tokens_total_cost":null,"cache_read_input_tokens_total_cost":null,"cache_creation_input_tokens_total_cost":null}},"b":{}},"unfinished_call_ids":["x"]}"#
        );
        assert!(!r.has_non_finite_costs());
    }

    #[test]
    fn writes_costs_round_trip_and_marks_non_finite() {
        let r = CallsUsageRes {
            call_usage: vec![(
                "a".into(),
                vec![ModelTotals { model: "m".into(), tokens: [0; 6], costs: [0.1 + 0.2, 1e-7, f64::NAN, f64::NEG_INFINITY] }],
            )],
            unfinished_call_ids: vec![],
            include_costs: true,
            diagnostics: None,
        };
        let json = r.to_json().unwrap();
        assert!(json.contains(r#""prompt_tokens_total_cost":0.30000000000000004,"completion_tokens_total_cost":1e-7,"cache_read_input_tokens_total_cost":"NaN","cache_creation_input_tokens_total_cost":"-Infinity""#), "{json}");
        assert!(r.has_non_finite_costs());
    }

    #[test]
    fn big_integers_are_written_exactly() {
        let r = CallsUsageRes {
            call_usage: vec![(
                "a".into(),
                vec![ModelTotals { model: "m".into(), tokens: [9_007_199_254_740_993, 0, 0, 0, 0, 0], costs: [0.0; 4] }],
            )],
            ..Default::default()
        };
        assert!(r.to_json().unwrap().contains(r#""requests":9007199254740993,"#));
    }

    /// A response of `ids` keys with `models` entries each, names of `name` bytes.
    fn response(ids: usize, models: usize, name: usize, include_costs: bool) -> CallsUsageRes {
        let totals = |k: usize| ModelTotals { model: format!("{k:0name$}"), tokens: [1, 2, 3, 5, 0, 0], costs: [0.0; 4] };
        CallsUsageRes {
            call_usage: (0..ids).map(|i| (format!("c{i}"), (0..models).map(totals).collect())).collect(),
            include_costs,
            ..Default::default()
        }
    }

    #[test]
    fn the_length_is_known_before_writing() {
        let diagnostics = Diagnostics {
            calls_in_scope: 12,
            orphan_call_ids: vec!["o\n".into(), "p".into()],
            unreadable_values: vec![CallValue { call_id: "c".into(), model: "m\u{7}".into(), field: Some("requests") }],
            prompt_and_input_tokens: vec![CallValue { call_id: "c".into(), model: "m".into(), field: None }],
            negative_costs: vec![CallValue { call_id: "n\"".into(), model: "m".into(), field: Some("prompt_tokens_total_cost") }],
            unpriced_models: Some(vec![]),
            ..Default::default()
        };
        let costs = [0.1 + 0.2, -2.2250738585072014e-308, f64::NAN, f64::INFINITY];
        for (include_costs, costs, unfinished, diagnostics) in
            [(false, [0.0; 4], vec![], None), (true, costs, vec!["u".into(), "\"é\"".into()], Some(diagnostics))]
        {
            let mut r = response(3, 2, 5, include_costs);
            r.call_usage
                .push(("\u{1f}\\".into(), vec![ModelTotals { model: "é".into(), tokens: [i128::MIN, i128::MAX, -1, 10, 9, 0], costs }]));
            r.call_usage.push(("empty".into(), vec![]));
            r.unfinished_call_ids = unfinished;
            r.diagnostics = diagnostics;
            let text = r.to_json().unwrap();
            assert_eq!(r.json_len(true), text.len(), "{text}");
            assert!(r.json_len(false) >= text.len());
        }
        assert_eq!(CallsUsageRes::default().json_len(true), CallsUsageRes::default().to_json().unwrap().len());
        for v in [0, 9, 10, 99, 100, -1, -10, i128::MAX, i128::MIN, 10i128.pow(38) - 1, 10i128.pow(38)] {
            assert_eq!(int_len(v), v.to_string().len(), "{v}");
        }
        for v in [-2.2250738585072014e-308, -1.2345678901234567e-300, -0.00012345678901234567, -1234567890123456.8, f64::MIN, 5e-324] {
            assert!(format!("{v:?}").len() <= LONGEST_FLOAT, "{v:?}");
        }
    }

    #[test]
    fn an_answer_too_long_for_javascript_is_a_500_before_it_is_written() {
        // 2,000,000 entries of 295 bytes: over 512 MiB.
        let r = response(2_000, 1_000, 4, false);
        let len = r.json_len(true);
        assert!(len > ANSWER_LIMIT);
        let e = r.to_json().unwrap_err();
        assert_eq!((e.status, e.detail[0].kind.as_str()), (500, "response_too_large"));
        assert!(
            e.detail[0].msg.starts_with(&format!("The answer is {len} bytes of JSON, more than the 536870888 bytes")),
            "{}",
            e.detail[0].msg
        );
        // Just under the limit, it is written.
        let r = response(1_000, 1_000, 4, false);
        assert!(r.json_len(true) <= ANSWER_LIMIT);
        assert_eq!(r.to_json().unwrap().len(), r.json_len(true));
    }
}

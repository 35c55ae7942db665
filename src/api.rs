//! The contract's operations over JS-free inputs: validate the request and
//! options ([`prepare`], [`prepare_trace`]), read the calls ([`CallStream`]),
//! compute ([`compute`], [`compute_trace`]). The JS boundary (`wasm`) and
//! native callers (tests, benchmarks) both come through here.

use crate::calls::{CallStream, CallTable, PartError};
use crate::error::{Detail, Kind, Loc, Result, UsageError};
use crate::input::{
    asks_per_batch, CallsQueryRequest, StatsRequest, TraceUsageRequest, UsageOptions, UsageRequest, ARGUMENT_SHAPE, OPTIONS_SHAPE,
    STATS_REQUEST_SHAPE,
};
use crate::json::{parse_value, Shape, Value};
use crate::limits::{mib, room_for};
use crate::response::{CallsQueryRes, CallsUsageRes, ProjectsRes, StatsRes};
use crate::usage::{self, Buckets, TraceUsageRes};

/// A validated request and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub request: UsageRequest,
    pub options: UsageOptions,
}

/// Validates the request first (as the server validates the body before
/// anything else), then the options. With `options.limit: "per-batch"`, a
/// `limit` below 1 passes validation (Weave 0.53.12's model sets no
/// minimum) and is then refused as that server's method refuses it: 400,
/// after the options are known to be valid.
pub fn prepare(request: &Value, options: Option<&Value>) -> Result<Prepared> {
    if asks_per_batch(options) {
        let (request, below_one) = UsageRequest::from_value_any_limit(request)?;
        let options = UsageOptions::from_value(options)?;
        if below_one {
            return Err(UsageError::limit_not_positive());
        }
        return Ok(Prepared { request, options });
    }
    Ok(Prepared { request: UsageRequest::from_value(request)?, options: UsageOptions::from_value(options)? })
}

/// The answer for a prepared request over calls already read (or a 413
/// when the calls leave too little memory to compute it, or a 500 when it
/// is too large).
pub fn compute(table: &CallTable, prepared: &Prepared) -> Result<CallsUsageRes> {
    usage::calls_usage(table, &prepared.request, &prepared.options)
}

/// `callsUsageFromJson(body, request, options?)` in one call: `body` is JSON
/// Lines or a JSON array of calls.
pub fn calls_usage_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<CallsUsageRes> {
    let prepared = prepare(request, options)?;
    let stream = read_for(&prepared, |stream| stream.push(body))?;
    compute(stream.table(), &prepared)
}

/// The calls of a body for one `/calls/usage` request, `push`ed into a
/// stream (and finished): first into one that reads in full only the calls
/// the request can reach ([`CallStream::for_calls`]); in the rare case
/// where that is not enough (a call passed over turned out to count), once
/// more into one that reads them all. The answer is the same either way;
/// so are the errors (the first malformed call's, read in full).
pub fn read_for(prepared: &Prepared, mut push: impl FnMut(&mut CallStream) -> Result<()>) -> Result<CallStream> {
    let mut stream = CallStream::for_calls(&prepared.request.call_ids)?;
    push(&mut stream)?;
    if stream.finish()?.complete() {
        return Ok(stream);
    }
    let mut stream = CallStream::new();
    push(&mut stream)?;
    stream.finish()?;
    Ok(stream)
}

/// Whether `table` holds, read in full, every call of `traces` and every
/// call with one of `ids` (see [`CallTable::read_all_of`]); a 413 when the
/// strings do not fit in memory.
pub fn read_all_of(table: &CallTable, traces: &[String], ids: &[String]) -> Result<bool> {
    table.read_all_of(traces.iter().chain(ids).map(String::as_str)).map_err(|e| table.too_large(e))
}

/// The table that `parts` (as [`CallTable::part`] writes them, back to
/// back, in body order) make, made for stats if they have stats fields: a
/// 422 at `["parts"]` for bytes that are no parts, a 413 for parts that do
/// not fit in memory.
pub fn table_from_parts(parts: &[u8]) -> Result<CallTable> {
    let mut table = CallTable::reading(false, crate::calls::parts_have_stats(parts));
    match table.import_parts(parts) {
        Ok(()) => Ok(table),
        Err(PartError::Memory(e)) => Err(table.too_large(e)),
        Err(PartError::Malformed(why)) => {
            Err(UsageError::invalid(vec!["parts".into()], Kind::BytesType, format!("Input should be parts of calls: {why}")))
        }
    }
}

/// A part's selection from its JSON text, `{"traces": [...], "ids": [...]}`
/// (either may be absent or null: none), or null for every call: the traces
/// and the ids (`None`: every call). A 422 at `["select", …]` for anything else.
pub fn select_from_json(text: &[u8]) -> Result<Option<(Vec<String>, Vec<String>)>> {
    let value = shaped_from_json(text, "select", &SELECT_SHAPE)?;
    let bad = |loc: Vec<crate::error::Loc>| UsageError::invalid(loc, Kind::ListType, "Input should be a list of strings");
    if matches!(value, Value::Null) {
        return Ok(None);
    }
    let list = |key: &str| -> Result<Vec<String>> {
        match value.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(bad(vec!["select".into(), key.into()])),
                })
                .collect(),
            Some(_) => Err(bad(vec!["select".into(), key.into()])),
        }
    };
    if !matches!(value, Value::Object(_)) {
        return Err(bad(vec!["select".into()]));
    }
    Ok(Some((list("traces")?, list("ids")?)))
}

const SELECT_SHAPE: Shape = Shape::EachValue(&Shape::Items(&Shape::Scalar));

/// A validated `TraceUsageReq` and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedTrace {
    pub request: TraceUsageRequest,
    pub options: UsageOptions,
}

/// [`prepare`] for `/trace/usage`.
pub fn prepare_trace(request: &Value, options: Option<&Value>) -> Result<PreparedTrace> {
    Ok(PreparedTrace { request: TraceUsageRequest::from_value(request)?, options: UsageOptions::from_value(options)? })
}

/// `/trace/usage` for a prepared request over calls already read (errors as
/// for [`compute`]).
pub fn compute_trace(table: &CallTable, prepared: &PreparedTrace) -> Result<TraceUsageRes> {
    usage::trace_usage(table, &prepared.request, &prepared.options)
}

/// `traceUsageFromJson(body, request, options?)` in one call.
pub fn trace_usage_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<TraceUsageRes> {
    let prepared = prepare_trace(request, options)?;
    let mut stream = CallStream::new();
    stream.push(body)?;
    compute_trace(stream.finish()?, &prepared)
}

/// A validated `UsageStatsReq` and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedStats {
    pub request: StatsRequest,
    pub options: UsageOptions,
}

/// Options that have no meaning for stats, which always count each call's
/// own usage once, over every live call.
const NOT_FOR_STATS: [&str; 3] = ["rollup", "limit", "diagnostics"];

/// [`prepare`] for stats: the request, then the options (`prices` and
/// `reprice` only: `rollup`, `limit` and `diagnostics` are refused).
pub fn prepare_stats(request: &Value, options: Option<&Value>) -> Result<PreparedStats> {
    let request = StatsRequest::from_value(request)?;
    if let Some(Value::Object(entries)) = options {
        let refused: Vec<Detail> = entries
            .iter()
            .filter(|(k, v)| NOT_FOR_STATS.contains(&k.as_str()) && *v != Value::Null)
            .map(|(k, _)| {
                Detail::new(
                    vec![Loc::from("options"), Loc::from(k.as_str())],
                    Kind::NotSupported,
                    "Not supported for stats: they count each call's own usage once (the rule of rollup: \"dedupe\"), over every live call",
                )
            })
            .collect();
        if !refused.is_empty() {
            return Err(UsageError::unprocessable(refused));
        }
    }
    Ok(PreparedStats { request, options: UsageOptions::from_value(options)? })
}

/// The stats for a prepared request over calls read by a stream made with
/// [`CallStream::for_stats`] (else a 409), with bucket boundaries from
/// `buckets` (natively: [`usage::fixed_offset_buckets`]).
pub fn compute_stats(table: &CallTable, prepared: &PreparedStats, buckets: Buckets<'_>) -> Result<StatsRes> {
    usage::usage_stats(table, &prepared.request, &prepared.options, buckets)
}

/// `usageStatsFromJson(body, request, options?)` in one call, natively
/// (fixed offsets only: see [`usage::fixed_offset_buckets`]).
pub fn usage_stats_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<StatsRes> {
    let prepared = prepare_stats(request, options)?;
    let mut stream = CallStream::for_stats(false);
    stream.push(body)?;
    compute_stats(stream.finish()?, &prepared, &usage::fixed_offset_buckets)
}

/// Reads a `UsageStatsReq` from its JSON text.
pub fn stats_request_from_json(text: &[u8]) -> Result<Value> {
    shaped_from_json(text, "body", &STATS_REQUEST_SHAPE)
}

/// A `TraceUsageReq` from its JSON text: every key, scalars, and objects
/// (`filter`) of lists of scalars (`trace_ids`, `call_ids`).
const TRACE_REQUEST_SHAPE: Shape = Shape::EachValue(&Shape::EachValue(&Shape::Items(&Shape::Scalar)));

/// A validated `CallsQueryReq` (the calls' listing; docs/stats.md).
pub fn prepare_query(request: &Value) -> Result<CallsQueryRequest> {
    CallsQueryRequest::from_value(request)
}

/// The calls' listing for a prepared request over calls read by a stream
/// made with [`CallStream::for_stats`] (else a 409).
pub fn compute_query<'t>(table: &'t CallTable, request: &CallsQueryRequest) -> Result<CallsQueryRes<'t>> {
    usage::calls_query(table, request)
}

/// The projects the calls name, each with how many of its calls name it.
pub fn compute_projects(table: &CallTable) -> Result<ProjectsRes<'_>> {
    usage::projects(table)
}

/// A `CallsQueryReq` from its JSON text: the shape of a `TraceUsageReq`
/// (`filter` holds lists of scalars and `trace_roots_only`, a scalar).
pub fn query_request_from_json(text: &[u8]) -> Result<Value> {
    shaped_from_json(text, "body", &TRACE_REQUEST_SHAPE)
}

/// Reads a `CallsUsageReq` (`what`: `"body"`) or options (`"options"`)
/// object from its JSON text (the boundary hands over `JSON.stringify` of
/// what it was given). Options keep their nested price rows; the request
/// needs only scalars and lists of them.
pub fn argument_from_json(text: &[u8], what: &str) -> Result<Value> {
    let shape = if what == "options" { &OPTIONS_SHAPE } else { &ARGUMENT_SHAPE };
    shaped_from_json(text, what, shape)
}

/// Reads a `TraceUsageReq` from its JSON text (its `filter` is an object).
pub fn trace_request_from_json(text: &[u8]) -> Result<Value> {
    shaped_from_json(text, "body", &TRACE_REQUEST_SHAPE)
}

/// Bytes of memory that reading a request or options may take per byte of
/// its JSON text, from above: a call id of one character (`"a",`) becomes a
/// value (32 bytes and a 16-byte block) and then a validated `String` (12
/// and 16), and a list may be copied once as it grows.
const ARGUMENT_MEMORY: usize = 32;

fn shaped_from_json(text: &[u8], what: &str, shape: &Shape) -> Result<Value> {
    let need = text.len().saturating_mul(ARGUMENT_MEMORY);
    if !room_for(need) {
        let name = if what == "body" { "request" } else { what };
        let msg = format!("The {name} ({} bytes of JSON) needs up to {} MiB of memory to read, more than the module has left (a wasm module addresses at most 4 GiB)", text.len(), mib(need));
        return Err(UsageError::too_large(vec![what.into()], Kind::RequestTooLarge, msg));
    }
    parse_value(text, shape).map_err(|f| {
        UsageError::invalid(vec![what.into()], Kind::JsonInvalid, format!("{what} is not JSON: {} at byte {}", f.what, f.offset))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_keep_what_validation_reads() {
        let v = trace_request_from_json(br#"{"project_id":"p","filter":{"trace_ids":["t"],"call_ids":null},"limit":"5"}"#).unwrap();
        let r = prepare_trace(&v, None).unwrap().request;
        assert_eq!((r.trace_ids, r.limit), (vec!["t".to_string()], 5));
        let o = argument_from_json(
            br#"{"prices":[{"llm_id":"m","effective_date":"2024-01-01","prompt_token_cost":"1e-6"}],"rollup":"dedupe"}"#,
            "options",
        )
        .unwrap();
        let o = UsageOptions::from_value(Some(&o)).unwrap();
        assert_eq!(o.prices.map(|p| p[0].rates[0]), Some(1e-6));
        let c = argument_from_json(br#"{"project_id":"p","call_ids":["a","b"]}"#, "body").unwrap();
        assert_eq!(UsageRequest::from_value(&c).unwrap().call_ids, ["a", "b"]);
        assert_eq!(trace_request_from_json(b"{").unwrap_err().detail[0].kind, "json_invalid");
    }
}

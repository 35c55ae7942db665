//! The contract's operations over JS-free inputs: validate the request and
//! options ([`prepare`], [`prepare_trace`]), read the calls ([`CallStream`]),
//! compute ([`compute`], [`compute_trace`]). The JS boundary (`wasm.rs`) and
//! native callers (tests, benchmarks) both come through here.

use crate::error::{Result, UsageError};
use crate::json::{parse_value, ARGUMENT_SHAPE};
use crate::options::{UsageOptions, OPTIONS_SHAPE};
use crate::request::{TraceUsageRequest, UsageRequest};
use crate::response::CallsUsageRes;
use crate::rollup;
use crate::stream::CallStream;
use crate::table::CallTable;
use crate::trace::{self, TraceUsageRes};
use crate::value::Value;

/// A validated request and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub request: UsageRequest,
    pub options: UsageOptions,
}

/// Validates the request first (as the server validates the body before
/// anything else), then the options.
pub fn prepare(request: &Value, options: Option<&Value>) -> Result<Prepared> {
    Ok(Prepared { request: UsageRequest::from_value(request)?, options: UsageOptions::from_value(options)? })
}

/// The answer for a prepared request over calls already read.
pub fn compute(table: &CallTable, prepared: &Prepared) -> CallsUsageRes {
    rollup::calls_usage(table, &prepared.request, &prepared.options)
}

/// `callsUsageFromJson(body, request, options?)` in one call: `body` is JSON
/// Lines or a JSON array of calls.
pub fn calls_usage_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<CallsUsageRes> {
    let prepared = prepare(request, options)?;
    let mut stream = CallStream::new();
    stream.push(body)?;
    Ok(compute(stream.finish()?, &prepared))
}

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

/// `/trace/usage` for a prepared request over calls already read.
pub fn compute_trace(table: &CallTable, prepared: &PreparedTrace) -> TraceUsageRes {
    trace::trace_usage(table, &prepared.request, &prepared.options)
}

/// `traceUsageFromJson(body, request, options?)` in one call.
pub fn trace_usage_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<TraceUsageRes> {
    let prepared = prepare_trace(request, options)?;
    let mut stream = CallStream::new();
    stream.push(body)?;
    Ok(compute_trace(stream.finish()?, &prepared))
}

/// Reads a request (`what`: `"body"`) or options (`"options"`) object from
/// its JSON text (the boundary hands over `JSON.stringify` of what it was
/// given). Options keep their nested price rows; a request needs only scalars
/// and lists of them.
pub fn argument_from_json(text: &[u8], what: &str) -> Result<Value> {
    let shape = if what == "options" { &OPTIONS_SHAPE } else { &ARGUMENT_SHAPE };
    parse_value(text, shape)
        .map_err(|f| UsageError::invalid(vec![what.into()], "json_invalid", format!("{what} is not JSON: {} at byte {}", f.what, f.offset)))
}

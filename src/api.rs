//! The contract's operations over JS-free inputs: validate the request and
//! options ([`prepare`]), read the calls ([`CallStream`]), compute
//! ([`compute`]). The JS boundary (`wasm.rs`) and native callers (tests,
//! benchmarks) both come through here.

use crate::error::{Result, UsageError};
use crate::json::{parse_value, ARGUMENT_SHAPE};
use crate::request::{UsageOptions, UsageRequest};
use crate::response::CallsUsageRes;
use crate::rollup;
use crate::stream::CallStream;
use crate::table::CallTable;
use crate::value::Value;

/// A validated request and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    rollup::calls_usage(table, &prepared.request)
}

/// `callsUsageFromJson(body, request, options?)` in one call: `body` is JSON
/// Lines or a JSON array of calls.
pub fn calls_usage_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<CallsUsageRes> {
    let prepared = prepare(request, options)?;
    let mut stream = CallStream::new();
    stream.push(body)?;
    Ok(compute(stream.finish()?, &prepared))
}

/// Reads a request or options object from its JSON text (the boundary hands
/// over `JSON.stringify` of what it was given).
pub fn argument_from_json(text: &[u8], what: &str) -> Result<Value> {
    parse_value(text, &ARGUMENT_SHAPE)
        .map_err(|f| UsageError::invalid(vec![what.into()], "json_invalid", format!("{what} is not JSON: {} at byte {}", f.what, f.offset)))
}

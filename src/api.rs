//! The two operations of the contract, over JS-free inputs: validate the
//! request and options, read the calls, compute. The JS boundary (`wasm.rs`)
//! and native callers (tests, benchmarks) both come through here.

use crate::call::{Call, CALL_SHAPE};
use crate::error::{Loc, Result, UsageError};
use crate::json::for_each_value;
use crate::request::{UsageOptions, UsageRequest};
use crate::response::CallsUsageRes;
use crate::rollup;
use crate::value::Value;

/// `callsUsage(calls, request, options?)`: `calls` must be an array of call
/// objects (read with [`CALL_SHAPE`]; other fields may be absent).
pub fn calls_usage(calls: &Value, request: &Value, options: Option<&Value>) -> Result<CallsUsageRes> {
    let (request, _options) = read_arguments(request, options)?;
    let Value::Array(items) = calls else {
        return Err(UsageError::invalid(vec![Loc::from("calls")], "list_type", "Input should be a valid list"));
    };
    let calls = items.iter().enumerate().map(|(i, v)| Call::from_value(i, v)).collect::<Result<Vec<_>>>()?;
    Ok(rollup::calls_usage(&calls, &request))
}

/// `callsUsageFromJson(body, request, options?)`: `body` is JSON Lines or a
/// JSON array of calls, as bytes.
pub fn calls_usage_from_json(body: &[u8], request: &Value, options: Option<&Value>) -> Result<CallsUsageRes> {
    let (request, _options) = read_arguments(request, options)?;
    let calls = read_calls(body)?;
    Ok(rollup::calls_usage(&calls, &request))
}

/// Reads and validates every call of a JSON Lines or JSON array body.
pub fn read_calls(body: &[u8]) -> Result<Vec<Call>> {
    let mut calls = Vec::new();
    for_each_value(body, &CALL_SHAPE, |i, v| {
        calls.push(Call::from_value(i, &v)?);
        Ok(())
    })?;
    Ok(calls)
}

/// The request first (as the server validates the body before anything
/// else), then the options.
fn read_arguments(request: &Value, options: Option<&Value>) -> Result<(UsageRequest, UsageOptions)> {
    Ok((UsageRequest::from_value(request)?, UsageOptions::from_value(options)?))
}

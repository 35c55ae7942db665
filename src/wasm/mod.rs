//! The JavaScript boundary: the only module that touches `JsValue`.
//!
//! Every export does four things: read its arguments, call the core
//! (`api`, `calls::CallStream`), turn the result into JavaScript, and map a core
//! error to a thrown `Error` (in `throw`, the one place that happens).
//!
//! `/calls/usage` and `/trace/usage` come in the same pairs: `callsUsage` /
//! `traceUsage` take calls as objects, `callsUsageFromJson` /
//! `traceUsageFromJson` take the body as bytes or text, and a
//! `UsageAccumulator` answers both (`finish`, `finishTrace`).
//!
//! Design, for speed across the boundary:
//! - Arguments are read as the JSON text `JSON.stringify` makes of them, so
//!   a value means here exactly what it would mean to the server once sent
//!   (`undefined` members absent, NaN and ±Infinity `null`, a `Date` its ISO
//!   string), and one string crosses instead of one property at a time.
//! - `callsUsage(calls)` is the same idea for calls: `js/pick.js`
//!   keeps the calls that can matter to the request (its traces, and anything
//!   that might be malformed), reduced to the fields the rollup reads (a
//!   checked call as a keyless array naming earlier calls for repeated
//!   trace, parent and project ids: `calls::wire`), and
//!   stringifies them once; the bytes path's reader then reads them. Reading each
//!   call's properties from Rust would cost a boundary crossing per property
//!   and be several times slower than the plain-JS rollup it replaces.
//! - Bytes are copied into wasm memory in slices of `SLICE` and streamed,
//!   so a 1.5 GB body never needs 1.5 GB of wasm memory.
//! - Every JavaScript operation a call performs, on a caller's value or an
//!   engine builtin a page could replace, is an import with `catch`
//!   (js/boundary.js, js/pick.js): an exception thrown through wasm
//!   frames would skip Rust's clean-up (a borrow left held, the shadow stack
//!   pointer left lowered). Those left without `catch` run no caller code.
//! - Results are built by `JSON.parse` on text the core writes: it defines
//!   each key as an own property, so ids and model names like `__proto__`
//!   cannot reach a prototype, and it is the fastest way to build many small
//!   objects.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use js_sys::{Array, ArrayBuffer, JsString, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::calls::{CallStream, CallTable, Select, COST_FIELDS};
use crate::error::{Detail, Kind, Loc, UsageError};
use crate::input::Granularity;
use crate::json::{write_str, Value};
use crate::response::{CallsUsageRes, StatsRes};
use crate::usage::too_many_buckets;

/// Bytes copied into wasm memory at a time.
const SLICE: u32 = 4 << 20;

/// Whether this module has the stats exports (the crate's `stats` feature:
/// the package's `weave-usage/stats` module). Without it they throw a 501
/// that names that entry, before anything else, and the code behind them
/// is dead, which LTO drops: the main module stays under its size budget
/// (docs/performance.md). A constant rather than `#[cfg]` on each item, so
/// that both builds compile, lint and document the same code.
const STATS: bool = cfg!(feature = "stats");

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");

#[wasm_bindgen]
extern "C" {
    /// The `options` argument: an imported type, so that the generated
    /// signature reads `options?: UsageOptions | null`.
    #[wasm_bindgen(typescript_type = "UsageOptions")]
    pub type OptionsArg;
}

#[wasm_bindgen(module = "/js/pick.js")]
extern "C" {
    /// `[json, indices]`, or null when `calls` is not an array: see
    /// js/pick.js (`call_ids` null: every call; `for_stats`: with the
    /// stats fields, for a table made for stats). Throws what
    /// JSON.stringify throws (a BigInt, a cycle in a malformed call) and what
    /// a hostile value throws.
    #[wasm_bindgen(js_name = selectCalls, catch)]
    fn select_calls(calls: &JsValue, call_ids: &JsValue, for_stats: bool) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen(module = "/js/zone.js")]
extern "C" {
    /// `[t0, offset0, t1, offset1, …]`: the stats buckets' boundaries in
    /// a time zone (ms since the epoch, minutes east of UTC), or null for
    /// an unknown zone: see js/zone.js.
    #[wasm_bindgen(js_name = bucketBounds, catch)]
    fn bucket_bounds(start: f64, end: f64, granularity: &str, timezone: &str, max: u32) -> Result<Option<Vec<f64>>, JsValue>;
}

/// The JavaScript operations a call performs, each behind `catch` so that
/// nothing is ever thrown through wasm frames: see js/boundary.js.
#[wasm_bindgen(module = "/js/boundary.js")]
extern "C" {
    /// `[read, written]`: `text` from UTF-16 index `from` encoded as UTF-8
    /// into `into`, as much as fits, never part of a character.
    #[wasm_bindgen(js_name = encodeSlice, catch)]
    fn encode_slice(text: &JsString, from: u32, into: &mut [u8]) -> Result<Vec<u32>, JsValue>;

    /// A body as a Uint8Array made in JS, or null (a string is not a body
    /// here: see [`push_text`]).
    /// Every JS value is looked at there, behind `catch`: an exception
    /// thrown through wasm frames would skip Rust's clean-up (leaving an
    /// accumulator borrowed for good), and a typed array whose `length`
    /// lies could make a copy fail an assertion.
    #[wasm_bindgen(js_name = bodyBytes, catch)]
    fn body_bytes(body: &JsValue) -> Result<Option<Uint8Array>, JsValue>;

    /// 16 random bytes (`crypto.getRandomValues`), the hash tables' key.
    #[wasm_bindgen(js_name = randomSeed, catch)]
    fn random_seed() -> Result<Vec<u8>, JsValue>;

    #[wasm_bindgen(js_name = byteLength, catch)]
    fn byte_length(bytes: &Uint8Array) -> Result<u32, JsValue>;

    /// `bytes[at..at + into.len()]` into `into`.
    #[wasm_bindgen(js_name = copyBytes, catch)]
    fn copy_bytes(bytes: &Uint8Array, at: u32, into: &mut [u8]) -> Result<(), JsValue>;

    #[wasm_bindgen(js_name = textLength, catch)]
    fn text_length(text: &JsString) -> Result<u32, JsValue>;

    /// `JSON.stringify(value)`; `None` when that is undefined.
    #[wasm_bindgen(catch)]
    fn stringify(value: &JsValue) -> Result<Option<String>, JsValue>;

    #[wasm_bindgen(js_name = parseJson, catch)]
    fn parse_json(text: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = messageOf, catch)]
    fn message_of(e: &JsValue) -> Result<String, JsValue>;

    /// The indices a `selectCalls` result holds, if any.
    #[wasm_bindgen(js_name = pickedIndices, catch)]
    fn picked_indices(picked: &Array) -> Result<Option<Vec<u32>>, JsValue>;

    /// `parts` as one Uint8Array (parts back to back), or null.
    #[wasm_bindgen(js_name = partsBytes, catch)]
    fn parts_bytes(parts: &JsValue) -> Result<Option<Uint8Array>, JsValue>;

    /// `Error(message)` with `status` and `detail` (JSON text).
    #[wasm_bindgen(js_name = usageError, catch)]
    fn usage_error(message: &str, status: u16, detail: &str) -> Result<JsValue, JsValue>;
}

/// `callsUsage(calls, request, options?)`: usage per model for each
/// requested root call over calls already parsed into objects.
#[wasm_bindgen(js_name = callsUsage, unchecked_return_type = "CallsUsageRes")]
pub fn calls_usage(
    #[wasm_bindgen(unchecked_param_type = "Call[]")] calls: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CallsUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    // The request is validated before the calls are looked at, as the server does.
    let prepared = read_arguments(&request, options.as_ref()).map_err(throw)?;
    // The ids as validated (not read again from `request`, whose getters
    // could answer differently the second time), made by JSON.parse.
    let mut ids = String::from("[");
    for (i, id) in prepared.request.call_ids.iter().enumerate() {
        if i > 0 {
            ids.push(',');
        }
        write_str(&mut ids, id);
    }
    ids.push(']');
    let call_ids = parse_json(&ids).map_err(|e| throw(not_json("body", &e)))?;
    let result = read_objects(&calls, &call_ids, false, |table| api::compute(table, &prepared))?;
    to_js(&result).map_err(throw)
}

/// `traceUsage(calls, request, options?)`: Weave's `/trace/usage` over calls
/// already parsed into objects: every call in scope with its rolled-up usage.
#[wasm_bindgen(js_name = traceUsage, unchecked_return_type = "TraceUsageRes")]
pub fn trace_usage(
    #[wasm_bindgen(unchecked_param_type = "Call[]")] calls: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TraceUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    let prepared = read_trace_arguments(&request, options.as_ref()).map_err(throw)?;
    // Every call can be in scope: all are read.
    let result = read_objects(&calls, &JsValue::NULL, false, |table| api::compute_trace(table, &prepared))?;
    to_js(&result).map_err(throw)
}

/// `traceUsageFromJson(body, request, options?)`: the same over a body, as
/// `callsUsageFromJson` takes it.
#[wasm_bindgen(js_name = traceUsageFromJson, unchecked_return_type = "TraceUsageRes")]
pub fn trace_usage_from_json(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | string")] body: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TraceUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    let prepared = read_trace_arguments(&request, options.as_ref()).map_err(throw)?;
    let mut stream = CallStream::new();
    push_body(&mut stream, &body).map_err(throw)?;
    let table = stream.finish().map_err(throw)?;
    to_js(&api::compute_trace(table, &prepared)).map_err(throw)
}

/// The objects path: the calls that can matter (`call_ids`' traces, or all
/// when it is null) cross as one JSON text, are read like a body, and
/// `compute` runs on them. A call's error names its index in `calls`.
fn read_objects<R>(calls: &JsValue, call_ids: &JsValue, for_stats: bool, compute: impl FnOnce(&CallTable) -> R) -> Result<R, JsValue> {
    let picked = select_calls(calls, call_ids, for_stats).map_err(|e| throw(not_json("calls", &e)))?;
    let Ok(picked) = picked.dyn_into::<Array>() else {
        return Err(throw(UsageError::invalid(vec![Loc::from("calls")], Kind::ListType, "Input should be a valid list")));
    };
    let json = picked.get(0);
    let indices = picked_indices(&picked).map_err(|e| throw(not_json("calls", &e)))?;
    let mut stream = if STATS && for_stats { CallStream::for_stats(true) } else { CallStream::with_compact_calls() };
    let table = push_body(&mut stream, &json).and_then(|()| stream.finish()).map_err(|e| throw(original_index(e, indices.as_deref())))?;
    Ok(compute(table))
}

/// `callsUsageFromJson(body, request, options?)`: the same over the text
/// `/calls/stream_query` returns (JSON Lines) or a JSON array of calls, as
/// bytes (the fast path) or a string: copied in slices once, or twice when
/// a call passed over turned out to count (`api::read_for`).
#[wasm_bindgen(js_name = callsUsageFromJson, unchecked_return_type = "CallsUsageRes")]
pub fn calls_usage_from_json(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | string")] body: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CallsUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    let prepared = read_arguments(&request, options.as_ref()).map_err(throw)?;
    let stream = api::read_for(&prepared, |stream| push_body(stream, &body)).map_err(throw)?;
    to_js(&api::compute(stream.table(), &prepared)).map_err(throw)
}

/// `usageStats(calls, request, options?)`: usage and call counts per time
/// bucket and group over calls already parsed into objects (docs/stats.md).
#[wasm_bindgen(js_name = usageStats, unchecked_return_type = "UsageStatsRes")]
pub fn usage_stats(
    #[wasm_bindgen(unchecked_param_type = "Call[]")] calls: JsValue,
    #[wasm_bindgen(unchecked_param_type = "UsageStatsReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    if !STATS {
        return Err(throw(stats_unavailable(vec![Loc::from("module")])));
    }
    let prepared = read_stats_arguments(&request, options.as_ref()).map_err(throw)?;
    // Every call can count: all are read, with their stats fields.
    let result = read_objects(&calls, &JsValue::NULL, true, |table| api::compute_stats(table, &prepared, &js_buckets))?;
    stats_to_js(result).map_err(throw)
}

/// `usageStatsFromJson(body, request, options?)`: the same over a body, as
/// `callsUsageFromJson` takes it.
#[wasm_bindgen(js_name = usageStatsFromJson, unchecked_return_type = "UsageStatsRes")]
pub fn usage_stats_from_json(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | string")] body: JsValue,
    #[wasm_bindgen(unchecked_param_type = "UsageStatsReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    if !STATS {
        return Err(throw(stats_unavailable(vec![Loc::from("module")])));
    }
    let prepared = read_stats_arguments(&request, options.as_ref()).map_err(throw)?;
    let mut stream = CallStream::for_stats(false);
    push_body(&mut stream, &body).map_err(throw)?;
    let table = stream.finish().map_err(throw)?;
    stats_to_js(api::compute_stats(table, &prepared, &js_buckets)).map_err(throw)
}

/// The stats buckets from `js/zone.js` (see [`crate::usage::Buckets`]).
fn js_buckets(start: i64, end: i64, granularity: Granularity, timezone: &str, max: usize) -> Result<Vec<(i64, i32)>, UsageError> {
    let at = || vec![Loc::from("body"), Loc::from("timezone")];
    // Microseconds to milliseconds: the start down, the (exclusive) end up.
    let (from, to) = (start.div_euclid(1000) as f64, end.saturating_add(999).div_euclid(1000) as f64);
    let flat = bucket_bounds(from, to, granularity.name(), timezone, u32::try_from(max).unwrap_or(u32::MAX))
        .map_err(|e| UsageError::invalid(at(), Kind::ValueError, format!("Value error, time zone {timezone:?}: {}", message(&e))))?;
    let Some(flat) = flat else {
        return Err(UsageError::invalid(
            at(),
            Kind::ValueError,
            format!("Value error, unknown time zone {timezone:?}: give an IANA name (America/New_York) or a fixed offset (+05:30)"),
        ));
    };
    let mut out = Vec::new();
    for pair in flat.chunks_exact(2) {
        if let [t, offset] = pair {
            if out.len() > max {
                return Err(too_many_buckets(max, granularity));
            }
            // Whole minutes, far inside i64 microseconds for any Date.
            out.push(((*t as i64).saturating_mul(1000), *offset as i32));
        }
    }
    Ok(out)
}

/// `callsUsageFromParts(parts, request, options?)`: the answer over the
/// calls of parts (`UsageAccumulator.part`), in order, as if their bodies
/// had been read as one (see js/parallel.js).
#[wasm_bindgen(js_name = callsUsageFromParts, unchecked_return_type = "CallsUsageRes")]
pub fn calls_usage_from_parts(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[]")] parts: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CallsUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    let prepared = read_arguments(&request, options.as_ref()).map_err(throw)?;
    let table = read_parts(&parts).map_err(throw)?;
    to_js(&api::compute(&table, &prepared)).map_err(throw)
}

/// `traceUsageFromParts(parts, request, options?)`: `/trace/usage` over parts.
#[wasm_bindgen(js_name = traceUsageFromParts, unchecked_return_type = "TraceUsageRes")]
pub fn trace_usage_from_parts(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[]")] parts: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TraceUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    enter();
    let prepared = read_trace_arguments(&request, options.as_ref()).map_err(throw)?;
    let table = read_parts(&parts).map_err(throw)?;
    to_js(&api::compute_trace(&table, &prepared)).map_err(throw)
}

/// The table that `parts` make, copied into wasm memory first.
fn read_parts(parts: &JsValue) -> Result<CallTable, UsageError> {
    const PARTS: &str = "Input should be a Uint8Array, an ArrayBuffer or an array of them";
    let not_parts = |e: &JsValue| UsageError::invalid(vec![Loc::from("parts")], Kind::BytesType, format!("{PARTS}: {}", message(e)));
    let bytes = match parts_bytes(parts) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(UsageError::invalid(vec![Loc::from("parts")], Kind::BytesType, PARTS)),
        Err(e) => return Err(not_parts(&e)),
    };
    let len = byte_length(&bytes).map_err(|e| not_parts(&e))? as usize;
    let mut buf = Vec::new();
    if let Err(e) = crate::limits::reserve_exact(&mut buf, len) {
        return Err(crate::calls::CallStream::new().table().too_large(e));
    }
    buf.resize(len, 0);
    copy_bytes(&bytes, 0, &mut buf).map_err(|e| not_parts(&e))?;
    api::table_from_parts(&buf)
}

/// Streams a body in: `push(chunk)` as chunks arrive (split anywhere), then
/// `finish(request, options?)` for the same answer `callsUsageFromJson` gives
/// on the whole body. `finish` may be called again with other requests;
/// `free()` releases the memory.
#[wasm_bindgen(js_name = UsageAccumulator)]
pub struct UsageAccumulator {
    stream: CallStream,
}

#[wasm_bindgen]
extern "C" {
    /// The accumulator's options: `{ stats?: boolean }`.
    #[wasm_bindgen(typescript_type = "UsageAccumulatorOptions")]
    pub type AccumulatorOptionsArg;
}

#[wasm_bindgen(js_class = UsageAccumulator)]
impl UsageAccumulator {
    /// `options.stats`: also read the fields stats need (`finishStats`);
    /// without it the accumulator holds only what `/calls/usage` reads.
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<AccumulatorOptionsArg>) -> Result<UsageAccumulator, JsValue> {
        enter();
        let options = options.map(|o| argument("options", &o)).transpose().map_err(throw)?;
        let stats = accumulator_options(options.as_ref()).map_err(throw)?;
        if stats && !STATS {
            return Err(throw(stats_unavailable(vec![Loc::from("options"), Loc::from("stats")])));
        }
        Ok(UsageAccumulator { stream: if stats { CallStream::for_stats(false) } else { CallStream::new() } })
    }

    /// `UsageAccumulator.fromParts(parts)`: a finished accumulator holding
    /// the calls of `parts` (`part()` of others), in order, as if their
    /// bodies had been read as one. It answers `finish`, `finishTrace` and,
    /// when the parts have stats fields and this is the stats module,
    /// `finishStats`; it takes no more input.
    #[wasm_bindgen(js_name = fromParts)]
    pub fn from_parts(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | (Uint8Array | ArrayBuffer)[]")] parts: JsValue,
    ) -> Result<UsageAccumulator, JsValue> {
        enter();
        let table = read_parts(&parts).map_err(throw)?;
        Ok(UsageAccumulator { stream: CallStream::finished_with(table) })
    }

    /// Reads what `chunk` completes. Throws (400/422) on the first bad line
    /// or call, and again on every later call.
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | string")] chunk: JsValue,
    ) -> Result<(), JsValue> {
        push_body(&mut self.stream, &chunk).map_err(throw)
    }

    /// The answer for `request` over everything pushed.
    #[wasm_bindgen(unchecked_return_type = "CallsUsageRes")]
    pub fn finish(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "CallsUsageReq")] request: JsValue,
        options: Option<OptionsArg>,
    ) -> Result<JsValue, JsValue> {
        let prepared = read_arguments(&request, options.as_ref()).map_err(throw)?;
        let table = self.stream.finish().map_err(throw)?;
        to_js(&api::compute(table, &prepared)).map_err(throw)
    }

    /// `/trace/usage` for `request` over everything pushed: like `finish`,
    /// it ends the input and may be called again, with any request.
    #[wasm_bindgen(js_name = finishTrace, unchecked_return_type = "TraceUsageRes")]
    pub fn finish_trace(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TraceUsageReq")] request: JsValue,
        options: Option<OptionsArg>,
    ) -> Result<JsValue, JsValue> {
        let prepared = read_trace_arguments(&request, options.as_ref()).map_err(throw)?;
        let table = self.stream.finish().map_err(throw)?;
        to_js(&api::compute_trace(table, &prepared)).map_err(throw)
    }

    /// Stats for `request` over everything pushed (the accumulator must be
    /// made with `{ stats: true }`, else a 409): like `finish`, it ends the
    /// input and may be called again, with any request. Only in the stats
    /// module (else a 501).
    #[wasm_bindgen(js_name = finishStats, unchecked_return_type = "UsageStatsRes")]
    pub fn finish_stats(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "UsageStatsReq")] request: JsValue,
        options: Option<OptionsArg>,
    ) -> Result<JsValue, JsValue> {
        if !STATS {
            return Err(throw(stats_unavailable(vec![Loc::from("accumulator")])));
        }
        let prepared = read_stats_arguments(&request, options.as_ref()).map_err(throw)?;
        let table = self.stream.finish().map_err(throw)?;
        stats_to_js(api::compute_stats(table, &prepared, &js_buckets)).map_err(throw)
    }

    /// The calls' listing for `request` (a `CallsQueryReq`: docs/stats.md)
    /// over everything pushed: the live calls of the project, narrowed by
    /// `filter` (`trace_ids`, `call_ids`, `trace_roots_only`), in the
    /// server's order, cut to `limit`. Like `finish`, it ends the input and
    /// may be called again. The accumulator must be made with `{ stats:
    /// true }` (else a 409); only in the stats module (else a 501).
    #[wasm_bindgen(js_name = finishCalls, unchecked_return_type = "CallsQueryRes")]
    pub fn finish_calls(&mut self, #[wasm_bindgen(unchecked_param_type = "CallsQueryReq")] request: JsValue) -> Result<JsValue, JsValue> {
        if !STATS {
            return Err(throw(stats_unavailable(vec![Loc::from("accumulator")])));
        }
        let request = match stringify_arg("body", &request).map_err(throw)? {
            Some(text) => api::query_request_from_json(text.as_bytes()).map_err(throw)?,
            None => Value::Null,
        };
        let request = api::prepare_query(&request).map_err(throw)?;
        let table = self.stream.finish().map_err(throw)?;
        text_to_js(api::compute_query(table, &request).and_then(|r| r.to_json())).map_err(throw)
    }

    /// The projects the calls pushed name, each with how many of the calls
    /// counted for it name it, most first. Like `finish`, it ends the input.
    /// Any accumulator, but only in the stats module (else a 501: the main
    /// module stays small).
    #[wasm_bindgen(js_name = finishProjects, unchecked_return_type = "ProjectsRes")]
    pub fn finish_projects(&mut self) -> Result<JsValue, JsValue> {
        if !STATS {
            return Err(throw(stats_unavailable(vec![Loc::from("accumulator")])));
        }
        let table = self.stream.finish().map_err(throw)?;
        text_to_js(api::compute_projects(table).and_then(|r| r.to_json())).map_err(throw)
    }

    /// Ends the input (as `finish` does) and returns the calls `select`
    /// names as a part for `callsUsageFromParts`: every call when it is
    /// null or undefined, else `{ traces, ids }`, the calls of those traces
    /// and those with those ids (lists of strings), in input order.
    pub fn part(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "{ traces?: string[]; ids?: string[] }")] select: Option<JsValue>,
    ) -> Result<Vec<u8>, JsValue> {
        let select = read_select(&select.unwrap_or(JsValue::NULL)).map_err(throw)?;
        let table = self.stream.finish().map_err(throw)?;
        let which = match &select {
            Some((traces, ids)) => Select::Of { traces, ids },
            None => Select::All,
        };
        table.part(&which).map_err(|e| throw(table.too_large(e)))
    }

    /// weave-usage/parallel's shard reader for one `/calls/usage` request
    /// (not part of the API): an accumulator that reads in full only the
    /// calls holding one of `select`'s strings (the request's ids), those
    /// its table then holds, and its first call, and passes over the others
    /// as `callsUsageFromJson` does. Whether it passed over one that other
    /// shards show to count, `readAllOf` tells.
    #[wasm_bindgen(js_name = forShard, skip_typescript)]
    pub fn for_shard(select: JsValue) -> Result<UsageAccumulator, JsValue> {
        enter();
        let strings = read_select(&select).map_err(throw)?.map(|(traces, ids)| [traces, ids].concat()).unwrap_or_default();
        Ok(UsageAccumulator { stream: CallStream::for_calls_from_middle(&strings).map_err(throw)? })
    }

    /// Ends the input (as `finish` does) and tells whether every call holding
    /// one of `select`'s traces or ids was read in full (always, unless made
    /// by `forShard`). Not part of the API.
    #[wasm_bindgen(js_name = readAllOf, skip_typescript)]
    pub fn read_all_of(&mut self, select: JsValue) -> Result<bool, JsValue> {
        let select = read_select(&select).map_err(throw)?.unwrap_or_default();
        let table = self.stream.finish().map_err(throw)?;
        api::read_all_of(table, &select.0, &select.1).map_err(throw)
    }

    /// Calls read so far (for progress).
    #[wasm_bindgen(getter)]
    pub fn calls(&self) -> f64 {
        self.stream.calls() as f64
    }

    /// Bytes consumed so far (for progress).
    #[wasm_bindgen(getter, js_name = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.stream.bytes_read() as f64
    }
}

/// The size of the module's memory in bytes (for benchmarks and tests).
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer().unchecked_into::<ArrayBuffer>().byte_length() as f64
}

/// Recurses `depth` frames deep in wasm and returns a value that depends on
/// every frame: js/guard.js calls it before each call into the module, so
/// that the call is refused (500 `stack_exhausted`) unless the engine's
/// native stack, which wasm frames use, has room. The guard's other check
/// measures the stack JavaScript arguments take, which in SpiderMonkey's
/// interpreter is not the native one. Its frames hold only wasm locals: an
/// overflow here leaves no Rust state half-changed (nothing on the shadow
/// stack, nothing allocated).
#[wasm_bindgen(js_name = stackProbe, skip_typescript)]
pub fn stack_probe(depth: u32) -> u32 {
    probe(depth)
}

#[inline(never)]
fn probe(n: u32) -> u32 {
    if n == 0 {
        return 1;
    }
    // Not a tail call, nor a sum LLVM could turn into a loop.
    probe(n - 1).rotate_left(3) ^ n
}

/// What every entry point does first: once per instance, a bug that panics
/// should say so in the console, not just trap; and until it has worked,
/// the hash of every table is keyed with the environment's randomness (see
/// `hash.rs`), which wasm has none of its own.
fn enter() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(console_error_panic_hook::hook)));
    // A runtime may refuse randomness for a while (Cloudflare Workers do at
    // global scope): the key then stays unset, tables made meanwhile fall
    // back to std's (address-keyed) one, and the next entry asks again.
    static SEEDED: AtomicBool = AtomicBool::new(false);
    if !SEEDED.load(Ordering::Relaxed) {
        if let Some(entropy) = random_seed().ok().and_then(|bytes| <[u8; 16]>::try_from(bytes).ok()) {
            crate::hash::seed(entropy);
            SEEDED.store(true, Ordering::Relaxed);
        }
    }
}

/// The request and options, read as the JSON the server would receive, and
/// validated.
fn read_arguments(request: &JsValue, options: Option<&OptionsArg>) -> Result<api::Prepared, UsageError> {
    let request = argument("body", request)?;
    // `None` covers both `undefined` and `null`.
    let options = options.map(|o| argument("options", o)).transpose()?;
    api::prepare(&request, options.as_ref())
}

/// `new UsageAccumulator(options?)`: `{ stats?: boolean }` (lax, as the
/// other booleans), nothing else.
fn accumulator_options(options: Option<&Value>) -> Result<bool, UsageError> {
    match options {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Object(entries)) => {
            let mut stats = false;
            let mut errors = Vec::new();
            for (key, v) in entries {
                let at = vec![Loc::from("options"), Loc::from(key.as_str())];
                match (key.as_str(), v) {
                    ("stats", Value::Bool(b)) => stats = *b,
                    ("stats", Value::Null) => {}
                    ("stats", _) => errors.push(Detail::of(at, Kind::BoolType)),
                    _ => errors.push(Detail::of(at, Kind::ExtraForbidden)),
                }
            }
            if errors.is_empty() {
                Ok(stats)
            } else {
                Err(UsageError::unprocessable(errors))
            }
        }
        Some(_) => Err(UsageError::invalid(
            vec![Loc::from("options")],
            Kind::ModelType,
            "Input should be a valid dictionary or instance of UsageAccumulatorOptions",
        )),
    }
}

/// [`read_arguments`] for a `UsageStatsReq`.
fn read_stats_arguments(request: &JsValue, options: Option<&OptionsArg>) -> Result<api::PreparedStats, UsageError> {
    let request = match stringify_arg("body", request)? {
        Some(text) => api::stats_request_from_json(text.as_bytes())?,
        None => Value::Null,
    };
    let options = options.map(|o| argument("options", o)).transpose()?;
    api::prepare_stats(&request, options.as_ref())
}

/// [`read_arguments`] for a `TraceUsageReq`.
fn read_trace_arguments(request: &JsValue, options: Option<&OptionsArg>) -> Result<api::PreparedTrace, UsageError> {
    let request = match stringify_arg("body", request)? {
        Some(text) => api::trace_request_from_json(text.as_bytes())?,
        None => Value::Null,
    };
    let options = options.map(|o| argument("options", o)).transpose()?;
    api::prepare_trace(&request, options.as_ref())
}

fn argument(what: &str, v: &JsValue) -> Result<Value, UsageError> {
    match stringify_arg(what, v)? {
        Some(text) => api::argument_from_json(text.as_bytes(), what),
        None => Ok(Value::Null),
    }
}

/// `JSON.stringify(v)`; `None` for `undefined`, a function or a symbol,
/// which stringify to undefined: nothing sent.
fn stringify_arg(what: &str, v: &JsValue) -> Result<Option<String>, UsageError> {
    stringify(v).map_err(|e| not_json(what, &e))
}

/// A part's selection (`{ traces, ids }`, or null for every call).
fn read_select(select: &JsValue) -> crate::error::Result<Option<(Vec<String>, Vec<String>)>> {
    match stringify_arg("select", select)? {
        Some(text) => api::select_from_json(text.as_bytes()),
        None => Ok(None),
    }
}

/// A thrown value's `message` ("" if it has none).
fn message(e: &JsValue) -> String {
    message_of(e).unwrap_or_default()
}

/// A value `JSON.stringify` refused (a BigInt, a cycle).
fn not_json(what: &str, e: &JsValue) -> UsageError {
    let why = message(e);
    UsageError::invalid(vec![what.into()], Kind::JsonType, format!("Input is not JSON-serializable: {why}"))
}

const EXPECTED: &str = "Input should be a Uint8Array, an ArrayBuffer or a string";

/// Pushes a `Uint8Array`, `ArrayBuffer` or string, copying big ones into
/// wasm memory a slice at a time.
fn push_body(stream: &mut CallStream, body: &JsValue) -> Result<(), UsageError> {
    if let Some(text) = body.dyn_ref::<JsString>() {
        return push_text(stream, text);
    }
    let bytes = match body_bytes(body) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(UsageError::invalid(vec![Loc::from("body")], Kind::BytesType, EXPECTED)),
        Err(e) => return Err(not_bytes(&e)),
    };
    let len = byte_length(&bytes).map_err(|e| not_bytes(&e))?;
    let mut slice = vec![0u8; len.min(SLICE) as usize];
    let mut at = 0;
    while at < len {
        let end = len.min(at + SLICE);
        let n = (end - at) as usize;
        let buf = slice.get_mut(..n).unwrap_or_default();
        copy_bytes(&bytes, at, buf).map_err(|e| not_bytes(&e))?;
        stream.push(buf)?;
        at = end;
    }
    Ok(())
}

/// A body that JavaScript failed to read as bytes (a detached buffer…).
fn not_bytes(e: &JsValue) -> UsageError {
    let why = message(e);
    UsageError::invalid(vec![Loc::from("body")], Kind::BytesType, format!("{EXPECTED}: {why}"))
}

/// Pushes a string as UTF-8, encoded by JS straight into a slice of wasm
/// memory at a time: no copy of the whole text is made on either side.
fn push_text(stream: &mut CallStream, text: &JsString) -> Result<(), UsageError> {
    let len = text_length(text).map_err(|e| not_bytes(&e))?;
    // UTF-16 unit → at most 3 bytes (a pair of units → 4).
    let mut slice = vec![0u8; (len as usize).saturating_mul(3).min(SLICE as usize)];
    let mut from = 0;
    while from < len {
        let step = encode_slice(text, from, &mut slice).map_err(|e| not_bytes(&e))?;
        // Each slice has room for any character, so every step reads some;
        // if an environment's encoder misbehaves, fail, never loop or drop.
        let encoded = match step.as_slice() {
            [read, written] if *read > 0 && *read <= len - from => slice.get(..*written as usize).map(|bytes| (*read, bytes)),
            _ => None,
        };
        let Some((read, bytes)) = encoded else {
            return Err(UsageError::invalid(vec![Loc::from("body")], Kind::BytesType, format!("{EXPECTED}: its UTF-8 encoding failed")));
        };
        stream.push(bytes)?;
        from += read;
    }
    Ok(())
}

/// A call's error names its index among the picked calls; give it the index
/// it has in the caller's array.
fn original_index(mut e: UsageError, indices: Option<&[u32]>) -> UsageError {
    let Some(indices) = indices else { return e };
    for d in &mut e.detail {
        if let [Loc::Key(k), Loc::Index(i), ..] = d.loc.as_mut_slice() {
            if k == "calls" {
                if let Some(&original) = indices.get(*i) {
                    *i = original as usize;
                }
            }
        }
    }
    e
}

/// The computation's result as plain JavaScript objects (see the module
/// docs), or its error. The text is JSON by construction, no longer than
/// V8's longest string (`to_json` refuses longer ones), so `JSON.parse`
/// fails only when an engine cannot hold it as one string: a 500, not the
/// engine's exception returned as if it were the answer.
fn to_js(result: &Result<CallsUsageRes, UsageError>) -> Result<JsValue, UsageError> {
    let result = result.as_ref().map_err(UsageError::clone)?;
    let text = result.to_json()?;
    let value = JSON::parse(&text).map_err(|e| {
        let why = message(&e);
        let msg = format!("The answer ({} bytes of JSON) could not be built in JavaScript: {why}", text.len());
        UsageError { status: 500, detail: vec![Detail::new(vec![Loc::from("response")], Kind::ResponseTooLarge, msg)] }
    })?;
    if result.has_non_finite_costs() {
        restore_non_finite_costs(&value, result);
    }
    Ok(value)
}

/// The stats answer as plain JavaScript objects (see [`to_js`]).
fn stats_to_js(result: Result<StatsRes, UsageError>) -> Result<JsValue, UsageError> {
    text_to_js(result.and_then(|r| r.to_json()))
}

/// An answer's JSON text as plain JavaScript objects (see [`to_js`]).
fn text_to_js(text: Result<String, UsageError>) -> Result<JsValue, UsageError> {
    let text = text?;
    JSON::parse(&text).map_err(|e| {
        let why = message(&e);
        let msg = format!("The answer ({} bytes of JSON) could not be built in JavaScript: {why}", text.len());
        UsageError { status: 500, detail: vec![Detail::new(vec![Loc::from("response")], Kind::ResponseTooLarge, msg)] }
    })
}

/// `to_json` writes NaN and ±Infinity costs as strings; put the numbers back.
fn restore_non_finite_costs(value: &JsValue, result: &CallsUsageRes) {
    let Ok(by_call) = Reflect::get(value, &JsValue::from_str("call_usage")) else { return };
    for (id, models) in &result.call_usage {
        let Ok(by_model) = Reflect::get(&by_call, &JsValue::from_str(id)) else { continue };
        for m in models.iter().filter(|m| m.costs.iter().any(|c| !c.is_finite())) {
            let Ok(usage) = Reflect::get(&by_model, &JsValue::from_str(&m.model)) else { continue };
            for (field, cost) in COST_FIELDS.iter().zip(m.costs) {
                // `usage` has own properties only, so this sets, never shadows.
                let _ = Reflect::set(&usage, &JsValue::from_str(field), &JsValue::from_f64(cost));
            }
        }
    }
}

/// 501 `stats_unavailable` at `loc`: stats asked of the main module, which
/// is built without them (see [`STATS`]).
fn stats_unavailable(loc: Vec<Loc>) -> UsageError {
    UsageError { status: 501, detail: vec![Detail::of(loc, Kind::StatsUnavailable)] }
}

/// The one place a core error becomes a JavaScript `Error`: `message` is a
/// readable summary, `status` the HTTP status, `detail` the FastAPI list
/// (made by JSON.parse, in js/boundary.js). Should even that fail, what it
/// threw is what is thrown (the package's entries make it a 500).
fn throw(e: UsageError) -> JsValue {
    let mut detail = String::from("[");
    for (i, d) in e.detail.iter().enumerate() {
        detail.push_str(if i == 0 { "{\"loc\":[" } else { ",{\"loc\":[" });
        for (j, l) in d.loc.iter().enumerate() {
            if j > 0 {
                detail.push(',');
            }
            match l {
                Loc::Key(k) => write_str(&mut detail, k),
                Loc::Index(n) => detail.push_str(&n.to_string()),
            }
        }
        detail.push_str("],\"msg\":");
        write_str(&mut detail, &d.msg);
        detail.push_str(",\"type\":");
        write_str(&mut detail, d.kind.name());
        detail.push('}');
    }
    detail.push(']');
    usage_error(&e.to_string(), e.status, &detail).unwrap_or_else(|thrown| thrown)
}

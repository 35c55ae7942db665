//! Weave's `POST /calls/usage`, computed in WebAssembly from calls that
//! JavaScript already holds: token usage (and optionally cost) per model for
//! each requested root call, summed over the call and all its descendants,
//! plus the ids of unfinished calls — the same answer as the reference server
//! (Weave 0.53.0). Also `/trace/usage` (every call with its rolled-up usage)
//! and options the server does not have: pricing from price rows, a rollup
//! that does not double count, diagnostics.
//!
//! Layers, each importing only from those below it:
//!
//! - `error` (the one error type, every kind with its message), `hash`
//!   (keyed hashing for every table of input strings), `limits` (memory
//!   bounds: what is too large, and its status), `wasm_alloc` (how the wasm
//!   module's memory grows);
//! - `json`: the JSON scanner (cursor, skipping, byte helpers, small shaped
//!   values, string writing); knows nothing of calls;
//! - `input`: the request, options and price rows, validated like FastAPI
//!   + pydantic; Python numbers; RFC 3339 time;
//! - `calls`: a body framed into calls ([`CallStream`]), each read into a
//!   compact table (interned strings, a record per call, usage entries);
//!   the wire schema JavaScript shares (`calls::wire`);
//! - `response`: the answer's data ([`CallsUsageRes`], [`Diagnostics`],
//!   [`StatsRes`], [`CallsQueryRes`]), its JSON text and bounds on its length;
//! - `usage`: scope, pricing, rollup, diagnostics, `/calls/usage` and
//!   `/trace/usage` over the table, stats, the calls' listing; knows
//!   nothing of JSON text or JS;
//! - `api`: the operations over JS-free inputs, as tests and the boundary
//!   call them;
//! - `wasm` (built for wasm32 only): the one module that touches
//!   JavaScript.
//!
//! The public API is the re-exports below. [`internals`] exposes the
//! layers to this crate's own tests, benchmarks and fuzz targets; it is not
//! part of the API and may change at any time.

// The lint policy (CI runs clippy with `-D warnings`, native and wasm32).
// `unsafe` only in the modules that need it, each block with `SAFETY:`.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
// Nothing input-controlled may panic in wasm (a panic kills the module for
// the page): no unwrap, expect, explicit panic or indexing in the crate.
// Tests may, to say what they expect.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod api;
mod calls;
mod error;
mod hash;
mod input;
mod json;
mod limits;
mod response;
mod usage;

/// The JavaScript exports (public so `tests/wasm.rs` can call them).
#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(target_arch = "wasm32")]
mod wasm_alloc;

/// The module's memory grows in steps, not a page at a time (see `wasm_alloc`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: wasm_alloc::GrowInSteps = wasm_alloc::GrowInSteps;

pub use api::{
    argument_from_json, calls_usage_from_json, compute, compute_projects, compute_query, compute_stats, compute_trace, prepare,
    prepare_query, prepare_stats, prepare_trace, query_request_from_json, read_all_of, read_for, select_from_json, stats_request_from_json,
    table_from_parts, trace_request_from_json, trace_usage_from_json, usage_stats_from_json, Prepared, PreparedStats, PreparedTrace,
};
pub use calls::{CallStream, Select};
pub use error::{Detail, Kind, Loc, UsageError};
pub use input::{CallsQueryRequest, Granularity, GroupKey, LimitRule, Rollup, StatsRequest, TraceUsageRequest, UsageOptions, UsageRequest};
pub use json::{Num, Value};
pub use response::{CallValue, CallsQueryRes, CallsUsageRes, Diagnostics, ListedCall, ModelTotals, ProjectsRes, StatsRes};
pub use usage::{fixed_offset, fixed_offset_buckets, op_name, too_many_buckets, Buckets, TraceUsageRes, MAX_BUCKETS, MAX_ROWS};

/// The layers, for this crate's own tests, benchmarks and fuzz targets
/// only: not part of the API.
#[doc(hidden)]
pub mod internals {
    pub use crate::calls::{wire, CallTable, NONE, NO_INSTANT};
    pub use crate::input::pynum::{parse_float_str, parse_int_str};
    pub use crate::input::{Level, PriceRow, ARGUMENT_SHAPE};
    pub use crate::json::{parse_value, Parser};
    pub use crate::limits::ANSWER_LIMIT;
    pub use crate::response::AnswerSize;
}

//! Weave's `POST /calls/usage`, computed in WebAssembly from calls that
//! JavaScript already holds: token usage (and optionally cost) per model for
//! each requested root call, summed over the call and all its descendants,
//! plus the ids of unfinished calls — the same answer as the reference server
//! (Weave 0.53.0). Also `/trace/usage` (every call with its rolled-up usage)
//! and options the server does not have: pricing from price rows, a rollup
//! that does not double count, diagnostics.
//!
//! Layout: [`json`] scans JSON bytes; [`stream`] frames a body (JSON Lines
//! or an array) arriving in chunks; [`table`] reads each call into a compact
//! table, its strings interned under [`hash`]; [`pynum`] reads numbers like
//! Python, [`time`] timestamps; `json::value`, [`request`] and [`options`] read
//! and validate the arguments like FastAPI + pydantic; [`pricing`] prices
//! usage from price rows; [`rollup`] computes `/calls/usage`, [`trace`] `/trace/usage`;
//! [`diagnostics`] reports on the calls; [`response`] writes the answer;
//! [`limits`] bounds memory (what is too large, and the status it gets);
//! [`api`] ties them together. Only `wasm` (built for wasm32) touches
//! JavaScript; `wasm_alloc` sets how the wasm module's memory grows.

// The lint policy (CI runs clippy with `-D warnings`, native and wasm32).
// `unsafe` only in the modules that need it, each block with `SAFETY:`.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
// Nothing input-controlled may panic in wasm (a panic kills the module for
// the page): no unwrap, expect, explicit panic or indexing in the crate.
// Tests may, to say what they expect.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod api;
pub mod diagnostics;
pub mod error;
pub mod hash;
pub mod json;
pub mod keys;
pub mod limits;
pub mod options;
mod per_batch;
pub mod pricing;
pub mod pynum;
pub mod request;
pub mod response;
pub mod rollup;
pub mod stream;
pub mod table;
pub mod time;
pub mod trace;

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
    argument_from_json, calls_usage_from_json, compute, compute_trace, prepare, prepare_trace, trace_request_from_json,
    trace_usage_from_json, Prepared, PreparedTrace,
};
pub use diagnostics::Diagnostics;
pub use error::{Detail, Loc, UsageError};
pub use json::{Num, Value};
pub use options::{Rollup, UsageOptions};
pub use request::{TraceUsageRequest, UsageRequest};
pub use response::{CallsUsageRes, ModelTotals};
pub use stream::CallStream;
pub use trace::TraceUsageRes;

//! Weave's `POST /calls/usage`, computed in WebAssembly from calls that
//! JavaScript already holds: token usage (and optionally cost) per model for
//! each requested root call, summed over the call and all its descendants,
//! plus the ids of unfinished calls — the same answer as the reference server
//! (Weave 0.53.0).
//!
//! Layout: [`json`] scans JSON bytes; [`stream`] frames a body (JSON Lines
//! or an array) arriving in chunks; [`table`] reads each call into a compact
//! table; [`pynum`] reads numbers like Python, [`time`] timestamps;
//! [`value`] and [`request`] read and validate the request like FastAPI +
//! pydantic; [`rollup`] computes; [`response`] writes the answer; [`api`]
//! ties them together. Only `wasm` (built for wasm32) touches JavaScript;
//! `wasm_alloc` sets how the wasm module's memory grows.

pub mod api;
pub mod error;
pub mod json;
pub mod pynum;
pub mod request;
pub mod response;
pub mod rollup;
pub mod stream;
pub mod table;
pub mod time;
pub mod value;

/// The JavaScript exports (public so `tests/wasm.rs` can call them).
#[cfg(target_arch = "wasm32")]
pub mod wasm;

#[cfg(target_arch = "wasm32")]
mod wasm_alloc;

/// The module's memory grows in steps, not a page at a time (see `wasm_alloc`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: wasm_alloc::GrowInSteps = wasm_alloc::GrowInSteps;

pub use api::{argument_from_json, calls_usage_from_json, compute, prepare, Prepared};
pub use stream::CallStream;
pub use error::{Detail, Loc, UsageError};
pub use request::{UsageOptions, UsageRequest};
pub use response::{CallsUsageRes, ModelTotals};
pub use value::{Num, Value};

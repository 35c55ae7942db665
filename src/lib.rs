//! Weave's `POST /calls/usage`, computed in WebAssembly from calls that
//! JavaScript already holds: token usage (and optionally cost) per model for
//! each requested root call, summed over the call and all its descendants,
//! plus the ids of unfinished calls — the same answer as the reference server
//! (Weave 0.53.0).
//!
//! Layout: [`value`] is the JSON model both input paths produce; [`json`]
//! parses bodies from bytes; [`request`] validates the request like
//! FastAPI + pydantic; [`call`] reads calls; [`pynum`] reads numbers like
//! Python; [`time`] reads timestamps; [`rollup`] computes; [`response`]
//! writes the answer; [`api`] ties them together. Only `wasm` (built for
//! wasm32) touches JavaScript.

pub mod api;
pub mod call;
pub mod error;
pub mod json;
pub mod pynum;
pub mod request;
pub mod response;
pub mod rollup;
pub mod time;
pub mod value;

/// The JavaScript exports (public so `tests/wasm.rs` can call them).
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use api::{calls_usage, calls_usage_from_json, read_calls};
pub use call::Call;
pub use error::{Detail, Loc, UsageError};
pub use request::{UsageOptions, UsageRequest};
pub use response::{CallsUsageRes, ModelTotals};
pub use value::{Num, Value};

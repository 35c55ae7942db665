//! The usage stage: everything computed from the call table once the
//! request is known. Which calls count and in which order (`scope`), each
//! call's own usage priced from its stored costs or the price rows
//! (`pricer`), per-model sums (`totals`) rolled up the parent links
//! (`rollup`), what the diagnostics report (`diagnostics`), and the answer
//! assembled within its size bounds (`answer`) for `/calls/usage`
//! ([`calls_usage()`]) and `/trace/usage` ([`trace_usage()`]), and the
//! stats and the calls' listing (`stats`, `calls_query`). It reads the
//! table only through `CallTable`'s methods and knows nothing of JSON text
//! or JavaScript.

mod answer;
mod calls_query;
mod calls_usage;
mod diagnostics;
mod order;
mod per_batch;
mod pricer;
mod rollup;
mod scope;
mod stats;
mod totals;
mod trace_usage;

pub use calls_query::{calls_query, projects};
pub use calls_usage::calls_usage;
pub use stats::{fixed_offset, fixed_offset_buckets, op_name, too_many_buckets, usage_stats, Buckets, MAX_BUCKETS, MAX_ROWS};
pub use trace_usage::{trace_usage, TraceUsageRes};

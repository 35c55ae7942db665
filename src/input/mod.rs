//! The input stage: the request, the options and the price rows, validated
//! like FastAPI + pydantic validate the reference's arguments (lax mode),
//! and the readers of single values they and the calls share: Python's
//! numbers (`pynum`), RFC 3339 timestamps (`time`), pydantic's lax
//! coercions (`lax`). It knows nothing of calls or usage.

mod lax;
mod options;
mod prices;
pub(crate) mod pynum;
mod request;
mod stats;
pub(crate) mod time;

pub use options::{asks_per_batch, LimitRule, Rollup, UsageOptions, OPTIONS_SHAPE};
pub use prices::{Level, PriceRow};
pub use request::{CallsQueryRequest, TraceUsageRequest, UsageRequest, ARGUMENT_SHAPE};
pub use stats::{Granularity, GroupKey, StatsRequest, STATS_REQUEST_SHAPE};

//! Weave's `/trace/usage` (`TraceUsageReq` → `TraceUsageRes`, weave 0.53.0
//! `trace_usage`): every call in scope with its own rolled-up usage (itself
//! plus every descendant it absorbs), for trace-tree views.
//!
//! Scope, as the reference queries it: the live calls of the project (not
//! deleted; of the request's project or of none; the last of several with
//! one id), narrowed by `filter.trace_ids` and `filter.call_ids` when they
//! are non-empty, in the server's order (started_at instant, then id), cut to
//! `limit`. The rollup, costs and options are those of `/calls/usage`.

use super::answer::{finish, scope_memory};
use super::rollup::rollup;
use super::scope::{live_calls, marks, passes, project_sym, select, Settings};
use crate::calls::CallTable;
use crate::error::UsageError;
use crate::input::{TraceUsageRequest, UsageOptions};
use crate::limits::{answer_out_of_memory, collect, room};
use crate::response::{AnswerSize, CallsUsageRes};

/// `TraceUsageRes` has the same shape as `CallsUsageRes`: `call_usage` (here
/// one key per call in scope, in scope order) and `unfinished_call_ids`.
pub type TraceUsageRes = CallsUsageRes;

/// Computes `/trace/usage` for `request` over the calls in `table`; errors
/// as for `/calls/usage` (a 413 when the calls leave too little memory, a
/// 500 when the answer is too long).
pub fn trace_usage(table: &CallTable, request: &TraceUsageRequest, options: &UsageOptions) -> Result<TraceUsageRes, UsageError> {
    let settings = Settings::new(table, &request.project_id, request.include_costs, options);
    let calls_too_large = |e| table.too_large(e);
    let project = project_sym(table, &request.project_id);
    let live = live_calls(table, project).map_err(calls_too_large)?;
    let (traces, ids) =
        (marks(table, &request.trace_ids).map_err(calls_too_large)?, marks(table, &request.call_ids).map_err(calls_too_large)?);
    let scope = select(table, &live, request.limit, |c| passes(&traces, c.trace) && passes(&ids, c.id)).map_err(calls_too_large)?;
    drop((live, traces, ids));
    room(scope_memory(table, &scope.calls, &settings)).map_err(calls_too_large)?;

    // Every call in scope is a key of the answer.
    let mut size = AnswerSize::new(request.include_costs);
    for c in scope.calls.iter().filter_map(|&i| table.calls().get(i as usize)) {
        size.key(table.bytes(c.id).len());
    }
    size.check()?;
    let mut rolled = rollup(table, &scope.calls, &settings, None, size)?;
    let lists = collect(
        scope.calls.len(),
        scope
            .calls
            .iter()
            .zip(rolled.usage.iter_mut())
            .filter_map(|(&i, usage)| Some((table.str(table.calls().get(i as usize)?.id), std::mem::take(usage)))),
    )
    .map_err(answer_out_of_memory)?;
    finish(table, &scope, rolled, &settings, project, lists, size)
}

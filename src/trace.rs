//! Weave's `/trace/usage` (`TraceUsageReq` → `TraceUsageRes`, weave 0.53.0
//! `trace_usage`): every call in scope with its own rolled-up usage (itself
//! plus every descendant it absorbs), for trace-tree views.
//!
//! Scope, as the reference queries it: the live calls of the project (not
//! deleted; of the request's project or of none; the last of several with
//! one id), narrowed by `filter.trace_ids` and `filter.call_ids` when they
//! are non-empty, in the server's order (started_at instant, then id), cut to
//! `limit`. The rollup, costs and options are those of `/calls/usage`.

use crate::diagnostics::Diagnostics;
use crate::options::UsageOptions;
use crate::request::TraceUsageRequest;
use crate::response::CallsUsageRes;
use crate::rollup::{live_calls, model_totals, project_sym, rollup, select, unfinished, Settings};
use crate::table::CallTable;

/// `TraceUsageRes` has the same shape as `CallsUsageRes`: `call_usage` (here
/// one key per call in scope, in scope order) and `unfinished_call_ids`.
pub type TraceUsageRes = CallsUsageRes;

/// Computes `/trace/usage` for `request` over the calls in `table`.
pub fn trace_usage(table: &CallTable, request: &TraceUsageRequest, options: &UsageOptions) -> TraceUsageRes {
    let settings = Settings::new(table, &request.project_id, request.include_costs, options);
    let project = project_sym(table, &request.project_id);
    let live = live_calls(table, project);
    // A filter list marks the symbols it names; ids never seen match nothing.
    let marks = |ids: &[String]| {
        (!ids.is_empty()).then(|| {
            let mut marked = vec![false; table.symbols()];
            for sym in ids.iter().filter_map(|id| table.lookup(id)) {
                if let Some(m) = marked.get_mut(sym as usize) {
                    *m = true;
                }
            }
            marked
        })
    };
    let (traces, ids) = (marks(&request.trace_ids), marks(&request.call_ids));
    let passes = |marked: &Option<Vec<bool>>, sym: u32| marked.as_ref().map_or(true, |m| m.get(sym as usize) == Some(&true));
    let scope = select(table, &live, request.limit, |c| passes(&traces, c.trace) && passes(&ids, c.id));

    let mut rolled = rollup(table, &scope.calls, &settings, None);
    let call_usage = scope
        .calls
        .iter()
        .zip(rolled.usage.iter_mut())
        .filter_map(|(&i, usage)| {
            let c = table.calls.get(i as usize)?;
            Some((table.str(c.id).to_string(), model_totals(table, std::mem::take(usage))))
        })
        .collect();

    TraceUsageRes {
        call_usage,
        unfinished_call_ids: unfinished(table, &scope.calls),
        include_costs: request.include_costs,
        diagnostics: settings.diagnostics.then(|| Diagnostics::collect(table, &scope, &rolled, &settings, project)),
    }
}

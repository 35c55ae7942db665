//! Weave's `/calls/usage` (`CallsUsageReq` → `CallsUsageRes`, weave 0.53.0
//! `calls_usage`): for each requested call, its usage summed with that of
//! every descendant, plus the unfinished calls of the requested traces.
//!
//! Bounds on hostile input: the distinct requested ids are counted into the
//! answer's size first, so that millions of ids are refused before anything
//! is computed for them; only the requested calls' totals are kept once
//! absorbed.

use super::answer::{answer, finish, requested_ids, requested_lists, scope_memory};
use super::rollup::{rollup, Rolled};
use super::scope::{live_calls, project_sym, requested_places, select, Scope, Settings, UNSET};
use super::totals::Usage;
use crate::calls::{CallTable, Sym};
use crate::error::UsageError;
use crate::input::{LimitRule, UsageOptions, UsageRequest};
use crate::limits::{answer_out_of_memory, collect, filled, room};
use crate::response::{AnswerSize, CallsUsageRes, Diagnostics};

/// Computes the response for `request` over the calls in `table`: a 413 when
/// the calls leave too little memory to compute over them, a 500 when the
/// answer is too long for JavaScript or for the memory left.
pub fn calls_usage(table: &CallTable, request: &UsageRequest, options: &UsageOptions) -> Result<CallsUsageRes, UsageError> {
    if options.limit == LimitRule::PerBatch {
        return super::per_batch::calls_usage(table, request, options);
    }
    let settings = Settings::new(table, &request.project_id, request.include_costs, options);
    let calls_too_large = |e| table.too_large(e);
    let (requested, size) = requested_ids(request)?;
    let project = project_sym(table, &request.project_id);
    let nothing = |requested: Vec<&str>, size: AnswerSize| -> Result<CallsUsageRes, UsageError> {
        let empty = Scope { calls: Vec::new(), cut: 0 };
        let diagnostics = match settings.diagnostics {
            true => Some(Diagnostics::collect(table, &empty, &Rolled::default(), &settings, project).map_err(calls_too_large)?),
            false => None,
        };
        let lists: Vec<(&str, Usage)> =
            collect(requested.len(), requested.into_iter().map(|id| (id, Usage::default()))).map_err(answer_out_of_memory)?;
        answer(table, lists, Vec::new(), diagnostics, request.include_costs, size)
    };
    if requested.is_empty() {
        return nothing(requested, size);
    }
    let live = live_calls(table, project).map_err(calls_too_large)?;
    let live_call = |sym: Sym| live.get(sym as usize).filter(|&&i| i != UNSET).and_then(|&i| table.calls().get(i as usize));

    // The traces of the requested calls.
    let mut traced = filled(table.symbols(), false).map_err(calls_too_large)?;
    let mut any = false;
    for id in &requested {
        if let Some(c) = table.lookup(id).and_then(live_call) {
            if let Some(t) = traced.get_mut(c.trace as usize) {
                *t = true;
                any = true;
            }
        }
    }
    if !any {
        return nothing(requested, size);
    }

    let scope = select(table, &live, request.limit, |c| traced.get(c.trace as usize) == Some(&true)).map_err(calls_too_large)?;
    drop((live, traced));
    room(scope_memory(table, &scope.calls, &settings)).map_err(calls_too_large)?;

    // Only the requested calls' totals are kept once absorbed.
    let (places, wanted) = requested_places(table, &requested, &scope.calls).map_err(calls_too_large)?;
    let mut rolled = rollup(table, &scope.calls, &settings, Some(&wanted), size)?;
    drop(wanted);

    let lists = requested_lists(requested, places, &mut rolled)?;
    finish(table, &scope, rolled, &settings, project, lists, size)
}

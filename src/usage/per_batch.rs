//! `options.limit: "per-batch"`: `/calls/usage` with the `limit` rule of
//! Weave 0.53.12 (its `calls_usage` method), where 0.53.0 cut the requested
//! traces' calls to the first `limit` and answered from what was left.
//!
//! - the requested ids' traces (of their live calls), sorted by code point,
//!   are split into batches of at most `limit` live calls: a list that holds
//!   more is halved (at `len / 2`) until each part fits, and a single trace
//!   over `limit` is a 413 (the request validated `limit` ≥ 1 or refused it
//!   with a 400 already: [`crate::api::prepare`]);
//! - each batch is aggregated whole: every live call of its traces, in the
//!   server's order, rolled up as `/calls/usage` rolls up a scope, a call's
//!   parent counting only when it is in the same batch;
//! - each requested id gets its rolled-up usage from its trace's batch (or
//!   `{}`), and `unfinished_call_ids` lists every unfinished call of every
//!   batch. The answer is never partial.
//!
//! The batches that fit partition the requested traces whatever order they
//! are tried in, so they are found without trying them: per-trace counts,
//! prefix sums over the sorted traces, and the halving as a stack of
//! ranges, O(traces log traces). The calls are then gathered once, in the
//! server's order, and rolled up together with each call tagged by its
//! batch ([`rollup_batched`]): linear in the calls, whatever the batches.

use super::answer::{finish, requested_ids, requested_lists, scope_memory};
use super::order::sort_by;
use super::rollup::{rollup_batched, Rolled};
use super::scope::{live_calls, project_sym, requested_places, select, Settings, UNSET};
use crate::calls::{CallTable, Sym};
use crate::error::UsageError;
use crate::input::{UsageOptions, UsageRequest};
use crate::limits::{self, collect, filled, room};
use crate::response::CallsUsageRes;

/// [`super::calls_usage()`] under Weave 0.53.12's `limit` rule.
pub(crate) fn calls_usage(table: &CallTable, request: &UsageRequest, options: &UsageOptions) -> Result<CallsUsageRes, UsageError> {
    let settings = Settings::new(table, &request.project_id, request.include_costs, options);
    let calls_too_large = |e| table.too_large(e);
    let (requested, size) = requested_ids(request)?;
    let project = project_sym(table, &request.project_id);
    let live = live_calls(table, project).map_err(calls_too_large)?;
    let live_call = |sym: Sym| live.get(sym as usize).filter(|&&i| i != UNSET).and_then(|&i| table.calls().get(i as usize));

    // The requested traces, each once.
    let mut batch_of = filled(table.symbols(), UNSET).map_err(calls_too_large)?;
    let mut traces: Vec<Sym> = Vec::new();
    for id in &requested {
        if let Some(c) = table.lookup(id).and_then(live_call) {
            if let Some(slot) = batch_of.get_mut(c.trace as usize) {
                if *slot == UNSET {
                    *slot = 0;
                    limits::reserve(&mut traces, 1).map_err(calls_too_large)?;
                    traces.push(c.trace);
                }
            }
        }
    }
    // Every live call of them, in the server's order, none cut.
    let scope = select(table, &live, u64::MAX, |c| batch_of.get(c.trace as usize).is_some_and(|&b| b != UNSET)).map_err(calls_too_large)?;
    drop(live);

    // Batches: halve the sorted traces until each part has at most `limit`
    // live calls, as the server tries them (the last part pushed first).
    // Traces are distinct: the order is unique.
    sort_by(&mut traces, &|a, b| table.bytes(a).cmp(table.bytes(b)));
    let mut rank = filled(table.symbols(), UNSET).map_err(calls_too_large)?;
    for (r, t) in traces.iter().enumerate() {
        if let Some(slot) = rank.get_mut(*t as usize) {
            *slot = r as u32;
        }
    }
    // before[r]: live calls of the traces ranked below r.
    let mut before: Vec<u64> = filled(traces.len() + 1, 0).map_err(calls_too_large)?;
    for c in scope.calls.iter().filter_map(|&i| table.calls().get(i as usize)) {
        if let Some(n) = rank.get(c.trace as usize).and_then(|&r| before.get_mut(r as usize + 1)) {
            *n += 1;
        }
    }
    for r in 1..before.len() {
        let prev = before.get(r - 1).copied().unwrap_or(0);
        if let Some(n) = before.get_mut(r) {
            *n += prev;
        }
    }
    drop(rank);
    let count = |lo: usize, hi: usize| before.get(hi).copied().unwrap_or(0) - before.get(lo).copied().unwrap_or(0);
    let mut pending: Vec<(usize, usize)> = Vec::new();
    if !traces.is_empty() {
        pending.push((0, traces.len()));
    }
    let mut batches = 0u32;
    while let Some((lo, hi)) = pending.pop() {
        if count(lo, hi) <= request.limit {
            for t in traces.get(lo..hi).into_iter().flatten() {
                if let Some(slot) = batch_of.get_mut(*t as usize) {
                    *slot = batches;
                }
            }
            batches += 1;
        } else if hi - lo == 1 {
            return Err(UsageError::single_trace_over_limit(request.limit));
        } else {
            let mid = lo + (hi - lo) / 2;
            // At most one more range per halving: the stack stays under
            // twice the traces' bit length.
            limits::reserve(&mut pending, 2).map_err(calls_too_large)?;
            pending.push((lo, mid));
            pending.push((mid, hi));
        }
    }
    drop((before, traces));
    let batch: Vec<u32> = collect(
        scope.calls.len(),
        scope.calls.iter().map(|&i| table.calls().get(i as usize).and_then(|c| batch_of.get(c.trace as usize)).copied().unwrap_or(UNSET)),
    )
    .map_err(calls_too_large)?;
    drop(batch_of);
    room(scope_memory(table, &scope.calls, &settings)).map_err(calls_too_large)?;

    let (places, wanted) = requested_places(table, &requested, &scope.calls).map_err(calls_too_large)?;
    let mut rolled: Rolled = rollup_batched(table, &scope.calls, &settings, Some(&wanted), size, Some(&batch))?;
    drop((wanted, batch));
    let lists = requested_lists(requested, places, &mut rolled)?;
    finish(table, &scope, rolled, &settings, project, lists, size)
}

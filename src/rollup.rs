//! The `/calls/usage` computation over the call table: which calls count,
//! which are in scope, and the bottom-up rollup of usage from each call into
//! its ancestors.
//!
//! The rollup is Kahn's algorithm, never recursion: a call is merged into its
//! parent once all of its own children have been merged into it. Calls on a
//! parent cycle never reach zero pending children, so they are never merged
//! upward and nothing loops. The merge order follows the reference exactly
//! (a FIFO queue seeded in scope order), so even float cost sums come out
//! bit-for-bit the same.
//!
//! Lookups by id go through dense arrays indexed by symbol, not hash maps.

use std::collections::{HashSet, VecDeque};

use crate::request::UsageRequest;
use crate::response::{CallsUsageRes, ModelTotals};
use crate::table::{CallRec, CallTable, Costs, Sym, Tokens, COMPLETION, NONE, PROMPT, TOTAL};

/// One model's running totals during the rollup.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Totals {
    tokens: Tokens,
    costs: Costs,
}

/// Per-model totals of one call, in first-seen order (a call has a handful
/// of models, so a vector beats a map).
type Usage = Vec<(Sym, Totals)>;

const UNSET: u32 = u32::MAX;

/// Computes the response for `request` over the calls in `table`.
pub fn calls_usage(table: &CallTable, request: &UsageRequest) -> CallsUsageRes {
    if request.call_ids.is_empty() {
        return CallsUsageRes { include_costs: request.include_costs, ..CallsUsageRes::default() };
    }
    let mut seen = HashSet::new();
    let requested: Vec<&str> = request.call_ids.iter().map(String::as_str).filter(|id| seen.insert(*id)).collect();
    let calls = &table.calls;
    let symbols = table.symbols();

    // Live calls: not deleted, of the project (or none); the last of several
    // with one id replaces the others.
    let project = table.lookup(&request.project_id);
    let mut live = vec![UNSET; symbols];
    for (i, c) in calls.iter().enumerate() {
        if c.deleted || (c.project != NONE && Some(c.project) != project) {
            continue;
        }
        if let Some(slot) = live.get_mut(c.id as usize) {
            *slot = i as u32;
        }
    }
    let live_call = |sym: Sym| live.get(sym as usize).filter(|&&i| i != UNSET).and_then(|&i| calls.get(i as usize));

    // The traces of the requested calls.
    let mut traced = vec![false; symbols];
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
        return CallsUsageRes {
            call_usage: requested.into_iter().map(|id| (id.to_string(), Vec::new())).collect(),
            unfinished_call_ids: Vec::new(),
            include_costs: request.include_costs,
        };
    }

    // Scope: their live calls in the server's order (started_at instant, then
    // id; unreadable timestamps last), cut to `limit`.
    let mut scope: Vec<&CallRec> = calls
        .iter()
        .enumerate()
        .filter(|(i, c)| live.get(c.id as usize) == Some(&(*i as u32)) && traced.get(c.trace as usize) == Some(&true))
        .map(|(_, c)| c)
        .collect();
    scope.sort_unstable_by(|a, b| a.started.cmp(&b.started).then_with(|| table.bytes(a.id).cmp(table.bytes(b.id))));
    scope.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));

    let mut usage = rollup(table, &scope, request.include_costs);

    let mut position = vec![UNSET; symbols];
    for (k, c) in scope.iter().enumerate() {
        if let Some(slot) = position.get_mut(c.id as usize) {
            *slot = k as u32;
        }
    }
    let call_usage = requested
        .into_iter()
        .map(|id| {
            let models = table
                .lookup(id)
                .and_then(|sym| position.get(sym as usize))
                .filter(|&&k| k != UNSET)
                .and_then(|&k| usage.get_mut(k as usize))
                .map(std::mem::take)
                .unwrap_or_default();
            let models = models
                .into_iter()
                .map(|(model, t)| ModelTotals { model: table.str(model).to_string(), tokens: t.tokens, costs: t.costs })
                .collect();
            (id.to_string(), models)
        })
        .collect();

    let mut unfinished: Vec<String> = scope.iter().filter(|c| !c.ended).map(|c| table.str(c.id).to_string()).collect();
    // Byte order of UTF-8 is code point order; ids in scope are distinct.
    unfinished.sort_unstable();

    CallsUsageRes { call_usage, unfinished_call_ids: unfinished, include_costs: request.include_costs }
}

/// Each scoped call's usage plus that of every descendant it absorbs,
/// indexed like `scope`.
fn rollup(table: &CallTable, scope: &[&CallRec], include_costs: bool) -> Vec<Usage> {
    let mut position = vec![UNSET; table.symbols()];
    for (k, c) in scope.iter().enumerate() {
        if let Some(slot) = position.get_mut(c.id as usize) {
            *slot = k as u32;
        }
    }
    let mut pending = vec![0u32; scope.len()];
    let parent: Vec<u32> = scope
        .iter()
        .map(|c| {
            // An empty `parent_id` is no parent (the reference tests truthiness).
            if c.parent == NONE || table.bytes(c.parent).is_empty() {
                return UNSET;
            }
            let p = position.get(c.parent as usize).copied().unwrap_or(UNSET);
            if let Some(n) = pending.get_mut(p as usize) {
                *n += 1;
            }
            p
        })
        .collect();
    let mut usage: Vec<Usage> = scope.iter().map(|c| own_usage(table, c, include_costs)).collect();

    let mut queue: VecDeque<u32> = (0..scope.len() as u32).filter(|&k| pending.get(k as usize) == Some(&0)).collect();
    while let Some(child) = queue.pop_front() {
        let p = parent.get(child as usize).copied().unwrap_or(UNSET);
        if p == UNSET {
            continue;
        }
        let from = usage.get_mut(child as usize).map(std::mem::take).unwrap_or_default();
        if let Some(into) = usage.get_mut(p as usize) {
            merge(into, &from, include_costs);
        }
        // The child's own total is still reported if it was requested.
        if let Some(slot) = usage.get_mut(child as usize) {
            *slot = from;
        }
        if let Some(n) = pending.get_mut(p as usize) {
            *n -= 1;
            if *n == 0 {
                queue.push_back(p);
            }
        }
    }
    usage
}

/// A call's own usage: `total_tokens` falls back to prompt + completion, and
/// a model counts only if some counter (or, with costs, some cost) is
/// non-zero. NaN counts as non-zero, as it is truthy in Python.
fn own_usage(table: &CallTable, call: &CallRec, include_costs: bool) -> Usage {
    let mut out = Usage::new();
    for m in table.usage_of(call) {
        let mut tokens = m.tokens;
        if tokens[TOTAL] == 0 {
            tokens[TOTAL] = tokens[PROMPT].saturating_add(tokens[COMPLETION]);
        }
        let costs = if include_costs { m.costs } else { [0.0; 4] };
        if tokens.iter().any(|&t| t != 0) || costs.iter().any(|&c| c != 0.0) {
            out.push((m.model, Totals { tokens, costs }));
        }
    }
    out
}

/// Adds `from` into `into`, model by model; models new to `into` are
/// appended in `from`'s order.
fn merge(into: &mut Usage, from: &Usage, include_costs: bool) {
    for (model, t) in from {
        match into.iter_mut().find(|(m, _)| m == model) {
            Some((_, acc)) => {
                for (a, b) in acc.tokens.iter_mut().zip(t.tokens) {
                    *a = a.saturating_add(b);
                }
                if include_costs {
                    for (a, b) in acc.costs.iter_mut().zip(t.costs) {
                        *a += b;
                    }
                }
            }
            None => into.push((*model, *t)),
        }
    }
}

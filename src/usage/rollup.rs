//! The bottom-up rollup of usage from each call in scope into its
//! ancestors, shared by `/calls/usage` and `/trace/usage`.
//!
//! The rollup is Kahn's algorithm, never recursion: a call is merged into its
//! parent once all of its own children have been merged into it. Calls on a
//! parent cycle never reach zero pending children, so they are never merged
//! upward and nothing loops. The merge order follows the reference exactly
//! (a FIFO queue seeded in scope order), so even float cost sums come out
//! bit-for-bit the same.
//!
//! `options.rollup: "dedupe"` changes one thing: when a call is final (all
//! its children absorbed), if its own usage covers what its children brought
//! (every model they have, each of the six token counters at least as large),
//! the call counts as its own usage alone, because Weave's client already
//! summed its children into it. Otherwise it keeps the reference's sum, in
//! the reference's order, so a trace where no call covers its children gives
//! exactly the reference's answer. Calls on a cycle, never final, are judged
//! on what they absorbed.
//!
//! Bounds on hostile input (many distinct model names): `/calls/usage` keeps
//! a call's totals after it is absorbed only if it was requested, so memory
//! stays linear in the input plus the answer (keeping every call's totals
//! made a chain of n calls with a model each hold n²/2 entries); and a model
//! list that grows long gets an index, so a merge costs what it merges.
//! `/trace/usage` reports every call's totals, so it keeps them all (its
//! answer is that large anyway). The totals kept for the answer are counted
//! as they are made (a lower bound of their JSON, [`AnswerSize`]), so an
//! answer too long for JavaScript is refused before its copies fill memory
//! (a chain of 3,000 calls with a model each, every id requested, would
//! keep 4.5 million entries). `"dedupe"` collects what each call's
//! children bring only while every model of it is one of the call's own (a
//! model never leaves a list, so once one is not, the call cannot cover its
//! children): what it holds never outgrows the call's own usage.

use std::collections::VecDeque;

use super::scope::{positions, Settings, UNSET};
use super::totals::{absorb, merge, Totals, Usage};
use crate::calls::{CallRec, CallTable, COMPLETION, HAS_COSTS, NONE, PROMPT, TOTAL};
use crate::error::UsageError;
use crate::input::Rollup;
use crate::limits::{answer_out_of_memory, collect, filled, reserve, room, Exhausted};
use crate::response::AnswerSize;

/// The rollup's result, indexed like the scope.
#[derive(Default)]
pub(crate) struct Rolled {
    /// Each call's usage plus that of every descendant it absorbs (for
    /// `/calls/usage`, only kept for the requested calls and the calls never
    /// absorbed; empty for the others).
    pub usage: Vec<Usage>,
    /// Positions of calls never final (on a parent cycle).
    pub stuck: Vec<u32>,
    /// Positions of calls whose `parent_id` names no call in scope (only
    /// collected for diagnostics).
    pub orphans: Vec<u32>,
    /// `"dedupe"`: positions of calls counted as their own usage although
    /// children brought some.
    pub deduped: Vec<u32>,
}

/// Rolls usage up the scope's parent links (see the module docs). With
/// `wanted` (indexed like `scope`), only the wanted calls, and those never
/// absorbed, keep their totals; without it, every call does. The totals
/// kept for absorbed calls are counted on top of `size` (what the answer
/// holds besides them): a 500 once they alone make it too long, or once the
/// memory left cannot hold more of them. The caller has checked that the
/// rest fits (`answer::scope_memory`); the per-call vectors are reserved fallibly.
pub(crate) fn rollup(
    table: &CallTable,
    scope: &[u32],
    settings: &Settings<'_>,
    wanted: Option<&[bool]>,
    size: AnswerSize,
) -> Result<Rolled, UsageError> {
    let calls_too_large = |e| table.too_large(e);
    let calls: Vec<&CallRec> =
        collect(scope.len(), scope.iter().filter_map(|&i| table.calls().get(i as usize))).map_err(calls_too_large)?;
    let position = positions(table, scope).map_err(calls_too_large)?;
    let mut orphans = Vec::new();
    let mut pending = filled(calls.len(), 0u32).map_err(calls_too_large)?;
    let mut parent = filled(calls.len(), UNSET).map_err(calls_too_large)?;
    for (slot, (k, c)) in parent.iter_mut().zip(calls.iter().enumerate()) {
        // An empty `parent_id` is no parent (the reference tests truthiness).
        if c.parent == NONE || table.bytes(c.parent).is_empty() {
            continue;
        }
        // `position` has a slot per symbol, and `parent` is one.
        debug_assert!((c.parent as usize) < position.len());
        let p = position.get(c.parent as usize).copied().unwrap_or(UNSET);
        match pending.get_mut(p as usize) {
            Some(n) => *n += 1,
            None if settings.diagnostics => {
                reserve(&mut orphans, 1).map_err(calls_too_large)?;
                orphans.push(k as u32);
            }
            None => {}
        }
        *slot = p;
    }
    drop(position);
    let mut usage: Vec<Usage> = collect(calls.len(), calls.iter().map(|c| own_usage(table, c, settings))).map_err(calls_too_large)?;
    // "dedupe" compares each call's own usage with what its children bring.
    let dedupe = settings.rollup == Rollup::Dedupe;
    let own: Vec<Usage> = if dedupe { collect(usage.len(), usage.iter().cloned()).map_err(calls_too_large)? } else { Vec::new() };
    let mut brought: Vec<Brought> = if dedupe {
        collect(calls.len(), (0..calls.len()).map(|_| Brought::Sum(Usage::default()))).map_err(calls_too_large)?
    } else {
        Vec::new()
    };
    let mut deduped = Vec::new();
    // The kept totals' share of the answer, and how much of it memory was
    // last seen to have room for.
    let (mut kept, mut room_checked) = (size, size.bytes());

    // Each call is queued once at most, so the queue never grows.
    let mut queue: VecDeque<u32> = VecDeque::new();
    queue.try_reserve_exact(calls.len()).map_err(|_| calls_too_large(Exhausted { bytes: calls.len().saturating_mul(4) }))?;
    queue.extend((0..calls.len() as u32).filter(|&k| pending.get(k as usize) == Some(&0)));
    while let Some(child) = queue.pop_front() {
        if dedupe {
            // `child` is final: judged on what its children brought, which is
            // no longer needed afterwards.
            decide(child, &own, &brought, &mut usage, &mut deduped);
            if let Some(b) = brought.get_mut(child as usize) {
                *b = Brought::Uncovered;
            }
        }
        // The queue holds positions in the scope, and these arrays are
        // indexed by them.
        debug_assert!((child as usize) < parent.len() && (child as usize) < usage.len());
        let p = parent.get(child as usize).copied().unwrap_or(UNSET);
        if p == UNSET {
            continue;
        }
        let from = usage.get_mut(child as usize).map(std::mem::take).unwrap_or_default();
        if let (Some(b), Some(own)) = (brought.get_mut(p as usize), own.get(p as usize)) {
            bring(b, own, &from, settings.include_costs);
        }
        let keep = wanted.is_none_or(|w| w.get(child as usize) == Some(&true));
        if let Some(into) = usage.get_mut(p as usize) {
            if keep {
                // The child's own total is still reported: add a copy. Its
                // entries are in the answer, and the copies take no more
                // memory than their JSON: checked a step at a time.
                count(&mut kept, table, &from);
                kept.check()?;
                if kept.bytes() - room_checked >= KEPT_STEP {
                    room(KEPT_STEP).map_err(answer_out_of_memory)?;
                    room_checked = kept.bytes();
                }
                merge(into, &from, settings.include_costs);
                if let Some(slot) = usage.get_mut(child as usize) {
                    *slot = from;
                }
            } else {
                absorb(into, from, settings.include_costs);
            }
        }
        if let Some(n) = pending.get_mut(p as usize) {
            *n -= 1;
            if *n == 0 {
                debug_assert!(queue.len() < queue.capacity());
                queue.push_back(p);
            }
        }
    }
    let mut stuck: Vec<u32> = Vec::new();
    for k in (0..calls.len() as u32).filter(|&k| pending.get(k as usize).is_some_and(|&n| n > 0)) {
        reserve(&mut stuck, 1).map_err(calls_too_large)?;
        stuck.push(k);
    }
    if dedupe {
        for &k in &stuck {
            decide(k, &own, &brought, &mut usage, &mut deduped);
        }
    }
    deduped.sort_unstable();
    Ok(Rolled { usage, stuck, orphans, deduped })
}

/// How much of the answer the rollup's kept totals may grow by between two
/// checks that memory has room for that much more.
const KEPT_STEP: usize = 64 << 20;

/// `"dedupe"`, once call `k` is final: if its own usage covers what its
/// children brought, it counts as its own usage alone.
fn decide(k: u32, own: &[Usage], brought: &[Brought], usage: &mut [Usage], deduped: &mut Vec<u32>) {
    let (Some(own), Some(Brought::Sum(brought))) = (own.get(k as usize), brought.get(k as usize)) else { return };
    if !brought.is_empty() && covers(own, brought) {
        if let Some(slot) = usage.get_mut(k as usize) {
            *slot = own.clone();
        }
        deduped.push(k);
    }
}

/// `"dedupe"`: what a call's children brought, as long as the call may
/// still cover it.
#[derive(Debug, Clone)]
pub(super) enum Brought {
    /// The sum of what its children brought so far (in the rollup's order),
    /// every model of which is one of the call's own.
    Sum(Usage),
    /// A child brought a model the call does not have: it cannot cover them
    /// (models are never removed), so the sum is not kept.
    Uncovered,
}

/// Adds a child's rolled-up usage `from` to what its parent's children
/// brought, `own` being the parent's own usage. Costs at most `own`'s
/// length: a longer `from` has a model `own` lacks.
fn bring(brought: &mut Brought, own: &Usage, from: &Usage, include_costs: bool) {
    let Brought::Sum(sum) = brought else { return };
    if from.len() > own.len() || from.iter().any(|(m, _)| own.get(*m).is_none()) {
        *brought = Brought::Uncovered;
    } else {
        merge(sum, from, include_costs);
    }
}

/// Whether `own` covers `brought`: every model of `brought` is in `own`
/// with each token counter at least as large.
fn covers(own: &Usage, brought: &Usage) -> bool {
    brought.iter().all(|(model, b)| own.get(*model).is_some_and(|o| o.tokens.iter().zip(b.tokens).all(|(o, b)| *o >= b)))
}

/// A call's own usage: `total_tokens` falls back to prompt + completion, and
/// a model counts only if some counter (or, with costs, some cost) is
/// non-zero. NaN counts as non-zero, as it is truthy in Python. Costs come
/// from `summary.weave.costs`, or from the price rows for a model without
/// them (every model with `reprice`).
fn own_usage(table: &CallTable, call: &CallRec, settings: &Settings<'_>) -> Usage {
    let own = table.usage_of(call);
    // Exactly as long as it can get: most calls have one model, and the
    // default first allocation would hold four.
    let mut out = Usage::with_capacity(own.len());
    for m in own {
        let mut tokens = m.tokens;
        if tokens[TOTAL] == 0 {
            tokens[TOTAL] = tokens[PROMPT].saturating_add(tokens[COMPLETION]);
        }
        let costs = match &settings.pricer {
            _ if !settings.include_costs => [0.0; 4],
            // No price row for the model (input): it costs nothing.
            Some(pricer) if settings.reprice || m.flags & HAS_COSTS == 0 => pricer.costs(m, call.started).unwrap_or([0.0; 4]),
            _ => m.costs,
        };
        if tokens.iter().any(|&t| t != 0) || costs.iter().any(|&c| c != 0.0) {
            out.push_back(m.model, Totals { tokens, costs });
        }
    }
    out
}

/// Counts a list of model totals into the answer's size.
pub(super) fn count(size: &mut AnswerSize, table: &CallTable, usage: &Usage) {
    for (model, _) in usage.iter() {
        size.entry(table.bytes(*model).len());
    }
}

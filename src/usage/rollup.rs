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
//! `options.rollup: "dedupe"` ([`rollup_dedupe`]): a call whose own usage
//! covers its children's own usage (every model, each of the six token
//! counters at least as large) counts as its own usage plus what its
//! children's subtrees hold beyond their own usage, because Weave's client
//! already summed its finished children into it. Otherwise it keeps the
//! reference's sum; when no call is deduped the reference's rollup runs, so
//! such answers are the reference's bit for bit. Calls on a cycle, never
//! final, are judged on what they absorbed. `options.limit: "per-batch"`
//! rolls up a scope split into batches ([`rollup_batched`]).
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

use super::order::sort_by;
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
///
/// `"dedupe"` is [`rollup_dedupe`]; when it dedupes no call, its answer is
/// the reference's sum, which is then computed as the reference computes it
/// (same order of additions, so float costs come out bit for bit the same).
pub(crate) fn rollup(
    table: &CallTable,
    scope: &[u32],
    settings: &Settings<'_>,
    wanted: Option<&[bool]>,
    size: AnswerSize,
) -> Result<Rolled, UsageError> {
    rollup_batched(table, scope, settings, wanted, size, None)
}

/// [`rollup`] over a scope split into batches (`batch`, indexed like
/// `scope`, gives each call's batch): a call's parent counts only if it is
/// in the same batch, so each batch rolls up as if alone (the queue's order
/// restricted to one batch is the order it would have alone, so even float
/// sums are the same).
pub(crate) fn rollup_batched(
    table: &CallTable,
    scope: &[u32],
    settings: &Settings<'_>,
    wanted: Option<&[bool]>,
    size: AnswerSize,
    batch: Option<&[u32]>,
) -> Result<Rolled, UsageError> {
    if settings.rollup == Rollup::Dedupe {
        let rolled = rollup_dedupe(table, scope, settings, wanted, size, batch)?;
        if !rolled.deduped.is_empty() {
            return Ok(rolled);
        }
    }
    rollup_reference(table, scope, settings, wanted, size, batch)
}

/// The scope's parent links: each call's parent (its position in the scope,
/// or `UNSET`), how many children each has, and (for diagnostics) the calls
/// whose parent is not in scope.
struct Links<'t> {
    calls: Vec<&'t CallRec>,
    parent: Vec<u32>,
    pending: Vec<u32>,
    orphans: Vec<u32>,
}

fn links<'t>(table: &'t CallTable, scope: &[u32], settings: &Settings<'_>, batch: Option<&[u32]>) -> Result<Links<'t>, UsageError> {
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
        let mut p = position.get(c.parent as usize).copied().unwrap_or(UNSET);
        if let Some(batch) = batch {
            if batch.get(p as usize) != batch.get(k) {
                p = UNSET;
            }
        }
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
    Ok(Links { calls, parent, pending, orphans })
}

/// A queue of the calls with no pending children, in scope order: each call
/// is queued once at most, so it never grows past what is reserved here.
fn ready_queue(table: &CallTable, pending: &[u32]) -> Result<VecDeque<u32>, UsageError> {
    let mut queue: VecDeque<u32> = VecDeque::new();
    queue.try_reserve_exact(pending.len()).map_err(|_| table.too_large(Exhausted { bytes: pending.len().saturating_mul(4) }))?;
    queue.extend((0..pending.len() as u32).filter(|&k| pending.get(k as usize) == Some(&0)));
    Ok(queue)
}

/// The positions of the calls never final (on a parent cycle).
fn stuck_calls(table: &CallTable, pending: &[u32]) -> Result<Vec<u32>, UsageError> {
    let mut stuck: Vec<u32> = Vec::new();
    for k in (0..pending.len() as u32).filter(|&k| pending.get(k as usize).is_some_and(|&n| n > 0)) {
        reserve(&mut stuck, 1).map_err(|e| table.too_large(e))?;
        stuck.push(k);
    }
    Ok(stuck)
}

/// The reference's sum: each call's own usage plus its children's totals,
/// merged in the reference's order.
fn rollup_reference(
    table: &CallTable,
    scope: &[u32],
    settings: &Settings<'_>,
    wanted: Option<&[bool]>,
    size: AnswerSize,
    batch: Option<&[u32]>,
) -> Result<Rolled, UsageError> {
    let calls_too_large = |e| table.too_large(e);
    let Links { calls, parent, mut pending, orphans } = links(table, scope, settings, batch)?;
    // `calls` lives to the end, as it did before batches existed: the
    // module's allocations keep their order, so repeated errors (500s)
    // reach the same peak of memory (tests/js/memory.test.mjs).
    let mut usage: Vec<Usage> = collect(calls.len(), calls.iter().map(|c| own_usage(table, c, settings))).map_err(calls_too_large)?;
    // The kept totals' share of the answer, and how much of it memory was
    // last seen to have room for.
    let mut kept = Kept::new(size);
    let mut queue = ready_queue(table, &pending)?;
    while let Some(child) = queue.pop_front() {
        let p = parent.get(child as usize).copied().unwrap_or(UNSET);
        if p == UNSET {
            continue;
        }
        let from = usage.get_mut(child as usize).map(std::mem::take).unwrap_or_default();
        let keep = wanted.is_none_or(|w| w.get(child as usize) == Some(&true));
        if let Some(into) = usage.get_mut(p as usize) {
            if keep {
                // The child's own total is still reported: add a copy. Its
                // entries are in the answer, and the copies take no more
                // memory than their JSON: checked a step at a time.
                kept.count(table, &from)?;
                merge(into, &from, settings.include_costs);
                if let Some(slot) = usage.get_mut(child as usize) {
                    *slot = from;
                }
            } else {
                absorb(into, from, settings.include_costs);
            }
        }
        child_done(p, &mut pending, &mut queue);
    }
    let stuck = stuck_calls(table, &pending)?;
    drop(calls);
    Ok(Rolled { usage, stuck, orphans, deduped: Vec::new() })
}

/// One more child of `p` merged: `p` is final, and queued, once all are.
fn child_done(p: u32, pending: &mut [u32], queue: &mut VecDeque<u32>) {
    if let Some(n) = pending.get_mut(p as usize) {
        *n -= 1;
        if *n == 0 {
            // The queue was made with room for every call in scope.
            debug_assert!(queue.len() < queue.capacity());
            queue.push_back(p);
        }
    }
}

/// The totals kept for absorbed calls (copies reported in the answer),
/// counted as they are made: a 500 once they make the answer too long, or
/// once memory has no room for another [`KEPT_STEP`] of them.
struct Kept {
    size: AnswerSize,
    room_checked: usize,
}

impl Kept {
    fn new(size: AnswerSize) -> Kept {
        Kept { size, room_checked: size.bytes() }
    }

    fn count(&mut self, table: &CallTable, usage: &Usage) -> Result<(), UsageError> {
        count(&mut self.size, table, usage);
        self.size.check()?;
        if self.size.bytes() - self.room_checked >= KEPT_STEP {
            room(KEPT_STEP).map_err(answer_out_of_memory)?;
            self.room_checked = self.size.bytes();
        }
        Ok(())
    }
}

/// How much of the answer the rollup's kept totals may grow by between two
/// checks that memory has room for that much more.
const KEPT_STEP: usize = 64 << 20;

/// `"dedupe"`: Weave's client writes into a call's `summary.usage` the sum
/// of its finished children's `summary.usage` (plus any usage of its own),
/// so a call that covers the sum of its children's own usage already holds
/// it, and only what their subtrees hold beyond their own usage (usage of
/// descendants that ended too late to be summed into their parents) is
/// added. Bottom-up, for each call once final:
///
/// - *extra* is what its total holds beyond its own usage;
/// - if its own usage covers the sum of its children's own usage (every
///   model of that sum is its own, each of the six token counters at least
///   as large) and some child has usage, the call is deduped: its total is
///   its own usage plus the sum of its children's extras;
/// - otherwise its total is its own usage plus its children's totals.
///
/// Each call's list of extras moves up into its parent's (small into large,
/// as [`absorb`]); a sum of children's own usage is kept only while every
/// model of it is the call's own (once not, the call cannot cover it, and
/// the children's own usage goes into the extras instead), so it never
/// outgrows the call's own usage. Totals are made only for the calls that
/// report one (wanted, or never absorbed). Cycles: their calls are never
/// final and are judged on what they absorbed.
pub(super) fn rollup_dedupe(
    table: &CallTable,
    scope: &[u32],
    settings: &Settings<'_>,
    wanted: Option<&[bool]>,
    size: AnswerSize,
    batch: Option<&[u32]>,
) -> Result<Rolled, UsageError> {
    let calls_too_large = |e| table.too_large(e);
    let costs = settings.include_costs;
    let Links { calls, parent, mut pending, orphans } = links(table, scope, settings, batch)?;
    let mut own: Vec<Usage> = collect(calls.len(), calls.iter().map(|c| own_usage(table, c, settings))).map_err(calls_too_large)?;
    drop(calls);
    // Before a call is final: its children's extras (and, once it cannot
    // cover them, their own usage). Afterwards: its total, if reported.
    let mut usage: Vec<Usage> = collect(own.len(), (0..own.len()).map(|_| Usage::default())).map_err(calls_too_large)?;
    let mut sums: Vec<Brought> = collect(own.len(), (0..own.len()).map(|_| Brought::Sum(Usage::default()))).map_err(calls_too_large)?;
    let mut deduped = Vec::new();
    let mut kept = Kept::new(size);
    let mut queue = ready_queue(table, &pending)?;
    while let Some(k) = queue.pop_front() {
        let extra = final_extra(k, &own, &mut usage, &mut sums, &mut deduped, costs);
        let p = parent.get(k as usize).copied().unwrap_or(UNSET);
        let mine = own.get_mut(k as usize).map(std::mem::take).unwrap_or_default();
        if p == UNSET {
            // Never absorbed: its total is reported.
            let mut total = mine;
            absorb(&mut total, extra, costs);
            if let Some(slot) = usage.get_mut(k as usize) {
                *slot = total;
            }
            continue;
        }
        if wanted.is_none_or(|w| w.get(k as usize) == Some(&true)) {
            let mut total = mine.clone();
            merge(&mut total, &extra, costs);
            kept.count(table, &total)?;
            if let Some(slot) = usage.get_mut(k as usize) {
                *slot = total;
            }
        }
        if let (Some(sum), Some(theirs), Some(into)) = (sums.get_mut(p as usize), own.get(p as usize), usage.get_mut(p as usize)) {
            bring(sum, theirs, &mine, costs);
            match sum {
                Brought::Sum(_) => {}
                Brought::Uncovered(Some(held)) => {
                    // Just uncovered: what was summed goes into the extras.
                    absorb(into, std::mem::take(held), costs);
                    *sum = Brought::Uncovered(None);
                    merge(into, &mine, costs);
                }
                Brought::Uncovered(None) => merge(into, &mine, costs),
            }
            absorb(into, extra, costs);
        }
        child_done(p, &mut pending, &mut queue);
    }
    let stuck = stuck_calls(table, &pending)?;
    for &k in &stuck {
        let extra = final_extra(k, &own, &mut usage, &mut sums, &mut deduped, costs);
        let mut total = own.get_mut(k as usize).map(std::mem::take).unwrap_or_default();
        absorb(&mut total, extra, costs);
        if let Some(slot) = usage.get_mut(k as usize) {
            *slot = total;
        }
    }
    sort_by(&mut deduped, &|a, b| a.cmp(&b));
    Ok(Rolled { usage, stuck, orphans, deduped })
}

/// `"dedupe"`, once call `k` is final: what its total holds beyond its own
/// usage (taken out of `usage`, where its children's extras were summed).
/// A call that covers its children's own usage is recorded in `deduped`.
fn final_extra(k: u32, own: &[Usage], usage: &mut [Usage], sums: &mut [Brought], deduped: &mut Vec<u32>, costs: bool) -> Usage {
    let mut extra = usage.get_mut(k as usize).map(std::mem::take).unwrap_or_default();
    let sum = sums.get_mut(k as usize).map(|s| std::mem::replace(s, Brought::Uncovered(None)));
    if let Some(Brought::Sum(sum)) = sum {
        if !sum.is_empty() && own.get(k as usize).is_some_and(|own| covers(own, &sum)) {
            deduped.push(k);
        } else {
            // Not covered: its children's own usage counts too.
            absorb(&mut extra, sum, costs);
        }
    }
    extra
}

/// `"dedupe"`: the sum of a call's children's own usage, as long as the call
/// may still cover it.
#[derive(Debug, Clone)]
pub(super) enum Brought {
    /// The sum so far (in the rollup's order), every model of which is one
    /// of the call's own.
    Sum(Usage),
    /// A child has a model the call does not have: it cannot cover them
    /// (models are never removed). Holds the sum until it is moved into the
    /// call's extras.
    Uncovered(Option<Usage>),
}

/// Adds a child's own usage `from` to the sum of its siblings', `own` being
/// the parent's own usage. Costs at most `own`'s length: a longer `from`
/// has a model `own` lacks.
fn bring(brought: &mut Brought, own: &Usage, from: &Usage, include_costs: bool) {
    let Brought::Sum(sum) = brought else { return };
    if from.len() > own.len() || from.iter().any(|(m, _)| own.get(*m).is_none()) {
        let held = std::mem::take(sum);
        *brought = Brought::Uncovered(Some(held));
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
pub(super) fn own_usage(table: &CallTable, call: &CallRec, settings: &Settings<'_>) -> Usage {
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

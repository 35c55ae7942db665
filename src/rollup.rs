//! The `/calls/usage` computation over the call table: which calls count,
//! which are in scope, and the bottom-up rollup of usage from each call into
//! its ancestors. `trace.rs` (`/trace/usage`) shares the scope and rollup.
//!
//! The rollup is Kahn's algorithm, never recursion: a call is merged into its
//! parent once all of its own children have been merged into it. Calls on a
//! parent cycle never reach zero pending children, so they are never merged
//! upward and nothing loops. The merge order follows the reference exactly
//! (a FIFO queue seeded in scope order), so even float cost sums come out
//! bit-for-bit the same.
//!
//! Lookups by id go through dense arrays indexed by symbol, not hash maps.
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
//! answer is that large anyway). `"dedupe"` collects what each call's
//! children bring only while every model of it is one of the call's own (a
//! model never leaves a list, so once one is not, the call cannot cover its
//! children): what it holds never outgrows the call's own usage.

use std::collections::{HashSet, VecDeque};

use crate::diagnostics::Diagnostics;
use crate::hash::RandomKeys;
use crate::options::{Rollup, UsageOptions};
use crate::pricing::Pricer;
use crate::request::UsageRequest;
use crate::response::{CallsUsageRes, ModelTotals};
use crate::table::{CallRec, CallTable, Costs, Sym, Tokens, COMPLETION, HAS_COSTS, NONE, PROMPT, TOTAL};

/// One model's running totals during the rollup.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Totals {
    pub tokens: Tokens,
    pub costs: Costs,
}

/// Per-model totals of one call, in first-seen order. A call has a handful
/// of models, so a linear search wins; past [`INDEXED`] models (only odd or
/// hostile input has that many) an index by model keeps lookups constant.
/// A deque, so that a long list can absorb a short one at either end (see
/// [`absorb`]); an entry moved out of the middle leaves a tombstone (model
/// `NONE`) until the list is compacted.
#[derive(Debug, Default, Clone)]
pub(crate) struct Usage {
    entries: VecDeque<(Sym, Totals)>,
    /// Only for long lists, so that the common short one stays small.
    index: Option<Box<Index>>,
}

#[derive(Debug, Default, Clone)]
struct Index {
    /// Model → position; positions count from `base` so that pushing at the
    /// front does not shift them.
    at: hashbrown::HashMap<Sym, i64, RandomKeys>,
    /// The position of `entries[0]`.
    base: i64,
    tombstones: usize,
}

/// Model lists longer than this get an index.
const INDEXED: usize = 16;

impl Usage {
    /// Entries in order, tombstones left out.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Sym, Totals)> {
        self.entries.iter().filter(|(m, _)| *m != NONE)
    }

    fn len(&self) -> usize {
        self.entries.len() - self.index.as_ref().map_or(0, |ix| ix.tombstones)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, model: Sym) -> Option<usize> {
        match &self.index {
            Some(ix) => usize::try_from(ix.at.get(&model)? - ix.base).ok(),
            None => self.entries.iter().position(|(m, _)| *m == model),
        }
    }

    fn get(&self, model: Sym) -> Option<&Totals> {
        let i = self.slot(model)?;
        self.entries.get(i).map(|(_, t)| t)
    }

    fn find_mut(&mut self, model: Sym) -> Option<&mut Totals> {
        let i = self.slot(model)?;
        self.entries.get_mut(i).map(|(_, t)| t)
    }

    fn push_back(&mut self, model: Sym, totals: Totals) {
        self.entries.push_back((model, totals));
        let len = self.entries.len() as i64;
        match &mut self.index {
            Some(ix) => {
                ix.at.insert(model, ix.base + len - 1);
            }
            None if self.entries.len() > INDEXED => self.reindex(),
            None => {}
        }
    }

    /// Only for an indexed list (the only kind that absorbs at the front).
    fn push_front(&mut self, model: Sym, totals: Totals) {
        self.entries.push_front((model, totals));
        match &mut self.index {
            Some(ix) => {
                ix.base -= 1;
                ix.at.insert(model, ix.base);
            }
            None => self.reindex(),
        }
    }

    /// Takes `model`'s entry out, leaving a tombstone.
    fn remove(&mut self, model: Sym) -> Option<Totals> {
        let i = self.slot(model)?;
        let (m, totals) = self.entries.get_mut(i)?;
        *m = NONE;
        let totals = *totals;
        match &mut self.index {
            Some(ix) => {
                ix.tombstones += 1;
                ix.at.remove(&model);
            }
            // A tombstone must be counted: index the list.
            None => self.reindex(),
        }
        Some(totals)
    }

    /// Drops the tombstones once they outnumber the entries.
    fn compact(&mut self) {
        let tombstones = self.index.as_ref().map_or(0, |ix| ix.tombstones);
        if tombstones > INDEXED && tombstones > self.len() {
            self.entries.retain(|(m, _)| *m != NONE);
            self.reindex();
        }
    }

    /// Indexes the list afresh (tombstones counted, positions from 0).
    fn reindex(&mut self) {
        let mut ix = Index::default();
        for (i, (m, _)) in self.entries.iter().enumerate() {
            if *m == NONE {
                ix.tombstones += 1;
            } else {
                ix.at.insert(*m, i as i64);
            }
        }
        self.index = Some(Box::new(ix));
    }
}

pub(crate) const UNSET: u32 = u32::MAX;

/// What a computation needs besides the calls and the scope: how to cost a
/// call's usage and how to roll it up.
pub(crate) struct Settings<'a> {
    pub include_costs: bool,
    /// Present when `options.prices` was given.
    pub pricer: Option<Pricer<'a>>,
    pub reprice: bool,
    pub rollup: Rollup,
    pub diagnostics: bool,
}

impl<'a> Settings<'a> {
    pub fn new(table: &CallTable, project: &str, include_costs: bool, options: &'a UsageOptions) -> Settings<'a> {
        Settings {
            include_costs,
            pricer: options.prices.as_deref().map(|rows| Pricer::new(rows, table, project)),
            reprice: options.reprice,
            rollup: options.rollup,
            diagnostics: options.diagnostics,
        }
    }

    /// Whether `summary.weave.costs` is read at all (not when every model is
    /// repriced from the rows).
    pub fn reads_given_costs(&self) -> bool {
        self.include_costs && !(self.reprice && self.pricer.is_some())
    }
}

/// The calls in scope, in the server's order, as indices into the table's calls.
pub(crate) struct Scope {
    pub calls: Vec<u32>,
    /// How many more there were before `limit` cut them.
    pub cut: usize,
}

/// For each symbol, the index of the live call with that id (`UNSET` if
/// none): not deleted, of the project (or none); the last of several with
/// one id replaces the others.
pub(crate) fn live_calls(table: &CallTable, project: Option<Sym>) -> Vec<u32> {
    let mut live = vec![UNSET; table.symbols()];
    for (i, c) in table.calls.iter().enumerate() {
        if is_live(c, project) {
            if let Some(slot) = live.get_mut(c.id as usize) {
                *slot = i as u32;
            }
        }
    }
    live
}

pub(crate) fn is_live(c: &CallRec, project: Option<Sym>) -> bool {
    !c.deleted && (c.project == NONE || Some(c.project) == project)
}

/// The live calls that `keep` accepts, in the server's order (started_at
/// instant, then id; unreadable timestamps last), cut to `limit`.
pub(crate) fn select(table: &CallTable, live: &[u32], limit: u64, keep: impl Fn(&CallRec) -> bool) -> Scope {
    let mut calls: Vec<(u32, &CallRec)> = table
        .calls
        .iter()
        .enumerate()
        .filter(|(i, c)| live.get(c.id as usize) == Some(&(*i as u32)) && keep(c))
        .map(|(i, c)| (i as u32, c))
        .collect();
    calls.sort_unstable_by(|(_, a), (_, b)| a.started.cmp(&b.started).then_with(|| table.bytes(a.id).cmp(table.bytes(b.id))));
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let cut = calls.len().saturating_sub(limit);
    calls.truncate(limit);
    Scope { calls: calls.into_iter().map(|(i, _)| i).collect(), cut }
}

/// Computes the response for `request` over the calls in `table`.
pub fn calls_usage(table: &CallTable, request: &UsageRequest, options: &UsageOptions) -> CallsUsageRes {
    let settings = Settings::new(table, &request.project_id, request.include_costs, options);
    let mut seen = HashSet::with_hasher(RandomKeys::default());
    let requested: Vec<&str> = request.call_ids.iter().map(String::as_str).filter(|id| seen.insert(*id)).collect();
    let empty = Scope { calls: Vec::new(), cut: 0 };
    let nothing = |requested: Vec<&str>| CallsUsageRes {
        call_usage: requested.into_iter().map(|id| (id.to_string(), Vec::new())).collect(),
        unfinished_call_ids: Vec::new(),
        include_costs: request.include_costs,
        diagnostics: settings.diagnostics.then(|| Diagnostics::collect(table, &empty, &Rolled::default(), &settings, project_sym(table, &request.project_id))),
    };
    if requested.is_empty() {
        return nothing(requested);
    }
    let project = project_sym(table, &request.project_id);
    let live = live_calls(table, project);
    let live_call = |sym: Sym| live.get(sym as usize).filter(|&&i| i != UNSET).and_then(|&i| table.calls.get(i as usize));

    // The traces of the requested calls.
    let mut traced = vec![false; table.symbols()];
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
        return nothing(requested);
    }

    let scope = select(table, &live, request.limit, |c| traced.get(c.trace as usize) == Some(&true));

    // Where each requested id is in the scope, if it is: only those calls'
    // totals are kept once absorbed.
    let position = positions(table, &scope.calls);
    let places: Vec<Option<usize>> = requested
        .iter()
        .map(|id| table.lookup(id).and_then(|sym| position.get(sym as usize)).filter(|&&k| k != UNSET).map(|&k| k as usize))
        .collect();
    let mut wanted = vec![false; scope.calls.len()];
    for k in places.iter().flatten() {
        if let Some(w) = wanted.get_mut(*k) {
            *w = true;
        }
    }
    let mut rolled = rollup(table, &scope.calls, &settings, Some(&wanted));

    let call_usage = requested
        .into_iter()
        .zip(places)
        .map(|(id, place)| {
            let models = place.and_then(|k| rolled.usage.get_mut(k)).map(std::mem::take).unwrap_or_default();
            (id.to_string(), model_totals(table, models))
        })
        .collect();

    CallsUsageRes {
        call_usage,
        unfinished_call_ids: unfinished(table, &scope.calls),
        include_costs: request.include_costs,
        diagnostics: settings.diagnostics.then(|| Diagnostics::collect(table, &scope, &rolled, &settings, project)),
    }
}

pub(crate) fn project_sym(table: &CallTable, project: &str) -> Option<Sym> {
    table.lookup(project)
}

/// Per symbol, the position in `scope` of the call with that id.
pub(crate) fn positions(table: &CallTable, scope: &[u32]) -> Vec<u32> {
    let mut position = vec![UNSET; table.symbols()];
    for (k, &i) in scope.iter().enumerate() {
        if let Some(slot) = table.calls.get(i as usize).and_then(|c| position.get_mut(c.id as usize)) {
            *slot = k as u32;
        }
    }
    position
}

pub(crate) fn model_totals(table: &CallTable, models: Usage) -> Vec<ModelTotals> {
    models.iter().map(|&(model, t)| ModelTotals { model: table.str(model).to_string(), tokens: t.tokens, costs: t.costs }).collect()
}

/// The ids in scope of calls that have not ended, sorted by code point
/// (byte order of UTF-8; ids in scope are distinct).
pub(crate) fn unfinished(table: &CallTable, scope: &[u32]) -> Vec<String> {
    let mut ids: Vec<String> = scope
        .iter()
        .filter_map(|&i| table.calls.get(i as usize))
        .filter(|c| !c.ended)
        .map(|c| table.str(c.id).to_string())
        .collect();
    ids.sort_unstable();
    ids
}

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
/// absorbed, keep their totals; without it, every call does.
pub(crate) fn rollup(table: &CallTable, scope: &[u32], settings: &Settings<'_>, wanted: Option<&[bool]>) -> Rolled {
    let calls: Vec<&CallRec> = scope.iter().filter_map(|&i| table.calls.get(i as usize)).collect();
    let position = positions(table, scope);
    let mut orphans = Vec::new();
    let mut pending = vec![0u32; calls.len()];
    let parent: Vec<u32> = calls
        .iter()
        .enumerate()
        .map(|(k, c)| {
            // An empty `parent_id` is no parent (the reference tests truthiness).
            if c.parent == NONE || table.bytes(c.parent).is_empty() {
                return UNSET;
            }
            let p = position.get(c.parent as usize).copied().unwrap_or(UNSET);
            match pending.get_mut(p as usize) {
                Some(n) => *n += 1,
                None if settings.diagnostics => orphans.push(k as u32),
                None => {}
            }
            p
        })
        .collect();
    let mut usage: Vec<Usage> = calls.iter().map(|c| own_usage(table, c, settings)).collect();
    // "dedupe" compares each call's own usage with what its children bring.
    let dedupe = settings.rollup == Rollup::Dedupe;
    let own: Vec<Usage> = if dedupe { usage.clone() } else { Vec::new() };
    let mut brought: Vec<Brought> = if dedupe { (0..calls.len()).map(|_| Brought::Sum(Usage::default())).collect() } else { Vec::new() };
    let mut deduped = Vec::new();

    let mut queue: VecDeque<u32> = (0..calls.len() as u32).filter(|&k| pending.get(k as usize) == Some(&0)).collect();
    while let Some(child) = queue.pop_front() {
        if dedupe {
            // `child` is final: judged on what its children brought, which is
            // no longer needed afterwards.
            decide(child, &own, &brought, &mut usage, &mut deduped);
            if let Some(b) = brought.get_mut(child as usize) {
                *b = Brought::Uncovered;
            }
        }
        let p = parent.get(child as usize).copied().unwrap_or(UNSET);
        if p == UNSET {
            continue;
        }
        let from = usage.get_mut(child as usize).map(std::mem::take).unwrap_or_default();
        if let (Some(b), Some(own)) = (brought.get_mut(p as usize), own.get(p as usize)) {
            bring(b, own, &from, settings.include_costs);
        }
        let keep = wanted.map_or(true, |w| w.get(child as usize) == Some(&true));
        if let Some(into) = usage.get_mut(p as usize) {
            if keep {
                // The child's own total is still reported: add a copy.
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
                queue.push_back(p);
            }
        }
    }
    let stuck: Vec<u32> = (0..calls.len() as u32).filter(|&k| pending.get(k as usize).is_some_and(|&n| n > 0)).collect();
    if dedupe {
        for &k in &stuck {
            decide(k, &own, &brought, &mut usage, &mut deduped);
        }
    }
    deduped.sort_unstable();
    Rolled { usage, stuck, orphans, deduped }
}

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
enum Brought {
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
    let mut out = Usage { entries: VecDeque::with_capacity(own.len()), index: None };
    for m in own {
        let mut tokens = m.tokens;
        if tokens[TOTAL] == 0 {
            tokens[TOTAL] = tokens[PROMPT].saturating_add(tokens[COMPLETION]);
        }
        let costs = match &settings.pricer {
            _ if !settings.include_costs => [0.0; 4],
            Some(pricer) if settings.reprice || m.flags & HAS_COSTS == 0 => pricer.costs(m, call.started).unwrap_or([0.0; 4]),
            _ => m.costs,
        };
        if tokens.iter().any(|&t| t != 0) || costs.iter().any(|&c| c != 0.0) {
            out.push_back(m.model, Totals { tokens, costs });
        }
    }
    out
}

/// Adds `from` into `into`, model by model; models new to `into` are
/// appended in `from`'s order.
fn merge(into: &mut Usage, from: &Usage, include_costs: bool) {
    for (model, t) in from.iter() {
        match into.find_mut(*model) {
            Some(acc) => add(acc, t, include_costs),
            None => into.push_back(*model, *t),
        }
    }
}

/// [`merge`] for a `from` that is not needed afterwards, with the same
/// result (entries, order, sums), in time proportional to the shorter list:
/// when `from` is the longer one, it becomes the result, and `into`'s
/// entries go in front of it (a model both have moves to `into`'s place).
/// Small into large: a chain of n calls with a model each costs n log n,
/// not n².
fn absorb(into: &mut Usage, from: Usage, include_costs: bool) {
    if from.len() <= into.len() || from.index.is_none() {
        merge(into, &from, include_costs);
        return;
    }
    let front = std::mem::replace(into, from);
    for &(model, t) in front.entries.iter().rev().filter(|(m, _)| *m != NONE) {
        let mut sum = t;
        if let Some(later) = into.remove(model) {
            // Addition commutes (floats too), so this is `t + later` exactly.
            add(&mut sum, &later, include_costs);
        }
        into.push_front(model, sum);
    }
    into.compact();
}

fn add(acc: &mut Totals, t: &Totals, include_costs: bool) {
    for (a, b) in acc.tokens.iter_mut().zip(t.tokens) {
        *a = a.saturating_add(b);
    }
    if include_costs {
        for (a, b) in acc.costs.iter_mut().zip(t.costs) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(x: u32) -> Totals {
        Totals { tokens: [i128::from(x), 1, 0, 0, 0, 0], costs: [f64::from(x) * 0.1, 0.0, 0.0, 0.0] }
    }

    /// A list of `len` distinct models drawn from `0..pool`, in random order.
    fn list(next: &mut impl FnMut() -> u32, len: usize, pool: u32) -> Usage {
        let mut u = Usage::default();
        while u.len() < len {
            let m = next() % pool;
            if u.find_mut(m).is_none() {
                u.push_back(m, totals(next() % 1000));
            }
        }
        u
    }

    fn flat(u: &Usage) -> Vec<(Sym, Totals)> {
        u.iter().copied().collect()
    }

    #[test]
    fn absorbing_gives_what_merging_gives() {
        let mut state = 0x9e37_79b9u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for round in 0..3000 {
            let pool = [20, 40, 200][round % 3];
            let (a, b) = ((next() % 60) as usize, (next() % 60) as usize);
            let (a, b) = (a.min(pool as usize), b.min(pool as usize));
            // Chains of absorptions, so tombstones, compaction and re-indexing happen.
            let mut merged = list(&mut next, a, pool);
            let mut absorbed = Usage::default();
            merge(&mut absorbed, &merged, true);
            for _ in 0..(1 + next() % 4) {
                let from = list(&mut next, b, pool);
                merge(&mut merged, &from, true);
                absorb(&mut absorbed, from, true);
                assert_eq!(flat(&absorbed), flat(&merged), "round {round}");
                assert_eq!(absorbed.len(), merged.len());
                for (m, t) in flat(&merged) {
                    assert_eq!(absorbed.find_mut(m).copied(), Some(t), "lookup after absorb, round {round}");
                }
            }
        }
    }
}

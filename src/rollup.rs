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
//!
//! Bounds on hostile input (many distinct model names): a call's totals are
//! kept after it is absorbed only if it was requested, so memory stays
//! linear in the input plus the answer (keeping every call's totals made a
//! chain of n calls with a model each hold n²/2 entries); and a model list
//! that grows long gets an index, so a merge costs what it merges.

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

/// Per-model totals of one call, in first-seen order. A call has a handful
/// of models, so a linear search wins; past [`INDEXED`] models (only odd or
/// hostile input has that many) an index by model keeps lookups constant.
/// A deque, so that a long list can absorb a short one at either end (see
/// [`absorb`]); an entry moved out of the middle leaves a tombstone (model
/// `NONE`) until the list is compacted.
#[derive(Debug, Default)]
struct Usage {
    entries: VecDeque<(Sym, Totals)>,
    /// Only for long lists, so that the common short one stays small.
    index: Option<Box<Index>>,
}

#[derive(Debug, Default)]
struct Index {
    /// Model → position; positions count from `base` so that pushing at the
    /// front does not shift them.
    at: hashbrown::HashMap<Sym, i64>,
    /// The position of `entries[0]`.
    base: i64,
    tombstones: usize,
}

/// Model lists longer than this get an index.
const INDEXED: usize = 16;

impl Usage {
    /// Entries in order, tombstones left out.
    fn iter(&self) -> impl Iterator<Item = &(Sym, Totals)> {
        self.entries.iter().filter(|(m, _)| *m != NONE)
    }

    fn len(&self) -> usize {
        self.entries.len() - self.index.as_ref().map_or(0, |ix| ix.tombstones)
    }

    fn slot(&self, model: Sym) -> Option<usize> {
        match &self.index {
            Some(ix) => usize::try_from(ix.at.get(&model)? - ix.base).ok(),
            None => self.entries.iter().position(|(m, _)| *m == model),
        }
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

    // Each scoped call's place in `scope`, by id symbol.
    let mut position = vec![UNSET; symbols];
    for (k, c) in scope.iter().enumerate() {
        if let Some(slot) = position.get_mut(c.id as usize) {
            *slot = k as u32;
        }
    }
    // Where each requested id is in `scope`, if it is.
    let places: Vec<Option<usize>> = requested
        .iter()
        .map(|id| table.lookup(id).and_then(|sym| position.get(sym as usize)).filter(|&&k| k != UNSET).map(|&k| k as usize))
        .collect();
    let mut wanted = vec![false; scope.len()];
    for k in places.iter().flatten() {
        if let Some(w) = wanted.get_mut(*k) {
            *w = true;
        }
    }

    let mut usage = rollup(table, &scope, &position, &wanted, request.include_costs);

    let call_usage = requested
        .into_iter()
        .zip(places)
        .map(|(id, place)| {
            let models = place.and_then(|k| usage.get_mut(k)).map(std::mem::take).unwrap_or_default();
            let models = models
                .iter()
                .map(|&(model, t)| ModelTotals { model: table.str(model).to_string(), tokens: t.tokens, costs: t.costs })
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
/// indexed like `scope` (`position`: each call's index there, by id symbol).
/// Only the `wanted` calls, and those never absorbed, keep their totals.
fn rollup(table: &CallTable, scope: &[&CallRec], position: &[u32], wanted: &[bool], include_costs: bool) -> Vec<Usage> {
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
        let Some(into) = usage.get_mut(p as usize) else { continue };
        if wanted.get(child as usize) == Some(&true) {
            // The child's own total is still reported: add a copy.
            merge(into, &from, include_costs);
            if let Some(slot) = usage.get_mut(child as usize) {
                *slot = from;
            }
        } else {
            absorb(into, from, include_costs);
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
    let own = table.usage_of(call);
    // Exactly as long as it can get: most calls have one model, and the
    // default first allocation would hold four.
    let mut out = Usage { entries: VecDeque::with_capacity(own.len()), index: None };
    for m in own {
        let mut tokens = m.tokens;
        if tokens[TOTAL] == 0 {
            tokens[TOTAL] = tokens[PROMPT].saturating_add(tokens[COMPLETION]);
        }
        let costs = if include_costs { m.costs } else { [0.0; 4] };
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

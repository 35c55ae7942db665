//! Per-model totals: one model's running sums ([`Totals`]) and a call's
//! list of them in first-seen order ([`Usage`]), with the two ways lists
//! add up ([`merge`], [`absorb`]) in exactly the reference's order.
//!
//! Bounds on hostile input (many distinct model names): a list that grows
//! long gets an index, so a merge costs what it merges, and [`absorb`]
//! merges the shorter list into the longer one.

use std::collections::VecDeque;

use crate::calls::{Costs, Sym, Tokens, NONE};
use crate::hash::RandomKeys;

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

    /// An empty list with room for `n` models.
    pub(super) fn with_capacity(n: usize) -> Usage {
        Usage { entries: VecDeque::with_capacity(n), index: None }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len() - self.index.as_ref().map_or(0, |ix| ix.tombstones)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn slot(&self, model: Sym) -> Option<usize> {
        match &self.index {
            Some(ix) => usize::try_from(ix.at.get(&model)? - ix.base).ok(),
            None => self.entries.iter().position(|(m, _)| *m == model),
        }
    }

    pub(super) fn get(&self, model: Sym) -> Option<&Totals> {
        let i = self.slot(model)?;
        self.entries.get(i).map(|(_, t)| t)
    }

    pub(super) fn find_mut(&mut self, model: Sym) -> Option<&mut Totals> {
        let i = self.slot(model)?;
        self.entries.get_mut(i).map(|(_, t)| t)
    }

    pub(super) fn push_back(&mut self, model: Sym, totals: Totals) {
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
    pub(super) fn push_front(&mut self, model: Sym, totals: Totals) {
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
    pub(super) fn remove(&mut self, model: Sym) -> Option<Totals> {
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
    pub(super) fn compact(&mut self) {
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

/// Adds `from` into `into`, model by model; models new to `into` are
/// appended in `from`'s order.
pub(super) fn merge(into: &mut Usage, from: &Usage, include_costs: bool) {
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
pub(super) fn absorb(into: &mut Usage, from: Usage, include_costs: bool) {
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

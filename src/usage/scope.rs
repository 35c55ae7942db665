//! Which calls count and in which order: the live calls (not deleted, of
//! the request's project or of none, the last of several with one id), the
//! scope (the live calls of the requested traces, in the server's order,
//! cut to `limit`), and the settings a computation reads its options from.
//!
//! Lookups by id go through dense arrays indexed by symbol, not hash maps.

use super::order::sort_by;
use super::pricer::Pricer;
use crate::calls::{CallRec, CallTable, Sym, NONE};
use crate::input::{Rollup, UsageOptions};
use crate::limits::{collect, filled, reserve, Exhausted};

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
pub(crate) fn live_calls(table: &CallTable, project: Option<Sym>) -> Result<Vec<u32>, Exhausted> {
    let mut live = filled(table.symbols(), UNSET)?;
    for (i, c) in table.calls().iter().enumerate() {
        if is_live(c, project) {
            if let Some(slot) = live.get_mut(c.id as usize) {
                *slot = i as u32;
            }
        }
    }
    Ok(live)
}

pub(crate) fn is_live(c: &CallRec, project: Option<Sym>) -> bool {
    !c.deleted && (c.project == NONE || Some(c.project) == project)
}

/// The live calls that `keep` accepts, in the server's order (started_at
/// instant, then id; unreadable timestamps last), cut to `limit`.
pub(crate) fn select(table: &CallTable, live: &[u32], limit: u64, keep: impl Fn(&CallRec) -> bool) -> Result<Scope, Exhausted> {
    let all = table.calls();
    let mut calls: Vec<u32> = Vec::new();
    for (i, c) in all.iter().enumerate() {
        if live.get(c.id as usize) == Some(&(i as u32)) && keep(c) {
            reserve(&mut calls, 1)?;
            calls.push(i as u32);
        }
    }
    // One live call per id: the order is unique. The indices are the
    // table's, from the loop above.
    sort_by(&mut calls, &|a, b| match (all.get(a as usize), all.get(b as usize)) {
        (Some(x), Some(y)) => x.started.cmp(&y.started).then_with(|| table.bytes(x.id).cmp(table.bytes(y.id))),
        _ => {
            debug_assert!(false, "an index past the table");
            a.cmp(&b)
        }
    });
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let cut = calls.len().saturating_sub(limit);
    calls.truncate(limit);
    // What `limit` cut off is not kept for the rest of the request.
    calls.shrink_to_fit();
    Ok(Scope { calls, cut })
}

/// A filter list (`filter.trace_ids`, `filter.call_ids`) as marks on the
/// symbols it names, or `None` for an empty list (no filter: the reference
/// tests its truthiness); ids never seen match nothing.
pub(crate) fn marks(table: &CallTable, ids: &[String]) -> Result<Option<Vec<bool>>, Exhausted> {
    if ids.is_empty() {
        return Ok(None);
    }
    let mut marked = filled(table.symbols(), false)?;
    for sym in ids.iter().filter_map(|id| table.lookup(id)) {
        if let Some(m) = marked.get_mut(sym as usize) {
            *m = true;
        }
    }
    Ok(Some(marked))
}

/// Whether `sym` passes a filter made by [`marks`].
pub(crate) fn passes(marked: &Option<Vec<bool>>, sym: Sym) -> bool {
    marked.as_ref().is_none_or(|m| m.get(sym as usize) == Some(&true))
}

/// The project's symbol, if any call names it.
pub(crate) fn project_sym(table: &CallTable, project: &str) -> Option<Sym> {
    table.lookup(project)
}

/// Per symbol, the position in `scope` of the call with that id.
pub(crate) fn positions(table: &CallTable, scope: &[u32]) -> Result<Vec<u32>, Exhausted> {
    let mut position = filled(table.symbols(), UNSET)?;
    for (k, &i) in scope.iter().enumerate() {
        if let Some(slot) = table.calls().get(i as usize).and_then(|c| position.get_mut(c.id as usize)) {
            *slot = k as u32;
        }
    }
    Ok(position)
}

/// Where each requested id is in `scope` (its position, if it is there),
/// and per position whether a requested id is there: the calls whose
/// totals the rollup keeps once absorbed.
pub(crate) fn requested_places(table: &CallTable, requested: &[&str], scope: &[u32]) -> Result<(Vec<Option<usize>>, Vec<bool>), Exhausted> {
    let position = positions(table, scope)?;
    let places: Vec<Option<usize>> = collect(
        requested.len(),
        requested
            .iter()
            .map(|id| table.lookup(id).and_then(|sym| position.get(sym as usize)).filter(|&&k| k != UNSET).map(|&k| k as usize)),
    )?;
    drop(position);
    let mut wanted = filled(scope.len(), false)?;
    for k in places.iter().flatten() {
        if let Some(w) = wanted.get_mut(*k) {
            *w = true;
        }
    }
    Ok((places, wanted))
}

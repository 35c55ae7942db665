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
//! answer is that large anyway). The totals kept for the answer are counted
//! as they are made (a lower bound of their JSON, [`AnswerSize`]), so an
//! answer too long for JavaScript is refused before its copies fill memory
//! (a chain of 3,000 calls with a model each, every id requested, would
//! keep 4.5 million entries). `"dedupe"` collects what each call's
//! children bring only while every model of it is one of the call's own (a
//! model never leaves a list, so once one is not, the call cannot cover its
//! children): what it holds never outgrows the call's own usage.

use std::collections::{HashSet, VecDeque};

use crate::diagnostics::{CallValue, Diagnostics};
use crate::error::{Loc, UsageError};
use crate::hash::RandomKeys;
use crate::limits::{self, answer_out_of_memory, collect, filled, reserve, room, AnswerSize, Exhausted};
use crate::options::{LimitRule, Rollup, UsageOptions};
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
pub(crate) fn live_calls(table: &CallTable, project: Option<Sym>) -> Result<Vec<u32>, Exhausted> {
    let mut live = filled(table.symbols(), UNSET)?;
    for (i, c) in table.calls.iter().enumerate() {
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
    let mut calls: Vec<(u32, &CallRec)> = Vec::new();
    for (i, c) in table.calls.iter().enumerate() {
        if live.get(c.id as usize) == Some(&(i as u32)) && keep(c) {
            reserve(&mut calls, 1)?;
            calls.push((i as u32, c));
        }
    }
    calls.sort_unstable_by(|(_, a), (_, b)| a.started.cmp(&b.started).then_with(|| table.bytes(a.id).cmp(table.bytes(b.id))));
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let cut = calls.len().saturating_sub(limit);
    calls.truncate(limit);
    Ok(Scope { calls: collect(calls.len(), calls.iter().map(|&(i, _)| i))?, cut })
}

/// Computes the response for `request` over the calls in `table`: a 413 when
/// the calls leave too little memory to compute over them, a 500 when the
/// answer is too long for JavaScript or for the memory left.
pub fn calls_usage(table: &CallTable, request: &UsageRequest, options: &UsageOptions) -> Result<CallsUsageRes, UsageError> {
    if options.limit == LimitRule::PerBatch {
        return crate::per_batch::calls_usage(table, request, options);
    }
    let settings = Settings::new(table, &request.project_id, request.include_costs, options);
    let calls_too_large = |e| table.too_large(e);
    // Each distinct requested id is a key of the answer: counted first, so
    // that millions of ids are refused before anything is computed for them.
    let mut size = AnswerSize::new(request.include_costs);
    let mut seen = HashSet::with_hasher(RandomKeys::default());
    let ids = request.call_ids.len();
    seen.try_reserve(ids).map_err(|_| too_many_ids(ids))?;
    let mut requested: Vec<&str> = Vec::new();
    limits::reserve_exact(&mut requested, ids).map_err(|_| too_many_ids(ids))?;
    for id in &request.call_ids {
        if seen.insert(id.as_str()) {
            size.key(id.len());
            requested.push(id);
        }
    }
    drop(seen);
    size.check()?;
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
    let live_call = |sym: Sym| live.get(sym as usize).filter(|&&i| i != UNSET).and_then(|&i| table.calls.get(i as usize));

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

    // Where each requested id is in the scope, if it is: only those calls'
    // totals are kept once absorbed.
    let position = positions(table, &scope.calls).map_err(calls_too_large)?;
    let places: Vec<Option<usize>> = collect(
        requested.len(),
        requested
            .iter()
            .map(|id| table.lookup(id).and_then(|sym| position.get(sym as usize)).filter(|&&k| k != UNSET).map(|&k| k as usize)),
    )
    .map_err(calls_too_large)?;
    drop(position);
    let mut wanted = filled(scope.calls.len(), false).map_err(calls_too_large)?;
    for k in places.iter().flatten() {
        if let Some(w) = wanted.get_mut(*k) {
            *w = true;
        }
    }
    let mut rolled = rollup(table, &scope.calls, &settings, Some(&wanted), size)?;
    drop(wanted);

    let lists: Vec<(&str, Usage)> = collect(
        requested.len(),
        requested
            .into_iter()
            .zip(places)
            .map(|(id, place)| (id, place.and_then(|k| rolled.usage.get_mut(k)).map(std::mem::take).unwrap_or_default())),
    )
    .map_err(answer_out_of_memory)?;
    let unfinished = unfinished(table, &scope.calls, &mut size)?;
    let diagnostics = match settings.diagnostics {
        true => Some(Diagnostics::collect(table, &scope, &rolled, &settings, project).map_err(calls_too_large)?),
        false => None,
    };
    drop(rolled);
    answer(table, lists, unfinished, diagnostics, request.include_costs, size)
}

/// The 413 for a request whose distinct ids cannot even be listed.
pub(crate) fn too_many_ids(ids: usize) -> UsageError {
    UsageError::too_large(
        vec![Loc::from("body"), Loc::from("call_ids")],
        "request_too_large",
        format!("The request's {ids} call_ids do not fit in the module's memory"),
    )
}

/// The answer from each key's rolled-up lists, once their size is known:
/// `size` has counted the keys (and, for `/calls/usage`, the requested ids)
/// and `unfinished`; the lists and diagnostics are counted here, and the
/// answer is refused (500) if too long or if its parts cannot be allocated.
pub(crate) fn answer(
    table: &CallTable,
    lists: Vec<(&str, Usage)>,
    unfinished: Vec<String>,
    diagnostics: Option<Diagnostics>,
    include_costs: bool,
    mut size: AnswerSize,
) -> Result<CallsUsageRes, UsageError> {
    let mut entries = 0usize;
    for (_, usage) in &lists {
        count(&mut size, table, usage);
        entries = entries.saturating_add(usage.len());
    }
    if let Some(d) = &diagnostics {
        size.add(d.json_len());
    }
    size.check()?;
    // Each key and entry as `CallsUsageRes` holds it, with the heap block
    // of its string, and the strings' bytes (no more than the answer's text).
    let key = std::mem::size_of::<(String, Vec<ModelTotals>)>() + 16;
    let entry = std::mem::size_of::<ModelTotals>() + 16;
    let memory = lists.len().saturating_mul(key).saturating_add(entries.saturating_mul(entry)).saturating_add(size.bytes());
    room(memory).map_err(answer_out_of_memory)?;
    let mut call_usage = Vec::new();
    limits::reserve_exact(&mut call_usage, lists.len()).map_err(answer_out_of_memory)?;
    for (id, usage) in lists {
        call_usage.push((id.to_string(), model_totals(table, usage)));
    }
    Ok(CallsUsageRes { call_usage, unfinished_call_ids: unfinished, include_costs, diagnostics })
}

/// Counts a list of model totals into the answer's size.
fn count(size: &mut AnswerSize, table: &CallTable, usage: &Usage) {
    for (model, _) in usage.iter() {
        size.entry(table.bytes(*model).len());
    }
}

/// Memory in one model's totals during the rollup: the entry, and its share
/// of a long list's index (see [`Usage`]).
const ENTRY_MEMORY: usize = std::mem::size_of::<(Sym, Totals)>() + 32;

/// From above, the memory the rollup over `scope` takes, besides the copies
/// kept for the answer (counted as they are made), and the unfinished ids
/// and diagnostics it reports. Each call's own model list; as many entries
/// again in the lists that absorb them (a list holds each model of its
/// subtree once, and the lists not yet absorbed have disjoint subtrees);
/// with `"dedupe"`, the extras moving up beside them and each call's sum of
/// its children's own usage (no longer than its own list).
pub(crate) fn scope_memory(table: &CallTable, scope: &[u32], settings: &Settings<'_>) -> usize {
    let (mut entries, mut id_bytes) = (0usize, 0usize);
    for c in scope.iter().filter_map(|&i| table.calls.get(i as usize)) {
        entries = entries.saturating_add(table.usage_of(c).len());
        id_bytes = id_bytes.saturating_add(table.bytes(c.id).len());
    }
    let dedupe = settings.rollup == Rollup::Dedupe;
    let lists = if dedupe { 4 } else { 2 };
    let mut per_call = std::mem::size_of::<&CallRec>()
        + 8 * std::mem::size_of::<u32>()
        + std::mem::size_of::<Usage>()
        + std::mem::size_of::<String>()
        + 16;
    if dedupe {
        // Its own list, its extras (or total), its children's sum.
        per_call += 2 * std::mem::size_of::<Usage>() + std::mem::size_of::<Brought>();
    }
    // A usage entry gives at most one `prompt_and_input_tokens` item (and
    // its share of the table that judges it), twelve unreadable values and
    // four negative costs; the ids in them come from the same strings.
    let diagnostics = if settings.diagnostics { entries.saturating_mul(18 * (std::mem::size_of::<CallValue>() + 64)) } else { 0 };
    scope
        .len()
        .saturating_mul(per_call)
        .saturating_add(entries.saturating_mul(lists * ENTRY_MEMORY))
        .saturating_add(id_bytes)
        .saturating_add(diagnostics)
}

pub(crate) fn project_sym(table: &CallTable, project: &str) -> Option<Sym> {
    table.lookup(project)
}

/// Per symbol, the position in `scope` of the call with that id.
pub(crate) fn positions(table: &CallTable, scope: &[u32]) -> Result<Vec<u32>, Exhausted> {
    let mut position = filled(table.symbols(), UNSET)?;
    for (k, &i) in scope.iter().enumerate() {
        if let Some(slot) = table.calls.get(i as usize).and_then(|c| position.get_mut(c.id as usize)) {
            *slot = k as u32;
        }
    }
    Ok(position)
}

/// A model list as the answer reports it. Allocated after [`answer`]'s
/// check that it fits.
fn model_totals(table: &CallTable, models: Usage) -> Vec<ModelTotals> {
    let mut list = Vec::with_capacity(models.len());
    list.extend(models.iter().map(|&(model, t)| ModelTotals { model: table.str(model).to_string(), tokens: t.tokens, costs: t.costs }));
    list
}

/// The ids in scope of calls that have not ended, sorted by code point
/// (byte order of UTF-8; ids in scope are distinct), counted into the
/// answer's size.
pub(crate) fn unfinished(table: &CallTable, scope: &[u32], size: &mut AnswerSize) -> Result<Vec<String>, UsageError> {
    let mut ids: Vec<String> = Vec::new();
    for c in scope.iter().filter_map(|&i| table.calls.get(i as usize)).filter(|c| !c.ended) {
        let id = table.str(c.id);
        size.item(id.len());
        reserve(&mut ids, 1).map_err(answer_out_of_memory)?;
        ids.push(id.to_string());
    }
    ids.sort_unstable();
    Ok(ids)
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
/// absorbed, keep their totals; without it, every call does. The totals
/// kept for absorbed calls are counted on top of `size` (what the answer
/// holds besides them): a 500 once they alone make it too long, or once the
/// memory left cannot hold more of them. The caller has checked that the
/// rest fits ([`scope_memory`]); the per-call vectors are reserved fallibly.
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
    let calls: Vec<&CallRec> = collect(scope.len(), scope.iter().filter_map(|&i| table.calls.get(i as usize))).map_err(calls_too_large)?;
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
    let mut usage: Vec<Usage> = collect(calls.len(), calls.iter().map(|c| own_usage(table, c, settings))).map_err(calls_too_large)?;
    drop(calls);
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
        if let Some(n) = pending.get_mut(p as usize) {
            *n -= 1;
            if *n == 0 {
                debug_assert!(queue.len() < queue.capacity());
                queue.push_back(p);
            }
        }
    }
    let stuck = stuck_calls(table, &pending)?;
    Ok(Rolled { usage, stuck, orphans, deduped: Vec::new() })
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
fn rollup_dedupe(
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
        if let Some(n) = pending.get_mut(p as usize) {
            *n -= 1;
            if *n == 0 {
                debug_assert!(queue.len() < queue.capacity());
                queue.push_back(p);
            }
        }
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
    deduped.sort_unstable();
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
enum Brought {
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

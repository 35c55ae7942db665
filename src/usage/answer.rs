//! Assembling the answer from the rolled-up lists, once its size is known
//! to fit, and bounding from above the memory a computation over a scope
//! takes before it starts.

use std::collections::HashSet;

use super::order::sort_by;
use super::rollup::{count, Brought, Rolled};
use super::scope::{Scope, Settings};
use super::totals::{Totals, Usage};
use crate::calls::{CallRec, CallTable, Sym};
use crate::error::{Kind, Loc, UsageError};
use crate::hash::RandomKeys;
use crate::input::{Rollup, UsageRequest};
use crate::limits::{self, answer_out_of_memory, collect, reserve, room};
use crate::response::{AnswerSize, CallValue, CallsUsageRes, Diagnostics, ModelTotals};

/// The last steps of both endpoints, once the lists are made: the
/// unfinished ids in scope and the diagnostics (if asked for) are counted
/// into `size`, then the answer is made.
pub(super) fn finish(
    table: &CallTable,
    scope: &Scope,
    rolled: Rolled,
    settings: &Settings<'_>,
    project: Option<Sym>,
    lists: Vec<(&str, Usage)>,
    mut size: AnswerSize,
) -> Result<CallsUsageRes, UsageError> {
    let unfinished = unfinished(table, &scope.calls, &mut size)?;
    let diagnostics = match settings.diagnostics {
        true => Some(Diagnostics::collect(table, scope, &rolled, settings, project).map_err(|e| table.too_large(e))?),
        false => None,
    };
    drop(rolled);
    answer(table, lists, unfinished, diagnostics, settings.include_costs, size)
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
    // Sorted as symbols, by their text: the order of the strings.
    let mut unfinished: Vec<Sym> = Vec::new();
    for c in scope.iter().filter_map(|&i| table.calls().get(i as usize)).filter(|c| !c.ended) {
        size.item(table.str(c.id).len());
        reserve(&mut unfinished, 1).map_err(answer_out_of_memory)?;
        unfinished.push(c.id);
    }
    sort_by(&mut unfinished, &|a, b| table.bytes(a).cmp(table.bytes(b)));
    let mut ids: Vec<String> = Vec::new();
    reserve(&mut ids, unfinished.len()).map_err(answer_out_of_memory)?;
    ids.extend(unfinished.iter().map(|&s| table.str(s).to_string()));
    Ok(ids)
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
    for c in scope.iter().filter_map(|&i| table.calls().get(i as usize)) {
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

/// The distinct requested ids of `/calls/usage`, in request order, each
/// counted into the answer's size as one of its keys: counted first, so
/// that millions of ids are refused before anything is computed for them.
pub(super) fn requested_ids(request: &UsageRequest) -> Result<(Vec<&str>, AnswerSize), UsageError> {
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
    Ok((requested, size))
}

/// Each requested id with its rolled-up totals, taken out of `rolled` at
/// its place in the scope (see `scope::requested_places`); none for an id
/// not in scope.
pub(super) fn requested_lists<'r>(
    requested: Vec<&'r str>,
    places: Vec<Option<usize>>,
    rolled: &mut Rolled,
) -> Result<Vec<(&'r str, Usage)>, UsageError> {
    collect(
        requested.len(),
        requested.into_iter().zip(places).map(|(id, place)| {
            // A place is a position in the scope, which `rolled` is indexed by.
            debug_assert!(place.is_none_or(|k| k < rolled.usage.len()));
            (id, place.and_then(|k| rolled.usage.get_mut(k)).map(std::mem::take).unwrap_or_default())
        }),
    )
    .map_err(answer_out_of_memory)
}

/// The 413 for a request whose distinct ids cannot even be listed.
fn too_many_ids(ids: usize) -> UsageError {
    UsageError::too_large(
        vec![Loc::from("body"), Loc::from("call_ids")],
        Kind::RequestTooLarge,
        format!("The request's {ids} call_ids do not fit in the module's memory"),
    )
}

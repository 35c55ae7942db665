//! `options.diagnostics: true`: collecting what in the calls could make the
//! totals surprising, reported beside them (never instead of them) in the
//! answer's `diagnostics` object (`response::Diagnostics`). Everything is about the calls in scope (after
//! `limit`), except `calls_cut_by_limit`.
//!
//! Collected only when asked for: the default path does no extra work. The
//! one thing the reader has to record as it goes, values that were present
//! but unreadable (read as 0), it records only when that happens.

use super::order::{sort_by, stable};
use super::rollup::Rolled;
use super::scope::{is_live, Scope, Settings};
use crate::calls::{value_field, CallTable, Sym, COST_FIELDS, HAS_COSTS, NONE, PROMPT_AND_INPUT, UNREADABLE, USAGE_FIELDS};
use crate::hash::RandomKeys;
use crate::input::Rollup;
use crate::limits::{filled, reserve, Exhausted};
use crate::response::{CallValue, Diagnostics};

impl Diagnostics {
    /// The arrays per symbol and per call are reserved fallibly; the lists
    /// of items are within what `answer::scope_memory` checked.
    pub(crate) fn collect(
        table: &CallTable,
        scope: &Scope,
        rolled: &Rolled,
        settings: &Settings<'_>,
        project: Option<Sym>,
    ) -> Result<Diagnostics, Exhausted> {
        let call = |i: u32| table.calls().get(i as usize);
        let id_at = |k: &u32| scope.calls.get(*k as usize).and_then(|&i| call(i)).map(|c| table.str(c.id).to_string());
        let sorted = |ids: Vec<String>| stable(ids, |a, b| a.cmp(b));

        // Live copies per id; only the ids in scope matter.
        let mut in_scope = filled(table.symbols(), false)?;
        for c in scope.calls.iter().filter_map(|&i| call(i)) {
            if let Some(slot) = in_scope.get_mut(c.id as usize) {
                *slot = true;
            }
        }
        let mut copies = filled(table.symbols(), 0u8)?;
        for c in table.calls().iter().filter(|c| is_live(c, project) && in_scope.get(c.id as usize) == Some(&true)) {
            if let Some(n) = copies.get_mut(c.id as usize) {
                *n = n.saturating_add(1);
            }
        }
        let duplicates = scope.calls.iter().filter_map(|&i| call(i)).filter(|c| copies.get(c.id as usize).is_some_and(|&n| n > 1));

        let with_costs = settings.reads_given_costs();
        let mut prompt_and_input = Vec::new();
        let mut negative_costs = Vec::new();
        let mut flagged = filled(table.calls().len(), false)?;
        let mut models = Vec::new();
        for &i in &scope.calls {
            let Some(c) = call(i) else { continue };
            for u in table.usage_of(c) {
                if u.flags & PROMPT_AND_INPUT != 0 {
                    reserve(&mut prompt_and_input, 1)?;
                    prompt_and_input.push((c.id, u.model));
                }
                if u.flags & UNREADABLE != 0 {
                    if let Some(f) = flagged.get_mut(i as usize) {
                        *f = true;
                    }
                }
                if with_costs && u.flags & HAS_COSTS != 0 {
                    for (field, _) in COST_FIELDS.iter().zip(u.costs).filter(|(_, cost)| *cost < 0.0) {
                        reserve(&mut negative_costs, 1)?;
                        negative_costs.push(CallValue {
                            call_id: table.str(c.id).to_string(),
                            model: table.str(u.model).to_string(),
                            field: Some(field),
                        });
                    }
                }
                // Unpriced: it has usage, and neither stored costs that are
                // used nor (below) a price row.
                if u.tokens.iter().any(|&t| t != 0) && (settings.reprice || u.flags & HAS_COSTS == 0) {
                    models.push(u.model);
                }
            }
        }
        let prompt_and_input = summed_by_client(table, scope, prompt_and_input)?;
        let unreadable: Vec<CallValue> = table
            .unreadable()
            .iter()
            .filter(|u| flagged.get(u.call as usize) == Some(&true) && (with_costs || usize::from(u.field) < USAGE_FIELDS.len()))
            .filter_map(|u| {
                let c = call(u.call)?;
                let field = value_field(u.field)?;
                Some(CallValue { call_id: table.str(c.id).to_string(), model: table.str(u.model).to_string(), field: Some(field) })
            })
            .collect();
        // Stable: within a call, models and fields keep the order read.
        let by_call = |v: Vec<CallValue>| stable(v, |a, b| a.call_id.cmp(&b.call_id));

        let unpriced_models = settings.pricer.as_ref().map(|pricer| {
            sort_by(&mut models, &|a, b| a.cmp(&b));
            models.dedup();
            sorted(models.iter().filter(|&&m| !pricer.has_rows(m)).map(|&m| table.str(m).to_string()).collect())
        });

        Ok(Diagnostics {
            calls_in_scope: scope.calls.len(),
            calls_cut_by_limit: scope.cut,
            orphan_call_ids: sorted(rolled.orphans.iter().filter_map(id_at).collect()),
            cycle_call_ids: sorted(rolled.stuck.iter().filter_map(id_at).collect()),
            duplicate_call_ids: sorted(duplicates.map(|c| table.str(c.id).to_string()).collect()),
            unreadable_values: by_call(unreadable),
            prompt_and_input_tokens: by_call(prompt_and_input),
            negative_costs: by_call(negative_costs),
            unpriced_models,
            deduped_call_ids: (settings.rollup == Rollup::Dedupe).then(|| sorted(rolled.deduped.iter().filter_map(id_at).collect())),
        })
    }
}

/// The `prompt_and_input_tokens` entries (call id, model) that no child in
/// scope has usage of the same model under: an entry that does is the
/// client's sum of its children's, and holds both counters when one child
/// used each API; its children are reported themselves if they hold both.
fn summed_by_client(table: &CallTable, scope: &Scope, entries: Vec<(Sym, Sym)>) -> Result<Vec<CallValue>, Exhausted> {
    let mut out = Vec::new();
    if entries.is_empty() {
        return Ok(out);
    }
    // Entry → whether a child explains it; only the flagged entries' calls
    // are looked up, so this is as large as the entries.
    let mut summed: hashbrown::HashMap<(Sym, Sym), bool, RandomKeys> = hashbrown::HashMap::with_hasher(RandomKeys::default());
    summed.try_reserve(entries.len()).map_err(|_| Exhausted { bytes: entries.len().saturating_mul(16) })?;
    let mut parents = hashbrown::HashSet::with_hasher(RandomKeys::default());
    parents.try_reserve(entries.len()).map_err(|_| Exhausted { bytes: entries.len().saturating_mul(8) })?;
    for &(id, model) in &entries {
        summed.insert((id, model), false);
        parents.insert(id);
    }
    for c in scope.calls.iter().filter_map(|&i| table.calls().get(i as usize)) {
        if c.parent == NONE || !parents.contains(&c.parent) {
            continue;
        }
        for u in table.usage_of(c).iter().filter(|u| u.tokens.iter().any(|&t| t != 0)) {
            if let Some(s) = summed.get_mut(&(c.parent, u.model)) {
                *s = true;
            }
        }
    }
    reserve(&mut out, entries.len())?;
    for (id, model) in entries {
        if summed.get(&(id, model)) == Some(&false) {
            out.push(CallValue { call_id: table.str(id).to_string(), model: table.str(model).to_string(), field: None });
        }
    }
    Ok(out)
}

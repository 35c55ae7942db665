//! The `/calls/usage` computation over validated calls: which calls count,
//! which are in scope, and the bottom-up rollup of usage from each call into
//! its ancestors.
//!
//! The rollup is Kahn's algorithm, never recursion: a call is merged into its
//! parent once all of its own children have been merged into it. Calls on a
//! parent cycle never reach zero pending children, so they are never merged
//! upward and nothing loops. The merge order follows the reference exactly
//! (a FIFO queue seeded in scope order), so even float cost sums come out
//! bit-for-bit the same.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::call::{Call, Costs, Tokens, COMPLETION, PROMPT, TOTAL};
use crate::request::UsageRequest;
use crate::response::{CallsUsageRes, ModelTotals};

/// One model's running totals during the rollup.
#[derive(Debug, Clone, PartialEq)]
struct Totals {
    tokens: Tokens,
    costs: Costs,
}

/// Per-model totals of one call, in first-seen order (a call has a handful
/// of models, so a vector beats a map).
type Usage<'a> = Vec<(&'a str, Totals)>;

/// Computes the response for `request` over `calls` (in input order).
pub fn calls_usage(calls: &[Call], request: &UsageRequest) -> CallsUsageRes {
    if request.call_ids.is_empty() {
        return CallsUsageRes::default();
    }
    let requested_ids = distinct(request.call_ids.iter().map(String::as_str));

    let live = live_calls(calls, &request.project_id);
    let requested: HashSet<&str> = requested_ids.iter().copied().collect();
    let traces: HashSet<&str> = live
        .iter()
        .filter(|c| requested.contains(c.id.as_str()))
        .map(|c| c.trace_id.as_str())
        .collect();
    if traces.is_empty() {
        return CallsUsageRes {
            call_usage: requested_ids.into_iter().map(|id| (id.to_string(), Vec::new())).collect(),
            unfinished_call_ids: Vec::new(),
            include_costs: request.include_costs,
        };
    }

    let scope = scope(live, &traces, request.limit);
    let mut rolled = rollup(&scope, request.include_costs);

    let index: HashMap<&str, usize> = scope.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let call_usage = requested_ids
        .into_iter()
        .map(|id| {
            let models = index
                .get(id)
                .and_then(|&i| rolled.get_mut(i))
                .map(std::mem::take)
                .unwrap_or_default();
            let models = models
                .into_iter()
                .map(|(model, t)| ModelTotals { model: model.to_string(), tokens: t.tokens, costs: t.costs })
                .collect();
            (id.to_string(), models)
        })
        .collect();

    let mut unfinished: Vec<String> = scope.iter().filter(|c| !c.ended).map(|c| c.id.clone()).collect();
    // Byte order of UTF-8 is code point order.
    unfinished.sort_unstable();
    unfinished.dedup();

    CallsUsageRes { call_usage, unfinished_call_ids: unfinished, include_costs: request.include_costs }
}

/// Each item once, in first-occurrence order.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items.filter(|id| seen.insert(*id)).collect()
}

/// Calls that are not deleted and belong to the project (or name none);
/// of several with one `id`, the last one given replaces the others.
fn live_calls<'a>(calls: &'a [Call], project_id: &str) -> Vec<&'a Call> {
    let mut slot: HashMap<&str, usize> = HashMap::new();
    let mut live: Vec<&Call> = Vec::new();
    for c in calls {
        if c.deleted || c.project_id.as_deref().is_some_and(|p| p != project_id) {
            continue;
        }
        match slot.get(c.id.as_str()) {
            Some(&i) => {
                if let Some(s) = live.get_mut(i) {
                    *s = c;
                }
            }
            None => {
                slot.insert(c.id.as_str(), live.len());
                live.push(c);
            }
        }
    }
    live
}

/// The live calls of the requested traces in the server's default order
/// (`started_at` instant, then `id`; unreadable timestamps last), cut to
/// `limit`.
fn scope<'a>(live: Vec<&'a Call>, traces: &HashSet<&str>, limit: u64) -> Vec<&'a Call> {
    let mut scope: Vec<&Call> = live.into_iter().filter(|c| traces.contains(c.trace_id.as_str())).collect();
    // `None` must sort after every instant, so compare (is_none, instant).
    scope.sort_unstable_by(|a, b| {
        (a.started_at.is_none(), a.started_at, a.id.as_bytes()).cmp(&(b.started_at.is_none(), b.started_at, b.id.as_bytes()))
    });
    scope.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    scope
}

/// Each call's usage plus that of every descendant it absorbs, indexed like
/// `scope`.
fn rollup<'a>(scope: &[&'a Call], include_costs: bool) -> Vec<Usage<'a>> {
    let index: HashMap<&str, usize> = scope.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let mut pending = vec![0u32; scope.len()];
    let parent: Vec<Option<usize>> = scope
        .iter()
        .map(|c| {
            // An empty `parent_id` is no parent (the reference tests truthiness).
            let p = c.parent_id.as_deref().filter(|p| !p.is_empty()).and_then(|p| index.get(p).copied());
            if let Some(slot) = p.and_then(|p| pending.get_mut(p)) {
                *slot += 1;
            }
            p
        })
        .collect();
    let mut usage: Vec<Usage<'a>> = scope.iter().map(|c| own_usage(c, include_costs)).collect();

    let mut queue: VecDeque<usize> = (0..scope.len()).filter(|&i| pending.get(i) == Some(&0)).collect();
    while let Some(child) = queue.pop_front() {
        let Some(p) = parent.get(child).copied().flatten() else { continue };
        let from = usage.get(child).cloned().unwrap_or_default();
        if let Some(into) = usage.get_mut(p) {
            merge(into, &from, include_costs);
        }
        if let Some(n) = pending.get_mut(p) {
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
fn own_usage(call: &Call, include_costs: bool) -> Usage<'_> {
    let mut out: Usage<'_> = Vec::with_capacity(call.usage.len());
    for m in &call.usage {
        let mut tokens = m.tokens;
        if tokens[TOTAL] == 0 {
            tokens[TOTAL] = tokens[PROMPT].saturating_add(tokens[COMPLETION]);
        }
        let costs = if include_costs { m.costs } else { [0.0; 4] };
        let keep = tokens.iter().any(|&t| t != 0) || costs.iter().any(|&c| c != 0.0);
        if keep {
            // `summary.usage` keys are distinct already (`Value::dict_entries`).
            out.push((m.model.as_str(), Totals { tokens, costs }));
        }
    }
    out
}

/// Adds `from` into `into`, model by model; models new to `into` are
/// appended in `from`'s order.
fn merge<'a>(into: &mut Usage<'a>, from: &Usage<'a>, include_costs: bool) {
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
            None => into.push((model, t.clone())),
        }
    }
}

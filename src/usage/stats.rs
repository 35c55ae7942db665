//! Usage stats (this library's extension; docs/stats.md): each counted
//! call's own usage, and its call counts, summed per time bucket and group.
//!
//! The rule that makes a day's total what the providers billed: a call's
//! own usage is its `rollup: "dedupe"` total less the dedupe totals of the
//! calls it absorbs. The rollup tells which calls were deduped (their
//! `summary.usage` already holds their children's), so that is
//! `own − Σ own(absorbed children)` for a deduped call and `own` for any
//! other; summed over a tree it telescopes to the root's dedupe total.
//! Tokens are exact integers; costs are subtracted as floats.
//!
//! Buckets are given as their start instants (made in JavaScript, which has
//! the time-zone data); a call is binned by binary search. Groups are told
//! apart through a keyed hash table (`hash.rs`), so crafted keys cannot make
//! it slow; everything that grows with the calls is reserved fallibly.

use super::order::sort_by;
use super::rollup::{own_usage, rollup, rollup_dedupe};
use super::scope::{live_calls, positions, project_sym, select, Settings, UNSET};
use super::totals::{Totals, Usage};
use crate::calls::{CallTable, Sym, NONE, NO_INSTANT};
use crate::error::{Kind, Loc, UsageError};
use crate::hash::RandomKeys;
use crate::input::{Granularity, GroupKey, Rollup, StatsRequest, UsageOptions};
use crate::limits::{collect, filled, reserve, Exhausted};
use crate::response::{AnswerSize, StatsRes};
use hashbrown::HashMap;

/// Buckets a request may span.
pub const MAX_BUCKETS: usize = 10_000;

/// Rows (buckets × groups, in each list) an answer may hold.
pub const MAX_ROWS: usize = 200_000;

/// The bucket boundaries from `start` through `end` (microseconds since
/// the epoch, `end` exclusive), each with the zone's UTC offset there in
/// minutes: the first at or before `start`, the last at or after `end`;
/// at most `max` + 1 of them, else a 422 at `["body", "granularity"]`. The
/// wasm build asks JavaScript (`Intl`); natively, [`fixed_offset_buckets`].
pub type Buckets<'a> = &'a dyn Fn(i64, i64, Granularity, &str, usize) -> Result<Vec<(i64, i32)>, UsageError>;

/// Per call in scope: what is counted of it, and where.
struct Counted {
    bucket: u32,
    group: u32,
    /// Position in the scope of the call counted (with `trace_roots_only`
    /// a root, which brings its tree's total).
    call: u32,
}

/// A call group's (group_by keys but model) measures.
#[derive(Default, Clone, Copy)]
struct CallCounts {
    calls: u64,
    errors: u64,
    unfinished: u64,
    requests: i128,
}

/// Computes the stats for `request` over `table` (made for stats, else a
/// 409), with buckets from `buckets`.
pub fn usage_stats(
    table: &CallTable,
    request: &StatsRequest,
    options: &UsageOptions,
    buckets: Buckets<'_>,
) -> Result<StatsRes, UsageError> {
    let Some(extra) = table.stats() else {
        return Err(UsageError { status: 409, ..UsageError::invalid_as(vec![Loc::from("accumulator")], Kind::NotForStats) });
    };
    let too_large = |e| table.too_large(e);
    let mut settings = Settings::new(table, &request.project_id, request.include_costs, options);
    settings.rollup = Rollup::Dedupe;
    settings.diagnostics = false;
    let project = project_sym(table, &request.project_id);
    let live = live_calls(table, project).map_err(too_large)?;
    let scope = select(table, &live, u64::MAX, |_| true).map_err(too_large)?;
    drop(live);
    let calls = &scope.calls;
    let n = calls.len();
    let rec = |k: usize| calls.get(k).and_then(|&i| table.calls().get(i as usize));

    // Parent links in scope, as the rollup makes them.
    let position = positions(table, calls).map_err(too_large)?;
    let parent: Vec<u32> = collect(
        n,
        (0..n).map(|k| match rec(k) {
            Some(c) if c.parent != NONE && !table.bytes(c.parent).is_empty() => position.get(c.parent as usize).copied().unwrap_or(UNSET),
            _ => UNSET,
        }),
    )
    .map_err(too_large)?;
    drop(position);

    // The dedupe rollup: which calls cover their children, which are on a
    // cycle, and (read only with trace_roots_only) each never-absorbed
    // call's total. Without trace_roots_only the totals are not read, so
    // when no call is deduped the reference's sum need not be run again.
    let nobody = filled(n, false).map_err(too_large)?;
    let size = AnswerSize::new(request.include_costs);
    let rolled = if request.trace_roots_only {
        rollup(table, calls, &settings, Some(&nobody), size)?
    } else {
        rollup_dedupe(table, calls, &settings, Some(&nobody), size, None)?
    };
    drop(nobody);
    let mut flags = filled(n, 0u8).map_err(too_large)?;
    const STUCK: u8 = 1;
    const DEDUPED: u8 = 2;
    for &k in &rolled.stuck {
        if let Some(f) = flags.get_mut(k as usize) {
            *f |= STUCK;
        }
    }
    for &k in &rolled.deduped {
        if let Some(f) = flags.get_mut(k as usize) {
            *f |= DEDUPED;
        }
    }
    let absorbed = |k: usize| parent.get(k).is_some_and(|&p| p != UNSET) && flags.get(k).is_some_and(|f| f & STUCK == 0);

    // Each call's own usage; a deduped call then gives up what each child
    // it absorbs holds of its own (as read, not what is left of it).
    let mut exclusive: Vec<Usage> =
        collect(n, (0..n).map(|k| rec(k).map(|c| own_usage(table, c, &settings)).unwrap_or_default())).map_err(too_large)?;
    // Only a deduped call's usage changes, so only those are kept as read:
    // `kept[k]` is 1 + the index in `originals` of call k's, or 0.
    let mut kept: Vec<u32> = if rolled.deduped.is_empty() { Vec::new() } else { filled(n, 0).map_err(too_large)? };
    let mut originals: Vec<Usage> = Vec::new();
    for &k in &rolled.deduped {
        reserve(&mut originals, 1).map_err(too_large)?;
        originals.push(exclusive.get(k as usize).cloned().unwrap_or_default());
        if let Some(x) = kept.get_mut(k as usize) {
            *x = originals.len() as u32;
        }
    }
    let as_read = |k: usize| kept.get(k).and_then(|&i| i.checked_sub(1)).and_then(|i| originals.get(i as usize));
    let mut mine: Vec<(Sym, Totals)> = Vec::new();
    for k in 0..n {
        let p = parent.get(k).copied().unwrap_or(UNSET);
        if !absorbed(k) || flags.get(p as usize).is_none_or(|f| f & DEDUPED == 0) {
            continue;
        }
        mine.clear();
        if let Some(own) = as_read(k).or_else(|| exclusive.get(k)) {
            reserve(&mut mine, own.len()).map_err(too_large)?;
            mine.extend(own.iter().copied());
        }
        if let Some(into) = exclusive.get_mut(p as usize) {
            for (model, t) in &mine {
                // A deduped call covers each of its children's models.
                if let Some(e) = into.find_mut(*model) {
                    for (a, b) in e.tokens.iter_mut().zip(t.tokens) {
                        *a = a.saturating_sub(b);
                    }
                    for (a, b) in e.costs.iter_mut().zip(t.costs) {
                        *a -= b;
                    }
                }
            }
        }
    }
    drop(mine);
    // A model whose tokens all cancelled keeps only the float residue of
    // its costs' subtraction: nothing. (Only a deduped call's can have: an
    // entry as read has a token or a cost that is not zero.)
    for &k in &rolled.deduped {
        let (Some(o), Some(e)) = (as_read(k as usize), exclusive.get_mut(k as usize)) else { continue };
        for (model, t) in o.iter() {
            if let Some(x) = e.find_mut(*model) {
                if x.tokens.iter().all(|&v| v == 0) && x.costs.iter().zip(t.costs).all(|(c, whole)| c.abs() <= whole.abs() * 1e-9) {
                    x.costs = [0.0; 4];
                }
            }
        }
    }
    drop((kept, originals));

    // Each call's root: the call its usage ends up in.
    let mut root = filled(n, UNSET).map_err(too_large)?;
    let mut path: Vec<u32> = Vec::new();
    for k in 0..n {
        let mut at = k;
        while root.get(at) == Some(&UNSET) && absorbed(at) {
            reserve(&mut path, 1).map_err(too_large)?;
            path.push(at as u32);
            at = parent.get(at).copied().unwrap_or(UNSET) as usize;
        }
        let top = match root.get(at) {
            Some(&r) if r != UNSET => r,
            _ => at as u32,
        };
        if let Some(r) = root.get_mut(at) {
            *r = top;
        }
        for &p in &path {
            if let Some(r) = root.get_mut(p as usize) {
                *r = top;
            }
        }
        path.clear();
    }

    // Op names: `NAME` of a ref, numbered so that equal names are one key;
    // only when the request groups or filters by them.
    let by_op = request.group_by.iter().any(|k| matches!(k, GroupKey::OpName | GroupKey::RootOpName));
    let op_key = if by_op || !request.op_names.is_empty() { op_names(table, extra, calls)? } else { OpKeys::default() };
    let marks = |ids: &[String]| -> Result<Option<Vec<bool>>, UsageError> {
        if ids.is_empty() {
            return Ok(None);
        }
        let mut m = filled(table.symbols(), false).map_err(too_large)?;
        for sym in ids.iter().filter_map(|id| table.lookup(id)) {
            if let Some(x) = m.get_mut(sym as usize) {
                *x = true;
            }
        }
        Ok(Some(m))
    };
    let users = marks(&request.wb_user_ids)?;
    let threads = marks(&request.thread_ids)?;
    let mut op_filter: Option<Vec<bool>> = None;
    if !request.op_names.is_empty() {
        let mut m = filled(table.symbols(), false).map_err(too_large)?;
        for (sym, slot) in m.iter_mut().enumerate() {
            let s = table.str(sym as Sym);
            if let Some(name) = op_key.names.get(op_key.of.get(sym).copied().unwrap_or(UNSET) as usize) {
                *slot = request.op_names.iter().any(|w| w == s || w == name);
            }
        }
        op_filter = Some(m);
    }
    let passes = |m: &Option<Vec<bool>>, sym: Sym| m.as_ref().is_none_or(|m| sym != NONE && m.get(sym as usize) == Some(&true));
    let in_time = |t: i64| t != NO_INSTANT && request.start.is_none_or(|s| t >= s) && request.end.is_none_or(|e| t < e);

    // The calls counted, and the range they span.
    let mut counted: Vec<(u32, i64)> = Vec::new();
    let mut undated = 0u64;
    for k in 0..n {
        let Some(c) = rec(k) else { continue };
        let Some(s) = calls.get(k).and_then(|&i| extra.get(i as usize)) else { continue };
        if request.trace_roots_only && absorbed(k) {
            continue;
        }
        if !(passes(&op_filter, s.op) && passes(&users, s.user) && passes(&threads, s.thread)) {
            continue;
        }
        if c.started == NO_INSTANT {
            undated += 1;
            continue;
        }
        if in_time(c.started) {
            reserve(&mut counted, 1).map_err(too_large)?;
            counted.push((k as u32, c.started));
        }
    }
    let first = request.start.or_else(|| counted.iter().map(|c| c.1).min());
    let last = request.end.or_else(|| counted.iter().map(|c| c.1).max().map(|t| t.saturating_add(1)));
    let bounds = match (first, last) {
        (Some(s), Some(e)) => buckets(s, e, request.granularity, &request.timezone, MAX_BUCKETS)?,
        _ => Vec::new(),
    };
    let nb = bounds.len().saturating_sub(1);

    // Groups: the group_by keys but model.
    let call_keys: Vec<GroupKey> = request.group_by.iter().copied().filter(|k| *k != GroupKey::Model).collect();
    let by_model = request.group_by.contains(&GroupKey::Model);
    let key_of = |k: usize, key: GroupKey| -> u32 {
        let s = calls.get(k).and_then(|&i| extra.get(i as usize));
        match key {
            GroupKey::OpName => s.map_or(UNSET, |s| op_key.of.get(s.op as usize).copied().unwrap_or(UNSET)),
            GroupKey::User => s.map_or(NONE, |s| s.user),
            GroupKey::Thread => s.map_or(NONE, |s| s.thread),
            GroupKey::RootOpName => {
                let r = root.get(k).copied().unwrap_or(k as u32) as usize;
                let s = calls.get(r).and_then(|&i| extra.get(i as usize));
                s.map_or(UNSET, |s| op_key.of.get(s.op as usize).copied().unwrap_or(UNSET))
            }
            GroupKey::Model => NONE,
        }
    };
    // Each counted call's key tuple; equal tuples (found by sorting, not
    // by hashing input) are one group.
    let tuples: Vec<[u32; 4]> = collect(
        counted.len(),
        counted.iter().map(|&(k, _)| {
            let mut tuple = [UNSET; 4];
            for (slot, key) in tuple.iter_mut().zip(&call_keys) {
                *slot = key_of(k as usize, *key);
            }
            tuple
        }),
    )
    .map_err(too_large)?;
    let mut by_tuple: Vec<u32> = collect(counted.len(), 0..counted.len() as u32).map_err(too_large)?;
    let tuple_at = |i: u32| tuples.get(i as usize).copied().unwrap_or([UNSET; 4]);
    sort_by(&mut by_tuple, &|a, b| tuple_at(a).cmp(&tuple_at(b)));
    let mut group_of = filled(counted.len(), 0u32).map_err(too_large)?;
    let mut groups: Vec<[u32; 4]> = Vec::new();
    for &i in &by_tuple {
        if groups.last() != Some(&tuple_at(i)) {
            reserve(&mut groups, 1).map_err(too_large)?;
            groups.push(tuple_at(i));
        }
        if let Some(g) = group_of.get_mut(i as usize) {
            *g = (groups.len() - 1) as u32;
        }
    }
    drop((by_tuple, tuples));
    // Without keys there is one group, with or without calls: every bucket
    // has its row.
    if call_keys.is_empty() && groups.is_empty() {
        reserve(&mut groups, 1).map_err(too_large)?;
        groups.push([UNSET; 4]);
    }
    let mut rows: Vec<Counted> = Vec::new();
    for (&(k, t), &g) in counted.iter().zip(&group_of) {
        let b = bounds.partition_point(|&(s, _)| s <= t).saturating_sub(1) as u32;
        reserve(&mut rows, 1).map_err(too_large)?;
        rows.push(Counted { bucket: b, group: g, call: k });
    }
    drop(group_of);

    // What each counted call brings: its own usage, or with
    // trace_roots_only its tree's (the root's dedupe total).
    let empty = Usage::default();
    let usage_of = |k: usize| -> &Usage {
        if request.trace_roots_only {
            rolled.usage.get(k).unwrap_or(&empty)
        } else {
            exclusive.get(k).unwrap_or(&empty)
        }
    };

    // Ranking for `limit`: by cost (with costs) or total tokens, then calls,
    // then keys. The ranked unit: call groups, or models when model is the
    // only key.
    let rank_models = call_keys.is_empty() && by_model;
    let measure = |t: &Totals| if request.include_costs { t.costs.iter().sum::<f64>() } else { t.tokens[3] as f64 };
    let mut group_weight = filled(groups.len(), (0f64, 0u64)).map_err(too_large)?;
    let mut model_weight = filled(if rank_models { table.symbols() } else { 0 }, 0f64).map_err(too_large)?;
    for r in &rows {
        let w = group_weight.get_mut(r.group as usize);
        let u = usage_of(r.call as usize);
        let total: f64 = u.iter().map(|(_, t)| measure(t)).sum();
        if let Some(w) = w {
            w.0 += total;
            w.1 += 1;
        }
        if rank_models {
            for (m, t) in u.iter() {
                if let Some(x) = model_weight.get_mut(*m as usize) {
                    *x += measure(t);
                }
            }
        }
    }
    let key_text = |v: u32, key: GroupKey| -> Option<&str> {
        match key {
            GroupKey::OpName | GroupKey::RootOpName => op_key.names.get(v as usize).map(String::as_str),
            _ if v == NONE => None,
            _ => Some(table.str(v)),
        }
    };
    let mut order: Vec<u32> = collect(groups.len(), 0..groups.len() as u32).map_err(too_large)?;
    let cmp_keys = |a: &[u32; 4], b: &[u32; 4]| {
        call_keys
            .iter()
            .zip(a.iter().zip(b))
            .map(|(key, (x, y))| key_text(*x, *key).cmp(&key_text(*y, *key)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    sort_by(&mut order, &|a, b| {
        let (wa, wb) =
            (group_weight.get(a as usize).copied().unwrap_or_default(), group_weight.get(b as usize).copied().unwrap_or_default());
        wb.0.total_cmp(&wa.0).then(wb.1.cmp(&wa.1)).then_with(|| match (groups.get(a as usize), groups.get(b as usize)) {
            (Some(x), Some(y)) => cmp_keys(x, y),
            _ => std::cmp::Ordering::Equal,
        })
    });
    let kept = match request.limit {
        Some(l) if !rank_models => (l as usize).min(order.len()),
        _ => order.len(),
    };
    let has_other = kept < order.len();
    let mut out_group = filled(groups.len(), 0u32).map_err(too_large)?;
    for (i, &g) in order.iter().enumerate() {
        if let Some(o) = out_group.get_mut(g as usize) {
            *o = i.min(kept) as u32;
        }
    }
    let n_groups = kept + usize::from(has_other);

    // Models: those with usage in a counted call, ranked likewise.
    let mut models: Vec<Sym> = Vec::new();
    if by_model {
        let mut seen = filled(table.symbols(), false).map_err(too_large)?;
        for r in &rows {
            for (m, _) in usage_of(r.call as usize).iter() {
                if let Some(s) = seen.get_mut(*m as usize) {
                    if !*s {
                        *s = true;
                        reserve(&mut models, 1).map_err(too_large)?;
                        models.push(*m);
                    }
                }
            }
        }
        let weight = |m: Sym| model_weight.get(m as usize).copied().unwrap_or(0.0);
        sort_by(&mut models, &|a, b| weight(b).total_cmp(&weight(a)).then_with(|| table.bytes(a).cmp(table.bytes(b))));
    }
    let (kept_models, other_model) = match request.limit {
        Some(l) if rank_models && (l as usize) < models.len() => (l as usize, true),
        _ => (models.len(), false),
    };
    let n_models = if by_model { kept_models + usize::from(other_model) } else { 1 };
    let mut model_at = filled(if by_model { table.symbols() } else { 0 }, 0u32).map_err(too_large)?;
    for (i, &m) in models.iter().enumerate() {
        if let Some(x) = model_at.get_mut(m as usize) {
            *x = i.min(kept_models) as u32;
        }
    }

    let usage_rows = nb.saturating_mul(n_groups).saturating_mul(n_models);
    if nb.saturating_mul(n_groups) > MAX_ROWS || usage_rows > MAX_ROWS {
        return Err(UsageError::invalid(
            vec![Loc::from("body"), Loc::from("group_by")],
            Kind::ValueError,
            format!(
                "Value error, the answer would have {} rows ({nb} buckets × {n_groups} groups × {n_models} models), more than {MAX_ROWS}: set a limit, a coarser granularity or a shorter range",
                usage_rows.max(nb.saturating_mul(n_groups))
            ),
        ));
    }
    let zero = Totals { tokens: [0; 6], costs: [0.0; 4] };
    let mut usage = filled(usage_rows, zero).map_err(too_large)?;
    let mut counts = filled(nb.saturating_mul(n_groups), CallCounts::default()).map_err(too_large)?;
    for r in &rows {
        let g = out_group.get(r.group as usize).copied().unwrap_or(0) as usize;
        let b = r.bucket as usize;
        let k = r.call as usize;
        let u = usage_of(k);
        if let Some(c) = counts.get_mut(b * n_groups + g) {
            c.calls += 1;
            let call = rec(k);
            let s = calls.get(k).and_then(|&i| extra.get(i as usize));
            c.errors += u64::from(s.is_some_and(|s| s.error));
            c.unfinished += u64::from(call.is_some_and(|c| !c.ended));
            c.requests = u.iter().fold(c.requests, |n, (_, t)| n.saturating_add(t.tokens[0]));
        }
        for (m, t) in u.iter() {
            let mi = if by_model { model_at.get(*m as usize).copied().unwrap_or(0) as usize } else { 0 };
            if let Some(x) = usage.get_mut((b * n_groups + g) * n_models + mi) {
                for (a, v) in x.tokens.iter_mut().zip(t.tokens) {
                    *a = a.saturating_add(v);
                }
                for (a, v) in x.costs.iter_mut().zip(t.costs) {
                    *a += v;
                }
            }
        }
    }

    // The answer's parts, as text.
    let group_texts: Vec<Vec<Option<String>>> = collect(
        n_groups,
        (0..n_groups).map(|i| match order.get(i) {
            Some(&g) if i < kept => {
                let tuple = groups.get(g as usize).copied().unwrap_or([UNSET; 4]);
                call_keys.iter().zip(tuple).map(|(key, v)| key_text(v, *key).map(String::from)).collect()
            }
            _ => vec![None; call_keys.len()],
        }),
    )
    .map_err(too_large)?;
    let model_texts: Vec<Option<String>> =
        collect(n_models, (0..n_models).map(|i| models.get(i).filter(|_| i < kept_models).map(|&m| table.str(m).to_string())))
            .map_err(too_large)?;
    Ok(StatsRes {
        bounds,
        granularity: request.granularity.name(),
        timezone: request.timezone.clone(),
        include_costs: request.include_costs,
        call_keys: call_keys.iter().map(|k| k.name()).collect(),
        by_model,
        groups: group_texts,
        other_group: has_other,
        models: model_texts,
        other_model,
        usage: usage.into_iter().map(|t| (t.tokens, t.costs)).collect(),
        calls: counts.into_iter().map(|c| [c.calls as i128, c.errors as i128, c.unfinished as i128, c.requests]).collect(),
        undated_calls: undated,
    })
}

/// Op names numbered by their `NAME`: `of[sym]` for each symbol that is a
/// live call's op name (`UNSET` for others and for no op name), `names`
/// the text of each number.
#[derive(Default)]
struct OpKeys {
    of: Vec<u32>,
    names: Vec<String>,
}

fn op_names(table: &CallTable, extra: &[crate::calls::StatsRec], calls: &[u32]) -> Result<OpKeys, UsageError> {
    let too_large = |e| table.too_large(e);
    let mut of = filled(table.symbols(), UNSET).map_err(too_large)?;
    // Refs differ by digest, so there may be as many refs as calls but only
    // a few names: each ref's NAME is numbered through a keyed hash table,
    // and only the distinct names are sorted.
    let mut number: HashMap<&str, u32, RandomKeys> = HashMap::with_hasher(RandomKeys::default());
    let mut texts: Vec<&str> = Vec::new();
    for s in calls.iter().filter_map(|&i| extra.get(i as usize)) {
        if s.op == NONE || of.get(s.op as usize) != Some(&UNSET) {
            continue;
        }
        let name = op_name(table.str(s.op));
        let n = match number.get(name) {
            Some(&n) => n,
            None => {
                number.try_reserve(1).map_err(|_| too_large(Exhausted { bytes: 32 }))?;
                reserve(&mut texts, 1).map_err(too_large)?;
                // Fewer names than symbols, and symbols are u32.
                debug_assert!(u32::try_from(texts.len()).is_ok());
                let n = texts.len() as u32;
                texts.push(name);
                number.insert(name, n);
                n
            }
        };
        if let Some(x) = of.get_mut(s.op as usize) {
            *x = n;
        }
    }
    drop(number);
    let mut order: Vec<u32> = collect(texts.len(), 0..texts.len() as u32).map_err(too_large)?;
    let text = |i: u32| texts.get(i as usize).copied().unwrap_or_default();
    sort_by(&mut order, &|a, b| text(a).cmp(text(b)));
    // rank[first-seen number] = position in name order.
    let mut rank = filled(texts.len(), 0u32).map_err(too_large)?;
    let mut names: Vec<String> = Vec::new();
    for (at, &i) in order.iter().enumerate() {
        if let Some(r) = rank.get_mut(i as usize) {
            *r = at as u32;
        }
        reserve(&mut names, 1).map_err(too_large)?;
        names.push(text(i).to_string());
    }
    for x in of.iter_mut().filter(|x| **x != UNSET) {
        *x = rank.get(*x as usize).copied().unwrap_or(UNSET);
    }
    Ok(OpKeys { of, names })
}

/// `NAME` of `weave:///entity/project/op/NAME:digest`; anything else as it is.
pub fn op_name(op: &str) -> &str {
    let Some(rest) = op.strip_prefix("weave:///") else { return op };
    // entity / project / kind / NAME:digest
    let mut parts = rest.splitn(4, '/');
    let (Some(_), Some(_), Some("op"), Some(tail)) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return op };
    tail.rsplit_once(':').map_or(tail, |(name, _)| name)
}

/// Bucket boundaries in a fixed offset from UTC (`"UTC"`, `"Z"`,
/// `"+05:30"`, `"-08:00"`): the native [`Buckets`] (JavaScript computes
/// them for any IANA zone).
pub fn fixed_offset_buckets(
    start: i64,
    end: i64,
    granularity: Granularity,
    timezone: &str,
    max: usize,
) -> Result<Vec<(i64, i32)>, UsageError> {
    let Some(offset) = fixed_offset(timezone) else {
        return Err(UsageError::invalid(
            vec![Loc::from("body"), Loc::from("timezone")],
            Kind::ValueError,
            format!("Value error, unknown time zone {timezone:?} (natively only UTC and fixed offsets like +05:30)"),
        ));
    };
    const MIN: i64 = 60_000_000;
    const DAY: i64 = 1440 * MIN;
    let local = |t: i64| t + i64::from(offset) * MIN;
    let utc = |l: i64| l - i64::from(offset) * MIN;
    // Floor of `start` in local time.
    let l = local(start);
    let days = l.div_euclid(DAY);
    let first = match granularity {
        Granularity::Hour => l.div_euclid(60 * MIN) * 60 * MIN,
        Granularity::Day => days * DAY,
        // 1970-01-01 was a Thursday: Monday is 3 days earlier.
        Granularity::Week => (days + 3).div_euclid(7) * 7 * DAY - 3 * DAY,
        Granularity::Month => {
            let (y, m, _) = crate::input::time::civil_from_days(days);
            crate::input::time::days_from_civil(y, m, 1) * DAY
        }
    };
    let mut out = Vec::new();
    let mut at = first;
    loop {
        if out.len() > max {
            return Err(too_many_buckets(max, granularity));
        }
        out.push((utc(at), offset));
        if utc(at) >= end {
            return Ok(out);
        }
        at = match granularity {
            Granularity::Hour => at + 60 * MIN,
            Granularity::Day => at + DAY,
            Granularity::Week => at + 7 * DAY,
            Granularity::Month => {
                let (y, m, _) = crate::input::time::civil_from_days(at.div_euclid(DAY));
                let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                crate::input::time::days_from_civil(y, m, 1) * DAY
            }
        };
    }
}

/// The 422 for a range of more than `max` buckets.
pub fn too_many_buckets(max: usize, granularity: Granularity) -> UsageError {
    UsageError::invalid(
        vec![Loc::from("body"), Loc::from("granularity")],
        Kind::ValueError,
        format!(
            "Value error, more than {max} buckets of a {} between start and end: choose a coarser granularity or a shorter range",
            granularity.name()
        ),
    )
}

/// Minutes east of UTC for `"UTC"`, `"Z"`, `"±HH:MM"`.
pub fn fixed_offset(tz: &str) -> Option<i32> {
    if tz == "UTC" || tz == "Z" || tz == "Etc/UTC" {
        return Some(0);
    }
    let b = tz.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = tz.get(1..)?.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 23 && m <= 59).then_some(sign * (h * 60 + m))
}

//! The calls' listing (this library's extension; docs/stats.md, "Listing
//! the calls"): which calls a table holds, for a page that lets its user
//! pick the roots to ask about, without reading the body a second time.
//!
//! [`calls_query`] lists the live calls of a project, the same calls every
//! answer counts (not deleted, of the project or of none, the last of
//! several with one id), narrowed by `filter`, in the server's order, cut to
//! `limit`; each with its trace's size. It needs a table made for stats,
//! which holds op names and display names. [`projects`] says which projects
//! the calls name, and how many of the calls each project counts name it;
//! any table answers it.
//!
//! Everything is linear in the calls and symbols: per-symbol arrays, no
//! hash table, one sort.

use super::order::sort_by;
use super::scope::{live_calls, marks, passes, project_sym, select, UNSET};
use crate::calls::{CallTable, Sym, NONE, NO_INSTANT};
use crate::error::{Kind, Loc, UsageError};
use crate::input::CallsQueryRequest;
use crate::limits::{answer_out_of_memory, collect, filled, reserve_exact};
use crate::response::{CallsQueryRes, ListedCall, ProjectsRes};

/// Lists the calls `request` asks for (a 409 when `table` was not made for
/// stats, a 413 when the calls leave too little memory, a 500 when the
/// answer is too long).
pub fn calls_query<'t>(table: &'t CallTable, request: &CallsQueryRequest) -> Result<CallsQueryRes<'t>, UsageError> {
    let Some(extra) = table.stats() else {
        return Err(UsageError { status: 409, ..UsageError::invalid_as(vec![Loc::from("accumulator")], Kind::NotForStats) });
    };
    let too_large = |e| table.too_large(e);
    let all = table.calls();
    let live = live_calls(table, project_sym(table, &request.project_id)).map_err(too_large)?;
    // Per trace symbol, its live calls.
    let mut sizes = filled(table.symbols(), 0u32).map_err(too_large)?;
    for (i, c) in all.iter().enumerate() {
        if live.get(c.id as usize) == Some(&(i as u32)) {
            if let Some(n) = sizes.get_mut(c.trace as usize) {
                *n += 1;
            }
        }
    }
    let traces = marks(table, &request.trace_ids).map_err(too_large)?;
    let ids = marks(table, &request.call_ids).map_err(too_large)?;
    let keep =
        |c: &crate::calls::CallRec| passes(&traces, c.trace) && passes(&ids, c.id) && (!request.trace_roots_only || c.parent == NONE);
    let scope = select(table, &live, request.limit.unwrap_or(u64::MAX), keep).map_err(too_large)?;
    drop((live, traces, ids));
    let text = |sym: Sym| (sym != NONE).then(|| table.str(sym));
    let mut calls = Vec::new();
    reserve_exact(&mut calls, scope.calls.len()).map_err(answer_out_of_memory)?;
    for &i in &scope.calls {
        let (Some(c), Some(s)) = (all.get(i as usize), extra.get(i as usize)) else {
            debug_assert!(false, "the scope names the table's calls, each with its stats record");
            continue;
        };
        calls.push(ListedCall {
            id: table.str(c.id),
            trace_id: table.str(c.trace),
            parent_id: text(c.parent),
            project_id: text(c.project),
            op_name: text(s.op),
            display_name: text(s.display),
            started: (c.started != NO_INSTANT).then_some(c.started),
            ended: c.ended,
            has_exception: s.error,
            trace_calls: u64::from(sizes.get(c.trace as usize).copied().unwrap_or(0)),
        });
    }
    Ok(CallsQueryRes { calls })
}

/// The projects the calls name, each with how many calls count for it (as
/// [`calls_query`] lists them) and name it, most first, then by id (a 413
/// when the calls leave too little memory).
///
/// An id counts for project P through its latest live record of P or of
/// no project; so, walking each id's records latest first, P gets the id
/// when a record of P comes before any record of no project.
pub fn projects(table: &CallTable) -> Result<ProjectsRes<'_>, UsageError> {
    let too_large = |e| table.too_large(e);
    let all = table.calls();
    // Each id's records as a chain, latest first: `latest` per symbol,
    // `earlier` per record.
    let mut latest = filled(table.symbols(), UNSET).map_err(too_large)?;
    let mut earlier = filled(all.len(), UNSET).map_err(too_large)?;
    for (i, c) in all.iter().enumerate() {
        if let (Some(l), Some(e)) = (latest.get_mut(c.id as usize), earlier.get_mut(i)) {
            *e = *l;
            *l = i as u32;
        }
    }
    // Per project symbol: its count, and the id it last counted (an id is
    // counted once per project however many of its records name it).
    let mut count = filled(table.symbols(), 0u32).map_err(too_large)?;
    let mut counted = filled(table.symbols(), UNSET).map_err(too_large)?;
    for &head in latest.iter().filter(|&&h| h != UNSET) {
        let mut at = head;
        while let Some(c) = all.get(at as usize) {
            if !c.deleted {
                if c.project == NONE {
                    break;
                }
                if let (Some(n), Some(last)) = (count.get_mut(c.project as usize), counted.get_mut(c.project as usize)) {
                    if *last != c.id {
                        *last = c.id;
                        *n += 1;
                    }
                }
            }
            at = earlier.get(at as usize).copied().unwrap_or(UNSET);
        }
    }
    drop((latest, earlier, counted));
    let named = count.iter().filter(|&&n| n > 0).count();
    let mut order: Vec<u32> =
        collect(named, (0..count.len() as u32).filter(|&p| count.get(p as usize).is_some_and(|&n| n > 0))).map_err(too_large)?;
    let calls = |p: u32| count.get(p as usize).copied().unwrap_or(0);
    sort_by(&mut order, &|a, b| calls(b).cmp(&calls(a)).then_with(|| table.bytes(a).cmp(table.bytes(b))));
    let projects = collect(order.len(), order.iter().map(|&p| (table.str(p), u64::from(calls(p))))).map_err(answer_out_of_memory)?;
    Ok(ProjectsRes { projects })
}

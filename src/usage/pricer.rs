//! Pricing a call's usage from `options.prices` the way the reference's
//! in-memory server does it (`_apply_costs_to_calls` /
//! `_pick_best_cost_row`, weave 0.53.0):
//!
//! - only the project's rows (`pricing_level` `"project"`, `pricing_level_id`
//!   the request's project) and the default rows (`"default"`/`"default"`)
//!   apply; other rows are ignored;
//! - of a model's rows, the best is the first (in the order given) with the
//!   least (rows taking effect after the call's `started_at` last; project
//!   before default; latest `effective_date` first);
//! - the prompt cost charges `prompt_tokens − cache_read − cache_creation`
//!   at the prompt rate, the cache tokens at their own rates, a missing or
//!   null rate being 0.
//!
//! Where the reference fails: a call without a readable `started_at` (the
//! reference asserts one exists) is priced as if it started after every row
//! took effect.

use std::collections::HashMap;

use super::order::stable;
use crate::calls::{CallTable, Costs, Sym, UsageRec, COMPLETION, PROMPT};
use crate::hash::RandomKeys;
use crate::input::{Level, PriceRow};

/// The rows that apply to a request's project, by model, ready to price a
/// call's usage.
pub struct Pricer<'r> {
    /// Per model symbol: its applicable rows by level (project, then
    /// default), each list sorted by effective date and, for equal dates,
    /// in the order given; so a call's row is found by binary search, not by
    /// scanning every row of its model for every call.
    by_model: HashMap<Sym, [Vec<Dated<'r>>; 2], RandomKeys>,
}

/// A row and its effective date (microseconds), the key it is sorted by.
type Dated<'r> = (i64, &'r PriceRow);

impl<'r> Pricer<'r> {
    /// Keeps the rows that apply to `project`, for the models the table has
    /// seen (a model no call names can never be priced).
    pub fn new(rows: &'r [PriceRow], table: &CallTable, project: &str) -> Pricer<'r> {
        let mut by_model: HashMap<Sym, [Vec<Dated<'r>>; 2], RandomKeys> = HashMap::default();
        for row in rows {
            let rank = match (row.level, row.level_id.as_deref()) {
                (Level::Project, None) => 0,
                (Level::Project, Some(id)) if id == project => 0,
                (Level::Default, None | Some("default")) => 1,
                _ => continue,
            };
            if let Some(model) = table.lookup(&row.llm_id) {
                if let Some(level) = by_model.entry(model).or_default().get_mut(rank) {
                    level.push((row.effective, row));
                }
            }
        }
        for levels in by_model.values_mut() {
            for level in levels.iter_mut() {
                // Stable: rows of one date stay in the order given.
                *level = stable(std::mem::take(level), |a, b| a.0.cmp(&b.0));
            }
        }
        Pricer { by_model }
    }

    /// Whether any row applies to `model`.
    pub fn has_rows(&self, model: Sym) -> bool {
        self.by_model.contains_key(&model)
    }

    /// The row that prices `model` for a call that started at `started`
    /// (microseconds; `NO_INSTANT`, after everything, when unknown).
    ///
    /// The reference takes Python's min() of (is_future, level rank,
    /// -effective) over the rows in the order given, the first of equal keys
    /// winning: a row in effect at `started` (of the project's level if it
    /// has one, else the default's), the latest such date, the first given of
    /// that date; when every row takes effect later, the same without the
    /// date bound.
    pub fn best(&self, model: Sym, started: i64) -> Option<&'r PriceRow> {
        let levels = self.by_model.get(&model)?;
        levels.iter().find_map(|rows| latest(rows, started)).or_else(|| levels.iter().find_map(|rows| latest(rows, i64::MAX)))
    }

    /// The four `*_total_cost` values of one usage entry of a call that
    /// started at `started`, or `None` when no row applies.
    pub fn costs(&self, usage: &UsageRec, started: i64) -> Option<Costs> {
        let row = self.best(usage.model, started)?;
        let [prompt_rate, completion_rate, read_rate, creation_rate] = row.rates;
        let (read, creation) = (usage.tokens[4], usage.tokens[5]);
        // Python subtracts exact integers, then multiplies as a float.
        let uncached = usage.tokens[PROMPT].saturating_sub(read).saturating_sub(creation);
        Some([
            uncached as f64 * prompt_rate,
            usage.tokens[COMPLETION] as f64 * completion_rate,
            read as f64 * read_rate,
            creation as f64 * creation_rate,
        ])
    }
}

/// Of `rows` (sorted by date, stable), the first given of those with the
/// latest date not after `at`.
fn latest<'r>(rows: &[Dated<'r>], at: i64) -> Option<&'r PriceRow> {
    let after = rows.partition_point(|&(effective, _)| effective <= at);
    let date = rows.get(after.checked_sub(1)?)?.0;
    let first = rows.partition_point(|&(effective, _)| effective < date);
    rows.get(first).map(|&(_, row)| row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::NO_INSTANT;

    fn best_by_scan<'r>(rows: &'r [PriceRow], project: &str, model: &str, started: i64) -> Option<&'r PriceRow> {
        let mut applicable = rows.iter().filter(|row| row.llm_id == model).filter_map(|row| {
            let rank = match (row.level, row.level_id.as_deref()) {
                (Level::Project, None) => 0,
                (Level::Project, Some(id)) if id == project => 0,
                (Level::Default, None | Some("default")) => 1,
                _ => return None,
            };
            Some((rank, row))
        });
        let key = |&(rank, row): &(u8, &PriceRow)| (row.effective > started, rank, std::cmp::Reverse(row.effective));
        let mut best = applicable.next()?;
        for candidate in applicable {
            if key(&candidate) < key(&best) {
                best = candidate;
            }
        }
        Some(best.1)
    }

    #[test]
    fn the_index_picks_exactly_the_row_the_scan_picks() {
        let mut state = 0x2545_f491u32;
        let mut next = move |n: u32| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state % n
        };
        let mut table = CallTable::new(false);
        table.intern(b"a").unwrap();
        table.intern(b"b").unwrap();
        let level_ids = [None, Some("p"), Some("q"), Some("default")];
        let mut compared = 0;
        for round in 0..3000 {
            // Few dates, so that ties (one date, several rows) are common.
            let rows: Vec<PriceRow> = (0..next(24))
                .map(|_| PriceRow {
                    llm_id: ["a", "b", "c"][next(3) as usize].to_string(),
                    rates: [f64::from(next(1000)), 0.0, 0.0, 0.0],
                    effective: i64::from(next(5)) * 10,
                    level: if next(2) == 0 { Level::Project } else { Level::Default },
                    level_id: level_ids[next(4) as usize].map(str::to_string),
                })
                .collect();
            let pricer = Pricer::new(&rows, &table, "p");
            for started in [i64::MIN, -1, 0, 5, 10, 15, 20, 30, 40, 41, NO_INSTANT] {
                for model in ["a", "b"] {
                    let sym = table.lookup(model).unwrap();
                    let (got, want) = (pricer.best(sym, started), best_by_scan(&rows, "p", model, started));
                    assert!(
                        got.map(|r| r as *const PriceRow) == want.map(|r| r as *const PriceRow),
                        "round {round}, {model} at {started}: {got:?} != {want:?}"
                    );
                    assert_eq!(pricer.has_rows(sym), want.is_some());
                    compared += usize::from(want.is_some());
                }
            }
        }
        assert!(compared > 40_000, "compared {compared}");
    }

    #[test]
    fn forty_thousand_rows_of_one_model_price_forty_thousand_calls_quickly() {
        // Each call (one a second) is priced by the row that took effect at
        // its start: rows one second apart, the project's on odd seconds.
        let n = 40_000;
        let mut table = CallTable::new(false);
        let model = table.intern(b"m").unwrap();
        let rows: Vec<PriceRow> = (0..n)
            .map(|i| PriceRow {
                llm_id: "m".into(),
                rates: [i as f64, 0.0, 0.0, 0.0],
                effective: i * 1_000_000,
                level: if i % 2 == 1 { Level::Project } else { Level::Default },
                level_id: None,
            })
            .collect();
        let pricer = Pricer::new(&rows, &table, "p");
        let usage = UsageRec { model, tokens: [1, 1, 0, 1, 0, 0], costs: [0.0; 4], flags: 0 };
        for i in 0..n {
            // The latest project row in effect; before the first one, the default row of second 0.
            let want = if i == 0 {
                0
            } else if i % 2 == 1 {
                i
            } else {
                i - 1
            };
            assert_eq!(pricer.costs(&usage, i * 1_000_000 + 999_999), Some([want as f64, 0.0, 0.0, 0.0]), "call {i}");
        }
    }
}

//! A part: some of a table's calls as bytes, so that a body read in
//! pieces (each by its own module instance, in its own worker) can be put
//! back into one table whose answers are those of the whole body read at
//! once. `js/parallel.js` splits the body, has each piece read into a
//! table, asks each for the part a request needs (its calls in the
//! requested traces, and every call sharing an id with one of those), and
//! imports the parts, in body order, into one table.
//!
//! A part holds the records as the table holds them (exact integers, costs
//! as f64 bits, flags, the values read as 0 because unreadable), so nothing
//! is read twice and no value can change on the way; its strings are its
//! own, numbered in order of first use. Little-endian:
//!
//! ```text
//! "WUP1"  u32 byte length of the part  u32 strings  u32 calls  u32 usage  u32 unreadable
//! strings:    u32 length, UTF-8 bytes
//! calls:      u32 id, trace, parent, project (NONE: absent); i64 started; u32 usage entries; u32 flags (1 ended, 2 deleted)
//! usage:      u32 model, u32 flags, 6 × i128 tokens, 4 × f64 costs
//! unreadable: u32 call (in this part), model, field
//! ```
//!
//! A table made for stats writes "WUS2" instead, and after the unreadable
//! values each call's stats fields:
//!
//! ```text
//! stats:      u32 op, user, thread, display (NONE: absent); u32 flags (1 exception)
//! ```
//!
//! Parts come from the caller, so importing checks everything a table's
//! invariants need: a malformed part is an error, never a wrong symbol.
//! The parts of one import all have stats fields or none do; a table
//! imports them as it was made (a table without stats drops them).

use super::{CallRec, CallTable, StatsRec, Sym, Unreadable, UsageRec, NONE};
use crate::limits::{filled, reserve, Exhausted};

const MAGIC: &[u8; 4] = b"WUP1";
/// The magic of a part with stats fields.
const MAGIC_STATS: &[u8; 4] = b"WUS2";
const HEADER: usize = 24;
const CALL: usize = 32;
const STATS: usize = 20;
const EXCEPTION: u32 = 1;
const USAGE: usize = 8 + 6 * 16 + 4 * 8;
const UNREADABLE: usize = 12;
const ENDED: u32 = 1;
const DELETED: u32 = 2;

/// Whether `parts` (back to back) start with a part that has stats fields.
pub fn parts_have_stats(parts: &[u8]) -> bool {
    parts.get(..4) == Some(MAGIC_STATS.as_slice())
}

/// Why parts could not be imported.
#[derive(Debug)]
pub enum PartError {
    /// Not a part as [`CallTable::part`] writes it: what is wrong.
    Malformed(&'static str),
    Memory(Exhausted),
}

impl From<Exhausted> for PartError {
    fn from(e: Exhausted) -> Self {
        PartError::Memory(e)
    }
}

/// Which calls go into a part.
pub enum Select<'a> {
    All,
    /// The calls of these traces, and those with these ids.
    Of {
        traces: &'a [String],
        ids: &'a [String],
    },
}

impl CallTable {
    /// The calls `select` names, in table order, as a part.
    pub fn part(&self, select: &Select<'_>) -> Result<Vec<u8>, Exhausted> {
        // Per symbol: 1 a wanted trace, 2 a wanted id.
        let mut wanted = Vec::new();
        if let Select::Of { traces, ids } = select {
            wanted = filled(self.symbols(), 0u8)?;
            for (names, bit) in [(traces, 1u8), (ids, 2u8)] {
                for s in names.iter() {
                    if let Some(w) = self.lookup(s).and_then(|sym| wanted.get_mut(sym as usize)) {
                        *w |= bit;
                    }
                }
            }
        }
        let flag = |sym: Sym| wanted.get(sym as usize).copied().unwrap_or(0);
        let keep = |c: &CallRec| matches!(select, Select::All) || flag(c.trace) & 1 != 0 || flag(c.id) & 2 != 0;

        // The part's symbols, numbered in order of first use.
        let mut local = filled(self.symbols(), NONE)?;
        let mut order: Vec<Sym> = Vec::new();
        let mut text = 0usize;
        let (mut calls, mut usage) = (0usize, 0usize);
        let mut name = |sym: Sym, order: &mut Vec<Sym>, text: &mut usize| -> Result<(), Exhausted> {
            if let Some(slot) = local.get_mut(sym as usize).filter(|s| **s == NONE) {
                *slot = order.len() as u32;
                reserve(order, 1)?;
                order.push(sym);
                *text += 4 + self.bytes(sym).len();
            }
            Ok(())
        };
        let stats = self.stats();
        let stats_of = |i: usize| stats.and_then(|s| s.get(i));
        debug_assert!(stats.is_none_or(|s| s.len() == self.calls.len()), "a stats table has one stats record per call");
        for (i, c) in self.calls.iter().enumerate().filter(|(_, c)| keep(c)) {
            calls += 1;
            let fields = stats_of(i).map_or([NONE; 4], |s| [s.op, s.user, s.thread, s.display]);
            for sym in [c.id, c.trace, c.parent, c.project].into_iter().chain(fields) {
                if sym != NONE {
                    name(sym, &mut order, &mut text)?;
                }
            }
            for u in self.usage_of(c) {
                usage += 1;
                name(u.model, &mut order, &mut text)?;
            }
        }
        // The unreadable values of kept calls, with their index in the part.
        let mut unreadable: Vec<Unreadable> = Vec::new();
        if !self.unreadable.is_empty() {
            let mut index = filled(self.calls.len(), NONE)?;
            let mut n = 0u32;
            for (i, c) in self.calls.iter().enumerate() {
                if keep(c) {
                    if let Some(slot) = index.get_mut(i) {
                        *slot = n;
                    }
                    n += 1;
                }
            }
            for u in &self.unreadable {
                let at = index.get(u.call as usize).copied().unwrap_or(NONE);
                if at != NONE {
                    name(u.model, &mut order, &mut text)?;
                    reserve(&mut unreadable, 1)?;
                    unreadable.push(Unreadable { call: at, ..*u });
                }
            }
        }
        let stats_size = if stats.is_some() { calls * STATS } else { 0 };
        let size = HEADER + text + calls * CALL + usage * USAGE + unreadable.len() * UNREADABLE + stats_size;
        let mut out = Vec::new();
        crate::limits::reserve_exact(&mut out, size)?;
        out.extend_from_slice(if stats.is_some() { MAGIC_STATS } else { MAGIC });
        for n in [size, order.len(), calls, usage, unreadable.len()] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for &sym in &order {
            let b = self.bytes(sym);
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        let to_local = |sym: Sym| if sym == NONE { NONE } else { local.get(sym as usize).copied().unwrap_or(NONE) };
        for c in self.calls.iter().filter(|c| keep(c)) {
            for sym in [c.id, c.trace, c.parent, c.project] {
                out.extend_from_slice(&to_local(sym).to_le_bytes());
            }
            out.extend_from_slice(&c.started.to_le_bytes());
            out.extend_from_slice(&c.usage.1.to_le_bytes());
            let flags = if c.ended { ENDED } else { 0 } | if c.deleted { DELETED } else { 0 };
            out.extend_from_slice(&flags.to_le_bytes());
        }
        for c in self.calls.iter().filter(|c| keep(c)) {
            for u in self.usage_of(c) {
                out.extend_from_slice(&to_local(u.model).to_le_bytes());
                out.extend_from_slice(&u32::from(u.flags).to_le_bytes());
                for t in u.tokens {
                    out.extend_from_slice(&t.to_le_bytes());
                }
                for x in u.costs {
                    out.extend_from_slice(&x.to_bits().to_le_bytes());
                }
            }
        }
        for u in &unreadable {
            for n in [u.call, to_local(u.model), u32::from(u.field)] {
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        if stats.is_some() {
            for (i, _) in self.calls.iter().enumerate().filter(|(_, c)| keep(c)) {
                let s = stats_of(i).copied().unwrap_or(StatsRec { op: NONE, user: NONE, thread: NONE, display: NONE, error: false });
                for n in [to_local(s.op), to_local(s.user), to_local(s.thread), to_local(s.display), if s.error { EXCEPTION } else { 0 }] {
                    out.extend_from_slice(&n.to_le_bytes());
                }
            }
        }
        debug_assert_eq!(out.len(), size, "the part is as long as its header says");
        Ok(out)
    }

    /// Appends the calls of `parts` (parts back to back, as [`CallTable::part`]
    /// writes them), in order.
    pub fn import_parts(&mut self, mut parts: &[u8]) -> Result<(), PartError> {
        // Per symbol: 1 + the last call (in the table) whose usage entries
        // named it as their model; kept across parts, grown with the symbols.
        let mut named_by = Vec::new();
        while !parts.is_empty() {
            let len = Bytes(parts).u32_at(4).ok_or(PartError::Malformed("a part's header is cut short"))? as usize;
            let has_stats = match parts.get(..4) {
                Some(m) if m == MAGIC => false,
                Some(m) if m == MAGIC_STATS => true,
                _ => return Err(PartError::Malformed("not a part (its first bytes are not \"WUP1\" or \"WUS2\")")),
            };
            // The table was made for stats (even where stats are compiled
            // out) exactly when the parts have stats fields.
            if has_stats != self.stats.is_some() {
                return Err(PartError::Malformed("parts with stats fields and parts without are mixed"));
            }
            let part =
                parts.get(..len).filter(|p| p.len() >= HEADER).ok_or(PartError::Malformed("a part is longer than the bytes given"))?;
            self.import_part(Bytes(part), has_stats, &mut named_by)?;
            parts = parts.get(len..).unwrap_or_default();
        }
        Ok(())
    }

    fn import_part(&mut self, b: Bytes<'_>, has_stats: bool, named_by: &mut Vec<u32>) -> Result<(), PartError> {
        const SHORT: PartError = PartError::Malformed("a part is shorter than its counts say");
        const ENTRIES: &str = "a part's calls and usage entries do not match";
        let count = |at: usize| b.u32_at(at).map(|n| n as usize).ok_or(SHORT);
        let (strings, calls, usage, unreadable) = (count(8)?, count(12)?, count(16)?, count(20)?);
        // Every count is bounded by the bytes present before anything is reserved for it.
        if strings.saturating_mul(4) > b.0.len()
            || calls.saturating_mul(CALL) > b.0.len()
            || usage.saturating_mul(USAGE) > b.0.len()
            || unreadable.saturating_mul(UNREADABLE) > b.0.len()
        {
            return Err(SHORT);
        }
        let mut syms = Vec::new();
        reserve(&mut syms, strings)?;
        let mut at = HEADER;
        for _ in 0..strings {
            let len = count(at)?;
            let s = at.checked_add(4).and_then(|a| Some(a..a.checked_add(len)?)).and_then(|r| b.0.get(r)).ok_or(SHORT)?;
            if std::str::from_utf8(s).is_err() {
                return Err(PartError::Malformed("a part's string is not UTF-8"));
            }
            syms.push(self.strings.intern(s)?);
            at += 4 + len;
        }
        let sym = |n: u32, optional: bool| -> Result<Sym, PartError> {
            match syms.get(n as usize) {
                Some(&s) => Ok(s),
                None if optional && n == NONE => Ok(NONE),
                None => Err(PartError::Malformed("a part names a string it does not hold")),
            }
        };
        let (calls_at, usage_at) = (at, at.saturating_add(calls * CALL));
        let unreadable_at = usage_at.saturating_add(usage * USAGE);
        let stats_at = unreadable_at.saturating_add(unreadable * UNREADABLE);
        if stats_at.saturating_add(if has_stats { calls * STATS } else { 0 }) != b.0.len() {
            return Err(PartError::Malformed("a part's length does not match its counts"));
        }
        let first_call = self.calls.len();
        let first_usage = self.usage.len();
        reserve(&mut self.calls, calls)?;
        reserve(&mut self.usage, usage)?;
        let mut next = first_usage;
        for i in 0..calls {
            let at = calls_at + i * CALL;
            let u = |k: usize| b.u32_at(at + 4 * k).ok_or(SHORT);
            let entries = u(6)?;
            let flags = u(7)?;
            if flags > (ENDED | DELETED) {
                return Err(PartError::Malformed("a part's call has unknown flags"));
            }
            let start = u32::try_from(next).map_err(|_| SHORT)?;
            next += entries as usize;
            if next - first_usage > usage {
                return Err(PartError::Malformed(ENTRIES));
            }
            self.calls.push(CallRec {
                id: sym(u(0)?, false)?,
                trace: sym(u(1)?, false)?,
                parent: sym(u(2)?, true)?,
                project: sym(u(3)?, true)?,
                started: b.i64_at(at + 16).ok_or(SHORT)?,
                ended: flags & ENDED != 0,
                deleted: flags & DELETED != 0,
                usage: (start, entries),
            });
        }
        if next - first_usage != usage {
            return Err(PartError::Malformed(ENTRIES));
        }
        // No call may name a model twice (two strings of a part may be one symbol).
        reserve(named_by, self.symbols().saturating_sub(named_by.len()))?;
        named_by.resize(self.symbols(), 0);
        let mut owner = first_call;
        let mut owner_end = first_usage;
        for i in 0..usage {
            let at = usage_at + i * USAGE;
            // Entries are in call order: step to this entry's call.
            while first_usage + i >= owner_end {
                let Some(c) = self.calls.get(owner) else { break };
                owner += 1;
                owner_end = (c.usage.0 + c.usage.1) as usize;
            }
            let model = sym(b.u32_at(at).ok_or(SHORT)?, false)?;
            if let Some(last) = named_by.get_mut(model as usize) {
                if *last == owner as u32 {
                    return Err(PartError::Malformed("a part's call names a model twice"));
                }
                *last = owner as u32;
            }
            let flags = b.u32_at(at + 4).ok_or(SHORT)?;
            let flags = u8::try_from(flags).ok().filter(|f| *f <= super::HAS_COSTS | super::PROMPT_AND_INPUT | super::UNREADABLE);
            let mut tokens = [0i128; 6];
            for (k, t) in tokens.iter_mut().enumerate() {
                *t = b.i128_at(at + 8 + 16 * k).ok_or(SHORT)?;
            }
            let mut costs = [0f64; 4];
            for (k, x) in costs.iter_mut().enumerate() {
                *x = f64::from_bits(b.i64_at(at + 104 + 8 * k).ok_or(SHORT)? as u64);
            }
            let flags = flags.ok_or(PartError::Malformed("a part's usage entry has unknown flags"))?;
            self.usage.push(UsageRec { model, tokens, costs, flags });
        }
        let mut last = 0;
        for i in 0..unreadable {
            let at = unreadable_at + i * UNREADABLE;
            let u = |k: usize| b.u32_at(at + 4 * k).ok_or(SHORT);
            let (call, model, field) = (u(0)?, u(1)?, u(2)?);
            let field = u8::try_from(field).ok().filter(|f| super::value_field(*f).is_some());
            if call as usize >= calls || call < last {
                return Err(PartError::Malformed("a part's unreadable values are not of its calls, in order"));
            }
            last = call;
            let field = field.ok_or(PartError::Malformed("a part's unreadable value names no field"))?;
            let call = u32::try_from(first_call + call as usize).map_err(|_| SHORT)?;
            reserve(&mut self.unreadable, 1)?;
            self.unreadable.push(Unreadable { call, model: sym(model, false)?, field });
        }
        if has_stats {
            // Checked even where the table drops them (stats compiled out).
            if let Some(stats) = self.stats_mut() {
                reserve(stats, calls)?;
            }
            for i in 0..calls {
                let at = stats_at + i * STATS;
                let u = |k: usize| b.u32_at(at + 4 * k).ok_or(SHORT);
                let flags = u(4)?;
                if flags > EXCEPTION {
                    return Err(PartError::Malformed("a part's stats fields have unknown flags"));
                }
                let rec = StatsRec {
                    op: sym(u(0)?, true)?,
                    user: sym(u(1)?, true)?,
                    thread: sym(u(2)?, true)?,
                    display: sym(u(3)?, true)?,
                    error: flags & EXCEPTION != 0,
                };
                if let Some(stats) = self.stats_mut() {
                    stats.push(rec);
                }
            }
        }
        debug_assert!(self.stats().is_none_or(|s| s.len() == self.calls.len()), "a stats table has one stats record per call");
        Ok(())
    }
}

/// Little-endian reads that fail past the end.
#[derive(Clone, Copy)]
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn array<const N: usize>(self, at: usize) -> Option<[u8; N]> {
        self.0.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn u32_at(self, at: usize) -> Option<u32> {
        self.array(at).map(u32::from_le_bytes)
    }

    fn i64_at(self, at: usize) -> Option<i64> {
        self.array(at).map(i64::from_le_bytes)
    }

    fn i128_at(self, at: usize) -> Option<i128> {
        self.array(at).map(i128::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::CallStream;

    fn table(body: &str) -> CallStream {
        let mut s = CallStream::new();
        s.push(body.as_bytes()).unwrap();
        s.finish().unwrap();
        s
    }

    const BODY: &str = r#"{"id":"a","trace_id":"t","project_id":"p","started_at":"2025-01-01T00:00:00Z","ended_at":"x","summary":{"usage":{"m":{"prompt_tokens":3,"input_tokens":2,"total_tokens":[]}},"weave":{"costs":{"m":{"prompt_tokens_total_cost":0.1}}}}}
{"id":"b","trace_id":"t","parent_id":"a","deleted_at":"d","summary":{"usage":{"n":{"requests":"x","completion_tokens":170141183460469231731687303715884105727}}}}
{"id":"c","trace_id":"u","summary":{"usage":{"m":{"requests":1}}}}
{"id":"a","trace_id":"u","summary":{"usage":{"m":{"requests":"y"}}}}
"#;

    fn same(a: &CallTable, b: &CallTable) {
        let strs = |t: &CallTable, c: &CallRec| {
            [c.id, c.trace, c.parent, c.project].map(|s| if s == NONE { None } else { Some(t.str(s).to_string()) })
        };
        assert_eq!(a.calls.len(), b.calls.len());
        for (x, y) in a.calls.iter().zip(&b.calls) {
            assert_eq!(strs(a, x), strs(b, y));
            assert_eq!((x.started, x.ended, x.deleted), (y.started, y.ended, y.deleted));
            let u = |t: &CallTable, c: &CallRec| {
                t.usage_of(c).iter().map(|u| (t.str(u.model).to_string(), u.tokens, u.costs.map(f64::to_bits), u.flags)).collect::<Vec<_>>()
            };
            assert_eq!(u(a, x), u(b, y));
        }
        let unr = |t: &CallTable| t.unreadable.iter().map(|u| (u.call, t.str(u.model).to_string(), u.field)).collect::<Vec<_>>();
        assert_eq!(unr(a), unr(b));
    }

    #[test]
    fn parts_of_pieces_make_the_whole_table() {
        let whole = table(BODY);
        let whole = whole.table();
        let lines: Vec<&str> = BODY.split_inclusive('\n').collect();
        for cut in 0..=lines.len() {
            let (x, y) = lines.split_at(cut);
            let mut merged = CallTable::new(false);
            let parts =
                [table(&x.concat()).table().part(&Select::All).unwrap(), table(&y.concat()).table().part(&Select::All).unwrap()].concat();
            merged.import_parts(&parts).unwrap();
            same(&merged, whole);
        }
    }

    fn stats_table(body: &str) -> CallStream {
        let mut s = CallStream::for_stats(false);
        s.push(body.as_bytes()).unwrap();
        s.finish().unwrap();
        s
    }

    /// BODY with stats fields: op names, users, threads, an exception.
    fn stats_body() -> String {
        BODY.lines()
            .enumerate()
            .map(|(i, line)| {
                let fields = [
                    r#""op_name":"weave:///e/p/op/a:1","wb_user_id":"u1","exception":"boom","#,
                    r#""op_name":"weave:///e/p/op/b:2","thread_id":"th","#,
                    r#""wb_user_id":"u1","thread_id":null,"exception":null,"#,
                    r#""op_name":"weave:///e/p/op/a:1","#,
                ];
                format!("{{{}{}\n", fields[i % fields.len()], &line[1..])
            })
            .collect()
    }

    fn stats_strs(t: &CallTable) -> Vec<[Option<String>; 3]> {
        let name = |s: Sym| if s == NONE { None } else { Some(t.str(s).to_string()) };
        t.stats().unwrap().iter().map(|s| [name(s.op), name(s.user), name(s.thread)]).collect()
    }

    #[test]
    fn parts_of_a_stats_table_carry_its_stats_fields() {
        let body = stats_body();
        let whole = stats_table(&body);
        let whole = whole.table();
        assert!(whole.stats().unwrap().iter().any(|s| s.error));
        let lines: Vec<&str> = body.split_inclusive('\n').collect();
        for cut in 0..=lines.len() {
            let (x, y) = lines.split_at(cut);
            let parts = [
                stats_table(&x.concat()).table().part(&Select::All).unwrap(),
                stats_table(&y.concat()).table().part(&Select::All).unwrap(),
            ]
            .concat();
            assert!(parts_have_stats(&parts));
            let mut merged = CallTable::reading(false, true);
            merged.import_parts(&parts).unwrap();
            same(&merged, whole);
            assert_eq!(stats_strs(&merged), stats_strs(whole));
            assert_eq!(
                merged.stats().unwrap().iter().map(|s| s.error).collect::<Vec<_>>(),
                whole.stats().unwrap().iter().map(|s| s.error).collect::<Vec<_>>()
            );
        }
        // A selection keeps the stats fields of the calls it keeps.
        let part = whole.part(&Select::Of { traces: &["u".to_string()], ids: &[] }).unwrap();
        let mut t = CallTable::reading(false, true);
        t.import_parts(&part).unwrap();
        assert_eq!(stats_strs(&t), stats_strs(whole)[2..].to_vec());
    }

    #[test]
    fn parts_with_and_without_stats_fields_do_not_mix() {
        let plain = table(BODY).table().part(&Select::All).unwrap();
        let stats = stats_table(&stats_body()).table().part(&Select::All).unwrap();
        assert!(!parts_have_stats(&plain));
        let mixed = PartError::Malformed("parts with stats fields and parts without are mixed");
        for (table, parts) in
            [(true, [plain.clone(), stats.clone()].concat()), (false, [plain, stats.clone()].concat()), (false, stats.clone())]
        {
            let got = CallTable::reading(false, table).import_parts(&parts);
            assert!(matches!((&got, &mixed), (Err(PartError::Malformed(a)), PartError::Malformed(b)) if a == b), "{got:?}");
        }
        // Unknown stats flags, a string the part does not hold.
        let flags_at = stats.len() - 4;
        let mut bad = stats.clone();
        bad[flags_at] = 2;
        assert!(matches!(
            CallTable::reading(false, true).import_parts(&bad),
            Err(PartError::Malformed("a part's stats fields have unknown flags"))
        ));
        let mut bad = stats.clone();
        bad[flags_at - 12..flags_at - 8].copy_from_slice(&999u32.to_le_bytes());
        assert!(matches!(
            CallTable::reading(false, true).import_parts(&bad),
            Err(PartError::Malformed("a part names a string it does not hold"))
        ));
        // Cut short or changed anywhere: an error or a table, never a panic.
        for n in 0..stats.len() {
            let _ = CallTable::reading(false, true).import_parts(stats.get(..n).unwrap());
        }
        for i in 0..stats.len() {
            let mut p = stats.clone();
            p[i] ^= 0xff;
            let _ = CallTable::reading(false, true).import_parts(&p);
        }
    }

    #[test]
    fn a_selection_keeps_its_traces_and_ids_in_order() {
        let whole = table(BODY);
        let whole = whole.table();
        let part = whole.part(&Select::Of { traces: &["u".to_string()], ids: &["b".to_string(), "zz".to_string()] }).unwrap();
        let mut t = CallTable::new(false);
        t.import_parts(&part).unwrap();
        let ids: Vec<&str> = t.calls.iter().map(|c| t.str(c.id)).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        assert_eq!(t.unreadable.iter().map(|u| u.call).collect::<Vec<_>>(), [0, 2]);
        let none = whole.part(&Select::Of { traces: &[], ids: &[] }).unwrap();
        assert_eq!(none.len(), HEADER);
    }

    #[test]
    fn a_call_naming_a_model_twice_is_refused() {
        let body = r#"{"id":"a","trace_id":"t","summary":{"usage":{"m":{"requests":1},"n":{"requests":2}}}}"#;
        let mut part = table(body).table().part(&Select::All).unwrap();
        // Strings "a", "t", "m", "n" (numbered 0 to 3); the second entry's model made "m".
        let usage_at = HEADER + 4 * (4 + 1) + CALL;
        assert_eq!(part.get(usage_at + USAGE..usage_at + USAGE + 4), Some(&3u32.to_le_bytes()[..]));
        let mut same_text = part.clone();
        part.splice(usage_at + USAGE..usage_at + USAGE + 4, 2u32.to_le_bytes());
        assert!(matches!(CallTable::new(false).import_parts(&part), Err(PartError::Malformed("a part's call names a model twice"))));
        // Or two strings of the part with one text ("n" made "m"): one symbol.
        let n_at = HEADER + 3 * (4 + 1) + 4;
        assert_eq!(same_text.get(n_at), Some(&b'n'));
        same_text[n_at] = b'm';
        assert!(matches!(CallTable::new(false).import_parts(&same_text), Err(PartError::Malformed("a part's call names a model twice"))));
        // One model in two calls is no such thing.
        let two = format!("{body}\n{}", body.replace(r#""id":"a""#, r#""id":"b""#));
        let part = table(&two).table().part(&Select::All).unwrap();
        assert!(CallTable::new(false).import_parts(&part).is_ok());
    }

    #[test]
    fn a_malformed_part_is_an_error_never_a_panic() {
        let part = table(BODY).table().part(&Select::All).unwrap();
        let mut t = CallTable::new(false);
        t.import_parts(&part).unwrap();
        // Every prefix, and every single byte changed, either imports or is refused.
        for n in 0..part.len() {
            let _ = CallTable::new(false).import_parts(part.get(..n).unwrap());
        }
        for i in 0..part.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut p = part.clone();
                p[i] = v;
                let _ = CallTable::new(false).import_parts(&p);
            }
        }
        assert!(matches!(CallTable::new(false).import_parts(b"WUP1\xff\xff\xff\xff"), Err(PartError::Malformed(_))));
        assert!(matches!(CallTable::new(false).import_parts(b"nope"), Err(PartError::Malformed(_))));
    }
}

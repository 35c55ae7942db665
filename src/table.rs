//! Calls as the rollup needs them, stored compactly: every string (ids,
//! trace ids, project ids, model names) once, in one arena, referred to by a
//! number; a fixed-size record per call; usage entries in one shared array.
//! Memory grows with the fields the rollup reads, never with `inputs` or
//! `output`, which the reader below skips without building.
//!
//! The reader takes one call from the JSON scanner straight into the table,
//! validating it as the contract says (a malformed call is a 422 at
//! `["calls", index, field]`) and reading usage as the reference does.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::error::{Detail, Loc, UsageError};
use crate::json::{Failure, Parser, Shape};
use crate::pynum::{py_float, py_int};
use crate::time::parse_instant;

/// A string in the table's arena.
pub type Sym = u32;
/// "Absent" for optional symbols.
pub const NONE: Sym = u32::MAX;
/// `started_at` when missing or unreadable: after every real instant.
pub const NO_INSTANT: i64 = i64::MAX;

/// The six token counters of the response, in its field order. Exact
/// integers (Python's are unbounded; these saturate at ±2^127).
pub type Tokens = [i128; 6];
/// The four costs of the response, in its field order.
pub type Costs = [f64; 4];

/// Indices into [`Tokens`].
pub const PROMPT: usize = 1;
pub const COMPLETION: usize = 2;
pub const TOTAL: usize = 3;

/// The cost fields of `summary.weave.costs[model]` that are read, in
/// response order.
pub const COST_FIELDS: [&str; 4] = [
    "prompt_tokens_total_cost",
    "completion_tokens_total_cost",
    "cache_read_input_tokens_total_cost",
    "cache_creation_input_tokens_total_cost",
];

/// One call's fields that the rollup reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRec {
    pub id: Sym,
    pub trace: Sym,
    /// `NONE` when absent or null.
    pub parent: Sym,
    /// `NONE` when absent or null.
    pub project: Sym,
    /// Microseconds since the epoch, or `NO_INSTANT`.
    pub started: i64,
    pub ended: bool,
    pub deleted: bool,
    /// Its entries in [`CallTable::usage`].
    pub usage: (u32, u32),
}

/// One model's usage as one call reports it, before any rollup: prompt and
/// completion include their `input_`/`output_` aliases, `total` is as given,
/// costs are read whether or not a request will want them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageRec {
    pub model: Sym,
    pub tokens: Tokens,
    pub costs: Costs,
}

/// All calls read so far.
#[derive(Default)]
pub struct CallTable {
    /// Every string once, back to back (UTF-8: the scanner checked it).
    arena: Vec<u8>,
    spans: Vec<(usize, usize)>,
    index: HashTable<Sym>,
    hasher: hashbrown::DefaultHashBuilder,
    pub calls: Vec<CallRec>,
    pub usage: Vec<UsageRec>,
    scratch: Scratch,
}

/// Per-call working space, reused from call to call.
#[derive(Default)]
struct Scratch {
    /// `summary.usage`: model, and its raw counters (None: not an object).
    usage: ByModel<Option<[i128; 8]>>,
    /// `summary.weave.costs`: model, and its costs (None: not an object).
    costs: ByModel<Option<Costs>>,
}

/// Entries by model in first-seen order, found through an index by symbol:
/// a summary naming thousands of models (hostile or broken input) is read in
/// linear time, where searching the list for each model took quadratic time.
struct ByModel<T> {
    list: Vec<(Sym, T)>,
    /// 1 + the position in `list` of each symbol's entry; 0: none.
    at: Vec<u32>,
}

impl<T> Default for ByModel<T> {
    fn default() -> Self {
        ByModel { list: Vec::new(), at: Vec::new() }
    }
}

impl<T> ByModel<T> {
    /// Empties the list (and only the index entries it used).
    fn clear(&mut self) {
        for (sym, _) in &self.list {
            if let Some(at) = self.at.get_mut(*sym as usize) {
                *at = 0;
            }
        }
        self.list.clear();
    }

    /// Sets `key`'s entry, keeping the position of its first occurrence.
    fn upsert(&mut self, key: Sym, value: T) {
        let k = key as usize;
        if self.at.len() <= k {
            self.at.resize(k + 1, 0);
        }
        match self.at.get(k).copied().unwrap_or(0).checked_sub(1).and_then(|i| self.list.get_mut(i as usize)) {
            Some(slot) => slot.1 = value,
            None => {
                self.list.push((key, value));
                if let Some(at) = self.at.get_mut(k) {
                    *at = u32::try_from(self.list.len()).unwrap_or(0);
                }
            }
        }
    }

    fn get(&self, key: Sym) -> Option<&T> {
        let i = self.at.get(key as usize)?.checked_sub(1)?;
        self.list.get(i as usize).map(|(_, v)| v)
    }
}

/// The counters of a usage entry that are read, in `[i128; 8]` order.
const USAGE_FIELDS: [&str; 8] = [
    "requests",
    "prompt_tokens",
    "input_tokens",
    "completion_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// Why a call could not be read: the JSON itself, or a malformed call.
#[derive(Debug)]
pub enum ReadError {
    Json(Failure),
    Call(UsageError),
}

impl From<Failure> for ReadError {
    fn from(f: Failure) -> Self {
        ReadError::Json(f)
    }
}

/// What a call's field turned out to be (the last occurrence counts).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field<T> {
    Absent,
    Null,
    Value(T),
    WrongType,
}

impl CallTable {
    pub fn new() -> CallTable {
        CallTable::default()
    }

    /// The symbol of `s`, adding it if new.
    pub fn intern(&mut self, s: &[u8]) -> Sym {
        let hash = self.hasher.hash_one(s);
        if let Some(&sym) = self.index.find(hash, |sym| self.bytes(*sym) == s) {
            return sym;
        }
        let sym = Sym::try_from(self.spans.len()).unwrap_or(NONE - 1);
        let start = self.arena.len();
        self.arena.extend_from_slice(s);
        self.spans.push((start, self.arena.len()));
        let (arena, spans, hasher) = (&self.arena, &self.spans, &self.hasher);
        self.index.insert_unique(hash, sym, |sym| {
            hasher.hash_one(spans.get(*sym as usize).and_then(|&(a, b)| arena.get(a..b)).unwrap_or_default())
        });
        sym
    }

    /// The symbol of `s`, if it has been seen.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        let s = s.as_bytes();
        let hash = self.hasher.hash_one(s);
        self.index.find(hash, |sym| self.bytes(*sym) == s).copied()
    }

    /// The UTF-8 bytes of a symbol (byte order is code point order).
    pub fn bytes(&self, sym: Sym) -> &[u8] {
        self.spans.get(sym as usize).and_then(|&(a, b)| self.arena.get(a..b)).unwrap_or_default()
    }

    /// The text of a symbol.
    pub fn str(&self, sym: Sym) -> &str {
        std::str::from_utf8(self.bytes(sym)).unwrap_or_default()
    }

    /// How many distinct strings the table holds.
    pub fn symbols(&self) -> usize {
        self.spans.len()
    }

    /// The usage entries of a call.
    pub fn usage_of(&self, call: &CallRec) -> &[UsageRec] {
        let (start, len) = (call.usage.0 as usize, call.usage.1 as usize);
        self.usage.get(start..start + len).unwrap_or_default()
    }

    /// Bytes held, roughly: for reporting memory use.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.spans.capacity() * std::mem::size_of::<(usize, usize)>()
            + self.index.capacity() * (std::mem::size_of::<Sym>() + 1)
            + self.calls.capacity() * std::mem::size_of::<CallRec>()
            + self.usage.capacity() * std::mem::size_of::<UsageRec>()
    }

    /// Reads the call at `index` of the input from `p` (at the start of a
    /// value). On `Err`, nothing has been added to the table but strings.
    pub fn read_call(&mut self, p: &mut Parser<'_>, index: usize) -> Result<(), ReadError> {
        p.skip_ws();
        if p.peek() != Some(b'{') {
            // Read it whole first: an incomplete value must wait for more input.
            p.skip_value()?;
            return Err(ReadError::Call(UsageError::invalid(
                vec![Loc::from("calls"), Loc::Index(index)],
                "dict_type",
                "Input should be a valid dictionary",
            )));
        }
        p.pos += 1;
        let mut id = Field::Absent;
        let mut trace = Field::Absent;
        let mut parent = Field::Absent;
        let mut project = Field::Absent;
        let mut started = Field::Absent;
        let mut ended = Field::Absent;
        let mut deleted = Field::Absent;
        let mut summary = Field::Absent;
        self.scratch.usage.clear();
        self.scratch.costs.clear();
        if !p.empty_object() {
            loop {
                let key = p.key()?;
                match key.as_ref() {
                    b"id" => id = self.text_field(p)?,
                    b"trace_id" => trace = self.text_field(p)?,
                    b"parent_id" => parent = self.text_field(p)?,
                    b"project_id" => project = self.text_field(p)?,
                    b"started_at" => started = instant_field(p)?,
                    b"ended_at" => ended = flag_field(p)?,
                    b"deleted_at" => deleted = flag_field(p)?,
                    b"summary" => {
                        self.scratch.usage.clear();
                        self.scratch.costs.clear();
                        p.skip_ws();
                        summary = match p.peek() {
                            Some(b'{') => {
                                self.read_summary(p)?;
                                Field::Value(())
                            }
                            Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
                            _ => p.skip_value().map(|()| Field::WrongType)?,
                        };
                    }
                    _ => p.skip_value()?,
                }
                if !p.member_end()? {
                    break;
                }
            }
        }

        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("calls"), Loc::Index(index), Loc::from(field)];
        let string_type = |field| Detail::new(at(field), "string_type", "Input should be a valid string");
        for (field, state) in [("id", id), ("trace_id", trace)] {
            match state {
                Field::Value(_) => {}
                Field::Absent => errors.push(Detail::new(at(field), "missing", "Field required")),
                Field::Null | Field::WrongType => errors.push(string_type(field)),
            }
        }
        let optional = [("parent_id", parent == Field::WrongType), ("project_id", project == Field::WrongType), ("started_at", started == Field::WrongType), ("ended_at", ended == Field::WrongType), ("deleted_at", deleted == Field::WrongType)];
        for (field, wrong) in optional {
            if wrong {
                errors.push(string_type(field));
            }
        }
        if summary == Field::WrongType {
            errors.push(Detail::new(at("summary"), "dict_type", "Input should be a valid dictionary"));
        }
        let (Field::Value(id), Field::Value(trace)) = (id, trace) else {
            return Err(ReadError::Call(UsageError::unprocessable(errors)));
        };
        if !errors.is_empty() {
            return Err(ReadError::Call(UsageError::unprocessable(errors)));
        }

        let start = u32::try_from(self.usage.len()).unwrap_or(u32::MAX);
        self.flush_usage();
        let len = u32::try_from(self.usage.len()).unwrap_or(u32::MAX) - start;
        let sym = |f: Field<Sym>| if let Field::Value(s) = f { s } else { NONE };
        self.calls.push(CallRec {
            id,
            trace,
            parent: sym(parent),
            project: sym(project),
            started: if let Field::Value(t) = started { t } else { NO_INSTANT },
            ended: ended == Field::Value(()),
            deleted: deleted == Field::Value(()),
            usage: (start, len),
        });
        Ok(())
    }

    /// A string-or-null field, interned.
    fn text_field(&mut self, p: &mut Parser<'_>) -> Result<Field<Sym>, Failure> {
        p.skip_ws();
        Ok(match p.peek() {
            Some(b'"') => {
                let s = p.raw_string()?;
                Field::Value(self.intern(&s))
            }
            Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
            _ => p.skip_value().map(|()| Field::WrongType)?,
        })
    }

    /// `summary` (at `{`): `usage` and `weave.costs`; the last of duplicate
    /// keys wins, as in `json.loads`.
    fn read_summary(&mut self, p: &mut Parser<'_>) -> Result<(), Failure> {
        p.pos += 1;
        if p.empty_object() {
            return Ok(());
        }
        loop {
            let key = p.key()?;
            match key.as_ref() {
                b"usage" => {
                    self.scratch.usage.clear();
                    self.read_map(p, Map::Usage)?;
                }
                b"weave" => {
                    self.scratch.costs.clear();
                    p.skip_ws();
                    if p.peek() == Some(b'{') {
                        p.pos += 1;
                        if !p.empty_object() {
                            loop {
                                let key = p.key()?;
                                if key.as_ref() == b"costs" {
                                    self.scratch.costs.clear();
                                    self.read_map(p, Map::Costs)?;
                                } else {
                                    p.skip_value()?;
                                }
                                if !p.member_end()? {
                                    break;
                                }
                            }
                        }
                    } else {
                        p.skip_value()?;
                    }
                }
                _ => p.skip_value()?,
            }
            if !p.member_end()? {
                return Ok(());
            }
        }
    }

    /// `summary.usage` or `summary.weave.costs`: model → entry. A value that
    /// is not an object is skipped (usage) or costs nothing (costs). A model
    /// given twice keeps its first position and its last value.
    fn read_map(&mut self, p: &mut Parser<'_>, map: Map) -> Result<(), Failure> {
        p.skip_ws();
        if p.peek() != Some(b'{') {
            return p.skip_value();
        }
        p.pos += 1;
        if p.empty_object() {
            return Ok(());
        }
        loop {
            let model = p.key()?;
            let model = self.intern(&model);
            p.skip_ws();
            let is_object = p.peek() == Some(b'{');
            match map {
                Map::Usage => {
                    let entry = if is_object { Some(read_fields(p, &USAGE_FIELDS, py_int, 0)?) } else { p.skip_value().map(|()| None)? };
                    self.scratch.usage.upsert(model, entry);
                }
                Map::Costs => {
                    let entry = if is_object { Some(read_fields(p, &COST_FIELDS, py_float, 0.0)?) } else { p.skip_value().map(|()| None)? };
                    self.scratch.costs.upsert(model, entry);
                }
            }
            if !p.member_end()? {
                return Ok(());
            }
        }
    }

    /// Moves the scratch usage of the call just read into the table.
    fn flush_usage(&mut self) {
        let Scratch { usage, costs } = &self.scratch;
        for &(model, raw) in &usage.list {
            let Some(r) = raw else { continue };
            let tokens = [r[0], r[1].saturating_add(r[2]), r[3].saturating_add(r[4]), r[5], r[6], r[7]];
            let costs = costs.get(model).copied().flatten().unwrap_or([0.0; 4]);
            self.usage.push(UsageRec { model, tokens, costs });
        }
    }
}

#[derive(Clone, Copy)]
enum Map {
    Usage,
    Costs,
}

/// The named fields of an object (at `{`), each read with `read`; others are
/// skipped; absent ones are `zero`.
fn read_fields<T: Copy, const N: usize>(
    p: &mut Parser<'_>,
    names: &[&str; N],
    read: fn(&crate::value::Value) -> T,
    zero: T,
) -> Result<[T; N], Failure> {
    let mut out = [zero; N];
    p.pos += 1;
    if p.empty_object() {
        return Ok(out);
    }
    loop {
        let key = p.key()?;
        match names.iter().position(|n| n.as_bytes() == key.as_ref()) {
            Some(i) => {
                let v = p.value(&Shape::Scalar)?;
                if let Some(slot) = out.get_mut(i) {
                    *slot = read(&v);
                }
            }
            None => p.skip_value()?,
        }
        if !p.member_end()? {
            return Ok(out);
        }
    }
}

/// `started_at`: a string is read as an instant (unreadable: `NO_INSTANT`).
fn instant_field(p: &mut Parser<'_>) -> Result<Field<i64>, Failure> {
    p.skip_ws();
    Ok(match p.peek() {
        Some(b'"') => Field::Value(parse_instant(p.raw_string()?).unwrap_or(NO_INSTANT)),
        Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
        _ => p.skip_value().map(|()| Field::WrongType)?,
    })
}

/// `ended_at` / `deleted_at`: only whether a string is there matters.
fn flag_field(p: &mut Parser<'_>) -> Result<Field<()>, Failure> {
    p.skip_ws();
    Ok(match p.peek() {
        Some(b'"') => p.scan_string().map(|_| Field::Value(()))?,
        Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
        _ => p.skip_value().map(|()| Field::WrongType)?,
    })
}

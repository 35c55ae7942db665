//! Calls as the rollup needs them, stored compactly: every string (ids,
//! trace ids, project ids, model names) once, in one arena, referred to by a
//! number; a fixed-size record per call; usage entries in one shared array.
//! Memory grows with the fields the rollup reads, never with `inputs` or
//! `output`, which the reader below skips without building.
//!
//! The reader takes one call from the JSON scanner straight into the table,
//! validating it as the contract says (a malformed call is a 422 at
//! `["calls", index, field]`) and reading usage as the reference does.

use hashbrown::HashTable;

use crate::error::{Detail, Loc, UsageError};
use crate::hash::{spread, Keys};
use crate::json::{same, Parser, Shape, Stop};
use crate::keys::KeyOrder;
use crate::limits::{mib, reserve, Exhausted};
use crate::pynum::{try_py_float, try_py_int};
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
/// costs are read whether or not a request will want them. Everything that
/// pricing (`options.prices`) needs is here or in the call's `started`, so a
/// streamed table can be priced once the request is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageRec {
    pub model: Sym,
    pub tokens: Tokens,
    pub costs: Costs,
    /// [`HAS_COSTS`], [`PROMPT_AND_INPUT`], [`UNREADABLE`]. A byte that fits
    /// in the record's padding: no extra memory per entry.
    pub flags: u8,
}

/// `summary.weave.costs[model]` is an object (its costs were given).
pub const HAS_COSTS: u8 = 1;
/// Both `prompt_tokens` and `input_tokens` are non-zero (the sum may count
/// the same tokens twice).
pub const PROMPT_AND_INPUT: u8 = 2;
/// Some value of this entry was unreadable: see [`CallTable::unreadable`].
pub const UNREADABLE: u8 = 4;

/// A value that was present but unreadable, so read as 0 (as the reference
/// reads it). Recorded only when it happens, for `options.diagnostics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable {
    /// Index into [`CallTable::calls`].
    pub call: u32,
    pub model: Sym,
    /// Its name: [`value_field`].
    pub field: u8,
}

/// The name of an [`Unreadable`]'s `field`: the usage counters
/// ([`USAGE_FIELDS`]), then the cost fields ([`COST_FIELDS`]).
pub fn value_field(field: u8) -> Option<&'static str> {
    let i = usize::from(field);
    USAGE_FIELDS.get(i).or_else(|| COST_FIELDS.get(i.checked_sub(USAGE_FIELDS.len())?)).copied()
}

/// All calls read so far.
pub struct CallTable {
    /// Every string once, back to back (UTF-8: the scanner checked it).
    arena: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Each symbol's hash, so that growing `index` reads no string again.
    hashes: Vec<u32>,
    index: HashTable<Sym>,
    hasher: Keys,
    pub calls: Vec<CallRec>,
    pub usage: Vec<UsageRec>,
    /// Values read as 0 because unreadable, in call order. Empty unless such
    /// values occur, so it costs nothing on clean input.
    pub unreadable: Vec<Unreadable>,
    scratch: Scratch,
    /// The last symbol of each [`Recent`] kind.
    recent: [Sym; 4],
    /// The order of keys in calls and their usage and cost entries.
    orders: Orders,
    /// A call may also come as a JSON array, the objects path's compact form
    /// `[id, trace_id, parent_id, project_id, started_at, ended_at,
    /// deleted_at, usage, costs]`, usage and cost entries as arrays of their
    /// fields in order (js/select-calls.js writes it only for calls it has
    /// checked); never so for a body, where an array is not a call. There a
    /// trace, parent or project id may be the index of an earlier call with
    /// that trace id, id or project id (`text_or_earlier`).
    pub compact_calls: bool,
}

/// Kinds of fields whose values repeat from one call to the next.
#[derive(Clone, Copy)]
enum Recent {
    Trace,
    Parent,
    Project,
    Model,
    /// Not cached (ids are new with every call).
    None,
}

/// The key order of each kind of object read (see [`KeyOrder`]); a field is
/// an index into `USAGE_FIELDS` or `COST_FIELDS`.
#[derive(Default)]
struct Orders {
    call: KeyOrder<CallKey>,
    usage: KeyOrder<Option<usize>>,
    costs: KeyOrder<Option<usize>>,
}

/// Per-call working space, reused from call to call.
#[derive(Default)]
struct Scratch {
    /// `summary.usage`: model, and its entry (None: not an object).
    usage: ByModel<Option<Read<[i128; 8]>>>,
    /// `summary.weave.costs`: model, and its entry (None: not an object).
    costs: ByModel<Option<Read<Costs>>>,
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
    /// Both grow with the input (the index with the symbols, the list with
    /// one call's models): fallibly.
    fn upsert(&mut self, key: Sym, value: T) -> Result<(), Exhausted> {
        let k = key as usize;
        if self.at.len() <= k {
            let more = k + 1 - self.at.len();
            reserve(&mut self.at, more)?;
            self.at.resize(k + 1, 0);
        }
        match self.at.get(k).copied().unwrap_or(0).checked_sub(1).and_then(|i| self.list.get_mut(i as usize)) {
            Some(slot) => slot.1 = value,
            None => {
                reserve(&mut self.list, 1)?;
                self.list.push((key, value));
                if let Some(at) = self.at.get_mut(k) {
                    *at = u32::try_from(self.list.len()).unwrap_or(0);
                }
            }
        }
        Ok(())
    }

    fn get(&self, key: Sym) -> Option<&T> {
        let i = self.at.get(key as usize)?.checked_sub(1)?;
        self.list.get(i as usize).map(|(_, v)| v)
    }
}

/// An entry's values as read, and a bit per value that was unreadable.
type Read<T> = (T, u16);

/// The counters of a usage entry that are read, in `[i128; 8]` order.
pub const USAGE_FIELDS: [&str; 8] = [
    "requests",
    "prompt_tokens",
    "input_tokens",
    "completion_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
];

/// Why a call could not be read: the JSON itself, a malformed call, or no
/// memory left for it.
#[derive(Debug)]
pub enum ReadError {
    Json(Stop),
    Call(UsageError),
    Memory(Exhausted),
}

impl From<Stop> for ReadError {
    fn from(f: Stop) -> Self {
        ReadError::Json(f)
    }
}

impl From<Exhausted> for ReadError {
    fn from(e: Exhausted) -> Self {
        ReadError::Memory(e)
    }
}

/// The call fields the rollup reads, by key.
#[derive(Clone, Copy)]
enum CallKey {
    Id,
    Trace,
    Parent,
    Project,
    Started,
    Ended,
    Deleted,
    Summary,
    Other,
}

impl CallKey {
    /// Asked only about keys not recognised by their position (see
    /// [`KeyOrder`]), so a plain match does.
    fn of(key: &[u8]) -> CallKey {
        match key {
            b"id" => CallKey::Id,
            b"trace_id" => CallKey::Trace,
            b"parent_id" => CallKey::Parent,
            b"project_id" => CallKey::Project,
            b"started_at" => CallKey::Started,
            b"ended_at" => CallKey::Ended,
            b"deleted_at" => CallKey::Deleted,
            b"summary" => CallKey::Summary,
            _ => CallKey::Other,
        }
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

impl Default for CallTable {
    fn default() -> Self {
        CallTable {
            arena: Vec::new(),
            spans: Vec::new(),
            hashes: Vec::new(),
            index: HashTable::new(),
            hasher: Keys::fresh(),
            calls: Vec::new(),
            usage: Vec::new(),
            scratch: Scratch::default(),
            recent: [NONE; 4],
            orders: Orders::default(),
            unreadable: Vec::new(),
            compact_calls: false,
        }
    }
}

impl CallTable {
    pub fn new() -> CallTable {
        CallTable::default()
    }

    /// The symbol of `s`, adding it if new.
    pub fn intern(&mut self, s: &[u8]) -> Sym {
        let hash = self.hasher.hash32(s);
        if let Some(&sym) = self.index.find(spread(hash), |sym| same(self.bytes(*sym), s)) {
            return sym;
        }
        let sym = Sym::try_from(self.spans.len()).unwrap_or(NONE - 1);
        let start = self.arena.len();
        self.arena.extend_from_slice(s);
        self.spans.push((start, self.arena.len()));
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.index.insert_unique(spread(hash), sym, |sym| spread(hashes.get(*sym as usize).copied().unwrap_or(0)));
        sym
    }

    /// `intern`, remembering the last symbol of each kind of field: calls of
    /// one trace and one project come together, so most trace and project
    /// ids (and many parents) are the previous call's, found by one compare.
    fn intern_recent(&mut self, s: &[u8], recent: Recent) -> Result<Sym, Exhausted> {
        let slot = self.recent.get(recent as usize).copied();
        if let Some(slot) = slot.filter(|&slot| slot != NONE && same(self.bytes(slot), s)) {
            return Ok(slot);
        }
        self.make_room(s.len())?;
        let sym = self.intern(s);
        if let Some(r) = self.recent.get_mut(recent as usize) {
            *r = sym;
        }
        Ok(sym)
    }

    /// Room for one more string of `len` bytes, reserved fallibly, so that
    /// `intern` (whose growth is infallible) allocates nothing.
    fn make_room(&mut self, len: usize) -> Result<(), Exhausted> {
        reserve(&mut self.arena, len)?;
        reserve(&mut self.spans, 1)?;
        reserve(&mut self.hashes, 1)?;
        // No entry is ever removed, so `capacity` is entries + room left.
        if self.index.len() == self.index.capacity() {
            let before = self.index.capacity();
            let hashes = &self.hashes;
            let rehash = |sym: &Sym| spread(hashes.get(*sym as usize).copied().unwrap_or(0));
            let bytes = before.saturating_mul(2 * (std::mem::size_of::<Sym>() + 1));
            self.index.try_reserve(1, rehash).map_err(|_| Exhausted { bytes })?;
            crate::limits::room(0).map_err(|_| Exhausted { bytes })?;
        }
        debug_assert!(self.index.capacity() > self.index.len() && self.spans.capacity() > self.spans.len());
        Ok(())
    }

    /// The 413 for calls that do not fit in memory (`e`: what could not be
    /// allocated), located at the calls (`["calls"]` for the objects path,
    /// `["body"]` for a body).
    pub fn too_large(&self, e: Exhausted) -> UsageError {
        let loc = if self.compact_calls { "calls" } else { "body" };
        let msg = format!(
            "The calls do not fit in the module's memory: {} calls read ({} distinct ids and names) take {} MiB, and {} MiB more could not be allocated (a wasm module addresses at most 4 GiB)",
            self.calls.len(),
            self.symbols(),
            mib(self.heap_bytes()),
            mib(e.bytes)
        );
        UsageError::too_large(vec![Loc::from(loc)], "payload_too_large", msg)
    }

    /// The symbol of `s`, if it has been seen.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        let s = s.as_bytes();
        self.index.find(spread(self.hasher.hash32(s)), |sym| same(self.bytes(*sym), s)).copied()
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
            + self.hashes.capacity() * std::mem::size_of::<u32>()
            + self.index.capacity() * (std::mem::size_of::<Sym>() + 1)
            + self.calls.capacity() * std::mem::size_of::<CallRec>()
            + self.usage.capacity() * std::mem::size_of::<UsageRec>()
            + self.unreadable.capacity() * std::mem::size_of::<Unreadable>()
    }

    /// Reads the call at `index` of the input from `p` (at the start of a
    /// value). On `Err`, nothing has been added to the table but strings.
    pub fn read_call(&mut self, p: &mut Parser<'_>, index: usize) -> Result<(), ReadError> {
        p.skip_ws();
        let compact = self.compact_calls && p.peek() == Some(b'[');
        if p.peek() != Some(b'{') && !compact {
            // Read it whole first: an incomplete value must wait for more input.
            p.skip_value()?;
            return Err(ReadError::Call(UsageError::invalid(
                vec![Loc::from("calls"), Loc::Index(index)],
                "dict_type",
                "Input should be a valid dictionary",
            )));
        }
        p.bump();
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
        if compact {
            // Only the objects path writes these, for calls it has checked;
            // absent and null fields mean the same there.
            id = self.text_field(p, Recent::None)?;
            p.expect(b',', COMPACT)?;
            trace = self.text_or_earlier(p, Recent::Trace, |c| c.trace)?;
            p.expect(b',', COMPACT)?;
            parent = self.text_or_earlier(p, Recent::Parent, |c| c.id)?;
            p.expect(b',', COMPACT)?;
            project = self.text_or_earlier(p, Recent::Project, |c| c.project)?;
            p.expect(b',', COMPACT)?;
            started = instant_field(p)?;
            p.expect(b',', COMPACT)?;
            ended = flag_field(p)?;
            p.expect(b',', COMPACT)?;
            deleted = flag_field(p)?;
            p.expect(b',', COMPACT)?;
            self.read_map(p, Map::Usage, true)?;
            p.expect(b',', COMPACT)?;
            self.read_map(p, Map::Costs, true)?;
            p.expect(b']', COMPACT)?;
        } else if !p.empty_object() {
            let mut at = 0;
            loop {
                let field = self.orders.call.key(p, at, CallKey::of)?;
                at += 1;
                match field {
                    CallKey::Id => id = self.text_field(p, Recent::None)?,
                    CallKey::Trace => trace = self.text_field(p, Recent::Trace)?,
                    CallKey::Parent => parent = self.text_field(p, Recent::Parent)?,
                    CallKey::Project => project = self.text_field(p, Recent::Project)?,
                    CallKey::Started => started = instant_field(p)?,
                    CallKey::Ended => ended = flag_field(p)?,
                    CallKey::Deleted => deleted = flag_field(p)?,
                    CallKey::Summary => {
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
                    CallKey::Other => p.skip_value()?,
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
        let optional = [
            ("parent_id", parent == Field::WrongType),
            ("project_id", project == Field::WrongType),
            ("started_at", started == Field::WrongType),
            ("ended_at", ended == Field::WrongType),
            ("deleted_at", deleted == Field::WrongType),
        ];
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

        reserve(&mut self.calls, 1)?;
        let start = u32::try_from(self.usage.len()).unwrap_or(u32::MAX);
        let unreadable = self.unreadable.len();
        if let Err(e) = self.flush_usage() {
            // Nothing of this call stays.
            self.usage.truncate(start as usize);
            self.unreadable.truncate(unreadable);
            return Err(e.into());
        }
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
    fn text_field(&mut self, p: &mut Parser<'_>, recent: Recent) -> Result<Field<Sym>, ReadError> {
        p.skip_ws();
        Ok(match p.peek() {
            Some(b'"') => {
                let s = p.raw_string()?;
                Field::Value(self.intern_recent(&s, recent)?)
            }
            Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
            _ => p.skip_value().map(|()| Field::WrongType)?,
        })
    }

    /// A compact call's trace id, parent id or project id: as
    /// [`text_field`](Self::text_field) reads it, or the index of an earlier
    /// call of the same text whose trace id, id or project id (`of`) is that
    /// string: the objects path writes each of those strings once.
    fn text_or_earlier(&mut self, p: &mut Parser<'_>, recent: Recent, of: fn(&CallRec) -> Sym) -> Result<Field<Sym>, ReadError> {
        p.skip_ws();
        if !p.peek().is_some_and(|c| c.is_ascii_digit()) {
            return self.text_field(p, recent);
        }
        let at = p.pos();
        let (raw, integer) = p.scan_number()?;
        let index = if integer { std::str::from_utf8(raw).ok().and_then(|k| k.parse::<usize>().ok()) } else { None };
        match index.and_then(|k| self.calls.get(k)).map(of) {
            Some(sym) if sym != NONE => Ok(Field::Value(sym)),
            _ => Err(p.fail_at(at, COMPACT).into()),
        }
    }

    /// `summary` (at `{`): `usage` and `weave.costs`; the last of duplicate
    /// keys wins, as in `json.loads`.
    fn read_summary(&mut self, p: &mut Parser<'_>) -> Result<(), ReadError> {
        p.bump();
        if p.empty_object() {
            return Ok(());
        }
        loop {
            let key = p.key()?;
            match key.as_ref() {
                b"usage" => {
                    self.scratch.usage.clear();
                    self.read_map(p, Map::Usage, false)?;
                }
                b"weave" => {
                    self.scratch.costs.clear();
                    p.skip_ws();
                    if p.peek() == Some(b'{') {
                        p.bump();
                        if !p.empty_object() {
                            loop {
                                let key = p.key()?;
                                if key.as_ref() == b"costs" {
                                    self.scratch.costs.clear();
                                    self.read_map(p, Map::Costs, false)?;
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
    /// given twice keeps its first position and its last value. In a compact
    /// call an entry may also be an array of the fields in order.
    fn read_map(&mut self, p: &mut Parser<'_>, map: Map, compact: bool) -> Result<(), ReadError> {
        p.skip_ws();
        if p.peek() != Some(b'{') {
            return Ok(p.skip_value()?);
        }
        p.bump();
        if p.empty_object() {
            return Ok(());
        }
        loop {
            let model = p.key()?;
            let model = self.intern_recent(&model, Recent::Model)?;
            p.skip_ws();
            match map {
                Map::Usage => {
                    let entry = read_entry(p, &mut self.orders.usage, &USAGE_FIELDS, try_py_int, 0, compact)?;
                    self.scratch.usage.upsert(model, entry)?;
                }
                Map::Costs => {
                    let entry = read_entry(p, &mut self.orders.costs, &COST_FIELDS, try_py_float, 0.0, compact)?;
                    self.scratch.costs.upsert(model, entry)?;
                }
            }
            if !p.member_end()? {
                return Ok(());
            }
        }
    }

    /// Moves the scratch usage of the call about to be added (the next
    /// index of `calls`) into the table.
    fn flush_usage(&mut self) -> Result<(), Exhausted> {
        let call = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
        reserve(&mut self.usage, self.scratch.usage.list.len())?;
        let Scratch { usage, costs } = &self.scratch;
        for &(model, raw) in &usage.list {
            let Some((r, bad_counters)) = raw else { continue };
            let tokens = [r[0], r[1].saturating_add(r[2]), r[3].saturating_add(r[4]), r[5], r[6], r[7]];
            let given = costs.get(model).copied().flatten();
            let (costs, bad_costs) = given.unwrap_or(([0.0; 4], 0));
            let mut flags = if given.is_some() { HAS_COSTS } else { 0 };
            if r[1] != 0 && r[2] != 0 {
                flags |= PROMPT_AND_INPUT;
            }
            // Rare: only then is anything recorded.
            let bad = u32::from(bad_counters) | (u32::from(bad_costs) << USAGE_FIELDS.len());
            if bad != 0 {
                flags |= UNREADABLE;
                reserve(&mut self.unreadable, bad.count_ones() as usize)?;
                for field in (0..(USAGE_FIELDS.len() + COST_FIELDS.len()) as u8).filter(|f| bad & (1 << f) != 0) {
                    self.unreadable.push(Unreadable { call, model, field });
                }
            }
            self.usage.push(UsageRec { model, tokens, costs, flags });
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Map {
    Usage,
    Costs,
}

/// The named fields of an object (at `{`), each read with `read`; others are
/// skipped; absent ones are `zero`, and so are unreadable ones (`read` gives
/// `None`), which also set their bit in the returned mask. Of duplicate keys
/// the last counts, for the mask too.
fn read_fields<T: Copy, const N: usize>(
    p: &mut Parser<'_>,
    order: &mut KeyOrder<Option<usize>>,
    names: &[&str; N],
    read: fn(&crate::json::Value) -> Option<T>,
    zero: T,
) -> Result<([T; N], u16), Stop> {
    let mut out = [zero; N];
    let mut bad = 0u16;
    p.bump();
    if p.empty_object() {
        return Ok((out, bad));
    }
    let mut at = 0;
    loop {
        let field = order.key(p, at, |key| names.iter().position(|n| same(n.as_bytes(), key)))?;
        at += 1;
        match field {
            Some(i) => {
                let v = p.value(&Shape::Scalar)?;
                let value = read(&v);
                if let Some(slot) = out.get_mut(i) {
                    *slot = value.unwrap_or(zero);
                }
                let bit = 1u16 << (i % 16);
                bad = if value.is_some() { bad & !bit } else { bad | bit };
            }
            None => p.skip_value()?,
        }
        if !p.member_end()? {
            return Ok((out, bad));
        }
    }
}

/// One entry of a usage or costs map: an object (or, in a compact call,
/// `list`, an array of the fields in order); None for anything else.
fn read_entry<T: Copy, const N: usize>(
    p: &mut Parser<'_>,
    order: &mut KeyOrder<Option<usize>>,
    names: &[&str; N],
    read: fn(&crate::json::Value) -> Option<T>,
    zero: T,
    list: bool,
) -> Result<Option<Read<[T; N]>>, Stop> {
    match p.peek() {
        Some(b'{') => read_fields(p, order, names, read, zero).map(Some),
        Some(b'[') if list => read_list(p, read, zero).map(Some),
        _ => p.skip_value().map(|()| None),
    }
}

/// A compact entry (at `[`): the N fields in order, each read as
/// [`read_fields`] reads it (`null` standing for an absent one).
fn read_list<T: Copy, const N: usize>(
    p: &mut Parser<'_>,
    read: fn(&crate::json::Value) -> Option<T>,
    zero: T,
) -> Result<([T; N], u16), Stop> {
    let mut out = [zero; N];
    let mut bad = 0u16;
    p.bump();
    for (i, slot) in out.iter_mut().enumerate() {
        if i > 0 {
            p.expect(b',', COMPACT)?;
        }
        let value = read(&p.value(&Shape::Scalar)?);
        *slot = value.unwrap_or(zero);
        if value.is_none() {
            bad |= 1 << (i % 16);
        }
    }
    p.expect(b']', COMPACT)?;
    Ok((out, bad))
}

/// A compact call or entry that is not as the objects path writes them.
const COMPACT: &str = "expected a compact call as the objects path writes it";

/// `started_at`: a string is read as an instant (unreadable: `NO_INSTANT`).
fn instant_field(p: &mut Parser<'_>) -> Result<Field<i64>, Stop> {
    p.skip_ws();
    Ok(match p.peek() {
        Some(b'"') => Field::Value(parse_instant(p.raw_string()?).unwrap_or(NO_INSTANT)),
        Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
        _ => p.skip_value().map(|()| Field::WrongType)?,
    })
}

/// `ended_at` / `deleted_at`: only whether a string is there matters.
fn flag_field(p: &mut Parser<'_>) -> Result<Field<()>, Stop> {
    p.skip_ws();
    Ok(match p.peek() {
        Some(b'"') => p.scan_string().map(|_| Field::Value(()))?,
        Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
        _ => p.skip_value().map(|()| Field::WrongType)?,
    })
}

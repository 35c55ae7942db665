//! Reading one call, in the object form a body has, into the table:
//! validating it as the contract says (a malformed call is a 422 at
//! `["calls", index, field]`), reading usage and costs as the reference
//! reads them, skipping everything else without building it. The compact
//! form the objects path writes is read by `compact`; the two meet in
//! [`Fields`], checked and stored in one place.
//!
//! Invariant: on `Err`, nothing of the call has been added to the table but
//! strings; on `Ok`, exactly one record and its usage entries.
//!
//! Out of line (`#[inline(never)]`): what runs once per call read in full
//! (its summary, its held strings, its start time) or once per usage
//! entry. Inlined, they made `object_fields` and `read_map`, which run for
//! every call, so large that a JavaScript engine took long to optimise
//! them, in the background, and a call made soon after the module loaded
//! ran them unoptimised (docs/performance.md). `scripts/build.sh` keeps
//! wasm-opt from inlining them back.

use super::keys::KeyOrder;
use super::wire::{COST_FIELDS, USAGE_FIELDS};
use super::{CallRec, CallTable, Costs, StatsRec, Sym, Unreadable, UsageRec, HAS_COSTS, NONE, NO_INSTANT, PROMPT_AND_INPUT, UNREADABLE};
use crate::error::{Detail, Kind, Loc, UsageError};
use crate::input::pynum::{try_py_float, try_py_int};
use crate::input::time::parse_instant;
use crate::json::{same, Failure, Parser, Shape, Stop, Value};
use crate::limits::{reserve, Exhausted};
use std::borrow::Cow;

/// The reader's state, kept from call to call.
pub(super) struct Reader {
    scratch: Scratch,
    /// The last symbol of each [`Recent`] kind.
    recent: [Sym; 7],
    /// The order of keys in calls and their usage and cost entries.
    orders: Orders,
}

impl Reader {
    pub(super) fn new() -> Reader {
        Reader { scratch: Scratch::default(), recent: [NONE; 7], orders: Orders::default() }
    }
}

/// Kinds of fields whose values repeat from one call to the next.
#[derive(Clone, Copy)]
pub(super) enum Recent {
    Trace,
    Parent,
    Project,
    Model,
    Op,
    User,
    Thread,
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
        debug_assert!(k < self.at.len(), "just grown to hold it");
        match self.at.get(k).copied().unwrap_or(0).checked_sub(1).and_then(|i| self.list.get_mut(i as usize)) {
            Some(slot) => slot.1 = value,
            None => {
                reserve(&mut self.list, 1)?;
                self.list.push((key, value));
                // At most one entry per symbol, and symbols are u32.
                debug_assert!(u32::try_from(self.list.len()).is_ok());
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

/// Why a call could not be read: the JSON itself, a malformed call, or no
/// memory left for it.
#[derive(Debug)]
pub(crate) enum ReadError {
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
    /// The stats fields, recognised only by a table made for stats.
    Op,
    User,
    Thread,
    Exception,
    Display,
    Other,
}

impl CallKey {
    /// Asked only about keys not recognised by their position (see
    /// [`KeyOrder`]), so a plain match does.
    fn of(key: &[u8], stats: bool) -> CallKey {
        match key {
            b"op_name" if stats => CallKey::Op,
            b"wb_user_id" if stats => CallKey::User,
            b"thread_id" if stats => CallKey::Thread,
            b"exception" if stats => CallKey::Exception,
            b"display_name" if stats => CallKey::Display,
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
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
    WrongType,
}

/// What [`CallTable::object_fields`] made of a call.
enum Outcome {
    Fields(Fields),
    /// Checked, and not reached by the request: nothing of it is kept.
    Passed,
    /// To be read again, in full, from its start.
    Again,
}

/// The string fields of a call only checked so far (its other fields are
/// flags, kept in its `Fields` as they are).
#[derive(Default)]
struct Held<'a> {
    id: Field<Cow<'a, [u8]>>,
    trace: Field<Cow<'a, [u8]>>,
    parent: Field<Cow<'a, [u8]>>,
    project: Field<Cow<'a, [u8]>>,
    started: Field<Cow<'a, [u8]>>,
}

/// Checks the member `key` of a call at `p` without reading it: its string
/// fields are held, its flags set, its summary only checked.
fn hold<'a>(p: &mut Parser<'a>, key: CallKey, held: &mut Held<'a>, f: &mut Fields) -> Result<(), ReadError> {
    let text = |p: &mut Parser<'a>| -> Result<Field<Cow<'a, [u8]>>, ReadError> {
        p.skip_ws();
        Ok(match p.peek() {
            Some(b'"') => Field::Value(p.raw_string()?),
            Some(b'n') => p.literal(b"null").map(|()| Field::Null)?,
            _ => p.skip_value().map(|()| Field::WrongType)?,
        })
    };
    match key {
        CallKey::Id => held.id = text(p)?,
        CallKey::Trace => held.trace = text(p)?,
        CallKey::Parent => held.parent = text(p)?,
        CallKey::Project => held.project = text(p)?,
        CallKey::Started => held.started = text(p)?,
        CallKey::Ended => f.ended = flag_field(p)?,
        CallKey::Deleted => f.deleted = flag_field(p)?,
        CallKey::Summary => f.summary = field(p, b'{', |p| Ok(p.skip_value()?))?,
        _ => p.skip_value()?,
    }
    Ok(())
}

impl<T> Field<T> {
    fn is_wrong(&self) -> bool {
        matches!(self, Field::WrongType)
    }

    /// The same field with its value, if any, made by `f`.
    fn try_map<U, E>(&self, f: impl FnOnce(&T) -> Result<U, E>) -> Result<Field<U>, E> {
        Ok(match self {
            Field::Value(v) => Field::Value(f(v)?),
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::WrongType => Field::WrongType,
        })
    }
}

/// A field whose JSON type opens with `open` (`"` or `{`), read by `read`;
/// `null`; or another type, skipped. The one place a field's type is told.
pub(super) fn field<T>(
    p: &mut Parser<'_>,
    open: u8,
    read: impl FnOnce(&mut Parser<'_>) -> Result<T, ReadError>,
) -> Result<Field<T>, ReadError> {
    p.skip_ws();
    match p.peek() {
        Some(c) if c == open => read(p).map(Field::Value),
        Some(b'n') => Ok(p.literal(b"null").map(|()| Field::Null)?),
        _ => Ok(p.skip_value().map(|()| Field::WrongType)?),
    }
}

/// `started_at`: a string is read as an instant (unreadable: `NO_INSTANT`).
#[inline(never)]
pub(super) fn instant_field(p: &mut Parser<'_>) -> Result<Field<i64>, ReadError> {
    field(p, b'"', |p| Ok(parse_instant(p.raw_string()?).unwrap_or(NO_INSTANT)))
}

/// `ended_at` / `deleted_at`: only whether a string is there matters.
pub(super) fn flag_field(p: &mut Parser<'_>) -> Result<Field<()>, ReadError> {
    field(p, b'"', |p| Ok(p.scan_string().map(|_| ())?))
}

/// `exception`: only whether it is there and not null matters, whatever
/// its type (Weave writes a string; anything non-null is an error).
pub(super) fn presence_field(p: &mut Parser<'_>) -> Result<Field<()>, ReadError> {
    p.skip_ws();
    if p.peek() == Some(b'n') {
        return Ok(p.literal(b"null").map(|()| Field::Null)?);
    }
    p.skip_value()?;
    Ok(Field::Value(()))
}

/// The fields of one call as read, in either form.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) id: Field<Sym>,
    pub(super) trace: Field<Sym>,
    pub(super) parent: Field<Sym>,
    pub(super) project: Field<Sym>,
    pub(super) started: Field<i64>,
    pub(super) ended: Field<()>,
    pub(super) deleted: Field<()>,
    pub(super) summary: Field<()>,
    /// Read only by a table made for stats.
    pub(super) op: Field<Sym>,
    pub(super) user: Field<Sym>,
    pub(super) thread: Field<Sym>,
    pub(super) exception: Field<()>,
    /// Read only by a table made for stats, and never checked: no answer
    /// but the calls' listing reads it (see [`StatsRec::display`]).
    pub(super) display: Field<Sym>,
}

impl Fields {
    /// The call's id and trace id, or every problem with its fields, in
    /// field order, as pydantic reports them.
    fn checked(&self, index: usize) -> Result<(Sym, Sym), UsageError> {
        let mut errors = Vec::new();
        let at = |field: &str| vec![Loc::from("calls"), Loc::Index(index), Loc::from(field)];
        for (field, state) in [("id", self.id), ("trace_id", self.trace)] {
            match state {
                Field::Value(_) => {}
                Field::Absent => errors.push(Detail::of(at(field), Kind::Missing)),
                Field::Null | Field::WrongType => errors.push(Detail::of(at(field), Kind::StringType)),
            }
        }
        let optional = [
            ("parent_id", self.parent == Field::WrongType),
            ("project_id", self.project == Field::WrongType),
            ("started_at", self.started == Field::WrongType),
            ("ended_at", self.ended == Field::WrongType),
            ("deleted_at", self.deleted == Field::WrongType),
        ];
        for (field, wrong) in optional {
            if wrong {
                errors.push(Detail::of(at(field), Kind::StringType));
            }
        }
        if self.summary == Field::WrongType {
            errors.push(Detail::of(at("summary"), Kind::DictType));
        }
        // Only a stats table reads these, so only it can find them wrong.
        for (field, wrong) in [("op_name", self.op), ("wb_user_id", self.user), ("thread_id", self.thread)] {
            if wrong == Field::WrongType {
                errors.push(Detail::of(at(field), Kind::StringType));
            }
        }
        match (self.id, self.trace) {
            (Field::Value(id), Field::Value(trace)) if errors.is_empty() => Ok((id, trace)),
            _ => Err(UsageError::unprocessable(errors)),
        }
    }
}

impl CallTable {
    /// Reads the call at `index` of the input from `p` (at the start of a
    /// value). On `Err`, nothing has been added to the table but strings.
    pub(super) fn read_call(&mut self, p: &mut Parser<'_>, index: usize) -> Result<(), ReadError> {
        p.skip_ws();
        let compact = self.objects_path && p.peek() == Some(b'[');
        if p.peek() != Some(b'{') && !compact {
            // Read it whole first: an incomplete value must wait for more input.
            p.skip_value()?;
            return Err(ReadError::Call(UsageError::invalid_as(vec![Loc::from("calls"), Loc::Index(index)], Kind::DictType)));
        }
        let start = p.mark();
        p.bump();
        self.reader.scratch.usage.clear();
        self.reader.scratch.costs.clear();
        let fields = if compact {
            self.compact_fields(p)?
        } else {
            match self.object_fields(p, self.wanted.is_some())? {
                Outcome::Fields(f) => f,
                Outcome::Passed => return Ok(()),
                Outcome::Again => {
                    // From the start, in full: that also reports what is
                    // wrong with it exactly as for any call.
                    p.reset(start);
                    p.bump();
                    self.reader.scratch.usage.clear();
                    self.reader.scratch.costs.clear();
                    self.full_object_fields(p)?
                }
            }
        };
        let (id, trace) = fields.checked(index).map_err(ReadError::Call)?;
        self.store(&fields, id, trace)
    }

    /// [`CallTable::object_fields`] read in full.
    fn full_object_fields(&mut self, p: &mut Parser<'_>) -> Result<Fields, ReadError> {
        match self.object_fields(p, false)? {
            Outcome::Fields(f) => Ok(f),
            Outcome::Passed | Outcome::Again => {
                debug_assert!(false, "a call read in full is neither passed over nor read again");
                Err(ReadError::Json(Stop::Invalid(Failure { offset: p.pos(), what: "a call read in full was not read" })))
            }
        }
    }

    /// A call's fields from its object form (at the first key, `{` consumed).
    ///
    /// `light` (a table of one request, see `wanted`): its members are only
    /// checked, and its strings held, until its id and trace id tell
    /// whether the request reaches it. If it does, the strings held are
    /// read and the rest of the call is read in full; if it never does, the
    /// call is passed over ([`Outcome::Passed`]). A malformed call, bad JSON,
    /// or a call reached only after its `summary` was passed: [`Outcome::Again`],
    /// to be read in full from its start.
    fn object_fields<'a>(&mut self, p: &mut Parser<'a>, mut light: bool) -> Result<Outcome, ReadError> {
        let mut f = Fields::default();
        if p.empty_object() {
            return Ok(if light { Outcome::Again } else { Outcome::Fields(f) });
        }
        let mut held = Held::default();
        // Not read in full yet: the hashes of the id and trace id held.
        let mut hashes = None;
        let mut at = 0;
        let stats = self.stats().is_some();
        debug_assert!(!(light && stats), "a table of one request reads no stats fields");
        // While light, an error is the full reading's to report.
        let again = |e: ReadError| match e {
            ReadError::Json(Stop::NeedMore) => Err(e),
            _ => Ok(Outcome::Again),
        };
        loop {
            let key = match self.reader.orders.call.key(p, at, |k| CallKey::of(k, stats)) {
                Ok(key) => key,
                Err(e) if light => return again(e.into()),
                Err(e) => return Err(e.into()),
            };
            at += 1;
            if light {
                if let Err(e) = hold(p, key, &mut held, &mut f) {
                    return again(e);
                }
                if let (CallKey::Id | CallKey::Trace, Field::Value(id), Field::Value(trace), Some(wanted)) =
                    (key, &held.id, &held.trace, self.wanted.as_deref_mut())
                {
                    hashes = wanted.reaches(&self.strings, id, trace);
                    if hashes.is_none() {
                        if f.summary != Field::Absent {
                            return Ok(Outcome::Again);
                        }
                        self.read_held(&held, &mut f)?;
                        light = false;
                    }
                }
            } else {
                match key {
                    CallKey::Id => f.id = self.text_field(p, Recent::None)?,
                    CallKey::Trace => f.trace = self.text_field(p, Recent::Trace)?,
                    CallKey::Parent => f.parent = self.text_field(p, Recent::Parent)?,
                    CallKey::Project => f.project = self.text_field(p, Recent::Project)?,
                    CallKey::Started => f.started = instant_field(p)?,
                    CallKey::Ended => f.ended = flag_field(p)?,
                    CallKey::Deleted => f.deleted = flag_field(p)?,
                    CallKey::Summary => {
                        // The last `summary` counts: forget an earlier one's.
                        self.reader.scratch.usage.clear();
                        self.reader.scratch.costs.clear();
                        f.summary = field(p, b'{', |p| self.read_summary(p))?;
                    }
                    CallKey::Op => f.op = self.text_field(p, Recent::Op)?,
                    CallKey::User => f.user = self.text_field(p, Recent::User)?,
                    CallKey::Thread => f.thread = self.text_field(p, Recent::Thread)?,
                    CallKey::Exception => f.exception = presence_field(p)?,
                    CallKey::Display => f.display = self.text_field(p, Recent::None)?,
                    CallKey::Other => p.skip_value()?,
                }
            }
            match p.member_end() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if light => return again(e.into()),
                Err(e) => return Err(e.into()),
            }
        }
        if !light {
            return Ok(Outcome::Fields(f));
        }
        // Passed over only if it is a call as `Fields::checked` has it.
        let ids = matches!((&held.id, &held.trace), (Field::Value(_), Field::Value(_)));
        let wrong = [
            held.parent.is_wrong(),
            held.project.is_wrong(),
            held.started.is_wrong(),
            f.ended.is_wrong(),
            f.deleted.is_wrong(),
            f.summary.is_wrong(),
        ];
        match (hashes, self.wanted.as_deref_mut()) {
            (Some(hashes), Some(wanted)) if ids && !wrong.contains(&true) => {
                wanted.pass(hashes)?;
                Ok(Outcome::Passed)
            }
            _ => Ok(Outcome::Again),
        }
    }

    /// The strings held while a call was only checked, read as in full.
    #[inline(never)]
    fn read_held(&mut self, held: &Held<'_>, f: &mut Fields) -> Result<(), ReadError> {
        // Interned as `text_field` does.
        f.id = held.id.try_map(|s| self.intern_recent(s, Recent::None))?;
        f.trace = held.trace.try_map(|s| self.intern_recent(s, Recent::Trace))?;
        f.parent = held.parent.try_map(|s| self.intern_recent(s, Recent::Parent))?;
        f.project = held.project.try_map(|s| self.intern_recent(s, Recent::Project))?;
        f.started = held.started.try_map(|s| Ok::<_, Exhausted>(parse_instant(s).unwrap_or(NO_INSTANT)))?;
        Ok(())
    }

    /// Adds a call whose fields passed [`Fields::checked`], with the usage
    /// in the scratch space.
    fn store(&mut self, f: &Fields, id: Sym, trace: Sym) -> Result<(), ReadError> {
        reserve(&mut self.calls, 1)?;
        if let Some(stats) = self.stats_mut() {
            reserve(stats, 1)?;
        }
        debug_assert!(u32::try_from(self.usage.len()).is_ok(), "usage entries are counted in u32");
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
        if let Some(stats) = self.stats_mut() {
            stats.push(StatsRec {
                op: sym(f.op),
                user: sym(f.user),
                thread: sym(f.thread),
                display: sym(f.display),
                error: f.exception == Field::Value(()),
            });
        }
        self.calls.push(CallRec {
            id,
            trace,
            parent: sym(f.parent),
            project: sym(f.project),
            started: if let Field::Value(t) = f.started { t } else { NO_INSTANT },
            ended: f.ended == Field::Value(()),
            deleted: f.deleted == Field::Value(()),
            usage: (start, len),
        });
        Ok(())
    }

    /// A string-or-null field, interned.
    pub(super) fn text_field(&mut self, p: &mut Parser<'_>, recent: Recent) -> Result<Field<Sym>, ReadError> {
        field(p, b'"', |p| {
            let s = p.raw_string()?;
            Ok(self.intern_recent(&s, recent)?)
        })
    }

    /// `intern`, remembering the last symbol of each kind of field: calls of
    /// one trace and one project come together, so most trace and project
    /// ids (and many parents) are the previous call's, found by one compare.
    pub(super) fn intern_recent(&mut self, s: &[u8], recent: Recent) -> Result<Sym, Exhausted> {
        let slot = self.reader.recent.get(recent as usize).copied();
        if let Some(slot) = slot.filter(|&slot| slot != NONE && same(self.bytes(slot), s)) {
            return Ok(slot);
        }
        let sym = self.strings.intern(s)?;
        if let Some(r) = self.reader.recent.get_mut(recent as usize) {
            *r = sym;
        }
        Ok(sym)
    }

    /// `summary` (at `{`): `usage` and `weave.costs`; the last of duplicate
    /// keys wins, as in `json.loads`.
    #[inline(never)]
    fn read_summary(&mut self, p: &mut Parser<'_>) -> Result<(), ReadError> {
        p.bump();
        if p.empty_object() {
            return Ok(());
        }
        loop {
            let key = p.key()?;
            match key.as_ref() {
                b"usage" => {
                    self.reader.scratch.usage.clear();
                    self.read_map(p, Map::Usage, false)?;
                }
                b"weave" => {
                    self.reader.scratch.costs.clear();
                    p.skip_ws();
                    if p.peek() == Some(b'{') {
                        p.bump();
                        if !p.empty_object() {
                            loop {
                                let key = p.key()?;
                                if key.as_ref() == b"costs" {
                                    self.reader.scratch.costs.clear();
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
    pub(super) fn read_map(&mut self, p: &mut Parser<'_>, map: Map, compact: bool) -> Result<(), ReadError> {
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
                    let entry = read_entry(p, &mut self.reader.orders.usage, &USAGE_FIELDS, try_py_int, 0, compact)?;
                    self.reader.scratch.usage.upsert(model, entry)?;
                }
                Map::Costs => {
                    let entry = read_entry(p, &mut self.reader.orders.costs, &COST_FIELDS, try_py_float, 0.0, compact)?;
                    self.reader.scratch.costs.upsert(model, entry)?;
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
        debug_assert!(u32::try_from(self.calls.len()).is_ok(), "calls are counted in u32");
        let call = u32::try_from(self.calls.len()).unwrap_or(u32::MAX);
        reserve(&mut self.usage, self.reader.scratch.usage.list.len())?;
        let Scratch { usage, costs } = &self.reader.scratch;
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
pub(super) enum Map {
    Usage,
    Costs,
}

/// The named fields of an object (at `{`), each read with `read`; others are
/// skipped; absent ones are `zero`, and so are unreadable ones (`read` gives
/// `None`), which also set their bit in the returned mask. Of duplicate keys
/// the last counts, for the mask too.
#[inline(never)]
fn read_fields<T: Copy, const N: usize>(
    p: &mut Parser<'_>,
    order: &mut KeyOrder<Option<usize>>,
    names: &[&str; N],
    read: fn(&Value) -> Option<T>,
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
pub(super) fn read_entry<T: Copy, const N: usize>(
    p: &mut Parser<'_>,
    order: &mut KeyOrder<Option<usize>>,
    names: &[&str; N],
    read: fn(&Value) -> Option<T>,
    zero: T,
    list: bool,
) -> Result<Option<Read<[T; N]>>, Stop> {
    match p.peek() {
        Some(b'{') => read_fields(p, order, names, read, zero).map(Some),
        Some(b'[') if list => read_list(p, read, zero).map(Some),
        _ => p.skip_value().map(|()| None),
    }
}

/// A compact call or entry that is not as the objects path writes them.
pub(super) const COMPACT: &str = "expected a compact call as the objects path writes it";

/// A compact entry (at `[`): the N fields in order, each read as
/// `read::read_fields` reads it (`null` standing for an absent one).
#[inline(never)]
fn read_list<T: Copy, const N: usize>(p: &mut Parser<'_>, read: fn(&Value) -> Option<T>, zero: T) -> Result<([T; N], u16), Stop> {
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

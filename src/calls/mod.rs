//! The calls stage: a body's calls, read into a compact table. Framing a
//! body that arrives in chunks ([`CallStream`], `stream`), recognising keys
//! by the order the last call wrote them (`keys`), reading one call in its
//! object or compact form (`read`, `compact`), interning its strings
//! (`interner`), and the field names and compact layout JavaScript and Rust
//! exchange (`wire`). It knows nothing of usage: the next stage reads the
//! table through [`CallTable`]'s methods alone.
//!
//! Calls are stored as the rollup needs them: every string (ids, trace ids,
//! project ids, model names) once, referred to by a [`Sym`]; a fixed-size
//! [`CallRec`] per call; usage entries in one shared array. Memory grows
//! with the fields the rollup reads, never with `inputs` or `output`, which
//! the reader skips without building.
//!
//! A table made for one `/calls/usage` request (`CallStream::for_calls`)
//! reads in full only the calls the request can reach and checks and passes
//! over the rest (`wanted`); [`CallTable::complete`] says whether that was
//! enough.
//!
//! A table made for stats (`CallStream::for_stats`) also reads each call's
//! [`wire::STATS_FIELDS`], and from a body its `display_name`, into a
//! [`StatsRec`] beside its record; any other table skips them.
//!
//! Invariants: every `Sym` in a record names a string of the table's
//! interner; a call's `usage` span lies within the usage array and names
//! each model at most once (the last value read for a model counts); records are
//! in input order and only ever appended; a stats table has one `StatsRec`
//! per record.

mod compact;
mod interner;
mod keys;
mod part;
mod read;
mod stream;
mod wanted;
pub mod wire;

pub use part::{parts_have_stats, PartError, Select};
pub use stream::CallStream;
pub use wire::{value_field, COST_FIELDS, USAGE_FIELDS};

use crate::error::{Kind, Loc, UsageError};
use crate::limits::{mib, Exhausted};
use interner::Interner;
pub(crate) use read::ReadError;
use read::Reader;
use wanted::Wanted;

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

/// Whether a table can be made for stats: natively always; in wasm only
/// with the crate's `stats` feature (the `weave-usage/stats` module, whose
/// boundary alone makes such tables: docs/architecture.md, "Two modules").
/// A constant, so that the main module's reader drops the stats fields'
/// code (1.8 KB gzipped of its size budget).
pub(crate) const STATS_TABLES: bool = cfg!(any(feature = "stats", not(target_arch = "wasm32")));

/// The fields of a call that only stats read ([`wire::STATS_FIELDS`]),
/// kept beside its [`CallRec`] (same index) by a table made for stats, so
/// that a table made for `/calls/usage` holds nothing more per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsRec {
    /// `op_name`, `wb_user_id`, `thread_id`: `NONE` when absent or null.
    pub op: Sym,
    pub user: Sym,
    pub thread: Sym,
    /// `display_name` (`NONE`: absent, null or not a string, which is no
    /// error: only the calls' listing reads it). Read from a body's calls
    /// only: the objects path's compact calls do not carry it, and nothing
    /// made from objects lists calls.
    pub display: Sym,
    /// `exception` is present and not null.
    pub error: bool,
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

/// All calls read so far.
pub struct CallTable {
    strings: Interner,
    calls: Vec<CallRec>,
    usage: Vec<UsageRec>,
    /// Values read as 0 because unreadable, in call order. Empty unless such
    /// values occur, so it costs nothing on clean input.
    unreadable: Vec<Unreadable>,
    /// Per call, its stats fields; `None` when the table was not made for
    /// stats (the fields are then skipped like any other).
    stats: Option<Vec<StatsRec>>,
    /// The calls came from the objects path (`callsUsage`), which may write a
    /// call in its compact form (see `wire`), not from a body: errors are
    /// located at `["calls"]` rather than `["body"]`.
    objects_path: bool,
    reader: Reader,
    /// For a table of one `/calls/usage` request: what it can reach, so that
    /// the other calls are passed over (see `wanted`).
    wanted: Option<Box<Wanted>>,
}

impl CallTable {
    pub(crate) fn new(objects_path: bool) -> CallTable {
        CallTable::reading(objects_path, false)
    }

    /// A table that also reads the stats fields (`stats`) or not.
    /// The reader asks [`stats_mut`](Self::stats_mut), so that in the
    /// main wasm module, which has no stats, their code is dropped.
    pub(crate) fn reading(objects_path: bool, stats: bool) -> CallTable {
        CallTable {
            strings: Interner::new(),
            calls: Vec::new(),
            usage: Vec::new(),
            unreadable: Vec::new(),
            stats: if stats { Some(Vec::new()) } else { None },
            objects_path,
            reader: Reader::new(),
            wanted: None,
        }
    }

    /// Whether every call that can count for the request this table was made
    /// for has been read, not passed over (always, for a table of all calls).
    pub fn complete(&self) -> bool {
        self.wanted.as_ref().is_none_or(|w| w.complete(&self.strings))
    }

    /// Whether this table holds, read in full, every call whose id or trace
    /// id is one of `strings` (besides being [`complete`](Self::complete)):
    /// for a shard read for one request, which the request's other shards
    /// may show to reach calls it passed over.
    pub fn read_all_of<'s>(&self, strings: impl Iterator<Item = &'s str>) -> Result<bool, Exhausted> {
        match &self.wanted {
            None => Ok(true),
            Some(w) => Ok(w.complete(&self.strings) && w.passed_none_of(&self.strings, strings)?),
        }
    }

    /// The calls, in input order.
    pub fn calls(&self) -> &[CallRec] {
        &self.calls
    }

    /// The usage entries of a call.
    pub fn usage_of(&self, call: &CallRec) -> &[UsageRec] {
        let (start, len) = (call.usage.0 as usize, call.usage.1 as usize);
        debug_assert!(start + len <= self.usage.len(), "a record's usage lies within the usage array");
        self.usage.get(start..start + len).unwrap_or_default()
    }

    /// Each call's stats fields (indexed like [`calls`](Self::calls)), if
    /// the table was made for stats.
    pub fn stats(&self) -> Option<&[StatsRec]> {
        self.stats.as_deref().filter(|_| STATS_TABLES)
    }

    /// [`stats`](Self::stats), to append to.
    pub(crate) fn stats_mut(&mut self) -> Option<&mut Vec<StatsRec>> {
        self.stats.as_mut().filter(|_| STATS_TABLES)
    }

    /// Values read as 0 because unreadable, in call order.
    pub fn unreadable(&self) -> &[Unreadable] {
        &self.unreadable
    }

    /// Adds a string, for tests that need symbols without calls.
    #[cfg(test)]
    pub(crate) fn intern(&mut self, s: &[u8]) -> Result<Sym, Exhausted> {
        self.strings.intern(s)
    }

    /// The symbol of `s`, if it has been seen.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.strings.lookup(s.as_bytes())
    }

    /// The UTF-8 bytes of a symbol (byte order is code point order).
    pub fn bytes(&self, sym: Sym) -> &[u8] {
        self.strings.bytes(sym)
    }

    /// The text of a symbol.
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.str(sym)
    }

    /// How many distinct strings the table holds.
    pub fn symbols(&self) -> usize {
        self.strings.len()
    }

    /// Bytes held, roughly: for reporting memory use.
    pub fn heap_bytes(&self) -> usize {
        self.strings.heap_bytes()
            + self.calls.capacity() * std::mem::size_of::<CallRec>()
            + self.usage.capacity() * std::mem::size_of::<UsageRec>()
            + self.unreadable.capacity() * std::mem::size_of::<Unreadable>()
            + self.stats.as_ref().map_or(0, |s| s.capacity() * std::mem::size_of::<StatsRec>())
            + self.wanted.as_ref().map_or(0, |w| w.heap_bytes())
    }

    /// The 413 for calls that do not fit in memory (`e`: what could not be
    /// allocated), located at the calls (`["calls"]` for the objects path,
    /// `["body"]` for a body).
    pub fn too_large(&self, e: Exhausted) -> UsageError {
        let loc = if self.objects_path { "calls" } else { "body" };
        let msg = format!(
            "The calls do not fit in the module's memory: {} calls read ({} distinct ids and names) take {} MiB, and {} MiB more could not be allocated (a wasm module addresses at most 4 GiB)",
            self.calls.len(),
            self.symbols(),
            mib(self.heap_bytes()),
            mib(e.bytes)
        );
        UsageError::too_large(vec![Loc::from(loc)], Kind::PayloadTooLarge, msg)
    }
}

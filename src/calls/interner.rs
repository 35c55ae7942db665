//! The string interner: every id, trace id, project id and model name of a
//! body once, back to back in one arena, referred to by a [`Sym`]. Its hash
//! is keyed SipHash (`crate::hash`): ids are the input's, so they must not
//! be able to choose their buckets. Each string's 64-bit hash is kept, so
//! that growing the index reads no string again, and so that a string can
//! be looked for by its hash alone ([`Interner::holds_hash`]).
//!
//! Invariant: `spans` and `hashes` have an entry per symbol, in symbol
//! order, and `index` holds every symbol once.

use hashbrown::HashTable;

use super::{Sym, NONE};
use crate::hash::{fold, spread, Keys};
use crate::json::same;
use crate::limits::{reserve, Exhausted};

pub(super) struct Interner {
    /// Every string once, back to back (UTF-8: the scanner checked it).
    arena: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Each symbol's hash, so that growing `index` reads no string again.
    hashes: Vec<u64>,
    index: HashTable<Sym>,
    keys: Keys,
}

impl Interner {
    pub(super) fn new() -> Interner {
        Interner { arena: Vec::new(), spans: Vec::new(), hashes: Vec::new(), index: HashTable::new(), keys: Keys::fresh() }
    }

    /// An empty interner hashing as this one does: a string's
    /// [`Interner::hash64`] is the same in both.
    pub(super) fn same_keys(&self) -> Interner {
        Interner { keys: self.keys, ..Interner::new() }
    }

    /// The symbol of `s`, added if new; the memory a new one takes is
    /// reserved fallibly first.
    pub(super) fn intern(&mut self, s: &[u8]) -> Result<Sym, Exhausted> {
        self.make_room(s.len())?;
        Ok(self.insert(s))
    }

    /// [`Interner::intern`] once its room is made: growing allocates nothing.
    fn insert(&mut self, s: &[u8]) -> Sym {
        let hash = self.keys.hash64(s);
        if let Some(&sym) = self.index.find(spread(fold(hash)), |sym| same(self.bytes(*sym), s)) {
            return sym;
        }
        // Symbols are u32 below NONE: wasm32 memory holds fewer strings.
        debug_assert!(self.spans.len() < NONE as usize);
        let sym = Sym::try_from(self.spans.len()).unwrap_or(NONE - 1);
        let start = self.arena.len();
        self.arena.extend_from_slice(s);
        self.spans.push((start, self.arena.len()));
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.index.insert_unique(spread(fold(hash)), sym, |sym| spread(fold(hash_of(hashes, *sym))));
        sym
    }

    /// Room for one more string of `len` bytes, reserved fallibly, so that
    /// `insert` (whose growth is infallible) allocates nothing.
    fn make_room(&mut self, len: usize) -> Result<(), Exhausted> {
        reserve(&mut self.arena, len)?;
        reserve(&mut self.spans, 1)?;
        reserve(&mut self.hashes, 1)?;
        // No entry is ever removed, so `capacity` is entries + room left.
        if self.index.len() == self.index.capacity() {
            let before = self.index.capacity();
            let hashes = &self.hashes;
            let rehash = |sym: &Sym| spread(fold(hash_of(hashes, *sym)));
            let bytes = before.saturating_mul(2 * (std::mem::size_of::<Sym>() + 1));
            self.index.try_reserve(1, rehash).map_err(|_| Exhausted { bytes })?;
            crate::limits::room(0).map_err(|_| Exhausted { bytes })?;
        }
        debug_assert!(self.index.capacity() > self.index.len() && self.spans.capacity() > self.spans.len());
        Ok(())
    }

    /// The symbol of `s`, if it has been seen.
    pub(super) fn lookup(&self, s: &[u8]) -> Option<Sym> {
        self.lookup_hashed(self.hash64(s), s)
    }

    /// [`Interner::lookup`] of `s` whose [`Interner::hash64`] is `hash`.
    pub(super) fn lookup_hashed(&self, hash: u64, s: &[u8]) -> Option<Sym> {
        debug_assert_eq!(hash, self.hash64(s), "the hash is of `s`, under these keys");
        self.index.find(spread(fold(hash)), |sym| same(self.bytes(*sym), s)).copied()
    }

    /// The 64-bit keyed hash this interner's index is built from.
    pub(super) fn hash64(&self, s: &[u8]) -> u64 {
        self.keys.hash64(s)
    }

    /// Whether a string whose [`Interner::hash64`] is `hash` is held (or,
    /// rarely, another string with the same 64-bit hash).
    pub(super) fn holds_hash(&self, hash: u64) -> bool {
        self.index.find(spread(fold(hash)), |sym| hash_of(&self.hashes, *sym) == hash).is_some()
    }

    /// The UTF-8 bytes of a symbol (byte order is code point order).
    pub(super) fn bytes(&self, sym: Sym) -> &[u8] {
        debug_assert!((sym as usize) < self.spans.len(), "every symbol in use was interned here");
        self.spans.get(sym as usize).and_then(|&(a, b)| self.arena.get(a..b)).unwrap_or_default()
    }

    /// The text of a symbol.
    pub(super) fn str(&self, sym: Sym) -> &str {
        let text = std::str::from_utf8(self.bytes(sym));
        debug_assert!(text.is_ok(), "the scanner checked every string's UTF-8");
        text.unwrap_or_default()
    }

    /// How many distinct strings it holds.
    pub(super) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Bytes held, roughly: for reporting memory use.
    pub(super) fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.spans.capacity() * std::mem::size_of::<(usize, usize)>()
            + self.hashes.capacity() * std::mem::size_of::<u64>()
            + self.index.capacity() * (std::mem::size_of::<Sym>() + 1)
    }
}

/// The hash of a symbol the index holds: it has one by the invariant.
fn hash_of(hashes: &[u64], sym: Sym) -> u64 {
    debug_assert!((sym as usize) < hashes.len(), "every symbol in the index has a hash");
    hashes.get(sym as usize).copied().unwrap_or(0)
}

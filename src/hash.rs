//! Keyed hashing for every hash table whose keys come from the input: the
//! interner's strings ([`crate::calls::CallTable`]), the request's ids, the
//! per-model indexes of the rollup and the pricer.
//!
//! Ids, trace ids and model names are chosen by whoever wrote the body, so a
//! hash they could predict would let a hostile export put every id in one
//! bucket and make each insertion scan all the others (a freeze of the page,
//! quadratic in the number of ids). Two things prevent it:
//!
//! - **The hash is SipHash-1-3** (the hash of Rust's `HashMap` and of
//!   CPython's `str`), a keyed pseudorandom function: without the key, which
//!   strings collide cannot be computed, and nothing the module outputs
//!   depends on the hash, so the key cannot be learnt from answers either.
//!   Multiply–rotate hashes are faster but let a chosen difference in the
//!   top bits of a word survive the multiply whatever the key, which yields
//!   key-independent collisions.
//! - **Keys are random per instance and per table.** wasm32-unknown-unknown
//!   has no entropy source: the JavaScript boundary hands in 128 bits from
//!   `crypto.getRandomValues` at the first call into the module ([`seed`];
//!   at a later one if the runtime refused randomness then);
//!   natively, std's randomly keyed `RandomState` supplies them. Each table
//!   then gets its own keys ([`Keys::fresh`]), derived from the instance's by
//!   SipHash of a counter.
//!
//! The interner keeps each string's 64-bit hash, so that growing its index
//! rereads no string, and indexes by 32 bits of it ([`fold`]; [`spread`]
//! turns them into what hashbrown takes).

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A 128-bit SipHash key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Keys {
    k0: u64,
    k1: u64,
}

/// The instance's key (set once, by [`seed`] or on first use natively) and
/// how many table keys have been derived from it. Atomics only because
/// statics must be `Sync`: a wasm instance is single-threaded.
static INSTANCE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static SEEDED: AtomicBool = AtomicBool::new(false);
static DERIVED: AtomicU64 = AtomicU64::new(0);

/// Sets the instance's key from 16 random bytes. The JavaScript boundary
/// calls it at the first entry into the module (or, where the runtime
/// refused randomness then, at the first entry where it did not); a later
/// call replaces the key for tables made afterwards.
pub fn seed(entropy: [u8; 16]) {
    let [a, b, c, d, e, f, g, h, rest @ ..] = entropy;
    let [i, j, k, l, m, n, o, p] = rest;
    INSTANCE[0].store(u64::from_le_bytes([a, b, c, d, e, f, g, h]), Ordering::Relaxed);
    INSTANCE[1].store(u64::from_le_bytes([i, j, k, l, m, n, o, p]), Ordering::Relaxed);
    SEEDED.store(true, Ordering::Relaxed);
}

/// The instance's key. Natively it comes from std's `RandomState` (keyed by
/// the operating system's randomness) on first use; in wasm the boundary has
/// seeded it, unless the runtime refused randomness so far.
fn instance() -> Keys {
    // In wasm std's `RandomState` is keyed by addresses, which are the same
    // in every instance: only the boundary's entropy will do there, and it
    // replaces this key once the runtime gives it.
    if !SEEDED.load(Ordering::Relaxed) {
        let state = std::collections::hash_map::RandomState::new();
        let mut entropy = [0u8; 16];
        entropy[..8].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        entropy[8..].copy_from_slice(&state.hash_one(2u8).to_le_bytes());
        seed(entropy);
    }
    Keys { k0: INSTANCE[0].load(Ordering::Relaxed), k1: INSTANCE[1].load(Ordering::Relaxed) }
}

impl Keys {
    /// Keys for one more table: the instance key's SipHash of a counter, so
    /// that no two tables of an instance (nor of two instances) share keys.
    pub fn fresh() -> Keys {
        let instance = instance();
        let n = DERIVED.fetch_add(1, Ordering::Relaxed);
        let [a, b] = [2 * n, 2 * n + 1].map(|i| instance.hash64(&i.to_le_bytes()));
        Keys { k0: a, k1: b }
    }

    /// SipHash-1-3 of `s` under these keys.
    #[inline]
    pub fn hash64(&self, s: &[u8]) -> u64 {
        sip::<1, 3>(*self, s)
    }
}

/// 32 bits of a [`Keys::hash64`]: what the interner indexes by.
#[inline]
pub fn fold(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

/// A 32-bit hash as the 64 bits hashbrown takes: it indexes with the low
/// bits and tags with the top seven (of the low 32 on a 32-bit target), so
/// both halves carry the hash.
#[inline]
pub fn spread(h: u32) -> u64 {
    u64::from(h) * 0x1_0000_0001
}

/// The [`BuildHasher`] of the crate's `HashMap`s and `HashSet`s: SipHash-1-3
/// under fresh [`Keys`] for each map.
#[derive(Clone)]
pub struct RandomKeys(Keys);

impl Default for RandomKeys {
    fn default() -> Self {
        RandomKeys(Keys::fresh())
    }
}

impl BuildHasher for RandomKeys {
    type Hasher = Sip<1, 3>;

    fn build_hasher(&self) -> Sip<1, 3> {
        Sip::new(self.0)
    }
}

/// SipHash-c-d (Aumasson and Bernstein, 2012): `C` rounds per 8-byte word,
/// `D` to finish. Bytes may be written in any pieces.
#[derive(Clone)]
pub struct Sip<const C: usize, const D: usize> {
    v: [u64; 4],
    /// The bytes of an unfinished word, little-endian, and how many.
    tail: u64,
    ntail: usize,
    /// Bytes written (only its low byte is hashed).
    len: usize,
}

impl<const C: usize, const D: usize> Sip<C, D> {
    #[inline]
    fn new(keys: Keys) -> Self {
        let Keys { k0, k1 } = keys;
        let v = [k0 ^ 0x736f_6d65_7073_6575, k1 ^ 0x646f_7261_6e64_6f6d, k0 ^ 0x6c79_6765_6e65_7261, k1 ^ 0x7465_6462_7974_6573];
        Sip { v, tail: 0, ntail: 0, len: 0 }
    }

    #[inline(always)]
    fn word(&mut self, w: u64) {
        self.v[3] ^= w;
        for _ in 0..C {
            round(&mut self.v);
        }
        self.v[0] ^= w;
    }
}

impl<const C: usize, const D: usize> Hasher for Sip<C, D> {
    #[inline]
    fn write(&mut self, mut m: &[u8]) {
        self.len = self.len.wrapping_add(m.len());
        if self.ntail > 0 {
            while self.ntail < 8 {
                let Some((&b, rest)) = m.split_first() else { return };
                self.tail |= u64::from(b) << (8 * self.ntail);
                self.ntail += 1;
                m = rest;
            }
            let w = self.tail;
            self.word(w);
            (self.tail, self.ntail) = (0, 0);
        }
        let mut words = m.chunks_exact(8);
        for w in &mut words {
            self.word(<[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes));
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            self.tail |= u64::from(b) << (8 * i);
        }
        self.ntail = words.remainder().len();
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.clone();
        // The last 0–7 bytes, with the length's low byte on top.
        h.word(self.tail | (self.len as u64) << 56);
        h.v[2] ^= 0xff;
        for _ in 0..D {
            round(&mut h.v);
        }
        h.v[0] ^ h.v[1] ^ h.v[2] ^ h.v[3]
    }
}

/// SipHash-c-d of `m` under `keys`.
#[inline]
fn sip<const C: usize, const D: usize>(keys: Keys, m: &[u8]) -> u64 {
    let mut h = Sip::<C, D>::new(keys);
    h.write(m);
    h.finish()
}

#[inline(always)]
fn round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The key of the SipHash paper's test vectors: bytes 00..0f.
    const PAPER_KEY: Keys = Keys { k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908 };

    #[test]
    fn siphash_2_4_matches_the_paper_and_std() {
        // The paper's vector for the 15-byte message 00..0e.
        let m: Vec<u8> = (0..15).collect();
        assert_eq!(sip::<2, 4>(PAPER_KEY, &m), 0xa129_ca61_49be_45e5);
        // And std's SipHash-2-4 for every length up to 64 under random keys:
        // the same rounds, message padding and finalisation as our 1-3.
        let keys = Keys::fresh();
        for n in 0..=64 {
            let m: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            #[allow(deprecated)] // std's SipHasher is deprecated but still SipHash-2-4: the oracle.
            let mut want = std::hash::SipHasher::new_with_keys(keys.k0, keys.k1);
            want.write(&m);
            assert_eq!(sip::<2, 4>(keys, &m), want.finish(), "length {n}");
        }
    }

    #[test]
    fn siphash_1_3_matches_std() {
        // std's `DefaultHasher::new()` is SipHash-1-3 under the key (0, 0).
        for n in 0..=64 {
            let m: Vec<u8> = (0..n).map(|i| (i * 53 + 7) as u8).collect();
            let mut want = std::collections::hash_map::DefaultHasher::new();
            want.write(&m);
            assert_eq!(sip::<1, 3>(Keys { k0: 0, k1: 0 }, &m), want.finish(), "length {n}");
        }
    }

    #[test]
    fn every_table_gets_its_own_keys() {
        let keys: HashSet<(u64, u64)> = (0..1000).map(|_| Keys::fresh()).map(|k| (k.k0, k.k1)).collect();
        assert_eq!(keys.len(), 1000);
        let a = Keys::fresh();
        let b = Keys::fresh();
        let differ =
            (0..1000).filter(|i| fold(a.hash64(format!("id-{i}").as_bytes())) != fold(b.hash64(format!("id-{i}").as_bytes()))).count();
        assert!(differ > 990, "{differ} of 1000 hash apart");
    }

    /// Pairs of words whose difference a multiply–rotate hash carries through
    /// whatever its seed (a flip of bit 62 and, in the next word, of bit 21
    /// or of bits 21 and 22): ids built from them collided in large classes
    /// under the interner's former hash. Under SipHash they spread like any.
    #[test]
    fn ids_crafted_against_multiply_rotate_spread() {
        let ids = crafted_ids(14);
        let keys = Keys::fresh();
        let hashes: HashSet<u32> = ids.iter().map(|id| fold(keys.hash64(id))).collect();
        // 16,384 ids; random 32-bit hashes would collide in ~0.03 pairs.
        assert!(hashes.len() >= ids.len() - 2, "{} distinct hashes of {}", hashes.len(), ids.len());
        let low: HashSet<u64> = ids.iter().map(|id| spread(fold(keys.hash64(id))) & 0x3fff).collect();
        assert!(low.len() > 9_000, "low 14 bits: {} distinct of 16,384", low.len());
    }

    /// `2^segments` ASCII ids, each of `segments` 16-byte segments in one of
    /// two forms that differ only in bit 62 of the first word (byte 7: 'a'
    /// vs '!') and in bit 21 of the second (byte 2: 'b' vs 'B').
    fn crafted_ids(segments: u32) -> Vec<Vec<u8>> {
        (0..1u32 << segments)
            .map(|n| {
                let mut id = Vec::new();
                for s in 0..segments {
                    let flip = n >> s & 1 == 1;
                    id.extend_from_slice(if flip { b"seg-xyz!" } else { b"seg-xyza" });
                    id.extend_from_slice(if flip { b"qrBstuvw" } else { b"qrbstuvw" });
                }
                id
            })
            .collect()
    }

    #[test]
    fn bytes_written_in_pieces_hash_as_one_write() {
        let keys = Keys::fresh();
        let m: Vec<u8> = (0..40u8).collect();
        for a in 0..=m.len() {
            for b in a..=m.len() {
                let mut h = Sip::<1, 3>::new(keys);
                h.write(&m[..a]);
                h.write(&m[a..b]);
                h.write(&m[b..]);
                assert_eq!(h.finish(), keys.hash64(&m), "split at {a} and {b}");
            }
        }
    }

    #[test]
    fn the_hasher_hashes_what_was_written() {
        let build = RandomKeys::default();
        assert_eq!(build.hash_one("abc"), build.hash_one("abc"));
        assert_ne!(build.hash_one("abc"), build.hash_one("abd"));
        assert_ne!(build.hash_one("abc"), RandomKeys::default().hash_one("abc"));
    }
}

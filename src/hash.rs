//! The string hash of the interner ([`crate::table::CallTable`]): every id,
//! trace id, parent id and model name of a body is hashed once or more.
//!
//! foldhash (hashbrown's default) mixes with a 64×64→128-bit multiply,
//! which wasm32 has no instruction for: it becomes a call into a 128-bit
//! multiply routine for every 16 bytes, and hashing took ~5% of the bytes
//! path in V8. This hash uses only what wasm does natively (64-bit
//! multiply, xor, rotate), one multiply per 8 bytes and a final mix that
//! spreads every input bit into the low bits hashbrown indexes with and the
//! high bits it tags with. It is seeded per table from hashbrown's
//! randomly seeded hasher, so that which ids collide is not fixed in
//! advance.
//!
//! A hash is 32 bits, so that the table can keep every string's hash (4
//! bytes a string) and rehash when it grows without reading any string
//! again: those reads, at random places in the arena, were about a third
//! of the interner's time (14% of the bytes path in V8 before, 10% after).

use std::hash::BuildHasher;

/// A seeded hash of byte strings.
#[derive(Clone, Copy)]
pub struct StrHash {
    seed: u64,
}

/// An odd constant with well-spread bits (2^64 / φ).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl Default for StrHash {
    fn default() -> Self {
        StrHash { seed: hashbrown::DefaultHashBuilder::default().hash_one(0x5eed_u64) }
    }
}

impl StrHash {
    /// The hash of `s`: equal strings hash alike under one seed.
    #[inline]
    pub fn hash(&self, s: &[u8]) -> u32 {
        let mut h = self.seed ^ (s.len() as u64).wrapping_mul(K);
        let mut words = s.chunks_exact(8);
        for w in &mut words {
            let w = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
            h = (h ^ w).wrapping_mul(K).rotate_left(23);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // The last 1–7 bytes, zero-padded (the length is already mixed in).
            let mut tail = [0u8; 8];
            if let Some(t) = tail.get_mut(..rest.len()) {
                t.copy_from_slice(rest);
            }
            h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K).rotate_left(23);
        }
        // Final mix (murmur3's fmix64 shape): high bits down, low bits up.
        h ^= h >> 32;
        h = h.wrapping_mul(K);
        h ^= h >> 29;
        (h ^ (h >> 32)) as u32
    }
}

/// A 32-bit hash as the 64 bits hashbrown takes: it indexes with the low
/// bits and tags with the top seven (of the low 32 on a 32-bit target), so
/// both halves carry the hash.
#[inline]
pub fn spread(h: u32) -> u64 {
    u64::from(h) * 0x1_0000_0001
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_hash_alike_and_near_ones_apart() {
        let h = StrHash::default();
        let ids: Vec<String> = (0..20_000).map(|i| format!("0194a1b2-c3d4-7e5f-8a9b-{i:012x}")).collect();
        for id in &ids {
            assert_eq!(h.hash(id.as_bytes()), h.hash(id.clone().as_bytes()));
        }
        // Ids differing in one character spread over the low bits (hashbrown's
        // bucket index) and the top seven (its tag): few collide in either.
        let low: std::collections::HashSet<u64> = ids.iter().map(|s| spread(h.hash(s.as_bytes())) & 0xffff).collect();
        assert!(low.len() > 14_000, "low 16 bits: {} distinct of 20,000", low.len());
        for top in [57, 25] {
            let tags: std::collections::HashSet<u64> = ids.iter().map(|s| (spread(h.hash(s.as_bytes())) >> top) & 0x7f).collect();
            assert_eq!(tags.len(), 128, "seven bits from bit {top}");
        }
        // Every length from 0 to 40, and a string and its zero-padded
        // extension, hash apart.
        let all: std::collections::HashSet<u32> = (0..=40).map(|n| h.hash(&vec![0u8; n])).collect();
        assert_eq!(all.len(), 41);
        assert_ne!(h.hash(b"abc"), h.hash(b"abc\0"));
    }
}

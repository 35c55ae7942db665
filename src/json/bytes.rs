//! Byte scans the scanner spends its time in, a word (or, with wasm SIMD,
//! 16 bytes) at a time.

/// From `i`: the index of the first byte that is `"`, `\\` or a control
/// character (or the end of `b`), and whether a non-ASCII byte comes before
/// it. Sixteen bytes a step with wasm SIMD, eight with plain integer tricks
/// (SWAR), then one.
#[inline(always)]
pub(super) fn plain_run(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut non_ascii = false;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    while let Some(block) = b.get(i..i + 16).and_then(|w| <&[u8; 16]>::try_from(w).ok()) {
        let (special, high) = simd::scan16(block);
        if special != 0 {
            // Only the non-ASCII bytes before the special one count.
            let before = special & special.wrapping_neg();
            return (i + special.trailing_zeros() as usize, non_ascii || high & before.wrapping_sub(1) != 0);
        }
        non_ascii |= high != 0;
        i += 16;
    }
    while let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let x = u64::from_le_bytes(word);
        let special = needs_a_look(x);
        if special != 0 {
            let k = special.trailing_zeros() / 8;
            let before = if k == 0 { 0 } else { x & (u64::MAX >> (64 - 8 * k)) };
            return (i + k as usize, non_ascii || before & 0x8080_8080_8080_8080 != 0);
        }
        non_ascii |= x & 0x8080_8080_8080_8080 != 0;
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        non_ascii |= c >= 0x80;
        i += 1;
    }
    (i, non_ascii)
}

/// Whether two byte strings are equal, eight bytes a step (the last step
/// overlapping the one before). Slice `==` calls `memcmp`, which on wasm32
/// is compiler-builtins' byte-at-a-time loop; ids and keys are compared on
/// every call.
#[inline]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| s.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map(u64::from_le_bytes);
    let half = |s: &[u8], i: usize| s.get(i..i + 4).and_then(|w| <[u8; 4]>::try_from(w).ok()).map(u32::from_le_bytes);
    if n < 8 {
        return if n < 4 { a == b } else { half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4) };
    }
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

/// A word with the high bit set in the lowest byte that is `"`, `\\` or a
/// control character (bytes above it may be flagged falsely; the lowest is
/// exact), or 0 if there is none. The classic SWAR zero-byte test.
fn needs_a_look(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_byte(x ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(x ^ (ONES * u64::from(b'\\')));
    let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    quote | backslash | control
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
// A 128-bit load from a pointer is unsafe (see `scan16`'s SAFETY).
#[allow(unsafe_code)]
mod simd {
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or};

    /// A bit per byte that is `"`, `\\` or a control character, and a bit per
    /// non-ASCII byte.
    #[inline(always)]
    pub fn scan16(block: &[u8; 16]) -> (u16, u16) {
        // SAFETY: reads the 16 bytes of `block`; v128_load allows unaligned reads.
        let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
        let quote = u8x16_eq(v, u8x16_splat(b'"'));
        let backslash = u8x16_eq(v, u8x16_splat(b'\\'));
        let control = u8x16_lt(v, u8x16_splat(0x20));
        (u8x16_bitmask(v128_or(v128_or(quote, backslash), control)), u8x16_bitmask(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // Under wasm-bindgen-test these run as wasm too, SIMD scan included.
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn plain_run_stops_exactly_and_sees_only_what_precedes() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x01] {
                let mut text = vec![b'a'; len];
                text.push(stop);
                text.extend_from_slice("é tail".as_bytes());
                assert_eq!(plain_run(&text, 0), (len, false), "len {len} stop {stop}: non-ASCII after the stop is not seen");
                if len > 0 {
                    text[len - 1] = 0xc3;
                    assert_eq!(plain_run(&text, 0), (len, true), "len {len} stop {stop}: non-ASCII before the stop is seen");
                }
            }
            assert_eq!(plain_run(&vec![b'z'; len], 0), (len, false));
        }
    }

    #[test]
    fn same_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for n in 0..base.len() {
            let a = &base[..n];
            assert!(same(a, a));
            for k in 0..n {
                let mut b = a.to_vec();
                b[k] ^= 1;
                assert!(!same(a, &b), "differs at {k} of {n}");
            }
            assert!(!same(a, &base[..n + 1]));
        }
    }

    #[test]
    fn the_word_scan_finds_every_special_byte() {
        for special in [b'"', b'\\', 0x00, 0x1f] {
            for at in 0..8 {
                let mut w = *b"abcdefgh";
                w[at] = special;
                assert_eq!(needs_a_look(u64::from_le_bytes(w)).trailing_zeros() / 8, at as u32, "{special} at {at}");
            }
        }
        assert_eq!(needs_a_look(u64::from_le_bytes(*b"ab\xc3\xa9 ~\x7f\x20")), 0);
    }
}

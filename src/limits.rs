//! Bounds on memory: what happens when an input, or the answer it asks
//! for, is too large for the module's memory (a wasm32 module addresses at
//! most 4 GiB, and the wasm build aborts on a failed allocation: a trap that
//! runs no destructor, so everything allocated until then would leak).
//!
//! The line between fallible and infallible allocations:
//! - Everything that grows with the input or the answer is reserved
//!   fallibly ([`reserve`], [`filled`], [`collect`]), and a failure becomes
//!   an error with a status: the table's arena, spans, hashes, hash index,
//!   calls, usage entries and per-call scratch, the buffer holding a value
//!   cut between chunks, the computation's arrays per symbol and per call
//!   in scope, the answer's text.
//! - Many small allocations whose sum grows with the input (a call's model
//!   list during the rollup, each entry of the answer) are not reserved one
//!   by one: before each phase that makes them, [`room_for`] checks that
//!   their estimated total (from above) can still be allocated.
//! - What is bounded by a constant or by one chunk (a 4 MiB slice, one call's
//!   key orders, an error's detail) stays infallible: [`room_for`] keeps
//!   [`MARGIN`] free beyond every reservation it approves, for those and for
//!   the strings that wasm-bindgen's glue copies into memory.
//!
//! The answer is refused above [`ANSWER_LIMIT`] bytes of JSON, the longest
//! string V8 can make (`JSON.parse` needs it as one string); that refusal is
//! decided on a lower bound of its size before the answer is built
//! (`response::AnswerSize`), and on its exact size before its text is
//! written.

use crate::error::UsageError;

/// The longest answer, in bytes of JSON: V8's longest string, 2^29 − 24
/// UTF-16 units (a text of at most that many UTF-8 bytes has at most that
/// many units). Firefox and Safari allow longer strings; V8 (Chromium,
/// Node) is the binding limit.
pub const ANSWER_LIMIT: usize = (1 << 29) - 24;

/// Memory kept free beyond every approved reservation, for the allocations
/// that stay infallible (see the module docs).
// Read only by the wasm build: natively there is no 4 GiB to keep room in.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub const MARGIN: usize = 64 << 20;

/// A fallible reservation failed: `bytes` more were wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub bytes: usize,
}

/// Whether `bytes` more (and [`MARGIN`] beyond them) can still be
/// allocated. In wasm: surely so while memory can grow by that much;
/// otherwise the allocator is asked for the block, which it frees at once
/// (it may have that much free inside memory already). Natively memory is
/// not the 4 GiB of wasm32, and the answer is yes.
pub fn room_for(bytes: usize) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let need = bytes.saturating_add(MARGIN);
        if crate::wasm_alloc::ungrown() >= need as u64 {
            return true;
        }
        Vec::<u8>::new().try_reserve_exact(need).is_ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = bytes;
        true
    }
}

/// [`room_for`] as a `Result`.
pub fn room(bytes: usize) -> Result<(), Exhausted> {
    if room_for(bytes) {
        Ok(())
    } else {
        Err(Exhausted { bytes })
    }
}

/// Room for `additional` more items in `v`, fallibly: doubling when memory
/// allows, else just an eighth more (a doubling can fail where a smaller
/// step still fits); and [`MARGIN`] left beyond the new capacity.
#[inline]
pub fn reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<(), Exhausted> {
    if v.capacity() - v.len() >= additional {
        return Ok(());
    }
    grow(v, additional)
}

#[cold]
fn grow<T>(v: &mut Vec<T>, additional: usize) -> Result<(), Exhausted> {
    let before = v.capacity();
    if v.try_reserve(additional).is_err() {
        let step = additional.max(v.len() / 8);
        v.try_reserve_exact(step).map_err(|_| Exhausted { bytes: step.saturating_mul(size_of::<T>()) })?;
    }
    room(0).map_err(|_| Exhausted { bytes: (v.capacity() - before).saturating_mul(size_of::<T>()) })
}

/// `vec![value; len]`, fallibly.
pub fn filled<T: Clone>(len: usize, value: T) -> Result<Vec<T>, Exhausted> {
    let mut v = Vec::new();
    reserve_exact(&mut v, len)?;
    v.resize(len, value);
    Ok(v)
}

/// The items of `items`, of which there are at most `len` (the callers'
/// iterators are as long as the slices they map, or shorter), in a vector
/// reserved fallibly for `len`.
pub fn collect<T>(len: usize, mut items: impl Iterator<Item = T>) -> Result<Vec<T>, Exhausted> {
    let mut v = Vec::new();
    reserve_exact(&mut v, len)?;
    v.extend(items.by_ref().take(len));
    debug_assert!(items.next().is_none(), "more than {len} items");
    Ok(v)
}

/// Room for exactly `additional` more items (a vector whose final length
/// is known), and [`MARGIN`] beyond.
pub fn reserve_exact<T>(v: &mut Vec<T>, additional: usize) -> Result<(), Exhausted> {
    let bytes = additional.saturating_mul(size_of::<T>());
    v.try_reserve_exact(additional).map_err(|_| Exhausted { bytes })?;
    room(0).map_err(|_| Exhausted { bytes })
}

/// Room for exactly `additional` more bytes of text, and [`MARGIN`] beyond.
pub fn reserve_text(s: &mut String, additional: usize) -> Result<(), Exhausted> {
    s.try_reserve_exact(additional).map_err(|_| Exhausted { bytes: additional })?;
    room(0).map_err(|_| Exhausted { bytes: additional })
}

/// `bytes` in MiB, rounded up, for messages.
pub fn mib(bytes: usize) -> usize {
    bytes.div_ceil(1 << 20)
}

/// The 500 for an answer longer than [`ANSWER_LIMIT`]; `exact`: `bytes` is
/// its size, not a lower bound of it.
pub fn answer_too_long(bytes: usize, exact: bool) -> UsageError {
    let size = if exact { format!("{bytes}") } else { format!("at least {bytes}") };
    UsageError::response_too_large(format!(
        "The answer is {size} bytes of JSON, more than the {ANSWER_LIMIT} bytes one JavaScript string can hold (V8's longest string); ask for fewer call ids or a smaller limit"
    ))
}

/// The 500 for an answer that does not fit in the memory left.
pub fn answer_out_of_memory(e: Exhausted) -> UsageError {
    UsageError::response_too_large(format!(
        "The answer does not fit in the module's memory: {} MiB more could not be allocated (a wasm module addresses at most 4 GiB); ask for fewer call ids or a smaller limit",
        mib(e.bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_grow_and_sizes_saturate() {
        let mut v: Vec<u64> = Vec::new();
        reserve(&mut v, 3).unwrap();
        assert!(v.capacity() >= 3);
        assert_eq!(filled(5, 7u8).unwrap(), [7; 5]);
        assert_eq!(collect(3, [1, 2].into_iter()).unwrap(), [1, 2]);
        // More than any address space: refused, not a panic.
        assert!(reserve(&mut v, usize::MAX).is_err());
        assert!(filled(usize::MAX / 2, 0u64).is_err());
        assert_eq!(mib(1), 1);
        assert_eq!(mib(usize::MAX), usize::MAX / (1 << 20) + 1);
    }
}

//! How the module's memory grows (wasm32 only): the default allocator
//! (dlmalloc) grows memory by just what one allocation needs, a 64 KiB page
//! at a time, and every `memory.grow` makes V8 run a full garbage collection
//! of the page's JavaScript heap. A rollup over a million calls makes a
//! million small allocations: thousands of grows, minutes of GC (a 1M-call
//! parent chain took 8 minutes in Node).
//!
//! This wrapper keeps dlmalloc and changes one thing: when an allocation
//! has grown memory, it grows it by another eighth at once (allocating that
//! much and freeing it straight back into dlmalloc's top chunk), so memory
//! grows a logarithmic number of times and holds at most an eighth more
//! than it has ever needed. Nothing else changes: memory still never
//! shrinks, and what is freed is reused.

// An allocator is unsafe by nature: `GlobalAlloc`'s methods are.
#![allow(unsafe_code)]

use core::arch::wasm32;
use std::alloc::{GlobalAlloc, Layout, System};

/// The global allocator of the wasm module.
pub struct GrowInSteps;

/// Grow by at least this much at a time (16 pages).
const MIN_STEP: usize = 1 << 20;

/// wasm32 memory ends at 4 GiB: 65,536 pages of 64 KiB.
const MAX_PAGES: u64 = 1 << 16;

/// How many bytes memory can still grow by, assuming the engine allows all
/// of wasm32's 4 GiB (V8 and SpiderMonkey do on 64-bit systems). What is
/// free inside memory already comes on top (see `limits::room_for`).
pub fn ungrown() -> u64 {
    MAX_PAGES.saturating_sub(wasm32::memory_size(0) as u64) * (64 << 10)
}

impl GrowInSteps {
    /// After `System` grew memory: reserve an eighth more, in one grow.
    fn reserve_more(&self) {
        let bytes = wasm32::memory_size(0).saturating_mul(64 << 10);
        let step = (bytes / 8).max(MIN_STEP);
        if let Ok(layout) = Layout::from_size_align(step, 8) {
            // SAFETY: `layout` has a non-zero size; the block is freed with
            // the same layout at once (or was never allocated).
            unsafe {
                let block = System.alloc(layout);
                if !block.is_null() {
                    System.dealloc(block, layout);
                }
            }
        }
    }

    /// Runs an allocation and reserves more if it grew memory.
    fn watching(&self, alloc: impl FnOnce() -> *mut u8) -> *mut u8 {
        let before = wasm32::memory_size(0);
        let p = alloc();
        if wasm32::memory_size(0) != before {
            self.reserve_more();
        }
        p
    }
}

// SAFETY: every method delegates to `System` with the caller's arguments;
// `reserve_more` only allocates and frees a block of its own.
unsafe impl GlobalAlloc for GrowInSteps {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        self.watching(|| unsafe { System.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on unchanged.
        self.watching(|| unsafe { System.alloc_zeroed(layout) })
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on unchanged.
        self.watching(|| unsafe { System.realloc(ptr, layout, new_size) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

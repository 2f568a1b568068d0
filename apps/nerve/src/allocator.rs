//! The program's allocator: mimalloc for small blocks, the system allocator for large ones.
//!
//! burn allocates a fresh buffer for nearly every tensor operation; on small networks a
//! quarter of the instructions went to glibc's `malloc`/`free` (callgrind, BENCHMARKS.md), and
//! mimalloc takes 17-22 % off W1-W4's time per step. For large blocks mimalloc keeps freed
//! memory around for reuse, which raised W5's peak memory by a quarter (a 188 MB data set) for
//! no speed, so blocks of `LARGE` bytes and more go to the system allocator, which maps and
//! unmaps them directly.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks from this size on go to the system allocator.
const LARGE: usize = 1 << 20;

/// mimalloc below [`LARGE`] bytes, the system allocator from there on.
pub(crate) struct SizeSplit;

fn is_large(layout: Layout) -> bool {
    layout.size() >= LARGE
}

// SAFETY: every block is freed and resized by the allocator that made it, which the block's
// size (part of the layout the caller must pass back unchanged) identifies; `realloc` across the
// threshold allocates with the new owner, copies and frees with the old one.
unsafe impl GlobalAlloc for SizeSplit {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if is_large(layout) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe {
            if is_large(layout) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `layout` is the one the block was allocated with, so it names its allocator.
        unsafe {
            if is_large(layout) {
                System.dealloc(ptr, layout);
            } else {
                MiMalloc.dealloc(ptr, layout);
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` was allocated here with `layout` and that
        // `new_size`, rounded to the alignment, does not overflow, so the new layout is valid.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            match (is_large(layout), is_large(new_layout)) {
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                (true, true) => System.realloc(ptr, layout, new_size),
                _ => {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block keeps its bytes when `realloc` moves it across the threshold, both ways.
    #[test]
    fn realloc_across_the_threshold_keeps_the_contents() {
        let small = Layout::from_size_align(1000, 16).unwrap_or_else(|_| unreachable!());
        // SAFETY: each pointer is used within its size and freed with its current layout.
        unsafe {
            let p = SizeSplit.alloc(small);
            assert!(!p.is_null());
            for i in 0..1000 {
                *p.add(i) = (i % 251) as u8;
            }
            let p = SizeSplit.realloc(p, small, 3 * LARGE);
            assert!(!p.is_null());
            assert!((0..1000).all(|i| *p.add(i) == (i % 251) as u8));
            *p.add(3 * LARGE - 1) = 7;
            let large = Layout::from_size_align(3 * LARGE, 16).unwrap_or_else(|_| unreachable!());
            let p = SizeSplit.realloc(p, large, 500);
            assert!(!p.is_null());
            assert!((0..500).all(|i| *p.add(i) == (i % 251) as u8));
            SizeSplit.dealloc(
                p,
                Layout::from_size_align(500, 16).unwrap_or_else(|_| unreachable!()),
            );
        }
    }
}

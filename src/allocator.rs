//! The process's allocator: jemalloc, with allocation counters that only the benchmarks turn on.
//!
//! jemalloc: a 128-member image page took 9.5 % less CPU than on glibc's malloc (A/B, session 13),
//! the 1000-image list 10 % less; peak memory stays under the load goal. The counters replace an
//! `LD_PRELOAD` shim over glibc's `malloc`, which Rust's allocations no longer pass through.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// jemalloc behind the counters.
pub struct Counted(tikv_jemallocator::Jemalloc);

impl Counted {
    pub const fn new() -> Self {
        Self(tikv_jemallocator::Jemalloc)
    }
}

/// Off unless `BENCH_ALLOC_COUNTERS` names a file: one load of a flag per allocation then.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// New blocks, bytes asked for (reallocs included), frees, reallocs: the order bench/run reads.
static COUNTS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
const NEW: usize = 0;
const BYTES: usize = 1;
const FREES: usize = 2;
const REALLOCS: usize = 3;

fn count(which: usize, bytes: usize) {
    if COUNTING.load(Relaxed) {
        COUNTS[which].fetch_add(1, Relaxed);
        if bytes > 0 {
            COUNTS[BYTES].fetch_add(bytes as u64, Relaxed);
        }
    }
}

// SAFETY: every call is passed on unchanged to jemalloc; the counting touches only atomics.
unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(NEW, layout.size());
        // SAFETY: the caller's contract is jemalloc's.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(NEW, layout.size());
        // SAFETY: as above.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(FREES, 0);
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(REALLOCS, new_size);
        // SAFETY: as above.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// With `BENCH_ALLOC_COUNTERS=<file>`, counts every allocation from now on and writes the four
/// counters to the file (little-endian u64) every 10 ms, from a thread that allocates nothing
/// once it runs, so an idle server's file stops changing.
pub fn count_if_asked() {
    let Some(path) = std::env::var_os("BENCH_ALLOC_COUNTERS") else { return };
    let file = match std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("BENCH_ALLOC_COUNTERS: cannot open {}: {e}", path.display());
            return;
        }
    };
    COUNTING.store(true, Relaxed);
    let spawned = std::thread::Builder::new().name("alloc-counters".into()).spawn(move || {
        use std::os::unix::fs::FileExt;
        let mut bytes = [0u8; 32];
        loop {
            for (i, counter) in COUNTS.iter().enumerate() {
                bytes[i * 8..i * 8 + 8].copy_from_slice(&counter.load(Relaxed).to_le_bytes());
            }
            if file.write_all_at(&bytes, 0).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    if let Err(e) = spawned {
        eprintln!("BENCH_ALLOC_COUNTERS: no thread to write the counters: {e}");
    }
}

//! The fault path allocates nothing on the host in steady state: a reference string where every
//! reference faults costs the same number of host allocations at 20,000 references as at
//! 200,000. A test binary of its own, since it counts through a global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use memsim::session::{Options, Session};

/// The system allocator, counting calls that hand out memory.
struct Counting;

static CALLS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Host allocations of a run of `n` references cycling over 11 pages with 10 frames (every
/// reference faults; one in four a store, so dirty pages are written back too).
fn allocations(policy: &str, n: usize) -> u64 {
    let mut src = format!("machine {{ page_size 4 KiB; memory 10 pages; replace {policy} }}\nrefs");
    for i in 0..n {
        src.push_str(&format!(" {}{}", i % 11, if i % 4 == 0 { "w" } else { "" }));
    }
    src.push_str(&format!("\nexpect stats.faults == {n}\n"));
    let mut s = Session::new(Options {
        trace: false,
        ..Options::default()
    });
    let before = CALLS.load(Ordering::Relaxed);
    let r = s.execute("faults.mem", &src);
    let after = CALLS.load(Ordering::Relaxed);
    assert!(r.diagnostics.is_empty(), "{policy}: {:?}", r.diagnostics);
    after - before
}

#[test]
fn faults_allocate_nothing_in_steady_state() {
    for policy in ["fifo", "lru", "clock"] {
        let small = allocations(policy, 20_000);
        let big = allocations(policy, 200_000);
        // 180,000 more faults; a few more allocations at most (buffers sized by the input).
        assert!(
            big.saturating_sub(small) < 16,
            "{policy}: {small} allocations for 20,000 faults, {big} for 200,000"
        );
    }
}

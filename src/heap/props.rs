//! Property test over every allocator: random malloc / calloc / realloc / free sequences never
//! hand out overlapping live blocks, keep each allocator's alignment and realloc'd contents,
//! and leave the heap consistent; and glibc's frees land where glibc 2.36's rules put them
//! (tcache, fastbin, unsorted as small or large, top, unmapped), with `calloc(1, n)` zeroed and
//! `realloc` across the mmap threshold keeping the contents.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::glibc::tests::Fake;
use super::glibc::Glibc;
use super::teach::{Fit, Teach};
use super::{Allocator, ChunkView, Memory};
use super::{FreeListOrder, TeachHeap};

const BASE: u64 = 0x10000;
const SIZE: u64 = 4096;

#[derive(Debug, Clone)]
enum Op {
    Malloc(u64),
    Calloc(u64, u64),
    Realloc(usize, u64),
    Free(usize),
}

fn op(big: bool) -> impl Strategy<Value = Op> {
    let size = if big {
        prop_oneof![0u64..128, 0u64..0x500, 0u64..70_000, 100_000u64..200_000].boxed()
    } else {
        prop_oneof![0u64..64, 0u64..600].boxed()
    };
    prop_oneof![
        4 => size.clone().prop_map(Op::Malloc),
        1 => (1u64..8, 0u64..200).prop_map(|(a, b)| Op::Calloc(a, b)),
        2 => (any::<usize>(), size).prop_map(|(i, n)| Op::Realloc(i, n)),
        4 => any::<usize>().prop_map(Op::Free),
    ]
}

#[derive(Debug, Clone)]
enum Which {
    Glibc,
    /// Fit, order, coalesce, header, align, `conventions ostep`.
    Teach(Fit, FreeListOrder, bool, u64, u64, bool),
}

fn which() -> impl Strategy<Value = Which> {
    let fit = prop_oneof![Just(Fit::First), Just(Fit::Best), Just(Fit::Worst)];
    let order = proptest::sample::select(FreeListOrder::ALL.to_vec());
    prop_oneof![
        1 => Just(Which::Glibc),
        3 => (
            fit,
            order,
            any::<bool>(),
            prop_oneof![Just(0u64), Just(8u64)],
            prop_oneof![Just(0u64), Just(4u64)],
            any::<bool>(),
        )
            .prop_map(|(f, o, c, h, a, os)| Which::Teach(f, o, c, h, a, os)),
    ]
}

fn make(w: &Which) -> (Box<dyn Allocator>, u64) {
    match *w {
        Which::Glibc => (Box::new(Glibc::new(3)), 16),
        Which::Teach(fit, order, coalesce, header, align, ostep) => (
            Box::new(Teach::new(
                fit,
                TeachHeap {
                    size: SIZE,
                    base: BASE,
                    header,
                    coalesce,
                    order,
                    align,
                },
                crate::units::Radix::Decimal,
                ostep,
            )),
            1,
        ),
    }
}

/// The teaching heap's blocks tile it, and every free block is on the list exactly once.
fn teach_consistent(a: &dyn Allocator, coalesce: bool) -> Result<(), TestCaseError> {
    let cs = a.chunks();
    let mut at = BASE;
    let mut positions = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        prop_assert_eq!(c.addr, at, "blocks must tile the heap: {:?}", cs);
        prop_assert!(c.size > 0);
        at += c.size;
        if !c.in_use {
            let n: usize = c
                .bin
                .strip_prefix("free list #")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| TestCaseError::fail(format!("free block off the list: {cs:?}")))?;
            positions.push(n);
            if coalesce && i > 0 {
                prop_assert!(
                    cs[i - 1].in_use,
                    "adjacent free blocks not coalesced: {:?}",
                    cs
                );
            }
        }
    }
    prop_assert_eq!(at, BASE + SIZE);
    positions.sort_unstable();
    prop_assert_eq!(
        positions,
        (0..cs.iter().filter(|c| !c.in_use).count()).collect::<Vec<_>>()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn every_allocator_keeps_blocks_apart_and_contents_intact(
        w in which(),
        ops in proptest::collection::vec(op(false), 1..60),
        big in proptest::collection::vec(op(true), 0..20),
    ) {
        let (mut a, align) = make(&w);
        let ops: Vec<Op> = if matches!(w, Which::Glibc) { ops.into_iter().chain(big).collect() } else { ops };
        let mut m = Fake::new();
        // live block -> (bytes filled, fill byte)
        let mut live: BTreeMap<u64, (u64, u8)> = BTreeMap::new();
        let mut tag = 1u8;
        for op in ops {
            tag = tag.wrapping_add(1).max(1);
            match op {
                Op::Malloc(n) => {
                    let p = a.malloc(&mut m, n).unwrap();
                    if p == 0 {
                        prop_assert!(!matches!(w, Which::Glibc));
                        continue;
                    }
                    let k = n.min(4096);
                    m.write(p, &vec![tag; k as usize]).unwrap();
                    live.insert(p, (k, tag));
                }
                Op::Calloc(x, y) => {
                    let p = a.calloc(&mut m, x, y).unwrap();
                    if p == 0 {
                        prop_assert!(!matches!(w, Which::Glibc));
                        continue;
                    }
                    let n = (x * y).min(4096);
                    let mut buf = vec![1u8; n as usize];
                    m.read(p, &mut buf).unwrap();
                    prop_assert!(buf.iter().all(|&b| b == 0), "calloc memory is not zero");
                    m.write(p, &vec![tag; n as usize]).unwrap();
                    live.insert(p, (n, tag));
                }
                Op::Realloc(i, n) => {
                    if live.is_empty() { continue; }
                    let (&p, &(len, t)) = live.iter().nth(i % live.len()).unwrap();
                    let q = a.realloc(&mut m, p, n).unwrap();
                    if n == 0 {
                        prop_assert_eq!(q, 0);
                        live.remove(&p);
                        continue;
                    }
                    if q == 0 {
                        // A failed realloc leaves the old block alone.
                        prop_assert!(!matches!(w, Which::Glibc));
                        prop_assert!(a.usable_size(p) >= len);
                        continue;
                    }
                    live.remove(&p);
                    let keep = len.min(n);
                    let mut buf = vec![0u8; keep as usize];
                    m.read(q, &mut buf).unwrap();
                    prop_assert!(buf.iter().all(|&x| x == t), "realloc lost data");
                    live.insert(q, (keep, t));
                }
                Op::Free(i) => {
                    if live.is_empty() { continue; }
                    let (&p, _) = live.iter().nth(i % live.len()).unwrap();
                    a.free(&mut m, p).unwrap();
                    live.remove(&p);
                }
            }
            let blocks = a.live_blocks();
            prop_assert_eq!(blocks.len(), live.len());
            for b in &blocks {
                prop_assert!(b.usable >= b.requested);
                // malloc.py's header-only malloc(0) owns no byte: its pointer is one past it.
                if b.usable > 0 {
                    prop_assert_eq!(a.block_at(b.ptr).map(|x| x.ptr), Some(b.ptr));
                }
            }
            for w2 in blocks.windows(2) {
                prop_assert!(w2[0].ptr + w2[0].usable <= w2[1].ptr, "overlap: {:?}", w2);
            }
            for (&p, &(len, t)) in &live {
                match w {
                    Which::Glibc => prop_assert_eq!(p % align, 0),
                    // A teaching block has no alignment: its pointer is its header's size past
                    // the start of a block in use.
                    Which::Teach(_, _, _, header, _, _) => prop_assert!(
                        a.chunks().iter().any(|c| c.in_use && c.addr + header == p),
                        "{:#x} is not {} bytes into a block in use", p, header
                    ),
                }
                prop_assert!(a.usable_size(p) >= len);
                let mut buf = vec![0u8; len as usize];
                m.read(p, &mut buf).unwrap();
                prop_assert!(buf.iter().all(|&x| x == t), "block {:#x} was overwritten", p);
            }
            if let Which::Teach(_, _, coalesce, _, _, ostep) = w {
                // malloc.py's merge leaves memory neighbours apart when the list separates them.
                teach_consistent(a.as_ref(), coalesce && !ostep)?;
            } else {
                let cs: Vec<_> = a.chunks().into_iter().filter(|c| c.bin != "mmapped").collect();
                for c2 in cs.windows(2) {
                    prop_assert_eq!(c2[0].addr + c2[0].size, c2[1].addr, "heap chunks must tile");
                }
            }
        }
    }
}

#[test]
fn the_ostep_exercise_under_three_policies() {
    // OSTEP ch. 17 style: a 100-byte heap at 1000, header 0; free(a) leaves [1000,1010) and
    // [1030,1100) free with [1010,1030) in use... then a request of 5 shows each policy's pick.
    let run = |fit| {
        let mut t = Teach::new(
            fit,
            TeachHeap {
                size: 100,
                base: 1000,
                header: 0,
                coalesce: false,
                order: FreeListOrder::Address,
                align: 0,
            },
            crate::units::Radix::Decimal,
            false,
        );
        let mut m = Fake::new();
        let a = t.malloc(&mut m, 10).unwrap();
        let b = t.malloc(&mut m, 20).unwrap();
        let c = t.malloc(&mut m, 30).unwrap();
        let _d = t.malloc(&mut m, 15).unwrap();
        t.free(&mut m, a).unwrap();
        t.free(&mut m, c).unwrap();
        let _ = b;
        // Free list by address: [1000 (10), 1030 (30), 1075 (25)].
        t.malloc(&mut m, 8).unwrap()
    };
    assert_eq!(run(Fit::First), 1000);
    assert_eq!(run(Fit::Best), 1000);
    assert_eq!(run(Fit::Worst), 1030);
}

#[test]
fn a_full_teaching_heap_returns_null_and_double_free_aborts() {
    let mut t = Teach::new(
        Fit::First,
        TeachHeap {
            size: 100,
            base: 1000,
            header: 8,
            coalesce: true,
            order: FreeListOrder::Address,
            align: 0,
        },
        crate::units::Radix::Decimal,
        false,
    );
    let mut m = Fake::new();
    let a = t.malloc(&mut m, 50).unwrap();
    assert_eq!(a, 1008);
    let mut w = [0u8; 8];
    m.read(1000, &mut w).unwrap();
    assert_eq!(u64::from_le_bytes(w), 50, "the header holds the size");
    assert_eq!(t.malloc(&mut m, 50).unwrap(), 0);
    t.free(&mut m, a).unwrap();
    match t.free(&mut m, a) {
        Err(super::HeapError::Abort(msg)) => assert!(msg.starts_with("free(): double free")),
        other => panic!("expected an abort, got {other:?}"),
    }
    match t.free(&mut m, 1003) {
        Err(super::HeapError::Abort(msg)) => assert!(msg.starts_with("free(): invalid pointer")),
        other => panic!("expected an abort, got {other:?}"),
    }
    // Coalescing made it one block again.
    assert_eq!(t.chunks().len(), 1);
    assert_eq!(t.malloc(&mut m, 92).unwrap(), 1008);
}

/// Where glibc 2.36's `_int_free` puts a chunk, by the rules of its source (malloc.c), written
/// here independently of the model: the kinds of chunk a `free` can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Freed {
    /// Its size's tcache bin had room (fewer than 7, chunk of at most 0x410 bytes).
    Tcache,
    /// The tcache bin was full and the chunk at most `global_max_fast` (0x80).
    Fastbin,
    /// Into the unsorted bin, merged with free neighbours, a chunk of small-bin size.
    Small,
    /// The same for a chunk of large-bin size (0x400 bytes and up).
    Large,
    /// Merged into top, its next chunk.
    Top,
    /// Its own mapping, unmapped.
    Mmapped,
}

/// glibc 2.36's constants on x86-64 (malloc.c), as the rules above use them.
const TCACHE_FILL: usize = 7;
const TCACHE_MAX_CHUNK: u64 = 0x410;
const MAX_FAST_CHUNK: u64 = 0x80;
const MIN_LARGE_CHUNK: u64 = 0x400;
const FASTBIN_CONSOLIDATION: u64 = 64 << 10;

/// Frees `p` and checks that the chunk went where glibc would put it; says where.
fn free_where_glibc_does(g: &mut Glibc, m: &mut Fake, p: u64) -> Result<Freed, TestCaseError> {
    let before = g.chunks();
    let c = p - 16;
    let i = before
        .iter()
        .position(|k| k.addr == c)
        .ok_or_else(|| TestCaseError::fail(format!("{p:#x} is no chunk's pointer")))?;
    let me = before[i].clone();
    prop_assert!(me.in_use, "freeing a free chunk: {:?}", me);
    g.free(m, p)
        .map_err(|e| TestCaseError::fail(format!("free({p:#x}): {e:?}")))?;
    let after = g.chunks();
    let at = |a: u64| after.iter().find(|k| k.addr == a);
    if me.bin == "mmapped" {
        prop_assert!(
            after
                .iter()
                .all(|k| k.addr + k.size <= c || k.addr >= c + me.size),
            "an mmapped chunk is unmapped: {:?}",
            after
        );
        return Ok(Freed::Mmapped);
    }
    let cs = me.size;
    let cached = before
        .iter()
        .filter(|k| k.bin == "tcache" && k.size == cs)
        .count();
    if cs <= TCACHE_MAX_CHUNK && cached < TCACHE_FILL {
        prop_assert_eq!(at(c).map(|k| k.bin.as_str()), Some("tcache"));
        return Ok(Freed::Tcache);
    }
    if cs <= MAX_FAST_CHUNK {
        prop_assert_eq!(at(c).map(|k| k.bin.as_str()), Some("fastbin"));
        return Ok(Freed::Fastbin);
    }
    // Tcache and fastbin chunks count as in use: only binned free chunks merge.
    let merges = |k: &ChunkView| matches!(k.bin.as_str(), "unsorted" | "small" | "large");
    let start = match i.checked_sub(1).map(|j| &before[j]) {
        Some(prev) if merges(prev) && prev.addr + prev.size == c => prev.addr,
        _ => c,
    };
    let next = before.get(i + 1).filter(|n| n.addr == c + cs);
    let kind = if cs < MIN_LARGE_CHUNK {
        Freed::Small
    } else {
        Freed::Large
    };
    match next {
        Some(top) if top.bin == "top" => {
            // A merged top of 64 KiB or more also consolidates the fastbins, whose chunks next
            // to top join it too; then top may be trimmed, never moved up.
            let now = after
                .iter()
                .find(|k| k.bin == "top")
                .ok_or_else(|| TestCaseError::fail("no top".to_string()))?;
            if top.addr + top.size - start >= FASTBIN_CONSOLIDATION {
                prop_assert!(now.addr <= start, "top {:?}, merged from {:#x}", now, start);
            } else {
                prop_assert_eq!(now.addr, start);
            }
            Ok(Freed::Top)
        }
        _ => {
            let end = match next {
                Some(n) if merges(n) => n.addr + n.size,
                _ => c + cs,
            };
            if end - start >= FASTBIN_CONSOLIDATION {
                prop_assert!(
                    after.iter().any(|k| (k.bin == "unsorted" || k.bin == "top")
                        && k.addr <= c
                        && (k.bin == "top" || c + cs <= k.addr + k.size)),
                    "{:#x} in no free chunk after consolidation: {:?}",
                    c,
                    after
                );
            } else {
                let got = at(start).map(|k| (k.bin.as_str(), k.size));
                prop_assert_eq!(got, Some(("unsorted", end - start)), "{:?}", after);
            }
            Ok(kind)
        }
    }
}

/// Request sizes that reach every kind of chunk: fastbin sizes, small-bin sizes (tcache's
/// up to 0x408), large-bin sizes, and past the 128 KiB mmap threshold; few enough that a
/// size's tcache bin fills up.
const GLIBC_SIZES: [u64; 10] = [
    24, 40, 100, 0x100, 0x3f8, 0x500, 0x1800, 0x9000, 140_000, 300_000,
];

#[derive(Debug, Clone)]
enum GOp {
    Malloc(usize),
    /// `calloc(1, size)`: the count of one glibc's own callers use most.
    Calloc1(usize),
    Realloc(usize, usize),
    Free(usize),
}

fn glibc_op() -> impl Strategy<Value = GOp> {
    let size = 0..GLIBC_SIZES.len();
    prop_oneof![
        4 => size.clone().prop_map(GOp::Malloc),
        2 => size.clone().prop_map(GOp::Calloc1),
        2 => (any::<usize>(), size).prop_map(|(i, s)| GOp::Realloc(i, s)),
        5 => any::<usize>().prop_map(GOp::Free),
    ]
}

/// Runs `ops` on glibc, checking each free against glibc's rules, `calloc`'s zeros and the
/// contents of every live block (and of a block `realloc` moves across the mmap threshold, in
/// either direction); returns the kinds of chunk freed.
fn run_glibc(ops: &[GOp]) -> Result<std::collections::BTreeSet<Freed>, TestCaseError> {
    let mut g = Glibc::new(5);
    let mut m = Fake::new();
    let mut live: BTreeMap<u64, (u64, u8)> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut tag = 0u8;
    // A block's first and last bytes (all of a small one): the fake memory keeps a map entry
    // per byte, and a neighbour that overruns or a lost copy shows at the ends.
    let ends = |p: u64, n: u64| {
        let k = n.min(256);
        [(p, k), (p + n - k, k)]
    };
    let fill = |m: &mut Fake, p: u64, n: u64, t: u8| {
        for (a, k) in ends(p, n) {
            m.write(a, &vec![t; k as usize]).unwrap();
        }
    };
    let holds = |m: &mut Fake, p: u64, n: u64, t: u8| {
        ends(p, n).iter().all(|&(a, k)| {
            let mut buf = vec![!t; k as usize];
            m.read(a, &mut buf).unwrap();
            buf.iter().all(|&b| b == t)
        })
    };
    for op in ops {
        tag = tag.wrapping_add(1).max(1);
        match *op {
            GOp::Malloc(s) => {
                let n = GLIBC_SIZES[s];
                let p = g.malloc(&mut m, n).unwrap();
                prop_assert!(p != 0 && p.is_multiple_of(16), "malloc({}) = {:#x}", n, p);
                fill(&mut m, p, n, tag);
                live.insert(p, (n, tag));
            }
            GOp::Calloc1(s) => {
                let n = GLIBC_SIZES[s];
                let p = g.calloc(&mut m, 1, n).unwrap();
                prop_assert!(
                    p != 0 && p.is_multiple_of(16),
                    "calloc(1, {}) = {:#x}",
                    n,
                    p
                );
                prop_assert!(holds(&mut m, p, n, 0), "calloc(1, {}) is not zeroed", n);
                fill(&mut m, p, n, tag);
                live.insert(p, (n, tag));
            }
            GOp::Realloc(i, s) => {
                if live.is_empty() {
                    continue;
                }
                let (&p, &(len, t)) = live.iter().nth(i % live.len()).unwrap();
                let was_mapped = g
                    .chunks()
                    .iter()
                    .any(|k| k.addr == p - 16 && k.bin == "mmapped");
                let n = GLIBC_SIZES[s];
                let q = g.realloc(&mut m, p, n).unwrap();
                prop_assert!(
                    q != 0 && q.is_multiple_of(16),
                    "realloc({:#x}, {}) = {:#x}",
                    p,
                    n,
                    q
                );
                live.remove(&p);
                // The filled ends of the old block, as far as the new one keeps them.
                let keep = len.min(n);
                for (a, k) in ends(0, len) {
                    let k = k.min(keep.saturating_sub(a));
                    if k == 0 {
                        continue;
                    }
                    let mut buf = vec![!t; k as usize];
                    m.read(q + a, &mut buf).unwrap();
                    prop_assert!(
                        buf.iter().all(|&b| b == t),
                        "realloc({:#x}, {}) lost data",
                        p,
                        n
                    );
                }
                // Linux has mremap: a mapped chunk stays mapped whatever its new size.
                if was_mapped {
                    prop_assert!(g
                        .chunks()
                        .iter()
                        .any(|k| k.addr == q - 16 && k.bin == "mmapped"));
                }
                fill(&mut m, q, n, t);
                live.insert(q, (n, t));
            }
            GOp::Free(i) => {
                if live.is_empty() {
                    continue;
                }
                let (&p, _) = live.iter().nth(i % live.len()).unwrap();
                live.remove(&p);
                seen.insert(free_where_glibc_does(&mut g, &mut m, p)?);
            }
        }
        let blocks = g.live_blocks();
        prop_assert_eq!(blocks.len(), live.len());
        for w in blocks.windows(2) {
            prop_assert!(w[0].ptr + w[0].usable <= w[1].ptr, "overlap: {:?}", w);
        }
        for (&p, &(n, t)) in &live {
            prop_assert!(g.usable_size(p) >= n);
            prop_assert!(holds(&mut m, p, n, t), "block {:#x} was overwritten", p);
        }
    }
    Ok(seen)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn glibc_frees_like_glibc_and_keeps_contents(ops in proptest::collection::vec(glibc_op(), 1..100)) {
        let seen = run_glibc(&ops)?;
        // A long enough run meets more than one kind of chunk.
        prop_assert!(ops.len() < 60 || seen.len() >= 2, "{:?}", seen);
    }
}

#[test]
fn the_glibc_rules_meet_every_kind_of_chunk() {
    let (mut g, mut m) = (Glibc::new(5), Fake::new());
    // Eight of a fastbin size and eight of a small size: seven of each go to tcache, the
    // eighth to the fastbin and to the unsorted bin; the large chunk after them merges with
    // that one; a guard keeps it from a mapped chunk and the chunk next to top.
    let small: Vec<u64> = (0..8).map(|_| g.malloc(&mut m, 40).unwrap()).collect();
    let mid: Vec<u64> = (0..8).map(|_| g.malloc(&mut m, 0x100).unwrap()).collect();
    let large = g.malloc(&mut m, 0x1800).unwrap();
    let _guard = g.calloc(&mut m, 1, 24).unwrap();
    let mapped = g.malloc(&mut m, 300_000).unwrap();
    let last = g.malloc(&mut m, 0x500).unwrap();
    let mut seen = Vec::new();
    for &p in small.iter().chain(&mid).chain(&[large, mapped, last]) {
        seen.push(free_where_glibc_does(&mut g, &mut m, p).expect("glibc's rules"));
    }
    use Freed::*;
    let mut want = vec![Tcache; 7];
    want.push(Fastbin);
    want.extend([Tcache; 7]);
    want.extend([Small, Large, Mmapped, Top]);
    assert_eq!(seen, want);
}

#[test]
fn realloc_crosses_the_mmap_threshold_both_ways() {
    let (mut g, mut m) = (Glibc::new(5), Fake::new());
    let p = g.malloc(&mut m, 0x100).unwrap();
    let _guard = g.malloc(&mut m, 24).unwrap();
    m.write(p, &[7; 0x100]).unwrap();
    let mapped = |g: &Glibc, q: u64| {
        g.chunks()
            .iter()
            .any(|k| k.addr == q - 16 && k.bin == "mmapped")
    };
    let up = g.realloc(&mut m, p, 300_000).unwrap();
    assert!(
        mapped(&g, up),
        "a heap block grown past the threshold is mapped"
    );
    let mut buf = [0u8; 0x100];
    m.read(up, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 7));
    // Linux's glibc shrinks a mapped chunk with mremap: it stays mapped, one page long.
    let down = g.realloc(&mut m, up, 40).unwrap();
    assert!(mapped(&g, down));
    assert_eq!(g.usable_size(down), 4096 - 16);
    let mut buf = [0u8; 40];
    m.read(down, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 7));
    assert_eq!(
        free_where_glibc_does(&mut g, &mut m, down).unwrap(),
        Freed::Mmapped
    );
}

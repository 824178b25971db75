//! Property test over every allocator: random malloc / calloc / realloc / free sequences never
//! hand out overlapping live blocks, keep each allocator's alignment and realloc'd contents,
//! and leave the heap consistent.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::glibc::tests::Fake;
use super::glibc::Glibc;
use super::teach::{Fit, Teach};
use super::{Allocator, Memory};
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

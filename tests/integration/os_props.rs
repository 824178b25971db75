//! Property tests of the OS model: random mmap/munmap/mprotect/brk/access sequences never make
//! two mappings overlap, every access's outcome agrees with an independent model of the
//! mappings, and every value written is read back unless its page was unmapped since; and
//! several processes on a machine of a few frames, under every policy, read back every byte
//! they stored with accesses of every width, unaligned and across pages.

use std::collections::BTreeMap;

use memsim::config::ScenarioConfig;
use memsim::events::{EventSink, SegvCode};
use memsim::machine::{Access, Mmu};
use memsim::os::layout::ProcessSpec;
use memsim::os::{Os, Perms, Role, Trap};
use proptest::prelude::*;

const BASE: u64 = 0x1000_0000;
const PAGES: u64 = 48;
const PS: u64 = 4096;

#[derive(Debug, Clone)]
enum Op {
    Map {
        page: u64,
        n: u64,
        perms: u8,
    },
    Unmap {
        page: u64,
        n: u64,
    },
    Protect {
        page: u64,
        n: u64,
        perms: u8,
    },
    Brk {
        delta: i64,
    },
    Write {
        area: bool,
        page: u64,
        off: u64,
        val: u8,
    },
    Read {
        area: bool,
        page: u64,
        off: u64,
    },
}

const PERMS: [Perms; 5] = [
    Perms::NONE,
    Perms::R,
    Perms::RW,
    Perms::RX,
    Perms {
        r: true,
        w: true,
        x: true,
    },
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..PAGES, 1..6u64, 0..5u8).prop_map(|(page, n, perms)| Op::Map { page, n, perms }),
        (0..PAGES, 1..6u64).prop_map(|(page, n)| Op::Unmap { page, n }),
        (0..PAGES, 1..6u64, 0..5u8).prop_map(|(page, n, perms)| Op::Protect { page, n, perms }),
        (-6..10i64).prop_map(|delta| Op::Brk { delta }),
        (any::<bool>(), 0..PAGES, 0..PS, any::<u8>()).prop_map(|(area, page, off, val)| {
            Op::Write {
                area,
                page,
                off,
                val,
            }
        }),
        (any::<bool>(), 0..PAGES, 0..PS).prop_map(|(area, page, off)| Op::Read { area, page, off }),
    ]
}

/// The independent model: page address → permissions, and the bytes written since mapping.
#[derive(Default)]
struct Model {
    pages: BTreeMap<u64, Perms>,
    bytes: BTreeMap<u64, u8>,
}

impl Model {
    fn unmap(&mut self, page_addr: u64) {
        self.pages.remove(&page_addr);
        let keys: Vec<u64> = self
            .bytes
            .range(page_addr..page_addr + PS)
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.bytes.remove(&k);
        }
    }
}

fn no_overlaps(os: &Os) -> Result<(), TestCaseError> {
    let v: Vec<_> = os.procs[0].vmas.iter().collect();
    for w in v.windows(2) {
        prop_assert!(
            w[0].end <= w[1].start,
            "overlap: {:x?} and {:x?}",
            w[0],
            w[1]
        );
        prop_assert!(w[0].start < w[0].end);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    #[test]
    fn mappings_and_accesses_agree_with_a_model(ops in prop::collection::vec(op(), 1..60)) {
        let cfg = ScenarioConfig::default();
        let mut mmu = Mmu::new(&cfg.machine, cfg.seed, cfg.conventions);
        let mut os = Os::new(&mmu, &cfg.os, cfg.seed);
        let mut sink = EventSink::new(false, 0);
        let p = os
            .spawn(&mut mmu, &ProcessSpec::default_program("t", cfg.os.stack_limit), &mut sink)
            .expect("the default layout fits x86-64");
        let heap = os.procs[p].brk_start;
        let mut m = Model::default();
        for op in ops {
            match op {
                Op::Map { page, n, perms } => {
                    let (a, len) = (BASE + page * PS, n * PS);
                    if os.procs[p].vmas.is_free(a, a + len) {
                        os.map_fixed(p, a, len, PERMS[perms as usize], false, None, Role::Mmap, String::new());
                        for i in 0..n {
                            m.pages.insert(a + i * PS, PERMS[perms as usize]);
                        }
                    }
                }
                Op::Unmap { page, n } => {
                    let a = BASE + page * PS;
                    prop_assert!(os.munmap(&mut mmu, p, a, n * PS, &mut sink).is_ok());
                    for i in 0..n {
                        m.unmap(a + i * PS);
                    }
                }
                Op::Protect { page, n, perms } => {
                    let a = BASE + page * PS;
                    let all = (0..n).all(|i| m.pages.contains_key(&(a + i * PS)));
                    let r = os.mprotect(&mut mmu, p, a, n * PS, PERMS[perms as usize], &mut sink);
                    prop_assert_eq!(r.is_ok(), all);
                    if all {
                        for i in 0..n {
                            m.pages.insert(a + i * PS, PERMS[perms as usize]);
                        }
                    }
                }
                Op::Brk { delta } => {
                    let old = os.procs[p].brk;
                    let target = (old as i64 + delta * PS as i64).max(heap as i64) as u64;
                    let got = os.brk(&mut mmu, p, target, &mut sink);
                    prop_assert_eq!(got, target);
                    let (old_end, new_end) = (old.div_ceil(PS) * PS, target.div_ceil(PS) * PS);
                    let mut a = new_end;
                    while a < old_end {
                        m.unmap(a);
                        a += PS;
                    }
                    let mut a = old_end;
                    while a < new_end {
                        m.pages.insert(a, Perms::RW);
                        a += PS;
                    }
                }
                Op::Write { area, page, off, val } => {
                    let a = if area { BASE } else { heap } + page * PS + off;
                    let r = os.access(&mut mmu, p, a, Access::Write, &mut sink);
                    match m.pages.get(&(a & !(PS - 1))) {
                        None => prop_assert!(matches!(r, Err(Trap::Segv { code: SegvCode::MapErr, .. })), "{r:?}"),
                        Some(pm) if !pm.w => prop_assert!(matches!(r, Err(Trap::Segv { code: SegvCode::AccErr, .. })), "{r:?}"),
                        Some(_) => {
                            let pa = r.expect("a permitted write succeeds");
                            mmu.write_phys(pa, &[val]);
                            m.bytes.insert(a, val);
                        }
                    }
                }
                Op::Read { area, page, off } => {
                    let a = if area { BASE } else { heap } + page * PS + off;
                    let r = os.access(&mut mmu, p, a, Access::Read, &mut sink);
                    match m.pages.get(&(a & !(PS - 1))) {
                        None => prop_assert!(matches!(r, Err(Trap::Segv { code: SegvCode::MapErr, .. })), "{r:?}"),
                        Some(pm) if !pm.r => prop_assert!(matches!(r, Err(Trap::Segv { code: SegvCode::AccErr, .. })), "{r:?}"),
                        Some(_) => {
                            let pa = r.expect("a permitted read succeeds");
                            let mut b = [0u8];
                            mmu.read_phys(pa, &mut b);
                            prop_assert_eq!(b[0], m.bytes.get(&a).copied().unwrap_or(0));
                        }
                    }
                }
            }
            no_overlaps(&os)?;
            for (&page, pm) in &m.pages {
                let v = os.procs[p].vmas.find(page);
                prop_assert!(v.is_some_and(|v| v.perms == *pm), "page {page:#x}: model {pm:?}, os {v:?}");
            }
        }
    }
}

/// One access of the pressure property: process, store or load, width, byte offset from
/// `BASE` (any alignment; the last pages are read-only, then unmapped), value.
#[derive(Debug, Clone)]
struct Wide {
    proc: usize,
    write: bool,
    width: u64,
    off: u64,
    val: u64,
}

/// Pages each process maps read-write at `BASE`, then one read-only page; the page after it
/// is unmapped.
const RW_PAGES: u64 = 6;

fn wide() -> impl Strategy<Value = Wide> {
    (
        0usize..3,
        any::<bool>(),
        prop::sample::select(vec![1u64, 2, 4, 8]),
        prop_oneof![
            // Anywhere, or within a few bytes of a page boundary, where accesses cross.
            3 => 0..(RW_PAGES + 2) * PS,
            2 => (1..RW_PAGES + 2, 0u64..8).prop_map(|(page, back)| page * PS - 1 - back),
        ],
        any::<u64>(),
    )
        .prop_map(|(proc, write, width, off, val)| Wide {
            proc,
            write,
            width,
            off,
            val,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Three processes on a machine of a few frames with swap, every replacement policy:
    /// loads and stores of 1, 2, 4 and 8 bytes at any alignment, across page boundaries and
    /// into read-only and unmapped pages, fault as an independent model of each process's
    /// mappings says, and every byte stored is read back by its own process only, through
    /// eviction and swap.
    #[test]
    fn processes_under_pressure_read_back_every_width(
        frames in 4u64..10,
        policy in prop::sample::select(memsim::machine::Policy::ALL.to_vec()),
        ops in prop::collection::vec(wide(), 1..120),
    ) {
        let mut cfg = ScenarioConfig::default();
        cfg.machine.memory = frames * PS;
        cfg.machine.swap = 512 * PS;
        cfg.machine.replace = policy;
        let mut mmu = Mmu::new(&cfg.machine, cfg.seed, cfg.conventions);
        let mut os = Os::new(&mmu, &cfg.os, cfg.seed);
        let mut sink = EventSink::new(false, 0);
        let mut procs = Vec::new();
        for name in ["p0", "p1", "p2"] {
            let p = os
                .spawn(&mut mmu, &ProcessSpec::default_program(name, cfg.os.stack_limit), &mut sink)
                .expect("the default layout fits x86-64");
            os.map_fixed(p, BASE, RW_PAGES * PS, Perms::RW, false, None, Role::Mmap, String::new());
            os.map_fixed(p, BASE + RW_PAGES * PS, PS, Perms::R, false, None, Role::Mmap, String::new());
            procs.push(p);
        }
        // Each process's bytes as the model has them; unwritten bytes are zero.
        let mut bytes: Vec<BTreeMap<u64, u8>> = vec![BTreeMap::new(); procs.len()];
        for op in ops {
            let p = procs[op.proc];
            let a = BASE + op.off;
            let end = a + op.width;
            // The pages the access touches, each with the part of it that falls there.
            let mut parts = Vec::new();
            let mut at = a;
            while at < end {
                let next = ((at / PS) + 1) * PS;
                parts.push((at, next.min(end)));
                at = next.min(end);
            }
            // The first page the model refuses, and how: the access then changes nothing.
            let refused = parts.iter().find_map(|&(from, _)| {
                let page = (from - BASE) / PS;
                if page > RW_PAGES {
                    Some((from, SegvCode::MapErr))
                } else if page == RW_PAGES && op.write {
                    Some((from, SegvCode::AccErr))
                } else {
                    None
                }
            });
            let kind = if op.write { Access::Write } else { Access::Read };
            if let Some((from, code)) = refused {
                let r = os.access(&mut mmu, p, from, kind, &mut sink);
                prop_assert!(
                    matches!(r, Err(Trap::Segv { code: c, .. }) if c == code),
                    "{:?} at {:#x}: {:?}", op, from, r
                );
                continue;
            }
            let le = op.val.to_le_bytes();
            let mut got = [0u8; 8];
            for &(from, to) in &parts {
                let pa = os
                    .access(&mut mmu, p, from, kind, &mut sink)
                    .map_err(|t| TestCaseError::fail(format!("{op:?} at {from:#x}: {t:?}")))?;
                let (i, n) = ((from - a) as usize, (to - from) as usize);
                if op.write {
                    mmu.write_phys(pa, &le[i..i + n]);
                } else {
                    mmu.read_phys(pa, &mut got[i..i + n]);
                }
            }
            if op.write {
                for i in 0..op.width {
                    bytes[op.proc].insert(a + i, le[i as usize]);
                }
            } else {
                let want: Vec<u8> = (0..op.width)
                    .map(|i| bytes[op.proc].get(&(a + i)).copied().unwrap_or(0))
                    .collect();
                prop_assert_eq!(&got[..op.width as usize], &want[..], "{:?}", op);
            }
        }
        // More pages in use than frames: the machine was under pressure, and evicted.
        let pages: std::collections::BTreeSet<(usize, u64)> = bytes
            .iter()
            .enumerate()
            .flat_map(|(i, b)| b.keys().map(move |a| (i, a / PS)))
            .collect();
        if pages.len() as u64 > frames {
            prop_assert!(procs.iter().any(|&p| os.procs[p].stats.evictions > 0));
        }
        // In the end every byte each process stored is still its own.
        for (i, &p) in procs.iter().enumerate() {
            for (&a, &b) in &bytes[i] {
                let pa = os.access(&mut mmu, p, a, Access::Read, &mut sink)
                    .map_err(|t| TestCaseError::fail(format!("{a:#x}: {t:?}")))?;
                let mut one = [0u8];
                mmu.read_phys(pa, &mut one);
                prop_assert_eq!(one[0], b, "process {} at {:#x}", i, a);
            }
        }
    }
}

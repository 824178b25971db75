//! Property test of the OS model: random mmap/munmap/mprotect/brk/access sequences never make
//! two mappings overlap, every access's outcome agrees with an independent model of the
//! mappings, and every value written is read back unless its page was unmapped since.

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
        let mut os = Os::new(&mmu, &cfg.os, cfg.arch, cfg.seed);
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

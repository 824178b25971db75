//! Property tests of process layouts and the memory system calls on address spaces from a few
//! pages to 2^64 bytes: whatever the layout asks and whatever the arguments (zero, negative,
//! past the end of user space), every mapping stays inside user space, non-empty,
//! page-aligned and apart from the others, and each call answers as Linux documents.

use memsim::config::Conventions;
use memsim::events::EventSink;
use memsim::machine::{MachineConfig, Mmu};
use memsim::os::layout::{MmapSpec, ProcessSpec};
use memsim::os::{Os, OsConfig, Perms, Role, SysError};
use proptest::prelude::*;

/// A valid machine with `2^page_bits`-byte pages and `va_bits` of address: enough levels to
/// cover the page number, 64 frames.
fn machine(page_bits: u32, va_bits: u32) -> MachineConfig {
    let mut cfg = MachineConfig::default_x86_64();
    cfg.page_size = 1 << page_bits;
    cfg.va_bits = va_bits;
    let per_level = page_bits - 3;
    let vpn_bits = va_bits - page_bits;
    cfg.levels = if vpn_bits <= 20 {
        1
    } else {
        vpn_bits.div_ceil(per_level)
    };
    cfg.memory = 64 << page_bits;
    cfg
}

/// The mappings of process `p` obey the VMA invariants: inside user space (only x86-64's
/// `[vsyscall]` lies above it), non-empty, page-aligned, sorted and non-overlapping.
fn invariants(os: &Os, p: usize) -> Result<(), TestCaseError> {
    let ps = os.page_size();
    let mut prev_end = 0;
    for v in os.procs[p].vmas.iter() {
        if v.role == Role::Special && &*v.name == "[vsyscall]" {
            continue;
        }
        prop_assert!(v.start < v.end, "empty mapping {v:x?}");
        prop_assert!(v.end <= os.user_limit(), "{v:x?} is outside user space");
        prop_assert!(
            v.start % ps == 0 && v.end % ps == 0,
            "{v:x?} is not page-aligned"
        );
        prop_assert!(v.start >= prev_end, "{v:x?} overlaps the mapping before it");
        prev_end = v.end;
    }
    Ok(())
}

/// Whether every page of `[start, end)` is mapped.
fn all_mapped(os: &Os, p: usize, start: u64, end: u64) -> bool {
    let mut a = start;
    while a < end {
        match os.procs[p].vmas.find(a) {
            Some(v) => a = v.end,
            None => return false,
        }
    }
    true
}

/// An argument: ordinary or extreme, relative to the address space of `limit` bytes.
fn arg(limit: u64, ps: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1u64),
        Just(u64::MAX),
        Just(i64::MAX as u64),
        Just(i64::MIN as u64),
        Just(u64::MAX - ps + 2),
        Just(limit),
        Just(limit - ps),
        (0..limit / ps).prop_map(move |n| n * ps),
        (1..8u64).prop_map(move |n| n * ps),
        any::<u64>(),
    ]
}

#[derive(Debug, Clone)]
enum Call {
    Mmap(u64),
    Munmap(u64, u64),
    Mprotect(u64, u64),
    Brk(u64),
}

fn call(limit: u64, ps: u64) -> impl Strategy<Value = Call> {
    prop_oneof![
        arg(limit, ps).prop_map(Call::Mmap),
        (arg(limit, ps), arg(limit, ps)).prop_map(|(a, l)| Call::Munmap(a, l)),
        (arg(limit, ps), arg(limit, ps)).prop_map(|(a, l)| Call::Mprotect(a, l)),
        arg(limit, ps).prop_map(Call::Brk),
    ]
}

/// A machine (page bits, VA bits), from a 4-page space to x86-64's.
fn space() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        (8u32..=12).prop_flat_map(|pb| (Just(pb), pb + 2..=pb + 10)),
        Just((12u32, 48u32)),
        Just((12u32, 39u32)),
        Just((14u32, 48u32)),
        Just((12u32, 32u32)),
    ]
}

fn user_limit(va_bits: u32) -> u64 {
    if va_bits >= 39 {
        1 << (va_bits - 1)
    } else {
        1 << va_bits
    }
}

/// A layout for a process: region sizes (0 = left out), a stack or not, and mappings at random
/// (or extreme) addresses.
fn spec(limit: u64, ps: u64) -> impl Strategy<Value = ProcessSpec> {
    let size = prop_oneof![
        4 => Just(0u64),
        8 => 1..4 * ps,
        1 => Just(limit),
        1 => Just(u64::MAX),
    ];
    let mmap = (
        prop::option::of(arg(limit, ps)),
        prop_oneof![16 => 1..6 * ps, 1 => Just(limit / 2), 1 => Just(u64::MAX)],
    );
    (
        size.clone(),
        size.clone(),
        size,
        any::<bool>(),
        prop::collection::vec(mmap, 0..5),
    )
        .prop_map(move |(text, data, bss, stack, mmaps)| ProcessSpec {
            name: "p".into(),
            text,
            rodata: 0,
            relro: 0,
            data,
            bss,
            stack_limit: 4 * ps,
            stack,
            default: false,
            declared: true,
            mmaps: mmaps
                .into_iter()
                .enumerate()
                .map(|(i, (at, size))| MmapSpec {
                    name: format!("m{i}"),
                    at,
                    size,
                    perms: Perms::RW,
                    file: None,
                    shared: false,
                })
                .collect(),
        })
}

fn layout_case() -> impl Strategy<Value = (u32, u32, ProcessSpec, Vec<Call>)> {
    space().prop_flat_map(|(pb, va)| {
        let (limit, ps) = (user_limit(va), 1u64 << pb);
        (
            Just(pb),
            Just(va),
            spec(limit, ps),
            prop::collection::vec(call(limit, ps), 0..40),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Layouts either fit or are refused with nothing created; the system calls then keep the
    /// mappings valid and return what Linux returns.
    #[test]
    fn layouts_and_system_calls_never_wrap((pb, va, spec, calls) in layout_case()) {
        let cfg = machine(pb, va);
        let mut mmu = Mmu::new(&cfg, 0, Conventions::Textbook);
        let mut os = Os::new(&mmu, &OsConfig::default(), memsim::config::Arch::X86_64, 0);
        let mut sink = EventSink::new(true, 1000);
        let (ps, limit) = (os.page_size(), os.user_limit());
        let p = match os.spawn(&mut mmu, &spec, &mut sink) {
            Ok(p) => p,
            Err(e) => {
                prop_assert!(os.procs.is_empty(), "a refused layout created a process");
                prop_assert!(!e.what.is_empty() && !e.help.is_empty());
                return Ok(());
            }
        };
        invariants(&os, p)?;
        let linux = va == 48 && pb == 12;
        for m in &spec.mmaps {
            let v = os.procs[p].vmas.iter().find(|v| *v.name == *m.name);
            prop_assert!(v.is_some(), "mapping {} is missing", m.name);
            let v = v.unwrap();
            prop_assert_eq!(v.len(), m.size.div_ceil(ps) * ps);
            if linux {
                prop_assert!(v.start >= 64 * 1024, "{v:x?} is below mmap_min_addr");
            }
        }
        for c in calls {
            match c {
                Call::Mmap(len) => {
                    let r = os.mmap(p, len, Perms::RW, false, None, &mut sink);
                    match len.checked_next_multiple_of(ps) {
                        _ if len == 0 => prop_assert!(matches!(r, Err(SysError::Inval(_))), "{r:?}"),
                        Some(l) if l <= limit => match r {
                            Ok(start) => {
                                prop_assert!(start % ps == 0);
                                prop_assert!(all_mapped(&os, p, start, start + l));
                            }
                            Err(e) => prop_assert!(matches!(e, SysError::NoMem(_)), "{e:?}"),
                        },
                        _ => prop_assert!(matches!(r, Err(SysError::NoMem(_))), "{r:?}"),
                    }
                }
                Call::Munmap(addr, len) => {
                    let r = os.munmap(&mut mmu, p, addr, len, &mut sink);
                    let valid = addr % ps == 0 && addr <= limit && len <= limit - addr && len > 0;
                    if valid {
                        prop_assert!(r.is_ok(), "{r:?}");
                        let end = (addr + len).next_multiple_of(ps);
                        prop_assert!(os.procs[p].vmas.iter().all(|v| v.end <= addr || v.start >= end));
                    } else {
                        prop_assert!(matches!(r, Err(SysError::Inval(_))), "{r:?}");
                    }
                }
                Call::Mprotect(addr, len) => {
                    let mapped = addr % ps == 0
                        && len > 0
                        && len
                            .checked_next_multiple_of(ps)
                            .and_then(|l| addr.checked_add(l))
                            .filter(|&e| e <= limit)
                            .is_some_and(|e| all_mapped(&os, p, addr, e));
                    let r = os.mprotect(&mut mmu, p, addr, len, Perms::R, &mut sink);
                    if addr % ps != 0 {
                        prop_assert!(matches!(r, Err(SysError::Inval(_))), "{r:?}");
                    } else if len == 0 || mapped {
                        prop_assert!(r.is_ok(), "{r:?}");
                    } else {
                        prop_assert!(matches!(r, Err(SysError::NoMem(_))), "{r:?}");
                    }
                }
                Call::Brk(addr) => {
                    let old = os.procs[p].brk;
                    let got = os.brk(&mut mmu, p, addr, &mut sink);
                    prop_assert!(got == addr || got == old, "brk({addr:#x}) gave {got:#x}");
                    if addr.checked_next_multiple_of(ps).is_none_or(|e| e > limit) {
                        prop_assert_eq!(got, old);
                    }
                }
            }
            invariants(&os, p)?;
        }
    }
}

//! Machine profiles: YAML files in `profiles/`, built into the binary, and users' own files.
//!
//! A profile file sets any of the fields of a [`ScenarioConfig`] (the machine's, the OS's and
//! the heap's, in one flat mapping); what it leaves out keeps the default's value (x86_64 with
//! 16 GiB of RAM). The schema is [`ProfileFile`]:
//!
//! ```yaml
//! description: "what `memsim profiles` shows"
//! page_size: 4 KiB          # sizes: "4 KiB", "16 GiB", "100 B", or a number of bytes
//! va_bits: 48
//! levels: 4
//! pte_size: 8
//! memory: 16 GiB
//! swap: 0
//! tlb: { entries: 64, policy: lru, ways: 4 }   # or `tlb: off`; no `ways` = fully associative
//! replace: lru              # fifo | lru | clock | opt | random
//! scope: global             # global | local
//! seed: 0
//! aslr: off                 # on | off (and YAML booleans)
//! pie: off
//! pcid: off
//! allocator: glibc          # glibc | first_fit | best_fit | worst_fit
//! heap: { size: 100 B, base: 1000, header: 0, coalesce: off, order: address }
//! stack_limit: 8 MiB
//! addresses: auto           # decimal | hex | auto (decimal for a heap based in decimal)
//! ```

mod file;
mod size;
pub mod validate;

use std::sync::Arc;

use miette::NamedSource;

use crate::config::ScenarioConfig;

pub use file::{load_file, HeapFile, OnOff, ProfileFile, Size, TlbFile, TlbTable};
pub use size::{format_size, parse_size};

/// The built-in profiles, in the order `memsim profiles` lists them: the default first, then by
/// architecture, then the teaching machines (`tiny`, OSTEP's homework machines).
const BUILTINS: [(&str, &str); 12] = [
    ("x86_64", include_str!("../../profiles/x86_64.yaml")),
    (
        "x86_64_la57",
        include_str!("../../profiles/x86_64_la57.yaml"),
    ),
    ("i386", include_str!("../../profiles/i386.yaml")),
    ("aarch64_4k", include_str!("../../profiles/aarch64_4k.yaml")),
    (
        "aarch64_16k",
        include_str!("../../profiles/aarch64_16k.yaml"),
    ),
    (
        "aarch64_64k",
        include_str!("../../profiles/aarch64_64k.yaml"),
    ),
    ("riscv_sv39", include_str!("../../profiles/riscv_sv39.yaml")),
    ("tiny", include_str!("../../profiles/tiny.yaml")),
    (
        "ostep_paging",
        include_str!("../../profiles/ostep_paging.yaml"),
    ),
    (
        "ostep_policy",
        include_str!("../../profiles/ostep_policy.yaml"),
    ),
    (
        "ostep_malloc",
        include_str!("../../profiles/ostep_malloc.yaml"),
    ),
    (
        "ostep_multilevel",
        include_str!("../../profiles/ostep_multilevel.yaml"),
    ),
];

/// The built-in profiles' names, in listing order.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|&(n, _)| n)
}

/// What `memsim profiles` shows about one built-in profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInfo {
    pub name: &'static str,
    pub description: String,
    pub page_size: u64,
    pub va_bits: u32,
    pub levels: u32,
    pub pte_size: u32,
    pub memory: u64,
    pub swap: u64,
    /// TLB entries; `None` when the TLB is off.
    pub tlb_entries: Option<u32>,
    /// The whole configuration, for anything the fields above leave out.
    pub config: ScenarioConfig,
}

fn load_builtin(name: &'static str, text: &'static str) -> Option<(ProfileFile, ScenarioConfig)> {
    let source = Arc::new(NamedSource::new(
        format!("profiles/{name}.yaml"),
        crate::files::Quoted(text.to_string()),
    ));
    file::load(name, text, source).ok()
}

/// The built-in profile `name`, validated. `None` for a name that is no built-in.
pub fn builtin(name: &str) -> Option<ScenarioConfig> {
    let &(n, text) = BUILTINS.iter().find(|(n, _)| *n == name)?;
    load_builtin(n, text).map(|(_, cfg)| cfg)
}

/// Every built-in profile, in a fixed order (the default machine first).
pub fn builtins() -> Vec<ProfileInfo> {
    BUILTINS
        .iter()
        .filter_map(|&(name, text)| {
            let (file, config) = load_builtin(name, text)?;
            Some(ProfileInfo {
                name,
                description: file.description.unwrap_or_default(),
                page_size: config.machine.page_size,
                va_bits: config.machine.va_bits,
                levels: config.machine.levels,
                pte_size: config.machine.pte_size,
                memory: config.machine.memory,
                swap: config.machine.swap,
                tlb_entries: config
                    .machine
                    .tlb
                    .enabled
                    .then_some(config.machine.tlb.entries),
                config,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::{Policy, TlbPolicy};

    #[test]
    fn every_builtin_loads_and_validates() {
        for &(name, text) in &BUILTINS {
            let source = Arc::new(NamedSource::new(
                name,
                crate::files::Quoted(text.to_string()),
            ));
            match file::load(name, text, source) {
                Ok((file, cfg)) => {
                    assert_eq!(cfg.machine.name, name);
                    let d = file.description.unwrap_or_default();
                    assert!(!d.trim().is_empty(), "{name} has no description");
                }
                Err(e) => panic!("built-in {name} is invalid: {e:?}"),
            }
        }
        assert_eq!(builtins().len(), BUILTINS.len());
        assert_eq!(
            builtins().iter().map(|p| p.name).collect::<Vec<_>>(),
            builtin_names().collect::<Vec<_>>()
        );
    }

    #[test]
    fn x86_64_is_the_default_machine() {
        assert_eq!(builtin("x86_64"), Some(ScenarioConfig::default_x86_64()));
    }

    #[test]
    fn builtins_have_their_geometry() {
        let geo = |n: &str| {
            let c = builtin(n).unwrap().machine;
            (c.page_size, c.va_bits, c.levels, c.pte_size)
        };
        assert_eq!(geo("x86_64"), (4096, 48, 4, 8));
        assert_eq!(geo("x86_64_la57"), (4096, 57, 5, 8));
        assert_eq!(geo("i386"), (4096, 32, 2, 4));
        assert_eq!(geo("aarch64_4k"), (4096, 48, 4, 8));
        assert_eq!(geo("aarch64_16k"), (16 << 10, 48, 4, 8));
        assert_eq!(geo("aarch64_64k"), (64 << 10, 48, 3, 8));
        assert_eq!(geo("riscv_sv39"), (4096, 39, 3, 8));
        assert_eq!(geo("tiny"), (256, 16, 1, 4));
        let tiny = builtin("tiny").unwrap().machine;
        assert_eq!(tiny.memory, 4 << 10);
        assert_eq!(tiny.tlb.entries, 4);
        assert_eq!(tiny.level_bits(), vec![8]);
        assert_eq!(geo("ostep_paging"), (4096, 14, 1, 4));
        let ostep = builtin("ostep_paging").unwrap().machine;
        assert_eq!((ostep.memory, ostep.level_bits()), (64 << 10, vec![2]));
        let policy = builtin("ostep_policy").unwrap().machine;
        assert_eq!(
            (policy.frames(), policy.replace),
            (3, crate::machine::Policy::Fifo)
        );
        let heap = builtin("ostep_malloc").unwrap();
        assert_eq!(
            (heap.heap.teach_heap.size, heap.heap.teach_heap.base),
            (100, 1000)
        );
        assert_eq!(heap.conventions, crate::config::Conventions::Ostep);
        let multi = builtin("ostep_multilevel").unwrap();
        assert_eq!(
            (multi.machine.va_bits, multi.machine.memory),
            (
                crate::machine::small::VA_BITS,
                crate::machine::small::PAGES * crate::machine::small::PAGE
            )
        );
        assert_eq!(multi.conventions, crate::config::Conventions::Ostep);
        assert_eq!(builtin("i386").unwrap().machine.level_bits(), vec![10, 10]);
        assert_eq!(
            builtin("aarch64_64k").unwrap().machine.level_bits(),
            vec![6, 13, 13]
        );
        assert_eq!(
            builtin("aarch64_16k").unwrap().machine.level_bits(),
            vec![1, 11, 11, 11]
        );
        let d = crate::machine::MachineConfig::default_x86_64();
        assert_eq!((d.tlb.policy, d.replace), (TlbPolicy::Lru, Policy::Lru));
    }

    #[test]
    fn unknown_builtin_is_none() {
        assert_eq!(builtin("x86"), None);
        assert_eq!(builtin(""), None);
    }
}

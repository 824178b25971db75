//! The configuration a scenario runs on: the machine, the OS on it and the heap of its
//! programs, each its own type in its own layer, gathered here with the seed they share.

use serde::{Deserialize, Serialize};

use crate::heap::HeapConfig;
use crate::machine::MachineConfig;
use crate::os::OsConfig;

/// Everything a profile (built-in YAML or a user's file), a `machine { ... }` statement or one
/// run of a sweep sets. Built by `profile`, changed and validated by `check::machine`, so the
/// session can assume every part is consistent with the others (a stack limit of whole pages,
/// say). Each layer gets only its own part: the MMU the machine, the OS its settings, every
/// allocator the heap's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioConfig {
    /// Page size, memory, swap, TLB, page-table shape, replacement policy.
    pub machine: MachineConfig,
    /// ASLR, PIE, the stack limit.
    pub os: OsConfig,
    /// The allocator, the teaching heap, how addresses print.
    pub heap: HeapConfig,
    /// Whose rules settle what textbooks and OSTEP's homework simulators answer differently
    /// (`conventions textbook|ostep`; docs/language.md lists each rule side by side). The
    /// scenario's, not one layer's: the replacement policies and the teaching heap both follow
    /// it, so `Mmu::new` and `heap::for_config` are each handed this one field.
    #[serde(default)]
    pub conventions: Conventions,
    /// The processor the programs are built for: the OS lays a process out as Linux does on it
    /// and glibc follows its ABI (4-byte chunk headers on i386). The scenario's, not one
    /// layer's: `Os::new` and `heap::for_config` are each handed this one field.
    #[serde(default)]
    pub arch: Arch,
    /// Seeds every random choice (the `random` policy, ASLR, tcache keys): each layer derives
    /// its own stream from it, so one number reproduces a whole run.
    pub seed: u64,
}

impl ScenarioConfig {
    /// The configuration without a `machine` line: x86_64 with 16 GiB of RAM, no swap, a
    /// 64-entry TLB and LRU replacement, Linux's layout without ASLR, glibc's allocator
    /// (docs/language.md, "The machine").
    pub fn default_x86_64() -> ScenarioConfig {
        ScenarioConfig {
            machine: MachineConfig::default_x86_64(),
            os: OsConfig::default(),
            heap: HeapConfig::default(),
            conventions: Conventions::Textbook,
            arch: Arch::X86_64,
            seed: 0,
        }
    }

    /// The base heap addresses and pointer values print in.
    pub fn radix(&self) -> crate::units::Radix {
        self.heap.radix()
    }
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig::default_x86_64()
    }
}

/// `conventions textbook|ostep`: the textbook's rules (the default), or those of OSTEP's
/// homework simulators (`malloc.py`, `paging-policy.py`) wherever the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conventions {
    #[default]
    Textbook,
    Ostep,
}

impl Conventions {
    pub const ALL: [Conventions; 2] = [Conventions::Textbook, Conventions::Ostep];
    pub fn name(self) -> &'static str {
        match self {
            Conventions::Textbook => "textbook",
            Conventions::Ostep => "ostep",
        }
    }
    pub fn from_name(s: &str) -> Option<Conventions> {
        Conventions::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// `arch x86_64|i386|aarch64|riscv64`: whose Linux process layout and whose glibc ABI a
/// scenario's programs get (docs/profiles.md says what each takes from a real system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    #[default]
    X86_64,
    I386,
    Aarch64,
    Riscv64,
}

impl Arch {
    pub const ALL: [Arch; 4] = [Arch::X86_64, Arch::I386, Arch::Aarch64, Arch::Riscv64];
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i386",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
        }
    }
    pub fn from_name(s: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == s)
    }
    /// Bytes in a pointer and a `size_t`: glibc's SIZE_SZ.
    pub fn word(self) -> u64 {
        match self {
            Arch::I386 => 4,
            _ => 8,
        }
    }
}

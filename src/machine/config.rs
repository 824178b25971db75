//! The settings of a simulated machine: its pages, memory, swap, TLB, page tables and
//! replacement policy. The OS's and the heap's settings are their own types
//! (`crate::config::ScenarioConfig` gathers all three).

use serde::{Deserialize, Serialize};

/// The hardware of one simulated machine: what the MMU, the TLB, physical memory and swap are
/// built from. Part of a `ScenarioConfig`, built by `profile` (built-in YAML or a user's file)
/// and changed by `check::machine` from `machine { ... }` settings; validated there too, so the
/// engine can assume every field is consistent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineConfig {
    /// The profile it came from (`x86_64`, `tiny`, a file name), for messages and `:machine`.
    pub name: String,
    /// Bytes per page: a power of two from 256 B to 1 GiB.
    pub page_size: u64,
    /// Bits of a virtual address that the page tables translate.
    pub va_bits: u32,
    /// Page-table levels.
    pub levels: u32,
    /// Bytes per page-table entry (8 on 64-bit machines, 4 on 32-bit ones): with the page size
    /// it fixes how many index bits one level covers.
    pub pte_size: u32,
    /// Physical memory in bytes: a whole number of frames.
    pub memory: u64,
    /// Swap in bytes: a whole number of pages; 0 = no swap.
    pub swap: u64,
    pub tlb: TlbConfig,
    pub replace: Policy,
    pub scope: Scope,
    /// TLB entries carry an address-space id, so a context switch need not flush them.
    pub pcid: bool,
    /// Bits of CLOCK's per-page counter under `conventions ostep` (`paging-policy.py -b`).
    #[serde(default = "default_clock_bits")]
    pub clock_bits: u32,
    /// `base_bounds BASE LIMIT`: one base and one bounds register (`relocation.py`), which
    /// `translate` uses in place of the page table.
    #[serde(default)]
    pub base_bounds: Option<(u64, u64)>,
    /// `seg0 BASE LIMIT` and `seg1 BASE LIMIT`: two segments (`segmentation.py`); addresses in
    /// the lower half of the address space are segment 0's, growing up from its base, the upper
    /// half segment 1's, growing down from its base.
    #[serde(default)]
    pub segments: [Option<(u64, u64)>; 2],
    /// `pdbr PAGE`: the page directory base register of OSTEP's small two-level machine
    /// (`paging-multilevel-translate.py`), which `translate` walks in physical memory in place
    /// of the page table: see [`crate::machine::small`].
    #[serde(default)]
    pub pdbr: Option<u64>,
}

fn default_clock_bits() -> u32 {
    2
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlbConfig {
    /// `tlb off` = false: every access walks the page table.
    pub enabled: bool,
    pub entries: u32,
    /// Set associativity; `None` = fully associative.
    pub ways: Option<u32>,
    pub policy: TlbPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlbPolicy {
    Fifo,
    Lru,
}

impl TlbPolicy {
    pub const ALL: [TlbPolicy; 2] = [TlbPolicy::Fifo, TlbPolicy::Lru];
    pub fn name(self) -> &'static str {
        match self {
            TlbPolicy::Fifo => "fifo",
            TlbPolicy::Lru => "lru",
        }
    }
    pub fn from_name(s: &str) -> Option<TlbPolicy> {
        TlbPolicy::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// Page replacement policy (docs/policies.md states each one's convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Fifo,
    Lru,
    Clock,
    Opt,
    Random,
    /// Evicts the most recently used page (`paging-policy.py -p MRU`).
    Mru,
    /// Evicts the page whose next use is soonest: OPT's opposite (`-p UNOPT`).
    Unopt,
}

/// Whether a victim frame is chosen among all frames or only the faulting process's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Global,
    Local,
}

impl Policy {
    pub const ALL: [Policy; 7] = [
        Policy::Fifo,
        Policy::Lru,
        Policy::Clock,
        Policy::Opt,
        Policy::Random,
        Policy::Mru,
        Policy::Unopt,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::Lru => "lru",
            Policy::Clock => "clock",
            Policy::Opt => "opt",
            Policy::Random => "random",
            Policy::Mru => "mru",
            Policy::Unopt => "unopt",
        }
    }
    /// Whether the policy reads the future (a replay tells it every reference's next use).
    pub fn needs_future(self) -> bool {
        matches!(self, Policy::Opt | Policy::Unopt)
    }
    pub fn from_name(s: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl MachineConfig {
    /// The machine without a `machine` line: x86_64 with 16 GiB of RAM, no swap, a 64-entry
    /// TLB and LRU replacement (docs/language.md, "The machine").
    pub fn default_x86_64() -> MachineConfig {
        MachineConfig {
            name: "x86_64".into(),
            page_size: 4096,
            va_bits: 48,
            levels: 4,
            pte_size: 8,
            memory: 16 << 30,
            swap: 0,
            tlb: TlbConfig {
                enabled: true,
                entries: 64,
                ways: None,
                policy: TlbPolicy::Lru,
            },
            replace: Policy::Lru,
            scope: Scope::Global,
            pcid: false,
            clock_bits: 2,
            base_bounds: None,
            segments: [None, None],
            pdbr: None,
        }
    }

    pub fn page_shift(&self) -> u32 {
        self.page_size.trailing_zeros()
    }
    pub fn frames(&self) -> u64 {
        self.memory / self.page_size
    }
    pub fn swap_slots(&self) -> u64 {
        self.swap / self.page_size
    }
    /// Index bits one page-table level covers: a table fills one page.
    pub fn bits_per_level(&self) -> u32 {
        self.page_shift() - self.pte_size.trailing_zeros()
    }
    pub fn vpn_bits(&self) -> u32 {
        self.va_bits - self.page_shift()
    }
    /// Index bits of each level, top level first. Lower levels each cover `bits_per_level`; the
    /// top level takes what remains (a one-level table is a linear array, as textbooks draw it).
    pub fn level_bits(&self) -> Vec<u32> {
        let b = self.bits_per_level();
        let vpn = self.vpn_bits();
        let lower = (self.levels - 1) * b;
        let mut v = vec![vpn.saturating_sub(lower)];
        v.extend(std::iter::repeat_n(b, (self.levels - 1) as usize));
        v
    }
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig::default_x86_64()
    }
}

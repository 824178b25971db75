//! The settings of a simulated machine: what a profile, a `machine { ... }` block or a sweep sets.

use serde::{Deserialize, Serialize};

/// Everything that defines one simulated machine. Built by `profile` (built-in YAML or a user's
/// file) and changed by `check::machine` from `machine { ... }` settings; validated there too, so
/// the engine can assume every field is consistent.
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
    /// Seeds every random choice (the `random` policy, ASLR, tcache keys).
    pub seed: u64,
    pub aslr: bool,
    pub pie: bool,
    pub pcid: bool,
    pub allocator: AllocatorKind,
    /// The fixed heap of the teaching allocators: `heap SIZE at BASE`.
    pub teach_heap: TeachHeap,
    /// The stack rlimit (`ulimit -s`), 8 MiB by default.
    pub stack_limit: u64,
    /// The base heap addresses and pointer values print in (`addresses decimal|hex|auto`).
    #[serde(default)]
    pub addresses: Addresses,
    /// Whether the teaching heap's base was written in hex (`heap 100 B at 0x3e8`): under
    /// `addresses auto` its addresses then print in hex too.
    #[serde(default)]
    pub heap_base_hex: bool,
    /// Whose rules settle what textbooks and OSTEP's homework simulators answer differently
    /// (`conventions textbook|ostep`; docs/language.md lists each rule side by side).
    #[serde(default)]
    pub conventions: Conventions,
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
}

fn default_clock_bits() -> u32 {
    2
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

impl MachineConfig {
    /// Whether processes get the Linux x86-64 user layout (libraries, `[vsyscall]`, ASLR
    /// ranges): 4 KiB pages with 48-bit addresses, or 57-bit ones, since Linux gives a 5-level
    /// machine the same 47-bit user space unless a program asks for higher addresses.
    pub fn linux_layout(&self) -> bool {
        self.page_size == 4096 && matches!(self.va_bits, 48 | 57)
    }
}

/// The `addresses` setting: a base for printed addresses, or `auto` to speak in the numbers the
/// teaching heap was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Addresses {
    /// Decimal for a teaching heap whose base was written in decimal (OSTEP's `at 1000`), hex
    /// otherwise (glibc, or `at 0x3e8`).
    #[default]
    Auto,
    Decimal,
    Hex,
}

impl Addresses {
    pub const ALL: [Addresses; 3] = [Addresses::Auto, Addresses::Decimal, Addresses::Hex];
    pub fn name(self) -> &'static str {
        match self {
            Addresses::Auto => "auto",
            Addresses::Decimal => "decimal",
            Addresses::Hex => "hex",
        }
    }
    pub fn from_name(s: &str) -> Option<Addresses> {
        Addresses::ALL.into_iter().find(|a| a.name() == s)
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocatorKind {
    Glibc,
    FirstFit,
    BestFit,
    WorstFit,
}

/// The OSTEP-style free-list heap of the teaching allocators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeachHeap {
    pub size: u64,
    pub base: u64,
    /// Bytes of header before each block.
    pub header: u64,
    pub coalesce: bool,
    pub order: FreeListOrder,
    /// Request sizes are rounded up to a multiple of this (`align 4`, `malloc.py -a 4`); 0 and
    /// 1 leave them as they are.
    #[serde(default)]
    pub align: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeListOrder {
    Address,
    SizeAsc,
    SizeDesc,
    InsertFront,
    InsertBack,
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

impl AllocatorKind {
    pub const ALL: [AllocatorKind; 4] = [
        AllocatorKind::Glibc,
        AllocatorKind::FirstFit,
        AllocatorKind::BestFit,
        AllocatorKind::WorstFit,
    ];
    pub fn name(self) -> &'static str {
        match self {
            AllocatorKind::Glibc => "glibc",
            AllocatorKind::FirstFit => "first_fit",
            AllocatorKind::BestFit => "best_fit",
            AllocatorKind::WorstFit => "worst_fit",
        }
    }
    pub fn from_name(s: &str) -> Option<AllocatorKind> {
        AllocatorKind::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl FreeListOrder {
    pub const ALL: [FreeListOrder; 5] = [
        FreeListOrder::Address,
        FreeListOrder::SizeAsc,
        FreeListOrder::SizeDesc,
        FreeListOrder::InsertFront,
        FreeListOrder::InsertBack,
    ];
    pub fn name(self) -> &'static str {
        match self {
            FreeListOrder::Address => "address",
            FreeListOrder::SizeAsc => "size_asc",
            FreeListOrder::SizeDesc => "size_desc",
            FreeListOrder::InsertFront => "insert_front",
            FreeListOrder::InsertBack => "insert_back",
        }
    }
    pub fn from_name(s: &str) -> Option<FreeListOrder> {
        FreeListOrder::ALL.into_iter().find(|p| p.name() == s)
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
            seed: 0,
            aslr: false,
            pie: false,
            pcid: false,
            allocator: AllocatorKind::Glibc,
            teach_heap: TeachHeap {
                size: 100,
                base: 1000,
                header: 0,
                coalesce: false,
                order: FreeListOrder::Address,
                align: 0,
            },
            stack_limit: 8 << 20,
            addresses: Addresses::Auto,
            heap_base_hex: false,
            conventions: Conventions::Textbook,
            clock_bits: 2,
            base_bounds: None,
            segments: [None, None],
        }
    }

    /// The base this machine's heap addresses and pointer values print in.
    pub fn radix(&self) -> crate::units::Radix {
        use crate::units::Radix;
        match self.addresses {
            Addresses::Decimal => Radix::Decimal,
            Addresses::Hex => Radix::Hex,
            Addresses::Auto if self.allocator == AllocatorKind::Glibc || self.heap_base_hex => {
                Radix::Hex
            }
            Addresses::Auto => Radix::Decimal,
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

//! The settings of a scenario's heap: which allocator serves `malloc`, the teaching heap it
//! manages, and the base heap addresses print in.

use serde::{Deserialize, Serialize};

use crate::units::Radix;

/// What a profile, a `machine { ... }` block or a sweep says about the heap. Every process gets
/// an allocator made from it ([`crate::heap::for_config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapConfig {
    pub allocator: AllocatorKind,
    /// The fixed heap of the teaching allocators: `heap SIZE at BASE`.
    pub teach_heap: TeachHeap,
    /// The base heap addresses and pointer values print in (`addresses decimal|hex|auto`).
    #[serde(default)]
    pub addresses: Addresses,
    /// Whether the teaching heap's base was written in hex (`heap 100 B at 0x3e8`): under
    /// `addresses auto` its addresses then print in hex too.
    #[serde(default)]
    pub heap_base_hex: bool,
}

impl Default for HeapConfig {
    /// glibc, and OSTEP's 100-byte heap at 1000 for when a teaching allocator is chosen.
    fn default() -> Self {
        HeapConfig {
            allocator: AllocatorKind::Glibc,
            teach_heap: TeachHeap {
                size: 100,
                base: 1000,
                header: 0,
                coalesce: false,
                order: FreeListOrder::Address,
                align: 0,
            },
            addresses: Addresses::Auto,
            heap_base_hex: false,
        }
    }
}

impl HeapConfig {
    /// The base this heap's addresses and pointer values print in.
    pub fn radix(&self) -> Radix {
        match self.addresses {
            Addresses::Decimal => Radix::Decimal,
            Addresses::Hex => Radix::Hex,
            Addresses::Auto if self.allocator == AllocatorKind::Glibc || self.heap_base_hex => {
                Radix::Hex
            }
            Addresses::Auto => Radix::Decimal,
        }
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
#[serde(rename_all = "snake_case")]
pub enum AllocatorKind {
    Glibc,
    FirstFit,
    BestFit,
    WorstFit,
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

//! What happened, as data: the only thing renderers see of the simulation.

use crate::machine::Access;
use crate::session::{Item, Output};

/// Why a page fault was minor (no I/O).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinorReason {
    /// A first read of anonymous memory: the shared zero page is mapped, RSS does not grow.
    ZeroPage,
    /// A first write of anonymous memory: a zeroed frame is allocated.
    DemandZero,
    /// A write to a page that was mapped to the zero page: now it gets its own frame.
    ZeroPageWrite,
    /// A write to a copy-on-write page (after fork, or a private file page): the frame is copied.
    CopyOnWrite,
    /// A write to a copy-on-write page nobody else maps any more: made writable in place.
    CopyOnWriteLast,
    /// A file page that was already in the page cache.
    PageCache,
}

/// Why a page fault was major (the page's contents had to be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MajorReason {
    /// Read from the file behind the mapping.
    FileRead,
    /// Read back from swap.
    SwapIn,
}

/// The kind of SIGSEGV, as `si_code` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegvCode {
    /// No mapping covers the address.
    MapErr,
    /// A mapping covers it but forbids this access.
    AccErr,
    /// A non-canonical address: the kernel reports address 0.
    Kernel,
}

impl SegvCode {
    pub fn name(self) -> &'static str {
        match self {
            SegvCode::MapErr => "SEGV_MAPERR",
            SegvCode::AccErr => "SEGV_ACCERR",
            SegvCode::Kernel => "SI_KERNEL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MinorFault {
        pid: u32,
        vaddr: u64,
        access: Access,
        reason: MinorReason,
        /// The frame now mapped (the zero page's number for `ZeroPage`).
        pfn: u64,
        region: String,
    },
    MajorFault {
        pid: u32,
        vaddr: u64,
        access: Access,
        reason: MajorReason,
        pfn: u64,
        region: String,
    },
    StackGrowth {
        pid: u32,
        old_start: u64,
        new_start: u64,
    },
    Segv {
        pid: u32,
        vaddr: u64,
        access: Access,
        code: SegvCode,
        /// A sentence placing the address: "259 KiB past the end of \[heap\] at 0x426000".
        detail: String,
    },
    /// SIGBUS (`BUS_ADRERR`): a file mapping touched past the file's last page.
    Bus {
        pid: u32,
        vaddr: u64,
        access: Access,
        /// A sentence placing the address in the file.
        detail: String,
    },
    Brk {
        pid: u32,
        old: u64,
        new: u64,
    },
    Mmap {
        pid: u32,
        start: u64,
        len: u64,
        perms: String,
        what: String,
    },
    Munmap {
        pid: u32,
        start: u64,
        len: u64,
    },
    Mprotect {
        pid: u32,
        start: u64,
        len: u64,
        perms: String,
    },
    /// A mapping of an explicit layout that could not go where it asked (`mmap NAME at ADDR`):
    /// as Linux treats `mmap`'s address without `MAP_FIXED`, ADDR was a hint.
    MmapMoved {
        pid: u32,
        name: String,
        hint: u64,
        start: u64,
        len: u64,
        /// Why the hint was not honoured: "0x0-0x10000 overlaps the text segment".
        why: String,
    },
    /// A memory system call refused, with the errno Linux gives and the rule that refused it.
    SyscallFailed {
        pid: u32,
        /// The call as written: `munmap(0x0, 0xffffffffffffffff)`.
        call: String,
        /// What it returned: `-1`, `MAP_FAILED`, or the unchanged break.
        result: String,
        errno: String,
        reason: String,
    },
    /// An allocator decision, explained.
    Alloc {
        pid: u32,
        call: String,
        result: u64,
        detail: String,
        /// The base the machine prints addresses in, for `result`.
        radix: crate::units::Radix,
    },
    Abort {
        pid: u32,
        message: String,
    },
    Oom {
        pid: u32,
        vaddr: u64,
    },
    Exit {
        pid: u32,
        status: i32,
        reason: String,
    },
    Switch {
        from: u32,
        to: u32,
        tlb_flushed: bool,
    },
    Fork {
        parent: u32,
        child: u32,
    },
    /// `fork()` failed: the process table is full (Linux's EAGAIN); it returned -1.
    ForkFailed {
        parent: u32,
        limit: usize,
    },
    /// A fault needed a frame and none was free: the policy chose this one.
    Eviction {
        /// The process whose fault needed the frame.
        pid: u32,
        pfn: u64,
        /// What the frame held: "main page 0x405 (anonymous)", "\[refs\] page 3 (page cache)".
        victim: String,
        policy: String,
        action: EvictAction,
    },
    /// `conventions ostep`: one reference of a replay, as `paging-policy.py -c` prints it.
    PolicyAccess {
        pid: u32,
        page: u64,
        hit: bool,
        /// The policy's words for the two ends of its list (`LRU` … `MRU`).
        left: String,
        right: String,
        /// The resident pages in the policy's list order, after the reference.
        memory: Vec<u64>,
        victim: Option<u64>,
        /// Totals of the replay so far.
        hits: u64,
        misses: u64,
    },
    /// `translate(addr)`: what the page table says of an address, without faulting anything in.
    Translate {
        pid: u32,
        vaddr: u64,
        vpn: u64,
        /// The physical address, or `None` when no valid entry maps the page.
        paddr: Option<u64>,
        /// Why there is none: "page 0x1 has no valid entry".
        why: String,
        /// Told as `paging-linear-translate.py -c` tells it (`conventions ostep`).
        ostep: bool,
    },
    /// `translate(addr)` on a base-and-bounds or segmented machine.
    SegTranslate {
        pid: u32,
        /// The how-manieth translation on this machine, from 0.
        index: u64,
        vaddr: u64,
        paddr: Option<u64>,
        /// The segment (0 or 1) on a segmented machine; `None` for base and bounds.
        segment: Option<u8>,
        /// What decided: "offset 0x1ae is below the limit 472; base 0x3082 + 0x1ae".
        why: String,
        ostep: bool,
    },
    /// `translate(addr)` on OSTEP's small two-level machine (`pdbr`): each entry the walk read.
    WalkTranslate {
        pid: u32,
        vaddr: u64,
        /// The page directory's page.
        pdbr: u64,
        /// The directory entry, then the table entry if the directory's was valid; none when
        /// the address is past the 15-bit address space.
        levels: Vec<SmallEntry>,
        paddr: Option<u64>,
        /// The byte at `paddr`.
        value: Option<u8>,
        /// Told as `paging-multilevel-translate.py -c` tells it (`conventions ostep`).
        ostep: bool,
    },
    /// An anonymous page written to swap so its frame can be reused.
    SwapOut {
        /// The page's owner.
        pid: u32,
        vaddr: u64,
        pfn: u64,
        slot: u64,
    },
    /// A major fault that read a page back from swap.
    SwapIn {
        pid: u32,
        vaddr: u64,
        access: Access,
        slot: u64,
        pfn: u64,
        region: String,
    },
}

/// One entry a walk of OSTEP's small two-level machine read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallEntry {
    /// The page that holds the table.
    pub table: u64,
    /// The entry's index in it.
    pub index: u64,
    /// The entry's physical address.
    pub addr: u64,
    /// The entry: a valid bit (0x80) over a 7-bit page number.
    pub entry: u8,
}

/// What eviction did with the page it took a frame from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictAction {
    /// A clean file page: dropped; the next touch reads the file again.
    Dropped,
    /// A dirty file page: written back to its file, then dropped.
    WrittenBack,
    /// A dirty anonymous page: written to a swap slot.
    SwappedOut { slot: u64 },
    /// A clean anonymous page whose copy in swap is still current: no write needed.
    Discarded { slot: u64 },
}

impl Event {
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            Event::MinorFault { .. } | Event::MajorFault { .. } | Event::SwapIn { .. }
        )
    }
}

/// Where events go while a statement runs. Counting is always on; keeping events is not, and
/// even when it is, a statement keeps at most `limit` of them (a loop over a gigabyte would
/// otherwise produce a quarter of a million fault lines) and counts the rest.
///
/// Each event is kept with `at`, the byte offset of the source being run when it happened,
/// so a trace can show it under its own line; what a statement prints goes in the same list,
/// so the two stay in order.
#[derive(Debug, Clone, Default)]
pub struct EventSink {
    pub keep: bool,
    pub limit: usize,
    /// The source offset being run: set by the executor, read when an event is kept.
    pub at: usize,
    items: Vec<(usize, Item)>,
    kept: usize,
    /// Lines kept by [`EventSink::push_told`].
    told: usize,
    pub dropped: u64,
}

/// The most per-reference lines one statement keeps: a homework's string is far shorter, and
/// a long trace would otherwise fill memory with them.
pub const TOLD_MAX: usize = 100_000;

impl EventSink {
    pub fn new(keep: bool, limit: usize) -> Self {
        EventSink {
            keep,
            limit,
            ..Default::default()
        }
    }
    /// Whether an event would be kept: lets callers skip building one (and its strings).
    #[inline]
    pub fn wants(&self) -> bool {
        self.keep
    }
    pub fn push(&mut self, e: Event) {
        if !self.keep {
            return;
        }
        // Deaths and aborts are always kept: they explain everything after them.
        let vital = matches!(
            e,
            Event::Segv { .. }
                | Event::Bus { .. }
                | Event::Abort { .. }
                | Event::Oom { .. }
                | Event::Exit { .. }
        );
        if self.kept < self.limit || vital {
            self.kept += 1;
            self.items.push((self.at, Item::Event(e)));
        } else {
            self.dropped += 1;
        }
    }
    /// A line that stands for everything one reference did (`conventions ostep` replays):
    /// kept beyond the step's limit, up to [`TOLD_MAX`] of them.
    pub fn push_told(&mut self, e: Event) {
        if !self.keep {
            return;
        }
        if self.told < TOLD_MAX {
            self.told += 1;
            self.items.push((self.at, Item::Event(e)));
        } else {
            self.dropped += 1;
        }
    }
    /// What the scenario prints, shows or expects: always kept, whatever the trace keeps.
    pub fn output(&mut self, o: Output) {
        self.items.push((self.at, Item::Output(o)));
    }
    /// How many events and outputs are kept so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Takes back what was kept since `len()` was `mark`, to be put back later with
    /// [`EventSink::restore`].
    pub fn split_off(&mut self, mark: usize) -> Vec<(usize, Item)> {
        self.items.split_off(mark.min(self.items.len()))
    }
    pub fn restore(&mut self, items: Vec<(usize, Item)>) {
        self.items.extend(items);
    }
    /// The statement's events and outputs, in order, each with its source offset; and how
    /// many events were dropped.
    pub fn take(&mut self) -> (Vec<(usize, Item)>, u64) {
        let d = self.dropped;
        self.dropped = 0;
        self.kept = 0;
        self.told = 0;
        (std::mem::take(&mut self.items), d)
    }
}

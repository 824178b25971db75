//! Snapshots: what `show` hands to renderers. Plain data, made by the session from the world,
//! so renderers never touch the machine.

use crate::config::ScenarioConfig;
use crate::heap::ChunkView;
use crate::heap::{Addresses, AllocatorKind};
use crate::units;

#[derive(Debug, Clone)]
pub enum Snapshot {
    Maps {
        pid: u32,
        /// Bytes per page, to mark resident pages to scale.
        page_size: u64,
        rows: Vec<MapRow>,
    },
    Smaps {
        pid: u32,
        rows: Vec<SmapsRow>,
    },
    PageTable {
        pid: u32,
        levels: usize,
        rows: Vec<PteRow>,
        /// Under `conventions ostep`, a linear table of at most 4096 entries as
        /// `paging-linear-translate.py` prints it: each entry's frame, or `None` when invalid.
        linear: Option<Vec<Option<u64>>>,
        /// With `pdbr` set, the tables `translate` walks: OSTEP's small two-level machine's
        /// page directory and page tables, read from physical memory.
        directory: Option<DirectorySnap>,
    },
    Walk(WalkSnap),
    Tlb {
        capacity: usize,
        ways: usize,
        enabled: bool,
        rows: Vec<TlbRow>,
    },
    Frames {
        total: u64,
        used: u64,
        rows: Vec<FrameRow>,
        /// The replacement policy (`lru`, `fifo`…).
        policy: String,
        /// The frame the policy would evict next if a frame were needed now, when any can go.
        next_victim: Option<u64>,
    },
    Heap {
        pid: u32,
        allocator: String,
        /// The base the machine prints addresses in (JSON carries the numbers themselves).
        radix: crate::units::Radix,
        rows: Vec<ChunkView>,
        /// Under `conventions ostep`, a teaching heap's free list in list order (address,
        /// size), which the text prints as `malloc.py` dumps it.
        free_list: Option<Vec<(u64, u64)>>,
    },
    Stats(StatsSnap),
    Memory {
        addr: u64,
        bytes: Vec<Option<u8>>,
        /// Bytes asked for beyond the most one dump shows.
        omitted: u64,
    },
    Swap {
        slots: u64,
        used: u64,
    },
    /// `show machine`: the machine's settings, as `:machine` lists them.
    Machine {
        rows: Vec<MachineRow>,
    },
    /// A `sweep`: one row per combination of the parameters, in the order they were written.
    Sweep {
        /// The swept settings, in order: `replace`, `memory`.
        params: Vec<String>,
        /// The reported expressions, as written (`stats.faults` by default).
        columns: Vec<String>,
        rows: Vec<SweepRow>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// Each parameter's value, as written (`fifo`, `3 pages`).
    pub params: Vec<String>,
    /// Each column's value.
    pub values: Vec<String>,
    /// How the run ended when it did not run to the end (`OOM`, `SIGSEGV`), or empty.
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct MapRow {
    pub start: u64,
    pub end: u64,
    /// `rw-p`.
    pub perms: String,
    pub offset: u64,
    pub name: String,
    /// What the region is for: `text`, `data`, `heap`, `stack`, `mmap`, `lib`, `guard`,
    /// `kernel` (vdso, vvar, vsyscall).
    pub kind: String,
    /// Pages of the region that hold a frame of their own (the zero page does not count).
    pub resident_pages: u64,
    /// The resident pages as address ranges `[start, end)`, in order, adjacent pages merged.
    pub resident: Vec<[u64; 2]>,
}

#[derive(Debug, Clone)]
pub struct SmapsRow {
    pub map: MapRow,
    pub size: u64,
    pub rss: u64,
    pub pss: u64,
    pub shared_clean: u64,
    pub shared_dirty: u64,
    pub private_clean: u64,
    pub private_dirty: u64,
    pub anonymous: u64,
    pub page_size: u64,
}

#[derive(Debug, Clone)]
pub struct PteRow {
    pub vpn: u64,
    pub pfn: Option<u64>,
    pub present: bool,
    pub dirty: bool,
    pub accessed: bool,
    /// `rwx`.
    pub perms: String,
    /// `zero page`, `cow`, `file`, `swapped`…
    pub note: String,
}

/// The page directory in page `pdbr` of OSTEP's small two-level machine: its valid entries,
/// each with its page table's valid entries.
#[derive(Debug, Clone)]
pub struct DirectorySnap {
    pub pdbr: u64,
    pub tables: Vec<crate::machine::small::SmallTable>,
}

#[derive(Debug, Clone)]
pub struct WalkSnap {
    pub vaddr: u64,
    /// Index bits of each level, top level first (the page offset takes `page_shift` bits).
    pub level_bits: Vec<u32>,
    pub vpn: u64,
    pub offset: u64,
    pub page_shift: u32,
    pub levels: Vec<WalkLevel>,
    /// The physical address, when the walk ends in a present page.
    pub paddr: Option<u64>,
    /// A mapping covers the address: an access without a translation page-faults it in
    /// rather than raising SIGSEGV.
    pub mapped: bool,
    /// A sentence: what the walk found.
    pub outcome: String,
    /// The walk `translate` makes on OSTEP's small two-level machine (`pdbr`): an invalid
    /// entry is a fault that nothing handles, neither a page fault nor SIGSEGV.
    pub translate_only: bool,
}

#[derive(Debug, Clone)]
pub struct WalkLevel {
    pub level: usize,
    /// The table this level read (0 = the process's top-level table).
    pub table: u32,
    pub index: usize,
    pub entry: u64,
    /// What the entry means: "table 3", "frame 0x12 rw- present", "empty".
    pub meaning: String,
}

#[derive(Debug, Clone)]
pub struct TlbRow {
    pub slot: usize,
    pub asid: u32,
    pub vpn: u64,
    pub pfn: u64,
    pub perms: String,
    pub dirty: bool,
}

#[derive(Debug, Clone)]
pub struct FrameRow {
    pub pfn: u64,
    /// `main 0x405` (process and page), `file libc.so.6 page 3`, `free`.
    pub owner: String,
    pub mapcount: u32,
    /// The process whose page it holds (the first mapper of a shared page); `None` for the
    /// page cache.
    pub pid: Option<u32>,
    /// The kind of region the page belongs to (as [`MapRow::kind`]), or `file` for a
    /// page-cache page no process maps.
    pub region: String,
    /// The page's virtual address in that process.
    pub vaddr: Option<u64>,
    /// The file, for a page-cache page.
    pub file: Option<String>,
    /// Which page it is: the page number within its file for the page cache (what `refs`
    /// names), else the virtual page number.
    pub page: u64,
}

/// One setting of `show machine`: `page size`, `4 KiB (12 offset bits)`.
#[derive(Debug, Clone)]
pub struct MachineRow {
    pub setting: String,
    pub value: String,
}

/// The rows of `show machine` and `:machine`: each setting of `sc`, with what follows from it.
pub fn machine_rows(sc: &ScenarioConfig) -> Vec<MachineRow> {
    let (c, os, heap) = (&sc.machine, &sc.os, &sc.heap);
    let lower = |s: String| s.to_lowercase();
    let bits: Vec<String> = c.level_bits().iter().map(u32::to_string).collect();
    let on = |b: bool| if b { "on" } else { "off" };
    let mut rows: Vec<(&str, String)> = vec![
        ("profile", profile_line(sc)),
        (
            "page size",
            format!(
                "{} ({} offset bits)",
                units::size(c.page_size),
                c.page_shift()
            ),
        ),
        (
            "addresses",
            format!(
                "{} bits virtual = {} page-number bits + {} offset bits",
                c.va_bits,
                c.vpn_bits(),
                c.page_shift()
            ),
        ),
        (
            "page table",
            format!(
                "{} with {} index bits ({}), {}-byte entries",
                units::count(u64::from(c.levels), "level"),
                bits.join(" + "),
                if c.levels > 1 {
                    "top level first"
                } else {
                    "one linear table"
                },
                c.pte_size
            ),
        ),
        (
            "memory",
            format!(
                "{} = {}",
                units::size(c.memory),
                units::count(c.frames(), "frame")
            ),
        ),
        (
            "swap",
            if c.swap == 0 {
                "none (anonymous pages cannot be evicted)".into()
            } else {
                format!(
                    "{} = {}",
                    units::size(c.swap),
                    units::count(c.swap_slots(), "slot")
                )
            },
        ),
        (
            "tlb",
            if c.tlb.enabled {
                format!(
                    "{}, {}, {}",
                    match c.tlb.entries {
                        1 => "1 entry".to_string(),
                        n => format!("{n} entries"),
                    },
                    c.tlb
                        .ways
                        .map_or("fully associative".to_string(), |w| format!("{w}-way")),
                    lower(format!("{:?}", c.tlb.policy))
                )
            } else {
                "off (every access walks the page table)".into()
            },
        ),
        (
            "replace",
            format!(
                "{} ({} scope)",
                c.replace.name(),
                lower(format!("{:?}", c.scope))
            ),
        ),
        ("allocator", heap.allocator.name().to_string()),
        ("stack limit", units::size(os.stack_limit)),
        (
            "aslr / pie / pcid",
            format!("{} / {} / {}", on(os.aslr), on(os.pie), on(c.pcid)),
        ),
        ("seed", sc.seed.to_string()),
    ];
    if let Some((base, limit)) = c.base_bounds {
        rows.push(("base and bounds", format!("base {base}, bounds {limit}")));
    }
    for (i, seg) in c.segments.iter().enumerate() {
        if let Some((base, limit)) = seg {
            let grows = if i == 0 { "up" } else { "down" };
            let name = if i == 0 { "segment 0" } else { "segment 1" };
            rows.push((name, format!("base {base}, limit {limit}, grows {grows}")));
        }
    }
    if let Some(pdbr) = c.pdbr {
        // `translate`, `show walk`, `show pagetable` and `show frames` use OSTEP's small
        // two-level machine in physical memory; the rows above still describe the pages that
        // processes get.
        use crate::machine::small::{BITS, PAGE, PAGES, VA_BITS};
        let reach = PAGE * PAGES;
        rows.push((
            "pdbr",
            format!("page {pdbr}: translate walks OSTEP's two-level tables from there"),
        ));
        rows.push(("  its pages", format!("{PAGE} B ({BITS} offset bits)")));
        rows.push((
            "  its addresses",
            format!(
                "{VA_BITS} bits virtual = {BITS} directory-index + {BITS} table-index + {BITS} \
                 offset bits"
            ),
        ));
        rows.push((
            "  its tables",
            format!(
                "2 levels (a directory, then tables) of {} entries",
                1u64 << BITS
            ),
        ));
        rows.push((
            "  its entries",
            "1 byte: a valid bit (0x80) over a 7-bit page number".into(),
        ));
        rows.push((
            "  its memory",
            if c.memory <= reach {
                format!(
                    "{} = {} of {PAGE} B",
                    units::size(c.memory),
                    units::count(c.memory / PAGE, "page")
                )
            } else {
                format!(
                    "the first {} ({PAGES} pages of {PAGE} B), as far as 7-bit page numbers reach",
                    units::size(reach)
                )
            },
        ));
    }
    if sc.arch != crate::config::Arch::X86_64 {
        // As for conventions below: the default machine's table stays as it was.
        rows.push(("arch", sc.arch.name().to_string()));
    }
    if sc.conventions != crate::config::Conventions::Textbook {
        // Only a choice is worth a row: the default machine's table stays as it was.
        rows.push((
            "conventions",
            if c.replace == crate::machine::Policy::Clock {
                format!("{} (clock_bits {})", sc.conventions.name(), c.clock_bits)
            } else {
                sc.conventions.name().to_string()
            },
        ));
    }
    let radix = heap.radix();
    let printed = match (heap.addresses, radix) {
        (Addresses::Auto, units::Radix::Decimal) => "auto (decimal)".to_string(),
        (Addresses::Auto, units::Radix::Hex) => "auto (hex)".to_string(),
        (a, _) => a.name().to_string(),
    };
    if heap.allocator != AllocatorKind::Glibc {
        rows.push((
            "teaching heap",
            format!(
                "{} at {}, header {}, coalesce {}, order {}{}, addresses {printed}",
                units::size(heap.teach_heap.size),
                radix.addr(heap.teach_heap.base),
                heap.teach_heap.header,
                on(heap.teach_heap.coalesce),
                heap.teach_heap.order.name(),
                if heap.teach_heap.align > 1 {
                    format!(", align {}", heap.teach_heap.align)
                } else {
                    String::new()
                }
            ),
        ));
    } else if heap.addresses != Addresses::Auto {
        // glibc prints in hex unless told otherwise: only a choice is worth a row.
        rows.push(("printed addresses", printed));
    }
    rows.into_iter()
        .map(|(k, v)| MachineRow {
            setting: k.to_string(),
            value: v,
        })
        .collect()
}

/// The profile a machine came from, and which of its settings the scenario changed: a
/// `machine { page_size 16 KiB }` is not plain `x86_64` any more.
fn profile_line(sc: &ScenarioConfig) -> String {
    let c = &sc.machine;
    let Some(b) = crate::profile::builtin(&c.name) else {
        return c.name.clone();
    };
    let base = &b.machine;
    let mut changed = Vec::new();
    let mut differs = |name: &'static str, d: bool| {
        if d {
            changed.push(name);
        }
    };
    differs("page_size", c.page_size != base.page_size);
    differs("va_bits", c.va_bits != base.va_bits);
    differs("levels", c.levels != base.levels);
    differs("pte_size", c.pte_size != base.pte_size);
    differs("memory", c.memory != base.memory);
    differs("swap", c.swap != base.swap);
    differs("tlb", c.tlb != base.tlb);
    differs("replace", c.replace != base.replace);
    differs("scope", c.scope != base.scope);
    differs("seed", sc.seed != b.seed);
    differs("aslr", sc.os.aslr != b.os.aslr);
    differs("pie", sc.os.pie != b.os.pie);
    differs("pcid", c.pcid != base.pcid);
    differs("allocator", sc.heap.allocator != b.heap.allocator);
    differs("heap", sc.heap.teach_heap != b.heap.teach_heap);
    differs("stack_limit", sc.os.stack_limit != b.os.stack_limit);
    differs("addresses", sc.heap.addresses != b.heap.addresses);
    differs("conventions", sc.conventions != b.conventions);
    differs("arch", sc.arch != b.arch);
    differs("clock_bits", c.clock_bits != base.clock_bits);
    differs("base_bounds", c.base_bounds != base.base_bounds);
    differs("segments", c.segments != base.segments);
    differs("pdbr", c.pdbr != base.pdbr);
    if changed.is_empty() {
        c.name.clone()
    } else {
        format!("{}, changed: {}", c.name, changed.join(", "))
    }
}

#[derive(Debug, Clone, Default)]
pub struct StatsSnap {
    pub faults: u64,
    pub minor: u64,
    pub major: u64,
    pub segv: u64,
    pub sigbus: u64,
    pub accesses: u64,
    pub tlb_hits: u64,
    pub tlb_misses: u64,
    pub walks: u64,
    pub walk_refs: u64,
    pub evictions: u64,
    pub swap_ins: u64,
    pub swap_outs: u64,
    /// Dirty file pages written back on eviction (refs' written pages).
    pub writebacks: u64,
    /// Page references the program made (each access counts once per page it touches).
    pub references: u64,
    /// References that needed no page fault, as a fraction of all references (0 when none).
    pub hit_ratio: f64,
    pub stack_growths: u64,
    pub cow_copies: u64,
    pub frames_used: u64,
    pub frames_total: u64,
    /// The same counters per process (pid order), with each one's resident and virtual size.
    pub per_process: Vec<ProcRow>,
}

impl StatsSnap {
    /// The counters of a whole file whose earlier machines ended with `earlier`: counts add
    /// up, the frames are those of this (the last) machine, and the earlier machines'
    /// processes come first, as they were when their machine was replaced.
    pub fn after(mut self, earlier: &StatsSnap) -> StatsSnap {
        for (mine, theirs) in [
            (&mut self.minor, earlier.minor),
            (&mut self.major, earlier.major),
            (&mut self.segv, earlier.segv),
            (&mut self.sigbus, earlier.sigbus),
            (&mut self.accesses, earlier.accesses),
            (&mut self.tlb_hits, earlier.tlb_hits),
            (&mut self.tlb_misses, earlier.tlb_misses),
            (&mut self.walks, earlier.walks),
            (&mut self.walk_refs, earlier.walk_refs),
            (&mut self.evictions, earlier.evictions),
            (&mut self.swap_ins, earlier.swap_ins),
            (&mut self.swap_outs, earlier.swap_outs),
            (&mut self.writebacks, earlier.writebacks),
            (&mut self.references, earlier.references),
            (&mut self.stack_growths, earlier.stack_growths),
            (&mut self.cow_copies, earlier.cow_copies),
        ] {
            *mine = mine.saturating_add(theirs);
        }
        self.faults = self.minor.saturating_add(self.major);
        self.hit_ratio = if self.references > 0 {
            self.references.saturating_sub(self.faults) as f64 / self.references as f64
        } else {
            0.0
        };
        let mut procs = earlier.per_process.clone();
        procs.append(&mut self.per_process);
        self.per_process = procs;
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct ProcRow {
    pub pid: u32,
    pub name: String,
    pub minor: u64,
    pub major: u64,
    pub segv: u64,
    pub rss: u64,
    pub vsz: u64,
    /// `running`, or how it died.
    pub state: String,
}

//! The simulated hardware: physical frames, multi-level page tables, the TLB and its counters.
//! It knows nothing of syntax, processes' VMAs or the allocator: the OS layer above decides what
//! a fault means and asks the machine to map, unmap and copy frames.

pub mod config;
pub mod pagemap;
pub mod pagetable;
pub mod phys;
pub mod pyrandom;
pub mod refill;
pub mod replace;
pub mod small;
mod steady;
#[cfg(test)]
pub use steady::{SETTLED_REFS, STEADY_REFS};
pub mod swap;
pub mod tlb;

use crate::config::Conventions;
pub use config::*;
use pagetable::{pte, Loc, PageTables};
use phys::{FrameAllocator, PhysMem};
use replace::Replacer;
use swap::Swap;
use tlb::Tlb;

/// An address-space identifier: one per process.
pub type Asid = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    Read,
    Write,
    Exec,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "load",
            Access::Write => "store",
            Access::Exec => "fetch",
        }
    }
    /// The permission bit an access needs: a table lookup, not a branch, because loads
    /// and stores interleave unpredictably in traces.
    #[inline]
    fn needs(self) -> u64 {
        const NEEDS: [u64; 3] = [pte::READ, pte::WRITE, pte::EXEC];
        NEEDS[self as usize]
    }
    /// The bits a cached translation must have for the access to complete with nothing to
    /// update: a store also needs the dirty bit set already.
    #[inline]
    fn done_by(self) -> u64 {
        const DONE: [u64; 3] = [pte::READ, pte::WRITE | pte::DIRTY, pte::EXEC];
        DONE[self as usize]
    }
}

/// OPT's next uses of a run of references, as a replay's future keeps them: the position of the
/// next reference to the same page, four bytes each (`u32::MAX`: never again) while positions fit
/// in them, eight (`u64::MAX`: never) after.
#[derive(Debug, Clone, Copy)]
pub enum NextUses<'a> {
    Short(&'a [u32]),
    Long(&'a [u64]),
}

impl<'a> NextUses<'a> {
    pub fn len(&self) -> usize {
        match self {
            NextUses::Short(s) => s.len(),
            NextUses::Long(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next use of reference `j` (`u64::MAX`: never again), if there is a reference `j`.
    #[inline(always)]
    pub fn get(&self, j: usize) -> Option<u64> {
        match self {
            NextUses::Short(s) => s.get(j).map(|&n| Self::wide(n)),
            NextUses::Long(l) => l.get(j).copied(),
        }
    }

    /// Those of the references from `k` on.
    pub fn from(self, k: usize) -> Self {
        match self {
            NextUses::Short(s) => NextUses::Short(&s[k..]),
            NextUses::Long(l) => NextUses::Long(&l[k..]),
        }
    }

    /// A next use of four bytes in eight.
    #[inline(always)]
    pub fn wide(n: u32) -> u64 {
        if n == u32::MAX {
            u64::MAX
        } else {
            u64::from(n)
        }
    }
}

/// One page touched by one access: a reference of a replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRef {
    pub addr: u64,
    pub access: Access,
}

/// Why a translation did not complete: the OS's fault handler takes it from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No present entry (the raw entry may hold a swap slot).
    NotPresent { pte: u64 },
    /// A present entry forbids this access (write to read-only, zero page or COW page).
    Protection { pte: u64 },
    /// Beyond the translated address bits.
    OutOfRange,
}

/// What a frame holds, for `show frames` and for choosing what to evict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUse {
    Free,
    /// Anonymous memory of one process (the first mapper, for pages shared after fork).
    Anon {
        asid: Asid,
        vpn: u64,
    },
    /// A page-cache page of a file.
    File {
        file: u32,
        page: u64,
    },
    /// Named by a page-table entry written by hand (`set_pte`): no fault is given it and no
    /// policy evicts it, until the entry is cleared or rewritten.
    Written {
        asid: Asid,
        vpn: u64,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct FrameInfo {
    pub used: FrameUse,
    /// Page tables that map this frame.
    pub mapcount: u32,
    /// CLOCK's reference bit (kept under CLOCK only: no other policy reads it).
    pub referenced: bool,
    /// The address space that brought the page in: whose frame it is under `scope local`.
    pub asid: Asid,
    /// The swap slot still holding a copy of this anonymous page (it was swapped in and the
    /// slot kept, as Linux's swap cache does): evicting it clean needs no write.
    pub swap_slot: Option<u64>,
}

pub(crate) const FREE_FRAME: FrameInfo = FrameInfo {
    used: FrameUse::Free,
    mapcount: 0,
    referenced: false,
    asid: 0,
    swap_slot: None,
};

/// Hardware counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineStats {
    pub accesses: u64,
    pub tlb_hits: u64,
    pub tlb_misses: u64,
    /// Page-table walks made by the MMU.
    pub walks: u64,
    /// Memory references those walks made (one per level read).
    pub walk_refs: u64,
    /// Page references the program made (one per page an access touches), whatever the
    /// number of translations its faults took: the denominator of the hit ratio.
    pub references: u64,
}

/// One level of a walk, for `show walk`.
#[derive(Debug, Clone)]
pub struct WalkStep {
    pub level: usize,
    pub table: u32,
    pub index: usize,
    pub entry: u64,
}

/// [`Mmu::choose_victim`] over the policy's state and the frames it is given.
fn pick_victim(
    repl: &mut Replacer,
    frames: &mut [FrameInfo],
    swap_free: bool,
    scope: Option<Asid>,
    pin: Option<u64>,
) -> Option<u64> {
    for scope in [scope, None] {
        let ok = |pfn: u64, f: &FrameInfo| {
            Some(pfn) != pin
                && scope.is_none_or(|a| f.asid == a)
                && match f.used {
                    FrameUse::Free | FrameUse::Written { .. } => false,
                    FrameUse::File { .. } => true,
                    // Shared after fork: see `evictable`.
                    FrameUse::Anon { .. } => {
                        f.mapcount <= 1 && (f.swap_slot.is_some() || swap_free)
                    }
                }
        };
        let v = repl.victim(frames, ok);
        if v.is_some() || scope.is_none() {
            return v;
        }
    }
    None
}

/// The machine: MMU, TLB, physical memory.
#[derive(Clone)]
pub struct Mmu {
    cfg: MachineConfig,
    shift: u32,
    va_limit: u64,
    tables: PageTables,
    roots: Vec<Option<u32>>,
    tlb: Tlb,
    frames: FrameAllocator,
    frame_info: Vec<FrameInfo>,
    mem: PhysMem,
    repl: Replacer,
    conventions: Conventions,
    /// CLOCK is the policy: accesses set the frames' reference bits.
    clock_bits: bool,
    swap: Swap,
    pub stats: MachineStats,
}

impl Mmu {
    /// What the machine holds beyond what `show` prints, for tests that compare two ways to
    /// the same state: every TLB entry with its stamp and the free slots, every frame's
    /// record, and the policy's state.
    #[cfg(test)]
    pub fn state_digest(&self) -> String {
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}",
            self.tlb.entries_and_free(),
            self.frame_info,
            self.repl,
            self.stats
        )
    }
}

impl Mmu {
    /// A machine with nothing mapped; `seed` drives the `random` replacement policy, and
    /// `conventions` (the scenario's) decides whose rules the policies follow.
    pub fn new(cfg: &MachineConfig, seed: u64, conventions: Conventions) -> Self {
        let shift = cfg.page_shift();
        Mmu {
            cfg: cfg.clone(),
            shift,
            va_limit: if cfg.va_bits >= 64 {
                u64::MAX
            } else {
                (1u64 << cfg.va_bits) - 1
            },
            tables: PageTables::new(&cfg.level_bits()),
            roots: Vec::new(),
            tlb: Tlb::new(&cfg.tlb),
            frames: FrameAllocator::new(cfg.frames()),
            frame_info: Vec::new(),
            mem: PhysMem::default(),
            repl: Replacer::with_conventions(
                cfg.replace,
                seed,
                conventions == Conventions::Ostep,
                cfg.clock_bits,
            ),
            conventions,
            clock_bits: cfg.replace == Policy::Clock,
            swap: Swap::new(cfg.swap_slots()),
            stats: MachineStats::default(),
        }
    }

    pub fn config(&self) -> &MachineConfig {
        &self.cfg
    }
    /// The scenario's conventions, which a replay follows when it tells a reference.
    pub fn conventions(&self) -> Conventions {
        self.conventions
    }
    pub fn page_size(&self) -> u64 {
        1 << self.shift
    }
    pub fn page_shift(&self) -> u32 {
        self.shift
    }

    /// The physical frame number of the shared zero page: one past the end of RAM, never
    /// written, so it costs no frame (textbook frame counts stay exact).
    pub fn zero_pfn(&self) -> u64 {
        self.frames.total()
    }

    pub fn create_space(&mut self) -> Asid {
        let root = self.tables.new_root();
        if let Some(i) = self.roots.iter().position(Option::is_none) {
            self.roots[i] = Some(root);
            i as Asid
        } else {
            self.roots.push(Some(root));
            (self.roots.len() - 1) as Asid
        }
    }

    /// A new address space with `parent`'s entries, sharing its tables until one side
    /// changes an entry (`fork`).
    pub fn fork_space(&mut self, parent: Asid) -> Asid {
        let root = self.tables.share(self.root(parent));
        if let Some(i) = self.roots.iter().position(Option::is_none) {
            self.roots[i] = Some(root);
            i as Asid
        } else {
            self.roots.push(Some(root));
            (self.roots.len() - 1) as Asid
        }
    }

    /// The leaf slot of `vpn` in `asid`'s own tables, copying shared ones on the way; cached
    /// translations that pointed into a copied table follow it.
    fn private_loc(&mut self, asid: Asid, vpn: u64) -> Loc {
        let mut root = self.root(asid);
        let (loc, moved) = self.tables.find_private(&mut root, vpn);
        self.roots[asid as usize] = Some(root);
        if let Some((old, new)) = moved {
            self.tlb.retarget(asid, old, new);
        }
        loc
    }

    /// Host bytes held by page tables.
    pub fn table_host_bytes(&self) -> usize {
        self.tables.host_bytes()
    }

    /// Drops an address space's tables and TLB entries. Frames are the OS's to release first.
    pub fn destroy_space(&mut self, asid: Asid) {
        if let Some(Some(root)) = self.roots.get(asid as usize).copied() {
            self.tables.free_space(root);
            self.roots[asid as usize] = None;
            self.tlb.flush(Some(asid));
        }
        let written: Vec<u64> = (0..self.frame_info.len() as u64)
            .filter(|&p| {
                matches!(self.frame_info[p as usize].used, FrameUse::Written { asid: a, .. } if a == asid)
            })
            .collect();
        for pfn in written {
            self.free_frame(pfn);
        }
    }

    #[inline]
    fn root(&self, asid: Asid) -> u32 {
        self.roots[asid as usize].expect("address space exists")
    }

    /// Called on every context switch: without PCID the TLB is flushed.
    pub fn switch_to(&mut self, _asid: Asid) {
        if !self.cfg.pcid {
            self.tlb.flush(None);
        }
    }

    /// Translates one access. The hot path: allocates nothing, formats nothing; a TLB hit is
    /// handled here and everything else in `Mmu::translate_walk`, kept out of line so a hit
    /// costs no more registers than it uses.
    #[inline(always)]
    pub fn translate(&mut self, asid: Asid, vaddr: u64, access: Access) -> Result<u64, Fault> {
        if vaddr > self.va_limit {
            return Err(Fault::OutOfRange);
        }
        let vpn = vaddr >> self.shift;
        // The access counter doubles as the TLB's clock: a restarted access reuses the number
        // of the one that faulted, which left no entry behind.
        self.stats.accesses += 1;
        if let Some(slot) = self.tlb.lookup(asid, vpn, self.stats.accesses) {
            let e = self.tlb.entry_mut(slot);
            let done = access.done_by();
            // One test for the common case; a first store to a clean page is the rare other.
            if e.pte & done == done || e.pte & access.needs() != 0 {
                let pfn = pte::pfn(e.pte);
                if e.pte & done != done {
                    self.mark_dirty(slot);
                }
                self.stats.tlb_hits += 1;
                self.touch_frame(pfn);
                return Ok((pfn << self.shift) | (vaddr & ((1 << self.shift) - 1)));
            }
            // A cached entry that forbids the access: the hardware re-walks to be sure.
        }
        self.translate_walk(asid, vaddr, access)
    }

    /// The first store through a clean cached translation sets the dirty bit in the TLB entry
    /// and in the page table entry it came from.
    #[inline(never)]
    fn mark_dirty(&mut self, slot: usize) {
        let e = self.tlb.entry_mut(slot);
        e.pte |= pte::DIRTY;
        let (mut loc, asid, vpn) = (e.loc, e.asid, e.vpn);
        if self.tables.path_shared(self.root(asid), vpn) {
            loc = self.private_loc(asid, vpn);
            self.tlb.entry_mut(slot).loc = loc;
        }
        let v = self.tables.get(loc) | pte::DIRTY;
        self.tables.set(loc, v);
    }

    /// A TLB miss (or no TLB): walk the tables, fill the TLB.
    #[inline(never)]
    fn translate_walk(&mut self, asid: Asid, vaddr: u64, access: Access) -> Result<u64, Fault> {
        let vpn = vaddr >> self.shift;
        let offset = vaddr & ((1 << self.shift) - 1);
        if self.tlb.enabled {
            self.stats.tlb_misses += 1;
        }
        self.stats.walks += 1;
        let (loc, refs) = self.tables.find(self.root(asid), vpn);
        self.stats.walk_refs += refs as u64;
        let Some(mut loc) = loc else {
            return Err(Fault::NotPresent { pte: 0 });
        };
        let old = self.tables.get(loc);
        let mut e = old;
        if e & pte::PRESENT == 0 {
            return Err(Fault::NotPresent { pte: e });
        }
        if e & access.needs() == 0 {
            return Err(Fault::Protection { pte: e });
        }
        e |= pte::ACCESSED;
        if access == Access::Write {
            e |= pte::DIRTY;
        }
        if e != old {
            if self.tables.path_shared(self.root(asid), vpn) {
                loc = self.private_loc(asid, vpn);
            }
            self.tables.set(loc, e);
        }
        if self.tlb.enabled {
            self.tlb.insert(asid, vpn, e, loc, self.stats.accesses);
        }
        let pfn = pte::pfn(e);
        self.touch_frame(pfn);
        Ok((pfn << self.shift) | offset)
    }

    #[inline(always)]
    fn touch_frame(&mut self, pfn: u64) {
        if self.clock_bits {
            if let Some(f) = self.frame_info.get_mut(pfn as usize) {
                f.referenced = true;
            }
        }
        self.repl.touched(pfn);
    }

    /// The raw leaf entry for a page (0 when no table reaches it).
    pub fn pte(&self, asid: Asid, vpn: u64) -> u64 {
        match self.tables.find(self.root(asid), vpn).0 {
            Some(loc) => self.tables.get(loc),
            None => 0,
        }
    }

    /// Sets a leaf entry and drops any stale TLB copy of it.
    pub fn set_pte(&mut self, asid: Asid, vpn: u64, e: u64) {
        let loc = self.private_loc(asid, vpn);
        self.tables.set(loc, e);
        self.tlb.invalidate(asid, vpn);
    }

    /// Sets the leaf entry `e` of a page whose access just faulted as not present, then
    /// completes that access as its restarted translation would: a TLB miss, a walk that
    /// finds `e` (now accessed, and dirty for a store) and a TLB fill. The same state and
    /// counters as [`Mmu::set_pte`] followed by [`Mmu::translate`], in one walk.
    pub fn map_faulted(&mut self, asid: Asid, vaddr: u64, access: Access, e: u64) {
        let vpn = vaddr >> self.shift;
        let loc = self.private_loc(asid, vpn);
        self.tlb.invalidate(asid, vpn);
        let mut e = e | pte::ACCESSED;
        if access == Access::Write {
            e |= pte::DIRTY;
        }
        self.tables.set(loc, e);
        if self.tlb.enabled {
            self.stats.tlb_misses += 1;
        }
        self.stats.walks += 1;
        self.stats.walk_refs += self.tables.levels() as u64;
        if self.tlb.enabled {
            self.tlb.insert(asid, vpn, e, loc, self.stats.accesses);
        }
        self.touch_frame(pte::pfn(e));
    }

    /// Takes a free frame, or `None` when memory is full. The owner of an anonymous page is
    /// its address space; use [`Mmu::alloc_frame_for`] to name the owner of a file page.
    pub fn alloc_frame(&mut self, used: FrameUse) -> Option<u64> {
        let asid = match used {
            FrameUse::Anon { asid, .. } => asid,
            _ => 0,
        };
        self.alloc_frame_for(used, asid)
    }

    /// Takes a free frame for a page brought in by address space `asid`.
    pub fn alloc_frame_for(&mut self, used: FrameUse, asid: Asid) -> Option<u64> {
        let pfn = self.frames.alloc()?;
        if self.frame_info.len() <= pfn as usize {
            self.frame_info.resize(pfn as usize + 1, FREE_FRAME);
        }
        self.frame_info[pfn as usize] = FrameInfo {
            used,
            mapcount: 0,
            referenced: true,
            asid,
            swap_slot: None,
        };
        self.repl.loaded(pfn, self.frames.total());
        Some(pfn)
    }

    /// Takes frame `pfn` for the entry of page `vpn` that `asid`'s table was given by hand, so
    /// that no fault is given the same frame. False when the frame is in use already: the
    /// entry then shares it, as written.
    pub fn reserve_frame(&mut self, pfn: u64, asid: Asid, vpn: u64) -> bool {
        if !self.frames.take(pfn) {
            return false;
        }
        if self.frame_info.len() <= pfn as usize {
            self.frame_info.resize(pfn as usize + 1, FREE_FRAME);
        }
        self.frame_info[pfn as usize] = FrameInfo {
            used: FrameUse::Written { asid, vpn },
            mapcount: 1,
            referenced: false,
            asid,
            swap_slot: None,
        };
        true
    }

    /// Gives back the frame a hand-written entry of page `vpn` of `asid` reserved, if it did.
    pub fn release_written(&mut self, pfn: u64, asid: Asid, vpn: u64) {
        let mine = self
            .frame_info
            .get(pfn as usize)
            .is_some_and(|f| f.used == FrameUse::Written { asid, vpn });
        if mine {
            self.free_frame(pfn);
        }
    }

    /// Returns a frame to the free pool; its bytes are zeroed so host memory is released.
    pub fn free_frame(&mut self, pfn: u64) {
        if let Some(f) = self.frame_info.get_mut(pfn as usize) {
            if f.used != FrameUse::Free {
                *f = FREE_FRAME;
                self.frames.free(pfn);
                self.repl.freed(pfn);
                self.mem.zero(pfn << self.shift, 1 << self.shift);
            }
        }
    }

    /// Whether the page in frame `pfn` could be evicted now: a file page always can (dropped
    /// or written back); an anonymous one needs a swap slot (its own, or a free one).
    pub fn evictable(&self, pfn: u64) -> bool {
        match self.frame_info.get(pfn as usize) {
            Some(f) => match f.used {
                FrameUse::Free | FrameUse::Written { .. } => false,
                FrameUse::File { .. } => true,
                // A page shared copy-on-write after fork stays until one side writes it: the
                // swap entry would have to replace every sharer's mapping at once.
                FrameUse::Anon { .. } => {
                    f.mapcount <= 1 && (f.swap_slot.is_some() || self.swap.free_slots() > 0)
                }
            },
            None => false,
        }
    }

    /// The frame the replacement policy evicts next, among frames of `scope` (an address
    /// space, for `scope local`; all frames when `None` or when that space has no evictable
    /// frame), never `pin` (a frame the fault in progress still reads). `None` = nothing can
    /// be evicted: out of memory.
    pub fn choose_victim(&mut self, scope: Option<Asid>, pin: Option<u64>) -> Option<u64> {
        let swap_free = self.swap.free_slots() > 0;
        pick_victim(&mut self.repl, &mut self.frame_info, swap_free, scope, pin)
    }

    /// The frame `choose_victim` would pick now, without changing anything (CLOCK's bits and
    /// hand stay as they are): what `show frames` marks.
    pub fn next_victim(&self, scope: Option<Asid>) -> Option<u64> {
        let mut repl = self.repl.clone();
        let mut frames = self.frame_info.clone();
        pick_victim(
            &mut repl,
            &mut frames,
            self.swap.free_slots() > 0,
            scope,
            None,
        )
    }

    /// The page each resident frame holds, in the replacement policy's list order (a file
    /// page's number in its file, an anonymous page's virtual page number): what
    /// `paging-policy.py` prints as its memory.
    pub fn policy_pages(&self) -> Vec<u64> {
        self.repl
            .order()
            .into_iter()
            .filter_map(|f| self.page_in(f))
            .collect()
    }

    /// The page frame `pfn` holds, as [`Mmu::policy_pages`] names it.
    pub fn page_in(&self, pfn: u64) -> Option<u64> {
        match self.frame_info.get(pfn as usize)?.used {
            FrameUse::Free => None,
            FrameUse::Anon { vpn, .. } | FrameUse::Written { vpn, .. } => Some(vpn),
            FrameUse::File { page, .. } => Some(page),
        }
    }

    /// The replacement policy's state (CLOCK's hand, OPT's mode).
    pub fn replacer(&self) -> &Replacer {
        &self.repl
    }
    /// Starts a replay with a known future (OPT): `keys` are (frame, first use) for resident
    /// frames whose page the replay uses.
    pub fn opt_begin(&mut self, keys: impl IntoIterator<Item = (u64, u64)>) {
        self.repl.opt_begin(keys, self.frames.total())
    }
    #[inline]
    pub fn opt_active(&self) -> bool {
        self.repl.opt_active()
    }
    /// The next use of the page about to be accessed (OPT during a replay).
    #[inline]
    pub fn opt_next(&mut self, next_use: u64) {
        self.repl.opt_next(next_use)
    }
    pub fn opt_end(&mut self) {
        self.repl.opt_end()
    }

    pub fn swap(&self) -> &Swap {
        &self.swap
    }
    pub fn swap_alloc(&mut self) -> Option<u64> {
        self.swap.alloc()
    }
    /// Drops one reference to a swap slot; the last one frees it.
    pub fn swap_free(&mut self, slot: u64) {
        self.swap.free(slot)
    }
    /// One more page table names swap slot `slot` (a `fork()` copied its entry).
    pub fn swap_share(&mut self, slot: u64) {
        self.swap.share(slot)
    }
    pub fn swap_is_shared(&self, slot: u64) -> bool {
        self.swap.is_shared(slot)
    }
    /// Copies frame `pfn` to swap slot `slot`.
    pub fn swap_write(&mut self, slot: u64, pfn: u64) {
        if !self.mem.has_data(pfn << self.shift, 1 << self.shift) {
            // Never written (or zeroed): an empty slot reads as zeros, no copy needed.
            self.swap.write(slot, &[]);
            return;
        }
        let mut buf = vec![0u8; 1 << self.shift];
        self.mem.read(pfn << self.shift, &mut buf);
        self.swap.write(slot, &buf);
    }
    /// Fills frame `pfn` from swap slot `slot`.
    pub fn swap_read(&mut self, slot: u64, pfn: u64) {
        match self.swap.read(slot) {
            Some(b) => {
                let b = b.to_vec();
                self.mem.write(pfn << self.shift, &b);
            }
            None => self.mem.zero(pfn << self.shift, 1 << self.shift),
        }
    }

    pub fn frame(&self, pfn: u64) -> Option<&FrameInfo> {
        self.frame_info.get(pfn as usize)
    }
    pub fn frame_mut(&mut self, pfn: u64) -> Option<&mut FrameInfo> {
        self.frame_info.get_mut(pfn as usize)
    }
    /// Every frame ever handed out, free ones included, by frame number.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frame_info
    }
    pub fn frames_used(&self) -> u64 {
        self.frames.used()
    }
    pub fn frames_total(&self) -> u64 {
        self.frames.total()
    }

    #[inline]
    pub fn read_phys(&self, paddr: u64, buf: &mut [u8]) {
        self.mem.read(paddr, buf)
    }
    #[inline]
    pub fn write_phys(&mut self, paddr: u64, buf: &[u8]) {
        self.mem.write(paddr, buf)
    }
    /// A little-endian load of 1 to 8 bytes within one page.
    #[inline]
    pub fn load_phys(&self, paddr: u64, width: usize) -> u64 {
        self.mem.load(paddr, width)
    }
    /// A little-endian store of 1 to 8 bytes within one page.
    #[inline]
    pub fn store_phys(&mut self, paddr: u64, width: usize, value: u64) {
        self.mem.store(paddr, width, value)
    }
    /// Whether frame `pfn` holds any byte that is not zero (a frame never written holds none,
    /// and costs no host memory).
    pub fn frame_has_data(&self, pfn: u64) -> bool {
        self.mem.has_data(pfn << self.shift, 1 << self.shift)
    }
    pub fn zero_frame(&mut self, pfn: u64) {
        self.mem.zero(pfn << self.shift, 1 << self.shift);
    }
    pub fn copy_frame(&mut self, from: u64, to: u64) {
        self.mem
            .copy(from << self.shift, to << self.shift, 1 << self.shift);
    }
    /// Host memory held by simulated RAM contents, in bytes.
    pub fn host_bytes(&self) -> usize {
        self.mem.host_blocks() * 4096
    }

    /// The walk for `vaddr` as the hardware would do it, without side effects.
    pub fn walk(&self, asid: Asid, vaddr: u64) -> Vec<WalkStep> {
        let vpn = vaddr >> self.shift;
        self.tables
            .path(self.root(asid), vpn)
            .into_iter()
            .map(|(level, table, index, entry)| WalkStep {
                level,
                table,
                index,
                entry,
            })
            .collect()
    }

    /// Valid leaf entries of an address space, by VPN.
    pub fn page_table(&self, asid: Asid) -> Vec<(u64, u64)> {
        self.tables.entries(self.root(asid))
    }
    pub fn page_table_count(&self, asid: Asid) -> usize {
        self.tables.count_tables(self.root(asid))
    }

    pub fn tlb(&self) -> &Tlb {
        &self.tlb
    }
    pub fn tlb_flush(&mut self) {
        self.tlb.flush(None)
    }
    pub fn levels(&self) -> usize {
        self.tables.levels()
    }
    pub fn level_index(&self, level: usize, vpn: u64) -> usize {
        self.tables.index(level, vpn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mmu() -> Mmu {
        Mmu::new(&MachineConfig::default_x86_64(), 0, Conventions::Textbook)
    }

    #[test]
    fn a_mapped_page_translates_and_hits_the_tlb_after_the_first_walk() {
        let mut m = mmu();
        let a = m.create_space();
        let vaddr = 0x4052a0u64;
        assert_eq!(
            m.translate(a, vaddr, Access::Read),
            Err(Fault::NotPresent { pte: 0 })
        );
        let pfn = m
            .alloc_frame(FrameUse::Anon {
                asid: a,
                vpn: vaddr >> 12,
            })
            .unwrap();
        m.set_pte(
            a,
            vaddr >> 12,
            pfn << pte::PFN_SHIFT | pte::PRESENT | pte::READ | pte::WRITE,
        );
        let pa = m.translate(a, vaddr, Access::Write).unwrap();
        assert_eq!(pa, (pfn << 12) | 0x2a0);
        m.write_phys(pa, &7u32.to_le_bytes());
        let pa2 = m.translate(a, vaddr, Access::Read).unwrap();
        let mut b = [0; 4];
        m.read_phys(pa2, &mut b);
        assert_eq!(u32::from_le_bytes(b), 7);
        assert_eq!(m.stats.tlb_hits, 1);
        assert_eq!(m.stats.walks, 2);
        assert!(m.pte(a, vaddr >> 12) & pte::DIRTY != 0);
    }

    #[test]
    fn a_read_only_page_refuses_a_store() {
        let mut m = mmu();
        let a = m.create_space();
        m.set_pte(a, 0x401, pte::PRESENT | pte::READ | pte::EXEC);
        assert!(matches!(
            m.translate(a, 0x401000, Access::Write),
            Err(Fault::Protection { .. })
        ));
        assert!(m.translate(a, 0x401000, Access::Exec).is_ok());
    }

    #[test]
    fn address_spaces_are_separate() {
        let mut m = mmu();
        let a = m.create_space();
        let b = m.create_space();
        m.set_pte(a, 5, pte::PRESENT | pte::READ);
        assert!(m.translate(a, 5 << 12, Access::Read).is_ok());
        assert!(m.translate(b, 5 << 12, Access::Read).is_err());
    }
}

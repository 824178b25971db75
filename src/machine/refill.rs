//! The machine's half of a lean run (`os/lean.rs` has the OS's): a replay whose references all
//! fall in one file region, whose faults evict only that region's pages, in an address space
//! that shares no page table. Translation, fault and eviction are done in one loop on the
//! machine's own structures, with nothing looked up that the run already knows: which frame
//! holds each page, which TLB slot holds each frame's translation, where each entry lives, that
//! memory is full. Each step changes exactly what the general path changes: property tests in
//! `session/replay.rs` compare whole machines after random replays both ways.

use super::pagetable::{pte, Loc};
use super::tlb::TlbEntry;
use super::{Access, Asid, FrameInfo, FrameUse, MachineStats, Mmu, NextUses, PageRef};

const NONE: u64 = u64::MAX;
const NO: u32 = u32::MAX;

/// The largest region a lean run takes: it keeps a frame number per page of it (4 MiB here).
pub const MAX_REGION_PAGES: u64 = 1 << 20;

/// What a lean run knows of its region and keeps while it lasts.
#[derive(Debug)]
pub struct RegionRun {
    pub(super) asid: Asid,
    pub(super) file: u32,
    /// Pages `0..pages` of `file`, page `n` at virtual page `at + n`.
    pub(super) at: u64,
    pub(super) pages: u64,
    /// Permission and file bits of each page's entry.
    pub(super) bits: u64,
    /// For each page of the region, the frame holding it (`NO`: not in memory).
    pub(super) frame_of: Vec<u32>,
    /// For each frame, the page it holds and where that page's entry lives (`NONE`: free).
    pub(super) held: Vec<(u64, Loc)>,
    /// For each frame, the TLB slot holding its page's translation (`NO`: none does). A page
    /// out of memory has no translation anywhere (every change of an entry drops its copy).
    pub(super) slot_of: Vec<u32>,
    /// The last leaf table reached, by the pages it covers (`vpn >> leaf_bits`): tables are
    /// never shared, moved or freed during the run, so it stays where it is.
    pub(super) leaf: (u64, u32),
    pub(super) leaf_bits: u32,
    /// Memory is full: every fault evicts (frames are only reused until the run ends).
    pub(super) full: bool,
    /// Major faults, evictions and write-backs (of dirty pages) so far.
    pub major: u64,
    pub evictions: u64,
    pub writebacks: u64,
}

impl RegionRun {
    /// A run over pages `0..pages` (at most [`MAX_REGION_PAGES`]) of `file` at virtual page
    /// `at` of `asid`, whose entries carry `bits`; [`RegionRun::hold`] then names each frame in
    /// use, and [`RegionRun::find_slots`] the TLB's translations.
    pub fn new(mmu: &Mmu, asid: Asid, file: u32, at: u64, pages: u64, bits: u64) -> Self {
        let frames = mmu.frame_info.len();
        RegionRun {
            asid,
            file,
            at,
            pages,
            bits,
            frame_of: vec![NO; pages.min(MAX_REGION_PAGES) as usize],
            held: vec![(NONE, Loc { table: 0, slot: 0 }); frames],
            slot_of: vec![NO; frames],
            leaf: (NONE, 0),
            leaf_bits: mmu.tables.leaf_bits(),
            full: false,
            major: 0,
            evictions: 0,
            writebacks: 0,
        }
    }

    /// Frame `pfn` holds page `page` of the region, mapped once, with the region's bits: `false`
    /// (and the run must not start) when it does not.
    pub fn hold(&mut self, mmu: &Mmu, pfn: u64, page: u64) -> bool {
        if page >= self.pages || self.frame_of[page as usize] != NO {
            return false;
        }
        let Some(loc) = mmu.tables.find(mmu.root(self.asid), self.at + page).0 else {
            return false;
        };
        let e = mmu.tables.get(loc);
        let ok = e & pte::PRESENT != 0
            && pte::pfn(e) == pfn
            && e & (pte::PERMS | pte::FILE | pte::ZERO | pte::COW) == self.bits
            && !mmu.frame_has_data(pfn);
        if ok {
            self.held[pfn as usize] = (page, loc);
            self.frame_of[page as usize] = pfn as u32;
        }
        ok
    }

    /// Finds the TLB's translations of the region's pages, once every frame is named: `false`
    /// (and the run must not start) if one is not of a page in memory, in its frame.
    pub fn find_slots(&mut self, mmu: &Mmu) -> bool {
        for (slot, e) in mmu.tlb.entries() {
            let page = e.vpn.wrapping_sub(self.at);
            if e.asid != self.asid || page >= self.pages {
                continue;
            }
            let f = self.frame_of[page as usize];
            if f == NO || pte::pfn(e.pte) != u64::from(f) || self.slot_of[f as usize] != NO {
                return false;
            }
            self.slot_of[f as usize] = slot as u32;
        }
        true
    }

    /// Whether the region's page-table entries are those of its pages in memory and no other:
    /// an entry written by hand (`set_pte`) into a page the run has not placed would be found
    /// by the general path's walk, not by the run. After every frame is named.
    pub fn entries_are_held(&self, mmu: &Mmu) -> bool {
        let held = self.held.iter().filter(|h| h.0 != NONE).count() as u64;
        mmu.tables
            .entries_in(mmu.root(self.asid), self.at, self.pages)
            == held
    }

    /// The file this run's region maps.
    pub fn file(&self) -> u32 {
        self.file
    }

    /// Each page of the region in memory, with its frame.
    pub fn resident(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.held
            .iter()
            .enumerate()
            .filter(|(_, h)| h.0 != NONE)
            .map(|(pfn, h)| (h.0, pfn as u64))
    }

    /// Where the entry of `vpn` lives if the run has reached its leaf table already.
    #[inline(always)]
    fn known_loc(&self, vpn: u64) -> Option<Loc> {
        (vpn >> self.leaf_bits == self.leaf.0).then(|| Loc {
            table: self.leaf.1,
            slot: (vpn & ((1 << self.leaf_bits) - 1)) as u32,
        })
    }

    /// A translation of frame `pfn` now sits in `slot`, where `evicted` was: a translation of
    /// the region's that insert evicted is no longer in the TLB.
    #[inline]
    fn filled(&mut self, pfn: u64, slot: usize, evicted: Option<TlbEntry>) {
        if let Some(old) = evicted {
            if old.asid == self.asid && old.vpn.wrapping_sub(self.at) < self.pages {
                self.slot_of[pte::pfn(old.pte) as usize] = NO;
            }
        }
        self.slot_of[pfn as usize] = slot as u32;
    }
}

impl Mmu {
    /// Whether any page table is shared by two address spaces (after a fork): then an entry's
    /// place can move when it is written, and no lean run starts.
    pub fn tables_shared(&self) -> bool {
        self.tables.any_shared()
    }

    /// Replays `refs` (counted already) in a lean run, each as [`Mmu::translate`] and the OS's
    /// fault handler would: under OPT, `ahead` holds each one's next use. Returns how many it
    /// did; the one after them (if any) is not the run's to take, and nothing of it was done.
    pub fn region_replay(
        &mut self,
        run: &mut RegionRun,
        refs: &[PageRef],
        ahead: Option<NextUses<'_>>,
    ) -> usize {
        // The counters live in registers for the chunk, and the TLB is asked nothing by page
        // (the run knows each translation's slot): its hint table is brought up to date once,
        // at the end.
        let mut st = self.stats;
        let mut done = 0;
        loop {
            // The steady loop while the machine is in its state; the general loop for the
            // rest, until memory fills (then the steady loop may take over) or a reference is
            // not the run's.
            let ahead_here = ahead.map(|a| a.from(done));
            done += self
                .region_steady(run, &refs[done..], ahead_here, &mut st)
                .unwrap_or(0);
            let was_full = run.full;
            let ahead_rest = ahead.map(|a| a.from(done));
            let (n, filled) = self.region_steps(run, &refs[done..], ahead_rest, &mut st, was_full);
            done += n;
            if !filled || done == refs.len() {
                break;
            }
        }
        self.stats = st;
        if self.tlb.enabled {
            self.tlb.rehash();
        }
        done
    }

    /// The general loop over `refs`: how many it did, and whether it stopped early because
    /// memory has just filled (`full`: it was full already, and goes on to the end).
    #[inline(always)]
    fn region_steps(
        &mut self,
        run: &mut RegionRun,
        refs: &[PageRef],
        ahead: Option<NextUses<'_>>,
        st: &mut MachineStats,
        full: bool,
    ) -> (usize, bool) {
        let shift = self.shift;
        let levels = self.tables.levels() as u64;
        let (tlb_on, tlb_lru) = (self.tlb.enabled, self.tlb.lru());
        for (j, r) in refs.iter().enumerate() {
            let vpn = r.addr >> shift;
            let page = vpn.wrapping_sub(run.at);
            if page >= run.pages || r.access == Access::Exec || r.addr > self.va_limit {
                return (j, false);
            }
            if let Some(n) = ahead.and_then(|a| a.get(j)) {
                self.repl.opt_next(n);
            }
            st.accesses += 1;
            let f = run.frame_of[page as usize];
            if f != NO {
                let pfn = u64::from(f);
                // In memory: the TLB holds its translation or the walk finds it present.
                let slot = run.slot_of[f as usize];
                if slot != NO {
                    // What `translate` does on a hit.
                    let slot = slot as usize;
                    let e = self.tlb.entry_mut(slot);
                    if tlb_lru {
                        e.stamp = st.accesses;
                    }
                    let e = e.pte;
                    let done = r.access.done_by();
                    if e & done == done || e & r.access.needs() != 0 {
                        if e & done != done {
                            self.mark_dirty(slot);
                        }
                        st.tlb_hits += 1;
                        self.touch_frame(pfn);
                        continue;
                    }
                }
                // What `translate_walk` does for a present page.
                if tlb_on {
                    st.tlb_misses += 1;
                }
                st.walks += 1;
                st.walk_refs += levels;
                let loc = run.held[f as usize].1;
                let old = self.tables.get(loc);
                let mut e = old | pte::ACCESSED;
                if r.access == Access::Write {
                    e |= pte::DIRTY;
                }
                if e != old {
                    self.tables.set(loc, e);
                }
                if tlb_on {
                    let (slot, evicted) =
                        self.tlb.fill_unhinted(run.asid, vpn, e, loc, st.accesses);
                    run.filled(pfn, slot, evicted);
                }
                self.touch_frame(pfn);
                continue;
            }
            // Out of memory: no translation in the TLB; the walk finds the entry empty (or no
            // table on the way, and reads fewer levels).
            if tlb_on {
                st.tlb_misses += 1;
            }
            st.walks += 1;
            match run.known_loc(vpn) {
                Some(_) => st.walk_refs += levels,
                None => {
                    let (loc, read) = self.tables.find(self.root(run.asid), vpn);
                    st.walk_refs += u64::from(read);
                    if let Some(l) = loc {
                        run.leaf = (vpn >> run.leaf_bits, l.table);
                    }
                }
            }
            self.region_fault(run, vpn, page, r.access, st);
            if !full && run.full {
                return (j + 1, true);
            }
        }
        (refs.len(), false)
    }

    /// A major fault on page `page` (virtual page `vpn`) of the run's region, whose walk was
    /// counted: a frame (the policy's victim when memory is full, its page unmapped and
    /// written back if dirty), the page read into it, mapped, and the access completed as its
    /// restarted translation would (another TLB miss and walk, and a TLB fill).
    #[inline(never)]
    fn region_fault(
        &mut self,
        run: &mut RegionRun,
        vpn: u64,
        page: u64,
        access: Access,
        st: &mut MachineStats,
    ) {
        let used = FrameUse::File {
            file: run.file,
            page,
        };
        let free = if run.full {
            None
        } else {
            self.region_free_frame(run, used)
        };
        let pfn = match free {
            Some(pfn) => pfn,
            None => {
                run.full = true;
                // Every frame holds a page of the region, and any may go.
                let total = self.frames.total();
                let fused = self.repl.replaces_any();
                let v = if fused {
                    self.repl.replace_any(&mut self.frame_info, total)
                } else {
                    self.repl
                        .victim(&mut self.frame_info, |_, f| {
                            !matches!(f.used, FrameUse::Free | FrameUse::Written { .. })
                        })
                        .expect("every frame holds a page of the region, and one may go")
                };
                let (old, loc) = run.held[v as usize];
                debug_assert_ne!(old, NONE, "every frame in use holds a page of the region");
                // `set_pte(asid, vpn, 0)`: the entry goes, and so does its TLB copy.
                let e = self.tables.get(loc);
                self.tables.set(loc, 0);
                let slot = std::mem::replace(&mut run.slot_of[v as usize], NO);
                if slot != NO {
                    self.tlb.drop_slot_unhinted(slot as usize);
                }
                run.frame_of[old as usize] = NO;
                run.writebacks += u64::from(e & pte::DIRTY != 0);
                run.evictions += 1;
                // `free_frame` then `alloc_frame_for`: the allocator hands back the frame it
                // was just given, so its state does not change; the frame holds no data.
                debug_assert_eq!(self.frames.used(), self.frames.total());
                if self.repl.opt_active() {
                    self.repl.freed(v);
                }
                self.frame_info[v as usize] = FrameInfo {
                    used,
                    mapcount: 1,
                    referenced: true,
                    asid: run.asid,
                    swap_slot: None,
                };
                if !fused {
                    self.repl.loaded(v, total);
                }
                v
            }
        };
        let loc = match run.known_loc(vpn) {
            Some(loc) => loc,
            None => {
                let loc = self.private_loc(run.asid, vpn);
                run.leaf = (vpn >> run.leaf_bits, loc.table);
                loc
            }
        };
        run.held[pfn as usize] = (page, loc);
        run.frame_of[page as usize] = pfn as u32;
        // `map_faulted`: no TLB entry holds the page, so there is nothing to invalidate.
        let mut e = pfn << pte::PFN_SHIFT | pte::PRESENT | run.bits | pte::ACCESSED;
        if access == Access::Write {
            e |= pte::DIRTY;
        }
        self.tables.set(loc, e);
        if self.tlb.enabled {
            st.tlb_misses += 1;
            let (slot, evicted) = self.tlb.fill_unhinted(run.asid, vpn, e, loc, st.accesses);
            run.filled(pfn, slot, evicted);
        }
        st.walks += 1;
        st.walk_refs += self.tables.levels() as u64;
        self.touch_frame(pfn);
        run.major += 1;
    }

    /// A free frame for a page of the run's region, zeroed, while memory has one: only the
    /// first faults of a run find one, so it is kept out of the fault's own code.
    #[cold]
    #[inline(never)]
    fn region_free_frame(&mut self, run: &mut RegionRun, used: FrameUse) -> Option<u64> {
        let pfn = self.alloc_frame_for(used, run.asid)?;
        self.zero_frame(pfn);
        self.frame_info[pfn as usize].mapcount = 1;
        if run.held.len() <= pfn as usize {
            run.held
                .resize(pfn as usize + 1, (NONE, Loc { table: 0, slot: 0 }));
            run.slot_of.resize(pfn as usize + 1, NO);
        }
        Some(pfn)
    }
}

//! The machine's half of a lean run (`os/lean.rs` has the OS's): a replay whose references all
//! fall in one file region, whose faults evict only that region's pages, in an address space
//! that shares no page table. Translation, fault and eviction are done in one loop on the
//! machine's own structures, with nothing looked up that the run already knows (where each
//! entry lives, which page each frame holds, that memory is full). Each step changes exactly
//! what the general path changes: property tests in `session/replay.rs` compare whole
//! machines after random replays both ways.

use super::pagetable::{pte, Loc};
use super::{Access, Asid, FrameInfo, FrameUse, Mmu, PageRef};

const NONE: u64 = u64::MAX;

/// What a lean run knows of its region and keeps while it lasts.
#[derive(Debug)]
pub struct RegionRun {
    asid: Asid,
    file: u32,
    /// Pages `0..pages` of `file`, page `n` at virtual page `at + n`.
    at: u64,
    pages: u64,
    /// Permission and file bits of each page's entry.
    bits: u64,
    /// For each frame, the page it holds and where that page's entry lives (`NONE`: free).
    held: Vec<(u64, Loc)>,
    /// The last leaf table reached, by the pages it covers (`vpn >> leaf_bits`): tables are
    /// never shared, moved or freed during the run, so it stays where it is.
    leaf: (u64, u32),
    leaf_bits: u32,
    /// Memory is full: every fault evicts (frames are only reused until the run ends).
    full: bool,
    /// Major faults, evictions and write-backs (of dirty pages) so far.
    pub major: u64,
    pub evictions: u64,
    pub writebacks: u64,
}

impl RegionRun {
    /// A run over pages `0..pages` of `file` at virtual page `at` of `asid`, whose entries
    /// carry `bits`; [`RegionRun::hold`] then names each frame in use.
    pub fn new(mmu: &Mmu, asid: Asid, file: u32, at: u64, pages: u64, bits: u64) -> Self {
        RegionRun {
            asid,
            file,
            at,
            pages,
            bits,
            held: vec![(NONE, Loc { table: 0, slot: 0 }); mmu.frame_info.len()],
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
        let Some(loc) = mmu.tables.find(mmu.root(self.asid), self.at + page).0 else {
            return false;
        };
        let e = mmu.tables.get(loc);
        let ok = page < self.pages
            && e & pte::PRESENT != 0
            && pte::pfn(e) == pfn
            && e & (pte::PERMS | pte::FILE | pte::ZERO | pte::COW) == self.bits
            && !mmu.frame_has_data(pfn);
        if ok {
            self.held[pfn as usize] = (page, loc);
        }
        ok
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
        ahead: Option<&[u64]>,
    ) -> usize {
        let shift = self.shift;
        let levels = self.tables.levels() as u64;
        for (j, r) in refs.iter().enumerate() {
            let vpn = r.addr >> shift;
            let page = vpn.wrapping_sub(run.at);
            if page >= run.pages || r.access == Access::Exec || r.addr > self.va_limit {
                return j;
            }
            if let Some(a) = ahead {
                self.repl.opt_next(a[j]);
            }
            // The TLB as `translate` reads it.
            self.stats.accesses += 1;
            if let Some(slot) = self.tlb.lookup(run.asid, vpn, self.stats.accesses) {
                let e = self.tlb.entry_mut(slot).pte;
                let done = r.access.done_by();
                if e & done == done || e & r.access.needs() != 0 {
                    if e & done != done {
                        self.mark_dirty(slot);
                    }
                    self.stats.tlb_hits += 1;
                    self.touch_frame(pte::pfn(e));
                    continue;
                }
            }
            // The walk, as `translate_walk` does it.
            if self.tlb.enabled {
                self.stats.tlb_misses += 1;
            }
            self.stats.walks += 1;
            let loc = match run.known_loc(vpn) {
                Some(loc) => {
                    self.stats.walk_refs += levels;
                    Some(loc)
                }
                None => {
                    let (loc, refs) = self.tables.find(self.root(run.asid), vpn);
                    self.stats.walk_refs += u64::from(refs);
                    if let Some(l) = loc {
                        run.leaf = (vpn >> run.leaf_bits, l.table);
                    }
                    loc
                }
            };
            if let Some(loc) = loc {
                let old = self.tables.get(loc);
                if old & pte::PRESENT != 0 {
                    let mut e = old | pte::ACCESSED;
                    if r.access == Access::Write {
                        e |= pte::DIRTY;
                    }
                    if e != old {
                        self.tables.set(loc, e);
                    }
                    if self.tlb.enabled {
                        self.tlb.insert(run.asid, vpn, e, loc, self.stats.accesses);
                    }
                    self.touch_frame(pte::pfn(e));
                    continue;
                }
                debug_assert_eq!(old & pte::SWAPPED, 0, "a file page is never swapped");
            }
            self.region_fault(run, vpn, page, r.access);
        }
        refs.len()
    }

    /// A major fault on page `page` (virtual page `vpn`) of the run's region, whose walk was
    /// counted: a frame (the policy's victim when memory is full, its page unmapped and
    /// written back if dirty), the page read into it, mapped, and the access completed as its
    /// restarted translation would (another TLB miss and walk, and a TLB fill).
    #[inline(never)]
    fn region_fault(&mut self, run: &mut RegionRun, vpn: u64, page: u64, access: Access) {
        let used = FrameUse::File {
            file: run.file,
            page,
        };
        let free = if run.full {
            None
        } else {
            self.alloc_frame_for(used, run.asid)
        };
        let pfn = match free {
            Some(pfn) => {
                self.zero_frame(pfn);
                self.frame_info[pfn as usize].mapcount = 1;
                pfn
            }
            None => {
                run.full = true;
                let v = self
                    .repl
                    .victim(&mut self.frame_info, |_, f| {
                        !matches!(f.used, FrameUse::Free | FrameUse::Written { .. })
                    })
                    .expect("every frame holds a page of the region, and one may go");
                let (old, loc) = run.held[v as usize];
                debug_assert_ne!(old, NONE, "every frame in use holds a page of the region");
                // `set_pte(asid, vpn, 0)`: the entry goes, and so does its TLB copy.
                let e = self.tables.get(loc);
                self.tables.set(loc, 0);
                self.tlb.invalidate(run.asid, run.at + old);
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
                self.repl.loaded(v, self.frames.total());
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
        if run.held.len() <= pfn as usize {
            run.held.resize(pfn as usize + 1, (NONE, loc));
        }
        run.held[pfn as usize] = (page, loc);
        // `map_faulted`: no TLB entry holds the page (its entry was not present, and every
        // change of an entry drops its TLB copy), so there is nothing to invalidate.
        let mut e = pfn << pte::PFN_SHIFT | pte::PRESENT | run.bits | pte::ACCESSED;
        if access == Access::Write {
            e |= pte::DIRTY;
        }
        self.tables.set(loc, e);
        if self.tlb.enabled {
            self.stats.tlb_misses += 1;
            self.tlb.insert(run.asid, vpn, e, loc, self.stats.accesses);
        }
        self.stats.walks += 1;
        self.stats.walk_refs += self.tables.levels() as u64;
        self.touch_frame(pfn);
        run.major += 1;
    }
}

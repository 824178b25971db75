//! The fault path of a replay whose trace is off. The common fault of a `refs` or `trace`
//! replay (a page of a shared file mapping that is not in the page cache) is handled in one
//! pass, with the restarted access's page walk folded into the mapping; and a `refs` string
//! alone in memory runs as a lean run, translated and faulted by the machine itself
//! (`machine/refill.rs`). Both change exactly what the general handler changes (frames, page
//! tables, TLB, replacement state, page cache, counters); anything else goes to the general
//! handler. Property tests in `session/replay.rs` run random replays both ways and compare the
//! whole machine.

use super::{Backing, Os, Perms, Role, Trap};
use crate::events::EventSink;
use crate::machine::pagetable::pte;
use crate::machine::refill::{RegionRun, MAX_REGION_PAGES};
use crate::machine::{Access, Fault, FrameUse, Mmu};

/// What the fault path reads of a mapping, remembered with the stamp of the set it came from
/// (equal stamps, equal mappings): a replay's faults and evictions land in one mapping over
/// and over, and each lookup would search the mappings' tree again.
#[derive(Debug, Clone, Copy)]
pub(super) struct MappingFacts {
    stamp: u64,
    pub start: u64,
    pub end: u64,
    pub perms: Perms,
    pub shared: bool,
    pub backing: Backing,
    pub role: Role,
}

impl Os {
    /// The mapping of process `p` holding `vaddr`, as [`super::VmaSet::find`] finds it.
    #[inline]
    pub(super) fn mapping(&mut self, p: usize, vaddr: u64) -> Option<MappingFacts> {
        let set = &self.procs[p].vmas;
        if let Some(m) = self.last_mapping {
            if m.stamp == set.stamp() && m.start <= vaddr && vaddr < m.end {
                return Some(m);
            }
        }
        let v = set.find(vaddr)?;
        let m = MappingFacts {
            stamp: set.stamp(),
            start: v.start,
            end: v.end,
            perms: v.perms,
            shared: v.shared,
            backing: v.backing,
            role: v.role,
        };
        self.last_mapping = Some(m);
        Some(m)
    }

    /// The rest of a replayed reference whose translation faulted (counted already), as
    /// [`Os::access_faulted`] does it; when nothing is recorded, a fault the lean path knows
    /// takes it.
    #[inline(never)]
    pub fn replay_faulted(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        access: Access,
        fault: Fault,
        sink: &mut EventSink,
    ) -> Result<(), Trap> {
        if !sink.wants() {
            if let Some(done) = self.lean_fault(mmu, p, vaddr, access, fault, sink) {
                return done;
            }
        }
        self.access_faulted(mmu, p, vaddr, access, fault, sink)
            .map(drop)
    }

    /// A not-present page of a shared mapping of a simulated file (no host file, not always
    /// cached) whose page is not in the page cache: a major fault that reads the page into a
    /// frame (evicting one if memory is full), maps it, and completes the access, as the
    /// general handler and the restarted translation would. `None` = not such a fault, and
    /// nothing was changed.
    fn lean_fault(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        access: Access,
        fault: Fault,
        sink: &mut EventSink,
    ) -> Option<Result<(), Trap>> {
        let Fault::NotPresent { pte: old } = fault else {
            return None;
        };
        if old & pte::SWAPPED != 0 || vaddr >= self.user_limit {
            return None;
        }
        let v = self.mapping(p, vaddr)?;
        let Backing::File { file, offset } = v.backing else {
            return None;
        };
        let allowed = match access {
            Access::Read => v.perms.r,
            Access::Write => v.perms.w,
            Access::Exec => v.perms.x,
        };
        if !v.shared || !allowed || (self.auto_map && !self.declared_role(p, v.role)) {
            return None;
        }
        let bits = v.perms.pte_bits() | pte::FILE;
        let page = (offset + (self.page_floor(vaddr) - v.start)) / self.page_size;
        let f = &self.files[file as usize];
        if f.host.is_some() || f.always_cached || f.cache.contains_key(&page) {
            return None;
        }
        let pfn = match self.new_frame(mmu, p, vaddr, FrameUse::File { file, page }, None, sink) {
            Ok(pfn) => pfn,
            Err(t) => return Some(Err(t)),
        };
        let f = &mut self.files[file as usize];
        if let Some(b) = f.store.get(&page) {
            mmu.write_phys(pfn << mmu.page_shift(), b);
        }
        f.cache.insert(page, pfn);
        let asid = self.procs[p].asid;
        mmu.map_faulted(
            asid,
            vaddr,
            access,
            pfn << pte::PFN_SHIFT | pte::PRESENT | bits,
        );
        if let Some(f) = mmu.frame_mut(pfn) {
            f.mapcount += 1;
        }
        self.procs[p].stats.major += 1;
        Some(Ok(()))
    }
}

#[cfg(test)]
thread_local! {
    /// Lean runs started on this thread: tests check that the cases meant to take one do.
    pub static LEAN_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A replay whose faults all land in one file region and evict only its pages: a `refs`
/// string's, in a process that holds no other frame. The machine runs it
/// ([`Mmu::region_replay`]) without asking the OS anything a fault would ask (the mapping,
/// every process that might map the victim, the page cache, the free frames); the page cache
/// and the process's counters are brought up to date when the run ends. The machine itself is
/// exact after every reference, so limits and interrupts see it as it is.
#[derive(Debug)]
pub struct LeanRun {
    p: usize,
    pub region: RegionRun,
}

impl Os {
    /// A lean run for a replay in process `p` starting at `vaddr`, if the machine allows one:
    /// no shared page tables, `vaddr` in a shared mapping of a simulated file written nowhere
    /// yet, every frame in use one of that file's pages, mapped there once, and nothing else of
    /// the file's region in the page tables or the TLB. The trace must be off: the caller's to
    /// check.
    pub fn lean_run(&mut self, mmu: &mut Mmu, p: usize, vaddr: u64) -> Option<LeanRun> {
        if self.auto_map || vaddr >= self.user_limit {
            return None;
        }
        let v = self.mapping(p, vaddr)?;
        let Backing::File { file, .. } = v.backing else {
            return None;
        };
        let f = &self.files[file as usize];
        let at = f.at?;
        if f.host.is_some() || f.always_cached || !f.store.is_empty() || mmu.frames_total() == 0 {
            return None;
        }
        // The region: the mappings of the file from `at` on, each where `at` puts it, shared,
        // readable and writable alike.
        let bits = v.perms.pte_bits() | pte::FILE;
        let mut end = at;
        while let Some(m) = self.mapping(p, end) {
            let placed = matches!(m.backing, Backing::File { file: g, offset }
                if g == file && m.start.wrapping_sub(offset) == at);
            if !placed
                || !m.shared
                || !m.perms.r
                || !m.perms.w
                || m.perms.pte_bits() | pte::FILE != bits
            {
                break;
            }
            end = m.end;
        }
        if vaddr < at || vaddr >= end || (end - at) >> mmu.page_shift() > MAX_REGION_PAGES {
            return None;
        }
        // Every frame in use holds a page of the file, brought in by this process and mapped
        // once (checked before anything is allocated for the run: this is what most often
        // refuses one).
        let asid = self.procs[p].asid;
        let mine = |fi: &crate::machine::FrameInfo| match fi.used {
            FrameUse::Free => true,
            FrameUse::File { file: g, .. } => {
                g == file && fi.mapcount == 1 && fi.asid == asid && fi.swap_slot.is_none()
            }
            _ => false,
        };
        if !mmu.frames().iter().all(mine) || mmu.tables_shared() {
            return None;
        }
        let shift = mmu.page_shift();
        let mut region = RegionRun::new(mmu, asid, file, at >> shift, (end - at) >> shift, bits);
        let mut resident = 0;
        for (pfn, fi) in mmu.frames().iter().enumerate() {
            if let FrameUse::File { page, .. } = fi.used {
                if !region.hold(mmu, pfn as u64, page) {
                    return None;
                }
                resident += 1;
            }
        }
        // The page cache holds exactly the resident pages (it is rebuilt from them at the
        // end), the tables no other entry in the region, the TLB no translation of another.
        let ok = self.files[file as usize].cache.len() == resident
            && region.entries_are_held(mmu)
            && region.find_slots(mmu);
        #[cfg(test)]
        if ok {
            LEAN_RUNS.with(|n| n.set(n.get() + 1));
        }
        ok.then_some(LeanRun { p, region })
    }

    /// Ends a lean run: the page cache holds the region's resident pages, and the counters
    /// the run kept are added to the process's.
    pub fn lean_run_end(&mut self, run: LeanRun) {
        let r = &run.region;
        let cache = &mut self.files[r.file() as usize].cache;
        cache.clear();
        for (page, pfn) in r.resident() {
            cache.insert(page, pfn);
        }
        let s = &mut self.procs[run.p].stats;
        s.major += r.major;
        s.evictions += r.evictions;
        s.writebacks += r.writebacks;
    }
}

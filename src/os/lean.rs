//! The fault path of a replay whose trace is off: the common fault of a `refs` or `trace`
//! replay (a page of a shared file mapping that is not in the page cache) handled in one
//! pass, with the restarted access's page walk folded into the mapping. It changes exactly
//! what the general handler changes (frames, page tables, TLB, replacement state, page cache,
//! counters); anything else goes to the general handler. Property tests in
//! `session/replay.rs` run random replays both ways and compare the whole machine.

use super::{Backing, Os, Perms, Role, Trap};
use crate::events::EventSink;
use crate::machine::pagetable::pte;
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

//! Memory pressure in the OS: evicting a page when no frame is free, swapping anonymous pages
//! out and back in, writing dirty file pages back, and the mappings `refs` and `trace` create.
//!
//! Eviction is not the hot path: it may scan a process's mappings to find every page table
//! that maps a page-cache frame (the reverse map is the mappings themselves, as Linux's
//! `rmap` walks a file's `i_mmap`).

use super::{Backing, Os, Perms, Role, Trap, Vma};
use crate::events::{Event, EventSink, EvictAction};
use crate::machine::pagetable::pte;
use crate::machine::{Access, FrameUse, Mmu, Scope};

/// The name of the backing file of the region `refs` uses.
pub const REFS_FILE: &str = "[refs]";

/// The name of the backing store of the pages a trace replay gives the traced program.
pub const TRACE_FILE: &str = "[trace]";

impl Os {
    /// Frees one frame by the replacement policy. `false` = nothing could be evicted (every
    /// frame holds anonymous memory and swap is full or absent, or is pinned).
    pub(super) fn evict(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        pin: Option<u64>,
        sink: &mut EventSink,
    ) -> bool {
        let scope = (mmu.config().scope == Scope::Local).then(|| self.procs[p].asid);
        let Some(victim) = mmu.choose_victim(scope, pin) else {
            return false;
        };
        let Some(info) = mmu.frame(victim).copied() else {
            return false;
        };
        let ps = self.page_size;
        let shift = mmu.page_shift();
        let want = sink.wants();
        let described = if want {
            self.describe_frame(mmu, victim)
        } else {
            String::new()
        };
        let mut swap_ev = None;
        let action = match info.used {
            FrameUse::Free | FrameUse::Written { .. } => return false,
            FrameUse::File { file, page } => {
                // Every page table that maps this page-cache page loses it.
                let mut dirty = false;
                let at = self.files[file as usize].at;
                for q in 0..self.procs.len() {
                    let asid = self.procs[q].asid;
                    if let Some(at) = at {
                        // The file is mapped only at `at`: one lookup per process, however
                        // many mappings a scattered trace made.
                        let vaddr = at.wrapping_add(page << shift);
                        let mapped = self.mapping(q, vaddr).is_some_and(|v| {
                            matches!(v.backing, Backing::File { file: f, offset }
                                if f == file && v.start.wrapping_sub(offset) == at)
                        });
                        let vpn = vaddr >> shift;
                        let e = mmu.pte(asid, vpn);
                        if mapped
                            && e & pte::PRESENT != 0
                            && e & pte::ZERO == 0
                            && pte::pfn(e) == victim
                        {
                            dirty |= e & pte::DIRTY != 0;
                            mmu.set_pte(asid, vpn, 0);
                        }
                        continue;
                    }
                    // The mappings are read while the page tables change: they are separate
                    // structures, so no list of pages is collected first.
                    for v in self.procs[q].vmas.iter() {
                        let Backing::File { file: f, offset } = v.backing else {
                            continue;
                        };
                        let first = offset >> shift;
                        if f != file || page < first || page >= first + (v.len() >> shift) {
                            continue;
                        }
                        let vpn = (v.start >> shift) + page - first;
                        let e = mmu.pte(asid, vpn);
                        if e & pte::PRESENT != 0 && e & pte::ZERO == 0 && pte::pfn(e) == victim {
                            dirty |= e & pte::DIRTY != 0;
                            mmu.set_pte(asid, vpn, 0);
                        }
                    }
                }
                let f = &mut self.files[file as usize];
                f.cache.remove(&page);
                if dirty {
                    // A page of zeros needs no copy, unless the host file would read back
                    // something else.
                    if f.host.is_none() && !mmu.frame_has_data(victim) {
                        f.store.remove(&page);
                    } else {
                        let mut buf = vec![0u8; ps as usize];
                        mmu.read_phys(victim << shift, &mut buf);
                        // Only the file's bytes are written: what was stored past its end,
                        // in its last page, reads back as zero, as on Linux.
                        if let Some(size) = f.size {
                            let past = size.saturating_sub(page * ps).min(ps) as usize;
                            buf[past..].fill(0);
                        }
                        if f.host.is_none() && buf.iter().all(|&b| b == 0) {
                            f.store.remove(&page);
                        } else {
                            f.store.insert(page, buf.into_boxed_slice());
                        }
                    }
                    self.procs[p].stats.writebacks += 1;
                    EvictAction::WrittenBack
                } else {
                    EvictAction::Dropped
                }
            }
            FrameUse::Anon { asid, vpn } => {
                let e = mmu.pte(asid, vpn);
                let dirty = e & pte::DIRTY != 0;
                let (slot, action) = match info.swap_slot {
                    Some(s) if !dirty => (s, EvictAction::Discarded { slot: s }),
                    Some(s) => (s, EvictAction::SwappedOut { slot: s }),
                    None => match mmu.swap_alloc() {
                        Some(s) => (s, EvictAction::SwappedOut { slot: s }),
                        // `choose_victim` only offers an anonymous page when a slot is free.
                        None => return false,
                    },
                };
                if let EvictAction::SwappedOut { .. } = action {
                    mmu.swap_write(slot, victim);
                    self.procs[p].stats.swap_outs += 1;
                    if want {
                        let owner = self
                            .procs
                            .iter()
                            .find(|q| q.asid == asid)
                            .map_or(0, |q| q.pid);
                        swap_ev = Some(Event::SwapOut {
                            pid: owner,
                            vaddr: vpn << shift,
                            pfn: victim,
                            slot,
                        });
                    }
                }
                // Not present; the slot sits where the frame number was.
                mmu.set_pte(
                    asid,
                    vpn,
                    (slot << pte::PFN_SHIFT) | pte::SWAPPED | (e & pte::PERMS),
                );
                if let Some(f) = mmu.frame_mut(victim) {
                    f.swap_slot = None;
                }
                action
            }
        };
        mmu.free_frame(victim);
        self.procs[p].stats.evictions += 1;
        if want {
            let policy = mmu.config().replace.name().to_string();
            sink.push(Event::Eviction {
                pid: self.procs[p].pid,
                pfn: victim,
                victim: described,
                policy,
                action,
            });
            if let Some(e) = swap_ev {
                sink.push(e);
            }
        }
        true
    }

    /// What a frame holds, in words, for eviction events.
    fn describe_frame(&self, mmu: &Mmu, pfn: u64) -> String {
        match mmu.frame(pfn).map(|f| f.used) {
            Some(FrameUse::Anon { asid, vpn }) => {
                let who = self
                    .procs
                    .iter()
                    .find(|q| q.asid == asid)
                    .map_or("?".to_string(), |q| q.name.clone());
                format!("{who} page {vpn:#x} (anonymous)")
            }
            Some(FrameUse::File { file, page }) => {
                let f = &self.files[file as usize];
                let name = &f.name;
                // A trace's backing store is indexed by address: its page numbers read as the
                // trace's addresses do, in hex.
                if f.by_address {
                    format!("{name} page {page:#x} (page cache)")
                } else {
                    format!("{name} page {page} (page cache)")
                }
            }
            _ => "a free frame".into(),
        }
    }

    /// A major fault on a swapped-out page: a frame, the slot's contents, the old mapping.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn swap_in(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        access: Access,
        old: u64,
        vma: &Vma,
        sink: &mut EventSink,
    ) -> Result<(), Trap> {
        let asid = self.procs[p].asid;
        let vpn = vaddr >> mmu.page_shift();
        let slot = pte::pfn(old);
        let pfn = self.new_frame(mmu, p, vaddr, FrameUse::Anon { asid, vpn }, None, sink)?;
        mmu.swap_read(slot, pfn);
        if mmu.swap_is_shared(slot) {
            // Another process still names the slot (they forked while the page was out): this
            // page gets its own copy and lets the slot go, since writing it back there
            // would change the other's page.
            mmu.swap_free(slot);
        } else if let Some(f) = mmu.frame_mut(pfn) {
            // The slot keeps its copy until the page is written again (or unmapped):
            // evicting it clean then costs no write.
            f.swap_slot = Some(slot);
        }
        self.map(mmu, asid, vpn, pfn, vma.perms.pte_bits());
        self.procs[p].stats.major += 1;
        self.procs[p].stats.swap_ins += 1;
        if sink.wants() {
            sink.push(Event::SwapIn {
                pid: self.procs[p].pid,
                vaddr,
                access,
                slot,
                pfn,
                region: vma.describe(),
            });
        }
        Ok(())
    }

    /// Whether a trace replay honours mapping `v` of process `p`: mappings the scenario made
    /// (`mmap`, the heap, `refs`, threads) and the regions of a `process NAME { … }` block do;
    /// the built-in program's layout (its text, data, stack, libraries) does not, since the
    /// traced program has its own.
    pub(super) fn is_declared(&self, p: usize, v: &Vma) -> bool {
        self.declared_role(p, v.role)
    }

    /// [`Os::is_declared`] for a mapping of role `role`.
    pub(super) fn declared_role(&self, p: usize, role: Role) -> bool {
        match role {
            Role::Mmap | Role::Heap | Role::ThreadStack | Role::Guard => true,
            Role::Text | Role::Rodata | Role::Relro | Role::Data | Role::Bss | Role::Stack => {
                self.procs[p].declared_layout
            }
            Role::Elf | Role::Lib | Role::Special => false,
        }
    }

    /// The mapping a trace gets for a page of the traced program: one page, `rwx` (the trace
    /// says where the program went, not what it was allowed to do), of the program's backing
    /// store, the file `[trace]` (`[trace NAME]` for processes after the first) at the page's
    /// own address as offset, so that adjacent pages merge into one mapping. It is a shared
    /// file mapping, as `refs` uses: a miss is exactly one fault that takes a frame whether
    /// it reads or writes, and eviction needs no swap (clean pages are dropped, dirty ones
    /// written back).
    pub(super) fn trace_mapping(&mut self, p: usize, vaddr: u64) -> Vma {
        let start = vaddr & !(self.page_size - 1);
        let name = if p == 0 {
            TRACE_FILE.to_string()
        } else {
            format!("[trace {}]", self.procs[p].name)
        };
        let new = self.files.len();
        let file = self.file(&name, false);
        let f = &mut self.files[file as usize];
        f.by_address = true;
        if file as usize == new {
            f.at = Some(0);
        }
        let v = Vma {
            start,
            end: start + self.page_size,
            perms: Perms {
                r: true,
                w: true,
                x: true,
            },
            shared: true,
            backing: Backing::File {
                file,
                offset: start,
            },
            role: Role::Mmap,
            name: name.into(),
        };
        self.note_mapping(&v);
        self.procs[p].vmas.insert(v.clone());
        v
    }

    /// The region `refs` uses in process `p`, grown to at least `pages` pages; returns its
    /// start. It is a shared mapping of the process's own file `[refs]` (clean pages are dropped on
    /// eviction and read again, dirty ones written back), placed in the lowest free gap at or
    /// above a quarter of user space (0x200000000000 on x86-64, 0x4000 on `tiny`), far from
    /// the heap and the mmap area; failing that, wherever the top-down mmap search finds room.
    pub fn refs_region(&mut self, p: usize, pages: u64) -> Result<u64, String> {
        let ps = self.page_size;
        let len = pages
            .checked_mul(ps)
            .ok_or_else(|| format!("{pages} pages do not fit in the address space"))?;
        // Each process has its own reference string's pages, as textbooks assume: the first
        // process's file is `[refs]`, another's `[refs NAME]`.
        let name = if p == 0 {
            REFS_FILE.to_string()
        } else {
            format!("[refs {}]", self.procs[p].name)
        };
        let new = self.files.len();
        let file = self.file(&name, false);
        let perms = Perms::RW;
        match self.procs[p].refs_region {
            Some((start, have)) if have >= pages => Ok(start),
            Some((start, have)) => {
                let from = start + have * ps;
                let to = start.saturating_add(len);
                if to > self.user_limit || !self.procs[p].vmas.is_free(from, to) {
                    return Err(format!(
                        "the reference region at {:#x} cannot grow to {pages} pages: something is mapped above it",
                        start
                    ));
                }
                self.map_fixed(
                    p,
                    from,
                    to - from,
                    perms,
                    true,
                    Some((file, have * ps)),
                    Role::Mmap,
                    name,
                );
                self.procs[p].refs_region = Some((start, pages));
                Ok(start)
            }
            None => {
                let from = (self.user_limit / 4) & !(ps - 1);
                let start = self.procs[p]
                    .vmas
                    .lowest_gap(len, from, self.user_limit)
                    .or_else(|| {
                        let below = self.procs[p].mmap_base;
                        let floor = self.procs[p].brk_start.max(ps);
                        self.procs[p].vmas.top_down_gap(len, below, floor)
                    })
                    .ok_or_else(|| format!("no free gap of {pages} pages in the address space"))?;
                if file as usize == new {
                    // Page `n` of a new reference file is at `start + n * page_size` alone.
                    self.files[file as usize].at = Some(start);
                }
                self.map_fixed(
                    p,
                    start,
                    len,
                    perms,
                    true,
                    Some((file, 0)),
                    Role::Mmap,
                    name,
                );
                self.procs[p].refs_region = Some((start, pages));
                Ok(start)
            }
        }
    }
}

//! Memory accesses of the running process: loads and stores through the MMU, the heap safety
//! checks on them, and the heap calls that report findings.

use super::*;

impl Exec<'_> {
    #[inline(always)]
    pub(super) fn access(&mut self, p: usize, addr: u64, access: Access, span: Span) -> R<u64> {
        // Whatever the access causes is shown under the line it is on.
        self.sink.at = span.start;
        let w = &mut *self.world;
        w.os.access(&mut w.mmu, p, addr, access, &mut self.sink)
            .map_err(|t| Self::trap(t, p, span))
    }

    /// Loads `width` bytes (little-endian); an access that crosses a page touches both pages.
    #[inline]
    pub(super) fn load(&mut self, addr: u64, width: u8, span: Span) -> R<u64> {
        let p = self.cur(span)?;
        self.load_at(p, addr, width, span)
    }

    /// [`Exec::load`] by process `p`, known to be the current one and alive.
    #[inline(always)]
    pub(super) fn load_at(&mut self, p: usize, addr: u64, width: u8, span: Span) -> R<u64> {
        let ps = self.world.mmu.page_size();
        let w = width as usize;
        let v = if (addr & (ps - 1)) + width as u64 <= ps {
            let pa = self.access(p, addr, Access::Read, span)?;
            self.world.mmu.load_phys(pa, w)
        } else {
            // Split as the hardware splits it: one translation per page, in address order.
            let first = (ps - (addr & (ps - 1))) as usize;
            let mut b = [0u8; 8];
            let pa = self.access(p, addr, Access::Read, span)?;
            self.world.mmu.read_phys(pa, &mut b[..first]);
            let pa = self.access(p, addr.wrapping_add(first as u64), Access::Read, span)?;
            self.world.mmu.read_phys(pa, &mut b[first..w]);
            u64::from_le_bytes(b)
        };
        self.check_heap(p, addr, width, false, span);
        Ok(v)
    }

    #[inline]
    pub(super) fn store(&mut self, addr: u64, width: u8, value: u64, span: Span) -> R<()> {
        let p = self.cur(span)?;
        self.store_at(p, addr, width, value, span)
    }

    /// [`Exec::store`] by process `p`, known to be the current one and alive.
    #[inline(always)]
    pub(super) fn store_at(
        &mut self,
        p: usize,
        addr: u64,
        width: u8,
        value: u64,
        span: Span,
    ) -> R<()> {
        let ps = self.world.mmu.page_size();
        let b = value.to_le_bytes();
        let w = width as usize;
        if (addr & (ps - 1)) + width as u64 <= ps {
            let pa = self.access(p, addr, Access::Write, span)?;
            self.world.mmu.store_phys(pa, w, value);
        } else {
            // A store that crosses into a page it may not write faults before it writes any
            // byte, as on x86: both pages are translated, and their faults handled, first; one
            // translation per page, as the hardware splits the access.
            let first = (ps - (addr & (ps - 1))) as usize;
            let next = addr.wrapping_add(first as u64);
            let pa = self.access(p, addr, Access::Write, span)?;
            let pa_next = self.access(p, next, Access::Write, span)?;
            for (va, pa, bytes) in [(addr, pa, &b[..first]), (next, pa_next, &b[first..w])] {
                // On a machine of very few frames, the other page's fault may have evicted
                // this one: then it faults in again, as the restarted instruction would.
                let pa = match self.resident(p, va) {
                    Some(now) if now == pa => pa,
                    _ => self.access(p, va, Access::Write, span)?,
                };
                self.world.mmu.write_phys(pa, bytes);
            }
        }
        self.check_heap(p, addr, width, true, span);
        Ok(())
    }

    /// Where `vaddr` of process `p` is in physical memory now, by its page table entry (no
    /// access counted, no TLB touched); `None` when the page is not resident.
    fn resident(&self, p: usize, vaddr: u64) -> Option<u64> {
        let mmu = &self.world.mmu;
        let e = mmu.pte(self.world.os.procs[p].asid, vaddr >> mmu.page_shift());
        (e & pte::PRESENT != 0 && e & pte::ZERO == 0)
            .then(|| pte::pfn(e) << mmu.page_shift() | (vaddr & (mmu.page_size() - 1)))
    }

    /// Memory-safety check of a program access that did not fault: only accesses inside an
    /// allocator's regions go further than one range compare.
    #[inline(always)]
    pub(super) fn check_heap(&mut self, p: usize, addr: u64, width: u8, write: bool, span: Span) {
        if let Some(t) = self.world.safety.get_mut(p) {
            if !t.settled(addr, u64::from(width)) && t.watches(addr) {
                Self::check_heap_access(t, addr, width, write, span);
            }
        }
    }

    /// The tracker's look at an access that is not one more in a block already all written.
    #[inline(never)]
    pub(super) fn check_heap_access(t: &mut Safety, addr: u64, width: u8, write: bool, span: Span) {
        t.access(addr, u64::from(width), write, (span.start, span.end));
    }

    /// Turns the trackers' findings into warnings at the statements they are about.
    pub(super) fn drain_findings(&mut self) {
        for i in 0..self.world.safety.len() {
            for f in self.world.safety[i].take_findings() {
                let f = self.name_process(f, i);
                self.diag(Report::new(HeapFinding::from_finding(f)), Severity::Warning);
            }
        }
    }

    /// Blocks still allocated at the end of a scenario, in every process still alive.
    pub(in crate::session) fn report_leaks(&mut self) {
        if self.res.stopped {
            return;
        }
        self.world_leaks();
    }

    /// Blocks still allocated in the current world, in every process still alive.
    pub(super) fn world_leaks(&mut self) {
        self.drain_findings();
        for p in 0..self.world.safety.len() {
            if self
                .world
                .os
                .procs
                .get(p)
                .is_some_and(|pr| pr.death.is_none())
            {
                for mut f in self.world.tracker(p).end_leaks() {
                    // A block allocated in an earlier chunk points into another source.
                    if f.site.1 > self.src.len() {
                        f.site = (0, 0);
                    }
                    let f = self.name_process(f, p);
                    self.diag(Report::new(HeapFinding::from_finding(f)), Severity::Warning);
                }
            }
        }
    }

    pub(super) fn site(&self, span: Span) -> Site {
        Site {
            line: self.ctx.lines.line(span.start) + self.line_offset,
            span: (span.start, span.end),
        }
    }

    /// `memset` / `memcpy` ranges: checked at their ends, written ones marked initialised.
    pub(super) fn check_range(&mut self, p: usize, addr: u64, n: u64, write: bool, span: Span) {
        if let Some(t) = self.world.safety.get_mut(p) {
            t.range(addr, n, write, (span.start, span.end));
        }
    }

    pub(super) fn heap_call<T>(
        &mut self,
        p: usize,
        span: Span,
        f: impl FnOnce(
            &mut dyn crate::heap::Allocator,
            &mut dyn crate::heap::Memory,
        ) -> Result<T, HeapError>,
    ) -> R<T> {
        self.world
            .with_heap(p, &mut self.sink, f)
            .map_err(|e| match e {
                HeapError::Abort(m) => Box::new(Stop::Signal {
                    sig: Sig::Abort(m),
                    p,
                    span,
                }),
                HeapError::Trap(t) => Self::trap(t, p, span),
            })
    }
}

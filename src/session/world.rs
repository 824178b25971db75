//! The simulated world: the machine, the OS and each process's allocator, and the glue that
//! lets an allocator reach its process's memory.

use super::snapshot::{ProcRow, StatsSnap};
use crate::config::ScenarioConfig;
use crate::events::{Event, EventSink};
use crate::heap::safety::{Safety, Site};
use crate::heap::{glibc::Glibc, Allocator, Memory};
use crate::machine::{Access, Mmu};
use crate::os::layout::{LayoutError, ProcessSpec};
use crate::os::{Death, Os, Perms, Role, Trap};

#[derive(Clone)]
pub struct World {
    /// What the world was made from; the MMU and the OS each hold their own part of it too.
    cfg: ScenarioConfig,
    pub mmu: Mmu,
    pub os: Os,
    /// One allocator per process, by process index.
    pub heaps: Vec<Box<dyn Allocator>>,
    /// One memory-safety tracker per process, beside its allocator.
    pub safety: Vec<Safety>,
    /// The current process (index into `os.procs`), once one exists.
    pub current: Option<usize>,
    /// Statements run on this thread's stack, when set.
    pub thread: Option<usize>,
    /// `translate` calls on a base-and-bounds or segmented machine so far: OSTEP's simulators
    /// number their addresses (`VA  0:`).
    pub translations: u64,
}

impl World {
    pub fn new(cfg: &ScenarioConfig) -> Self {
        let mmu = Mmu::new(&cfg.machine, cfg.seed, cfg.conventions);
        let os = Os::new(&mmu, &cfg.os, cfg.arch, cfg.seed);
        World {
            cfg: cfg.clone(),
            mmu,
            os,
            heaps: Vec::new(),
            safety: Vec::new(),
            current: None,
            thread: None,
            translations: 0,
        }
    }

    /// Host memory the simulation holds, roughly: simulated memory contents and page tables,
    /// each process's allocator and memory-safety bookkeeping, the process table. What the
    /// session's host-memory limit is checked against.
    pub fn host_bytes(&self) -> usize {
        let procs: usize = self
            .os
            .procs
            .iter()
            .map(|p| 512 + p.vmas.count() * 128)
            .sum();
        self.mmu.host_bytes()
            + self.mmu.table_host_bytes()
            + self.heaps.iter().map(|h| h.host_bytes()).sum::<usize>()
            + self.safety.iter().map(Safety::host_bytes).sum::<usize>()
            + procs
    }

    pub fn config(&self) -> &ScenarioConfig {
        &self.cfg
    }

    /// Counters of the whole machine, summed over every process (dead ones too).
    pub fn stats(&self) -> StatsSnap {
        let mut s = StatsSnap {
            accesses: self.mmu.stats.accesses,
            tlb_hits: self.mmu.stats.tlb_hits,
            tlb_misses: self.mmu.stats.tlb_misses,
            walks: self.mmu.stats.walks,
            walk_refs: self.mmu.stats.walk_refs,
            frames_used: self.mmu.frames_used(),
            frames_total: self.mmu.frames_total(),
            ..Default::default()
        };
        let ps = self.mmu.page_size();
        for (i, p) in self.os.procs.iter().enumerate() {
            s.per_process.push(ProcRow {
                pid: p.pid,
                name: p.name.clone(),
                minor: p.stats.minor,
                major: p.stats.major,
                segv: p.stats.segv,
                rss: self.os.rss_pages(&self.mmu, i) * ps,
                vsz: p
                    .vmas
                    .iter()
                    .filter(|v| v.start < self.os.user_limit())
                    .map(|v| v.len())
                    .sum(),
                state: match &p.death {
                    None => "running".into(),
                    Some(Death::Segv { .. }) => "killed by SIGSEGV".into(),
                    Some(Death::Abort { .. }) => "aborted (SIGABRT)".into(),
                    Some(Death::Oom) => "killed by the OOM killer".into(),
                    Some(Death::Bus { .. }) => "killed by SIGBUS".into(),
                },
            });
            s.minor += p.stats.minor;
            s.major += p.stats.major;
            s.segv += p.stats.segv;
            s.sigbus += p.stats.sigbus;
            s.stack_growths += p.stats.stack_growths;
            s.cow_copies += p.stats.cow_copies;
            s.evictions += p.stats.evictions;
            s.swap_ins += p.stats.swap_ins;
            s.swap_outs += p.stats.swap_outs;
            s.writebacks += p.stats.writebacks;
        }
        s.faults = s.minor + s.major;
        s.references = self.mmu.stats.references;
        if s.references > 0 {
            s.hit_ratio = s.references.saturating_sub(s.faults) as f64 / s.references as f64;
        }
        s
    }

    /// Creates a process and its allocator; fails, changing nothing, when its layout does not
    /// fit the machine.
    pub fn spawn(
        &mut self,
        spec: &ProcessSpec,
        sink: &mut EventSink,
    ) -> Result<usize, LayoutError> {
        let p = self.os.spawn(&mut self.mmu, spec, sink)?;
        let seed = self.cfg.seed ^ u64::from(self.os.procs[p].pid);
        self.heaps.push(crate::heap::for_config(
            &self.cfg.heap,
            self.cfg.conventions,
            self.cfg.arch,
            self.cfg.machine.page_size,
            seed,
        ));
        self.safety.push(Safety::speaking(self.cfg.radix()));
        if self.current.is_none() {
            self.current = Some(p);
        }
        Ok(p)
    }

    /// Forks process `p`; the child gets a copy of the allocator's state too (its heap is the
    /// same memory, copy-on-write). Returns the child's index.
    pub fn fork(&mut self, p: usize) -> usize {
        let c = self.os.fork(&mut self.mmu, p);
        let heap = self.heaps[p].clone();
        self.heaps.push(heap);
        // The child's blocks are the parent's: same addresses, same contents.
        let safety = self.safety[p].clone();
        self.safety.push(safety);
        c
    }

    /// The current process, creating the implicit `main` on first use.
    #[inline]
    pub fn current(&mut self) -> Result<usize, LayoutError> {
        match self.current {
            Some(p) => Ok(p),
            None => {
                let spec = ProcessSpec::default_program("main", self.cfg.os.stack_limit);
                // The default layout maps nothing that the trace would explain.
                self.spawn(&spec, &mut EventSink::new(false, 0))
            }
        }
    }

    /// Tells process `p`'s tracker what an allocator call did, and where the allocator's
    /// regions are now.
    pub fn after_heap_call(&mut self, p: usize, call: HeapCall, site: Site) {
        let Some(regions) = self.heaps.get(p).map(|h| h.regions()) else {
            return;
        };
        let t = self.tracker(p);
        match call {
            HeapCall::Alloc { ptr, n, zeroed } => t.on_alloc(ptr, n, zeroed, site),
            HeapCall::Realloc { old, new, n } => t.on_realloc(old, new, n, site),
            HeapCall::Free { ptr } => t.on_free(ptr, site.line),
        }
        t.set_regions(regions);
    }

    /// Process `p`'s memory-safety tracker (made on demand, so every process has one).
    pub fn tracker(&mut self, p: usize) -> &mut Safety {
        if self.safety.len() <= p {
            let radix = self.cfg.radix();
            self.safety.resize_with(p + 1, || Safety::speaking(radix));
        }
        &mut self.safety[p]
    }

    /// Runs an allocator call for process `p` with its memory.
    pub fn with_heap<R>(
        &mut self,
        p: usize,
        sink: &mut EventSink,
        f: impl FnOnce(&mut dyn Allocator, &mut dyn Memory) -> R,
    ) -> R {
        let mut heap = std::mem::replace(&mut self.heaps[p], Box::new(Glibc::new(0)));
        let mut mem = ProcMem {
            mmu: &mut self.mmu,
            os: &mut self.os,
            p,
            sink,
            radix: self.cfg.radix(),
        };
        let r = f(heap.as_mut(), &mut mem);
        std::mem::swap(&mut self.heaps[p], &mut heap);
        r
    }
}

/// What a successful allocator call did, for the memory-safety tracker.
#[derive(Debug, Clone, Copy)]
pub enum HeapCall {
    Alloc { ptr: u64, n: u64, zeroed: bool },
    Realloc { old: u64, new: u64, n: u64 },
    Free { ptr: u64 },
}

/// A process's memory as its allocator sees it.
pub struct ProcMem<'a> {
    pub mmu: &'a mut Mmu,
    pub os: &'a mut Os,
    pub p: usize,
    pub sink: &'a mut EventSink,
    /// The base the heap's addresses print in, for the events this memory explains.
    pub radix: crate::units::Radix,
}

impl ProcMem<'_> {
    fn each_page(
        &mut self,
        addr: u64,
        len: usize,
        access: Access,
        mut f: impl FnMut(&mut Mmu, u64, usize, usize),
    ) -> Result<(), Trap> {
        let ps = self.mmu.page_size();
        let mut done = 0usize;
        while done < len {
            // Past the top of user space the access faults before the sum could wrap.
            let a = addr.saturating_add(done as u64);
            let in_page = (ps - (a & (ps - 1))) as usize;
            let n = in_page.min(len - done);
            let pa = self.os.access(self.mmu, self.p, a, access, self.sink)?;
            f(self.mmu, pa, done, n);
            done += n;
        }
        Ok(())
    }
}

impl Memory for ProcMem<'_> {
    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
        self.each_page(addr, bytes.len(), Access::Write, |mmu, pa, off, n| {
            mmu.write_phys(pa, &bytes[off..off + n])
        })
    }
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
        let len = buf.len();
        self.each_page(addr, len, Access::Read, |mmu, pa, off, n| {
            mmu.read_phys(pa, &mut buf[off..off + n])
        })
    }
    fn brk(&self) -> u64 {
        self.os.procs[self.p].brk
    }
    fn set_brk(&mut self, addr: u64) -> u64 {
        self.os.brk(self.mmu, self.p, addr, self.sink)
    }
    fn mmap(&mut self, len: u64) -> Option<u64> {
        self.os
            .mmap(self.p, len, Perms::RW, false, None, self.sink)
            .ok()
    }
    fn munmap(&mut self, addr: u64, len: u64) {
        let _ = self.os.munmap(self.mmu, self.p, addr, len, self.sink);
    }
    fn mremap(&mut self, addr: u64, old_len: u64, new_len: u64) -> Option<u64> {
        let ps = self.mmu.page_size();
        let new = self
            .os
            .mmap(self.p, new_len, Perms::RW, false, None, self.sink)
            .ok()?;
        let n = old_len.min(new_len);
        let mut buf = vec![0u8; ps as usize];
        let mut off = 0;
        while off < n {
            let k = (n - off).min(ps) as usize;
            // Pages never touched read as zero and stay untouched in the copy.
            let asid = self.os.procs[self.p].asid;
            let e = self.mmu.pte(asid, (addr + off) >> self.mmu.page_shift());
            // A swapped-out page has contents too: reading it swaps it in.
            use crate::machine::pagetable::pte;
            if e & (pte::PRESENT | pte::SWAPPED) != 0 {
                self.read(addr + off, &mut buf[..k]).ok()?;
                self.write(new + off, &buf[..k]).ok()?;
            }
            off += k as u64;
        }
        let _ = self.os.munmap(self.mmu, self.p, addr, old_len, self.sink);
        Some(new)
    }
    fn map_fixed(&mut self, addr: u64, len: u64) -> bool {
        let ps = self.mmu.page_size();
        let start = addr & !(ps - 1);
        let Some(end) = addr
            .checked_add(len)
            .and_then(|e| e.checked_add(ps - 1))
            .map(|e| e & !(ps - 1))
        else {
            return false;
        };
        if end <= start
            || end > self.os.user_limit()
            || !self.os.procs[self.p].vmas.is_free(start, end)
        {
            return false;
        }
        self.os.map_fixed(
            self.p,
            start,
            end - start,
            Perms::RW,
            false,
            None,
            Role::Mmap,
            "[heap]".into(),
        );
        self.sink.push(Event::Mmap {
            pid: self.os.procs[self.p].pid,
            start,
            len: end - start,
            perms: Perms::RW.rwx(),
            what: "the teaching heap".into(),
        });
        true
    }
    fn explain(&mut self, call: &str, result: u64, detail: String) {
        let pid = self.os.procs[self.p].pid;
        let radix = self.radix;
        self.sink.push(Event::Alloc {
            pid,
            call: call.to_string(),
            result,
            detail,
            radix,
        });
    }
    fn explaining(&self) -> bool {
        self.sink.wants()
    }
}

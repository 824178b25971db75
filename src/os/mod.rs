//! The OS model: processes, their mappings (VMAs), the Linux layout, the page-fault handler and
//! the memory system calls (brk, mmap, munmap, mprotect). Never sees the AST.

pub mod config;
mod evict;
pub mod layout;
mod lean;
pub mod smaps;
pub mod vma;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Arch;
use crate::events::{Event, EventSink, MajorReason, MinorReason, SegvCode};
use crate::machine::pagemap::PageMap;
use crate::machine::pagetable::pte;
use crate::machine::{Access, Asid, Fault, FrameUse, Mmu};
use crate::units;
pub use config::OsConfig;
pub use lean::LeanRun;
#[cfg(test)]
pub use lean::LEAN_RUNS;
pub use vma::{Backing, Perms, Role, Vma, VmaSet};

/// A file whose pages can be mapped; its cached pages are shared by every process mapping it.
#[derive(Debug, Clone)]
pub struct FileObj {
    pub name: String,
    /// Page index → frame, for pages in the page cache. Looked up, filled and emptied on
    /// every fault of a replay, never listed: a hash map, not a tree.
    pub cache: PageMap<u64>,
    /// Pages of this file count as already cached (libc is always in memory on a real system).
    pub always_cached: bool,
    /// Contents of pages written back from the page cache (dirty shared pages that were
    /// evicted); a page not here reads from `host`, or as zeros. Sparse: only written pages
    /// cost memory.
    pub store: BTreeMap<u64, Box<[u8]>>,
    /// The host file whose bytes the pages hold (`file "PATH"`), read a page at a time when a
    /// page is first brought in, never written.
    pub host: Option<PathBuf>,
    /// The host file's length in bytes when it was opened: a page past its last page raises
    /// SIGBUS, as on Linux.
    pub size: Option<u64>,
    /// A trace's backing store, indexed by address: its page numbers are shown in hex.
    pub by_address: bool,
    /// Every mapping of this file puts page `n` at address `at + n * page_size` (a trace's
    /// backing store at 0, a reference string's file at its region), so eviction finds a
    /// page's mapping in each process with one lookup instead of a walk over the mappings.
    /// `None` once any mapping puts the file elsewhere.
    pub at: Option<u64>,
}

/// Per-process counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStats {
    pub minor: u64,
    pub major: u64,
    pub segv: u64,
    /// Bus errors (SIGBUS), caught or not.
    pub sigbus: u64,
    pub stack_growths: u64,
    pub cow_copies: u64,
    /// Frames this process's faults took from another page.
    pub evictions: u64,
    pub swap_ins: u64,
    pub swap_outs: u64,
    /// Dirty file pages written back to their file on eviction (refs' `3w` pages).
    pub writebacks: u64,
}

/// Why a process is no longer running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Death {
    /// Killed by SIGSEGV (exit status 139).
    Segv { vaddr: u64, code: SegvCode },
    /// SIGABRT from glibc (exit status 134).
    Abort { message: String },
    /// Killed by the OOM killer (SIGKILL, exit status 137).
    Oom,
    /// Killed by SIGBUS (exit status 135): a file mapping touched past the file's last page.
    Bus { vaddr: u64 },
}

impl Death {
    pub fn status(&self) -> i32 {
        match self {
            Death::Segv { .. } => 139,
            Death::Abort { .. } => 134,
            Death::Oom => 137,
            Death::Bus { .. } => 135,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Thread {
    pub name: String,
    pub stack_start: u64,
    pub stack_end: u64,
    /// The thread's stack pointer.
    pub sp: u64,
}

#[derive(Debug, Clone)]
pub struct Process {
    pub pid: u32,
    pub name: String,
    pub asid: Asid,
    pub vmas: VmaSet,
    /// Where the heap starts (the page after bss) and the current program break.
    pub brk_start: u64,
    pub brk: u64,
    /// The highest address of the main stack (exclusive) and its rlimit.
    pub stack_end: u64,
    pub stack_limit: u64,
    /// The stack pointer: moves with `call` frames.
    pub sp: u64,
    /// Whether the process has a main stack (a teaching machine's explicit layout may not).
    pub has_stack: bool,
    pub threads: Vec<Thread>,
    pub death: Option<Death>,
    pub stats: ProcStats,
    /// Where the top-down mmap search starts.
    pub mmap_base: u64,
    /// The region `refs` uses, once created: its start and its length in pages.
    pub refs_region: Option<(u64, u64)>,
    /// Whether the scenario wrote this process's regions (`process NAME { text … }`) rather
    /// than taking the built-in program's: a trace replay honours only declared mappings.
    pub declared_layout: bool,
}

/// A trap: why an access could not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trap {
    Segv {
        vaddr: u64,
        access: Access,
        code: SegvCode,
        detail: String,
    },
    Oom {
        vaddr: u64,
    },
    /// SIGBUS (`BUS_ADRERR`): a page of a file mapping that lies wholly past the end of the file.
    Bus {
        vaddr: u64,
        access: Access,
        detail: String,
    },
}

/// An error from a system call, as errno would say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SysError {
    #[error("ENOMEM: {0}")]
    NoMem(String),
    #[error("EINVAL: {0}")]
    Inval(String),
}

impl SysError {
    /// The errno's name: `ENOMEM`, `EINVAL`.
    pub fn errno(&self) -> &'static str {
        match self {
            SysError::NoMem(_) => "ENOMEM",
            SysError::Inval(_) => "EINVAL",
        }
    }
    /// The rule that refused the call.
    pub fn reason(&self) -> &str {
        match self {
            SysError::NoMem(r) | SysError::Inval(r) => r,
        }
    }
}

/// Stack guard gap: the stack never grows within this many pages of another mapping.
pub const STACK_GUARD_GAP_PAGES: u64 = 256;

/// The most processes and threads a machine holds, dead processes included (they stay in the
/// table, as zombies do until reaped): past it `fork()` fails with EAGAIN, as Linux's fails past
/// `ulimit -u`, and so does a new thread. Each costs host memory, so a loop must end somewhere.
pub const MAX_PROCS: usize = 4096;

#[derive(Debug, Clone)]
pub struct Os {
    pub procs: Vec<Process>,
    pub files: Vec<FileObj>,
    page_size: u64,
    /// Lowest address outside user space (2^47 on x86-64).
    user_limit: u64,
    /// How Linux lays a process out on this machine; `None` on a teaching machine.
    linux: Option<layout::Linux>,
    cfg: OsConfig,
    /// The scenario's seed: ASLR draws each process's offsets from it and the pid.
    seed: u64,
    next_pid: u32,
    /// While a trace replays: an access outside the mappings the scenario declared belongs to
    /// the traced program, and gets a page of its backing store instead of a SIGSEGV
    /// (policies.md, "`refs` and `trace`").
    pub auto_map: bool,
    /// The mapping the fault path found last (see `lean.rs`).
    last_mapping: Option<lean::MappingFacts>,
}

impl Os {
    /// The OS of `mmu`'s machine, with no process yet; `arch` decides whose Linux layout a
    /// machine of that architecture's shape gets.
    pub fn new(mmu: &Mmu, os: &OsConfig, arch: Arch, seed: u64) -> Self {
        let cfg = mmu.config();
        let linux = layout::Linux::of(arch, cfg);
        let user_limit = if let Some(l) = &linux {
            l.user_limit
        } else if cfg.va_bits >= 39 {
            1u64 << (cfg.va_bits - 1)
        } else {
            1u64 << cfg.va_bits
        };
        Os {
            procs: Vec::new(),
            files: Vec::new(),
            page_size: cfg.page_size,
            user_limit,
            linux,
            cfg: *os,
            seed,
            next_pid: 1000,
            auto_map: false,
            last_mapping: None,
        }
    }

    pub fn page_size(&self) -> u64 {
        self.page_size
    }
    pub fn user_limit(&self) -> u64 {
        self.user_limit
    }
    pub fn config(&self) -> &OsConfig {
        &self.cfg
    }
    /// The Linux layout processes get, or `None` on a teaching machine.
    pub fn linux(&self) -> Option<&layout::Linux> {
        self.linux.as_ref()
    }

    /// The file with this name, opened once and shared.
    pub fn file(&mut self, name: &str, always_cached: bool) -> u32 {
        if let Some(i) = self
            .files
            .iter()
            .position(|f| f.name == name && f.host.is_none())
        {
            return i as u32;
        }
        self.files.push(FileObj {
            name: name.to_string(),
            cache: PageMap::default(),
            always_cached,
            store: BTreeMap::new(),
            host: None,
            size: None,
            by_address: false,
            at: None,
        });
        (self.files.len() - 1) as u32
    }

    /// The host file at `host`, named `name` (as the scenario wrote it), opened once: every
    /// process that maps it shares its page cache.
    pub fn host_file(&mut self, name: &str, host: &Path) -> u32 {
        if let Some(i) = self
            .files
            .iter()
            .position(|f| f.host.as_deref() == Some(host))
        {
            return i as u32;
        }
        self.files.push(FileObj {
            name: name.to_string(),
            cache: PageMap::default(),
            always_cached: false,
            store: BTreeMap::new(),
            host: Some(host.to_path_buf()),
            size: std::fs::metadata(host).ok().map(|m| m.len()),
            by_address: false,
            at: None,
        });
        (self.files.len() - 1) as u32
    }

    pub fn new_pid(&mut self) -> u32 {
        self.next_pid += 1;
        self.next_pid - 1
    }

    pub fn proc_index(&self, pid: u32) -> Option<usize> {
        self.procs.iter().position(|p| p.pid == pid)
    }

    #[inline]
    fn page_floor(&self, a: u64) -> u64 {
        a & !(self.page_size - 1)
    }
    /// `a` rounded up to a page; `None` past the top of the 64-bit space.
    fn page_ceil(&self, a: u64) -> Option<u64> {
        a.checked_next_multiple_of(self.page_size)
    }

    /// How close the stack may grow to the mapping below it: Linux's 256 pages, or one page on
    /// a small teaching address space (256 pages may be all of it).
    pub fn stack_guard_gap(&self) -> u64 {
        if self.user_limit >= 1 << 32 {
            STACK_GUARD_GAP_PAGES * self.page_size
        } else {
            self.page_size
        }
    }

    /// Says in the trace which rule refused a system call, and hands the error back.
    fn refuse(&self, p: usize, sink: &mut EventSink, call: String, e: SysError) -> SysError {
        if sink.wants() {
            sink.push(Event::SyscallFailed {
                pid: self.procs[p].pid,
                result: if call.starts_with("mmap") {
                    "MAP_FAILED".into()
                } else {
                    "-1".into()
                },
                call,
                errno: e.errno().into(),
                reason: e.reason().into(),
            });
        }
        e
    }

    /// Translates one access of process `p`, handling page faults as Linux would. On success
    /// returns the physical address.
    #[inline(always)]
    pub fn access(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        access: Access,
        sink: &mut EventSink,
    ) -> Result<u64, Trap> {
        let asid = self.procs[p].asid;
        mmu.stats.references += 1;
        match mmu.translate(asid, vaddr, access) {
            Ok(pa) => Ok(pa),
            Err(f) => self.access_faulted(mmu, p, vaddr, access, f, sink),
        }
    }

    /// The rest of an access whose first translation (`fault`) faulted: out of line, so the
    /// common case does not pay for the fault handler's registers. The reference is counted
    /// already.
    #[inline(never)]
    pub fn access_faulted(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        access: Access,
        fault: Fault,
        sink: &mut EventSink,
    ) -> Result<u64, Trap> {
        let asid = self.procs[p].asid;
        self.fault(mmu, p, vaddr, access, fault, sink)?;
        // A fault is resolved in at most two rounds (a write to a not-present private file
        // page reads it, then copies it); the third translation must succeed.
        for _ in 0..2 {
            // The instruction restarts after the fault: the same access, not a new one.
            mmu.stats.accesses -= 1;
            match mmu.translate(asid, vaddr, access) {
                Ok(pa) => return Ok(pa),
                Err(f) => self.fault(mmu, p, vaddr, access, f, sink)?,
            }
        }
        Err(Trap::Oom { vaddr })
    }

    fn segv(
        &mut self,
        p: usize,
        vaddr: u64,
        access: Access,
        code: SegvCode,
        detail: String,
    ) -> Trap {
        self.procs[p].stats.segv += 1;
        Trap::Segv {
            vaddr,
            access,
            code,
            detail,
        }
    }

    /// Where the kernel's half of the address space starts: the lowest address whose bits above
    /// the translated ones are all ones (`0xffff800000000000` with 48 bits), or the end of user
    /// space on a machine whose addresses are not sign-extended.
    fn kernel_start(&self, mmu: &Mmu) -> u64 {
        let bits = mmu.config().va_bits;
        if let Some(k) = self.linux.as_ref().and_then(|l| l.kernel_start) {
            k
        } else if (39..64).contains(&bits) {
            !((1u64 << (bits - 1)) - 1)
        } else {
            self.user_limit
        }
    }

    /// A canonical address: user space, or the kernel's half (sign-extended). Machines of fewer
    /// than 39 bits have no kernel half above their user space: everything past it is out of
    /// range.
    fn is_canonical(&self, mmu: &Mmu, vaddr: u64) -> bool {
        let bits = mmu.config().va_bits;
        vaddr < self.user_limit
            || (bits >= 39 && (vaddr >= self.kernel_start(mmu) || vaddr < 1u64 << (bits - 1)))
    }

    /// The page-fault handler.
    fn fault(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        access: Access,
        fault: Fault,
        sink: &mut EventSink,
    ) -> Result<(), Trap> {
        if vaddr >= self.user_limit || fault == Fault::OutOfRange {
            // Only a non-canonical address raises a general-protection fault (SI_KERNEL, address
            // 0); a canonical kernel address is an ordinary page fault on a page user code may
            // not touch, reported with the address itself, as Linux does.
            if !self.is_canonical(mmu, vaddr) && mmu.config().va_bits < 39 {
                let detail = format!(
                    "{} is past the end of user space at {}, outside the machine's {}-bit addresses: the kernel reports address 0",
                    units::addr(vaddr),
                    units::addr(self.user_limit),
                    mmu.config().va_bits
                );
                return Err(self.segv(p, 0, access, SegvCode::Kernel, detail));
            }
            if !self.is_canonical(mmu, vaddr) {
                let detail = format!(
                    "{} is not a canonical address (user space ends at {}; the kernel's half starts at {}): a general-protection fault, and the kernel reports address 0",
                    units::addr(vaddr),
                    units::addr(self.user_limit),
                    units::addr(self.kernel_start(mmu))
                );
                return Err(self.segv(p, 0, access, SegvCode::Kernel, detail));
            }
            let bits = mmu.config().va_bits;
            let detail = match self.procs[p].vmas.find(vaddr) {
                None if bits < 64 && vaddr < 1u64 << (bits - 1) => format!(
                    "{} is above the {}-bit user space Linux gives a program that does not ask for more (only an mmap hint above {} reaches the rest of the {bits}-bit half): an invalid page",
                    units::addr(vaddr),
                    self.user_limit.trailing_zeros(),
                    units::addr(self.user_limit)
                ),
                Some(v) => format!(
                    "{} is in {} ({}-{} {}p), which user code may only call (vsyscall=xonly): any load or store there is a page fault on a kernel address",
                    units::addr(vaddr),
                    v.describe(),
                    units::addr(v.start),
                    units::addr(v.end),
                    v.perms.rwx()
                ),
                None => format!(
                    "{} is in the kernel's half of the address space (from {}), which user code may not touch: an invalid page",
                    units::addr(vaddr),
                    units::addr(self.kernel_start(mmu))
                ),
            };
            return Err(self.segv(p, vaddr, access, SegvCode::MapErr, detail));
        }
        let mut fault = fault;
        let vma = match self.procs[p].vmas.find(vaddr) {
            Some(v) if !self.auto_map || self.is_declared(p, v) => v.clone(),
            Some(_) => {
                // A trace's page where the built-in program has one: the traced program has
                // its own, which replaces it.
                let start = self.page_floor(vaddr);
                self.procs[p]
                    .vmas
                    .remove_range(start, start + self.page_size);
                let asid = self.procs[p].asid;
                self.unmap_page(mmu, asid, vaddr >> mmu.page_shift());
                fault = Fault::NotPresent { pte: 0 };
                self.trace_mapping(p, vaddr)
            }
            None if self.auto_map => self.trace_mapping(p, vaddr),
            None => match self.grow_stack(p, vaddr, sink) {
                Some(v) => v,
                None => {
                    let detail = self.describe_unmapped(p, vaddr);
                    return Err(self.segv(p, vaddr, access, SegvCode::MapErr, detail));
                }
            },
        };
        let allowed = match access {
            Access::Read => vma.perms.r,
            Access::Write => vma.perms.w,
            Access::Exec => vma.perms.x,
        };
        if !allowed {
            let detail = format!(
                "{} is in {} ({}-{} {}{}), which does not allow a {}",
                units::addr(vaddr),
                vma.describe(),
                units::addr(vma.start),
                units::addr(vma.end),
                vma.perms.rwx(),
                if vma.shared { 's' } else { 'p' },
                access.name()
            );
            return Err(self.segv(p, vaddr, access, SegvCode::AccErr, detail));
        }
        let asid = self.procs[p].asid;
        let vpn = vaddr >> mmu.page_shift();
        // Named only when someone reads it: with the trace off a fault allocates no string.
        let region = if sink.wants() {
            vma.describe()
        } else {
            String::new()
        };
        match fault {
            Fault::NotPresent { pte: old } => {
                if old & pte::SWAPPED != 0 {
                    return self.swap_in(mmu, p, vaddr, access, old, &vma, sink);
                }
                match vma.backing {
                    Backing::Anon if access != Access::Write => {
                        let zero = mmu.zero_pfn();
                        let bits = (vma.perms.pte_bits() & !pte::WRITE) | pte::READ;
                        mmu.set_pte(
                            asid,
                            vpn,
                            zero << pte::PFN_SHIFT | pte::PRESENT | pte::ZERO | bits,
                        );
                        self.minor(p, sink, vaddr, access, MinorReason::ZeroPage, zero, region);
                    }
                    Backing::Anon => {
                        let pfn = self.new_frame(
                            mmu,
                            p,
                            vaddr,
                            FrameUse::Anon { asid, vpn },
                            None,
                            sink,
                        )?;
                        self.map(mmu, asid, vpn, pfn, vma.perms.pte_bits());
                        self.minor(p, sink, vaddr, access, MinorReason::DemandZero, pfn, region);
                    }
                    Backing::File { file, offset } => {
                        let page = (offset + (self.page_floor(vaddr) - vma.start)) / self.page_size;
                        let f = &self.files[file as usize];
                        let (pfn, major) = match f.cache.get(&page) {
                            Some(&pfn) => (pfn, false),
                            None => {
                                if let Some(size) =
                                    f.size.filter(|&n| page >= n.div_ceil(self.page_size))
                                {
                                    let region = vma.describe();
                                    let place = if region == f.name {
                                        String::new()
                                    } else {
                                        format!("in {region}, ")
                                    };
                                    let detail = format!(
                                        "{} is {place}at page {page} of \"{}\", past its end: the file has {} ({})",
                                        units::addr(vaddr),
                                        f.name,
                                        units::count(size.div_ceil(self.page_size), "page"),
                                        units::count(size, "byte"),
                                    );
                                    self.procs[p].stats.sigbus += 1;
                                    return Err(Trap::Bus {
                                        vaddr,
                                        access,
                                        detail,
                                    });
                                }
                                let cached = f.always_cached;
                                let pfn = self.new_frame(
                                    mmu,
                                    p,
                                    vaddr,
                                    FrameUse::File { file, page },
                                    None,
                                    sink,
                                )?;
                                // A page written back earlier reads back as it was written;
                                // another reads from the host file, if there is one.
                                let f = &self.files[file as usize];
                                if let Some(b) = f.store.get(&page) {
                                    mmu.write_phys(pfn << mmu.page_shift(), b);
                                } else if let Some(host) = &f.host {
                                    let bytes =
                                        read_page(host, page * self.page_size, self.page_size);
                                    if bytes.iter().any(|&b| b != 0) {
                                        mmu.write_phys(pfn << mmu.page_shift(), &bytes);
                                    }
                                }
                                self.files[file as usize].cache.insert(page, pfn);
                                (pfn, !cached)
                            }
                        };
                        let private_write = !vma.shared && access == Access::Write;
                        let mut bits = vma.perms.pte_bits() | pte::FILE;
                        if !vma.shared && vma.perms.w {
                            // A private file page is shared with the page cache until written.
                            bits = (bits & !pte::WRITE) | pte::COW;
                        }
                        self.map(mmu, asid, vpn, pfn, bits);
                        if major {
                            self.procs[p].stats.major += 1;
                            if sink.wants() {
                                sink.push(Event::MajorFault {
                                    pid: self.procs[p].pid,
                                    vaddr,
                                    access,
                                    reason: MajorReason::FileRead,
                                    pfn,
                                    region,
                                });
                            }
                        } else {
                            self.minor(p, sink, vaddr, access, MinorReason::PageCache, pfn, region);
                        }
                        if private_write {
                            // Same fault: the handler copies right away, as Linux's
                            // do_cow_fault does; counted once.
                            self.cow(mmu, p, &vma, vaddr, vpn, sink)?;
                        }
                    }
                }
            }
            Fault::Protection { pte: old } => {
                let reason = if old & pte::ZERO != 0 {
                    let pfn =
                        self.new_frame(mmu, p, vaddr, FrameUse::Anon { asid, vpn }, None, sink)?;
                    self.map(mmu, asid, vpn, pfn, vma.perms.pte_bits());
                    (MinorReason::ZeroPageWrite, pfn)
                } else if old & pte::COW != 0 {
                    let pfn = self.cow(mmu, p, &vma, vaddr, vpn, sink)?;
                    if pfn == pte::pfn(old) {
                        (MinorReason::CopyOnWriteLast, pfn)
                    } else {
                        (MinorReason::CopyOnWrite, pfn)
                    }
                } else {
                    // The entry lags behind the mapping's permissions: refresh it silently.
                    let keep = old & !(pte::PERMS);
                    mmu.set_pte(asid, vpn, keep | vma.perms.pte_bits());
                    return Ok(());
                };
                self.minor(p, sink, vaddr, access, reason.0, reason.1, region);
            }
            // Answered above, before looking for a mapping.
            Fault::OutOfRange => {}
        }
        Ok(())
    }

    /// Counts a minor fault and, when the trace is on, says why it happened.
    #[allow(clippy::too_many_arguments)]
    fn minor(
        &mut self,
        p: usize,
        sink: &mut EventSink,
        vaddr: u64,
        access: Access,
        reason: MinorReason,
        pfn: u64,
        region: String,
    ) {
        self.procs[p].stats.minor += 1;
        if sink.wants() {
            sink.push(Event::MinorFault {
                pid: self.procs[p].pid,
                vaddr,
                access,
                reason,
                pfn,
                region,
            });
        }
    }

    /// Gives a copy-on-write page its own frame (or takes over the frame if nobody else maps
    /// it) and maps it writable. Returns the frame.
    fn cow(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vma: &Vma,
        vaddr: u64,
        vpn: u64,
        sink: &mut EventSink,
    ) -> Result<u64, Trap> {
        let asid = self.procs[p].asid;
        let old = mmu.pte(asid, vpn);
        let old_pfn = pte::pfn(old);
        let sole_anon = old & pte::FILE == 0 && mmu.frame(old_pfn).is_some_and(|f| f.mapcount == 1);
        if sole_anon {
            mmu.set_pte(asid, vpn, (old & !pte::COW) | vma.perms.pte_bits());
            return Ok(old_pfn);
        }
        // The source frame must survive finding a frame for the copy.
        let pin = (old & pte::ZERO == 0).then_some(old_pfn);
        let pfn = self.new_frame(mmu, p, vaddr, FrameUse::Anon { asid, vpn }, pin, sink)?;
        mmu.copy_frame(old_pfn, pfn);
        self.unmap_page(mmu, asid, vpn);
        self.map(mmu, asid, vpn, pfn, vma.perms.pte_bits());
        self.procs[p].stats.cow_copies += 1;
        Ok(pfn)
    }

    /// A zeroed frame for a page of process `p`: a free one, or one the replacement policy
    /// frees by evicting its page. `pin` is a frame that must not be chosen.
    fn new_frame(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        vaddr: u64,
        used: FrameUse,
        pin: Option<u64>,
        sink: &mut EventSink,
    ) -> Result<u64, Trap> {
        let asid = self.procs[p].asid;
        loop {
            if let Some(pfn) = mmu.alloc_frame_for(used, asid) {
                mmu.zero_frame(pfn);
                return Ok(pfn);
            }
            if !self.evict(mmu, p, pin, sink) {
                return Err(Trap::Oom { vaddr });
            }
        }
    }

    fn map(&mut self, mmu: &mut Mmu, asid: Asid, vpn: u64, pfn: u64, bits: u64) {
        mmu.set_pte(asid, vpn, pfn << pte::PFN_SHIFT | pte::PRESENT | bits);
        if let Some(f) = mmu.frame_mut(pfn) {
            f.mapcount += 1;
        }
    }

    /// A process's end, as Linux's `exit_mmap`: every page is unmapped, so its anonymous
    /// frames go back to the free list and its swap slots are released. The mappings stay listed
    /// (empty) so that post-mortem expressions such as `heap.start` still read them.
    pub fn exit_mm(&mut self, mmu: &mut Mmu, p: usize) {
        let asid = self.procs[p].asid;
        let pages: Vec<u64> = mmu
            .page_table(asid)
            .into_iter()
            .map(|(vpn, _)| vpn)
            .collect();
        for vpn in pages {
            self.unmap_page(mmu, asid, vpn);
        }
    }

    /// Drops one page's mapping; frees an anonymous frame nobody maps any more.
    fn unmap_page(&mut self, mmu: &mut Mmu, asid: Asid, vpn: u64) {
        let e = mmu.pte(asid, vpn);
        if e == 0 {
            return;
        }
        mmu.set_pte(asid, vpn, 0);
        if e & pte::PRESENT == 0 && e & pte::SWAPPED != 0 {
            mmu.swap_free(pte::pfn(e));
            return;
        }
        if e & pte::PRESENT == 0 || e & pte::ZERO != 0 {
            return;
        }
        let pfn = pte::pfn(e);
        let (free, orphaned) = match mmu.frame_mut(pfn) {
            Some(f) => {
                f.mapcount = f.mapcount.saturating_sub(1);
                let anon = matches!(f.used, FrameUse::Anon { .. });
                let owner = f.used == FrameUse::Anon { asid, vpn };
                (f.mapcount == 0 && anon, f.mapcount > 0 && owner)
            }
            None => (false, false),
        };
        if orphaned {
            // A page shared since a fork stays with the processes that still map it: eviction
            // must find it through one of them, never through the page table that let it go
            // (it would swap out that table's new page and leave the frame mapped but freed).
            let heir = self.procs.iter().map(|q| q.asid).find(|&a| {
                a != asid && mmu.pte(a, vpn) & pte::PRESENT != 0 && pte::pfn(mmu.pte(a, vpn)) == pfn
            });
            if let (Some(a), Some(f)) = (heir, mmu.frame_mut(pfn)) {
                f.used = FrameUse::Anon { asid: a, vpn };
                f.asid = a;
            }
        }
        if free {
            if let Some(slot) = mmu.frame(pfn).and_then(|f| f.swap_slot) {
                mmu.swap_free(slot);
            }
            mmu.free_frame(pfn);
        }
    }

    /// Grows the main stack down to cover `vaddr` if Linux would: within the rlimit, and not
    /// within the guard gap of another mapping.
    fn grow_stack(&mut self, p: usize, vaddr: u64, sink: &mut EventSink) -> Option<Vma> {
        let proc_ = &self.procs[p];
        let stack = proc_.vmas.find_role(Role::Stack)?.clone();
        if vaddr >= stack.start {
            return None;
        }
        let lowest = proc_.stack_end.checked_sub(proc_.stack_limit)?;
        if vaddr < lowest {
            return None;
        }
        let new_start = self.page_floor(vaddr);
        let gap = self.stack_guard_gap();
        if let (Some(below), _) = proc_.vmas.neighbours(new_start) {
            if below.end.saturating_add(gap) > new_start {
                return None;
            }
        }
        let pid = proc_.pid;
        self.procs[p].vmas.resize(stack.start, new_start, stack.end);
        self.procs[p].stats.stack_growths += 1;
        sink.push(Event::StackGrowth {
            pid,
            old_start: stack.start,
            new_start,
        });
        self.procs[p].vmas.find(vaddr).cloned()
    }

    /// A sentence placing an address that no mapping covers, in the seed's terms.
    pub fn describe_unmapped(&self, p: usize, vaddr: u64) -> String {
        let proc_ = &self.procs[p];
        if vaddr < self.page_size {
            return format!(
                "{} is in page 0, which is never mapped (a NULL pointer dereference): an invalid page",
                units::addr(vaddr)
            );
        }
        let (below, above) = proc_.vmas.neighbours(vaddr);
        if let Some(s) = proc_.vmas.find_role(Role::Stack) {
            let lowest = proc_.stack_end.saturating_sub(proc_.stack_limit);
            if vaddr < s.start && vaddr.saturating_add(self.page_size) >= lowest && vaddr < lowest {
                return format!(
                    "{} is below the stack's limit of {} (it may grow down to {}): a stack overflow",
                    units::addr(vaddr),
                    units::size(proc_.stack_limit),
                    units::addr(lowest)
                );
            }
            // Linux tries to grow the stack for any address between it and the mapping below,
            // so the stack's limit or its guard gap is what refused the access.
            if above.is_some_and(|a| a.start == s.start) {
                if vaddr < lowest {
                    return format!(
                        "{} is {} below the lowest address the stack may grow to ({}, its limit of {} below the top), in no mapping: a stack overflow or a wild pointer",
                        units::addr(vaddr),
                        units::size(lowest - vaddr),
                        units::addr(lowest),
                        units::size(proc_.stack_limit)
                    );
                }
                if let Some(b) = below {
                    return format!(
                        "{} is below the stack, within its guard gap of {} above {} (ending at {}), so the stack may not grow there: an invalid page",
                        units::addr(vaddr),
                        units::size(self.stack_guard_gap()),
                        b.describe(),
                        units::addr(b.end)
                    );
                }
            }
        }
        match (below, above) {
            // A page unmapped from the middle of a mapping: the hole is what to name.
            (Some(b), Some(a)) if a.start - b.end < (1 << 30) && b.describe() == a.describe() => {
                format!(
                    "{} is in a {} hole in {} ({}-{}), in no mapping: an invalid page",
                    units::addr(vaddr),
                    units::size(a.start - b.end),
                    b.describe(),
                    units::addr(b.end),
                    units::addr(a.start)
                )
            }
            (Some(b), _) if vaddr == b.end => format!(
                "{} is the first byte past the end of {}, in no mapping: an invalid page",
                units::addr(vaddr),
                b.describe()
            ),
            (Some(b), _) if vaddr - b.end < (1 << 30) => format!(
                "{} is {} past the end of {} at {}, in no mapping: an invalid page",
                units::addr(vaddr),
                units::size(vaddr - b.end),
                b.describe(),
                units::addr(b.end)
            ),
            (_, Some(a)) => format!(
                "{} is {} below the start of {} at {}, in no mapping: an invalid page",
                units::addr(vaddr),
                units::size(a.start - vaddr),
                a.describe(),
                units::addr(a.start)
            ),
            _ => format!("{} is in no mapping: an invalid page", units::addr(vaddr)),
        }
    }

    // -----------------------------------------------------------------------------------------
    // System calls

    /// `brk(addr)`: moves the program break; returns the new break (unchanged on failure, as
    /// the kernel does).
    pub fn brk(&mut self, mmu: &mut Mmu, p: usize, addr: u64, sink: &mut EventSink) -> u64 {
        let (start, old) = (self.procs[p].brk_start, self.procs[p].brk);
        // `brk(0)` and anything below the heap's start only ask where the break is.
        if addr < start {
            return old;
        }
        let refused = |why: String| SysError::NoMem(why);
        // The heap's end, rounded up to a page, must stay inside user space.
        let new_end = self.page_ceil(addr).filter(|&e| e <= self.user_limit);
        let why = new_end.is_none().then(|| {
            refused(format!(
                "{} is past the end of user space at {}",
                units::addr(addr),
                units::addr(self.user_limit)
            ))
        });
        // The old break was accepted, so its page end is inside user space.
        let old_end = self.page_ceil(old).unwrap_or(old);
        let new_end = new_end.unwrap_or(old_end);
        let why = why.or_else(|| {
            let vmas = &self.procs[p].vmas;
            (new_end > old_end && !vmas.is_free(old_end, new_end)).then(|| {
                let other = vmas
                    .iter()
                    .find(|v| v.start < new_end && old_end < v.end)
                    .map_or_else(|| "another mapping".into(), Vma::describe);
                refused(format!(
                    "the heap would run into {other} ({})",
                    units::addr(new_end)
                ))
            })
        });
        if let Some(e) = why {
            if sink.wants() {
                sink.push(Event::SyscallFailed {
                    pid: self.procs[p].pid,
                    call: format!("brk({})", units::addr(addr)),
                    result: format!("{} (unchanged)", units::addr(old)),
                    errno: e.errno().into(),
                    reason: e.reason().into(),
                });
            }
            return old;
        }
        if new_end > old_end {
            // The heap's top piece grows: mprotect or munmap may have split the heap, and only
            // the piece ending at the old break can extend.
            let top = old_end
                .checked_sub(1)
                .and_then(|a| self.procs[p].vmas.find(a))
                .filter(|v| v.role == Role::Heap && v.end == old_end && v.perms == Perms::RW)
                .map(|v| v.start);
            match top {
                Some(s) => {
                    self.procs[p].vmas.resize(s, s, new_end);
                }
                None => self.procs[p].vmas.insert(Vma {
                    start: old_end,
                    end: new_end,
                    perms: Perms::RW,
                    shared: false,
                    backing: Backing::Anon,
                    role: Role::Heap,
                    name: "[heap]".into(),
                }),
            }
        } else if new_end < old_end {
            // Splitting leaves the heap's lower part in place.
            self.unmap_range(mmu, p, new_end, old_end);
        }
        self.procs[p].brk = addr;
        sink.push(Event::Brk {
            pid: self.procs[p].pid,
            old,
            new: addr,
        });
        addr
    }

    /// `mmap(NULL, len, perms, flags)`: places the mapping top-down below the libraries.
    pub fn mmap(
        &mut self,
        p: usize,
        len: u64,
        perms: Perms,
        shared: bool,
        file: Option<(u32, u64)>,
        sink: &mut EventSink,
    ) -> Result<u64, SysError> {
        let call = || format!("mmap({len:#x}, {})", perms.rwx());
        if len == 0 {
            let e = SysError::Inval("length 0".into());
            return Err(self.refuse(p, sink, call(), e));
        }
        let Some(len) = self.page_ceil(len).filter(|&l| l <= self.user_limit) else {
            let e = SysError::NoMem(format!(
                "length {len:#x} is larger than user space ({})",
                units::size(self.user_limit)
            ));
            return Err(self.refuse(p, sink, call(), e));
        };
        let base = layout::mmap_base(self, p);
        let floor = self.procs[p].brk_start.max(self.page_size);
        let Some(start) = self.procs[p].vmas.top_down_gap(len, base, floor) else {
            let e = SysError::NoMem(format!(
                "no free range of {} between the heap at {} and {}",
                units::size(len),
                units::addr(floor),
                units::addr(base)
            ));
            return Err(self.refuse(p, sink, call(), e));
        };
        self.map_fixed(
            p,
            start,
            len,
            perms,
            shared,
            file,
            Role::Mmap,
            String::new(),
        );
        sink.push(Event::Mmap {
            pid: self.procs[p].pid,
            start,
            len,
            perms: perms.rwx(),
            what: match file {
                Some((f, _)) => self.files[f as usize].name.clone(),
                None => "anonymous".into(),
            },
        });
        Ok(start)
    }

    /// Adds a mapping at a fixed place (the caller checked it is free).
    #[allow(clippy::too_many_arguments)]
    pub fn map_fixed(
        &mut self,
        p: usize,
        start: u64,
        len: u64,
        perms: Perms,
        shared: bool,
        file: Option<(u32, u64)>,
        role: Role,
        name: String,
    ) {
        let v = self.make_vma(start, len, perms, shared, file, role, name);
        self.note_mapping(&v);
        self.procs[p].vmas.insert(v);
    }

    /// Keeps [`FileObj::at`] true of every mapping: one that puts the file elsewhere ends it.
    pub(crate) fn note_mapping(&mut self, v: &Vma) {
        if let Backing::File { file, offset } = v.backing {
            let f = &mut self.files[file as usize];
            if f.at.is_some_and(|at| v.start.wrapping_sub(offset) != at) {
                f.at = None;
            }
        }
    }

    /// The mapping `map_fixed` adds: a file's mapping is named after the file by default.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn make_vma(
        &self,
        start: u64,
        len: u64,
        perms: Perms,
        shared: bool,
        file: Option<(u32, u64)>,
        role: Role,
        name: String,
    ) -> Vma {
        let (backing, name) = match file {
            Some((file, offset)) => (
                Backing::File { file, offset },
                if name.is_empty() {
                    self.files[file as usize].name.clone()
                } else {
                    name
                },
            ),
            None => (Backing::Anon, name),
        };
        Vma {
            start,
            end: start + len,
            perms,
            shared,
            backing,
            role,
            name: name.into(),
        }
    }

    /// `addr` must be page-aligned (EINVAL otherwise), as munmap and mprotect take it.
    fn check_aligned(&self, addr: u64) -> Result<(), SysError> {
        if !addr.is_multiple_of(self.page_size) {
            return Err(SysError::Inval(format!(
                "{} is not page-aligned",
                units::addr(addr)
            )));
        }
        Ok(())
    }

    /// The page-aligned end of munmap's range, by Linux's rules: inside user space (EINVAL
    /// otherwise) and not empty (EINVAL).
    fn munmap_end(&self, addr: u64, len: u64) -> Result<u64, SysError> {
        self.check_aligned(addr)?;
        if addr > self.user_limit || len > self.user_limit - addr {
            return Err(SysError::Inval(format!(
                "length {len:#x} from {} runs past the end of user space at {}",
                units::addr(addr),
                units::addr(self.user_limit)
            )));
        }
        if len == 0 {
            return Err(SysError::Inval("length 0".into()));
        }
        // In user space, so rounding up to a page cannot overflow.
        Ok(self.page_ceil(addr + len).unwrap_or(self.user_limit))
    }

    /// `munmap(addr, len)`.
    pub fn munmap(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        addr: u64,
        len: u64,
        sink: &mut EventSink,
    ) -> Result<(), SysError> {
        let call = || format!("munmap({}, {len:#x})", units::addr(addr));
        let end = match self.munmap_end(addr, len) {
            Ok(end) => end,
            Err(e) => return Err(self.refuse(p, sink, call(), e)),
        };
        self.unmap_range(mmu, p, addr, end);
        sink.push(Event::Munmap {
            pid: self.procs[p].pid,
            start: addr,
            len: end - addr,
        });
        Ok(())
    }

    fn unmap_range(&mut self, mmu: &mut Mmu, p: usize, start: u64, end: u64) {
        self.procs[p].vmas.remove_range(start, end);
        let asid = self.procs[p].asid;
        let shift = mmu.page_shift();
        let (lo, hi) = (start >> shift, end >> shift);
        let pages: Vec<u64> = mmu
            .page_table(asid)
            .into_iter()
            .map(|(vpn, _)| vpn)
            .filter(|&v| v >= lo && v < hi)
            .collect();
        for vpn in pages {
            self.unmap_page(mmu, asid, vpn);
        }
    }

    /// `mprotect(addr, len, perms)`.
    pub fn mprotect(
        &mut self,
        mmu: &mut Mmu,
        p: usize,
        addr: u64,
        len: u64,
        perms: Perms,
        sink: &mut EventSink,
    ) -> Result<(), SysError> {
        let call = || format!("mprotect({}, {len:#x}, {})", units::addr(addr), perms.rwx());
        if let Err(e) = self.check_aligned(addr) {
            return Err(self.refuse(p, sink, call(), e));
        }
        // Linux: an empty range succeeds and changes nothing.
        if len == 0 {
            return Ok(());
        }
        let end = match self.page_ceil(len).and_then(|l| addr.checked_add(l)) {
            Some(end) if end <= self.user_limit => end,
            _ => {
                let e = SysError::NoMem(format!(
                    "length {len:#x} from {} runs past the end of user space at {}",
                    units::addr(addr),
                    units::addr(self.user_limit)
                ));
                return Err(self.refuse(p, sink, call(), e));
            }
        };
        let mut a = addr;
        while a < end {
            match self.procs[p].vmas.find(a) {
                Some(v) => a = v.end,
                None => {
                    let e = SysError::NoMem(format!("{} is not mapped", units::addr(a)));
                    return Err(self.refuse(p, sink, call(), e));
                }
            }
        }
        let pieces = self.procs[p].vmas.remove_range(addr, end);
        for mut v in pieces {
            v.perms = perms;
            self.procs[p].vmas.insert(v);
        }
        let asid = self.procs[p].asid;
        let shift = mmu.page_shift();
        for (vpn, e) in mmu.page_table(asid) {
            if vpn >= addr >> shift && vpn < end >> shift && e & pte::PRESENT != 0 {
                let mut bits = perms.pte_bits();
                if e & (pte::ZERO | pte::COW) != 0 {
                    bits &= !pte::WRITE;
                }
                mmu.set_pte(asid, vpn, (e & !pte::PERMS) | bits);
            }
        }
        sink.push(Event::Mprotect {
            pid: self.procs[p].pid,
            start: addr,
            len: end - addr,
            perms: perms.rwx(),
        });
        Ok(())
    }

    /// `fork()`: a copy of process `p` sharing every private page copy-on-write (the first
    /// write by either side copies the page); shared mappings stay shared. Returns the
    /// child's index.
    pub fn fork(&mut self, mmu: &mut Mmu, p: usize) -> usize {
        let pid = self.new_pid();
        let parent_asid = self.procs[p].asid;
        let shift = mmu.page_shift();
        let mut child = self.procs[p].clone();
        child.pid = pid;
        child.name = format!("{}-{pid}", self.procs[p].name);
        child.stats = ProcStats::default();
        // Private writable pages become copy-on-write in the parent; the child then starts
        // with the very same entries, in tables it shares until one side changes one.
        for (vpn, e) in mmu.page_table(parent_asid) {
            let shared = self.procs[p]
                .vmas
                .find(vpn << shift)
                .is_some_and(|v| v.shared);
            if e & pte::PRESENT != 0 && e & pte::ZERO == 0 {
                if !shared && e & pte::WRITE != 0 {
                    mmu.set_pte(parent_asid, vpn, (e & !pte::WRITE) | pte::COW);
                }
                if let Some(f) = mmu.frame_mut(pte::pfn(e)) {
                    f.mapcount += 1;
                }
            } else if e & pte::PRESENT == 0 && e & pte::SWAPPED != 0 {
                // Both sides now name the slot: it lives until both have let it go.
                mmu.swap_share(pte::pfn(e));
            }
        }
        child.asid = mmu.fork_space(parent_asid);
        self.procs.push(child);
        self.procs.len() - 1
    }

    /// Processes and threads, as `ulimit -u` counts them.
    pub fn tasks(&self) -> usize {
        self.procs.iter().map(|p| 1 + p.threads.len()).sum()
    }

    /// Resident pages of a process (pages with a frame of their own or a shared one; the
    /// zero page does not count), and the bytes of its mappings.
    pub fn rss_pages(&self, mmu: &Mmu, p: usize) -> u64 {
        mmu.page_table(self.procs[p].asid)
            .iter()
            .filter(|(_, e)| e & pte::PRESENT != 0 && e & pte::ZERO == 0)
            .count() as u64
    }
}

/// The bytes of one page of a host file: `len` bytes at `offset`, zeros past the end of the
/// file (as Linux maps the tail of a file's last page). The file was checked before the run; if
/// it has since gone, its pages read as zeros.
fn read_page(host: &Path, offset: u64, len: u64) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut buf = vec![0u8; len as usize];
    if let Ok(mut f) = std::fs::File::open(host) {
        if f.seek(SeekFrom::Start(offset)).is_ok() {
            let mut got = 0;
            while got < buf.len() {
                match f.read(&mut buf[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
    }
    buf
}

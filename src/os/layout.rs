//! Process layouts: the map of a minimal non-PIE C program on Linux x86-64 (glibc 2.36, ASLR
//! off), address for address, and a scaled-down layout for machines with small address spaces.

use std::path::PathBuf;

use super::{Os, Perms, ProcStats, Process, Role, Thread, VmaSet};
use crate::config::Arch;
use crate::events::{Event, EventSink};
use crate::machine::{MachineConfig, Mmu};
use crate::units;

/// A mapping requested in `process NAME { mmap ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct MmapSpec {
    pub name: String,
    pub at: Option<u64>,
    pub size: u64,
    pub perms: Perms,
    /// The file as written and where it is on the host.
    pub file: Option<(String, PathBuf)>,
    pub shared: bool,
}

/// What a new process looks like: region sizes in bytes (rounded up to pages).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSpec {
    pub name: String,
    pub text: u64,
    pub rodata: u64,
    /// `.data.rel.ro` (the default program has one page of it).
    pub relro: u64,
    pub data: u64,
    pub bss: u64,
    pub stack_limit: u64,
    /// Whether the layout lists a stack (every Linux process has one regardless).
    pub stack: bool,
    /// The default program, which a small teaching machine may shrink to fit.
    pub default: bool,
    pub mmaps: Vec<MmapSpec>,
    /// The scenario wrote the regions (a `process NAME { … }` block with regions).
    pub declared: bool,
}

impl ProcessSpec {
    /// The minimal non-PIE C program as Linux x86-64 maps it: one page each of text, rodata, relro,
    /// and data with bss in the same page.
    pub fn default_program(name: &str, stack_limit: u64) -> Self {
        ProcessSpec {
            name: name.to_string(),
            text: 4096,
            rodata: 4096,
            relro: 4096,
            data: 4096,
            bss: 0,
            stack_limit,
            stack: true,
            default: true,
            mmaps: Vec::new(),
            declared: false,
        }
    }
}

/// The shared libraries of the default map: (start, end, perms, file offset, file), then the
/// anonymous and special mappings around them.
const X86_64_LIBS: &[(u64, u64, Perms, u64, &str)] = &[
    (0x7ffff7dd2000, 0x7ffff7dd5000, Perms::RW, 0, ""),
    (0x7ffff7dd5000, 0x7ffff7dfb000, Perms::R, 0, "libc.so.6"),
    (
        0x7ffff7dfb000,
        0x7ffff7f51000,
        Perms::RX,
        0x26000,
        "libc.so.6",
    ),
    (
        0x7ffff7f51000,
        0x7ffff7fa4000,
        Perms::R,
        0x17c000,
        "libc.so.6",
    ),
    (
        0x7ffff7fa4000,
        0x7ffff7fa8000,
        Perms::R,
        0x1cf000,
        "libc.so.6",
    ),
    (
        0x7ffff7fa8000,
        0x7ffff7faa000,
        Perms::RW,
        0x1d3000,
        "libc.so.6",
    ),
    (0x7ffff7faa000, 0x7ffff7fb7000, Perms::RW, 0, ""),
    (0x7ffff7fc0000, 0x7ffff7fc2000, Perms::RW, 0, ""),
    (0x7ffff7fc2000, 0x7ffff7fc6000, Perms::R, 0, "[vvar]"),
    (0x7ffff7fc6000, 0x7ffff7fc8000, Perms::R, 0, "[vvar_vclock]"),
    (0x7ffff7fc8000, 0x7ffff7fca000, Perms::RX, 0, "[vdso]"),
    (
        0x7ffff7fca000,
        0x7ffff7fcb000,
        Perms::R,
        0,
        "ld-linux-x86-64.so.2",
    ),
    (
        0x7ffff7fcb000,
        0x7ffff7ff1000,
        Perms::RX,
        0x1000,
        "ld-linux-x86-64.so.2",
    ),
    (
        0x7ffff7ff1000,
        0x7ffff7ffb000,
        Perms::R,
        0x27000,
        "ld-linux-x86-64.so.2",
    ),
    (
        0x7ffff7ffb000,
        0x7ffff7ffd000,
        Perms::R,
        0x31000,
        "ld-linux-x86-64.so.2",
    ),
    (
        0x7ffff7ffd000,
        0x7ffff7fff000,
        Perms::RW,
        0x33000,
        "ld-linux-x86-64.so.2",
    ),
];

/// The libraries and special mappings of a minimal 32-bit program (`gcc -m32 -no-pie`, Debian
/// 12's glibc 2.36) on an x86-64 kernel with ASLR off, as its `/proc/self/maps` lists them.
const I386_LIBS: &[(u64, u64, Perms, u64, &str)] = &[
    (0xf7d8c000, 0xf7dae000, Perms::R, 0, "libc.so.6"),
    (0xf7dae000, 0xf7f27000, Perms::RX, 0x22000, "libc.so.6"),
    (0xf7f27000, 0xf7fa7000, Perms::R, 0x19b000, "libc.so.6"),
    (0xf7fa7000, 0xf7fa9000, Perms::R, 0x21b000, "libc.so.6"),
    (0xf7fa9000, 0xf7faa000, Perms::RW, 0x21d000, "libc.so.6"),
    (0xf7faa000, 0xf7fb4000, Perms::RW, 0, ""),
    (0xf7fbf000, 0xf7fc1000, Perms::RW, 0, ""),
    (0xf7fc1000, 0xf7fc5000, Perms::R, 0, "[vvar]"),
    (0xf7fc5000, 0xf7fc7000, Perms::R, 0, "[vvar_vclock]"),
    (0xf7fc7000, 0xf7fc9000, Perms::RX, 0, "[vdso]"),
    (0xf7fc9000, 0xf7fca000, Perms::R, 0, "ld-linux.so.2"),
    (0xf7fca000, 0xf7fed000, Perms::RX, 0x1000, "ld-linux.so.2"),
    (0xf7fed000, 0xf7ffb000, Perms::R, 0x24000, "ld-linux.so.2"),
    (0xf7ffb000, 0xf7ffd000, Perms::R, 0x31000, "ld-linux.so.2"),
    (0xf7ffd000, 0xf7ffe000, Perms::RW, 0x33000, "ld-linux.so.2"),
];

/// How Linux lays out a process on one architecture: where user space ends, where the stack
/// and the mmap area start, where the program is loaded, and the libraries mapped before
/// `main` (docs/profiles.md says which of these were measured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linux {
    /// The lowest address past user space the MMU can still reach.
    pub user_limit: u64,
    /// STACK_TOP: where the stack ends with ASLR off (TASK_SIZE; x86-64 keeps a guard page
    /// below 2^47, compat mode two pages below 4 GiB).
    pub stack_top: u64,
    /// The non-PIE program's first page (its ELF header).
    pub exec_base: u64,
    /// ELF_ET_DYN_BASE: where a PIE program goes with ASLR off.
    pub pie_base: u64,
    /// The libraries and special mappings (start, end, perms, file offset, file), each moved
    /// down with the mmap base under ASLR.
    pub libs: &'static [(u64, u64, Perms, u64, &'static str)],
    /// x86-64's `[vsyscall]` page at 0xffffffffff600000.
    pub vsyscall: bool,
    /// Where the kernel's half starts when it is not the sign-extension of the top user bit
    /// (AArch64's TTBR1 half covers the top 2^48).
    pub kernel_start: Option<u64>,
    /// ASLR's bits of pages for the stack, the mmap base and a PIE program (brk always moves
    /// within 32 MiB).
    pub aslr_bits: (u32, u32, u32),
}

impl Linux {
    /// The layout for `arch` on a machine of `machine`'s shape, or `None` for a machine whose
    /// addresses or pages are not those of any Linux memsim models there (a teaching machine).
    pub fn of(arch: Arch, machine: &MachineConfig) -> Option<Linux> {
        let (ps, bits) = (machine.page_size, machine.va_bits);
        match arch {
            // 5-level paging keeps the 4-level user space (2^47) for programs that do not ask
            // for more with an mmap hint above it.
            Arch::X86_64 if ps == 4096 && matches!(bits, 48 | 57) => Some(Linux {
                user_limit: 1 << 47,
                stack_top: (1 << 47) - 4096,
                exec_base: 0x400000,
                pie_base: 0x555555554000,
                libs: X86_64_LIBS,
                vsyscall: true,
                kernel_start: None,
                aslr_bits: (22, 28, 28),
            }),
            // A 32-bit program on a 64-bit kernel (compat mode): TASK_SIZE is 0xffffe000.
            Arch::I386 if ps == 4096 && bits == 32 => Some(Linux {
                user_limit: 1 << 32,
                stack_top: 0xffffe000,
                exec_base: 0x08048000,
                pie_base: 0x56555000,
                libs: I386_LIBS,
                vsyscall: false,
                kernel_start: None,
                // mmap_rnd_compat_bits and the 32-bit STACK_RND_MASK.
                aslr_bits: (11, 8, 8),
            }),
            // 48-bit user space on every granule; PIE at 2/3 of it.
            Arch::Aarch64 if bits == 48 && matches!(ps, 4096 | 16384 | 65536) => Some(Linux {
                user_limit: 1 << 48,
                stack_top: 1 << 48,
                exec_base: 0x400000,
                // AArch64 linkers align segments to 64 KiB, and the kernel the load address
                // to the largest segment alignment.
                pie_base: (2 * (1u64 << 48) / 3) & !0xffff,
                libs: &[],
                vsyscall: false,
                kernel_start: Some(!((1u64 << 48) - 1)),
                // STACK_RND_MASK and the default mmap_rnd_bits shrink with bigger pages.
                aslr_bits: {
                    let b = 18 - (ps.trailing_zeros() - 12);
                    (b, b, b)
                },
            }),
            // Sv39: user space is the lower half of the 39-bit space.
            Arch::Riscv64 if bits == 39 && ps == 4096 => Some(Linux {
                user_limit: 1 << 38,
                stack_top: 1 << 38,
                exec_base: 0x400000,
                pie_base: ((1u64 << 38) / 3 * 2) & !(ps - 1),
                libs: &[],
                vsyscall: false,
                kernel_start: None,
                aslr_bits: (18, 18, 18),
            }),
            _ => None,
        }
    }

    /// mmap_base with ASLR off: the stack's end less the 128 MiB gap Linux keeps for it
    /// (MIN_GAP, more than an 8 MiB rlimit and the guard gap ask for).
    pub fn mmap_base(&self) -> u64 {
        self.stack_top - (128 << 20)
    }
}

/// Where the top-down mmap search starts (below the libraries on x86-64).
pub fn mmap_base(os: &Os, p: usize) -> u64 {
    os.procs[p].mmap_base
}

/// The initial `[stack]` mapping: 132 KiB on Linux.
const INITIAL_STACK: u64 = 132 * 1024;

/// Linux's `vm.mmap_min_addr` on x86-64: nothing is mapped below 64 KiB.
pub const MMAP_MIN_ADDR: u64 = 64 * 1024;

/// Why a process's layout cannot be built: what does not fit, and what would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    pub what: String,
    pub help: String,
}

/// A process's mappings while its layout is planned, before anything is committed.
struct Plan<'a> {
    vmas: VmaSet,
    os: &'a mut Os,
}

impl Plan<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        start: u64,
        len: u64,
        perms: Perms,
        shared: bool,
        file: Option<(u32, u64)>,
        role: Role,
        name: String,
    ) {
        let v = self
            .os
            .make_vma(start, len, perms, shared, file, role, name);
        self.os.note_mapping(&v);
        self.vmas.insert(v);
    }
}

impl Os {
    /// Creates a process with the given layout; returns its index. Nothing changes when the
    /// layout does not fit in user space. A `mmap … at ADDR` that cannot go at ADDR goes
    /// elsewhere, and `sink` gets a line saying where and why.
    pub fn spawn(
        &mut self,
        mmu: &mut Mmu,
        spec: &ProcessSpec,
        sink: &mut EventSink,
    ) -> Result<usize, LayoutError> {
        let linux = self.linux.is_some();
        match self.spawn_layout(mmu, spec, sink) {
            // A teaching machine too small for the default program gets the textbook picture
            // instead: one page each of code and data, the stack at the top.
            Err(_) if spec.default && !linux => {
                let ps = self.page_size();
                let compact = ProcessSpec {
                    text: ps,
                    rodata: 0,
                    relro: 0,
                    data: ps,
                    bss: 0,
                    default: false,
                    ..spec.clone()
                };
                self.spawn_layout(mmu, &compact, sink)
            }
            r => r,
        }
    }

    fn spawn_layout(
        &mut self,
        mmu: &mut Mmu,
        spec: &ProcessSpec,
        sink: &mut EventSink,
    ) -> Result<usize, LayoutError> {
        let ps = mmu.config().page_size;
        let lx = self.linux.clone();
        let linux = lx.is_some();
        let cfg = self.cfg;
        let user_limit = self.user_limit();
        let pages = |n: u64| units::size(n);
        // Rounds a region up to whole pages; a region larger than user space cannot fit.
        let up = |n: u64| n.checked_next_multiple_of(ps).filter(|&l| l <= user_limit);
        let too_big = |what: &str, n: u64| LayoutError {
            what: format!(
                "{what} ({}) is larger than user space ({})",
                pages(n),
                pages(user_limit)
            ),
            help: format!("give {what} a size below {}", pages(user_limit)),
        };
        // The pid this process will get, if its layout fits: ASLR draws from it.
        let pid = self.next_pid;
        // ASLR: each process draws its offsets from the machine seed and its pid, so a run is
        // reproducible and two processes still differ. Ranges follow Linux on the
        // architecture (x86-64: 22 bits of pages for the stack, 28 for the mmap base, 28 for
        // PIE); brk moves within 32 MiB everywhere.
        let mut rng = SplitMix(self.seed ^ (u64::from(pid) << 32));
        let (stack_shift, mmap_shift, brk_shift, pie_shift) = match &lx {
            Some(l) if cfg.aslr => {
                let (sb, mb, pb) = l.aslr_bits;
                let brk_bits = 25 - ps.trailing_zeros();
                (
                    (rng.next() & ((1 << sb) - 1)) * ps,
                    (rng.next() & ((1 << mb) - 1)) * ps,
                    (rng.next() & ((1 << brk_bits) - 1)) * ps,
                    (rng.next() & ((1 << pb) - 1)) * ps,
                )
            }
            _ => (0, 0, 0, 0),
        };
        // Every Linux process has a stack; on a teaching machine an explicit layout has one
        // only if it lists it.
        let has_stack = linux || spec.stack;
        // Linux leaves the top page of x86-64 user space unmapped; a teaching machine's stack
        // ends at the very top.
        let stack_end = match &lx {
            Some(l) => l.stack_top - stack_shift,
            None => user_limit,
        };
        let stack_limit = spec.stack_limit.min(user_limit / 4).max(ps);
        let base = if let Some(l) = &lx {
            if cfg.pie {
                l.pie_base + pie_shift
            } else {
                l.exec_base
            }
        } else if user_limit >= 1 << 32 {
            0x400000
        } else {
            // Small teaching address spaces: leave page 0 unmapped, start right after it.
            ps
        };
        let initial = if has_stack {
            // Whole pages: 132 KiB is 33 pages of 4 KiB but not a multiple of 16 KiB.
            INITIAL_STACK
                .min(stack_limit)
                .min(user_limit / 16)
                .next_multiple_of(ps)
                .max(ps)
        } else {
            0
        };
        // The highest address the program's regions may reach.
        let program_top = stack_end - initial;
        let mmap_base = if let Some(l) = &lx {
            l.mmap_base() - mmap_shift
        } else if has_stack {
            let gap = stack_limit
                .saturating_add(self.stack_guard_gap())
                .min(user_limit / 4);
            program_top.min(stack_end.saturating_sub(gap)) & !(ps - 1)
        } else {
            user_limit
        };
        let exe = self.file(&spec.name, false);
        let mut plan = Plan {
            vmas: VmaSet::default(),
            os: self,
        };
        let mut at = base;
        let mut offset = 0;
        let mut listed = Vec::new();
        if linux {
            plan.add(
                at,
                ps,
                Perms::R,
                false,
                Some((exe, 0)),
                Role::Elf,
                String::new(),
            );
            at += ps;
            offset += ps;
            listed.push(format!("the ELF header {}", pages(ps)));
        }
        let segs = [
            (spec.text, Perms::RX, Role::Text, "text"),
            (spec.rodata, Perms::R, Role::Rodata, "rodata"),
            (spec.relro, Perms::R, Role::Relro, "relro"),
            (spec.data, Perms::RW, Role::Data, "data"),
            (spec.bss, Perms::RW, Role::Bss, "bss"),
        ];
        let mut need: u64 = if linux { ps } else { 0 };
        for (size, _, _, what) in segs {
            if size > 0 {
                let len = up(size).ok_or_else(|| too_big(what, size))?;
                need = need.saturating_add(len);
                listed.push(format!("{what} {}", pages(len)));
            }
        }
        if base.saturating_add(need) > program_top {
            let room = program_top.saturating_sub(base);
            let below = if has_stack {
                format!(", below its {} stack", pages(initial))
            } else {
                String::new()
            };
            return Err(LayoutError {
                what: format!(
                    "the layout of process {} does not fit: {} ({} in all) need more than the {} \
                     free from {} to {}{below}",
                    spec.name,
                    listed.join(", "),
                    pages(need),
                    pages(room),
                    units::addr(base),
                    units::addr(program_top),
                ),
                help: format!(
                    "use a machine with more `va_bits`, or declare the process with smaller \
                     regions: `process {} {{ text {p}; data {p}; stack {p} }}`",
                    spec.name,
                    p = pages(ps)
                ),
            });
        }
        for (size, perms, role, _) in segs {
            if size == 0 {
                continue;
            }
            // Checked above: every region fits.
            let len = up(size).unwrap_or(ps);
            let end = at + len;
            if role == Role::Bss {
                plan.add(at, len, perms, false, None, role, String::new());
            } else {
                // relro shares the file page of rodata's end, as the linker lays it out.
                let off = if role == Role::Relro {
                    offset - ps.min(offset)
                } else {
                    offset
                };
                plan.add(at, len, perms, false, Some((exe, off)), role, String::new());
                offset = off + len;
            }
            at = end;
        }
        let brk_start = at + brk_shift;
        if let Some(l) = &lx {
            for &(s, e, perms, off, name) in l.libs {
                let (s, e) = (s - mmap_shift, e - mmap_shift);
                let (file, role) = match name {
                    "" => (None, Role::Lib),
                    n if n.starts_with('[') => (None, Role::Special),
                    n => (Some((plan.os.file(n, true), off)), Role::Lib),
                };
                plan.add(s, e - s, perms, false, file, role, name.to_string());
            }
        }
        if has_stack {
            plan.add(
                stack_end - initial,
                initial,
                Perms::RW,
                false,
                None,
                Role::Stack,
                "[stack]".into(),
            );
        }
        if lx.as_ref().is_some_and(|l| l.vsyscall) {
            plan.add(
                0xffffffffff600000,
                0x1000,
                Perms::X,
                false,
                None,
                Role::Special,
                "[vsyscall]".into(),
            );
        }
        // Linux never maps below mmap_min_addr; a teaching machine maps page 0 only when asked.
        let min_addr = if linux { MMAP_MIN_ADDR } else { ps };
        let mut moved = Vec::new();
        for m in &spec.mmaps {
            let what = if m.name.is_empty() {
                "the mapping".to_string()
            } else {
                format!("the mapping `{}`", m.name)
            };
            let len = up(m.size).ok_or_else(|| too_big(&what, m.size))?;
            let file = m
                .file
                .as_ref()
                .map(|(f, host)| (plan.os.host_file(f, host), 0));
            let hinted =
                m.at.map(|a| place_at_hint(&plan.vmas, a, len, linux, ps, user_limit));
            let start = match &hinted {
                Some(Ok((s, _))) => *s,
                _ => {
                    let found = plan
                        .vmas
                        .top_down_gap(len, mmap_base, at.max(min_addr))
                        .or_else(|| plan.vmas.top_down_gap(len, user_limit, min_addr));
                    match found {
                        Some(s) => s,
                        None => {
                            let (gap, gs) = largest_gap(&plan.vmas, min_addr, user_limit);
                            let free = if gap == 0 {
                                "user space has no free page left".to_string()
                            } else {
                                format!(
                                    "the largest free range is {} at {}-{}",
                                    pages(gap),
                                    units::addr(gs),
                                    units::addr(gs + gap)
                                )
                            };
                            return Err(LayoutError {
                                what: format!(
                                    "{what} of process {} ({}) fits nowhere: {free}",
                                    spec.name,
                                    pages(len)
                                ),
                                help: format!(
                                    "make it at most {} or remove other regions",
                                    pages(gap)
                                ),
                            });
                        }
                    }
                }
            };
            if let (Some(a), Some(Err(why) | Ok((_, Some(why))))) = (m.at, hinted) {
                moved.push((m.name.clone(), a, start, len, why));
            }
            plan.add(
                start,
                len,
                m.perms,
                m.shared,
                file,
                Role::Mmap,
                m.name.clone(),
            );
        }
        let vmas = plan.vmas;
        let asid = mmu.create_space();
        let pid = self.new_pid();
        self.procs.push(Process {
            pid,
            name: spec.name.clone(),
            asid,
            vmas,
            brk_start,
            brk: brk_start,
            stack_end,
            stack_limit,
            sp: stack_end,
            has_stack,
            threads: Vec::new(),
            death: None,
            stats: ProcStats::default(),
            mmap_base,
            refs_region: None,
            declared_layout: spec.declared,
        });
        for (name, hint, start, len, why) in moved {
            sink.push(Event::MmapMoved {
                pid,
                name,
                hint,
                start,
                len,
                why,
            });
        }
        Ok(self.procs.len() - 1)
    }

    /// Maps a thread's stack (with a guard page below it) top-down in the mmap area.
    pub fn spawn_thread(&mut self, p: usize, name: &str, size: u64) -> Option<usize> {
        let ps = self.page_size();
        let size = size
            .checked_next_multiple_of(ps)
            .filter(|&s| s < self.user_limit())?;
        let base = self.procs[p].mmap_base;
        let floor = self.procs[p].brk_start.max(ps);
        let start = self.procs[p].vmas.top_down_gap(size + ps, base, floor)?;
        self.map_fixed(
            p,
            start,
            ps,
            Perms::NONE,
            false,
            None,
            Role::Guard,
            String::new(),
        );
        self.map_fixed(
            p,
            start + ps,
            size,
            Perms::RW,
            false,
            None,
            Role::ThreadStack,
            name.to_string(),
        );
        self.procs[p].threads.push(Thread {
            name: name.to_string(),
            stack_start: start + ps,
            stack_end: start + ps + size,
            sp: start + ps + size,
        });
        Some(self.procs[p].threads.len() - 1)
    }
}

/// Where a hinted mapping goes, as Linux decides for `mmap(a, …)` without `MAP_FIXED`: the hint
/// rounded down to a page (and, on Linux, raised to `mmap_min_addr`), if that range is free
/// and inside user space. `Ok` has the start and what was adjusted; `Err` says why the
/// mapping cannot go there.
fn place_at_hint(
    vmas: &VmaSet,
    a: u64,
    len: u64,
    linux: bool,
    ps: u64,
    user_limit: u64,
) -> Result<(u64, Option<String>), String> {
    if linux && a == 0 {
        return Err("address 0 is NULL, no hint at all".into());
    }
    let mut notes = Vec::new();
    let mut hint = a & !(ps - 1);
    if hint != a {
        notes.push(format!(
            "it is not page-aligned: the hint rounds down to {}",
            units::addr(hint)
        ));
    }
    if linux && hint < MMAP_MIN_ADDR {
        hint = MMAP_MIN_ADDR;
        notes.push(format!(
            "it is below mmap_min_addr: the hint rises to {}",
            units::addr(hint)
        ));
    }
    let refused = match hint.checked_add(len) {
        Some(end) if end <= user_limit => (!vmas.is_free(hint, end)).then(|| {
            let other = vmas
                .iter()
                .find(|v| v.start < end && hint < v.end)
                .map_or_else(|| "another mapping".into(), |v| v.describe());
            format!(
                "{}-{} overlaps {other}",
                units::addr(hint),
                units::addr(end)
            )
        }),
        _ => Some(format!(
            "{}-{} runs past the end of user space at {}",
            units::addr(hint),
            units::addr(hint.saturating_add(len)),
            units::addr(user_limit)
        )),
    };
    match refused {
        None => Ok((hint, (!notes.is_empty()).then(|| notes.join("; ")))),
        Some(why) => {
            notes.push(why);
            Err(notes.join("; "))
        }
    }
}

/// The largest free range of `[from, limit)`: its length and start.
fn largest_gap(vmas: &VmaSet, from: u64, limit: u64) -> (u64, u64) {
    let mut best = (0, from);
    let mut cursor = from;
    for v in vmas.iter() {
        if v.end <= cursor {
            continue;
        }
        if v.start >= limit {
            break;
        }
        if v.start > cursor && v.start - cursor > best.0 {
            best = (v.start - cursor, cursor);
        }
        cursor = cursor.max(v.end);
    }
    if limit > cursor && limit - cursor > best.0 {
        best = (limit - cursor, cursor);
    }
    best
}

/// splitmix64: a tiny, well-mixed PRNG; ASLR needs reproducible spread, not secrecy.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

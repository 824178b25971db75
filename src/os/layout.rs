//! Process layouts: the map of a minimal non-PIE C program on Linux x86-64 (glibc 2.36, ASLR
//! off), address for address, and a scaled-down layout for machines with small address spaces.

use std::path::PathBuf;

use super::{Os, Perms, ProcStats, Process, Role, Thread, STACK_GUARD_GAP_PAGES};
use crate::machine::Mmu;

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
    pub mmaps: Vec<MmapSpec>,
    /// The scenario wrote the regions (a `process NAME { … }` block with regions).
    pub declared: bool,
}

impl ProcessSpec {
    /// The minimal C program of linux-fidelity.md §1: one page each of text, rodata, relro,
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

/// Where the top-down mmap search starts (below the libraries on x86-64).
pub fn mmap_base(os: &Os, p: usize) -> u64 {
    os.procs[p].mmap_base
}

/// The initial `[stack]` mapping: 132 KiB on Linux.
const INITIAL_STACK: u64 = 132 * 1024;

impl Os {
    /// Creates a process with the given layout; returns its index.
    pub fn spawn(&mut self, mmu: &mut Mmu, spec: &ProcessSpec) -> usize {
        let cfg = mmu.config().clone();
        let ps = cfg.page_size;
        let up = |n: u64| n.div_ceil(ps) * ps;
        let linux = cfg.va_bits == 48 && ps == 4096;
        let asid = mmu.create_space();
        let pid = self.new_pid();
        let user_limit = self.user_limit();
        // ASLR: each process draws its offsets from the machine seed and its pid, so a run is
        // reproducible and two processes still differ. Ranges follow Linux on x86-64: 22 bits
        // of pages for the stack, 28 for the mmap base, 13 for brk (32 MiB), 28 for PIE.
        let mut rng = SplitMix(cfg.seed ^ (u64::from(pid) << 32));
        let (stack_shift, mmap_shift, brk_shift, pie_shift) = if cfg.aslr && linux {
            (
                (rng.next() & ((1 << 22) - 1)) * ps,
                (rng.next() & ((1 << 28) - 1)) * ps,
                (rng.next() & ((1 << 13) - 1)) * ps,
                (rng.next() & ((1 << 28) - 1)) * ps,
            )
        } else {
            (0, 0, 0, 0)
        };
        let stack_end = user_limit - ps - stack_shift;
        let stack_limit = spec.stack_limit.min(user_limit / 4).max(ps);
        let base = if cfg.pie && linux {
            0x555555554000 + pie_shift
        } else if user_limit >= 1 << 32 {
            0x400000
        } else {
            // Small teaching address spaces: leave page 0 unmapped, start right after it.
            ps
        };
        let mmap_base = if linux {
            user_limit - ps - (128 << 20) - mmap_shift
        } else {
            let gap = (stack_limit + STACK_GUARD_GAP_PAGES * ps).min(user_limit / 4);
            (stack_end - gap) & !(ps - 1)
        };
        self.procs.push(Process {
            pid,
            name: spec.name.clone(),
            asid,
            vmas: Default::default(),
            brk_start: 0,
            brk: 0,
            stack_end,
            stack_limit,
            sp: stack_end,
            threads: Vec::new(),
            death: None,
            stats: ProcStats::default(),
            mmap_base,
            refs_region: None,
            declared_layout: spec.declared,
        });
        let p = self.procs.len() - 1;
        let exe = self.file(&spec.name, false);
        let mut at = base;
        let mut offset = 0;
        if linux {
            self.map_fixed(
                p,
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
        }
        let segs = [
            (spec.text, Perms::RX, Role::Text),
            (spec.rodata, Perms::R, Role::Rodata),
            (spec.relro, Perms::R, Role::Relro),
            (spec.data, Perms::RW, Role::Data),
        ];
        for (size, perms, role) in segs {
            if size == 0 {
                continue;
            }
            let len = up(size);
            // relro shares the file page of rodata's end, as the linker lays it out.
            let off = if role == Role::Relro {
                offset - ps
            } else {
                offset
            };
            self.map_fixed(
                p,
                at,
                len,
                perms,
                false,
                Some((exe, off)),
                role,
                String::new(),
            );
            at += len;
            offset = off + len;
        }
        if spec.bss > 0 {
            let len = up(spec.bss);
            self.map_fixed(p, at, len, Perms::RW, false, None, Role::Bss, String::new());
            at += len;
        }
        self.procs[p].brk_start = at + brk_shift;
        self.procs[p].brk = at + brk_shift;
        if linux {
            for &(s, e, perms, off, name) in X86_64_LIBS {
                let (s, e) = (s - mmap_shift, e - mmap_shift);
                let (file, role) = match name {
                    "" => (None, Role::Lib),
                    n if n.starts_with('[') => (None, Role::Special),
                    n => (Some((self.file(n, true), off)), Role::Lib),
                };
                self.map_fixed(p, s, e - s, perms, false, file, role, name.to_string());
            }
        }
        // Whole pages: 132 KiB is 33 pages of 4 KiB but not a multiple of 16 KiB.
        let initial = up(INITIAL_STACK.min(stack_limit).min(user_limit / 16)).max(ps);
        self.map_fixed(
            p,
            stack_end - initial,
            initial,
            Perms::RW,
            false,
            None,
            Role::Stack,
            "[stack]".into(),
        );
        if linux {
            self.map_fixed(
                p,
                0xffffffffff600000,
                0x1000,
                Perms::X,
                false,
                None,
                Role::Special,
                "[vsyscall]".into(),
            );
        }
        for m in &spec.mmaps {
            let file = m
                .file
                .as_ref()
                .map(|(f, host)| (self.host_file(f, host), 0));
            let len = up(m.size);
            let start = match m.at {
                Some(a) if self.procs[p].vmas.is_free(a, a + len) => a,
                _ => self.procs[p]
                    .vmas
                    .top_down_gap(len, mmap_base, at)
                    .unwrap_or(mmap_base - len),
            };
            self.map_fixed(
                p,
                start,
                len,
                m.perms,
                m.shared,
                file,
                Role::Mmap,
                m.name.clone(),
            );
        }
        p
    }

    /// Maps a thread's stack (with a guard page below it) top-down in the mmap area.
    pub fn spawn_thread(&mut self, p: usize, name: &str, size: u64) -> Option<usize> {
        let ps = self.page_size();
        let size = size.div_ceil(ps) * ps;
        let base = self.procs[p].mmap_base;
        let floor = self.procs[p].brk_start;
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

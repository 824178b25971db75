//! The glibc 2.36 allocator model: ptmalloc2's main arena with tcache, as Debian 12 ships it, on
//! the 64-bit ABI (x86-64, AArch64, RISC-V) and the 32-bit one (i386: 4-byte size fields).
//!
//! Every chunk has a real header in simulated memory (size with PREV_INUSE / IS_MMAPPED at
//! chunk+8, prev_size where glibc writes a footer, tcache and bin links in freed chunks), and the
//! checks glibc makes read those headers back through [`Memory`], so an overflow that rewrites a
//! neighbour's size field is caught with glibc's own message. Bookkeeping (which chunks exist and
//! which bin holds them) lives in ordered maps beside memory: it decides what `show heap` and
//! the memory-safety findings see, and it is the authority whenever memory was corrupted in a
//! way glibc would follow blindly.
//!
//! Simplifications against real glibc (the common cases are exact: addresses, usable sizes, tcache, bins, brk growth and the mmap threshold):
//! - One arena, one thread; nobody else moves the break. If the break is not where the heap
//!   ends (or the kernel refuses), the chunk is mmapped instead of glibc's non-contiguous top.
//! - Bin lists are followed from bookkeeping; links written into freed chunks are real stores
//!   (tcache/fastbin safe-linked `next`, unsorted/small/large `fd`/`bk` pointing at the
//!   main_arena bins in libc's data at their ASLR-off addresses) but are not read back, except
//!   that a tcache `next` rewritten to a misaligned value aborts as glibc would (one malloc
//!   earlier than glibc). Arena and large-bin `fd_nextsize` writes are not modelled.
//! - A header whose value passes glibc's checks but disagrees with bookkeeping (a plausible
//!   forged size), and double frees glibc would miss (fastbin dup, an overwritten tcache key),
//!   abort with the closest glibc message instead of building overlapping chunks.
//! - Ties between equal-size chunks in one large bin take the most recently sorted one.
//! - Trimming follows glibc: it is tried after a free whose coalesced chunk reaches 64 KiB, and
//!   releases whole pages of top beyond the 128 KiB pad.

use std::collections::{BTreeMap, VecDeque};

use super::{Allocator, Block, ChunkView, HeapError, Memory};
use crate::config::Arch;
use crate::units;

const PREV_INUSE: u64 = 1;
const IS_MMAPPED: u64 = 2;
const SIZE_BITS: u64 = 7;
/// MALLOC_ALIGNMENT: 16 on every ABI memsim models (i386 too, since glibc 2.26).
const ALIGN: u64 = 16;
/// How much the model copies or clears at a time on the host.
const BUF: u64 = 4096;
const TCACHE_BINS: usize = 64;
const TCACHE_COUNT: usize = 7;
const TOP_PAD: u64 = 128 << 10;
const DEFAULT_MMAP_THRESHOLD: u64 = 128 << 10;
const DEFAULT_TRIM_THRESHOLD: u64 = 128 << 10;
const CONSOLIDATION_THRESHOLD: u64 = 64 << 10;
/// `&main_arena.bins[0] - 0x10` in Debian 12's libc.so.6 loaded at 0x7ffff7dd5000 (measured:
/// the fd of a chunk alone in the unsorted bin).
const UNSORTED_BIN: u64 = 0x7fff_f7fa_8cc0;
/// The same in Debian 12's 32-bit libc.so.6 loaded at 0xf7d8c000 (measured likewise with
/// `gcc -m32`).
const UNSORTED_BIN_I386: u64 = 0xf7fa_97f8;

/// What glibc's numbers follow from: the ABI's word (SIZE_SZ, 8 on LP64, 4 on i386) and the
/// kernel's page size (brk growth, mmapped chunks and trimming are in pages). Everything else
/// (MINSIZE, the tcache and fastbin limits, the bins' indices, the first chunk's offset) is
/// derived here as glibc's macros derive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abi {
    pub size_sz: u64,
    pub page: u64,
    /// MINSIZE: the smallest chunk (0x20 on LP64, 0x10 on i386).
    minsize: u64,
    /// The largest chunk tcache holds: request2size(tidx2usize(63)).
    tcache_max: u64,
    /// global_max_fast: request2size(64 * SIZE_SZ / 4).
    max_fast: u64,
    /// MIN_LARGE_SIZE: (64 - SMALLBIN_CORRECTION) * 16.
    min_large: u64,
    /// DEFAULT_MMAP_THRESHOLD_MAX: 32 MiB on LP64, 512 KiB on 32-bit.
    mmap_threshold_max: u64,
    /// PTRDIFF_MAX: larger requests fail before glibc tries.
    ptrdiff_max: u64,
    unsorted_bin: u64,
}

impl Abi {
    /// x86-64 (and every LP64 ABI) with 4 KiB pages.
    pub const X86_64: Abi = Abi::new(8, 4096, UNSORTED_BIN);

    /// The ABI of `arch`'s glibc on pages of `page` bytes.
    pub fn of(arch: Arch, page: u64) -> Abi {
        match arch {
            Arch::I386 => Abi::new(4, page, UNSORTED_BIN_I386),
            // AArch64 and RISC-V are LP64 like x86-64; their libc's own data addresses are not
            // modelled (docs/profiles.md), so the bins' addresses stay x86-64's.
            Arch::X86_64 | Arch::Aarch64 | Arch::Riscv64 => Abi::new(8, page, UNSORTED_BIN),
        }
    }

    const fn new(size_sz: u64, page: u64, unsorted_bin: u64) -> Abi {
        let minsize = (4 * size_sz + ALIGN - 1) & !(ALIGN - 1);
        let smallbin_correction = if ALIGN > 2 * size_sz { 1 } else { 0 };
        let tcache_req = 63 * ALIGN + minsize - size_sz;
        Abi {
            size_sz,
            page,
            minsize,
            tcache_max: (tcache_req + size_sz + ALIGN - 1) & !(ALIGN - 1),
            max_fast: (64 * size_sz / 4 + size_sz) & !(ALIGN - 1),
            min_large: (64 - smallbin_correction) * ALIGN,
            mmap_threshold_max: if size_sz == 8 { 32 << 20 } else { 512 << 10 },
            ptrdiff_max: if size_sz == 8 {
                i64::MAX as u64
            } else {
                i32::MAX as u64
            },
            unsorted_bin,
        }
    }

    /// CHUNK_HDR_SZ: from a chunk to its user pointer.
    fn hdr(&self) -> u64 {
        2 * self.size_sz
    }

    /// A value as the ABI's word holds it (pointer arithmetic wraps at 2^32 on i386).
    fn word(&self, v: u64) -> u64 {
        if self.size_sz == 8 {
            v
        } else {
            v & 0xffff_ffff
        }
    }

    /// sizeof(tcache_perthread_struct): 64 two-byte counts and 64 pointers.
    fn tcache_struct(&self) -> u64 {
        2 * TCACHE_BINS as u64 + self.size_sz * TCACHE_BINS as u64
    }

    /// The fastbins' count (sizes MINSIZE to global_max_fast).
    fn nfast(&self) -> usize {
        ((self.max_fast - self.minsize) / ALIGN + 1) as usize
    }

    /// Where sysmalloc puts the first chunk at break `brk`: so that its user pointer is
    /// 16-aligned (i386's 8-byte header puts it 8 bytes in).
    fn first_chunk(&self, brk: u64) -> Option<u64> {
        Some(align_up(brk.checked_add(self.hdr())?, ALIGN)? - self.hdr())
    }

    /// The break sysmalloc asks for when it creates the heap for a first chunk of `nb` bytes:
    /// top_pad and MINSIZE beyond it in pages, then the alignment correction and the page
    /// rounding of the end, as its second sbrk does.
    fn first_break(&self, brk: u64, nb: u64) -> Option<u64> {
        let size = align_up(nb + TOP_PAD + self.minsize, self.page)?;
        let correction = self.first_chunk(brk)? - brk;
        align_up(brk.checked_add(size)?.checked_add(correction)?, self.page)
    }

    /// The prefix sysmalloc_mmap leaves before an mmapped chunk so that its user pointer is
    /// 16-aligned: none on LP64, 8 bytes (kept in prev_size) on i386.
    fn mmap_pad(&self) -> u64 {
        (ALIGN - self.hdr() % ALIGN) % ALIGN
    }

    /// The mapping for an mmapped chunk of `nb`: its own header, and on i386 the room to
    /// align, in whole pages.
    fn mmap_len(&self, nb: u64) -> Option<u64> {
        let extra = if self.mmap_pad() == 0 { 0 } else { ALIGN - 1 };
        align_up(nb.checked_add(self.size_sz + extra)?, self.page)
    }

    fn rd(&self, mem: &mut dyn Memory, addr: u64) -> R<u64> {
        let mut b = [0u8; 8];
        mem.read(addr, &mut b[..self.size_sz as usize])?;
        Ok(u64::from_le_bytes(b))
    }

    fn wr(&self, mem: &mut dyn Memory, addr: u64, v: u64) -> R<()> {
        mem.write(addr, &v.to_le_bytes()[..self.size_sz as usize])?;
        Ok(())
    }

    /// checked_request2size: `None` when glibc fails with ENOMEM before trying.
    fn request2size(&self, n: u64) -> Option<u64> {
        if n > self.ptrdiff_max {
            return None;
        }
        Some(((n + self.size_sz + ALIGN - 1) & !(ALIGN - 1)).max(self.minsize))
    }

    fn tidx(&self, size: u64) -> usize {
        size.saturating_sub(self.minsize)
            .div_ceil(ALIGN)
            .min(1 << 20) as usize
    }

    fn fidx(&self, size: u64) -> usize {
        ((size - self.minsize) / ALIGN) as usize
    }

    /// largebin_index_64, or largebin_index_32_big on i386 (16-byte alignment, 4-byte words).
    fn largebin_index(&self, sz: u64) -> usize {
        (if self.size_sz == 4 && (sz >> 6) <= 45 {
            49 + (sz >> 6)
        } else if self.size_sz == 8 && (sz >> 6) <= 48 {
            48 + (sz >> 6)
        } else if (sz >> 9) <= 20 {
            91 + (sz >> 9)
        } else if (sz >> 12) <= 10 {
            110 + (sz >> 12)
        } else if (sz >> 15) <= 4 {
            119 + (sz >> 15)
        } else if (sz >> 18) <= 2 {
            124 + (sz >> 18)
        } else {
            126
        }) as usize
    }

    fn bin_index(&self, sz: u64) -> usize {
        if sz < self.min_large {
            // SMALLBIN_CORRECTION: i386's small bins are one further on.
            ((sz >> 4) + (64 - self.min_large / ALIGN)) as usize
        } else {
            self.largebin_index(sz)
        }
    }

    fn list_addr(&self, l: List) -> u64 {
        match l {
            List::Unsorted => self.unsorted_bin,
            List::Bin(i) => self.unsorted_bin + (i as u64 - 1) * self.hdr(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    InUse,
    Tcache,
    Fast,
    Unsorted,
    Small,
    Large,
}

#[derive(Clone, Debug)]
struct Chunk {
    size: u64,
    state: State,
    requested: u64,
}

#[derive(Clone, Debug)]
struct Mapped {
    /// The chunk's size: the mapping less the alignment prefix before the chunk.
    len: u64,
    /// Bytes of the mapping before the chunk (sysmalloc_mmap's correction, in prev_size).
    pad: u64,
    requested: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    Unsorted,
    Bin(usize),
}

/// The glibc allocator of one process.
#[derive(Clone, Debug)]
pub struct Glibc {
    abi: Abi,
    key: u64,
    created: bool,
    /// Heap start (the tcache bookkeeping chunk), top chunk, end of top (= the break).
    start: u64,
    top: u64,
    end: u64,
    /// The highest end the heap ever had (glibc's max_system_mem, used by calloc).
    max_end: u64,
    /// Every heap chunk except top, by address.
    chunks: BTreeMap<u64, Chunk>,
    /// Chunk addresses; the last element is the head.
    tcache: Vec<Vec<u64>>,
    fast: Vec<Vec<u64>>,
    /// Front is the head (newest, glibc's `fd` side); the back is sorted first.
    unsorted: VecDeque<u64>,
    /// Small and large bins by glibc bin index; front is the `fd` side.
    bins: BTreeMap<usize, VecDeque<u64>>,
    last_remainder: Option<u64>,
    mapped: BTreeMap<u64, Mapped>,
    mmap_threshold: u64,
    trim_threshold: u64,
    explaining: bool,
    notes: Vec<String>,
    late_notes: Vec<String>,
}

type R<T> = Result<T, HeapError>;

fn abort<T>(msg: &str) -> R<T> {
    Err(HeapError::Abort(msg.to_string()))
}

fn align_up(v: u64, a: u64) -> Option<u64> {
    v.checked_add(a - 1).map(|x| x & !(a - 1))
}

/// `1 MiB + 4 KiB` reads better than `1.0 MiB` for mapping lengths.
fn pretty(len: u64) -> String {
    let mib = len & !((1 << 20) - 1);
    if mib > 0 && len != mib && (len - mib).is_multiple_of(1024) {
        format!("{} + {}", units::size(mib), units::size(len - mib))
    } else {
        units::size(len)
    }
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Glibc {
    /// A fresh allocator for x86-64; `seed` stands for glibc's getrandom() tcache key, so runs
    /// repeat.
    pub fn new(seed: u64) -> Self {
        Glibc::with_abi(seed, Abi::X86_64)
    }

    /// A fresh allocator for the ABI `abi`.
    pub fn with_abi(seed: u64, abi: Abi) -> Self {
        let key = abi.word(splitmix(seed)).max(1);
        Glibc {
            abi,
            key,
            created: false,
            start: 0,
            top: 0,
            end: 0,
            max_end: 0,
            chunks: BTreeMap::new(),
            tcache: vec![Vec::new(); TCACHE_BINS],
            fast: vec![Vec::new(); abi.nfast()],
            unsorted: VecDeque::new(),
            bins: BTreeMap::new(),
            last_remainder: None,
            mapped: BTreeMap::new(),
            mmap_threshold: DEFAULT_MMAP_THRESHOLD,
            trim_threshold: DEFAULT_TRIM_THRESHOLD,
            explaining: false,
            notes: Vec::new(),
            late_notes: Vec::new(),
        }
    }

    fn note(&mut self, f: impl FnOnce() -> String) {
        if self.explaining {
            self.notes.push(f());
        }
    }

    fn begin(&mut self, mem: &dyn Memory) {
        self.explaining = mem.explaining();
        self.notes.clear();
        self.late_notes.clear();
    }

    fn finish(&mut self, mem: &mut dyn Memory, call: impl FnOnce() -> String, result: u64) {
        if self.explaining {
            let mut all = std::mem::take(&mut self.notes);
            all.append(&mut self.late_notes);
            mem.explain(&call(), result, all.join("; "));
        }
    }

    fn system_mem(&self) -> u64 {
        self.end - self.start
    }

    fn top_size(&self) -> u64 {
        self.end - self.top
    }

    fn have_fast(&self) -> bool {
        self.fast.iter().any(|f| !f.is_empty())
    }

    fn is_user_chunk(&self, c: u64) -> bool {
        !(self.created && c == self.start)
    }

    fn set_state(&mut self, c: u64, st: State) {
        if let Some(k) = self.chunks.get_mut(&c) {
            k.state = st;
        }
    }

    fn size_of(&self, c: u64) -> u64 {
        self.chunks.get(&c).map_or(0, |k| k.size)
    }

    /// set_inuse_bit_at_offset: glibc's read-modify-write of the following header.
    fn set_inuse_bit(&self, mem: &mut dyn Memory, next: u64) -> R<()> {
        let v = self.abi.rd(mem, next + self.abi.size_sz)?;
        self.abi.wr(mem, next + self.abi.size_sz, v | PREV_INUSE)
    }

    /// set_head_size: keeps the flag bits already there.
    fn set_head_size(&self, mem: &mut dyn Memory, c: u64, size: u64) -> R<()> {
        let v = self.abi.rd(mem, c + self.abi.size_sz)?;
        self.abi
            .wr(mem, c + self.abi.size_sz, size | (v & SIZE_BITS))
    }

    // ----- heap creation, top and the break -------------------------------------------------

    /// MAYBE_INIT_TCACHE on the first call: sysmalloc makes the heap at the break and
    /// tcache_perthread_struct (a 0x290-byte chunk on x86-64, 0x190 on i386) is carved from it
    /// and zeroed.
    fn ensure_heap(&mut self, mem: &mut dyn Memory) -> R<bool> {
        if self.created {
            return Ok(true);
        }
        let brk = mem.brk();
        let Some(tcache) = self.abi.request2size(self.abi.tcache_struct()) else {
            return Ok(false);
        };
        let (Some(start), Some(want)) =
            (self.abi.first_chunk(brk), self.abi.first_break(brk, tcache))
        else {
            return Ok(false);
        };
        if mem.set_brk(want) != want {
            return Ok(false);
        }
        self.created = true;
        self.start = start;
        self.top = start;
        self.end = want;
        self.max_end = want;
        self.abi
            .wr(mem, start + self.abi.size_sz, (want - start) | PREV_INUSE)?;
        let c = self.split_top(mem, tcache)?;
        let zeros = vec![0u8; self.abi.tcache_struct() as usize];
        mem.write(c + self.abi.hdr(), &zeros)?;
        if self.explaining {
            self.late_notes.push(format!(
                "brk grew by {} to {} (the heap was created at {}; its first chunk, {:#x} bytes, is tcache's bookkeeping)",
                units::size(want - brk),
                units::addr(want),
                units::addr(start),
                tcache
            ));
        }
        Ok(true)
    }

    /// Why [`Glibc::ensure_heap`] could not make the heap: what it asked of brk, in this
    /// machine's numbers.
    fn no_heap(&self, mem: &dyn Memory) -> String {
        let brk = mem.brk();
        let tcache = self.abi.request2size(self.abi.tcache_struct()).unwrap_or(0);
        match self.abi.first_break(brk, tcache) {
            Some(want) => format!(
                "no heap: brk refused to grow by {} to {} (tcache's {:#x}-byte bookkeeping chunk and the {} top pad), so glibc fell back to mmap",
                units::size(want - brk),
                units::addr(want),
                tcache,
                units::size(TOP_PAD)
            ),
            None => "no heap: the break is at the end of the address space, so glibc fell back to mmap".into(),
        }
    }

    fn split_top(&mut self, mem: &mut dyn Memory, nb: u64) -> R<u64> {
        let victim = self.top;
        let rest = self.top_size() - nb;
        self.abi
            .wr(mem, victim + self.abi.size_sz, nb | PREV_INUSE)?;
        self.top = victim + nb;
        self.abi
            .wr(mem, self.top + self.abi.size_sz, rest | PREV_INUSE)?;
        self.chunks.insert(
            victim,
            Chunk {
                size: nb,
                state: State::InUse,
                requested: 0,
            },
        );
        Ok(victim)
    }

    /// sysmalloc: mmap for big requests, else grow the break (top_pad + MINSIZE beyond the
    /// need, in pages).
    fn sysmalloc(&mut self, mem: &mut dyn Memory, nb: u64) -> R<Option<u64>> {
        let th = self.mmap_threshold;
        if nb >= th {
            // glibc compares the chunk (request + header, rounded up), which can reach the
            // threshold when the request itself is a few bytes below it.
            let size_sz = self.abi.size_sz;
            let why = || {
                if nb - (size_sz + 15) >= th {
                    format!("request ≥ mmap threshold {}", units::size(th))
                } else {
                    format!(
                        "its {nb:#x}-byte chunk, the request with its header rounded up to 16, ≥ mmap threshold {}",
                        units::size(th)
                    )
                }
            };
            if let Some(c) = self.mmap_chunk(mem, nb, why)? {
                return Ok(Some(c));
            }
        }
        let old = self.top_size();
        let grow = (nb + TOP_PAD + self.abi.minsize)
            .checked_sub(old)
            .and_then(|s| align_up(s, self.abi.page));
        if let Some(grow) = grow {
            if let Some(want) = self.end.checked_add(grow) {
                if mem.brk() == self.end && mem.set_brk(want) == want {
                    self.end = want;
                    self.max_end = self.max_end.max(want);
                    self.abi.wr(
                        mem,
                        self.top + self.abi.size_sz,
                        self.top_size() | PREV_INUSE,
                    )?;
                    let c = self.split_top(mem, nb)?;
                    if self.explaining {
                        self.notes.push(format!(
                            "split from top; brk grew by {} to {}",
                            units::size(grow),
                            units::addr(want)
                        ));
                    }
                    return Ok(Some(c));
                }
            }
        }
        // The break cannot move: glibc falls back to mmap.
        if nb < th {
            let (brk, end) = (mem.brk(), self.end);
            let why = || {
                match grow {
                _ if brk != end => format!(
                    "below the mmap threshold {}, but the break ({}) is no longer at the heap's end ({}), so top cannot grow",
                    units::size(th),
                    units::addr(brk),
                    units::addr(end)
                ),
                Some(g) => format!(
                    "below the mmap threshold {}, but brk refused to grow the heap by {} to {}",
                    units::size(th),
                    units::size(g),
                    end.checked_add(g).map_or("beyond 2^64".into(), units::addr)
                ),
                None => format!(
                    "below the mmap threshold {}, but the heap cannot grow that far",
                    units::size(th)
                ),
            }
            };
            if let Some(c) = self.mmap_chunk(mem, nb, why)? {
                return Ok(Some(c));
            }
        }
        self.note(|| "no memory: brk and mmap both refused (ENOMEM)".to_string());
        Ok(None)
    }

    /// An mmapped chunk; `why` is the rule that sent the request there, for the explanation.
    fn mmap_chunk(
        &mut self,
        mem: &mut dyn Memory,
        nb: u64,
        why: impl FnOnce() -> String,
    ) -> R<Option<u64>> {
        let Some(len) = self.abi.mmap_len(nb) else {
            return Ok(None);
        };
        let Some(m) = mem.mmap(len) else {
            return Ok(None);
        };
        let pad = self.abi.mmap_pad();
        let c = m + pad;
        self.abi.wr(mem, c, pad)?;
        self.abi
            .wr(mem, c + self.abi.size_sz, (len - pad) | IS_MMAPPED)?;
        self.mapped.insert(
            c,
            Mapped {
                len: len - pad,
                pad,
                requested: 0,
            },
        );
        self.note(|| format!("mmapped {} ({})", pretty(len), why()));
        Ok(Some(c))
    }

    fn systrim(&mut self, mem: &mut dyn Memory) -> R<()> {
        let top_size = self.top_size();
        let area = top_size.saturating_sub(self.abi.minsize + 1);
        if area <= TOP_PAD {
            return Ok(());
        }
        let extra = (area - TOP_PAD) & !(self.abi.page - 1);
        if extra == 0 || mem.brk() != self.end {
            return Ok(());
        }
        let new = mem.set_brk(self.end - extra);
        if new >= self.end || new <= self.top {
            return Ok(());
        }
        let released = self.end - new;
        self.end = new;
        self.abi.wr(
            mem,
            self.top + self.abi.size_sz,
            self.top_size() | PREV_INUSE,
        )?;
        let th = self.trim_threshold;
        self.note(|| {
            format!(
                "top reached the trim threshold ({}): brk trimmed by {} to {}",
                units::size(th),
                units::size(released),
                units::addr(new)
            )
        });
        Ok(())
    }

    // ----- bin lists -------------------------------------------------------------------------

    fn list(&self, l: List) -> Option<&VecDeque<u64>> {
        match l {
            List::Unsorted => Some(&self.unsorted),
            List::Bin(i) => self.bins.get(&i),
        }
    }

    fn list_mut(&mut self, l: List) -> &mut VecDeque<u64> {
        match l {
            List::Unsorted => &mut self.unsorted,
            List::Bin(i) => self.bins.entry(i).or_default(),
        }
    }

    /// Writes the fd/bk of the chunk at position `i` as glibc's doubly-linked list has them.
    fn write_links(&self, mem: &mut dyn Memory, l: List, i: usize) -> R<()> {
        let Some(list) = self.list(l) else {
            return Ok(());
        };
        let Some(&c) = list.get(i) else {
            return Ok(());
        };
        let head = self.abi.list_addr(l);
        let fd = list.get(i + 1).copied().unwrap_or(head);
        let bk = if i == 0 { head } else { list[i - 1] };
        self.abi.wr(mem, c + self.abi.hdr(), fd)?;
        self.abi.wr(mem, c + 3 * self.abi.size_sz, bk)
    }

    fn list_insert(&mut self, mem: &mut dyn Memory, l: List, pos: usize, c: u64) -> R<()> {
        self.list_mut(l).insert(pos, c);
        for i in pos.saturating_sub(1)..=pos + 1 {
            self.write_links(mem, l, i)?;
        }
        Ok(())
    }

    fn list_of(&self, c: u64) -> Option<List> {
        let k = self.chunks.get(&c)?;
        match k.state {
            State::Unsorted => Some(List::Unsorted),
            State::Small | State::Large => Some(List::Bin(self.abi.bin_index(k.size))),
            _ => None,
        }
    }

    /// unlink_chunk: takes a free chunk out of its list (neighbours' links rewritten).
    fn unlink(&mut self, mem: &mut dyn Memory, c: u64) -> R<()> {
        let Some(l) = self.list_of(c) else {
            return abort("corrupted double-linked list");
        };
        let list = self.list_mut(l);
        let Some(pos) = list.iter().position(|&x| x == c) else {
            return abort("corrupted double-linked list");
        };
        list.remove(pos);
        if let List::Bin(i) = l {
            if self.bins.get(&i).is_some_and(|b| b.is_empty()) {
                self.bins.remove(&i);
            }
        }
        if pos > 0 {
            self.write_links(mem, l, pos - 1)?;
        }
        self.write_links(mem, l, pos)?;
        self.set_state(c, State::InUse);
        Ok(())
    }

    fn unsorted_push(&mut self, mem: &mut dyn Memory, c: u64) -> R<()> {
        self.set_state(c, State::Unsorted);
        self.list_insert(mem, List::Unsorted, 0, c)
    }

    /// Sorts a chunk from unsorted into its small bin (at the head) or large bin (by size,
    /// descending; an equal size goes second, as glibc avoids rerouting the skip list).
    fn bin_insert(&mut self, mem: &mut dyn Memory, c: u64, size: u64) -> R<()> {
        let idx = self.abi.bin_index(size);
        if size < self.abi.min_large {
            self.set_state(c, State::Small);
            return self.list_insert(mem, List::Bin(idx), 0, c);
        }
        self.set_state(c, State::Large);
        let sizes: Vec<u64> = self
            .bins
            .get(&idx)
            .map(|b| b.iter().map(|&x| self.size_of(x)).collect())
            .unwrap_or_default();
        let pos = match sizes.iter().position(|&s| s <= size) {
            None => sizes.len(),
            Some(p) if sizes[p] == size => p + 1,
            Some(p) => p,
        };
        self.list_insert(mem, List::Bin(idx), pos, c)
    }

    /// The chunk glibc's large-bin scan and binmap search would pick: the smallest chunk of at
    /// least `nb` in the bins from nb's own upward.
    fn best_fit(&self, nb: u64) -> Option<u64> {
        let idx = self.abi.bin_index(nb);
        for (&i, list) in self.bins.range(idx..) {
            if i == idx && nb >= self.abi.min_large {
                // Own large bin: sorted descending from the front.
                let sizes: Vec<u64> = list.iter().map(|&x| self.size_of(x)).collect();
                let Some(last_fit) = sizes.iter().rposition(|&s| s >= nb) else {
                    continue;
                };
                let s = sizes[last_fit];
                let first = sizes.iter().position(|&x| x == s).unwrap_or(last_fit);
                let pick = if first + 1 < sizes.len() && sizes[first + 1] == s {
                    first + 1
                } else {
                    first
                };
                return list.get(pick).copied();
            }
            if let Some(&c) = list.back() {
                if self.size_of(c) >= nb {
                    return Some(c);
                }
            }
        }
        None
    }

    // ----- tcache ----------------------------------------------------------------------------

    fn tcache_put(&mut self, mem: &mut dyn Memory, c: u64) -> R<()> {
        let idx = self.abi.tidx(self.size_of(c));
        let e = c + self.abi.hdr();
        let next = self.tcache[idx].last().map_or(0, |&n| n + self.abi.hdr());
        self.abi.wr(mem, e, (e >> 12) ^ next)?;
        self.abi.wr(mem, e + self.abi.size_sz, self.key)?;
        self.tcache[idx].push(c);
        self.write_tcache_slot(mem, idx)?;
        self.set_state(c, State::Tcache);
        Ok(())
    }

    fn tcache_get(&mut self, mem: &mut dyn Memory, idx: usize) -> R<u64> {
        let Some(c) = self.tcache[idx].pop() else {
            return abort("malloc(): unaligned tcache chunk detected");
        };
        let e = c + self.abi.hdr();
        let expected = self.tcache[idx].last().map_or(0, |&n| n + self.abi.hdr());
        let revealed = (e >> 12) ^ self.abi.rd(mem, e)?;
        if revealed != expected && revealed & 15 != 0 {
            // glibc installs the forged pointer and aborts when it reaches the head.
            return abort("malloc(): unaligned tcache chunk detected");
        }
        self.write_tcache_slot(mem, idx)?;
        self.abi.wr(mem, e + self.abi.size_sz, 0)?;
        self.set_state(c, State::InUse);
        Ok(c)
    }

    /// The counts[idx] and entries[idx] of tcache_perthread_struct, real stores at the heap start.
    fn write_tcache_slot(&self, mem: &mut dyn Memory, idx: usize) -> R<()> {
        let count = self.tcache[idx].len() as u16;
        mem.write(
            self.start + self.abi.hdr() + 2 * idx as u64,
            &count.to_le_bytes(),
        )?;
        let head = self.tcache[idx].last().map_or(0, |&c| c + self.abi.hdr());
        self.abi.wr(
            mem,
            self.start + self.abi.hdr() + 0x80 + self.abi.size_sz * idx as u64,
            head,
        )
    }

    // ----- _int_malloc -----------------------------------------------------------------------

    fn int_malloc(&mut self, mem: &mut dyn Memory, nb: u64) -> R<Option<u64>> {
        let ti = self.abi.tidx(nb);
        if nb <= self.abi.max_fast {
            let fi = self.abi.fidx(nb);
            if let Some(&victim) = self.fast[fi].last() {
                let raw = self.abi.rd(mem, victim + self.abi.size_sz)?;
                if raw & !SIZE_BITS != nb {
                    return abort("malloc(): memory corruption (fast)");
                }
                self.fast[fi].pop();
                self.set_state(victim, State::InUse);
                let mut moved = 0;
                while self.tcache[ti].len() < TCACHE_COUNT {
                    let Some(c) = self.fast[fi].pop() else { break };
                    self.tcache_put(mem, c)?;
                    moved += 1;
                }
                let left = self.fast[fi].len();
                self.note(|| {
                    format!("from fastbin ({nb:#x} bin, {left} left; {moved} moved to tcache)")
                });
                return Ok(Some(victim));
            }
        }
        let small = nb < self.abi.min_large;
        if small {
            let bi = self.abi.bin_index(nb);
            if let Some(victim) = self.bins.get(&bi).and_then(|b| b.back().copied()) {
                self.unlink(mem, victim)?;
                self.set_inuse_bit(mem, victim + nb)?;
                let mut moved = 0;
                while self.tcache[ti].len() < TCACHE_COUNT {
                    let Some(c) = self.bins.get(&bi).and_then(|b| b.back().copied()) else {
                        break;
                    };
                    self.unlink(mem, c)?;
                    self.set_inuse_bit(mem, c + nb)?;
                    self.tcache_put(mem, c)?;
                    moved += 1;
                }
                self.note(|| format!("from small bin ({nb:#x}; {moved} more moved to tcache)"));
                return Ok(Some(victim));
            }
        } else if self.have_fast() {
            self.consolidate(mem)?;
        }
        loop {
            let mut return_cached = false;
            while let Some(&victim) = self.unsorted.back() {
                let size = self.size_of(victim);
                let raw = self.abi.rd(mem, victim + self.abi.size_sz)?;
                if raw & !SIZE_BITS != size || size <= self.abi.hdr() || size > self.system_mem() {
                    return abort("malloc(): invalid size (unsorted)");
                }
                let next = victim + size;
                let nraw = self.abi.rd(mem, next + self.abi.size_sz)?;
                if nraw < self.abi.hdr() || nraw & !SIZE_BITS > self.system_mem() {
                    return abort("malloc(): invalid next size (unsorted)");
                }
                if self.abi.rd(mem, next)? != size {
                    return abort("malloc(): mismatching next->prev_size (unsorted)");
                }
                if nraw & PREV_INUSE != 0 {
                    return abort("malloc(): invalid next->prev_inuse (unsorted)");
                }
                if small
                    && self.unsorted.len() == 1
                    && self.last_remainder == Some(victim)
                    && size > nb + self.abi.minsize
                {
                    self.unlink(mem, victim)?;
                    let rem = self.split_free(mem, victim, size, nb)?;
                    self.last_remainder = Some(rem);
                    self.note(|| {
                        format!("split from the last remainder {victim:#x} (the rest stays in unsorted)")
                    });
                    return Ok(Some(victim));
                }
                self.unlink(mem, victim)?;
                if size == nb {
                    self.set_inuse_bit(mem, next)?;
                    if ti < TCACHE_BINS && self.tcache[ti].len() < TCACHE_COUNT {
                        self.tcache_put(mem, victim)?;
                        return_cached = true;
                        continue;
                    }
                    self.note(|| "exact fit from the unsorted bin".to_string());
                    return Ok(Some(victim));
                }
                self.bin_insert(mem, victim, size)?;
            }
            if return_cached {
                let c = self.tcache_get(mem, ti)?;
                self.note(|| "exact fit from the unsorted bin (via tcache)".to_string());
                return Ok(Some(c));
            }
            if let Some(victim) = self.best_fit(nb) {
                let size = self.size_of(victim);
                let from = if size < self.abi.min_large {
                    "small"
                } else {
                    "large"
                };
                self.unlink(mem, victim)?;
                if size - nb < self.abi.minsize {
                    self.set_inuse_bit(mem, victim + size)?;
                    self.note(|| format!("whole {size:#x} chunk from the {from} bin"));
                } else {
                    let rem = self.split_free(mem, victim, size, nb)?;
                    if small {
                        self.last_remainder = Some(rem);
                    }
                    self.note(|| {
                        format!(
                            "split from a free {size:#x} chunk in the {from} bin (the {:#x} rest went to unsorted)",
                            size - nb
                        )
                    });
                }
                return Ok(Some(victim));
            }
            let top_size = self.top_size();
            let raw = self.abi.rd(mem, self.top + self.abi.size_sz)?;
            if raw & !SIZE_BITS != top_size {
                return abort("malloc(): corrupted top size");
            }
            if top_size >= nb + self.abi.minsize {
                let c = self.split_top(mem, nb)?;
                let left = self.top_size();
                self.note(|| format!("split from top ({left:#x} bytes of top left)"));
                return Ok(Some(c));
            }
            if self.have_fast() {
                self.consolidate(mem)?;
                continue;
            }
            return self.sysmalloc(mem, nb);
        }
    }

    /// Splits a free (already unlinked) chunk: `nb` in use at `c`, the rest to unsorted.
    fn split_free(&mut self, mem: &mut dyn Memory, c: u64, size: u64, nb: u64) -> R<u64> {
        let rem = c + nb;
        let rsize = size - nb;
        self.abi.wr(mem, c + self.abi.size_sz, nb | PREV_INUSE)?;
        self.abi
            .wr(mem, rem + self.abi.size_sz, rsize | PREV_INUSE)?;
        self.abi.wr(mem, rem + rsize, rsize)?;
        if let Some(k) = self.chunks.get_mut(&c) {
            k.size = nb;
            k.state = State::InUse;
        }
        self.chunks.insert(
            rem,
            Chunk {
                size: rsize,
                state: State::InUse,
                requested: 0,
            },
        );
        self.unsorted_push(mem, rem)?;
        Ok(rem)
    }

    /// malloc_consolidate: every fastbin chunk is coalesced and moved to unsorted (or top).
    fn consolidate(&mut self, mem: &mut dyn Memory) -> R<()> {
        let mut n = 0;
        for fi in 0..self.abi.nfast() {
            let list = std::mem::take(&mut self.fast[fi]);
            for &c in list.iter().rev() {
                let size = self.size_of(c);
                let raw = self.abi.rd(mem, c + self.abi.size_sz)?;
                if raw & !SIZE_BITS != size {
                    return abort("malloc_consolidate(): invalid chunk size");
                }
                self.set_state(c, State::InUse);
                self.coalesce(mem, c, size, raw, true)?;
                n += 1;
            }
        }
        self.note(|| format!("consolidated {n} fastbin chunks"));
        Ok(())
    }

    /// The merging half of _int_free and malloc_consolidate: joins free neighbours (as the
    /// PREV_INUSE bits in memory say, checked against bookkeeping) and puts the result in
    /// unsorted or makes it top. Returns the merged size.
    fn coalesce(
        &mut self,
        mem: &mut dyn Memory,
        c: u64,
        size: u64,
        raw: u64,
        fasts: bool,
    ) -> R<u64> {
        let (mut c, mut size) = (c, size);
        let next = c + size;
        let mut merged = Vec::new();
        if raw & PREV_INUSE == 0 {
            let psize = self.abi.rd(mem, c)?;
            let prev = c.wrapping_sub(psize);
            let praw = self.abi.rd(mem, prev.wrapping_add(self.abi.size_sz))?;
            if praw & !SIZE_BITS != psize {
                return abort(if fasts {
                    "corrupted size vs. prev_size in fastbins"
                } else {
                    "corrupted size vs. prev_size while consolidating"
                });
            }
            if self.size_of(prev) != psize {
                return abort("corrupted double-linked list");
            }
            self.unlink(mem, prev)?;
            self.chunks.remove(&c);
            merged.push(format!("the free chunk before it ({prev:#x})"));
            c = prev;
            size += psize;
        }
        if next != self.top {
            let nsize = self.size_of(next);
            if nsize == 0 {
                return abort("corrupted double-linked list");
            }
            let nnraw = self.abi.rd(mem, next + nsize + self.abi.size_sz)?;
            if nnraw & PREV_INUSE == 0 {
                self.unlink(mem, next)?;
                self.chunks.remove(&next);
                merged.push(format!("the free chunk after it ({next:#x})"));
                size += nsize;
            } else {
                let v = self.abi.rd(mem, next + self.abi.size_sz)?;
                self.abi.wr(mem, next + self.abi.size_sz, v & !PREV_INUSE)?;
            }
            self.abi.wr(mem, c + self.abi.size_sz, size | PREV_INUSE)?;
            self.abi.wr(mem, c + size, size)?;
            if let Some(k) = self.chunks.get_mut(&c) {
                k.size = size;
            }
            self.unsorted_push(mem, c)?;
            self.note(|| {
                if merged.is_empty() {
                    "to the unsorted bin".to_string()
                } else {
                    format!(
                        "to the unsorted bin after merging with {}",
                        merged.join(" and ")
                    )
                }
            });
        } else {
            size += self.top_size();
            self.abi.wr(mem, c + self.abi.size_sz, size | PREV_INUSE)?;
            self.chunks.remove(&c);
            self.top = c;
            self.note(|| {
                if merged.is_empty() {
                    "into top".to_string()
                } else {
                    format!("into top after merging with {}", merged.join(" and "))
                }
            });
        }
        Ok(size)
    }

    // ----- _int_free -------------------------------------------------------------------------

    /// What glibc would most plausibly report for a free that bookkeeping cannot follow.
    fn fallback_free_error<T>(&self, c: u64, size: u64) -> R<T> {
        match self.chunks.get(&c) {
            None if c == self.top && self.created => abort("double free or corruption (top)"),
            None => abort("free(): invalid pointer"),
            Some(_) if !self.is_user_chunk(c) => abort("free(): invalid pointer"),
            Some(k) => match k.state {
                State::Tcache => abort("free(): double free detected in tcache 2"),
                State::Fast => abort("double free or corruption (fasttop)"),
                State::Unsorted | State::Small | State::Large => {
                    abort("double free or corruption (!prev)")
                }
                State::InUse if k.size != size => abort("free(): invalid size"),
                State::InUse => abort("free(): invalid pointer"),
            },
        }
    }

    fn valid_in_use(&self, c: u64, size: u64) -> bool {
        self.is_user_chunk(c)
            && self
                .chunks
                .get(&c)
                .is_some_and(|k| k.state == State::InUse && k.size == size)
    }

    /// _int_free with its checks, in glibc's order, on the header read from memory.
    fn int_free(&mut self, mem: &mut dyn Memory, c: u64) -> R<()> {
        let raw = self.abi.rd(mem, c.wrapping_add(self.abi.size_sz))?;
        let size = raw & !SIZE_BITS;
        if c > self.abi.word(size.wrapping_neg()) || (c + self.abi.hdr()) & (ALIGN - 1) != 0 {
            return abort("free(): invalid pointer");
        }
        if size < self.abi.minsize || size & 15 != 0 {
            return abort("free(): invalid size");
        }
        if !self.created {
            return abort("free(): invalid pointer");
        }
        let ti = self.abi.tidx(size);
        if size <= self.abi.tcache_max {
            let key = self.abi.rd(mem, c.wrapping_add(3 * self.abi.size_sz))?;
            if key == self.key && self.tcache[ti].contains(&c) {
                return abort("free(): double free detected in tcache 2");
            }
            if self.tcache[ti].len() < TCACHE_COUNT {
                if !self.valid_in_use(c, size) {
                    return self.fallback_free_error(c, size);
                }
                self.tcache_put(mem, c)?;
                let n = self.tcache[ti].len();
                self.note(|| format!("to tcache ({size:#x} bin, now {n})"));
                return Ok(());
            }
        }
        if size <= self.abi.max_fast {
            let nraw = self
                .abi
                .rd(mem, c.wrapping_add(size).wrapping_add(self.abi.size_sz))?;
            if nraw <= 2 * self.abi.size_sz || nraw & !SIZE_BITS >= self.system_mem() {
                return abort("free(): invalid next size (fast)");
            }
            let fi = self.abi.fidx(size);
            if self.fast[fi].last() == Some(&c) {
                return abort("double free or corruption (fasttop)");
            }
            if !self.valid_in_use(c, size) {
                return self.fallback_free_error(c, size);
            }
            let next_size = nraw & !SIZE_BITS;
            let expect_next = if c + size == self.top {
                self.top_size()
            } else {
                self.size_of(c + size)
            };
            if next_size != expect_next {
                return abort("free(): invalid next size (fast)");
            }
            let old = self.fast[fi].last().copied().unwrap_or(0);
            self.abi
                .wr(mem, c + self.abi.hdr(), ((c + self.abi.hdr()) >> 12) ^ old)?;
            self.fast[fi].push(c);
            self.set_state(c, State::Fast);
            let n = self.fast[fi].len();
            self.note(|| format!("to fastbin ({size:#x} bin, now {n}; its tcache bin is full)"));
            return Ok(());
        }
        if c == self.top {
            return abort("double free or corruption (top)");
        }
        let next = c.wrapping_add(size);
        if next >= self.end {
            return abort("double free or corruption (out)");
        }
        let nraw = self.abi.rd(mem, next + self.abi.size_sz)?;
        if nraw & PREV_INUSE == 0 {
            return abort("double free or corruption (!prev)");
        }
        let nsize = nraw & !SIZE_BITS;
        if nraw <= 2 * self.abi.size_sz || nsize >= self.system_mem() {
            return abort("free(): invalid next size (normal)");
        }
        if !self.valid_in_use(c, size) {
            return self.fallback_free_error(c, size);
        }
        let expect_next = if next == self.top {
            self.top_size()
        } else {
            self.size_of(next)
        };
        if nsize != expect_next {
            return abort("free(): invalid next size (normal)");
        }
        let merged = self.coalesce(mem, c, size, raw, false)?;
        if merged >= CONSOLIDATION_THRESHOLD {
            if self.have_fast() {
                self.consolidate(mem)?;
            }
            if self.top_size() >= self.trim_threshold {
                self.systrim(mem)?;
            }
        }
        Ok(())
    }

    /// The munmap_chunk path of free, with the dynamic threshold update before it.
    fn free_mapped(&mut self, mem: &mut dyn Memory, c: u64, raw: u64) -> R<()> {
        let len = raw & !SIZE_BITS;
        if self.mapped.get(&c).map(|m| m.len) != Some(len) {
            return abort("munmap_chunk(): invalid pointer");
        }
        if (len | IS_MMAPPED) > self.mmap_threshold && len <= self.abi.mmap_threshold_max {
            self.mmap_threshold = len;
            self.trim_threshold = 2 * len;
            self.note(|| {
                format!(
                    "mmap threshold raised to {} (trim threshold {})",
                    pretty(len),
                    pretty(2 * len)
                )
            });
        }
        let pad = self.mapped.remove(&c).map_or(0, |m| m.pad);
        mem.munmap(c - pad, len + pad);
        self.note(|| format!("unmapped {}", pretty(len + pad)));
        Ok(())
    }

    fn copy(mem: &mut dyn Memory, from: u64, to: u64, len: u64) -> R<()> {
        let mut buf = vec![0u8; BUF as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(BUF) as usize;
            mem.read(from + done, &mut buf[..n])?;
            mem.write(to + done, &buf[..n])?;
            done += n as u64;
        }
        Ok(())
    }

    fn set_requested(&mut self, c: u64, n: u64) {
        if let Some(k) = self.chunks.get_mut(&c) {
            k.requested = n;
        } else if let Some(m) = self.mapped.get_mut(&c) {
            m.requested = n;
        }
    }

    fn do_malloc(&mut self, mem: &mut dyn Memory, n: u64) -> R<u64> {
        let Some(nb) = self.abi.request2size(n) else {
            self.note(|| "request too large (ENOMEM)".to_string());
            return Ok(0);
        };
        if !self.ensure_heap(mem)? {
            let why = self.no_heap(mem);
            let c = self.mmap_chunk(mem, nb, || why)?;
            if let Some(c) = c {
                self.set_requested(c, n);
            }
            return Ok(c.map_or(0, |c| c + self.abi.hdr()));
        }
        let ti = self.abi.tidx(nb);
        if ti < TCACHE_BINS && !self.tcache[ti].is_empty() {
            let c = self.tcache_get(mem, ti)?;
            self.set_requested(c, n);
            let left = self.tcache[ti].len();
            self.note(|| format!("from tcache ({nb:#x} bin, {left} left)"));
            return Ok(c + self.abi.hdr());
        }
        match self.int_malloc(mem, nb)? {
            Some(c) => {
                self.set_requested(c, n);
                Ok(c + self.abi.hdr())
            }
            None => Ok(0),
        }
    }

    fn do_free(&mut self, mem: &mut dyn Memory, p: u64) -> R<()> {
        if p == 0 {
            self.note(|| "free(NULL) does nothing".to_string());
            return Ok(());
        }
        let c = p.wrapping_sub(self.abi.hdr());
        let raw = self.abi.rd(mem, c.wrapping_add(self.abi.size_sz))?;
        if raw & IS_MMAPPED != 0 {
            return self.free_mapped(mem, c, raw);
        }
        self.int_free(mem, c)
    }

    fn do_realloc(&mut self, mem: &mut dyn Memory, p: u64, n: u64) -> R<u64> {
        if p == 0 {
            self.note(|| "realloc(NULL, n) is malloc(n)".to_string());
            return self.do_malloc(mem, n);
        }
        if n == 0 {
            self.do_free(mem, p)?;
            self.note(|| "realloc(p, 0) freed the block and returned NULL".to_string());
            return Ok(0);
        }
        let c = p.wrapping_sub(self.abi.hdr());
        let raw = self.abi.rd(mem, c.wrapping_add(self.abi.size_sz))?;
        let oldsize = raw & !SIZE_BITS;
        if c > self.abi.word(oldsize.wrapping_neg()) || (c + self.abi.hdr()) & (ALIGN - 1) != 0 {
            return abort("realloc(): invalid pointer");
        }
        let Some(nb) = self.abi.request2size(n) else {
            self.note(|| "request too large (ENOMEM); the block is kept".to_string());
            return Ok(0);
        };
        if raw & IS_MMAPPED != 0 {
            return self.realloc_mapped(mem, c, oldsize, nb, n);
        }
        if raw <= 2 * self.abi.size_sz || !self.created || oldsize >= self.system_mem() {
            return abort("realloc(): invalid old size");
        }
        match self.chunks.get(&c) {
            Some(k) if self.is_user_chunk(c) && k.state == State::InUse => {
                if k.size != oldsize {
                    return abort("realloc(): invalid old size");
                }
            }
            _ => return abort("realloc(): invalid pointer"),
        }
        let next = c + oldsize;
        let nraw = self.abi.rd(mem, next + self.abi.size_sz)?;
        let nsize = nraw & !SIZE_BITS;
        let expect_next = if next == self.top {
            self.top_size()
        } else {
            self.size_of(next)
        };
        if nraw <= 2 * self.abi.size_sz || nsize >= self.system_mem() || nsize != expect_next {
            return abort("realloc(): invalid next size");
        }
        let newsize;
        // glibc reads the bit only when the chunk must grow and the next chunk is not top.
        let next_free = if oldsize < nb && next != self.top {
            self.abi.rd(mem, next + nsize + self.abi.size_sz)? & PREV_INUSE == 0
        } else {
            false
        };
        if oldsize >= nb {
            newsize = oldsize;
            self.note(|| "kept in place: the chunk is big enough".to_string());
        } else if next == self.top && oldsize + nsize >= nb + self.abi.minsize {
            self.set_head_size(mem, c, nb)?;
            self.top = c + nb;
            self.abi.wr(
                mem,
                self.top + self.abi.size_sz,
                (oldsize + nsize - nb) | PREV_INUSE,
            )?;
            if let Some(k) = self.chunks.get_mut(&c) {
                k.size = nb;
                k.requested = n;
            }
            self.note(|| "grew in place: the next chunk is top".to_string());
            return Ok(p);
        } else if next_free && oldsize + nsize >= nb {
            self.unlink(mem, next)?;
            self.chunks.remove(&next);
            newsize = oldsize + nsize;
            self.note(|| format!("grew in place into the free {nsize:#x} chunk after it"));
        } else {
            let next_was_top = next == self.top;
            let next_state = self.chunks.get(&next).map(|k| k.state);
            let Some(nc) = self.int_malloc(mem, nb)? else {
                self.note(|| "no memory (ENOMEM); the block is kept".to_string());
                return Ok(0);
            };
            if nc == next && !self.mapped.contains_key(&nc) {
                newsize = self.size_of(nc) + oldsize;
                self.chunks.remove(&nc);
                self.note(|| {
                    "kept its address: the new chunk was carved from top right after it".to_string()
                });
            } else {
                Self::copy(mem, p, nc + self.abi.hdr(), oldsize - self.abi.size_sz)?;
                self.set_requested(nc, n);
                let why = if next_was_top {
                    "top is too small".to_string()
                } else if next_free {
                    format!("the free {nsize:#x} chunk after it is too small")
                } else {
                    match next_state {
                        Some(State::Tcache) => {
                            "the next chunk is in tcache, which keeps it marked in use".to_string()
                        }
                        Some(State::Fast) => {
                            "the next chunk is in a fastbin, which keeps it marked in use"
                                .to_string()
                        }
                        _ => "the next chunk is in use".to_string(),
                    }
                };
                let before = self.notes.len();
                self.int_free(mem, c)?;
                let went = self.notes.split_off(before.min(self.notes.len()));
                self.note(|| format!("moved: {why}; old block {p:#x} went {}", went.join(", ")));
                return Ok(nc + self.abi.hdr());
            }
        }
        if let Some(k) = self.chunks.get_mut(&c) {
            k.requested = n;
        }
        let rsize = newsize - nb;
        if rsize < self.abi.minsize {
            self.set_head_size(mem, c, newsize)?;
            self.set_inuse_bit(mem, c + newsize)?;
            if let Some(k) = self.chunks.get_mut(&c) {
                k.size = newsize;
            }
        } else {
            self.set_head_size(mem, c, nb)?;
            let rem = c + nb;
            self.abi
                .wr(mem, rem + self.abi.size_sz, rsize | PREV_INUSE)?;
            self.set_inuse_bit(mem, rem + rsize)?;
            if let Some(k) = self.chunks.get_mut(&c) {
                k.size = nb;
            }
            self.chunks.insert(
                rem,
                Chunk {
                    size: rsize,
                    state: State::InUse,
                    requested: 0,
                },
            );
            let before = self.notes.len();
            self.int_free(mem, rem)?;
            let went = self.notes.split_off(before.min(self.notes.len()));
            self.note(|| {
                format!(
                    "the {rsize:#x} remainder at {rem:#x} went {}",
                    went.join(", ")
                )
            });
        }
        Ok(p)
    }

    fn realloc_mapped(
        &mut self,
        mem: &mut dyn Memory,
        c: u64,
        oldsize: u64,
        nb: u64,
        n: u64,
    ) -> R<u64> {
        if self.mapped.get(&c).map(|m| m.len) != Some(oldsize) {
            return abort("mremap_chunk(): invalid pointer");
        }
        let p = c + self.abi.hdr();
        let pad = self.mapped.get(&c).map_or(0, |m| m.pad);
        let Some(new_len) = nb
            .checked_add(pad + self.abi.size_sz)
            .and_then(|v| align_up(v, self.abi.page))
        else {
            return Ok(0);
        };
        if new_len == oldsize + pad {
            self.set_requested(c, n);
            self.note(|| "kept: the mapping already has the right number of pages".to_string());
            return Ok(p);
        }
        if let Some(m) = mem.mremap(c - pad, oldsize + pad, new_len) {
            let a = m + pad;
            self.mapped.remove(&c);
            self.mapped.insert(
                a,
                Mapped {
                    len: new_len - pad,
                    pad,
                    requested: n,
                },
            );
            self.abi
                .wr(mem, a + self.abi.size_sz, (new_len - pad) | IS_MMAPPED)?;
            self.note(|| {
                if a == c {
                    format!("mremap resized the mapping in place to {}", pretty(new_len))
                } else {
                    format!("mremap moved the mapping to {m:#x} ({})", pretty(new_len))
                }
            });
            return Ok(a + self.abi.hdr());
        }
        if oldsize - self.abi.size_sz >= nb {
            return Ok(p);
        }
        let q = self.do_malloc(mem, n)?;
        if q == 0 {
            return Ok(0);
        }
        Self::copy(mem, p, q, oldsize - 2 * self.abi.size_sz)?;
        self.free_mapped(mem, c, oldsize | IS_MMAPPED)?;
        Ok(q)
    }

    fn do_calloc(&mut self, mem: &mut dyn Memory, n: u64, size: u64) -> R<u64> {
        let Some(bytes) = n.checked_mul(size) else {
            self.note(|| "n × size overflows: ENOMEM".to_string());
            return Ok(0);
        };
        let Some(nb) = self.abi.request2size(bytes) else {
            self.note(|| "request too large (ENOMEM)".to_string());
            return Ok(0);
        };
        if !self.ensure_heap(mem)? {
            let why = self.no_heap(mem);
            let c = self.mmap_chunk(mem, nb, || why)?;
            if let Some(c) = c {
                self.set_requested(c, bytes);
            }
            return Ok(c.map_or(0, |c| c + self.abi.hdr()));
        }
        // calloc goes straight to _int_malloc (no tcache); memory that was never part of the
        // heap before is known to be zero and is not cleared.
        let oldtop = self.top;
        let oldtopsize = self.top_size().max(self.max_end - self.top);
        let Some(c) = self.int_malloc(mem, nb)? else {
            return Ok(0);
        };
        self.set_requested(c, bytes);
        if self.mapped.contains_key(&c) {
            self.note(|| "not cleared: fresh mmapped memory is already zero".to_string());
            return Ok(c + self.abi.hdr());
        }
        let mut csz = self.size_of(c);
        if c == oldtop && csz > oldtopsize {
            csz = oldtopsize;
        }
        let clear = csz - self.abi.size_sz;
        let zeros = vec![0u8; BUF as usize];
        let mut done = 0;
        while done < clear {
            let k = (clear - done).min(BUF) as usize;
            mem.write(c + self.abi.hdr() + done, &zeros[..k])?;
            done += k as u64;
        }
        self.note(|| format!("cleared {clear} bytes"));
        Ok(c + self.abi.hdr())
    }

    fn state_name(st: State) -> &'static str {
        match st {
            State::InUse => "in use",
            State::Tcache => "tcache",
            State::Fast => "fastbin",
            State::Unsorted => "unsorted",
            State::Small => "small",
            State::Large => "large",
        }
    }
}

impl Allocator for Glibc {
    fn malloc(&mut self, mem: &mut dyn Memory, n: u64) -> Result<u64, HeapError> {
        self.begin(mem);
        let r = self.do_malloc(mem, n)?;
        self.finish(mem, || format!("malloc({n})"), r);
        Ok(r)
    }

    fn calloc(&mut self, mem: &mut dyn Memory, n: u64, size: u64) -> Result<u64, HeapError> {
        self.begin(mem);
        let r = self.do_calloc(mem, n, size)?;
        self.finish(mem, || format!("calloc({n}, {size})"), r);
        Ok(r)
    }

    fn realloc(&mut self, mem: &mut dyn Memory, p: u64, n: u64) -> Result<u64, HeapError> {
        self.begin(mem);
        let r = self.do_realloc(mem, p, n)?;
        self.finish(mem, || format!("realloc({p:#x}, {n})"), r);
        Ok(r)
    }

    fn free(&mut self, mem: &mut dyn Memory, p: u64) -> Result<(), HeapError> {
        self.begin(mem);
        self.do_free(mem, p)?;
        self.finish(mem, || format!("free({p:#x})"), 0);
        Ok(())
    }

    fn usable_size(&self, p: u64) -> u64 {
        let c = p.wrapping_sub(self.abi.hdr());
        if let Some(m) = self.mapped.get(&c) {
            return m.len - 2 * self.abi.size_sz;
        }
        match self.chunks.get(&c) {
            Some(k) if k.state == State::InUse && self.is_user_chunk(c) => {
                k.size - self.abi.size_sz
            }
            _ => 0,
        }
    }

    fn chunks(&self) -> Vec<ChunkView> {
        let mut v: Vec<ChunkView> = self
            .chunks
            .iter()
            .map(|(&addr, k)| ChunkView {
                addr,
                size: k.size,
                in_use: k.state == State::InUse,
                bin: Self::state_name(k.state).to_string(),
            })
            .collect();
        if self.created {
            v.push(ChunkView {
                addr: self.top,
                size: self.top_size(),
                in_use: false,
                bin: "top".to_string(),
            });
        }
        v.extend(self.mapped.iter().map(|(&addr, m)| ChunkView {
            addr,
            size: m.len,
            in_use: true,
            bin: "mmapped".to_string(),
        }));
        v.sort_by_key(|c| c.addr);
        v
    }

    fn block_at(&self, addr: u64) -> Option<Block> {
        if let Some((&c, m)) = self.mapped.range(..=addr).next_back() {
            if addr >= c + self.abi.hdr() && addr < c + m.len {
                return Some(Block {
                    ptr: c + self.abi.hdr(),
                    requested: m.requested,
                    usable: m.len - self.abi.hdr(),
                });
            }
        }
        let (&c, k) = self.chunks.range(..=addr).next_back()?;
        let inside = addr >= c + self.abi.hdr() && addr < c + k.size + self.abi.size_sz;
        (inside && k.state == State::InUse && self.is_user_chunk(c)).then_some(Block {
            ptr: c + self.abi.hdr(),
            requested: k.requested,
            usable: k.size - self.abi.size_sz,
        })
    }

    fn live_blocks(&self) -> Vec<Block> {
        let mut v: Vec<Block> = self
            .chunks
            .iter()
            .filter(|(&c, k)| k.state == State::InUse && self.is_user_chunk(c))
            .map(|(&c, k)| Block {
                ptr: c + self.abi.hdr(),
                requested: k.requested,
                usable: k.size - self.abi.size_sz,
            })
            .collect();
        v.extend(self.mapped.iter().map(|(&c, m)| Block {
            ptr: c + self.abi.hdr(),
            requested: m.requested,
            usable: m.len - self.abi.hdr(),
        }));
        v.sort_by_key(|b| b.ptr);
        v
    }

    fn regions(&self) -> Vec<(u64, u64)> {
        let mut v = Vec::with_capacity(1 + self.mapped.len());
        if self.created {
            v.push((self.start, self.end));
        }
        v.extend(self.mapped.iter().map(|(&c, m)| (c - m.pad, c + m.len)));
        v
    }

    fn clone_box(&self) -> Box<dyn Allocator> {
        Box::new(self.clone())
    }

    fn host_bytes(&self) -> usize {
        // A B-tree entry with its share of the node (free chunks' list entries included).
        (self.chunks.len() + self.mapped.len()) * 72
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::events::SegvCode;
    use crate::machine::Access;
    use crate::os::Trap;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};

    const HEAP: u64 = 0x405000;
    const PAGE: u64 = 4096;
    const MMAP_TOP: u64 = 0x7fff_f7dd_2000;

    /// A process in miniature: the program's pages from 0x400000 up to the break, top-down
    /// anonymous mappings below the TLS mapping, sparse bytes, and a log of written pages.
    pub(crate) struct Fake {
        bytes: HashMap<u64, u8>,
        brk: u64,
        next_map: u64,
        maps: BTreeMap<u64, u64>,
        written: BTreeSet<u64>,
        log: Vec<(String, u64, String)>,
    }

    impl Fake {
        pub(crate) fn new() -> Self {
            Fake {
                bytes: HashMap::new(),
                brk: HEAP,
                next_map: MMAP_TOP,
                maps: BTreeMap::new(),
                written: BTreeSet::new(),
                log: Vec::new(),
            }
        }
        fn ok(&self, a: u64, len: u64) -> bool {
            let end = a.saturating_add(len);
            if a >= 0x400000 && end <= self.brk {
                return true;
            }
            self.maps
                .range(..=a)
                .next_back()
                .is_some_and(|(&s, &l)| end <= s + l)
        }
        fn trap(a: u64) -> Trap {
            Trap::Segv {
                vaddr: a,
                access: Access::Read,
                code: SegvCode::MapErr,
                detail: String::new(),
            }
        }
        fn word(&mut self, a: u64) -> u64 {
            let mut b = [0u8; 8];
            self.read(a, &mut b).unwrap();
            u64::from_le_bytes(b)
        }
        fn drop_range(&mut self, from: u64, to: u64) {
            self.bytes.retain(|&a, _| a < from || a >= to);
        }
    }

    impl Memory for Fake {
        fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap> {
            if !self.ok(addr, bytes.len() as u64) {
                return Err(Self::trap(addr));
            }
            for (i, &b) in bytes.iter().enumerate() {
                let a = addr + i as u64;
                self.written.insert(a >> 12);
                if b == 0 {
                    self.bytes.remove(&a);
                } else {
                    self.bytes.insert(a, b);
                }
            }
            Ok(())
        }
        fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Trap> {
            if !self.ok(addr, buf.len() as u64) {
                return Err(Self::trap(addr));
            }
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.bytes.get(&(addr + i as u64)).copied().unwrap_or(0);
            }
            Ok(())
        }
        fn brk(&self) -> u64 {
            self.brk
        }
        fn set_brk(&mut self, addr: u64) -> u64 {
            if (HEAP..0x1000_0000).contains(&addr) {
                if addr < self.brk {
                    self.drop_range(addr, self.brk);
                }
                self.brk = addr;
            }
            self.brk
        }
        fn mmap(&mut self, len: u64) -> Option<u64> {
            if len > 1 << 34 {
                return None;
            }
            self.next_map -= len;
            self.maps.insert(self.next_map, len);
            Some(self.next_map)
        }
        fn munmap(&mut self, addr: u64, len: u64) {
            self.maps.remove(&addr);
            self.drop_range(addr, addr + len);
        }
        fn mremap(&mut self, addr: u64, old_len: u64, new_len: u64) -> Option<u64> {
            if new_len <= old_len {
                self.maps.insert(addr, new_len);
                self.drop_range(addr + new_len, addr + old_len);
                return Some(addr);
            }
            let new = self.mmap(new_len)?;
            let moved: Vec<(u64, u8)> = self
                .bytes
                .iter()
                .filter(|(&a, _)| a >= addr && a < addr + old_len)
                .map(|(&a, &b)| (a - addr + new, b))
                .collect();
            self.munmap(addr, old_len);
            self.bytes.extend(moved);
            Some(new)
        }
        fn map_fixed(&mut self, addr: u64, len: u64) -> bool {
            let (start, end) = (addr & !(PAGE - 1), (addr + len).div_ceil(PAGE) * PAGE);
            let clash = self
                .maps
                .range(..end)
                .next_back()
                .is_some_and(|(&s, &l)| s + l > start);
            if clash || (end > 0x400000 && start < self.brk) {
                return false;
            }
            self.maps.insert(start, end - start);
            true
        }
        fn explain(&mut self, call: &str, result: u64, detail: String) {
            self.log.push((call.to_string(), result, detail));
        }
        fn explaining(&self) -> bool {
            true
        }
    }

    fn setup() -> (Glibc, Fake) {
        (Glibc::new(7), Fake::new())
    }

    fn abort_msg(r: Result<impl std::fmt::Debug, HeapError>) -> String {
        match r {
            Err(HeapError::Abort(m)) => m,
            other => panic!("expected an abort, got {other:?}"),
        }
    }

    fn bin_of(g: &Glibc, p: u64) -> String {
        g.chunks()
            .into_iter()
            .find(|c| c.addr == p - 16)
            .map(|c| c.bin)
            .unwrap_or_default()
    }

    fn check_tiling(g: &Glibc) {
        let mut at = g.start;
        for c in g.chunks().iter().filter(|c| c.bin != "mmapped") {
            assert_eq!(c.addr, at, "chunks must tile the heap: {:?}", g.chunks());
            // i386's top ends on a page but starts 8 bytes past a multiple of 16.
            assert!(c.size >= g.abi.minsize && (c.size % 16 == 0 || c.bin == "top"));
            at += c.size;
        }
        assert_eq!(at, g.end);
    }

    #[test]
    fn first_malloc_creates_the_heap() {
        let (mut g, mut m) = setup();
        let p = g.malloc(&mut m, 40).unwrap();
        assert_eq!(p, 0x4052a0);
        assert_eq!(m.brk, 0x426000);
        assert_eq!(g.usable_size(p), 40);
        assert_eq!(m.word(0x405008), 0x291);
        assert_eq!(m.word(0x405298), 0x31);
        assert_eq!(m.word(0x4052c8), 0x20d41);
        let cs = g.chunks();
        assert_eq!(cs.len(), 3);
        assert_eq!(
            (cs[2].addr, cs[2].size, cs[2].bin.as_str()),
            (0x4052c0, 0x20d40, "top")
        );
        assert!(
            m.log[0].2.contains("brk grew by 132 KiB to 0x426000"),
            "{:?}",
            m.log
        );
        assert_eq!(g.malloc(&mut m, 0).unwrap(), 0x4052d0);
        assert_eq!(g.usable_size(0x4052d0), 24);
        check_tiling(&g);
    }

    /// The 32-bit numbers a `gcc -m32` program prints on Debian 12 (docs/profiles.md), with
    /// the heap at 0x405000 instead of 0x804d000: the offsets are the same.
    #[test]
    fn i386_has_4_byte_headers_and_its_own_first_chunk() {
        let mut g = Glibc::with_abi(0, Abi::of(Arch::I386, 4096));
        let mut m = Fake::new();
        let word = |m: &mut Fake, a: u64| m.word(a) & 0xffff_ffff;
        let p = g.malloc(&mut m, 40).unwrap();
        assert_eq!(p, HEAP + 0x1a0);
        assert_eq!(g.usable_size(p), 44);
        assert_eq!(word(&mut m, p - 4), 0x31);
        // tcache's 0x190-byte chunk starts 8 bytes in, so that user pointers are 16-aligned.
        assert_eq!(word(&mut m, HEAP + 8 + 4), 0x191);
        assert_eq!(m.brk, HEAP + 0x22000);
        let sizes: Vec<(u64, u64)> = [0, 1, 13, 20]
            .iter()
            .map(|&n| {
                let q = g.malloc(&mut m, n).unwrap();
                (q - HEAP, g.usable_size(q))
            })
            .collect();
        assert_eq!(sizes, [(0x1d0, 12), (0x1e0, 12), (0x1f0, 28), (0x210, 28)]);
        for (n, usable) in [
            (4, 12),
            (12, 12),
            (29, 44),
            (100, 108),
            (1000, 1004),
            (4096, 4108),
        ] {
            let q = g.malloc(&mut m, n).unwrap();
            assert_eq!((n, g.usable_size(q)), (n, usable));
            assert_eq!(q % 16, 0);
        }
        // Mmapped chunks start 8 bytes into their mapping (prev_size holds the 8).
        let big = g.malloc(&mut m, 200000).unwrap();
        assert_eq!(big & 0xfff, 0x010);
        assert_eq!(g.usable_size(big), 200688);
        assert_eq!(word(&mut m, big - 4), 0x30ffa);
        assert_eq!(word(&mut m, big - 8), 8);
        let mib = g.malloc(&mut m, 1 << 20).unwrap();
        assert_eq!(g.usable_size(mib), 1052656);
        check_tiling(&g);
        // Freeing it raises the threshold to its chunk size: the same request now fits the heap.
        g.free(&mut m, big).unwrap();
        assert_eq!(g.mmap_threshold, 0x30ff8);
        assert!(!m.maps.contains_key(&(big - 16)));
        let again = g.malloc(&mut m, 200000).unwrap();
        assert!(again < m.brk && again > HEAP);
    }

    #[test]
    fn i386_tcache_fastbin_and_bin_limits_follow_glibcs_macros() {
        let abi = Abi::of(Arch::I386, 4096);
        assert_eq!(
            (abi.minsize, abi.tcache_max, abi.max_fast, abi.min_large),
            (0x10, 0x400, 0x40, 0x3f0)
        );
        assert_eq!(abi.nfast(), 4);
        assert_eq!(abi.mmap_threshold_max, 512 << 10);
        assert_eq!(abi.bin_index(0x10), 2);
        assert_eq!(abi.bin_index(0x3e0), 63);
        assert_eq!(abi.bin_index(0x3f0), 64);
        let x = Abi::X86_64;
        assert_eq!(
            (x.minsize, x.tcache_max, x.max_fast, x.min_large, x.nfast()),
            (0x20, 0x410, 0x80, 0x400, 7)
        );
        assert_eq!(x.tcache_struct(), 0x280);
        assert_eq!(abi.tcache_struct(), 0x180);
    }

    #[test]
    fn bigger_pages_grow_the_break_and_round_mappings_in_their_own_pages() {
        for (page, first) in [(16384, 0x24000), (65536, 0x30000)] {
            let mut g = Glibc::with_abi(0, Abi::of(Arch::Aarch64, page));
            let mut m = Fake::new();
            // Linux starts the break on a page of the machine's size.
            let heap = 0x410000;
            m.brk = heap;
            let p = g.malloc(&mut m, 40).unwrap();
            assert_eq!(p, heap + 0x2a0);
            assert_eq!(m.brk - heap, first, "{page}");
            let big = g.malloc(&mut m, 200000).unwrap();
            let len = m.maps.get(&(big - 16)).copied();
            assert_eq!(
                len,
                Some(200016_u64.next_multiple_of(16).next_multiple_of(page))
            );
        }
    }

    #[test]
    fn big_requests_are_mmapped_and_free_raises_the_threshold() {
        let (mut g, mut m) = setup();
        g.malloc(&mut m, 40).unwrap();
        let p = g.malloc(&mut m, 1 << 20).unwrap();
        assert_eq!(p, 0x7fff_f7cd_1010);
        assert_eq!(g.usable_size(p), 0x101000 - 16);
        assert_eq!(m.word(p - 8), 0x101002);
        assert!(m.log[1]
            .2
            .contains("mmapped 1 MiB + 4 KiB (request ≥ mmap threshold 128 KiB)"));
        g.free(&mut m, p).unwrap();
        assert!(m.maps.is_empty());
        assert_eq!(g.mmap_threshold, 0x101000);
        assert_eq!(g.trim_threshold, 0x202000);
        // The same request now comes from the heap: brk grows instead.
        let q = g.malloc(&mut m, 1 << 20).unwrap();
        assert_eq!(q, 0x4052d0);
        assert_eq!(m.brk, 0x426000 + 0x100000);
        // A heap request of ≥ 128 KiB that top can satisfy is not mmapped.
        let (mut g, mut m) = setup();
        let r = g.malloc(&mut m, 130_000).unwrap();
        assert!(r < m.brk);
    }

    #[test]
    fn tcache_is_lifo_and_safe_linked() {
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        let b = g.malloc(&mut m, 40).unwrap();
        g.free(&mut m, a).unwrap();
        g.free(&mut m, b).unwrap();
        assert_eq!(m.word(b), (b >> 12) ^ a);
        assert_eq!(m.word(a), a >> 12);
        assert_eq!(m.word(b + 8), g.key);
        assert_eq!(bin_of(&g, a), "tcache");
        assert_eq!(g.malloc(&mut m, 40).unwrap(), b);
        assert!(m
            .log
            .last()
            .unwrap()
            .2
            .contains("from tcache (0x30 bin, 1 left)"));
        assert_eq!(m.word(b + 8), 0);
        assert_eq!(g.malloc(&mut m, 33).unwrap(), a);
    }

    #[test]
    fn eighth_free_goes_to_fastbin_or_unsorted() {
        let (mut g, mut m) = setup();
        let small: Vec<u64> = (0..8).map(|_| g.malloc(&mut m, 40).unwrap()).collect();
        let big: Vec<u64> = (0..8).map(|_| g.malloc(&mut m, 0x100).unwrap()).collect();
        let _guard = g.malloc(&mut m, 16).unwrap();
        for &p in small.iter().chain(&big) {
            g.free(&mut m, p).unwrap();
        }
        assert_eq!(bin_of(&g, small[6]), "tcache");
        assert_eq!(bin_of(&g, small[7]), "fastbin");
        assert_eq!(bin_of(&g, big[7]), "unsorted");
        assert_eq!(m.word(big[7]), UNSORTED_BIN);
        assert_eq!(m.word(big[7] + 8), UNSORTED_BIN);
        // The unsorted chunk's neighbour lost PREV_INUSE and got the footer.
        assert_eq!(m.word(big[7] + 0x100), 0x110);
        // Sorting on malloc moves it to its small bin (fd/bk = the bin at main_arena).
        g.malloc(&mut m, 0x600).unwrap();
        assert_eq!(bin_of(&g, big[7]), "small");
        assert_eq!(m.word(big[7]), 0x7fff_f7fa_8dc0);
        check_tiling(&g);
    }

    #[test]
    fn double_frees_abort_with_glibcs_messages() {
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        g.free(&mut m, a).unwrap();
        assert_eq!(
            abort_msg(g.free(&mut m, a)),
            "free(): double free detected in tcache 2"
        );

        let (mut g, mut m) = setup();
        let v: Vec<u64> = (0..8).map(|_| g.malloc(&mut m, 40).unwrap()).collect();
        for &p in &v {
            g.free(&mut m, p).unwrap();
        }
        assert_eq!(
            abort_msg(g.free(&mut m, v[7])),
            "double free or corruption (fasttop)"
        );

        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 0x500).unwrap();
        g.malloc(&mut m, 16).unwrap();
        g.free(&mut m, a).unwrap();
        assert_eq!(
            abort_msg(g.free(&mut m, a)),
            "double free or corruption (!prev)"
        );

        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 0x500).unwrap();
        g.free(&mut m, a).unwrap();
        assert_eq!(
            abort_msg(g.free(&mut m, a)),
            "double free or corruption (top)"
        );

        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        assert_eq!(abort_msg(g.free(&mut m, a + 8)), "free(): invalid pointer");
        assert_eq!(abort_msg(g.free(&mut m, a + 3)), "free(): invalid pointer");
        assert_eq!(
            abort_msg(g.free(&mut m, 0x404010)),
            "free(): invalid pointer"
        );
        g.free(&mut m, 0).unwrap();
    }

    #[test]
    fn overflow_into_the_next_header_is_detected() {
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        let b = g.malloc(&mut m, 40).unwrap();
        m.write(a, &[0x41; 48]).unwrap();
        assert_eq!(
            abort_msg(g.free(&mut m, b)),
            "double free or corruption (out)"
        );
        m.write(b - 8, &0x38u64.to_le_bytes()).unwrap();
        assert_eq!(abort_msg(g.free(&mut m, b)), "free(): invalid size");
        // Corrupting top's size is caught by the next malloc that splits top.
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        m.write(a + 40, &u64::MAX.to_le_bytes()).unwrap();
        assert_eq!(
            abort_msg(g.malloc(&mut m, 100)),
            "malloc(): corrupted top size"
        );
    }

    #[test]
    fn realloc_in_place_and_moving() {
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        let b = g.realloc(&mut m, a, 100).unwrap();
        assert_eq!(b, a);
        assert!(m
            .log
            .last()
            .unwrap()
            .2
            .contains("grew in place: the next chunk is top"));
        assert_eq!(g.usable_size(b), 0x68);

        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 40).unwrap();
        m.write(a, b"hello").unwrap();
        let _b = g.malloc(&mut m, 40).unwrap();
        let c = g.realloc(&mut m, a, 100).unwrap();
        assert_ne!(c, a);
        let mut buf = [0u8; 5];
        m.read(c, &mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        let why = &m.log.last().unwrap().2;
        assert!(
            why.contains("moved: the next chunk is in use; old block 0x4052a0 went to tcache"),
            "{why}"
        );
        assert_eq!(g.malloc(&mut m, 40).unwrap(), a);

        // Shrinking keeps the address; a remainder of at least 0x20 is freed.
        let s = g.realloc(&mut m, c, 10).unwrap();
        assert_eq!(s, c);
        assert_eq!(g.usable_size(s), 24);
        assert_eq!(bin_of(&g, c + 0x20), "tcache");
        assert_eq!(g.realloc(&mut m, 0, 0x40).unwrap(), c + 0x20);
        assert_eq!(g.realloc(&mut m, s, 0).unwrap(), 0);
        assert_eq!(bin_of(&g, s), "tcache");
    }

    #[test]
    fn realloc_next_to_a_small_top_grows_brk_like_glibc() {
        // Measured on Debian 12: brk grows by round_up(nb + 128 KiB + 32 - top, 4096) and the old
        // chunk's bytes are freed behind the grown block.
        let (mut g, mut m) = setup();
        g.malloc(&mut m, 40).unwrap();
        g.malloc(&mut m, 0x20a00).unwrap();
        let b = g.malloc(&mut m, 0x300).unwrap();
        assert_eq!(b, 0x425ce0);
        assert_eq!(g.top_size(), 0x20);
        let b2 = g.realloc(&mut m, b, 0x1000).unwrap();
        assert_eq!(b2, b);
        assert_eq!(m.brk, 0x426000 + 0x22000);
        assert_eq!(m.word(b2 - 8), 0x1011);
        assert_eq!(m.word(b2 + 0x1008), 0x311);
        assert_eq!(g.malloc(&mut m, 0x300).unwrap(), 0x426cf0);
        check_tiling(&g);
    }

    #[test]
    fn realloc_into_a_free_neighbour_and_to_mmap() {
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 0x500).unwrap();
        let b = g.malloc(&mut m, 0x500).unwrap();
        g.malloc(&mut m, 16).unwrap();
        g.free(&mut m, b).unwrap();
        assert_eq!(g.realloc(&mut m, a, 0x800).unwrap(), a);
        assert!(m
            .log
            .last()
            .unwrap()
            .2
            .contains("grew in place into the free"));
        check_tiling(&g);
        let big = g.realloc(&mut m, a, 1 << 20).unwrap();
        assert!(big > 0x7fff_0000_0000);
        let grown = g.realloc(&mut m, big, 2 << 20).unwrap();
        assert_eq!(g.usable_size(grown), 0x201000 - 16);
    }

    #[test]
    fn calloc_zeroes_heap_blocks_but_not_fresh_mappings() {
        let (mut g, mut m) = setup();
        let a = g.malloc(&mut m, 0x4000).unwrap();
        m.write(a, &[0xff; 0x4000]).unwrap();
        let _guard = g.malloc(&mut m, 16).unwrap();
        g.free(&mut m, a).unwrap();
        let c = g.calloc(&mut m, 0x1000, 4).unwrap();
        assert_eq!(c, a);
        let mut buf = vec![1u8; 0x4000];
        m.read(c, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0));

        m.written.clear();
        let z = g.calloc(&mut m, 1, 64 << 20).unwrap();
        assert_eq!(z % PAGE, 0x10);
        assert_eq!(m.written.len(), 1, "only the header page is touched");

        m.written.clear();
        let h = g.calloc(&mut m, 10, 1000).unwrap();
        assert!(h < m.brk);
        let pages: BTreeSet<u64> = ((h >> 12)..=((h + 9999) >> 12)).collect();
        assert!(pages.is_subset(&m.written));
        assert_eq!(g.calloc(&mut m, u64::MAX, 2).unwrap(), 0);
    }

    #[test]
    fn a_big_free_next_to_top_trims_the_break() {
        let (mut g, mut m) = setup();
        g.malloc(&mut m, 40).unwrap();
        let a = g.malloc(&mut m, 100_000).unwrap();
        let b = g.malloc(&mut m, 100_000).unwrap();
        let grown = m.brk;
        assert!(grown > 0x426000);
        g.free(&mut m, b).unwrap();
        assert!(m.brk < grown);
        assert_eq!(m.brk, g.end);
        let area = g.top_size() - g.abi.minsize - 1;
        assert!(area > TOP_PAD && area - TOP_PAD < PAGE);
        assert!(m.log.last().unwrap().2.contains("brk trimmed"));
        check_tiling(&g);
        g.free(&mut m, a).unwrap();
        check_tiling(&g);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Malloc(u64),
        Calloc(u64, u64),
        Realloc(usize, u64),
        Free(usize),
    }

    fn size() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..128, 0u64..0x500, 0u64..70_000, 100_000u64..300_000]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => size().prop_map(Op::Malloc),
            1 => (1u64..64, 0u64..2000).prop_map(|(a, b)| Op::Calloc(a, b)),
            2 => (any::<usize>(), size()).prop_map(|(i, n)| Op::Realloc(i, n)),
            4 => any::<usize>().prop_map(Op::Free),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn random_sequences_keep_the_heap_sound(ops in proptest::collection::vec(op(), 1..60)) {
            let (mut g, mut m) = setup();
            // live block -> (requested, fill byte)
            let mut live: BTreeMap<u64, (u64, u8)> = BTreeMap::new();
            let mut tag = 1u8;
            for op in ops {
                tag = tag.wrapping_add(1).max(1);
                match op {
                    Op::Malloc(n) | Op::Calloc(1, n) => {
                        let p = g.malloc(&mut m, n).unwrap();
                        prop_assert!(p != 0);
                        m.write(p, &vec![tag; n.min(4096) as usize]).unwrap();
                        live.insert(p, (n.min(4096), tag));
                    }
                    Op::Calloc(a, b) => {
                        let p = g.calloc(&mut m, a, b).unwrap();
                        let n = (a * b).min(4096);
                        let mut buf = vec![1u8; n as usize];
                        m.read(p, &mut buf).unwrap();
                        prop_assert!(buf.iter().all(|&x| x == 0));
                        m.write(p, &vec![tag; n as usize]).unwrap();
                        live.insert(p, (n, tag));
                    }
                    Op::Realloc(i, n) => {
                        if live.is_empty() { continue; }
                        let (&p, &(len, t)) = live.iter().nth(i % live.len()).unwrap();
                        let q = g.realloc(&mut m, p, n).unwrap();
                        live.remove(&p);
                        if n == 0 { prop_assert_eq!(q, 0); continue; }
                        let keep = len.min(n);
                        let mut buf = vec![0u8; keep as usize];
                        m.read(q, &mut buf).unwrap();
                        prop_assert!(buf.iter().all(|&x| x == t), "realloc lost data");
                        live.insert(q, (keep, t));
                    }
                    Op::Free(i) => {
                        if live.is_empty() { continue; }
                        let (&p, _) = live.iter().nth(i % live.len()).unwrap();
                        g.free(&mut m, p).unwrap();
                        live.remove(&p);
                    }
                }
                // Alignment, no overlap, contents intact, heap tiled by chunks.
                let blocks = g.live_blocks();
                prop_assert_eq!(blocks.len(), live.len());
                for w in blocks.windows(2) {
                    prop_assert!(w[0].ptr + w[0].usable <= w[1].ptr);
                }
                for (&p, &(len, t)) in &live {
                    prop_assert_eq!(p % 16, 0);
                    prop_assert!(g.usable_size(p) >= len);
                    let mut buf = vec![0u8; len as usize];
                    m.read(p, &mut buf).unwrap();
                    prop_assert!(buf.iter().all(|&x| x == t), "block {:#x} was overwritten", p);
                }
                check_tiling(&g);
            }
        }
    }
}

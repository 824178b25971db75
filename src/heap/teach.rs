//! The teaching allocators `first_fit`, `best_fit` and `worst_fit`: an explicit free list over
//! a fixed heap, as in OSTEP's free-space chapter (17) and its `malloc.py` simulator.
//!
//! Conventions (textbook answers depend on them):
//! - The heap is `size` bytes at `base` (`heap 100 B at 1000`). It is mapped as an anonymous
//!   read-write mapping (the pages covering it) on the allocator's first call, so the program can
//!   touch what it allocates; before any call, the heap's pages are not mapped.
//! - A block is `header + n` bytes; the pointer handed out is the block's start plus `header`
//!   (`header 0` by default, as in OSTEP's exercises). With a header, the first `min(header, 8)`
//!   bytes hold the block's usable size (a little-endian word), as OSTEP's figure 17.2 does.
//!   There is no alignment (`malloc.py`'s default). `malloc(0)` takes one byte, so each pointer
//!   is unique.
//! - Splitting: the allocated block takes the *front* of the chosen free block; the remainder
//!   stays free at the chosen block's place in the list. Remainders of any size are kept
//!   (OSTEP's splinters), even when they are too small for a header.
//! - Choice: `first_fit` takes the first block in list order that is big enough; `best_fit` the
//!   smallest big-enough block and `worst_fit` the largest, the earliest in list order on ties.
//! - List order: `address` (sorted by address), `size_asc` / `size_desc` (sorted by size, ties
//!   by address; kept sorted after every split and merge), `insert_front` / `insert_back` (a
//!   freed block goes to the head / tail of the list).
//! - `coalesce on`: after every free, every pair of address-adjacent free blocks is merged (not
//!   only list neighbours); a merged block keeps the front-most list position of its parts.
//! - `align N` rounds every request up to a multiple of N before the header is added
//!   (`malloc.py -a N`).
//! - `conventions ostep` follows `malloc.py` where it differs: `coalesce on` walks the list in
//!   its order and merges a block into the one before it in the list only when the two are
//!   adjacent in memory (so an unsorted list leaves neighbours apart); `size_asc`/`size_desc`
//!   order by size alone, ties kept in list order, and are sorted only when a block is freed,
//!   not after a split or a merge; `malloc(0)` takes a header-only block (one byte when there
//!   is no header, so that each pointer stays unique).
//! - A failed allocation returns NULL (0) and explains why; it is not a crash. `free` of a
//!   pointer that is not the start of a live block aborts, as glibc does.
//! - `realloc` shrinks in place (the tail is freed), grows in place into a free block right
//!   after it, and otherwise allocates, copies and frees; when that fails it returns NULL and
//!   leaves the old block alone, as C requires.

use std::collections::BTreeMap;

use super::{Allocator, Block, ChunkView, HeapError, Memory};
use super::{AllocatorKind, FreeListOrder, TeachHeap};
use crate::units::Radix;

/// Which free block a request takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    First,
    Best,
    Worst,
}

impl Fit {
    /// The policy of a teaching allocator; `None` for glibc.
    pub fn of(kind: AllocatorKind) -> Option<Fit> {
        match kind {
            AllocatorKind::FirstFit => Some(Fit::First),
            AllocatorKind::BestFit => Some(Fit::Best),
            AllocatorKind::WorstFit => Some(Fit::Worst),
            AllocatorKind::Glibc => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Fit::First => "first fit",
            Fit::Best => "best fit",
            Fit::Worst => "worst fit",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Blk {
    /// Header included.
    size: u64,
    free: bool,
    requested: u64,
}

/// One teaching allocator over its fixed heap.
#[derive(Clone, Debug)]
pub struct Teach {
    fit: Fit,
    heap: TeachHeap,
    /// The base its explanations write addresses in.
    radix: Radix,
    /// `None` until the first call maps the heap; `Some(false)` if it could not be mapped.
    mapped: Option<bool>,
    /// Every block, by address; together they tile the heap.
    blocks: BTreeMap<u64, Blk>,
    /// The free list: addresses of free blocks, in list order.
    list: Vec<u64>,
    /// `conventions ostep`: `malloc.py`'s rules (see the module's notes).
    ostep: bool,
}

type R<T> = Result<T, HeapError>;

impl Teach {
    pub fn new(fit: Fit, heap: TeachHeap, radix: Radix, ostep: bool) -> Self {
        let mut blocks = BTreeMap::new();
        let mut list = Vec::new();
        // The machine checker rejects empty heaps and overflowing ones; stay sound anyway.
        let size = heap.size.min(u64::MAX - heap.base);
        if size > 0 {
            blocks.insert(
                heap.base,
                Blk {
                    size,
                    free: true,
                    requested: 0,
                },
            );
            list.push(heap.base);
        }
        Teach {
            fit,
            heap,
            radix,
            mapped: None,
            blocks,
            list,
            ostep,
        }
    }

    fn ensure_mapped(&mut self, mem: &mut dyn Memory) -> bool {
        if let Some(ok) = self.mapped {
            return ok;
        }
        let ok = self.heap.size > 0 && mem.map_fixed(self.heap.base, self.heap.size);
        self.mapped = Some(ok);
        ok
    }

    fn need(&self, n: u64) -> Option<u64> {
        let n = if self.ostep && self.heap.header > 0 {
            n
        } else {
            n.max(1)
        };
        let n = match self.heap.align {
            0 | 1 => n,
            a => n.checked_next_multiple_of(a)?,
        };
        n.checked_add(self.heap.header)
    }

    /// Keeps the list in its order after a block was inserted or changed size. Under `ostep`
    /// the list is sorted only when a block is freed ([`Teach::push_free`]).
    fn resort(&mut self) {
        if !self.ostep {
            self.sort_list();
        }
    }

    fn sort_list(&mut self) {
        let blocks = &self.blocks;
        let size = |a: &u64| blocks.get(a).map_or(0, |b| b.size);
        if self.ostep {
            // malloc.py sorts by size alone with Python's stable sort.
            match self.heap.order {
                FreeListOrder::SizeAsc => self.list.sort_by_key(size),
                FreeListOrder::SizeDesc => self.list.sort_by_key(|a| std::cmp::Reverse(size(a))),
                FreeListOrder::Address => self.list.sort_unstable(),
                FreeListOrder::InsertFront | FreeListOrder::InsertBack => {}
            }
            return;
        }
        match self.heap.order {
            FreeListOrder::Address => self.list.sort_unstable(),
            FreeListOrder::SizeAsc => self.list.sort_by_key(|a| (size(a), *a)),
            FreeListOrder::SizeDesc => self.list.sort_by_key(|a| (std::cmp::Reverse(size(a)), *a)),
            FreeListOrder::InsertFront | FreeListOrder::InsertBack => {}
        }
    }

    /// Puts a newly freed block on the list, where the order says.
    fn push_free(&mut self, a: u64) {
        match self.heap.order {
            FreeListOrder::InsertFront => self.list.insert(0, a),
            _ => self.list.push(a),
        }
        self.sort_list();
    }

    /// `malloc.py`'s merge: one walk down the list, a block joining the one before it in the
    /// list when it starts where that one ends.
    fn coalesce_list(&mut self) -> usize {
        let mut merges = 0;
        let mut kept: Vec<u64> = Vec::with_capacity(self.list.len());
        for &a in &self.list {
            if let Some(&c) = kept.last() {
                let cs = self.blocks.get(&c).map_or(0, |b| b.size);
                if c + cs == a {
                    let s = self.blocks.remove(&a).map_or(0, |b| b.size);
                    if let Some(cb) = self.blocks.get_mut(&c) {
                        cb.size += s;
                    }
                    merges += 1;
                    continue;
                }
            }
            kept.push(a);
        }
        self.list = kept;
        merges
    }

    /// Merges every pair of address-adjacent free blocks; returns how many merges happened.
    fn coalesce(&mut self) -> usize {
        if self.ostep {
            return self.coalesce_list();
        }
        let mut merges = 0;
        let addrs: Vec<u64> = self.blocks.keys().copied().collect();
        let mut cur: Option<u64> = None;
        for a in addrs {
            let Some(&b) = self.blocks.get(&a) else {
                continue;
            };
            match cur {
                Some(c) if b.free => {
                    let Some(cb) = self.blocks.get_mut(&c) else {
                        continue;
                    };
                    cb.size += b.size;
                    self.blocks.remove(&a);
                    let ic = self.list.iter().position(|&x| x == c);
                    let ia = self.list.iter().position(|&x| x == a);
                    if let (Some(ic), Some(ia)) = (ic, ia) {
                        self.list[ic.min(ia)] = c;
                        self.list.remove(ic.max(ia));
                    }
                    merges += 1;
                }
                _ => cur = b.free.then_some(a),
            }
        }
        if merges > 0 {
            self.resort();
        }
        merges
    }

    fn write_header(&self, mem: &mut dyn Memory, a: u64, size: u64) -> R<()> {
        let h = self.heap.header.min(8) as usize;
        if h > 0 {
            let word = (size - self.heap.header).to_le_bytes();
            mem.write(a, &word[..h])?;
        }
        Ok(())
    }

    /// Picks a free block of at least `need` bytes: its list index and how many list entries
    /// the search looked at.
    fn choose(&self, need: u64) -> (Option<usize>, usize) {
        let sizes = self
            .list
            .iter()
            .map(|a| self.blocks.get(a).map_or(0, |b| b.size));
        match self.fit {
            Fit::First => {
                for (i, s) in sizes.enumerate() {
                    if s >= need {
                        return (Some(i), i + 1);
                    }
                }
                (None, self.list.len())
            }
            Fit::Best | Fit::Worst => {
                let mut best: Option<(usize, u64)> = None;
                for (i, s) in sizes.enumerate() {
                    if s < need {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some((_, bs)) if self.fit == Fit::Best => s < bs,
                        Some((_, bs)) => s > bs,
                    };
                    if better {
                        best = Some((i, s));
                    }
                }
                (best.map(|b| b.0), self.list.len())
            }
        }
    }

    /// An address as this machine prints it: `1000` or `0x3e8`.
    fn at(&self, a: u64) -> String {
        self.radix.addr(a)
    }

    /// The free list as `[1000 (100 B), ...]` for explanations.
    fn list_text(&self) -> String {
        let items: Vec<String> = self
            .list
            .iter()
            .map(|&a| {
                format!(
                    "{} ({} B)",
                    self.at(a),
                    self.blocks.get(&a).map_or(0, |b| b.size)
                )
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    fn alloc(&mut self, mem: &mut dyn Memory, n: u64, why: &mut String) -> R<u64> {
        if !self.ensure_mapped(mem) {
            *why = format!(
                "the heap's pages ({} B at {}) overlap another mapping: nothing can be allocated",
                self.heap.size,
                self.at(self.heap.base)
            );
            return Ok(0);
        }
        let Some(need) = self.need(n) else {
            *why = "the request is larger than the address space".into();
            return Ok(0);
        };
        let (pick, searched) = self.choose(need);
        let Some(i) = pick else {
            *why = format!(
                "{}: no free block of {need} B or more (searched {searched}; free list {})",
                self.fit.name(),
                self.list_text()
            );
            return Ok(0);
        };
        let a = self.list[i];
        let Some(b) = self.blocks.get(&a).copied() else {
            return Ok(0);
        };
        let rest = b.size - need;
        self.blocks.insert(
            a,
            Blk {
                size: need,
                free: false,
                requested: n,
            },
        );
        if rest > 0 {
            self.blocks.insert(
                a + need,
                Blk {
                    size: rest,
                    free: true,
                    requested: 0,
                },
            );
            self.list[i] = a + need;
            self.resort();
        } else {
            self.list.remove(i);
        }
        self.write_header(mem, a, need)?;
        *why = format!(
            "{}: looked at {searched} of {} free blocks; took the front {need} B of the {} B free block at {}{}; free list now {}",
            self.fit.name(),
            self.list.len() + usize::from(rest == 0),
            b.size,
            self.at(a),
            if rest > 0 {
                format!(" ({rest} B stay free at {})", self.at(a + need))
            } else {
                " (all of it)".into()
            },
            self.list_text()
        );
        Ok(a + self.heap.header)
    }

    /// The live block whose pointer is `p`.
    fn live(&self, p: u64) -> Option<(u64, Blk)> {
        let a = p.checked_sub(self.heap.header)?;
        let b = *self.blocks.get(&a)?;
        (!b.free).then_some((a, b))
    }

    fn release(&mut self, mem: &mut dyn Memory, p: u64, call: &str) -> R<String> {
        let Some((a, b)) = self.live(p) else {
            let freed = p
                .checked_sub(self.heap.header)
                .and_then(|a| self.blocks.get(&a))
                .is_some_and(|b| b.free);
            return Err(HeapError::Abort(if freed {
                format!(
                    "{call}: double free detected (the block at {} is already free)",
                    self.at(p)
                )
            } else {
                format!(
                    "{call}: invalid pointer ({} is not the start of an allocated block)",
                    self.at(p)
                )
            }));
        };
        let _ = mem;
        if let Some(k) = self.blocks.get_mut(&a) {
            k.free = true;
            k.requested = 0;
        }
        self.push_free(a);
        let merged = if self.heap.coalesce {
            self.coalesce()
        } else {
            0
        };
        Ok(format!(
            "the {} B block at {} is free again{}; free list now {}",
            b.size,
            self.at(a),
            match merged {
                0 => String::new(),
                1 => " (coalesced with a free neighbour)".into(),
                _ => " (coalesced with both free neighbours)".into(),
            },
            self.list_text()
        ))
    }

    fn realloc_inner(&mut self, mem: &mut dyn Memory, p: u64, n: u64, why: &mut String) -> R<u64> {
        if p == 0 {
            return self.alloc(mem, n, why);
        }
        if n == 0 {
            *why = self.release(mem, p, "realloc()")?;
            return Ok(0);
        }
        let Some((a, b)) = self.live(p) else {
            return Err(HeapError::Abort(format!(
                "realloc(): invalid pointer ({} is not the start of an allocated block)",
                self.at(p)
            )));
        };
        let Some(need) = self.need(n) else {
            *why = "the request is larger than the address space".into();
            return Ok(0);
        };
        if need <= b.size {
            let rest = b.size - need;
            self.blocks.insert(
                a,
                Blk {
                    size: need,
                    free: false,
                    requested: n,
                },
            );
            if rest > 0 {
                self.blocks.insert(
                    a + need,
                    Blk {
                        size: rest,
                        free: true,
                        requested: 0,
                    },
                );
                self.push_free(a + need);
                if self.heap.coalesce {
                    self.coalesce();
                }
            }
            self.write_header(mem, a, need)?;
            *why = if rest == 0 {
                "kept in place: the block already has exactly this size".to_string()
            } else {
                format!("shrank in place; {rest} B at its end are free again")
            };
            return Ok(p);
        }
        let next = a + b.size;
        if let Some(nb) = self.blocks.get(&next).copied() {
            if nb.free && b.size + nb.size >= need {
                let rest = b.size + nb.size - need;
                self.blocks.remove(&next);
                self.blocks.insert(
                    a,
                    Blk {
                        size: need,
                        free: false,
                        requested: n,
                    },
                );
                let i = self.list.iter().position(|&x| x == next);
                if rest > 0 {
                    self.blocks.insert(
                        a + need,
                        Blk {
                            size: rest,
                            free: true,
                            requested: 0,
                        },
                    );
                    match i {
                        Some(i) => self.list[i] = a + need,
                        None => self.list.push(a + need),
                    }
                    self.resort();
                } else if let Some(i) = i {
                    self.list.remove(i);
                }
                self.write_header(mem, a, need)?;
                *why = format!("grew in place into the free block at {}", self.at(next));
                return Ok(p);
            }
        }
        let mut inner = String::new();
        let q = self.alloc(mem, n, &mut inner)?;
        if q == 0 {
            *why = format!("could not grow: {inner}; the old block is unchanged");
            return Ok(0);
        }
        let keep = (b.size - self.heap.header).min(n);
        let mut buf = vec![0u8; 4096];
        let mut off = 0;
        while off < keep {
            let k = (keep - off).min(4096) as usize;
            mem.read(p + off, &mut buf[..k])?;
            mem.write(q + off, &buf[..k])?;
            off += k as u64;
        }
        let freed = self.release(mem, p, "realloc()")?;
        *why = format!("moved: {inner}; copied {keep} B; {freed}");
        Ok(q)
    }

    fn explain(mem: &mut dyn Memory, call: impl FnOnce() -> String, result: u64, why: String) {
        if mem.explaining() {
            mem.explain(&call(), result, why);
        }
    }
}

impl Allocator for Teach {
    fn malloc(&mut self, mem: &mut dyn Memory, n: u64) -> Result<u64, HeapError> {
        let mut why = String::new();
        let r = self.alloc(mem, n, &mut why)?;
        Self::explain(mem, || format!("malloc({n})"), r, why);
        Ok(r)
    }

    fn calloc(&mut self, mem: &mut dyn Memory, n: u64, size: u64) -> Result<u64, HeapError> {
        let mut why = String::new();
        let r = match n.checked_mul(size) {
            None => {
                why = "n × size overflows".into();
                0
            }
            Some(total) => {
                let p = self.alloc(mem, total, &mut why)?;
                if p != 0 {
                    let zeros = [0u8; 4096];
                    let mut off = 0;
                    while off < total {
                        let k = (total - off).min(4096) as usize;
                        mem.write(p + off, &zeros[..k])?;
                        off += k as u64;
                    }
                    why.push_str("; zeroed");
                }
                p
            }
        };
        Self::explain(mem, || format!("calloc({n}, {size})"), r, why);
        Ok(r)
    }

    fn realloc(&mut self, mem: &mut dyn Memory, p: u64, n: u64) -> Result<u64, HeapError> {
        let mut why = String::new();
        let r = self.realloc_inner(mem, p, n, &mut why)?;
        let p_text = self.at(p);
        Self::explain(mem, || format!("realloc({p_text}, {n})"), r, why);
        Ok(r)
    }

    fn free(&mut self, mem: &mut dyn Memory, p: u64) -> Result<(), HeapError> {
        if p == 0 {
            return Ok(());
        }
        let why = self.release(mem, p, "free()")?;
        let p_text = self.at(p);
        Self::explain(mem, || format!("free({p_text})"), 0, why);
        Ok(())
    }

    fn usable_size(&self, p: u64) -> u64 {
        self.live(p).map_or(0, |(_, b)| b.size - self.heap.header)
    }

    fn free_list(&self) -> Option<Vec<(u64, u64)>> {
        Some(
            self.list
                .iter()
                .map(|&a| (a, self.blocks.get(&a).map_or(0, |b| b.size)))
                .collect(),
        )
    }

    fn chunks(&self) -> Vec<ChunkView> {
        self.blocks
            .iter()
            .map(|(&a, b)| ChunkView {
                addr: a,
                size: b.size,
                in_use: !b.free,
                bin: if b.free {
                    match self.list.iter().position(|&x| x == a) {
                        Some(i) => format!("free list #{i}"),
                        None => "free list".into(),
                    }
                } else {
                    String::new()
                },
            })
            .collect()
    }

    fn block_at(&self, addr: u64) -> Option<Block> {
        let (&a, b) = self.blocks.range(..=addr).next_back()?;
        let ptr = a + self.heap.header;
        // Free splinters can be smaller than a header: build the block only for a live one.
        (!b.free && addr >= ptr && addr < a + b.size).then(|| Block {
            ptr,
            requested: b.requested,
            usable: b.size.saturating_sub(self.heap.header),
        })
    }

    fn live_blocks(&self) -> Vec<Block> {
        self.blocks
            .iter()
            .filter(|(_, b)| !b.free)
            .map(|(&a, b)| Block {
                ptr: a + self.heap.header,
                requested: b.requested,
                usable: b.size - self.heap.header,
            })
            .collect()
    }

    fn regions(&self) -> Vec<(u64, u64)> {
        if self.mapped == Some(true) {
            vec![(
                self.heap.base,
                self.heap.base.saturating_add(self.heap.size),
            )]
        } else {
            Vec::new()
        }
    }

    fn clone_box(&self) -> Box<dyn Allocator> {
        Box::new(self.clone())
    }

    fn host_bytes(&self) -> usize {
        self.blocks.len() * 64 + self.list.len() * 8
    }
}

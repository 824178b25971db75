//! A lean run's steady state: memory full, every frame one of the region's pages, the region's
//! entries in one leaf table, a fully associative TLB of at most 64 entries (or none), and a
//! policy that needs no question per frame (FIFO, CLOCK, and LRU or OPT over a few frames). Each reference
//! then touches a handful of arrays held in registers for a whole chunk: the region's frames,
//! the frames' pages and TLB slots, the leaf table, the TLB's entries and its word of free
//! slots, the frames' records and the policy's state ([`Steady`]), all written back when the
//! chunk ends. OPT over a few frames is steady too: its next uses come with the references. Each step changes what `refill.rs`'s general loop changes; the property tests in
//! `session/replay.rs` compare whole machines after random replays both ways.

use super::pagetable::{pte, Loc};
use super::refill::RegionRun;
use super::replace::{Steady, SteadyKind, STEADY_CLOCK, STEADY_FIFO, STEADY_LRU, STEADY_OPT};
use super::tlb::TlbEntry;
use super::{Access, FrameInfo, FrameUse, MachineStats, Mmu, NextUses, PageRef};

mod settled;

#[cfg(test)]
pub use settled::SETTLED_REFS;

const NO: u32 = u32::MAX;

#[cfg(test)]
thread_local! {
    /// References offered to the steady loop on this thread: tests check that the cases meant
    /// to reach it do.
    pub static STEADY_REFS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// What a steady chunk works on, borrowed for its length.
struct Parts<'a> {
    run: &'a mut RegionRun,
    leaf: &'a mut [u64],
    leaf_table: u32,
    leaf_mask: u64,
    entries: &'a mut [TlbEntry],
    invalid: &'a mut u64,
    frames: &'a mut [FrameInfo],
    policy: &'a mut Steady,
    shift: u32,
    va_limit: u64,
    levels: u64,
}

impl Mmu {
    /// Replays `refs` in the steady state if the machine is in it: `None` if it is not (the
    /// general loop takes them), else how many it did, the next one (if any) being one it
    /// leaves to the general loop.
    pub(super) fn region_steady(
        &mut self,
        run: &mut RegionRun,
        refs: &[PageRef],
        ahead: Option<NextUses<'_>>,
        st: &mut MachineStats,
    ) -> Option<usize> {
        let (leaf_high, leaf_table) = run.leaf;
        let bits = run.leaf_bits;
        let last = run.at.checked_add(run.pages.checked_sub(1)?)?;
        if !run.full || run.at >> bits != leaf_high || last >> bits != leaf_high {
            return None;
        }
        let total = self.frames.total();
        if self.frame_info.len() as u64 != total || run.held.len() != total as usize {
            return None;
        }
        let mut policy = self.repl.steady(&self.frame_info)?;
        let kind = policy.kind();
        let tlb_lru = self.tlb.lru();
        let tlb = if self.tlb.enabled {
            Some(self.tlb.steady_parts()?)
        } else {
            None
        };
        let mut none = [];
        let mut no_invalid = 0;
        let (entries, invalid) = match tlb {
            Some((e, i)) => (e, i),
            None => (&mut none[..], &mut no_invalid),
        };
        let tlb_on = !entries.is_empty();
        let levels = self.tables.levels() as u64;
        let mut p = Parts {
            run,
            leaf: self.tables.table_mut(leaf_table),
            leaf_table,
            leaf_mask: (1 << bits) - 1,
            entries,
            invalid,
            frames: &mut self.frame_info,
            policy: &mut policy,
            shift: self.shift,
            va_limit: self.va_limit,
            levels,
        };
        #[cfg(test)]
        STEADY_REFS.with(|n| n.set(n.get() + refs.len() as u64));
        // One loop per policy and TLB (OPT's alone reads the next uses, as they are kept), so
        // that no step asks which.
        let none: &[u64] = &[];
        let done = match (kind, tlb_on, tlb_lru, ahead) {
            (SteadyKind::Fifo, false, ..) => {
                p.steps::<STEADY_FIFO, false, false, _>(refs, st, none)
            }
            (SteadyKind::Fifo, true, false, _) => {
                p.steps::<STEADY_FIFO, true, false, _>(refs, st, none)
            }
            (SteadyKind::Fifo, true, true, _) => {
                p.steps::<STEADY_FIFO, true, true, _>(refs, st, none)
            }
            (SteadyKind::Lru, false, ..) => p.steps::<STEADY_LRU, false, false, _>(refs, st, none),
            (SteadyKind::Lru, true, false, _) => {
                p.steps::<STEADY_LRU, true, false, _>(refs, st, none)
            }
            (SteadyKind::Lru, true, true, _) => {
                p.steps::<STEADY_LRU, true, true, _>(refs, st, none)
            }
            (SteadyKind::Clock, false, ..) => {
                p.steps::<STEADY_CLOCK, false, false, _>(refs, st, none)
            }
            (SteadyKind::Clock, true, false, _) => {
                p.steps::<STEADY_CLOCK, true, false, _>(refs, st, none)
            }
            (SteadyKind::Clock, true, true, _) => {
                p.steps::<STEADY_CLOCK, true, true, _>(refs, st, none)
            }
            (SteadyKind::Opt, tlb, lru, Some(NextUses::Short(a))) => {
                p.opt_steps(tlb, lru, refs, st, a)
            }
            (SteadyKind::Opt, tlb, lru, Some(NextUses::Long(a))) => {
                p.opt_steps(tlb, lru, refs, st, a)
            }
            (SteadyKind::Opt, tlb, lru, None) => p.opt_steps(tlb, lru, refs, st, none),
        };
        self.repl.steady_end(&policy, &mut self.frame_info);
        Some(done)
    }
}

/// OPT's next uses as the steady loop reads them: kept in four bytes or in eight.
trait Ahead: Copy {
    fn next_use(self, j: usize) -> Option<u64>;
}

impl Ahead for &[u32] {
    #[inline(always)]
    fn next_use(self, j: usize) -> Option<u64> {
        self.get(j).map(|&n| NextUses::wide(n))
    }
}

impl Ahead for &[u64] {
    #[inline(always)]
    fn next_use(self, j: usize) -> Option<u64> {
        self.get(j).copied()
    }
}

impl Parts<'_> {
    /// OPT's steady loop for this TLB, reading next uses from `ahead`.
    fn opt_steps(
        &mut self,
        tlb: bool,
        tlb_lru: bool,
        refs: &[PageRef],
        st: &mut MachineStats,
        ahead: impl Ahead,
    ) -> usize {
        match (tlb, tlb_lru) {
            (false, _) => self.steps::<STEADY_OPT, false, false, _>(refs, st, ahead),
            (true, false) => self.steps::<STEADY_OPT, true, false, _>(refs, st, ahead),
            (true, true) => self.steps::<STEADY_OPT, true, true, _>(refs, st, ahead),
        }
    }

    /// The chunk's references, each as the general loop takes it, with every array and counter
    /// in a local (so that no store through one array makes the compiler load another's
    /// address again). `K` is the policy ([`SteadyKind`]); `ahead` holds OPT's next uses.
    ///
    /// What no step of the chunk reads is written once, at its end: the counters (each a sum
    /// of the chunk's faults, hits and walks) and the records of the frames loaded (a page of
    /// the region each, mapped once).
    #[inline(always)]
    fn steps<const K: u8, const TLB: bool, const TLB_LRU: bool, A: Ahead>(
        &mut self,
        refs: &[PageRef],
        st: &mut MachineStats,
        ahead: A,
    ) -> usize {
        if let Some(mut s) = self.settle::<K, TLB>(refs.len()) {
            // Frames found in the entries, with 4 KiB pages or others; or in the run's table.
            return match (s.by_leaf(), self.shift) {
                (true, 12) => {
                    self.settled_steps::<K, TLB, TLB_LRU, true, 12, A>(&mut s, refs, st, ahead)
                }
                (true, _) => {
                    self.settled_steps::<K, TLB, TLB_LRU, true, 0, A>(&mut s, refs, st, ahead)
                }
                (false, _) => {
                    self.settled_steps::<K, TLB, TLB_LRU, false, 0, A>(&mut s, refs, st, ahead)
                }
            };
        }
        let run = &mut *self.run;
        let (at, pages, bits) = (run.at, run.pages, run.bits);
        let frame_of = &mut run.frame_of[..];
        let slot_of = &mut run.slot_of[..];
        let held = &mut run.held[..];
        let leaf = &mut *self.leaf;
        let entries = &mut *self.entries;
        let mut invalid = *self.invalid;
        let mut policy = *self.policy;
        let mut hot = policy.hot;
        // Faults (each evicts), TLB hits, and the frames loaded (at most 64: a bit each).
        let (mut major, mut hits, mut writebacks, mut loaded) = (0u64, 0u64, 0u64, 0u64);
        let (shift, va_limit) = (self.shift, self.va_limit);
        let (leaf_table, leaf_mask) = (self.leaf_table, self.leaf_mask);
        let region = (run.asid, at, pages);
        // The clock of the TLB's stamps: the count of accesses, one per reference.
        let base = st.accesses + 1;
        let mut done = refs.len();
        for (j, r) in refs.iter().enumerate() {
            let vpn = r.addr >> shift;
            let page = vpn.wrapping_sub(at);
            if page >= pages || r.access == Access::Exec || r.addr > va_limit {
                done = j;
                break;
            }
            if K == STEADY_OPT {
                if let Some(next) = ahead.next_use(j) {
                    hot.pending = next;
                }
            }
            let now = base + j as u64;
            let write = r.access == Access::Write;
            let needs = if write { pte::WRITE } else { pte::READ };
            let f = frame_of[page as usize];
            if f != NO {
                let f = f as usize;
                let slot = slot_of[f];
                if TLB && slot != NO {
                    // A TLB hit: the LRU stamp, and the dirty bit on a first store. Anything
                    // else (no permission; an entry elsewhere than the leaf table) is the
                    // general loop's, before anything of it is done.
                    let e = &mut entries[slot as usize];
                    let dirty = write && e.pte & pte::DIRTY == 0;
                    if e.pte & needs == 0 || (dirty && e.loc.table != leaf_table) {
                        done = j;
                        break;
                    }
                    if TLB_LRU {
                        e.stamp = now;
                    }
                    if dirty {
                        e.pte |= pte::DIRTY;
                        leaf[e.loc.slot as usize] |= pte::DIRTY;
                    }
                    hits += 1;
                    policy.touch::<K>(&mut hot, f);
                    continue;
                }
                // In memory, not in the TLB: the walk finds it present and fills the TLB.
                let loc = held[f].1;
                let old = leaf[loc.slot as usize];
                if old & needs == 0 {
                    done = j;
                    break;
                }
                let e = old | pte::ACCESSED | if write { pte::DIRTY } else { 0 };
                leaf[loc.slot as usize] = e;
                if TLB {
                    fill(
                        entries,
                        slot_of,
                        &mut invalid,
                        region,
                        (f, vpn, e, loc, now),
                    );
                }
                policy.touch::<K>(&mut hot, f);
                continue;
            }
            // Out of memory: a TLB miss, a walk that finds the entry empty, the fault, and the
            // restarted access's miss, walk and fill.
            let v = policy.fault::<K>(&mut hot, now);
            let (old, old_loc) = held[v];
            let gone = std::mem::replace(&mut leaf[old_loc.slot as usize], 0);
            writebacks += u64::from(gone & pte::DIRTY != 0);
            major += 1;
            loaded |= 1 << v;
            frame_of[old as usize] = NO;
            let loc = Loc {
                table: leaf_table,
                slot: (vpn & leaf_mask) as u32,
            };
            held[v] = (page, loc);
            frame_of[page as usize] = v as u32;
            let e = (v as u64) << pte::PFN_SHIFT
                | pte::PRESENT
                | bits
                | pte::ACCESSED
                | if write { pte::DIRTY } else { 0 };
            leaf[loc.slot as usize] = e;
            if TLB {
                let slot = slot_of[v];
                if slot != NO && invalid & (u64::MAX >> (63 - slot)) == 0 {
                    // The victim's translation goes, and the first free slot is then its: the
                    // new one takes its place (valid, and of the same address space, already).
                    let x = &mut entries[slot as usize];
                    x.vpn = vpn;
                    x.pte = e;
                    x.loc = loc;
                    x.stamp = now;
                } else {
                    if slot != NO {
                        slot_of[v] = NO;
                        entries[slot as usize].valid = false;
                        invalid |= 1 << slot;
                    }
                    fill(
                        entries,
                        slot_of,
                        &mut invalid,
                        region,
                        (v, vpn, e, loc, now),
                    );
                }
            }
        }
        // Every fault of a full memory evicts, and is two TLB misses and two walks; every
        // other reference is a TLB hit or one miss and walk.
        let n = done as u64;
        let walks = 2 * major + (n - major - hits);
        count::<TLB>(run, st, self.levels, [n, major, hits, walks, writebacks]);
        if major > 0 {
            policy.turned::<K>(&mut hot);
        }
        record_loaded(self.frames, run, loaded);
        *self.invalid = invalid;
        policy.hot = hot;
        *self.policy = policy;
        done
    }
}

/// A chunk's counters: `[references, faults (each an eviction), TLB hits, walks (each after a
/// TLB miss, with a TLB), write-backs]`, each walk reading `levels` tables.
fn count<const TLB: bool>(
    run: &mut RegionRun,
    st: &mut MachineStats,
    levels: u64,
    [n, major, hits, walks, writebacks]: [u64; 5],
) {
    st.accesses += n;
    st.tlb_hits += hits;
    if TLB {
        st.tlb_misses += walks;
    }
    st.walks += walks;
    st.walk_refs += walks * levels;
    run.major += major;
    run.evictions += major;
    run.writebacks += writebacks;
}

/// The records of the frames in `loaded` (a bit each): each holds a page of the run's region,
/// mapped once.
fn record_loaded(frames: &mut [FrameInfo], run: &RegionRun, mut loaded: u64) {
    while loaded != 0 {
        let f = loaded.trailing_zeros() as usize;
        loaded &= loaded - 1;
        frames[f] = FrameInfo {
            used: FrameUse::File {
                file: run.file,
                page: run.held[f].0,
            },
            mapcount: 1,
            referenced: true,
            asid: run.asid,
            swap_slot: None,
        };
    }
}

/// The translation of frame `f` (page `vpn`, entry `e` at `loc`) into the TLB at `now`: the
/// first free slot, or the entry loaded (or used, under LRU) longest ago, whose frame then has
/// no translation there if it was one of the region's (`asid`, `at`, `pages`).
#[inline(always)]
fn fill(
    entries: &mut [TlbEntry],
    slot_of: &mut [u32],
    invalid: &mut u64,
    (asid, at, pages): (u32, u64, u64),
    (f, vpn, e, loc, now): (usize, u64, u64, Loc, u64),
) {
    let i = if *invalid != 0 {
        invalid.trailing_zeros() as usize
    } else {
        oldest_entry(entries)
    };
    let old = &entries[i];
    if old.valid && old.asid == asid && old.vpn.wrapping_sub(at) < pages {
        slot_of[pte::pfn(old.pte) as usize] = NO;
    }
    entries[i] = TlbEntry {
        valid: true,
        asid,
        vpn,
        pte: e,
        loc,
        stamp: now,
    };
    *invalid &= !(1 << i);
    slot_of[f] = i as u32;
}

/// The first entry of the smallest stamp (every entry valid).
#[inline(never)]
fn oldest_entry(entries: &[TlbEntry]) -> usize {
    entries
        .iter()
        .enumerate()
        .min_by_key(|(_, e)| e.stamp)
        .map_or(0, |(i, _)| i)
}

//! The steady state at its most settled: every frame's translation in the TLB (or no TLB at
//! all), each in the slot the frame's next fault reuses, and every entry of the region as a
//! fault writes it. Then an entry or a translation is a function of its frame (the page, the
//! dirty bit, and, for a translation, its stamp), so a step keeps only those, and the entries
//! and translations are written once, when the chunk ends. Over a region of no more pages than
//! the chunk has references, the entries also stand for the run's page → frame table, rebuilt
//! at the end. A fault then stores four words (the two entries, the frame's page and stamp)
//! where the steady loop stores a dozen; the property tests in `session/replay.rs` compare
//! whole machines, TLB stamps and policy state included, after random replays both ways.

use super::super::pagetable::{pte, Loc};
use super::super::replace::{FRAME_MASK, STEADY_CLOCK, STEADY_FRAMES, STEADY_OPT};
use super::super::{Access, FrameInfo, FrameUse, MachineStats, PageRef};
use super::{count, Ahead, Parts, NO};

#[cfg(test)]
thread_local! {
    /// References offered to the settled loop on this thread: tests check that the cases
    /// meant to reach it do.
    pub static SETTLED_REFS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// What a settled chunk keeps of each frame in place of its entry and translation.
pub(super) struct Settled {
    /// The page each frame holds (region pages number fewer than 2^32).
    page_of: [u32; STEADY_FRAMES],
    /// Each frame's translation's stamp (its load or, under an LRU TLB, its last use).
    stamp: [u64; STEADY_FRAMES],
    /// The frames whose pages are dirty, a bit each.
    dirty: u64,
    /// The leaf slot of the region's page 0: page `p`'s entry is at `first + p`.
    first: usize,
    /// The steps find a page's frame in its entry, not in the run's `frame_of`, which is
    /// rebuilt at the end: the region has no more pages than the chunk has references.
    by_leaf: bool,
}

impl Parts<'_> {
    /// The chunk's frames as a settled loop keeps them, if the machine is settled: every frame
    /// holds a page of the region, recorded as a fault records it (under any policy but CLOCK,
    /// referenced), with the entry a fault writes (dirty or not) in its place and, with a TLB,
    /// that entry's translation in a slot below which none is free (so a fault's fill reuses
    /// it); every address of the region within the address space, and every page readable and
    /// writable.
    ///
    /// With no more pages than `refs` references, the page's entry tells whether it is in
    /// memory (every other entry of the region is not present) and where.
    pub(super) fn settle<const K: u8, const TLB: bool>(&self, refs: usize) -> Option<Settled> {
        let run = &*self.run;
        let (at, pages, bits) = (run.at, run.pages, run.bits);
        let first = (at & self.leaf_mask) as usize;
        let end = at.checked_add(pages)?;
        if bits & (pte::READ | pte::WRITE) != pte::READ | pte::WRITE
            || end > self.va_limit >> self.shift
            || run.frame_of.len() as u64 != pages
            || self.leaf.len() < first + pages as usize
            || run.held.len() > STEADY_FRAMES
            || self.frames.len() != run.held.len()
        {
            return None;
        }
        let mut s = Settled {
            page_of: [0; STEADY_FRAMES],
            stamp: [0; STEADY_FRAMES],
            dirty: 0,
            first,
            by_leaf: pages as usize <= refs,
        };
        let mut below = 0u64;
        for (f, &(p, loc)) in run.held.iter().enumerate() {
            let at_leaf = Loc {
                table: self.leaf_table,
                slot: (first as u64).checked_add(p)? as u32,
            };
            if p >= pages || run.frame_of[p as usize] != f as u32 || loc != at_leaf {
                return None;
            }
            let r = &self.frames[f];
            if r.used
                != (FrameUse::File {
                    file: run.file,
                    page: p,
                })
                || r.mapcount != 1
                || r.asid != run.asid
                || r.swap_slot.is_some()
                || !(r.referenced || K == STEADY_CLOCK)
            {
                return None;
            }
            let e = self.leaf[at_leaf.slot as usize];
            if e & !pte::DIRTY != entry(f, bits) {
                return None;
            }
            s.page_of[f] = p as u32;
            s.dirty |= (e & pte::DIRTY != 0) as u64 * (1 << f);
            let slot = run.slot_of[f];
            if TLB {
                let x = self.entries.get(slot as usize)?;
                if !x.valid || x.asid != run.asid || x.vpn != at + p || x.pte != e || x.loc != loc {
                    return None;
                }
                s.stamp[f] = x.stamp;
                below |= u64::MAX >> (63 - slot);
            } else if slot != NO {
                return None;
            }
        }
        if s.by_leaf {
            let leaf = &self.leaf[first..first + pages as usize];
            if leaf
                .iter()
                .zip(&run.frame_of)
                .any(|(&e, &f)| f == NO && e & pte::PRESENT != 0)
            {
                return None;
            }
        }
        (*self.invalid & below == 0).then_some(s)
    }

    /// The chunk's references in the settled state (see [`Parts::settle`]), each doing what
    /// [`Parts::steps`] does, with the entries, translations and records of the frames written
    /// at the end. Every reference to a page in memory is a TLB hit (or, with no TLB, one
    /// walk), and needs no permission it lacks.
    #[inline(always)]
    pub(super) fn settled_steps<
        const K: u8,
        const TLB: bool,
        const TLB_LRU: bool,
        const BY_LEAF: bool,
        const SHIFT: u32,
        A: Ahead,
    >(
        &mut self,
        s: &mut Settled,
        refs: &[PageRef],
        st: &mut MachineStats,
        ahead: A,
    ) -> usize {
        #[cfg(test)]
        SETTLED_REFS.with(|n| n.set(n.get() + refs.len() as u64));
        // The faults and write-backs share a word, each in its half.
        let refs = &refs[..refs.len().min(u32::MAX as usize)];
        let run = &mut *self.run;
        let (at, pages, bits) = (run.at, run.pages, run.bits);
        let n = pages as usize;
        let frame_of = &mut run.frame_of[..n];
        let leaf = &mut self.leaf[s.first..s.first + n];
        let (page_of, stamp) = (&mut s.page_of, &mut s.stamp);
        let mut dirty = s.dirty;
        let mut policy = *self.policy;
        let mut hot = policy.hot;
        let mut counts = 0u64;
        // A shift known when compiled leaves its register (and the one variable shifts need)
        // to the rest of the step.
        let shift = if SHIFT == 0 { self.shift } else { SHIFT };
        // The clock of the TLB's stamps: the count of accesses, one per reference.
        let base = st.accesses + 1;
        let mut now = base;
        for r in refs {
            let page = (r.addr >> shift).wrapping_sub(at);
            if page >= pages || r.access == Access::Exec {
                break;
            }
            if K == STEADY_OPT {
                if let Some(next) = ahead.next_use((now - base) as usize) {
                    hot.pending = next;
                }
            }
            let write = r.access == Access::Write;
            // In memory: the page's entry is present (or its frame known), and names its frame.
            let (held, f) = if BY_LEAF {
                let e = leaf[page as usize];
                (e & pte::PRESENT != 0, pte::pfn(e) as usize)
            } else {
                let f = frame_of[page as usize];
                (f != NO, f as usize)
            };
            if held {
                // A hit: the store's dirty bit (entry and translation alike), and under an LRU
                // TLB the translation's use.
                let f = f & FRAME_MASK;
                if TLB_LRU {
                    stamp[f] = now;
                }
                dirty |= (write as u64) << f;
                policy.touch::<K>(&mut hot, f);
                now += 1;
                continue;
            }
            // A fault: the victim's entry emptied (its write-back if dirty), the page's frame
            // and translation the victim's.
            let v = policy.fault::<K>(&mut hot, now) & FRAME_MASK;
            let old = page_of[v] as usize;
            let bit = 1u64 << v;
            counts += 1 | u64::from(dirty & bit != 0) << 32;
            dirty = dirty & !bit | if write { bit } else { 0 };
            leaf[old] = 0;
            if BY_LEAF {
                leaf[page as usize] = entry(v, bits);
            } else {
                frame_of[old] = NO;
                frame_of[page as usize] = v as u32;
            }
            page_of[v] = page as u32;
            if TLB {
                stamp[v] = now;
            }
            now += 1;
        }
        let done = now - base;
        let (major, writebacks) = (counts & u64::from(u32::MAX), counts >> 32);
        // Every fault is two TLB misses and two walks; every other reference one TLB hit
        // (or, with no TLB, one walk).
        let (hits, walks) = if TLB {
            (done - major, 2 * major)
        } else {
            (0, done + major)
        };
        if major > 0 {
            policy.turned::<K>(&mut hot);
        }
        policy.hot = hot;
        *self.policy = policy;
        for (f, held) in run.held.iter_mut().enumerate() {
            let p = u64::from(s.page_of[f]);
            let loc = Loc {
                table: self.leaf_table,
                slot: (s.first as u64 + p) as u32,
            };
            let e = entry(f, bits) | ((dirty >> f & 1) * pte::DIRTY);
            leaf[p as usize] = e;
            *held = (p, loc);
            if TLB {
                let x = &mut self.entries[run.slot_of[f] as usize];
                x.vpn = at + p;
                x.pte = e;
                x.loc = loc;
                x.stamp = s.stamp[f];
            }
            // What a fault records (CLOCK's bit is the policy's to set, when the chunk ends).
            self.frames[f] = FrameInfo {
                used: FrameUse::File {
                    file: run.file,
                    page: p,
                },
                mapcount: 1,
                referenced: true,
                asid: run.asid,
                swap_slot: None,
            };
        }
        if BY_LEAF {
            for (f, &e) in frame_of.iter_mut().zip(leaf.iter()) {
                *f = if e & pte::PRESENT != 0 {
                    pte::pfn(e) as u32
                } else {
                    NO
                };
            }
        }
        count::<TLB>(run, st, self.levels, [done, major, hits, walks, writebacks]);
        s.dirty = dirty;
        done as usize
    }
}

/// The entry a fault writes for frame `f` of a region whose entries carry `bits` (clean).
fn entry(f: usize, bits: u64) -> u64 {
    (f as u64) << pte::PFN_SHIFT | pte::PRESENT | bits | pte::ACCESSED
}

impl Settled {
    /// Whether the steps find frames in the entries (see [`Settled::by_leaf`]'s field).
    pub(super) fn by_leaf(&self) -> bool {
        self.by_leaf
    }
}

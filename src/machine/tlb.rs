//! The TLB: a set-associative (or fully associative) cache of translations, FIFO or LRU.

use super::config::{TlbConfig, TlbPolicy};
use super::pagetable::Loc;

#[derive(Debug, Clone, Copy)]
pub struct TlbEntry {
    pub valid: bool,
    pub asid: u32,
    pub vpn: u64,
    /// A copy of the leaf entry when it was loaded (frame and permission bits).
    pub pte: u64,
    /// Where the leaf entry lives, so accessed/dirty bits are set without another walk.
    pub loc: Loc,
    /// LRU: last use; FIFO: when loaded.
    pub stamp: u64,
}

const EMPTY: TlbEntry = TlbEntry {
    valid: false,
    asid: 0,
    vpn: 0,
    pte: 0,
    loc: Loc { table: 0, slot: 0 },
    stamp: 0,
};

#[derive(Clone)]
pub struct Tlb {
    pub enabled: bool,
    sets: usize,
    ways: usize,
    policy: TlbPolicy,
    entries: Vec<TlbEntry>,
    /// A direct-mapped guess of the slot holding a page (indexed by a hash of asid and vpn),
    /// checked before scanning a set: a fully associative TLB of 64 entries would otherwise
    /// cost a 64-entry scan per hit. Only a hint: the entry it names is always verified.
    hint: Box<[u32; HINTS]>,
    /// How many valid entries hash to each hint index: a lookup or an invalidation whose index
    /// counts none is answered without scanning (every access that faults misses the TLB, so
    /// misses are as common as faults).
    held: Box<[u16; HINTS]>,
    /// Each set's invalid slots as bits, `words` words a set: an insert takes the first one
    /// without reading the entries (a replay that faults often inserts on every fault, into a
    /// TLB whose evicted pages left holes).
    invalid: Vec<u64>,
    words: usize,
}

const HINTS: usize = 1024;

#[inline]
fn hint_index(asid: u32, vpn: u64) -> usize {
    ((vpn ^ (u64::from(asid) << 7)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize
        & (HINTS - 1)
}

impl Tlb {
    pub fn new(cfg: &TlbConfig) -> Self {
        let n = if cfg.enabled {
            cfg.entries.max(1) as usize
        } else {
            0
        };
        let ways = cfg.ways.map_or(n, |w| (w as usize).clamp(1, n.max(1)));
        let sets = if n == 0 { 0 } else { n / ways };
        let words = ways.div_ceil(64);
        let mut invalid = vec![0u64; sets * words];
        for s in 0..sets {
            for w in 0..ways {
                invalid[s * words + w / 64] |= 1 << (w % 64);
            }
        }
        Tlb {
            enabled: cfg.enabled && n > 0,
            sets,
            ways,
            policy: cfg.policy,
            entries: vec![EMPTY; n],
            hint: Box::new([0; HINTS]),
            held: Box::new([0; HINTS]),
            invalid,
            words,
        }
    }

    /// Marks `slot` valid or not in its set's bits.
    #[inline(always)]
    fn mark(&mut self, slot: usize, invalid: bool) {
        // Fully associative (one set) is the common case, and needs no division.
        let (set, way) = if self.sets == 1 {
            (0, slot)
        } else {
            (slot / self.ways, slot % self.ways)
        };
        self.mark_way(set, way, invalid);
    }

    #[inline(always)]
    fn mark_way(&mut self, set: usize, way: usize, invalid: bool) {
        let w = &mut self.invalid[set * self.words + way / 64];
        let bit = 1u64 << (way % 64);
        if invalid {
            *w |= bit;
        } else {
            *w &= !bit;
        }
    }

    /// The first invalid way of set `set`, if any.
    #[inline(always)]
    fn first_invalid(&self, set: usize) -> Option<usize> {
        if self.words == 1 {
            let w = self.invalid[set];
            return (w != 0).then(|| w.trailing_zeros() as usize);
        }
        let words = &self.invalid[set * self.words..(set + 1) * self.words];
        words
            .iter()
            .position(|&w| w != 0)
            .map(|i| i * 64 + words[i].trailing_zeros() as usize)
    }

    #[inline]
    fn set_range(&self, vpn: u64) -> std::ops::Range<usize> {
        if self.sets == 1 {
            return 0..self.ways;
        }
        let s = (vpn % self.sets as u64) as usize;
        s * self.ways..(s + 1) * self.ways
    }

    /// The slot holding `(asid, vpn)`, counting it as used at `now` (the machine's access
    /// counter: one number per access, so no two valid entries carry the same stamp).
    #[inline(always)]
    pub fn lookup(&mut self, asid: u32, vpn: u64, now: u64) -> Option<usize> {
        let h = hint_index(asid, vpn);
        let guess = self.hint[h] as usize;
        let lru = self.policy == TlbPolicy::Lru;
        if let Some(e) = self.entries.get_mut(guess) {
            if e.valid && e.vpn == vpn && e.asid == asid {
                if lru {
                    e.stamp = now;
                }
                return Some(guess);
            }
        }
        if self.held[h] == 0 {
            return None;
        }
        let slot = self.scan(asid, vpn)?;
        self.hint[h] = slot as u32;
        if lru {
            self.entries[slot].stamp = now;
        }
        Some(slot)
    }

    /// The set scan behind a wrong hint: rare once the hint table has warmed up.
    #[inline(never)]
    fn scan(&self, asid: u32, vpn: u64) -> Option<usize> {
        if self.sets == 0 {
            return None;
        }
        let r = self.set_range(vpn);
        let base = r.start;
        self.entries[r]
            .iter()
            .position(|e| e.valid && e.vpn == vpn && e.asid == asid)
            .map(|i| base + i)
    }

    #[inline]
    pub fn entry_mut(&mut self, slot: usize) -> &mut TlbEntry {
        &mut self.entries[slot]
    }

    /// Loads a translation at `now`, evicting the set's oldest (FIFO) or least recently used
    /// (LRU) entry.
    pub fn insert(&mut self, asid: u32, vpn: u64, pte: u64, loc: Loc, now: u64) {
        self.fill(asid, vpn, pte, loc, now);
    }

    /// [`Tlb::insert`], returning the slot it took and the entry it evicted, if one was valid.
    #[inline(always)]
    pub fn fill(
        &mut self,
        asid: u32,
        vpn: u64,
        pte: u64,
        loc: Loc,
        now: u64,
    ) -> (usize, Option<TlbEntry>) {
        self.fill_as::<true>(asid, vpn, pte, loc, now)
    }

    /// [`Tlb::fill`] leaving the hint table and its counts as they were: for a run that knows
    /// where each of its translations is, asks the TLB nothing by page, and calls
    /// [`Tlb::rehash`] before anyone else does.
    #[inline(always)]
    pub fn fill_unhinted(
        &mut self,
        asid: u32,
        vpn: u64,
        pte: u64,
        loc: Loc,
        now: u64,
    ) -> (usize, Option<TlbEntry>) {
        self.fill_as::<false>(asid, vpn, pte, loc, now)
    }

    #[inline(always)]
    fn fill_as<const HINTED: bool>(
        &mut self,
        asid: u32,
        vpn: u64,
        pte: u64,
        loc: Loc,
        now: u64,
    ) -> (usize, Option<TlbEntry>) {
        let set = if self.sets == 1 {
            0
        } else {
            (vpn % self.sets as u64) as usize
        };
        let base = set * self.ways;
        let i = match self.first_invalid(set) {
            Some(i) => i,
            None => self.entries[base..base + self.ways]
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.stamp)
                .map_or(0, |(i, _)| i),
        };
        let old = self.entries[base + i];
        if HINTED {
            if old.valid {
                self.held[hint_index(old.asid, old.vpn)] -= 1;
            }
            let h = hint_index(asid, vpn);
            self.held[h] += 1;
            self.hint[h] = (base + i) as u32;
        }
        self.entries[base + i] = TlbEntry {
            valid: true,
            asid,
            vpn,
            pte,
            loc,
            stamp: now,
        };
        self.mark_way(set, i, false);
        (base + i, old.valid.then_some(old))
    }

    /// Drops the translation in `slot`, if it holds one: [`Tlb::invalidate`] for a caller
    /// that knows where the page's entry is.
    #[inline]
    pub fn drop_slot(&mut self, slot: usize) {
        let e = &mut self.entries[slot];
        if e.valid {
            e.valid = false;
            self.held[hint_index(e.asid, e.vpn)] -= 1;
            self.mark(slot, true);
        }
    }

    /// [`Tlb::drop_slot`] leaving the hint table's counts as they were (see
    /// [`Tlb::fill_unhinted`]).
    #[inline(always)]
    pub fn drop_slot_unhinted(&mut self, slot: usize) {
        let e = &mut self.entries[slot];
        if e.valid {
            e.valid = false;
            self.mark(slot, true);
        }
    }

    /// The entries and the one word of invalid slots of a fully associative TLB of at most 64
    /// entries, for a run that keeps the hints as [`Tlb::fill_unhinted`] does; `None` for any
    /// other shape.
    pub fn steady_parts(&mut self) -> Option<(&mut [TlbEntry], &mut u64)> {
        if !self.enabled || self.sets != 1 || self.words != 1 || self.ways != self.entries.len() {
            return None;
        }
        Some((&mut self.entries[..], &mut self.invalid[0]))
    }

    /// Counts the valid entries per hint index again, and points each index at one of them:
    /// after unhinted fills and drops, the table is as a lookup needs it (the counts exact).
    pub fn rehash(&mut self) {
        self.held.fill(0);
        for (i, e) in self.entries.iter().enumerate() {
            if e.valid {
                let h = hint_index(e.asid, e.vpn);
                self.held[h] += 1;
                self.hint[h] = i as u32;
            }
        }
    }

    /// The entries (valid or not) and the free slots' words.
    #[cfg(test)]
    pub fn entries_and_free(&self) -> (&[TlbEntry], &[u64]) {
        (&self.entries, &self.invalid)
    }

    /// Whether a hit counts as a use (LRU) rather than leaving the entry's age as it was
    /// loaded (FIFO).
    pub fn lru(&self) -> bool {
        self.policy == TlbPolicy::Lru
    }

    /// Drops one translation (after the page table entry changed).
    pub fn invalidate(&mut self, asid: u32, vpn: u64) {
        if !self.enabled {
            return;
        }
        let h = hint_index(asid, vpn);
        if self.held[h] == 0 {
            return;
        }
        // The entry the hint names is nearly always the one: then the set needs no scan.
        let g = self.hint[h] as usize;
        if let Some(e) = self.entries.get_mut(g) {
            if e.valid && e.vpn == vpn && e.asid == asid {
                e.valid = false;
                self.held[h] -= 1;
                self.mark(g, true);
                if self.held[h] == 0 {
                    return;
                }
            }
        }
        for slot in self.set_range(vpn) {
            let e = &mut self.entries[slot];
            if e.valid && e.vpn == vpn && e.asid == asid {
                e.valid = false;
                self.held[h] -= 1;
                self.mark(slot, true);
            }
        }
    }

    /// Points `asid`'s cached translations that live in table `old` at its copy `new`.
    pub fn retarget(&mut self, asid: u32, old: u32, new: u32) {
        for e in &mut self.entries {
            if e.valid && e.asid == asid && e.loc.table == old {
                e.loc.table = new;
            }
        }
    }

    /// Drops every translation of one address space, or all (`None`).
    pub fn flush(&mut self, asid: Option<u32>) {
        for slot in 0..self.entries.len() {
            let e = &mut self.entries[slot];
            if e.valid && asid.is_none_or(|a| a == e.asid) {
                e.valid = false;
                self.held[hint_index(e.asid, e.vpn)] -= 1;
                self.mark(slot, true);
            }
        }
    }

    /// Valid entries, by slot.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &TlbEntry)> {
        self.entries.iter().enumerate().filter(|(_, e)| e.valid)
    }

    pub fn capacity(&self) -> usize {
        self.entries.len()
    }
    pub fn ways(&self) -> usize {
        self.ways
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlb(entries: u32, ways: Option<u32>, policy: TlbPolicy) -> Tlb {
        Tlb::new(&TlbConfig {
            enabled: true,
            entries,
            ways,
            policy,
        })
    }
    const L: Loc = Loc { table: 0, slot: 0 };

    #[test]
    fn lru_keeps_the_recently_used() {
        let mut t = tlb(2, None, TlbPolicy::Lru);
        t.insert(0, 1, 0, L, 1);
        t.insert(0, 2, 0, L, 2);
        assert!(t.lookup(0, 1, 3).is_some());
        t.insert(0, 3, 0, L, 4);
        assert!(t.lookup(0, 1, 5).is_some());
        assert!(t.lookup(0, 2, 6).is_none());
    }

    #[test]
    fn fifo_evicts_the_oldest_even_if_used() {
        let mut t = tlb(2, None, TlbPolicy::Fifo);
        t.insert(0, 1, 0, L, 1);
        t.insert(0, 2, 0, L, 2);
        assert!(t.lookup(0, 1, 3).is_some());
        t.insert(0, 3, 0, L, 4);
        assert!(t.lookup(0, 1, 5).is_none());
        assert!(t.lookup(0, 2, 6).is_some());
    }

    #[test]
    fn sets_partition_by_vpn_and_asids_are_separate() {
        let mut t = tlb(4, Some(2), TlbPolicy::Lru);
        t.insert(0, 0, 0, L, 1);
        t.insert(0, 2, 0, L, 2);
        t.insert(0, 4, 0, L, 3); // set 0 is full: evicts vpn 0
        t.insert(0, 1, 0, L, 4);
        assert!(t.lookup(0, 0, 5).is_none());
        assert!(t.lookup(0, 1, 6).is_some());
        assert!(t.lookup(1, 1, 7).is_none());
        t.flush(Some(0));
        assert_eq!(t.entries().count(), 0);
    }

    proptest::proptest! {
        /// The per-index counts that let a miss skip the scan always match the entries, so a
        /// lookup finds an entry exactly when a scan of the set would; so do the bits of
        /// invalid slots that an insert reads. Fills and drops that leave the hints alone
        /// (a lean run's) are followed by `rehash` before the TLB is asked by page again.
        #[test]
        fn counts_match_the_entries(ops in proptest::collection::vec((0u8..6, 0u32..3, 0u64..200), 1..400), ways in proptest::option::of(1u32..4), big in proptest::bool::ANY) {
            // 130 entries fully associative: a set of three words of bits.
            let mut t = tlb(if big { 130 } else { 8 }, ways, TlbPolicy::Lru);
            let mut unhinted = false;
            for (n, (op, asid, vpn)) in ops.into_iter().enumerate() {
                let now = n as u64 + 1;
                if op < 4 && std::mem::take(&mut unhinted) {
                    t.rehash();
                }
                match op {
                    0 => {
                        t.insert(asid, vpn, 0, L, now);
                    }
                    1 => t.invalidate(asid, vpn),
                    2 if vpn % 16 == 0 => t.flush((vpn % 32 == 0).then_some(asid)),
                    4 => {
                        t.fill_unhinted(asid, vpn, 0, L, now);
                        unhinted = true;
                    }
                    5 => {
                        t.drop_slot_unhinted(vpn as usize % t.entries.len());
                        unhinted = true;
                    }
                    _ => {
                        let truth = t.scan(asid, vpn).is_some();
                        proptest::prop_assert_eq!(t.lookup(asid, vpn, now).is_some(), truth);
                    }
                }
                // Slots past the last whole set (130 entries of 3 ways) are never used.
                for (slot, e) in t.entries.iter().enumerate().take(t.sets * t.ways) {
                    let (set, way) = (slot / t.ways, slot % t.ways);
                    let bit = t.invalid[set * t.words + way / 64] >> (way % 64) & 1;
                    proptest::prop_assert_eq!(bit == 1, !e.valid);
                }
                if !unhinted {
                    let mut held = [0u16; HINTS];
                    for e in t.entries.iter().filter(|e| e.valid) {
                        held[hint_index(e.asid, e.vpn)] += 1;
                    }
                    proptest::prop_assert!(held[..] == t.held[..]);
                }
            }
        }
    }
}

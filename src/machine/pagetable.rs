//! Multi-level page tables, stored sparsely in one arena shared by every address space.
//!
//! Tables live beside the simulated RAM (they take no frames, as textbooks assume); each walk
//! still counts one memory reference per level.

use std::cell::Cell;

/// Page-table entry bits. The frame number (or swap slot) sits above `PFN_SHIFT`.
pub mod pte {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITE: u64 = 1 << 1;
    pub const EXEC: u64 = 1 << 2;
    pub const READ: u64 = 1 << 3;
    pub const ACCESSED: u64 = 1 << 5;
    pub const DIRTY: u64 = 1 << 6;
    /// Maps the shared zero page (read-only until the first write).
    pub const ZERO: u64 = 1 << 8;
    /// Not present; the number above `PFN_SHIFT` is a swap slot.
    pub const SWAPPED: u64 = 1 << 9;
    /// Write-protected because the frame is shared after `fork` or is a private file page.
    pub const COW: u64 = 1 << 10;
    /// The frame belongs to the page cache (a file page).
    pub const FILE: u64 = 1 << 11;
    pub const PFN_SHIFT: u32 = 12;
    pub const PERMS: u64 = READ | WRITE | EXEC;

    #[inline]
    pub fn pfn(e: u64) -> u64 {
        e >> PFN_SHIFT
    }
}

/// The leaf table of the last walk: replays touch a few neighbouring pages over and over (a
/// reference, an eviction, a mapping per fault), and each walk would read every level again.
/// `private`: every table on the way was unshared when it was recorded. Any change to which
/// tables exist or who shares them forgets it.
#[derive(Debug, Clone, Copy)]
struct Memo {
    root: u32,
    /// The VPN's bits above the leaf index.
    high: u64,
    leaf: u32,
    private: bool,
}

const NO_MEMO: Memo = Memo {
    root: u32::MAX,
    high: 0,
    leaf: 0,
    private: false,
};

/// Where a leaf entry lives: table index and slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub table: u32,
    pub slot: u32,
}

/// The arena of tables. Interior entries hold `child index + 1` (0 = no table below).
///
/// A forked child starts with its parent's tables, shared (`refs` counts the roots and interior
/// entries that point to a table); the first change to an entry copies the shared tables on the
/// way to it, for the address space that changes it only. A fork thus costs no host memory for
/// tables until one side writes, and the two spaces never see each other's entries.
#[derive(Clone)]
pub struct PageTables {
    tables: Vec<Box<[u64]>>,
    /// How many roots and interior entries point to each table.
    refs: Vec<u32>,
    free: Vec<u32>,
    /// Shift of each level's index within a VPN, top level first.
    shifts: Vec<u32>,
    masks: Vec<u64>,
    /// Index bits of the leaf level.
    leaf_bits: u32,
    memo: Cell<Memo>,
}

impl PageTables {
    /// `level_bits`: index bits per level, top first.
    pub fn new(level_bits: &[u32]) -> Self {
        let mut shifts = Vec::with_capacity(level_bits.len());
        let mut masks = Vec::with_capacity(level_bits.len());
        let mut below: u32 = level_bits.iter().sum();
        for &b in level_bits {
            below -= b;
            shifts.push(below);
            masks.push((1u64 << b) - 1);
        }
        PageTables {
            tables: Vec::new(),
            refs: Vec::new(),
            free: Vec::new(),
            shifts,
            masks,
            leaf_bits: level_bits.last().copied().unwrap_or(0),
            memo: Cell::new(NO_MEMO),
        }
    }

    pub fn levels(&self) -> usize {
        self.shifts.len()
    }

    /// Index into the level-`l` table for `vpn`.
    #[inline]
    pub fn index(&self, l: usize, vpn: u64) -> usize {
        ((vpn >> self.shifts[l]) & self.masks[l]) as usize
    }

    /// The memoized leaf table of `vpn` under `root`, if the last walk went there (and, with
    /// `private`, if it found every table on the way unshared).
    #[inline]
    fn memo_leaf(&self, root: u32, vpn: u64, private: bool) -> Option<u32> {
        let m = self.memo.get();
        (m.root == root && m.high == vpn >> self.leaf_bits && (m.private || !private))
            .then_some(m.leaf)
    }

    #[inline]
    fn forget(&self) {
        self.memo.set(NO_MEMO);
    }

    fn alloc_table(&mut self, level: usize) -> u32 {
        self.forget();
        let n = (self.masks[level] + 1) as usize;
        if let Some(t) = self.free.pop() {
            self.refs[t as usize] = 1;
            if self.tables[t as usize].len() == n {
                self.tables[t as usize].fill(0);
                return t;
            }
            self.tables[t as usize] = vec![0; n].into_boxed_slice();
            return t;
        }
        self.tables.push(vec![0; n].into_boxed_slice());
        self.refs.push(1);
        (self.tables.len() - 1) as u32
    }

    /// The root of a new address space that shares every table of `root`'s.
    pub fn share(&mut self, root: u32) -> u32 {
        self.forget();
        self.refs[root as usize] += 1;
        root
    }

    /// Host bytes held by tables in use.
    pub fn host_bytes(&self) -> usize {
        let entries: usize = self.tables.iter().map(|t| t.len()).sum();
        let free: usize = self
            .free
            .iter()
            .map(|&t| self.tables[t as usize].len())
            .sum();
        (entries - free) * 8 + self.tables.len() * 24
    }

    /// Index bits of the leaf level: a leaf table holds the entries of `1 << leaf_bits()`
    /// consecutive pages.
    pub fn leaf_bits(&self) -> u32 {
        self.leaf_bits
    }

    /// How many leaf entries of `root`'s pages `first .. first + pages` are not zero: a pass
    /// over the leaf tables that exist, one lookup per table.
    pub fn entries_in(&self, root: u32, first: u64, pages: u64) -> u64 {
        let span = 1u64 << self.leaf_bits;
        let end = first.saturating_add(pages);
        let mut vpn = first;
        let mut n = 0;
        while vpn < end {
            // The rest of this leaf table's pages, or of the range.
            let stop = ((vpn | (span - 1)).saturating_add(1)).min(end);
            if let (Some(loc), _) = self.find(root, vpn) {
                let slots = &self.tables[loc.table as usize];
                let from = loc.slot as usize;
                let to = from + (stop - vpn) as usize;
                n += slots[from..to].iter().filter(|&&e| e != 0).count() as u64;
            }
            vpn = stop;
        }
        n
    }

    /// Whether any table is shared by two address spaces.
    pub fn any_shared(&self) -> bool {
        self.refs.iter().any(|&r| r > 1)
    }

    /// Whether `table` is shared with another address space.
    #[inline]
    pub fn is_shared(&self, table: u32) -> bool {
        self.refs[table as usize] > 1
    }

    /// A private copy of the shared level-`level` table `t`, for the one pointer to it that
    /// is about to be redirected; its children gain a sharer.
    fn unshare(&mut self, t: u32, level: usize) -> u32 {
        self.forget();
        let copy = self.tables[t as usize].clone();
        if level + 1 < self.shifts.len() {
            for &e in copy.iter().filter(|&&e| e != 0) {
                self.refs[(e - 1) as usize] += 1;
            }
        }
        self.refs[t as usize] -= 1;
        if let Some(c) = self.free.pop() {
            self.tables[c as usize] = copy;
            self.refs[c as usize] = 1;
            c
        } else {
            self.tables.push(copy);
            self.refs.push(1);
            (self.tables.len() - 1) as u32
        }
    }

    /// The leaf slot for `vpn` in tables that belong to `root`'s address space alone: shared
    /// tables on the way are copied (the root too, so `root` may change), missing ones
    /// created. Also returns the leaf tables that were copied, as (old, new), so cached
    /// locations can follow.
    pub fn find_private(&mut self, root: &mut u32, vpn: u64) -> (Loc, Option<(u32, u32)>) {
        let last = self.shifts.len() - 1;
        if let Some(leaf) = self.memo_leaf(*root, vpn, true) {
            let slot = self.index(last, vpn) as u32;
            return (Loc { table: leaf, slot }, None);
        }
        if self.is_shared(*root) {
            *root = self.unshare(*root, 0);
        }
        let mut t = *root;
        let mut moved = None;
        for l in 0..last {
            let i = self.index(l, vpn);
            let e = self.tables[t as usize][i];
            t = if e == 0 {
                let c = self.alloc_table(l + 1);
                self.tables[t as usize][i] = c as u64 + 1;
                c
            } else {
                let c = (e - 1) as u32;
                if self.is_shared(c) {
                    let n = self.unshare(c, l + 1);
                    self.tables[t as usize][i] = n as u64 + 1;
                    if l + 1 == last {
                        moved = Some((c, n));
                    }
                    n
                } else {
                    c
                }
            };
        }
        self.memo.set(Memo {
            root: *root,
            high: vpn >> self.leaf_bits,
            leaf: t,
            private: true,
        });
        (
            Loc {
                table: t,
                slot: self.index(last, vpn) as u32,
            },
            moved,
        )
    }

    /// A new, empty top-level table.
    pub fn new_root(&mut self) -> u32 {
        self.alloc_table(0)
    }

    /// Finds the leaf slot for `vpn` without creating tables. Returns the slot (if all tables
    /// exist) and the number of table reads made.
    #[inline]
    pub fn find(&self, root: u32, vpn: u64) -> (Option<Loc>, u32) {
        let last = self.shifts.len() - 1;
        if let Some(leaf) = self.memo_leaf(root, vpn, false) {
            let slot = self.index(last, vpn) as u32;
            return (Some(Loc { table: leaf, slot }), self.shifts.len() as u32);
        }
        let mut t = root;
        for l in 0..last {
            let e = self.tables[t as usize][self.index(l, vpn)];
            if e == 0 {
                return (None, l as u32 + 1);
            }
            t = (e - 1) as u32;
        }
        self.memo.set(Memo {
            root,
            high: vpn >> self.leaf_bits,
            leaf: t,
            private: false,
        });
        (
            Some(Loc {
                table: t,
                slot: self.index(last, vpn) as u32,
            }),
            self.shifts.len() as u32,
        )
    }

    /// Whether any table on the way from `root` to `vpn`'s leaf slot is shared.
    pub fn path_shared(&self, root: u32, vpn: u64) -> bool {
        if self.memo_leaf(root, vpn, true).is_some() {
            return false;
        }
        let mut t = root;
        let last = self.shifts.len() - 1;
        for l in 0..=last {
            if self.is_shared(t) {
                return true;
            }
            if l == last {
                break;
            }
            let e = self.tables[t as usize][self.index(l, vpn)];
            if e == 0 {
                return false;
            }
            t = (e - 1) as u32;
        }
        false
    }

    /// The leaf slot for `vpn`, creating intermediate tables on the way.
    pub fn find_or_create(&mut self, root: u32, vpn: u64) -> Loc {
        let mut t = root;
        let last = self.shifts.len() - 1;
        for l in 0..last {
            let i = self.index(l, vpn);
            let e = self.tables[t as usize][i];
            t = if e == 0 {
                let c = self.alloc_table(l + 1);
                self.tables[t as usize][i] = c as u64 + 1;
                c
            } else {
                (e - 1) as u32
            };
        }
        Loc {
            table: t,
            slot: self.index(last, vpn) as u32,
        }
    }

    #[inline]
    pub fn get(&self, loc: Loc) -> u64 {
        self.tables[loc.table as usize][loc.slot as usize]
    }

    #[inline]
    pub fn set(&mut self, loc: Loc, e: u64) {
        self.tables[loc.table as usize][loc.slot as usize] = e;
    }

    /// The entries of table `t`, to be written in place by a caller that knows where its
    /// pages' entries are (a lean run's single leaf table).
    pub fn table_mut(&mut self, t: u32) -> &mut [u64] {
        &mut self.tables[t as usize]
    }

    /// The entry at each level on the way to `vpn`: (level, table, index, raw entry).
    pub fn path(&self, root: u32, vpn: u64) -> Vec<(usize, u32, usize, u64)> {
        let mut out = Vec::new();
        let mut t = root;
        for l in 0..self.shifts.len() {
            let i = self.index(l, vpn);
            let e = self.tables[t as usize][i];
            out.push((l, t, i, e));
            if l + 1 == self.shifts.len() || e == 0 {
                break;
            }
            t = (e - 1) as u32;
        }
        out
    }

    /// Every non-zero leaf entry under `root`, in VPN order.
    pub fn entries(&self, root: u32) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        self.collect(root, 0, 0, &mut out);
        out
    }

    fn collect(&self, t: u32, level: usize, prefix: u64, out: &mut Vec<(u64, u64)>) {
        let last = level + 1 == self.shifts.len();
        for (i, &e) in self.tables[t as usize].iter().enumerate() {
            if e == 0 {
                continue;
            }
            let vpn = prefix | ((i as u64) << self.shifts[level]);
            if last {
                out.push((vpn, e));
            } else {
                self.collect((e - 1) as u32, level + 1, vpn, out);
            }
        }
    }

    /// Number of tables reachable from `root` (a measure of page-table overhead).
    pub fn count_tables(&self, root: u32) -> usize {
        self.count_from(root, 0)
    }

    fn count_from(&self, t: u32, level: usize) -> usize {
        if level + 1 == self.shifts.len() {
            return 1;
        }
        1 + self.tables[t as usize]
            .iter()
            .filter(|&&e| e != 0)
            .map(|&e| self.count_from((e - 1) as u32, level + 1))
            .sum::<usize>()
    }

    /// Releases every table of an address space.
    pub fn free_space(&mut self, root: u32) {
        self.free_from(root, 0);
    }

    fn free_from(&mut self, t: u32, level: usize) {
        self.forget();
        // A table still shared lives on for the other address spaces.
        self.refs[t as usize] -= 1;
        if self.refs[t as usize] > 0 {
            return;
        }
        if level + 1 < self.shifts.len() {
            let children: Vec<u32> = self.tables[t as usize]
                .iter()
                .filter(|&&e| e != 0)
                .map(|&e| (e - 1) as u32)
                .collect();
            for c in children {
                self.free_from(c, level + 1);
            }
        }
        self.free.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_level_tables_are_sparse() {
        let mut pt = PageTables::new(&[9, 9, 9, 9]);
        let root = pt.new_root();
        let vpn = 0x7fff_ffff_e000u64 >> 12;
        assert_eq!(pt.find(root, vpn).0, None);
        let loc = pt.find_or_create(root, vpn);
        pt.set(loc, 42 << pte::PFN_SHIFT | pte::PRESENT);
        assert_eq!(pt.find(root, vpn), (Some(loc), 4));
        assert_eq!(
            pt.entries(root),
            vec![(vpn, 42 << pte::PFN_SHIFT | pte::PRESENT)]
        );
        assert_eq!(pt.count_tables(root), 4);
        pt.free_space(root);
    }

    #[test]
    fn shared_tables_are_copied_on_the_first_change_only() {
        let mut pt = PageTables::new(&[9, 9, 9, 9]);
        let mut a = pt.new_root();
        let (v1, v2) = (0x400u64, 0x7_ffff_fffeu64);
        for v in [v1, v2] {
            let (loc, _) = pt.find_private(&mut a, v);
            pt.set(loc, v << pte::PFN_SHIFT | pte::PRESENT);
        }
        let before = pt.host_bytes();
        let mut b = pt.share(a);
        assert_eq!(pt.host_bytes(), before, "sharing copies nothing");
        assert!(pt.path_shared(b, v1));
        let (loc, moved) = pt.find_private(&mut b, v1);
        assert!(moved.is_some(), "the leaf was copied");
        pt.set(loc, 99 << pte::PFN_SHIFT | pte::PRESENT);
        assert_ne!(a, b);
        // Only the path to v1 was copied: v2's tables below the root are still shared.
        assert!(!pt.path_shared(b, v1));
        assert!(pt.path_shared(b, v2));
        assert_eq!(pt.get(pt.find(a, v1).0.unwrap()) >> pte::PFN_SHIFT, v1);
        assert_eq!(pt.get(pt.find(b, v1).0.unwrap()) >> pte::PFN_SHIFT, 99);
        assert_eq!(pt.entries(a).len(), 2);
        assert_eq!(pt.entries(b).len(), 2);
        pt.free_space(b);
        assert!(!pt.path_shared(a, v2));
        assert_eq!(
            pt.entries(a),
            vec![
                (v1, v1 << pte::PFN_SHIFT | pte::PRESENT),
                (v2, v2 << pte::PFN_SHIFT | pte::PRESENT)
            ]
        );
        pt.free_space(a);
        assert_eq!(pt.host_bytes(), pt.tables.len() * 24);
    }

    #[test]
    fn a_single_level_is_a_linear_array() {
        let mut pt = PageTables::new(&[8]);
        let root = pt.new_root();
        let loc = pt.find_or_create(root, 0xab);
        assert_eq!(loc.slot, 0xab);
        assert_eq!(pt.find(root, 0xab).1, 1);
    }

    proptest::proptest! {
        /// The memo of the last leaf answers every walk as a full walk does, whatever mix of
        /// changes, forks and frees came before.
        #[test]
        fn the_last_leaf_memo_answers_as_a_walk(
            ops in proptest::collection::vec((0u8..5, 0u64..6, proptest::bool::ANY), 1..80),
        ) {
            let mut pt = PageTables::new(&[2, 2, 3]);
            let mut roots = vec![pt.new_root()];
            // Few distinct VPNs over few leaves, so that walks often meet the memo.
            let vpn = |k: u64| ((k % 3) << 3) | ((k % 2) << 1) | (k / 3);
            for (op, k, which) in ops {
                let r = usize::from(which && roots.len() > 1);
                match op {
                    0 | 1 => {
                        let (loc, _) = pt.find_private(&mut roots[r], vpn(k));
                        pt.set(loc, k << pte::PFN_SHIFT | pte::PRESENT);
                    }
                    2 if roots.len() == 1 => {
                        let b = pt.share(roots[0]);
                        roots.push(b);
                    }
                    3 if roots.len() == 2 => {
                        let gone = roots.remove(r);
                        pt.free_space(gone);
                    }
                    _ => {
                        let _ = pt.find(roots[r], vpn(k));
                    }
                }
                for &root in &roots {
                    for k in 0..6 {
                        let (found, shared) = (pt.find(root, vpn(k)), pt.path_shared(root, vpn(k)));
                        pt.forget();
                        proptest::prop_assert_eq!(found, pt.find(root, vpn(k)));
                        pt.forget();
                        proptest::prop_assert_eq!(shared, pt.path_shared(root, vpn(k)));
                    }
                }
            }
        }
    }
}

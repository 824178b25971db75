//! The swap device: numbered page-sized slots, handed out lowest first, with sparse contents
//! (a slot whose page is all zeros stores nothing), so host memory follows the pages swapped.

use std::collections::BTreeMap;

use super::phys::FrameAllocator;

#[derive(Clone, Debug)]
pub struct Swap {
    /// Slot numbers, lowest free first: the same discipline as frame numbers.
    slots: FrameAllocator,
    data: BTreeMap<u64, Box<[u8]>>,
    /// References to a slot beyond the first: after a `fork()` the parent's and the child's
    /// page tables both name a swapped-out page's slot (Linux's `swap_map` count). A slot is
    /// free again only when its last reference goes.
    extra_refs: BTreeMap<u64, u32>,
}

impl Swap {
    pub fn new(slots: u64) -> Self {
        Swap {
            slots: FrameAllocator::new(slots),
            data: BTreeMap::new(),
            extra_refs: BTreeMap::new(),
        }
    }
    pub fn total(&self) -> u64 {
        self.slots.total()
    }
    pub fn used(&self) -> u64 {
        self.slots.used()
    }
    pub fn free_slots(&self) -> u64 {
        self.total() - self.used()
    }
    /// The lowest free slot, or `None` when swap is full (or absent).
    pub fn alloc(&mut self) -> Option<u64> {
        self.slots.alloc()
    }
    /// Drops one reference to `slot`; the last one frees it.
    pub fn free(&mut self, slot: u64) {
        if let Some(n) = self.extra_refs.get_mut(&slot) {
            *n -= 1;
            if *n == 0 {
                self.extra_refs.remove(&slot);
            }
            return;
        }
        if slot < self.slots.high_water() && self.slots.used() > 0 {
            self.slots.free(slot);
            self.data.remove(&slot);
        }
    }
    /// One more reference to `slot` (a page table that now names it too).
    pub fn share(&mut self, slot: u64) {
        *self.extra_refs.entry(slot).or_insert(0) += 1;
    }
    /// Whether more than one reference names `slot`: its contents must not be overwritten.
    pub fn is_shared(&self, slot: u64) -> bool {
        self.extra_refs.contains_key(&slot)
    }
    /// Stores a page's bytes in `slot`.
    pub fn write(&mut self, slot: u64, page: &[u8]) {
        if page.iter().all(|&b| b == 0) {
            self.data.remove(&slot);
        } else {
            self.data.insert(slot, page.into());
        }
    }
    /// The bytes of `slot` (`None` = all zeros).
    pub fn read(&self, slot: u64) -> Option<&[u8]> {
        self.data.get(&slot).map(|b| &b[..])
    }
    /// Used slots, lowest first, for `show swap`.
    pub fn slots_with_data(&self) -> usize {
        self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_come_lowest_first_and_zero_pages_cost_nothing() {
        let mut s = Swap::new(2);
        assert_eq!((s.alloc(), s.alloc(), s.alloc()), (Some(0), Some(1), None));
        s.write(0, &[0; 16]);
        s.write(1, &[1; 16]);
        assert_eq!(s.slots_with_data(), 1);
        assert_eq!(s.read(1).map(|b| b[3]), Some(1));
        s.free(0);
        assert_eq!(s.alloc(), Some(0));
    }

    #[test]
    fn a_shared_slot_is_freed_by_its_last_reference() {
        let mut s = Swap::new(2);
        assert_eq!(s.alloc(), Some(0));
        s.share(0);
        assert!(s.is_shared(0));
        s.free(0);
        assert!(!s.is_shared(0));
        assert_eq!(s.used(), 1);
        s.free(0);
        assert_eq!(s.used(), 0);
    }
}

//! Physical memory: frame allocation and sparse byte storage.
//!
//! Bytes live in 4 KiB host blocks in a table indexed by block number that grows to the highest
//! block written. Frames are handed out lowest first, so that is about the number of frames in
//! use: a 16 GiB machine with one touched page costs a few bytes of table and one block, and a
//! never-written block reads as zeros without existing at all.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

const BLOCK_SHIFT: u32 = 12;
const BLOCK: usize = 1 << BLOCK_SHIFT;

type Block = Box<[u8; BLOCK]>;

/// Sparse byte storage for the whole physical address space.
#[derive(Default, Clone)]
pub struct PhysMem {
    table: Vec<Option<Block>>,
    blocks: usize,
}

impl PhysMem {
    /// Host blocks (4 KiB each) that hold written bytes.
    pub fn host_blocks(&self) -> usize {
        self.blocks
    }

    #[inline]
    fn block(&self, paddr: u64) -> Option<&[u8; BLOCK]> {
        self.table.get((paddr >> BLOCK_SHIFT) as usize)?.as_deref()
    }

    #[inline]
    fn block_mut(&mut self, paddr: u64) -> &mut [u8; BLOCK] {
        let b = (paddr >> BLOCK_SHIFT) as usize;
        if !self.table.get(b).is_some_and(Option::is_some) {
            self.create_block(b);
        }
        match &mut self.table[b] {
            Some(block) => block,
            None => unreachable!("create_block made it"),
        }
    }

    /// Makes host storage for block `b`. Out of line and on the heap from the start: a
    /// `Box::new([0; 4096])` in the hot path builds the array on the stack first, and the
    /// 4 KiB frame's stack probe alone cost a tenth of every store.
    #[cold]
    #[inline(never)]
    fn create_block(&mut self, b: usize) {
        if b >= self.table.len() {
            self.table.resize_with(b + 1, || None);
        }
        if self.table[b].is_none() {
            self.blocks += 1;
            self.table[b] = Some(
                vec![0u8; BLOCK]
                    .into_boxed_slice()
                    .try_into()
                    .unwrap_or_else(|_| unreachable!("BLOCK bytes")),
            );
        }
    }

    /// Whether any byte of `[paddr, paddr + len)` has host storage (bytes never written, or
    /// zeroed, have none and read as zeros).
    pub fn has_data(&self, paddr: u64, len: u64) -> bool {
        let mut a = paddr & !(BLOCK as u64 - 1);
        while a < paddr + len {
            if self.block(a).is_some() {
                return true;
            }
            a += BLOCK as u64;
        }
        false
    }

    /// Reads `buf.len()` bytes at `paddr`.
    #[inline]
    pub fn read(&self, paddr: u64, buf: &mut [u8]) {
        let off = (paddr as usize) & (BLOCK - 1);
        if off + buf.len() <= BLOCK {
            match self.block(paddr) {
                Some(b) => buf.copy_from_slice(&b[off..off + buf.len()]),
                None => buf.fill(0),
            }
        } else {
            for (i, byte) in buf.iter_mut().enumerate() {
                let a = paddr + i as u64;
                *byte = self.block(a).map_or(0, |b| b[(a as usize) & (BLOCK - 1)]);
            }
        }
    }

    /// Loads a little-endian value of 1, 2, 4 or 8 bytes that does not cross a 4 KiB block
    /// (an aligned-enough access inside one page): the interpreter's fast path.
    #[inline]
    pub fn load(&self, paddr: u64, width: usize) -> u64 {
        let off = (paddr as usize) & (BLOCK - 1);
        if off + width > BLOCK {
            let mut b = [0u8; 8];
            self.read(paddr, &mut b[..width]);
            return u64::from_le_bytes(b);
        }
        let Some(b) = self.block(paddr) else {
            return 0;
        };
        match width {
            1 => u64::from(b[off]),
            2 => u64::from(u16::from_le_bytes([b[off], b[off + 1]])),
            4 => u64::from(u32::from_le_bytes(
                b[off..off + 4].try_into().unwrap_or([0; 4]),
            )),
            8 => u64::from_le_bytes(b[off..off + 8].try_into().unwrap_or([0; 8])),
            _ => {
                let mut v = [0u8; 8];
                v[..width].copy_from_slice(&b[off..off + width]);
                u64::from_le_bytes(v)
            }
        }
    }

    /// Stores the low `width` bytes of `value`, little-endian (see [`PhysMem::load`]).
    #[inline]
    pub fn store(&mut self, paddr: u64, width: usize, value: u64) {
        let off = (paddr as usize) & (BLOCK - 1);
        let bytes = value.to_le_bytes();
        if off + width > BLOCK {
            self.write(paddr, &bytes[..width]);
            return;
        }
        let b = self.block_mut(paddr);
        match width {
            1 => b[off] = bytes[0],
            2 => b[off..off + 2].copy_from_slice(&bytes[..2]),
            4 => b[off..off + 4].copy_from_slice(&bytes[..4]),
            8 => b[off..off + 8].copy_from_slice(&bytes),
            _ => b[off..off + width].copy_from_slice(&bytes[..width]),
        }
    }

    /// Writes `buf` at `paddr`.
    #[inline]
    pub fn write(&mut self, paddr: u64, buf: &[u8]) {
        let off = (paddr as usize) & (BLOCK - 1);
        if off + buf.len() <= BLOCK {
            self.block_mut(paddr)[off..off + buf.len()].copy_from_slice(buf);
        } else {
            for (i, byte) in buf.iter().enumerate() {
                let a = paddr + i as u64;
                self.block_mut(a)[(a as usize) & (BLOCK - 1)] = *byte;
            }
        }
    }

    /// Zeroes `[paddr, paddr + len)`, dropping whole host blocks so zeroing costs no memory.
    pub fn zero(&mut self, paddr: u64, len: u64) {
        let mut a = paddr;
        let end = paddr + len;
        while a < end {
            let off = (a as usize) & (BLOCK - 1);
            let n = ((BLOCK - off) as u64).min(end - a);
            if off == 0 && n == BLOCK as u64 {
                if let Some(slot) = self.table.get_mut((a >> BLOCK_SHIFT) as usize) {
                    if slot.take().is_some() {
                        self.blocks -= 1;
                    }
                }
            } else if self.block(a).is_some() {
                self.block_mut(a)[off..off + n as usize].fill(0);
            }
            a += n;
        }
    }

    /// Copies `len` bytes between physical addresses (for copy-on-write and swap).
    pub fn copy(&mut self, from: u64, to: u64, len: u64) {
        let mut done = 0;
        let mut buf = [0u8; BLOCK];
        while done < len {
            let n = (len - done).min(BLOCK as u64) as usize;
            self.read(from + done, &mut buf[..n]);
            if buf[..n].iter().all(|&b| b == 0) {
                self.zero(to + done, n as u64);
            } else {
                self.write(to + done, &buf[..n]);
            }
            done += n as u64;
        }
    }
}

/// Hands out numbers (frames, swap slots): the lowest free one first, so numbers in a trace are
/// small and predictable.
#[derive(Clone, Debug)]
pub struct FrameAllocator {
    total: u64,
    next_fresh: u64,
    freed: BinaryHeap<Reverse<u64>>,
    used: u64,
}

impl FrameAllocator {
    pub fn new(total: u64) -> Self {
        FrameAllocator {
            total,
            next_fresh: 0,
            freed: BinaryHeap::new(),
            used: 0,
        }
    }
    pub fn alloc(&mut self) -> Option<u64> {
        let pfn = if let Some(Reverse(p)) = self.freed.pop() {
            p
        } else if self.next_fresh < self.total {
            self.next_fresh += 1;
            self.next_fresh - 1
        } else {
            return None;
        };
        self.used += 1;
        Some(pfn)
    }
    /// Takes frame `pfn` itself, if it is free: a page table written by hand names its frames.
    /// Frames below it never handed out yet join the free pool, so later allocations still
    /// take the lowest free frame first.
    pub fn take(&mut self, pfn: u64) -> bool {
        if pfn >= self.total {
            return false;
        }
        if pfn >= self.next_fresh {
            self.freed.extend((self.next_fresh..pfn).map(Reverse));
            self.next_fresh = pfn + 1;
        } else {
            let before = self.freed.len();
            self.freed.retain(|Reverse(p)| *p != pfn);
            if self.freed.len() == before {
                return false;
            }
        }
        self.used += 1;
        true
    }
    pub fn free(&mut self, pfn: u64) {
        self.used -= 1;
        self.freed.push(Reverse(pfn));
    }
    pub fn used(&self) -> u64 {
        self.used
    }
    pub fn total(&self) -> u64 {
        self.total
    }
    /// Frames ever handed out: the extent of the frame table.
    pub fn high_water(&self) -> u64 {
        self.next_fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_frame_is_never_handed_out() {
        let mut a = FrameAllocator::new(8);
        assert!(a.take(3));
        assert!(!a.take(3));
        let got: Vec<u64> = std::iter::from_fn(|| a.alloc()).collect();
        assert_eq!(got, vec![0, 1, 2, 4, 5, 6, 7]);
        a.free(5);
        assert!(a.take(5));
        assert_eq!(a.alloc(), None);
        assert!(!a.take(8));
    }

    #[test]
    fn unwritten_memory_reads_zero_and_costs_nothing() {
        let m = PhysMem::default();
        let mut b = [0xffu8; 8];
        m.read(16 << 30, &mut b);
        assert_eq!(b, [0; 8]);
        assert_eq!(m.host_blocks(), 0);
    }

    #[test]
    fn writes_read_back_across_block_edges() {
        let mut m = PhysMem::default();
        m.write(4094, &[1, 2, 3, 4]);
        let mut b = [0u8; 4];
        m.read(4094, &mut b);
        assert_eq!(b, [1, 2, 3, 4]);
        m.copy(4094, 1 << 30, 4);
        m.read(1 << 30, &mut b);
        assert_eq!(b, [1, 2, 3, 4]);
        m.zero(0, 8192);
        m.read(4094, &mut b);
        assert_eq!(b, [0; 4]);
        assert_eq!(m.host_blocks(), 1);
    }

    #[test]
    fn frames_come_lowest_first() {
        let mut f = FrameAllocator::new(3);
        assert_eq!(
            (f.alloc(), f.alloc(), f.alloc(), f.alloc()),
            (Some(0), Some(1), Some(2), None)
        );
        f.free(1);
        f.free(0);
        assert_eq!(f.alloc(), Some(0));
        assert_eq!(f.used(), 2);
    }
}

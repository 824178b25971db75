//! Allocators over a process's address space: the glibc 2.36 model (ptmalloc2 with tcache)
//! and the OSTEP-style teaching free lists. They reach memory only through [`Memory`], so they
//! never see the AST or the page tables, and every byte they write (chunk headers, tcache
//! links) is a real store that can fault.

pub mod config;
pub mod glibc;
#[cfg(test)]
mod props;
pub mod safety;
pub mod teach;

use crate::config::{Arch, Conventions};
use crate::os::Trap;

pub use config::{Addresses, AllocatorKind, FreeListOrder, HeapConfig, TeachHeap};

/// What an allocator may do to the process it serves. The session implements it over the OS
/// model; every call is a real, simulated memory access or system call.
pub trait Memory {
    /// Stores bytes at a virtual address (may fault, may kill the process).
    fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Trap>;
    /// Loads bytes from a virtual address.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Trap>;
    /// The current program break.
    fn brk(&self) -> u64;
    /// Moves the break; returns the new break (the old one if the kernel refused).
    fn set_brk(&mut self, addr: u64) -> u64;
    /// An anonymous read-write private mapping of `len` bytes (page multiple), or `None`.
    fn mmap(&mut self, len: u64) -> Option<u64>;
    fn munmap(&mut self, addr: u64, len: u64);
    /// Moves or resizes a mapping (`mremap` with MREMAP_MAYMOVE); returns its new address.
    fn mremap(&mut self, addr: u64, old_len: u64, new_len: u64) -> Option<u64>;
    /// An anonymous read-write private mapping of the pages covering `[addr, addr + len)`,
    /// at exactly that place (`MAP_FIXED_NOREPLACE`); false if any of it is mapped already.
    fn map_fixed(&mut self, addr: u64, len: u64) -> bool;
    /// Records an allocator decision for the trace (only called when `explain()` is true).
    fn explain(&mut self, call: &str, result: u64, detail: String);
    /// Whether anyone reads explanations: lets the allocator skip formatting them.
    fn explaining(&self) -> bool;
}

/// Why an allocator call could not return normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeapError {
    /// glibc detected corruption or misuse and called abort(): its message, as on stderr.
    Abort(String),
    /// A memory access inside the allocator trapped (the process dies of it).
    Trap(Trap),
}

impl From<Trap> for HeapError {
    fn from(t: Trap) -> Self {
        HeapError::Trap(t)
    }
}

/// One chunk for `show heap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkView {
    /// The chunk's address (the user pointer is 16 bytes further in glibc, 8 on i386).
    pub addr: u64,
    pub size: u64,
    pub in_use: bool,
    /// `tcache`, `fastbin`, `unsorted`, `small`, `large`, `top`, `mmapped`, `free list`...
    pub bin: String,
}

/// A live block, for memory-safety findings: where it is and how big the user asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub ptr: u64,
    pub requested: u64,
    pub usable: u64,
}

/// The allocator a heap configuration asks for, following the scenario's `conventions`; glibc
/// follows the ABI of the scenario's `arch` on pages of `page_size` bytes.
pub fn for_config(
    cfg: &HeapConfig,
    conventions: Conventions,
    arch: Arch,
    page_size: u64,
    seed: u64,
) -> Box<dyn Allocator> {
    match teach::Fit::of(cfg.allocator) {
        Some(fit) => Box::new(teach::Teach::new(
            fit,
            cfg.teach_heap,
            cfg.radix(),
            conventions == Conventions::Ostep,
        )),
        None => Box::new(glibc::Glibc::with_abi(
            seed,
            glibc::Abi::of(arch, page_size),
        )),
    }
}

/// The interface every allocator offers to the session.
pub trait Allocator: Send {
    fn malloc(&mut self, mem: &mut dyn Memory, n: u64) -> Result<u64, HeapError>;
    fn calloc(&mut self, mem: &mut dyn Memory, n: u64, size: u64) -> Result<u64, HeapError>;
    fn realloc(&mut self, mem: &mut dyn Memory, p: u64, n: u64) -> Result<u64, HeapError>;
    fn free(&mut self, mem: &mut dyn Memory, p: u64) -> Result<(), HeapError>;
    /// `malloc_usable_size(p)`; 0 for a pointer that is not a live block.
    fn usable_size(&self, p: u64) -> u64;
    /// Every chunk in address order.
    fn chunks(&self) -> Vec<ChunkView>;
    /// A free-list allocator's list as (address, size) in list order; `None` for the others.
    fn free_list(&self) -> Option<Vec<(u64, u64)>> {
        None
    }
    /// The live block containing `addr`, if any.
    fn block_at(&self, addr: u64) -> Option<Block>;
    fn live_blocks(&self) -> Vec<Block>;
    /// The address ranges the allocator's chunks live in (the heap, mmapped chunks), the main
    /// heap first: accesses there are checked for memory-safety findings.
    fn regions(&self) -> Vec<(u64, u64)>;
    fn clone_box(&self) -> Box<dyn Allocator>;
    /// Host bytes of the allocator's bookkeeping, roughly, for the session's host-memory limit.
    fn host_bytes(&self) -> usize;
}

impl Clone for Box<dyn Allocator> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

//! The simulated hardware: physical frames, multi-level page tables, the TLB, swap and
//! replacement policies. It knows nothing of syntax, processes' VMAs or the allocator.

pub mod config;

pub use config::*;

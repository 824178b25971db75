//! The settings of the simulated OS: how it lays out a process (ASLR, PIE) and how far a stack
//! may grow.

use serde::{Deserialize, Serialize};

/// What a profile, a `machine { ... }` block or a sweep says about the OS. The layout itself
/// follows from the machine (Linux's on a 48-bit, 4 KiB-page machine, the textbook picture on a
/// teaching one); these settings move and bound it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsConfig {
    /// Randomized stack, mmap, brk and PIE bases, drawn from the scenario's seed and the pid.
    pub aslr: bool,
    /// The program is position-independent: its image sits at 0x555555554000, not 0x400000.
    pub pie: bool,
    /// The stack rlimit (`ulimit -s`), 8 MiB by default.
    pub stack_limit: u64,
}

impl Default for OsConfig {
    /// Linux with ASLR and PIE off, so that addresses in a trace are the same on every run and
    /// match the textbook's, and the usual 8 MiB stack limit.
    fn default() -> Self {
        OsConfig {
            aslr: false,
            pie: false,
            stack_limit: 8 << 20,
        }
    }
}

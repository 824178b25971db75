//! [`Machine`]: the machine a Rust program starts a [`Session`](super::Session) on, as a
//! profile with builder-style overrides. It becomes a `machine` statement, so a Rust user gets
//! exactly the checks and diagnostics a `.mem` file gets.

use std::fmt;
use std::path::Path;

use crate::config::ScenarioConfig;
use crate::heap::AllocatorKind;
use crate::machine::config::Policy;
use crate::profile::format_size;

use super::Report;

/// A machine to simulate: a built-in profile (or a profile file) and settings that override it.
///
/// ```
/// use memsim::Machine;
/// use memsim::machine::config::Policy;
///
/// let m = Machine::profile("x86_64").memory_pages(3).replace(Policy::Fifo);
/// assert_eq!(m.to_string(), "machine x86_64 { memory 3 pages; replace fifo }");
/// let cfg = m.config().expect("a valid machine");
/// assert_eq!(cfg.machine.frames(), 3);
/// ```
///
/// Nothing is checked until the machine is used: a wrong name or an inconsistent setting comes
/// back as the same diagnostic a `machine` statement gets (`mem::machine::…`).
///
/// ```
/// let err = memsim::Machine::profile("x68_64").config().unwrap_err();
/// assert_eq!(err.diagnostics()[0].code, "mem::machine::unknown_profile");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    /// A profile's name or a quoted file path; `None` is the default machine.
    base: Option<String>,
    /// Settings as a `machine` statement writes them: key, then its value.
    settings: Vec<(String, String)>,
}

impl Machine {
    /// A built-in profile (`x86_64`, `i386`, `aarch64_4k`, `riscv_sv39`, `tiny`…); `memsim
    /// profiles` lists them. [`crate::profile::builtin_names`] too.
    pub fn profile(name: &str) -> Machine {
        Machine {
            base: Some(name.to_string()),
            settings: Vec::new(),
        }
    }

    /// A profile file (YAML, as in `profiles/`), relative to the session's base directory.
    pub fn file(path: impl AsRef<Path>) -> Machine {
        let p = path.as_ref().to_string_lossy().replace('\\', "\\\\");
        Machine {
            base: Some(format!("\"{}\"", p.replace('"', "\\\""))),
            settings: Vec::new(),
        }
    }

    /// Any setting of a `machine` statement, written as in `.mem` source:
    /// `.set("tlb", "16 entries fifo 4-way")`. A later setting of the same key wins.
    pub fn set(mut self, key: &str, value: impl fmt::Display) -> Machine {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.to_string(), value.to_string()));
        self
    }

    /// Physical memory in bytes.
    pub fn memory(self, bytes: u64) -> Machine {
        self.set("memory", format_size(bytes))
    }
    /// Physical memory in pages (frames).
    pub fn memory_pages(self, pages: u64) -> Machine {
        self.set("memory", format!("{pages} pages"))
    }
    /// Bytes per page: a power of two.
    pub fn page_size(self, bytes: u64) -> Machine {
        self.set("page_size", format_size(bytes))
    }
    /// Swap space in bytes (0 is none).
    pub fn swap(self, bytes: u64) -> Machine {
        self.set("swap", format_size(bytes))
    }
    /// Swap space in pages.
    pub fn swap_pages(self, pages: u64) -> Machine {
        self.set("swap", format!("{pages} pages"))
    }
    /// The page replacement policy.
    pub fn replace(self, policy: Policy) -> Machine {
        self.set("replace", policy.name())
    }
    /// A fully associative TLB of `entries` entries.
    pub fn tlb_entries(self, entries: u32) -> Machine {
        self.set("tlb", format!("{entries} entries"))
    }
    /// No TLB: every access walks the page table.
    pub fn no_tlb(self) -> Machine {
        self.set("tlb", "off")
    }
    /// Levels of the page table.
    pub fn levels(self, levels: u32) -> Machine {
        self.set("levels", levels)
    }
    /// Bits of a virtual address.
    pub fn va_bits(self, bits: u32) -> Machine {
        self.set("va_bits", bits)
    }
    /// The seed of every random choice (ASLR, `replace random`).
    pub fn seed(self, seed: u64) -> Machine {
        self.set("seed", seed)
    }
    /// Address-space layout randomisation.
    pub fn aslr(self, on: bool) -> Machine {
        self.set("aslr", if on { "on" } else { "off" })
    }
    /// The heap allocator `malloc` and `free` use.
    pub fn allocator(self, allocator: AllocatorKind) -> Machine {
        self.set("allocator", allocator.name())
    }

    /// The `machine` statement this machine is (empty for the default machine).
    pub fn source(&self) -> String {
        self.to_string()
    }

    /// The whole configuration (the machine, the OS and the heap), checked as a `machine`
    /// statement is: a [`Report`] with the diagnostics when a name or a setting is wrong.
    pub fn config(&self) -> Result<ScenarioConfig, Report> {
        self.config_in(Path::new("."))
    }

    /// [`Machine::config`], with a profile file's path relative to `base_dir`.
    pub fn config_in(&self, base_dir: &Path) -> Result<ScenarioConfig, Report> {
        let mut s = super::Session::new_in(self.clone(), base_dir);
        match s.machine_error() {
            Some(r) => Err(r),
            None => Ok(s.config().clone()),
        }
    }
}

impl fmt::Display for Machine {
    /// The `machine` statement: `machine x86_64 { memory 3 pages; replace fifo }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.base.is_none() && self.settings.is_empty() {
            return Ok(());
        }
        f.write_str("machine")?;
        if let Some(b) = &self.base {
            write!(f, " {b}")?;
        }
        if !self.settings.is_empty() {
            let body: Vec<String> = self
                .settings
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            write!(f, " {{ {} }}", body.join("; "))?;
        }
        Ok(())
    }
}

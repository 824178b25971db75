//! Consistency checks of a whole [`ScenarioConfig`], shared by profile files and `machine`
//! statements (`check::machine::validate` is this function). It lives here rather than in
//! `check` so that loading a profile file does not reach up into the check stage.

use crate::config::{Arch, ScenarioConfig};
use crate::diag::machine::MachineError;
use crate::heap::AllocatorKind;
use crate::machine::MachineConfig;
use crate::syntax::ast::Span;

use super::size::format_size;
use crate::suggest::or_list;

/// The fields of a [`ScenarioConfig`] that validation can complain about, so that an error can
/// point at whatever set the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    PageSize,
    Memory,
    Swap,
    VaBits,
    Levels,
    PteSize,
    Tlb,
    StackLimit,
    Heap,
    Header,
    Addresses,
}

impl Field {
    /// The field a `machine` setting (or a sweep parameter) sets; `None` for settings that
    /// cannot be inconsistent (`replace`, `seed`, `aslr`, …).
    pub fn for_key(key: &str) -> Option<Field> {
        Some(match key {
            "page_size" => Field::PageSize,
            "memory" => Field::Memory,
            "swap" => Field::Swap,
            "va_bits" => Field::VaBits,
            "levels" => Field::Levels,
            "pte_size" => Field::PteSize,
            "tlb" => Field::Tlb,
            "stack_limit" => Field::StackLimit,
            "heap" => Field::Heap,
            "header" => Field::Header,
            "addresses" => Field::Addresses,
            _ => return None,
        })
    }
}

/// Where each field's value was written. A field nobody set came from the profile, so its
/// errors point at `base` (the `machine` line's profile name, or the top of a profile file).
#[derive(Debug, Clone, Default)]
pub struct FieldSpans {
    base: Span,
    set: Vec<(Field, Span)>,
}

impl FieldSpans {
    pub fn new(base: Span) -> FieldSpans {
        FieldSpans {
            base,
            set: Vec::new(),
        }
    }
    /// Records that `field` was set at `span`; a later record wins, as a later setting does.
    pub fn set(&mut self, field: Field, span: Span) {
        self.set.push((field, span));
    }
    /// Records the span of a setting by its key; keys that name no checked field are ignored.
    pub fn set_key(&mut self, key: &str, span: Span) {
        if let Some(f) = Field::for_key(key) {
            self.set(f, span);
        }
    }
    pub fn get(&self, field: Field) -> Option<Span> {
        self.set
            .iter()
            .rev()
            .find(|(f, _)| *f == field)
            .map(|&(_, s)| s)
    }
    pub fn base(&self) -> Span {
        self.base
    }
    /// The span of the first of `fields` that was set, else the base: an error about a value
    /// that depends on several settings points at the one most likely to be wrong.
    pub fn first_of(&self, fields: &[Field]) -> Span {
        fields
            .iter()
            .find_map(|&f| self.get(f))
            .unwrap_or(self.base)
    }
}

const MIN_PAGE: u64 = 256;
const MAX_PAGE: u64 = 1 << 30;
/// A one-level table is a linear array of 2^v entries; past a million entries no textbook draws
/// one and the simulator would have to allocate it.
const MAX_LINEAR_VPN_BITS: u64 = 20;
/// The most TLB entries simulated: an order of magnitude past the largest real TLBs, and each
/// entry is host memory.
pub const MAX_TLB_ENTRIES: u32 = 65_536;

/// Every inconsistency in `cfg`, each pointing at the value that is wrong. Checks that depend on
/// a value already reported as wrong are skipped, so one mistake gives one error.
pub fn validate(sc: &ScenarioConfig, spans: &FieldSpans) -> Vec<MachineError> {
    use Field::*;
    let (cfg, os, heap_cfg) = (&sc.machine, &sc.os, &sc.heap);
    let mut errors = Vec::new();
    let ps = cfg.page_size;
    let page = format_size(ps);

    let page_ok = ps.is_power_of_two() && (MIN_PAGE..=MAX_PAGE).contains(&ps);
    if !page_ok {
        let (label, help) = if ps < MIN_PAGE {
            (
                format!(
                    "{} is smaller than the smallest page, 256 B",
                    format_size(ps)
                ),
                "a page size is a power of two from 256 B to 1 GiB, such as `4 KiB`".to_string(),
            )
        } else if ps > MAX_PAGE {
            (
                format!("{} is larger than the largest page, 1 GiB", format_size(ps)),
                "a page size is a power of two from 256 B to 1 GiB, such as `2 MiB`".to_string(),
            )
        } else {
            let lo = 1u64 << (63 - ps.leading_zeros());
            (
                format!("{} is not a power of two", format_size(ps)),
                format!(
                    "a page size is a power of two from 256 B to 1 GiB; the nearest are {} and {}",
                    format_size(lo),
                    format_size(lo << 1)
                ),
            )
        };
        errors.push(MachineError::PageSize {
            value: format_size(ps),
            span: spans.first_of(&[PageSize]).into(),
            label,
            help,
            src: None,
        });
    }

    let pte_ok = matches!(cfg.pte_size, 4 | 8);
    if !pte_ok {
        errors.push(MachineError::PteSize {
            value: cfg.pte_size,
            span: spans.first_of(&[PteSize]).into(),
            label: "a page-table entry is 4 or 8 bytes".into(),
            help:
                "use `pte_size 8` for a 64-bit machine or `pte_size 4` for a 32-bit one like i386"
                    .into(),
            src: None,
        });
    }

    let shift = u64::from(ps.trailing_zeros());
    let va = u64::from(cfg.va_bits);
    let va_ok = if sc.arch == Arch::I386 && cfg.va_bits > 32 {
        // glibc's 4-byte words could not hold the addresses above 4 GiB.
        errors.push(MachineError::VaBits {
            value: cfg.va_bits,
            span: spans.first_of(&[VaBits]).into(),
            label: "more than the 32 bits an i386 program's pointers hold".into(),
            help: "use `va_bits 32` with `arch i386` (as `machine i386` does), or another arch"
                .into(),
            src: None,
        });
        false
    } else if !(8..=64).contains(&cfg.va_bits) {
        errors.push(MachineError::VaBits {
            value: cfg.va_bits,
            span: spans.first_of(&[VaBits]).into(),
            label: "outside 8 ..= 64".into(),
            help: "va_bits is from 8 to 64: 48 on x86-64, 32 on i386, 16 on the tiny machine"
                .into(),
            src: None,
        });
        false
    } else if page_ok && va <= shift {
        errors.push(MachineError::VaBits {
            value: cfg.va_bits,
            span: spans.first_of(&[VaBits, PageSize]).into(),
            label: format!("no bits are left for the page number after the {shift}-bit offset"),
            help: format!(
                "with {page} pages the offset takes {shift} bits, so va_bits must be at least {}",
                shift + 1
            ),
            src: None,
        });
        false
    } else {
        true
    };

    if page_ok && pte_ok && va_ok {
        if let Some(e) = check_levels(cfg, spans) {
            errors.push(e);
        }
    }

    if page_ok {
        if cfg.memory == 0 || !cfg.memory.is_multiple_of(ps) {
            let (label, help) = whole_pages(cfg.memory, ps, "frames", false);
            errors.push(MachineError::Memory {
                value: format_size(cfg.memory),
                span: spans.first_of(&[Memory, PageSize]).into(),
                label,
                help: format!("memory is a whole, nonzero number of {page} frames: {help}"),
                src: None,
            });
        }
        if !cfg.swap.is_multiple_of(ps) {
            let (label, help) = whole_pages(cfg.swap, ps, "pages", true);
            errors.push(MachineError::Swap {
                value: format_size(cfg.swap),
                span: spans.first_of(&[Swap, PageSize]).into(),
                label,
                help: format!("swap is a whole number of {page} pages (0 = no swap): {help}"),
                src: None,
            });
        }
        if os.stack_limit == 0 || !os.stack_limit.is_multiple_of(ps) {
            let (label, help) = whole_pages(os.stack_limit, ps, "pages", false);
            errors.push(MachineError::StackLimit {
                value: format_size(os.stack_limit),
                span: spans.first_of(&[StackLimit, PageSize]).into(),
                label,
                help: format!("the stack limit is a whole, nonzero number of {page} pages: {help}"),
                src: None,
            });
        }
    }

    if let Some(e) = check_tlb(cfg, spans) {
        errors.push(e);
    }

    if heap_cfg.allocator == AllocatorKind::Glibc
        && heap_cfg.addresses == crate::heap::Addresses::Decimal
    {
        // glibc's own messages, its chunk sizes and every kernel event are hex; a decimal
        // pointer among them would be read as a different number.
        errors.push(MachineError::Addresses {
            allocator: heap_cfg.allocator.name().into(),
            span: spans.first_of(&[Field::Addresses]).into(),
            label: "glibc's chunks are read in hex".into(),
            help: "decimal addresses are for the teaching allocators, as in OSTEP's exercises: \
                   `allocator first_fit; heap 100 B at 1000`; for glibc use `addresses hex` or \
                   `auto`"
                .into(),
            src: None,
        });
    }

    let heap = &heap_cfg.teach_heap;
    if heap.size == 0 {
        errors.push(MachineError::Heap {
            what: "the heap is empty".into(),
            span: spans.first_of(&[Heap]).into(),
            label: "a heap of 0 bytes".into(),
            help: "give the teaching heap a size and a base, such as `heap 100 B at 1000`".into(),
            src: None,
        });
    } else if heap.header >= heap.size {
        errors.push(MachineError::Heap {
            what: format!(
                "a {}-byte header leaves no room in a {}-byte heap",
                heap.header, heap.size
            ),
            span: spans.first_of(&[Header, Heap]).into(),
            label: format!(
                "the header must be smaller than the heap's {} bytes",
                heap.size
            ),
            help: format!(
                "use a header smaller than the heap, such as `header 0` or `header 8`, or a \
                 heap larger than {} bytes",
                heap.header
            ),
            src: None,
        });
    } else if heap.base == 0 && heap.header == 0 {
        // The first block would be at address 0: a successful malloc would return NULL.
        errors.push(MachineError::Heap {
            what: "the first block would be at address 0, which is NULL".into(),
            span: spans.first_of(&[Heap, Header]).into(),
            label: "a heap at 0 with no header hands out address 0".into(),
            help: "put the heap above 0, such as `heap 100 B at 1000`, or give blocks a header \
                   (`header 8`)"
                .into(),
            src: None,
        });
    } else if heap.base.checked_add(heap.size).is_none() {
        errors.push(MachineError::Heap {
            what: "the heap runs past the end of the address space".into(),
            span: spans.first_of(&[Heap]).into(),
            label: "base + size overflows 64 bits".into(),
            help: "put the heap at a lower address, such as `heap 100 B at 1000`".into(),
            src: None,
        });
    }

    errors
}

/// The label and help for a size that should be a whole (and, unless `zero_ok`, nonzero) number
/// of pages: the two nearest valid sizes.
fn whole_pages(value: u64, ps: u64, what: &str, zero_ok: bool) -> (String, String) {
    let lo = value / ps * ps;
    let hi = lo.checked_add(ps);
    if value == 0 {
        return (
            format!("zero {what}"),
            format!("the smallest valid size is {}", format_size(ps)),
        );
    }
    let label = format!(
        "{} is not a whole number of {} {what}",
        format_size(value),
        format_size(ps)
    );
    let help = match hi {
        Some(hi) if lo == 0 && !zero_ok => {
            format!("the smallest valid size is {}", format_size(hi))
        }
        Some(hi) => format!(
            "the nearest valid sizes are {} and {}",
            format_size(lo),
            format_size(hi)
        ),
        None => format!("the nearest valid size is {}", format_size(lo)),
    };
    (label, help)
}

/// Levels against VPN bits: each lower level indexes `b` bits (a table fills one page), the top
/// level takes the rest, so a multi-level table needs (levels−1)·b < v ≤ levels·b. One level is
/// a linear array, which covers any v up to [`MAX_LINEAR_VPN_BITS`].
fn check_levels(cfg: &MachineConfig, spans: &FieldSpans) -> Option<MachineError> {
    let shift = u64::from(cfg.page_size.trailing_zeros());
    let b = shift - u64::from(cfg.pte_size.trailing_zeros());
    let v = u64::from(cfg.va_bits) - shift;
    let levels = u64::from(cfg.levels);
    let ok = match levels {
        0 => false,
        1 => v <= MAX_LINEAR_VPN_BITS,
        n => (n - 1) * b < v && v <= n * b,
    };
    if ok {
        return None;
    }
    let needed = v.div_ceil(b);
    let page = format_size(cfg.page_size);
    let label = match levels {
        0 => "a page table has at least one level".to_string(),
        1 => format!("a one-level table of 2^{v} entries is too large to be a linear array"),
        n if n * b < v => format!("{n} levels index only {} of the {v} VPN bits", n * b),
        n => format!(
            "{n} levels index at least {} bits, but there are only {v} VPN bits",
            (n - 1) * b + 1
        ),
    };
    let mut help = format!(
        "with {page} pages and {}-byte entries each level indexes {b} bits; {v} VPN bits need \
         {needed} level{}",
        cfg.pte_size,
        if needed == 1 { "" } else { "s" }
    );
    if v <= MAX_LINEAR_VPN_BITS && needed != 1 {
        help.push_str(" (or 1, a linear table)");
    }
    // Keeping the levels and changing va_bits is the other way out; say so when it is possible.
    let va_range = match levels {
        0 => None,
        1 => Some((shift + 1, shift + MAX_LINEAR_VPN_BITS)),
        n => Some((shift + (n - 1) * b + 1, shift + n * b)),
    };
    if let Some((lo, hi)) = va_range {
        let (lo, hi) = (lo.max(8), hi.min(64));
        if lo <= hi {
            let range = if lo == hi {
                format!("va_bits {lo}")
            } else {
                format!("va_bits from {lo} to {hi}")
            };
            help.push_str(&format!("; {levels} level{} fit {range}", plural(levels)));
        }
    }
    let span = spans.first_of(&[
        Field::Levels,
        Field::VaBits,
        Field::PageSize,
        Field::PteSize,
    ]);
    Some(MachineError::Levels {
        levels: cfg.levels,
        va_bits: cfg.va_bits,
        page,
        span: span.into(),
        label,
        help,
        src: None,
    })
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn check_tlb(cfg: &MachineConfig, spans: &FieldSpans) -> Option<MachineError> {
    let tlb = &cfg.tlb;
    if !tlb.enabled {
        return None;
    }
    let span = spans.first_of(&[Field::Tlb]).into();
    if tlb.entries == 0 {
        return Some(MachineError::Tlb {
            what: "no entries".into(),
            span,
            label: "a TLB needs at least one entry".into(),
            help:
                "give a number of entries such as `tlb 16 entries`, or write `tlb off` for no TLB"
                    .into(),
            src: None,
        });
    }
    if tlb.entries > MAX_TLB_ENTRIES {
        return Some(MachineError::Tlb {
            what: format!("{} entries are far too many", tlb.entries),
            span,
            label: format!("more than {MAX_TLB_ENTRIES} entries"),
            help: format!(
                "the largest real TLBs hold a few thousand entries (a second-level TLB of 2048 \
                 or 3072); memsim simulates up to {MAX_TLB_ENTRIES}, or write `tlb off` for no TLB"
            ),
            src: None,
        });
    }
    match tlb.ways {
        Some(w) if w == 0 || !tlb.entries.is_multiple_of(w) => {
            let divisors = divisors(tlb.entries);
            let shown: Vec<String> = if divisors.len() <= 12 {
                divisors.iter().map(u32::to_string).collect()
            } else {
                let (head, tail) = divisors.split_at(6);
                head.iter()
                    .map(u32::to_string)
                    .chain(std::iter::once("…".to_string()))
                    .chain(tail.last().map(u32::to_string))
                    .collect()
            };
            let list = or_list(shown.iter().map(String::as_str));
            Some(MachineError::Tlb {
                what: format!("{w}-way does not divide {} entries", tlb.entries),
                span,
                label: format!("{} entries cannot form {w}-way sets", tlb.entries),
                help: format!(
                    "the ways must divide the entries: {} entries allow {list} ways",
                    tlb.entries
                ),
                src: None,
            })
        }
        _ => None,
    }
}

/// The divisors of `n` in increasing order; O(√n), since `n` is whatever the user typed.
fn divisors(n: u32) -> Vec<u32> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut d: u32 = 1;
    while u64::from(d) * u64::from(d) <= u64::from(n) {
        if n.is_multiple_of(d) {
            small.push(d);
            if d != n / d {
                large.push(n / d);
            }
        }
        d += 1;
    }
    small.extend(large.into_iter().rev());
    small
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::Diagnostic;

    fn errs(f: impl FnOnce(&mut ScenarioConfig)) -> Vec<MachineError> {
        let mut cfg = ScenarioConfig::default_x86_64();
        f(&mut cfg);
        validate(&cfg, &FieldSpans::new(Span::new(0, 6)))
    }

    fn codes(errors: &[MachineError]) -> Vec<String> {
        errors
            .iter()
            .filter_map(|e| e.code().map(|c| c.to_string()))
            .collect()
    }

    fn help(e: &MachineError) -> String {
        e.help().map(|h| h.to_string()).unwrap_or_default()
    }

    #[test]
    fn default_is_valid() {
        assert!(errs(|_| {}).is_empty());
    }

    #[test]
    fn page_size_power_of_two_in_range() {
        let e = errs(|c| c.machine.page_size = 3 << 10);
        assert_eq!(codes(&e), ["mem::machine::page_size"]);
        assert!(help(&e[0]).contains("2 KiB and 4 KiB"), "{}", help(&e[0]));
        assert_eq!(
            codes(&errs(|c| c.machine.page_size = 128)),
            ["mem::machine::page_size"]
        );
        assert_eq!(
            codes(&errs(|c| c.machine.page_size = 0)),
            ["mem::machine::page_size"]
        );
        assert_eq!(
            codes(&errs(|c| c.machine.page_size = 2 << 30)),
            ["mem::machine::page_size"]
        );
    }

    #[test]
    fn memory_whole_frames_with_nearest_sizes() {
        let e = errs(|c| c.machine.memory = 14 << 10);
        assert_eq!(codes(&e), ["mem::machine::memory"]);
        assert!(help(&e[0]).contains("12 KiB and 16 KiB"), "{}", help(&e[0]));
        let e = errs(|c| c.machine.memory = 0);
        assert_eq!(codes(&e), ["mem::machine::memory"]);
        assert!(help(&e[0]).contains("4 KiB"));
    }

    #[test]
    fn swap_and_stack_whole_pages() {
        assert_eq!(
            codes(&errs(|c| c.machine.swap = 100)),
            ["mem::machine::swap"]
        );
        assert!(errs(|c| c.machine.swap = 0).is_empty());
        assert_eq!(
            codes(&errs(|c| c.os.stack_limit = 5000)),
            ["mem::machine::stack_limit"]
        );
    }

    #[test]
    fn va_bits_and_pte_size() {
        assert_eq!(
            codes(&errs(|c| c.machine.va_bits = 65)),
            ["mem::machine::va_bits"]
        );
        assert_eq!(
            codes(&errs(|c| c.machine.va_bits = 7)),
            ["mem::machine::va_bits"]
        );
        let e = errs(|c| {
            c.machine.va_bits = 12;
            c.machine.levels = 1;
        });
        assert_eq!(codes(&e), ["mem::machine::va_bits"]);
        assert_eq!(
            codes(&errs(|c| c.machine.pte_size = 16)),
            ["mem::machine::pte_size"]
        );
    }

    #[test]
    fn levels_must_cover_vpn_bits() {
        let e = errs(|c| c.machine.levels = 3);
        assert_eq!(codes(&e), ["mem::machine::levels"]);
        let h = help(&e[0]);
        assert!(
            h.contains("with 4 KiB pages and 8-byte entries each level indexes 9 bits; 36 VPN bits need 4 levels"),
            "{h}"
        );
        assert!(h.contains("va_bits from 31 to 39"), "{h}");
        assert_eq!(
            codes(&errs(|c| c.machine.levels = 5)),
            ["mem::machine::levels"]
        );
        assert_eq!(
            codes(&errs(|c| c.machine.levels = 0)),
            ["mem::machine::levels"]
        );
        assert_eq!(
            codes(&errs(|c| c.machine.levels = 1)),
            ["mem::machine::levels"]
        );
        assert_eq!(
            codes(&errs(|c| c.machine.levels = u32::MAX)),
            ["mem::machine::levels"]
        );
        // A one-level linear table is fine up to 20 VPN bits (i386-sized).
        assert!(errs(|c| {
            c.machine.va_bits = 32;
            c.machine.levels = 1;
        })
        .is_empty());
        // 64 KiB pages leave 32 VPN bits: 3 levels of 13 bits, not 4.
        let e = errs(|c| c.machine.page_size = 64 << 10);
        assert_eq!(codes(&e), ["mem::machine::levels"]);
        assert!(help(&e[0]).contains("need 3 levels"), "{}", help(&e[0]));
    }

    #[test]
    fn tlb_entries_and_ways() {
        assert_eq!(
            codes(&errs(|c| c.machine.tlb.entries = 0)),
            ["mem::machine::tlb"]
        );
        let e = errs(|c| {
            c.machine.tlb.entries = 12;
            c.machine.tlb.ways = Some(8);
        });
        assert_eq!(codes(&e), ["mem::machine::tlb"]);
        assert!(
            help(&e[0]).contains("1, 2, 3, 4, 6 or 12"),
            "{}",
            help(&e[0])
        );
        assert_eq!(
            codes(&errs(|c| c.machine.tlb.ways = Some(0))),
            ["mem::machine::tlb"]
        );
        assert!(errs(|c| {
            c.machine.tlb.enabled = false;
            c.machine.tlb.entries = 0;
        })
        .is_empty());
    }

    #[test]
    fn divisors_are_complete_and_fast() {
        assert_eq!(divisors(12), [1, 2, 3, 4, 6, 12]);
        assert_eq!(divisors(1), [1]);
        assert_eq!(divisors(4_294_967_291), [1, 4_294_967_291]);
        let e = errs(|c| {
            c.machine.tlb.entries = 4_294_967_291;
            c.machine.tlb.ways = Some(2);
        });
        assert_eq!(codes(&e), ["mem::machine::tlb"]);
        let e = errs(|c| {
            c.machine.tlb.entries = 1 << 16;
            c.machine.tlb.ways = Some(3);
        });
        assert!(help(&e[0]).contains("32, … or 65536"), "{}", help(&e[0]));
        let e = errs(|c| c.machine.tlb.entries = MAX_TLB_ENTRIES + 1);
        assert!(e[0].to_string().contains("far too many"), "{}", e[0]);
    }

    proptest::proptest! {
        /// No configuration, however absurd, makes validation panic.
        #[test]
        fn validate_never_panics(
            page_size in proptest::prelude::any::<u64>(),
            va_bits in proptest::prelude::any::<u32>(),
            levels in proptest::prelude::any::<u32>(),
            pte_size in proptest::prelude::any::<u32>(),
            memory in proptest::prelude::any::<u64>(),
            entries in 0u32..5000,
            ways in proptest::option::of(0u32..100),
            heap in proptest::prelude::any::<(u64, u64, u64)>(),
            shift in 0u32..64,
        ) {
            let mut c = ScenarioConfig::default_x86_64();
            c.machine.page_size = if page_size % 2 == 0 { 1u64 << shift } else { page_size };
            c.machine.va_bits = va_bits % 80;
            c.machine.levels = if levels % 2 == 0 { levels % 8 } else { levels };
            c.machine.pte_size = pte_size % 16;
            c.machine.memory = memory;
            c.machine.swap = memory.rotate_left(7);
            c.os.stack_limit = memory.rotate_left(13);
            c.machine.tlb.entries = entries;
            c.machine.tlb.ways = ways;
            (c.heap.teach_heap.size, c.heap.teach_heap.base, c.heap.teach_heap.header) = heap;
            let _ = validate(&c, &FieldSpans::new(Span::new(0, 1)));
        }
    }

    #[test]
    fn teaching_heap() {
        assert_eq!(
            codes(&errs(|c| c.heap.teach_heap.size = 0)),
            ["mem::machine::heap"]
        );
        assert_eq!(
            codes(&errs(|c| c.heap.teach_heap.header = 100)),
            ["mem::machine::heap"]
        );
        // The first block at address 0 would be indistinguishable from NULL.
        assert_eq!(
            codes(&errs(|c| {
                c.heap.teach_heap.base = 0;
                c.heap.teach_heap.header = 0;
            })),
            ["mem::machine::heap"]
        );
        assert!(errs(|c| {
            c.heap.teach_heap.base = 0;
            c.heap.teach_heap.header = 8;
        })
        .is_empty());
    }

    #[test]
    fn bad_page_size_does_not_cascade() {
        let e = errs(|c| {
            c.machine.page_size = 3000;
            c.machine.memory = 10_000;
        });
        assert_eq!(codes(&e), ["mem::machine::page_size"]);
    }

    #[test]
    fn errors_point_at_what_was_set() {
        let mut spans = FieldSpans::new(Span::new(0, 6));
        spans.set(Field::Memory, Span::new(20, 26));
        let mut cfg = ScenarioConfig::default_x86_64();
        cfg.machine.memory = 10 << 10;
        cfg.machine.levels = 3;
        let e = validate(&cfg, &spans);
        assert_eq!(codes(&e), ["mem::machine::levels", "mem::machine::memory"]);
        assert_eq!(e[0].span(), Span::new(0, 6).into());
        assert_eq!(e[1].span(), Span::new(20, 26).into());
    }
}

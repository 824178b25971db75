//! Memory-safety findings, as valgrind or ASan report them: heap-buffer-overflow,
//! use-after-free, loads of uninitialised bytes and leaks. None of these faults (the page is
//! valid), so the session asks this tracker about every program access that lands inside an
//! allocator's regions, and turns what it finds into warnings.
//!
//! The tracker keeps its own record of the blocks the program was given (requested size,
//! where it was allocated, which bytes were written since) and of the last [`QUARANTINE`] freed
//! blocks (where they were freed), like ASan's quarantine. A block's extent is its *requested*
//! size, as ASan sees it: touching the slack up to `malloc_usable_size` is an overflow too.
//! The hot path (a loop over one block) costs a range check against the heap, a compare
//! against the last block hit, and a bit update.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use crate::units;

/// How many freed blocks are remembered for use-after-free reports.
pub const QUARANTINE: usize = 1024;
/// Blocks larger than this are not tracked byte by byte (they count as initialised), so a
/// huge malloc does not cost host memory for its bitmap.
pub const INIT_TRACK_MAX: u64 = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingKind {
    Overflow,
    UseAfterFree,
    Uninit,
    Leak,
}

impl FindingKind {
    /// The name `expect warning KIND` uses.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Overflow => "overflow",
            FindingKind::UseAfterFree => "use_after_free",
            FindingKind::Uninit => "uninit",
            FindingKind::Leak => "leak",
        }
    }
}

/// One finding, ready to be rendered: `site` is the source span (byte offsets) it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub site: (usize, usize),
    pub message: String,
    pub label: String,
    pub help: String,
}

/// Where in the source a call or an access happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Site {
    pub line: usize,
    pub span: (usize, usize),
}

#[derive(Clone, Debug)]
enum Init {
    All,
    /// One bit per byte of the requested size; set = written since allocation. `unset` counts
    /// the clear bits, so a block written all over becomes `All` and costs nothing after.
    Bits {
        bits: Bits,
        unset: u32,
    },
}

/// The written-bytes bitmap of a block. A small block's lives inline: most blocks are small,
/// and a heap allocation per block would cost more than the block's own bookkeeping. A large
/// one's is shared by a forked child with its parent until one of them writes the block.
#[derive(Clone, Debug)]
enum Bits {
    Inline([u64; INLINE_WORDS]),
    Shared(Arc<Vec<u64>>),
}

/// Blocks of up to 64 bytes per word keep their bitmap inline.
const INLINE_WORDS: usize = 1;

impl Bits {
    fn new(words: Vec<u64>) -> Bits {
        if words.len() <= INLINE_WORDS {
            let mut w = [0; INLINE_WORDS];
            w[..words.len()].copy_from_slice(&words);
            Bits::Inline(w)
        } else {
            Bits::Shared(Arc::new(words))
        }
    }

    fn words(&self) -> &[u64] {
        match self {
            Bits::Inline(w) => w,
            Bits::Shared(w) => w,
        }
    }

    /// The words to change, copied first if a forked process shares them.
    fn words_mut(&mut self) -> &mut [u64] {
        match self {
            Bits::Inline(w) => w,
            Bits::Shared(w) => Arc::<Vec<u64>>::make_mut(w),
        }
    }
}

impl Init {
    /// The state of a block of `n` bytes whose bits are `bits`.
    fn from_bits(bits: Vec<u64>, n: u64) -> Init {
        let set: u64 = bits.iter().map(|w| u64::from(w.count_ones())).sum();
        match n.saturating_sub(set) {
            0 => Init::All,
            // `n` is at most `INIT_TRACK_MAX`.
            unset => Init::Bits {
                bits: Bits::new(bits),
                unset: u32::try_from(unset).unwrap_or(u32::MAX),
            },
        }
    }
}

/// A [`Site`] in 12 bytes instead of 24: every live block keeps one, and a scenario may have
/// millions.
#[derive(Clone, Copy, Debug)]
struct PackedSite {
    line: u32,
    start: u32,
    end: u32,
}

impl PackedSite {
    fn pack(s: Site) -> Self {
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        PackedSite {
            line: small(s.line),
            start: small(s.span.0),
            end: small(s.span.1),
        }
    }

    fn unpack(self) -> Site {
        Site {
            line: self.line as usize,
            span: (self.start as usize, self.end as usize),
        }
    }

    fn line(self) -> usize {
        self.line as usize
    }
}

#[derive(Clone, Debug)]
struct Live {
    ptr: u64,
    requested: u64,
    site: PackedSite,
    seq: u64,
    init: Init,
    leak_reported: bool,
}

#[derive(Clone, Debug)]
struct Freed {
    len: u64,
    alloc_line: usize,
    free_line: usize,
    gen: u64,
}

/// A point in the findings, taken when an `expect warning` block starts.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    findings: usize,
    seq: u64,
}

/// The tracker of one process.
#[derive(Clone, Debug, Default)]
pub struct Safety {
    /// The main heap `[lo, lo + len)`: the one range checked on every access.
    main_lo: u64,
    main_len: u64,
    /// Further regions (mmapped chunks), sorted by start.
    others: Vec<(u64, u64)>,
    /// Live blocks in `slots`, indexed by pointer; freed slots are reused.
    slots: Vec<Live>,
    spare: Vec<usize>,
    live: BTreeMap<u64, usize>,
    freed: BTreeMap<u64, Freed>,
    order: VecDeque<(u64, u64)>,
    /// The last block an access hit: `[lo, hi)` and its slot (hi = 0: none).
    cache: (u64, u64, usize),
    findings: Vec<Finding>,
    /// (kind, site) already reported: a loop reports each place once.
    seen: BTreeSet<(FindingKind, usize, usize)>,
    saved_seen: Vec<BTreeSet<(FindingKind, usize, usize)>>,
    seq: u64,
    gen: u64,
    /// The base findings write addresses in: the machine's.
    radix: units::Radix,
}

impl Safety {
    /// A tracker whose findings write addresses in `radix`.
    pub fn speaking(radix: units::Radix) -> Self {
        Safety {
            radix,
            ..Safety::default()
        }
    }
}

#[inline]
fn mask(b: u64, n: u64) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        ((1u64 << n) - 1) << b
    }
}

/// Marks bytes `[from, to)` written, a word at a time; returns how many were not before.
#[inline]
fn set_bits(bits: &mut [u64], from: u64, to: u64) -> u64 {
    let mut i = from;
    let mut new = 0;
    while i < to {
        let (w, b) = ((i / 64) as usize, i % 64);
        let n = (64 - b).min(to - i);
        if let Some(x) = bits.get_mut(w) {
            let m = mask(b, n);
            new += u64::from((m & !*x).count_ones());
            *x |= m;
        }
        i += n;
    }
    new
}

/// "a 4-byte", "an 8-byte".
fn sized(width: u64) -> String {
    let an = matches!(width, 8 | 11 | 18) || (80..90).contains(&width);
    format!("{} {width}-byte", if an { "an" } else { "a" })
}

/// How many bytes in `[from, to)` are not set.
#[inline]
fn unset(bits: &[u64], from: u64, to: u64) -> u64 {
    let mut i = from;
    let mut missing = 0;
    while i < to {
        let (w, b) = ((i / 64) as usize, i % 64);
        let n = (64 - b).min(to - i);
        let m = mask(b, n);
        missing += u64::from((!bits.get(w).copied().unwrap_or(u64::MAX) & m).count_ones());
        i += n;
    }
    missing
}

impl Safety {
    /// The allocator's regions after a call (the main heap first).
    pub fn set_regions(&mut self, regions: Vec<(u64, u64)>) {
        let mut it = regions.into_iter();
        match it.next() {
            Some((lo, hi)) => {
                self.main_lo = lo;
                self.main_len = hi.saturating_sub(lo);
            }
            None => {
                self.main_lo = 0;
                self.main_len = 0;
            }
        }
        self.others = it.collect();
        self.others.sort_unstable();
    }

    /// Whether an access at `addr` needs checking: inside the heap or an mmapped chunk.
    #[inline]
    pub fn watches(&self, addr: u64) -> bool {
        addr.wrapping_sub(self.main_lo) < self.main_len
            || (!self.others.is_empty() && self.in_others(addr))
    }

    fn in_others(&self, addr: u64) -> bool {
        let i = self.others.partition_point(|r| r.0 <= addr);
        i > 0 && addr < self.others[i - 1].1
    }

    /// Whether [`Safety::access`] would do nothing: the access is inside the last block hit
    /// and every byte of that block has been written. Lets the hot path skip the call.
    #[inline(always)]
    pub fn settled(&self, addr: u64, width: u64) -> bool {
        let end = addr.wrapping_add(width);
        let (lo, hi, slot) = self.cache;
        addr >= lo
            && end <= hi
            && end > addr
            && self
                .slots
                .get(slot)
                .is_none_or(|l| matches!(l.init, Init::All))
    }

    /// A block handed out by malloc/calloc (`zeroed`: its bytes count as written).
    pub fn on_alloc(&mut self, ptr: u64, requested: u64, zeroed: bool, site: Site) {
        if ptr == 0 {
            return;
        }
        let init = if zeroed || requested > INIT_TRACK_MAX {
            Init::All
        } else {
            Init::from_bits(vec![0; requested.div_ceil(64) as usize], requested)
        };
        self.insert_live(ptr, requested, init, site);
    }

    fn insert_live(&mut self, ptr: u64, requested: u64, init: Init, site: Site) {
        // Reused memory is no longer "freed": forget quarantined blocks it overlaps.
        let end = ptr.saturating_add(requested.max(1));
        let stale: Vec<u64> = self
            .freed
            .range(..end)
            .rev()
            .take_while(|(&p, f)| p.saturating_add(f.len.max(1)) > ptr)
            .map(|(&p, _)| p)
            .collect();
        for p in stale {
            self.freed.remove(&p);
        }
        if let Some(old) = self.live.remove(&ptr) {
            self.release(old);
        }
        self.seq += 1;
        let l = Live {
            ptr,
            requested,
            site: PackedSite::pack(site),
            seq: self.seq,
            init,
            leak_reported: false,
        };
        let slot = match self.spare.pop() {
            Some(s) => {
                self.slots[s] = l;
                s
            }
            None => {
                self.slots.push(l);
                self.slots.len() - 1
            }
        };
        self.live.insert(ptr, slot);
        self.cache = (0, 0, 0);
    }

    fn remove_live(&mut self, ptr: u64) -> Option<Live> {
        let slot = self.live.remove(&ptr)?;
        self.cache = (0, 0, 0);
        let l = self.slots.get(slot).cloned();
        self.release(slot);
        l
    }

    /// Puts a slot back for reuse; its bitmap is freed now rather than when the slot is reused.
    fn release(&mut self, slot: usize) {
        self.spare.push(slot);
        if let Some(l) = self.slots.get_mut(slot) {
            l.init = Init::All;
        }
    }

    /// Host bytes this tracker holds, roughly: a live block's slot and index entry, a freed
    /// block's quarantine entry. Counted against the session's host-memory limit. Bitmaps are
    /// left out: the host commits their pages only as the simulated bytes they describe are
    /// written, and those count as memory contents already.
    pub fn host_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Live>()
            + self.live.len() * 32
            + self.freed.len() * 64
            + self.order.capacity() * 16
    }

    fn quarantine(&mut self, l: &Live, free_line: usize) {
        self.gen += 1;
        self.freed.insert(
            l.ptr,
            Freed {
                len: l.requested,
                alloc_line: l.site.line(),
                free_line,
                gen: self.gen,
            },
        );
        self.order.push_back((l.ptr, self.gen));
        while self.order.len() > QUARANTINE {
            if let Some((p, g)) = self.order.pop_front() {
                if self.freed.get(&p).is_some_and(|f| f.gen == g) {
                    self.freed.remove(&p);
                }
            }
        }
    }

    /// A successful `free(ptr)`.
    pub fn on_free(&mut self, ptr: u64, line: usize) {
        if let Some(l) = self.remove_live(ptr) {
            self.quarantine(&l, line);
        }
    }

    /// `realloc(old, n)` returned `new`.
    pub fn on_realloc(&mut self, old: u64, new: u64, n: u64, site: Site) {
        if old == 0 {
            self.on_alloc(new, n, false, site);
            return;
        }
        if new == 0 {
            if n == 0 {
                self.on_free(old, site.line);
            }
            return;
        }
        let Some(l) = self.remove_live(old) else {
            self.on_alloc(new, n, false, site);
            return;
        };
        let keep = l.requested.min(n);
        let init = if n > INIT_TRACK_MAX {
            Init::All
        } else {
            let mut bits = vec![0u64; n.div_ceil(64) as usize];
            match &l.init {
                Init::All => {
                    set_bits(&mut bits, 0, keep);
                }
                Init::Bits { bits: b, .. } => {
                    let b = b.words();
                    for i in 0..keep {
                        if b.get((i / 64) as usize)
                            .is_some_and(|x| x >> (i % 64) & 1 == 1)
                        {
                            bits[(i / 64) as usize] |= 1 << (i % 64);
                        }
                    }
                }
            }
            Init::from_bits(bits, n)
        };
        if new != old {
            self.quarantine(&l, site.line);
        }
        self.insert_live(new, n, init, site);
    }

    /// A program access of `width` bytes (a load when `!write`). Call it only when
    /// [`Safety::watches`] says so.
    #[inline]
    pub fn access(&mut self, addr: u64, width: u64, write: bool, span: (usize, usize)) {
        let end = addr.wrapping_add(width);
        let (lo, hi, slot) = self.cache;
        if addr >= lo && end <= hi && end > addr {
            self.init(slot, addr - lo, end - lo, write, true, addr, span);
            return;
        }
        self.access_slow(addr, width, write, true, span);
    }

    /// A range the program's `memset` / `memcpy` wrote or read. Only its ends are checked for
    /// overflow; a copied read does not count as a use of uninitialised bytes (valgrind
    /// propagates it instead), and a write marks the whole range initialised.
    pub fn range(&mut self, addr: u64, len: u64, write: bool, span: (usize, usize)) {
        if len == 0 {
            return;
        }
        if let Some((&ptr, &slot)) = self.live.range(..=addr).next_back() {
            let req = self.slots[slot].requested;
            if addr.saturating_add(len) <= ptr + req {
                self.init(slot, addr - ptr, addr - ptr + len, write, false, addr, span);
                return;
            }
        }
        let last = addr.saturating_add(len - 1);
        if self.watches(addr) {
            self.access_slow(addr, 1, write, false, span);
        }
        if self.watches(last) {
            self.access_slow(last, 1, write, false, span);
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn init(
        &mut self,
        slot: usize,
        from: u64,
        to: u64,
        write: bool,
        check: bool,
        addr: u64,
        span: (usize, usize),
    ) {
        let Some(l) = self.slots.get_mut(slot) else {
            return;
        };
        let Init::Bits { bits, unset: clear } = &mut l.init else {
            return;
        };
        if write {
            // A write over bytes already written changes nothing: keep sharing the bits.
            if unset(bits.words(), from, to) > 0 {
                let set = set_bits(bits.words_mut(), from, to);
                *clear = clear.saturating_sub(u32::try_from(set).unwrap_or(u32::MAX));
            }
            if *clear == 0 {
                l.init = Init::All;
            }
        } else if check {
            let missing = unset(bits.words(), from, to);
            if missing > 0 {
                let (ptr, req, line) = (l.ptr, l.requested, l.site.line());
                if self.reported(FindingKind::Uninit, span) {
                    return;
                }
                let w = to - from;
                self.report(
                    FindingKind::Uninit,
                    span,
                    format!(
                        "read of uninitialised memory: {} load at {}",
                        sized(w),
                        self.radix.addr(addr)
                    ),
                    format!(
                        "{missing} of these {w} bytes were never written since the {req}-byte block at {} was allocated at line {line}",
                        self.radix.addr(ptr)
                    ),
                    "malloc does not clear memory (calloc does): write the bytes before reading them",
                );
            }
        }
    }

    #[cold]
    fn access_slow(
        &mut self,
        addr: u64,
        width: u64,
        write: bool,
        check: bool,
        span: (usize, usize),
    ) {
        let what = if write { "store" } else { "load" };
        if let Some((&ptr, &slot)) = self.live.range(..=addr).next_back() {
            let l = &self.slots[slot];
            let bend = ptr + l.requested;
            if addr < bend {
                if addr.saturating_add(width) <= bend {
                    self.cache = (ptr, bend, slot);
                    self.init(
                        slot,
                        addr - ptr,
                        addr - ptr + width,
                        write,
                        check,
                        addr,
                        span,
                    );
                } else if !self.reported(FindingKind::Overflow, span) {
                    let (req, line) = (l.requested, l.site.line());
                    self.report(
                        FindingKind::Overflow,
                        span,
                        format!("heap buffer overflow: {} {what} at {}", sized(width), self.radix.addr(addr)),
                        format!(
                            "it runs {} past the end of the {req}-byte block at {} (allocated at line {line})",
                            units::count(addr + width - bend, "byte"),
                            self.radix.addr(ptr)
                        ),
                        OVERFLOW_HELP,
                    );
                }
                return;
            }
        }
        if let Some((&p, f)) = self.freed.range(..=addr).next_back() {
            if addr < p.saturating_add(f.len.max(1)) {
                if self.reported(FindingKind::UseAfterFree, span) {
                    return;
                }
                let (len, al, fl) = (f.len, f.alloc_line, f.free_line);
                self.report(
                    FindingKind::UseAfterFree,
                    span,
                    format!("use after free: {} {what} at {}", sized(width), self.radix.addr(addr)),
                    format!(
                        "{} is at offset {} of the {len}-byte block at {}, freed at line {fl} (allocated at line {al})",
                        self.radix.addr(addr),
                        addr - p,
                        self.radix.addr(p)
                    ),
                    "the freed block may already hold the allocator's links or another block; set the pointer to 0 after free",
                );
                return;
            }
        }
        if self.reported(FindingKind::Overflow, span) {
            return;
        }
        let label = self.nearest(addr);
        self.report(
            FindingKind::Overflow,
            span,
            format!(
                "heap buffer overflow: {} {what} at {}",
                sized(width),
                self.radix.addr(addr)
            ),
            label,
            OVERFLOW_HELP,
        );
    }

    /// "0x4052d0 is 8 bytes past the end of the 40-byte block at 0x4052a0 (allocated at line 3)".
    fn nearest(&self, addr: u64) -> String {
        let below = self.live.range(..=addr).next_back().map(|(&p, &s)| {
            let l = &self.slots[s];
            (addr - (p + l.requested), l, true)
        });
        let above = self
            .live
            .range(addr..)
            .next()
            .map(|(&p, &s)| (p - addr, &self.slots[s], false));
        let pick = match (below, above) {
            (Some(b), Some(a)) => Some(if a.0 < b.0 { a } else { b }),
            (b, a) => b.or(a),
        };
        match pick {
            Some((d, l, past)) => format!(
                "{} is {} the {}-byte block at {} (allocated at line {})",
                self.radix.addr(addr),
                match (d, past) {
                    (0, true) => "the first byte past the end of".to_string(),
                    (d, true) => format!("{} past the end of", units::count(d, "byte")),
                    (d, false) => format!("{} before", units::count(d, "byte")),
                },
                l.requested,
                self.radix.addr(l.ptr),
                l.site.line()
            ),
            None => format!(
                "{} is in the heap, but no block is allocated",
                self.radix.addr(addr)
            ),
        }
    }

    /// Whether this kind of finding was reported at this place already: [`Safety::report`]
    /// would drop it, so a loop's repeats skip building its text.
    fn reported(&self, kind: FindingKind, span: (usize, usize)) -> bool {
        self.seen.contains(&(kind, span.0, span.1))
    }

    fn report(
        &mut self,
        kind: FindingKind,
        span: (usize, usize),
        message: String,
        label: String,
        help: &str,
    ) {
        if !self.seen.insert((kind, span.0, span.1)) {
            return;
        }
        self.findings.push(Finding {
            kind,
            site: span,
            message,
            label,
            help: help.to_string(),
        });
    }

    /// An `expect warning` block starts: its findings are reported even where the same place
    /// was reported before.
    pub fn expect_begin(&mut self) -> Mark {
        self.saved_seen.push(std::mem::take(&mut self.seen));
        Mark {
            findings: self.findings.len(),
            seq: self.seq,
        }
    }

    /// Blocks allocated since `mark` that are still live and that no variable points into
    /// (`reachable(ptr, end)` says whether one does) are leaks of the block at `span`.
    pub fn leaks_since(
        &mut self,
        mark: Mark,
        reachable: &dyn Fn(u64, u64) -> bool,
        span: (usize, usize),
    ) {
        let mut bytes = 0;
        let mut n = 0;
        let mut first: Option<Site> = None;
        for &slot in self.live.values() {
            let l = &mut self.slots[slot];
            if l.seq > mark.seq && !l.leak_reported && !reachable(l.ptr, l.ptr + l.requested.max(1))
            {
                l.leak_reported = true;
                bytes += l.requested;
                n += 1;
                first.get_or_insert(l.site.unpack());
            }
        }
        if let Some(site) = first {
            self.findings.push(Finding {
                kind: FindingKind::Leak,
                site: span,
                message: format!(
                    "memory leak: {} in {} lost",
                    units::count(bytes, "byte"),
                    units::count(n, "block")
                ),
                label: format!(
                    "allocated here (first at line {}) and never freed; no variable points to it",
                    site.line
                ),
                help: LEAK_HELP.into(),
            });
        }
    }

    /// The `expect warning KIND` block ends: whether a finding of that kind happened in it (those
    /// findings are consumed; others stay to be reported).
    pub fn expect_end(&mut self, mark: Mark, kind: &str) -> bool {
        let inner = std::mem::take(&mut self.seen);
        self.seen = self.saved_seen.pop().unwrap_or_default();
        let mut hit = false;
        let mut i = 0;
        self.findings.retain(|f| {
            i += 1;
            if i > mark.findings && f.kind.name() == kind {
                hit = true;
                false
            } else {
                true
            }
        });
        // What was reported inside stays reported outside too, unless it was expected.
        for k in inner {
            if k.0.name() != kind {
                self.seen.insert(k);
            }
        }
        hit
    }

    /// Findings since the last call.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings)
    }

    /// Leaks at the end of a scenario: every block still live, one finding per allocation line.
    pub fn end_leaks(&mut self) -> Vec<Finding> {
        let mut by_line: BTreeMap<usize, (u64, u64, Site)> = BTreeMap::new();
        for &slot in self.live.values() {
            let l = &mut self.slots[slot];
            if l.leak_reported {
                continue;
            }
            l.leak_reported = true;
            let e = by_line
                .entry(l.site.line())
                .or_insert((0, 0, l.site.unpack()));
            e.0 += l.requested;
            e.1 += 1;
        }
        by_line
            .into_values()
            .map(|(bytes, n, site)| Finding {
                kind: FindingKind::Leak,
                site: site.span,
                message: format!(
                    "memory leak: {} in {} never freed",
                    units::count(bytes, "byte"),
                    units::count(n, "block")
                ),
                label: format!("allocated here, at line {}", site.line),
                help: LEAK_HELP.into(),
            })
            .collect()
    }

    /// Live blocks as this tracker knows them: (pointer, requested size), in address order.
    pub fn live_blocks(&self) -> Vec<(u64, u64)> {
        self.live
            .iter()
            .map(|(&p, &s)| (p, self.slots[s].requested))
            .collect()
    }
}

const OVERFLOW_HELP: &str = "the page is valid, so nothing faults: the access reads or overwrites a neighbour (with glibc, the next chunk's size field); stay within the block's size";
const LEAK_HELP: &str = "free every block when it is no longer needed (the process's memory is returned at exit, but a long-running program grows)";

#[cfg(test)]
mod tests {
    use super::*;

    fn site(line: usize) -> Site {
        Site {
            line,
            span: (line * 10, line * 10 + 5),
        }
    }

    fn tracker() -> Safety {
        let mut s = Safety::default();
        s.set_regions(vec![(0x405000, 0x426000)]);
        s
    }

    #[test]
    fn overflow_names_the_nearest_block() {
        let mut s = tracker();
        s.on_alloc(0x4052a0, 40, false, site(3));
        assert!(s.watches(0x4052d0) && !s.watches(0x404000));
        s.access(0x4052d0, 4, true, (1, 2));
        let f = s.take_findings();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::Overflow);
        assert_eq!(
            f[0].label,
            "0x4052d0 is 8 bytes past the end of the 40-byte block at 0x4052a0 (allocated at line 3)"
        );
        // The same place reports once.
        s.access(0x4052d4, 4, true, (1, 2));
        assert!(s.take_findings().is_empty());
        // Crossing the end is an overflow too.
        s.access(0x4052c4, 8, true, (3, 4));
        assert!(s.take_findings()[0].label.contains("4 bytes past the end"));
    }

    #[test]
    fn use_after_free_says_where_it_was_freed() {
        let mut s = tracker();
        s.on_alloc(0x4052a0, 40, false, site(3));
        s.on_free(0x4052a0, 7);
        s.access(0x4052a8, 8, false, (0, 1));
        let f = s.take_findings();
        assert_eq!(f[0].kind, FindingKind::UseAfterFree);
        assert!(
            f[0].label.contains("freed at line 7 (allocated at line 3)"),
            "{}",
            f[0].label
        );
        // Reuse ends the quarantine for that memory.
        s.on_alloc(0x4052a0, 40, true, site(9));
        s.access(0x4052a8, 8, false, (5, 6));
        assert!(s.take_findings().is_empty());
    }

    #[test]
    fn uninitialised_loads_are_tracked_per_byte() {
        let mut s = tracker();
        s.on_alloc(0x4052a0, 40, false, site(1));
        s.access(0x4052a0, 4, true, (0, 1));
        s.access(0x4052a0, 4, false, (1, 2));
        assert!(s.take_findings().is_empty());
        s.access(0x4052a0, 8, false, (2, 3));
        let f = s.take_findings();
        assert_eq!(f[0].kind, FindingKind::Uninit);
        assert!(f[0].label.starts_with("4 of these 8 bytes"));
        // realloc keeps what was written.
        s.on_realloc(0x4052a0, 0x4052d0, 100, site(4));
        s.access(0x4052d0, 4, false, (3, 4));
        assert!(s.take_findings().is_empty());
        s.access(0x4052d4, 1, false, (4, 5));
        assert_eq!(s.take_findings().len(), 1);
    }

    #[test]
    fn expect_blocks_consume_their_kind_and_leaks_group_by_line() {
        let mut s = tracker();
        s.on_alloc(0x4052a0, 40, false, site(1));
        let m = s.expect_begin();
        s.access(0x4052c8, 1, true, (0, 1));
        assert!(s.expect_end(m, "overflow"));
        assert!(s.take_findings().is_empty());
        let m = s.expect_begin();
        s.on_alloc(0x4052e0, 8, false, site(2));
        s.leaks_since(m, &|_, _| false, (7, 8));
        assert!(s.expect_end(m, "leak"));
        s.on_alloc(0x405300, 8, false, site(1));
        let leaks = s.end_leaks();
        assert_eq!(leaks.len(), 1);
        assert_eq!(
            leaks[0].message,
            "memory leak: 48 bytes in 2 blocks never freed"
        );
    }

    #[test]
    fn settled_only_where_an_access_changes_nothing() {
        let mut s = tracker();
        s.on_alloc(0x4052a0, 16, false, site(1));
        s.access(0x4052a0, 8, true, (0, 1));
        // Half written: a load of the other half is a finding.
        assert!(!s.settled(0x4052a8, 8));
        s.access(0x4052a8, 8, true, (0, 1));
        assert!(s.settled(0x4052a8, 8) && s.settled(0x4052a0, 16));
        // Past the end, or across it, is an overflow.
        assert!(!s.settled(0x4052b0, 1) && !s.settled(0x4052ac, 8));
        s.on_free(0x4052a0, 2);
        assert!(!s.settled(0x4052a0, 8));
        s.access(0x4052a0, 8, false, (2, 3));
        assert_eq!(s.take_findings()[0].kind, FindingKind::UseAfterFree);
    }

    #[test]
    fn quarantine_is_bounded() {
        let mut s = tracker();
        for i in 0..(QUARANTINE as u64 + 10) {
            let p = 0x405000 + i * 16;
            s.on_alloc(p, 8, false, site(1));
            s.on_free(p, 2);
        }
        assert_eq!(s.freed.len(), QUARANTINE);
        assert_eq!(s.order.len(), QUARANTINE);
    }
}

//! Replaying page references: `refs` strings and `trace` files, run through the MMU a chunk of
//! page references at a time with nothing allocated per reference. A trace file streams: it is
//! read in blocks and parsed a chunk at a time, so host memory does not grow with its length.
//! OPT gets the future it needs here: every reference's next use, computed before the run.

use std::io::Read;

use super::World;
use crate::config::Conventions;
use crate::events::{Event, EventSink};
use crate::machine::pagetable::pte;
use crate::machine::{Access, Asid, Mmu, NextUses};
use crate::os::{LeanRun, Os, Trap};

pub use crate::machine::PageRef;

/// Appends the page references of an access of `size` bytes at `addr`: one per page it
/// touches, in address order (an access that spans a page boundary touches both pages).
#[inline]
pub fn push_access(out: &mut Vec<PageRef>, addr: u64, size: u64, access: Access, page_size: u64) {
    if size <= page_size - (addr & (page_size - 1)) {
        // Within one page: nearly every access.
        out.push(PageRef { addr, access });
        return;
    }
    push_crossing(out, addr, size, access, page_size);
}

/// An access that may cross into later pages: one reference per page it touches.
#[inline(never)]
fn push_crossing(out: &mut Vec<PageRef>, addr: u64, size: u64, access: Access, page_size: u64) {
    let last = addr.saturating_add(size.max(1) - 1);
    let mut a = addr;
    loop {
        out.push(PageRef { addr: a, access });
        let next = (a | (page_size - 1)).wrapping_add(1);
        if next == 0 || next > last {
            break;
        }
        a = next;
    }
}

/// A line of a trace file that is neither form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLineError {
    /// 1-based line number.
    pub line: usize,
    /// Byte range of the line in the file.
    pub start: usize,
    pub len: usize,
    pub reason: String,
}

/// Accesses bigger than this in one trace line are surely not a CPU's loads or stores.
const MAX_ACCESS: u64 = 1 << 20;

fn number(s: &str, hex_default: bool) -> Option<u64> {
    let s = s.trim();
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if hex_default => (s, 16),
        None => (s, 10),
    };
    if digits.contains('_') {
        let digits = digits.replace('_', "");
        return (!digits.is_empty())
            .then(|| u64::from_str_radix(&digits, radix).ok())
            .flatten();
    }
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Parses a trace: plain addresses (decimal or `0x` hex, optionally after `R` or `W`), or
/// valgrind lackey's `--trace-mem=yes` lines (`I  addr,size` fetches, ` L` loads, ` S`
/// stores, ` M` a load then a store; addresses in hex). Blank lines, `#` comments and
/// valgrind's own `==pid==` lines are skipped.
pub fn parse_trace(text: &str, page_size: u64) -> Result<Vec<PageRef>, TraceLineError> {
    parse(text, page_size, true)
}

/// The parser; `fast` lets the common lackey lines through [`lackey_line`] first.
fn parse(text: &str, page_size: u64, fast: bool) -> Result<Vec<PageRef>, TraceLineError> {
    let mut out = Vec::with_capacity(text.len() / 12);
    let mut start = 0usize;
    for (i, raw) in text.split('\n').enumerate() {
        parse_line(raw.as_bytes(), i + 1, start, &mut out, page_size, fast)?;
        start += raw.len() + 1;
    }
    Ok(out)
}

/// Appends the page references of one line (without its `\n`), line number `line_no` starting
/// at byte `line_start` of the file.
#[inline]
fn parse_line(
    raw: &[u8],
    line_no: usize,
    line_start: usize,
    out: &mut Vec<PageRef>,
    page_size: u64,
    fast: bool,
) -> Result<(), TraceLineError> {
    if fast {
        if let Some((kind, addr, size)) = lackey_line(raw) {
            push_lackey(out, kind, addr, size, page_size);
            return Ok(());
        }
    }
    let Ok(line) = std::str::from_utf8(raw) else {
        return Err(TraceLineError {
            line: line_no,
            start: line_start,
            len: 0,
            reason: "this line is not text (it is not UTF-8): is this a trace file?".into(),
        });
    };
    let line = line.trim_end_matches('\r');
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with("==") {
        return Ok(());
    }
    let bad = |reason: String| TraceLineError {
        line: line_no,
        start: line_start,
        len: line.len(),
        reason,
    };
    let mut chars = t.chars();
    let first = chars.next().unwrap_or(' ');
    let second = chars.next();
    let lackey = matches!(first, 'I' | 'L' | 'S' | 'M') && second.is_some_and(char::is_whitespace);
    if lackey {
        let rest = t[1..].trim();
        let (a, n) = rest.split_once(',').ok_or_else(|| {
            bad(format!(
                "a valgrind lackey line is `{first} ADDRESS,SIZE`; this one has no `,SIZE`"
            ))
        })?;
        let addr =
            number(a, true).ok_or_else(|| bad(format!("`{}` is not a hex address", a.trim())))?;
        let size = number(n, false)
            .ok_or_else(|| bad(format!("`{}` is not a size in bytes", n.trim())))?;
        if size > MAX_ACCESS {
            return Err(bad(format!(
                "an access of {size} bytes is larger than any load or store (at most {MAX_ACCESS})"
            )));
        }
        push_lackey(out, first as u8, addr, size, page_size);
        return Ok(());
    }
    let (access, rest) = match first {
        'R' | 'r' => (Access::Read, &t[1..]),
        'W' | 'w' => (Access::Write, &t[1..]),
        _ => (Access::Read, t),
    };
    let rest = rest.trim_start_matches([' ', '\t', ':']);
    let addr = number(rest, false).ok_or_else(|| {
        bad(format!(
            "`{t}` is not an address: expected a decimal or 0x-hex address, optionally after R or W, or a valgrind lackey line such as ` L 04222cac,4`"
        ))
    })?;
    push_access(out, addr, 1, access, page_size);
    Ok(())
}

/// References per chunk of a replay: the periodic check (limits, interrupts, the progress bar)
/// runs once per chunk.
pub const CHUNK: usize = 4096;

/// How much of a trace file is read at once.
const BLOCK: usize = 64 * 1024;

/// No trace line is longer than this by default; a file with longer lines is surely not a
/// trace (and is not held in memory whole looking for the end of one).
pub const DEFAULT_MAX_TRACE_LINE: usize = 1 << 20;

/// Why a trace file stopped being read.
#[derive(Debug)]
pub enum TraceError {
    /// A line that is not an address or a lackey record.
    Line(TraceLineError),
    /// The host could not read the file.
    Io(std::io::Error),
}

/// A trace file read in blocks and parsed a chunk of references at a time: what it holds at
/// any moment is one block, one partial line and one chunk, whatever the file's length.
pub struct TraceReader<R> {
    input: R,
    page_size: u64,
    /// Bytes read and not yet parsed start at `pos`.
    data: Vec<u8>,
    pos: usize,
    eof: bool,
    /// The number of the next line (1-based) and its byte offset in the file.
    line: usize,
    offset: usize,
    out: Vec<PageRef>,
    max_line: usize,
}

impl<R: Read> TraceReader<R> {
    pub fn new(input: R, page_size: u64) -> Self {
        TraceReader {
            input,
            page_size,
            data: Vec::with_capacity(BLOCK),
            pos: 0,
            eof: false,
            line: 1,
            offset: 0,
            out: Vec::with_capacity(CHUNK + 64),
            max_line: DEFAULT_MAX_TRACE_LINE,
        }
    }

    /// Refuses lines longer than `bytes` (instead of [`DEFAULT_MAX_TRACE_LINE`]).
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// The current line is longer than the limit.
    fn too_long(&self) -> TraceError {
        TraceError::Line(TraceLineError {
            line: self.line,
            start: self.offset,
            len: 0,
            reason: format!(
                "this line is longer than {} bytes (`--max-trace-line`): is this a trace file?",
                self.max_line
            ),
        })
    }

    /// The references of the next lines: at least [`CHUNK`] of them unless the file ends
    /// first; `None` once it has ended.
    pub fn next_refs(&mut self) -> Result<Option<&[PageRef]>, TraceError> {
        self.out.clear();
        while self.out.len() < CHUNK {
            let rest = &self.data[self.pos..];
            // Most lines of a real trace are lackey's, exactly as it writes them: read in one
            // pass that finds the line's end too.
            if let Some((kind, addr, size, n)) = lackey_exact(rest) {
                if n <= self.max_line {
                    push_lackey(&mut self.out, kind, addr, size, self.page_size);
                    self.pos += n + 1;
                    self.offset += n + 1;
                    self.line += 1;
                    continue;
                }
            }
            if let Some(n) = memchr::memchr(b'\n', rest) {
                if n > self.max_line {
                    return Err(self.too_long());
                }
                let raw = &rest[..n];
                parse_line(
                    raw,
                    self.line,
                    self.offset,
                    &mut self.out,
                    self.page_size,
                    true,
                )
                .map_err(TraceError::Line)?;
                self.pos += n + 1;
                self.offset += n + 1;
                self.line += 1;
                continue;
            }
            if self.eof {
                if !rest.is_empty() {
                    let n = rest.len();
                    if n > self.max_line {
                        return Err(self.too_long());
                    }
                    parse_line(
                        rest,
                        self.line,
                        self.offset,
                        &mut self.out,
                        self.page_size,
                        true,
                    )
                    .map_err(TraceError::Line)?;
                    self.pos += n;
                    self.offset += n;
                    self.line += 1;
                }
                break;
            }
            if rest.len() > self.max_line {
                return Err(self.too_long());
            }
            self.data.drain(..self.pos);
            self.pos = 0;
            let len = self.data.len();
            self.data.resize(len + BLOCK, 0);
            let n = loop {
                match self.input.read(&mut self.data[len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(TraceError::Io(e)),
                }
            };
            self.data.truncate(len + n);
            self.eof = n == 0;
        }
        Ok((!self.out.is_empty()).then_some(&self.out[..]))
    }
}

pub use crate::files::Excerpt;

/// The page references of one lackey record: `I` a fetch, `L` a load, `S` a store, `M` a load
/// then a store.
#[inline]
fn push_lackey(out: &mut Vec<PageRef>, kind: u8, addr: u64, size: u64, page_size: u64) {
    match kind {
        b'I' => push_access(out, addr, size, Access::Exec, page_size),
        b'L' => push_access(out, addr, size, Access::Read, page_size),
        b'S' => push_access(out, addr, size, Access::Write, page_size),
        _ => {
            push_access(out, addr, size, Access::Read, page_size);
            push_access(out, addr, size, Access::Write, page_size);
        }
    }
}

/// The shape lackey writes, read byte by byte: an optional space, `I`/`L`/`S`/`M`, spaces, at
/// most 16 hex digits, `,`, at most 7 decimal digits no larger than the largest access, and
/// an optional `\r`. Anything else (comments, plain addresses, errors, unusual spacing) goes
/// to the general parser, which words every error; wherever this answers, the two agree
/// (a property test checks it). Most of a real trace's lines take this path.
#[inline]
fn lackey_line(line: &[u8]) -> Option<(u8, u64, u64)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b" ").unwrap_or(line);
    let (&kind, rest) = line.split_first()?;
    if !matches!(kind, b'I' | b'L' | b'S' | b'M') {
        return None;
    }
    let digits = rest.trim_ascii_start();
    if digits.len() == rest.len() {
        return None; // no space after the kind
    }
    let comma = digits.iter().position(|&c| c == b',')?;
    let (hex, size) = (&digits[..comma], &digits[comma + 1..]);
    if hex.is_empty() || hex.len() > 16 || size.is_empty() || size.len() > 7 {
        return None;
    }
    // A table, not a match: one load per digit, and the one branch (not a digit) never taken.
    let mut addr = 0u64;
    let mut bad = 0;
    for &c in hex {
        let d = HEX[usize::from(c)];
        bad |= d;
        addr = addr << 4 | u64::from(d & 0xf);
    }
    if bad & 0x80 != 0 {
        return None;
    }
    let mut n = 0u64;
    for &c in size {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    (n <= MAX_ACCESS).then_some((kind, addr, n))
}

/// The line at the start of `text` when it has exactly the shape valgrind's lackey writes and
/// its `\n` is in `text`: ` L`, ` S` or ` M` then one space, or `I` then two; 1 to 16 hex
/// digits, `,`, 1 to 7 decimal digits no larger than the largest access, `\n`. Its kind,
/// address, size and length (without the `\n`). Every such line reads the same through
/// [`lackey_line`]; any other line is left to it and the general parser.
#[inline(always)]
fn lackey_exact(text: &[u8]) -> Option<(u8, u64, u64, usize)> {
    let kind = match text.get(..3)? {
        [b' ', k @ (b'L' | b'S' | b'M'), b' '] => *k,
        [b'I', b' ', b' '] => b'I',
        _ => return None,
    };
    let mut i = 3;
    let mut addr = 0u64;
    // lackey writes at least eight digits (`%08lx`): those at once, any more one by one.
    if let Some(v) = text.get(3..11).and_then(|w| hex8(w.try_into().ok()?)) {
        (addr, i) = (v, 11);
    }
    loop {
        let d = HEX[usize::from(*text.get(i)?)];
        if d & 0x80 != 0 {
            break;
        }
        addr = addr << 4 | u64::from(d);
        i += 1;
    }
    if !(4..=19).contains(&i) || text[i] != b',' {
        return None;
    }
    i += 1;
    let first = i;
    let mut size = 0u64;
    loop {
        let c = *text.get(i)?;
        if !c.is_ascii_digit() {
            break;
        }
        if i - first == 7 {
            return None; // more digits than any access needs, and than a u64 holds
        }
        size = size * 10 + u64::from(c - b'0');
        i += 1;
    }
    (i > first && size <= MAX_ACCESS && text[i] == b'\n').then_some((kind, addr, size, i))
}

/// Eight hex digits, the first the most significant: their value, or `None` if any byte is
/// not a hex digit. Arithmetic on the eight bytes at once, no branch per digit.
#[inline(always)]
fn hex8(bytes: [u8; 8]) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let w = u64::from_le_bytes(bytes);
    if w & HIGH != 0 {
        return None;
    }
    // Each byte is below 0x80, so adding at most 0x50 carries into no other byte: the high
    // bit of a sum says whether the byte is at least the bound.
    let at_least = |x: u64, bound: u64| x.wrapping_add(ONES * (0x80 - bound)) & HIGH;
    let digit = at_least(w, 0x30) & !at_least(w, 0x3a);
    let lower = w | (ONES * 0x20);
    let letter = at_least(lower, 0x61) & !at_least(lower, 0x67);
    if digit | letter != HIGH {
        return None;
    }
    // Each byte's value (a letter's low nibble is 1 to 6, plus 9), then pairs, then quads.
    let v = (w & (ONES * 0x0f)) + (w >> 6 & ONES) * 9;
    let pairs = (v & 0x000f_000f_000f_000f) << 4 | (v >> 8 & 0x000f_000f_000f_000f);
    let quads = (pairs & 0x0000_00ff_0000_00ff) << 8 | (pairs >> 16 & 0x0000_00ff_0000_00ff);
    Some((quads & 0xffff) << 16 | (quads >> 32 & 0xffff))
}

/// Each byte's value as a hex digit, or 0x80 for a byte that is not one.
const HEX: [u8; 256] = {
    let mut t = [0x80u8; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 0x80,
        };
        c += 1;
    }
    t
};

pub use crate::machine::pagemap::{PageHasher, PageMap};

/// What OPT needs to know of the future: for each reference, the position of the next
/// reference to the same page (never again: `u64::MAX`), and each page's first position.
#[derive(Debug)]
pub struct Future {
    /// The next uses, four bytes each while positions fit ([`NEVER`]: never again), which
    /// halves the host memory (and the fresh pages) OPT's future takes. Position `short_end`
    /// would be read as never again: when it comes, every next use moves to `long`, eight
    /// bytes each, and `next` is left empty.
    next: Vec<u32>,
    long: Vec<u64>,
    short_end: u64,
    pub first: PageMap<u64>,
    /// Each page's latest position so far, while the future is being built: in `dense` for
    /// the pages `dense_at..` it covers (`u64::MAX`: not yet seen), in `last` for the others.
    last: PageMap<u64>,
    dense: Vec<u64>,
    dense_at: u64,
    shift: u32,
}

/// A next use of "never again" while they take four bytes.
const NEVER: u32 = u32::MAX;

/// The most pages whose latest positions a future keeps in an array (8 MiB of them).
const DENSE_PAGES: u64 = 1 << 20;

impl Future {
    pub fn new(shift: u32) -> Self {
        Future {
            next: Vec::new(),
            long: Vec::new(),
            short_end: u64::from(NEVER),
            first: PageMap::default(),
            last: PageMap::default(),
            dense: Vec::new(),
            dense_at: 0,
            shift,
        }
    }

    /// A future whose references mostly fall in the `pages` virtual pages from `vpn` (a
    /// `refs` string's region): their latest positions are kept in an array, not a map. Room
    /// is made for `refs` references.
    pub fn for_pages(shift: u32, vpn: u64, pages: u64, refs: usize) -> Self {
        Future {
            next: Vec::with_capacity(refs),
            dense: vec![u64::MAX; pages.min(DENSE_PAGES) as usize],
            dense_at: vpn,
            ..Future::new(shift)
        }
    }

    /// How many references it knows.
    pub fn len(&self) -> usize {
        self.next.len() + self.long.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next uses of references `range`, or `None` if it does not know them all.
    pub fn next_uses(&self, range: std::ops::Range<usize>) -> Option<NextUses<'_>> {
        if range.end > self.len() {
            return None;
        }
        // Not widened (or nothing since): the next uses are all in `next`.
        Some(if self.long.is_empty() {
            NextUses::Short(&self.next[range])
        } else {
            NextUses::Long(&self.long[range])
        })
    }

    /// Every next use, in order (`u64::MAX`: never again).
    pub fn all_next_uses(&self) -> Vec<u64> {
        let Some(all) = self.next_uses(0..self.len()) else {
            return Vec::new();
        };
        (0..all.len()).filter_map(|j| all.get(j)).collect()
    }

    /// Adds the next references, in order.
    pub fn extend(&mut self, refs: &[PageRef]) {
        let shift = self.shift;
        self.extend_vpns(refs.iter().map(|r| r.addr >> shift));
    }

    /// Adds the next references, in order, by their virtual pages.
    pub fn extend_pages(&mut self, vpns: &[u64]) {
        self.extend_vpns(vpns.iter().copied());
    }

    #[inline(always)]
    fn extend_vpns(&mut self, vpns: impl ExactSizeIterator<Item = u64>) {
        let start = self.next.len();
        let fits = (start + vpns.len()) as u64 <= self.short_end;
        if !self.long.is_empty() || !fits {
            for vpn in vpns {
                self.add(vpn);
            }
            return;
        }
        // Every position fits four bytes: the next uses start as "never", and each reference
        // of a page in the array (a `refs` string's, all of them) is two loads and two stores.
        self.next.resize(start + vpns.len(), NEVER);
        for (i, vpn) in (start..).zip(vpns) {
            let at = vpn.wrapping_sub(self.dense_at);
            let before = match self.dense.get_mut(at as usize).filter(|_| at < DENSE_PAGES) {
                Some(d) => Some(std::mem::replace(d, i as u64)).filter(|&j| j != u64::MAX),
                None => self.last.insert(vpn, i as u64),
            };
            match before {
                Some(j) => self.next[j as usize] = i as u32,
                None => {
                    self.first.insert(vpn, i as u64);
                }
            }
        }
    }

    #[inline(always)]
    fn add(&mut self, vpn: u64) {
        let i = self.len() as u64;
        let short = i < self.short_end;
        if i == self.short_end {
            self.widen();
        }
        let at = vpn.wrapping_sub(self.dense_at);
        let before = match self.dense.get_mut(at as usize).filter(|_| at < DENSE_PAGES) {
            Some(d) => Some(std::mem::replace(d, i)).filter(|&j| j != u64::MAX),
            None => self.last.insert(vpn, i),
        };
        match before {
            Some(j) if short => self.next[j as usize] = i as u32,
            Some(j) => self.long[j as usize] = i,
            None => {
                self.first.insert(vpn, i);
            }
        }
        if short {
            self.next.push(NEVER);
        } else {
            self.long.push(u64::MAX);
        }
    }

    /// Positions no longer fit four bytes: every next use takes eight from now on.
    #[cold]
    fn widen(&mut self) {
        self.long = self.next.iter().map(|&n| NextUses::wide(n)).collect();
        self.next = Vec::new();
    }
}

/// For each reference, the position of the next reference to the same page (`u64::MAX` =
/// never again), and each page's first position: what OPT needs to know of the future.
pub fn next_uses(refs: &[PageRef], shift: u32) -> (Vec<u64>, PageMap<u64>) {
    let mut f = Future::new(shift);
    f.extend(refs);
    (f.all_next_uses(), f.first)
}

/// Why a replay stopped.
#[derive(Debug)]
pub enum ReplayStop<E> {
    /// The access at this index trapped.
    Trap(usize, Trap),
    /// The periodic check (or the source of references) said stop.
    Check(E),
}

/// Where a replay's references come from, a chunk at a time.
pub trait RefSource<E> {
    /// The next references, or `None` at the end.
    fn next_chunk(&mut self) -> Result<Option<&[PageRef]>, E>;
}

/// References already in memory (a `refs` string).
struct Slice<'a>(std::slice::Chunks<'a, PageRef>);

impl<E> RefSource<E> for Slice<'_> {
    fn next_chunk(&mut self) -> Result<Option<&[PageRef]>, E> {
        Ok(self.0.next())
    }
}

/// Replays `refs` in process `p`. Every 4096 references `check` gets the number done and the
/// machine (for interrupts and limits). Under OPT the run knows its future: the policy keys
/// each frame by its page's next use for the length of the replay, then falls back to LRU.
pub fn replay<E>(
    world: &mut World,
    p: usize,
    refs: &[PageRef],
    sink: &mut EventSink,
    check: impl FnMut(usize, &Mmu) -> Result<(), E>,
) -> Result<(), ReplayStop<E>> {
    let future = (world.mmu.config().replace.needs_future()).then(|| {
        let mut f = Future::new(world.mmu.page_shift());
        f.extend(refs);
        f
    });
    let mut source = Slice(refs.chunks(CHUNK));
    replay_source(world, p, &mut source, future.as_ref(), sink, check)
}

/// Replays the references of `source` in process `p`, as [`replay`] does; under OPT,
/// `future` is the whole replay's (without it OPT falls back to LRU).
pub fn replay_source<E>(
    world: &mut World,
    p: usize,
    source: &mut impl RefSource<E>,
    future: Option<&Future>,
    sink: &mut EventSink,
    mut check: impl FnMut(usize, &Mmu) -> Result<(), E>,
) -> Result<(), ReplayStop<E>> {
    let World { mmu, os, .. } = world;
    let future = future.filter(|_| mmu.config().replace.needs_future());
    if let Some(f) = future {
        let asid = os.procs[p].asid;
        // Pages already resident that the replay uses: keyed by their first use.
        let mut keys: Vec<(u64, u64)> = f
            .first
            .iter()
            .filter_map(|(&vpn, &pos)| {
                let e = mmu.pte(asid, vpn);
                (e & pte::PRESENT != 0 && e & pte::ZERO == 0).then(|| (pte::pfn(e), pos))
            })
            .collect();
        keys.sort_unstable();
        mmu.opt_begin(keys);
    }
    let asid = os.procs[p].asid;
    let ostep_trace = sink.wants() && mmu.conventions() == Conventions::Ostep;
    let mut tally = (0u64, 0u64);
    let mut result = Ok(());
    let mut start = 0usize;
    // Faults in one file region take the lean run's path while they can (trace off only: it
    // tells nothing); decided at the first reference.
    let mut lean: Option<LeanRun> = None;
    let mut decided = sink.wants();
    // Chunks of references: the periodic check and the reference count once per chunk, and a
    // loop body that is one translation (plus OPT's next use) on the way that does not fault.
    loop {
        let chunk = match source.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                result = Err(ReplayStop::Check(e));
                break;
            }
        };
        if let Err(e) = check(start, mmu) {
            result = Err(ReplayStop::Check(e));
            break;
        }
        if !decided {
            decided = true;
            lean = chunk.first().and_then(|r| os.lean_run(mmu, p, r.addr));
        }
        mmu.stats.references += chunk.len() as u64;
        let mut trapped = None;
        let ahead = future.and_then(|f| f.next_uses(start..start + chunk.len()));
        if ostep_trace {
            for (j, r) in chunk.iter().enumerate() {
                if let Some(n) = ahead.and_then(|a| a.get(j)) {
                    mmu.opt_next(n);
                }
                if let Err(t) = one_told(os, mmu, p, asid, r, sink, &mut tally) {
                    trapped = Some((j, t));
                    break;
                }
            }
        } else {
            // A lean run takes the chunk, or the part of it before a reference it cannot take;
            // then the run ends and the general path takes the rest.
            let mut done = 0;
            if let Some(run) = &mut lean {
                done = mmu.region_replay(&mut run.region, chunk, ahead);
                if done < chunk.len() {
                    if let Some(run) = lean.take() {
                        os.lean_run_end(run);
                    }
                }
            }
            let rest = &chunk[done..];
            let at = (&mut *os, &mut *mmu, p, asid, &mut *sink);
            // One loop for each way the next uses are kept, so that no step asks which.
            trapped = match ahead.map(|a| a.from(done)) {
                Some(NextUses::Short(a)) => general(at, rest, a, |n| Some(NextUses::wide(n))),
                Some(NextUses::Long(a)) => general(at, rest, a, Some),
                None => general(at, rest, rest, |_| None),
            }
            .map(|(j, t)| (done + j, t));
        }
        if let Some((j, t)) = trapped {
            // The trapped reference counts; the ones after it never happened.
            mmu.stats.references -= (chunk.len() - j - 1) as u64;
            result = Err(ReplayStop::Trap(start + j, t));
            break;
        }
        start += chunk.len();
    }
    if let Some(run) = lean {
        os.lean_run_end(run);
    }
    if future.is_some() {
        mmu.opt_end();
    }
    result
}

/// `refs` through the general path, each as [`one`], OPT told its next use first (`wide` of its
/// entry in `next`, if that is one: the references themselves stand in for none): the first
/// that traps, and how.
#[inline(always)]
fn general<T: Copy>(
    (os, mmu, p, asid, sink): (&mut Os, &mut Mmu, usize, Asid, &mut EventSink),
    refs: &[PageRef],
    next: &[T],
    wide: impl Fn(T) -> Option<u64>,
) -> Option<(usize, Trap)> {
    for (j, (r, &n)) in refs.iter().zip(next).enumerate() {
        if let Some(n) = wide(n) {
            mmu.opt_next(n);
        }
        if let Err(t) = one(os, mmu, p, asid, r, sink) {
            return Some((j, t));
        }
    }
    None
}

/// One reference of a replay, counted already: [`Os::access`] without the count.
#[inline(always)]
fn one(
    os: &mut Os,
    mmu: &mut Mmu,
    p: usize,
    asid: Asid,
    r: &PageRef,
    sink: &mut EventSink,
) -> Result<(), Trap> {
    match mmu.translate(asid, r.addr, r.access) {
        Ok(_) => Ok(()),
        Err(f) => os.replay_faulted(mmu, p, r.addr, r.access, f, sink),
    }
}

/// [`one`], then the reference told as `paging-policy.py` tells it (`conventions ostep`).
fn one_told(
    os: &mut Os,
    mmu: &mut Mmu,
    p: usize,
    asid: Asid,
    r: &PageRef,
    sink: &mut EventSink,
    tally: &mut (u64, u64),
) -> Result<(), Trap> {
    let before = mmu.policy_pages();
    let hit = match mmu.translate(asid, r.addr, r.access) {
        Ok(_) => true,
        Err(f) => {
            // The line below stands for the fault and the eviction: they are counted, not
            // told; only a death (kept whatever the limit) comes through.
            let mut quiet = EventSink::new(true, 0);
            quiet.at = sink.at;
            let done = os.access_faulted(mmu, p, r.addr, r.access, f, &mut quiet);
            sink.restore(quiet.take().0);
            done?;
            false
        }
    };
    if hit {
        tally.0 += 1;
    } else {
        tally.1 += 1;
    }
    let e = mmu.pte(asid, r.addr >> mmu.page_shift());
    let page = mmu
        .page_in(pte::pfn(e))
        .unwrap_or(r.addr >> mmu.page_shift());
    let memory = mmu.policy_pages();
    let victim = before.iter().copied().find(|b| !memory.contains(b));
    let (left, right) = mmu.replacer().ends();
    sink.push_told(Event::PolicyAccess {
        pid: os.procs[p].pid,
        page,
        hit,
        left: left.into(),
        right: right.into(),
        memory,
        victim,
        hits: tally.0,
        misses: tally.1,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Policy;

    #[test]
    fn lackey_and_plain_lines_parse() {
        let t = "==123== Lackey\nI  0400d7d4,8\n L 04222cac,4\n S 0x1000,8\n M 0ffe,4\n# c\n\nW 4096\nR 0x10\n8192\n";
        let r = parse_trace(t, 4096).unwrap();
        let v: Vec<(u64, Access)> = r.iter().map(|r| (r.addr, r.access)).collect();
        assert_eq!(
            v,
            vec![
                (0x400d7d4, Access::Exec),
                (0x4222cac, Access::Read),
                (0x1000, Access::Write),
                (0xffe, Access::Read),
                (0x1000, Access::Read),
                (0xffe, Access::Write),
                (0x1000, Access::Write),
                (4096, Access::Write),
                (0x10, Access::Read),
                (8192, Access::Read),
            ]
        );
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let e = parse_trace("1\n2\nbanana\n", 4096).unwrap_err();
        assert_eq!((e.line, e.start, e.len), (3, 4, 6));
        let e = parse_trace(" L 12", 4096).unwrap_err();
        assert!(e.reason.contains(",SIZE"));
    }

    /// Lines near lackey's shape: every piece mostly right and sometimes slightly off.
    fn near_lackey() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let pick = |xs: &'static [&'static str]| proptest::sample::select(xs);
        (
            prop_oneof![4 => pick(&["", " "]), 1 => pick(&["  ", "\t"])],
            prop_oneof![4 => pick(&["I", "L", "S", "M"]), 1 => pick(&["l", "R", "W", "#", "==", "x"])],
            prop_oneof![4 => pick(&[" ", "  "]), 1 => pick(&["", "\t", "\u{b}", "\r"])],
            prop_oneof![
                4 => "[0-9a-fA-F]{1,16}",
                1 => "[0-9a-fA-F]{0,18}|0x[0-9a-f]{1,8}|[0-9a-f_+ ]{1,6}",
            ],
            prop_oneof![4 => Just(","), 1 => pick(&["", ", ", " ,"])],
            prop_oneof![
                4 => "[0-9]{1,7}",
                1 => "[0-9]{0,8}|[0-9]{19,24}|0x[0-9]{1,3}|[0-9 x]{1,3}",
            ],
            prop_oneof![4 => pick(&["", "\r"]), 1 => pick(&["\r\r", " "])],
        )
            .prop_map(|(a, b, c, d, e, f, g)| format!("{a}{b}{c}{d}{e}{f}{g}"))
    }

    proptest::proptest! {
        /// The byte-level reader of lackey lines answers only where the general parser agrees:
        /// the same references, or the same error at the same line.
        #[test]
        fn the_fast_lackey_reader_agrees(lines in proptest::collection::vec(near_lackey(), 0..20)) {
            let text = lines.join("\n");
            proptest::prop_assert_eq!(parse(&text, 4096, true), parse(&text, 4096, false));
        }
    }

    proptest::proptest! {
        /// The streaming reader, whose exact-shape path reads most lackey lines, gives what
        /// the general parser gives, however the file's reads split its lines.
        #[test]
        fn the_streaming_reader_agrees(
            lines in proptest::collection::vec(near_lackey(), 0..20),
            end in proptest::sample::select(&["", "\n", "\r\n"][..]),
            step in 1usize..40,
        ) {
            let text = lines.join("\n") + end;
            proptest::prop_assert_eq!(stream(&text, step), parse(&text, 4096, false));
            proptest::prop_assert_eq!(stream(&text, 1 << 16), parse(&text, 4096, false));
        }
    }

    proptest::proptest! {
        /// Eight bytes at once read as they do one by one.
        #[test]
        fn eight_hex_digits_read_as_one_by_one(
            bytes in proptest::array::uniform8(proptest::prop_oneof![
                3 => proptest::sample::select(&b"0123456789abcdefABCDEF"[..]),
                1 => proptest::prelude::any::<u8>(),
            ]),
        ) {
            let one_by_one = bytes.iter().try_fold(0u64, |v, &c| {
                (HEX[usize::from(c)] & 0x80 == 0).then(|| v << 4 | u64::from(HEX[usize::from(c)]))
            });
            proptest::prop_assert_eq!(hex8(bytes), one_by_one);
        }
    }

    #[test]
    fn every_byte_in_every_place_of_eight_digits() {
        for c in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"0123abcF";
                bytes[at] = c;
                let want = (HEX[usize::from(c)] & 0x80 == 0).then(|| {
                    bytes
                        .iter()
                        .fold(0, |v, &b| v << 4 | u64::from(HEX[usize::from(b)]))
                });
                assert_eq!(hex8(bytes), want, "{c:#x} at {at}");
            }
        }
    }

    #[test]
    fn the_exact_shape_is_lackeys_own() {
        assert_eq!(
            lackey_exact(b"I  0400d7d4,8\n"),
            Some((b'I', 0x400d7d4, 8, 13))
        );
        assert_eq!(
            lackey_exact(b" S 1ffefffff8,16\nI"),
            Some((b'S', 0x1ffefffff8, 16, 16))
        );
        // Left to the other readers: no `\n` yet, `\r\n`, other spacing, too many digits.
        for line in [
            &b" L 0ffe,4"[..],
            b" L 0ffe,4\r\n",
            b"L 0ffe,4\n",
            b" I 0ffe,4\n",
            b" L  0ffe,4\n",
            b" L 0ffe,12345678\n",
            b" L 0ffe,99999999999999999999999\n",
            b" L 00000000000000001,4\n",
            b" L 0ffe,2000000\n",
            b" L ,4\n",
            b" L 0ffe,\n",
        ] {
            assert_eq!(
                lackey_exact(line),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        // The line limit holds on that path too.
        let mut r = TraceReader::new(&b" L 0ffe,4\n"[..], 4096).max_line(5);
        assert!(
            matches!(r.next_refs(), Err(TraceError::Line(e)) if e.reason.contains("longer than 5"))
        );
    }

    #[test]
    fn the_fast_reader_takes_lackeys_own_lines() {
        assert_eq!(lackey_line(b"I  0400d7d4,8"), Some((b'I', 0x400d7d4, 8)));
        assert_eq!(lackey_line(b" M 0ffe,4\r"), Some((b'M', 0xffe, 4)));
        assert_eq!(lackey_line(b" L 04222cac,2000000"), None);
        assert_eq!(lackey_line(b"R 0x10"), None);
    }

    /// A reader that hands out at most `step` bytes at a time, so lines straddle reads.
    struct Trickle<'a> {
        text: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.text.len());
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    fn stream(text: &str, step: usize) -> Result<Vec<PageRef>, TraceLineError> {
        let mut r = TraceReader::new(
            Trickle {
                text: text.as_bytes(),
                step,
            },
            4096,
        );
        let mut all = Vec::new();
        loop {
            match r.next_refs() {
                Ok(Some(refs)) => all.extend_from_slice(refs),
                Ok(None) => return Ok(all),
                Err(TraceError::Line(e)) => return Err(e),
                Err(TraceError::Io(e)) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn a_streamed_trace_reads_as_the_whole_text_does() {
        let t = "==1== x\nI  0400d7d4,8\r\n L 04222cac,4\n\n# c\nW 4096\n M 0ffe,4\n8192";
        for step in [1, 3, 7, 1 << 16] {
            assert_eq!(stream(t, step), parse_trace(t, 4096), "step {step}");
        }
        let bad = "1\n2\n S 10,4\nbanana\n5\n";
        assert_eq!(stream(bad, 2), parse_trace(bad, 4096));
        assert_eq!(stream(bad, 2).unwrap_err().line, 4);
    }

    /// Endless lackey loads, made up as they are read.
    struct Loads {
        left: u64,
        line: Vec<u8>,
        at: usize,
    }

    impl Read for Loads {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut n = 0;
            while n < buf.len() {
                if self.at == self.line.len() {
                    if self.left == 0 {
                        break;
                    }
                    self.left -= 1;
                    self.line =
                        format!(" L {:x},8\n", 0x10000 + (self.left % 4096) * 64).into_bytes();
                    self.at = 0;
                }
                let k = (self.line.len() - self.at).min(buf.len() - n);
                buf[n..n + k].copy_from_slice(&self.line[self.at..self.at + k]);
                self.at += k;
                n += k;
            }
            Ok(n)
        }
    }

    #[test]
    fn a_long_trace_streams_in_bounded_memory() {
        let lines = 3_000_000;
        let mut r = TraceReader::new(
            Loads {
                left: lines,
                line: Vec::new(),
                at: 0,
            },
            4096,
        );
        let mut n = 0u64;
        let mut held = 0;
        loop {
            match r.next_refs() {
                Ok(Some(refs)) => n += refs.len() as u64,
                Ok(None) => break,
                Err(_) => panic!("a bad line"),
            }
            held = held.max(r.data.capacity() + r.out.capacity() * std::mem::size_of::<PageRef>());
        }
        assert_eq!(n, lines);
        // One block, one partial line, one chunk: the same for three lines or three million.
        assert!(
            held <= 2 * BLOCK + 2 * CHUNK * std::mem::size_of::<PageRef>(),
            "{held}"
        );
    }

    /// Faults of FIFO or LRU over a sequence of page numbers, by the book.
    fn textbook_faults(pages: &[u64], frames: usize, lru: bool) -> u64 {
        let mut resident: Vec<u64> = Vec::new();
        let mut faults = 0;
        for &p in pages {
            if let Some(i) = resident.iter().position(|&r| r == p) {
                if lru {
                    resident.remove(i);
                    resident.push(p);
                }
                continue;
            }
            faults += 1;
            if resident.len() == frames {
                resident.remove(0);
            }
            resident.push(p);
        }
        faults
    }

    proptest::proptest! {
        /// A trace's fault count is the policy's over the pages it references, reads and writes
        /// alike, with no swap; pages far apart (a mapping each) as well as adjacent ones.
        #[test]
        fn a_trace_faults_as_the_textbook_says(
            refs in proptest::collection::vec((0u64..24, proptest::bool::ANY), 1..200),
            frames in 1u64..6,
            lru in proptest::bool::ANY,
            spread in proptest::bool::ANY,
        ) {
            let mut cfg = crate::config::ScenarioConfig::default_x86_64();
            cfg.machine.memory = frames * 4096;
            cfg.machine.replace = if lru { Policy::Lru } else { Policy::Fifo };
            let mut w = World::new(&cfg);
            let p = w.current().expect("the default layout fits x86-64");
            w.os.auto_map = true;
            let stride = if spread { 0x3000 } else { 0x1000 };
            let trace: Vec<PageRef> = refs
                .iter()
                .map(|&(n, write)| PageRef {
                    addr: 0x1000_0000 + n * stride + 8,
                    access: if write { Access::Write } else { Access::Read },
                })
                .collect();
            let mut sink = EventSink::new(false, 0);
            let r = replay(&mut w, p, &trace, &mut sink, |_, _| Ok::<(), ()>(()));
            proptest::prop_assert!(r.is_ok());
            let pages: Vec<u64> = refs.iter().map(|r| r.0).collect();
            let s = w.stats();
            proptest::prop_assert_eq!(s.faults, textbook_faults(&pages, frames as usize, lru));
            proptest::prop_assert_eq!(s.references, refs.len() as u64);
            proptest::prop_assert_eq!(s.swap_outs, 0);
        }
    }

    /// A scenario of reference strings in two processes, with anonymous pages (which swap)
    /// among them, ended by every `show` of the machine's state and the counters printed.
    #[allow(clippy::too_many_arguments)]
    fn replay_scenario(
        policy: Policy,
        ostep: bool,
        frames: u64,
        swap: u64,
        tlb: u64,
        local: bool,
        strings: &[(bool, Vec<(u64, bool)>)],
        anon: &[u64],
    ) -> String {
        // 8 and 16 entries are also tried set-associative (and FIFO), whose inserts choose a
        // way within a set.
        let tlb = match tlb {
            0 => "tlb off".to_string(),
            8 => "tlb 8 entries fifo 2-way".to_string(),
            16 => "tlb 16 entries lru 4-way".to_string(),
            2 => "tlb 2 entries fifo".to_string(),
            n => format!("tlb {n} entries lru"),
        };
        let mut src = format!(
            "machine {{ memory {frames} pages; swap {swap} pages; replace {}; {tlb}; scope {}; conventions {} }}\nprocess a\nprocess b\nlet p: *long = mmap(4 pages, rw-)\n",
            policy.name(),
            if local { "local" } else { "global" },
            if ostep { "ostep" } else { "textbook" },
        );
        for (i, (in_b, refs)) in strings.iter().enumerate() {
            let items: Vec<String> = refs
                .iter()
                .map(|&(n, w)| if w { format!("{n}w") } else { n.to_string() })
                .collect();
            let line = format!("refs {}", items.join(" "));
            if *in_b {
                src.push_str(&format!("in b {{ {line} }}\n"));
            } else {
                src.push_str(&line);
                src.push('\n');
            }
            if let Some(&k) = anon.get(i) {
                src.push_str(&format!(
                    "p[{}] = {}\nprint p[{}]\n",
                    k * 512,
                    i + 1,
                    k * 512
                ));
            }
        }
        src.push_str("show frames\nshow pagetable\nshow tlb\nshow swap\nshow stats\nin b { show pagetable }\n");
        src.push_str("print stats.faults, stats.evictions, stats.swap_outs, stats.tlb.hits, stats.tlb.misses\n");
        src
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// With the trace off a replay's faults take the lean path (and, when the process is
        /// alone in memory, a lean run's); with it on, the general handler. Both end in the
        /// same machine: frames, page tables, TLB, swap, counters, values read back, every
        /// `show` and every diagnostic; memory of a few frames and of more than 32, and a step
        /// limit that may stop a long string between two chunks.
        #[test]
        fn the_lean_fault_path_ends_where_the_general_one_does(
            policy in proptest::sample::select(Policy::ALL.to_vec()),
            ostep in proptest::bool::ANY,
            frames in proptest::prop_oneof![1u64..7, 31u64..40],
            swap in 0u64..4,
            tlb in proptest::sample::select(vec![0u64, 1, 2, 4, 8, 16, 64]),
            local in proptest::bool::ANY,
            strings in proptest::collection::vec(
                (proptest::bool::ANY, proptest::collection::vec((0u64..1000, proptest::bool::weighted(0.2)), 1..60)),
                1..5,
            ),
            anon in proptest::collection::vec(0u64..4, 0..4),
            long in proptest::option::weighted(0.25, (proptest::bool::ANY, 4097usize..9000)),
            max_steps in proptest::option::weighted(0.25, 50u64..14_000),
            alone in proptest::bool::ANY,
            big_pages in proptest::bool::weighted(0.25),
        ) {
            use crate::session::{Options, Output, Session};
            // A few pages more than frames, so that memory of more than 32 frames (LRU's heap)
            // is under pressure too.
            let pages = frames + 6;
            let mut strings: Vec<(bool, Vec<(u64, bool)>)> = strings
                .into_iter()
                .map(|(b, refs)| (b, refs.into_iter().map(|(n, w)| (n % pages, w)).collect()))
                .collect();
            // A string longer than a chunk, so that a step limit can stop a replay between
            // two of its chunks.
            if let Some((in_b, n)) = long {
                strings.push((in_b, (0..n as u64).map(|i| ((i * 7 + i / 13) % pages, i % 5 == 0)).collect()));
            }
            // One process and nothing else in memory: every string is a lean run's.
            let anon = if alone {
                strings.iter_mut().for_each(|s| s.0 = false);
                Vec::new()
            } else {
                anon
            };
            let src = replay_scenario(policy, ostep, frames, swap, tlb, local, &strings, &anon);
            // Pages of another size than 4 KiB: the steady loops compiled for any size.
            let src = if big_pages {
                src.replacen("machine { ", "machine { page_size 8 KiB; ", 1)
            } else {
                src
            };
            let run = |trace: bool| {
                let mut s = Session::new(Options {
                    trace,
                    report_leaks: false,
                    max_steps: max_steps.unwrap_or(Options::default().max_steps),
                    ..Options::default()
                });
                let r = s.execute("t.mem", &src);
                let mut out = String::new();
                for st in &r.steps {
                    for o in st.outputs() {
                        match o {
                            Output::Print { text } => out.push_str(text),
                            Output::Show { snapshot } => out.push_str(&format!("{snapshot:?}")),
                            Output::Expect { passed, .. } => out.push_str(&format!("expect {passed}")),
                        }
                        out.push('\n');
                    }
                }
                for d in &r.diagnostics {
                    out.push_str(&format!("{} at line {:?}\n", d.code, d.line));
                }
                out.push_str(&s.world().mmu.state_digest());
                (out, format!("{:?}", r.stats))
            };
            let full = run(true);
            let before = crate::os::LEAN_RUNS.with(|n| n.get());
            let lean = run(false);
            let taken = crate::os::LEAN_RUNS.with(|n| n.get()) - before;
            proptest::prop_assert_eq!(&full, &lean, "{}", src);
            // Alone in memory, the first string at least is a lean run's.
            proptest::prop_assert!(!alone || taken > 0, "no lean run in {}", src);
        }
    }

    /// A lean run is taken when a process's reference string is all that is in memory, stays
    /// possible after it (the page cache rebuilt), and is refused once the tables map a page of
    /// the region it has not placed, or another page is in memory.
    #[test]
    fn a_lean_run_is_taken_while_the_string_is_alone_in_memory() {
        use crate::config::ScenarioConfig;
        let mut cfg = ScenarioConfig::default_x86_64();
        cfg.machine.memory = 4 * 4096;
        let mut w = World::new(&cfg);
        let p = w.current().expect("the default layout fits");
        let base = w.os.refs_region(p, 10).expect("room for ten pages");
        assert!(w.os.lean_run(&mut w.mmu, p, base).is_some());
        let refs: Vec<PageRef> = [0u64, 1, 2, 3, 4, 0, 9, 5]
            .iter()
            .map(|&n| PageRef {
                addr: base + n * 4096,
                access: if n % 2 == 0 {
                    Access::Write
                } else {
                    Access::Read
                },
            })
            .collect();
        let mut sink = EventSink::new(false, 0);
        replay(&mut w, p, &refs, &mut sink, |_, _| Ok::<(), ()>(())).expect("replay");
        let s = w.os.procs[p].stats;
        assert_eq!((s.major, s.evictions, s.writebacks), (8, 4, 2));
        // The page cache holds what the frames hold, and nothing else.
        let file = w.os.files.len() - 1;
        let cache = &w.os.files[file].cache;
        assert_eq!(cache.len(), 4);
        for (&page, &pfn) in cache {
            assert_eq!(
                w.mmu.frame(pfn).map(|f| f.used),
                Some(crate::machine::FrameUse::File {
                    file: file as u32,
                    page
                })
            );
        }
        assert!(w.os.lean_run(&mut w.mmu, p, base).is_some());
        // Past the region, or with an anonymous page resident: the general path.
        assert!(w.os.lean_run(&mut w.mmu, p, base + 10 * 4096).is_none());
        // An entry written by hand into a page of the region that is not in memory (pointing
        // at a frame that holds another page) would be found by the general path's walk.
        let (asid, vpn) = (w.os.procs[p].asid, (base >> 12) + 7);
        let frame = w.os.files[file]
            .cache
            .values()
            .next()
            .copied()
            .expect("a page in memory");
        let bits = pte::READ | pte::WRITE | pte::FILE | pte::PRESENT;
        w.mmu.set_pte(asid, vpn, frame << pte::PFN_SHIFT | bits);
        assert!(w.os.lean_run(&mut w.mmu, p, base).is_none());
        w.mmu.set_pte(asid, vpn, 0);
        assert!(w.os.lean_run(&mut w.mmu, p, base).is_some());
        let heap = w.os.procs[p].brk_start;
        assert_eq!(w.os.brk(&mut w.mmu, p, heap + 4096, &mut sink), heap + 4096);
        w.os.access(&mut w.mmu, p, heap, Access::Write, &mut sink)
            .expect("the heap page is written");
        assert!(w.os.lean_run(&mut w.mmu, p, base).is_none());
    }

    /// A lean run on a full memory under FIFO, LRU, CLOCK or OPT, with a fully associative TLB (LRU
    /// or FIFO, smaller or larger than memory) or none, goes on in the steady loop
    /// (`machine/steady.rs`) — FIFO and CLOCK up to 64 frames, LRU and OPT up to 32 — and ends
    /// where the general handler ends: every `show`, value and counter. With every frame's
    /// translation in the TLB (or none), it goes on in the settled loop (`steady/settled.rs`):
    /// over regions of fewer pages than the string has references and of more, with 4 KiB pages
    /// and with others.
    #[test]
    fn a_full_memory_goes_on_in_the_steady_loop() {
        use crate::session::{Options, Session};
        let count = |c: &'static std::thread::LocalKey<std::cell::Cell<u64>>| c.with(|n| n.get());
        for policy in [Policy::Fifo, Policy::Lru, Policy::Clock, Policy::Opt] {
            for tlb in [0u64, 1, 2, 4, 64] {
                for frames in [1u64, 4, 7, 12, 40, 64] {
                    for (page_size, sparse) in [(4, false), (16, false), (4, true)] {
                        if sparse && frames > 12 {
                            continue;
                        }
                        // Sparse: the region has more pages than the string has references (and
                        // fewer than a leaf table maps).
                        // With 4 KiB pages, a string of two chunks: the second starts where
                        // the first left the run.
                        let (spread, len) = match (sparse, page_size) {
                            (true, _) => (400 / (frames + 3), 200),
                            (false, 4) => (1, 5000),
                            (false, _) => (1, 700),
                        };
                        let refs: Vec<(u64, bool)> = (0..len)
                            .map(|i| {
                                let n = (i * 5 + i / 7 + i * i % 11) % (frames + 3);
                                (n * spread, i % 3 == 0)
                            })
                            .collect();
                        let src = replay_scenario(
                            policy,
                            false,
                            frames,
                            0,
                            tlb,
                            false,
                            &[(false, refs.clone()), (false, refs)],
                            &[],
                        )
                        .replacen(
                            "machine { ",
                            &format!("machine {{ page_size {page_size} KiB; "),
                            1,
                        );
                        let run = |trace: bool| {
                            let mut s = Session::new(Options {
                                trace,
                                report_leaks: false,
                                ..Options::default()
                            });
                            let r = s.execute("t.mem", &src);
                            assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
                            let mut out: Vec<String> = r
                                .steps
                                .iter()
                                .flat_map(|st| st.outputs().map(|o| format!("{o:?}")))
                                .collect();
                            out.push(s.world().mmu.state_digest());
                            (out, format!("{:?}", r.stats))
                        };
                        let full = run(true);
                        let (steady, settled) = (
                            count(&crate::machine::STEADY_REFS),
                            count(&crate::machine::SETTLED_REFS),
                        );
                        let lean = run(false);
                        let steady = count(&crate::machine::STEADY_REFS) - steady;
                        let settled = count(&crate::machine::SETTLED_REFS) - settled;
                        let case = format!(
                            "{policy:?}, tlb {tlb}, {frames} frames, {page_size} KiB pages, sparse {sparse}"
                        );
                        assert_eq!(full, lean, "{case}");
                        // LRU and OPT over more than 32 frames keep their heap: the general
                        // loop's.
                        let few = frames <= 32 || matches!(policy, Policy::Fifo | Policy::Clock);
                        assert_eq!(steady > 0, few, "{case}");
                        // A TLB of fewer entries than frames drops some frames' translations.
                        assert_eq!(settled > 0, few && (tlb == 0 || tlb >= frames), "{case}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// A future that keeps a region's pages in an array knows what one that keeps them all
        /// in a map knows, whether a page is in the region or not, whether it is given
        /// references or their pages, and whether its next uses take four bytes or eight.
        #[test]
        fn a_future_over_a_region_is_the_same(pages in proptest::collection::vec(0u64..40, 0..300), at in 0u64..20, len in 0u64..30) {
            let refs: Vec<PageRef> = pages
                .iter()
                .map(|&n| PageRef { addr: n << 12, access: Access::Read })
                .collect();
            let mut dense = Future::for_pages(12, at, len, 0);
            let mut by_page = Future::for_pages(12, at, len, refs.len());
            let mut map = Future::new(12);
            // Eight bytes a next use from position `len` on.
            let mut widened = Future { short_end: len, ..Future::new(12) };
            let mut widened_by_page = Future { short_end: len, ..Future::for_pages(12, at, len, 0) };
            for (chunk, vpns) in refs.chunks(7).zip(pages.chunks(7)) {
                dense.extend(chunk);
                by_page.extend_pages(vpns);
                map.extend(chunk);
                widened.extend(chunk);
                widened_by_page.extend_pages(vpns);
            }
            proptest::prop_assert_eq!(&widened_by_page.all_next_uses(), &map.all_next_uses());
            proptest::prop_assert_eq!(&widened_by_page.first, &map.first);
            let all = map.all_next_uses();
            proptest::prop_assert_eq!(&dense.all_next_uses(), &all);
            proptest::prop_assert_eq!(&dense.first, &map.first);
            proptest::prop_assert_eq!(&by_page.all_next_uses(), &all);
            proptest::prop_assert_eq!(&by_page.first, &map.first);
            proptest::prop_assert_eq!(&widened.all_next_uses(), &all);
            proptest::prop_assert_eq!(&widened.first, &map.first);
            let wide = refs.len() as u64 > len;
            proptest::prop_assert_eq!(widened.long.len(), if wide { refs.len() } else { 0 });
        }
    }

    #[test]
    fn next_uses_point_forward() {
        let refs: Vec<PageRef> = [1u64, 2, 1, 3, 2]
            .iter()
            .map(|&n| PageRef {
                addr: n << 12,
                access: Access::Read,
            })
            .collect();
        let (next, first) = next_uses(&refs, 12);
        assert_eq!(next, vec![2, 4, u64::MAX, u64::MAX, u64::MAX]);
        assert_eq!(first[&3], 3);
    }
}

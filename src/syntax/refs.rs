//! The items of a `refs` statement, packed: a reference string of millions of page numbers costs
//! about a byte per reference on the host, from the parser to the replay.
//!
//! Each item is a variable-length number: the first byte holds the write flag (bit 0), six bits
//! of the page number and a continuation bit (bit 7); further bytes hold seven bits each. Pages
//! 0 to 63 take one byte, pages up to 8191 two. The bytes are shared (`Arc`), so the checked
//! program and the session hold the same copy the parser made.

use std::sync::Arc;

/// A reference string: page numbers, each read or written, in order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PageRefs {
    bytes: Arc<Vec<u8>>,
    len: usize,
    max: Option<u64>,
}

/// One item of a reference string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRef {
    pub page: u64,
    pub write: bool,
}

/// Builds a [`PageRefs`] item by item.
#[derive(Default)]
pub struct PageRefsBuilder {
    bytes: Vec<u8>,
    len: usize,
    /// The largest page so far; meaningful once `len > 0`.
    max: u64,
}

impl PageRefsBuilder {
    /// Room for about `n` items of small page numbers.
    pub fn with_capacity(n: usize) -> Self {
        PageRefsBuilder {
            bytes: Vec::with_capacity(n),
            len: 0,
            max: 0,
        }
    }

    #[inline]
    pub fn push(&mut self, page: u64, write: bool) {
        self.len += 1;
        self.max = self.max.max(page);
        if page < 0x40 {
            // Most pages of a reference string are small: one byte, nothing else to do.
            self.bytes.push((page as u8) << 1 | u8::from(write));
        } else {
            self.push_long(page, write);
        }
    }

    /// A page number of more than six bits (kept out of the caller's loop).
    #[inline(never)]
    fn push_long(&mut self, page: u64, write: bool) {
        push_packed(&mut self.bytes, page, write);
    }

    /// Reads the text of a `refs` token: items separated by spaces, tabs, `\\` and new lines
    /// (what a line continuation leaves inside the token). A plain item, 1 to 19 decimal digits
    /// (which cannot overflow) and an optional `w` (write) or `r` (read), is packed here without
    /// allocating; any other item is handed to `other` with its byte range in `text`, which
    /// returns what to pack for it (and reports it when it is wrong), so that a span is only ever
    /// made for such an item.
    ///
    /// The common item of a reference string is one to three digits, perhaps a suffix, and a
    /// space. Such an item is read from eight bytes loaded at once: which of them are digits, the
    /// item's length, its value, its suffix and its packed bytes are all arithmetic, so the random
    /// lengths and suffixes of a generated string cost no mispredicted branch. Anything else
    /// (longer numbers, other separators and runs of them, the last bytes of the text, other
    /// forms) goes to [`read_item`] or `other`, one item or separator at a time.
    ///
    /// A long text is cut at separators into parts read on every core at once, each into its
    /// own bytes, which are then joined in order. A part with an item of another form is read
    /// again here, after the parts before it, so that `other` sees every such item in order:
    /// the result is the same, byte for byte, however the text was cut.
    pub(super) fn read_text(
        &mut self,
        text: &[u8],
        other: impl FnMut(std::ops::Range<usize>) -> (u64, bool),
    ) {
        // Asking for the cores reads the process's cgroup files: only for a text long enough
        // to be cut at all.
        if text.len() < 2 * PART_MIN {
            return self.read_part(text, other);
        }
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        self.read_text_parts(text, other, cores, PART_MIN);
    }

    /// [`PageRefsBuilder::read_text`] in at most `parts` parts of at least `part_min` bytes.
    fn read_text_parts(
        &mut self,
        text: &[u8],
        mut other: impl FnMut(std::ops::Range<usize>) -> (u64, bool),
        parts: usize,
        part_min: usize,
    ) {
        let parts = parts
            .min(MAX_PARTS)
            .min(text.len() / part_min.max(1))
            .max(1);
        if parts == 1 {
            return self.read_part(text, other);
        }
        // Cut just after a separator near each `len / parts`: a cut between two items.
        let mut cuts = vec![0];
        for k in 1..parts {
            let from = (text.len() * k / parts).max(*cuts.last().unwrap_or(&0));
            if let Some(n) = text[from..].iter().position(|&c| is_separator(c)) {
                cuts.push(from + n + 1);
            }
        }
        cuts.push(text.len());
        cuts.dedup();
        // The first part here, the others on their own threads; a part that meets an item of
        // another form gives up (and is read again below).
        let read = |range: std::ops::Range<usize>| {
            let mut b = PageRefsBuilder::default();
            let mut plain = true;
            b.read_part(&text[range], |_| {
                plain = false;
                (0, false)
            });
            plain.then_some(b)
        };
        let others: Vec<Option<PageRefsBuilder>> = std::thread::scope(|s| {
            let handles: Vec<_> = cuts[1..]
                .windows(2)
                .map(|w| {
                    let r = w[0]..w[1];
                    s.spawn(move || read(r))
                })
                .collect();
            self.read_part(&text[..cuts[1]], &mut other);
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(None))
                .collect()
        });
        for (w, part) in cuts[1..].windows(2).zip(others) {
            match part {
                Some(b) => self.append(b),
                None => {
                    let at = w[0];
                    self.read_part(&text[w[0]..w[1]], |r| other(r.start + at..r.end + at));
                }
            }
        }
    }

    /// The items of `b` after this builder's.
    fn append(&mut self, b: PageRefsBuilder) {
        if b.len == 0 {
            return;
        }
        self.bytes.reserve_exact(b.bytes.len());
        self.bytes.extend_from_slice(&b.bytes);
        self.max = if self.len == 0 {
            b.max
        } else {
            self.max.max(b.max)
        };
        self.len += b.len;
    }

    /// One part of a text (see [`PageRefsBuilder::read_text`]), on the calling thread.
    fn read_part(
        &mut self,
        text: &[u8],
        mut other: impl FnMut(std::ops::Range<usize>) -> (u64, bool),
    ) {
        /// Per length of the digits (1 to 3): what each of the first three digits is worth.
        const WORTH: [[u64; 3]; 4] = [[0, 0, 0], [1, 0, 0], [10, 1, 0], [100, 10, 1]];
        const ONES: u64 = 0x0101_0101_0101_0101;
        let mut out = std::mem::take(&mut self.bytes);
        let mut o = out.len();
        if out.capacity() == 0 {
            // Fresh zeroed memory costs nothing until it is written, where growing a buffer
            // would write every zero first.
            out = vec![0; text.len() / 3 * 2 + 2];
        }
        // A plain item packs into at most two thirds of its text and the separator after it
        // (two bytes for `64 ` to `99 `, one for `7 `). Room for that, written in place: the
        // text is still held, so this buffer is the parse's peak. The fast path checks its
        // room (it writes two bytes where it may keep one); the careful path, which takes every
        // other item, makes more room when it needs it.
        out.resize(o + text.len() / 3 * 2 + 2, 0);
        let (mut len, mut max) = (self.len, self.max);
        let mut i = 0;
        while i < text.len() {
            // The common items, one after another, for as long as eight bytes are left.
            while let Some(&eight) = text.get(i..).and_then(|t| t.first_chunk::<8>()) {
                let raw = u64::from_le_bytes(eight);
                // The high bit of each byte that is not a digit (no carry crosses a byte).
                let x = raw ^ (ONES * u64::from(b'0'));
                let not_digit = (((x & (ONES * 0x7f)) + ONES * 0x76) | x) & (ONES * 0x80);
                let k = (not_digit.trailing_zeros() / 8) as usize;
                // The first space (exact for the lowest one, which is all that is read). The
                // next item's start depends on this alone, not on the checks below, so the
                // loads of successive items do not wait for each other's decoding.
                let s = raw ^ (ONES * u64::from(b' '));
                let space = s.wrapping_sub(ONES) & !s & (ONES * 0x80);
                let end = (space.trailing_zeros() / 8) as usize;
                // By shifting, not indexing: an indexed byte would go through the stack.
                let suffix = (raw >> (8 * (k & 7))) as u8;
                let write = suffix == b'w';
                let suffixed = write || suffix == b'r';
                if !((1..=3).contains(&k) && end == k + usize::from(suffixed) && o + 2 <= out.len())
                {
                    break;
                }
                let w = &WORTH[k];
                let page = (x & 0xff) * w[0] + (x >> 8 & 0xff) * w[1] + (x >> 16 & 0xff) * w[2];
                let long = page >= 0x40;
                out[o] = ((page & 0x3f) << 1) as u8 | u8::from(write) | u8::from(long) << 7;
                out[o + 1] = (page >> 6) as u8;
                o += 1 + usize::from(long);
                len += 1;
                max = max.max(page);
                i += end + 1;
            }
            if i >= text.len() {
                break;
            }
            if is_separator(text[i]) {
                i += 1;
                continue;
            }
            let end = text[i..]
                .iter()
                .position(|&c| is_separator(c))
                .map_or(text.len(), |n| i + n);
            let (page, write) = read_item(&text[i..end]).unwrap_or_else(|| other(i..end));
            if out.len() < o + MAX_PACKED + 2 {
                out.resize(o + MAX_PACKED + 2 + (text.len() - end) / 3 * 2, 0);
            }
            o += pack(&mut out[o..], page, write);
            len += 1;
            max = max.max(page);
            i = end;
        }
        out.truncate(o);
        self.bytes = out;
        self.len = len;
        self.max = max;
    }

    pub fn finish(mut self) -> PageRefs {
        // Giving back the unused room moves no bytes; an `Arc<[u8]>` would copy them all.
        self.bytes.shrink_to_fit();
        PageRefs {
            bytes: Arc::new(self.bytes),
            len: self.len,
            max: (self.len > 0).then_some(self.max),
        }
    }
}

/// A text is read in parts on several cores only where each part has at least this many bytes
/// (about 90,000 items): below that, starting a thread costs more than it saves.
const PART_MIN: usize = 256 * 1024;

/// At most this many parts, whatever the number of cores.
const MAX_PARTS: usize = 8;

/// The most bytes one packed item takes (a page number of 64 bits).
const MAX_PACKED: usize = 10;

/// Appends one packed item.
fn push_packed(bytes: &mut Vec<u8>, page: u64, write: bool) {
    let mut buf = [0; MAX_PACKED];
    let n = pack(&mut buf, page, write);
    bytes.extend_from_slice(&buf[..n]);
}

/// Writes one packed item at the start of `out` (which has room for [`MAX_PACKED`] bytes): the
/// write flag, six bits of the page and a continuation bit, then seven bits a byte. Returns how
/// many bytes it took.
fn pack(out: &mut [u8], page: u64, write: bool) -> usize {
    let first = (page & 0x3f) << 1 | u64::from(write);
    let mut rest = page >> 6;
    if rest == 0 {
        out[0] = first as u8;
        return 1;
    }
    out[0] = first as u8 | 0x80;
    let mut n = 1;
    while rest >= 0x80 {
        out[n] = (rest & 0x7f) as u8 | 0x80;
        rest >>= 7;
        n += 1;
    }
    out[n] = rest as u8;
    n + 1
}

/// What separates the items of a `refs` statement's text.
#[inline]
fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\\' | b'\r' | b'\n')
}

/// A plain item: 1 to 19 decimal digits (which cannot overflow) and an optional `w` (write) or
/// `r` (read); `None` for any other text.
fn read_item(item: &[u8]) -> Option<(u64, bool)> {
    let (digits, write) = match item.split_last() {
        Some((b'w', digits)) => (digits, true),
        Some((b'r', digits)) => (digits, false),
        _ => (item, false),
    };
    if !(1..=19).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let page = digits
        .iter()
        .fold(0u64, |page, &c| page * 10 + u64::from(c - b'0'));
    Some((page, write))
}

impl PageRefs {
    /// How many references.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The largest page number, `None` for an empty string.
    pub fn max_page(&self) -> Option<u64> {
        self.max
    }
    /// Host bytes the packed items take.
    pub fn host_bytes(&self) -> usize {
        self.bytes.len()
    }
    /// The items in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            bytes: &self.bytes,
            at: 0,
        }
    }
}

impl std::fmt::Debug for PageRefs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<(u64, bool)> for PageRefs {
    fn from_iter<I: IntoIterator<Item = (u64, bool)>>(items: I) -> Self {
        let mut b = PageRefsBuilder::default();
        for (page, write) in items {
            b.push(page, write);
        }
        b.finish()
    }
}

/// The items of a [`PageRefs`], decoded as they are read.
pub struct Iter<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Iter<'_> {
    /// Decodes up to `n` more items into `out`, each as `f(page, write)`: the loop a replay's
    /// chunk is filled by, with no per-item check of `out`'s room.
    pub fn fill<T>(&mut self, out: &mut Vec<T>, n: usize, mut f: impl FnMut(u64, bool) -> T) {
        out.reserve(n);
        let bytes = self.bytes;
        let mut at = self.at;
        for _ in 0..n {
            // An item of one or two bytes (pages below 8192) from two bytes read at once, with
            // no branch on its length: a generated string mixes the two at random.
            if let Some(&[b0, b1]) = bytes.get(at..).and_then(|b| b.first_chunk::<2>()) {
                let long = b0 >> 7;
                if b1 & long << 7 == 0 {
                    let page =
                        u64::from(b0 >> 1 & 0x3f) | (u64::from(b1 & 0x7f) * u64::from(long)) << 6;
                    at += 1 + usize::from(long);
                    out.push(f(page, b0 & 1 != 0));
                    continue;
                }
            }
            let Some((page, write)) = unpack(bytes, &mut at) else {
                break;
            };
            out.push(f(page, write));
        }
        self.at = at;
    }
}

/// The packed item at `at` (moved past it): its page and whether it writes.
#[inline(always)]
fn unpack(bytes: &[u8], at: &mut usize) -> Option<(u64, bool)> {
    let b = *bytes.get(*at)?;
    *at += 1;
    let mut page = u64::from(b >> 1 & 0x3f);
    if b & 0x80 != 0 {
        let mut shift = 6;
        loop {
            let c = bytes[*at];
            *at += 1;
            page |= u64::from(c & 0x7f) << shift;
            if c & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
    }
    Some((page, b & 1 != 0))
}

impl Iterator for Iter<'_> {
    type Item = PageRef;

    #[inline]
    fn next(&mut self) -> Option<PageRef> {
        let (page, write) = unpack(self.bytes, &mut self.at)?;
        Some(PageRef { page, write })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn items_read_back_as_written(items in proptest::collection::vec((any::<u64>(), any::<bool>()), 0..200)) {
            let r: PageRefs = items.iter().copied().collect();
            prop_assert_eq!(r.len(), items.len());
            prop_assert_eq!(r.max_page(), items.iter().map(|i| i.0).max());
            let back: Vec<(u64, bool)> = r.iter().map(|x| (x.page, x.write)).collect();
            prop_assert_eq!(&back, &items);
            // In chunks, as a replay reads them, the same items in the same order.
            let mut it = r.iter();
            let mut chunks = Vec::new();
            loop {
                let before = chunks.len();
                it.fill(&mut chunks, 7, |p, w| (p, w));
                if chunks.len() == before {
                    break;
                }
            }
            prop_assert_eq!(chunks, items);
        }
    }

    proptest! {
        /// Pages of one and two bytes (where a chunk is decoded eight bytes at a time) mixed
        /// with longer ones, read back in chunks of every size, as the replay reads them.
        #[test]
        fn small_pages_read_back_in_chunks(
            items in proptest::collection::vec(
                (prop_oneof![6 => 0u64..64, 3 => 64u64..8192, 1 => 8192u64..1 << 40], any::<bool>()),
                0..300,
            ),
            chunk in 1usize..40,
        ) {
            let r: PageRefs = items.iter().copied().collect();
            let mut it = r.iter();
            let mut got = Vec::new();
            loop {
                let before = got.len();
                it.fill(&mut got, chunk, |p, w| (p, w));
                prop_assert!(got.len() - before <= chunk);
                if got.len() == before {
                    break;
                }
            }
            prop_assert_eq!(got, items);
        }
    }

    /// What [`PageRefsBuilder::read_text`] must do, written plainly.
    fn read_plainly(text: &[u8]) -> Vec<(u64, bool)> {
        let sep = |c: &u8| matches!(c, b' ' | b'\t' | b'\\' | b'\r' | b'\n');
        let mut items = Vec::new();
        let mut at = 0;
        for item in text.split(sep) {
            let (digits, write) = match item.split_last() {
                Some((b'w', d)) => (d, true),
                Some((b'r', d)) => (d, false),
                _ => (item, false),
            };
            let plain = (1..=19).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
            let page = plain.then(|| std::str::from_utf8(digits).unwrap().parse::<u64>().unwrap());
            match page {
                _ if item.is_empty() => {}
                Some(page) => items.push((page, write)),
                // Stands for what the caller's reader returns: where the item was, and its length.
                _ => items.push(((at as u64) << 8 | item.len() as u64, true)),
            }
            at += item.len() + 1;
        }
        items
    }

    proptest! {
        /// Read in parts on several threads, a text gives the same bytes as read in one, and
        /// the items left to the caller are asked for once each, in the text's order.
        #[test]
        fn parts_read_as_one(
            items in proptest::collection::vec(
                prop_oneof![8 => "[0-9]{1,3}[wr]?", 1 => "[0-9]{4,8}", 1 => "x[0-9]|_|[ \t\n]"],
                0..200,
            ),
            parts in 2usize..6,
            part_min in 1usize..40,
        ) {
            let text = items.join(" ");
            let read = |parts: usize| {
                let mut asked = Vec::new();
                let mut b = PageRefsBuilder::default();
                b.read_text_parts(text.as_bytes(), |at| {
                    asked.push(at.clone());
                    (at.start as u64, true)
                }, parts, part_min);
                let r = b.finish();
                (r.iter().map(|x| (x.page, x.write)).collect::<Vec<_>>(), r.len(), r.max_page(), r.host_bytes(), asked)
            };
            prop_assert_eq!(read(parts), read(1));
        }
    }

    proptest! {
        #[test]
        fn text_reads_as_plainly(text in "[0-9wrx_ \t\\\n]{0,80}", big in 0u64..u64::MAX) {
            let text = format!("{text} {big} {big}w");
            let mut b = PageRefsBuilder::default();
            b.read_text(text.as_bytes(), |at| (((at.start as u64) << 8) | at.len() as u64, true));
            let r = b.finish();
            let want = read_plainly(text.as_bytes());
            prop_assert_eq!(r.len(), want.len());
            prop_assert_eq!(r.max_page(), want.iter().map(|i| i.0).max());
            let got: Vec<(u64, bool)> = r.iter().map(|x| (x.page, x.write)).collect();
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        /// Mostly plain items, as a generated string has them, so that the fast path reads
        /// most of them, with now and then something it leaves to the careful path.
        #[test]
        fn plain_items_read_as_plainly(
            items in proptest::collection::vec(
                prop_oneof![
                    8 => "[0-9]{1,3}[wr]?",
                    1 => "[0-9]{4,6}[wr]?",
                    1 => "[ \\t]|x|_|[0-9]{1,2}x",
                ],
                0..120,
            ),
        ) {
            let text = items.join(" ");
            let mut b = PageRefsBuilder::default();
            b.read_text(text.as_bytes(), |at| (((at.start as u64) << 8) | at.len() as u64, true));
            let r = b.finish();
            let want = read_plainly(text.as_bytes());
            prop_assert_eq!(r.max_page(), want.iter().map(|i| i.0).max());
            let got: Vec<(u64, bool)> = r.iter().map(|x| (x.page, x.write)).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn small_pages_take_a_byte() {
        let r: PageRefs = (0..64).map(|p| (p, p % 2 == 0)).collect();
        assert_eq!(r.host_bytes(), 64);
        let r: PageRefs = [(8191, true), (u64::MAX, false)].into_iter().collect();
        assert_eq!(r.host_bytes(), 2 + 10);
    }
}

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
    /// (which cannot overflow) and an optional `w` (write) or `r` (read), is packed here without a
    /// branch per digit and without allocating; any other item is handed to `other` with its byte
    /// range in `text`, which returns what to pack for it (and reports it when it is wrong), so
    /// that a span is only ever made for such an item.
    pub(super) fn read_text(
        &mut self,
        text: &[u8],
        mut other: impl FnMut(std::ops::Range<usize>) -> (u64, bool),
    ) {
        // A packed item never takes more bytes than its text: no growth while reading.
        self.bytes.reserve(text.len());
        for item in text.split(|&c| matches!(c, b' ' | b'\t' | b'\\' | b'\r' | b'\n')) {
            let (digits, write) = match item.split_last() {
                None => continue,
                Some((b'w', digits)) => (digits, true),
                Some((b'r', digits)) => (digits, false),
                Some(_) => (item, false),
            };
            if (1..=19).contains(&digits.len()) {
                let mut page: u64 = 0;
                let mut decimal = true;
                for &c in digits {
                    let d = c.wrapping_sub(b'0');
                    decimal &= d < 10;
                    page = page.wrapping_mul(10).wrapping_add(u64::from(d));
                }
                if decimal {
                    self.push(page, write);
                    continue;
                }
            }
            let from = item.as_ptr() as usize - text.as_ptr() as usize;
            let (page, write) = other(from..from + item.len());
            self.push(page, write);
        }
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

/// Appends one packed item: the write flag, six bits of the page and a continuation bit, then
/// seven bits a byte.
fn push_packed(bytes: &mut Vec<u8>, page: u64, write: bool) {
    let first = (page & 0x3f) << 1 | u64::from(write);
    let mut rest = page >> 6;
    if rest == 0 {
        bytes.push(first as u8);
        return;
    }
    bytes.push(first as u8 | 0x80);
    while rest >= 0x80 {
        bytes.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    bytes.push(rest as u8);
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

impl Iterator for Iter<'_> {
    type Item = PageRef;

    #[inline]
    fn next(&mut self) -> Option<PageRef> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        let write = b & 1 != 0;
        let mut page = u64::from(b >> 1 & 0x3f);
        if b & 0x80 != 0 {
            let mut shift = 6;
            loop {
                let c = self.bytes[self.at];
                self.at += 1;
                page |= u64::from(c & 0x7f) << shift;
                if c & 0x80 == 0 {
                    break;
                }
                shift += 7;
            }
        }
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
            prop_assert_eq!(back, items);
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

    #[test]
    fn small_pages_take_a_byte() {
        let r: PageRefs = (0..64).map(|p| (p, p % 2 == 0)).collect();
        assert_eq!(r.host_bytes(), 64);
        let r: PageRefs = [(8191, true), (u64::MAX, false)].into_iter().collect();
        assert_eq!(r.host_bytes(), 2 + 10);
    }
}

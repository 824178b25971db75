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
    max: Option<u64>,
}

impl PageRefsBuilder {
    /// Room for about `n` items of small page numbers.
    pub fn with_capacity(n: usize) -> Self {
        PageRefsBuilder {
            bytes: Vec::with_capacity(n),
            len: 0,
            max: None,
        }
    }

    #[inline]
    pub fn push(&mut self, page: u64, write: bool) {
        self.len += 1;
        self.max = Some(self.max.map_or(page, |m| m.max(page)));
        let first = (page & 0x3f) << 1 | u64::from(write);
        let mut rest = page >> 6;
        if rest == 0 {
            self.bytes.push(first as u8);
            return;
        }
        self.bytes.push(first as u8 | 0x80);
        while rest >= 0x80 {
            self.bytes.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        self.bytes.push(rest as u8);
    }

    pub fn finish(mut self) -> PageRefs {
        // Giving back the unused room moves no bytes; an `Arc<[u8]>` would copy them all.
        self.bytes.shrink_to_fit();
        PageRefs {
            bytes: Arc::new(self.bytes),
            len: self.len,
            max: self.max,
        }
    }
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

    #[test]
    fn small_pages_take_a_byte() {
        let r: PageRefs = (0..64).map(|p| (p, p % 2 == 0)).collect();
        assert_eq!(r.host_bytes(), 64);
        let r: PageRefs = [(8191, true), (u64::MAX, false)].into_iter().collect();
        assert_eq!(r.host_bytes(), 2 + 10);
    }
}

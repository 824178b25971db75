//! Long `refs` texts kept from pest: the parser sees a stand-in, the lowering step reads the
//! references themselves from the source.
//!
//! pest makes a line index of everything it parsed, a character at a time, and scans a `refs`
//! token once more to find its end: on a file of a million references that is most of the
//! parse. Neither is needed for a run of plain references, which is one token of the grammar
//! whatever its length. So before pest sees a chunk, each long run of such text after `refs`
//! (digits, `w`, `r`, spaces, tabs and whole line continuations, ending on an item) is cut out,
//! its first item kept: `refs 2 15 15 6` reaches pest as `refs 2`. Nothing that can end or
//! change a token is removed, so the parse of the rest is the parse of the original, and every
//! position past a cut is mapped back by [`Elided::orig`].
//!
//! A cut is only trusted if the parse made it part of a `refs` token that starts at the item
//! kept ([`Elided::cover`]); a run that sat in a comment or a string fails that check, and the
//! chunk is parsed again whole. Property test `elided_parses_are_the_plain_ones`.

/// The shortest run worth cutting: below it, pest's scans take microseconds.
pub(super) const MIN_RUN: usize = 1 << 16;

/// A chunk with its long reference runs cut out.
pub(super) struct Elided {
    /// The text pest parses.
    pub(super) text: String,
    cuts: Vec<Cut>,
}

struct Cut {
    /// Where the item kept starts, in [`Elided::text`].
    first: usize,
    /// Where the text was cut, in [`Elided::text`] (just after the item kept).
    at: usize,
    /// How much was cut here and at every cut before.
    shift: usize,
    /// Whether a `refs` token starting at `first` was lowered.
    covered: std::cell::Cell<bool>,
}

/// `src` with every run of at least `min` bytes of plain references cut, or `None` if it has
/// none.
pub(super) fn elide(src: &str, min: usize) -> Option<Elided> {
    let b = src.as_bytes();
    let mut runs = Vec::new();
    let mut from = 0;
    for kw in memchr::memmem::Finder::new(b"refs").find_iter(b) {
        if kw < from {
            continue;
        }
        from = kw + 4;
        let word_start = kw == 0 || !is_ident(b[kw - 1]);
        if !word_start || !matches!(b.get(from), Some(b' ' | b'\t')) {
            continue;
        }
        let mut i = from;
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        let first = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == first {
            continue;
        }
        if matches!(b.get(i), Some(b'w' | b'r')) {
            i += 1;
        }
        let cut = i;
        let end = run_end(b, cut);
        from = from.max(end);
        if end - cut >= min {
            runs.push((first, cut, end));
        }
    }
    if runs.is_empty() {
        return None;
    }
    let mut text = String::with_capacity(src.len() - runs.iter().map(|r| r.2 - r.1).sum::<usize>());
    let mut cuts = Vec::with_capacity(runs.len());
    let (mut last, mut shift) = (0, 0);
    for (first, cut, end) in runs {
        text.push_str(&src[last..cut]);
        shift += end - cut;
        cuts.push(Cut {
            first: first + text.len() - cut,
            at: text.len(),
            shift,
            covered: std::cell::Cell::new(false),
        });
        last = end;
    }
    text.push_str(&src[last..]);
    Some(Elided { text, cuts })
}

/// The end of the run of plain reference text from `i`: after its last digit, `w` or `r`, so
/// that neither a space nor a line continuation is cut from the end of a run (the text after a
/// cut then starts as it did in the source, and a continuation still continues).
fn run_end(b: &[u8], start: usize) -> usize {
    let mut i = start;
    loop {
        // 64 bytes at a time while they are all digits, `w`, `r`, spaces or tabs (a test the
        // compiler makes a few vector instructions), then a byte at a time.
        while let Some(block) = b.get(i..i + 64) {
            if block
                .iter()
                .fold(0u8, |bad, &c| bad | u8::from(!is_plain(c)))
                != 0
            {
                break;
            }
            i += 64;
        }
        match b.get(i) {
            Some(&c) if is_plain(c) => i += 1,
            Some(b'\\') => match (b.get(i + 1), b.get(i + 2)) {
                (Some(b'\n'), _) => i += 2,
                (Some(b'\r'), Some(b'\n')) => i += 3,
                _ => break,
            },
            _ => break,
        }
    }
    // Back over the spaces and continuations that end the run.
    while i > start {
        match b[i - 1] {
            b' ' | b'\t' => i -= 1,
            b'\n' if b[i - 2] == b'\r' => i -= 3,
            b'\n' => i -= 2,
            _ => break,
        }
    }
    i
}

/// A byte of a plain reference, or a space between two.
#[inline(always)]
fn is_plain(c: u8) -> bool {
    c.is_ascii_digit() | (c == b' ') | (c == b'\t') | (c == b'w') | (c == b'r')
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Elided {
    /// The source position of position `m` of the text parsed.
    pub(super) fn orig(&self, m: usize) -> usize {
        match self.cuts.partition_point(|c| c.at <= m) {
            0 => m,
            k => m + self.cuts[k - 1].shift,
        }
    }

    /// A `refs` token spans `start..end` of the text parsed: the cuts in it whose kept item
    /// starts it are sound.
    pub(super) fn cover(&self, start: usize, end: usize) {
        let k = self.cuts.partition_point(|c| c.first < start);
        for c in self.cuts[k..].iter().take_while(|c| c.at <= end) {
            if c.first == start {
                c.covered.set(true);
            }
        }
    }

    /// Whether every cut was inside a `refs` token, starting at the item kept.
    pub(super) fn all_covered(&self) -> bool {
        self.cuts.iter().all(|c| c.covered.get())
    }
}

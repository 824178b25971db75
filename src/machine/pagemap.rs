//! Maps keyed by page number, hashed with one multiplication: the page cache's index and a
//! replay's future (OPT) use them.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a page number with one multiplication (Fibonacci hashing). Page numbers are not
/// chosen by an adversary and no output depends on a map's order, so SipHash's protection buys
/// nothing here, and it was most of OPT's set-up time.
#[derive(Default)]
pub struct PageHasher(u64);

impl Hasher for PageHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by page number.
pub type PageMap<V> = HashMap<u64, V, BuildHasherDefault<PageHasher>>;

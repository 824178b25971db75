//! Virtual memory areas: the mappings of one address space, as `/proc/PID/maps` lists them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::machine::pagetable::pte;

/// `rwx` permission bits of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms {
    pub r: bool,
    pub w: bool,
    pub x: bool,
}

impl Perms {
    pub const RW: Perms = Perms {
        r: true,
        w: true,
        x: false,
    };
    pub const R: Perms = Perms {
        r: true,
        w: false,
        x: false,
    };
    pub const RX: Perms = Perms {
        r: true,
        w: false,
        x: true,
    };
    pub const X: Perms = Perms {
        r: false,
        w: false,
        x: true,
    };
    pub const NONE: Perms = Perms {
        r: false,
        w: false,
        x: false,
    };
    /// The page-table bits these permissions allow (write only where the page may be written
    /// now; copy-on-write pages drop it).
    pub fn pte_bits(self) -> u64 {
        let mut b = 0;
        if self.r {
            b |= pte::READ;
        }
        if self.w {
            b |= pte::WRITE | pte::READ;
        }
        if self.x {
            b |= pte::EXEC | pte::READ;
        }
        b
    }
    /// `rw-` style.
    pub fn rwx(self) -> String {
        format!(
            "{}{}{}",
            if self.r { 'r' } else { '-' },
            if self.w { 'w' } else { '-' },
            if self.x { 'x' } else { '-' }
        )
    }
}

/// What backs a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// Demand-zero memory.
    Anon,
    /// A file: `file` indexes the OS's file table, `offset` is where the mapping starts in it.
    File { file: u32, offset: u64 },
}

/// What role a mapping plays, for messages ("past the end of the heap") and for the rules that
/// differ (the stack grows, the heap moves with brk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Elf,
    Text,
    Rodata,
    Relro,
    Data,
    Bss,
    Heap,
    Stack,
    ThreadStack,
    Guard,
    Lib,
    Mmap,
    Special,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub perms: Perms,
    pub shared: bool,
    pub backing: Backing,
    pub role: Role,
    /// The path or `[heap]` / `[stack]` name shown in maps; empty for anonymous memory. Shared,
    /// so that the fault handler's copy of a mapping allocates nothing.
    pub name: Arc<str>,
}

impl Vma {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
    pub fn contains(&self, a: u64) -> bool {
        self.start <= a && a < self.end
    }
    /// Human name for messages: `[heap]`, `text`, `libc.so.6`, `anonymous mapping`.
    pub fn describe(&self) -> String {
        match self.role {
            Role::Heap => "the heap".into(),
            Role::Stack => "the stack".into(),
            Role::ThreadStack => format!("the thread stack {}", self.name),
            Role::Text => "the text segment".into(),
            Role::Rodata => "read-only data".into(),
            Role::Relro => "relocation read-only data".into(),
            Role::Elf => "the ELF headers".into(),
            Role::Data => "the data segment".into(),
            Role::Bss => "bss".into(),
            Role::Guard => "a guard page".into(),
            _ if !self.name.is_empty() => self.name.to_string(),
            _ => "an anonymous mapping".into(),
        }
    }
    /// Could this mapping absorb `other` placed right after it (as Linux merges VMAs)?
    fn mergeable(&self, other: &Vma) -> bool {
        // Anonymous memory merges like Linux's vma_merge: same permissions, no name. Mapped
        // files merge only when the program mapped them itself; a loaded library's segments
        // stay apart (the loader mprotects its relro part, which gives it its own VMA).
        let anon_role = |r: Role| matches!(r, Role::Mmap | Role::Lib);
        self.end == other.start
            && self.perms == other.perms
            && self.shared == other.shared
            && self.name == other.name
            && match (&self.backing, &other.backing) {
                (Backing::Anon, Backing::Anon) => {
                    self.role == other.role || (anon_role(self.role) && anon_role(other.role))
                }
                (Backing::File { file: a, offset: o }, Backing::File { file: b, offset: p }) => {
                    self.role == Role::Mmap
                        && other.role == Role::Mmap
                        && a == b
                        && o + self.len() == *p
                }
                _ => false,
            }
    }
}

/// The mappings of one address space, keyed by start address; never overlapping.
#[derive(Clone, Default)]
pub struct VmaSet {
    map: BTreeMap<u64, Vma>,
    /// Names these contents: every change takes a number no set has had, and a copy keeps
    /// its original's, so equal stamps mean equal mappings (what lets the fault path remember
    /// a lookup). Never shown.
    stamp: u64,
}

impl std::fmt::Debug for VmaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VmaSet").field("map", &self.map).finish()
    }
}

/// The next stamp of a changed [`VmaSet`] (0 is an empty set's, never handed out).
fn next_stamp() -> u64 {
    static STAMPS: AtomicU64 = AtomicU64::new(1);
    STAMPS.fetch_add(1, Ordering::Relaxed)
}

impl VmaSet {
    /// What names these contents: equal stamps, equal mappings.
    #[inline]
    pub fn stamp(&self) -> u64 {
        self.stamp
    }

    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.map.values()
    }

    /// How many mappings there are.
    pub fn count(&self) -> usize {
        self.map.len()
    }

    /// The mapping containing `a`.
    #[inline]
    pub fn find(&self, a: u64) -> Option<&Vma> {
        self.map
            .range(..=a)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.contains(a))
    }

    /// The mapping right below `a` (ending at or before it) and the one right above it.
    pub fn neighbours(&self, a: u64) -> (Option<&Vma>, Option<&Vma>) {
        let below = self.map.range(..=a).next_back().map(|(_, v)| v);
        let above = self.map.range(a.saturating_add(1)..).next().map(|(_, v)| v);
        (below.filter(|v| v.end <= a), above)
    }

    /// Whether `[start, end)` touches no mapping.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        match self.map.range(..end).next_back() {
            Some((_, v)) => v.end <= start,
            None => true,
        }
    }

    /// Adds a mapping over free space, merging with compatible neighbours.
    pub fn insert(&mut self, vma: Vma) {
        self.stamp = next_stamp();
        debug_assert!(self.is_free(vma.start, vma.end));
        let mut vma = vma;
        if let Some((_, prev)) = self.map.range(..vma.start).next_back() {
            if prev.mergeable(&vma) {
                let start = prev.start;
                let prev = self.map.remove(&start).expect("present");
                vma.start = prev.start;
                vma.backing = prev.backing;
            }
        }
        if let Some(next) = self.map.get(&vma.end) {
            if vma.mergeable(next) {
                let next = self.map.remove(&vma.end).expect("present");
                vma.end = next.end;
            }
        }
        self.map.insert(vma.start, vma);
    }

    /// Removes `[start, end)` from every mapping, splitting where needed; returns the pieces
    /// removed.
    pub fn remove_range(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.stamp = next_stamp();
        let keys: Vec<u64> = self
            .map
            .range(..end)
            .rev()
            .take_while(|(_, v)| v.end > start)
            .map(|(k, _)| *k)
            .collect();
        let mut removed = Vec::new();
        for k in keys.into_iter().rev() {
            let v = self.map.remove(&k).expect("present");
            if v.end <= start || v.start >= end {
                self.map.insert(k, v);
                continue;
            }
            let cut_start = v.start.max(start);
            let cut_end = v.end.min(end);
            if v.start < cut_start {
                let mut left = v.clone();
                left.end = cut_start;
                self.map.insert(left.start, left);
            }
            if cut_end < v.end {
                let mut right = v.clone();
                right.start = cut_end;
                if let Backing::File { file, offset } = v.backing {
                    right.backing = Backing::File {
                        file,
                        offset: offset + (cut_end - v.start),
                    };
                }
                self.map.insert(right.start, right);
            }
            let mut mid = v.clone();
            mid.start = cut_start;
            mid.end = cut_end;
            if let Backing::File { file, offset } = v.backing {
                mid.backing = Backing::File {
                    file,
                    offset: offset + (cut_start - v.start),
                };
            }
            removed.push(mid);
        }
        removed
    }

    /// Changes the extent of the mapping starting at `start` (brk and stack growth).
    pub fn resize(&mut self, start: u64, new_start: u64, new_end: u64) {
        self.stamp = next_stamp();
        if let Some(mut v) = self.map.remove(&start) {
            v.start = new_start;
            v.end = new_end;
            self.map.insert(new_start, v);
        }
    }

    pub fn find_role(&self, role: Role) -> Option<&Vma> {
        self.map.values().find(|v| v.role == role)
    }

    /// The highest free gap of `len` bytes whose end is at most `below` (Linux's top-down
    /// mmap search), not lower than `floor`.
    pub fn top_down_gap(&self, len: u64, below: u64, floor: u64) -> Option<u64> {
        let mut ceiling = below;
        for v in self.map.range(..below).rev().map(|(_, v)| v) {
            if v.end <= ceiling && ceiling - v.end >= len {
                return Some(ceiling - len);
            }
            ceiling = ceiling.min(v.start);
        }
        (ceiling >= floor.saturating_add(len)).then(|| ceiling - len)
    }

    /// The lowest free gap of `len` bytes starting at or above `from` and ending by `limit`.
    pub fn lowest_gap(&self, len: u64, from: u64, limit: u64) -> Option<u64> {
        let mut start = from;
        if let Some(v) = self.find(from) {
            start = v.end;
        }
        for v in self.map.range(start..).map(|(_, v)| v) {
            if v.start >= start.checked_add(len)? {
                break;
            }
            start = start.max(v.end);
        }
        (start.checked_add(len)? <= limit).then_some(start)
    }

    pub fn total(&self) -> u64 {
        self.map.values().map(Vma::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anon(start: u64, end: u64) -> Vma {
        Vma {
            start,
            end,
            perms: Perms::RW,
            shared: false,
            backing: Backing::Anon,
            role: Role::Mmap,
            name: "".into(),
        }
    }

    #[test]
    fn adjacent_anonymous_mappings_merge_and_split_again() {
        let mut s = VmaSet::default();
        s.insert(anon(0x2000, 0x3000));
        s.insert(anon(0x1000, 0x2000));
        assert_eq!(s.iter().count(), 1);
        let cut = s.remove_range(0x1800, 0x2000);
        assert_eq!(cut.len(), 1);
        let v: Vec<(u64, u64)> = s.iter().map(|v| (v.start, v.end)).collect();
        assert_eq!(v, vec![(0x1000, 0x1800), (0x2000, 0x3000)]);
    }

    #[test]
    fn top_down_finds_the_highest_gap() {
        let mut s = VmaSet::default();
        s.insert(anon(0x9000, 0xa000));
        s.insert(Vma {
            perms: Perms::R,
            ..anon(0x5000, 0x8000)
        });
        assert_eq!(s.top_down_gap(0x1000, 0xa000, 0), Some(0x8000));
        assert_eq!(s.top_down_gap(0x2000, 0xa000, 0), Some(0x3000));
        assert_eq!(s.top_down_gap(0x6000, 0xa000, 0), None);
    }
}

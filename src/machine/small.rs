//! OSTEP's small two-level machine (`paging-multilevel-translate.py`): 32-byte pages, a 15-bit
//! virtual address (5 bits of page-directory index, 5 of page-table index, 5 of offset), 128
//! pages of physical memory, and 1-byte entries (a valid bit over a 7-bit page number). Its
//! tables live in physical memory as bytes, so a walk reads them there.

use crate::events::SmallEntry;

use super::Mmu;

/// Bytes per page.
pub const PAGE: u64 = 32;
/// Bits of the offset, and of each level's index: a table of 1-byte entries fills one page.
pub const BITS: u32 = 5;
/// Bits of a virtual address.
pub const VA_BITS: u32 = 3 * BITS;
/// Pages of physical memory a 7-bit page number reaches.
pub const PAGES: u64 = 128;
/// An entry's valid bit; the bits below it are a page number.
pub const VALID: u8 = 0x80;

/// What a walk read and where it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallWalk {
    /// The directory entry, then (if that was valid) the table entry.
    pub levels: Vec<SmallEntry>,
    /// The physical address, when both entries were valid.
    pub paddr: Option<u64>,
    /// The byte at that address.
    pub value: Option<u8>,
}

impl Mmu {
    /// Walks the tables from the page directory in page `pdbr`. An address past the 15-bit space
    /// reads nothing: the walk has no level and no address.
    pub fn small_walk(&self, pdbr: u64, vaddr: u64) -> SmallWalk {
        let mut walk = SmallWalk {
            levels: Vec::with_capacity(2),
            paddr: None,
            value: None,
        };
        if vaddr >> VA_BITS != 0 {
            return walk;
        }
        let mask = (1u64 << BITS) - 1;
        let indices = [vaddr >> (2 * BITS), (vaddr >> BITS) & mask];
        let mut table = pdbr;
        for index in indices {
            let addr = table * PAGE + index;
            let entry = self.load_phys(addr, 1) as u8;
            walk.levels.push(SmallEntry {
                table,
                index,
                addr,
                entry,
            });
            if entry & VALID == 0 {
                return walk;
            }
            table = u64::from(entry & !VALID);
        }
        let paddr = table * PAGE + (vaddr & mask);
        walk.paddr = Some(paddr);
        walk.value = Some(self.load_phys(paddr, 1) as u8);
        walk
    }
}

/// A valid entry of the page directory, and the valid entries of the page table it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmallTable {
    /// The directory entry: its index and the byte read.
    pub index: u64,
    pub entry: u8,
    /// The page that holds the table.
    pub page: u64,
    /// The table's valid entries in index order: (index, entry); the page is `entry & !VALID`.
    pub entries: Vec<(u64, u8)>,
}

impl Mmu {
    /// Everything a walk from page `pdbr` could reach: each valid directory entry in index
    /// order with its table's valid entries, read from physical memory as [`Mmu::small_walk`]
    /// reads it. Invalid entries are left out, as the simulator's answer leaves them out.
    pub fn small_tables(&self, pdbr: u64) -> Vec<SmallTable> {
        let per_table = 1u64 << BITS;
        let byte = |addr: u64| self.load_phys(addr, 1) as u8;
        (0..per_table)
            .filter_map(|index| {
                let entry = byte(pdbr * PAGE + index);
                (entry & VALID != 0).then(|| {
                    let page = u64::from(entry & !VALID);
                    SmallTable {
                        index,
                        entry,
                        page,
                        entries: (0..per_table)
                            .map(|i| (i, byte(page * PAGE + i)))
                            .filter(|&(_, e)| e & VALID != 0)
                            .collect(),
                    }
                })
            })
            .collect()
    }
}

/// A line of a dump that is not a page of memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpError {
    /// From 1.
    pub line: usize,
    pub reason: String,
}

/// The pages of a memory dump as `paging-multilevel-translate.py` prints them: each line
/// `page N:` followed by the page's bytes in hex, two digits a byte, spaced or not. Every other
/// line is skipped, so the simulator's whole output can be read as it is. Every page must have
/// as many bytes as the first.
pub fn parse_dump(text: &str) -> Result<Vec<(u64, Vec<u8>)>, DumpError> {
    let mut pages = Vec::new();
    let mut size = None;
    for (i, raw) in text.lines().enumerate() {
        let fail = |reason: String| DumpError {
            line: i + 1,
            reason,
        };
        let Some(rest) = raw.trim_start().strip_prefix("page") else {
            continue;
        };
        let Some((num, bytes)) = rest.split_once(':') else {
            continue;
        };
        let num = num.trim();
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let page: u64 = num
            .parse()
            .map_err(|_| fail(format!("page number {num} is too large")))?;
        let digits: Vec<u8> = bytes.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if let Some(bad) = digits.iter().find(|b| !b.is_ascii_hexdigit()) {
            return Err(fail(format!(
                "`{}` is not a hex digit: a page is written as bytes such as `7f 08 1c`",
                char::from(*bad)
            )));
        }
        if !digits.len().is_multiple_of(2) {
            return Err(fail(
                "an odd number of hex digits: each byte has two".into(),
            ));
        }
        let data: Vec<u8> = digits
            .chunks(2)
            .map(|d| (hex(d[0]) << 4) | hex(d[1]))
            .collect();
        match size {
            None if data.is_empty() => return Err(fail(format!("page {page} has no bytes"))),
            None => size = Some(data.len()),
            Some(n) if n != data.len() => {
                return Err(fail(format!(
                    "page {page} has {} bytes, the first page {n}: every page has the same size",
                    data.len()
                )))
            }
            Some(_) => {}
        }
        pages.push((page, data));
    }
    Ok(pages)
}

fn hex(d: u8) -> u8 {
    match d {
        b'0'..=b'9' => d - b'0',
        b'a'..=b'f' => d - b'a' + 10,
        _ => d - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Conventions;
    use crate::machine::MachineConfig;

    #[test]
    fn a_dump_reads_spaced_and_packed_pages_and_skips_other_lines() {
        let text = "ARG seed 0\npage   0:0a0b\npage 1: 7f 80\n\nPDBR: 1\n";
        let pages = parse_dump(text).unwrap();
        assert_eq!(pages, vec![(0, vec![0x0a, 0x0b]), (1, vec![0x7f, 0x80])]);
    }

    #[test]
    fn a_bad_page_line_names_its_line() {
        let e = parse_dump("page 0: 0a0b\npage 1: 0a\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse_dump("page 0: zz\n").is_err());
        assert!(parse_dump("page 0: abc\n").is_err());
    }

    #[test]
    fn a_walk_reads_the_directory_then_the_table() {
        let mut cfg = MachineConfig::default_x86_64();
        cfg.memory = 1 << 20;
        let mut m = Mmu::new(&cfg, 0, Conventions::Textbook);
        // Directory in page 3: entry 1 -> table in page 5; its entry 2 -> frame 9.
        m.write_phys(3 * PAGE + 1, &[VALID | 5]);
        m.write_phys(5 * PAGE + 2, &[VALID | 9]);
        m.write_phys(9 * PAGE + 7, &[0x42]);
        let va = (1 << 10) | (2 << 5) | 7;
        let w = m.small_walk(3, va);
        assert_eq!(w.paddr, Some(9 * PAGE + 7));
        assert_eq!(w.value, Some(0x42));
        assert_eq!(w.levels.len(), 2);
        let w = m.small_walk(3, 2 << 10);
        assert_eq!((w.levels.len(), w.paddr), (1, None));
        let w = m.small_walk(3, (1 << 10) | (3 << 5));
        assert_eq!((w.levels.len(), w.paddr), (2, None));
        assert!(m.small_walk(3, 1 << 15).levels.is_empty());
        // The tables hold what the walks read: one directory entry, one table entry.
        let tables = m.small_tables(3);
        assert_eq!(
            tables,
            vec![SmallTable {
                index: 1,
                entry: VALID | 5,
                page: 5,
                entries: vec![(2, VALID | 9)],
            }]
        );
        assert!(m.small_tables(9).is_empty(), "0x42 has no valid bit");
    }
}

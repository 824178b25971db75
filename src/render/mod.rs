//! Renderers: they read events, snapshots and results, never the machine. Text for terminals,
//! HTML tables and SVG pictures for notebooks and `--format html`, JSON/YAML reports for tools.

pub mod diag;
pub mod html;
pub mod mime;
pub mod report;
pub mod report_items;
pub mod style;
pub mod svg;
pub mod text;

/// A size in a `show smaps` row: in kB as Linux prints it, or in bytes on a machine whose pages
/// are smaller than 1 KiB, where kB would round most sizes to 0. One unit for the whole table.
fn smaps_size(b: u64, page_size: u64) -> String {
    if page_size >= 1024 {
        format!("{} kB", b / 1024)
    } else {
        format!("{b} B")
    }
}

/// The columns of `show smaps`, as /proc/PID/smaps names its fields.
const SMAPS_COLUMNS: [&str; 12] = [
    "mapping",
    "perms",
    "name",
    "Size",
    "Rss",
    "Pss",
    "Shared",
    "Private_Clean",
    "Private_Dirty",
    "Anonymous",
    "KernelPageSize",
    "MMUPageSize",
];

/// The columns of `show pagetable` on OSTEP's small two-level machine: one row per valid
/// page-table entry, with the directory entry above it repeated, so that each row reads alone.
const DIRECTORY_COLUMNS: [&str; 8] = [
    "pde", "entry", "table", "pte", "entry", "page", "virtual", "physical",
];

/// The caption above that table.
fn directory_caption(d: &crate::session::snapshot::DirectorySnap) -> String {
    let per = 1u64 << crate::machine::small::BITS;
    let mapped: usize = d.tables.iter().map(|t| t.entries.len()).sum();
    format!(
        "page directory in page {} (pdbr): {} of {per} entries valid, {} mapped",
        d.pdbr,
        d.tables.len(),
        crate::units::count(mapped as u64, "page")
    )
}

/// The rows of that table. A valid directory entry whose table has no valid entry still gets a
/// row: the reader sees that the walk reaches the table and stops there.
fn directory_rows(d: &crate::session::snapshot::DirectorySnap) -> Vec<[String; 8]> {
    use crate::machine::small::{BITS, PAGE, VALID};
    let range =
        |lo: u64, len: u64, digits: usize| format!("{lo:#0digits$x}-{:#0digits$x}", lo + len - 1);
    let mut rows = Vec::new();
    for t in &d.tables {
        let pde = [
            t.index.to_string(),
            format!("{:#04x}", t.entry),
            t.page.to_string(),
        ];
        let base = t.index << (2 * BITS);
        if t.entries.is_empty() {
            let [a, b, c] = pde.clone();
            rows.push([
                a,
                b,
                c,
                "-".into(),
                "-".into(),
                "-".into(),
                range(base, 1 << (2 * BITS), 6),
                "no valid entry".into(),
            ]);
        }
        for &(i, e) in &t.entries {
            let page = u64::from(e & !VALID);
            let [a, b, c] = pde.clone();
            rows.push([
                a,
                b,
                c,
                i.to_string(),
                format!("{e:#04x}"),
                page.to_string(),
                range(base | (i << BITS), PAGE, 6),
                range(page * PAGE, PAGE, 5),
            ]);
        }
    }
    rows
}

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

//! Renderers: they read events, snapshots and results, never the machine. Text for terminals,
//! HTML tables and SVG pictures for notebooks and `--format html`, JSON/YAML reports for tools.

pub mod diag;
pub mod html;
pub mod report;
pub mod report_items;
pub mod style;
pub mod svg;
pub mod text;

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

//! Renderers: they read events, snapshots and results, never the machine. Text for terminals,
//! JSON/YAML reports for tools.

pub mod diag;
pub mod html;
pub mod report;
pub mod svg;
pub mod text;

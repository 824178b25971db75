//! Diagnostics: one `thiserror` + `miette::Diagnostic` enum per stage, with stable codes.

pub mod check;
pub mod heap;
pub mod io;
#[cfg(feature = "kernel")]
pub mod kernel;
pub mod machine;
pub mod parse;
pub mod run;

//! Diagnostics: one `thiserror` + `miette::Diagnostic` enum per stage, with stable codes.

pub mod machine;
pub mod parse;
pub mod check;
pub mod run;

//! The `.mem` parser: pest grammar in, owned AST with spans out. No pest type leaves this module.

pub mod ast;

pub use ast::*;

//! memsim: a small language for memory-management scenarios, run against a simulated MMU.
//!
//! The layers, top to bottom (arrows only point down): [`syntax`] parses a chunk of `.mem`
//! source into an owned AST, [`check`] finds every static error at once, [`session`] interprets
//! checked chunks against one simulated world made of [`os`], [`heap`] and [`machine`], and
//! reports what happened as [`events`], which [`render`] turns into text, tables or JSON.

pub mod check;
pub mod diag;
pub mod events;
pub mod files;
pub mod heap;
pub mod ide;
pub mod machine;
pub mod os;
pub mod profile;
pub mod render;
pub mod session;
pub mod source;
pub mod syntax;
pub mod units;
pub mod words;

pub use session::{ChunkResult, Options, Session};
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "kernel")]
pub mod kernel;
pub mod repl;
pub mod suggest;

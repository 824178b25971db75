//! Language services for every front end: completion and hints, `:help` and inspection text,
//! highlighting, whether an input is complete, and a description of the machine.
//!
//! Nothing here knows a terminal or a wire protocol: the REPL's line editor and the Jupyter
//! kernel both call these functions and present the answers their own way. Every word they
//! offer comes from the vocabulary's tables ([`crate::words`]).

pub mod codes;
pub mod command;
pub mod complete;
pub mod help;
pub mod input;

pub use command::{Command, CommandInfo, COMMANDS};
pub use complete::{complete, hint};
pub use input::{highlight, is_complete, needs_more, open_brackets};

use crate::render::text;

/// What `:machine` prints: the current machine's settings, with what follows from them (the
/// same table as `show machine`).
pub fn describe_machine(c: &crate::config::ScenarioConfig) -> String {
    text::snapshot(&crate::session::Snapshot::Machine {
        rows: crate::session::snapshot::machine_rows(c),
    })
}

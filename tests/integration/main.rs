//! The integration tests: one binary (as casey/just does), with a small builder for the CLI.

mod cases;
mod cli;
mod compiled;
mod examples;
#[cfg(feature = "kernel")]
mod kernel;
mod os_props;
mod props;
mod repl;
mod test;

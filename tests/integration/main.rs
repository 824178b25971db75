//! The integration tests: one binary (as casey/just does), with a small builder for the CLI.

mod cases;
mod cli;
mod compiled;
mod docs;
mod examples;
#[cfg(feature = "kernel")]
mod kernel;
mod layout_props;
mod limits;
mod os_props;
mod profiles;
mod progress;
mod props;
mod render;
mod repl;
mod robustness;
mod test;
mod values_props;

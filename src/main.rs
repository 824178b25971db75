//! The `memsim` binary: all of it lives in the library's `cli` module.

fn main() {
    std::process::exit(memsim::cli::main());
}

//! The `rust` Jupyter kernel (evcxr_jupyter), built in this workspace so that it shares the
//! runner's rust-analyzer crates instead of building them a second time.

fn main() {
    if let Err(error) = evcxr_jupyter::main() {
        eprintln!("evcxr_jupyter: {error:#}");
        std::process::exit(1);
    }
}

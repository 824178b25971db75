//! Criterion benchmarks of the engine: parsing and the MMU hot path.
fn main() {}

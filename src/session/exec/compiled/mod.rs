//! Loops compiled once into a flat register program: an iteration of `p[i & 16383] = i` is a
//! handful of dispatches on small instructions instead of a walk over boxed expression trees.
//!
//! Only what can be compiled exactly is: variables, constants, arithmetic, casts, loads,
//! stores, `if`, and nested `for` / `repeat`. A loop holding anything else (a call, `expect`,
//! `print`, `none`, ...) runs on the tree walker, as does a loop too short to pay for compiling.
//!
//! Registers hold bits only. Types matter at run time in two places: a `none` operand (never
//! compiled: a loop reading a variable that holds `none` is not compiled, and no compiled
//! statement can store `none`) and the type a `let` stores, which is written to the session's
//! variables as the tree walker would, skipped where the compiler can tell it is unchanged
//! (the tree walker runs a loop's first iteration, so a `let` in the body has its type by the
//! time the rest is compiled).
//!
//! `ops.rs` is the instruction set, `compile.rs` turns a checked loop into a program of it,
//! `vm.rs` runs the program against the world. The operators themselves are `super::arith`'s,
//! shared with the tree walker.

mod compile;
mod ops;
mod vm;

#[cfg(test)]
mod tests;

pub(super) use compile::compile;

/// Loops shorter than this run on the tree walker: compiling costs about as much as a few
/// dozen iterations.
pub(in crate::session) const MIN_TRIPS: u64 = 32;

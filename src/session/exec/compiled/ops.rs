//! The compiled loops' instruction set: a flat register program with the loop's spans.

use crate::check::ir::Ty;
use crate::session::exec::arith::{Alu, Div, Narrow};
use crate::syntax::Span;

pub(super) type Reg = u32;

/// One instruction. Registers index the program's register file: the session's variables by
/// slot first, then constants, loop counters and temporaries. `span` fields index
/// [`Prog::spans`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Op {
    Mov {
        d: Reg,
        a: Reg,
    },
    Imm {
        d: Reg,
        v: u64,
    },
    // The commonest operations get instructions of their own, with a constant right operand
    // or not; the rest share `Bin` / `BinI`.
    Add {
        d: Reg,
        a: Reg,
        b: Reg,
    },
    AddI {
        d: Reg,
        a: Reg,
        v: u64,
    },
    MulI {
        d: Reg,
        a: Reg,
        v: u64,
    },
    AndI {
        d: Reg,
        a: Reg,
        v: u64,
    },
    Bin {
        f: Alu,
        d: Reg,
        a: Reg,
        b: Reg,
    },
    BinI {
        f: Alu,
        d: Reg,
        a: Reg,
        v: u64,
    },
    /// Division or remainder: the one arithmetic that can stop the program.
    Div {
        d: Reg,
        a: Reg,
        b: Reg,
        div: Div,
        span: u32,
    },
    Neg {
        d: Reg,
        a: Reg,
        n: Narrow,
    },
    BitNot {
        d: Reg,
        a: Reg,
        n: Narrow,
    },
    Not {
        d: Reg,
        a: Reg,
        n: Narrow,
    },
    Cast {
        d: Reg,
        a: Reg,
        n: Narrow,
    },
    /// `d = a != 0`: a value made a `bool` by `&&` / `||`.
    Truth {
        d: Reg,
        a: Reg,
    },
    Load {
        d: Reg,
        addr: Reg,
        width: u8,
        signed: bool,
        span: u32,
    },
    /// A load at `base + (idx & mask) * scale` (`p[i]`, `p[i & 1023]`).
    LoadIdx {
        d: Reg,
        base: Reg,
        idx: Reg,
        mask: u64,
        scale: u64,
        width: u8,
        signed: bool,
        span: u32,
    },
    Store {
        addr: Reg,
        v: Reg,
        width: u8,
        span: u32,
    },
    /// A store at `base + (idx & mask) * scale` (`p[i] = v`).
    StoreIdx {
        base: Reg,
        idx: Reg,
        mask: u64,
        scale: u64,
        v: Reg,
        width: u8,
        span: u32,
    },
    SetTy {
        slot: u32,
        ty: Ty,
    },
    /// The type of variable `a` to variable `d` (`x = y` where `y`'s type is not known here).
    CopyTy {
        d: u32,
        a: u32,
    },
    Jmp {
        to: u32,
    },
    JmpZ {
        a: Reg,
        to: u32,
    },
    JmpNz {
        a: Reg,
        to: u32,
    },
    /// Enters a `for`: `ctr = from`, `end = to` (plus one when inclusive), then as [`Op::ForNext`]
    /// without the increment; jumps to `exit` when there is no iteration.
    ForInit {
        ctr: Reg,
        end: Reg,
        from: Reg,
        to: Reg,
        inclusive: bool,
        slot: u32,
        long: bool,
        span: u32,
        exit: u32,
    },
    /// The end of a `for` body: the next iteration sets the variable (and its type to `long`
    /// when `long`), counts a step and jumps to `body`; after the last one, falls through.
    ForNext {
        ctr: Reg,
        end: Reg,
        slot: u32,
        long: bool,
        span: u32,
        body: u32,
    },
    /// Enters a `repeat`: `ctr = count`; with no iteration jumps to `exit`, else counts the
    /// first.
    RepInit {
        ctr: Reg,
        count: Reg,
        span: u32,
        exit: u32,
    },
    RepNext {
        ctr: Reg,
        span: u32,
        body: u32,
    },
}

/// A compiled loop.
#[derive(Debug)]
pub(in crate::session::exec) struct Prog {
    pub(super) ops: Vec<Op>,
    pub(super) spans: Vec<Span>,
    /// Registers holding constants, with their values.
    pub(super) consts: Vec<(Reg, u64)>,
    /// Registers the loop's bounds go into (the tree walker evaluated them).
    pub(super) bounds: (Reg, Reg),
    pub(super) vars: usize,
    pub(super) regs: usize,
}

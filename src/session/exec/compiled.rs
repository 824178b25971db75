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

use super::{err, Exec, R};
use crate::check::ir::*;
use crate::syntax::{BinOp, Span, UnOp};

/// Loops shorter than this run on the tree walker: compiling costs about as much as a few
/// dozen iterations.
pub(super) const MIN_TRIPS: u64 = 32;

/// A loop with loops nested this deep inside is not compiled as one program (its inner loops
/// still are): finding the types at each loop head repeats the analysis of the loops inside,
/// which grows exponentially with the nesting.
const MAX_NESTING: usize = 6;

type Reg = u32;

/// How `narrow` truncates a result to its type, decided when compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Narrow {
    Keep,
    Zext(u64),
    /// Sign-extends from the low `64 - shift` bits.
    Sext(u32),
    Bool,
}

impl Narrow {
    fn of(ty: Ty) -> Self {
        match ty {
            Ty::Int(p) if p.size() < 8 => {
                let w = p.size() as u32 * 8;
                if p.signed() {
                    Narrow::Sext(64 - w)
                } else {
                    Narrow::Zext((1u64 << w) - 1)
                }
            }
            Ty::Bool => Narrow::Bool,
            _ => Narrow::Keep,
        }
    }

    #[inline(always)]
    fn apply(self, bits: u64) -> u64 {
        match self {
            Narrow::Keep => bits,
            Narrow::Zext(m) => bits & m,
            Narrow::Sext(s) => (((bits << s) as i64) >> s) as u64,
            Narrow::Bool => u64::from(bits != 0),
        }
    }
}

/// A comparison, with its signedness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cc {
    Eq,
    Ne,
    Lt(bool),
    Le(bool),
    Gt(bool),
    Ge(bool),
}

impl Cc {
    #[inline(always)]
    fn test(self, a: u64, b: u64) -> u64 {
        let ord = |signed: bool| {
            if signed {
                (a as i64).cmp(&(b as i64))
            } else {
                a.cmp(&b)
            }
        };
        u64::from(match self {
            Cc::Eq => a == b,
            Cc::Ne => a != b,
            Cc::Lt(s) => ord(s).is_lt(),
            Cc::Le(s) => ord(s).is_le(),
            Cc::Gt(s) => ord(s).is_gt(),
            Cc::Ge(s) => ord(s).is_ge(),
        })
    }
}

/// Binary operations that cannot fail, on two registers or a register and a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alu {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Shl,
    Shr,
    Sar,
    /// `a + b * scale`: pointer plus index.
    Index(u64),
    /// `a - b * scale`.
    IndexSub(u64),
    /// `(a - b) / scale`, signed: pointer minus pointer.
    Diff(u64),
    Cmp(Cc),
}

impl Alu {
    #[inline(always)]
    fn apply(self, a: u64, b: u64) -> u64 {
        match self {
            Alu::Add => a.wrapping_add(b),
            Alu::Sub => a.wrapping_sub(b),
            Alu::Mul => a.wrapping_mul(b),
            Alu::And => a & b,
            Alu::Or => a | b,
            Alu::Xor => a ^ b,
            Alu::Shl => a.wrapping_shl(b as u32),
            Alu::Shr => a.wrapping_shr(b as u32),
            Alu::Sar => ((a as i64).wrapping_shr(b as u32)) as u64,
            Alu::Index(s) => a.wrapping_add(b.wrapping_mul(s)),
            Alu::IndexSub(s) => a.wrapping_sub(b.wrapping_mul(s)),
            Alu::Diff(s) => ((a.wrapping_sub(b) as i64) / s.max(1) as i64) as u64,
            Alu::Cmp(cc) => cc.test(a, b),
        }
    }
}

/// One instruction. Registers index the program's register file: the session's variables by
/// slot first, then constants, loop counters and temporaries. `span` fields index
/// [`Prog::spans`].
#[derive(Debug, Clone, Copy)]
enum Op {
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
        signed: bool,
        rem: bool,
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
pub(super) struct Prog {
    ops: Vec<Op>,
    spans: Vec<Span>,
    /// Registers holding constants, with their values.
    consts: Vec<(Reg, u64)>,
    /// Registers the loop's bounds go into (the tree walker evaluated them).
    bounds: (Reg, Reg),
    vars: usize,
    regs: usize,
}

/// What the compiler knows of each variable's type at a point of the program: `None` when
/// it depends on the path taken.
type Types = Vec<Option<Ty>>;

fn join(a: &mut Types, b: &Types) {
    for (x, y) in a.iter_mut().zip(b) {
        if x != y {
            *x = None;
        }
    }
}

struct Compiler<'v> {
    vars: &'v Vars,
    ops: Vec<Op>,
    spans: Vec<Span>,
    consts: Vec<(Reg, u64)>,
    regs: u32,
}

/// Compiles `for slot in .. { body }` (`slot: Some`) or `repeat .. { body }`, to run with
/// the variables as they are now. `None` when the body holds something only the tree walker
/// runs.
pub(super) fn compile(slot: Option<u32>, body: &[Stmt], span: Span, vars: &Vars) -> Option<Prog> {
    if nesting(body) >= MAX_NESTING {
        return None;
    }
    let mut c = Compiler {
        vars,
        ops: Vec::new(),
        spans: Vec::new(),
        consts: Vec::new(),
        regs: u32::try_from(vars.len()).ok()?,
    };
    let mut types: Types = (0..vars.len() as u32).map(|s| Some(vars.ty(s))).collect();
    let (from, to) = (c.temp(), c.temp());
    match slot {
        Some(slot) => c.for_loop(slot, from, to, false, body, span, &mut types)?,
        None => c.repeat(from, body, span, &mut types)?,
    }
    Some(Prog {
        ops: c.ops,
        spans: c.spans,
        consts: c.consts,
        bounds: (from, to),
        vars: vars.len(),
        regs: c.regs as usize,
    })
}

impl Compiler<'_> {
    fn temp(&mut self) -> Reg {
        self.regs += 1;
        self.regs - 1
    }

    fn constant(&mut self, v: u64) -> Reg {
        let r = self.temp();
        self.consts.push((r, v));
        r
    }

    fn span(&mut self, s: Span) -> u32 {
        self.spans.push(s);
        (self.spans.len() - 1) as u32
    }

    fn here(&self) -> u32 {
        self.ops.len() as u32
    }

    fn emit(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    /// Points the jump at `at` to the next instruction.
    fn patch(&mut self, at: usize) {
        let next = self.here();
        match &mut self.ops[at] {
            Op::Jmp { to } | Op::JmpZ { to, .. } | Op::JmpNz { to, .. } => *to = next,
            Op::ForInit { exit, .. } | Op::RepInit { exit, .. } => *exit = next,
            _ => unreachable!("only jumps are patched"),
        }
    }

    fn block(&mut self, stmts: &[Stmt], types: &mut Types) -> Option<()> {
        for s in stmts {
            self.stmt(s, types)?;
        }
        Some(())
    }

    fn stmt(&mut self, s: &Stmt, types: &mut Types) -> Option<()> {
        match &s.kind {
            St::SetVar { slot, value } => {
                let slot = *slot;
                let (ty, from) = match value.kind {
                    Ex::Var(src) => {
                        self.read(src)?;
                        if src != slot {
                            self.emit(Op::Mov { d: slot, a: src });
                        }
                        (types[src as usize], src)
                    }
                    _ => {
                        self.expr_to(value, Some(slot))?;
                        (Some(value.ty), slot)
                    }
                };
                match ty {
                    Some(t) if types[slot as usize] == Some(t) => {}
                    Some(t) => {
                        self.emit(Op::SetTy { slot, ty: t });
                    }
                    // Only a copy from a variable has a type known at run time alone.
                    None => {
                        self.emit(Op::CopyTy { d: slot, a: from });
                    }
                }
                types[slot as usize] = ty;
            }
            St::Store { addr, width, value } => {
                let span = self.span(s.span);
                let width = *width;
                match &addr.kind {
                    Ex::Binary(op, BinKind::PtrOffset { scale }, l, r) if *op != BinOp::Sub => {
                        self.typed(addr)?;
                        let base = self.expr(l)?;
                        let (idx, mask) = self.index(r)?;
                        let v = self.expr(value)?;
                        self.emit(Op::StoreIdx {
                            base,
                            idx,
                            mask,
                            scale: *scale,
                            v,
                            width,
                            span,
                        });
                    }
                    _ => {
                        let addr = self.expr(addr)?;
                        let v = self.expr(value)?;
                        self.emit(Op::Store {
                            addr,
                            v,
                            width,
                            span,
                        });
                    }
                }
            }
            St::Eval(e) => {
                self.expr(e)?;
            }
            St::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(cond)?;
                let skip = self.emit(Op::JmpZ { a: c, to: 0 });
                let mut other = types.clone();
                self.block(then, types)?;
                let over = self.emit(Op::Jmp { to: 0 });
                self.patch(skip);
                self.block(otherwise, &mut other)?;
                self.patch(over);
                join(types, &other);
            }
            St::For {
                slot,
                start,
                end,
                inclusive,
                body,
            } => {
                let from = self.expr(start)?;
                let to = self.expr(end)?;
                self.for_loop(*slot, from, to, *inclusive, body, s.span, types)?;
            }
            St::Repeat { count, body } => {
                let n = self.expr(count)?;
                self.repeat(n, body, s.span, types)?;
            }
            _ => return None,
        }
        Some(())
    }

    #[allow(clippy::too_many_arguments)]
    fn for_loop(
        &mut self,
        slot: u32,
        from: Reg,
        to: Reg,
        inclusive: bool,
        body: &[Stmt],
        span: Span,
        types: &mut Types,
    ) -> Option<()> {
        let head = loop_head(body, types, Some(slot))?;
        let (ctr, end) = (self.temp(), self.temp());
        let span = self.span(span);
        let init = self.emit(Op::ForInit {
            ctr,
            end,
            from,
            to,
            inclusive,
            slot,
            long: types[slot as usize] != Some(Ty::LONG),
            span,
            exit: 0,
        });
        let top = self.here();
        let mut t = head.clone();
        t[slot as usize] = Some(Ty::LONG);
        self.block(body, &mut t)?;
        self.emit(Op::ForNext {
            ctr,
            end,
            slot,
            long: t[slot as usize] != Some(Ty::LONG),
            span,
            body: top,
        });
        self.patch(init);
        *types = head;
        Some(())
    }

    fn repeat(&mut self, count: Reg, body: &[Stmt], span: Span, types: &mut Types) -> Option<()> {
        let head = loop_head(body, types, None)?;
        let ctr = self.temp();
        let span = self.span(span);
        let init = self.emit(Op::RepInit {
            ctr,
            count,
            span,
            exit: 0,
        });
        let top = self.here();
        let mut t = head.clone();
        self.block(body, &mut t)?;
        self.emit(Op::RepNext {
            ctr,
            span,
            body: top,
        });
        self.patch(init);
        *types = head;
        Some(())
    }

    /// A variable a compiled expression reads: never one holding `none` (its operations
    /// depend on the type at run time, which registers do not have).
    fn read(&self, slot: u32) -> Option<()> {
        (self.vars.ty(slot) != Ty::Nothing).then_some(())
    }

    fn typed(&self, e: &TExpr) -> Option<()> {
        (e.ty != Ty::Nothing).then_some(())
    }

    fn expr(&mut self, e: &TExpr) -> Option<Reg> {
        self.expr_to(e, None)
    }

    /// Compiles `e`; its last instruction writes `want` when given (so a `let` computes
    /// straight into its variable, written only once everything before succeeded).
    fn expr_to(&mut self, e: &TExpr, want: Option<Reg>) -> Option<Reg> {
        match &e.kind {
            Ex::Var(slot) => {
                self.read(*slot)?;
                return Some(self.place(*slot, want));
            }
            Ex::Const(v) => {
                self.typed(e)?;
                let r = self.constant(*v);
                return Some(self.place(r, want));
            }
            _ => {}
        }
        self.typed(e)?;
        // Allocated first, written only by the last instruction.
        let d = want.unwrap_or_else(|| self.temp());
        let op = match &e.kind {
            Ex::Unary(op, inner) => {
                let a = self.expr(inner)?;
                let n = Narrow::of(e.ty);
                match op {
                    UnOp::Neg => Op::Neg { d, a, n },
                    UnOp::BitNot => Op::BitNot { d, a, n },
                    UnOp::Not => Op::Not { d, a, n },
                }
            }
            Ex::Cast(inner) => {
                let a = self.expr(inner)?;
                Op::Cast {
                    d,
                    a,
                    n: Narrow::of(e.ty),
                }
            }
            Ex::Load {
                addr,
                width,
                signed,
            } => {
                let span = self.span(e.span);
                let (width, signed) = (*width, *signed);
                match &addr.kind {
                    Ex::Binary(op, BinKind::PtrOffset { scale }, l, r) if *op != BinOp::Sub => {
                        self.typed(addr)?;
                        let base = self.expr(l)?;
                        let (idx, mask) = self.index(r)?;
                        Op::LoadIdx {
                            d,
                            base,
                            idx,
                            mask,
                            scale: *scale,
                            width,
                            signed,
                            span,
                        }
                    }
                    _ => {
                        let addr = self.expr(addr)?;
                        Op::Load {
                            d,
                            addr,
                            width,
                            signed,
                            span,
                        }
                    }
                }
            }
            Ex::Binary(op @ (BinOp::And | BinOp::Or), _, l, r) => {
                // `a && b`: 0 without evaluating `b` when `a` is 0, else whether `b` is
                // non-zero (`||` likewise with 1).
                let a = self.expr(l)?;
                let and = *op == BinOp::And;
                let short = if and {
                    self.emit(Op::JmpZ { a, to: 0 })
                } else {
                    self.emit(Op::JmpNz { a, to: 0 })
                };
                let b = self.expr(r)?;
                self.emit(Op::Truth { d, a: b });
                let over = self.emit(Op::Jmp { to: 0 });
                self.patch(short);
                self.emit(Op::Imm {
                    d,
                    v: u64::from(!and),
                });
                self.patch(over);
                return Some(d);
            }
            Ex::Binary(op, kind, l, r) => {
                let a = self.expr(l)?;
                // A constant right operand is folded into the instruction.
                let imm = match r.kind {
                    Ex::Const(v) if r.ty != Ty::Nothing => Some(v),
                    _ => None,
                };
                let b = match imm {
                    Some(_) => 0,
                    None => self.expr(r)?,
                };
                let f = match alu(*op, *kind) {
                    Ok(f) => f,
                    Err(signed) => {
                        let b = match imm {
                            Some(v) => self.constant(v),
                            None => b,
                        };
                        let rem = *op == BinOp::Rem;
                        let span = self.span(e.span);
                        self.emit(Op::Div {
                            d,
                            a,
                            b,
                            signed,
                            rem,
                            span,
                        });
                        return Some(d);
                    }
                };
                match (f, imm) {
                    (Alu::Add, Some(v)) => Op::AddI { d, a, v },
                    (Alu::Mul, Some(v)) => Op::MulI { d, a, v },
                    (Alu::And, Some(v)) => Op::AndI { d, a, v },
                    (f, Some(v)) => Op::BinI { f, d, a, v },
                    (Alu::Add, None) => Op::Add { d, a, b },
                    (f, None) => Op::Bin { f, d, a, b },
                }
            }
            _ => return None,
        };
        self.emit(op);
        Some(d)
    }

    /// An index: a register and a mask, `i & 1023` folded into the access that uses it.
    fn index(&mut self, e: &TExpr) -> Option<(Reg, u64)> {
        match &e.kind {
            Ex::Binary(BinOp::BitAnd, BinKind::Int { .. }, x, m) if e.ty != Ty::Nothing => {
                match m.kind {
                    Ex::Const(mask) if m.ty != Ty::Nothing => Some((self.expr(x)?, mask)),
                    _ => Some((self.expr(e)?, u64::MAX)),
                }
            }
            _ => Some((self.expr(e)?, u64::MAX)),
        }
    }

    /// A value already in register `r`, moved to `want` when one is asked for.
    fn place(&mut self, r: Reg, want: Option<Reg>) -> Reg {
        match want {
            Some(d) if d != r => {
                self.emit(Op::Mov { d, a: r });
                d
            }
            _ => r,
        }
    }
}

/// The operation `Exec::binary` performs for `op` on operands of `kind`, or `Err(signed)`
/// for a division or remainder.
fn alu(op: BinOp, kind: BinKind) -> Result<Alu, bool> {
    use BinOp::*;
    Ok(match kind {
        BinKind::PtrOffset { scale } => match op {
            Sub => Alu::IndexSub(scale),
            _ => Alu::Index(scale),
        },
        BinKind::PtrDiff { scale } => Alu::Diff(scale),
        BinKind::Int { signed } => match op {
            Add => Alu::Add,
            Sub => Alu::Sub,
            Mul => Alu::Mul,
            Div | Rem => return Err(signed),
            BitAnd => Alu::And,
            BitOr => Alu::Or,
            BitXor => Alu::Xor,
            Shl => Alu::Shl,
            Shr if signed => Alu::Sar,
            Shr => Alu::Shr,
            Eq => Alu::Cmp(Cc::Eq),
            Ne => Alu::Cmp(Cc::Ne),
            Lt => Alu::Cmp(Cc::Lt(signed)),
            Le => Alu::Cmp(Cc::Le(signed)),
            Gt => Alu::Cmp(Cc::Gt(signed)),
            Ge => Alu::Cmp(Cc::Ge(signed)),
            // Short-circuited before this; `Exec::binary` gives 0 as well.
            And | Or => Alu::And,
        },
    })
}

/// How deep loops nest in a block.
fn nesting(stmts: &[Stmt]) -> usize {
    stmts
        .iter()
        .map(|s| match &s.kind {
            St::For { body, .. } | St::Repeat { body, .. } => 1 + nesting(body),
            St::If {
                then, otherwise, ..
            } => nesting(then).max(nesting(otherwise)),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// The types at the head of a loop (and after it): those on entry joined with those after
/// any number of iterations, each of which starts by making the `for` variable a `long`.
fn loop_head(body: &[Stmt], types: &Types, slot: Option<u32>) -> Option<Types> {
    let mut head = types.clone();
    loop {
        let mut t = head.clone();
        if let Some(s) = slot {
            t[s as usize] = Some(Ty::LONG);
        }
        flow(body, &mut t)?;
        let before = head.clone();
        join(&mut head, &t);
        if head == before {
            return Some(head);
        }
    }
}

/// How a block changes the variables' types (what [`Compiler::stmt`] records as it compiles),
/// or `None` when it holds a statement that is not compiled.
fn flow(stmts: &[Stmt], types: &mut Types) -> Option<()> {
    for s in stmts {
        match &s.kind {
            St::SetVar { slot, value } => {
                types[*slot as usize] = match value.kind {
                    Ex::Var(src) => types[src as usize],
                    _ => Some(value.ty),
                };
            }
            St::Store { .. } | St::Eval(_) => {}
            St::If {
                then, otherwise, ..
            } => {
                let mut other = types.clone();
                flow(then, types)?;
                flow(otherwise, &mut other)?;
                join(types, &other);
            }
            St::For { slot, body, .. } => *types = loop_head(body, types, Some(*slot))?,
            St::Repeat { body, .. } => *types = loop_head(body, types, None)?,
            _ => return None,
        }
    }
    Some(())
}

impl Exec<'_> {
    /// Runs a compiled loop over `from..to` (a `for`'s bounds, the end already made
    /// exclusive) or `repeat from`. The variables are copied into the registers and back,
    /// whatever the outcome.
    pub(super) fn run_compiled(&mut self, prog: &Prog, from: u64, to: u64) -> R<()> {
        let mut regs = vec![0u64; prog.regs];
        regs[..prog.vars].copy_from_slice(self.vars.all_bits());
        for &(r, v) in &prog.consts {
            regs[r as usize] = v;
        }
        regs[prog.bounds.0 as usize] = from;
        regs[prog.bounds.1 as usize] = to;
        let r = self.run_ops(prog, &mut regs);
        self.vars.set_all_bits(&regs[..prog.vars]);
        r
    }

    fn run_ops(&mut self, prog: &Prog, regs: &mut [u64]) -> R<()> {
        let ops = &prog.ops[..];
        let spans = &prog.spans[..];
        // The current process, looked up at the first access: nothing a compiled program
        // does can switch processes or end one without stopping the program.
        let mut cur: Option<usize> = None;
        let mut pc = 0usize;
        while let Some(op) = ops.get(pc) {
            pc += 1;
            match *op {
                Op::Mov { d, a } => regs[d as usize] = regs[a as usize],
                Op::Imm { d, v } => regs[d as usize] = v,
                Op::Add { d, a, b } => {
                    regs[d as usize] = regs[a as usize].wrapping_add(regs[b as usize])
                }
                Op::AddI { d, a, v } => regs[d as usize] = regs[a as usize].wrapping_add(v),
                Op::MulI { d, a, v } => regs[d as usize] = regs[a as usize].wrapping_mul(v),
                Op::AndI { d, a, v } => regs[d as usize] = regs[a as usize] & v,
                Op::Bin { f, d, a, b } => {
                    regs[d as usize] = f.apply(regs[a as usize], regs[b as usize])
                }
                Op::BinI { f, d, a, v } => regs[d as usize] = f.apply(regs[a as usize], v),
                Op::Div {
                    d,
                    a,
                    b,
                    signed,
                    rem,
                    span,
                } => {
                    let (a, b) = (regs[a as usize], regs[b as usize]);
                    if b == 0 {
                        return Err(err(
                            spans[span as usize],
                            "division by zero",
                            "the divisor is 0",
                            "check the divisor first with `if`",
                        ));
                    }
                    regs[d as usize] = match (rem, signed) {
                        (false, true) => (a as i64).wrapping_div(b as i64) as u64,
                        (false, false) => a / b,
                        (true, true) => (a as i64).wrapping_rem(b as i64) as u64,
                        (true, false) => a % b,
                    };
                }
                Op::Neg { d, a, n } => regs[d as usize] = n.apply(regs[a as usize].wrapping_neg()),
                Op::BitNot { d, a, n } => regs[d as usize] = n.apply(!regs[a as usize]),
                Op::Not { d, a, n } => regs[d as usize] = n.apply(u64::from(regs[a as usize] == 0)),
                Op::Cast { d, a, n } => regs[d as usize] = n.apply(regs[a as usize]),
                Op::Truth { d, a } => regs[d as usize] = u64::from(regs[a as usize] != 0),
                Op::Load {
                    d,
                    addr,
                    width,
                    signed,
                    span,
                } => {
                    let span = spans[span as usize];
                    let p = self.cur_cached(&mut cur, span)?;
                    let raw = self.load_at(p, regs[addr as usize], width, span)?;
                    regs[d as usize] = extend(raw, width, signed);
                }
                Op::LoadIdx {
                    d,
                    base,
                    idx,
                    mask,
                    scale,
                    width,
                    signed,
                    span,
                } => {
                    let span = spans[span as usize];
                    let a = indexed(regs, base, idx, mask, scale);
                    let p = self.cur_cached(&mut cur, span)?;
                    let raw = self.load_at(p, a, width, span)?;
                    regs[d as usize] = extend(raw, width, signed);
                }
                Op::Store {
                    addr,
                    v,
                    width,
                    span,
                } => {
                    let span = spans[span as usize];
                    let p = self.cur_cached(&mut cur, span)?;
                    self.store_at(p, regs[addr as usize], width, regs[v as usize], span)?;
                }
                Op::StoreIdx {
                    base,
                    idx,
                    mask,
                    scale,
                    v,
                    width,
                    span,
                } => {
                    let span = spans[span as usize];
                    let a = indexed(regs, base, idx, mask, scale);
                    let p = self.cur_cached(&mut cur, span)?;
                    self.store_at(p, a, width, regs[v as usize], span)?;
                }
                Op::SetTy { slot, ty } => self.vars.set_ty(slot, ty),
                Op::CopyTy { d, a } => {
                    let t = self.vars.ty(a);
                    self.vars.set_ty(d, t);
                }
                Op::Jmp { to } => pc = to as usize,
                Op::JmpZ { a, to } => {
                    if regs[a as usize] == 0 {
                        pc = to as usize;
                    }
                }
                Op::JmpNz { a, to } => {
                    if regs[a as usize] != 0 {
                        pc = to as usize;
                    }
                }
                Op::ForInit {
                    ctr,
                    end,
                    from,
                    to,
                    inclusive,
                    slot,
                    long,
                    span,
                    exit,
                } => {
                    let a = regs[from as usize] as i64;
                    let b = regs[to as usize] as i64;
                    let b = if inclusive { b.saturating_add(1) } else { b };
                    regs[ctr as usize] = a as u64;
                    regs[end as usize] = b as u64;
                    if a < b {
                        self.iteration(regs, a, slot, long, spans[span as usize])?;
                    } else {
                        pc = exit as usize;
                    }
                }
                Op::ForNext {
                    ctr,
                    end,
                    slot,
                    long,
                    span,
                    body,
                } => {
                    // Cannot overflow: the counter stays below the end.
                    let i = regs[ctr as usize] as i64 + 1;
                    if i < regs[end as usize] as i64 {
                        regs[ctr as usize] = i as u64;
                        self.iteration(regs, i, slot, long, spans[span as usize])?;
                        pc = body as usize;
                    }
                }
                Op::RepInit {
                    ctr,
                    count,
                    span,
                    exit,
                } => {
                    let n = regs[count as usize];
                    if n == 0 {
                        pc = exit as usize;
                    } else {
                        regs[ctr as usize] = n - 1;
                        self.tick(spans[span as usize])?;
                    }
                }
                Op::RepNext { ctr, span, body } => {
                    let n = regs[ctr as usize];
                    if n > 0 {
                        regs[ctr as usize] = n - 1;
                        self.tick(spans[span as usize])?;
                        pc = body as usize;
                    }
                }
            }
        }
        Ok(())
    }

    /// The start of a `for` iteration, as the tree walker does it: the variable, then a step.
    #[inline(always)]
    fn iteration(&mut self, regs: &mut [u64], i: i64, slot: u32, long: bool, span: Span) -> R<()> {
        regs[slot as usize] = i as u64;
        if long {
            self.vars.set_ty(slot, Ty::LONG);
        }
        self.tick(span)
    }

    #[inline(always)]
    fn cur_cached(&mut self, cur: &mut Option<usize>, span: Span) -> R<usize> {
        match *cur {
            Some(p) => Ok(p),
            None => {
                let p = self.cur(span)?;
                *cur = Some(p);
                Ok(p)
            }
        }
    }
}

/// The address `base[idx & mask]` of a fused indexed access, as the tree walker computes
/// `base + (idx & mask) * scale`.
#[inline(always)]
fn indexed(regs: &[u64], base: Reg, idx: Reg, mask: u64, scale: u64) -> u64 {
    let i = regs[idx as usize] & mask;
    regs[base as usize].wrapping_add(i.wrapping_mul(scale))
}

/// A loaded value as the tree walker gives it: sign-extended when the type is signed.
#[inline(always)]
fn extend(raw: u64, width: u8, signed: bool) -> u64 {
    if signed && width < 8 {
        let w = u32::from(width) * 8;
        (((raw << (64 - w)) as i64) >> (64 - w)) as u64
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Options, Output, Session};

    /// Runs `src` with loops compiled and on the tree walker; both must print and report the
    /// same. Returns what the compiled run printed, one line per `print`, then the codes of
    /// its diagnostics.
    fn both(src: &str) -> String {
        let run = |compile: bool| {
            let mut s = Session::new(Options {
                compile_loops: compile,
                report_leaks: false,
                ..Options::default()
            });
            let r = s.execute("t.mem", src);
            let mut out = String::new();
            for st in &r.steps {
                for o in st.outputs() {
                    match o {
                        Output::Print { text } => out.push_str(text),
                        Output::Expect { passed, .. } => out.push_str(&format!("expect {passed}")),
                        Output::Show { .. } => {}
                    }
                    out.push('\n');
                }
            }
            for d in &r.diagnostics {
                let line = d.line.unwrap_or(0);
                out.push_str(&format!("{} at line {line}\n", d.code));
            }
            (out, format!("{:?}", r.steps), format!("{:?}", r.stats))
        };
        let (walked, compiled) = (run(false), run(true));
        assert_eq!(walked, compiled, "{src}");
        compiled.0
    }

    /// The body of the first statement of `src`, a loop, compiled with the variables as a
    /// session that ran `setup` leaves them.
    fn compiles(setup: &str, src: &str) -> bool {
        let mut s = Session::new(Options::default());
        s.execute("setup.mem", setup);
        let (stmts, env) = s.prepare("t.mem", src).expect("checks");
        s.vars.resize(env.vars.len());
        match &stmts[0].kind {
            St::For { slot, body, .. } => compile(Some(*slot), body, stmts[0].span, &s.vars),
            St::Repeat { body, .. } => compile(None, body, stmts[0].span, &s.vars),
            _ => None,
        }
        .is_some()
    }

    #[test]
    fn the_benchmark_loops_compile() {
        let setup = "let p: *int = malloc(64 KiB)\n";
        assert!(compiles(
            setup,
            "for i in 0..100 { p[i & 16383] = i\n let x = p[(i * 7) & 16383] }"
        ));
        assert!(compiles(setup, "repeat 100 { p[3] = p[2] + 1 }"));
        assert!(compiles(setup, "for i in 0..100 { if i % 3 == 0 && p[i] > 2 { p[i] = -p[i] } else { for j in 0..=i { p[j] = p[j] as char } } }"));
    }

    #[test]
    fn what_is_left_to_the_tree_walker() {
        let setup = "let p: *int = malloc(64)\nlet f = frame_of(NULL)\n";
        assert!(!compiles(setup, "for i in 0..100 { print i }"));
        assert!(!compiles(setup, "for i in 0..100 { p = malloc(8) }"));
        assert!(!compiles(
            setup,
            "for i in 0..100 { p[0] = brk - heap.start }"
        ));
        // `f` holds `none`, which only the tree walker compares.
        assert!(!compiles(setup, "for i in 0..100 { p[0] = f == none }"));
        assert!(!compiles(
            setup,
            "for i in 0..100 { expect segfault { p[1 << 40] = 1 } }"
        ));
    }

    #[test]
    fn narrowing_and_sign_extension() {
        let out = both(
            "let c: char = 0\nlet u: u8 = 0\nlet s: short = 0\nlet g: *long = malloc(8)\n\
             let b: *char = g as *char\n\
             for i in 0..200 { c = i * 3\n u = -i\n s = (i << 9) as short\n b[0] = i }\n\
             let l = b[0]\nlet m = (b as *u8)[0]\n\
             print c, u, s, l, m\nfree(g)\n",
        );
        // 597 as char, -199 as u8, 199 << 9 as short, 199 loaded as char and as u8.
        assert_eq!(out, "85 57 -29184 -57 199\n");
    }

    #[test]
    fn shifts_wrap_their_amount_and_keep_the_sign() {
        let out = both(
            "let a = 0\nlet b = 0\nlet c: u64 = 0\n\
             for i in 0..64 { a = 1 << (i + 63)\n b = -256 >> (i & 3)\n c = (0 - 256) as u64 >> 60 }\n\
             print a, b, c\n",
        );
        // 1 << 126 is 1 << 62: the amount wraps at 64.
        assert_eq!(out, "4611686018427387904 -32 15\n");
    }

    #[test]
    fn division_by_zero_stops_at_its_iteration() {
        let out = both(
            "let a = 0\nlet n = 0\n\
             for i in 0..100 {\n  n = n + 1\n  a = 100 / (i - 50)\n}\nprint a, n\n",
        );
        // The chunk stops at the loop: its last full iteration divided by -1.
        assert_eq!(out, "mem::run at line 5\n");
        let mut s = Session::new(Options::default());
        s.execute(
            "t.mem",
            "let a = 0\nlet n = 0\nfor i in 0..100 {\n  n = n + 1\n  a = 100 / (i - 50)\n}\n",
        );
        assert_eq!(s.variable("a").as_deref(), Some("-100"));
        assert_eq!(s.variable("n").as_deref(), Some("51"));
        assert_eq!(s.variable("i").as_deref(), Some("50"));
    }

    #[test]
    fn a_segfault_mid_body_is_caught_by_expect() {
        let out = both(
            "let p: *long = malloc(64)\nlet n = 0\nlet m = 0\n\
             expect segfault {\n  for i in 0..100000 {\n    n = n + 1\n    p[i * 512] = i\n    m = m + 1\n  }\n}\n\
             print n, m\n",
        );
        assert_eq!(out, "expect true\n34 33\nmem::heap::overflow at line 7\n");
        let mut s = Session::new(Options::default());
        let r = s.execute(
            "t.mem",
            "let p: *long = malloc(64)\nlet n = 0\nlet m = 0\n\
             expect segfault {\n  for i in 0..100000 {\n    n = n + 1\n    p[i * 512] = i\n    m = m + 1\n  }\n}\n",
        );
        assert_eq!(r.expectations_passed, 1);
        // The store that faulted ran after `n` counted its iteration, before `m` did.
        let n: i64 = s.variable("n").unwrap().parse().unwrap();
        assert_eq!(s.variable("m").unwrap(), (n - 1).to_string());
    }

    #[test]
    fn a_segfault_not_expected_kills_at_the_store() {
        let out = both(
            "let p: *long = malloc(64)\nfor i in 0..100000 {\n  p[i * 512] = i\n}\np[0] = 1\n",
        );
        assert_eq!(
            out,
            "mem::heap::overflow at line 3\nmem::segv at line 3\nmem::dead at line 5\n"
        );
    }

    #[test]
    fn types_of_variables_set_in_a_loop() {
        let out = both(
            "let p: *int = malloc(64)\nlet k = 0\n\
             for i in 0..40 {\n  let t = i < 3\n  if i > 100 { let never = p } else { k = i }\n  let c = (i as u8)\n}\n\
             print t, c, k, never, i\nfree(p)\n",
        );
        assert_eq!(out, "false 39 39 0 39\n");
    }

    #[test]
    fn a_variable_declared_twice_changes_type_mid_body() {
        let out = both(
            "let p: *int = malloc(64)\nlet k = 0\n\
             expect segfault {\n  for i in 0..100 {\n    let t = i\n    k = k + 1\n    p[k * 1000] = 1\n    let t = i < 3\n  }\n}\n\
             print t, k\n\
             let s = 0\nfor i in 0..100 {\n  let u = i\n  s = s + u\n  let u = i < 3\n}\nprint u, s\nfree(p)\n",
        );
        assert_eq!(
            out,
            "expect true\n33 34\nfalse 4950\nmem::heap::overflow at line 7\n"
        );
    }

    #[test]
    fn the_loop_variable_is_reset_each_iteration() {
        let out = both("let n = 0\nfor i in 0..=40 { n = n + i\n i = 1000 }\nprint n, i\n");
        assert_eq!(out, "820 1000\n");
        let out =
            both("let n = 0\nfor i in -3..40 { for j in i..i + 2 { n = n + j } }\nprint n, i, j\n");
        assert_eq!(out, "1591 39 40\n");
    }

    #[test]
    fn deep_nests_compile_their_inner_loops() {
        // Loops `from..9` of a nest of nine, the innermost (and the outermost) of 40 trips.
        let nest = |from: usize| {
            let mut src = String::new();
            for d in from..9 {
                let n = if d == 0 || d == 8 { 40 } else { 1 };
                src.push_str(&format!("for j{d} in 0..{n} {{\n"));
            }
            src.push_str("n = n + 1\n");
            src.push_str(&"}\n".repeat(9 - from));
            src
        };
        assert_eq!(both(&format!("let n = 0\n{}print n\n", nest(0))), "1600\n");
        assert!(!compiles("let n = 0\n", &nest(0)));
        assert!(!compiles("let n = 0\n", &nest(2)));
        assert!(compiles("let n = 0\n", &nest(3)));
    }

    #[test]
    fn the_step_limit_stops_a_compiled_loop() {
        let run = |compile: bool| {
            let mut s = Session::new(Options {
                compile_loops: compile,
                max_steps: 500,
                ..Options::default()
            });
            let r = s.execute("t.mem", "let n = 0\nrepeat 1000 { n = n + 1 }\n");
            (r.diagnostics[0].code.clone(), s.variable("n"))
        };
        assert_eq!(run(true), run(false));
        assert_eq!(run(true), ("mem::limit".to_string(), Some("498".into())));
    }

    #[test]
    fn heap_findings_keep_their_spans() {
        let out = both(
            "let p: *int = malloc(16)\nlet s = 0\nfor i in 0..40 {\n  s = s + p[i & 7]\n}\nfor i in 0..40 {\n  p[i & 7] = i\n}\nfree(p)\n",
        );
        assert_eq!(out, "mem::heap::uninit at line 4\nmem::heap::overflow at line 4\nmem::heap::overflow at line 7\n");
    }
}

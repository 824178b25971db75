//! Compiling a checked loop into the register program, or declining: anything the compiler
//! cannot translate exactly is left to the tree walker.

use super::ops::{Op, Prog, Reg};
use crate::check::ir::*;
use crate::session::exec::arith::{Alu, Narrow};
use crate::syntax::{BinOp, Span, UnOp};

/// A loop with loops nested this deep inside is not compiled as one program (its inner loops
/// still are): finding the types at each loop head repeats the analysis of the loops inside,
/// which grows exponentially with the nesting.
const MAX_NESTING: usize = 6;

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
pub(in crate::session::exec) fn compile(
    slot: Option<u32>,
    body: &[Stmt],
    span: Span,
    vars: &Vars,
) -> Option<Prog> {
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
                let f = match Alu::of(*op, *kind) {
                    Ok(f) => f,
                    Err(div) => {
                        let b = match imm {
                            Some(v) => self.constant(v),
                            None => b,
                        };
                        let span = self.span(e.span);
                        self.emit(Op::Div { d, a, b, div, span });
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

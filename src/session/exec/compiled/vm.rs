//! Running a compiled program: the dispatch loop, its accesses through the executor, and the
//! step accounting the tree walker would have done.

use super::ops::{Op, Prog, Reg};
use crate::check::ir::Ty;
use crate::session::exec::arith::extend;
use crate::session::exec::{Exec, R};
use crate::syntax::Span;

impl Exec<'_> {
    /// Runs a compiled loop over `from..to` (a `for`'s bounds, the end already made
    /// exclusive) or `repeat from`. The variables are copied into the registers and back,
    /// whatever the outcome.
    pub(in crate::session::exec) fn run_compiled(
        &mut self,
        prog: &Prog,
        from: u64,
        to: u64,
    ) -> R<()> {
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

    pub(super) fn run_ops(&mut self, prog: &Prog, regs: &mut [u64]) -> R<()> {
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
                Op::Div { d, a, b, div, span } => {
                    regs[d as usize] =
                        div.apply(regs[a as usize], regs[b as usize], spans[span as usize])?;
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
    pub(super) fn iteration(
        &mut self,
        regs: &mut [u64],
        i: i64,
        slot: u32,
        long: bool,
        span: Span,
    ) -> R<()> {
        regs[slot as usize] = i as u64;
        if long {
            self.vars.set_ty(slot, Ty::LONG);
        }
        self.tick(span)
    }

    #[inline(always)]
    pub(super) fn cur_cached(&mut self, cur: &mut Option<usize>, span: Span) -> R<usize> {
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

//! Expressions: operands, operators, `stats.*` and the other special values.

use super::arith::{extend, narrow, Alu};
use super::*;
use crate::check::ir::{RegionName, RegionRef};

impl Exec<'_> {
    /// Evaluates an operand, answering variables and constants without a recursive call:
    /// they are most operands in loops, and the call is most of their cost.
    #[inline(always)]
    pub(super) fn operand(&mut self, e: &TExpr) -> R<Value> {
        match e.kind {
            Ex::Var(slot) => Ok(self.vars.get(slot)),
            Ex::Const(v) => Ok(Value::new(v, e.ty)),
            _ => self.eval(e),
        }
    }

    pub(super) fn eval(&mut self, e: &TExpr) -> R<Value> {
        let bits = match &e.kind {
            Ex::Const(v) => *v,
            Ex::Var(slot) => return Ok(self.vars.get(*slot)),
            Ex::Str(_) | Ex::Perms(..) | Ex::FileArg(..) | Ex::ProcName(_) => 0,
            Ex::Special(s) => return self.special(s, e),
            Ex::Unary(op, inner) => {
                let v = self.eval(inner)?;
                narrow(
                    match op {
                        UnOp::Neg => v.bits.wrapping_neg(),
                        UnOp::BitNot => !v.bits,
                        UnOp::Not => u64::from(!v.truthy()),
                    },
                    e.ty,
                )
            }
            Ex::Binary(op, kind, l, r) => {
                if matches!(op, BinOp::And | BinOp::Or) {
                    let lv = self.eval(l)?.truthy();
                    let v = match op {
                        BinOp::And => lv && self.eval(r)?.truthy(),
                        _ => lv || self.eval(r)?.truthy(),
                    };
                    return Ok(Value::new(u64::from(v), Ty::Bool));
                }
                let a = self.operand(l)?;
                let b = self.operand(r)?;
                return self.apply(*op, *kind, a, b, e);
            }
            Ex::Load {
                addr,
                width,
                signed,
            } => {
                let a = self.eval(addr)?.bits;
                extend(self.load(a, *width, e.span)?, *width, *signed)
            }
            Ex::Cast(inner) => narrow(self.eval(inner)?.bits, e.ty),
            Ex::Call(b, args) => return self.call(*b, args, e),
        };
        Ok(Value::new(bits, e.ty))
    }

    #[inline]
    pub(super) fn apply(
        &mut self,
        op: BinOp,
        kind: BinKind,
        a: Value,
        b: Value,
        e: &TExpr,
    ) -> R<Value> {
        if a.ty == Ty::Nothing || b.ty == Ty::Nothing {
            // Only `==` and `!=` reach here with `none` (the checker sees to it).
            let same = (a.ty == Ty::Nothing) == (b.ty == Ty::Nothing)
                && (a.ty == Ty::Nothing || a.bits == b.bits);
            return Ok(Value::new(u64::from(same == (op == BinOp::Eq)), Ty::Bool));
        }
        Ok(Value::new(self.binary(op, kind, a.bits, b.bits, e)?, e.ty))
    }

    #[inline]
    pub(super) fn binary(&mut self, op: BinOp, kind: BinKind, a: u64, b: u64, e: &TExpr) -> R<u64> {
        match Alu::of(op, kind) {
            Ok(f) => Ok(f.apply(a, b)),
            Err(div) => div.apply(a, b, e.span),
        }
    }

    pub(super) fn special(&mut self, s: &Special, e: &TExpr) -> R<Value> {
        let p = self.main_proc(e.span)?;
        let ps = self.world.mmu.page_size();
        let pr = &self.world.os.procs[p];
        let bits = match s {
            Special::Brk => pr.brk,
            Special::Sp => self.sp(p),
            Special::Rss => self.world.os.rss_pages(&self.world.mmu, p) * ps,
            Special::Vsz => pr
                .vmas
                .iter()
                .filter(|v| v.start < self.world.os.user_limit())
                .map(|v| v.len())
                .sum(),
            Special::PageSize => ps,
            Special::Pid => u64::from(pr.pid),
            Special::Stat(n) => n.read(&self.world.stats()),
            Special::Region(region, field) => {
                let role = match region {
                    RegionRef::Fixed(r) => Some(match r {
                        RegionName::Text => Role::Text,
                        RegionName::Rodata => Role::Rodata,
                        RegionName::Data => Role::Data,
                        RegionName::Bss => Role::Bss,
                        RegionName::Stack => Role::Stack,
                        RegionName::Heap => Role::Heap,
                    }),
                    RegionRef::Named(_) => None,
                };
                let name = match region {
                    RegionRef::Fixed(r) => r.name(),
                    RegionRef::Named(n) => n.as_str(),
                };
                let found = match role {
                    Some(Role::Heap) => Some((pr.brk_start, pr.brk.max(pr.brk_start))),
                    Some(Role::Bss) => pr
                        .vmas
                        .find_role(Role::Bss)
                        .or_else(|| pr.vmas.find_role(Role::Data))
                        .map(|v| (v.start, v.end)),
                    Some(r) => pr.vmas.find_role(r).map(|v| (v.start, v.end)),
                    None => pr
                        .vmas
                        .iter()
                        .find(|v| *v.name == *name)
                        .map(|v| (v.start, v.end))
                        .or_else(|| {
                            pr.threads
                                .iter()
                                .find(|t| t.name == name)
                                .map(|t| (t.stack_start, t.stack_end))
                        }),
                };
                let Some((start, end)) = found else {
                    return Err(err!(
                        NoRegion,
                        e.span,
                        format!("process {} has no region `{name}`", pr.name),
                        "no such region",
                        "`show maps` lists the regions",
                    ));
                };
                match field {
                    RegionField::Start => start,
                    RegionField::End => end,
                    RegionField::Size => end - start,
                }
            }
        };
        Ok(Value::new(bits, e.ty))
    }
}

pub(super) fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

//! The integer semantics of the language, defined once for the tree walker and the compiled
//! loops: narrowing to a type, the binary operators, and the one operator that can fail
//! (division and remainder by zero). Arithmetic wraps as C's does on a two's-complement
//! machine; shift amounts wrap modulo 64.

use super::Stop;
use crate::check::ir::{BinKind, Ty};
use crate::syntax::{BinOp, Span};

/// How a result is truncated to its type: decided once per type, applied per value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Narrow {
    Keep,
    Zext(u64),
    /// Sign-extends from the low `64 - shift` bits.
    Sext(u32),
    Bool,
}

impl Narrow {
    #[inline]
    pub(super) fn of(ty: Ty) -> Self {
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
    pub(super) fn apply(self, bits: u64) -> u64 {
        match self {
            Narrow::Keep => bits,
            Narrow::Zext(m) => bits & m,
            Narrow::Sext(s) => (((bits << s) as i64) >> s) as u64,
            Narrow::Bool => u64::from(bits != 0),
        }
    }
}

/// Truncates to the type's width, sign-extending signed types.
#[inline]
pub(super) fn narrow(bits: u64, ty: Ty) -> u64 {
    Narrow::of(ty).apply(bits)
}

/// A loaded value of `width` bytes: sign-extended when its type is signed.
#[inline(always)]
pub(super) fn extend(raw: u64, width: u8, signed: bool) -> u64 {
    if signed && width < 8 {
        let w = u32::from(width) * 8;
        (((raw << (64 - w)) as i64) >> (64 - w)) as u64
    } else {
        raw
    }
}

/// A comparison, with its signedness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cc {
    Eq,
    Ne,
    Lt(bool),
    Le(bool),
    Gt(bool),
    Ge(bool),
}

impl Cc {
    #[inline(always)]
    pub(super) fn test(self, a: u64, b: u64) -> u64 {
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

/// Binary operations that cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alu {
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

/// A division or remainder: the one operator that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Div {
    pub signed: bool,
    pub rem: bool,
}

impl Alu {
    /// The operation `op` performs on operands of `kind`, or the division it is. `&&` and `||`
    /// never get here: both engines short-circuit them first.
    #[inline]
    pub(super) fn of(op: BinOp, kind: BinKind) -> Result<Alu, Div> {
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
                Div => return Err(self::Div { signed, rem: false }),
                Rem => return Err(self::Div { signed, rem: true }),
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
                And | Or => Alu::And,
            },
        })
    }

    #[inline(always)]
    pub(super) fn apply(self, a: u64, b: u64) -> u64 {
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

impl Div {
    /// `a / b` or `a % b`; `i64::MIN / -1` wraps, as the hardware's result would be taken.
    #[inline]
    pub(super) fn apply(self, a: u64, b: u64, span: Span) -> Result<u64, Box<Stop>> {
        if b == 0 {
            return Err(division_by_zero(span));
        }
        Ok(match (self.rem, self.signed) {
            (false, true) => (a as i64).wrapping_div(b as i64) as u64,
            (false, false) => a / b,
            (true, true) => (a as i64).wrapping_rem(b as i64) as u64,
            (true, false) => a % b,
        })
    }
}

#[cold]
fn division_by_zero(span: Span) -> Box<Stop> {
    err!(
        DivisionByZero,
        span,
        "division by zero",
        "the divisor is 0",
        "check the divisor first with `if`",
    )
}

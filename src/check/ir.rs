//! The checked program: names resolved to slots, types known, sizes in bytes. What the session
//! executes; cheap to interpret (no string lookups, no allocation per access).

use crate::config::ScenarioConfig;
use crate::os::layout::ProcessSpec;
use crate::os::Perms;
use crate::syntax::ast::Arg;
use crate::syntax::{BinOp, FaultExpect, Prim, SegvCode, Span, UnOp};

/// A static type. Values are 64-bit; the type says how to print them and how pointer
/// arithmetic scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Int(Prim),
    /// A byte count: prints with a unit (`132 KiB`).
    Size,
    Bool,
    /// `*T` with `depth` stars over a primitive.
    Ptr {
        base: Prim,
        depth: u8,
    },
    /// `frame_of` of an unmapped page.
    Nothing,
}

impl Ty {
    pub const LONG: Ty = Ty::Int(Prim::I64);
    pub const U64: Ty = Ty::Int(Prim::U64);
    /// An untyped pointer (`*u8`), what malloc returns.
    pub const VOIDP: Ty = Ty::Ptr {
        base: Prim::U8,
        depth: 1,
    };

    pub fn is_ptr(self) -> bool {
        matches!(self, Ty::Ptr { .. })
    }
    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int(_) | Ty::Size | Ty::Bool)
    }
    /// The pointee's size and how to load it.
    pub fn elem(self) -> Option<(Ty, u64)> {
        match self {
            Ty::Ptr { base, depth: 1 } => Some((Ty::Int(base), base.size())),
            Ty::Ptr { base, depth } => Some((
                Ty::Ptr {
                    base,
                    depth: depth - 1,
                },
                8,
            )),
            _ => None,
        }
    }
    /// The name with its article: `an int`, `a long`, `a *char`.
    pub fn a(self) -> String {
        let n = self.name();
        if n.starts_with(['a', 'e', 'i', 'o']) {
            format!("an {n}")
        } else {
            format!("a {n}")
        }
    }

    /// The type as a user writes it, C names first (`long`, `*int`).
    pub fn name(self) -> String {
        let c = |p: Prim| match p {
            Prim::I8 => "char",
            Prim::I16 => "short",
            Prim::I32 => "int",
            Prim::I64 => "long",
            other => other.name(),
        };
        match self {
            Ty::Int(p) => c(p).to_string(),
            Ty::Size => "size".into(),
            Ty::Bool => "bool".into(),
            Ty::Ptr { base, depth } => format!("{}{}", "*".repeat(depth as usize), c(base)),
            Ty::Nothing => "none".into(),
        }
    }
}

/// A runtime value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    pub bits: u64,
    pub ty: Ty,
}

impl Value {
    pub fn new(bits: u64, ty: Ty) -> Self {
        Value { bits, ty }
    }
    pub fn long(v: i64) -> Self {
        Value::new(v as u64, Ty::LONG)
    }
    pub fn truthy(self) -> bool {
        self.bits != 0 && self.ty != Ty::Nothing
    }
}

/// A name the session answers at run time (docs/language.md, "Names").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Special {
    Brk,
    Sp,
    Rss,
    Vsz,
    PageSize,
    Pid,
    /// `REGION.start|end|size` of the current process.
    Region(RegionRef, RegionField),
    /// `stats.NAME`.
    Stat(Stat),
}

/// The region a `REGION.field` names: a fixed one, or a mapping or thread by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionRef {
    Fixed(RegionName),
    Named(String),
}

pub use crate::words::{Builtin, RegionField, RegionName, Stat};

/// How a binary operator computes, decided from the operand types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinKind {
    /// Plain 64-bit integer arithmetic, signed or not.
    Int { signed: bool },
    /// Pointer ± integer, scaled by the element size (sizes are bytes and not scaled).
    PtrOffset { scale: u64 },
    /// Pointer − pointer, in elements.
    PtrDiff { scale: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: Ex,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ex {
    Const(u64),
    Str(String),
    Perms(Perms, Option<bool>),
    /// `file "PATH"`: the path as written and where it is on the host.
    FileArg(String, std::path::PathBuf),
    Var(u32),
    Special(Special),
    Unary(UnOp, Box<TExpr>),
    Binary(BinOp, BinKind, Box<TExpr>, Box<TExpr>),
    /// A load of `width` bytes at the address.
    Load {
        addr: Box<TExpr>,
        width: u8,
        signed: bool,
    },
    Call(Builtin, Vec<TExpr>),
    /// Conversion: narrows to the target's width.
    Cast(Box<TExpr>),
    /// A process or thread name used as a target (`in web { }`).
    ProcName(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: St,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectIr {
    Cond(TExpr),
    Segfault(Option<SegvCode>),
    Fault(FaultExpect),
    Abort,
    Oom,
    Sigbus,
    Warning(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShowWhat {
    Maps,
    Smaps,
    PageTable,
    Walk(TExpr),
    Tlb,
    Frames,
    Heap,
    Swap,
    Stats,
    Memory(TExpr, TExpr),
    Machine,
}

#[derive(Debug, Clone, PartialEq)]
pub enum St {
    Machine(Box<ScenarioConfig>),
    Process(Box<ProcessSpec>),
    Thread {
        process: Option<String>,
        name: String,
        stack: u64,
    },
    SetVar {
        slot: u32,
        value: TExpr,
    },
    Store {
        addr: TExpr,
        width: u8,
        value: TExpr,
    },
    Eval(TExpr),
    Print(Vec<TExpr>),
    Show(ShowWhat),
    Expect {
        what: ExpectIr,
        body: Vec<Stmt>,
    },
    For {
        slot: u32,
        start: TExpr,
        end: TExpr,
        inclusive: bool,
        body: Vec<Stmt>,
    },
    Repeat {
        count: TExpr,
        body: Vec<Stmt>,
    },
    If {
        cond: TExpr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    In {
        target: TExpr,
        body: Vec<Stmt>,
    },
    Switch(TExpr),
    Call {
        name: String,
        frame: TExpr,
        body: Vec<Stmt>,
    },
    Local {
        slot: u32,
        ty: Ty,
        size: u64,
    },
    Recurse {
        name: String,
        depth: TExpr,
        frame: TExpr,
    },
    Touch {
        write: bool,
        base: TExpr,
        start: TExpr,
        end: TExpr,
        inclusive: bool,
        step: Option<TExpr>,
        value: Option<TExpr>,
    },
    Refs(crate::syntax::PageRefs),
    /// `trace "file"`: the path as written, and resolved against the scenario's folder.
    Trace {
        path: String,
        full: std::path::PathBuf,
    },
    Sweep(Box<SweepIr>),
}

/// A checked `sweep`: every parameter's values expanded, the columns to report, the body.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepIr {
    pub params: Vec<SweepParam>,
    /// What each row reports: the expression and its source text (`stats.faults` when the
    /// sweep names none).
    pub report: Vec<(String, TExpr)>,
    pub body: Vec<Stmt>,
    /// Variable slots the body and the report use (its own `let`s come after the scenario's).
    pub vars: usize,
}

/// One swept machine setting and its values, each as the setting's arguments (what
/// `check::machine::apply_setting` takes) with its text for the table.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepParam {
    pub key: String,
    pub span: Span,
    pub values: Vec<(String, Vec<Arg>)>,
}

/// The scenario's variables, by slot. Bits and types are kept apart so a loop that writes a
/// variable and reads it back does two plain 8-byte accesses: a whole `Value` copied in one
/// 16-byte load right after a field-by-field store stalls store forwarding on x86.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    bits: Vec<u64>,
    tys: Vec<Ty>,
    /// Slots not written since a `machine` statement replaced the world: their pointers are
    /// into the old machine, so they keep no block of the new one reachable.
    stale: Vec<bool>,
}

/// Two sets of variables are equal when they hold the same values; staleness is bookkeeping.
impl PartialEq for Vars {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits && self.tys == other.tys
    }
}

impl Eq for Vars {}

impl Vars {
    #[inline(always)]
    pub fn get(&self, slot: u32) -> Value {
        Value::new(self.bits[slot as usize], self.tys[slot as usize])
    }
    #[inline(always)]
    pub fn set(&mut self, slot: u32, v: Value) {
        self.bits[slot as usize] = v.bits;
        self.tys[slot as usize] = v.ty;
        self.stale[slot as usize] = false;
    }
    /// Sets only the bits of a slot whose type is known not to change (a loop counter).
    #[inline(always)]
    pub fn set_bits(&mut self, slot: u32, bits: u64) {
        self.bits[slot as usize] = bits;
        self.stale[slot as usize] = false;
    }
    #[inline(always)]
    pub fn ty(&self, slot: u32) -> Ty {
        self.tys[slot as usize]
    }
    /// Sets only the type of a slot (a compiled loop keeps the bits in its registers).
    #[inline(always)]
    pub fn set_ty(&mut self, slot: u32, ty: Ty) {
        self.tys[slot as usize] = ty;
    }
    /// Every slot's bits at once, from a compiled loop's registers (`bits` has one per slot).
    pub fn set_all_bits(&mut self, bits: &[u64]) {
        for ((old, new), stale) in self.bits.iter().zip(bits).zip(&mut self.stale) {
            *stale &= old == new;
        }
        self.bits.copy_from_slice(bits);
    }
    pub fn len(&self) -> usize {
        self.bits.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
    /// Grows to `n` slots (new ones hold a `long` 0).
    pub fn resize(&mut self, n: usize) {
        self.bits.resize(n, 0);
        self.tys.resize(n, Ty::LONG);
        self.stale.resize(n, false);
    }
    /// Every variable's raw bits.
    pub fn all_bits(&self) -> &[u64] {
        &self.bits
    }
    /// A new machine: every value held so far belongs to the old one.
    pub fn mark_stale(&mut self) {
        self.stale.fill(true);
    }
    /// The bits of every variable written since the current machine began (for the leak
    /// checker: what still points into a block).
    pub fn live_bits(&self) -> impl Iterator<Item = u64> + '_ {
        self.bits
            .iter()
            .zip(&self.stale)
            .filter(|(_, &stale)| !stale)
            .map(|(&b, _)| b)
    }
}

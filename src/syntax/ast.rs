//! The owned syntax tree of a `.mem` chunk: what the parser produces and every later stage reads.
//!
//! Nothing here refers to pest. Every node carries the byte span of its source text so that
//! diagnostics from any stage can point back into the file, the REPL line or the notebook cell.

pub use super::refs::PageRefs;

/// A half-open byte range `[start, end)` into the chunk's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new(s.start.into(), s.end - s.start)
    }
}

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed chunk: a whole file, a REPL line or a notebook cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub stmts: Vec<Stmt>,
}

/// `{ ... }`: statements with the span of the braces.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `machine x86_64`, `machine "file.yaml"`, `machine { ... }`, `machine x86_64 { ... }`.
    Machine(MachineSpec),
    /// `process NAME` or `process NAME { regions }`.
    Process(ProcessDecl),
    /// `thread P.NAME [stack SIZE]` or `thread NAME [stack SIZE]` (current process).
    Thread(ThreadDecl),
    /// `let NAME [: TYPE] = EXPR`.
    Let {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    /// `LVALUE = EXPR` where the target is a variable, `p[i]` or `*p`.
    Assign {
        target: Expr,
        value: Expr,
    },
    /// A bare expression, evaluated for its effects; in a REPL its value is shown.
    Expr(Expr),
    /// `print ITEM, ...`.
    Print(Vec<Expr>),
    /// `show TARGET [ARGS]`: `maps`, `pagetable`, `walk ADDR`, `memory ADDR LEN`, ...
    Show {
        target: Ident,
        args: Vec<Expr>,
    },
    Expect(Expect),
    /// `for VAR in RANGE { ... }`.
    For {
        var: Ident,
        range: RangeExpr,
        body: Block,
    },
    /// `repeat N { ... }`.
    Repeat {
        count: Expr,
        body: Block,
    },
    /// `if COND { ... } [else if ... | else { ... }]`.
    If {
        cond: Expr,
        then: Block,
        otherwise: Option<Block>,
    },
    /// `in TARGET { ... }`: run a block in another process (name or pid) or thread (`P.T`).
    In {
        target: Expr,
        body: Block,
    },
    /// `switch TARGET`.
    Switch {
        target: Expr,
    },
    /// `call NAME frame SIZE { ... }`: push a stack frame for the block.
    Call {
        name: Ident,
        frame: Expr,
        body: Block,
    },
    /// `local NAME: TYPE` inside a `call` block.
    Local {
        name: Ident,
        ty: TypeExpr,
    },
    /// `recurse NAME DEPTH frame SIZE`.
    Recurse {
        name: Ident,
        depth: Expr,
        frame: Expr,
    },
    /// `read p[a..b] [step S]` / `write p[a..b] [step S] = V`.
    Touch(Touch),
    /// `refs 7 0 1 2 0 3w ...`.
    Refs(PageRefs),
    /// `trace "file"`.
    Trace {
        path: StrLit,
    },
    /// `sweep P in VALUES, ... [report EXPR, ...] { ... }`.
    Sweep(Sweep),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Machine settings

#[derive(Debug, Clone, PartialEq)]
pub struct MachineSpec {
    /// The profile it starts from: a built-in name or a YAML file. `None` = the default machine.
    pub base: Option<ProfileRef>,
    /// Settings from `{ ... }`, in source order.
    pub settings: Vec<Setting>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProfileRef {
    Builtin(Ident),
    File(StrLit),
}

/// `KEY ARG ARG ...` inside `machine { }`, e.g. `tlb 16 entries lru 4-way`.
/// The parser accepts any key and argument words; the check stage knows what each key means.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

/// A value in a setting or a sweep list.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub kind: ArgKind,
    pub span: Span,
    /// Written in hex (`0x3e8`): a teaching heap placed at a hex address prints in hex.
    pub hex: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ArgKind {
    /// A plain integer such as `48` or `0x1000`.
    Int(u64),
    /// An integer with a size unit such as `4 KiB` or `3 pages`.
    Size(SizeLit),
    /// A bare word such as `lru`, `on`, `entries`.
    Word(String),
    /// `4-way`.
    Ways(u64),
    /// A quoted string.
    Str(String),
}

// ---------------------------------------------------------------------------------------------
// Processes and threads

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessDecl {
    pub name: Ident,
    /// `None` for `process NAME` (the default Linux layout); `Some` for an explicit region list.
    pub regions: Option<Vec<RegionDecl>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionDecl {
    /// `text`, `rodata`, `data`, `bss`, `heap`, `stack` or `mmap`.
    pub kind: Ident,
    /// The mapping's name, for `mmap NAME ...`.
    pub name: Option<Ident>,
    /// `at ADDR`.
    pub at: Option<Expr>,
    /// The size, where given.
    pub size: Option<Expr>,
    pub perms: Option<PermsLit>,
    /// `file "path"`.
    pub file: Option<StrLit>,
    /// `shared` (true) or `private` / absent (false).
    pub shared: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadDecl {
    /// The process before the dot in `web.worker`; `None` = the current process.
    pub process: Option<Ident>,
    pub name: Ident,
    pub stack: Option<Expr>,
}

// ---------------------------------------------------------------------------------------------
// Types

#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    /// `u8 ... i64`, `char short int long`; the spelling is kept for messages.
    Prim(Prim),
    /// `*T`.
    Ptr(Box<TypeExpr>),
    /// `T[N]` (only in `local`).
    Array(Box<TypeExpr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prim {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
}

impl Prim {
    pub fn size(self) -> u64 {
        match self {
            Prim::U8 | Prim::I8 => 1,
            Prim::U16 | Prim::I16 => 2,
            Prim::U32 | Prim::I32 => 4,
            Prim::U64 | Prim::I64 => 8,
        }
    }
    pub fn signed(self) -> bool {
        matches!(self, Prim::I8 | Prim::I16 | Prim::I32 | Prim::I64)
    }
    /// Parses both the Rust-like and the C spellings.
    pub fn from_name(s: &str) -> Option<Prim> {
        crate::words::TYPE_NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|&(_, p)| p)
    }
    pub fn name(self) -> &'static str {
        match self {
            Prim::U8 => "u8",
            Prim::I8 => "i8",
            Prim::U16 => "u16",
            Prim::I16 => "i16",
            Prim::U32 => "u32",
            Prim::I32 => "i32",
            Prim::U64 => "u64",
            Prim::I64 => "i64",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expressions

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// An integer literal (negative numbers are `Unary(Neg, Int)`).
    Int(u64),
    /// An integer with a unit: `4 KiB`, `3 pages`.
    Size(SizeLit),
    /// A string literal (in `print`).
    Str(String),
    /// A permission literal such as `rw-` (argument of `mmap` / `mprotect`).
    Perms(PermsLit),
    /// A single name: a variable, or `brk`, `sp`, `rss`, `vsz`, `page_size`, `pid`, ...
    Name(Ident),
    /// A dotted name: `heap.start`, `stats.tlb.hits`, `web.worker`. At least two parts.
    Path(Vec<Ident>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `NAME(ARGS)`: a builtin.
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
    /// `file "path"` as an argument of `mmap`.
    FileArg(StrLit),
    /// `base[index]`.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `*e`.
    Deref(Box<Expr>),
    /// `&e` where e is `p[i]` or `*p` or a `local`.
    AddrOf(Box<Expr>),
    /// `sizeof(T)`.
    SizeOf(TypeExpr),
    /// `e as T`.
    Cast(Box<Expr>, TypeExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    /// `~`
    BitNot,
    /// `!`
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLit {
    pub value: u64,
    pub unit: SizeUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeUnit {
    B,
    /// `KiB`, `K`, `kB` (Linux's spelling): all 1024.
    KiB,
    MiB,
    GiB,
    TiB,
    /// `page` / `pages`: the machine's page size, known only once the machine is.
    Pages,
}

impl SizeUnit {
    /// Bytes per unit; `None` for pages (machine-dependent).
    pub fn bytes(self) -> Option<u64> {
        match self {
            SizeUnit::B => Some(1),
            SizeUnit::KiB => Some(1 << 10),
            SizeUnit::MiB => Some(1 << 20),
            SizeUnit::GiB => Some(1 << 30),
            SizeUnit::TiB => Some(1 << 40),
            SizeUnit::Pages => None,
        }
    }
}

/// `r--`, `rw-`, `r-x`, `rwx`, `---`, optionally with `p`/`s` as in /proc maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermsLit {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    /// `Some(true)` for a trailing `s`, `Some(false)` for `p`.
    pub shared: Option<bool>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RangeExpr {
    pub start: Expr,
    pub end: Expr,
    /// `..=` rather than `..`.
    pub inclusive: bool,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Accesses, expectations, experiments

#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    pub write: bool,
    /// The pointer being indexed (`p` in `p[0..64 KiB]`).
    pub base: Expr,
    /// Byte offsets from the pointer.
    pub range: RangeExpr,
    pub step: Option<Expr>,
    /// The byte written, for `write ... = V`.
    pub value: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub kind: ExpectKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExpectKind {
    /// `expect COND`.
    Cond(Expr),
    /// `expect segfault [maperr|accerr] { ... }`.
    Segfault {
        code: Option<SegvCode>,
        body: Block,
    },
    /// `expect fault minor|major { ... }`, `expect fault { ... }` (any), `expect no fault { ... }`.
    Fault {
        kind: FaultExpect,
        body: Block,
    },
    /// `expect abort { ... }`: glibc aborts (double free, invalid pointer, ...).
    Abort {
        body: Block,
    },
    /// `expect oom { ... }`: the OOM killer ends the process.
    Oom {
        body: Block,
    },
    Sigbus {
        body: Block,
    },
    /// `expect warning KIND { ... }`: overflow | use_after_free | uninit | leak.
    Warning {
        kind: Ident,
        body: Block,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegvCode {
    MapErr,
    AccErr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultExpect {
    Any,
    Minor,
    Major,
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    pub params: Vec<SweepParam>,
    /// `report EXPR, ...`; empty = `stats.faults`.
    pub report: Vec<Expr>,
    pub body: Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SweepParam {
    /// A machine setting: `replace`, `memory`, `page_size`, `tlb`, ...
    pub key: Ident,
    pub values: SweepValues,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SweepValues {
    /// `[fifo, lru, opt]`, `[4 KiB, 16 KiB]`.
    List(Vec<Arg>),
    /// `1..=7 pages`, `1..8`.
    Range {
        start: u64,
        end: u64,
        inclusive: bool,
        unit: Option<SizeUnit>,
        span: Span,
    },
}

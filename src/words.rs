//! The language's vocabulary, each word list defined once: keywords, units, operators, builtins,
//! `show` targets, statistics, names, machine settings, policies and allocators.
//!
//! The parser's error wording, the checker, completion, highlighting, `:help`, the kernel's
//! inspection and the docs' tables all read these tables; the grammar (`grammar/mem.pest`) must
//! agree with them, which the tests below hold. Adding a builtin or a `show` target is one
//! entry here plus its behaviour: the exhaustive matches on [`Builtin`] and [`ShowTarget`] in
//! the checker and the session point at every place that must learn it.

pub use crate::heap::{AllocatorKind, FreeListOrder};
pub use crate::machine::Policy;
pub use crate::syntax::ast::{BinOp, Prim, SizeUnit};

/// A word the grammar gives a meaning: reserved words, which begin a statement (or are `else`,
/// `in`, `as`, `sizeof`) and cannot be names, and contextual words, which mean something only
/// inside one statement and stay names elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Let,
    Machine,
    Process,
    Thread,
    Print,
    Show,
    Expect,
    For,
    In,
    Repeat,
    If,
    Else,
    Switch,
    Call,
    Local,
    Recurse,
    Read,
    Write,
    Refs,
    Trace,
    Sweep,
    Sizeof,
    As,
    Mmap,
    At,
    File,
    Stack,
    Frame,
    Step,
    Report,
    Segfault,
    Fault,
    No,
    Abort,
    Oom,
    Sigbus,
    Warning,
}

impl Keyword {
    /// Reserved words first, in the order "did you mean" prefers them on a tie.
    pub const ALL: [Keyword; 37] = [
        Keyword::Let,
        Keyword::Machine,
        Keyword::Process,
        Keyword::Thread,
        Keyword::Print,
        Keyword::Show,
        Keyword::Expect,
        Keyword::For,
        Keyword::In,
        Keyword::Repeat,
        Keyword::If,
        Keyword::Else,
        Keyword::Switch,
        Keyword::Call,
        Keyword::Local,
        Keyword::Recurse,
        Keyword::Read,
        Keyword::Write,
        Keyword::Refs,
        Keyword::Trace,
        Keyword::Sweep,
        Keyword::Sizeof,
        Keyword::As,
        Keyword::Mmap,
        Keyword::At,
        Keyword::File,
        Keyword::Stack,
        Keyword::Frame,
        Keyword::Step,
        Keyword::Report,
        Keyword::Segfault,
        Keyword::Fault,
        Keyword::No,
        Keyword::Abort,
        Keyword::Oom,
        Keyword::Sigbus,
        Keyword::Warning,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Keyword::Let => "let",
            Keyword::Machine => "machine",
            Keyword::Process => "process",
            Keyword::Thread => "thread",
            Keyword::Print => "print",
            Keyword::Show => "show",
            Keyword::Expect => "expect",
            Keyword::For => "for",
            Keyword::In => "in",
            Keyword::Repeat => "repeat",
            Keyword::If => "if",
            Keyword::Else => "else",
            Keyword::Switch => "switch",
            Keyword::Call => "call",
            Keyword::Local => "local",
            Keyword::Recurse => "recurse",
            Keyword::Read => "read",
            Keyword::Write => "write",
            Keyword::Refs => "refs",
            Keyword::Trace => "trace",
            Keyword::Sweep => "sweep",
            Keyword::Sizeof => "sizeof",
            Keyword::As => "as",
            Keyword::Mmap => "mmap",
            Keyword::At => "at",
            Keyword::File => "file",
            Keyword::Stack => "stack",
            Keyword::Frame => "frame",
            Keyword::Step => "step",
            Keyword::Report => "report",
            Keyword::Segfault => "segfault",
            Keyword::Fault => "fault",
            Keyword::No => "no",
            Keyword::Abort => "abort",
            Keyword::Oom => "oom",
            Keyword::Sigbus => "sigbus",
            Keyword::Warning => "warning",
        }
    }

    /// Whether the word can never be a name (`repeat = 1` does not parse, `report = 1` does).
    pub const fn reserved(self) -> bool {
        match self {
            Keyword::Let
            | Keyword::Machine
            | Keyword::Process
            | Keyword::Thread
            | Keyword::Print
            | Keyword::Show
            | Keyword::Expect
            | Keyword::For
            | Keyword::In
            | Keyword::Repeat
            | Keyword::If
            | Keyword::Else
            | Keyword::Switch
            | Keyword::Call
            | Keyword::Local
            | Keyword::Recurse
            | Keyword::Read
            | Keyword::Write
            | Keyword::Refs
            | Keyword::Trace
            | Keyword::Sweep
            | Keyword::Sizeof
            | Keyword::As => true,
            Keyword::Mmap
            | Keyword::At
            | Keyword::File
            | Keyword::Stack
            | Keyword::Frame
            | Keyword::Step
            | Keyword::Report
            | Keyword::Segfault
            | Keyword::Fault
            | Keyword::No
            | Keyword::Abort
            | Keyword::Oom
            | Keyword::Sigbus
            | Keyword::Warning => false,
        }
    }

    pub fn from_name(s: &str) -> Option<Keyword> {
        Keyword::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// The reserved words, in [`Keyword::ALL`]'s order.
pub const RESERVED: [&str; 23] = {
    let mut out = [""; 23];
    let (mut i, mut n) = (0, 0);
    while i < Keyword::ALL.len() {
        if Keyword::ALL[i].reserved() {
            out[n] = Keyword::ALL[i].name();
            n += 1;
        }
        i += 1;
    }
    assert!(
        n == out.len(),
        "RESERVED's length is the count of reserved keywords"
    );
    out
};

/// `expect segfault CODE { … }`: the `si_code`s a segfault can be expected with.
pub const SEGV_CODES: [&str; 2] = ["maperr", "accerr"];
/// `expect fault KIND { … }`.
pub const FAULT_KINDS: [&str; 2] = ["minor", "major"];
/// `mmap(…, shared)`, `mmap(…, private)`.
pub const SHARINGS: [&str; 2] = ["shared", "private"];
/// `expect warning KIND { … }`: the kinds of safety finding.
pub const WARNING_KINDS: [&str; 4] = ["overflow", "use_after_free", "uninit", "leak"];

/// Every word with a meaning to the grammar: [`Keyword::ALL`], then the closed word sets of
/// `expect` and `mmap`.
pub fn keywords() -> impl Iterator<Item = &'static str> {
    Keyword::ALL
        .into_iter()
        .map(Keyword::name)
        .chain(SEGV_CODES)
        .chain(FAULT_KINDS)
        .chain(SHARINGS)
}

/// A size unit as written, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub name: &'static str,
    pub unit: SizeUnit,
}

/// Every spelling of a size unit, in the order error messages list them.
pub const UNITS: [Unit; 12] = [
    Unit {
        name: "B",
        unit: SizeUnit::B,
    },
    Unit {
        name: "KiB",
        unit: SizeUnit::KiB,
    },
    Unit {
        name: "K",
        unit: SizeUnit::KiB,
    },
    Unit {
        name: "kB",
        unit: SizeUnit::KiB,
    },
    Unit {
        name: "MiB",
        unit: SizeUnit::MiB,
    },
    Unit {
        name: "M",
        unit: SizeUnit::MiB,
    },
    Unit {
        name: "GiB",
        unit: SizeUnit::GiB,
    },
    Unit {
        name: "G",
        unit: SizeUnit::GiB,
    },
    Unit {
        name: "TiB",
        unit: SizeUnit::TiB,
    },
    Unit {
        name: "T",
        unit: SizeUnit::TiB,
    },
    Unit {
        name: "page",
        unit: SizeUnit::Pages,
    },
    Unit {
        name: "pages",
        unit: SizeUnit::Pages,
    },
];

/// The names of [`UNITS`].
pub const UNIT_NAMES: [&str; UNITS.len()] = {
    let mut out = [""; UNITS.len()];
    let mut i = 0;
    while i < UNITS.len() {
        out[i] = UNITS[i].name;
        i += 1;
    }
    out
};

impl SizeUnit {
    /// The unit a spelling names (`K`, `kB` and `KiB` are all 1024 bytes).
    pub fn from_name(s: &str) -> Option<SizeUnit> {
        UNITS.iter().find(|u| u.name == s).map(|u| u.unit)
    }
}

/// A primitive type's spelling: memsim's (`u8` … `i64`) and C's (`char` … `long`).
pub const TYPE_NAMES: [(&str, Prim); 12] = [
    ("u8", Prim::U8),
    ("i8", Prim::I8),
    ("u16", Prim::U16),
    ("i16", Prim::I16),
    ("u32", Prim::U32),
    ("i32", Prim::I32),
    ("u64", Prim::U64),
    ("i64", Prim::I64),
    ("char", Prim::I8),
    ("short", Prim::I16),
    ("int", Prim::I32),
    ("long", Prim::I64),
];

/// The spellings of [`TYPE_NAMES`].
pub const TYPE_WORDS: [&str; TYPE_NAMES.len()] = {
    let mut out = [""; TYPE_NAMES.len()];
    let mut i = 0;
    while i < TYPE_NAMES.len() {
        out[i] = TYPE_NAMES[i].0;
        i += 1;
    }
    out
};

/// An infix operator and what it does; [`BinOp::precedence`] says how tightly it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub op: BinOp,
    pub help: &'static str,
}

/// The infix operators, loosest first. The prefix operators (`-` `!` `~` `*` `&`) bind tighter
/// than all of them, and indexing, `as`, calls and dotted names tighter still.
pub const OPERATORS: [Operator; 18] = [
    Operator {
        op: BinOp::Or,
        help: "logical or, short-circuit",
    },
    Operator {
        op: BinOp::And,
        help: "logical and, short-circuit",
    },
    Operator {
        op: BinOp::Eq,
        help: "equal",
    },
    Operator {
        op: BinOp::Ne,
        help: "not equal",
    },
    Operator {
        op: BinOp::Lt,
        help: "less than",
    },
    Operator {
        op: BinOp::Le,
        help: "less than or equal",
    },
    Operator {
        op: BinOp::Gt,
        help: "greater than",
    },
    Operator {
        op: BinOp::Ge,
        help: "greater than or equal",
    },
    Operator {
        op: BinOp::BitOr,
        help: "bitwise or",
    },
    Operator {
        op: BinOp::BitXor,
        help: "bitwise exclusive or",
    },
    Operator {
        op: BinOp::BitAnd,
        help: "bitwise and",
    },
    Operator {
        op: BinOp::Shl,
        help: "shift left",
    },
    Operator {
        op: BinOp::Shr,
        help: "shift right (arithmetic when signed)",
    },
    Operator {
        op: BinOp::Add,
        help: "add; pointer + n moves n elements",
    },
    Operator {
        op: BinOp::Sub,
        help: "subtract; pointer − pointer counts elements",
    },
    Operator {
        op: BinOp::Mul,
        help: "multiply",
    },
    Operator {
        op: BinOp::Div,
        help: "divide (by zero is an error)",
    },
    Operator {
        op: BinOp::Rem,
        help: "remainder (by zero is an error)",
    },
];

/// The precedence of the prefix operators.
pub const PREFIX_PRECEDENCE: u8 = 11;

impl BinOp {
    /// How tightly it binds: higher binds tighter; all associate to the left.
    pub const fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::BitOr => 5,
            BinOp::BitXor => 6,
            BinOp::BitAnd => 7,
            BinOp::Shl | BinOp::Shr => 8,
            BinOp::Add | BinOp::Sub => 9,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 10,
        }
    }
}

/// What a builtin's argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A number or a pointer.
    Value,
    /// Permissions such as `rw-`.
    Perms,
    /// `shared`, `private` or `file "PATH"`.
    MapFlag,
    /// `file "PATH"`.
    File,
}

/// What a builtin returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// An untyped pointer, `*u8`.
    Pointer,
    /// Nothing: the call is a statement.
    Nothing,
    /// A `long` (a status, a pid).
    Long,
    /// An `int`.
    Int,
    /// A `u64`.
    U64,
    /// A size, printed with its unit.
    Size,
}

/// A builtin function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Malloc,
    Calloc,
    Realloc,
    Free,
    Memset,
    Memcpy,
    Mmap,
    Munmap,
    Mprotect,
    Brk,
    Sbrk,
    Fork,
    GetPageSize,
    PageOf,
    OffsetOf,
    FrameOf,
    UsableSize,
    /// `set_pte(vpn, pfn)`: a valid entry written by hand.
    SetPte,
    /// `clear_pte(vpn)`: the entry made invalid.
    ClearPte,
    /// `translate(addr)`: the physical address, or nothing, without faulting.
    Translate,
    /// `load_dump(file "PATH")`: physical memory filled from a dump of pages.
    LoadDump,
    /// `phys_byte(paddr)`: the byte at a physical address.
    PhysByte,
}

/// Everything the language services and the checker know of a builtin.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinSpec {
    pub name: &'static str,
    /// The parameters; those from index `required` on may be left out.
    pub params: &'static [ParamKind],
    pub required: usize,
    pub returns: Returns,
    /// How a call is written, for arity errors, hints and `:help`.
    pub usage: &'static str,
    /// One line on what it does, for inspection and completion menus.
    pub help: &'static str,
}

use ParamKind::{File, MapFlag, Perms as P, Value as V};

impl Builtin {
    pub const ALL: [Builtin; 22] = [
        Builtin::Malloc,
        Builtin::Calloc,
        Builtin::Realloc,
        Builtin::Free,
        Builtin::Memset,
        Builtin::Memcpy,
        Builtin::Mmap,
        Builtin::Munmap,
        Builtin::Mprotect,
        Builtin::Brk,
        Builtin::Sbrk,
        Builtin::Fork,
        Builtin::GetPageSize,
        Builtin::PageOf,
        Builtin::OffsetOf,
        Builtin::FrameOf,
        Builtin::UsableSize,
        Builtin::SetPte,
        Builtin::ClearPte,
        Builtin::Translate,
        Builtin::LoadDump,
        Builtin::PhysByte,
    ];

    pub const fn spec(self) -> BuiltinSpec {
        const fn b(
            name: &'static str,
            params: &'static [ParamKind],
            required: usize,
            returns: Returns,
            usage: &'static str,
            help: &'static str,
        ) -> BuiltinSpec {
            BuiltinSpec {
                name,
                params,
                required,
                returns,
                usage,
                help,
            }
        }
        match self {
            Builtin::Malloc => b(
                "malloc",
                &[V],
                1,
                Returns::Pointer,
                "malloc(n)",
                "allocates n bytes on the heap",
            ),
            Builtin::Calloc => b(
                "calloc",
                &[V, V],
                2,
                Returns::Pointer,
                "calloc(n, size)",
                "allocates n × size zeroed bytes",
            ),
            Builtin::Realloc => b(
                "realloc",
                &[V, V],
                2,
                Returns::Pointer,
                "realloc(p, n)",
                "resizes a block, in place or by moving it",
            ),
            Builtin::Free => b(
                "free",
                &[V],
                1,
                Returns::Nothing,
                "free(p)",
                "gives a heap block back to the allocator",
            ),
            Builtin::Memset => b(
                "memset",
                &[V, V, V],
                3,
                Returns::Pointer,
                "memset(p, byte, n)",
                "stores one byte value into n bytes",
            ),
            Builtin::Memcpy => b(
                "memcpy",
                &[V, V, V],
                3,
                Returns::Pointer,
                "memcpy(dst, src, n)",
                "copies n bytes",
            ),
            Builtin::Mmap => b(
                "mmap",
                &[V, P, MapFlag, MapFlag],
                2,
                Returns::Pointer,
                "mmap(len, perms [, shared] [, file \"f\"])",
                "maps pages: anonymous, or a file's; private or shared",
            ),
            Builtin::Munmap => b(
                "munmap",
                &[V, V],
                2,
                Returns::Long,
                "munmap(p, len)",
                "removes the mappings of a range",
            ),
            Builtin::Mprotect => b(
                "mprotect",
                &[V, V, P],
                3,
                Returns::Long,
                "mprotect(p, len, perms)",
                "changes the permissions of a range",
            ),
            Builtin::Brk => b(
                "brk",
                &[V],
                1,
                Returns::Pointer,
                "brk(addr)",
                "moves the program break to an address",
            ),
            Builtin::Sbrk => b(
                "sbrk",
                &[V],
                1,
                Returns::Pointer,
                "sbrk(n)",
                "moves the program break by n bytes, returning the old one",
            ),
            Builtin::Fork => b(
                "fork",
                &[],
                0,
                Returns::Long,
                "fork()",
                "copies the current process, sharing its pages copy-on-write",
            ),
            Builtin::GetPageSize => b(
                "getpagesize",
                &[],
                0,
                Returns::Int,
                "getpagesize()",
                "the page size in bytes",
            ),
            Builtin::PageOf => b(
                "page_of",
                &[V],
                1,
                Returns::U64,
                "page_of(addr)",
                "the virtual page number of an address",
            ),
            Builtin::OffsetOf => b(
                "offset_of",
                &[V],
                1,
                Returns::U64,
                "offset_of(addr)",
                "an address's offset within its page",
            ),
            Builtin::FrameOf => b(
                "frame_of",
                &[V],
                1,
                Returns::U64,
                "frame_of(addr)",
                "the frame holding an address's page, or none",
            ),
            Builtin::UsableSize => b(
                "usable_size",
                &[V],
                1,
                Returns::Size,
                "usable_size(p)",
                "the bytes a heap block can really hold",
            ),
            Builtin::SetPte => b(
                "set_pte",
                &[V, V],
                2,
                Returns::Nothing,
                "set_pte(vpn, pfn)",
                "writes a valid page-table entry by hand",
            ),
            Builtin::ClearPte => b(
                "clear_pte",
                &[V],
                1,
                Returns::Nothing,
                "clear_pte(vpn)",
                "makes a page-table entry invalid",
            ),
            Builtin::Translate => b(
                "translate",
                &[V],
                1,
                Returns::U64,
                "translate(addr)",
                "the physical address of an address, or none, without faulting",
            ),
            Builtin::LoadDump => b(
                "load_dump",
                &[File],
                1,
                Returns::Nothing,
                "load_dump(file \"PATH\")",
                "fills physical memory from a dump of pages (`page N: hex bytes`)",
            ),
            Builtin::PhysByte => b(
                "phys_byte",
                &[V],
                1,
                Returns::Int,
                "phys_byte(paddr)",
                "the byte at a physical address",
            ),
        }
    }

    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn from_name(s: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == s)
    }
}

/// The names of the builtins, in [`Builtin::ALL`]'s order.
pub const BUILTIN_NAMES: [&str; Builtin::ALL.len()] = {
    let mut out = [""; Builtin::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = Builtin::ALL[i].name();
        i += 1;
    }
    out
};

/// What `show` can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShowTarget {
    Maps,
    Smaps,
    PageTable,
    Walk,
    Tlb,
    Frames,
    Heap,
    Swap,
    Stats,
    Memory,
    Machine,
}

impl ShowTarget {
    pub const ALL: [ShowTarget; 11] = [
        ShowTarget::Maps,
        ShowTarget::Smaps,
        ShowTarget::PageTable,
        ShowTarget::Walk,
        ShowTarget::Tlb,
        ShowTarget::Frames,
        ShowTarget::Heap,
        ShowTarget::Swap,
        ShowTarget::Stats,
        ShowTarget::Memory,
        ShowTarget::Machine,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ShowTarget::Maps => "maps",
            ShowTarget::Smaps => "smaps",
            ShowTarget::PageTable => "pagetable",
            ShowTarget::Walk => "walk",
            ShowTarget::Tlb => "tlb",
            ShowTarget::Frames => "frames",
            ShowTarget::Heap => "heap",
            ShowTarget::Swap => "swap",
            ShowTarget::Stats => "stats",
            ShowTarget::Memory => "memory",
            ShowTarget::Machine => "machine",
        }
    }

    /// The arguments it takes, as a usage line names them.
    pub const fn params(self) -> &'static [&'static str] {
        match self {
            ShowTarget::Walk => &["ADDR"],
            ShowTarget::Memory => &["ADDR", "LEN"],
            ShowTarget::Maps
            | ShowTarget::Smaps
            | ShowTarget::PageTable
            | ShowTarget::Tlb
            | ShowTarget::Frames
            | ShowTarget::Heap
            | ShowTarget::Swap
            | ShowTarget::Stats
            | ShowTarget::Machine => &[],
        }
    }

    /// How it is written: `show walk ADDR`.
    pub fn usage(self) -> String {
        let mut s = format!("show {}", self.name());
        for p in self.params() {
            s.push(' ');
            s.push_str(p);
        }
        s
    }

    /// One line on what it shows (`:help show` lists them; empty means it is listed bare).
    pub const fn help(self) -> &'static str {
        match self {
            ShowTarget::Maps => "the mappings, like /proc/PID/maps",
            ShowTarget::Smaps => "per mapping: size, RSS, page sizes",
            ShowTarget::PageTable => "valid page-table entries: page → frame, bits, permissions",
            ShowTarget::Walk => "`show walk ADDR`: each level of one translation",
            ShowTarget::Tlb => "the TLB's entries",
            ShowTarget::Frames => "who owns each physical frame",
            ShowTarget::Heap => "the allocator's chunks: address, size, in use or free",
            ShowTarget::Swap => "the swap slots in use",
            ShowTarget::Stats => "the counters: faults, TLB hits and misses, evictions…",
            ShowTarget::Memory => "`show memory ADDR LEN`: a hex dump",
            ShowTarget::Machine => "",
        }
    }

    pub fn from_name(s: &str) -> Option<ShowTarget> {
        ShowTarget::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// The names of the `show` targets, in [`ShowTarget::ALL`]'s order.
pub const SHOW_TARGETS: [&str; ShowTarget::ALL.len()] = {
    let mut out = [""; ShowTarget::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = ShowTarget::ALL[i].name();
        i += 1;
    }
    out
};

/// A counter readable as `stats.NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stat {
    Faults,
    Minor,
    Major,
    Segv,
    Sigbus,
    Accesses,
    TlbHits,
    TlbMisses,
    Walks,
    WalkRefs,
    Evictions,
    SwapIns,
    SwapOuts,
    Writebacks,
    References,
    StackGrowths,
    CowCopies,
}

impl Stat {
    pub const ALL: [Stat; 17] = [
        Stat::Faults,
        Stat::Minor,
        Stat::Major,
        Stat::Segv,
        Stat::Sigbus,
        Stat::Accesses,
        Stat::TlbHits,
        Stat::TlbMisses,
        Stat::Walks,
        Stat::WalkRefs,
        Stat::Evictions,
        Stat::SwapIns,
        Stat::SwapOuts,
        Stat::Writebacks,
        Stat::References,
        Stat::StackGrowths,
        Stat::CowCopies,
    ];

    /// The name after `stats.`.
    pub const fn name(self) -> &'static str {
        match self {
            Stat::Faults => "faults",
            Stat::Minor => "minor",
            Stat::Major => "major",
            Stat::Segv => "segv",
            Stat::Sigbus => "sigbus",
            Stat::Accesses => "accesses",
            Stat::TlbHits => "tlb.hits",
            Stat::TlbMisses => "tlb.misses",
            Stat::Walks => "walks",
            Stat::WalkRefs => "walk_refs",
            Stat::Evictions => "evictions",
            Stat::SwapIns => "swap_ins",
            Stat::SwapOuts => "swap_outs",
            Stat::Writebacks => "writebacks",
            Stat::References => "references",
            Stat::StackGrowths => "stack_growths",
            Stat::CowCopies => "cow_copies",
        }
    }

    /// What it counts.
    pub const fn help(self) -> &'static str {
        match self {
            Stat::Faults => "page faults of every kind (minor + major)",
            Stat::Minor => "page faults served without reading a disk: a zero-filled frame, a copy on write, a page already in memory",
            Stat::Major => "page faults that read the page back from swap or from its file",
            Stat::Segv => "segmentation faults delivered",
            Stat::Sigbus => "bus errors delivered (a file mapping touched past its file's last page)",
            Stat::Accesses => "translations the MMU did (a faulting access is translated again after the fault)",
            Stat::TlbHits => "translations the TLB answered",
            Stat::TlbMisses => "translations the TLB did not have: each costs a page-table walk",
            Stat::Walks => "page-table walks",
            Stat::WalkRefs => "memory references the page-table walks made (one per level read)",
            Stat::Evictions => "pages taken out of their frame to make room",
            Stat::SwapIns => "pages read back from swap",
            Stat::SwapOuts => "pages written out to swap",
            Stat::Writebacks => "dirty pages of shared file mappings written back to their file on eviction",
            Stat::References => "memory references the program made: each access, each page of `refs` and of a trace",
            Stat::StackGrowths => "times the stack grew down to take an access just below it",
            Stat::CowCopies => "pages copied on a write after fork (copy on write)",
        }
    }

    /// Its value in a snapshot of the counters.
    pub fn read(self, s: &crate::session::snapshot::StatsSnap) -> u64 {
        match self {
            Stat::Faults => s.faults,
            Stat::Minor => s.minor,
            Stat::Major => s.major,
            Stat::Segv => s.segv,
            Stat::Sigbus => s.sigbus,
            Stat::Accesses => s.accesses,
            Stat::TlbHits => s.tlb_hits,
            Stat::TlbMisses => s.tlb_misses,
            Stat::Walks => s.walks,
            Stat::WalkRefs => s.walk_refs,
            Stat::Evictions => s.evictions,
            Stat::SwapIns => s.swap_ins,
            Stat::SwapOuts => s.swap_outs,
            Stat::Writebacks => s.writebacks,
            Stat::References => s.references,
            Stat::StackGrowths => s.stack_growths,
            Stat::CowCopies => s.cow_copies,
        }
    }

    pub fn from_name(s: &str) -> Option<Stat> {
        Stat::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// The names of the counters, in [`Stat::ALL`]'s order.
pub const STAT_NAMES: [&str; Stat::ALL.len()] = {
    let mut out = [""; Stat::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = Stat::ALL[i].name();
        i += 1;
    }
    out
};

/// A name the language answers by itself (not a variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialName {
    Brk,
    Sp,
    Rss,
    Vsz,
    PageSize,
    Pid,
    None,
    Null,
}

impl SpecialName {
    pub const ALL: [SpecialName; 8] = [
        SpecialName::Brk,
        SpecialName::Sp,
        SpecialName::Rss,
        SpecialName::Vsz,
        SpecialName::PageSize,
        SpecialName::Pid,
        SpecialName::None,
        SpecialName::Null,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            SpecialName::Brk => "brk",
            SpecialName::Sp => "sp",
            SpecialName::Rss => "rss",
            SpecialName::Vsz => "vsz",
            SpecialName::PageSize => "page_size",
            SpecialName::Pid => "pid",
            SpecialName::None => "none",
            SpecialName::Null => "NULL",
        }
    }

    /// What it is, in a line.
    pub const fn help(self) -> &'static str {
        match self {
            SpecialName::Brk => "the program break",
            SpecialName::Sp => "the stack pointer of the current thread",
            SpecialName::Rss => "resident memory: pages with a frame",
            SpecialName::Vsz => "the sum of the mappings",
            SpecialName::PageSize => "the machine's page size",
            SpecialName::Pid => "the current process's pid",
            SpecialName::None => "no value: what frame_of gives for a page without a frame",
            SpecialName::Null => "the null pointer",
        }
    }

    /// The special a name is; `null` is accepted for `NULL`.
    pub fn from_name(s: &str) -> Option<SpecialName> {
        if s == "null" {
            return Some(SpecialName::Null);
        }
        SpecialName::ALL.into_iter().find(|n| n.name() == s)
    }
}

/// The names of [`SpecialName`].
pub const SPECIAL_NAMES: [&str; SpecialName::ALL.len()] = {
    let mut out = [""; SpecialName::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = SpecialName::ALL[i].name();
        i += 1;
    }
    out
};

/// A fixed region of a process, usable as `REGION.start|end|size` and in `process { }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionName {
    Text,
    Rodata,
    Data,
    Bss,
    Heap,
    Stack,
}

impl RegionName {
    pub const ALL: [RegionName; 6] = [
        RegionName::Text,
        RegionName::Rodata,
        RegionName::Data,
        RegionName::Bss,
        RegionName::Heap,
        RegionName::Stack,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            RegionName::Text => "text",
            RegionName::Rodata => "rodata",
            RegionName::Data => "data",
            RegionName::Bss => "bss",
            RegionName::Heap => "heap",
            RegionName::Stack => "stack",
        }
    }

    pub fn from_name(s: &str) -> Option<RegionName> {
        RegionName::ALL.into_iter().find(|n| n.name() == s)
    }
}

/// The names of [`RegionName`].
pub const REGION_NAMES: [&str; RegionName::ALL.len()] = {
    let mut out = [""; RegionName::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = RegionName::ALL[i].name();
        i += 1;
    }
    out
};

/// A `process { }` layout's region kinds: [`REGION_NAMES`] and `mmap`.
pub const REGION_KINDS: [&str; 7] = ["text", "rodata", "data", "bss", "heap", "stack", "mmap"];

/// A field of a region: `heap.start`, `heap.end`, `heap.size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionField {
    Start,
    End,
    Size,
}

impl RegionField {
    pub const ALL: [RegionField; 3] = [RegionField::Start, RegionField::End, RegionField::Size];

    pub const fn name(self) -> &'static str {
        match self {
            RegionField::Start => "start",
            RegionField::End => "end",
            RegionField::Size => "size",
        }
    }

    /// The field a name is; `top` is accepted for `end` (a stack's top is its end).
    pub fn from_name(s: &str) -> Option<RegionField> {
        if s == "top" {
            return Some(RegionField::End);
        }
        RegionField::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// The names of [`RegionField`].
pub const REGION_FIELDS: [&str; RegionField::ALL.len()] = {
    let mut out = [""; RegionField::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = RegionField::ALL[i].name();
        i += 1;
    }
    out
};

/// A key of a `machine { }` block and what it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    /// The value it takes, in words, for "bad value" help lines.
    pub takes: &'static str,
}

/// Every key a `machine { }` block accepts, in the order the help lists them.
pub const SETTINGS: [Setting; 28] = [
    Setting {
        name: "page_size",
        takes: "a size such as `4 KiB`",
    },
    Setting {
        name: "memory",
        takes: "a size such as `64 KiB` or `16 pages`",
    },
    Setting {
        name: "swap",
        takes: "a size such as `64 KiB`, or `0` for no swap",
    },
    Setting {
        name: "va_bits",
        takes: "a number of bits such as `48`",
    },
    Setting {
        name: "levels",
        takes: "a number of page-table levels such as `4`",
    },
    Setting {
        name: "pte_size",
        takes: "a size in bytes: `8` (64-bit) or `4` (32-bit)",
    },
    Setting {
        name: "tlb",
        takes: "`off`, or a number of entries such as `16 entries lru 4-way`",
    },
    Setting {
        name: "replace",
        takes: "a policy (fifo, lru, clock, opt, random, mru or unopt), optionally then global or local",
    },
    Setting {
        name: "seed",
        takes: "an integer such as `42`",
    },
    Setting {
        name: "aslr",
        takes: "`on` or `off`",
    },
    Setting {
        name: "pie",
        takes: "`on` or `off`",
    },
    Setting {
        name: "pcid",
        takes: "`on` or `off`",
    },
    Setting {
        name: "allocator",
        takes: "glibc, first_fit, best_fit or worst_fit",
    },
    Setting {
        name: "heap",
        takes: "a size and an address such as `100 B at 1000`",
    },
    Setting {
        name: "header",
        takes: "a size in bytes such as `8` or `8 B`",
    },
    Setting {
        name: "coalesce",
        takes: "`on` or `off`",
    },
    Setting {
        name: "order",
        takes: "address, size_asc, size_desc, insert_front or insert_back",
    },
    Setting {
        name: "addresses",
        takes: "decimal, hex or auto",
    },
    Setting {
        name: "stack_limit",
        takes: "a size such as `8 MiB`",
    },
    Setting {
        name: "scope",
        takes: "global or local",
    },
    Setting {
        name: "conventions",
        takes: "textbook or ostep",
    },
    Setting {
        name: "clock_bits",
        takes: "a number of bits such as `2`",
    },
    Setting {
        name: "arch",
        takes: "x86_64, i386, aarch64 or riscv64",
    },
    Setting {
        name: "align",
        takes: "a size in bytes such as `4`",
    },
    Setting {
        name: "base_bounds",
        takes: "a base address and a limit in bytes, such as `12418 472`",
    },
    Setting {
        name: "seg0",
        takes: "a base address and a limit in bytes, such as `6890 472`",
    },
    Setting {
        name: "seg1",
        takes: "a base address and a limit in bytes, such as `6890 472`",
    },
    Setting {
        name: "pdbr",
        takes: "the page number of the page directory, such as `108`",
    },
];

/// The keys of [`SETTINGS`].
pub const SETTING_NAMES: [&str; SETTINGS.len()] = {
    let mut out = [""; SETTINGS.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = SETTINGS[i].name;
        i += 1;
    }
    out
};

/// The top-level keys of a profile file (YAML), as serde reads them into the profile's
/// fields: for "did you mean" on an unknown key, and the docs.
pub const PROFILE_KEYS: [&str; 22] = [
    "name",
    "description",
    "page_size",
    "va_bits",
    "levels",
    "pte_size",
    "memory",
    "swap",
    "tlb",
    "replace",
    "scope",
    "seed",
    "aslr",
    "pie",
    "pcid",
    "allocator",
    "heap",
    "stack_limit",
    "addresses",
    "conventions",
    "clock_bits",
    "arch",
];

/// The keys of a profile's `tlb:` table.
pub const PROFILE_TLB_KEYS: [&str; 4] = ["enabled", "entries", "ways", "policy"];

/// The keys of a profile's `heap:` table.
pub const PROFILE_HEAP_KEYS: [&str; 6] = ["size", "base", "header", "coalesce", "order", "align"];

/// The names of the replacement policies.
pub fn policy_names() -> impl Iterator<Item = &'static str> {
    Policy::ALL.into_iter().map(Policy::name)
}

/// The names of the heap allocators.
pub fn allocator_names() -> impl Iterator<Item = &'static str> {
    AllocatorKind::ALL.into_iter().map(AllocatorKind::name)
}

#[cfg(test)]
mod tests;

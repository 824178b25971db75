//! Parser tests: every example of the language reference parses, AST shapes, error wording,
//! recovery, and no panics on arbitrary input.

use super::*;
use proptest::prelude::*;

// The code blocks of `language.md` §1, §3, §4, §6, §7, §9, §11, verbatim.
pub(super) const S1_0: &str = r#"# seed.mem — the example from the notes: writing far outside a malloc'd array
machine x86_64                      # built-in profile: 4 KiB pages, 48-bit VA, 4 levels

let ip: *int = malloc(sizeof(int) * 10)
ip[0] = 7                           # no fault: malloc already touched this heap page (its headers)
expect ip[0] == 7
expect segfault {
    ip[100000] = 99                 # outside the array's 10 elements and outside the heap
}
print getpagesize()                 # 4096
"#;

pub(super) const S3_0: &str = r#"machine x86_64                       # a built-in profile (YAML, shipped in the binary)
machine "boards/tiny.yaml"           # a profile file
machine {                            # inline
    page_size 4 KiB                  # power of two, 256 B .. 1 GiB
    memory    12 KiB                 # physical RAM; frames = memory / page_size
    swap      64 KiB                 # 0 = no swap: an anonymous page cannot be evicted
    va_bits   48
    levels    4                      # page-table levels; must agree with va_bits and page_size
    tlb       16 entries lru         # or `tlb off`; fifo | lru; `4-way` optional
    replace   lru                    # fifo | lru | clock | opt | random
    seed      42                     # every random choice (random policy, ASLR) comes from it
    aslr      off                    # default off: addresses are reproducible
    pie       off                    # on: the program is mapped at 0x555555554000
    pcid      off                    # on: the TLB keeps entries across process switches
    allocator glibc                  # glibc | first_fit | best_fit | worst_fit
    # for the teaching allocators (OSTEP-style free lists):
    #   heap 100 B at 1000    header 0    coalesce on|off
    #   order address | size_asc | size_desc | insert_front | insert_back
}
machine x86_64 { memory 64 KiB }     # a profile with overrides
"#;

pub(super) const S4_0: &str = r#"process main                         # default Linux x86-64 layout (below)
process web {
    text   64 KiB                    # r-x, file-backed: first touch is a MAJOR fault, later ones minor
    rodata  8 KiB                    # r--
    data    8 KiB                    # rw-, file-backed (private)
    bss    16 KiB                    # rw-, anonymous, zero-filled
    heap                             # starts at the page after bss; grows with brk
    stack   8 MiB                    # the rlimit; initial mapping 132 KiB, grows down on demand
    mmap  lib at 0x7f0000000000 64 KiB r-x file "libfoo.so"
}
thread web.worker stack 64 KiB       # one stack per thread, mapped below the others, with a guard page
"#;

pub(super) const S6_0: &str = r#"ip[3] = 99                 # a store of sizeof(int) bytes at ip + 12
let x = ip[3]              # a load
*p = 1; *(p + 8) = 2       # through a pointer
read  p[0..64 KiB]         # touch every byte range [p, p+64K) as loads (one access per page is enough)
write p[0..64 KiB] step 4 KiB = 0
for i in 0..10 { ip[i] = i * i }
repeat 1_000_000 { x = ip[0] }
"#;

pub(super) const S7_0: &str = r#"machine { page_size 4 KiB; memory 3 pages; replace fifo }
refs 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1     # virtual page numbers, read; `3w` = a write
expect stats.faults == 15
"#;

pub(super) const S9_0: &str = r#"expect ip[0] == 7
expect stats.faults == 15
expect segfault { ip[100000] = 99 }          # any SIGSEGV; `segfault maperr` / `segfault accerr` to be precise
expect fault minor { ip[0] = 1 }              # at least one minor fault in the block; `fault major`, `no fault`
expect abort { free(p) }                      # glibc aborts
expect oom { write p[0..1 GiB] step 4 KiB = 1 }  # the OOM killer ends the process
expect warning use_after_free { p[0] = 1 }    # overflow | use_after_free | uninit | leak
let old = p
p = realloc(p, 4000)
expect p == old                               # grew in place
"#;

pub(super) const S11_0: &str = r#"sweep replace in [fifo, lru, opt, clock], memory in 1..=7 pages {
    refs 1 2 3 4 1 2 5 1 2 3 4 5
}
"#;

fn ok(src: &str) -> Program {
    match parse(src) {
        Ok(p) => p,
        Err(e) => panic!("{src:?} failed to parse: {e:#?}"),
    }
}

fn errs(src: &str) -> Vec<ParseError> {
    match parse(src) {
        Ok(p) => panic!("{src:?} parsed but should not: {p:#?}"),
        Err(e) => e,
    }
}

fn one_err(src: &str) -> ParseError {
    let e = errs(src);
    assert_eq!(e.len(), 1, "{src:?}: expected one error, got {e:#?}");
    e.into_iter().next().unwrap()
}

fn code(e: &ParseError) -> String {
    e.code_str()
}

fn kinds(p: &Program) -> Vec<&'static str> {
    p.stmts.iter().map(|s| stmt_name(&s.kind)).collect()
}

fn stmt_name(k: &StmtKind) -> &'static str {
    match k {
        StmtKind::Machine(_) => "machine",
        StmtKind::Process(_) => "process",
        StmtKind::Thread(_) => "thread",
        StmtKind::Let { .. } => "let",
        StmtKind::Assign { .. } => "assign",
        StmtKind::Expr(_) => "expr",
        StmtKind::Print(_) => "print",
        StmtKind::Show { .. } => "show",
        StmtKind::Expect(_) => "expect",
        StmtKind::For { .. } => "for",
        StmtKind::Repeat { .. } => "repeat",
        StmtKind::If { .. } => "if",
        StmtKind::In { .. } => "in",
        StmtKind::Switch { .. } => "switch",
        StmtKind::Call { .. } => "call",
        StmtKind::Local { .. } => "local",
        StmtKind::Recurse { .. } => "recurse",
        StmtKind::Touch(_) => "touch",
        StmtKind::Refs(_) => "refs",
        StmtKind::Trace { .. } => "trace",
        StmtKind::Sweep(_) => "sweep",
    }
}

fn expr_of(src: &str) -> Expr {
    let p = ok(src);
    match &p.stmts[0].kind {
        StmtKind::Expr(e) => e.clone(),
        StmtKind::Let { value, .. } => value.clone(),
        other => panic!("not an expression statement: {other:?}"),
    }
}

/// A compact rendering of an expression, fully parenthesised, for precedence checks.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Size(s) => format!("{}{:?}", s.value, s.unit),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Perms(p) => format!(
            "perms({}{}{})",
            if p.read { 'r' } else { '-' },
            if p.write { 'w' } else { '-' },
            if p.exec { 'x' } else { '-' }
        ),
        ExprKind::Name(i) => i.name.clone(),
        ExprKind::Path(v) => v
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join("."),
        ExprKind::Unary(op, x) => format!("({op:?} {})", show(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
        ExprKind::Call { name, args } => format!(
            "{}({})",
            name.name,
            args.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::FileArg(s) => format!("file {:?}", s.value),
        ExprKind::Index { base, index } => format!("{}[{}]", show(base), show(index)),
        ExprKind::Deref(x) => format!("(* {})", show(x)),
        ExprKind::AddrOf(x) => format!("(& {})", show(x)),
        ExprKind::SizeOf(t) => format!("sizeof({:?})", t.kind),
        ExprKind::Cast(x, t) => format!("({} as {:?})", show(x), t.kind),
    }
}

// ---------------------------------------------------------------------------------------------
// The language reference's examples

#[test]
fn language_md_examples_parse() {
    for (name, src) in [
        ("§1", S1_0),
        ("§3", S3_0),
        ("§4", S4_0),
        ("§6", S6_0),
        ("§7", S7_0),
        ("§9", S9_0),
        ("§11", S11_0),
    ] {
        if let Err(e) = parse(src) {
            panic!("{name} does not parse: {e:#?}");
        }
    }
}

#[test]
fn section_1_shape() {
    let p = ok(S1_0);
    assert_eq!(
        kinds(&p),
        ["machine", "let", "assign", "expect", "expect", "print"]
    );
    match &p.stmts[1].kind {
        StmtKind::Let { name, ty, value } => {
            assert_eq!(name.name, "ip");
            let ty = ty.as_ref().unwrap();
            assert!(matches!(&ty.kind, TypeKind::Ptr(t) if t.kind == TypeKind::Prim(Prim::I32)));
            assert_eq!(show(value), "malloc((sizeof(Prim(I32)) * 10))");
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[4].kind {
        StmtKind::Expect(Expect {
            kind: ExpectKind::Segfault { code: None, body },
        }) => {
            assert_eq!(
                kinds(&Program {
                    stmts: body.stmts.clone()
                }),
                ["assign"]
            );
        }
        k => panic!("{k:?}"),
    }
    // Statement spans stop before the trailing comment.
    let s = &p.stmts[2];
    assert_eq!(&S1_0[s.span.start..s.span.end], "ip[0] = 7");
    let s = &p.stmts[5];
    assert_eq!(&S1_0[s.span.start..s.span.end], "print getpagesize()");
}

#[test]
fn section_3_shape() {
    let p = ok(S3_0);
    assert_eq!(kinds(&p), ["machine"; 4]);
    match &p.stmts[0].kind {
        StmtKind::Machine(m) => {
            assert!(matches!(&m.base, Some(ProfileRef::Builtin(i)) if i.name == "x86_64"));
            assert!(m.settings.is_empty());
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[1].kind {
        StmtKind::Machine(m) => {
            assert!(matches!(&m.base, Some(ProfileRef::File(s)) if s.value == "boards/tiny.yaml"))
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[2].kind {
        StmtKind::Machine(m) => {
            assert!(m.base.is_none());
            let keys: Vec<&str> = m.settings.iter().map(|s| s.key.name.as_str()).collect();
            assert_eq!(
                keys,
                [
                    "page_size",
                    "memory",
                    "swap",
                    "va_bits",
                    "levels",
                    "tlb",
                    "replace",
                    "seed",
                    "aslr",
                    "pie",
                    "pcid",
                    "allocator"
                ]
            );
            assert_eq!(
                m.settings[0].args[0].kind,
                ArgKind::Size(SizeLit {
                    value: 4,
                    unit: SizeUnit::KiB
                })
            );
            let tlb = &m.settings[5];
            assert_eq!(tlb.args[0].kind, ArgKind::Int(16));
            assert_eq!(tlb.args[1].kind, ArgKind::Word("entries".into()));
            assert_eq!(tlb.args[2].kind, ArgKind::Word("lru".into()));
            // The setting's span has no trailing comment.
            assert_eq!(
                &S3_0[tlb.span.start..tlb.span.end],
                "tlb       16 entries lru"
            );
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[3].kind {
        StmtKind::Machine(m) => {
            assert!(matches!(&m.base, Some(ProfileRef::Builtin(i)) if i.name == "x86_64"));
            assert_eq!(m.settings.len(), 1);
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn section_4_shape() {
    let p = ok(S4_0);
    assert_eq!(kinds(&p), ["process", "process", "thread"]);
    match &p.stmts[1].kind {
        StmtKind::Process(d) => {
            assert_eq!(d.name.name, "web");
            let r = d.regions.as_ref().unwrap();
            let k: Vec<&str> = r.iter().map(|r| r.kind.name.as_str()).collect();
            assert_eq!(
                k,
                ["text", "rodata", "data", "bss", "heap", "stack", "mmap"]
            );
            assert!(r[4].size.is_none());
            let m = &r[6];
            assert_eq!(m.name.as_ref().unwrap().name, "lib");
            assert_eq!(show(m.at.as_ref().unwrap()), "139637976727552");
            assert_eq!(show(m.size.as_ref().unwrap()), "64KiB");
            let perms = m.perms.unwrap();
            assert!(perms.read && !perms.write && perms.exec);
            assert_eq!(m.file.as_ref().unwrap().value, "libfoo.so");
            assert!(!m.shared);
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[2].kind {
        StmtKind::Thread(t) => {
            assert_eq!(t.process.as_ref().unwrap().name, "web");
            assert_eq!(t.name.name, "worker");
            assert_eq!(show(t.stack.as_ref().unwrap()), "64KiB");
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn section_6_shape() {
    let p = ok(S6_0);
    assert_eq!(
        kinds(&p),
        ["assign", "let", "assign", "assign", "touch", "touch", "for", "repeat"]
    );
    match &p.stmts[3].kind {
        StmtKind::Assign { target, value } => {
            assert_eq!(show(target), "(* (p + 8))");
            assert_eq!(show(value), "2");
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[5].kind {
        StmtKind::Touch(t) => {
            assert!(t.write);
            assert_eq!(show(&t.base), "p");
            assert_eq!(show(&t.range.start), "0");
            assert_eq!(show(&t.range.end), "64KiB");
            assert!(!t.range.inclusive);
            assert_eq!(show(t.step.as_ref().unwrap()), "4KiB");
            assert_eq!(show(t.value.as_ref().unwrap()), "0");
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[6].kind {
        StmtKind::For { var, range, body } => {
            assert_eq!(var.name, "i");
            assert_eq!(show(&range.end), "10");
            assert_eq!(body.stmts.len(), 1);
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn section_7_shape() {
    let p = ok(S7_0);
    assert_eq!(kinds(&p), ["machine", "refs", "expect"]);
    match &p.stmts[0].kind {
        StmtKind::Machine(m) => assert_eq!(m.settings.len(), 3),
        k => panic!("{k:?}"),
    }
    match &p.stmts[1].kind {
        StmtKind::Refs(r) => {
            assert_eq!(r.len(), 20);
            let first = r.iter().next().expect("an item");
            assert_eq!(first.page, 7);
            assert!(!first.write);
        }
        k => panic!("{k:?}"),
    }
    let p = ok("refs 1 3w 0x10 2r");
    match &p.stmts[0].kind {
        StmtKind::Refs(r) => {
            let v: Vec<(u64, bool)> = r.iter().map(|r| (r.page, r.write)).collect();
            assert_eq!(v, [(1, false), (3, true), (16, false), (2, false)]);
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn section_9_shape() {
    let p = ok(S9_0);
    assert_eq!(
        kinds(&p),
        [
            "expect", "expect", "expect", "expect", "expect", "expect", "expect", "let", "assign",
            "expect"
        ]
    );
    let ek: Vec<String> = p
        .stmts
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::Expect(e) => Some(match &e.kind {
                ExpectKind::Cond(c) => format!("cond {}", show(c)),
                ExpectKind::Segfault { code, .. } => format!("segfault {code:?}"),
                ExpectKind::Fault { kind, .. } => format!("fault {kind:?}"),
                ExpectKind::Abort { .. } => "abort".into(),
                ExpectKind::Oom { .. } => "oom".into(),
                ExpectKind::Sigbus { .. } => "sigbus".into(),
                ExpectKind::Warning { kind, .. } => format!("warning {}", kind.name),
            }),
            _ => None,
        })
        .collect();
    assert_eq!(
        ek,
        [
            "cond (ip[0] == 7)",
            "cond (stats.faults == 15)",
            "segfault None",
            "fault Minor",
            "abort",
            "oom",
            "warning use_after_free",
            "cond (p == old)"
        ]
    );
}

#[test]
fn section_11_shape() {
    let p = ok(S11_0);
    match &p.stmts[0].kind {
        StmtKind::Sweep(s) => {
            assert_eq!(s.params.len(), 2);
            assert_eq!(s.params[0].key.name, "replace");
            match &s.params[0].values {
                SweepValues::List(v) => assert_eq!(v.len(), 4),
                v => panic!("{v:?}"),
            }
            match &s.params[1].values {
                SweepValues::Range {
                    start,
                    end,
                    inclusive,
                    unit,
                    ..
                } => {
                    assert_eq!(
                        (*start, *end, *inclusive, *unit),
                        (1, 7, true, Some(SizeUnit::Pages))
                    )
                }
                v => panic!("{v:?}"),
            }
            assert!(s.report.is_empty());
            assert_eq!(s.body.stmts.len(), 1);
        }
        k => panic!("{k:?}"),
    }
    let p = ok("sweep page_size in [4 KiB, 16 KiB], tlb in [\n  off,\n  4-way,\n] report stats.tlb.hits, stats.faults { refs 1 2 }");
    match &p.stmts[0].kind {
        StmtKind::Sweep(s) => {
            assert_eq!(s.report.len(), 2);
            match &s.params[1].values {
                SweepValues::List(v) => assert_eq!(v[1].kind, ArgKind::Ways(4)),
                v => panic!("{v:?}"),
            }
        }
        k => panic!("{k:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Statement forms not in the examples

#[test]
fn other_statement_forms() {
    let src = r#"
process web
thread helper
thread web.worker
in web { x = 1 }
in child { switch main }
switch web
call f frame 1 KiB {
    local buf: char[256]
    local m: int[2][3]
    local p: **u8
}
recurse f 1000 frame 1 KiB
read (p + 4)[0..=64 KiB]
trace "lackey.out"
show maps
show walk ip
show memory ip 64
print "x =", x, "\"quoted\" \\ done"
print
if x == 1 { print 1 } else if x == 2 { print 2 } else { print 3 }
if y {
    y = 0
}
else {
    y = 1
}
expect segfault maperr { *p = 1 }
expect segfault accerr { *p = 1 }
expect fault { x = *p }
expect fault major { x = *p }
expect no fault { x = *p }
repeat 3 { call g frame 64 B { } }
let m = mmap(1 MiB, rw-, shared, file "data.bin")
mprotect(m, 4 KiB, r--p)
let z: u64 = (p as u64) & ~0xfff
*p = 1; *(p + 8) = 2
"#;
    let p = ok(src);
    assert_eq!(
        kinds(&p),
        [
            "process", "thread", "thread", "in", "in", "switch", "call", "recurse", "touch",
            "trace", "show", "show", "show", "print", "print", "if", "if", "expect", "expect",
            "expect", "expect", "expect", "repeat", "let", "expr", "let", "assign", "assign"
        ]
    );
    match &p.stmts[6].kind {
        StmtKind::Call { body, .. } => match &body.stmts[1].kind {
            StmtKind::Local { ty, .. } => {
                // int[2][3]: an array of 2 arrays of 3 ints.
                match &ty.kind {
                    TypeKind::Array(inner, n) => {
                        assert_eq!(show(n), "2");
                        assert!(matches!(&inner.kind, TypeKind::Array(_, m) if show(m) == "3"));
                    }
                    k => panic!("{k:?}"),
                }
            }
            k => panic!("{k:?}"),
        },
        k => panic!("{k:?}"),
    }
    match &p.stmts[8].kind {
        StmtKind::Touch(t) => {
            assert!(!t.write && t.range.inclusive);
            assert_eq!(show(&t.base), "(p + 4)");
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[13].kind {
        StmtKind::Print(items) => {
            assert_eq!(items.len(), 3);
            assert_eq!(items[2].kind, ExprKind::Str("\"quoted\" \\ done".into()));
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[15].kind {
        StmtKind::If { otherwise, .. } => {
            let o = otherwise.as_ref().unwrap();
            assert!(matches!(
                &o.stmts[0].kind,
                StmtKind::If {
                    otherwise: Some(_),
                    ..
                }
            ));
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[16].kind {
        StmtKind::If { otherwise, .. } => assert!(otherwise.is_some()),
        k => panic!("{k:?}"),
    }
    match &p.stmts[23].kind {
        StmtKind::Let { value, .. } => {
            assert_eq!(
                show(value),
                "mmap(1MiB, perms(rw-), shared, file \"data.bin\")"
            )
        }
        k => panic!("{k:?}"),
    }
    match &p.stmts[24].kind {
        StmtKind::Expr(e) => match &e.kind {
            ExprKind::Call { args, .. } => match &args[2].kind {
                ExprKind::Perms(p) => assert_eq!(p.shared, Some(false)),
                k => panic!("{k:?}"),
            },
            k => panic!("{k:?}"),
        },
        k => panic!("{k:?}"),
    }
}

#[test]
fn refs_items_are_read_from_one_token() {
    let src =
        "refs 7 0x1f 0b1r 1_000w \\\n  4 5 # a comment\nrepeat 2 { refs 1 2w }\nrefs 3;refs 4";
    let p = ok(src);
    let StmtKind::Refs(r) = &p.stmts[0].kind else {
        panic!("{:?}", p.stmts[0])
    };
    let items: Vec<(u64, bool)> = r.iter().map(|x| (x.page, x.write)).collect();
    assert_eq!(
        items,
        [
            (7, false),
            (31, false),
            (1, false),
            (1000, true),
            (4, false),
            (5, false),
        ]
    );
    // The statement ends before the comment and its spaces.
    assert_eq!(
        &src[p.stmts[0].span.start..p.stmts[0].span.end],
        "refs 7 0x1f 0b1r 1_000w \\\n  4 5"
    );
    let StmtKind::Repeat { body, .. } = &p.stmts[1].kind else {
        panic!("{:?}", p.stmts[1])
    };
    let StmtKind::Refs(inner) = &body.stmts[0].kind else {
        panic!("{body:?}")
    };
    assert_eq!(
        inner.iter().map(|x| (x.page, x.write)).collect::<Vec<_>>(),
        [(1, false), (2, true)]
    );
    assert_eq!(kinds(&p), ["refs", "repeat", "refs", "refs"]);
}

/// The token of a `refs` statement ends at the first character that ends it (`\n`, `\r`, `;`,
/// `}`, `#` or `\`), whether or not others follow on the same line: a line of nothing but
/// references is taken whole by a quicker alternative of the grammar, and every other line must
/// end where it did before.
#[test]
fn the_refs_token_ends_at_the_first_end_of_statement() {
    let items = |p: &Program, i: usize| -> Vec<u64> {
        match &p.stmts[i].kind {
            StmtKind::Refs(r) => r.iter().map(|x| x.page).collect(),
            k => panic!("{k:?}"),
        }
    };
    for (src, want) in [
        (
            "refs 1 2 # see; then } and \\\nrefs 3\n",
            vec![vec![1, 2], vec![3]],
        ),
        ("refs 1 2\r\nrefs 3\r\n", vec![vec![1, 2], vec![3]]),
        (
            "refs 1 2;refs 3 # } ;\nrefs 4",
            vec![vec![1, 2], vec![3], vec![4]],
        ),
        (
            "refs 1 2 \\\n 3 4; refs 5\n",
            vec![vec![1, 2, 3, 4], vec![5]],
        ),
        ("refs 1 2 \\\n 3 4\nrefs 5", vec![vec![1, 2, 3, 4], vec![5]]),
        ("refs 1 2\rrefs 3\n", vec![vec![1, 2], vec![3]]),
    ] {
        let p = ok(src);
        let got: Vec<Vec<u64>> = (0..p.stmts.len()).map(|i| items(&p, i)).collect();
        assert_eq!(got, want, "{src:?}");
    }
    let p = ok("repeat 2 { refs 1 2 } # x;\nrefs 3");
    assert_eq!(kinds(&p), ["repeat", "refs"]);
}

#[test]
fn refs_bad_items_are_reported_each_at_its_span() {
    let src = "refs 1 3x 2 -1 99999999999999999999 0x 5";
    let e = errs(src);
    let found: Vec<(String, &str)> = e
        .iter()
        .map(|e| {
            let s = e.span();
            (code(e), &src[s.offset()..s.offset() + s.len()])
        })
        .collect();
    assert_eq!(
        found,
        [
            ("mem::parse::bad_ref".to_string(), "3x"),
            ("mem::parse::bad_ref".to_string(), "-1"),
            (
                "mem::parse::int_too_large".to_string(),
                "99999999999999999999"
            ),
            ("mem::parse::bad_ref".to_string(), "0x"),
        ]
    );
    assert_eq!(code(&one_err("refs\n")), "mem::parse::syntax");
}

#[test]
fn a_long_refs_statement_parses() {
    let mut src = String::from("refs");
    for i in 0..100_000u64 {
        src.push_str(&format!(" {}{}", i % 97, if i % 5 == 0 { "w" } else { "" }));
    }
    let p = ok(&src);
    let StmtKind::Refs(r) = &p.stmts[0].kind else {
        panic!()
    };
    assert_eq!(r.len(), 100_000);
    let r: Vec<_> = r.iter().collect();
    assert_eq!((r[99_999].page, r[99_999].write), (99_999 % 97, false));
    assert_eq!((r[5].page, r[5].write), (5, true));
}

/// What pest is given when long reference runs are kept from it (`elide.rs`).
fn stand_in(src: &str) -> Option<String> {
    elide::elide(src, 1).map(|e| e.text)
}

#[test]
fn pest_sees_the_first_reference_of_a_long_run() {
    assert_eq!(
        stand_in("refs 2 15w 6\nshow stats").as_deref(),
        Some("refs 2\nshow stats")
    );
    // Spaces and continuations at a run's end stay, and so does what ends it.
    assert_eq!(
        stand_in("refs 1 2 \\\n 3 \\\n;x").as_deref(),
        Some("refs 1 \\\n;x")
    );
    // A run may end inside an item: pest only needs the token's ends, the items are read from
    // the source.
    assert_eq!(
        stand_in("refs 1 2 \\\n 3 \\\n0x4").as_deref(),
        Some("refs 1x4")
    );
    assert_eq!(
        stand_in("refs\t7r 8  ; refs 9 10}").as_deref(),
        Some("refs\t7r  ; refs 9}")
    );
    // Nothing to cut: one item, another form first, another word.
    assert_eq!(
        stand_in("refs 5\nrefs 0x5 6 7\nxrefs 1 2\nrefs_n 1 2"),
        None
    );
    // A cut in a comment or a string is found, and not trusted: the source is parsed again.
    let src = "# refs 1 2 3\nprint \"refs 4 5 6\"\nrefs 7 8 9";
    assert_eq!(
        format!("{:?}", parse_eliding(src, DEFAULT_MAX_DEPTH, 1)),
        format!("{:?}", parse_eliding(src, DEFAULT_MAX_DEPTH, usize::MAX)),
    );
    let e = elide::elide(src, 1).expect("three runs");
    let l = lower::Lowerer::new(src, 0, DEFAULT_MAX_DEPTH).eliding(&e);
    if let Ok(mut pairs) = MemParser::parse(Rule::program, &e.text) {
        pairs.next().map(|p| l.stmts(p));
    }
    assert!(!e.all_covered());
}

#[test]
fn a_long_run_is_read_from_the_source_with_its_spans() {
    let mut src = String::from("machine { memory 4 pages }\nrefs");
    for i in 0..40_000u64 {
        src.push_str(&format!(" {}{}", i % 97, if i % 5 == 0 { "w" } else { "" }));
    }
    src.push_str(" 99999999999999999999999 1\nshow stats\nprint \"x\" +\n");
    assert!(src.len() > elide::MIN_RUN);
    assert!(elide::elide(&src, elide::MIN_RUN).is_some());
    let plain = format!("{:?}", parse_eliding(&src, DEFAULT_MAX_DEPTH, usize::MAX));
    assert_eq!(format!("{:?}", parse(&src)), plain);
    assert!(
        plain.contains("span"),
        "errors, with their spans: {plain:.200}"
    );
}

#[test]
fn newlines_inside_brackets_and_continuations() {
    let p = ok("let p = calloc(\n    10,\n    4,\n)\nx = 1 + \\\n  2\nlet q = (\n  x\n)\n");
    assert_eq!(kinds(&p), ["let", "assign", "let"]);
    match &p.stmts[1].kind {
        StmtKind::Assign { value, .. } => assert_eq!(show(value), "(1 + 2)"),
        k => panic!("{k:?}"),
    }
    ok("machine {\n\n  page_size 4 KiB\n\n}\nrepeat 2 {\n\n}\n;;\n");
    ok("process p {\n  text 64 KiB; heap\n  mmap m 2 pages rw-s\n  mmap n at 0x1000 (4096 * 2) --- file \"f\" private\n}");
    ok("x = 1\r\ny = 2\r\n");
}

#[test]
fn literals() {
    assert_eq!(show(&expr_of("42")), "42");
    assert_eq!(show(&expr_of("0x7fff_0000")), "2147418112");
    assert_eq!(show(&expr_of("0b1010")), "10");
    assert_eq!(show(&expr_of("1_000_000")), "1000000");
    assert_eq!(
        show(&expr_of("18446744073709551615")),
        "18446744073709551615"
    );
    for (src, unit) in [
        ("4 KiB", SizeUnit::KiB),
        ("4KiB", SizeUnit::KiB),
        ("4 K", SizeUnit::KiB),
        ("4 kB", SizeUnit::KiB),
        ("4 MiB", SizeUnit::MiB),
        ("4M", SizeUnit::MiB),
        ("4 GiB", SizeUnit::GiB),
        ("4 G", SizeUnit::GiB),
        ("4 TiB", SizeUnit::TiB),
        ("4 T", SizeUnit::TiB),
        ("4 B", SizeUnit::B),
        ("4 page", SizeUnit::Pages),
        ("4 pages", SizeUnit::Pages),
    ] {
        assert_eq!(
            expr_of(src).kind,
            ExprKind::Size(SizeLit { value: 4, unit }),
            "{src}"
        );
    }
    assert_eq!(show(&expr_of("-5")), "(Neg 5)");
    assert_eq!(show(&expr_of("\"a\\tb\"")), "\"a\\tb\"");
    // Contextual words are names.
    assert_eq!(
        show(&expr_of("stack.top + heap.start")),
        "(stack.top + heap.start)"
    );
    assert_eq!(
        show(&expr_of("frame + step + report + at + file + no")),
        "(((((frame + step) + report) + at) + file) + no)"
    );
    assert_eq!(
        show(&expr_of("interval + iffy + asdf")),
        "((interval + iffy) + asdf)"
    );
    assert_eq!(show(&expr_of("stats.tlb.hits")), "stats.tlb.hits");
}

#[test]
fn precedence() {
    for (src, want) in [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("a || b && c", "(a || (b && c))"),
        ("a == b < c", "(a == (b < c))"),
        ("a < b | c", "(a < (b | c))"),
        ("a | b ^ c & d", "(a | (b ^ (c & d)))"),
        ("a & b << 2", "(a & (b << 2))"),
        ("a << 1 + 2", "(a << (1 + 2))"),
        ("-a * b", "((Neg a) * b)"),
        ("!a && ~b", "((Not a) && (BitNot b))"),
        ("*p + 1", "((* p) + 1)"),
        ("&p[3]", "(& p[3])"),
        ("-x[1]", "(Neg x[1])"),
        ("p[1][2]", "p[1][2]"),
        ("x as u8 + 1", "((x as Prim(U8)) + 1)"),
        ("a != b >= c", "(a != (b >= c))"),
        ("a % b / c", "((a % b) / c)"),
        ("a >> b > c <= d", "(((a >> b) > c) <= d)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        (
            "sizeof(*int) * 2",
            "(sizeof(Ptr(TypeExpr { kind: Prim(I32), span: Span { start: 8, end: 11 } })) * 2)",
        ),
    ] {
        assert_eq!(show(&expr_of(src)), want, "{src}");
    }
}

#[test]
fn spans() {
    let src = "x = a + b * c   # c\nprint 1";
    let p = ok(src);
    assert_eq!(p.stmts[0].span, Span::new(0, 13));
    match &p.stmts[0].kind {
        StmtKind::Assign { value, .. } => {
            assert_eq!(value.span, Span::new(4, 13));
            match &value.kind {
                ExprKind::Binary(_, l, r) => {
                    assert_eq!(l.span, Span::new(4, 5));
                    assert_eq!(r.span, Span::new(8, 13));
                }
                k => panic!("{k:?}"),
            }
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(p.stmts[1].span, Span::new(20, 27));
    let src = "if x { y }  ; z";
    let p = ok(src);
    assert_eq!(
        &src[p.stmts[0].span.start..p.stmts[0].span.end],
        "if x { y }"
    );
    let src = "print x, \\\n  y   \\\n\nz";
    let p = ok(src);
    assert_eq!(
        &src[p.stmts[0].span.start..p.stmts[0].span.end],
        "print x, \\\n  y"
    );
}

#[test]
fn program_spans_in_recovery_mode_are_absolute() {
    // After an error, statements are parsed one by one; spans must still be chunk offsets.
    let src = "let = 1\nlet x = 99999999999999999999999";
    let e = errs(src);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(code(&e[1]), "mem::parse::int_too_large");
    assert_eq!(e[1].span().offset(), 16);
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn error_codes() {
    for (src, want) in [
        ("let x = 1 +", "mem::parse::syntax"),
        ("expct x == 1", "mem::parse::unknown_statement"),
        ("let x = 99999999999999999999", "mem::parse::int_too_large"),
        ("let x = 99999999 TiB", "mem::parse::size_too_large"),
        ("mprotect(p, 4096, wr-)", "mem::parse::bad_perms"),
        ("let x = 4 Kib", "mem::parse::bad_unit"),
        ("let x = 4mb", "mem::parse::bad_unit"),
        ("let x = 0b102", "mem::parse::bad_number"),
        ("print \"abc", "mem::parse::unterminated_string"),
        ("print \"a\\qb\"", "mem::parse::bad_escape"),
        ("repeat 3 {\n x = 1\n", "mem::parse::unclosed_delimiter"),
        ("x = 1 }", "mem::parse::unmatched_delimiter"),
        ("let in = 3", "mem::parse::reserved_word"),
        ("refs 1 2 3x", "mem::parse::bad_ref"),
        ("let x: float = 1", "mem::parse::unknown_type"),
        ("1 + 2 = 3", "mem::parse::bad_assign_target"),
        ("if x { }\n;else { }", "mem::parse::dangling_else"),
    ] {
        let e = errs(src);
        assert_eq!(code(&e[0]), want, "{src}: {e:#?}");
    }
}

#[test]
fn messages_are_in_words() {
    let e = one_err("let x = (1 + )");
    assert_eq!(e.to_string(), "expected an expression, found `)`");
    let e = one_err("thread t stack");
    assert_eq!(
        e.to_string(),
        "expected a stack size such as `64 KiB` after `stack`, found the end of the file"
    );
    let e = one_err("let x 5");
    assert_eq!(e.to_string(), "expected `:` or `=` after `x`, found `5`");
    let e = one_err("expct x == 1");
    assert_eq!(
        e.to_string(),
        "unknown statement `expct`; did you mean `expect`?"
    );
    let e = one_err("process p {\n  txt 64 KiB\n}");
    assert!(
        e.to_string().starts_with("expected a region such as"),
        "{e}"
    );
    let e = one_err("call f fram 1 KiB { }");
    assert_eq!(e.to_string(), "expected `frame` after `f`, found `fram`");
    let e = one_err("for i 0..3 { }");
    assert_eq!(e.to_string(), "expected `in` after `i`, found `0`");
    let e = one_err("process p {\n  mmap m 64 KiB rw- shred\n}");
    assert!(e.to_string().contains("`shared` or `private`"), "{e}");
    let e = one_err("let x = 4 Kib");
    assert_eq!(
        e.to_string(),
        "unknown size unit `Kib`; did you mean `KiB`?"
    );
    // No pest rule names anywhere.
    for src in [
        "let",
        "let x",
        "let x:",
        "let x: *",
        "machine",
        "machine {",
        "process",
        "process p {",
        "thread",
        "print 1,",
        "show",
        "expect",
        "expect segfault",
        "for",
        "for i in",
        "for i in 0..",
        "repeat",
        "if",
        "if x {} else",
        "in",
        "switch",
        "call",
        "call f frame",
        "local",
        "local x",
        "recurse f",
        "read",
        "read p[",
        "read p[0..1",
        "write p[0..1]",
        "refs",
        "trace",
        "sweep",
        "sweep x in",
        "sweep x in [",
        "f(",
        "f(1,",
        "x[",
        "x as",
        "sizeof(",
        "x = ",
        "(",
        ")",
        "}",
        "]",
        "@",
        "x $ y",
        "1..2",
        "`",
        "machine { a 1, b }",
    ] {
        for e in parse(src).err().unwrap_or_default() {
            let text = format!("{e} {e:?}");
            for bad in [
                "_stmt",
                "expr_",
                "kw_",
                "rbrace",
                "rparen",
                "stmt_sep",
                "EOI",
                "ident",
                "size_num",
                "page_ref",
                "type_expr",
                "Rule::",
            ] {
                assert!(!text.contains(bad), "{src:?}: {text}");
            }
        }
    }
}

#[test]
fn reports_all_errors() {
    let src = "let = 1\nprint 2\nexpct 3\nrepeat { }\nx = (1 +\nif x { y = = 2 }\nlet ok = 1\nrefs 1 2x\n";
    let e = errs(src);
    let codes: Vec<String> = e.iter().map(code).collect();
    assert_eq!(
        codes,
        [
            "mem::parse::syntax",
            "mem::parse::unknown_statement",
            "mem::parse::syntax",
            "mem::parse::syntax",
            "mem::parse::syntax",
            "mem::parse::bad_ref",
        ],
        "{e:#?}"
    );
    // Errors come in source order.
    let offs: Vec<usize> = e.iter().map(|e| e.span().offset()).collect();
    let mut sorted = offs.clone();
    sorted.sort();
    assert_eq!(offs, sorted);
}

#[test]
fn error_cap() {
    let src = "let = 1\n".repeat(200);
    let e = errs(&src);
    assert_eq!(e.len(), MAX_ERRORS + 1);
    assert_eq!(code(&e[MAX_ERRORS]), "mem::parse::too_many_errors");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for src in [
        format!("x = {}1{}", "(".repeat(5000), ")".repeat(5000)),
        format!("x = {}1", "-".repeat(5000)),
        format!("x = 1{}", " + 1".repeat(5000)),
        format!("{}{}", "repeat 1 { ".repeat(3000), "}".repeat(3000)),
        format!("let x: {}int = 0", "*".repeat(5000)),
        format!("x = {}", "f(".repeat(3000)),
        "if x { } else ".repeat(3000),
    ] {
        let e = errs(&src);
        assert!(!e.is_empty());
    }
    // Reasonable depth is fine.
    ok(&format!("x = {}1{}", "(".repeat(50), ")".repeat(50)));
}

#[test]
fn common_mistakes_get_a_coded_diagnostic_with_a_label_and_help() {
    use miette::Diagnostic;
    for src in [
        "let x = 1 2",
        "machine { page_size }\nmachine { page_size 4 KiB, memory 12 KiB }",
        "expect segfault mapper { x = 1 }",
        "show",
        "if x { y = 1 }}",
        "print f(1 2)",
        "let p = mmap(4096, rw-x)",
        "x = 12abc",
        "sweep memory in 1..=7 pags { }",
    ] {
        let errs = parse(src).err().unwrap_or_default();
        assert!(!errs.is_empty(), "{src:?} parsed");
        for e in errs {
            let code = e.code().map(|c| c.to_string()).unwrap_or_default();
            assert!(code.starts_with("mem::parse::"), "{src:?}: code {code:?}");
            assert!(e.help().is_some(), "{src:?}: {code} has no help");
            let labels: Vec<_> = e.labels().into_iter().flatten().collect();
            assert!(!labels.is_empty(), "{src:?}: {code} points at nothing");
            for l in labels {
                assert!(
                    l.offset() + l.len() <= src.len(),
                    "{src:?}: {code} points past the end"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Never panic

pub(super) fn valid_corpus() -> Vec<&'static str> {
    vec![S1_0, S3_0, S4_0, S6_0, S7_0, S9_0, S11_0]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_strings_never_panic(s in "\\PC{0,200}") {
        let _ = parse(&s);
    }

    #[test]
    fn random_token_soup_never_panics(
        toks in proptest::collection::vec(
            proptest::sample::select(vec![
                "let", "x", "=", "1", "4 KiB", "{", "}", "(", ")", "[", "]", "\n", ";", ",",
                "..", "..=", "\"s\"", "\"", "rw-", "r-z", "*", "-", "&", "as", "int", "if",
                "else", "expect", "segfault", "refs", "3w", "machine", "process", "mmap",
                "sweep", "in", "report", "#", "\\\n", "0x", "0b2", "99999999999999999999",
                "call", "frame", "local", ":", "read", "write", "step", "print", "show",
            ]),
            0..60,
        )
    ) {
        let s = toks.join(" ");
        let _ = parse(&s);
    }

    /// Keeping long reference runs from pest changes nothing: the same program, or the same
    /// errors at the same places, wherever the runs are (statements, blocks, comments,
    /// strings) and whatever surrounds them.
    #[test]
    fn elided_parses_are_the_plain_ones(
        parts in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "1", "23", "4w", "5r", "0x1f", "6_0", "zz", "7wr", " ", "\t", "\\\n",
                        "\\\r\n", "\\", "99999999999999999999999",
                    ]),
                    0..12,
                ).prop_map(|items| format!("refs {}", items.join(" "))),
                proptest::sample::select(vec![
                    "# refs 1 2 3", "print \"refs 1 2 3\"", "process p {", "}", ";",
                    "show stats", "let refs = 3", "refs", "refs\t8 9", "x refs 1 2", "{",
                    "machine { memory 4 pages }", "for i in 0..2 { refs 1 2 3w }",
                ]).prop_map(str::to_string),
            ],
            0..8,
        ),
        seps in proptest::collection::vec(proptest::sample::select(vec!["\n", "; ", " ", "\r\n"]), 8),
        min in 1usize..4,
    ) {
        let mut src = String::new();
        for (p, sep) in parts.iter().zip(&seps) {
            src.push_str(p);
            src.push_str(sep);
        }
        prop_assert_eq!(
            format!("{:?}", parse_eliding(&src, DEFAULT_MAX_DEPTH, min)),
            format!("{:?}", parse_eliding(&src, DEFAULT_MAX_DEPTH, usize::MAX)),
        );
    }

    #[test]
    fn mutated_programs_never_panic(
        which in 0usize..7,
        edits in proptest::collection::vec((0u8..3, any::<usize>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = valid_corpus()[which].as_bytes().to_vec();
        for (op, at, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at % bytes.len();
            match op {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, b" \n;{}()[]\"#\\-=.,0aZ_w\t"[byte as usize % 22]),
                _ => { let j = (i + 1 + byte as usize) % bytes.len(); bytes.swap(i, j); }
            }
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = parse(&s);
    }
}

// ---------------------------------------------------------------------------------------------
// The case files under tests/cases (their snapshots are made by the CLI harness)

fn case_files(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(dir);
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "mem"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn parse_ok_cases_parse() {
    let cases = case_files("parse-ok");
    assert!(cases.len() >= 3);
    for (path, src) in cases {
        if let Err(e) = parse(&src) {
            panic!("{path}: {e:#?}");
        }
    }
}

#[test]
fn parse_error_cases_fail_with_their_code() {
    let cases = case_files("parse");
    assert!(cases.len() >= 12);
    for (path, src) in cases {
        let first = src.lines().next().unwrap_or("");
        assert!(
            first.starts_with('#'),
            "{path}: first line must say what is wrong"
        );
        let e = match parse(&src) {
            Ok(_) => panic!("{path} parsed"),
            Err(e) => e,
        };
        if let Some(i) = first.find("(mem::parse::") {
            let want = first[i + 1..].trim_end_matches(')');
            assert_eq!(code(&e[0]), want, "{path}: {e:#?}");
        }
    }
}

#[test]
fn the_statement_help_names_every_statement_keyword() {
    use crate::words::Keyword;
    let listed = errors::STATEMENT_HELP
        .split_once("keyword: ")
        .map_or("", |(_, l)| l);
    let listed: Vec<&str> = listed.split(", ").collect();
    // `else`, `sizeof` and `as` are reserved but only continue a statement.
    let starts: Vec<&str> = Keyword::ALL
        .into_iter()
        .filter(|k| k.reserved() && !matches!(k, Keyword::Else | Keyword::Sizeof | Keyword::As))
        .map(Keyword::name)
        .collect();
    let mut a = listed.clone();
    let mut b = starts.clone();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "the help lists {listed:?}");
}

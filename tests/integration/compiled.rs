//! Compiled loops against the tree walker: random loop bodies run both ways must leave the same
//! steps, events, outputs, diagnostics, variables and counters. The bodies mix arithmetic of
//! every type, loads and stores in and past their blocks, pointer offsets and differences,
//! accesses that straddle a page boundary, nested loops and bounds computed from variables.

use memsim::session::{Options, Session};
use proptest::prelude::*;

/// An expression, its choices as numbers: the renderer picks names and operators from them.
#[derive(Debug, Clone)]
enum E {
    Name(u8),
    Lit(u8),
    Bin(u8, Box<E>, Box<E>),
    Un(u8, Box<E>),
    Cast(u8, Box<E>),
    /// A load from one of the arrays, its index masked into the array or not.
    Load(u8, bool, Box<E>),
    /// How far the moving pointer `r` is from `p`: a pointer difference.
    Diff,
    /// A load of width 1, 2, 4 or 8 bytes that may straddle two pages (`x` points a few
    /// bytes before a page boundary).
    Straddle(u8, Box<E>),
}

#[derive(Debug, Clone)]
enum S {
    Set(u8, E),
    /// A new variable, or (when the number says so) one declared again, maybe with a new type.
    Let(u8, E),
    Store(u8, bool, E, E),
    /// `r = p + (e & 15)` or `r = r - 1`: pointer-typed assignments, pointer offsets.
    Move(bool, E),
    /// A store that may straddle two pages.
    StoreStraddle(u8, E, E),
    Eval(E),
    If(E, Vec<S>, Vec<S>),
    For(u8, Vec<S>),
    Repeat(u8, Vec<S>),
}

fn expr() -> impl Strategy<Value = E> {
    let leaf = prop_oneof![any::<u8>().prop_map(E::Name), any::<u8>().prop_map(E::Lit)];
    leaf.prop_recursive(4, 16, 2, |e| {
        prop_oneof![
            3 => (any::<u8>(), e.clone(), e.clone()).prop_map(|(o, a, b)| E::Bin(o, Box::new(a), Box::new(b))),
            1 => (any::<u8>(), e.clone()).prop_map(|(o, a)| E::Un(o, Box::new(a))),
            1 => (any::<u8>(), e.clone()).prop_map(|(t, a)| E::Cast(t, Box::new(a))),
            2 => (any::<u8>(), prop::bool::weighted(0.85), e.clone()).prop_map(|(r, m, a)| E::Load(r, m, Box::new(a))),
            1 => Just(E::Diff),
            1 => (any::<u8>(), e).prop_map(|(w, a)| E::Straddle(w, Box::new(a))),
        ]
    })
}

fn stmt() -> impl Strategy<Value = S> {
    let simple = prop_oneof![
        3 => (any::<u8>(), expr()).prop_map(|(t, e)| S::Set(t, e)),
        1 => (any::<u8>(), expr()).prop_map(|(k, e)| S::Let(k, e)),
        3 => (any::<u8>(), prop::bool::weighted(0.9), expr(), expr()).prop_map(|(r, m, i, v)| S::Store(r, m, i, v)),
        1 => expr().prop_map(S::Eval),
        1 => (any::<bool>(), expr()).prop_map(|(b, e)| S::Move(b, e)),
        1 => (any::<u8>(), expr(), expr()).prop_map(|(w, i, v)| S::StoreStraddle(w, i, v)),
    ];
    simple.prop_recursive(2, 10, 3, |s| {
        let block = prop::collection::vec(s, 0..3);
        prop_oneof![
            (expr(), block.clone(), block.clone()).prop_map(|(c, t, o)| S::If(c, t, o)),
            (0u8..6, block.clone()).prop_map(|(n, b)| S::For(n, b)),
            (0u8..4, block).prop_map(|(n, b)| S::Repeat(n, b)),
        ]
    })
}

const LITS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "15",
    "31",
    "63",
    "64",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "9223372036854775807",
    "(-1)",
    "(-128)",
    "(-9223372036854775807 - 1)",
];
const OPS: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "&&",
    "||",
];
const CASTS: &[&str] = &[
    "int", "u8", "short", "u64", "char", "long", "u16", "u32", "i8",
];
const ARRAYS: &[&str] = &["p", "q", "w", "g", "r"];
/// Pointer types for the accesses through `x` near a page boundary.
const WIDE: &[&str] = &["*u8", "*short", "*int", "*long", "*u16", "*u32"];

/// Renders statements; names become readable once declared (variables are not scoped).
struct Render {
    names: Vec<String>,
    lets: usize,
    loops: usize,
    out: String,
}

impl Render {
    fn expr(&self, e: &E) -> String {
        match e {
            E::Name(k) => self.names[*k as usize % self.names.len()].clone(),
            E::Lit(k) => LITS[*k as usize % LITS.len()].to_string(),
            E::Bin(o, a, b) => {
                let op = OPS[*o as usize % OPS.len()];
                let (a, b) = (self.expr(a), self.expr(b));
                // Half the divisions cannot be by zero, so the loop goes on.
                if matches!(op, "/" | "%") && *o >= 128 {
                    format!("({a} {op} ({b} | 1))")
                } else {
                    format!("({a} {op} {b})")
                }
            }
            E::Un(o, a) => format!("({}{})", ["-", "~", "!"][*o as usize % 3], self.expr(a)),
            E::Cast(t, a) => format!(
                "(({}) as {})",
                self.expr(a),
                CASTS[*t as usize % CASTS.len()]
            ),
            E::Load(r, masked, i) => self.place(*r, *masked, i),
            E::Diff => "(r - p)".into(),
            E::Straddle(w, i) => self.straddle(*w, i),
        }
    }

    /// `x` is 5 bytes before a page boundary inside a 3-page block: indexes 0..8 of any width
    /// reach across it.
    fn straddle(&self, w: u8, i: &E) -> String {
        format!(
            "(x as {})[({}) & 7]",
            WIDE[w as usize % WIDE.len()],
            self.expr(i)
        )
    }

    fn place(&self, r: u8, masked: bool, i: &E) -> String {
        let arr = ARRAYS[r as usize % ARRAYS.len()];
        // A mask of 19 reaches past the end of every array (16 elements), still in the heap.
        if masked {
            let mask = if r >= 128 { 19 } else { 15 };
            format!("{arr}[({}) & {mask}]", self.expr(i))
        } else {
            format!("{arr}[{}]", self.expr(i))
        }
    }

    fn block(&mut self, stmts: &[S], indent: usize) {
        for s in stmts {
            self.stmt(s, indent);
        }
    }

    fn line(&mut self, indent: usize, text: &str) {
        self.out.push_str(&"    ".repeat(indent));
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn stmt(&mut self, s: &S, indent: usize) {
        match s {
            S::Set(t, e) => {
                let target = self.names[*t as usize % self.names.len()].clone();
                let line = format!("{target} = {}", self.expr(e));
                self.line(indent, &line);
            }
            S::Let(k, e) => {
                let value = self.expr(e);
                if *k >= 160 && self.lets > 0 {
                    let name = format!("t{}", *k as usize % self.lets);
                    self.line(indent, &format!("let {name} = {value}"));
                } else {
                    let name = format!("t{}", self.lets);
                    self.lets += 1;
                    self.line(indent, &format!("let {name} = {value}"));
                    self.names.push(name);
                }
            }
            S::Store(r, m, i, v) => {
                let line = format!("{} = {}", self.place(*r, *m, i), self.expr(v));
                self.line(indent, &line);
            }
            S::Move(back, e) => {
                let line = if *back {
                    "r = r - 1".to_string()
                } else {
                    format!("r = p + (({}) & 15)", self.expr(e))
                };
                self.line(indent, &line);
            }
            S::StoreStraddle(w, i, v) => {
                let line = format!("{} = {}", self.straddle(*w, i), self.expr(v));
                self.line(indent, &line);
            }
            S::Eval(e) => {
                let line = self.expr(e);
                self.line(indent, &line);
            }
            S::If(c, t, o) => {
                let line = format!("if {} {{", self.expr(c));
                self.line(indent, &line);
                self.block(t, indent + 1);
                self.line(indent, "} else {");
                self.block(o, indent + 1);
                self.line(indent, "}");
            }
            S::For(n, b) => {
                let name = format!("j{}", self.loops);
                self.loops += 1;
                self.line(indent, &format!("for {name} in 0..{n} {{"));
                self.names.push(name);
                self.block(b, indent + 1);
                self.line(indent, "}");
            }
            S::Repeat(n, b) => {
                self.line(indent, &format!("repeat {n} {{"));
                self.block(b, indent + 1);
                self.line(indent, "}");
            }
        }
    }
}

const PRELUDE: &str = "let p: *int = malloc(64)
let q: *char = malloc(16)
let w: *u16 = malloc(32)
let g: *long = malloc(128)
let a = 3
let b: int = -5
let c: u8 = 200
let h: short = 7
let f = frame_of(NULL)
let r: *int = p + 4
let big: *u8 = malloc(3 * 4096)
let x: *u8 = big + (4096 - (big as long & 4095)) - 5
let n = 40
";

/// A scenario: the prelude, then a loop of `trips` iterations over `body`.
fn scenario(kind: u8, trips: u8, body: &[S], after: &[S]) -> String {
    let mut r = Render {
        names: ["a", "b", "c", "h"].map(String::from).to_vec(),
        lets: 0,
        loops: 0,
        out: PRELUDE.to_string(),
    };
    let n = 32 + u32::from(trips);
    let head = match kind % 5 {
        0 => format!("for i in 0..{n} {{"),
        // Bounds from variables and expressions, as the tree walker evaluates them.
        1 => format!("for i in (n - 40)..(n - 40 + {n}) {{"),
        2 => format!("for i in -5..={n} {{"),
        3 => format!("repeat {n} {{"),
        _ => {
            // A variable holding `none`: loops that read it stay on the tree walker.
            r.names.push("f".into());
            format!("for i in 0..{n} {{")
        }
    };
    if kind % 5 != 3 {
        r.names.push("i".into());
    }
    let guarded = kind >= 128;
    if guarded {
        r.line(0, "expect segfault {");
    }
    r.line(0, &head);
    r.block(body, 1);
    r.line(0, "}");
    if guarded {
        r.line(0, "}");
    }
    r.block(after, 0);
    r.out
}

/// Everything a run leaves that compiling could change, as text.
fn run(src: &str, compile: bool, max_steps: u64, trace: bool, rollback: bool) -> String {
    let mut s = Session::new(Options {
        compile_loops: compile,
        max_steps,
        trace,
        rollback,
        max_host_bytes: 64 << 20,
        events_per_step: 400,
        ..Options::default()
    });
    let r = s.execute("loop.mem", src);
    let mut out = format!(
        "exit {} passed {} failed {} deaths {} stopped {}\n{:?}\n{:?}\n",
        r.exit_code(),
        r.expectations_passed,
        r.expectations_failed,
        r.unexpected_deaths,
        r.stopped,
        r.steps,
        r.stats
    );
    for d in &r.diagnostics {
        out.push_str(&format!("{} {:?} {:?}\n", d.code, d.severity, d.line));
        out.push_str(&memsim::render::diag::render(&d.report, false, 100));
    }
    for v in s.variables() {
        out.push_str(&format!("{v} = {:?}\n", s.variable(&v)));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn compiled_loops_match_the_tree_walker(
        kind in any::<u8>(),
        trips in 0u8..80,
        body in prop::collection::vec(stmt(), 1..6),
        after in prop::collection::vec(stmt(), 0..2),
        limit in prop_oneof![Just(1_000_000u64), 20u64..400],
        trace in any::<bool>(),
        rollback in any::<bool>(),
    ) {
        let src = scenario(kind, trips, &body, &after);
        let walked = run(&src, false, limit, trace, rollback);
        let compiled = run(&src, true, limit, trace, rollback);
        prop_assert_eq!(walked, compiled, "{}", src);
    }
}

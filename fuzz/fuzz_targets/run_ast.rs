//! Structure-aware: an arbitrary scenario (a machine, processes, heap calls, accesses, loops,
//! the stack, reference strings, sweeps, expectations, `show`), printed as source and run with
//! small limits four ways: trace on and off, compiled loops on and off. It must never panic,
//! the compiled loops must print exactly what the tree walker prints, and the trace must
//! change nothing but the events kept.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use memsim::session::{Options, Session};
use std::fmt::Write;
use std::time::Duration;

#[derive(Debug, Arbitrary)]
enum E {
    Var(u8),
    Lit(u8),
    Bin(u8, Box<E>, Box<E>),
    Un(u8, Box<E>),
    Cast(u8, Box<E>),
    Load(u8, Box<E>),
    Builtin(u8, Box<E>),
    Name(u8),
}

#[derive(Debug, Arbitrary)]
enum S {
    Let(u8, E),
    Set(u8, E),
    Store(u8, E, E),
    Malloc(u8, u8, E),
    Realloc(u8, E),
    Free(u8),
    Memset(u8, E, E),
    Mmap(u8, E, u8),
    Fork,
    Process(u8),
    In(u8, Vec<S>),
    Print(E),
    Expect(E),
    ExpectBlock(u8, Vec<S>),
    If(E, Vec<S>, Vec<S>),
    For(u8, Vec<S>),
    Repeat(u8, Vec<S>),
    Call(u8, Vec<S>),
    Recurse(u8, u8),
    Refs(Vec<u8>),
    Touch(u8, u8, u8, bool),
    Show(u8),
    Sweep(u8, Vec<S>),
    Raw(u8),
}

#[derive(Debug, Arbitrary)]
struct Scenario {
    machine: Vec<u8>,
    body: Vec<S>,
}

const LITS: &[&str] = &[
    "0", "1", "2", "3", "7", "8", "16", "64", "255", "4096", "65536", "-1", "(-128)",
    "4 KiB", "1 MiB", "9223372036854775807", "0x7ffff000", "NULL", "none",
];
const OPS: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "&&",
    "||",
];
const TYPES: &[&str] = &["int", "u8", "short", "u64", "char", "long", "u16", "u32", "i8"];
const PTRS: &[&str] = &["*u8", "*int", "*long", "*char", "*u64"];
const BUILTINS: &[&str] = &[
    "page_of", "offset_of", "frame_of", "usable_size", "sbrk", "brk", "getpagesize",
];
const NAMES: &[&str] = &[
    "rss", "vsz", "pid", "sp", "brk", "page_size", "heap.start", "heap.end", "stack.size",
    "stats.faults", "stats.references", "stats.cow_copies", "stats.tlb_hits", "stack.end",
];
const SETTINGS: &[&str] = &[
    "page_size 256 B", "page_size 4 KiB", "page_size 16 KiB", "memory 3 pages", "memory 16 pages",
    "memory 64 KiB", "memory 1 MiB", "swap 0", "swap 64 KiB", "swap 1 MiB", "tlb off",
    "tlb 4 entries", "tlb 16 entries lru 4-way", "tlb 8 entries fifo", "replace fifo",
    "replace lru", "replace clock", "replace opt", "replace random", "replace lru local",
    "seed 7", "aslr on", "pie on", "pcid on", "allocator first_fit", "allocator best_fit",
    "allocator worst_fit", "heap 4 KiB at 1000", "coalesce off", "order size_asc",
    "stack_limit 64 KiB", "levels 2", "va_bits 32", "pte_size 4", "profile tiny",
];
const SHOWS: &[&str] = &[
    "show maps", "show frames", "show stats", "show heap", "show tlb", "show pagetable",
    "show processes", "show machine", "show swap", "show smaps",
];
const EXPECTS: &[&str] = &[
    "segfault", "segfault maperr", "segfault accerr", "fault", "fault minor", "fault major",
    "no fault", "abort", "oom", "warning overflow", "warning use_after_free", "warning leak",
    "warning uninit",
];
const SWEEPS: &[&str] = &[
    "replace in [fifo, lru, opt, clock]",
    "memory in 1..=4 pages",
    "seed in 0..=3",
    "replace in [random, lru], memory in 2..=3 pages",
];
/// Lines that exercise the odd corners on purpose.
const RAW: &[&str] = &[
    "let z = 1 / 0",
    "recurse deep 100000 frame 1 KiB",
    "call f frame 0xffffffffffffffff B { }",
    "munmap(0, 4096)",
    "mprotect(heap.start, 4 KiB, r--)",
    "print p0[0]",
    "switch main",
    "thread t0",
    "free(p0); free(p0)",
    "local x: int",
    "write p0[0..64 KiB] step 4 KiB = 1",
    "read p1[0..=99]",
    "memcpy(p0, p1, 64)",
    "let q = calloc(4, 8)",
    "expect p0 != NULL",
];

struct Render {
    vars: usize,
    out: String,
    depth: usize,
}

impl Render {
    fn pick<'a>(list: &[&'a str], k: u8) -> &'a str {
        list[k as usize % list.len()]
    }

    fn var(&self, k: u8) -> String {
        format!("v{}", k as usize % self.vars.max(1))
    }

    fn expr(&self, e: &E, depth: usize) -> String {
        if depth > 6 {
            return "1".into();
        }
        match e {
            E::Var(k) if self.vars > 0 => self.var(*k),
            E::Var(k) | E::Lit(k) => Self::pick(LITS, *k).into(),
            E::Bin(o, a, b) => format!(
                "({} {} {})",
                self.expr(a, depth + 1),
                Self::pick(OPS, *o),
                self.expr(b, depth + 1)
            ),
            E::Un(o, a) => format!("({}{})", Self::pick(&["-", "~", "!"], *o), self.expr(a, depth + 1)),
            E::Cast(t, a) => format!("(({}) as {})", self.expr(a, depth + 1), Self::pick(TYPES, *t)),
            E::Load(p, i) => format!("p{}[({}) & 31]", p % 4, self.expr(i, depth + 1)),
            E::Builtin(b, a) => {
                let name = Self::pick(BUILTINS, *b);
                if name == "getpagesize" {
                    "getpagesize()".into()
                } else {
                    format!("{name}({})", self.expr(a, depth + 1))
                }
            }
            E::Name(k) => Self::pick(NAMES, *k).into(),
        }
    }

    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn block(&mut self, head: &str, body: &[S]) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
        for s in body.iter().take(8) {
            self.stmt(s);
        }
        self.depth -= 1;
        self.line("}");
    }

    fn stmt(&mut self, s: &S) {
        if self.depth > 5 {
            return;
        }
        match s {
            S::Let(t, e) => {
                let v = self.expr(e, 0);
                let name = format!("v{}", self.vars);
                self.vars += 1;
                if *t & 1 == 1 {
                    self.line(&format!("let {name}: {} = {v}", Self::pick(TYPES, *t >> 1)));
                } else {
                    self.line(&format!("let {name} = {v}"));
                }
            }
            S::Set(k, e) if self.vars > 0 => {
                let line = format!("{} = {}", self.var(*k), self.expr(e, 0));
                self.line(&line);
            }
            S::Set(_, e) | S::Print(e) => {
                let line = format!("print {}", self.expr(e, 0));
                self.line(&line);
            }
            S::Store(p, i, v) => {
                let line = format!("p{}[({}) & 31] = {}", p % 4, self.expr(i, 0), self.expr(v, 0));
                self.line(&line);
            }
            S::Malloc(p, t, n) => {
                let line = format!(
                    "p{} = malloc(({}) & 0xffff) as {}",
                    p % 4,
                    self.expr(n, 0),
                    Self::pick(PTRS, *t)
                );
                self.line(&line);
            }
            S::Realloc(p, n) => {
                let line = format!("p{0} = realloc(p{0}, ({1}) & 0xffff)", p % 4, self.expr(n, 0));
                self.line(&line);
            }
            S::Free(p) => self.line(&format!("free(p{})", p % 4)),
            S::Memset(p, b, n) => {
                let line = format!(
                    "memset(p{}, {}, ({}) & 255)",
                    p % 4,
                    self.expr(b, 0),
                    self.expr(n, 0)
                );
                self.line(&line);
            }
            S::Mmap(p, n, perms) => {
                let perms = Self::pick(&["rw-", "r--", "rwx", "---", "rw-s"], *perms);
                let line = format!("p{} = mmap(({}) & 0xfffff, {perms})", p % 4, self.expr(n, 0));
                self.line(&line);
            }
            S::Fork => self.line("let child = fork()"),
            S::Process(k) => self.line(&format!("process w{}", k % 3)),
            S::In(k, body) => {
                let head = if k & 1 == 0 { "in main".to_string() } else { format!("in w{}", (k >> 1) % 3) };
                self.block(&head, body)
            }
            S::Expect(e) => {
                let line = format!("expect {}", self.expr(e, 0));
                self.line(&line);
            }
            S::ExpectBlock(k, body) => self.block(&format!("expect {}", Self::pick(EXPECTS, *k)), body),
            S::If(c, a, b) => {
                let head = format!("if {}", self.expr(c, 0));
                self.block(&head, a);
                if !b.is_empty() {
                    self.block("else", b);
                }
            }
            S::For(n, body) => {
                let name = format!("v{}", self.vars);
                self.vars += 1;
                self.block(&format!("for {name} in 0..{}", n % 40), body)
            }
            S::Repeat(n, body) => self.block(&format!("repeat {}", *n as u32 * 3), body),
            S::Call(f, body) => self.block(&format!("call f{} frame {} B", f % 3, (*f as u32) * 64), body),
            S::Recurse(d, f) => {
                self.line(&format!("recurse r {} frame {} B", *d as u32 * 4, (*f as u32 + 1) * 16))
            }
            S::Refs(pages) if !pages.is_empty() => {
                let refs: Vec<String> = pages
                    .iter()
                    .take(64)
                    .map(|p| if p & 0x80 != 0 { format!("{}w", p & 15) } else { (p & 15).to_string() })
                    .collect();
                self.line(&format!("refs {}", refs.join(" ")));
            }
            S::Refs(_) => self.line("refs 1 2 3 4 1 2 5 1 2 3 4 5"),
            S::Touch(p, a, b, write) => {
                let (a, b) = ((*a as u32) * 16, (*a as u32) * 16 + (*b as u32) * 64);
                if *write {
                    self.line(&format!("write p{}[{a}..{b}] step 64 = 3", p % 4));
                } else {
                    self.line(&format!("read p{}[{a}..{b}]", p % 4));
                }
            }
            S::Show(k) => self.line(Self::pick(SHOWS, *k)),
            S::Sweep(k, body) => self.block(&format!("sweep {}", Self::pick(SWEEPS, *k)), body),
            S::Raw(k) => self.line(Self::pick(RAW, *k)),
        }
    }
}

fn source(s: &Scenario) -> String {
    let mut r = Render { vars: 0, out: String::new(), depth: 0 };
    if !s.machine.is_empty() {
        let settings: Vec<&str> = s.machine.iter().take(6).map(|k| Render::pick(SETTINGS, *k)).collect();
        let _ = writeln!(r.out, "machine {{ {} }}", settings.join("; "));
    }
    for i in 0..4 {
        let _ = writeln!(r.out, "let p{i}: *long = malloc({})", 64 << i);
    }
    for st in s.body.iter().take(40) {
        r.stmt(st);
    }
    r.out
}

fn run(src: &str, trace: bool, compile_loops: bool) -> (String, String, bool) {
    let opts = Options {
        trace,
        compile_loops,
        max_steps: 200_000,
        timeout: Some(Duration::from_secs(5)),
        max_host_bytes: 64 << 20,
        ..Options::default()
    };
    let mut session = Session::new(opts);
    session.set_base_dir(std::env::temp_dir().join("memsim-fuzz-empty"));
    let r = session.execute("fuzz.mem", src);
    let timed_out = r.diagnostics.iter().any(|d| d.code == "mem::timeout");
    let mut outputs = String::new();
    for step in &r.steps {
        for o in step.outputs() {
            let _ = writeln!(outputs, "{o:?}");
        }
    }
    let mut diags = String::new();
    for d in &r.diagnostics {
        let _ = writeln!(diags, "{} {:?} {}", d.code, d.line, d.report);
    }
    let _ = writeln!(diags, "{} {} {}", r.expectations_passed, r.expectations_failed, r.stopped);
    let events = format!("{:?}", r.steps.iter().map(|s| (s.line, s.events().count(), s.dropped)).collect::<Vec<_>>());
    (outputs + &diags, events, timed_out)
}

fuzz_target!(|s: Scenario| {
    let src = source(&s);
    let (walked, walked_events, t1) = run(&src, true, false);
    let (compiled, compiled_events, t2) = run(&src, true, true);
    if t1 || t2 {
        return;
    }
    assert_eq!(walked, compiled, "compiled loops differ from the tree walker:\n{src}");
    assert_eq!(walked_events, compiled_events, "events differ:\n{src}");
    let (quiet, _, t3) = run(&src, false, true);
    if !t3 {
        assert_eq!(walked, quiet, "the trace changed the run:\n{src}");
    }
});

//! Values are never lost: across random machines (page size, memory, swap, TLB, policy), bytes
//! written are read back as a shadow copy in the test says they must be, through eviction and
//! swap, `realloc` and `fork`; and a REPL input that fails leaves the session as it was.

use memsim::session::{Options, Session};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// What the scenario does to its one buffer `b` of `LEN` bytes, besides filler work.
#[derive(Debug, Clone)]
enum Op {
    /// Store a value of 1, 2, 4 or 8 bytes at a byte offset.
    Store(u8, u16, u64),
    /// Grow or shrink the buffer with `realloc`; the bytes below the new size stay.
    Realloc(u16),
    /// Fork: the child must see every byte the parent has, then writes its own copy.
    Fork(u16, u8),
    /// Touch another buffer page by page, so that `b`'s pages are evicted.
    Pressure(u8),
}

const LEN: u16 = 6000;
const WIDTHS: [(&str, u64); 4] = [("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8)];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..4, 0u16..LEN, any::<u64>()).prop_map(|(w, at, v)| Op::Store(w, at, v)),
        1 => (64u16..LEN).prop_map(Op::Realloc),
        1 => (0u16..LEN, any::<u8>()).prop_map(|(at, v)| Op::Fork(at, v)),
        1 => (1u8..16).prop_map(Op::Pressure),
    ]
}

fn machine() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["4 KiB", "16 KiB"]),
        24u32..64,
        prop::sample::select(vec!["fifo", "lru", "clock", "random"]),
        prop::sample::select(vec!["", " local"]),
        prop::sample::select(vec!["tlb off", "tlb 4 entries", "tlb 16 entries lru 4-way", "tlb 64 entries fifo"]),
        any::<u8>(),
    )
        .prop_map(|(page, frames, policy, scope, tlb, seed)| {
            format!(
                "machine {{ page_size {page}; memory {frames} pages; swap 8 MiB; replace {policy}{scope}; {tlb}; seed {seed} }}"
            )
        })
}

/// The scenario, with an `expect` for every byte the shadow copy holds at each check.
fn scenario(machine: &str, ops: &[Op]) -> (String, usize) {
    let mut src =
        format!("{machine}\nlet b: *u8 = calloc({LEN}, 1)\nlet big: *u8 = malloc(256 KiB)\n");
    let mut shadow = vec![0u8; LEN as usize];
    let mut len = LEN as usize;
    let mut expects = 0;
    let check = |src: &mut String, shadow: &[u8], len: usize, indent: &str| {
        // Compare in 8-byte words where they fit, so that every byte is covered cheaply.
        let words = len / 8;
        for w in 0..words {
            let v = u64::from_le_bytes(shadow[w * 8..w * 8 + 8].try_into().unwrap());
            src.push_str(&format!("{indent}expect (b as *u64)[{w}] == {v}\n"));
        }
        for (i, byte) in shadow.iter().enumerate().take(len).skip(words * 8) {
            src.push_str(&format!("{indent}expect b[{i}] == {byte}\n"));
        }
        words + len - words * 8
    };
    for op in ops {
        match op {
            Op::Store(w, at, v) => {
                let (ty, size) = WIDTHS[*w as usize];
                let at = (*at as usize).min(len - size as usize);
                let v = if size == 8 {
                    *v
                } else {
                    v & ((1u64 << (size * 8)) - 1)
                };
                src.push_str(&format!("*((b + {at}) as *{ty}) = {v}\n"));
                shadow[at..at + size as usize].copy_from_slice(&v.to_le_bytes()[..size as usize]);
            }
            Op::Realloc(n) => {
                let n = *n as usize;
                src.push_str(&format!("b = realloc(b, {n})\n"));
                if n > len {
                    // The new bytes are whatever the allocator had: write them so they are known.
                    src.push_str(&format!("memset(b + {len}, 0, {})\n", n - len));
                    shadow[len..n].fill(0);
                }
                len = n;
            }
            Op::Fork(at, v) => {
                let at = (*at as usize) % len;
                src.push_str("let child = fork()\nin child {\n");
                expects += check(&mut src, &shadow, len, "    ");
                src.push_str(&format!(
                    "    b[{at}] = {v}\n    expect b[{at}] == {v}\n}}\n"
                ));
                expects += 1;
            }
            Op::Pressure(pages) => {
                src.push_str(&format!(
                    "write big[0..{} KiB] step 256 = 9\n",
                    *pages as u32 * 16
                ));
            }
        }
    }
    expects += check(&mut src, &shadow, len, "");
    (src, expects)
}

fn opts() -> Options {
    Options {
        trace: false,
        max_steps: 10_000_000,
        max_host_bytes: 256 << 20,
        ..Options::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn bytes_written_are_read_back_on_any_machine(m in machine(), ops in prop::collection::vec(op(), 1..24)) {
        let (src, expects) = scenario(&m, &ops);
        let mut s = Session::new(opts());
        let r = s.execute("values.mem", &src);
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
        // Pages shared since a fork are not evicted, so a small machine may run out of
        // frames: the OOM killer ends the run, which loses no value it let the scenario keep.
        prop_assume!(!codes.contains(&"mem::oom"));
        prop_assert!(codes.iter().all(|c| c.starts_with("mem::heap::")), "{codes:?}\n{src}");
        prop_assert_eq!(r.expectations_failed, 0, "{}", src);
        prop_assert_eq!(r.expectations_passed, expects);
    }
}

/// What the REPL's user can see of a session: the values of the variables `names`, the
/// counters, and what `show` prints of the machine.
fn state(s: &mut Session) -> String {
    let mut out = String::new();
    for v in s.variables() {
        out.push_str(&format!(
            "{v}: {:?} = {:?}\n",
            s.variable_type(&v),
            s.variable(&v)
        ));
    }
    out.push_str(&format!("{:?}\n", s.world().config()));
    let w = s.world();
    for p in &w.os.procs {
        out.push_str(&format!(
            "process {} {} {}\n",
            p.pid,
            p.name,
            p.threads.len()
        ));
    }
    out.push_str(&format!("current {:?} {:?}\n", w.current, w.thread));
    out.push_str(&format!("{:?}\n", s.world().stats()));
    let shown = s.evaluate("look.mem", "show maps\nshow heap\nshow frames\nshow swap\n");
    for step in &shown.steps {
        for o in step.outputs() {
            out.push_str(&format!("{o:?}\n"));
        }
    }
    out
}

/// Statements that fail part of the way through, after changing memory, variables and the
/// heap (a block is one statement: it is rolled back whole). An error fails a statement; a
/// signal is what the simulated program does, and is kept.
const FAILING: &[&str] = &[
    "repeat 1 {\n    b[0] = 77\n    let q = malloc(100)\n    let z = 1 / 0\n}",
    "if 1 {\n    free(b)\n    let t = 5 % 0\n}",
    "repeat 100000 { b[1] = b[1] + 1 }",
    "if 1 {\n    let child = fork()\n    in child { b[3] = 4 }\n    free(b)\n    let k = 1 / 0\n}",
    "if 1 {\n    let m: *u8 = mmap(64 KiB, rw-)\n    m[0] = 1\n    b[2] = m[0]\n    repeat 1000000 { m[1] = 2 }\n}",
    "let fresh: *u8 = b + 1 / 0",
    "let b: u64 = 7 % 0",
    "repeat 1 {\n    let inner = fork()\n    let d: u16 = 3 / 0\n}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn a_failing_input_leaves_the_session_as_it_was(m in machine(), stores in prop::collection::vec((0u16..512, any::<u8>()), 0..16), which in 0..FAILING.len()) {
        let mut s = Session::new(Options { rollback: true, report_leaks: false, max_steps: 50_000, ..opts() });
        let mut setup = format!("{m}\nlet b: *u8 = calloc(512, 1)\n");
        let mut shadow = BTreeMap::new();
        for (at, v) in &stores {
            setup.push_str(&format!("b[{at}] = {v}\n"));
            shadow.insert(*at, *v);
        }
        let r = s.execute("setup.mem", &setup);
        prop_assert_eq!(r.exit_code(), 0, "{:?}", r.diagnostics.iter().map(|d| &d.code).collect::<Vec<_>>());
        // Every name, its type and its value, the processes and the machine are as before.
        let before = state(&mut s);
        let r = s.execute("fail.mem", FAILING[which]);
        prop_assert!(r.exit_code() != 0, "{} should fail", FAILING[which]);
        let after = state(&mut s);
        prop_assert_eq!(&before, &after, "{}", FAILING[which]);
        // And the bytes are the ones written before.
        let checks: String = shadow.iter().map(|(at, v)| format!("expect b[{at}] == {v}\n")).collect();
        let r = s.execute("check.mem", &checks);
        prop_assert_eq!(r.expectations_failed, 0);
    }
}

//! The compiled loops against the tree walker: same prints, steps, counters and diagnostics.

use super::*;
use crate::check::ir::St;
use crate::session::{Options, Output, Session};

/// Runs `src` with loops compiled and on the tree walker; both must print and report the
/// same. Returns what the compiled run printed, one line per `print`, then the codes of
/// its diagnostics.
fn both(src: &str) -> String {
    let run = |compile: bool| {
        let mut s = Session::new(Options {
            compile_loops: compile,
            report_leaks: false,
            ..Options::default()
        });
        let r = s.execute("t.mem", src);
        let mut out = String::new();
        for st in &r.steps {
            for o in st.outputs() {
                match o {
                    Output::Print { text } => out.push_str(text),
                    Output::Expect { passed, .. } => out.push_str(&format!("expect {passed}")),
                    Output::Show { .. } => {}
                }
                out.push('\n');
            }
        }
        for d in &r.diagnostics {
            let line = d.line.unwrap_or(0);
            out.push_str(&format!("{} at line {line}\n", d.code));
        }
        (out, format!("{:?}", r.steps), format!("{:?}", r.stats))
    };
    let (walked, compiled) = (run(false), run(true));
    assert_eq!(walked, compiled, "{src}");
    compiled.0
}

/// The body of the first statement of `src`, a loop, compiled with the variables as a
/// session that ran `setup` leaves them.
fn compiles(setup: &str, src: &str) -> bool {
    let mut s = Session::new(Options::default());
    s.execute("setup.mem", setup);
    let (stmts, env) = s.prepare("t.mem", src).expect("checks");
    s.vars.resize(env.vars.len());
    match &stmts[0].kind {
        St::For { slot, body, .. } => compile(Some(*slot), body, stmts[0].span, &s.vars),
        St::Repeat { body, .. } => compile(None, body, stmts[0].span, &s.vars),
        _ => None,
    }
    .is_some()
}

#[test]
fn the_benchmark_loops_compile() {
    let setup = "let p: *int = malloc(64 KiB)\n";
    assert!(compiles(
        setup,
        "for i in 0..100 { p[i & 16383] = i\n let x = p[(i * 7) & 16383] }"
    ));
    assert!(compiles(setup, "repeat 100 { p[3] = p[2] + 1 }"));
    assert!(compiles(setup, "for i in 0..100 { if i % 3 == 0 && p[i] > 2 { p[i] = -p[i] } else { for j in 0..=i { p[j] = p[j] as char } } }"));
}

#[test]
fn what_is_left_to_the_tree_walker() {
    let setup = "let p: *int = malloc(64)\nlet f = frame_of(NULL)\n";
    assert!(!compiles(setup, "for i in 0..100 { print i }"));
    assert!(!compiles(setup, "for i in 0..100 { p = malloc(8) }"));
    assert!(!compiles(
        setup,
        "for i in 0..100 { p[0] = brk - heap.start }"
    ));
    // `f` holds `none`, which only the tree walker compares.
    assert!(!compiles(setup, "for i in 0..100 { p[0] = f == none }"));
    assert!(!compiles(
        setup,
        "for i in 0..100 { expect segfault { p[1 << 40] = 1 } }"
    ));
}

#[test]
fn narrowing_and_sign_extension() {
    let out = both(
        "let c: char = 0\nlet u: u8 = 0\nlet s: short = 0\nlet g: *long = malloc(8)\n\
         let b: *char = g as *char\n\
         for i in 0..200 { c = i * 3\n u = -i\n s = (i << 9) as short\n b[0] = i }\n\
         let l = b[0]\nlet m = (b as *u8)[0]\n\
         print c, u, s, l, m\nfree(g)\n",
    );
    // 597 as char, -199 as u8, 199 << 9 as short, 199 loaded as char and as u8.
    assert_eq!(out, "85 57 -29184 -57 199\n");
}

#[test]
fn shifts_wrap_their_amount_and_keep_the_sign() {
    let out = both(
        "let a = 0\nlet b = 0\nlet c: u64 = 0\n\
         for i in 0..64 { a = 1 << (i + 63)\n b = -256 >> (i & 3)\n c = (0 - 256) as u64 >> 60 }\n\
         print a, b, c\n",
    );
    // 1 << 126 is 1 << 62: the amount wraps at 64.
    assert_eq!(out, "4611686018427387904 -32 15\n");
}

#[test]
fn division_by_zero_stops_at_its_iteration() {
    let out = both(
        "let a = 0\nlet n = 0\n\
         for i in 0..100 {\n  n = n + 1\n  a = 100 / (i - 50)\n}\nprint a, n\n",
    );
    // The chunk stops at the loop: its last full iteration divided by -1.
    assert_eq!(out, "mem::run::division_by_zero at line 5\n");
    let mut s = Session::new(Options::default());
    s.execute(
        "t.mem",
        "let a = 0\nlet n = 0\nfor i in 0..100 {\n  n = n + 1\n  a = 100 / (i - 50)\n}\n",
    );
    assert_eq!(s.variable("a").as_deref(), Some("-100"));
    assert_eq!(s.variable("n").as_deref(), Some("51"));
    assert_eq!(s.variable("i").as_deref(), Some("50"));
}

#[test]
fn a_segfault_mid_body_is_caught_by_expect() {
    let out = both(
        "let p: *long = malloc(64)\nlet n = 0\nlet m = 0\n\
         expect segfault {\n  for i in 0..100000 {\n    n = n + 1\n    p[i * 512] = i\n    m = m + 1\n  }\n}\n\
         print n, m\n",
    );
    assert_eq!(out, "expect true\n34 33\nmem::heap::overflow at line 7\n");
    let mut s = Session::new(Options::default());
    let r = s.execute(
        "t.mem",
        "let p: *long = malloc(64)\nlet n = 0\nlet m = 0\n\
         expect segfault {\n  for i in 0..100000 {\n    n = n + 1\n    p[i * 512] = i\n    m = m + 1\n  }\n}\n",
    );
    assert_eq!(r.expectations_passed, 1);
    // The store that faulted ran after `n` counted its iteration, before `m` did.
    let n: i64 = s.variable("n").unwrap().parse().unwrap();
    assert_eq!(s.variable("m").unwrap(), (n - 1).to_string());
}

#[test]
fn a_segfault_not_expected_kills_at_the_store() {
    let out =
        both("let p: *long = malloc(64)\nfor i in 0..100000 {\n  p[i * 512] = i\n}\np[0] = 1\n");
    assert_eq!(
        out,
        "mem::heap::overflow at line 3\nmem::segv at line 3\nmem::dead at line 5\n"
    );
}

#[test]
fn types_of_variables_set_in_a_loop() {
    let out = both(
        "let p: *int = malloc(64)\nlet k = 0\n\
         for i in 0..40 {\n  let t = i < 3\n  if i > 100 { let never = p } else { k = i }\n  let c = (i as u8)\n}\n\
         print t, c, k, never, i\nfree(p)\n",
    );
    assert_eq!(out, "false 39 39 0 39\n");
}

#[test]
fn a_variable_declared_twice_changes_type_mid_body() {
    let out = both(
        "let p: *int = malloc(64)\nlet k = 0\n\
         expect segfault {\n  for i in 0..100 {\n    let t = i\n    k = k + 1\n    p[k * 1000] = 1\n    let t = i < 3\n  }\n}\n\
         print t, k\n\
         let s = 0\nfor i in 0..100 {\n  let u = i\n  s = s + u\n  let u = i < 3\n}\nprint u, s\nfree(p)\n",
    );
    assert_eq!(
        out,
        "expect true\n33 34\nfalse 4950\nmem::heap::overflow at line 7\n"
    );
}

#[test]
fn the_loop_variable_is_reset_each_iteration() {
    let out = both("let n = 0\nfor i in 0..=40 { n = n + i\n i = 1000 }\nprint n, i\n");
    assert_eq!(out, "820 1000\n");
    let out =
        both("let n = 0\nfor i in -3..40 { for j in i..i + 2 { n = n + j } }\nprint n, i, j\n");
    assert_eq!(out, "1591 39 40\n");
}

#[test]
fn deep_nests_compile_their_inner_loops() {
    // Loops `from..9` of a nest of nine, the innermost (and the outermost) of 40 trips.
    let nest = |from: usize| {
        let mut src = String::new();
        for d in from..9 {
            let n = if d == 0 || d == 8 { 40 } else { 1 };
            src.push_str(&format!("for j{d} in 0..{n} {{\n"));
        }
        src.push_str("n = n + 1\n");
        src.push_str(&"}\n".repeat(9 - from));
        src
    };
    assert_eq!(both(&format!("let n = 0\n{}print n\n", nest(0))), "1600\n");
    assert!(!compiles("let n = 0\n", &nest(0)));
    assert!(!compiles("let n = 0\n", &nest(2)));
    assert!(compiles("let n = 0\n", &nest(3)));
}

#[test]
fn the_step_limit_stops_a_compiled_loop() {
    let run = |compile: bool| {
        let mut s = Session::new(Options {
            compile_loops: compile,
            max_steps: 500,
            ..Options::default()
        });
        let r = s.execute("t.mem", "let n = 0\nrepeat 1000 { n = n + 1 }\n");
        (r.diagnostics[0].code.clone(), s.variable("n"))
    };
    assert_eq!(run(true), run(false));
    assert_eq!(run(true), ("mem::limit".to_string(), Some("498".into())));
}

#[test]
fn heap_findings_keep_their_spans() {
    let out = both(
        "let p: *int = malloc(16)\nlet s = 0\nfor i in 0..40 {\n  s = s + p[i & 7]\n}\nfor i in 0..40 {\n  p[i & 7] = i\n}\nfree(p)\n",
    );
    assert_eq!(out, "mem::heap::uninit at line 4\nmem::heap::overflow at line 4\nmem::heap::overflow at line 7\n");
}

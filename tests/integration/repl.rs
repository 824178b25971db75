//! The REPL: its line-handling layer (`ReplCore`) driven without a terminal, and the binary
//! reading piped standard input as a script.

use std::sync::{Arc, Mutex};

use memsim::repl::Interrupter;
use memsim::session::{Progress, ProgressFn};

use memsim::render::text;
use memsim::repl::{ReplConfig, ReplCore};
use memsim::session::{Options, Session};

use crate::test::Test;

fn quiet() -> ReplCore {
    ReplCore::new(ReplConfig {
        trace: false,
        ..ReplConfig::default()
    })
}

/// Feeds lines one by one; returns everything printed.
fn feed(core: &mut ReplCore, lines: &[&str]) -> String {
    lines.iter().map(|l| core.handle_line(l)).collect()
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("memsim-repl-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// What `show WHAT` prints in a session, without running it through the REPL.
fn show(session: &mut Session, what: &str) -> String {
    let r = session.execute("show", &format!("show {what}"));
    let mut out = String::new();
    for s in &r.steps {
        text::outputs(s, &mut out);
    }
    out
}

#[test]
fn a_final_expression_shows_its_value() {
    let mut core = quiet();
    assert_eq!(core.handle_line("let x = 40"), "");
    assert_eq!(core.handle_line("x + 2"), "= 42\n");
    assert_eq!(core.handle_line("print x"), "40\n");
}

#[test]
fn the_trace_shows_events_under_the_line() {
    let mut core = ReplCore::default();
    let out = core.handle_line("let ip: *int = malloc(40)");
    assert!(out.contains("malloc(40) = 0x4052a0"), "{out}");
    assert!(out.lines().all(|l| l.starts_with("  ")), "{out}");
    let out = core.handle_line(":trace off");
    assert!(out.contains("trace off"), "{out}");
    assert_eq!(core.handle_line("ip[0] = 7"), "");
    assert_eq!(core.handle_line(":trace"), "the trace is off\n");
}

#[test]
fn completion_reads_the_language_tables_and_the_session() {
    let mut core = quiet();
    let (_, c) = core.complete("rep", 3);
    assert_eq!(c, ["repeat"]);
    let (start, c) = core.complete("print coun", 10);
    assert_eq!((start, c.len()), (6, 0), "no variable yet");
    core.handle_line("let counter = 1");
    let (start, c) = core.complete("print coun", 10);
    assert_eq!((start, c), (6, vec!["counter".to_string()]));
    let (start, c) = core.complete("show ", 5);
    assert_eq!(start, 5);
    let mut targets: Vec<String> = memsim::check::SHOW_TARGETS
        .iter()
        .map(|s| s.to_string())
        .collect();
    targets.sort();
    assert_eq!(c, targets);
    let (start, c) = core.complete(":", 1);
    assert_eq!(start, 0);
    for cmd in [
        ":help", ":reset", ":load", ":save", ":undo", ":machine", ":trace", ":quit",
    ] {
        assert!(c.contains(&cmd.to_string()), "{cmd} missing from {c:?}");
    }
    let (_, c) = core.complete("let p = mal", 11);
    assert_eq!(c, ["malloc"]);
    assert_eq!(core.hint("free(", 5).as_deref(), Some("p)"));
}

#[test]
fn an_open_brace_continues_the_input() {
    let mut core = quiet();
    assert_eq!(core.handle_line("let n = 0"), "");
    assert_eq!(core.handle_line("repeat 3 {"), "");
    assert!(core.pending());
    assert_eq!(core.handle_line("  n = n + 1  # a { in a comment"), "");
    assert!(core.pending());
    assert_eq!(core.handle_line("}"), "");
    assert!(!core.pending());
    assert_eq!(core.handle_line("n"), "= 3\n");
    // One multi-line input at once, as the line editor hands it over.
    assert_eq!(core.handle_line("for i in 0..2 {\n  print i\n}"), "0\n1\n");
    assert_eq!(core.session().history().len(), 4);
}

#[test]
fn errors_are_reported_and_the_session_goes_on() {
    let mut core = quiet();
    core.handle_line("let a = 1");
    let out = core.handle_line("print nosuch");
    assert!(out.contains("nosuch"), "{out}");
    let out = core.handle_line("let bad = (1 +");
    assert_eq!(out, "", "an open parenthesis waits for more");
    let out = core.handle_line(")");
    assert!(out.contains("mem::parse"), "{out}");
    // A statement that fails at run time is rolled back, and so is the rest of its input.
    let out = core.handle_line("a = 2; let q: *int = 0; switch nosuchprocess");
    assert!(!out.is_empty());
    assert_eq!(core.session().variable("a").as_deref(), Some("1"));
    assert_eq!(core.handle_line("a"), "= 1\n");
    let out = core.handle_line(":frobnicate");
    assert!(out.contains("unknown command"), "{out}");
}

#[test]
fn a_segfault_kills_the_process_and_undo_brings_it_back() {
    let mut core = quiet();
    core.handle_line("let p: *int = malloc(40)");
    let out = core.handle_line("p[100000] = 1");
    assert!(out.contains("mem::segv"), "{out}");
    assert!(out.contains(":undo"), "{out}");
    let out = core.handle_line(":undo");
    assert!(out.starts_with("undone: p[100000] = 1"), "{out}");
    assert_eq!(core.handle_line("p[0] = 5; p[0]"), "= 5\n");
}

#[test]
fn undo_replays_all_but_the_last_input() {
    let mut core = quiet();
    assert!(core.handle_line(":undo").contains("nothing to undo"));
    feed(&mut core, &["let a = 1", "a = a + 10", "let b = a * 2"]);
    assert_eq!(core.session().variable("b").as_deref(), Some("22"));
    let out = core.handle_line(":undo");
    assert_eq!(out, "undone: let b = a * 2\n");
    assert_eq!(core.session().variable("a").as_deref(), Some("11"));
    assert!(!core.session().variables().contains(&"b".to_string()));
    core.handle_line(":undo");
    assert_eq!(core.session().variable("a").as_deref(), Some("1"));
    assert_eq!(core.session().history().len(), 1);
    core.handle_line(":reset");
    assert!(core.session().history().is_empty());
    assert!(core.session().variables().is_empty());
}

#[test]
fn save_writes_a_file_that_replays_to_the_same_state() {
    let dir = scratch("save");
    let path = dir.join("saved.mem");
    let mut core = quiet();
    feed(
        &mut core,
        &[
            "machine { memory 64 MiB; swap 1 MiB }",
            "let p: *int = malloc(100)",
            "p[3] = 42",
            "let big = malloc(200 KiB)",
            "let m = mmap(64 KiB, rw-)",
            "write m[0..64 KiB] step 4 KiB = 9",
            "print nosuch",
            "repeat 3 {",
            "  p[0] = p[0] + 1",
            "}",
            "free(big)",
            "1 + 41",
        ],
    );
    let out = core.handle_line(&format!(":save {}", path.display()));
    assert!(out.starts_with("saved 9 inputs"), "{out}");
    let src = std::fs::read_to_string(&path).expect("saved file");
    assert!(
        !src.contains("nosuch"),
        "rejected input is not saved:\n{src}"
    );

    let mut fresh = Session::new(Options::default());
    let r = fresh.execute("saved.mem", &src);
    assert_eq!(r.exit_code(), 0, "{:?}", r.diagnostics);
    let vars = core.session().variables();
    assert_eq!(fresh.variables(), vars);
    for v in &vars {
        assert_eq!(fresh.variable(v), core.session().variable(v), "{v}");
    }
    assert_eq!(
        core.session().variable("p").as_deref(),
        Some("0x4052a0"),
        "the REPL ran the same program"
    );
    for what in ["maps", "heap", "stats", "pagetable"] {
        let mine = core.handle_line(&format!("show {what}"));
        assert_eq!(show(&mut fresh, what), mine, "show {what}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_runs_a_file_and_keeps_its_state() {
    let dir = scratch("load");
    std::fs::write(dir.join("s.mem"), "let x = 6\nlet y = x * 7\n").expect("write");
    let mut core = quiet();
    let out = core.handle_line(&format!(":load {}", dir.join("s.mem").display()));
    assert_eq!(out, "");
    assert_eq!(core.handle_line("y"), "= 42\n");
    let out = core.handle_line(&format!(":load {}", dir.join("nope.mem").display()));
    assert!(out.contains("cannot read"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn machine_and_help() {
    let mut core = quiet();
    let out = core.handle_line(":machine");
    assert!(out.contains("page size") && out.contains("4 KiB"), "{out}");
    core.handle_line("machine tiny");
    let out = core.handle_line(":machine");
    assert!(out.contains("tiny") && out.contains("256 B"), "{out}");
    // An inline override is reflected, and named.
    core.handle_line("machine { page_size 16 KiB }");
    let out = core.handle_line(":machine");
    assert!(out.contains("x86_64, changed: page_size"), "{out}");
    assert!(out.contains("16 KiB (14 offset bits)"), "{out}");
    assert_eq!(out, core.handle_line("show machine"));
    let out = core.handle_line(":help page fault");
    assert!(out.contains("valid"), "{out}");
    let out = core.handle_line(":help malloc");
    assert!(out.starts_with("malloc(n)"), "{out}");
    assert!(core.handle_line(":help").contains(":save FILE"));
    // A diagnostic code: its meaning, an example, and what memsim says about the example.
    let out = core.handle_line(":help mem::segv");
    assert!(out.starts_with("mem::segv\n"), "{out}");
    assert!(out.contains("For example:"), "{out}");
    assert!(out.contains("segmentation fault: the store at"), "{out}");
    assert!(core.handle_line(":help heap::leak").contains("memory leak"));
    assert!(core.handle_line(":quit").is_empty());
    assert!(core.handle(":quit").quit);
}

#[test]
fn an_interrupt_stops_a_long_loop_and_keeps_the_state() {
    // The button is pressed from the loop's own first progress report: the loop is surely
    // running then, with no sleep and no deadline to race.
    let stop: Arc<Mutex<Option<Interrupter>>> = Arc::default();
    let pressed = stop.clone();
    let mut core = ReplCore::new(ReplConfig {
        trace: false,
        progress: Some(ProgressFn(Arc::new(move |p: &Progress| {
            if !p.finished {
                if let Some(i) = pressed.lock().unwrap().as_ref() {
                    i.interrupt();
                }
            }
        }))),
        ..ReplConfig::default()
    });
    core.handle_line("let a: *int = malloc(16)");
    core.handle_line("a[0] = 5");
    let before = core.session().history().len();
    *stop.lock().unwrap() = Some(core.interrupter());
    let r = core.handle("repeat 1_000_000_000 { let x = 1 }");
    assert!(r.err.contains("mem::interrupted"), "{}", r.err);
    assert_eq!(core.session().history().len(), before);
    assert_eq!(core.handle_line("a[0]"), "= 5\n");
}

#[test]
fn piped_stdin_runs_as_a_script() {
    let out = Test::new()
        .args(&["repl"])
        .stdin("let x = 40\n# a comment\nrepeat 2 {\n  x = x + 1\n}\nx\nprint x * 2\n")
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("= 42\n"), "{}", out.stdout);
    assert!(out.stdout.ends_with("84\n"), "{}", out.stdout);
    assert!(!out.stdout.contains("mem>"), "no prompt: {}", out.stdout);
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'));
}

#[test]
fn piped_errors_go_to_stderr_and_set_the_status() {
    let out = Test::new()
        .args(&["repl"])
        .stdin("print 1\nprint nosuch\nprint 2\nrepeat 2 {\n")
        .run();
    assert_eq!(out.status, 2);
    assert_eq!(out.stdout, "1\n2\n");
    assert!(out.stderr.contains("nosuch"), "{}", out.stderr);
    // Located by the script's own lines, the snippet numbered as in the script.
    assert!(out.stderr.contains("<stdin>:2:7"), "{}", out.stderr);
    assert!(out.stderr.contains(" 2 │ print nosuch"), "{}", out.stderr);
    assert!(!out.stderr.contains(" 1 │ print nosuch"), "{}", out.stderr);
    assert!(
        out.stderr.contains("<stdin>:4:"),
        "the unclosed block: {}",
        out.stderr
    );
}

#[test]
fn repl_file_runs_first_and_quit_stops() {
    let out = Test::new()
        .file("s.mem", "let p: *int = malloc(40)\np[1] = 9\n")
        .args(&["repl", "s.mem"])
        .stdin("p[1]\n:quit\nprint 123\n")
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("= 9\n"), "{}", out.stdout);
    assert!(!out.stdout.contains("123"), "{}", out.stdout);

    let out = Test::new().args(&["repl", "missing.mem"]).run();
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("missing.mem"), "{}", out.stderr);
}

#[test]
fn plain_memsim_without_a_terminal_prints_help() {
    let out = Test::new().stdin("print 1\n").run();
    assert_eq!(out.status, 2);
    assert!(out.stdout.contains("repl"), "{}", out.stdout);
}

#[test]
fn else_on_the_line_after_a_closing_brace_continues_the_if() {
    let mut core = quiet();
    core.handle_line("let x = 1");
    assert_eq!(core.handle_line("if x > 5 {"), "");
    assert_eq!(core.handle_line("    print \"big\""), "");
    assert_eq!(core.handle_line("}"), "", "waits: an else may follow");
    assert!(core.pending());
    // A plain else ends the if: it runs at once.
    assert_eq!(core.handle_line("else { print \"small\" }"), "small\n");
    assert!(!core.pending());
    // An if without else runs when the next line is something else, then that line runs.
    core.handle_line("if x == 1 { print \"one\" }");
    assert_eq!(core.handle_line("print 2"), "one\n2\n");
    // `else if` chains wait too.
    core.handle_line("if x == 2 { print \"two\" } else if x == 3 { print \"three\" }");
    assert_eq!(core.handle_line("else { print \"other\" }"), "other\n");
    // A blank line runs a waiting if.
    core.handle_line("if x == 1 { print \"one\" }");
    assert_eq!(core.handle_line(""), "one\n");
}

#[test]
fn piped_else_after_a_brace_works_as_in_a_file() {
    let out = Test::new()
        .args(&["repl"])
        .stdin("let x = 0\nif x == 1 {\n  print 1\n}\nelse {\n  print 2\n}\nprint 3\n")
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "2\n3\n");
    // What a loop prints is shown as printed, each time, with the trace on.
    let out = Test::new()
        .args(&["repl"])
        .stdin("repeat 3 { print \"x\" }\n")
        .run();
    assert_eq!(out.stdout, "x\nx\nx\n");
}

#[test]
fn undo_skips_inputs_that_only_print_or_show() {
    let mut core = quiet();
    feed(
        &mut core,
        &["let a = 1", "let b = 2", "print a + b", "show stats", "b"],
    );
    let out = core.handle_line(":undo");
    assert_eq!(out, "undone: let b = 2\n");
    assert_eq!(core.session().variable("a").as_deref(), Some("1"));
    assert!(!core.session().variables().contains(&"b".to_string()));
    // A print that allocates changed the world: it is what is undone.
    feed(&mut core, &["print malloc(8)"]);
    assert_eq!(core.handle_line(":undo"), "undone: print malloc(8)\n");
    let mut looks = quiet();
    feed(&mut looks, &["print 1"]);
    assert!(looks
        .handle_line(":undo")
        .contains("only print, show or evaluate"));
}

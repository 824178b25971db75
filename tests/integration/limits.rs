//! Limits that bound a run (`--max-steps`, `--timeout`) and `memsim test` on paths that hold
//! nothing to test. The timeouts are tested with scenarios that cannot finish, never with
//! timing assertions.

use crate::test::Test;

/// Cannot finish: about 9.2e18 iterations.
const FOREVER: &str = "let n = 0\nrepeat 9223372036854775807 { n = n + 1 }\n";

#[test]
fn max_steps_stops_a_run_with_its_own_diagnostic() {
    let out = Test::new()
        .file(
            "r.mem",
            "repeat 9223372036854775807 { refs 0 1 2 3 4 5 6 7 }\n",
        )
        .args(&["run", "--max-steps", "1000", "r.mem"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("mem::limit"), "{}", out.stderr);
    assert!(
        out.stderr.contains("more than 1000 steps"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--max-steps"), "{}", out.stderr);
}

#[test]
fn every_page_reference_is_a_step() {
    let refs: Vec<String> = (0..200).map(|i| (i % 7).to_string()).collect();
    let src = format!("refs {}\n", refs.join(" "));
    let limited = Test::new()
        .file("r.mem", &src)
        .args(&["run", "--quiet", "--max-steps", "150", "r.mem"])
        .run();
    assert_eq!(limited.status, 1, "{}", limited.stderr);
    assert!(
        limited.stderr.contains("more than 150 steps"),
        "{}",
        limited.stderr
    );
    let enough = Test::new()
        .file("r.mem", &src)
        .args(&["run", "--quiet", "--max-steps", "201", "r.mem"])
        .run();
    assert_eq!(enough.status, 0, "{}", enough.stderr);
}

#[test]
fn the_runs_of_a_sweep_share_one_budget() {
    // Each run takes about 5,000 steps, under the limit; the hundred together do not.
    let src = "sweep seed in 0..=99 { repeat 5000 { } }\n";
    let out = Test::new()
        .file("s.mem", src)
        .args(&["run", "--quiet", "--max-steps", "100000", "s.mem"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("more than 100000 steps"),
        "{}",
        out.stderr
    );
    let out = Test::new()
        .file("s.mem", src)
        .args(&["run", "--quiet", "--max-steps", "600000", "s.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[test]
fn timeout_stops_a_compiled_loop() {
    let out = Test::new()
        .file("f.mem", FOREVER)
        .args(&["run", "--quiet", "--timeout", "200ms", "f.mem"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("mem::timeout"), "{}", out.stderr);
    assert!(
        out.stderr.contains("took longer than 200ms"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
}

#[test]
fn timeout_stops_replays_and_the_tree_walker() {
    // `refs` in the body keeps the loop on the tree walker, each reference through a replay.
    let out = Test::new()
        .file(
            "f.mem",
            "repeat 9223372036854775807 { refs 0 1 2 3 4 5 6 7 }\n",
        )
        .args(&["run", "--quiet", "--timeout", "200ms", "f.mem"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("mem::timeout"), "{}", out.stderr);
}

#[test]
fn timeout_covers_every_run_of_a_sweep() {
    let out = Test::new()
        .file(
            "s.mem",
            "sweep seed in 0..=9999 { repeat 1900000000 { } }\n",
        )
        .args(&["run", "--quiet", "--timeout", "300ms", "s.mem"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("mem::timeout"), "{}", out.stderr);
}

#[test]
fn test_and_repl_take_the_limits_too() {
    let out = Test::new()
        .file("t/forever.mem", FOREVER)
        .file("t/fine.mem", "expect 1 == 1\n")
        .args(&["test", "--timeout", "200ms", "t"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.contains("FAIL  t/forever.mem"), "{}", out.stdout);
    assert!(out.stdout.contains("1 passed, 1 failed"), "{}", out.stdout);
    assert!(out.stderr.contains("mem::timeout"), "{}", out.stderr);

    // The input that hits the limit is rolled back; the session goes on.
    let out = Test::new()
        .args(&["repl", "--max-steps", "1000"])
        .stdin("let n = 1\nrepeat 100000 { n = n + 1 }\nprint n\n")
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stderr.contains("mem::limit"), "{}", out.stderr);
    assert!(out.stdout.contains("1\n"), "{}", out.stdout);
}

#[test]
fn a_bad_duration_is_a_usage_error() {
    for bad in ["10 parsecs", "0s", "1.5s"] {
        let out = Test::new()
            .file("a.mem", "print 1\n")
            .args(&["run", "--timeout", bad, "a.mem"])
            .run();
        assert_eq!(out.status, 2, "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("--timeout"), "{bad}: {}", out.stderr);
    }
}

#[test]
fn test_of_a_missing_path_is_an_error() {
    let out = Test::new()
        .file("t/a.mem", "expect 1 == 1\n")
        .args(&["test", "t", "no-such-dir"])
        .run();
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("cannot read no-such-dir"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("passed"), "{}", out.stdout);
}

#[test]
fn test_that_finds_nothing_fails_and_says_so() {
    let out = Test::new()
        .file("empty/notes.txt", "not a scenario\n")
        .args(&["test", "empty"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("no .mem files under empty"),
        "{}",
        out.stderr
    );
}

#[test]
fn test_runs_a_file_named_on_the_command_line() {
    let out = Test::new()
        .file("scenario.txt", "expect 1 == 2\n")
        .args(&["test", "scenario.txt"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(out.stdout.contains("0 passed, 1 failed"), "{}", out.stdout);
}

/// Runs `src` in a session and interrupts it as Ctrl-C does, from the running statement's
/// first progress report (so it is certainly running), and returns the codes it stopped with.
/// A statement that never stops fails the test after a generous wait instead of hanging it.
fn interrupted(dir: &std::path::Path, src: &str) -> Vec<String> {
    use memsim::session::{Interrupt, Options, Progress, ProgressFn, Session};
    use std::sync::{Arc, Mutex};
    let handle: Arc<Mutex<Option<Interrupt>>> = Arc::default();
    let button = handle.clone();
    let mut s = Session::new(Options {
        trace: false,
        progress: Some(ProgressFn(Arc::new(move |p: &Progress| {
            if !p.finished {
                if let Some(i) = button.lock().unwrap().as_ref() {
                    i.interrupt();
                }
            }
        }))),
        progress_after: std::time::Duration::ZERO,
        ..Options::default()
    });
    s.set_base_dir(dir);
    *handle.lock().unwrap() = Some(s.interrupt_handle());
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = src.to_string();
    std::thread::spawn(move || {
        let r = s.execute("long.mem", &owned);
        let _ = tx.send(r.diagnostics.iter().map(|d| d.code.clone()).collect());
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("{src:?} did not stop when interrupted"))
}

#[test]
fn an_interrupt_stops_every_kind_of_long_statement() {
    let dir = std::env::temp_dir().join(format!("memsim-interrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A trace that replays for minutes: a few thousand lines, replayed again and again.
    let lines: String = (0..5000)
        .map(|i| format!("{:#x}\n", (i % 97) << 12))
        .collect();
    std::fs::write(dir.join("t.trace"), lines).unwrap();
    for src in [
        FOREVER,
        "repeat 9223372036854775807 { refs 0 1 2 3 4 5 6 7 }\n",
        "repeat 9223372036854775807 { trace \"t.trace\" }\n",
        "machine { stack_limit 1 TiB }\nrecurse deep 9223372036854775807 frame 16 B\n",
        "sweep seed in 0..=9999 { repeat 1900000000 { } }\n",
    ] {
        let codes = interrupted(&dir, src);
        assert_eq!(codes, ["mem::interrupted"], "{src}");
    }
}

#[test]
fn every_limit_has_a_flag() {
    // Each flag is accepted, and the small limit it sets is crossed with its own diagnostic.
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["--max-source", "100"],
            &"print 1\n".repeat(20),
            "mem::io::too_large",
        ),
        (
            &["--max-line", "20"],
            "print 1\nprint 1 + 1 + 1 + 1 + 1 + 1 + 1\n",
            "mem::parse::line_too_long",
        ),
        (
            &["--max-memory", "1 MiB"],
            "let p: *u8 = malloc(64 MiB)\nwrite p[0..64 MiB] step 4 KiB = 1\n",
            "mem::limit",
        ),
        (&["--max-steps", "10"], "repeat 100 { }\n", "mem::limit"),
    ];
    for (flags, src, code) in cases {
        let mut args = vec!["run", "--quiet"];
        args.extend_from_slice(flags);
        args.push("a.mem");
        let out = Test::new().file("a.mem", src).args(&args).run();
        assert!(out.stderr.contains(code), "{flags:?}: {}", out.stderr);
        assert!(out.stderr.contains("help:"), "{flags:?}: {}", out.stderr);
    }
    // The parser's nesting, the processes and threads, one line of a trace: each crossed
    // through its flag, and the same input within the limit passes.
    let deep = format!("let x = {}1{}\nprint x\n", "(".repeat(12), ")".repeat(12));
    let forks = "repeat 10 { let c = fork() }\n";
    let trace = "trace \"t.trace\"\n";
    let lines = format!("0x1000\n0x{}2000\n", "0".repeat(40));
    let cases: [(&str, &str, &str, &str, &str); 3] = [
        ("--max-depth", "10", "20", &deep, "mem::parse::too_deep"),
        ("--max-processes", "5", "11", forks, "mem::fork_limit"),
        ("--max-trace-line", "32", "64", trace, "mem::trace"),
    ];
    for (flag, low, enough, src, code) in cases {
        let run = |n: &str| {
            Test::new()
                .file("a.mem", src)
                .file("t.trace", &lines)
                .args(&["run", "--quiet", flag, n, "a.mem"])
                .run()
        };
        let out = run(low);
        assert!(out.stderr.contains(code), "{flag} {low}: {}", out.stderr);
        assert!(out.stderr.contains("help:"), "{flag} {low}: {}", out.stderr);
        assert!(
            out.stderr.contains(flag),
            "the help names {flag}: {}",
            out.stderr
        );
        let out = run(enough);
        assert!(
            !out.stderr.contains(code),
            "{flag} {enough}: {}",
            out.stderr
        );
    }
    // Past the ceiling the tree walkers' stacks allow, `--max-depth` is refused.
    let out = Test::new()
        .file("a.mem", "print 1\n")
        .args(&["run", "--max-depth", "100000", "a.mem"])
        .run();
    assert_eq!(out.status, 2, "{}", out.stderr);
    // Events past `--max-events` are counted, not kept.
    let out = Test::new()
        .file(
            "e.mem",
            "let p: *u8 = malloc(64 KiB)\nwrite p[0..64 KiB] step 4 KiB = 1\n",
        )
        .args(&["run", "--max-events", "2", "e.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("more event"), "{}", out.stdout);
}

#[test]
fn a_cell_over_the_source_limit_is_a_diagnostic() {
    use memsim::session::{Options, Session};
    let mut s = Session::new(Options {
        max_source_bytes: 1000,
        ..Options::default()
    });
    let r = s.execute("cell", &"print 1\n".repeat(200));
    assert_eq!(r.diagnostics[0].code, "mem::parse::too_large");
    assert!(r.static_errors);
}

#[test]
fn files_outside_the_root_are_refused_unless_root_allows_them() {
    let out = Test::new()
        .file("data/t.trace", "0x1000\n")
        .file("s/a.mem", "trace \"../data/t.trace\"\n")
        .args(&["run", "--quiet", "s/a.mem"])
        .run();
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("mem::check::outside_root"),
        "{}",
        out.stderr
    );
    let out = Test::new()
        .file("data/t.trace", "0x1000\n")
        .file(
            "s/a.mem",
            "trace \"../data/t.trace\"\nexpect stats.references == 1\n",
        )
        .args(&["run", "--quiet", "--root", ".", "s/a.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_not_waited_for() {
    let t = Test::new().file("a.mem", "trace \"pipe\"\n");
    let dir = t.dir().to_path_buf();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join("pipe"))
        .status()
        .unwrap();
    assert!(made.success());
    let out = t.args(&["run", "--quiet", "a.mem"]).run();
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("mem::check::not_a_file"),
        "{}",
        out.stderr
    );
    let out = Test::new()
        .file("z.mem", "trace \"/dev/zero\"\n")
        .args(&["run", "--quiet", "--root", "/dev", "z.mem"])
        .run();
    assert!(
        out.stderr.contains("mem::check::not_a_file"),
        "{}",
        out.stderr
    );
    // `memsim run /dev/zero` reads no more than the source limit.
    let out = Test::new()
        .args(&["run", "--max-source", "1000", "/dev/zero"])
        .run();
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(out.stderr.contains("mem::io::too_large"), "{}", out.stderr);
}

#[test]
fn the_default_limits_take_a_long_reference_string_and_refuse_more() {
    use memsim::session::{Options, Session, DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_SOURCE_BYTES};
    // A page-replacement exercise's reference string on one line, 2.7 MB: no flag needed.
    let refs = format!("refs{}\n", " 0 1 2 3w 40".repeat(250_000));
    assert!(refs.len() > 2 << 20);
    let r = Session::new(Options::default()).execute("cell", &refs);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    // One byte past each default is refused before anything is parsed.
    let long = format!("print 1 # {}\n", "x".repeat(DEFAULT_MAX_LINE_BYTES));
    let r = Session::new(Options::default()).execute("cell", &long);
    assert_eq!(r.diagnostics[0].code, "mem::parse::line_too_long");
    let big = "print 1\n".repeat(DEFAULT_MAX_SOURCE_BYTES / 8 + 1);
    let r = Session::new(Options::default()).execute("cell", &big);
    assert_eq!(r.diagnostics[0].code, "mem::parse::too_large");
}

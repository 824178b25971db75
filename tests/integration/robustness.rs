//! Input that is not quite text, output that cannot be written, and statements that once
//! crashed: each ends in a coded diagnostic and an exit status, never a panic.

use crate::test::{Output, Stdout, Test};

fn no_panic(out: &Output) {
    assert!(
        !out.stderr.contains("panicked") && out.status != 101 && out.status != 134,
        "status {}: {}",
        out.status,
        out.stderr
    );
}

#[test]
fn a_file_that_is_not_utf8_names_the_line_and_column_of_the_first_bad_byte() {
    for cmd in ["run", "check", "test"] {
        let out = Test::new()
            .file_bytes("bad.mem", b"print 1\nprint \xff 2\n")
            .args(&[cmd, "bad.mem"])
            .run();
        no_panic(&out);
        assert_eq!(out.status, if cmd == "test" { 1 } else { 2 }, "{cmd}");
        assert!(out.stderr.contains("mem::io::not_utf8"), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("bad.mem is not UTF-8 text: byte 0xff at line 2, column 7"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("[bad.mem:2:7]"), "{}", out.stderr);
    }
}

#[test]
fn a_missing_file_and_a_folder_get_their_own_codes() {
    let out = Test::new().args(&["check", "nope.mem"]).run();
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("mem::io::not_found"), "{}", out.stderr);
    let out = Test::new()
        .file("d/a.mem", "print 1\n")
        .args(&["run", "d"])
        .run();
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("mem::io::is_a_folder"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("memsim test d"), "{}", out.stderr);
    let out = Test::new().args(&["repl", "nope.mem"]).run();
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("mem::io::not_found"), "{}", out.stderr);
}

#[test]
fn a_byte_order_mark_is_skipped_in_files_and_piped_input() {
    let out = Test::new()
        .file_bytes("b.mem", b"\xef\xbb\xbfprint 1\nexpect 1 == 1\n")
        .args(&["run", "b.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("1 passed"), "{}", out.stdout);
    let out = Test::new()
        .args(&["repl"])
        .stdin_bytes(b"\xef\xbb\xbfprint 5\n")
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "5\n");
}

#[test]
fn a_piped_line_that_is_not_utf8_is_reported_and_does_not_run() {
    let out = Test::new()
        .args(&["repl"])
        .stdin_bytes(b"print 1\nprint \xff 2\nrepeat 2 {\nprint \xfe\n}\nprint 3\n")
        .run();
    no_panic(&out);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "1\n3\n");
    assert!(
        out.stderr
            .contains("input line 2 is not UTF-8 text: byte 0xff at column 7"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the input started at line 3"),
        "{}",
        out.stderr
    );
    // The block's closing brace ends the dropped input: it is no error of its own.
    assert!(!out.stderr.contains("unmatched"), "{}", out.stderr);
}

#[test]
fn a_diagnostic_past_column_65535_is_drawn_clipped() {
    let src = format!("{}@\n", " ".repeat(65_536));
    let out = Test::new()
        .file("wide.mem", &src)
        .args(&["check", "wide.mem"])
        .run();
    no_panic(&out);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("[wide.mem:1:65537]"), "{}", out.stderr);
    assert!(out.stderr.lines().all(|l| l.len() < 300), "{}", out.stderr);
    // A run-time error far along a line.
    let src = format!("let p: *int = 0;{}print p[0]\n", " ".repeat(70_000));
    let out = Test::new()
        .file("wide.mem", &src)
        .args(&["run", "wide.mem"])
        .run();
    no_panic(&out);
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("mem::segv"), "{}", out.stderr);
    assert!(out.stderr.contains("[wide.mem:1:70023]"), "{}", out.stderr);
}

#[test]
fn a_machine_inside_a_block_leaves_the_repl_and_its_state_alive() {
    let out = Test::new()
        .args(&["repl"])
        .stdin("let x = 5\nin main { machine x86_64 }\nmalloc(8)\nprint x\n")
        .run();
    no_panic(&out);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("mem::check::nested_machine"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.ends_with("5\n"), "{}", out.stdout);
}

/// Every command, with its output going nowhere.
fn commands() -> Vec<(Vec<&'static str>, Option<String>)> {
    let prints = "print 1\n".repeat(20_000);
    vec![
        (vec!["run", "a.mem"], None),
        (vec!["run", "--quiet", "a.mem"], None),
        (vec!["run", "--format", "json", "a.mem"], None),
        (vec!["check", "a.mem", "b.mem"], None),
        (vec!["test", "--allow-empty", "."], None),
        (vec!["profiles"], None),
        (vec!["--help"], None),
        (vec!["repl"], Some(prints)),
    ]
}

fn with_files(t: Test) -> Test {
    t.file("a.mem", "repeat 3000 { print 12345678 }\n")
        .file("b.mem", "print 2\n")
}

#[test]
fn a_closed_output_pipe_ends_every_command_quietly() {
    for (args, stdin) in commands() {
        let mut t = with_files(Test::new()).args(&args).stdout(Stdout::Closed);
        if let Some(s) = &stdin {
            t = t.stdin(s);
        }
        let out = t.run();
        no_panic(&out);
        assert_eq!(out.status, 0, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr, "", "{args:?}");
    }
}

#[test]
fn a_full_disk_is_an_error_for_every_command() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    for (args, stdin) in commands() {
        let mut t = with_files(Test::new()).args(&args).stdout(Stdout::Full);
        if let Some(s) = &stdin {
            t = t.stdin(s);
        }
        let out = t.run();
        no_panic(&out);
        assert_eq!(out.status, 74, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("mem::io::write"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("No space left on device"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn the_host_memory_limit_counts_heap_bookkeeping_not_only_memory_contents() {
    // 20,000 blocks of 24 bytes: 640 KB of simulated heap, several MB of bookkeeping.
    let mut s = memsim::session::Session::new(memsim::Options {
        max_host_bytes: 2 << 20,
        ..memsim::Options::default()
    });
    let r = s.execute("t.mem", "repeat 20000 { malloc(24) }\nprint 1\n");
    let limit = r
        .diagnostics
        .iter()
        .find(|d| d.code == "mem::limit")
        .unwrap_or_else(|| panic!("no mem::limit: {:?}", r.diagnostics));
    assert!(
        limit.report.to_string().contains("host memory"),
        "{}",
        limit.report
    );
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn forks_share_page_tables_so_thousands_fit_a_small_host_limit() {
    // 4,096 processes with 1 MB blocks; copied page tables alone would take over 100 MB.
    let mut s = memsim::session::Session::new(memsim::Options {
        max_host_bytes: 16 << 20,
        ..memsim::Options::default()
    });
    let r = s.execute(
        "t.mem",
        "let p: *int = malloc(1000000)\np[0] = 1\nlet last = 0\nrepeat 5000 { last = fork() }\nexpect last == -1\n",
    );
    assert!(
        r.diagnostics.iter().all(|d| d.code != "mem::limit"),
        "{:?}",
        r.diagnostics
            .iter()
            .map(|d| d.report.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(r.expectations_passed, 1);
    let tables = s.world().mmu.table_host_bytes();
    assert!(tables < 1 << 20, "{tables} bytes of page tables");
}

//! The CLI from the outside: exit codes, formats, `test`, `check`, `profiles`.

use crate::test::Test;

const SEED: &str = "let ip: *int = malloc(40)\nip[0] = 7\nexpect ip[0] == 7\nexpect segfault { ip[100000] = 99 }\n";

#[test]
fn run_prints_a_trace_and_a_summary() {
    let out = Test::new()
        .file("s.mem", SEED)
        .args(&["run", "s.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("malloc(40) = 0x4052a0"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("SIGSEGV (SEGV_MAPERR)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("2 passed, 0 failed"), "{}", out.stdout);
}

#[test]
fn a_failed_expectation_exits_1() {
    let out = Test::new()
        .file(
            "f.mem",
            "let p: *int = malloc(8)\np[0] = 1\nexpect p[0] == 2\n",
        )
        .args(&["run", "f.mem"])
        .run();
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("mem::expect"), "{}", out.stderr);
    assert!(
        out.stderr.contains("expected p[0] == 2, but p[0] is 1"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unexpected_segfault_exits_1_and_names_the_process() {
    let out = Test::new()
        .file("d.mem", "let p: *int = 0\np[0] = 1\n")
        .args(&["run", "d.mem"])
        .run();
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("mem::segv"), "{}", out.stderr);
    assert!(out.stderr.contains("main (pid"), "{}", out.stderr);
}

#[test]
fn static_errors_exit_2_and_nothing_runs() {
    let out = Test::new()
        .file("e.mem", "print 1\nlet x = y + 1\nprint z\n")
        .args(&["run", "e.mem"])
        .run();
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("unknown name `y`"), "{}", out.stderr);
    assert!(out.stderr.contains("unknown name `z`"), "{}", out.stderr);
    assert!(!out.stdout.contains("> 1"), "{}", out.stdout);
}

#[test]
fn quiet_prints_only_what_the_scenario_prints() {
    let out = Test::new()
        .file("q.mem", "print getpagesize()\n")
        .args(&["run", "--quiet", "q.mem"])
        .run();
    assert_eq!(out.status, 0);
    // Nothing but what it prints: no summary line.
    assert_eq!(out.stdout, "4096\n");
}

#[test]
fn json_and_yaml_reports_parse() {
    let out = Test::new()
        .file("s.mem", SEED)
        .args(&["run", "--format", "json", "s.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    assert_eq!(v[0]["expectations"]["passed"], 2);
    assert_eq!(v[0]["exit_code"], 0);
    assert!(v[0]["stats"]["minor"].as_u64().unwrap() >= 1);
    let out = Test::new()
        .file("s.mem", SEED)
        .args(&["run", "--format", "yaml", "s.mem"])
        .run();
    let y: serde_yaml::Value = serde_yaml::from_str(&out.stdout).expect("valid YAML");
    assert_eq!(y[0]["file"].as_str(), Some("s.mem"));
}

#[test]
fn the_json_report_keeps_order_lines_and_repetitions() {
    let src = "let p: *long = malloc(8)\nfor i in 0..3 {\n    print \"x\"\n}\nexpect segfault {\n    p[100000] = 1\n}\nfree(p)\n";
    let out = Test::new()
        .file("r.mem", src)
        .args(&["run", "--format", "json", "r.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    let steps = &v[0]["steps"];
    // The loop: one run, three times, its print under line 3.
    let run = &steps[1]["runs"][0];
    assert_eq!(run["times"], 3);
    assert_eq!(run["parts"][0]["line"], 3);
    assert_eq!(run["parts"][0]["source"], "    print \"x\"");
    assert_eq!(run["parts"][0]["items"][0]["kind"], "print");
    // The segfault under the store's line, the verdict under the closing brace, in order.
    let parts = &steps[2]["runs"][0]["parts"];
    assert_eq!(parts[0]["line"], 6);
    assert_eq!(parts[0]["items"][0]["event"], "segv");
    assert_eq!(parts[1]["line"], 7);
    assert_eq!(parts[1]["items"][0]["kind"], "expect");
}

#[test]
fn test_runs_every_file_and_counts() {
    let out = Test::new()
        .file("t/a.mem", "expect 1 + 1 == 2\n")
        .file("t/b.mem", "expect 1 + 1 == 3\n")
        .args(&["test", "t"])
        .run();
    assert_eq!(out.status, 1);
    assert!(
        out.stdout.ends_with("1 passed, 1 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn test_fails_a_file_that_checks_nothing_unless_allowed() {
    let t = || {
        Test::new()
            .file("t/a.mem", "expect 1 + 1 == 2\n")
            .file("t/empty.mem", "let p = malloc(8)\nfree(p)\n")
    };
    let out = t().args(&["test", "t"]).run();
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("FAIL  t/empty.mem: no expectation: it checks nothing")
            && out.stdout.ends_with("1 passed, 1 failed\n"),
        "{}",
        out.stdout
    );
    let out = t().args(&["test", "--allow-empty", "t"]).run();
    assert_eq!(out.status, 0, "{}", out.stdout);
    assert!(
        out.stdout.ends_with("2 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn test_fails_a_file_with_a_warning_it_does_not_expect() {
    let leaky = "let p: *int = malloc(8)\np = NULL\nexpect 1 == 1\n";
    let out = Test::new()
        .file("t/leaky.mem", leaky)
        .file(
            "t/said.mem",
            "expect warning leak { let p: *int = malloc(8); p = NULL }\n",
        )
        .args(&["test", "t"])
        .run();
    assert_eq!(out.status, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("FAIL  t/leaky.mem: 1 warning it does not expect")
            && out.stdout.contains("ok    t/said.mem")
            && out.stderr.contains("memory leak"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn check_reports_without_running() {
    let out = Test::new()
        .file("c.mem", "let p: *int = malloc(8)\np[100000000] = 1\n")
        .args(&["check", "c.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.contains("c.mem: ok"));
}

#[test]
fn profiles_lists_the_builtins() {
    let out = Test::new().args(&["profiles"]).run();
    assert_eq!(out.status, 0);
    for p in [
        "x86_64",
        "x86_64_la57",
        "i386",
        "aarch64_4k",
        "aarch64_16k",
        "aarch64_64k",
        "riscv_sv39",
        "tiny",
        "ostep_paging",
        "ostep_policy",
        "ostep_malloc",
    ] {
        assert!(out.stdout.contains(p), "{p} missing:\n{}", out.stdout);
    }
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let out = Test::new().args(&["run", "nope.mem"]).run();
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("cannot read nope.mem"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_dash_reads_the_scenario_from_stdin() {
    let out = Test::new()
        .args(&["run", "-"])
        .stdin("print 6 * 7\nexpect 2 == 3\n")
        .run();
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(out.stdout.contains("> 42"), "{}", out.stdout);
    assert!(
        out.stdout.contains("<stdin>: 0 passed, 1 failed"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("<stdin>:2:1"), "{}", out.stderr);
}

#[test]
fn the_trace_is_coloured_only_when_asked_or_on_a_terminal() {
    let src =
        "let p: *long = malloc(8)\nexpect segfault { p[100000] = 1 }\nexpect 1 == 2\nfree(p)\n";
    let always = Test::new()
        .file("c.mem", src)
        .args(&["run", "--color", "always", "c.mem"])
        .run();
    assert!(
        always.stdout.contains("\x1b[1;31mSIGSEGV"),
        "{}",
        always.stdout
    );
    assert!(always.stdout.contains("\x1b[32mexpectation holds"));
    assert!(always.stdout.contains("\x1b[1;31mEXPECTATION FAILED"));
    // Piped, and with NO_COLOR: plain.
    for args in [
        &["run", "c.mem"][..],
        &["run", "--color", "never", "c.mem"][..],
    ] {
        let plain = Test::new().file("c.mem", src).args(args).run();
        assert!(!plain.stdout.contains('\x1b'), "{}", plain.stdout);
        assert!(!plain.stderr.contains('\x1b'), "{}", plain.stderr);
    }
}

#[test]
fn help_completions_and_man_page() {
    let help = Test::new().args(&["run", "--help"]).run();
    assert!(
        help.stdout.contains("`-` reads one from standard input"),
        "{}",
        help.stdout
    );
    let help = Test::new().args(&["check", "--help"]).run();
    assert!(
        help.stdout.contains("Scenario files (.mem) to check"),
        "{}",
        help.stdout
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = Test::new().args(&["completions", shell]).run();
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert!(out.stdout.contains("memsim"), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("profiles"), "{shell}: {}", out.stdout);
    }
    let man = Test::new().args(&["manpage"]).run();
    assert_eq!(man.status, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie"), "{}", man.stdout);
    assert!(man.stdout.contains(".TH memsim 1"), "{}", man.stdout);
}

#[test]
fn check_reports_a_mapped_file_that_cannot_be_read() {
    let out = Test::new()
        .file("store.bin", "abc")
        .file(
            "m.mem",
            "let ok = mmap(4 KiB, r--, file \"store.bin\")\nlet m = mmap(4 KiB, r--, file \"gone.bin\")\n",
        )
        .args(&["check", "m.mem"])
        .run();
    assert_eq!(out.status, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("mem::check::mapped_file") && out.stderr.contains("gone.bin"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("cannot map the file \"store.bin\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_trace_file_of_a_million_lines_replays_to_the_textbook_count() {
    // Two pages in turn with one frame: every reference after the first of each run faults.
    let mut t = String::with_capacity(12_000_000);
    for i in 0..1_000_000u64 {
        let page = (i / 10) % 2;
        t.push_str(&format!(
            " L {:x},4\n",
            0x1000_0000 + page * 0x1000 + (i % 10) * 8
        ));
    }
    let out = Test::new()
        .file("big.trace", &t)
        .file(
            "big.mem",
            "machine { memory 1 pages; swap 0 }\ntrace \"big.trace\"\nexpect stats.references == 1000000\nexpect stats.faults == 100000\n",
        )
        .args(&["run", "--quiet", "big.mem"])
        .run();
    // Both expectations held (a failed one exits 1); `--quiet` prints no summary.
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "", "{}", out.stderr);
}

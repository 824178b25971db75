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
    assert!(out.stdout.starts_with("4096\n"), "{}", out.stdout);
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
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("2 passed, 0 failed"), "{}", out.stdout);
}

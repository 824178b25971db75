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

//! memsim in a real terminal: the `memsim` binary in a pseudo-terminal, typed at as a person
//! types. Ctrl-C is the byte 0x03, which the terminal's line discipline turns into SIGINT while a
//! statement runs: the REPL must be back at its prompt, `memsim run` must end with
//! `mem::interrupted` and status 130, promptly: the step counter looks at the interrupt every
//! 1,024 steps, so it takes milliseconds; the bound below only tells "stopped" from "kept
//! running" on a loaded machine. Lines typed ahead in one burst must all run. A test binary of
//! its own, so that no other test's threads run while rexpect forks.

use std::process::Command;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rexpect::session::{spawn_with_options, Options, PtySession};

/// A statement that cannot end by itself within any test's time: the step limit is lifted.
const LONG: &str = "let n = 0\nrepeat 9223372036854775807 { n = n + 1 }";

/// What the progress line says once a statement has run for a second: from then on the
/// statement is surely running, with the terminal in its normal mode.
const RUNNING: &str = "(Ctrl-C stops it)";

/// Time from Ctrl-C to the prompt or the end of the run that still counts as prompt.
const PROMPT: Duration = Duration::from_secs(3);

/// How long any expected output may take to appear; only a failure waits this long.
const PATIENCE_MS: u64 = 60_000;

/// One pseudo-terminal test at a time: rexpect forks the test process, which runs other
/// threads, and a fork while another test's fork is half done is asking for trouble; the two
/// tests also each want a CPU for their timing.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn spawn(dir: &std::path::Path, args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_memsim"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        // The REPL keeps its history under the data folder: a scratch one, not the home's.
        .env("XDG_DATA_HOME", dir)
        .env("HOME", dir);
    let opts = Options::new()
        .timeout_ms(Some(PATIENCE_MS))
        .strip_ansi_escape_codes(true);
    spawn_with_options(cmd, opts).expect("memsim starts in a pseudo-terminal")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("memsim-ctrl-c-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn ctrl_c_in_the_repl_returns_to_the_prompt() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = scratch("repl");
    let mut p = spawn(&dir, &["repl", "--max-steps", "18446744073709551615"]);
    p.exp_string("mem> ").expect("the first prompt");
    // The editor redraws the prompt with every key, so "mem> " alone does not say that the
    // line has run: its output does, and the prompt after it is the next one.
    p.send_line("let kept = 40 + 1; print kept * 2")
        .expect("typed");
    p.exp_string("82").expect("the short input's output");
    p.exp_string("mem> ").expect("a prompt after a short input");
    p.send_line(&LONG.replace('\n', "; ")).expect("typed");
    p.exp_string(RUNNING)
        .expect("the long statement reports progress");
    let pressed = Instant::now();
    p.send_control('c').expect("Ctrl-C typed");
    let before = p.exp_string("mem> ").expect("the prompt again");
    let took = pressed.elapsed();
    assert!(took < PROMPT, "back at the prompt after {took:?}");
    assert!(before.contains("interrupted"), "{before}");
    // The session is usable, and the interrupted input changed nothing.
    p.send_line("print kept + 1").expect("typed");
    p.exp_string("42")
        .expect("the variable set before the interrupt");
    p.send_control('d').expect("Ctrl-D typed");
    p.exp_eof().expect("the REPL leaves on Ctrl-D");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_memsim_run_with_its_diagnostic_and_status_130() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = scratch("run");
    std::fs::write(dir.join("long.mem"), format!("print 1\n{LONG}\nprint 2\n")).expect("file");
    std::fs::write(dir.join("next.mem"), "print 3\n").expect("file");
    let mut p = spawn(
        &dir,
        &[
            "run",
            "--quiet",
            "--max-steps",
            "18446744073709551615",
            "long.mem",
            "next.mem",
        ],
    );
    p.exp_string(RUNNING)
        .expect("the long statement reports progress");
    let pressed = Instant::now();
    p.send_control('c').expect("Ctrl-C typed");
    let rest = p.exp_eof().expect("memsim run ends");
    let took = pressed.elapsed();
    assert!(took < PROMPT, "ended {took:?} after Ctrl-C");
    assert!(rest.contains("mem::interrupted"), "{rest}");
    // The statement stopped; the file's last statement and the next file never ran.
    assert!(!rest.contains("> 2") && !rest.contains("> 3"), "{rest}");
    let status = p.process().wait().expect("exit status");
    assert!(format!("{status:?}").ends_with(", 130)"), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lines_typed_in_one_burst_all_run() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = scratch("burst");
    let mut p = spawn(&dir, &["repl"]);
    p.exp_string("mem> ").expect("the first prompt");
    // One write: the editor's first read of the terminal takes all three lines at once, and
    // what it read past the first must wait for the next prompts rather than be dropped.
    p.send("let a = 6\nlet b = a * 7\nprint b + 1000\n")
        .expect("typed");
    p.exp_string("1042")
        .expect("the third line ran, after the first two");
    p.send_control('d').expect("Ctrl-D typed");
    p.exp_eof().expect("the REPL leaves on Ctrl-D");
    let _ = std::fs::remove_dir_all(&dir);
}

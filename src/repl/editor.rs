//! The terminal glue: rustyline with memsim's completion, hints, highlighting and multi-line
//! validation, persistent history, and Ctrl-C that interrupts a running statement. Everything
//! it decides is delegated to [`ReplCore`] and its helpers, which are tested without a terminal.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::{complete, input, ReplConfig, ReplCore, Reply};

/// Where the REPL keeps its history: `$MEMSIM_HISTORY` (empty: keep none), else
/// `memsim/history` in the platform's data folder (`$XDG_DATA_HOME` or `~/.local/share` on
/// Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows).
pub fn history_path() -> Option<PathBuf> {
    history_path_from(|k| std::env::var_os(k))
}

/// [`history_path`] with the environment given, so it can be tested.
pub fn history_path_from(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(p) = env("MEMSIM_HISTORY") {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let absolute = |k: &str| env(k).map(PathBuf::from).filter(|p| p.is_absolute());
    let data = if cfg!(windows) {
        absolute("APPDATA")
    } else if cfg!(target_os = "macos") {
        absolute("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        absolute("XDG_DATA_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/share")))
    };
    data.map(|d| d.join("memsim").join("history"))
}

/// What rustyline asks about the line being edited. It sees a copy of the session's variable
/// names, refreshed after every input, rather than the session itself.
struct MemHelper {
    vars: Vec<String>,
    color: bool,
}

impl Completer for MemHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, cands) = complete::complete(line, pos, &self.vars);
        let pairs = cands
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for MemHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        complete::hint(line, pos, &self.vars)
    }
}

impl Highlighter for MemHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(input::highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        // Any keystroke can change a token's colour (a digit ends a word, a quote opens a
        // string), so repaint every time; lines are short.
        self.color
    }
}

impl Validator for MemHelper {
    /// Every line is accepted as typed: the REPL keeps an open block itself, so each further
    /// line gets the continuation prompt and Ctrl-D on one cancels the block.
    fn validate(&self, _ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(ValidationResult::Valid(None))
    }
}

impl Helper for MemHelper {}

fn print(r: &Reply) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(r.out.as_bytes());
    let _ = out.flush();
    let _ = std::io::stderr().write_all(r.err.as_bytes());
}

/// The interactive loop on a terminal. Returns the exit status (0 unless it could not start).
pub fn run_interactive(file: Option<&Path>, cfg: ReplConfig) -> i32 {
    let color = cfg.color;
    let mut core = ReplCore::new(cfg);
    let interrupter = core.interrupter();
    // While a statement runs the terminal is in its normal mode, so Ctrl-C arrives as SIGINT:
    // stop the statement (the session rolls it back) instead of the whole program. At the
    // prompt rustyline reads Ctrl-C as a key and this handler does not fire.
    let _ = ctrlc::set_handler(move || interrupter.interrupt());
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(5000))
        .map(|b| b.build());
    let editor = config.and_then(Editor::<MemHelper, DefaultHistory>::with_config);
    let mut rl = match editor {
        Ok(rl) => rl,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "memsim: cannot start the line editor: {e}"
            );
            return 2;
        }
    };
    rl.set_helper(Some(MemHelper {
        vars: Vec::new(),
        color,
    }));
    let history = history_path();
    if let Some(p) = &history {
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.load_history(p);
    }
    let _ = writeln!(
        std::io::stdout(),
        "memsim {} — a simulated MMU. :help for help, Tab completes, Ctrl-D leaves.",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(f) = file {
        print(&core.load(f));
    }
    let (prompt, more) = if color {
        ("\x1b[1;32mmem>\x1b[0m ", "\x1b[2m...>\x1b[0m ")
    } else {
        ("mem> ", "...> ")
    };
    loop {
        if let Some(h) = rl.helper_mut() {
            h.vars = core.session().variables();
        }
        match rl.readline(if core.pending() { more } else { prompt }) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                }
                let r = core.handle(&line);
                print(&r);
                if r.quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C at the prompt: the line (and any lines of an open block) is dropped.
                core.discard_pending();
            }
            Err(ReadlineError::Eof) if core.held() => {
                // A complete `if` waiting for an `else`: Ctrl-D runs it, as Enter would.
                print(&core.finish());
            }
            Err(ReadlineError::Eof) if core.pending() => {
                // Ctrl-D inside an open block cancels that input, not the session.
                core.discard_pending();
                println!("(input cancelled)");
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "memsim: {e}");
                break;
            }
        }
    }
    if let Some(p) = &history {
        let _ = rl.save_history(p);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn history_location() {
        assert_eq!(
            history_path_from(env(&[("MEMSIM_HISTORY", "/tmp/h"), ("HOME", "/home/a")])),
            Some(PathBuf::from("/tmp/h"))
        );
        assert_eq!(history_path_from(env(&[("MEMSIM_HISTORY", "")])), None);
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(
                history_path_from(env(&[("HOME", "/home/a")])),
                Some(PathBuf::from("/home/a/.local/share/memsim/history"))
            );
            assert_eq!(
                history_path_from(env(&[("HOME", "/home/a"), ("XDG_DATA_HOME", "/d")])),
                Some(PathBuf::from("/d/memsim/history"))
            );
            // The XDG spec says a relative value is to be ignored.
            assert_eq!(
                history_path_from(env(&[("HOME", "/home/a"), ("XDG_DATA_HOME", "rel")])),
                Some(PathBuf::from("/home/a/.local/share/memsim/history"))
            );
        }
        assert_eq!(history_path_from(env(&[])), None);
    }
}

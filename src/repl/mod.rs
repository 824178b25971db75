//! The interactive REPL: `memsim repl [FILE]`, and plain `memsim` on a terminal.
//!
//! [`ReplCore`] is the whole REPL without a terminal: it takes lines, runs them through one
//! [`Session`] (the same engine as `memsim run`), answers `:`-commands, completes and hints,
//! and returns text. The line editor (rustyline) and the piped-stdin script mode (`run_script`)
//! are thin loops around it, built with the `cli` feature, so tests drive everything through
//! `ReplCore`, which the library has without any terminal code.

#[cfg(feature = "cli")]
mod editor;

// The language services live in `ide`, shared with the kernel; the REPL is one of their users.
pub use crate::ide::{codes, command, complete, describe_machine, help, input};

use std::fmt::Write as _;
#[cfg(feature = "cli")]
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

pub use crate::ide::{highlight, is_complete, needs_more};
pub use crate::ide::{Command, CommandInfo, COMMANDS};
#[cfg(feature = "cli")]
pub use editor::{history_path, run_interactive};

use crate::render::{diag, text};
use crate::session::{ChunkResult, Interrupt, Options, Session};
use crate::units;

/// What one line of input produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The trace, what was printed or shown, the value.
    pub out: String,
    /// Diagnostics and the REPL's own complaints.
    pub err: String,
    /// `memsim run`'s exit status for this input (0 for commands that worked).
    pub status: i32,
    /// `:quit` was given.
    pub quit: bool,
}

impl Reply {
    /// This reply, then `next`'s.
    fn then(mut self, next: Reply) -> Reply {
        self.out.push_str(&next.out);
        self.err.push_str(&next.err);
        self.status = self.status.max(next.status);
        self.quit |= next.quit;
        self
    }
    fn out(s: impl Into<String>) -> Reply {
        Reply {
            out: s.into(),
            ..Reply::default()
        }
    }
    fn err(s: impl Into<String>) -> Reply {
        let mut e: String = s.into();
        if !e.ends_with('\n') {
            e.push('\n');
        }
        Reply {
            err: e,
            status: 2,
            ..Reply::default()
        }
    }
}

/// How a REPL presents itself.
#[derive(Debug, Clone)]
pub struct ReplConfig {
    /// Colour in diagnostics (a terminal, without NO_COLOR).
    pub color: bool,
    /// Columns diagnostics are laid out for.
    pub width: usize,
    /// Show what the MMU and the OS did for each input.
    pub trace: bool,
    /// Name chunks `line N` after the line of standard input they start on (script mode)
    /// rather than `input N`.
    pub name_by_line: bool,
    /// Where relative paths in input (profiles, traces) resolve from.
    pub base_dir: PathBuf,
    /// Steps one input may take (`--max-steps`).
    pub max_steps: u64,
    /// Wall-clock time one input may run (`--timeout`).
    pub timeout: Option<std::time::Duration>,
    /// Told how a statement running for more than a second is getting on.
    pub progress: Option<crate::session::ProgressFn>,
}

impl Default for ReplConfig {
    fn default() -> Self {
        ReplConfig {
            color: false,
            width: 100,
            trace: true,
            name_by_line: false,
            base_dir: PathBuf::from("."),
            max_steps: crate::session::DEFAULT_MAX_STEPS,
            timeout: None,
            progress: None,
        }
    }
}

/// A shareable "stop what is running" button that always reaches the REPL's current session,
/// even after `:reset` or `:undo` replaced it (for a Ctrl-C handler or another thread).
#[derive(Debug, Clone, Default)]
pub struct Interrupter(Arc<Mutex<Interrupt>>);

impl Interrupter {
    pub fn interrupt(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .interrupt();
    }
    fn point_at(&self, i: Interrupt) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = i;
    }
}

/// The REPL without a terminal: one session, the input typed so far, and the settings.
pub struct ReplCore {
    session: Session,
    opts: Options,
    cfg: ReplConfig,
    /// The folder each accepted chunk's relative paths resolved from, parallel to
    /// `session.history()`, so that a replay resolves them the same way.
    chunk_dirs: Vec<PathBuf>,
    /// Lines of an input that is not complete yet (a `{` still open).
    pending: String,
    /// The line (script mode) or input number where the pending input began.
    pending_start: usize,
    /// The pending input is a complete `if` waiting to see whether an `else` follows.
    held: bool,
    lines_seen: usize,
    inputs_run: usize,
    /// The pending input holds a line that was not UTF-8: it is dropped once complete.
    poisoned: bool,
    interrupter: Interrupter,
}

impl Default for ReplCore {
    fn default() -> Self {
        ReplCore::new(ReplConfig::default())
    }
}

impl ReplCore {
    pub fn new(cfg: ReplConfig) -> Self {
        let opts = Options {
            trace: cfg.trace,
            // A failed statement leaves the world as it was, so the session survives errors.
            rollback: true,
            // Every line would end with "leaks" for blocks the user is still working with.
            report_leaks: false,
            max_steps: cfg.max_steps,
            timeout: cfg.timeout,
            progress: cfg.progress.clone(),
            ..Options::default()
        };
        let mut session = Session::new(opts.clone());
        session.set_base_dir(&cfg.base_dir);
        let interrupter = Interrupter::default();
        interrupter.point_at(session.interrupt_handle());
        ReplCore {
            session,
            opts,
            cfg,
            chunk_dirs: Vec::new(),
            pending: String::new(),
            pending_start: 0,
            held: false,
            lines_seen: 0,
            inputs_run: 0,
            poisoned: false,
            interrupter,
        }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The button that interrupts whatever input is running; it stays valid across `:reset`
    /// and `:undo`.
    pub fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }

    /// Whether a started input waits for more lines (the prompt should say so).
    pub fn pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether the trace is shown.
    pub fn trace(&self) -> bool {
        self.cfg.trace
    }

    /// Completions at byte `pos` of `line`: where the replaced word starts, and the candidates.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        complete::complete(line, pos, &self.session.variables())
    }

    /// The greyed text to show after the cursor, if any.
    pub fn hint(&self, line: &str, pos: usize) -> Option<String> {
        complete::hint(line, pos, &self.session.variables())
    }

    /// Handles one line (or, from the line editor, one complete multi-line input) and returns
    /// everything it printed, output then diagnostics.
    pub fn handle_line(&mut self, line: &str) -> String {
        let r = self.handle(line);
        r.out + &r.err
    }

    /// Handles one line: a `:`-command, a line of a statement still open, or a complete input
    /// to run.
    pub fn handle(&mut self, line: &str) -> Reply {
        if std::mem::take(&mut self.held) && !line.trim_start().starts_with("else") {
            // No `else` came: the `if` runs now, then this line (a blank one just ends it).
            let src = std::mem::take(&mut self.pending);
            let first = self.run(&src);
            if line.trim().is_empty() {
                self.lines_seen += 1;
                return first;
            }
            return first.then(self.handle(line));
        }
        self.lines_seen += line.split('\n').count();
        if self.pending.is_empty() && line.trim_start().starts_with(':') {
            return match command::parse(line) {
                Ok(c) => self.command(c),
                Err(e) => Reply::err(e),
            };
        }
        if self.pending.is_empty() {
            self.pending_start = self.lines_seen + 1 - line.split('\n').count();
        } else {
            self.pending.push('\n');
        }
        self.pending.push_str(line);
        if needs_more(&self.pending) {
            return Reply::default();
        }
        if input::may_take_else(&self.pending) {
            self.held = true;
            return Reply::default();
        }
        let src = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.poisoned) {
            return Reply::default();
        }
        self.run(&src)
    }

    /// Runs what is pending even though a bracket is still open (end of input): the parser
    /// then says what is missing.
    pub fn finish(&mut self) -> Reply {
        self.held = false;
        if self.pending.is_empty() {
            return Reply::default();
        }
        let src = std::mem::take(&mut self.pending);
        if std::mem::take(&mut self.poisoned) {
            return Reply::default();
        }
        self.run(&src)
    }

    /// A `mem::io::…` diagnostic as a reply.
    fn io_error(&self, e: crate::diag::io::IoError) -> Reply {
        let r = miette::Report::new(e);
        Reply::err(diag::render(&r, self.cfg.color, self.cfg.width))
    }

    /// A line of input that is not UTF-8 text: reported, and not run. The input it belongs to
    /// (a block it continues or opens) does not run either, since that would run something
    /// else than what was written; its other lines are still read, to find where it ends.
    pub fn reject_line(&mut self, bytes: &[u8]) -> Reply {
        let bad = crate::source::bad_byte(bytes).unwrap_or_default();
        let byte = format!("{:#04x}", bytes.get(bad.offset).copied().unwrap_or(0));
        let line = String::from_utf8_lossy(bytes).into_owned();
        let continues = (!self.pending.is_empty()).then_some(self.pending_start);
        if continues.is_none() && line.trim_start().starts_with(':') {
            self.lines_seen += 1;
        } else {
            self.poisoned = true;
            self.handle(&line);
        }
        let dropped = match continues {
            Some(start) => format!("; the input started at line {start} does not run"),
            None if !self.pending.is_empty() => "; the block it opens does not run".to_string(),
            None => String::new(),
        };
        self.io_error(crate::diag::io::IoError::InputNotUtf8 {
            line: self.lines_seen,
            byte,
            column: bad.column,
            dropped,
        })
    }

    /// Forgets a half-typed input (Ctrl-C at a continuation prompt).
    pub fn discard_pending(&mut self) {
        self.pending.clear();
        self.poisoned = false;
        self.held = false;
    }

    /// Whether the pending input is a complete `if` that only waits for a possible `else`:
    /// end of input runs it rather than dropping it.
    pub fn held(&self) -> bool {
        self.held
    }

    /// Runs a file in this session, as `memsim repl FILE` and `:load FILE` do.
    pub fn load(&mut self, path: &Path) -> Reply {
        let src = match crate::source::read(
            path,
            &path.display().to_string(),
            self.session.options_mut().max_source_bytes,
        ) {
            Ok(s) => s,
            Err(e) => return self.io_error(*e),
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // A file's relative paths resolve from its own folder, as under `memsim run`.
        self.session.set_base_dir(&dir);
        let r = self.execute(&path.display().to_string(), &src, dir);
        self.session.set_base_dir(&self.cfg.base_dir);
        r
    }

    fn run(&mut self, src: &str) -> Reply {
        // Blank lines and comments are not inputs: nothing to run, nothing to undo.
        if matches!(crate::syntax::parse(src), Ok(p) if p.stmts.is_empty()) {
            return Reply::default();
        }
        self.inputs_run += 1;
        // A piped script is one text: its statements are reported at their lines in it.
        let name = if self.cfg.name_by_line {
            self.session.set_first_line(self.pending_start);
            "<stdin>".to_string()
        } else {
            format!("input {}", self.inputs_run)
        };
        let dir = self.cfg.base_dir.clone();
        let r = self.execute(&name, src, dir);
        self.session.set_first_line(1);
        r
    }

    fn execute(&mut self, name: &str, src: &str, dir: PathBuf) -> Reply {
        let before = self.session.history().len();
        let r = self.session.execute(name, src);
        let mut reply = Reply {
            out: self.render(&r),
            err: self.diagnostics(&r),
            status: r.exit_code(),
            quit: false,
        };
        if r.unexpected_deaths > 0 {
            // As on Linux the process stays dead; say how to get it back.
            reply.err.push_str(
                "note: the process is dead now; `:undo` takes back the input that killed it, \
                 `:reset` starts over\n",
            );
        }
        if self.session.history().len() > before {
            self.chunk_dirs.push(dir);
        } else if r.stopped && r.steps.len() > 1 {
            // Rollback restored the world only for the statement that failed; the ones before
            // it on this input did run. Rebuild from the accepted input so that the state is
            // exactly what `:save` and `:undo` replay.
            let n = self.session.history().len();
            reply.err.push_str(&self.rebuild(n));
            reply.err.push_str(
                "note: the input stopped early, so none of it was kept: the session is as it \
                 was before it\n",
            );
        }
        reply
    }

    /// Replaces the session by a fresh one that replays the first `keep` accepted chunks.
    /// Returns a complaint if a replay did not go as it did the first time.
    fn rebuild(&mut self, keep: usize) -> String {
        let chunks: Vec<String> = self.session.history()[..keep].to_vec();
        let dirs: Vec<PathBuf> = self.chunk_dirs[..keep.min(self.chunk_dirs.len())].to_vec();
        // No events while replaying: only the state matters, and it is faster.
        // Nor a time limit: each input ran within it once, and a slower second run must not
        // lose the session's state.
        let mut fresh = Session::new(Options {
            trace: false,
            timeout: None,
            ..self.opts.clone()
        });
        // Ctrl-C during a replay would leave a state that matches no history; the replayed
        // input ran to the end before, so it is let run.
        self.interrupter.point_at(Interrupt::default());
        let mut complaint = String::new();
        let mut kept_dirs = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let dir = dirs
                .get(i)
                .cloned()
                .unwrap_or_else(|| self.cfg.base_dir.clone());
            fresh.set_base_dir(&dir);
            let r = fresh.execute(&format!("replay {}", i + 1), chunk);
            if r.stopped || r.static_errors {
                complaint = format!(
                    "warning: replaying input {} failed this time, so the session keeps only \
                     the {} before it\n",
                    i + 1,
                    i
                );
                break;
            }
            kept_dirs.push(dir);
        }
        fresh.set_base_dir(&self.cfg.base_dir);
        fresh.options_mut().trace = self.cfg.trace;
        fresh.options_mut().timeout = self.cfg.timeout;
        self.session = fresh;
        self.chunk_dirs = kept_dirs;
        self.interrupter.point_at(self.session.interrupt_handle());
        complaint
    }

    fn command(&mut self, c: Command) -> Reply {
        match c {
            Command::Help(topic) => Reply::out(help::help(topic.as_deref())),
            Command::Quit => Reply {
                quit: true,
                ..Reply::default()
            },
            Command::Trace(None) => Reply::out(format!(
                "the trace is {}\n",
                if self.cfg.trace { "on" } else { "off" }
            )),
            Command::Trace(Some(on)) => {
                self.cfg.trace = on;
                self.opts.trace = on;
                self.session.options_mut().trace = on;
                Reply::out(if on {
                    "trace on: each input shows what the MMU and the OS did\n"
                } else {
                    "trace off: only what inputs print, show and evaluate\n"
                })
            }
            Command::Reset => {
                self.session.reset();
                self.session.set_base_dir(&self.cfg.base_dir);
                self.chunk_dirs.clear();
                self.interrupter.point_at(self.session.interrupt_handle());
                Reply::out("reset: the default machine, no processes, no variables\n")
            }
            Command::Undo => {
                // The last input that changed something: inputs that only print, show or
                // evaluate after it go with it (they may name what it made).
                let history = self.session.history();
                let Some(n) = history.iter().rposition(|c| !only_looks(c)).map(|i| i + 1) else {
                    return Reply::err(if history.is_empty() {
                        "nothing to undo"
                    } else {
                        "nothing to undo: the inputs so far only print, show or evaluate"
                    });
                };
                let last = &history[n - 1];
                let first = last.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                let more = if last.trim().lines().count() > 1 {
                    " …"
                } else {
                    ""
                };
                let msg = format!("undone: {}{more}\n", first.trim());
                let complaint = self.rebuild(n - 1);
                Reply {
                    out: msg,
                    err: complaint,
                    ..Reply::default()
                }
            }
            Command::Load(path) => self.load(&path),
            Command::Save(path) => self.save(&path),
            Command::Machine => Reply::out(describe_machine(self.session.world().config())),
        }
    }

    /// The accepted input as one `.mem` file, which replays to the current state.
    pub fn saved_source(&self) -> String {
        let mut out = String::from("# saved from the memsim REPL: `memsim run` replays it\n");
        for chunk in self.session.history() {
            out.push_str(chunk.trim_end_matches(['\n', '\r']));
            out.push('\n');
        }
        out
    }

    fn save(&self, path: &Path) -> Reply {
        match std::fs::write(path, self.saved_source()) {
            Ok(()) => Reply::out(format!(
                "saved {} to {}\n",
                units::count(self.session.history().len() as u64, "input"),
                path.display()
            )),
            Err(e) => Reply::err(format!("cannot write {}: {e}", path.display())),
        }
    }

    /// A chunk's output: with the trace, each statement's events under it (numbered lines
    /// when the input had several statements); then what it printed; then its value.
    fn render(&self, r: &ChunkResult) -> String {
        let mut out = String::new();
        if self.cfg.trace && r.steps.len() > 1 {
            out.push_str(&text::trace_in(r, self.cfg.color));
        } else {
            for step in &r.steps {
                if self.cfg.trace {
                    text::step_body(
                        step,
                        text::Layout {
                            gutter: None,
                            color: self.cfg.color,
                        },
                        &mut out,
                    );
                } else {
                    text::outputs(step, &mut out);
                }
            }
        }
        if let Some(v) = &r.value {
            let _ = writeln!(out, "= {v}");
        }
        out
    }

    fn diagnostics(&self, r: &ChunkResult) -> String {
        let mut err = String::new();
        for d in &r.diagnostics {
            err.push_str(&diag::render(&d.report, self.cfg.color, self.cfg.width));
        }
        err
    }
}

/// Whether an input only looks at the world: `print`, `show` and bare expressions that call
/// nothing but the builtins that only look (`print malloc(8)` allocates).
fn only_looks(chunk: &str) -> bool {
    use crate::syntax::ast::StmtKind;
    const LOOKS: &[&str] = &[
        "getpagesize",
        "page_of",
        "offset_of",
        "frame_of",
        "usable_size",
        "sizeof",
    ];
    let toks: Vec<_> = input::lex(chunk)
        .into_iter()
        .filter(|(t, _, _)| !matches!(t, input::Tok::Space | input::Tok::Comment))
        .collect();
    let calls_more = toks.windows(2).any(|w| {
        w[0].0 == input::Tok::Word
            && w[1].0 == input::Tok::Punct('(')
            && !LOOKS.contains(&&chunk[w[0].1..w[0].2])
    });
    !calls_more
        && crate::syntax::parse(chunk).is_ok_and(|p| {
            p.stmts.iter().all(|s| {
                matches!(
                    s.kind,
                    StmtKind::Print(_) | StmtKind::Show { .. } | StmtKind::Expr(_)
                )
            })
        })
}

#[cfg(feature = "cli")]
/// Script mode (standard input is not a terminal): every line goes through the same
/// [`ReplCore`], without prompts or colour; output to `out`, diagnostics to `err`. Returns the
/// worst exit status of any input, as `memsim run` would.
pub fn run_script(
    mut input: impl BufRead,
    out: &mut impl Write,
    err: &mut impl Write,
    file: Option<&Path>,
    cfg: ReplConfig,
) -> i32 {
    let color = cfg.color;
    let mut core = ReplCore::new(ReplConfig {
        name_by_line: true,
        ..cfg
    });
    let mut status = 0;
    let mut out = crate::cli::Out::new(out);
    // False once the output is gone: nothing more is run for nobody to read.
    let mut emit = |r: &Reply, status: &mut i32, out: &mut crate::cli::Out<_>| {
        out.put(&r.out);
        let _ = err.write_all(r.err.as_bytes());
        *status = (*status).max(r.status);
        out.flush()
    };
    if let Some(f) = file {
        let r = core.load(f);
        if !emit(&r, &mut status, &mut out) {
            return out.finish(status, color, err);
        }
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let r = core.io_error(crate::diag::io::IoError::Read {
                    path: "standard input".into(),
                    reason: crate::diag::io::describe(&e),
                });
                emit(&r, &mut status, &mut out);
                return out.finish(status, color, err);
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let r = match std::str::from_utf8(&line) {
            Ok(text) => core.handle(text),
            Err(_) => core.reject_line(&line),
        };
        if !emit(&r, &mut status, &mut out) {
            return out.finish(status, color, err);
        }
        if r.quit {
            return out.finish(status, color, err);
        }
    }
    let r = core.finish();
    emit(&r, &mut status, &mut out);
    out.finish(status, color, err)
}

#[cfg(feature = "cli")]
/// `memsim repl [FILE]`: the line editor on a terminal, script mode otherwise.
/// The REPL of `memsim repl`; `limits` gives the step and time limits of each input.
pub fn main(file: Option<&Path>, color: bool, limits: Options) -> i32 {
    use std::io::IsTerminal;
    if let Some(f) = file {
        // A file that cannot be read is an error of the command line, as under `memsim run`.
        if let Err(e) = crate::source::read(f, &f.display().to_string(), limits.max_source_bytes) {
            let r = miette::Report::new(*e);
            let _ = writeln!(std::io::stderr(), "{}", diag::render(&r, color, 100));
            return 2;
        }
    }
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w >= 40)
        .unwrap_or(100);
    if std::io::stdin().is_terminal() {
        run_interactive(
            file,
            ReplConfig {
                color,
                width,
                max_steps: limits.max_steps,
                timeout: limits.timeout,
                progress: crate::cli::progress_callback(),
                ..ReplConfig::default()
            },
        )
    } else {
        run_script(
            std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
            file,
            ReplConfig {
                color: false,
                width,
                max_steps: limits.max_steps,
                timeout: limits.timeout,
                ..ReplConfig::default()
            },
        )
    }
}

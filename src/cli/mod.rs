//! The command line: `memsim run | check | test | repl | profiles`. A thin driver over
//! [`Session`]; plain `memsim` on a terminal starts the REPL.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[cfg(feature = "kernel")]
mod kernel;

use crate::render::{diag, html, report, style, text};
use crate::session::{ChunkResult, Interrupt, Options, Progress, ProgressFn, Session, Severity};

#[derive(Parser, Debug)]
#[command(
    name = "memsim",
    version,
    about = "Run memory-management scenarios (.mem files) against a simulated MMU",
    long_about = "memsim runs .mem scenarios against a simulated MMU and OS that behave like \
                  Linux x86-64 with glibc, and explains every page fault, segfault, TLB hit \
                  and allocator decision."
)]
struct Cli {
    /// Without a command: the REPL when standard input is a terminal, else this help.
    #[command(subcommand)]
    command: Option<Command>,
    /// When to colour the trace and diagnostics: `auto` colours a terminal unless NO_COLOR is
    /// set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
}

/// The limits every command that runs scenarios takes.
#[derive(clap::Args, Debug, Clone)]
struct Limits {
    /// Stop a run after N steps (statements, loop iterations, stack frames, page references),
    /// counted per file or REPL input, over every run of a `sweep`.
    #[arg(long, value_name = "N", default_value_t = crate::session::DEFAULT_MAX_STEPS)]
    max_steps: u64,
    /// Stop a run that takes longer than this wall-clock time, per file or REPL input:
    /// `500ms`, `10s`, `2m`, `1h`.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::parse_duration)]
    timeout: Option<Duration>,
    /// Host memory the simulation may hold (simulated memory, swap, page tables, heap and
    /// process bookkeeping): `512 MiB`, `4 GiB`.
    #[arg(long, value_name = "SIZE", value_parser = parse_host_size, default_value = "2 GiB")]
    max_memory: usize,
    /// Events kept for the trace per top-level statement; the rest are counted.
    #[arg(long, value_name = "N", default_value_t = crate::session::DEFAULT_EVENTS_PER_STEP)]
    max_events: usize,
    /// Bytes a scenario file or REPL input may have.
    #[arg(long, value_name = "BYTES", default_value_t = crate::session::DEFAULT_MAX_SOURCE_BYTES)]
    max_source: usize,
    /// Bytes one line of a scenario may have.
    #[arg(long, value_name = "BYTES", default_value_t = crate::session::DEFAULT_MAX_LINE_BYTES)]
    max_line: usize,
    /// Levels of nesting the parser accepts: blocks, brackets, operators in one expression.
    /// It can be lowered, not raised: deeper nesting needs more native stack than is sure to
    /// be there.
    #[arg(long, value_name = "N", default_value_t = crate::session::DEFAULT_MAX_DEPTH,
          value_parser = parse_depth)]
    max_depth: usize,
    /// Processes and threads one machine may hold, dead processes included; past it `fork()`
    /// returns -1, as Linux's does past `ulimit -u`.
    #[arg(long, value_name = "N", default_value_t = crate::session::DEFAULT_MAX_PROCESSES)]
    max_processes: usize,
    /// Bytes one line of a trace file may have.
    #[arg(long, value_name = "BYTES", default_value_t = crate::session::DEFAULT_MAX_TRACE_LINE)]
    max_trace_line: usize,
    /// A folder whose files scenarios may read (`trace`, `machine "…"`, `mmap … file`),
    /// besides the scenario's own folder.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

/// A nesting depth for `--max-depth`: 1 to the ceiling the native stack allows.
fn parse_depth(s: &str) -> Result<usize, String> {
    let max = crate::session::MAX_DEPTH_CEILING;
    s.parse::<usize>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("`{s}` is not a nesting depth from 1 to {max}"))
}

/// A size such as `512 MiB` for `--max-memory`.
fn parse_host_size(s: &str) -> Result<usize, String> {
    crate::profile::parse_size(s)
        .filter(|&n| n > 0)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("`{s}` is not a size such as `512 MiB` or `4 GiB`"))
}

impl Limits {
    fn options(&self, trace: bool) -> Options {
        Options {
            trace,
            max_steps: self.max_steps,
            timeout: self.timeout,
            max_host_bytes: self.max_memory,
            events_per_step: self.max_events,
            max_source_bytes: self.max_source,
            max_line_bytes: self.max_line,
            root: self.root.clone(),
            max_depth: self.max_depth,
            max_processes: self.max_processes,
            max_trace_line: self.max_trace_line,
            ..Options::default()
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios: a trace of every step, then a summary.
    ///
    /// Each file runs on a fresh machine. The trace shows every statement with its line
    /// number, then what the MMU, the OS and the allocator did, what it printed (`>`) and
    /// whether its expectations held. Exit status: 0 when every expectation held, 1 when one
    /// failed or a process died unexpectedly, 2 when a file has errors before it runs, 130
    /// when Ctrl-C stopped it (a second Ctrl-C ends it at once).
    Run {
        /// Scenario files (.mem) to run, in order; `-` reads one from standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        limits: Limits,
        /// Print only what the scenarios print, and the diagnostics: no trace, no summary.
        #[arg(short, long)]
        quiet: bool,
        /// Output format: a readable trace, a machine-readable report, or a standalone HTML
        /// page with tables and pictures (`--format html FILE > report.html`).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check scenarios for errors without running them.
    ///
    /// Reports every static error (syntax, names, types, machine settings) of each file,
    /// or `FILE: ok`. Exit status: 0 when every file is free of errors, 2 otherwise.
    Check {
        /// Scenario files (.mem) to check; `-` reads one from standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Run every .mem file under the given paths (default: the current folder) and report
    /// which held all their expectations.
    Test {
        paths: Vec<PathBuf>,
        /// Accept a file that checks nothing (no `expect`); without it such a file fails, since
        /// a self-checking file that checks nothing cannot fail.
        #[arg(long)]
        allow_empty: bool,
        #[command(flatten)]
        limits: Limits,
    },
    /// An interactive session: statements run as they are typed, `:help` explains. With
    /// piped input, runs it line by line as a script.
    Repl {
        /// A scenario to run first; its state is kept.
        file: Option<PathBuf>,
        #[command(flatten)]
        limits: Limits,
    },
    /// List the built-in machine profiles.
    Profiles,
    /// Print a shell completion script: `memsim completions bash > /etc/bash_completion.d/memsim`.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `memsim manpage > memsim.1; man ./memsim.1`.
    Manpage,
    /// The Jupyter kernel: `memsim kernel install` once, then notebooks and
    /// `jupyter console --kernel mem` start it.
    #[cfg(feature = "kernel")]
    Kernel(kernel::KernelArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Yaml,
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs the CLI; returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if e.use_stderr() || std::io::stdout().is_terminal() {
                let _ = e.print();
                return if e.use_stderr() { 2 } else { 0 };
            }
            // `--help` and `--version` into a pipe or a file, which may be closed or full.
            let mut out = Out::new(std::io::stdout().lock());
            out.put(&e.render().to_string());
            return out.finish(0, false, &mut std::io::stderr().lock());
        }
    };
    let choice = match cli.color {
        ColorChoice::Always => Some(true),
        ColorChoice::Never => Some(false),
        ColorChoice::Auto => None,
    };
    // Diagnostics go to standard error and the trace to standard output: each is coloured
    // when its own stream is a terminal.
    let color = style::wanted(choice, std::io::stderr().is_terminal());
    let color_out = style::wanted(choice, std::io::stdout().is_terminal());
    let Some(command) = cli.command else {
        if std::io::stdin().is_terminal() {
            return crate::repl::main(None, color, Options::default());
        }
        use clap::CommandFactory;
        let mut out = Out::new(std::io::stdout().lock());
        out.put(&Cli::command().render_help().to_string());
        return out.finish(2, false, &mut std::io::stderr().lock());
    };
    match command {
        Command::Run {
            files,
            limits,
            quiet,
            format,
        } => run(&files, &limits, quiet, format, color, color_out),
        Command::Check { files, limits } => check(&files, &limits, color),
        Command::Test {
            paths,
            allow_empty,
            limits,
        } => test(&paths, allow_empty, &limits, color),
        Command::Repl { file, limits } => {
            crate::repl::main(file.as_deref(), color, limits.options(true))
        }
        Command::Profiles => profiles(),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Made in memory first: clap_complete panics on a write error (`| head`).
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "memsim", &mut buf);
            let _ = std::io::stdout().write_all(&buf);
            0
        }
        Command::Manpage => {
            use clap::CommandFactory;
            let mut buf = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut buf) {
                Ok(()) => {
                    let _ = std::io::stdout().write_all(&buf);
                    0
                }
                Err(e) => {
                    eprintln!("memsim: cannot make the manual page: {e}");
                    1
                }
            }
        }
        #[cfg(feature = "kernel")]
        Command::Kernel(args) => kernel::main(args, color),
    }
}

/// A `.mem` file's text (`-`: standard input's), or its `mem::io::…` diagnostic written to `err`.
fn read(path: &Path, limit: usize, color: bool, err: &mut impl Write) -> Option<String> {
    let name = display_name(path);
    let got = if is_stdin(path) {
        let mut bytes = Vec::new();
        match std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes) {
            Ok(_) => crate::source::decode(&name, bytes),
            Err(e) => Err(Box::new(crate::diag::io::IoError::Read {
                path: name,
                reason: crate::diag::io::describe(&e),
            })),
        }
    } else {
        crate::source::read(path, &name, limit)
    };
    match got {
        Ok(s) => Some(s),
        Err(e) => {
            let _ = writeln!(
                err,
                "{}",
                diag::render(&miette::Report::new(*e), color, WIDTH)
            );
            None
        }
    }
}

/// The width diagnostics are drawn at.
const WIDTH: usize = 100;

/// The exit status when the output could not be written (sysexits' `EX_IOERR`).
pub const EXIT_OUTPUT: i32 = 74;

/// Standard output that remembers its first failure. A closed pipe (`memsim … | head -1`) ends
/// the command quietly, as `grep` does; any other failure, such as a full disk, is reported and
/// makes the exit status [`EXIT_OUTPUT`], since the output is incomplete.
pub struct Out<W: Write> {
    w: W,
    failed: Option<std::io::Error>,
}

impl<W: Write> Out<W> {
    pub fn new(w: W) -> Self {
        Out { w, failed: None }
    }

    /// Writes `s`; false once the output is gone (nothing more need be computed for it).
    pub fn put(&mut self, s: &str) -> bool {
        if self.failed.is_none() {
            if let Err(e) = self.w.write_all(s.as_bytes()) {
                self.failed = Some(e);
            }
        }
        self.failed.is_none()
    }

    /// Flushes; false once the output is gone.
    pub fn flush(&mut self) -> bool {
        if self.failed.is_none() {
            if let Err(e) = self.w.flush() {
                self.failed = Some(e);
            }
        }
        self.failed.is_none()
    }

    /// The exit status, given the command's own: unchanged unless writing failed for another
    /// reason than a closed pipe, which is then reported on `err`.
    pub fn finish(mut self, status: i32, color: bool, err: &mut impl Write) -> i32 {
        self.flush();
        match self.failed {
            None => status,
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => status,
            Some(e) => {
                let e = crate::diag::io::IoError::Write {
                    reason: crate::diag::io::describe(&e),
                };
                let _ = write!(
                    err,
                    "{}",
                    diag::render(&miette::Report::new(e), color, WIDTH)
                );
                status.max(EXIT_OUTPUT)
            }
        }
    }
}

/// A progress indication on standard error for a statement running more than a second: a
/// bar for a replay of known length, else a spinner with the line, the time and the steps.
/// Only on a terminal: piped or captured output stays byte for byte the same.
pub fn progress_callback() -> Option<ProgressFn> {
    use indicatif::{ProgressBar, ProgressStyle};
    use std::sync::{Arc, Mutex, PoisonError};
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::default();
    Some(ProgressFn(Arc::new(move |p: &Progress| {
        let mut slot = bar.lock().unwrap_or_else(PoisonError::into_inner);
        if p.finished {
            if let Some(b) = slot.take() {
                b.finish_and_clear();
                // After Ctrl-C the terminal may have dropped indicatif's own clearing: the
                // bar's line is erased once more, so the error that follows starts clean.
                let _ = std::io::stderr().write_all(b"\r\x1b[2K");
            }
            return;
        }
        let b = slot.get_or_insert_with(|| {
            let (b, template) = match p.of {
                Some((_, n)) => (
                    ProgressBar::new(n),
                    "{bar:40} {pos}/{len} references ({eta}) {msg}",
                ),
                None => (ProgressBar::new_spinner(), "{spinner} {msg}"),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                b.set_style(style);
            }
            b.set_draw_target(indicatif::ProgressDrawTarget::term_like_with_hz(
                Box::new(Narrow(console::Term::stderr())),
                20,
            ));
            b
        });
        if let Some((done, _)) = p.of {
            b.set_position(done);
        }
        b.set_message(format!(
            "line {}: {:.1} s, {} (Ctrl-C stops it)",
            p.line,
            p.elapsed.as_secs_f64(),
            crate::units::count(p.steps, "step")
        ));
        b.tick();
    })))
}

/// Standard error as the progress bar sees it, three columns narrower. indicatif pads its line
/// to the terminal's width, so the `^C` a terminal echoes on Ctrl-C would wrap onto a new line,
/// and clearing the bar would then erase that line and leave the bar's own on the screen.
#[derive(Debug)]
struct Narrow(console::Term);

impl indicatif::TermLike for Narrow {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(3).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `-` names standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        return "<stdin>".into();
    }
    path.display().to_string()
}

/// The exit status after Ctrl-C, as a shell reports a command that SIGINT ended (128 + 2).
const EXIT_INTERRUPTED: i32 = 130;

/// Ctrl-C in `memsim run` and `memsim test`. The first one stops the running statement, which
/// ends with `mem::interrupted` (its output and diagnostics are still written whole, not cut
/// off mid-line), and no further file runs. A second one ends the process at once, for a
/// run waiting outside the simulation (reading standard input).
struct CtrlC {
    interrupt: Interrupt,
    pressed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl CtrlC {
    fn install() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let interrupt = Interrupt::default();
        let pressed = std::sync::Arc::new(AtomicBool::new(false));
        let (i, p) = (interrupt.clone(), pressed.clone());
        // Without a handler (another one was set first) Ctrl-C still ends the process.
        let _ = ctrlc::set_handler(move || {
            if p.swap(true, Ordering::SeqCst) {
                std::process::exit(EXIT_INTERRUPTED);
            }
            i.interrupt();
        });
        CtrlC { interrupt, pressed }
    }

    fn pressed(&self) -> bool {
        self.pressed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A session for `path` that this handler stops.
    fn session_for(&self, path: &Path, opts: Options) -> Session {
        let mut s = session_for(path, opts);
        s.set_interrupt(self.interrupt.clone());
        s
    }
}

fn session_for(path: &Path, mut opts: Options) -> Session {
    opts.progress = progress_callback();
    let mut s = Session::new(opts);
    if let Some(dir) = path.parent() {
        s.set_base_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        });
    }
    s
}

fn print_diagnostics(r: &ChunkResult, color: bool, err: &mut impl Write) {
    for d in &r.diagnostics {
        let _ = write!(err, "{}", diag::render(&d.report, color, WIDTH));
        if d.severity == Severity::Error {
            let _ = writeln!(err);
        }
    }
}

fn run(
    files: &[PathBuf],
    limits: &Limits,
    quiet: bool,
    format: Format,
    color: bool,
    color_out: bool,
) -> i32 {
    let ctrl_c = CtrlC::install();
    let mut out = Out::new(std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    let mut status = 0;
    let mut results = Vec::new();
    for path in files {
        if ctrl_c.pressed() {
            break;
        }
        let Some(src) = read(path, limits.max_source, color, &mut err) else {
            status = status.max(2);
            continue;
        };
        let opts = Options {
            keep_history: false,
            ..limits.options(format != Format::Text || !quiet)
        };
        let mut session = ctrl_c.session_for(path, opts);
        let r = session.execute(&display_name(path), &src);
        status = status.max(r.exit_code());
        if format == Format::Text {
            if quiet {
                let mut s = String::new();
                for step in &r.steps {
                    text::outputs(step, &mut s);
                }
                out.put(&s);
            } else {
                out.put(&text::trace_in(&r, color_out));
            }
            // The trace goes out before the diagnostics that explain it.
            out.flush();
            print_diagnostics(&r, color, &mut err);
            // `--quiet` promises only what the scenario prints.
            if !r.static_errors && !quiet {
                out.put(&text::summary_in(&r, &r.stats, color_out));
            }
            if !out.flush() {
                break;
            }
        } else {
            print_diagnostics(&r, color, &mut err);
            results.push(r);
        }
    }
    match format {
        Format::Json => {
            out.put(&report::json(&results));
            out.put("\n");
        }
        Format::Yaml => {
            out.put(&report::yaml(&results));
        }
        Format::Html => {
            out.put(&html::page(&results));
        }
        Format::Text => {}
    }
    if ctrl_c.pressed() {
        status = EXIT_INTERRUPTED;
    }
    out.finish(status, color, &mut err)
}

fn check(files: &[PathBuf], limits: &Limits, color: bool) -> i32 {
    let mut status = 0;
    let mut out = Out::new(std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    for path in files {
        let Some(src) = read(path, limits.max_source, color, &mut err) else {
            status = 2;
            continue;
        };
        let session = session_for(path, limits.options(false));
        let r = session.check(&display_name(path), &src);
        if r.diagnostics.is_empty() {
            if !out.put(&format!("{}: ok\n", path.display())) {
                break;
            }
        } else {
            print_diagnostics(&r, color, &mut err);
            status = 2;
        }
    }
    out.finish(status, color, &mut err)
}

/// Every `.mem` file under `paths`, sorted, so runs are reproducible; a file named on the
/// command line runs whatever its name. A path that cannot be read is an error, not an empty
/// folder.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let rd = std::fs::read_dir(p)
            .map_err(|e| format!("memsim: cannot read the folder {}: {e}", p.display()))?;
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                walk(&e, out)?;
            } else if e.extension().is_some_and(|x| x == "mem") {
                out.push(e);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    let default = [PathBuf::from(".")];
    for p in if paths.is_empty() {
        &default[..]
    } else {
        paths
    } {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut out)?,
            Ok(_) => out.push(p.clone()),
            Err(e) => return Err(format!("memsim: cannot read {}: {e}", p.display())),
        }
    }
    Ok(out)
}

fn test(paths: &[PathBuf], allow_empty: bool, limits: &Limits, color: bool) -> i32 {
    let mut out = Out::new(std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    let files = match collect(paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            return 2;
        }
    };
    if files.is_empty() {
        let _ = writeln!(
            err,
            "memsim: no .mem files under {}: nothing was tested",
            if paths.is_empty() {
                ".".to_string()
            } else {
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        out.put("0 passed, 0 failed: no scenarios found\n");
        return out.finish(1, color, &mut err);
    }
    let ctrl_c = CtrlC::install();
    let (mut passed, mut failed) = (0, 0);
    for path in &files {
        if ctrl_c.pressed() {
            break;
        }
        let src = match crate::source::read(path, &display_name(path), limits.max_source) {
            Ok(src) => src,
            Err(e) => {
                failed += 1;
                out.put(&format!("FAIL  {}\n", path.display()));
                out.flush();
                let e = miette::Report::new(*e);
                let _ = writeln!(err, "{}", diag::render(&e, color, WIDTH));
                if !out.flush() {
                    break;
                }
                continue;
            }
        };
        let opts = Options {
            keep_history: false,
            ..limits.options(false)
        };
        let mut session = ctrl_c.session_for(path, opts);
        let r = session.execute(&display_name(path), &src);
        // A warning the file does not expect is a finding nobody checked: the file says so
        // with `expect warning KIND { … }` when the finding is the point.
        let warnings = r
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        let empty = r.expectations_passed == 0 && r.expectations_failed == 0 && !allow_empty;
        if r.exit_code() == 0 && (warnings > 0 || empty) {
            failed += 1;
            let why = if warnings > 0 {
                format!(
                    "{} it does not expect (`expect warning KIND {{ … }}` accepts one)",
                    crate::units::count(warnings as u64, "warning")
                )
            } else {
                "no expectation: it checks nothing (`--allow-empty` accepts it)".to_string()
            };
            out.put(&format!("FAIL  {}: {why}\n", path.display()));
            out.flush();
            print_diagnostics(&r, color, &mut err);
        } else if r.exit_code() == 0 {
            passed += 1;
            out.put(&format!(
                "ok    {} ({})\n",
                path.display(),
                crate::units::count(r.expectations_passed as u64, "expectation")
            ));
        } else {
            failed += 1;
            out.put(&format!("FAIL  {}\n", path.display()));
            out.flush();
            print_diagnostics(&r, color, &mut err);
        }
        // Nobody reads the rest: running it would only cost time.
        if !out.flush() {
            break;
        }
    }
    out.put(&format!("{passed} passed, {failed} failed\n"));
    let status = if ctrl_c.pressed() {
        EXIT_INTERRUPTED
    } else {
        i32::from(failed > 0)
    };
    out.finish(status, color, &mut err)
}

fn profiles() -> i32 {
    let rows: Vec<Vec<String>> = crate::profile::builtins()
        .into_iter()
        .map(|p| {
            vec![
                p.name.to_string(),
                crate::units::size(p.page_size),
                p.va_bits.to_string(),
                p.levels.to_string(),
                crate::units::size(p.memory),
                p.description.to_string(),
            ]
        })
        .collect();
    let mut out = Out::new(std::io::stdout().lock());
    out.put(&text::table(
        &[
            "profile",
            "page size",
            "VA bits",
            "levels",
            "memory",
            "description",
        ],
        &rows,
    ));
    out.finish(0, false, &mut std::io::stderr().lock())
}

#[cfg(test)]
mod tests {
    use super::Narrow;
    use indicatif::TermLike;

    /// The bar's line ends before the terminal's last three columns, where a `^C` echo fits
    /// without wrapping, whatever the width.
    #[test]
    fn the_progress_line_leaves_room_for_an_echoed_ctrl_c() {
        let term = console::Term::stderr();
        let narrow = Narrow(term.clone());
        assert_eq!(narrow.width() + 3, term.size().1);
        assert_eq!(narrow.height(), term.size().0);
    }
}

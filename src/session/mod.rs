//! The interpreter: a [`Session`] holds one simulated world and runs chunks of source against
//! it (a file, a REPL line, a notebook cell). The CLI, the REPL and the kernel only drive this.

mod exec;
pub mod replay;
pub mod snapshot;
mod source;
pub mod step;
mod world;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use miette::Report;
use source::LinedSource;

use crate::check::ir::Vars;
use crate::check::{self, Env};
use crate::config::ScenarioConfig;
use crate::events::Event;
use crate::syntax;
pub use snapshot::Snapshot;
pub use step::{Item, Part, Run};
pub use world::World;

/// The step limit when none is given (`--max-steps`).
pub const DEFAULT_MAX_STEPS: u64 = 2_000_000_000;

/// Limits that keep any scenario from exhausting the host.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keep events for the trace (counters are always kept).
    pub trace: bool,
    /// Events kept per top-level statement; the rest are counted.
    pub events_per_step: usize,
    /// Steps one chunk may take: statements, loop iterations, stack frames of a `recurse`,
    /// accesses of a `touch` and page references of a `refs` or `trace`, counted together
    /// over every run of a `sweep`.
    pub max_steps: u64,
    /// Wall-clock time one chunk may run (every run of a `sweep` included); `None` is no limit.
    pub timeout: Option<Duration>,
    /// Host memory the simulation may hold: simulated memory contents, page tables, allocator
    /// and memory-safety bookkeeping, processes.
    pub max_host_bytes: usize,
    /// Keep the world as it was when a statement ends in an error (REPL, notebooks). Costs a
    /// copy of the world per statement, so `memsim run` leaves it off.
    pub rollback: bool,
    /// Report blocks still allocated when a chunk ends as leaks (`mem::heap::leak`): on for a
    /// whole file (`memsim run`, `memsim test`), off for REPL lines and notebook cells, whose
    /// blocks live on into the next chunk.
    pub report_leaks: bool,
    /// Run loops of many iterations as compiled programs (the same results, faster). Off,
    /// every statement runs on the tree walker: what the compiled loops are tested against.
    pub compile_loops: bool,
    /// Told how a statement that has run for more than a second is getting on, every few
    /// thousand steps, and once more when it ends. The library draws nothing: the CLI turns
    /// this into a progress bar on a terminal, a notebook kernel into stream messages.
    pub progress: Option<ProgressFn>,
    /// How long a statement runs before progress is reported.
    pub progress_after: std::time::Duration,
    /// Keep each chunk's source for [`Session::history`] (the REPL's undo and `:save`). A file
    /// run reads none of it back, and a file holding a long reference string would be held twice.
    pub keep_history: bool,
    /// Bytes one chunk (a file, a REPL input, a cell) may have.
    pub max_source_bytes: usize,
    /// Bytes one line of a chunk may have.
    pub max_line_bytes: usize,
    /// A folder whose files scenarios may read besides their own folder (`--root DIR`).
    pub root: Option<PathBuf>,
    /// The deepest nesting the parser accepts: blocks, brackets, operators in one expression.
    pub max_depth: usize,
    /// Processes and threads one machine may hold; past it `fork()` returns -1.
    pub max_processes: usize,
    /// Bytes one line of a trace file may have.
    pub max_trace_line: usize,
}

/// The default of [`Options::max_source_bytes`]: a hundred times the longest example. Ordinary
/// statements cost the parser about 140 host bytes per byte of source, so this is also what keeps
/// a file of them near 2 GiB, the default host memory limit.
pub const DEFAULT_MAX_SOURCE_BYTES: usize = 16 << 20;
/// The default of [`Options::max_line_bytes`]: a `refs` line of a million page numbers (about
/// 3 MB, a large page-replacement exercise) fits with room to spare.
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 << 20;
/// The default of [`Options::max_host_bytes`].
pub const DEFAULT_MAX_HOST_BYTES: usize = 2 << 30;
/// The default of [`Options::max_depth`].
pub const DEFAULT_MAX_DEPTH: usize = crate::syntax::DEFAULT_MAX_DEPTH;
/// The largest [`Options::max_depth`] that may be set (see [`crate::syntax::MAX_DEPTH_CEILING`]).
pub const MAX_DEPTH_CEILING: usize = crate::syntax::MAX_DEPTH_CEILING;
/// The default of [`Options::max_processes`].
pub const DEFAULT_MAX_PROCESSES: usize = crate::os::MAX_PROCS;
/// The default of [`Options::max_trace_line`].
pub const DEFAULT_MAX_TRACE_LINE: usize = replay::DEFAULT_MAX_TRACE_LINE;
/// The default of [`Options::events_per_step`].
pub const DEFAULT_EVENTS_PER_STEP: usize = 64;

/// How a long statement is getting on.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The statement's line.
    pub line: usize,
    pub elapsed: std::time::Duration,
    /// Steps (statements, loop iterations, references) it has run so far.
    pub steps: u64,
    /// A replay of known length: references done, of how many.
    pub of: Option<(u64, u64)>,
    /// The statement has ended: the last report about it.
    pub finished: bool,
}

/// The progress callback of [`Options::progress`].
#[derive(Clone)]
pub struct ProgressFn(pub Arc<dyn Fn(&Progress) + Send + Sync>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressFn")
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            trace: true,
            events_per_step: DEFAULT_EVENTS_PER_STEP,
            max_steps: DEFAULT_MAX_STEPS,
            timeout: None,
            max_host_bytes: DEFAULT_MAX_HOST_BYTES,
            rollback: false,
            report_leaks: true,
            compile_loops: true,
            progress: None,
            progress_after: std::time::Duration::from_secs(1),
            keep_history: true,
            max_source_bytes: DEFAULT_MAX_SOURCE_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            root: None,
            max_depth: DEFAULT_MAX_DEPTH,
            max_processes: DEFAULT_MAX_PROCESSES,
            max_trace_line: DEFAULT_MAX_TRACE_LINE,
        }
    }
}

/// What a statement printed or showed.
#[derive(Debug, Clone)]
pub enum Output {
    Print { text: String },
    Show { snapshot: Snapshot },
    Expect { passed: bool, text: String },
}

/// One top-level statement's run: its source line, then what happened, in order, under the
/// line that caused it (a block's statements have their own lines).
#[derive(Debug, Clone)]
pub struct Step {
    pub line: usize,
    pub source: String,
    /// Events and outputs in the order they happened; identical repetitions (a loop's
    /// iterations) are one run with its count.
    pub runs: Vec<Run>,
    /// Events beyond the per-statement limit, counted but not kept.
    pub dropped: u64,
}

impl Step {
    /// Everything that happened, in order, a folded run repeated as many times as it ran.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.runs.iter().flat_map(|r| {
            (0..r.times).flat_map(move |_| r.parts.iter().flat_map(|p| p.items.iter()))
        })
    }
    /// The events, in order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.items().filter_map(|i| match i {
            Item::Event(e) => Some(e),
            Item::Output(_) => None,
        })
    }
    /// What the statement printed, showed and expected, in order.
    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.items().filter_map(|i| match i {
            Item::Output(o) => Some(o),
            Item::Event(_) => None,
        })
    }
}

/// A diagnostic with its source attached, plus what a machine-readable report needs.
#[derive(Debug)]
pub struct Diag {
    pub report: Report,
    pub severity: Severity,
    pub code: String,
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// Everything one chunk did.
#[derive(Debug, Default)]
pub struct ChunkResult {
    pub name: String,
    pub steps: Vec<Step>,
    pub diagnostics: Vec<Diag>,
    /// The value of a final bare expression (`1 + 41` shows 42).
    pub value: Option<String>,
    /// Errors found before running: nothing ran.
    pub static_errors: bool,
    pub expectations_passed: usize,
    pub expectations_failed: usize,
    /// Processes killed by a signal no `expect` caught.
    pub unexpected_deaths: usize,
    /// A runtime error stopped the chunk early.
    pub stopped: bool,
    /// The counters of the chunk's worlds: those a `machine` statement replaced, plus the
    /// current one's.
    pub stats: snapshot::StatsSnap,
}

impl ChunkResult {
    /// The exit status `memsim run` uses: 0 all good, 1 a failed expectation or an unexpected
    /// death or error, 2 errors before running.
    pub fn exit_code(&self) -> i32 {
        if self.static_errors {
            2
        } else if self.expectations_failed > 0 || self.unexpected_deaths > 0 || self.stopped {
            1
        } else {
            0
        }
    }
}

/// A handle that stops a running chunk from another thread (Ctrl-C, a kernel interrupt).
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    pub fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// How often (in steps) a running chunk looks at the shared step count, the clock, the
/// interrupt flag and the host memory: rarely enough to cost nothing per step, often enough
/// that a limit stops the run within microseconds.
const CHECK_EVERY: u64 = 1024;

/// What every executor of one chunk shares, whichever world and thread it runs on.
pub(crate) struct ChunkCtx {
    pub(crate) budget: Budget,
    pub(crate) lines: Lines,
}

/// The step and time budget of one chunk, shared by every world it runs: a `sweep` runs its
/// combinations on several threads, and all of them draw from this one budget. Each executor
/// counts steps locally and adds them here every [`CHECK_EVERY`] steps, so threads seldom
/// touch the shared counter.
#[derive(Debug)]
pub(crate) struct Budget {
    max_steps: u64,
    used: AtomicU64,
    timeout: Option<(Instant, Duration)>,
}

impl Budget {
    pub(crate) fn new(opts: &Options) -> Self {
        Budget {
            max_steps: opts.max_steps,
            used: AtomicU64::new(0),
            timeout: opts.timeout.map(|t| (Instant::now() + t, t)),
        }
    }

    /// Adds `n` steps; returns the chunk's total so far.
    pub(crate) fn add(&self, n: u64) -> u64 {
        self.used.fetch_add(n, Ordering::Relaxed).saturating_add(n)
    }

    /// Steps added so far.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub(crate) fn max_steps(&self) -> u64 {
        self.max_steps
    }

    /// How many more steps an executor may take before it must come back (at least one).
    pub(crate) fn next_check(&self, total: u64) -> u64 {
        CHECK_EVERY.min(self.max_steps.saturating_sub(total).saturating_add(1))
    }

    /// The next check for an executor that has added nothing yet.
    pub(crate) fn first_check(&self) -> u64 {
        self.next_check(self.used())
    }

    /// The time limit, once it has passed.
    pub(crate) fn expired(&self) -> Option<Duration> {
        self.timeout
            .and_then(|(deadline, t)| (Instant::now() >= deadline).then_some(t))
    }
}

/// One simulated world and the scenario's variables; runs chunks incrementally.
pub struct Session {
    env: Env,
    world: World,
    vars: Vars,
    opts: Options,
    interrupt: Interrupt,
    /// Accepted chunks, in order: replaying them rebuilds this state.
    history: Vec<String>,
    /// The line of a longer text the next chunk starts on: its trace and diagnostics count
    /// lines from there.
    first_line: usize,
}

impl Session {
    pub fn new(opts: Options) -> Self {
        let env = Env {
            roots: crate::files::Roots {
                extra: opts.root.clone(),
            },
            ..Env::default()
        };
        Session {
            env,
            world: World::new(&ScenarioConfig::default()),
            vars: Vars::default(),
            opts,
            interrupt: Interrupt::default(),
            history: Vec::new(),
            first_line: 1,
        }
    }

    /// Relative paths in chunks (profiles, traces) resolve from here.
    pub fn set_base_dir(&mut self, dir: impl Into<PathBuf>) {
        self.env.base_dir = dir.into();
    }
    /// Numbers the lines of the chunks that follow from `line` (a script piped into the REPL
    /// runs statement by statement, each reported at its line of the script).
    pub fn set_first_line(&mut self, line: usize) {
        self.first_line = line.max(1);
    }
    pub fn interrupt_handle(&self) -> Interrupt {
        self.interrupt.clone()
    }
    /// Makes `interrupt` the handle that stops this session's chunks (one Ctrl-C handler for
    /// every file of a `memsim run`).
    pub fn set_interrupt(&mut self, interrupt: Interrupt) {
        self.interrupt = interrupt;
    }
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.opts
    }
    pub fn world(&self) -> &World {
        &self.world
    }
    pub fn history(&self) -> &[String] {
        &self.history
    }
    /// Names of variables, for completion.
    pub fn variables(&self) -> Vec<String> {
        self.env.vars.iter().map(|v| v.0.clone()).collect()
    }
    /// A variable's value, printed as `print` would.
    pub fn variable(&self, name: &str) -> Option<String> {
        let slot = *self.env.slots.get(name)?;
        (slot < self.vars.len() as u32)
            .then(|| exec::fmt_value(self.vars.get(slot), self.world.config().radix()))
    }

    /// A variable's type as a user writes it (`*u8`, `long`).
    pub fn variable_type(&self, name: &str) -> Option<String> {
        let slot = *self.env.slots.get(name)?;
        self.env.vars.get(slot as usize).map(|v| v.1.name())
    }

    /// Parses and checks a chunk against the current state, without running it or changing
    /// anything.
    pub fn check(&self, name: &str, src: &str) -> ChunkResult {
        let src = crate::source::strip_bom(src);
        match self.prepare(name, src) {
            Ok(_) => ChunkResult {
                name: name.to_string(),
                ..Default::default()
            },
            Err(r) => *r,
        }
    }

    /// A chunk or a line over the size limits, which is not parsed at all.
    fn too_large(&self, src: &str) -> Option<crate::diag::parse::ParseError> {
        use crate::diag::parse::ParseError;
        let (max_src, max_line) = (self.opts.max_source_bytes, self.opts.max_line_bytes);
        if src.len() > max_src {
            let at = (0..=max_src)
                .rev()
                .find(|&i| src.is_char_boundary(i))
                .unwrap_or(0);
            return Some(ParseError::TooLarge {
                size: src.len(),
                limit: max_src,
                span: (at, 0).into(),
            });
        }
        let mut start = 0;
        for (i, line) in src.split('\n').enumerate() {
            if line.len() > max_line {
                return Some(ParseError::LineTooLong {
                    line: i + 1,
                    limit: max_line,
                    span: (start, 0).into(),
                });
            }
            start += line.len() + 1;
        }
        None
    }

    fn prepare(
        &self,
        name: &str,
        src: &str,
    ) -> Result<(Vec<check::ir::Stmt>, Env), Box<ChunkResult>> {
        self.prepare_program(name, src).map(|(s, e, _)| (s, e))
    }

    /// [`Session::prepare`], also handing back the syntax tree.
    fn prepare_program(
        &self,
        name: &str,
        src: &str,
    ) -> Result<(Vec<check::ir::Stmt>, Env, syntax::ast::Program), Box<ChunkResult>> {
        let named = || LinedSource::new(name, src, self.first_line);
        let offset = self.first_line - 1;
        let mut result = ChunkResult {
            name: name.to_string(),
            ..Default::default()
        };
        let parsed = match self.too_large(src) {
            Some(e) => Err(vec![e]),
            None => syntax::parse_with_depth(src, self.opts.max_depth),
        };
        let program = match parsed {
            Ok(p) => p,
            Err(errs) => {
                result.static_errors = true;
                let lines = Lines::new(src);
                for e in errs {
                    result.push(
                        Report::new(e).with_source_code(named()),
                        Severity::Error,
                        &lines,
                    );
                }
                result.offset_lines(offset);
                return Err(Box::new(result));
            }
        };
        let mut env = self.env.clone();
        match check::check(&program, &mut env) {
            Ok(s) => Ok((s, env, program)),
            Err(errs) => {
                result.static_errors = true;
                let lines = Lines::new(src);
                for e in errs {
                    result.push(e.with_source_code(named()), Severity::Error, &lines);
                }
                result.offset_lines(offset);
                Err(Box::new(result))
            }
        }
    }

    /// Parses, checks and runs one chunk. State persists across chunks; a chunk with static
    /// errors changes nothing.
    pub fn execute(&mut self, name: &str, src: &str) -> ChunkResult {
        self.execute_with(name, src, &mut |_| {})
    }

    /// [`Session::execute`], calling `on_step` with each top-level statement as soon as it has
    /// run, so a front end can show a long chunk's output while it is still running.
    pub fn execute_with(
        &mut self,
        name: &str,
        src: &str,
        on_step: &mut dyn FnMut(&Step),
    ) -> ChunkResult {
        let src = crate::source::strip_bom(src);
        let first_line = self.first_line;
        let named = || LinedSource::new(name, src, first_line);
        let (stmts, env, program) = match self.prepare_program(name, src) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        let env_before = self.opts.rollback.then(|| self.env.clone());
        let mut result = ChunkResult {
            name: name.to_string(),
            ..Default::default()
        };
        self.env = env;
        self.vars.resize(self.env.vars.len());
        self.interrupt.clear();
        let report_leaks = self.opts.report_leaks;
        let ctx = ChunkCtx {
            budget: Budget::new(&self.opts),
            lines: Lines::new(src),
        };
        let mut ex = exec::Exec::new(self, src, &mut result, &ctx);
        let rolled_back = ex.run_top(&stmts, on_step);
        if report_leaks {
            ex.report_leaks();
        }
        drop(ex);
        if let (Some(i), Some(mut env)) = (
            rolled_back.filter(|_| stmts.len() == program.stmts.len()),
            env_before,
        ) {
            // The names the failed statement and the ones after it declared go with it: the
            // names are those of the statements that ran, checked again without the rest
            // (they checked before, as part of the whole, so they check now).
            let ran = syntax::ast::Program {
                stmts: program.stmts[..i].to_vec(),
            };
            if check::check(&ran, &mut env).is_ok() {
                self.env = env;
                self.vars.resize(self.env.vars.len());
            }
        }
        // Diagnostics from running carry no source yet.
        for d in &mut result.diagnostics {
            if d.report.source_code().is_none() {
                let r = std::mem::replace(&mut d.report, Report::msg(""));
                d.report = r.with_source_code(named());
            }
        }
        result.offset_lines(first_line - 1);
        if !result.stopped && self.opts.keep_history {
            self.history.push(src.to_string());
        }
        result.stats = self.world.stats().after(&result.stats);
        result
    }

    /// Evaluates a chunk (a notebook's user expression) and then puts everything back as it
    /// was: variables, the world, the history. The result says what the value was.
    pub fn evaluate(&mut self, name: &str, src: &str) -> ChunkResult {
        let world = self.world.clone();
        let vars = self.vars.clone();
        let env = self.env.clone();
        let kept = self.history.len();
        let r = self.execute(name, src);
        self.world = world;
        self.vars = vars;
        self.env = env;
        self.history.truncate(kept);
        r
    }

    /// Starts over with the default machine and no variables.
    pub fn reset(&mut self) {
        let base = self.env.base_dir.clone();
        *self = Session::new(self.opts.clone());
        self.env.base_dir = base;
    }
}

impl ChunkResult {
    /// Diagnostics' lines counted in the longer text the chunk is part of.
    fn offset_lines(&mut self, offset: usize) {
        for d in &mut self.diagnostics {
            d.line = d.line.map(|l| l + offset);
        }
    }

    fn push(&mut self, report: Report, severity: Severity, lines: &Lines) {
        let code = report.code().map(|c| c.to_string()).unwrap_or_default();
        let line = report
            .labels()
            .and_then(|mut l| l.next())
            .map(|l| lines.line(l.offset()));
        self.diagnostics.push(Diag {
            report,
            severity,
            code,
            line,
        });
    }
}

/// Where each line of a source starts: a byte offset's line in O(log lines), so that naming
/// the line of every statement of a long file stays linear in its length. Lines end where the
/// parser ends them: at `\n`, `\r\n` or a lone `\r`.
#[derive(Debug, Clone)]
pub struct Lines {
    /// Offsets just after each line end.
    breaks: Vec<usize>,
    len: usize,
}

impl Lines {
    pub fn new(src: &str) -> Self {
        let breaks = line_breaks(src).collect();
        Lines {
            breaks,
            len: src.len(),
        }
    }

    /// 1-based line of a byte offset (offsets past the end count as the end).
    pub fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        self.breaks.partition_point(|&b| b <= offset) + 1
    }
}

/// The offset just after each line end of `src`: after `\n`, and after a `\r` not followed
/// by `\n`. Found with `memchr`: a `refs` line can be megabytes long.
pub(crate) fn line_breaks(src: &str) -> impl Iterator<Item = usize> + '_ {
    let b = src.as_bytes();
    memchr::memchr2_iter(b'\n', b'\r', b)
        .filter(move |&i| b[i] == b'\n' || b.get(i + 1) != Some(&b'\n'))
        .map(|i| i + 1)
}

/// 1-based line of a byte offset; lines end where the parser ends them: at `\n`, `\r\n` or a
/// lone `\r`. For many offsets into one source, build [`Lines`] once.
pub fn line_of(src: &str, offset: usize) -> usize {
    let b = &src.as_bytes()[..offset.min(src.len())];
    b.iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\n' || (c == b'\r' && src.as_bytes().get(i + 1) != Some(&b'\n')))
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_agree_with_counting_newlines() {
        let src = "a\nbb\n\nccc\r\nd\re\r\r\n";
        let lines = Lines::new(src);
        for off in 0..src.len() + 3 {
            assert_eq!(lines.line(off), line_of(src, off), "offset {off}");
        }
        assert_eq!(Lines::new("").line(0), 1);
    }

    fn limited(max_steps: u64, timeout: Option<Duration>, src: &str) -> ChunkResult {
        let mut s = Session::new(Options {
            max_steps,
            timeout,
            trace: false,
            ..Options::default()
        });
        s.execute("t.mem", src)
    }

    fn codes(r: &ChunkResult) -> Vec<&str> {
        r.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn a_rolled_back_statement_takes_its_names_with_it() {
        let mut s = Session::new(Options {
            rollback: true,
            trace: false,
            report_leaks: false,
            ..Options::default()
        });
        s.execute("a.mem", "let kept: u8 = 7\nprocess p1\n");
        let before = (
            s.variables(),
            s.env.processes.clone(),
            s.env.threads.clone(),
        );
        let r = s.execute(
            "b.mem",
            "let gone: *u8 = malloc(8)\nlet kept: u64 = 1 / 0\nprocess p2\nthread t1\n",
        );
        assert!(r.stopped);
        // The first statement ran and stays; the failed one and those after it never were.
        assert_eq!(
            s.variables(),
            [&before.0[..], &["gone".to_string()]].concat()
        );
        assert_eq!(s.variable_type("kept").as_deref(), Some("u8"));
        assert_eq!(s.variable("kept").as_deref(), Some("7"));
        assert_eq!((&s.env.processes, &s.env.threads), (&before.1, &before.2));
        assert_eq!(s.vars.len(), s.env.vars.len());
        // A failing statement alone leaves the names exactly as they were.
        let names = s.variables();
        s.execute("c.mem", "let z = 1 / 0\n");
        assert_eq!(s.variables(), names);
        assert_eq!(
            s.execute("d.mem", "let z = 2\nz\n").value.as_deref(),
            Some("2")
        );
    }

    #[test]
    fn a_short_replay_counts_each_reference() {
        // One statement of 200 references: 201 steps, checked when the replay ends.
        let refs = "refs ".to_string() + &["0 1 2 3"; 50].join(" ") + "\n";
        assert_eq!(codes(&limited(150, None, &refs)), ["mem::limit"]);
        assert!(codes(&limited(201, None, &refs)).is_empty());
    }

    /// A long `refs` string is decoded on another thread while it runs (outside a thread
    /// pool's workers, which decode it themselves): the same run either way, stopped by a
    /// limit at the same reference, and no thread left waiting.
    #[test]
    fn a_string_decoded_ahead_runs_as_one_decoded_in_turn() {
        let mut x = 7u64;
        let items: Vec<String> = (0..300_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("{}{}", x % 37, if i % 3 == 0 { "w" } else { "" })
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool of one thread");
        for policy in ["fifo", "lru", "clock", "opt"] {
            let src = format!(
                "machine {{ memory 12 pages; replace {policy} }}\nrefs {}\nshow frames\nshow tlb\n",
                items.join(" ")
            );
            for max_steps in [u64::MAX, 123_456] {
                let run = || {
                    let r = limited(max_steps, None, &src);
                    format!("{:?} {:?} {:?}", codes(&r), r.steps, r.stats)
                };
                let decoders = || exec::DECODERS.load(std::sync::atomic::Ordering::Relaxed);
                let before = decoders();
                let ahead = run();
                assert!(
                    decoders() > before,
                    "{policy}: no thread decoded the string"
                );
                assert_eq!(
                    ahead,
                    pool.install(run),
                    "{policy}, at most {max_steps} steps"
                );
                assert_eq!(ahead.contains("mem::limit"), max_steps != u64::MAX);
            }
        }
    }

    #[test]
    fn a_sweep_shares_one_budget_between_its_runs() {
        let src = "sweep seed in 0..=99 { repeat 5000 { } }\n";
        assert_eq!(codes(&limited(100_000, None, src)), ["mem::limit"]);
        assert!(codes(&limited(600_000, None, src)).is_empty());
    }

    #[test]
    fn the_timeout_stops_what_cannot_finish() {
        let t = Some(Duration::from_millis(50));
        for src in [
            "repeat 9223372036854775807 { }\n",
            "let n = 0\nrepeat 9223372036854775807 { n = n + 1 }\n",
            "repeat 9223372036854775807 { refs 0 1 2 }\n",
            "sweep seed in 0..=9999 { repeat 1900000000 { } }\n",
        ] {
            let r = limited(u64::MAX, t, src);
            assert_eq!(codes(&r), ["mem::timeout"], "{src}");
            assert!(r.stopped);
        }
    }
}

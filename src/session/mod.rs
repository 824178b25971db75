//! The interpreter: a [`Session`] holds one simulated world and runs chunks of source against
//! it (a file, a REPL line, a notebook cell). The CLI, the REPL and the kernel only drive this.

mod exec;
pub mod replay;
pub mod snapshot;
mod world;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use miette::{NamedSource, Report};
use serde::Serialize;

use crate::check::ir::Vars;
use crate::check::{self, Env};
use crate::events::Event;
use crate::machine::MachineConfig;
use crate::syntax;
pub use snapshot::Snapshot;
pub use world::World;

/// Limits that keep any scenario from exhausting the host.
#[derive(Debug, Clone)]
pub struct Options {
    /// Keep events for the trace (counters are always kept).
    pub trace: bool,
    /// Events kept per top-level statement; the rest are counted.
    pub events_per_step: usize,
    /// Statements and loop iterations one chunk may execute.
    pub max_steps: u64,
    /// Host memory the simulated RAM's contents may take.
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
    /// Told how far a long replay (`refs`, `trace`) has got, every few thousand references:
    /// a front end's progress display.
    pub progress: Option<Progress>,
}

/// A progress callback: references replayed so far, and in all.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(u64, u64) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            trace: true,
            events_per_step: 64,
            max_steps: 2_000_000_000,
            max_host_bytes: 2 << 30,
            rollback: false,
            report_leaks: true,
            compile_loops: true,
            progress: None,
        }
    }
}

/// What a statement printed or showed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Output {
    Print { text: String },
    Show { snapshot: Snapshot },
    Expect { passed: bool, text: String },
}

/// One top-level statement's run: its source line, the events it caused, what it printed.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub line: usize,
    pub source: String,
    pub events: Vec<Event>,
    /// Events beyond the per-statement limit, counted but not kept.
    pub dropped: u64,
    pub outputs: Vec<Output>,
}

/// A diagnostic with its source attached, plus what a machine-readable report needs.
#[derive(Debug)]
pub struct Diag {
    pub report: Report,
    pub severity: Severity,
    pub code: String,
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
    /// The world's counters after the chunk.
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

/// One simulated world and the scenario's variables; runs chunks incrementally.
pub struct Session {
    env: Env,
    world: World,
    vars: Vars,
    opts: Options,
    interrupt: Interrupt,
    /// Accepted chunks, in order: replaying them rebuilds this state.
    history: Vec<String>,
}

impl Session {
    pub fn new(opts: Options) -> Self {
        Session {
            env: Env::default(),
            world: World::new(&MachineConfig::default()),
            vars: Vars::default(),
            opts,
            interrupt: Interrupt::default(),
            history: Vec::new(),
        }
    }

    /// Relative paths in chunks (profiles, traces) resolve from here.
    pub fn set_base_dir(&mut self, dir: impl Into<PathBuf>) {
        self.env.base_dir = dir.into();
    }
    pub fn interrupt_handle(&self) -> Interrupt {
        self.interrupt.clone()
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
        (slot < self.vars.len() as u32).then(|| exec::fmt_value(self.vars.get(slot)))
    }

    /// A variable's type as a user writes it (`*u8`, `long`).
    pub fn variable_type(&self, name: &str) -> Option<String> {
        let slot = *self.env.slots.get(name)?;
        self.env.vars.get(slot as usize).map(|v| v.1.name())
    }

    /// Parses and checks a chunk against the current state, without running it or changing
    /// anything.
    pub fn check(&self, name: &str, src: &str) -> ChunkResult {
        match self.prepare(name, src) {
            Ok(_) => ChunkResult {
                name: name.to_string(),
                ..Default::default()
            },
            Err(r) => *r,
        }
    }

    fn prepare(
        &self,
        name: &str,
        src: &str,
    ) -> Result<(Vec<check::ir::Stmt>, Env), Box<ChunkResult>> {
        let named = || NamedSource::new(name, src.to_string());
        let mut result = ChunkResult {
            name: name.to_string(),
            ..Default::default()
        };
        let program = match syntax::parse(src) {
            Ok(p) => p,
            Err(errs) => {
                result.static_errors = true;
                for e in errs {
                    result.push(
                        Report::new(e).with_source_code(named()),
                        Severity::Error,
                        src,
                    );
                }
                return Err(Box::new(result));
            }
        };
        let mut env = self.env.clone();
        match check::check(&program, &mut env) {
            Ok(s) => Ok((s, env)),
            Err(errs) => {
                result.static_errors = true;
                for e in errs {
                    result.push(e.with_source_code(named()), Severity::Error, src);
                }
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
        let named = || NamedSource::new(name, src.to_string());
        let (stmts, env) = match self.prepare(name, src) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        let mut result = ChunkResult {
            name: name.to_string(),
            ..Default::default()
        };
        self.env = env;
        self.vars.resize(self.env.vars.len());
        self.interrupt.clear();
        let report_leaks = self.opts.report_leaks;
        let mut ex = exec::Exec::new(self, src, &mut result);
        ex.run_top(&stmts, on_step);
        if report_leaks {
            ex.report_leaks();
        }
        drop(ex);
        // Diagnostics from running carry no source yet.
        for d in &mut result.diagnostics {
            if d.report.source_code().is_none() {
                let r = std::mem::replace(&mut d.report, Report::msg(""));
                d.report = r.with_source_code(named());
            }
        }
        if !result.stopped {
            self.history.push(src.to_string());
        }
        result.stats = self.world.stats();
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
    fn push(&mut self, report: Report, severity: Severity, src: &str) {
        let code = report.code().map(|c| c.to_string()).unwrap_or_default();
        let line = report
            .labels()
            .and_then(|mut l| l.next())
            .map(|l| line_of(src, l.offset()));
        self.diagnostics.push(Diag {
            report,
            severity,
            code,
            line,
        });
    }
}

/// 1-based line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

//! [`Session`]: a simulated world that a Rust program or a notebook feeds cell by cell, with
//! each statement's outputs as they happen, the variables with their types, and the machine.

use std::path::Path;

use crate::config::ScenarioConfig;
use crate::machine::MachineConfig;
use crate::session::snapshot::StatsSnap;
use crate::session::{self as engine, Options, Output, Snapshot, Step};

use super::{Machine, Report};

/// The callback every statement goes to as soon as it has run.
type StepSink = Box<dyn FnMut(&Step) + Send>;

/// One simulated machine and its processes and variables, run cell by cell as a notebook
/// does: state carries over from one [`execute`](Session::execute) to the next, and a cell
/// that fails before running changes nothing.
///
/// ```
/// use memsim::{Machine, Session};
///
/// let mut s = Session::new(Machine::profile("x86_64").memory_pages(64));
/// s.execute("let buf: *u8 = malloc(100)\n");
/// let r = s.execute("buf[0] = 7\nprint buf[0]\n");
/// assert!(r.ok(), "{r}");
/// assert_eq!(r.printed().collect::<Vec<_>>(), ["7"]);
///
/// let v = s.variable("buf").unwrap();
/// assert_eq!(v.ty, "*u8");
/// assert_eq!(s.machine().frames(), 64);
/// ```
pub struct Session {
    inner: engine::Session,
    cells: usize,
    sink: Option<StepSink>,
    /// The `machine` statement the session started with.
    machine_src: String,
    /// That machine could not be made: every cell answers with its diagnostics.
    machine_failed: bool,
}

/// A variable of a session: its name, its type as a `.mem` file writes it (`long`, `*u8`), and
/// its value as `print` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub ty: String,
    pub value: String,
}

impl Session {
    /// A session on `machine`, with the options of a notebook: a statement that fails leaves
    /// the world as it was, and blocks still allocated at the end of a cell live on.
    pub fn new(machine: Machine) -> Session {
        Session::new_in(machine, ".")
    }

    /// [`Session::new`], with profile files and `trace "…"` files resolved from `base_dir`.
    pub fn new_in(machine: Machine, base_dir: impl AsRef<Path>) -> Session {
        Session::with_options(
            machine,
            base_dir,
            Options {
                rollback: true,
                report_leaks: false,
                ..Options::default()
            },
        )
    }

    /// A session with options of your own (limits, the trace, progress reports).
    pub fn with_options(machine: Machine, base_dir: impl AsRef<Path>, opts: Options) -> Session {
        let mut inner = engine::Session::new(opts);
        inner.set_base_dir(base_dir.as_ref());
        let machine_src = machine.source();
        let machine_failed =
            !machine_src.is_empty() && inner.execute("machine", &machine_src).exit_code() != 0;
        Session {
            inner,
            cells: 0,
            sink: None,
            machine_src,
            machine_failed,
        }
    }

    /// The diagnostics of the machine the session was made with, when it could not be made.
    /// A failed `machine` statement changes nothing, so running it again reports the same.
    pub fn machine_error(&mut self) -> Option<Report> {
        self.machine_failed
            .then(|| Report::new(self.inner.execute("machine", &self.machine_src)))
    }

    /// Relative paths of the cells that follow resolve from `dir`.
    pub fn set_base_dir(&mut self, dir: impl AsRef<Path>) {
        self.inner.set_base_dir(dir.as_ref());
    }

    /// Sends every statement of every cell that follows to `sink` as soon as it has run, so a
    /// long cell's output can be shown while the rest still runs.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use memsim::session::Output;
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let mut s = memsim::Session::new(memsim::Machine::default());
    /// let log = seen.clone();
    /// s.on_step(move |step| {
    ///     for o in step.outputs() {
    ///         if let Output::Print { text } = o {
    ///             log.lock().unwrap().push(format!("line {}: {text}", step.line));
    ///         }
    ///     }
    /// });
    /// s.execute("print 1\nprint 2 + 2\n");
    /// assert_eq!(*seen.lock().unwrap(), ["line 1: 1", "line 2: 4"]);
    /// ```
    pub fn on_step(&mut self, sink: impl FnMut(&Step) + Send + 'static) {
        self.sink = Some(Box::new(sink));
    }

    /// Stops sending statements to the sink of [`Session::on_step`].
    pub fn clear_sink(&mut self) {
        self.sink = None;
    }

    /// Runs one cell.
    pub fn execute(&mut self, cell: &str) -> Report {
        self.execute_with(cell, |_| {})
    }

    /// Runs one cell, calling `on_step` (and the session's sink) with each top-level statement
    /// as soon as it has run.
    pub fn execute_with(&mut self, cell: &str, mut on_step: impl FnMut(&Step)) -> Report {
        if let Some(r) = self.machine_error() {
            return r;
        }
        self.cells += 1;
        let name = format!("cell[{}]", self.cells);
        let sink = &mut self.sink;
        let r = self.inner.execute_with(&name, cell, &mut |step| {
            on_step(step);
            if let Some(s) = sink.as_mut() {
                s(step);
            }
        });
        Report::new(r)
    }

    /// What `show WHAT` would show now (`"maps"`, `"pagetable"`, `"walk 0x601000"`, `"stats"`,
    /// `"frames"`…), without changing anything; the report with the diagnostics when `what`
    /// is no `show` target.
    ///
    /// ```
    /// let mut s = memsim::Session::new(memsim::Machine::default());
    /// s.execute("let a: *u8 = mmap(4 KiB, rw-)\na[0] = 1\n");
    /// let walk = s.show("walk a").unwrap();
    /// assert!(matches!(walk, memsim::Snapshot::Walk(w) if w.paddr.is_some()));
    /// ```
    pub fn show(&mut self, what: &str) -> Result<Snapshot, Report> {
        let r = self.inner.evaluate("show", &format!("show {what}\n"));
        let snap = r
            .steps
            .iter()
            .flat_map(|s| s.outputs())
            .find_map(|o| match o {
                Output::Show { snapshot } => Some(snapshot.clone()),
                _ => None,
            });
        match snap {
            Some(s) if r.exit_code() == 0 => Ok(s),
            _ => Err(Report::new(r)),
        }
    }

    /// The variables, in the order they were declared.
    pub fn variables(&self) -> Vec<Variable> {
        self.inner
            .variables()
            .into_iter()
            .filter_map(|n| self.variable(&n))
            .collect()
    }

    /// One variable, when it exists and has been given a value.
    pub fn variable(&self, name: &str) -> Option<Variable> {
        Some(Variable {
            name: name.to_string(),
            ty: self.inner.variable_type(name)?,
            value: self.inner.variable(name)?,
        })
    }

    /// The machine the session simulates now (a cell's `machine` statement replaces it).
    pub fn machine(&self) -> &MachineConfig {
        &self.inner.world().config().machine
    }

    /// The whole configuration the session runs now: the machine, the OS and the heap.
    pub fn config(&self) -> &ScenarioConfig {
        self.inner.world().config()
    }

    /// The counters of the current machine.
    pub fn stats(&self) -> StatsSnap {
        self.inner.world().stats()
    }

    /// The interpreter underneath, for what this type does not offer.
    pub fn engine(&mut self) -> &mut engine::Session {
        &mut self.inner
    }
}

//! The library's front door for Rust programs and notebooks: [`run`] a scenario, drive a
//! [`Session`] cell by cell, read the typed [`Report`], and show results in evcxr. Everything
//! here only drives [`crate::session`] and the renderers; it adds no behaviour of its own.

mod display;
mod machine;
mod session;
mod sweep;

use std::fmt;
use std::path::Path;

use crate::events::Event;
use crate::render::{diag, html, text};
use crate::session::snapshot::StatsSnap;
use crate::session::{ChunkResult, Diag, Output, Severity, Snapshot, Step};

pub use machine::Machine;
pub use session::{Session, Variable};
pub use sweep::Sweep;

/// The name diagnostics give a scenario run from a string.
const SCENARIO: &str = "scenario.mem";

/// Runs a whole scenario on the default machine (or the one its `machine` statement names),
/// as `memsim run` does: leaks are reported at the end, `trace "…"` paths resolve from the
/// current directory.
///
/// ```
/// let r = memsim::run("machine { memory 3 pages; replace fifo }\nrefs 1 2 3 4 1 2 5 1 2 3 4 5\n");
/// assert!(r.ok());
/// assert_eq!(r.stats().faults, 9);
/// ```
pub fn run(src: &str) -> Report {
    run_in(src, ".")
}

/// [`run`], with `trace "…"` files and profile files resolved from `base_dir`.
///
/// ```
/// let dir = std::env::temp_dir().join("memsim-run-in-doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// // One address per line: pages 1, 2, 3, then the same again.
/// std::fs::write(dir.join("refs.txt"), "0x1000\n0x2000\n0x3000\n0x1000\n0x2000\n0x3000\n").unwrap();
/// let r = memsim::run_in("machine { memory 2 pages; replace lru }\ntrace \"refs.txt\"\n", &dir);
/// assert_eq!(r.stats().faults, 6);
/// ```
pub fn run_in(src: &str, base_dir: impl AsRef<Path>) -> Report {
    let mut s = crate::session::Session::new(crate::session::Options::default());
    s.set_base_dir(base_dir.as_ref());
    Report::new(s.execute(SCENARIO, src))
}

/// Everything one scenario or cell did: its steps (each statement with its events and
/// outputs, in order), diagnostics, counters and the values it showed.
///
/// ```
/// use memsim::events::Event;
///
/// let r = memsim::run("let a: *u8 = mmap(8 KiB, rw-)\na[0] = 1\nprint a[0]\n");
/// assert!(r.ok());
/// assert_eq!(r.printed().collect::<Vec<_>>(), ["1"]);
/// let faults = r.events().filter(|e| matches!(e, Event::MinorFault { .. })).count();
/// assert_eq!(faults as u64, r.stats().minor);
/// ```
#[derive(Debug)]
pub struct Report {
    /// Boxed: a report travels in `Result`s, whose error side should stay small.
    result: Box<ChunkResult>,
}

impl Report {
    pub(crate) fn new(result: ChunkResult) -> Report {
        Report {
            result: Box::new(result),
        }
    }

    /// The scenario's or cell's name, as diagnostics show it.
    pub fn name(&self) -> &str {
        &self.result.name
    }
    /// Nothing failed: no static error, failed `expect`, runtime error or unexpected death.
    pub fn ok(&self) -> bool {
        self.exit_code() == 0
    }
    /// `memsim run`'s exit status: 0 all good, 1 a failure while running, 2 errors before
    /// running (nothing ran).
    pub fn exit_code(&self) -> i32 {
        self.result.exit_code()
    }
    /// Each top-level statement's run, in order.
    pub fn steps(&self) -> &[Step] {
        &self.result.steps
    }
    /// Every event (faults, evictions, system calls…) of every statement, in order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.result.steps.iter().flat_map(|s| s.events())
    }
    /// What the statements printed, showed and expected, in order.
    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.result.steps.iter().flat_map(|s| s.outputs())
    }
    /// The lines `print` wrote.
    pub fn printed(&self) -> impl Iterator<Item = &str> {
        self.outputs().filter_map(|o| match o {
            Output::Print { text } => Some(text.as_str()),
            _ => None,
        })
    }
    /// What each `show` (and each `sweep`) showed, in order.
    pub fn snapshots(&self) -> impl Iterator<Item = &Snapshot> {
        self.outputs().filter_map(|o| match o {
            Output::Show { snapshot } => Some(snapshot),
            _ => None,
        })
    }
    /// The tables of the scenario's `sweep`s, in order.
    pub fn sweeps(&self) -> impl Iterator<Item = Sweep> + '_ {
        self.snapshots().filter_map(Sweep::from_snapshot)
    }
    /// Errors and warnings, in the order they were found.
    pub fn diagnostics(&self) -> &[Diag] {
        &self.result.diagnostics
    }
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diag> {
        self.diagnostics()
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
    /// The counters at the end (every machine of the scenario counted).
    pub fn stats(&self) -> &StatsSnap {
        &self.result.stats
    }
    /// The value of a final bare expression (`1 + 41` is `42`), as `print` writes it.
    pub fn value(&self) -> Option<&str> {
        self.result.value.as_deref()
    }
    /// Expectations that held and that failed.
    pub fn expectations(&self) -> (usize, usize) {
        (
            self.result.expectations_passed,
            self.result.expectations_failed,
        )
    }
    /// What `memsim run` prints, without colour: the trace, the diagnostics (80 columns) and
    /// the summary.
    pub fn text(&self) -> String {
        let r = &self.result;
        let mut out = text::trace(r);
        for d in &r.diagnostics {
            out.push_str(&diag::render(&d.report, false, 80));
            if d.severity == Severity::Error {
                out.push('\n');
            }
        }
        if !r.static_errors {
            out.push_str(&text::summary(r, &r.stats));
        }
        out
    }
    /// An HTML fragment: the summary, the trace with each `show`'s table and picture under its
    /// statement, the diagnostics and the counters.
    pub fn html(&self) -> String {
        html::fragment(&self.result)
    }
    /// The result as the interpreter made it.
    pub fn chunk(&self) -> &ChunkResult {
        &self.result
    }
    pub fn into_chunk(self) -> ChunkResult {
        *self.result
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl Diag {
    /// The one-line message (`page fault at 0x…`).
    pub fn message(&self) -> String {
        self.report.to_string()
    }
    /// The help line, when the diagnostic has one.
    pub fn help(&self) -> Option<String> {
        self.report.help().map(|h| h.to_string())
    }
    /// The whole diagnostic as the CLI prints it, without colour, `width` columns wide.
    pub fn render(&self, width: usize) -> String {
        diag::render(&self.report, false, width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::config::Policy;

    #[test]
    fn a_report_shows_its_counters_in_html() {
        let r = run("machine { memory 3 pages; replace fifo }\nrefs 1 2 3 4 1 2 5 1 2 3 4 5\n");
        assert!(r.ok());
        assert!(r.html().contains(">9</td>"));
        assert!(r.text().contains("9"));
    }

    #[test]
    fn a_loop_over_machines_finds_beladys_anomaly() {
        let mut sweep = Sweep::new(["replace", "memory"], ["faults"]);
        for frames in 1..=6 {
            let m = Machine::profile("x86_64")
                .memory_pages(frames)
                .replace(Policy::Fifo);
            let r = Session::new(m).execute("refs 1 2 3 4 1 2 5 1 2 3 4 5\n");
            sweep.push(
                ["fifo".to_string(), format!("{frames} pages")],
                [r.stats().faults],
            );
        }
        assert_eq!(sweep.column("faults"), [12.0, 12.0, 9.0, 10.0, 5.0, 5.0]);
    }

    #[test]
    fn a_session_tells_its_variables_machine_and_each_statement() {
        let mut s = Session::new(Machine::profile("x86_64").memory(64 << 20));
        let r = s.execute("let buf: *u8 = mmap(16 KiB, rw-)\nbuf[0] = 1\nbuf[8192] = 2\n");
        assert!(r.ok(), "{r}");
        let v = s.variable("buf").unwrap();
        assert_eq!(v.ty, "*u8");
        assert_eq!(s.variables(), [v]);
        assert_eq!(s.machine().frames(), 16384);
        let walk = s.show("walk buf + 8192").unwrap();
        assert!(walk.svg().is_some());
        assert!(s.show("pagetable").unwrap().html().contains("<table"));
        assert!(s.show("nonsense").is_err());
        let mut seen = Vec::new();
        let r = s.execute_with("buf[4096] = 3; buf[4097] = 4\nbuf[12288] = 5\n", |st| {
            seen.push((st.line, st.events().count()))
        });
        // Statements a `;` separates are steps of their own, on one line.
        assert_eq!(seen, [(1, 1), (1, 0), (2, 1)]);
        assert_eq!(r.events().count(), 2);
    }

    #[test]
    fn a_machine_that_cannot_be_made_answers_every_cell_with_its_diagnostic() {
        let mut s = Session::new(Machine::profile("x86_64").page_size(3000));
        let r = s.execute("print 1\n");
        assert_eq!(r.exit_code(), 2);
        assert!(r.diagnostics()[0].code.starts_with("mem::machine::"));
        assert_eq!(r.printed().count(), 0);
    }
}

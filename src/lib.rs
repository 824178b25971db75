//! memsim: a small language for memory-management scenarios, run against a simulated MMU.
//!
//! A `.mem` scenario describes a machine, processes, the steps they take and what to expect;
//! memsim runs it against a simulated MMU and OS and reports every event. This crate is the
//! simulator; the `memsim` command, its REPL and its Jupyter kernel are front ends behind the
//! `cli` and `kernel` features. `default-features = false` builds the library alone, which is
//! all a Rust program or an evcxr notebook needs:
//!
//! ```toml
//! memsim = { path = "…", default-features = false }
//! ```
//!
//! # Run a scenario
//!
//! [`run`] runs a whole scenario as `memsim run` does and returns a [`Report`]: its
//! [steps](Report::steps) (each statement with its [events](Report::events) and
//! [outputs](Report::outputs)), [diagnostics](Report::diagnostics), [counters](Report::stats)
//! and [snapshots](Report::snapshots). [`run_in`] resolves `trace "…"` and profile files from a
//! folder of your choice.
//!
//! ```
//! let r = memsim::run(
//!     "machine { memory 3 pages; replace fifo }\n\
//!      refs 1 2 3 4 1 2 5 1 2 3 4 5\n\
//!      expect stats.faults == 9\n",
//! );
//! assert!(r.ok());
//! assert_eq!(r.stats().faults, 9);
//! assert_eq!(r.expectations(), (1, 0));
//! print!("{r}"); // the trace and summary, as `memsim run` prints them
//! ```
//!
//! Bad input is a diagnostic, never a panic: each has a stable code, a line and a help text.
//!
//! ```
//! let r = memsim::run("let x = 1 +\n");
//! assert_eq!(r.exit_code(), 2);
//! let d = &r.diagnostics()[0];
//! assert!(d.code.starts_with("mem::"));
//! println!("{}", d.render(80));
//! ```
//!
//! # Machines
//!
//! A [`Machine`] is a built-in profile (`x86_64`, `i386`, `aarch64_4k`, `riscv_sv39`, `tiny`…)
//! with builder-style overrides; it is checked as a `machine` statement is.
//!
//! ```
//! use memsim::machine::config::Policy;
//!
//! let m = memsim::Machine::profile("x86_64").memory_pages(4).replace(Policy::Clock).no_tlb();
//! let cfg = m.config().unwrap();
//! assert_eq!((cfg.machine.frames(), cfg.machine.levels, cfg.machine.tlb.enabled), (4, 4, false));
//! ```
//!
//! # Sessions, cell by cell
//!
//! A [`Session`] keeps one world across [`execute`](Session::execute) calls, as the cells of
//! a notebook do. It hands each statement to a sink as soon as it has run
//! ([`on_step`](Session::on_step), [`execute_with`](Session::execute_with)), lists its
//! [variables](Session::variables) with their types, tells the current
//! [machine](Session::machine), and [shows](Session::show) any `show` target as a
//! [`Snapshot`].
//!
//! ```
//! use memsim::{Event, Machine, Session, Snapshot};
//!
//! let mut s = Session::new(Machine::profile("x86_64"));
//! s.execute("let buf: *u8 = mmap(8 KiB, rw-)\n");
//! let mut lines = Vec::new();
//! let r = s.execute_with("buf[0] = 1\nbuf[4096] = 2\n", |step| {
//!     lines.push((step.line, step.events().count()))
//! });
//! assert_eq!(lines, [(1, 1), (2, 1)]); // a minor fault each
//! assert!(matches!(r.events().last(), Some(Event::MinorFault { .. })));
//!
//! let buf = s.variable("buf").unwrap();
//! assert_eq!((buf.ty.as_str(), buf.value.starts_with("0x")), ("*u8", true));
//! let Ok(Snapshot::Walk(walk)) = s.show("walk buf + 4096") else { panic!() };
//! assert_eq!(walk.levels.len(), 4);
//! ```
//!
//! # Notebooks
//!
//! [`Report`], [`Snapshot`] and [`Sweep`] have an `evcxr_display` method: in an evcxr notebook
//! (the `rust` Jupyter kernel) a cell whose value is one of them shows the same HTML tables and
//! SVG pictures as memsim's own kernel. A [`Sweep`] collects results of a Rust loop and draws
//! them as a `sweep` statement's chart. `notebooks/rust-api.ipynb` shows all of it.
//!
//! ```
//! let mut sweep = memsim::Sweep::new(["memory"], ["faults"]);
//! for frames in 1..=5 {
//!     let m = memsim::Machine::profile("x86_64").memory_pages(frames);
//!     let r = memsim::Session::new(m).execute("refs 1 2 3 4 1 2 5 1 2 3 4 5\n");
//!     sweep.push([format!("{frames} pages")], [r.stats().faults]);
//! }
//! let types: Vec<&str> = sweep.mime_bundle().iter().map(|(t, _)| *t).collect();
//! assert_eq!(types, ["text/plain", "text/html", "image/svg+xml"]);
//! ```
//!
//! # The layers
//!
//! Arrows only point down: [`syntax`] parses a chunk of `.mem` source into an owned AST,
//! [`check`] finds every static error at once, [`session`] interprets checked chunks against
//! one simulated world made of [`os`], [`heap`] and [`machine`], and reports what happened as
//! [`events`], which [`render`] turns into text, tables, pictures or JSON. [`api`] is the
//! front door above them all. What that world is made from is a [`config::ScenarioConfig`]:
//! one part per layer (the machine, the OS, the heap) and what they share.

pub mod api;
pub mod check;
pub mod config;
pub mod diag;
pub mod events;
pub mod files;
pub mod heap;
pub mod ide;
pub mod machine;
pub mod os;
pub mod profile;
pub mod render;
pub mod session;
pub mod source;
pub mod syntax;
pub mod units;
pub mod words;

// Inlined, so that the crate's front page lists the API's types and functions with their
// summaries instead of a list of `pub use` lines.
#[doc(inline)]
pub use api::{run, run_in, Machine, Report, Session, Sweep, Variable};
#[doc(inline)]
pub use events::Event;
#[doc(inline)]
pub use session::snapshot::StatsSnap;
#[doc(inline)]
pub use session::{ChunkResult, Diag, Options, Output, Severity, Snapshot, Step};
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "kernel")]
pub mod kernel;
pub mod repl;
pub mod suggest;

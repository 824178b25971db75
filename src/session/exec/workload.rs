//! `refs`, `trace` and `sweep`: reference strings and traces replayed through the MMU, and sweeps
//! over machine settings (docs/language.md, "Reference strings, traces, sweeps"; docs/policies.md).

use std::path::Path;
use std::sync::Arc;

use miette::{NamedSource, Report};
use rayon::prelude::*;

use super::ahead::{self, Batches};
use super::{fmt_value, Exec, Sig, Stop, R};
use crate::check::ir::{SweepIr, TExpr, Vars};
use crate::check::machine::{apply_setting, validate, FieldSpans};
use crate::config::ScenarioConfig;
use crate::diag::run::RunError;
use crate::machine::Access;
use crate::session::replay::{
    self, Excerpt, Future, PageRef, RefSource, ReplayStop, TraceError, TraceReader,
};
use crate::session::snapshot::{Snapshot, SweepRow};
use crate::session::{
    ChunkCtx, ChunkResult, Diag, Interrupt, Options, Output, Progress, ProgressFn, World,
};
use crate::syntax::{PageRefs, Span};
use crate::units;

/// A `refs` string's references, decoded a chunk at a time from the packed items (host memory
/// stays one chunk, however long the string).
struct Refs<'a> {
    items: crate::syntax::PageRefsIter<'a>,
    base: u64,
    page_size: u64,
    buf: Vec<PageRef>,
}

impl<'a> Refs<'a> {
    fn new(items: &'a PageRefs, base: u64, page_size: u64) -> Self {
        Refs {
            items: items.iter(),
            base,
            page_size,
            buf: Vec::with_capacity(replay::CHUNK),
        }
    }
}

impl RefSource<Box<RunError>> for Refs<'_> {
    fn next_chunk(&mut self) -> Result<Option<&[PageRef]>, Box<RunError>> {
        self.buf.clear();
        let (base, ps) = (self.base, self.page_size);
        self.items
            .fill(&mut self.buf, replay::CHUNK, |page, write| PageRef {
                addr: base + page * ps,
                access: if write { Access::Write } else { Access::Read },
            });
        Ok((!self.buf.is_empty()).then_some(&self.buf[..]))
    }
}

/// A `refs` string's references as another thread decodes them ([`ahead::decode`]), handed
/// out in the same chunks as [`Refs`] hands them.
struct RefsAhead {
    batches: Batches<PageRef>,
    at: usize,
}

impl RefSource<Box<RunError>> for RefsAhead {
    fn next_chunk(&mut self) -> Result<Option<&[PageRef]>, Box<RunError>> {
        if self.at == self.batches.current().len() {
            if self.batches.next().is_none() {
                return Ok(None);
            }
            self.at = 0;
        }
        let batch = self.batches.current();
        let from = self.at;
        self.at = (from + replay::CHUNK).min(batch.len());
        Ok(Some(&batch[from..self.at]))
    }
}

/// A trace file's references, read as the replay goes; a read error stops the replay and is
/// kept for its diagnostic (which needs the file's lines).
struct TraceSource {
    reader: TraceReader<std::fs::File>,
    error: Option<TraceError>,
}

impl RefSource<Box<RunError>> for TraceSource {
    fn next_chunk(&mut self) -> Result<Option<&[PageRef]>, Box<RunError>> {
        match self.reader.next_refs() {
            Ok(r) => Ok(r),
            Err(e) => {
                self.error = Some(e);
                Err(Box::new(RunError::Interrupted {
                    span: (0, 0).into(),
                }))
            }
        }
    }
}

/// Opens a trace file, or says why it cannot be read.
fn open_trace(path: &str, full: &Path, span: Span) -> R<std::fs::File> {
    let why = match std::fs::metadata(full) {
        Ok(m) if m.is_dir() => Some("it is a directory".to_string()),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no such file".to_string()),
        Err(e) => Some(e.kind().to_string()),
    };
    let file = match why {
        Some(w) => Err(w),
        None => std::fs::File::open(full).map_err(|e| e.kind().to_string()),
    };
    file.map_err(|reason| {
        err!(
            TraceFile,
            span,
            format!("cannot read the trace file \"{path}\": {reason}"),
            "this trace",
            "a trace path is relative to the folder of the .mem file",
        )
    })
}

/// What one run of a sweep hands back to the thread that builds the table.
struct RunOut {
    values: Vec<String>,
    note: String,
    diagnostics: Vec<Diag>,
    passed: usize,
    failed: usize,
    error: Option<Report>,
    /// Whether the run sent a progress report for the sweep.
    reported: bool,
}

impl Exec<'_> {
    /// `refs 7 0 1 2 0 3w`: pages of the process's reference region (created on first use),
    /// page `n` at `base + n * page_size`.
    pub(super) fn refs(&mut self, items: &PageRefs, span: Span) -> R<()> {
        let p = self.cur(span)?;
        let Some(max) = items.max_page() else {
            return Ok(());
        };
        let ps = self.world.mmu.page_size();
        let base = self
            .world
            .os
            .refs_region(p, max.saturating_add(1))
            .map_err(|m| {
                err!(
                    RefsRoom,
                    span,
                    m,
                    "no room for this reference string",
                    "use smaller page numbers: `refs` maps pages 0 to the largest number named",
                )
            })?;
        let future = (self.world.mmu.config().replace.needs_future()).then(|| {
            let shift = self.world.mmu.page_shift();
            let at = base >> shift;
            let mut f = Future::for_pages(shift, at, max.saturating_add(1), items.len());
            // The future needs the pages only, not the references the replay makes of them.
            if ahead::worth_it(items.len()) {
                std::thread::scope(|s| {
                    let mut vpns = ahead::decode(s, items, move |page, _| at + page);
                    while let Some(batch) = vpns.next() {
                        f.extend_pages(batch);
                    }
                });
                return f;
            }
            let (mut all, mut vpns) = (items.iter(), Vec::with_capacity(replay::CHUNK));
            loop {
                vpns.clear();
                all.fill(&mut vpns, replay::CHUNK, |page, _| at + page);
                if vpns.is_empty() {
                    break f;
                }
                f.extend_pages(&vpns);
            }
        });
        if ahead::worth_it(items.len()) {
            return std::thread::scope(|s| {
                let batches = ahead::decode(s, items, move |page, write| PageRef {
                    addr: base + page * ps,
                    access: if write { Access::Write } else { Access::Read },
                });
                let mut source = RefsAhead { batches, at: 0 };
                self.replay(p, &mut source, future.as_ref(), items.len(), span)
                // The source goes first: a decoder still at work then finds no one to send to.
            });
        }
        let mut source = Refs::new(items, base, ps);
        self.replay(p, &mut source, future.as_ref(), items.len(), span)
    }

    /// `trace "file"`: every address of the file through the MMU; an address outside the
    /// mappings the scenario declared belongs to the traced program (a page of its backing
    /// store). The file streams twice: once to check every line (and, under OPT, to learn the
    /// future) before anything runs, once to replay.
    pub(super) fn trace(&mut self, path: &str, full: &Path, span: Span) -> R<()> {
        let p = self.cur(span)?;
        let ps = self.world.mmu.page_size();
        let mut reader =
            TraceReader::new(open_trace(path, full, span)?, ps).max_line(self.opts.max_trace_line);
        let mut future = (self.world.mmu.config().replace.needs_future())
            .then(|| Future::new(self.world.mmu.page_shift()));
        let mut total = 0usize;
        loop {
            match reader.next_refs() {
                Ok(Some(refs)) => {
                    total += refs.len();
                    if let Some(f) = &mut future {
                        f.extend(refs);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(Box::new(Stop::Error(self.trace_error(path, full, e, span)))),
            }
            if self.interrupt.is_set() {
                return Err(Box::new(Stop::Error(Report::new(RunError::Interrupted {
                    span: span.into(),
                }))));
            }
        }
        let mut source = TraceSource {
            reader: TraceReader::new(open_trace(path, full, span)?, ps)
                .max_line(self.opts.max_trace_line),
            error: None,
        };
        self.world.os.auto_map = true;
        let r = self.replay(p, &mut source, future.as_ref(), total, span);
        self.world.os.auto_map = false;
        match source.error.take() {
            // The file changed between the two readings.
            Some(e) => Err(Box::new(Stop::Error(self.trace_error(path, full, e, span)))),
            None => r,
        }
    }

    /// The diagnostic for a trace file that could not be read to its end.
    fn trace_error(&self, path: &str, full: &Path, e: TraceError, span: Span) -> Report {
        let line = self.ctx.lines.line(span.start) + self.line_offset;
        match e {
            TraceError::Line(e) => {
                let excerpt = std::fs::File::open(full)
                    .ok()
                    .and_then(|f| Excerpt::line_of(f, e.line))
                    .unwrap_or_default();
                Report::new(RunError::TraceLine {
                    file: path.to_string(),
                    line: e.line,
                    span: (e.start, e.len).into(),
                    reason: e.reason,
                    src: NamedSource::new(path, excerpt),
                    help: format!(
                        "the trace (read by line {line} of the scenario) has one access per line: an address such as `0x7ffc1000` or `W 4096`, or valgrind lackey's `--trace-mem=yes` output"
                    ),
                })
            }
            TraceError::Io(e) => Report::new(RunError::TraceFile {
                message: format!("cannot read the trace file \"{path}\": {e}"),
                span: span.into(),
                label: "this trace".into(),
                help: "a trace path is relative to the folder of the .mem file".into(),
            }),
        }
    }

    /// Runs page references with the session's limits checked every few thousand. Each
    /// reference is a step.
    fn replay(
        &mut self,
        p: usize,
        source: &mut impl RefSource<Box<RunError>>,
        future: Option<&Future>,
        total: usize,
        span: Span,
    ) -> R<()> {
        let max_host = self.opts.max_host_bytes;
        let (interrupt, budget) = (self.interrupt, &self.ctx.budget);
        // Steps taken before the replay and references done since, not yet in the budget.
        let mut pending = std::mem::take(&mut self.steps);
        let mut counted = 0;
        let progress = self.opts.progress.clone();
        let after = self.opts.progress_after;
        let (start, line, _) = self.started;
        let mut reported = false;
        let r = replay::replay_source(
            self.world,
            p,
            source,
            future,
            &mut self.sink,
            |done, mmu| {
                if let Some(f) = &progress {
                    let elapsed = start.elapsed();
                    if elapsed >= after {
                        reported = true;
                        (f.0)(&crate::session::Progress {
                            line,
                            elapsed,
                            steps: done as u64,
                            of: Some((done as u64, total as u64)),
                            finished: false,
                        });
                    }
                }
                pending += (done - counted) as u64;
                counted = done;
                let used = budget.add(std::mem::take(&mut pending));
                if used > budget.max_steps() {
                    return Err(Box::new(super::steps_error(budget.max_steps(), span)));
                }
                if let Some(t) = budget.expired() {
                    return Err(Box::new(super::timeout_error(t, span)));
                }
                if interrupt.is_set() {
                    return Err(Box::new(RunError::Interrupted { span: span.into() }));
                }
                if mmu.host_bytes() > max_host {
                    return Err(Box::new(RunError::Limit {
                        what: format!(
                            "simulated memory contents exceed {}",
                            units::size(max_host as u64)
                        ),
                        span: span.into(),
                        help: "the scenario writes more distinct memory than the session allows"
                            .into(),
                    }));
                }
                Ok(())
            },
        );
        self.reported |= reported;
        // The references after the last check count too, and a short replay is checked now:
        // a loop of short `refs` must not slip past the limits.
        self.steps = pending + total.saturating_sub(counted) as u64;
        match r {
            Ok(()) => self.tick_limits(span),
            Err(ReplayStop::Trap(_, t)) => Err(Self::trap(t, p, span)),
            Err(ReplayStop::Check(e)) => Err(Box::new(Stop::Error(Report::new(*e)))),
        }
    }

    /// `sweep KEY in VALUES, ... { body }`: the body once per combination, each on a fresh
    /// machine made from the current one with the values applied, in parallel; one table row
    /// per combination, in the order the values were written (first parameter outermost).
    pub(super) fn sweep(&mut self, sw: &SweepIr, span: Span) -> R<()> {
        let base = self.world.config().clone();
        let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
        for prm in &sw.params {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    (0..prm.values.len()).map(move |i| {
                        let mut c = c.clone();
                        c.push(i);
                        c
                    })
                })
                .collect();
        }
        let mut configs = Vec::with_capacity(combos.len());
        for c in &combos {
            configs.push(self.sweep_config(&base, sw, c, span)?);
        }
        let mut opts: Options = self.opts.clone();
        opts.trace = false;
        opts.rollback = false;
        // The sweep is one statement: its runs report for it, each with the steps of all of
        // them (they share one budget), and without a replay's own count, which would make
        // parallel runs fight over one progress bar.
        opts.progress = self.opts.progress.clone().map(|f| {
            ProgressFn(Arc::new(move |p: &Progress| {
                (f.0)(&Progress {
                    of: None,
                    ..p.clone()
                })
            }))
        });
        let mut vars = self.vars.clone();
        vars.resize(sw.vars);
        // Every run draws on the chunk's one budget of steps and time.
        self.flush_steps();
        let shared = Shared {
            sw,
            vars: &vars,
            opts: &opts,
            interrupt: self.interrupt,
            ctx: self.ctx,
            src: self.src,
            span,
            started: self.started,
        };
        let outs: Vec<RunOut> = configs
            .par_iter()
            .map(|cfg| run_one(cfg, &shared))
            .collect();
        let mut rows = Vec::with_capacity(outs.len());
        for (c, out) in combos.iter().zip(outs) {
            self.res.expectations_passed += out.passed;
            self.res.expectations_failed += out.failed;
            self.reported |= out.reported;
            self.res.diagnostics.extend(out.diagnostics);
            if let Some(e) = out.error {
                return Err(Box::new(Stop::Error(e)));
            }
            rows.push(SweepRow {
                params: c
                    .iter()
                    .zip(&sw.params)
                    .map(|(&i, p)| p.values[i].0.clone())
                    .collect(),
                values: out.values,
                note: out.note,
            });
        }
        let columns = sw
            .report
            .iter()
            .map(|(t, e)| {
                if t.is_empty() {
                    self.src[e.span.start..e.span.end].to_string()
                } else {
                    t.clone()
                }
            })
            .collect();
        self.sink.output(Output::Show {
            snapshot: Snapshot::Sweep {
                params: sw.params.iter().map(|p| p.key.clone()).collect(),
                columns,
                rows,
            },
        });
        Ok(())
    }

    /// The machine of one combination: the current machine with each value applied (page
    /// size first, so `3 pages` means pages of the swept size), then checked as a whole.
    fn sweep_config(
        &self,
        base: &ScenarioConfig,
        sw: &SweepIr,
        combo: &[usize],
        span: Span,
    ) -> R<ScenarioConfig> {
        let mut cfg = base.clone();
        let mut spans = FieldSpans::new(span);
        let order = sw
            .params
            .iter()
            .zip(combo)
            .filter(|(p, _)| p.key == "page_size")
            .chain(
                sw.params
                    .iter()
                    .zip(combo)
                    .filter(|(p, _)| p.key != "page_size"),
            );
        for (p, &i) in order {
            let args = &p.values[i].1;
            apply_setting(&mut cfg, &p.key, args, p.span).map_err(|e| Stop::Error(e.into()))?;
            let at = args.first().map_or(p.span, |a| a.span);
            spans.set_key(&p.key, at);
        }
        if let Some(e) = validate(&cfg, &spans).into_iter().next() {
            return Err(Box::new(Stop::Error(e.into())));
        }
        Ok(cfg)
    }
}

/// What every run of one sweep shares.
struct Shared<'a> {
    sw: &'a SweepIr,
    vars: &'a Vars,
    opts: &'a Options,
    interrupt: &'a Interrupt,
    ctx: &'a ChunkCtx,
    src: &'a str,
    /// The `sweep` statement, where a spent budget is reported.
    span: Span,
    /// When the `sweep` statement started, on which line, after how many steps: its runs'
    /// progress reports are the statement's.
    started: (std::time::Instant, usize, u64),
}

/// One combination of a sweep, on its own thread and its own world.
fn run_one(cfg: &ScenarioConfig, sh: &Shared) -> RunOut {
    let Shared {
        sw,
        vars,
        opts,
        interrupt,
        ctx,
        src,
        span,
        started,
    } = *sh;
    let budget = &ctx.budget;
    // Once the budget is spent, the runs still queued stop before building their machines.
    let spent = if interrupt.is_set() {
        Some(RunError::Interrupted { span: span.into() })
    } else if budget.used() > budget.max_steps() {
        Some(super::steps_error(budget.max_steps(), span))
    } else {
        budget.expired().map(|t| super::timeout_error(t, span))
    };
    if let Some(e) = spent {
        return RunOut {
            values: vec!["-".into(); sw.report.len()],
            note: String::new(),
            diagnostics: Vec::new(),
            passed: 0,
            failed: 0,
            error: Some(Report::new(e)),
            reported: false,
        };
    }
    let mut world = World::new(cfg);
    let mut vars = vars.clone();
    let mut res = ChunkResult::default();
    let mut ex = Exec::with_parts(&mut world, &mut vars, opts, interrupt, src, &mut res, ctx);
    ex.started = started;
    let mut note = String::new();
    let mut error = None;
    match ex.block(&sw.body).map_err(|b| *b) {
        Ok(()) => {}
        Err(Stop::Signal { sig, .. }) => {
            note = match sig {
                Sig::Segv { .. } => "SIGSEGV".into(),
                Sig::Bus { .. } => "SIGBUS".into(),
                Sig::Abort(_) => "SIGABRT".into(),
                Sig::Oom => "out of memory".into(),
            }
        }
        Err(Stop::Error(r)) => error = Some(r),
    }
    ex.flush_steps();
    let values = sw
        .report
        .iter()
        .map(|(_, e): &(String, TExpr)| match ex.eval(e) {
            Ok(v) => fmt_value(v, ex.world.config().radix()),
            Err(_) => "-".into(),
        })
        .collect();
    let reported = ex.reported;
    drop(ex);
    RunOut {
        values,
        note,
        passed: res.expectations_passed,
        failed: res.expectations_failed,
        diagnostics: res.diagnostics,
        error,
        reported,
    }
}

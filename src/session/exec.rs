//! Executing checked statements against the world: evaluation, accesses, expectations, `show`.

use miette::Report;

use super::snapshot::*;
use super::world::HeapCall;
use super::{ChunkResult, Output, Session, Severity, Step, World};
use crate::check::ir::*;
use crate::diag::heap::HeapFinding;
use crate::diag::run::RunError;
use crate::events::{Event, EventSink, SegvCode};
use crate::heap::safety::{Safety, Site};
use crate::heap::HeapError;
use crate::machine::pagetable::pte;
use crate::machine::{Access, FrameUse};
use crate::os::layout::LayoutError;
use crate::os::{Death, Perms, Role, Trap};
use crate::syntax::{BinOp, FaultExpect, SegvCode as WantSegv, Span, UnOp};
use crate::units;

mod compiled;
mod pressure;

/// A signal that ends the current block unless an `expect` catches it.
#[derive(Debug, Clone)]
pub(super) enum Sig {
    Segv {
        vaddr: u64,
        access: Access,
        code: SegvCode,
        detail: String,
    },
    Abort(String),
    Oom,
}

/// Why a statement did not complete.
pub(super) enum Stop {
    /// Delivered to process `p`.
    Signal { sig: Sig, p: usize, span: Span },
    /// A runtime error: the chunk stops here.
    Error(Report),
}

/// Boxed so the `Ok` path of every evaluation returns in registers.
type R<T> = Result<T, Box<Stop>>;

pub(super) struct Exec<'a> {
    world: &'a mut World,
    vars: &'a mut Vars,
    opts: &'a super::Options,
    interrupt: &'a super::Interrupt,
    src: &'a str,
    res: &'a mut ChunkResult,
    sink: EventSink,
    /// The chunk's step and time budget and its source's lines, shared with a sweep's runs.
    ctx: &'a super::ChunkCtx,
    /// Steps taken and not yet added to the budget.
    steps: u64,
    /// A full process table is reported once, not once per failed fork of a loop.
    fork_limit_reported: bool,
    /// When `steps` reaches this, [`Exec::tick_limits`] looks at the limits.
    check_at: u64,
    /// Where each line of `src` starts: turns the sink's offsets into line numbers.
    line_starts: Vec<usize>,
    /// Lines before `src` in the text it is part of: added to every line number shown.
    line_offset: usize,
    /// What blocks left by a signal did on the way out (the switch back after `in`): shown
    /// after the signal, once it is handled.
    unwound: Vec<(usize, crate::session::Item)>,
    /// When the running top-level statement started, its line and the steps counted then: what
    /// progress reports say.
    started: (std::time::Instant, usize, u64),
    /// A progress report went out for the running statement: its end is reported too.
    reported: bool,
}

fn err(
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Box<Stop> {
    Box::new(Stop::Error(Report::new(RunError::Error {
        message: message.into(),
        span: span.into(),
        label: label.into(),
        help: help.into(),
    })))
}

/// A stack statement that cannot run as written (`mem::stack`).
fn stack_err(
    span: Span,
    message: impl Into<String>,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Box<Stop> {
    Box::new(Stop::Error(Report::new(RunError::Stack {
        message: message.into(),
        span: span.into(),
        label: label.into(),
        help: help.into(),
    })))
}

/// A frame size or recursion depth as a count: a negative one (a signed value below 0) is an
/// error, where C's unsigned arithmetic would silently wrap it. An unsigned one is taken as it
/// is: a frame of 16 EiB overflows the stack.
fn stack_amount(v: Value, what: &str, span: Span) -> R<u64> {
    let signed = matches!(v.ty, Ty::Int(p) if p.signed());
    if signed && (v.bits as i64) < 0 {
        return Err(stack_err(
            span,
            format!("a {what} cannot be negative"),
            format!("{what} {}", v.bits as i64),
            format!("write a {what} of 0 or more"),
        ));
    }
    Ok(v.bits)
}

/// A process layout that does not fit the machine (`mem::layout`).
fn layout_err(span: Span, e: LayoutError) -> Box<Stop> {
    Box::new(Stop::Error(Report::new(RunError::Layout {
        what: e.what,
        span: span.into(),
        help: e.help,
    })))
}

/// The step limit's diagnostic.
pub(super) fn steps_error(limit: u64, span: Span) -> RunError {
    RunError::Steps {
        limit,
        span: span.into(),
        help: format!(
            "allow more with `--max-steps N` (now {limit}) if the run is meant to be this long; every statement, loop iteration, stack frame and page reference is a step, and a run this long is more likely a loop that never ends"
        ),
    }
}

/// The time limit's diagnostic.
pub(super) fn timeout_error(after: std::time::Duration, span: Span) -> RunError {
    let after = units::duration(after);
    RunError::Timeout {
        help: format!(
            "allow more time with `--timeout` (now {after}) if the run is meant to be this long; a run this long is more likely a loop that never ends"
        ),
        after,
        span: span.into(),
    }
}

/// How `print` shows a value: addresses in the machine's base, sizes with units.
pub fn fmt_value(v: Value, radix: units::Radix) -> String {
    match v.ty {
        Ty::Ptr { .. } => radix.addr(v.bits),
        Ty::Size => units::size_exact(v.bits),
        Ty::Bool => (v.bits != 0).to_string(),
        Ty::Nothing => "none".into(),
        Ty::Int(p) if p.signed() => (v.bits as i64).to_string(),
        Ty::Int(_) => v.bits.to_string(),
    }
}

/// The value of an integer literal as written (`1000`, `0x3e8`, `1_000`), if the text is one.
fn int_literal(text: &str) -> Option<u64> {
    let t = text.trim().replace('_', "");
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// The offset of a block statement's closing brace: what happens as the block ends (an
/// expectation's verdict, the switch back after `in`) is shown under it.
fn closing(span: Span) -> usize {
    span.end.saturating_sub(1).max(span.start)
}

/// Truncates to the type's width, sign-extending signed types.
#[inline]
fn narrow(bits: u64, ty: Ty) -> u64 {
    match ty {
        Ty::Int(p) if p.size() < 8 => {
            let w = p.size() * 8;
            let m = bits & ((1u64 << w) - 1);
            if p.signed() && m >> (w - 1) & 1 == 1 {
                m | !((1u64 << w) - 1)
            } else {
                m
            }
        }
        Ty::Bool => u64::from(bits != 0),
        _ => bits,
    }
}

impl<'a> Exec<'a> {
    pub(super) fn new(
        s: &'a mut Session,
        src: &'a str,
        res: &'a mut ChunkResult,
        ctx: &'a super::ChunkCtx,
    ) -> Self {
        let offset = s.first_line - 1;
        let mut ex = Self::with_parts(
            &mut s.world,
            &mut s.vars,
            &s.opts,
            &s.interrupt,
            src,
            res,
            ctx,
        );
        ex.line_offset = offset;
        ex
    }

    /// An executor over a world that is not a session's (each run of a `sweep`).
    pub(super) fn with_parts(
        world: &'a mut World,
        vars: &'a mut Vars,
        opts: &'a super::Options,
        interrupt: &'a super::Interrupt,
        src: &'a str,
        res: &'a mut ChunkResult,
        ctx: &'a super::ChunkCtx,
    ) -> Self {
        let sink = EventSink::new(opts.trace, opts.events_per_step);
        Exec {
            world,
            vars,
            opts,
            interrupt,
            src,
            res,
            sink,
            ctx,
            steps: 0,
            fork_limit_reported: false,
            check_at: ctx.budget.first_check(),
            line_starts: super::step::line_starts(src),
            line_offset: 0,
            unwound: Vec::new(),
            started: (std::time::Instant::now(), 0, 0),
            reported: false,
        }
    }

    fn diag(&mut self, report: Report, severity: Severity) {
        self.res.push(report, severity, &self.ctx.lines);
    }

    /// Runs the top-level statements in order, handing each finished one to `on_step` before
    /// the next starts (a notebook shows it while the rest still runs).
    pub(super) fn run_top(&mut self, stmts: &[Stmt], on_step: &mut dyn FnMut(&Step)) {
        let last_eval = stmts.len().checked_sub(1);
        for (i, st) in stmts.iter().enumerate() {
            let saved = self
                .opts
                .rollback
                .then(|| (self.world.clone(), self.vars.clone()));
            let line = self.ctx.lines.line(st.span.start) + self.line_offset;
            let source = super::step::abbreviate(
                self.src[st.span.start..st.span.end]
                    .split(['\n', '\r'])
                    .next()
                    .unwrap_or(""),
            );
            let last = Some(i) == last_eval;
            self.sink.at = st.span.start;
            if self.opts.progress.is_some() {
                self.started = (
                    std::time::Instant::now(),
                    line,
                    self.ctx.budget.used() + self.steps,
                );
            }
            let r = self.tick(st.span).and_then(|()| match &st.kind {
                // A final bare expression's value is the chunk's result (`1 + 41` shows 42).
                St::Eval(e) if last => self.eval(e).map(|v| {
                    if v.ty != Ty::Nothing {
                        self.res.value = Some(fmt_value(v, self.world.config().radix()));
                    }
                }),
                _ => self.stmt(st),
            });
            self.drain_findings();
            let mut stop = false;
            match r.map_err(|b| *b) {
                Ok(()) => {}
                Err(Stop::Signal { sig, p, span }) => self.die(sig, p, span),
                Err(Stop::Error(rep)) => {
                    self.diag(rep, Severity::Error);
                    self.res.stopped = true;
                    if let Some((w, v)) = saved {
                        *self.world = w;
                        *self.vars = v;
                    }
                    stop = true;
                }
            }
            self.after_signal();
            if std::mem::take(&mut self.reported) {
                self.progress(None, true);
            }
            let (items, dropped) = self.sink.take();
            self.res.steps.push(Step {
                line,
                source,
                runs: super::step::fold(items, self.src, &self.line_starts, self.line_offset),
                dropped,
            });
            if let Some(step) = self.res.steps.last() {
                on_step(step);
            }
            if stop {
                break;
            }
        }
    }

    /// An uncaught signal: the process dies, as on Linux.
    fn die(&mut self, sig: Sig, p: usize, span: Span) {
        let name = self.proc_label(p);
        let pid = self.world.os.procs[p].pid;
        self.sink.at = span.start;
        let (death, report) = match sig {
            Sig::Segv {
                vaddr,
                access,
                code,
                detail,
            } => {
                self.sink.push(Event::Segv {
                    pid,
                    vaddr,
                    access,
                    code,
                    detail: detail.clone(),
                });
                let help = match code {
                    SegvCode::MapErr => "the address is in no mapping (an invalid page); to check that this faults, wrap it in `expect segfault { ... }`",
                    SegvCode::AccErr => "the page is valid but its permissions forbid this access; `show maps` lists each mapping's permissions",
                    SegvCode::Kernel => "user space ends at 0x800000000000 on x86-64; higher addresses are not canonical",
                };
                (
                    Death::Segv { vaddr, code },
                    RunError::Segv {
                        access: access.name().into(),
                        addr: units::addr(vaddr),
                        process: name,
                        code: code.name().into(),
                        span: span.into(),
                        detail,
                        help: help.into(),
                    },
                )
            }
            Sig::Abort(message) => {
                self.sink.push(Event::Abort {
                    pid,
                    message: message.clone(),
                });
                (
                    Death::Abort {
                        message: message.clone(),
                    },
                    RunError::Abort {
                        message,
                        process: name,
                        span: span.into(),
                        help: "glibc checks its chunks on free and malloc; to check that this aborts, wrap it in `expect abort { ... }`".into(),
                    },
                )
            }
            Sig::Oom => (
                Death::Oom,
                RunError::Oom {
                    process: name,
                    span: span.into(),
                    help: "every frame is in use and none can be evicted; give the machine more `memory` or some `swap`".into(),
                },
            ),
        };
        self.sink.push(Event::Exit {
            pid,
            status: death.status(),
            reason: match &death {
                Death::Segv { .. } => "SIGSEGV".into(),
                Death::Abort { .. } => "SIGABRT".into(),
                Death::Oom => "SIGKILL (OOM killer)".into(),
            },
        });
        self.world.os.procs[p].death = Some(death);
        self.after_signal();
        self.res.unexpected_deaths += 1;
        self.diag(Report::new(report), Severity::Error);
    }

    /// Reports how the running statement is getting on, once it has run for a second (or
    /// its end, when a report went out).
    fn progress(&mut self, of: Option<(u64, u64)>, finished: bool) {
        let Some(f) = &self.opts.progress else {
            return;
        };
        let (start, line, steps) = self.started;
        let elapsed = start.elapsed();
        if finished || elapsed >= self.opts.progress_after {
            self.reported = !finished;
            (f.0)(&super::Progress {
                line,
                elapsed,
                steps: (self.ctx.budget.used() + self.steps).saturating_sub(steps),
                of,
                finished,
            });
        }
    }

    /// Puts back what blocks did as a signal left them, now that the signal is shown.
    fn after_signal(&mut self) {
        let items = std::mem::take(&mut self.unwound);
        self.sink.restore(items);
    }

    fn proc_label(&self, p: usize) -> String {
        let pr = &self.world.os.procs[p];
        format!("{} (pid {})", pr.name, pr.pid)
    }

    /// Counts a step; the limits are looked at in [`Exec::tick_limits`] only when one could
    /// be hit.
    #[inline(always)]
    fn tick(&mut self, span: Span) -> R<()> {
        self.steps += 1;
        if self.steps >= self.check_at {
            return self.tick_limits(span);
        }
        Ok(())
    }

    /// Adds the steps taken to the shared budget, then looks at every limit: steps, time,
    /// Ctrl-C and host memory.
    #[cold]
    #[inline(never)]
    pub(super) fn tick_limits(&mut self, span: Span) -> R<()> {
        let total = self.ctx.budget.add(std::mem::take(&mut self.steps));
        self.check_at = self.ctx.budget.next_check(total);
        let stop = |e: RunError| Err(Box::new(Stop::Error(Report::new(e))));
        if total > self.ctx.budget.max_steps() {
            return stop(steps_error(self.ctx.budget.max_steps(), span));
        }
        if self.opts.progress.is_some() {
            self.progress(None, false);
        }
        if let Some(t) = self.ctx.budget.expired() {
            return stop(timeout_error(t, span));
        }
        if self.interrupt.is_set() {
            return stop(RunError::Interrupted { span: span.into() });
        }
        if self.world.host_bytes() > self.opts.max_host_bytes {
            return stop(RunError::Limit {
                what: format!(
                    "the simulation holds more than {} of host memory",
                    units::size(self.opts.max_host_bytes as u64)
                ),
                span: span.into(),
                help: "memory contents, page tables, heap blocks and processes all take host memory; the scenario uses more than the session allows".into(),
            });
        }
        Ok(())
    }

    /// Hands the steps not yet counted to the shared budget (a sweep's run that ends).
    pub(super) fn flush_steps(&mut self) {
        self.ctx.budget.add(std::mem::take(&mut self.steps));
    }

    /// The current process, if alive.
    #[inline(always)]
    fn cur(&mut self, span: Span) -> R<usize> {
        if let Some(p) = self.world.current {
            if self.world.os.procs[p].death.is_none() {
                return Ok(p);
            }
        }
        self.cur_slow(span)
    }

    #[cold]
    fn cur_slow(&mut self, span: Span) -> R<usize> {
        let p = self.main_proc(span)?;
        if let Some(d) = &self.world.os.procs[p].death {
            let how = match d {
                Death::Segv { vaddr, code } => format!(
                    "killed by SIGSEGV ({}) at {}",
                    code.name(),
                    units::addr(*vaddr)
                ),
                Death::Abort { message } => format!("aborted: {message}"),
                Death::Oom => "killed by the OOM killer".into(),
            };
            let help = match d {
                Death::Segv { .. } => "a dead process runs nothing more; catch the fault with `expect segfault { ... }`, or switch to another process",
                Death::Abort { .. } => "a dead process runs nothing more; catch the abort with `expect abort { ... }`, or switch to another process",
                Death::Oom => "the OOM killer's victim stays dead, as on Linux, even when `expect oom { ... }` checked the kill; switch to another process to go on",
            };
            return Err(Box::new(Stop::Error(Report::new(RunError::Dead {
                process: self.proc_label(p),
                how,
                help: help.into(),
                span: span.into(),
            }))));
        }
        Ok(p)
    }

    #[cold]
    #[inline(never)]
    fn trap(t: Trap, p: usize, span: Span) -> Box<Stop> {
        let sig = match t {
            Trap::Segv {
                vaddr,
                access,
                code,
                detail,
            } => Sig::Segv {
                vaddr,
                access,
                code,
                detail,
            },
            Trap::Oom { .. } => Sig::Oom,
        };
        Box::new(Stop::Signal { sig, p, span })
    }

    #[inline(always)]
    fn access(&mut self, p: usize, addr: u64, access: Access, span: Span) -> R<u64> {
        // Whatever the access causes is shown under the line it is on.
        self.sink.at = span.start;
        let w = &mut *self.world;
        w.os.access(&mut w.mmu, p, addr, access, &mut self.sink)
            .map_err(|t| Self::trap(t, p, span))
    }

    /// Loads `width` bytes (little-endian); an access that crosses a page touches both pages.
    #[inline]
    fn load(&mut self, addr: u64, width: u8, span: Span) -> R<u64> {
        let p = self.cur(span)?;
        self.load_at(p, addr, width, span)
    }

    /// [`Exec::load`] by process `p`, known to be the current one and alive.
    #[inline(always)]
    fn load_at(&mut self, p: usize, addr: u64, width: u8, span: Span) -> R<u64> {
        let ps = self.world.mmu.page_size();
        let w = width as usize;
        let v = if (addr & (ps - 1)) + width as u64 <= ps {
            let pa = self.access(p, addr, Access::Read, span)?;
            self.world.mmu.load_phys(pa, w)
        } else {
            let mut b = [0u8; 8];
            for (i, byte) in b[..w].iter_mut().enumerate() {
                let pa = self.access(p, addr.wrapping_add(i as u64), Access::Read, span)?;
                let mut one = [0u8];
                self.world.mmu.read_phys(pa, &mut one);
                *byte = one[0];
            }
            u64::from_le_bytes(b)
        };
        self.check_heap(p, addr, width, false, span);
        Ok(v)
    }

    #[inline]
    fn store(&mut self, addr: u64, width: u8, value: u64, span: Span) -> R<()> {
        let p = self.cur(span)?;
        self.store_at(p, addr, width, value, span)
    }

    /// [`Exec::store`] by process `p`, known to be the current one and alive.
    #[inline(always)]
    fn store_at(&mut self, p: usize, addr: u64, width: u8, value: u64, span: Span) -> R<()> {
        let ps = self.world.mmu.page_size();
        let b = value.to_le_bytes();
        let w = width as usize;
        if (addr & (ps - 1)) + width as u64 <= ps {
            let pa = self.access(p, addr, Access::Write, span)?;
            self.world.mmu.store_phys(pa, w, value);
        } else {
            for (i, byte) in b[..w].iter().enumerate() {
                let pa = self.access(p, addr.wrapping_add(i as u64), Access::Write, span)?;
                self.world.mmu.write_phys(pa, &[*byte]);
            }
        }
        self.check_heap(p, addr, width, true, span);
        Ok(())
    }

    /// Memory-safety check of a program access that did not fault: only accesses inside an
    /// allocator's regions go further than one range compare.
    #[inline(always)]
    fn check_heap(&mut self, p: usize, addr: u64, width: u8, write: bool, span: Span) {
        if let Some(t) = self.world.safety.get_mut(p) {
            if !t.settled(addr, u64::from(width)) && t.watches(addr) {
                Self::check_heap_access(t, addr, width, write, span);
            }
        }
    }

    /// The tracker's look at an access that is not one more in a block already all written.
    #[inline(never)]
    fn check_heap_access(t: &mut Safety, addr: u64, width: u8, write: bool, span: Span) {
        t.access(addr, u64::from(width), write, (span.start, span.end));
    }

    /// Turns the trackers' findings into warnings at the statements they are about.
    fn drain_findings(&mut self) {
        for i in 0..self.world.safety.len() {
            for f in self.world.safety[i].take_findings() {
                let f = self.name_process(f, i);
                self.diag(Report::new(HeapFinding::from_finding(f)), Severity::Warning);
            }
        }
    }

    /// Blocks still allocated at the end of a scenario, in every process still alive.
    pub(super) fn report_leaks(&mut self) {
        if self.res.stopped {
            return;
        }
        self.world_leaks();
    }

    /// Blocks still allocated in the current world, in every process still alive.
    fn world_leaks(&mut self) {
        self.drain_findings();
        for p in 0..self.world.safety.len() {
            if self
                .world
                .os
                .procs
                .get(p)
                .is_some_and(|pr| pr.death.is_none())
            {
                for mut f in self.world.tracker(p).end_leaks() {
                    // A block allocated in an earlier chunk points into another source.
                    if f.site.1 > self.src.len() {
                        f.site = (0, 0);
                    }
                    let f = self.name_process(f, p);
                    self.diag(Report::new(HeapFinding::from_finding(f)), Severity::Warning);
                }
            }
        }
    }

    /// With several processes, a finding says whose heap it is about: after `fork` the same
    /// block, at the same address, is in each.
    fn name_process(
        &self,
        mut f: crate::heap::safety::Finding,
        p: usize,
    ) -> crate::heap::safety::Finding {
        if self.world.os.procs.len() > 1 && p < self.world.os.procs.len() {
            f.message = format!("{}, in process {}", f.message, self.proc_label(p));
        }
        f
    }

    fn site(&self, span: Span) -> Site {
        Site {
            line: self.ctx.lines.line(span.start) + self.line_offset,
            span: (span.start, span.end),
        }
    }
    fn block(&mut self, stmts: &[Stmt]) -> R<()> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    /// The statements a loop body is made of, kept in a small function so each one costs a
    /// few instructions; everything else goes to [`Exec::stmt_other`].
    #[inline]
    fn stmt(&mut self, s: &Stmt) -> R<()> {
        // Steps are counted per top-level statement and per loop iteration: every unbounded
        // amount of work goes through one of those.
        self.sink.at = s.span.start;
        match &s.kind {
            St::SetVar { slot, value } => {
                let v = self.operand(value)?;
                self.vars.set(*slot, v);
            }
            St::Store { addr, width, value } => {
                let a = self.operand(addr)?;
                let v = self.operand(value)?;
                self.store(a.bits, *width, v.bits, s.span)?;
            }
            St::Eval(e) => {
                self.eval(e)?;
            }
            St::For {
                slot,
                start,
                end,
                inclusive,
                body,
            } => {
                let a = self.eval(start)?.bits as i64;
                let b = self.eval(end)?.bits as i64;
                let b = if *inclusive { b.saturating_add(1) } else { b };
                let mut i = a;
                if self.opts.compile_loops
                    && b > a
                    && b.wrapping_sub(a) as u64 >= compiled::MIN_TRIPS
                {
                    // The first iteration runs here: the types its `let`s leave are mostly
                    // those every later one keeps, so the compiled rest seldom writes one.
                    self.vars.set(*slot, Value::long(i));
                    self.tick(s.span)?;
                    self.block(body)?;
                    i += 1;
                    if let Some(prog) = compiled::compile(Some(*slot), body, s.span, self.vars) {
                        return self.run_compiled(&prog, i as u64, b as u64);
                    }
                }
                while i < b {
                    self.vars.set(*slot, Value::long(i));
                    self.tick(s.span)?;
                    self.block(body)?;
                    i += 1;
                }
            }
            St::Repeat { count, body } => {
                let mut n = self.eval(count)?.bits;
                if self.opts.compile_loops && n >= compiled::MIN_TRIPS {
                    // The first iteration runs here, as for `for`.
                    self.tick(s.span)?;
                    self.block(body)?;
                    n -= 1;
                    if let Some(prog) = compiled::compile(None, body, s.span, self.vars) {
                        return self.run_compiled(&prog, n, 0);
                    }
                }
                for _ in 0..n {
                    self.tick(s.span)?;
                    self.block(body)?;
                }
            }
            St::If {
                cond,
                then,
                otherwise,
            } => {
                if self.eval(cond)?.truthy() {
                    self.block(then)?;
                } else {
                    self.block(otherwise)?;
                }
            }
            _ => self.stmt_other(s)?,
        }
        Ok(())
    }

    #[inline(never)]
    fn stmt_other(&mut self, s: &Stmt) -> R<()> {
        match &s.kind {
            St::Machine(cfg) => {
                // The machine it replaces ends here: its leaks and counters belong to the
                // file's report as much as the last machine's.
                if self.opts.report_leaks {
                    self.world_leaks();
                }
                self.res.stats = self.world.stats().after(&self.res.stats);
                *self.world = World::new(cfg);
            }
            St::Process(spec) => {
                if self.world.os.procs.iter().any(|p| p.name == spec.name) {
                    return Err(err(
                        s.span,
                        format!("a process named `{}` exists already", spec.name),
                        "declared again",
                        "give each process its own name",
                    ));
                }
                self.world
                    .spawn(spec, &mut self.sink)
                    .map_err(|e| layout_err(s.span, e))?;
            }
            St::Thread {
                process,
                name,
                stack,
            } => {
                let p = match process {
                    Some(n) => self.find_proc(n, s.span)?,
                    None => self.cur(s.span)?,
                };
                if self.world.os.tasks() >= crate::os::MAX_PROCS {
                    return Err(err(
                        s.span,
                        format!(
                            "cannot create thread `{name}`: the machine holds at most {} processes and threads (EAGAIN)",
                            crate::os::MAX_PROCS
                        ),
                        "one too many",
                        "a thread counts against the same limit as a process, as under `ulimit -u`",
                    ));
                }
                if self.world.os.procs[p]
                    .threads
                    .iter()
                    .any(|t| &t.name == name)
                {
                    return Err(err(
                        s.span,
                        format!(
                            "process {} has a thread named `{name}` already",
                            self.proc_label(p)
                        ),
                        "declared again",
                        "give each thread of a process its own name",
                    ));
                }
                if self.world.os.spawn_thread(p, name, *stack).is_none() {
                    return Err(err(
                        s.span,
                        "no room for the thread's stack",
                        "cannot map",
                        "use a smaller `stack` size",
                    ));
                }
            }
            St::Print(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for it in items {
                    parts.push(match &it.kind {
                        Ex::Str(t) => t.clone(),
                        _ => fmt_value(self.eval(it)?, self.world.config().radix()),
                    });
                }
                self.sink.output(Output::Print {
                    text: parts.join(" "),
                });
            }
            St::Show(what) => {
                let snap = self.show(what, s.span)?;
                self.sink.output(Output::Show { snapshot: snap });
            }
            St::Expect { what, body } => self.expect(what, body, s.span)?,
            St::In { target, body } => {
                let (p, t) = self.resolve_target(target)?;
                let saved = (self.world.current, self.world.thread);
                self.switch(p, t);
                let r = self.block(body);
                self.sink.at = closing(s.span);
                if let (Some(old), th) = saved {
                    let mark = self.sink.len();
                    self.switch(old, th);
                    if matches!(r.as_ref().map_err(|b| &**b), Err(Stop::Signal { .. })) {
                        // The signal is shown first, where it is handled: it came first.
                        let back = self.sink.split_off(mark);
                        self.unwound.extend(back);
                    }
                }
                r?;
            }
            St::Switch(target) => {
                let (p, t) = self.resolve_target(target)?;
                self.switch(p, t);
            }
            St::Call { frame, body, .. } => {
                let size = self.eval(frame)?;
                let p = self.cur(s.span)?;
                self.need_stack(p, "call", s.span)?;
                let size = stack_amount(size, "frame size", frame.span)?;
                let old = self.sp(p);
                let new = self.push_frame(p, old, size, s.span)?;
                self.set_sp(p, new);
                let r = self.block(body);
                self.set_sp(p, old);
                r?;
            }
            St::Local { slot, ty, size } => {
                let p = self.cur(s.span)?;
                self.need_stack(p, "local", s.span)?;
                let Some(new) = self.sp(p).checked_sub(*size) else {
                    return Err(stack_err(
                        s.span,
                        format!(
                            "a local of {} does not fit below the stack pointer {}",
                            units::size(*size),
                            units::addr(self.sp(p))
                        ),
                        "too large",
                        "use a smaller local",
                    ));
                };
                let new = new & !15;
                self.set_sp(p, new);
                self.vars.set(*slot, Value::new(new, *ty));
            }
            St::Recurse { depth, frame, .. } => {
                let n = self.eval(depth)?;
                let size = self.eval(frame)?;
                let p = self.cur(s.span)?;
                self.need_stack(p, "recurse", s.span)?;
                let n = stack_amount(n, "recursion depth", depth.span)?;
                let size = stack_amount(size, "frame size", frame.span)?;
                if size == 0 && n > 0 {
                    return Err(stack_err(
                        frame.span,
                        "a recursion of 0-byte frames never uses the stack",
                        "0 bytes per frame",
                        "give each frame a size, such as `frame 1 KiB`",
                    ));
                }
                let old = self.sp(p);
                let mut sp = old;
                let r: R<()> = (|| {
                    for _ in 0..n {
                        self.tick(s.span)?;
                        sp = self.push_frame(p, sp, size, s.span)?;
                    }
                    Ok(())
                })();
                self.set_sp(p, old);
                r?;
            }
            St::Touch {
                write,
                base,
                start,
                end,
                inclusive,
                step,
                value,
            } => {
                let b = self.eval(base)?.bits;
                let lo = self.eval(start)?.bits;
                let mut hi = self.eval(end)?.bits;
                if *inclusive {
                    hi = hi.saturating_add(1);
                }
                let v = match value {
                    Some(v) => self.eval(v)?.bits,
                    None => 0,
                };
                let ps = self.world.mmu.page_size();
                let step = match step {
                    Some(st) => Some(self.eval(st)?.bits.max(1)),
                    None => None,
                };
                let mut off = lo;
                while off < hi {
                    self.tick(s.span)?;
                    // Past the top of user space the access faults before the sum wraps.
                    let a = b.saturating_add(off);
                    if *write {
                        self.store(a, 1, v, s.span)?;
                    } else {
                        self.load(a, 1, s.span)?;
                    }
                    off = match step {
                        Some(st) => off.saturating_add(st),
                        // One access per page: the next page boundary.
                        None => off.saturating_add(ps - (a & (ps - 1))),
                    };
                }
            }
            St::Refs(items) => self.refs(items, s.span)?,
            St::Trace { path, full } => self.trace(path, full, s.span)?,
            St::Sweep(sw) => self.sweep(sw, s.span)?,
            // Loop-body statements: handled in `stmt`.
            St::SetVar { .. }
            | St::Store { .. }
            | St::Eval(_)
            | St::For { .. }
            | St::Repeat { .. }
            | St::If { .. } => return self.stmt(s),
        }
        Ok(())
    }

    fn sp(&self, p: usize) -> u64 {
        match self.world.thread {
            Some(t) if self.world.current == Some(p) => self.world.os.procs[p].threads[t].sp,
            _ => self.world.os.procs[p].sp,
        }
    }

    fn set_sp(&mut self, p: usize, v: u64) {
        match self.world.thread {
            Some(t) if self.world.current == Some(p) => self.world.os.procs[p].threads[t].sp = v,
            _ => self.world.os.procs[p].sp = v,
        }
    }

    /// A statement that uses the main stack needs one: a teaching machine's explicit layout
    /// may have left it out. A thread always has its own.
    fn need_stack(&mut self, p: usize, what: &str, span: Span) -> R<()> {
        let on_thread = self.world.thread.is_some() && self.world.current == Some(p);
        let pr = &self.world.os.procs[p];
        if on_thread || pr.has_stack {
            return Ok(());
        }
        Err(stack_err(
            span,
            format!("process {} has no stack for `{what}`", pr.name),
            "needs a stack",
            format!(
                "list one in the process's regions: `process {} {{ stack 4 KiB }}`",
                pr.name
            ),
        ))
    }

    /// Pushes a frame of `size` bytes below `sp` (16-byte aligned) and writes its pages;
    /// returns the new stack pointer. A frame larger than the space below `sp` overflows the
    /// stack: the writes fault before they reach address 0.
    fn push_frame(&mut self, p: usize, sp: u64, size: u64, span: Span) -> R<u64> {
        let new = sp.checked_sub(size).map(|n| n & !15);
        self.touch_frame(p, new.unwrap_or(0), sp, span)?;
        new.ok_or_else(|| {
            stack_err(
                span,
                format!(
                    "a frame of {} does not fit below the stack pointer {}",
                    units::size(size),
                    units::addr(sp)
                ),
                "too large",
                "use a smaller frame",
            )
        })
    }

    /// A new stack frame writes its pages, from the top (the return address) down.
    fn touch_frame(&mut self, p: usize, low: u64, high: u64, span: Span) -> R<()> {
        let ps = self.world.mmu.page_size();
        let Some(mut a) = high.checked_sub(8) else {
            return Ok(());
        };
        while a >= low {
            self.access(p, a, Access::Write, span)?;
            match (a & !(ps - 1)).checked_sub(8) {
                Some(next) if next >= low => a = next,
                _ => break,
            }
        }
        Ok(())
    }

    /// The current process, creating the implicit `main` on first use: a diagnostic at `span`
    /// when the default layout does not fit the machine.
    fn main_proc(&mut self, span: Span) -> R<usize> {
        self.world.current().map_err(|e| layout_err(span, e))
    }

    fn find_proc(&mut self, name: &str, span: Span) -> R<usize> {
        if name == "main" && self.world.os.procs.is_empty() {
            return self.main_proc(span);
        }
        self.world
            .os
            .procs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| {
                err(
                    span,
                    format!("no process `{name}`"),
                    "unknown process",
                    "declare it first: `process NAME`",
                )
            })
    }

    fn resolve_target(&mut self, t: &TExpr) -> R<(usize, Option<usize>)> {
        match &t.kind {
            Ex::ProcName(n) => {
                if let Some((pn, tn)) = n.split_once('.') {
                    let p = self.find_proc(pn, t.span)?;
                    let th = self.world.os.procs[p]
                        .threads
                        .iter()
                        .position(|x| x.name == tn);
                    return match th {
                        Some(i) => Ok((p, Some(i))),
                        None => Err(err(
                            t.span,
                            format!("process `{pn}` has no thread `{tn}`"),
                            "unknown thread",
                            "declare it: `thread P.NAME stack 64 KiB`",
                        )),
                    };
                }
                if let Ok(p) = self.find_proc(n, t.span) {
                    return Ok((p, None));
                }
                let cur = self.main_proc(t.span)?;
                match self.world.os.procs[cur]
                    .threads
                    .iter()
                    .position(|x| &x.name == n)
                {
                    Some(i) => Ok((cur, Some(i))),
                    None => Err(err(
                        t.span,
                        format!("no process or thread `{n}`"),
                        "unknown",
                        "declare it first",
                    )),
                }
            }
            _ => {
                let pid = self.eval(t)?.bits;
                match self
                    .world
                    .os
                    .procs
                    .iter()
                    .position(|p| u64::from(p.pid) == pid)
                {
                    Some(p) => Ok((p, None)),
                    None => Err(err(
                        t.span,
                        format!("no process with pid {pid}"),
                        "unknown pid",
                        "use a pid returned by `fork()` or a process name",
                    )),
                }
            }
        }
    }

    fn switch(&mut self, p: usize, thread: Option<usize>) {
        let from = self.world.current.unwrap_or(p);
        if from != p {
            let asid = self.world.os.procs[p].asid;
            self.world.mmu.switch_to(asid);
            let flushed = !self.world.config().pcid;
            self.sink.push(Event::Switch {
                from: self.world.os.procs[from].pid,
                to: self.world.os.procs[p].pid,
                tlb_flushed: flushed,
            });
        }
        self.world.current = Some(p);
        self.world.thread = thread;
    }

    fn expect(&mut self, what: &ExpectIr, body: &[Stmt], span: Span) -> R<()> {
        let text = self.src[span.start..span.end]
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        // A block's verdict comes when the block ends: it is shown under the closing brace.
        let verdict_at = match what {
            ExpectIr::Cond(_) => span.start,
            _ => closing(span),
        };
        let failed = |this: &mut Self, message: String, label: String, help: &str| {
            this.res.expectations_failed += 1;
            this.sink.at = verdict_at;
            this.sink.output(Output::Expect {
                passed: false,
                text: text.clone(),
            });
            this.diag(
                Report::new(RunError::Expect {
                    message,
                    span: span.into(),
                    label,
                    help: help.into(),
                }),
                Severity::Error,
            );
        };
        let passed = |this: &mut Self| {
            this.res.expectations_passed += 1;
            this.sink.at = verdict_at;
            this.sink.output(Output::Expect {
                passed: true,
                text: text.clone(),
            });
        };
        match what {
            ExpectIr::Cond(c) => {
                // A comparison's sides are evaluated once: a failure message must not repeat
                // the loads (and their faults) it reports on.
                let (v, sides) = match &c.kind {
                    Ex::Binary(op, kind, l, r) if is_comparison(*op) => {
                        let lv = self.eval(l)?;
                        let rv = self.eval(r)?;
                        (self.apply(*op, *kind, lv, rv, c)?, Some((l, lv, r, rv)))
                    }
                    _ => (self.eval(c)?, None),
                };
                if v.truthy() {
                    passed(self);
                } else {
                    let src = &self.src[c.span.start..c.span.end];
                    let (message, label) = match sides {
                        Some((l, lv, r, rv)) => {
                            let radix = self.world.config().radix();
                            // A number compared with a pointer is an address: `p == 0x3e8`
                            // shows both sides alike, so it reads `p is 0x3f2`.
                            let side = |v: Value, other: Value| match (v.ty, other.ty) {
                                (Ty::Int(_), Ty::Ptr { .. }) if (v.bits as i64) >= 0 => {
                                    radix.addr(v.bits)
                                }
                                _ => fmt_value(v, radix),
                            };
                            let rbits = rv.bits;
                            let (lv, rv) = (side(lv, rv), side(rv, lv));
                            let ls = &self.src[l.span.start..l.span.end];
                            let rs = &self.src[r.span.start..r.span.end];
                            (
                                // A literal says its own value, in whichever base it was written.
                                if rs == rv || int_literal(rs) == Some(rbits) {
                                    format!("expected {src}, but {ls} is {lv}")
                                } else {
                                    format!("expected {src}, but {ls} is {lv} and {rs} is {rv}")
                                },
                                format!("{ls} is {lv}"),
                            )
                        }
                        None => (
                            format!(
                                "expected {src}, but it is {}",
                                fmt_value(v, self.world.config().radix())
                            ),
                            "false".into(),
                        ),
                    };
                    failed(
                        self,
                        message,
                        label,
                        "the scenario's expectation does not match what the simulated machine did; `show stats` and the trace above say why",
                    );
                }
            }
            ExpectIr::Segfault(code) => {
                // A dead process cannot be expected to fault: that is the `mem::dead` error.
                self.cur(span)?;
                match self.block(body).map_err(|b| *b) {
                    Ok(()) => failed(
                        self,
                        "expected a segmentation fault, but the block ran to the end".into(),
                        "no SIGSEGV in this block".into(),
                        "every access in the block was valid; `show maps` lists what is mapped",
                    ),
                    Err(Stop::Signal {
                        sig:
                            Sig::Segv {
                                vaddr,
                                access,
                                code: got,
                                detail,
                            },
                        p: sp_,
                        ..
                    }) => {
                        let pid = self.world.os.procs[sp_].pid;
                        self.sink.push(Event::Segv {
                            pid,
                            vaddr,
                            access,
                            code: got,
                            detail: detail.clone(),
                        });
                        self.after_signal();
                        let ok = match code {
                            None => true,
                            Some(WantSegv::MapErr) => got == SegvCode::MapErr,
                            Some(WantSegv::AccErr) => got == SegvCode::AccErr,
                        };
                        if ok {
                            passed(self);
                        } else {
                            failed(self, format!("expected {}, but the fault was {} ({detail})", if *code == Some(WantSegv::MapErr) { "SEGV_MAPERR" } else { "SEGV_ACCERR" }, got.name()), format!("{} at {}", got.name(), units::addr(vaddr)), "SEGV_MAPERR: no mapping; SEGV_ACCERR: a mapping that forbids the access");
                        }
                    }
                    Err(e) => return Err(Box::new(e)),
                }
            }
            ExpectIr::Fault(kind) => {
                let before = self.world.stats();
                self.block(body)?;
                let after = self.world.stats();
                let minor = after.minor - before.minor;
                let major = after.major - before.major;
                let (ok, want) = match kind {
                    FaultExpect::Any => (minor + major > 0, "a page fault"),
                    FaultExpect::Minor => (minor > 0, "a minor fault"),
                    FaultExpect::Major => (major > 0, "a major fault"),
                    FaultExpect::None => (minor + major == 0, "no page fault"),
                };
                if ok {
                    passed(self);
                } else {
                    failed(
                        self,
                        format!(
                            "expected {want}, but the block took {} and {}",
                            units::count(minor, "minor fault"),
                            units::count(major, "major fault")
                        ),
                        format!("{minor} minor, {major} major"),
                        "a first touch is a fault; a page already present is not",
                    );
                }
            }
            ExpectIr::Abort => match self.block(body).map_err(|b| *b) {
                Ok(()) => failed(
                    self,
                    "expected glibc to abort, but the block ran to the end".into(),
                    "no abort".into(),
                    "glibc aborts on double free, invalid pointers and corrupted chunks",
                ),
                Err(Stop::Signal {
                    sig: Sig::Abort(m),
                    p,
                    ..
                }) => {
                    let pid = self.world.os.procs[p].pid;
                    self.sink.push(Event::Abort { pid, message: m });
                    self.after_signal();
                    passed(self);
                }
                Err(e) => return Err(Box::new(e)),
            },
            ExpectIr::Oom => match self.block(body).map_err(|b| *b) {
                Ok(()) => failed(
                    self,
                    "expected the OOM killer, but the block ran to the end".into(),
                    "memory sufficed".into(),
                    "make the machine's `memory` smaller or touch more pages",
                ),
                Err(Stop::Signal {
                    sig: Sig::Oom, p, ..
                }) => {
                    self.world.os.procs[p].death = Some(Death::Oom);
                    let pid = self.world.os.procs[p].pid;
                    self.sink.push(Event::Exit {
                        pid,
                        status: 137,
                        reason: "SIGKILL (OOM killer)".into(),
                    });
                    self.after_signal();
                    passed(self);
                }
                Err(e) => return Err(Box::new(e)),
            },
            ExpectIr::Warning(kind) => {
                let p = self.cur(span)?;
                let mark = self.world.tracker(p).expect_begin();
                let r = self.block(body);
                if kind == "leak" {
                    let vars = &*self.vars;
                    let reachable =
                        |lo: u64, hi: u64| vars.all_bits().iter().any(|v| (lo..hi).contains(v));
                    self.world
                        .tracker(p)
                        .leaks_since(mark, &reachable, (span.start, span.end));
                }
                let hit = self.world.tracker(p).expect_end(mark, kind);
                r?;
                if hit {
                    passed(self);
                } else {
                    failed(
                        self,
                        format!("expected a finding of kind `{kind}`, but the block had none"),
                        format!("no {kind} here"),
                        "overflow: an access outside every live block; use_after_free: inside a freed one; uninit: a load of bytes never written; leak: a block allocated here that no variable points to when it ends",
                    );
                }
            }
        }
        Ok(())
    }

    fn stat(&self, name: &str) -> u64 {
        let s = self.world.stats();
        match name {
            "faults" => s.faults,
            "minor" => s.minor,
            "major" => s.major,
            "segv" => s.segv,
            "accesses" => s.accesses,
            "tlb.hits" => s.tlb_hits,
            "tlb.misses" => s.tlb_misses,
            "walks" => s.walks,
            "walk_refs" => s.walk_refs,
            "evictions" => s.evictions,
            "swap_ins" => s.swap_ins,
            "swap_outs" => s.swap_outs,
            "writebacks" => s.writebacks,
            "references" => s.references,
            "stack_growths" => s.stack_growths,
            "cow_copies" => s.cow_copies,
            _ => 0,
        }
    }

    /// Evaluates an operand, answering variables and constants without a recursive call:
    /// they are most operands in loops, and the call is most of their cost.
    #[inline(always)]
    fn operand(&mut self, e: &TExpr) -> R<Value> {
        match e.kind {
            Ex::Var(slot) => Ok(self.vars.get(slot)),
            Ex::Const(v) => Ok(Value::new(v, e.ty)),
            _ => self.eval(e),
        }
    }

    fn eval(&mut self, e: &TExpr) -> R<Value> {
        let bits = match &e.kind {
            Ex::Const(v) => *v,
            Ex::Var(slot) => return Ok(self.vars.get(*slot)),
            Ex::Str(_) | Ex::Perms(..) | Ex::FileArg(..) | Ex::ProcName(_) => 0,
            Ex::Special(s) => return self.special(s, e),
            Ex::Unary(op, inner) => {
                let v = self.eval(inner)?;
                narrow(
                    match op {
                        UnOp::Neg => v.bits.wrapping_neg(),
                        UnOp::BitNot => !v.bits,
                        UnOp::Not => u64::from(!v.truthy()),
                    },
                    e.ty,
                )
            }
            Ex::Binary(op, kind, l, r) => {
                if matches!(op, BinOp::And | BinOp::Or) {
                    let lv = self.eval(l)?.truthy();
                    let v = match op {
                        BinOp::And => lv && self.eval(r)?.truthy(),
                        _ => lv || self.eval(r)?.truthy(),
                    };
                    return Ok(Value::new(u64::from(v), Ty::Bool));
                }
                let a = self.operand(l)?;
                let b = self.operand(r)?;
                return self.apply(*op, *kind, a, b, e);
            }
            Ex::Load {
                addr,
                width,
                signed,
            } => {
                let a = self.eval(addr)?.bits;
                let raw = self.load(a, *width, e.span)?;
                if *signed && *width < 8 {
                    let w = u32::from(*width) * 8;
                    (((raw << (64 - w)) as i64) >> (64 - w)) as u64
                } else {
                    raw
                }
            }
            Ex::Cast(inner) => narrow(self.eval(inner)?.bits, e.ty),
            Ex::Call(b, args) => return self.call(*b, args, e),
        };
        Ok(Value::new(bits, e.ty))
    }

    #[inline]
    fn apply(&mut self, op: BinOp, kind: BinKind, a: Value, b: Value, e: &TExpr) -> R<Value> {
        if a.ty == Ty::Nothing || b.ty == Ty::Nothing {
            // Only `==` and `!=` reach here with `none` (the checker sees to it).
            let same = (a.ty == Ty::Nothing) == (b.ty == Ty::Nothing)
                && (a.ty == Ty::Nothing || a.bits == b.bits);
            return Ok(Value::new(u64::from(same == (op == BinOp::Eq)), Ty::Bool));
        }
        Ok(Value::new(self.binary(op, kind, a.bits, b.bits, e)?, e.ty))
    }

    #[inline]
    fn binary(&mut self, op: BinOp, kind: BinKind, a: u64, b: u64, e: &TExpr) -> R<u64> {
        use BinOp::*;
        Ok(match kind {
            BinKind::PtrOffset { scale } => match op {
                Sub => a.wrapping_sub(b.wrapping_mul(scale)),
                _ => a.wrapping_add(b.wrapping_mul(scale)),
            },
            BinKind::PtrDiff { scale } => ((a.wrapping_sub(b) as i64) / scale.max(1) as i64) as u64,
            BinKind::Int { signed } => match op {
                Add => a.wrapping_add(b),
                Sub => a.wrapping_sub(b),
                Mul => a.wrapping_mul(b),
                Div | Rem => {
                    if b == 0 {
                        return Err(err(
                            e.span,
                            "division by zero",
                            "the divisor is 0",
                            "check the divisor first with `if`",
                        ));
                    }
                    match (op, signed) {
                        (Div, true) => (a as i64).wrapping_div(b as i64) as u64,
                        (Div, false) => a / b,
                        (_, true) => (a as i64).wrapping_rem(b as i64) as u64,
                        (_, false) => a % b,
                    }
                }
                BitAnd => a & b,
                BitOr => a | b,
                BitXor => a ^ b,
                Shl => a.wrapping_shl(b as u32),
                Shr if signed => ((a as i64).wrapping_shr(b as u32)) as u64,
                Shr => a.wrapping_shr(b as u32),
                Eq => u64::from(a == b),
                Ne => u64::from(a != b),
                Lt | Le | Gt | Ge => {
                    let ord = if signed {
                        (a as i64).cmp(&(b as i64))
                    } else {
                        a.cmp(&b)
                    };
                    u64::from(match op {
                        Lt => ord.is_lt(),
                        Le => ord.is_le(),
                        Gt => ord.is_gt(),
                        _ => ord.is_ge(),
                    })
                }
                And | Or => unreachable_logic(),
            },
        })
    }

    fn special(&mut self, s: &Special, e: &TExpr) -> R<Value> {
        let p = self.main_proc(e.span)?;
        let ps = self.world.mmu.page_size();
        let pr = &self.world.os.procs[p];
        let bits = match s {
            Special::Brk => pr.brk,
            Special::Sp => self.sp(p),
            Special::Rss => self.world.os.rss_pages(&self.world.mmu, p) * ps,
            Special::Vsz => pr
                .vmas
                .iter()
                .filter(|v| v.start < self.world.os.user_limit())
                .map(|v| v.len())
                .sum(),
            Special::PageSize => ps,
            Special::Pid => u64::from(pr.pid),
            Special::Stat(n) => self.stat(n),
            Special::Region(name, field) => {
                let role = match name.as_str() {
                    "text" => Some(Role::Text),
                    "rodata" => Some(Role::Rodata),
                    "data" => Some(Role::Data),
                    "bss" => Some(Role::Bss),
                    "stack" => Some(Role::Stack),
                    "heap" => Some(Role::Heap),
                    _ => None,
                };
                let found = match role {
                    Some(Role::Heap) => Some((pr.brk_start, pr.brk.max(pr.brk_start))),
                    Some(Role::Bss) => pr
                        .vmas
                        .find_role(Role::Bss)
                        .or_else(|| pr.vmas.find_role(Role::Data))
                        .map(|v| (v.start, v.end)),
                    Some(r) => pr.vmas.find_role(r).map(|v| (v.start, v.end)),
                    None => pr
                        .vmas
                        .iter()
                        .find(|v| *v.name == **name)
                        .map(|v| (v.start, v.end))
                        .or_else(|| {
                            pr.threads
                                .iter()
                                .find(|t| &t.name == name)
                                .map(|t| (t.stack_start, t.stack_end))
                        }),
                };
                let Some((start, end)) = found else {
                    return Err(err(
                        e.span,
                        format!("process {} has no region `{name}`", pr.name),
                        "no such region",
                        "`show maps` lists the regions",
                    ));
                };
                match field {
                    RegionField::Start => start,
                    RegionField::End => end,
                    RegionField::Size => end - start,
                }
            }
        };
        Ok(Value::new(bits, e.ty))
    }

    /// `memset` / `memcpy` ranges: checked at their ends, written ones marked initialised.
    fn check_range(&mut self, p: usize, addr: u64, n: u64, write: bool, span: Span) {
        if let Some(t) = self.world.safety.get_mut(p) {
            t.range(addr, n, write, (span.start, span.end));
        }
    }

    fn heap_call<T>(
        &mut self,
        p: usize,
        span: Span,
        f: impl FnOnce(
            &mut dyn crate::heap::Allocator,
            &mut dyn crate::heap::Memory,
        ) -> Result<T, HeapError>,
    ) -> R<T> {
        self.world
            .with_heap(p, &mut self.sink, f)
            .map_err(|e| match e {
                HeapError::Abort(m) => Box::new(Stop::Signal {
                    sig: Sig::Abort(m),
                    p,
                    span,
                }),
                HeapError::Trap(t) => Self::trap(t, p, span),
            })
    }

    fn call(&mut self, b: Builtin, args: &[TExpr], e: &TExpr) -> R<Value> {
        let span = e.span;
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a)?.bits);
        }
        let arg = |i: usize| vals.get(i).copied().unwrap_or(0);
        let ps = self.world.mmu.page_size();
        let bits = match b {
            Builtin::GetPageSize => ps,
            Builtin::PageOf => arg(0) >> self.world.mmu.page_shift(),
            Builtin::OffsetOf => arg(0) & (ps - 1),
            Builtin::FrameOf => {
                let p = self.main_proc(span)?;
                let asid = self.world.os.procs[p].asid;
                let ent = self
                    .world
                    .mmu
                    .pte(asid, arg(0) >> self.world.mmu.page_shift());
                if ent & pte::PRESENT != 0 && ent & pte::ZERO == 0 {
                    pte::pfn(ent)
                } else {
                    return Ok(Value::new(0, Ty::Nothing));
                }
            }
            Builtin::Malloc => {
                let p = self.cur(span)?;
                let ptr = self.heap_call(p, span, |h, m| h.malloc(m, arg(0)))?;
                let (n, zeroed) = (arg(0), false);
                self.world
                    .after_heap_call(p, HeapCall::Alloc { ptr, n, zeroed }, self.site(span));
                ptr
            }
            Builtin::Calloc => {
                let p = self.cur(span)?;
                let ptr = self.heap_call(p, span, |h, m| h.calloc(m, arg(0), arg(1)))?;
                let (n, zeroed) = (arg(0).saturating_mul(arg(1)), true);
                self.world
                    .after_heap_call(p, HeapCall::Alloc { ptr, n, zeroed }, self.site(span));
                ptr
            }
            Builtin::Realloc => {
                let p = self.cur(span)?;
                let new = self.heap_call(p, span, |h, m| h.realloc(m, arg(0), arg(1)))?;
                let (old, n) = (arg(0), arg(1));
                self.world
                    .after_heap_call(p, HeapCall::Realloc { old, new, n }, self.site(span));
                new
            }
            Builtin::Free => {
                let p = self.cur(span)?;
                self.heap_call(p, span, |h, m| h.free(m, arg(0)))?;
                let ptr = arg(0);
                self.world
                    .after_heap_call(p, HeapCall::Free { ptr }, self.site(span));
                return Ok(Value::new(0, Ty::Nothing));
            }
            Builtin::UsableSize => {
                let p = self.main_proc(span)?;
                self.world.heaps[p].usable_size(arg(0))
            }
            Builtin::Memset => {
                let p = self.cur(span)?;
                let (dst, byte, n) = (arg(0), arg(1) as u8, arg(2));
                self.heap_call(p, span, |_, m| {
                    let chunk = vec![byte; ps as usize];
                    let mut off = 0;
                    while off < n {
                        // Past the top of user space the write faults before the sum wraps.
                        let a = dst.saturating_add(off);
                        let k = (n - off).min(ps - (a & (ps - 1)));
                        m.write(a, &chunk[..k as usize])?;
                        off += k;
                    }
                    Ok(())
                })?;
                self.check_range(p, dst, n, true, span);
                dst
            }
            Builtin::Memcpy => {
                let p = self.cur(span)?;
                let (dst, src, n) = (arg(0), arg(1), arg(2));
                self.heap_call(p, span, |_, m| {
                    let mut buf = vec![0u8; ps as usize];
                    let mut off = 0;
                    while off < n {
                        let k = (n - off).min(ps) as usize;
                        // Past the top of user space the copy faults before a sum wraps.
                        m.read(src.saturating_add(off), &mut buf[..k])?;
                        m.write(dst.saturating_add(off), &buf[..k])?;
                        off += k as u64;
                    }
                    Ok(())
                })?;
                self.check_range(p, src, n, false, span);
                self.check_range(p, dst, n, true, span);
                dst
            }
            Builtin::Mmap => {
                let p = self.cur(span)?;
                // The checker saw to it: argument 1 is permissions (`rw-s` says shared), the
                // rest are `shared` / `private` flags or `file "path"`.
                let (perms, mut shared) = match &args[1].kind {
                    Ex::Perms(pm, flag) => (*pm, flag.unwrap_or(false)),
                    _ => (Perms::RW, false),
                };
                let mut file = None;
                for a in &args[2..] {
                    match &a.kind {
                        Ex::Perms(_, Some(flag)) => shared = *flag,
                        Ex::FileArg(f, host) => file = Some((f, host)),
                        _ => {}
                    }
                }
                let file = file.map(|(f, host)| (self.world.os.host_file(f, host), 0));
                // MAP_FAILED on error, as in C: the scenario can check for it.
                self.world
                    .os
                    .mmap(p, arg(0), perms, shared, file, &mut self.sink)
                    .unwrap_or(u64::MAX)
            }
            Builtin::Munmap => {
                let p = self.cur(span)?;
                let w = &mut *self.world;
                match w.os.munmap(&mut w.mmu, p, arg(0), arg(1), &mut self.sink) {
                    Ok(()) => 0,
                    Err(_) => u64::MAX,
                }
            }
            Builtin::Mprotect => {
                let p = self.cur(span)?;
                let perms = match &args[2].kind {
                    Ex::Perms(pm, _) => *pm,
                    _ => Perms::NONE,
                };
                let w = &mut *self.world;
                match w
                    .os
                    .mprotect(&mut w.mmu, p, arg(0), arg(1), perms, &mut self.sink)
                {
                    Ok(()) => 0,
                    Err(_) => u64::MAX,
                }
            }
            Builtin::Brk => {
                let p = self.cur(span)?;
                let w = &mut *self.world;
                w.os.brk(&mut w.mmu, p, arg(0), &mut self.sink)
            }
            Builtin::Sbrk => {
                let p = self.cur(span)?;
                let w = &mut *self.world;
                let old = w.os.procs[p].brk;
                // sbrk takes a signed increment: a break moved past either end of the 64-bit
                // space is refused, never wrapped.
                let inc = arg(0) as i64;
                match old.checked_add_signed(inc) {
                    Some(target) if w.os.brk(&mut w.mmu, p, target, &mut self.sink) == target => {
                        old
                    }
                    Some(_) => u64::MAX,
                    None => {
                        self.sink.push(Event::SyscallFailed {
                            pid: w.os.procs[p].pid,
                            call: format!("sbrk({inc})"),
                            result: "-1".into(),
                            errno: "ENOMEM".into(),
                            reason: format!(
                                "{} {inc:+} is outside the 64-bit address space",
                                units::addr(old)
                            ),
                        });
                        u64::MAX
                    }
                }
            }
            Builtin::Fork => {
                let p = self.cur(span)?;
                if self.world.os.tasks() >= crate::os::MAX_PROCS {
                    let parent = self.world.os.procs[p].pid;
                    self.sink.push(Event::ForkFailed {
                        parent,
                        limit: crate::os::MAX_PROCS,
                    });
                    if !std::mem::replace(&mut self.fork_limit_reported, true) {
                        let report = Report::new(RunError::ForkLimit {
                            limit: crate::os::MAX_PROCS,
                            span: span.into(),
                        });
                        self.diag(report, Severity::Warning);
                    }
                    return Ok(Value::new(u64::MAX, e.ty));
                }
                let c = self.world.fork(p);
                let (parent, child) = (self.world.os.procs[p].pid, self.world.os.procs[c].pid);
                self.sink.push(Event::Fork { parent, child });
                u64::from(child)
            }
        };
        Ok(Value::new(bits, e.ty))
    }

    fn show(&mut self, what: &ShowWhat, span: Span) -> R<Snapshot> {
        let p = self.main_proc(span)?;
        let w = &*self.world;
        let pr = &w.os.procs[p];
        let shift = w.mmu.page_shift();
        let ps = w.mmu.page_size();
        Ok(match what {
            ShowWhat::Maps => {
                let table = w.mmu.page_table(pr.asid);
                Snapshot::Maps {
                    pid: pr.pid,
                    page_size: ps,
                    rows: pr.vmas.iter().map(|v| map_row(v, &table, shift)).collect(),
                }
            }
            ShowWhat::Smaps => {
                let table = w.mmu.page_table(pr.asid);
                let rows = pr
                    .vmas
                    .iter()
                    .map(|v| {
                        let (lo, hi) = (v.start >> shift, v.end >> shift);
                        let mut row = SmapsRow {
                            map: map_row(v, &table, shift),
                            size: v.len(),
                            rss: 0,
                            pss: 0,
                            shared_clean: 0,
                            shared_dirty: 0,
                            private_clean: 0,
                            private_dirty: 0,
                            anonymous: 0,
                            page_size: ps,
                        };
                        for &(_, e) in table.iter().filter(|(vpn, _)| *vpn >= lo && *vpn < hi) {
                            if e & pte::PRESENT == 0 || e & pte::ZERO != 0 {
                                continue;
                            }
                            let maps =
                                w.mmu.frame(pte::pfn(e)).map_or(1, |f| f.mapcount.max(1)) as u64;
                            row.rss += ps;
                            row.pss += ps / maps;
                            let dirty = e & pte::DIRTY != 0;
                            match (maps > 1, dirty) {
                                (true, true) => row.shared_dirty += ps,
                                (true, false) => row.shared_clean += ps,
                                (false, true) => row.private_dirty += ps,
                                (false, false) => row.private_clean += ps,
                            }
                            if e & pte::FILE == 0 {
                                row.anonymous += ps;
                            }
                        }
                        row
                    })
                    .collect();
                Snapshot::Smaps { pid: pr.pid, rows }
            }
            ShowWhat::PageTable => Snapshot::PageTable {
                pid: pr.pid,
                levels: w.mmu.levels(),
                rows: w
                    .mmu
                    .page_table(pr.asid)
                    .into_iter()
                    .map(|(vpn, e)| pte_row(vpn, e))
                    .collect(),
            },
            ShowWhat::Walk(addr) => {
                let a = self.eval(addr)?.bits;
                let w = &*self.world;
                let pr = &w.os.procs[p];
                let steps = w.mmu.walk(pr.asid, a);
                let level_bits = w.config().level_bits();
                let n = w.mmu.levels();
                let mut levels = Vec::new();
                let mut paddr = None;
                for st in &steps {
                    let last = st.level + 1 == n;
                    let meaning = if st.entry == 0 {
                        "empty: nothing mapped below".to_string()
                    } else if !last {
                        format!("points to table {}", st.entry - 1)
                    } else if st.entry & pte::PRESENT != 0 {
                        let pfn = pte::pfn(st.entry);
                        paddr = Some((pfn << shift) | (a & (ps - 1)));
                        format!(
                            "frame {pfn:#x} {}{}",
                            perm_str(st.entry),
                            note(st.entry)
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        )
                    } else {
                        format!(
                            "not present{}",
                            note(st.entry)
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        )
                    };
                    levels.push(WalkLevel {
                        level: st.level,
                        table: st.table,
                        index: st.index,
                        entry: st.entry,
                        meaning,
                    });
                }
                let outcome = match paddr {
                    Some(pa) => format!(
                        "{} translates to physical {}",
                        units::addr(a),
                        units::addr(pa)
                    ),
                    None if a >= w.os.user_limit() => {
                        format!("{} is outside user space", units::addr(a))
                    }
                    None => match pr.vmas.find(a) {
                        Some(v) => format!(
                            "{} is valid ({}) but not present: the first access will fault it in",
                            units::addr(a),
                            v.describe()
                        ),
                        None => w.os.describe_unmapped(p, a),
                    },
                };
                Snapshot::Walk(WalkSnap {
                    vaddr: a,
                    level_bits,
                    vpn: a >> shift,
                    offset: a & (ps - 1),
                    page_shift: shift,
                    levels,
                    paddr,
                    mapped: a < w.os.user_limit() && pr.vmas.find(a).is_some(),
                    outcome,
                })
            }
            ShowWhat::Tlb => {
                let t = w.mmu.tlb();
                Snapshot::Tlb {
                    capacity: t.capacity(),
                    ways: t.ways(),
                    enabled: t.enabled,
                    rows: t
                        .entries()
                        .map(|(slot, e)| TlbRow {
                            slot,
                            asid: e.asid,
                            vpn: e.vpn,
                            pfn: pte::pfn(e.pte),
                            perms: perm_str(e.pte),
                            dirty: e.pte & pte::DIRTY != 0,
                        })
                        .collect(),
                }
            }
            ShowWhat::Frames => Snapshot::Frames {
                total: w.mmu.frames_total(),
                used: w.mmu.frames_used(),
                rows: w
                    .mmu
                    .frames()
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.used != FrameUse::Free)
                    .map(|(i, f)| FrameRow {
                        pfn: i as u64,
                        owner: match f.used {
                            FrameUse::Free => "free".into(),
                            FrameUse::Anon { asid, vpn } => {
                                let who =
                                    w.os.procs
                                        .iter()
                                        .find(|p| p.asid == asid)
                                        .map_or("?".to_string(), |p| p.name.clone());
                                format!("{who} page {vpn:#x} (anonymous)")
                            }
                            FrameUse::File { file, page } => format!(
                                "{} page {page} (page cache)",
                                w.os.files[file as usize].name
                            ),
                        },
                        mapcount: f.mapcount,
                        ..frame_place(w, f.used)
                    })
                    .collect(),
                policy: w.config().replace.name().into(),
                next_victim: {
                    let scope =
                        (w.config().scope == crate::machine::Scope::Local).then_some(pr.asid);
                    w.mmu.next_victim(scope)
                },
            },
            ShowWhat::Heap => Snapshot::Heap {
                pid: pr.pid,
                allocator: w.config().allocator.name().into(),
                radix: w.config().radix(),
                rows: w.heaps[p].chunks(),
            },
            ShowWhat::Swap => Snapshot::Swap {
                slots: w.config().swap_slots(),
                used: w.mmu.swap().used(),
            },
            ShowWhat::Stats => Snapshot::Stats(self.world.stats()),
            ShowWhat::Machine => Snapshot::Machine {
                rows: super::snapshot::machine_rows(self.world.config()),
            },
            ShowWhat::Memory(addr, len) => {
                let a = self.eval(addr)?.bits;
                let asked = self.eval(len)?.bits;
                let n = asked.min(SHOW_MEMORY_MAX);
                let w = &*self.world;
                let asid = w.os.procs[p].asid;
                let bytes = (0..n)
                    .map(|i| {
                        let va = a.wrapping_add(i);
                        let e = w.mmu.pte(asid, va >> shift);
                        (e & pte::PRESENT != 0).then(|| {
                            let mut b = [0u8];
                            w.mmu
                                .read_phys((pte::pfn(e) << shift) | (va & (ps - 1)), &mut b);
                            b[0]
                        })
                    })
                    .collect();
                Snapshot::Memory {
                    addr: a,
                    bytes,
                    omitted: asked - n,
                }
            }
        })
    }
}

/// The most bytes one `show memory` dumps; the rest of a longer request is counted, not shown.
const SHOW_MEMORY_MAX: u64 = 4096;

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// A region's kind, for pictures: what it is for, in a few words a legend can show.
fn region_kind(v: &crate::os::Vma) -> &'static str {
    match v.role {
        Role::Elf | Role::Text => "text",
        Role::Rodata | Role::Relro | Role::Data | Role::Bss => "data",
        Role::Heap => "heap",
        Role::Stack | Role::ThreadStack => "stack",
        Role::Guard => "guard",
        Role::Lib => "lib",
        Role::Special => "kernel",
        Role::Mmap => "mmap",
    }
}

/// `table`: the process's valid leaf entries by VPN, in VPN order.
fn map_row(v: &crate::os::Vma, table: &[(u64, u64)], shift: u32) -> MapRow {
    let offset = match v.backing {
        crate::os::Backing::File { offset, .. } => offset,
        crate::os::Backing::Anon => 0,
    };
    let (lo, hi) = (v.start >> shift, v.end >> shift);
    let first = table.partition_point(|&(vpn, _)| vpn < lo);
    let mut resident: Vec<[u64; 2]> = Vec::new();
    let mut resident_pages = 0;
    for &(vpn, e) in table[first..].iter().take_while(|&&(vpn, _)| vpn < hi) {
        if e & pte::PRESENT == 0 || e & pte::ZERO != 0 {
            continue;
        }
        resident_pages += 1;
        let (s, t) = (vpn << shift, (vpn + 1) << shift);
        match resident.last_mut() {
            Some(r) if r[1] == s => r[1] = t,
            _ => resident.push([s, t]),
        }
    }
    MapRow {
        start: v.start,
        end: v.end,
        perms: format!("{}{}", v.perms.rwx(), if v.shared { 's' } else { 'p' }),
        offset,
        name: v.name.to_string(),
        kind: region_kind(v).into(),
        resident_pages,
        resident,
    }
}

fn perm_str(e: u64) -> String {
    format!(
        "{}{}{}",
        if e & pte::READ != 0 { 'r' } else { '-' },
        if e & pte::WRITE != 0 { 'w' } else { '-' },
        if e & pte::EXEC != 0 { 'x' } else { '-' }
    )
}

fn note(e: u64) -> Option<&'static str> {
    if e & pte::ZERO != 0 {
        Some("zero page")
    } else if e & pte::COW != 0 {
        Some("copy-on-write")
    } else if e & pte::SWAPPED != 0 {
        Some("swapped out")
    } else if e & pte::FILE != 0 {
        Some("page cache")
    } else {
        None
    }
}

fn pte_row(vpn: u64, e: u64) -> PteRow {
    let present = e & pte::PRESENT != 0;
    PteRow {
        vpn,
        pfn: present.then(|| pte::pfn(e)),
        present,
        dirty: e & pte::DIRTY != 0,
        accessed: e & pte::ACCESSED != 0,
        perms: perm_str(e),
        note: note(e).unwrap_or("").to_string(),
    }
}

#[cold]
fn unreachable_logic() -> u64 {
    // `&&` and `||` short-circuit before reaching here.
    0
}

/// Whose page a frame holds, for `show frames`: the process, the kind of region and the
/// address of the page (a page-cache page: the first process, in pid order, that maps it).
fn frame_place(w: &World, used: FrameUse) -> FrameRow {
    let shift = w.mmu.page_shift();
    let mut row = FrameRow {
        pfn: 0,
        owner: String::new(),
        mapcount: 0,
        pid: None,
        region: String::new(),
        vaddr: None,
        file: None,
        page: 0,
    };
    match used {
        FrameUse::Free => {}
        FrameUse::Anon { asid, vpn } => {
            row.page = vpn;
            if let Some(p) = w.os.procs.iter().find(|p| p.asid == asid) {
                let va = vpn << shift;
                row.pid = Some(p.pid);
                row.vaddr = Some(va);
                row.region = p.vmas.find(va).map_or("mmap", region_kind).into();
            }
        }
        FrameUse::File { file, page } => {
            row.region = "file".into();
            row.page = page;
            row.file = Some(w.os.files[file as usize].name.clone());
            let ps = w.mmu.page_size();
            let at = page * ps;
            for p in &w.os.procs {
                let hit = p.vmas.iter().find_map(|v| match v.backing {
                    crate::os::Backing::File { file: f, offset }
                        if f == file && at >= offset && at - offset < v.len() =>
                    {
                        Some((v, v.start + (at - offset)))
                    }
                    _ => None,
                });
                if let Some((v, va)) = hit {
                    row.pid = Some(p.pid);
                    row.vaddr = Some(va);
                    row.region = region_kind(v).into();
                    break;
                }
            }
        }
    }
    row
}

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

/// A run-time error (`RunError::$variant`) that stops the chunk, with its message, label and
/// help.
macro_rules! err {
    ($variant:ident, $span:expr, $message:expr, $label:expr, $help:expr $(,)?) => {
        Box::new($crate::session::exec::Stop::Error(miette::Report::new(
            $crate::diag::run::RunError::$variant {
                message: $message.into(),
                span: $span.into(),
                label: $label.into(),
                help: $help.into(),
            },
        )))
    };
}

mod access;
mod ahead;
#[cfg(test)]
pub(crate) use ahead::DECODERS;
mod arith;
mod builtins;
mod compiled;
mod eval;
mod expect;
mod show;
mod stack;
mod stmt;
mod workload;

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
    Bus {
        vaddr: u64,
        access: Access,
        detail: String,
    },
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
    /// The open `call` frames, innermost last: their process and the lowest byte their locals
    /// use so far. A local is carved out of its frame, below the return address, and only
    /// grows the frame when the frame is too small for it.
    frames: Vec<(usize, u64)>,
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
            frames: Vec::new(),
        }
    }

    fn diag(&mut self, report: Report, severity: Severity) {
        self.res.push(report, severity, &self.ctx.lines);
    }

    /// Runs the top-level statements in order, handing each finished one to `on_step` before
    /// the next starts (a notebook shows it while the rest still runs).
    /// Returns the index of the statement that failed and was rolled back, if one was.
    pub(super) fn run_top(
        &mut self,
        stmts: &[Stmt],
        on_step: &mut dyn FnMut(&Step),
    ) -> Option<usize> {
        let last_eval = stmts.len().checked_sub(1);
        let mut rolled_back = None;
        for (i, st) in stmts.iter().enumerate() {
            let saved = self
                .opts
                .rollback
                .then(|| (self.world.clone(), self.vars.clone()));
            let line = self.ctx.lines.line(st.span.start) + self.line_offset;
            let text = &self.src[st.span.start..st.span.end];
            let first = memchr::memchr2(b'\n', b'\r', text.as_bytes()).map_or(text, |i| &text[..i]);
            let source = super::step::abbreviate(first);
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
                        rolled_back = Some(i);
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
        rolled_back
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
            Sig::Bus {
                vaddr,
                access,
                detail,
            } => {
                self.sink.push(Event::Bus {
                    pid,
                    vaddr,
                    access,
                    detail: detail.clone(),
                });
                (
                    Death::Bus { vaddr },
                    RunError::Bus {
                        access: access.name().into(),
                        addr: units::addr(vaddr),
                        process: name,
                        span: span.into(),
                        detail,
                        help: "the mapping is longer than its file; map no more than the file's length rounded up to a page, or check the bus error with `expect sigbus { ... }`".into(),
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
                Death::Bus { .. } => "SIGBUS".into(),
            },
        });
        self.world.os.procs[p].death = Some(death);
        self.release_memory(p);
        self.after_signal();
        self.res.unexpected_deaths += 1;
        self.diag(Report::new(report), Severity::Error);
    }

    /// A dead process's memory goes back to the machine, as at Linux's exit.
    pub(super) fn release_memory(&mut self, p: usize) {
        let w = &mut *self.world;
        w.os.exit_mm(&mut w.mmu, p);
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
                Death::Bus { vaddr } => {
                    format!("killed by SIGBUS (BUS_ADRERR) at {}", units::addr(*vaddr))
                }
            };
            let help = match d {
                Death::Segv { .. } => "a dead process runs nothing more; catch the fault with `expect segfault { ... }`, or switch to another process",
                Death::Abort { .. } => "a dead process runs nothing more; catch the abort with `expect abort { ... }`, or switch to another process",
                Death::Oom => "the OOM killer's victim stays dead, as on Linux, even when `expect oom { ... }` checked the kill; switch to another process to go on",
                Death::Bus { .. } => "a dead process runs nothing more; catch the bus error with `expect sigbus { ... }`, or switch to another process",
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
            Trap::Bus {
                vaddr,
                access,
                detail,
            } => Sig::Bus {
                vaddr,
                access,
                detail,
            },
        };
        Box::new(Stop::Signal { sig, p, span })
    }
}

//! Statements: the block walker, processes and threads by name, `in` and switching.

use super::*;

impl Exec<'_> {
    /// With several processes, a finding says whose heap it is about: after `fork` the same
    /// block, at the same address, is in each.
    pub(super) fn name_process(
        &self,
        mut f: crate::heap::safety::Finding,
        p: usize,
    ) -> crate::heap::safety::Finding {
        if self.world.os.procs.len() > 1 && p < self.world.os.procs.len() {
            f.message = format!("{}, in process {}", f.message, self.proc_label(p));
        }
        f
    }

    pub(super) fn block(&mut self, stmts: &[Stmt]) -> R<()> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    /// The statements a loop body is made of, kept in a small function so each one costs a
    /// few instructions; everything else goes to [`Exec::stmt_other`].
    #[inline]
    pub(super) fn stmt(&mut self, s: &Stmt) -> R<()> {
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
    pub(super) fn stmt_other(&mut self, s: &Stmt) -> R<()> {
        match &s.kind {
            St::Machine(cfg) => {
                // The machine it replaces ends here: its leaks and counters belong to the
                // file's report as much as the last machine's.
                if self.opts.report_leaks {
                    self.world_leaks();
                }
                self.res.stats = self.world.stats().after(&self.res.stats);
                *self.world = World::new(cfg);
                self.vars.mark_stale();
            }
            St::Process(spec) => {
                if self.world.os.procs.iter().any(|p| p.name == spec.name) {
                    return Err(err!(
                        DuplicateProcess,
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
                if self.world.os.tasks() >= self.opts.max_processes {
                    return Err(err!(ThreadLimit,
                        s.span,
                        format!(
                            "cannot create thread `{name}`: the machine holds at most {} processes and threads (EAGAIN)",
                            self.opts.max_processes
                        ),
                        "one too many",
                        "a thread counts against the same limit as a process, as under `ulimit -u` (`--max-processes N` changes it)",
                    ));
                }
                if self.world.os.procs[p]
                    .threads
                    .iter()
                    .any(|t| &t.name == name)
                {
                    return Err(err!(
                        DuplicateThread,
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
                    return Err(err!(
                        ThreadStack,
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
                // The return address takes the frame's top 8 bytes, as `call` pushes it.
                self.frames.push((p, old.saturating_sub(8)));
                let r = self.block(body);
                self.frames.pop();
                self.set_sp(p, old);
                r?;
            }
            St::Local { slot, ty, size } => {
                let p = self.cur(s.span)?;
                self.need_stack(p, "local", s.span)?;
                let frame = self.frames.iter().rposition(|&(fp, _)| fp == p);
                let from = match frame {
                    Some(i) => self.frames[i].1,
                    None => self.sp(p),
                };
                let Some(new) = from.checked_sub(*size) else {
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
                if let Some(i) = frame {
                    self.frames[i].1 = new;
                }
                // A frame too small for its locals grows, as a compiler sizes a frame to fit.
                if new < self.sp(p) {
                    self.set_sp(p, new);
                }
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

    /// The current process, creating the implicit `main` on first use: a diagnostic at `span`
    /// when the default layout does not fit the machine.
    pub(super) fn main_proc(&mut self, span: Span) -> R<usize> {
        self.world.current().map_err(|e| layout_err(span, e))
    }

    pub(super) fn find_proc(&mut self, name: &str, span: Span) -> R<usize> {
        if name == "main" && self.world.os.procs.is_empty() {
            return self.main_proc(span);
        }
        self.world
            .os
            .procs
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| {
                err!(
                    UnknownProcess,
                    span,
                    format!("no process `{name}`"),
                    "unknown process",
                    "declare it first: `process NAME`",
                )
            })
    }

    pub(super) fn resolve_target(&mut self, t: &TExpr) -> R<(usize, Option<usize>)> {
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
                        None => Err(err!(
                            UnknownThread,
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
                    None => Err(err!(
                        UnknownTarget,
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
                    None => Err(err!(
                        UnknownPid,
                        t.span,
                        format!("no process with pid {pid}"),
                        "unknown pid",
                        "use a pid returned by `fork()` or a process name",
                    )),
                }
            }
        }
    }

    pub(super) fn switch(&mut self, p: usize, thread: Option<usize>) {
        let from = self.world.current.unwrap_or(p);
        if from != p {
            let asid = self.world.os.procs[p].asid;
            self.world.mmu.switch_to(asid);
            let flushed = !self.world.config().machine.pcid;
            self.sink.push(Event::Switch {
                from: self.world.os.procs[from].pid,
                to: self.world.os.procs[p].pid,
                tlb_flushed: flushed,
            });
        }
        self.world.current = Some(p);
        self.world.thread = thread;
    }
}

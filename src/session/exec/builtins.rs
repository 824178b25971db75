//! Builtin calls: allocation, memory operations, processes, files and the other functions.

use super::*;

impl Exec<'_> {
    pub(super) fn call(&mut self, b: Builtin, args: &[TExpr], e: &TExpr) -> R<Value> {
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
}

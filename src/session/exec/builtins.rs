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
            Builtin::SetPte | Builtin::ClearPte => {
                let p = self.main_proc(span)?;
                let asid = self.world.os.procs[p].asid;
                let (vpn, pfn) = (arg(0), arg(1));
                let vpns = 1u64
                    .checked_shl(self.world.mmu.config().vpn_bits())
                    .unwrap_or(u64::MAX);
                if vpn >= vpns {
                    return Err(err!(
                        NoSuchPage,
                        span,
                        format!("page {vpn} is outside the address space"),
                        "no such page",
                        format!("the address space has pages 0 to {}", vpns - 1),
                    ));
                }
                let frames = self.world.mmu.config().frames();
                let e = if b == Builtin::SetPte {
                    if pfn >= frames {
                        return Err(err!(
                            NoSuchFrame,
                            span,
                            format!("frame {pfn} is beyond physical memory"),
                            "no such frame",
                            format!("physical memory has frames 0 to {}", frames - 1),
                        ));
                    }
                    (pfn << pte::PFN_SHIFT) | pte::PRESENT | pte::READ | pte::WRITE
                } else {
                    0
                };
                // The frame an entry names is the entry's: a later fault must not be given it
                // too (two pages in one frame), and rewriting the entry gives it back.
                let old = self.world.mmu.pte(asid, vpn);
                if old & pte::PRESENT != 0 && old & pte::ZERO == 0 {
                    self.world.mmu.release_written(pte::pfn(old), asid, vpn);
                }
                if b == Builtin::SetPte {
                    self.world.mmu.reserve_frame(pfn, asid, vpn);
                }
                self.world.mmu.set_pte(asid, vpn, e);
                return Ok(Value::new(0, Ty::Nothing));
            }
            Builtin::Translate if self.world.config().machine.pdbr.is_some() => {
                let va = arg(0);
                let pdbr = self.world.config().machine.pdbr.unwrap_or(0);
                let walk = self.world.mmu.small_walk(pdbr, va);
                if self.sink.wants() {
                    let pid = self.world.current.map_or(0, |p| self.world.os.procs[p].pid);
                    let ostep =
                        self.world.config().conventions == crate::config::Conventions::Ostep;
                    self.sink.push(Event::WalkTranslate {
                        pid,
                        vaddr: va,
                        pdbr,
                        levels: walk.levels,
                        paddr: walk.paddr,
                        value: walk.value,
                        ostep,
                    });
                }
                match walk.paddr {
                    Some(pa) => pa,
                    None => return Ok(Value::new(0, Ty::Nothing)),
                }
            }
            Builtin::LoadDump => {
                let (path, full) = match &args[0].kind {
                    Ex::FileArg(f, host) => (f.as_str(), host.as_path()),
                    _ => ("", std::path::Path::new("")),
                };
                self.load_dump(path, full, span)?;
                return Ok(Value::new(0, Ty::Nothing));
            }
            Builtin::PhysByte => {
                let (pa, memory) = (arg(0), self.world.mmu.config().memory);
                if pa >= memory {
                    return Err(err!(
                        PhysAddress,
                        span,
                        format!("{pa:#x} is beyond physical memory"),
                        "no such physical address",
                        format!("physical memory has addresses 0 to {:#x}", memory - 1),
                    ));
                }
                self.world.mmu.load_phys(pa, 1)
            }
            Builtin::Translate
                if self.world.config().machine.base_bounds.is_some()
                    || self
                        .world
                        .config()
                        .machine
                        .segments
                        .iter()
                        .any(Option::is_some) =>
            {
                // Registers translate here, not a process's tables: no process is needed, so
                // address spaces too small for one still work.
                let va = arg(0);
                let (pa, segment, why) = segment_translate(&self.world.config().machine, va);
                let index = self.world.translations;
                self.world.translations += 1;
                if self.sink.wants() {
                    let pid = self.world.current.map_or(0, |p| self.world.os.procs[p].pid);
                    let ostep =
                        self.world.config().conventions == crate::config::Conventions::Ostep;
                    self.sink.push(Event::SegTranslate {
                        pid,
                        index,
                        vaddr: va,
                        paddr: pa,
                        segment,
                        why,
                        ostep,
                    });
                }
                match pa {
                    Some(pa) => pa,
                    None => return Ok(Value::new(0, Ty::Nothing)),
                }
            }
            Builtin::Translate => {
                let p = self.main_proc(span)?;
                let asid = self.world.os.procs[p].asid;
                let va = arg(0);
                let shift = self.world.mmu.page_shift();
                let cfg = self.world.mmu.config();
                let ostep = self.world.mmu.conventions() == crate::config::Conventions::Ostep;
                let vpn = va >> shift;
                let inside = cfg.va_bits >= 64 || va >> cfg.va_bits == 0;
                let ent = if inside {
                    self.world.mmu.pte(asid, vpn)
                } else {
                    0
                };
                let valid = ent & pte::PRESENT != 0 && ent & pte::ZERO == 0;
                let pa = valid.then(|| (pte::pfn(ent) << shift) | (va & (ps - 1)));
                let why = if !inside {
                    format!("{va:#x} is outside the {}-bit address space", cfg.va_bits)
                } else if let Some(pa) = pa {
                    if ostep {
                        String::new()
                    } else {
                        format!(
                            "page {vpn:#x}, offset {:#x}; its entry maps frame {:#x}, so {pa:#x}",
                            va & (ps - 1),
                            pte::pfn(ent)
                        )
                    }
                } else if ostep {
                    String::new()
                } else {
                    format!("page {vpn:#x} has no valid entry (an access would fault)")
                };
                if self.sink.wants() {
                    let pid = self.world.os.procs[p].pid;
                    self.sink.push(Event::Translate {
                        pid,
                        vaddr: va,
                        vpn,
                        paddr: pa,
                        why,
                        ostep,
                    });
                }
                match pa {
                    Some(pa) => pa,
                    None => return Ok(Value::new(0, Ty::Nothing)),
                }
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
                if self.world.os.tasks() >= self.opts.max_processes {
                    let parent = self.world.os.procs[p].pid;
                    self.sink.push(Event::ForkFailed {
                        parent,
                        limit: self.opts.max_processes,
                    });
                    if !std::mem::replace(&mut self.fork_limit_reported, true) {
                        let report = Report::new(RunError::ForkLimit {
                            limit: self.opts.max_processes,
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

/// Base-and-bounds or segmented translation, as `relocation.py` and `segmentation.py` do it:
/// the physical address (or none), the segment, and why.
impl Exec<'_> {
    /// `load_dump(file "PATH")`: each `page N:` line of the file into physical memory at
    /// N times the page's size in bytes.
    fn load_dump(&mut self, path: &str, full: &std::path::Path, span: Span) -> R<()> {
        /// More than any dump of a machine memsim simulates byte by byte would need.
        const LIMIT: u64 = 64 << 20;
        let help = "a dump path is relative to the folder of the .mem file";
        let text = crate::files::read_limited(full, LIMIT).map_err(|e| {
            err!(
                DumpFile,
                span,
                format!("cannot read the dump \"{path}\": {}", e.kind()),
                "this dump",
                help,
            )
        })?;
        let pages = crate::machine::small::parse_dump(&text).map_err(|e| {
            err!(
                DumpLine,
                span,
                format!("line {} of the dump \"{path}\": {}", e.line, e.reason),
                "this dump",
                "each page is a line `page N: 7f 08 1c ...` (as paging-multilevel-translate.py prints it); other lines are skipped",
            )
        })?;
        if pages.is_empty() {
            return Err(err!(
                DumpFile,
                span,
                format!("the dump \"{path}\" has no `page N:` line"),
                "this dump",
                "each page is a line `page N: 7f 08 1c ...` (as paging-multilevel-translate.py prints it)",
            ));
        }
        let memory = self.world.mmu.config().memory;
        for (page, data) in &pages {
            let size = data.len() as u64;
            let start = page
                .checked_mul(size)
                .filter(|s| s.checked_add(size).is_some_and(|end| end <= memory));
            let Some(start) = start else {
                return Err(err!(
                    DumpPage,
                    span,
                    format!(
                        "page {page} of the dump \"{path}\" ({size} bytes a page) is beyond physical memory"
                    ),
                    "this dump",
                    format!(
                        "physical memory holds {} pages of {size} bytes: use a machine with more `memory`",
                        memory / size
                    ),
                ));
            };
            self.world.mmu.write_phys(start, data);
        }
        Ok(())
    }
}

fn segment_translate(
    cfg: &crate::machine::MachineConfig,
    va: u64,
) -> (Option<u64>, Option<u8>, String) {
    if let Some((base, limit)) = cfg.base_bounds {
        return if va < limit {
            let pa = base + va;
            (
                Some(pa),
                None,
                format!("{va} is below the bounds {limit}; base {base} + {va} = {pa}"),
            )
        } else {
            (None, None, format!("{va} is not below the bounds {limit}"))
        };
    }
    let asize = 1u64.checked_shl(cfg.va_bits).unwrap_or(u64::MAX);
    if va >= asize {
        return (
            None,
            None,
            format!("{va:#x} is outside the {}-bit address space", cfg.va_bits),
        );
    }
    if va >= asize / 2 {
        // Segment 1 grows down: its base is its top, and the address counts back from the
        // end of the address space.
        let Some((base, limit)) = cfg.segments[1] else {
            return (None, Some(1), "segment 1 is not set".into());
        };
        let back = asize - va;
        if back <= limit && back <= base {
            let pa = base - back;
            (
                Some(pa),
                Some(1),
                format!("segment 1 (grows down): {back} below its base {base} is {pa}, within its limit {limit}"),
            )
        } else {
            (
                None,
                Some(1),
                format!(
                    "segment 1 (grows down): {back} below its base is beyond its limit {limit}"
                ),
            )
        }
    } else {
        let Some((base, limit)) = cfg.segments[0] else {
            return (None, Some(0), "segment 0 is not set".into());
        };
        if va < limit {
            let pa = base + va;
            (
                Some(pa),
                Some(0),
                format!(
                    "segment 0: offset {va} is below its limit {limit}; base {base} + {va} = {pa}"
                ),
            )
        } else {
            (
                None,
                Some(0),
                format!("segment 0: offset {va} is not below its limit {limit}"),
            )
        }
    }
}

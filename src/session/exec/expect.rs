//! `expect`: running a block under an expectation and judging what it did.

use super::eval::is_comparison;
use super::*;

impl Exec<'_> {
    pub(super) fn expect(&mut self, what: &ExpectIr, body: &[Stmt], span: Span) -> R<()> {
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
            ExpectIr::Sigbus => {
                // A dead process cannot be expected to fault: that is the `mem::dead` error.
                self.cur(span)?;
                match self.block(body).map_err(|b| *b) {
                    Ok(()) => failed(
                        self,
                        "expected a bus error, but the block ran to the end".into(),
                        "no SIGBUS in this block".into(),
                        "SIGBUS comes from touching a file mapping in a page wholly past the end of its file",
                    ),
                    Err(Stop::Signal {
                        sig:
                            Sig::Bus {
                                vaddr,
                                access,
                                detail,
                            },
                        p,
                        ..
                    }) => {
                        let pid = self.world.os.procs[p].pid;
                        self.sink.push(Event::Bus {
                            pid,
                            vaddr,
                            access,
                            detail,
                        });
                        self.after_signal();
                        passed(self);
                    }
                    Err(e) => return Err(Box::new(e)),
                }
            }
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
                    self.release_memory(p);
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
                        |lo: u64, hi: u64| vars.live_bits().any(|v| (lo..hi).contains(&v));
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
}

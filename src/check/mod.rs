//! Static checks of a parsed chunk: names, arity, types, sizes and machine settings, all errors
//! at once. The result is the checked IR ([`ir`]) that the session runs.

/// Records a static error: `CheckError::$variant` with its message, label and help.
macro_rules! fail {
    ($self:ident, $variant:ident, $span:expr, $message:expr, $label:expr, $help:expr $(,)?) => {
        $self.err(CheckError::$variant {
            message: $message.into(),
            span: sp($span),
            label: $label.into(),
            help: $help.into(),
        })
    };
}

pub mod ir;
pub mod machine;

use std::collections::BTreeMap;
use std::path::PathBuf;

use miette::Report;

use crate::diag::check::CheckError;
use crate::os::layout::{MmapSpec, ProcessSpec};
use crate::os::Perms;
use crate::syntax::{
    self as ast, BinOp, ExpectKind, Expr, ExprKind, Prim, Span, StmtKind, TypeExpr, TypeKind, UnOp,
};
use ir::*;

/// What the checker knows between chunks: variables and their types, processes, the page
/// size. The session keeps one and commits the checker's copy only when a chunk checks clean.
#[derive(Debug, Clone)]
pub struct Env {
    pub vars: Vec<(String, Ty)>,
    pub slots: BTreeMap<String, u32>,
    pub processes: Vec<String>,
    pub threads: Vec<String>,
    pub page_size: u64,
    pub stack_limit: u64,
    /// Where relative paths (profiles, traces) resolve from.
    pub base_dir: PathBuf,
    /// The folders besides `base_dir` whose files a scenario may read.
    pub roots: crate::files::Roots,
}

impl Default for Env {
    fn default() -> Self {
        Env {
            vars: Vec::new(),
            slots: BTreeMap::new(),
            processes: Vec::new(),
            threads: Vec::new(),
            page_size: 4096,
            stack_limit: 8 << 20,
            base_dir: PathBuf::from("."),
            roots: crate::files::Roots::default(),
        }
    }
}

pub use crate::words::{
    Builtin, ParamKind, Returns, ShowTarget, Stat, SHOW_TARGETS, SPECIAL_NAMES, STAT_NAMES,
    WARNING_KINDS,
};
pub use crate::words::{BUILTIN_NAMES, REGION_NAMES};

use crate::suggest::Reach;
use crate::words::SpecialName;

/// The closest candidate, if it is close enough to be a typo.
fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    crate::suggest::did_you_mean(name, candidates, Reach::Typo)
}

/// Checks a chunk against `env`, which it updates (declared variables, processes, the page
/// size). On error `env` may be partly updated: callers check a clone.
pub fn check(program: &ast::Program, env: &mut Env) -> Result<Vec<Stmt>, Vec<Report>> {
    let mut c = Checker {
        env,
        errors: Vec::new(),
        nested: false,
        in_sweep: false,
        failed_lets: Vec::new(),
        frames: 0,
    };
    let out: Vec<Stmt> = program.stmts.iter().filter_map(|s| c.stmt(s)).collect();
    if c.errors.is_empty() {
        Ok(out)
    } else {
        Err(c.errors)
    }
}

struct Checker<'e> {
    env: &'e mut Env,
    errors: Vec<Report>,
    /// Inside a block (`in`, `call`, `if`, a loop, `expect`, a sweep's body), where a `machine`
    /// statement would pull the processes out from under the statement that holds it.
    nested: bool,
    /// Inside a sweep's body, whose machine the sweep makes.
    in_sweep: bool,
    /// Names whose `let` had an error already: a later use is not reported again as unknown.
    failed_lets: Vec<String>,
    /// `call` blocks around the statement being checked: a `local` needs one.
    frames: usize,
}

fn sp(s: Span) -> miette::SourceSpan {
    s.into()
}

impl Checker<'_> {
    fn err(&mut self, e: CheckError) {
        self.errors.push(Report::new(e));
    }

    /// Where a mapped file is on the host; an error if it cannot be read there (missing, a
    /// directory, no permission), reported before anything runs.
    fn mapped_file(&mut self, f: &ast::StrLit) -> std::path::PathBuf {
        let Some(full) = self.allowed(f) else {
            return self.env.base_dir.join(&f.value);
        };
        let reason = match std::fs::metadata(&full) {
            Ok(m) if m.is_dir() => Some("it is a directory".to_string()),
            Ok(_) => std::fs::File::open(&full).err().map(|e| match e.kind() {
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                k => k.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no such file".to_string()),
            Err(e) => Some(e.kind().to_string()),
        };
        if let Some(reason) = reason {
            self.err(CheckError::MappedFile {
                path: f.value.clone(),
                reason,
                span: sp(f.span),
            });
        }
        full
    }

    /// Where a file the scenario names is on the host, or an error (and `None`) if the
    /// scenario may not read it: outside its roots, or not a regular file.
    fn allowed(&mut self, f: &ast::StrLit) -> Option<std::path::PathBuf> {
        match self.env.roots.resolve(&self.env.base_dir, &f.value) {
            Ok(full) => Some(full),
            Err(crate::files::Refusal::OutsideRoot) => {
                self.err(CheckError::OutsideRoot {
                    path: f.value.clone(),
                    span: sp(f.span),
                });
                None
            }
            Err(crate::files::Refusal::NotAFile { kind }) => {
                self.err(CheckError::NotAFile {
                    path: f.value.clone(),
                    kind,
                    span: sp(f.span),
                });
                None
            }
        }
    }

    /// A nested block's statements (the top level's are checked by [`check`]).
    fn block(&mut self, stmts: &[ast::Stmt]) -> Vec<Stmt> {
        let outer = std::mem::replace(&mut self.nested, true);
        let out = stmts.iter().filter_map(|s| self.stmt(s)).collect();
        self.nested = outer;
        out
    }

    fn declare(&mut self, name: &str, ty: Ty) -> u32 {
        if let Some(&slot) = self.env.slots.get(name) {
            self.env.vars[slot as usize].1 = ty;
            return slot;
        }
        let slot = self.env.vars.len() as u32;
        self.env.vars.push((name.to_string(), ty));
        self.env.slots.insert(name.to_string(), slot);
        slot
    }

    fn stmt(&mut self, s: &ast::Stmt) -> Option<Stmt> {
        let kind = match &s.kind {
            StmtKind::Machine(_) if self.nested => {
                self.err(CheckError::NestedMachine {
                    span: sp(s.span),
                    help: if self.in_sweep {
                        "a sweep runs its body on the machine before it, with the swept settings \
                         changed: put the `machine` statement before the `sweep`, or sweep the \
                         setting too"
                    } else {
                        "a machine is chosen at the top level of a file or cell, where a new \
                         one starts afresh: move the `machine` statement out of the block"
                    }
                    .into(),
                });
                return None;
            }
            StmtKind::Machine(spec) => {
                if let Some(ast::ProfileRef::File(f)) = &spec.base {
                    self.allowed(f)?;
                }
                match machine::resolve(spec, &self.env.base_dir) {
                    Ok(cfg) => {
                        self.env.page_size = cfg.machine.page_size;
                        self.env.stack_limit = cfg.os.stack_limit;
                        St::Machine(Box::new(cfg))
                    }
                    Err(errs) => {
                        self.errors.extend(errs.into_iter().map(Report::new));
                        return None;
                    }
                }
            }
            StmtKind::Process(p) => {
                let spec = self.process(p)?;
                self.env.processes.push(p.name.name.clone());
                St::Process(Box::new(spec))
            }
            StmtKind::Thread(t) => {
                let stack = match &t.stack {
                    Some(e) => self.const_size(e)?,
                    None => 8 << 20,
                };
                if let Some(p) = &t.process {
                    if !self.env.processes.contains(&p.name) && p.name != "main" {
                        self.unknown_process(&p.name, p.span);
                    }
                }
                self.env.threads.push(t.name.name.clone());
                St::Thread {
                    process: t.process.as_ref().map(|p| p.name.clone()),
                    name: t.name.name.clone(),
                    stack,
                }
            }
            StmtKind::Let { name, ty, value } => {
                let Some(v) = self.expr(value) else {
                    self.failed_lets.push(name.name.clone());
                    return None;
                };
                let ty = match ty {
                    Some(t) => {
                        let declared = self.ty(t)?;
                        self.assignable(declared, &v);
                        declared
                    }
                    None => v.ty,
                };
                let slot = self.declare(&name.name, ty);
                St::SetVar {
                    slot,
                    value: retype(v, ty),
                }
            }
            StmtKind::Assign { target, value } => {
                let v = self.expr(value);
                match &target.kind {
                    ExprKind::Name(id) if self.env.slots.contains_key(&id.name) => {
                        let slot = self.env.slots[&id.name];
                        let ty = self.env.vars[slot as usize].1;
                        let v = v?;
                        self.assignable(ty, &v);
                        St::SetVar {
                            slot,
                            value: retype(v, ty),
                        }
                    }
                    ExprKind::Name(id) => {
                        self.unknown_name(&id.name, id.span);
                        return None;
                    }
                    ExprKind::Index { .. } | ExprKind::Deref(_) => {
                        let place = self.expr(target)?;
                        let v = v?;
                        match place.kind {
                            Ex::Load { addr, width, .. } => {
                                if v.ty.is_ptr() && width != 8 {
                                    fail!(self, PointerWidth, value.span, "a pointer does not fit in this element", format!("{}-byte element", width), "store pointers through a pointer-to-pointer such as `**int`");
                                }
                                St::Store {
                                    addr: *addr,
                                    width,
                                    value: v,
                                }
                            }
                            _ => {
                                self.err(CheckError::NotAssignable {
                                    span: sp(target.span),
                                });
                                return None;
                            }
                        }
                    }
                    _ => {
                        self.err(CheckError::NotAssignable {
                            span: sp(target.span),
                        });
                        return None;
                    }
                }
            }
            StmtKind::Expr(e) => St::Eval(self.expr(e)?),
            StmtKind::Print(items) => {
                let items: Vec<_> = items
                    .iter()
                    .map(|e| match e.kind {
                        ExprKind::Str(_) => self.expr_any(e),
                        _ => self.expr(e),
                    })
                    .collect();
                St::Print(items.into_iter().collect::<Option<Vec<_>>>()?)
            }
            StmtKind::Show { target, args } => St::Show(self.show(target, args, s.span)?),
            StmtKind::Expect(e) => self.expect(e)?,
            StmtKind::For { var, range, body } => {
                let start = self.int_expr(&range.start);
                let end = self.int_expr(&range.end);
                let slot = self.declare(&var.name, Ty::LONG);
                let body = self.block(&body.stmts);
                St::For {
                    slot,
                    start: start?,
                    end: end?,
                    inclusive: range.inclusive,
                    body,
                }
            }
            StmtKind::Repeat { count, body } => {
                let count = self.int_expr(count);
                let body = self.block(&body.stmts);
                St::Repeat {
                    count: count?,
                    body,
                }
            }
            StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                let cond = self.expr(cond);
                let then = self.block(&then.stmts);
                let otherwise = otherwise
                    .as_ref()
                    .map(|b| self.block(&b.stmts))
                    .unwrap_or_default();
                St::If {
                    cond: cond?,
                    then,
                    otherwise,
                }
            }
            StmtKind::In { target, body } => {
                let target = self.target(target);
                let body = self.block(&body.stmts);
                St::In {
                    target: target?,
                    body,
                }
            }
            StmtKind::Switch { target } => St::Switch(self.target(target)?),
            StmtKind::Call { name, frame, body } => {
                self.stack_amount(frame, "frame size", false);
                let frame = self.size_expr(frame);
                self.frames += 1;
                let body = self.block(&body.stmts);
                self.frames -= 1;
                St::Call {
                    name: name.name.clone(),
                    frame: frame?,
                    body,
                }
            }
            StmtKind::Local { name, ty } => {
                if self.frames == 0 {
                    // Outside a function the stack pointer is `main`'s own: nothing would
                    // ever pop the variable.
                    self.err(CheckError::LocalOutsideFrame {
                        name: name.name.clone(),
                        span: sp(s.span),
                    });
                }
                let (t, size) = match &ty.kind {
                    TypeKind::Array(elem, n) => {
                        let elem = self.ty(elem)?;
                        let n = self.const_u64(n)?;
                        let esize = elem_size(elem);
                        let ptr = pointer_to(elem);
                        (ptr, esize.saturating_mul(n))
                    }
                    _ => {
                        let t = self.ty(ty)?;
                        (pointer_to(t), elem_size(t))
                    }
                };
                let slot = self.declare(&name.name, t);
                St::Local { slot, ty: t, size }
            }
            StmtKind::Recurse { name, depth, frame } => {
                let ok = self.stack_amount(depth, "recursion depth", false)
                    & self.stack_amount(frame, "frame size", true);
                let depth = self.int_expr(depth);
                let frame = self.size_expr(frame);
                St::Recurse {
                    name: name.name.clone(),
                    depth: depth?,
                    frame: frame.filter(|_| ok)?,
                }
            }
            StmtKind::Touch(t) => {
                let base = self.expr(&t.base);
                let start = self.int_expr(&t.range.start);
                let end = self.int_expr(&t.range.end);
                let step = t.step.as_ref().map(|e| self.int_expr(e));
                let value = t.value.as_ref().map(|e| self.int_expr(e));
                let base = base?;
                if !base.ty.is_ptr() && !base.ty.is_numeric() {
                    fail!(
                        self,
                        NotAPointer,
                        t.base.span,
                        "this is not an address",
                        "not a pointer",
                        "touch memory through a pointer: `read p[0..4 KiB]`",
                    );
                }
                if t.write && value.is_none() {
                    fail!(
                        self,
                        WriteValue,
                        s.span,
                        "a `write` needs the value to store",
                        "no `= VALUE`",
                        "write p[0..64 KiB] step 4 KiB = 0",
                    );
                }
                St::Touch {
                    write: t.write,
                    base,
                    start: start?,
                    end: end?,
                    inclusive: t.range.inclusive,
                    step: match step {
                        Some(s) => Some(s?),
                        None => None,
                    },
                    value: match value {
                        Some(v) => Some(v?),
                        None => None,
                    },
                }
            }
            StmtKind::Refs(items) => St::Refs(items.clone()),
            StmtKind::Trace { path } => St::Trace {
                path: path.value.clone(),
                full: self.allowed(path)?,
            },
            StmtKind::Sweep(sw) => St::Sweep(Box::new(self.sweep(sw, s.span)?)),
        };
        Some(Stmt { kind, span: s.span })
    }

    /// A sweep: each parameter's values expanded and checked as machine settings, the body and
    /// report checked in a copy of the environment (their `let`s stay inside).
    fn sweep(&mut self, sw: &ast::Sweep, span: Span) -> Option<SweepIr> {
        /// Runs beyond this are surely a mistake (and would take a long time).
        const MAX_VALUES: u64 = 10_000;
        let mut params = Vec::new();
        let mut ok = true;
        for p in &sw.params {
            let values: Vec<(String, Vec<ast::Arg>)> = match &p.values {
                ast::SweepValues::List(args) => args
                    .iter()
                    .map(|a| (arg_text(a), vec![a.clone()]))
                    .collect(),
                ast::SweepValues::Range {
                    start,
                    end,
                    inclusive,
                    unit,
                    span,
                } => {
                    let hi = if *inclusive {
                        end.saturating_add(1)
                    } else {
                        *end
                    };
                    if hi.saturating_sub(*start) > MAX_VALUES {
                        fail!(
                            self,
                            SweepSize,
                            *span,
                            format!("this range has {} values", hi.saturating_sub(*start)),
                            "too many values",
                            format!("a sweep takes at most {MAX_VALUES} values per parameter"),
                        );
                        ok = false;
                        continue;
                    }
                    (*start..hi)
                        .map(|n| {
                            let kind = match unit {
                                Some(u) => ast::ArgKind::Size(ast::SizeLit { value: n, unit: *u }),
                                None => ast::ArgKind::Int(n),
                            };
                            let a = ast::Arg {
                                kind,
                                span: *span,
                                hex: false,
                            };
                            (arg_text(&a), vec![a])
                        })
                        .collect()
                }
            };
            if values.is_empty() {
                fail!(
                    self,
                    SweepEmpty,
                    p.span,
                    format!("`{}` has no values to sweep", p.key.name),
                    "no values",
                    "write at least one value, such as `memory in 1..=4 pages`",
                );
                ok = false;
            }
            let mut cfg = crate::config::ScenarioConfig::default();
            for (_, a) in &values {
                if let Err(e) = machine::apply_setting(&mut cfg, &p.key.name, a, p.key.span) {
                    self.errors.push(Report::new(e));
                    ok = false;
                }
            }
            params.push(SweepParam {
                key: p.key.name.clone(),
                span: p.span,
                values,
            });
        }
        let combos = params
            .iter()
            .map(|p| p.values.len() as u64)
            .try_fold(1u64, |a, n| a.checked_mul(n));
        if combos.is_none_or(|n| n > MAX_VALUES) {
            fail!(
                self,
                SweepSize,
                span,
                "this sweep has too many combinations",
                "too many runs",
                format!("a sweep runs at most {MAX_VALUES} combinations"),
            );
            ok = false;
        }
        let mut inner = self.env.clone();
        let mut c = Checker {
            env: &mut inner,
            errors: Vec::new(),
            nested: true,
            in_sweep: true,
            failed_lets: self.failed_lets.clone(),
            frames: self.frames,
        };
        let body = c.block(&sw.body.stmts);
        let mut report = Vec::new();
        for r in &sw.report {
            if let Some(e) = c.expr(r) {
                report.push((String::new(), e));
            }
        }
        let errors = std::mem::take(&mut c.errors);
        let vars = inner.vars.len();
        if !errors.is_empty() {
            self.errors.extend(errors);
            return None;
        }
        if sw.report.is_empty() {
            report.push((
                "stats.faults".to_string(),
                TExpr {
                    kind: Ex::Special(Special::Stat(Stat::Faults)),
                    ty: Ty::U64,
                    span,
                },
            ));
        }
        ok.then_some(SweepIr {
            params,
            report,
            body,
            vars,
        })
    }

    fn unknown_process(&mut self, name: &str, span: Span) {
        let known: Vec<&str> = self.env.processes.iter().map(String::as_str).collect();
        let help = match suggest(name, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if known.is_empty() => "declare it first: `process NAME`".to_string(),
            None => format!("the processes are: {}", known.join(", ")),
        };
        self.err(CheckError::UnknownName {
            name: name.to_string(),
            span: sp(span),
            help,
        });
    }

    fn process(&mut self, p: &ast::ProcessDecl) -> Option<ProcessSpec> {
        let mut spec = ProcessSpec::default_program(&p.name.name, self.env.stack_limit);
        let Some(regions) = &p.regions else {
            return Some(spec);
        };
        spec.declared = true;
        spec.text = 0;
        spec.rodata = 0;
        spec.relro = 0;
        spec.data = 0;
        spec.bss = 0;
        spec.stack = false;
        spec.default = false;
        let mut ok = true;
        for r in regions {
            let size = match &r.size {
                Some(e) => self.const_size(e),
                None => Some(0),
            };
            let Some(size) = size else {
                ok = false;
                continue;
            };
            match r.kind.name.as_str() {
                "text" => spec.text = size,
                "rodata" => spec.rodata = size,
                "data" => spec.data = size,
                "bss" => spec.bss = size,
                "heap" => {}
                "stack" => {
                    spec.stack = true;
                    if size > 0 {
                        spec.stack_limit = size;
                    } else if r.size.is_some() {
                        self.err(CheckError::ZeroStack { span: sp(r.span) });
                        ok = false;
                    }
                }
                "mmap" => {
                    let at = match &r.at {
                        Some(e) => self.const_u64(e),
                        None => None,
                    };
                    let perms = r.perms.map_or(Perms::RW, |p| Perms {
                        r: p.read,
                        w: p.write,
                        x: p.exec,
                    });
                    if size == 0 {
                        fail!(
                            self,
                            MappingSize,
                            r.span,
                            "a mapping needs a size",
                            "no size",
                            "mmap lib at 0x7f0000000000 64 KiB r-x file \"libfoo.so\"",
                        );
                        ok = false;
                    }
                    spec.mmaps.push(MmapSpec {
                        name: r.name.as_ref().map(|n| n.name.clone()).unwrap_or_default(),
                        at,
                        size,
                        perms,
                        file: r
                            .file
                            .as_ref()
                            .map(|f| (f.value.clone(), self.mapped_file(f))),
                        shared: r.shared || r.perms.and_then(|p| p.shared).unwrap_or(false),
                    });
                }
                other => {
                    let help = match suggest(
                        other,
                        ["text", "rodata", "data", "bss", "heap", "stack", "mmap"],
                    ) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "regions are text, rodata, data, bss, heap, stack and mmap".into(),
                    };
                    fail!(
                        self,
                        UnknownRegion,
                        r.kind.span,
                        format!("unknown region `{other}`"),
                        "not a region",
                        help,
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(spec)
    }

    fn show(&mut self, target: &ast::Ident, args: &[Expr], span: Span) -> Option<ShowWhat> {
        let Some(t) = ShowTarget::from_name(&target.name) else {
            let other = target.name.as_str();
            let help = match suggest(other, SHOW_TARGETS) {
                Some(s) => format!("did you mean `show {s}`?"),
                None => format!("you can show: {}", SHOW_TARGETS.join(", ")),
            };
            self.err(CheckError::UnknownShow {
                name: other.to_string(),
                span: sp(target.span),
                help,
            });
            return None;
        };
        let what = match t {
            ShowTarget::Maps => Some(ShowWhat::Maps),
            ShowTarget::Smaps => Some(ShowWhat::Smaps),
            ShowTarget::PageTable => Some(ShowWhat::PageTable),
            ShowTarget::Tlb => Some(ShowWhat::Tlb),
            ShowTarget::Frames => Some(ShowWhat::Frames),
            ShowTarget::Heap => Some(ShowWhat::Heap),
            ShowTarget::Swap => Some(ShowWhat::Swap),
            ShowTarget::Stats => Some(ShowWhat::Stats),
            ShowTarget::Machine => Some(ShowWhat::Machine),
            // Targets with arguments are built below, once the arguments are checked.
            ShowTarget::Walk | ShowTarget::Memory => None,
        };
        let n = t.params().len();
        if args.len() != n {
            let usage = if n == 0 {
                "show TARGET".to_string()
            } else {
                t.usage()
            };
            self.err(CheckError::Arity {
                name: format!("show {}", target.name),
                expected: match n {
                    0 => "no arguments".into(),
                    1 => "1 argument".into(),
                    n => format!("{n} arguments"),
                },
                found: args.len().to_string(),
                usage,
                span: sp(span),
            });
            return None;
        }
        if let Some(w) = what {
            return Some(w);
        }
        let a: Vec<_> = args.iter().map(|e| self.expr(e)).collect();
        let a = a.into_iter().collect::<Option<Vec<_>>>()?;
        let mut a = a.into_iter();
        let first = a.next()?;
        Some(match a.next() {
            None => ShowWhat::Walk(first),
            Some(len) => ShowWhat::Memory(first, len),
        })
    }

    fn expect(&mut self, e: &ast::Expect) -> Option<St> {
        let (what, body) = match &e.kind {
            ExpectKind::Cond(c) => (ExpectIr::Cond(self.expr(c)?), Vec::new()),
            ExpectKind::Segfault { code, body } => {
                (ExpectIr::Segfault(*code), self.block(&body.stmts))
            }
            ExpectKind::Fault { kind, body } => (ExpectIr::Fault(*kind), self.block(&body.stmts)),
            ExpectKind::Abort { body } => (ExpectIr::Abort, self.block(&body.stmts)),
            ExpectKind::Oom { body } => (ExpectIr::Oom, self.block(&body.stmts)),
            ExpectKind::Sigbus { body } => (ExpectIr::Sigbus, self.block(&body.stmts)),
            ExpectKind::Warning { kind, body } => {
                if !WARNING_KINDS.contains(&kind.name.as_str()) {
                    self.err(CheckError::UnknownWarning {
                        name: kind.name.clone(),
                        span: sp(kind.span),
                    });
                }
                (
                    ExpectIr::Warning(kind.name.clone()),
                    self.block(&body.stmts),
                )
            }
        };
        Some(St::Expect { what, body })
    }

    fn target(&mut self, e: &Expr) -> Option<TExpr> {
        match &e.kind {
            ExprKind::Name(id)
                if self.env.slots.contains_key(&id.name)
                    && (self.env.processes.contains(&id.name)
                        || self.env.threads.contains(&id.name)) =>
            {
                let what = if self.env.processes.contains(&id.name) {
                    "process"
                } else {
                    "thread"
                };
                self.err(CheckError::AmbiguousTarget {
                    name: id.name.clone(),
                    what,
                    span: sp(id.span),
                });
                None
            }
            ExprKind::Name(id) if !self.env.slots.contains_key(&id.name) => {
                if self.env.processes.contains(&id.name)
                    || self.env.threads.contains(&id.name)
                    || id.name == "main"
                {
                    Some(TExpr {
                        kind: Ex::ProcName(id.name.clone()),
                        ty: Ty::LONG,
                        span: e.span,
                    })
                } else {
                    self.unknown_process(&id.name, id.span);
                    None
                }
            }
            ExprKind::Path(parts) if parts.len() == 2 => Some(TExpr {
                kind: Ex::ProcName(format!("{}.{}", parts[0].name, parts[1].name)),
                ty: Ty::LONG,
                span: e.span,
            }),
            _ => self.int_expr(e),
        }
    }

    fn ty(&mut self, t: &TypeExpr) -> Option<Ty> {
        match &t.kind {
            TypeKind::Prim(p) => Some(Ty::Int(*p)),
            TypeKind::Ptr(inner) => match self.ty(inner)? {
                Ty::Int(p) => Some(Ty::Ptr { base: p, depth: 1 }),
                Ty::Ptr { base, depth } => Some(Ty::Ptr {
                    base,
                    depth: depth.saturating_add(1),
                }),
                _ => None,
            },
            TypeKind::Array(..) => {
                fail!(self, ArrayType, t.span, "arrays are only for `local`", "array type here", "use a pointer type such as `*int`, or `local buf: char[256]` in a `call` block");
                None
            }
        }
    }

    fn assignable(&mut self, to: Ty, v: &TExpr) {
        let ok = match (to, v.ty) {
            (Ty::Ptr { .. }, Ty::Ptr { .. }) => true,
            (Ty::Ptr { .. }, t) => t.is_numeric(),
            (Ty::Int(_) | Ty::Size | Ty::Bool, t) => {
                t.is_numeric() || t.is_ptr() || t == Ty::Nothing
            }
            (Ty::Nothing, _) => true,
        };
        if !ok {
            fail!(
                self,
                TypeMismatch,
                v.span,
                format!("{} cannot hold {}", to.a(), v.ty.a()),
                format!("this is {}", v.ty.a()),
                "convert it with `as`, e.g. `x as *int`",
            );
        }
    }

    fn const_u64(&mut self, e: &Expr) -> Option<u64> {
        match &e.kind {
            ExprKind::Int(v) => Some(*v),
            ExprKind::Size(s) => self.size_lit(*s, e.span),
            _ => {
                fail!(
                    self,
                    NotConstant,
                    e.span,
                    "this must be a constant",
                    "not a literal",
                    "write a number or a size such as `4 KiB`",
                );
                None
            }
        }
    }

    fn const_size(&mut self, e: &Expr) -> Option<u64> {
        match &e.kind {
            ExprKind::Size(s) => self.size_lit(*s, e.span),
            ExprKind::Int(v) => Some(*v),
            _ => {
                self.err(CheckError::NotASize {
                    what: "this".into(),
                    span: sp(e.span),
                    help: "write a size with a unit: `64 KiB`, `8 MiB`, `3 pages`".into(),
                });
                None
            }
        }
    }

    fn size_lit(&mut self, s: ast::SizeLit, span: Span) -> Option<u64> {
        let unit = s.unit.bytes().unwrap_or(self.env.page_size);
        match s.value.checked_mul(unit) {
            Some(v) => Some(v),
            None => {
                self.err(CheckError::SizeOverflow { span: sp(span) });
                None
            }
        }
    }

    fn int_expr(&mut self, e: &Expr) -> Option<TExpr> {
        let t = self.expr(e)?;
        if matches!(t.ty, Ty::Nothing) {
            fail!(
                self,
                NoValue,
                e.span,
                "this has no value",
                "no value",
                "use an expression that gives a number",
            );
            return None;
        }
        Some(t)
    }

    /// Rejects a constant frame size or depth that is negative (or, with `nonzero`, zero: a
    /// recursion of empty frames never reaches the stack's limit). Returns whether it is fine.
    fn stack_amount(&mut self, e: &Expr, what: &str, nonzero: bool) -> bool {
        let Some(v) = self.const_signed(e) else {
            return true;
        };
        if v < 0 {
            self.err(CheckError::Stack {
                message: format!("a {what} cannot be negative"),
                span: sp(e.span),
                label: format!("{what} {v}"),
                help: format!("write a {what} of 0 or more"),
            });
            return false;
        }
        if v == 0 && nonzero {
            self.err(CheckError::Stack {
                message: "a recursion of 0-byte frames never uses the stack".into(),
                span: sp(e.span),
                label: "0 bytes per frame".into(),
                help: "give each frame a size, such as `frame 1 KiB`".into(),
            });
            return false;
        }
        true
    }

    /// The value of a literal, or of a negated one, with no diagnostics: `None` for anything
    /// else (or a size too large for 64 bits, reported elsewhere).
    fn const_signed(&self, e: &Expr) -> Option<i128> {
        match &e.kind {
            ExprKind::Int(v) => Some(i128::from(*v)),
            ExprKind::Size(s) => {
                let unit = s.unit.bytes().unwrap_or(self.env.page_size);
                s.value.checked_mul(unit).map(i128::from)
            }
            ExprKind::Unary(UnOp::Neg, inner) => self.const_signed(inner).map(|v| -v),
            _ => None,
        }
    }

    fn size_expr(&mut self, e: &Expr) -> Option<TExpr> {
        let t = self.expr(e)?;
        if t.ty.is_ptr() {
            self.err(CheckError::NotASize {
                what: "a pointer".into(),
                span: sp(e.span),
                help: "write a size with a unit: `1 KiB`".into(),
            });
            return None;
        }
        Some(t)
    }

    fn unknown_name(&mut self, name: &str, span: Span) {
        if self.failed_lets.iter().any(|n| n == name) {
            return;
        }
        let mut cands: Vec<&str> = self.env.slots.keys().map(String::as_str).collect();
        cands.extend(SPECIAL_NAMES);
        let help = match suggest(name, cands.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("define it first: `let {name} = ...`"),
        };
        self.err(CheckError::UnknownName {
            name: name.to_string(),
            span: sp(span),
            help,
        });
    }

    /// An expression where a value is needed: a string, permissions or a mapping flag is
    /// not one, and would otherwise run as a silent `none`.
    fn expr(&mut self, e: &Expr) -> Option<TExpr> {
        let t = self.expr_any(e)?;
        let what = match &t.kind {
            Ex::Str(_) => "a string",
            Ex::Perms(_, Some(_)) if matches!(e.kind, ExprKind::Name(_)) => "a mapping flag",
            Ex::Perms(..) => "permissions",
            Ex::FileArg(..) => "a file argument",
            _ => return Some(t),
        };
        let help = match t.kind {
            Ex::Str(_) => "strings are text for `print` (`print \"hello\", x`), file paths (`trace \"t.txt\"`) and profile names; a variable holds a number, a size or a pointer",
            _ => "permissions and mapping flags are arguments of `mmap` and `mprotect` only: `mmap(4 KiB, rw-, shared)`",
        };
        self.err(CheckError::NotAValue {
            what: what.into(),
            span: sp(e.span),
            help: help.into(),
        });
        None
    }

    /// Any expression, including the literals that are only arguments (`print` text, `mmap`
    /// permissions and flags).
    fn expr_any(&mut self, e: &Expr) -> Option<TExpr> {
        let mk = |kind, ty| {
            Some(TExpr {
                kind,
                ty,
                span: e.span,
            })
        };
        match &e.kind {
            ExprKind::Int(v) => mk(Ex::Const(*v), Ty::LONG),
            ExprKind::Size(s) => {
                let v = self.size_lit(*s, e.span)?;
                mk(Ex::Const(v), Ty::Size)
            }
            ExprKind::Str(s) => mk(Ex::Str(s.clone()), Ty::Nothing),
            ExprKind::Perms(p) => mk(
                Ex::Perms(
                    Perms {
                        r: p.read,
                        w: p.write,
                        x: p.exec,
                    },
                    p.shared,
                ),
                Ty::Nothing,
            ),
            ExprKind::FileArg(f) => {
                let full = self.mapped_file(f);
                mk(Ex::FileArg(f.value.clone(), full), Ty::Nothing)
            }
            ExprKind::Name(id) => {
                if let Some(&slot) = self.env.slots.get(&id.name) {
                    let ty = self.env.vars[slot as usize].1;
                    return mk(Ex::Var(slot), ty);
                }
                let Some(name) = SpecialName::from_name(&id.name) else {
                    if let "shared" | "private" = id.name.as_str() {
                        return mk(
                            Ex::Perms(Perms::NONE, Some(id.name == "shared")),
                            Ty::Nothing,
                        );
                    }
                    self.unknown_name(&id.name, id.span);
                    return None;
                };
                let special = match name {
                    SpecialName::Brk => (Special::Brk, Ty::VOIDP),
                    SpecialName::Sp => (Special::Sp, Ty::VOIDP),
                    SpecialName::Rss => (Special::Rss, Ty::Size),
                    SpecialName::Vsz => (Special::Vsz, Ty::Size),
                    SpecialName::PageSize => (Special::PageSize, Ty::Size),
                    SpecialName::Pid => (Special::Pid, Ty::LONG),
                    SpecialName::Null => return mk(Ex::Const(0), Ty::VOIDP),
                    SpecialName::None => return mk(Ex::Const(0), Ty::Nothing),
                };
                mk(Ex::Special(special.0), special.1)
            }
            ExprKind::Path(parts) => self.path(parts, e.span),
            ExprKind::Unary(op, inner) => {
                let t = self.int_expr(inner)?;
                let ty = match op {
                    UnOp::Not => Ty::Bool,
                    _ if t.ty.is_ptr() => {
                        fail!(
                            self,
                            PointerArithmetic,
                            inner.span,
                            "cannot negate a pointer",
                            "a pointer",
                            "convert it first: `(p as long)`",
                        );
                        return None;
                    }
                    _ => t.ty,
                };
                mk(Ex::Unary(*op, Box::new(t)), ty)
            }
            ExprKind::Binary(op, l, r) => {
                // `none` (what frame_of gives for a page not in RAM) only compares.
                let (l, r) = if matches!(op, BinOp::Eq | BinOp::Ne) {
                    (self.expr(l), self.expr(r))
                } else {
                    (self.int_expr(l), self.int_expr(r))
                };
                let (l, r) = (l?, r?);
                self.binary(*op, l, r, e.span)
            }
            ExprKind::Index { base, index } => {
                let b = self.expr(base);
                let i = self.int_expr(index);
                let (b, i) = (b?, i?);
                let Some((elem, size)) = b.ty.elem() else {
                    fail!(
                        self,
                        NotAPointer,
                        base.span,
                        format!("cannot index {}", b.ty.a()),
                        format!("this is {}, not a pointer", b.ty.a()),
                        "declare it as a pointer: `let p: *int = malloc(40)`",
                    );
                    return None;
                };
                if i.ty.is_ptr() {
                    fail!(
                        self,
                        IndexType,
                        index.span,
                        "an index must be an integer",
                        "a pointer",
                        "index with a number: `p[3]`",
                    );
                    return None;
                }
                let addr = TExpr {
                    kind: Ex::Binary(
                        BinOp::Add,
                        BinKind::PtrOffset { scale: size },
                        Box::new(b.clone()),
                        Box::new(i),
                    ),
                    ty: b.ty,
                    span: e.span,
                };
                mk(load(addr, elem, size), elem)
            }
            ExprKind::Deref(inner) => {
                let b = self.expr(inner)?;
                let Some((elem, size)) = b.ty.elem() else {
                    fail!(
                        self,
                        NotAPointer,
                        inner.span,
                        format!("cannot dereference {}", b.ty.a()),
                        format!("this is {}, not a pointer", b.ty.a()),
                        "dereference a pointer: `*p`; convert a number with `(x as *long)`",
                    );
                    return None;
                };
                mk(load(b, elem, size), elem)
            }
            ExprKind::AddrOf(inner) => {
                let t = self.expr(inner)?;
                match t.kind {
                    Ex::Load { addr, .. } => Some(TExpr {
                        ty: addr.ty,
                        span: e.span,
                        kind: addr.kind,
                    }),
                    _ => {
                        fail!(
                            self,
                            AddressOf,
                            inner.span,
                            "cannot take the address of this",
                            "not in memory",
                            "take the address of an element: `&p[3]`",
                        );
                        None
                    }
                }
            }
            ExprKind::SizeOf(t) => {
                let ty = self.ty(t)?;
                mk(Ex::Const(elem_size(ty)), Ty::Int(Prim::U64))
            }
            ExprKind::Cast(inner, t) => {
                let v = self.int_expr(inner)?;
                let ty = self.ty(t)?;
                mk(Ex::Cast(Box::new(v)), ty)
            }
            ExprKind::Call { name, args } => self.call(name, args, e.span),
        }
    }

    fn path(&mut self, parts: &[ast::Ident], span: Span) -> Option<TExpr> {
        let first = parts[0].name.as_str();
        let rest: Vec<&str> = parts[1..].iter().map(|p| p.name.as_str()).collect();
        let mk = |kind, ty| Some(TExpr { kind, ty, span });
        if first == "stats" {
            let name = rest.join(".");
            let Some(stat) = Stat::from_name(&name) else {
                let help = match suggest(&name, STAT_NAMES) {
                    Some(s) => format!("did you mean `stats.{s}`?"),
                    None => format!("the statistics are: {}", STAT_NAMES.join(", ")),
                };
                self.err(CheckError::UnknownName {
                    name: format!("stats.{name}"),
                    span: sp(span),
                    help,
                });
                return None;
            };
            return mk(Ex::Special(Special::Stat(stat)), Ty::U64);
        }
        if rest.len() == 1 {
            let field = RegionField::from_name(rest[0]);
            if let Some(f) = field {
                let ty = if f == RegionField::Size {
                    Ty::Size
                } else {
                    Ty::VOIDP
                };
                let region = match RegionName::from_name(first) {
                    Some(r) => RegionRef::Fixed(r),
                    None => RegionRef::Named(first.to_string()),
                };
                return mk(Ex::Special(Special::Region(region, f)), ty);
            }
            self.err(CheckError::UnknownName {
                name: format!("{first}.{}", rest[0]),
                span: sp(parts[1].span),
                help: "a region has `.start`, `.end` (or `.top`) and `.size`".into(),
            });
            return None;
        }
        self.err(CheckError::UnknownName {
            name: parts
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join("."),
            span: sp(span),
            help: "write `REGION.start`, `REGION.end`, `REGION.size` or `stats.NAME`".into(),
        });
        None
    }

    fn binary(&mut self, op: BinOp, l: TExpr, r: TExpr, span: Span) -> Option<TExpr> {
        use BinOp::*;
        let signed = |t: Ty| {
            !matches!(t, Ty::Int(p) if !p.signed()) && !matches!(t, Ty::Size | Ty::Ptr { .. })
        };
        let (kind, ty) = match op {
            Eq | Ne | Lt | Le | Gt | Ge => (
                BinKind::Int {
                    signed: signed(l.ty) && signed(r.ty),
                },
                Ty::Bool,
            ),
            And | Or => (BinKind::Int { signed: false }, Ty::Bool),
            Add | Sub if l.ty.is_ptr() || r.ty.is_ptr() => match (l.ty, r.ty, op) {
                (Ty::Ptr { .. }, Ty::Ptr { .. }, Sub) => {
                    let scale = l.ty.elem().map_or(1, |e| e.1);
                    (BinKind::PtrDiff { scale }, Ty::LONG)
                }
                (Ty::Ptr { .. }, Ty::Ptr { .. }, _) => {
                    fail!(
                        self,
                        PointerArithmetic,
                        span,
                        "cannot add two pointers",
                        "pointer + pointer",
                        "subtract them to get a distance, or add a number to one",
                    );
                    return None;
                }
                (Ty::Ptr { .. }, other, _) => {
                    let scale = if other == Ty::Size {
                        1
                    } else {
                        l.ty.elem().map_or(1, |e| e.1)
                    };
                    (BinKind::PtrOffset { scale }, l.ty)
                }
                (other, Ty::Ptr { .. }, Add) => {
                    let scale = if other == Ty::Size {
                        1
                    } else {
                        r.ty.elem().map_or(1, |e| e.1)
                    };
                    // Normalise to pointer + offset.
                    return Some(TExpr {
                        kind: Ex::Binary(
                            Add,
                            BinKind::PtrOffset { scale },
                            Box::new(r.clone()),
                            Box::new(l),
                        ),
                        ty: r.ty,
                        span,
                    });
                }
                _ => {
                    fail!(
                        self,
                        PointerArithmetic,
                        span,
                        "cannot subtract a pointer from a number",
                        "number − pointer",
                        "subtract the number from the pointer instead",
                    );
                    return None;
                }
            },
            _ => {
                let ty = match (l.ty, r.ty) {
                    (Ty::Size, Ty::Size) if matches!(op, Div) => Ty::U64,
                    (Ty::Size, _) | (_, Ty::Size) if matches!(op, Add | Sub | Mul | Div | Rem) => {
                        Ty::Size
                    }
                    (Ty::Ptr { .. }, _) | (_, Ty::Ptr { .. }) => Ty::U64,
                    (Ty::Int(Prim::U64), _) | (_, Ty::Int(Prim::U64)) => Ty::U64,
                    _ => Ty::LONG,
                };
                (
                    BinKind::Int {
                        signed: signed(l.ty) && signed(r.ty),
                    },
                    ty,
                )
            }
        };
        Some(TExpr {
            kind: Ex::Binary(op, kind, Box::new(l), Box::new(r)),
            ty,
            span,
        })
    }

    fn call(&mut self, name: &ast::Ident, args: &[Expr], span: Span) -> Option<TExpr> {
        let Some(b) = Builtin::from_name(&name.name) else {
            let other = name.name.as_str();
            let help = match suggest(other, BUILTIN_NAMES) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the builtins are: {}", BUILTIN_NAMES.join(", ")),
            };
            self.err(CheckError::UnknownFunction {
                name: other.to_string(),
                span: sp(name.span),
                help,
            });
            return None;
        };
        let spec = b.spec();
        let (min, max) = (spec.required, spec.params.len());
        let ty = match spec.returns {
            Returns::Pointer => Ty::VOIDP,
            Returns::Nothing => Ty::Nothing,
            Returns::Long => Ty::LONG,
            Returns::Int => Ty::Int(Prim::I32),
            Returns::U64 => Ty::U64,
            Returns::Size => Ty::Size,
        };
        if args.len() < min || args.len() > max {
            let usage = spec.usage;
            self.err(CheckError::Arity {
                name: name.name.clone(),
                expected: if min == max {
                    crate::units::count(min as u64, "argument")
                } else {
                    format!("{min} to {max} arguments")
                },
                found: args.len().to_string(),
                usage: usage.to_string(),
                span: sp(span),
            });
            return None;
        }
        let targs: Vec<_> = args.iter().map(|a| self.expr_any(a)).collect();
        let targs = targs.into_iter().collect::<Option<Vec<_>>>()?;
        // Arguments that must be permissions, and those that must be numbers.
        for (i, a) in targs.iter().enumerate() {
            let kind = spec.params.get(i).copied().unwrap_or(ParamKind::Value);
            let wants_perms = kind == ParamKind::Perms;
            let wants_flag = kind == ParamKind::MapFlag;
            let wants_file = kind == ParamKind::File;
            let is_perms = matches!(a.kind, Ex::Perms(..));
            let is_flag = matches!(a.kind, Ex::Perms(Perms::NONE, Some(_)) | Ex::FileArg(..));
            if wants_perms && !is_perms {
                fail!(
                    self,
                    ArgumentType,
                    a.span,
                    "expected permissions",
                    "not permissions",
                    "write permissions such as `rw-` or `r-x`",
                );
            } else if wants_file && !matches!(a.kind, Ex::FileArg(..)) {
                fail!(
                    self,
                    ArgumentType,
                    a.span,
                    "expected `file \"path\"`",
                    "not a file",
                    "load_dump(file \"memory.txt\")",
                );
            } else if wants_flag && !is_flag {
                fail!(
                    self,
                    ArgumentType,
                    a.span,
                    "expected `shared`, `private` or `file \"path\"`",
                    "not a mapping flag",
                    "mmap(4 KiB, rw-, shared, file \"data.bin\")",
                );
            } else if kind == ParamKind::Value && a.ty == Ty::Nothing {
                fail!(
                    self,
                    ArgumentType,
                    a.span,
                    "expected a number or a pointer",
                    "no value",
                    format!("call it as `{}`", spec.usage),
                );
            }
        }
        Some(TExpr {
            kind: Ex::Call(b, targs),
            ty,
            span,
        })
    }
}

fn load(addr: TExpr, elem: Ty, size: u64) -> Ex {
    Ex::Load {
        addr: Box::new(addr),
        width: size as u8,
        signed: matches!(elem, Ty::Int(p) if p.signed()),
    }
}

fn elem_size(t: Ty) -> u64 {
    match t {
        Ty::Int(p) => p.size(),
        _ => 8,
    }
}

fn pointer_to(t: Ty) -> Ty {
    match t {
        Ty::Int(p) => Ty::Ptr { base: p, depth: 1 },
        Ty::Ptr { base, depth } => Ty::Ptr {
            base,
            depth: depth.saturating_add(1),
        },
        _ => Ty::VOIDP,
    }
}

/// Gives a value the declared type of the variable it goes into (narrowing integers).
fn retype(v: TExpr, ty: Ty) -> TExpr {
    if v.ty == ty {
        return v;
    }
    let span = v.span;
    TExpr {
        kind: Ex::Cast(Box::new(v)),
        ty,
        span,
    }
}

/// A sweep value as the table shows it: `fifo`, `3 pages`, `4 KiB`.
fn arg_text(a: &ast::Arg) -> String {
    use ast::{ArgKind, SizeUnit};
    match &a.kind {
        ArgKind::Int(n) => n.to_string(),
        ArgKind::Word(w) => w.clone(),
        ArgKind::Ways(n) => format!("{n}-way"),
        ArgKind::Str(s) => format!("\"{s}\""),
        ArgKind::Size(s) => {
            let u = match s.unit {
                SizeUnit::B => "B",
                SizeUnit::KiB => "KiB",
                SizeUnit::MiB => "MiB",
                SizeUnit::GiB => "GiB",
                SizeUnit::TiB => "TiB",
                SizeUnit::Pages if s.value == 1 => "page",
                SizeUnit::Pages => "pages",
            };
            format!("{} {u}", s.value)
        }
    }
}

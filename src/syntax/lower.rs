//! Lowering: pest pairs of `grammar/mem.pest` into the owned AST of [`super::ast`].
//!
//! Lowering never fails outright: problems that the grammar lets through (an integer that does
//! not fit in 64 bits, bad permissions, an unknown escape, `1 + 2 = 3`, nesting too deep) are
//! collected as [`ParseError`]s and a placeholder node takes the place of the bad one.

use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::elide::Elided;
use super::grammar::Rule;
use super::refs::PageRefsBuilder;
use crate::diag::parse::ParseError;

/// The deepest nesting (blocks, brackets, operators in one expression) lowering accepts unless
/// told otherwise.
pub const DEFAULT_MAX_DEPTH: usize = 200;

type P<'i> = Pair<'i, Rule>;

/// The grammar rule that spells an infix operator.
fn infix_rule(op: BinOp) -> Rule {
    match op {
        BinOp::Or => Rule::or,
        BinOp::And => Rule::and,
        BinOp::Eq => Rule::eq,
        BinOp::Ne => Rule::ne,
        BinOp::Lt => Rule::lt,
        BinOp::Le => Rule::le,
        BinOp::Gt => Rule::gt,
        BinOp::Ge => Rule::ge,
        BinOp::BitOr => Rule::bit_or,
        BinOp::BitXor => Rule::bit_xor,
        BinOp::BitAnd => Rule::bit_and,
        BinOp::Shl => Rule::shl,
        BinOp::Shr => Rule::shr,
        BinOp::Add => Rule::add,
        BinOp::Sub => Rule::sub,
        BinOp::Mul => Rule::mul,
        BinOp::Div => Rule::div,
        BinOp::Rem => Rule::rem,
    }
}

/// The operator table, built from the vocabulary's precedences (loosest first).
fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        let mut p = PrattParser::new();
        let top = crate::words::PREFIX_PRECEDENCE;
        for level in 1..top {
            let mut ops = crate::words::OPERATORS
                .iter()
                .filter(|o| o.op.precedence() == level)
                .map(|o| Op::infix(infix_rule(o.op), Assoc::Left));
            if let Some(first) = ops.next() {
                p = p.op(ops.fold(first, |all, o| all | o));
            }
        }
        p.op(Op::prefix(Rule::neg)
            | Op::prefix(Rule::not)
            | Op::prefix(Rule::bit_not)
            | Op::prefix(Rule::deref)
            | Op::prefix(Rule::addr_of))
            .op(Op::postfix(Rule::index)
                | Op::postfix(Rule::cast)
                | Op::postfix(Rule::call_args)
                | Op::postfix(Rule::path_tail))
    })
}

/// Turns pairs into AST nodes, offsetting every span by `base` (the chunk offset of the text
/// that was parsed) and collecting errors on the way.
pub(super) struct Lowerer<'s> {
    /// The whole chunk (spans are offsets into it).
    src: &'s str,
    base: usize,
    /// The runs of references cut from what pest parsed, if any: positions past a cut are
    /// mapped back to the source's.
    elided: Option<&'s Elided>,
    errors: RefCell<Vec<ParseError>>,
    depth: Cell<usize>,
    max_depth: usize,
    /// Set once a too-deep error was reported, so that one deep expression gives one error.
    too_deep: Cell<bool>,
}

impl<'s> Lowerer<'s> {
    pub(super) fn new(src: &'s str, base: usize, max_depth: usize) -> Self {
        Lowerer {
            src,
            base,
            elided: None,
            errors: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            max_depth,
            too_deep: Cell::new(false),
        }
    }

    /// Lowers what pest parsed of `elided`'s text, the source being `src`.
    pub(super) fn eliding(mut self, elided: &'s Elided) -> Self {
        self.elided = Some(elided);
        self
    }

    pub(super) fn into_errors(self) -> Vec<ParseError> {
        self.errors.into_inner()
    }

    fn error(&self, e: ParseError) {
        self.errors.borrow_mut().push(e);
    }

    // -----------------------------------------------------------------------------------------
    // Spans

    fn span(&self, p: &P<'_>) -> Span {
        let s = p.as_span();
        Span::new(self.pos(s.start()), self.pos(s.end()))
    }

    /// The source position of position `at` of what pest parsed.
    fn pos(&self, at: usize) -> usize {
        self.base + self.elided.map_or(at, |e| e.orig(at))
    }

    /// The span of a pair without the spaces and comments pest may have skipped at its end.
    fn trimmed(&self, p: &P<'_>) -> Span {
        let s = self.span(p);
        Span::new(s.start, trim_end(self.src, s.start, s.end))
    }

    // -----------------------------------------------------------------------------------------
    // Depth guard

    /// Runs `f` one level deeper; past the maximum depth reports an error and returns `None`.
    fn nested<T>(&self, span: Span, f: impl FnOnce() -> T) -> Option<T> {
        let d = self.depth.get();
        if d >= self.max_depth {
            if !self.too_deep.replace(true) {
                self.error(ParseError::TooDeep {
                    limit: self.max_depth,
                    span: span.into(),
                });
            }
            return None;
        }
        self.depth.set(d + 1);
        let r = f();
        self.depth.set(d);
        Some(r)
    }

    // -----------------------------------------------------------------------------------------
    // Statements

    /// `program` or `single_stmt`: the statements in it.
    pub(super) fn stmts(&self, p: P<'_>) -> Vec<Stmt> {
        p.into_inner()
            .filter(|q| q.as_rule() == Rule::stmt)
            .filter_map(|q| self.stmt(q))
            .collect()
    }

    fn block(&self, p: P<'_>) -> Block {
        let span = self.span(&p);
        let stmts = self
            .nested(span, || {
                p.into_inner()
                    .filter(|q| q.as_rule() == Rule::stmt)
                    .filter_map(|q| self.stmt(q))
                    .collect()
            })
            .unwrap_or_default();
        Block { stmts, span }
    }

    fn stmt(&self, p: P<'_>) -> Option<Stmt> {
        let span = self.trimmed(&p);
        let inner = p.into_inner().next()?;
        let kind = self.stmt_kind(inner)?;
        Some(Stmt { kind, span })
    }

    fn stmt_kind(&self, p: P<'_>) -> Option<StmtKind> {
        let rule = p.as_rule();
        let mut it = p.into_inner().filter(|q| !is_punct(q.as_rule()));
        Some(match rule {
            Rule::machine_stmt => {
                let mut base = None;
                let mut settings = Vec::new();
                for q in it {
                    match q.as_rule() {
                        Rule::string => base = Some(ProfileRef::File(self.str_lit(q))),
                        Rule::ident => base = Some(ProfileRef::Builtin(self.ident(&q))),
                        Rule::settings_block => settings = self.settings(q),
                        _ => {}
                    }
                }
                StmtKind::Machine(MachineSpec { base, settings })
            }
            Rule::process_stmt => {
                let name = self.ident(&it.next()?);
                let regions = it.next().map(|b| {
                    b.into_inner()
                        .filter(|q| q.as_rule() == Rule::region)
                        .filter_map(|q| self.region(q))
                        .collect()
                });
                StmtKind::Process(ProcessDecl { name, regions })
            }
            Rule::thread_stmt => {
                let who = it.next()?;
                let (process, name) = if who.as_rule() == Rule::thread_path {
                    let mut parts = who.into_inner();
                    let pr = self.ident(&parts.next()?);
                    let th = self.ident(&parts.next()?);
                    (Some(pr), th)
                } else {
                    (None, self.ident(&who))
                };
                let stack = it
                    .nth(1)
                    .and_then(|s| s.into_inner().next())
                    .map(|e| self.expr(e));
                StmtKind::Thread(ThreadDecl {
                    process,
                    name,
                    stack,
                })
            }
            Rule::let_stmt => {
                let name = self.ident(&it.next()?);
                let mut ty = None;
                let mut value = None;
                for q in it {
                    match q.as_rule() {
                        Rule::type_expr => ty = Some(self.type_expr(q)),
                        Rule::expr => value = Some(self.expr(q)),
                        _ => {}
                    }
                }
                StmtKind::Let {
                    name,
                    ty,
                    value: value?,
                }
            }
            Rule::expr_stmt => {
                let first = self.expr(it.next()?);
                match it.next() {
                    Some(v) => {
                        let value = self.expr(v);
                        let stmt_text = &self.src[first.span.start..value.span.end];
                        if let Some(fixed) = super::errors::c_declaration(stmt_text) {
                            // `int *p = malloc(10)` parses as `int * p = ...`: C's declaration.
                            self.error(ParseError::CDeclaration {
                                span: (first.span.start..value.span.end).into(),
                                help: format!("declare with `{fixed}`"),
                            });
                        } else if !matches!(
                            first.kind,
                            ExprKind::Name(_) | ExprKind::Index { .. } | ExprKind::Deref(_)
                        ) {
                            self.error(ParseError::BadAssignTarget {
                                span: first.span.into(),
                            });
                        }
                        StmtKind::Assign {
                            target: first,
                            value,
                        }
                    }
                    None => StmtKind::Expr(first),
                }
            }
            Rule::print_stmt => StmtKind::Print(it.map(|q| self.expr(q)).collect()),
            Rule::show_stmt => {
                let target = self.ident(&it.next()?);
                let args = it.map(|q| self.expr(q)).collect();
                StmtKind::Show { target, args }
            }
            Rule::expect_stmt => StmtKind::Expect(self.expect(it.next()?)?),
            Rule::for_stmt => {
                let var = self.ident(&it.next()?);
                let range = self.range(it.next()?)?;
                let body = self.block(it.next()?);
                StmtKind::For { var, range, body }
            }
            Rule::repeat_stmt => {
                let count = self.expr(it.next()?);
                let body = self.block(it.next()?);
                StmtKind::Repeat { count, body }
            }
            Rule::if_stmt => self.if_stmt(&mut it)?,
            Rule::in_stmt => {
                let target = self.expr(it.next()?);
                let body = self.block(it.next()?);
                StmtKind::In { target, body }
            }
            Rule::switch_stmt => StmtKind::Switch {
                target: self.expr(it.next()?),
            },
            Rule::call_stmt => {
                let name = self.ident(&it.next()?);
                let frame = self.wrapped_expr(it.nth(1)?)?;
                let body = self.block(it.next()?);
                StmtKind::Call { name, frame, body }
            }
            Rule::local_stmt => {
                let name = self.ident(&it.next()?);
                let mut ty = self.type_expr(it.next()?);
                let dims: Vec<P<'_>> = it.filter(|q| q.as_rule() == Rule::array_dim).collect();
                for d in dims.into_iter().rev() {
                    let dspan = self.span(&d);
                    let n = d
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::expr)
                        .map(|e| self.expr(e))?;
                    let span = ty.span.to(dspan);
                    ty = TypeExpr {
                        kind: TypeKind::Array(Box::new(ty), Box::new(n)),
                        span,
                    };
                }
                StmtKind::Local { name, ty }
            }
            Rule::recurse_stmt => {
                let name = self.ident(&it.next()?);
                let depth = self.expr(it.next()?);
                let frame = self.wrapped_expr(it.nth(1)?)?;
                StmtKind::Recurse { name, depth, frame }
            }
            Rule::read_stmt | Rule::write_stmt => {
                let write = rule == Rule::write_stmt;
                let base = self.wrapped_primary(it.next()?)?;
                let range = self.range(
                    it.next()?
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::range)?,
                )?;
                let mut step = None;
                let mut value = None;
                let mut after_step = false;
                for q in it {
                    match q.as_rule() {
                        Rule::kw_step => after_step = true,
                        Rule::expr if after_step => {
                            step = Some(self.expr(q));
                            after_step = false;
                        }
                        Rule::expr => value = Some(self.expr(q)),
                        _ => {}
                    }
                }
                StmtKind::Touch(Touch {
                    write,
                    base,
                    range,
                    step,
                    value,
                })
            }
            Rule::refs_stmt => StmtKind::Refs(
                it.find(|q| q.as_rule() == Rule::page_refs)
                    .map(|q| self.page_refs(&q))
                    .unwrap_or_default(),
            ),
            Rule::trace_stmt => StmtKind::Trace {
                path: self.str_lit(it.next()?),
            },
            Rule::sweep_stmt => {
                let mut params = Vec::new();
                let mut report = Vec::new();
                let mut body = None;
                for q in it {
                    match q.as_rule() {
                        Rule::sweep_param => params.extend(self.sweep_param(q)),
                        Rule::sweep_report => {
                            report = q
                                .into_inner()
                                .filter(|e| e.as_rule() == Rule::expr)
                                .map(|e| self.expr(e))
                                .collect()
                        }
                        Rule::block => body = Some(self.block(q)),
                        _ => {}
                    }
                }
                StmtKind::Sweep(Sweep {
                    params,
                    report,
                    body: body?,
                })
            }
            _ => return None,
        })
    }

    /// The rest of an `if_stmt` after `if`.
    fn if_stmt<'i>(&self, it: &mut dyn Iterator<Item = P<'i>>) -> Option<StmtKind> {
        let cond = self.expr(it.next()?);
        let then = self.block(it.next()?);
        let otherwise = match it.next() {
            Some(e) => {
                let inner = e.into_inner().find(|q| q.as_rule() != Rule::kw_else)?;
                if inner.as_rule() == Rule::block {
                    Some(self.block(inner))
                } else {
                    // `else if ...`: a block holding the nested `if`.
                    let span = self.trimmed(&inner);
                    let nested = self.nested(span, || {
                        let mut sub = inner.into_inner().filter(|q| !is_punct(q.as_rule()));
                        self.if_stmt(&mut sub)
                    })??;
                    Some(Block {
                        stmts: vec![Stmt { kind: nested, span }],
                        span,
                    })
                }
            }
            None => None,
        };
        Some(StmtKind::If {
            cond,
            then,
            otherwise,
        })
    }

    fn expect(&self, p: P<'_>) -> Option<Expect> {
        let rule = p.as_rule();
        if rule == Rule::expr {
            return Some(Expect {
                kind: ExpectKind::Cond(self.expr(p)),
            });
        }
        let mut word = None;
        let mut body = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::block => body = Some(self.block(q)),
                Rule::segv_code | Rule::fault_kind | Rule::ident => word = Some(q),
                _ => {}
            }
        }
        let body = body?;
        let kind = match rule {
            Rule::expect_segfault => ExpectKind::Segfault {
                code: word.map(|w| {
                    if w.as_str() == "maperr" {
                        SegvCode::MapErr
                    } else {
                        SegvCode::AccErr
                    }
                }),
                body,
            },
            Rule::expect_fault => ExpectKind::Fault {
                kind: match word.as_ref().map(|w| w.as_str()) {
                    Some("minor") => FaultExpect::Minor,
                    Some("major") => FaultExpect::Major,
                    _ => FaultExpect::Any,
                },
                body,
            },
            Rule::expect_no_fault => ExpectKind::Fault {
                kind: FaultExpect::None,
                body,
            },
            Rule::expect_abort => ExpectKind::Abort { body },
            Rule::expect_oom => ExpectKind::Oom { body },
            Rule::expect_sigbus => ExpectKind::Sigbus { body },
            Rule::expect_warning => ExpectKind::Warning {
                kind: self.ident(&word?),
                body,
            },
            _ => return None,
        };
        Some(Expect { kind })
    }

    // -----------------------------------------------------------------------------------------
    // Machine settings, regions, sweeps

    fn settings(&self, p: P<'_>) -> Vec<Setting> {
        p.into_inner()
            .filter(|q| q.as_rule() == Rule::setting)
            .filter_map(|q| {
                let span = self.trimmed(&q);
                let mut it = q.into_inner();
                let key = self.ident(&it.next()?);
                let args = it.filter_map(|a| self.arg(a)).collect();
                Some(Setting { key, args, span })
            })
            .collect()
    }

    /// A setting argument or a sweep list item.
    fn arg(&self, p: P<'_>) -> Option<Arg> {
        let span = self.span(&p);
        let hex = p.as_rule() == Rule::number && {
            let t = p.as_str().trim_start();
            t.starts_with("0x") || t.starts_with("0X")
        };
        let kind = match p.as_rule() {
            Rule::ways => {
                let text = p.as_str();
                let digits = text.strip_suffix("-way").unwrap_or(text);
                ArgKind::Ways(self.int_value(digits, span))
            }
            Rule::number => match self.number(p) {
                ExprKind::Size(s) => ArgKind::Size(s),
                ExprKind::Int(v) => ArgKind::Int(v),
                _ => return None,
            },
            Rule::string => ArgKind::Str(self.str_lit(p).value),
            Rule::word => ArgKind::Word(p.as_str().to_string()),
            _ => return None,
        };
        Some(Arg { kind, span, hex })
    }

    fn region(&self, p: P<'_>) -> Option<RegionDecl> {
        let span = self.trimmed(&p);
        let inner = p.into_inner().next()?;
        let mut r = RegionDecl {
            kind: Ident {
                name: String::new(),
                span,
            },
            name: None,
            at: None,
            size: None,
            perms: None,
            file: None,
            shared: false,
            span,
        };
        for q in inner.into_inner() {
            match q.as_rule() {
                Rule::region_kind | Rule::kw_mmap => r.kind = self.ident(&q),
                Rule::ident => r.name = Some(self.ident(&q)),
                Rule::region_addr => r.at = self.wrapped_primary(q),
                Rule::region_size => r.size = self.wrapped_primary(q),
                Rule::perms | Rule::bad_perms => r.perms = Some(self.perms(&q)),
                Rule::string => r.file = Some(self.str_lit(q)),
                Rule::sharing => r.shared = q.as_str() == "shared",
                _ => {}
            }
        }
        Some(r)
    }

    fn sweep_param(&self, p: P<'_>) -> Option<SweepParam> {
        let span = self.trimmed(&p);
        let mut it = p.into_inner().filter(|q| !is_punct(q.as_rule()));
        let key = self.ident(&it.next()?);
        let v = it.find(|q| q.as_rule() != Rule::kw_in)?;
        let values = if v.as_rule() == Rule::sweep_list {
            SweepValues::List(v.into_inner().filter_map(|a| self.arg(a)).collect())
        } else {
            let vspan = self.trimmed(&v);
            let mut nums = Vec::new();
            let mut inclusive = false;
            let mut unit = None;
            for q in v.into_inner() {
                match q.as_rule() {
                    Rule::size_num => nums.push(self.int_value(q.as_str(), self.span(&q))),
                    Rule::range_op => inclusive = q.as_str() == "..=",
                    Rule::size_unit => unit = Some(unit_of(q.as_str())),
                    _ => {}
                }
            }
            SweepValues::Range {
                start: nums.first().copied().unwrap_or(0),
                end: nums.get(1).copied().unwrap_or(0),
                inclusive,
                unit,
                span: vspan,
            }
        };
        Some(SweepParam { key, values, span })
    }

    /// The items of a `refs` statement, read from its one token by
    /// [`PageRefsBuilder::read_text`]: page numbers separated by spaces, tabs and line
    /// continuations, each with an optional `w` (write) or `r` (read). Nothing is allocated per
    /// item, and an item's span is made only for one that is not a plain decimal number
    /// ([`Lowerer::page_ref`] knows every other form and error).
    fn page_refs(&self, p: &P<'_>) -> PageRefs {
        let span = self.span(p);
        if let Some(e) = self.elided {
            e.cover(p.as_span().start(), p.as_span().end());
        }
        // From the source, not from what pest parsed (which may hold a stand-in).
        let start = span.start;
        let bytes = &self.src.as_bytes()[start..span.end];
        let mut refs = PageRefsBuilder::default();
        refs.read_text(bytes, |at| {
            self.page_ref(
                &bytes[at.clone()],
                Span::new(start + at.start, start + at.end),
            )
        });
        refs.finish()
    }

    /// An item that is not a plain decimal number: another radix, `_` separators, or an error
    /// reported at `span` (the item then counts as page 0 so that the rest is still checked).
    fn page_ref(&self, item: &[u8], span: Span) -> (u64, bool) {
        let text = String::from_utf8_lossy(item);
        let (digits, write) = match item.last() {
            Some(b'w') => (&text[..text.len() - 1], true),
            Some(b'r') => (&text[..text.len() - 1], false),
            _ => (&text[..], false),
        };
        if !is_int_body(digits) {
            self.error(ParseError::BadRef {
                text: text.to_string(),
                span: span.into(),
            });
            return (0, write);
        }
        (self.int_value(digits, span), write)
    }

    fn range(&self, p: P<'_>) -> Option<RangeExpr> {
        let mut start = None;
        let mut end = None;
        let mut inclusive = false;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::expr if start.is_none() => start = Some(self.expr(q)),
                Rule::expr => end = Some(self.expr(q)),
                Rule::range_op => inclusive = q.as_str() == "..=",
                _ => {}
            }
        }
        let (start, end) = (start?, end?);
        let span = start.span.to(end.span);
        Some(RangeExpr {
            start,
            end,
            inclusive,
            span,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Types

    fn type_expr(&self, p: P<'_>) -> TypeExpr {
        let span = self.span(&p);
        let inner = p.into_inner().next();
        let kind = match inner {
            Some(q) if q.as_rule() == Rule::ptr_type => {
                let qspan = self.span(&q);
                match q.into_inner().next() {
                    Some(t) => match self.nested(qspan, || self.type_expr(t)) {
                        Some(t) => TypeKind::Ptr(Box::new(t)),
                        None => TypeKind::Prim(Prim::U8),
                    },
                    None => TypeKind::Prim(Prim::U8),
                }
            }
            Some(q) => TypeKind::Prim(Prim::from_name(q.as_str()).unwrap_or(Prim::U8)),
            None => TypeKind::Prim(Prim::U8),
        };
        TypeExpr { kind, span }
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// A rule that wraps one `expr` (`frame_size`, `stack_size`).
    fn wrapped_expr(&self, p: P<'_>) -> Option<Expr> {
        p.into_inner().next().map(|e| self.expr(e))
    }

    /// A rule that wraps one primary, perhaps with call arguments or a path tail
    /// (`region_size`, `region_addr`, `touch_base`).
    fn wrapped_primary(&self, p: P<'_>) -> Option<Expr> {
        let span = self.span(&p);
        self.nested(span, || self.pratt_expr(p.into_inner()))
    }

    fn placeholder(span: Span) -> Expr {
        Expr {
            kind: ExprKind::Int(0),
            span,
        }
    }

    pub(super) fn expr(&self, p: P<'_>) -> Expr {
        let span = self.trimmed(&p);
        let pairs = p.into_inner();
        // Operators in one expression nest the tree (and Pratt's recursion): bound them. There are
        // at most as many operators as pairs, so count them only when that could be too many.
        let depth = self.depth.get();
        let max = self.max_depth;
        if pairs.len() + depth > max
            && pairs.clone().filter(|q| is_operator(q.as_rule())).count() + depth > max
        {
            if !self.too_deep.replace(true) {
                self.error(ParseError::TooDeep {
                    limit: self.max_depth,
                    span: span.into(),
                });
            }
            return Self::placeholder(span);
        }
        self.nested(span, || self.pratt_expr(pairs))
            .unwrap_or_else(|| Self::placeholder(span))
    }

    fn pratt_expr(&self, pairs: Pairs<'_, Rule>) -> Expr {
        pratt()
            .map_primary(|q| self.primary(q))
            .map_prefix(|op, rhs| {
                let span = self.span(&op).to(rhs.span);
                let kind = match op.as_rule() {
                    Rule::neg => ExprKind::Unary(UnOp::Neg, Box::new(rhs)),
                    Rule::not => ExprKind::Unary(UnOp::Not, Box::new(rhs)),
                    Rule::bit_not => ExprKind::Unary(UnOp::BitNot, Box::new(rhs)),
                    Rule::deref => ExprKind::Deref(Box::new(rhs)),
                    _ => ExprKind::AddrOf(Box::new(rhs)),
                };
                Expr { kind, span }
            })
            .map_postfix(|lhs, op| {
                let span = lhs.span.to(self.span(&op));
                let kind = if op.as_rule() == Rule::call_args {
                    let ExprKind::Name(name) = lhs.kind else {
                        return lhs;
                    };
                    let args = op
                        .into_inner()
                        .filter(|q| !is_punct(q.as_rule()))
                        .map(|q| self.call_arg(q))
                        .collect();
                    ExprKind::Call { name, args }
                } else if op.as_rule() == Rule::path_tail {
                    let ExprKind::Name(first) = lhs.kind else {
                        return lhs;
                    };
                    let mut parts = vec![first];
                    parts.extend(op.into_inner().map(|q| self.ident(&q)));
                    ExprKind::Path(parts)
                } else if op.as_rule() == Rule::index {
                    let index = op
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::expr)
                        .map(|e| self.expr(e))
                        .unwrap_or_else(|| Self::placeholder(span));
                    ExprKind::Index {
                        base: Box::new(lhs),
                        index: Box::new(index),
                    }
                } else {
                    match op.into_inner().find(|q| q.as_rule() == Rule::type_expr) {
                        Some(t) => ExprKind::Cast(Box::new(lhs), self.type_expr(t)),
                        None => return lhs,
                    }
                };
                Expr { kind, span }
            })
            .map_infix(|lhs, op, rhs| {
                let span = lhs.span.to(rhs.span);
                let bop = match op.as_rule() {
                    Rule::or => BinOp::Or,
                    Rule::and => BinOp::And,
                    Rule::eq => BinOp::Eq,
                    Rule::ne => BinOp::Ne,
                    Rule::lt => BinOp::Lt,
                    Rule::le => BinOp::Le,
                    Rule::gt => BinOp::Gt,
                    Rule::ge => BinOp::Ge,
                    Rule::bit_or => BinOp::BitOr,
                    Rule::bit_xor => BinOp::BitXor,
                    Rule::bit_and => BinOp::BitAnd,
                    Rule::shl => BinOp::Shl,
                    Rule::shr => BinOp::Shr,
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    _ => BinOp::Rem,
                };
                Expr {
                    kind: ExprKind::Binary(bop, Box::new(lhs), Box::new(rhs)),
                    span,
                }
            })
            .parse(pairs)
    }

    fn primary(&self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::paren => {
                return match p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                    Some(e) => Expr {
                        kind: self.expr(e).kind,
                        span,
                    },
                    None => Self::placeholder(span),
                }
            }
            Rule::number => self.number(p),
            Rule::string => ExprKind::Str(self.str_lit(p).value),
            Rule::sizeof_expr => match p.into_inner().find(|q| q.as_rule() == Rule::type_expr) {
                Some(t) => ExprKind::SizeOf(self.type_expr(t)),
                None => return Self::placeholder(span),
            },
            Rule::ident => ExprKind::Name(self.ident(&p)),
            _ => return Self::placeholder(span),
        };
        Expr { kind, span }
    }

    fn call_arg(&self, p: P<'_>) -> Expr {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::file_arg => match p.into_inner().find(|q| q.as_rule() == Rule::string) {
                Some(s) => Expr {
                    kind: ExprKind::FileArg(self.str_lit(s)),
                    span,
                },
                None => Self::placeholder(span),
            },
            Rule::perms | Rule::bad_perms => Expr {
                kind: ExprKind::Perms(self.perms(&p)),
                span,
            },
            _ => self.expr(p),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Tokens

    fn ident(&self, p: &P<'_>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(p),
        }
    }

    /// The value of an integer token (digits checked by the grammar); too large → an error and 0.
    fn int_value(&self, text: &str, span: Span) -> u64 {
        match parse_int(text) {
            Some(v) => v,
            None => {
                self.error(ParseError::IntTooLarge {
                    text: text.to_string(),
                    span: span.into(),
                });
                0
            }
        }
    }

    /// A `number` pair: an integer, or a size when it has a unit.
    fn number(&self, p: P<'_>) -> ExprKind {
        let span = self.span(&p);
        let text = p.as_str();
        let mut value = 0;
        let mut unit = None;
        for q in p.clone().into_inner() {
            match q.as_rule() {
                Rule::size_num => value = self.int_value(q.as_str(), self.span(&q)),
                Rule::size_unit => unit = Some(unit_of(q.as_str())),
                _ => {}
            }
        }
        let Some(unit) = unit else {
            return ExprKind::Int(value);
        };
        if let Some(b) = unit.bytes() {
            if value.checked_mul(b).is_none() {
                self.error(ParseError::SizeTooLarge {
                    text: text.to_string(),
                    span: span.into(),
                });
            }
        }
        ExprKind::Size(SizeLit { value, unit })
    }

    fn str_lit(&self, p: P<'_>) -> StrLit {
        let span = self.span(&p);
        let mut value = String::new();
        if let Some(inner) = p.into_inner().next() {
            let start = self.pos(inner.as_span().start());
            let mut chars = inner.as_str().char_indices();
            while let Some((i, c)) = chars.next() {
                if c != '\\' {
                    value.push(c);
                    continue;
                }
                match chars.next() {
                    Some((_, '"')) => value.push('"'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, 't')) => value.push('\t'),
                    Some((_, other)) => {
                        self.error(ParseError::BadEscape {
                            escape: format!("\\{other}"),
                            span: Span::new(start + i, start + i + 1 + other.len_utf8()).into(),
                        });
                        value.push(other);
                    }
                    None => {}
                }
            }
        }
        StrLit { value, span }
    }

    fn perms(&self, p: &P<'_>) -> PermsLit {
        let span = self.span(p);
        let b = p.as_str().as_bytes();
        if p.as_rule() == Rule::bad_perms {
            self.error(ParseError::BadPerms {
                text: p.as_str().to_string(),
                span: span.into(),
            });
        }
        PermsLit {
            read: b.first() == Some(&b'r'),
            write: b.get(1) == Some(&b'w'),
            exec: b.get(2) == Some(&b'x'),
            shared: match b.get(3) {
                Some(b's') => Some(true),
                Some(b'p') => Some(false),
                _ => None,
            },
            span,
        }
    }
}

/// Punctuation and keyword rules that only matter for error messages.
fn is_punct(r: Rule) -> bool {
    matches!(
        r,
        Rule::rbrace
            | Rule::rparen
            | Rule::rbracket
            | Rule::comma
            | Rule::colon
            | Rule::assign_eq
            | Rule::stmt_sep
            | Rule::kw_machine
            | Rule::kw_process
            | Rule::kw_thread
            | Rule::kw_let
            | Rule::kw_print
            | Rule::kw_show
            | Rule::kw_expect
            | Rule::kw_for
            | Rule::kw_in
            | Rule::kw_repeat
            | Rule::kw_if
            | Rule::kw_switch
            | Rule::kw_call
            | Rule::kw_local
            | Rule::kw_recurse
            | Rule::kw_read
            | Rule::kw_write
            | Rule::kw_refs
            | Rule::kw_trace
            | Rule::kw_sweep
    )
}

fn is_operator(r: Rule) -> bool {
    matches!(
        r,
        Rule::neg
            | Rule::not
            | Rule::bit_not
            | Rule::deref
            | Rule::addr_of
            | Rule::index
            | Rule::cast
            | Rule::call_args
            | Rule::path_tail
            | Rule::or
            | Rule::and
            | Rule::eq
            | Rule::ne
            | Rule::lt
            | Rule::le
            | Rule::gt
            | Rule::ge
            | Rule::bit_or
            | Rule::bit_xor
            | Rule::bit_and
            | Rule::shl
            | Rule::shr
            | Rule::add
            | Rule::sub
            | Rule::mul
            | Rule::div
            | Rule::rem
    )
}

fn unit_of(s: &str) -> SizeUnit {
    // The grammar admits only the vocabulary's spellings, and of those only pages are not bytes.
    SizeUnit::from_name(s).unwrap_or(SizeUnit::Pages)
}

/// Parses `42`, `0x7fff_0000`, `0b1010`, `1_000_000`; `None` when it is not a number or does not
/// fit in a `u64`.
pub(super) fn parse_int(text: &str) -> Option<u64> {
    let (digits, radix) = split_radix(text);
    if digits.is_empty() || digits.starts_with('_') {
        return None;
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix)?;
        v = v.checked_mul(u64::from(radix))?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// An integer's digits and radix: `0x` hexadecimal, `0b` binary, else decimal.
fn split_radix(text: &str) -> (&str, u32) {
    if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = text.strip_prefix("0b").or_else(|| text.strip_prefix("0B")) {
        (b, 2)
    } else {
        (text, 10)
    }
}

/// Whether `text` has the shape of an integer (`int_body` in the grammar): decimal, `0x`
/// hexadecimal or `0b` binary digits, `_` allowed after the first digit. Its value may still be
/// too large for 64 bits.
fn is_int_body(text: &str) -> bool {
    let (digits, radix) = split_radix(text);
    let mut chars = digits.chars();
    chars.next().is_some_and(|c| c.is_digit(radix)) && chars.all(|c| c == '_' || c.is_digit(radix))
}

/// The end of `src[start..end]` without trailing spaces, tabs, line continuations and a trailing
/// comment.
pub(super) fn trim_end(src: &str, start: usize, end: usize) -> usize {
    let bytes = src.as_bytes();
    let end = end.min(bytes.len());
    if start >= end {
        return end;
    }
    // A comment can only be on the last line of the span.
    // `memchr`'s searches: a statement can be megabytes of reference string.
    let line_start =
        memchr::memrchr2(b'\n', b'\r', &bytes[start..end]).map_or(start, |i| start + i + 1);
    let mut cut = end;
    if memchr::memchr(b'#', &bytes[line_start..end]).is_some() {
        let mut in_str = false;
        let mut i = line_start;
        while i < end {
            match bytes[i] {
                b'\\' if in_str => i += 1,
                b'"' => in_str = !in_str,
                b'#' if !in_str => {
                    cut = i;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    loop {
        let mut e = cut;
        while e > start && matches!(bytes[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        // A line continuation: `\` then a new line.
        if e > start && matches!(bytes[e - 1], b'\n' | b'\r') {
            let mut k = e - 1;
            if bytes[k] == b'\n' && k > start && bytes[k - 1] == b'\r' {
                k -= 1;
            }
            if k > start && bytes[k - 1] == b'\\' {
                cut = k - 1;
                continue;
            }
        }
        return e;
    }
}

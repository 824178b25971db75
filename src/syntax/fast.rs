//! A hand-written recursive-descent fast path for well-formed `.mem` chunks: the same AST (same shapes, same spans) as the pest path, or `None` so that the pest path runs instead.
//!
//! It follows `grammar/mem.pest` rule by rule, PEG-style: ordered choices are tried in the
//! grammar's order and a failed optional part restores the position. Anything that would be an
//! error in the pest path (a grammar error, or an error found while lowering: an integer too
//! large, bad permissions, an unknown escape, a bad assignment target, nesting too deep) gives
//! `None`, so errors are always reported by the pest path, with its wording.

use super::ast::*;
use super::lower::parse_int;

/// Nesting this fast path accepts, well below the pest path's [`super::lower::MAX_DEPTH`] (and
/// below what pest's own recursion handles), so that anything deep is left to the pest path.
const LIMIT: usize = 64;

/// Parses a whole chunk; `None` when it is not well formed or uses something not handled here.
pub fn parse(src: &str) -> Option<Program> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        last: 0,
        depth: 0,
        bad: false,
        dead: usize::MAX,
    };
    let stmts = p.program();
    if p.bad {
        return None;
    }
    Some(Program { stmts: stmts? })
}

#[derive(Clone, Copy)]
struct Save {
    pos: usize,
    last: usize,
    depth: usize,
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    /// The end of the last token consumed (spans of statements end there).
    last: usize,
    depth: usize,
    /// Set on anything the pest path reports as an error even though the grammar matched.
    bad: bool,
    /// The position of a binary operator known to have no operand after it, so that outer
    /// precedence levels do not parse that operand again (which could take exponential time).
    dead: usize,
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_reserved(w: &str) -> bool {
    matches!(
        w,
        "as" | "call"
            | "expect"
            | "else"
            | "for"
            | "in"
            | "if"
            | "let"
            | "local"
            | "machine"
            | "print"
            | "process"
            | "repeat"
            | "recurse"
            | "read"
            | "refs"
            | "show"
            | "switch"
            | "sweep"
            | "sizeof"
            | "thread"
            | "trace"
            | "write"
    )
}

fn unit_of(s: &str) -> Option<SizeUnit> {
    Some(match s {
        "B" => SizeUnit::B,
        "KiB" | "K" | "kB" => SizeUnit::KiB,
        "MiB" | "M" => SizeUnit::MiB,
        "GiB" | "G" => SizeUnit::GiB,
        "TiB" | "T" => SizeUnit::TiB,
        "page" | "pages" => SizeUnit::Pages,
        _ => return None,
    })
}

/// Binary operators: (operator, precedence, length), longest spelling first as in the grammar.
fn infix_at(b: &[u8], i: usize) -> Option<(BinOp, u8, usize)> {
    let c = *b.get(i)?;
    let n = b.get(i + 1).copied().unwrap_or(0);
    Some(match (c, n) {
        (b'|', b'|') => (BinOp::Or, 1, 2),
        (b'&', b'&') => (BinOp::And, 2, 2),
        (b'=', b'=') => (BinOp::Eq, 3, 2),
        (b'!', b'=') => (BinOp::Ne, 3, 2),
        (b'<', b'=') => (BinOp::Le, 4, 2),
        (b'>', b'=') => (BinOp::Ge, 4, 2),
        (b'<', b'<') => (BinOp::Shl, 8, 2),
        (b'>', b'>') => (BinOp::Shr, 8, 2),
        (b'<', _) => (BinOp::Lt, 4, 1),
        (b'>', _) => (BinOp::Gt, 4, 1),
        (b'|', _) => (BinOp::BitOr, 5, 1),
        (b'^', _) => (BinOp::BitXor, 6, 1),
        (b'&', _) => (BinOp::BitAnd, 7, 1),
        (b'+', _) => (BinOp::Add, 9, 1),
        (b'-', _) => (BinOp::Sub, 9, 1),
        (b'*', _) => (BinOp::Mul, 10, 1),
        (b'/', _) => (BinOp::Div, 10, 1),
        (b'%', _) => (BinOp::Rem, 10, 1),
        _ => return None,
    })
}

enum Prefix {
    Neg,
    Not,
    BitNot,
    Deref,
    AddrOf,
}

impl<'s> Parser<'s> {
    // -----------------------------------------------------------------------------------------
    // Positions

    fn save(&self) -> Save {
        Save {
            pos: self.pos,
            last: self.last,
            depth: self.depth,
        }
    }

    fn restore(&mut self, s: Save) {
        self.pos = s.pos;
        self.last = s.last;
        self.depth = s.depth;
    }

    /// Runs `f`; on failure puts the position back (a PEG optional or choice alternative).
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let s = self.save();
        let r = f(self);
        if r.is_none() {
            self.restore(s);
        }
        r
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.pos.checked_add(k)?).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn bump(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.b.len());
        self.last = self.pos;
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        if self.depth >= LIMIT {
            self.bad = true;
            return None;
        }
        Some(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn fail<T>(&mut self) -> Option<T> {
        self.bad = true;
        None
    }

    // -----------------------------------------------------------------------------------------
    // Trivia

    /// The length of a new line at `i` (`\n`, `\r\n`, `\r`), or 0.
    fn newline_len(&self, i: usize) -> usize {
        match self.b.get(i) {
            Some(b'\n') => 1,
            Some(b'\r') if self.b.get(i + 1) == Some(&b'\n') => 2,
            Some(b'\r') => 1,
            _ => 0,
        }
    }

    /// `WHITESPACE*`: spaces, tabs, comments and line continuations.
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' => self.pos += 1,
                b'#' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' || c == b'\r' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                b'\\' => {
                    let n = self.newline_len(self.pos + 1);
                    if n == 0 {
                        return;
                    }
                    self.pos += 1 + n;
                }
                _ => return,
            }
        }
    }

    /// `nl*` with the implicit whitespace around it.
    fn ws_nl(&mut self) {
        loop {
            self.ws();
            let n = self.newline_len(self.pos);
            if n == 0 {
                return;
            }
            self.pos += n;
        }
    }

    /// One `stmt_sep` (`;` or a new line) at the position.
    fn sep(&mut self) -> bool {
        if self.peek() == Some(b';') {
            self.pos += 1;
            return true;
        }
        let n = self.newline_len(self.pos);
        self.pos += n;
        n > 0
    }

    /// `stmt_sep*` with whitespace; the number of separators.
    fn seps(&mut self) -> usize {
        let mut n = 0;
        loop {
            self.ws();
            if !self.sep() {
                return n;
            }
            n += 1;
        }
    }

    fn punct(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.bump(1);
            Some(())
        } else {
            None
        }
    }

    // -----------------------------------------------------------------------------------------
    // Words

    /// The length of the word (`[A-Za-z_][A-Za-z0-9_]*`) at the position (after whitespace).
    fn word_len(&mut self) -> usize {
        self.ws();
        match self.peek() {
            Some(c) if is_ident_start(c) => {}
            _ => return 0,
        }
        let mut i = self.pos + 1;
        while i < self.b.len() && is_ident_char(self.b[i]) {
            i += 1;
        }
        i - self.pos
    }

    fn peek_word(&mut self) -> &'s str {
        let n = self.word_len();
        let src = self.src;
        src.get(self.pos..self.pos + n).unwrap_or("")
    }

    /// A word token of any kind (`word`, `show_target`): its text and span.
    fn any_word(&mut self) -> Option<Ident> {
        let n = self.word_len();
        if n == 0 {
            return None;
        }
        let start = self.pos;
        let name = self.src.get(start..start + n)?.to_string();
        self.bump(n);
        Some(Ident {
            name,
            span: Span::new(start, start + n),
        })
    }

    /// `kw_*`: exactly this word.
    fn kw(&mut self, w: &str) -> Option<Span> {
        if self.peek_word() != w {
            return None;
        }
        let start = self.pos;
        self.bump(w.len());
        Some(Span::new(start, self.pos))
    }

    /// `ident`: a word that is not reserved.
    fn ident(&mut self) -> Option<Ident> {
        let w = self.peek_word();
        if w.is_empty() || is_reserved(w) {
            return None;
        }
        self.any_word()
    }

    // -----------------------------------------------------------------------------------------
    // Literals

    /// `int_body` at the position (no whitespace skipped): its length.
    fn int_body_len(&self, i: usize) -> usize {
        let b = self.b;
        let first = match b.get(i) {
            Some(c) if c.is_ascii_digit() => *c,
            _ => return 0,
        };
        let next = b.get(i + 1).copied().unwrap_or(0);
        let run = |from: usize, ok: fn(u8) -> bool| {
            let mut j = from;
            while j < b.len() && (ok(b[j]) || b[j] == b'_') {
                j += 1;
            }
            j
        };
        if first == b'0' && (next == b'x' || next == b'X') {
            if b.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit()) {
                return run(i + 3, |c| c.is_ascii_hexdigit()) - i;
            }
        } else if first == b'0'
            && (next == b'b' || next == b'B')
            && b.get(i + 2).is_some_and(|c| *c == b'0' || *c == b'1')
        {
            return run(i + 3, |c| c == b'0' || c == b'1') - i;
        }
        run(i + 1, |c| c.is_ascii_digit()) - i
    }

    fn int_value(&mut self, text: &str) -> Option<u64> {
        match parse_int(text) {
            Some(v) => Some(v),
            None => self.fail(),
        }
    }

    /// `size_unit` at `i` (no whitespace skipped): the unit and its length.
    fn unit_at(&self, i: usize) -> Option<(SizeUnit, usize)> {
        let rest = self.b.get(i..)?;
        let n = [
            &b"KiB"[..],
            b"MiB",
            b"GiB",
            b"TiB",
            b"kB",
            b"pages",
            b"page",
            b"B",
            b"K",
            b"M",
            b"G",
            b"T",
        ]
        .iter()
        .find(|u| rest.starts_with(u))?
        .len();
        if rest.get(n).is_some_and(|c| is_ident_char(*c)) {
            return None;
        }
        let unit = unit_of(self.src.get(i..i + n)?)?;
        Some((unit, n))
    }

    /// `number`: an integer or a size.
    fn number(&mut self) -> Option<(ExprKind, Span)> {
        self.ws();
        let start = self.pos;
        let n = self.int_body_len(start);
        if n == 0 {
            return None;
        }
        let digits_end = start + n;
        let mut j = digits_end;
        while matches!(self.b.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        let unit = self.unit_at(j);
        let end = match unit {
            Some((_, ulen)) => j + ulen,
            None => digits_end,
        };
        if self.b.get(end).is_some_and(|c| is_ident_char(*c)) {
            return None;
        }
        let value = self.int_value(self.src.get(start..digits_end)?)?;
        self.bump(end - start);
        let span = Span::new(start, end);
        let kind = match unit {
            None => ExprKind::Int(value),
            Some((unit, _)) => {
                if let Some(b) = unit.bytes() {
                    if value.checked_mul(b).is_none() {
                        return self.fail();
                    }
                }
                ExprKind::Size(SizeLit { value, unit })
            }
        };
        Some((kind, span))
    }

    /// `string`.
    fn string(&mut self) -> Option<StrLit> {
        self.ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos;
        let mut i = start + 1;
        let mut escapes = false;
        loop {
            match self.b.get(i) {
                None | Some(b'\n' | b'\r') => return None,
                Some(b'"') => break,
                Some(b'\\') => {
                    match self.b.get(i + 1) {
                        None | Some(b'\n' | b'\r') => return None,
                        Some(b'"' | b'\\' | b'n' | b't') => {}
                        // An unknown escape is an error of the pest path.
                        Some(_) => return self.fail(),
                    }
                    escapes = true;
                    i += 2;
                }
                Some(_) => i += 1,
            }
        }
        let inner = self.src.get(start + 1..i)?;
        let value = if escapes {
            let mut v = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    v.push(c);
                    continue;
                }
                match chars.next() {
                    Some('"') => v.push('"'),
                    Some('\\') => v.push('\\'),
                    Some('n') => v.push('\n'),
                    Some('t') => v.push('\t'),
                    _ => return self.fail(),
                }
            }
            v
        } else {
            inner.to_string()
        };
        self.bump(i + 1 - start);
        Some(StrLit {
            value,
            span: Span::new(start, i + 1),
        })
    }

    /// `perms` at the position: the literal; `bad_perms` marks the parse bad.
    fn perms(&mut self) -> Option<PermsLit> {
        self.ws();
        let b = |k: usize| self.peek_at(k).unwrap_or(0);
        let (c0, c1, c2) = (b(0), b(1), b(2));
        let stop = |c: u8| is_ident_char(c) || c == b'-';
        if matches!(c0, b'r' | b'-') && matches!(c1, b'w' | b'-') && matches!(c2, b'x' | b'-') {
            let c3 = b(3);
            let (len, shared) = match c3 {
                b'p' => (4, Some(false)),
                b's' => (4, Some(true)),
                _ => (3, None),
            };
            if !stop(b(len)) {
                let start = self.pos;
                self.bump(len);
                return Some(PermsLit {
                    read: c0 == b'r',
                    write: c1 == b'w',
                    exec: c2 == b'x',
                    shared,
                    span: Span::new(start, start + len),
                });
            }
        }
        // bad_perms
        let rwx = |c: u8| matches!(c, b'r' | b'w' | b'x');
        let rwxd = |c: u8| rwx(c) || c == b'-';
        let look = rwx(c0) && (c1 == b'-' || (rwx(c1) && c2 == b'-'));
        if look && rwxd(c0) && rwxd(c1) && rwxd(c2) {
            let len = if b(3).is_ascii_alphabetic() { 4 } else { 3 };
            if !stop(b(len)) {
                return self.fail();
            }
        }
        None
    }

    // -----------------------------------------------------------------------------------------
    // Types

    /// `type_expr`.
    fn type_expr(&mut self) -> Option<TypeExpr> {
        self.ws();
        let mut stars = Vec::new();
        while self.peek() == Some(b'*') {
            stars.push(self.pos);
            self.bump(1);
            self.enter()?;
            self.ws();
        }
        let w = self.peek_word();
        let prim = Prim::from_name(w)?;
        let start = self.pos;
        self.bump(w.len());
        let end = self.pos;
        let mut t = TypeExpr {
            kind: TypeKind::Prim(prim),
            span: Span::new(start, end),
        };
        for s in stars.into_iter().rev() {
            self.leave();
            t = TypeExpr {
                kind: TypeKind::Ptr(Box::new(t)),
                span: Span::new(s, end),
            };
        }
        Some(t)
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// `expr`: one nesting level, operators bounded.
    fn expr(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut ops = 0usize;
        let e = self.binary(0, &mut ops)?;
        if ops + self.depth > LIMIT {
            return self.fail();
        }
        self.leave();
        Some(e)
    }

    fn binary(&mut self, min: u8, ops: &mut usize) -> Option<Expr> {
        let mut lhs = self.operand(ops)?;
        loop {
            let s = self.save();
            self.ws();
            let Some((op, prec, len)) = infix_at(self.b, self.pos) else {
                self.restore(s);
                return Some(lhs);
            };
            let at = self.pos;
            if prec < min || at == self.dead {
                self.restore(s);
                return Some(lhs);
            }
            self.bump(len);
            *ops += 1;
            if *ops > LIMIT {
                return self.fail();
            }
            // `(infix ~ operand)*`: an operator without an operand ends the expression.
            let Some(rhs) = self.attempt(|p| p.binary(prec + 1, ops)) else {
                self.dead = at;
                self.restore(s);
                return Some(lhs);
            };
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
    }

    /// `prefix* ~ primary ~ postfix*`.
    fn operand(&mut self, ops: &mut usize) -> Option<Expr> {
        let mut prefixes = Vec::new();
        loop {
            self.ws();
            let next = self.peek_at(1);
            let p = match self.peek() {
                Some(b'-') => Prefix::Neg,
                Some(b'!') if next != Some(b'=') => Prefix::Not,
                Some(b'~') => Prefix::BitNot,
                Some(b'*') => Prefix::Deref,
                Some(b'&') if next != Some(b'&') => Prefix::AddrOf,
                _ => break,
            };
            prefixes.push((p, self.pos));
            self.bump(1);
            *ops += 1;
            if *ops > LIMIT {
                return self.fail();
            }
        }
        let mut e = self.primary(ops)?;
        loop {
            let s = self.save();
            self.ws();
            match self.peek() {
                Some(b'[') => {
                    let start = self.pos;
                    self.bump(1);
                    self.ws_nl();
                    let Some(index) = self.expr() else {
                        self.restore(s);
                        break;
                    };
                    self.ws_nl();
                    if self.peek() != Some(b']') {
                        self.restore(s);
                        break;
                    }
                    self.bump(1);
                    let span = e.span.to(Span::new(start, self.pos));
                    e = Expr {
                        kind: ExprKind::Index {
                            base: Box::new(e),
                            index: Box::new(index),
                        },
                        span,
                    };
                }
                Some(b'a') => {
                    if self.kw("as").is_none() {
                        self.restore(s);
                        break;
                    }
                    let Some(t) = self.attempt(|p| p.type_expr()) else {
                        self.restore(s);
                        break;
                    };
                    let span = e.span.to(t.span);
                    e = Expr {
                        kind: ExprKind::Cast(Box::new(e), t),
                        span,
                    };
                }
                _ => {
                    self.restore(s);
                    break;
                }
            }
            *ops += 1;
            if *ops > LIMIT {
                return self.fail();
            }
        }
        for (p, at) in prefixes.into_iter().rev() {
            let span = Span::new(at, e.span.end).to(e.span);
            let kind = match p {
                Prefix::Neg => ExprKind::Unary(UnOp::Neg, Box::new(e)),
                Prefix::Not => ExprKind::Unary(UnOp::Not, Box::new(e)),
                Prefix::BitNot => ExprKind::Unary(UnOp::BitNot, Box::new(e)),
                Prefix::Deref => ExprKind::Deref(Box::new(e)),
                Prefix::AddrOf => ExprKind::AddrOf(Box::new(e)),
            };
            e = Expr { kind, span };
        }
        Some(e)
    }

    /// `primary`: a parenthesised expression, a number, a string, a name (with call arguments or
    /// a path tail) or `sizeof(T)`. `ops` counts a call or a path tail.
    fn primary(&mut self, ops: &mut usize) -> Option<Expr> {
        self.ws();
        let c = self.peek()?;
        if c == b'(' {
            let start = self.pos;
            return self.attempt(|p| {
                p.bump(1);
                p.ws_nl();
                let inner = p.expr()?;
                p.ws_nl();
                if p.peek() != Some(b')') {
                    return None;
                }
                p.bump(1);
                Some(Expr {
                    kind: inner.kind,
                    span: Span::new(start, p.pos),
                })
            });
        }
        if c.is_ascii_digit() {
            let (kind, span) = self.number()?;
            return Some(Expr { kind, span });
        }
        if c == b'"' {
            let s = self.string()?;
            return Some(Expr {
                kind: ExprKind::Str(s.value),
                span: s.span,
            });
        }
        if !is_ident_start(c) {
            return None;
        }
        if let Some(name) = self.ident() {
            return Some(self.primary_tail(name, ops));
        }
        // sizeof_expr
        self.attempt(|p| {
            let kw = p.kw("sizeof")?;
            p.punct(b'(')?;
            p.ws_nl();
            let t = p.type_expr()?;
            p.ws_nl();
            if p.peek() != Some(b')') {
                return None;
            }
            p.bump(1);
            Some(Expr {
                kind: ExprKind::SizeOf(t),
                span: Span::new(kw.start, p.pos),
            })
        })
    }

    /// `primary_tail?` after a name.
    fn primary_tail(&mut self, name: Ident, ops: &mut usize) -> Expr {
        let s = self.save();
        self.ws();
        match self.peek() {
            Some(b'(') => {
                if let Some((args, end)) = self.attempt(|p| p.call_args()) {
                    *ops += 1;
                    let span = name.span.to(Span::new(end.start, end.end));
                    return Expr {
                        kind: ExprKind::Call { name, args },
                        span,
                    };
                }
            }
            Some(b'.') => {
                // path_tail: `(. ident)+` with nothing between.
                let mut parts = Vec::new();
                let mut i = self.pos;
                loop {
                    if self.b.get(i) != Some(&b'.') {
                        break;
                    }
                    let w0 = i + 1;
                    match self.b.get(w0) {
                        Some(c) if is_ident_start(*c) => {}
                        _ => break,
                    }
                    let mut j = w0 + 1;
                    while j < self.b.len() && is_ident_char(self.b[j]) {
                        j += 1;
                    }
                    let w = self.src.get(w0..j).unwrap_or("");
                    if w.is_empty() || is_reserved(w) {
                        break;
                    }
                    parts.push(Ident {
                        name: w.to_string(),
                        span: Span::new(w0, j),
                    });
                    i = j;
                }
                if !parts.is_empty() {
                    self.bump(i - self.pos);
                    *ops += 1;
                    let span = name.span.to(Span::new(name.span.end, i));
                    let mut all = vec![name];
                    all.extend(parts);
                    return Expr {
                        kind: ExprKind::Path(all),
                        span,
                    };
                }
            }
            _ => {}
        }
        self.restore(s);
        Expr {
            span: name.span,
            kind: ExprKind::Name(name),
        }
    }

    /// `call_args`: the arguments and the span of the parentheses.
    fn call_args(&mut self) -> Option<(Vec<Expr>, Span)> {
        self.ws();
        if self.peek() != Some(b'(') {
            return None;
        }
        let start = self.pos;
        self.bump(1);
        let mut args = Vec::new();
        self.ws_nl();
        if self.peek() != Some(b')') {
            loop {
                args.push(self.call_arg()?);
                self.ws_nl();
                match self.peek() {
                    Some(b',') => {
                        self.bump(1);
                        self.ws_nl();
                        if self.peek() == Some(b')') {
                            break;
                        }
                    }
                    Some(b')') => break,
                    _ => return None,
                }
            }
        }
        if self.peek() != Some(b')') {
            return None;
        }
        self.bump(1);
        Some((args, Span::new(start, self.pos)))
    }

    /// `arg`: `file "path"`, permissions or an expression.
    fn call_arg(&mut self) -> Option<Expr> {
        let file = self.attempt(|p| {
            let kw = p.kw("file")?;
            let s = p.string()?;
            Some(Expr {
                span: Span::new(kw.start, s.span.end),
                kind: ExprKind::FileArg(s),
            })
        });
        if file.is_some() {
            return file;
        }
        if let Some(perms) = self.perms() {
            return Some(Expr {
                span: perms.span,
                kind: ExprKind::Perms(perms),
            });
        }
        if self.bad {
            return None;
        }
        self.expr()
    }

    /// A rule that wraps one primary (`region_size`, `region_addr`, `touch_base`).
    fn wrapped_primary(&mut self) -> Option<Expr> {
        self.enter()?;
        let mut ops = 0;
        let e = self.primary(&mut ops)?;
        self.leave();
        Some(e)
    }

    /// `range`: `A..B` or `A..=B`.
    fn range(&mut self) -> Option<RangeExpr> {
        let start = self.expr()?;
        let inclusive = self.range_op()?;
        let end = self.expr()?;
        let span = start.span.to(end.span);
        Some(RangeExpr {
            start,
            end,
            inclusive,
            span,
        })
    }

    fn range_op(&mut self) -> Option<bool> {
        self.ws();
        if self.peek() != Some(b'.') || self.peek_at(1) != Some(b'.') {
            return None;
        }
        if self.peek_at(2) == Some(b'=') {
            self.bump(3);
            Some(true)
        } else {
            self.bump(2);
            Some(false)
        }
    }

    // -----------------------------------------------------------------------------------------
    // Statements

    fn program(&mut self) -> Option<Vec<Stmt>> {
        let mut stmts = Vec::new();
        self.seps();
        if self.at_end() {
            return Some(stmts);
        }
        loop {
            stmts.push(self.stmt()?);
            let n = self.seps();
            if self.at_end() {
                return Some(stmts);
            }
            if n == 0 {
                return None;
            }
        }
    }

    fn block(&mut self) -> Option<Block> {
        self.ws();
        if self.peek() != Some(b'{') {
            return None;
        }
        let start = self.pos;
        self.bump(1);
        self.enter()?;
        let mut stmts = Vec::new();
        self.seps();
        if self.peek() != Some(b'}') {
            loop {
                stmts.push(self.stmt()?);
                let n = self.seps();
                if self.peek() == Some(b'}') {
                    break;
                }
                if n == 0 {
                    return None;
                }
            }
        }
        self.bump(1);
        self.leave();
        Some(Block {
            stmts,
            span: Span::new(start, self.pos),
        })
    }

    fn stmt(&mut self) -> Option<Stmt> {
        self.ws();
        let start = self.pos;
        let w = self.peek_word();
        let kind = if is_reserved(w) {
            match self.attempt(|p| p.keyword_stmt(w)) {
                Some(k) => k,
                None => self.expr_stmt()?,
            }
        } else {
            self.expr_stmt()?
        };
        Some(Stmt {
            kind,
            span: Span::new(start, self.last),
        })
    }

    fn expr_stmt(&mut self) -> Option<StmtKind> {
        let first = self.expr()?;
        let value = self.attempt(|p| {
            p.punct(b'=')?;
            p.expr()
        });
        Some(match value {
            Some(value) => {
                if !matches!(
                    first.kind,
                    ExprKind::Name(_) | ExprKind::Index { .. } | ExprKind::Deref(_)
                ) {
                    return self.fail();
                }
                StmtKind::Assign {
                    target: first,
                    value,
                }
            }
            None => StmtKind::Expr(first),
        })
    }

    /// A list `expr (, expr)*` (`print`, `report`), at least one item.
    fn expr_list(&mut self) -> Option<Vec<Expr>> {
        let mut items = vec![self.expr()?];
        while let Some(e) = self.attempt(|p| {
            p.punct(b',')?;
            p.expr()
        }) {
            items.push(e);
        }
        Some(items)
    }

    fn keyword_stmt(&mut self, w: &str) -> Option<StmtKind> {
        self.kw(w)?;
        Some(match w {
            "let" => {
                let name = self.ident()?;
                let ty = self.attempt(|p| {
                    p.punct(b':')?;
                    p.type_expr()
                });
                self.punct(b'=')?;
                let value = self.expr()?;
                StmtKind::Let { name, ty, value }
            }
            "local" => {
                let name = self.ident()?;
                self.punct(b':')?;
                let mut ty = self.type_expr()?;
                let mut dims = Vec::new();
                while let Some(d) = self.attempt(|p| {
                    p.punct(b'[')?;
                    let start = p.last.saturating_sub(1);
                    p.ws_nl();
                    let n = p.expr()?;
                    p.ws_nl();
                    if p.peek() != Some(b']') {
                        return None;
                    }
                    p.bump(1);
                    Some((n, Span::new(start, p.pos)))
                }) {
                    dims.push(d);
                }
                for (n, dspan) in dims.into_iter().rev() {
                    let span = ty.span.to(dspan);
                    ty = TypeExpr {
                        kind: TypeKind::Array(Box::new(ty), Box::new(n)),
                        span,
                    };
                }
                StmtKind::Local { name, ty }
            }
            "expect" => StmtKind::Expect(self.expect()?),
            "print" => {
                let items = self.attempt(|p| p.expr_list()).unwrap_or_default();
                StmtKind::Print(items)
            }
            "process" => {
                let name = self.ident()?;
                let regions = self.attempt(|p| p.region_block());
                StmtKind::Process(ProcessDecl { name, regions })
            }
            "for" => {
                let var = self.ident()?;
                self.kw("in")?;
                let range = self.range()?;
                let body = self.block()?;
                StmtKind::For { var, range, body }
            }
            "write" | "read" => {
                let write = w == "write";
                let base = self.wrapped_primary()?;
                self.punct(b'[')?;
                self.ws_nl();
                let range = self.range()?;
                self.ws_nl();
                if self.peek() != Some(b']') {
                    return None;
                }
                self.bump(1);
                let step = self.attempt(|p| {
                    p.kw("step")?;
                    p.expr()
                });
                let value = if write {
                    self.punct(b'=')?;
                    Some(self.expr()?)
                } else {
                    None
                };
                StmtKind::Touch(Touch {
                    write,
                    base,
                    range,
                    step,
                    value,
                })
            }
            "if" => self.if_rest()?,
            "in" => {
                let target = self.expr()?;
                let body = self.block()?;
                StmtKind::In { target, body }
            }
            "show" => {
                let target = self.any_word()?;
                let args = self
                    .attempt(|p| {
                        let mut v = vec![p.expr()?];
                        if let Some(e) = p.attempt(|p| {
                            let s = p.save();
                            if p.punct(b',').is_none() {
                                p.restore(s);
                            }
                            p.expr()
                        }) {
                            v.push(e);
                        }
                        Some(v)
                    })
                    .unwrap_or_default();
                StmtKind::Show { target, args }
            }
            "switch" => StmtKind::Switch {
                target: self.expr()?,
            },
            "sweep" => self.sweep()?,
            "repeat" => {
                let count = self.expr()?;
                let body = self.block()?;
                StmtKind::Repeat { count, body }
            }
            "recurse" => {
                let name = self.ident()?;
                let depth = self.expr()?;
                self.kw("frame")?;
                let frame = self.expr()?;
                StmtKind::Recurse { name, depth, frame }
            }
            "refs" => {
                let mut refs = Vec::new();
                loop {
                    self.ws();
                    let start = self.pos;
                    let n = self.int_body_len(start);
                    if n == 0 {
                        break;
                    }
                    let mut end = start + n;
                    let write = self.b.get(end) == Some(&b'w');
                    if matches!(self.b.get(end), Some(b'w' | b'r')) {
                        end += 1;
                    }
                    if self.b.get(end).is_some_and(|c| is_ident_char(*c)) {
                        break;
                    }
                    let page = self.int_value(self.src.get(start..start + n)?)?;
                    self.bump(end - start);
                    refs.push(PageRef {
                        page,
                        write,
                        span: Span::new(start, end),
                    });
                }
                if refs.is_empty() {
                    return None;
                }
                StmtKind::Refs(refs)
            }
            "machine" => {
                let mut base = None;
                let mut settings = Vec::new();
                if let Some(s) = self.attempt(|p| p.settings_block()) {
                    settings = s;
                } else {
                    if let Some(s) = self.attempt(|p| p.string()) {
                        base = Some(ProfileRef::File(s));
                    } else {
                        base = Some(ProfileRef::Builtin(self.ident()?));
                    }
                    if let Some(s) = self.attempt(|p| p.settings_block()) {
                        settings = s;
                    }
                }
                StmtKind::Machine(MachineSpec { base, settings })
            }
            "thread" => {
                self.ws();
                let (process, name) = match self.attempt(|p| p.thread_path()) {
                    Some((a, b)) => (Some(a), b),
                    None => (None, self.ident()?),
                };
                let stack = self.attempt(|p| {
                    p.kw("stack")?;
                    p.expr()
                });
                StmtKind::Thread(ThreadDecl {
                    process,
                    name,
                    stack,
                })
            }
            "trace" => StmtKind::Trace {
                path: self.string()?,
            },
            "call" => {
                let name = self.ident()?;
                self.kw("frame")?;
                let frame = self.expr()?;
                let body = self.block()?;
                StmtKind::Call { name, frame, body }
            }
            _ => return None,
        })
    }

    /// `ident.ident` with nothing between.
    fn thread_path(&mut self) -> Option<(Ident, Ident)> {
        let a = self.ident()?;
        if self.peek() != Some(b'.') {
            return None;
        }
        self.bump(1);
        match self.peek() {
            Some(c) if is_ident_start(c) => {}
            _ => return None,
        }
        let b = self.ident()?;
        Some((a, b))
    }

    /// The rest of an `if` after the keyword.
    fn if_rest(&mut self) -> Option<StmtKind> {
        let cond = self.expr()?;
        let then = self.block()?;
        let otherwise = self.attempt(|p| {
            p.ws_nl();
            p.kw("else")?;
            p.ws();
            if p.peek_word() == "if" {
                if let Some(b) = p.attempt(|p| {
                    let start = p.pos;
                    p.kw("if")?;
                    p.enter()?;
                    let nested = p.if_rest()?;
                    p.leave();
                    let span = Span::new(start, p.last);
                    Some(Block {
                        stmts: vec![Stmt { kind: nested, span }],
                        span,
                    })
                }) {
                    return Some(b);
                }
            }
            p.block()
        });
        Some(StmtKind::If {
            cond,
            then,
            otherwise,
        })
    }

    fn expect(&mut self) -> Option<Expect> {
        let w = self.peek_word();
        if matches!(
            w.as_bytes().first(),
            Some(b's' | b'f' | b'n' | b'a' | b'o' | b'w')
        ) {
            if let Some(kind) = self.attempt(|p| p.expect_block_form()) {
                return Some(Expect { kind });
            }
        }
        Some(Expect {
            kind: ExpectKind::Cond(self.expr()?),
        })
    }

    fn expect_block_form(&mut self) -> Option<ExpectKind> {
        let w = self.peek_word();
        Some(match w {
            "segfault" => {
                self.kw(w)?;
                let code = match self.peek_word() {
                    "maperr" => Some(SegvCode::MapErr),
                    "accerr" => Some(SegvCode::AccErr),
                    _ => None,
                };
                if code.is_some() {
                    self.any_word()?;
                }
                ExpectKind::Segfault {
                    code,
                    body: self.block()?,
                }
            }
            "fault" => {
                self.kw(w)?;
                let kind = match self.peek_word() {
                    "minor" => FaultExpect::Minor,
                    "major" => FaultExpect::Major,
                    _ => FaultExpect::Any,
                };
                if kind != FaultExpect::Any {
                    self.any_word()?;
                }
                ExpectKind::Fault {
                    kind,
                    body: self.block()?,
                }
            }
            "no" => {
                self.kw(w)?;
                self.kw("fault")?;
                ExpectKind::Fault {
                    kind: FaultExpect::None,
                    body: self.block()?,
                }
            }
            "abort" => {
                self.kw(w)?;
                ExpectKind::Abort {
                    body: self.block()?,
                }
            }
            "oom" => {
                self.kw(w)?;
                ExpectKind::Oom {
                    body: self.block()?,
                }
            }
            "warning" => {
                self.kw(w)?;
                let kind = self.ident()?;
                ExpectKind::Warning {
                    kind,
                    body: self.block()?,
                }
            }
            _ => return None,
        })
    }

    /// `{ settings }`.
    fn settings_block(&mut self) -> Option<Vec<Setting>> {
        self.punct(b'{')?;
        let mut v = Vec::new();
        self.seps();
        if self.peek() != Some(b'}') {
            loop {
                v.push(self.setting()?);
                let n = self.seps();
                if self.peek() == Some(b'}') {
                    break;
                }
                if n == 0 {
                    return None;
                }
            }
        }
        self.bump(1);
        Some(v)
    }

    fn setting(&mut self) -> Option<Setting> {
        let key = self.ident()?;
        let start = key.span.start;
        let mut args = Vec::new();
        while let Some(a) = self.attempt(|p| p.setting_arg()) {
            args.push(a);
        }
        Some(Setting {
            key,
            args,
            span: Span::new(start, self.last),
        })
    }

    /// `setting_arg`: `ways | number | string | word`.
    fn setting_arg(&mut self) -> Option<Arg> {
        self.ws();
        let start = self.pos;
        let c = self.peek()?;
        if c.is_ascii_digit() {
            let n = self.int_body_len(start);
            let end = start + n;
            if self.b.get(end..end + 4) == Some(b"-way")
                && !self.b.get(end + 4).is_some_and(|c| is_ident_char(*c))
            {
                let v = self.int_value(self.src.get(start..end)?)?;
                self.bump(n + 4);
                return Some(Arg {
                    kind: ArgKind::Ways(v),
                    span: Span::new(start, self.pos),
                });
            }
            let (kind, span) = self.number()?;
            let kind = match kind {
                ExprKind::Int(v) => ArgKind::Int(v),
                ExprKind::Size(s) => ArgKind::Size(s),
                _ => return None,
            };
            return Some(Arg { kind, span });
        }
        if c == b'"' {
            let s = self.string()?;
            return Some(Arg {
                kind: ArgKind::Str(s.value),
                span: s.span,
            });
        }
        let w = self.any_word()?;
        Some(Arg {
            kind: ArgKind::Word(w.name),
            span: w.span,
        })
    }

    /// `{ regions }`.
    fn region_block(&mut self) -> Option<Vec<RegionDecl>> {
        self.punct(b'{')?;
        let mut v = Vec::new();
        self.seps();
        if self.peek() != Some(b'}') {
            loop {
                v.push(self.region()?);
                let n = self.seps();
                if self.peek() == Some(b'}') {
                    break;
                }
                if n == 0 {
                    return None;
                }
            }
        }
        self.bump(1);
        Some(v)
    }

    fn region(&mut self) -> Option<RegionDecl> {
        self.ws();
        let start = self.pos;
        if let Some(r) = self.attempt(|p| p.mmap_region()) {
            return Some(r);
        }
        if self.bad {
            return None;
        }
        let w = self.peek_word();
        if !matches!(w, "text" | "rodata" | "data" | "bss" | "heap" | "stack") {
            return None;
        }
        let kind = self.any_word()?;
        let size = self.attempt(|p| p.wrapped_primary());
        Some(RegionDecl {
            kind,
            name: None,
            at: None,
            size,
            perms: None,
            file: None,
            shared: false,
            span: Span::new(start, self.last),
        })
    }

    fn mmap_region(&mut self) -> Option<RegionDecl> {
        let start = self.pos;
        let kw = self.kw("mmap")?;
        let kind = Ident {
            name: "mmap".to_string(),
            span: kw,
        };
        let name = self.ident()?;
        let at = self.attempt(|p| {
            p.kw("at")?;
            p.wrapped_primary()
        });
        let size = self.wrapped_primary()?;
        let perms = self.attempt(|p| p.perms());
        if self.bad {
            return None;
        }
        let file = self.attempt(|p| {
            p.kw("file")?;
            p.string()
        });
        let shared = match self.peek_word() {
            "shared" => {
                self.any_word()?;
                true
            }
            "private" => {
                self.any_word()?;
                false
            }
            _ => false,
        };
        Some(RegionDecl {
            kind,
            name: Some(name),
            at,
            size: Some(size),
            perms,
            file,
            shared,
            span: Span::new(start, self.last),
        })
    }

    fn sweep(&mut self) -> Option<StmtKind> {
        let mut params = vec![self.sweep_param()?];
        while let Some(sp) = self.attempt(|p| {
            p.punct(b',')?;
            p.ws_nl();
            p.sweep_param()
        }) {
            params.push(sp);
        }
        let report = self
            .attempt(|p| {
                p.kw("report")?;
                p.expr_list()
            })
            .unwrap_or_default();
        let body = self.block()?;
        Some(StmtKind::Sweep(Sweep {
            params,
            report,
            body,
        }))
    }

    fn sweep_param(&mut self) -> Option<SweepParam> {
        let key = self.ident()?;
        let start = key.span.start;
        self.kw("in")?;
        let values = match self.attempt(|p| p.sweep_list()) {
            Some(v) => v,
            None => {
                if self.bad {
                    return None;
                }
                self.sweep_range()?
            }
        };
        Some(SweepParam {
            key,
            values,
            span: Span::new(start, self.last),
        })
    }

    fn sweep_list(&mut self) -> Option<SweepValues> {
        self.punct(b'[')?;
        let mut v = Vec::new();
        self.ws_nl();
        if self.peek() != Some(b']') {
            loop {
                v.push(self.setting_arg()?);
                self.ws_nl();
                match self.peek() {
                    Some(b',') => {
                        self.bump(1);
                        self.ws_nl();
                        if self.peek() == Some(b']') {
                            break;
                        }
                    }
                    Some(b']') => break,
                    _ => return None,
                }
            }
        }
        self.bump(1);
        Some(SweepValues::List(v))
    }

    fn sweep_range(&mut self) -> Option<SweepValues> {
        self.ws();
        let start = self.pos;
        let n = self.int_body_len(start);
        if n == 0 {
            return None;
        }
        let a = self.int_value(self.src.get(start..start + n)?)?;
        self.bump(n);
        let inclusive = self.range_op()?;
        self.ws();
        let s2 = self.pos;
        let n2 = self.int_body_len(s2);
        if n2 == 0 {
            return None;
        }
        let b = self.int_value(self.src.get(s2..s2 + n2)?)?;
        self.bump(n2);
        let unit = self.attempt(|p| {
            p.ws();
            let (u, len) = p.unit_at(p.pos)?;
            p.bump(len);
            Some(u)
        });
        Some(SweepValues::Range {
            start: a,
            end: b,
            inclusive,
            unit,
            span: Span::new(start, self.last),
        })
    }
}

//! Turning pest's "expected one of these rules" into a [`ParseError`] worded for people, and
//! finding where to go on after an error.

use pest::error::{ErrorVariant, InputLocation};

use super::grammar::Rule;
use super::lower::parse_int;
use crate::diag::parse::ParseError;
use crate::syntax::ast::Span;

use crate::words::{
    Builtin, FAULT_KINDS, REGION_KINDS, RESERVED as KEYWORDS, SEGV_CODES, SHARINGS, SHOW_TARGETS,
    TYPE_WORDS as TYPE_NAMES, UNIT_NAMES as UNITS,
};

/// The help line where a statement should start: its keywords in the order a newcomer meets them
/// (a test holds the list to the vocabulary's reserved words).
pub(super) const STATEMENT_HELP: &str = "a statement is an assignment `TARGET = EXPR`, an expression such as `free(p)`, or starts with a keyword: let, print, show, expect, for, repeat, if, in, switch, call, local, recurse, read, write, refs, trace, sweep, machine, process, thread";

/// The explanation of a pest error that occurred while parsing `src[base..]` (one statement
/// starting at `base`).
pub(super) fn explain(
    src: &str,
    base: usize,
    err: &pest::error::Error<Rule>,
    max_depth: usize,
) -> ParseError {
    let at = error_pos(src, base, err);
    let positives: Vec<Rule> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => {
            // pest's own limits (native stack, call count): only very deep nesting gets there.
            return ParseError::TooDeep {
                limit: max_depth,
                span: Span::new(base, at.max(base)).into(),
            };
        }
    };
    explain_at(src, base, at, &positives)
}

/// The chunk offset where pest gave up.
pub(super) fn error_pos(src: &str, base: usize, err: &pest::error::Error<Rule>) -> usize {
    let rel = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    (base + rel).min(src.len())
}

fn explain_at(src: &str, base: usize, at: usize, positives: &[Rule]) -> ParseError {
    // An error inside a word (`12abc`, `0b102`, `4Kib`) is about the whole word.
    let at = word_start(src, base, at);
    let found = Token::at(src, at);
    let scan = Scan::run(src, base, at);
    let help = context_help(src, &scan);

    // A string that runs to the end of the line.
    if let Some(q) = scan.string_start {
        return ParseError::UnterminatedString {
            span: Span::new(q, line_end(src, q)).into(),
        };
    }
    if found.kind == TokKind::Str && !string_closed(src, at) {
        return ParseError::UnterminatedString {
            span: Span::new(at, line_end(src, at)).into(),
        };
    }
    // Brackets.
    if found.kind == TokKind::Eof {
        if let Some(&(open, pos)) = scan.brackets.last() {
            let close = closer(open);
            return ParseError::UnclosedDelimiter {
                open: open as char,
                span: Span::new(pos, pos + 1).into(),
                help: format!("add the matching `{close}`"),
            };
        }
    }
    if let TokKind::Punct = found.kind {
        let c = found.text.as_bytes().first().copied().unwrap_or(0);
        if matches!(c, b'}' | b')' | b']') {
            let want = opener(c);
            let matched = scan.brackets.last().is_some_and(|&(o, _)| o == want);
            if !matched {
                let help = match scan.brackets.last() {
                    Some(&(o, p)) => format!(
                        "the innermost open bracket is the `{}` at byte {p}, which `{}` would close",
                        o as char,
                        closer(o)
                    ),
                    None => format!("remove it, or add the `{}` it should close", want as char),
                };
                return ParseError::UnmatchedDelimiter {
                    close: c as char,
                    open: want as char,
                    span: found.span.into(),
                    help,
                };
            }
        }
    }
    if let Some(e) = beginner_mistake(src, at, &found, &scan) {
        return e;
    }
    let is_keyword = found.kind == TokKind::Word && KEYWORDS.contains(&found.text);
    if found.text == "else" && positives.contains(&Rule::stmt) {
        return ParseError::DanglingElse {
            span: found.span.into(),
        };
    }
    if is_keyword && positives.contains(&Rule::ident) {
        return ParseError::ReservedWord {
            word: found.text.to_string(),
            span: found.span.into(),
        };
    }
    // `expct x == 1`: a word that is not a statement, then something that cannot follow it.
    if let Some(s) = scan.stmt_start {
        let w = word_at(src, s);
        if !w.is_empty()
            && w.as_bytes()[0].is_ascii_alphabetic()
            && !KEYWORDS.contains(&w)
            && skip_blanks(src, s + w.len()) == at
            && matches!(found.kind, TokKind::Word | TokKind::Number | TokKind::Str)
            && scan
                .opener_word
                .is_none_or(|o| o != "machine" && o != "process")
        {
            return ParseError::UnknownStatement {
                word: w.to_string(),
                suggestion: closest(w, &KEYWORDS, 2).map(str::to_string),
                span: Span::new(s, s + w.len()).into(),
                help: STATEMENT_HELP.to_string(),
            };
        }
    }
    if found.kind == TokKind::Number {
        if positives.contains(&Rule::page_refs) {
            return ParseError::BadRef {
                text: found.text.to_string(),
                span: found.span.into(),
            };
        }
        if parse_int(found.text).is_none() {
            // `4Kib`: digits, then letters that look like a unit.
            let digits = found
                .text
                .find(|c: char| c.is_ascii_alphabetic() && !is_int_prefix(found.text, c))
                .unwrap_or(found.text.len());
            let (num, rest) = found.text.split_at(digits);
            if !num.is_empty() && parse_int(num).is_some() {
                if let Some(sugg) = unit_like(rest) {
                    return ParseError::BadUnit {
                        unit: rest.to_string(),
                        suggestion: sugg,
                        span: Span::new(found.span.start + digits, found.span.end).into(),
                    };
                }
            }
            return ParseError::BadNumber {
                text: found.text.to_string(),
                span: found.span.into(),
            };
        }
    }
    if found.kind == TokKind::Word {
        if let Some(prev) = prev_token(src, base, at) {
            if prev.kind == TokKind::Number && parse_int(prev.text).is_some() {
                if let Some(sugg) = unit_like(found.text) {
                    return ParseError::BadUnit {
                        unit: found.text.to_string(),
                        suggestion: sugg,
                        span: found.span.into(),
                    };
                }
            }
        }
        if positives
            .iter()
            .any(|r| matches!(r, Rule::type_expr | Rule::prim_type | Rule::ptr_type))
        {
            return ParseError::UnknownType {
                name: found.text.to_string(),
                suggestion: closest(found.text, &TYPE_NAMES, 2).map(str::to_string),
                span: found.span.into(),
            };
        }
    }

    // The general case: "expected X, Y or Z [after `w`], found T".
    let prev_word = prev_token(src, base, at)
        .filter(|t| t.kind == TokKind::Word)
        .map(|t| t.text);
    let mut expected = expected_phrase(positives);
    // Name the expression by its role where the word before says it.
    if expected.as_deref() == Some("an expression") {
        let role = match prev_word {
            Some("stack") => Some("a stack size such as `64 KiB`"),
            Some("frame") => Some("a frame size such as `1 KiB`"),
            Some("step") => Some("a step such as `4 KiB`"),
            Some("repeat") => Some("a count such as `10`"),
            Some("switch") | Some("in") => Some("a process name or pid"),
            _ => None,
        };
        if let Some(r) = role {
            expected = Some(r.to_string());
        }
    }
    let after = match prev_word {
        Some(w) => format!(" after `{w}`"),
        None => String::new(),
    };
    let found_desc = found.describe();
    let (message, label) = match &expected {
        Some(e) => (
            format!("expected {e}{after}, found {found_desc}"),
            format!("expected {e}"),
        ),
        None => (
            format!("unexpected {found_desc}{after}"),
            "not expected here".to_string(),
        ),
    };
    let mut help = help;
    if found.kind == TokKind::Word {
        let vocab = vocabulary(positives);
        if let Some(s) = closest(found.text, &vocab, 2) {
            help = format!("did you mean `{s}`? {help}");
        }
    }
    ParseError::Syntax {
        message,
        span: found.span.into(),
        label,
        help,
    }
}

// ---------------------------------------------------------------------------------------------
// What was expected, in words

fn phrase(r: Rule) -> Option<(u8, &'static str)> {
    use Rule::*;
    Some(match r {
        stmt => (0, "a statement"),
        setting => (1, "a setting such as `page_size 4 KiB`"),
        region | simple_region | region_kind | mmap_region => (
            1,
            "a region such as `text 64 KiB` or `mmap NAME SIZE PERMS`",
        ),
        sweep_param => (1, "a parameter such as `memory in 1..=7 pages`"),
        page_refs => (1, "a page number such as `3` or `3w`"),
        show_target => (1, "a view such as `maps` or `walk`"),
        type_expr | prim_type | ptr_type => (2, "a type such as `int` or `*u8`"),
        region_size => (2, "a size such as `4 KiB`"),
        stack_size => (2, "a stack size such as `64 KiB`"),
        frame_size => (2, "a frame size such as `1 KiB`"),
        region_addr => (2, "an address such as `0x7f0000000000`"),
        size_unit => (2, "a size unit such as `KiB` or `pages`"),
        perms | bad_perms => (2, "permissions such as `rw-`"),
        segv_code => (2, "`maperr` or `accerr`"),
        fault_kind => (2, "`minor` or `major`"),
        expr | paren | sizeof_expr | neg | not | bit_not | deref | addr_of => (3, "an expression"),
        number | size_num => (3, "a number"),
        ident | thread_path => (3, "a name"),
        string => (3, "a string in double quotes"),
        ways | word => (3, "a value"),
        range => (3, "a range such as `0..10`"),
        touch_range => (3, "a byte range such as `[0..4 KiB]`"),
        sweep_list => (3, "a list such as `[fifo, lru]`"),
        sweep_range => (3, "a range such as `1..=7`"),
        settings_block => (4, "settings in `{ ... }`"),
        region_block => (4, "a region list `{ ... }`"),
        block => (4, "a block `{ ... }`"),
        file_arg | kw_file => (5, "`file \"path\"`"),
        sharing => (5, "`shared` or `private`"),
        kw_in => (5, "`in`"),
        kw_frame => (5, "`frame`"),
        kw_stack => (5, "`stack`"),
        kw_step => (5, "`step`"),
        kw_at => (5, "`at`"),
        kw_report | sweep_report => (5, "`report`"),
        kw_fault => (5, "`fault`"),
        kw_else | else_clause => (5, "`else`"),
        kw_as => (5, "an operator"),
        or | and | eq | ne | lt | le | gt | ge | bit_or | bit_xor | bit_and | shl | shr | add
        | sub | mul | div | rem | index | cast | path_tail => (5, "an operator"),
        colon => (6, "`:`"),
        assign_eq => (6, "`=`"),
        range_op => (6, "`..` or `..=`"),
        comma => (7, "`,`"),
        rparen => (7, "`)`"),
        rbracket => (7, "`]`"),
        rbrace => (8, "`}`"),
        stmt_sep => (9, "a new line or `;`"),
        EOI => (10, "the end of the file"),
        _ => return None,
    })
}

/// "a name, `=` or `:`" from the rules pest expected.
fn expected_phrase(positives: &[Rule]) -> Option<String> {
    let mut items: Vec<(u8, &str)> = positives.iter().filter_map(|&r| phrase(r)).collect();
    if items.iter().any(|&(_, p)| p == "a new line or `;`") {
        items.retain(|&(_, p)| p != "the end of the file");
    }
    if items.len() > 1 {
        items.retain(|&(_, p)| p != "a size unit such as `KiB` or `pages`");
    }
    if items.iter().any(|&(_, p)| p == "a value") {
        items.retain(|&(_, p)| {
            !matches!(
                p,
                "a string in double quotes" | "a number" | "a size such as `4 KiB`"
            )
        });
    }
    if items.iter().any(|&(_, p)| p == "an expression") {
        items.retain(|&(_, p)| !matches!(p, "a string in double quotes" | "a number" | "a name"));
    }
    items.sort_by_key(|&(k, _)| k);
    let mut seen: Vec<&str> = Vec::new();
    for (_, p) in items {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    match seen.len() {
        0 => None,
        1 => Some(seen[0].to_string()),
        // "a new line or `;`" already ends with "or".
        n if seen[n - 1] == "a new line or `;`" => {
            Some(format!("{}, {}", seen[..n - 1].join(", "), seen[n - 1]))
        }
        n => Some(format!("{} or {}", seen[..n - 1].join(", "), seen[n - 1])),
    }
}

/// Words that would have been accepted, for "did you mean".
fn vocabulary(positives: &[Rule]) -> Vec<&'static str> {
    let mut v = Vec::new();
    for r in positives {
        match r {
            Rule::stmt => v.extend_from_slice(&KEYWORDS),
            Rule::region | Rule::simple_region | Rule::region_kind | Rule::mmap_region => {
                v.extend_from_slice(&REGION_KINDS)
            }
            Rule::segv_code => v.extend_from_slice(&SEGV_CODES),
            Rule::fault_kind => v.extend_from_slice(&FAULT_KINDS),
            Rule::sharing => v.extend_from_slice(&SHARINGS),
            Rule::size_unit => v.extend_from_slice(&UNITS),
            Rule::show_target => v.extend_from_slice(&SHOW_TARGETS),
            Rule::kw_in => v.push("in"),
            Rule::kw_frame => v.push("frame"),
            Rule::kw_stack => v.push("stack"),
            Rule::kw_step => v.push("step"),
            Rule::kw_at => v.push("at"),
            Rule::kw_file | Rule::file_arg => v.push("file"),
            Rule::kw_report | Rule::sweep_report => v.push("report"),
            Rule::kw_fault => v.push("fault"),
            Rule::kw_else | Rule::else_clause => v.push("else"),
            _ => {}
        }
    }
    v
}

/// C's type names, as a C programmer declares with them.
const C_TYPES: &[&str] = &[
    "int", "long", "char", "short", "unsigned", "signed", "void", "size_t", "float", "double",
    "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t", "int16_t", "int32_t", "int64_t",
];

/// memsim's spelling of a C type name.
fn mem_type(c: &str) -> &str {
    match c {
        "unsigned" | "uint32_t" => "u32",
        "signed" | "int32_t" => "int",
        "size_t" | "uint64_t" => "u64",
        "uint8_t" => "u8",
        "uint16_t" => "u16",
        "int8_t" => "char",
        "int16_t" => "short",
        "int64_t" => "long",
        "void" => "u8",
        other => other,
    }
}

/// A C declaration `TYPE [*...]NAME [= VALUE]` rewritten as memsim's `let`, if `text` is one.
pub(super) fn c_declaration(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches(';').trim_end();
    let (ty, _) = text.split_once(|c: char| c.is_whitespace() || c == '*')?;
    if !C_TYPES.contains(&ty) {
        return None;
    }
    let rest_full = &text[ty.len()..];
    let stars = rest_full.chars().filter(|&c| c == '*').count();
    let rest = rest_full
        .trim_start_matches(|c: char| c.is_whitespace() || c == '*')
        .to_string();
    let (name, value) = match rest.split_once('=') {
        Some((n, v)) => (n.trim().to_string(), Some(v.trim().to_string())),
        None => (rest.trim().to_string(), None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let ty = format!("{}{}", "*".repeat(stars), mem_type(ty));
    Some(match value {
        Some(v) => format!("let {name}: {ty} = {v}"),
        None => format!("let {name}: {ty} = 0"),
    })
}

/// The mistakes a newcomer from C makes first, each with the right syntax.
fn beginner_mistake(src: &str, at: usize, found: &Token, scan: &Scan) -> Option<ParseError> {
    let start = scan.stmt_start?;
    let word = word_at(src, start);
    let line = &src[start..line_end(src, start)];
    // `int x = 5`: a C declaration.
    if C_TYPES.contains(&word) && scan.opener_word.is_none() {
        if let Some(fixed) = c_declaration(line) {
            return Some(ParseError::CDeclaration {
                span: Span::new(start, start + line.trim_end().len()).into(),
                help: format!("declare with `{fixed}`"),
            });
        }
    }
    // `free p`: a builtin without parentheses.
    if Builtin::from_name(word).is_some()
        && skip_blanks(src, start + word.len()) == at
        && matches!(found.kind, TokKind::Word | TokKind::Number)
    {
        let arg = word_at(src, at);
        return Some(ParseError::CallWithoutParens {
            name: word.to_string(),
            span: Span::new(start, at + arg.len().max(1)).into(),
            help: format!("write `{word}({arg})`"),
        });
    }
    // `expect p[0] = 0`, `if x = 1 {`: an assignment where a comparison belongs.
    if matches!(word, "expect" | "if")
        && found.text.starts_with('=')
        && !found.text.starts_with("==")
        && src.get(at..at + 2) != Some("==")
    {
        let cond = src[start + word.len()..at].trim();
        let rhs = src[at + 1..line_end(src, at)]
            .split('{')
            .next()
            .unwrap_or("")
            .split('#')
            .next()
            .unwrap_or("")
            .trim();
        return Some(ParseError::AssignInCondition {
            span: Span::new(at, at + 1).into(),
            help: format!("compare with `==`: `{word} {cond} == {rhs}`"),
        });
    }
    None
}

/// What a statement of this kind looks like.
fn context_help(src: &str, scan: &Scan) -> String {
    let word = scan.stmt_start.map(|s| word_at(src, s));
    if let Some(o) = scan.opener_word {
        if o == "machine" {
            return "a setting is `KEY VALUE ...`, one per line or separated by `;`, such as `page_size 4 KiB` or `tlb 16 entries lru`".to_string();
        }
        if o == "process" {
            return "a region is `text|rodata|data|bss|heap|stack [SIZE]` or `mmap NAME [at ADDR] SIZE PERMS [file \"path\"] [shared|private]`, one per line".to_string();
        }
    }
    let h = match word.unwrap_or("") {
        "machine" => "write `machine NAME`, `machine \"profile.yaml\"`, `machine { page_size 4 KiB; memory 12 KiB }` or `machine NAME { ... }`",
        "process" => "write `process NAME` or `process NAME { text 64 KiB; heap; stack 8 MiB }`",
        "thread" => "write `thread NAME`, `thread PROCESS.NAME` or `thread PROCESS.NAME stack 64 KiB`",
        "let" => "write `let NAME = EXPR` or `let NAME: TYPE = EXPR`, such as `let ip: *int = malloc(40)`",
        "print" => "write `print ITEM, ITEM, ...` where an item is an expression or a \"string\"",
        "show" => "write `show WHAT [ARGS]`: `show maps`, `show walk ADDR`, `show memory ADDR LEN`, `show stats`, ...",
        "expect" => "write `expect CONDITION`, or `expect segfault|sigbus|fault|no fault|abort|oom|warning KIND { ... }`",
        "for" => "write `for VAR in START..END { ... }` (`..=` includes END)",
        "repeat" => "write `repeat COUNT { ... }`",
        "if" => "write `if CONDITION { ... }`, optionally followed by `else { ... }` or `else if ...`",
        "in" => "write `in PROCESS { ... }` (a name, a pid or `PROCESS.THREAD`)",
        "switch" => "write `switch PROCESS`",
        "call" => "write `call NAME frame SIZE { ... }`, such as `call f frame 1 KiB { local buf: char[256] }`",
        "local" => "write `local NAME: TYPE`, such as `local buf: char[256]`",
        "recurse" => "write `recurse NAME DEPTH frame SIZE`, such as `recurse f 1000 frame 1 KiB`",
        "read" => "write `read POINTER[START..END] [step SIZE]`, such as `read p[0..64 KiB] step 4 KiB`",
        "write" => "write `write POINTER[START..END] [step SIZE] = VALUE`, such as `write p[0..64 KiB] = 0`",
        "refs" => "write `refs` and page numbers, `w` marking a write: `refs 7 0 1 2 3w`",
        "trace" => "write `trace \"file\"`",
        "sweep" => "write `sweep KEY in [A, B, ...], KEY in START..=END [UNIT] [report EXPR, ...] { ... }`",
        _ => STATEMENT_HELP,
    };
    h.to_string()
}

// ---------------------------------------------------------------------------------------------
// Tokens around the error

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokKind {
    Eof,
    Eol,
    Word,
    Number,
    Str,
    Punct,
}

#[derive(Debug, Clone, Copy)]
struct Token<'s> {
    kind: TokKind,
    text: &'s str,
    span: Span,
}

impl<'s> Token<'s> {
    fn at(src: &'s str, at: usize) -> Token<'s> {
        let b = src.as_bytes();
        let Some(&c) = b.get(at) else {
            return Token {
                kind: TokKind::Eof,
                text: "",
                span: Span::new(src.len(), src.len()),
            };
        };
        let (kind, len) = match c {
            b'\n' | b'\r' => (TokKind::Eol, 0),
            b'"' => (TokKind::Str, 1),
            c if c.is_ascii_digit() => (TokKind::Number, word_len(b, at)),
            c if c.is_ascii_alphabetic() || c == b'_' => (TokKind::Word, word_len(b, at)),
            _ => {
                let rest = &src[at..];
                let ops = ["..=", "..", "==", "!=", "<=", ">=", "<<", ">>", "&&", "||"];
                let len = ops.iter().find(|o| rest.starts_with(*o)).map_or_else(
                    || rest.chars().next().map_or(1, char::len_utf8),
                    |o| o.len(),
                );
                (TokKind::Punct, len)
            }
        };
        let end = (at + len).min(src.len());
        Token {
            kind,
            text: src.get(at..end).unwrap_or(""),
            span: Span::new(at, end),
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            TokKind::Eof => "the end of the file".to_string(),
            TokKind::Eol => "the end of the line".to_string(),
            TokKind::Str => "a string".to_string(),
            _ => format!("`{}`", self.text),
        }
    }
}

fn word_len(b: &[u8], at: usize) -> usize {
    b[at..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count()
}

/// The start of the word containing `at` (not before `base`), or `at` if it is not in a word.
fn word_start(src: &str, base: usize, at: usize) -> usize {
    let b = src.as_bytes();
    let is_w = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if at >= b.len() || !is_w(b[at]) {
        return at;
    }
    let mut i = at;
    while i > base && is_w(b[i - 1]) {
        i -= 1;
    }
    i
}

fn word_at(src: &str, at: usize) -> &str {
    let b = src.as_bytes();
    if at >= b.len() {
        return "";
    }
    &src[at..at + word_len(b, at)]
}

/// The token right before `at` on the same line (not before `base`), if it is a word or number.
fn prev_token(src: &str, base: usize, at: usize) -> Option<Token<'_>> {
    let b = src.as_bytes();
    let line_start = b[..at.min(b.len())]
        .iter()
        .rposition(|&c| c == b'\n' || c == b'\r')
        .map_or(0, |i| i + 1)
        .max(base);
    // Ignore a comment on this line before `at` (the error cannot be inside one).
    let mut end = at.min(b.len());
    while end > line_start && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end == line_start || !(b[end - 1].is_ascii_alphanumeric() || b[end - 1] == b'_') {
        return None;
    }
    if b[line_start..end].contains(&b'#') {
        return None;
    }
    let start = b[line_start..end]
        .iter()
        .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .map_or(line_start, |i| line_start + i + 1);
    let text = &src[start..end];
    let kind = if text.as_bytes()[0].is_ascii_digit() {
        TokKind::Number
    } else {
        TokKind::Word
    };
    Some(Token {
        kind,
        text,
        span: Span::new(start, end),
    })
}

fn skip_blanks(src: &str, mut i: usize) -> usize {
    let b = src.as_bytes();
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

fn line_end(src: &str, from: usize) -> usize {
    src.as_bytes()[from.min(src.len())..]
        .iter()
        .position(|&c| c == b'\n' || c == b'\r')
        .map_or(src.len(), |i| from + i)
}

/// Whether the string starting at the `"` at `at` is closed on its line.
fn string_closed(src: &str, at: usize) -> bool {
    let b = src.as_bytes();
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => return true,
            b'\n' | b'\r' => return false,
            _ => {}
        }
        i += 1;
    }
    false
}

fn opener(c: u8) -> u8 {
    match c {
        b'}' => b'{',
        b')' => b'(',
        _ => b'[',
    }
}

fn closer(c: u8) -> char {
    match c {
        b'{' => '}',
        b'(' => ')',
        _ => ']',
    }
}

/// `x` in `0x`/`b` in `0b` are part of a number, not a unit.
fn is_int_prefix(text: &str, c: char) -> bool {
    let lower = text.to_ascii_lowercase();
    (c == 'x' || c == 'X') && lower.starts_with("0x")
        || (c == 'b') && lower.starts_with("0b") && text.len() > 2
}

/// `Some(suggestion)` when `w` looks like a size unit someone meant to write.
fn unit_like(w: &str) -> Option<Option<String>> {
    const ALIASES: &[(&str, &str)] = &[
        ("b", "B"),
        ("byte", "B"),
        ("bytes", "B"),
        ("k", "K"),
        ("kb", "KiB"),
        ("kib", "KiB"),
        ("m", "M"),
        ("mb", "MiB"),
        ("mib", "MiB"),
        ("g", "G"),
        ("gb", "GiB"),
        ("gib", "GiB"),
        ("t", "T"),
        ("tb", "TiB"),
        ("tib", "TiB"),
        ("pg", "pages"),
        ("pgs", "pages"),
        ("p", "pages"),
    ];
    let lower = w.to_ascii_lowercase();
    if let Some((_, s)) = ALIASES.iter().find(|(a, _)| *a == lower) {
        return Some(Some((*s).to_string()));
    }
    if w.len() >= 3 {
        if let Some(s) = closest(w, &UNITS, 1) {
            return Some(Some(s.to_string()));
        }
    }
    None
}

/// The closest word within `max` edits, if any (ties go to the first).
pub(super) fn closest<'a>(w: &str, words: &[&'a str], max: usize) -> Option<&'a str> {
    crate::suggest::did_you_mean(w, words.iter().copied(), crate::suggest::Reach::Edits(max))
}

// ---------------------------------------------------------------------------------------------
// A light scan of the statement up to the error: open brackets, an open string, and where the
// innermost statement starts.

struct Scan<'s> {
    brackets: Vec<(u8, usize)>,
    string_start: Option<usize>,
    /// Start of the innermost statement containing the error; `None` when the error is where a
    /// statement should start.
    stmt_start: Option<usize>,
    /// First word of the statement that opened the innermost `{`.
    opener_word: Option<&'s str>,
}

impl<'s> Scan<'s> {
    fn run(src: &'s str, from: usize, to: usize) -> Scan<'s> {
        let b = src.as_bytes();
        let to = to.min(b.len());
        let mut brackets: Vec<(u8, usize)> = Vec::new();
        // For each open `{`: the statement start outside it.
        let mut saved: Vec<Option<usize>> = Vec::new();
        let mut cur: Option<usize> = None;
        let mut string_start = None;
        let mut i = from;
        while i < to {
            let c = b[i];
            if string_start.is_some() {
                match c {
                    b'\\' => i += 1,
                    b'"' => string_start = None,
                    b'\n' | b'\r' => string_start = None,
                    _ => {}
                }
                i += 1;
                continue;
            }
            let in_parens = brackets.last().is_some_and(|&(o, _)| o != b'{');
            match c {
                b'#' => {
                    while i < to && b[i] != b'\n' && b[i] != b'\r' {
                        i += 1;
                    }
                    continue;
                }
                b'\\' if matches!(b.get(i + 1), Some(b'\n' | b'\r')) => {
                    i += 2;
                    continue;
                }
                b'\n' | b'\r' | b';' => {
                    if !in_parens {
                        cur = None;
                    }
                }
                b' ' | b'\t' => {}
                b'{' => {
                    brackets.push((c, i));
                    saved.push(cur);
                    cur = None;
                }
                b'}' => {
                    if brackets.last().is_some_and(|&(o, _)| o == b'{') {
                        brackets.pop();
                        cur = saved.pop().flatten();
                    }
                }
                b'(' | b'[' => {
                    cur.get_or_insert(i);
                    brackets.push((c, i));
                }
                b')' | b']' => {
                    if brackets.last().is_some_and(|&(o, _)| o == opener(c)) {
                        brackets.pop();
                    }
                }
                b'"' => {
                    cur.get_or_insert(i);
                    string_start = Some(i);
                }
                _ => {
                    cur.get_or_insert(i);
                }
            }
            i += 1;
        }
        let opener_word = saved.last().copied().flatten().map(|s| word_at(src, s));
        Scan {
            brackets,
            string_start,
            stmt_start: cur,
            opener_word,
        }
    }
}

/// Where to go on after an error at `err` in the statement starting at `start`: just after the
/// next new line or `;` at brace depth 0 at or after the error (skipping a broken `{ }` block),
/// or after a stray `}`.
pub(super) fn resume_point(src: &str, start: usize, err: usize) -> usize {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' | b'\n' | b'\r' => in_str = false,
                _ => {}
            }
            if !in_str && i >= err && depth == 0 && matches!(c, b'\n' | b'\r') {
                return i + 1;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'#' => {
                while i + 1 < b.len() && b[i + 1] != b'\n' && b[i + 1] != b'\r' {
                    i += 1;
                }
            }
            b'\\' if matches!(b.get(i + 1), Some(b'\n')) => i += 1,
            b'{' => depth += 1,
            b'}' => {
                if depth > 0 {
                    depth -= 1;
                } else if i >= err {
                    return i + 1;
                }
            }
            b'\n' | b'\r' | b';' if depth == 0 && i >= err => return i + 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

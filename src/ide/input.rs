//! What the REPL knows about the text being typed: a small lexer that understands comments and
//! strings, whether an input is complete (braces closed), and ANSI syntax highlighting.
//!
//! The lexer is deliberately forgiving: it runs on every keystroke over half-typed input, so
//! it never fails and never panics; the real parser judges the input once it is complete.

use std::sync::OnceLock;

use crate::words::{self, Builtin};

/// The language's words: every keyword (reserved words such as `let` and contextual ones such
/// as `frame`), then the small closed word sets of `expect` and `mmap`.
pub fn keywords() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| words::keywords().collect())
}

/// The reserved words: those of [`keywords`] that cannot be names.
pub fn reserved_words() -> &'static [&'static str] {
    &words::RESERVED
}

/// The primitive type names (`u8` … `long`).
pub fn type_names() -> &'static [&'static str] {
    &words::TYPE_WORDS
}

/// The size units (`KiB`, `pages`, …).
pub fn units() -> &'static [&'static str] {
    &words::UNIT_NAMES
}

/// The regions of a `process { }` layout, `mmap` included.
pub fn region_kinds() -> &'static [&'static str] {
    &words::REGION_KINDS
}

/// A piece of input, as byte offsets into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// `# ...` to the end of the line.
    Comment,
    /// `"..."`, possibly unterminated.
    Str,
    /// A number with its unit, if any: `42`, `0x7f`, `4 KiB`.
    Number,
    /// A name or a keyword.
    Word,
    /// Spaces, tabs and new lines.
    Space,
    /// Any other single character.
    Punct(char),
}

/// Splits input into tokens covering every byte. Never fails.
pub fn lex(src: &str) -> Vec<(Tok, usize, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let start = i;
        let c = b[i];
        let tok = if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            Tok::Comment
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                // An escape takes the next byte with it, so `\"` does not end the string.
                i += if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] != b'\n' {
                    2
                } else {
                    1
                };
            }
            if i < b.len() && b[i] == b'"' {
                i += 1;
            }
            Tok::Str
        } else if c.is_ascii_digit() {
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            // A unit may follow after spaces (`4 KiB`); it belongs to the number.
            let mut j = i;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            let mut k = j;
            while k < b.len() && is_word(b[k]) {
                k += 1;
            }
            if k > j && units().contains(&&src[j..k]) {
                i = k;
            }
            Tok::Number
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && is_word(b[i]) {
                i += 1;
            }
            Tok::Word
        } else if c.is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            Tok::Space
        } else {
            // One character, however many bytes it takes.
            let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
            i += ch.len_utf8().max(1);
            Tok::Punct(ch)
        };
        out.push((tok, start, i));
    }
    out
}

/// How many `{`, `(` and `[` are still open at the end of the input (negative: more closed
/// than opened), ignoring those in comments and strings.
pub fn open_brackets(src: &str) -> i64 {
    lex(src)
        .iter()
        .map(|&(t, _, _)| match t {
            Tok::Punct('{' | '(' | '[') => 1,
            Tok::Punct('}' | ')' | ']') => -1,
            _ => 0,
        })
        .sum()
}

/// Whether the input needs more lines before it can run: a bracket is still open, or the
/// last line ends with a `\` continuation. A `:`-command is always complete.
pub fn needs_more(src: &str) -> bool {
    if src.trim_start().starts_with(':') {
        return false;
    }
    if open_brackets(src) > 0 {
        return true;
    }
    matches!(lex(src).last(), Some(&(Tok::Punct('\\'), _, end)) if end == src.len())
}

/// Whether a complete input ends with an `if` (or `else if`) block that an `else` on the next
/// line could continue, as it can in a file: the REPL waits for that line before running it.
pub fn may_take_else(src: &str) -> bool {
    use crate::syntax::ast::{Stmt, StmtKind};
    fn open(s: &Stmt, src: &str) -> bool {
        match &s.kind {
            StmtKind::If {
                otherwise: None, ..
            } => true,
            StmtKind::If {
                otherwise: Some(b), ..
            } => {
                // `else if`: a block of one `if`, written without braces.
                let braced = src.get(b.span.start..).is_some_and(|t| t.starts_with('{'));
                !braced && b.stmts.len() == 1 && open(&b.stmts[0], src)
            }
            _ => false,
        }
    }
    if src.trim_start().starts_with(':') {
        return false;
    }
    let Ok(p) = crate::syntax::parse(src) else {
        return false;
    };
    let ends_with_brace = lex(src)
        .iter()
        .rev()
        .find(|(t, _, _)| !matches!(t, Tok::Space | Tok::Comment))
        .is_some_and(|&(t, _, _)| t == Tok::Punct('}'));
    ends_with_brace && p.stmts.last().is_some_and(|s| open(s, src))
}

/// Whether the input can run as it is (the line editor's validator).
pub fn is_complete(src: &str) -> bool {
    !needs_more(src)
}

const RESET: &str = "\x1b[0m";
const KEYWORD: &str = "\x1b[1;35m";
const BUILTIN: &str = "\x1b[36m";
const NUMBER: &str = "\x1b[33m";
const STRING: &str = "\x1b[32m";
const COMMENT: &str = "\x1b[2;37m";
const COMMAND: &str = "\x1b[1;34m";

/// The input with ANSI colours: keywords, builtins, numbers and sizes, strings, comments, and
/// a leading `:`-command. Only escape codes are added, so the visible text is unchanged.
pub fn highlight(src: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let paint = |out: &mut String, colour: &str, text: &str| {
        out.push_str(colour);
        out.push_str(text);
        out.push_str(RESET);
    };
    if let Some(rest) = src.trim_start().strip_prefix(':') {
        let lead = src.len() - rest.len() - 1;
        let word = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        out.push_str(&src[..lead]);
        paint(&mut out, COMMAND, &src[lead..lead + 1 + word]);
        out.push_str(&rest[word..]);
        return out;
    }
    for (tok, s, e) in lex(src) {
        let text = &src[s..e];
        match tok {
            Tok::Comment => paint(&mut out, COMMENT, text),
            Tok::Str => paint(&mut out, STRING, text),
            Tok::Number => paint(&mut out, NUMBER, text),
            Tok::Word if keywords().contains(&text) => paint(&mut out, KEYWORD, text),
            Tok::Word if Builtin::from_name(text).is_some() => paint(&mut out, BUILTIN, text),
            _ => out.push_str(text),
        }
    }
    out
}

/// The same text without ANSI escape sequences (for tests and width computations).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_words_are_found() {
        for w in [
            "let", "machine", "show", "expect", "sizeof", "frame", "segfault",
        ] {
            assert!(keywords().contains(&w), "{w} missing from {:?}", keywords());
        }
        assert!(type_names().contains(&"int"));
        assert!(reserved_words().contains(&"repeat") && reserved_words().contains(&"in"));
        assert!(!reserved_words().contains(&"report") && !reserved_words().contains(&"frame"));
        assert!(units().contains(&"KiB") && units().contains(&"pages"));
        assert!(region_kinds().contains(&"bss"));
    }

    #[test]
    fn braces_continue_input() {
        assert!(needs_more("repeat 3 {"));
        assert!(needs_more("repeat 3 {\n  let x = 1"));
        assert!(!needs_more("repeat 3 {\n  let x = 1\n}"));
        assert!(needs_more("print (1 +"));
        assert!(needs_more("let x = 1 + \\"));
        assert!(!needs_more("# a comment with { in it"));
        assert!(!needs_more("print \"{\""));
        assert!(!needs_more("}"), "too many closers: let the parser say so");
        assert!(!needs_more(":help {"));
        assert!(!needs_more("print \"unterminated {"));
    }

    #[test]
    fn highlighting_only_adds_colour() {
        let src = "let p = malloc(4 KiB) # hi\nprint \"x\" :";
        let h = highlight(src);
        assert_eq!(strip_ansi(&h), src);
        assert!(h.contains("\x1b[1;35mlet\x1b[0m"));
        assert!(h.contains("\x1b[33m4 KiB\x1b[0m"));
        assert!(h.contains("\x1b[36mmalloc\x1b[0m"));
        assert!(h.contains("\x1b[32m\"x\"\x1b[0m"));
        assert!(h.contains("\x1b[2;37m# hi\x1b[0m"));
        assert_eq!(strip_ansi(&highlight("  :help page")), "  :help page");
    }

    #[test]
    fn lexing_never_loses_bytes() {
        for src in ["", "é{\"\\", "1 K", "0x_ ## \"\\\"", "\u{1F600}x\\"] {
            let toks = lex(src);
            let mut at = 0;
            for (_, s, e) in toks {
                assert_eq!(s, at);
                at = e;
            }
            assert_eq!(at, src.len());
        }
    }
}

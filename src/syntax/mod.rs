//! The `.mem` parser: pest grammar in, owned AST with spans out. No pest type leaves this module.
//!
//! [`parse`] parses with the pest grammar of `grammar/mem.pest`, the one definition of the
//! syntax: first the whole chunk in one go; when that fails it parses the chunk again statement
//! by statement, so that every broken statement gets its own error and the statements after it
//! are still checked (up to [`MAX_ERRORS`]). Bulk data (the numbers of a `refs` statement) is one
//! token in the grammar, read by a tight loop in the lowering step; a long run of it is not even
//! shown to pest, which parses the chunk with the run cut short first (`elide.rs`).

pub mod ast;
mod elide;
mod errors;
mod lower;
mod refs;
#[cfg(test)]
mod tests;

pub use ast::*;
pub use refs::{Iter as PageRefsIter, PageRef, PageRefsBuilder};

pub use crate::words::SHOW_TARGETS;

pub use crate::diag::parse::ParseError;

use pest::Parser as _;

use grammar::{MemParser, Rule};
use lower::Lowerer;

/// The generated parser lives in a private module so that its `Rule` enum stays inside.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/mem.pest"]
    pub(super) struct MemParser;
}

pub use lower::DEFAULT_MAX_DEPTH;

/// The deepest nesting that may be asked for: the parser, the checker and the executor
/// recurse once per level, and 250 nested blocks already overflow the 8 MiB main thread's
/// stack in a debug build. The limit can be lowered, not raised.
pub const MAX_DEPTH_CEILING: usize = DEFAULT_MAX_DEPTH;

/// At most this many errors are reported for one chunk.
pub const MAX_ERRORS: usize = 50;

/// Parses a chunk of `.mem` source (a file, a REPL line or a notebook cell).
///
/// On failure returns every error found (at most [`MAX_ERRORS`], then a `too_many_errors`
/// one), in source order. Never panics, whatever the input.
pub fn parse(src: &str) -> Result<Program, Vec<ParseError>> {
    parse_with_depth(src, DEFAULT_MAX_DEPTH)
}

/// [`parse`] with another limit on nesting than [`DEFAULT_MAX_DEPTH`] (at most
/// [`MAX_DEPTH_CEILING`]: a larger one counts as that).
pub fn parse_with_depth(src: &str, max_depth: usize) -> Result<Program, Vec<ParseError>> {
    parse_eliding(src, max_depth, elide::MIN_RUN)
}

/// [`parse_with_depth`], with pest kept from runs of plain references of at least `min_run`
/// bytes (`elide.rs`).
fn parse_eliding(src: &str, max_depth: usize, min_run: usize) -> Result<Program, Vec<ParseError>> {
    let max_depth = max_depth.min(MAX_DEPTH_CEILING);
    if let Some(elided) = elide::elide(src, min_run) {
        if let Ok(mut pairs) = MemParser::parse(Rule::program, &elided.text) {
            let l = Lowerer::new(src, 0, max_depth).eliding(&elided);
            let stmts = pairs.next().map(|p| l.stmts(p)).unwrap_or_default();
            let errors = l.into_errors();
            if elided.all_covered() {
                return if errors.is_empty() {
                    Ok(Program { stmts })
                } else {
                    Err(cap(errors, src))
                };
            }
        }
        // A cut that was not a `refs` token's, or a chunk that does not parse: the source
        // itself says what is wrong, where.
    }
    match MemParser::parse(Rule::program, src) {
        Ok(mut pairs) => {
            let l = Lowerer::new(src, 0, max_depth);
            let stmts = pairs.next().map(|p| l.stmts(p)).unwrap_or_default();
            let errors = l.into_errors();
            if errors.is_empty() {
                Ok(Program { stmts })
            } else {
                Err(cap(errors, src))
            }
        }
        Err(e) => {
            let mut errors = parse_each(src, max_depth);
            if errors.is_empty() {
                // The statement-wise parse should find what the whole-chunk parse found; if it
                // does not, report the whole-chunk error rather than nothing.
                errors.push(errors::explain(src, 0, &e, max_depth));
            }
            Err(cap(errors, src))
        }
    }
}

fn cap(mut errors: Vec<ParseError>, src: &str) -> Vec<ParseError> {
    if errors.len() > MAX_ERRORS {
        let at = errors[MAX_ERRORS].span().offset();
        errors.truncate(MAX_ERRORS);
        errors.push(ParseError::TooManyErrors {
            count: MAX_ERRORS,
            span: Span::new(at.min(src.len()), at.min(src.len())).into(),
        });
    }
    errors
}

/// Parses statement by statement, collecting the errors of every statement.
fn parse_each(src: &str, max_depth: usize) -> Vec<ParseError> {
    let mut errors = Vec::new();
    let mut pos = 0;
    loop {
        pos = skip_trivia(src, pos);
        if pos >= src.len() || errors.len() > MAX_ERRORS {
            break;
        }
        let rest = &src[pos..];
        match MemParser::parse(Rule::single_stmt, rest) {
            Ok(mut pairs) => {
                let Some(p) = pairs.next() else { break };
                let end = p.as_span().end();
                let l = Lowerer::new(src, pos, max_depth);
                l.stmts(p);
                errors.extend(l.into_errors());
                // `end > 0`: a statement is never empty; guard against looping anyway.
                pos += end.max(1);
                while !src.is_char_boundary(pos) {
                    pos += 1;
                }
            }
            Err(e) => {
                errors.push(errors::explain(src, pos, &e, max_depth));
                let at = errors::error_pos(src, pos, &e);
                let next = errors::resume_point(src, pos, at);
                pos = if next > pos { next } else { pos + 1 };
                while pos < src.len() && !src.is_char_boundary(pos) {
                    pos += 1;
                }
            }
        }
    }
    errors
}

/// Skips spaces, new lines, `;`, comments and line continuations.
fn skip_trivia(src: &str, mut i: usize) -> usize {
    let b = src.as_bytes();
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b';' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'\\' if matches!(b.get(i + 1), Some(b'\n' | b'\r')) => i += 2,
            _ => break,
        }
    }
    i
}

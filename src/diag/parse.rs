//! Parse errors (`mem::parse::…`).
//!
//! Every variant points at the source with a label and says in its help line what would be
//! valid there. The errors do not carry the source text: the caller attaches it with
//! `miette::Report::with_source_code` (the spans are byte offsets into the parsed chunk).

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

/// Something in a chunk of `.mem` source that is not a valid program.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum ParseError {
    /// The text does not fit the grammar here; `message` says what was expected, in words.
    #[error("{message}")]
    #[diagnostic(code(mem::parse::syntax))]
    Syntax {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
    },

    /// A statement starts with a word that is not a statement keyword and is not followed by
    /// `=`, `(` or an operator.
    #[error("unknown statement `{word}`{}", suggestion_suffix(.suggestion))]
    #[diagnostic(code(mem::parse::unknown_statement))]
    UnknownStatement {
        word: String,
        suggestion: Option<String>,
        #[label("not a statement")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// A C declaration (`int *p = malloc(10);`): memsim declares with `let`.
    #[error("this is C's way to declare a variable")]
    #[diagnostic(code(mem::parse::c_declaration))]
    CDeclaration {
        #[label("a declaration in C syntax")]
        span: SourceSpan,
        /// The same declaration in memsim: "declare with `let p: *int = malloc(10)`".
        #[help]
        help: String,
    },

    /// A builtin named without parentheses (`free p`).
    #[error("`{name}` is a function: it needs parentheses")]
    #[diagnostic(code(mem::parse::call_without_parens))]
    CallWithoutParens {
        name: String,
        #[label("called without `( )`")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// `=` where a condition is expected (`expect p[0] = 0`, `if x = 1 { }`).
    #[error("`=` assigns; a condition compares with `==`")]
    #[diagnostic(code(mem::parse::assign_in_condition))]
    AssignInCondition {
        #[label("`=` in a condition")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// An integer literal that does not fit in 64 bits.
    #[error("the number `{text}` is too large")]
    #[diagnostic(
        code(mem::parse::int_too_large),
        help("numbers are unsigned 64-bit: at most 18446744073709551615 (0xffff_ffff_ffff_ffff)")
    )]
    IntTooLarge {
        text: String,
        #[label("does not fit in 64 bits")]
        span: SourceSpan,
    },

    /// A size whose number of bytes does not fit in 64 bits.
    #[error("the size `{text}` is too large")]
    #[diagnostic(
        code(mem::parse::size_too_large),
        help("a size is at most 16 EiB - 1 byte, e.g. `16383 TiB`")
    )]
    SizeTooLarge {
        text: String,
        #[label("more than 2^64 bytes")]
        span: SourceSpan,
    },

    /// Something shaped like permissions that are not valid permissions.
    #[error("`{text}` is not valid permissions")]
    #[diagnostic(
        code(mem::parse::bad_perms),
        help("permissions are `r` or `-`, then `w` or `-`, then `x` or `-`, optionally followed by `p` (private) or `s` (shared): `r--`, `rw-`, `r-x`, `rwx`, `---`, `rw-p`; to subtract, put spaces around `-`")
    )]
    BadPerms {
        text: String,
        #[label("not valid permissions")]
        span: SourceSpan,
    },

    /// A number followed by a word that looks like a misspelled size unit.
    #[error("unknown size unit `{unit}`{}", suggestion_suffix(.suggestion))]
    #[diagnostic(
        code(mem::parse::bad_unit),
        help("size units are `B`, `KiB` (or `K`, `kB`), `MiB` (or `M`), `GiB` (or `G`), `TiB` (or `T`) and `page`/`pages`; all are binary (1 KiB = 1024 B)")
    )]
    BadUnit {
        unit: String,
        suggestion: Option<String>,
        #[label("unknown unit")]
        span: SourceSpan,
    },

    /// A word that starts with a digit but is not a number.
    #[error("`{text}` is not a valid number")]
    #[diagnostic(
        code(mem::parse::bad_number),
        help("numbers are decimal `42`, hexadecimal `0x7fff_0000` or binary `0b1010`, with `_` allowed between digits; a size has a unit such as `4 KiB`")
    )]
    BadNumber {
        text: String,
        #[label("not a number")]
        span: SourceSpan,
    },

    /// A `"` without its closing `"` on the same line.
    #[error("this string is not closed")]
    #[diagnostic(
        code(mem::parse::unterminated_string),
        help("close the string with `\"` before the end of the line; write `\\\"` for a quote inside it")
    )]
    UnterminatedString {
        #[label("the string starts here and has no closing `\"` on this line")]
        span: SourceSpan,
    },

    /// A backslash escape other than `\"`, `\\`, `\n`, `\t` in a string.
    #[error("unknown escape `{escape}` in a string")]
    #[diagnostic(
        code(mem::parse::bad_escape),
        help("the escapes are `\\\"` (a quote), `\\\\` (a backslash), `\\n` (a new line) and `\\t` (a tab)")
    )]
    BadEscape {
        escape: String,
        #[label("unknown escape")]
        span: SourceSpan,
    },

    /// An opening bracket that is never closed.
    #[error("this `{open}` is never closed")]
    #[diagnostic(code(mem::parse::unclosed_delimiter))]
    UnclosedDelimiter {
        open: char,
        #[label("opened here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// A closing bracket without a matching opening one.
    #[error("this `{close}` has no matching `{open}`")]
    #[diagnostic(code(mem::parse::unmatched_delimiter))]
    UnmatchedDelimiter {
        close: char,
        open: char,
        #[label("nothing to close here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// A reserved word used where a name is expected.
    #[error("`{word}` is a reserved word and cannot be used as a name")]
    #[diagnostic(
        code(mem::parse::reserved_word),
        help("pick another name; the reserved words are: let machine process thread print show expect for in repeat if else switch call local recurse read write refs trace sweep sizeof as")
    )]
    ReservedWord {
        word: String,
        #[label("reserved word")]
        span: SourceSpan,
    },

    /// An entry of `refs` that is not a page number with an optional `w`/`r`.
    #[error("`{text}` is not a page reference")]
    #[diagnostic(
        code(mem::parse::bad_ref),
        help("a reference is a page number, optionally followed by `w` (a write) or `r` (a read), with no space: `refs 7 0 1 3w`")
    )]
    BadRef {
        text: String,
        #[label("expected a page number such as `3` or `3w`")]
        span: SourceSpan,
    },

    /// A word where a type is expected that is not a type.
    #[error("unknown type `{name}`{}", suggestion_suffix(.suggestion))]
    #[diagnostic(
        code(mem::parse::unknown_type),
        help("the types are `u8 i8 u16 i16 u32 i32 u64 i64`, the C names `char short int long`, and pointers `*T` such as `*int`")
    )]
    UnknownType {
        name: String,
        suggestion: Option<String>,
        #[label("not a type")]
        span: SourceSpan,
    },

    /// The left side of `=` is not something that can be assigned.
    #[error("cannot assign to this expression")]
    #[diagnostic(
        code(mem::parse::bad_assign_target),
        help("the left side of `=` must be a variable (`x = 1`), an element (`p[i] = 1`) or a dereference (`*p = 1`); to compare, use `==`")
    )]
    BadAssignTarget {
        #[label("not a variable, `p[i]` or `*p`")]
        span: SourceSpan,
    },

    /// `else` that does not follow the `}` of an `if`.
    #[error("`else` without an `if`")]
    #[diagnostic(
        code(mem::parse::dangling_else),
        help("`else` must follow the closing `}}` of an `if` block on the same line or the next: `if x {{ ... }} else {{ ... }}`")
    )]
    DanglingElse {
        #[label("no `if` block right before this")]
        span: SourceSpan,
    },

    /// Nesting (brackets, blocks, operators) beyond what the parser accepts.
    #[error("this is nested too deeply")]
    #[diagnostic(
        code(mem::parse::too_deep),
        help("blocks and expressions may nest at most {limit} levels, and an expression may have at most {limit} operators; split it with `let` (`--max-depth N` changes the limit)")
    )]
    TooDeep {
        limit: usize,
        #[label("too deep")]
        span: SourceSpan,
    },

    /// A chunk larger than the session takes (`--max-source`).
    #[error("this source is {size} bytes, more than the {limit} bytes a file or cell may have")]
    #[diagnostic(
        code(mem::parse::too_large),
        help("a scenario is a few hundred lines; long data belongs in a trace file (`trace \"FILE\"`), which is streamed; allow more with `--max-source BYTES`")
    )]
    TooLarge {
        size: usize,
        limit: usize,
        #[label("past the limit")]
        span: SourceSpan,
    },

    /// A line longer than the session takes (`--max-line`).
    #[error("line {line} is longer than {limit} bytes")]
    #[diagnostic(
        code(mem::parse::line_too_long),
        help("split it over several lines or statements; a long reference string belongs in a trace file (`trace \"FILE\"`); allow more with `--max-line BYTES`")
    )]
    LineTooLong {
        line: usize,
        limit: usize,
        #[label("this line")]
        span: SourceSpan,
    },

    /// The error limit was reached; the rest of the file was not checked.
    #[error("too many errors; stopped after {count}")]
    #[diagnostic(
        code(mem::parse::too_many_errors),
        help("fix the errors above and run again")
    )]
    TooManyErrors {
        count: usize,
        #[label("parsing stopped here")]
        span: SourceSpan,
    },
}

fn suggestion_suffix(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

impl ParseError {
    /// Where in the source the error is.
    pub fn span(&self) -> SourceSpan {
        match self {
            ParseError::Syntax { span, .. }
            | ParseError::UnknownStatement { span, .. }
            | ParseError::CDeclaration { span, .. }
            | ParseError::CallWithoutParens { span, .. }
            | ParseError::AssignInCondition { span, .. }
            | ParseError::IntTooLarge { span, .. }
            | ParseError::SizeTooLarge { span, .. }
            | ParseError::BadPerms { span, .. }
            | ParseError::BadUnit { span, .. }
            | ParseError::BadNumber { span, .. }
            | ParseError::UnterminatedString { span }
            | ParseError::BadEscape { span, .. }
            | ParseError::UnclosedDelimiter { span, .. }
            | ParseError::UnmatchedDelimiter { span, .. }
            | ParseError::ReservedWord { span, .. }
            | ParseError::BadRef { span, .. }
            | ParseError::UnknownType { span, .. }
            | ParseError::BadAssignTarget { span }
            | ParseError::DanglingElse { span }
            | ParseError::TooDeep { span, .. }
            | ParseError::TooLarge { span, .. }
            | ParseError::LineTooLong { span, .. }
            | ParseError::TooManyErrors { span, .. } => *span,
        }
    }

    /// The stable diagnostic code, e.g. `mem::parse::syntax`.
    pub fn code_str(&self) -> String {
        Diagnostic::code(self)
            .map(|c| c.to_string())
            .unwrap_or_default()
    }
}

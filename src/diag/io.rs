//! Files that cannot be read as `.mem` text, and output that cannot be written (`mem::io::…`).

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum IoError {
    #[error("cannot read {path}: no such file")]
    #[diagnostic(
        code(mem::io::not_found),
        help("a path is relative to the current folder; `memsim test` finds every .mem file under a folder")
    )]
    NotFound { path: String },
    #[error("cannot read {path}: it is a folder")]
    #[diagnostic(
        code(mem::io::is_a_folder),
        help("`memsim test {path}` runs every .mem file under it")
    )]
    IsAFolder { path: String },
    #[error("cannot read {path}: it is larger than {limit} bytes")]
    #[diagnostic(
        code(mem::io::too_large),
        help("a scenario is a few hundred lines, and is read whole; long data belongs in a trace file (`trace \"FILE\"`), which is streamed; allow more with `--max-source BYTES`")
    )]
    TooLarge { path: String, limit: usize },
    #[error("cannot read {path}: permission denied")]
    #[diagnostic(
        code(mem::io::permission_denied),
        help("the file must be readable by you: `chmod u+r {path}`")
    )]
    PermissionDenied { path: String },
    #[error("cannot read {path}: {reason}")]
    #[diagnostic(
        code(mem::io::read),
        help("check that the file exists and can be read")
    )]
    Read { path: String, reason: String },
    /// The snippet shows the file with the bad bytes replaced by U+FFFD.
    #[error("{path} is not UTF-8 text: byte {byte} at line {line}, column {column}")]
    #[diagnostic(
        code(mem::io::not_utf8),
        help("a .mem file is UTF-8 text; save it as UTF-8 (`iconv -f latin1 -t utf-8`), or remove the byte")
    )]
    NotUtf8 {
        path: String,
        byte: String,
        line: usize,
        column: usize,
        #[source_code]
        src: NamedSource<String>,
        #[label("not UTF-8")]
        span: SourceSpan,
    },
    /// A line piped into the REPL.
    #[error("input line {line} is not UTF-8 text: byte {byte} at column {column}{dropped}")]
    #[diagnostic(
        code(mem::io::not_utf8),
        help("the REPL reads UTF-8 text; the line did not run")
    )]
    InputNotUtf8 {
        line: usize,
        byte: String,
        column: usize,
        /// Says so when the line ended a statement still open, which is dropped with it.
        dropped: String,
    },
    #[error("cannot write the output: {reason}")]
    #[diagnostic(
        code(mem::io::write),
        help("the output is incomplete; make room on the disk, or write somewhere else")
    )]
    Write { reason: String },
}

/// An I/O error as a reason in a sentence: "No space left on device", without the OS's error
/// number.
pub fn describe(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

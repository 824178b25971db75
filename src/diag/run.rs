//! Errors and findings while a scenario runs: signals, aborts, failed expectations.

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum RunError {
    /// An uncaught SIGSEGV: the process dies, as on Linux.
    #[error(
        "segmentation fault: the {access} at {addr} killed process {process} (SIGSEGV, {code})"
    )]
    #[diagnostic(code(mem::segv), help("{help}"))]
    Segv {
        access: String,
        addr: String,
        process: String,
        code: String,
        #[label("{detail}")]
        span: SourceSpan,
        detail: String,
        help: String,
    },
    /// An uncaught SIGBUS: a file mapping touched past the end of its file.
    #[error("bus error: the {access} at {addr} killed process {process} (SIGBUS, BUS_ADRERR)")]
    #[diagnostic(code(mem::sigbus), help("{help}"))]
    Bus {
        access: String,
        addr: String,
        process: String,
        #[label("{detail}")]
        span: SourceSpan,
        detail: String,
        help: String,
    },
    /// glibc called abort().
    #[error("{message}: glibc aborted process {process} (SIGABRT)")]
    #[diagnostic(code(mem::abort), help("{help}"))]
    Abort {
        message: String,
        process: String,
        #[label("here")]
        span: SourceSpan,
        help: String,
    },
    #[error("out of memory: the OOM killer ended process {process}")]
    #[diagnostic(code(mem::oom), help("{help}"))]
    Oom {
        process: String,
        #[label("no frame could be freed for this access")]
        span: SourceSpan,
        help: String,
    },
    #[error("process {process} is dead: {how}")]
    #[diagnostic(code(mem::dead), help("{help}"))]
    Dead {
        process: String,
        how: String,
        help: String,
        #[label("runs in the dead process")]
        span: SourceSpan,
    },
    #[error("expectation failed: {message}")]
    #[diagnostic(code(mem::expect), help("{help}"))]
    Expect {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A process whose regions do not fit in the machine's user space.
    #[error("{what}")]
    #[diagnostic(code(mem::layout), help("{help}"))]
    Layout {
        what: String,
        #[label("this process's layout does not fit")]
        span: SourceSpan,
        help: String,
    },
    /// A stack statement (`call`, `local`, `recurse`) that cannot run as written.
    #[error("{message}")]
    #[diagnostic(code(mem::stack), help("{help}"))]
    Stack {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// `/` or `%` by a divisor of 0.
    #[error("{message}")]
    #[diagnostic(code(mem::run::division_by_zero), help("{help}"))]
    DivisionByZero {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// `set_pte` / `clear_pte` of a page beyond the address space.
    #[error("{message}")]
    #[diagnostic(code(mem::run::no_such_page), help("{help}"))]
    NoSuchPage {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// `set_pte` to a frame beyond physical memory.
    #[error("{message}")]
    #[diagnostic(code(mem::run::no_such_frame), help("{help}"))]
    NoSuchFrame {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `load_dump` file that cannot be read, or holds no `page N:` line.
    #[error("{message}")]
    #[diagnostic(code(mem::run::dump_file), help("{help}"))]
    DumpFile {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `page N:` line of a `load_dump` file whose bytes are not two hex digits each, or not as many as the first page's.
    #[error("{message}")]
    #[diagnostic(code(mem::run::dump_line), help("{help}"))]
    DumpLine {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A page of a `load_dump` file beyond physical memory.
    #[error("{message}")]
    #[diagnostic(code(mem::run::dump_page), help("{help}"))]
    DumpPage {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// `phys_byte` of an address beyond physical memory.
    #[error("{message}")]
    #[diagnostic(code(mem::run::phys_address), help("{help}"))]
    PhysAddress {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A region name the process does not have.
    #[error("{message}")]
    #[diagnostic(code(mem::run::no_region), help("{help}"))]
    NoRegion {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `process` declared with a name in use.
    #[error("{message}")]
    #[diagnostic(code(mem::run::duplicate_process), help("{help}"))]
    DuplicateProcess {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `thread` beyond the machine's process and thread limit.
    #[error("{message}")]
    #[diagnostic(code(mem::run::thread_limit), help("{help}"))]
    ThreadLimit {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `thread` declared with a name in use in its process.
    #[error("{message}")]
    #[diagnostic(code(mem::run::duplicate_thread), help("{help}"))]
    DuplicateThread {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A thread's stack that fits nowhere in user space.
    #[error("{message}")]
    #[diagnostic(code(mem::run::thread_stack), help("{help}"))]
    ThreadStack {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A process name never declared.
    #[error("{message}")]
    #[diagnostic(code(mem::run::unknown_process), help("{help}"))]
    UnknownProcess {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A thread name its process does not have.
    #[error("{message}")]
    #[diagnostic(code(mem::run::unknown_thread), help("{help}"))]
    UnknownThread {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// `in` or `switch` naming neither a process nor a thread.
    #[error("{message}")]
    #[diagnostic(code(mem::run::unknown_target), help("{help}"))]
    UnknownTarget {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A pid no process has.
    #[error("{message}")]
    #[diagnostic(code(mem::run::unknown_pid), help("{help}"))]
    UnknownPid {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `trace` file that cannot be read.
    #[error("{message}")]
    #[diagnostic(code(mem::run::trace_file), help("{help}"))]
    TraceFile {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `refs` string whose pages fit nowhere in user space.
    #[error("{message}")]
    #[diagnostic(code(mem::run::refs_room), help("{help}"))]
    RefsRoom {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("interrupted")]
    #[diagnostic(
        code(mem::interrupted),
        help("the state is as it was before this statement")
    )]
    Interrupted {
        #[label("stopped here")]
        span: SourceSpan,
    },
    /// A warning, once per chunk: the program goes on with `fork()` = -1, as a C program would.
    #[error("fork() failed: the machine holds {limit} processes and threads, so it returned -1 (EAGAIN)")]
    #[diagnostic(
        code(mem::fork_limit),
        severity(Warning),
        help("a machine holds at most {limit} processes and threads, dead processes included (`--max-processes N` changes it); test for -1 as a C program tests fork's result")
    )]
    ForkLimit {
        limit: usize,
        #[label("returned -1")]
        span: SourceSpan,
    },
    #[error("step limit reached: more than {limit} steps")]
    #[diagnostic(code(mem::limit), help("{help}"))]
    Steps {
        limit: u64,
        #[label("stopped here")]
        span: SourceSpan,
        help: String,
    },
    #[error("time limit reached: the run took longer than {after}")]
    #[diagnostic(code(mem::timeout), help("{help}"))]
    Timeout {
        after: String,
        #[label("stopped here")]
        span: SourceSpan,
        help: String,
    },
    #[error("limit reached: {what}")]
    #[diagnostic(code(mem::limit), help("{help}"))]
    Limit {
        what: String,
        #[label("stopped here")]
        span: SourceSpan,
        help: String,
    },
    /// A line of a trace file that is neither an address nor a valgrind lackey line. The
    /// trace file is this diagnostic's source, so the report shows the line itself.
    #[error("bad line {line} in trace file {file}")]
    #[diagnostic(code(mem::trace), help("{help}"))]
    TraceLine {
        file: String,
        line: usize,
        #[source_code]
        src: NamedSource<crate::session::replay::Excerpt>,
        #[label("{reason}")]
        span: SourceSpan,
        reason: String,
        help: String,
    },
}

//! Static errors found before anything runs (`mem::check::…`).

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum CheckError {
    #[error("unknown name `{name}`")]
    #[diagnostic(code(mem::check::unknown_name), help("{help}"))]
    UnknownName {
        name: String,
        #[label("not defined here")]
        span: SourceSpan,
        help: String,
    },
    /// `in NAME` or `switch NAME` where NAME is both a variable (a pid) and a process or thread.
    #[error("`{name}` names both a variable and a {what}")]
    #[diagnostic(
        code(mem::check::ambiguous_target),
        help("`in` and `switch` take a process or thread by name, or a pid held in a variable; rename the variable or the {what} so that `{name}` means one of them")
    )]
    AmbiguousTarget {
        name: String,
        what: &'static str,
        #[label("a variable, and a {what}")]
        span: SourceSpan,
    },
    #[error("unknown function `{name}`")]
    #[diagnostic(code(mem::check::unknown_function), help("{help}"))]
    UnknownFunction {
        name: String,
        #[label("no such builtin")]
        span: SourceSpan,
        help: String,
    },
    #[error("`{name}` takes {expected}, but {found} given")]
    #[diagnostic(code(mem::check::arity), help("call it as `{usage}`"))]
    Arity {
        name: String,
        expected: String,
        found: String,
        usage: String,
        #[label("wrong number of arguments")]
        span: SourceSpan,
    },
    /// A value of a type the place cannot hold.
    #[error("{message}")]
    #[diagnostic(code(mem::check::type_mismatch), help("{help}"))]
    TypeMismatch {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A number indexed, dereferenced or touched as if it were an address.
    #[error("{message}")]
    #[diagnostic(code(mem::check::not_a_pointer), help("{help}"))]
    NotAPointer {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A pointer stored in an element narrower than a pointer.
    #[error("{message}")]
    #[diagnostic(code(mem::check::pointer_width), help("{help}"))]
    PointerWidth {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// An array type outside `local`.
    #[error("{message}")]
    #[diagnostic(code(mem::check::array_type), help("{help}"))]
    ArrayType {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// An expression that gives no value where one is needed.
    #[error("{message}")]
    #[diagnostic(code(mem::check::no_value), help("{help}"))]
    NoValue {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// Arithmetic that means nothing on pointers: negating one, adding two, a number minus a pointer.
    #[error("{message}")]
    #[diagnostic(code(mem::check::pointer_arithmetic), help("{help}"))]
    PointerArithmetic {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// An index that is not an integer.
    #[error("{message}")]
    #[diagnostic(code(mem::check::index_type), help("{help}"))]
    IndexType {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// `&` of something that is not in memory.
    #[error("{message}")]
    #[diagnostic(code(mem::check::address_of), help("{help}"))]
    AddressOf {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A builtin argument of the wrong kind (permissions, mapping flags, a number).
    #[error("{message}")]
    #[diagnostic(code(mem::check::argument_type), help("{help}"))]
    ArgumentType {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("{what} is not a size")]
    #[diagnostic(code(mem::check::not_a_size), help("{help}"))]
    NotASize {
        what: String,
        #[label("expected a size such as `4 KiB`")]
        span: SourceSpan,
        help: String,
    },
    #[error("{what} is not a value")]
    #[diagnostic(code(mem::check::not_a_value), help("{help}"))]
    NotAValue {
        what: String,
        #[label("{what} here")]
        span: SourceSpan,
        help: String,
    },
    #[error("size overflows 64 bits")]
    #[diagnostic(
        code(mem::check::size_overflow),
        help("the largest size is 16 EiB − 1 byte; use a smaller number or unit")
    )]
    SizeOverflow {
        #[label("too large")]
        span: SourceSpan,
    },
    #[error("cannot assign to this")]
    #[diagnostic(
        code(mem::check::not_assignable),
        help("assign to a variable (`x = 1`), an element (`p[3] = 1`) or through a pointer (`*p = 1`)")
    )]
    NotAssignable {
        #[label("not a variable or memory location")]
        span: SourceSpan,
    },
    #[error("unknown `show` target `{name}`")]
    #[diagnostic(code(mem::check::unknown_show), help("{help}"))]
    UnknownShow {
        name: String,
        #[label("nothing to show by this name")]
        span: SourceSpan,
        help: String,
    },
    #[error("unknown warning kind `{name}`")]
    #[diagnostic(
        code(mem::check::unknown_warning),
        help("the kinds are `overflow`, `use_after_free`, `uninit` and `leak`")
    )]
    UnknownWarning {
        name: String,
        #[label("not a warning kind")]
        span: SourceSpan,
    },
    /// A `call` frame, `local` size or `recurse` depth that cannot be: negative, or a
    /// recursion whose frames never use the stack.
    #[error("{message}")]
    #[diagnostic(code(mem::check::stack), help("{help}"))]
    Stack {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("`local {name}` is outside every function")]
    #[diagnostic(
        code(mem::check::local_outside_frame),
        help("a local variable lives in a stack frame: put it inside `call f frame 1 KiB {{ local {name}: long }}`")
    )]
    LocalOutsideFrame {
        name: String,
        #[label("no `call` block around it")]
        span: SourceSpan,
    },
    #[error("a stack of 0 bytes cannot hold a single frame")]
    #[diagnostic(
        code(mem::check::zero_stack),
        help("give the stack its limit (`stack 8 MiB`), or write `stack` alone for the machine's default")
    )]
    ZeroStack {
        #[label("stack of size 0")]
        span: SourceSpan,
    },
    /// `file "PATH"` names a file that cannot be mapped.
    #[error("cannot map the file \"{path}\": {reason}")]
    #[diagnostic(
        code(mem::check::mapped_file),
        help("a mapped file's path is relative to the folder of the .mem file (in the REPL, the working folder); the file is read, never written")
    )]
    MappedFile {
        path: String,
        reason: String,
        #[label("this file")]
        span: SourceSpan,
    },
    /// A path that leads outside the folders a scenario may read.
    #[error("\"{path}\" is outside the folders this scenario may read")]
    #[diagnostic(
        code(mem::check::outside_root),
        help("a scenario reads files only inside its own folder (in the REPL and notebooks, the working folder), so a scenario from someone else cannot read other files of this computer; move the file there, or allow another folder with `--root DIR` (`MEMSIM_ROOT` for the kernel)")
    )]
    OutsideRoot {
        path: String,
        #[label("outside the root")]
        span: SourceSpan,
    },
    /// A path to something that is not a regular file: a FIFO could block forever, a device
    /// never ends.
    #[error("\"{path}\" is {kind}, not a file")]
    #[diagnostic(
        code(mem::check::not_a_file),
        help("a scenario reads regular files only: a named pipe could wait forever for a writer and a device such as /dev/zero never ends; save the data to a file first")
    )]
    NotAFile {
        path: String,
        kind: &'static str,
        #[label("not a regular file")]
        span: SourceSpan,
    },
    /// A `write` without the value to store.
    #[error("{message}")]
    #[diagnostic(code(mem::check::write_value), help("{help}"))]
    WriteValue {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `sweep` of too many values or combinations.
    #[error("{message}")]
    #[diagnostic(code(mem::check::sweep_size), help("{help}"))]
    SweepSize {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A `sweep` parameter with no values.
    #[error("{message}")]
    #[diagnostic(code(mem::check::sweep_empty), help("{help}"))]
    SweepEmpty {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A mapping in a process declaration without a size.
    #[error("{message}")]
    #[diagnostic(code(mem::check::mapping_size), help("{help}"))]
    MappingSize {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A region kind a process declaration does not know.
    #[error("{message}")]
    #[diagnostic(code(mem::check::unknown_region), help("{help}"))]
    UnknownRegion {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    /// A constant expected where an expression was written.
    #[error("{message}")]
    #[diagnostic(code(mem::check::not_constant), help("{help}"))]
    NotConstant {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        help: String,
    },
    #[error("a `machine` statement cannot be inside a block")]
    #[diagnostic(code(mem::check::nested_machine), help("{help}"))]
    NestedMachine {
        #[label("chooses a new machine here")]
        span: SourceSpan,
        help: String,
    },
}

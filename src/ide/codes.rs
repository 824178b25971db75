//! `:help mem::CODE`: what each diagnostic code means, with a small scenario that gets it. The
//! example is run when help is asked for, so what help shows is what memsim says.

use crate::render::diag;
use crate::session::{Options, Session};

/// A diagnostic code, what it means, and an input that gets it (none for the few that need a
/// file, a long run or an interrupt).
pub struct Code {
    pub code: &'static str,
    pub meaning: &'static str,
    pub example: Option<&'static str>,
}

const fn c(code: &'static str, meaning: &'static str, example: Option<&'static str>) -> Code {
    Code {
        code,
        meaning,
        example,
    }
}

pub const CODES: &[Code] = &[
    // --- running ----------------------------------------------------------------------------
    c("mem::segv", "A load or store the MMU could not translate and the OS could not fix: the address is in no mapping (SEGV_MAPERR) or its mapping forbids the access (SEGV_ACCERR). The process dies, as on Linux, unless `expect segfault { ... }` catches it.", Some("let p: *int = malloc(40)\np[100000] = 1")),
    c("mem::sigbus", "A load or store in a file mapping, in a page that lies wholly past the end of the file: the mapping is longer than the file. Linux raises SIGBUS (BUS_ADRERR) and the process dies, unless `expect sigbus { ... }` catches it. Bytes past the end of the file but within its last page read as zero.", None),
    c("mem::abort", "glibc found a corrupted or doubly freed chunk and called abort(): the process dies with SIGABRT, unless `expect abort { ... }` catches it.", Some("let p = malloc(40)\nfree(p)\nfree(p)")),
    c("mem::oom", "Every frame is in use and none can be evicted (no swap for anonymous pages): the OOM killer kills the process.", Some("machine { memory 2 pages; swap 0 }\nlet p: *u8 = mmap(4 pages, rw-)\nwrite p[0..4 pages] = 1")),
    c("mem::dead", "A statement runs in a process that a signal or the OOM killer has killed. A dead process runs nothing more: switch to another one, or catch the signal where it happens.", Some("let p: *int = 0\np[0] = 1\np[1] = 2")),
    c("mem::expect", "An expectation that did not hold: the condition was false, or the block did not fault, abort or warn as expected. The message says what each side was.", Some("let n = 40\nexpect n == 41")),
    c("mem::run::division_by_zero", "`/` or `%` by a divisor of 0. Integer division by zero has no value in C (the hardware traps); memsim stops the run at the statement. Test the divisor with `if` first.", Some("let z = 0\nprint 1 / z")),
    c("mem::run::no_such_page", "`set_pte(vpn, pfn)` or `clear_pte(vpn)` of a page number the address space does not have: with N bits of page number, pages run from 0 to 2^N - 1. `show machine` gives the split of an address.", Some("machine tiny\nset_pte(256, 1)")),
    c("mem::run::no_such_frame", "`set_pte(vpn, pfn)` with a frame number beyond physical memory: frames run from 0 to memory / page size - 1.", Some("machine tiny\nset_pte(3, 99)")),
    c("mem::run::dump_file", "`load_dump(file \"PATH\")` with a file that holds no `page N:` line, or that could not be read when the statement ran (a file missing before the run is `mem::check::mapped_file`). Its path is relative to the folder of the `.mem` file.", None),
    c("mem::run::dump_line", "A `page N:` line of a `load_dump` file that is not a page: its bytes must be two hex digits each (spaced or not), every page as many bytes as the first, the page number a decimal number.", None),
    c("mem::run::dump_page", "A page of a `load_dump` file that lies beyond physical memory: page N of a dump whose pages have B bytes starts at N * B, which must be below the machine's `memory`.", None),
    c("mem::run::phys_address", "`phys_byte(paddr)` with an address beyond physical memory (the machine's `memory`).", Some("machine tiny\nprint phys_byte(1 << 40)")),
    c("mem::run::no_region", "`NAME.start`, `.end` or `.size` for a region the current process does not have: no mapping or thread stack of that name. `show maps` lists the regions.", Some("print foo.start")),
    c("mem::run::duplicate_process", "A `process` statement with the name of a process that exists already (the implicit `main` counts once statements have run in it). Each process needs its own name.", Some("process a { text 1 KiB }\nprocess a { text 1 KiB }")),
    c("mem::run::thread_limit", "A `thread` statement when the machine already holds its maximum of processes and threads (4096 unless `--max-processes N` or `MEMSIM_MAX_PROCESSES` says otherwise; EAGAIN). Unlike `fork()`, which returns -1, the statement cannot go on without its thread.", None),
    c("mem::run::duplicate_thread", "A `thread` statement with the name of a thread its process has already.", Some("thread t stack 64 KiB\nthread t stack 64 KiB")),
    c("mem::run::thread_stack", "A thread's stack fits nowhere in the process's free user space: use a smaller `stack` size or a machine with more virtual address space.", Some("machine tiny\nthread t stack 64 KiB")),
    c("mem::run::unknown_process", "A process name that names no process at the moment the statement runs. Declare it first with `process NAME`.", None),
    c("mem::run::unknown_thread", "`P.T` where process P has no thread T. Declare it first: `thread P.T stack 64 KiB`.", Some("process a { text 1 KiB }\nswitch a.t")),
    c("mem::run::unknown_target", "`in` or `switch` with a name that is neither a process nor a thread when the statement runs.", None),
    c("mem::run::unknown_pid", "`in` or `switch` with a number that is no process's pid. Use a pid that `fork()` returned, or a process name.", Some("switch 999")),
    c("mem::run::trace_file", "A `trace` file that cannot be read: missing, a directory, unreadable, or an I/O error while streaming it. Its path is relative to the folder of the `.mem` file.", Some("trace \"missing.trace\"")),
    c("mem::run::refs_room", "A `refs` string whose pages (0 to the largest number named) fit nowhere in the process's user space. Use smaller page numbers.", Some("refs 99999999999999")),
    c("mem::limit", "The run went past a limit that protects the computer running memsim: too many steps (an endless loop?) or too much simulated memory written.", None),
    c("mem::timeout", "The run took longer than `--timeout` allows (a wall-clock limit beside the step limit). Allow more time if the run is meant to be that long.", None),
    c("mem::layout", "A process's regions, or a mapping, do not fit in the machine's user space: the message names each region and the free space.", Some("machine tiny\nprocess big { text 32 KiB; data 32 KiB; stack 1 KiB }")),
    c("mem::stack", "A stack statement that cannot run as written: `call`, `local` or `recurse` in a process that has no stack, or a frame size or depth computed as a negative number.", Some("machine tiny\nprocess vmm { text 1 KiB; data 1 KiB }\nswitch vmm\ncall g frame 64 B { }")),
    c("mem::fork_limit", "Warning: `fork()` returned -1 (EAGAIN) because the machine already holds its maximum of processes and threads, dead ones included (4096 unless `--max-processes N` or `MEMSIM_MAX_PROCESSES` says otherwise). The program goes on, as a C program that tests fork's result would.", None),
    c("mem::interrupted", "Ctrl-C stopped the statement; in the REPL the session is as it was before the input.", None),
    c("mem::trace", "A line of a `trace` file could not be read as a memory reference (lackey's ` L 0400d7d4,8` or `ADDR [r|w]`).", None),
    // --- memory-safety findings (warnings) -------------------------------------------------
    c("mem::heap::overflow", "An access outside every live heap block, on a valid page: no fault, but a heap buffer overflow, as valgrind or ASan would report it.", Some("let p: *int = malloc(40)\np[10] = 1\nfree(p)")),
    c("mem::heap::use_after_free", "An access inside a block that was freed: the page is still valid, so nothing faults, but the memory may belong to someone else now.", Some("let p: *int = malloc(40)\nfree(p)\np[0] = 1")),
    c("mem::heap::uninit", "A load of heap bytes never written since the block was allocated: malloc does not clear memory (calloc does).", Some("let p: *int = malloc(40)\nprint p[0]\nfree(p)")),
    c("mem::heap::leak", "A block still allocated when the scenario ends, in a process that is still alive.", Some("let p = malloc(40)")),
    // --- checking ---------------------------------------------------------------------------
    c("mem::check::unknown_name", "A name used before it is declared (or misspelt).", Some("let a = 1\nprint b")),
    c("mem::check::unknown_function", "A call of a function memsim does not have; the help lists the builtins.", Some("let p = maloc(40)")),
    c("mem::check::arity", "A builtin called with the wrong number of arguments.", Some("let p = malloc(40, 2)")),
    c("mem::check::type_mismatch", "A value of a type the place cannot hold: a pointer where a number is declared, or the reverse. Convert it with `as`.", None),
    c("mem::check::not_a_pointer", "A number used as an address: indexed (`n[3]`), dereferenced (`*n`) or touched by `read`/`write`. Declare it as a pointer, or convert it with `as`.", Some("let n = 40\nn[3] = 1")),
    c("mem::check::pointer_width", "A pointer stored in an element narrower than a pointer (an `*int`'s 4-byte elements): the address would be cut. Store pointers through a pointer-to-pointer such as `**int`.", Some("let p: *int = malloc(8)\nlet b: *int = malloc(8)\np[0] = b")),
    c("mem::check::array_type", "An array type (`char[256]`) outside `local`: only a stack frame holds arrays; elsewhere use a pointer type.", None),
    c("mem::check::no_value", "An expression that gives no value (a call such as `free`) used where a value is needed.", Some("free(malloc(8)) + 1")),
    c("mem::check::pointer_arithmetic", "Arithmetic that means nothing on pointers: negating one, adding two, or a number minus a pointer. Subtract two pointers for a distance; add a number to a pointer to move it.", Some("let p: *int = malloc(8)\nlet q: *int = malloc(8)\nprint p + q")),
    c("mem::check::index_type", "An index that is not an integer, such as a pointer.", Some("let p: *int = malloc(8)\nprint p[p]")),
    c("mem::check::address_of", "`&` of something not in memory (a number, a variable): take the address of an element, `&p[3]`.", Some("print &3")),
    c("mem::check::argument_type", "A builtin's argument of the wrong kind: permissions, a mapping flag or a number where another was needed. The help shows the call's usage.", Some("let p = mmap(4 KiB, 5)")),
    c("mem::check::not_a_size", "A size was expected (`4 KiB`, `3 pages`) and a plain number or something else was given.", Some("let p: *int = malloc(8)\ncall f frame p { }")),
    c("mem::check::size_overflow", "A size that does not fit in 64 bits.", Some("let s = 18446744073709551 pages")),
    c("mem::check::not_assignable", "The left side of `=` is not something that can be assigned: a variable, an element or a dereference.", None),
    c("mem::check::unknown_show", "`show` of something memsim cannot show; the help lists what it can.", Some("show mapz")),
    c("mem::check::unknown_warning", "`expect warning KIND` with a kind that is not overflow, use_after_free, uninit or leak.", Some("expect warning overflw { let x = 1 }")),
    c("mem::check::local_outside_frame", "`local` reserves a variable in a stack frame, so it must be inside a `call` block.", Some("local x: long")),
    c("mem::check::zero_stack", "A process declared with a stack of 0 bytes: no frame would fit.", Some("process a { stack 0 B }")),
    c("mem::check::nested_machine", "A `machine` statement inside a block (`in`, `call`, `if`, a loop, `expect`, a sweep's body). A machine is chosen at the top level: the statement holding the block runs in a process a new machine would not have.", Some("in main { machine x86_64 }")),
    c("mem::check::not_a_value", "A string (or a mapping flag such as `shared`) where a value is needed: strings are text for `print`, file paths and profile names, not values to store or compare.", Some("let s = \"hello\"")),
    c("mem::check::stack", "A frame size or recursion depth that cannot be, written as a literal: negative, or a recursion of 0-byte frames that would never use the stack.", Some("recurse f 10 frame 0 B")),
    c("mem::check::mapped_file", "`file \"PATH\"` names a file that cannot be mapped: missing, a folder, or unreadable. The path is relative to the .mem file's folder (in the REPL and notebooks, the working folder); memsim reads the file and never writes it.", Some("let m = mmap(4 KiB, r--, file \"no-such-file.bin\")")),
    c("mem::check::ambiguous_target", "`in NAME` or `switch NAME` where NAME is both a variable and a process or thread: the variable's value (a pid) and the process's name would mean different processes, so the name must mean one of them.", Some("let a = 1\nprocess a\nswitch a")),
    c("mem::check::outside_root", "A `trace`, `machine \"FILE\"` or `mmap … file` path that leads outside the folders a scenario may read: its own folder (in the REPL and notebooks, the working folder), or the folder given with `--root DIR` (`MEMSIM_ROOT` for the kernel). Absolute paths, `..` and symbolic links are followed before the rule is applied, and the file is not read.", Some("trace \"/etc/passwd\"")),
    c("mem::check::not_a_file", "A path to a FIFO, a device or a socket: a scenario reads regular files only, since a named pipe may wait forever for a writer and a device such as /dev/zero never ends.", None),
    c("mem::check::write_value", "A `write` range statement without the value to store (`= VALUE`).", None),
    c("mem::check::sweep_size", "A `sweep` with more values for one parameter, or more combinations in all, than memsim runs.", Some("sweep memory in 1..=100000 pages { refs 1 }")),
    c("mem::check::sweep_empty", "A `sweep` parameter whose list or range holds no values.", None),
    c("mem::check::mapping_size", "A mapping in a process declaration without a size, or of 0 bytes.", Some("process a { mmap lib 0 B r-x }")),
    c("mem::check::unknown_region", "A region kind a process declaration does not know; the help lists the kinds.", None),
    c("mem::check::not_constant", "An expression where the statement needs a constant: a number or a size such as `4 KiB`.", None),
    // --- the machine ------------------------------------------------------------------------
    c("mem::machine::unknown_profile", "`machine NAME` with a name that is not a built-in profile; `memsim profiles` lists them.", Some("machine x86")),
    c("mem::machine::unknown_setting", "A setting `machine { }` does not have.", Some("machine { pagesize 4 KiB }")),
    c("mem::machine::bad_value", "A setting with a value it cannot take (a policy that does not exist, a word where a size belongs).", Some("machine { replace fifoo }")),
    c("mem::machine::page_size", "A page size that is not a power of two between 256 B and 1 GiB.", Some("machine { page_size 3 KiB }")),
    c("mem::machine::va_bits", "Virtual address bits that the page size and levels cannot cover, or out of range.", Some("machine { va_bits 80 }")),
    c("mem::machine::levels", "A number of page-table levels that does not fit the address bits and page size.", Some("machine { levels 9 }")),
    c("mem::machine::pte_size", "A page-table entry size other than 4 or 8 bytes.", Some("machine { pte_size 3 }")),
    c("mem::machine::memory", "Physical memory that is not a whole, positive number of frames.", Some("machine { memory 5000 B }")),
    c("mem::machine::swap", "Swap that is not a whole number of pages.", Some("machine { swap 5000 B }")),
    c("mem::machine::tlb", "A TLB whose size, associativity or policy does not fit together.", Some("machine { tlb 10 entries 4-way }")),
    c("mem::machine::stack_limit", "A stack limit that is not a positive whole number of pages.", Some("machine { stack_limit 0 B }")),
    c("mem::machine::heap", "A teaching heap (`heap SIZE at BASE`) that does not fit in the address space or overlaps the program.", Some("machine { allocator first_fit; heap 0 B at 1000 }")),
    c("mem::machine::addresses", "`addresses decimal` on glibc, whose chunks, sizes and messages are read in hex.", Some("machine { allocator glibc; addresses decimal }")),
    c("mem::machine::profile_file", "`machine \"file.yaml\"` names a file that cannot be read.", Some("machine \"no-such-board.yaml\"")),
    c("mem::machine::yaml", "A machine profile file that is not valid YAML or has fields memsim does not know.", None),
    // --- parsing ----------------------------------------------------------------------------
    c("mem::parse::syntax", "Text the grammar does not accept at this point; the message says what could come here.", Some("let = 4")),
    c("mem::parse::unknown_statement", "A line that starts with a word that is not a statement.", Some("expct 1 == 1")),
    c("mem::parse::c_declaration", "A variable declared the C way; memsim declares with `let NAME: TYPE = VALUE`.", Some("int *p = malloc(10);")),
    c("mem::parse::call_without_parens", "A builtin named without parentheses around its arguments.", Some("let p = malloc(10)\nfree p")),
    c("mem::parse::assign_in_condition", "`=` (assignment) where a condition belongs; comparisons are `==`.", Some("let p: *int = malloc(10)\nexpect p[0] = 0")),
    c("mem::parse::bad_assign_target", "The left side of `=` is an expression that cannot be assigned to.", Some("1 + 2 = 3")),
    c("mem::parse::dangling_else", "`else` that does not follow the `}` of an `if` (on the same line or the next).", Some("let x = 1\nprint x\nelse { print 2 }")),
    c("mem::parse::reserved_word", "A keyword used as a name.", Some("let repeat = 3")),
    c("mem::parse::unknown_type", "A type memsim does not have; the help lists the types.", Some("let p: *float = 0")),
    c("mem::parse::int_too_large", "An integer literal that does not fit in 64 bits.", Some("let n = 99999999999999999999999")),
    c("mem::parse::size_too_large", "A size literal that does not fit in 64 bits.", Some("let p = malloc(99999999 TiB)")),
    c("mem::parse::bad_number", "A number that is not written right: a digit its base does not have, letters after it.", Some("let x = 0b102")),
    c("mem::parse::bad_unit", "A size unit that does not exist (`KiB`, `MiB`, `pages`... are units; `Kib` is not).", Some("let s = 4 Kib")),
    c("mem::parse::bad_perms", "Permissions that are not three characters from `rwx-` in that order (`rw-`, `r-x`).", Some("let m = mmap(4 KiB, wr-)")),
    c("mem::parse::bad_ref", "A page reference that is not a page number with an optional `w` or `r`.", Some("refs 1 2 3x")),
    c("mem::parse::bad_escape", "A backslash in a string that starts no escape (`\\\"`, `\\\\`, `\\n`, `\\t` do).", Some("print \"a\\qb\"")),
    c("mem::parse::unterminated_string", "A string whose closing `\"` is missing on its line.", Some("print \"hello")),
    c("mem::parse::unclosed_delimiter", "A `{`, `(` or `[` never closed before the end of the input.", Some("repeat 3 {\n  print 1")),
    c("mem::parse::unmatched_delimiter", "A closing `}`, `)` or `]` that closes nothing, or the wrong bracket.", Some("print (1 + 2]")),
    c("mem::parse::too_deep", "Nesting (brackets, blocks, operators) deeper than the parser accepts (200 levels, or fewer with `--max-depth N` or `MEMSIM_MAX_DEPTH`).", None),
    c("mem::parse::too_large", "A file, REPL input or cell larger than a scenario may be (16 MiB unless `--max-source BYTES` or `MEMSIM_MAX_SOURCE` says otherwise); long data belongs in a trace file, which is streamed.", None),
    c("mem::parse::line_too_long", "A line longer than a scenario's line may be (8 MiB unless `--max-line BYTES` or `MEMSIM_MAX_LINE` says otherwise).", None),
    c("mem::parse::too_many_errors", "So many errors that the rest are not listed; fix the first ones and check again.", None),
    // --- files and output ------------------------------------------------------------------
    c("mem::io::not_found", "`memsim run`, `check` or `test` was given a path where there is no file. A path is relative to the current folder.", None),
    c("mem::io::is_a_folder", "`memsim run` or `check` was given a folder; `memsim test FOLDER` runs every .mem file under it.", None),
    c("mem::io::too_large", "A .mem file larger than a scenario may be (16 MiB unless `--max-source BYTES` says otherwise). A scenario is read whole; long data belongs in a trace file, which is streamed.", None),
    c("mem::io::permission_denied", "A .mem file that exists but that you may not read.", None),
    c("mem::io::read", "A .mem file that could not be read for another reason the operating system gives (an I/O error, a file that vanished while it was read).", None),
    c("mem::io::not_utf8", "A .mem file, or a line given to the REPL, that is not UTF-8 text. The diagnostic shows the byte that is not and where it is; save the file as UTF-8.", None),
    c("mem::io::write", "The output could not be written (a full disk, a closed pipe): what was written is incomplete.", None),
    // --- the Jupyter kernel -------------------------------------------------------------------
    c("mem::kernel::connection_file", "`memsim kernel` could not read the connection file Jupyter gave it. Jupyter writes that file and starts the kernel with its path: install the kernel with `memsim kernel install` and start it from Jupyter.", None),
    c("mem::kernel::connection_json", "The connection file is not the JSON object Jupyter writes: ip, transport, the five port numbers, key and signature scheme.", None),
    c("mem::kernel::signature_scheme", "The connection file asks for a signature scheme other than hmac-sha256, the only one memsim's kernel (and Jupyter by default) uses.", None),
    c("mem::kernel::transport", "The connection file asks for a transport other than TCP, the only one memsim's kernel speaks.", None),
    c("mem::kernel::bind", "The kernel could not listen on a port the connection file names: another program holds it, or the address is not this machine's.", None),
    c("mem::kernel::magic", "A notebook cell starts with a `%` line that is not a magic memsim knows: `%trace off`, `%trace on` and `%trace` are.", None),
    c("mem::kernel::no_prefix", "`memsim kernel install --sys-prefix` was run outside a virtual or conda environment, so there is no prefix to install into.", None),
    c("mem::kernel::no_data_dir", "`memsim kernel install` could not find the user's Jupyter data folder: set JUPYTER_DATA_DIR, or install with `--prefix DIR`.", None),
    c("mem::kernel::name", "A kernel name with characters Jupyter does not allow in one: letters, digits, `.`, `_` and `-` only.", None),
    c("mem::kernel::write", "The kernelspec could not be written where `memsim kernel install` puts it.", None),
    c("mem::kernel::not_installed", "`memsim kernel uninstall` was asked for a kernel name that is not installed in any of Jupyter's kernel folders; `memsim kernel list` shows the installed ones.", None),
];

/// The code (`mem::segv`, or `segv` for short) looked up.
pub fn find(topic: &str) -> Option<&'static Code> {
    let t = topic.trim();
    CODES
        .iter()
        .find(|c| c.code == t || c.code.strip_prefix("mem::") == Some(t))
}

/// The help for a code: its meaning, then its example and what memsim says about it.
pub fn explain(code: &Code) -> String {
    let mut out = format!("{}\n", code.code);
    // The meaning, wrapped to the width of the diagnostics below it.
    let mut line = String::new();
    for word in code.meaning.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > 88 {
            out.push_str(&format!("  {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&format!("  {line}\n"));
    if let Some(src) = code.example {
        out.push_str("\nFor example:\n");
        for l in src.lines() {
            out.push_str("    ");
            out.push_str(l);
            out.push('\n');
        }
        out.push('\n');
        if let Some(d) = run(src, code.code) {
            out.push_str(&d);
        }
    }
    out
}

/// What memsim says about `src`: the first diagnostic with `code`, rendered without colour.
pub fn run(src: &str, code: &str) -> Option<String> {
    let mut s = Session::new(Options {
        trace: false,
        ..Options::default()
    });
    let r = s.execute("example.mem", src);
    r.diagnostics
        .iter()
        .find(|d| d.code == code)
        .map(|d| diag::render(&d.report, false, 90))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code a diagnostic enum declares, read from their sources.
    fn declared() -> Vec<String> {
        let sources = [
            include_str!("../diag/check.rs"),
            include_str!("../diag/heap.rs"),
            include_str!("../diag/io.rs"),
            include_str!("../diag/kernel.rs"),
            include_str!("../diag/machine.rs"),
            include_str!("../diag/parse.rs"),
            include_str!("../diag/run.rs"),
        ];
        let mut out = Vec::new();
        for s in sources {
            for part in s.split("code(").skip(1) {
                if let Some(end) = part.find(')') {
                    if part.starts_with("mem::") {
                        out.push(part[..end].to_string());
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn every_code_is_explained() {
        for code in declared() {
            assert!(find(&code).is_some(), "no :help for {code}");
        }
        assert_eq!(
            CODES.len(),
            declared().len(),
            "an entry for a code that does not exist"
        );
    }

    #[test]
    fn every_example_gets_its_code() {
        let mut wrong = Vec::new();
        for c in CODES {
            if let Some(src) = c.example {
                if run(src, c.code).is_none() {
                    let mut s = Session::new(Options::default());
                    let got: Vec<String> = s
                        .execute("example.mem", src)
                        .diagnostics
                        .iter()
                        .map(|d| d.code.clone())
                        .collect();
                    wrong.push(format!("{}: got {got:?}", c.code));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "examples that miss their code:\n{}",
            wrong.join("\n")
        );
    }
}

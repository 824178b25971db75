//! `:help`: what each keyword, builtin and memory-management concept means, in short
//! paragraphs that point at what to try in memsim.

use super::command::COMMANDS;
use crate::suggest::Reach;
use crate::words::{Builtin, ShowTarget, Stat};

/// One help entry: the names it answers to (the first is the one listed) and its text.
struct Topic {
    names: &'static [&'static str],
    text: &'static str,
}

const TOPICS: &[Topic] = &[
    // --- concepts -------------------------------------------------------------------------
    Topic {
        names: &["page", "page_size"],
        text: "A page is the unit in which the MMU handles memory: a fixed-size, aligned block \
of virtual addresses, whose size the hardware fixes (4 KiB on x86-64, 16 or 64 KiB on some ARM \
machines). Every virtual address splits into a page number (which page) and an offset (where \
inside it). Physical memory is cut into frames of the same size, and the page table says which \
frame, if any, holds each page.\n\
Try: print getpagesize(), page_size;  print page_of(p), offset_of(p)",
    },
    Topic {
        names: &["frame", "frames", "physical_memory", "ram"],
        text: "A frame is one page-sized slot of physical memory. The machine's `memory` \
divided by its `page_size` is how many frames there are. Any page of any process can go into \
any frame, so a process's memory need not be contiguous in RAM. (The `frame` of `call f \
frame 1 KiB` is a stack frame instead: see :help call.)\n\
Try: show frames;  print frame_of(p)",
    },
    Topic {
        names: &["virtual_memory", "virtual", "address_space", "virtual_address"],
        text: "Processes never name physical memory. Each one has its own virtual address \
space: a flat range of addresses starting at zero, almost all of it unused. On every access \
the MMU translates the virtual address into a physical one through the process's page table, \
so the same address in two processes can reach two different frames.\n\
Try: show maps  (the parts of the address space in use)",
    },
    Topic {
        names: &["mmu", "translation"],
        text: "The memory management unit is the hardware that translates each virtual \
address on every load, store and instruction fetch. It asks the TLB first; on a miss it walks \
the page table. When the entry says the page is not present, or that the access is not \
allowed, it stops and raises a page fault for the OS to deal with.",
    },
    Topic {
        names: &["pagetable", "page_table", "walk", "pte"],
        text: "The table the MMU reads to translate a process's addresses: for each page \
number, whether the page is present, which frame holds it, its permissions and its dirty and \
accessed bits. It is a tree of several levels (4 on x86-64, 2 on i386) so that the unused \
bulk of the address space costs nothing; each level is indexed by a slice of the page \
number's bits. A walk reads one entry per level.\n\
Try: show pagetable;  show walk p",
    },
    Topic {
        names: &["tlb", "translation_lookaside_buffer"],
        text: "The translation lookaside buffer is a small cache of recent page-to-frame \
translations inside the MMU. A hit needs no page-table walk; a miss walks the table (one \
memory reference per level) and then keeps the result, evicting an older entry. Switching \
processes empties it, unless the machine has `pcid on`.\n\
Try: show tlb;  print stats.tlb.hits, stats.tlb.misses;  machine { tlb 4 entries fifo }",
    },
    Topic {
        names: &["valid", "invalid", "valid_page", "invalid_page"],
        text: "A page is valid when something in the process's address space lives there: a \
region such as text, data, heap, stack or an mmap covers it. Its contents may be in RAM, in \
swap, in a file, or not exist yet (never touched: it will be zero-filled). An invalid page is \
address space that nothing maps. Touching a valid page that is not in RAM is a page fault, \
which the OS repairs without the program noticing; touching an invalid page is a \
segmentation fault, which kills the process.",
    },
    Topic {
        names: &["page_fault", "fault", "pagefault", "faults", "no"],
        text: "The trap the MMU raises when an access cannot go ahead as it is. The kernel's \
fault handler looks at the address. If it belongs to a valid page that is just not in RAM, it \
finds a frame (evicting another page when memory is full), fills it, updates the page table \
and lets the access run again: the program only notices the delay. Such a fault is minor or \
major depending on whether it needed I/O. If the page is invalid or the access forbidden, \
the handler sends SIGSEGV instead.\n\
Try: expect fault { … };  expect fault minor { … };  expect no fault { … };  stats.faults",
    },
    Topic {
        names: &["minor", "minor_fault", "zero_page", "demand_zero"],
        text: "A page fault that needs no disk: the first touch of anonymous memory (heap, \
stack, bss) gets a fresh zero-filled frame — a first read even gets the shared zero page, and \
only the first write then a frame of its own — and a file page still in the page cache is just \
mapped. Cheap: microseconds.\n\
Try: let q: *u8 = malloc(1 MiB);  expect fault minor { q[0] = 1 };  print stats.minor",
    },
    Topic {
        names: &["major", "major_fault"],
        text: "A page fault that has to read the page's contents: from swap, after the page \
was evicted, or from the file behind it (program text and data are file-backed, so their \
first touch is major). Expensive: it waits for a disk.\n\
Try: print stats.major, stats.swap_ins",
    },
    Topic {
        names: &[
            "segfault",
            "segmentation_fault",
            "sigsegv",
            "segv",
            "maperr",
            "accerr",
        ],
        text: "What a process gets for touching an invalid page (no mapping covers the \
address: SEGV_MAPERR) or a valid page in a way its permissions forbid, such as a write to the \
read-only program text (SEGV_ACCERR). The kernel sends SIGSEGV and, without a handler, the \
process dies. Writing ip[100000] into a 10-int malloc'd array is the classic case: the store \
lands far beyond the heap. A small overrun that stays inside a valid heap page does not \
segfault at all; memsim reports it as a heap-buffer-overflow warning instead.\n\
Try: expect segfault { p[100000] = 1 };  expect segfault maperr { … };  expect segfault accerr { … }",
    },
    Topic {
        names: &["swap", "swapping", "eviction"],
        text: "Disk space where the OS puts anonymous pages it evicts from RAM. Writing a \
dirty page out is a swap-out; faulting it back in is a swap-in, a major fault. Without swap, \
heap and stack pages cannot be evicted, and when no frame can be freed the OOM killer ends a \
process. Values survive the trip: what was written is read back.\n\
Try: machine { memory 4 pages; swap 64 KiB };  show swap;  print stats.swap_outs",
    },
    Topic {
        names: &[
            "replace",
            "replacement",
            "fifo",
            "lru",
            "opt",
            "clock",
            "random",
            "mru",
            "unopt",
            "belady",
        ],
        text: "When a fault needs a frame and none is free, a page is evicted by the machine's \
replacement policy: fifo (the page loaded earliest), lru (the page used least recently), opt \
(the page whose next use is farthest away: it needs the future, so it is a yardstick), clock \
(a reference bit per frame and a sweeping hand that gives recently used pages a second \
chance), random, mru (the page used most recently) or unopt (the page needed soonest: the \
worst choice, OPT's opposite). FIFO can fault more with more frames (Belady's anomaly).\n\
Try: machine { page_size 4 KiB; memory 3 pages; replace fifo };  refs 7 0 1 2 0 3 0 4",
    },
    Topic {
        names: &["conventions", "ostep", "textbook", "clock_bits", "align"],
        text: "`machine { conventions ostep }` answers as OSTEP's homework simulators do where \
they differ from the textbook: malloc.py's coalescing (a block merges with its list neighbour \
only when adjacent), size-sorted lists sorted only on free, `show heap` ending with malloc.py's \
`Free List [ Size N ]: [ addr:A sz:S ]` line; paging-policy.py's random-scan clock with a \
counter of `clock_bits` bits, random victims from CPython's random sequence for `seed`, and one \
`Access: …` line per reference of `refs`. `align N` rounds teaching-heap requests up (malloc.py \
-a) in either convention. The default is `conventions textbook`.\n\
Try: machine { memory 3 pages; replace clock; conventions ostep; seed 5; clock_bits 2 };  refs 0 1 2 0 3",
    },
    Topic {
        names: &["arch"],
        text: "`machine { arch i386 }` (the built-in profiles set it) decides whose Linux layout a \
process gets and whose glibc ABI malloc follows: x86_64 (the default), i386 (a 32-bit program \
on a 64-bit kernel: 4-byte chunk headers, text at 0x08049000, the stack ending at 0xffffe000), \
aarch64 or riscv64 (LP64 chunks, the program at 0x400000, the stack at the top of 48-bit or \
38-bit user space). docs/profiles.md says what each takes from a real system.\n\
Try: machine i386;  let p = malloc(40);  print usable_size(p)",
    },
    Topic {
        names: &["oom", "out_of_memory"],
        text: "Out of memory: a fault needs a frame and none can be freed (no swap, and every \
frame holds anonymous memory). Linux's OOM killer then ends a process with SIGKILL.\n\
Try: expect oom { … }",
    },
    Topic {
        names: &["sigbus", "bus_error"],
        text: "A bus error: a load or store in a file mapping, in a page that lies wholly past \
the end of the file (the mapping is longer than the file). Linux sends SIGBUS (BUS_ADRERR) and \
the process dies with status 135. Bytes past the end of the file but within its last page read \
as zero, and what is stored there is lost when the page is written back.\n\
Try: expect sigbus { … }",
    },
    Topic {
        names: &["rss", "vsz", "resident"],
        text: "vsz is the size of all the address space a process has mapped (its valid \
pages); rss is the part of it resident in RAM right now. A new process has a large vsz and an \
rss of 0: every page is faulted in on first touch.\n\
Try: print rss, vsz",
    },
    Topic {
        names: &["cow", "copy_on_write"],
        text: "After fork, parent and child share every frame, marked read-only. The first \
write to such a page by either side takes a minor fault that copies the page into a frame of \
its own; pages nobody writes are never copied.\n\
Try: let child = fork();  in child { p[0] = 2 };  print stats.cow_copies",
    },
    Topic {
        names: &["dynamic_memory", "allocator", "glibc"],
        text: "Memory a program asks for while it runs, rather than fixing it at compile time: \
malloc, calloc and realloc hand out blocks and free takes them back. The allocator (glibc's \
model by default, or a teaching free-list allocator with `machine { allocator first_fit }`) \
gets its memory from the OS with brk and mmap.\n\
See: :help malloc, :help heap, :help brk",
    },
    // --- regions --------------------------------------------------------------------------
    Topic {
        names: &["stack", "sp", "stack_overflow"],
        text: "The region for function calls: each call pushes a frame with its locals, saved \
registers and return address. It starts at the top of user space and grows down; the kernel \
extends the mapping on demand up to the limit (ulimit -s, 8 MiB by default), and a recursion \
deep enough to cross it is a segfault. Every thread has its own stack. `stack SIZE` sets the \
rlimit in a process layout, and a thread's stack size in `thread`.\n\
Try: call f frame 1 KiB { local buf: char[256] };  recurse f 10000 frame 1 KiB;  print sp",
    },
    Topic {
        names: &["heap"],
        text: "Where malloc's memory comes from: a region starting on the page after bss whose \
end, the program break, moves up (brk, sbrk) as the allocator needs more. malloc carves it \
into chunks with small headers; freed chunks wait in bins for reuse. Requests of 128 KiB or \
more get their own mmap instead.\n\
Try: show heap;  print heap.start, heap.end, brk",
    },
    Topic {
        names: &["text", "rodata", "code"],
        text: "text is the program's machine code, mapped r-x from the executable file; rodata, \
next to it, holds read-only constants such as string literals (r--). Both are file-backed, so \
the first touch of a page is a major fault, and a write to either is a segfault \
(SEGV_ACCERR).\n\
Try: expect segfault accerr { *(text.start as *u8) = 0 }",
    },
    Topic {
        names: &["data", "data_segment"],
        text: "Initialised global and static variables, loaded from the executable: rw-, \
file-backed and private, so the first write gives the process its own copy of the page.",
    },
    Topic {
        names: &["bss"],
        text: "Global and static variables that start at zero. The executable stores nothing \
for them: the region is anonymous and each page is zero-filled on first touch (a minor \
fault). The heap begins on the page after it.",
    },
    // --- builtins -------------------------------------------------------------------------
    Topic {
        names: &["malloc"],
        text: "Asks the allocator for n bytes and returns a pointer to them; their contents \
are whatever was there. glibc serves small requests from the heap, growing it with brk when \
it runs out (the first malloc moves brk up by 132 KiB), and requests of 128 KiB or more with \
a fresh mmap. A block is a little larger than asked: a header, and rounding to 16 bytes \
(usable_size shows it). A write past the end does not segfault while it stays inside a valid \
page.",
    },
    Topic {
        names: &["calloc"],
        text: "Like malloc for n elements of size bytes each (n × size bytes), except that the \
memory reads as zero (the c is for cleared). Pages fresh from the OS are zero already, so the \
allocator only has to clear memory it reuses.",
    },
    Topic {
        names: &["realloc"],
        text: "Resizes a block. When it can grow in place (free space right after it, or the \
top of the heap) the pointer stays the same; otherwise the allocator takes a new block, copies \
the old contents over and frees the old one, so every other pointer into the old block now \
dangles.\n\
Try: let old = p;  p = realloc(p, 4000);  print p == old",
    },
    Topic {
        names: &["free"],
        text: "Returns a block to the allocator. The memory usually stays mapped and the \
pointer keeps its value, so touching it later does not fault: it is a use-after-free, which \
memsim reports as a warning. Freeing a block twice, or a pointer malloc never returned, makes \
glibc abort the process.\n\
Try: expect abort { free(p) }  (after a first free(p))",
    },
    Topic {
        names: &["brk", "sbrk", "program_break", "break"],
        text: "The program break is the end of the heap. brk(addr) sets it; sbrk(n) moves it \
by n bytes and returns the old end. Raising it makes more heap addresses valid (pages still \
get frames only when touched); lowering it unmaps the pages above. `brk` alone reads the \
current break.",
    },
    Topic {
        names: &["mmap", "munmap", "shared", "private", "at", "file"],
        text: "mmap maps a new region: anonymous zero-filled memory or a file's contents, \
private or shared, with the permissions given (r--, rw-, r-x, …). Its pages are valid at \
once but get frames only when touched. munmap removes a mapping, after which touching it is \
a segfault. A call that Linux refuses (length 0, more than user space) returns MAP_FAILED or \
-1, and the trace names the errno and the rule. In a process layout, `mmap NAME at ADDR SIZE \
PERMS file \"f\" shared` asks for ADDR: a hint, as in Linux, so the trace says when the \
mapping has to go elsewhere. A file's path is relative to the working folder; a page's first \
touch reads its bytes from the file (zeros past its end within its last page; a page wholly \
past it is SIGBUS), and memsim never writes the file.\n\
Try: let m = mmap(64 KiB, rw-);  munmap(m, 64 KiB);  expect segfault { m[0] = 1 }",
    },
    Topic {
        names: &["mprotect", "permissions", "perms"],
        text: "Changes the permissions of the pages in [p, p+len): after mprotect(p, len, r--) a \
write there is a segfault (SEGV_ACCERR), although the pages are still valid.",
    },
    Topic {
        names: &["memset"],
        text: "Writes the byte value into n bytes from p: every page on the way is touched (a \
write), so fresh pages take their first-write faults.",
    },
    Topic {
        names: &["memcpy"],
        text: "Copies n bytes from src to dst: reads every source page and writes every \
destination page.",
    },
    Topic {
        names: &["fork"],
        text: "Creates a child process whose address space is a copy of the current one's \
(copy-on-write: see :help cow) and returns the child's pid, to use with `in` and `switch`.",
    },
    Topic {
        names: &["getpagesize"],
        text: "The machine's page size in bytes, as the C call of the same name returns it \
(also the name `page_size`).",
    },
    Topic {
        names: &["page_of"],
        text: "The virtual page number of an address: the address divided by the page size.",
    },
    Topic {
        names: &["offset_of"],
        text: "The offset of an address inside its page: the address modulo the page size.",
    },
    Topic {
        names: &["frame_of"],
        text: "The physical frame number that holds an address's page right now, or none if \
the page is not resident.",
    },
    Topic {
        names: &["set_pte", "clear_pte"],
        text: "Page-table entries written by hand, for translation exercises: set_pte(vpn, pfn) \
makes page vpn of the current process map frame pfn; clear_pte(vpn) makes it invalid. The \
frame an entry names is taken: no later page fault is given it, until the entry is cleared or \
rewritten.\n\
Try: machine ostep_paging;  set_pte(3, 6);  print translate(0x3229)",
    },
    Topic {
        names: &["translate", "base_bounds", "seg0", "seg1", "segmentation", "relocation"],
        text: "translate(addr) gives the physical address the page table says, or none when \
the address is invalid, without faulting anything in; the trace says why. On a machine with \
`base_bounds BASE LIMIT` (relocation.py) or `seg0`/`seg1 BASE LIMIT` (segmentation.py; segment \
1 grows down from its base) it uses those registers instead.\n\
Try: machine { va_bits 10; page_size 256 B; levels 1; pte_size 4; memory 16 KiB; base_bounds 12418 472 };  print translate(430)",
    },
    Topic {
        names: &["load_dump", "phys_byte", "pdbr", "multilevel", "ostep_multilevel"],
        text: "OSTEP's multi-level page-table homework (paging-multilevel-translate.py): \
`machine ostep_multilevel { pdbr N }` puts the page directory in 32-byte page N; \
load_dump(file \"PATH\") writes each `page N: hex bytes` line of a file (the simulator's own \
output) into physical memory; translate(va) then walks the directory and the table, telling \
each entry (5 bits of directory index, 5 of table index, 5 of offset; 1-byte entries, a valid \
bit over a 7-bit page number); phys_byte(pa) is the byte at a physical address.\n\
Try: machine ostep_multilevel { pdbr 0 };  print translate(0x611c)",
    },
    Topic {
        names: &["usable_size"],
        text: "How many bytes the block at p really has (malloc_usable_size): at least what \
was asked, usually a little more.",
    },
    // --- statements -----------------------------------------------------------------------
    Topic {
        names: &["let", "variables", "as"],
        text: "`let NAME = EXPR` or `let NAME: TYPE = EXPR` makes a variable; `NAME = EXPR` \
changes it. Types: u8 … i64, char short int long, pointers *T. `EXPR as TYPE` converts.",
    },
    Topic {
        names: &["print"],
        text: "`print ITEM, ...` prints expressions and \"strings\"; addresses print in hex. A \
bare expression on its own line shows its value too (`1 + 41` shows = 42).",
    },
    Topic {
        names: &["show"],
        text: "`show WHAT` prints a table of the machine's state.",
    },
    Topic {
        names: &[
            "expect",
            "abort",
            "warning",
            "expectations",
            "overflow",
            "use_after_free",
        ],
        text: "Scenarios check themselves: `expect COND` holds or fails with the actual value; \
`expect segfault|sigbus|fault|no fault|abort|oom { … }` checks what the block does (and catches \
a segfault, a bus error or an abort so the scenario goes on); `expect warning overflow|use_after_free|uninit|leak \
{ … }` checks that a memory-safety warning is raised.",
    },
    Topic {
        names: &["for", "repeat", "if", "else", "loops"],
        text: "`for i in 0..10 { … }` (and `..=`), `repeat N { … }`, `if COND { … } else { … }`. \
A `{` at the end of a line lets the input go on over several lines. Ctrl-C stops a long loop \
and keeps the state as it was before it.",
    },
    Topic {
        names: &["machine", "profiles", "profile"],
        text: "`machine NAME` picks a built-in profile (x86_64, i386, aarch64_16k, tiny, …), \
`machine \"file.yaml\"` a profile file, and `machine { page_size 4 KiB; memory 12 KiB; … }` \
changes settings; a new machine starts a fresh world. `:machine` describes the current one.",
    },
    Topic {
        names: &["process", "switch", "in", "pid"],
        text: "`process NAME` declares a process (with an optional `{ text …; heap; stack 8 \
MiB }` layout); each has its own address space and page table. `switch NAME` makes another \
one current (flushing the TLB unless pcid is on); `in NAME { … }` runs a block in it.",
    },
    Topic {
        names: &["thread"],
        text: "`thread PROC.NAME stack SIZE` adds a thread with its own stack, mapped below the \
others with a guard page between them. Threads share everything else.",
    },
    Topic {
        names: &["call", "local", "recurse", "stack_frame"],
        text: "`call NAME frame SIZE { … }` pushes a stack frame (the stack pointer moves \
down and the frame's pages are touched) for the block; `local buf: char[256]` takes space in \
it; `recurse NAME N frame SIZE` nests N calls — enough of them overflow the stack.",
    },
    Topic {
        names: &["read", "write", "step"],
        text: "`read p[0..64 KiB]` loads a whole range, `write p[0..64 KiB] step 4 KiB = 0` \
stores to it, one access per step (a page is enough to touch every page).",
    },
    Topic {
        names: &["refs", "reference_string"],
        text: "`refs 7 0 1 2 0 3` accesses those virtual page numbers in order (`3w` is a \
write): the textbook reference-string exercise. Each miss is exactly one page fault.",
    },
    Topic {
        names: &["trace"],
        text: "`trace \"file\"` replays a memory trace (one address per line, or valgrind \
lackey output) through the MMU. A page outside the scenario's own mappings belongs to the \
traced program: each miss is exactly one page fault, read or write, as in the textbooks. \
`:trace on|off` is something else: it shows or hides what each input did (in a notebook, \
a cell starting with `%trace on|off`).",
    },
    Topic {
        names: &["sweep", "report"],
        text: "`sweep replace in [fifo, lru], memory in 1..=7 pages { … }` runs the block on a \
fresh machine for every combination and prints a table; `report stats.faults, …` picks the \
columns.",
    },
    Topic {
        names: &["stats", "counters", "statistics"],
        text: "`stats.NAME` reads one of the machine's counters, which only ever grow: \
`print stats.faults`, `expect stats.major == 0`, `report stats.faults` in a sweep. Take a \
difference to count what one step did: `let before = stats.faults`. `show stats` lists them all.\n\
Try: print stats.faults, stats.tlb.hits;  :help stats.walk_refs",
    },
    Topic {
        names: &["sizeof", "types"],
        text: "`sizeof(T)` is the size of a type in bytes: sizeof(int) is 4, sizeof(*int) 8 on \
a 64-bit machine. Pointer arithmetic scales by the element size.",
    },
];

/// Lower case, `_` for spaces and dashes, no `()` or leading `:`.
fn normalize(topic: &str) -> String {
    topic
        .trim()
        .trim_start_matches(':')
        .trim_end_matches("()")
        .to_lowercase()
        .replace([' ', '-'], "_")
}

fn find(topic: &str) -> Option<&'static Topic> {
    let key = normalize(topic);
    let by = |k: &str| TOPICS.iter().find(|t| t.names.contains(&k));
    by(&key).or_else(|| key.strip_suffix('s').and_then(by))
}

/// The names `:help` can be completed with: every topic name and every command.
pub fn topic_names() -> Vec<String> {
    let mut v: Vec<String> = TOPICS
        .iter()
        .flat_map(|t| t.names.iter().map(|n| n.to_string()))
        .collect();
    v.extend(COMMANDS.iter().map(|c| format!(":{}", c.name)));
    v
}

/// What an editor shows for a word under the cursor (the kernel's inspection): the word's
/// `:help` text, or `None` when memsim has none for it.
pub fn about(word: &str) -> Option<String> {
    let command = word
        .trim()
        .strip_prefix(':')
        .is_some_and(|w| COMMANDS.iter().any(|c| c.name == w));
    let stat = normalize(word)
        .strip_prefix("stats.")
        .is_some_and(|n| Stat::from_name(n).is_some());
    let known = command || stat || super::codes::find(word).is_some() || find(word).is_some();
    known.then(|| help(Some(word)))
}

/// The text of `:help` (no topic) or `:help TOPIC`.
pub fn help(topic: Option<&str>) -> String {
    let Some(topic) = topic else {
        return overview();
    };
    if let Some(c) = COMMANDS
        .iter()
        .find(|c| topic.trim().strip_prefix(':') == Some(c.name))
    {
        let usage = format!(":{} {}", c.name, c.args);
        return format!("{}\n  {}\n", usage.trim_end(), c.summary);
    }
    if let Some(c) = super::codes::find(topic) {
        return super::codes::explain(c);
    }
    if let Some(name) = normalize(topic).strip_prefix("stats.") {
        if let Some(stat) = Stat::from_name(name) {
            let about = find("stats").map_or(String::new(), |t| wrap(t.text, 88));
            return format!("stats.{name}: {}\n\n{about}", stat.help());
        }
    }
    let Some(t) = find(topic) else {
        let names = TOPICS.iter().flat_map(|t| t.names.iter().copied());
        let hint = match crate::suggest::did_you_mean(&normalize(topic), names, Reach::Typo) {
            Some(s) => format!("did you mean `{s}`? "),
            None => String::new(),
        };
        return format!(
            "no help on `{}`; {hint}`:help` lists the topics\n",
            topic.trim()
        );
    };
    let mut out = String::new();
    // A builtin's usage line comes from the checker's table, so it never disagrees.
    for name in t.names {
        if let Some(b) = Builtin::from_name(name) {
            out.push_str(b.spec().usage);
            out.push('\n');
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&wrap(t.text, 88));
    if t.names.contains(&"show") {
        out.push('\n');
        let width = ShowTarget::ALL.iter().map(|s| s.name().len()).max();
        let width = width.unwrap_or(0);
        for target in ShowTarget::ALL {
            let name = target.name();
            out.push_str(&format!("  show {name:width$}  {}\n", target.help()));
        }
    }
    if t.names.len() > 1 {
        out.push_str(&format!("\n(also: {})\n", t.names[1..].join(", ")));
    }
    out
}

fn overview() -> String {
    let mut out = String::from(
        "Type statements of the .mem language; they run at once against the simulated \
machine, and their state stays. A line that leaves a `{` open goes on over the next lines. \
Tab completes, Ctrl-C clears the line or stops a running statement, Ctrl-D leaves.\n\nCommands:\n",
    );
    out = wrap(&out, 88);
    for c in COMMANDS {
        let usage = format!(":{} {}", c.name, c.args);
        out.push_str(&format!("  {:16} {}\n", usage.trim_end(), c.summary));
    }
    out.push_str("\nTopics (:help TOPIC):\n");
    let names: Vec<&str> = TOPICS.iter().map(|t| t.names[0]).collect();
    out.push_str(&wrap(&format!("  {}", names.join(", ")), 88).replace('\n', "\n  "));
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// Wraps each paragraph (a `\n` ends one) at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for para in text.split('\n') {
        let mut col = 0;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let n = word.chars().count();
            if col > 0 && col + 1 + n > width {
                out.push('\n');
                col = 0;
            }
            if col > 0 {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += n;
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{BUILTIN_NAMES, REGION_NAMES};

    #[test]
    fn every_word_of_the_language_has_help() {
        let words = super::super::input::keywords()
            .iter()
            .chain(&BUILTIN_NAMES)
            .chain(&REGION_NAMES);
        for w in words {
            assert!(find(w).is_some(), "no :help for `{w}`");
        }
    }

    #[test]
    fn about_answers_only_what_help_knows() {
        assert!(about("malloc").is_some_and(|t| t.starts_with("malloc(n)")));
        assert!(about("stats.tlb.hits").is_some());
        assert!(about(":save").is_some());
        assert!(about("mem::segv").is_some());
        assert_eq!(about("zzzz"), None);
        assert_eq!(about("stats.nope"), None);
    }

    #[test]
    fn concepts_and_aliases() {
        for t in [
            "page",
            "page fault",
            "Page-Fault",
            "minor fault",
            "major",
            "segfault",
            "segmentation fault",
            "valid page",
            "invalid",
            "TLB",
            "malloc()",
            "pages",
            "heap",
        ] {
            assert!(find(t).is_some(), "no help for {t}");
        }
        assert!(help(Some("calloc")).starts_with("calloc(n, size)\n"));
        assert!(help(Some("show")).contains("show pagetable"));
        assert!(help(Some("segfalt")).contains("did you mean `segfault`"));
        assert!(help(Some(":save")).starts_with(":save FILE"));
        assert!(help(None).contains(":undo"));
    }

    #[test]
    fn every_counter_is_explained() {
        for stat in Stat::ALL {
            let name = stat.name();
            assert!(!stat.help().is_empty(), "stats.{name} has no summary");
            let text = help(Some(&format!("stats.{name}")));
            assert!(text.starts_with(&format!("stats.{name}: ")), "{text}");
        }
        assert!(help(Some("stats.nope")).starts_with("no help on"));
    }

    #[test]
    fn names_are_unique() {
        let mut all: Vec<&str> = TOPICS
            .iter()
            .flat_map(|t| t.names.iter().copied())
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "a help name is used twice");
    }
}

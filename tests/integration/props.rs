//! Property tests: no input, however malformed, makes memsim panic; values written are read back.

use memsim::session::{Options, Session};
use proptest::prelude::*;
use std::collections::BTreeMap;

const SEEDS: &[&str] = &[
    "let ip: *int = malloc(sizeof(int) * 10)\nip[0] = 7\nexpect ip[0] == 7\nexpect segfault {\n    ip[100000] = 99\n}\nprint getpagesize()\n",
    "machine { page_size 4 KiB; memory 12 KiB }\nlet p: *long = malloc(64)\nfor i in 0..8 { p[i] = i * i }\nshow pagetable\n",
    "process web {\n    text 64 KiB\n    bss 16 KiB\n    heap\n    stack 8 MiB\n}\nshow maps\nlet x = 1 + 2 * 3 << 1\n",
    "let p: *u8 = mmap(8 KiB, rw-)\nwrite p[0..8 KiB] step 4 KiB = 1\nmprotect(p, 4 KiB, r--)\nexpect segfault accerr { p[0] = 2 }\n",
];

fn opts() -> Options {
    Options {
        max_steps: 100_000,
        max_host_bytes: 64 << 20,
        ..Options::default()
    }
}

fn mutate(src: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut b: Vec<u8> = src.as_bytes().to_vec();
    for &(pos, kind, byte) in edits {
        if b.is_empty() {
            b.push(byte);
            continue;
        }
        let i = pos % b.len();
        match kind % 3 {
            0 => {
                b.remove(i);
            }
            1 => {
                const ALPHABET: &[u8] = b" \n{}[]()=+-*/&|!<>.,;:#\"0123456789abcxyzKiBpage";
                b.insert(i, ALPHABET[byte as usize % ALPHABET.len()])
            }
            _ => {
                let j = (i + byte as usize) % b.len();
                b.swap(i, j)
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(src in "\\PC{0,200}") {
        let mut s = Session::new(opts());
        let _ = s.execute("fuzz.mem", &src);
    }

    #[test]
    fn mutated_programs_never_panic(which in 0..SEEDS.len(), edits in prop::collection::vec((0usize..400, 0u8..3, 0u8..=255), 1..8)) {
        let src = mutate(SEEDS[which], &edits);
        let mut s = Session::new(opts());
        let r = s.execute("fuzz.mem", &src);
        // Whatever happened, the diagnostics render.
        for d in &r.diagnostics {
            let _ = memsim::render::diag::render(&d.report, false, 80);
        }
        let _ = memsim::render::text::trace(&r);
    }

    #[test]
    fn stored_values_read_back(values in prop::collection::vec((0u64..4096, any::<i64>()), 1..40)) {
        let mut src = String::from("let p: *long = malloc(32 KiB)\n");
        let mut last = std::collections::BTreeMap::new();
        for (i, v) in &values {
            src.push_str(&format!("p[{i}] = {v}\n"));
            last.insert(*i, *v);
        }
        for (i, v) in &last {
            src.push_str(&format!("expect p[{i}] == {v}\n"));
        }
        let mut s = Session::new(opts());
        let r = s.execute("rw.mem", &src);
        prop_assert_eq!(r.exit_code(), 0);
        prop_assert_eq!(r.expectations_passed, last.len());
    }
}

/// A folder holding the files the scenarios below map (`shared.bin`, `private.bin`): zeros,
/// as long as the mappings on the largest pages, since a page past a file's end is SIGBUS.
fn mapped_files() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("memsim-props-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for f in ["shared.bin", "private.bin"] {
        let len = MAP_PAGES * LARGEST_PAGE;
        std::fs::write(dir.join(f), vec![0u8; len as usize]).expect("scratch file");
    }
    dir
}

/// The largest page size [`evict_machine`] picks.
const LARGEST_PAGE: u64 = 16384;

/// The three mappings the eviction property stores into: anonymous, a shared file mapping
/// (a child's stores reach its parent) and a private one (they do not).
const MAPPINGS: [&str; 3] = ["a", "s", "f"];
/// Pages in each mapping.
const MAP_PAGES: u64 = 8;

/// What the eviction property's program does, besides its final check.
#[derive(Debug, Clone)]
enum Evict {
    /// `MAPPINGS[m][slot] = value`, the slot taken modulo the mapping's 8-byte slots.
    Store(u8, u32, i64),
    /// Fork; the child checks every value its parent holds, then stores its own (to each
    /// mapping `m`, `slot`, `value`).
    Fork(Vec<(u8, u32, i64)>),
    /// Read a slot that may never have been written (zero) as the parent.
    Load(u8, u32),
}

fn evict_op() -> impl Strategy<Value = Evict> {
    let store = (0u8..3, any::<u32>(), any::<i64>());
    prop_oneof![
        12 => store.clone().prop_map(|(m, i, v)| Evict::Store(m, i, v)),
        1 => prop::collection::vec(store, 0..6).prop_map(Evict::Fork),
        3 => (0u8..3, any::<u32>()).prop_map(|(m, i)| Evict::Load(m, i)),
    ]
}

/// A small machine: page size, frames, swap, every policy under both conventions, and the
/// replacement scope.
fn evict_machine() -> impl Strategy<Value = (u64, String)> {
    (
        prop::sample::select(vec![4096u64, LARGEST_PAGE]),
        3u32..12,
        prop::sample::select(vec![64u32, 96, 512]),
        prop::sample::select(vec![
            "fifo", "lru", "clock", "opt", "random", "mru", "unopt",
        ]),
        prop::sample::select(vec!["textbook", "ostep"]),
        prop::sample::select(vec!["global", "local"]),
        any::<u8>(),
    )
        .prop_map(|(page, frames, swap, policy, conventions, scope, seed)| {
            (
                page,
                format!(
                    "machine {{ page_size {page} B; memory {frames} pages; swap {swap} pages; \
                     replace {policy} {scope}; conventions {conventions}; seed {seed} }}"
                ),
            )
        })
}

/// The program for `ops` and the number of `expect`s it holds: every value is checked
/// against a shadow copy kept here, never against another run of memsim.
fn evict_program(machine: &str, page: u64, ops: &[Evict]) -> (String, usize) {
    let slots = MAP_PAGES * page / 8;
    let mut src = format!(
        "{machine}\n\
         let a: *long = mmap({MAP_PAGES} pages, rw-)\n\
         let s: *long = mmap({MAP_PAGES} pages, rw-, shared, file \"shared.bin\")\n\
         let f: *long = mmap({MAP_PAGES} pages, rw-, file \"private.bin\")\n"
    );
    // Slot → value for each mapping, as the parent sees it; absent slots hold zero.
    let mut shadow: [BTreeMap<u64, i64>; 3] = Default::default();
    let mut expects = 0;
    for op in ops {
        match op {
            Evict::Store(m, i, v) => {
                let (m, i) = (*m as usize % 3, *i as u64 % slots);
                src.push_str(&format!("{}[{i}] = {v}\n", MAPPINGS[m]));
                shadow[m].insert(i, *v);
            }
            Evict::Load(m, i) => {
                let (m, i) = (*m as usize % 3, *i as u64 % slots);
                let v = shadow[m].get(&i).copied().unwrap_or(0);
                src.push_str(&format!("expect {}[{i}] == {v}\n", MAPPINGS[m]));
                expects += 1;
            }
            Evict::Fork(stores) => {
                src.push_str("let child = fork()\nin child {\n");
                for (m, map) in shadow.iter().enumerate() {
                    for (i, v) in map {
                        src.push_str(&format!("    expect {}[{i}] == {v}\n", MAPPINGS[m]));
                        expects += 1;
                    }
                }
                for (m, i, v) in stores {
                    let (m, i) = (*m as usize % 3, *i as u64 % slots);
                    src.push_str(&format!("    {}[{i}] = {v}\n", MAPPINGS[m]));
                    // Only the shared file mapping carries the child's store to the parent.
                    if MAPPINGS[m] == "s" {
                        shadow[m].insert(i, *v);
                    }
                }
                src.push_str("}\n");
            }
        }
    }
    for (m, map) in shadow.iter().enumerate() {
        for (i, v) in map {
            src.push_str(&format!("expect {}[{i}] == {v}\n", MAPPINGS[m]));
            expects += 1;
        }
    }
    (src, expects)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Memory pressure never changes a value: on small machines (any page size, memory and
    /// swap, every policy under both conventions) every slot of an anonymous, a shared file
    /// and a private file mapping holds what the program last stored there, in the parent and
    /// in children forked along the way, as a shadow copy kept by the test says.
    #[test]
    fn values_survive_eviction(
        (page, machine) in evict_machine(),
        ops in prop::collection::vec(evict_op(), 1..60),
    ) {
        let (src, expects) = evict_program(&machine, page, &ops);
        let mut s = Session::new(Options {
            trace: false,
            ..opts()
        });
        s.set_base_dir(mapped_files());
        let r = s.execute("evict.mem", &src);
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
        // Pages shared since a fork stay resident, so a machine of a few frames can run out:
        // the OOM killer ends the run, which is not a lost value.
        prop_assume!(!codes.contains(&"mem::oom"));
        prop_assert!(codes.is_empty(), "{:?}\n{}", codes, src);
        prop_assert_eq!(r.expectations_failed, 0, "{}", src);
        prop_assert_eq!(r.expectations_passed, expects, "{}", src);
    }
}

/// Lines that look like traces: addresses, R/W prefixes, lackey records, garbage.
fn trace_line() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|a| format!("{a:#x}")),
        any::<u32>().prop_map(|a| a.to_string()),
        (any::<bool>(), any::<u64>())
            .prop_map(|(w, a)| format!("{} {a:#x}", if w { "W" } else { "R" })),
        (0usize..4, any::<u64>(), 0u64..64)
            .prop_map(|(k, a, s)| format!("{}{a:x},{s}", ["I  ", " L ", " S ", " M "][k])),
        Just("==123== Memcheck".to_string()),
        "\\PC{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// The trace parser answers every text with references or a line-numbered error.
    #[test]
    fn trace_files_never_panic(lines in prop::collection::vec(trace_line(), 0..40), shift in 8u32..17) {
        let text = lines.join("\n");
        match memsim::session::replay::parse_trace(&text, 1 << shift) {
            // A record is at most two accesses (`M`), each on at most two pages.
            Ok(refs) => prop_assert!(refs.len() <= 4 * lines.len(), "{} references from {} lines", refs.len(), lines.len()),
            Err(e) => prop_assert!(e.line >= 1 && e.line <= lines.len().max(1)),
        }
    }

    /// A user's profile file, however broken, is a diagnostic, never a panic.
    #[test]
    fn profile_files_never_panic(text in "(([a-z_]{1,12}): ?(\\PC{0,16}|[0-9]{1,6} ?[KMG]?i?B)\n){0,12}") {
        let _ = memsim::profile::load_file(std::path::Path::new("fuzz.yaml"), &text);
    }
}

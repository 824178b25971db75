//! Property tests: no input, however malformed, makes memsim panic; values written are read back.

use memsim::session::{Options, Session};
use proptest::prelude::*;

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

/// A folder holding the empty files the scenarios below map (`shared.bin`, `private.bin`).
fn mapped_files() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("memsim-props-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for f in ["shared.bin", "private.bin"] {
        std::fs::write(dir.join(f), b"").expect("scratch file");
    }
    dir
}

/// Runs `body` on a machine and returns what it printed (or the first error, so a failure
/// shows up as a difference).
fn printed(machine: &str, body: &str) -> String {
    let src = format!("{machine}\n{body}");
    let mut s = Session::new(Options {
        trace: false,
        ..opts()
    });
    s.set_base_dir(mapped_files());
    let r = s.execute("pressure.mem", &src);
    let mut out = String::new();
    for st in &r.steps {
        for o in st.outputs() {
            if let memsim::session::Output::Print { text } = o {
                out.push_str(text);
                out.push('\n');
            }
        }
    }
    for d in &r.diagnostics {
        out.push_str(&memsim::render::diag::render(&d.report, false, 100));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Memory pressure never changes a value: the same stores and loads on a machine with
    /// ample RAM and on one with three frames and swap (every policy) read back the same.
    #[test]
    fn values_survive_eviction(
        writes in proptest::collection::vec((0u8..3, 0u64..8 * 512, 1u32..u32::MAX), 1..60),
        reads in proptest::collection::vec((0u8..3, 0u64..8 * 512), 1..30),
    ) {
        let mut body = String::from(
            "let a: *long = mmap(8 pages, rw-)\n\
             let s: *long = mmap(8 pages, rw-, shared, file \"shared.bin\")\n\
             let f: *long = mmap(8 pages, rw-, file \"private.bin\")\n",
        );
        let name = |r: u8| ["a", "s", "f"][r as usize % 3];
        for (r, i, v) in &writes {
            body.push_str(&format!("{}[{i}] = {v}\n", name(*r)));
        }
        for (r, i, _) in &writes {
            body.push_str(&format!("print {}[{i}]\n", name(*r)));
        }
        for (r, i) in &reads {
            body.push_str(&format!("print {}[{i}]\n", name(*r)));
        }
        let reference = printed("machine { memory 1 GiB }", &body);
        prop_assert!(!reference.contains("mem::"), "{}", reference);
        for policy in ["fifo", "lru", "clock", "opt", "random"] {
            let tiny = printed(
                &format!("machine {{ memory 3 pages; swap 32 pages; replace {policy}; seed 7 }}"),
                &body,
            );
            prop_assert_eq!(&reference, &tiny, "policy {}", policy);
        }
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

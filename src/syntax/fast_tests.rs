//! Differential tests of the fast path: whenever [`fast::parse`] gives a tree, the pest path
//! gives the same tree, and the fast path really handles the examples and the bench corpus.

use super::*;
use proptest::prelude::*;

/// Checks one input; returns whether the fast path handled it.
fn check(src: &str) -> bool {
    let fast = fast::parse(src);
    if let Some(ast) = &fast {
        match parse_pest(src) {
            Ok(p) => assert_eq!(&p, ast, "fast and pest trees differ for {src:?}"),
            Err(e) => panic!("fast path accepted {src:?} but pest rejects it: {e:#?}"),
        }
    }
    fast.is_some()
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn mem_files(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            mem_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "mem") {
            let src = std::fs::read_to_string(&p).unwrap();
            out.push((p.display().to_string(), src));
        }
    }
    out.sort();
}

fn examples() -> Vec<(String, String)> {
    let mut v = Vec::new();
    mem_files(&root().join("examples"), &mut v);
    assert!(v.len() >= 10);
    v
}

fn cases() -> Vec<(String, String)> {
    let mut v = Vec::new();
    mem_files(&root().join("tests/cases"), &mut v);
    assert!(v.len() >= 50);
    v
}

/// The unit of `benches/engine.rs`'s corpus, read from the bench itself.
fn bench_unit() -> String {
    let src = std::fs::read_to_string(root().join("benches/engine.rs")).unwrap();
    let start = src.find("let unit = r#\"").unwrap() + "let unit = r#\"".len();
    let len = src[start..].find("\"#;").unwrap();
    src[start..start + len].to_string()
}

/// Every string literal in `src/syntax/tests.rs` (contract snippets, shapes, errors).
fn test_literals() -> Vec<String> {
    let src = include_str!("tests.rs");
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"r#\"") {
            let from = i + 3;
            let Some(len) = src[from..].find("\"#") else {
                break;
            };
            out.push(src[from..from + len].to_string());
            i = from + len + 2;
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            let mut s = String::new();
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' && j + 1 < b.len() {
                    match b[j + 1] {
                        b'n' => s.push('\n'),
                        b't' => s.push('\t'),
                        b'r' => s.push('\r'),
                        b'0' => s.push('\0'),
                        c => s.push(c as char),
                    }
                    j += 2;
                } else {
                    let c = src[j..].chars().next().unwrap();
                    s.push(c);
                    j += c.len_utf8();
                }
            }
            out.push(s);
            i = j + 1;
        } else {
            i += 1;
        }
    }
    assert!(out.len() > 100);
    out
}

#[test]
fn examples_take_the_fast_path() {
    for (path, src) in examples() {
        assert!(check(&src), "{path}: the fast path gave up");
    }
}

#[test]
fn bench_corpus_takes_the_fast_path() {
    let unit = bench_unit();
    assert!(check(&unit));
    let corpus = unit.repeat((1 << 20) / unit.len() + 1);
    assert!(check(&corpus));
}

#[test]
fn contract_snippets_agree() {
    for src in super::tests::valid_corpus() {
        assert!(check(src), "{src}");
    }
    for lit in test_literals() {
        check(&lit);
    }
}

#[test]
fn case_files_agree() {
    for (path, src) in cases() {
        let handled = check(&src);
        if path.contains("parse-ok") {
            assert!(handled, "{path}: the fast path gave up");
        }
        if path.contains("/parse/") {
            assert!(!handled, "{path}: an error case parsed");
        }
    }
}

#[test]
fn small_forms_agree() {
    for src in [
        "",
        "\n\n;;",
        "x",
        "x = 1",
        "x == 1",
        "x = = 1",
        "print",
        "print 1, 2",
        "{ }",
        "if x { } else if y { } else { }",
        "if x { }\n\n# c\nelse { }",
        "if x { }\n\nelse { }",
        "if x {} # c\ny = 1",
        "x = 1 \\\n  # c\n",
        "x \\\n + 1",
        "f (1)",
        "heap .start",
        "heap. start",
        "a.b.in",
        "f(--x)",
        "f(-- x)",
        "f(r-x + 1)",
        "f(w-x)",
        "f(x-1)",
        "f(rw-p, file \"x\", file)",
        "f(\n1,\n2,\n)",
        "f(1,,)",
        "x = 4 Bytes",
        "x = 4 B",
        "x = 4\tKiB",
        "x = 4 Kib",
        "x = 4 pagesx",
        "x = 0x_1",
        "x = 0b102",
        "x = 0x1fw",
        "refs 0x1fw 3r 4 5w",
        "refs 3x",
        "x = 1_",
        "x = 99999999999999999999",
        "x = 99999999999 TiB",
        "let x: **int = 0",
        "let x: * * int = 0",
        "x = sizeof(* int) as u8",
        "x = -y as u8",
        "x = &&y",
        "x = a & &b",
        "x = !=y",
        "x = ! y",
        "x = a << 1 >> 2 <= 3",
        "x = a *",
        "show memory ip -64",
        "show memory ip, 64",
        "show memory ip (r-x + 1)",
        "show maps",
        "show",
        "expect segfault == 1",
        "expect no == 1",
        "expect fault_count == 1",
        "expect warning leak { }",
        "thread a.b stack 4 KiB",
        "thread a . b",
        "thread a stack",
        "machine x86_64 { tlb 16 entries lru 4-way; page_size 4 KiB }",
        "machine { tlb 4-wayx }",
        "machine { for 1 }",
        "machine { x 12abc }",
        "machine \"a.yaml\"",
        "process p { mmap m at at 1 rw- }",
        "process p { mmap at at 1 2 }",
        "process p { mmap m at rw- }",
        "process p { mmap m 4 KiB r }",
        "process p { heap; stack 8 MiB\n text \"x\" }",
        "sweep memory in 1 ..= 7pages, replace in [\n fifo,\n lru,\n] report stats.faults, x { }",
        "sweep memory in 1..=7x { }",
        "sweep memory in [] { }",
        "local buf: char[256][2]",
        "local buf: char [ 256 ]",
        "read p[0..4] step",
        "write f(p)[0..=4 KiB] step 1 = 2",
        "read p [\n0 .. 4\n]",
        "print \"a\\qb\"",
        "print \"a\\\"b\\\\\"",
        "print \"é # x\" # y",
        "trace \"x\"",
        "recurse f 10 frame 64 B",
        "call f frame 1 KiB { local x: int }",
        "sizeof(int)",
        "as",
        "else",
        "in web { switch main }",
        "x = 1\r\ny = 2\r",
        "x = (1\n)",
        "x = 1 + \\\r\n 2",
        "1 + 2 = 3",
    ] {
        check(src);
    }
}

#[test]
fn nesting_near_the_limits_agrees() {
    for n in [
        1usize, 10, 30, 50, 60, 62, 63, 64, 65, 70, 100, 199, 200, 201, 300,
    ] {
        for src in [
            format!("x = {}1{}", "(".repeat(n), ")".repeat(n)),
            format!("x = {}1", "-".repeat(n)),
            format!("x = 1{}", " + 1".repeat(n)),
            format!("{}{}", "repeat 1 { ".repeat(n), "}".repeat(n)),
            format!("let x: {}int = 0", "*".repeat(n)),
            format!("x = {}1{}", "f(".repeat(n), ")".repeat(n)),
            format!("x = {}1{}", "a[".repeat(n), "]".repeat(n)),
            format!("{} {{ }}", "if x { } else ".repeat(n)),
            format!("x = 1{}", " as u8".repeat(n)),
            format!("x = a{}", "[0]".repeat(n)),
            format!(
                "x = {}1{}",
                "a || b && c == d < e | f ^ g & h << i + j * -(".repeat(n),
                ")".repeat(n)
            ),
            format!(
                "x = {}1{}",
                "a || b && c == d < e | f ^ g & h << i + j * -(".repeat(n),
                ""
            ),
        ] {
            check(&src);
        }
    }
    // Handled by the fast path, at a depth where pest still parses.
    assert!(check(&format!("x = {}1{}", "(".repeat(50), ")".repeat(50))));
}

#[test]
fn pathological_operators_are_fast() {
    // An operator without an operand at every level must not be re-parsed per precedence level.
    let src = format!("x = {}", "1 * (".repeat(40));
    let t = std::time::Instant::now();
    assert!(fast::parse(&src).is_none());
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
}

fn corpus() -> Vec<String> {
    let mut v: Vec<String> = super::tests::valid_corpus()
        .into_iter()
        .map(String::from)
        .collect();
    v.push(bench_unit());
    v.extend(examples().into_iter().map(|(_, s)| s));
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, .. ProptestConfig::default() })]

    #[test]
    fn mutated_programs_agree(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((0u8..4, any::<usize>(), any::<u8>()), 1..6)
    ) {
        let c = corpus();
        let mut bytes = c[which.index(c.len())].as_bytes().to_vec();
        for (op, at, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at % bytes.len();
            const CHARS: &[u8] = b" \n;{}()[]\"#\\-=.,0aZ_w\t:*&!<>|x1rpsKB";
            match op {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, CHARS[byte as usize % CHARS.len()]),
                2 => { let j = (i + 1 + byte as usize) % bytes.len(); bytes.swap(i, j); }
                _ => bytes[i] = CHARS[byte as usize % CHARS.len()],
            }
        }
        let s = String::from_utf8_lossy(&bytes);
        check(&s);
    }

    #[test]
    fn token_soup_agrees(
        toks in proptest::collection::vec(
            proptest::sample::select(vec![
                "let", "x", "=", "==", "1", "4 KiB", "{", "}", "(", ")", "[", "]", "\n", ";", ",",
                "..", "..=", "\"s\"", "rw-", "r-x", "--x", "*", "-", "&", "!", "~", "+", "<<",
                "as", "int", "if", "else", "expect", "segfault", "fault", "no", "refs", "3w",
                "machine", "process", "mmap", "at", "file", "sweep", "in", "report", "#", "\\\n",
                "0x1f", "call", "frame", "local", ":", "read", "write", "step", "print", "show",
                "f", "p.q", "sizeof", "u8", "thread", "stack", "heap", "repeat", "for", "4-way",
            ]),
            0..40,
        )
    ) {
        check(&toks.join(" "));
    }

    #[test]
    fn random_strings_agree(s in "\\PC{0,120}") {
        check(&s);
    }
}

//! Every ` ```mem ` block in README.md and docs/*.md runs, so the documentation cannot drift from
//! what memsim does. A block whose info string says `mem,fragment` must only parse (it leans on
//! context the text gives); `mem,error` must stop with an error diagnostic, and
//! `mem,error=CODE` with that code. Every other block must run with exit status 0.

use std::path::{Path, PathBuf};

use memsim::session::{Options, Session};

/// A block: where it starts, its info string after `mem`, its text.
struct Block {
    file: PathBuf,
    line: usize,
    kind: String,
    src: String,
}

fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).expect("read doc");
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        match open.take() {
            Some(b) if line.trim_start().starts_with("```") => out.push(b),
            Some(mut b) => {
                b.src.push_str(line);
                b.src.push('\n');
                open = Some(b);
            }
            None => {
                let info = line.trim_start().strip_prefix("```").map(str::trim);
                if let Some(rest) = info.and_then(|i| i.strip_prefix("mem")) {
                    if rest.is_empty() || rest.starts_with(',') {
                        open = Some(Block {
                            file: path.to_path_buf(),
                            line: i + 1,
                            kind: rest.trim_start_matches(',').to_string(),
                            src: String::new(),
                        });
                    }
                }
            }
        }
    }
    assert!(
        open.is_none(),
        "{}: a ```mem block is not closed",
        path.display()
    );
    out
}

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.insert(0, root.join("README.md"));
    files
}

/// What is wrong with a block, if anything.
fn verdict(b: &Block) -> Option<String> {
    if b.kind == "fragment" {
        return memsim::syntax::parse(&b.src)
            .err()
            .map(|e| format!("does not parse: {e:?}"));
    }
    let mut s = Session::new(Options::default());
    s.set_base_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
    let r = s.execute("block.mem", &b.src);
    let codes: Vec<&str> = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == memsim::session::Severity::Error)
        .map(|d| d.code.as_str())
        .collect();
    let rendered = || {
        r.diagnostics
            .iter()
            .map(|d| memsim::render::diag::render(&d.report, false, 100))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match b.kind.as_str() {
        "" => (r.exit_code() != 0).then(|| format!("exits {}:\n{}", r.exit_code(), rendered())),
        "error" => codes
            .is_empty()
            .then(|| "is marked `error` but has no error diagnostic".to_string()),
        k => match k.strip_prefix("error=") {
            Some(code) => (!codes.contains(&code))
                .then(|| format!("should end in {code}, but its errors are {codes:?}")),
            None => Some(format!("unknown info string `mem,{k}`")),
        },
    }
}

#[test]
fn every_mem_block_in_the_documentation_runs() {
    let mut failures = Vec::new();
    let mut count = 0;
    for doc in documents() {
        for b in blocks(&doc) {
            count += 1;
            if let Some(why) = verdict(&b) {
                failures.push(format!("{}:{}: {why}", b.file.display(), b.line));
            }
        }
    }
    assert!(count >= 20, "only {count} ```mem blocks found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_failing_block_is_caught() {
    let bad = |kind: &str, src: &str| Block {
        file: PathBuf::from("x.md"),
        line: 1,
        kind: kind.into(),
        src: src.into(),
    };
    assert!(verdict(&bad("", "expect 1 == 2\n")).is_some());
    assert!(verdict(&bad("", "expect 1 == 1\n")).is_none());
    assert!(verdict(&bad("error", "expect 1 == 1\n")).is_some());
    assert!(verdict(&bad("error=mem::check::unknown_name", "print y\n")).is_none());
    assert!(verdict(&bad("error=mem::expect", "print y\n")).is_some());
    assert!(verdict(&bad("fragment", "print (\n")).is_some());
    assert!(verdict(&bad("fragment", "print y\n")).is_none());
}

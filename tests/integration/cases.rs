//! Every `tests/cases/**/*.mem` runs, and its whole output (trace, diagnostics rendered without
//! colour at width 80, summary) is compared with the snapshot beside it.

use std::path::Path;

use memsim::render::{diag, text};
use memsim::session::{Options, Session};

fn render_case(path: &Path, compile_loops: bool) -> String {
    let src = std::fs::read_to_string(path).expect("read case");
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut s = Session::new(Options {
        compile_loops,
        ..Options::default()
    });
    s.set_base_dir(path.parent().unwrap());
    let r = s.execute(&name, &src);
    let mut out = text::trace(&r);
    for d in &r.diagnostics {
        out.push_str(&diag::render(&d.report, false, 80));
    }
    if !r.static_errors {
        out.push_str(&text::summary(&r, &r.stats));
    }
    out.push_str(&format!("exit code: {}\n", r.exit_code()));
    out
}

#[test]
fn cases_match_their_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files = Vec::new();
    fn walk(p: &Path, out: &mut Vec<std::path::PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                walk(&e, out);
            } else if e.extension().is_some_and(|x| x == "mem") {
                out.push(e);
            }
        }
    }
    walk(&root, &mut files);
    assert!(!files.is_empty());
    for f in files {
        // `parse-ok/` holds fragments of the language reference: they must parse; they need not run.
        if f.parent().is_some_and(|d| d.ends_with("parse-ok")) {
            let src = std::fs::read_to_string(&f).expect("read");
            if let Err(errs) = memsim::syntax::parse(&src) {
                panic!("{} does not parse: {errs:?}", f.display());
            }
            continue;
        }
        let output = render_case(&f, true);
        // Compiled loops are an optimisation: the tree walker alone must say the same.
        assert_eq!(
            output,
            render_case(&f, false),
            "{}: compiled loops change the output",
            f.display()
        );
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(f.parent().unwrap());
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&f);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, output));
    }
}

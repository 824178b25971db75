//! Examples are tests: every `examples/*.mem` runs and all its expectations hold, and its whole
//! output (trace, diagnostics, summary; the tables of its sweeps included) is compared with its
//! snapshot in `tests/examples/`.

use memsim::session::{Options, Session};

#[test]
fn every_example_holds_its_expectations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mem"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "the examples are missing");
    let snapshots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/examples");
    let mut failures = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("read");
        let mut s = Session::new(Options::default());
        s.set_base_dir(&dir);
        let r = s.execute(&f.display().to_string(), &src);
        // The same run on the tree walker alone: compiled loops must not show.
        let mut plain = Session::new(Options {
            compile_loops: false,
            ..Options::default()
        });
        plain.set_base_dir(&dir);
        let r2 = plain.execute(&f.display().to_string(), &src);
        let render = |r: &memsim::ChunkResult| {
            memsim::render::text::trace(r) + &memsim::render::report::json(std::slice::from_ref(r))
        };
        if render(&r) != render(&r2) {
            failures.push(format!("{}: compiled loops change the output", f.display()));
        }
        // An example frees what it allocates and wraps the findings it shows in
        // `expect warning`: a newcomer's first run prints no warnings.
        let warnings: Vec<String> = r
            .diagnostics
            .iter()
            .filter(|d| d.severity == memsim::session::Severity::Warning)
            .map(|d| memsim::render::diag::render(&d.report, false, 100))
            .collect();
        if !warnings.is_empty() {
            failures.push(format!("{} warns:\n{}", f.display(), warnings.join("\n")));
        }
        // What `memsim run` prints, so that a table no `expect` checks (a sweep's) is pinned.
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        let mut named = Session::new(Options::default());
        named.set_base_dir(&dir);
        let run = named.execute(&format!("examples/{name}.mem"), &src);
        let mut output = memsim::render::text::trace(&run);
        for d in &run.diagnostics {
            output.push_str(&memsim::render::diag::render(&d.report, false, 80));
        }
        if !run.static_errors {
            output.push_str(&memsim::render::text::summary(&run, &run.stats));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(&snapshots);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(f);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name, output));
        if r.exit_code() != 0 || r.expectations_passed == 0 {
            let diags: Vec<String> = r
                .diagnostics
                .iter()
                .map(|d| memsim::render::diag::render(&d.report, false, 100))
                .collect();
            failures.push(format!("{}:\n{}", f.display(), diags.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn output_is_deterministic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let src = std::fs::read_to_string(dir.join("seed.mem")).expect("seed");
    let run = || {
        let mut s = Session::new(Options::default());
        let r = s.execute("seed.mem", &src);
        memsim::render::text::trace(&r) + &memsim::render::report::json(&[r])
    };
    assert_eq!(run(), run());
}

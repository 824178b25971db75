//! The seed example (`examples/seed.mem`: a malloc'd array written far out of bounds) on every
//! built-in profile, with each profile's addresses, layout and outcome pinned by a snapshot.

use std::path::Path;

use memsim::render::{diag, text};
use memsim::session::{Options, Session};

/// The seed example without its `expect`s (they hold x86_64's numbers): `expect … { body }`
/// keeps its body, so the out-of-bounds store still runs. `show maps` before that store pins
/// the layout.
fn seed_program() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed.mem");
    let src = std::fs::read_to_string(path).expect("read examples/seed.mem");
    let mut out = String::new();
    let mut in_block = false;
    for line in src.lines() {
        let t = line.trim_start();
        if t.starts_with("expect ") && t.trim_end().ends_with('{') {
            in_block = true;
            out.push_str("show maps\n");
        } else if in_block && t.starts_with('}') {
            in_block = false;
        } else if let Some(check) = t.strip_prefix("expect ") {
            // A checked value becomes a printed one, so the snapshot shows it.
            if let Some(expr) = check.split("==").next() {
                out.push_str(&format!("print {}\n", expr.trim()));
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(!in_block, "an expect block of seed.mem is not closed");
    out
}

#[test]
fn the_seed_example_runs_on_every_profile() {
    let program = seed_program();
    let names: Vec<&str> = memsim::profile::builtin_names().collect();
    assert!(names.len() > 1);
    for name in names {
        let src = format!("machine {name}\n{program}");
        let mut s = Session::new(Options::default());
        s.set_base_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
        let r = s.execute("seed.mem", &src);
        let mut out = text::trace(&r);
        for d in &r.diagnostics {
            out.push_str(&diag::render(&d.report, false, 80));
        }
        if !r.static_errors {
            out.push_str(&text::summary(&r, &r.stats));
        }
        out.push_str(&format!("exit code: {}\n", r.exit_code()));
        let mut settings = insta::Settings::clone_current();
        settings.set_omit_expression(true);
        settings.set_description(format!("examples/seed.mem on machine {name}"));
        settings.bind(|| insta::assert_snapshot!(format!("seed_{name}"), out));
    }
}

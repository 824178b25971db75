//! The command line: `memsim run | check | test | repl | profiles`. A thin driver over
//! [`Session`]; plain `memsim` on a terminal starts the REPL.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

#[cfg(feature = "kernel")]
mod kernel;

use crate::render::{diag, report, text};
use crate::session::{ChunkResult, Options, Session, Severity};

#[derive(Parser, Debug)]
#[command(
    name = "memsim",
    version,
    about = "Run memory-management scenarios (.mem files) against a simulated MMU",
    long_about = "memsim runs .mem scenarios against a simulated MMU and OS that behave like \
                  Linux x86-64 with glibc, and explains every page fault, segfault, TLB hit \
                  and allocator decision."
)]
struct Cli {
    /// Without a command: the REPL when standard input is a terminal, else this help.
    #[command(subcommand)]
    command: Option<Command>,
    /// When to colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios: a trace of every step, then a summary.
    Run {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print only what the scenario prints and the diagnostics, no trace.
        #[arg(short, long)]
        quiet: bool,
        /// Output format: a readable trace, or a machine-readable report.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check scenarios for errors without running them.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run every .mem file under the given paths (default: the current folder) and report
    /// which held all their expectations.
    Test { paths: Vec<PathBuf> },
    /// An interactive session: statements run as they are typed, `:help` explains. With
    /// piped input, runs it line by line as a script.
    Repl {
        /// A scenario to run first; its state is kept.
        file: Option<PathBuf>,
    },
    /// List the built-in machine profiles.
    Profiles,
    /// The Jupyter kernel: `memsim kernel install` once, then notebooks and
    /// `jupyter console --kernel mem` start it.
    #[cfg(feature = "kernel")]
    Kernel(kernel::KernelArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Yaml,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs the CLI; returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let Some(command) = cli.command else {
        if std::io::stdin().is_terminal() {
            return crate::repl::main(None, color);
        }
        use clap::CommandFactory;
        let _ = Cli::command().print_help();
        return 2;
    };
    match command {
        Command::Run {
            files,
            quiet,
            format,
        } => run(&files, quiet, format, color),
        Command::Check { files } => check(&files, color),
        Command::Test { paths } => test(&paths, color),
        Command::Repl { file } => crate::repl::main(file.as_deref(), color),
        Command::Profiles => profiles(),
        #[cfg(feature = "kernel")]
        Command::Kernel(args) => kernel::main(args, color),
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("memsim: cannot read {}: {e}", path.display()))
}

fn display_name(path: &Path) -> String {
    path.display().to_string()
}

fn session_for(path: &Path, trace: bool) -> Session {
    let mut s = Session::new(Options {
        trace,
        ..Options::default()
    });
    if let Some(dir) = path.parent() {
        s.set_base_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        });
    }
    s
}

fn print_diagnostics(r: &ChunkResult, color: bool, err: &mut impl Write) {
    for d in &r.diagnostics {
        let _ = write!(err, "{}", diag::render(&d.report, color, 100));
        if d.severity == Severity::Error {
            let _ = writeln!(err);
        }
    }
}

fn run(files: &[PathBuf], quiet: bool, format: Format, color: bool) -> i32 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr().lock();
    let mut status = 0;
    let mut results = Vec::new();
    for path in files {
        let src = match read(path) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "{e}");
                status = status.max(2);
                continue;
            }
        };
        let mut session = session_for(path, format != Format::Text || !quiet);
        let r = session.execute(&display_name(path), &src);
        status = status.max(r.exit_code());
        if format == Format::Text {
            if quiet {
                let mut s = String::new();
                for step in &r.steps {
                    text::outputs(step, &mut s);
                }
                let _ = write!(out, "{s}");
            } else {
                let _ = write!(out, "{}", text::trace(&r));
            }
            let _ = out.flush();
            print_diagnostics(&r, color, &mut err);
            if !r.static_errors {
                let _ = write!(out, "{}", text::summary(&r, &r.stats));
            }
        } else {
            print_diagnostics(&r, color, &mut err);
            results.push(r);
        }
    }
    match format {
        Format::Json => {
            let _ = writeln!(out, "{}", report::json(&results));
        }
        Format::Yaml => {
            let _ = write!(out, "{}", report::yaml(&results));
        }
        Format::Text => {}
    }
    status
}

fn check(files: &[PathBuf], color: bool) -> i32 {
    let mut status = 0;
    let mut err = std::io::stderr().lock();
    for path in files {
        let src = match read(path) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "{e}");
                status = 2;
                continue;
            }
        };
        let session = session_for(path, false);
        let r = session.check(&display_name(path), &src);
        if r.diagnostics.is_empty() {
            println!("{}: ok", path.display());
        } else {
            print_diagnostics(&r, color, &mut err);
            status = 2;
        }
    }
    status
}

/// Every `.mem` file under `paths`, sorted, so runs are reproducible.
fn collect(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            entries.sort();
            for e in entries {
                walk(&e, out);
            }
        } else if p.extension().is_some_and(|e| e == "mem") {
            out.push(p.to_path_buf());
        }
    }
    let default = [PathBuf::from(".")];
    for p in if paths.is_empty() {
        &default[..]
    } else {
        paths
    } {
        walk(p, &mut out);
    }
    out
}

fn test(paths: &[PathBuf], color: bool) -> i32 {
    let files = collect(paths);
    let (mut passed, mut failed) = (0, 0);
    let mut err = std::io::stderr().lock();
    for path in &files {
        let src = match read(path) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "{e}");
                failed += 1;
                continue;
            }
        };
        let mut session = session_for(path, false);
        let r = session.execute(&display_name(path), &src);
        if r.exit_code() == 0 {
            passed += 1;
            println!(
                "ok    {} ({})",
                path.display(),
                crate::units::count(r.expectations_passed as u64, "expectation")
            );
        } else {
            failed += 1;
            println!("FAIL  {}", path.display());
            print_diagnostics(&r, color, &mut err);
        }
    }
    println!("{passed} passed, {failed} failed");
    i32::from(failed > 0)
}

fn profiles() -> i32 {
    let rows: Vec<Vec<String>> = crate::profile::builtins()
        .into_iter()
        .map(|p| {
            vec![
                p.name.to_string(),
                crate::units::size(p.page_size),
                p.va_bits.to_string(),
                p.levels.to_string(),
                crate::units::size(p.memory),
                p.description.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        text::table(
            &[
                "profile",
                "page size",
                "VA bits",
                "levels",
                "memory",
                "description"
            ],
            &rows
        )
    );
    0
}

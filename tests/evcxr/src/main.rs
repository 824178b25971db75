//! Runs `notebooks/rust-api.ipynb` cell by cell through evcxr (the engine of Rust notebooks)
//! and checks what each cell shows: it runs, and the MIME types and text its cell metadata
//! (`memsim_test`) asks for are in its outputs.
//!
//!   cargo run --manifest-path tests/evcxr/Cargo.toml            # run it, check each cell
//!   cargo run --manifest-path tests/evcxr/Cargo.toml -- --write # and save its outputs in it
//!   cargo run --manifest-path tests/evcxr/Cargo.toml -- --check # and fail unless the saved
//!                                                               # outputs are what it shows
//!
//! evcxr compiles each cell into a library that a child process loads, and that child process
//! is this very binary started again: hence `runtime_hook` first, and no test harness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use evcxr::CommandContext;
use serde_json::{json, Map, Value};

/// What to do with the outputs once every cell has passed its own checks.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Nothing more.
    Run,
    /// Save them in the notebook.
    Write,
    /// Compare them with the ones saved in the notebook: a stale notebook fails.
    Check,
}

fn main() -> ExitCode {
    evcxr::runtime_hook();
    let mut mode = Mode::Run;
    for arg in std::env::args().skip(1) {
        mode = match arg.as_str() {
            "--write" => Mode::Write,
            "--check" => Mode::Check,
            _ => {
                eprintln!("usage: memsim-evcxr-test [--write | --check]");
                return ExitCode::from(2);
            }
        };
    }
    match run(mode) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("evcxr notebook test: {e}");
            ExitCode::FAILURE
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One cell's outputs as nbformat 4 has them, and its MIME bundle for the checks.
struct CellRun {
    outputs: Vec<Value>,
    bundle: BTreeMap<String, String>,
    stdout: String,
}

fn run(mode: Mode) -> Result<(), String> {
    let root = repo_root().canonicalize().map_err(|e| e.to_string())?;
    let nb_path = root.join("notebooks/rust-api.ipynb");
    let text = std::fs::read_to_string(&nb_path).map_err(|e| format!("{nb_path:?}: {e}"))?;
    let mut nb: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;

    // evcxr reads its user configuration (prelude, init.evcxr) from here: none of the user's.
    let config = root.join("tests/evcxr/target/evcxr-config");
    std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
    std::env::set_var("EVCXR_CONFIG_DIR", &config);
    // Where evcxr builds the cells: kept between runs, so memsim is compiled once.
    if std::env::var_os("EVCXR_TMPDIR").is_none() {
        let work = root.join("tests/evcxr/target/evcxr-work");
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        std::env::set_var("EVCXR_TMPDIR", &work);
    }
    // As in JupyterLab, the kernel runs in the notebook's folder: `:dep memsim = { path = ".." }`.
    std::env::set_current_dir(root.join("notebooks")).map_err(|e| e.to_string())?;

    let started = Instant::now();
    let (mut ctx, outputs) = CommandContext::new().map_err(|e| format!("evcxr: {e}"))?;
    eprintln!("evcxr ready in {:.1?}", started.elapsed());
    // evcxr builds the cells, and memsim with its dependencies in the first one, at `:opt 2`
    // unless told otherwise: minutes of optimizing for cells that each run in milliseconds.
    // Their outputs do not depend on it. MEMSIM_EVCXR_OPT=2 runs them as a kernel does by default.
    let opt = std::env::var("MEMSIM_EVCXR_OPT").unwrap_or_else(|_| "0".to_owned());
    ctx.set_opt_level(&opt)
        .map_err(|e| format!("evcxr :opt {opt}: {e}"))?;
    // `execute` returns only once its printed lines have been taken from the channel: they
    // must be read while it runs.
    let stdout_lines = collect(outputs.stdout);
    let stderr_lines = collect(outputs.stderr);

    let cells = nb["cells"]
        .as_array_mut()
        .ok_or("the notebook has no cells")?;
    let mut count = 0u64;
    let mut failures = Vec::new();
    for (i, cell) in cells.iter_mut().enumerate() {
        if cell["cell_type"] != "code" {
            continue;
        }
        count += 1;
        let src = source_of(cell);
        let t = Instant::now();
        let result = ctx.execute(&src);
        let stdout = std::mem::take(&mut *lock(&stdout_lines));
        let stderr = std::mem::take(&mut *lock(&stderr_lines));
        eprintln!("cell {count} ran in {:.1?}", t.elapsed());
        let out = match result {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("cell {count} (#{i}) failed: {e}\n{stderr}"));
                continue;
            }
        };
        let bundle: BTreeMap<String, String> = out.content_by_mime_type.into_iter().collect();
        let run = CellRun {
            outputs: nb_outputs(&stdout, &bundle, count),
            bundle,
            stdout,
        };
        if let Err(e) = check(cell, &run) {
            failures.push(format!("cell {count} (#{i}): {e}"));
        }
        let outputs = Value::Array(run.outputs);
        if mode == Mode::Check && cell["outputs"] != outputs {
            failures.push(format!(
                "cell {count} (#{i}): its saved outputs are not what it shows now \
                 (run with --write to save them)\n{}",
                first_difference(&cell["outputs"], &outputs)
            ));
        }
        cell["execution_count"] = json!(count);
        cell["outputs"] = outputs;
    }
    eprintln!("{count} cells in {:.1?}", started.elapsed());
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    if mode == Mode::Write {
        let mut s = serde_json::to_string_pretty(&nb).map_err(|e| e.to_string())?;
        s.push('\n');
        std::fs::write(&nb_path, s).map_err(|e| e.to_string())?;
        eprintln!("wrote the outputs into {}", nb_path.display());
    }
    println!("{count} passed, 0 failed");
    Ok(())
}

/// Lines read from a channel as they come, each with its newline.
type Lines = Arc<Mutex<String>>;

fn lock(lines: &Lines) -> MutexGuard<'_, String> {
    lines.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads a channel of printed lines on a thread of its own. A line is taken and stored under
/// the lock, so once `execute` has seen the channel empty, every line is in the buffer.
fn collect(rx: Receiver<String>) -> Lines {
    let lines = Lines::default();
    let buf = Arc::clone(&lines);
    std::thread::spawn(move || loop {
        let mut out = lock(&buf);
        match rx.try_recv() {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(e) if e.is_disconnected() => break,
            Err(_) => {
                drop(out);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    lines
}

/// The first line where the saved outputs and the new ones part, with both versions.
fn first_difference(saved: &Value, now: &Value) -> String {
    let saved = serde_json::to_string_pretty(saved).unwrap_or_default();
    let now = serde_json::to_string_pretty(now).unwrap_or_default();
    let (mut a, mut b) = (saved.lines(), now.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => break,
            (x, y) => {
                return format!(
                    "  line {n} of the outputs' JSON\n  saved: {}\n  now:   {}",
                    x.unwrap_or("(end)"),
                    y.unwrap_or("(end)")
                )
            }
        }
    }
    String::from("  (the same JSON text)")
}

fn source_of(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// nbformat's multi-line strings: a list of lines, each with its newline.
fn lines(s: &str) -> Value {
    Value::Array(s.split_inclusive('\n').map(|l| json!(l)).collect())
}

/// What evcxr_jupyter would save: the cell's printed text as a stream, then its value's
/// bundle as the execution result.
fn nb_outputs(stdout: &str, bundle: &BTreeMap<String, String>, count: u64) -> Vec<Value> {
    let mut outs = Vec::new();
    if !stdout.is_empty() {
        outs.push(json!({ "name": "stdout", "output_type": "stream", "text": lines(stdout) }));
    }
    if !bundle.is_empty() {
        let data: Map<String, Value> = bundle.iter().map(|(k, v)| (k.clone(), lines(v))).collect();
        outs.push(json!({
            "data": data,
            "execution_count": count,
            "metadata": {},
            "output_type": "execute_result",
        }));
    }
    outs
}

/// The cell's `memsim_test` metadata: `mime` (types its value must show) and `contains` (text
/// that must be in its outputs, value or printed).
fn check(cell: &Value, run: &CellRun) -> Result<(), String> {
    let want = &cell["metadata"]["memsim_test"];
    for m in want["mime"].as_array().into_iter().flatten() {
        let m = m.as_str().unwrap_or_default();
        if !run.bundle.contains_key(m) {
            let got: Vec<&String> = run.bundle.keys().collect();
            return Err(format!(
                "no {m} output (got {got:?}, printed {:?})",
                run.stdout
            ));
        }
    }
    for c in want["contains"].as_array().into_iter().flatten() {
        let c = c.as_str().unwrap_or_default();
        if !run.stdout.contains(c) && !run.bundle.values().any(|v| v.contains(c)) {
            return Err(format!(
                "no `{c}` in its outputs (printed {:?})",
                run.stdout
            ));
        }
    }
    Ok(())
}

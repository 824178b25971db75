//! What a notebook shows for a cell: turns statements and chunk results into Jupyter message
//! contents (`stream`, `display_data`, `execute_result`, `error`) as JSON. It knows memsim's
//! results and nothing of sockets.

use serde_json::{json, Map, Value};

use crate::render::{diag, html, mime, text};
use crate::session::{ChunkResult, Item, Output, Severity, Snapshot, Step};

/// Columns of diagnostics in tracebacks: notebook cells are about this wide.
const WIDTH: usize = 100;

/// One iopub message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    pub msg_type: &'static str,
    pub content: Value,
}

fn stream(name: &str, text: String) -> Out {
    Out {
        msg_type: "stream",
        content: json!({ "name": name, "text": text }),
    }
}

fn display(data: Map<String, Value>) -> Out {
    Out {
        msg_type: "display_data",
        content: json!({ "data": data, "metadata": {}, "transient": {} }),
    }
}

/// The bundle of a `show` (see [`mime::snapshot`]).
pub fn show(s: &Snapshot) -> Map<String, Value> {
    mime::snapshot(s)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect()
}

/// What one statement sends as soon as it has run: its trace (when `trace` is on and it did
/// something), then what it printed and showed, in order.
pub fn step(step: &Step, trace: bool) -> Vec<Out> {
    let mut outs = Vec::new();
    if trace && (step.events().next().is_some() || step.dropped > 0) {
        // The trace alone: prints and shows follow as messages of their own.
        let mut bare = step.clone();
        for run in &mut bare.runs {
            for part in &mut run.parts {
                part.items.retain(|it| matches!(it, Item::Event(_)));
            }
        }
        let plain = text::trace(&ChunkResult {
            steps: vec![bare.clone()],
            ..ChunkResult::default()
        });
        let mut data = Map::new();
        data.insert("text/plain".into(), plain.into());
        data.insert("text/html".into(), html::steps(&[bare]).into());
        outs.push(display(data));
    }
    let mut pending = String::new();
    for o in step.outputs() {
        match o {
            Output::Print { text } => {
                pending.push_str(text);
                pending.push('\n');
            }
            Output::Expect { passed: true, .. } if trace => {
                pending.push_str("expectation holds\n");
            }
            Output::Expect { .. } => {}
            Output::Show { snapshot } => {
                if !pending.is_empty() {
                    outs.push(stream("stdout", std::mem::take(&mut pending)));
                }
                outs.push(display(show(snapshot)));
            }
        }
    }
    if !pending.is_empty() {
        outs.push(stream("stdout", pending));
    }
    outs
}

/// Warnings of a chunk (leaks, heap findings that did not stop it), for stderr.
pub fn warnings(r: &ChunkResult) -> Option<Out> {
    let text: String = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| diag::render(&d.report, true, WIDTH))
        .collect();
    (!text.is_empty()).then(|| stream("stderr", text))
}

/// The value of a final bare expression, as `print` writes it.
pub fn value(r: &ChunkResult, execution_count: u64) -> Option<Out> {
    let v = r.value.as_ref()?;
    Some(Out {
        msg_type: "execute_result",
        content: json!({
            "execution_count": execution_count,
            "data": { "text/plain": v },
            "metadata": {},
            "transient": {},
        }),
    })
}

/// Why a cell failed, as Jupyter's `error` content (`ename`, `evalue`, `traceback`).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl Failure {
    pub fn content(&self) -> Value {
        json!({ "ename": self.ename, "evalue": self.evalue, "traceback": self.traceback })
    }
}

/// A cell that failed before it ran, with the report that says why.
pub fn report_failure(report: &miette::Report) -> Failure {
    let code = report.code().map(|c| c.to_string());
    Failure {
        ename: code.unwrap_or_else(|| "mem::error".into()),
        evalue: report.to_string(),
        traceback: diag::render(report, true, WIDTH)
            .lines()
            .map(str::to_string)
            .collect(),
    }
}

/// A cell fails on a static error, a failed `expect`, a runtime error (a limit, an interrupt)
/// or a process killed that no `expect` caught; the first error names the failure and every
/// error is in the traceback.
pub fn failure(r: &ChunkResult) -> Option<Failure> {
    if r.exit_code() == 0 {
        return None;
    }
    let errors: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let traceback: Vec<String> = errors
        .iter()
        .flat_map(|d| {
            diag::render(&d.report, true, WIDTH)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    Some(match errors.first() {
        Some(d) => Failure {
            ename: if d.code.is_empty() {
                "mem::error".into()
            } else {
                d.code.clone()
            },
            evalue: d.report.to_string(),
            traceback,
        },
        None => Failure {
            ename: "mem::error".into(),
            evalue: "the cell failed".into(),
            traceback,
        },
    })
}

//! Machine-readable reports of a run (`memsim run --format json|yaml`): their own types, the
//! schema documented in docs/report-schema.md, so that what a script reads changes only when
//! [`SCHEMA_VERSION`] does, not whenever the session's types do.

use serde::Serialize;

use super::report_items::{EventReport, ShowReport};
use crate::session::snapshot::{ProcRow, StatsSnap};
use crate::session::step::{Item, Part, Run};
use crate::session::{ChunkResult, Diag, Output, Severity, Step};

/// The version of the report schema. It grows when a field is renamed, removed or changes
/// meaning; new fields may appear without it changing.
pub const SCHEMA_VERSION: u32 = 1;

/// One file's run.
#[derive(Debug, Serialize)]
pub struct FileReport<'a> {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    pub file: &'a str,
    /// What `memsim run` exits with for this file.
    pub exit_code: i32,
    pub expectations: Expectations,
    pub steps: Vec<StepReport<'a>>,
    pub diagnostics: Vec<DiagReport>,
    pub stats: StatsReport,
}

#[derive(Debug, Serialize)]
pub struct Expectations {
    pub passed: usize,
    pub failed: usize,
}

/// One top-level statement.
#[derive(Debug, Serialize)]
pub struct StepReport<'a> {
    /// 1-based line of the statement.
    pub line: usize,
    pub source: &'a str,
    /// What happened, in order; a loop's identical iterations are one run with its count.
    pub runs: Vec<RunReport<'a>>,
    /// Events beyond the per-statement limit, counted but not kept.
    pub dropped: u64,
}

/// Parts that happened `times` times in a row.
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    pub times: u64,
    pub parts: Vec<PartReport<'a>>,
}

/// What one source line did.
#[derive(Debug, Serialize)]
pub struct PartReport<'a> {
    pub line: usize,
    pub source: &'a str,
    pub items: Vec<ItemReport<'a>>,
}

/// An event of the machine (an object with an `event` field) or an output of the scenario (an
/// object with a `kind` field).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ItemReport<'a> {
    Event(EventReport<'a>),
    Output(OutputReport<'a>),
}

/// What a statement printed, showed or expected.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutputReport<'a> {
    Print {
        text: &'a str,
    },
    /// A table, with a `show` field naming it (`maps`, `pagetable`, …).
    Show {
        snapshot: ShowReport<'a>,
    },
    Expect {
        passed: bool,
        text: &'a str,
    },
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityReport {
    Error,
    Warning,
}

#[derive(Debug, Serialize)]
pub struct DiagReport {
    pub severity: SeverityReport,
    /// The stable code, `mem::…`.
    pub code: String,
    pub message: String,
    pub line: Option<usize>,
    pub labels: Vec<String>,
    pub help: Option<String>,
}

/// The machine's counters at the end of the file, summed over its machines.
#[derive(Debug, Serialize)]
pub struct StatsReport {
    pub faults: u64,
    pub minor: u64,
    pub major: u64,
    pub segv: u64,
    pub sigbus: u64,
    pub accesses: u64,
    pub tlb_hits: u64,
    pub tlb_misses: u64,
    pub walks: u64,
    pub walk_refs: u64,
    pub evictions: u64,
    pub swap_ins: u64,
    pub swap_outs: u64,
    pub writebacks: u64,
    pub references: u64,
    pub hit_ratio: f64,
    pub stack_growths: u64,
    pub cow_copies: u64,
    pub frames_used: u64,
    pub frames_total: u64,
    pub per_process: Vec<ProcessReport>,
}

/// One process's counters.
#[derive(Debug, Serialize)]
pub struct ProcessReport {
    pub pid: u32,
    pub name: String,
    pub minor: u64,
    pub major: u64,
    pub segv: u64,
    pub rss: u64,
    pub vsz: u64,
    /// `running`, or how it died.
    pub state: String,
}

impl<'a> From<&'a Step> for StepReport<'a> {
    fn from(s: &'a Step) -> Self {
        StepReport {
            line: s.line,
            source: &s.source,
            runs: s.runs.iter().map(RunReport::from).collect(),
            dropped: s.dropped,
        }
    }
}

impl<'a> From<&'a Run> for RunReport<'a> {
    fn from(r: &'a Run) -> Self {
        RunReport {
            times: r.times,
            parts: r.parts.iter().map(PartReport::from).collect(),
        }
    }
}

impl<'a> From<&'a Part> for PartReport<'a> {
    fn from(p: &'a Part) -> Self {
        PartReport {
            line: p.line,
            source: &p.source,
            items: p.items.iter().map(ItemReport::from).collect(),
        }
    }
}

impl<'a> From<&'a Item> for ItemReport<'a> {
    fn from(i: &'a Item) -> Self {
        match i {
            Item::Event(e) => ItemReport::Event(e.into()),
            Item::Output(Output::Print { text }) => {
                ItemReport::Output(OutputReport::Print { text })
            }
            Item::Output(Output::Show { snapshot }) => ItemReport::Output(OutputReport::Show {
                snapshot: snapshot.into(),
            }),
            Item::Output(Output::Expect { passed, text }) => {
                ItemReport::Output(OutputReport::Expect {
                    passed: *passed,
                    text,
                })
            }
        }
    }
}

impl From<&Diag> for DiagReport {
    fn from(d: &Diag) -> Self {
        DiagReport {
            severity: match d.severity {
                Severity::Error => SeverityReport::Error,
                Severity::Warning => SeverityReport::Warning,
            },
            code: d.code.clone(),
            message: d.report.to_string(),
            line: d.line,
            labels: d
                .report
                .labels()
                .map(|l| l.filter_map(|l| l.label().map(str::to_string)).collect())
                .unwrap_or_default(),
            help: d.report.help().map(|h| h.to_string()),
        }
    }
}

impl From<&StatsSnap> for StatsReport {
    fn from(s: &StatsSnap) -> Self {
        StatsReport {
            faults: s.faults,
            minor: s.minor,
            major: s.major,
            segv: s.segv,
            sigbus: s.sigbus,
            accesses: s.accesses,
            tlb_hits: s.tlb_hits,
            tlb_misses: s.tlb_misses,
            walks: s.walks,
            walk_refs: s.walk_refs,
            evictions: s.evictions,
            swap_ins: s.swap_ins,
            swap_outs: s.swap_outs,
            writebacks: s.writebacks,
            references: s.references,
            hit_ratio: s.hit_ratio,
            stack_growths: s.stack_growths,
            cow_copies: s.cow_copies,
            frames_used: s.frames_used,
            frames_total: s.frames_total,
            per_process: s.per_process.iter().map(ProcessReport::from).collect(),
        }
    }
}

impl From<&ProcRow> for ProcessReport {
    fn from(p: &ProcRow) -> Self {
        ProcessReport {
            pid: p.pid,
            name: p.name.clone(),
            minor: p.minor,
            major: p.major,
            segv: p.segv,
            rss: p.rss,
            vsz: p.vsz,
            state: p.state.clone(),
        }
    }
}

pub fn file_report(r: &ChunkResult) -> FileReport<'_> {
    FileReport {
        version: SCHEMA_VERSION,
        file: &r.name,
        exit_code: r.exit_code(),
        expectations: Expectations {
            passed: r.expectations_passed,
            failed: r.expectations_failed,
        },
        steps: r.steps.iter().map(StepReport::from).collect(),
        diagnostics: r.diagnostics.iter().map(DiagReport::from).collect(),
        stats: StatsReport::from(&r.stats),
    }
}

/// Several files' reports as one JSON document: an array, one object per file.
pub fn json(results: &[ChunkResult]) -> String {
    let v: Vec<FileReport> = results.iter().map(file_report).collect();
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Several files' reports as one YAML document: a sequence, one mapping per file.
pub fn yaml(results: &[ChunkResult]) -> String {
    let v: Vec<FileReport> = results.iter().map(file_report).collect();
    serde_yaml::to_string(&v).unwrap_or_else(|e| format!("error: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Options, Session};

    #[test]
    fn every_report_carries_the_schema_version() {
        let mut s = Session::new(Options::default());
        let r = s.execute("t.mem", "let p = malloc(8)\nprint 1\nexpect 1 == 1\n");
        let v: serde_json::Value = serde_json::from_str(&json(&[r])).expect("JSON");
        assert_eq!(v[0]["version"], SCHEMA_VERSION);
        assert_eq!(
            v[0]["steps"][1]["runs"][0]["parts"][0]["items"][0]["kind"],
            "print"
        );
        assert_eq!(v[0]["stats"]["per_process"][0]["state"], "running");
    }
}

//! Machine-readable reports of a run (`memsim run --format json|yaml`).

use serde::Serialize;

use crate::session::snapshot::StatsSnap;
use crate::session::{ChunkResult, Severity, Step};

#[derive(Debug, Serialize)]
pub struct FileReport<'a> {
    pub file: &'a str,
    pub exit_code: i32,
    pub expectations: Expectations,
    pub steps: &'a [Step],
    pub diagnostics: Vec<DiagReport>,
    pub stats: &'a StatsSnap,
}

#[derive(Debug, Serialize)]
pub struct Expectations {
    pub passed: usize,
    pub failed: usize,
}

#[derive(Debug, Serialize)]
pub struct DiagReport {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub line: Option<usize>,
    pub labels: Vec<String>,
    pub help: Option<String>,
}

pub fn file_report(r: &ChunkResult) -> FileReport<'_> {
    FileReport {
        file: &r.name,
        exit_code: r.exit_code(),
        expectations: Expectations {
            passed: r.expectations_passed,
            failed: r.expectations_failed,
        },
        steps: &r.steps,
        diagnostics: r
            .diagnostics
            .iter()
            .map(|d| DiagReport {
                severity: d.severity,
                code: d.code.clone(),
                message: d.report.to_string(),
                line: d.line,
                labels: d
                    .report
                    .labels()
                    .map(|l| l.filter_map(|l| l.label().map(str::to_string)).collect())
                    .unwrap_or_default(),
                help: d.report.help().map(|h| h.to_string()),
            })
            .collect(),
        stats: &r.stats,
    }
}

/// Several files' reports as one JSON document.
pub fn json(results: &[ChunkResult]) -> String {
    let v: Vec<FileReport> = results.iter().map(file_report).collect();
    serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Several files' reports as one YAML document.
pub fn yaml(results: &[ChunkResult]) -> String {
    let v: Vec<FileReport> = results.iter().map(file_report).collect();
    serde_yaml::to_string(&v).unwrap_or_else(|e| format!("error: {e}\n"))
}

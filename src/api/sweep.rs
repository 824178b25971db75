//! [`Sweep`]: a table of results against settings, made by a `sweep` statement or by a Rust
//! loop, drawn with the same chart as a `sweep` in a notebook.

use std::fmt;

use crate::render::{html, svg, text};
use crate::session::snapshot::SweepRow;
use crate::session::Snapshot;

/// Rows of values against swept settings. A Rust loop over machines fills one to plot what a
/// `sweep` statement cannot express; [`crate::Report::sweeps`] hands back those a scenario made.
///
/// ```
/// use memsim::{Machine, Session, Sweep};
///
/// let mut sweep = Sweep::new(["memory"], ["faults"]);
/// for frames in 1..=4 {
///     let mut s = Session::new(Machine::profile("x86_64").memory_pages(frames));
///     let r = s.execute("refs 1 2 3 4 1 2 5 1 2 3 4 5\n");
///     sweep.push([format!("{frames} pages")], [r.stats().faults]);
/// }
/// assert_eq!(sweep.column("faults"), [12.0, 12.0, 10.0, 8.0]);
/// assert!(sweep.svg().unwrap().starts_with("<svg"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sweep {
    params: Vec<String>,
    columns: Vec<String>,
    rows: Vec<SweepRow>,
}

impl Sweep {
    /// An empty table: the swept settings' names (the chart's x axis is `memory` when it is
    /// one of them, else the last), then the reported values' names (one panel each).
    pub fn new<P, C>(params: P, columns: C) -> Sweep
    where
        P: IntoIterator,
        P::Item: fmt::Display,
        C: IntoIterator,
        C::Item: fmt::Display,
    {
        Sweep {
            params: params.into_iter().map(|p| p.to_string()).collect(),
            columns: columns.into_iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row: one value per setting, then one per reported value. A row of the wrong
    /// length is padded with empty cells or cut, so that the table stays rectangular.
    pub fn push<P, V>(&mut self, params: P, values: V) -> &mut Sweep
    where
        P: IntoIterator,
        P::Item: fmt::Display,
        V: IntoIterator,
        V::Item: fmt::Display,
    {
        let fit = |v: Vec<String>, n: usize| {
            let mut v = v;
            v.resize(n, String::new());
            v
        };
        self.rows.push(SweepRow {
            params: fit(
                params.into_iter().map(|p| p.to_string()).collect(),
                self.params.len(),
            ),
            values: fit(
                values.into_iter().map(|v| v.to_string()).collect(),
                self.columns.len(),
            ),
            note: String::new(),
        });
        self
    }

    /// The table of a `sweep` statement's snapshot; `None` for any other snapshot.
    pub fn from_snapshot(s: &Snapshot) -> Option<Sweep> {
        match s {
            Snapshot::Sweep {
                params,
                columns,
                rows,
            } => Some(Sweep {
                params: params.clone(),
                columns: columns.clone(),
                rows: rows.clone(),
            }),
            _ => None,
        }
    }

    pub fn params(&self) -> &[String] {
        &self.params
    }
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    pub fn rows(&self) -> &[SweepRow] {
        &self.rows
    }

    /// One reported value down the rows, as numbers (`NaN` where a run left no number).
    pub fn column(&self, name: &str) -> Vec<f64> {
        let Some(i) = self.columns.iter().position(|c| c == name) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .map(|r| svg::chart::number(&r.values[i]).unwrap_or(f64::NAN))
            .collect()
    }

    /// The table as the `sweep` statement's snapshot, for the renderers.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::Sweep {
            params: self.params.clone(),
            columns: self.columns.clone(),
            rows: self.rows.clone(),
        }
    }

    /// The line chart (`None` for an empty table).
    pub fn svg(&self) -> Option<String> {
        svg::chart::render(&self.params, &self.columns, &self.rows)
    }
    /// The HTML table.
    pub fn html(&self) -> String {
        html::snapshot(&self.snapshot())
    }
    /// The text table.
    pub fn text(&self) -> String {
        text::snapshot(&self.snapshot())
    }
}

impl fmt::Display for Sweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

//! Rich display in evcxr (Rust notebooks): evcxr calls a value's `evcxr_display` method and
//! reads MIME bundles from its standard output, each between `EVCXR_BEGIN_CONTENT TYPE` and
//! `EVCXR_END_CONTENT`. The bundles come from the same renderers as the Jupyter kernel's.

use std::io::Write;

use super::{Report, Sweep};
use crate::render::{html, mime, text};
use crate::session::Snapshot;

/// The text evcxr reads for a bundle, one block per MIME type.
pub fn evcxr_bundle(data: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (mime, content) in data {
        out.push_str("EVCXR_BEGIN_CONTENT ");
        out.push_str(mime);
        out.push('\n');
        out.push_str(content.trim_end_matches('\n'));
        out.push_str("\nEVCXR_END_CONTENT\n");
    }
    out
}

fn emit(data: &[(&str, String)]) {
    let mut out = std::io::stdout().lock();
    // A closed standard output leaves nothing to show the value on.
    let _ = out.write_all(evcxr_bundle(data).as_bytes());
    let _ = out.flush();
}

impl Report {
    /// The MIME bundle a notebook shows for this result: its text and its HTML (trace, every
    /// `show`'s table and picture, diagnostics, counters).
    pub fn mime_bundle(&self) -> Vec<(&'static str, String)> {
        vec![("text/plain", self.text()), ("text/html", self.html())]
    }
    /// Shows the result in evcxr.
    pub fn evcxr_display(&self) {
        emit(&self.mime_bundle());
    }
}

impl Snapshot {
    /// The MIME bundle a notebook shows for this snapshot: text, HTML, and SVG where there
    /// is a picture.
    pub fn mime_bundle(&self) -> Vec<(&'static str, String)> {
        mime::snapshot(self)
    }
    /// Shows the snapshot in evcxr, exactly as the Jupyter kernel shows a `show`.
    pub fn evcxr_display(&self) {
        emit(&self.mime_bundle());
    }
    /// The text table, as `memsim run` prints it.
    pub fn text(&self) -> String {
        text::snapshot(self)
    }
    /// The HTML table.
    pub fn html(&self) -> String {
        html::snapshot(self)
    }
    /// The picture, for the snapshots that have one (maps, frames, walk, heap, sweep).
    pub fn svg(&self) -> Option<String> {
        crate::render::svg::snapshot(self)
    }
}

impl Sweep {
    /// The MIME bundle: the text table, the chart with the table folded under it, the chart.
    pub fn mime_bundle(&self) -> Vec<(&'static str, String)> {
        mime::snapshot(&self.snapshot())
    }
    /// Shows the table and its chart in evcxr.
    pub fn evcxr_display(&self) {
        emit(&self.mime_bundle());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_is_one_block_per_type() {
        let b = evcxr_bundle(&[("text/plain", "a\nb\n".into()), ("text/html", "<p>".into())]);
        assert_eq!(
            b,
            "EVCXR_BEGIN_CONTENT text/plain\na\nb\nEVCXR_END_CONTENT\n\
             EVCXR_BEGIN_CONTENT text/html\n<p>\nEVCXR_END_CONTENT\n"
        );
    }

    #[test]
    fn a_sweep_shows_a_chart() {
        let mut s = Sweep::new(["memory"], ["faults"]);
        s.push(["1 pages"], [3]).push(["2 pages"], [2]);
        let b = s.mime_bundle();
        let types: Vec<&str> = b.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, ["text/plain", "text/html", "image/svg+xml"]);
        assert!(b[1].1.contains("<svg"));
    }
}

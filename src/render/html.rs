//! HTML fragments for notebooks and reports. PROVISIONAL: minimal stand-ins (preformatted
//! text) so that the Jupyter kernel builds; the real tables replace this file.

use crate::render::text;
use crate::session::{ChunkResult, Snapshot, Step};

/// `text` with `&`, `<`, `>` and `"` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A `show` as HTML.
pub fn snapshot(s: &Snapshot) -> String {
    format!("<pre>{}</pre>", escape(&text::snapshot(s)))
}

/// The per-statement trace as HTML.
pub fn steps(steps: &[Step]) -> String {
    let r = ChunkResult {
        steps: steps.to_vec(),
        ..ChunkResult::default()
    };
    format!("<pre>{}</pre>", escape(&text::trace(&r)))
}

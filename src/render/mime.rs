//! Rich-output bundles (MIME type → content) for notebook front ends: the Jupyter kernel and
//! evcxr show the same tables and pictures.

use super::{html, svg, text};
use crate::session::Snapshot;

/// The bundle of a `show`: the text the CLI prints, an HTML table, and a picture where one
/// says more.
///
/// Front ends show the richest kind they rank highest, and JupyterLab, Notebook, VS Code and
/// nbconvert all rank HTML above SVG: so where there is a picture, the HTML holds it too, with
/// the table folded beneath it.
pub fn snapshot(s: &Snapshot) -> Vec<(&'static str, String)> {
    let mut data = vec![("text/plain", text::snapshot(s))];
    let table = html::snapshot(s);
    match svg::snapshot(s) {
        Some(picture) => {
            data.push((
                "text/html",
                format!(
                    "<div class=\"memsim-show\">{picture}<details><summary>as a table</summary>{table}</details></div>"
                ),
            ));
            data.push(("image/svg+xml", picture));
        }
        None => data.push(("text/html", table)),
    }
    data
}

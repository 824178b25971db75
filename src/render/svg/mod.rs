//! SVG pictures of snapshots. PROVISIONAL: a stand-in that draws the text view in a frame, for
//! the targets that will have a real picture, so that the Jupyter kernel's `image/svg+xml`
//! path builds and is tested; the real renderers replace this module.

use crate::render::text;
use crate::session::Snapshot;

/// A picture of a `show`, for the targets that have one.
pub fn snapshot(s: &Snapshot) -> Option<String> {
    let title = match s {
        Snapshot::Maps { .. } => "address space",
        Snapshot::Frames { .. } => "physical frames",
        Snapshot::Walk(_) => "page-table walk",
        Snapshot::Heap { .. } => "heap",
        Snapshot::Sweep { .. } => "sweep",
        _ => return None,
    };
    let body = text::snapshot(s);
    let lines: Vec<&str> = body.lines().collect();
    let width = 8 * lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) + 16;
    let height = 16 * lines.len() + 16;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"monospace\" font-size=\"13\">\n<title>{title}</title>\n"
    );
    for (i, l) in lines.iter().enumerate() {
        let l = l
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        out.push_str(&format!(
            "<text x=\"8\" y=\"{}\" fill=\"currentColor\" xml:space=\"preserve\">{l}</text>\n",
            16 * i + 20
        ));
    }
    out.push_str("</svg>\n");
    Some(out)
}

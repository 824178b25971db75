//! Diagnostics as text: miette's graphical report, with or without colour, at a given width.

use miette::{GraphicalReportHandler, GraphicalTheme, Report};

/// Renders one diagnostic. Tests use `color = false` and width 80 so snapshots are stable.
pub fn render(report: &Report, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        out = format!("{report}\n");
    }
    out
}

//! Diagnostics as text: miette's graphical report, with or without colour, at a given width.
//!
//! miette draws a snippet of the source under each report. Two kinds of source would make it
//! draw nonsense or panic, so the snippet is taken from a window of the source instead: a line
//! of tens of thousands of columns (its underline offsets overflow a format width) is clipped
//! to the stretches around the labels, and a lone carriage return, which the parser counts as a
//! line end but miette would print raw inside one long line, becomes a new line. The header
//! still gives the real line and column.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, Report, Severity, SourceCode, SourceSpan, SpanContents,
};

/// Lines longer than this many bytes are shown as a window around their labels.
const LONG_LINE: usize = 200;
/// How much of a long line is kept on each side of a label's start and of its end.
const KEEP: usize = 40;
/// What stands for the clipped part of a line.
const ELLIPSIS: &str = "…";

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
    let drawn = match Windowed::new(report.as_ref()) {
        Some(w) => handler.render_report(&mut out, &w),
        None => handler.render_report(&mut out, report.as_ref()),
    };
    if drawn.is_err() {
        out = format!("{report}\n");
    }
    out
}

/// A diagnostic shown over a window of its source, with its labels moved to match.
struct Windowed<'a> {
    inner: &'a dyn Diagnostic,
    window: Window,
    labels: Vec<LabeledSpan>,
}

/// The part of a source around a diagnostic's labels, as drawn: long lines clipped, lone
/// carriage returns turned into new lines.
struct Window {
    name: Option<String>,
    text: String,
    /// The 0-based line of the window's first line in the real source.
    first_line: usize,
    /// Where each of the window's lines starts in the real source, relative to `base`.
    line_starts: Vec<usize>,
    /// Kept stretches: (start, end) relative to the window's start in the real source, and
    /// where the stretch starts in `text`. In order; an ellipsis stands in each gap.
    kept: Vec<(usize, usize, usize)>,
    /// The real source offset of the window's start.
    base: usize,
}

impl<'a> Windowed<'a> {
    /// `None` when miette can draw the source as it is.
    fn new(inner: &'a dyn Diagnostic) -> Option<Self> {
        let source = inner.source_code()?;
        let labels: Vec<LabeledSpan> = inner.labels()?.collect();
        let lo = labels.iter().map(LabeledSpan::offset).min()?;
        let hi = labels.iter().map(|l| l.offset() + l.len()).max()?;
        let context = source.read_span(&(lo, hi - lo).into(), 1, 1).ok()?;
        let text = std::str::from_utf8(context.data()).ok()?;
        let base = context.span().offset();
        let lines = split_lines(text);
        let lone_cr = lines.iter().any(|l| &text[l.1..l.2] == "\r");
        if !lone_cr && lines.iter().all(|l| l.1 - l.0 <= LONG_LINE) {
            return None;
        }
        // Label edges relative to the window.
        let edges: Vec<usize> = labels
            .iter()
            .flat_map(|l| [l.offset(), l.offset() + l.len()])
            .filter_map(|o| o.checked_sub(base))
            .collect();
        let mut window = Window {
            name: context.name().map(str::to_string),
            text: String::with_capacity(text.len().min(64 * 1024)),
            first_line: context.line(),
            line_starts: Vec::with_capacity(lines.len()),
            kept: Vec::new(),
            base,
        };
        for &(start, end, term_end) in &lines {
            window.line_starts.push(start);
            let keep = if end - start > LONG_LINE {
                keep_around(text, start, end, &edges)
            } else {
                vec![(start, end)]
            };
            let mut at = start;
            for (a, b) in keep {
                if a > at {
                    window.text.push_str(ELLIPSIS);
                }
                window.kept.push((a, b, window.text.len()));
                window.text.push_str(&text[a..b]);
                at = b;
            }
            if at < end {
                window.text.push_str(ELLIPSIS);
            }
            if term_end > end {
                window.kept.push((end, term_end, window.text.len()));
                // A lone `\r` ends a line for the parser; miette only knows `\n` and `\r\n`.
                window.text.push_str(match &text[end..term_end] {
                    "\r" => "\n",
                    t => t,
                });
            }
        }
        let labels = labels
            .iter()
            .map(|l| {
                let start = window.map(l.offset(), false);
                let end = window.map(l.offset() + l.len(), true).max(start);
                let text = l.label().map(str::to_string);
                if l.primary() {
                    LabeledSpan::new_primary_with_span(text, (start, end - start))
                } else {
                    LabeledSpan::new_with_span(text, (start, end - start))
                }
            })
            .collect();
        Some(Windowed {
            inner,
            window,
            labels,
        })
    }
}

/// Each line of `text` as (start, end of its content, end of its terminator), split where the
/// parser splits: at `\n`, `\r\n` and a lone `\r`.
fn split_lines(text: &str) -> Vec<(usize, usize, usize)> {
    let b = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                lines.push((start, i, i + 1));
                start = i + 1;
            }
            b'\r' => {
                let len = if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                lines.push((start, i, i + len));
                start = i + len;
                i += len - 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < b.len() || lines.is_empty() {
        lines.push((start, b.len(), b.len()));
    }
    lines
}

/// The stretches of a long line `start..end` to show: `KEEP` bytes either side of each label
/// edge on it, or its beginning when no label starts or ends on it; merged, in order, on
/// character boundaries.
fn keep_around(text: &str, start: usize, end: usize, edges: &[usize]) -> Vec<(usize, usize)> {
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let ceil = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    let mut spans: Vec<(usize, usize)> = edges
        .iter()
        .filter(|&&e| (start..=end).contains(&e))
        .map(|&e| {
            (
                floor(e.saturating_sub(KEEP).max(start)),
                ceil((e + KEEP).min(end)),
            )
        })
        .collect();
    if spans.is_empty() {
        spans.push((start, ceil(start + 2 * KEEP)));
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

impl Window {
    /// Where the real source offset `offset` is drawn. An offset in a clipped stretch is drawn
    /// at the ellipsis: at its start for a label's start, at its end for a label's end.
    fn map(&self, offset: usize, is_end: bool) -> usize {
        let Some(rel) = offset.checked_sub(self.base) else {
            return 0;
        };
        let mut prev_end = 0;
        for &(a, b, at) in &self.kept {
            if rel < a {
                return if is_end || prev_end == at {
                    at
                } else {
                    at - ELLIPSIS.len()
                };
            }
            if rel <= b {
                return at + (rel - a);
            }
            prev_end = at + (b - a);
        }
        self.text.len()
    }

    /// The real source offset (relative to the window's start) of a drawn offset.
    fn unmap(&self, drawn: usize) -> usize {
        for &(a, b, at) in &self.kept {
            if drawn < at {
                return a;
            }
            if drawn <= at + (b - a) {
                return a + (drawn - at);
            }
        }
        self.kept.last().map_or(0, |k| k.1)
    }
}

impl SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let c = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let column = if context_lines_before == 0 {
            let line_start = self.line_starts.get(c.line()).copied().unwrap_or(0);
            self.unmap(span.offset()).saturating_sub(line_start)
        } else {
            c.column()
        };
        let line = self.first_line + c.line();
        let (data, at, count) = (c.data(), *c.span(), c.line_count());
        Ok(Box::new(match &self.name {
            Some(name) => {
                MietteSpanContents::new_named(name.clone(), data, at, line, column, count)
            }
            None => MietteSpanContents::new(data, at, line, column, count),
        }))
    }
}

impl fmt::Debug for Windowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for Windowed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for Windowed<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for Windowed<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.help()
    }
    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.url()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.window)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.inner.diagnostic_source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::NamedSource;

    #[derive(Debug, thiserror::Error, Diagnostic)]
    #[error("bad")]
    #[diagnostic(code(test::bad))]
    struct Bad {
        #[source_code]
        src: NamedSource<String>,
        #[label("here")]
        at: SourceSpan,
    }

    fn draw(text: &str, at: usize, len: usize) -> String {
        let r = Report::new(Bad {
            src: NamedSource::new("f.mem", text.to_string()),
            at: (at, len).into(),
        });
        render(&r, false, 80)
    }

    #[test]
    fn a_far_column_is_drawn_clipped_with_its_real_position() {
        let text = format!("print 1\n{}@\nprint 2\n", " ".repeat(70_000));
        let out = draw(&text, 8 + 70_000, 1);
        assert!(out.contains("[f.mem:2:70001]"), "{out}");
        assert!(out.contains("…"), "{out}");
        assert!(out.lines().all(|l| l.len() < 200), "{out}");
    }

    #[test]
    fn a_label_over_a_long_stretch_keeps_both_ends() {
        let text = format!("x = \"{}\"\n", "a".repeat(100_000));
        let out = draw(&text, 4, 100_002);
        assert!(out.contains("[f.mem:1:5]"), "{out}");
        assert!(out.lines().all(|l| l.len() < 300), "{out}");
    }

    #[test]
    fn lone_carriage_returns_end_lines_as_the_parser_says() {
        let out = draw("print 1\rprint 2\rprint q\rprint 4\r", 22, 1);
        assert!(!out.contains('\r'), "{out:?}");
        assert!(out.contains("[f.mem:3:7]"), "{out}");
        assert!(out.contains(" 3 │ print q"), "{out}");
        assert!(out.contains(" 2 │ print 2"), "{out}");
    }

    #[test]
    fn ordinary_sources_are_drawn_as_miette_draws_them() {
        let text = "print 1\nprint q\n";
        let r = Report::new(Bad {
            src: NamedSource::new("f.mem", text.to_string()),
            at: (14, 1).into(),
        });
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(80)
            .with_links(false);
        let mut plain = String::new();
        handler.render_report(&mut plain, r.as_ref()).unwrap();
        assert_eq!(render(&r, false, 80), plain);
    }
}

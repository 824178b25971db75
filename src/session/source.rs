//! A chunk's source for diagnostics when the chunk is part of a longer text (a script piped
//! into the REPL): its lines are numbered as in that text, not from 1.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

#[derive(Debug, Clone)]
pub struct LinedSource {
    name: String,
    src: String,
    /// The 1-based line of the whole text the chunk starts on.
    first_line: usize,
}

impl LinedSource {
    pub fn new(name: &str, src: &str, first_line: usize) -> Self {
        LinedSource {
            name: name.to_string(),
            src: src.to_string(),
            first_line: first_line.max(1),
        }
    }
}

impl SourceCode for LinedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let c = self.src.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            *c.span(),
            c.line() + self.first_line - 1,
            c.column(),
            c.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_the_first_line() {
        let s = LinedSource::new("<stdin>", "let a = 1\nlet b = z\n", 7);
        let c = s.read_span(&SourceSpan::from(18..19), 0, 0).unwrap();
        assert_eq!(c.line(), 7);
        assert_eq!(c.name(), Some("<stdin>"));
    }
}

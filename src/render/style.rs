//! Colour for terminal output, in one place: plain ANSI escapes, used only when the front end
//! says the output is a colour terminal (never in snapshots, files or pipes).

/// What a piece of output is, as far as colour goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A minor page fault: handled quietly, but worth seeing.
    Minor,
    /// A major fault: the page had to be read.
    Major,
    /// A signal or a death: SIGSEGV, abort, the OOM killer, an exit by signal.
    Signal,
    Passed,
    Failed,
    /// The line numbers and sources that head each part of a trace.
    Line,
}

impl Tone {
    fn code(self) -> &'static str {
        match self {
            Tone::Minor => "33",
            Tone::Major => "35",
            Tone::Signal => "1;31",
            Tone::Passed => "32",
            Tone::Failed => "1;31",
            Tone::Line => "2",
        }
    }
}

/// `text` in `tone` when `on`, unchanged otherwise.
pub fn paint(on: bool, tone: Tone, text: &str) -> String {
    if on && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", tone.code())
    } else {
        text.to_string()
    }
}

/// Whether to colour a stream: `--color always` or `never` decide; otherwise only a terminal,
/// and not when `NO_COLOR` is set (<https://no-color.org>).
pub fn wanted(choice: Option<bool>, is_terminal: bool) -> bool {
    match choice {
        Some(on) => on,
        None => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_wraps_only_when_on() {
        assert_eq!(paint(false, Tone::Failed, "x"), "x");
        assert_eq!(paint(true, Tone::Passed, "ok"), "\x1b[32mok\x1b[0m");
        assert!(wanted(Some(true), false));
        assert!(!wanted(Some(false), true));
        assert!(!wanted(None, false));
    }
}

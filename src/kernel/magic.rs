//! Line magics: kernel settings written in a cell, as IPython writes them (`%trace off`). They
//! are lines of their own at the top of a cell; the rest of the cell is `.mem` code.

/// What a cell's magic lines ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Magic {
    /// `%trace on` or `%trace off`: show or hide what each statement did.
    Trace(bool),
    /// `%trace` alone: say whether the trace is on.
    TraceStatus,
}

/// A magic line that is not one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMagic {
    /// The line, without its `%`.
    pub line: String,
    /// Its byte offset in the cell.
    pub at: usize,
}

/// The magics of a cell, in order, and its code with each magic line blanked (kept as an
/// empty line, so that the code's line numbers stay those of the cell).
pub fn split(cell: &str) -> Result<(Vec<Magic>, String), BadMagic> {
    let mut magics = Vec::new();
    let mut code = String::with_capacity(cell.len());
    let mut at = 0;
    let mut in_code = false;
    for line in cell.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let t = body.trim();
        if !in_code && t.starts_with('%') {
            let words: Vec<&str> = t[1..].split_whitespace().collect();
            let magic = match words.as_slice() {
                ["trace"] => Magic::TraceStatus,
                ["trace", "on"] => Magic::Trace(true),
                ["trace", "off"] => Magic::Trace(false),
                _ => {
                    return Err(BadMagic {
                        line: t[1..].to_string(),
                        at: at + (body.len() - body.trim_start().len()),
                    })
                }
            };
            magics.push(magic);
            code.push_str(&line[body.len()..]);
        } else {
            // Magics come first: a `%` after code is the code's own (an error there).
            if !t.is_empty() && !t.starts_with('#') {
                in_code = true;
            }
            code.push_str(line);
        }
        at += line.len();
    }
    Ok((magics, code))
}

/// Completions on a magic line (`before` is the line up to the cursor): where the word
/// starts, and its completions. `None` if the line is not a magic.
pub fn complete(before: &str) -> Option<(usize, Vec<String>)> {
    let t = before.trim_start();
    if !t.starts_with('%') {
        return None;
    }
    let indent = before.len() - t.len();
    let words = |start: usize, word: &str, names: &[&str]| {
        let m = names.iter().filter(|n| n.starts_with(word));
        (start, m.map(|n| n.to_string()).collect())
    };
    Some(match t.split_once(' ') {
        None => words(indent, t, &["%trace"]),
        Some(("%trace", arg)) => {
            let arg = arg.trim_start();
            words(before.len() - arg.len(), arg, &["off", "on"])
        }
        Some(_) => (before.len(), Vec::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics_are_lines_at_the_top() {
        let (m, code) = split("%trace off\nlet p = malloc(8)\n").unwrap();
        assert_eq!(m, [Magic::Trace(false)]);
        assert_eq!(code, "\nlet p = malloc(8)\n");
        let (m, code) = split("# quiet now\n  %trace  on \n%trace").unwrap();
        assert_eq!(m, [Magic::Trace(true), Magic::TraceStatus]);
        assert_eq!(code, "# quiet now\n\n");
        let (m, code) = split("let x = 7 % 3").unwrap();
        assert!(m.is_empty());
        assert_eq!(code, "let x = 7 % 3");
        let (m, _) = split("print 1\n%trace off").unwrap();
        assert!(m.is_empty(), "a magic after code is code");
    }

    #[test]
    fn magics_complete() {
        assert_eq!(complete("%tr"), Some((0, vec!["%trace".to_string()])));
        assert_eq!(
            complete("%trace o"),
            Some((7, vec!["off".to_string(), "on".to_string()]))
        );
        assert_eq!(complete("let x"), None);
    }

    #[test]
    fn unknown_magics_are_errors() {
        let e = split("\n  %time let x = 1").unwrap_err();
        assert_eq!(e.line, "time let x = 1");
        assert_eq!(e.at, 3);
        assert!(split("%trace maybe").is_err());
    }
}

//! Tab completion and hints. Every candidate comes from a table the rest of memsim uses: the
//! grammar's words, `check`'s builtins, `show` targets, special, region and statistics names,
//! machine settings, the built-in profiles, and the session's variables.

use std::path::Path;

use super::command::COMMANDS;
use super::help;
use super::input::{keywords, lex, region_kinds, reserved_words, type_names, Tok};
use crate::words::{
    self, Builtin, BUILTIN_NAMES, REGION_FIELDS, REGION_NAMES, SETTING_NAMES, SHOW_TARGETS,
    SPECIAL_NAMES, STAT_NAMES,
};

/// Completions of the word that ends at byte `pos` of `line`: where the word starts, and the
/// candidates that replace it, sorted. `vars` are the session's variable names.
pub fn complete(line: &str, pos: usize, vars: &[String]) -> (usize, Vec<String>) {
    let pos = floor_boundary(line, pos);
    let before = &line[..pos];
    if let Some(colon) = command_start(before) {
        return complete_command(before, colon);
    }
    // Inside a comment there is nothing to complete; inside a string, a file name (profiles,
    // traces, files to map).
    match lex(before).last() {
        Some(&(Tok::Comment, s, e)) if s < pos && e == pos => return (pos, Vec::new()),
        Some(&(Tok::Str, s, e)) if s < pos && e == pos => {
            let text = &before[s..e];
            let closed = text.len() > 1 && text.ends_with('"') && !text.ends_with("\\\"");
            if closed {
                return (pos, Vec::new());
            }
            return complete_file(before, s + 1, false);
        }
        _ => {}
    }
    let start = run_start(before, is_name_char);
    let word = &before[start..];
    // A number is not a name.
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        return (pos, Vec::new());
    }
    if before[..start].ends_with('.') {
        return complete_path(before, start);
    }
    let prev = previous_word(&before[..start]);
    let pool: Vec<String> = match prev {
        Some("show") => strings(&SHOW_TARGETS),
        Some("machine") => crate::profile::builtin_names().map(String::from).collect(),
        Some("replace") => words::policy_names().map(String::from).collect(),
        // `tlb 4 entries fifo`: a TLB replaces its entries with fewer policies than pages get.
        Some("entries") => crate::machine::config::TlbPolicy::ALL
            .iter()
            .map(|p| p.name().to_string())
            .collect(),
        Some("allocator") => words::allocator_names().map(String::from).collect(),
        Some("conventions") => crate::config::Conventions::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        Some("order") => crate::heap::FreeListOrder::ALL
            .iter()
            .map(|o| o.name().to_string())
            .collect(),
        _ => match enclosing_block(&before[..start]).as_deref() {
            Some("machine") if at_statement_start(&before[..start]) => strings(&SETTING_NAMES),
            Some("process") if at_statement_start(&before[..start]) => strings(region_kinds()),
            _ if before[..start].trim_end().ends_with([':', '*']) => {
                let mut t = strings(type_names());
                t.extend(vars.iter().cloned());
                t
            }
            // A statement starts with a reserved word or a name, never with a word like
            // `report` or `frame` that only means something inside another statement.
            _ if at_statement_start(&before[..start]) => {
                let mut pool = everything(vars);
                let reserved = reserved_words();
                pool.retain(|w| {
                    !keywords().contains(&w.as_str()) || reserved.contains(&w.as_str())
                });
                pool
            }
            _ => everything(vars),
        },
    };
    (start, filter(pool, word))
}

/// What a completion is, for editors that show it beside the word: `keyword`, `function`,
/// `type`, `name` (a region or a name the language answers), `statistic`, `setting`, `show`
/// target, `policy`, `allocator`, `profile`, `command`, or `variable`. A word that is several
/// (`machine` is a keyword and a `show` target) gets the first of these that fits.
pub fn kind(word: &str, vars: &[String]) -> &'static str {
    if vars.iter().any(|v| v == word) {
        "variable"
    } else if word.starts_with(':') {
        "command"
    } else if keywords().contains(&word) {
        "keyword"
    } else if Builtin::from_name(word).is_some() {
        "function"
    } else if type_names().contains(&word) {
        "type"
    } else if SPECIAL_NAMES.contains(&word) || REGION_NAMES.contains(&word) || word == "stats" {
        "name"
    } else if STAT_NAMES.contains(&word) {
        "statistic"
    } else if SETTING_NAMES.contains(&word) {
        "setting"
    } else if SHOW_TARGETS.contains(&word) {
        "show"
    } else if words::policy_names().any(|p| p == word) {
        "policy"
    } else if words::allocator_names().any(|a| a == word) {
        "allocator"
    } else if crate::profile::builtin_names().any(|p| p == word) {
        "profile"
    } else {
        "text"
    }
}

/// A builtin's usage line, as an editor shows it beside the completion (`malloc(n)`).
pub fn signature(word: &str) -> Option<&'static str> {
    Builtin::from_name(word).map(|b| b.spec().usage)
}

/// Everything a statement or an expression can start with.
fn everything(vars: &[String]) -> Vec<String> {
    let mut pool = strings(keywords());
    pool.extend(strings(&BUILTIN_NAMES));
    pool.extend(strings(&SPECIAL_NAMES));
    pool.extend(strings(&REGION_NAMES));
    pool.push("stats".into());
    pool.extend(vars.iter().cloned());
    pool
}

/// `stats.tlb.h` → `tlb.hits`; `heap.s` → `start`, `size`.
fn complete_path(before: &str, start: usize) -> (usize, Vec<String>) {
    let path_start = run_start(&before[..start], |c| is_name_char(c) || c == '.');
    let path = &before[path_start..];
    if let Some(rest) = path.strip_prefix("stats.") {
        let at = path_start + "stats.".len();
        return (at, filter(strings(&STAT_NAMES), rest));
    }
    let (head, word) = path.split_once('.').unwrap_or((path, ""));
    if REGION_NAMES.contains(&head) && !word.contains('.') {
        return (start, filter(strings(&REGION_FIELDS), word));
    }
    (before.len(), Vec::new())
}

/// The byte offset of the `:` when the input is a `:`-command.
fn command_start(before: &str) -> Option<usize> {
    let t = before.trim_start();
    t.starts_with(':').then(|| before.len() - t.len())
}

fn complete_command(before: &str, colon: usize) -> (usize, Vec<String>) {
    let text = &before[colon..];
    let Some(space) = text.find(char::is_whitespace) else {
        let names = COMMANDS.iter().map(|c| format!(":{}", c.name)).collect();
        return (colon, filter(names, text));
    };
    let name = &text[1..space];
    let arg_start = run_start(before, |c| !c.is_whitespace());
    let arg = &before[arg_start..];
    match name {
        "help" | "h" | "?" => (arg_start, filter(help::topic_names(), arg)),
        "trace" => (arg_start, filter(strings(&["on", "off"]), arg)),
        "load" | "save" => complete_file(before, arg_start, name == "load"),
        _ => (before.len(), Vec::new()),
    }
}

/// File names for `:load` and `:save`: folders (with a `/`) and, for `:load`, `.mem` files.
fn complete_file(before: &str, arg_start: usize, mem_only: bool) -> (usize, Vec<String>) {
    let arg = &before[arg_start..];
    let (dir, prefix, at) = match arg.rfind('/') {
        Some(i) => (&arg[..=i], &arg[i + 1..], arg_start + i + 1),
        None => ("", arg, arg_start),
    };
    let read = std::fs::read_dir(if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir)
    });
    let Ok(entries) = read else {
        return (at, Vec::new());
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            if e.path().is_dir() {
                Some(format!("{name}/"))
            } else if !mem_only || name.ends_with(".mem") {
                Some(name)
            } else {
                None
            }
        })
        .collect();
    out.sort();
    (at, out)
}

/// The last word before the cursor's word, when only spaces separate them.
fn previous_word(before: &str) -> Option<&str> {
    let t = before.trim_end_matches([' ', '\t']);
    if t.len() == before.len() && !before.is_empty() {
        return None;
    }
    let w = &t[run_start(t, is_name_char)..];
    (!w.is_empty()).then_some(w)
}

/// Whether the cursor's word begins a statement (start of input, after `{`, `;` or a new line).
fn at_statement_start(before: &str) -> bool {
    let t = before.trim_end_matches([' ', '\t']);
    t.is_empty() || t.ends_with(['{', ';', '\n'])
}

/// The first word of the statement that opened the innermost unclosed `{`: `machine` for a
/// cursor inside `machine x86_64 { … }`.
fn enclosing_block(before: &str) -> Option<String> {
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut head: Option<String> = None;
    let mut fresh = true;
    for (tok, s, e) in lex(before) {
        match tok {
            Tok::Word if fresh => {
                head = Some(before[s..e].to_string());
                fresh = false;
            }
            Tok::Punct('{') => {
                stack.push(head.take());
                fresh = true;
            }
            Tok::Punct('}') => {
                stack.pop();
                fresh = true;
            }
            Tok::Punct(';') => fresh = true,
            Tok::Space if before[s..e].contains('\n') => fresh = true,
            Tok::Comment | Tok::Space => {}
            _ => fresh = false,
        }
    }
    stack.pop().flatten()
}

/// What to show greyed after the cursor: the rest of a builtin's usage after `name(`, a
/// command's arguments, or the rest of the only completion.
pub fn hint(line: &str, pos: usize, vars: &[String]) -> Option<String> {
    if pos != line.len() || line.is_empty() {
        return None;
    }
    if let Some(colon) = command_start(line) {
        let text = &line[colon + 1..];
        let (name, rest) = text.split_once(' ').unwrap_or((text, ""));
        if rest.is_empty() {
            let matches: Vec<_> = COMMANDS
                .iter()
                .filter(|c| c.name.starts_with(name))
                .collect();
            if let [c] = matches[..] {
                let sep = if text.ends_with(' ') || c.args.is_empty() {
                    ""
                } else {
                    " "
                };
                let hint = format!("{}{sep}{}", &c.name[name.len()..], c.args);
                return (!hint.trim().is_empty()).then_some(hint);
            }
        }
        return None;
    }
    if let Some(open) = line.strip_suffix('(') {
        let name = &open[run_start(open, is_name_char)..];
        let usage = Builtin::from_name(name)?.spec().usage;
        return usage
            .split_once('(')
            .map(|(_, args)| args.to_string())
            .filter(|a| a != ")");
    }
    let (start, cands) = complete(line, pos, vars);
    let word = &line[start..];
    match &cands[..] {
        [only] if word.len() >= 2 && only.len() > word.len() => {
            Some(only[word.len()..].to_string())
        }
        _ => None,
    }
}

/// Where the run of characters satisfying `part` that ends at the end of `s` begins.
fn run_start(s: &str, part: impl Fn(char) -> bool) -> usize {
    s.char_indices()
        .rev()
        .find(|&(_, c)| !part(c))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn filter(mut pool: Vec<String>, prefix: &str) -> Vec<String> {
    pool.retain(|c| c.starts_with(prefix));
    pool.sort();
    pool.dedup();
    pool
}

fn floor_boundary(s: &str, pos: usize) -> usize {
    let mut p = pos.min(s.len());
    while !s.is_char_boundary(p) {
        p -= 1;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        complete(line, line.len(), &["ip".into(), "xs".into()]).1
    }

    #[test]
    fn contexts() {
        assert!(names("sh").contains(&"show".to_string()));
        assert_eq!(names("rep"), ["repeat"]);
        assert_eq!(
            names("sweep replace in [fifo] { refs 1 } rep"),
            ["repeat", "report"]
        );
        assert_eq!(names("show ma"), ["machine", "maps"]);
        assert_eq!(names("machine x86"), ["x86_64", "x86_64_la57"]);
        assert_eq!(names("print stats.tlb.h"), ["tlb.hits"]);
        assert_eq!(names("print heap.s"), ["size", "start"]);
        assert_eq!(names("let p: *in"), ["int"]);
        assert_eq!(names("machine {\n  page_"), ["page_size"]);
        assert_eq!(names("machine x86_64 { memory 1 MiB; sw"), ["swap"]);
        assert_eq!(names("process web {\n  bs"), ["bss"]);
        assert!(names("print i").contains(&"ip".to_string()));
        assert!(names("# show").is_empty());
        assert!(names("print \"zz-no-such-file").is_empty());
        assert_eq!(names("trace \"exampl"), ["examples/"]);
        assert!(names("trace \"examples/be").contains(&"belady.mem".to_string()));
        assert!(names("print \"done\"").is_empty());
        assert_eq!(names("machine { replace cl"), ["clock"]);
        assert_eq!(names("machine { tlb 4 entries l"), ["lru"]);
        assert_eq!(names("machine { tlb 4 entries "), ["fifo", "lru"]);
        assert_eq!(names("machine { allocator best"), ["best_fit"]);
        assert!(names("print 4").is_empty());
        assert_eq!(names(":tr"), [":trace"]);
        assert_eq!(names(":trace o"), ["off", "on"]);
        assert!(names(":help seg").contains(&"segfault".to_string()));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in "[a-z :.{}\"#(*é\u{3000}\n0-9]{0,24}", cut in 0usize..30) {
            let vars = ["x".to_string()];
            let _ = complete(&line, cut, &vars);
            let _ = hint(&line, cut.min(line.len()), &vars);
            let _ = super::super::input::highlight(&line);
            let _ = super::super::input::needs_more(&line);
        }
    }

    #[test]
    fn kinds() {
        let vars = ["ip".to_string()];
        assert_eq!(kind("ip", &vars), "variable");
        assert_eq!(kind("let", &vars), "keyword");
        assert_eq!(kind("malloc", &vars), "function");
        assert_eq!(kind("tlb.hits", &vars), "statistic");
        assert_eq!(kind("pagetable", &vars), "show");
        assert_eq!(kind("lru", &vars), "policy");
        assert_eq!(kind(":trace", &vars), "command");
        assert_eq!(signature("calloc"), Some("calloc(n, size)"));
    }

    #[test]
    fn hints() {
        assert_eq!(hint("let p = malloc(", 15, &[]).as_deref(), Some("n)"));
        assert_eq!(hint("fork(", 5, &[]), None);
        assert_eq!(hint(":sa", 3, &[]).as_deref(), Some("ve FILE"));
        assert_eq!(hint("getpages", 8, &[]).as_deref(), Some("ize"));
        assert_eq!(hint("x", 0, &[]), None);
    }
}

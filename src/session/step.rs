//! A statement's trace as data: what happened, in order, under the source line that did it,
//! with repetitions (a loop's identical iterations) folded into one run.

use super::Output;
use crate::events::Event;

/// One thing that happened: an event of the machine, or something the scenario printed,
/// showed or expected.
#[derive(Debug, Clone)]
pub enum Item {
    Event(Event),
    Output(Output),
}

impl Item {
    /// The same happening again: what lets a loop's repeated iterations fold.
    fn same(&self, other: &Item) -> bool {
        match (self, other) {
            (Item::Event(a), Item::Event(b)) => a == b,
            (Item::Output(Output::Print { text: a }), Item::Output(Output::Print { text: b })) => {
                a == b
            }
            (
                Item::Output(Output::Expect {
                    passed: a,
                    text: ta,
                }),
                Item::Output(Output::Expect {
                    passed: b,
                    text: tb,
                }),
            ) => a == b && ta == tb,
            // Tables are compared as the data they hold; a `show` in a loop is rare enough.
            (
                Item::Output(Output::Show { snapshot: a }),
                Item::Output(Output::Show { snapshot: b }),
            ) => format!("{a:?}") == format!("{b:?}"),
            _ => false,
        }
    }
}

/// What one source line did, in order.
#[derive(Debug, Clone)]
pub struct Part {
    /// 1-based line in the chunk's source.
    pub line: usize,
    /// That line's text, indentation kept.
    pub source: String,
    pub items: Vec<Item>,
}

/// Parts that happened `times` times in a row, identically: shown once.
#[derive(Debug, Clone)]
pub struct Run {
    pub times: u64,
    pub parts: Vec<Part>,
}

/// The longest sequence of happenings looked for as a repeating unit: a loop body that does
/// more than this many things per iteration is shown unfolded.
const MAX_PERIOD: usize = 16;

/// Turns a statement's happenings, each with the byte offset of the source that caused it,
/// into runs: repetitions folded, then consecutive happenings of one line grouped.
/// `offset` lines come before `src` in the text it is part of.
pub(super) fn fold(
    items: Vec<(usize, Item)>,
    src: &str,
    line_starts: &[usize],
    offset: usize,
) -> Vec<Run> {
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos) + offset;
    let items: Vec<(usize, Item)> = items.into_iter().map(|(p, i)| (line_of(p), i)).collect();
    let eq = |a: usize, b: usize| items[a].0 == items[b].0 && items[a].1.same(&items[b].1);
    let source = |line: usize| {
        let start = line_starts[line - offset - 1];
        abbreviate(without_comment(src[start..].lines().next().unwrap_or("")))
    };
    let mut runs: Vec<Run> = Vec::new();
    let mut loose: Vec<usize> = Vec::new();
    let flush_loose = |loose: &mut Vec<usize>, runs: &mut Vec<Run>, items: &[(usize, Item)]| {
        if loose.is_empty() {
            return;
        }
        runs.push(Run {
            times: 1,
            parts: group(loose.drain(..).map(|i| &items[i]), &source),
        });
    };
    let n = items.len();
    let mut i = 0;
    while i < n {
        // The period covering the most happenings from here, the shortest on a tie.
        let mut best = (0usize, 1u64);
        for k in 1..=MAX_PERIOD.min((n - i) / 2) {
            let mut reps = 1u64;
            let mut next = i + k;
            while next + k <= n && (0..k).all(|j| eq(i + j, next + j)) {
                reps += 1;
                next += k;
            }
            if reps > 1 && k as u64 * reps > best.0 as u64 * best.1 {
                best = (k, reps);
            }
        }
        let (k, reps) = best;
        if k == 0 {
            loose.push(i);
            i += 1;
            continue;
        }
        flush_loose(&mut loose, &mut runs, &items);
        runs.push(Run {
            times: reps,
            parts: group(items[i..i + k].iter(), &source),
        });
        i += k * reps as usize;
    }
    flush_loose(&mut loose, &mut runs, &items);
    runs
}

/// Consecutive happenings of one line, as parts.
fn group<'a>(
    items: impl Iterator<Item = &'a (usize, Item)>,
    source: &dyn Fn(usize) -> String,
) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for (line, item) in items {
        match parts.last_mut() {
            Some(p) if p.line == *line => p.items.push(item.clone()),
            _ => parts.push(Part {
                line: *line,
                source: source(*line),
                items: vec![item.clone()],
            }),
        }
    }
    parts
}

/// Source lines longer than this many characters are shown abbreviated in the trace.
pub const LONG_LINE: usize = 400;
/// How many characters of a long line the trace keeps.
const LONG_LINE_KEPT: usize = 160;

/// A source line as the trace shows it: whole, or for a line of more than [`LONG_LINE`]
/// characters (a reference string of a million numbers) its start and how much was left out,
/// so that the trace does not repeat the file's bulk data.
pub(super) fn abbreviate(line: &str) -> String {
    if line.chars().nth(LONG_LINE).is_none() {
        return line.to_string();
    }
    let keep = line
        .char_indices()
        .nth(LONG_LINE_KEPT)
        .map_or(line.len(), |(i, _)| i);
    // End at a space if there is one, so that no number is shown cut in two.
    let head = line[..keep]
        .rfind(' ')
        .map_or(&line[..keep], |i| &line[..i])
        .trim_end();
    let left = line[head.len()..].chars().count();
    format!("{head} … ({left} more characters)")
}

/// A source line without its trailing comment, as a statement's own text is shown.
fn without_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return line[..i].trim_end(),
            _ => {}
        }
    }
    line.trim_end()
}

/// Byte offsets at which each line of `src` starts.
/// Where each line starts; lines end where the parser ends them: at `\n`, `\r\n` or a lone `\r`.
pub(super) fn line_starts(src: &str) -> Vec<usize> {
    std::iter::once(0).chain(super::line_breaks(src)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(t: &str) -> Item {
        Item::Output(Output::Print { text: t.into() })
    }

    fn shape(runs: &[Run]) -> Vec<(u64, Vec<(usize, usize)>)> {
        runs.iter()
            .map(|r| {
                (
                    r.times,
                    r.parts.iter().map(|p| (p.line, p.items.len())).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_loop_body_of_two_lines_folds_into_one_run() {
        let src = "for i in 0..3 {\n  print 1\n  print 2\n}\n";
        let ls = line_starts(src);
        let mut items = Vec::new();
        for _ in 0..3 {
            items.push((18, print("1")));
            items.push((28, print("2")));
        }
        let runs = fold(items, src, &ls, 0);
        assert_eq!(shape(&runs), vec![(3, vec![(2, 1), (3, 1)])]);
        assert_eq!(runs[0].parts[0].source, "  print 1");
    }

    #[test]
    fn a_line_is_shown_without_its_comment_but_with_a_hash_in_a_string() {
        assert_eq!(without_comment("  p[0] = 1   # why"), "  p[0] = 1");
        assert_eq!(without_comment("print \"#1\" # n"), "print \"#1\"");
        assert_eq!(without_comment(r##"print "\"#" # n"##), r##"print "\"#""##);
    }

    #[test]
    fn different_happenings_stay_in_order_grouped_by_line() {
        let src = "a\nb\n";
        let items = vec![
            (0, print("x")),
            (0, print("y")),
            (2, print("z")),
            (0, print("w")),
        ];
        let runs = fold(items, src, &line_starts(src), 0);
        assert_eq!(shape(&runs), vec![(1, vec![(1, 2), (2, 1), (1, 1)])]);
    }

    #[test]
    fn a_repetition_after_a_different_start_folds_from_where_it_begins() {
        let src = "a\n";
        let items = vec![(0, print("first")), (0, print("x")), (0, print("x"))];
        let runs = fold(items, src, &line_starts(src), 0);
        assert_eq!(shape(&runs), vec![(1, vec![(1, 1)]), (2, vec![(1, 1)])]);
    }

    #[test]
    fn long_lines_are_abbreviated_at_a_space() {
        let short = format!("refs {}", "1 ".repeat(150));
        assert_eq!(abbreviate(short.trim_end()), short.trim_end());
        let long = format!("refs {}", "12 ".repeat(1000))
            .trim_end()
            .to_string();
        let a = abbreviate(&long);
        assert!(a.starts_with("refs 12 12"), "{a}");
        let (head, tail) = a.split_once(" … (").expect("abbreviated");
        assert!(head.len() <= LONG_LINE_KEPT && head.ends_with("12"), "{a}");
        assert_eq!(
            tail,
            format!("{} more characters)", long.len() - head.len())
        );
    }
}

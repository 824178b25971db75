//! "Did you mean …?": the closest known name to a misspelt one, for every stage's diagnostics.

/// How far a misspelling may be from what was meant. Each stage asks with the reach its
/// words need: names in a program are typed, so a typo is a few edits; profile and setting
/// names are often cut short; the parser's words are short, so at most the edits it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A typo in a name: one edit for three to five letters, two for longer names, none for
    /// one- and two-letter names (any of those is one edit from another).
    Typo,
    /// A name cut short or mistyped, in any case: the shortest candidate the word begins
    /// (`x86` → `x86_64`), else the nearest within a third of the word's length (at least two
    /// edits).
    Loose,
    /// At most this many edits (one for words of three letters or fewer), for words of 2 to 40
    /// bytes; ties go to the first candidate.
    Edits(usize),
}

/// The candidate closest to `word` within `reach`, never `word` itself (though `Loose` answers
/// `lru` to `LRU`). Distance is the
/// optimal string alignment distance: Levenshtein plus adjacent transpositions, the commonest
/// typing slip (`lur` for `lru`).
pub fn did_you_mean<'a, I>(word: &str, candidates: I, reach: Reach) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let nearest = |word: &str, limit: usize, candidates: Vec<&'a str>| {
        candidates
            .into_iter()
            .filter(|&c| c != word || reach == Reach::Loose)
            .map(|c| (strsim::osa_distance(word, c), c))
            .filter(|&(d, _)| d <= limit)
            .min_by_key(|&(d, _)| d)
            .map(|(_, c)| c)
    };
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    match reach {
        Reach::Typo => {
            let limit = match word.chars().count() {
                0..=2 => return None,
                3..=5 => 1,
                _ => 2,
            };
            nearest(word, limit, candidates)
        }
        Reach::Loose => {
            let word = word.to_lowercase();
            if word.len() >= 2 {
                let prefixed = candidates
                    .iter()
                    .filter(|c| c.starts_with(&word) && c.len() > word.len())
                    .min_by_key(|c| c.len());
                if let Some(c) = prefixed {
                    return Some(c);
                }
            }
            let limit = (word.chars().count() / 3).max(2);
            nearest(&word, limit, candidates)
        }
        Reach::Edits(max) => {
            if word.len() < 2 || word.len() > 40 {
                return None;
            }
            let limit = if word.len() <= 3 { max.min(1) } else { max };
            nearest(word, limit, candidates)
        }
    }
}

/// `a, b, c or d`: a list as a help line reads it.
pub fn or_list<'a, I>(items: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    join_last(items, " or ")
}

/// `a, b, c and d`.
pub fn and_list<'a, I>(items: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    join_last(items, " and ")
}

fn join_last<'a, I>(items: I, last: &str) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let items: Vec<&str> = items.into_iter().collect();
    match items.split_last() {
        None => String::new(),
        Some((only, [])) => (*only).to_string(),
        Some((tail, init)) => format!("{}{last}{tail}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let loose = |w, c: &[&'static str]| did_you_mean(w, c.iter().copied(), Reach::Loose);
        let keys = ["page_size", "memory", "swap", "levels"];
        assert_eq!(loose("pagesize", &keys), Some("page_size"));
        assert_eq!(loose("memroy", &keys), Some("memory"));
        assert_eq!(loose("colour", &keys), None);
        assert_eq!(loose("lur", &["fifo", "lru"]), Some("lru"));
        let profiles = ["x86_64", "x86_64_la57", "i386"];
        assert_eq!(loose("x86", &profiles), Some("x86_64"));
        assert_eq!(loose("i368", &profiles), Some("i386"));
    }

    #[test]
    fn typos_need_a_longer_word_for_more_edits() {
        let typo = |w| did_you_mean(w, ["show", "stats", "malloc", "calloc"], Reach::Typo);
        assert_eq!(typo("shw"), Some("show"));
        assert_eq!(typo("shiw"), Some("show"));
        assert_eq!(typo("mallco"), Some("malloc"));
        assert_eq!(typo("st"), None);
        assert_eq!(typo("show"), None, "a word is not its own typo");
    }

    #[test]
    fn edits_are_capped_for_short_words() {
        let words = ["let", "for", "if", "in"];
        assert_eq!(did_you_mean("lte", words, Reach::Edits(2)), Some("let"));
        assert_eq!(did_you_mean("fxx", words, Reach::Edits(2)), None);
        assert_eq!(did_you_mean("x", words, Reach::Edits(2)), None);
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(or_list(["a"]), "a");
        assert_eq!(or_list(["a", "b"]), "a or b");
        assert_eq!(and_list(["a", "b", "c"]), "a, b and c");
    }
}

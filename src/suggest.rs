//! "Did you mean …?": the closest known name to a misspelt one, for every stage's diagnostics.

/// The candidate closest to `word`: the shortest one it begins (`x86` → `x86_64`, a name cut
/// short), else the nearest by edit distance if that is close enough to be a plausible typo (a
/// third of the word's length, at least two edits).
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word = word.to_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
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
    candidates
        .into_iter()
        .map(|c| (distance(&word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: Levenshtein plus adjacent transpositions, the commonest
/// typing slip (`lur` for `lru`).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
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
        let keys = ["page_size", "memory", "swap", "levels"];
        assert_eq!(did_you_mean("pagesize", keys), Some("page_size"));
        assert_eq!(did_you_mean("memroy", keys), Some("memory"));
        assert_eq!(did_you_mean("colour", keys), None);
        assert_eq!(did_you_mean("lur", ["fifo", "lru"]), Some("lru"));
        let profiles = ["x86_64", "x86_64_la57", "i386"];
        assert_eq!(did_you_mean("x86", profiles), Some("x86_64"));
        assert_eq!(did_you_mean("i368", profiles), Some("i386"));
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(or_list(["a"]), "a");
        assert_eq!(or_list(["a", "b"]), "a or b");
        assert_eq!(and_list(["a", "b", "c"]), "a, b and c");
    }
}

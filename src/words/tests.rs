//! The vocabulary agrees with the grammar, and the docs list every entry.

use super::*;

const GRAMMAR: &str = include_str!("../../grammar/mem.pest");
const LANGUAGE: &str = include_str!("../../docs/language.md");
const POLICIES: &str = include_str!("../../docs/policies.md");

/// The quoted words of the grammar rule `rule = …` (its one line).
fn rule_words(rule: &str) -> Vec<&'static str> {
    let head = format!("{rule} =");
    let line = GRAMMAR.lines().find(|l| l.starts_with(&head)).unwrap_or("");
    line.split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty())
        .collect()
}

/// A section of docs/language.md, from its `## N.` heading to the next.
fn section(n: u32) -> &'static str {
    let start = LANGUAGE
        .find(&format!("\n## {n}. "))
        .unwrap_or_else(|| panic!("docs/language.md has no section {n}"));
    let rest = &LANGUAGE[start + 1..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    &rest[..end]
}

fn sorted<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = words.into_iter().collect();
    v.sort_unstable();
    v
}

#[test]
fn keywords_are_the_grammars_kw_rules() {
    let from_grammar = GRAMMAR
        .lines()
        .filter(|l| l.starts_with("kw_"))
        .flat_map(|l| l.split('"').nth(1));
    assert_eq!(
        sorted(from_grammar),
        sorted(Keyword::ALL.map(Keyword::name))
    );
}

#[test]
fn reserved_means_the_parser_refuses_it_as_a_name() {
    for k in Keyword::ALL {
        let refused = crate::syntax::parse(&format!("{} = 1", k.name())).is_err();
        assert_eq!(refused, k.reserved(), "`{}`", k.name());
    }
}

#[test]
fn closed_word_sets_match_their_rules() {
    assert_eq!(rule_words("segv_code"), SEGV_CODES);
    assert_eq!(rule_words("fault_kind"), FAULT_KINDS);
    assert_eq!(rule_words("sharing"), SHARINGS);
    assert_eq!(rule_words("prim_type"), TYPE_WORDS);
    assert_eq!(rule_words("region_kind"), REGION_NAMES);
    // `size_unit` spells the one-letter units as character ranges: `'K'..'K'`.
    let mut units = rule_words("size_unit");
    for line in GRAMMAR.lines().filter(|l| l.starts_with("size_unit =")) {
        let after_lookahead = line.split(") ~ (").nth(1).unwrap_or("");
        units.extend(
            after_lookahead
                .split(" | ")
                .filter_map(|alt| alt.strip_prefix('\''))
                .filter_map(|alt| alt.split('\'').next()),
        );
    }
    assert_eq!(sorted(units), sorted(UNIT_NAMES));
}

#[test]
fn every_spelling_parses_as_its_unit() {
    for u in UNITS {
        let p = crate::syntax::parse(&format!("let x = 2 {}", u.name));
        assert!(p.is_ok(), "`2 {}` does not parse", u.name);
    }
}

#[test]
fn operators_are_listed_once_loosest_first() {
    let mut seen = Vec::new();
    for w in OPERATORS.windows(2) {
        assert!(w[0].op.precedence() <= w[1].op.precedence());
    }
    for o in OPERATORS {
        assert!(!seen.contains(&o.op), "{:?} twice", o.op);
        seen.push(o.op);
        assert!(o.op.precedence() < PREFIX_PRECEDENCE);
        // The parser groups by the table: `1 OP 2 * 3` binds `*` first unless OP binds as tight.
        let src = format!("print 1 {} 2 * 3", o.op.symbol());
        assert!(crate::syntax::parse(&src).is_ok(), "{src}");
    }
}

#[test]
fn builtins_are_consistent() {
    for b in Builtin::ALL {
        let s = b.spec();
        assert!(s.required <= s.params.len(), "{}", s.name);
        assert!(s.usage.starts_with(&format!("{}(", s.name)), "{}", s.usage);
        assert!(!s.help.is_empty(), "{} has no help line", s.name);
        assert_eq!(Builtin::from_name(s.name), Some(b));
    }
}

#[test]
fn the_docs_list_every_builtin() {
    let docs = section(7);
    for name in BUILTIN_NAMES {
        assert!(
            docs.contains(&format!("| `{name}(")),
            "docs/language.md §7 lacks `{name}`"
        );
    }
}

#[test]
fn the_docs_list_every_show_target() {
    let docs = section(13);
    for t in ShowTarget::ALL {
        assert!(
            docs.contains(&t.usage()),
            "docs/language.md §13 lacks `{}`",
            t.usage()
        );
    }
}

#[test]
fn the_docs_list_every_statistic_and_name() {
    let docs = section(8);
    for name in STAT_NAMES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/language.md §8 lacks `{name}`"
        );
    }
    for name in SPECIAL_NAMES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/language.md §8 lacks `{name}`"
        );
    }
    for name in REGION_NAMES {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/language.md §8 lacks `{name}`"
        );
    }
}

#[test]
fn the_docs_list_every_setting_policy_and_allocator() {
    let docs = section(3);
    for name in SETTING_NAMES {
        let row = docs
            .lines()
            .any(|l| l.starts_with('|') && l.contains(&format!("`{name}`")));
        assert!(row, "docs/language.md §3's settings table lacks `{name}`");
    }
    for name in policy_names() {
        assert!(
            docs.contains(name),
            "docs/language.md §3 lacks the policy {name}"
        );
        assert!(
            POLICIES.contains(&format!("`{name}`")),
            "docs/policies.md lacks `{name}`"
        );
    }
    for name in allocator_names() {
        assert!(
            docs.contains(name),
            "docs/language.md §3 lacks the allocator {name}"
        );
    }
}

#[test]
fn the_docs_give_every_operators_precedence() {
    let docs = section(6);
    for o in OPERATORS {
        let sym = o.op.symbol().replace('|', "\\|");
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", o.op.precedence())))
            .unwrap_or_else(|| panic!("no precedence row {}", o.op.precedence()));
        assert!(row.contains(&format!("`{sym}`")), "row {row} lacks `{sym}`");
    }
}

#[test]
fn the_docs_mention_every_keyword_and_unit() {
    for k in keywords() {
        assert!(
            LANGUAGE.contains(k),
            "docs/language.md never mentions `{k}`"
        );
    }
    let lexical = section(2);
    for u in UNIT_NAMES {
        assert!(
            lexical.contains(&format!("`{u}`")),
            "docs/language.md §2 lacks `{u}`"
        );
    }
}

#[test]
fn the_docs_list_every_profile_key() {
    let start = LANGUAGE
        .find("### Profile files")
        .expect("docs/language.md has a Profile files section");
    let rest = &LANGUAGE[start..];
    let docs = &rest[..rest[4..].find("\n#").map_or(rest.len(), |e| e + 4)];
    for key in PROFILE_KEYS {
        assert!(
            ["`{key}`", "`{key}:", "\n{key}:"]
                .iter()
                .any(|f| docs.contains(&f.replace("{key}", key))),
            "docs/language.md's profile files lack `{key}`"
        );
    }
    for key in PROFILE_TLB_KEYS.iter().chain(&PROFILE_HEAP_KEYS) {
        assert!(
            docs.contains(key),
            "docs/language.md's profile files lack `{key}`"
        );
    }
}

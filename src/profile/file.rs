//! The YAML schema of a profile file and its conversion to a [`ScenarioConfig`].
//!
//! Every field is optional: what a file leaves out keeps the default machine's value
//! ([`ScenarioConfig::default_x86_64`]), so a board file can say only what makes it different.
//! The file is one flat mapping: machine, OS and heap settings side by side, as in a `machine`
//! block.
//! Shape errors (a size that is not a size, an unknown key) are found while deserializing, so
//! serde_yaml knows where they are; consistency errors are found afterwards by `validate`, and
//! located by searching the text for the key's line.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use miette::NamedSource;

use crate::files::Excerpt;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::config::{Arch, Conventions, ScenarioConfig};
use crate::diag::machine::MachineError;
use crate::heap::{Addresses, AllocatorKind, FreeListOrder};
use crate::machine::{Policy, Scope, TlbConfig, TlbPolicy};
use crate::syntax::ast::Span;

use super::size::parse_size;
use super::validate::{validate, Field, FieldSpans};
use crate::suggest::{did_you_mean, or_list, Reach};
use crate::words::{PROFILE_HEAP_KEYS, PROFILE_KEYS, PROFILE_TLB_KEYS};

/// One profile file. Sizes are strings with units (`"4 KiB"`) or plain numbers of bytes;
/// switches are `on`/`off` or YAML booleans.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// Overrides the name (the built-in's name or the file's stem) shown in messages.
    pub name: Option<String>,
    /// One line for `memsim profiles`.
    pub description: Option<String>,
    pub page_size: Option<Size>,
    pub va_bits: Option<u32>,
    pub levels: Option<u32>,
    pub pte_size: Option<Size>,
    pub memory: Option<Size>,
    pub swap: Option<Size>,
    pub tlb: Option<TlbFile>,
    pub replace: Option<Policy>,
    pub scope: Option<Scope>,
    pub seed: Option<u64>,
    pub aslr: Option<OnOff>,
    pub pie: Option<OnOff>,
    pub pcid: Option<OnOff>,
    pub allocator: Option<AllocatorKind>,
    pub heap: Option<HeapFile>,
    pub stack_limit: Option<Size>,
    pub addresses: Option<Addresses>,
    pub conventions: Option<Conventions>,
    pub clock_bits: Option<u32>,
    pub arch: Option<Arch>,
}

/// `tlb: off`, or a table of the TLB's fields.
#[derive(Debug)]
pub enum TlbFile {
    Switch(bool),
    Table(TlbTable),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlbTable {
    pub enabled: Option<OnOff>,
    pub entries: Option<u32>,
    /// Set associativity; absent = fully associative.
    pub ways: Option<u32>,
    pub policy: Option<TlbPolicy>,
}

/// The teaching allocators' fixed heap.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeapFile {
    pub size: Option<Size>,
    pub base: Option<u64>,
    pub header: Option<Size>,
    pub coalesce: Option<OnOff>,
    pub order: Option<FreeListOrder>,
    pub align: Option<Size>,
}

/// A size in bytes, written `"4 KiB"` or as a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

/// `on`/`off` (also `yes`/`no` and YAML's `true`/`false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnOff(pub bool);

const SIZE_EXPECTED: &str = "a size such as `4 KiB` (units B, K/KiB, M/MiB, G/GiB, T/TiB, kB)";

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(SIZE_EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom(format!("a size cannot be negative ({v})")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                if v.trim_end().ends_with("page") || v.trim_end().ends_with("pages") {
                    return Err(E::custom(format!(
                        "`{v}`: a profile file gives sizes in bytes, not pages; expected {SIZE_EXPECTED}"
                    )));
                }
                parse_size(v).map(Size).ok_or_else(|| {
                    E::custom(format!("`{v}` is not a size; expected {SIZE_EXPECTED}"))
                })
            }
        }
        d.deserialize_any(V)
    }
}

fn switch_word(v: &str) -> Option<bool> {
    match v {
        "on" | "yes" | "true" => Some(true),
        "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for OnOff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = OnOff;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`on` or `off`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OnOff, E> {
                Ok(OnOff(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OnOff, E> {
                switch_word(v).map(OnOff).ok_or_else(|| {
                    E::custom(format!("`{v}` is not a switch; expected `on` or `off`"))
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for TlbFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TlbFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`off`, or a table such as `{ entries: 64, policy: lru, ways: 4 }`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<TlbFile, E> {
                Ok(TlbFile::Switch(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TlbFile, E> {
                switch_word(v).map(TlbFile::Switch).ok_or_else(|| {
                    E::custom(format!(
                        "`{v}` is not a TLB; expected `off`, or a table such as `{{ entries: 64, policy: lru }}`"
                    ))
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TlbFile, A::Error> {
                TlbTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(TlbFile::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// Narrows a byte count to a `u32` field; values that do not fit are clamped so that
/// validation reports them as out of range rather than silently wrapping.
fn narrow(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl ProfileFile {
    /// The default configuration with this file's fields applied.
    pub fn to_config(&self, name: &str) -> ScenarioConfig {
        let mut sc = ScenarioConfig::default_x86_64();
        let c = &mut sc.machine;
        c.name = self.name.clone().unwrap_or_else(|| name.to_string());
        if let Some(Size(v)) = self.page_size {
            c.page_size = v;
        }
        if let Some(v) = self.va_bits {
            c.va_bits = v;
        }
        if let Some(v) = self.levels {
            c.levels = v;
        }
        if let Some(Size(v)) = self.pte_size {
            c.pte_size = narrow(v);
        }
        if let Some(Size(v)) = self.memory {
            c.memory = v;
        }
        if let Some(Size(v)) = self.swap {
            c.swap = v;
        }
        match &self.tlb {
            None => {}
            Some(TlbFile::Switch(on)) => c.tlb.enabled = *on,
            Some(TlbFile::Table(t)) => {
                c.tlb = TlbConfig {
                    enabled: t.enabled.is_none_or(|OnOff(b)| b),
                    entries: t.entries.unwrap_or(c.tlb.entries),
                    ways: t.ways.or(c.tlb.ways),
                    policy: t.policy.unwrap_or(c.tlb.policy),
                }
            }
        }
        if let Some(v) = self.replace {
            c.replace = v;
        }
        if let Some(v) = self.scope {
            c.scope = v;
        }
        if let Some(OnOff(v)) = self.pcid {
            c.pcid = v;
        }
        if let Some(v) = self.seed {
            sc.seed = v;
        }
        if let Some(OnOff(v)) = self.aslr {
            sc.os.aslr = v;
        }
        if let Some(OnOff(v)) = self.pie {
            sc.os.pie = v;
        }
        if let Some(Size(v)) = self.stack_limit {
            sc.os.stack_limit = v;
        }
        let heap = &mut sc.heap;
        if let Some(v) = self.allocator {
            heap.allocator = v;
        }
        if let Some(h) = &self.heap {
            if let Some(Size(v)) = h.size {
                heap.teach_heap.size = v;
            }
            if let Some(v) = h.base {
                heap.teach_heap.base = v;
            }
            if let Some(Size(v)) = h.header {
                heap.teach_heap.header = v;
            }
            if let Some(OnOff(v)) = h.coalesce {
                heap.teach_heap.coalesce = v;
            }
            if let Some(v) = h.order {
                heap.teach_heap.order = v;
            }
            if let Some(Size(v)) = h.align {
                heap.teach_heap.align = v;
            }
        }
        if let Some(v) = self.addresses {
            heap.addresses = v;
        }
        if let Some(v) = self.conventions {
            sc.conventions = v;
        }
        if let Some(v) = self.clock_bits {
            sc.machine.clock_bits = v;
        }
        if let Some(v) = self.arch {
            sc.arch = v;
        }
        sc
    }
}

/// Parses and validates a profile file. `name` is used when the file has no `name:`; errors
/// carry `source` and point into it.
pub(crate) fn load(
    name: &str,
    text: &str,
    source: Arc<NamedSource<crate::files::Quoted>>,
) -> Result<(ProfileFile, ScenarioConfig), Vec<MachineError>> {
    let file = if text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    }) {
        // An empty document is no mapping to serde_yaml; it is simply a profile that changes
        // nothing, like an empty `machine { }`.
        ProfileFile::default()
    } else {
        serde_yaml::from_str::<ProfileFile>(text)
            .map_err(|e| vec![yaml_error(&e, text, source.name())])?
    };
    let mut cfg = file.to_config(name);
    // YAML reads `base: 0x3e8` as a plain number: its text says how it was written.
    let base_given = file.heap.as_ref().is_some_and(|h| h.base.is_some());
    cfg.heap.heap_base_hex = base_given
        && key_span(text, &["heap", "base"])
            .and_then(|s| text.get(s.start..s.end))
            .is_some_and(|v| v.starts_with("0x") || v.starts_with("0X"));
    let spans = field_spans(text);
    let errors = validate(&cfg, &spans);
    if errors.is_empty() {
        Ok((file, cfg))
    } else {
        Err(errors
            .into_iter()
            .map(|e| e.with_source(source.clone()))
            .collect())
    }
}

/// A profile file loaded from `path`; its errors name the file as the caller wrote it.
pub fn load_file(path: &Path, text: &str) -> Result<ScenarioConfig, Vec<MachineError>> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let source = Arc::new(NamedSource::new(
        path.display().to_string(),
        crate::files::Quoted(text.to_string()),
    ));
    load(&name, text, source).map(|(_, cfg)| cfg)
}

fn yaml_error(e: &serde_yaml::Error, text: &str, file: &str) -> MachineError {
    let full = e.to_string();
    // The label shows where; the message need not say it again.
    let mut message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full.clone(),
    };
    // serde lists every allowed key in the message; the help lists them once, readably.
    if let Some(i) = message.find(", expected one of") {
        message.truncate(i);
    }
    message = plain_message(&message);
    let mut span = match e.location() {
        Some(loc) => token_at(text, loc.line(), loc.column()),
        None => Span::new(0, 0),
    };
    let unknown = unknown_field(&message).map(str::to_string);
    // serde_yaml points at the unknown key's line; the label belongs on the key alone.
    if let Some(key) = &unknown {
        if text
            .get(span.start..)
            .is_some_and(|t| t.starts_with(key.as_str()))
        {
            span.end = span.start + key.len();
        }
    }
    let label = if unknown.is_some() {
        "unknown key"
    } else {
        "here"
    }
    .to_string();
    let help = match unknown.as_deref() {
        Some(field) => {
            let keys: &[&str] = if message.starts_with("tlb") {
                &PROFILE_TLB_KEYS
            } else if message.starts_with("heap") {
                &PROFILE_HEAP_KEYS
            } else {
                &PROFILE_KEYS
            };
            let list = or_list(keys.iter().copied());
            match did_you_mean(field, keys.iter().copied(), Reach::Loose) {
                Some(s) => format!("did you mean `{s}`? The keys here are {list}"),
                None => format!("the keys here are {list}"),
            }
        }
        None => "a profile is a YAML mapping of machine settings, such as `page_size: 4 KiB` \
                 and `levels: 4`; `memsim profiles` lists the built-in ones"
            .to_string(),
    };
    let line = e.location().map_or(1, |l| l.line());
    MachineError::Yaml {
        message,
        span: span.into(),
        label,
        help,
        src: Arc::new(NamedSource::new(file, Excerpt::line_of_text(text, line))),
    }
}

/// serde's message in the user's words: no Rust type names, and no value quoted at length
/// (a file that is not a profile at all is one long string to serde, and would be echoed).
fn plain_message(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let kind = rest.split([' ', ',']).next().unwrap_or("something else");
        let kind = match kind {
            "string" => "text",
            "sequence" => "a list",
            "integer" | "floating" => "a number",
            "boolean" => "a boolean",
            "unit" => "nothing",
            _ => "something else",
        };
        return format!("it holds {kind}, not a mapping of settings");
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    // Quoted values longer than a setting's are cut.
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let close = after.find('"').unwrap_or(after.len());
        let quoted = &after[..close];
        if quoted.chars().count() > 40 {
            out.extend(quoted.chars().take(37));
            out.push_str("...");
        } else {
            out.push_str(quoted);
        }
        rest = after.get(close..).unwrap_or("");
        if let Some(r) = rest.strip_prefix('"') {
            out.push('"');
            rest = r;
        }
    }
    out.push_str(rest);
    for (rust, plain) in [
        ("struct ProfileFile", "a mapping of settings"),
        ("struct TlbTable", "a mapping of TLB settings"),
        ("struct HeapFile", "a mapping of heap settings"),
    ] {
        out = out.replace(rust, plain);
    }
    // Any other type name serde might give: the keyword and the word after it.
    for keyword in ["struct ", "enum "] {
        while let Some(i) = out.find(keyword) {
            let name = i + keyword.len();
            let end = out[name..]
                .find(|c: char| !c.is_alphanumeric() && c != '_')
                .map_or(out.len(), |e| name + e);
            out.replace_range(i..end, "a setting");
        }
    }
    out
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    Some(&rest[..rest.find('`')?])
}

/// The span of the token at a 1-based line and (character) column: up to the end of the value
/// on that line, without a trailing comment.
fn token_at(text: &str, line: usize, column: usize) -> Span {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.trim_end_matches(['\n', '\r']).len(), |(b, _)| b);
            let rest = &l[col..];
            let value = strip_comment(rest).trim_end();
            return Span::new(start + col, start + col + value.len());
        }
        start += l.len();
    }
    Span::new(text.len(), text.len())
}

fn strip_comment(s: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in s.char_indices() {
        if c == '#' && prev_space {
            return &s[..i];
        }
        prev_space = c.is_whitespace();
    }
    s.trim_end_matches(['\n', '\r'])
}

/// Where each checked field is written in the file, so that a consistency error points at its
/// line. The base is the first line with content: an error about a value the file left at its
/// default has no line of its own.
fn field_spans(text: &str) -> FieldSpans {
    let base = text
        .split_inclusive('\n')
        .scan(0, |off, l| {
            let s = *off;
            *off += l.len();
            Some((s, l))
        })
        .find(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && t != "---"
        })
        .map_or(Span::new(0, 0), |(s, l)| {
            let t = strip_comment(l).trim_end();
            Span::new(s, s + t.len())
        });
    let mut spans = FieldSpans::new(base);
    let keys: [(Field, &[&str]); 11] = [
        (Field::PageSize, &["page_size"]),
        (Field::Memory, &["memory"]),
        (Field::Swap, &["swap"]),
        (Field::VaBits, &["va_bits"]),
        (Field::Levels, &["levels"]),
        (Field::PteSize, &["pte_size"]),
        (Field::Tlb, &["tlb"]),
        (Field::StackLimit, &["stack_limit"]),
        (Field::Heap, &["heap", "size"]),
        (Field::Header, &["heap", "header"]),
        (Field::Addresses, &["addresses"]),
    ];
    for (field, path) in keys {
        if let Some(s) = key_span(text, path) {
            spans.set(field, s);
        }
    }
    spans
}

/// The span of the value of `path` (a top-level key, or a key inside a top-level mapping, in
/// block or flow style); the key itself when the value is on later lines. A missing nested key
/// falls back to its parent.
pub(crate) fn key_span(text: &str, path: &[&str]) -> Option<Span> {
    let (first, rest) = path.split_first()?;
    let mut lines = text.split_inclusive('\n').scan(0usize, |off, l| {
        let s = *off;
        *off += l.len();
        Some((s, l))
    });
    let (pstart, pline) = lines.find(|(_, l)| l.starts_with(&format!("{first}:")))?;
    let parent = value_span(pstart, pline, first.len());
    let Some(child) = rest.first() else {
        return Some(parent);
    };
    // Flow style: `heap: { size: 100 B, base: 1000 }`.
    let flow = strip_comment(pline);
    if let Some(i) = flow.find(&format!("{child}:")) {
        let v0 = i + child.len() + 1;
        let after = &flow[v0..];
        let lead = after.len() - after.trim_start().len();
        let end = after
            .find([',', '}'])
            .map_or(after.trim_end().len(), |e| after[..e].trim_end().len());
        return Some(Span::new(pstart + v0 + lead, pstart + v0 + end.max(lead)));
    }
    for (s, l) in lines {
        let t = l.trim_start();
        if t.trim().is_empty() || t.starts_with('#') {
            continue;
        }
        if l.len() == t.len() {
            break; // back at the top level: the parent mapping has ended
        }
        if t.starts_with(&format!("{child}:")) {
            let indent = l.len() - t.len();
            let sp = value_span(s + indent, t, child.len());
            return Some(sp);
        }
    }
    Some(parent)
}

/// The value after `key:` on a line starting at `start`, or the key when the value is empty.
fn value_span(start: usize, line: &str, key_len: usize) -> Span {
    let after = strip_comment(&line[key_len + 1..]);
    let lead = after.len() - after.trim_start().len();
    let value = after.trim();
    if value.is_empty() {
        Span::new(start, start + key_len)
    } else {
        let v0 = start + key_len + 1 + lead;
        Span::new(v0, v0 + value.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::Diagnostic;

    fn load_text(text: &str) -> Result<ScenarioConfig, Vec<MachineError>> {
        load_file(Path::new("boards/test.yaml"), text)
    }

    /// The 1-based line an error's span starts on.
    fn line_of(text: &str, e: &MachineError) -> usize {
        text[..e.span().offset()].matches('\n').count() + 1
    }

    fn slice<'a>(text: &'a str, e: &MachineError) -> &'a str {
        let s = e.span();
        &text[s.offset()..s.offset() + s.len()]
    }

    fn code(e: &MachineError) -> String {
        e.code().map(|c| c.to_string()).unwrap_or_default()
    }

    #[test]
    fn partial_file_takes_defaults() {
        let cfg = load_text("description: a small board\nmemory: 64 KiB\n").unwrap();
        assert_eq!(cfg.machine.memory, 64 << 10);
        assert_eq!(cfg.machine.name, "test");
        let mut expected = ScenarioConfig::default_x86_64();
        expected.machine.memory = 64 << 10;
        expected.machine.name = "test".into();
        assert_eq!(cfg, expected);
    }

    #[test]
    fn addresses_follow_the_heap_base_as_written() {
        use crate::units::Radix;
        let teach = |rest: &str| load_text(&format!("allocator: first_fit\n{rest}")).unwrap();
        assert_eq!(
            teach("heap: { size: 100 B, base: 1000 }\n").radix(),
            Radix::Decimal
        );
        assert_eq!(
            teach("heap: { size: 100 B, base: 0x3e8 }\n").radix(),
            Radix::Hex
        );
        assert_eq!(teach("heap:\n  base: 0x3e8\n").radix(), Radix::Hex);
        assert_eq!(teach("heap:\n  size: 100 B\n").radix(), Radix::Decimal);
        assert_eq!(
            teach("heap: { base: 0x3e8 }\naddresses: decimal\n").radix(),
            Radix::Decimal
        );
        assert_eq!(teach("addresses: hex\n").radix(), Radix::Hex);
        assert_eq!(load_text("addresses: auto\n").unwrap().radix(), Radix::Hex);
        let text = "allocator: glibc\naddresses: decimal\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::addresses");
        assert_eq!(slice(text, &e[0]), "decimal");
        let e = load_text("addresses: octal\n").unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::yaml");
    }

    #[test]
    fn empty_file_is_the_default_machine() {
        let cfg = load_text("# nothing\n").unwrap();
        assert_eq!(cfg.machine.page_size, 4096);
    }

    #[test]
    fn full_schema() {
        let text = "\
name: board
description: everything
page_size: 16 KiB
va_bits: 48
levels: 4
pte_size: 8
memory: 1 GiB
swap: 64 MiB
tlb: { entries: 32, ways: 4, policy: fifo }
replace: clock
scope: local
seed: 7
aslr: on
pie: true
pcid: off
allocator: best_fit
heap:
  size: 200 B
  base: 0x1000
  header: 8
  coalesce: yes
  order: size_asc
stack_limit: 1 MiB
";
        let c = load_text(text).unwrap();
        assert_eq!(c.machine.name, "board");
        assert_eq!(c.machine.page_size, 16 << 10);
        assert_eq!(c.machine.swap, 64 << 20);
        assert_eq!(
            c.machine.tlb,
            TlbConfig {
                enabled: true,
                entries: 32,
                ways: Some(4),
                policy: TlbPolicy::Fifo
            }
        );
        assert_eq!(c.machine.replace, Policy::Clock);
        assert_eq!(c.machine.scope, Scope::Local);
        assert!(c.os.aslr && c.os.pie && !c.machine.pcid);
        assert_eq!(c.heap.allocator, AllocatorKind::BestFit);
        assert_eq!(c.heap.teach_heap.base, 0x1000);
        assert_eq!(c.heap.teach_heap.header, 8);
        assert!(c.heap.teach_heap.coalesce);
        assert_eq!(c.heap.teach_heap.order, FreeListOrder::SizeAsc);
        assert_eq!(c.os.stack_limit, 1 << 20);
        assert!(!load_text("tlb: off\n").unwrap().machine.tlb.enabled);
    }

    #[test]
    fn bad_value_reports_its_line() {
        let text = "description: a board\npage_size: 4 KiB\nmemory: 10 KiB   # oops\nswap: 0\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(code(&e[0]), "mem::machine::memory");
        assert_eq!(line_of(text, &e[0]), 3);
        assert_eq!(slice(text, &e[0]), "10 KiB");
        assert!(e[0].source_code().is_some());
        assert!(e[0].has_own_source());
    }

    #[test]
    fn unparsable_size_reports_its_line() {
        let text = "description: a board\nmemory: lots\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::yaml");
        assert_eq!(line_of(text, &e[0]), 2);
        assert!(
            e[0].to_string().contains("`lots` is not a size"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn nested_bad_value_reports_its_line() {
        let text = "tlb:\n  entries: 12\n  ways: 8\nheap:\n  size: 100 B\n  header: 200\n";
        let e = load_text(text).unwrap_err();
        let got: Vec<(String, usize)> = e.iter().map(|e| (code(e), line_of(text, e))).collect();
        assert_eq!(
            got,
            [
                ("mem::machine::tlb".to_string(), 1),
                ("mem::machine::heap".to_string(), 6)
            ]
        );
        let text = "heap: { size: 100 B, header: 100 }\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(slice(text, &e[0]), "100");
        assert_eq!(e[0].span().offset(), text.find("100 }").unwrap());
    }

    #[test]
    fn unknown_key_suggests() {
        let text = "description: x\npagesize: 4 KiB\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::yaml");
        assert_eq!(line_of(text, &e[0]), 2);
        let help = e[0].help().unwrap().to_string();
        assert!(help.contains("did you mean `page_size`?"), "{help}");
        assert_eq!(slice(text, &e[0]), "pagesize");
        let e = load_text("tlb:\n  entrys: 4\n").unwrap_err();
        let help = e[0].help().unwrap().to_string();
        assert!(help.contains("did you mean `entries`?"), "{help}");
    }

    #[test]
    fn malformed_yaml_reports_its_line() {
        let text = "description: x\nmemory: [4 KiB\nlevels: 4\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::yaml");
        assert!(line_of(text, &e[0]) >= 2);
        let e = load_text("- just\n- a list\n").unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::yaml");
        let e = load_text("replace: lur\n").unwrap_err();
        assert!(e[0].to_string().contains("lur"), "{}", e[0]);
        let e = load_text("aslr: maybe\n").unwrap_err();
        assert!(e[0].to_string().contains("`on` or `off`"), "{}", e[0]);
        let e = load_text("memory: 3 pages\n").unwrap_err();
        assert!(e[0].to_string().contains("not pages"), "{}", e[0]);
        let e = load_text("memory: -4\n").unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::yaml");
    }

    #[test]
    fn default_value_errors_point_at_what_changed() {
        // 64 KiB pages alone leave 4 levels too many: the error points at page_size.
        let text = "description: x\npage_size: 64 KiB\n";
        let e = load_text(text).unwrap_err();
        assert_eq!(code(&e[0]), "mem::machine::levels");
        assert_eq!(slice(text, &e[0]), "64 KiB");
    }

    /// The keys serde expects, as its "unknown field" message lists them.
    fn serde_keys<T: for<'de> serde::Deserialize<'de> + std::fmt::Debug>() -> Vec<String> {
        let e = serde_yaml::from_str::<T>("zz_not_a_key: 1\n").unwrap_err();
        let msg = e.to_string();
        let list = msg.split("expected one of").nth(1).unwrap_or(&msg);
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_key_tables_are_the_keys_serde_reads() {
        assert_eq!(serde_keys::<ProfileFile>(), PROFILE_KEYS);
        assert_eq!(serde_keys::<TlbTable>(), PROFILE_TLB_KEYS);
        assert_eq!(serde_keys::<HeapFile>(), PROFILE_HEAP_KEYS);
    }
}

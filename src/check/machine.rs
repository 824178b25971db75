//! Turning a `machine` statement into a [`ScenarioConfig`]: the base profile, then each setting,
//! then one consistency check of the whole, with every error reported at once. A setting may
//! belong to the machine, the OS or the heap; the block sets them all.

use std::path::Path;

use crate::config::ScenarioConfig;
use crate::config::{Arch, Conventions};
use crate::diag::machine::MachineError;
use crate::heap::{Addresses, AllocatorKind, FreeListOrder};
use crate::machine::{Policy, Scope, TlbPolicy};
use crate::profile;
use crate::suggest::{and_list, did_you_mean, or_list, Reach};
use crate::syntax::ast::{Arg, ArgKind, MachineSpec, ProfileRef, SizeUnit, Span};

pub use crate::profile::validate::{Field, FieldSpans};

pub use crate::words::SETTING_NAMES as SETTINGS;

/// What each key takes, in words, for "bad value" help lines.
fn expected(key: &str) -> &'static str {
    crate::words::SETTINGS
        .iter()
        .find(|s| s.name == key)
        .map_or("a value", |s| s.takes)
}

/// The span covering all of a setting's arguments (the key's own span when there are none).
fn args_span(args: &[Arg], key_span: Span) -> Span {
    match (args.first(), args.last()) {
        (Some(a), Some(b)) => a.span.to(b.span),
        _ => key_span,
    }
}

/// The base profile's span: what errors about values nobody set point at.
fn base_span(spec: &MachineSpec) -> Span {
    match &spec.base {
        Some(ProfileRef::Builtin(id)) => id.span,
        Some(ProfileRef::File(s)) => s.span,
        None => match (spec.settings.first(), spec.settings.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => Span::default(),
        },
    }
}

/// Builds the machine a `machine` statement describes. A file path is resolved relative to
/// `base_dir` (the `.mem` file's directory). All errors are collected: the base's, every bad
/// setting's, and every inconsistency of the result.
pub fn resolve(spec: &MachineSpec, base_dir: &Path) -> Result<ScenarioConfig, Vec<MachineError>> {
    let mut errors: Vec<MachineError> = Vec::new();
    let (mut cfg, base_ok) = match load_base(spec.base.as_ref(), base_dir) {
        Ok(cfg) => (cfg, true),
        Err(mut e) => {
            errors.append(&mut e);
            (ScenarioConfig::default_x86_64(), false)
        }
    };

    let mut spans = FieldSpans::new(base_span(spec));
    // `3 pages` means pages of this block's page size, wherever `page_size` is written in it.
    let order = spec
        .settings
        .iter()
        .enumerate()
        .filter(|(_, s)| s.key.name == "page_size")
        .chain(
            spec.settings
                .iter()
                .enumerate()
                .filter(|(_, s)| s.key.name != "page_size"),
        );
    let mut setting_errors = Vec::new();
    for (i, s) in order {
        match apply_setting(&mut cfg, &s.key.name, &s.args, s.key.span) {
            Ok(()) => spans.set_key(&s.key.name, args_span(&s.args, s.key.span)),
            Err(e) => setting_errors.push((i, e)),
        }
    }
    setting_errors.sort_by_key(|&(i, _)| i);
    errors.extend(setting_errors.into_iter().map(|(_, e)| e));

    // Checking the default machine in place of a base that failed to load would report
    // inconsistencies the user did not write.
    if base_ok {
        errors.extend(validate(&cfg, &spans));
    }
    if errors.is_empty() {
        Ok(cfg)
    } else {
        Err(errors)
    }
}

/// A profile file is a few dozen lines; anything larger is not one, and is not read whole.
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

fn load_base(
    base: Option<&ProfileRef>,
    base_dir: &Path,
) -> Result<ScenarioConfig, Vec<MachineError>> {
    match base {
        None => Ok(ScenarioConfig::default_x86_64()),
        Some(ProfileRef::Builtin(id)) => profile::builtin(&id.name).ok_or_else(|| {
            let list = and_list(profile::builtin_names());
            let help = match did_you_mean(&id.name, profile::builtin_names(), Reach::Loose) {
                Some(s) => format!(
                    "did you mean `{s}`? The built-in profiles are {list}; a profile file is \
                     written as a string, such as `machine \"boards/my.yaml\"`"
                ),
                None => format!(
                    "the built-in profiles are {list}; a profile file is written as a string, \
                     such as `machine \"boards/my.yaml\"`"
                ),
            };
            vec![MachineError::UnknownProfile {
                name: id.name.clone(),
                span: id.span.into(),
                help,
            }]
        }),
        Some(ProfileRef::File(s)) => {
            let full = base_dir.join(&s.value);
            match crate::files::read_limited(&full, MAX_PROFILE_BYTES) {
                // Errors name the file as the user wrote it, so reports do not depend on
                // where the checkout lives.
                Ok(text) => profile::load_file(Path::new(&s.value), &text),
                Err(e) => {
                    let reason = match e.kind() {
                        std::io::ErrorKind::NotFound => "no such file".to_string(),
                        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                        std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
                        std::io::ErrorKind::FileTooLarge => e.to_string(),
                        _ if full.is_dir() => "it is a directory".to_string(),
                        k => k.to_string(),
                    };
                    Err(vec![MachineError::ProfileFile {
                        path: s.value.clone(),
                        reason,
                        span: s.span.into(),
                        help: format!(
                            "a profile path is relative to the directory of the .mem file; \
                             built-in profiles are written without quotes: {}",
                            and_list(profile::builtin_names())
                        ),
                    }])
                }
            }
        }
    }
}

/// Every inconsistency of a finished configuration; see [`crate::profile::validate::validate`].
pub fn validate(cfg: &ScenarioConfig, spans: &FieldSpans) -> Vec<MachineError> {
    profile::validate::validate(cfg, spans)
}

fn bad(key: &str, span: Span, label: impl Into<String>) -> MachineError {
    MachineError::BadValue {
        key: key.to_string(),
        span: span.into(),
        label: label.into(),
        help: format!("`{key}` takes {}", expected(key)),
        src: None,
    }
}

/// How an argument reads in a message.
fn describe(arg: &Arg) -> String {
    match &arg.kind {
        ArgKind::Int(n) => format!("the number {n}"),
        ArgKind::Size(s) => format!("the size {}", size_text(s.value, s.unit)),
        ArgKind::Word(w) => format!("`{w}`"),
        ArgKind::Ways(w) => format!("`{w}-way`"),
        ArgKind::Str(s) => format!("the string \"{s}\""),
    }
}

fn size_text(value: u64, unit: SizeUnit) -> String {
    let u = match unit {
        SizeUnit::B => "B",
        SizeUnit::KiB => "KiB",
        SizeUnit::MiB => "MiB",
        SizeUnit::GiB => "GiB",
        SizeUnit::TiB => "TiB",
        SizeUnit::Pages if value == 1 => "page",
        SizeUnit::Pages => "pages",
    };
    format!("{value} {u}")
}

/// Exactly one argument, or an error at the key (none) or at the first extra one.
fn one<'a>(key: &str, args: &'a [Arg], key_span: Span) -> Result<&'a Arg, MachineError> {
    match args {
        [a] => Ok(a),
        [] => Err(bad(key, key_span, "no value given")),
        [_, extra @ ..] => Err(bad(
            key,
            args_span(extra, key_span),
            format!("`{key}` takes one value; this is one too many"),
        )),
    }
}

/// How a size setting treats plain numbers.
#[derive(Clone, Copy, PartialEq)]
enum Ints {
    /// `memory 4096` is more likely a forgotten unit than 4096 bytes: say so.
    Rejected,
    /// Only `0` (`swap 0`), which needs no unit.
    ZeroOnly,
    /// A plain number is bytes (`pte_size 8`, `header 4`).
    Bytes,
}

fn size_of(
    cfg: &ScenarioConfig,
    key: &str,
    arg: &Arg,
    ints: Ints,
    pages_ok: bool,
) -> Result<u64, MachineError> {
    match &arg.kind {
        ArgKind::Size(s) => {
            let per_unit = match s.unit.bytes() {
                Some(b) => b,
                None if pages_ok => cfg.machine.page_size,
                None => {
                    return Err(bad(
                        key,
                        arg.span,
                        format!("`{key}` cannot be given in pages"),
                    ))
                }
            };
            s.value
                .checked_mul(per_unit)
                .ok_or_else(|| bad(key, arg.span, "this size does not fit in 64 bits"))
        }
        ArgKind::Int(n) if ints == Ints::Bytes || (ints == Ints::ZeroOnly && *n == 0) => Ok(*n),
        ArgKind::Int(n) => Err(MachineError::BadValue {
            key: key.to_string(),
            span: arg.span.into(),
            label: format!("{n} has no unit"),
            help: format!(
                "`{key}` takes {}; write the unit, such as `{n} B` or `{n} KiB`",
                expected(key)
            ),
            src: None,
        }),
        _ => Err(bad(
            key,
            arg.span,
            format!("{} is not a size", describe(arg)),
        )),
    }
}

/// `BASE LIMIT`: two plain numbers (bytes), the limit fitting above the base in 64 bits.
fn two_numbers(key: &str, args: &[Arg], key_span: Span) -> Result<(u64, u64), MachineError> {
    match args {
        [a, b] => {
            let (base, limit) = (int_of(key, a)?, int_of(key, b)?);
            if base.checked_add(limit).is_none() {
                return Err(bad(key, b.span, "base + limit does not fit in 64 bits"));
            }
            Ok((base, limit))
        }
        [] | [_] => Err(bad(
            key,
            args_span(args, key_span),
            "a base and a limit are needed",
        )),
        [_, _, extra @ ..] => Err(bad(
            key,
            args_span(extra, key_span),
            format!("`{key}` takes two values; this is one too many"),
        )),
    }
}

fn int_of(key: &str, arg: &Arg) -> Result<u64, MachineError> {
    match &arg.kind {
        ArgKind::Int(n) => Ok(*n),
        _ => Err(bad(
            key,
            arg.span,
            format!("{} is not a plain number", describe(arg)),
        )),
    }
}

fn u32_of(key: &str, arg: &Arg) -> Result<u32, MachineError> {
    let n = int_of(key, arg)?;
    u32::try_from(n).map_err(|_| bad(key, arg.span, format!("{n} is far too large")))
}

fn word_of(arg: &Arg) -> Option<&str> {
    match &arg.kind {
        ArgKind::Word(w) => Some(w),
        _ => None,
    }
}

/// A word from a fixed set, with "did you mean" when it is close to one.
fn choice<T: Copy>(
    key: &str,
    arg: &Arg,
    names: &[&'static str],
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, MachineError> {
    let word = word_of(arg);
    if let Some(v) = word.and_then(&parse) {
        return Ok(v);
    }
    let label = match word.and_then(|w| did_you_mean(w, names.iter().copied(), Reach::Loose)) {
        Some(s) => format!("{} is not {what}; did you mean `{s}`?", describe(arg)),
        None => format!("{} is not {what}", describe(arg)),
    };
    Err(bad(key, arg.span, label))
}

fn on_off(key: &str, arg: &Arg) -> Result<bool, MachineError> {
    choice(
        key,
        arg,
        &["on", "off"],
        |w| match w {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        },
        "a switch",
    )
}

const POLICIES: [&str; 7] = ["fifo", "lru", "clock", "opt", "random", "mru", "unopt"];
const SCOPES: [&str; 2] = ["global", "local"];

fn scope_from(w: &str) -> Option<Scope> {
    match w {
        "global" => Some(Scope::Global),
        "local" => Some(Scope::Local),
        _ => None,
    }
}

/// Applies one setting to `cfg`. `key_span` is where the key is written: errors about a missing
/// value or an unknown key point there, errors about an argument point at the argument. Also
/// used by `sweep`, whose parameters are settings with one value each (`memory` with `3 pages`):
/// sizes in pages use `cfg`'s page size, so set `page_size` first.
pub fn apply_setting(
    cfg: &mut ScenarioConfig,
    key: &str,
    args: &[Arg],
    key_span: Span,
) -> Result<(), MachineError> {
    match key {
        "page_size" => {
            cfg.machine.page_size =
                size_of(cfg, key, one(key, args, key_span)?, Ints::Rejected, false)?
        }
        "memory" => {
            cfg.machine.memory = size_of(cfg, key, one(key, args, key_span)?, Ints::Rejected, true)?
        }
        "swap" => {
            let a = one(key, args, key_span)?;
            cfg.machine.swap = match word_of(a) {
                Some("off" | "none") => 0,
                _ => size_of(cfg, key, a, Ints::ZeroOnly, true)?,
            }
        }
        "stack_limit" => {
            cfg.os.stack_limit = size_of(cfg, key, one(key, args, key_span)?, Ints::Rejected, true)?
        }
        "va_bits" => cfg.machine.va_bits = u32_of(key, one(key, args, key_span)?)?,
        "levels" => cfg.machine.levels = u32_of(key, one(key, args, key_span)?)?,
        "pte_size" => {
            let a = one(key, args, key_span)?;
            let n = size_of(cfg, key, a, Ints::Bytes, false)?;
            cfg.machine.pte_size = u32::try_from(n).unwrap_or(u32::MAX);
        }
        "seed" => cfg.seed = int_of(key, one(key, args, key_span)?)?,
        "aslr" => cfg.os.aslr = on_off(key, one(key, args, key_span)?)?,
        "pie" => cfg.os.pie = on_off(key, one(key, args, key_span)?)?,
        "pcid" => cfg.machine.pcid = on_off(key, one(key, args, key_span)?)?,
        "coalesce" => cfg.heap.teach_heap.coalesce = on_off(key, one(key, args, key_span)?)?,
        "allocator" => {
            let names = AllocatorKind::ALL.map(|a| a.name());
            cfg.heap.allocator = choice(
                key,
                one(key, args, key_span)?,
                &names,
                AllocatorKind::from_name,
                "an allocator",
            )?
        }
        "order" => {
            let names = FreeListOrder::ALL.map(|o| o.name());
            cfg.heap.teach_heap.order = choice(
                key,
                one(key, args, key_span)?,
                &names,
                FreeListOrder::from_name,
                "a free-list order",
            )?
        }
        "addresses" => {
            let names = Addresses::ALL.map(|a| a.name());
            cfg.heap.addresses = choice(
                key,
                one(key, args, key_span)?,
                &names,
                Addresses::from_name,
                "a number base",
            )?
        }
        "scope" => {
            cfg.machine.scope = choice(
                key,
                one(key, args, key_span)?,
                &SCOPES,
                scope_from,
                "a scope",
            )?
        }
        "conventions" => {
            let names = Conventions::ALL.map(|c| c.name());
            cfg.conventions = choice(
                key,
                one(key, args, key_span)?,
                &names,
                Conventions::from_name,
                "a set of conventions",
            )?
        }
        "clock_bits" => cfg.machine.clock_bits = u32_of(key, one(key, args, key_span)?)?,
        "arch" => {
            let names = Arch::ALL.map(|a| a.name());
            cfg.arch = choice(
                key,
                one(key, args, key_span)?,
                &names,
                Arch::from_name,
                "an architecture",
            )?
        }
        "base_bounds" => cfg.machine.base_bounds = Some(two_numbers(key, args, key_span)?),
        "seg0" => cfg.machine.segments[0] = Some(two_numbers(key, args, key_span)?),
        "seg1" => cfg.machine.segments[1] = Some(two_numbers(key, args, key_span)?),
        "pdbr" => {
            let arg = one(key, args, key_span)?;
            let page = int_of(key, arg)?;
            if page >= crate::machine::small::PAGES {
                return Err(bad(
                    key,
                    arg.span,
                    format!(
                        "the page directory is in one of pages 0 to {}: a 7-bit page number",
                        crate::machine::small::PAGES - 1
                    ),
                ));
            }
            cfg.machine.pdbr = Some(page);
        }
        "align" => {
            cfg.heap.teach_heap.align =
                size_of(cfg, key, one(key, args, key_span)?, Ints::Bytes, false)?
        }
        "header" => {
            cfg.heap.teach_heap.header =
                size_of(cfg, key, one(key, args, key_span)?, Ints::Bytes, false)?
        }
        "replace" => apply_replace(cfg, args, key_span)?,
        "tlb" => apply_tlb(cfg, args, key_span)?,
        "heap" => apply_heap(cfg, args, key_span)?,
        _ => {
            let list = or_list(SETTINGS);
            let (label, help) = match did_you_mean(key, SETTINGS, Reach::Loose) {
                Some(s) => (
                    format!("did you mean `{s}`?"),
                    format!("did you mean `{s}`? A machine setting is one of {list}"),
                ),
                None => (
                    "not a machine setting".to_string(),
                    format!("a machine setting is one of {list}"),
                ),
            };
            return Err(MachineError::UnknownSetting {
                key: key.to_string(),
                span: key_span.into(),
                label,
                help,
                src: None,
            });
        }
    }
    Ok(())
}

/// `replace POLICY [global|local]`, in either order.
fn apply_replace(
    cfg: &mut ScenarioConfig,
    args: &[Arg],
    key_span: Span,
) -> Result<(), MachineError> {
    const KEY: &str = "replace";
    if args.is_empty() {
        return Err(bad(KEY, key_span, "no policy given"));
    }
    let (mut policy, mut scope) = (None, None);
    for a in args {
        let w = word_of(a);
        if let Some(p) = w.and_then(Policy::from_name) {
            if policy.replace(p).is_some() {
                return Err(bad(KEY, a.span, "a second policy"));
            }
        } else if let Some(s) = w.and_then(scope_from) {
            if scope.replace(s).is_some() {
                return Err(bad(KEY, a.span, "a second scope"));
            }
        } else {
            let words = POLICIES.iter().chain(&SCOPES).copied();
            let label = match w.and_then(|w| did_you_mean(w, words, Reach::Loose)) {
                Some(s) => format!("{} is not a policy; did you mean `{s}`?", describe(a)),
                None => format!("{} is not a replacement policy", describe(a)),
            };
            return Err(bad(KEY, a.span, label));
        }
    }
    if let Some(p) = policy {
        cfg.machine.replace = p;
    }
    if let Some(s) = scope {
        cfg.machine.scope = s;
    }
    Ok(())
}

/// `tlb off`, `tlb on`, or `tlb N [entries] [fifo|lru] [W-way]` with the words in any order.
/// What it does not name (policy, ways) keeps its previous value, so a sweep over entries keeps
/// the machine's policy.
fn apply_tlb(cfg: &mut ScenarioConfig, args: &[Arg], key_span: Span) -> Result<(), MachineError> {
    const KEY: &str = "tlb";
    let Some((first, rest)) = args.split_first() else {
        return Err(bad(KEY, key_span, "no value given"));
    };
    match (&first.kind, rest) {
        (ArgKind::Word(w), []) if w == "off" => {
            cfg.machine.tlb.enabled = false;
            return Ok(());
        }
        (ArgKind::Word(w), []) if w == "on" => {
            cfg.machine.tlb.enabled = true;
            return Ok(());
        }
        (ArgKind::Word(w), [_, ..]) if w == "off" || w == "on" => {
            return Err(bad(
                KEY,
                args_span(rest, key_span),
                format!("nothing follows `tlb {w}`"),
            ));
        }
        _ => {}
    }
    let entries = match &first.kind {
        ArgKind::Int(n) => u32::try_from(*n)
            .map_err(|_| bad(KEY, first.span, format!("{n} entries are far too many")))?,
        _ => {
            return Err(bad(
                KEY,
                first.span,
                format!("{} is not a number of entries", describe(first)),
            ))
        }
    };
    let (mut policy, mut ways, mut said_entries) = (None, None, false);
    for a in rest {
        match &a.kind {
            ArgKind::Word(w) if w == "entries" || w == "entry" => {
                if std::mem::replace(&mut said_entries, true) {
                    return Err(bad(KEY, a.span, "`entries` a second time"));
                }
            }
            ArgKind::Word(w) if TlbPolicy::from_name(w).is_some() => {
                if policy.is_some() {
                    return Err(bad(KEY, a.span, "a second TLB policy"));
                }
                policy = TlbPolicy::from_name(w);
            }
            ArgKind::Ways(w) => {
                let w = u32::try_from(*w)
                    .map_err(|_| bad(KEY, a.span, format!("{w} ways are far too many")))?;
                if ways.replace(w).is_some() {
                    return Err(bad(KEY, a.span, "a second associativity"));
                }
            }
            _ => {
                let words = ["entries"]
                    .into_iter()
                    .chain(TlbPolicy::ALL.into_iter().map(TlbPolicy::name));
                let label = match word_of(a).and_then(|w| did_you_mean(w, words, Reach::Loose)) {
                    Some(s) => format!(
                        "{} is not understood here; did you mean `{s}`?",
                        describe(a)
                    ),
                    None if word_of(a).is_some_and(|w| Policy::from_name(w).is_some()) => {
                        format!("{}: a TLB replaces fifo or lru", describe(a))
                    }
                    None => format!("{} is not understood here", describe(a)),
                };
                return Err(bad(KEY, a.span, label));
            }
        }
    }
    cfg.machine.tlb.enabled = true;
    cfg.machine.tlb.entries = entries;
    if let Some(p) = policy {
        cfg.machine.tlb.policy = p;
    }
    if ways.is_some() {
        cfg.machine.tlb.ways = ways;
    }
    Ok(())
}

/// `heap SIZE [at ADDR]`: the teaching allocators' fixed heap.
fn apply_heap(cfg: &mut ScenarioConfig, args: &[Arg], key_span: Span) -> Result<(), MachineError> {
    const KEY: &str = "heap";
    let Some((size, rest)) = args.split_first() else {
        return Err(bad(KEY, key_span, "no size given"));
    };
    let bytes = size_of(cfg, KEY, size, Ints::Rejected, true)?;
    let base = match rest {
        [] => None,
        [at, tail @ ..] => {
            if word_of(at) != Some("at") {
                return Err(bad(
                    KEY,
                    at.span,
                    format!("expected `at ADDRESS`, found {}", describe(at)),
                ));
            }
            match tail {
                [] => return Err(bad(KEY, at.span, "`at` needs an address after it")),
                [addr] => match addr.kind {
                    ArgKind::Int(n) => Some((n, addr.hex)),
                    _ => {
                        return Err(bad(
                            KEY,
                            addr.span,
                            format!("{} is not an address", describe(addr)),
                        ))
                    }
                },
                [_, extra @ ..] => {
                    return Err(bad(
                        KEY,
                        args_span(extra, key_span),
                        "nothing follows the address",
                    ))
                }
            }
        }
    };
    cfg.heap.teach_heap.size = bytes;
    if let Some((b, hex)) = base {
        cfg.heap.teach_heap.base = b;
        cfg.heap.heap_base_hex = hex;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

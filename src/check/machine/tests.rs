//! Tests of `machine` statements: settings, their errors and where those errors point.

use super::*;
use crate::syntax::ast::{Ident, Setting, SizeLit, StrLit};
use miette::Diagnostic;

fn w(s: &str) -> ArgKind {
    ArgKind::Word(s.into())
}
fn int(n: u64) -> ArgKind {
    ArgKind::Int(n)
}
fn sz(value: u64, unit: SizeUnit) -> ArgKind {
    ArgKind::Size(SizeLit { value, unit })
}

/// Setting `i` of a block: its key at `100·i`, its arguments from `100·i + 20`, ten bytes apart,
/// so a span identifies which setting and argument an error points at.
fn setting(i: usize, key: &str, args: Vec<ArgKind>) -> Setting {
    let b = 100 * (i + 1);
    let args: Vec<Arg> = args
        .into_iter()
        .enumerate()
        .map(|(j, kind)| Arg {
            kind,
            span: Span::new(b + 20 + 10 * j, b + 25 + 10 * j),
            hex: false,
        })
        .collect();
    let end = args.last().map_or(b + key.len(), |a| a.span.end);
    Setting {
        key: Ident {
            name: key.into(),
            span: Span::new(b, b + key.len()),
        },
        args,
        span: Span::new(b, end),
    }
}

fn arg_span(i: usize, j: usize) -> miette::SourceSpan {
    let b = 100 * (i + 1) + 20 + 10 * j;
    Span::new(b, b + 5).into()
}

fn block(settings: Vec<(&str, Vec<ArgKind>)>) -> MachineSpec {
    with_base(None, settings)
}

fn with_base(base: Option<ProfileRef>, settings: Vec<(&str, Vec<ArgKind>)>) -> MachineSpec {
    MachineSpec {
        base,
        settings: settings
            .into_iter()
            .enumerate()
            .map(|(i, (k, a))| setting(i, k, a))
            .collect(),
    }
}

fn builtin(name: &str) -> Option<ProfileRef> {
    Some(ProfileRef::Builtin(Ident {
        name: name.into(),
        span: Span::new(8, 8 + name.len()),
    }))
}

fn ok(spec: &MachineSpec) -> ScenarioConfig {
    match resolve(spec, Path::new(".")) {
        Ok(c) => c,
        Err(e) => panic!("unexpected errors: {e:?}"),
    }
}

fn errs(spec: &MachineSpec) -> Vec<MachineError> {
    resolve(spec, Path::new(".")).expect_err("expected errors")
}

fn code(e: &MachineError) -> String {
    e.code().map(|c| c.to_string()).unwrap_or_default()
}

fn codes(errors: &[MachineError]) -> Vec<String> {
    errors.iter().map(code).collect()
}

fn help(e: &MachineError) -> String {
    e.help().map(|h| h.to_string()).unwrap_or_default()
}

#[test]
fn no_base_is_the_default_machine() {
    assert_eq!(ok(&block(vec![])), ScenarioConfig::default_x86_64());
}

#[test]
fn builtin_with_overrides() {
    let c = ok(&with_base(
        builtin("tiny"),
        vec![("memory", vec![sz(8, SizeUnit::Pages)])],
    ));
    assert_eq!(
        (
            c.machine.name.as_str(),
            c.machine.page_size,
            c.machine.memory
        ),
        ("tiny", 256, 2048)
    );
}

#[test]
fn language_example_block() {
    let c = ok(&block(vec![
        ("page_size", vec![sz(4, SizeUnit::KiB)]),
        ("memory", vec![sz(12, SizeUnit::KiB)]),
        ("swap", vec![sz(64, SizeUnit::KiB)]),
        ("va_bits", vec![int(48)]),
        ("levels", vec![int(4)]),
        ("tlb", vec![int(16), w("entries"), w("lru")]),
        ("replace", vec![w("lru")]),
        ("seed", vec![int(42)]),
        ("aslr", vec![w("off")]),
        ("pie", vec![w("on")]),
        ("pcid", vec![w("on")]),
        ("allocator", vec![w("first_fit")]),
        ("heap", vec![sz(100, SizeUnit::B), w("at"), int(1000)]),
        ("header", vec![int(4)]),
        ("coalesce", vec![w("on")]),
        ("order", vec![w("size_desc")]),
        ("stack_limit", vec![sz(1, SizeUnit::MiB)]),
        ("pte_size", vec![sz(8, SizeUnit::B)]),
    ]));
    assert_eq!(c.machine.memory, 12 << 10);
    assert_eq!(c.machine.frames(), 3);
    assert_eq!(c.machine.swap, 64 << 10);
    assert_eq!(c.machine.tlb.entries, 16);
    assert_eq!(c.seed, 42);
    assert!(c.os.pie && c.machine.pcid && !c.os.aslr);
    assert_eq!(c.heap.allocator, AllocatorKind::FirstFit);
    assert_eq!(
        (c.heap.teach_heap.size, c.heap.teach_heap.base),
        (100, 1000)
    );
    assert_eq!(c.heap.teach_heap.header, 4);
    assert!(c.heap.teach_heap.coalesce);
    assert_eq!(c.heap.teach_heap.order, FreeListOrder::SizeDesc);
    assert_eq!(c.os.stack_limit, 1 << 20);
}

#[test]
fn addresses_setting_and_the_base_as_written() {
    use crate::heap::Addresses;
    use crate::units::Radix;
    let teach = |base: Arg, extra: Vec<(&str, Vec<ArgKind>)>| {
        let mut spec = block([vec![("allocator", vec![w("first_fit")])], extra].concat());
        spec.settings.push(Setting {
            key: Ident {
                name: "heap".into(),
                span: Span::new(900, 904),
            },
            args: vec![
                Arg {
                    kind: sz(100, SizeUnit::B),
                    span: Span::new(905, 910),
                    hex: false,
                },
                Arg {
                    kind: w("at"),
                    span: Span::new(911, 913),
                    hex: false,
                },
                base,
            ],
            span: Span::new(900, 920),
        });
        ok(&spec)
    };
    let dec = Arg {
        kind: int(1000),
        span: Span::new(914, 918),
        hex: false,
    };
    let hex = Arg {
        kind: int(1000),
        span: Span::new(914, 919),
        hex: true,
    };
    assert_eq!(teach(dec.clone(), vec![]).radix(), Radix::Decimal);
    let c = teach(hex.clone(), vec![]);
    assert_eq!((c.heap.teach_heap.base, c.radix()), (1000, Radix::Hex));
    let c = teach(dec, vec![("addresses", vec![w("hex")])]);
    assert_eq!((c.heap.addresses, c.radix()), (Addresses::Hex, Radix::Hex));
    let c = teach(hex, vec![("addresses", vec![w("decimal")])]);
    assert_eq!(c.radix(), Radix::Decimal);
    assert_eq!(ok(&block(vec![])).radix(), Radix::Hex);
    let e = errs(&block(vec![("addresses", vec![w("decimal")])]));
    assert_eq!(code(&e[0]), "mem::machine::addresses");
    let e = errs(&block(vec![("addresses", vec![w("octal")])]));
    assert_eq!(code(&e[0]), "mem::machine::bad_value");
}

#[test]
fn pages_use_the_blocks_page_size_wherever_it_is_written() {
    // `memory 3 pages` before `page_size 256 B` still means three 256-byte frames.
    let c = ok(&block(vec![
        ("memory", vec![sz(3, SizeUnit::Pages)]),
        ("stack_limit", vec![sz(4, SizeUnit::Pages)]),
        ("page_size", vec![sz(256, SizeUnit::B)]),
        ("va_bits", vec![int(16)]),
        ("levels", vec![int(1)]),
    ]));
    assert_eq!(
        (c.machine.memory, c.machine.frames(), c.os.stack_limit),
        (768, 3, 1024)
    );
}

#[test]
fn page_size_applies_first_so_only_the_swap_is_wrong() {
    // tests/cases/machine/memory_in_pages.mem
    let e = errs(&block(vec![
        ("memory", vec![sz(3, SizeUnit::Pages)]),
        ("page_size", vec![sz(64, SizeUnit::KiB)]),
        ("levels", vec![int(3)]),
        ("swap", vec![sz(100, SizeUnit::KiB)]),
    ]));
    assert_eq!(codes(&e), ["mem::machine::swap"]);
    assert_eq!(e[0].span(), arg_span(3, 0));
    assert!(
        help(&e[0]).contains("64 KiB and 128 KiB"),
        "{}",
        help(&e[0])
    );
}

#[test]
fn heap_without_base_keeps_the_base() {
    let c = ok(&block(vec![("heap", vec![sz(2, SizeUnit::KiB)])]));
    assert_eq!(
        (c.heap.teach_heap.size, c.heap.teach_heap.base),
        (2048, 1000)
    );
}

#[test]
fn sweep_values_apply_alone() {
    let mut cfg = profile::builtin("tiny").unwrap();
    let arg = |kind| Arg {
        kind,
        span: Span::new(5, 10),
        hex: false,
    };
    apply_setting(
        &mut cfg,
        "memory",
        &[arg(sz(3, SizeUnit::Pages))],
        Span::new(0, 6),
    )
    .unwrap();
    assert_eq!(cfg.machine.memory, 768);
    apply_setting(&mut cfg, "replace", &[arg(w("opt"))], Span::new(0, 7)).unwrap();
    assert_eq!(cfg.machine.replace, Policy::Opt);
    apply_setting(&mut cfg, "tlb", &[arg(int(8))], Span::new(0, 3)).unwrap();
    assert_eq!(cfg.machine.tlb.entries, 8);
    let mut spans = FieldSpans::new(Span::new(0, 6));
    spans.set_key("memory", Span::new(5, 10));
    assert!(validate(&cfg, &spans).is_empty());
}

#[test]
fn tlb_forms() {
    let tlb = |args: Vec<ArgKind>| ok(&block(vec![("tlb", args)])).machine.tlb;
    let t = tlb(vec![int(16), w("entries"), w("fifo"), ArgKind::Ways(4)]);
    assert_eq!(
        (t.enabled, t.entries, t.policy, t.ways),
        (true, 16, TlbPolicy::Fifo, Some(4))
    );
    let t = tlb(vec![int(32), ArgKind::Ways(8), w("lru"), w("entries")]);
    assert_eq!((t.entries, t.policy, t.ways), (32, TlbPolicy::Lru, Some(8)));
    assert_eq!(tlb(vec![int(8)]).entries, 8);
    assert!(!tlb(vec![w("off")]).enabled);

    let e = errs(&block(vec![("tlb", vec![int(16), w("entires")])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);
    assert_eq!(e[0].span(), arg_span(0, 1));
    assert!(e[0].labels().is_some());
    assert!(
        help(&e[0]).contains("16 entries lru 4-way"),
        "{}",
        help(&e[0])
    );
    let e = errs(&block(vec![("tlb", vec![w("entries"), int(16)])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);
    let e = errs(&block(vec![("tlb", vec![int(12), ArgKind::Ways(8)])]));
    assert_eq!(codes(&e), ["mem::machine::tlb"]);
    assert_eq!(e[0].span(), Span::new(120, 135).into());
    let e = errs(&block(vec![("tlb", vec![int(0)])]));
    assert_eq!(codes(&e), ["mem::machine::tlb"]);
}

#[test]
fn replace_with_scope_in_either_order() {
    let c = ok(&block(vec![("replace", vec![w("fifo"), w("local")])]));
    assert_eq!(
        (c.machine.replace, c.machine.scope),
        (Policy::Fifo, Scope::Local)
    );
    let c = ok(&block(vec![("replace", vec![w("local"), w("clock")])]));
    assert_eq!(
        (c.machine.replace, c.machine.scope),
        (Policy::Clock, Scope::Local)
    );
    let e = errs(&block(vec![("replace", vec![w("lur")])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);
    assert!(e[0].to_string().contains("replace"));
    let label = e[0].labels().unwrap().next().unwrap();
    assert!(
        label.label().unwrap().contains("did you mean `lru`?"),
        "{label:?}"
    );
}

#[test]
fn unknown_profile_suggests_and_lists() {
    let e = errs(&with_base(builtin("x86"), vec![]));
    assert_eq!(codes(&e), ["mem::machine::unknown_profile"]);
    assert_eq!(e[0].span(), Span::new(8, 11).into());
    let h = help(&e[0]);
    assert!(h.starts_with("did you mean `x86_64`?"), "{h}");
    assert!(h.contains("riscv_sv39") && h.contains("tiny"), "{h}");
}

#[test]
fn unknown_profile_still_reports_bad_settings_but_no_inconsistency() {
    let e = errs(&with_base(
        builtin("tinny"),
        vec![
            ("memory", vec![sz(1, SizeUnit::KiB)]),
            ("aslr", vec![w("maybe")]),
        ],
    ));
    assert_eq!(
        codes(&e),
        ["mem::machine::unknown_profile", "mem::machine::bad_value"]
    );
}

#[test]
fn unknown_setting_suggests() {
    let e = errs(&block(vec![("pagesize", vec![sz(4, SizeUnit::KiB)])]));
    assert_eq!(codes(&e), ["mem::machine::unknown_setting"]);
    assert_eq!(e[0].to_string(), "unknown machine setting `pagesize`");
    assert!(help(&e[0]).starts_with("did you mean `page_size`?"));
    assert!(help(&e[0]).contains("stack_limit"));
    assert_eq!(e[0].span(), Span::new(100, 108).into());
}

#[test]
fn bad_values_say_what_was_expected() {
    let e = errs(&block(vec![("memory", vec![w("lots")])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);
    assert_eq!(
        help(&e[0]),
        "`memory` takes a size such as `64 KiB` or `16 pages`"
    );
    assert_eq!(e[0].span(), arg_span(0, 0));

    let e = errs(&block(vec![("memory", vec![int(4096)])]));
    assert!(help(&e[0]).contains("`4096 B`"), "{}", help(&e[0]));

    let e = errs(&block(vec![("memory", vec![])]));
    assert_eq!(e[0].span(), Span::new(100, 106).into());

    let e = errs(&block(vec![(
        "memory",
        vec![sz(4, SizeUnit::KiB), sz(8, SizeUnit::KiB)],
    )]));
    assert_eq!(e[0].span(), arg_span(0, 1));

    let e = errs(&block(vec![("page_size", vec![sz(2, SizeUnit::Pages)])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);

    let e = errs(&block(vec![("memory", vec![sz(u64::MAX, SizeUnit::TiB)])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);

    let e = errs(&block(vec![("levels", vec![int(u64::MAX)])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);

    for (key, args) in [
        ("aslr", vec![w("yes")]),
        ("allocator", vec![w("firstfit")]),
        ("order", vec![w("by_size")]),
        ("heap", vec![sz(100, SizeUnit::B), w("on"), int(5)]),
        ("heap", vec![sz(100, SizeUnit::B), w("at")]),
        ("seed", vec![ArgKind::Str("x".into())]),
        ("va_bits", vec![sz(48, SizeUnit::B)]),
    ] {
        let e = errs(&block(vec![(key, args)]));
        assert_eq!(codes(&e), ["mem::machine::bad_value"], "{key}");
        assert!(help(&e[0]).starts_with(&format!("`{key}` takes ")), "{key}");
    }
    let e = errs(&block(vec![("allocator", vec![w("firstfit")])]));
    let label = e[0].labels().unwrap().next().unwrap();
    assert!(label.label().unwrap().contains("`first_fit`"));
}

#[test]
fn swap_zero_and_off() {
    assert_eq!(ok(&block(vec![("swap", vec![int(0)])])).machine.swap, 0);
    assert_eq!(ok(&block(vec![("swap", vec![w("off")])])).machine.swap, 0);
    let e = errs(&block(vec![("swap", vec![int(5)])]));
    assert_eq!(codes(&e), ["mem::machine::bad_value"]);
}

#[test]
fn every_error_at_once_pointing_at_its_value() {
    let e = errs(&block(vec![
        ("pagesize", vec![sz(4, SizeUnit::KiB)]),
        ("memory", vec![sz(10, SizeUnit::KiB)]),
        ("replace", vec![w("lfu")]),
        ("levels", vec![int(3)]),
        ("swap", vec![sz(1, SizeUnit::KiB)]),
    ]));
    assert_eq!(
        codes(&e),
        [
            "mem::machine::unknown_setting",
            "mem::machine::bad_value",
            "mem::machine::levels",
            "mem::machine::memory",
            "mem::machine::swap",
        ]
    );
    assert_eq!(e[2].span(), arg_span(3, 0));
    assert_eq!(e[3].span(), arg_span(1, 0));
    assert!(help(&e[3]).contains("the nearest valid sizes are 8 KiB and 12 KiB"));
    assert_eq!(e[4].span(), arg_span(4, 0));
    assert!(e.iter().all(|e| !e.has_own_source()));
}

#[test]
fn profile_values_point_at_the_base_or_the_change() {
    // aarch64_64k has 3 levels; forcing 4 KiB pages leaves too few, and page_size is the change.
    let e = errs(&with_base(
        builtin("aarch64_64k"),
        vec![("page_size", vec![sz(4, SizeUnit::KiB)])],
    ));
    assert_eq!(codes(&e), ["mem::machine::levels"]);
    assert_eq!(e[0].span(), arg_span(0, 0));
    assert!(
        help(&e[0]).contains("36 VPN bits need 4 levels"),
        "{}",
        help(&e[0])
    );
    // The tiny machine's stack limit is 4 KiB: 1 KiB pages are fine, but the levels are not,
    // and with no setting for them the span falls back to what changed.
    let e = errs(&with_base(
        builtin("tiny"),
        vec![("va_bits", vec![int(32)])],
    ));
    assert_eq!(codes(&e), ["mem::machine::levels"]);
    assert_eq!(e[0].span(), arg_span(0, 0));
}

#[test]
fn profile_files_resolve_relative_to_base_dir() {
    let dir = std::env::temp_dir().join(format!("memsim-profile-test-{}", std::process::id()));
    let boards = dir.join("boards");
    std::fs::create_dir_all(&boards).unwrap();
    std::fs::write(
        boards.join("small.yaml"),
        "description: small\nmemory: 64 KiB\n",
    )
    .unwrap();
    let bad = "description: broken\npage_size: 4 KiB\nmemory: 10 KiB\n";
    std::fs::write(boards.join("bad.yaml"), bad).unwrap();
    let file = |p: &str| {
        Some(ProfileRef::File(StrLit {
            value: p.into(),
            span: Span::new(8, 10 + p.len()),
        }))
    };

    let c = resolve(
        &with_base(
            file("boards/small.yaml"),
            vec![("swap", vec![sz(4, SizeUnit::KiB)])],
        ),
        &dir,
    )
    .unwrap();
    assert_eq!(
        (c.machine.name.as_str(), c.machine.memory, c.machine.swap),
        ("small", 64 << 10, 4096)
    );

    let e = resolve(&with_base(file("boards/bad.yaml"), vec![]), &dir).unwrap_err();
    assert_eq!(codes(&e), ["mem::machine::memory"]);
    assert!(e[0].has_own_source());
    let src = e[0].source_code().unwrap();
    let contents = src.read_span(&e[0].span(), 0, 0).unwrap();
    assert_eq!(contents.line(), 2); // 0-based: the third line, `memory: 10 KiB`
    assert_eq!(contents.name(), Some("boards/bad.yaml"));

    let e = resolve(&with_base(file("boards/none.yaml"), vec![]), &dir).unwrap_err();
    assert_eq!(codes(&e), ["mem::machine::profile_file"]);
    assert!(e[0].to_string().contains("no such file"), "{}", e[0]);
    assert!(!e[0].has_own_source());

    std::fs::remove_dir_all(&dir).unwrap();
}

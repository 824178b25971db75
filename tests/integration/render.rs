//! Rich output: every picture is well-formed SVG with hover titles, every `show` is an HTML
//! table, the pictures and tables of a few scenarios on several machines match their
//! snapshots (tests/integration/snapshots/), and the data the pictures draw agrees with what
//! the machine then does.

use memsim::events::Event;
use memsim::render::{html, svg};
use memsim::session::{Options, Session};
use memsim::session::{Output, Snapshot};
use memsim::ChunkResult;

use crate::test::Test;

fn run(src: &str) -> ChunkResult {
    let mut s = Session::new(Options {
        report_leaks: false,
        ..Options::default()
    });
    let r = s.execute("render.mem", src);
    assert!(
        r.diagnostics.is_empty(),
        "{:?}",
        r.diagnostics.iter().map(|d| &d.code).collect::<Vec<_>>()
    );
    r
}

fn shows(r: &ChunkResult) -> Vec<&Snapshot> {
    r.steps
        .iter()
        .flat_map(|s| s.outputs())
        .filter_map(|o| match o {
            Output::Show { snapshot } => Some(snapshot),
            _ => None,
        })
        .collect()
}

/// Parses a picture and checks what every picture must have: the SVG namespace, a size, a
/// title for the whole and one for every group (hover text), no scripts.
fn check_svg(s: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(s).unwrap_or_else(|e| panic!("{e}\n{s}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(root.attribute("width").is_some() && root.attribute("viewBox").is_some());
    assert!(root
        .children()
        .any(|c| c.has_tag_name("title") && c.text().is_some_and(|t| !t.is_empty())));
    for g in doc.descendants().filter(|n| n.has_tag_name("g")) {
        let first = g.children().find(|c| c.is_element());
        assert!(
            first.is_some_and(|c| c.has_tag_name("title")),
            "a group without a title in\n{s}"
        );
    }
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    assert!(!s.contains("javascript:") && !s.contains("href="));
    doc
}

/// An HTML fragment is a table of the given class; it is also well-formed XML (so nothing is
/// left unescaped).
fn check_table(s: &str, target: &str) {
    let wrapped = format!("<div>{s}</div>");
    let doc = roxmltree::Document::parse(&wrapped).unwrap_or_else(|e| panic!("{e}\n{s}"));
    let table = doc
        .descendants()
        .find(|n| n.has_tag_name("table"))
        .expect("a table");
    assert_eq!(
        table.attribute("class"),
        Some(format!("memsim memsim-{target}").as_str())
    );
    assert!(table.descendants().any(|n| n.has_tag_name("th")));
}

fn target(s: &Snapshot) -> &'static str {
    match s {
        Snapshot::Maps { .. } => "maps",
        Snapshot::Smaps { .. } => "smaps",
        Snapshot::PageTable { .. } => "pagetable",
        Snapshot::Walk(_) => "walk",
        Snapshot::Tlb { .. } => "tlb",
        Snapshot::Frames { .. } => "frames",
        Snapshot::Heap { .. } => "heap",
        Snapshot::Stats(_) => "stats",
        Snapshot::Memory { .. } => "memory",
        Snapshot::Swap { .. } => "swap",
        Snapshot::Sweep { .. } => "sweep",
        Snapshot::Machine { .. } => "machine",
    }
}

/// Every show of a scenario as HTML and SVG, checked, then compared with its snapshot.
fn render_scenario(name: &str, src: &str) {
    let r = run(src);
    let mut out = String::new();
    for s in shows(&r) {
        let t = target(s);
        let h = html::snapshot(s);
        check_table(&h, t);
        out.push_str(&format!("==== {t} (html)\n{h}"));
        let pic = svg::snapshot(s);
        let empty_heap = matches!(s, Snapshot::Heap { rows, .. } if rows.is_empty());
        assert_eq!(
            pic.is_some(),
            matches!(t, "maps" | "frames" | "walk" | "heap" | "sweep") && !empty_heap,
            "{t}"
        );
        if let Some(p) = pic {
            check_svg(&p);
            out.push_str(&format!("==== {t} (svg)\n{p}"));
        }
    }
    let steps = html::steps(&r.steps);
    check_table(&steps, "trace");
    out.push_str(&format!("==== trace (html)\n{steps}"));
    insta::assert_snapshot!(name, out);
}

#[test]
fn x86_64_glibc_pictures() {
    render_scenario(
        "x86_64_glibc",
        "let a = malloc(40)\nlet b = malloc(100)\nlet c = malloc(2000)\nlet d = malloc(24)\n\
         let m = malloc(200 KiB)\nfree(b)\nfree(c)\na[0] = 1\nm[5000] = 2\n\
         let child = fork()\nin child { a[0] = 3 }\nshow maps\nshow frames\nshow walk a\n\
         show walk 0x1234567\nshow heap\nshow stats\nshow tlb\nshow smaps\nshow swap\n\
         show memory a 20\n",
    );
}

#[test]
fn tiny_machine_pictures() {
    render_scenario(
        "tiny",
        "machine tiny\nlet p: *u8 = heap.start\nbrk(heap.start + 512)\np[0] = 0x41\n\
         p[300] = 7\nshow pagetable\nshow walk p + 300\nshow walk 0x10\nshow frames\n\
         show maps\nshow heap\nlet q = malloc(5)\nshow heap\n",
    );
}

#[test]
fn i386_two_level_walk_and_clock_frames() {
    render_scenario(
        "i386_clock",
        "machine i386 { memory 3 pages; replace clock }\nrefs 1 2 3\nrefs 4\nrefs 2\n\
         show frames\nlet p: *int = malloc(8)\np[0] = 1\nshow walk p\n",
    );
}

#[test]
fn teaching_heap_picture() {
    render_scenario(
        "teach_heap",
        "machine { allocator first_fit; heap 100 B at 1000; header 0; coalesce on }\n\
         let a = malloc(20)\nlet b = malloc(30)\nlet c = malloc(10)\nfree(b)\nshow heap\n",
    );
}

#[test]
fn belady_sweep_is_pivoted_and_charted() {
    let r = run(
        "sweep replace in [fifo, lru, opt], memory in 1..=5 pages report stats.faults {\n\
         refs 1 2 3 4 1 2 5 1 2 3 4 5\n}\n",
    );
    let s = shows(&r)[0];
    let h = html::snapshot(s);
    // Textbook layout: one row per memory size, one column per policy.
    let doc = roxmltree::Document::parse(&h).unwrap();
    let rows: Vec<Vec<String>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .map(|tr| {
            tr.children()
                .filter(|c| c.is_element())
                .map(|c| c.text().unwrap_or("").to_string())
                .collect()
        })
        .collect();
    assert_eq!(rows[0], ["memory \\ replace", "fifo", "lru", "opt"]);
    assert_eq!(rows[3], ["3 pages", "9", "10", "7"]);
    assert_eq!(rows[4], ["4 pages", "10", "8", "6"]);
    assert_eq!(rows.len(), 6);
    // The chart: one line per policy; FIFO's line goes up from 3 to 4 frames (Belady).
    let pic = svg::snapshot(s).expect("a chart");
    let doc = check_svg(&pic);
    let fifo = doc
        .descendants()
        .find(|g| {
            g.has_tag_name("g")
                && g.children()
                    .any(|c| c.has_tag_name("title") && c.text() == Some("fifo"))
                && g.children().any(|c| c.has_tag_name("path"))
        })
        .expect("fifo's line");
    let d = fifo
        .children()
        .find(|c| c.has_tag_name("path"))
        .and_then(|p| p.attribute("d"))
        .unwrap();
    let ys: Vec<f64> = d
        .split(['M', 'L'])
        .filter(|p| !p.is_empty())
        .map(|p| p.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(ys.len(), 5);
    // SVG y grows downwards: more faults is a smaller y.
    assert!(
        ys[3] < ys[2],
        "FIFO's faults do not rise from 3 to 4 frames: {d}"
    );
    insta::assert_snapshot!("belady_chart", pic);
}

#[test]
fn a_one_setting_sweep_is_a_plain_table_and_a_chart() {
    let r = run("machine { memory 64 pages }\nsweep tlb in [1, 2, 4, 8] report stats.tlb.hits, stats.tlb.misses {\n    for i in 0..4 { refs 0 1 2 3 4 5 6 7 }\n}\n");
    let s = shows(&r)[0];
    check_table(&html::snapshot(s), "sweep");
    let pic = svg::snapshot(s).expect("a chart");
    let doc = check_svg(&pic);
    let lines = doc
        .descendants()
        .filter(|g| {
            g.has_tag_name("g")
                && g.children().any(|c| {
                    c.has_tag_name("title")
                        && matches!(c.text(), Some("stats.tlb.hits" | "stats.tlb.misses"))
                })
        })
        .count();
    // Each column: its line and its legend entry.
    assert_eq!(lines, 4);
}

/// The frame `show frames` marks as the next victim is the one the next fault evicts, under
/// every policy.
#[test]
fn the_marked_victim_is_the_next_one_evicted() {
    for policy in ["fifo", "lru", "clock", "random"] {
        let r = run(&format!(
            "machine {{ memory 4 pages; replace {policy} }}\nrefs 1 2 3 4 1 2 5 1\nshow frames\n\
             refs 9\n"
        ));
        let marked = match shows(&r)[0] {
            Snapshot::Frames { next_victim, .. } => next_victim.expect("a victim"),
            _ => unreachable!(),
        };
        let evicted = r
            .steps
            .last()
            .unwrap()
            .events()
            .find_map(|e| match e {
                Event::Eviction { pfn, .. } => Some(*pfn),
                _ => None,
            })
            .expect("an eviction");
        assert_eq!(marked, evicted, "{policy}");
        let pic = svg::snapshot(shows(&r)[0]).unwrap();
        assert!(
            pic.contains(&format!("frame {marked:#x}: ")) && pic.contains("evicted next"),
            "{policy}"
        );
    }
}

/// Resident pages per region add up to the process's resident size; each region's ranges lie
/// inside it.
#[test]
fn resident_pages_per_region_add_up_to_rss() {
    let r = run(
        "let p: *u8 = malloc(64 KiB)\nfor i in 0..8 { p[i * 4096] = 1 }\nlet q: *u8 = malloc(1 MiB)\n\
         q[0] = 1\nq[700000] = 2\nshow maps\n",
    );
    let Snapshot::Maps {
        rows, page_size, ..
    } = shows(&r)[0]
    else {
        unreachable!()
    };
    let mut total = 0;
    for m in rows {
        let in_ranges: u64 = m.resident.iter().map(|r| (r[1] - r[0]) / page_size).sum();
        assert_eq!(in_ranges, m.resident_pages, "{}", m.name);
        assert!(m.resident.iter().all(|r| r[0] >= m.start && r[1] <= m.end));
        total += m.resident_pages;
    }
    assert_eq!(total * page_size, r.stats.per_process[0].rss);
    assert!(rows
        .iter()
        .any(|m| m.kind == "heap" && m.resident_pages >= 8));
}

/// The walk's index bits per level and the page offset make up the virtual address, on
/// machines with one to five levels.
#[test]
fn walk_bits_cover_the_address() {
    for (machine, va) in [
        ("tiny", 16),
        ("i386", 32),
        ("x86_64", 48),
        ("x86_64_la57", 57),
        ("aarch64_64k", 48),
    ] {
        let r = run(&format!("machine {machine}\nshow walk 0x1234\n"));
        let Snapshot::Walk(w) = shows(&r)[0] else {
            unreachable!()
        };
        assert_eq!(
            w.level_bits.iter().sum::<u32>() + w.page_shift,
            va,
            "{machine}"
        );
        check_svg(&svg::snapshot(shows(&r)[0]).unwrap());
    }
}

#[test]
fn run_format_html_writes_a_standalone_page() {
    let out = Test::new()
        .file(
            "p.mem",
            "let a = malloc(40)\na[0] = 1\nshow maps\nshow heap\nlet p: *int = 0\nexpect segfault { p[0] = 1 }\nfree(a)\n",
        )
        .args(&["run", "--format", "html", "p.mem"])
        .run();
    assert_eq!(out.status, 0, "{}", out.stderr);
    let page = &out.stdout;
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.trim_end().ends_with("</html>"));
    assert!(page.contains("prefers-color-scheme:dark"));
    // Standalone: no scripts, nothing fetched from elsewhere.
    assert!(!page.contains("<script"));
    assert!(!page.contains("src=") && !page.contains("href=") && !page.contains("url("));
    assert!(page.contains("<table class=\"memsim memsim-trace\">"));
    assert!(page.contains("<table class=\"memsim memsim-maps\">"));
    assert_eq!(page.matches("<svg ").count(), 2);
    // The segfault is highlighted.
    assert!(
        page.contains("rgba(207,34,46,.2)\">SIGSEGV (SEGV_MAPERR)"),
        "{page}"
    );
    // Every picture in the page is well-formed.
    let mut rest = page.as_str();
    while let Some(i) = rest.find("<svg ") {
        let end = rest[i..].find("</svg>").unwrap() + i + 6;
        check_svg(&rest[i..end]);
        rest = &rest[end..];
    }
}

#[test]
fn text_is_escaped_everywhere() {
    let r = run("print \"<b>&\"\nlet p: *u8 = mmap(2 pages, rw-)\nshow maps\n");
    let h = html::steps(&r.steps);
    assert!(h.contains("&lt;b&gt;&amp;"), "{h}");
    assert!(!h.contains("<b>"));
    check_table(&h, "trace");
}

/// Where a walk stops, the picture says what the access would do: fault the page in (the
/// address is mapped) or raise SIGSEGV (it is not).
#[test]
fn a_walk_that_stops_says_fault_or_segfault() {
    let r = run("let q: *u8 = mmap(2 pages, rw-)\nshow walk q + 4096\nshow walk 0x10\n");
    let s = shows(&r);
    let (Snapshot::Walk(valid), Snapshot::Walk(null)) = (s[0], s[1]) else {
        unreachable!()
    };
    assert!(valid.mapped && valid.paddr.is_none());
    assert!(!null.mapped && null.paddr.is_none());
    let pic = svg::snapshot(s[0]).unwrap();
    assert!(pic.contains("not present: page fault") && !pic.contains("SIGSEGV"));
    let pic = svg::snapshot(s[1]).unwrap();
    assert!(pic.contains("no mapping: SIGSEGV") && !pic.contains("page fault"));
}

/// A machine with millions of frames draws the frames in use (at most 256 cells) and says
/// which it left out.
#[test]
fn a_large_memory_draws_its_used_frames_and_says_what_it_left_out() {
    let r = run("let p: *u8 = malloc(2 MiB)\nfor i in 0..300 { p[i * 4096] = 1 }\nshow frames\n");
    let s = shows(&r)[0];
    let Snapshot::Frames { rows, total, .. } = s else {
        unreachable!()
    };
    assert!(rows.len() > 256 && *total > 1 << 20);
    let pic = svg::snapshot(s).unwrap();
    let doc = check_svg(&pic);
    let cells = doc
        .descendants()
        .filter(|g| {
            g.has_tag_name("g")
                && g.children().any(|c| {
                    c.has_tag_name("title") && c.text().is_some_and(|t| t.starts_with("frame 0x"))
                })
        })
        .count();
    assert_eq!(cells, 256);
    let beyond = rows.iter().filter(|r| r.pfn >= 256).count();
    assert!(
        pic.contains(&format!(
            "frames 0x100-{:#x} not drawn ({beyond} of them in use",
            total - 1
        )),
        "{pic}"
    );
}

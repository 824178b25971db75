//! HTML output: every `show` as a table, the per-statement trace as a compact table, and a
//! standalone page (`memsim run --format html`) with the trace, the tables and the pictures.
//! Highlights use translucent inline colours, so fragments read on light and dark notebook
//! themes without the page's stylesheet.

use std::fmt::Write as _;

use super::svg::{self, esc};
use super::text;
use crate::events::Event;
use crate::session::snapshot::*;
use crate::session::{ChunkResult, Item, Output, Severity, Step};
use crate::units::{addr, size};

const FAULT_BG: &str = "background:rgba(212,167,44,.18)";
const MAJOR_BG: &str = "background:rgba(219,109,40,.22)";
const FATAL_BG: &str = "background:rgba(207,34,46,.2)";
const PASS_BG: &str = "background:rgba(45,164,78,.15)";
const RIGHT: &str = "text-align:right;font-variant-numeric:tabular-nums";

/// A table under construction: a class, an optional caption, headers, rows of cells.
struct Table {
    class: String,
    caption: Option<String>,
    headers: Vec<String>,
    rows: Vec<(String, Vec<Cell>)>,
    foot: Option<String>,
}

/// One cell: escaped HTML and whether it is a number (right-aligned).
struct Cell {
    html: String,
    num: bool,
}

fn t(s: impl AsRef<str>) -> Cell {
    Cell {
        html: esc(s.as_ref()),
        num: false,
    }
}

fn num(s: impl AsRef<str>) -> Cell {
    Cell {
        html: esc(s.as_ref()),
        num: true,
    }
}

fn code(s: impl AsRef<str>) -> Cell {
    Cell {
        html: format!("<code>{}</code>", esc(s.as_ref())),
        num: false,
    }
}

impl Table {
    fn new(target: &str, headers: &[&str]) -> Self {
        Table {
            class: format!("memsim memsim-{target}"),
            caption: None,
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            foot: None,
        }
    }
    fn caption(mut self, c: impl AsRef<str>) -> Self {
        self.caption = Some(esc(c.as_ref()));
        self
    }
    fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push((String::new(), cells));
    }
    /// A row with inline style and class, for highlights.
    fn row_styled(&mut self, style: &str, cells: Vec<Cell>) {
        self.rows.push((style.to_string(), cells));
    }
    fn finish(self) -> String {
        let mut out = format!("<table class=\"{}\">", self.class);
        if let Some(c) = &self.caption {
            let _ = write!(out, "<caption>{c}</caption>");
        }
        out.push_str("<thead><tr>");
        for h in &self.headers {
            let _ = write!(out, "<th style=\"{LEFT}\">{}</th>", esc(h));
        }
        out.push_str("</tr></thead><tbody>");
        for (style, cells) in &self.rows {
            if style.is_empty() {
                out.push_str("<tr>");
            } else {
                let _ = write!(out, "<tr style=\"{style}\">");
            }
            for c in cells {
                if c.num {
                    let _ = write!(out, "<td style=\"{RIGHT}\">{}</td>", c.html);
                } else {
                    let _ = write!(out, "<td style=\"{LEFT}\">{}</td>", c.html);
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody>");
        if let Some(f) = &self.foot {
            let _ = write!(
                out,
                "<tfoot><tr><td colspan=\"{}\">{f}</td></tr></tfoot>",
                self.headers.len().max(1)
            );
        }
        out.push_str("</table>\n");
        out
    }
}

fn yes(b: bool) -> Cell {
    t(if b { "yes" } else { "no" })
}

/// A `show` snapshot as an HTML fragment: a `<table class="memsim memsim-TARGET">`.
pub fn snapshot(s: &Snapshot) -> String {
    match s {
        Snapshot::Maps {
            pid,
            page_size,
            rows,
        } => {
            let mut tb = Table::new(
                "maps",
                &[
                    "start", "end", "perms", "offset", "name", "kind", "size", "resident",
                ],
            )
            .caption(format!("memory map of pid {pid}"));
            for r in rows {
                let pages = (r.end - r.start) / (*page_size).max(1);
                tb.row(vec![
                    code(addr(r.start)),
                    code(addr(r.end)),
                    code(&r.perms),
                    code(format!("{:08x}", r.offset)),
                    t(&r.name),
                    t(&r.kind),
                    num(size(r.end - r.start)),
                    num(format!("{} / {pages} pages", r.resident_pages)),
                ]);
            }
            tb.finish()
        }
        Snapshot::Smaps { pid, rows } => {
            let mut tb =
                Table::new("smaps", &super::SMAPS_COLUMNS).caption(format!("smaps of pid {pid}"));
            for r in rows {
                tb.row(vec![
                    code(format!("{:x}-{:x}", r.map.start, r.map.end)),
                    code(&r.map.perms),
                    t(if r.map.name.is_empty() {
                        "(anonymous)"
                    } else {
                        &r.map.name
                    }),
                    num(super::smaps_size(r.size, r.page_size)),
                    num(super::smaps_size(r.rss, r.page_size)),
                    num(super::smaps_size(r.pss, r.page_size)),
                    num(super::smaps_size(
                        r.shared_clean + r.shared_dirty,
                        r.page_size,
                    )),
                    num(super::smaps_size(r.private_clean, r.page_size)),
                    num(super::smaps_size(r.private_dirty, r.page_size)),
                    num(super::smaps_size(r.anonymous, r.page_size)),
                    num(super::smaps_size(r.page_size, r.page_size)),
                    num(super::smaps_size(r.page_size, r.page_size)),
                ]);
            }
            tb.finish()
        }
        Snapshot::PageTable {
            directory: Some(d),
            rows,
            pid,
            levels,
            ..
        } => {
            let mut tb = Table::new("pagetable", &super::DIRECTORY_COLUMNS)
                .caption(super::directory_caption(d));
            for r in super::directory_rows(d) {
                let [pde, e, table, pte, e2, page, va, pa] = r;
                tb.row(vec![
                    num(pde),
                    code(e),
                    num(table),
                    num(pte),
                    code(e2),
                    num(page),
                    code(va),
                    code(pa),
                ]);
            }
            let mut out = tb.finish();
            if !rows.is_empty() {
                out.push_str(&page_table_html(*pid, *levels, rows));
            }
            out
        }
        Snapshot::PageTable {
            pid, levels, rows, ..
        } => page_table_html(*pid, *levels, rows),
        Snapshot::Walk(w) => {
            let mut tb = Table::new("walk", &["level", "table", "index", "entry", "meaning"])
                .caption(format!(
                    "walk of {}: page {:#x}, offset {:#x}",
                    addr(w.vaddr),
                    w.vpn,
                    w.offset
                ));
            for (i, l) in w.levels.iter().enumerate() {
                let cells = vec![
                    t(format!("L{}", l.level + 1)),
                    num(l.table.to_string()),
                    num(l.index.to_string()),
                    code(format!("{:#x}", l.entry)),
                    t(&l.meaning),
                ];
                // Where the translation failed: a page fault (amber) or SIGSEGV (red).
                if i + 1 == w.levels.len() && w.paddr.is_none() {
                    tb.row_styled(if w.mapped { FAULT_BG } else { FATAL_BG }, cells);
                } else {
                    tb.row(cells);
                }
            }
            tb.foot = Some(esc(&w.outcome));
            tb.finish()
        }
        Snapshot::Tlb {
            capacity,
            ways,
            enabled,
            rows,
        } => {
            let caption = if !enabled {
                "TLB: off (every access walks the page table)".to_string()
            } else {
                let assoc = if ways == capacity {
                    "fully associative".to_string()
                } else {
                    format!("{ways}-way")
                };
                format!("TLB: {} of {capacity} entries in use, {assoc}", rows.len())
            };
            let mut tb = Table::new("tlb", &["slot", "asid", "vpn", "pfn", "perms", "dirty"])
                .caption(caption);
            for r in rows {
                tb.row(vec![
                    num(r.slot.to_string()),
                    num(r.asid.to_string()),
                    code(format!("{:#x}", r.vpn)),
                    code(format!("{:#x}", r.pfn)),
                    code(&r.perms),
                    yes(r.dirty),
                ]);
            }
            tb.finish()
        }
        Snapshot::Frames {
            total,
            used,
            rows,
            policy,
            next_victim,
        } => {
            let mut tb = Table::new(
                "frames",
                &["pfn", "holds", "mapped by", "pid", "region", "page"],
            )
            .caption(format!("frames: {used} of {total} in use"));
            for r in rows {
                let mut holds = esc(&r.owner);
                if Some(r.pfn) == *next_victim {
                    let _ = write!(holds, " <strong>← next victim ({})</strong>", esc(policy));
                }
                let cells = vec![
                    code(format!("{:#x}", r.pfn)),
                    Cell {
                        html: holds,
                        num: false,
                    },
                    num(r.mapcount.to_string()),
                    num(r.pid.map_or(String::new(), |p| p.to_string())),
                    t(&r.region),
                    code(r.vaddr.map_or(String::new(), addr)),
                ];
                if Some(r.pfn) == *next_victim {
                    tb.row_styled(MAJOR_BG, cells);
                } else {
                    tb.row(cells);
                }
            }
            tb.finish()
        }
        Snapshot::Heap {
            pid,
            allocator,
            radix,
            rows,
            free_list,
        } => {
            let ostep = free_list
                .as_ref()
                .map(|l| format!("; {}", super::text::ostep_free_list(l).trim_end()))
                .unwrap_or_default();
            // Teaching heaps' sizes are decimal, as their exercises are; addresses follow the
            // machine.
            let decimal = allocator != "glibc" || *radix == crate::units::Radix::Decimal;
            let mut tb = Table::new("heap", &["chunk", "size", "state", "bin"]).caption(
                if rows.is_empty() {
                    format!("heap of pid {pid} ({allocator}): no chunks yet{ostep}")
                } else {
                    format!("heap of pid {pid} ({allocator}){ostep}")
                },
            );
            for c in rows {
                let cells = vec![
                    code(radix.addr(c.addr)),
                    num(if decimal {
                        c.size.to_string()
                    } else {
                        format!("{:#x}", c.size)
                    }),
                    t(if c.in_use { "in use" } else { "free" }),
                    t(&c.bin),
                ];
                tb.row(cells);
            }
            tb.finish()
        }
        Snapshot::Stats(s) => stats(s),
        Snapshot::Memory {
            addr: a,
            bytes,
            omitted,
        } => {
            let mut headers: Vec<String> = vec!["address".into()];
            headers.extend((0..16).map(|i| format!("{i:x}")));
            headers.push("ASCII".into());
            let h: Vec<&str> = headers.iter().map(String::as_str).collect();
            let mut tb =
                Table::new("memory", &h).caption(format!("{} bytes at {}", bytes.len(), addr(*a)));
            for (i, chunk) in bytes.chunks(16).enumerate() {
                let mut cells = vec![code(format!("{:#014x}", a + 16 * i as u64))];
                for j in 0..16 {
                    cells.push(match chunk.get(j) {
                        Some(Some(b)) => code(format!("{b:02x}")),
                        Some(None) => code("--"),
                        None => t(""),
                    });
                }
                let ascii: String = chunk
                    .iter()
                    .map(|b| match b {
                        Some(b) if b.is_ascii_graphic() || *b == b' ' => *b as char,
                        Some(_) => '.',
                        None => ' ',
                    })
                    .collect();
                cells.push(code(ascii));
                tb.row(cells);
            }
            let mut notes = Vec::new();
            if bytes.iter().any(Option::is_none) {
                notes.push("-- = page not resident".to_string());
            }
            if *omitted > 0 {
                notes.push(format!("{omitted} more bytes not shown"));
            }
            if !notes.is_empty() {
                tb.foot = Some(notes.join("; "));
            }
            tb.finish()
        }
        Snapshot::Machine { rows } => {
            let mut tb = Table::new("machine", &["setting", "value"]).caption("the machine");
            for r in rows {
                tb.row(vec![t(&r.setting), code(&r.value)]);
            }
            tb.finish()
        }
        Snapshot::Swap { slots, used } => {
            let mut tb = Table::new("swap", &["slots", "in use", "free"]).caption(if *slots == 0 {
                "swap: none (anonymous pages cannot be evicted)"
            } else {
                "swap"
            });
            tb.row(vec![
                num(slots.to_string()),
                num(used.to_string()),
                num(slots.saturating_sub(*used).to_string()),
            ]);
            tb.finish()
        }
        Snapshot::Sweep {
            params,
            columns,
            rows,
        } => sweep(params, columns, rows),
    }
}

fn stats(s: &StatsSnap) -> String {
    let ratio = if s.tlb_hits + s.tlb_misses > 0 {
        format!(
            " ({:.1}% of lookups)",
            100.0 * s.tlb_hits as f64 / (s.tlb_hits + s.tlb_misses) as f64
        )
    } else {
        String::new()
    };
    let mut tb = Table::new("stats", &["statistic", "value"]);
    let mut rows = vec![
        ("page faults", s.faults.to_string()),
        ("\u{a0}\u{a0}minor", s.minor.to_string()),
        ("\u{a0}\u{a0}major", s.major.to_string()),
        ("segfaults", s.segv.to_string()),
    ];
    // As in the text: a row for bus errors only when there were any.
    if s.sigbus > 0 {
        rows.push(("bus errors", s.sigbus.to_string()));
    }
    rows.extend([
        ("accesses", s.accesses.to_string()),
        ("TLB hits", format!("{}{ratio}", s.tlb_hits)),
        ("TLB misses", s.tlb_misses.to_string()),
        ("page walks", s.walks.to_string()),
        ("walk memory refs", s.walk_refs.to_string()),
        ("references", s.references.to_string()),
        (
            "page hit ratio",
            if s.references > 0 {
                format!(
                    "{:.1}% (references that did not fault)",
                    100.0 * s.hit_ratio
                )
            } else {
                "- (no references)".into()
            },
        ),
        ("evictions", s.evictions.to_string()),
        (
            "swap ins / outs",
            format!("{} / {}", s.swap_ins, s.swap_outs),
        ),
        ("writebacks", s.writebacks.to_string()),
        ("stack growths", s.stack_growths.to_string()),
        (
            "frames in use",
            format!("{} of {}", s.frames_used, s.frames_total),
        ),
    ]);
    for (k, v) in rows {
        tb.row(vec![t(k), num(v)]);
    }
    let mut out = tb.finish();
    if s.per_process.len() > 1 {
        let mut tb = Table::new(
            "processes",
            &[
                "pid", "process", "minor", "major", "segv", "rss", "vsz", "state",
            ],
        );
        for p in &s.per_process {
            let cells = vec![
                num(p.pid.to_string()),
                t(&p.name),
                num(p.minor.to_string()),
                num(p.major.to_string()),
                num(p.segv.to_string()),
                num(size(p.rss)),
                num(size(p.vsz)),
                t(&p.state),
            ];
            if p.state == "running" {
                tb.row(cells);
            } else {
                tb.row_styled(FATAL_BG, cells);
            }
        }
        out.push_str(&tb.finish());
    }
    out
}

/// A sweep over two or more settings, pivoted as textbooks print it: one row per value of the
/// x setting (memory), one column per value of the others (the policies), one table per
/// reported value. A sweep over one setting is a plain table.
fn sweep(params: &[String], columns: &[String], rows: &[SweepRow]) -> String {
    use super::svg::chart::{distinct, x_param};
    let cell = |r: &SweepRow, c: usize| {
        let v = r.values.get(c).cloned().unwrap_or_default();
        if r.note.is_empty() {
            num(v)
        } else {
            num(format!("{v} ({})", r.note))
        }
    };
    if params.len() < 2 {
        let mut headers: Vec<&str> = params.iter().map(String::as_str).collect();
        headers.extend(columns.iter().map(String::as_str));
        let mut tb = Table::new("sweep", &headers);
        for r in rows {
            let mut cells: Vec<Cell> = r.params.iter().map(t).collect();
            cells.extend((0..columns.len()).map(|c| cell(r, c)));
            tb.row(cells);
        }
        return tb.finish();
    }
    let xi = x_param(params);
    let key = |r: &SweepRow| {
        r.params
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != xi)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let keys: Vec<String> = {
        let all: Vec<String> = rows.iter().map(key).collect();
        distinct(all.iter().map(String::as_str))
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let xs = distinct(rows.iter().map(|r| r.params[xi].as_str()));
    let others: Vec<&str> = params
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != xi)
        .map(|(_, p)| p.as_str())
        .collect();
    let mut out = String::new();
    for (c, col) in columns.iter().enumerate() {
        let mut headers: Vec<String> = vec![format!("{} \\ {}", params[xi], others.join(", "))];
        headers.extend(keys.iter().cloned());
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut tb = Table::new("sweep", &h).caption(col);
        for x in &xs {
            let mut cells = vec![t(x)];
            for k in &keys {
                cells.push(
                    rows.iter()
                        .find(|r| r.params[xi] == *x && key(r) == *k)
                        .map_or_else(|| t(""), |r| cell(r, c)),
                );
            }
            tb.row(cells);
        }
        out.push_str(&tb.finish());
    }
    out
}

/// How an event is highlighted in the trace: faults amber, major faults orange, fatal red.
fn event_style(e: &Event) -> Option<&'static str> {
    match e {
        Event::MinorFault { .. } => Some(FAULT_BG),
        Event::MajorFault { .. } | Event::SwapIn { .. } | Event::Eviction { .. } => Some(MAJOR_BG),
        Event::Segv { .. } | Event::Bus { .. } | Event::Abort { .. } | Event::Oom { .. } => {
            Some(FATAL_BG)
        }
        _ => None,
    }
}

/// The worst highlight among a step's events and outputs, for the row's line number.
fn step_style(step: &Step) -> Option<&'static str> {
    let mut worst = None;
    let rank = |s: &str| match s {
        FATAL_BG => 3,
        MAJOR_BG => 2,
        FAULT_BG => 1,
        _ => 0,
    };
    let mut consider = |s: &'static str| {
        if worst.is_none_or(|w| rank(s) > rank(w)) {
            worst = Some(s);
        }
    };
    for e in step.events() {
        if let Some(s) = event_style(e) {
            consider(s);
        }
    }
    for o in step.outputs() {
        if let Output::Expect { passed: false, .. } = o {
            consider(FATAL_BG);
        }
    }
    worst
}

/// One step's events, prints and expectation results as list items, in the order they
/// happened: what a line inside the statement (a loop's body, an `in` block) did is headed by
/// that line, and identical iterations of a loop are shown once with their count.
fn step_items(step: &Step) -> String {
    let mut out = String::new();
    for run in &step.runs {
        for (i, part) in run.parts.iter().enumerate() {
            let shown = part
                .items
                .iter()
                .any(|it| !matches!(it, Item::Output(Output::Show { .. })));
            let repeat = if run.times > 1 && i == 0 {
                format!(" <em>(× {})</em>", run.times)
            } else {
                String::new()
            };
            if part.line != step.line && (shown || !repeat.is_empty()) {
                let _ = write!(
                    out,
                    "<li class=\"part\">line {}: <code>{}</code>{repeat}</li>",
                    part.line,
                    esc(part.source.trim())
                );
            } else if !repeat.is_empty() {
                let _ = write!(out, "<li class=\"part\">{}</li>", repeat.trim_start());
            }
            for it in &part.items {
                item(it, &mut out);
            }
        }
    }
    if step.dropped > 0 {
        let _ = write!(out, "<li><em>… and {} more events</em></li>", step.dropped);
    }
    out
}

/// One event or output as a list item (a `show` is drawn beside the trace, not in it).
fn item(it: &Item, out: &mut String) {
    match it {
        Item::Event(e) => {
            // An event of several lines (a multi-level walk) keeps its lines.
            let text = esc(&text::event(e)).replace('\n', "<br>");
            match event_style(e) {
                Some(s) => {
                    let _ = write!(out, "<li style=\"{s}\">{text}</li>");
                }
                None => {
                    let _ = write!(out, "<li>{text}</li>");
                }
            }
        }
        Item::Output(Output::Print { text }) => {
            let _ = write!(out, "<li><samp>&gt; {}</samp></li>", esc(text));
        }
        Item::Output(Output::Expect { passed: true, .. }) => {
            let _ = write!(out, "<li style=\"{PASS_BG}\">expectation holds</li>");
        }
        Item::Output(Output::Expect { passed: false, .. }) => {
            let _ = write!(
                out,
                "<li style=\"{FATAL_BG}\"><strong>EXPECTATION FAILED</strong></li>"
            );
        }
        Item::Output(Output::Show { .. }) => {}
    }
}

fn step_row(step: &Step, out: &mut String) {
    let bg = step_style(step)
        .map(|s| format!("{s};"))
        .unwrap_or_default();
    let items = step_items(step);
    let _ = write!(
        out,
        "<tr><td style=\"{bg}{TOP};text-align:right\" class=\"line\">{}</td>\
         <td style=\"{TOP};{LEFT}\"><code>{}</code></td><td style=\"{TOP};{LEFT}\">",
        step.line,
        esc(&step.source)
    );
    if !items.is_empty() {
        let _ = write!(
            out,
            "<ul style=\"margin:0;padding-left:1.2em\">{items}</ul>"
        );
    }
    out.push_str("</td></tr>");
}

const TRACE_HEAD: &str = "<table class=\"memsim memsim-trace\"><thead><tr>\
    <th style=\"text-align:right\">line</th><th style=\"text-align:left\">statement</th>\
    <th style=\"text-align:left\">events</th></tr></thead><tbody>";

/// Notebook front ends right-align table cells by default; text reads from the left.
const LEFT: &str = "text-align:left";
/// A trace row's cells start at its top, whatever the height of its list of events.
const TOP: &str = "vertical-align:top";

/// The compact per-statement trace: line, statement, events (with what it printed and the
/// expectations' results); faults and segfaults highlighted. `show` output is left to
/// [`snapshot`] and [`svg::snapshot`].
pub fn steps(steps: &[Step]) -> String {
    let mut out = String::from(TRACE_HEAD);
    for s in steps {
        step_row(s, &mut out);
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A `show`'s table and, where it has one, its picture.
fn show_block(s: &Snapshot, out: &mut String) {
    out.push_str("<div class=\"show\">");
    out.push_str(&snapshot(s));
    if let Some(p) = svg::snapshot(s) {
        let _ = write!(out, "<figure>{p}</figure>");
    }
    out.push_str("</div>");
}

const PAGE_CSS: &str = "\
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--rule:#d0d7de;\
--head:#f6f8fa}\
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;\
--rule:#3d444d;--head:#161b22}}\
body{background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,'Segoe UI',\
sans-serif;margin:2em auto;max-width:1200px;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}\
code,samp,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',\
monospace;font-size:.92em}\
pre{background:var(--head);border:1px solid var(--rule);padding:.8em;overflow-x:auto}\
table.memsim{border-collapse:collapse;margin:.6em 0;font-size:.92em}\
table.memsim caption{text-align:left;font-weight:600;padding:.2em 0}\
table.memsim th,table.memsim td{border:1px solid var(--rule);padding:.2em .55em;\
vertical-align:top;text-align:left}\
table.memsim th{background:var(--head)}\
table.memsim tfoot td{color:var(--muted)}\
table.memsim-trace{width:100%}\
table.memsim-trace td.line{text-align:right;color:var(--muted);width:3em}\
table.memsim-trace ul{margin:0;padding-left:1.1em}\
table.memsim-trace tr.shows>td{border-top:none;padding:.3em .8em .8em}\
figure{margin:.6em 0;overflow-x:auto}figure svg{max-width:100%;height:auto}\
.summary{color:var(--muted)}\
";

/// One run as a fragment of a page or a notebook output: the summary, the trace with each
/// `show`'s table and picture under its statement, the diagnostics and the counters at the end.
pub fn fragment(r: &ChunkResult) -> String {
    let mut out = String::new();
    if !r.static_errors {
        let _ = writeln!(
            out,
            "<p class=\"summary\">{}</p>",
            esc(text::summary(r, &r.stats).trim_end())
        );
    }
    if !r.steps.is_empty() {
        out.push_str(TRACE_HEAD);
        for s in &r.steps {
            step_row(s, &mut out);
            let shows: Vec<&Snapshot> = s
                .outputs()
                .filter_map(|o| match o {
                    Output::Show { snapshot } => Some(snapshot),
                    _ => None,
                })
                .collect();
            if !shows.is_empty() {
                out.push_str("<tr class=\"shows\"><td></td><td colspan=\"2\">");
                for sn in shows {
                    show_block(sn, &mut out);
                }
                out.push_str("</td></tr>");
            }
        }
        out.push_str("</tbody></table>\n");
    }
    if !r.diagnostics.is_empty() {
        out.push_str("<h2>Diagnostics</h2>\n");
        for d in &r.diagnostics {
            let _ = writeln!(
                out,
                "<pre class=\"{}\">{}</pre>",
                match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                esc(&super::diag::render(&d.report, false, 100))
            );
        }
    }
    if !r.static_errors {
        out.push_str("<h2>Statistics at the end</h2>\n");
        out.push_str(&stats(&r.stats));
    }
    out
}

/// A standalone HTML page for several runs: for each, the trace with each `show`'s table and
/// picture under its statement, the diagnostics and the summary. No scripts, no external
/// resources: a teacher can hand it out as one file.
pub fn page(results: &[ChunkResult]) -> String {
    let title = match results {
        [one] => format!("memsim: {}", one.name),
        _ => "memsim report".to_string(),
    };
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    for r in results {
        let _ = writeln!(out, "<section>\n<h1><code>{}</code></h1>", esc(&r.name));
        out.push_str(&fragment(r));
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// A process's page table: its valid entries, one row each.
fn page_table_html(pid: u32, levels: usize, rows: &[PteRow]) -> String {
    let mut tb = Table::new(
        "pagetable",
        &[
            "vpn", "pfn", "present", "dirty", "accessed", "perms", "note",
        ],
    )
    .caption(format!(
        "page table of pid {pid} ({}){}",
        crate::units::count(levels as u64, "level"),
        if rows.is_empty() {
            ": no valid entries"
        } else {
            ""
        }
    ));
    for r in rows {
        tb.row(vec![
            code(format!("{:#x}", r.vpn)),
            code(r.pfn.map_or("-".into(), |p| format!("{p:#x}"))),
            yes(r.present),
            yes(r.dirty),
            yes(r.accessed),
            code(&r.perms),
            t(&r.note),
        ]);
    }
    tb.finish()
}

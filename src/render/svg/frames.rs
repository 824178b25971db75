//! `show frames` as a picture: physical memory as a grid of frames, each coloured by the kind
//! of region whose page it holds, with a band of its process's colour; free frames blank; the
//! frame the replacement policy would evict next outlined.

use super::{kind_fill, text_width, Svg, SERIES};
use crate::session::snapshot::FrameRow;

const COLS: u64 = 16;
const CELL_W: f64 = 60.0;
const CELL_H: f64 = 50.0;
/// Frames drawn at most; the table lists every frame in use.
const MAX_CELLS: u64 = 256;

const KINDS: [(&str, &str); 11] = [
    ("text", "text"),
    ("data", "data"),
    ("heap", "heap"),
    ("mmap", "mmap"),
    ("lib", "library"),
    ("stack", "stack"),
    ("kernel", "kernel"),
    ("file", "page cache (unmapped)"),
    ("guard", "guard"),
    // OSTEP's small two-level machine: its tables, and the pages they map.
    ("table", "page directory and tables"),
    ("page", "mapped page"),
];

pub fn render(
    total: u64,
    used: u64,
    rows: &[FrameRow],
    policy: &str,
    next_victim: Option<u64>,
) -> String {
    let mut svg = Svg::new();
    let title = format!("Physical memory: {used} of {total} frames in use");
    svg.text(12.0, 22.0, "start", "h", &title);

    // Processes in pid order, each with a colour.
    let mut pids: Vec<u32> = rows.iter().filter_map(|r| r.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let pid_colour = |pid: u32| {
        let i = pids.iter().position(|&p| p == pid).unwrap_or(0);
        SERIES[i % SERIES.len()]
    };

    // Legend: kinds in use, free, the victim, then the processes.
    let width = 12.0 + COLS as f64 * CELL_W + 12.0;
    let mut lx = 12.0;
    let mut ly = 46.0;
    // Starts a new legend line when `label` would not fit on this one.
    let place = |lx: &mut f64, ly: &mut f64, label: &str| {
        if *lx + 33.0 + text_width(label, 12.0) > width {
            *lx = 12.0;
            *ly += 20.0;
        }
    };
    for (k, name) in KINDS {
        if rows.iter().any(|r| r.region == k) {
            place(&mut lx, &mut ly, name);
            lx = svg.swatch(lx, ly, kind_fill(k), name);
        }
    }
    place(&mut lx, &mut ly, "free");
    svg.group("a free frame");
    svg.rect(lx, ly - 10.0, 12.0, 12.0, "free", None);
    svg.text(lx + 17.0, ly, "start", "", "free");
    svg.end_group();
    lx += 17.0 + text_width("free", 12.0) + 16.0;
    let victim_label = format!("next victim ({policy})");
    if next_victim.is_some() {
        place(&mut lx, &mut ly, &victim_label);
        svg.group("the frame the replacement policy evicts next when no frame is free");
        svg.path(
            &format!("M{} {}h10v10h-10Z", lx + 1.0, ly - 9.0),
            "wn",
            "stroke-width=\"2.5\"",
        );
        svg.text(lx + 17.0, ly, "start", "", &victim_label);
        svg.end_group();
        lx += 17.0 + text_width(&victim_label, 12.0) + 16.0;
    }
    if pids.len() > 1 {
        for &p in &pids {
            let label = format!("pid {p}");
            place(&mut lx, &mut ly, &label);
            svg.group(&format!("band and number: a page of pid {p}"));
            svg.rect(lx, ly - 10.0, 12.0, 5.0, "", Some(pid_colour(p)));
            svg.text(lx + 17.0, ly, "start", "", &label);
            svg.end_group();
            lx += 17.0 + text_width(&label, 12.0) + 16.0;
        }
    }

    // How many cells: all frames on a small machine; on a large one, whole rows up to the
    // highest frame in use, at most MAX_CELLS.
    let highest = rows.iter().map(|r| r.pfn + 1).max().unwrap_or(0);
    let shown = if total <= MAX_CELLS {
        total
    } else {
        highest
            .max(next_victim.map_or(0, |v| v + 1))
            .div_ceil(COLS)
            .max(1)
            .saturating_mul(COLS)
            .min(MAX_CELLS)
    };
    let top = ly + 16.0;
    let mut by_pfn = rows.iter().peekable();
    for pfn in 0..shown {
        let (cx, cy) = (
            12.0 + (pfn % COLS) as f64 * CELL_W,
            top + (pfn / COLS) as f64 * CELL_H,
        );
        while by_pfn.peek().is_some_and(|r| r.pfn < pfn) {
            by_pfn.next();
        }
        let row = by_pfn.peek().filter(|r| r.pfn == pfn);
        let victim = next_victim == Some(pfn);
        let hover = match row {
            Some(r) => format!(
                "frame {pfn:#x}: {}, mapped by {}{}",
                r.owner,
                crate::units::count(u64::from(r.mapcount), "page table"),
                if victim { "; evicted next" } else { "" }
            ),
            None => format!("frame {pfn:#x}: free"),
        };
        svg.group(&hover);
        let (x, y, w, h) = (cx + 2.0, cy + 2.0, CELL_W - 4.0, CELL_H - 4.0);
        match row {
            Some(r) => {
                svg.rect(x, y, w, h, "ed", Some(kind_fill(&r.region)));
                if let (Some(p), true) = (r.pid, pids.len() > 1) {
                    svg.rect(x, y, w, 5.0, "", Some(pid_colour(p)));
                }
                svg.text(x + 4.0, y + 17.0, "start", "s in", &format!("{pfn:#x}"));
                if let (Some(p), true) = (r.pid, pids.len() > 1) {
                    svg.text(x + w - 3.0, y + 17.0, "end", "s in", &p.to_string());
                }
                svg.text(x + 4.0, y + 29.0, "start", "s in", &r.region);
                let page = if r.file.is_some() {
                    format!("page {}", r.page)
                } else {
                    format!("{:#x}", r.page)
                };
                // A table's page number is the frame's own, shown above.
                if r.region != "table" && text_width(&page, 10.0) <= w - 6.0 {
                    svg.text(x + 4.0, y + 41.0, "start", "s in", &page);
                }
            }
            None => {
                svg.rect(x, y, w, h, "free", None);
                svg.text(x + 4.0, y + 16.0, "start", "s m", &format!("{pfn:#x}"));
            }
        }
        if victim {
            svg.path(
                &format!(
                    "M{} {}h{}v{}h-{}Z",
                    x - 1.0,
                    y - 1.0,
                    w + 2.0,
                    h + 2.0,
                    w + 2.0
                ),
                "wn",
                "stroke-width=\"3\"",
            );
        }
        svg.end_group();
    }
    let mut y = top + shown.div_ceil(COLS) as f64 * CELL_H + 16.0;
    if shown < total {
        let beyond = rows.iter().filter(|r| r.pfn >= shown).count();
        let note = if beyond > 0 {
            format!(
                "frames {shown:#x}-{:#x} not drawn ({beyond} of them in use: see the table)",
                total - 1
            )
        } else {
            format!("frames {shown:#x}-{:#x} not drawn: all free", total - 1)
        };
        svg.text(12.0, y, "start", "m", &note);
        y += 18.0;
    }
    let victim_note = match next_victim {
        Some(v) => format!("{policy} would evict frame {v:#x} next, when no frame is free"),
        // A machine that only translates (OSTEP's small two-level one) replaces nothing.
        None if policy == "none" => String::new(),
        None => "no frame could be evicted now (anonymous pages need swap)".into(),
    };
    if !victim_note.is_empty() {
        svg.text(12.0, y, "start", "m", &victim_note);
    }
    svg.finish(width.max(lx + 12.0), y + 14.0, &title)
}

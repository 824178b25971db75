//! `show maps` as a picture: the address space as a vertical bar, high addresses on top,
//! regions to scale on a broken axis (wide gaps and very tall regions drawn as breaks), each
//! labelled and coloured by kind, with its resident pages marked on its right edge.

use super::{approx_size, kind_fill, n, text_width, zigzag, Svg};
use crate::session::snapshot::MapRow;
use crate::units::size;

const MIN_H: f64 = 18.0;
const MAX_H: f64 = 120.0;
/// Gaps taller than this (at the regions' scale) are drawn as breaks.
const MAX_GAP: f64 = 24.0;
const BREAK_H: f64 = 26.0;
const BAR_W: f64 = 150.0;
const MARK_W: f64 = 10.0;

/// Legend order for kinds.
const KINDS: [(&str, &str); 8] = [
    ("text", "text"),
    ("data", "data"),
    ("heap", "heap"),
    ("mmap", "mmap"),
    ("lib", "library"),
    ("stack", "stack"),
    ("guard", "guard"),
    ("kernel", "kernel (vdso, vsyscall)"),
];

fn label(r: &MapRow) -> String {
    let name = if r.name.is_empty() {
        "(anonymous)"
    } else {
        &r.name
    };
    format!("{name}  {}  {}", r.perms, size(r.end - r.start))
}

fn resident_text(r: &MapRow, page_size: u64) -> String {
    let pages = (r.end - r.start) / page_size.max(1);
    format!(
        "{} of {} resident",
        r.resident_pages,
        crate::units::count(pages, "page")
    )
}

pub fn render(pid: u32, page_size: u64, rows: &[MapRow]) -> String {
    let mut svg = Svg::new();
    let title = format!("Address space of pid {pid}");
    svg.text(12.0, 22.0, "start", "h", &title);
    if rows.is_empty() {
        svg.text(12.0, 46.0, "start", "m", "no mappings");
        return svg.finish(260.0, 60.0, &title);
    }

    // High addresses on top, as textbooks draw it.
    let mut regions: Vec<&MapRow> = rows.iter().collect();
    regions.sort_by_key(|r| std::cmp::Reverse(r.start));

    let mut sizes: Vec<u64> = regions.iter().map(|r| r.end - r.start).collect();
    sizes.sort_unstable();
    // All but the largest tenth of the regions fit MAX_H to scale; those few are broken.
    let p90 = sizes[(sizes.len() * 9 / 10).min(sizes.len() - 1)].max(1) as f64;
    let scale = MAX_H / p90;

    let addr_w = regions
        .iter()
        .map(|r| text_width(&format!("{:#x}", r.end), 12.0))
        .fold(0.0, f64::max);
    let x0 = 12.0 + addr_w + 10.0;
    let xl = x0 + BAR_W + 12.0;

    // Legend.
    let mut lx = 12.0;
    let mut ly = 46.0;
    for (k, name) in KINDS {
        if regions.iter().any(|r| r.kind == k) {
            let w = 17.0 + text_width(name, 12.0) + 16.0;
            if lx + w > 12.0 + 620.0 {
                lx = 12.0;
                ly += 20.0;
            }
            lx = svg.swatch(lx, ly, kind_fill(k), name);
        }
    }
    svg.group("a resident page: it holds a frame");
    svg.rect(lx, ly - 10.0, 12.0, 12.0, "res", None);
    svg.text(lx + 17.0, ly, "start", "", "resident page");
    svg.end_group();
    let mut right = lx + 17.0 + text_width("resident page", 12.0) + 12.0;

    let mut y = ly + 22.0;
    let mut prev_start: Option<u64> = None;
    for r in &regions {
        let len = r.end - r.start;
        // The gap between this region and the one above it.
        if let Some(above) = prev_start {
            let gap = above.saturating_sub(r.end);
            if gap > 0 {
                let px = gap as f64 * scale;
                if px > MAX_GAP {
                    let t = format!("{} unmapped", approx_size(gap));
                    svg.group(&format!("{:#x}-{:#x}: {t}", r.end, above));
                    let mid = y + BREAK_H / 2.0;
                    svg.path(&zigzag(x0 - 6.0, mid - 3.0, BAR_W + 12.0), "ln", "");
                    svg.path(&zigzag(x0 - 6.0, mid + 3.0, BAR_W + 12.0), "ln", "");
                    svg.text(xl, mid + 4.0, "start", "m", &format!("⋮ {t}"));
                    svg.end_group();
                    right = right.max(xl + text_width(&t, 12.0) + 20.0);
                    y += BREAK_H;
                    // Both ends of the gap are labelled: the region above said its start.
                    svg.text(x0 - 8.0, y + 4.0, "end", "m", &format!("{:#x}", r.end));
                } else {
                    let px = px.max(4.0);
                    svg.group(&format!(
                        "{:#x}-{:#x}: {} unmapped",
                        r.end,
                        above,
                        size(gap)
                    ));
                    svg.rect(x0, y, BAR_W, px, "free", None);
                    svg.end_group();
                    y += px;
                    svg.text(x0 - 8.0, y + 4.0, "end", "m", &format!("{:#x}", r.end));
                }
            }
        } else {
            svg.text(x0 - 8.0, y + 4.0, "end", "m", &format!("{:#x}", r.end));
        }
        let to_scale = len as f64 * scale;
        let broken = to_scale > MAX_H;
        let h = to_scale.clamp(MIN_H, MAX_H);
        let hover = format!(
            "{:#x}-{:#x} {} {} ({}, {}): {}",
            r.start,
            r.end,
            r.perms,
            if r.name.is_empty() {
                "(anonymous)"
            } else {
                &r.name
            },
            r.kind,
            size(len),
            resident_text(r, page_size)
        );
        svg.group(&hover);
        svg.rect(x0, y, BAR_W, h, "ed", Some(kind_fill(&r.kind)));
        if r.kind == "guard" {
            // Hatched: no access at all.
            let mut d = String::new();
            let mut k = -h;
            while k < BAR_W {
                // The 45° line (x0 + k + t, y + h - t), clipped to the bar.
                let (t0, t1) = ((-k).max(0.0), h.min(BAR_W - k));
                d.push_str(&format!(
                    "M{} {}L{} {}",
                    n(x0 + k + t0),
                    n(y + h - t0),
                    n(x0 + k + t1),
                    n(y + h - t1)
                ));
                k += 8.0;
            }
            svg.path(&d, "ed", "");
        }
        if broken {
            // Not to scale: a break across the middle says so.
            svg.path(
                &zigzag(x0, y + h * 0.6, BAR_W - MARK_W - 4.0),
                "ed",
                "fill=\"none\"",
            );
        }
        for res in &r.resident {
            let top = y + (r.end.saturating_sub(res[1])) as f64 / len as f64 * h;
            let bot = y + (r.end.saturating_sub(res[0])) as f64 / len as f64 * h;
            svg.rect(
                x0 + BAR_W - MARK_W - 2.0,
                top,
                MARK_W,
                (bot - top).max(3.0),
                "",
                Some("#1f2328"),
            );
        }
        let kind_y = if broken { y + 14.0 } else { y + h / 2.0 + 4.0 };
        svg.text(x0 + 5.0, kind_y, "start", "s in", &r.kind);
        let main = label(r);
        let mut res = resident_text(r, page_size);
        if broken {
            res.push_str(" · drawn shorter than to scale");
        }
        if h >= 32.0 {
            svg.text(xl, y + h / 2.0 - 2.0, "start", "", &main);
            svg.text(xl, y + h / 2.0 + 12.0, "start", "s m", &res);
        } else {
            svg.text(
                xl,
                y + h / 2.0 + 4.0,
                "start",
                "",
                &format!("{main}  · {res}"),
            );
        }
        right = right.max(xl + text_width(&format!("{main}  · {res}"), 12.0) + 12.0);
        svg.end_group();
        y += h;
        svg.text(x0 - 8.0, y + 4.0, "end", "m", &format!("{:#x}", r.start));
        prev_start = Some(r.start);
    }
    svg.finish(right.max(420.0), y + 16.0, &title)
}

//! `show walk ADDR` as a picture: the address's bits split into one index per level and the
//! page offset, coloured per level; below, each table the walk read as a box with the entry
//! it chose, arrows from entry to next table, and the frame and offset it ends in.

use super::{n, text_width, Svg, SERIES};
use crate::session::snapshot::WalkSnap;

const BOX_W: f64 = 190.0;
const GAP: f64 = 36.0;
const OFFSET_FILL: &str = "#8c959f";

/// Words of `s` in lines of at most `chars` characters.
pub fn wrap(s: &str, chars: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > chars {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

pub fn render(w: &WalkSnap) -> String {
    let mut svg = Svg::new();
    let title = format!("Page walk of {:#x}", w.vaddr);
    svg.text(12.0, 22.0, "start", "h", &title);

    let nlev = w.level_bits.len();
    let total_bits: u32 = w.level_bits.iter().sum::<u32>() + w.page_shift;
    let bw = (640.0 / f64::from(total_bits.max(1))).clamp(10.0, 22.0);
    let colour = |l: usize| SERIES[l % SERIES.len()];

    // The address, bit by bit, in fields.
    let (sx, sy) = (12.0, 62.0);
    let mut fields: Vec<(f64, f64)> = Vec::new(); // centre x and width of each field
    let mut x = sx;
    let mut hi = total_bits;
    let count = nlev + 1;
    for f in 0..count {
        let (bits, name, fill) = if f < nlev {
            (w.level_bits[f], format!("L{} index", f + 1), colour(f))
        } else {
            (w.page_shift, "offset".to_string(), OFFSET_FILL)
        };
        let lo = hi - bits;
        let value = if f < nlev {
            (w.vpn >> (lo - w.page_shift)) & ((1u64 << bits) - 1)
        } else {
            w.offset
        };
        let fw = f64::from(bits) * bw;
        svg.group(&format!(
            "{name}: bits {}..{} of the address = {value} ({value:#x})",
            hi - 1,
            lo
        ));
        svg.tinted(x, sy, fw, 26.0, "", fill);
        for b in 0..bits {
            let bit = (w.vaddr >> (hi - 1 - b)) & 1;
            svg.text(
                x + (f64::from(b) + 0.5) * bw,
                sy + 17.0,
                "middle",
                "s",
                if bit == 1 { "1" } else { "0" },
            );
        }
        let label = if text_width(&name, 12.0) < fw - 2.0 {
            name.clone()
        } else {
            name.replace(" index", "")
        };
        svg.text(x + fw / 2.0, sy - 8.0, "middle", "", &label);
        let val = format!("{value:#x}");
        let val = if text_width(&format!("{val} = {value}"), 12.0) < fw - 2.0 {
            format!("{val} = {value}")
        } else {
            val
        };
        svg.text(x + fw / 2.0, sy + 42.0, "middle", "", &val);
        svg.text(
            x + fw / 2.0,
            sy + 56.0,
            "middle",
            "s m",
            &format!("bits {}–{}", hi - 1, lo),
        );
        svg.end_group();
        fields.push((x + fw / 2.0, fw));
        x += fw;
        hi = lo;
    }
    let strip_right = x;

    // The tables.
    let by = sy + 100.0;
    let row_h = 20.0;
    let box_h = 30.0 + 3.0 * row_h + 8.0;
    let mut right = strip_right;
    let mut bottom = by + box_h;
    let mut last_stop = None;
    for (i, lv) in w.levels.iter().enumerate() {
        let bx = 12.0 + i as f64 * (BOX_W + GAP);
        let c = colour(lv.level);
        let head = if lv.level == 0 {
            format!("L{} table (root)", lv.level + 1)
        } else {
            format!("L{} table #{}", lv.level + 1, lv.table)
        };
        svg.group(&format!(
            "{head}: entry {} = {:#x}: {}",
            lv.index, lv.entry, lv.meaning
        ));
        svg.rect(bx, by, BOX_W, box_h, "ln", None);
        svg.rect_attrs(
            bx,
            by,
            BOX_W,
            24.0,
            "",
            &format!("fill=\"{c}\" fill-opacity=\"0.28\""),
        );
        svg.text(bx + 8.0, by + 16.0, "start", "", &head);
        let ry = by + 30.0;
        svg.text(bx + 8.0, ry + 14.0, "start", "m", "⋮");
        // The walk ends at its last level; without a physical address, that entry is where
        // the translation failed.
        let stops = i + 1 == w.levels.len() && w.paddr.is_none();
        // Red where the access would raise SIGSEGV, amber where it would page-fault.
        let (cls, outline) = match (stops, w.mapped) {
            (false, _) => ("", ""),
            (true, true) => ("a", "ab"),
            (true, false) => ("w", "wb"),
        };
        svg.tinted(bx + 4.0, ry + row_h, BOX_W - 8.0, row_h, outline, c);
        svg.text(
            bx + 8.0,
            ry + row_h + 14.0,
            "start",
            cls,
            &format!("[{}] {:#x}", lv.index, lv.entry),
        );
        svg.text(bx + 8.0, ry + 2.0 * row_h + 14.0, "start", "m", "⋮");
        svg.end_group();
        // What the entry means, under the box.
        let mut my = by + box_h + 16.0;
        for l in wrap(&lv.meaning, (BOX_W / 7.2) as usize) {
            svg.text(bx, my, "start", cls, &l);
            my += 15.0;
        }
        bottom = bottom.max(my);
        // The index that chose the entry.
        if let Some(&(fx, _)) = fields.get(lv.level) {
            svg.path(
                &format!(
                    "M{} {}L{} {}",
                    n(fx),
                    n(sy + 62.0),
                    n(bx + BOX_W / 2.0),
                    n(by - 2.0)
                ),
                "",
                &format!("stroke=\"{c}\" stroke-dasharray=\"4 3\" fill=\"none\""),
            );
        }
        // Entry to next table (or frame).
        if !stops && i + 1 < w.levels.len() || w.paddr.is_some() && i + 1 == w.levels.len() {
            let ax = bx + BOX_W - 4.0;
            let ay = ry + row_h * 1.5;
            svg.arrow(ax, ay, bx + BOX_W + GAP, by + 12.0);
        }
        if stops {
            last_stop = Some(bx + BOX_W);
        }
        right = right.max(bx + BOX_W);
    }

    // The frame and the offset within it.
    if let Some(pa) = w.paddr {
        let bx = 12.0 + w.levels.len() as f64 * (BOX_W + GAP);
        let frame = pa >> w.page_shift;
        svg.group(&format!(
            "frame {frame:#x}: physical address {pa:#x} = frame {frame:#x} × page + offset {:#x}",
            w.offset
        ));
        svg.rect(bx, by, BOX_W, box_h, "ln", None);
        svg.rect_attrs(
            bx,
            by,
            BOX_W,
            24.0,
            "",
            "fill=\"#7fcf95\" fill-opacity=\"0.35\"",
        );
        svg.text(
            bx + 8.0,
            by + 16.0,
            "start",
            "",
            &format!("frame {frame:#x}"),
        );
        let oy = by + 30.0 + row_h;
        svg.tinted(bx + 4.0, oy, BOX_W - 8.0, row_h, "", OFFSET_FILL);
        svg.text(
            bx + 8.0,
            oy + 14.0,
            "start",
            "",
            &format!("+{:#x} (offset)", w.offset),
        );
        svg.end_group();
        svg.text(
            bx,
            by + box_h + 16.0,
            "start",
            "",
            &format!("physical {pa:#x}"),
        );
        if let Some(&(fx, _)) = fields.last() {
            svg.path(
                &format!(
                    "M{} {}L{} {}",
                    n(fx),
                    n(sy + 62.0),
                    n(bx + BOX_W / 2.0),
                    n(by - 2.0)
                ),
                "",
                &format!("stroke=\"{OFFSET_FILL}\" stroke-dasharray=\"4 3\" fill=\"none\""),
            );
        }
        right = right.max(bx + BOX_W);
    } else if let Some(sx) = last_stop {
        let (cls, what) = if w.translate_only {
            ("w", "✗ not valid: fault")
        } else if w.mapped {
            ("a", "✗ not present: page fault")
        } else {
            ("w", "✗ no mapping: SIGSEGV")
        };
        svg.text(sx + 10.0, by + 30.0 + row_h * 1.5 + 4.0, "start", cls, what);
        right = right.max(sx + 10.0 + text_width(what, 12.0));
    }
    if w.levels.is_empty() {
        // No table was read: the address is past the machine's (the sentence below says so),
        // or the process has no table yet.
        let why = if w.translate_only {
            "no table read"
        } else {
            "no page table yet"
        };
        svg.text(12.0, by + 16.0, "start", "m", why);
    }

    // The outcome, as a sentence.
    let mut y = bottom + 22.0;
    let chars = ((right - 12.0) / 7.2).max(40.0) as usize;
    for l in wrap(&w.outcome, chars) {
        svg.text(12.0, y, "start", "", &l);
        y += 16.0;
    }
    svg.finish(right + 12.0, y, &title)
}

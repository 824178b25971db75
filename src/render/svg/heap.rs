//! `show heap` as a picture: the heap's chunks as a strip in address order, widths to scale
//! (a chunk too large for the strip is drawn shorter, with a break), in use, free with the
//! bin that holds it, or the top chunk, each with its size.

use super::{text_width, zigzag_v, Svg};
use crate::heap::ChunkView;
use crate::units::Radix;

const WIDTH: f64 = 880.0;
const MAX_W: f64 = 300.0;
const MIN_W: f64 = 44.0;
const CHUNK_H: f64 = 44.0;
const ROW_H: f64 = CHUNK_H + 34.0;

const IN_USE: &str = "#7fcf95";
const FREE: &str = "#f6df8f";
const TOP: &str = "#d5e3da";
const MMAPPED: &str = "#c7a3ec";

fn fill(c: &ChunkView) -> &'static str {
    if c.bin == "top" {
        TOP
    } else if c.bin == "mmapped" {
        MMAPPED
    } else if c.in_use {
        IN_USE
    } else {
        FREE
    }
}

pub fn render(pid: u32, allocator: &str, radix: Radix, rows: &[ChunkView]) -> String {
    let mut svg = Svg::new();
    let title = format!("Heap of pid {pid} ({allocator})");
    svg.text(12.0, 22.0, "start", "h", &title);
    // The teaching heaps' sizes are written in decimal, as their exercises are; addresses
    // follow the machine.
    let decimal = allocator != "glibc" || radix == Radix::Decimal;
    let at = |v: u64| radix.addr(v);
    let num = |v: u64| {
        if decimal {
            v.to_string()
        } else {
            format!("{v:#x}")
        }
    };

    let mut lx = 12.0;
    let ly = 46.0;
    let free_label = if decimal { "free" } else { "free (its bin)" };
    for (f, label, show) in [
        (
            IN_USE,
            "in use",
            rows.iter().any(|c| c.in_use && c.bin != "mmapped"),
        ),
        (
            FREE,
            free_label,
            rows.iter().any(|c| !c.in_use && c.bin != "top"),
        ),
        (TOP, "top", rows.iter().any(|c| c.bin == "top")),
        (MMAPPED, "mmapped", rows.iter().any(|c| c.bin == "mmapped")),
    ] {
        if show {
            lx = svg.swatch(lx, ly, f, label);
        }
    }

    // Everything to scale when the smallest chunk stays wide enough to see; otherwise the
    // small chunks set the scale and the large ones are broken.
    let total: u64 = rows.iter().map(|c| c.size).sum();
    let smallest = rows
        .iter()
        .map(|c| c.size)
        .filter(|&s| s > 0)
        .min()
        .unwrap_or(1);
    let mut scale = WIDTH / total.max(1) as f64;
    let mut max_w = WIDTH;
    if smallest as f64 * scale < MIN_W {
        max_w = MAX_W;
        let mut sizes: Vec<u64> = rows.iter().map(|c| c.size).collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2].max(1) as f64;
        scale = (MIN_W / smallest as f64).min(120.0 / median);
    }

    let mut x = 12.0;
    let mut y = ly + 22.0;
    let mut label_end = f64::MIN;
    let mut prev_end: Option<u64> = None;
    // The address where a run of chunks ends, under its right edge, when there is room.
    let end_label = |svg: &mut Svg, x: f64, y: f64, label_end: f64, end: Option<u64>| {
        if let Some(e) = end {
            let a = at(e);
            if x - text_width(&a, 10.0) >= label_end {
                svg.line(x, y + CHUNK_H, x, y + CHUNK_H + 6.0, "ln");
                svg.text(x, y + CHUNK_H + 18.0, "end", "s m", &a);
            }
        }
    };
    for c in rows {
        let to_scale = c.size as f64 * scale;
        let broken = to_scale > max_w + 0.5;
        let w = to_scale.clamp(MIN_W, max_w);
        // A new row when the strip is full, or where the chunks stop being contiguous (an
        // mmapped chunk lies far from the heap).
        let contiguous = prev_end.is_none_or(|e| e == c.addr);
        if (x + w > 12.0 + WIDTH || !contiguous) && x > 12.0 {
            if !contiguous {
                end_label(&mut svg, x, y, label_end, prev_end);
            }
            x = 12.0;
            y += ROW_H;
            label_end = f64::MIN;
        }
        let state = if c.in_use {
            if c.bin == "mmapped" {
                "in use (mmapped)".to_string()
            } else {
                "in use".to_string()
            }
        } else if c.bin == "top" {
            "top".to_string()
        } else if c.bin.is_empty() {
            "free".to_string()
        } else {
            format!("free: {}", c.bin)
        };
        svg.group(&format!(
            "chunk at {}, {} bytes: {state}",
            at(c.addr),
            num(c.size)
        ));
        svg.rect(x, y, w, CHUNK_H, "ed", Some(fill(c)));
        if broken {
            svg.path(
                &zigzag_v(x + w / 2.0, y, CHUNK_H),
                "ed",
                "fill=\"none\" stroke-width=\"2\"",
            );
        }
        let size_label = num(c.size);
        let state_label = if c.in_use { "" } else { &*c.bin };
        let avail = if broken { w / 2.0 - 6.0 } else { w - 6.0 };
        if text_width(&size_label, 10.0) <= avail {
            svg.text(x + 4.0, y + 17.0, "start", "s in", &size_label);
        }
        if !state_label.is_empty() && text_width(state_label, 10.0) <= avail {
            svg.text(x + 4.0, y + 32.0, "start", "s in", state_label);
        }
        svg.end_group();
        let a = at(c.addr);
        if x >= label_end {
            svg.line(x, y + CHUNK_H, x, y + CHUNK_H + 6.0, "ln");
            svg.text(x, y + CHUNK_H + 18.0, "start", "s m", &a);
            label_end = x + text_width(&a, 10.0) + 8.0;
        }
        x += w;
        prev_end = Some(c.addr + c.size);
    }
    end_label(&mut svg, x, y, label_end, prev_end);
    let note_y = y + ROW_H + 4.0;
    let in_use: u64 = rows.iter().filter(|c| c.in_use).map(|c| c.size).sum();
    let free: u64 = rows
        .iter()
        .filter(|c| !c.in_use && c.bin != "top")
        .map(|c| c.size)
        .sum();
    let unit = if decimal { "" } else { " bytes" };
    svg.text(
        12.0,
        note_y,
        "start",
        "m",
        &format!(
            "{} chunks: {}{unit} in use, {}{unit} free{}",
            rows.len(),
            num(in_use),
            num(free),
            match (
                rows.iter().any(|c| (c.size as f64) * scale < MIN_W),
                rows.iter().any(|c| c.size as f64 * scale > max_w + 0.5),
            ) {
                (false, false) => "; widths to scale",
                (true, false) => "; widths to scale, tiny chunks widened",
                (false, true) => "; widths to scale, except chunks drawn with a break",
                (true, true) => "; widths to scale, tiny chunks widened, huge ones broken",
            }
        ),
    );
    svg.finish(WIDTH.max(lx) + 24.0, note_y + 14.0, &title)
}

//! SVG pictures of snapshots (`show maps`, `show frames`, `show walk`, `show heap`, `sweep`),
//! written by hand: no JavaScript, fixed font sizes, a `<title>` on every element for hover
//! text, colours that read on light and dark backgrounds.

pub(crate) mod chart;
mod frames;
mod heap;
mod maps;
mod walk;

use std::fmt::Write as _;

use crate::session::Snapshot;

/// The picture of a snapshot, for the targets that have one.
pub fn snapshot(s: &Snapshot) -> Option<String> {
    match s {
        Snapshot::Maps {
            pid,
            page_size,
            rows,
        } => Some(maps::render(*pid, *page_size, rows)),
        Snapshot::Frames {
            total,
            used,
            rows,
            policy,
            next_victim,
        } => Some(frames::render(*total, *used, rows, policy, *next_victim)),
        Snapshot::Walk(w) => Some(walk::render(w)),
        Snapshot::Heap {
            pid,
            allocator,
            radix,
            rows,
            ..
        } => (!rows.is_empty()).then(|| heap::render(*pid, allocator, *radix, rows)),
        Snapshot::Sweep {
            params,
            columns,
            rows,
        } => chart::render(params, columns, rows),
        _ => None,
    }
}

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Pixels per character of the monospace font at `size` px: labels are measured with it so
/// they never overlap.
pub fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.6
}

/// The style every picture carries: theme colours as CSS variables, switched by the reader's
/// colour scheme, so the picture reads on light and dark pages (and standalone, in an `<img>`).
const STYLE: &str = "\
.ms{--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--line:#8c959f;--grid:#d8dee4;--warn:#cf222e;--amber:#9a6700;\
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace}\
@media (prefers-color-scheme:dark){.ms{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;\
--line:#768390;--grid:#30363d;--warn:#ff7b72;--amber:#e3b341}}\
.ms .bg{fill:var(--bg)}\
.ms text{fill:var(--fg);font-size:12px}\
.ms text.s{font-size:10px}\
.ms text.h{font-size:14px;font-weight:bold}\
.ms text.m{fill:var(--muted)}\
.ms text.in{fill:#1f2328}\
.ms text.w{fill:var(--warn);font-weight:bold}\
.ms .ln{stroke:var(--line);fill:none}\
.ms .gr{stroke:var(--grid);fill:none}\
.ms .ed{stroke:#1f2328;stroke-opacity:.55}\
.ms .wn{stroke:var(--warn);fill:none}\
.ms .wb{stroke:var(--warn);stroke-width:2}\
.ms text.a{fill:var(--amber);font-weight:bold}\
.ms .ab{stroke:var(--amber);stroke-width:2}\
.ms .ar{fill:var(--line)}\
.ms .res{fill:#1f2328;stroke:var(--line)}\
.ms .free{fill:none;stroke:var(--line);stroke-dasharray:3 2}\
";

/// Fill colours by region kind (and chunk state): light enough for dark text, saturated
/// enough to stand out on a dark page.
pub fn kind_fill(kind: &str) -> &'static str {
    match kind {
        "text" => "#f4b860",
        "data" => "#e8d86a",
        "heap" => "#7fcf95",
        "stack" => "#82b8ee",
        "mmap" => "#c7a3ec",
        "lib" => "#eea7c0",
        "guard" => "#c4c9ce",
        "kernel" => "#a9b4c0",
        "file" => "#8fd8d4",
        "table" => "#9fb3d9",
        "page" => "#7fcf95",
        "free" => "#dfe3e8",
        _ => "#cfd6dd",
    }
}

/// Line colours for series (levels of a walk, lines of a chart), distinguishable in both
/// themes and for the common colour-vision deficiencies (Okabe–Ito).
pub const SERIES: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#b8a400", "#7f7f7f",
];

/// A picture under construction. Coordinates are pixels; `finish` sets the size.
pub struct Svg {
    body: String,
}

impl Svg {
    pub fn new() -> Self {
        Svg {
            body: String::new(),
        }
    }

    /// Opens a group whose hover text is `title`.
    pub fn group(&mut self, title: &str) {
        let _ = write!(self.body, "<g><title>{}</title>", esc(title));
    }
    pub fn end_group(&mut self) {
        self.body.push_str("</g>");
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, fill: Option<&str>) {
        let fill = fill.map(|f| format!("fill=\"{f}\"")).unwrap_or_default();
        self.rect_attrs(x, y, w, h, class, &fill);
    }

    /// A rectangle with further attributes (`fill="…" stroke="…"`), already escaped.
    pub fn rect_attrs(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, attrs: &str) {
        let _ = write!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
            n(x),
            n(y),
            n(w),
            n(h)
        );
        if !class.is_empty() {
            let _ = write!(self.body, " class=\"{class}\"");
        }
        if !attrs.is_empty() {
            let _ = write!(self.body, " {attrs}");
        }
        self.body.push_str("/>");
    }

    /// A rectangle tinted with `colour`: translucent fill, solid outline (reads on light and
    /// dark backgrounds alike).
    pub fn tinted(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, colour: &str) {
        self.rect_attrs(
            x,
            y,
            w,
            h,
            class,
            &format!("fill=\"{colour}\" fill-opacity=\"0.28\" stroke=\"{colour}\""),
        );
    }

    /// Text at (x, y) (the baseline), anchored `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, s: &str) {
        let _ = write!(self.body, "<text x=\"{}\" y=\"{}\"", n(x), n(y));
        if anchor != "start" {
            let _ = write!(self.body, " text-anchor=\"{anchor}\"");
        }
        if !class.is_empty() {
            let _ = write!(self.body, " class=\"{class}\"");
        }
        let _ = write!(self.body, ">{}</text>", esc(s));
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{class}\"/>",
            n(x1),
            n(y1),
            n(x2),
            n(y2)
        );
    }

    /// A path; `extra` holds further attributes, already escaped.
    pub fn path(&mut self, d: &str, class: &str, extra: &str) {
        let _ = write!(self.body, "<path d=\"{d}\"");
        if !class.is_empty() {
            let _ = write!(self.body, " class=\"{class}\"");
        }
        if !extra.is_empty() {
            let _ = write!(self.body, " {extra}");
        }
        self.body.push_str("/>");
    }

    /// An arrow from (x1, y1) to (x2, y2), its head at the end.
    pub fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.line(x1, y1, x2, y2, "ln");
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let (bx, by) = (x2 - 8.0 * ux, y2 - 8.0 * uy);
        let d = format!(
            "M{} {}L{} {}L{} {}Z",
            n(x2),
            n(y2),
            n(bx - 4.0 * uy),
            n(by + 4.0 * ux),
            n(bx + 4.0 * uy),
            n(by - 4.0 * ux)
        );
        self.path(&d, "ar", "");
    }

    /// A legend swatch with its label; returns the x after it.
    pub fn swatch(&mut self, x: f64, y: f64, fill: &str, label: &str) -> f64 {
        self.group(label);
        self.rect(x, y - 10.0, 12.0, 12.0, "ed", Some(fill));
        self.text(x + 17.0, y, "start", "", label);
        self.end_group();
        x + 17.0 + text_width(label, 12.0) + 16.0
    }

    /// The finished picture, `w` × `h` pixels, with a background and a title for the whole.
    pub fn finish(self, w: f64, h: f64, title: &str) -> String {
        let (w, h) = (w.ceil(), h.ceil());
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ms\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" role=\"img\"><title>{}</title><style>{STYLE}</style>\
             <rect class=\"bg\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" rx=\"6\"/>{}</svg>\n",
            esc(title),
            self.body
        )
    }
}

impl Default for Svg {
    fn default() -> Self {
        Self::new()
    }
}

/// A size for a label, to about three digits, with units up to EiB (address-space gaps reach
/// them): `36 KiB`, `≈127.9 TiB`, `≈16 EiB`. `≈` marks a rounded value.
pub fn approx_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut u = 0;
    while u + 1 < UNITS.len() && bytes >= 1u64 << (10 * (u + 1)) {
        u += 1;
    }
    let unit = 1u64 << (10 * u);
    if bytes.is_multiple_of(unit) {
        return format!("{} {}", bytes / unit, UNITS[u]);
    }
    let v = bytes as f64 / unit as f64;
    if v >= 100.0 {
        format!("≈{v:.0} {}", UNITS[u])
    } else {
        format!("≈{v:.1} {}", UNITS[u])
    }
}

/// A coordinate, rounded to a tenth of a pixel so output is short and stable.
pub fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// A horizontal zig-zag across `[x, x + w]` at `y`: the mark of a broken axis.
pub fn zigzag(x: f64, y: f64, w: f64) -> String {
    let mut d = format!("M{} {}", n(x), n(y));
    let steps = ((w / 8.0).floor() as usize).max(2);
    let step = w / steps as f64;
    for i in 1..=steps {
        let dy = if i % 2 == 1 { -3.0 } else { 3.0 };
        let _ = write!(d, "L{} {}", n(x + step * i as f64), n(y + dy));
    }
    d
}

/// A vertical zig-zag across `[y, y + h]` at `x`.
pub fn zigzag_v(x: f64, y: f64, h: f64) -> String {
    let mut d = format!("M{} {}", n(x), n(y));
    let steps = ((h / 8.0).floor() as usize).max(2);
    let step = h / steps as f64;
    for i in 1..=steps {
        let dx = if i % 2 == 1 { -3.0 } else { 3.0 };
        let _ = write!(d, "L{} {}", n(x + dx), n(y + step * i as f64));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_sizes_reach_exbibytes() {
        assert_eq!(approx_size(36 * 1024), "36 KiB");
        assert_eq!(approx_size(0x7fff_f7fb_7000 - 0x42_6000), "≈128 TiB");
        assert_eq!(
            approx_size(0xffff_ffff_ff60_0000 - 0x7fff_ffff_f000),
            "≈16.0 EiB"
        );
        assert_eq!(approx_size(1536 * 1024 + 1), "≈1.5 MiB");
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(esc("a\u{1}b"), "a\u{fffd}b");
    }

    #[test]
    fn coordinates_are_short_and_stable() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.04), "12");
        assert_eq!(n(12.25), "12.3");
        assert_eq!(n(-0.5), "-0.5");
    }
}

//! A `sweep` as a line chart: the reported value against the swept setting (memory, when it
//! is swept), one line per value of the other settings, one panel per reported value, so
//! Belady's anomaly shows as a line that goes up.

use super::{esc, n, text_width, Svg, SERIES};
use crate::session::snapshot::SweepRow;

const PLOT_W: f64 = 420.0;
const PLOT_H: f64 = 220.0;
const LEFT: f64 = 64.0;
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

/// The parameter the x axis shows: `memory` when swept (replacement textbooks plot against
/// the number of frames), else the last one.
pub fn x_param(params: &[String]) -> usize {
    params
        .iter()
        .position(|p| p == "memory")
        .unwrap_or(params.len().saturating_sub(1))
}

/// A reported value as a number: `12`, `0.75`, `93.8%`.
pub fn number(s: &str) -> Option<f64> {
    s.trim().trim_end_matches('%').trim().parse().ok()
}

/// Values in order of first appearance.
pub fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in it {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Up to about five round ticks from 0 to at least `max`.
/// Whole-number data gets whole-number ticks.
fn ticks(max: f64, whole: bool) -> Vec<f64> {
    if max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let steps: &[f64] = if whole && mag <= 1.0 {
        &[1.0, 2.0, 5.0, 10.0]
    } else {
        &[1.0, 2.0, 2.5, 5.0, 10.0]
    };
    let step = steps
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let step = if whole { step.max(1.0).round() } else { step };
    let mut t = vec![0.0];
    while *t.last().unwrap_or(&0.0) < max - 1e-9 {
        t.push(t.len() as f64 * step);
    }
    t
}

fn fmt_tick(v: f64) -> String {
    if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Each line a little narrower than the one before, so lines that coincide (FIFO and CLOCK
/// often do) still show both colours.
fn width(series: usize) -> String {
    n((4.5 - 0.7 * series as f64).max(1.5))
}

struct Series {
    name: String,
    /// One value per x category.
    values: Vec<Option<f64>>,
    /// Why a value is missing or what ended the run (`OOM`), per x category.
    notes: Vec<String>,
}

pub fn render(params: &[String], columns: &[String], rows: &[SweepRow]) -> Option<String> {
    if params.is_empty() || columns.is_empty() || rows.is_empty() {
        return None;
    }
    let xi = x_param(params);
    let xs = distinct(rows.iter().map(|r| r.params[xi].as_str()));
    let others = |r: &SweepRow| -> String {
        r.params
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != xi)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let other_names: Vec<&str> = params
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != xi)
        .map(|(_, p)| p.as_str())
        .collect();
    // Panels: one per column when other settings make the lines; one panel with a line per
    // column when only one setting was swept.
    let mut panels: Vec<(String, Vec<Series>)> = Vec::new();
    let series_for = |col: usize, key: &dyn Fn(&SweepRow) -> bool, name: String| Series {
        name,
        values: xs
            .iter()
            .map(|x| {
                rows.iter()
                    .find(|r| r.params[xi] == *x && key(r))
                    .and_then(|r| r.values.get(col).and_then(|v| number(v)))
            })
            .collect(),
        notes: xs
            .iter()
            .map(|x| {
                rows.iter()
                    .find(|r| r.params[xi] == *x && key(r))
                    .map_or(String::new(), |r| r.note.clone())
            })
            .collect(),
    };
    if params.len() == 1 {
        let s = columns
            .iter()
            .enumerate()
            .map(|(c, name)| series_for(c, &|_| true, name.clone()))
            .collect();
        panels.push((columns.join(", "), s));
    } else {
        let keys = {
            let all: Vec<String> = rows.iter().map(others).collect();
            let mut k: Vec<String> = Vec::new();
            for a in all {
                if !k.contains(&a) {
                    k.push(a);
                }
            }
            k
        };
        for (c, col) in columns.iter().enumerate() {
            let s = keys
                .iter()
                .map(|k| series_for(c, &|r: &SweepRow| others(r) == *k, k.clone()))
                .collect();
            panels.push((col.clone(), s));
        }
    }
    if panels
        .iter()
        .all(|(_, s)| s.iter().all(|s| s.values.iter().all(Option::is_none)))
    {
        return None;
    }

    let mut svg = Svg::new();
    let title = if params.len() == 1 {
        format!("{} against {}", columns.join(", "), params[xi])
    } else {
        format!(
            "{} against {}, one line per {}",
            columns.join(", "),
            params[xi],
            other_names.join(", ")
        )
    };
    svg.text(12.0, 22.0, "start", "h", &title);
    let legend_w = panels
        .iter()
        .flat_map(|(_, s)| s.iter().map(|s| text_width(&s.name, 12.0)))
        .fold(0.0, f64::max)
        + 48.0;
    let panel_h = PLOT_H + 80.0;
    let mut top = 40.0;
    for (name, series) in &panels {
        let max = series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0f64, |a, &b| a.max(b));
        let whole = series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .all(|v| v.fract() == 0.0);
        let t = ticks(max, whole);
        let ymax = *t.last().unwrap_or(&1.0);
        let (px, py) = (LEFT, top + 24.0);
        let y_of = |v: f64| py + PLOT_H - v / ymax * PLOT_H;
        let step = PLOT_W / xs.len() as f64;
        let x_of = |i: usize| px + step * (i as f64 + 0.5);
        svg.text(px, top + 12.0, "start", "", name);
        for &tv in &t {
            let y = y_of(tv);
            svg.line(px, y, px + PLOT_W, y, "gr");
            svg.text(px - 6.0, y + 4.0, "end", "m", &fmt_tick(tv));
        }
        svg.line(px, py + PLOT_H, px + PLOT_W, py + PLOT_H, "ln");
        svg.line(px, py, px, py + PLOT_H, "ln");
        // x labels: every one when they fit, else every k-th.
        let widest = xs.iter().map(|x| text_width(x, 12.0)).fold(0.0, f64::max);
        let every = ((widest + 8.0) / step).ceil().max(1.0) as usize;
        for (i, x) in xs.iter().enumerate() {
            svg.line(x_of(i), py + PLOT_H, x_of(i), py + PLOT_H + 4.0, "ln");
            if i % every == 0 {
                svg.text(x_of(i), py + PLOT_H + 18.0, "middle", "", x);
            }
        }
        svg.text(
            px + PLOT_W / 2.0,
            py + PLOT_H + 38.0,
            "middle",
            "m",
            &params[xi],
        );
        for (si, s) in series.iter().enumerate() {
            let c = SERIES[si % SERIES.len()];
            let dash = DASHES[(si / SERIES.len() + si) % DASHES.len()];
            let dash_attr = if dash.is_empty() {
                String::new()
            } else {
                format!(" stroke-dasharray=\"{dash}\"")
            };
            svg.group(&s.name);
            // Lines join neighbouring values only: a missing one leaves a gap.
            let mut d = String::new();
            let mut pen = false;
            for (i, v) in s.values.iter().enumerate() {
                match v {
                    Some(v) => {
                        d.push_str(&format!(
                            "{}{} {}",
                            if pen { "L" } else { "M" },
                            n(x_of(i)),
                            n(y_of(*v))
                        ));
                        pen = true;
                    }
                    None => pen = false,
                }
            }
            svg.path(
                &d,
                "",
                &format!(
                    "fill=\"none\" stroke=\"{c}\" stroke-width=\"{}\"{dash_attr}",
                    width(si)
                ),
            );
            svg.end_group();
            for (i, v) in s.values.iter().enumerate() {
                if let Some(v) = v {
                    let note = if s.notes[i].is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", s.notes[i])
                    };
                    svg.group(&format!(
                        "{}, {} {}: {name} = {}{note}",
                        s.name,
                        params[xi],
                        xs[i],
                        fmt_tick(*v)
                    ));
                    svg.path(
                        &format!(
                            "M{} {}m-4 0a4 4 0 1 0 8 0a4 4 0 1 0 -8 0",
                            n(x_of(i)),
                            n(y_of(*v))
                        ),
                        "",
                        &format!("fill=\"{c}\" class=\"pt\""),
                    );
                    svg.end_group();
                }
            }
        }
        // Legend, right of the plot.
        let lx = px + PLOT_W + 20.0;
        let mut ly = py + 10.0;
        if !other_names.is_empty() {
            svg.text(lx, ly, "start", "m", &other_names.join(", "));
            ly += 20.0;
        }
        for (si, s) in series.iter().enumerate() {
            let c = SERIES[si % SERIES.len()];
            let dash = DASHES[(si / SERIES.len() + si) % DASHES.len()];
            svg.group(&s.name);
            svg.path(
                &format!("M{} {}h26", n(lx), n(ly - 4.0)),
                "",
                &format!(
                    "stroke=\"{c}\" stroke-width=\"{}\"{}",
                    width(si),
                    if dash.is_empty() {
                        String::new()
                    } else {
                        format!(" stroke-dasharray=\"{}\"", esc(dash))
                    }
                ),
            );
            svg.text(lx + 34.0, ly, "start", "", &s.name);
            svg.end_group();
            ly += 18.0;
        }
        top += panel_h.max(ly - top + 10.0);
    }
    Some(svg.finish(LEFT + PLOT_W + 20.0 + legend_w + 12.0, top, &title))
}

//! Server-rendered SVG charts: self-contained (colours as attributes, no CSS, no script) so the
//! same picture works in the page, in an email and in a PDF report. Accessible: `role="img"`,
//! a title, and a description listing every series' total.

use std::fmt::Write;

/// Colour-blind-safe palette (Okabe–Ito), then greys.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#999999",
];

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    /// Drawn dashed (a baseline, an expectation).
    pub dashed: bool,
}

#[derive(Debug, Clone)]
pub struct LineChart {
    /// Read by screen readers and shown as the tooltip.
    pub title: String,
    /// One label per point; only a few are printed under the axis.
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    pub width: u32,
    pub height: u32,
}

/// Escapes text for SVG/XML content and attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// A "nice" axis maximum and tick step (1, 2 or 5 × 10ⁿ) covering `max`.
pub fn nice_scale(max: f64, ticks: u32) -> (f64, f64) {
    if !(max.is_finite()) || max <= 0.0 {
        return (1.0, 1.0);
    }
    let raw = max / ticks.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let step = if step < 1.0 { 1.0 } else { step };
    ((max / step).ceil() * step, step)
}

const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;

/// A line chart with a legend; `fmt` writes the numbers (locale: « 12 500 » or "12,500").
pub fn line_chart(c: &LineChart, fmt: &dyn Fn(f64) -> String) -> String {
    let (w, h) = (c.width.max(200) as f64, c.height.max(120) as f64);
    let n = c
        .x_labels
        .len()
        .max(c.series.iter().map(|s| s.values.len()).max().unwrap_or(0));
    let max = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (top, step) = nice_scale(max, 4);
    let (pw, ph) = (w - LEFT - RIGHT, h - TOP - BOTTOM);
    let x = |i: usize| {
        LEFT + if n > 1 {
            pw * i as f64 / (n - 1) as f64
        } else {
            pw / 2.0
        }
    };
    let y = |v: f64| TOP + ph - ph * (v.clamp(0.0, top) / top);
    let mut o = String::new();
    let desc: Vec<String> = c
        .series
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.name,
                fmt(s.values.iter().filter(|v| v.is_finite()).sum())
            )
        })
        .collect();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" font-family="system-ui, sans-serif" font-size="11"><title>{t}</title><desc>{d}</desc>"#,
        t = esc(&c.title),
        d = esc(&desc.join("; "))
    );
    // Grid and y ticks.
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        let yy = y(v);
        let _ = write!(
            o,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e3e3e3"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#555">{l}</text>"##,
            x2 = w - RIGHT,
            tx = LEFT - 6.0,
            ty = yy + 4.0,
            l = esc(&fmt(v))
        );
        v += step;
    }
    // At most ~6 x labels, evenly spread, always the first and the last.
    if n > 0 {
        let every = n.div_ceil(6).max(1);
        for (i, l) in c.x_labels.iter().enumerate() {
            if i % every == 0 || i + 1 == n {
                let anchor = if i == 0 {
                    "start"
                } else if i + 1 == n {
                    "end"
                } else {
                    "middle"
                };
                let _ = write!(
                    o,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="#555">{}</text>"##,
                    x(i),
                    TOP + ph + 14.0,
                    esc(l)
                );
            }
        }
    }
    for (k, s) in c.series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="5 4""#
        } else {
            ""
        };
        if pts.len() == 1 {
            let (px, py) = pts[0].split_once(',').unwrap_or(("0", "0"));
            let _ = write!(o, r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#);
        } else if !pts.is_empty() {
            let _ = write!(
                o,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
                pts.join(" "),
                esc(&s.name)
            );
        }
        // Legend under the axis labels.
        let lx = LEFT + (k as f64 % 4.0) * (pw / 4.0);
        let ly = h - 8.0 - 14.0 * ((c.series.len().saturating_sub(1) / 4) as f64 - (k / 4) as f64);
        let _ = write!(
            o,
            r##"<line x1="{lx}" x2="{x2}" y1="{yl:.1}" y2="{yl:.1}" stroke="{colour}" stroke-width="3"{dash}/><text x="{tx}" y="{ly:.1}" fill="#222">{}</text>"##,
            esc(&s.name),
            x2 = lx + 14.0,
            yl = ly - 4.0,
            tx = lx + 18.0,
        );
    }
    o.push_str("</svg>");
    o
}

/// One horizontal 100 % bar split between named parts (share of voice, sentiment split).
pub fn share_bar(
    title: &str,
    parts: &[(String, f64)],
    width: u32,
    fmt_pct: &dyn Fn(f64) -> String,
) -> String {
    let total: f64 = parts.iter().map(|(_, v)| v.max(0.0)).sum();
    let w = width.max(200) as f64;
    let rows = parts.len().div_ceil(3).max(1) as f64;
    let h = 28.0 + 16.0 * rows;
    let mut o = String::new();
    let desc: Vec<String> = parts
        .iter()
        .map(|(n, v)| {
            format!(
                "{n}: {}",
                fmt_pct(if total > 0.0 { v / total } else { 0.0 })
            )
        })
        .collect();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" font-family="system-ui, sans-serif" font-size="11"><title>{t}</title><desc>{d}</desc>"#,
        t = esc(title),
        d = esc(&desc.join("; "))
    );
    let mut x0 = 0.0;
    for (k, (name, v)) in parts.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let share = if total > 0.0 { v.max(0.0) / total } else { 0.0 };
        let bw = w * share;
        if bw > 0.0 {
            let _ = write!(
                o,
                r#"<rect x="{x0:.1}" y="0" width="{bw:.1}" height="18" fill="{colour}"><title>{} {}</title></rect>"#,
                esc(name),
                esc(&fmt_pct(share))
            );
        }
        x0 += bw;
        let lx = (k % 3) as f64 * w / 3.0;
        let ly = 34.0 + 16.0 * (k / 3) as f64;
        let _ = write!(
            o,
            r##"<rect x="{lx:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{ly:.1}" fill="#222">{} {}</text>"##,
            ly - 9.0,
            lx + 14.0,
            esc(name),
            esc(&fmt_pct(share))
        );
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: f64) -> String {
        format!("{v}")
    }

    #[test]
    fn nice_scales() {
        assert_eq!(nice_scale(0.0, 4), (1.0, 1.0));
        assert_eq!(nice_scale(7.0, 4), (8.0, 2.0));
        assert_eq!(nice_scale(93.0, 4), (100.0, 50.0));
        assert_eq!(nice_scale(1234.0, 4), (1500.0, 500.0));
        assert_eq!(nice_scale(0.3, 4), (1.0, 1.0));
    }

    #[test]
    fn a_line_chart_is_accessible_and_escapes_names() {
        let svg = line_chart(
            &LineChart {
                title: "Volume <Acme>".into(),
                x_labels: (0..10).map(|i| format!("{i}h")).collect(),
                series: vec![
                    Series {
                        name: "a&b".into(),
                        values: (0..10).map(|i| i as f64).collect(),
                        dashed: false,
                    },
                    Series {
                        name: "baseline".into(),
                        values: vec![2.0; 10],
                        dashed: true,
                    },
                ],
                width: 600,
                height: 200,
            },
            &n,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-label="Volume &lt;Acme&gt;""#));
        assert!(svg.contains("a&amp;b: 45") && svg.contains("baseline: 20"));
        assert!(!svg.contains("<Acme>") && !svg.contains("a&b"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        // The highest point sits at the top of the plot, zero at the bottom.
        assert!(svg.contains(&format!(
            "{:.1},{:.1}",
            44.0 + 544.0,
            12.0 + 148.0 - 148.0 * 9.0 / 10.0
        )));
    }

    #[test]
    fn empty_and_single_point_charts_render() {
        let c = LineChart {
            title: "t".into(),
            x_labels: vec![],
            series: vec![],
            width: 10,
            height: 10,
        };
        assert!(line_chart(&c, &n).ends_with("</svg>"));
        let c = LineChart {
            title: "t".into(),
            x_labels: vec!["x".into()],
            series: vec![Series {
                name: "s".into(),
                values: vec![f64::NAN, 3.0],
                dashed: false,
            }],
            width: 300,
            height: 150,
        };
        assert!(line_chart(&c, &n).contains("<circle"));
    }

    #[test]
    fn share_bar_splits_the_width() {
        let pct = |v: f64| format!("{:.0} %", v * 100.0);
        let svg = share_bar(
            "SoV",
            &[("Acme".into(), 3.0), ("Globex".into(), 1.0)],
            400,
            &pct,
        );
        assert!(svg.contains(r#"width="300.0""#) && svg.contains(r#"width="100.0""#));
        assert!(svg.contains("Acme: 75 %"));
        let none = share_bar("SoV", &[("Acme".into(), 0.0)], 400, &pct);
        assert!(none.contains("Acme: 0 %"));
    }
}

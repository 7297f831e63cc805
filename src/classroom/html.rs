//! Self-contained HTML: one file, inline CSS and SVG, no script and nothing fetched from the
//! network, so a report opens the same on a laptop without Wi-Fi or attached to an e-mail.

use std::fmt::Write as _;

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
:root { --pass: #1a7f37; --fail: #cf222e; --try: #bf8700; --none: #d0d7de; --ink: #1f2328;
  --dim: #656d76; --bg: #ffffff; --band: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ink);
  background: var(--bg); max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.sub { color: var(--dim); margin-top: 0; }
.trust { border-left: 4px solid var(--try); background: #fff8c5; padding: .6rem .9rem; }
.trust.ci { border-color: var(--pass); background: #dafbe1; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--none);
  vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: var(--pass); font-weight: 600; } .failed { color: var(--fail); font-weight: 600; }
.attempted { color: var(--try); } .not-started { color: var(--dim); }
td.cell { text-align: center; font-weight: 600; }
td.cell.passed { background: #dafbe1; } td.cell.failed { background: #ffebe9; }
td.cell.attempted { background: #fff8c5; }
.matrix { overflow-x: auto; }
.matrix th { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap;
  font-weight: 500; }
.matrix th.learner { writing-mode: horizontal-tb; transform: none; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
pre { background: var(--band); padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg .pass { fill: var(--pass); } svg .fail { fill: var(--fail); } svg .try { fill: var(--try); }
svg .none { fill: var(--none); } svg .dim { fill: var(--dim); }
.legend span { display: inline-block; margin-right: 1rem; color: var(--dim); }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
  vertical-align: -1px; }
footer { color: var(--dim); margin-top: 2rem; font-size: .85rem; }
@media print { body { margin: 0; } }
";

/// A whole page around `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n\
         <footer>Made by twelve {} · one self-contained file: nothing is loaded from the network.</footer>\n\
         </body>\n</html>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )
}

/// A part of a bar, by its CSS class in the SVG (`pass`, `fail`, `try`, `none`).
#[derive(Debug, Clone)]
pub struct Segment {
    pub value: f64,
    pub class: &'static str,
    /// A tooltip.
    pub title: String,
}

/// One row of a horizontal bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub segments: Vec<Segment>,
    /// Text after the bar.
    pub note: String,
}

/// A horizontal stacked bar chart as inline SVG; `scale` is the value of a full-width bar
/// (at least the largest bar).
pub fn bar_chart(caption: &str, bars: &[Bar], scale: f64) -> String {
    const WIDTH: f64 = 720.0;
    const LABEL: f64 = 230.0;
    const NOTE: f64 = 130.0;
    const ROW: f64 = 24.0;
    let largest = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.value).sum::<f64>())
        .fold(0.0_f64, f64::max);
    let scale = scale.max(largest).max(1.0);
    let span = WIDTH - LABEL - NOTE;
    let height = ROW * bars.len() as f64 + 8.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">\n",
        escape(caption)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LABEL - 8.0,
            y + 15.0,
            escape(&truncate(&bar.label, 34))
        );
        let _ = writeln!(
            s,
            "<rect class=\"none\" x=\"{LABEL}\" y=\"{:.1}\" width=\"{span:.1}\" height=\"16\" rx=\"2\" opacity=\"0.35\"/>",
            y + 3.0
        );
        let mut x = LABEL;
        for seg in &bar.segments {
            let w = span * seg.value / scale;
            if w <= 0.0 {
                continue;
            }
            let _ = writeln!(
                s,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\" rx=\"2\"><title>{}</title></rect>",
                seg.class,
                y + 3.0,
                escape(&seg.title)
            );
            x += w;
        }
        let _ = writeln!(
            s,
            "<text class=\"dim\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            WIDTH - NOTE + 8.0,
            y + 15.0,
            escape(&bar.note)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A legend for the chart's classes.
pub fn legend(items: &[(&str, &str)]) -> String {
    let mut s = String::from("<p class=\"legend\">");
    for (colour, label) in items {
        let _ = write!(
            s,
            "<span><i style=\"background: var(--{colour})\"></i>{}</span>",
            escape(label)
        );
    }
    s.push_str("</p>\n");
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_self_contained_and_escaped() {
        let chart = bar_chart(
            "a <chart>",
            &[Bar {
                label: "3 · Config & more".into(),
                segments: vec![Segment {
                    value: 2.0,
                    class: "fail",
                    title: "2 failed".into(),
                }],
                note: "2".into(),
            }],
            4.0,
        );
        let p = page("x < y", &chart);
        assert!(p.contains("<title>x &lt; y</title>"));
        assert!(p.contains("Config &amp; more"));
        assert!(!p.contains("<script") && !p.contains("<link"));
        // The SVG namespace is a name, not a fetch; nothing else names a URL.
        assert_eq!(p.matches("http").count(), 1, "{p}");
    }
}

//! The audit report as a scorecard (human), JSON, JUnit XML and markdown.

use super::report::{AuditReport, Evidence, FactorReport, Level, Verdict};

const ROMAN: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

fn roman(n: u8) -> &'static str {
    ROMAN
        .get(usize::from(n).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn mark(level: Level) -> &'static str {
    match level {
        Level::Fail => "✗",
        Level::Warn => "!",
        Level::Unknown => "?",
        Level::Pass => "✓",
        Level::Note => "·",
    }
}

/// The evidence worth showing under a factor: what made its verdict (and notes, which
/// explain), or everything with `verbose`.
fn shown(f: &FactorReport, verbose: bool) -> Vec<&Evidence> {
    if verbose {
        return f.evidence.iter().collect();
    }
    let lead = match f.verdict {
        Verdict::Pass => return Vec::new(),
        Verdict::Fail => Level::Fail,
        Verdict::Warn => Level::Warn,
        Verdict::Unknown => Level::Unknown,
    };
    f.evidence
        .iter()
        .filter(|e| e.level == lead || (e.level == Level::Note && f.verdict == Verdict::Fail))
        .collect()
}

/// One line per factor, with the evidence under each that did not pass.
pub fn human(r: &AuditReport, verbose: bool, color: bool) -> String {
    let mut out = format!("{} {}\n\n", paint(color, "1", "twelve audit:"), r.app);
    for f in &r.factors {
        let verdict = match f.verdict {
            Verdict::Pass => paint(color, "32", "pass"),
            Verdict::Fail => paint(color, "1;31", "FAIL"),
            Verdict::Warn => paint(color, "33", "warn"),
            Verdict::Unknown => paint(color, "2", "unknown"),
        };
        out.push_str(&format!(
            "  {:<5} {:<21} {verdict}\n",
            roman(f.factor),
            f.name
        ));
        for e in shown(f, verbose) {
            out.push_str(&format!("          {} {}\n", mark(e.level), e.text));
        }
    }
    let (pass, warn, fail, unknown) = r.counts();
    out.push('\n');
    for n in &r.notes {
        out.push_str(&format!("{}\n", paint(color, "2", &format!("note: {n}"))));
    }
    out.push_str(&format!(
        "{pass} pass, {warn} warn, {fail} fail, {unknown} unknown ({:.1}s)\n",
        r.duration_ms as f64 / 1000.0
    ));
    if !verbose && (fail > 0 || warn > 0) {
        out.push_str(
            "--format json (or md) has every probe's evidence and a transcript to reproduce it\n",
        );
    }
    out
}

pub fn json(r: &AuditReport) -> String {
    serde_json::to_string_pretty(r).expect("reports serialise") + "\n"
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One test case per factor: failures fail, unknowns are skipped, warnings pass with their
/// evidence in the output.
pub fn junit(r: &AuditReport) -> String {
    let (_, _, fail, unknown) = r.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"twelve audit\" tests=\"{n}\" failures=\"{fail}\" skipped=\"{unknown}\" time=\"{t:.3}\">\n  <testsuite name=\"{app}\" tests=\"{n}\" failures=\"{fail}\" skipped=\"{unknown}\" time=\"{t:.3}\">\n",
        n = r.factors.len(),
        t = r.duration_ms as f64 / 1000.0,
        app = xml(&r.app),
    ));
    for f in &r.factors {
        let name = format!("{} {}", roman(f.factor), f.name);
        out.push_str(&format!(
            "    <testcase classname=\"twelve.audit\" name=\"{}\">\n",
            xml(&name)
        ));
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{}: {}", e.level.label(), e.text))
            .collect();
        let body = xml(&format!(
            "{}\n\n{}",
            evidence.join("\n"),
            f.transcript.join("\n")
        ));
        match f.verdict {
            Verdict::Fail => {
                let first = f
                    .evidence
                    .iter()
                    .find(|e| e.level == Level::Fail)
                    .map_or("", |e| e.text.as_str());
                out.push_str(&format!(
                    "      <failure message=\"{}\">{body}</failure>\n",
                    xml(first)
                ));
            }
            Verdict::Unknown => {
                let first = f
                    .evidence
                    .iter()
                    .find(|e| e.level == Level::Unknown)
                    .map_or("not decided", |e| e.text.as_str());
                out.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(first)));
                out.push_str(&format!("      <system-out>{body}</system-out>\n"));
            }
            Verdict::Pass | Verdict::Warn => {
                out.push_str(&format!("      <system-out>{body}</system-out>\n"));
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A markdown summary: the scorecard as a table, then each factor's evidence and transcript.
pub fn md(r: &AuditReport) -> String {
    let (pass, warn, fail, unknown) = r.counts();
    let mut out = format!(
        "# twelve audit: `{}`\n\n{pass} pass, {warn} warn, {fail} fail, {unknown} unknown\n\n| | factor | verdict | first finding |\n|---|---|---|---|\n",
        r.app
    );
    for f in &r.factors {
        let lead = shown(f, false)
            .first()
            .map_or(String::new(), |e| md_cell(&e.text));
        let verdict = match f.verdict {
            Verdict::Fail => "**fail**".to_string(),
            v => v.label().to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | {verdict} | {lead} |\n",
            roman(f.factor),
            f.name
        ));
    }
    for f in &r.factors {
        out.push_str(&format!(
            "\n## {} {}: {}\n\n",
            roman(f.factor),
            f.name,
            f.verdict
        ));
        for e in &f.evidence {
            out.push_str(&format!(
                "- {} **{}** {}\n",
                mark(e.level),
                e.level.label(),
                e.text
            ));
        }
        if !f.transcript.is_empty() {
            out.push_str("\n<details><summary>transcript</summary>\n\n```sh\n");
            for l in &f.transcript {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str("```\n\n</details>\n");
        }
    }
    if !r.notes.is_empty() {
        out.push_str("\n---\n");
        for n in &r.notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> AuditReport {
        AuditReport {
            schema: 1,
            app: "demo".into(),
            factors: vec![
                FactorReport {
                    factor: 7,
                    name: "Port binding".into(),
                    verdict: Verdict::Fail,
                    evidence: vec![Evidence {
                        level: Level::Fail,
                        text: "web ignores its PORT <8080>".into(),
                    }],
                    transcript: vec!["sh -c 'node server.js' &".into()],
                },
                FactorReport {
                    factor: 12,
                    name: "Admin processes".into(),
                    verdict: Verdict::Unknown,
                    evidence: vec![Evidence {
                        level: Level::Unknown,
                        text: "nothing to run".into(),
                    }],
                    transcript: Vec::new(),
                },
            ],
            notes: Vec::new(),
            duration_ms: 1200,
        }
    }

    #[test]
    fn every_format_says_the_same() {
        let r = report();
        let h = human(&r, false, false);
        assert!(h.contains("VII   Port binding          FAIL"), "{h}");
        assert!(h.contains("✗ web ignores its PORT"));
        let j = junit(&r);
        assert!(j.contains("failures=\"1\""));
        assert!(j.contains("&lt;8080&gt;"));
        assert!(j.contains("<skipped message=\"nothing to run\"/>"));
        let m = md(&r);
        assert!(m.contains("| VII | Port binding | **fail** |"));
        let back: AuditReport = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(back, r);
    }
}

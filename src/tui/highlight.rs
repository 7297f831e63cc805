//! Syntax highlighting with syntect (pure-Rust regex engine), loaded once on first use.
//!
//! The first highlight of a language compiles its regexes (≈ 25 ms for Python), so [`warm`]
//! runs on a background thread at start-up; until [`is_warm`] says so, views show code plain.
//!
//! Shell snippets (commands, Procfiles) get a small hand-made style instead of syntect's Bash
//! grammar: its compiled regexes cost ≈ 11 MB of memory for lines that are mostly plain words.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);
static THEME: LazyLock<Theme> = LazyLock::new(|| {
    let mut set = ThemeSet::load_defaults();
    set.themes
        .remove("base16-eighties.dark")
        .or_else(|| set.themes.into_values().next())
        .unwrap_or_default()
});
static WARM: AtomicBool = AtomicBool::new(false);

/// Compile the languages the lessons use, so later highlights are fast.
pub fn warm() {
    for (lang, sample) in [
        (
            "py",
            "import os\ndef f(x):\n    return os.environ['A'] + \"s\" # c\n",
        ),
        ("toml", "a = \"b\"\n[c]\n"),
    ] {
        let _ = highlight(sample, lang);
    }
    WARM.store(true, Ordering::SeqCst);
}

/// Whether [`warm`] has finished.
pub fn is_warm() -> bool {
    WARM.load(Ordering::SeqCst)
}

/// Find a syntax by fence language or file name (`py`, `python`, `app.py`, `Procfile`).
fn syntax_for(lang_or_name: &str) -> Option<&'static SyntaxReference> {
    let ss = &*SYNTAXES;
    let key = lang_or_name.trim();
    let lower = key.to_ascii_lowercase();
    if is_shell(key) {
        return None;
    }
    let alias = match lower.as_str() {
        "python3" | "py3" => "py",
        _ => lower.as_str(),
    };
    ss.find_syntax_by_token(alias)
        .or_else(|| {
            let ext = std::path::Path::new(key).extension()?.to_str()?;
            ss.find_syntax_by_extension(ext)
        })
        .filter(|s| s.name != "Plain Text")
}

/// Shell-like text: fenced `sh`/`console` blocks, scripts, Procfiles and `.env` files.
fn is_shell(lang_or_name: &str) -> bool {
    let lower = lang_or_name.trim().to_ascii_lowercase();
    let file = std::path::Path::new(&lower)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    matches!(
        lower.as_str(),
        "sh" | "bash" | "zsh" | "shell" | "console" | "env" | ".env"
    ) || file == "procfile"
        || std::path::Path::new(file)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
        || file == ".env"
}

/// Commands: comments dimmed, a leading `$ ` prompt dimmed, the command word bold,
/// `NAME=value` settings coloured.
fn shell(code: &str) -> Vec<Line<'static>> {
    let comment = Style::new().add_modifier(Modifier::DIM);
    let setting = Style::new().fg(Color::Rgb(0x99, 0xcc, 0x99));
    code.lines()
        .map(|raw| {
            let line = raw.replace('\t', "    ");
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') {
                return Line::from(Span::styled(line, comment));
            }
            let mut spans = Vec::new();
            let indent = &line[..line.len() - trimmed.len()];
            if !indent.is_empty() {
                spans.push(Span::raw(indent.to_string()));
            }
            let mut rest = trimmed;
            if let Some(r) = rest.strip_prefix("$ ") {
                spans.push(Span::styled("$ ", comment));
                rest = r;
            }
            let mut first = true;
            for (i, word) in rest.split(' ').enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" "));
                }
                if word.starts_with('#') {
                    let at = rest.find(" #").map_or(0, |p| p + 1);
                    spans.push(Span::styled(rest[at..].to_string(), comment));
                    break;
                }
                let is_setting = first
                    && word.split_once('=').is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    });
                if is_setting {
                    spans.push(Span::styled(word.to_string(), setting));
                } else if first && !word.is_empty() {
                    spans.push(Span::styled(
                        word.to_string(),
                        Style::new().add_modifier(Modifier::BOLD),
                    ));
                    first = false;
                } else {
                    spans.push(Span::raw(word.to_string()));
                }
            }
            Line::from(spans)
        })
        .collect()
}

/// Highlight `code` as `lang` (a fence language or a file name); plain lines when unknown.
pub fn highlight(code: &str, lang: &str) -> Vec<Line<'static>> {
    if is_shell(lang) {
        return shell(code);
    }
    let Some(syntax) = syntax_for(lang) else {
        return plain(code);
    };
    let mut h = HighlightLines::new(syntax, &THEME);
    let mut out = Vec::new();
    for line in syntect::util::LinesWithEndings::from(code) {
        let Ok(ranges) = h.highlight_line(line, &SYNTAXES) else {
            return plain(code);
        };
        let spans: Vec<Span<'static>> = ranges
            .into_iter()
            .map(|(style, text)| {
                Span::styled(
                    text.trim_end_matches(['\n', '\r']).replace('\t', "    "),
                    to_ratatui(style),
                )
            })
            .filter(|s| !s.content.is_empty())
            .collect();
        out.push(Line::from(spans));
    }
    out
}

/// Lines without highlighting (tabs expanded).
pub fn plain(code: &str) -> Vec<Line<'static>> {
    code.lines()
        .map(|l| Line::raw(l.replace('\t', "    ")))
        .collect()
}

/// The one conversion from syntect's style to ratatui's: the foreground and the font style;
/// the theme's background is left out so the terminal's own shows through.
pub fn to_ratatui(style: syntect::highlighting::Style) -> Style {
    let c = style.foreground;
    let mut s = Style::new().fg(Color::Rgb(c.r, c.g, c.b));
    if style.font_style.contains(FontStyle::BOLD) {
        s = s.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        s = s.add_modifier(Modifier::ITALIC);
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        s = s.add_modifier(Modifier::UNDERLINED);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_is_coloured_and_unknown_is_plain() {
        let lines = highlight("def f():\n    return 1\n", "app.py");
        assert_eq!(lines.len(), 2);
        assert!(lines[0].spans.len() > 1, "{lines:?}");
        assert!(
            lines[0]
                .spans
                .iter()
                .any(|s| matches!(s.style.fg, Some(Color::Rgb(..))))
        );
        let plain = highlight("web: python3 app.py\n", "weird-lang");
        assert_eq!(plain[0].spans.len(), 1);
        assert!(syntax_for("python").is_some());
    }

    #[test]
    fn shell_lines_get_a_light_style() {
        let lines = highlight("# start it\n$ PORT=5050 python3 app.py # here\n", "sh");
        assert_eq!(lines[0].spans[0].style.add_modifier, Modifier::DIM);
        let texts: Vec<&str> = lines[1].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(
            texts,
            [
                "$ ",
                "PORT=5050",
                " ",
                "python3",
                " ",
                "app.py",
                " ",
                "# here"
            ]
        );
        assert_eq!(lines[1].spans[3].style.add_modifier, Modifier::BOLD);
        assert!(is_shell("Procfile") && is_shell("deploy/run.sh") && !is_shell("app.py"));
    }
}

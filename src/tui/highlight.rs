//! Syntax highlighting with syntect (pure-Rust regex engine), loaded once on first use.
//!
//! The first highlight of a language compiles its regexes (≈ 25 ms for Python), so [`warm`]
//! runs on a background thread at start-up; until [`is_warm`] says so, views show code plain.

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
        (
            "sh",
            "PORT=5050 python3 app.py && curl -s localhost:5050/ # c\n",
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
    // Procfiles are `type: command` lines: shell is the closest fit.
    let alias = match lower.as_str() {
        "procfile" | "console" | "shell" | "bash" | "zsh" | ".env" | "env" => "sh",
        "python3" | "py3" => "py",
        _ => lower.as_str(),
    };
    ss.find_syntax_by_token(alias)
        .or_else(|| {
            let ext = std::path::Path::new(key).extension()?.to_str()?;
            ss.find_syntax_by_extension(ext)
        })
        .or_else(|| {
            let name = std::path::Path::new(key).file_name()?.to_str()?;
            (name == "Procfile").then(|| ss.find_syntax_by_token("sh"))?
        })
        .filter(|s| s.name != "Plain Text")
}

/// Highlight `code` as `lang` (a fence language or a file name); plain lines when unknown.
pub fn highlight(code: &str, lang: &str) -> Vec<Line<'static>> {
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
        assert!(syntax_for("Procfile").is_some());
        assert!(syntax_for("python").is_some());
    }
}

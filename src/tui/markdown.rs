//! Markdown (the lesson text) to ratatui lines, wrapped to a width.
//!
//! Wrapping happens here rather than in `Paragraph`, so continuation lines keep their list
//! indentation and quote bar, and the view knows exactly how many lines there are to scroll.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::highlight;
use super::theme::palette;

/// Render `md` into lines at most `width` columns wide; code blocks are highlighted when
/// `colour_code` is set (see [`highlight::is_warm`]).
pub fn render(md: &str, width: u16, colour_code: bool) -> Vec<Line<'static>> {
    let mut r = Renderer {
        width: usize::from(width.max(20)),
        colour_code,
        ..Renderer::default()
    };
    let parser = Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES);
    for event in parser {
        r.event(event);
    }
    r.flush();
    while r.out.last().is_some_and(|l| l.width() == 0) {
        r.out.pop();
    }
    r.out
}

#[derive(Debug)]
enum Container {
    Quote,
    List(Option<u64>),
    /// A list item; the marker is drawn on its first line only.
    Item {
        indent: usize,
    },
}

#[derive(Default)]
struct Renderer {
    width: usize,
    colour_code: bool,
    out: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    /// The marker of an item whose first line is not written yet.
    marker: Option<String>,
    links: Vec<String>,
    code: Option<(String, String)>,
    /// A heading's style for the whole line.
    heading: Option<HeadingLevel>,
    table_row: Vec<String>,
    cell: Option<String>,
}

impl Renderer {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, add: Style) {
        let s = self.style().patch(add);
        self.styles.push(s);
    }

    fn text(&mut self, t: &str) {
        if let Some(cell) = &mut self.cell {
            cell.push_str(t);
            return;
        }
        if let Some((_, code)) = &mut self.code {
            code.push_str(t);
            return;
        }
        let style = self.style();
        self.spans.push(Span::styled(t.to_string(), style));
    }

    /// A blank line between blocks (not at the top, not twice, not inside a tight item).
    fn gap(&mut self) {
        if self.out.last().is_some_and(|l| l.width() > 0) && self.marker.is_none() {
            let prefix = self.prefix(false);
            // Inside quotes the bar continues through the gap.
            self.out.push(Line::from(prefix.0));
        }
    }

    /// The prefix spans of a line and their width; `first` uses a pending item marker.
    fn prefix(&mut self, first: bool) -> (Vec<Span<'static>>, usize) {
        let mut spans = Vec::new();
        let mut w = 0;
        let items = self
            .containers
            .iter()
            .filter(|c| matches!(c, Container::Item { .. }))
            .count();
        let mut seen_items = 0;
        for c in &self.containers {
            match c {
                Container::Quote => {
                    spans.push(Span::styled("│ ", Style::new().fg(palette::ACCENT)));
                    w += 2;
                }
                Container::Item { indent } => {
                    seen_items += 1;
                    let last = seen_items == items;
                    match (&self.marker, first && last) {
                        (Some(m), true) => {
                            spans.push(Span::styled(m.clone(), Style::new().fg(palette::ACCENT)));
                        }
                        _ => spans.push(Span::raw(" ".repeat(*indent))),
                    }
                    w += indent;
                }
                Container::List(_) => {}
            }
        }
        if first {
            self.marker = None;
        }
        (spans, w)
    }

    /// Write the collected inline spans as wrapped lines.
    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let spans = std::mem::take(&mut self.spans);
        let (first_prefix, w) = self.prefix(true);
        let (rest_prefix, _) = self.prefix(false);
        let avail = self.width.saturating_sub(w).max(10);
        for (i, mut line) in wrap(&spans, avail).into_iter().enumerate() {
            let mut prefix = if i == 0 {
                first_prefix.clone()
            } else {
                rest_prefix.clone()
            };
            prefix.append(&mut line);
            let mut l = Line::from(prefix);
            if let Some(level) = self.heading {
                l = l.patch_style(heading_style(level));
            }
            self.out.push(l);
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) => self.text(&t),
            Event::Code(t) => {
                let style = self.style().patch(Style::new().fg(palette::CODE));
                if let Some(cell) = &mut self.cell {
                    cell.push_str(&t);
                } else {
                    self.spans.push(Span::styled(t.to_string(), style));
                }
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                self.gap();
                let (mut prefix, w) = self.prefix(false);
                prefix.push(Span::styled(
                    "─".repeat(self.width.saturating_sub(w).min(60)),
                    palette::dim(),
                ));
                self.out.push(Line::from(prefix));
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.gap(),
            Tag::Heading { level, .. } => {
                self.gap();
                self.heading = Some(level);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.gap();
                self.containers.push(Container::Quote);
                self.push_style(Style::new().add_modifier(Modifier::ITALIC));
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                self.gap();
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => {
                        l.split([',', ' ']).next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush();
                if !self
                    .containers
                    .iter()
                    .any(|c| matches!(c, Container::Item { .. }))
                {
                    self.gap();
                }
                self.containers.push(Container::List(start));
            }
            Tag::Item => {
                self.flush();
                let marker = match self.containers.last_mut() {
                    Some(Container::List(Some(n))) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => {
                        let depth = self
                            .containers
                            .iter()
                            .filter(|c| matches!(c, Container::List(_)))
                            .count();
                        if depth % 2 == 1 { "• " } else { "◦ " }.to_string()
                    }
                };
                let indent = marker.chars().count();
                self.marker = Some(marker);
                self.containers.push(Container::Item { indent });
            }
            Tag::Emphasis => self.push_style(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(Style::new().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.links.push(dest_url.to_string());
                self.push_style(
                    Style::new()
                        .fg(palette::LINK)
                        .add_modifier(Modifier::UNDERLINED),
                );
            }
            Tag::Table(_) => {
                self.flush();
                self.gap();
            }
            Tag::TableHead | Tag::TableRow => self.table_row.clear(),
            Tag::TableCell => self.cell = Some(String::new()),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush(),
            TagEnd::Heading(_) => {
                self.flush();
                self.heading = None;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.styles.pop();
            }
            TagEnd::CodeBlock => {
                if let Some((lang, code)) = self.code.take() {
                    self.code_block(&lang, &code);
                }
            }
            TagEnd::List(_) => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
                self.marker = None;
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some(url) = self.links.pop() {
                    let shown: String = self
                        .spans
                        .iter()
                        .rev()
                        .take(1)
                        .map(|s| s.content.to_string())
                        .collect();
                    if shown != url {
                        self.spans
                            .push(Span::styled(format!(" ({url})"), palette::dim()));
                    }
                }
            }
            TagEnd::TableCell => {
                if let Some(c) = self.cell.take() {
                    self.table_row.push(c);
                }
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                let head = matches!(tag, TagEnd::TableHead);
                let row = self.table_row.join(" │ ");
                let style = if head { palette::bold() } else { Style::new() };
                self.spans.push(Span::styled(row, style));
                self.flush();
            }
            _ => {}
        }
    }

    fn code_block(&mut self, lang: &str, code: &str) {
        let lines = if self.colour_code && !lang.is_empty() {
            highlight::highlight(code, lang)
        } else {
            highlight::plain(code)
        };
        let (prefix, w) = self.prefix(false);
        let avail = self.width.saturating_sub(w + 2).max(10);
        for line in lines {
            for part in wrap_code(line, avail) {
                let mut spans = prefix.clone();
                spans.push(Span::styled("▏ ", palette::dim()));
                spans.extend(part.spans);
                self.out.push(Line::from(spans));
            }
        }
    }
}

fn heading_style(level: HeadingLevel) -> Style {
    match level {
        HeadingLevel::H1 => palette::title().add_modifier(Modifier::UNDERLINED),
        HeadingLevel::H2 => palette::title(),
        _ => palette::bold(),
    }
}

/// Greedy word wrap of styled spans to `width` columns; words longer than a line are cut.
pub fn wrap(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    // Tokens: runs of spaces or of non-spaces, each with its style.
    let mut tokens: Vec<(String, Style, bool)> = Vec::new();
    for s in spans {
        let mut cur = String::new();
        let mut cur_space = None;
        for ch in s.content.chars() {
            let space = ch == ' ';
            if cur_space.is_some_and(|c| c != space) {
                tokens.push((std::mem::take(&mut cur), s.style, cur_space == Some(true)));
            }
            cur_space = Some(space);
            cur.push(ch);
        }
        if !cur.is_empty() {
            tokens.push((cur, s.style, cur_space == Some(true)));
        }
    }
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    for (text, style, space) in tokens {
        let w = text.chars().count();
        if space {
            if used > 0 {
                lines
                    .last_mut()
                    .unwrap_or(&mut Vec::new())
                    .push(Span::styled(text, style));
                used += w;
            }
            continue;
        }
        if used + w > width && used > 0 {
            trim_end(lines.last_mut());
            lines.push(Vec::new());
            used = 0;
        }
        let mut rest: String = text;
        while rest.chars().count() > width {
            let head: String = rest.chars().take(width).collect();
            rest = rest.chars().skip(width).collect();
            if let Some(l) = lines.last_mut() {
                l.push(Span::styled(head, style));
            }
            lines.push(Vec::new());
        }
        used += rest.chars().count();
        if let Some(l) = lines.last_mut() {
            l.push(Span::styled(rest, style));
        }
    }
    trim_end(lines.last_mut());
    lines
}

fn trim_end(line: Option<&mut Vec<Span<'static>>>) {
    let Some(line) = line else { return };
    while line.last().is_some_and(|s| s.content.trim().is_empty()) {
        line.pop();
    }
}

/// Cut a code line into pieces of `width` columns (code is not word-wrapped).
fn wrap_code(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    if line.width() <= width {
        return vec![line];
    }
    let mut out = vec![Line::default()];
    let mut used = 0;
    for span in line.spans {
        let mut buf = String::new();
        for ch in span.content.chars() {
            if used == width {
                if let Some(l) = out.last_mut() {
                    l.spans
                        .push(Span::styled(std::mem::take(&mut buf), span.style));
                }
                out.push(Line::from(Span::raw("  ")));
                used = 2;
            }
            buf.push(ch);
            used += 1;
        }
        if let Some(l) = out.last_mut() {
            l.spans.push(Span::styled(buf, span.style));
        }
    }
    out
}

/// The lines as plain text (for tests and snapshots).
pub fn to_plain(lines: &[Line<'_>]) -> String {
    lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sample that uses every element the renderer knows.
    pub const SAMPLE: &str = r#"# VII. Port binding

Some *emphasis*, some **strong** text, `inline code`, ~~struck~~ and a
[link to the factors](https://12factor.net/port-binding) in one paragraph that is long enough to wrap at least once.

## Lists

- first item
- second item, long enough that it has to wrap onto a continuation line that keeps its indent
  - a nested item
  - another nested one
- third

1. one
2. two
   1. two point one

> A block quote with **strong** words,
> spread over two lines.

---

```python
import os
PORT = int(os.environ["PORT"])  # required
```

```sh
PORT=5050 python3 app.py
```

### A third-level heading

| a | b |
|---|---|
| 1 | 2 |
"#;

    fn styled_with(lines: &[Line<'_>], text: &str, m: Modifier) -> bool {
        lines
            .iter()
            .flat_map(|l| l.spans.iter().map(move |s| (s.style.patch(l.style), s)))
            .any(|(st, s)| s.content.contains(text) && st.add_modifier.contains(m))
    }

    #[test]
    fn every_element_renders() {
        crate::tui::highlight::warm();
        let lines = render(SAMPLE, 60, true);
        insta::assert_snapshot!("markdown_sample", to_plain(&lines));
        assert!(styled_with(&lines, "emphasis", Modifier::ITALIC));
        assert!(styled_with(&lines, "strong", Modifier::BOLD));
        assert!(styled_with(&lines, "link", Modifier::UNDERLINED));
        assert!(styled_with(&lines, "Port", Modifier::UNDERLINED));
        // The Python block is highlighted: more than one colour on its import line.
        let import = lines
            .iter()
            .find(|l| to_plain(std::slice::from_ref(*l)).contains("import os"))
            .unwrap();
        assert!(import.spans.len() > 2, "{import:?}");
    }

    #[test]
    fn wrapping_respects_the_width() {
        let lines = render(SAMPLE, 40, false);
        for l in &lines {
            assert!(
                l.width() <= 40,
                "{:?} is {} wide",
                to_plain(std::slice::from_ref(l)),
                l.width()
            );
        }
    }
}

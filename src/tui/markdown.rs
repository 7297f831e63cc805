//! Markdown (the lesson text) to ratatui lines, wrapped to a width.
//!
//! Wrapping happens here rather than in `Paragraph`, so continuation lines keep their list
//! indentation and quote bar, and the view knows exactly how many lines there are to scroll.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::highlight;
use super::theme::palette;

pub mod code;
mod table;

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
    /// The rows of the table being read (the head first) and the row and cell being read.
    table: Vec<Vec<Vec<Span<'static>>>>,
    table_head: usize,
    table_row: Vec<Vec<Span<'static>>>,
    cell: Option<Vec<Span<'static>>>,
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
        if let Some((_, code)) = &mut self.code {
            code.push_str(t);
            return;
        }
        let style = self.style();
        let span = Span::styled(t.to_string(), style);
        match &mut self.cell {
            Some(cell) => cell.push(span),
            None => self.spans.push(span),
        }
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
                let span = Span::styled(t.to_string(), style);
                match &mut self.cell {
                    Some(cell) => cell.push(span),
                    None => self.spans.push(span),
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
                self.table.clear();
                self.table_head = 0;
            }
            Tag::TableHead | Tag::TableRow => self.table_row.clear(),
            Tag::TableCell => self.cell = Some(Vec::new()),
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
                if matches!(tag, TagEnd::TableHead) {
                    self.table_head += 1;
                }
                let row = std::mem::take(&mut self.table_row);
                self.table.push(row);
            }
            TagEnd::Table => {
                let rows = std::mem::take(&mut self.table);
                let (prefix, w) = self.prefix(false);
                let avail = self.width.saturating_sub(w).max(10);
                for line in table::render(&rows, self.table_head, avail) {
                    let mut spans = prefix.clone();
                    spans.extend(line.spans);
                    self.out.push(Line::from(spans));
                }
            }
            _ => {}
        }
    }

    /// A code block behind a one-column bar; see [`code`] for how lines that do not fit are
    /// broken (commands) or cut (other code).
    fn code_block(&mut self, lang: &str, text: &str) {
        let lines = if self.colour_code && !lang.is_empty() {
            highlight::highlight(text, lang)
        } else {
            highlight::plain(text)
        };
        let (prefix, w) = self.prefix(false);
        let avail = self.width.saturating_sub(w + 1).max(10);
        let shell = code::is_shell(lang);
        let mut quote = code::Quote::default();
        for line in lines {
            let parts = if shell {
                code::shell(&line, avail, &mut quote)
            } else {
                vec![code::cut(line, avail)]
            };
            for part in parts {
                let mut spans = prefix.clone();
                spans.push(Span::styled(GUTTER, palette::dim()));
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

/// A run of blanks or of other characters, in pieces of one style each.
#[derive(Debug)]
struct Token {
    pieces: Vec<(String, Style)>,
    blank: bool,
}

impl Token {
    fn width(&self) -> usize {
        self.pieces.iter().map(|(t, _)| t.chars().count()).sum()
    }

    /// Closing punctuation, or a dash after a blank: it stays with the word before it.
    fn glued(&self) -> bool {
        !self.blank
            && self
                .pieces
                .first()
                .and_then(|(t, _)| t.chars().next())
                .is_some_and(|c| {
                    matches!(
                        c,
                        ',' | '.' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '…' | '—' | '–' | '»'
                    )
                })
    }
}

fn tokens(spans: &[Span<'static>]) -> Vec<Token> {
    let mut toks: Vec<Token> = Vec::new();
    for s in spans {
        for ch in s.content.chars() {
            let blank = ch == ' ';
            match toks.last_mut() {
                Some(t) if t.blank == blank => match t.pieces.last_mut() {
                    Some((text, style)) if *style == s.style => text.push(ch),
                    _ => t.pieces.push((ch.to_string(), s.style)),
                },
                _ => toks.push(Token {
                    pieces: vec![(ch.to_string(), s.style)],
                    blank,
                }),
            }
        }
    }
    // "`SIGTERM`, a polite request" is one word where the code ends: the tokens above run
    // across spans. "word — more" keeps the dash with "word".
    let mut out: Vec<Token> = Vec::new();
    for t in toks {
        let n = out.len();
        if t.glued() && n >= 2 && out[n - 1].blank && !out[n - 2].blank {
            let blank = out.pop().map(|b| b.pieces).unwrap_or_default();
            if let Some(prev) = out.last_mut() {
                prev.pieces.extend(blank);
                prev.pieces.extend(t.pieces);
            }
        } else {
            out.push(t);
        }
    }
    out
}

/// The first `n` characters of `pieces`, and the rest.
fn split_pieces(
    pieces: Vec<(String, Style)>,
    n: usize,
) -> (Vec<Span<'static>>, Vec<(String, Style)>) {
    let mut head = Vec::new();
    let mut rest = Vec::new();
    let mut left = n;
    for (text, style) in pieces {
        let len = text.chars().count();
        if left >= len {
            left -= len;
            head.push(Span::styled(text, style));
        } else if left > 0 {
            head.push(Span::styled(
                text.chars().take(left).collect::<String>(),
                style,
            ));
            rest.push((text.chars().skip(left).collect(), style));
            left = 0;
        } else {
            rest.push((text, style));
        }
    }
    (head, rest)
}

/// Greedy word wrap of styled spans to `width` columns. A word runs across spans, so a line
/// never starts with the comma after an inline `code`; words longer than a line are cut.
pub fn wrap(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    for t in tokens(spans) {
        let w = t.width();
        if t.blank {
            if used > 0 {
                if let Some(l) = lines.last_mut() {
                    l.extend(t.pieces.into_iter().map(|(s, st)| Span::styled(s, st)));
                }
                used += w;
            }
            continue;
        }
        if used + w > width && used > 0 {
            trim_end(lines.last_mut());
            lines.push(Vec::new());
            used = 0;
        }
        let mut rest = t.pieces;
        let mut rw = w;
        while rw > width {
            let (head, tail) = split_pieces(rest, width);
            rest = tail;
            rw -= width;
            if let Some(l) = lines.last_mut() {
                l.extend(head);
            }
            lines.push(Vec::new());
        }
        used += rw;
        if let Some(l) = lines.last_mut() {
            l.extend(rest.into_iter().map(|(s, st)| Span::styled(s, st)));
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

/// The bar in front of every line of a code block.
pub const GUTTER: &str = "▏";

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

    /// The shell blocks of a text, as written (each a list of lines).
    fn shell_blocks(md: &str) -> Vec<Option<Vec<String>>> {
        let mut out = Vec::new();
        let mut cur: Option<(bool, String)> = None;
        for e in Parser::new_ext(md, Options::ENABLE_TABLES) {
            match e {
                Event::Start(Tag::CodeBlock(kind)) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(l) => l.to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    cur = Some((code::is_shell(&lang), String::new()));
                }
                Event::Text(t) => {
                    if let Some((_, c)) = &mut cur {
                        c.push_str(&t);
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((shell, c)) = cur.take() {
                        out.push(shell.then(|| c.lines().map(str::to_string).collect()));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The code blocks of rendered lines (runs of lines behind the bar), without the bar.
    fn rendered_blocks(lines: &[Line<'_>]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut open = false;
        for l in lines {
            let text = to_plain(std::slice::from_ref(l));
            match text.trim_start().strip_prefix(GUTTER) {
                Some(code) => {
                    if !open {
                        out.push(Vec::new());
                    }
                    open = true;
                    if let Some(b) = out.last_mut() {
                        b.push(code.trim_end().to_string());
                    }
                }
                None => open = false,
            }
        }
        out
    }

    /// What the shell runs: each command as its words after quote removal, with `\` and a
    /// newline removed (so ` \` continuations join, whatever the blanks at the join) and
    /// comments left out.
    fn commands(lines: &[String]) -> Vec<Vec<String>> {
        let text = lines.join("\n");
        let mut chars = text.chars().peekable();
        let mut out = Vec::new();
        let mut cmd: Vec<String> = Vec::new();
        let mut word: Option<String> = None;
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('\''), '\'') | (Some('"'), '"') => quote = None,
                (Some('"'), '\\') => match chars.next() {
                    Some('\n') | None => {}
                    Some(n) if matches!(n, '$' | '`' | '"' | '\\') => {
                        word.get_or_insert_default().push(n);
                    }
                    Some(n) => word.get_or_insert_default().extend(['\\', n]),
                },
                (None, '\\') => match chars.next() {
                    Some('\n') | None => {}
                    Some(n) => word.get_or_insert_default().push(n),
                },
                (None, '\'' | '"') => {
                    word.get_or_insert_default();
                    quote = Some(c);
                }
                (None, '#') if word.is_none() => {
                    while chars.peek().is_some_and(|&n| n != '\n') {
                        chars.next();
                    }
                }
                (None, ' ' | '\t' | '\n') => {
                    cmd.extend(word.take());
                    if c == '\n' && !cmd.is_empty() {
                        out.push(std::mem::take(&mut cmd));
                    }
                }
                _ => word.get_or_insert_default().push(c),
            }
        }
        cmd.extend(word);
        if !cmd.is_empty() {
            out.push(cmd);
        }
        out
    }

    /// The words of the comments, in order.
    fn comment_words(lines: &[String]) -> Vec<String> {
        let mut q = code::Quote::default();
        lines
            .iter()
            .flat_map(|l| {
                let chars: Vec<char> = l.chars().collect();
                let (_, comment) = code::scan(&chars, &mut q);
                let text: String = chars[comment.unwrap_or(chars.len())..].iter().collect();
                text.split_whitespace()
                    .filter(|w| *w != "#")
                    .map(|w| w.trim_start_matches('#').to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn every_shell_block_of_every_lesson_still_runs_when_copied() {
        let pack = crate::lesson::Pack::embedded().unwrap();
        let mut checked = 0;
        for lesson in &pack.lessons {
            let source = shell_blocks(&lesson.text);
            for width in [40, 58, 80, 100] {
                for colour in [false, true] {
                    let lines = render(&lesson.text, width, colour);
                    let shown = rendered_blocks(&lines);
                    assert_eq!(shown.len(), source.len(), "{} at {width}", lesson.dir_name);
                    for (src, got) in source.iter().zip(&shown) {
                        let Some(src) = src else { continue };
                        let at =
                            format!("{} at width {width}:\n{}", lesson.dir_name, got.join("\n"));
                        assert_eq!(commands(got), commands(src), "{at}");
                        assert_eq!(comment_words(got), comment_words(src), "{at}");
                        for l in got {
                            assert!(l.chars().count() < usize::from(width), "too wide: {at}");
                            assert!(!l.ends_with(code::CUT), "cut: {at}");
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// Lines as a shell reads them: a line ending in ` \\` goes on with the next one, whose
    /// leading blanks are the renderer's (or the author's) indent.
    fn joined(lines: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut open: Option<&str> = None;
        let mut reopen = false;
        for l in lines {
            let piece = if open.is_some() {
                l.trim_start()
            } else {
                l.as_str()
            };
            // ` \\`: broken at a blank. A bare `\\` breaks a word too long for the line (the
            // shell drops backslash-newline there as well, inside double quotes included).
            // A single-quoted word is broken by closing it, `\\`, and opening it again.
            let piece = match (reopen, piece.strip_prefix('\'')) {
                (true, Some(p)) => p,
                _ => piece,
            };
            reopen = piece.ends_with("'\\");
            let (piece, more) = match piece.strip_suffix(" \\") {
                Some(p) => (p.trim_end(), Some(" ")),
                None => match piece.strip_suffix("'\\").filter(|_| reopen) {
                    Some(p) => (p, Some("")),
                    None => match piece.strip_suffix('\\') {
                        Some(p) => (p, Some("")),
                        None => (piece, None),
                    },
                },
            };
            match (out.last_mut(), open) {
                (Some(last), Some(glue)) => {
                    last.push_str(glue);
                    last.push_str(piece);
                }
                _ => out.push(piece.to_string()),
            }
            open = more;
        }
        out
    }

    /// Each line as (command, comment): the renderer may close up the blanks that align a
    /// comment into a column, which the shell never sees; everything else must be exact.
    /// A comment that does not fit beside its command goes on a line of its own below it.
    /// Commands must be exact; comments keep their words.
    fn split_comments(lines: &[String]) -> (Vec<String>, Vec<String>) {
        let mut q = code::Quote::default();
        let (mut cmds, mut notes) = (Vec::new(), Vec::new());
        for l in lines {
            let chars: Vec<char> = l.chars().collect();
            let (_, comment) = code::scan(&chars, &mut q);
            let at = comment.unwrap_or(chars.len());
            let cmd: String = chars[..at].iter().collect();
            let note: String = chars[at..].iter().collect();
            if !cmd.trim().is_empty() {
                cmds.push(cmd.trim_end().to_string());
            }
            // A long comment wraps onto further `#` lines: its words are what matter.
            notes.extend(
                note.split_whitespace()
                    .map(|w| w.trim_start_matches('#'))
                    .filter(|w| !w.is_empty())
                    .map(str::to_string),
            );
        }
        (cmds, notes)
    }

    /// The issue's "done when": what a learner copies off the lesson pane, at the pane's widths
    /// for 120×40, 100×30 and 80×24 and at a narrow 40, joins to exactly lesson.md's command.
    #[test]
    fn copying_a_shell_block_off_the_screen_gives_the_command_in_lesson_md() {
        let pack = crate::lesson::Pack::embedded().unwrap();
        let widths = [
            crate::tui::layout::text_width(120, 40, false),
            crate::tui::layout::text_width(100, 30, false),
            crate::tui::layout::text_width(80, 24, false),
            40,
        ];
        let mut checked = 0;
        for lesson in &pack.lessons {
            let source = shell_blocks(&lesson.text);
            for width in widths {
                let shown = rendered_blocks(&render(&lesson.text, width, false));
                assert_eq!(shown.len(), source.len(), "{} at {width}", lesson.dir_name);
                for (src, got) in source.iter().zip(&shown) {
                    let Some(src) = src else { continue };
                    assert_eq!(
                        split_comments(&joined(got)),
                        split_comments(&joined(src)),
                        "{} at width {width}, as shown:\n{}",
                        lesson.dir_name,
                        got.join("\n")
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn prose_never_starts_a_line_with_punctuation() {
        let pack = crate::lesson::Pack::embedded().unwrap();
        for lesson in &pack.lessons {
            for width in [40, 47, 58, 63, 80] {
                for l in render(&lesson.text, width, false) {
                    let text = to_plain(std::slice::from_ref(&l));
                    let body = text.trim_start_matches([' ', '│', '•', '◦']).trim_start();
                    if text.trim_start().starts_with(GUTTER) {
                        continue;
                    }
                    assert!(
                        !body.starts_with([',', '.', ';', ':', ')', '?', '!']),
                        "{} at {width}: {text:?}",
                        lesson.dir_name
                    );
                }
            }
        }
        let md = "Docker sends `SIGTERM`, a polite request to stop.";
        for width in 20..40 {
            let text = to_plain(&render(md, width, false));
            assert!(!text.contains("\n,"), "{text}");
        }
    }

    #[test]
    fn tables_are_aligned_or_listed() {
        let md = "| package | API |\n|---|---|\n| slugkit 1.2.0 | `slugkit.make_code(length)` |\n| urlcheck 1.0.0 | `urlcheck.is_web_url(url)` |\n";
        insta::assert_snapshot!(to_plain(&render(md, 60, false)), @r"
        package        │ API
        ───────────────┼──────────────────────────
        slugkit 1.2.0  │ slugkit.make_code(length)
        urlcheck 1.0.0 │ urlcheck.is_web_url(url)
        ");
        insta::assert_snapshot!(to_plain(&render(md, 36, false)), @r"
        • slugkit 1.2.0
          API: slugkit.make_code(length)
        • urlcheck 1.0.0
          API: urlcheck.is_web_url(url)
        ");
    }
}

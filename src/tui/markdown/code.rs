//! Code blocks at a width: code is never broken inside a token.
//!
//! A shell line that does not fit is broken at a space that the shell would also split at
//! (outside quotes, before a comment) and continued with ` \`, so a block copied from the
//! screen still runs; a comment that does not fit goes on lines of its own, each starting with
//! `#`. Other code is cut, and the cut is marked with `→` in the last column.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::theme::palette;

/// What marks a line cut at the edge.
pub const CUT: &str = "→";

/// Fence languages whose lines are shell commands.
pub fn is_shell(lang: &str) -> bool {
    matches!(
        lang.trim().to_ascii_lowercase().as_str(),
        "sh" | "bash" | "zsh" | "shell" | "console" | "shell-session"
    )
}

/// How far a shell line is quoted where it ends: quotes may span lines
/// (`python3 -c 'import sys` ... `'`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quote(Option<char>);

/// Where the shell would split a line: the positions (in chars) of unquoted blanks before any
/// comment, and where the comment starts. `quote` is the state at the start of the line and is
/// left at its end.
pub fn scan(chars: &[char], quote: &mut Quote) -> (Vec<usize>, Option<usize>) {
    let mut blanks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote.0 {
            Some('\'') => {
                if c == '\'' {
                    quote.0 = None;
                }
            }
            Some(_) => match c {
                '\\' => i += 1,
                '"' => quote.0 = None,
                _ => {}
            },
            None => match c {
                '\\' => i += 1,
                '\'' | '"' => quote.0 = Some(c),
                ' ' | '\t' => blanks.push(i),
                '#' if i == 0 || matches!(chars[i - 1], ' ' | '\t') => {
                    return (blanks, Some(i));
                }
                _ => {}
            },
        }
        i += 1;
    }
    (blanks, None)
}

/// One styled character of a line.
type Cell = (char, Style);

fn cells(line: &Line<'_>) -> Vec<Cell> {
    line.spans
        .iter()
        .flat_map(|s| {
            let style = line.style.patch(s.style);
            s.content.chars().map(move |c| (c, style))
        })
        .collect()
}

/// Spans from styled characters, one span per run of a style.
fn spans(cells: &[Cell]) -> Vec<Span<'static>> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut buf = String::new();
    let mut style = None;
    for &(c, s) in cells {
        if style.is_some_and(|st| st != s) {
            out.push(Span::styled(std::mem::take(&mut buf), style.unwrap_or_default()));
        }
        style = Some(s);
        buf.push(c);
    }
    if !buf.is_empty() {
        out.push(Span::styled(buf, style.unwrap_or_default()));
    }
    out
}

fn line_of(indent: usize, body: &[Cell], tail: Option<Span<'static>>) -> Line<'static> {
    let mut s = Vec::new();
    if indent > 0 {
        s.push(Span::raw(" ".repeat(indent)));
    }
    s.extend(spans(body));
    s.extend(tail);
    Line::from(s)
}

/// A line that is not a command: kept whole when it fits, else cut with [`CUT`].
pub fn cut(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let c = cells(&line);
    let keep = width.saturating_sub(1).min(c.len());
    line_of(0, &c[..keep], Some(Span::styled(CUT, palette::dim())))
}

/// A word of a shell line: a run of characters between breakable blanks.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

impl Word {
    fn width(self) -> usize {
        self.end - self.start
    }
}

fn words(n: usize, blanks: &[usize]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    let mut b = blanks.iter().peekable();
    for i in 0..n {
        let blank = b.peek().is_some_and(|&&p| p == i);
        if blank {
            b.next();
            if let Some(s) = start.take() {
                out.push(Word { start: s, end: i });
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(Word { start: s, end: n });
    }
    out
}

/// Break one shell line into lines of at most `width` columns (see the module comment).
pub fn shell(line: &Line<'static>, width: usize, quote: &mut Quote) -> Vec<Line<'static>> {
    // A word longer than a whole line has no blank to break at: it is cut, visibly.
    shell_pieces(line, width, quote)
        .into_iter()
        .map(|l| cut(l, width))
        .collect()
}

fn shell_pieces(line: &Line<'static>, width: usize, quote: &mut Quote) -> Vec<Line<'static>> {
    let c = cells(line);
    let chars: Vec<char> = c.iter().map(|(ch, _)| *ch).collect();
    let (blanks, comment) = scan(&chars, quote);
    if c.len() <= width {
        return vec![line.clone()];
    }
    let code_end = comment.unwrap_or(c.len());
    let ws = words(code_end, &blanks);
    let indent = c.iter().take_while(|(ch, _)| *ch == ' ').count().min(width / 2);
    let cont = (indent + 2).min(width / 2);
    let continued = || Span::styled(" \\", palette::dim());
    let mut out = Vec::new();
    // The piece being filled: its indent and the range of cells it holds.
    let mut piece: Option<(usize, usize, usize)> = None;
    for (n, w) in ws.iter().enumerate() {
        let last = n + 1 == ws.len();
        let room = if last { 0 } else { 2 };
        match piece {
            None => piece = Some((indent, w.start, w.end)),
            Some((pi, s, e)) => {
                let joined = pi + (w.end - s);
                if joined + room <= width {
                    piece = Some((pi, s, w.end));
                } else {
                    out.push(line_of(pi, &c[s..e], Some(continued())));
                    let ind = if cont + w.width() + room <= width { cont } else { 0 };
                    piece = Some((ind, w.start, w.end));
                }
            }
        }
    }
    let Some(cstart) = comment else {
        if let Some((pi, s, e)) = piece {
            out.push(line_of(pi, &c[s..e], None));
        }
        return out;
    };
    // The comment: on the command's last line when it fits there, else on its own lines.
    let text = &c[cstart..];
    let mut comment_indent = indent;
    if let Some((pi, s, e)) = piece {
        let gap = cstart - e;
        let w = pi + (e - s);
        if w + gap + text.len() <= width {
            out.push(line_of(pi, &c[s..], None));
            return out;
        }
        if w + 1 + text.len() <= width {
            let mut body = c[s..e].to_vec();
            body.push((' ', Style::default()));
            body.extend_from_slice(text);
            out.push(line_of(pi, &body, None));
            return out;
        }
        out.push(line_of(pi, &c[s..e], None));
        comment_indent = cont;
    }
    out.extend(comment_lines(text, width, comment_indent));
    out
}

/// A comment (starting with `#`) wrapped at blanks; every line after the first starts with `# `.
fn comment_lines(text: &[Cell], width: usize, indent: usize) -> Vec<Line<'static>> {
    let style = text.first().map_or_else(Style::default, |(_, s)| *s);
    let indent = indent.min(width / 2);
    let body: String = text.iter().map(|(ch, _)| *ch).collect();
    let body = body.trim_start_matches('#').trim_start();
    let avail = width.saturating_sub(indent + 2).max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut push = |cur: &mut String| {
        let s = format!("{}# {}", " ".repeat(indent), std::mem::take(cur));
        out.push(Line::from(Span::styled(s.trim_end().to_string(), style)));
    };
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        if !cur.is_empty() && cur.chars().count() + 1 + word.len() > avail {
            push(&mut cur);
        }
        // A word longer than a line (a URL in a comment) is split: it is only a comment.
        while word.len() > avail {
            if !cur.is_empty() {
                push(&mut cur);
            }
            cur = word.drain(..avail).collect();
            push(&mut cur);
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.extend(word);
    }
    if !cur.is_empty() || out.is_empty() {
        push(&mut cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::markdown::to_plain;

    fn broken(src: &str, width: usize) -> String {
        let mut q = Quote::default();
        let lines: Vec<Line<'static>> = src
            .lines()
            .flat_map(|l| shell(&Line::raw(l.to_string()), width, &mut q))
            .collect();
        to_plain(&lines)
    }

    #[test]
    fn a_long_command_breaks_at_a_blank_with_a_continuation() {
        let out = broken(
            "PORT=5050 SECRET_KEY=dev REDIS_URL=redis://127.0.0.1:6380/0 python3 app.py",
            40,
        );
        insta::assert_snapshot!(out, @r"
        PORT=5050 SECRET_KEY=dev \
          REDIS_URL=redis://127.0.0.1:6380/0 \
          python3 app.py
        ");
    }

    #[test]
    fn quotes_are_never_broken_and_comments_get_their_own_lines() {
        let out = broken(
            "curl -s -X POST localhost:8000/links -d '{\"url\": \"https://example.org/a\"}'  # make one",
            40,
        );
        insta::assert_snapshot!(out, @r#"
        curl -s -X POST localhost:8000/links \
          -d '{"url": "https://example.org/a"}'
          # make one
        "#);
        let out = broken("twelve kv            # the built-in store, on port 6379 by default", 30);
        insta::assert_snapshot!(out, @r"
        twelve kv
          # the built-in store, on
          # port 6379 by default
        ");
    }

    #[test]
    fn a_quote_carries_over_to_the_next_line() {
        let mut q = Quote::default();
        let chars: Vec<char> = "python3 -c 'import sys; from kv".chars().collect();
        let (blanks, comment) = scan(&chars, &mut q);
        assert_eq!((blanks, comment, q), (vec![7, 10], None, Quote(Some('\''))));
        let chars: Vec<char> = "print(1) # no comment' x # yes".chars().collect();
        let (blanks, comment) = scan(&chars, &mut q);
        assert_eq!((blanks, comment, q), (vec![22, 24], Some(25), Quote(None)));
    }

    #[test]
    fn other_code_is_cut_visibly() {
        let l = cut(Line::raw("web: python3 app.py --workers 4"), 12);
        assert_eq!(to_plain(&[l]), "web: python→");
    }
}

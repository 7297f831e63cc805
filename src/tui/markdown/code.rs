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

/// Where a word may be split with a `\` and a newline, which the shell removes again: before
/// which characters, and whether inside single quotes there (where the quote is closed before
/// the `\` and opened again after it). Never between a backslash and what it escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    No,
    Plain,
    InSingleQuotes,
}

fn splits(chars: &[char], mut quote: Quote) -> Vec<Split> {
    let mut out = vec![Split::No; chars.len() + 1];
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && !escaped {
            out[i] = if quote.0 == Some('\'') {
                Split::InSingleQuotes
            } else {
                Split::Plain
            };
        }
        if escaped {
            escaped = false;
            continue;
        }
        match (quote.0, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote.0 = None,
            (Some('\''), _) => {}
            (_, '\\') => escaped = true,
            (None, '\'' | '"') => quote.0 = Some(c),
            _ => {}
        }
    }
    out
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
            out.push(Span::styled(
                std::mem::take(&mut buf),
                style.unwrap_or_default(),
            ));
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

/// The spans of `line` from column `from` to `to` (in characters).
pub fn slice(line: &Line<'_>, from: usize, to: usize) -> Vec<Span<'static>> {
    let c = cells(line);
    let to = to.min(c.len());
    spans(&c[from.min(to)..to])
}

/// Where to cut `line` into rows of at most `width` columns for reading (the file viewer's
/// wrap mode): after a blank when there is one in the second half of the row, else at the edge.
pub fn wrap_points(line: &Line<'_>, width: usize) -> Vec<(usize, usize)> {
    let chars: Vec<char> = cells(line).into_iter().map(|(c, _)| c).collect();
    let width = width.max(2);
    let mut out = Vec::new();
    let mut from = 0;
    while chars.len() - from > width {
        let edge = from + width;
        let at = (from + width / 2..edge)
            .rev()
            .find(|&i| chars[i] == ' ')
            .map_or(edge, |i| i + 1);
        out.push((from, at));
        from = at;
    }
    out.push((from, chars.len()));
    out
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
    let at_start = *quote;
    let (blanks, comment) = scan(&chars, quote);
    if c.len() <= width {
        return vec![line.clone()];
    }
    let code_end = comment.unwrap_or(c.len());
    let mut ws = words(code_end, &blanks);
    // A line the source already continues (`... \`) keeps its ` \` on its last piece.
    let continues = ws
        .last()
        .is_some_and(|w| w.width() == 1 && chars[w.start] == '\\');
    if continues {
        ws.pop();
    }
    let indent = c
        .iter()
        .take_while(|(ch, _)| *ch == ' ')
        .count()
        .min(width / 2);
    let cont = (indent + 2).min(width / 2);
    let continued = || Span::styled(" \\", palette::dim());
    let mut out = Vec::new();
    // The line being filled: its indent, its cells, and where it ends in `c`.
    let mut piece: Option<(usize, Vec<Cell>, usize)> = None;
    for (n, w) in ws.iter().enumerate() {
        let last = n + 1 == ws.len();
        let room = if last && !continues { 0 } else { 2 };
        if w.width() + room > width {
            if let Some((pi, body, _)) = piece.take() {
                out.push(line_of(pi, &body, Some(continued())));
            }
            let (lines, rest) = split_word(&c, &splits(&chars, at_start), *w, width, room);
            out.extend(lines);
            piece = Some((0, rest, w.end));
            continue;
        }
        piece = match piece.take() {
            // Indentation is only for reading: it goes when the word needs the room.
            None => {
                let ind = if indent + w.width() + room <= width {
                    indent
                } else {
                    0
                };
                Some((ind, c[w.start..w.end].to_vec(), w.end))
            }
            Some((pi, mut body, e)) => {
                if pi + body.len() + (w.end - e) + room <= width {
                    body.extend_from_slice(&c[e..w.end]);
                    Some((pi, body, w.end))
                } else {
                    out.push(line_of(pi, &body, Some(continued())));
                    let ind = if cont + w.width() + room <= width {
                        cont
                    } else {
                        0
                    };
                    Some((ind, c[w.start..w.end].to_vec(), w.end))
                }
            }
        };
    }
    let Some(cstart) = comment else {
        if let Some((pi, body, _)) = piece {
            out.push(line_of(pi, &body, continues.then(continued)));
        }
        return out;
    };
    // The comment: on the command's last line when it fits there, else on its own lines.
    let text = &c[cstart..];
    let mut comment_indent = indent;
    if let Some((pi, mut body, e)) = piece {
        let w = pi + body.len();
        let gap = if w + (cstart - e) + text.len() <= width {
            Some(cstart - e)
        } else {
            (w + 1 + text.len() <= width).then_some(1)
        };
        if let Some(gap) = gap {
            body.extend(std::iter::repeat_n((' ', Style::default()), gap));
            body.extend_from_slice(text);
            out.push(line_of(pi, &body, None));
            return out;
        }
        out.push(line_of(pi, &body, None));
        comment_indent = cont;
    }
    out.extend(comment_lines(text, width, comment_indent));
    out
}

/// A word longer than a line (a long URL, a JSON body in quotes), as the last resort: lines
/// ending in a `\` right at the edge, which the shell removes with the newline so the word is
/// whole again; inside single quotes the quote is closed before it and opened after it. The
/// lines after the first start at the margin (inside quotes, blanks would join the word).
/// Returns those lines and the word's last part, which the next line starts with.
fn split_word(
    c: &[Cell],
    splits: &[Split],
    w: Word,
    width: usize,
    room: usize,
) -> (Vec<Line<'static>>, Vec<Cell>) {
    let mut out = Vec::new();
    let mut start = w.start;
    let mut reopen: Option<Style> = None;
    loop {
        let lead = usize::from(reopen.is_some());
        if lead + (w.end - start) + room <= width {
            break;
        }
        let fits = |end: usize| match splits[end] {
            Split::No => false,
            Split::Plain => lead + (end - start) < width,
            Split::InSingleQuotes => lead + (end - start) + 2 <= width,
        };
        let Some(end) = (start + 1..w.end).rev().find(|&e| fits(e)) else {
            break;
        };
        let mut body: Vec<Cell> = reopen.map(|st| ('\'', st)).into_iter().collect();
        body.extend_from_slice(&c[start..end]);
        reopen = None;
        if splits[end] == Split::InSingleQuotes {
            let st = c[end].1;
            body.push(('\'', st));
            reopen = Some(st);
        }
        out.push(line_of(0, &body, Some(Span::styled("\\", palette::dim()))));
        start = end;
    }
    let mut rest: Vec<Cell> = reopen.map(|st| ('\'', st)).into_iter().collect();
    rest.extend_from_slice(&c[start..w.end]);
    (out, rest)
}

/// A comment (starting with `#`) wrapped at blanks; every line after the first starts with `# `.
fn comment_lines(text: &[Cell], width: usize, indent: usize) -> Vec<Line<'static>> {
    let style = text.first().map_or_else(Style::default, |(_, s)| *s);
    let indent = indent.min(width / 2);
    let body: String = text.iter().map(|(ch, _)| *ch).collect();
    let body = body.trim_start_matches('#').trim_start();
    let avail = width.saturating_sub(indent + 2).max(1);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut cur = String::new();
    let push = |out: &mut Vec<Line<'static>>, cur: &mut String| {
        let s = format!("{}# {}", " ".repeat(indent), std::mem::take(cur));
        out.push(Line::from(Span::styled(s.trim_end().to_string(), style)));
    };
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        if !cur.is_empty() && cur.chars().count() + 1 + word.len() > avail {
            push(&mut out, &mut cur);
        }
        // A word longer than a line (a URL in a comment) is split: it is only a comment.
        while word.len() > avail {
            if !cur.is_empty() {
                push(&mut out, &mut cur);
            }
            cur = word.drain(..avail).collect();
            push(&mut out, &mut cur);
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.extend(word);
    }
    if !cur.is_empty() || out.is_empty() {
        push(&mut out, &mut cur);
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
        let out = broken(
            "twelve kv            # the built-in store, on port 6379 by default",
            30,
        );
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
    fn a_word_longer_than_a_line_is_continued_at_the_edge() {
        let out = broken(
            "curl \"localhost:5050/links/<code>/preview?wait_ms=5000\" &",
            30,
        );
        insta::assert_snapshot!(out, @r#"
        curl \
        "localhost:5050/links/<code>/\
        preview?wait_ms=5000" &
        "#);
        // Inside single quotes a backslash is kept: the quote closes first and opens again.
        let out = broken(
            "echo '{\"url\": \"https://example.org\", \"expires_in\": 2}'",
            24,
        );
        insta::assert_snapshot!(out, @r#"
        echo \
        '{"url": "https://exam'\
        'ple.org", "expires_in'\
        '": 2}'
        "#);
    }

    #[test]
    fn other_code_is_cut_visibly() {
        let l = cut(Line::raw("web: python3 app.py --workers 4"), 12);
        assert_eq!(to_plain(&[l]), "web: python→");
    }
}

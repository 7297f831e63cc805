//! The wire: RESP2 replies ([`Reply`]), the command reader ([`RespReader`], RESP arrays and
//! inline commands) and Redis's integer syntax ([`parse_i64`]).

use std::io::{self, BufRead, Read};

use super::Bytes;

/// Longest inline command line (Redis: 64 KiB).
pub(super) const MAX_INLINE: usize = 64 * 1024;
/// Largest bulk string accepted from a client.
const MAX_BULK: usize = 64 * 1024 * 1024;
/// Most arguments in one command.
const MAX_ARGS: usize = 1024 * 1024;

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reply {
    Simple(&'static str),
    /// The full error line, code first: `ERR ...`, `WRONGTYPE ...`.
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// The null bulk string, `$-1`.
    Nil,
    Array(Vec<Reply>),
    /// The null array, `*-1` (a blocking pop's timeout, `LPOP key n` on a missing key, an
    /// `EXEC` whose `WATCH`ed keys changed).
    NilArray,
    /// Several replies in a row, e.g. one per channel of `SUBSCRIBE a b`, or pub/sub messages
    /// queued before a reply. Never nested in an array, except (as in Redis) inside `EXEC`.
    Many(Vec<Reply>),
}

impl Reply {
    pub(super) const OK: Reply = Reply::Simple("OK");

    pub(super) fn bulk(bytes: &[u8]) -> Reply {
        Reply::Bulk(bytes.to_vec())
    }

    pub(super) fn count(n: usize) -> Reply {
        Reply::Int(n as i64)
    }

    pub(super) fn bool(b: bool) -> Reply {
        Reply::Int(i64::from(b))
    }

    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
            out.push(kind);
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        match self {
            Reply::Simple(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(e) => {
                // A reply line must not break: Redis turns newlines in errors into spaces.
                let text: Bytes = e
                    .bytes()
                    .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c })
                    .collect();
                line(out, b'-', &text);
            }
            Reply::Int(n) => line(out, b':', n.to_string().as_bytes()),
            Reply::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
            Reply::Many(items) => {
                for item in items {
                    item.encode(out);
                }
            }
        }
    }
}

#[derive(Debug)]
pub(super) enum ReadError {
    /// The input ended or the socket broke.
    Closed,
    /// Malformed input; the text follows `ERR Protocol error: ` and the connection closes.
    Protocol(String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> ReadError {
        ReadError::Closed
    }
}

fn protocol(msg: &str) -> ReadError {
    ReadError::Protocol(msg.to_owned())
}

fn unexpected_eof() -> ReadError {
    ReadError::Closed
}

/// Reads client commands: RESP2 arrays of bulk strings (what client libraries send) or inline
/// commands, a line of words (what `nc` or `telnet` send), with Redis's quoting rules.
pub(super) struct RespReader<R> {
    inner: R,
}

impl<R: BufRead> RespReader<R> {
    pub(super) fn new(inner: R) -> Self {
        RespReader { inner }
    }

    /// The next command, or `None` at the end of input. Empty lines and arrays are skipped.
    pub(super) fn read_command(&mut self) -> Result<Option<Vec<Bytes>>, ReadError> {
        loop {
            let Some(line) = self.read_line()? else {
                return Ok(None);
            };
            if let Some(count) = line.strip_prefix(b"*") {
                let count = parse_i64(count)
                    .filter(|&n| n <= MAX_ARGS as i64)
                    .ok_or_else(|| protocol("invalid multibulk length"))?;
                if count <= 0 {
                    continue;
                }
                let mut args = Vec::with_capacity((count as usize).min(64));
                for _ in 0..count {
                    args.push(self.read_bulk()?);
                }
                return Ok(Some(args));
            }
            let args = split_inline(&line)?;
            if !args.is_empty() {
                return Ok(Some(args));
            }
        }
    }

    fn read_bulk(&mut self) -> Result<Bytes, ReadError> {
        let line = self.read_line()?.ok_or_else(unexpected_eof)?;
        let Some(len) = line.strip_prefix(b"$") else {
            let got = line.first().map_or(' ', |&c| char::from(c));
            return Err(ReadError::Protocol(format!("expected '$', got '{got}'")));
        };
        let len = parse_i64(len)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= MAX_BULK)
            .ok_or_else(|| protocol("invalid bulk length"))?;
        let mut data = Vec::new();
        (&mut self.inner)
            .take(len as u64 + 2)
            .read_to_end(&mut data)?;
        if data.len() < len + 2 {
            return Err(unexpected_eof());
        }
        data.truncate(len); // the trailing CRLF
        Ok(data)
    }

    /// A line without its `\r\n` (or bare `\n`); `None` at the end of input.
    fn read_line(&mut self) -> Result<Option<Bytes>, ReadError> {
        let mut line = Vec::new();
        (&mut self.inner)
            .take(MAX_INLINE as u64 + 2)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Ok(None);
        }
        if line.pop() != Some(b'\n') {
            return Err(if line.len() >= MAX_INLINE {
                protocol("too big inline request")
            } else {
                unexpected_eof()
            });
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }
}

/// Splits an inline command into words like Redis's `sdssplitargs`: spaces separate words;
/// `"..."` may hold spaces and `\n \r \t \b \a \\ \" \xHH` escapes; `'...'` only `\'`.
pub(super) fn split_inline(line: &[u8]) -> Result<Vec<Bytes>, ReadError> {
    let unbalanced = || protocol("unbalanced quotes in request");
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while line.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(words);
        }
        let mut word = Vec::new();
        let mut quote: Option<u8> = None;
        loop {
            let Some(&c) = line.get(i) else {
                if quote.is_some() {
                    return Err(unbalanced());
                }
                break;
            };
            match quote {
                None if c.is_ascii_whitespace() => break,
                None if c == b'"' || c == b'\'' => quote = Some(c),
                Some(q) if c == q => {
                    // A closing quote must end the word.
                    if line.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err(unbalanced());
                    }
                    i += 1;
                    break;
                }
                Some(b'"') if c == b'\\' && i + 1 < line.len() => {
                    let hex = line
                        .get(i + 2..i + 4)
                        .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
                    match (line[i + 1], hex) {
                        (b'x', Some(byte)) => {
                            word.push(byte);
                            i += 2;
                        }
                        (escaped, _) => word.push(match escaped {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        }),
                    }
                    i += 1;
                }
                Some(b'\'') if c == b'\\' && line.get(i + 1) == Some(&b'\'') => {
                    word.push(b'\'');
                    i += 1;
                }
                _ => word.push(c),
            }
            i += 1;
        }
        words.push(word);
    }
}

/// Parses an integer as strictly as Redis's `string2ll`: optional `-`, digits, no leading
/// zeros, no `+`, no spaces, within `i64`.
pub(super) fn parse_i64(text: &[u8]) -> Option<i64> {
    if text == b"0" {
        return Some(0);
    }
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if text.len() > 20
        || !matches!(digits.first(), Some(b'1'..=b'9'))
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::lossy;
    use crate::sandbox::kv::testing::{bulk, error};

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ReadError> {
        let mut reader = RespReader::new(input);
        let mut commands = Vec::new();
        while let Some(command) = reader.read_command()? {
            commands.push(command);
        }
        Ok(commands)
    }

    fn strs(commands: &[Vec<Bytes>]) -> Vec<Vec<String>> {
        commands
            .iter()
            .map(|c| c.iter().map(|a| lossy(a)).collect())
            .collect()
    }

    #[test]
    fn parser_reads_resp_arrays_binary_safe() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n*1\r\n$4\r\nPING\r\n";
        let commands = parse_all(input).unwrap();
        assert_eq!(strs(&commands), [vec!["SET", "k", "a\r\nb"], vec!["PING"]]);
    }

    #[test]
    fn parser_reads_inline_commands_with_quotes() {
        let input =
            b"PING\r\nSET k \"hello world\"\n\r\n   \r\nECHO 'it''s'\r\nECHO \"a\\x41\\n\" x\r\n";
        let commands = parse_all(input);
        // 'it''s' has a quote right after a closing quote: unbalanced, as in Redis.
        assert!(matches!(commands, Err(ReadError::Protocol(m)) if m.contains("unbalanced")));
        let input = b"PING\r\nSET k \"hello world\"\n\r\n   \r\nECHO 'it\\'s' \"a\\x41\\n\" x\r\n";
        assert_eq!(
            strs(&parse_all(input).unwrap()),
            [
                vec!["PING"],
                vec!["SET", "k", "hello world"],
                vec!["ECHO", "it's", "aA\n", "x"]
            ]
        );
    }

    #[test]
    fn parser_skips_empty_arrays_and_mixes_styles() {
        let input = b"*0\r\n*-1\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
        assert_eq!(
            strs(&parse_all(input).unwrap()),
            [vec!["PING"], vec!["ECHO", ""]]
        );
    }

    #[test]
    fn parser_reports_protocol_errors_like_redis() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "invalid multibulk length"),
            (b"*2\r\n$3\r\nGET\r\n$x\r\n", "invalid bulk length"),
            (b"*2\r\n$3\r\nGET\r\n$-1\r\n", "invalid bulk length"),
            (b"*1\r\nGET\r\n", "expected '$', got 'G'"),
            (b"SET k \"open\r\n", "unbalanced quotes in request"),
        ];
        for (input, expected) in cases {
            match parse_all(input) {
                Err(ReadError::Protocol(msg)) => assert_eq!(msg, *expected),
                other => panic!("{input:?}: expected a protocol error, got {other:?}"),
            }
        }
        let huge = vec![b'a'; MAX_INLINE + 10];
        assert!(matches!(parse_all(&huge), Err(ReadError::Protocol(m)) if m.contains("too big")));
    }

    #[test]
    fn parser_treats_truncated_input_as_closed() {
        for input in [&b"*2\r\n$3\r\nGET\r\n"[..], b"*1\r\n$5\r\nab", b"PING"] {
            assert!(
                matches!(parse_all(input), Err(ReadError::Closed)),
                "{input:?}"
            );
        }
        assert!(parse_all(b"").unwrap().is_empty());
    }

    #[test]
    fn replies_encode_as_resp2() {
        let reply = Reply::Array(vec![
            Reply::OK,
            Reply::Int(-3),
            bulk("hi"),
            Reply::Nil,
            Reply::NilArray,
            Reply::Array(Vec::new()),
            error("ERR bad\r\nline"),
            Reply::Many(vec![Reply::Int(1), Reply::Int(2)]),
        ]);
        let mut out = Vec::new();
        reply.encode(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "*8\r\n+OK\r\n:-3\r\n$2\r\nhi\r\n$-1\r\n*-1\r\n*0\r\n-ERR bad  line\r\n:1\r\n:2\r\n"
        );
    }

    #[test]
    fn integers_parse_as_strictly_as_redis() {
        for (text, expected) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-7", Some(-7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("007", None),
            ("-0", None),
            ("+1", None),
            (" 1", None),
            ("1.5", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), expected, "{text:?}");
        }
    }
}

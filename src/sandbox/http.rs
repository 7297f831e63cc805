//! A minimal HTTP/1.1 client for checks: one request per connection, no redirects followed,
//! every read and write bounded by a deadline. Hand-written because checks need exact control
//! over what a general client hides (refused vs. reset vs. timed out, raw status and headers).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::fair::{FairClock, MAX_STRETCH};

/// A request to 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub port: u16,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
    /// The process groups serving it: time they spend waiting for a busy CPU does not count
    /// against `timeout` (see [`FairClock`]). Empty: the timeout is wall time.
    pub servers: Vec<i32>,
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("connection refused on port {0}")]
    Refused(u16),
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    #[error(
        "the service did not take the connection off its listen queue within {0:?}: is it busy with another request, or stuck?"
    )]
    NotAccepted(Duration),
    #[error("the connection was closed before a complete response ({0})")]
    Closed(String),
    #[error("not an HTTP response: {0}")]
    Malformed(String),
}

/// How long one read waits before the clocks are looked at again.
const SLICE: Duration = Duration::from_millis(100);
/// A connection the service never takes off its listen queue is given up on at this many
/// times the timeout.
const QUEUED_STRETCH: u32 = 4;

/// Largest response body kept; the rest is read and dropped.
const MAX_BODY: usize = 1 << 20;

/// Send `req` and read the whole response.
pub fn send(req: &Request) -> Result<Response, HttpError> {
    send_notify(req, |_| {})
}

/// Like [`send`], calling `on_sent` once the request has been written, with the local port
/// of the connection (or with None once it failed).
pub fn send_notify(
    req: &Request,
    on_sent: impl FnOnce(Option<u16>),
) -> Result<Response, HttpError> {
    let mut on_sent = Some(on_sent);
    let mut sent = |port: Option<u16>| {
        if let Some(f) = on_sent.take() {
            f(port);
        }
    };
    let result = exchange(req, &mut sent);
    sent(None);
    result
}

fn exchange(req: &Request, sent: &mut dyn FnMut(Option<u16>)) -> Result<Response, HttpError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, req.port));
    // A full listen queue drops the handshake and the kernel tries again (after 1 s, 3 s,
    // 7 s): 20 requests at once on a busy machine can wait that long for a connection.
    let mut stream =
        TcpStream::connect_timeout(&addr, req.timeout * QUEUED_STRETCH).map_err(|e| {
            match e.kind() {
                std::io::ErrorKind::TimedOut => {
                    HttpError::NotAccepted(req.timeout * QUEUED_STRETCH)
                }
                _ => HttpError::Refused(req.port),
            }
        })?;
    let _ = stream.set_nodelay(true);
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nUser-Agent: twelve-check\r\n",
        req.method, req.path, req.port
    );
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !req.body.is_empty() || matches!(req.method.as_str(), "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&req.body);
    stream
        .set_write_timeout(Some(req.timeout))
        .map_err(|e| HttpError::Closed(e.to_string()))?;
    stream
        .write_all(&bytes)
        .map_err(|e| HttpError::Closed(e.to_string()))?;
    sent(stream.local_addr().ok().map(|a| a.port()));

    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let client = stream.local_addr().ok().map(|a| a.port());
    // The timeout counts from when the service takes the connection off its listen queue
    // (20 requests at once may wait there on a busy machine), and it does not count the time
    // the service was kept waiting for a CPU. A connection never taken is given up on at
    // `QUEUED_STRETCH` times the timeout, anything else at `MAX_STRETCH` times.
    let sent_at = Instant::now();
    let mut clock: Option<FairClock> = None;
    loop {
        let now = Instant::now();
        if clock.is_none() && !client.is_some_and(|c| super::sockets::queued(req.port, c)) {
            clock = Some(FairClock::over(req.servers.clone(), req.timeout));
        }
        let expired = clock.as_mut().map(FairClock::expired);
        match expired {
            None if now >= sent_at + req.timeout * QUEUED_STRETCH => {
                return Err(HttpError::NotAccepted(req.timeout * QUEUED_STRETCH));
            }
            Some(e) if e || now >= sent_at + req.timeout * MAX_STRETCH => {
                return Err(HttpError::Timeout(req.timeout));
            }
            _ => {}
        }
        let _ = stream.set_read_timeout(Some(SLICE));
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if raw.len() < MAX_BODY + 65536 {
                    raw.extend_from_slice(&buf[..n]);
                }
                // A response with Content-Length may end before the server closes.
                if let Some(done) = complete_length(&raw) {
                    raw.truncate(done);
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                if raw.is_empty() {
                    return Err(HttpError::Closed(e.to_string()));
                }
                break;
            }
        }
    }
    parse(&raw)
}

/// If `raw` holds a complete head with a Content-Length and the whole body, its length.
fn complete_length(raw: &[u8]) -> Option<usize> {
    let end = find(raw, b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..end]);
    let len: usize = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())?
    })?;
    (raw.len() >= end + len).then_some(end + len)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse(raw: &[u8]) -> Result<Response, HttpError> {
    if raw.is_empty() {
        return Err(HttpError::Closed("no bytes received".into()));
    }
    let Some(end) = find(raw, b"\r\n\r\n") else {
        return Err(HttpError::Closed(format!(
            "the response stopped after {} bytes, inside its head",
            raw.len()
        )));
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err(HttpError::Malformed(status_line.chars().take(80).collect()));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Malformed(status_line.chars().take(80).collect()))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    body.truncate(MAX_BODY);
    Ok(Response {
        status,
        reason,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(data, b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        data = &data[eol + 2..];
        if size == 0 || data.len() < size {
            out.extend_from_slice(&data[..size.min(data.len())]);
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Shell-quote for transcripts.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `curl` line that sends the same request.
pub fn curl_line(req: &Request) -> String {
    let mut s = String::from("curl -si");
    if req.method != "GET" {
        s.push_str(&format!(" -X {}", req.method));
    }
    s.push_str(&format!(" http://127.0.0.1:{}{}", req.port, req.path));
    for (k, v) in &req.headers {
        s.push_str(&format!(" -H {}", shell_quote(&format!("{k}: {v}"))));
    }
    if !req.body.is_empty() {
        s.push_str(&format!(
            " -d {}",
            shell_quote(&String::from_utf8_lossy(&req.body))
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve_once(reply: &'static [u8]) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            s.write_all(reply).unwrap();
        });
        port
    }

    fn get(port: u16) -> Result<Response, HttpError> {
        send(&Request {
            method: "GET".into(),
            port,
            path: "/".into(),
            headers: vec![],
            body: vec![],
            timeout: Duration::from_secs(2),
            servers: Vec::new(),
        })
    }

    #[test]
    fn parses_a_response_with_length() {
        let port =
            serve_once(b"HTTP/1.0 302 Found\r\nLocation: https://x\r\nContent-Length: 2\r\n\r\nok");
        let r = get(port).unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("https://x"));
        assert_eq!(r.text(), "ok");
    }

    #[test]
    fn parses_chunked() {
        let port = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        assert_eq!(get(port).unwrap().text(), "abcde");
    }

    #[test]
    fn refused_is_told_apart() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(matches!(get(port), Err(HttpError::Refused(_))));
    }

    #[test]
    fn curl_lines_quote() {
        let r = Request {
            method: "POST".into(),
            port: 5,
            path: "/links".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"url": "it's"}"#.to_vec(),
            timeout: Duration::from_secs(1),
            servers: Vec::new(),
        };
        assert_eq!(
            curl_line(&r),
            r#"curl -si -X POST http://127.0.0.1:5/links -H 'Content-Type: application/json' -d '{"url": "it'\''s"}'"#
        );
    }
}

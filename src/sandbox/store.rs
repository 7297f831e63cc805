//! The store a check's `kv` step starts: the built-in one (default) or a private
//! `redis-server` (`--store redis-server`), so every lesson's verdict can be proven against the
//! real thing. Both are inspected the same way by `expect_kv`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use super::kv::KvServer;
use super::process::{Limits, Spec, Supervised};

/// Which store `kv` steps start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreKind {
    #[default]
    Builtin,
    RedisServer,
}

static KIND: AtomicU8 = AtomicU8::new(0);

/// Choose the store every later `kv` step starts (for this program).
pub fn use_kind(kind: StoreKind) {
    KIND.store(u8::from(kind == StoreKind::RedisServer), Ordering::SeqCst);
}

pub fn kind() -> StoreKind {
    if KIND.load(Ordering::SeqCst) == 1 {
        StoreKind::RedisServer
    } else {
        StoreKind::Builtin
    }
}

/// Parse `builtin` / `redis-server`.
pub fn parse_kind(s: &str) -> Result<StoreKind, String> {
    match s {
        "builtin" | "built-in" | "twelve" => Ok(StoreKind::Builtin),
        "redis-server" | "redis" => Ok(StoreKind::RedisServer),
        other => Err(format!(
            "unknown store `{other}`: use `builtin` (twelve's own) or `redis-server` (a real Redis)"
        )),
    }
}

/// A running store of either kind.
pub enum Store {
    Builtin(KvServer),
    Redis(RedisServer),
}

impl Store {
    /// Start a store of the chosen kind; a `redis-server` runs with its files in `dir`.
    pub fn start(kind: StoreKind, dir: &Path) -> Result<Store, String> {
        match kind {
            StoreKind::Builtin => KvServer::start(0)
                .map(Store::Builtin)
                .map_err(|e| format!("could not start the built-in store: {e}")),
            StoreKind::RedisServer => RedisServer::start(dir).map(Store::Redis),
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            Store::Builtin(s) => s.port(),
            Store::Redis(r) => r.port,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port())
    }

    /// What the transcript shows for starting it.
    pub fn command(&self) -> String {
        match self {
            Store::Builtin(s) => format!("twelve kv --port {}", s.port()),
            Store::Redis(r) => format!("redis-server --port {} --save '' --appendonly no", r.port),
        }
    }

    /// Writes (changes) since it started.
    pub fn writes(&self) -> u64 {
        match self {
            Store::Builtin(s) => s.writes(),
            Store::Redis(r) => r
                .info_field("persistence", "rdb_changes_since_last_save")
                .unwrap_or(0),
        }
    }

    /// Keys of database 0 matching a glob pattern, sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        match self {
            Store::Builtin(s) => s.keys(pattern),
            Store::Redis(r) => {
                let mut keys = match r.call(&["KEYS", pattern]) {
                    Ok(Reply::Array(items)) => items
                        .into_iter()
                        .filter_map(|i| match i {
                            Reply::Bulk(Some(b)) => Some(b),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                keys.sort();
                keys
            }
        }
    }

    pub fn list_len(&self, key: &str) -> usize {
        match self {
            Store::Builtin(s) => s.list_len(key),
            Store::Redis(r) => match r.call(&["LLEN", key]) {
                Ok(Reply::Int(n)) => usize::try_from(n).unwrap_or(0),
                _ => 0,
            },
        }
    }

    pub fn list(&self, key: &str) -> Vec<String> {
        match self {
            Store::Builtin(s) => s.list(key),
            Store::Redis(r) => match r.call(&["LRANGE", key, "0", "-1"]) {
                Ok(Reply::Array(items)) => items
                    .into_iter()
                    .filter_map(|i| match i {
                        Reply::Bulk(b) => b,
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// Wait up to `timeout` for a change (the real server is polled).
    pub fn wait_for_change(&self, timeout: Duration) {
        match self {
            Store::Builtin(s) => {
                s.wait_for_change(timeout);
            }
            Store::Redis(_) => std::thread::sleep(timeout.min(Duration::from_millis(20))),
        }
    }
}

/// A private `redis-server`, killed with its guard.
pub struct RedisServer {
    pub port: u16,
    _proc: Supervised,
}

impl RedisServer {
    fn start(dir: &Path) -> Result<RedisServer, String> {
        let missing = || {
            "`--store redis-server` needs `redis-server` on PATH (Debian/Ubuntu: `apt-get install \
             redis-server`; macOS: `brew install redis`); without it, use the built-in store"
                .to_string()
        };
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("redis-server").is_file()));
        if !found {
            return Err(missing());
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        for _ in 0..3 {
            let port = super::free_port().map_err(|e| format!("no free port: {e}"))?;
            let mut env = std::collections::BTreeMap::new();
            if let Some(p) = std::env::var_os("PATH") {
                env.insert("PATH".to_string(), p.to_string_lossy().into_owned());
            }
            let spec = Spec {
                name: "redis-server".into(),
                command: format!(
                    "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no \
                     --dir {}",
                    super::http::shell_quote(&dir.display().to_string())
                ),
                cwd: dir.to_path_buf(),
                env,
                limits: Limits::default(),
            };
            let mut proc = Supervised::spawn(&spec, None).map_err(|e| e.to_string())?;
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if proc.try_exit().is_some() {
                    break;
                }
                if super::port_open(port) && super::sockets::owns_port(proc.pid(), port) {
                    return Ok(RedisServer { port, _proc: proc });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let said: Vec<String> = proc.output.lines().into_iter().map(|l| l.text).collect();
            if !said.iter().any(|l| l.contains("Address already in use")) {
                return Err(format!(
                    "redis-server did not start: {}",
                    said.last().cloned().unwrap_or_else(|| "no output".into())
                ));
            }
        }
        Err("redis-server could not find a free port".into())
    }

    fn call(&self, args: &[&str]) -> std::io::Result<Reply> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(out.as_bytes())?;
        read_reply(&mut BufReader::new(s))
    }

    fn info_field(&self, section: &str, field: &str) -> Option<u64> {
        match self.call(&["INFO", section]).ok()? {
            Reply::Bulk(Some(text)) => text.lines().find_map(|l| {
                l.strip_prefix(field)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|v| v.trim().parse().ok())
            }),
            _ => None,
        }
    }
}

/// A RESP2 reply (what inspecting a store needs).
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<String>),
    Array(Vec<Reply>),
}

fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']);
    let bad = || std::io::Error::other(format!("bad reply `{line}`"));
    let (kind, rest) = line.split_at(line.len().min(1));
    Ok(match kind {
        "+" => Reply::Status(rest.into()),
        "-" => Reply::Error(rest.into()),
        ":" => Reply::Int(rest.parse().map_err(|_| bad())?),
        "$" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                Reply::Bulk(None)
            } else {
                let mut buf = vec![0; usize::try_from(n).map_err(|_| bad())? + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(buf.len() - 2);
                Reply::Bulk(Some(String::from_utf8_lossy(&buf).into_owned()))
            }
        }
        "*" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            let mut items = Vec::new();
            for _ in 0..n.max(0) {
                items.push(read_reply(r)?);
            }
            Reply::Array(items)
        }
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read() {
        let mut r = std::io::Cursor::new(b"*2\r\n$3\r\nabc\r\n:5\r\n".to_vec());
        assert_eq!(
            read_reply(&mut r).unwrap(),
            Reply::Array(vec![Reply::Bulk(Some("abc".into())), Reply::Int(5)])
        );
    }
}

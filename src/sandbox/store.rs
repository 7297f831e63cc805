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

/// A store of either kind, which a check may stop, start, pause and resume on its port.
pub struct Store {
    kind: StoreKind,
    dir: std::path::PathBuf,
    port: u16,
    /// None while stopped.
    running: Option<Running>,
    paused: bool,
}

enum Running {
    Builtin(KvServer),
    Redis(RedisServer),
}

impl Store {
    /// Start a store of the chosen kind; a `redis-server` runs with its files in `dir`.
    pub fn start(kind: StoreKind, dir: &Path) -> Result<Store, String> {
        let running = match kind {
            StoreKind::Builtin => KvServer::start(0)
                .map(Running::Builtin)
                .map_err(|e| format!("could not start the built-in store: {e}"))?,
            StoreKind::RedisServer => Running::Redis(RedisServer::start(dir)?),
        };
        let port = match &running {
            Running::Builtin(s) => s.port(),
            Running::Redis(r) => r.port,
        };
        Ok(Store {
            kind,
            dir: dir.to_path_buf(),
            port,
            running: Some(running),
            paused: false,
        })
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    pub fn is_paused(&self) -> bool {
        self.running.is_some() && self.paused
    }

    /// Stop: the listener closes and every connection is dropped (a `redis-server` is killed).
    pub fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            match r {
                Running::Builtin(s) => drop(s),
                Running::Redis(mut r) => {
                    r.proc.kill();
                }
            }
        }
        self.paused = false;
    }

    /// Start again on the same port, empty (neither store keeps anything on disk).
    pub fn start_again(&mut self) -> Result<(), String> {
        if self.running.is_some() {
            return Ok(());
        }
        let taken = |e: String| {
            format!(
                "the store could not start again on its port {}: {e} (another program may \
                 have taken the port meanwhile)",
                self.port
            )
        };
        let running = match self.kind {
            StoreKind::Builtin => {
                Running::Builtin(KvServer::start(self.port).map_err(|e| taken(e.to_string()))?)
            }
            StoreKind::RedisServer => {
                Running::Redis(RedisServer::spawn_on(&self.dir, self.port).map_err(taken)?)
            }
        };
        self.running = Some(running);
        self.paused = false;
        Ok(())
    }

    /// Stop, then start again on the same port.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.start_again()
    }

    /// Hang: connections are accepted, nothing is answered (SIGSTOP for a `redis-server`).
    pub fn pause(&mut self) {
        match &mut self.running {
            Some(Running::Builtin(s)) => s.pause(),
            Some(Running::Redis(r)) => r.proc.signal(nix::sys::signal::Signal::SIGSTOP),
            None => return,
        }
        self.paused = true;
    }

    /// Answer again (SIGCONT for a `redis-server`).
    pub fn resume(&mut self) {
        match &mut self.running {
            Some(Running::Builtin(s)) => s.resume(),
            Some(Running::Redis(r)) => r.proc.signal(nix::sys::signal::Signal::SIGCONT),
            None => {}
        }
        self.paused = false;
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port())
    }

    /// What the transcript shows for starting it.
    pub fn command(&self) -> String {
        match self.kind {
            StoreKind::Builtin => format!("twelve kv --port {}", self.port),
            StoreKind::RedisServer => {
                format!(
                    "redis-server --port {} --save '' --appendonly no",
                    self.port
                )
            }
        }
    }

    /// Writes (changes) since it started.
    pub fn writes(&self) -> u64 {
        match &self.running {
            None => 0,
            Some(Running::Builtin(s)) => s.writes(),
            Some(Running::Redis(r)) => r
                .info_field("persistence", "rdb_changes_since_last_save")
                .unwrap_or(0),
        }
    }

    /// Keys of database 0 matching a glob pattern, sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        match &self.running {
            None => Vec::new(),
            Some(Running::Builtin(s)) => s.keys(pattern),
            Some(Running::Redis(r)) => {
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
        match &self.running {
            None => 0,
            Some(Running::Builtin(s)) => s.list_len(key),
            Some(Running::Redis(r)) => match r.call(&["LLEN", key]) {
                Ok(Reply::Int(n)) => usize::try_from(n).unwrap_or(0),
                _ => 0,
            },
        }
    }

    pub fn list(&self, key: &str) -> Vec<String> {
        match &self.running {
            None => Vec::new(),
            Some(Running::Builtin(s)) => s.list(key),
            Some(Running::Redis(r)) => match r.call(&["LRANGE", key, "0", "-1"]) {
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
        match &self.running {
            Some(Running::Builtin(s)) => {
                s.wait_for_change(timeout);
            }
            _ => std::thread::sleep(timeout.min(Duration::from_millis(20))),
        }
    }
}

/// A private `redis-server`, killed with its guard.
pub struct RedisServer {
    pub port: u16,
    proc: Supervised,
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
            match Self::spawn_on(dir, port) {
                Ok(r) => return Ok(r),
                Err(e) if e.contains("Address already in use") => {}
                Err(e) => return Err(e),
            }
        }
        Err("redis-server could not find a free port".into())
    }

    /// A `redis-server` on `port`, ready (it owns the listening socket).
    fn spawn_on(dir: &Path, port: u16) -> Result<RedisServer, String> {
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
                return Ok(RedisServer { port, proc });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let said: Vec<String> = proc.output.lines().into_iter().map(|l| l.text).collect();
        if let Some(l) = said.iter().find(|l| l.contains("Address already in use")) {
            return Err(l.clone());
        }
        Err(format!(
            "redis-server did not start: {}",
            said.last().cloned().unwrap_or_else(|| "no output".into())
        ))
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

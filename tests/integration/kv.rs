//! `sandbox-apps/_shared/kv.py` against the built-in store and against a real `redis-server`:
//! the same script must pass on both, so a learner can swap stores by changing `REDIS_URL` only.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use twelve::sandbox::kv::KvServer;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tests/kv_compat.py URL` with `kv.py` importable; panics with its output on failure.
fn run_compat(url: &str) -> Output {
    let output = Command::new("python3")
        .arg(repo().join("tests/kv_compat.py"))
        .arg(url)
        .env("PYTHONPATH", repo().join("sandbox-apps/_shared"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "kv_compat.py failed against {url} ({})\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
    output
}

#[test]
fn kv_py_passes_against_the_builtin_store() {
    let server = KvServer::start(0).expect("store starts");
    let output = run_compat(&server.url());
    print!("{}", String::from_utf8_lossy(&output.stdout));

    assert!(server.writes() > 100, "writes seen: {}", server.writes());
    assert!(server.commands() > server.writes());
    assert_eq!(
        server.keys("compat:*"),
        ["compat:left", "compat:left:hash", "compat:left:list"]
    );
    assert_eq!(server.get("compat:left").as_deref(), Some("behind"));
    assert_eq!(server.list("compat:left:list"), ["a", "b"]);
    assert_eq!(server.list_len("compat:left:list"), 2);
    assert_eq!(
        server
            .hash("compat:left:hash")
            .into_iter()
            .collect::<Vec<_>>(),
        [("f".to_owned(), "v".to_owned())]
    );
    assert_eq!(server.keys_in(3, "*"), ["compat:db3"]);
    assert_eq!(server.blocked_clients(), 0);
}

/// A `redis-server` child process, killed when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// True once the server on `port` answers `PING` with `+PONG`.
fn answers_ping(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut line = String::new();
    (&stream).write_all(b"PING\r\n").is_ok()
        && BufReader::new(&stream).read_line(&mut line).is_ok()
        && line == "+PONG\r\n"
}

fn start_redis(binary: &Path) -> RedisServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let child = Command::new(binary)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let mut redis = RedisServer {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !answers_ping(port) {
        if let Ok(Some(status)) = redis.child.try_wait() {
            panic!("redis-server exited before accepting connections: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "redis-server did not accept on port {port} within 10 s"
        );
        // Between connection attempts: a refused connect returns at once.
        std::thread::sleep(Duration::from_millis(10));
    }
    redis
}

#[test]
fn kv_py_passes_against_a_real_redis_server() {
    let Some(binary) = find_on_path("redis-server") else {
        println!("skipped: redis-server not installed");
        return;
    };
    let redis = start_redis(&binary);
    let output = run_compat(&format!("redis://127.0.0.1:{}/0", redis.port));
    print!("{}", String::from_utf8_lossy(&output.stdout));
}

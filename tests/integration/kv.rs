//! The built-in store against a real `redis-server`:
//! - `sandbox-apps/_shared/kv.py` must pass the same script on both, so a learner can swap
//!   stores by changing `REDIS_URL` only;
//! - the differential test (`tests/kv_compat.py --diff`) replays every command the store knows,
//!   with its edge cases, against `twelve kv` and `redis-server` and requires identical replies.
//!
//! The tests that need `redis-server` print a message and pass where it is not installed.

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

/// A server child process (`redis-server` or `twelve kv`), killed when dropped.
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
    let mut command = Command::new(binary);
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path());
    start_server(command, port, dir)
}

/// `twelve kv --port P`, the built-in store as a learner runs it.
fn start_twelve_kv() -> RedisServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_twelve"));
    command
        .args(["kv", "--port", &port.to_string()])
        .current_dir(dir.path());
    start_server(command, port, dir)
}

fn start_server(mut command: Command, port: u16, dir: tempfile::TempDir) -> RedisServer {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut server = RedisServer {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !answers_ping(port) {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("{command:?} exited before accepting connections: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{command:?} did not accept on port {port} within 10 s"
        );
        // Between connection attempts: a refused connect returns at once.
        std::thread::sleep(Duration::from_millis(10));
    }
    server
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

/// Every command of the built-in store, with its edge cases (wrong types, negative counts,
/// expiry, blocking with timeouts, transactions with a conflicting write from a second
/// connection, `WATCH`, pub/sub), replayed against `twelve kv` and `redis-server`: every reply
/// must be identical.
#[test]
fn kv_replies_match_a_real_redis_server() {
    let Some(binary) = find_on_path("redis-server") else {
        println!("skipped: redis-server not installed, the differential test needs it");
        return;
    };
    let redis = start_redis(&binary);
    let ours = start_twelve_kv();
    let output = Command::new("python3")
        .arg(repo().join("tests/kv_compat.py"))
        .arg("--diff")
        .arg(format!("redis://127.0.0.1:{}/0", ours.port))
        .arg(format!("redis://127.0.0.1:{}/0", redis.port))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    assert!(
        output.status.success(),
        "the built-in store answers differently from redis-server ({})\n--- stdout\n{stdout}\
         --- stderr\n{stderr}",
        output.status
    );
    let summary = stdout.lines().last().unwrap_or_default();
    let compared: usize = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    assert!(summary.ends_with(", 0 differ"), "{summary}");
    assert!(compared > 1000, "only {compared} commands compared");
}

/// `tests/packs/outage`: a check pauses, resumes, stops, starts and restarts the store under a
/// running service. The solution rides it out; the starter, which keeps a copy of the count
/// in memory, answers while the store is stopped and fails.
fn verify_outage_pack(store: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let pack = super::harness::test_pack("outage", tmp.path());
    super::harness::Twelve::new(tmp.path())
        .env("TWELVE_STORE", store)
        .args(&["lessons", "verify", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(0)
        .stdout_has("starter fails `outage` as intended: with the store stopped, the service answered anyway")
        .stdout_has("solution passes all 1 checks");
}

#[test]
fn kv_actions_break_and_mend_the_builtin_store() {
    verify_outage_pack("builtin");
}

#[test]
fn kv_actions_break_and_mend_a_real_redis_server() {
    if find_on_path("redis-server").is_none() {
        println!(
            "skipped: redis-server not installed, the kv actions were tested on the built-in store only"
        );
        return;
    }
    verify_outage_pack("redis-server");
}

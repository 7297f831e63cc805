//! More of what `twelve doctor` checks: what a classroom laptop needs beyond Python and git
//! (temporary space, a Python service reachable on 127.0.0.1, the built-in store, an editor).
//! Each check gives (good, what was found, how to fix it).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::sandbox::Python;

/// The extra checks, in the order they are shown.
pub fn checks() -> Vec<(bool, String, String)> {
    let mut out = vec![temp_space()];
    if let Ok(py) = Python::get() {
        out.push(python_serves(py));
    }
    out.push(store_answers());
    out.push(editor());
    out
}

/// Sandboxes live in the temporary folder: it must be writable, with room for a few copies of
/// a lesson.
fn temp_space() -> (bool, String, String) {
    let tmp = std::env::temp_dir();
    let fix = format!(
        "make `{}` writable with free space, or point TMPDIR at a folder that is",
        tmp.display()
    );
    let probe = tempfile::tempdir_in(&tmp)
        .and_then(|d| std::fs::write(d.path().join("probe"), b"twelve").map(|()| d));
    if let Err(e) = probe {
        return (
            false,
            format!(
                "cannot write in the temporary folder {}: {e}",
                tmp.display()
            ),
            fix,
        );
    }
    match nix::sys::statvfs::statvfs(&tmp) {
        Ok(s) => {
            // The field types differ between Linux and macOS.
            #[allow(clippy::useless_conversion)]
            let free_mb =
                u64::from(s.blocks_available()) * u64::from(s.fragment_size()) / 1_000_000;
            (
                free_mb >= 100,
                format!(
                    "temporary folder {} is writable ({free_mb} MB free)",
                    tmp.display()
                ),
                fix,
            )
        }
        Err(_) => (
            true,
            format!("temporary folder {} is writable", tmp.display()),
            fix,
        ),
    }
}

/// What every check does: start a Python web service on a port and reach it on 127.0.0.1.
/// Firewalls, endpoint protection and broken loopback set-ups fail here, not in lesson 1.
fn python_serves(py: &Python) -> (bool, String, String) {
    let fix = "allow Python to listen on 127.0.0.1 (a firewall or endpoint-protection tool may \
               block it), and check that `localhost` resolves to 127.0.0.1"
        .to_string();
    let port = match crate::sandbox::free_port() {
        Ok(p) => p,
        Err(e) => return (false, format!("no free local port: {e}"), fix),
    };
    let script = r"import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'twelve-doctor')
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).handle_request()
";
    let started = Instant::now();
    let child = std::process::Command::new(&py.path)
        .args(["-c", script, &port.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return (false, format!("python3 could not be started: {e}"), fix),
    };
    let deadline = started + Duration::from_secs(10);
    let mut answer = String::new();
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let _ = s.read_to_string(&mut answer);
            break;
        }
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed().as_millis();
    let _ = child.kill();
    let output = child.wait_with_output();
    if answer.contains("twelve-doctor") {
        (
            true,
            format!("a Python service answered on 127.0.0.1 ({took} ms from start)"),
            fix,
        )
    } else {
        let err = output
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
            .filter(|e| !e.is_empty())
            .map_or(String::new(), |e| {
                format!(": {}", e.lines().last().unwrap_or(""))
            });
        (
            false,
            format!("a Python service on 127.0.0.1:{port} could not be reached{err}"),
            fix,
        )
    }
}

/// The built-in store answers the Redis protocol.
fn store_answers() -> (bool, String, String) {
    let fix = "allow twelve to listen on 127.0.0.1".to_string();
    let server = match crate::sandbox::kv::KvServer::start(0) {
        Ok(s) => s,
        Err(e) => return (false, format!("the built-in store cannot listen: {e}"), fix),
    };
    let reply = TcpStream::connect(("127.0.0.1", server.port())).and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(b"*1\r\n$4\r\nPING\r\n")?;
        let mut buf = [0_u8; 16];
        let n = s.read(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).to_string())
    });
    drop(server);
    match reply {
        Ok(r) if r.starts_with("+PONG") => (
            true,
            "the built-in key-value store answers".to_string(),
            fix,
        ),
        Ok(r) => (
            false,
            format!("the built-in store answered {:?}", r.trim()),
            fix,
        ),
        Err(e) => (
            false,
            format!("the built-in store is unreachable: {e}"),
            fix,
        ),
    }
}

/// The tutorial opens files in `$VISUAL`/`$EDITOR`, or nano, vim, vi.
fn editor() -> (bool, String, String) {
    let fix = "set EDITOR (e.g. `export EDITOR=nano`, or `EDITOR=\"code --wait\"`), or install \
               nano"
        .to_string();
    for var in ["VISUAL", "EDITOR"] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().is_empty() {
                return (true, format!("editor: {v} (from {var})"), fix);
            }
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["nano", "vim", "vi"] {
        if std::env::split_paths(&path).any(|d| d.join(name).is_file()) {
            return (true, format!("editor: {name} (EDITOR is not set)"), fix);
        }
    }
    (
        false,
        "no editor: EDITOR is not set and there is no nano, vim or vi".to_string(),
        fix,
    )
}

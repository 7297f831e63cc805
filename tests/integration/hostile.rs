//! Hostile solutions: each fails with a clear message within its deadline, and afterwards no
//! process of the check and no sandbox folder is left.

use std::time::Duration;

use super::harness::{Twelve, heavy, processes_with, sandboxes_in, test_pack};

/// Lay `app` over the hostile pack's lesson, check it, and judge the aftermath.
#[track_caller]
fn hostile(name: &str, app: &str, want: &[&str]) {
    // Services that burn CPU (a loop, endless output, zeroing memory) run while no many-lesson
    // test does, so they cannot push those past their lessons' time bounds.
    let _heavy = ["loop", "spam", "memory"].contains(&name).then(heavy);
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("hostile", tmp.path());
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    Twelve::new(tmp.path())
        .args(&["--lessons", pack.to_str().unwrap(), "init", "ws"])
        .run()
        .code(0);
    let lesson = tmp.path().join("ws/01-hostile");
    // A marker in every command line of the check, to find leftovers in the process table.
    let marker = format!("hostile-{name}-{}", std::process::id());
    std::fs::write(
        lesson.join("Procfile"),
        format!("web: python3 app.py {marker}\n"),
    )
    .unwrap();
    std::fs::write(lesson.join("app.py"), app).unwrap();
    let r = Twelve::new(&tmp.path().join("ws"))
        .args(&["check", "1"])
        .env("TMPDIR", &sandboxes)
        .run();
    r.code(1);
    for w in want {
        r.stdout_has(w);
    }
    // The check's deadline is 10 s and readiness 3 s: a hostile service must not stretch it.
    assert!(r.took < Duration::from_secs(8), "{name}: took {:?}", r.took);
    assert_eq!(
        processes_with(&marker),
        Vec::<String>::new(),
        "{name}: processes left"
    );
    assert_eq!(
        sandboxes_in(&sandboxes),
        Vec::<String>::new(),
        "{name}: folders left"
    );
}

#[test]
fn infinite_loop_at_start() {
    hostile(
        "loop",
        "while True:\n    pass\n",
        &[
            "web.1 was not ready within 3s",
            "accept connections on the port it was given",
        ],
    );
}

#[test]
fn child_that_ignores_sigterm_and_forks_again() {
    hostile(
        "forks",
        r#"import os, signal, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
signal.signal(signal.SIGTERM, signal.SIG_IGN)
for _ in range(2):
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(300)
        os._exit(0)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500)
        self.end_headers()
HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"#,
        &["answered 500 instead of 200"],
    );
}

#[test]
fn child_that_leaves_its_process_group() {
    hostile(
        "setsid",
        r"import os, signal, time
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(300)
    os._exit(0)
while True:
    time.sleep(1)
",
        &["was not ready"],
    );
}

#[test]
fn endless_output() {
    hostile(
        "spam",
        "import sys\nwhile True:\n    sys.stdout.write('spam ' * 50 + '\\n')\n",
        &["was not ready", "earlier lines dropped", "spam spam"],
    );
}

#[test]
fn allocating_memory_without_bound() {
    hostile(
        "memory",
        "hog = []\nwhile True:\n    hog.append(bytearray(50 * 1024 * 1024))\n",
        &["stopped before it was ready", "MemoryError"],
    );
}

#[test]
fn binding_the_wrong_port() {
    hostile(
        "wrongport",
        r#"import os, socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen()
print("listening on", s.getsockname()[1], flush=True)
time.sleep(300)
"#,
        &["the process listens on", "instead"],
    );
}

#[test]
fn exiting_at_once() {
    hostile(
        "exits",
        "import sys\nprint('bye', file=sys.stderr)\nsys.exit(3)\n",
        &["stopped before it was ready (exit code 3)", "bye"],
    );
}

#[test]
fn closing_stdout_then_hanging() {
    hostile(
        "closes",
        "import os, time\nos.close(1)\nos.close(2)\ntime.sleep(300)\n",
        &["was not ready within 3s"],
    );
}

//! Every plain command, through the real binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::harness::{
    Background, Twelve, heavy, processes_with, repo, sandboxes_in, solve, test_pack,
};

/// A workspace of the built-in lessons in a fresh temp folder.
fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    let ws = tmp.path().join("ws");
    (tmp, ws)
}

#[track_caller]
fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listened on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn init_writes_one_folder_per_lesson_and_refuses_twice() {
    let (tmp, ws) = workspace();
    for l in ["03-config", "07-port-binding"] {
        assert!(ws.join(l).join("app.py").is_file(), "{l}/app.py");
        assert!(ws.join(l).join("kv.py").is_file(), "{l}/kv.py (shared)");
    }
    assert!(ws.join(".twelve/progress.toml").is_file());
    assert!(
        std::fs::read_to_string(ws.join("README.md"))
            .unwrap()
            .contains("twelve check")
    );
    Twelve::new(tmp.path())
        .args(&["init", "ws"])
        .run()
        .code(2)
        .stderr_has("already a workspace");
}

#[test]
fn list_shows_lessons_and_the_next_one() {
    let (_tmp, ws) = workspace();
    Twelve::new(&ws)
        .args(&["list"])
        .run()
        .code(0)
        .stdout_has("III  Config")
        .stdout_has("← next")
        .stdout_has("0/");
}

#[test]
fn outside_a_workspace_commands_say_how_to_make_one() {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path())
        .args(&["list"])
        .run()
        .code(2)
        .stderr_has("twelve init");
    Twelve::new(tmp.path())
        .args(&["check", "99", "--workspace", "."])
        .run()
        .code(2)
        .stderr_has("not a workspace");
}

#[test]
fn check_config_fails_on_the_starter_and_passes_with_the_solution() {
    let (_tmp, ws) = workspace();
    let r = Twelve::new(&ws).args(&["check", "3"]).run();
    r.code(1)
        .stdout_has("✗")
        .stdout_has("production key")
        .stdout_has("to reproduce by hand:")
        .stdout_has("twelve hint 3");
    solve(&ws, "03-config");
    Twelve::new(&ws.join("03-config"))
        .args(&["check"])
        .run()
        .code(0)
        .stdout_has("lesson 3 passed");
    let progress = std::fs::read_to_string(ws.join(".twelve/progress.toml")).unwrap();
    assert!(progress.contains("status = \"passed\""), "{progress}");
    assert!(progress.contains("attempts = 2"), "{progress}");
}

#[test]
fn check_port_binding_fails_on_the_starter_and_passes_with_the_solution() {
    let (_tmp, ws) = workspace();
    let r = Twelve::new(&ws)
        .args(&["check", "7", "--format", "json"])
        .run();
    r.code(1);
    let json = r.json();
    let checks = json["lessons"][0]["checks"].as_array().unwrap();
    let failed = checks.iter().find(|c| c["id"] == "port-binding").unwrap();
    assert_eq!(failed["outcome"], "failed");
    // The headline is what happened (the second instance may crash on a taken 8080); the
    // lesson's sentence is the headline or its detail.
    let msg = format!(
        "{} {}",
        failed["failure"]["message"].as_str().unwrap(),
        failed["failure"]["detail"].as_str().unwrap_or("")
    );
    assert!(msg.contains("was not serving on its PORT"), "{msg}");
    assert!(
        failed["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("PORT="))
    );
    solve(&ws, "07-port-binding");
    let r = Twelve::new(&ws)
        .args(&["check", "port-binding", "--format", "junit"])
        .run();
    r.code(0).stdout_has("<testsuite name=\"07-port-binding\"");
    assert!(!r.stdout.contains("<failure"), "{}", r.stdout);
}

#[test]
fn check_all_runs_every_lesson_and_passes_on_solutions() {
    let (_tmp, ws) = workspace();
    let mut lessons = Vec::new();
    for e in std::fs::read_dir(repo().join("lessons")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('_') {
            continue; // the pack's scenarios, not a lesson
        }
        solve(&ws, &name);
        lessons.push(name);
    }
    let _heavy = heavy();
    let r = Twelve::new(&ws).args(&["check", "--all"]).run();
    r.code(0)
        .stdout_has(&format!("{n}/{n} lessons passed", n = lessons.len()));
    eprintln!(
        "check --all on {} solutions took {:?}",
        lessons.len(),
        r.took
    );
}

#[test]
fn hints_are_revealed_one_at_a_time_and_recorded() {
    let (_tmp, ws) = workspace();
    Twelve::new(&ws)
        .args(&["hint", "3"])
        .run()
        .code(0)
        .stdout_has("Hint 1/3");
    let r = Twelve::new(&ws).args(&["hint", "config"]).run();
    r.code(0).stdout_has("Hint 1/3").stdout_has("Hint 2/3");
    assert!(!r.stdout.contains("Hint 3/3"));
    let progress = std::fs::read_to_string(ws.join(".twelve/progress.toml")).unwrap();
    assert!(progress.contains("hints_revealed = 2"), "{progress}");
}

#[test]
fn solution_asks_first_then_shows_a_diff() {
    let (_tmp, ws) = workspace();
    Twelve::new(&ws)
        .args(&["solution", "3"])
        .run()
        .code(1)
        .stderr_has("Not shown");
    Twelve::new(&ws)
        .args(&["solution", "3", "--yes"])
        .run()
        .code(0)
        .stdout_has("+++ solution/app.py")
        .stdout_has("-");
    solve(&ws, "03-config");
    Twelve::new(&ws)
        .args(&["solution", "3", "--yes"])
        .run()
        .code(0)
        .stdout_has("same as the reference solution");
}

#[test]
fn reset_restores_the_starter_after_confirmation() {
    let (_tmp, ws) = workspace();
    let app = ws.join("03-config/app.py");
    let original = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, "broken on purpose").unwrap();
    Twelve::new(&ws)
        .args(&["reset", "3"])
        .run()
        .code(1)
        .stderr_has("Nothing was reset");
    assert_eq!(std::fs::read_to_string(&app).unwrap(), "broken on purpose");
    Twelve::new(&ws)
        .args(&["reset", "3", "--yes"])
        .run()
        .code(0);
    assert_eq!(std::fs::read_to_string(&app).unwrap(), original);
}

#[test]
fn a_damaged_progress_file_is_kept_aside() {
    let (_tmp, ws) = workspace();
    std::fs::write(ws.join(".twelve/progress.toml"), "this is [not toml").unwrap();
    Twelve::new(&ws)
        .args(&["list"])
        .run()
        .code(0)
        .stderr_has("kept as");
    let aside = std::fs::read_dir(ws.join(".twelve"))
        .unwrap()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("progress.toml.damaged-")
        });
    assert!(aside);
}

#[test]
fn doctor_reports_python_and_the_pack() {
    let (_tmp, ws) = workspace();
    Twelve::new(&ws)
        .args(&["doctor"])
        .run()
        .code(0)
        .stdout_has("✓ python3 3.")
        .stdout_has("lessons from the built-in lessons")
        .stdout_has("workspace at");
    Twelve::new(&ws)
        .args(&["doctor"])
        .env("TWELVE_PYTHON", "/nonexistent/python3")
        .run()
        .code(2)
        .stdout_has("fix:");
}

#[test]
fn unknown_lessons_and_bad_usage_exit_2() {
    let (_tmp, ws) = workspace();
    Twelve::new(&ws)
        .args(&["check", "42"])
        .run()
        .code(2)
        .stderr_has("no lesson `42`");
    Twelve::new(&ws).args(&["check", "--bogus"]).run().code(2);
}

#[test]
fn kv_serves_the_redis_protocol_until_interrupted() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_twelve"))
            .args(["kv", "--port", &port.to_string()])
            .current_dir(tmp.path())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn run_starts_the_service_and_ctrl_c_stops_it_cleanly() {
    let (tmp, ws) = workspace();
    solve(&ws, "07-port-binding");
    let port = free_port();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_twelve"))
            .args(["run", "7", "--port", &port.to_string()])
            .current_dir(&ws)
            .env("TMPDIR", &sandboxes)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /health HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the service outlived `twelve run`"
    );
    assert!(sandboxes_in(&sandboxes).is_empty());
}

#[test]
fn run_puts_several_instances_behind_a_router() {
    let (_tmp, ws) = workspace();
    let port = free_port();
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_twelve"))
            .args(["run", "6", "--port", &port.to_string()])
            .current_dir(&ws)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Wait until both instances say they listen (their lines are labelled web.1, web.2).
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut listening = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while listening.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("both instances start");
        if line.contains("listening") {
            listening.insert(line.split(" | ").next().unwrap_or("").to_string());
        }
    }
    assert_eq!(
        listening.into_iter().collect::<Vec<_>>(),
        ["web.1", "web.2"]
    );
    wait_for_port(port);
    let request = |text: &str| {
        let mut reply = String::new();
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(text.as_bytes());
            let _ = s.read_to_string(&mut reply);
        }
        reply
    };
    let body = r#"{"url": "https://example.org/x"}"#;
    let created = request(&format!(
        "POST /links HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    let code = created
        .split("\"code\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    // The starter keeps links in each process's memory: one instance knows it, one does not.
    let statuses: Vec<String> = (0..2)
        .map(|_| request(&format!("GET /{code} HTTP/1.0\r\n\r\n"))[9..12].to_string())
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, ["302", "404"], "{statuses:?}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn lessons_verify_proves_the_built_in_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let _heavy = heavy();
    let r = Twelve::new(tmp.path()).args(&["lessons", "verify"]).run();
    eprintln!("lessons verify took {:?}\n{}", r.took, r.stdout);
    r.code(0)
        .stdout_has("starter fails")
        .stdout_has("solution passes all")
        .stdout_has("12 of 12 lessons verified");
    // Every lesson maps every rule its text states to a check, and carries at least a dozen
    // variants, right and wrong, each judged as declared.
    let variants = regex::Regex::new(
        r"(\d+) of (\d+) variants judged as declared \((\d+) right, (\d+) wrong\)",
    )
    .unwrap();
    let rules = regex::Regex::new(r"(\d+) of (\d+) rules enforced by a check").unwrap();
    let mut lessons = 0;
    for block in format!("\n{}", r.stdout).split("\nLesson ").skip(1) {
        lessons += 1;
        let head = block.lines().next().unwrap_or("");
        let v = variants
            .captures(block)
            .unwrap_or_else(|| panic!("lesson {head}: no variants line"));
        let n: usize = v[2].parse().unwrap();
        let (right, wrong): (usize, usize) = (v[3].parse().unwrap(), v[4].parse().unwrap());
        assert!(n >= 12, "lesson {head}: {n} variants");
        assert!(
            right >= 4 && wrong >= 4,
            "lesson {head}: {right} right, {wrong} wrong"
        );
        let k = rules
            .captures(block)
            .unwrap_or_else(|| panic!("lesson {head}: no rules listed"));
        assert_eq!(k[1], k[2], "lesson {head}: a rule without a check");
    }
    assert_eq!(lessons, 12);
}

#[test]
fn lessons_verify_runs_every_step_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("everything", tmp.path());
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons"])
        .args(&[pack.to_str().unwrap()])
        .run()
        .code(0)
        .stdout_has("starter fails `one-offs` as intended: secrets.txt is still there")
        .stdout_has("solution passes all 4 checks");
}

#[test]
fn the_grader_judges_variants_and_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("grader", tmp.path());
    let p = pack.to_str().unwrap();
    let r = Twelve::new(tmp.path())
        .args(&["lessons", "verify", "-v", "--lessons", p])
        .run();
    r.code(0)
        .stdout_has("3 of 3 rules enforced by a check")
        .stdout_has("8 of 8 variants judged as declared (1 right, 7 wrong)")
        .stdout_has("starter fails `concurrent` as intended: 20 hits sent at once")
        .stdout_has("read-then-write (wrong): fails `concurrent`");

    // A rule no check enforces fails verification, naming the rule.
    let toml = pack.join("lessons/01-counter/lesson.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text = text.replace(
        "[[checks]]\nid = \"concurrent\"",
        "[[rules]]\nrule = \"never sleeps\"\n\n[[checks]]\nid = \"concurrent\"",
    );
    std::fs::write(&toml, &text).unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--no-variants", "--lessons", p])
        .run()
        .code(1)
        .stdout_has("rule \"never sleeps\"")
        .stdout_has("is enforced by no check");

    // A variant whose edit does not match its base is a load error with file and line; so
    // is a variant naming an unknown check, and an include of a missing scenario.
    std::fs::write(
        pack.join("lessons/01-counter/variants/stale.toml"),
        "verdict = \"fail\"\nwhy = \"x\"\ncheck = \"nope\"\n\n[[edit]]\nfile = \"app.py\"\nfind = \"not in the file\"\nreplace = \"\"\n",
    )
    .unwrap();
    std::fs::write(
        &toml,
        text.replace("scenario = \"health\"", "scenario = \"wealth\""),
    )
    .unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p])
        .run()
        .code(2)
        .stderr_has("lessons/01-counter/variants/stale.toml:3: unknown check `nope`")
        .stderr_has(
            "lessons/01-counter/variants/stale.toml:5: edit of `app.py`: `find` occurs 0 times",
        )
        .stderr_has("includes scenario `wealth`, but there is no lessons/_scenarios/wealth.toml");
}

#[test]
fn pack_files_must_be_utf8_small_and_loop_free() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("everything", tmp.path());
    let p = pack.to_str().unwrap();
    let md = pack.join("lessons/01-everything/lesson.md");
    std::fs::write(&md, b"# Title\n\nsome text\n\xff\xfe broken\n").unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p])
        .run()
        .code(2)
        .stderr_has("lessons/01-everything/lesson.md:4: not UTF-8 text");
    std::fs::write(&md, "# Title\n").unwrap();

    let big = pack.join("sandbox-apps/01-everything/solution/big.bin");
    std::fs::write(&big, vec![b'x'; 5 << 20]).unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p])
        .run()
        .code(2)
        .stderr_has("is 5.0 MB; pack files are limited to 4 MB");
    std::fs::remove_file(&big).unwrap();

    std::os::unix::fs::symlink("..", pack.join("sandbox-apps/01-everything/solution/up")).unwrap();
    let r = Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p])
        .run();
    r.code(2).stderr_has("(a symlink loop)");
    assert!(r.stderr.lines().all(|l| l.len() < 400), "{}", r.stderr);
}

#[test]
fn authoring_mistakes_are_found_at_load_time() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("everything", tmp.path());
    let p = pack.to_str().unwrap();
    let toml = pack.join("lessons/01-everything/lesson.toml");
    let original = std::fs::read_to_string(&toml).unwrap();
    let mut text = original.replacen("check = \"one-offs\"", "check = \"one-of\"", 1);
    text = text.replacen("within = \"2s\"", "within = 2", 1);
    text.push_str(
        "\n[[checks]]\nid = \"scripted\"\ntitle = \"t\"\nwhy = \"w\"\n\n[[checks.steps]]\nkind = \"run\"\ncommand = \"python3 {checks}/jobs_dnoe.py\"\n",
    );
    std::fs::write(&toml, &text).unwrap();
    // The shared client is gone, but the service imports it.
    std::fs::remove_file(pack.join("sandbox-apps/_shared/kv.py")).unwrap();
    let r = Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p])
        .run();
    r.code(2)
        .stderr_has("lesson.toml:13: verify.starter_fails names an unknown check `one-of`")
        .stderr_has("a duration is a string with its unit, e.g. \"500ms\"")
        .stderr_has(
            "runs {checks}/jobs_dnoe.py, but there is no lessons/01-everything/checks/jobs_dnoe.py",
        )
        .stderr_has("imports kv, but the pack has no sandbox-apps/_shared/kv.py");
}

#[test]
fn a_broken_pack_is_reported_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = repo().join("tests/packs/broken");
    let r = Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", pack.to_str().unwrap()])
        .run();
    r.code(2);
    for want in [
        "lessons/01-broken/lesson.toml:7: unknown field `colour`",
        "lessons/02-worse/lesson.toml:16: check `one`, step 1 (http): placeholder `{saved.code}` refers to nothing",
        "sandbox-apps/02-worse/solution: missing or empty folder",
        "lessons/03-nothing/lesson.toml: missing file",
        "lessons/04-kinds/lesson.toml:11: `soon` is not a duration",
        "lessons/04-kinds/lesson.toml:21: check `one`, step 2 (teleport): unknown variant `teleport`",
    ] {
        r.stderr_has(want);
    }
}

#[test]
fn one_lesson_can_be_verified_while_another_is_broken() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("everything", tmp.path());
    // A lesson being written: its text exists, its lesson.toml not yet.
    std::fs::create_dir_all(pack.join("lessons/02-draft")).unwrap();
    std::fs::write(pack.join("lessons/02-draft/lesson.md"), "# Draft\n").unwrap();
    let p = pack.to_str().unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p, "1"])
        .run()
        .code(0)
        .stderr_has("other lessons are skipped")
        .stderr_has("lessons/02-draft/lesson.toml: missing file")
        .stdout_has("solution passes all 4 checks");
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", p])
        .run()
        .code(2)
        .stderr_has("lessons/02-draft/lesson.toml: missing file");
}

#[test]
fn ctrl_c_during_a_check_stops_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("hostile", tmp.path());
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    Twelve::new(tmp.path())
        .args(&["--lessons", pack.to_str().unwrap(), "init", "ws"])
        .run()
        .code(0);
    let marker = format!("marker-{}", std::process::id());
    std::fs::write(
        tmp.path().join("ws/01-hostile/Procfile"),
        format!("web: python3 app.py {marker}\n"),
    )
    .unwrap();
    let mut child = Background(
        std::process::Command::new(env!("CARGO_BIN_EXE_twelve"))
            .args(["check", "1"])
            .current_dir(tmp.path().join("ws"))
            .env("TMPDIR", &sandboxes)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_with(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the service never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let t = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?} to stop",
        t.elapsed()
    );
    assert_eq!(processes_with(&marker), Vec::<String>::new());
    assert_eq!(sandboxes_in(&sandboxes), Vec::<String>::new());
}

fn redis_server_installed() -> bool {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn every_lesson_holds_against_a_real_redis() {
    if !redis_server_installed() {
        eprintln!("skipped: redis-server is not installed (CI installs it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let _heavy = heavy();
    // Starters and solutions of every lesson, and the variants of the lessons that are about
    // the store, with each `kv` step starting a private redis-server.
    let r = Twelve::new(tmp.path())
        .args(&[
            "lessons",
            "verify",
            "--store",
            "redis-server",
            "--no-variants",
        ])
        .run();
    eprintln!("{}", r.stdout);
    r.code(0).stdout_has("12 of 12 lessons verified");
    Twelve::new(tmp.path())
        .env("TWELVE_STORE", "redis-server")
        .args(&["lessons", "verify", "4", "6"])
        .run()
        .code(0)
        .stdout_has("2 of 2 lessons verified");
}

#[test]
fn twelve_run_attaches_the_learners_own_redis() {
    use std::process::{Command, Stdio};
    if !redis_server_installed() {
        eprintln!("skipped: redis-server is not installed (CI installs it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let redis_port = twelve::sandbox::free_port().unwrap();
    let mut redis = Background(
        Command::new("redis-server")
            .args([
                "--port",
                &redis_port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(tmp.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    twelve::sandbox::copy_tree(
        &repo().join("sandbox-apps/04-backing-services/solution"),
        &tmp.path().join("ws/04-backing-services"),
    )
    .unwrap();
    let port = twelve::sandbox::free_port().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_twelve"))
        .args(["run", "4", "--port", &port.to_string()])
        .current_dir(tmp.path().join("ws"))
        .env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}/0"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Background(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !twelve::sandbox::port_open(port) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = r#"{"url": "https://example.org/attached"}"#;
    write!(
        s,
        "POST /links HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 201") || answer.starts_with("HTTP/1.1 201"),
        "{answer}"
    );
    // The real Redis holds the link.
    let mut r = TcpStream::connect(("127.0.0.1", redis_port)).unwrap();
    r.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").unwrap();
    let mut buf = [0u8; 32];
    let n = r.read(&mut buf).unwrap();
    let reply = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        reply.starts_with(':') && reply.trim() != ":0",
        "DBSIZE {reply}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let mut out = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.0.wait();
    assert!(out.contains("REDIS_URL from your environment"), "{out}");
    let _ = redis.kill();
}

#[test]
fn mode_prints_and_sets_challenge_which_strips_the_markers_and_reset_keeps_it() {
    let (_tmp, ws) = workspace();
    let app = ws.join("03-config/app.py");
    assert!(
        std::fs::read_to_string(&app)
            .unwrap()
            .contains("# Factor III")
    );
    Twelve::new(&ws)
        .args(&["mode"])
        .run()
        .code(0)
        .stdout_has("guided");
    Twelve::new(&ws)
        .args(&["mode", "challenge"])
        .run()
        .code(0)
        .stdout_has("challenge")
        .stdout_has("starter files you had not changed");
    assert!(
        !std::fs::read_to_string(&app)
            .unwrap()
            .contains("Factor III")
    );
    Twelve::new(&ws)
        .args(&["mode"])
        .run()
        .code(0)
        .stdout_has("challenge");
    std::fs::write(&app, "print('mine')\n").unwrap();
    Twelve::new(&ws)
        .args(&["reset", "3", "--yes"])
        .run()
        .code(0);
    let reset = std::fs::read_to_string(&app).unwrap();
    assert!(
        reset.contains("CONFIGS") && !reset.contains("Factor III"),
        "{reset}"
    );
    let config = std::fs::read_to_string(ws.join(".twelve/config.toml")).unwrap();
    assert!(config.contains("mode = \"challenge\""), "{config}");
    Twelve::new(&ws).args(&["mode", "guided"]).run().code(0);
    assert!(
        std::fs::read_to_string(&app)
            .unwrap()
            .contains("# Factor III")
    );
    Twelve::new(&ws).args(&["mode", "hard"]).run().code(2);
}

/// Lesson 1 deploys commits: in a workspace that is one repository (a classroom's), the lesson
/// is judged as a folder of it; a change not committed, or a repository of its own inside
/// the workspace's, fails `one-repository` with what to do.
#[test]
fn lesson_1_is_judged_in_the_workspace_repository() {
    let (_tmp, ws) = workspace();
    let lesson = ws.join("01-codebase");
    std::fs::remove_dir_all(&lesson).unwrap();
    super::harness::copy_dir(&repo().join("sandbox-apps/01-codebase/solution"), &lesson);
    super::harness::copy_dir(&repo().join("sandbox-apps/_shared"), &lesson);
    let git = |dir: &std::path::Path, script: &str| {
        twelve::sandbox::commit::run_setup(script, dir).unwrap();
    };
    let _heavy = heavy();
    Twelve::new(&ws)
        .args(&["check", "1"])
        .run()
        .code(1)
        .stdout_has("01-codebase is in no git repository")
        .stdout_has("git init");

    git(
        &ws,
        "git init -q && git add -A && git commit -qm 'the workspace'",
    );
    Twelve::new(&ws).args(&["check", "1"]).run().code(0);

    let app = lesson.join("app.py");
    let mut text = std::fs::read_to_string(&app).unwrap();
    text.push_str("\n# one more change\n");
    std::fs::write(&app, &text).unwrap();
    Twelve::new(&ws)
        .args(&["check", "1"])
        .run()
        .code(1)
        .stdout_has("not committed")
        .stdout_has("app.py (changed)");

    git(&ws, "git checkout -q -- 01-codebase/app.py");
    git(
        &lesson,
        "git init -q && git add -A && git commit -qm 'a repository of its own'",
    );
    Twelve::new(&ws)
        .args(&["check", "1"])
        .run()
        .code(1)
        .stdout_has("01-codebase has a repository of its own inside the repository at");
}

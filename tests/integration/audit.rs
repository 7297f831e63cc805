//! `twelve audit`: the course's probes on apps that are not lessons. The lessons' starters
//! and solutions (run with generic settings only, no hints about the lesson), small apps in
//! other languages (tests/apps), and an app whose processes misbehave every way they can.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::harness::{Ran, Twelve, heavy, processes_with, repo};

/// Each factor's verdict, by number.
type Verdicts = BTreeMap<u8, String>;

/// `dir` as a fresh git repository with one commit.
fn git_repo(dir: &Path) {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "the app"]);
}

/// A test app from tests/apps/NAME, copied to `tmp` as a git repository.
fn test_app(name: &str, tmp: &Path) -> PathBuf {
    let dst = tmp.join(name);
    twelve::sandbox::copy_tree(&repo().join("tests/apps").join(name), &dst).unwrap();
    dst
}

/// The generic settings every lesson app gets: nothing says which lesson it is.
const GENERIC: [&str; 8] = [
    "--kv",
    "REDIS_URL",
    "--env",
    "SECRET_KEY=audit-secret-4f1c9e",
    "--env",
    "DATABASE_URL=sqlite:///{sandbox}/db.sqlite",
    "--env",
    "BASE_URL=https://sho.rt",
];

/// Audit `dir` (`--format json`), returning the run and each factor's verdict.
#[track_caller]
fn audit(dir: &Path, args: &[&str], tmp: &Path) -> (Ran, Verdicts, serde_json::Value) {
    let r = Twelve::new(dir.parent().unwrap())
        .args(&["audit", dir.to_str().unwrap(), "--format", "json"])
        .args(args)
        .env("TMPDIR", tmp)
        .run();
    assert!(
        r.code == 0 || r.code == 1,
        "exit {}\n{}\n{}",
        r.code,
        r.stdout,
        r.stderr
    );
    let doc = r.json();
    assert_eq!(doc["schema"], 1);
    let verdicts = doc["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                u8::try_from(f["factor"].as_u64().unwrap()).unwrap(),
                f["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (r, verdicts, doc)
}

/// A scorecard line per app, and the evidence of what did not pass, for the test's output.
fn scorecard(name: &str, doc: &serde_json::Value) -> String {
    let mut line = format!("{name:<34}");
    let mut details = String::new();
    for f in doc["factors"].as_array().unwrap() {
        let v = f["verdict"].as_str().unwrap();
        let short = match v {
            "pass" => "p",
            "fail" => "F",
            "warn" => "w",
            _ => "?",
        };
        line.push_str(&format!(" {:>2}:{short}", f["factor"]));
        if v == "fail" || v == "warn" {
            for e in f["evidence"].as_array().unwrap() {
                if e["level"] == v {
                    details.push_str(&format!(
                        "      {:>2} {v}: {}\n",
                        f["factor"],
                        e["text"].as_str().unwrap()
                    ));
                }
            }
        }
    }
    format!("{line}\n{details}")
}

/// Twelve-folders left in `tmp` by the audit (its copy of the app, the probes' sandboxes).
fn leftovers(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("twelve-"))
        .collect()
}

/// Every lesson's reference solution gets no `fail`; every starter gets its own factor as
/// `fail` (at least 9 of 12) and never as `pass`. Nothing tells the audit which lesson an
/// app is: each runs with the same generic settings.
#[test]
fn lesson_solutions_pass_and_starters_fail_their_factor() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().unwrap();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    let pack = twelve::lesson::Pack::embedded().expect("the built-in lessons load");
    let mut jobs: Vec<(String, u8, bool, PathBuf)> = Vec::new();
    for lesson in &pack.lessons {
        for (which, files) in [("solution", &lesson.solution), ("starter", &lesson.starter)] {
            let dir = tmp.path().join(format!("{}-{which}", lesson.dir_name));
            twelve::sandbox::write_files(&dir, files.iter().chain(pack.shared.iter())).unwrap();
            git_repo(&dir);
            jobs.push((
                format!("{}-{which}", lesson.dir_name),
                lesson.factor.unwrap_or(0),
                which == "starter",
                dir,
            ));
        }
    }
    // Two audits at a time: each runs its own probes in parallel too.
    let results: std::sync::Mutex<Vec<(usize, Verdicts, String)>> = std::sync::Mutex::default();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((name, _, _, dir)) = jobs.get(i) else {
                        break;
                    };
                    let (_, verdicts, doc) = audit(dir, &GENERIC, &sandboxes);
                    let card = scorecard(name, &doc);
                    results.lock().unwrap().push((i, verdicts, card));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let mut problems = Vec::new();
    let mut own_fails = 0;
    for (i, verdicts, card) in &results {
        print!("{card}");
        let (name, factor, starter, _) = &jobs[*i];
        let own = verdicts.get(factor).map_or("missing", String::as_str);
        if *starter {
            if own == "fail" {
                own_fails += 1;
            }
            if own == "pass" {
                problems.push(format!("{name}: factor {factor} passed on the starter"));
            }
        } else {
            for (f, v) in verdicts {
                if v == "fail" {
                    problems.push(format!("{name}: factor {f} failed on the solution"));
                }
            }
        }
    }
    println!(
        "starters failing their own factor: {own_fails} of {}",
        pack.lessons.len()
    );
    assert!(problems.is_empty(), "{problems:#?}");
    // Lesson 7's starter hands its web process to a gunicorn that is not there: the audit
    // cannot start it, so factor VII is unknown there (never "pass", checked above).
    assert!(
        own_fails >= 8,
        "only {own_fails} starters failed their own factor"
    );
    assert_eq!(leftovers(&sandboxes), Vec::<String>::new(), "folders left");
}

/// A Node.js app (standard library only) that honours the factors gets no `fail`; the same
/// app with a port written in the code, a log file and no SIGTERM handling fails VII, XI, IX.
#[test]
fn node_app_and_its_broken_variant() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: node is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();

    let good = test_app("node-good", tmp.path());
    git_repo(&good);
    let (r, v, doc) = audit(&good, &["--env", "SECRET_KEY=node-secret-7a1b"], &sandboxes);
    print!("{}", scorecard("node-good", &doc));
    r.code(0);
    assert!(v.values().all(|v| v != "fail"), "{v:?}");
    for f in [3, 6, 7, 8, 9, 11] {
        assert_eq!(
            v[&f],
            "pass",
            "factor {f}:\n{}",
            scorecard("node-good", &doc)
        );
    }
    let ix = doc["factors"][8]["evidence"].to_string();
    assert!(
        ix.contains("request in flight at SIGTERM was answered"),
        "{ix}"
    );

    let bad = test_app("node-bad", tmp.path());
    git_repo(&bad);
    let (r, v, doc) = audit(&bad, &[], &sandboxes);
    print!("{}", scorecard("node-bad", &doc));
    r.code(1);
    for f in [7, 9, 11] {
        assert_eq!(
            v[&f],
            "fail",
            "factor {f}:\n{}",
            scorecard("node-bad", &doc)
        );
    }
    let text = doc.to_string();
    assert!(text.contains("it listens on 47913 instead"), "{text}");
    assert!(text.contains("notes.log"), "{text}");
    assert!(text.contains("killed by SIGTERM"), "{text}");
    assert_eq!(leftovers(&sandboxes), Vec::<String>::new(), "folders left");
}

/// A declared `[state]` probe makes Processes decidable: state in process memory fails,
/// state in the shared store passes (lesson 6's starter and solution, told how to store a
/// link and read it back).
#[test]
fn state_probe_tells_shared_state_from_process_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    let pack = twelve::lesson::Pack::embedded().expect("the built-in lessons load");
    let lesson = pack.find("6").expect("lesson 6");
    let toml = "health = \"/health\"\n\n[state]\n\
                write = { path = \"/links\", json = { url = \"https://example.org/{token}\" } }\n\
                save = \"json.code\"\nread = \"/links/{saved}\"\nexpect = \"{token}\"\n";
    for (which, files, want) in [
        ("starter", &lesson.starter, "fail"),
        ("solution", &lesson.solution, "pass"),
    ] {
        let dir = tmp.path().join(which);
        twelve::sandbox::write_files(&dir, files.iter().chain(pack.shared.iter())).unwrap();
        std::fs::write(dir.join("twelve.toml"), toml).unwrap();
        git_repo(&dir);
        let (_, v, doc) = audit(
            &dir,
            &[
                "--only",
                "6",
                "--kv",
                "REDIS_URL",
                "--env",
                "SECRET_KEY=k-93b1c0",
            ],
            &sandboxes,
        );
        print!("{}", scorecard(which, &doc));
        assert_eq!(v[&6], want, "{which}: {doc:#}");
    }
    assert_eq!(leftovers(&sandboxes), Vec::<String>::new(), "folders left");
}

/// One more language, when its toolchain is on this machine.
#[test]
fn go_app_when_go_is_installed() {
    let Some(go) = which("go") else {
        eprintln!("skipped: `go version` failed (Go is not installed)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    let app = test_app("go-good", tmp.path());
    git_repo(&app);
    let cache = tmp.path().join("gocache");
    let path = format!("PATH={}", go.parent().unwrap().display());
    let gocache = format!("GOCACHE={}", cache.display());
    let gopath = format!("GOPATH={}", tmp.path().join("gopath").display());
    let (_, v, doc) = audit(
        &app,
        &[
            "--env",
            "SECRET_KEY=go-secret-9c2d",
            "--env",
            &path,
            "--env",
            &gocache,
            "--env",
            &gopath,
        ],
        &sandboxes,
    );
    print!("{}", scorecard("go-good", &doc));
    assert!(v.values().all(|v| v != "fail"), "{v:?}");
    for f in [7, 9, 11] {
        assert_eq!(v[&f], "pass", "factor {f}");
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("command -v {tool} && {tool} version >/dev/null 2>&1"),
        ])
        .output()
        .ok()?;
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .to_string();
    (out.status.success() && !first.is_empty()).then(|| PathBuf::from(first))
}

/// Processes that spin, flood their output, ignore SIGTERM and fork out of their group: the
/// audit still ends in bounded time, and leaves nothing running and nothing in TMPDIR.
#[test]
fn misbehaving_processes_end_in_bounded_time_and_leave_nothing() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().unwrap();
    let sandboxes = tmp.path().join("tmp");
    std::fs::create_dir_all(&sandboxes).unwrap();
    let app = test_app("hostile", tmp.path());
    let marker = format!("audit-hostile-{}", std::process::id());
    std::fs::write(
        app.join("Procfile"),
        format!("web: python3 web.py {marker}\nworker: python3 worker.py {marker}\n"),
    )
    .unwrap();
    git_repo(&app);
    let (r, v, doc) = audit(&app, &[], &sandboxes);
    print!("{}", scorecard("hostile", &doc));
    r.code(1);
    assert!(r.took < Duration::from_secs(150), "took {:?}", r.took);
    assert_eq!(v[&9], "fail", "SIGTERM is ignored");
    // The sandbox sweeps what it started; give the kernel a moment to reap.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while !processes_with(&marker).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        processes_with(&marker),
        Vec::<String>::new(),
        "processes left"
    );
    assert_eq!(leftovers(&sandboxes), Vec::<String>::new(), "folders left");
}

/// Usage errors exit 2; every format reports the same verdicts.
#[test]
fn usage_errors_and_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    Twelve::new(tmp.path())
        .args(&["audit", empty.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("has no Procfile");
    let app = test_app("node-bad", tmp.path());
    Twelve::new(tmp.path())
        .args(&["audit", app.to_str().unwrap(), "--only", "13"])
        .run()
        .code(2);
    Twelve::new(tmp.path())
        .args(&["audit", app.to_str().unwrap(), "--env", "nope"])
        .run()
        .code(2);
    std::fs::write(app.join("twelve.toml"), "health = 3\n").unwrap();
    Twelve::new(tmp.path())
        .args(&["audit", app.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("twelve.toml:1");
    std::fs::write(app.join("twelve.toml"), "required = [\"API_TOKEN\"]\n").unwrap();
    Twelve::new(tmp.path())
        .args(&["audit", app.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("API_TOKEN");
    std::fs::remove_file(app.join("twelve.toml")).unwrap();
    // Static factors only: no git repository holds this copy, so I fails.
    let only = ["--only", "1,2,4"];
    let human = Twelve::new(tmp.path())
        .args(&["audit", app.to_str().unwrap()])
        .args(&only)
        .run();
    human.code(1).stdout_has("I     Codebase              FAIL");
    assert!(!human.stdout.contains("Port binding"), "{}", human.stdout);
    for (format, want) in [
        (
            "junit",
            "<testcase classname=\"twelve.audit\" name=\"I Codebase\">",
        ),
        ("md", "| I | Codebase | **fail** |"),
        ("json", "\"name\": \"Dependencies\""),
    ] {
        Twelve::new(tmp.path())
            .args(&["audit", app.to_str().unwrap(), "--format", format])
            .args(&only)
            .run()
            .code(1)
            .stdout_has(want);
    }
}

//! Classrooms: the reports CI systems and graders read, the templates `init --classroom`
//! writes (parsed, and their commands run), a learner's report and an instructor's roll-up.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::harness::{Twelve, copy_dir, heavy, repo, solve, test_pack};

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_twelve"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// PATH with the `twelve` under test first, as CI would have it after installing.
fn path_with_twelve() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn lesson_dirs() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("lessons"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    v.sort();
    v
}

/// Run a Python snippet (stdlib only) with arguments; its stdout, or a panic with its stderr.
#[track_caller]
fn python(code: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Well-formed XML, with the JUnit totals adding up.
const JUNIT_CHECK: &str = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
for attr in ("tests", "failures", "errors", "skipped"):
    total = sum(int(s.get(attr)) for s in root.findall("testsuite"))
    assert int(root.get(attr)) == total, (attr, root.get(attr), total)
for s in root.findall("testsuite"):
    assert int(s.get("tests")) == len(s.findall("testcase")), s.get("name")
    assert int(s.get("skipped")) == len(s.findall("testcase/skipped"))
names = [c.get("classname") + "/" + c.get("name") for c in root.iter("testcase")]
assert len(names) == len(set(names)), "test names repeat"
print("\n".join(names))
"#;

/// Balanced tags, nothing loaded from elsewhere: a self-contained page.
const HTML_CHECK: &str = r#"
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "circle", "path", "line"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.tags = set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            assert not (k in ("src", "href") and v and "://" in v), (tag, k, v)
        if tag not in VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
    def handle_endtag(self, tag):
        if tag in VOID: return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
assert not p.stack, p.stack
for t in ("script", "link", "iframe", "img"):
    assert t not in p.tags, t
assert "svg" in p.tags and "style" in p.tags
print("ok")
"#;

/// When a headless browser is on PATH, a screenshot of the page into the test's output folder;
/// otherwise a message saying the check was skipped.
fn screenshot(page: &Path, name: &str) {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .any(|d| d.join(b).is_file())
        });
    let Some(browser) = browser else {
        eprintln!(
            "skipped: no chromium, chromium-browser or google-chrome on PATH to render {name}"
        );
        return;
    };
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("classroom");
    std::fs::create_dir_all(&out_dir).unwrap();
    let png = out_dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    let status = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,1600",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("the browser starts");
    assert!(
        png.is_file() && std::fs::metadata(&png).unwrap().len() > 1000,
        "{browser} made no screenshot of {name}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    eprintln!("screenshot of {name}: {}", png.display());
}

#[test]
fn junit_holds_the_traceback_of_a_failing_lesson_under_stable_names() {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    let ws = tmp.path().join("ws");
    let app = ws.join("07-port-binding/app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, format!("import twelve_missing_module\n{text}")).unwrap();
    // The starter's Procfile hands app.py to a gunicorn that is not installed; run it.
    std::fs::write(ws.join("07-port-binding/Procfile"), "web: python3 app.py\n").unwrap();
    let mut names = Vec::new();
    for run in 0..2 {
        let r = Twelve::new(&ws)
            .args(&["check", "7", "--format", "junit"])
            .run();
        r.code(1)
            .stdout_has("<failure message=")
            .stdout_has("Traceback (most recent call last):")
            .stdout_has("ModuleNotFoundError: No module named 'twelve_missing_module'")
            .stdout_has("to reproduce by hand:");
        let file = tmp.path().join(format!("junit-{run}.xml"));
        std::fs::write(&file, &r.stdout).unwrap();
        names.push(python(JUNIT_CHECK, &[file.to_str().unwrap()]));
    }
    assert_eq!(names[0], names[1], "test names changed between runs");
    let port = regex::Regex::new(r"\d{4,}").unwrap();
    assert!(
        !port.is_match(&names[0]),
        "a number in a name: {}",
        names[0]
    );
}

#[test]
fn json_reports_carry_a_schema_and_the_progress_recorded_before() {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    let ws = tmp.path().join("ws");
    Twelve::new(&ws).args(&["hint", "7"]).run().code(0);
    let r = Twelve::new(&ws)
        .args(&["check", "7", "--format", "json", "--save", "md=summary.md"])
        .run();
    r.code(1);
    let j = r.json();
    assert_eq!(j["schema"], 1);
    assert_eq!(j["kind"], "check");
    assert_eq!(j["origin"]["where"], "local", "{}", j["origin"]);
    assert_eq!(j["totals"]["lessons"], 1);
    assert_eq!(j["lessons"][0]["lesson"], "07-port-binding");
    let p7 = j["progress"]["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lesson"] == "07-port-binding")
        .unwrap();
    assert_eq!(p7["hints_revealed"], 1);
    assert_eq!(
        p7["attempts"], 0,
        "the progress is as it was before this run"
    );
    assert!(
        j["progress"]["trust"]
            .as_str()
            .unwrap()
            .contains("self-reported")
    );
    let md = std::fs::read_to_string(ws.join("summary.md")).unwrap();
    assert!(md.contains("0/1 lessons passed"), "{md}");

    // A typo in --save or --grading costs nothing: no check runs.
    Twelve::new(&ws)
        .args(&["check", "7", "--save", "jsn=x.json"])
        .run()
        .code(2)
        .stderr_has("unknown format `jsn`");
    std::fs::write(ws.join("g.toml"), "[lessons]\nconfg = 3\n").unwrap();
    Twelve::new(&ws)
        .args(&[
            "check",
            "7",
            "--format",
            "gradescope",
            "--grading",
            "g.toml",
        ])
        .run()
        .code(2)
        .stderr_has("confg");
}

/// `twelve ...` commands written in a template, without comments.
fn twelve_commands(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"(?:^|[\s;&|(`])(twelve\s+[a-z][^\n|>&;]*)").unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| {
            re.captures_iter(l)
                .map(|c| c[1].trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every command exists, and every flag it uses is one `--help` lists (with its value, for
/// `--format` and `--save`).
#[track_caller]
fn commands_exist(text: &str, dir: &Path) -> usize {
    let commands = twelve_commands(text);
    for c in &commands {
        let words: Vec<&str> = c.split_whitespace().collect();
        let sub = words[1];
        let help = Twelve::new(dir).args(&[sub, "--help"]).run();
        help.code(0);
        for (i, w) in words.iter().enumerate() {
            if let Some(flag) = w.strip_prefix("--") {
                let flag = flag.split('=').next().unwrap();
                help.stdout_has(&format!("--{flag}"));
                if flag == "format" || flag == "save" {
                    let value = words[i + 1].split('=').next().unwrap();
                    help.stdout_has(value);
                }
            }
        }
    }
    commands.len()
}

/// Parse YAML with Python's yaml when there is one; print that it was skipped otherwise.
fn yaml_keys(file: &Path, path: &str) -> Option<String> {
    let probe = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .ok()?;
    if !probe.status.success() {
        eprintln!(
            "skipped: python3 has no yaml module to parse {}",
            file.display()
        );
        return None;
    }
    Some(python(
        &format!(
            "import sys, yaml, json\nd = yaml.safe_load(open(sys.argv[1]))\nfor k in {path:?}.split('.'):\n    d = d[True if k == 'on' and True in d else (int(k) if k.isdigit() else k)]\nprint(json.dumps(d))"
        ),
        &[file.to_str().unwrap()],
    ))
}

/// Run a template's check line in a workspace of a small pack, as CI would.
#[track_caller]
fn run_check_line(line: &str, ws: &Path) {
    let out = Command::new("bash")
        .args(["-c", line])
        .current_dir(ws)
        .env("PATH", path_with_twelve())
        .env_remove("TWELVE_LESSONS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    // 0 or 1: the lesson's starter fails some checks; both leave complete reports.
    assert!(
        out.status.code().unwrap_or(99) <= 1,
        "`{line}` ended with {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    python(
        JUNIT_CHECK,
        &[ws.join("twelve-junit.xml").to_str().unwrap()],
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("twelve-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["schema"], 1);
    let md = std::fs::read_to_string(ws.join("twelve-summary.md")).unwrap();
    assert!(md.starts_with("## twelve:"), "{md}");
}

#[test]
fn init_classroom_github_writes_a_workflow_that_parses_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("grader", tmp.path());
    let p = pack.to_str().unwrap();
    let r = Twelve::new(tmp.path())
        .args(&["--lessons", p, "init", "ws", "--classroom", "github"])
        .args(&["--twelve-git", "https://example.org/twelve.git"])
        .run();
    r.code(0).stdout_has(".github/workflows/twelve.yml");
    let ws = tmp.path().join("ws");
    let file = ws.join(".github/workflows/twelve.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("TWELVE_GIT: \"https://example.org/twelve.git\""));
    assert!(!text.contains("@TWELVE_"));
    assert!(ws.join(".gitignore").is_file());
    // Structure, without a YAML parser: the keys GitHub needs, spaces only.
    for key in [
        "\non:\n",
        "\njobs:\n",
        "    runs-on: ubuntu-latest\n",
        "GITHUB_STEP_SUMMARY",
        "upload-artifact",
    ] {
        assert!(text.contains(key), "the workflow lacks {key:?}");
    }
    assert!(!text.contains('\t'));
    if let Some(steps) = yaml_keys(&file, "jobs.check.steps") {
        let steps: serde_json::Value = serde_json::from_str(&steps).unwrap();
        let steps = steps.as_array().unwrap();
        assert!(
            steps
                .iter()
                .all(|s| s.get("uses").is_some() || s.get("run").is_some())
        );
        assert!(steps.iter().any(|s| s["uses"] == "actions/checkout@v4"));
        yaml_keys(&file, "on").unwrap();
    }
    assert!(commands_exist(&text, &ws) >= 1);
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("run: twelve check"))
        .map(|rest| format!("twelve check{rest}"))
        .expect("a step runs twelve check");
    run_check_line(&line, &ws);
    // Run again on an existing workspace: the files are kept.
    Twelve::new(tmp.path())
        .args(&["--lessons", p, "init", "ws", "--classroom", "github"])
        .run()
        .code(0)
        .stdout_has("Kept");
}

#[test]
fn init_classroom_gitlab_writes_a_pipeline_with_a_junit_report() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("grader", tmp.path());
    let p = pack.to_str().unwrap();
    Twelve::new(tmp.path())
        .args(&["--lessons", p, "init", "ws", "--classroom", "gitlab"])
        .run()
        .code(0)
        .stderr_has("--twelve-git URL");
    let ws = tmp.path().join("ws");
    let file = ws.join(".gitlab-ci.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    for key in [
        "\ntwelve:\n",
        "  script:\n",
        "    reports:\n      junit: twelve-junit.xml\n",
    ] {
        assert!(text.contains(key), "the pipeline lacks {key:?}");
    }
    if let Some(junit) = yaml_keys(&file, "twelve.artifacts.reports.junit") {
        assert_eq!(junit.trim(), "\"twelve-junit.xml\"");
        yaml_keys(&file, "twelve.script").unwrap();
    }
    assert!(commands_exist(&text, &ws) >= 1);
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("- twelve check"))
        .map(|rest| format!("twelve check{rest}"))
        .expect("the script runs twelve check");
    run_check_line(&line, &ws);
}

#[test]
fn gradescope_on_a_half_solved_workspace_gives_scores_that_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path())
        .args(&["init", "ws", "--classroom", "gradescope"])
        .run()
        .code(0)
        .stdout_has("gradescope/run_autograder");
    let ws = tmp.path().join("ws");
    let lessons = lesson_dirs();
    // Lessons 1-6 solved; 7 as well, because its starter listens on 8080 whatever PORT says
    // and would race other tests' lesson-7 starters for that port.
    let half = lessons.len() / 2 + 1;
    for l in &lessons[..half] {
        solve(&ws, l);
    }
    // Gradescope's layout: the autograder zip in source/, the learner's files in submission/
    // (here nested one level, as an upload of the folder would be).
    let ag = tmp.path().join("autograder");
    let scripts = ws.join("gradescope");
    for f in ["setup.sh", "run_autograder"] {
        let text = std::fs::read_to_string(scripts.join(f)).unwrap();
        let n = Command::new("bash")
            .args(["-n"])
            .arg(scripts.join(f))
            .status()
            .unwrap();
        assert!(n.success(), "{f} is not valid bash");
        commands_exist(&text, &ws);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(scripts.join(f)).unwrap().permissions(),
        );
        assert!(mode & 0o111 != 0, "{f} is not executable");
    }
    std::fs::create_dir_all(ag.join("source")).unwrap();
    std::fs::copy(scripts.join("grading.toml"), ag.join("source/grading.toml")).unwrap();
    copy_dir(&ws, &ag.join("submission/my-work"));
    // A learner's own grading file is not used.
    std::fs::write(
        ag.join("submission/my-work/.twelve/grading.toml"),
        "points = 1000\n",
    )
    .unwrap();
    let _heavy = heavy();
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(scripts.join("run_autograder"))
        .env("AUTOGRADER", &ag)
        .env("PATH", path_with_twelve())
        .env_remove("TWELVE_LESSONS")
        .output()
        .unwrap();
    eprintln!(
        "run_autograder on {} lessons took {:?}",
        lessons.len(),
        started.elapsed()
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(ag.join("results/results.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tests = r["tests"].as_array().unwrap();
    assert!(!tests.is_empty(), "no tests: {text}");
    let sum: f64 = tests.iter().map(|t| t["score"].as_f64().unwrap()).sum();
    let max: f64 = tests.iter().map(|t| t["max_score"].as_f64().unwrap()).sum();
    let score = r["score"].as_f64().unwrap();
    assert!(
        (sum - score).abs() < 1e-6,
        "tests add up to {sum}, score is {score}"
    );
    // grading.toml: 10 points a lesson, split over its checks.
    assert!((max - 10.0 * lessons.len() as f64).abs() < 1e-6, "{max}");
    for t in tests {
        for k in ["name", "number", "status", "output", "visibility"] {
            assert!(t[k].is_string(), "{k} in {t}");
        }
        let lesson: usize = t["number"]
            .as_str()
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        if lesson <= half {
            assert_eq!(t["status"], "passed", "{t}");
            assert_eq!(t["score"], t["max_score"]);
        }
    }
    assert!(
        score >= 10.0 * half as f64 - 1e-6 && score < max,
        "half solved scored {score} of {max}"
    );
    assert!(r["execution_time"].is_u64());
    eprintln!("gradescope: {score} of {max} points, {} tests", tests.len());
}

/// A progress file with some lessons passed after a few tries.
fn write_progress(ws: &Path, passed: &[(&str, u32)], stuck: &[(&str, &str)]) {
    let mut s = String::from("started = \"2025-03-01T09:00:00Z\"\n");
    for (i, (lesson, before)) in passed.iter().enumerate() {
        s.push_str(&format!(
            "\n[lessons.{lesson}]\nstatus = \"passed\"\nattempts = {}\nhints_revealed = 1\nfirst_pass = \"2025-03-01T{:02}:30:00Z\"\nchecks_before_pass = {before}\n",
            before + 1,
            10 + i
        ));
    }
    for (lesson, problem) in stuck {
        s.push_str(&format!(
            "\n[lessons.{lesson}]\nstatus = \"attempted\"\nattempts = 3\nlast_result = \"1/4 checks passed; first problem: {problem}\"\n"
        ));
    }
    std::fs::write(ws.join(".twelve/progress.toml"), s).unwrap();
}

#[test]
fn a_learner_report_renders_as_markdown_html_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    let ws = tmp.path().join("ws");
    write_progress(
        &ws,
        &[("01-codebase", 0), ("02-dependencies", 3), ("03-config", 1)],
        &[(
            "04-backing-services",
            "Without REDIS_URL the service stops, naming it",
        )],
    );
    Twelve::new(&ws)
        .args(&["report"])
        .run()
        .code(0)
        .stdout_has("**Self-reported.**")
        .stdout_has("3/")
        .stdout_has("| 2 | Dependencies")
        .stdout_has("1 h 30 min");
    let r = Twelve::new(&ws).args(&["report", "--format", "json"]).run();
    r.code(0);
    let j = r.json();
    assert_eq!(j["kind"], "progress");
    assert_eq!(j["lessons"][1]["checks_before_pass"], 3);
    assert_eq!(j["lessons"][1]["since_start_s"], 9000);
    let r = Twelve::new(&ws).args(&["report", "--format", "html"]).run();
    r.code(0).stdout_has("<svg").stdout_has("can edit");
    let page = tmp.path().join("report.html");
    std::fs::write(&page, &r.stdout).unwrap();
    python(HTML_CHECK, &[page.to_str().unwrap()]);
    screenshot(&page, "report");
}

#[test]
fn the_class_roll_up_of_100_learners_is_quick_and_finds_where_they_are_stuck() {
    use twelve::check::{CheckReport, Failure, LessonReport, Outcome};
    use twelve::classroom::envelope::{CheckRun, Document, RecordedProgress, Totals};
    use twelve::classroom::learner::LessonRow;
    use twelve::classroom::origin::{Origin, Where};
    use twelve::workspace::Status;
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("artifacts");
    let checks = ["smoke", "fail-fast", "two-deploys", "secret-from-env"];
    let generated = Instant::now();
    for i in 0..100_u32 {
        // Learner i has passed the lessons below `reached` and is working on `reached`,
        // failing mostly fail-fast (with a port in the message); later lessons are untouched
        // starters, which fail their smoke check.
        let reached = 1 + (i % 12) as u8;
        let stuck_on = if i % 5 == 0 { 2 } else { 1 };
        let mut lessons = Vec::new();
        let mut rows = Vec::new();
        for n in 1..=12_u8 {
            let cs: Vec<CheckReport> = checks
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let failing = (n == reached && k == stuck_on) || (n > reached && k == 0);
                    CheckReport {
                        id: (*id).to_string(),
                        title: format!("Check {id}"),
                        why: "why".into(),
                        outcome: if failing {
                            Outcome::Failed
                        } else {
                            Outcome::Passed
                        },
                        duration_ms: 100,
                        failure: failing.then(|| Failure {
                            step: 1,
                            kind: "start".into(),
                            line: 10,
                            message: format!("no answer on port {} after 500 ms", 40000 + i),
                            detail: None,
                            expected: String::new(),
                            observed: String::new(),
                            outputs: Vec::new(),
                        }),
                        transcript: vec![format!("PORT={} python3 app.py", 40000 + i); 20],
                    }
                })
                .collect();
            let status = match n.cmp(&reached) {
                std::cmp::Ordering::Less => Status::Passed,
                std::cmp::Ordering::Equal => Status::Attempted,
                std::cmp::Ordering::Greater => Status::NotStarted,
            };
            rows.push(LessonRow {
                number: n,
                lesson: format!("{n:02}-lesson"),
                factor_name: String::new(),
                title: format!("Lesson {n}"),
                status,
                attempts: i % 4 + 1,
                checks_before_pass: (status == Status::Passed).then_some(i % 4),
                hints_revealed: 0,
                hints_total: None,
                hints_at_pass: None,
                first_checked: None,
                first_pass: None,
                since_start_s: None,
                last_checked: None,
                last_result: None,
                last_passed: None,
            });
            lessons.push(LessonReport {
                number: n,
                lesson: format!("{n:02}-lesson"),
                title: format!("Lesson {n}"),
                outcome: LessonReport::combine(&cs),
                duration_ms: 400,
                checks: cs,
            });
        }
        let run = CheckRun {
            schema: 1,
            twelve: "test".into(),
            generated: "2025-03-01T12:00:00Z".into(),
            learner: None,
            origin: Origin {
                place: if i % 10 == 0 { Where::Local } else { Where::Ci },
                system: Some("github".into()),
                commit: None,
                run_url: None,
            },
            totals: Totals::of(&lessons),
            lessons,
            progress: Some(RecordedProgress {
                trust: "self-reported".into(),
                started: None,
                lessons: rows,
            }),
        };
        let dir = reports.join(format!("learner-{i:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("twelve-report.json"),
            serde_json::to_string(&Document::Check(run)).unwrap(),
        )
        .unwrap();
    }
    // Two cloned workspaces too.
    for name in ["zoe", "yann"] {
        Twelve::new(tmp.path()).args(&["init", name]).run().code(0);
        write_progress(
            &tmp.path().join(name),
            &[("01-codebase", 2)],
            &[(
                "03-config",
                "A missing setting stops the service at once, by name",
            )],
        );
    }
    let size: u64 = walk_size(&reports);
    eprintln!(
        "generated 100 reports ({} KB) in {:?}",
        size / 1024,
        generated.elapsed()
    );
    let a = reports.to_str().unwrap();
    let zoe = tmp.path().join("zoe");
    let yann = tmp.path().join("yann");
    let mut outputs = Vec::new();
    for format in ["csv", "md", "html", "json"] {
        let r = Twelve::new(tmp.path())
            .args(&["class", a, zoe.to_str().unwrap(), yann.to_str().unwrap()])
            .args(&["--format", format])
            .run();
        r.code(0);
        eprintln!(
            "twelve class, 100 reports + 2 workspaces, --format {format}: {:?}",
            r.took
        );
        outputs.push(r.stdout);
    }
    let csv = &outputs[0];
    assert_eq!(csv.lines().count(), 1 + 102, "{csv}");
    assert!(
        csv.starts_with("learner,trust,passed,01-codebase,01-lesson,"),
        "{csv}"
    );
    assert!(csv.contains("\nlearner-000,self-reported,0,"), "{csv}");
    assert!(csv.contains("\nlearner-001,ci,1,"), "{csv}");
    assert!(csv.contains("\nzoe,self-reported,1,passed,,"), "{csv}");
    let md = &outputs[1];
    assert!(md.contains("## Where the class is stuck"), "{md}");
    // Lesson 1: learners 0, 12, ... 96 work on it; 7 of the 9 fail on fail-fast, with messages
    // that differ only in the port (one message). Untouched starters are not "stuck".
    assert!(
        md.contains(
            "**Lesson 1 · Lesson 1**: 7 learners on “Check fail-fast”: no answer on port 400"
        ),
        "{md}"
    );
    // Passed lesson 1: 91 learners; checks before passing i % 4 over them.
    assert!(md.contains("| 1 · Lesson 1 | 91/102 | "), "{md}");
    let page = tmp.path().join("class.html");
    std::fs::write(&page, &outputs[2]).unwrap();
    python(HTML_CHECK, &[page.to_str().unwrap()]);
    screenshot(&page, "class");
    let j: serde_json::Value = serde_json::from_str(&outputs[3]).unwrap();
    assert_eq!(j["kind"], "class");
    assert_eq!(j["learners"].as_array().unwrap().len(), 102);
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk_size(&p)
            } else {
                std::fs::metadata(&p).map_or(0, |m| m.len())
            }
        })
        .sum()
}

#[test]
fn lesson_notes_show_what_to_discuss_and_the_wrong_fixes() {
    let tmp = tempfile::tempdir().unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "notes", "3"])
        .run()
        .code(0)
        .stdout_has("## Questions to discuss")
        .stdout_has("## Wrong fixes the checks reject")
        .stdout_has("**secret-default**");
    // A pack from a folder: its own notes.md, or a line saying there is none.
    let pack = test_pack("grader", tmp.path());
    let p = pack.to_str().unwrap();
    Twelve::new(tmp.path())
        .args(&["--lessons", p, "lessons", "notes", "1"])
        .run()
        .code(0)
        .stdout_has("No `lessons/01-counter/notes.md`")
        .stdout_has("**read-then-write**");
    std::fs::write(
        pack.join("lessons/01-counter/notes.md"),
        "# Counter\n\n## Questions to discuss\n\n- Why INCR?\n",
    )
    .unwrap();
    Twelve::new(tmp.path())
        .args(&["--lessons", p, "lessons", "notes", "counter"])
        .run()
        .code(0)
        .stdout_has("- Why INCR?");
}

#[test]
fn doctor_checks_what_a_classroom_laptop_needs() {
    let tmp = tempfile::tempdir().unwrap();
    let r = Twelve::new(tmp.path())
        .args(&["doctor"])
        .env("EDITOR", "nano")
        .run();
    r.stdout_has("temporary folder")
        .stdout_has("a Python service answered on 127.0.0.1")
        .stdout_has("the built-in key-value store answers")
        .stdout_has("editor: nano (from EDITOR)");
}

#[test]
fn report_check_re_executes_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = test_pack("grader", tmp.path());
    let p = pack.to_str().unwrap();
    Twelve::new(tmp.path())
        .args(&["--lessons", p, "init", "ws"])
        .run()
        .code(0);
    let ws = tmp.path().join("ws");
    let r = Twelve::new(&ws)
        .args(&["report", "--check", "--format", "json"])
        .env("TWELVE_LEARNER", "ada")
        .run();
    r.code(0);
    let j = r.json();
    assert_eq!(j["learner"], "ada");
    assert_eq!(
        j["verified"]["kind"],
        serde_json::Value::Null,
        "a check run, not a document"
    );
    assert_eq!(j["verified"]["origin"]["where"], "local");
    assert_eq!(j["verified"]["lessons"][0]["outcome"], "failed");
    assert!(
        j["trust"].as_str().unwrap().contains("re-executed"),
        "{}",
        j["trust"]
    );
    Twelve::new(&ws)
        .args(&["report", "--check"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SHA", "0123456789abcdef")
        .run()
        .code(0)
        .stdout_has("**Re-executed in CI.**")
        .stdout_has("GitHub Actions at commit 0123456789ab")
        .stdout_has("| Checked now |");
}

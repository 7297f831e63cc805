//! Instructors' packs: a lesson 13 extending the built-in twelve, shipped to a workspace,
//! and the mistakes a pack can hold, each reported at its file and line.

use std::path::{Path, PathBuf};

use super::harness::{Twelve, copy_dir, repo};

/// A copy of examples/telemetry-pack in `dir`.
fn telemetry_pack(dir: &Path) -> PathBuf {
    let dst = dir.join("telemetry-pack");
    copy_dir(&repo().join("examples/telemetry-pack"), &dst);
    dst
}

fn lesson_toml(pack: &Path) -> PathBuf {
    pack.join("lessons/13-telemetry/lesson.toml")
}

/// Change lesson 13's lesson.toml and return the `lessons verify` error output.
#[track_caller]
fn mistake(edit: impl FnOnce(&str) -> String) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    let text = std::fs::read_to_string(lesson_toml(&pack)).unwrap();
    let changed = edit(&text);
    assert_ne!(changed, text, "the edit changed nothing");
    std::fs::write(lesson_toml(&pack), changed).unwrap();
    let r = Twelve::new(tmp.path())
        .args(&[
            "lessons",
            "verify",
            "13",
            "--lessons",
            pack.to_str().unwrap(),
        ])
        .run();
    r.code(2);
    r.stderr
}

/// The line (1-based) of the first line of lesson 13's lesson.toml holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_pack_extending_builtin_lists_thirteen_lessons_with_its_label() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    Twelve::new(tmp.path())
        .args(&["init", "ws", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(0)
        .stdout_has("13 lessons");
    let r = Twelve::new(&tmp.path().join("ws")).args(&["list"]).run();
    r.code(0);
    let rows: Vec<&str> = r.stdout.lines().filter(|l| l.contains("  ")).collect();
    assert!(r.stdout.contains("0/13 passed"), "{}", r.stdout);
    assert!(
        r.stdout.contains("XIII  Telemetry"),
        "no XIII row:\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("XII  Admin processes"), "{}", r.stdout);
    assert!(rows.len() >= 13, "{}", r.stdout);
    // The workspace records the pack relative to itself.
    let config = std::fs::read_to_string(tmp.path().join("ws/.twelve/config.toml")).unwrap();
    assert!(
        config.contains("lessons = \"../telemetry-pack\""),
        "{config}"
    );
}

#[test]
fn a_missing_pack_names_the_config_file_and_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    Twelve::new(tmp.path())
        .args(&["init", "ws", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(0);
    std::fs::rename(&pack, tmp.path().join("moved")).unwrap();
    Twelve::new(&tmp.path().join("ws"))
        .args(&["list"])
        .run()
        .code(2)
        .stderr_has(".twelve/config.toml names the lesson pack")
        .stderr_has("telemetry-pack");
}

#[test]
fn the_example_pack_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    Twelve::new(tmp.path())
        .args(&[
            "lessons",
            "verify",
            "13",
            "-v",
            "--lessons",
            pack.to_str().unwrap(),
        ])
        .run()
        .code(0)
        .stdout_has("Lesson 13 · 13-telemetry")
        .stdout_has("starter fails `readiness` as intended")
        .stdout_has("1 of 1 lessons verified");
}

#[test]
fn update_adds_lesson_13_and_leaves_the_rest_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    // The pack before lesson 13 existed: the built-in twelve only.
    let lesson = pack.join("lessons/13-telemetry");
    let apps = pack.join("sandbox-apps/13-telemetry");
    let aside = tmp.path().join("aside");
    std::fs::create_dir_all(&aside).unwrap();
    std::fs::rename(&lesson, aside.join("lesson")).unwrap();
    std::fs::rename(&apps, aside.join("apps")).unwrap();
    let p = pack.to_str().unwrap();
    Twelve::new(tmp.path())
        .args(&["init", "ws", "--lessons", p])
        .run()
        .code(0)
        .stdout_has("12 lessons");
    let ws = tmp.path().join("ws");
    // A learner's work: an edit in lesson 3, a hint in lesson 7.
    std::fs::write(ws.join("03-config/app.py"), "# mine\n").unwrap();
    Twelve::new(&ws).args(&["hint", "7"]).run().code(0);
    let before = snapshot(&ws);
    std::fs::rename(aside.join("lesson"), &lesson).unwrap();
    std::fs::rename(aside.join("apps"), &apps).unwrap();
    Twelve::new(&ws)
        .args(&["update"])
        .run()
        .code(0)
        .stdout_has("Added XIII Telemetry");
    let after = snapshot(&ws);
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }
    assert!(after.contains_key("13-telemetry/app.py"));
    Twelve::new(&ws)
        .args(&["list"])
        .run()
        .code(0)
        .stdout_has("0/13 passed");
    Twelve::new(&ws)
        .args(&["update"])
        .run()
        .code(0)
        .stdout_has("already has every lesson");
}

/// Every file of a workspace (lesson folders and progress), by relative path.
fn snapshot(ws: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut all = twelve::lesson::read_folder(ws).unwrap();
    all.retain(|p, _| !p.ends_with("progress.lock"));
    all
}

#[test]
fn factor_13_is_rejected_at_its_line() {
    let err = mistake(|t| t.replace("label = \"XIII\"", "label = \"XIII\"\nfactor = 13"));
    assert!(
        err.contains("13-telemetry/lesson.toml:3: factor = 13: `factor` is the factor (1 to 12)"),
        "{err}"
    );
}

#[test]
fn an_unknown_starter_fails_check_is_reported_at_its_entry() {
    let line = telemetry_line("[[verify.starter_fails]]");
    let err = mistake(|t| t.replace("check = \"readiness\"\n", "check = \"readyness\"\n"));
    assert!(
        err.contains(&format!(
            "lesson.toml:{line}: verify.starter_fails names an unknown check `readyness`"
        )),
        "{err}"
    );
}

#[test]
fn a_procfile_type_the_solution_lacks_is_reported() {
    let line = telemetry_line("kind = \"start\"") - 1;
    let err = mistake(|t| {
        t.replacen(
            "kind = \"start\"\nproc = \"web\"",
            "kind = \"start\"\nproc = \"worker\"",
            1,
        )
    });
    assert!(
        err.contains(&format!(
            "lesson.toml:{line}: check `liveness` starts the Procfile type `worker`, but \
             sandbox-apps/13-telemetry/solution/Procfile has no `worker:` line (types: `web`)"
        )),
        "{err}"
    );
}

#[test]
fn an_unknown_placeholder_is_reported_at_its_step() {
    let line = telemetry_line("path = \"/healthz\"") - 3;
    let err = mistake(|t| t.replacen("path = \"/healthz\"", "path = \"/healthz/{bogus}\"", 1));
    assert!(
        err.contains(&format!("lesson.toml:{line}: "))
            && err.contains("unknown placeholder `{bogus}`"),
        "{err}"
    );
}

#[test]
fn a_bad_duration_says_the_format() {
    let line = telemetry_line("within = \"5s\"") - 3;
    let err = mistake(|t| t.replacen("within = \"5s\"", "within = \"5 parsecs\"", 1));
    assert!(
        err.contains(&format!("lesson.toml:{line}: "))
            && err.contains("write e.g. \"500ms\" or \"2s\""),
        "{err}"
    );
}

#[test]
fn a_missing_check_script_is_reported_at_its_step() {
    let line = telemetry_line("store.py create") - 2;
    let err = mistake(|t| t.replacen("{checks}/store.py create", "{checks}/stroe.py create", 1));
    assert!(
        err.contains(&format!(
            "lesson.toml:{line}: check `readiness` runs {{checks}}/stroe.py, but there is no \
             lessons/13-telemetry/checks/stroe.py"
        )),
        "{err}"
    );
}

#[test]
fn a_missing_shared_file_is_reported_at_the_import() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    // A pack that stands alone has no built-in _shared/kv.py.
    std::fs::write(pack.join("pack.toml"), "title = \"Telemetry\"\n").unwrap();
    let app = pack.join("sandbox-apps/13-telemetry/solution/app.py");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, format!("import kv\n{text}")).unwrap();
    Twelve::new(tmp.path())
        .args(&["lessons", "verify", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(2)
        .stderr_has("sandbox-apps/13-telemetry/solution/app.py:1: imports kv, but the pack has no sandbox-apps/_shared/kv.py");
}

#[test]
fn the_map_of_a_pack_with_lesson_13_has_thirteen_rows() {
    use super::tui::Tui;
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    Twelve::new(tmp.path())
        .args(&["init", "ws", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(0);
    let ws = tmp.path().join("ws").canonicalize().unwrap();
    let mut tui = Tui::spawn(&ws, &[], 100, 40);
    let screen = tui.wait_for("XIII", Duration::from_secs(10));
    let screen: String = screen
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("map_with_lesson_13", screen);
    tui.send("q");
    let status = tui.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    tui.assert_restored();
}

#[test]
fn verify_reports_lesson_13_as_json_and_junit() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    let p = pack.to_str().unwrap();
    let r = Twelve::new(tmp.path())
        .args(&[
            "lessons",
            "verify",
            "13",
            "-v",
            "--format",
            "json",
            "--lessons",
            p,
        ])
        .run();
    r.code(0);
    let v = r.json();
    let l = &v["lessons"][0];
    assert_eq!(l["number"], 13, "{v}");
    assert_eq!(l["label"], "XIII", "{v}");
    assert_eq!(l["verified"], true, "{v}");
    // -v: the output tail of the starter's failing check is in the lines.
    let lines = l["lines"].to_string();
    assert!(lines.contains("starter `readiness`"), "{lines}");
    Twelve::new(tmp.path())
        .args(&[
            "lessons",
            "verify",
            "13",
            "--format",
            "junit",
            "--lessons",
            p,
        ])
        .run()
        .code(0)
        .stdout_has("<testcase name=\"XIII 13-telemetry Liveness and readiness\"/>");
}

#[test]
fn a_new_lesson_verifies_with_no_edits() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    Twelve::new(&pack)
        .args(&["lessons", "new", "13-example"])
        .run()
        .code(0)
        .stdout_has("lessons/13-example/lesson.toml");
    assert!(pack.join("lessons/13-example/variants").is_dir());
    Twelve::new(&pack)
        .args(&["lessons", "verify", "13", "--lessons", "."])
        .run()
        .code(0)
        .stdout_has("solution passes all")
        .stdout_has("1 of 1 variants judged as declared")
        .stdout_has("1 of 1 lessons verified");
    // A second time, the folder exists: nothing is overwritten.
    Twelve::new(&pack)
        .args(&["lessons", "new", "13-example"])
        .run()
        .code(2)
        .stderr_has("already exists");
}

#[test]
fn reset_can_clear_progress_and_list_says_when_a_pass_is_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    Twelve::new(tmp.path())
        .args(&["init", "ws", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(0);
    let ws = tmp.path().join("ws");
    let solution = pack.join("sandbox-apps/13-telemetry/solution/app.py");
    std::fs::copy(&solution, ws.join("13-telemetry/app.py")).unwrap();
    Twelve::new(&ws).args(&["check", "13"]).run().code(0);
    Twelve::new(&ws)
        .args(&["reset", "13", "--yes"])
        .run()
        .code(0)
        .stdout_has("Progress of `13-telemetry` kept");
    Twelve::new(&ws).args(&["check", "13"]).run().code(1);
    Twelve::new(&ws)
        .args(&["list"])
        .run()
        .code(0)
        .stdout_has("passed · last check failed");
    Twelve::new(&ws)
        .args(&["reset", "13", "--yes", "--clear-progress"])
        .run()
        .code(0)
        .stdout_has("Cleared the progress of `13-telemetry`");
    let r = Twelve::new(&ws).args(&["list"]).run();
    assert!(!r.stdout.contains("passed ·"), "{}", r.stdout);
    assert!(r.stdout.contains("0/13 passed"), "{}", r.stdout);
}

#[test]
fn update_with_a_pack_records_it_in_a_builtin_workspace() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = telemetry_pack(tmp.path());
    Twelve::new(tmp.path()).args(&["init", "ws"]).run().code(0);
    let ws = tmp.path().join("ws");
    Twelve::new(&ws)
        .args(&["update", "--lessons", pack.to_str().unwrap()])
        .run()
        .code(0)
        .stdout_has("now uses the lessons in")
        .stdout_has("Added XIII Telemetry");
    Twelve::new(&ws)
        .args(&["list"])
        .run()
        .code(0)
        .stdout_has("0/13 passed");
}

/// The line of the example telemetry lesson's lesson.toml where `anchor` first appears.
fn telemetry_line(anchor: &str) -> usize {
    let text =
        std::fs::read_to_string(lesson_toml(&repo().join("examples/telemetry-pack"))).unwrap();
    line_of(&text, anchor)
}

//! The "to reproduce by hand" lines still work once the check's temporary folder is gone.

use super::harness::{Twelve, repo};

/// The transcripts of lesson 4's failing checks on its starter, from `check --format json`.
fn transcripts(tmp: &std::path::Path, lessons: Option<&std::path::Path>) -> Vec<String> {
    let dir = lessons.map(|l| l.display().to_string());
    let mut init = vec!["init", "ws"];
    if let Some(d) = &dir {
        init.splice(0..0, ["--lessons", d.as_str()]);
    }
    Twelve::new(tmp).args(&init).run().code(0);
    let ws = tmp.join("ws");
    let mut args = vec!["check", "4", "--format", "json"];
    if let Some(d) = &dir {
        args.splice(0..0, ["--lessons", d.as_str()]);
    }
    let r = Twelve::new(&ws).args(&args).run();
    let json = r.json();
    json["lessons"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["transcript"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|t| t.contains("store_elsewhere.py"))
        .collect()
}

#[test]
fn a_built_in_check_script_is_written_out_by_the_transcript() {
    let tmp = tempfile::tempdir().unwrap();
    let t = transcripts(tmp.path(), None);
    assert!(!t.is_empty(), "no transcript runs store_elsewhere.py");
    let t = &t[0];
    assert!(!t.contains("twelve-check-"), "{t}");
    assert!(t.contains("export CHECKS=$(mktemp -d)"), "{t}");
    assert!(
        t.contains("cat > \"$CHECKS/store_elsewhere.py\" <<'EOF'\n"),
        "{t}"
    );
    assert!(
        t.contains("python3 $CHECKS/store_elsewhere.py redis://"),
        "{t}"
    );
    // Pasted, the heredoc writes the pack's script as it is.
    let start = t.find("export CHECKS").unwrap();
    let end = t[start..].find("\nEOF\n").unwrap() + start + 4;
    let script = format!(
        "{}\ncmp \"$CHECKS/store_elsewhere.py\" {}",
        &t[start..end],
        repo()
            .join("lessons/04-backing-services/checks/store_elsewhere.py")
            .display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_pack_on_disk_is_pointed_at_by_the_transcript() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = repo().canonicalize().unwrap();
    let t = transcripts(tmp.path(), Some(&pack));
    assert!(!t.is_empty(), "no transcript runs store_elsewhere.py");
    let want = pack.join("lessons/04-backing-services/checks/store_elsewhere.py");
    assert!(
        t[0].contains(&format!("python3 {} redis://", want.display())),
        "{}",
        t[0]
    );
    assert!(
        !t[0].contains("twelve-check-") && !t[0].contains("CHECKS"),
        "{}",
        t[0]
    );
}

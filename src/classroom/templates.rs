//! What `twelve init --classroom github|gitlab|gradescope` writes next to a workspace so that
//! the system grades every push with no further glue. The templates are files in
//! `assets/classroom/`, embedded at build time.

use std::path::{Path, PathBuf};

/// A CI system or grader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Classroom {
    /// A GitHub Actions workflow (GitHub Classroom makes a repository per learner).
    Github,
    /// A `.gitlab-ci.yml` with a JUnit report.
    Gitlab,
    /// Gradescope's `setup.sh` and `run_autograder`, with points in `grading.toml`.
    Gradescope,
}

/// One file to write.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Where, relative to the workspace.
    pub path: &'static str,
    pub text: &'static str,
    pub executable: bool,
}

const GITIGNORE: Template = Template {
    path: ".gitignore",
    text: include_str!("../../assets/classroom/gitignore"),
    executable: false,
};

/// The files of a classroom system.
pub fn templates(kind: Classroom) -> Vec<Template> {
    match kind {
        Classroom::Github => vec![
            Template {
                path: ".github/workflows/twelve.yml",
                text: include_str!("../../assets/classroom/github-workflow.yml"),
                executable: false,
            },
            GITIGNORE,
        ],
        Classroom::Gitlab => vec![
            Template {
                path: ".gitlab-ci.yml",
                text: include_str!("../../assets/classroom/gitlab-ci.yml"),
                executable: false,
            },
            GITIGNORE,
        ],
        Classroom::Gradescope => vec![
            Template {
                path: "gradescope/setup.sh",
                text: include_str!("../../assets/classroom/gradescope-setup.sh"),
                executable: true,
            },
            Template {
                path: "gradescope/run_autograder",
                text: include_str!("../../assets/classroom/gradescope-run_autograder"),
                executable: true,
            },
            Template {
                path: "gradescope/grading.toml",
                text: include_str!("../../assets/classroom/grading.toml"),
                executable: false,
            },
            Template {
                path: "gradescope/README.md",
                text: include_str!("../../assets/classroom/gradescope-README.md"),
                executable: false,
            },
        ],
    }
}

/// Where CI installs twelve from: `cargo install --locked --git GIT --tag REF twelve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub git: String,
    pub reference: String,
}

/// Shown in the templates when twelve knows no repository of its own.
pub const PLACEHOLDER_GIT: &str = "https://github.com/YOUR-ORG/twelve";

impl Source {
    /// `git` when given, else this build's repository (Cargo.toml `repository`), else a
    /// placeholder the instructor must replace; the tag is this version's (`v0.1.0`).
    pub fn new(git: Option<String>) -> Source {
        let own = env!("CARGO_PKG_REPOSITORY");
        Source {
            git: git.unwrap_or_else(|| {
                if own.is_empty() {
                    PLACEHOLDER_GIT.to_string()
                } else {
                    own.to_string()
                }
            }),
            reference: format!("v{}", env!("CARGO_PKG_VERSION")),
        }
    }

    pub fn is_placeholder(&self) -> bool {
        self.git == PLACEHOLDER_GIT
    }
}

/// A template's text with the source filled in.
pub fn render(t: &Template, source: &Source) -> String {
    t.text
        .replace("@TWELVE_GIT@", &source.git)
        .replace("@TWELVE_REF@", &source.reference)
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Created(PathBuf),
    /// It existed already and was left as it was.
    Kept(PathBuf),
}

/// Write the files of `kind` into the workspace at `root`; existing files are kept.
pub fn write(root: &Path, kind: Classroom, source: &Source) -> anyhow::Result<Vec<Written>> {
    use anyhow::Context as _;
    let mut out = Vec::new();
    for t in templates(kind) {
        let path = root.join(t.path);
        if path.exists() {
            out.push(Written::Kept(path));
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
        }
        std::fs::write(&path, render(&t, source))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        if t.executable {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make `{}` executable", path.display()))?;
        }
        out.push(Written::Created(path));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_filled_in_completely() {
        let source = Source {
            git: "https://example.org/twelve.git".into(),
            reference: "v9.9.9".into(),
        };
        for kind in [Classroom::Github, Classroom::Gitlab, Classroom::Gradescope] {
            for t in templates(kind) {
                let text = render(&t, &source);
                assert!(
                    !text.contains("@TWELVE_"),
                    "{}: a placeholder is left",
                    t.path
                );
                assert!(!text.contains('\t'), "{}: a tab", t.path);
            }
        }
    }

    #[test]
    fn existing_files_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(".gitignore"), "mine\n").unwrap();
        let w = write(tmp.path(), Classroom::Github, &Source::new(None)).unwrap();
        assert!(w.contains(&Written::Kept(tmp.path().join(".gitignore"))));
        assert_eq!(
            std::fs::read_to_string(tmp.path().join(".gitignore")).unwrap(),
            "mine\n"
        );
        assert!(tmp.path().join(".github/workflows/twelve.yml").is_file());
    }
}

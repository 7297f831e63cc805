//! Where a report was made, and whose it is: read from the environment CI systems set.

use serde::{Deserialize, Serialize};

/// Where checks ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Where {
    /// On the learner's machine: the learner could have changed anything, the report too.
    Local,
    /// In a CI system or grader, from the files that were pushed or submitted.
    Ci,
}

/// Where a report was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    #[serde(rename = "where")]
    pub place: Where,
    /// `github`, `gitlab`, `gradescope`, or `ci` for another CI system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The commit that was checked, when the CI system says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// A link to the CI run, where its log and artifacts are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
}

impl Origin {
    /// The origin this process runs in, from the variables CI systems set.
    pub fn detect() -> Origin {
        Origin::from_env(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// [`Origin::detect`] over any lookup (for tests).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Origin {
        let yes = |k: &str| var(k).is_some_and(|v| v != "false" && v != "0");
        if yes("GITHUB_ACTIONS") {
            let run_url = match (
                var("GITHUB_SERVER_URL"),
                var("GITHUB_REPOSITORY"),
                var("GITHUB_RUN_ID"),
            ) {
                (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
                _ => None,
            };
            return Origin {
                place: Where::Ci,
                system: Some("github".into()),
                commit: var("GITHUB_SHA"),
                run_url,
            };
        }
        if yes("GITLAB_CI") {
            return Origin {
                place: Where::Ci,
                system: Some("gitlab".into()),
                commit: var("CI_COMMIT_SHA"),
                run_url: var("CI_JOB_URL"),
            };
        }
        // Set by the run_autograder that `twelve init --classroom gradescope` writes.
        if let Some(system) = var("TWELVE_CI") {
            return Origin {
                place: Where::Ci,
                system: Some(system),
                commit: None,
                run_url: None,
            };
        }
        if yes("CI") {
            return Origin {
                place: Where::Ci,
                system: Some("ci".into()),
                commit: None,
                run_url: None,
            };
        }
        Origin {
            place: Where::Local,
            system: None,
            commit: None,
            run_url: None,
        }
    }

    /// One sentence on how far the report can be trusted.
    pub fn trust(&self) -> String {
        match self.place {
            Where::Local => "Checked on the learner's own machine: a local report can be edited; \
                 the grade that counts is the one CI re-executes."
                .to_string(),
            Where::Ci => {
                let system = match self.system.as_deref() {
                    Some("github") => "GitHub Actions",
                    Some("gitlab") => "GitLab CI",
                    Some("gradescope") => "Gradescope",
                    Some(other) => other,
                    None => "CI",
                };
                let at = self
                    .commit
                    .as_deref()
                    .map_or(String::new(), |c| format!(" at commit {}", short(c)));
                format!("Checks re-executed by {system}{at} from the files that were pushed.")
            }
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// Who the report belongs to: `TWELVE_LEARNER`, else the CI's repository (GitHub Classroom
/// makes one repository per learner), else nothing (the roll-up then names it by its file).
pub fn learner() -> Option<String> {
    ["TWELVE_LEARNER", "GITHUB_REPOSITORY", "CI_PROJECT_PATH"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn github_runs_are_ci_with_a_link() {
        let o = Origin::from_env(env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "class/twelve-alice"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SHA", "0123456789abcdef0123"),
        ]));
        assert_eq!(o.place, Where::Ci);
        assert_eq!(
            o.run_url.as_deref(),
            Some("https://github.com/class/twelve-alice/actions/runs/42")
        );
        assert!(o.trust().contains("GitHub Actions at commit 0123456789ab"));
    }

    #[test]
    fn without_ci_variables_a_report_is_local() {
        let o = Origin::from_env(env(&[("CI", "false")]));
        assert_eq!(o.place, Where::Local);
        assert!(o.trust().contains("can be edited"));
        let g = Origin::from_env(env(&[("TWELVE_CI", "gradescope")]));
        assert_eq!(g.system.as_deref(), Some("gradescope"));
    }
}

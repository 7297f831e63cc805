//! How many points a check is worth: `.twelve/grading.toml`, or the file `--grading` names.
//!
//! ```toml
//! per = "check"        # "check": each check is worth `points`;
//!                      # "lesson": each lesson is worth `points`, split evenly over its checks
//! points = 1
//! visibility = "visible"   # Gradescope's: visible, hidden, after_due_date, after_published
//!
//! [lessons]            # a lesson's own `points` (by number, slug or folder name)
//! "03-config" = 2
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// What `points` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    #[default]
    Check,
    Lesson,
}

/// The grading settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grading {
    pub per: Per,
    pub points: f64,
    pub visibility: String,
    pub lessons: BTreeMap<String, f64>,
}

impl Default for Grading {
    fn default() -> Self {
        Grading {
            per: Per::Check,
            points: 1.0,
            visibility: "visible".into(),
            lessons: BTreeMap::new(),
        }
    }
}

const VISIBILITIES: [&str; 4] = ["visible", "hidden", "after_due_date", "after_published"];

impl Grading {
    /// Read a grading file; problems name the file and line.
    pub fn load(path: &Path) -> anyhow::Result<Grading> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        Grading::parse(&text).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))
    }

    /// Parse grading settings; an error starts with the line number.
    pub fn parse(text: &str) -> Result<Grading, String> {
        let g: Grading = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            format!("{line}: {}", e.message().trim())
        })?;
        let bad = |v: f64| !v.is_finite() || v < 0.0;
        if bad(g.points) {
            return Err(format!(
                "{}: points must be a number of 0 or more",
                find_line(text, "points")
            ));
        }
        if let Some((k, _)) = g.lessons.iter().find(|(_, v)| bad(**v)) {
            return Err(format!(
                "{}: lesson `{k}`: points must be a number of 0 or more",
                find_line(text, k)
            ));
        }
        if !VISIBILITIES.contains(&g.visibility.as_str()) {
            return Err(format!(
                "{}: visibility must be one of {}",
                find_line(text, "visibility"),
                VISIBILITIES.join(", ")
            ));
        }
        Ok(g)
    }

    /// The `points` of a lesson (its own, or the default), given its number and folder name.
    pub fn lesson_points(&self, number: u8, dir: &str) -> f64 {
        self.lessons
            .iter()
            .find(|(k, _)| names(k, number, dir))
            .map_or(self.points, |(_, v)| *v)
    }

    /// Keys of `[lessons]` that name none of these lessons (a typo would grade silently wrong).
    pub fn unknown_lessons<'a>(&'a self, lessons: &[(u8, &str)]) -> Vec<&'a str> {
        self.lessons
            .keys()
            .filter(|k| !lessons.iter().any(|(n, d)| names(k, *n, d)))
            .map(String::as_str)
            .collect()
    }

    /// Each check's maximum in hundredths of a point, for a lesson of `checks` checks. Split
    /// evenly in whole hundredths, the first checks taking the remainder, so that they add up.
    pub fn check_cents(&self, number: u8, dir: &str, checks: usize) -> Vec<u64> {
        let cents = (self.lesson_points(number, dir) * 100.0).round() as u64;
        match self.per {
            Per::Check => vec![cents; checks],
            Per::Lesson => {
                if checks == 0 {
                    return Vec::new();
                }
                let n = checks as u64;
                (0..n)
                    .map(|i| cents / n + u64::from(i < cents % n))
                    .collect()
            }
        }
    }
}

/// Does a `[lessons]` key name this lesson (`3`, `03`, `config`, `03-config`)?
fn names(key: &str, number: u8, dir: &str) -> bool {
    let key = key.trim();
    key.parse::<u8>().is_ok_and(|n| n == number)
        || key == dir
        || dir.split_once('-').is_some_and(|(_, slug)| slug == key)
}

fn find_line(text: &str, word: &str) -> usize {
    text.lines()
        .position(|l| l.contains(word))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_one_point_per_check() {
        let g = Grading::default();
        assert_eq!(g.check_cents(3, "03-config", 4), vec![100; 4]);
    }

    #[test]
    fn lesson_points_split_evenly_and_add_up() {
        let g = Grading::parse("per = \"lesson\"\npoints = 10\n[lessons]\nconfig = 20\n").unwrap();
        let c = g.check_cents(1, "01-codebase", 3);
        assert_eq!(c, vec![334, 333, 333]);
        assert_eq!(c.iter().sum::<u64>(), 1000);
        assert_eq!(g.check_cents(3, "03-config", 6).iter().sum::<u64>(), 2000);
        assert!((g.lesson_points(3, "03-config") - 20.0).abs() < 1e-9);
    }

    #[test]
    fn mistakes_name_their_line() {
        let e = Grading::parse("points = 1\nvisibility = \"secret\"\n").unwrap_err();
        assert!(e.starts_with("2: visibility"), "{e}");
        let e = Grading::parse("per = \"lesson\"\npoint = 3\n").unwrap_err();
        assert!(e.starts_with("2:"), "{e}");
        let e = Grading::parse("[lessons]\n\"3\" = -1\n").unwrap_err();
        assert!(e.starts_with("2: lesson `3`"), "{e}");
        let g = Grading::parse("[lessons]\nconfg = 2\n\"3\" = 1\n").unwrap();
        assert_eq!(g.unknown_lessons(&[(3, "03-config")]), vec!["confg"]);
    }
}

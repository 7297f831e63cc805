//! Classrooms on engines people already run: reports that CI systems and graders read (JSON
//! with a schema version, Gradescope's results.json, markdown summaries), the CI templates
//! `twelve init --classroom` writes, a learner's progress report and an instructor's roll-up.
//!
//! Nothing here runs a check: it turns [`crate::check::LessonReport`]s and
//! [`crate::workspace::Progress`] into documents, and documents back into data.
//!
//! Trust is explicit everywhere: a check report says where the checks were re-executed
//! ([`origin::Origin`]); progress is what the learner's own machine recorded and can be edited.

pub mod class;
pub mod envelope;
pub mod gradescope;
pub mod grading;
pub mod html;
pub mod learner;
pub mod notes;
pub mod origin;
pub mod summary;
pub mod templates;

/// The version of every JSON document `twelve` writes (`"schema": 1`); see docs/reports.md.
pub const SCHEMA: u32 = 1;

/// Seconds between two RFC 3339 times, when both parse and `to` is not earlier.
pub fn seconds_between(from: &str, to: &str) -> Option<u64> {
    let a = humantime::parse_rfc3339_weak(from).ok()?;
    let b = humantime::parse_rfc3339_weak(to).ok()?;
    b.duration_since(a).ok().map(|d| d.as_secs())
}

/// `45 s`, `12 min`, `2 h 05 min`, `3 d 4 h`.
pub fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h {:02} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// The median of some counts (the mean of the middle two for an even number).
pub fn median(values: &mut [u32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        f64::from(values[n / 2])
    } else {
        f64::from(values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_says_them() {
        assert_eq!(human_duration(5), "5 s");
        assert_eq!(human_duration(125), "2 min");
        assert_eq!(human_duration(3600 + 5 * 60), "1 h 05 min");
        assert_eq!(human_duration(86_400 * 2 + 3600), "2 d 1 h");
        assert_eq!(
            seconds_between("2025-01-01T10:00:00Z", "2025-01-01T10:02:30Z"),
            Some(150)
        );
        assert_eq!(
            seconds_between("2025-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
            None
        );
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3, 1, 2]), Some(2.0));
        assert_eq!(median(&mut [4, 1, 2, 3]), Some(2.5));
    }
}

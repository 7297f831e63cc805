//! What an audit found: a verdict per factor with its evidence. Plain, serialisable data.

use serde::{Deserialize, Serialize};

/// The version of the JSON report's shape.
pub const SCHEMA: u32 = 1;

/// The twelve factors, in order: (number, name).
pub const FACTORS: [(u8, &str); 12] = [
    (1, "Codebase"),
    (2, "Dependencies"),
    (3, "Config"),
    (4, "Backing services"),
    (5, "Build, release, run"),
    (6, "Processes"),
    (7, "Port binding"),
    (8, "Concurrency"),
    (9, "Disposability"),
    (10, "Dev/prod parity"),
    (11, "Logs"),
    (12, "Admin processes"),
];

/// The name of factor `n` (1-based).
pub fn factor_name(n: u8) -> &'static str {
    FACTORS
        .iter()
        .find(|(f, _)| *f == n)
        .map_or("?", |(_, name)| name)
}

/// A factor's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// The probes could not decide (the app did not start, nothing to test): never a guess.
    Unknown,
    /// Something that often breaks the factor, which the probes could not prove.
    Warn,
    Fail,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Unknown => "unknown",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// How much one piece of evidence weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Context only; does not move the verdict.
    Note,
    Pass,
    Unknown,
    Warn,
    Fail,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Pass => "pass",
            Level::Unknown => "unknown",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// One observation behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub level: Level,
    pub text: String,
}

/// One factor's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorReport {
    pub factor: u8,
    pub name: String,
    pub verdict: Verdict,
    pub evidence: Vec<Evidence>,
    /// Shell lines that reproduce the probes behind this verdict by hand.
    pub transcript: Vec<String>,
}

impl FactorReport {
    /// The verdict the evidence gives: fail beats warn beats unknown beats pass; evidence
    /// with nothing but notes is unknown.
    pub fn verdict_of(evidence: &[Evidence]) -> Verdict {
        let worst = evidence.iter().map(|e| e.level).max();
        match worst {
            Some(Level::Fail) => Verdict::Fail,
            Some(Level::Warn) => Verdict::Warn,
            Some(Level::Pass) => Verdict::Pass,
            Some(Level::Unknown | Level::Note) | None => Verdict::Unknown,
        }
    }
}

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub schema: u32,
    /// The folder audited, as given.
    pub app: String,
    pub factors: Vec<FactorReport>,
    /// What applies to every factor (where settings came from, an app that did not start).
    pub notes: Vec<String>,
    pub duration_ms: u64,
}

impl AuditReport {
    /// Whether any factor failed.
    pub fn failed(&self) -> bool {
        self.factors.iter().any(|f| f.verdict == Verdict::Fail)
    }

    /// How many factors got each verdict: (pass, warn, fail, unknown).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let n = |v| self.factors.iter().filter(|f| f.verdict == v).count();
        (
            n(Verdict::Pass),
            n(Verdict::Warn),
            n(Verdict::Fail),
            n(Verdict::Unknown),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(level: Level) -> Evidence {
        Evidence {
            level,
            text: String::new(),
        }
    }

    #[test]
    fn worst_evidence_wins() {
        assert_eq!(FactorReport::verdict_of(&[]), Verdict::Unknown);
        assert_eq!(
            FactorReport::verdict_of(&[ev(Level::Note)]),
            Verdict::Unknown
        );
        assert_eq!(
            FactorReport::verdict_of(&[ev(Level::Pass), ev(Level::Note)]),
            Verdict::Pass
        );
        assert_eq!(
            FactorReport::verdict_of(&[ev(Level::Pass), ev(Level::Unknown)]),
            Verdict::Unknown
        );
        assert_eq!(
            FactorReport::verdict_of(&[ev(Level::Warn), ev(Level::Unknown)]),
            Verdict::Warn
        );
        assert_eq!(
            FactorReport::verdict_of(&[ev(Level::Warn), ev(Level::Fail)]),
            Verdict::Fail
        );
    }
}

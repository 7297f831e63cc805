//! The terminal user interface.

use std::path::Path;
use std::process::ExitCode;

/// Open the tutorial.
pub fn run(_workspace: Option<&Path>, _lessons: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "the interactive tutorial is not built yet; use the plain commands (`twelve --help`)"
    )
}

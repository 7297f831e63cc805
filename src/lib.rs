//! `twelve`: an interactive terminal tutorial for the Twelve-Factor App methodology.
//!
//! Modules depend in one direction: `lesson` and `sandbox` know nothing of the rest; `check`
//! runs lessons in sandboxes; `workspace` holds the learner's folder and progress; `tui` and
//! `cli` are the two faces.

// Checks supervise processes through Unix process groups, signals and resource limits.
#[cfg(not(unix))]
compile_error!(
    "twelve runs on Linux and macOS: its sandbox needs Unix process groups, signals and rlimits"
);

pub mod audit;
pub mod check;
pub mod classroom;
pub mod cli;
pub mod lesson;
pub mod sandbox;
pub mod service;
pub mod tui;
pub mod workspace;

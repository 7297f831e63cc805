//! `twelve`: an interactive terminal tutorial for the Twelve-Factor App methodology.
//!
//! Modules depend in one direction: `lesson` and `sandbox` know nothing of the rest; `check`
//! runs lessons in sandboxes; `workspace` holds the learner's folder and progress; `tui` and
//! `cli` are the two faces.

pub mod check;
pub mod cli;
pub mod lesson;
pub mod sandbox;
pub mod service;
pub mod tui;
pub mod workspace;

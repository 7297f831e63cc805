//! Copying text to the system clipboard through whichever tool exists.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Clipboard tools, tried in order, with the session they need.
const TOOLS: &[(&str, &[&str], Option<&str>)] = &[
    ("wl-copy", &[], Some("WAYLAND_DISPLAY")),
    ("xclip", &["-selection", "clipboard"], Some("DISPLAY")),
    ("xsel", &["--clipboard", "--input"], Some("DISPLAY")),
    ("pbcopy", &[], None),
];

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Copy `text`; returns the tool's name, or `Err(text)` when no tool could take it.
pub fn copy(text: &str) -> Result<String, String> {
    for (name, args, needs) in TOOLS {
        if needs.is_some_and(|v| std::env::var_os(v).is_none()) {
            continue;
        }
        let Some(path) = on_path(name) else { continue };
        let Ok(mut child) = Command::new(path)
            .args(*args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            continue;
        };
        let wrote = child
            .stdin
            .take()
            .is_some_and(|mut stdin| stdin.write_all(text.as_bytes()).is_ok());
        // The tools fork a background owner of the selection and exit: this wait is short.
        if wrote && child.wait().is_ok_and(|s| s.success()) {
            return Ok((*name).to_string());
        }
    }
    Err(text.to_string())
}

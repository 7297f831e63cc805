//! Captured output of a process: line by line, capped, with timestamps.
//!
//! A process printing forever costs a bounded amount of memory: only the last
//! [`MAX_LINES`] lines are kept (each at most [`MAX_LINE`] bytes) and the rest are counted.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Lines kept per process (both streams together).
pub const MAX_LINES: usize = 2000;
/// Bytes kept per line; longer lines are cut and marked.
pub const MAX_LINE: usize = 2000;

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    Stdout,
    Stderr,
}

/// One captured line.
#[derive(Debug, Clone)]
pub struct Line {
    pub stream: StreamKind,
    pub text: String,
    pub at: Instant,
    /// Position in the whole output (counting dropped lines).
    pub seq: u64,
}

/// Called for every line as it arrives (e.g. to feed the TUI's run panel).
pub type LineHook = Arc<dyn Fn(StreamKind, &str) + Send + Sync>;

#[derive(Default)]
struct Inner {
    lines: VecDeque<Line>,
    dropped: u64,
    next_seq: u64,
    open_streams: u8,
}

/// The shared buffer both reader threads write into.
pub struct Output {
    inner: Mutex<Inner>,
    changed: Condvar,
    hook: Option<LineHook>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").finish_non_exhaustive()
    }
}

impl Output {
    pub fn new(hook: Option<LineHook>) -> Arc<Output> {
        Arc::new(Output {
            inner: Mutex::new(Inner::default()),
            changed: Condvar::new(),
            hook,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Add a line (used by the readers, and by tests).
    pub fn push(&self, stream: StreamKind, text: String) {
        if let Some(h) = &self.hook {
            h(stream, &text);
        }
        let mut g = self.lock();
        let seq = g.next_seq;
        g.next_seq += 1;
        g.lines.push_back(Line {
            stream,
            text,
            at: Instant::now(),
            seq,
        });
        if g.lines.len() > MAX_LINES {
            g.lines.pop_front();
            g.dropped += 1;
        }
        drop(g);
        self.changed.notify_all();
    }

    /// Start a thread reading `pipe` into this buffer until EOF.
    pub fn read_from(self: &Arc<Self>, stream: StreamKind, mut pipe: impl Read + Send + 'static) {
        self.lock().open_streams += 1;
        let out = Arc::clone(self);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 8192];
            let mut partial: Vec<u8> = Vec::new();
            let mut cut = false;
            loop {
                let n = match pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                for &b in &buf[..n] {
                    if b == b'\n' {
                        out.push(stream, finish(&mut partial, &mut cut));
                    } else if partial.len() < MAX_LINE {
                        partial.push(b);
                    } else {
                        cut = true;
                    }
                }
            }
            if !partial.is_empty() || cut {
                out.push(stream, finish(&mut partial, &mut cut));
            }
            out.lock().open_streams -= 1;
            out.changed.notify_all();
        });
    }

    /// Lines kept so far, oldest first.
    pub fn lines(&self) -> Vec<Line> {
        self.lock().lines.iter().cloned().collect()
    }

    /// How many lines were dropped to respect the cap.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// The last `n` lines of one stream.
    pub fn tail(&self, stream: StreamKind, n: usize) -> Vec<String> {
        let g = self.lock();
        let mut v: Vec<String> = g
            .lines
            .iter()
            .rev()
            .filter(|l| l.stream == stream)
            .take(n)
            .map(|l| l.text.clone())
            .collect();
        v.reverse();
        v
    }

    /// Whether both streams reached end of file.
    pub fn closed(&self) -> bool {
        self.lock().open_streams == 0
    }

    /// Wait until a line satisfying `pred` exists, `deadline` passes, or `stop()` says so.
    /// Returns the matching line.
    pub fn wait_for(
        &self,
        deadline: Instant,
        stop: &dyn Fn() -> bool,
        pred: &dyn Fn(&Line) -> bool,
    ) -> Option<Line> {
        let mut g = self.lock();
        let mut checked = 0u64;
        loop {
            if let Some(l) = g.lines.iter().find(|l| l.seq >= checked && pred(l)) {
                return Some(l.clone());
            }
            checked = g.next_seq;
            let now = Instant::now();
            if now >= deadline || stop() {
                return None;
            }
            let wait = (deadline - now).min(Duration::from_millis(50));
            g = self
                .changed
                .wait_timeout(g, wait)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }
}

fn finish(partial: &mut Vec<u8>, cut: &mut bool) -> String {
    let mut s = String::from_utf8_lossy(partial).into_owned();
    if s.ends_with('\r') {
        s.pop();
    }
    if *cut {
        s.push_str(" [line cut]");
    }
    partial.clear();
    *cut = false;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_output_is_capped() {
        let out = Output::new(None);
        let data: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        out.read_from(StreamKind::Stdout, std::io::Cursor::new(data));
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(
            out.wait_for(deadline, &|| false, &|l| l.text == "line 4999")
                .is_some()
        );
        assert_eq!(out.lines().len(), MAX_LINES);
        assert_eq!(out.dropped(), 3000);
        assert_eq!(out.tail(StreamKind::Stdout, 1), vec!["line 4999"]);
    }

    #[test]
    fn long_lines_are_cut() {
        let out = Output::new(None);
        let data = vec![b'x'; 100_000];
        out.read_from(StreamKind::Stderr, std::io::Cursor::new(data));
        let deadline = Instant::now() + Duration::from_secs(5);
        let l = out.wait_for(deadline, &|| false, &|_| true).unwrap();
        assert_eq!(l.text.len(), MAX_LINE + " [line cut]".len());
        assert_eq!(l.stream, StreamKind::Stderr);
    }

    #[test]
    fn wait_for_times_out() {
        let out = Output::new(None);
        let t = Instant::now();
        assert!(
            out.wait_for(t + Duration::from_millis(60), &|| false, &|_| true)
                .is_none()
        );
        assert!(t.elapsed() >= Duration::from_millis(60));
    }
}

//! Runs a lesson's checks: each check is a scenario executed in its own fresh sandbox, and
//! produces a [`CheckReport`] (plain data). A lesson checked alone runs its checks side by side
//! ([`run_lesson_with`]); many lessons run in parallel, each running its checks in turn
//! ([`run_lessons`]). Reports keep the lessons' order either way.

mod context;
pub(crate) mod files;
pub mod report;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub use report::{CheckReport, Failure, LessonReport, Outcome, OutputTail};

use crate::lesson::{Check, Lesson, Pack};
use crate::sandbox::Python;

/// Shared flag that stops running checks (Esc in the TUI, Ctrl-C on the command line).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Progress of a running lesson, for live displays.
#[derive(Debug, Clone)]
pub enum Event {
    CheckStarted {
        lesson: u8,
        index: usize,
    },
    CheckFinished {
        lesson: u8,
        index: usize,
        report: CheckReport,
    },
}

/// Receives events; must be cheap (it is called on the checking thread).
pub type EventSink<'a> = &'a (dyn Fn(Event) + Sync);

/// Run every check of `lesson` against the files in `learner_dir`.
pub fn run_lesson(
    pack: &Pack,
    lesson: &Lesson,
    learner_dir: &Path,
    cancel: &CancelToken,
    events: Option<EventSink<'_>>,
) -> LessonReport {
    run_lesson_with(pack, lesson, learner_dir, cancel, events, 1)
}

/// [`run_lesson`] with up to `side_by_side` of its checks running at once (each has its own
/// sandbox, so they cannot disturb each other; time bounds are fair under the extra load).
pub fn run_lesson_with(
    pack: &Pack,
    lesson: &Lesson,
    learner_dir: &Path,
    cancel: &CancelToken,
    events: Option<EventSink<'_>>,
    side_by_side: usize,
) -> LessonReport {
    let started = Instant::now();
    let one = |index: usize| {
        let check = &lesson.checks[index];
        if let Some(e) = events {
            e(Event::CheckStarted {
                lesson: lesson.number,
                index,
            });
        }
        let report = if cancel.is_cancelled() {
            cancelled(check)
        } else {
            run_check(pack, lesson, check, learner_dir, cancel)
        };
        if let Some(e) = events {
            e(Event::CheckFinished {
                lesson: lesson.number,
                index,
                report: report.clone(),
            });
        }
        report
    };
    let n = lesson.checks.len();
    let checks: Vec<CheckReport> = if side_by_side <= 1 || n <= 1 {
        (0..n).map(one).collect()
    } else {
        in_parallel(n, side_by_side, one)
    };
    LessonReport {
        number: lesson.number,
        lesson: lesson.dir_name.clone(),
        title: lesson.title.clone(),
        outcome: LessonReport::combine(&checks),
        duration_ms: millis(started),
        checks,
    }
}

/// Run several lessons in parallel (a few at a time), each against its own folder; the
/// reports come back in the order given.
pub fn run_lessons(
    pack: &Pack,
    jobs: &[(&Lesson, &Path)],
    cancel: &CancelToken,
    events: Option<EventSink<'_>>,
) -> Vec<LessonReport> {
    // TWELVE_JOBS caps how many lessons run at once (for a busy machine).
    let width = std::env::var("TWELVE_JOBS")
        .ok()
        .and_then(|j| j.parse::<usize>().ok())
        .filter(|j| *j > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(2, std::num::NonZeroUsize::get)
                .clamp(2, 4)
                * 2
        });
    // One lesson alone runs its checks side by side; many lessons already fill the machine,
    // so each runs its checks in turn.
    let side_by_side = if jobs.len() == 1 { 4 } else { 1 };
    in_parallel(jobs.len(), width, |i| {
        let (lesson, dir) = jobs[i];
        run_lesson_with(pack, lesson, dir, cancel, events, side_by_side)
    })
}

/// `f(0..n)` on up to `width` threads at once; the results come back in index order.
pub fn in_parallel<T: Send>(n: usize, width: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<T>>> =
        std::sync::Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..width.clamp(1, n.max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let r = f(i);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

fn cancelled(check: &Check) -> CheckReport {
    CheckReport {
        id: check.id.clone(),
        title: check.title.clone(),
        why: check.why.clone(),
        outcome: Outcome::Cancelled,
        duration_ms: 0,
        failure: None,
        transcript: Vec::new(),
    }
}

/// Run one check in a fresh sandbox holding a copy of `learner_dir`.
pub fn run_check(
    pack: &Pack,
    lesson: &Lesson,
    check: &Check,
    learner_dir: &Path,
    cancel: &CancelToken,
) -> CheckReport {
    let started = Instant::now();
    let error = |message: String| CheckReport {
        id: check.id.clone(),
        title: check.title.clone(),
        why: check.why.clone(),
        outcome: Outcome::Error,
        duration_ms: millis(started),
        failure: Some(Failure {
            step: 0,
            kind: "setup".into(),
            line: check.line,
            message,
            detail: None,
            expected: String::new(),
            observed: String::new(),
            outputs: Vec::new(),
        }),
        transcript: Vec::new(),
    };
    let python = match Python::get() {
        Ok(p) => p,
        Err(e) => return error(e.to_string()),
    };
    let mut ctx = match context::Ctx::new(pack, lesson, check, learner_dir, python, cancel) {
        Ok(c) => c,
        Err(e) => return error(format!("could not prepare the sandbox: {e:#}")),
    };
    let result = ctx.run();
    let transcript = std::mem::take(&mut ctx.transcript);
    let (outcome, failure) = match result {
        Ok(()) => (Outcome::Passed, None),
        Err(f) if cancel.is_cancelled() => {
            let _ = f;
            (Outcome::Cancelled, None)
        }
        Err(f) => (Outcome::Failed, Some(f)),
    };
    // Everything the check started is stopped and its folder removed here.
    drop(ctx);
    CheckReport {
        id: check.id.clone(),
        title: check.title.clone(),
        why: check.why.clone(),
        outcome,
        duration_ms: millis(started),
        failure,
        transcript,
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

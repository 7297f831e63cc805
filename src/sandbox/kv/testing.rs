//! Helpers for the store's unit tests.

use std::time::{Duration, Instant};

use super::Bytes;
use super::command::{Outcome, execute};
use super::connection::Session;
use super::protocol::{Reply, split_inline};
use super::server::State;

pub(super) fn words(line: &str) -> Vec<Bytes> {
    split_inline(line.as_bytes()).expect("test command parses")
}

pub(super) fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

pub(super) fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

pub(super) fn error(msg: &str) -> Reply {
    Reply::Error(msg.to_owned())
}

pub(super) const WRONGTYPE: &str =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
pub(super) const NOT_INT: &str = "ERR value is not an integer or out of range";

/// Runs commands straight against a [`State`], with a clock the test controls.
pub(super) struct Harness {
    pub(super) state: State,
    pub(super) session: Session,
    pub(super) now: Instant,
}

impl Harness {
    pub(super) fn new() -> Harness {
        Harness {
            state: State::new(),
            session: Session::new(1, "test".into(), 6379),
            now: Instant::now(),
        }
    }

    pub(super) fn run(&mut self, line: &str) -> Reply {
        match self.outcome(line) {
            Outcome::Reply(reply) => reply,
            Outcome::Block(block) => panic!("{line} blocked: {block:?}"),
        }
    }

    pub(super) fn outcome(&mut self, line: &str) -> Outcome {
        let before = self.state.writes;
        let outcome = execute(
            &mut self.state,
            &mut self.session,
            &words(line),
            false,
            self.now,
        );
        if self.state.writes != before {
            self.state.serve_waiters(self.now);
        }
        outcome
    }

    pub(super) fn advance(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
    }
}

//! Blocking pops: `BLPOP`, `BRPOP`, `BLMOVE`, `BRPOPLPUSH`.
//!
//! As in Redis, a push hands elements straight to blocked clients, oldest first, before anyone
//! else can pop them ([`State::serve_waiters`], run after every write); waiters sleep on the
//! server's condition variable ([`Shared::block`]), never poll, and leave when their timeout
//! passes, their client disconnects or the server stops.

use std::sync::MutexGuard;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Bytes;
use super::command::{CmdError, Ctx, Outcome, err, unix_ms};
use super::connection::{Session, Step};
use super::float::LongDouble;
use super::keyspace::{End, Keyspace};
use super::lists::end_arg;
use super::protocol::Reply;
use super::server::{Shared, State, wait, wait_timeout};

/// A client blocked in a blocking pop.
#[derive(Debug)]
pub(super) struct Waiter {
    pub(super) id: u64,
    pub(super) conn: u64,
    pub(super) db: usize,
    pub(super) keys: Vec<Bytes>,
    pub(super) op: BlockOp,
}

/// A blocking pop that found nothing: what to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block {
    pub(super) keys: Vec<Bytes>,
    pub(super) op: BlockOp,
    /// `None` waits forever.
    pub(super) deadline: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BlockOp {
    /// `BLPOP` / `BRPOP`: reply `[key, value]`.
    Pop(End),
    /// `BLMOVE` / `BRPOPLPUSH`: move onto `dst`, reply the value.
    Move { dst: Bytes, from: End, to: End },
}

/// Runs a blocking command: its reply if something can be popped now (or an error), else the
/// [`Block`] to wait for.
pub(super) fn command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Outcome, CmdError> {
    let (keys, op, timeout) = match name {
        "BLPOP" | "BRPOP" => {
            let (timeout, keys) = a.split_last().ok_or(CmdError::Syntax)?;
            let end = if name == "BLPOP" {
                End::Left
            } else {
                End::Right
            };
            (keys.to_vec(), BlockOp::Pop(end), timeout)
        }
        "BLMOVE" => {
            let (from, to) = (end_arg(&a[2])?, end_arg(&a[3])?);
            let op = BlockOp::Move {
                dst: a[1].clone(),
                from,
                to,
            };
            (vec![a[0].clone()], op, &a[4])
        }
        _ => {
            let op = BlockOp::Move {
                dst: a[1].clone(),
                from: End::Right,
                to: End::Left,
            };
            (vec![a[0].clone()], op, &a[2])
        }
    };
    let now = ctx.now;
    let deadline = parse_timeout(timeout, now)?;
    Ok(match pop_ready(ctx.ks(), &keys, &op, now, true)? {
        Some(reply) => Outcome::Reply(reply),
        None => Outcome::Block(Block { keys, op, deadline }),
    })
}

/// A blocking command's timeout in seconds (fractions allowed, 0 = forever) as a deadline,
/// computed as Redis 7.0 does: `(long long) ceill(seconds * 1000.0)` in `long double`, so
/// `-0.0001` waits forever, `inf` is "negative", and a timeout that overflows the clock waits
/// forever.
fn parse_timeout(arg: &[u8], now: Instant) -> Result<Option<Instant>, CmdError> {
    let seconds =
        LongDouble::parse(arg).ok_or_else(|| err("timeout is not a float or out of range"))?;
    let ms = seconds.times(1000).ceil_i64().unwrap_or(i64::MIN);
    if ms < 0 {
        return Err(err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    if ms > i64::MAX - unix_ms(now) {
        // Redis 7.0 overflows its clock here and waits for good.
        return Ok(None);
    }
    // A deadline beyond what Instant can hold is as good as forever.
    Ok(now.checked_add(Duration::from_millis(ms as u64)))
}

/// Pops for a blocking command from the first of `keys` holding a non-empty list. With `strict`
/// (the command's first attempt) a key of another type is an error, as in Redis; when serving
/// a waiter later such keys are skipped.
fn pop_ready(
    ks: &mut Keyspace,
    keys: &[Bytes],
    op: &BlockOp,
    now: Instant,
    strict: bool,
) -> Result<Option<Reply>, CmdError> {
    for key in keys {
        let ready = match ks.list(key, now) {
            Ok(list) => list.is_some_and(|l| !l.is_empty()),
            Err(e) if strict => return Err(e),
            Err(_) => false,
        };
        if !ready {
            continue;
        }
        return match op {
            BlockOp::Pop(end) => Ok(ks
                .pop(key, *end, now)?
                .map(|v| Reply::Array(vec![Reply::Bulk(key.clone()), Reply::Bulk(v)]))),
            BlockOp::Move { dst, from, to } => {
                Ok(ks.lmove(key, dst, *from, *to, now)?.map(Reply::Bulk))
            }
        };
    }
    Ok(None)
}

impl State {
    /// Serves blocked clients, oldest first, from whatever their keys now hold. Repeats while
    /// progress is made, since a served `BLMOVE` pushes onto another list.
    pub(super) fn serve_waiters(&mut self, now: Instant) {
        loop {
            let mut progress = false;
            let mut i = 0;
            while i < self.waiters.len() {
                let w = &self.waiters[i];
                let ks = &mut self.store.dbs[w.db];
                let reply = match pop_ready(ks, &w.keys, &w.op, now, false) {
                    Ok(None) => {
                        i += 1;
                        continue;
                    }
                    Ok(Some(reply)) => reply,
                    Err(e) => e.into(),
                };
                if let Some(w) = self.waiters.remove(i) {
                    self.served.insert(w.id, reply);
                }
                progress = true;
            }
            if !progress {
                return;
            }
        }
    }
}

impl Shared {
    /// Parks a client in a blocking pop until a push serves it, its timeout passes, it
    /// disconnects, or the server stops.
    pub(super) fn block(
        &self,
        mut state: MutexGuard<'_, State>,
        session: &Session,
        block: Block,
        closed: &AtomicBool,
    ) -> Step {
        let id = state.next_waiter;
        state.next_waiter += 1;
        state.waiters.push_back(Waiter {
            id,
            conn: session.id,
            db: session.db,
            keys: block.keys,
            op: block.op,
        });
        loop {
            if let Some(reply) = state.served.remove(&id) {
                return Step::Reply(reply);
            }
            if self.stopping.load(Ordering::SeqCst) || closed.load(Ordering::SeqCst) {
                state.waiters.retain(|w| w.id != id);
                return Step::Disconnect;
            }
            match block.deadline {
                None => state = wait(&self.changed, state),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        state.waiters.retain(|w| w.id != id);
                        return Step::Reply(Reply::NilArray);
                    }
                    state = wait_timeout(&self.changed, state, left);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::command::execute;
    use crate::sandbox::kv::testing::{Harness, WRONGTYPE, bulk, bulks, error, words};

    #[test]
    fn blocking_pop_serves_at_once_or_blocks() {
        let mut h = Harness::new();
        h.run("RPUSH b x");
        assert_eq!(h.run("BLPOP a b 0"), bulks(&["b", "x"]));
        let Outcome::Block(block) = h.outcome("BRPOP a b 1.5") else {
            panic!("BRPOP on empty lists blocks")
        };
        assert_eq!(block.keys, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(block.op, BlockOp::Pop(End::Right));
        assert_eq!(block.deadline, Some(h.now + Duration::from_millis(1500)));
        assert!(matches!(
            h.outcome("BLPOP a 0"),
            Outcome::Block(Block { deadline: None, .. })
        ));
        assert_eq!(
            h.run("BLPOP a x"),
            error("ERR timeout is not a float or out of range")
        );
        assert_eq!(h.run("BLPOP a -1"), error("ERR timeout is negative"));
        h.run("SET s v");
        assert_eq!(h.run("BLPOP s 0"), error(WRONGTYPE));
        h.run("RPUSH src 1");
        assert_eq!(h.run("BLMOVE src dst LEFT RIGHT 0"), bulk("1"));
        assert_eq!(h.run("BRPOPLPUSH dst src 0"), bulk("1"));
        assert!(matches!(
            h.outcome("BLMOVE nope dst LEFT RIGHT 0"),
            Outcome::Block(_)
        ));
    }

    #[test]
    fn pushes_serve_waiters_oldest_first_and_chain_moves() {
        let mut h = Harness::new();
        let waiter = |id, keys: &[&str], op| Waiter {
            id,
            conn: id,
            db: 0,
            keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            op,
        };
        h.state
            .waiters
            .push_back(waiter(1, &["q"], BlockOp::Pop(End::Right)));
        h.state
            .waiters
            .push_back(waiter(2, &["other", "q"], BlockOp::Pop(End::Left)));
        h.state.waiters.push_back(waiter(
            3,
            &["q"],
            BlockOp::Move {
                dst: b"done".to_vec(),
                from: End::Left,
                to: End::Left,
            },
        ));
        h.state
            .waiters
            .push_back(waiter(4, &["done"], BlockOp::Pop(End::Left)));
        assert_eq!(
            h.run("LPUSH q a b"),
            Reply::Int(2),
            "the pusher sees the length"
        );
        assert_eq!(h.state.served.remove(&1), Some(bulks(&["q", "a"])));
        assert_eq!(h.state.served.remove(&2), Some(bulks(&["q", "b"])));
        assert_eq!(h.state.waiters.len(), 2);
        assert_eq!(h.run("RPUSH q c"), Reply::Int(1));
        assert_eq!(h.state.served.remove(&3), Some(bulk("c")));
        assert_eq!(
            h.state.served.remove(&4),
            Some(bulks(&["done", "c"])),
            "the moved element wakes the waiter on the destination"
        );
        assert!(h.state.waiters.is_empty());
        assert_eq!(h.run("DBSIZE"), Reply::Int(0));
    }

    #[test]
    fn multi_exec_runs_blocking_pops_without_blocking() {
        let mut h = Harness::new();
        let outcome = execute(
            &mut h.state,
            &mut h.session,
            &words("BLPOP nope 0"),
            true,
            h.now,
        );
        assert_eq!(outcome, Outcome::Reply(Reply::NilArray));
    }
}

//! One client's session: its state ([`Session`]: database, name, transaction, watched keys,
//! subscriptions, reply mode) and how its commands run ([`Shared::handle`]): transactions
//! (`MULTI`, `EXEC`, `DISCARD`, optimistic locking with `WATCH`), `QUIT` and `RESET` here,
//! the subscribed-mode rules, everything else through [`execute`].
//!
//! **`WATCH`.** `EXEC` answers the null array, and runs nothing, when a key its connection
//! watches was written (by anyone, itself included) or expired since `WATCH`; see
//! [`super::keyspace`] for how writes are noticed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::command::{Outcome, err, execute, lookup};
use super::protocol::Reply;
use super::server::{Shared, State};
use super::{Bytes, lock};

/// Commands a subscribed client may send (RESP2).
const SUBSCRIBED_COMMANDS: &[&str] = &[
    "SUBSCRIBE",
    "PSUBSCRIBE",
    "UNSUBSCRIBE",
    "PUNSUBSCRIBE",
    "PING",
    "QUIT",
    "RESET",
];

/// `CLIENT REPLY`: whether replies are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplyMode {
    On,
    Off,
    /// `CLIENT REPLY SKIP` was just sent: no reply to it, nor to the next command.
    SkipThis,
    SkipNext,
}

/// Per-connection state.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) id: u64,
    pub(super) db: usize,
    pub(super) name: Option<Bytes>,
    pub(super) peer: String,
    pub(super) port: u16,
    /// Commands queued since `MULTI`.
    pub(super) multi: Option<Vec<Vec<Bytes>>>,
    /// A command queued since `MULTI` was rejected: `EXEC` must abort.
    pub(super) multi_failed: bool,
    /// `(db, key)` pairs this connection `WATCH`es.
    pub(super) watching: Vec<(usize, Bytes)>,
    pub(super) channels: Vec<Bytes>,
    pub(super) patterns: Vec<Bytes>,
    pub(super) reply: ReplyMode,
}

impl Session {
    pub(super) fn new(id: u64, peer: String, port: u16) -> Session {
        Session {
            id,
            db: 0,
            name: None,
            peer,
            port,
            multi: None,
            multi_failed: false,
            watching: Vec::new(),
            channels: Vec::new(),
            patterns: Vec::new(),
            reply: ReplyMode::On,
        }
    }

    pub(super) fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub(super) fn subscribed(&self) -> bool {
        self.subscriptions() > 0
    }

    /// Whether the reply to the command just run is suppressed by `CLIENT REPLY`.
    pub(super) fn silenced(&mut self) -> bool {
        match self.reply {
            ReplyMode::On => false,
            ReplyMode::Off => true,
            ReplyMode::SkipThis => {
                self.reply = ReplyMode::SkipNext;
                true
            }
            ReplyMode::SkipNext => {
                self.reply = ReplyMode::On;
                true
            }
        }
    }

    fn unwatch(&mut self, state: &mut State) {
        state.store.unwatch(self.id, &self.watching);
        self.watching.clear();
    }

    /// Forgets the session's transaction, watches and subscriptions (`RESET`, a disconnect).
    pub(super) fn end(&mut self, state: &mut State) {
        self.multi = None;
        self.multi_failed = false;
        self.unwatch(state);
        state.pubsub.remove_conn(self.id);
        self.channels.clear();
        self.patterns.clear();
    }
}

/// What the executor does after a command.
#[derive(Debug)]
pub(super) enum Step {
    Reply(Reply),
    ReplyAndClose(Reply),
    /// The client went away (or the server is stopping) while the command was blocked.
    Disconnect,
}

/// A command's result before blocking: a step, or a blocking pop to wait for.
enum Dispatched {
    Step(Step),
    Block(super::blocking::Block),
}

impl Shared {
    /// Runs one client command, under the state lock. Messages published to the client before
    /// it are written first.
    pub(super) fn handle(
        &self,
        session: &mut Session,
        args: &[Bytes],
        closed: &AtomicBool,
    ) -> Step {
        self.commands.fetch_add(1, Ordering::SeqCst);
        let mut state = lock(&self.state);
        let messages = if session.subscribed() {
            state.pubsub.take_outbox(session.id)
        } else {
            Vec::new()
        };
        let step = match self.dispatch(&mut state, session, args) {
            Dispatched::Step(step) => step,
            Dispatched::Block(block) => return self.block(state, session, block, closed),
        };
        if messages.is_empty() {
            return step;
        }
        let with = |reply| {
            let mut all = messages;
            all.push(reply);
            Reply::Many(all)
        };
        match step {
            Step::Reply(reply) => Step::Reply(with(reply)),
            Step::ReplyAndClose(reply) => Step::ReplyAndClose(with(reply)),
            Step::Disconnect => Step::Disconnect,
        }
    }

    fn dispatch(&self, state: &mut State, session: &mut Session, args: &[Bytes]) -> Dispatched {
        let reply = |reply: Reply| Dispatched::Step(Step::Reply(reply));
        let spec = match lookup(args) {
            Ok(spec) => spec,
            Err(e) => {
                session.multi_failed |= session.multi.is_some();
                return reply(e.into());
            }
        };
        if session.subscribed() && !SUBSCRIBED_COMMANDS.contains(&spec.name) {
            return reply(
                err(format!(
                    "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
                     RESET are allowed in this context",
                    spec.name.to_ascii_lowercase()
                ))
                .into(),
            );
        }
        let in_multi = session.multi.is_some();
        match spec.name {
            "QUIT" => return Dispatched::Step(Step::ReplyAndClose(Reply::OK)),
            "RESET" => {
                session.end(state);
                session.db = 0;
                session.name = None;
                session.reply = ReplyMode::On;
                return reply(Reply::Simple("RESET"));
            }
            "MULTI" if in_multi => return reply(err("MULTI calls can not be nested").into()),
            "MULTI" => {
                session.multi = Some(Vec::new());
                return reply(Reply::OK);
            }
            "DISCARD" if in_multi => {
                session.multi = None;
                session.multi_failed = false;
                session.unwatch(state);
                return reply(Reply::OK);
            }
            "DISCARD" => return reply(err("DISCARD without MULTI").into()),
            "EXEC" => return reply(self.exec(state, session)),
            "WATCH" if in_multi => return reply(err("WATCH inside MULTI is not allowed").into()),
            _ => {}
        }
        if let Some(queue) = &mut session.multi {
            queue.push(args.to_vec());
            return reply(Reply::Simple("QUEUED"));
        }
        let before = state.writes;
        let outcome = execute(state, session, args, false, Instant::now());
        self.after_command(state, before);
        match outcome {
            Outcome::Reply(r) => reply(r),
            Outcome::Block(block) => Dispatched::Block(block),
        }
    }

    /// `EXEC`: runs the queued commands under one lock, unless a watched key changed; blocking
    /// pops do not block here.
    fn exec(&self, state: &mut State, session: &mut Session) -> Reply {
        let Some(queue) = session.multi.take() else {
            return err("EXEC without MULTI").into();
        };
        if std::mem::take(&mut session.multi_failed) {
            session.unwatch(state);
            return Reply::Error(
                "EXECABORT Transaction discarded because of previous errors.".into(),
            );
        }
        let now = Instant::now();
        // A watched key that expired since counts as changed: looking it up removes it.
        for (db, key) in &session.watching {
            state.store.dbs[*db].live(key, now);
        }
        let dirty = state.store.is_dirty(session.id);
        session.unwatch(state);
        if dirty {
            return Reply::NilArray;
        }
        let before = state.writes;
        let replies = queue
            .iter()
            .map(|args| match execute(state, session, args, true, now) {
                Outcome::Reply(reply) => reply,
                Outcome::Block(_) => Reply::NilArray,
            })
            .collect();
        self.after_command(state, before);
        Reply::Array(replies)
    }

    /// After a write: hand new list elements to blocked clients, then wake everyone waiting.
    fn after_command(&self, state: &mut State, writes_before: u64) {
        if state.writes != writes_before {
            state.serve_waiters(Instant::now());
            self.changed.notify_all();
        }
    }
}

//! The built-in key-value store: a small Redis-compatible server speaking RESP2.
//!
//! Learners' services reach it through `sandbox-apps/_shared/kv.py`, exactly as they would reach
//! a real `redis-server`; checks start one per scenario and inspect it in-process
//! ([`KvServer::keys`], [`KvServer::writes`], [`KvServer::wait_for_change`], ...).
//!
//! The file reads top to bottom, from the wire to the data:
//! - **[`KvServer`]**: networking. One accept thread; per connection a *reader* thread that
//!   parses commands (and so notices a disconnect even while the client is blocked in `BRPOP`)
//!   and an *executor* thread that runs them and writes the replies.
//! - **Sessions and dispatch**: per-connection state (selected database, `MULTI` queue), the
//!   command table (name, arity, write flag) and the handlers, one function per family.
//! - **[`Store`]**: the data model. Sixteen [`Keyspace`]s of strings, lists and hashes with lazy
//!   expiry; no I/O, no locking, every method takes `now` so expiry is testable.
//! - **Protocol**: [`RespReader`] (RESP2 arrays and inline commands), [`Reply`], [`glob_match`].
//!
//! Blocking pops follow Redis: a push hands elements straight to blocked clients, oldest first,
//! before anyone else can pop them; waiters sleep on a [`Condvar`], never poll.
//!
//! Known differences from Redis: no persistence, auth, pub/sub, scripting, `WATCH`, sets or
//! sorted sets; hashes list their fields in sorted order (Redis: insertion order for small
//! hashes); `KEYS` replies sorted; `INFO` and `COMMAND` answer with placeholders.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Number of databases (`SELECT 0` .. `SELECT 15`), as in a default Redis.
pub const DATABASES: usize = 16;

/// The Redis version the store claims in `INFO` and `HELLO`.
const VERSION: &str = "7.0.0";
/// Longest inline command line (Redis: 64 KiB).
const MAX_INLINE: usize = 64 * 1024;
/// Largest bulk string accepted from a client.
const MAX_BULK: usize = 64 * 1024 * 1024;
/// Most arguments in one command.
const MAX_ARGS: usize = 1024 * 1024;
/// Commands a reader thread may parse ahead of its executor (pipelining).
const PIPELINE_DEPTH: usize = 64;

type Bytes = Vec<u8>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// =================================================================================================
// The server
// =================================================================================================

/// A running store on `127.0.0.1`. Dropping it stops accepting, disconnects every client (also
/// those blocked in `BLPOP`) and joins all its threads.
#[must_use]
pub struct KvServer {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// What the threads of one server share.
struct Shared {
    state: Mutex<State>,
    /// Notified after every write, when a connection closes, and at shutdown.
    changed: Condvar,
    stopping: AtomicBool,
    commands: AtomicU64,
    addr: SocketAddr,
    /// A handle on every open client socket, so shutdown can close them.
    conns: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Everything behind the one lock: the data, the blocked clients and the write counter.
struct State {
    store: Store,
    /// Clients blocked in `BLPOP` and friends, oldest first.
    waiters: VecDeque<Waiter>,
    /// Replies handed to blocked clients by a push, waiting to be picked up by their executor.
    served: HashMap<u64, Reply>,
    writes: u64,
    next_waiter: u64,
}

impl KvServer {
    /// Starts a store on `127.0.0.1:port`; port 0 picks a free port (see [`KvServer::port`]).
    pub fn start(port: u16) -> io::Result<KvServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            commands: AtomicU64::new(0),
            addr,
            conns: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
        });
        let accept = thread::Builder::new().name("kv-accept".into()).spawn({
            let shared = Arc::clone(&shared);
            move || accept_loop(&shared, &listener)
        })?;
        Ok(KvServer {
            shared,
            accept: Some(accept),
        })
    }

    /// The port the store listens on.
    pub fn port(&self) -> u16 {
        self.shared.addr.port()
    }

    /// `redis://127.0.0.1:PORT/0`, ready for `REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port())
    }

    /// Write commands executed so far across all databases (`SET`, `DEL`, `LPUSH`, `BRPOP`, ...),
    /// counted even when they changed nothing or failed on a wrong type.
    pub fn writes(&self) -> u64 {
        self.state().writes
    }

    /// Commands received so far, including unknown and failing ones.
    pub fn commands(&self) -> u64 {
        self.shared.commands.load(Ordering::SeqCst)
    }

    /// Keys of database 0 matching a Redis glob pattern, sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        self.keys_in(0, pattern)
    }

    /// Keys of database `db` matching a Redis glob pattern, sorted (empty for a bad `db`).
    pub fn keys_in(&self, db: usize, pattern: &str) -> Vec<String> {
        let mut state = self.state();
        let Some(ks) = state.store.dbs.get_mut(db) else {
            return Vec::new();
        };
        ks.keys(pattern.as_bytes(), Instant::now())
            .iter()
            .map(|k| lossy(k))
            .collect()
    }

    /// The string value of `key` in database 0 (`None` when missing or not a string).
    pub fn get(&self, key: &str) -> Option<String> {
        match self.state().store.dbs[0].peek(key.as_bytes(), Instant::now()) {
            Some(Value::Str(v)) => Some(lossy(v)),
            _ => None,
        }
    }

    /// The length of the list `key` in database 0 (0 when missing or not a list).
    pub fn list_len(&self, key: &str) -> usize {
        match self.state().store.dbs[0].peek(key.as_bytes(), Instant::now()) {
            Some(Value::List(l)) => l.len(),
            _ => 0,
        }
    }

    /// The list `key` in database 0, head first (empty when missing or not a list).
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.state().store.dbs[0].peek(key.as_bytes(), Instant::now()) {
            Some(Value::List(l)) => l.iter().map(|v| lossy(v)).collect(),
            _ => Vec::new(),
        }
    }

    /// The hash `key` in database 0 (empty when missing or not a hash).
    pub fn hash(&self, key: &str) -> BTreeMap<String, String> {
        match self.state().store.dbs[0].peek(key.as_bytes(), Instant::now()) {
            Some(Value::Hash(h)) => h.iter().map(|(f, v)| (lossy(f), lossy(v))).collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Number of keys in database `db`, expired keys excluded.
    pub fn dbsize(&self, db: usize) -> usize {
        let mut state = self.state();
        state
            .store
            .dbs
            .get_mut(db)
            .map_or(0, |ks| ks.len(Instant::now()))
    }

    /// Clients currently blocked in `BLPOP`, `BRPOP`, `BLMOVE` or `BRPOPLPUSH` (e.g. idle workers).
    pub fn blocked_clients(&self) -> usize {
        self.state().waiters.len()
    }

    /// Sets a string in database 0, as a check's setup step. Not counted in [`KvServer::writes`].
    pub fn set(&self, key: &str, value: &str) {
        let mut state = self.state();
        state.store.dbs[0].set_string(key.as_bytes(), value.as_bytes().to_vec(), None);
        self.shared.changed.notify_all();
    }

    /// Appends values to the list `key` in database 0 (e.g. to enqueue jobs), waking blocked
    /// clients. Not counted in [`KvServer::writes`]. Fails if `key` holds another type.
    pub fn rpush(&self, key: &str, values: &[&str]) -> Result<usize, KvTypeError> {
        let mut state = self.state();
        let now = Instant::now();
        let list = state.store.dbs[0]
            .list_or_new(key.as_bytes(), now)
            .map_err(|_| KvTypeError)?;
        list.extend(values.iter().map(|v| v.as_bytes().to_vec()));
        let len = list.len();
        state.serve_waiters(now);
        self.shared.changed.notify_all();
        Ok(len)
    }

    /// Blocks until the next write command completes or `timeout` passes; true if a write came.
    /// Lets a check wait for an event instead of sleeping.
    pub fn wait_for_change(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.state();
        let start = state.writes;
        while state.writes == start {
            match deadline {
                None => state = wait(&self.shared.changed, state),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    state = wait_timeout(&self.shared.changed, state, left);
                }
            }
        }
        true
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

/// Returned by [`KvServer::rpush`] when the key holds a value that is not a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
pub struct KvTypeError;

impl fmt::Debug for KvServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvServer")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl Drop for KvServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        {
            // Taking the lock orders this after any waiter's check of `stopping`.
            let _state = self.state();
            self.shared.changed.notify_all();
        }
        // The accept thread sits in accept(): a throwaway connection wakes it up.
        let woken =
            TcpStream::connect_timeout(&self.shared.addr, Duration::from_millis(200)).is_ok();
        if let Some(accept) = self.accept.take() {
            if woken {
                let _ = accept.join();
            }
        }
        for stream in lock(&self.shared.conns).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let threads = std::mem::take(&mut *lock(&self.shared.threads));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn wait<'a>(condvar: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

fn wait_timeout<'a>(
    condvar: &Condvar,
    guard: MutexGuard<'a, State>,
    timeout: Duration,
) -> MutexGuard<'a, State> {
    match condvar.wait_timeout(guard, timeout) {
        Ok((guard, _)) => guard,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut next_id = 1;
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        match stream {
            Ok(stream) => {
                let id = next_id;
                next_id += 1;
                let _ = spawn_connection(shared, &stream, id);
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A message from a connection's reader thread to its executor thread.
enum Incoming {
    Command(Vec<Bytes>),
    ProtocolError(String),
}

fn spawn_connection(shared: &Arc<Shared>, stream: &TcpStream, id: u64) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let reader_stream = stream.try_clone()?;
    lock(&shared.conns).insert(id, stream.try_clone()?);
    let closed = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::sync_channel(PIPELINE_DEPTH);

    let spawned = thread::Builder::new()
        .name(format!("kv-read-{id}"))
        .spawn({
            let (shared, closed) = (Arc::clone(shared), Arc::clone(&closed));
            move || read_loop(&shared, reader_stream, &tx, id, &closed)
        })
        .and_then(|reader| {
            let executor = thread::Builder::new().name(format!("kv-conn-{id}")).spawn({
                let shared = Arc::clone(shared);
                let stream = stream.try_clone()?;
                move || exec_loop(&shared, &stream, &rx, id, &closed)
            });
            let mut threads = lock(&shared.threads);
            threads.retain(|t| !t.is_finished());
            threads.push(reader);
            threads.push(executor?);
            Ok(())
        });
    if spawned.is_err() {
        let _ = stream.shutdown(Shutdown::Both);
        lock(&shared.conns).remove(&id);
    }
    spawned
}

/// Parses commands off the socket and queues them for the executor. On end of input (or a
/// broken socket) it marks the connection closed and withdraws it from any blocking pop, so a
/// worker killed while blocked in `BRPOP` does not swallow the next job.
fn read_loop(
    shared: &Shared,
    stream: TcpStream,
    tx: &SyncSender<Incoming>,
    id: u64,
    closed: &AtomicBool,
) {
    let mut reader = RespReader::new(BufReader::new(stream));
    loop {
        match reader.read_command() {
            Ok(Some(args)) => {
                if tx.send(Incoming::Command(args)).is_err() {
                    break;
                }
            }
            Ok(None) | Err(ReadError::Closed) => break,
            Err(ReadError::Protocol(msg)) => {
                let _ = tx.send(Incoming::ProtocolError(msg));
                break;
            }
        }
    }
    closed.store(true, Ordering::SeqCst);
    let mut state = lock(&shared.state);
    state.waiters.retain(|w| w.conn != id);
    shared.changed.notify_all();
}

/// Runs one connection's commands in order and writes the replies.
fn exec_loop(
    shared: &Shared,
    stream: &TcpStream,
    rx: &Receiver<Incoming>,
    id: u64,
    closed: &AtomicBool,
) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut session = Session::new(id, peer, shared.addr.port());
    let mut out = Vec::new();
    while let Ok(incoming) = rx.recv() {
        let (reply, close) = match incoming {
            Incoming::Command(args) => match shared.handle(&mut session, args, closed) {
                Step::Reply(reply) => (reply, false),
                Step::ReplyAndClose(reply) => (reply, true),
                Step::Disconnect => break,
            },
            Incoming::ProtocolError(msg) => {
                (Reply::Error(format!("ERR Protocol error: {msg}")), true)
            }
        };
        out.clear();
        reply.encode(&mut out);
        if (&*stream).write_all(&out).is_err() || close {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    lock(&shared.conns).remove(&id);
}

/// What the executor does after a command.
#[derive(Debug)]
enum Step {
    Reply(Reply),
    ReplyAndClose(Reply),
    /// The client went away (or the server is stopping) while the command was blocked.
    Disconnect,
}

impl Shared {
    /// Runs one client command: transactions and `QUIT` here, everything else through
    /// [`execute`] under the lock; a blocking pop with nothing to pop waits in [`Shared::block`].
    fn handle(&self, session: &mut Session, args: Vec<Bytes>, closed: &AtomicBool) -> Step {
        self.commands.fetch_add(1, Ordering::SeqCst);
        let spec = match lookup(&args) {
            Ok(spec) => spec,
            Err(e) => {
                session.multi_failed |= session.multi.is_some();
                return Step::Reply(e.into());
            }
        };
        match (spec.name, &mut session.multi) {
            ("QUIT", _) => return Step::ReplyAndClose(Reply::OK),
            ("MULTI", Some(_)) => return Step::Reply(err("MULTI calls can not be nested").into()),
            ("MULTI", multi) => {
                *multi = Some(Vec::new());
                return Step::Reply(Reply::OK);
            }
            ("DISCARD", multi) => {
                return Step::Reply(match multi.take() {
                    Some(_) => {
                        session.multi_failed = false;
                        Reply::OK
                    }
                    None => err("DISCARD without MULTI").into(),
                });
            }
            ("EXEC", _) => return Step::Reply(self.exec(session)),
            (_, Some(queue)) => {
                queue.push(args);
                return Step::Reply(Reply::Simple("QUEUED"));
            }
            (_, None) => {}
        }
        let mut state = lock(&self.state);
        let before = state.writes;
        let outcome = execute(&mut state, session, &args, false, Instant::now());
        self.after_command(&mut state, before);
        match outcome {
            Outcome::Reply(reply) => Step::Reply(reply),
            Outcome::Block(block) => self.block(state, session, block, closed),
        }
    }

    /// `EXEC`: runs the queued commands under one lock; blocking pops do not block here.
    fn exec(&self, session: &mut Session) -> Reply {
        let Some(queue) = session.multi.take() else {
            return err("EXEC without MULTI").into();
        };
        if std::mem::take(&mut session.multi_failed) {
            return Reply::Error(
                "EXECABORT Transaction discarded because of previous errors.".into(),
            );
        }
        let mut state = lock(&self.state);
        let before = state.writes;
        let now = Instant::now();
        let replies = queue
            .iter()
            .map(|args| match execute(&mut state, session, args, true, now) {
                Outcome::Reply(reply) => reply,
                Outcome::Block(_) => Reply::NilArray,
            })
            .collect();
        self.after_command(&mut state, before);
        Reply::Array(replies)
    }

    /// After a write: hand new list elements to blocked clients, then wake everyone waiting.
    fn after_command(&self, state: &mut State, writes_before: u64) {
        if state.writes != writes_before {
            state.serve_waiters(Instant::now());
            self.changed.notify_all();
        }
    }

    /// Parks a client in a blocking pop until a push serves it, its timeout passes, it
    /// disconnects, or the server stops.
    fn block(
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

impl State {
    fn new() -> State {
        State {
            store: Store::new(),
            waiters: VecDeque::new(),
            served: HashMap::new(),
            writes: 0,
            next_waiter: 0,
        }
    }

    /// Serves blocked clients, oldest first, from whatever their keys now hold. Repeats while
    /// progress is made, since a served `BLMOVE` pushes onto another list.
    fn serve_waiters(&mut self, now: Instant) {
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

/// A client blocked in a blocking pop.
#[derive(Debug)]
struct Waiter {
    id: u64,
    conn: u64,
    db: usize,
    keys: Vec<Bytes>,
    op: BlockOp,
}

/// A blocking pop that found nothing: what to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    keys: Vec<Bytes>,
    op: BlockOp,
    /// `None` waits forever.
    deadline: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum BlockOp {
    /// `BLPOP` / `BRPOP`: reply `[key, value]`.
    Pop(End),
    /// `BLMOVE` / `BRPOPLPUSH`: move onto `dst`, reply the value.
    Move { dst: Bytes, from: End, to: End },
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

// =================================================================================================
// Sessions, the command table and dispatch
// =================================================================================================

/// Per-connection state.
#[derive(Debug)]
struct Session {
    id: u64,
    db: usize,
    name: Option<Bytes>,
    peer: String,
    port: u16,
    /// Commands queued since `MULTI`.
    multi: Option<Vec<Vec<Bytes>>>,
    /// A command queued since `MULTI` was rejected: `EXEC` must abort.
    multi_failed: bool,
}

impl Session {
    fn new(id: u64, peer: String, port: u16) -> Session {
        Session {
            id,
            db: 0,
            name: None,
            peer,
            port,
            multi: None,
            multi_failed: false,
        }
    }
}

/// The result of running a command: a reply, or a blocking pop that has to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Reply(Reply),
    Block(Block),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Keys,
    Strings,
    Lists,
    Blocking,
    Hashes,
    Server,
    /// `QUIT`, `MULTI`, `EXEC`, `DISCARD`: handled by the connection, see [`Shared::handle`].
    Connection,
}

/// One command: its name, its arity (as in Redis: `n` exactly, `-n` at least `n`, counting the
/// name) and whether it modifies data.
#[derive(Debug)]
struct Spec {
    name: &'static str,
    arity: i32,
    write: bool,
    family: Family,
}

const fn spec(name: &'static str, arity: i32, write: bool, family: Family) -> Spec {
    Spec {
        name,
        arity,
        write,
        family,
    }
}

const W: bool = true;
const R: bool = false;

static COMMANDS: &[Spec] = &[
    spec("DEL", -2, W, Family::Keys),
    spec("UNLINK", -2, W, Family::Keys),
    spec("EXISTS", -2, R, Family::Keys),
    spec("TYPE", 2, R, Family::Keys),
    spec("KEYS", 2, R, Family::Keys),
    spec("DBSIZE", 1, R, Family::Keys),
    spec("FLUSHDB", -1, W, Family::Keys),
    spec("FLUSHALL", -1, W, Family::Keys),
    spec("EXPIRE", -3, W, Family::Keys),
    spec("PEXPIRE", -3, W, Family::Keys),
    spec("PERSIST", 2, W, Family::Keys),
    spec("TTL", 2, R, Family::Keys),
    spec("PTTL", 2, R, Family::Keys),
    spec("GET", 2, R, Family::Strings),
    spec("SET", -3, W, Family::Strings),
    spec("SETNX", 3, W, Family::Strings),
    spec("GETDEL", 2, W, Family::Strings),
    spec("MGET", -2, R, Family::Strings),
    spec("MSET", -3, W, Family::Strings),
    spec("APPEND", 3, W, Family::Strings),
    spec("STRLEN", 2, R, Family::Strings),
    spec("INCR", 2, W, Family::Strings),
    spec("DECR", 2, W, Family::Strings),
    spec("INCRBY", 3, W, Family::Strings),
    spec("DECRBY", 3, W, Family::Strings),
    spec("LPUSH", -3, W, Family::Lists),
    spec("RPUSH", -3, W, Family::Lists),
    spec("LPOP", -2, W, Family::Lists),
    spec("RPOP", -2, W, Family::Lists),
    spec("LLEN", 2, R, Family::Lists),
    spec("LRANGE", 4, R, Family::Lists),
    spec("LINDEX", 3, R, Family::Lists),
    spec("LREM", 4, W, Family::Lists),
    spec("LMOVE", 5, W, Family::Lists),
    spec("RPOPLPUSH", 3, W, Family::Lists),
    spec("BLPOP", -3, W, Family::Blocking),
    spec("BRPOP", -3, W, Family::Blocking),
    spec("BLMOVE", 6, W, Family::Blocking),
    spec("BRPOPLPUSH", 4, W, Family::Blocking),
    spec("HSET", -4, W, Family::Hashes),
    spec("HMSET", -4, W, Family::Hashes),
    spec("HSETNX", 4, W, Family::Hashes),
    spec("HGET", 3, R, Family::Hashes),
    spec("HMGET", -3, R, Family::Hashes),
    spec("HGETALL", 2, R, Family::Hashes),
    spec("HDEL", -3, W, Family::Hashes),
    spec("HINCRBY", 4, W, Family::Hashes),
    spec("HLEN", 2, R, Family::Hashes),
    spec("HEXISTS", 3, R, Family::Hashes),
    spec("HKEYS", 2, R, Family::Hashes),
    spec("HVALS", 2, R, Family::Hashes),
    spec("PING", -1, R, Family::Server),
    spec("ECHO", 2, R, Family::Server),
    spec("SELECT", 2, R, Family::Server),
    spec("CLIENT", -2, R, Family::Server),
    spec("INFO", -1, R, Family::Server),
    spec("COMMAND", -1, R, Family::Server),
    spec("CONFIG", -2, R, Family::Server),
    spec("HELLO", -1, R, Family::Server),
    spec("AUTH", -2, R, Family::Server),
    spec("TIME", 1, R, Family::Server),
    spec("QUIT", -1, R, Family::Connection),
    spec("MULTI", 1, R, Family::Connection),
    spec("EXEC", 1, R, Family::Connection),
    spec("DISCARD", 1, R, Family::Connection),
];

/// Finds the command and checks its arity, with Redis's error messages.
fn lookup(args: &[Bytes]) -> Result<&'static Spec, CmdError> {
    let name = args.first().map_or(&[][..], Vec::as_slice);
    let Some(spec) = COMMANDS
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
    else {
        let mut shown = String::new();
        for arg in args.iter().skip(1) {
            if shown.len() >= 128 {
                break;
            }
            let arg: String = lossy(arg).chars().take(128 - shown.len()).collect();
            let _ = write!(shown, "'{arg}' ");
        }
        let name: String = lossy(name).chars().take(128).collect();
        return Err(err(format!(
            "unknown command '{name}', with args beginning with: {shown}"
        )));
    };
    let argc = args.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || argc < spec.arity.abs() {
        return Err(CmdError::Arity(spec.name.to_ascii_lowercase()));
    }
    Ok(spec)
}

/// Runs one command against the state. Counts writes; a blocking pop that finds nothing returns
/// [`Outcome::Block`], unless `in_multi` (inside `EXEC`), where it answers nil at once.
fn execute(
    state: &mut State,
    session: &mut Session,
    args: &[Bytes],
    in_multi: bool,
    now: Instant,
) -> Outcome {
    let spec = match lookup(args) {
        Ok(spec) => spec,
        Err(e) => return Outcome::Reply(e.into()),
    };
    if spec.write {
        state.writes += 1;
    }
    let a = &args[1..];
    let mut ctx = Ctx {
        store: &mut state.store,
        session,
        now,
    };
    let result = match spec.family {
        Family::Keys => keys_command(&mut ctx, spec.name, a),
        Family::Strings => strings_command(&mut ctx, spec.name, a),
        Family::Lists => lists_command(&mut ctx, spec.name, a),
        Family::Hashes => hashes_command(&mut ctx, spec.name, a),
        Family::Server => server_command(&mut ctx, spec.name, a),
        Family::Blocking => match blocking_command(&mut ctx, spec.name, a) {
            Ok(Some(block)) if !in_multi => return Outcome::Block(block),
            Ok(Some(_)) => Ok(Reply::NilArray),
            Ok(None) => unreachable!("blocking commands reply through Err or Block"),
            Err(Ok(reply)) => Ok(reply),
            Err(Err(e)) => Err(e),
        },
        Family::Connection => Err(err(format!("'{}' is not allowed here", spec.name))),
    };
    Outcome::Reply(result.unwrap_or_else(Reply::from))
}

/// What a handler sees: the store, the session (selected db) and the time.
struct Ctx<'a> {
    store: &'a mut Store,
    session: &'a mut Session,
    now: Instant,
}

impl Ctx<'_> {
    /// The selected database.
    fn ks(&mut self) -> &mut Keyspace {
        &mut self.store.dbs[self.session.db]
    }
}

/// An error reply. The text is exactly what Redis sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum CmdError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR wrong number of arguments for '{0}' command")]
    Arity(String),
    #[error("ERR {0}")]
    Other(String),
    /// An error with its own code, e.g. `NOPROTO ...`.
    #[error("{0}")]
    Coded(String),
}

fn err(msg: impl Into<String>) -> CmdError {
    CmdError::Other(msg.into())
}

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Reply {
        Reply::Error(e.to_string())
    }
}

/// An integer argument, parsed as strictly as Redis does.
fn int_arg(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

fn count_reply(n: usize) -> Reply {
    Reply::Int(n as i64)
}

/// Milliseconds since the Unix epoch, for `EXAT`/`PXAT` and overflow checks.
fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The instant `ms` (> 0) milliseconds after `now`, or an "invalid expire time" error when it
/// would overflow (as Redis checks against its millisecond clock).
fn deadline_after(ms: i64, now: Instant, command: &str) -> Result<Instant, CmdError> {
    let invalid = || err(format!("invalid expire time in '{command}' command"));
    if ms > i64::MAX - unix_millis() {
        return Err(invalid());
    }
    now.checked_add(Duration::from_millis(ms as u64))
        .ok_or_else(invalid)
}

fn end_arg(arg: &[u8]) -> Result<End, CmdError> {
    if arg.eq_ignore_ascii_case(b"LEFT") {
        Ok(End::Left)
    } else if arg.eq_ignore_ascii_case(b"RIGHT") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

fn keys_command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    Ok(match name {
        "DEL" | "UNLINK" => {
            let ks = ctx.ks();
            count_reply(a.iter().filter(|k| ks.remove(k, now)).count())
        }
        "EXISTS" => {
            let ks = ctx.ks();
            count_reply(a.iter().filter(|k| ks.live(k, now).is_some()).count())
        }
        "TYPE" => Reply::Simple(
            ctx.ks()
                .live(&a[0], now)
                .map_or("none", |e| e.value.type_name()),
        ),
        "KEYS" => Reply::Array(
            ctx.ks()
                .keys(&a[0], now)
                .into_iter()
                .map(Reply::Bulk)
                .collect(),
        ),
        "DBSIZE" => count_reply(ctx.ks().len(now)),
        "FLUSHDB" | "FLUSHALL" => {
            match a {
                [] => {}
                [mode]
                    if mode.eq_ignore_ascii_case(b"SYNC")
                        || mode.eq_ignore_ascii_case(b"ASYNC") => {}
                _ => return Err(CmdError::Syntax),
            }
            if name == "FLUSHDB" {
                ctx.ks().map.clear();
            } else {
                ctx.store.dbs.iter_mut().for_each(|ks| ks.map.clear());
            }
            Reply::OK
        }
        "EXPIRE" | "PEXPIRE" => expire(ctx, name, a)?,
        "PERSIST" => {
            let had_ttl = ctx.ks().live(&a[0], now).and_then(|e| e.expires.take());
            Reply::Int(i64::from(had_ttl.is_some()))
        }
        "TTL" | "PTTL" => Reply::Int(match ctx.ks().live(&a[0], now) {
            None => -2,
            Some(Entry { expires: None, .. }) => -1,
            Some(Entry {
                expires: Some(at), ..
            }) => {
                let ms = at.saturating_duration_since(now).as_millis() as i64;
                if name == "TTL" { (ms + 500) / 1000 } else { ms }
            }
        }),
        _ => return Err(err(format!("no handler for '{name}'"))),
    })
}

/// `EXPIRE key seconds [NX|XX|GT|LT]` and `PEXPIRE key milliseconds [...]`.
fn expire(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let amount = int_arg(&a[1])?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &a[2..] {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => return Err(err(format!("Unsupported option {}", lossy(opt)))),
        }
    }
    if nx && (xx || gt || lt) {
        return Err(err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(err("GT and LT options at the same time are not compatible"));
    }
    let command = name.to_ascii_lowercase();
    let ms = if name == "EXPIRE" {
        amount
            .checked_mul(1000)
            .ok_or_else(|| err(format!("invalid expire time in '{command}' command")))?
    } else {
        amount
    };
    let deadline = if ms > 0 {
        Some(deadline_after(ms, now, &command)?)
    } else {
        None
    };
    let ks = ctx.ks();
    let Some(entry) = ks.live(&a[0], now) else {
        return Ok(Reply::Int(0));
    };
    let current = entry
        .expires
        .map(|at| at.saturating_duration_since(now).as_millis() as i64);
    let allowed = (!nx || current.is_none())
        && (!xx || current.is_some())
        && (!gt || current.is_some_and(|c| ms > c))
        && (!lt || current.is_none_or(|c| ms < c));
    if !allowed {
        return Ok(Reply::Int(0));
    }
    match deadline {
        Some(at) => entry.expires = Some(at),
        // A TTL in the past deletes the key, as in Redis.
        None => {
            ks.remove(&a[0], now);
        }
    }
    Ok(Reply::Int(1))
}

fn strings_command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    Ok(match name {
        "GET" => ctx
            .ks()
            .string(&a[0], now)?
            .map_or(Reply::Nil, |v| Reply::Bulk(v.clone())),
        "SET" => set(ctx, a)?,
        "SETNX" => {
            let ks = ctx.ks();
            let fresh = ks.live(&a[0], now).is_none();
            if fresh {
                ks.set_string(&a[0], a[1].clone(), None);
            }
            Reply::Int(i64::from(fresh))
        }
        "GETDEL" => {
            let ks = ctx.ks();
            let value = ks.string(&a[0], now)?.map(std::mem::take);
            ks.remove(&a[0], now);
            value.map_or(Reply::Nil, Reply::Bulk)
        }
        "MGET" => {
            let ks = ctx.ks();
            Reply::Array(
                a.iter()
                    .map(|k| match ks.live(k, now) {
                        Some(Entry {
                            value: Value::Str(v),
                            ..
                        }) => Reply::Bulk(v.clone()),
                        _ => Reply::Nil,
                    })
                    .collect(),
            )
        }
        "MSET" => {
            if a.len() % 2 != 0 {
                return Err(CmdError::Arity("mset".into()));
            }
            let ks = ctx.ks();
            for pair in a.chunks_exact(2) {
                ks.set_string(&pair[0], pair[1].clone(), None);
            }
            Reply::OK
        }
        "APPEND" => {
            let ks = ctx.ks();
            if let Some(v) = ks.string(&a[0], now)? {
                v.extend_from_slice(&a[1]);
                count_reply(v.len())
            } else {
                ks.set_string(&a[0], a[1].clone(), None);
                count_reply(a[1].len())
            }
        }
        "STRLEN" => count_reply(ctx.ks().string(&a[0], now)?.map_or(0, |v| v.len())),
        "INCR" | "DECR" | "INCRBY" | "DECRBY" => {
            let by = match name {
                "INCR" => 1,
                "DECR" => -1,
                "INCRBY" => int_arg(&a[1])?,
                _ => int_arg(&a[1])?
                    .checked_neg()
                    .ok_or_else(|| err("decrement would overflow"))?,
            };
            let ks = ctx.ks();
            let value = match ks.string(&a[0], now)? {
                Some(v) => parse_i64(v).ok_or(CmdError::NotInteger)?,
                None => 0,
            };
            let value = value
                .checked_add(by)
                .ok_or_else(|| err("increment or decrement would overflow"))?;
            let text = value.to_string().into_bytes();
            match ks.string(&a[0], now)? {
                Some(v) => *v = text, // keeps the TTL, as Redis does
                None => ks.set_string(&a[0], text, None),
            }
            Reply::Int(value)
        }
        _ => return Err(err(format!("no handler for '{name}'"))),
    })
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]`.
fn set(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let (key, value) = (&a[0], &a[1]);
    let (mut nx, mut xx, mut get, mut keep_ttl) = (false, false, false, false);
    let mut expiry: Option<(&[u8], &Bytes)> = None;
    let mut i = 2;
    while i < a.len() {
        let opt = a[i].to_ascii_uppercase();
        match (opt.as_slice(), a.get(i + 1)) {
            (b"NX", _) if !xx => nx = true,
            (b"XX", _) if !nx => xx = true,
            (b"GET", _) => get = true,
            (b"KEEPTTL", _) if expiry.is_none() => keep_ttl = true,
            (b"EX" | b"PX" | b"EXAT" | b"PXAT", Some(n)) if expiry.is_none() && !keep_ttl => {
                expiry = Some((&a[i], n));
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let deadline = match expiry {
        None => None,
        Some((unit, n)) => {
            let invalid = || err("invalid expire time in 'set' command");
            let n = int_arg(n)?;
            let seconds = unit.eq_ignore_ascii_case(b"EX") || unit.eq_ignore_ascii_case(b"EXAT");
            if n <= 0 || (seconds && n > i64::MAX / 1000) {
                return Err(invalid());
            }
            let ms = if seconds { n * 1000 } else { n };
            if unit.len() == 4 {
                // EXAT / PXAT: an absolute Unix time; in the past means already expired.
                let left = ms - unix_millis();
                Some(if left > 0 {
                    deadline_after(left, now, "set")?
                } else {
                    now
                })
            } else {
                Some(deadline_after(ms, now, "set")?)
            }
        }
    };
    let ks = ctx.ks();
    let old = ks.live(key, now);
    let exists = old.is_some();
    let old_ttl = old.as_ref().and_then(|e| e.expires);
    let old_value = match old {
        Some(Entry {
            value: Value::Str(v),
            ..
        }) => Some(v.clone()),
        Some(_) if get => return Err(CmdError::WrongType),
        _ => None,
    };
    let reply_unset = || {
        if get {
            old_value.clone().map_or(Reply::Nil, Reply::Bulk)
        } else {
            Reply::Nil
        }
    };
    if (nx && exists) || (xx && !exists) {
        return Ok(reply_unset());
    }
    let ttl = if keep_ttl { old_ttl } else { deadline };
    ks.set_string(key, value.clone(), ttl);
    Ok(if get { reply_unset() } else { Reply::OK })
}

fn lists_command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    let key = &a[0];
    Ok(match name {
        "LPUSH" | "RPUSH" => {
            let list = ks.list_or_new(key, now)?;
            for v in &a[1..] {
                if name == "LPUSH" {
                    list.push_front(v.clone());
                } else {
                    list.push_back(v.clone());
                }
            }
            count_reply(list.len())
        }
        "LPOP" | "RPOP" => {
            let end = if name == "LPOP" {
                End::Left
            } else {
                End::Right
            };
            match a {
                [_] => ks.pop(key, end, now)?.map_or(Reply::Nil, Reply::Bulk),
                [_, count] => {
                    let count = match parse_i64(count) {
                        Some(n) if n >= 0 => n as usize,
                        _ => return Err(err("value is out of range, must be positive")),
                    };
                    if ks.list(key, now)?.is_none() {
                        return Ok(Reply::NilArray);
                    }
                    let mut popped = Vec::new();
                    while popped.len() < count {
                        match ks.pop(key, end, now)? {
                            Some(v) => popped.push(Reply::Bulk(v)),
                            None => break,
                        }
                    }
                    Reply::Array(popped)
                }
                _ => return Err(CmdError::Arity(name.to_ascii_lowercase())),
            }
        }
        "LLEN" => count_reply(ks.list(key, now)?.map_or(0, |l| l.len())),
        "LRANGE" => {
            let (start, stop) = (int_arg(&a[1])?, int_arg(&a[2])?);
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Array(Vec::new()));
            };
            Reply::Array(match list_range(start, stop, list.len()) {
                Some((from, to)) => list
                    .range(from..=to)
                    .map(|v| Reply::Bulk(v.clone()))
                    .collect(),
                None => Vec::new(),
            })
        }
        "LINDEX" => {
            let index = int_arg(&a[1])?;
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Nil);
            };
            let index = if index < 0 {
                list.len() as i64 + index
            } else {
                index
            };
            usize::try_from(index)
                .ok()
                .and_then(|i| list.get(i))
                .map_or(Reply::Nil, |v| Reply::Bulk(v.clone()))
        }
        "LREM" => {
            let count = int_arg(&a[1])?;
            let Some(list) = ks.list(key, now)? else {
                return Ok(Reply::Int(0));
            };
            let removed = list_remove(list, count, &a[2]);
            ks.drop_if_empty(key);
            count_reply(removed)
        }
        "LMOVE" => {
            let (from, to) = (end_arg(&a[2])?, end_arg(&a[3])?);
            ks.lmove(key, &a[1], from, to, now)?
                .map_or(Reply::Nil, Reply::Bulk)
        }
        "RPOPLPUSH" => ks
            .lmove(key, &a[1], End::Right, End::Left, now)?
            .map_or(Reply::Nil, Reply::Bulk),
        _ => return Err(err(format!("no handler for '{name}'"))),
    })
}

/// The inclusive index range `LRANGE start stop` selects, with Redis's rules for negative and
/// out-of-range indexes; `None` when empty.
fn list_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

/// `LREM`: removes up to `count` elements equal to `value`, from the head when `count > 0`,
/// from the tail when `count < 0`, all when 0. Returns how many were removed.
fn list_remove(list: &mut VecDeque<Bytes>, count: i64, value: &[u8]) -> usize {
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0;
    if count >= 0 {
        let mut i = 0;
        while i < list.len() && removed < limit {
            if list[i] == value {
                list.remove(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = list.len();
        while i > 0 && removed < limit {
            i -= 1;
            if list[i] == value {
                list.remove(i);
                removed += 1;
            }
        }
    }
    removed
}

/// Parses a blocking command. `Ok(Some(block))` means "nothing to pop yet, wait";
/// `Err(Ok(reply))` is an immediate answer, `Err(Err(e))` an error.
fn blocking_command(
    ctx: &mut Ctx,
    name: &str,
    a: &[Bytes],
) -> Result<Option<Block>, Result<Reply, CmdError>> {
    let parsed = || -> Result<(Vec<Bytes>, BlockOp, &Bytes), CmdError> {
        Ok(match name {
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
        })
    };
    let (keys, op, timeout) = parsed().map_err(Err)?;
    let now = ctx.now;
    let deadline = parse_timeout(timeout, now).map_err(Err)?;
    match pop_ready(ctx.ks(), &keys, &op, now, true) {
        Ok(Some(reply)) => Err(Ok(reply)),
        Ok(None) => Ok(Some(Block { keys, op, deadline })),
        Err(e) => Err(Err(e)),
    }
}

/// A blocking command's timeout in seconds (fractions allowed, 0 = forever) as a deadline.
fn parse_timeout(arg: &[u8], now: Instant) -> Result<Option<Instant>, CmdError> {
    let seconds: f64 = std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| s.is_finite())
        .ok_or_else(|| err("timeout is not a float or out of range"))?;
    if seconds < 0.0 {
        return Err(err("timeout is negative"));
    }
    if seconds * 1000.0 > i64::MAX as f64 {
        return Err(err("timeout is out of range"));
    }
    if seconds == 0.0 {
        return Ok(None);
    }
    // A deadline beyond what Instant can hold is as good as forever.
    Ok(now.checked_add(Duration::from_secs_f64(seconds)))
}

fn hashes_command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ks = ctx.ks();
    let key = &a[0];
    let bulk_or_nil = |v: Option<&Bytes>| v.map_or(Reply::Nil, |v| Reply::Bulk(v.clone()));
    Ok(match name {
        "HSET" | "HMSET" => {
            if (a.len() - 1) % 2 != 0 {
                return Err(CmdError::Arity(name.to_ascii_lowercase()));
            }
            let hash = ks.hash_or_new(key, now)?;
            let added = a[1..]
                .chunks_exact(2)
                .filter(|pair| hash.insert(pair[0].clone(), pair[1].clone()).is_none())
                .count();
            if name == "HSET" {
                count_reply(added)
            } else {
                Reply::OK
            }
        }
        "HSETNX" => {
            let hash = ks.hash_or_new(key, now)?;
            let fresh = !hash.contains_key(&a[1]);
            if fresh {
                hash.insert(a[1].clone(), a[2].clone());
            }
            Reply::Int(i64::from(fresh))
        }
        "HGET" => bulk_or_nil(ks.hash(key, now)?.and_then(|h| h.get(&a[1]))),
        "HMGET" => {
            let hash = ks.hash(key, now)?;
            Reply::Array(
                a[1..]
                    .iter()
                    .map(|f| bulk_or_nil(hash.as_ref().and_then(|h| h.get(f))))
                    .collect(),
            )
        }
        "HGETALL" | "HKEYS" | "HVALS" => {
            let Some(hash) = ks.hash(key, now)? else {
                return Ok(Reply::Array(Vec::new()));
            };
            let mut items = Vec::new();
            for (field, value) in hash.iter() {
                if name != "HVALS" {
                    items.push(Reply::Bulk(field.clone()));
                }
                if name != "HKEYS" {
                    items.push(Reply::Bulk(value.clone()));
                }
            }
            Reply::Array(items)
        }
        "HDEL" => {
            let Some(hash) = ks.hash(key, now)? else {
                return Ok(Reply::Int(0));
            };
            let removed = a[1..].iter().filter(|f| hash.remove(*f).is_some()).count();
            ks.drop_if_empty(key);
            count_reply(removed)
        }
        "HINCRBY" => {
            let by = int_arg(&a[2])?;
            let hash = ks.hash_or_new(key, now)?;
            let value = match hash.get(&a[1]) {
                Some(v) => parse_i64(v).ok_or_else(|| err("hash value is not an integer"))?,
                None => 0,
            };
            let outcome = value.checked_add(by);
            let Some(value) = outcome else {
                ks.drop_if_empty(key);
                return Err(err("increment or decrement would overflow"));
            };
            hash.insert(a[1].clone(), value.to_string().into_bytes());
            Reply::Int(value)
        }
        "HLEN" => count_reply(ks.hash(key, now)?.map_or(0, |h| h.len())),
        "HEXISTS" => Reply::Int(i64::from(
            ks.hash(key, now)?.is_some_and(|h| h.contains_key(&a[1])),
        )),
        _ => return Err(err(format!("no handler for '{name}'"))),
    })
}

fn server_command(ctx: &mut Ctx, name: &str, a: &[Bytes]) -> Result<Reply, CmdError> {
    let arg = |i: usize| a.get(i).map(|s| s.to_ascii_uppercase());
    Ok(match name {
        "PING" => match a {
            [] => Reply::Simple("PONG"),
            [msg] => Reply::Bulk(msg.clone()),
            _ => return Err(CmdError::Arity("ping".into())),
        },
        "ECHO" => Reply::Bulk(a[0].clone()),
        "SELECT" => {
            let db = int_arg(&a[0])?;
            let db = usize::try_from(db)
                .ok()
                .filter(|&db| db < DATABASES)
                .ok_or_else(|| err("DB index is out of range"))?;
            ctx.session.db = db;
            Reply::OK
        }
        "CLIENT" => match (arg(0).as_deref(), a.len()) {
            (Some(b"SETNAME"), 2) => {
                if a[1].iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
                    return Err(err(
                        "Client names cannot contain spaces, newlines or special characters.",
                    ));
                }
                ctx.session.name = Some(a[1].clone()).filter(|n| !n.is_empty());
                Reply::OK
            }
            (Some(b"GETNAME"), 1) => ctx.session.name.clone().map_or(Reply::Nil, Reply::Bulk),
            (Some(b"ID"), 1) => Reply::Int(ctx.session.id as i64),
            (Some(b"INFO" | b"LIST"), _) => Reply::Bulk(
                format!(
                    "id={} addr={} name={} db={}\n",
                    ctx.session.id,
                    ctx.session.peer,
                    lossy(ctx.session.name.as_deref().unwrap_or_default()),
                    ctx.session.db
                )
                .into_bytes(),
            ),
            (Some(b"SETINFO" | b"NO-EVICT" | b"NO-TOUCH" | b"REPLY"), _) => Reply::OK,
            (Some(sub @ (b"SETNAME" | b"GETNAME" | b"ID")), _) => {
                return Err(CmdError::Arity(format!(
                    "client|{}",
                    lossy(sub).to_ascii_lowercase()
                )));
            }
            _ => {
                return Err(err(format!(
                    "unknown subcommand '{}'. Try CLIENT HELP.",
                    lossy(&a[0])
                )));
            }
        },
        "INFO" => {
            let mut info = format!(
                "# Server\r\nredis_version:{VERSION}\r\nredis_mode:standalone\r\n\
                 executable:twelve (built-in store)\r\ntcp_port:{}\r\n\r\n# Keyspace\r\n",
                ctx.session.port
            );
            let now = ctx.now;
            for (i, ks) in ctx.store.dbs.iter_mut().enumerate() {
                let keys = ks.len(now);
                if keys > 0 {
                    let expires = ks.map.values().filter(|e| e.expires.is_some()).count();
                    let _ = write!(info, "db{i}:keys={keys},expires={expires},avg_ttl=0\r\n");
                }
            }
            Reply::Bulk(info.into_bytes())
        }
        "COMMAND" => match arg(0).as_deref() {
            Some(b"COUNT") => count_reply(COMMANDS.len()),
            _ => Reply::Array(Vec::new()),
        },
        "CONFIG" => match (arg(0).as_deref(), a.get(1)) {
            (Some(b"GET"), Some(param)) => {
                let value: &[u8] = match param.to_ascii_lowercase().as_slice() {
                    b"databases" => b"16",
                    b"save" => b"",
                    b"appendonly" => b"no",
                    _ => return Ok(Reply::Array(Vec::new())),
                };
                Reply::Array(vec![
                    Reply::Bulk(param.to_ascii_lowercase()),
                    Reply::Bulk(value.to_vec()),
                ])
            }
            _ => return Err(err("the built-in store only supports CONFIG GET")),
        },
        "HELLO" => {
            if let Some(version) = a.first() {
                match parse_i64(version) {
                    Some(2) => {}
                    Some(_) => {
                        return Err(CmdError::Coded(
                            "NOPROTO unsupported protocol version".into(),
                        ));
                    }
                    None => return Err(err("Protocol version is not an integer or out of range")),
                }
            }
            let text = |s: &str| Reply::Bulk(s.as_bytes().to_vec());
            Reply::Array(vec![
                text("server"),
                text("redis"),
                text("version"),
                text(VERSION),
                text("proto"),
                Reply::Int(2),
                text("id"),
                Reply::Int(ctx.session.id as i64),
                text("mode"),
                text("standalone"),
                text("role"),
                text("master"),
                text("modules"),
                Reply::Array(Vec::new()),
            ])
        }
        "AUTH" if a.len() > 1 => {
            return Err(CmdError::Coded(
                "WRONGPASS invalid username-password pair or user is disabled.".into(),
            ));
        }
        "AUTH" => {
            return Err(err(
                "AUTH <password> called without any password configured for the default user. \
                 Are you sure your configuration is correct?",
            ));
        }
        "TIME" => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            Reply::Array(vec![
                Reply::Bulk(now.as_secs().to_string().into_bytes()),
                Reply::Bulk(now.subsec_micros().to_string().into_bytes()),
            ])
        }
        _ => return Err(err(format!("no handler for '{name}'"))),
    })
}

// =================================================================================================
// The data model
// =================================================================================================

/// A value: Redis's string, list and hash types.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Hash(BTreeMap<Bytes, Bytes>),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
        }
    }
}

/// A value and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    value: Value,
    expires: Option<Instant>,
}

impl Entry {
    fn is_expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|at| at <= now)
    }
}

/// All the data: [`DATABASES`] keyspaces.
#[derive(Debug)]
struct Store {
    dbs: Vec<Keyspace>,
}

impl Store {
    fn new() -> Store {
        Store {
            dbs: (0..DATABASES).map(|_| Keyspace::default()).collect(),
        }
    }
}

/// One database. Expired entries are removed when touched (and by `keys`/`len`); lists and
/// hashes that become empty are removed, as in Redis.
#[derive(Debug, Default)]
struct Keyspace {
    map: HashMap<Bytes, Entry>,
}

impl Keyspace {
    /// The live entry for `key`, dropping it first if it has expired.
    fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        if self.map.get(key)?.is_expired(now) {
            self.map.remove(key);
            return None;
        }
        self.map.get_mut(key)
    }

    /// The live value for `key`, read-only (for in-process inspection).
    fn peek(&self, key: &[u8], now: Instant) -> Option<&Value> {
        self.map
            .get(key)
            .filter(|e| !e.is_expired(now))
            .map(|e| &e.value)
    }

    /// Removes `key`; true if it was live.
    fn remove(&mut self, key: &[u8], now: Instant) -> bool {
        self.live(key, now).is_some() && self.map.remove(key).is_some()
    }

    fn set_string(&mut self, key: &[u8], value: Bytes, expires: Option<Instant>) {
        self.map.insert(
            key.to_vec(),
            Entry {
                value: Value::Str(value),
                expires,
            },
        );
    }

    fn string(&mut self, key: &[u8], now: Instant) -> Result<Option<&mut Bytes>, CmdError> {
        match self.live(key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Str(v),
                ..
            }) => Ok(Some(v)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    fn list(&mut self, key: &[u8], now: Instant) -> Result<Option<&mut VecDeque<Bytes>>, CmdError> {
        match self.live(key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::List(l),
                ..
            }) => Ok(Some(l)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    fn hash(
        &mut self,
        key: &[u8],
        now: Instant,
    ) -> Result<Option<&mut BTreeMap<Bytes, Bytes>>, CmdError> {
        match self.live(key, now) {
            None => Ok(None),
            Some(Entry {
                value: Value::Hash(h),
                ..
            }) => Ok(Some(h)),
            Some(_) => Err(CmdError::WrongType),
        }
    }

    /// The list at `key`, created empty if missing. The caller must leave it non-empty.
    fn list_or_new(&mut self, key: &[u8], now: Instant) -> Result<&mut VecDeque<Bytes>, CmdError> {
        self.live(key, now);
        match &mut self.entry_or(key, Value::List(VecDeque::new())).value {
            Value::List(l) => Ok(l),
            _ => Err(CmdError::WrongType),
        }
    }

    /// The hash at `key`, created empty if missing. The caller must leave it non-empty.
    fn hash_or_new(
        &mut self,
        key: &[u8],
        now: Instant,
    ) -> Result<&mut BTreeMap<Bytes, Bytes>, CmdError> {
        self.live(key, now);
        match &mut self.entry_or(key, Value::Hash(BTreeMap::new())).value {
            Value::Hash(h) => Ok(h),
            _ => Err(CmdError::WrongType),
        }
    }

    fn entry_or(&mut self, key: &[u8], empty: Value) -> &mut Entry {
        self.map.entry(key.to_vec()).or_insert(Entry {
            value: empty,
            expires: None,
        })
    }

    /// Removes `key` if it holds an empty list or hash.
    fn drop_if_empty(&mut self, key: &[u8]) {
        let empty = match self.map.get(key).map(|e| &e.value) {
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Hash(h)) => h.is_empty(),
            _ => false,
        };
        if empty {
            self.map.remove(key);
        }
    }

    /// Pops one element from an end of the list at `key`.
    fn pop(&mut self, key: &[u8], end: End, now: Instant) -> Result<Option<Bytes>, CmdError> {
        let Some(list) = self.list(key, now)? else {
            return Ok(None);
        };
        let value = match end {
            End::Left => list.pop_front(),
            End::Right => list.pop_back(),
        };
        self.drop_if_empty(key);
        Ok(value)
    }

    /// `LMOVE src dst from to`: nil when `src` is missing; the types of both keys are checked
    /// before anything moves.
    fn lmove(
        &mut self,
        src: &[u8],
        dst: &[u8],
        from: End,
        to: End,
        now: Instant,
    ) -> Result<Option<Bytes>, CmdError> {
        if self.list(src, now)?.is_none() {
            return Ok(None);
        }
        self.list(dst, now)?;
        let Some(value) = self.pop(src, from, now)? else {
            return Ok(None);
        };
        let dst = self.list_or_new(dst, now)?;
        match to {
            End::Left => dst.push_front(value.clone()),
            End::Right => dst.push_back(value.clone()),
        }
        Ok(Some(value))
    }

    /// Drops every expired entry.
    fn purge(&mut self, now: Instant) {
        self.map.retain(|_, e| !e.is_expired(now));
    }

    /// Live keys matching a glob pattern, sorted.
    fn keys(&mut self, pattern: &[u8], now: Instant) -> Vec<Bytes> {
        self.purge(now);
        let mut keys: Vec<Bytes> = self
            .map
            .keys()
            .filter(|k| glob_match(pattern, k))
            .cloned()
            .collect();
        keys.sort_unstable();
        keys
    }

    /// Number of live keys.
    fn len(&mut self, now: Instant) -> usize {
        self.purge(now);
        self.map.len()
    }
}

// =================================================================================================
// The protocol
// =================================================================================================

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(&'static str),
    /// The full error line, code first: `ERR ...`, `WRONGTYPE ...`.
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// The null bulk string, `$-1`.
    Nil,
    Array(Vec<Reply>),
    /// The null array, `*-1` (a blocking pop's timeout, `LPOP key n` on a missing key).
    NilArray,
}

impl Reply {
    const OK: Reply = Reply::Simple("OK");

    fn encode(&self, out: &mut Vec<u8>) {
        fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
            out.push(kind);
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        match self {
            Reply::Simple(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(e) => {
                // A reply line must not break: Redis turns newlines in errors into spaces.
                let text: Bytes = e
                    .bytes()
                    .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c })
                    .collect();
                line(out, b'-', &text);
            }
            Reply::Int(n) => line(out, b':', n.to_string().as_bytes()),
            Reply::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
            Reply::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
            Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
        }
    }
}

#[derive(Debug)]
enum ReadError {
    /// The input ended or the socket broke.
    Closed,
    /// Malformed input; the text follows `ERR Protocol error: ` and the connection closes.
    Protocol(String),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> ReadError {
        ReadError::Closed
    }
}

fn protocol(msg: &str) -> ReadError {
    ReadError::Protocol(msg.to_owned())
}

fn unexpected_eof() -> ReadError {
    ReadError::Closed
}

/// Reads client commands: RESP2 arrays of bulk strings (what client libraries send) or inline
/// commands, a line of words (what `nc` or `telnet` send), with Redis's quoting rules.
struct RespReader<R> {
    inner: R,
}

impl<R: BufRead> RespReader<R> {
    fn new(inner: R) -> Self {
        RespReader { inner }
    }

    /// The next command, or `None` at the end of input. Empty lines and arrays are skipped.
    fn read_command(&mut self) -> Result<Option<Vec<Bytes>>, ReadError> {
        loop {
            let Some(line) = self.read_line()? else {
                return Ok(None);
            };
            if let Some(count) = line.strip_prefix(b"*") {
                let count = parse_i64(count)
                    .filter(|&n| n <= MAX_ARGS as i64)
                    .ok_or_else(|| protocol("invalid multibulk length"))?;
                if count <= 0 {
                    continue;
                }
                let mut args = Vec::with_capacity((count as usize).min(64));
                for _ in 0..count {
                    args.push(self.read_bulk()?);
                }
                return Ok(Some(args));
            }
            let args = split_inline(&line)?;
            if !args.is_empty() {
                return Ok(Some(args));
            }
        }
    }

    fn read_bulk(&mut self) -> Result<Bytes, ReadError> {
        let line = self.read_line()?.ok_or_else(unexpected_eof)?;
        let Some(len) = line.strip_prefix(b"$") else {
            let got = line.first().map_or(' ', |&c| char::from(c));
            return Err(ReadError::Protocol(format!("expected '$', got '{got}'")));
        };
        let len = parse_i64(len)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= MAX_BULK)
            .ok_or_else(|| protocol("invalid bulk length"))?;
        let mut data = Vec::new();
        (&mut self.inner)
            .take(len as u64 + 2)
            .read_to_end(&mut data)?;
        if data.len() < len + 2 {
            return Err(unexpected_eof());
        }
        data.truncate(len); // the trailing CRLF
        Ok(data)
    }

    /// A line without its `\r\n` (or bare `\n`); `None` at the end of input.
    fn read_line(&mut self) -> Result<Option<Bytes>, ReadError> {
        let mut line = Vec::new();
        (&mut self.inner)
            .take(MAX_INLINE as u64 + 2)
            .read_until(b'\n', &mut line)?;
        if line.is_empty() {
            return Ok(None);
        }
        if line.pop() != Some(b'\n') {
            return Err(if line.len() >= MAX_INLINE {
                protocol("too big inline request")
            } else {
                unexpected_eof()
            });
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }
}

/// Splits an inline command into words like Redis's `sdssplitargs`: spaces separate words;
/// `"..."` may hold spaces and `\n \r \t \b \a \\ \" \xHH` escapes; `'...'` only `\'`.
fn split_inline(line: &[u8]) -> Result<Vec<Bytes>, ReadError> {
    let unbalanced = || protocol("unbalanced quotes in request");
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while line.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(words);
        }
        let mut word = Vec::new();
        let mut quote: Option<u8> = None;
        loop {
            let Some(&c) = line.get(i) else {
                if quote.is_some() {
                    return Err(unbalanced());
                }
                break;
            };
            match quote {
                None if c.is_ascii_whitespace() => break,
                None if c == b'"' || c == b'\'' => quote = Some(c),
                Some(q) if c == q => {
                    // A closing quote must end the word.
                    if line.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()) {
                        return Err(unbalanced());
                    }
                    i += 1;
                    break;
                }
                Some(b'"') if c == b'\\' && i + 1 < line.len() => {
                    let hex = line
                        .get(i + 2..i + 4)
                        .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
                    match (line[i + 1], hex) {
                        (b'x', Some(byte)) => {
                            word.push(byte);
                            i += 2;
                        }
                        (escaped, _) => word.push(match escaped {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        }),
                    }
                    i += 1;
                }
                Some(b'\'') if c == b'\\' && line.get(i + 1) == Some(&b'\'') => {
                    word.push(b'\'');
                    i += 1;
                }
                _ => word.push(c),
            }
            i += 1;
        }
        words.push(word);
    }
}

/// Parses an integer as strictly as Redis's `string2ll`: optional `-`, digits, no leading
/// zeros, no `+`, no spaces, within `i64`.
fn parse_i64(text: &[u8]) -> Option<i64> {
    if text == b"0" {
        return Some(0);
    }
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if text.len() > 20
        || !matches!(digits.first(), Some(b'1'..=b'9'))
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Redis glob matching (as in `KEYS`): `*` any run, `?` any byte, `[abc]` a set, `[^a]` a
/// negated set, `[a-z]` a range, `\x` a literal `x`. Backtracks on the last `*` only, so
/// matching is O(pattern × key) even for hostile patterns.
fn glob_match(pattern: &[u8], key: &[u8]) -> bool {
    let (mut p, mut k) = (0, 0);
    // Where to resume after the most recent `*`: (pattern index after it, key index).
    let mut star: Option<(usize, usize)> = None;
    while k < key.len() {
        if pattern.get(p) == Some(&b'*') {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            star = Some((p, k));
        } else if let Some(next) = match_one(pattern, p, key[k]) {
            p = next;
            k += 1;
        } else if let Some((star_p, star_k)) = star {
            // Let the `*` swallow one more byte and retry.
            p = star_p;
            k = star_k + 1;
            star = Some((star_p, star_k + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Matches the single-byte pattern element at `p` against `c`; the index after it on success.
fn match_one(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    match *pattern.get(p)? {
        b'?' => Some(p + 1),
        b'\\' if p + 1 < pattern.len() => (pattern[p + 1] == c).then_some(p + 2),
        b'[' => match_class(pattern, p + 1, c),
        literal => (literal == c).then_some(p + 1),
    }
}

/// Matches a `[...]` class starting after its `[`. As in Redis, an unclosed class runs to the
/// end of the pattern and a reversed range `[z-a]` works like `[a-z]`.
fn match_class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        match pattern.get(p) {
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            Some(b'\\') if p + 1 < pattern.len() => {
                matched |= pattern[p + 1] == c;
                p += 2;
            }
            Some(&lo) if pattern.get(p + 1) == Some(&b'-') && p + 2 < pattern.len() => {
                let hi = pattern[p + 2];
                matched |= (lo.min(hi)..=lo.max(hi)).contains(&c);
                p += 3;
            }
            Some(&literal) => {
                matched |= literal == c;
                p += 1;
            }
        }
    }
    (matched != negate).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------

    fn words(line: &str) -> Vec<Bytes> {
        split_inline(line.as_bytes()).expect("test command parses")
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(|s| bulk(s)).collect())
    }

    fn error(msg: &str) -> Reply {
        Reply::Error(msg.to_owned())
    }

    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    const NOT_INT: &str = "ERR value is not an integer or out of range";

    /// Runs commands straight against a [`State`], with a clock the test controls.
    struct Harness {
        state: State,
        session: Session,
        now: Instant,
    }

    impl Harness {
        fn new() -> Harness {
            Harness {
                state: State::new(),
                session: Session::new(1, "test".into(), 6379),
                now: Instant::now(),
            }
        }

        fn run(&mut self, line: &str) -> Reply {
            match self.outcome(line) {
                Outcome::Reply(reply) => reply,
                Outcome::Block(block) => panic!("{line} blocked: {block:?}"),
            }
        }

        fn outcome(&mut self, line: &str) -> Outcome {
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

        fn advance(&mut self, ms: u64) {
            self.now += Duration::from_millis(ms);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Protocol
    // ---------------------------------------------------------------------------------------

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ReadError> {
        let mut reader = RespReader::new(input);
        let mut commands = Vec::new();
        while let Some(command) = reader.read_command()? {
            commands.push(command);
        }
        Ok(commands)
    }

    fn strs(commands: &[Vec<Bytes>]) -> Vec<Vec<String>> {
        commands
            .iter()
            .map(|c| c.iter().map(|a| lossy(a)).collect())
            .collect()
    }

    #[test]
    fn parser_reads_resp_arrays_binary_safe() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n*1\r\n$4\r\nPING\r\n";
        let commands = parse_all(input).unwrap();
        assert_eq!(strs(&commands), [vec!["SET", "k", "a\r\nb"], vec!["PING"]]);
    }

    #[test]
    fn parser_reads_inline_commands_with_quotes() {
        let input =
            b"PING\r\nSET k \"hello world\"\n\r\n   \r\nECHO 'it''s'\r\nECHO \"a\\x41\\n\" x\r\n";
        let commands = parse_all(input);
        // 'it''s' has a quote right after a closing quote: unbalanced, as in Redis.
        assert!(matches!(commands, Err(ReadError::Protocol(m)) if m.contains("unbalanced")));
        let input = b"PING\r\nSET k \"hello world\"\n\r\n   \r\nECHO 'it\\'s' \"a\\x41\\n\" x\r\n";
        assert_eq!(
            strs(&parse_all(input).unwrap()),
            [
                vec!["PING"],
                vec!["SET", "k", "hello world"],
                vec!["ECHO", "it's", "aA\n", "x"]
            ]
        );
    }

    #[test]
    fn parser_skips_empty_arrays_and_mixes_styles() {
        let input = b"*0\r\n*-1\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
        assert_eq!(
            strs(&parse_all(input).unwrap()),
            [vec!["PING"], vec!["ECHO", ""]]
        );
    }

    #[test]
    fn parser_reports_protocol_errors_like_redis() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "invalid multibulk length"),
            (b"*2\r\n$3\r\nGET\r\n$x\r\n", "invalid bulk length"),
            (b"*2\r\n$3\r\nGET\r\n$-1\r\n", "invalid bulk length"),
            (b"*1\r\nGET\r\n", "expected '$', got 'G'"),
            (b"SET k \"open\r\n", "unbalanced quotes in request"),
        ];
        for (input, expected) in cases {
            match parse_all(input) {
                Err(ReadError::Protocol(msg)) => assert_eq!(msg, *expected),
                other => panic!("{input:?}: expected a protocol error, got {other:?}"),
            }
        }
        let huge = vec![b'a'; MAX_INLINE + 10];
        assert!(matches!(parse_all(&huge), Err(ReadError::Protocol(m)) if m.contains("too big")));
    }

    #[test]
    fn parser_treats_truncated_input_as_closed() {
        for input in [&b"*2\r\n$3\r\nGET\r\n"[..], b"*1\r\n$5\r\nab", b"PING"] {
            assert!(
                matches!(parse_all(input), Err(ReadError::Closed)),
                "{input:?}"
            );
        }
        assert!(parse_all(b"").unwrap().is_empty());
    }

    #[test]
    fn replies_encode_as_resp2() {
        let reply = Reply::Array(vec![
            Reply::OK,
            Reply::Int(-3),
            bulk("hi"),
            Reply::Nil,
            Reply::NilArray,
            Reply::Array(Vec::new()),
            error("ERR bad\r\nline"),
        ]);
        let mut out = Vec::new();
        reply.encode(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "*7\r\n+OK\r\n:-3\r\n$2\r\nhi\r\n$-1\r\n*-1\r\n*0\r\n-ERR bad  line\r\n"
        );
    }

    #[test]
    fn integers_parse_as_strictly_as_redis() {
        for (text, expected) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("-7", Some(-7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("007", None),
            ("-0", None),
            ("+1", None),
            (" 1", None),
            ("1.5", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(parse_i64(text.as_bytes()), expected, "{text:?}");
        }
    }

    #[test]
    fn glob_matches_like_redis() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("*", "", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "hllo", true),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h[b-a]llo", "hallo", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("a[\\]]b", "a]b", true),
            ("user:*:name", "user:42:name", true),
            ("user:*:name", "user:42:age", false),
            ("*a*b*c", "xxaxxbxxc", true),
            ("*a*b*c", "xxaxxbxx", false),
            ("job:?", "job:10", false),
            ("trailing\\", "trailing\\", true),
            ("[abc", "b", true),
            ("", "", true),
            ("", "a", false),
            (
                "a*a*a*a*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(
                glob_match(pattern.as_bytes(), key.as_bytes()),
                *expected,
                "{pattern:?} vs {key:?}"
            );
        }
    }

    // ---------------------------------------------------------------------------------------
    // Commands
    // ---------------------------------------------------------------------------------------

    #[test]
    fn strings_set_get_and_options() {
        let mut h = Harness::new();
        assert_eq!(h.run("GET k"), Reply::Nil);
        assert_eq!(h.run("SET k v1"), Reply::OK);
        assert_eq!(h.run("GET k"), bulk("v1"));
        assert_eq!(h.run("SET k v2 NX"), Reply::Nil);
        assert_eq!(h.run("SET other v NX"), Reply::OK);
        assert_eq!(h.run("SET missing v XX"), Reply::Nil);
        assert_eq!(h.run("SET k v3 XX GET"), bulk("v1"));
        assert_eq!(h.run("GET k"), bulk("v3"));
        assert_eq!(h.run("SET k v4 nx get"), bulk("v3"));
        assert_eq!(h.run("SET k a NX XX"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a EX 1 PX 5"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a EX"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a BOGUS"), error("ERR syntax error"));
        assert_eq!(h.run("SET k a EX x"), error(NOT_INT));
        assert_eq!(
            h.run("SET k a EX 0"),
            error("ERR invalid expire time in 'set' command")
        );
        assert_eq!(h.run("SETNX k x"), Reply::Int(0));
        assert_eq!(h.run("SETNX fresh x"), Reply::Int(1));
        assert_eq!(h.run("MSET a 1 b 2"), Reply::OK);
        assert_eq!(
            h.run("MGET a b nope"),
            Reply::Array(vec![bulk("1"), bulk("2"), Reply::Nil])
        );
        assert_eq!(
            h.run("MSET a"),
            error("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(h.run("APPEND a 23"), Reply::Int(3));
        assert_eq!(h.run("APPEND new xy"), Reply::Int(2));
        assert_eq!(h.run("STRLEN a"), Reply::Int(3));
        assert_eq!(h.run("GETDEL a"), bulk("123"));
        assert_eq!(h.run("GETDEL a"), Reply::Nil);
        assert_eq!(h.run("RPUSH l x"), Reply::Int(1));
        assert_eq!(h.run("GET l"), error(WRONGTYPE));
        assert_eq!(h.run("SET l x GET"), error(WRONGTYPE));
        assert_eq!(h.run("SET l plain"), Reply::OK, "SET overwrites any type");
        assert_eq!(h.run("GET l"), bulk("plain"));
    }

    #[test]
    fn strings_counters() {
        let mut h = Harness::new();
        assert_eq!(h.run("INCR n"), Reply::Int(1));
        assert_eq!(h.run("INCRBY n 41"), Reply::Int(42));
        assert_eq!(h.run("DECR n"), Reply::Int(41));
        assert_eq!(h.run("DECRBY n 50"), Reply::Int(-9));
        assert_eq!(h.run("GET n"), bulk("-9"));
        assert_eq!(h.run("INCRBY n 1x"), error(NOT_INT));
        h.run("SET s abc");
        assert_eq!(h.run("INCR s"), error(NOT_INT));
        h.run("SET big 9223372036854775807");
        assert_eq!(
            h.run("INCR big"),
            error("ERR increment or decrement would overflow")
        );
        assert_eq!(
            h.run("DECRBY n -9223372036854775808"),
            error("ERR decrement would overflow")
        );
        h.run("LPUSH l a");
        assert_eq!(h.run("INCR l"), error(WRONGTYPE));
    }

    #[test]
    fn keys_family() {
        let mut h = Harness::new();
        for line in [
            "SET user:1 a",
            "SET user:2 b",
            "SET user:10 c",
            "RPUSH q x",
            "HSET h f v",
        ] {
            h.run(line);
        }
        assert_eq!(h.run("KEYS user:?"), bulks(&["user:1", "user:2"]));
        assert_eq!(
            h.run("KEYS *"),
            bulks(&["h", "q", "user:1", "user:10", "user:2"])
        );
        assert_eq!(h.run("KEYS user:[^1]*"), bulks(&["user:2"]));
        assert_eq!(h.run("EXISTS user:1 user:1 nope"), Reply::Int(2));
        assert_eq!(h.run("TYPE user:1"), Reply::Simple("string"));
        assert_eq!(h.run("TYPE q"), Reply::Simple("list"));
        assert_eq!(h.run("TYPE h"), Reply::Simple("hash"));
        assert_eq!(h.run("TYPE nope"), Reply::Simple("none"));
        assert_eq!(h.run("DBSIZE"), Reply::Int(5));
        assert_eq!(h.run("DEL user:1 user:2 nope"), Reply::Int(2));
        assert_eq!(h.run("DBSIZE"), Reply::Int(3));
        assert_eq!(h.run("FLUSHDB"), Reply::OK);
        assert_eq!(h.run("DBSIZE"), Reply::Int(0));
        assert_eq!(h.run("FLUSHALL NOW"), error("ERR syntax error"));
    }

    #[test]
    fn select_isolates_databases() {
        let mut h = Harness::new();
        h.run("SET k zero");
        assert_eq!(h.run("SELECT 3"), Reply::OK);
        assert_eq!(h.run("GET k"), Reply::Nil);
        h.run("SET k three");
        assert_eq!(h.run("SELECT 0"), Reply::OK);
        assert_eq!(h.run("GET k"), bulk("zero"));
        assert_eq!(h.run("SELECT 16"), error("ERR DB index is out of range"));
        assert_eq!(h.run("SELECT -1"), error("ERR DB index is out of range"));
        assert_eq!(h.run("SELECT x"), error(NOT_INT));
        assert_eq!(h.state.store.dbs[3].keys(b"*", h.now), [b"k".to_vec()]);
        assert_eq!(h.run("FLUSHALL"), Reply::OK);
        assert_eq!(h.state.store.dbs[3].len(h.now), 0);
    }

    #[test]
    fn expiry_is_lazy_and_honoured_everywhere() {
        let mut h = Harness::new();
        assert_eq!(h.run("SET k v PX 100"), Reply::OK);
        h.run("SET forever v");
        assert_eq!(h.run("PTTL k"), Reply::Int(100));
        assert_eq!(h.run("TTL k"), Reply::Int(0));
        assert_eq!(h.run("TTL forever"), Reply::Int(-1));
        assert_eq!(h.run("TTL nope"), Reply::Int(-2));
        h.advance(99);
        assert_eq!(h.run("GET k"), bulk("v"));
        h.advance(1);
        assert_eq!(h.run("EXISTS k"), Reply::Int(0));
        assert_eq!(h.run("KEYS *"), bulks(&["forever"]));
        assert_eq!(h.run("DBSIZE"), Reply::Int(1));
        assert_eq!(h.run("GET k"), Reply::Nil);
        assert_eq!(h.run("TTL k"), Reply::Int(-2));

        // Expired lists vanish too, and INCR on an expired key starts from zero.
        h.run("RPUSH q a");
        h.run("PEXPIRE q 10");
        h.run("SET n 5 EX 1");
        h.advance(1000);
        assert_eq!(h.run("LLEN q"), Reply::Int(0));
        assert_eq!(h.run("INCR n"), Reply::Int(1));
        assert_eq!(h.run("TTL n"), Reply::Int(-1));

        // INCR keeps a TTL; SET clears it unless KEEPTTL.
        h.run("SET c 1 EX 100");
        h.run("INCR c");
        assert_eq!(h.run("TTL c"), Reply::Int(100));
        h.run("SET c 1 KEEPTTL");
        assert_eq!(h.run("TTL c"), Reply::Int(100));
        h.run("SET c 1");
        assert_eq!(h.run("TTL c"), Reply::Int(-1));
    }

    #[test]
    fn expire_options_and_persist() {
        let mut h = Harness::new();
        assert_eq!(h.run("EXPIRE nope 10"), Reply::Int(0));
        h.run("SET k v");
        assert_eq!(h.run("EXPIRE k 10 XX"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 10 NX"), Reply::Int(1));
        assert_eq!(h.run("EXPIRE k 20 NX"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 5 GT"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 50 GT"), Reply::Int(1));
        assert_eq!(h.run("EXPIRE k 60 LT"), Reply::Int(0));
        assert_eq!(h.run("EXPIRE k 30 LT"), Reply::Int(1));
        assert_eq!(h.run("TTL k"), Reply::Int(30));
        assert_eq!(h.run("PERSIST k"), Reply::Int(1));
        assert_eq!(h.run("PERSIST k"), Reply::Int(0));
        assert_eq!(h.run("TTL k"), Reply::Int(-1));
        assert_eq!(
            h.run("EXPIRE k 10 NX XX"),
            error("ERR NX and XX, GT or LT options at the same time are not compatible")
        );
        assert_eq!(
            h.run("EXPIRE k 10 GT LT"),
            error("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            h.run("EXPIRE k 10 FOO"),
            error("ERR Unsupported option FOO")
        );
        assert_eq!(
            h.run("EXPIRE k 9223372036854775807"),
            error("ERR invalid expire time in 'expire' command")
        );
        assert_eq!(h.run("EXPIRE k 0"), Reply::Int(1), "a past TTL deletes");
        assert_eq!(h.run("EXISTS k"), Reply::Int(0));
    }

    #[test]
    fn lists() {
        let mut h = Harness::new();
        assert_eq!(h.run("RPUSH l b c"), Reply::Int(2));
        assert_eq!(h.run("LPUSH l a z"), Reply::Int(4));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["z", "a", "b", "c"]));
        assert_eq!(h.run("LRANGE l -2 -1"), bulks(&["b", "c"]));
        assert_eq!(h.run("LRANGE l 1 100"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run("LRANGE l -100 0"), bulks(&["z"]));
        assert_eq!(h.run("LRANGE l 3 1"), bulks(&[]));
        assert_eq!(h.run("LRANGE nope 0 -1"), bulks(&[]));
        assert_eq!(h.run("LINDEX l -1"), bulk("c"));
        assert_eq!(h.run("LINDEX l 9"), Reply::Nil);
        assert_eq!(h.run("LLEN l"), Reply::Int(4));
        assert_eq!(h.run("LPOP l"), bulk("z"));
        assert_eq!(h.run("RPOP l"), bulk("c"));
        assert_eq!(h.run("LPOP l 5"), bulks(&["a", "b"]));
        assert_eq!(
            h.run("EXISTS l"),
            Reply::Int(0),
            "an emptied list is deleted"
        );
        assert_eq!(h.run("LPOP l"), Reply::Nil);
        assert_eq!(h.run("LPOP l 2"), Reply::NilArray);
        assert_eq!(
            h.run("LPOP l -1"),
            error("ERR value is out of range, must be positive")
        );
        h.run("SET s x");
        assert_eq!(h.run("LPUSH s x"), error(WRONGTYPE));
        assert_eq!(h.run("LLEN s"), error(WRONGTYPE));
        assert_eq!(h.run("GET s"), bulk("x"), "a failed push changes nothing");
    }

    #[test]
    fn lrem_counts_from_either_end() {
        let mut h = Harness::new();
        h.run("RPUSH l a x b x c x");
        assert_eq!(h.run("LREM l 1 x"), Reply::Int(1));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "b", "x", "c", "x"]));
        assert_eq!(h.run("LREM l -1 x"), Reply::Int(1));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "b", "x", "c"]));
        h.run("RPUSH l x");
        assert_eq!(h.run("LREM l 0 x"), Reply::Int(2));
        assert_eq!(h.run("LRANGE l 0 -1"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run("LREM l 0 nope"), Reply::Int(0));
        assert_eq!(h.run("LREM nope 0 x"), Reply::Int(0));
    }

    #[test]
    fn lmove_and_rpoplpush() {
        let mut h = Harness::new();
        h.run("RPUSH src 1 2 3");
        assert_eq!(h.run("LMOVE src dst RIGHT LEFT"), bulk("3"));
        assert_eq!(h.run("LMOVE src dst left right"), bulk("1"));
        assert_eq!(h.run("LRANGE dst 0 -1"), bulks(&["3", "1"]));
        assert_eq!(h.run("RPOPLPUSH src dst"), bulk("2"));
        assert_eq!(h.run("EXISTS src"), Reply::Int(0));
        assert_eq!(h.run("LMOVE src dst LEFT LEFT"), Reply::Nil);
        assert_eq!(h.run("LMOVE dst dst RIGHT LEFT"), bulk("1"), "rotation");
        assert_eq!(h.run("LRANGE dst 0 -1"), bulks(&["1", "2", "3"]));
        assert_eq!(h.run("LMOVE dst x UP LEFT"), error("ERR syntax error"));
        h.run("SET s x");
        assert_eq!(h.run("LMOVE dst s LEFT LEFT"), error(WRONGTYPE));
        assert_eq!(h.run("LLEN dst"), Reply::Int(3), "nothing moved");
    }

    #[test]
    fn hashes() {
        let mut h = Harness::new();
        assert_eq!(h.run("HSET h a 1 b 2"), Reply::Int(2));
        assert_eq!(h.run("HSET h a 10 c 3"), Reply::Int(1));
        assert_eq!(h.run("HGET h a"), bulk("10"));
        assert_eq!(h.run("HGET h nope"), Reply::Nil);
        assert_eq!(h.run("HGET nope a"), Reply::Nil);
        assert_eq!(h.run("HGETALL h"), bulks(&["a", "10", "b", "2", "c", "3"]));
        assert_eq!(h.run("HKEYS h"), bulks(&["a", "b", "c"]));
        assert_eq!(h.run("HVALS h"), bulks(&["10", "2", "3"]));
        assert_eq!(
            h.run("HMGET h a nope"),
            Reply::Array(vec![bulk("10"), Reply::Nil])
        );
        assert_eq!(h.run("HLEN h"), Reply::Int(3));
        assert_eq!(h.run("HEXISTS h b"), Reply::Int(1));
        assert_eq!(h.run("HINCRBY h a 5"), Reply::Int(15));
        assert_eq!(h.run("HINCRBY h new -2"), Reply::Int(-2));
        assert_eq!(h.run("HINCRBY h a x"), error(NOT_INT));
        h.run("HSET h text abc");
        assert_eq!(
            h.run("HINCRBY h text 1"),
            error("ERR hash value is not an integer")
        );
        assert_eq!(h.run("HDEL h a b nope"), Reply::Int(2));
        assert_eq!(h.run("HSETNX h c 99"), Reply::Int(0));
        assert_eq!(h.run("HMSET h2 f v"), Reply::OK);
        assert_eq!(h.run("HDEL h2 f"), Reply::Int(1));
        assert_eq!(
            h.run("EXISTS h2"),
            Reply::Int(0),
            "an emptied hash is deleted"
        );
        assert_eq!(h.run("HGETALL h2"), bulks(&[]));
        assert_eq!(
            h.run("HSET h a"),
            error("ERR wrong number of arguments for 'hset' command")
        );
        assert_eq!(
            h.run("HSET h a 1 b"),
            error("ERR wrong number of arguments for 'hset' command")
        );
        h.run("SET s x");
        assert_eq!(h.run("HSET s f v"), error(WRONGTYPE));
        assert_eq!(h.run("HGETALL s"), error(WRONGTYPE));
    }

    #[test]
    fn errors_match_redis() {
        let mut h = Harness::new();
        assert_eq!(
            h.run("FOO a b"),
            error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
        );
        assert_eq!(
            h.run("get"),
            error("ERR wrong number of arguments for 'get' command")
        );
        assert_eq!(
            h.run("PING a b"),
            error("ERR wrong number of arguments for 'ping' command")
        );
        assert_eq!(
            h.run("LRANGE l 0"),
            error("ERR wrong number of arguments for 'lrange' command")
        );
    }

    #[test]
    fn server_commands_answer_harmlessly() {
        let mut h = Harness::new();
        assert_eq!(h.run("PING"), Reply::Simple("PONG"));
        assert_eq!(h.run("ping hi"), bulk("hi"));
        assert_eq!(h.run("ECHO hello"), bulk("hello"));
        assert_eq!(h.run("CLIENT SETNAME worker-1"), Reply::OK);
        assert_eq!(h.run("CLIENT GETNAME"), bulk("worker-1"));
        assert_eq!(h.run("CLIENT SETINFO LIB-NAME redis-py"), Reply::OK);
        assert_eq!(h.run("CLIENT ID"), Reply::Int(1));
        assert!(matches!(h.run("CLIENT SETNAME \"a b\""), Reply::Error(_)));
        assert_eq!(
            h.run("CLIENT FOO"),
            error("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
        );
        assert_eq!(h.run("COMMAND"), bulks(&[]));
        assert_eq!(h.run("COMMAND DOCS"), bulks(&[]));
        assert_eq!(h.run("CONFIG GET databases"), bulks(&["databases", "16"]));
        h.run("SET k v");
        let Reply::Bulk(info) = h.run("INFO") else {
            panic!("INFO is a bulk string")
        };
        let info = lossy(&info);
        assert!(info.contains("redis_version:"), "{info}");
        assert!(info.contains("db0:keys=1,expires=0"), "{info}");
        assert!(matches!(h.run("HELLO 2"), Reply::Array(items) if items.len() == 14));
        assert_eq!(
            h.run("HELLO 3"),
            error("NOPROTO unsupported protocol version")
        );
    }

    #[test]
    fn writes_count_every_write_command_even_without_effect() {
        let mut h = Harness::new();
        for line in [
            "GET k",
            "KEYS *",
            "EXISTS k",
            "LRANGE l 0 -1",
            "PING",
            "NOPE",
        ] {
            h.run(line);
        }
        assert_eq!(h.state.writes, 0);
        for line in [
            "SET k v",
            "DEL nope",
            "INCR n",
            "LPUSH l a",
            "LPOP nope",
            "HSET h f v",
        ] {
            h.run(line);
        }
        h.run("LPUSH k x"); // WRONGTYPE, still a write command
        assert_eq!(h.state.writes, 7);
        h.run("SET k");
        assert_eq!(
            h.state.writes, 7,
            "a command rejected for its arity is not run"
        );
    }

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

    // ---------------------------------------------------------------------------------------
    // The server over TCP
    // ---------------------------------------------------------------------------------------

    /// A bare RESP client for the tests.
    struct Client {
        stream: TcpStream,
        reader: BufReader<TcpStream>,
    }

    impl Client {
        fn connect(server: &KvServer) -> Client {
            let stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let reader = BufReader::new(stream.try_clone().unwrap());
            Client { stream, reader }
        }

        fn send(&mut self, line: &str) {
            let args = words(line);
            let mut out = format!("*{}\r\n", args.len()).into_bytes();
            for arg in args {
                out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
                out.extend_from_slice(&arg);
                out.extend_from_slice(b"\r\n");
            }
            self.stream.write_all(&out).unwrap();
        }

        fn read(&mut self) -> Reply {
            read_reply(&mut self.reader).expect("a reply")
        }

        fn call(&mut self, line: &str) -> Reply {
            self.send(line);
            self.read()
        }

        /// True when the server closed the connection (end of input, no reply).
        fn is_closed(&mut self) -> bool {
            let mut byte = [0];
            match self.reader.read(&mut byte) {
                Ok(0) => true,
                Err(e) => e.kind() == io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        }
    }

    fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let (kind, rest) = line.trim_end_matches("\r\n").split_at(1);
        let number = || rest.parse::<i64>().unwrap();
        Ok(match kind {
            "+" => Reply::Simple(Box::leak(rest.to_owned().into_boxed_str())),
            "-" => Reply::Error(rest.to_owned()),
            ":" => Reply::Int(number()),
            "$" if number() < 0 => Reply::Nil,
            "$" => {
                let mut data = vec![0; number() as usize + 2];
                r.read_exact(&mut data)?;
                data.truncate(data.len() - 2);
                Reply::Bulk(data)
            }
            "*" if number() < 0 => Reply::NilArray,
            "*" => Reply::Array(
                (0..number())
                    .map(|_| read_reply(r))
                    .collect::<io::Result<_>>()?,
            ),
            _ => panic!("bad reply line {line:?}"),
        })
    }

    /// Waits (on the store's change signal, with a deadline) until `condition` holds.
    fn wait_until(server: &KvServer, what: &str, condition: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            server.wait_for_change(Duration::from_millis(10));
        }
    }

    #[test]
    fn serves_resp_and_inline_clients() {
        let server = KvServer::start(0).unwrap();
        assert_eq!(
            server.url(),
            format!("redis://127.0.0.1:{}/0", server.port())
        );
        let mut raw = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        raw.write_all(b"PING\r\nSET greeting \"hello world\"\r\nGET greeting\r\n")
            .unwrap();
        let mut reader = BufReader::new(raw.try_clone().unwrap());
        assert_eq!(read_reply(&mut reader).unwrap(), Reply::Simple("PONG"));
        assert_eq!(read_reply(&mut reader).unwrap(), Reply::OK);
        assert_eq!(read_reply(&mut reader).unwrap(), bulk("hello world"));
        assert_eq!(server.get("greeting").as_deref(), Some("hello world"));

        let mut client = Client::connect(&server);
        assert_eq!(client.call("RPUSH q a b"), Reply::Int(2));
        assert_eq!(client.call("HSET h f v"), Reply::Int(1));
        assert_eq!(server.list("q"), ["a", "b"]);
        assert_eq!(server.list_len("q"), 2);
        assert_eq!(server.list_len("nope"), 0);
        assert_eq!(server.hash("h").get("f").map(String::as_str), Some("v"));
        assert_eq!(server.keys("*"), ["greeting", "h", "q"]);
        assert_eq!(server.dbsize(0), 3);
        assert_eq!(server.writes(), 3);
        assert_eq!(server.commands(), 5);
        client.call("SELECT 2");
        client.call("SET two 2");
        assert_eq!(server.keys_in(2, "*"), ["two"]);
        assert!(server.keys_in(99, "*").is_empty());

        server.set("seeded", "yes");
        assert_eq!(client.call("SELECT 0"), Reply::OK);
        assert_eq!(client.call("GET seeded"), bulk("yes"));
        assert_eq!(client.call("QUIT"), Reply::OK);
        assert!(client.is_closed());
    }

    #[test]
    fn protocol_errors_close_the_connection() {
        let server = KvServer::start(0).unwrap();
        let mut raw = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        raw.write_all(b"*x\r\n").unwrap();
        let mut reply = String::new();
        raw.read_to_string(&mut reply).unwrap();
        assert_eq!(reply, "-ERR Protocol error: invalid multibulk length\r\n");
    }

    #[test]
    fn multi_exec_and_discard() {
        let server = KvServer::start(0).unwrap();
        let mut c = Client::connect(&server);
        assert_eq!(c.call("EXEC"), error("ERR EXEC without MULTI"));
        assert_eq!(c.call("MULTI"), Reply::OK);
        assert_eq!(c.call("MULTI"), error("ERR MULTI calls can not be nested"));
        assert_eq!(c.call("INCR n"), Reply::Simple("QUEUED"));
        assert_eq!(c.call("BLPOP nope 0"), Reply::Simple("QUEUED"));
        assert_eq!(c.call("INCR n"), Reply::Simple("QUEUED"));
        assert_eq!(
            c.call("EXEC"),
            Reply::Array(vec![Reply::Int(1), Reply::NilArray, Reply::Int(2)])
        );
        assert_eq!(c.call("MULTI"), Reply::OK);
        assert_eq!(c.call("INCR n"), Reply::Simple("QUEUED"));
        assert_eq!(c.call("DISCARD"), Reply::OK);
        assert_eq!(c.call("MULTI"), Reply::OK);
        assert!(matches!(c.call("SET k"), Reply::Error(_)));
        assert_eq!(
            c.call("EXEC"),
            error("EXECABORT Transaction discarded because of previous errors.")
        );
        assert_eq!(c.call("GET n"), bulk("2"));
    }

    #[test]
    fn blocked_clients_are_served_fifo() {
        let server = KvServer::start(0).unwrap();
        let mut first = Client::connect(&server);
        let mut second = Client::connect(&server);
        first.send("BRPOP jobs 0");
        wait_until(&server, "the first waiter", || {
            server.blocked_clients() == 1
        });
        second.send("BRPOP other jobs 0");
        wait_until(&server, "the second waiter", || {
            server.blocked_clients() == 2
        });

        let mut producer = Client::connect(&server);
        assert_eq!(producer.call("LPUSH jobs one two"), Reply::Int(2));
        assert_eq!(first.read(), bulks(&["jobs", "one"]));
        assert_eq!(second.read(), bulks(&["jobs", "two"]));
        assert_eq!(server.blocked_clients(), 0);
        assert_eq!(server.list_len("jobs"), 0);
        // Both connections keep working after being served.
        assert_eq!(first.call("PING"), Reply::Simple("PONG"));
        assert_eq!(second.call("PING"), Reply::Simple("PONG"));
    }

    #[test]
    fn blocking_pop_times_out_with_nil() {
        let server = KvServer::start(0).unwrap();
        let mut c = Client::connect(&server);
        let start = Instant::now();
        assert_eq!(c.call("BLPOP nothing 0.2"), Reply::NilArray);
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(190), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
        assert_eq!(server.blocked_clients(), 0);
        assert_eq!(c.call("BLMOVE nothing x LEFT LEFT 0.05"), Reply::NilArray);
    }

    #[test]
    fn blmove_is_woken_by_a_push_and_in_process_rpush() {
        let server = KvServer::start(0).unwrap();
        let mut worker = Client::connect(&server);
        worker.send("BLMOVE jobs processing RIGHT LEFT 0");
        wait_until(&server, "the worker to block", || {
            server.blocked_clients() == 1
        });
        assert_eq!(server.rpush("jobs", &["job-1"]), Ok(1));
        assert_eq!(worker.read(), bulk("job-1"));
        assert_eq!(server.list("processing"), ["job-1"]);
        assert_eq!(server.list_len("jobs"), 0);
        server.set("s", "x");
        assert_eq!(server.rpush("s", &["y"]), Err(KvTypeError));
    }

    #[test]
    fn a_client_that_disconnects_while_blocked_does_not_swallow_a_push() {
        let server = KvServer::start(0).unwrap();
        let mut worker = Client::connect(&server);
        worker.send("BRPOP jobs 0");
        wait_until(&server, "the worker to block", || {
            server.blocked_clients() == 1
        });
        drop(worker);
        wait_until(&server, "the worker to go", || {
            server.blocked_clients() == 0
        });
        let mut producer = Client::connect(&server);
        assert_eq!(producer.call("LPUSH jobs job-1"), Reply::Int(1));
        assert_eq!(server.list("jobs"), ["job-1"]);
    }

    #[test]
    fn wait_for_change_wakes_on_writes_only() {
        let server = KvServer::start(0).unwrap();
        assert!(!server.wait_for_change(Duration::from_millis(20)));
        let port = server.port();
        let writer = thread::spawn(move || {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            (&stream).write_all(b"GET k\r\n").unwrap();
            read_reply(&mut reader).unwrap();
            (&stream).write_all(b"SET k v\r\n").unwrap();
            read_reply(&mut reader).unwrap();
        });
        let start = Instant::now();
        assert!(server.wait_for_change(Duration::from_secs(10)));
        assert!(start.elapsed() < Duration::from_secs(5));
        writer.join().unwrap();
        // The write is complete by the time the waiter wakes.
        assert_eq!(server.get("k").as_deref(), Some("v"));
    }

    #[test]
    fn drop_disconnects_blocked_clients_and_frees_the_port() {
        let server = KvServer::start(0).unwrap();
        let port = server.port();
        let mut blocked = Client::connect(&server);
        blocked.send("BRPOP jobs 0");
        wait_until(&server, "the client to block", || {
            server.blocked_clients() == 1
        });
        let mut idle = Client::connect(&server);
        assert_eq!(idle.call("PING"), Reply::Simple("PONG"));

        let start = Instant::now();
        drop(server);
        let took = start.elapsed();
        assert!(took < Duration::from_millis(500), "drop took {took:?}");
        assert!(blocked.is_closed(), "the blocked client is disconnected");
        assert!(idle.is_closed(), "idle clients are disconnected");
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "the port refuses connections"
        );
    }

    #[test]
    fn the_server_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<KvServer>();
    }

    #[test]
    fn many_servers_start_and_stop_quickly() {
        let start = Instant::now();
        for _ in 0..20 {
            let server = KvServer::start(0).unwrap();
            let mut c = Client::connect(&server);
            assert_eq!(c.call("PING"), Reply::Simple("PONG"));
        }
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}

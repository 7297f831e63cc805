//! Networking: [`KvServer`], the public handle, and its threads. One accept thread; per
//! connection a *reader* thread that parses commands (and so notices a disconnect even while
//! the client is blocked in `BRPOP`) and an *executor* thread that runs them
//! ([`Shared::handle`]) and writes the replies and pub/sub messages.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io::{self, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::blocking::Waiter;
use super::connection::{ReplyMode, Session, Step};
use super::keyspace::{Store, Value};
use super::protocol::{ReadError, Reply, RespReader};
use super::pubsub::PubSub;
use super::{Bytes, lock, lossy};

/// Commands a reader thread may parse ahead of its executor (pipelining).
const PIPELINE_DEPTH: usize = 64;

/// A running store on `127.0.0.1`. Dropping it stops accepting, disconnects every client (also
/// those blocked in `BLPOP`) and joins all its threads.
#[must_use]
pub struct KvServer {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// What the threads of one server share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Notified after every write, when a connection closes, and at shutdown.
    pub(super) changed: Condvar,
    pub(super) stopping: AtomicBool,
    pub(super) commands: AtomicU64,
    /// While true, executors hold every command: the store accepts connections and answers
    /// nothing (a hung backing service).
    paused: Mutex<bool>,
    resumed: Condvar,
    addr: SocketAddr,
    /// A handle on every open client socket, so shutdown can close them.
    conns: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Everything behind the one lock: the data, the blocked clients, pub/sub and the write
/// counter.
pub(super) struct State {
    pub(super) store: Store,
    pub(super) pubsub: PubSub,
    /// Clients blocked in `BLPOP` and friends, oldest first.
    pub(super) waiters: VecDeque<Waiter>,
    /// Replies handed to blocked clients by a push, waiting to be picked up by their executor.
    pub(super) served: HashMap<u64, Reply>,
    pub(super) writes: u64,
    pub(super) next_waiter: u64,
}

impl State {
    pub(super) fn new() -> State {
        State {
            store: Store::new(),
            pubsub: PubSub::default(),
            waiters: VecDeque::new(),
            served: HashMap::new(),
            writes: 0,
            next_waiter: 0,
        }
    }
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
            paused: Mutex::new(false),
            resumed: Condvar::new(),
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
        state.store.dbs[0].touch(key.as_bytes());
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

    /// Hang: connections are still accepted, but no command is answered until
    /// [`KvServer::resume`] (or until the store is dropped).
    pub fn pause(&self) {
        *lock(&self.shared.paused) = true;
    }

    /// Answer again, starting with the commands that waited.
    pub fn resume(&self) {
        *lock(&self.shared.paused) = false;
        self.shared.resumed.notify_all();
    }

    pub fn is_paused(&self) -> bool {
        *lock(&self.shared.paused)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

impl Shared {
    /// Wait while the store is paused; false when it is stopping instead.
    fn hold_while_paused(&self) -> bool {
        let mut paused = lock(&self.paused);
        while *paused && !self.stopping.load(Ordering::SeqCst) {
            paused = self
                .resumed
                .wait(paused)
                .unwrap_or_else(PoisonError::into_inner);
        }
        !self.stopping.load(Ordering::SeqCst)
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
        {
            // The same for executors held by a pause.
            let _paused = lock(&self.shared.paused);
            self.shared.resumed.notify_all();
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

pub(super) fn wait<'a>(condvar: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn wait_timeout<'a>(
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

/// A message to a connection's executor thread, from its reader thread or from `PUBLISH`.
pub(super) enum Incoming {
    Command(Vec<Bytes>),
    ProtocolError(String),
    /// Pub/sub messages are waiting in the connection's outbox.
    Wake,
}

fn spawn_connection(shared: &Arc<Shared>, stream: &TcpStream, id: u64) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let reader_stream = stream.try_clone()?;
    lock(&shared.conns).insert(id, stream.try_clone()?);
    let closed = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::sync_channel(PIPELINE_DEPTH);
    lock(&shared.state).pubsub.add_waker(id, tx.clone());

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
        lock(&shared.state).pubsub.remove_waker(id);
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
    // Without its last sender the executor's queue ends, and so does the executor.
    state.pubsub.remove_waker(id);
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
        if !shared.hold_while_paused() {
            break;
        }
        let (reply, close, silent) = match incoming {
            Incoming::Command(args) => match shared.handle(&mut session, &args, closed) {
                Step::Reply(reply) => (reply, false, session.silenced()),
                Step::ReplyAndClose(reply) => (reply, true, session.silenced()),
                Step::Disconnect => break,
            },
            Incoming::ProtocolError(msg) => (
                Reply::Error(format!("ERR Protocol error: {msg}")),
                true,
                false,
            ),
            Incoming::Wake => {
                let messages = lock(&shared.state).pubsub.take_outbox(id);
                if messages.is_empty() {
                    continue;
                }
                (
                    Reply::Many(messages),
                    false,
                    session.reply == ReplyMode::Off,
                )
            }
        };
        if close {
            // Gone before the client reads the reply: its subscriptions and watches too.
            session.end(&mut lock(&shared.state));
        }
        out.clear();
        if !silent {
            reply.encode(&mut out);
        }
        if (&*stream).write_all(&out).is_err() || close {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    lock(&shared.conns).remove(&id);
    session.end(&mut lock(&shared.state));
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Read};

    use super::*;
    use crate::sandbox::kv::testing::{bulk, bulks, error, words};

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
    fn wait_until(server: &KvServer, what: &str, mut condition: impl FnMut() -> bool) {
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
    fn watch_makes_exec_fail_after_another_connections_write() {
        let server = KvServer::start(0).unwrap();
        let mut a = Client::connect(&server);
        let mut b = Client::connect(&server);
        a.call("SET balance 100");
        assert_eq!(a.call("WATCH balance"), Reply::OK);
        assert_eq!(a.call("GET balance"), bulk("100"));
        assert_eq!(b.call("SET balance 50"), Reply::OK);
        assert_eq!(a.call("MULTI"), Reply::OK);
        assert_eq!(a.call("SET balance 90"), Reply::Simple("QUEUED"));
        assert_eq!(
            a.call("EXEC"),
            Reply::NilArray,
            "the conflicting write wins"
        );
        assert_eq!(a.call("GET balance"), bulk("50"));

        // EXEC unwatched: the next transaction runs.
        b.call("SET balance 60");
        a.call("MULTI");
        a.call("DECRBY balance 10");
        assert_eq!(a.call("EXEC"), Reply::Array(vec![Reply::Int(50)]));

        // A write made in-process by a check counts like another client's.
        a.call("WATCH balance");
        server.set("balance", "1");
        a.call("MULTI");
        a.call("INCR balance");
        assert_eq!(a.call("EXEC"), Reply::NilArray);

        // So does a watched key expiring.
        a.call("SET lease me PX 200");
        a.call("WATCH lease");
        thread::sleep(Duration::from_millis(300));
        a.call("MULTI");
        a.call("PING");
        assert_eq!(a.call("EXEC"), Reply::NilArray);

        // UNWATCH forgets; WATCH inside MULTI is refused without aborting.
        a.call("WATCH balance");
        b.call("SET balance 2");
        assert_eq!(a.call("UNWATCH"), Reply::OK);
        a.call("MULTI");
        assert_eq!(
            a.call("WATCH balance"),
            error("ERR WATCH inside MULTI is not allowed")
        );
        a.call("INCR balance");
        assert_eq!(a.call("EXEC"), Reply::Array(vec![Reply::Int(3)]));
    }

    #[test]
    fn publish_reaches_subscribers_in_order() {
        let server = KvServer::start(0).unwrap();
        let mut sub = Client::connect(&server);
        let mut publisher = Client::connect(&server);
        assert_eq!(publisher.call("PUBLISH news nobody"), Reply::Int(0));
        assert_eq!(
            sub.call("SUBSCRIBE news"),
            Reply::Array(vec![bulk("subscribe"), bulk("news"), Reply::Int(1)])
        );
        assert_eq!(publisher.call("PUBLISH news hello"), Reply::Int(1));
        assert_eq!(sub.read(), bulks(&["message", "news", "hello"]));
        assert_eq!(
            sub.call("GET k"),
            error(
                "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT \
                 / RESET are allowed in this context"
            )
        );
        // A message published before a command is written before its reply.
        assert_eq!(publisher.call("PUBLISH news two"), Reply::Int(1));
        sub.send("PING");
        assert_eq!(sub.read(), bulks(&["message", "news", "two"]));
        assert_eq!(sub.read(), bulks(&["pong", ""]));
        assert_eq!(
            sub.call("PSUBSCRIBE n*"),
            Reply::Array(vec![bulk("psubscribe"), bulk("n*"), Reply::Int(2)])
        );
        assert_eq!(publisher.call("PUBLISH news three"), Reply::Int(2));
        assert_eq!(sub.read(), bulks(&["message", "news", "three"]));
        assert_eq!(sub.read(), bulks(&["pmessage", "n*", "news", "three"]));
        sub.send("SUBSCRIBE a b");
        assert_eq!(
            sub.read(),
            Reply::Array(vec![bulk("subscribe"), bulk("a"), Reply::Int(3)])
        );
        assert_eq!(
            sub.read(),
            Reply::Array(vec![bulk("subscribe"), bulk("b"), Reply::Int(4)])
        );
        assert_eq!(
            publisher.call("PUBSUB CHANNELS"),
            bulks(&["a", "b", "news"])
        );
        assert_eq!(publisher.call("PUBSUB NUMPAT"), Reply::Int(1));
        assert_eq!(sub.call("RESET"), Reply::Simple("RESET"));
        assert_eq!(
            sub.call("GET k"),
            Reply::Nil,
            "RESET leaves subscribed mode"
        );
        assert_eq!(publisher.call("PUBLISH news four"), Reply::Int(0));

        // A subscriber that disconnects is forgotten.
        sub.call("SUBSCRIBE gone");
        drop(sub);
        wait_until(&server, "the subscriber to go", || {
            publisher.call("PUBLISH gone x") == Reply::Int(0)
        });
    }

    #[test]
    fn client_reply_off_and_skip_silence_replies() {
        let server = KvServer::start(0).unwrap();
        let mut c = Client::connect(&server);
        c.send("CLIENT REPLY OFF");
        c.send("SET k v");
        c.send("GET k");
        assert_eq!(c.call("CLIENT REPLY ON"), Reply::OK);
        c.send("CLIENT REPLY SKIP");
        c.send("SET k w");
        assert_eq!(c.call("GET k"), bulk("w"));
        c.call("SELECT 3");
        c.call("CLIENT SETNAME me");
        c.call("MULTI");
        assert_eq!(c.call("RESET"), Reply::Simple("RESET"));
        assert_eq!(c.call("EXEC"), error("ERR EXEC without MULTI"));
        assert_eq!(c.call("CLIENT GETNAME"), Reply::Nil);
        assert_eq!(c.call("GET k"), bulk("w"), "RESET selects database 0");
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
    fn a_paused_store_accepts_but_answers_only_once_resumed() {
        let server = KvServer::start(0).unwrap();
        let mut c = Client::connect(&server);
        assert_eq!(c.call("PING"), Reply::Simple("PONG"));
        server.pause();
        assert!(server.is_paused());
        // A new connection is accepted; its command waits.
        let stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        (&stream).write_all(b"SET k v\r\n").unwrap();
        let mut buf = [0u8; 16];
        let err = (&stream).read(&mut buf).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "{err}"
        );
        assert_eq!(server.writes(), 0);
        server.resume();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = (&stream).read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"+OK\r\n");
        assert_eq!(server.get("k").as_deref(), Some("v"));
    }

    #[test]
    fn a_paused_store_can_be_dropped_and_its_port_bound_again() {
        let server = KvServer::start(0).unwrap();
        let port = server.port();
        let mut c = Client::connect(&server);
        server.pause();
        c.send("PING");
        drop(server);
        assert!(c.is_closed());
        let again = KvServer::start(port).expect("the same port binds again");
        let mut c = Client::connect(&again);
        assert_eq!(c.call("PING"), Reply::Simple("PONG"));
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

//! The command table (name, arity, write flag, family), argument checks with Redis's error
//! texts, and [`execute`], which runs one command against the [`State`].

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::blocking::{self, Block, BlockOp};
use super::connection::Session;
use super::keyspace::{Keyspace, Store};
use super::protocol::{Reply, parse_i64};
use super::pubsub::PubSub;
use super::server::State;
use super::{Bytes, admin, hashes, keys, lists, lossy, pubsub, sets, strings};

/// Appended to the error for an unknown command: the learner may not be talking to Redis.
pub(super) const UNKNOWN_HINT: &str = "(twelve's built-in store does not know this command: \
     `twelve kv --help` lists the ones it knows; `--store redis-server` runs the checks against \
     a real Redis)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Keys,
    Strings,
    Lists,
    Blocking,
    Hashes,
    Sets,
    PubSub,
    /// `WATCH` and `UNWATCH`.
    Watch,
    Server,
    /// `QUIT`, `RESET`, `MULTI`, `EXEC`, `DISCARD`: handled by the connection, see
    /// [`super::connection`].
    Connection,
}

/// One command: its name, its arity (as in Redis: `n` exactly, `-n` at least `n`, counting the
/// name) and whether it modifies data.
#[derive(Debug)]
pub(super) struct Spec {
    pub(super) name: &'static str,
    pub(super) arity: i32,
    pub(super) write: bool,
    pub(super) family: Family,
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

/// Every command the store knows. The module documentation lists them too: keep both in step.
pub(super) static COMMANDS: &[Spec] = &[
    spec("DEL", -2, W, Family::Keys),
    spec("UNLINK", -2, W, Family::Keys),
    spec("EXISTS", -2, R, Family::Keys),
    spec("TOUCH", -2, R, Family::Keys),
    spec("TYPE", 2, R, Family::Keys),
    spec("KEYS", 2, R, Family::Keys),
    spec("SCAN", -2, R, Family::Keys),
    spec("RANDOMKEY", 1, R, Family::Keys),
    spec("DBSIZE", 1, R, Family::Keys),
    spec("RENAME", 3, W, Family::Keys),
    spec("RENAMENX", 3, W, Family::Keys),
    spec("FLUSHDB", -1, W, Family::Keys),
    spec("FLUSHALL", -1, W, Family::Keys),
    spec("EXPIRE", -3, W, Family::Keys),
    spec("PEXPIRE", -3, W, Family::Keys),
    spec("EXPIREAT", -3, W, Family::Keys),
    spec("PEXPIREAT", -3, W, Family::Keys),
    spec("PERSIST", 2, W, Family::Keys),
    spec("TTL", 2, R, Family::Keys),
    spec("PTTL", 2, R, Family::Keys),
    spec("EXPIRETIME", 2, R, Family::Keys),
    spec("PEXPIRETIME", 2, R, Family::Keys),
    spec("GET", 2, R, Family::Strings),
    spec("SET", -3, W, Family::Strings),
    spec("SETNX", 3, W, Family::Strings),
    spec("SETEX", 4, W, Family::Strings),
    spec("PSETEX", 4, W, Family::Strings),
    spec("GETEX", -2, W, Family::Strings),
    spec("GETDEL", 2, W, Family::Strings),
    spec("GETSET", 3, W, Family::Strings),
    spec("MGET", -2, R, Family::Strings),
    spec("MSET", -3, W, Family::Strings),
    spec("MSETNX", -3, W, Family::Strings),
    spec("APPEND", 3, W, Family::Strings),
    spec("STRLEN", 2, R, Family::Strings),
    spec("GETRANGE", 4, R, Family::Strings),
    spec("SETRANGE", 4, W, Family::Strings),
    spec("INCR", 2, W, Family::Strings),
    spec("DECR", 2, W, Family::Strings),
    spec("INCRBY", 3, W, Family::Strings),
    spec("DECRBY", 3, W, Family::Strings),
    spec("INCRBYFLOAT", 3, W, Family::Strings),
    spec("LPUSH", -3, W, Family::Lists),
    spec("RPUSH", -3, W, Family::Lists),
    spec("LPUSHX", -3, W, Family::Lists),
    spec("RPUSHX", -3, W, Family::Lists),
    spec("LPOP", -2, W, Family::Lists),
    spec("RPOP", -2, W, Family::Lists),
    spec("LLEN", 2, R, Family::Lists),
    spec("LRANGE", 4, R, Family::Lists),
    spec("LINDEX", 3, R, Family::Lists),
    spec("LPOS", -3, R, Family::Lists),
    spec("LSET", 4, W, Family::Lists),
    spec("LINSERT", 5, W, Family::Lists),
    spec("LTRIM", 4, W, Family::Lists),
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
    spec("HKEYS", 2, R, Family::Hashes),
    spec("HVALS", 2, R, Family::Hashes),
    spec("HLEN", 2, R, Family::Hashes),
    spec("HEXISTS", 3, R, Family::Hashes),
    spec("HSTRLEN", 3, R, Family::Hashes),
    spec("HDEL", -3, W, Family::Hashes),
    spec("HINCRBY", 4, W, Family::Hashes),
    spec("HINCRBYFLOAT", 4, W, Family::Hashes),
    spec("HSCAN", -3, R, Family::Hashes),
    spec("SADD", -3, W, Family::Sets),
    spec("SREM", -3, W, Family::Sets),
    spec("SMEMBERS", 2, R, Family::Sets),
    spec("SISMEMBER", 3, R, Family::Sets),
    spec("SMISMEMBER", -3, R, Family::Sets),
    spec("SCARD", 2, R, Family::Sets),
    spec("SMOVE", 4, W, Family::Sets),
    spec("SPOP", -2, W, Family::Sets),
    spec("SRANDMEMBER", -2, R, Family::Sets),
    spec("SINTER", -2, R, Family::Sets),
    spec("SUNION", -2, R, Family::Sets),
    spec("SDIFF", -2, R, Family::Sets),
    spec("SINTERSTORE", -3, W, Family::Sets),
    spec("SUNIONSTORE", -3, W, Family::Sets),
    spec("SDIFFSTORE", -3, W, Family::Sets),
    spec("SSCAN", -3, R, Family::Sets),
    spec("PUBLISH", 3, R, Family::PubSub),
    spec("SUBSCRIBE", -2, R, Family::PubSub),
    spec("UNSUBSCRIBE", -1, R, Family::PubSub),
    spec("PSUBSCRIBE", -2, R, Family::PubSub),
    spec("PUNSUBSCRIBE", -1, R, Family::PubSub),
    spec("PUBSUB", -2, R, Family::PubSub),
    spec("WATCH", -2, R, Family::Watch),
    spec("UNWATCH", 1, R, Family::Watch),
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
    spec("RESET", 1, R, Family::Connection),
    spec("MULTI", 1, R, Family::Connection),
    spec("EXEC", 1, R, Family::Connection),
    spec("DISCARD", 1, R, Family::Connection),
];

/// Finds the command and checks its arity, with Redis's error messages.
pub(super) fn lookup(args: &[Bytes]) -> Result<&'static Spec, CmdError> {
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
            "unknown command '{name}', with args beginning with: {shown}{UNKNOWN_HINT}"
        )));
    };
    let argc = args.len() as i32;
    if (spec.arity > 0 && argc != spec.arity) || argc < spec.arity.abs() {
        return Err(CmdError::Arity(spec.name.to_ascii_lowercase()));
    }
    Ok(spec)
}

/// The result of running a command: a reply, or a blocking pop that has to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Reply(Reply),
    Block(Block),
}

/// Runs one command against the state. Counts writes; a blocking pop that finds nothing returns
/// [`Outcome::Block`], unless `in_multi` (inside `EXEC`), where it answers nil at once.
pub(super) fn execute(
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
    let blocked = state.waiters.len();
    let mut ctx = Ctx {
        blocked,
        store: &mut state.store,
        pubsub: &mut state.pubsub,
        session,
        now,
    };
    let name = spec.name;
    let result = match spec.family {
        Family::Keys => keys::command(&mut ctx, name, a),
        Family::Strings => strings::command(&mut ctx, name, a),
        Family::Lists => lists::command(&mut ctx, name, a),
        Family::Hashes => hashes::command(&mut ctx, name, a),
        Family::Sets => sets::command(&mut ctx, name, a),
        Family::PubSub => pubsub::command(&mut ctx, name, a),
        Family::Watch => admin::watch_command(&mut ctx, name, a),
        Family::Server => admin::command(&mut ctx, name, a),
        Family::Blocking => match blocking::command(&mut ctx, name, a) {
            // Inside EXEC nothing blocks: the null reply at once, of the command's kind.
            Ok(Outcome::Block(block)) if in_multi => Ok(match block.op {
                BlockOp::Pop(_) => Reply::NilArray,
                BlockOp::Move { .. } => Reply::Nil,
            }),
            Ok(Outcome::Block(block)) => return Outcome::Block(block),
            Ok(Outcome::Reply(reply)) => Ok(reply),
            Err(e) => Err(e),
        },
        Family::Connection => Err(err(format!("'{name}' is not allowed here"))),
    };
    Outcome::Reply(result.unwrap_or_else(Reply::from))
}

/// What a handler sees: the data, the pub/sub registry, the session (selected db) and the time.
pub(super) struct Ctx<'a> {
    /// Clients blocked in a blocking pop (for `INFO`).
    pub(super) blocked: usize,
    pub(super) store: &'a mut Store,
    pub(super) pubsub: &'a mut PubSub,
    pub(super) session: &'a mut Session,
    pub(super) now: Instant,
}

impl Ctx<'_> {
    /// The selected database.
    pub(super) fn ks(&mut self) -> &mut Keyspace {
        &mut self.store.dbs[self.session.db]
    }
}

/// An error reply. The text is exactly what Redis sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum CmdError {
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR wrong number of arguments for '{0}' command")]
    Arity(String),
    #[error("ERR {0}")]
    Other(String),
    /// An error with its own code, e.g. `NOPROTO ...`.
    #[error("{0}")]
    Coded(String),
}

pub(super) fn err(msg: impl Into<String>) -> CmdError {
    CmdError::Other(msg.into())
}

impl From<CmdError> for Reply {
    fn from(e: CmdError) -> Reply {
        Reply::Error(e.to_string())
    }
}

/// The error for a handler reached with a name it does not serve (a bug in the table).
pub(super) fn no_handler(name: &str) -> CmdError {
    err(format!("no handler for '{name}'"))
}

/// An integer argument, parsed as strictly as Redis does.
pub(super) fn int_arg(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A count that must not be negative, with Redis's "must be positive" error.
pub(super) fn positive_arg(arg: &[u8]) -> Result<usize, CmdError> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(err("value is out of range, must be positive")),
    }
}

/// True if `arg` is `word`, ignoring ASCII case.
pub(super) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The monotonic clock and the wall clock read once, together. Deadlines are [`Instant`]s;
/// Unix times (`EXPIREAT`, `EXPIRETIME`, ...) convert through this pair, so they round-trip
/// exactly.
fn anchor() -> (Instant, i128) {
    static ANCHOR: OnceLock<(Instant, i128)> = OnceLock::new();
    *ANCHOR.get_or_init(|| {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        (Instant::now(), unix)
    })
}

/// The Unix time of `at`, in milliseconds.
pub(super) fn unix_ms(at: Instant) -> i64 {
    let (base, unix) = anchor();
    let ns = if at >= base {
        unix + (at - base).as_nanos() as i128
    } else {
        unix - (base - at).as_nanos() as i128
    };
    ns.div_euclid(1_000_000) as i64
}

/// The instant of the Unix time `ms`, if an [`Instant`] can hold it.
fn instant_at(ms: i64) -> Option<Instant> {
    let (base, unix) = anchor();
    let delta = i128::from(ms) * 1_000_000 - unix;
    let span = Duration::new(
        u64::try_from(delta.unsigned_abs() / 1_000_000_000).ok()?,
        (delta.unsigned_abs() % 1_000_000_000) as u32,
    );
    if delta >= 0 {
        base.checked_add(span)
    } else {
        base.checked_sub(span)
    }
}

/// The instant `ms` (> 0) milliseconds after `now`, or an "invalid expire time" error when it
/// would overflow (as Redis checks against its millisecond clock).
pub(super) fn deadline_after(ms: i64, now: Instant, command: &str) -> Result<Instant, CmdError> {
    let invalid = || invalid_expire(command);
    if ms > i64::MAX - unix_ms(now) {
        return Err(invalid());
    }
    now.checked_add(Duration::from_millis(ms as u64))
        .ok_or_else(invalid)
}

/// The instant of the Unix time `at_ms`; `now` when it is already past.
pub(super) fn deadline_at(at_ms: i64, now: Instant, command: &str) -> Result<Instant, CmdError> {
    if at_ms <= unix_ms(now) {
        return Ok(now);
    }
    instant_at(at_ms).ok_or_else(|| invalid_expire(command))
}

pub(super) fn invalid_expire(command: &str) -> CmdError {
    err(format!("invalid expire time in '{command}' command"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kv::testing::Harness;

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
    fn every_command_is_listed_once_in_upper_case() {
        for (i, spec) in COMMANDS.iter().enumerate() {
            assert_eq!(spec.name, spec.name.to_ascii_uppercase());
            assert!(
                COMMANDS[..i].iter().all(|s| s.name != spec.name),
                "{} twice",
                spec.name
            );
            assert!(
                super::super::HELP
                    .split_whitespace()
                    .any(|w| w == spec.name),
                "{} missing from the help text",
                spec.name
            );
        }
    }
}

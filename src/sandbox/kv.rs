//! The built-in key-value store: a small Redis-compatible server speaking RESP2.
//!
//! Learners' services reach it through `sandbox-apps/_shared/kv.py`, exactly as they would reach
//! a real `redis-server`; checks start one per scenario and inspect it in-process
//! ([`KvServer::keys`], [`KvServer::writes`], [`KvServer::wait_for_change`], ...);
//! `twelve kv` runs one in the foreground.
//!
//! It answers like `redis-server` 7.0 on every command it knows, byte for byte, error texts
//! included: `tests/kv_compat.py --diff` replays a script of every command and its edge cases
//! against both and compares the replies (run by `cargo test` where `redis-server` is
//! installed). The commands, by family (also shown by `twelve kv --help`, see [`HELP`]):
//!
//! - keys: `DEL UNLINK EXISTS TOUCH TYPE KEYS SCAN RANDOMKEY DBSIZE RENAME RENAMENX FLUSHDB
//!   FLUSHALL EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST TTL PTTL EXPIRETIME PEXPIRETIME`
//! - strings: `GET SET SETNX SETEX PSETEX GETEX GETDEL GETSET MGET MSET MSETNX APPEND STRLEN
//!   GETRANGE SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT`
//! - lists: `LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LPOS LSET LINSERT LTRIM
//!   LREM LMOVE RPOPLPUSH`, blocking: `BLPOP BRPOP BLMOVE BRPOPLPUSH`
//! - hashes: `HSET HMSET HSETNX HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN HDEL
//!   HINCRBY HINCRBYFLOAT HSCAN`
//! - sets: `SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SMOVE SPOP SRANDMEMBER SINTER
//!   SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN`
//! - transactions: `MULTI EXEC DISCARD WATCH UNWATCH`
//! - pub/sub: `PUBLISH SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBSUB`
//! - connection and server: `PING ECHO SELECT QUIT RESET CLIENT (SETNAME GETNAME ID INFO
//!   LIST REPLY NO-EVICT) HELLO AUTH INFO COMMAND CONFIG TIME`
//!
//! Any other command answers Redis's `ERR unknown command '...', with args beginning with:
//! ...` followed by a hint that this is twelve's built-in store and `--store redis-server` uses
//! a real one.
//!
//! Known differences from Redis: no persistence, passwords, scripting, sorted sets, streams,
//! RESP3 (`HELLO 3` answers `NOPROTO`) or keyspace notifications; `INFO`, `COMMAND` and
//! `CONFIG GET` answer with placeholders, `CLIENT LIST` with a short line. Where Redis's order
//! depends on its hash tables, this store answers sorted: `KEYS`, the members of a set that is
//! not a small set of integers (those come in numeric order, as in Redis), `PUBSUB CHANNELS`;
//! `SCAN` cursors are other numbers (with the same guarantee: a key present throughout is
//! returned), `HSCAN` and `SSCAN` return everything in one page, and hashes keep insertion order
//! even past the 128 fields where Redis stops doing so. `INCRBYFLOAT` computes in x87
//! `long double`, as `redis-server` does on x86-64.
//!
//! The code, from the wire to the data (`src/sandbox/kv/`):
//! - `server.rs`: [`KvServer`] and its threads (accept; per connection a reader and an
//!   executor);
//! - `connection.rs`: a client's session and how its commands run: transactions with `WATCH`,
//!   `RESET`, subscribed mode, `CLIENT REPLY`;
//! - `command.rs`: the command table, argument rules and error texts, `execute`;
//! - one file per family: `keys.rs`, `strings.rs`, `lists.rs`, `blocking.rs`, `hashes.rs`,
//!   `sets.rs`, `pubsub.rs`, `admin.rs` (server commands, `WATCH`), with `float.rs` for
//!   `INCRBYFLOAT`'s `long double` arithmetic;
//! - `keyspace.rs`: the data model, lazy expiry and the write tracking behind `WATCH`;
//! - `protocol.rs`: RESP2 replies and the command reader (RESP arrays and inline commands,
//!   hand-written: it must reproduce Redis's inline quoting and protocol error texts).

mod admin;
mod blocking;
mod command;
mod connection;
mod float;
mod hashes;
mod keys;
mod keyspace;
mod lists;
mod protocol;
mod pubsub;
mod server;
mod sets;
mod strings;
#[cfg(test)]
mod testing;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use server::{KvServer, KvTypeError};

/// Number of databases (`SELECT 0` .. `SELECT 15`), as in a default Redis.
pub const DATABASES: usize = 16;

/// The Redis version the store claims in `INFO` and `HELLO`; it answers as this version does.
const VERSION: &str = "7.0.0";

/// What `twelve kv --help` should show after its options: the commands the store knows.
pub const HELP: &str = "\
The store speaks RESP2 and answers like redis-server 7.0 to these commands:
  keys          DEL UNLINK EXISTS TOUCH TYPE KEYS SCAN RANDOMKEY DBSIZE RENAME RENAMENX
                FLUSHDB FLUSHALL EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST TTL PTTL
                EXPIRETIME PEXPIRETIME
  strings       GET SET SETNX SETEX PSETEX GETEX GETDEL GETSET MGET MSET MSETNX APPEND
                STRLEN GETRANGE SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT
  lists         LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LPOS LSET LINSERT
                LTRIM LREM LMOVE RPOPLPUSH BLPOP BRPOP BLMOVE BRPOPLPUSH
  hashes        HSET HMSET HSETNX HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSTRLEN
                HDEL HINCRBY HINCRBYFLOAT HSCAN
  sets          SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SMOVE SPOP SRANDMEMBER
                SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN
  transactions  MULTI EXEC DISCARD WATCH UNWATCH
  pub/sub       PUBLISH SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBSUB
  connection    PING ECHO SELECT QUIT RESET CLIENT HELLO AUTH INFO COMMAND CONFIG TIME
No persistence, scripting, sorted sets or streams: any other command answers
`ERR unknown command`. The checks run against a real Redis with --store redis-server.";

type Bytes = Vec<u8>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

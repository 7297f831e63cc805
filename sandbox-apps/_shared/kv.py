"""kv.py - a tiny Redis client, standard library only (Python 3.8+).

It speaks RESP2, the Redis wire protocol, so it works unchanged against the store built into
`twelve` and against a real Redis server: only the URL changes. That is factor IV, backing
services: the app names its store by config (REDIS_URL), never by code.

    from kv import KV
    kv = KV.from_url(os.environ["REDIS_URL"])    # redis://host:port/db
    kv.set("greeting", "hello", ex=60)
    kv.get("greeting")                            # -> "hello"

Values go in as str (ints are sent as text) and come back as str. The connection opens on the
first command and is re-opened once if it broke. Threads may share a KV (commands take turns),
but a blocking pop holds the connection while it waits: give each worker its own KV.

Any command goes through kv.command(...): replies come back as str, int, list or None (a nil),
and an error reply raises KVError with Redis's text. The store built into twelve answers like
redis-server 7.0 to these commands (`twelve kv --help` lists them too):

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

Anything else answers "ERR unknown command ..."; `--store redis-server` runs the checks against
a real Redis instead. Optimistic locking, with a KV of the transaction's own (on a shared KV,
another thread's commands would land inside the transaction):

    tx = KV.from_url(os.environ["REDIS_URL"])
    while True:
        tx.command("WATCH", "stock")
        left = int(tx.get("stock") or 0)
        tx.command("MULTI")
        tx.command("SET", "stock", left - 1)         # -> "QUEUED"
        if tx.command("EXEC") is not None:           # None: "stock" changed meanwhile, retry
            break

kv.py can PUBLISH (kv.command("PUBLISH", channel, message)) but has no call that waits for
messages on a subscribed connection.
"""

import socket
import threading
from urllib.parse import urlparse


class KVError(Exception):
    """The server answered with an error, e.g. "WRONGTYPE Operation against a key ..."."""


def _encode(args):
    """A command as a RESP array of bulk strings: *<count> then $<length> <bytes> per arg."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class KV:
    def __init__(self, host="127.0.0.1", port=6379, db=0):
        self.host, self.port, self.db = host, port, db
        self._sock = self._file = None
        self._lock = threading.RLock()

    @classmethod
    def from_url(cls, url):
        """KV.from_url("redis://host:port/db"); the /db part is optional (default 0)."""
        u = urlparse(url)
        if u.scheme != "redis":
            raise ValueError("expected a redis:// URL, got %r" % url)
        return cls(u.hostname or "127.0.0.1", u.port or 6379, int(u.path.strip("/") or 0))

    # -- the protocol ----------------------------------------------------------------------

    def command(self, *args):
        """Sends any command, e.g. kv.command("TYPE", "key"), and returns the reply."""
        return self._execute(args, retry=True)

    def _execute(self, args, retry):
        with self._lock:
            try:
                reply = self._roundtrip(args)
            except ConnectionError:
                if not retry:
                    raise
                reply = self._roundtrip(args)  # the server restarted or dropped us: once more
        if isinstance(reply, KVError):
            raise reply
        return reply

    def _roundtrip(self, args):
        try:
            if self._sock is None:
                self._sock = socket.create_connection((self.host, self.port), timeout=10)
                self._sock.settimeout(None)  # blocking pops may wait as long as they like
                self._file = self._sock.makefile("rb")
                if self.db:
                    self._sock.sendall(_encode(["SELECT", self.db]))
                    reply = self._read()
                    if isinstance(reply, KVError):
                        raise reply
            self._sock.sendall(_encode(args))
            return self._read()
        except BaseException:
            self.close()  # never reuse a connection left half-way through a reply
            raise

    def _read(self):
        """One reply: +simple, -error, :integer, $bulk ($-1 is None), *array (*-1 is None)."""
        line = self._file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("the server closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode("utf-8")
        if kind == b"-":
            return KVError(rest.decode("utf-8"))  # raised by _execute, kept as is inside arrays
        if kind == b":":
            return int(rest)
        n = int(rest)
        if n < 0:
            return None
        if kind == b"*":
            return [self._read() for _ in range(n)]
        data = self._file.read(n + 2)  # a bulk string and its \r\n
        if len(data) < n + 2:
            raise ConnectionError("the server closed the connection")
        return data[:-2].decode("utf-8", "replace")

    def close(self):
        with self._lock:
            if self._sock is not None:
                self._file.close()
                self._sock.close()
            self._sock = self._file = None

    # -- strings, counters, keys --------------------------------------------------------------

    def ping(self): return self.command("PING") == "PONG"
    def get(self, key): return self.command("GET", key)
    def delete(self, *keys): return self.command("DEL", *keys)
    def exists(self, key): return self.command("EXISTS", key) == 1
    def incr(self, key, by=1): return self.command("INCRBY", key, by)
    def expire(self, key, seconds): return self.command("EXPIRE", key, seconds) == 1
    def ttl(self, key): return self.command("TTL", key)
    def keys(self, pattern="*"): return self.command("KEYS", pattern)
    def flushall(self): return self.command("FLUSHALL") == "OK"

    def set(self, key, value, ex=None, px=None, nx=False):
        """True if set; False when nx=True and the key already exists."""
        args = ["SET", key, value]
        if ex is not None:
            args += ["EX", ex]
        if px is not None:
            args += ["PX", px]
        if nx:
            args.append("NX")
        return self.command(*args) == "OK"

    # -- lists (queues) -------------------------------------------------------------------------

    def lpush(self, key, *values): return self.command("LPUSH", key, *values)
    def rpush(self, key, *values): return self.command("RPUSH", key, *values)
    def lpop(self, key): return self.command("LPOP", key)
    def rpop(self, key): return self.command("RPOP", key)
    def llen(self, key): return self.command("LLEN", key)
    def lrange(self, key, start, stop): return self.command("LRANGE", key, start, stop)
    def lrem(self, key, count, value): return self.command("LREM", key, count, value)
    def rpoplpush(self, src, dst): return self.command("RPOPLPUSH", src, dst)

    def lmove(self, src, dst, src_side="RIGHT", dst_side="LEFT"):
        return self.command("LMOVE", src, dst, src_side, dst_side)

    # Blocking pops wait up to timeout seconds (0 = forever) on one key or a list of keys and
    # return (key, value), or None on timeout. They are never retried: a retry could pop twice.
    def blpop(self, keys, timeout=0): return self._blocking_pop("BLPOP", keys, timeout)
    def brpop(self, keys, timeout=0): return self._blocking_pop("BRPOP", keys, timeout)

    def _blocking_pop(self, command, keys, timeout):
        keys = [keys] if isinstance(keys, str) else list(keys)
        reply = self._execute([command] + keys + [timeout], retry=False)
        return tuple(reply) if reply else None

    def blmove(self, src, dst, timeout=0, src_side="RIGHT", dst_side="LEFT"):
        """Like lmove, but waits up to timeout seconds (0 = forever); None on timeout."""
        return self._execute(["BLMOVE", src, dst, src_side, dst_side, timeout], retry=False)

    # -- hashes ---------------------------------------------------------------------------------

    def hset(self, key, field=None, value=None, mapping=None):
        """hset(k, field, value) or hset(k, mapping={...}); returns how many fields are new."""
        pairs = [] if field is None else [field, value]
        for f, v in (mapping or {}).items():
            pairs += [f, v]
        return self.command("HSET", key, *pairs)

    def hget(self, key, field): return self.command("HGET", key, field)
    def hdel(self, key, *fields): return self.command("HDEL", key, *fields)
    def hincrby(self, key, field, by=1): return self.command("HINCRBY", key, field, by)

    def hgetall(self, key):
        flat = self.command("HGETALL", key)
        return dict(zip(flat[::2], flat[1::2]))

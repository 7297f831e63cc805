"""The built-in store against Redis, two ways. WARNING: flushes every database it talks to.

    python3 tests/kv_compat.py URL
        Exercises sandbox-apps/_shared/kv.py against one server. Run it against the built-in
        store and against a real redis-server: both must pass, which is what lets a learner
        swap one for the other by changing REDIS_URL only. Needs kv.py on PYTHONPATH.
        Exits 0 when every check passes; otherwise prints each failing check and exits 1.
        Leaves these keys behind for the caller to inspect: compat:left (string "behind"),
        compat:left:list (["a", "b"]), compat:left:hash ({"f": "v"}) in db 0, and
        compat:db3 (string "three") in db 3.

    python3 tests/kv_compat.py --diff URL_OURS URL_REDIS
        The differential test: replays SCRIPT (below: every command the built-in store knows,
        with its edge cases) against both servers in lock step, over raw sockets, and compares
        the replies byte for byte. Prints each difference and a last line
        "N commands compared, M differ"; exits 0 when M is 0.
"""

import codecs
import re
import select
import shlex
import socket
import sys
import threading
import time
import traceback
from urllib.parse import urlparse

if __name__ == "__main__" and sys.argv[1:2] == ["--diff"]:
    KV = KVError = None  # the differential test speaks RESP itself
else:
    from kv import KV, KVError

URL = sys.argv[1] if sys.argv[1:2] != ["--diff"] else sys.argv[2]
_u = urlparse(URL)
URL_DB3 = "redis://%s:%s/3" % (_u.hostname, _u.port)
URL_NO_DB = "redis://%s:%s" % (_u.hostname, _u.port)

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def eq(actual, expected, what=""):
    assert actual == expected, "%s: expected %r, got %r" % (what or "value", expected, actual)


def raises(fn, fragment):
    """fn() must raise KVError whose message contains fragment."""
    try:
        fn()
    except KVError as e:
        assert fragment in str(e), "expected an error containing %r, got %r" % (fragment, str(e))
        return
    raise AssertionError("expected KVError containing %r, nothing was raised" % fragment)


def eventually(condition, what, within=3.0):
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.01)


kv = KV.from_url(URL) if KV else None


@check
def flushall_and_ping():
    eq(kv.flushall(), True, "flushall")
    eq(kv.keys(), [], "keys after flushall")
    eq(kv.ping(), True, "ping")


@check
def url_parsing():
    eq((kv.host, kv.port, kv.db), (_u.hostname, _u.port, 0), "host, port, db")
    eq(KV.from_url(URL_NO_DB).db, 0, "db without /db suffix")
    eq(KV.from_url(URL_DB3).db, 3, "db from /3 suffix")
    try:
        KV.from_url("http://localhost:6379")
    except ValueError:
        pass
    else:
        raise AssertionError("a non-redis URL must be refused")


@check
def strings():
    eq(kv.get("s:missing"), None, "get missing")
    eq(kv.set("s:a", "hello"), True, "set")
    eq(kv.get("s:a"), "hello", "get")
    eq(kv.set("s:int", 42), True, "set int")
    eq(kv.get("s:int"), "42", "ints are stored as text")
    eq(kv.set("s:utf8", "héllo ✓ 世界"), True, "set utf-8")
    eq(kv.get("s:utf8"), "héllo ✓ 世界", "utf-8 round trip")
    eq(kv.set("s:spaces", "a b\r\nc"), True, "set with CRLF inside")
    eq(kv.get("s:spaces"), "a b\r\nc", "binary-safe value")
    eq(kv.set("s:empty", ""), True, "set empty")
    eq(kv.get("s:empty"), "", "empty string is not None")
    eq(kv.exists("s:a"), True, "exists")
    eq(kv.exists("s:missing"), False, "exists missing")
    eq(kv.delete("s:a", "s:int", "s:missing"), 2, "delete counts removed keys")
    eq(kv.exists("s:a"), False, "deleted")


@check
def set_nx():
    eq(kv.set("nx:k", "first", nx=True), True, "nx on a missing key sets")
    eq(kv.set("nx:k", "second", nx=True), False, "nx on an existing key does not")
    eq(kv.get("nx:k"), "first", "value kept")
    eq(kv.set("nx:k", "third"), True, "plain set overwrites")
    eq(kv.get("nx:k"), "third", "overwritten")


@check
def counters():
    eq(kv.incr("c:n"), 1, "incr creates")
    eq(kv.incr("c:n", 5), 6, "incr by")
    eq(kv.incr("c:n", by=-2), 4, "incr negative")
    eq(kv.get("c:n"), "4", "counter as text")
    kv.set("c:text", "abc")
    raises(lambda: kv.incr("c:text"), "not an integer")


@check
def expiry_px():
    eq(kv.set("e:px", "v", px=150), True, "set px")
    eq(kv.get("e:px"), "v", "alive before px")
    eq(kv.ttl("e:px") in (0, 1), True, "ttl of a 150 ms key")
    eventually(lambda: kv.get("e:px") is None, "the px key to expire")
    eq(kv.exists("e:px"), False, "expired key does not exist")
    eq(kv.ttl("e:px"), -2, "ttl of a missing key")


@check
def expiry_ex_expire_ttl():
    eq(kv.set("e:ex", "v", ex=100), True, "set ex")
    eq(0 < kv.ttl("e:ex") <= 100, True, "ttl after ex=100")
    kv.set("e:plain", "v")
    eq(kv.ttl("e:plain"), -1, "ttl without expiry")
    eq(kv.expire("e:plain", 50), True, "expire")
    eq(0 < kv.ttl("e:plain") <= 50, True, "ttl after expire 50")
    eq(kv.expire("e:missing", 50), False, "expire on a missing key")
    kv.set("e:gone", "v", px=50)
    eventually(lambda: "e:gone" not in kv.keys("e:*"), "keys() to drop the expired key")


@check
def keys_glob():
    for k in ["g:hello", "g:hallo", "g:hxllo", "g:hllo", "g:heeello", "g:a*b", "g:a?b"]:
        kv.set(k, "1")
    cases = {
        "g:*": ["g:a*b", "g:a?b", "g:hallo", "g:heeello", "g:hello", "g:hllo", "g:hxllo"],
        "g:h?llo": ["g:hallo", "g:hello", "g:hxllo"],
        "g:h*llo": ["g:hallo", "g:heeello", "g:hello", "g:hllo", "g:hxllo"],
        "g:h[ae]llo": ["g:hallo", "g:hello"],
        "g:h[^e]llo": ["g:hallo", "g:hxllo"],
        "g:h[a-f]llo": ["g:hallo", "g:hello"],
        "g:a\\*b": ["g:a*b"],
        "g:a\\?b": ["g:a?b"],
        "nothing:*": [],
    }
    for pattern, expected in cases.items():
        eq(sorted(kv.keys(pattern)), expected, "keys(%r)" % pattern)
    eq("g:hello" in kv.keys(), True, "keys() defaults to *")


@check
def lists():
    eq(kv.rpush("l:a", "b", "c"), 2, "rpush returns the length")
    eq(kv.lpush("l:a", "a", "z"), 4, "lpush returns the length")
    eq(kv.lrange("l:a", 0, -1), ["z", "a", "b", "c"], "lrange all")
    eq(kv.lrange("l:a", -2, -1), ["b", "c"], "lrange negative")
    eq(kv.lrange("l:a", 1, 100), ["a", "b", "c"], "lrange past the end")
    eq(kv.lrange("l:missing", 0, -1), [], "lrange missing")
    eq(kv.llen("l:a"), 4, "llen")
    eq(kv.llen("l:missing"), 0, "llen missing")
    eq(kv.lpop("l:a"), "z", "lpop")
    eq(kv.rpop("l:a"), "c", "rpop")
    eq(kv.lpop("l:missing"), None, "lpop missing")
    eq(kv.rpop("l:missing"), None, "rpop missing")
    kv.rpush("l:r", "x", "a", "x", "b", "x")
    eq(kv.lrem("l:r", 1, "x"), 1, "lrem from the head")
    eq(kv.lrange("l:r", 0, -1), ["a", "x", "b", "x"], "after lrem 1")
    eq(kv.lrem("l:r", -1, "x"), 1, "lrem from the tail")
    eq(kv.lrange("l:r", 0, -1), ["a", "x", "b"], "after lrem -1")
    eq(kv.lrem("l:r", 0, "x"), 1, "lrem all")
    eq(kv.lrem("l:r", 0, "nope"), 0, "lrem nothing")


@check
def moves():
    kv.rpush("m:src", "1", "2", "3")
    eq(kv.lmove("m:src", "m:dst"), "3", "lmove defaults RIGHT -> LEFT")
    eq(kv.lmove("m:src", "m:dst", "LEFT", "RIGHT"), "1", "lmove LEFT -> RIGHT")
    eq(kv.lrange("m:dst", 0, -1), ["3", "1"], "dst after lmove")
    eq(kv.rpoplpush("m:src", "m:dst"), "2", "rpoplpush")
    eq(kv.lrange("m:dst", 0, -1), ["2", "3", "1"], "dst after rpoplpush")
    eq(kv.lmove("m:src", "m:dst"), None, "lmove from an empty list")
    eq(kv.rpoplpush("m:src", "m:dst"), None, "rpoplpush from an empty list")
    eq(kv.exists("m:src"), False, "an emptied list is gone")


@check
def blocking_pops_with_data_and_timeout():
    kv.rpush("b:q2", "x", "y")
    eq(kv.blpop(["b:q1", "b:q2"], timeout=1), ("b:q2", "x"), "blpop takes from the first non-empty key")
    eq(kv.brpop("b:q2", timeout=1), ("b:q2", "y"), "brpop with a str key")
    start = time.monotonic()
    eq(kv.blpop("b:empty", timeout=0.3), None, "blpop times out with None")
    waited = time.monotonic() - start
    assert 0.25 <= waited < 3, "blpop waited %.3f s for a 0.3 s timeout" % waited
    eq(kv.brpop(["b:empty", "b:empty2"], timeout=0.1), None, "brpop times out with None")
    eq(kv.ping(), True, "the connection still works after a timeout")


@check
def brpop_woken_by_a_push_from_another_connection():
    pusher = KV.from_url(URL)
    result = {}

    def consume():
        consumer = KV.from_url(URL)
        result["value"] = consumer.brpop("w:jobs", timeout=10)
        consumer.close()

    thread = threading.Thread(target=consume)
    start = time.monotonic()
    thread.start()
    time.sleep(0.1)  # let the consumer block first
    eq(pusher.lpush("w:jobs", "job-1"), 1, "lpush while a consumer waits")
    thread.join(10)
    eq(result.get("value"), ("w:jobs", "job-1"), "the blocked brpop receives the job")
    assert time.monotonic() - start < 5, "brpop was not woken promptly"
    eq(pusher.llen("w:jobs"), 0, "the job was handed over, not left in the list")
    pusher.close()


@check
def blmove_reliable_queue():
    kv.rpush("r:jobs", "job-1")
    eq(kv.blmove("r:jobs", "r:processing", timeout=1), "job-1", "blmove with data")
    eq(kv.lrange("r:processing", 0, -1), ["job-1"], "job parked in processing")
    eq(kv.blmove("r:jobs", "r:processing", timeout=0.1), None, "blmove times out with None")
    eq(kv.lrem("r:processing", 1, "job-1"), 1, "ack removes the job")


@check
def hashes():
    eq(kv.hset("h:u", "name", "ada"), 1, "hset one field")
    eq(kv.hset("h:u", mapping={"name": "Ada", "lang": "en", "n": 1}), 2, "hset mapping counts new fields")
    eq(kv.hget("h:u", "name"), "Ada", "hget")
    eq(kv.hget("h:u", "missing"), None, "hget missing field")
    eq(kv.hget("h:missing", "name"), None, "hget missing key")
    eq(kv.hgetall("h:u"), {"name": "Ada", "lang": "en", "n": "1"}, "hgetall")
    eq(kv.hgetall("h:missing"), {}, "hgetall missing")
    eq(kv.hincrby("h:u", "n"), 2, "hincrby")
    eq(kv.hincrby("h:u", "n", 10), 12, "hincrby by")
    eq(kv.hincrby("h:u", "fresh", -3), -3, "hincrby a new field")
    raises(lambda: kv.hincrby("h:u", "name"), "not an integer")
    eq(kv.hdel("h:u", "lang", "missing"), 1, "hdel")
    eq(sorted(kv.hgetall("h:u")), ["fresh", "n", "name"], "fields after hdel")


@check
def transactions_with_watch():
    tx, other = KV.from_url(URL), KV.from_url(URL)
    kv.set("tx:stock", 10)
    eq(tx.command("WATCH", "tx:stock"), "OK", "WATCH")
    eq(tx.command("MULTI"), "OK", "MULTI")
    eq(tx.command("DECR", "tx:stock"), "QUEUED", "a queued command")
    eq(other.set("tx:stock", 5), True, "a conflicting write from another connection")
    eq(tx.command("EXEC"), None, "EXEC after a conflicting write")
    eq(kv.get("tx:stock"), "5", "nothing of the transaction ran")
    tx.command("WATCH", "tx:stock")
    tx.command("MULTI")
    tx.command("DECR", "tx:stock")
    tx.command("LPUSH", "tx:stock", "x")
    reply = tx.command("EXEC")
    eq(reply[0], 4, "EXEC without a conflict runs the queue")
    assert isinstance(reply[1], KVError) and "WRONGTYPE" in str(reply[1]), reply
    # kv.py's docstring example, with a writer racing it.
    attempts = 0
    while True:
        attempts += 1
        tx.command("WATCH", "tx:stock")
        left = int(tx.get("tx:stock") or 0)
        if attempts == 1:
            other.incr("tx:stock", 10)
        tx.command("MULTI")
        tx.command("SET", "tx:stock", left - 1)
        if tx.command("EXEC") is not None:
            break
    eq((attempts, kv.get("tx:stock")), (2, "13"), "the retry sees the other write")
    tx.close()
    other.close()


@check
def select_via_url():
    db3 = KV.from_url(URL_DB3)
    eq(db3.set("compat:db3", "three"), True, "set in db 3")
    eq(db3.get("compat:db3"), "three", "get in db 3")
    eq(kv.get("compat:db3"), None, "db 0 does not see db 3")
    eq(db3.keys("compat:*"), ["compat:db3"], "keys in db 3")
    db3.close()
    eq(KV.from_url(URL_DB3).get("compat:db3"), "three", "a new connection selects db 3 again")


@check
def errors():
    kv.set("x:str", "v")
    kv.rpush("x:list", "a")
    raises(lambda: kv.lpush("x:str", "a"), "WRONGTYPE")
    raises(lambda: kv.get("x:list"), "WRONGTYPE")
    raises(lambda: kv.hget("x:list", "f"), "WRONGTYPE")
    raises(lambda: kv.command("NOSUCHCOMMAND", "a"), "unknown command")
    raises(lambda: kv.command("GET"), "wrong number of arguments")
    assert issubclass(KVError, Exception), "KVError is an Exception"
    eq(kv.get("x:str"), "v", "the connection still works after errors")


@check
def generic_command():
    eq(kv.command("ECHO", "hi"), "hi", "ECHO")
    eq(kv.command("SET", "g:c", "1"), "OK", "SET via command")
    eq(kv.command("TYPE", "g:c"), "string", "TYPE")
    eq(kv.command("LRANGE", "nope", 0, -1), [], "array reply")


@check
def close_and_reconnect():
    other = KV.from_url(URL)
    eq(other.ping(), True, "ping before close")
    other.close()
    other.close()  # closing twice is harmless
    eq(other.ping(), True, "a closed KV reconnects on the next command")
    eq(other.command("QUIT"), "OK", "QUIT")  # the server now closes the connection
    eq(other.get("nx:k"), "third", "reconnects once after the server dropped the connection")
    other.close()


@check
def shared_between_threads():
    shared = KV.from_url(URL)
    errors = []

    def work(i):
        try:
            for j in range(50):
                shared.incr("t:counter")
                eq(shared.get("t:key%d" % i), None if j == 0 else str(j - 1), "own key")
                shared.set("t:key%d" % i, j)
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, "errors in threads: %r" % errors
    eq(shared.get("t:counter"), "200", "every increment counted")
    shared.close()


@check
def leave_keys_behind():
    eq(kv.set("compat:left", "behind"), True, "leave a string")
    kv.delete("compat:left:list", "compat:left:hash")
    eq(kv.rpush("compat:left:list", "a", "b"), 2, "leave a list")
    eq(kv.hset("compat:left:hash", "f", "v"), 1, "leave a hash")


def main():
    failed = 0
    for fn in CHECKS:
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed += 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print("FAIL %s: %s: %s (%s line %d)" % (fn.__name__, type(e).__name__, e, where.name, where.lineno))
        else:
            print("ok   %s" % fn.__name__)
    kv.close()
    print("%d of %d checks passed against %s" % (len(CHECKS) - failed, len(CHECKS), URL))
    return 1 if failed else 0


# =============================================================================================
# The differential test
# =============================================================================================

# One step a line: `[conn][/mode]: COMMAND args...` (conn a when left out), `@sleep SECONDS`,
# `@blocked N` (wait until N clients are blocked on each server), `@close CONN`, or a comment.
# Arguments split like a shell; a backslash escape (\r, \n, \x00) in an argument is decoded.
# Connections (a letter each) open on first use, on both servers.
# Modes:
#   (none)   the raw replies must be identical
#   sorted   an array reply whose order Redis leaves to its hash tables: compared sorted
#   pairs    the same for a flat array of field/value pairs (HGETALL of a big hash)
#   scan     a SCAN/HSCAN/SSCAN: iterated to the end on each server, the items compared as sets
#   prefix   ours must start with Redis's reply (unknown commands: ours adds a hint)
#   type     only the kind of reply must agree (a time, an id, a random member)
#   len      an array of the same length (random members)
#   send     send only; the reply is read and compared by a later `recv` step
#   recv     read and compare the next reply on that connection (no command)
#   quiet    send, and expect no reply at all within 0.2 s (CLIENT REPLY OFF)
SCRIPT = r"""
# ---- connection basics ---------------------------------------------------------------------
FLUSHALL
PING
PING hello
PING a b
ECHO "hi there"
ECHO
SELECT 15
SELECT 16
SELECT -1
SELECT x
SELECT 0
/prefix: NOSUCHCOMMAND a b
/prefix: nosuch
/prefix: NOSUCH "with space" 'and more'
get
GET a b
CLIENT
CLIENT SETNAME worker-1
CLIENT GETNAME
CLIENT SETNAME "bad name"
CLIENT SETNAME
CLIENT SETINFO LIB-NAME redis-py
CLIENT SETINFO LIB-VER 5.0
CLIENT NO-TOUCH on
CLIENT NO-EVICT on
CLIENT NO-EVICT off
CLIENT NO-EVICT maybe
CLIENT NO-EVICT
CLIENT REPLY
CLIENT REPLY maybe
CLIENT FOO
/type: CLIENT ID
/type: CLIENT INFO
/type: CLIENT LIST
/type: TIME
TIME x
/type: INFO
/type: INFO server
/type: COMMAND COUNT
CONFIG GET databases
CONFIG GET appendonly
HELLO 2 x
HELLO x
HELLO 4
/type: HELLO 2 AUTH default secret
HELLO 2 AUTH someone secret
HELLO 2 AUTH default
/type: HELLO 2 SETNAME hello-name
CLIENT GETNAME
HELLO 2 SETNAME "bad name"
AUTH secret
AUTH user secret
AUTH default secret
AUTH a b c
AUTH
/quiet: CLIENT REPLY OFF
/quiet: SET quiet 1
/quiet: GET quiet
CLIENT REPLY ON
GET quiet
/quiet: CLIENT REPLY SKIP
/quiet: SET quiet 2
GET quiet
b: SELECT 3
b: SET db3 three
b: CLIENT SETNAME someone
b/prefix: RESET
b: GET db3
b: CLIENT GETNAME
RESET x

# ---- keys ----------------------------------------------------------------------------------
FLUSHALL
SET k1 v
SET k2 v
RPUSH klist a
HSET khash f v
SADD kset m
EXISTS k1 k1 k2 nope
EXISTS
TOUCH k1 nope k2
TYPE k1
TYPE klist
TYPE khash
TYPE kset
TYPE nope
TYPE
/sorted: KEYS *
/sorted: KEYS k?
/sorted: KEYS k[l-z]*
/sorted: KEYS k[^l]*
KEYS nothing*
KEYS
DBSIZE
DBSIZE x
DEL k1 nope
UNLINK k2 k2
DEL
DBSIZE
RANDOMKEY x
FLUSHDB
RANDOMKEY
SET only 1
RANDOMKEY
FLUSHDB ASYNC
FLUSHDB SYNC
FLUSHDB NOW
FLUSHALL BOGUS
FLUSHALL async
FLUSHALL sync x
# rename
RENAME nope x
RENAMENX nope x
SET a 1
RENAME a a
RENAMENX a a
RENAME a b
GET a
GET b
SET c 1
RENAMENX b c
RENAMENX b d
GET d
SET e 1 EX 100
RENAME e f
TTL f
RPUSH rl x
RENAME f rl
TYPE rl
GET rl
RENAME rl
# expiry
SET t v
TTL t
PTTL t
EXPIRETIME t
PEXPIRETIME t
TTL nope
PTTL nope
EXPIRETIME nope
PEXPIRETIME nope
EXPIRE t 100
TTL t
/type: PTTL t
/type: EXPIRETIME t
/type: PEXPIRETIME t
EXPIRE t 100 NX
EXPIRE t 200 XX
EXPIRE t 50 GT
EXPIRE t 500 GT
EXPIRE t 1000 LT
EXPIRE t 60 LT
TTL t
EXPIRE t 10 NX XX
EXPIRE t 10 GT LT
EXPIRE t 10 NX GT
EXPIRE t 10 FOO
EXPIRE t x FOO
EXPIRE t x
EXPIRE t 1.5
EXPIRE t
EXPIRE nope 10
EXPIRE t 9223372036854775807
EXPIRE t -9223372036854775808
PEXPIRE t 9223372036854775807
PEXPIRE t 100000
/type: PTTL t
PERSIST t
PERSIST t
PERSIST nope
TTL t
EXPIREAT t 99999999999
EXPIRETIME t
PEXPIREAT t 99999999999000
PEXPIRETIME t
EXPIREAT t 99999999999999999
PEXPIREAT t 1
EXISTS t
SET t v
EXPIRE t 0
EXISTS t
SET t v
EXPIRE t -5
EXISTS t
SET t v
PEXPIRE t 100 XX
EXPIRE t 100 LT
TTL t
SET gone v PX 150
RPUSH gonelist a
PEXPIRE gonelist 150
@sleep 0.3
GET gone
EXISTS gone
TTL gone
TYPE gone
TYPE gonelist
LLEN gonelist
RPUSH gonelist b
LRANGE gonelist 0 -1
TTL gonelist
# which writes keep a time to live
SET keep v EX 100
APPEND keep x
TTL keep
SETRANGE keep 0 y
TTL keep
INCRBYFLOAT nothing 0
SET keepn 1 EX 100
INCRBY keepn 5
TTL keepn
MSET keep z
TTL keep
SET keep v EX 100
GETSET keep w
TTL keep
RPUSH keepl a
EXPIRE keepl 100
RPUSH keepl b
LPOP keepl
TTL keepl
HSET keeph f v
EXPIRE keeph 100
HSET keeph g w
HDEL keeph f
TTL keeph
SADD keeps m
EXPIRE keeps 100
SADD keeps n
TTL keeps
SET keep v EX 100
RENAME keep keep2
TTL keep2
SET keep3 v EX 50
RENAME keep2 keep3
TTL keep3
/sorted: KEYS *
# scan
FLUSHALL
MSET s:1 a s:2 b s:3 c s:4 d s:5 e s:6 f s:7 g s:8 h s:9 i s:10 j s:11 k s:12 l
RPUSH s:list x
HSET s:hash f v
/scan: SCAN 0
/scan: SCAN 0 COUNT 3
/scan: SCAN 0 MATCH s:1* COUNT 2
/scan: SCAN 0 TYPE list
/scan: SCAN 0 type HASH COUNT 1
/scan: SCAN 0 TYPE nosuchtype
/scan: SCAN 0 MATCH nothing*
/scan: SCAN 0 COUNT 5 MATCH *1 COUNT 100
SCAN x
SCAN 1.5
SCAN 18446744073709551616
SCAN 0 COUNT 0
SCAN 0 COUNT -1
SCAN 0 COUNT x
SCAN 0 MATCH
SCAN 0 FOO bar
SCAN 0 COUNT
SCAN

# ---- strings -------------------------------------------------------------------------------
FLUSHALL
GET s
SET s hello
GET s
SET s "h\xc3\xa9llo \r\n world"
GET s
SET empty ""
GET empty
STRLEN empty
SET s v NX
SET fresh v NX
SET nope v XX
SET s v2 XX
SET s v3 GET
SET nope2 v GET
SET s v4 NX GET
SET nx2 v XX GET
SET s v NX XX
SET s v XX NX
SET s v EX 10 PX 100
SET s v EX 10 EX 10
SET s v EX
SET s v PX
SET s v BOGUS
SET s v EX x
SET s v EX 1.5
SET s v EX 0
SET s v EX -1
SET s v PX 0
SET s v EXAT 0
SET s v PXAT -1
SET s v EX 9223372036854775807
SET s v PX 9223372036854775807
SET s v EX 100 KEEPTTL
SET s v KEEPTTL EX 100
SET s v EX 100
TTL s
SET s w KEEPTTL
TTL s
SET s w KEEPTTL KEEPTTL
TTL s
SET s w NX NX
SET s w GET GET
SET s w
TTL s
SET s v EXAT 99999999999
TTL s
SET s v PXAT 99999999999000
TTL s
SET s v EXAT 1
EXISTS s
SET s
SET
RPUSH list x
GET list
SET list v GET
SET list plain
GET list
SETNX list x
SETNX newnx x
SETNX newnx y
GET newnx
SETNX x
# SETEX, PSETEX, GETEX, GETSET, GETDEL
SETEX ex 100 v
TTL ex
GET ex
PSETEX pex 100000 v
TTL pex
SETEX ex 0 v
SETEX ex -5 v
SETEX ex x v
SETEX ex 1.5 v
SETEX ex 9223372036854775807 v
PSETEX pex 0 v
PSETEX pex -1 v
PSETEX pex 9223372036854775807 v
SETEX ex 10
PSETEX gone 150 v
@sleep 0.3
GET gone
GETEX nope
GETEX ex
TTL ex
GETEX ex PERSIST
TTL ex
GETEX ex EX 200
TTL ex
GETEX ex PX 300000
TTL ex
GETEX ex EXAT 99999999999
TTL ex
GETEX ex PXAT 99999999999000
TTL ex
GETEX ex EX 0
GETEX ex EX -1
GETEX ex EX x
GETEX ex PX 0
GETEX ex EX 10 PX 10
GETEX ex PERSIST EX 10
GETEX ex EX 10 PERSIST
GETEX ex PERSIST PERSIST
GETEX ex KEEPTTL
GETEX ex FOO
GETEX ex EX
GETEX nope EX 0
GETEX nope EX 10
GETEX ex EXAT 1
GET ex
RPUSH glist a
GETEX glist
GETEX glist EX 10
GETEX
GETSET gs v
GETSET gs w
GET gs
SET gst v EX 100
GETSET gst w
TTL gst
GETSET glist x
GETSET gs
GETDEL gs
GETDEL gs
GETDEL glist
GETDEL
# multi-key
MSET m1 a m2 b m3 c
MGET m1 m2 nope m3 glist
MSET m1
MSET m1 a m2
MSET
MSETNX m1 x m9 y
GET m9
MSETNX m8 x m9 y
MGET m8 m9
MSETNX m7
MSETNX glist x
MGET
# append, ranges
APPEND ap hello
APPEND ap " world"
GET ap
APPEND glist x
APPEND ap
STRLEN ap
STRLEN nope
STRLEN glist
GETRANGE ap 0 4
GETRANGE ap -5 -1
GETRANGE ap 6 100
GETRANGE ap -100 2
GETRANGE ap 5 2
GETRANGE ap -1 -5
GETRANGE ap 0 -1
GETRANGE ap x 1
GETRANGE nope 0 10
GETRANGE glist 0 1
GETRANGE empty 0 -1
GETRANGE ap 0
SETRANGE ap 6 WORLD
GET ap
SETRANGE ap 15 "!"
GET ap
SETRANGE sr 3 abc
GET sr
SETRANGE nope 0 ""
EXISTS nope
SETRANGE ap 0 ""
SETRANGE ap -1 x
SETRANGE ap x x
SETRANGE ap 536870912 x
SETRANGE ap 536870911 ""
SETRANGE glist 0 x
SETRANGE ap 0
# counters
INCR n
INCR n
INCRBY n 10
INCRBY n -3
DECR n
DECRBY n 5
DECRBY n -5
GET n
INCRBY n x
INCRBY n 1.5
INCRBY n ""
INCRBY n " 1"
INCRBY n 01
INCRBY n +1
SET big 9223372036854775806
INCR big
INCR big
INCRBY big -1
SET small -9223372036854775807
DECR small
DECR small
DECRBY n -9223372036854775808
DECRBY n 9223372036854775807
INCRBY n 9223372036854775808
SET text abc
INCR text
SET spaced " 1"
INCR spaced
SET lead 01
INCR lead
SET fl 1.5
INCR fl
INCR glist
INCR
INCRBY n
SET ttlc 5 EX 100
INCR ttlc
TTL ttlc
# floats, as long double
INCRBYFLOAT f 0.1
INCRBYFLOAT f 0.2
INCRBYFLOAT f 10.5
INCRBYFLOAT f -11
INCRBYFLOAT f 5.0e3
INCRBYFLOAT f 2.0e2
INCRBYFLOAT f 1e-5
INCRBYFLOAT f 12345678901234567890
INCRBYFLOAT f 1e30
INCRBYFLOAT f -1e30
INCRBYFLOAT f 1e400
INCRBYFLOAT f -1e400
INCRBYFLOAT f 0x10
INCRBYFLOAT f 0x1.8p3
INCRBYFLOAT f .5
INCRBYFLOAT f 5.
INCRBYFLOAT f +1
INCRBYFLOAT f -0
INCRBYFLOAT f 3.14159265358979323846264338327950288
INCRBYFLOAT f 0.000000000000000005
INCRBYFLOAT f 0.000000000000000015
INCRBYFLOAT f 1e-4950
INCRBYFLOAT f inf
INCRBYFLOAT f -inf
INCRBYFLOAT f Infinity
INCRBYFLOAT f nan
INCRBYFLOAT f 1e5000
INCRBYFLOAT f 1e-5000
INCRBYFLOAT f abc
INCRBYFLOAT f " 1"
INCRBYFLOAT f "1 "
INCRBYFLOAT f ""
INCRBYFLOAT f 1e
INCRBYFLOAT f 0x
GET f
SET f2 1.5e3
INCRBYFLOAT f2 0
INCRBYFLOAT f2 -1500
SET f3 1.18973149535723176502e+4932
INCRBYFLOAT f3 0
INCRBYFLOAT f3 1.18973149535723176502e+4932
SET f4 -0.1
INCRBYFLOAT f4 0.1
INCRBYFLOAT f4 -0.000000000000000001
INCRBYFLOAT text 1
INCRBYFLOAT spaced 1
INCRBYFLOAT glist 1
INCRBYFLOAT nofl
SET ttlf 1 EX 100
INCRBYFLOAT ttlf 1.5
TTL ttlf

# ---- lists ---------------------------------------------------------------------------------
FLUSHALL
RPUSH l b c
LPUSH l a z
LRANGE l 0 -1
LRANGE l -2 -1
LRANGE l 1 100
LRANGE l -100 0
LRANGE l 3 1
LRANGE l -1 -100
LRANGE l 100 200
LRANGE l x 1
LRANGE nope 0 -1
LRANGE l 0
LLEN l
LLEN nope
LINDEX l 0
LINDEX l -1
LINDEX l 9
LINDEX l -9
LINDEX l x
LINDEX nope 0
LPOP l
RPOP l
LPOP l 0
RPOP l 0
LPOP l 1
RPUSH l m n o
LPOP l 2
RPOP l 5
EXISTS l
LPOP l
LPOP l 2
RPOP l 0
LPOP l -1
LPOP l x
LPOP l 1 2
LPUSH
RPUSH l
LPUSHX l a
RPUSHX l a b
EXISTS l
RPUSH l m
LPUSHX l a
RPUSHX l y z
LRANGE l 0 -1
SET str x
LPUSH str x
RPUSH str x
LPUSHX str x
LLEN str
LRANGE str 0 -1
LINDEX str 0
LPOP str
GET str
# LSET, LINSERT, LTRIM
LSET l 0 A
LSET l -1 Z
LSET l 10 x
LSET l -10 x
LSET l x y
LSET nope 0 x
LSET nope x y
LSET str 0 x
LRANGE l 0 -1
LINSERT l BEFORE m X
LINSERT l after m Y
LINSERT l AFTER nope X
LINSERT nope BEFORE a X
LINSERT l MIDDLE a X
LINSERT nope MIDDLE a X
LINSERT str BEFORE a X
LRANGE l 0 -1
LTRIM l 1 -2
LRANGE l 0 -1
LTRIM l -100 100
LRANGE l 0 -1
LTRIM l 1 0
EXISTS l
RPUSH l a b c d e
LTRIM l -2 -1
LRANGE l 0 -1
LTRIM l x 1
LTRIM nope 0 1
LTRIM str 0 1
LTRIM l 5 10
EXISTS l
# LPOS
RPUSH p a b c a b c a
LPOS p a
LPOS p c
LPOS p a RANK 2
LPOS p a RANK 3
LPOS p a RANK 4
LPOS p a RANK -1
LPOS p a RANK -2
LPOS p a RANK -9223372036854775808
LPOS p a RANK 9223372036854775807
LPOS p a COUNT 0
LPOS p a COUNT 2
LPOS p a COUNT 2 RANK 2
LPOS p a COUNT 0 RANK -1
LPOS p a MAXLEN 1
LPOS p a MAXLEN 3 COUNT 0
LPOS p c MAXLEN 2
LPOS p a MAXLEN 2 RANK -1 COUNT 0
LPOS p z
LPOS p z COUNT 2
LPOS nope a
LPOS nope a COUNT 1
LPOS nope a RANK 0
LPOS p a RANK 0
LPOS p a COUNT -1
LPOS p a MAXLEN -1
LPOS p a RANK x
LPOS p a FOO
LPOS p a RANK
LPOS p a COUNT
LPOS str a
LPOS p
# LREM, LMOVE, RPOPLPUSH
RPUSH r a x b x c x
LREM r 1 x
LRANGE r 0 -1
LREM r -1 x
LRANGE r 0 -1
RPUSH r x
LREM r 0 x
LRANGE r 0 -1
LREM r 0 nope
LREM nope 0 x
LREM r x a
LREM str 0 x
LREM r 0 a
LREM r 0 b
LREM r 0 c
EXISTS r
RPUSH src 1 2 3
LMOVE src dst RIGHT LEFT
LMOVE src dst left right
LRANGE dst 0 -1
RPOPLPUSH src dst
EXISTS src
LMOVE src dst LEFT LEFT
RPOPLPUSH src dst
LMOVE dst dst RIGHT LEFT
LRANGE dst 0 -1
LMOVE dst dst LEFT RIGHT
LRANGE dst 0 -1
LMOVE dst x UP LEFT
LMOVE dst x LEFT DOWN
LMOVE dst str LEFT LEFT
RPOPLPUSH dst str
LMOVE str dst LEFT LEFT
LMOVE nope str LEFT LEFT
LLEN dst
LMOVE dst
RPOPLPUSH dst

# ---- blocking ------------------------------------------------------------------------------
FLUSHALL
RPUSH b2 x y
BLPOP b1 b2 0
BRPOP b1 b2 0
BLPOP b1 b2 0.05
BRPOP b1 0.05
BLPOP b1 x
BLPOP b1 -1
BLPOP b1 1e400
BLPOP b1 inf
BLPOP b1 -inf
BLPOP b1 nan
y/quiet: BLPOP b1 -0.0001
x/quiet: BLPOP b1 0.0001
@close x
@close y
@blocked 0
BLPOP b1 1e5000
BLPOP b1 " 1"
BLPOP b1 0x1p-4
z/quiet: BLPOP b1 9223372036854775.807
@close z
@blocked 0
BLPOP b1 9223372036854775807
BLPOP b1 9300000000000000
BLPOP b1 -1e-5000
BLPOP b1 ""
BLPOP b1
SET bstr v
BLPOP bstr 0
BLPOP b1 bstr 0.05
RPUSH bsrc 1
BLMOVE bsrc bdst LEFT RIGHT 0
BRPOPLPUSH bdst bsrc 0
BLMOVE bsrc bdst UP LEFT 0
BLMOVE bsrc bdst LEFT RIGHT x
BLMOVE nope bdst LEFT RIGHT 0.05
BRPOPLPUSH nope bdst 0.05
BLMOVE bsrc bstr LEFT RIGHT 0
LRANGE bsrc 0 -1
# a push wakes a blocked client
b/send: BRPOP jobs 5
@blocked 1
LPUSH jobs job-1
b/recv:
LLEN jobs
# oldest waiter first, one element each
b/send: BRPOP fifo 5
@blocked 1
c/send: BLPOP other fifo 5
@blocked 2
LPUSH fifo one two
b/recv:
c/recv:
LLEN fifo
b: PING
c: PING
# a waiter in another database is not woken by a push in this one
b: SELECT 2
b/send: BLPOP dbq 5
@blocked 1
RPUSH dbq zero
c: SELECT 2
c: RPUSH dbq two
b/recv:
LRANGE dbq 0 -1
c: LLEN dbq
b: SELECT 0
c: SELECT 0
# a push onto a key of the wrong type errors and wakes nobody
b/send: BLPOP wrong 0.2
@blocked 1
SET wrong x
RPUSH wrong y
b/recv:
# a client that gave up does not take the next element
b/send: BLPOP late 0.05
@sleep 0.15
b/recv:
RPUSH late x
LLEN late
# a reliable queue: the moved element lands in processing
b/send: BLMOVE rq processing RIGHT LEFT 5
@blocked 1
RPUSH rq job-2
b/recv:
LRANGE processing 0 -1
LLEN rq
# a moved element wakes the waiter on the destination
c/send: BLPOP processing2 5
@blocked 1
b/send: BRPOPLPUSH rq2 processing2 5
@blocked 2
RPUSH rq2 job-3
b/recv:
c/recv:
EXISTS processing2
# MULTI with a blocking pop does not block
MULTI
BLPOP nothing 0
BRPOP nothing 0
BLMOVE nothing x LEFT LEFT 0
EXEC
# RENAME onto a watched-for list serves the waiter
b/send: BLPOP target 5
@blocked 1
RPUSH staging s1
RENAME staging target
b/recv:

# ---- what is checked first: the key or the arguments -----------------------------------
FLUSHALL
SET str v
LINDEX nope x
LINDEX str x
LRANGE nope x 1
LRANGE str x 1
LTRIM nope x 1
LTRIM str x 1
LREM nope x a
LREM str x a
LSET str x y
LINSERT str MIDDLE a b
LPOS str a RANK 0
LPOP nope x
LPOP str x
LPOP str -1
RPOP nope -1
LMOVE nope str UP LEFT
LMOVE str nope LEFT LEFT
GETRANGE nope x 1
GETRANGE str x 1
SETRANGE nope x v
SETRANGE nope -1 v
INCRBY nope x
RPUSH lst a
INCRBY lst x
INCRBYFLOAT lst x
INCRBYFLOAT nope x
DECRBY lst x
HINCRBY nope f x
HINCRBY str f x
HINCRBYFLOAT str f x
HINCRBYFLOAT nope f inf
HSET str
HMGET str
SADD str
SPOP str x
SPOP str -1
SRANDMEMBER str x
SRANDMEMBER nope x
EXPIRE nope x
EXPIRE nope 10 FOO
EXPIRE str x NX XX
GETEX str EX 0
GETEX str FOO
SET str v GET EX 0
SETEX str 0 v
APPEND lst x
STRLEN lst
SETNX lst x
MSETNX lst x
GETDEL lst
BLPOP lst x
BLMOVE lst str UP LEFT 0
BLMOVE nope str LEFT LEFT x

# ---- hashes --------------------------------------------------------------------------------
FLUSHALL
HSET h b 2 a 1
HSET h b 20 c 3
HGET h b
HGET h nope
HGET nope a
HGETALL h
HKEYS h
HVALS h
HMGET h a nope b
HMGET nope a b
HLEN h
HLEN nope
HEXISTS h b
HEXISTS h nope
HEXISTS nope a
HSTRLEN h b
HSTRLEN h nope
HSTRLEN nope a
HDEL h b nope
HGETALL h
HDEL h nope
HDEL nope a
HSET h b again
HGETALL h
HSET h a
HSET h a 1 b
HSET h
HMSET h x 1 y 2
HMSET h x
HGETALL h
HSETNX h a 99
HSETNX h new 99
HSETNX fresh f v
HGETALL fresh
HSETNX h a
HGET h
HGETALL
HINCRBY h a 5
HINCRBY h a -10
HINCRBY h inc 3
HINCRBY h a x
HINCRBY h a 1.5
HSET h text abc big 9223372036854775807
HINCRBY h text 1
HINCRBY h big 1
HINCRBY h big -1
HINCRBY nope2 f 9223372036854775807
HINCRBY nope2 f 1
HGET nope2 f
HINCRBY h a
HINCRBYFLOAT h fl 0.1
HINCRBYFLOAT h fl 0.2
HINCRBYFLOAT h fl 1e3
HINCRBYFLOAT h a 0.5
HINCRBYFLOAT h text 1
HINCRBYFLOAT h fl x
HINCRBYFLOAT h fl inf
HINCRBYFLOAT h fl -inf
HINCRBYFLOAT h fl nan
HINCRBYFLOAT h fl 1e5000
HINCRBYFLOAT h fl 1.18973149535723176502e+4932
HINCRBYFLOAT h fl 1.18973149535723176502e+4932
HINCRBYFLOAT nope3 f inf
EXISTS nope3
HINCRBYFLOAT h fl
/pairs: HGETALL h
HDEL h a b c x y new inc text big fl
EXISTS h
HMSET h2 f v
HDEL h2 f
EXISTS h2
HGETALL h2
SET hs x
HSET hs f v
HGET hs f
HGETALL hs
HKEYS hs
HVALS hs
HMGET hs f
HLEN hs
HEXISTS hs f
HSTRLEN hs f
HDEL hs f
HINCRBY hs f 1
HINCRBYFLOAT hs f 1
HSETNX hs f v
HSCAN hs 0
HSET hscan f1 v1 f2 v2 g1 w1
HSCAN hscan 0
HSCAN hscan 0 MATCH f*
HSCAN hscan 0 COUNT 1
HSCAN hscan 0 MATCH nothing
HSCAN hscan 0 TYPE string
HSCAN hscan 0 COUNT 0
HSCAN hscan 0 FOO
HSCAN hscan x
HSCAN nope 0
HSCAN nope 0 FOO
HSCAN nope x
HSCAN hscan

# ---- sets ----------------------------------------------------------------------------------
FLUSHALL
SADD s 3 1 2 1
SMEMBERS s
SADD s 10 -5
SMEMBERS s
SCARD s
SISMEMBER s 10
SISMEMBER s 11
SISMEMBER nope 1
SMISMEMBER s 1 9 10
SMISMEMBER nope a b
SADD s
SMEMBERS nope
SCARD nope
SREM s 1 nope
SREM s nope
SREM nope a
SMEMBERS s
SADD words b a c
/sorted: SMEMBERS words
SADD mixed 1 2 x
/sorted: SMEMBERS mixed
SREM mixed x
/sorted: SMEMBERS mixed
SREM s 2 3 10 -5
EXISTS s
SET str x
SADD str m
SREM str m
SMEMBERS str
SISMEMBER str m
SMISMEMBER str m
SCARD str
# SMOVE
SADD ma 1 2
SMOVE nope ma 1
SMOVE nope str 1
SMOVE ma ma 1
SMOVE ma ma 9
SMOVE ma mb 9
SMOVE ma mb 1
SMEMBERS mb
SMOVE ma str 2
SMOVE str ma 2
SMOVE ma mb 2
EXISTS ma
SMEMBERS mb
SMOVE ma mb
# SPOP, SRANDMEMBER (deterministic cases)
SADD one only
SRANDMEMBER one
SRANDMEMBER one 1
SRANDMEMBER one 5
SRANDMEMBER one -3
SRANDMEMBER one 0
SRANDMEMBER nope
SRANDMEMBER nope 3
SRANDMEMBER one x
SRANDMEMBER one 1 2
SRANDMEMBER str
SADD ints 5 3 9
SRANDMEMBER ints 10
SRANDMEMBER ints 3
/len: SRANDMEMBER ints 2
/len: SRANDMEMBER ints -5
/type: SRANDMEMBER ints
SPOP nope
SPOP nope 2
SPOP one 0
SPOP one -1
SPOP one x
SPOP one 1 2
SPOP str
SPOP one
EXISTS one
SADD one only
SPOP one 5
EXISTS one
/len: SPOP ints 2
SCARD ints
SADD ints 7 8
/len: SPOP ints 10
EXISTS ints
# algebra
SADD sa 1 2 3 4
SADD sb 3 4 5
SADD sc x 4
SINTER sa sb
SINTER sa sb sc
SINTER sa nope
SINTER nope sa
SINTER sa
SUNION sa sb
/sorted: SUNION sa sc
SUNION sa nope
SUNION nope
SDIFF sa sb
SDIFF sb sa
/sorted: SDIFF sc sa
SDIFF sa nope
SDIFF nope sa
SDIFF sa sa
SINTER sa str
SINTER nope str
SUNION sa str
SDIFF str sa
SDIFF nope str
SINTERSTORE dst sa sb
SMEMBERS dst
SUNIONSTORE dst sa sb
SMEMBERS dst
SDIFFSTORE dst sa sb
SMEMBERS dst
SDIFFSTORE dst sa sa
EXISTS dst
SINTERSTORE dst sa nope
EXISTS dst
SUNIONSTORE str sa
TYPE str
SMEMBERS str
SET str2 x
SINTERSTORE dst str2 sa
SINTERSTORE dst
SINTER
# SSCAN
SSCAN sa 0
SSCAN sa 0 MATCH 1
SSCAN sa 0 COUNT 1
/scan: SSCAN sc 0
SSCAN sa 0 TYPE set
SSCAN sa 0 COUNT 0
SSCAN sa x
SSCAN nope 0
SSCAN str2 0
SSCAN sa

# ---- transactions --------------------------------------------------------------------------
FLUSHALL
EXEC
DISCARD
MULTI
MULTI
SET tx 1
INCR tx
GET tx
LPUSH tx x
EXEC
GET tx
MULTI
INCR tx
DISCARD
GET tx
MULTI
SET tx
INCR tx
EXEC
GET tx
MULTI
/prefix: NOSUCHCOMMAND
/prefix: EXEC
MULTI
SET a 1
SELECT 5
SET b 2
EXEC
SELECT 0
GET a
GET b
MULTI
EXEC
MULTI
QUIT
PING
# WATCH: a write from another connection aborts EXEC (the null array)
SET balance 100
WATCH balance
GET balance
b: SET balance 50
MULTI
SET balance 90
EXEC
GET balance
# without a conflicting write EXEC runs
WATCH balance
MULTI
DECRBY balance 10
EXEC
# the connection's own write counts too
WATCH balance
SET balance 1
MULTI
INCR balance
EXEC
GET balance
# UNWATCH forgets
WATCH balance
b: SET balance 2
UNWATCH
MULTI
INCR balance
EXEC
# DISCARD forgets, and EXEC forgets after running
WATCH balance
MULTI
DISCARD
b: SET balance 3
MULTI
INCR balance
EXEC
WATCH balance
MULTI
EXEC
b: SET balance 4
MULTI
INCR balance
EXEC
# a failed EXEC unwatches too
WATCH balance
b: SET balance 5
MULTI
EXEC
b: SET balance 6
MULTI
INCR balance
EXEC
# EXECABORT unwatches
WATCH balance
MULTI
/prefix: NOSUCH
/prefix: EXEC
b: SET balance 7
MULTI
INCR balance
EXEC
# WATCH inside MULTI is refused but does not abort
MULTI
WATCH balance
UNWATCH
INCR balance
EXEC
MULTI
WATCH
EXEC
WATCH
UNWATCH x
# several keys, missing keys, other databases
WATCH w1 w2 nokey
b: SET nokey created
MULTI
PING
EXEC
WATCH w1 w2
b: SET other x
MULTI
PING
EXEC
b: SELECT 1
WATCH dbkey
b: SET dbkey in-db-1
MULTI
PING
EXEC
SELECT 1
WATCH dbkey
SELECT 0
b: SET dbkey again
MULTI
PING
EXEC
b: SELECT 0
# writes that change nothing do not count
SET w v
SADD ws m
HSET wh f v
RPUSH wl a
WATCH w ws wh wl nothing
b: DEL nothing
b: SADD ws m
b: SREM ws nope
b: HDEL wh nope
b: LREM wl 0 nope
b: SET w v2 NX
b: SET nothing v XX
b: EXPIRE nothing 10
b: PERSIST w
b: LPOP nothing
b: GET w
b: HINCRBY wh bad x
b: INCR wh
MULTI
PING
EXEC
# every kind of write counts
WATCH w
b: APPEND w x
MULTI
PING
EXEC
WATCH w
b: EXPIRE w 100
MULTI
PING
EXEC
WATCH w
b: PERSIST w
MULTI
PING
EXEC
WATCH w
b: GETEX w EX 50
MULTI
PING
EXEC
WATCH w
b: GETEX w
MULTI
PING
EXEC
WATCH ws
b: SADD ws m2
MULTI
PING
EXEC
WATCH wh
b: HINCRBYFLOAT wh n 1.5
MULTI
PING
EXEC
WATCH wl
b: LSET wl 0 z
MULTI
PING
EXEC
WATCH wl
b: LTRIM wl 0 -1
MULTI
PING
EXEC
WATCH wl
b: RPOPLPUSH wl wl
MULTI
PING
EXEC
WATCH moved
b: RENAME w moved
MULTI
PING
EXEC
WATCH wl
b: FLUSHDB
MULTI
PING
EXEC
WATCH fl
b: FLUSHALL
MULTI
PING
EXEC
# a blocked client served by a push counts as a write to the list
WATCH bq
b/send: BLPOP bq 5
@blocked 1
c: RPUSH bq job
b/recv:
MULTI
PING
EXEC
# expiry counts as a change
SET exp v PX 150
WATCH exp
@sleep 0.3
MULTI
PING
EXEC
SET exp2 v PX 150
@sleep 0.3
WATCH exp2
MULTI
PING
EXEC
SET exp3 v PX 150
WATCH exp3
@sleep 0.3
GET exp3
MULTI
PING
EXEC

# ---- pub/sub -------------------------------------------------------------------------------
FLUSHALL
PUBLISH news hello
SUBSCRIBE
PSUBSCRIBE
PUBLISH news
PUBSUB NUMSUB news
PUBSUB NUMPAT
PUBSUB CHANNELS
PUBSUB FOO
PUBSUB
UNSUBSCRIBE
PUNSUBSCRIBE
s: SUBSCRIBE news
PUBSUB NUMSUB news other
PUBSUB CHANNELS
PUBSUB CHANNELS n*
PUBSUB CHANNELS x*
PUBSUB CHANNELS a b
PUBLISH news hello
s/recv:
PUBLISH other hello
s: PING
s: PING hi
s: GET k
s: SET k v
s: MULTI
s/prefix: NOSUCH
s: SUBSCRIBE news more
s/recv:
PUBLISH more m1
s/recv:
s: PSUBSCRIBE n*
PUBSUB NUMPAT
PUBSUB NUMPAT x
PUBLISH news both
s/recv:
s/recv:
s: PSUBSCRIBE n*
# messages that arrived before a reply come first
PUBLISH more m2
PUBLISH more m3
@sleep 0.05
s: PING
s/recv:
s/recv:
s: PUNSUBSCRIBE n*
s: UNSUBSCRIBE news
s: UNSUBSCRIBE news
s: UNSUBSCRIBE more
s: GET k
p: PSUBSCRIBE a* b?
p/recv:
PUBLISH b1 x
p/recv:
PUBLISH abc y
p/recv:
p: PUNSUBSCRIBE
p/recv:
p: PUNSUBSCRIBE
p: PING
s: SUBSCRIBE last
s/prefix: RESET
s: GET k
PUBSUB NUMSUB last
PUBLISH last gone
s: SUBSCRIBE bye
s: QUIT
@sleep 0.05
PUBSUB NUMSUB bye
PUBLISH bye nobody
s: PING
# a message from a transaction
s: SUBSCRIBE tx
MULTI
PUBLISH tx inside
SET after-publish 1
EXEC
s/recv:
s: UNSUBSCRIBE tx
"""


class Conn:
    """A raw RESP connection that returns each reply's bytes exactly as sent."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def send(self, args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        try:
            self.sock.sendall(b"".join(out))
        except OSError:
            pass  # the read that follows reports it

    def read(self):
        try:
            return self._read()
        except socket.timeout:  # nothing for 10 s
            return b"<no reply>"
        except (EOFError, OSError):  # an end of input or a reset, whichever comes first
            return b"<closed>"

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        return self._take(self.buf.index(b"\r\n") + 2)

    def _read(self):
        line = self._line()
        raw = line
        if line[:1] == b"$" and int(line[1:]) >= 0:
            raw += self._take(int(line[1:]) + 2)
        elif line[:1] == b"*":
            for _ in range(max(int(line[1:]), 0)):
                raw += self._read()
        return raw

    def quiet(self):
        """True if nothing arrives within 0.2 s."""
        if self.buf:
            return False
        readable, _, _ = select.select([self.sock], [], [], 0.2)
        return not readable


def parse_reply(raw, i=0):
    """(value, next index): bulk/simple as bytes, ints as int, arrays as lists, nil as None."""
    end = raw.index(b"\r\n", i)
    kind, rest = raw[i:i + 1], raw[i + 1:end]
    i = end + 2
    if kind in (b"+", b"-"):
        return (kind + rest), i
    if kind == b":":
        return int(rest), i
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None, i
        return raw[i:i + n], i + n + 2
    n = int(rest)
    if n < 0:
        return None, i
    items = []
    for _ in range(n):
        item, i = parse_reply(raw, i)
        items.append(item)
    return items, i


def decode_arg(token):
    data = token.encode("utf-8")
    if b"\\" in data:
        data = codecs.escape_decode(data)[0]
    return data


STEP = re.compile(r"^(?:([a-z])(?:/(\w+))?:|/(\w+):)?\s*(.*)$")


def parse_script(text):
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            word, arg = line[1:].split()
            yield lineno, line, word, arg, None, []
            continue
        m = STEP.match(line)
        conn, mode = m.group(1) or "a", m.group(2) or m.group(3) or "exact"
        args = [decode_arg(t) for t in shlex.split(m.group(4))]
        yield lineno, line, mode, conn, None, args


class Server:
    def __init__(self, url):
        u = urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.conns = {}

    def conn(self, name):
        if name not in self.conns:
            self.conns[name] = Conn(self.host, self.port)
        return self.conns[name]

    def blocked(self, n):
        """Waits until `n` clients are blocked (INFO clients); False after 10 s."""
        deadline = time.monotonic() + 10
        while True:
            c = self.conn("_")
            c.send([b"INFO", b"clients"])
            m = re.search(rb"blocked_clients:(\d+)", c.read())
            if m and int(m.group(1)) == n:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)

    def close(self, name):
        if name in self.conns:
            self.conns.pop(name).sock.close()

    def step(self, mode, conn, args):
        reply = self._step(mode, conn, args)
        if reply in (b"<closed>", b"<no reply>"):
            self.conns.pop(conn).sock.close()  # the next step on it reconnects
        return reply

    def _step(self, mode, conn, args):
        c = self.conn(conn)
        if mode == "recv":
            return c.read()
        if mode == "scan":
            return self.scan(c, args)
        c.send(args)
        if mode == "send":
            return None
        if mode == "quiet":
            return b"<quiet>" if c.quiet() else c.read()
        reply = c.read()
        if reply.startswith(b"-") or reply.startswith(b"<"):
            return reply
        if mode == "sorted":
            items, _ = parse_reply(reply)
            return repr(sorted(items)).encode()
        if mode == "type":
            return reply[:1]
        if mode == "pairs":
            items, _ = parse_reply(reply)
            return repr(sorted(zip(items[::2], items[1::2]))).encode()
        if mode == "len":
            items, _ = parse_reply(reply)
            return b"%d items" % len(items)
        return reply

    def scan(self, c, args):
        """Runs a SCAN-family command to the end; the items found, sorted, or the error."""
        at = 1 if args[0].upper() == b"SCAN" else 2
        args = list(args)
        found, pages = set(), 0
        while True:
            c.send(args)
            reply = c.read()
            if not reply.startswith(b"*"):
                return reply
            (cursor, items), _ = parse_reply(reply)
            if at == 2 and args[0].upper() == b"HSCAN":
                items = list(zip(items[::2], items[1::2]))
            found.update(items)
            pages += 1
            if cursor == b"0" or pages > 10000:
                return repr(sorted(found)).encode()
            args[at] = cursor


def same(mode, ours, redis):
    if mode == "prefix" and redis.endswith(b"\r\n"):
        return ours.startswith(redis[:-2])
    return ours == redis


def diff_main(url_ours, url_redis):
    servers = [Server(url_ours), Server(url_redis)]
    compared = differ = 0
    for lineno, line, mode, conn, secs, args in parse_script(SCRIPT):
        if mode == "sleep":
            time.sleep(float(conn))
            continue
        if mode == "close":
            for s in servers:
                s.close(conn)
            continue
        if mode == "blocked":
            ok = [s.blocked(int(conn)) for s in servers]
            if not all(ok):
                compared += 1
                differ += 1
                print("DIFF line %d: %s: not reached on %s" % (lineno, line, ok))
            continue
        ours, redis = [s.step(mode, conn, args) for s in servers]
        if mode == "send":
            continue
        compared += 1
        if not same(mode, ours, redis):
            differ += 1
            print("DIFF line %d: %s\n  ours:  %r\n  redis: %r" % (lineno, line, ours, redis))
    print("%d commands compared, %d differ" % (compared, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--diff"]:
        sys.exit(diff_main(sys.argv[2], sys.argv[3]))
    sys.exit(main())
